// Finds and opens transport plugins: the built-ins, and dlopen'ed files named
// libmooncomm-<name>.so in MC_PLUGIN_PATH and then the install's plugin dir.
#ifndef MOONCOMM_SRC_PLUGIN_LOADER_H_
#define MOONCOMM_SRC_PLUGIN_LOADER_H_

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "mooncomm/plugin_abi.h"

namespace mc {

struct LoadedPlugin {
  const mc_plugin_v1_t* plugin = nullptr;  // the v1 view (older versions adapted)
  std::string name;                        // plugin->name
  std::string path;                        // "built-in" or the file that was opened
  uint32_t abi_version = 0;                // version of the symbol that was found
  std::shared_ptr<void> library;           // dlclose'd with the last copy; null for built-ins
};

// `name_or_path` is a plugin name ("tcp", "ucx") or a path to a .so file.
// Errors name the file, the symbols looked for and the versions involved:
//  - NotFound: no built-in and no file libmooncomm-<name>.so in the search path
//    (the message lists the directories searched);
//  - FailedPrecondition: dlopen failed (dlerror text), no mc_plugin_v<N> symbol,
//    an abi_version field that disagrees with the symbol, only versions newer
//    than this core knows, or missing tables/functions.
absl::StatusOr<LoadedPlugin> LoadPlugin(std::string_view name_or_path);

// MC_PLUGIN_PATH directories, then the install's plugin dir, then the dir of
// libmooncomm itself (so a build tree works uninstalled).
std::vector<std::string> PluginSearchPath();

// Names of every plugin that could be loaded: built-ins first, then the
// plugin files found in the search path (not opened).
std::vector<std::string> AvailablePluginNames();

// MC_TRANSPORT: "auto" (automatic = true, names empty) or a comma list.
struct TransportChoice {
  bool automatic = false;
  std::vector<std::string> names;
};
absl::StatusOr<TransportChoice> ParseTransportChoice(std::string_view value);

}  // namespace mc

#endif  // MOONCOMM_SRC_PLUGIN_LOADER_H_
