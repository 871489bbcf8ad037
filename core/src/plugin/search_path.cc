// PluginSearchPath, AvailablePluginNames (declared in loader.h) and the file
// lookup behind LoadPlugin.
#include "plugin/search_path.h"

#include <dirent.h>
#include <dlfcn.h>
#include <sys/stat.h>

#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/absl_compat.h"
#include "mooncomm/config.h"
#include "mooncomm/plugin_abi.h"
#include "plugin/loader.h"
#include "transports/builtin.h"

#ifndef MC_INSTALL_PLUGIN_DIR
#error "MC_INSTALL_PLUGIN_DIR must be defined by the build (mc_core_area sets it)"
#endif

namespace mc {
namespace {

constexpr std::string_view kFilePrefix = "libmooncomm-";
constexpr std::string_view kFileSuffix = ".so";

// The directory of the binary this code is linked into: libmooncomm.so in a
// normal build, the executable itself when a test links the objects directly.
std::string DirectoryOfThisLibrary() {
  Dl_info info;
  if (dladdr(reinterpret_cast<void*>(&DirectoryOfThisLibrary), &info) == 0 || info.dli_fname == nullptr) {
    return "";
  }
  std::string file = info.dli_fname;
  size_t slash = file.rfind('/');
  if (slash == std::string::npos) return "";
  if (slash == 0) return "/";
  return file.substr(0, slash);
}

bool IsRegularFile(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

void AddUnique(std::vector<std::string>& dirs, std::string dir) {
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  if (dir.empty()) return;
  if (std::find(dirs.begin(), dirs.end(), dir) == dirs.end()) dirs.push_back(std::move(dir));
}

// Plugin files directly in `dir`, by name, in directory order.
std::vector<std::string> PluginNamesIn(const std::string& dir) {
  std::vector<std::string> names;
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return names;
  while (struct dirent* entry = readdir(d)) {
    std::string_view file = entry->d_name;
    if (!absl::StartsWith(ToAbsl(file), ToAbsl(kFilePrefix)) || !absl::EndsWith(ToAbsl(file), ToAbsl(kFileSuffix))) {
      continue;
    }
    std::string_view name = file.substr(kFilePrefix.size(), file.size() - kFilePrefix.size() - kFileSuffix.size());
    if (!CheckPluginName(name, "file name").ok()) continue;
    if (!IsRegularFile(absl::StrCat(dir, "/", ToAbsl(file)))) continue;
    names.emplace_back(name);
  }
  closedir(d);
  std::sort(names.begin(), names.end());  // readdir order is arbitrary; keep listings stable
  return names;
}

}  // namespace

std::string PluginFileName(std::string_view name) {
  return absl::StrCat(ToAbsl(kFilePrefix), ToAbsl(name), ToAbsl(kFileSuffix));
}

absl::Status CheckPluginName(std::string_view name, std::string_view what) {
  if (name.empty()) return absl::InvalidArgumentError(absl::StrCat(ToAbsl(what), ": the plugin name is empty"));
  if (name.size() >= MC_MAX_NAME_BYTES) {
    return absl::InvalidArgumentError(absl::StrCat(ToAbsl(what), ": plugin name '", ToAbsl(name), "' is longer than ",
                                                   MC_MAX_NAME_BYTES - 1, " characters"));
  }
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    bool ok = absl::ascii_islower(c) || absl::ascii_isdigit(c) || (i > 0 && (c == '_' || c == '-'));
    if (!ok) {
      return absl::InvalidArgumentError(
          absl::StrCat(ToAbsl(what), ": plugin name '", ToAbsl(name), "' has a bad character at position ", i + 1,
                       " (names are lower-case letters, digits, '_' and '-', starting with a letter or digit)"));
    }
  }
  return absl::OkStatus();
}

std::vector<std::string> PluginSearchPath() {
  std::vector<std::string> dirs;
  absl::StatusOr<std::string> env = config::GetString("MC_PLUGIN_PATH");
  if (env.ok()) {
    for (absl::string_view dir : absl::StrSplit(*env, ':', absl::SkipEmpty())) AddUnique(dirs, std::string(dir));
  }
  AddUnique(dirs, MC_INSTALL_PLUGIN_DIR);
  std::string own = DirectoryOfThisLibrary();
  if (!own.empty()) {
    AddUnique(dirs, own);
    AddUnique(dirs, absl::StrCat(own == "/" ? "" : own, "/mooncomm"));
  }
  return dirs;
}

absl::StatusOr<std::string> FindPluginFile(std::string_view name) {
  std::string file = PluginFileName(name);
  std::vector<std::string> dirs = PluginSearchPath();
  for (const std::string& dir : dirs) {
    std::string path = absl::StrCat(dir, "/", file);
    if (IsRegularFile(path)) return path;
  }
  std::vector<std::string> builtin;
  for (const mc_plugin_v1_t* plugin : BuiltinPlugins()) builtin.emplace_back(plugin->name);
  return absl::NotFoundError(absl::StrCat("transport plugin '", ToAbsl(name), "' not found: it is not built in (",
                                          absl::StrJoin(builtin, ", "), ") and no file ", file,
                                          " is in any of these directories: ", absl::StrJoin(dirs, ", "),
                                          " (set MC_PLUGIN_PATH to add directories)"));
}

std::vector<std::string> AvailablePluginNames() {
  std::vector<std::string> names;
  for (const mc_plugin_v1_t* plugin : BuiltinPlugins()) names.emplace_back(plugin->name);
  for (const std::string& dir : PluginSearchPath()) {
    for (std::string& name : PluginNamesIn(dir)) {
      if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(std::move(name));
    }
  }
  return names;
}

}  // namespace mc
