#include "data/pack.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <regex>
#include <thread>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "common/errors.h"
#include "common/text.h"
#include "data/atomic_output.h"

namespace dpst::data {

namespace fs = std::filesystem;

namespace {

bool has_image_extension(const fs::path& p) {
  const std::string ext = lower_extension(p);
  static const char* const kExtensions[] = {".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff",
                                            ".webp", ".ppm", ".pgm", ".pbm", ".pnm"};
  return std::any_of(std::begin(kExtensions), std::end(kExtensions), [&](const char* e) { return ext == e; });
}

}  // namespace

std::vector<PackInput> list_images(const fs::path& dir) {
  std::error_code ec;
  DPST_CHECK(fs::is_directory(dir, ec), InputError, dir.string() << ": no such folder");
  std::vector<PackInput> inputs;
  int64_t ignored = 0;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const fs::path& p = it->path();
    const std::string name = p.filename().string();
    std::error_code type_ec;
    if (name.empty() || name[0] == '.' || it->is_directory(type_ec)) continue;
    if (!has_image_extension(p)) {
      ++ignored;
      continue;
    }
    inputs.push_back({p, name, -1});
  }
  DPST_CHECK(!ec, InputError, dir.string() << ": cannot list the folder (" << ec.message() << ")");
  if (ignored > 0) spdlog::info("{}: ignored {} file(s) without an image extension", dir.string(), ignored);
  // Byte-wise name order: the same on every machine and for every thread count.
  std::sort(inputs.begin(), inputs.end(), [](const PackInput& a, const PackInput& b) { return a.filename < b.filename; });
  return inputs;
}

int64_t id_from_coco_filename(const std::string& filename) {
  static const std::regex pattern(R"(^COCO_[A-Za-z]+[0-9]*_([0-9]{1,12})\.[A-Za-z]+$)");
  std::smatch m;
  if (!std::regex_match(filename, m, pattern)) return -1;
  return std::stoll(m[1].str());
}

std::map<std::string, int64_t> load_coco_ids(const fs::path& coco_dir, const std::string& split) {
  const fs::path dir = coco_dir / "annotations";
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return {};
  // The smallest file that lists every image comes first: captions (~80 MB for
  // train2014) parses far faster than instances (~450 MB).
  fs::path chosen;
  for (const char* kind : {"captions", "instances", "person_keypoints"}) {
    const fs::path candidate = dir / (std::string(kind) + "_" + split + ".json");
    if (fs::is_regular_file(candidate, ec)) {
      chosen = candidate;
      break;
    }
  }
  if (chosen.empty()) {
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
      const std::string name = it->path().filename().string();
      const std::string suffix = "_" + split + ".json";
      if (name.size() > suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0) {
        chosen = it->path();
        break;
      }
    }
  }
  if (chosen.empty()) return {};

  std::ifstream in(chosen);
  DPST_CHECK(in, InputError, chosen.string() << ": cannot open");
  // Keep only "images"; drop "annotations" (most of the file) while parsing.
  using json = nlohmann::json;
  json doc;
  try {
    doc = json::parse(in, [](int depth, json::parse_event_t event, json& parsed) {
      return !(depth == 1 && event == json::parse_event_t::key && parsed != "images" && parsed != "info");
    });
  } catch (const json::exception& e) {
    DPST_THROW(InputError, chosen.string() << ": not valid JSON (" << e.what() << ")");
  }
  DPST_CHECK(doc.is_object() && doc.contains("images") && doc["images"].is_array(), InputError,
             chosen.string() << ": no \"images\" list (not a COCO annotation file?)");
  std::map<std::string, int64_t> ids;
  for (const auto& image : doc["images"]) {
    DPST_CHECK(image.is_object() && image.contains("file_name") && image.contains("id") && image["id"].is_number_integer(),
               InputError, chosen.string() << ": an entry of \"images\" lacks file_name or an integer id");
    ids[image["file_name"].get<std::string>()] = image["id"].get<int64_t>();
  }
  spdlog::info("{}: {} image ids", chosen.string(), ids.size());
  return ids;
}

std::string summary_line(const PackSummary& s) {
  std::string line = "read " + std::to_string(s.totals.read) + ", written " + std::to_string(s.totals.written) +
                     ", skipped " + std::to_string(s.totals.skipped);
  if (!s.totals.skipped_by_reason.empty()) line += " (" + skipped_by_reason_text(s.totals.skipped_by_reason) + ")";
  char rate[96];
  std::snprintf(rate, sizeof rate, ", %.1f images/s in %.2f s", s.images_per_second(), s.seconds);
  return line + rate;
}

