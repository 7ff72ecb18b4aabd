// The configuration registry and loader: every message a user can get is checked.
#include <gtest/gtest.h>

#include "config/config.h"
#include "config_test_util.h"
#include "support/support.h"

namespace dpst::test {
namespace {

using config::Config;
using ::testing::HasSubstr;

class ConfigTest : public ::testing::Test {
 protected:
  TempDir dir;
  std::string yaml(const std::string& name, const std::string& text) {
    const auto p = dir / name;
    write_file(p, text);
    return p.string();
  }
};

TEST_F(ConfigTest, DefaultsMatchTheRegistry) {
  const Config c = load_ok({});
  EXPECT_EQ(c.get_int("train.batch_size"), 3);
  EXPECT_EQ(c.get_int("train.iterations"), 40000);
  EXPECT_DOUBLE_EQ(c.get_float("optim.lr"), 1e-3);
  EXPECT_DOUBLE_EQ(c.get_float("loss.content_weight"), 1e5);
  EXPECT_DOUBLE_EQ(c.get_float("loss.style_weight"), 1e10);
  EXPECT_EQ(c.get_strings("loss.style_layers"),
            (std::vector<std::string>{"relu1_2", "relu2_2", "relu3_3", "relu4_3"}));
  EXPECT_EQ(c.get_strings("loss.depth_layers"), std::vector<std::string>{"output"});
  EXPECT_FALSE(c.get_int_or_auto("train.threads").has_value());
  EXPECT_FALSE(c.get_bool("loss_nets.allow_random_init"));
  EXPECT_EQ(c.get_string("sweep.method"), "none");
  EXPECT_EQ(c.origin("optim.lr").to_string(), "default");
}

TEST_F(ConfigTest, UnknownKeySuggestsTheNearMiss) {
  const auto f = yaml("a.yaml", "loss:\n  content_wieght: 1.0\n");
  EXPECT_THAT(load_error({f}), HasSubstr(f + ":2:3: loss.content_wieght: unknown key (did you mean "
                                         "'loss.content_weight'?)"));
}

TEST_F(ConfigTest, KeyInTheWrongSectionSuggestsTheRightOne) {
  const auto f = yaml("a.yaml", "train:\n  lr: 0.1\n");
  EXPECT_THAT(load_error({f}), HasSubstr("train.lr: unknown key (did you mean 'optim.lr'?)"));
}

TEST_F(ConfigTest, MisspeltSectionSuggestsTheSection) {
  const auto f = yaml("a.yaml", "optm:\n  lr: 0.1\n");
  EXPECT_THAT(load_error({f}), HasSubstr(f + ":1:1: optm: unknown key (did you mean 'optim'?)"));
}

TEST_F(ConfigTest, UnrelatedUnknownKeyHasNoSuggestion) {
  const auto f = yaml("a.yaml", "loss:\n  zzzzzzzzzzzzzz: 1\n");
  const auto err = load_error({f});
  EXPECT_THAT(err, HasSubstr("loss.zzzzzzzzzzzzzz: unknown key"));
  EXPECT_THAT(err, ::testing::Not(HasSubstr("did you mean")));
}

TEST_F(ConfigTest, WrongTypeInteger) {
  const auto f = yaml("a.yaml", "train:\n  batch_size: three\n");
  EXPECT_THAT(load_error({f}), HasSubstr(f + ":2:15: train.batch_size: expected an integer, got 'three'"));
}

TEST_F(ConfigTest, IntegerKeyRejectsAFraction) {
  const auto f = yaml("a.yaml", "train:\n  iterations: 2.5\n");
  EXPECT_THAT(load_error({f}), HasSubstr("train.iterations: expected an integer, got '2.5'"));
}

TEST_F(ConfigTest, WrongTypeFloat) {
  const auto f = yaml("a.yaml", "optim:\n  lr: fast\n");
  EXPECT_THAT(load_error({f}), HasSubstr(f + ":2:7: optim.lr: expected a number, got 'fast'"));
}

TEST_F(ConfigTest, WrongTypeBool) {
  const auto f = yaml("a.yaml", "loss_nets:\n  allow_random_init: maybe\n");
  EXPECT_THAT(load_error({f}), HasSubstr("loss_nets.allow_random_init: expected true or false, got 'maybe'"));
}

TEST_F(ConfigTest, ListKeyRejectsAScalar) {
  const auto f = yaml("a.yaml", "loss:\n  content_layers: relu2_2\n");
  EXPECT_THAT(load_error({f}), HasSubstr("loss.content_layers: expected a list such as [a, b], got 'relu2_2'"));
}

TEST_F(ConfigTest, SectionGivenAScalar) {
  const auto f = yaml("a.yaml", "loss: 3\n");
  EXPECT_THAT(load_error({f}), HasSubstr(f + ":1:1: loss: is a section; expected a mapping of its keys"));
}

TEST_F(ConfigTest, OutOfRange) {
  const auto f = yaml("a.yaml", "loss:\n  style_weight: -3\n");
  EXPECT_THAT(load_error({f}), HasSubstr(f + ":2:17: loss.style_weight: must be >= 0 (got -3)"));
}

TEST_F(ConfigTest, ExclusiveLowerBound) {
  const auto f = yaml("a.yaml", "optim:\n  lr: 0\n");
  EXPECT_THAT(load_error({f}), HasSubstr("optim.lr: must be > 0 (got 0)"));
}

TEST_F(ConfigTest, UpperBoundAndMultiple) {
  const auto f = yaml("a.yaml", "data:\n  image_size: 250\n  loader_threads: 1000\n");
  const auto err = load_error({f});
  EXPECT_THAT(err, HasSubstr("data.image_size: must be a multiple of 16 (got 250)"));
  EXPECT_THAT(err, HasSubstr("data.loader_threads: must be <= 64 (got 1000)"));
}

TEST_F(ConfigTest, NonFiniteFloat) {
  const auto f = yaml("a.yaml", "loss:\n  tv_weight: .nan\n");
  EXPECT_THAT(load_error({f}), HasSubstr("loss.tv_weight: "));
}

TEST_F(ConfigTest, BadChoiceListsChoicesAndSuggests) {
  const auto f = yaml("a.yaml", "train:\n  precision: fp16\n");
  EXPECT_THAT(load_error({f}),
              HasSubstr(f + ":2:14: train.precision: value must be one of fp32, bf16 (got 'fp16'); did you mean 'fp32'?"));
}

TEST_F(ConfigTest, BadListItem) {
  const auto f = yaml("a.yaml", "loss:\n  depth_layers: [output, depth_map]\n");
  EXPECT_THAT(load_error({f}), HasSubstr("loss.depth_layers: item 2 must be one of stem, L1, L2, L3, L4, output "
                                         "(got 'depth_map')"));
}

TEST_F(ConfigTest, DuplicateListItem) {
  const auto f = yaml("a.yaml", "loss:\n  style_layers: [relu1_2, relu1_2]\n");
  EXPECT_THAT(load_error({f}), HasSubstr("loss.style_layers: item 'relu1_2' is listed twice"));
}

TEST_F(ConfigTest, DuplicateKeyInOneMapping) {
  const auto f = yaml("a.yaml", "optim:\n  lr: 0.1\n  lr: 0.2\n");
  EXPECT_THAT(load_error({f}), HasSubstr(f + ":3:3: optim.lr: duplicate key"));
}

TEST_F(ConfigTest, MalformedYamlGivesLineAndColumn) {
  const auto f = yaml("a.yaml", "run:\n  name: ok\nloss:\n  style_layers: [relu1_2\n  tv_weight: 1\n");
  const auto err = load_error({f});
  EXPECT_THAT(err, ::testing::ContainsRegex(f + ":[0-9]+:[0-9]+: malformed YAML: "));
  EXPECT_THAT(err, HasSubstr("end of sequence flow not found"));
}

TEST_F(ConfigTest, TopLevelMustBeAMapping) {
  const auto f = yaml("a.yaml", "- a\n- b\n");
  EXPECT_THAT(load_error({f}), HasSubstr(f + ":1:1: expected a mapping of sections"));
}

TEST_F(ConfigTest, MissingConfigFile) {
  const auto f = (dir / "nope.yaml").string();
  EXPECT_THAT(load_error({f}), HasSubstr(f + ": cannot read config file: No such file or directory"));
}

TEST_F(ConfigTest, MissingRequiredFileIsReportedWithItsPath) {
  const auto f = yaml("a.yaml", "data:\n  path: coco.h5\nloss:\n  style_image: style.jpg\n");
  write_file(dir / "style.jpg", "x");
  const auto err = load_error({f}, {}, 1, /*check_files=*/true);
  EXPECT_THAT(err, HasSubstr(f + ":2:9: data.path: file not found: " + (dir / "coco.h5").string()));
  EXPECT_THAT(err, ::testing::Not(HasSubstr("style_image")));
}

TEST_F(ConfigTest, RequiredKeyNotSet) {
  const auto err = load_error({}, {}, 1, /*check_files=*/true);
  EXPECT_THAT(err, HasSubstr("default: data.path: is required but not set by any config file or --set"));
  EXPECT_THAT(err, HasSubstr("default: loss.style_image: is required but not set"));
}

TEST_F(ConfigTest, FolderWhereAFileIsExpected) {
  std::filesystem::create_directories(dir / "weights");
  const auto f = yaml("a.yaml", "loss_nets:\n  vgg16_weights: weights\n");
  EXPECT_THAT(load_error({f}, {}, 1, true),
              HasSubstr("loss_nets.vgg16_weights: is a folder, expected a file: " + (dir / "weights").string()));
}

TEST_F(ConfigTest, FileChecksAreSkippedWhenOnlyPrinting) {
  const auto f = yaml("a.yaml", "data:\n  path: missing.h5\n");
  EXPECT_EQ(load_error({f}, {}, 1, /*check_files=*/false), "");
}

TEST_F(ConfigTest, SetWithUnknownPathSuggests) {
  EXPECT_THAT(load_error({}, {"loss.stlye_weight=1"}),
              HasSubstr("--set loss.stlye_weight=1: loss.stlye_weight: unknown key (did you mean 'loss.style_weight'?)"));
}

TEST_F(ConfigTest, SetWithWrongValueType) {
  EXPECT_THAT(load_error({}, {"train.iterations=many"}),
              HasSubstr("--set train.iterations=many: train.iterations: expected an integer, got 'many'"));
}

TEST_F(ConfigTest, SetWithoutEquals) {
  EXPECT_THAT(load_error({}, {"optim.lr"}), HasSubstr("--set optim.lr: expected KEY=VALUE"));
}

TEST_F(ConfigTest, SetOnASection) {
  EXPECT_THAT(load_error({}, {"loss=1"}), HasSubstr("--set loss=1: loss: is a section; set one of its keys"));
}

TEST_F(ConfigTest, SetAcceptsListsAndEmptyValues) {
  const Config c = load_ok({}, {"loss.depth_layers=[output, L2]", "loss_nets.vgg16_weights="});
  EXPECT_EQ(c.get_strings("loss.depth_layers"), (std::vector<std::string>{"output", "L2"}));
  EXPECT_TRUE(c.get_path("loss_nets.vgg16_weights").empty());
}

TEST_F(ConfigTest, SeveralErrorsAreReportedInOneRun) {
  const auto f = yaml("a.yaml", "run:\n  nmae: x\nloss:\n  style_weight: -1\ntrain:\n  precision: fp8\n");
  config::LoadOptions o;
  o.files = {f};
  o.overrides = {"optim.lr=abc", "nope.key=1"};
  o.check_files = false;
  try {
    config::load(o);
    FAIL() << "expected ConfigProblems";
  } catch (const config::ConfigProblems& e) {
    ASSERT_EQ(e.problems().size(), 5u) << e.what();
    const std::string text = e.what();
    EXPECT_THAT(text, HasSubstr("5 configuration problems:"));
    EXPECT_THAT(text, HasSubstr("run.nmae"));
    EXPECT_THAT(text, HasSubstr("loss.style_weight"));
    EXPECT_THAT(text, HasSubstr("train.precision"));
    EXPECT_THAT(text, HasSubstr("optim.lr"));
    EXPECT_THAT(text, HasSubstr("nope.key"));
    EXPECT_EQ(e.exit_code(), kExitConfig);
  }
}

TEST_F(ConfigTest, CrossFieldDepthWeightNeedsADepthNetwork) {
  for (const char* name : {"coco.h5", "style.jpg", "v.h5", "d.h5"}) write_file(dir / name, "x");
  const auto f = yaml("a.yaml",
                      "data:\n  path: coco.h5\nloss:\n  style_image: style.jpg\n  depth_weight: 1000\n"
                      "loss_nets:\n  vgg16_weights: v.h5\n");
  auto run_check = [&](std::vector<std::string> sets) { return load_error({f}, sets, 1, /*check_files=*/true); };
  const auto err = run_check({});
  EXPECT_THAT(err, HasSubstr(f + ":5:17: loss.depth_weight: is > 0 but loss_nets.depth_weights is not set"));
  EXPECT_THAT(err, HasSubstr("allow_random_init: true"));
  // Allowed explicitly, or with a weight file, or with the baseline lambda3 = 0.
  EXPECT_EQ(run_check({"loss_nets.allow_random_init=true"}), "");
  EXPECT_EQ(run_check({"loss_nets.depth_weights=" + (dir / "d.h5").string()}), "");
  EXPECT_EQ(run_check({"loss.depth_weight=0"}), "");
  // A lambda3 > 0 anywhere in a sweep needs the network too.
  EXPECT_THAT(run_check({"loss.depth_weight=0", "sweep.method=grid", "sweep.axes={loss.depth_weight: [0, 5]}"}),
              HasSubstr("loss.depth_weight: is > 0 but loss_nets.depth_weights is not set"));
}

TEST_F(ConfigTest, CrossFieldRanksPerTrialMustDivideWorld) {
  const auto err = load_error({}, {"sweep.ranks_per_trial=2", "loss_nets.allow_random_init=true"}, 3);
  EXPECT_THAT(err, HasSubstr("sweep.ranks_per_trial: is 2 but the job has 3 ranks"));
  EXPECT_EQ(load_error({}, {"sweep.ranks_per_trial=2", "loss_nets.allow_random_init=true"}, 4), "");
}

TEST_F(ConfigTest, CrossFieldSweepNeedsAxesAndLayersNeedWeights) {
  const auto err = load_error({}, {"sweep.method=grid", "loss.style_layers=[]", "train.device=cpu",
                                   "data.val_split=train2014"});
  EXPECT_THAT(err, HasSubstr("sweep.method: is grid but sweep.axes is empty"));
  EXPECT_THAT(err, HasSubstr("loss.style_layers: is empty but loss.style_weight is > 0"));
  EXPECT_THAT(err, HasSubstr("data.val_split: is the same split as data.train_split"));
}

TEST_F(ConfigTest, CrossFieldPassRunsOnlyAfterKeysAreValid) {
  // A bad value and a cross-field violation: only the per-key problem is reported,
  // because cross-field rules cannot judge invalid values.
  const auto err = load_error({}, {"optim.lr=-1", "sweep.method=grid"});
  EXPECT_THAT(err, HasSubstr("optim.lr: must be > 0"));
  EXPECT_THAT(err, ::testing::Not(HasSubstr("sweep.axes is empty")));
}

TEST_F(ConfigTest, RelativePathsResolveAgainstTheConfigFilesFolder) {
  const auto f = yaml("configs/a.yaml", "data:\n  path: ../data/coco.h5\nloss:\n  style_image: /abs/s.jpg\n");
  const Config c = load_ok({f});
  EXPECT_EQ(c.get_path("data.path"), (dir / "data" / "coco.h5").string());
  EXPECT_EQ(c.get_path("loss.style_image"), "/abs/s.jpg");
  // --set paths resolve against the working directory.
  const Config s = load_ok({f}, {"data.path=local.h5"}, dir / "work");
  EXPECT_EQ(s.get_path("data.path"), (dir / "work" / "local.h5").string());
}

TEST_F(ConfigTest, PrecedenceFilesInOrderThenSet) {
  const auto a = yaml("a.yaml", "optim:\n  lr: 0.1\ntrain:\n  batch_size: 4\n  iterations: 10\n");
  const auto b = yaml("b.yaml", "train:\n  batch_size: 8\n");
  const Config c = load_ok({a, b}, {"train.iterations=99"});
  EXPECT_DOUBLE_EQ(c.get_float("optim.lr"), 0.1);    // only in a
  EXPECT_EQ(c.get_int("train.batch_size"), 8);       // b wins over a
  EXPECT_EQ(c.get_int("train.iterations"), 99);      // --set wins over both
  EXPECT_EQ(c.origin("train.batch_size").to_string(), b + ":2:15");
  EXPECT_EQ(c.origin("optim.lr").to_string(), a + ":2:7");
  EXPECT_EQ(c.origin("train.iterations").to_string(), "--set train.iterations=99");
  // Swapping the files swaps the winner.
  EXPECT_EQ(load_ok({b, a}).get_int("train.batch_size"), 4);
}

TEST_F(ConfigTest, EmptyFileChangesNothing) {
  const auto f = yaml("empty.yaml", "");
  EXPECT_EQ(load_ok({f}).get_int("train.batch_size"), 3);
}

TEST_F(ConfigTest, SweepAxesAreValidatedPerValue) {
  const auto f = yaml("s.yaml",
                      "sweep:\n  method: grid\n  axes:\n    loss.depth_weight: [0, 1.0e3, -5]\n"
                      "    loss.dpeth_layers: [[output]]\n    train.batch_size: [1, 2]\n");
  const auto err = load_error({f});
  EXPECT_THAT(err, HasSubstr(f + ":4:35: sweep.axes.loss.depth_weight: value 3: must be >= 0 (got -5)"));
  EXPECT_THAT(err, HasSubstr("sweep.axes.loss.dpeth_layers: unknown key (did you mean 'loss.depth_layers'?)"));
  EXPECT_THAT(err, HasSubstr("sweep.axes.train.batch_size: cannot be swept"));
}

TEST_F(ConfigTest, SweepAxesKeepOrderAndCanonicalValues) {
  const auto f = yaml("s.yaml",
                      "loss_nets:\n  allow_random_init: true\n"
                      "sweep:\n  method: grid\n  axes:\n    loss.style_image: [a.jpg, b.jpg]\n"
                      "    loss.depth_layers: [[output], [output, L2]]\n");
  const Config c = load_ok({f});
  const auto& axes = c.sweep_axes();
  ASSERT_EQ(axes.size(), 2u);
  EXPECT_EQ(axes[0].key, "loss.style_image");
  EXPECT_EQ(std::get<std::string>(axes[0].values[1]), (dir / "b.jpg").string());
  EXPECT_EQ(std::get<std::vector<std::string>>(axes[1].values[1]).size(), 2u);
}

TEST_F(ConfigTest, DumpLoadsBackToTheSameText) {
  const auto f = yaml("a.yaml",
                      "run:\n  name: \"my run: 1\"\nloss:\n  tv_weight: 1.0e-7\n  depth_weight: 123456789.125\n"
                      "loss_nets:\n  allow_random_init: true\n"
                      "sweep:\n  method: grid\n  axes:\n    loss.depth_weight: [0, 0.1, 3.0e12]\n"
                      "    loss.depth_layers: [[output], [L1, L2]]\n");
  const std::string first = load_ok({f}).dump();
  const auto dumped = yaml("dumped.yaml", first);
  const std::string second = load_ok({dumped}).dump();
  EXPECT_EQ(first, second);
  EXPECT_THAT(first, HasSubstr("  name: \"my run: 1\"\n"));
  EXPECT_THAT(first, HasSubstr("  tv_weight: 1.0e-7\n"));
  EXPECT_THAT(first, HasSubstr("    loss.depth_weight: [0.0, 0.1, 3.0e12]\n"));
  EXPECT_THAT(first, HasSubstr("    loss.depth_layers: [[output], [L1, L2]]\n"));
  const Config back = load_ok({dumped});
  EXPECT_DOUBLE_EQ(back.get_float("loss.depth_weight"), 123456789.125);
  EXPECT_EQ(back.get_string("run.name"), "my run: 1");
}

TEST_F(ConfigTest, TypedAccessWithTheWrongTypeIsABug) {
  const Config c = load_ok({});
  EXPECT_THROW(c.get_int("optim.lr"), InternalError);
  EXPECT_THROW(c.get_float("no.such_key"), InternalError);
}

TEST_F(ConfigTest, HelpListsEveryKeyWithTypeAndDefault) {
  const std::string help = config::help_text();
  for (const auto& spec : config::Registry::instance().keys()) {
    EXPECT_THAT(help, HasSubstr("  " + spec.key + "  <" + config::type_name(spec.type) + ">  default: "));
  }
  EXPECT_THAT(help, HasSubstr("loss.depth_weight  <float>  default: 2.8e5  (>= 0)"));
  EXPECT_THAT(help, HasSubstr("train.precision  <choice>  default: fp32  (one of: fp32, bf16)"));
  // How a list of style images reads, at the top level and as a sweep axis.
  EXPECT_THAT(help, HasSubstr("loss.style_image  <path|list>  default: \"\" (unset)"));
  EXPECT_THAT(help, HasSubstr("As a sweep axis every value is one trial: [a.jpg, b.jpg] is two one-style trials, "
                              "[[a.jpg, b.jpg], c.jpg] a two-style trial and a one-style trial."));
}

TEST_F(ConfigTest, AListOfStyleImagesIsOneMultiStyleTrial) {
  const auto f = yaml("m.yaml", "loss:\n  style_image: [styles/a.jpg, b.jpg, /abs/c.png]\n");
  const Config c = load_ok({f});
  const auto images = c.loss().style_images;
  ASSERT_EQ(images.size(), 3u);
  EXPECT_EQ(images[0], dir / "styles" / "a.jpg");  // relative to the file, as a single path
  EXPECT_EQ(images[2], "/abs/c.png");
  EXPECT_EQ(c.get_paths("loss.style_image"), images);
  EXPECT_THROW(c.get_path("loss.style_image"), InternalError);  // a list is not one path
  // --dump-config writes the list and loads back to the same text.
  const std::string dump = c.dump();
  EXPECT_THAT(dump, HasSubstr("  style_image: [" + (dir / "styles" / "a.jpg").string() + ", "));
  EXPECT_EQ(load_ok({yaml("dumped.yaml", dump)}).dump(), dump);
  // A list of one is that one path: the same one-style trial.
  const Config one = load_ok({yaml("one.yaml", "loss:\n  style_image: [a.jpg]\n")});
  EXPECT_EQ(one.get_path("loss.style_image"), dir / "a.jpg");
  EXPECT_EQ(one.loss().style_images.size(), 1u);
  // Unset is no style.
  EXPECT_TRUE(load_ok({}).loss().style_images.empty());
}

TEST_F(ConfigTest, AStyleListWithAProblemSaysWhichItemAndWhy) {
  auto err = [&](const std::string& value) {
    return load_error({yaml("bad.yaml", "loss:\n  style_image: " + value + "\n")});
  };
  EXPECT_THAT(err("[a.jpg, x/a.png]"),
              HasSubstr("loss.style_image: item 2 (x/a.png): another item has the same file name 'a', which names the "
                        "style; rename one of them"));
  EXPECT_THAT(err("[a.jpg, [b.jpg, c.jpg]]"),
              HasSubstr("loss.style_image: item 2 is a list, expected a path (a list of lists is a sweep axis: put it "
                        "under sweep.axes)"));
  EXPECT_THAT(err("[]"), HasSubstr("loss.style_image: expected a path or a non-empty list of paths, got an empty list"));
  EXPECT_THAT(err("[\"a,b.jpg\", c.jpg]"), HasSubstr("item 1 (a,b.jpg): a style's name is its file name without the "
                                                      "extension, and it may not contain ',' or '='"));
  EXPECT_THAT(err("{a: b}"), HasSubstr("loss.style_image: expected a path or a list of paths, got a mapping"));
  // With the file checks on, each missing image of the list is named.
  write_file(dir / "here.jpg", "x");
  const auto f = yaml("missing.yaml", "data:\n  path: here.jpg\nloss:\n  style_image: [here.jpg, gone.jpg]\n");
  EXPECT_THAT(load_error({f}, {}, 1, true), HasSubstr("loss.style_image: file not found: " + (dir / "gone.jpg").string()));
}

TEST(EditDistance, Basics) {
  EXPECT_EQ(config::edit_distance("kitten", "sitting"), 3u);
  EXPECT_EQ(config::edit_distance("", "abc"), 3u);
  EXPECT_EQ(config::closest("relu2_3", {"relu1_2", "relu2_2"}), "relu2_2");
  EXPECT_EQ(config::closest("completely_else", {"lr", "seed"}), "");
}

}  // namespace
}  // namespace dpst::test
