// A plugin in two files, for plugins whose library is costly or unwelcome to
// load where it will not run (ucx, efa). The file the core loads,
// libmooncomm-<name>.so, is built from a small loader that includes this
// header and links neither the fabric library nor the plugin's code. Its init
// runs a cheap check first (params, and whether this host can have a device at
// all) and answers MC_ERR_NO_DEVICE from it; only when the check passes does
// it load the implementation, lib<impl>.so from the same directory (the real
// plugin, exporting the real mc_plugin_v1), and hand init over. Every other
// entry forwards to the implementation's table.
//
// MC_TRANSPORT=auto and mc_info load every plugin they find, so without this
// every such process would load, and then unload, the fabric library: UCX's
// memory hooks and constructors, libfabric's provider libraries (Debian's
// libpsm2 and libpsm_infinipath take about 0.1 s each to load, and
// LeakSanitizer reports their constructors' allocations once they are
// unloaded). The implementation stays loaded once loaded (RTLD_NODELETE).
//
// The implementation's file name must not start with "libmooncomm-", so that
// the core's plugin search never takes it for a plugin of its own.
//
// Use: struct Traits { static constexpr const char* kImplFile = "...";
//   static mc_result_t Precheck(const mc_host_v1_t& host, std::string* why); };
// then LazyPlugin<Traits>::kTransport / kMemory / kTopology in mc_plugin_v1.
#ifndef MOONCOMM_PLUGINS_LAZY_PLUGIN_H_
#define MOONCOMM_PLUGINS_LAZY_PLUGIN_H_

#include <dlfcn.h>

#include <atomic>
#include <cstdio>
#include <mutex>
#include <string>

#include "mooncomm/plugin_abi.h"

namespace mc::plugins {

template <class Traits>
class LazyPlugin {
 public:
  static const mc_transport_v1_t kTransport;
  static const mc_memory_v1_t kMemory;
  static const mc_topology_v1_t kTopology;

 private:
  static inline std::mutex load_mu_;
  static inline std::atomic<const mc_plugin_v1_t*> impl_{nullptr};

  static const mc_plugin_v1_t* Impl() { return impl_.load(std::memory_order_acquire); }

  static std::string OwnDirectory() {
    Dl_info info;
    if (dladdr(reinterpret_cast<void*>(&OwnDirectory), &info) == 0 || info.dli_fname == nullptr) return ".";
    const std::string file = info.dli_fname;
    const size_t slash = file.rfind('/');
    if (slash == std::string::npos) return ".";
    return slash == 0 ? "/" : file.substr(0, slash);
  }

  static const mc_plugin_v1_t* LoadImpl(std::string* why) {
    std::lock_guard<std::mutex> lock(load_mu_);
    if (const mc_plugin_v1_t* loaded = Impl()) return loaded;
    const std::string path = OwnDirectory() + "/" + Traits::kImplFile;
    void* library = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
    if (library == nullptr) {
      const char* error = dlerror();
      *why = "cannot load the plugin's implementation: " + std::string(error != nullptr ? error : path);
      return nullptr;
    }
    const auto* table = static_cast<const mc_plugin_v1_t*>(dlsym(library, MC_PLUGIN_SYMBOL_V1));
    if (table == nullptr || table->abi_version != 1 || table->transport == nullptr || table->memory == nullptr ||
        table->topology == nullptr) {
      *why = path + " has no usable " + MC_PLUGIN_SYMBOL_V1 + " (a mismatched build?)";
      return nullptr;
    }
    impl_.store(table, std::memory_order_release);
    return table;
  }

  static mc_result_t Init(const mc_host_v1_t* host, void** ctx, char* err, size_t err_len) {
    if (host == nullptr || ctx == nullptr) return MC_ERR_INVALID_ARG;
    std::string why;
    mc_result_t rc = Traits::Precheck(*host, &why);
    const mc_plugin_v1_t* impl = rc == MC_SUCCESS ? LoadImpl(&why) : nullptr;
    if (rc == MC_SUCCESS && impl == nullptr) rc = MC_ERR_NO_DEVICE;  // the libraries it needs are missing here
    if (rc != MC_SUCCESS) {
      if (err != nullptr && err_len > 0) std::snprintf(err, err_len, "%s", why.c_str());
      return rc;
    }
    return impl->transport->init(host, ctx, err, err_len);
  }

  // Before a successful init there is no handle the implementation could know.
#define MC_LAZY_FORWARD(table, entry, ...)        \
  const mc_plugin_v1_t* impl = Impl();            \
  if (impl == nullptr) return MC_ERR_INVALID_ARG; \
  return impl->table->entry(__VA_ARGS__)

