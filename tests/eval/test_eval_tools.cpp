// dpst-stylize and dpst-eval end to end, on the demo photos packed at 32x32 and a narrow
// f_W trained for 2 steps with random-init loss networks.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <opencv2/imgproc.hpp>

#include "data/image_io.h"
#include "eval/stylize.h"
#include "models/det_init.h"
#include "models/loss_nets.h"
#include "models/transform_net.h"
#include "models/weights_io.h"
#include "support/support.h"

namespace dpst::test {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;

const std::string kCoco = std::string(DPST_SOURCE_DIR) + "/tests/fixtures/demo/coco";

class EvalToolsTest : public ::testing::Test {
 protected:
  // One packed dataset and one 2-trial sweep (λ3 ∈ {0, 1e5}, candy) for every test.
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    const auto pack = run(bin("pack_coco") + " --coco-dir " + kCoco + " --out " + (dir_->path() / "demo-32.h5").string() +
                          " --size 32 --threads 2");
    ASSERT_EQ(pack.exit_code, 0) << pack.err;
    write_file(dir_->path() / "tiny.yaml",
               "run:\n  name: sweep\n  seed: 3\n"
               "data:\n  path: demo-32.h5\n  image_size: 32\n  loader_threads: 1\n  prefetch: 2\n"
               "model:\n  width: 8\n  residual_blocks: 1\n"
               "loss_nets:\n  allow_random_init: true\n"
               "loss:\n  style_image: " + std::string(DPST_SOURCE_DIR) + "/tests/fixtures/demo/styles/candy.jpg\n"
               "  style_size: 32\n  depth_weight: 1.0e5\n"
               "train:\n  batch_size: 2\n  iterations: 2\n  threads: 1\n  log_every: 1\n  checkpoint_every: 2\n"
               "  device: cpu\n"
               "eval:\n  after_training: false\n  images: 4\n  pairs: 500\n");
    const std::string base = bin("dpst-dist") + " --config " + (dir_->path() / "tiny.yaml").string() +
                             " --set run.output_dir=" + dir_->path().string();
    const auto sweep = run(base + " --set sweep.method=grid --set 'sweep.axes={loss.depth_weight: [0.0, 1.0e5]}'" +
                           " --set sweep.trials_per_pack=2");
    if (sweep.exit_code != 0) {
      // dpst-dist without sweeps: the same folder layout from two single runs.
      std::cerr << "sweep run failed (exit " << sweep.exit_code << "), building the sweep from single runs:\n"
                << sweep.err.substr(0, 2000) << "\n";
      fs::remove_all(sweep_dir());
      for (const std::string w : {"0.0", "1.0e5"}) {
        const auto one = run(base + " --set run.output_dir=" + sweep_dir().string() + " --set run.name=candy-d" + w +
                             " --set loss.depth_weight=" + w);
        ASSERT_EQ(one.exit_code, 0) << one.err;
      }
    }
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }
  static fs::path sweep_dir() { return dir_->path() / "sweep"; }
  static std::vector<fs::path> trials() {
    std::vector<fs::path> out;
    for (const auto& e : fs::directory_iterator(sweep_dir()))
      if (fs::exists(e.path() / "FINISHED")) out.push_back(e.path());
    std::sort(out.begin(), out.end());
    return out;
  }
  static std::string eval(const std::string& args) { return bin("dpst-eval") + " " + args; }

  TempDir tmp_;
  static TempDir* dir_;
};
TempDir* EvalToolsTest::dir_ = nullptr;

cv::Size image_size(const fs::path& p) {
  const cv::Mat m = data::decode_image(p);
  return m.size();
}

