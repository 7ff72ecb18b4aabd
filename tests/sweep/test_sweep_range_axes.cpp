// Range axes ({uniform: [lo, hi]}, {log_uniform: [lo, hi]}) in the loader and --dump-config.
#include "sweep_test_util.h"

namespace dpst::test {
namespace {

using ::testing::HasSubstr;

TEST_F(SweepTest, RangeAxesRoundTripThroughDumpConfig) {
  const auto base = load_sweep(
      "sweep:\n  method: random\n  num_trials: 4\n  axes:\n"
      "    loss.depth_weight: {log_uniform: [1.0e3, 1.0e6]}\n"
      "    model.residual_blocks: {uniform: [1, 9]}\n"
      "    loss.style_weight: [1.0e9, 1.0e10]\n");
  const std::string first = base.dump();
  EXPECT_THAT(first, HasSubstr("    loss.depth_weight: {log_uniform: [1000.0, 1.0e6]}\n"
                               "    model.residual_blocks: {uniform: [1, 9]}\n"
                               "    loss.style_weight: [1.0e9, 1.0e10]\n"));
  write_file(dir / "dumped.yaml", first);
  const auto back = load_ok({(dir / "dumped.yaml").string()});
  EXPECT_EQ(back.dump(), first);
  const auto& axes = back.sweep_axes();
  ASSERT_EQ(axes.size(), 3u);
  EXPECT_EQ(axes[0].distribution, "log_uniform");
  EXPECT_TRUE(axes[0].is_range());
  EXPECT_DOUBLE_EQ(std::get<double>(axes[0].values[1]), 1e6);
  EXPECT_FALSE(axes[2].is_range());
  // A range axis holds its two ends (what the cross-field rules judge).
  EXPECT_EQ(axes[1].values.size(), 2u);
  EXPECT_EQ(std::get<int64_t>(axes[1].values[1]), 9);
  // The compact form used in tables.
  EXPECT_EQ(config::format_axes(back.sweep().axes),
            "{loss.depth_weight: {log_uniform: [1000.0, 1.0e6]}, model.residual_blocks: {uniform: [1, 9]}, "
            "loss.style_weight: [1.0e9, 1.0e10]}");
  // Also through --set.
  const auto set = load_ok({}, {"sweep.method=random", "sweep.num_trials=2", "loss_nets.allow_random_init=true",
                                "sweep.axes={optim.lr: {log_uniform: [1.0e-4, 1.0e-2]}}"});
  EXPECT_THAT(set.dump(), HasSubstr("    optim.lr: {log_uniform: [0.0001, 0.01]}\n"));
}

TEST_F(SweepTest, BadRangeAxesAreNamedWithTheirPlace) {
  // The axis is on line 9 (5 prelude lines, sweep:, method:, num_trials:, axes:).
  const auto err = [&](const std::string& axis) {
    return load_error({write_yaml("sweep:\n  method: random\n  num_trials: 2\n  axes:\n    " + axis + "\n")});
  };
  const std::string f = (dir / "sweep.yaml").string();
  EXPECT_THAT(err("loss.style_image: {uniform: [a.jpg, b.jpg]}"),
              HasSubstr(f + ":10:23: sweep.axes.loss.style_image: a range needs an int or float key, but this is a "
                            "path|list; list its values instead"));
  EXPECT_THAT(err("loss.tv_weight: {loguniform: [1.0, 2.0]}"),
              HasSubstr(f + ":10:22: sweep.axes.loss.tv_weight: unknown range 'loguniform'; use uniform or "
                            "log_uniform (did you mean 'log_uniform'?)"));
  EXPECT_THAT(err("loss.tv_weight: {uniform: [1.0, 2.0], log_uniform: [1.0, 2.0]}"),
              HasSubstr(f + ":10:21: sweep.axes.loss.tv_weight: a range has one entry, {uniform: [lo, hi]} or "
                            "{log_uniform: [lo, hi]}; got 2 entries"));
  EXPECT_THAT(err("loss.tv_weight: {uniform: [1.0]}"),
              HasSubstr(f + ":10:31: sweep.axes.loss.tv_weight: uniform expects [lo, hi]"));
  EXPECT_THAT(err("loss.tv_weight: {uniform: [-1.0, 1.0]}"),
              HasSubstr(f + ":10:32: sweep.axes.loss.tv_weight: uniform lo: must be >= 0 (got -1)"));
  EXPECT_THAT(err("model.width: {uniform: [8, 2000]}"),
              HasSubstr(f + ":10:32: sweep.axes.model.width: uniform hi: must be <= 1024 (got 2000)"));
  EXPECT_THAT(err("loss.tv_weight: {uniform: [5.0, 1.0]}"),
              HasSubstr(f + ":10:31: sweep.axes.loss.tv_weight: uniform needs lo < hi (got 5.0, 1.0)"));
  EXPECT_THAT(err("loss.tv_weight: {log_uniform: [0, 1.0e-5]}"),
              HasSubstr(f + ":10:36: sweep.axes.loss.tv_weight: log_uniform needs lo > 0 (got 0.0); use uniform "
                            "for a range that includes 0"));
  EXPECT_THAT(err("loss.tv_weight: 5"),
              HasSubstr(f + ":10:5: sweep.axes.loss.tv_weight: expected a non-empty list of values (or, for an int "
                            "or float key and sweep.method: random, a range {uniform: [lo, hi]} or "
                            "{log_uniform: [lo, hi]})"));
}

}  // namespace
}  // namespace dpst::test
