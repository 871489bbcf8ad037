#include "context.h"

#include <sys/epoll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <new>
#include <random>

#include "listener.h"
#include "socket_util.h"
#include "wire_format.h"

namespace mc::efa {
namespace {
constexpr auto kSocketPollInterval = std::chrono::milliseconds(1);
constexpr size_t kSpareRequests = 1024;
}  // namespace

Context::Context(const mc_host_v1_t& host, const EfaConfig& config) : host_(host), log_(host), config_(config) {
  // Listener ids differ between processes, so a port reused by another
  // process's listener refuses connectors that meant the old one.
  std::random_device random;
  next_listener_id_ = (static_cast<uint64_t>(random()) << 32) ^ random() ^ static_cast<uint64_t>(getpid());
}

mc_result_t Context::Create(const mc_host_v1_t& host, Context** out, std::string* error) {
  EfaConfig config;
  if (!ReadEfaConfig(host, &config, error)) return MC_ERR_INVALID_ARG;
  auto ctx = std::unique_ptr<Context>(new Context(host, config));
  mc_result_t rc = OpenDevices(config, ctx->log_, &ctx->devices_, error);
  if (rc != MC_SUCCESS) return rc;
  ctx->SetUpTruncationGuard();
  ctx->epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  if (ctx->epoll_fd_ < 0) {
    *error = "epoll_create1: " + ErrnoText(errno);
    return MC_ERR_INTERNAL;
  }
  *out = ctx.release();
  return MC_SUCCESS;
}

void Context::SetUpTruncationGuard() {
  if (!config_.truncation_guard) return;
  uint64_t bytes = 0;
  for (const auto& device : devices_) {
    if (!device->needs_local_mr() && device->rx_iov_limit() >= 2) bytes = std::max(bytes, device->max_message());
  }
  if (bytes == 0) return;
  if (!guard_.Reserve(bytes)) {
    log_(MC_LOG_WARN,
         "efa: cannot reserve %llu bytes of address space for the truncation guard; truncated "
         "receives are left to the provider (see MC_EFA_MAX_MESSAGE)",
         static_cast<unsigned long long>(bytes));
    return;
  }
  for (const auto& device : devices_) {
    if (!device->needs_local_mr() && device->rx_iov_limit() >= 2) device->UseTruncationGuard(guard_.base(), bytes);
  }
}

Context::~Context() {
  magic_ = 0;
  for (Listener* listener : listeners_) delete listener;
  listeners_.clear();
  while (Connection* conn = connections_.PopFront()) delete conn;
  while (Request* request = requests_.front()) FreeRequest(request);
  for (void* memory : spare_requests_) ::operator delete(memory);
  while (RemoteKey* key = remote_keys_.PopFront()) delete key;
  while (Registration* registration = registrations_.PopFront()) delete registration;
  devices_.clear();
  if (epoll_fd_ >= 0) close(epoll_fd_);
}

Device* Context::device(int index) const {
  if (index < 0 || index >= device_count()) return nullptr;
  return devices_[static_cast<size_t>(index)].get();
}

mc_result_t Context::Listen(int dev, void* addr, size_t* addr_len, Listener** out) {
  Device* d = device(dev);
  if (d == nullptr) return MC_ERR_INVALID_ARG;
  if (*addr_len < kListenAddressBytes) return MC_ERR_NO_MEMORY;
  std::string address, error;
  Listener* listener = nullptr;
  mc_result_t rc = Listener::Open(this, d, next_listener_id_++, &address, &listener, &error);
  if (rc != MC_SUCCESS) {
    log_(MC_LOG_WARN, "efa: listen on device %s: %s", d->name().c_str(), error.c_str());
    return rc;
  }
  std::memcpy(addr, address.data(), address.size());
  *addr_len = address.size();
  listeners_.push_back(listener);
  *out = listener;
  return MC_SUCCESS;
}

void Context::CloseListener(Listener* listener) {
  std::erase(listeners_, listener);
  delete listener;
}

mc_result_t Context::Connect(int dev, const void* addr, size_t addr_len, const void* hello, size_t hello_len,
                             Connection** out) {
  Device* d = device(dev);
  if (d == nullptr) return MC_ERR_INVALID_ARG;
  ListenAddress address;
  std::string why;
  if (!DecodeListenAddress(addr, addr_len, &address, &why)) {
    log_(MC_LOG_WARN, "efa: connect: %s", why.c_str());
    return MC_ERR_INVALID_ARG;
  }
  if (address.provider_id != d->provider_id()) {
    log_(MC_LOG_WARN, "efa: connect: the address belongs to another libfabric provider than %s", d->provider().c_str());
    return MC_ERR_INVALID_ARG;
  }
  Connection* conn = nullptr;
  mc_result_t rc =
      Connection::Connect(this, d, address, std::string_view(static_cast<const char*>(hello), hello_len), &conn, &why);
  if (rc != MC_SUCCESS) {
    log_(MC_LOG_WARN, "efa: connect on device %s: %s", d->name().c_str(), why.c_str());
    return rc;
  }
  conn->MarkHandedOut();
  *out = conn;
  return MC_SUCCESS;
}

void Context::AddConnection(Connection* conn) { connections_.PushBack(conn); }

void Context::CloseConnection(Connection* conn) {
  conn->CloseLocally();
  connections_.Remove(conn);
  delete conn;
}

void Context::DestroyConnection(Connection* conn) {
  connections_.Remove(conn);
  delete conn;
}

Request* Context::NewRequest(OpKind kind) {
  // Freed requests are kept for reuse: no allocation per message.
  void* memory = nullptr;
  if (spare_requests_.empty()) {
    memory = ::operator new(sizeof(Request));
  } else {
    memory = spare_requests_.back();
    spare_requests_.pop_back();
  }
  auto* request = new (memory) Request(kind, this);
  requests_.PushBack(request);
  return request;
}

void Context::FreeRequest(Request* request) {
  requests_.Remove(request);
  IntrusiveList<Request, &Request::conn_hook>::Unlink(request);
  if (request->own_mr != nullptr) fi_close(&request->own_mr->fid);
  request->magic = 0;
  request->~Request();
  if (spare_requests_.size() < kSpareRequests) {
    spare_requests_.push_back(request);
  } else {
    ::operator delete(request);
  }
}

mc_result_t Context::Register(void* ptr, size_t len, Registration** out) {
  std::string error;
  mc_result_t rc = Registration::Create(devices_, ptr, len, &next_key_, out, &error);
  if (rc != MC_SUCCESS) {
    log_(MC_LOG_WARN, "efa: %s", error.c_str());
    return rc;
  }
  registrations_.PushBack(*out);
  return MC_SUCCESS;
}

void Context::Deregister(Registration* registration) {
  registrations_.Remove(registration);
  delete registration;
}

mc_result_t Context::UnpackRemoteKey(Connection* conn, const void* buf, size_t len, RemoteKey** out) {
  RemoteKeyInfo info;
  std::string why;
  if (!DecodeRemoteKey(buf, len, &info, &why)) {
    log_(MC_LOG_WARN, "efa: unpack_rkey: %s", why.c_str());
    return MC_ERR_INVALID_ARG;
  }
  const Device& device = conn->device();
  if (info.virt_addr != device.virt_addr() || info.key_bytes > device.key_bytes()) {
    log_(MC_LOG_WARN, "efa: unpack_rkey: the key comes from a provider that addresses memory differently");
    return MC_ERR_INVALID_ARG;
  }
  for (const auto& [peer_device, value] : info.keys) {
    if (peer_device != conn->peer_device()) continue;
    auto* key = new RemoteKey();
    key->base = info.base;
    key->length = info.length;
    key->key = value;
    key->virt_addr = info.virt_addr;
    remote_keys_.PushBack(key);
    *out = key;
    return MC_SUCCESS;
  }
  log_(MC_LOG_WARN, "efa: unpack_rkey: the key has no entry for the peer's device %u", conn->peer_device());
  return MC_ERR_INVALID_ARG;
}

void Context::ReleaseRemoteKey(RemoteKey* key) {
  IntrusiveList<RemoteKey, &RemoteKey::hook>::Unlink(key);
  key->magic = 0;
  delete key;
}

void Context::Progress() {
  PollSockets(/*force=*/false);
  connections_.ForEach([](Connection* conn) { conn->ProgressFromContext(); });
}

void Context::PollSockets(bool force) {
  // Even the clock is read only every 16th call of a hot progress loop.
  if (!force && handshakes_ == 0 && (++unforced_polls_ & 15) != 0) return;
  const Clock::time_point now = Clock::now();
  if (!force && handshakes_ == 0 && now < next_socket_poll_) return;
  next_socket_poll_ = now + kSocketPollInterval;
  epoll_event events[32];
  for (;;) {
    const int n = epoll_wait(epoll_fd_, events, 32, 0);
    if (n <= 0) break;
    for (int i = 0; i < n; ++i) static_cast<SocketWatcher*>(events[i].data.ptr)->OnSocketEvents(events[i].events);
    if (n < 32) break;
  }
  for (Listener* listener : listeners_) listener->Tidy(now);
}

bool Context::Watch(int fd, uint32_t events, SocketWatcher* watcher) {
  epoll_event event{};
  event.events = events;
  event.data.ptr = watcher;
  return epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &event) == 0;
}

void Context::Rewatch(int fd, uint32_t events, SocketWatcher* watcher) {
  epoll_event event{};
  event.events = events;
  event.data.ptr = watcher;
  epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, fd, &event);
}

void Context::Unwatch(int fd) { epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr); }

void Context::ReportPeerFailure(Connection* conn, const std::string& detail) {
  if (host_.peer_failed != nullptr) host_.peer_failed(host_.ctx, conn, MC_ERR_PEER_LOST, detail.c_str());
}

}  // namespace mc::efa
