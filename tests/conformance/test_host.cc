#include "test_host.h"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "child_check.h"
#include "result_names.h"

namespace mc::conformance {
namespace {

// Hosts alive in this process; a callback's ctx must be one of them.
std::mutex g_live_mu;
std::vector<TestHost*>& LiveHosts() {
  static auto* hosts = new std::vector<TestHost*>();
  return *hosts;
}

const char* LevelName(mc_log_level_t level) {
  switch (level) {
    case MC_LOG_ERROR:
      return "ERROR";
    case MC_LOG_WARN:
      return "WARN";
    case MC_LOG_INFO:
      return "INFO";
    case MC_LOG_DEBUG:
      return "DEBUG";
    case MC_LOG_TRACE:
      return "TRACE";
  }
  return "?";
}

// MC_LOG_LEVEL as a name or a number; warn by default.
mc_log_level_t ThresholdFromEnv() {
  const char* text = std::getenv("MC_LOG_LEVEL");
  if (text == nullptr) return MC_LOG_WARN;
  std::string value(text);
  std::transform(value.begin(), value.end(), value.begin(), [](unsigned char c) { return std::tolower(c); });
  const char* names[] = {"error", "warn", "info", "debug", "trace"};
  for (int i = 0; i <= MC_LOG_TRACE; ++i) {
    if (value == names[i] || value == std::to_string(i)) return static_cast<mc_log_level_t>(i);
  }
  return MC_LOG_WARN;
}

}  // namespace

TestHost::TestHost(const mc_plugin_v1_t* plugin) : plugin_(plugin), log_threshold_(ThresholdFromEnv()) {
  table_.ctx = this;
  table_.log = &TestHost::Log;
  table_.get_param = &TestHost::GetParam;
  table_.peer_failed = &TestHost::PeerFailed;
  std::lock_guard<std::mutex> lock(g_live_mu);
  LiveHosts().push_back(this);
}

TestHost::~TestHost() {
  std::lock_guard<std::mutex> lock(g_live_mu);
  std::erase(LiveHosts(), this);
}

std::string TestHost::EnvName(const char* plugin_name, const char* param_name) {
  std::string name = std::string("MC_") + plugin_name + "_" + param_name;
  for (char& c : name)
    c = (c == '-' || c == '.') ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return name;
}

TestHost* TestHost::FromCtx(void* ctx, const char* callback) {
  std::lock_guard<std::mutex> lock(g_live_mu);
  for (TestHost* host : LiveHosts()) {
    if (host == ctx) return host;
  }
  ReportFromChild(std::string("host callback ") + callback +
                  " was called with a ctx that is not the host's ctx (or after finalize)");
  // Recorded on every live host, so the session that owns the plugin sees it.
  for (TestHost* host : LiveHosts()) {
    std::lock_guard<std::mutex> host_lock(host->mu_);
    host->problems_.push_back(std::string(callback) + " called with a wrong ctx");
  }
  return nullptr;
}

void TestHost::AddProblem(std::string problem) {
  std::lock_guard<std::mutex> lock(mu_);
  problems_.push_back(std::move(problem));
}

void TestHost::Log(void* ctx, mc_log_level_t level, const char* message) {
  TestHost* host = FromCtx(ctx, "log");
  if (host == nullptr) return;
  if (message == nullptr) {
    host->AddProblem("log was called with a NULL message");
    return;
  }
  if (level < MC_LOG_ERROR || level > MC_LOG_TRACE) {
    host->AddProblem("log was called with level " + std::to_string(static_cast<int>(level)));
    return;
  }
  if (level > host->log_threshold_) return;
  std::fprintf(stderr, "[%s plugin pid %d %s] %s\n", host->plugin_->name, static_cast<int>(getpid()), LevelName(level),
               message);
}

namespace {

// The ABI promises normalized values: ints and sizes in plain decimal
// ("3K" is "3072"), bools as "1" or "0". Text that does not parse is passed
// as it is (the core would have refused it before init).
std::string NormalizeParam(mc_param_type_t type, std::string_view text) {
  std::string t(text);
  while (!t.empty() && std::isspace(static_cast<unsigned char>(t.back()))) t.pop_back();
  while (!t.empty() && std::isspace(static_cast<unsigned char>(t.front()))) t.erase(0, 1);
  std::string lower;
  for (char c : t) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (type == MC_PARAM_BOOL) {
    if (lower == "1" || lower == "true" || lower == "yes" || lower == "on") return "1";
    if (lower == "0" || lower == "false" || lower == "no" || lower == "off") return "0";
    return t;
  }
  if (type == MC_PARAM_SIZE && !lower.empty()) {
    if (lower.size() > 1 && lower.back() == 'b' && !std::isdigit(static_cast<unsigned char>(lower[lower.size() - 2]))) {
      lower.pop_back();
    }
    unsigned shift = 0;
    switch (lower.back()) {
      case 'k': shift = 10; break;
      case 'm': shift = 20; break;
      case 'g': shift = 30; break;
      case 't': shift = 40; break;
      default: break;
    }
    if (shift != 0) lower.pop_back();
    if (lower.empty() || lower.find_first_not_of("0123456789") != std::string::npos || lower.size() > 19) return t;
    unsigned long long v = std::stoull(lower);
    if (shift != 0 && v > (~0ull >> shift)) return t;
    return std::to_string(v << shift);
  }
  return t;
}

}  // namespace

mc_result_t TestHost::GetParam(void* ctx, const char* name, char* value, size_t value_len) {
  TestHost* host = FromCtx(ctx, "get_param");
  if (host == nullptr) return MC_ERR_INVALID_ARG;
  if (name == nullptr || value == nullptr) {
    host->AddProblem("get_param was called with a NULL name or value buffer");
    return MC_ERR_INVALID_ARG;
  }
  const mc_param_v1_t* declared = nullptr;
  for (size_t i = 0; i < host->plugin_->num_params; ++i) {
    if (host->plugin_->params[i].name != nullptr && std::strcmp(host->plugin_->params[i].name, name) == 0) {
      declared = &host->plugin_->params[i];
    }
  }
  if (declared == nullptr) {
    host->AddProblem(std::string("get_param asked for '") + name + "', which the plugin does not declare");
    return MC_ERR_INVALID_ARG;
  }
  const char* env = std::getenv(EnvName(host->plugin_->name, name).c_str());
  std::string text = NormalizeParam(
      declared->type, env != nullptr ? env : (declared->default_value != nullptr ? declared->default_value : ""));
  if (text.size() + 1 > value_len) return MC_ERR_NO_MEMORY;
  std::memcpy(value, text.data(), text.size());
  value[text.size()] = '\0';
  return MC_SUCCESS;
}

void TestHost::PeerFailed(void* ctx, void* ep, mc_result_t reason, const char* detail) {
  TestHost* host = FromCtx(ctx, "peer_failed");
  if (host == nullptr) return;
  PeerFailure failure{ep, reason, detail != nullptr ? detail : "", Clock::now()};
  std::lock_guard<std::mutex> lock(host->mu_);
  if (reason != MC_ERR_PEER_LOST && reason != MC_ERR_TIMEOUT) {
    host->problems_.push_back("peer_failed reason is " + ResultName(reason) +
                              "; it must be MC_ERR_PEER_LOST or MC_ERR_TIMEOUT");
  }
  if (detail == nullptr || *detail == '\0') {
    host->problems_.push_back("peer_failed was called without a detail text");
  }
  if (ep == nullptr) host->problems_.push_back("peer_failed was called with a NULL endpoint");
  if (std::find(host->closed_eps_.begin(), host->closed_eps_.end(), ep) != host->closed_eps_.end()) {
    host->problems_.push_back("peer_failed was called for an endpoint the core had already closed");
  }
  for (const PeerFailure& earlier : host->failures_) {
    if (earlier.ep == ep && !earlier.ep_closed_since) {
      host->problems_.push_back("peer_failed was called twice for one endpoint (at most once is the contract)");
      break;
    }
  }
  host->failures_.push_back(std::move(failure));
}

void TestHost::EndpointOpened(void* ep) {
  std::lock_guard<std::mutex> lock(mu_);
  std::erase(closed_eps_, ep);
}

void TestHost::EndpointClosed(void* ep) {
  std::lock_guard<std::mutex> lock(mu_);
  closed_eps_.push_back(ep);
  for (PeerFailure& failure : failures_) {
    if (failure.ep == ep) failure.ep_closed_since = true;
  }
}

std::vector<PeerFailure> TestHost::failures() const {
  std::lock_guard<std::mutex> lock(mu_);
  return failures_;
}

std::vector<PeerFailure> TestHost::FailuresOf(void* ep) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<PeerFailure> of_ep;
  for (const PeerFailure& failure : failures_) {
    if (failure.ep == ep && !failure.ep_closed_since) of_ep.push_back(failure);
  }
  return of_ep;
}

std::vector<std::string> TestHost::problems() const {
  std::lock_guard<std::mutex> lock(mu_);
  return problems_;
}

}  // namespace mc::conformance
