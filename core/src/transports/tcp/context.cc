#include "transports/tcp/context.h"

#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "transports/tcp/endpoint.h"
#include "transports/tcp/listener.h"
#include "transports/tcp/sock_addr.h"
#include "transports/tcp/socket_util.h"

namespace mc::tcp {
namespace {

constexpr int kEventsPerProgress = 64;
constexpr int kListenBacklog = 1024;
// Freed requests kept for reuse, so that a stream of small messages does not
// allocate per message.
constexpr size_t kSpareRequests = 1024;

}  // namespace

absl::StatusOr<std::unique_ptr<TcpContext>> TcpContext::Create(const mc_host_v1_t& host) {
  absl::StatusOr<TcpConfig> config = ReadTcpConfig(host);
  if (!config.ok()) return config.status();
  absl::StatusOr<std::vector<NetInterface>> devices = ChooseInterfaces(config->interfaces);
  if (!devices.ok()) return devices.status();
  int epoll_fd = epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd < 0) return absl::InternalError(absl::StrCat("epoll_create1 failed: ", std::strerror(errno)));
  auto ctx = std::unique_ptr<TcpContext>(new TcpContext(host, *std::move(config), *std::move(devices), epoll_fd));
  for (const NetInterface& dev : ctx->devices_) {
    ctx->Log(MC_LOG_INFO, absl::StrCat("tcp: using interface ", dev.name, " (", FormatSockAddr(dev.addr), ")"));
  }
  return ctx;
}

TcpContext::TcpContext(const mc_host_v1_t& host, TcpConfig config, std::vector<NetInterface> devices, int epoll_fd)
    : host_(host), config_(std::move(config)), devices_(std::move(devices)), epoll_fd_(epoll_fd) {}

TcpContext::~TcpContext() {
  graveyard_.clear();
  endpoints_.clear();
  listeners_.clear();
  while (live_requests_ != nullptr) {
    Request* r = live_requests_;
    live_requests_ = r->next_live;
    delete r;
  }
  for (Request* r : spare_requests_) delete r;
  ::close(epoll_fd_);
  magic_ = 0;
}

mc_result_t TcpContext::Listen(int dev, void* addr, size_t* addr_len, Listener** out) {
  if (dev < 0 || dev >= device_count() || addr == nullptr || addr_len == nullptr || out == nullptr) {
    return MC_ERR_INVALID_ARG;
  }
  const NetInterface& iface = devices_[dev];
  absl::StatusOr<int> fd = OpenStreamSocket(iface.addr.family());
  if (!fd.ok()) {
    Log(MC_LOG_ERROR, absl::StrCat("tcp: listen on ", iface.name, ": ", fd.status().message()));
    return MC_ERR_INTERNAL;
  }
  SockAddr bound = iface.addr;
  if (::bind(*fd, bound.get(), bound.len) != 0 || ::listen(*fd, kListenBacklog) != 0) {
    Log(MC_LOG_ERROR, absl::StrCat("tcp: cannot listen on ", iface.name, " (", FormatSockAddr(iface.addr),
                                   "): ", std::strerror(errno)));
    ::close(*fd);
    return MC_ERR_INTERNAL;
  }
  bound.len = sizeof(bound.storage);
  getsockname(*fd, bound.get(), &bound.len);
  absl::StatusOr<size_t> used = PackSockAddr(bound, absl::MakeSpan(static_cast<uint8_t*>(addr), *addr_len));
  if (!used.ok()) {
    ::close(*fd);
    return MC_ERR_NO_MEMORY;  // the only way packing a bound address fails: no room
  }
  *addr_len = *used;
  auto listener = std::make_unique<Listener>(this, *fd, FormatSockAddr(bound));
  if (!Watch(*fd, listener.get(), EPOLLIN)) {
    Log(MC_LOG_ERROR, absl::StrCat("tcp: epoll_ctl failed: ", std::strerror(errno)));
    return MC_ERR_INTERNAL;
  }
  Listener* raw = listener.get();
  listeners_[raw] = std::move(listener);
  *out = raw;
  Log(MC_LOG_DEBUG, absl::StrCat("tcp: listening on ", FormatSockAddr(bound)));
  return MC_SUCCESS;
}

mc_result_t TcpContext::Connect(int dev, const void* addr, size_t addr_len, const void* hello, size_t hello_len,
                                Endpoint** out) {
  if (dev < 0 || dev >= device_count() || addr == nullptr || out == nullptr || hello_len > MC_MAX_HELLO_BYTES ||
      (hello == nullptr && hello_len > 0)) {
    return MC_ERR_INVALID_ARG;
  }
  absl::StatusOr<SockAddr> peer = UnpackSockAddr(absl::MakeConstSpan(static_cast<const uint8_t*>(addr), addr_len));
  if (!peer.ok()) {
    Log(MC_LOG_ERROR, absl::StrCat("tcp: connect: ", peer.status().message()));
    return MC_ERR_INVALID_ARG;
  }
  absl::StatusOr<int> fd = OpenStreamSocket(peer->family());
  if (fd.ok()) {
    if (absl::Status s = SetConnectionOptions(*fd, config_.user_timeout_ms); !s.ok()) {
      ::close(*fd);
      fd = s;
    }
  }
  if (!fd.ok()) {
    Log(MC_LOG_ERROR, absl::StrCat("tcp: connect to ", FormatSockAddr(*peer), ": ", fd.status().message()));
    return MC_ERR_INTERNAL;
  }
  int rc = ::connect(*fd, peer->get(), peer->len);
  int err = rc == 0 ? 0 : errno;
  Endpoint::State state = rc == 0 ? Endpoint::State::kOpen : Endpoint::State::kConnecting;
  Endpoint* ep = AdoptEndpoint(std::make_unique<Endpoint>(this, *fd, state, FormatSockAddr(*peer)));
  ep->MarkHandedOut();
  if (err != 0 && err != EINPROGRESS) ep->FailLater(err);
  ep->SendHello(hello, hello_len);
  *out = ep;
  return MC_SUCCESS;
}

