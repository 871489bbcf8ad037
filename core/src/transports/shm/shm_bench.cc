// Measures the shm transport between two processes on this host:
//   shm_bench lat  [sizes...]   one-way latency (half a ping-pong round trip)
//   shm_bench bw   [sizes...]   one-direction bandwidth (windows of sends)
//   shm_bench copy [sizes...]   single-thread memcpy of the same sizes, for reference
// MC_SHM_* variables in the environment set the transport's params.
// SHM_BENCH_THP=1 backs the message buffers with transparent huge pages
// (process_vm_readv is much faster on them: the kernel pins fewer pages).
#include <sched.h>
#include <sys/mman.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "transports/shm/shm_params.h"
#include "transports/shm/shm_test_util.h"

namespace mc::shm {
namespace {

using testing::Channel;
using testing::ChildProcess;
using testing::Params;
using testing::Peer;
using Clock = std::chrono::steady_clock;

constexpr int kWindow = 16;

Params ParamsFromEnvironment() {
  Params params;
  for (size_t i = 0; i < kShmParamCount; ++i) {
    std::string name = std::string("MC_SHM_") + kShmParamTable[i].name;
    if (const char* value = std::getenv(name.c_str())) params[kShmParamTable[i].name] = value;
  }
  return params;
}

int Iterations(size_t size, bool latency) {
  if (latency) return size <= (64 << 10) ? 100000 : 2000;
  return size <= (64 << 10) ? 20000 : std::max<int>(2 * kWindow, static_cast<int>((4ull << 30) / size));
}

bool Post(Peer& peer, void* ep, bool send, uint64_t tag, void* buf, size_t len, void** req) {
  return (send ? peer.t().isend(ep, tag, buf, len, nullptr, req) : peer.t().irecv(ep, tag, buf, len, nullptr, req)) ==
         MC_SUCCESS;
}

// Spins on test(); the benchmark wants the raw latency, so no yielding.
bool Spin(Peer& peer, void* req) {
  int done = 0;
  mc_completion_v1_t c;
  auto deadline = Clock::now() + std::chrono::seconds(60);
  for (uint64_t i = 0;; ++i) {
    if (peer.t().test(req, &done, &c) != MC_SUCCESS) return false;
    if (done) return c.status == MC_SUCCESS;
    if ((i & 0xffff) == 0 && Clock::now() > deadline) return false;
  }
}

// Ping-pong: the initiator sends then receives; the other side mirrors.
bool PingPong(Peer& peer, void* ep, size_t size, int iterations, bool initiator, std::vector<double>* rtt_us) {
  std::vector<uint8_t> buf(std::max<size_t>(size, 1));
  for (int i = 0; i < iterations; ++i) {
    void *s, *r;
    auto start = Clock::now();
    if (initiator) {
      if (!Post(peer, ep, true, 1, buf.data(), size, &s) || !Spin(peer, s)) return false;
      if (!Post(peer, ep, false, 2, buf.data(), size, &r) || !Spin(peer, r)) return false;
    } else {
      if (!Post(peer, ep, false, 1, buf.data(), size, &r) || !Spin(peer, r)) return false;
      if (!Post(peer, ep, true, 2, buf.data(), size, &s) || !Spin(peer, s)) return false;
    }
    if (rtt_us) rtt_us->push_back(std::chrono::duration<double, std::micro>(Clock::now() - start).count());
  }
  return true;
}

// A message buffer from mmap, optionally with huge pages, touched so no
// page fault is timed.
class Buffer {
 public:
  explicit Buffer(size_t size) : size_(std::max<size_t>(size, 1)) {
    void* p = ::mmap(nullptr, size_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) std::abort();
    const char* thp = std::getenv("SHM_BENCH_THP");
    ::madvise(p, size_, thp != nullptr && thp[0] == '1' ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
    data_ = static_cast<uint8_t*>(p);
    std::memset(data_, 1, size_);
  }
  ~Buffer() { ::munmap(data_, size_); }
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;
  uint8_t* data() { return data_; }

 private:
  size_t size_;
  uint8_t* data_;
};

using Window = std::vector<std::unique_ptr<Buffer>>;

Window MakeWindow(size_t size) {
  Window window;
  for (int i = 0; i < kWindow; ++i) window.push_back(std::make_unique<Buffer>(size));
  return window;
}

// Windows of kWindow messages, each acknowledged by a 0-byte message.
bool Stream(Peer& peer, void* ep, size_t size, int iterations, bool sender, Window& bufs) {
  for (int done = 0; done < iterations; done += kWindow) {
    void* reqs[kWindow];
    for (int w = 0; w < kWindow; ++w) {
      if (!Post(peer, ep, sender, 1, bufs[w]->data(), size, &reqs[w])) return false;
    }
    for (int w = 0; w < kWindow; ++w) {
      if (!Spin(peer, reqs[w])) return false;
    }
    void* ack;
    if (!Post(peer, ep, !sender, 2, nullptr, 0, &ack) || !Spin(peer, ack)) return false;
  }
  return true;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

// The reference: one thread copying between two windows of buffers, the
// same working set as `bw` (which moves kWindow distinct buffers per window).
int RunCopy(const std::vector<size_t>& sizes) {
  std::printf("%12s %14s\n", "bytes", "memcpy MB/s");
  for (size_t size : sizes) {
    Window src = MakeWindow(size), dst = MakeWindow(size);
    int iterations = Iterations(size, false);
    for (int i = 0; i < kWindow; ++i) std::memcpy(dst[i]->data(), src[i]->data(), size);
    auto start = Clock::now();
    for (int i = 0; i < iterations; ++i) {
      std::memcpy(dst[i % kWindow]->data(), src[i % kWindow]->data(), size);
      asm volatile("" : : "r"(dst[i % kWindow]->data()) : "memory");
    }
    double s = std::chrono::duration<double>(Clock::now() - start).count();
    std::printf("%12zu %14.0f\n", size, size * static_cast<double>(iterations) / s / 1e6);
  }
  return 0;
}

int Run(bool latency, const std::vector<size_t>& sizes) {
  Params params = ParamsFromEnvironment();
  Channel to_child;
  ChildProcess child([&]() -> int {
    Peer peer(params);
    std::vector<uint8_t> addr;
    if (!peer.ok() || !to_child.ReadBytes(&addr)) return 2;
    void* ep = peer.Connect(addr);
    if (ep == nullptr) return 2;
    for (size_t size : sizes) {
      int iterations = Iterations(size, latency);
      Window bufs = latency ? Window() : MakeWindow(size);
      bool ok = latency ? PingPong(peer, ep, size, iterations / 10, false, nullptr) &&
                              PingPong(peer, ep, size, iterations, false, nullptr)
                        : Stream(peer, ep, size, kWindow * 2, false, bufs) &&
                              Stream(peer, ep, size, iterations, false, bufs);
      if (!ok) return 3;
    }
    return 0;
  });
  Peer peer(params);
  if (!peer.ok()) {
    std::fprintf(stderr, "init failed: %s\n", peer.init_error().c_str());
    return 1;
  }
  if (!to_child.WriteBytes(peer.Listen())) return 1;
  void* ep = peer.Accept();
  if (ep == nullptr) return 1;
  if (latency) {
    std::printf("%12s %14s %14s\n", "bytes", "avg one-way us", "p50 one-way us");
  } else {
    std::printf("%12s %14s\n", "bytes", "MB/s");
  }
  for (size_t size : sizes) {
    int iterations = Iterations(size, latency);
    if (latency) {
      std::vector<double> rtt;
      rtt.reserve(iterations);
      if (!PingPong(peer, ep, size, iterations / 10, true, nullptr) ||
          !PingPong(peer, ep, size, iterations, true, &rtt)) {
        std::fprintf(stderr, "ping-pong of %zu bytes failed\n", size);
        return 1;
      }
      double sum = 0;
      for (double v : rtt) sum += v;
      std::printf("%12zu %14.3f %14.3f\n", size, sum / rtt.size() / 2, Median(rtt) / 2);
    } else {
      Window bufs = MakeWindow(size);
      if (!Stream(peer, ep, size, kWindow * 2, true, bufs)) return 1;
      auto start = Clock::now();
      if (!Stream(peer, ep, size, iterations, true, bufs)) {
        std::fprintf(stderr, "stream of %zu bytes failed\n", size);
        return 1;
      }
      double s = std::chrono::duration<double>(Clock::now() - start).count();
      int sent = (iterations + kWindow - 1) / kWindow * kWindow;
      std::printf("%12zu %14.0f\n", size, size * static_cast<double>(sent) / s / 1e6);
    }
    std::fflush(stdout);
  }
  return child.Wait(std::chrono::seconds(120)) == 0 ? 0 : 1;
}

}  // namespace
}  // namespace mc::shm

int main(int argc, char** argv) {
  std::string mode = argc > 1 ? argv[1] : "lat";
  std::vector<size_t> sizes;
  for (int i = 2; i < argc; ++i) sizes.push_back(std::strtoull(argv[i], nullptr, 0));
  if (sizes.empty()) {
    sizes = mode == "lat" ? std::vector<size_t>{8, 64, 1024, 8192, 16384, 65536}
                          : std::vector<size_t>{4096, 16384, 32768, 65536, 262144, 1 << 20, 4 << 20, 16 << 20, 64 << 20};
  }
  if (mode == "copy") return mc::shm::RunCopy(sizes);
  if (mode != "lat" && mode != "bw") {
    std::fprintf(stderr, "usage: %s lat|bw|copy [sizes...]\n", argv[0]);
    return 2;
  }
  return mc::shm::Run(mode == "lat", sizes);
}
