// conformance_test: the conformance suite over every built-in transport.
#include <vector>

#include "conformance.h"
#include "transports/builtin.h"

int main(int argc, char** argv) {
  std::vector<mc::conformance::PluginUnderTest> plugins;
  for (const mc_plugin_v1_t* plugin : mc::BuiltinPlugins()) plugins.push_back({plugin, ""});
  return mc::conformance::RunConformance(plugins, argc, argv);
}
