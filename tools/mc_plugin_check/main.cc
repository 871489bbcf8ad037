// mc_plugin_check: runs the transport conformance suite against one plugin,
// named ("ucx") or given as a path to its .so, built in tree or out of tree.
//   mc_plugin_check ./libmooncomm-mytransport.so
//   mc_plugin_check ucx --gtest_filter='*Put*'
// Exit code 0 when every case passed.
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "conformance.h"
#include "plugin/loader.h"

int main(int argc, char** argv) {
  if (argc < 2 || std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0) {
    std::fprintf(stderr,
                 "usage: mc_plugin_check <plugin name | path to libmooncomm-<name>.so> [gtest flags]\n"
                 "  runs the MoonComm transport conformance suite (real processes) against the plugin\n");
    return argc < 2 ? 2 : 0;
  }
  absl::StatusOr<mc::LoadedPlugin> plugin = mc::LoadPlugin(argv[1]);
  if (!plugin.ok()) {
    std::fprintf(stderr, "mc_plugin_check: %s\n", std::string(plugin.status().message()).c_str());
    return 2;
  }
  std::fprintf(stderr, "mc_plugin_check: %s (%s, ABI v%u, version %s)\n", plugin->name.c_str(),
               plugin->path.c_str(), plugin->abi_version,
               plugin->plugin->version ? plugin->plugin->version : "?");
  // gtest sees the program name and the flags after the plugin.
  std::vector<char*> args = {argv[0]};
  for (int i = 2; i < argc; ++i) args.push_back(argv[i]);
  int gtest_argc = static_cast<int>(args.size());
  args.push_back(nullptr);
  return mc::conformance::RunConformance(*plugin, gtest_argc, args.data());
}
