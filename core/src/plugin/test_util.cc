#include "plugin/test_util.h"

#include <dirent.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "common/absl_compat.h"
#include "gtest/gtest.h"

#ifndef MC_TEST_PLUGIN_DIR
#error "MC_TEST_PLUGIN_DIR must name the directory the test plugins are built in"
#endif

namespace mc::testing {

ScopedEnv::ScopedEnv(std::string name, std::optional<std::string> value) : name_(std::move(name)) {
  if (const char* old = std::getenv(name_.c_str())) old_ = old;
  if (value) {
    setenv(name_.c_str(), value->c_str(), 1);
  } else {
    unsetenv(name_.c_str());
  }
}

ScopedEnv::~ScopedEnv() {
  if (old_) {
    setenv(name_.c_str(), old_->c_str(), 1);
  } else {
    unsetenv(name_.c_str());
  }
}

TempDir::TempDir() {
  const char* tmp = std::getenv("TMPDIR");
  std::string pattern = absl::StrCat(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp", "/mc_plugin_test.XXXXXX");
  if (mkdtemp(pattern.data()) == nullptr) {
    ADD_FAILURE() << "mkdtemp(" << pattern << ") failed";
  }
  path_ = pattern;
}

TempDir::~TempDir() {
  if (DIR* d = opendir(path_.c_str())) {
    while (struct dirent* e = readdir(d)) {
      std::string name = e->d_name;
      if (name != "." && name != "..") unlink(absl::StrCat(path_, "/", name).c_str());
    }
    closedir(d);
  }
  rmdir(path_.c_str());
}

std::string TempDir::WriteFile(std::string_view name, std::string_view contents) const {
  std::string file = absl::StrCat(path_, "/", ToAbsl(name));
  std::ofstream out(file, std::ios::binary);
  out << contents;
  if (!out) ADD_FAILURE() << "cannot write " << file;
  return file;
}

std::string TempDir::Symlink(std::string_view name, const std::string& target) const {
  std::string link = absl::StrCat(path_, "/", ToAbsl(name));
  if (symlink(target.c_str(), link.c_str()) != 0) ADD_FAILURE() << "cannot symlink " << link;
  return link;
}

std::string TestPluginDir(std::string_view subdir) { return absl::StrCat(MC_TEST_PLUGIN_DIR, "/", ToAbsl(subdir)); }

std::string TestPluginFile(std::string_view subdir, std::string_view name) {
  return absl::StrCat(TestPluginDir(subdir), "/libmooncomm-", ToAbsl(name), ".so");
}

mc_transport_v1_t UnsupportedTransport() {
  mc_transport_v1_t t{};
  t.init = [](const mc_host_v1_t*, void**, char*, size_t) { return MC_ERR_UNSUPPORTED; };
  t.finalize = [](void*) { return MC_ERR_UNSUPPORTED; };
  t.device_count = [](void*, int*) { return MC_ERR_UNSUPPORTED; };
  t.listen = [](void*, int, void*, size_t*, void**) { return MC_ERR_UNSUPPORTED; };
  t.accept = [](void*, void**, void*, size_t*) { return MC_ERR_UNSUPPORTED; };
  t.close_listener = [](void*) { return MC_ERR_UNSUPPORTED; };
  t.connect = [](void*, int, const void*, size_t, const void*, size_t, void**) { return MC_ERR_UNSUPPORTED; };
  t.isend = [](void*, uint64_t, const void*, size_t, void*, void**) { return MC_ERR_UNSUPPORTED; };
  t.irecv = [](void*, uint64_t, void*, size_t, void*, void**) { return MC_ERR_UNSUPPORTED; };
  t.iput = [](void*, const void*, size_t, void*, uint64_t, void*, uint64_t, void**) { return MC_ERR_UNSUPPORTED; };
  t.test = [](void*, int*, mc_completion_v1_t*) { return MC_ERR_UNSUPPORTED; };
  t.poll_notification = [](void*, mc_notification_v1_t*) { return MC_ERR_UNSUPPORTED; };
  t.progress = [](void*) { return MC_ERR_UNSUPPORTED; };
  t.close = [](void*) { return MC_ERR_UNSUPPORTED; };
  return t;
}

mc_memory_v1_t UnsupportedMemory() {
  mc_memory_v1_t m{};
  m.reg = [](void*, void*, size_t, mc_mem_kind_t, void**) { return MC_ERR_UNSUPPORTED; };
  m.dereg = [](void*, void*) { return MC_ERR_UNSUPPORTED; };
  m.pack_rkey = [](void*, void*, void*, size_t*) { return MC_ERR_UNSUPPORTED; };
  m.unpack_rkey = [](void*, const void*, size_t, void**) { return MC_ERR_UNSUPPORTED; };
  m.release_rkey = [](void*) { return MC_ERR_UNSUPPORTED; };
  return m;
}

mc_topology_v1_t UnsupportedTopology() {
  mc_topology_v1_t t{};
  t.device_props = [](void*, int, mc_device_props_v1_t*) { return MC_ERR_UNSUPPORTED; };
  return t;
}

}  // namespace mc::testing
