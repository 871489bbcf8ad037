// A quick two-process measurement of the tcp transport through its ABI:
// one-way latency of a ping-pong, and streaming bandwidth with a window of
// sends in flight. Not a test; run by hand:
//   tcp_perf_check [latency|bandwidth] [bytes] [iterations]
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "mooncomm/plugin_abi.h"

extern "C" const mc_plugin_v1_t mc_builtin_tcp_plugin;

namespace {

pid_t g_child = -1;  // in the initiator: the other process

const mc_transport_v1_t& Ops() { return *mc_builtin_tcp_plugin.transport; }

mc_result_t GetParam(void*, const char* name, char* value, size_t len) {
  std::string env = std::string("MC_TCP_") + name;
  const char* set = std::getenv(env.c_str());
  std::string text;
  if (set != nullptr) {
    text = set;
  } else {
    for (size_t i = 0; i < mc_builtin_tcp_plugin.num_params; ++i) {
      if (std::strcmp(mc_builtin_tcp_plugin.params[i].name, name) == 0) {
        text = mc_builtin_tcp_plugin.params[i].default_value;
      }
    }
    if (std::strcmp(name, "IF") == 0) text = "lo";
  }
  if (text.size() + 1 > len) return MC_ERR_NO_MEMORY;
  std::memcpy(value, text.c_str(), text.size() + 1);
  return MC_SUCCESS;
}

void LogLine(void*, mc_log_level_t level, const char* message) {
  if (level <= MC_LOG_WARN) std::fprintf(stderr, "%s\n", message);
}

void PeerFailed(void*, void*, mc_result_t, const char* detail) {
  std::fprintf(stderr, "peer failed: %s\n", detail);
}

const mc_host_v1_t kHost = {nullptr, LogLine, GetParam, PeerFailed};

void Wait(void* req) {
  int done = 0;
  mc_completion_v1_t c;
  while (Ops().test(req, &done, &c) == MC_SUCCESS && !done) {
  }
  if (c.status != MC_SUCCESS) {
    std::fprintf(stderr, "request failed: %d\n", c.status);
    int status = 0;
    if (g_child > 0 && waitpid(g_child, &status, 0) == g_child) {
      std::fprintf(stderr, "peer process status %d\n", status);
    }
    std::exit(3);
  }
}

void* Init() {
  void* ctx = nullptr;
  char err[256];
  if (Ops().init(&kHost, &ctx, err, sizeof(err)) != MC_SUCCESS) {
    std::fprintf(stderr, "init: %s\n", err);
    std::exit(2);
  }
  return ctx;
}

// Runs one side of the measurement; `initiator` prints the result.
void Run(void* ep, bool initiator, const std::string& mode, size_t bytes, int iters) {
  std::vector<char> buf(bytes, 'x');
  void* req = nullptr;
  constexpr int kWarmup = 100;
  constexpr int kWindow = 16;
  auto start = std::chrono::steady_clock::now();
  std::vector<double> round_trips;
  if (mode == "latency") {
    for (int i = 0; i < iters + kWarmup; ++i) {
      if (i == kWarmup) start = std::chrono::steady_clock::now();
      auto t0 = std::chrono::steady_clock::now();
      if (initiator) {
        Ops().isend(ep, 1, buf.data(), bytes, nullptr, &req);
        Wait(req);
        Ops().irecv(ep, 1, buf.data(), bytes, nullptr, &req);
        Wait(req);
      } else {
        Ops().irecv(ep, 1, buf.data(), bytes, nullptr, &req);
        Wait(req);
        Ops().isend(ep, 1, buf.data(), bytes, nullptr, &req);
        Wait(req);
      }
      if (i >= kWarmup) {
        round_trips.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
      }
    }
  } else {
    std::vector<void*> reqs(kWindow);
    for (int i = 0; i < iters / kWindow + 1; ++i) {
      if (i == 1) start = std::chrono::steady_clock::now();
      for (void*& r : reqs) {
        if (initiator) {
          Ops().isend(ep, 2, buf.data(), bytes, nullptr, &r);
        } else {
          Ops().irecv(ep, 2, buf.data(), bytes, nullptr, &r);
        }
      }
      for (void* r : reqs) Wait(r);
      // A zero-byte ack closes each window, as ucx_perftest's tag_bw does.
      char ack = 0;
      if (initiator) {
        Ops().irecv(ep, 3, &ack, 0, nullptr, &req);
      } else {
        Ops().isend(ep, 3, &ack, 0, nullptr, &req);
      }
      Wait(req);
    }
  }
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!initiator) return;
  if (mode == "latency") {
    std::sort(round_trips.begin(), round_trips.end());
    // The median resists the noise of a shared machine; ucx_perftest prints both too.
    std::printf("latency %zu bytes: median %.3f us, average %.3f us one-way (%d round trips)\n", bytes,
                round_trips[round_trips.size() / 2] * 1e6 / 2, seconds * 1e6 / iters / 2, iters);
  } else {
    int counted = (iters / kWindow) * kWindow;
    std::printf("bandwidth %zu bytes: %.1f MB/s (%d messages)\n", bytes, bytes * double(counted) / seconds / 1e6,
                counted);
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::string mode = argc > 1 ? argv[1] : "latency";
  size_t bytes = argc > 2 ? std::strtoull(argv[2], nullptr, 0) : (mode == "latency" ? 8 : 1 << 20);
  int iters = argc > 3 ? std::atoi(argv[3]) : (mode == "latency" ? 20000 : 2000);
  int pipe_fds[2];
  if (pipe(pipe_fds) != 0) return 1;
  pid_t child = fork();
  if (child == 0) {
    alarm(120);
    uint8_t addr[MC_MAX_ADDR_BYTES];
    ssize_t n = read(pipe_fds[0], addr, sizeof(addr));
    if (n <= 0) _exit(1);
    void* ctx = Init();
    void* ep = nullptr;
    Ops().connect(ctx, 0, addr, static_cast<size_t>(n), nullptr, 0, &ep);
    Run(ep, false, mode, bytes, iters);
    Ops().finalize(ctx);
    _exit(0);
  }
  void* ctx = Init();
  uint8_t addr[MC_MAX_ADDR_BYTES];
  size_t addr_len = sizeof(addr);
  void* listener = nullptr;
  Ops().listen(ctx, 0, addr, &addr_len, &listener);
  if (write(pipe_fds[1], addr, addr_len) != static_cast<ssize_t>(addr_len)) return 1;
  void* ep = nullptr;
  size_t hello_len = 0;
  while (Ops().accept(listener, &ep, nullptr, &hello_len) == MC_AGAIN) hello_len = 0;
  g_child = child;
  Run(ep, true, mode, bytes, iters);
  int status = 0;
  waitpid(child, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) std::fprintf(stderr, "peer process status %d\n", status);
  Ops().finalize(ctx);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
