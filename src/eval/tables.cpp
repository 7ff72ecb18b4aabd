#include "eval/tables.h"

#include <algorithm>
#include <sstream>

#include "common/atomic_file.h"
#include "losses/term_names.h"
#include "models/provenance_text.h"

namespace dpst::eval {
namespace {

const char* kWhatMetrics =
    "Metrics are means over the images on ŷ clamped to [0, 1]: content/style/depth/tv are the raw loss terms "
    "(DESIGN.md §6, the trial's layers; depth is reported for λ3 = 0 too); ordinal = 1 − WHDR of δ(x) vs δ(ŷ) on "
    "random point pairs; pearson and depth_ssim compare the min-max-normalised depth maps; ssim_gray is the "
    "grayscale SSIM of ŷ vs x (Wang et al., 11x11 Gaussian σ = 1.5, K = (0.01, 0.03)). Throughput is printed by "
    "dpst-eval, not stored, so reruns are byte-identical.";

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

// Markdown cells cannot hold '|'.
std::string md(const std::string& s) {
  std::string out;
  for (char c : s) out += c == '|' ? std::string("\\|") : std::string(1, c);
  return out;
}

std::string delta(double a, double b) {
  const std::string s = format_number(b - a);
  return (b - a > 0 ? "+" : "") + s;
}

std::vector<std::string> provenance_lines(const TableProvenance& how) {
  return {"command: " + how.command,
          "config hash: " + how.config_hash,
          "loss networks: " + how.loss_nets + " — " + how.weights,
          "dataset: " + how.dataset + ", first " + std::to_string(how.images) + " images",
          "ordinal pairs per image: " + std::to_string(how.pairs) + ", equality threshold " +
              format_number(kOrdinalThreshold) + " of the depth range, seed " + std::to_string(kPairSeed) +
              " + image index"};
}

const std::vector<std::string>& metric_columns() {
  static const std::vector<std::string> kColumns = [] {
    std::vector<std::string> columns;
    for (const char* name : losses::kTermNames) columns.emplace_back(name);
    for (const char* metric : {"ordinal", "pearson", "depth_ssim", "ssim_gray"}) columns.emplace_back(metric);
    return columns;
  }();
  return kColumns;
}

std::vector<double> metric_values(const EvalMetrics& m) {
  std::vector<double> values;
  for (const char* name : losses::kTermNames) values.push_back(m.term(name));
  for (double v : {m.ordinal_agreement, m.depth_pearson, m.depth_ssim, m.ssim_gray}) values.push_back(v);
  return values;
}

std::vector<std::string> styles_of(const std::vector<TrialEval>& rows) {
  std::vector<std::string> styles;
  for (const auto& r : rows)
    if (std::find(styles.begin(), styles.end(), r.style) == styles.end()) styles.push_back(r.style);
  return styles;
}

}  // namespace

std::vector<TrialEval> sorted_rows(std::vector<TrialEval> rows) {
  std::sort(rows.begin(), rows.end(), [](const TrialEval& a, const TrialEval& b) {
    if (a.style != b.style) return a.style < b.style;
    if (a.depth_weight != b.depth_weight) return a.depth_weight < b.depth_weight;
    return a.id < b.id;
  });
  return rows;
}

const TrialEval* baseline_of(const std::vector<TrialEval>& rows, const std::string& style) {
  const TrialEval* best = nullptr;
  for (const auto& r : rows)
    if (r.style == style && r.depth_weight == 0 && (!best || r.id < best->id)) best = &r;
  return best;
}

std::string ablation_provenance(const TableProvenance& how) {
  std::string text;
  for (const auto& line : provenance_lines(how)) text += line + "\n";
  return text;
}

std::string ablation_csv(const std::vector<TrialEval>& input) {
  const auto rows = sorted_rows(input);
  std::ostringstream os;
  os << "trial,style,depth_weight,depth_layers,images";
  for (const auto& c : metric_columns()) os << "," << c;
  os << ",baseline,d_ordinal,d_pearson,d_depth_ssim,d_style,loss_nets,config_hash\n";
  for (const auto& r : rows) {
    os << csv_field(r.id) << "," << csv_field(r.style) << "," << format_number(r.depth_weight) << ","
       << csv_field(r.depth_layers) << "," << r.metrics.images;
    for (double v : metric_values(r.metrics)) os << "," << format_number(v);
    // The ablation view in CSV form: differences to the style's baseline (empty for it).
    const TrialEval* base = baseline_of(rows, r.style);
    if (base && base != &r && r.depth_weight > 0) {
      os << "," << csv_field(base->id) << "," << delta(base->metrics.ordinal_agreement, r.metrics.ordinal_agreement)
         << "," << delta(base->metrics.depth_pearson, r.metrics.depth_pearson) << ","
         << delta(base->metrics.depth_ssim, r.metrics.depth_ssim) << ","
         << delta(base->metrics.style, r.metrics.style);
    } else {
      os << ",,,,,";
    }
    os << "," << csv_field(r.loss_nets) << "," << r.config_hash << "\n";
  }
  return os.str();
}

std::string ablation_markdown(const TableProvenance& how, const std::vector<TrialEval>& input) {
  const auto rows = sorted_rows(input);
  std::ostringstream os;
  os << "# Depth-preservation ablation\n\n";
  for (const auto& line : provenance_lines(how)) os << "- " << md(line) << "\n";
  if (how.loss_nets != "pretrained")
    os << "\n**The loss networks are " << models::kRandomInit
       << " (loss_nets.allow_random_init): these numbers show the pipeline, not real style or depth quality.**\n";
  os << "\n" << kWhatMetrics << "\n\n## All trials\n\n";
  os << "| trial | style | λ3 | depth layers | images |";
  for (const auto& c : metric_columns()) os << " " << c << " |";
  os << "\n|---|---|---:|---|---:|";
  for (size_t i = 0; i < metric_columns().size(); ++i) os << "---:|";
  os << "\n";
  for (const auto& r : rows) {
    os << "| " << md(r.id) << " | " << md(r.style) << " | " << format_number(r.depth_weight) << " | "
       << md(r.depth_layers) << " | " << r.metrics.images << " |";
    for (double v : metric_values(r.metrics)) os << " " << format_number(v) << " |";
    os << "\n";
  }
  os << "\n## Ablation: λ3 = 0 baseline vs depth-preserving trials\n\n"
     << "Δ = trial − baseline: higher ordinal, pearson and depth SSIM preserve depth better; Δ style shows "
        "what it costs in style loss.\n\n";
  os << "| style | baseline (λ3 = 0) | trial | λ3 | depth layers | ordinal | Δ ordinal | pearson | Δ pearson | "
        "depth SSIM | Δ depth SSIM | style | Δ style |\n"
     << "|---|---|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|\n";
  for (const auto& style : styles_of(rows)) {
    const TrialEval* base = baseline_of(rows, style);
    bool any = false;
    for (const auto& r : rows) {
      if (r.style != style || r.depth_weight == 0) continue;
      any = true;
      if (!base) {
        os << "| " << md(style) << " | (none: no λ3 = 0 trial) | " << md(r.id) << " | "
           << format_number(r.depth_weight) << " | " << md(r.depth_layers) << " | "
           << format_number(r.metrics.ordinal_agreement) << " | | " << format_number(r.metrics.depth_pearson)
           << " | | " << format_number(r.metrics.depth_ssim) << " | | " << format_number(r.metrics.style)
           << " | |\n";
        continue;
      }
      const EvalMetrics &b = base->metrics, &m = r.metrics;
      os << "| " << md(style) << " | " << md(base->id) << " | " << md(r.id) << " | " << format_number(r.depth_weight)
         << " | " << md(r.depth_layers) << " | " << format_number(m.ordinal_agreement) << " | "
         << delta(b.ordinal_agreement, m.ordinal_agreement) << " | " << format_number(m.depth_pearson) << " | "
         << delta(b.depth_pearson, m.depth_pearson) << " | " << format_number(m.depth_ssim) << " | "
         << delta(b.depth_ssim, m.depth_ssim) << " | " << format_number(m.style) << " | " << delta(b.style, m.style)
         << " |\n";
    }
    if (!any)
      os << "| " << md(style) << " | " << (base ? md(base->id) : std::string("(none)"))
         << " | (no λ3 > 0 trial) | | | | | | | | | | |\n";
  }
  return os.str();
}

std::vector<std::filesystem::path> write_tables(const std::filesystem::path& dir, const TableProvenance& how,
                                                const std::vector<TrialEval>& rows) {
  const auto csv = dir / "ablation.csv", markdown = dir / "ablation.md", provenance = dir / "ablation-provenance.txt";
  write_file_atomically(csv, ablation_csv(rows));
  write_file_atomically(markdown, ablation_markdown(how, rows));
  write_file_atomically(provenance, ablation_provenance(how));
  return {csv, markdown, provenance};
}

}  // namespace dpst::eval
