#include "transports/shm/shm_test_util.h"

#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <thread>

#include "transports/shm/shm_params.h"

namespace mc::shm::testing {
namespace {

using Clock = std::chrono::steady_clock;

uint64_t Mix(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdull;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ull;
  x ^= x >> 33;
  return x;
}

uint8_t PatternByte(size_t i, uint64_t seed) {
  return static_cast<uint8_t>(Mix(seed * 0x9e3779b97f4a7c15ull + i / 8) >> (8 * (i % 8)));
}

}  // namespace

void YieldIfCrowded() { sched_yield(); }

TestHost::TestHost(Params params) : params_(std::move(params)) {
  host_.ctx = this;
  host_.log = &TestHost::Log;
  host_.get_param = &TestHost::GetParam;
  host_.peer_failed = &TestHost::PeerFailed;
}

bool TestHost::LogContains(const std::string& text) const {
  for (const std::string& line : log_lines_) {
    if (line.find(text) != std::string::npos) return true;
  }
  return false;
}

void TestHost::Log(void* ctx, mc_log_level_t level, const char* message) {
  auto* self = static_cast<TestHost*>(ctx);
  self->log_lines_.emplace_back(message);
  if (level <= MC_LOG_WARN) std::fprintf(stderr, "[shm test host %d] %s\n", static_cast<int>(level), message);
}

mc_result_t TestHost::GetParam(void* ctx, const char* name, char* value, size_t value_len) {
  auto* self = static_cast<TestHost*>(ctx);
  std::string found;
  bool declared = false;
  for (size_t i = 0; i < kShmParamCount; ++i) {
    if (std::strcmp(kShmParamTable[i].name, name) == 0) {
      declared = true;
      found = kShmParamTable[i].default_value;
    }
  }
  if (!declared) return MC_ERR_INVALID_ARG;
  auto it = self->params_.find(name);
  if (it != self->params_.end()) found = it->second;
  if (found.size() + 1 > value_len) return MC_ERR_NO_MEMORY;
  std::memcpy(value, found.c_str(), found.size() + 1);
  return MC_SUCCESS;
}

void TestHost::PeerFailed(void* ctx, void* ep, mc_result_t reason, const char* detail) {
  auto* self = static_cast<TestHost*>(ctx);
  self->failures_.push_back(PeerFailure{ep, reason, detail ? detail : ""});
  if (self->on_failure) self->on_failure(ep);
}

Peer::Peer(Params params) : host_(std::move(params)) {
  char err[512] = {};
  if (t().init(host_.host(), &ctx_, err, sizeof(err)) != MC_SUCCESS) {
    ctx_ = nullptr;
    init_error_ = err;
  }
}

Peer::~Peer() {
  if (ctx_ != nullptr) t().finalize(ctx_);
}

std::vector<uint8_t> Peer::Listen() {
  std::vector<uint8_t> addr(MC_MAX_ADDR_BYTES);
  size_t len = addr.size();
  if (t().listen(ctx_, 0, addr.data(), &len, &listener_) != MC_SUCCESS) return {};
  addr.resize(len);
  return addr;
}

void* Peer::Accept(std::vector<uint8_t>* hello) {
  auto deadline = Clock::now() + kDeadline;
  std::vector<uint8_t> buf(MC_MAX_HELLO_BYTES);
  while (Clock::now() < deadline) {
    void* ep = nullptr;
    size_t len = buf.size();
    mc_result_t result = t().accept(listener_, &ep, buf.data(), &len);
    if (result == MC_SUCCESS) {
      if (hello != nullptr) hello->assign(buf.begin(), buf.begin() + static_cast<ptrdiff_t>(len));
      return ep;
    }
    if (result != MC_AGAIN) return nullptr;
    t().progress(ctx_);
    YieldIfCrowded();
  }
  return nullptr;
}

void* Peer::Connect(const std::vector<uint8_t>& addr, const std::vector<uint8_t>& hello) {
  void* ep = nullptr;
  if (t().connect(ctx_, 0, addr.data(), addr.size(), hello.data(), hello.size(), &ep) != MC_SUCCESS) return nullptr;
  return ep;
}

bool Peer::Wait(void* req, mc_completion_v1_t* completion) {
  auto deadline = Clock::now() + kDeadline;
  while (Clock::now() < deadline) {
    int done = 0;
    if (t().test(req, &done, completion) != MC_SUCCESS) return false;
    if (done) return true;
    YieldIfCrowded();
  }
  return false;
}

mc_result_t Peer::Send(void* ep, uint64_t tag, const void* buf, size_t len) {
  void* req = nullptr;
  mc_result_t posted = t().isend(ep, tag, buf, len, nullptr, &req);
  if (posted != MC_SUCCESS) return posted;
  mc_completion_v1_t completion{};
  if (!Wait(req, &completion)) return MC_ERR_TIMEOUT;
  return completion.status;
}

mc_result_t Peer::Recv(void* ep, uint64_t tag, void* buf, size_t len, mc_completion_v1_t* completion) {
  void* req = nullptr;
  mc_result_t posted = t().irecv(ep, tag, buf, len, nullptr, &req);
  if (posted != MC_SUCCESS) return posted;
  mc_completion_v1_t local{};
  if (completion == nullptr) completion = &local;
  if (!Wait(req, completion)) return MC_ERR_TIMEOUT;
  return completion->status;
}

mc_result_t Peer::WaitNotification(void* ep, mc_notification_v1_t* notification) {
  auto deadline = Clock::now() + kDeadline;
  mc_result_t result = MC_AGAIN;
  while (Clock::now() < deadline) {
    result = t().poll_notification(ep, notification);
    if (result != MC_AGAIN) return result;
    YieldIfCrowded();
  }
  return MC_ERR_TIMEOUT;
}

bool Peer::ProgressUntil(const std::function<bool()>& done) {
  auto deadline = Clock::now() + kDeadline;
  while (Clock::now() < deadline) {
    t().progress(ctx_);
    if (done()) return true;
    YieldIfCrowded();
  }
  return false;
}

void FillPattern(uint8_t* buf, size_t len, uint64_t seed) {
  size_t i = 0;
  for (; i + 8 <= len; i += 8) {
    uint64_t word = Mix(seed * 0x9e3779b97f4a7c15ull + i / 8);
    std::memcpy(buf + i, &word, 8);
  }
  for (; i < len; ++i) buf[i] = PatternByte(i, seed);
}

int64_t FirstMismatch(const uint8_t* buf, size_t len, uint64_t seed) {
  size_t i = 0;
  for (; i + 8 <= len; i += 8) {
    uint64_t word = Mix(seed * 0x9e3779b97f4a7c15ull + i / 8);
    if (std::memcmp(buf + i, &word, 8) != 0) break;
  }
  for (; i < len; ++i) {
    if (buf[i] != PatternByte(i, seed)) return static_cast<int64_t>(i);
  }
  return -1;
}

ChildProcess::ChildProcess(const std::function<int()>& body) {
  std::fflush(nullptr);
  pid_ = ::fork();
  if (pid_ == 0) {
    int code = body();
    std::fflush(nullptr);
    ::_exit(code);
  }
}

ChildProcess::~ChildProcess() { Kill(); }

void ChildProcess::Kill() {
  if (pid_ <= 0 || reaped_) return;
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, &status_, 0);
  reaped_ = true;
}

