// Runs the real mc_info binary in a child process and checks what it prints.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cstring>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

extern char** environ;

namespace {

using ::testing::AllOf;
using ::testing::ContainsRegex;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

constexpr int kDeadlineMs = 30000;

struct Result {
  int exit_code = -1;  // -1: killed or did not exit normally
  std::string out;
  std::string err;
};

int64_t NowMs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t{ts.tv_sec} * 1000 + ts.tv_nsec / 1000000;
}

// Runs mc_info with `args`; `env` sets (value) or removes (nullopt) variables
// on top of this process's environment. The child is killed at the deadline.
Result RunMcInfo(const std::vector<std::string>& args,
                 const std::map<std::string, std::optional<std::string>>& env = {}) {
  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string entry = *e;
    std::string name = entry.substr(0, entry.find('='));
    if (env.count(name) == 0) env_strings.push_back(entry);
  }
  for (const auto& [name, value] : env) {
    if (value) env_strings.push_back(name + "=" + *value);
  }
  std::vector<char*> envp;
  for (std::string& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<std::string> argv_strings = {MC_INFO_BINARY};
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& s : argv_strings) argv.push_back(s.data());
  argv.push_back(nullptr);

  int out_pipe[2];
  int err_pipe[2];
  Result result;
  if (pipe2(out_pipe, O_CLOEXEC) != 0 || pipe2(err_pipe, O_CLOEXEC) != 0) {
    ADD_FAILURE() << "pipe2: " << std::strerror(errno);
    return result;
  }
  pid_t pid = fork();
  if (pid < 0) {
    ADD_FAILURE() << "fork: " << std::strerror(errno);
    return result;
  }
  if (pid == 0) {
    dup2(out_pipe[1], STDOUT_FILENO);
    dup2(err_pipe[1], STDERR_FILENO);
    execve(argv[0], argv.data(), envp.data());
    _exit(127);
  }
  close(out_pipe[1]);
  close(err_pipe[1]);
  pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
  std::string* sinks[2] = {&result.out, &result.err};
  int open_fds = 2;
  int64_t deadline = NowMs() + kDeadlineMs;
  bool timed_out = false;
  while (open_fds > 0) {
    int64_t left = deadline - NowMs();
    if (left <= 0) {
      timed_out = true;
      break;
    }
    if (poll(fds, 2, static_cast<int>(left)) < 0 && errno != EINTR) break;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      char buf[4096];
      ssize_t n = read(fds[i].fd, buf, sizeof(buf));
      if (n > 0) {
        sinks[i]->append(buf, static_cast<size_t>(n));
      } else if (n == 0 || errno != EINTR) {
        close(fds[i].fd);
        fds[i].fd = -1;
        --open_fds;
      }
    }
  }
  for (pollfd& p : fds) {
    if (p.fd >= 0) close(p.fd);
  }
  if (timed_out) {
    kill(pid, SIGKILL);
    ADD_FAILURE() << "mc_info did not finish within " << kDeadlineMs << " ms";
  }
  int status = 0;
  waitpid(pid, &status, 0);
  if (WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
  return result;
}

// A clean environment for mc_info: no stray MC_* variables from the caller.
std::map<std::string, std::optional<std::string>> CleanEnv() {
  std::map<std::string, std::optional<std::string>> env;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string entry = *e;
    if (entry.rfind("MC_", 0) == 0) env[entry.substr(0, entry.find('='))] = std::nullopt;
  }
  return env;
}

TEST(McInfoTest, ListsBuiltinTransportsAndCoreVariables) {
  Result r = RunMcInfo({}, CleanEnv());
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_THAT(r.out, StartsWith(std::string("MoonComm ") + MC_VERSION_STRING + "\n"));
  EXPECT_THAT(r.out, HasSubstr("CUDA support:"));
  EXPECT_THAT(r.out, HasSubstr("Plugin search path"));
  EXPECT_THAT(r.out, HasSubstr("  tcp  (built-in, ABI version 1"));
  EXPECT_THAT(r.out, HasSubstr("  shm  (built-in, ABI version 1"));
  EXPECT_THAT(r.out, HasSubstr("max_message_bytes:"));
  EXPECT_THAT(r.out, HasSubstr("MC_TIMEOUT_MS"));
  EXPECT_THAT(r.out, ContainsRegex("MC_TIMEOUT_MS +\"30000\" +default +core +int: "));
  EXPECT_THAT(r.out, Not(HasSubstr("error:")));
}

TEST(McInfoTest, ShowsWhereAValueCameFrom) {
  auto env = CleanEnv();
  env["MC_TIMEOUT_MS"] = "4500";
  Result r = RunMcInfo({}, env);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_THAT(r.out, ContainsRegex("MC_TIMEOUT_MS +\"4500\" +environment +core"));
}

TEST(McInfoTest, BadValueIsNamedAndFailsTheExitCode) {
  auto env = CleanEnv();
  env["MC_TIMEOUT_MS"] = "soon";
  Result r = RunMcInfo({}, env);
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("error: MC_TIMEOUT_MS='soon' is not an integer"));

  env["MC_TIMEOUT_MS"] = "-5";
  r = RunMcInfo({}, env);
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("error: MC_TIMEOUT_MS=-5 must be a positive number"));
}

