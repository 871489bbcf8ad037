#include "mutant_plugin.h"

#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <map>
#include <set>
#include <thread>
#include <utility>
#include <vector>

namespace mc::conformance {
namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kLossDelay = std::chrono::seconds(3);
constexpr uint64_t kSwappedTag = ~0ull;

const mc_plugin_v1_t* g_inner = nullptr;
Fault g_fault = Fault::kNone;
bool Is(Fault fault) { return g_fault == fault; }

const mc_transport_v1_t& T() { return *g_inner->transport; }
const mc_memory_v1_t& M() { return *g_inner->memory; }

// What the suite holds as a context: the inner one and the host the inner plugin sees.
struct MutantCtx {
  void* inner = nullptr;
  const mc_host_v1_t* outer = nullptr;
  mc_host_v1_t host{};
};

void* InnerCtx(void* ctx) { return ctx != nullptr ? static_cast<MutantCtx*>(ctx)->inner : nullptr; }

// Every request handed to the suite is one of these, wrapping the inner request.
struct Req {
  enum Kind { kSend, kRecv, kPut } kind = kSend;
  void* inner = nullptr;  // nullptr: held back, or made up by the mutant
  void* buf = nullptr;
  bool has_result = false;  // a made-up or held-back completion
  mc_completion_v1_t result{};
  Clock::time_point release{};
};

std::set<Req*> g_live;                              // freed by finalize
std::map<std::pair<void*, uint64_t>, Req*> g_held;  // kSwapSameTagOrder: a receive not yet posted
char g_garbage_key;                                 // kAcceptGarbageKey: the key handed out
char g_dead_ep;                                     // kConnectNeverFails: the endpoint handed out
void* volatile g_leak = nullptr;                    // kLeakMemory (volatile: the allocation must happen)

Req* NewReq(Req::Kind kind, void* inner, void* buf) {
  Req* r = new Req();
  r->kind = kind;
  r->inner = inner;
  r->buf = buf;
  g_live.insert(r);
  return r;
}

void FreeReq(Req* r) {
  g_live.erase(r);
  delete r;
}

// ---- host seen by the inner plugin ----

void HostLog(void* ctx, mc_log_level_t level, const char* message) {
  const mc_host_v1_t* outer = static_cast<MutantCtx*>(ctx)->outer;
  outer->log(outer->ctx, level, message);
}

mc_result_t HostGetParam(void* ctx, const char* name, char* value, size_t value_len) {
  const mc_host_v1_t* outer = static_cast<MutantCtx*>(ctx)->outer;
  return outer->get_param(outer->ctx, name, value, value_len);
}

void HostPeerFailed(void* ctx, void* ep, mc_result_t reason, const char* detail) {
  const mc_host_v1_t* outer = static_cast<MutantCtx*>(ctx)->outer;
  outer->peer_failed(outer->ctx, ep, reason, detail);
  if (Is(Fault::kDoublePeerFailed)) outer->peer_failed(outer->ctx, ep, reason, detail);
}

// ---- transport ----

mc_result_t Init(const mc_host_v1_t* host, void** ctx, char* err, size_t err_len) {
  if (host == nullptr || ctx == nullptr) return T().init(host, ctx, err, err_len);
  auto* mutant = new MutantCtx();
  mutant->outer = host;
  mutant->host = {mutant, &HostLog, &HostGetParam, &HostPeerFailed};
  mc_result_t rc = T().init(&mutant->host, &mutant->inner, err, err_len);
  if (rc != MC_SUCCESS) {
    delete mutant;
    return rc;
  }
  *ctx = mutant;
  if (Is(Fault::kLeakDescriptor)) open("/dev/null", O_RDONLY);
  if (Is(Fault::kLeakThread))
    std::thread([] {
      for (;;) pause();
    }).detach();
  if (Is(Fault::kLeakMemory)) g_leak = std::malloc(4321);
  return MC_SUCCESS;
}

mc_result_t Finalize(void* ctx) {
  mc_result_t rc = T().finalize(InnerCtx(ctx));
  if (ctx == nullptr) return rc;
  for (Req* r : g_live) delete r;
  g_live.clear();
  g_held.clear();
  delete static_cast<MutantCtx*>(ctx);
  g_leak = nullptr;  // kLeakMemory: the last pointer to it is gone
  return rc;
}

mc_result_t DeviceCount(void* ctx, int* count) { return T().device_count(InnerCtx(ctx), count); }

mc_result_t Listen(void* ctx, int dev, void* addr, size_t* addr_len, void** listener) {
  return T().listen(InnerCtx(ctx), dev, addr, addr_len, listener);
}

mc_result_t Accept(void* listener, void** ep, void* hello, size_t* hello_len) {
  mc_result_t rc = T().accept(listener, ep, hello, hello_len);
  if (rc == MC_SUCCESS && Is(Fault::kCorruptHello) && *hello_len > 0) {
    static_cast<char*>(hello)[*hello_len - 1] ^= 1;
  }
  return rc;
}

mc_result_t CloseListener(void* listener) { return T().close_listener(listener); }

mc_result_t Connect(void* ctx, int dev, const void* addr, size_t addr_len, const void* hello, size_t hello_len,
                    void** ep) {
  mc_result_t rc = T().connect(InnerCtx(ctx), dev, addr, addr_len, hello, hello_len, ep);
  if (rc != MC_SUCCESS && rc != MC_AGAIN && Is(Fault::kConnectNeverFails) && ctx != nullptr && ep != nullptr) {
    *ep = &g_dead_ep;
    return MC_SUCCESS;
  }
  return rc;
}

// Wraps what an inner post handed out.
mc_result_t Wrap(mc_result_t rc, void* inner, Req::Kind kind, void* buf, void** req) {
  if (rc == MC_SUCCESS && req != nullptr) *req = NewReq(kind, inner, buf);
  return rc;
}

mc_result_t Isend(void* ep, uint64_t tag, const void* buf, size_t len, void* mr, void** req) {
  if (ep == &g_dead_ep) return Wrap(MC_SUCCESS, nullptr, Req::kSend, nullptr, req);
  void* inner = nullptr;
  mc_result_t rc = T().isend(ep, tag, buf, len, mr, req != nullptr ? &inner : nullptr);
  return Wrap(rc, inner, Req::kSend, nullptr, req);
}

mc_result_t Irecv(void* ep, uint64_t tag, void* buf, size_t len, void* mr, void** req) {
  if (ep == &g_dead_ep) return Wrap(MC_SUCCESS, nullptr, Req::kRecv, buf, req);
  if (Is(Fault::kSwapSameTagOrder) && tag == kSwappedTag && ep != nullptr && req != nullptr) {
    auto key = std::make_pair(ep, tag);
    auto held = g_held.find(key);
    if (held == g_held.end()) {  // hold this one back until the next one is posted
      Req* r = NewReq(Req::kRecv, nullptr, buf);
      r->result.bytes = len;  // remembers the length until it is posted
      g_held[key] = r;
      *req = r;
      return MC_SUCCESS;
    }
    Req* first = held->second;
    g_held.erase(held);
    void* inner = nullptr;
    mc_result_t rc = T().irecv(ep, tag, buf, len, mr, &inner);  // the later receive goes first
    if (rc != MC_SUCCESS) return rc;
    *req = NewReq(Req::kRecv, inner, buf);
    return T().irecv(ep, tag, first->buf, first->result.bytes, nullptr, &first->inner);
  }
  void* inner = nullptr;
  mc_result_t rc = T().irecv(ep, tag, buf, len, mr, req != nullptr ? &inner : nullptr);
  return Wrap(rc, inner, Req::kRecv, buf, req);
}

mc_result_t Iput(void* ep, const void* buf, size_t len, void* mr, uint64_t remote_addr, void* rkey, uint64_t notify,
                 void** req) {
  const bool fake = rkey == &g_garbage_key;
  void* inner = nullptr;
  mc_result_t rc =
      fake ? MC_SUCCESS : T().iput(ep, buf, len, mr, remote_addr, rkey, notify, req != nullptr ? &inner : nullptr);
  if ((fake || (Is(Fault::kHidePutFailure) && rc != MC_SUCCESS && rc != MC_AGAIN)) && req != nullptr && ep != nullptr &&
      buf != nullptr && rkey != nullptr) {
    Req* r = NewReq(Req::kPut, nullptr, nullptr);
    r->has_result = true;
    r->result = {MC_SUCCESS, 0, len};
    *req = r;
    return MC_SUCCESS;
  }
  return Wrap(rc, inner, Req::kPut, nullptr, req);
}

// Bends a finished inner request's completion; false when it is held back.
bool ApplyFaults(Req* r, mc_completion_v1_t* c) {
  if (r->kind == Req::kRecv && c->status == MC_SUCCESS) {
    if (Is(Fault::kCorruptReceivedByte) && c->bytes >= 4096) static_cast<uint8_t*>(r->buf)[c->bytes / 2] ^= 1;
    if (Is(Fault::kWrongCompletionTag)) c->tag += 1;
  }
  if (Is(Fault::kHideTruncation) && c->status == MC_ERR_TRUNCATED) c->status = MC_SUCCESS;
  if (Is(Fault::kHidePutFailure) && r->kind == Req::kPut) c->status = MC_SUCCESS;
  if (Is(Fault::kCloseForgetsRequests) && c->status == MC_ERR_CLOSED) c->status = MC_SUCCESS;
  if (Is(Fault::kLossAsClosed) && c->status == MC_ERR_PEER_LOST) c->status = MC_ERR_CLOSED;
  if (Is(Fault::kSlowLossDetection) && c->status == MC_ERR_PEER_LOST) {
    r->has_result = true;
    r->result = *c;
    r->release = Clock::now() + kLossDelay;
    return false;
  }
  return true;
}

mc_result_t Test(void* req, int* done, mc_completion_v1_t* completion) {
  if (req == nullptr || done == nullptr || completion == nullptr || !g_live.contains(static_cast<Req*>(req))) {
    return T().test(req, done, completion);
  }
  Req* r = static_cast<Req*>(req);
  *done = 0;
  if (r->has_result) {
    if (Clock::now() < r->release) return MC_SUCCESS;
    *done = 1;
    *completion = r->result;
    FreeReq(r);
    return MC_SUCCESS;
  }
  if (r->inner == nullptr) return MC_SUCCESS;  // never posted: never completes
  mc_result_t rc = T().test(r->inner, done, completion);
  if (rc != MC_SUCCESS || *done == 0) return rc;
  r->inner = nullptr;
  if (!ApplyFaults(r, completion)) {
    *done = 0;
    return MC_SUCCESS;
  }
  FreeReq(r);
  return MC_SUCCESS;
}

mc_result_t PollNotification(void* ep, mc_notification_v1_t* n) {
  if (ep == &g_dead_ep) return MC_AGAIN;
  mc_result_t rc = T().poll_notification(ep, n);
  if (rc == MC_SUCCESS && Is(Fault::kEarlyNotification) && n->bytes > 0) {
    *reinterpret_cast<uint8_t*>(n->addr) ^= 0xff;  // as if the data were still on its way
  }
  return rc;
}

mc_result_t Progress(void* ctx) {
  if (ctx == nullptr && Is(Fault::kNullProgressAccepted)) return MC_SUCCESS;
  return T().progress(InnerCtx(ctx));
}

mc_result_t Close(void* ep) {
  if (ep == &g_dead_ep) return MC_SUCCESS;
  return T().close(ep);
}

// ---- memory and topology ----

mc_result_t Reg(void* ctx, void* ptr, size_t len, mc_mem_kind_t kind, void** mr) {
  return M().reg(InnerCtx(ctx), ptr, len, kind, mr);
}

mc_result_t Dereg(void* ctx, void* mr) { return M().dereg(InnerCtx(ctx), mr); }

mc_result_t PackRkey(void* ctx, void* mr, void* buf, size_t* len) { return M().pack_rkey(InnerCtx(ctx), mr, buf, len); }

mc_result_t UnpackRkey(void* ep, const void* buf, size_t len, void** rkey) {
  mc_result_t rc = M().unpack_rkey(ep, buf, len, rkey);
  if (rc != MC_SUCCESS && Is(Fault::kAcceptGarbageKey) && ep != nullptr && buf != nullptr && rkey != nullptr) {
    *rkey = &g_garbage_key;
    return MC_SUCCESS;
  }
  return rc;
}

mc_result_t ReleaseRkey(void* rkey) { return rkey == &g_garbage_key ? MC_SUCCESS : M().release_rkey(rkey); }

mc_result_t DeviceProps(void* ctx, int dev, mc_device_props_v1_t* props) {
  mc_result_t rc = g_inner->topology->device_props(InnerCtx(ctx), dev, props);
  if (rc == MC_SUCCESS && Is(Fault::kSmallMaxMessage)) props->max_message_bytes = 1u << 20;
  return rc;
}

mc_transport_v1_t g_transport;
const mc_memory_v1_t kMemory = {&Reg, &Dereg, &PackRkey, &UnpackRkey, &ReleaseRkey};
const mc_topology_v1_t kTopology = {&DeviceProps};
std::vector<mc_param_v1_t> g_params;
mc_plugin_v1_t g_plugin;

}  // namespace

const mc_plugin_v1_t* MutantPlugin(const mc_plugin_v1_t* inner, Fault fault) {
  g_inner = inner;
  g_fault = fault;
  g_transport = {&Init,  &Finalize, &DeviceCount, &Listen, &Accept,           &CloseListener, &Connect,
                 &Isend, &Irecv,    &Iput,        &Test,   &PollNotification, &Progress,      &Close};
  if (fault == Fault::kNullFunction) g_transport.poll_notification = nullptr;
  g_params.assign(inner->params, inner->params + inner->num_params);
  if (fault == Fault::kBadParamDefault) g_params.push_back({"MUTANT_SIZE", MC_PARAM_SIZE, "12Q", "a broken default"});
  g_plugin = *inner;
  g_plugin.params = g_params.data();
  g_plugin.num_params = g_params.size();
  g_plugin.transport = &g_transport;
  g_plugin.memory = &kMemory;
  g_plugin.topology = &kTopology;
  return &g_plugin;
}

}  // namespace mc::conformance