  static mc_result_t Finalize(void* ctx) { MC_LAZY_FORWARD(transport, finalize, ctx); }
  static mc_result_t DeviceCount(void* ctx, int* count) { MC_LAZY_FORWARD(transport, device_count, ctx, count); }
  static mc_result_t Listen(void* ctx, int dev, void* addr, size_t* addr_len, void** listener) {
    MC_LAZY_FORWARD(transport, listen, ctx, dev, addr, addr_len, listener);
  }
  static mc_result_t Accept(void* listener, void** ep, void* hello, size_t* hello_len) {
    MC_LAZY_FORWARD(transport, accept, listener, ep, hello, hello_len);
  }
  static mc_result_t CloseListener(void* listener) { MC_LAZY_FORWARD(transport, close_listener, listener); }
  static mc_result_t Connect(void* ctx, int dev, const void* addr, size_t addr_len, const void* hello,
                             size_t hello_len, void** ep) {
    MC_LAZY_FORWARD(transport, connect, ctx, dev, addr, addr_len, hello, hello_len, ep);
  }
  static mc_result_t Isend(void* ep, uint64_t tag, const void* buf, size_t len, void* mr, void** req) {
    MC_LAZY_FORWARD(transport, isend, ep, tag, buf, len, mr, req);
  }
  static mc_result_t Irecv(void* ep, uint64_t tag, void* buf, size_t len, void* mr, void** req) {
    MC_LAZY_FORWARD(transport, irecv, ep, tag, buf, len, mr, req);
  }
  static mc_result_t Iput(void* ep, const void* buf, size_t len, void* mr, uint64_t remote_addr, void* rkey,
                          uint64_t notify, void** req) {
    MC_LAZY_FORWARD(transport, iput, ep, buf, len, mr, remote_addr, rkey, notify, req);
  }
  static mc_result_t Test(void* req, int* done, mc_completion_v1_t* completion) {
    MC_LAZY_FORWARD(transport, test, req, done, completion);
  }
  static mc_result_t PollNotification(void* ep, mc_notification_v1_t* notification) {
    MC_LAZY_FORWARD(transport, poll_notification, ep, notification);
  }
  static mc_result_t Progress(void* ctx) { MC_LAZY_FORWARD(transport, progress, ctx); }
  static mc_result_t Close(void* ep) { MC_LAZY_FORWARD(transport, close, ep); }
  static mc_result_t Reg(void* ctx, void* ptr, size_t len, mc_mem_kind_t kind, void** mr) {
    MC_LAZY_FORWARD(memory, reg, ctx, ptr, len, kind, mr);
  }
  static mc_result_t Dereg(void* ctx, void* mr) { MC_LAZY_FORWARD(memory, dereg, ctx, mr); }
  static mc_result_t PackRkey(void* ctx, void* mr, void* buf, size_t* len) {
    MC_LAZY_FORWARD(memory, pack_rkey, ctx, mr, buf, len);
  }
  static mc_result_t UnpackRkey(void* ep, const void* buf, size_t len, void** rkey) {
    MC_LAZY_FORWARD(memory, unpack_rkey, ep, buf, len, rkey);
  }
  static mc_result_t ReleaseRkey(void* rkey) { MC_LAZY_FORWARD(memory, release_rkey, rkey); }
  static mc_result_t DeviceProps(void* ctx, int dev, mc_device_props_v1_t* props) {
    MC_LAZY_FORWARD(topology, device_props, ctx, dev, props);
  }
#undef MC_LAZY_FORWARD
};

template <class Traits>
const mc_transport_v1_t LazyPlugin<Traits>::kTransport = {
    .init = &Init,
    .finalize = &Finalize,
    .device_count = &DeviceCount,
    .listen = &Listen,
    .accept = &Accept,
    .close_listener = &CloseListener,
    .connect = &Connect,
    .isend = &Isend,
    .irecv = &Irecv,
    .iput = &Iput,
    .test = &Test,
    .poll_notification = &PollNotification,
    .progress = &Progress,
    .close = &Close,
};

template <class Traits>
const mc_memory_v1_t LazyPlugin<Traits>::kMemory = {
    .reg = &Reg,
    .dereg = &Dereg,
    .pack_rkey = &PackRkey,
    .unpack_rkey = &UnpackRkey,
    .release_rkey = &ReleaseRkey,
};

template <class Traits>
const mc_topology_v1_t LazyPlugin<Traits>::kTopology = {.device_props = &DeviceProps};

}  // namespace mc::plugins

#endif  // MOONCOMM_PLUGINS_LAZY_PLUGIN_H_