int ChildProcess::Wait(std::chrono::milliseconds timeout) {
  if (pid_ <= 0) return -1;
  auto deadline = Clock::now() + timeout;
  while (!reaped_) {
    pid_t got = ::waitpid(pid_, &status_, WNOHANG);
    if (got == pid_) {
      reaped_ = true;
      break;
    }
    if (got < 0 && errno != EINTR) return -1;
    if (Clock::now() >= deadline) {
      Kill();
      return -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  if (WIFEXITED(status_)) return WEXITSTATUS(status_);
  if (WIFSIGNALED(status_)) return 128 + WTERMSIG(status_);
  return -1;
}

Channel::Channel() {
  if (::pipe(fds_) != 0) fds_[0] = fds_[1] = -1;
}

Channel::~Channel() {
  for (int fd : fds_) {
    if (fd >= 0) ::close(fd);
  }
}

bool Channel::Write(const void* data, size_t len) {
  const auto* p = static_cast<const uint8_t*>(data);
  while (len > 0) {
    ssize_t n = ::write(fds_[1], p, len);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    p += n;
    len -= static_cast<size_t>(n);
  }
  return true;
}

bool Channel::Read(void* data, size_t len, std::chrono::milliseconds timeout) {
  auto* p = static_cast<uint8_t*>(data);
  auto deadline = Clock::now() + timeout;
  while (len > 0) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) return false;
    pollfd pfd{fds_[0], POLLIN, 0};
    int ready = ::poll(&pfd, 1, static_cast<int>(left));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) return false;
    ssize_t n = ::read(fds_[0], p, len);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    p += n;
    len -= static_cast<size_t>(n);
  }
  return true;
}

bool Channel::WriteBytes(const std::vector<uint8_t>& bytes) {
  uint32_t len = static_cast<uint32_t>(bytes.size());
  return Write(&len, sizeof(len)) && Write(bytes.data(), bytes.size());
}

bool Channel::ReadBytes(std::vector<uint8_t>* bytes) {
  uint32_t len = 0;
  if (!Read(&len, sizeof(len)) || len > (1u << 20)) return false;
  bytes->resize(len);
  return Read(bytes->data(), len);
}

}  // namespace mc::shm::testing
