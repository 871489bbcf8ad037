// The ucx plugin's C ABI: argument checks, then the context, endpoint and
// listener classes do the work. The only exported symbol is mc_plugin_v1.
#include <cstdio>

#include "context.h"
#include "endpoint.h"
#include "listener.h"
#include "memory.h"
#include "mooncomm/plugin_abi.h"
#include "request.h"
#include "ucx_params.h"

namespace mc::ucx {
namespace {

UcxContext* AsContext(void* ctx) {
  auto* c = static_cast<UcxContext*>(ctx);
  return c != nullptr && c->valid() ? c : nullptr;
}

Endpoint* AsEndpoint(void* ep) {
  auto* e = static_cast<Endpoint*>(ep);
  return e != nullptr && e->valid() ? e : nullptr;
}

Listener* AsListener(void* listener) {
  auto* l = static_cast<Listener*>(listener);
  return l != nullptr && l->valid() ? l : nullptr;
}

Request* AsRequest(void* req) {
  auto* r = static_cast<Request*>(req);
  return r != nullptr && r->magic == Request::kMagic ? r : nullptr;
}

Registration* AsRegistration(void* mr, UcxContext* owner) {
  auto* m = static_cast<Registration*>(mr);
  return m != nullptr && m->magic == Registration::kMagic && m->ctx == owner ? m : nullptr;
}

RemoteKey* AsRemoteKey(void* rkey) {
  auto* k = static_cast<RemoteKey*>(rkey);
  return k != nullptr && k->magic == RemoteKey::kMagic ? k : nullptr;
}

bool BadDevice(const UcxContext* c, int dev) { return dev < 0 || dev >= c->device_count(); }

// ---- transport ----

mc_result_t Init(const mc_host_v1_t* host, void** ctx, char* err, size_t err_len) {
  if (host == nullptr || ctx == nullptr) return MC_ERR_INVALID_ARG;
  UcxContext* created = nullptr;
  std::string why;
  const mc_result_t rc = UcxContext::Create(*host, &created, &why);
  if (rc != MC_SUCCESS) {
    if (err != nullptr && err_len > 0) std::snprintf(err, err_len, "%s", why.c_str());
    return rc;
  }
  *ctx = created;
  return MC_SUCCESS;
}

mc_result_t Finalize(void* ctx) {
  UcxContext* c = AsContext(ctx);
  if (c == nullptr) return MC_ERR_INVALID_ARG;
  delete c;
  return MC_SUCCESS;
}

mc_result_t DeviceCount(void* ctx, int* count) {
  UcxContext* c = AsContext(ctx);
  if (c == nullptr || count == nullptr) return MC_ERR_INVALID_ARG;
  *count = c->device_count();
  return MC_SUCCESS;
}

mc_result_t Listen(void* ctx, int dev, void* addr, size_t* addr_len, void** listener) {
  UcxContext* c = AsContext(ctx);
  if (c == nullptr || addr == nullptr || addr_len == nullptr || listener == nullptr || BadDevice(c, dev)) {
    return MC_ERR_INVALID_ARG;
  }
  Listener* out = nullptr;
  const mc_result_t rc = c->Listen(dev, addr, addr_len, &out);
  if (rc == MC_SUCCESS) *listener = out;
  return rc;
}

mc_result_t Accept(void* listener, void** ep, void* hello, size_t* hello_len) {
  Listener* l = AsListener(listener);
  if (l == nullptr || ep == nullptr || hello_len == nullptr || (hello == nullptr && *hello_len > 0)) {
    return MC_ERR_INVALID_ARG;
  }
  Endpoint* out = nullptr;
  const mc_result_t rc = l->Accept(&out, hello, hello_len);
  if (rc == MC_SUCCESS) *ep = out;
  return rc;
}

mc_result_t CloseListener(void* listener) {
  Listener* l = AsListener(listener);
  if (l == nullptr) return MC_ERR_INVALID_ARG;
  return l->ctx()->CloseListener(l);
}

mc_result_t Connect(void* ctx, int dev, const void* addr, size_t addr_len, const void* hello, size_t hello_len,
                    void** ep) {
  UcxContext* c = AsContext(ctx);
  if (c == nullptr || ep == nullptr || BadDevice(c, dev) || addr == nullptr || addr_len == 0 ||
      addr_len > MC_MAX_ADDR_BYTES || (hello == nullptr && hello_len > 0) || hello_len > MC_MAX_HELLO_BYTES) {
    return MC_ERR_INVALID_ARG;
  }
  Endpoint* out = nullptr;
  const mc_result_t rc = c->Connect(dev, addr, addr_len, hello, hello_len, &out);
  if (rc == MC_SUCCESS) *ep = out;
  return rc;
}

mc_result_t Isend(void* ep, uint64_t tag, const void* buf, size_t len, void*, void** req) {
  Endpoint* e = AsEndpoint(ep);
  if (e == nullptr || req == nullptr || (buf == nullptr && len > 0) || len > kMaxMessageBytes) {
    return MC_ERR_INVALID_ARG;
  }
  Request* r = nullptr;
  const mc_result_t rc = e->Send(tag, buf, len, &r);
  if (rc == MC_SUCCESS) *req = r;
  return rc;
}

mc_result_t Irecv(void* ep, uint64_t tag, void* buf, size_t len, void*, void** req) {
  Endpoint* e = AsEndpoint(ep);
  if (e == nullptr || req == nullptr || (buf == nullptr && len > 0)) return MC_ERR_INVALID_ARG;
  Request* r = nullptr;
  const mc_result_t rc = e->Recv(tag, buf, len, &r);
  if (rc == MC_SUCCESS) *req = r;
  return rc;
}

mc_result_t Iput(void* ep, const void* buf, size_t len, void*, uint64_t remote_addr, void* rkey, uint64_t notify,
                 void** req) {
  Endpoint* e = AsEndpoint(ep);
  RemoteKey* k = AsRemoteKey(rkey);
  if (e == nullptr || k == nullptr || req == nullptr || (buf == nullptr && len > 0) || len > kMaxMessageBytes) {
    return MC_ERR_INVALID_ARG;
  }
  Request* r = nullptr;
  const mc_result_t rc = e->Put(buf, len, remote_addr, k, notify, &r);
  if (rc == MC_SUCCESS) *req = r;
  return rc;
}

mc_result_t Test(void* req, int* done, mc_completion_v1_t* completion) {
  Request* r = AsRequest(req);
  if (r == nullptr || done == nullptr || completion == nullptr) return MC_ERR_INVALID_ARG;
  return r->ctx->Test(r, done, completion);
}

mc_result_t PollNotification(void* ep, mc_notification_v1_t* notification) {
  Endpoint* e = AsEndpoint(ep);
  if (e == nullptr || notification == nullptr) return MC_ERR_INVALID_ARG;
  return e->PollNotification(notification);
}

mc_result_t Progress(void* ctx) {
  UcxContext* c = AsContext(ctx);
  if (c == nullptr) return MC_ERR_INVALID_ARG;
  return c->Progress();
}

mc_result_t Close(void* ep) {
  Endpoint* e = AsEndpoint(ep);
  if (e == nullptr) return MC_ERR_INVALID_ARG;
  e->Close();
  return MC_SUCCESS;
}

// ---- memory ----

mc_result_t Reg(void* ctx, void* ptr, size_t len, mc_mem_kind_t kind, void** mr) {
  UcxContext* c = AsContext(ctx);
  if (c == nullptr || ptr == nullptr || mr == nullptr) return MC_ERR_INVALID_ARG;
  Registration* out = nullptr;
  const mc_result_t rc = c->Register(ptr, len, kind, &out);
  if (rc == MC_SUCCESS) *mr = out;
  return rc;
}

mc_result_t Dereg(void* ctx, void* mr) {
  UcxContext* c = AsContext(ctx);
  Registration* m = c != nullptr ? AsRegistration(mr, c) : nullptr;
  if (m == nullptr) return MC_ERR_INVALID_ARG;
  return c->Deregister(m);
}

mc_result_t PackRkey(void* ctx, void* mr, void* buf, size_t* len) {
  UcxContext* c = AsContext(ctx);
  Registration* m = c != nullptr ? AsRegistration(mr, c) : nullptr;
  if (m == nullptr || buf == nullptr || len == nullptr) return MC_ERR_INVALID_ARG;
  return c->PackKey(m, buf, len);
}

mc_result_t UnpackRkey(void* ep, const void* buf, size_t len, void** rkey) {
  Endpoint* e = AsEndpoint(ep);
  if (e == nullptr || buf == nullptr || len == 0 || len > MC_MAX_RKEY_BYTES || rkey == nullptr) {
    return MC_ERR_INVALID_ARG;
  }
  RemoteKey* out = nullptr;
  const mc_result_t rc = e->UnpackKey(buf, len, &out);
  if (rc == MC_SUCCESS) *rkey = out;
  return rc;
}

mc_result_t ReleaseRkey(void* rkey) {
  RemoteKey* k = AsRemoteKey(rkey);
  if (k == nullptr) return MC_ERR_INVALID_ARG;
  return k->ctx->ReleaseKey(k);
}

// ---- topology ----

mc_result_t DeviceProps(void* ctx, int dev, mc_device_props_v1_t* props) {
  UcxContext* c = AsContext(ctx);
  if (c == nullptr || props == nullptr || BadDevice(c, dev)) return MC_ERR_INVALID_ARG;
  return c->DeviceProps(dev, props);
}

const mc_transport_v1_t kTransport = {
    &Init,     &Finalize, &DeviceCount, &Listen, &Accept,           &CloseListener, &Connect,
    &Isend,    &Irecv,    &Iput,        &Test,   &PollNotification, &Progress,      &Close,
};
const mc_memory_v1_t kMemory = {&Reg, &Dereg, &PackRkey, &UnpackRkey, &ReleaseRkey};
const mc_topology_v1_t kTopology = {&DeviceProps};

}  // namespace
}  // namespace mc::ucx

extern "C" __attribute__((visibility("default"))) const mc_plugin_v1_t mc_plugin_v1 = {
    MC_PLUGIN_ABI_VERSION,     "ucx",
    "0.1.0",                   mc::ucx::kUcxParams,
    mc::ucx::kNumUcxParams,    &mc::ucx::kTransport,
    &mc::ucx::kMemory,         &mc::ucx::kTopology,
};
