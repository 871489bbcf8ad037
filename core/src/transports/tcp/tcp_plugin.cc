// The tcp transport's C plugin ABI: thin functions that check their handles
// and forward to TcpContext, Endpoint and Listener.
#include <cstdio>
#include <cstring>

#include "mooncomm/plugin_abi.h"
#include "transports/tcp/context.h"
#include "transports/tcp/endpoint.h"
#include "transports/tcp/listener.h"
#include "transports/tcp/memory_registry.h"
#include "transports/tcp/tcp_params.h"

namespace mc::tcp {
namespace {

TcpContext* AsContext(void* ctx) {
  auto* c = static_cast<TcpContext*>(ctx);
  return c != nullptr && c->valid() ? c : nullptr;
}

Endpoint* AsEndpoint(void* ep) {
  auto* e = static_cast<Endpoint*>(ep);
  return e != nullptr && e->valid() && !e->dead() ? e : nullptr;
}

Listener* AsListener(void* listener) {
  auto* l = static_cast<Listener*>(listener);
  return l != nullptr && l->valid() && !l->dead() ? l : nullptr;
}

mc_result_t ResultFromStatus(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kOk: return MC_SUCCESS;
    case absl::StatusCode::kInvalidArgument: return MC_ERR_INVALID_ARG;
    case absl::StatusCode::kNotFound: return MC_ERR_NO_DEVICE;
    default: return MC_ERR_INTERNAL;
  }
}

mc_result_t Init(const mc_host_v1_t* host, void** ctx, char* err, size_t err_len) {
  if (host == nullptr || ctx == nullptr) return MC_ERR_INVALID_ARG;
  absl::StatusOr<std::unique_ptr<TcpContext>> created = TcpContext::Create(*host);
  if (!created.ok()) {
    if (err != nullptr && err_len > 0) {
      std::snprintf(err, err_len, "%s", std::string(created.status().message()).c_str());
    }
    return ResultFromStatus(created.status());
  }
  *ctx = created->release();
  return MC_SUCCESS;
}

mc_result_t Finalize(void* ctx) {
  TcpContext* c = AsContext(ctx);
  if (c == nullptr) return MC_ERR_INVALID_ARG;
  delete c;
  return MC_SUCCESS;
}

mc_result_t DeviceCount(void* ctx, int* count) {
  TcpContext* c = AsContext(ctx);
  if (c == nullptr || count == nullptr) return MC_ERR_INVALID_ARG;
  *count = c->device_count();
  return MC_SUCCESS;
}

mc_result_t Listen(void* ctx, int dev, void* addr, size_t* addr_len, void** listener) {
  TcpContext* c = AsContext(ctx);
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
  Endpoint* out = nullptr;
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
  TcpContext* c = AsContext(ctx);
  if (c == nullptr || ep == nullptr) return MC_ERR_INVALID_ARG;
  Endpoint* out = nullptr;
  mc_result_t r = c->Connect(dev, addr, addr_len, hello, hello_len, &out);
  if (r == MC_SUCCESS) *ep = out;
  return r;
}

mc_result_t Isend(void* ep, uint64_t tag, const void* buf, size_t len, void* /*mr*/, void** req) {
  Endpoint* e = AsEndpoint(ep);
  if (e == nullptr || req == nullptr) return MC_ERR_INVALID_ARG;
  Request* out = nullptr;
  mc_result_t r = e->Send(tag, buf, len, &out);
  if (r == MC_SUCCESS) *req = out;
  return r;
}

mc_result_t Irecv(void* ep, uint64_t tag, void* buf, size_t len, void* /*mr*/, void** req) {
  Endpoint* e = AsEndpoint(ep);
  if (e == nullptr || req == nullptr) return MC_ERR_INVALID_ARG;
  Request* out = nullptr;
  mc_result_t r = e->Recv(tag, buf, len, &out);
  if (r == MC_SUCCESS) *req = out;
  return r;
}

mc_result_t Iput(void* ep, const void* buf, size_t len, void* /*mr*/, uint64_t remote_addr, void* rkey,
                 uint64_t notify, void** req) {
  Endpoint* e = AsEndpoint(ep);
  auto* key = static_cast<RemoteKey*>(rkey);
  if (e == nullptr || key == nullptr || key->magic != RemoteKey::kMagic || req == nullptr) {
    return MC_ERR_INVALID_ARG;
  }
  if (key->ep != e) {
    e->ctx()->Log(MC_LOG_ERROR, "tcp: iput with a remote key unpacked for another endpoint");
    return MC_ERR_INVALID_ARG;
  }
  Request* out = nullptr;
  mc_result_t r = e->Put(buf, len, remote_addr, *key, notify, &out);
  if (r == MC_SUCCESS) *req = out;
  return r;
}

mc_result_t Test(void* req, int* done, mc_completion_v1_t* completion) {
  auto* r = static_cast<Request*>(req);
  if (r == nullptr || r->magic != Request::kMagic || done == nullptr) return MC_ERR_INVALID_ARG;
  if (!r->done) r->ctx->Progress();
  if (!r->done) {
    *done = 0;
    return MC_SUCCESS;
  }
  if (completion != nullptr) *completion = r->completion;
  *done = 1;
  r->ctx->FreeRequest(r);
  return MC_SUCCESS;
}

mc_result_t PollNotification(void* ep, mc_notification_v1_t* notification) {
  Endpoint* e = AsEndpoint(ep);
  if (e == nullptr || notification == nullptr) return MC_ERR_INVALID_ARG;
  mc_result_t r = e->PollNotification(notification);
  if (r != MC_AGAIN) return r;
  e->ctx()->Progress();
  if (e->dead()) return MC_ERR_CLOSED;  // closed from a host callback during progress
  return e->PollNotification(notification);
}

mc_result_t Progress(void* ctx) {
  TcpContext* c = AsContext(ctx);
  if (c == nullptr) return MC_ERR_INVALID_ARG;
  return c->Progress();
}

mc_result_t Close(void* ep) {
  Endpoint* e = AsEndpoint(ep);
  if (e == nullptr) return MC_ERR_INVALID_ARG;
  e->ctx()->CloseEndpoint(e);
  return MC_SUCCESS;
}

mc_result_t Reg(void* ctx, void* ptr, size_t len, mc_mem_kind_t kind, void** mr) {
  TcpContext* c = AsContext(ctx);
  if (c == nullptr || mr == nullptr) return MC_ERR_INVALID_ARG;
  Registration* out = nullptr;
  mc_result_t r = c->memory().Register(ptr, len, kind, &out);
  if (r == MC_SUCCESS) *mr = out;
  return r;
}

mc_result_t Dereg(void* ctx, void* mr) {
  TcpContext* c = AsContext(ctx);
  auto* reg = static_cast<Registration*>(mr);
  if (c == nullptr || reg == nullptr || reg->magic != Registration::kMagic) return MC_ERR_INVALID_ARG;
  return c->Deregister(reg);
}

mc_result_t PackRkey(void* ctx, void* mr, void* buf, size_t* len) {
  TcpContext* c = AsContext(ctx);
  auto* reg = static_cast<Registration*>(mr);
  if (c == nullptr || reg == nullptr || reg->magic != Registration::kMagic || buf == nullptr || len == nullptr) {
    return MC_ERR_INVALID_ARG;
  }
  if (*len < kPackedKeyBytes) return MC_ERR_NO_MEMORY;
  PackKey(*reg, static_cast<uint8_t*>(buf));
  *len = kPackedKeyBytes;
  return MC_SUCCESS;
}

mc_result_t UnpackRkey(void* ep, const void* buf, size_t len, void** rkey) {
  Endpoint* e = AsEndpoint(ep);
  if (e == nullptr || buf == nullptr || rkey == nullptr) return MC_ERR_INVALID_ARG;
  absl::StatusOr<RemoteKey> key = UnpackKey(absl::MakeConstSpan(static_cast<const uint8_t*>(buf), len));
  if (!key.ok()) {
    e->ctx()->Log(MC_LOG_ERROR, std::string("tcp: unpack_rkey: ") + std::string(key.status().message()));
    return MC_ERR_INVALID_ARG;
  }
  key->ep = e;
  *rkey = e->ctx()->memory().AddRemoteKey(*key);
  return MC_SUCCESS;
}

mc_result_t ReleaseRkey(void* rkey) {
  auto* key = static_cast<RemoteKey*>(rkey);
  if (key == nullptr || key->magic != RemoteKey::kMagic) return MC_ERR_INVALID_ARG;
  // The key's endpoint may be closed by now; its context (and registry) is not.
  return key->registry->ReleaseRemoteKey(key) ? MC_SUCCESS : MC_ERR_INVALID_ARG;
}

mc_result_t DeviceProps(void* ctx, int dev, mc_device_props_v1_t* props) {
  TcpContext* c = AsContext(ctx);
  if (c == nullptr || props == nullptr || dev < 0 || dev >= c->device_count()) return MC_ERR_INVALID_ARG;
  const NetInterface& iface = c->device(dev);
  *props = ReadDeviceProps(iface.name, iface.loopback, dev, c->config().max_message);
  return MC_SUCCESS;
}

const mc_transport_v1_t kTransport = {
    Init, Finalize, DeviceCount, Listen, Accept, CloseListener, Connect, Isend, Irecv, Iput, Test,
    PollNotification, Progress, Close,
};
const mc_memory_v1_t kMemory = {Reg, Dereg, PackRkey, UnpackRkey, ReleaseRkey};
const mc_topology_v1_t kTopology = {DeviceProps};

}  // namespace
}  // namespace mc::tcp

extern "C" const mc_plugin_v1_t mc_builtin_tcp_plugin = {
    MC_PLUGIN_ABI_VERSION,
    "tcp",
    MC_VERSION_STRING,
    mc::tcp::kTcpParams,
    mc::tcp::kNumTcpParams,
    &mc::tcp::kTransport,
    &mc::tcp::kMemory,
    &mc::tcp::kTopology,
};
