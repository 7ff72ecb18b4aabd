// Multi-style trials end to end (loss.style_image a list; model.extend_from): one f_W with
// a conditional InstanceNorm row per style, data-parallel equivalence and bit-exact resume
// with the per-image style assignment, per-style loss columns, dpst-eval's rows and grid
// per style, and adding a style with everything else frozen.
#include <sstream>

#include <nlohmann/json.hpp>

#include "models/loss_nets.h"
#include "train/pack_step.h"
#include "training_fixture.h"

namespace dpst::test {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

class MultiStyleTraining : public TrainingTest {
 protected:
  static std::string style(const std::string& name) { return source_dir() + "/tests/fixtures/demo/styles/" + name; }
  // Three styles: the bundled two and a third file (candy's pixels under another name, so
  // that 2 x 2 images per step do not divide evenly into styles).
  std::string three_styles() {
    fs::copy_file(style("candy.jpg"), out_ / "third.jpg", fs::copy_options::overwrite_existing);
    return "--set 'loss.style_image=[" + style("candy.jpg") + ", " + style("starry_night.jpg") + ", " +
           (out_ / "third.jpg").string() + "]'";
  }
  static std::vector<nlohmann::json> records(const fs::path& trial) {
    std::vector<nlohmann::json> out;
    std::istringstream lines(read_file(trial / "metrics.jsonl"));
    for (std::string line; std::getline(lines, line);) out.push_back(nlohmann::json::parse(line));
    return out;
  }
};

TEST(StyleOfImages, DependsOnlyOnTheStepAndTheImagesPlaceInTheGlobalBatch) {
  // 1 rank x 4 images and 2 ranks x 2 give each image the same style, step after step.
  for (int64_t step = 1; step <= 5; ++step) {
    const auto one = train::style_of_images(step, 4, 0, 4, 3, torch::kCPU);
    const auto lane0 = train::style_of_images(step, 4, 0, 2, 3, torch::kCPU);
    const auto lane1 = train::style_of_images(step, 4, 2, 2, 3, torch::kCPU);
    EXPECT_TRUE(torch::equal(one, torch::cat({lane0, lane1}))) << "step " << step;
  }
  // The styles take turns: over 3 steps of 4 images each of 3 styles gets 4 images.
  std::vector<int64_t> seen(3, 0);
  for (int64_t step = 1; step <= 3; ++step) {
    const auto s = train::style_of_images(step, 4, 0, 4, 3, torch::kCPU);
    for (int64_t k = 0; k < 4; ++k) ++seen[static_cast<size_t>(s[k].item<int64_t>())];
  }
  EXPECT_EQ(seen, (std::vector<int64_t>{4, 4, 4}));
  EXPECT_EQ(train::style_of_images(2, 4, 0, 4, 3, torch::kCPU)[0].item<int64_t>(), 1);  // (1·4 + 0) mod 3
  // A long run does not overflow.
  EXPECT_EQ(train::style_of_images(int64_t{1} << 40, 1 << 20, 5, 1, 7, torch::kCPU)[0].item<int64_t>(),
            static_cast<int64_t>((((int64_t{1} << 40) - 1) % 7 * ((1 << 20) % 7) + 5) % 7));
}

TEST_F(MultiStyleTraining, OneNetLearnsEveryStyleAndReportsEach) {
  const auto r = train(0, out_ / "m",
                       "--set 'loss.style_image=[" + style("candy.jpg") + ", " + style("starry_night.jpg") +
                           "]' --set train.iterations=4 --set eval.after_training=true --set eval.images=2");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const fs::path trial = out_ / "m" / "t";
  std::vector<std::string> names;
  const auto net = models::load_transform_net(trial / "model.h5", &names);
  EXPECT_EQ(names, (std::vector<std::string>{"candy", "starry_night"}));
  EXPECT_EQ(net->options().styles, 2);
  // Both rows trained (they started equal: ones and zeros).
  const auto w = weights(trial / "model.h5");
  EXPECT_FALSE(torch::equal(w.at("in1.weight")[0], w.at("in1.weight")[1]));
  // Every record has each style's style term; with 2 images a step, both styles every step.
  const auto recs = records(trial);
  ASSERT_EQ(recs.size(), 4u);
  for (const auto& rec : recs) {
    EXPECT_GT(rec.at("style_candy").get<double>(), 0);
    EXPECT_GT(rec.at("style_starry_night").get<double>(), 0);
    // The style term is the mean over the images, so it lies between the two styles'.
    const double lo = std::min(rec.at("style_candy").get<double>(), rec.at("style_starry_night").get<double>());
    const double hi = std::max(rec.at("style_candy").get<double>(), rec.at("style_starry_night").get<double>());
    EXPECT_GE(rec.at("style").get<double>(), lo * (1 - 1e-5));
    EXPECT_LE(rec.at("style").get<double>(), hi * (1 + 1e-5));
  }
  EXPECT_THAT(read_file(trial / "dpst.log"), ::testing::ContainsRegex("\\| styles candy [0-9.e+-]+ starry_night "));
  EXPECT_THAT(r.err, ::testing::ContainsRegex("styles +2: candy, starry_night"));
  const auto p = trial_folder::read_progress(trial / "FINISHED");
  ASSERT_TRUE(p.has_value());
  const double last_candy = recs.back().at("style_candy").get<double>();
  EXPECT_NEAR(p->term("style_candy"), last_candy, 1e-4 * last_candy);

  // dpst-weights info lists the styles; split writes plain one-style TransformerNets.
  const auto info = run(bin("dpst-weights") + " info " + (trial / "model.h5").string() + " --size 32");
  ASSERT_EQ(info.exit_code, 0) << info.err;
  EXPECT_THAT(info.out, HasSubstr("styles      2 (candy, starry_night)"));
  EXPECT_THAT(info.out, HasSubstr("per style   "));
  const auto split = run(bin("dpst-weights") + " split " + (trial / "model.h5").string() + " --out " +
                         (out_ / "split").string());
  ASSERT_EQ(split.exit_code, 0) << split.err;
  std::vector<std::string> none;
  const auto starry = models::load_transform_net(out_ / "split" / "starry_night.h5", &none);
  EXPECT_TRUE(none.empty());
  EXPECT_TRUE(fs::exists(out_ / "split" / "candy.h5"));
  EXPECT_TRUE(torch::equal(starry->named_parameters()["in1.weight"], w.at("in1.weight")[1]));

  // dpst-eval: one row per (trial, style), and the styles side by side in one grid.
  const auto e = run(bin("dpst-eval") + " " + (trial / "model.h5").string() + " --images 2 --grid-images 2");
  ASSERT_EQ(e.exit_code, 0) << e.err;
  const std::string csv = read_file(trial / "ablation.csv");
  EXPECT_EQ(count(csv, "\nt,candy,"), 1) << csv;
  EXPECT_EQ(count(csv, "\nt,starry_night,"), 1) << csv;
  EXPECT_TRUE(fs::exists(trial / "grid-styles-t.png"));
  // The trainer's evaluation wrote one eval.json object per style.
  const auto json = nlohmann::json::parse(read_file(trial / "eval.json"));
  ASSERT_TRUE(json.is_array()) << json.dump();
  ASSERT_EQ(json.size(), 2u);
  EXPECT_EQ(json[1].at("style"), "starry_night");
  EXPECT_EQ(json[1].at("style_row"), 1);
}

TEST_F(MultiStyleTraining, TwoRanksTimesBatchBEqualOneRankTimesBatch2B) {
  const std::string styles = three_styles();
  const auto two = train(2, out_ / "two", styles + " --set train.iterations=3");
  ASSERT_EQ(two.exit_code, 0) << two.err;
  const auto one = train(0, out_ / "one", styles + " --set train.iterations=3 --set train.batch_size=4");
  ASSERT_EQ(one.exit_code, 0) << one.err;
  const auto w2 = weights(out_ / "two" / "t" / "model.h5"), w1 = weights(out_ / "one" / "t" / "model.h5");
  EXPECT_EQ(w2.at("in1.weight").size(0), 3);
  EXPECT_LT(relative_error(w2, w1), 1e-5);
  // No weight is off by more than 10 % of one Adam step (lr = 1e-3). Measured: 2.3e-5 on one
  // element of a shared conv, relative error 3e-6 (one style: 5e-7, 3e-7). Adam's m/sqrt(v)
  // turns the summation-order rounding of a near-zero gradient into a sizeable step.
  EXPECT_LT(max_abs_difference(w2, w1), 1e-4);
  // Each step's per-style terms agree too: the same images went to the same styles.
  const auto r2 = records(out_ / "two" / "t"), r1 = records(out_ / "one" / "t");
  ASSERT_EQ(r2.size(), 3u);
  ASSERT_EQ(r1.size(), 3u);
  for (size_t i = 0; i < 3; ++i)
    for (const char* s : {"style_candy", "style_starry_night", "style_third"})
      EXPECT_NEAR(r2[i].at(s).get<double>(), r1[i].at(s).get<double>(), 1e-4 * r1[i].at(s).get<double>())
          << "step " << i + 1 << " " << s;
}

TEST_F(MultiStyleTraining, ResumeIsBitExact) {
  const std::string styles = three_styles();
  const auto straight = train(2, out_ / "straight", styles);
  ASSERT_EQ(straight.exit_code, 0) << straight.err;
  ASSERT_EQ(train(2, out_ / "split", styles + " --set train.iterations=3").exit_code, 0);
  const auto second = train(2, out_ / "split", styles);
  ASSERT_EQ(second.exit_code, 0) << second.err;
  EXPECT_THAT(second.err, ::testing::ContainsRegex("start +step 3 "));
  const fs::path a = out_ / "straight" / "t", b = out_ / "split" / "t";
  EXPECT_TRUE(bit_equal(weights(a / "model.h5"), weights(b / "model.h5")));
  const auto last_a = a / "checkpoints" / "step-00000006", last_b = b / "checkpoints" / "step-00000006";
  EXPECT_TRUE(bit_equal(weights(last_a / "optimizer.h5"), weights(last_b / "optimizer.h5")));
  // The resumed steps scored the same images against the same styles.
  const auto ra = records(a), rb = records(b);
  ASSERT_EQ(ra.size(), 6u);
  ASSERT_EQ(rb.size(), 6u);
  for (size_t i = 3; i < 6; ++i)
    for (const char* s : {"style_candy", "style_starry_night", "style_third"})
      EXPECT_EQ(ra[i].at(s).get<double>(), rb[i].at(s).get<double>()) << "step " << i + 1 << " " << s;
}

TEST_F(MultiStyleTraining, AddingAStyleTrainsOnlyItsRows) {
  const auto base_run = train(0, out_ / "base",
                              "--set 'loss.style_image=[" + style("candy.jpg") + ", " + style("starry_night.jpg") +
                                  "]' --set train.iterations=2");
  ASSERT_EQ(base_run.exit_code, 0) << base_run.err;
  const fs::path base = out_ / "base" / "t" / "model.h5";
  fs::copy_file(style("starry_night.jpg"), out_ / "added.jpg");
  const auto r = train(0, out_ / "ext",
                       "--set model.extend_from=" + base.string() + " --set loss.style_image=" +
                           (out_ / "added.jpg").string() + " --set train.iterations=3");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::vector<std::string> names;
  models::load_transform_net(out_ / "ext" / "t" / "model.h5", &names);
  EXPECT_EQ(names, (std::vector<std::string>{"candy", "starry_night", "added"}));
  EXPECT_THAT(r.err, ::testing::ContainsRegex("styles +3: candy \\(frozen\\), starry_night \\(frozen\\), added"));
  const auto before = weights(base), after = weights(out_ / "ext" / "t" / "model.h5");
  const std::vector<std::string> rows = models::TransformNet(models::TransformNetOptions{8, 1, 3})->style_row_parameters();
  bool new_rows_moved = false;
  for (const auto& [name, t] : after) {
    if (std::find(rows.begin(), rows.end(), name) == rows.end()) {
      EXPECT_TRUE(torch::equal(t, before.at(name))) << name << ": a shared weight changed";
      continue;
    }
    EXPECT_TRUE(torch::equal(t.narrow(0, 0, 2), before.at(name))) << name << ": a base style's row changed";
    // The new row started as the mean of the base rows.
    new_rows_moved = new_rows_moved || !torch::equal(t[2], before.at(name).mean(0));
  }
  EXPECT_TRUE(new_rows_moved);
  // Only the new style is trained and reported.
  const auto recs = records(out_ / "ext" / "t");
  ASSERT_FALSE(recs.empty());
  EXPECT_TRUE(recs.back().contains("style_added"));
  EXPECT_FALSE(recs.back().contains("style_candy"));

  // A style the model already has, and a model of another shape, are refused by name.
  const auto twice = train(0, out_ / "twice",
                           "--set model.extend_from=" + base.string() + " --set loss.style_image=" + style("candy.jpg"));
  EXPECT_EQ(twice.exit_code, 2);
  EXPECT_THAT(twice.err, HasSubstr("loss.style_image: " + base.string() +
                                   " already holds a style called 'candy' (model.extend_from); rename the new style "
                                   "image"));
  const auto wide = train(0, out_ / "wide", "--set model.extend_from=" + base.string() + " --set model.width=16");
  EXPECT_EQ(wide.exit_code, 2);
  EXPECT_THAT(wide.err, HasSubstr("model.extend_from: " + base.string() +
                                  " is an f_W of width 8 and 1 residual blocks, but model.width is 16"));
}

}  // namespace
}  // namespace dpst::test
