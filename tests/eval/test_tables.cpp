// Tables and grids from given results (no networks): the ablation view's differences,
// deterministic text, the provenance header, and the depth colormap's near/far ends.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <opencv2/imgcodecs.hpp>
#include <torch/torch.h>

#include "data/image_io.h"
#include "eval/grid.h"
#include "eval/tables.h"
#include "support/support.h"

namespace dpst::eval {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TrialEval row(const std::string& id, const std::string& style, double lambda3, double ordinal, double style_loss) {
  TrialEval r;
  r.id = id;
  r.style = style;
  r.depth_weight = lambda3;
  r.depth_layers = "output";
  r.config_hash = "0badf00d";
  r.loss_nets = "RANDOM INIT (vgg16, hourglass)";
  r.metrics.images = 4;
  r.metrics.ordinal_agreement = ordinal;
  r.metrics.depth_pearson = 0.5;
  r.metrics.depth_ssim = 0.25;
  r.metrics.style = style_loss;
  r.metrics.ssim_gray = 0.125;
  r.metrics.images_per_second = 123.456;  // must never reach a file
  return r;
}

TableProvenance how() {
  TableProvenance h;
  h.command = "dpst-eval runs/sweep";
  h.config_hash = "12345678 (sweep.yaml)";
  h.loss_nets = "RANDOM INIT (vgg16, hourglass)";
  h.weights = "vgg16: random init (seed 0); hourglass: random init (seed 0)";
  h.dataset = "/data/demo-32.h5 (split val2014)";
  h.images = 4;
  h.pairs = 5000;
  return h;
}

TEST(Tables, AblationViewPutsTheBaselineNextToEachDepthTrial) {
  // Given out of order: rows are sorted by style, λ3, id.
  const std::vector<TrialEval> rows = {row("candy-d1e5", "candy", 1e5, 0.75, 2.5), row("candy-d0", "candy", 0, 0.5, 2.0),
                                       row("muse-d1e5", "la_muse", 1e5, 0.9, 1.0)};
  const std::string md = ablation_markdown(how(), rows);
  // Δ ordinal = 0.75 − 0.5, Δ style = 2.5 − 2.0, Δ pearson = 0.
  EXPECT_THAT(md, HasSubstr("| candy | candy-d0 | candy-d1e5 | 100000 | output | 0.75 | +0.25 | 0.5 | 0 | 0.25 | 0 | "
                            "2.5 | +0.5 |"));
  EXPECT_THAT(md, HasSubstr("| la_muse | (none: no λ3 = 0 trial) | muse-d1e5 |"));
  EXPECT_LT(md.find("| candy-d0 |"), md.find("| candy-d1e5 |"));
  for (const char* line : {"- command: dpst-eval runs/sweep", "- config hash: 12345678 (sweep.yaml)",
                           "- loss networks: RANDOM INIT (vgg16, hourglass) — vgg16: random init",
                           "- dataset: /data/demo-32.h5 (split val2014), first 4 images"})
    EXPECT_THAT(md, HasSubstr(line));
  EXPECT_THAT(md, HasSubstr("**The loss networks are RANDOM INIT"));
  EXPECT_THAT(md, Not(HasSubstr("123.456")));

  const std::string csv = ablation_csv(rows);
  // The header row first: no '#' lines that csv readers would take for the header.
  EXPECT_EQ(csv.rfind("trial,style,depth_weight,depth_layers,images,content,", 0), 0u);
  EXPECT_THAT(csv, Not(HasSubstr("\n#")));
  EXPECT_EQ(ablation_provenance(how()).rfind("command: dpst-eval runs/sweep\nconfig hash: 12345678 (sweep.yaml)\n", 0), 0u);
  EXPECT_THAT(csv, HasSubstr("\ncandy-d0,candy,0,output,4,"));
  EXPECT_THAT(csv, HasSubstr(",candy-d0,+0.25,0,0,+0.5,\"RANDOM INIT (vgg16, hourglass)\",0badf00d\n"));
  EXPECT_THAT(csv, Not(HasSubstr("123.456")));
  // Pure functions of their input, whatever the input order.
  EXPECT_EQ(md, ablation_markdown(how(), {rows[2], rows[1], rows[0]}));
  EXPECT_EQ(csv, ablation_csv({rows[1], rows[2], rows[0]}));
}

TEST(Tables, PretrainedHasNoWarningAndFormatsAreFixed) {
  TableProvenance h = how();
  h.loss_nets = "pretrained";
  auto r = row("a", "candy", 0, std::nan(""), 1.0 / 3.0);
  const std::string md = ablation_markdown(h, {r});
  EXPECT_THAT(md, Not(HasSubstr("**The loss networks are RANDOM INIT")));
  EXPECT_THAT(md, HasSubstr("| candy | a | (no λ3 > 0 trial) |"));
  EXPECT_THAT(md, HasSubstr("| nan |"));
  EXPECT_THAT(md, HasSubstr("| 0.333333 |"));
  EXPECT_EQ(format_number(-0.0), "0");
  EXPECT_EQ(format_number(1e5), "100000");
  EXPECT_EQ(format_number(2.8e-7), "2.8e-07");
}

TEST(Tables, WriteTablesWritesTheCsvTheMarkdownAndTheProvenance) {
  test::TempDir dir;
  const auto files = write_tables(dir.path(), how(), {row("a", "candy", 0, 0.5, 1)});
  ASSERT_EQ(files.size(), 3u);
  EXPECT_EQ(test::read_file(dir / "ablation-provenance.txt"), ablation_provenance(how()));
  EXPECT_EQ(test::read_file(dir / "ablation.csv"), ablation_csv({row("a", "candy", 0, 0.5, 1)}));
  EXPECT_TRUE(std::filesystem::exists(dir / "ablation.md"));
  try {
    write_tables(dir / "missing" / "folder", how(), {});
    FAIL() << "expected an OutputError";
  } catch (const OutputError& e) {
    EXPECT_THAT(e.what(), HasSubstr("missing"));
  }
}

TEST(Grid, DepthColormapRunsFromRedNearToBlueFar) {
  // Larger depth values are farther: the smallest is drawn red, the largest blue.
  const torch::Tensor d = torch::arange(16, torch::kFloat).reshape({4, 4});
  const cv::Mat c = depth_to_color(d);
  ASSERT_EQ(c.type(), CV_8UC3);
  const cv::Vec3b near = c.at<cv::Vec3b>(0, 0), far = c.at<cv::Vec3b>(3, 3);
  EXPECT_GT(near[0], near[2]);  // RGB: red dominates
  EXPECT_GT(far[2], far[0]);    // blue dominates
}

TEST(Grid, LayoutHasSixEnlargedColumnsAndALegend) {
  torch::manual_seed(0);
  Stylized s;
  s.x = torch::rand({2, 3, 32, 32});
  s.y = torch::rand({2, 3, 32, 32});
  s.depth_x = torch::rand({2, 1, 32, 32});
  s.depth_y = torch::rand({2, 1, 32, 32});
  const cv::Mat g = render_grid(s, s, {"title", "baseline", "dp"});
  // 32-px tiles enlarged x4 to 128; 6 columns, 2 rows, margins, gaps, bands.
  EXPECT_EQ(g.cols, 2 * 8 + 6 * 128 + 5 * 4);
  EXPECT_EQ(g.rows, 8 + 24 + 18 + 2 * 128 + 4 + 44);
  // The first tile is the content image, pixel for pixel (nearest-neighbour x4).
  const cv::Mat content = image_to_mat(s.x[0]);
  EXPECT_EQ(g.at<cv::Vec3b>(8 + 24 + 18 + 5, 8 + 6), content.at<cv::Vec3b>(1, 1));
  test::TempDir dir;
  data::save_image(g, dir / "g.png");
  const cv::Mat back = cv::imread((dir / "g.png").string());
  EXPECT_EQ(back.cols, g.cols);
  Stylized other = s;
  other.x = torch::rand({1, 3, 32, 32});
  EXPECT_THROW(render_grid(s, other, {}), InternalError);
}

}  // namespace
}  // namespace dpst::eval
