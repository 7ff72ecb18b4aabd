"""Benchmark output in the nccl-tests style, as tests/bench/bench_table.h prints it for
the C++ benchmarks: '#' preamble lines, a fixed-width table whose header and units rows
start with '#', and a last line "# <figure> : <value> (target <t>) OK|FAILED"."""
import sys


class Table:
    def __init__(self, columns, units, width=12):
        self.columns, self.units, self.width = columns, units, width

    def _line(self, cells, lead=" "):
        line = "".join(f"{c:>{self.width}}" if len(str(c)) < self.width else f" {c}" for c in cells)
        return lead + line[1:]

    def print_header(self):
        print(self._line(self.columns, "#"))
        print(self._line(self.units, "#"))
        sys.stdout.flush()

    def print_row(self, cells):
        print(self._line(cells))
        sys.stdout.flush()


def verdict(figure, value, target, ok):
    """Prints the benchmark's last line and returns its exit code (0 OK, 1 FAILED)."""
    print(f"# {figure} : {value} (target {target}) {'OK' if ok else 'FAILED'}")
    sys.stdout.flush()
    return 0 if ok else 1
