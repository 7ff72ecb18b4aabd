// The typed sections (config/sections.h) against the registry: every key has exactly one
// field, each field's C++ type holds its key's type, the sections have no defaults of
// their own, and a bound default configuration gives the registry's defaults.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <set>
#include <variant>

#include "config/config.h"
#include "config_test_util.h"

namespace dpst::test {
namespace {

using config::KeyType;
using config::Registry;
using config::Sections;

// The key types each C++ field type may hold.
std::set<KeyType> holds(const std::string&) { return {KeyType::String, KeyType::Choice}; }
std::set<KeyType> holds(const std::filesystem::path&) { return {KeyType::Path}; }
std::set<KeyType> holds(const int64_t&) { return {KeyType::Int}; }
std::set<KeyType> holds(const double&) { return {KeyType::Float}; }
std::set<KeyType> holds(const bool&) { return {KeyType::Bool}; }
std::set<KeyType> holds(const std::vector<std::string>&) { return {KeyType::StringList}; }
std::set<KeyType> holds(const std::vector<std::filesystem::path>&) { return {KeyType::PathOrList}; }
std::set<KeyType> holds(const std::optional<int64_t>&) { return {KeyType::IntOrAuto}; }
std::set<KeyType> holds(const std::vector<config::SweepAxis>&) { return {KeyType::AxisMap}; }

// A field as --dump-config would write it.
std::string text(const config::KeySpec& spec, const std::string& v) { return config::format_value(spec, v); }
std::string text(const config::KeySpec& spec, const std::filesystem::path& v) { return config::format_value(spec, v.string()); }
std::string text(const config::KeySpec& spec, const int64_t& v) { return config::format_value(spec, v); }
std::string text(const config::KeySpec& spec, const double& v) { return config::format_value(spec, v); }
std::string text(const config::KeySpec& spec, const bool& v) { return config::format_value(spec, v); }
std::string text(const config::KeySpec& spec, const std::vector<std::string>& v) { return config::format_value(spec, v); }
std::string text(const config::KeySpec& spec, const std::vector<std::filesystem::path>& v) {
  if (v.size() <= 1) return config::format_value(spec, v.empty() ? std::string() : v.front().string());
  std::vector<std::string> items;
  for (const auto& p : v) items.push_back(p.string());
  return config::format_value(spec, items);
}
std::string text(const config::KeySpec& spec, const std::optional<int64_t>& v) {
  return v ? config::format_value(spec, *v) : config::format_value(spec, std::string("auto"));
}
std::string text(const config::KeySpec&, const std::vector<config::SweepAxis>& v) { return config::format_axes(v); }

// Zero/empty: what a field holds when the struct gives it no default.
bool is_zero(const std::string& v) { return v.empty(); }
bool is_zero(const std::filesystem::path& v) { return v.empty(); }
bool is_zero(const int64_t& v) { return v == 0; }
bool is_zero(const double& v) { return v == 0.0; }
bool is_zero(const bool& v) { return !v; }
bool is_zero(const std::vector<std::string>& v) { return v.empty(); }
bool is_zero(const std::vector<std::filesystem::path>& v) { return v.empty(); }
bool is_zero(const std::optional<int64_t>& v) { return !v; }
bool is_zero(const std::vector<config::SweepAxis>& v) { return v.empty(); }

TEST(ConfigSections, EveryRegistryKeyHasOneFieldOfItsType) {
  std::map<std::string, int> seen;
  std::vector<std::string> order;
  const Sections s{};
  config::for_each_field(s, [&](const char* key, const auto& field) {
    ++seen[key];
    order.push_back(key);
    const config::KeySpec* spec = Registry::instance().find(key);
    ASSERT_NE(spec, nullptr) << key << ": a field without a registry key";
    EXPECT_TRUE(holds(field).count(spec->type)) << key << ": the field's C++ type does not hold a "
                                               << config::type_name(spec->type);
  });
  std::vector<std::string> registry_order;
  for (const auto& spec : Registry::instance().keys()) {
    registry_order.push_back(spec.key);
    EXPECT_EQ(seen[spec.key], 1) << spec.key << ": expected exactly one field";
  }
  EXPECT_EQ(order, registry_order) << "for_each_field visits the keys in registry order";
}

TEST(ConfigSections, FieldsHaveNoDefaultsOfTheirOwn) {
  const Sections s{};
  config::for_each_field(s, [&](const char* key, const auto& field) {
    EXPECT_TRUE(is_zero(field)) << key << ": a default in sections.h; the registry holds the defaults";
  });
}

TEST(ConfigSections, ABoundDefaultConfigHoldsTheRegistryDefaults) {
  const config::Config c = load_ok({});
  // The dump writes each key's value from the registry-checked values, not from the fields.
  const std::string dumped = c.dump();
  config::for_each_field(c.sections(), [&](const char* key, const auto& field) {
    const config::KeySpec& spec = *Registry::instance().find(key);
    const std::string leaf = spec.key.substr(spec.key.find('.') + 1);
    EXPECT_THAT(dumped, ::testing::HasSubstr("  " + leaf + ": " + text(spec, field) + "\n")) << key;
  });
  EXPECT_DOUBLE_EQ(c.loss().depth_weight, 2.8e5);  // the default that once drifted (LossWeights.depth = 0)
  EXPECT_EQ(c.loss().style_layers, (std::vector<std::string>{"relu1_2", "relu2_2", "relu3_3", "relu4_3"}));
  EXPECT_FALSE(c.train().threads.has_value());  // auto
}

TEST(ConfigSections, FilesAndOverridesReachTheFields) {
  TempDir dir;
  const auto f = dir / "a.yaml";
  write_file(f, "optim:\n  lr: 2.5e-4\ntrain:\n  threads: 3\nloss:\n  depth_layers: [L2, output]\n");
  const config::Config c = load_ok({f.string()}, {"train.iterations=17"});
  EXPECT_DOUBLE_EQ(c.optim().lr, 2.5e-4);
  EXPECT_EQ(c.train().threads, std::optional<int64_t>(3));
  EXPECT_EQ(c.train().iterations, 17);
  EXPECT_EQ(c.loss().depth_layers, (std::vector<std::string>{"L2", "output"}));
}

TEST(ConfigSections, SetChecksTheTypeAndRebinds) {
  config::Config c = load_ok({});
  config::Origin here;
  here.label = "test";
  c.set("optim.lr", 0.5, here);
  EXPECT_DOUBLE_EQ(c.optim().lr, 0.5);
  EXPECT_THROW(c.set("optim.lr", int64_t{1}, here), InternalError);
  EXPECT_THROW(c.set("no.such_key", 1.0, here), InternalError);
}

}  // namespace
}  // namespace dpst::test