TEST_F(EvalToolsTest, StylizeKeepsNamesAndSizesAndReportsTheBrokenFile) {
  const fs::path in = tmp_ / "photos", out = tmp_ / "styled";
  fs::create_directories(in);
  fs::copy_file(kCoco + "/val2014/COCO_val2014_000000200000.jpg", in / "a.jpg");        // 128x96
  fs::copy_file(kCoco + "/val2014/COCO_val2014_000000200005.png", in / "b.png");        // 144x96
  cv::Mat odd;
  cv::resize(data::decode_image(kCoco + "/val2014/COCO_val2014_000000200001.jpg"), odd, cv::Size(50, 37), 0, 0,
             cv::INTER_AREA);
  data::save_image(odd, in / "c-odd.png");                                               // 50x37
  write_file(in / "broken.jpg", "this is not a JPEG");
  ASSERT_EQ(run(bin("dpst-weights") + " init --net transform --width 8 --blocks 1 --out " + (tmp_ / "m.h5").string())
                .exit_code,
            0);
  const auto r = run(bin("dpst-stylize") + " --model " + (tmp_ / "m.h5").string() + " --input " + in.string() +
                     " --output " + out.string());
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  for (const char* name : {"a.jpg", "b.png", "c-odd.png"}) {
    ASSERT_TRUE(fs::exists(out / name)) << name << "\n" << r.out << r.err;
    EXPECT_EQ(image_size(out / name), image_size(in / name)) << name;
  }
  EXPECT_FALSE(fs::exists(out / "broken.jpg"));
  EXPECT_THAT(r.out, HasSubstr("stylized 3 of 4 image(s)"));
  EXPECT_THAT(r.out, HasSubstr("images/s"));
  EXPECT_THAT(r.err, HasSubstr("skipped 1 file(s):\n  broken.jpg: "));
  // The output differs from the input: f_W ran.
  EXPECT_NE(read_file(out / "b.png"), read_file(in / "b.png"));

  // --size N: the shorter side becomes N.
  const auto sized = run(bin("dpst-stylize") + " --model " + (tmp_ / "m.h5").string() + " --input " +
                         (in / "a.jpg").string() + " --output " + (tmp_ / "sized").string() + " --size 48");
  ASSERT_EQ(sized.exit_code, 0) << sized.err;
  EXPECT_EQ(image_size(tmp_ / "sized" / "a.jpg"), cv::Size(64, 48));
}

// A model of several styles: one output per style by default; --style picks one (the same
// image as name=1) or blends; a one-style model refuses --style, an unknown name is named.
TEST_F(EvalToolsTest, StylizeWithAManyStyleModel) {
  const fs::path in = tmp_ / "photos";
  fs::create_directories(in);
  fs::copy_file(kCoco + "/val2014/COCO_val2014_000000200000.jpg", in / "a.jpg");
  models::TransformNet net(models::TransformNetOptions{8, 1, 3});
  models::det_init(*net, 5);
  models::export_transform_net(*net, tmp_ / "multi.h5", "test", {"candy", "mosaic", "wave"});
  const std::string stylize = bin("dpst-stylize") + " --model " + (tmp_ / "multi.h5").string() + " --input " +
                              in.string() + " --format png --output ";
  auto r = run(stylize + (tmp_ / "each").string());
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  for (const char* name : {"a-candy.png", "a-mosaic.png", "a-wave.png"}) EXPECT_TRUE(fs::exists(tmp_ / "each" / name)) << name;
  EXPECT_NE(read_file(tmp_ / "each" / "a-candy.png"), read_file(tmp_ / "each" / "a-wave.png"));
  r = run(stylize + (tmp_ / "one").string() + " --style wave");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(read_file(tmp_ / "one" / "a.png"), read_file(tmp_ / "each" / "a-wave.png"));
  r = run(stylize + (tmp_ / "weighted").string() + " --style wave=1");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(read_file(tmp_ / "weighted" / "a.png"), read_file(tmp_ / "one" / "a.png"));
  r = run(stylize + (tmp_ / "blend").string() + " --style candy=0.5,wave=0.5");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(read_file(tmp_ / "blend" / "a.png"), read_file(tmp_ / "one" / "a.png"));
  r = run(stylize + (tmp_ / "bad").string() + " --style starry");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(r.err, HasSubstr("no style 'starry' in this model (it has: candy, mosaic, wave)"));
  ASSERT_EQ(run(bin("dpst-weights") + " init --net transform --width 8 --blocks 1 --out " + (tmp_ / "m.h5").string())
                .exit_code,
            0);
  r = run(bin("dpst-stylize") + " --model " + (tmp_ / "m.h5").string() + " --input " + in.string() + " --output " +
          (tmp_ / "single").string() + " --style candy");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(r.err, HasSubstr("--style candy: " + (tmp_ / "m.h5").string() + " holds one style"));
}

