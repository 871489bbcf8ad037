// Helpers for the plugin area's tests.
#ifndef MOONCOMM_SRC_PLUGIN_TEST_UTIL_H_
#define MOONCOMM_SRC_PLUGIN_TEST_UTIL_H_

#include <optional>
#include <string>
#include <string_view>

#include "mooncomm/plugin_abi.h"

namespace mc::testing {

// Sets (or, with nullopt, unsets) one environment variable for a scope and
// restores the old state after.
class ScopedEnv {
 public:
  ScopedEnv(std::string name, std::optional<std::string> value);
  ~ScopedEnv();
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  std::string name_;
  std::optional<std::string> old_;
};

// A fresh directory under $TMPDIR, removed with its files at scope exit.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  // Writes `contents` to path()/name; returns the full path.
  std::string WriteFile(std::string_view name, std::string_view contents) const;
  // Makes path()/name a symlink to `target`; returns the full path.
  std::string Symlink(std::string_view name, const std::string& target) const;

 private:
  std::string path_;
};

// The file of a test plugin built by core/src/plugin/CMakeLists.txt.
std::string TestPluginFile(std::string_view subdir, std::string_view name);
std::string TestPluginDir(std::string_view subdir);

// Plugin tables whose every function answers MC_ERR_UNSUPPORTED, for tests
// that build a plugin struct in-process and override a few entries.
mc_transport_v1_t UnsupportedTransport();
mc_memory_v1_t UnsupportedMemory();
mc_topology_v1_t UnsupportedTopology();

}  // namespace mc::testing

#endif  // MOONCOMM_SRC_PLUGIN_TEST_UTIL_H_
