// LoadPlugin: built-ins by name, plugin files by name or path.
#include "plugin/loader.h"

#include <dlfcn.h>
#include <sys/stat.h>

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/absl_compat.h"
#include "plugin/search_path.h"
#include "plugin/validate.h"
#include "transports/builtin.h"

namespace mc {
namespace {

// One ABI version this core can use: the symbol a plugin exports for it and
// how that struct becomes the core's view of a plugin (today the v1 struct
// itself). When v2 arrives, the core's view becomes the v2 struct, an entry
// {2, "mc_plugin_v2", UseV2} goes first, and v1's `adapt` becomes a shim that
// wraps a v1 struct in a v2 one (kept alive with LoadedPlugin::library).
struct KnownAbi {
  uint32_t version;
  const char* symbol;
  absl::StatusOr<const mc_plugin_v1_t*> (*adapt)(const void* exported, const std::string& path);
};

absl::StatusOr<const mc_plugin_v1_t*> UseV1(const void* exported, const std::string& path) {
  const auto* plugin = static_cast<const mc_plugin_v1_t*>(exported);
  if (plugin->abi_version != 1) {
    return absl::FailedPreconditionError(absl::StrCat(
        path, ": symbol ", MC_PLUGIN_SYMBOL_V1, " holds a struct whose abi_version is ", plugin->abi_version,
        ", but a ", MC_PLUGIN_SYMBOL_V1, " struct must say 1 (the plugin was built inconsistently)"));
  }
  return plugin;
}

// Newest first: the loader takes the first one a file exports.
constexpr KnownAbi kKnownAbis[] = {{1, MC_PLUGIN_SYMBOL_V1, &UseV1}};
constexpr uint32_t kNewestKnownAbi = 1;
// Versions above the newest known one that are probed only to explain a refusal.
constexpr uint32_t kNewestProbedAbi = 9;

std::string KnownVersionsText() {
  std::vector<uint32_t> versions;
  for (const KnownAbi& abi : kKnownAbis) versions.push_back(abi.version);
  return absl::StrJoin(versions, ", ");
}

std::string KnownSymbolsText() {
  std::vector<std::string> symbols;
  for (const KnownAbi& abi : kKnownAbis) symbols.emplace_back(abi.symbol);
  return absl::StrJoin(symbols, ", ");
}

// The error for a file that exports no symbol this core knows.
absl::Status NoKnownSymbolError(void* handle, const std::string& path) {
  std::vector<std::string> newer;
  for (uint32_t v = kNewestKnownAbi + 1; v <= kNewestProbedAbi; ++v) {
    std::string symbol = absl::StrCat("mc_plugin_v", v);
    if (dlsym(handle, symbol.c_str()) != nullptr) newer.push_back(symbol);
  }
  if (newer.empty()) {
    return absl::FailedPreconditionError(absl::StrCat(path, " exports none of ", KnownSymbolsText(),
                                                      " (this MoonComm knows ABI versions ", KnownVersionsText(),
                                                      "); it is not a MoonComm transport plugin"));
  }
  return absl::FailedPreconditionError(absl::StrCat(path, " exports ", absl::StrJoin(newer, ", "),
                                                    " only; this MoonComm supports ABI version ", KnownVersionsText(),
                                                    "; rebuild the plugin against this MoonComm or upgrade MoonComm"));
}

absl::Status CheckNameMatches(const mc_plugin_v1_t& plugin, std::string_view expected, const std::string& path) {
  if (expected.empty() || expected == plugin.name) return absl::OkStatus();
  return absl::FailedPreconditionError(absl::StrCat(path, " was loaded as transport '", ToAbsl(expected),
                                                    "' but its mc_plugin_v1.name is '", plugin.name,
                                                    "'; the file name must be ", PluginFileName(plugin.name)));
}

// dlopens `path` and finds its newest known plugin struct. `expected_name`
// is the name the file was looked up by ("" when opened by path).
absl::StatusOr<LoadedPlugin> OpenPluginFile(const std::string& path, std::string_view expected_name) {
  dlerror();  // clear a stale error
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* why = dlerror();
    return absl::FailedPreconditionError(
        absl::StrCat("cannot load transport plugin ", path, ": dlopen failed: ", why ? why : "unknown error"));
  }
  std::shared_ptr<void> library(handle, [](void* h) { dlclose(h); });
  for (const KnownAbi& abi : kKnownAbis) {
    const void* exported = dlsym(handle, abi.symbol);
    if (exported == nullptr) continue;
    absl::StatusOr<const mc_plugin_v1_t*> plugin = abi.adapt(exported, path);
    if (!plugin.ok()) return plugin.status();
    if (absl::Status s = ValidatePluginV1(*plugin, path); !s.ok()) return s;
    if (absl::Status s = CheckNameMatches(**plugin, expected_name, path); !s.ok()) return s;
    return LoadedPlugin{*plugin, (*plugin)->name, path, abi.version, std::move(library)};
  }
  return NoKnownSymbolError(handle, path);
}

absl::StatusOr<LoadedPlugin> LoadFromPath(const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) {
    return absl::NotFoundError(absl::StrCat("transport plugin file ", path, " does not exist"));
  }
  if (!S_ISREG(st.st_mode)) {
    return absl::FailedPreconditionError(absl::StrCat("transport plugin ", path, " is not a regular file"));
  }
  return OpenPluginFile(path, "");
}

}  // namespace

absl::StatusOr<LoadedPlugin> LoadPlugin(std::string_view name_or_path) {
  if (absl::StrContains(ToAbsl(name_or_path), '/')) return LoadFromPath(std::string(name_or_path));
  if (absl::Status s = CheckPluginName(name_or_path, "cannot load a transport plugin"); !s.ok()) {
    if (absl::StrContains(ToAbsl(name_or_path), '.')) {
      return absl::InvalidArgumentError(absl::StrCat(s.message(), "; to open a file give a path with a '/'"));
    }
    return s;
  }
  for (const mc_plugin_v1_t* builtin : BuiltinPlugins()) {
    if (builtin->name == nullptr || name_or_path != builtin->name) continue;
    std::string where = absl::StrCat("built-in transport '", ToAbsl(name_or_path), "'");
    if (builtin->abi_version != MC_PLUGIN_ABI_VERSION) {
      return absl::FailedPreconditionError(
          absl::StrCat(where, " has abi_version ", builtin->abi_version, ", expected ", MC_PLUGIN_ABI_VERSION));
    }
    if (absl::Status s = ValidatePluginV1(builtin, where); !s.ok()) return s;
    return LoadedPlugin{builtin, builtin->name, "built-in", MC_PLUGIN_ABI_VERSION, nullptr};
  }
  absl::StatusOr<std::string> path = FindPluginFile(name_or_path);
  if (!path.ok()) return path.status();
  return OpenPluginFile(*path, name_or_path);
}

}  // namespace mc