void TcpContext::CloseListener(Listener* listener) {
  listener->Close();
  listener->mark_dead();
  auto it = listeners_.find(listener);
  if (it == listeners_.end()) return;
  std::unique_ptr<Listener> owned = std::move(it->second);
  listeners_.erase(it);
  Bury(std::move(owned));
}

void TcpContext::CloseEndpoint(Endpoint* ep) {
  ep->Close();
  DestroyEndpoint(ep);
}

void TcpContext::DestroyEndpoint(Endpoint* ep) {
  ep->mark_dead();
  auto deferred = std::find(deferred_.begin(), deferred_.end(), ep);
  if (deferred != deferred_.end()) deferred_.erase(deferred);
  auto it = endpoints_.find(ep);
  if (it == endpoints_.end()) return;
  std::unique_ptr<Endpoint> owned = std::move(it->second);
  endpoints_.erase(it);
  Bury(std::move(owned));
}

void TcpContext::Bury(std::unique_ptr<Pollable> object) {
  // Inside progress someone up the stack may still hold the object.
  if (in_progress_) graveyard_.push_back(std::move(object));
}

Endpoint* TcpContext::AdoptEndpoint(std::unique_ptr<Endpoint> ep) {
  Endpoint* raw = ep.get();
  endpoints_[raw] = std::move(ep);
  return raw;
}

mc_result_t TcpContext::Progress() {
  if (in_progress_) return MC_SUCCESS;  // a host callback called back in: nothing nests
  graveyard_.clear();
  in_progress_ = true;
  RunDeferred();
  epoll_event events[kEventsPerProgress];
  int n = epoll_wait(epoll_fd_, events, kEventsPerProgress, 0);
  for (int i = 0; i < n; ++i) {
    auto* target = static_cast<Pollable*>(events[i].data.ptr);
    if (!target->dead()) target->OnEvents(events[i].events);
  }
  RunDeferred();
  in_progress_ = false;
  if (n < 0 && errno != EINTR && !epoll_failure_logged_) {
    // Cannot happen with a valid epoll fd; progress only answers MC_SUCCESS or MC_AGAIN.
    epoll_failure_logged_ = true;
    Log(MC_LOG_ERROR, absl::StrCat("tcp: epoll_wait failed: ", std::strerror(errno)));
  }
  return MC_SUCCESS;
}

void TcpContext::RunDeferred() {
  while (!deferred_.empty()) {
    std::vector<Endpoint*> batch;
    batch.swap(deferred_);
    for (Endpoint* ep : batch) {
      if (!ep->dead()) ep->RunDeferred();
    }
  }
}

void TcpContext::ScheduleDeferred(Endpoint* ep) {
  if (std::find(deferred_.begin(), deferred_.end(), ep) == deferred_.end()) deferred_.push_back(ep);
}

mc_result_t TcpContext::Deregister(Registration* reg) {
  uint32_t key = reg->key;
  if (!memory_.Deregister(reg)) return MC_ERR_INVALID_ARG;
  for (auto& [raw, ep] : endpoints_) raw->OnDeregistered(key);
  return MC_SUCCESS;
}

bool TcpContext::Watch(int fd, Pollable* target, uint32_t events) {
  epoll_event ev{};
  ev.events = events;
  ev.data.ptr = target;
  return epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) == 0;
}

void TcpContext::Rewatch(int fd, Pollable* target, uint32_t events) {
  epoll_event ev{};
  ev.events = events;
  ev.data.ptr = target;
  epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, fd, &ev);
}

void TcpContext::Unwatch(int fd) { epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr); }

void TcpContext::ReportPeerFailure(Endpoint* ep, const std::string& detail) {
  if (host_.peer_failed != nullptr) host_.peer_failed(host_.ctx, ep, MC_ERR_PEER_LOST, detail.c_str());
}

void TcpContext::Log(mc_log_level_t level, const std::string& message) const {
  if (host_.log != nullptr) host_.log(host_.ctx, level, message.c_str());
}

Request* TcpContext::NewRequest(Request::Kind kind) {
  Request* r;
  if (!spare_requests_.empty()) {
    r = spare_requests_.back();
    spare_requests_.pop_back();
    *r = Request();
  } else {
    r = new Request;
  }
  r->kind = kind;
  r->ctx = this;
  r->next_live = live_requests_;
  if (live_requests_ != nullptr) live_requests_->prev_live = r;
  live_requests_ = r;
  return r;
}

void TcpContext::FreeRequest(Request* r) {
  if (r->prev_live != nullptr) {
    r->prev_live->next_live = r->next_live;
  } else {
    live_requests_ = r->next_live;
  }
  if (r->next_live != nullptr) r->next_live->prev_live = r->prev_live;
  r->magic = 0;
  if (spare_requests_.size() < kSpareRequests) {
    spare_requests_.push_back(r);
  } else {
    delete r;
  }
}

}  // namespace mc::tcp
