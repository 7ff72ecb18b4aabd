// Packs, their assignment to rank groups, and the --list-trials table.
#include <sstream>

#include "sweep_test_util.h"

namespace dpst::test {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using Packs = std::vector<std::vector<size_t>>;
using Indices = std::vector<size_t>;

TEST(SweepPacks, ConsecutiveTrialsTheLastPackMayBeSmaller) {
  EXPECT_EQ(sweep::make_packs(5, 2), (Packs{{0, 1}, {2, 3}, {4}}));
  EXPECT_EQ(sweep::make_packs(4, 2), (Packs{{0, 1}, {2, 3}}));
  EXPECT_EQ(sweep::make_packs(3, 5), (Packs{{0, 1, 2}}));
  EXPECT_EQ(sweep::make_packs(3, 1), (Packs{{0}, {1}, {2}}));
  EXPECT_TRUE(sweep::make_packs(0, 2).empty());
}

TEST(SweepPacks, GroupsTakePacksRoundRobin) {
  // 5 trials in packs of 2 = 3 packs, on 1, 2 and 3 rank groups.
  EXPECT_EQ(sweep::packs_of_group(3, 1, 0), (Indices{0, 1, 2}));
  EXPECT_EQ(sweep::packs_of_group(3, 2, 0), (Indices{0, 2}));
  EXPECT_EQ(sweep::packs_of_group(3, 2, 1), (Indices{1}));
  EXPECT_EQ(sweep::packs_of_group(3, 3, 0), (Indices{0}));
  EXPECT_EQ(sweep::packs_of_group(3, 3, 2), (Indices{2}));
  EXPECT_TRUE(sweep::packs_of_group(3, 4, 3).empty());  // more groups than packs: idle
  // Every pack goes to exactly one group, for any number of groups.
  for (int groups = 1; groups <= 7; ++groups) {
    std::vector<int> owner(5, 0);
    for (int g = 0; g < groups; ++g) {
      for (size_t p : sweep::packs_of_group(5, groups, g)) ++owner[p];
    }
    EXPECT_EQ(owner, std::vector<int>(5, 1)) << groups << " groups";
  }
}

TEST(SweepPacks, BadArgumentsAreBugs) {
  auto message = [](auto&& call) {
    try {
      call();
    } catch (const InternalError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(message([] { sweep::make_packs(5, 0); }), "trials_per_pack must be >= 1 (got 0)");
  EXPECT_EQ(message([] { sweep::packs_of_group(3, 0, 0); }), "num_groups must be >= 1 (got 0)");
  EXPECT_EQ(message([] { sweep::packs_of_group(3, 2, 2); }), "group 2 is not one of the 2 rank groups");
  EXPECT_EQ(message([] { sweep::trials_table({}, 1, 0); }), "num_groups must be >= 1 (got 0)");
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

TEST_F(SweepTest, TrialsTableListsEveryTrialWithPackAndGroup) {
  const auto trials = sweep::expand(
      load_sweep("sweep:\n  method: grid\n  axes:\n    loss.style_image: [candy.jpg, mosaic.jpg]\n"
                 "    loss.depth_weight: [0, 1.0e5]\n    loss.tv_weight: [0]\n"),
      1, false);
  const std::string table = sweep::trials_table(trials, 3, 2);
  std::cout << table;  // the example in the report
  const auto lines = lines_of(table);
  ASSERT_EQ(lines.size(), 7u) << table;
  EXPECT_EQ(lines[0], "# sweep demo: method grid, 4 trials in 2 packs of up to 3, 2 rank groups");
  EXPECT_EQ(lines[1], "# rank group g trains packs g, g+2, ...; trial folders: " + (dir / "runs" / "demo").string() +
                          "/<id>");
  EXPECT_EQ(lines[2].substr(0, 5), "#  id");
  EXPECT_THAT(lines[2], HasSubstr("pack  group  loss.style_image"));
  EXPECT_THAT(lines[2], HasSubstr("loss.depth_weight  loss.tv_weight"));
  // Fixed width: every column starts where its header starts.
  const size_t pack_col = lines[2].find("pack");
  const size_t style_col = lines[2].find("loss.style_image");
  const size_t depth_col = lines[2].find("loss.depth_weight");
  for (size_t i = 0; i < trials.size(); ++i) {
    const std::string& row = lines[3 + i];
    EXPECT_EQ(row.substr(0, 3), std::to_string(i) + "  ");
    EXPECT_EQ(row.substr(3, trials[i].id.size()), trials[i].id);
    EXPECT_EQ(row.substr(pack_col + 3, 1), i < 3 ? "0" : "1") << row;   // packs of 3
    EXPECT_EQ(row.substr(style_col, trials[i].params[0].second.size()), trials[i].params[0].second);
    EXPECT_EQ(row.substr(depth_col, trials[i].params[1].second.size()), trials[i].params[1].second);
  }
  EXPECT_NE(lines[6].find("  1      1  "), std::string::npos) << "trial 3 is in pack 1, group 1: " << lines[6];
}

TEST_F(SweepTest, TrialsTableSaysWhenGroupsHaveNothingToDo) {
  const auto trials = sweep::expand(load_sweep(""), 1, false);
  const std::string table = sweep::trials_table(trials, 1, 3);
  EXPECT_THAT(table, HasSubstr("# sweep demo: method none, 1 trial in 1 pack of up to 1, 3 rank groups\n"));
  EXPECT_THAT(table, HasSubstr("trial folders: " + (dir / "runs" / "demo").string() + "\n"));
  EXPECT_THAT(table, HasSubstr("# rank groups 1..2 have no pack (more rank groups than packs)\n"));
  EXPECT_THAT(table, HasSubstr("\n#  id   pack  group\n0  run     0      0\n"));
}

}  // namespace
}  // namespace dpst::test
