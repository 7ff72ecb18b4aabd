// Expansion of sweep.axes into validated trials (see sweep.h for the order and the draws).
#include <cstdint>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "config/cross_checks.h"
#include "config/registry.h"
#include "sweep/random_draw.h"
#include "sweep/sweep.h"
#include "sweep/trial_id.h"

namespace dpst::sweep {
namespace {

using config::Config;
using config::KeySpec;
using config::Problem;
using config::SweepAxis;

// One trial's values, one canonical value per axis, in axis order.
using Point = std::vector<config::Value>;

const KeySpec& spec_of(const std::string& key) {
  const KeySpec* spec = config::Registry::instance().find(key);
  DPST_CHECK(spec != nullptr, InternalError, "swept key '" << key << "' is not in the registry");
  return *spec;
}

// The text that tells two points apart (format_value is canonical).
std::string point_text(const std::vector<SweepAxis>& axes, const Point& point) {
  std::string s;
  for (size_t a = 0; a < axes.size(); ++a) s += config::format_value(spec_of(axes[a].key), point[a]) + ";";
  return s;
}

// Product of the list sizes, or kMaxTrials + 1 once it exceeds kMaxTrials.
size_t list_combinations(const std::vector<SweepAxis>& axes) {
  size_t total = 1;
  for (const auto& axis : axes) {
    total *= axis.values.size();
    if (total > kMaxTrials) return kMaxTrials + 1;
  }
  return total;
}

std::vector<Point> grid_points(const std::vector<SweepAxis>& axes, std::vector<Problem>& problems,
                               const Config& base) {
  for (const auto& axis : axes) {
    if (axis.is_range()) {
      problems.push_back({base.origin("sweep.axes"), "sweep.axes." + axis.key,
                          "is a range {" + axis.distribution +
                              ": [lo, hi]}, which only sweep.method: random can draw from; "
                              "list the values for a grid"});
    }
  }
  if (!problems.empty()) return {};
  const size_t total = list_combinations(axes);
  if (total > kMaxTrials) {
    problems.push_back({base.origin("sweep.axes"), "sweep.axes",
                        "the grid has more than " + std::to_string(kMaxTrials) + " trials; use fewer values"});
    return {};
  }
  // A mixed-radix counter whose last digit turns fastest: the nested loops over the
  // axes in the order written.
  std::vector<Point> points;
  std::vector<size_t> digit(axes.size(), 0);
  for (size_t n = 0; n < total; ++n) {
    Point p;
    for (size_t a = 0; a < axes.size(); ++a) p.push_back(axes[a].values[digit[a]]);
    points.push_back(std::move(p));
    for (size_t a = axes.size(); a-- > 0;) {
      if (++digit[a] < axes[a].values.size()) break;
      digit[a] = 0;
    }
  }
  return points;
}

std::vector<Point> random_points(const std::vector<SweepAxis>& axes, std::vector<Problem>& problems,
                                 const Config& base) {
  const auto wanted = static_cast<size_t>(base.sweep().num_trials);
  const auto too_many = [&](const std::string& why) {
    problems.push_back({base.origin("sweep.num_trials"), "sweep.num_trials",
                        "is " + std::to_string(wanted) + " but " + why});
  };
  if (wanted > kMaxTrials) {
    too_many("a sweep has at most " + std::to_string(kMaxTrials) + " trials");
    return {};
  }
  bool all_lists = true;
  for (const auto& axis : axes) all_lists = all_lists && !axis.is_range();
  const size_t combinations = list_combinations(axes);
  if (all_lists && combinations < wanted) {
    too_many("the axes have only " + std::to_string(combinations) +
             " distinct combinations; lower it, add values, or use method: grid");
    return {};
  }
  SplitMix64 rng = sweep_generator(base.run().seed);
  std::vector<Point> points;
  std::set<std::string> seen;
  // Bounded: narrow int ranges can hold fewer distinct values than asked for.
  size_t attempts = 100 * wanted + 1000;
  while (points.size() < wanted && attempts-- > 0) {
    Point p;
    for (const auto& axis : axes) p.push_back(draw(spec_of(axis.key), axis, rng));
    if (seen.insert(point_text(axes, p)).second) points.push_back(std::move(p));
  }
  if (points.size() < wanted) {
    too_many("only " + std::to_string(points.size()) +
             " distinct trials came out of many draws; widen the ranges or lower it");
    return {};
  }
  return points;
}

Trial make_trial(const Config& base, const std::string& method, const std::vector<SweepAxis>& axes,
                 const Point& point) {
  Trial t{"", base, {}, method};
  std::vector<std::pair<std::string, config::Value>> swept;
  for (size_t a = 0; a < axes.size(); ++a) {
    swept.emplace_back(axes[a].key, point[a]);
    t.params.emplace_back(axes[a].key, config::format_value(spec_of(axes[a].key), point[a]));
  }
  t.id = make_trial_id(swept);
  // Swept values point at the axes they came from; the reset sweep keys say why.
  for (const auto& [key, value] : swept) t.config.set(key, value, base.origin("sweep.axes"));
  config::Origin reset;
  reset.label = "sweep trial " + t.id;
  t.config.make_single_trial(reset);
  return t;
}

}  // namespace

std::vector<Trial> expand(const Config& base, int world_size, bool for_run) {
  const std::string method = base.sweep().method;
  const std::vector<SweepAxis>& axes = base.sweep().axes;
  std::vector<Problem> problems;
  if (method == "none") {
    // The loader rejects axes without a method; check anyway, the config may be built by hand.
    problems = config::cross_field_problems(base, world_size, for_run);
    if (!problems.empty()) throw config::ConfigProblems(problems);
    return {Trial{"run", base, {}, "none"}};
  }
  DPST_CHECK(method == "grid" || method == "random", InternalError, "unknown sweep.method '" << method << "'");
  if (axes.empty()) {
    problems.push_back({base.origin("sweep.method"), "sweep.method",
                        "is " + method + " but sweep.axes is empty; list at least one axis"});
    throw config::ConfigProblems(problems);
  }
  // A pack shares one dataset, batch stream and step loop: its pack-wide keys cannot
  // differ between its trials.
  const int64_t per_pack = base.sweep().trials_per_pack;
  for (const auto& axis : axes) {
    const config::KeySpec* spec = config::Registry::instance().find(axis.key);
    if (per_pack > 1 && spec != nullptr && spec->pack_wide) {
      problems.push_back({base.origin("sweep.axes"), "sweep.axes." + axis.key,
                          "is shared by the trials of a pack and cannot be swept with sweep.trials_per_pack " +
                              std::to_string(per_pack) + "; set sweep.trials_per_pack: 1 or leave it out of the axes"});
    }
  }
  if (!problems.empty()) throw config::ConfigProblems(problems);
  const std::vector<Point> points =
      method == "grid" ? grid_points(axes, problems, base) : random_points(axes, problems, base);
  if (!problems.empty()) throw config::ConfigProblems(problems);

  std::vector<Trial> trials;
  std::map<std::string, size_t> index_of_id;
  for (const Point& point : points) {
    Trial t = make_trial(base, method, axes, point);
    const auto [other, fresh] = index_of_id.emplace(t.id, trials.size());
    if (!fresh) {
      problems.push_back({base.origin("sweep.axes"), "sweep.axes",
                          "trial " + t.id + ": trials " + std::to_string(other->second) + " and " +
                              std::to_string(trials.size()) +
                              " get the same id (style images with the same file name in different "
                              "folders?); give the files different names"});
    }
    // Each value is canonical already (the loader checked every axis value and range);
    // the cross-field rules see the trial's own combination.
    for (auto& p : config::cross_field_problems(t.config, world_size, for_run)) {
      p.message = "trial " + t.id + ": " + p.message;
      problems.push_back(std::move(p));
    }
    trials.push_back(std::move(t));
  }
  if (!problems.empty()) throw config::ConfigProblems(problems);
  return trials;
}

std::filesystem::path trial_dir(const Config& base, const Trial& trial) {
  const auto sweep_dir = base.run().output_dir / base.run().name;
  return base.sweep().method == "none" ? sweep_dir : sweep_dir / trial.id;
}

}  // namespace dpst::sweep
