// Where plugin files live: the directories searched and the file a plugin
// name maps to. Used by the loader and by tools that list plugins.
#ifndef MOONCOMM_SRC_PLUGIN_SEARCH_PATH_H_
#define MOONCOMM_SRC_PLUGIN_SEARCH_PATH_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace mc {

// "libmooncomm-<name>.so".
std::string PluginFileName(std::string_view name);

// The first file PluginFileName(name) in PluginSearchPath(). NotFound lists
// the file name and every directory searched.
absl::StatusOr<std::string> FindPluginFile(std::string_view name);

// OK for a plugin name: 1..63 characters of [a-z0-9_-], starting with a
// letter or a digit. `what` says where the name came from in the message.
absl::Status CheckPluginName(std::string_view name, std::string_view what);

}  // namespace mc

#endif  // MOONCOMM_SRC_PLUGIN_SEARCH_PATH_H_
