// The shm transport's C plugin tables: argument checks, then the C++ objects.
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <memory>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "mooncomm/plugin_abi.h"
#include "transports/shm/context.h"
#include "transports/shm/endpoint.h"
#include "transports/shm/listener.h"
#include "transports/shm/registration.h"
#include "transports/shm/request.h"
#include "transports/shm/shm_params.h"
#include "transports/shm/wire.h"

namespace mc::shm {
namespace {

constexpr uint64_t kMaxMessageBytes = uint64_t{1} << 40;

void WriteError(char* err, size_t err_len, const std::string& text) {
  if (err == nullptr || err_len == 0) return;
  std::snprintf(err, err_len, "%s", text.c_str());
}

Context* AsContext(void* ctx) { return static_cast<Context*>(ctx); }
Endpoint* AsEndpoint(void* ep) { return static_cast<Endpoint*>(ep); }

// A buffer argument: NULL only when empty; `mr`, when given, must be a live
// registration of this context that covers it.
bool ValidBuffer(Endpoint* ep, const void* buf, size_t len, void* mr) {
  if (buf == nullptr && len > 0) return false;
  if (len > kMaxMessageBytes) return false;
  if (mr == nullptr) return true;
  auto* reg = static_cast<const Registration*>(mr);
  return ep->context()->registrations().Owns(reg) && reg->Covers(reinterpret_cast<uintptr_t>(buf), len);
}

mc_result_t Init(const mc_host_v1_t* host, void** ctx, char* err, size_t err_len) {
  if (host == nullptr || ctx == nullptr) {
    WriteError(err, err_len, "shm init: host and ctx must not be NULL");
    return MC_ERR_INVALID_ARG;
  }
  absl::StatusOr<std::unique_ptr<Context>> created = Context::Create(*host);
  if (!created.ok()) {
    WriteError(err, err_len, absl::StrCat("shm: ", created.status().message()));
    return created.status().code() == absl::StatusCode::kInvalidArgument ? MC_ERR_INVALID_ARG : MC_ERR_NO_DEVICE;
  }
  *ctx = created->release();
  return MC_SUCCESS;
}

mc_result_t Finalize(void* ctx) {
  if (ctx == nullptr) return MC_ERR_INVALID_ARG;
  delete AsContext(ctx);
  return MC_SUCCESS;
}

mc_result_t DeviceCount(void* ctx, int* count) {
  if (ctx == nullptr || count == nullptr) return MC_ERR_INVALID_ARG;
  *count = 1;
  return MC_SUCCESS;
}

mc_result_t Listen(void* ctx, int dev, void* addr, size_t* addr_len, void** listener) {
  if (ctx == nullptr || dev != 0 || addr == nullptr || addr_len == nullptr || listener == nullptr) {
    return MC_ERR_INVALID_ARG;
  }
  if (*addr_len < sizeof(AddressWire)) return MC_ERR_NO_MEMORY;
  Context* context = AsContext(ctx);
  absl::StatusOr<std::unique_ptr<Listener>> created = Listener::Create(context);
  if (!created.ok()) {
    context->Log(MC_LOG_ERROR, absl::StrCat("shm: listen failed: ", created.status().message()));
    return MC_ERR_INTERNAL;
  }
  Listener* raw = context->AddListener(std::move(*created));
  std::memcpy(addr, &raw->address(), sizeof(AddressWire));
  *addr_len = sizeof(AddressWire);
  *listener = raw;
  return MC_SUCCESS;
}

mc_result_t Accept(void* listener, void** ep, void* hello, size_t* hello_len) {
  if (listener == nullptr || ep == nullptr || hello_len == nullptr || (hello == nullptr && *hello_len > 0)) {
    return MC_ERR_INVALID_ARG;
  }
  auto* l = static_cast<Listener*>(listener);
  Context::Scope scope(l->context());
  Endpoint* accepted = nullptr;
  mc_result_t result = l->Accept(&accepted, hello, hello_len);
  if (result == MC_SUCCESS) *ep = accepted;
  return result;
}

mc_result_t CloseListener(void* listener) {
  if (listener == nullptr) return MC_ERR_INVALID_ARG;
  auto* l = static_cast<Listener*>(listener);
  l->context()->CloseListener(l);
  return MC_SUCCESS;
}

mc_result_t Connect(void* ctx, int dev, const void* addr, size_t addr_len, const void* hello, size_t hello_len,
                    void** ep) {
  if (ctx == nullptr || dev != 0 || addr == nullptr || ep == nullptr || hello_len > MC_MAX_HELLO_BYTES ||
      (hello == nullptr && hello_len > 0)) {
    return MC_ERR_INVALID_ARG;
  }
  Context* context = AsContext(ctx);
  AddressWire wire;
  if (addr_len != sizeof(wire)) {
    context->Log(MC_LOG_ERROR, absl::StrCat("shm: connect: an shm address has ", sizeof(wire), " bytes, not ",
                                            addr_len));
    return MC_ERR_INVALID_ARG;
  }
  std::memcpy(&wire, addr, sizeof(wire));
  size_t name_len = strnlen(wire.name, sizeof(wire.name));
  if (std::memcmp(wire.magic, kAddressMagic, sizeof(kAddressMagic)) != 0 || name_len == 0 ||
      name_len == sizeof(wire.name)) {
    context->Log(MC_LOG_ERROR, "shm: connect: the address is not an shm listen address");
    return MC_ERR_INVALID_ARG;
  }
  static const uint8_t kZeros[16] = {};
  if (std::memcmp(wire.boot_id, kZeros, 16) != 0 && std::memcmp(context->boot_id(), kZeros, 16) != 0 &&
      std::memcmp(wire.boot_id, context->boot_id(), 16) != 0) {
    context->Log(MC_LOG_ERROR, "shm: connect: the address belongs to another host (its boot id differs); "
                               "shm reaches only processes on this host");
    return MC_ERR_INVALID_ARG;
  }
  Context::Scope scope(context);
  absl::StatusOr<std::unique_ptr<Endpoint>> created = Endpoint::StartConnect(context, wire, hello, hello_len);
  if (!created.ok()) {
    context->Log(MC_LOG_ERROR, absl::StrCat("shm: connect: ", created.status().message()));
    return MC_ERR_NO_MEMORY;
  }
  *ep = context->AddEndpoint(std::move(*created));
  return MC_SUCCESS;
}

mc_result_t Isend(void* ep, uint64_t tag, const void* buf, size_t len, void* mr, void** req) {
  if (ep == nullptr || req == nullptr || !ValidBuffer(AsEndpoint(ep), buf, len, mr)) return MC_ERR_INVALID_ARG;
  Endpoint* endpoint = AsEndpoint(ep);
  Context::Scope scope(endpoint->context());
  Request* out = nullptr;
  mc_result_t result = endpoint->PostSend(tag, buf, len, &out);
  if (result == MC_SUCCESS) *req = out;
  return result;
}

mc_result_t Irecv(void* ep, uint64_t tag, void* buf, size_t len, void* mr, void** req) {
  if (ep == nullptr || req == nullptr || !ValidBuffer(AsEndpoint(ep), buf, len, mr)) return MC_ERR_INVALID_ARG;
  Endpoint* endpoint = AsEndpoint(ep);
  Context::Scope scope(endpoint->context());
  Request* out = nullptr;
  mc_result_t result = endpoint->PostRecv(tag, buf, len, &out);
  if (result == MC_SUCCESS) *req = out;
  return result;
}

mc_result_t Iput(void* ep, const void* buf, size_t len, void* mr, uint64_t remote_addr, void* rkey, uint64_t notify,
                 void** req) {
  if (ep == nullptr || req == nullptr || rkey == nullptr || !ValidBuffer(AsEndpoint(ep), buf, len, mr)) {
    return MC_ERR_INVALID_ARG;
  }
  auto* key = static_cast<const RemoteKey*>(rkey);
  if (key->magic != RemoteKey::kMagic) return MC_ERR_INVALID_ARG;
  Endpoint* endpoint = AsEndpoint(ep);
  Context::Scope scope(endpoint->context());
  Request* out = nullptr;
  mc_result_t result = endpoint->PostPut(buf, len, remote_addr, *key, notify, &out);
  if (result == MC_SUCCESS) *req = out;
  return result;
}

mc_result_t Test(void* req, int* done, mc_completion_v1_t* completion) {
  if (req == nullptr || done == nullptr) return MC_ERR_INVALID_ARG;
  auto* request = static_cast<Request*>(req);
  if (request->magic != Request::kLiveMagic) return MC_ERR_INVALID_ARG;
  Context* ctx = request->ctx;
  if (!request->done) {
    Context::Scope scope(ctx);
    request->ep->Progress();
    ctx->MaybeCheckLiveness();
  }
  if (!request->done) {
    *done = 0;
    return MC_SUCCESS;
  }
  *done = 1;
  if (completion != nullptr) *completion = request->completion;
  ctx->FreeRequest(request);
  return MC_SUCCESS;
}

mc_result_t PollNotification(void* ep, mc_notification_v1_t* notification) {
  if (ep == nullptr || notification == nullptr) return MC_ERR_INVALID_ARG;
  Endpoint* endpoint = AsEndpoint(ep);
  Context::Scope scope(endpoint->context());
  mc_result_t result = endpoint->PollNotification(notification);
  endpoint->context()->MaybeCheckLiveness();
  return result;
}

mc_result_t Progress(void* ctx) {
  if (ctx == nullptr) return MC_ERR_INVALID_ARG;
  Context::Scope scope(AsContext(ctx));
  AsContext(ctx)->Progress();
  return MC_SUCCESS;
}

mc_result_t Close(void* ep) {
  if (ep == nullptr) return MC_ERR_INVALID_ARG;
  Endpoint* endpoint = AsEndpoint(ep);
  Context* ctx = endpoint->context();
  Context::Scope scope(ctx);
  ctx->CloseEndpoint(endpoint);
  return MC_SUCCESS;
}

mc_result_t Reg(void* ctx, void* ptr, size_t len, mc_mem_kind_t kind, void** mr) {
  if (ctx == nullptr || mr == nullptr || ptr == nullptr) return MC_ERR_INVALID_ARG;
  if (kind != MC_MEM_HOST) return MC_ERR_UNSUPPORTED;
  *mr = AsContext(ctx)->registrations().Add(reinterpret_cast<uintptr_t>(ptr), len);
  return MC_SUCCESS;
}

mc_result_t Dereg(void* ctx, void* mr) {
  if (ctx == nullptr || mr == nullptr) return MC_ERR_INVALID_ARG;
  return AsContext(ctx)->registrations().Remove(static_cast<const Registration*>(mr)) ? MC_SUCCESS
                                                                                     : MC_ERR_INVALID_ARG;
}

mc_result_t PackRkey(void* ctx, void* mr, void* buf, size_t* len) {
  if (ctx == nullptr || mr == nullptr || buf == nullptr || len == nullptr) return MC_ERR_INVALID_ARG;
  Context* context = AsContext(ctx);
  auto* reg = static_cast<const Registration*>(mr);
  if (!context->registrations().Owns(reg)) return MC_ERR_INVALID_ARG;
  if (*len < sizeof(RkeyWire)) return MC_ERR_NO_MEMORY;
  RkeyWire wire{kRkeyMagic, context->nonce(), reg->key_id, reg->base, reg->length, static_cast<int32_t>(::getpid()), 0};
  std::memcpy(buf, &wire, sizeof(wire));
  *len = sizeof(wire);
  return MC_SUCCESS;
}

mc_result_t UnpackRkey(void* ep, const void* buf, size_t len, void** rkey) {
  if (ep == nullptr || buf == nullptr || rkey == nullptr) return MC_ERR_INVALID_ARG;
  RkeyWire wire;
  if (len != sizeof(wire)) return MC_ERR_INVALID_ARG;
  std::memcpy(&wire, buf, sizeof(wire));
  if (wire.magic != kRkeyMagic || wire.key_id == 0) return MC_ERR_INVALID_ARG;
  Endpoint* endpoint = AsEndpoint(ep);
  // Before the handshake the peer is not known yet; puts check again.
  if (endpoint->peer_nonce() != 0 && wire.nonce != endpoint->peer_nonce()) {
    endpoint->context()->Log(MC_LOG_WARN, "shm: unpack_rkey: the key was not packed by this endpoint's peer");
    return MC_ERR_ACCESS;
  }
  RemoteKey key;
  key.nonce = wire.nonce;
  key.key_id = wire.key_id;
  key.base = wire.base;
  key.length = wire.length;
  *rkey = endpoint->context()->remote_keys().Add(key);
  return MC_SUCCESS;
}

// Keys belong to the context (finalize frees the unreleased ones); releasing
// one after finalize, like any handle, is not allowed.
mc_result_t ReleaseRkey(void* rkey) {
  if (rkey == nullptr) return MC_ERR_INVALID_ARG;
  auto* key = static_cast<RemoteKey*>(rkey);
  if (key->magic != RemoteKey::kMagic) return MC_ERR_INVALID_ARG;
  return static_cast<RemoteKeySet*>(key->owner)->Release(key) ? MC_SUCCESS : MC_ERR_INVALID_ARG;
}

mc_result_t DeviceProps(void* ctx, int dev, mc_device_props_v1_t* props) {
  if (ctx == nullptr || dev != 0 || props == nullptr) return MC_ERR_INVALID_ARG;
  *props = mc_device_props_v1_t{};
  std::snprintf(props->name, sizeof(props->name), "shm");
  props->pci_path[0] = '\0';
  props->numa_node = -1;
  props->rail = 0;
  props->bandwidth_gbps = AsContext(ctx)->BandwidthGbps();
  props->latency_us = 0.5;
  props->mem_kinds = MC_MEM_KIND_BIT(MC_MEM_HOST);
  props->same_host_only = 1;
  props->max_message_bytes = kMaxMessageBytes;
  return MC_SUCCESS;
}

const mc_transport_v1_t kTransport = {
    Init, Finalize, DeviceCount, Listen, Accept, CloseListener, Connect, Isend, Irecv, Iput, Test,
    PollNotification, Progress, Close,
};
const mc_memory_v1_t kMemory = {Reg, Dereg, PackRkey, UnpackRkey, ReleaseRkey};
const mc_topology_v1_t kTopology = {DeviceProps};

}  // namespace
}  // namespace mc::shm

extern "C" const mc_plugin_v1_t mc_builtin_shm_plugin = {
    MC_PLUGIN_ABI_VERSION,
    "shm",
    MC_VERSION_STRING,
    mc::shm::kShmParamTable,
    mc::shm::kShmParamCount,
    &mc::shm::kTransport,
    &mc::shm::kMemory,
    &mc::shm::kTopology,
};