TEST_F(EvalToolsTest, StylizeErrors) {
  ASSERT_EQ(run(bin("dpst-weights") + " init --net transform --width 8 --blocks 1 --out " + (tmp_ / "m.h5").string())
                .exit_code,
            0);
  const std::string model = " --model " + (tmp_ / "m.h5").string();
  auto r = run(bin("dpst-stylize") + model + " --input " + (tmp_ / "nope").string() + " --output " +
               (tmp_ / "o").string());
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_THAT(r.err, HasSubstr("nope: no such file or folder"));

  fs::create_directories(tmp_ / "bad");
  write_file(tmp_ / "bad" / "x.png", "");
  write_file(tmp_ / "bad" / "y.jpg", "garbage");
  r = run(bin("dpst-stylize") + model + " --input " + (tmp_ / "bad").string() + " --output " + (tmp_ / "o").string());
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_THAT(r.err, HasSubstr("x.png: "));
  EXPECT_THAT(r.err, HasSubstr("y.jpg: "));
  EXPECT_THAT(r.err, HasSubstr("nothing could be stylized: 2 file(s) skipped"));

  r = run(bin("dpst-stylize") + model + " --input " + (tmp_ / "bad").string() + " --output " + (tmp_ / "bad").string());
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("is the input folder: the outputs would replace the photos"));

  // An output folder that cannot be made is an output error (6) naming it, not an internal one.
  write_file(tmp_ / "a-file", "x");
  r = run(bin("dpst-stylize") + model + " --input " + (tmp_ / "bad").string() + " --output " +
          (tmp_ / "a-file" / "o").string());
  EXPECT_EQ(r.exit_code, 6) << r.err;
  EXPECT_THAT(r.err, HasSubstr((tmp_ / "a-file" / "o").string() + ": cannot create folder: "));
  r = run(eval(sweep_dir().string() + " --images 1 --grid-images 0 --out " + (tmp_ / "a-file" / "t").string()));
  EXPECT_EQ(r.exit_code, 6) << r.err;
  EXPECT_THAT(r.err, HasSubstr((tmp_ / "a-file" / "t").string() + ": cannot create folder: "));

  fs::create_directories(tmp_ / "empty");
  r = run(bin("dpst-stylize") + model + " --input " + (tmp_ / "empty").string() + " --output " + (tmp_ / "o").string());
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_THAT(r.err, HasSubstr("is empty"));

  r = run(bin("dpst-stylize") + " --model " + (tmp_ / "missing.h5").string() + " --input " +
          (tmp_ / "bad").string() + " --output " + (tmp_ / "o").string());
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_THAT(r.err, HasSubstr("missing.h5"));

  r = run(bin("dpst-stylize") + " --input x");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("--model is required"));
}

