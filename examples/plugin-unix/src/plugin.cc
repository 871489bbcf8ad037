// The unixdemo transport's ABI surface: the exported mc_plugin_v1 struct and
// one small function per table entry. Each checks its arguments -- a bad one
// is MC_ERR_INVALID_ARG, never a crash and never a write through a bad
// pointer -- and forwards to Context, Listener or Endpoint.
//
// Nothing here may throw: the plugin is built with -fno-exceptions, so an
// exception can never cross into the core's C frames.
#include <cstdio>
#include <cstring>
#include <string>

#include "context.h"
#include "endpoint.h"
#include "listener.h"
#include "memory.h"
#include "mooncomm/plugin_abi.h"
#include "params.h"
#include "request.h"
#include "wire.h"

namespace unixdemo {
namespace {

// ---- handles: a void* from the core back to our object, or nullptr ----

Context* AsContext(void* ctx) {
  auto* c = static_cast<Context*>(ctx);
  return c != nullptr && c->valid() ? c : nullptr;
}

Listener* AsListener(void* listener) {
  auto* l = static_cast<Listener*>(listener);
  return l != nullptr && l->valid() ? l : nullptr;
}

Endpoint* AsEndpoint(void* ep) {
  auto* e = static_cast<Endpoint*>(ep);
  return e != nullptr && e->valid() ? e : nullptr;
}

Request* AsRequest(void* req) {
  auto* r = static_cast<Request*>(req);
  return r != nullptr && r->magic == Request::kMagic ? r : nullptr;
}

Registration* AsRegistration(Context* ctx, void* mr) {
  auto* m = static_cast<Registration*>(mr);
  return m != nullptr && m->magic == Registration::kMagic && ctx->Owns(m) ? m : nullptr;
}

RemoteKey* AsRemoteKey(void* rkey) {
  auto* k = static_cast<RemoteKey*>(rkey);
  return k != nullptr && k->magic == RemoteKey::kMagic ? k : nullptr;
}

// unixdemo has exactly one device: the host's Unix socket layer.
constexpr int kDeviceCount = 1;

// ---- init / finalize / devices ----

mc_result_t Init(const mc_host_v1_t* host, void** ctx, char* err, size_t err_len) {
  if (host == nullptr || ctx == nullptr || host->log == nullptr || host->get_param == nullptr ||
      host->peer_failed == nullptr) {
    return MC_ERR_INVALID_ARG;
  }
  mc_result_t result = MC_ERR_INTERNAL;
  std::string error;
  std::unique_ptr<Context> created = Context::Create(*host, &result, &error);
  if (created == nullptr) {
    if (err != nullptr && err_len > 0) std::snprintf(err, err_len, "%s", error.c_str());
    return result;
  }
  *ctx = created.release();
  return MC_SUCCESS;
}

mc_result_t Finalize(void* ctx) {
  Context* c = AsContext(ctx);
  if (c == nullptr) return MC_ERR_INVALID_ARG;
  delete c;
  return MC_SUCCESS;
}

mc_result_t DeviceCount(void* ctx, int* count) {
  if (AsContext(ctx) == nullptr || count == nullptr) return MC_ERR_INVALID_ARG;
  *count = kDeviceCount;
  return MC_SUCCESS;
}

mc_result_t DeviceProps(void* ctx, int dev, mc_device_props_v1_t* props) {
  Context* c = AsContext(ctx);
  if (c == nullptr || dev < 0 || dev >= kDeviceCount || props == nullptr) return MC_ERR_INVALID_ARG;
  std::memset(props, 0, sizeof(*props));
  std::snprintf(props->name, sizeof(props->name), "unix");
  props->pci_path[0] = '\0';  // no PCI device behind a Unix socket
  props->numa_node = -1;
  props->rail = 0;
  // Rough figures for a Unix socket on a current CPU; the tuner only needs
  // the order of magnitude.
  props->bandwidth_gbps = 40.0;
  props->latency_us = 5.0;
  props->mem_kinds = MC_MEM_KIND_BIT(MC_MEM_HOST);
  props->same_host_only = 1;
  props->max_message_bytes = c->settings().max_message;
  return MC_SUCCESS;
}

// ---- connections ----

mc_result_t Listen(void* ctx, int dev, void* addr, size_t* addr_len, void** listener) {
  Context* c = AsContext(ctx);
  if (c == nullptr || dev < 0 || dev >= kDeviceCount || addr == nullptr || addr_len == nullptr || listener == nullptr) {
    return MC_ERR_INVALID_ARG;
  }
  Listener* out = nullptr;
  mc_result_t rc = c->Listen(addr, addr_len, &out);
  if (rc == MC_SUCCESS) *listener = out;
  return rc;
}

mc_result_t Accept(void* listener, void** ep, void* hello, size_t* hello_len) {
  Listener* l = AsListener(listener);
  if (l == nullptr || ep == nullptr || hello_len == nullptr || (hello == nullptr && *hello_len > 0)) {
    return MC_ERR_INVALID_ARG;
  }
  l->ctx()->Progress();                   // accepts waiting connections, reads their HELLOs
  if (!l->valid()) return MC_ERR_CLOSED;  // a host callback closed it during progress
  Endpoint* ready = l->NextReady();
  if (ready == nullptr) return MC_AGAIN;
  if (ready->hello().size() > *hello_len) return MC_ERR_NO_MEMORY;  // stays queued for a larger buffer
  if (!ready->hello().empty()) std::memcpy(hello, ready->hello().data(), ready->hello().size());
  *hello_len = ready->hello().size();
  l->Remove(ready);
  ready->MarkHandedOut();
  *ep = ready;
  return MC_SUCCESS;
}

mc_result_t CloseListener(void* listener) {
  Listener* l = AsListener(listener);
  if (l == nullptr) return MC_ERR_INVALID_ARG;
  l->ctx()->CloseListener(l);
  return MC_SUCCESS;
}

mc_result_t Connect(void* ctx, int dev, const void* addr, size_t addr_len, const void* hello, size_t hello_len,
                    void** ep) {
  Context* c = AsContext(ctx);
  if (c == nullptr || dev < 0 || dev >= kDeviceCount || addr == nullptr || addr_len == 0 ||
      addr_len > MC_MAX_ADDR_BYTES || (hello == nullptr && hello_len > 0) || hello_len > MC_MAX_HELLO_BYTES ||
      ep == nullptr) {
    return MC_ERR_INVALID_ARG;
  }
  Endpoint* out = nullptr;
  mc_result_t rc = c->Connect(addr, addr_len, hello, hello_len, &out);
  if (rc == MC_SUCCESS) *ep = out;
  return rc;
}

mc_result_t Close(void* ep) {
  Endpoint* e = AsEndpoint(ep);
  if (e == nullptr) return MC_ERR_INVALID_ARG;
  e->ctx()->CloseEndpoint(e);
  return MC_SUCCESS;
}

// ---- tagged messages and puts ----

// `mr` is accepted and ignored: unixdemo copies through the socket, so it
// needs no registration for the data it sends or receives.
mc_result_t Isend(void* ep, uint64_t tag, const void* buf, size_t len, void* /*mr*/, void** req) {
  Endpoint* e = AsEndpoint(ep);
  if (e == nullptr || (buf == nullptr && len > 0) || req == nullptr) return MC_ERR_INVALID_ARG;
  if (len > e->ctx()->settings().max_message) {
    e->ctx()->Log(MC_LOG_ERROR, "unixdemo: isend of %zu bytes is above MC_UNIXDEMO_MAX_MESSAGE (%llu)", len,
                  static_cast<unsigned long long>(e->ctx()->settings().max_message));
    return MC_ERR_INVALID_ARG;
  }
  Request* out = nullptr;
  mc_result_t rc = e->Send(tag, buf, len, &out);
  if (rc == MC_SUCCESS) *req = out;
  return rc;
}

mc_result_t Irecv(void* ep, uint64_t tag, void* buf, size_t len, void* /*mr*/, void** req) {
  Endpoint* e = AsEndpoint(ep);
  if (e == nullptr || (buf == nullptr && len > 0) || req == nullptr) return MC_ERR_INVALID_ARG;
  Request* out = nullptr;
  mc_result_t rc = e->Recv(tag, buf, len, &out);
  if (rc == MC_SUCCESS) *req = out;
  return rc;
}

mc_result_t Iput(void* ep, const void* buf, size_t len, void* /*mr*/, uint64_t remote_addr, void* rkey, uint64_t notify,
                 void** req) {
  Endpoint* e = AsEndpoint(ep);
  RemoteKey* key = AsRemoteKey(rkey);
  if (e == nullptr || key == nullptr || (buf == nullptr && len > 0) || req == nullptr) return MC_ERR_INVALID_ARG;
  if (key->endpoint_id != e->id()) {
    e->ctx()->Log(MC_LOG_ERROR, "unixdemo: iput with a remote key unpacked for another endpoint");
    return MC_ERR_INVALID_ARG;
  }
  if (len > e->ctx()->settings().max_message) return MC_ERR_INVALID_ARG;
  Request* out = nullptr;
  mc_result_t rc = e->Put(buf, len, remote_addr, key->key, notify, &out);
  if (rc == MC_SUCCESS) *req = out;
  return rc;
}

mc_result_t Test(void* req, int* done, mc_completion_v1_t* completion) {
  Request* r = AsRequest(req);
  if (r == nullptr || done == nullptr) return MC_ERR_INVALID_ARG;
  if (!r->done) r->ctx->Progress();
  if (!r->done) {
    *done = 0;
    return MC_SUCCESS;
  }
  if (completion != nullptr) *completion = r->completion;
  *done = 1;
  r->ctx->FreeRequest(r);  // the handle is dead from here on
  return MC_SUCCESS;
}

mc_result_t PollNotification(void* ep, mc_notification_v1_t* notification) {
  Endpoint* e = AsEndpoint(ep);
  if (e == nullptr || notification == nullptr) return MC_ERR_INVALID_ARG;
  mc_result_t rc = e->PollNotification(notification);
  if (rc != MC_AGAIN) return rc;
  e->ctx()->Progress();
  if (!e->valid()) return MC_ERR_CLOSED;  // a host callback closed it during progress
  return e->PollNotification(notification);
}

mc_result_t Progress(void* ctx) {
  Context* c = AsContext(ctx);
  if (c == nullptr) return MC_ERR_INVALID_ARG;
  c->Progress();
  return MC_SUCCESS;
}

// ---- memory ----

mc_result_t Reg(void* ctx, void* ptr, size_t len, mc_mem_kind_t kind, void** mr) {
  Context* c = AsContext(ctx);
  if (c == nullptr || ptr == nullptr || mr == nullptr) return MC_ERR_INVALID_ARG;
  Registration* out = nullptr;
  mc_result_t rc = c->Register(ptr, len, kind, &out);
  if (rc == MC_SUCCESS) *mr = out;
  return rc;
}

mc_result_t Dereg(void* ctx, void* mr) {
  Context* c = AsContext(ctx);
  if (c == nullptr) return MC_ERR_INVALID_ARG;
  Registration* reg = AsRegistration(c, mr);
  if (reg == nullptr) return MC_ERR_INVALID_ARG;
  c->Deregister(reg);
  return MC_SUCCESS;
}

mc_result_t PackRkey(void* ctx, void* mr, void* buf, size_t* len) {
  Context* c = AsContext(ctx);
  if (c == nullptr || buf == nullptr || len == nullptr) return MC_ERR_INVALID_ARG;
  Registration* reg = AsRegistration(c, mr);
  if (reg == nullptr) return MC_ERR_INVALID_ARG;
  const PackedKey packed{kKeyMagic, kKeyVersion, reg->key};
  if (*len < sizeof(packed)) return MC_ERR_NO_MEMORY;
  std::memcpy(buf, &packed, sizeof(packed));
  *len = sizeof(packed);
  return MC_SUCCESS;
}

mc_result_t UnpackRkey(void* ep, const void* buf, size_t len, void** rkey) {
  Endpoint* e = AsEndpoint(ep);
  if (e == nullptr || buf == nullptr || len == 0 || len > MC_MAX_RKEY_BYTES || rkey == nullptr) {
    return MC_ERR_INVALID_ARG;
  }
  PackedKey packed;
  if (len != sizeof(packed)) return MC_ERR_INVALID_ARG;
  std::memcpy(&packed, buf, sizeof(packed));
  if (packed.magic != kKeyMagic || packed.version != kKeyVersion) return MC_ERR_INVALID_ARG;
  *rkey = e->ctx()->NewRemoteKey(e->id(), packed.key);
  return MC_SUCCESS;
}

mc_result_t ReleaseRkey(void* rkey) {
  RemoteKey* key = AsRemoteKey(rkey);
  if (key == nullptr) return MC_ERR_INVALID_ARG;
  return key->ctx->ReleaseRemoteKey(key) ? MC_SUCCESS : MC_ERR_INVALID_ARG;
}

// ---- the tables ----
// Designated initializers (C++20, in declaration order) name every slot, so a
// function cannot land in the wrong one; the loader rejects a NULL slot.

const mc_transport_v1_t kTransport = {
    .init = Init,
    .finalize = Finalize,
    .device_count = DeviceCount,
    .listen = Listen,
    .accept = Accept,
    .close_listener = CloseListener,
    .connect = Connect,
    .isend = Isend,
    .irecv = Irecv,
    .iput = Iput,
    .test = Test,
    .poll_notification = PollNotification,
    .progress = Progress,
    .close = Close,
};
const mc_memory_v1_t kMemory = {
    .reg = Reg,
    .dereg = Dereg,
    .pack_rkey = PackRkey,
    .unpack_rkey = UnpackRkey,
    .release_rkey = ReleaseRkey,
};
const mc_topology_v1_t kTopology = {.device_props = DeviceProps};

}  // namespace
}  // namespace unixdemo

// The one symbol the core looks for (MC_PLUGIN_SYMBOL_V1). The build hides
// every other symbol; this one is exported on purpose.
extern "C" __attribute__((visibility("default"))) const mc_plugin_v1_t mc_plugin_v1 = {
    // The version of this struct: always 1 in mc_plugin_v1. Not
    // MC_PLUGIN_ABI_VERSION: that names the newest version the header
    // describes, and moves on when a v2 arrives.
    .abi_version = 1,
    .name = "unixdemo",  // MC_TRANSPORT=unixdemo; the file must be libmooncomm-unixdemo.so
    .version = "0.1.0",
    .params = unixdemo::kParams,
    .num_params = unixdemo::kNumParams,
    .transport = &unixdemo::kTransport,
    .memory = &unixdemo::kMemory,
    .topology = &unixdemo::kTopology,
};
