// ucx_abi_pingpong: one-way ping-pong latency over a transport plugin through
// the raw C ABI, without the core's Communicator, so that a benchmark can tell
// what the plugin costs from what the core adds (bench/plugin_ucx.sh).
//
//   ucx_abi_pingpong PLUGIN.so [-b 8] [-e 2048] [-f 4] [-n 100000]
//
// Forks two processes that connect over the plugin (the listen address goes
// over a socketpair), then for each size prints "size latency_us": the mean
// one-way time of n round trips after a warm-up. Waits drive test() and
// progress() like the core does. Every wait has a deadline. Any plugin will
// do (bench/plugin_efa.sh runs it over the efa plugin too); its MC_<NAME>_*
// variables are read from the environment as they are.
#include <dlfcn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "mooncomm/plugin_abi.h"

namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kOpDeadline = std::chrono::seconds(10);

struct Options {
  const char* plugin = nullptr;
  size_t min_bytes = 8;
  size_t max_bytes = 2048;
  size_t factor = 4;
  long iters = 100000;
};

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "ucx_abi_pingpong: %s\n", what.c_str());
  _exit(1);
}

void HostLog(void*, mc_log_level_t level, const char* message) {
  if (level <= MC_LOG_WARN) std::fprintf(stderr, "%s\n", message);
}

// A declared param from MC_<PLUGIN>_<NAME> in the environment, as it is (no
// normalization: give sizes in decimal bytes), else its declared default.
const mc_plugin_v1_t* g_plugin = nullptr;
mc_result_t HostParam(void*, const char* name, char* value, size_t len) {
  for (size_t i = 0; i < g_plugin->num_params; ++i) {
    if (std::strcmp(g_plugin->params[i].name, name) != 0) continue;
    std::string variable = "MC_";
    for (const char* c = g_plugin->name; *c != '\0'; ++c) {
      variable += *c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(*c)));
    }
    variable += std::string("_") + name;
    const char* env = std::getenv(variable.c_str());
    const char* text = env != nullptr ? env : g_plugin->params[i].default_value;
    if (std::strlen(text) + 1 > len) return MC_ERR_NO_MEMORY;
    std::snprintf(value, len, "%s", text);
    return MC_SUCCESS;
  }
  return MC_ERR_INVALID_ARG;
}

void HostPeerFailed(void*, void*, mc_result_t, const char* detail) { Die(std::string("peer failed: ") + detail); }

void ReadAll(int fd, void* buf, size_t len) {
  char* p = static_cast<char*>(buf);
  while (len > 0) {
    const ssize_t n = read(fd, p, len);
    if (n <= 0) Die("the other process went away");
    p += n;
    len -= static_cast<size_t>(n);
  }
}

class Side {
 public:
  Side(const mc_plugin_v1_t* plugin, int rank, int fd) : t_(*plugin->transport), rank_(rank), fd_(fd) {
    static mc_host_v1_t host{nullptr, &HostLog, &HostParam, &HostPeerFailed};
    char err[256] = {0};
    if (t_.init(&host, &ctx_, err, sizeof(err)) != MC_SUCCESS) Die(std::string("init failed: ") + err);
  }

  void Connect() {
    if (rank_ == 0) {
      char addr[MC_MAX_ADDR_BYTES];
      size_t len = sizeof(addr);
      void* listener = nullptr;
      if (t_.listen(ctx_, 0, addr, &len, &listener) != MC_SUCCESS) Die("listen failed");
      if (write(fd_, &len, sizeof(len)) != sizeof(len) || write(fd_, addr, len) != static_cast<ssize_t>(len)) {
        Die("writing the address failed");
      }
      const Clock::time_point deadline = Clock::now() + kOpDeadline;
      for (;;) {
        char hello[MC_MAX_HELLO_BYTES];
        size_t hello_len = sizeof(hello);
        if (t_.accept(listener, &ep_, hello, &hello_len) == MC_SUCCESS) break;
        if (Clock::now() > deadline) Die("no connection arrived");
        t_.progress(ctx_);
      }
      t_.close_listener(listener);
    } else {
      size_t len = 0;
      char addr[MC_MAX_ADDR_BYTES];
      ReadAll(fd_, &len, sizeof(len));
      if (len > sizeof(addr)) Die("bad address length");
      ReadAll(fd_, addr, len);
      if (t_.connect(ctx_, 0, addr, len, "pp", 2, &ep_) != MC_SUCCESS) Die("connect failed");
    }
  }

