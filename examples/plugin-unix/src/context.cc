#include "context.h"

#include <errno.h>
#include <sys/random.h>
#include <unistd.h>

#include <cstdarg>
#include <cstdio>
#include <cstring>

#include "endpoint.h"
#include "listener.h"
#include "unix_socket.h"
#include "wire.h"

namespace unixdemo {
namespace {

constexpr size_t kScratchBytes = 64u << 10;

uint64_t RandomSeed() {
  uint64_t seed = 0;
  if (getrandom(&seed, sizeof(seed), 0) != static_cast<ssize_t>(sizeof(seed))) {
    seed = static_cast<uint64_t>(getpid()) * 0x9e3779b97f4a7c15ull ^ reinterpret_cast<uintptr_t>(&seed);
  }
  return seed;
}

// The socket name inside an address made by Listen(), or false.
bool ParseAddress(const void* addr, size_t len, std::string* name) {
  uint32_t magic;
  if (len <= sizeof(magic) || len > sizeof(magic) + kMaxSocketName) return false;
  std::memcpy(&magic, addr, sizeof(magic));
  if (magic != kAddrMagic) return false;
  name->assign(static_cast<const char*>(addr) + sizeof(magic), len - sizeof(magic));
  for (char c : *name) {
    if (c <= ' ' || c > '~') return false;  // our names are printable ASCII
  }
  return true;
}

}  // namespace

std::unique_ptr<Context> Context::Create(const mc_host_v1_t& host, mc_result_t* result, std::string* error) {
  Settings settings;
  if (!ReadSettings(host, &settings, error)) {
    *result = MC_ERR_INVALID_ARG;
    return nullptr;
  }
  // MC_ERR_NO_DEVICE tells the core "this transport cannot run here", which
  // MC_TRANSPORT=auto takes as a reason to pick another one.
  if (!UnixSocketsWork()) {
    *error = std::string("Unix domain sockets are not available: ") + std::strerror(errno);
    *result = MC_ERR_NO_DEVICE;
    return nullptr;
  }
  *result = MC_SUCCESS;
  return std::unique_ptr<Context>(new Context(host, settings));
}

Context::Context(const mc_host_v1_t& host, const Settings& settings)
    : host_(host), settings_(settings), random_(RandomSeed()), scratch_(kScratchBytes) {}

Context::~Context() {
  // Endpoints first: they close their sockets and never touch requests here
  // (finalize completes nothing; the core will not test again).
  endpoints_.clear();
  closed_endpoints_.clear();
  listeners_.clear();
  closed_listeners_.clear();
  requests_.clear();
  registrations_.clear();
  remote_keys_.clear();
  magic_ = 0;
}

void Context::Log(mc_log_level_t level, const char* format, ...) const {
  char line[512];
  va_list args;
  va_start(args, format);
  std::vsnprintf(line, sizeof(line), format, args);
  va_end(args);
  host_.log(host_.ctx, level, line);
}

// ---- connections ----

std::string Context::NewSocketName() {
  // Unique per process, context and listener, and hard to guess.
  char name[kMaxSocketName + 1];
  std::snprintf(name, sizeof(name), "mooncomm-unixdemo.%d.%016llx.%llu", static_cast<int>(getpid()),
                static_cast<unsigned long long>(random_()), static_cast<unsigned long long>(++last_listener_id_));
  return name;
}

mc_result_t Context::Listen(void* addr, size_t* addr_len, Listener** out) {
  const std::string name = NewSocketName();
  const size_t needed = sizeof(kAddrMagic) + name.size();
  if (*addr_len < needed) return MC_ERR_NO_MEMORY;  // checked first: nothing to undo
  const int fd = ListenUnix(name);
  if (fd < 0) {
    Log(MC_LOG_ERROR, "unixdemo: cannot listen on %s: %s", name.c_str(), std::strerror(errno));
    return MC_ERR_INTERNAL;
  }
  std::memcpy(addr, &kAddrMagic, sizeof(kAddrMagic));
  std::memcpy(static_cast<char*>(addr) + sizeof(kAddrMagic), name.data(), name.size());
  *addr_len = needed;
  auto listener = std::make_unique<Listener>(this, fd, name);
  *out = listener.get();
  listeners_.emplace(listener.get(), std::move(listener));
  return MC_SUCCESS;
}

mc_result_t Context::Connect(const void* addr, size_t addr_len, const void* hello, size_t hello_len, Endpoint** out) {
  std::string name;
  if (!ParseAddress(addr, addr_len, &name)) {
    Log(MC_LOG_ERROR, "unixdemo: connect: the %zu address bytes are not a unixdemo address", addr_len);
    return MC_ERR_INVALID_ARG;
  }
  int fd = -1;
  const int err = ConnectUnix(name, &fd);
  auto ep = std::make_unique<Endpoint>(this, fd, /*connected=*/err == 0, /*awaiting_hello=*/false, name);
  ep->SendHello(hello, hello_len);
  // A refused connect still returns an endpoint: the contract is that its
  // requests fail with MC_ERR_PEER_LOST and the host hears of it.
  if (err != 0 && err != EAGAIN) {
    ep->Fail(MC_ERR_PEER_LOST, std::string("connect: ") + std::strerror(err));
  }
  ep->MarkHandedOut();
  Endpoint* raw = ep.get();
  endpoints_.emplace(raw, std::move(ep));
  raw->Progress();  // the HELLO goes out now when it can
  *out = raw;
  return MC_SUCCESS;
}

Endpoint* Context::AdoptAccepted(int fd) {
  // Names the connector in log lines and failure details.
  const std::string peer = "process " + std::to_string(PeerPid(fd));
  auto ep = std::make_unique<Endpoint>(this, fd, /*connected=*/true, /*awaiting_hello=*/true, peer);
  Endpoint* raw = ep.get();
  endpoints_.emplace(raw, std::move(ep));
  return raw;
}

void Context::CloseListener(Listener* listener) {
  listener->Close();
  auto it = listeners_.find(listener);
  closed_listeners_.push_back(std::move(it->second));
  listeners_.erase(it);
}

void Context::CloseEndpoint(Endpoint* ep) {
  ep->Close();
  Retire(ep);
}

void Context::Retire(Endpoint* ep) {
  auto it = endpoints_.find(ep);
  if (it == endpoints_.end()) return;
  closed_endpoints_.push_back(std::move(it->second));
  endpoints_.erase(it);
}

void Context::Progress() {
  if (progress_depth_ == 0) {
    closed_endpoints_.clear();
    closed_listeners_.clear();
  }
  ++progress_depth_;
  for (auto& [raw, listener] : listeners_) listener->Progress();
  // A snapshot: the peer_failed callbacks below may open or close endpoints.
  std::vector<Endpoint*> eps;
  eps.reserve(endpoints_.size());
  for (auto& [raw, ep] : endpoints_) eps.push_back(raw);
  for (Endpoint* ep : eps) ep->Progress();
  // Reports go out last, from here only, with every endpoint in a consistent
  // state: a host that reacts by calling close() finds nothing half done.
  for (Endpoint* ep : eps) ep->ReportFailureIfDue(host_);
  --progress_depth_;
}

// ---- requests ----

Request* Context::NewRequest(Request::Kind kind, uint64_t tag, void* buf, size_t len) {
  auto request = std::make_unique<Request>(this, kind, tag, buf, len);
  Request* raw = request.get();
  requests_.emplace(raw, std::move(request));
  return raw;
}

void Context::FreeRequest(Request* request) { requests_.erase(request); }

// ---- memory ----

mc_result_t Context::Register(void* ptr, size_t len, mc_mem_kind_t kind, Registration** out) {
  if (kind != MC_MEM_HOST) {
    // Say why: "unsupported" alone makes for a long afternoon.
    Log(MC_LOG_WARN, "unixdemo: cannot register memory of kind %d (host memory only)", static_cast<int>(kind));
    return kind == MC_MEM_CUDA || kind == MC_MEM_DMABUF ? MC_ERR_UNSUPPORTED : MC_ERR_INVALID_ARG;
  }
  auto reg = std::make_unique<Registration>();
  reg->ctx = this;
  reg->base = static_cast<char*>(ptr);
  reg->length = len;
  do {
    reg->key = random_();
  } while (reg->key == 0 || registrations_.contains(reg->key));
  *out = reg.get();
  registrations_.emplace(reg->key, std::move(reg));
  return MC_SUCCESS;
}

bool Context::Owns(const Registration* reg) const {
  auto it = registrations_.find(reg->key);
  return it != registrations_.end() && it->second.get() == reg;
}

void Context::Deregister(Registration* reg) {
  const uint64_t key = reg->key;
  for (auto& [raw, ep] : endpoints_) ep->OnDeregistered(key);
  registrations_.erase(key);
}

const Registration* Context::FindRegistration(uint64_t key) const {
  auto it = registrations_.find(key);
  return it == registrations_.end() ? nullptr : it->second.get();
}

RemoteKey* Context::NewRemoteKey(uint64_t endpoint_id, uint64_t key) {
  auto remote = std::make_unique<RemoteKey>();
  remote->ctx = this;
  remote->endpoint_id = endpoint_id;
  remote->key = key;
  RemoteKey* raw = remote.get();
  remote_keys_.emplace(raw, std::move(remote));
  return raw;
}

bool Context::ReleaseRemoteKey(RemoteKey* key) { return remote_keys_.erase(key) == 1; }

}  // namespace unixdemo
