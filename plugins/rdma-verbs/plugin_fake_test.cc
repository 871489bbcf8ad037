// The whole plugin through its C ABI -- listen / connect / accept over real
// side sockets, the handshake, tagged messages, puts, keys, close, peer
// close, finalize -- with two contexts in this process whose queue pairs are
// the in-process fake (fake_fabric.h) instead of a device. What this cannot
// show: anything of ibv_port.cc, and a killed peer process (the conformance
// suite covers that on hardware).
#include <dirent.h>

#include <chrono>
#include <cstring>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "connection.h"
#include "context.h"
#include "fake_fabric.h"
#include "gtest/gtest.h"
#include "rdma_plugin.h"

namespace mc::rdma {
namespace {

using ::mc::rdma::testing::FakeMemoryDomain;
using ::mc::rdma::testing::FakePort;
using ::mc::rdma::testing::FakeQpOptions;
using Clock = std::chrono::steady_clock;

const mc_transport_v1_t& T() { return *RdmaPluginTable()->transport; }
const mc_memory_v1_t& M() { return *RdmaPluginTable()->memory; }

int OpenDescriptors() {
  int n = 0;
  DIR* dir = opendir("/proc/self/fd");
  while (readdir(dir) != nullptr) ++n;
  closedir(dir);
  return n;
}

std::string Pattern(size_t len, uint32_t seed) {
  std::string out(len, '\0');
  uint32_t x = seed * 2654435761u + 7;
  for (char& c : out) {
    x = x * 1103515245u + 12345u;
    c = static_cast<char>(x >> 16);
  }
  return out;
}

// One process-side of a test: a host table, a fake device, a context.
class Side {
 public:
  explicit Side(uint64_t guid, std::map<std::string, std::string> params = {}) : domain_(guid) {
    params_ = std::move(params);
    host_.ctx = this;
    host_.log = &Side::Log;
    host_.get_param = &Side::GetParam;
    host_.peer_failed = &Side::PeerFailed;
    StatusOr<RdmaConfig> config = ReadRdmaConfig(host_);
    EXPECT_TRUE(config.ok()) << config.status().message();
    FakeQpOptions q;
    q.seed = static_cast<uint32_t>(guid);
    ContextDevices devices;
    devices.ports.push_back(std::make_unique<FakePort>(&domain_, "fake0:1", q));
    StatusOr<std::unique_ptr<RdmaContext>> ctx = RdmaContext::CreateWithDevices(host_, *config, std::move(devices));
    EXPECT_TRUE(ctx.ok());
    ctx_ = ctx->release();
  }
  ~Side() { Finalize(); }

  void Finalize() {
    if (ctx_ != nullptr) {
      EXPECT_EQ(T().finalize(ctx_), MC_SUCCESS);
    }
    ctx_ = nullptr;
  }
  void* ctx() const { return ctx_; }
  int FailuresOf(void* ep) const {
    int n = 0;
    for (void* f : failures_) n += f == ep;
    return n;
  }

 private:
  static void Log(void*, mc_log_level_t level, const char* message) {
    if (level <= MC_LOG_WARN && std::getenv("MC_RDMA_TEST_VERBOSE") != nullptr) std::fprintf(stderr, "%s\n", message);
  }
  static mc_result_t GetParam(void* ctx, const char* name, char* value, size_t len) {
    auto* self = static_cast<Side*>(ctx);
    auto it = self->params_.find(name);
    for (size_t i = 0; i < kNumRdmaParams; ++i) {
      if (std::strcmp(kRdmaParams[i].name, name) == 0) {
        std::snprintf(value, len, "%s", it != self->params_.end() ? it->second.c_str() : kRdmaParams[i].default_value);
        return MC_SUCCESS;
      }
    }
    ADD_FAILURE() << "get_param of undeclared " << name;
    return MC_ERR_INVALID_ARG;
  }
  static void PeerFailed(void* ctx, void* ep, mc_result_t reason, const char* detail) {
    auto* self = static_cast<Side*>(ctx);
    EXPECT_EQ(reason, MC_ERR_PEER_LOST);
    EXPECT_TRUE(detail != nullptr && *detail != '\0');
    self->failures_.push_back(ep);
  }