TEST_F(EvalToolsTest, EvalWritesTablesAndGridsAndRerunsAreByteIdentical) {
  const auto t = trials();
  ASSERT_EQ(t.size(), 2u);
  const std::string cmd = eval(sweep_dir().string() + " --threads 1");
  const auto r = run(cmd);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const fs::path md = sweep_dir() / "ablation.md", csv = sweep_dir() / "ablation.csv",
                 grid = sweep_dir() / "grid-candy.png";
  for (const auto& f : {md, csv, grid, t[0] / "eval.json", t[1] / "eval.json"})
    ASSERT_TRUE(fs::exists(f)) << f << "\n" << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("wrote " + grid.string()));
  EXPECT_THAT(r.out, HasSubstr("images/s"));
  const std::string text = read_file(md);
  EXPECT_THAT(text, HasSubstr("- command: " + cmd));
  EXPECT_THAT(text, HasSubstr("- config hash: "));
  EXPECT_THAT(text, HasSubstr("RANDOM INIT (vgg16, hourglass)"));
  EXPECT_THAT(text, HasSubstr("demo-32.h5 (split val2014), first 4 images"));
  EXPECT_THAT(text, HasSubstr("| candy | " + t[0].filename().string() + " | " + t[1].filename().string() + " | 100000 |"));
  EXPECT_THAT(read_file(csv), HasSubstr("\n" + t[0].filename().string() + ",candy,0,output,4,"));
  // Every CSV loads as it is with Python's csv module: the first row is the header.
  for (const fs::path& table : {csv, sweep_dir() / "summary.csv"}) {
    const auto loaded = run(std::string(DPST_PYTHON) + " -c \"import csv, sys; rows = list(csv.DictReader(open(sys.argv[1]))); "
                            "print(len(rows), list(rows[0])[0], rows[0]['trial'])\" " + table.string());
    ASSERT_EQ(loaded.exit_code, 0) << table << loaded.err;
    EXPECT_THAT(loaded.out, ::testing::StartsWith("2 trial " + t[0].filename().string())) << table;
  }
  EXPECT_THAT(read_file(sweep_dir() / "ablation-provenance.txt"), HasSubstr("command: " + cmd + "\n"));
  EXPECT_THAT(read_file(t[1] / "eval.json"), HasSubstr("\"depth_weight\": 100000.0"));
  // The grid: 6 columns of 32-px tiles enlarged to 128, 4 rows.
  EXPECT_EQ(image_size(grid), cv::Size(2 * 8 + 6 * 128 + 5 * 4, 8 + 24 + 18 + 4 * 128 + 3 * 4 + 44));

  std::map<fs::path, std::string> first;
  for (const auto& f : {md, csv, grid, t[0] / "eval.json", t[1] / "eval.json"}) first[f] = read_file(f);
  const auto again = run(cmd);
  ASSERT_EQ(again.exit_code, 0) << again.err;
  for (const auto& [f, bytes] : first) EXPECT_EQ(read_file(f), bytes) << f << " changed on rerun";

  // Model mode: one row, tables in --out; the trial's config.yaml is found beside it.
  const auto one = run(eval((t[1] / "model.h5").string() + " --images 2 --out " + (tmp_ / "one").string()));
  ASSERT_EQ(one.exit_code, 0) << one.err;
  const std::string one_md = read_file(tmp_ / "one" / "ablation.md");
  EXPECT_THAT(one_md, HasSubstr("| " + t[1].filename().string() + " | candy | 100000 | output | 2 |"));
  EXPECT_THAT(one.out, HasSubstr("no grid for style 'candy'"));
}

TEST_F(EvalToolsTest, EvalErrors) {
  auto r = run(eval((tmp_ / "nope").string()));
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_THAT(r.err, HasSubstr("nope: no such sweep folder or model file"));

  fs::create_directories(tmp_ / "empty" / "unfinished");
  write_file(tmp_ / "empty" / "unfinished" / "config.yaml", "run:\n  name: x\n");
  r = run(eval((tmp_ / "empty").string()));
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_THAT(r.err, HasSubstr("no finished trials (no <trial>/FINISHED); is this a sweep folder?"));

  // A model without its config: usage error naming --config.
  const auto trial = trials().at(0);
  fs::copy_file(trial / "model.h5", tmp_ / "lonely.h5");
  r = run(eval((tmp_ / "lonely.h5").string()));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("no config.yaml beside the model; pass --config"));
  // ... with --config it evaluates.
  r = run(eval((tmp_ / "lonely.h5").string() + " --images 1 --grid-images 0 --config " + (trial / "config.yaml").string()));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(read_file(tmp_ / "ablation.md"), HasSubstr("| lonely |"));

  // A finished trial whose model is missing: the error names the trial.
  fs::create_directories(tmp_ / "s" / "t1");
  fs::copy_file(trial / "config.yaml", tmp_ / "s" / "t1" / "config.yaml");
  write_file(tmp_ / "s" / "t1" / "FINISHED", "");
  r = run(eval((tmp_ / "s").string()));
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_THAT(r.err, HasSubstr("trial t1: "));
  EXPECT_THAT(r.err, HasSubstr("no model.h5"));

  // --data that is not a dataset.
  write_file(tmp_ / "not.h5", "nope");
  r = run(eval(trial.string() + "/model.h5 --out " + (tmp_ / "o").string() + " --data " + (tmp_ / "not.h5").string()));
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_THAT(r.err, HasSubstr("not.h5"));
}

