// The efa plugin's C ABI table: each entry checks its arguments and handles,
// then forwards to Context, Listener or Connection.
#include <cstdio>
#include <cstring>
#include <string>

#include "connection.h"
#include "context.h"
#include "efa_params.h"
#include "listener.h"
#include "mooncomm/plugin_abi.h"
#include "registration.h"
#include "request.h"

namespace mc::efa {
namespace {

Context* AsContext(void* ctx) {
  auto* c = static_cast<Context*>(ctx);
  return c != nullptr && c->valid() ? c : nullptr;
}

Connection* AsConnection(void* ep) {
  auto* c = static_cast<Connection*>(ep);
  return c != nullptr && c->valid() ? c : nullptr;
}

Listener* AsListener(void* listener) {
  auto* l = static_cast<Listener*>(listener);
  return l != nullptr && l->valid() ? l : nullptr;
}

Request* AsRequest(void* req) {
  auto* r = static_cast<Request*>(static_cast<FabricOp*>(req));
  return r != nullptr && r->magic == Request::kMagic ? r : nullptr;
}

// A registration argument: null is fine, a non-null one must be ours.
bool AsOptionalRegistration(void* mr, Registration** out) {
  *out = static_cast<Registration*>(mr);
  return mr == nullptr || (*out)->valid();
}

// The handle the core gets for a request: its FabricOp, as libfabric does.
void* HandleOf(Request* r) { return static_cast<FabricOp*>(r); }

mc_result_t Init(const mc_host_v1_t* host, void** ctx, char* err, size_t err_len) {
  if (host == nullptr || ctx == nullptr || host->get_param == nullptr) return MC_ERR_INVALID_ARG;
  std::string error;
  Context* created = nullptr;
  mc_result_t rc = Context::Create(*host, &created, &error);
  if (rc != MC_SUCCESS) {
    if (err != nullptr && err_len > 0) std::snprintf(err, err_len, "%s", error.c_str());
    return rc;
  }
  *ctx = created;
  return MC_SUCCESS;
}

mc_result_t Finalize(void* ctx) {
  Context* c = AsContext(ctx);
  if (c == nullptr) return MC_ERR_INVALID_ARG;
  delete c;
  return MC_SUCCESS;
}

mc_result_t DeviceCount(void* ctx, int* count) {
  Context* c = AsContext(ctx);
  if (c == nullptr || count == nullptr) return MC_ERR_INVALID_ARG;
  *count = c->device_count();
  return MC_SUCCESS;
}

mc_result_t Listen(void* ctx, int dev, void* addr, size_t* addr_len, void** listener) {
  Context* c = AsContext(ctx);
  if (c == nullptr || addr == nullptr || addr_len == nullptr || listener == nullptr || c->device(dev) == nullptr) {
    return MC_ERR_INVALID_ARG;
  }
  Listener* out = nullptr;
  mc_result_t rc = c->Listen(dev, addr, addr_len, &out);
  if (rc == MC_SUCCESS) *listener = out;
  return rc;
}

mc_result_t Accept(void* listener, void** ep, void* hello, size_t* hello_len) {
  Listener* l = AsListener(listener);
  if (l == nullptr || ep == nullptr || hello_len == nullptr || (hello == nullptr && *hello_len > 0)) {
    return MC_ERR_INVALID_ARG;
  }
  Connection* out = nullptr;
  mc_result_t rc = l->Accept(&out, hello, hello_len);
  if (rc == MC_SUCCESS) *ep = out;
  return rc;
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
  if (c == nullptr || c->device(dev) == nullptr || addr == nullptr || addr_len == 0 || addr_len > MC_MAX_ADDR_BYTES ||
      (hello == nullptr && hello_len > 0) || hello_len > MC_MAX_HELLO_BYTES || ep == nullptr) {
    return MC_ERR_INVALID_ARG;
  }
  Connection* out = nullptr;
  mc_result_t rc = c->Connect(dev, addr, addr_len, hello, hello_len, &out);
  if (rc == MC_SUCCESS) *ep = out;
  return rc;
}

// A buffer (null only when empty) within the device's message limit.
bool LengthOk(const Connection& conn, const void* buf, size_t len) {
  return (buf != nullptr || len == 0) && len <= conn.device().max_message();
}

mc_result_t Isend(void* ep, uint64_t tag, const void* buf, size_t len, void* mr, void** req) {
  Connection* c = AsConnection(ep);
  Registration* reg = nullptr;
  if (c == nullptr || req == nullptr || !LengthOk(*c, buf, len) || !AsOptionalRegistration(mr, &reg)) {
    return MC_ERR_INVALID_ARG;
  }
  Request* r = nullptr;
  mc_result_t rc = c->Send(tag, buf, len, reg, &r);
  if (rc == MC_SUCCESS) *req = HandleOf(r);
  return rc;
}

mc_result_t Irecv(void* ep, uint64_t tag, void* buf, size_t len, void* mr, void** req) {
  Connection* c = AsConnection(ep);
  Registration* reg = nullptr;
  if (c == nullptr || req == nullptr || (buf == nullptr && len > 0) || !AsOptionalRegistration(mr, &reg)) {
    return MC_ERR_INVALID_ARG;
  }
  Request* r = nullptr;
  mc_result_t rc = c->Recv(tag, buf, len, reg, &r);
  if (rc == MC_SUCCESS) *req = HandleOf(r);
  return rc;
}

mc_result_t Iput(void* ep, const void* buf, size_t len, void* mr, uint64_t remote_addr, void* rkey, uint64_t notify,
                 void** req) {
  Connection* c = AsConnection(ep);
  auto* key = static_cast<RemoteKey*>(rkey);
  Registration* reg = nullptr;
  if (c == nullptr || req == nullptr || !LengthOk(*c, buf, len) || key == nullptr || key->magic != RemoteKey::kMagic ||
      !AsOptionalRegistration(mr, &reg)) {
    return MC_ERR_INVALID_ARG;
  }
  Request* r = nullptr;
  mc_result_t rc = c->Put(buf, len, reg, remote_addr, *key, notify, &r);
  if (rc == MC_SUCCESS) *req = HandleOf(r);
  return rc;
}

mc_result_t Test(void* req, int* done, mc_completion_v1_t* completion) {
  Request* r = AsRequest(req);
  if (r == nullptr || done == nullptr || completion == nullptr) return MC_ERR_INVALID_ARG;
  if (!r->done && r->conn != nullptr && r->conn->handshaking()) r->ctx->PollSockets(/*force=*/true);
  // The socket events may have completed the request (a failed handshake).
  if (!r->done && r->conn != nullptr) r->conn->ProgressFromTest();
  if (!r->done) {
    *done = 0;
    return MC_SUCCESS;
  }
  completion->status = r->status;
  completion->tag = r->completed_tag;
  completion->bytes = r->bytes;
  *done = 1;
  r->ctx->FreeRequest(r);
  return MC_SUCCESS;
}

mc_result_t PollNotification(void* ep, mc_notification_v1_t* notification) {
  Connection* c = AsConnection(ep);
  if (c == nullptr || notification == nullptr) return MC_ERR_INVALID_ARG;
  return c->PollNotification(notification);
}

mc_result_t Progress(void* ctx) {
  Context* c = AsContext(ctx);
  if (c == nullptr) return MC_ERR_INVALID_ARG;
  c->Progress();
  return MC_SUCCESS;
}

mc_result_t Close(void* ep) {
  Connection* c = AsConnection(ep);
  if (c == nullptr) return MC_ERR_INVALID_ARG;
  c->ctx()->CloseConnection(c);
  return MC_SUCCESS;
}

mc_result_t Reg(void* ctx, void* ptr, size_t len, mc_mem_kind_t kind, void** mr) {
  Context* c = AsContext(ctx);
  if (c == nullptr || ptr == nullptr || len == 0 || mr == nullptr) return MC_ERR_INVALID_ARG;
  if (kind == MC_MEM_CUDA || kind == MC_MEM_DMABUF) return MC_ERR_UNSUPPORTED;
  if (kind != MC_MEM_HOST) return MC_ERR_INVALID_ARG;
  Registration* out = nullptr;
  mc_result_t rc = c->Register(ptr, len, &out);
  if (rc == MC_SUCCESS) *mr = out;
  return rc;
}

mc_result_t Dereg(void* ctx, void* mr) {
  Context* c = AsContext(ctx);
  auto* reg = static_cast<Registration*>(mr);
  if (c == nullptr || reg == nullptr || !reg->valid()) return MC_ERR_INVALID_ARG;
  c->Deregister(reg);
  return MC_SUCCESS;
}

mc_result_t PackRkey(void* ctx, void* mr, void* buf, size_t* len) {
  Context* c = AsContext(ctx);
  auto* reg = static_cast<Registration*>(mr);
  if (c == nullptr || reg == nullptr || !reg->valid() || buf == nullptr || len == nullptr) return MC_ERR_INVALID_ARG;
  return reg->Pack(c->devices(), buf, len);
}

mc_result_t UnpackRkey(void* ep, const void* buf, size_t len, void** rkey) {
  Connection* c = AsConnection(ep);
  if (c == nullptr || buf == nullptr || len == 0 || len > MC_MAX_RKEY_BYTES || rkey == nullptr) {
    return MC_ERR_INVALID_ARG;
  }
  RemoteKey* key = nullptr;
  mc_result_t rc = c->ctx()->UnpackRemoteKey(c, buf, len, &key);
  if (rc == MC_SUCCESS) *rkey = key;
  return rc;
}

mc_result_t ReleaseRkey(void* rkey) {
  auto* key = static_cast<RemoteKey*>(rkey);
  if (key == nullptr || key->magic != RemoteKey::kMagic) return MC_ERR_INVALID_ARG;
  Context::ReleaseRemoteKey(key);
  return MC_SUCCESS;
}

mc_result_t DeviceProps(void* ctx, int dev, mc_device_props_v1_t* props) {
  Context* c = AsContext(ctx);
  if (c == nullptr || props == nullptr || c->device(dev) == nullptr) return MC_ERR_INVALID_ARG;
  c->device(dev)->FillProps(props);
  return MC_SUCCESS;
}

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
}  // namespace mc::efa

extern "C" __attribute__((visibility("default"))) const mc_plugin_v1_t mc_plugin_v1 = {
    .abi_version = MC_PLUGIN_ABI_VERSION,
    .name = "efa",
    .version = "0.1.0",
    .params = mc::efa::kEfaParams,
    .num_params = mc::efa::kNumEfaParams,
    .transport = &mc::efa::kTransport,
    .memory = &mc::efa::kMemory,
    .topology = &mc::efa::kTopology,
};
