#include "session.h"

#include <sched.h>

#include <thread>

#include "child_check.h"
#include "result_names.h"

namespace mc::conformance {
namespace {

constexpr std::chrono::seconds kThreadExitGrace{1};

// Keeps busy loops friendly to the peers sharing the CPUs.
void Yield() { sched_yield(); }

}  // namespace

Session::Session(const mc_plugin_v1_t* plugin)
    : plugin_(plugin), host_(std::make_unique<TestHost>(plugin)), before_init_(ProcessSnapshot::Take()) {
  char err[512] = {0};
  mc_result_t rc = t().init(host_->table(), &ctx_, err, sizeof(err));
  err[sizeof(err) - 1] = '\0';
  if (rc == MC_ERR_NO_DEVICE) {
    CONF_CHECK(err[0] != '\0') << "init returned MC_ERR_NO_DEVICE without saying why in err";
    ExitChild(kChildNoDevice, std::string("init returned MC_ERR_NO_DEVICE: ") + err);
  }
  CONF_CHECK(rc == MC_SUCCESS) << "init returned " << ResultName(rc) << ": " << err;
  CONF_CHECK(ctx_ != nullptr) << "init returned MC_SUCCESS but no context";
}

int Session::DeviceCount() {
  int count = -1;
  CONF_CHECK_RC(t().device_count(ctx_, &count), MC_SUCCESS) << "device_count";
  CONF_CHECK(count >= 1) << "device_count reports " << count << " devices after a successful init";
  return count;
}

mc_device_props_v1_t Session::DeviceProps(int dev) {
  mc_device_props_v1_t props{};
  CONF_CHECK_RC(plugin_->topology->device_props(ctx_, dev, &props), MC_SUCCESS) << "device " << dev;
  return props;
}

void Session::Progress() {
  mc_result_t rc = t().progress(ctx_);
  CONF_CHECK(rc == MC_SUCCESS || rc == MC_AGAIN) << "progress returned " << ResultName(rc);
}

std::string Session::Listen(int dev, void** listener) {
  char addr[MC_MAX_ADDR_BYTES];
  size_t len = sizeof(addr);
  *listener = nullptr;
  CONF_CHECK_RC(t().listen(ctx_, dev, addr, &len, listener), MC_SUCCESS) << "listen on device " << dev;
  CONF_CHECK(*listener != nullptr) << "listen returned MC_SUCCESS but no listener";
  CONF_CHECK(len > 0 && len <= MC_MAX_ADDR_BYTES) << "listen's address is " << len << " bytes";
  return std::string(addr, len);
}

void* Session::Accept(void* listener, std::string* hello, const Deadline& deadline) {
  for (;;) {
    void* ep = nullptr;
    char buf[MC_MAX_HELLO_BYTES];
    size_t len = sizeof(buf);
    mc_result_t rc = t().accept(listener, &ep, buf, &len);
    if (rc == MC_SUCCESS) {
      CONF_CHECK(ep != nullptr) << "accept returned MC_SUCCESS but no endpoint";
      CONF_CHECK(len <= MC_MAX_HELLO_BYTES) << "accept says the hello is " << len << " bytes";
      host_->EndpointOpened(ep);
      if (hello != nullptr) hello->assign(buf, len);
      return ep;
    }
    CONF_CHECK(rc == MC_AGAIN) << "accept returned " << ResultName(rc);
    CONF_CHECK(!deadline.Expired()) << "no connection was accepted within the deadline";
    Progress();
    Yield();
  }
}

void* Session::Connect(int dev, std::string_view addr, std::string_view hello) {
  void* ep = nullptr;
  CONF_CHECK_RC(t().connect(ctx_, dev, addr.data(), addr.size(), hello.data(), hello.size(), &ep), MC_SUCCESS)
      << "connect on device " << dev;
  CONF_CHECK(ep != nullptr) << "connect returned MC_SUCCESS but no endpoint";
  host_->EndpointOpened(ep);
  return ep;
}

void Session::Close(void* ep) {
  host_->EndpointClosed(ep);
  CONF_CHECK_RC(t().close(ep), MC_SUCCESS) << "close";
}

void Session::CloseListener(void* listener) {
  CONF_CHECK_RC(t().close_listener(listener), MC_SUCCESS) << "close_listener";
}

namespace {

// Calls `post` until it stops answering MC_AGAIN, driving progress meanwhile.
template <typename Post>
void* PostWithRetry(Session& session, const char* what, Post post) {
  const Deadline deadline = Deadline::After(kOpTimeout);
  for (;;) {
    void* req = nullptr;
    mc_result_t rc = post(&req);
    if (rc == MC_SUCCESS) {
      CONF_CHECK(req != nullptr) << what << " returned MC_SUCCESS but no request";
      return req;
    }
    CONF_CHECK(rc == MC_AGAIN) << what << " returned " << ResultName(rc);
    CONF_CHECK(!deadline.Expired()) << what << " kept returning MC_AGAIN";
    session.Progress();
    Yield();
  }
}

}  // namespace

void* Session::PostSend(void* ep, uint64_t tag, const void* buf, size_t len, void* mr) {
  return PostWithRetry(*this, "isend", [&](void** req) { return t().isend(ep, tag, buf, len, mr, req); });
}

void* Session::PostRecv(void* ep, uint64_t tag, void* buf, size_t len, void* mr) {
  return PostWithRetry(*this, "irecv", [&](void** req) { return t().irecv(ep, tag, buf, len, mr, req); });
}

void* Session::PostPut(void* ep, const void* buf, size_t len, void* mr, uint64_t remote_addr, void* rkey,
                       uint64_t notify) {
  return PostWithRetry(*this, "iput",
                       [&](void** req) { return t().iput(ep, buf, len, mr, remote_addr, rkey, notify, req); });
}

bool Session::Test(void* req, mc_completion_v1_t* completion, std::string_view what) {
  int done = 0;
  *completion = mc_completion_v1_t{};
  mc_result_t rc = t().test(req, &done, completion);
  // test() reports on the call; the operation's own result is completion->status.
  CONF_CHECK(rc == MC_SUCCESS || (rc == MC_AGAIN && done == 0))
      << what << ": test() returned " << ResultName(rc) << " with done=" << done
      << " (an operation's failure belongs in completion.status)";
  CONF_CHECK(done == 0 || done == 1) << what << ": test() set done=" << done;
  return done == 1;
}

mc_completion_v1_t Session::Wait(void* req, std::string_view what, const Deadline& deadline) {
  for (;;) {
    mc_completion_v1_t completion;
    if (Test(req, &completion, what)) return completion;
    CONF_CHECK(!deadline.Expired()) << what << ": the request did not complete within the deadline";
    Progress();
    Yield();
  }
}

mc_completion_v1_t Session::Wait(void* req, std::string_view what) {
  return Wait(req, what, Deadline::After(kOpTimeout));
}

std::vector<mc_completion_v1_t> Session::WaitAll(const std::vector<void*>& reqs, std::string_view what,
                                                 const Deadline& deadline) {
  std::vector<mc_completion_v1_t> completions(reqs.size());
  std::vector<bool> done(reqs.size(), false);
  size_t remaining = reqs.size();
  while (remaining > 0) {
    for (size_t i = 0; i < reqs.size(); ++i) {
      if (done[i]) continue;
      if (Test(reqs[i], &completions[i], what)) {
        done[i] = true;
        --remaining;
      }
    }
    if (remaining == 0) break;
    CONF_CHECK(!deadline.Expired()) << what << ": " << remaining << " of " << reqs.size()
                                    << " requests did not complete within the deadline";
    Progress();
    Yield();
  }
  return completions;
}

void* Session::Register(void* ptr, size_t len) {
  void* mr = nullptr;
  CONF_CHECK_RC(m().reg(ctx_, ptr, len, MC_MEM_HOST, &mr), MC_SUCCESS) << "reg of " << len << " host bytes";
  CONF_CHECK(mr != nullptr) << "reg returned MC_SUCCESS but no registration";
  return mr;
}

void Session::Deregister(void* mr) { CONF_CHECK_RC(m().dereg(ctx_, mr), MC_SUCCESS) << "dereg"; }

std::string Session::PackRkey(void* mr) {
  char buf[MC_MAX_RKEY_BYTES];
  size_t len = sizeof(buf);
  CONF_CHECK_RC(m().pack_rkey(ctx_, mr, buf, &len), MC_SUCCESS) << "pack_rkey";
  CONF_CHECK(len > 0 && len <= MC_MAX_RKEY_BYTES) << "pack_rkey says the key is " << len << " bytes";
  return std::string(buf, len);
}

void Session::ExpectNoHostProblems() {
  for (const std::string& problem : host_->problems()) CONF_EXPECT(false) << problem;
}

void Session::ExpectNoPeerFailures(std::string_view when) {
  for (const PeerFailure& failure : host_->failures()) {
    CONF_EXPECT(false) << "peer_failed(" << ResultName(failure.reason) << ", \"" << failure.detail
                       << "\") was reported " << when;
  }
}

void Session::Finalize() {
  CONF_CHECK_RC(t().finalize(ctx_), MC_SUCCESS) << "finalize";
  ctx_ = nullptr;
  // A joined thread can linger in /proc for a moment after it returned.
  const Deadline grace = Deadline::After(kThreadExitGrace);
  ProcessSnapshot after = ProcessSnapshot::Take();
  while (after.threads > before_init_.threads && !grace.Expired()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    after = ProcessSnapshot::Take();
  }
  for (const std::string& leftover : DescribeLeftovers(before_init_, after)) {
    CONF_EXPECT(false) << "after finalize: " << leftover;
  }
  ExpectNoHostProblems();
  CONF_EXPECT(!LeakSanitizerFindsLeaks()) << "LeakSanitizer found memory that finalize did not free (report above)";
}

}  // namespace mc::conformance