TEST(McInfoTest, BadTransportChoiceFailsTheExitCode) {
  auto env = CleanEnv();
  env["MC_TRANSPORT"] = "tcp,,shm";
  Result r = RunMcInfo({}, env);
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("error: MC_TRANSPORT='tcp,,shm': item 2 is empty"));

  env["MC_TRANSPORT"] = "shm,nosuchnet";
  r = RunMcInfo({}, env);
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_THAT(r.out, AllOf(HasSubstr("error: MC_TRANSPORT names 'nosuchnet', which cannot be loaded"),
                           HasSubstr("libmooncomm-nosuchnet.so")));

  env["MC_TRANSPORT"] = "SHM, tcp";
  r = RunMcInfo({}, env);
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
}

TEST(McInfoTest, WarnsAboutUnknownVariables) {
  auto env = CleanEnv();
  env["MC_TIMEOUTMS"] = "100";
  Result r = RunMcInfo({}, env);
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_THAT(r.out,
              HasSubstr("warning: MC_TIMEOUTMS is set, but neither the core nor any transport found declares it"));
}

TEST(McInfoTest, ReportsPluginFilesThatCannotLoadOrCannotRun) {
  auto env = CleanEnv();
  std::string broken = std::string(MC_TEST_PLUGIN_DIR) + "/broken";
  std::string good = std::string(MC_TEST_PLUGIN_DIR) + "/good";
  env["MC_PLUGIN_PATH"] = broken + ":" + good;
  env["MC_MINIMAL_LEVEL"] = "9";
  Result r = RunMcInfo({}, env);
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("  " + broken + "\n"));
  EXPECT_THAT(r.out, HasSubstr("  " + good + "\n"));
  EXPECT_THAT(r.out,
              HasSubstr("  onlyv7\n    cannot load: " + broken +
                        "/libmooncomm-onlyv7.so exports mc_plugin_v7 only; this MoonComm supports ABI version 1"));
  EXPECT_THAT(r.out, HasSubstr("  nosymbol\n    cannot load: " + broken + "/libmooncomm-nosymbol.so exports none of"));
  EXPECT_THAT(r.out, HasSubstr("  minimal  (" + good +
                               "/libmooncomm-minimal.so, ABI version 1, plugin version 1.0)\n"
                               "    transport 'minimal' (" +
                               good +
                               "/libmooncomm-minimal.so) cannot run here: "
                               "the minimal test plugin never has a device (MC_ERR_NO_DEVICE)"));
  // The plugin's own variable is known (not warned about) and shows its source.
  EXPECT_THAT(r.out, HasSubstr("MC_MINIMAL_LEVEL"));
  EXPECT_THAT(r.out, ContainsRegex("MC_MINIMAL_LEVEL +\"9\" +environment +minimal +int: "));
  EXPECT_THAT(r.out, Not(HasSubstr("warning: MC_MINIMAL_LEVEL")));
}

TEST(McInfoTest, BadValueOfAPluginVariableFailsTheExitCode) {
  auto env = CleanEnv();
  env["MC_PLUGIN_PATH"] = std::string(MC_TEST_PLUGIN_DIR) + "/good";
  env["MC_MINIMAL_LEVEL"] = "high";
  Result r = RunMcInfo({}, env);
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("error: MC_MINIMAL_LEVEL='high' is not an integer"));
}

TEST(McInfoTest, MarkdownPrintsOnlyTheVariableTable) {
  auto env = CleanEnv();
  env["MC_TIMEOUT_MS"] = "1234";  // the table shows defaults, not this process's values
  Result r = RunMcInfo({"--markdown"}, env);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_THAT(r.out, StartsWith("| Variable | Type | Default | Owner | Description |\n|---|---|---|---|---|\n"));
  EXPECT_THAT(r.out, HasSubstr("| `MC_TIMEOUT_MS` | int | `30000` | core | "));
  EXPECT_THAT(r.out, HasSubstr("| `MC_LOG_LEVEL` | enum (error\\|warn\\|info\\|debug\\|trace) | `warn` | core | "));
  EXPECT_THAT(r.out, Not(HasSubstr("1234")));
  size_t start = 0;
  int rows = 0;
  while (start < r.out.size()) {
    size_t end = r.out.find('\n', start);
    ASSERT_NE(end, std::string::npos) << "last line is not terminated";
    std::string line = r.out.substr(start, end - start);
    EXPECT_EQ(line.front(), '|') << line;
    EXPECT_EQ(line.back(), '|') << line;
    start = end + 1;
    ++rows;
  }
  EXPECT_GE(rows, 2 + 9);  // header, separator and at least the core's variables
}

TEST(McInfoTest, UnknownArgumentIsAUsageError) {
  Result r = RunMcInfo({"--bogus"}, CleanEnv());
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, AllOf(HasSubstr("unknown argument '--bogus'"), HasSubstr("usage: mc_info")));
}

}  // namespace
