#!/usr/bin/env python3
"""The source tree's layering rules, checked on every test run (DESIGN.md §2):
  1. src/<folder> include edges form no cycle (a folder never includes, directly or
     through others, a folder that includes it);
  2. only src/dist includes <mpi.h> or calls MPI_* functions;
  3. every "DESIGN.md §N" citation in the tree names a section that DESIGN.md has;
  4. only src/config includes yaml-cpp, and code outside it reads the typed sections
     (config.train().iterations), never a key string through Config::get_*("...").
Prints one line per violation, naming the file and line, and exits 1 if there is any.

    python3 tests/layout/check_layout.py REPO_ROOT
    python3 tests/layout/check_layout.py --self-test   (the checks find planted violations)"""
import os
import re
import sys


def sources(root, top):
    for folder, _, files in os.walk(os.path.join(root, top)):
        for name in sorted(files):
            if name.endswith((".h", ".cpp", ".py", ".sh", ".cmake", ".md", ".txt")):
                yield os.path.join(folder, name)


def folder_cycles(root):
    edges = {}
    for path in sources(root, "src"):
        folder = os.path.relpath(path, os.path.join(root, "src")).split(os.sep)[0]
        with open(path, encoding="utf-8") as f:
            for included in re.findall(r'#include "([a-z_]+)/', f.read()):
                if included != folder:
                    edges.setdefault(folder, {}).setdefault(included, path)
    problems = []

    def visit(node, stack):
        for nxt in sorted(edges.get(node, {})):
            if nxt in stack:
                cycle = stack[stack.index(nxt):] + [nxt]
                problems.append("folder cycle " + " -> ".join(cycle) + " (e.g. " +
                                os.path.relpath(edges[node][nxt], root) + ")")
            elif len(stack) < 20:
                visit(nxt, stack + [nxt])

    for start in sorted(edges):
        visit(start, [start])
    return sorted(set(problems))


def code_lines(root, own_folder):
    """(rel path, line number, line, code before any //) of every .h/.cpp line under src/
    outside src/<own_folder>, the folder a rule allows."""
    for path in sources(root, "src"):
        rel = os.path.relpath(path, root)
        if rel.startswith(os.path.join("src", own_folder) + os.sep) or not rel.endswith((".h", ".cpp")):
            continue
        with open(path, encoding="utf-8") as f:
            for number, line in enumerate(f, 1):
                yield rel, number, line, line.split("//")[0]


def mpi_outside_dist(root):
    problems = []
    for rel, number, line, code in code_lines(root, "dist"):
        if "<mpi.h>" in code or re.search(r"\bMPI_[A-Z][a-z_]*\(", code):
            problems.append(f"{rel}:{number}: MPI outside src/dist: {line.strip()}")
    return problems


def config_outside_config(root):
    problems = []
    for rel, number, line, code in code_lines(root, "config"):
        if "<yaml-cpp/" in code:
            problems.append(f"{rel}:{number}: yaml-cpp outside src/config: {line.strip()}")
        if re.search(r'\bget_(int|float|string|path|bool|strings|int_or_auto)\("', code):
            problems.append(f"{rel}:{number}: a config key read by string outside src/config "
                            f"(read the typed section): {line.strip()}")
    return problems


def design_citations(root):
    with open(os.path.join(root, "DESIGN.md"), encoding="utf-8") as f:
        sections = set(re.findall(r"^## (\d+)\.", f.read(), re.M))
    problems = []
    for top in ("src", "dataprep", "tests", "launch"):
        for path in sources(root, top):
            with open(path, encoding="utf-8", errors="replace") as f:
                for number, line in enumerate(f, 1):
                    for cited in re.findall(r"DESIGN(?:\.md)? (?:§|section )(\d+)", line):
                        if cited not in sections:
                            problems.append(f"{os.path.relpath(path, root)}:{number}: cites DESIGN.md §{cited}, "
                                            f"which DESIGN.md does not have")
    return problems


def self_test():
    """A tiny tree with one violation of each rule: each must be reported."""
    import tempfile
    with tempfile.TemporaryDirectory() as root:
        files = {
            "src/a/a.h": '#include "b/b.h"\n',
            "src/b/b.h": '#include "a/a.h"\n',
            "src/train/job.cpp": "#include <mpi.h>\nvoid f() { MPI_Barrier(MPI_COMM_WORLD); }\n",
            "src/dist/comm.cpp": "#include <mpi.h>\nvoid g() { MPI_Barrier(MPI_COMM_WORLD); }  // allowed here\n",
            "src/eval/eval.h": "// see DESIGN.md §1 and DESIGN.md §9\n",
            "src/sweep/expand.cpp": '#include <yaml-cpp/yaml.h>\nint n = c.get_int("sweep.num_trials");\n',
            "src/config/load.cpp": '#include <yaml-cpp/yaml.h>  // allowed here\n',
            "DESIGN.md": "# design\n## 1. One\n",
        }
        for rel, text in files.items():
            os.makedirs(os.path.dirname(os.path.join(root, rel)), exist_ok=True)
            with open(os.path.join(root, rel), "w", encoding="utf-8") as f:
                f.write(text)
        found = folder_cycles(root) + mpi_outside_dist(root) + design_citations(root) + config_outside_config(root)
    expected = ["folder cycle a -> b -> a", "src/train/job.cpp:1: MPI outside src/dist",
                "src/train/job.cpp:2: MPI outside src/dist", "src/eval/eval.h:1: cites DESIGN.md §9",
                "src/sweep/expand.cpp:1: yaml-cpp outside src/config",
                "src/sweep/expand.cpp:2: a config key read by string outside src/config"]
    missing = [e for e in expected if not any(p.startswith(e) for p in found)]
    for m in missing:
        print("self-test: not reported:", m)
    extra = [p for p in found if not any(p.startswith(e) for e in expected + ["folder cycle b -> a -> b"])]
    for e in extra:
        print("self-test: reported but not planted:", e)
    print(f"check_layout self-test: {len(found)} planted problem(s) found, {len(missing)} missed, {len(extra)} extra")
    return 1 if missing or extra else 0


def main():
    if sys.argv[1:] == ["--self-test"]:
        return self_test()
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "..")
    problems = folder_cycles(root) + mpi_outside_dist(root) + design_citations(root) + config_outside_config(root)
    for p in problems:
        print(p)
    print(f"check_layout: {len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