// --device cuda on a machine without a GPU: one clear line naming the option, exit 2.
TEST_F(EvalToolsTest, CudaWithoutAGpuIsAClearError) {
  if (torch::cuda::is_available()) GTEST_SKIP() << "this machine has a GPU";
  const auto trial = trials().at(0);
  fs::create_directories(tmp_ / "in");
  fs::copy_file(fs::path(DPST_SOURCE_DIR) / "tests/fixtures/demo/coco/val2014" /
                    fs::directory_iterator(fs::path(DPST_SOURCE_DIR) / "tests/fixtures/demo/coco/val2014")->path().filename(),
                tmp_ / "in" / "a.jpg");
  const std::vector<std::string> commands = {
      bin("dpst-stylize") + " --model " + (trial / "model.h5").string() + " --input " + (tmp_ / "in").string() +
          " --output " + (tmp_ / "out").string() + " --device cuda",
      eval(trial.string() + "/model.h5 --out " + (tmp_ / "o").string() + " --device cuda")};
  for (const auto& command : commands) {
    const auto r = run(command);
    EXPECT_EQ(r.exit_code, 2) << command << "\n" << r.err;
    EXPECT_THAT(r.err, HasSubstr("--device is cuda but this ")) << command;
    EXPECT_THAT(r.err, HasSubstr("Use --device cpu")) << command;
    EXPECT_THAT(r.err, Not(HasSubstr("Exception raised from"))) << command;  // no LibTorch stack trace
    EXPECT_EQ(count(r.err, "\n"), 1) << command << ": " << r.err;
  }
  EXPECT_FALSE(fs::exists(tmp_ / "out" / "a.jpg"));
}

