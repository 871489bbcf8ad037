// The transport conformance suite: the contract every MoonComm transport
// plugin must pass, driven through the raw C ABI with real processes.
//
// Each case becomes a gtest test named "Conformance/<label>.<Case>", so
// --gtest_filter='*shm*' picks one transport. conformance_test runs it over
// the built-in transports; mc_plugin_check runs it over any plugin:
//
//   absl::StatusOr<mc::LoadedPlugin> plugin = mc::LoadPlugin(argv[1]);
//   ...
//   return mc::conformance::RunConformance(*plugin, argc, argv);
//
// The calling process must not have started any thread (the cases fork) and
// must not have initialised the plugin itself.
#ifndef MOONCOMM_TESTS_CONFORMANCE_CONFORMANCE_H_
#define MOONCOMM_TESTS_CONFORMANCE_CONFORMANCE_H_

#include <span>
#include <string>

#include "mooncomm/plugin_abi.h"

namespace mc {
struct LoadedPlugin;
}  // namespace mc

namespace mc::conformance {

struct PluginUnderTest {
  const mc_plugin_v1_t* plugin;
  std::string label;  // names the tests; the plugin's name when empty
};

// Registers every case for `plugin` with gtest. Call before RUN_ALL_TESTS;
// the plugin struct must outlive the run.
void RegisterConformanceTests(const PluginUnderTest& plugin);

// Initialises gtest with argc/argv, registers the cases for each plugin and
// runs them. Returns RUN_ALL_TESTS()'s result (0 when all passed).
int RunConformance(std::span<const PluginUnderTest> plugins, int argc, char** argv);

// The same for one plugin opened by the loader (kept open by the caller).
int RunConformance(const LoadedPlugin& plugin, int argc, char** argv);

}  // namespace mc::conformance

#endif  // MOONCOMM_TESTS_CONFORMANCE_CONFORMANCE_H_
