#include "transports/tcp/tcp_test_host.h"

#include <cstdio>
#include <cstring>

#include "gtest/gtest.h"
#include "transports/tcp/tcp_params.h"

namespace mc::tcp::testing {

TestHost::TestHost() {
  table_.ctx = this;
  table_.log = &LogLine;
  table_.get_param = &GetParam;
  table_.peer_failed = &PeerFailed;
  params_["IF"] = "lo";
}

int TestHost::FailuresOf(void* ep) const {
  int n = 0;
  for (const ReportedFailure& f : failures_) n += f.ep == ep;
  return n;
}

void TestHost::LogLine(void* /*ctx*/, mc_log_level_t level, const char* message) {
  if (level <= MC_LOG_WARN) std::fprintf(stderr, "[tcp test host] %s\n", message);
}

mc_result_t TestHost::GetParam(void* ctx, const char* name, char* value, size_t value_len) {
  auto* self = static_cast<TestHost*>(ctx);
  std::string text;
  auto it = self->params_.find(name);
  if (it != self->params_.end()) {
    text = it->second;
  } else {
    bool declared = false;
    for (size_t i = 0; i < kNumTcpParams; ++i) {
      if (std::strcmp(kTcpParams[i].name, name) == 0) {
        text = kTcpParams[i].default_value;
        declared = true;
      }
    }
    if (!declared) {
      ADD_FAILURE() << "tcp asked for undeclared param " << name;
      return MC_ERR_INVALID_ARG;
    }
  }
  if (text.size() + 1 > value_len) return MC_ERR_NO_MEMORY;
  std::memcpy(value, text.c_str(), text.size() + 1);
  return MC_SUCCESS;
}

void TestHost::PeerFailed(void* ctx, void* ep, mc_result_t reason, const char* detail) {
  auto* self = static_cast<TestHost*>(ctx);
  EXPECT_EQ(self->FailuresOf(ep), 0) << "peer_failed called twice for one endpoint: " << detail;
  self->failures_.push_back(ReportedFailure{ep, reason, detail ? detail : ""});
}

mc_result_t InitTcp(const TestHost& host, void** ctx, std::string* err) {
  char text[512] = {};
  mc_result_t r = Ops().init(host.table(), ctx, text, sizeof(text));
  if (err != nullptr) *err = text;
  return r;
}

mc_completion_v1_t WaitFor(void* req, std::initializer_list<void*> others, std::chrono::milliseconds limit) {
  auto deadline = Clock::now() + limit;
  mc_completion_v1_t c{};
  for (;;) {
    int done = 0;
    mc_result_t r = Ops().test(req, &done, &c);
    if (r != MC_SUCCESS) {
      ADD_FAILURE() << "test() returned " << r;
      c.status = r;
      return c;
    }
    if (done) return c;
    if (Clock::now() > deadline) {
      ADD_FAILURE() << "request did not complete in time";
      c.status = MC_ERR_TIMEOUT;
      return c;
    }
    for (void* ctx : others) Ops().progress(ctx);
  }
}

ListenAddress ListenOn(void* ctx, int dev) {
  ListenAddress out;
  out.addr.resize(MC_MAX_ADDR_BYTES);
  size_t len = out.addr.size();
  EXPECT_EQ(Ops().listen(ctx, dev, out.addr.data(), &len, &out.listener), MC_SUCCESS);
  out.addr.resize(len);
  return out;
}

void* AcceptOne(void* listener, std::initializer_list<void*> others, std::string* hello) {
  auto deadline = Clock::now() + kWait;
  char bytes[MC_MAX_HELLO_BYTES];
  for (;;) {
    void* ep = nullptr;
    size_t len = sizeof(bytes);
    mc_result_t r = Ops().accept(listener, &ep, bytes, &len);
    if (r == MC_SUCCESS) {
      if (hello != nullptr) hello->assign(bytes, len);
      return ep;
    }
    if (r != MC_AGAIN) {
      ADD_FAILURE() << "accept returned " << r;
      return nullptr;
    }
    if (Clock::now() > deadline) {
      ADD_FAILURE() << "no connection accepted in time";
      return nullptr;
    }
    for (void* ctx : others) Ops().progress(ctx);
  }
}

Pair ConnectPair(void* ctx_a, void* ctx_b, const std::string& hello) {
  Pair pair;
  ListenAddress listening = ListenOn(ctx_b);
  EXPECT_EQ(Ops().connect(ctx_a, 0, listening.addr.data(), listening.addr.size(), hello.data(), hello.size(),
                          &pair.client),
            MC_SUCCESS);
  std::string got;
  pair.server = AcceptOne(listening.listener, {ctx_a}, &got);
  EXPECT_EQ(got, hello);
  EXPECT_EQ(Ops().close_listener(listening.listener), MC_SUCCESS);
  return pair;
}

}  // namespace mc::tcp::testing