// Inputs from 1x1 up come back at their own size; a large photo is tiled; the skip
// reason of a photo that fails inside LibTorch is one line without its stack trace.
TEST_F(EvalToolsTest, StylizeAnySizeTilesLargePhotosAndSkipsInOneLine) {
  const fs::path in = tmp_ / "sizes", out = tmp_ / "sizes-out";
  fs::create_directories(in);
  const cv::Mat photo = data::decode_image(kCoco + "/val2014/COCO_val2014_000000200000.jpg");
  for (auto [w, h] : std::vector<std::pair<int, int>>{{1, 1}, {5, 3}, {17, 9}, {1000, 625}}) {
    cv::Mat m;
    cv::resize(photo, m, cv::Size(w, h), 0, 0, cv::INTER_AREA);
    data::save_image(m, in / (std::to_string(w) + "x" + std::to_string(h) + ".png"));
  }
  // A real broken file (a PNG cut short) is skipped in one line; the others go on.
  data::save_image(photo, in / "broken.png");
  fs::resize_file(in / "broken.png", 200);
  ASSERT_EQ(run(bin("dpst-weights") + " init --net transform --width 8 --blocks 1 --out " + (tmp_ / "m.h5").string())
                .exit_code,
            0);
  const auto r = run(bin("dpst-stylize") + " --model " +
                     (tmp_ / "m.h5").string() + " --input " + in.string() + " --output " + out.string() +
                     " --tile 256");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  for (auto [w, h] : std::vector<std::pair<int, int>>{{1, 1}, {5, 3}, {17, 9}, {1000, 625}}) {
    const std::string name = std::to_string(w) + "x" + std::to_string(h) + ".png";
    ASSERT_TRUE(fs::exists(out / name)) << name << "\n" << r.out << r.err;
    EXPECT_EQ(image_size(out / name), cv::Size(w, h)) << name;
  }
  EXPECT_THAT(r.out, HasSubstr("1000x625.png -> "));
  EXPECT_THAT(r.out, ::testing::ContainsRegex("1000x625, [0-9]+ tiles of 256 px"));
  EXPECT_THAT(r.err, HasSubstr("skipped 1 file(s):\n  broken.png: "));
  EXPECT_THAT(r.err, Not(HasSubstr("Exception raised from")));
  EXPECT_THAT(r.err, Not(HasSubstr("frame #")));
  EXPECT_EQ(count(r.err, "\n"), 2) << r.err;  // the "skipped" line and one line for the file

  // --preserve-color and --strength reach the output: strength 0 gives back the photo.
  const auto same = run(bin("dpst-stylize") + " --model " + (tmp_ / "m.h5").string() + " --input " +
                        (in / "17x9.png").string() + " --output " + (tmp_ / "s0").string() + " --strength 0");
  ASSERT_EQ(same.exit_code, 0) << same.err;
  EXPECT_EQ(cv::norm(data::decode_image(tmp_ / "s0" / "17x9.png"), data::decode_image(in / "17x9.png"), cv::NORM_INF), 0);
  const auto bad = run(bin("dpst-stylize") + " --model " + (tmp_ / "m.h5").string() + " --input " + in.string() +
                       " --output " + (tmp_ / "bad").string() + " --tile 30");
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_THAT(bad.err, HasSubstr("--tile 30: give a multiple of 4, at least 64"));
}

// dataprep/export_model.py: ONNX and TorchScript exports give what dpst-stylize computes.
TEST_F(EvalToolsTest, ExportedOnnxAndTorchScriptMatchDpstStylize) {
  ASSERT_EQ(run(bin("dpst-weights") + " init --net transform --width 8 --blocks 2 --seed 5 --out " +
                (tmp_ / "m.h5").string())
                .exit_code,
            0);
  const std::string script = std::string(DPST_SOURCE_DIR) + "/dataprep/export_model.py";
  const std::string photo = kCoco + "/val2014/COCO_val2014_000000200000.jpg";
  models::TransformNet net = models::load_transform_net(tmp_ / "m.h5");
  net->eval();
  for (const std::string ext : {".onnx", ".pt"}) {
    const fs::path out = tmp_ / ("m" + ext), check = tmp_ / ("check" + ext + ".h5");
    const auto r = run(std::string(DPST_PYTHON) + " " + script + " " + (tmp_ / "m.h5").string() + " " +
                       out.string() + " --check-image " + photo + " --check-output " + check.string());
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_THAT(r.out, HasSubstr("max |export - eager|"));
    ASSERT_TRUE(fs::exists(out));
    const auto t = models::read_all_tensors(check);
    torch::NoGradGuard no_grad;
    const torch::Tensor mine = eval::stylize(*net, t.at("input"), eval::StylizeOptions{});
    const double diff = (mine - t.at("output")).abs().max().item<double>();
    std::cout << ext << " export vs dpst-stylize on " << t.at("input").sizes() << ": max |diff| " << diff << "\n";
    EXPECT_LT(diff, 1e-4) << ext;
  }
  // Errors: not a model, a wrong extension; nothing is written.
  write_file(tmp_ / "not.h5", "nope");
  auto r = run(std::string(DPST_PYTHON) + " " + script + " " + (tmp_ / "not.h5").string() + " " +
               (tmp_ / "x.onnx").string());
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_THAT(r.err, HasSubstr("not.h5: not a readable dpst weight file"));
  EXPECT_FALSE(fs::exists(tmp_ / "x.onnx"));
  r = run(std::string(DPST_PYTHON) + " " + script + " " + (tmp_ / "m.h5").string() + " " +
          (tmp_ / "x.tflite").string());
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("must end in .onnx (ONNX) or .pt (TorchScript)"));
}

