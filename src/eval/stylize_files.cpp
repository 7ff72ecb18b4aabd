#include "eval/stylize_files.h"

#include <algorithm>
#include <chrono>
#include <set>

#include "common/errors.h"
#include "common/text.h"
#include "data/image_io.h"
#include "data/image_tensor.h"
#include "eval/grid.h"

namespace dpst::eval {

namespace fs = std::filesystem;

std::vector<fs::path> list_inputs(const fs::path& input) {
  DPST_CHECK(fs::exists(input), InputError, input.string() << ": no such file or folder");
  if (!fs::is_directory(input)) return {input};
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(input)) {
    const std::string name = e.path().filename().string();
    // Symlinks are followed; a dangling one is listed so it is reported, not ignored.
    if (!name.empty() && name[0] != '.' && !e.is_directory()) files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::string output_name(const fs::path& in, const std::string& format) {
  const std::string name = in.filename().string(), ext = lower_extension(in);
  const bool saveable = ext == ".png" || ext == ".jpg" || ext == ".jpeg";
  if (format == "keep") return saveable ? name : name + ".png";
  const std::string want = format == "png" ? ".png" : ".jpg";
  if (ext == want || (want == ".jpg" && ext == ".jpeg")) return name;
  return (saveable ? in.stem().string() : name) + want;
}

namespace {

// "a.jpg", "candy" -> "a-candy.jpg".
std::string labelled(const std::string& name, const std::string& label) {
  const fs::path p(name);
  return p.stem().string() + "-" + label + p.extension().string();
}

StylizeFilesResult stylize_each(const std::vector<std::pair<std::string, models::TransformNetImpl*>>& nets,
                                const std::vector<fs::path>& inputs, const StylizeFilesOptions& o,
                                std::ostream& progress) {
  StylizeFilesResult result;
  std::set<std::string> written;
  const auto t0 = std::chrono::steady_clock::now();
  for (const auto& in : inputs) {
    const std::string name = in.filename().string();
    try {
      std::vector<std::string> out_names;
      for (const auto& [label, net] : nets) {
        const std::string out_name = nets.size() > 1 ? labelled(output_name(in, o.format), label)
                                                     : output_name(in, o.format);
        DPST_CHECK(written.insert(out_name).second, InputError,
                   "its output name " << out_name << " is taken by another input");
        out_names.push_back(out_name);
      }
      cv::Mat rgb = data::decode_image(in);
      if (o.size > 0) rgb = data::resize_shorter_side(rgb, o.size);
      if (o.before_stylize) o.before_stylize(name);
      const torch::Tensor photo = data::image_to_tensor(rgb).to(o.device);
      for (size_t i = 0; i < nets.size(); ++i) {
        StylizeReport report;
        torch::Tensor y;
        {
          // Inference mode skips autograd's bookkeeping (version counters, views) as well.
          c10::InferenceMode inference;
          y = stylize(*nets[i].second, photo, o.stylize, &report);
        }
        const fs::path out = o.output / out_names[i];
        data::save_image(image_to_mat(y[0]), out, o.jpeg_quality);
        progress << "  " << name << " -> " << out.string() << " (" << rgb.cols << "x" << rgb.rows
                 << (report.tiles > 1 ? ", " + std::to_string(report.tiles) + " tiles of " +
                                            std::to_string(report.tile_side) + " px"
                                      : std::string())
                 << ")\n";
      }
      ++result.done;
    } catch (const std::exception& e) {
      // One bad photo must not cost the others; it is listed at the end, in one line.
      result.skipped.emplace_back(name, one_line(e));
    }
  }
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return result;
}

}  // namespace

StylizeFilesResult stylize_files(models::TransformNetImpl& net, const std::vector<fs::path>& inputs,
                                 const StylizeFilesOptions& o, std::ostream& progress) {
  return stylize_each({{"", &net}}, inputs, o, progress);
}

StylizeFilesResult stylize_files(const std::vector<LabelledNet>& nets, const std::vector<fs::path>& inputs,
                                 const StylizeFilesOptions& o, std::ostream& progress) {
  std::vector<std::pair<std::string, models::TransformNetImpl*>> each;
  for (const auto& n : nets) each.emplace_back(n.label, n.net.ptr().get());
  return stylize_each(each, inputs, o, progress);
}

}  // namespace dpst::eval