namespace {

// One decoded (or failed) input, handed from a decoding thread to the writer.
struct Decoded {
  bool ready = false;
  bool ok = false;
  std::vector<uint8_t> planar;
  std::string reason;  // to_string(DecodeFailure) when !ok
  std::string message;
};

// Decodes inputs on `threads` threads, in any order, and hands them to `consume` in
// input order on the calling thread. At most `window` results wait at once, which
// bounds memory whatever the speed difference between decoders and the writer.
template <typename Consume>
void decode_in_order(const std::vector<PackInput>& inputs, const PackOptions& o, int threads, Consume consume) {
  const size_t n = inputs.size();
  const size_t window = static_cast<size_t>(threads) * 4;
  std::vector<Decoded> ring(window);
  std::mutex mutex;
  std::condition_variable ready_cv, space_cv;
  size_t next = 0, consumed = 0;
  bool abort = false;

  auto work = [&] {
    DecodeOptions decode_options;
    decode_options.min_short_side = o.size;
    for (;;) {
      size_t i;
      {
        std::unique_lock<std::mutex> lock(mutex);
        space_cv.wait(lock, [&] { return abort || next >= n || next < consumed + window; });
        if (abort || next >= n) return;
        i = next++;
      }
      Decoded d;
      try {
        const cv::Mat rgb = decode_image(inputs[i].path, decode_options);
        const cv::Mat square = resize_square(rgb, o.size, o.resize);
        d.planar.resize(3 * static_cast<size_t>(o.size) * o.size);
        to_planar(square, d.planar.data());
        d.ok = true;
      } catch (const DecodeError& e) {
        d.reason = to_string(e.reason());
        d.message = e.what();
      } catch (const std::exception& e) {
        d.reason = to_string(DecodeFailure::kCorrupt);
        d.message = inputs[i].path.string() + ": " + e.what();
      }
      d.ready = true;
      std::lock_guard<std::mutex> lock(mutex);
      ring[i % window] = std::move(d);
      ready_cv.notify_all();
    }
  };

  std::vector<std::thread> pool;
  auto stop = [&] {
    {
      std::lock_guard<std::mutex> lock(mutex);
      abort = true;
    }
    space_cv.notify_all();
    for (auto& t : pool) t.join();
    pool.clear();
  };
  for (int t = 0; t < threads; ++t) pool.emplace_back(work);
  try {
    for (size_t i = 0; i < n; ++i) {
      Decoded d;
      {
        std::unique_lock<std::mutex> lock(mutex);
        ready_cv.wait(lock, [&] { return ring[i % window].ready; });
        d = std::move(ring[i % window]);
        ring[i % window] = Decoded{};
        consumed = i + 1;
      }
      space_cv.notify_all();
      consume(i, d);
    }
  } catch (...) {
    stop();
    throw;
  }
  stop();
}

class Progress {
 public:
  Progress(bool enabled, std::string split, size_t total)
      : enabled_(enabled), split_(std::move(split)), total_(total), start_(std::chrono::steady_clock::now()) {}
  void update(size_t done) {
    if (!enabled_) return;
    const auto now = std::chrono::steady_clock::now();
    if (done != total_ && now - last_ < std::chrono::milliseconds(250)) return;
    last_ = now;
    const double s = std::chrono::duration<double>(now - start_).count();
    std::fprintf(stderr, "\r%s: %zu/%zu (%.0f%%) %.0f images/s ", split_.c_str(), done, total_,
                 total_ ? 100.0 * done / total_ : 100.0, s > 0 ? done / s : 0.0);
    if (done == total_) std::fputc('\n', stderr);
    std::fflush(stderr);
  }

 private:
  bool enabled_;
  std::string split_;
  size_t total_;
  std::chrono::steady_clock::time_point start_, last_;
};

}  // namespace

