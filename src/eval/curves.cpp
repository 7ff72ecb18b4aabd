#include "eval/curves.h"

#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>

#include "trial_folder/trial_folder.h"

namespace dpst::eval {
namespace {
namespace fs = std::filesystem;

std::string quoted(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::string python() {
  const char* env = std::getenv("DPST_PYTHON");
  return env && *env ? env : DPST_PYTHON_DEFAULT;
}

// Runs plot_curves.py with `args`; nullopt on success, else what it said.
std::optional<std::string> plot(const std::string& args) {
  const std::string script = std::string(DPST_DATAPREP_DIR) + "/plot_curves.py";
  const std::string command = quoted(python()) + " " + quoted(script) + " " + args + " 2>&1";
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return "could not start " + python();
  std::string output;
  char buffer[512];
  while (fgets(buffer, sizeof buffer, pipe) != nullptr) output += buffer;
  const int status = pclose(pipe);
  if (status == 0) return std::nullopt;
  while (!output.empty() && (output.back() == '\n' || output.back() == ' ')) output.pop_back();
  const auto last = output.rfind('\n');
  const std::string said = last == std::string::npos ? output : output.substr(last + 1);
  return python() + " " + script + " failed (exit " + std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : -1) +
         ")" + (said.empty() ? std::string() : ": " + said) +
         " (set DPST_PYTHON to a Python with matplotlib, e.g. the project's .venv/bin/python)";
}

}  // namespace

std::optional<std::string> write_trial_curves(const fs::path& trial_dir) {
  return plot("trial " + quoted(trial_dir.string()) + " --out " + quoted(trial_folder::TrialFolder(trial_dir).curves_file().string()));
}

std::optional<std::string> write_sweep_curves(const fs::path& out_png, const std::vector<fs::path>& trial_dirs) {
  std::string args = "sweep " + quoted(out_png.string());
  for (const auto& d : trial_dirs) args += " " + quoted(d.string());
  return plot(args);
}

}  // namespace dpst::eval