  FakeMemoryDomain domain_;
  std::map<std::string, std::string> params_;
  mc_host_v1_t host_{};
  void* ctx_ = nullptr;
  std::vector<void*> failures_;
};

class PluginFakeTest : public ::testing::Test {
 protected:
  // Drives both contexts until `done` or the deadline; false on the deadline.
  bool Pump(const std::function<bool()>& done, std::chrono::seconds limit = std::chrono::seconds(10)) {
    const auto deadline = Clock::now() + limit;
    while (!done()) {
      if (Clock::now() > deadline) return false;
      T().progress(a_.ctx());
      T().progress(b_.ctx());
    }
    return true;
  }

  mc_completion_v1_t Wait(void* req) {
    mc_completion_v1_t c{};
    int done = 0;
    EXPECT_TRUE(Pump([&] {
      EXPECT_EQ(T().test(req, &done, &c), MC_SUCCESS);
      return done == 1;
    })) << "request never completed";
    if (done != 1) c.status = MC_ERR_TIMEOUT;
    return c;
  }

  std::string Listen(Side& s, void** listener) {
    char addr[MC_MAX_ADDR_BYTES];
    size_t len = sizeof(addr);
    EXPECT_EQ(T().listen(s.ctx(), 0, addr, &len, listener), MC_SUCCESS);
    return std::string(addr, len);
  }

  void* Accept(void* listener, std::string* hello) {
    void* ep = nullptr;
    EXPECT_TRUE(Pump([&] {
      char buf[MC_MAX_HELLO_BYTES];
      size_t len = sizeof(buf);
      mc_result_t rc = T().accept(listener, &ep, buf, &len);
      if (rc == MC_SUCCESS) hello->assign(buf, len);
      EXPECT_TRUE(rc == MC_SUCCESS || rc == MC_AGAIN);
      return rc == MC_SUCCESS;
    })) << "nothing accepted";
    return ep;
  }

  // a listens, b connects: {a's endpoint, b's endpoint}.
  std::pair<void*, void*> Pair() {
    void* listener = nullptr;
    const std::string addr = Listen(a_, &listener);
    void* eb = nullptr;
    EXPECT_EQ(T().connect(b_.ctx(), 0, addr.data(), addr.size(), "hi", 2, &eb), MC_SUCCESS);
    std::string hello;
    void* ea = Accept(listener, &hello);
    EXPECT_EQ(hello, "hi");
    EXPECT_EQ(T().close_listener(listener), MC_SUCCESS);
    return {ea, eb};
  }

  void* Send(void* ep, uint64_t tag, const std::string& data, void* mr = nullptr) {
    void* req = nullptr;
    EXPECT_EQ(T().isend(ep, tag, data.data(), data.size(), mr, &req), MC_SUCCESS);
    return req;
  }
  void* Recv(void* ep, uint64_t tag, std::string& buf, void* mr = nullptr) {
    void* req = nullptr;
    EXPECT_EQ(T().irecv(ep, tag, buf.data(), buf.size(), mr, &req), MC_SUCCESS);
    return req;
  }

