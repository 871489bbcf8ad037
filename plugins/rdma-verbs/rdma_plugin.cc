// The rdma plugin's C ABI: thin functions that check their handles and
// forward to RdmaContext, Connection, Listener and Endpoint.
#include "rdma_plugin.h"

#include <cstdio>
#include <cstring>

#include "connection.h"
#include "context.h"
#include "listener.h"
#include "params.h"
#include "plugin_factory.h"

#ifndef MC_RDMA_VERSION
#define MC_RDMA_VERSION "0.1.0"
#endif

namespace mc::rdma {
namespace {

RdmaContext* AsContext(void* ctx) {
  auto* c = static_cast<RdmaContext*>(ctx);
  return c != nullptr && c->valid() ? c : nullptr;
}

Connection* AsConnection(void* ep) {
  auto* c = static_cast<Connection*>(ep);
  return c != nullptr && c->valid() && !c->dead() && c->endpoint() != nullptr ? c : nullptr;
}

Listener* AsListener(void* listener) {
  auto* l = static_cast<Listener*>(listener);
  return l != nullptr && l->valid() && !l->dead() ? l : nullptr;
}

// The caller's registration for [buf, buf + len) on the connection's device;
// false when `mr` is not a live registration covering that range.
bool ResolveRegistration(Connection* c, void* mr, const void* buf, size_t len, const MemoryRegion** out) {
  *out = nullptr;
  if (mr == nullptr) return true;
  auto* reg = static_cast<UserRegistration*>(mr);
  if (!c->ctx()->IsLiveRegistration(reg) || reg->magic != UserRegistration::kMagic) return false;
  const char* p = static_cast<const char*>(buf);
  if (len > 0 && (p < reg->ptr || len > reg->len || static_cast<size_t>(p - reg->ptr) > reg->len - len)) {
    return false;
  }
  for (const auto& [domain, region] : reg->regions) {
    if (domain == c->port()->domain()) *out = &region;
  }
  return *out != nullptr;
}

mc_result_t Init(const mc_host_v1_t* host, void** ctx, char* err, size_t err_len) {
  if (host == nullptr || ctx == nullptr) return MC_ERR_INVALID_ARG;
  StatusOr<std::unique_ptr<RdmaContext>> created = OpenContext(*host);
  if (!created.ok()) {
    if (err != nullptr && err_len > 0) std::snprintf(err, err_len, "%s", created.status().message().c_str());
    return created.status().code();
  }
  *ctx = created->release();
  return MC_SUCCESS;
}

mc_result_t Finalize(void* ctx) {
  RdmaContext* c = AsContext(ctx);
  if (c == nullptr) return MC_ERR_INVALID_ARG;
  delete c;
  return MC_SUCCESS;
}

mc_result_t DeviceCount(void* ctx, int* count) {
  RdmaContext* c = AsContext(ctx);
  if (c == nullptr || count == nullptr) return MC_ERR_INVALID_ARG;
  *count = c->device_count();
  return MC_SUCCESS;
}

mc_result_t Listen(void* ctx, int dev, void* addr, size_t* addr_len, void** listener) {
  RdmaContext* c = AsContext(ctx);
  if (c == nullptr || listener == nullptr) return MC_ERR_INVALID_ARG;
  Listener* out = nullptr;
  mc_result_t r = c->Listen(dev, addr, addr_len, &out);
  if (r == MC_SUCCESS) *listener = out;
  return r;
}

mc_result_t Accept(void* listener, void** ep, void* hello, size_t* hello_len) {
  Listener* l = AsListener(listener);
  if (l == nullptr || ep == nullptr || hello_len == nullptr || (hello == nullptr && *hello_len > 0)) {
    return MC_ERR_INVALID_ARG;
  }
  l->ctx()->Progress();
  if (l->dead()) return MC_ERR_CLOSED;  // closed from a host callback during progress
  Connection* out = nullptr;
  mc_result_t r = l->Accept(&out, hello, hello_len);
  if (r == MC_SUCCESS) *ep = out;
  return r;
}

mc_result_t CloseListener(void* listener) {
  Listener* l = AsListener(listener);
  if (l == nullptr) return MC_ERR_INVALID_ARG;
  l->ctx()->CloseListener(l);
  return MC_SUCCESS;
}

mc_result_t Connect(void* ctx, int dev, const void* addr, size_t addr_len, const void* hello, size_t hello_len,
                    void** ep) {
  RdmaContext* c = AsContext(ctx);
  if (c == nullptr || ep == nullptr) return MC_ERR_INVALID_ARG;
  Connection* out = nullptr;
  mc_result_t r = c->Connect(dev, addr, addr_len, hello, hello_len, &out);
  if (r == MC_SUCCESS) *ep = out;
  return r;
}

mc_result_t Isend(void* ep, uint64_t tag, const void* buf, size_t len, void* mr, void** req) {
  Connection* c = AsConnection(ep);
  const MemoryRegion* region = nullptr;
  if (c == nullptr || req == nullptr || !ResolveRegistration(c, mr, buf, len, &region)) return MC_ERR_INVALID_ARG;
  Request* out = nullptr;
  mc_result_t r = c->endpoint()->Send(tag, buf, len, region, &out);
  if (r == MC_SUCCESS) *req = out;
  return r;
}

mc_result_t Irecv(void* ep, uint64_t tag, void* buf, size_t len, void* mr, void** req) {
  Connection* c = AsConnection(ep);
  const MemoryRegion* region = nullptr;
  if (c == nullptr || req == nullptr || !ResolveRegistration(c, mr, buf, len, &region)) return MC_ERR_INVALID_ARG;
  Request* out = nullptr;
  mc_result_t r = c->endpoint()->Recv(tag, buf, len, region, &out);
  if (r == MC_SUCCESS) *req = out;
  return r;
}

mc_result_t Iput(void* ep, const void* buf, size_t len, void* mr, uint64_t remote_addr, void* rkey, uint64_t notify,
                 void** req) {
  Connection* c = AsConnection(ep);
  auto* key = static_cast<RemoteKey*>(rkey);
  const MemoryRegion* region = nullptr;
  if (c == nullptr || key == nullptr || key->magic != RemoteKey::kMagic || req == nullptr ||
      !ResolveRegistration(c, mr, buf, len, &region)) {
    return MC_ERR_INVALID_ARG;
  }
  if (key->connection != c) {
    c->ctx()->Log(MC_LOG_ERROR, "rdma: iput with a remote key unpacked for another endpoint");
    return MC_ERR_INVALID_ARG;
  }
  Request* out = nullptr;
  mc_result_t r = c->endpoint()->Put(buf, len, region, remote_addr, key->key, notify, &out);
  if (r == MC_SUCCESS) *req = out;
  return r;
}

mc_result_t Test(void* req, int* done, mc_completion_v1_t* completion) {
  auto* r = static_cast<Request*>(req);
  if (r == nullptr || r->magic != Request::kMagic || done == nullptr) return MC_ERR_INVALID_ARG;
  if (!r->done) r->pool->Progress();
  if (!r->done) {
    *done = 0;
    return MC_SUCCESS;
  }
  if (completion != nullptr) *completion = r->completion;
  *done = 1;
  r->pool->Free(r);
  return MC_SUCCESS;
}

mc_result_t PollNotification(void* ep, mc_notification_v1_t* notification) {
  Connection* c = AsConnection(ep);
  if (c == nullptr || notification == nullptr) return MC_ERR_INVALID_ARG;
  mc_result_t r = c->endpoint()->PollNotification(notification);
  if (r != MC_AGAIN) return r;
  c->ctx()->Progress();
  if (c->dead()) return MC_ERR_CLOSED;  // closed from a host callback during progress
  return c->endpoint()->PollNotification(notification);
}

mc_result_t Progress(void* ctx) {
  RdmaContext* c = AsContext(ctx);
  if (c == nullptr) return MC_ERR_INVALID_ARG;
  return c->Progress();
}

mc_result_t Close(void* ep) {
  Connection* c = AsConnection(ep);
  if (c == nullptr) return MC_ERR_INVALID_ARG;
  c->ctx()->CloseConnection(c);
  return MC_SUCCESS;
}

mc_result_t Reg(void* ctx, void* ptr, size_t len, mc_mem_kind_t kind, void** mr) {
  RdmaContext* c = AsContext(ctx);
  if (c == nullptr || mr == nullptr) return MC_ERR_INVALID_ARG;
  UserRegistration* out = nullptr;
  mc_result_t r = c->Register(ptr, len, kind, &out);
  if (r == MC_SUCCESS) *mr = out;
  return r;
}

mc_result_t Dereg(void* ctx, void* mr) {
  RdmaContext* c = AsContext(ctx);
  if (c == nullptr || mr == nullptr) return MC_ERR_INVALID_ARG;
  return c->Deregister(static_cast<UserRegistration*>(mr));
}

mc_result_t PackRkey(void* ctx, void* mr, void* buf, size_t* len) {
  RdmaContext* c = AsContext(ctx);
  auto* reg = static_cast<UserRegistration*>(mr);
  if (c == nullptr || reg == nullptr || buf == nullptr || len == nullptr || !c->IsLiveRegistration(reg)) {
    return MC_ERR_INVALID_ARG;
  }
  return c->PackKey(reg, buf, len);
}

mc_result_t UnpackRkey(void* ep, const void* buf, size_t len, void** rkey) {
  Connection* c = AsConnection(ep);
  if (c == nullptr || buf == nullptr || len == 0 || len > MC_MAX_RKEY_BYTES || rkey == nullptr) {
    return MC_ERR_INVALID_ARG;
  }
  StatusOr<PackedKey> key = DecodeRemoteKey(static_cast<const uint8_t*>(buf), len);
  if (!key.ok()) {
    c->ctx()->Log(MC_LOG_ERROR, "rdma: unpack_rkey: " + key.status().message());
    return MC_ERR_INVALID_ARG;
  }
  *rkey = c->ctx()->AddRemoteKey(c, std::move(*key));
  return MC_SUCCESS;
}

mc_result_t ReleaseRkey(void* rkey) {
  auto* key = static_cast<RemoteKey*>(rkey);
  if (key == nullptr || key->magic != RemoteKey::kMagic) return MC_ERR_INVALID_ARG;
  return key->ctx->ReleaseRemoteKey(key) ? MC_SUCCESS : MC_ERR_INVALID_ARG;
}

mc_result_t DeviceProps(void* ctx, int dev, mc_device_props_v1_t* props) {
  RdmaContext* c = AsContext(ctx);
  if (c == nullptr || props == nullptr || dev < 0 || dev >= c->device_count()) return MC_ERR_INVALID_ARG;
  *props = c->port(dev)->props();
  return MC_SUCCESS;
}

const mc_transport_v1_t kTransport = {
    Init,  Finalize, DeviceCount, Listen, Accept,           CloseListener, Connect,
    Isend, Irecv,    Iput,        Test,   PollNotification, Progress,      Close,
};
const mc_memory_v1_t kMemory = {Reg, Dereg, PackRkey, UnpackRkey, ReleaseRkey};
const mc_topology_v1_t kTopology = {DeviceProps};

}  // namespace
}  // namespace mc::rdma

// clang-format off
extern "C" __attribute__((visibility("default"))) const mc_plugin_v1_t mc_plugin_v1 = {
    MC_PLUGIN_ABI_VERSION,
    mc::rdma::kPluginName,  // "rdma" (plugin_factory.cc), "rdmafake" in the test double
    MC_RDMA_VERSION,
    mc::rdma::kRdmaParams,
    mc::rdma::kNumRdmaParams,
    &mc::rdma::kTransport,
    &mc::rdma::kMemory,
    &mc::rdma::kTopology,
};
// clang-format on

namespace mc::rdma {
const mc_plugin_v1_t* RdmaPluginTable() { return &mc_plugin_v1; }
}  // namespace mc::rdma
