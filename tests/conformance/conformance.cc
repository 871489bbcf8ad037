#include "conformance.h"

#include "cases.h"
#include "gtest/gtest.h"
#include "plugin/loader.h"

namespace mc::conformance {
namespace {

class ConformanceTest : public testing::Test {
 public:
  ConformanceTest(const mc_plugin_v1_t* plugin, const ConformanceCase& conformance_case)
      : plugin_(plugin), case_(conformance_case) {}

  void TestBody() override {
    // Only the table check itself may run on a table with holes; the others would call NULL.
    if (case_.run != &PluginTableIsComplete && !PluginTableIsUsable(plugin_)) {
      GTEST_FAIL() << "the plugin table is incomplete (see PluginTableIsComplete); not calling into it";
    }
    case_.run(plugin_);
  }

 private:
  const mc_plugin_v1_t* plugin_;
  const ConformanceCase& case_;
};

}  // namespace

void RegisterConformanceTests(const PluginUnderTest& under_test) {
  std::string label = under_test.label;
  if (label.empty())
    label = under_test.plugin != nullptr && under_test.plugin->name != nullptr ? under_test.plugin->name : "unnamed";
  const std::string suite = "Conformance/" + label;
  const mc_plugin_v1_t* plugin = under_test.plugin;
  for (const ConformanceCase& c : AllCases()) {
    testing::RegisterTest(suite.c_str(), c.name, nullptr, nullptr, __FILE__, __LINE__,
                          [plugin, &c]() -> testing::Test* { return new ConformanceTest(plugin, c); });
  }
}

int RunConformance(std::span<const PluginUnderTest> plugins, int argc, char** argv) {
  testing::InitGoogleTest(&argc, argv);
  for (const PluginUnderTest& plugin : plugins) RegisterConformanceTests(plugin);
  return RUN_ALL_TESTS();
}

int RunConformance(const LoadedPlugin& plugin, int argc, char** argv) {
  const PluginUnderTest under_test{plugin.plugin, plugin.name};
  return RunConformance(std::span<const PluginUnderTest>(&under_test, 1), argc, argv);
}

}  // namespace mc::conformance