  Side a_{0xa};
  Side b_{0xb};
};

TEST_F(PluginFakeTest, ListenConnectAcceptHellosAndEarlySends) {
  void* listener = nullptr;
  const std::string addr = Listen(a_, &listener);
  EXPECT_LE(addr.size(), static_cast<size_t>(MC_MAX_ADDR_BYTES));
  const std::vector<std::string> hellos = {Pattern(MC_MAX_HELLO_BYTES, 1), "hello", ""};
  std::vector<void*> sends;
  std::vector<std::string> payloads;
  for (size_t k = 0; k < hellos.size(); ++k) {
    void* ep = nullptr;
    ASSERT_EQ(T().connect(b_.ctx(), 0, addr.data(), addr.size(), hellos[k].data(), hellos[k].size(), &ep), MC_SUCCESS);
    payloads.push_back(Pattern(k == 1 ? 100000 : 1000, static_cast<uint32_t>(10 + k)));
    sends.push_back(Send(ep, 77, payloads.back()));  // before the connection is up
  }
  for (size_t n = 0; n < hellos.size(); ++n) {
    std::string hello;
    void* ep = Accept(listener, &hello);
    ASSERT_NE(ep, nullptr);
    size_t k = 0;
    while (k < hellos.size() && hellos[k] != hello) ++k;
    ASSERT_LT(k, hellos.size()) << "a hello that no connector sent";
    std::string in(payloads[k].size(), '\0');
    mc_completion_v1_t c = Wait(Recv(ep, 77, in));
    EXPECT_EQ(c.status, MC_SUCCESS);
    EXPECT_EQ(in, payloads[k]) << "accepted endpoint " << n << " is wired to another connection";
  }
  for (void* s : sends) EXPECT_EQ(Wait(s).status, MC_SUCCESS);
  EXPECT_EQ(T().close_listener(listener), MC_SUCCESS);
}

TEST_F(PluginFakeTest, TaggedMessagesWithAndWithoutRegistrations) {
  auto [ea, eb] = Pair();
  for (size_t len : {0, 1, 4095, 8192, 8193, (1 << 20) + 3}) {
    for (bool registered : {false, true}) {
      SCOPED_TRACE(std::to_string(len) + (registered ? " registered" : ""));
      std::string out = Pattern(len, static_cast<uint32_t>(len)), in(len + 8, '\x5a');
      void* mr_out = nullptr;
      void* mr_in = nullptr;
      if (registered && len > 0) {
        ASSERT_EQ(M().reg(b_.ctx(), out.data(), out.size(), MC_MEM_HOST, &mr_out), MC_SUCCESS);
        ASSERT_EQ(M().reg(a_.ctx(), in.data(), in.size(), MC_MEM_HOST, &mr_in), MC_SUCCESS);
      }
      void* r = nullptr;
      ASSERT_EQ(T().irecv(ea, 5, in.data(), len, mr_in, &r), MC_SUCCESS);
      void* s = Send(eb, 5, out, mr_out);
      mc_completion_v1_t rc = Wait(r);
      EXPECT_EQ(rc.status, MC_SUCCESS);
      EXPECT_EQ(rc.bytes, len);
      EXPECT_EQ(Wait(s).status, MC_SUCCESS);
      EXPECT_EQ(in.substr(0, len), out);
      EXPECT_EQ(in.substr(len), std::string(8, '\x5a'));
      if (mr_out != nullptr) {
        EXPECT_EQ(M().dereg(b_.ctx(), mr_out), MC_SUCCESS);
      }
      if (mr_in != nullptr) {
        EXPECT_EQ(M().dereg(a_.ctx(), mr_in), MC_SUCCESS);
      }
    }
  }
}

TEST_F(PluginFakeTest, PutsWithPackedKeys) {
  auto [ea, eb] = Pair();
  std::string region(1 << 20, '\0');
  void* mr = nullptr;
  ASSERT_EQ(M().reg(a_.ctx(), region.data(), region.size(), MC_MEM_HOST, &mr), MC_SUCCESS);
  char packed[MC_MAX_RKEY_BYTES];
  size_t packed_len = sizeof(packed);
  ASSERT_EQ(M().pack_rkey(a_.ctx(), mr, packed, &packed_len), MC_SUCCESS);
  void* rkey = nullptr;
  ASSERT_EQ(M().unpack_rkey(eb, packed, packed_len, &rkey), MC_SUCCESS);
  void* foreign = nullptr;
  ASSERT_EQ(M().unpack_rkey(ea, packed, packed_len, &foreign), MC_SUCCESS);

  const uint64_t base = reinterpret_cast<uint64_t>(region.data());
  const std::string small = Pattern(100, 1), large = Pattern(300000, 2);
  void* p1 = nullptr;
  void* p2 = nullptr;
  ASSERT_EQ(T().iput(eb, small.data(), small.size(), nullptr, base + 10, rkey, 0x51, &p1), MC_SUCCESS);
  ASSERT_EQ(T().iput(eb, large.data(), large.size(), nullptr, base + 4096, rkey, 0x52, &p2), MC_SUCCESS);
  std::map<uint64_t, mc_notification_v1_t> seen;
  ASSERT_TRUE(Pump([&] {
    mc_notification_v1_t n;
    while (T().poll_notification(ea, &n) == MC_SUCCESS) seen[n.value] = n;
    return seen.size() == 2;
  }));
  EXPECT_EQ(seen[0x51].addr, base + 10);
  EXPECT_EQ(seen[0x51].bytes, small.size());
  EXPECT_EQ(seen[0x52].addr, base + 4096);
  EXPECT_EQ(region.substr(10, small.size()), small);
  EXPECT_EQ(region.substr(4096, large.size()), large);
  EXPECT_EQ(Wait(p1).status, MC_SUCCESS);
  EXPECT_EQ(Wait(p2).status, MC_SUCCESS);

  void* bad = nullptr;
  ASSERT_EQ(T().iput(eb, small.data(), small.size(), nullptr, base + region.size() - 10, rkey, 0x53, &bad), MC_SUCCESS);
  EXPECT_EQ(Wait(bad).status, MC_ERR_ACCESS);
  EXPECT_EQ(T().iput(ea, small.data(), small.size(), nullptr, base, rkey, 0x54, &bad), MC_ERR_INVALID_ARG)
      << "a key unpacked for another endpoint";
  for (const std::string& garbage : {Pattern(MC_MAX_RKEY_BYTES, 9), std::string(16, '\0'), std::string(1, '\1')}) {
    void* k = nullptr;
    EXPECT_EQ(M().unpack_rkey(eb, garbage.data(), garbage.size(), &k), MC_ERR_INVALID_ARG);
  }
  EXPECT_EQ(M().release_rkey(rkey), MC_SUCCESS);
  EXPECT_EQ(M().release_rkey(foreign), MC_SUCCESS);
  EXPECT_EQ(M().dereg(a_.ctx(), mr), MC_SUCCESS);
  EXPECT_EQ(M().dereg(a_.ctx(), mr), MC_ERR_INVALID_ARG) << "twice";
}

TEST_F(PluginFakeTest, PeerCloseFailsPendingReceivesAndIsReportedOnce) {
  auto [ea, eb] = Pair();
  const std::string early = Pattern(50, 3);
  EXPECT_EQ(Wait(Send(eb, 9, early)).status, MC_SUCCESS);  // arrives before the close
  std::string in(100, '\0'), early_in(50, '\0');
  void* pending = Recv(ea, 1, in);
  ASSERT_EQ(T().close(eb), MC_SUCCESS);
  EXPECT_EQ(Wait(pending).status, MC_ERR_PEER_LOST);
  EXPECT_EQ(Wait(Recv(ea, 9, early_in)).status, MC_SUCCESS) << "what arrived before the close is still there";
  EXPECT_EQ(early_in, early);
  for (int i = 0; i < 100; ++i) T().progress(a_.ctx());
  EXPECT_EQ(a_.FailuresOf(ea), 1);
  void* req = nullptr;
  EXPECT_EQ(T().isend(ea, 1, in.data(), 8, nullptr, &req), MC_ERR_PEER_LOST);
  EXPECT_EQ(b_.FailuresOf(eb), 0) << "a local close is not a failure";
  EXPECT_EQ(T().close(ea), MC_SUCCESS);
}

TEST_F(PluginFakeTest, CloseCancelsPendingRequests) {
  auto [ea, eb] = Pair();
  std::string in(1000, '\0');
  const std::string big = Pattern(4 << 20, 4);
  void* r = Recv(ea, 1, in);
  void* s = Send(ea, 2, big);
  ASSERT_EQ(T().close(ea), MC_SUCCESS);
  EXPECT_EQ(Wait(r).status, MC_ERR_CLOSED);
  const mc_result_t sent = Wait(s).status;
  EXPECT_TRUE(sent == MC_ERR_CLOSED || sent == MC_SUCCESS);
  EXPECT_EQ(in, std::string(1000, '\0'));
  ASSERT_TRUE(Pump([&] { return b_.FailuresOf(eb) == 1; })) << "the peer never heard of the close";
}

TEST_F(PluginFakeTest, ConnectionsThatCannotBeMadeFail) {
  void* listener = nullptr;
  const std::string addr = Listen(a_, &listener);
  ASSERT_EQ(T().close_listener(listener), MC_SUCCESS);
  void* ep = nullptr;
  ASSERT_EQ(T().connect(b_.ctx(), 0, addr.data(), addr.size(), "x", 1, &ep), MC_SUCCESS);
  std::string in(8, '\0');
  EXPECT_EQ(Wait(Recv(ep, 1, in)).status, MC_ERR_PEER_LOST) << "a closed listener";
  EXPECT_EQ(T().close(ep), MC_SUCCESS);

  const std::string garbage = Pattern(MC_MAX_ADDR_BYTES, 5);
  EXPECT_EQ(T().connect(b_.ctx(), 0, garbage.data(), garbage.size(), "x", 1, &ep), MC_ERR_INVALID_ARG);
  const std::string zeros(16, '\0');
  EXPECT_EQ(T().connect(b_.ctx(), 0, zeros.data(), zeros.size(), "x", 1, &ep), MC_ERR_INVALID_ARG);
}

TEST_F(PluginFakeTest, StaleAddressOfAnotherListenerIsRefused) {
  void* first = nullptr;
  std::string addr = Listen(a_, &first);
  ASSERT_EQ(T().close_listener(first), MC_SUCCESS);
  void* second = nullptr;
  const std::string now = Listen(a_, &second);
  // The old address with the new port: right port, wrong listener id.
  std::memcpy(addr.data() + 6, now.data() + 6, 2);
  void* ep = nullptr;
  ASSERT_EQ(T().connect(b_.ctx(), 0, addr.data(), addr.size(), "x", 1, &ep), MC_SUCCESS);
  std::string in(8, '\0');
  EXPECT_EQ(Wait(Recv(ep, 1, in)).status, MC_ERR_PEER_LOST);
  void* accepted = nullptr;
  char hello[MC_MAX_HELLO_BYTES];
  size_t len = sizeof(hello);
  EXPECT_EQ(T().accept(second, &accepted, hello, &len), MC_AGAIN);
  EXPECT_EQ(T().close(ep), MC_SUCCESS);
  EXPECT_EQ(T().close_listener(second), MC_SUCCESS);
}

TEST_F(PluginFakeTest, InvalidArgumentsAreErrors) {
  auto [ea, eb] = Pair();
  char buf[64] = {0};
  void* req = nullptr;
  int count = 0;
  EXPECT_EQ(T().device_count(nullptr, &count), MC_ERR_INVALID_ARG);
  EXPECT_EQ(T().device_count(a_.ctx(), &count), MC_SUCCESS);
  EXPECT_EQ(count, 1);
  mc_device_props_v1_t props;
  EXPECT_EQ(RdmaPluginTable()->topology->device_props(a_.ctx(), 1, &props), MC_ERR_INVALID_ARG);
  EXPECT_EQ(RdmaPluginTable()->topology->device_props(a_.ctx(), 0, &props), MC_SUCCESS);
  EXPECT_STREQ(props.name, "fake0:1");
  EXPECT_EQ(T().isend(nullptr, 1, buf, 8, nullptr, &req), MC_ERR_INVALID_ARG);
  EXPECT_EQ(T().isend(ea, 1, nullptr, 8, nullptr, &req), MC_ERR_INVALID_ARG);
  EXPECT_EQ(T().isend(ea, 1, buf, 8, nullptr, nullptr), MC_ERR_INVALID_ARG);
  EXPECT_EQ(T().isend(ea, 1, buf, props.max_message_bytes + 1, nullptr, &req), MC_ERR_INVALID_ARG);
  EXPECT_EQ(T().irecv(ea, 1, nullptr, 8, nullptr, &req), MC_ERR_INVALID_ARG);
  EXPECT_EQ(T().test(nullptr, nullptr, nullptr), MC_ERR_INVALID_ARG);
  EXPECT_EQ(T().close(nullptr), MC_ERR_INVALID_ARG);
  char addr[MC_MAX_ADDR_BYTES];
  size_t one = 1;
  void* listener = nullptr;
  EXPECT_EQ(T().listen(a_.ctx(), 0, addr, &one, &listener), MC_ERR_NO_MEMORY);
  EXPECT_EQ(T().listen(a_.ctx(), 1, addr, &one, &listener), MC_ERR_INVALID_ARG);
  void* ep = nullptr;
  EXPECT_EQ(T().connect(a_.ctx(), 0, addr, 0, "x", 1, &ep), MC_ERR_INVALID_ARG);
  EXPECT_EQ(T().connect(a_.ctx(), 0, addr, sizeof(addr), nullptr, 2, &ep), MC_ERR_INVALID_ARG);
  void* mr = nullptr;
  EXPECT_EQ(M().reg(a_.ctx(), buf, sizeof(buf), MC_MEM_CUDA, &mr), MC_ERR_UNSUPPORTED);
  EXPECT_EQ(M().reg(a_.ctx(), buf, sizeof(buf), static_cast<mc_mem_kind_t>(99), &mr), MC_ERR_INVALID_ARG);
  ASSERT_EQ(M().reg(a_.ctx(), buf, 32, MC_MEM_HOST, &mr), MC_SUCCESS);
  EXPECT_EQ(T().isend(ea, 1, buf + 16, 32, mr, &req), MC_ERR_INVALID_ARG) << "the buffer runs past the registration";
  size_t small = 1;
  char packed[MC_MAX_RKEY_BYTES];
  EXPECT_EQ(M().pack_rkey(a_.ctx(), mr, packed, &small), MC_ERR_NO_MEMORY);
  EXPECT_EQ(M().dereg(a_.ctx(), mr), MC_SUCCESS);
  // The endpoints survived all of that.
  std::string in(10, '\0');
  void* r = Recv(ea, 3, in);
  EXPECT_EQ(Wait(Send(eb, 3, "0123456789")).status, MC_SUCCESS);
  EXPECT_EQ(Wait(r).status, MC_SUCCESS);
  EXPECT_EQ(in, "0123456789");
}

TEST_F(PluginFakeTest, FinalizeFreesEverythingLeftOpen) {
  const int before = OpenDescriptors();
  {
    Side c(0xc), d(0xd);
    void* listener = nullptr;
    char addr[MC_MAX_ADDR_BYTES];
    size_t len = sizeof(addr);
    ASSERT_EQ(T().listen(c.ctx(), 0, addr, &len, &listener), MC_SUCCESS);
    void* ed = nullptr;
    ASSERT_EQ(T().connect(d.ctx(), 0, addr, len, "h", 1, &ed), MC_SUCCESS);
    void* ec = nullptr;
    const auto deadline = Clock::now() + std::chrono::seconds(10);
    while (ec == nullptr && Clock::now() < deadline) {
      char hello[MC_MAX_HELLO_BYTES];
      size_t hello_len = sizeof(hello);
      T().progress(d.ctx());
      T().accept(listener, &ec, hello, &hello_len);
    }
    ASSERT_NE(ec, nullptr);
    void* unaccepted = nullptr;
    ASSERT_EQ(T().connect(d.ctx(), 0, addr, len, "never accepted", 14, &unaccepted), MC_SUCCESS);
    std::string region(1 << 20, '\0'), in(1 << 20, '\0');
    void* mr = nullptr;
    ASSERT_EQ(M().reg(c.ctx(), region.data(), region.size(), MC_MEM_HOST, &mr), MC_SUCCESS);
    char packed[MC_MAX_RKEY_BYTES];
    size_t packed_len = sizeof(packed);
    ASSERT_EQ(M().pack_rkey(c.ctx(), mr, packed, &packed_len), MC_SUCCESS);
    void* rkey = nullptr;
    ASSERT_EQ(M().unpack_rkey(ed, packed, packed_len, &rkey), MC_SUCCESS);
    void* req = nullptr;
    ASSERT_EQ(T().irecv(ec, 1, in.data(), in.size(), nullptr, &req), MC_SUCCESS);
    std::string big = Pattern(8 << 20, 6);
    ASSERT_EQ(T().isend(ed, 2, big.data(), big.size(), nullptr, &req), MC_SUCCESS);
    for (int i = 0; i < 50; ++i) {
      T().progress(c.ctx());
      T().progress(d.ctx());
    }
    c.Finalize();
    d.Finalize();
  }
  EXPECT_EQ(OpenDescriptors(), before) << "finalize left descriptors open";
}

}  // namespace
}  // namespace mc::rdma