  // Mean one-way latency of `iters` round trips of `bytes`.
  double PingPong(size_t bytes, long iters) {
    std::vector<char> out(bytes, 1), in(bytes);
    for (long i = 0; i < iters / 10 + 10; ++i) RoundTrip(out, in);
    const Clock::time_point start = Clock::now();
    for (long i = 0; i < iters; ++i) RoundTrip(out, in);
    return std::chrono::duration<double, std::micro>(Clock::now() - start).count() / static_cast<double>(iters) / 2;
  }

  void Finish() {
    char token = 0;
    if (write(fd_, &token, 1) != 1) Die("writing the end token failed");
    ReadAll(fd_, &token, 1);
    t_.close(ep_);
    t_.finalize(ctx_);
  }

 private:
  void RoundTrip(std::vector<char>& out, std::vector<char>& in) {
    void* recv = nullptr;
    void* send = nullptr;
    if (t_.irecv(ep_, 7, in.data(), in.size(), nullptr, &recv) != MC_SUCCESS) Die("irecv failed");
    if (rank_ == 0) {
      Post(out, &send);
      Wait(send);
      Wait(recv);
    } else {
      Wait(recv);
      Post(out, &send);
      Wait(send);
    }
  }

  void Post(std::vector<char>& out, void** send) {
    if (t_.isend(ep_, 7, out.data(), out.size(), nullptr, send) != MC_SUCCESS) Die("isend failed");
  }

  void Wait(void* req) {
    int done = 0;
    mc_completion_v1_t completion{};
    for (long spins = 0;; ++spins) {
      if (t_.test(req, &done, &completion) != MC_SUCCESS) Die("test failed");
      if (done) break;
      t_.progress(ctx_);
      if ((spins & 0xffff) == 0xffff && Clock::now() - last_done_ > kOpDeadline) Die("an operation did not complete");
    }
    if (completion.status != MC_SUCCESS) Die("an operation failed with status " + std::to_string(completion.status));
    last_done_ = Clock::now();
  }

  const mc_transport_v1_t& t_;
  int rank_;
  int fd_;
  void* ctx_ = nullptr;
  void* ep_ = nullptr;
  Clock::time_point last_done_ = Clock::now();
};

void RunSide(const Options& options, int rank, int fd) {
  void* library = dlopen(options.plugin, RTLD_NOW | RTLD_LOCAL);
  if (library == nullptr) Die(std::string("dlopen failed: ") + dlerror());
  g_plugin = static_cast<const mc_plugin_v1_t*>(dlsym(library, MC_PLUGIN_SYMBOL_V1));
  if (g_plugin == nullptr) Die(std::string(options.plugin) + " has no " + MC_PLUGIN_SYMBOL_V1);
  Side side(g_plugin, rank, fd);
  side.Connect();
  if (rank == 0) std::printf("#      size(B)    lat(us)\n");
  for (size_t bytes = options.min_bytes; bytes <= options.max_bytes; bytes *= options.factor) {
    const double latency = side.PingPong(bytes, options.iters);
    if (rank == 0) std::printf("%14zu %10.3f\n", bytes, latency);
    std::fflush(stdout);
  }
  side.Finish();
}

Options Parse(int argc, char** argv) {
  Options o;
  if (argc < 2) Die("usage: ucx_abi_pingpong PLUGIN.so [-b MIN] [-e MAX] [-f FACTOR] [-n ITERS]");
  o.plugin = argv[1];
  for (int i = 2; i + 1 < argc; i += 2) {
    const long value = std::atol(argv[i + 1]);
    if (value < 1) Die(std::string("bad value for ") + argv[i]);
    if (std::strcmp(argv[i], "-b") == 0) {
      o.min_bytes = static_cast<size_t>(value);
    } else if (std::strcmp(argv[i], "-e") == 0) {
      o.max_bytes = static_cast<size_t>(value);
    } else if (std::strcmp(argv[i], "-f") == 0 && value >= 2) {
      o.factor = static_cast<size_t>(value);
    } else if (std::strcmp(argv[i], "-n") == 0) {
      o.iters = value;
    } else {
      Die(std::string("unknown or bad flag ") + argv[i]);
    }
  }
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  const Options options = Parse(argc, argv);
  int fds[2];
  if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds) != 0) Die("socketpair failed");
  const pid_t child = fork();
  if (child < 0) Die("fork failed");
  if (child == 0) {
    close(fds[0]);
    RunSide(options, 1, fds[1]);
    _exit(0);
  }
  close(fds[1]);
  RunSide(options, 0, fds[0]);
  int status = 0;
  waitpid(child, &status, 0);
  return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}
