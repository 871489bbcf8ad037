#include "launcher/local_ranks.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <thread>

#include "absl/strings/str_cat.h"

extern char** environ;

namespace mc {

bool StartedByLauncher() {
  for (const char* name : {"MC_RANK", "RANK", "OMPI_COMM_WORLD_RANK", "SLURM_PROCID"}) {
    if (std::getenv(name) != nullptr) return true;
  }
  return false;
}

namespace {

// Binds 127.0.0.1:port (0: any) and returns the port bound, or -1.
int TryBind(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  socklen_t len = sizeof(addr);
  int bound = -1;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    bound = ntohs(addr.sin_port);
  }
  close(fd);
  return bound;
}

// The low end of the kernel's ephemeral port range (what bind to port 0 and
// outgoing connections use).
int EphemeralLow() {
  std::ifstream in("/proc/sys/net/ipv4/ip_local_port_range");
  int low = 0, high = 0;
  return (in >> low >> high) ? low : 32768;
}

}  // namespace

absl::StatusOr<int> PickFreePort() {
  // Below the ephemeral range: a port the kernel hands out to someone's
  // bind(0) or connect() right after we close ours cannot be ours. Many
  // tests start ranks at once, so the choice is random, then checked.
  const int low = EphemeralLow();
  if (low > 12000) {
    std::random_device rd;
    std::mt19937 gen(rd() ^ static_cast<unsigned>(getpid()));
    std::uniform_int_distribution<int> pick(10000, low - 1);
    for (int attempt = 0; attempt < 200; ++attempt) {
      int port = TryBind(pick(gen));
      if (port > 0) return port;
    }
  }
  int port = TryBind(0);
  if (port <= 0) return absl::InternalError(absl::StrCat("could not find a free port: ", std::strerror(errno)));
  return port;
}

std::string Describe(const RankExit& e) {
  if (e.exited) return absl::StrCat("rank ", e.rank, ": exited with code ", e.exit_code);
  return absl::StrCat("rank ", e.rank, ": killed by signal ", e.signal, " (", strsignal(e.signal), ")",
                      e.timed_out ? " after the timeout" : "");
}

absl::StatusOr<std::vector<RankExit>> RunLocalRanks(const LocalLaunch& launch) {
  if (launch.argv.empty()) return absl::InvalidArgumentError("RunLocalRanks: empty argv");
  if (launch.num_ranks < 1) return absl::InvalidArgumentError("RunLocalRanks: need at least one rank");
  absl::StatusOr<int> port = PickFreePort();
  if (!port.ok()) return port.status();

  std::vector<pid_t> pids(launch.num_ranks, -1);
  std::vector<RankExit> exits(launch.num_ranks);
  for (int r = 0; r < launch.num_ranks; ++r) {
    // Build the child's environment before fork: only async-signal-safe calls after it.
    std::map<std::string, std::string> env;
    for (char** e = environ; *e != nullptr; ++e) {
      std::string entry(*e);
      size_t eq = entry.find('=');
      if (eq != std::string::npos) env[entry.substr(0, eq)] = entry.substr(eq + 1);
    }
    for (const auto& [k, v] : launch.env) env[k] = v;
    env["MC_RANK"] = std::to_string(r);
    env["MC_WORLD_SIZE"] = std::to_string(launch.num_ranks);
    env["MC_BOOTSTRAP"] = absl::StrCat("127.0.0.1:", *port);
    std::vector<std::string> env_strings;
    for (const auto& [k, v] : env) env_strings.push_back(k + "=" + v);
    std::vector<char*> envp, argv;
    for (std::string& s : env_strings) envp.push_back(s.data());
    envp.push_back(nullptr);
    std::vector<std::string> args = launch.argv;
    for (std::string& s : args) argv.push_back(s.data());
    argv.push_back(nullptr);

    pid_t pid = fork();
    if (pid < 0) {
      for (int k = 0; k < r; ++k) kill(pids[k], SIGKILL);
      return absl::InternalError(absl::StrCat("fork: ", std::strerror(errno)));
    }
    if (pid == 0) {
      execve(argv[0], argv.data(), envp.data());
      _exit(127);
    }
    pids[r] = pid;
    exits[r].rank = r;
  }

  const absl::Time deadline = absl::Now() + launch.timeout;
  int running = launch.num_ranks;
  bool killing = false;
  while (running > 0) {
    int status = 0;
    pid_t pid = waitpid(-1, &status, WNOHANG);
    if (pid > 0) {
      for (int r = 0; r < launch.num_ranks; ++r) {
        if (pids[r] != pid) continue;
        exits[r].exited = WIFEXITED(status);
        exits[r].exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        exits[r].signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
        pids[r] = -1;
        --running;
        bool failed = !exits[r].exited || exits[r].exit_code != 0;
        if (failed && launch.kill_all_on_failure && !killing) {
          killing = true;
          for (pid_t other : pids)
            if (other > 0) kill(other, SIGKILL);
        }
      }
      continue;
    }
    if (pid < 0 && errno != EINTR) break;
    if (absl::Now() > deadline && !killing) {
      killing = true;
      for (int r = 0; r < launch.num_ranks; ++r) {
        if (pids[r] > 0) {
          exits[r].timed_out = true;
          kill(pids[r], SIGKILL);
        }
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return exits;
}

}  // namespace mc