// Loss curves: dpst-eval draws each finished trial's curves.png and the sweep overlay.
// One ONNX file for a model of several styles: the style weights are its second input, and
// with one-hot weights or a blend it computes what dpst-stylize does with that --style.
TEST_F(EvalToolsTest, AManyStyleOnnxExportTakesTheStyleWeights) {
  models::TransformNet net(models::TransformNetOptions{8, 1, 3});
  models::det_init(*net, 5);
  models::export_transform_net(*net, tmp_ / "multi.h5", "test", {"candy", "mosaic", "wave"});
  const std::string script = std::string(DPST_SOURCE_DIR) + "/dataprep/export_model.py";
  const std::string photo = kCoco + "/val2014/COCO_val2014_000000200000.jpg";
  for (const auto& weights : std::vector<std::vector<float>>{{0, 0, 1}, {0.5f, 0, 0.5f}}) {
    const std::string text = std::to_string(weights[0]) + "," + std::to_string(weights[1]) + "," +
                             std::to_string(weights[2]);
    const fs::path check = tmp_ / "check.h5";
    const auto r = run(std::string(DPST_PYTHON) + " " + script + " " + (tmp_ / "multi.h5").string() + " " +
                       (tmp_ / "multi.onnx").string() + " --check-image " + photo + " --check-style " + text +
                       " --check-output " + check.string());
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    const auto t = models::read_all_tensors(check);
    torch::NoGradGuard no_grad;
    const torch::Tensor mine = eval::stylize(*models::blended(*net, torch::tensor(weights)), t.at("input"),
                                             eval::StylizeOptions{});
    const double diff = (mine - t.at("output")).abs().max().item<double>();
    std::cout << "many-style ONNX (" << text << ") vs dpst-stylize: max |diff| " << diff << "\n";
    EXPECT_LT(diff, 1e-4) << text;
  }
  const auto bad = run(std::string(DPST_PYTHON) + " " + script + " " + (tmp_ / "multi.h5").string() + " " +
                       (tmp_ / "x.onnx").string() + " --check-style 1,0");
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_THAT(bad.err, HasSubstr("--check-style 1,0: give 3 numbers >= 0"));
  EXPECT_FALSE(fs::exists(tmp_ / "x.onnx"));
}

TEST_F(EvalToolsTest, EvalDrawsLossCurvesPerTrialAndPerSweep) {
  const auto r = run(eval(sweep_dir().string() + " --images 1 --grid-images 0 --out " + (tmp_ / "o").string()));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const auto& trial : trials()) {
    ASSERT_TRUE(fs::exists(trial / "curves.png")) << trial << "\n" << r.out << r.err;
    EXPECT_GT(image_size(trial / "curves.png").width, 300);
  }
  ASSERT_TRUE(fs::exists(tmp_ / "o" / "curves.png")) << r.out << r.err;
  const std::string first = read_file(tmp_ / "o" / "curves.png");
  // A Python without matplotlib: a note, not a failure.
  const auto without = run("DPST_PYTHON=/bin/false " + eval(sweep_dir().string() + " --images 1 --grid-images 0 --out " +
                                                             (tmp_ / "o2").string()));
  EXPECT_EQ(without.exit_code, 0) << without.err;
  EXPECT_THAT(without.out + without.err, HasSubstr("no loss curves for "));
  // The same metrics give the same bytes.
  ASSERT_EQ(run(eval(sweep_dir().string() + " --images 1 --grid-images 0 --out " + (tmp_ / "o").string())).exit_code, 0);
  EXPECT_EQ(read_file(tmp_ / "o" / "curves.png"), first);
}

}  // namespace
}  // namespace dpst::test