PackSummary pack(const PackOptions& o) {
  DPST_CHECK(o.coco_dir.empty() != o.images_dir.empty(), ConfigError,
             "give exactly one of --coco-dir or --images-dir");
  DPST_CHECK(!o.out.empty(), ConfigError, "--out is required");
  DPST_CHECK(o.size >= 8 && o.size <= 8192, ConfigError, "--size " << o.size << " is outside 8..8192");
  DPST_CHECK(o.max_bad_fraction >= 0 && o.max_bad_fraction <= 1, ConfigError,
             "--max-bad-fraction " << o.max_bad_fraction << " is outside 0..1");
  DPST_CHECK(o.threads >= 0, ConfigError, "--threads " << o.threads << " is negative");
  DPST_CHECK(o.max_images == -1 || o.max_images >= 0, ConfigError, "--max-images " << o.max_images << " is negative");
  const int threads = o.threads > 0 ? o.threads : std::max(1u, std::thread::hardware_concurrency());

  // Everything about the inputs is checked before any output is created.
  std::vector<std::pair<std::string, std::vector<PackInput>>> splits;
  fs::path source;
  if (!o.images_dir.empty()) {
    DPST_CHECK(!o.split_name.empty() && o.split_name.find('/') == std::string::npos, ConfigError,
               "--split '" << o.split_name << "' is not a valid group name");
    source = fs::absolute(o.images_dir);
    auto inputs = list_images(o.images_dir);
    for (auto& in : inputs) in.id = id_from_coco_filename(in.filename);
    splits.emplace_back(o.split_name, std::move(inputs));
  } else {
    DPST_CHECK(!o.splits.empty(), ConfigError, "--splits is empty");
    source = fs::absolute(o.coco_dir);
    std::error_code ec;
    DPST_CHECK(fs::is_directory(o.coco_dir, ec), InputError, o.coco_dir.string() << ": no such folder (--coco-dir)");
    for (const auto& split : o.splits) {
      const fs::path dir = o.coco_dir / split;
      DPST_CHECK(fs::is_directory(dir, ec), InputError,
                 dir.string() << ": no such folder (--coco-dir expects <dir>/<split>/ for each of --splits)");
      auto inputs = list_images(dir);
      const auto ids = load_coco_ids(o.coco_dir, split);
      for (auto& in : inputs) {
        const auto it = ids.find(in.filename);
        in.id = it != ids.end() ? it->second : id_from_coco_filename(in.filename);
      }
      splits.emplace_back(split, std::move(inputs));
    }
  }
  for (auto& [split, inputs] : splits) {
    if (o.max_images >= 0 && static_cast<int64_t>(inputs.size()) > o.max_images) inputs.resize(o.max_images);
    DPST_CHECK(!inputs.empty() || o.max_images == 0, InputError,
               "no image files for split '" << split << "' in " << (o.images_dir.empty() ? (o.coco_dir / split) : o.images_dir).string());
  }

  AtomicOutputFile out(o.out, o.overwrite);
  H5Writer writer(out.write_path(), o.out.string(), o.size);
  PackSummary summary;
  const auto start = std::chrono::steady_clock::now();
  std::string split_names;
  for (const auto& [split, inputs] : splits) {
    split_names += (split_names.empty() ? "" : ",") + split;
    SplitCounts counts;
    writer.begin_split(split);
    Progress progress(o.progress, split, inputs.size());
    decode_in_order(inputs, o, threads, [&](size_t i, const Decoded& d) {
      ++counts.read;
      if (d.ok) {
        writer.append(d.planar.data(), inputs[i].id, inputs[i].filename);
        ++counts.written;
      } else {
        spdlog::warn("skipped {}", d.message);
        ++counts.skipped;
        ++counts.skipped_by_reason[d.reason];
      }
      progress.update(i + 1);
    });
    writer.end_split(counts);
    summary.totals.read += counts.read;
    summary.totals.written += counts.written;
    summary.totals.skipped += counts.skipped;
    for (const auto& [reason, k] : counts.skipped_by_reason) summary.totals.skipped_by_reason[reason] += k;
    summary.per_split[split] = counts;
  }
  summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  const double bad = summary.totals.read > 0 ? static_cast<double>(summary.totals.skipped) / summary.totals.read : 0;
  DPST_CHECK(bad <= o.max_bad_fraction, InputError,
             summary.totals.skipped << " of " << summary.totals.read << " input files (" << 100.0 * bad
                                    << "%) could not be read, more than --max-bad-fraction " << o.max_bad_fraction
                                    << " allows (" << skipped_by_reason_text(summary.totals.skipped_by_reason)
                                    << "; see the warnings above); nothing was written to " << o.out.string());
  writer.finish(to_string(o.resize), source.string(), split_names, summary.totals);
  out.commit();
  return summary;
}

}  // namespace dpst::data
