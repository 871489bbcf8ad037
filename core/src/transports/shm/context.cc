#include "transports/shm/context.h"

#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <fstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "transports/shm/cma.h"
#include "transports/shm/endpoint.h"
#include "transports/shm/listener.h"

namespace mc::shm {
namespace {

constexpr int64_t kLivenessPeriodNs = 1'000'000;

uint64_t RandomU64() {
  uint64_t value = 0;
  if (::getrandom(&value, sizeof(value), 0) != static_cast<ssize_t>(sizeof(value))) {
    // No entropy source: mix what differs between processes and calls.
    value = (static_cast<uint64_t>(::getpid()) << 32) ^
            static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
  }
  return value;
}

// The kernel's boot id as 16 bytes; zeros when unreadable. Two processes
// with different boot ids cannot share memory.
void ReadBootId(uint8_t out[16]) {
  std::memset(out, 0, 16);
  std::ifstream file("/proc/sys/kernel/random/boot_id");
  std::string text;
  if (!std::getline(file, text)) return;
  int n = 0;
  for (size_t i = 0; i + 1 < text.size() && n < 16;) {
    if (text[i] == '-') {
      ++i;
      continue;
    }
    auto hex = [](char c) -> int {
      if (c >= '0' && c <= '9') return c - '0';
      if (c >= 'a' && c <= 'f') return c - 'a' + 10;
      if (c >= 'A' && c <= 'F') return c - 'A' + 10;
      return -1;
    };
    int hi = hex(text[i]), lo = hex(text[i + 1]);
    if (hi < 0 || lo < 0) break;
    out[n++] = static_cast<uint8_t>(hi << 4 | lo);
    i += 2;
  }
  if (n != 16) std::memset(out, 0, 16);
}

// A coarse clock is enough for the ~1 ms liveness period and costs a few ns.
int64_t CoarseNowNs() {
  timespec ts;
  ::clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

}  // namespace

Context::Context(const mc_host_v1_t& host, const ShmParams& params) : host_(host), params_(params) {}

absl::StatusOr<std::unique_ptr<Context>> Context::Create(const mc_host_v1_t& host) {
  absl::StatusOr<ShmParams> params = LoadShmParams(host);
  if (!params.ok()) return params.status();
  std::unique_ptr<Context> ctx(new Context(host, *params));
  do {
    ctx->nonce_ = RandomU64();
  } while (ctx->nonce_ == 0);
  ReadBootId(ctx->boot_id_);
  if (params->use_cma) {
    std::string why;
    ctx->cma_enabled_ = CmaWorksHere(&why);
    if (!ctx->cma_enabled_) {
      ctx->Log(MC_LOG_INFO, absl::StrCat("shm: CMA is not available (", why,
                                         "); large messages and puts are copied through the shared ring"));
    }
  }
  return ctx;
}

Context::~Context() {
  depth_ = 1;  // no callbacks from here on
  pending_failures_.clear();
  for (Endpoint* ep : endpoints_) {
    ep->Close();
    delete ep;
  }
  for (Listener* listener : listeners_) delete listener;
}

void Context::Log(mc_log_level_t level, const std::string& message) const {
  if (host_.log != nullptr) host_.log(host_.ctx, level, message.c_str());
}

void Context::DisableCma(const std::string& why) {
  if (!cma_enabled_) return;
  cma_enabled_ = false;
  Log(MC_LOG_INFO, absl::StrCat("shm: CMA was refused (", why,
                                "); large messages and puts are copied through the shared ring from now on"));
}

Endpoint* Context::AddEndpoint(std::unique_ptr<Endpoint> ep) {
  endpoints_.push_back(ep.release());
  return endpoints_.back();
}

void Context::CloseEndpoint(Endpoint* ep) {
  ep->Close();
  have_closed_endpoints_ = true;
}

Listener* Context::AddListener(std::unique_ptr<Listener> listener) {
  listeners_.push_back(listener.release());
  return listeners_.back();
}

void Context::CloseListener(Listener* listener) {
  auto it = std::find(listeners_.begin(), listeners_.end(), listener);
  if (it == listeners_.end()) return;
  listeners_.erase(it);
  delete listener;
}

std::string Context::NewListenerName() {
  return absl::StrCat("mooncomm-shm-", ::getpid(), "-", ++listener_counter_, "-", absl::Hex(RandomU64()));
}

void Context::Progress() {
  // By index: nothing adds endpoints during progress, and closed ones stay
  // in the vector until the scope ends.
  for (size_t i = 0; i < endpoints_.size(); ++i) endpoints_[i]->Progress();
  MaybeCheckLiveness();
}

void Context::MaybeCheckLiveness() {
  int64_t now = CoarseNowNs();
  if (now < next_liveness_ns_) return;
  next_liveness_ns_ = now + kLivenessPeriodNs;
  poll_fds_.clear();
  poll_eps_.clear();
  for (Endpoint* ep : endpoints_) {
    if (!ep->WantsLivenessPoll()) continue;
    poll_fds_.push_back(pollfd{ep->socket_fd(), POLLIN | POLLRDHUP, 0});
    poll_eps_.push_back(ep);
  }
  if (poll_fds_.empty()) return;
  if (::poll(poll_fds_.data(), poll_fds_.size(), 0) <= 0) return;
  for (size_t i = 0; i < poll_fds_.size(); ++i) {
    if (poll_fds_[i].revents != 0) poll_eps_[i]->OnSocketEvents(poll_fds_[i].revents);
  }
}

void Context::QueuePeerFailure(Endpoint* ep, std::string detail) {
  Log(MC_LOG_INFO, absl::StrCat("shm: endpoint ", absl::Hex(reinterpret_cast<uintptr_t>(ep)), " lost its peer: ",
                                detail));
  pending_failures_.push_back(PendingFailure{ep, std::move(detail)});
}

void Context::LeaveScope() {
  if (depth_ > 1) {
    --depth_;
    return;
  }
  // The outermost scope: depth_ stays 1 while callbacks run, so plugin calls
  // made from inside them do not start this loop again.
  while (!pending_failures_.empty()) {
    PendingFailure failure = std::move(pending_failures_.front());
    pending_failures_.pop_front();
    if (failure.ep->closed() || host_.peer_failed == nullptr) continue;
    host_.peer_failed(host_.ctx, failure.ep, MC_ERR_PEER_LOST, failure.detail.c_str());
  }
  if (have_closed_endpoints_) DeleteClosedEndpoints();
  depth_ = 0;
}

void Context::DeleteClosedEndpoints() {
  have_closed_endpoints_ = false;
  auto keep = std::partition(endpoints_.begin(), endpoints_.end(), [](Endpoint* ep) { return !ep->closed(); });
  for (auto it = keep; it != endpoints_.end(); ++it) delete *it;
  endpoints_.erase(keep, endpoints_.end());
}

double Context::BandwidthGbps() {
  if (bandwidth_gbps_ >= 0) return bandwidth_gbps_;
  // One CMA copy moves data about as fast as one memcpy: time a few.
  constexpr size_t kBytes = 8 << 20;
  std::vector<uint8_t> src(kBytes, 1), dst(kBytes, 0);
  double best_ns = 0;
  for (int i = 0; i < 3; ++i) {
    auto start = std::chrono::steady_clock::now();
    std::memcpy(dst.data(), src.data(), kBytes);
    double ns = std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - start).count();
    if (best_ns == 0 || ns < best_ns) best_ns = ns;
    src[i] = dst[kBytes - 1 - i];  // keep the copies observable
  }
  bandwidth_gbps_ = best_ns > 0 ? kBytes * 8.0 / best_ns : 0;
  return bandwidth_gbps_;
}

}  // namespace mc::shm
