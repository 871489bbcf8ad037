#include "plugin/transport.h"

#include <atomic>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "common/log.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "mooncomm/config.h"
#include "mooncomm/status.h"
#include "plugin/loader.h"
#include "plugin/test_util.h"

// host_log_from_c.c: calls host->log with any int as the level, as a C plugin may.
extern "C" void mc_test_log_with_int_level(const mc_host_v1_t* host, int level, const char* message);

namespace mc {
namespace {

using ::mc::testing::ScopedEnv;
using ::mc::testing::TestPluginFile;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;

// What the fake plugin saw and what it is told to answer. Tests run one at a
// time, and only the peer-failure test calls the host from other threads.
struct FakeState {
  const mc_host_v1_t* host = nullptr;
  int init_calls = 0;
  mc_result_t init_result = MC_SUCCESS;
  std::string init_message;
  bool init_fills_err_without_nul = false;
  int finalize_calls = 0;
  void* finalized_ctx = nullptr;
  mc_result_t device_count_result = MC_SUCCESS;
  int devices = 2;
};
FakeState g_fake;
int g_ctx_token;

mc_result_t FakeInit(const mc_host_v1_t* host, void** ctx, char* err, size_t err_len) {
  ++g_fake.init_calls;
  g_fake.host = host;
  if (g_fake.init_fills_err_without_nul) {
    std::memset(err, 'x', err_len);
  } else {
    std::snprintf(err, err_len, "%s", g_fake.init_message.c_str());
  }
  if (g_fake.init_result == MC_SUCCESS) *ctx = &g_ctx_token;
  return g_fake.init_result;
}

mc_result_t FakeFinalize(void* ctx) {
  ++g_fake.finalize_calls;
  g_fake.finalized_ctx = ctx;
  return MC_SUCCESS;
}

mc_result_t FakeDeviceCount(void* ctx, int* count) {
  if (ctx != &g_ctx_token) return MC_ERR_INVALID_ARG;
  *count = g_fake.devices;
  return g_fake.device_count_result;
}

mc_result_t FakeDeviceProps(void* ctx, int dev, mc_device_props_v1_t* props) {
  if (ctx != &g_ctx_token) return MC_ERR_INVALID_ARG;
  if (dev == 0) {
    std::snprintf(props->name, sizeof(props->name), "fake0");
    props->numa_node = -1;
    props->bandwidth_gbps = 100;
    return MC_SUCCESS;
  }
  if (dev == 1) {  // a careless plugin: no NUL anywhere in the strings
    std::memset(props->name, 'n', sizeof(props->name));
    std::memset(props->pci_path, 'p', sizeof(props->pci_path));
    return MC_SUCCESS;
  }
  return MC_ERR_INTERNAL;
}

const mc_param_v1_t kFakeParams[] = {
    {"DEPTH", MC_PARAM_INT, "4", "queue depth"},
    {"CHUNK", MC_PARAM_SIZE, "64K", "chunk size"},
    {"FAST", MC_PARAM_BOOL, "yes", "go fast"},
    {"MODE", MC_PARAM_STRING, "ring", "a mode"},
};

const mc_plugin_v1_t* FakePlugin() {
  static const mc_transport_v1_t transport = [] {
    mc_transport_v1_t t = testing::UnsupportedTransport();
    t.init = FakeInit;
    t.finalize = FakeFinalize;
    t.device_count = FakeDeviceCount;
    return t;
  }();
  static const mc_memory_v1_t memory = testing::UnsupportedMemory();
  static const mc_topology_v1_t topology = {FakeDeviceProps};
  static const mc_plugin_v1_t plugin = {1, "fake", "1.0", kFakeParams, 4, &transport, &memory, &topology};
  return &plugin;
}

class TransportTest : public ::testing::Test {
 protected:
  void SetUp() override { g_fake = FakeState(); }
  static LoadedPlugin Fake() { return LoadedPlugin{FakePlugin(), "fake", "test", 1, nullptr}; }

  // The plugin's view of the host, as a plugin would call it.
  static std::string GetParam(const char* name, size_t capacity = 64, mc_result_t* rc_out = nullptr) {
    std::vector<char> buf(capacity + 1, '?');
    mc_result_t rc = g_fake.host->get_param(g_fake.host->ctx, name, buf.data(), capacity);
    if (rc_out != nullptr) *rc_out = rc;
    return rc == MC_SUCCESS ? std::string(buf.data()) : std::string("<") + ResultName(rc) + ">";
  }

  ScopedEnv depth_{"MC_FAKE_DEPTH", std::nullopt};
  ScopedEnv chunk_{"MC_FAKE_CHUNK", std::nullopt};
  ScopedEnv fast_{"MC_FAKE_FAST", std::nullopt};
  ScopedEnv mode_{"MC_FAKE_MODE", std::nullopt};
};

TEST_F(TransportTest, OpenInitsAndCountsDevicesAndCloseFinalizes) {
  absl::StatusOr<std::unique_ptr<Transport>> t = Transport::Open(Fake(), nullptr);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(g_fake.init_calls, 1);
  EXPECT_EQ((*t)->name(), "fake");
  EXPECT_EQ((*t)->device_count(), 2);
  EXPECT_EQ((*t)->ctx(), &g_ctx_token);
  EXPECT_EQ(&(*t)->ops(), FakePlugin()->transport);
  EXPECT_EQ(g_fake.finalize_calls, 0);
  t->reset();
  EXPECT_EQ(g_fake.finalize_calls, 1);
  EXPECT_EQ(g_fake.finalized_ctx, &g_ctx_token);
}

TEST_F(TransportTest, DevicePropsChecksTheIndexAndTerminatesStrings) {
  absl::StatusOr<std::unique_ptr<Transport>> t = Transport::Open(Fake(), nullptr);
  ASSERT_TRUE(t.ok()) << t.status();
  absl::StatusOr<mc_device_props_v1_t> d0 = (*t)->DeviceProps(0);
  ASSERT_TRUE(d0.ok()) << d0.status();
  EXPECT_STREQ(d0->name, "fake0");
  EXPECT_STREQ(d0->pci_path, "");  // zeroed before the plugin fills it
  EXPECT_EQ(d0->bandwidth_gbps, 100);

  absl::StatusOr<mc_device_props_v1_t> d1 = (*t)->DeviceProps(1);
  ASSERT_TRUE(d1.ok()) << d1.status();
  EXPECT_EQ(std::strlen(d1->name), sizeof(d1->name) - 1);
  EXPECT_EQ(std::strlen(d1->pci_path), sizeof(d1->pci_path) - 1);

  for (int bad : {2, -1}) {
    absl::StatusOr<mc_device_props_v1_t> d = (*t)->DeviceProps(bad);
    EXPECT_EQ(d.status().code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_THAT(d.status().message(),
                HasSubstr("transport 'fake' has no device " + std::to_string(bad) + " (it has 2)"));
  }
}

TEST_F(TransportTest, DevicePropsFailureIsReported) {
  g_fake.devices = 3;
  absl::StatusOr<std::unique_ptr<Transport>> t = Transport::Open(Fake(), nullptr);
  ASSERT_TRUE(t.ok()) << t.status();
  absl::StatusOr<mc_device_props_v1_t> d2 = (*t)->DeviceProps(2);
  EXPECT_EQ(d2.status().code(), absl::StatusCode::kInternal);
  EXPECT_THAT(d2.status().message(), AllOf(HasSubstr("'fake'"), HasSubstr("device 2"), HasSubstr("MC_ERR_INTERNAL")));
}

TEST_F(TransportTest, InitFailureSaysItCannotRunHereWithThePluginsReason) {
  g_fake.init_result = MC_ERR_NO_DEVICE;
  g_fake.init_message = "no fake NIC found";
  absl::StatusOr<std::unique_ptr<Transport>> t = Transport::Open(Fake(), nullptr);
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(t.status().message(), "transport 'fake' (test) cannot run here: no fake NIC found (MC_ERR_NO_DEVICE)");
  EXPECT_EQ(g_fake.finalize_calls, 0);  // nothing was opened, nothing to finalize
}

TEST_F(TransportTest, InitFailureWithoutAMessageStillSaysWhat) {
  g_fake.init_result = MC_ERR_INTERNAL;
  absl::StatusOr<std::unique_ptr<Transport>> t = Transport::Open(Fake(), nullptr);
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().message(), "transport 'fake' (test) cannot run here: init gave no reason (MC_ERR_INTERNAL)");
}

TEST_F(TransportTest, InitErrorTextWithoutNulIsCutAtTheBuffer) {
  g_fake.init_result = MC_ERR_NO_DEVICE;
  g_fake.init_fills_err_without_nul = true;
  absl::StatusOr<std::unique_ptr<Transport>> t = Transport::Open(Fake(), nullptr);
  ASSERT_FALSE(t.ok());
  EXPECT_THAT(t.status().message(), HasSubstr(std::string(511, 'x') + " (MC_ERR_NO_DEVICE)"));
  EXPECT_THAT(t.status().message(), Not(HasSubstr(std::string(512, 'x'))));
}

TEST_F(TransportTest, DeviceCountFailureFinalizesAndFails) {
  g_fake.device_count_result = MC_ERR_INTERNAL;
  absl::StatusOr<std::unique_ptr<Transport>> t = Transport::Open(Fake(), nullptr);
  ASSERT_FALSE(t.ok());
  EXPECT_THAT(t.status().message(),
              AllOf(HasSubstr("transport 'fake' (test): device_count failed"), HasSubstr("MC_ERR_INTERNAL")));
  EXPECT_EQ(g_fake.finalize_calls, 1);

  g_fake = FakeState();
  g_fake.devices = -1;
  t = Transport::Open(Fake(), nullptr);
  ASSERT_FALSE(t.ok());
  EXPECT_THAT(t.status().message(), HasSubstr("device_count returned -1"));
  EXPECT_EQ(g_fake.finalize_calls, 1);
}

TEST_F(TransportTest, ParamsAreRegisteredEvenWhenInitFails) {
  g_fake.init_result = MC_ERR_NO_DEVICE;
  ASSERT_FALSE(Transport::Open(Fake(), nullptr).ok());
  absl::StatusOr<ParamSpec> spec = config::Spec("MC_FAKE_DEPTH");
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->owner, "fake");
  EXPECT_EQ(spec->type, ParamType::kInt);
  EXPECT_EQ(spec->default_value, "4");
  EXPECT_TRUE(config::Spec("MC_FAKE_CHUNK").ok());
}

TEST_F(TransportTest, GetParamGivesDeclaredParamsNormalized) {
  absl::StatusOr<std::unique_ptr<Transport>> t = Transport::Open(Fake(), nullptr);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(GetParam("DEPTH"), "4");
  EXPECT_EQ(GetParam("depth"), "4");
  EXPECT_EQ(GetParam("CHUNK"), "65536");
  EXPECT_EQ(GetParam("FAST"), "1");
  EXPECT_EQ(GetParam("MODE"), "ring");

  ScopedEnv depth("MC_FAKE_DEPTH", " 7");
  ScopedEnv chunk("MC_FAKE_CHUNK", "2M");
  ScopedEnv fast("MC_FAKE_FAST", "off");
  ScopedEnv mode("MC_FAKE_MODE", "tree");
  EXPECT_EQ(GetParam("DEPTH"), "7");
  EXPECT_EQ(GetParam("CHUNK"), "2097152");
  EXPECT_EQ(GetParam("FAST"), "0");
  EXPECT_EQ(GetParam("MODE"), "tree");
}

TEST_F(TransportTest, GetParamRefusesUndeclaredNamesAndSmallBuffers) {
  absl::StatusOr<std::unique_ptr<Transport>> t = Transport::Open(Fake(), nullptr);
  ASSERT_TRUE(t.ok()) << t.status();
  ScopedEnv other("MC_FAKE_OTHER", "1");
  EXPECT_EQ(GetParam("OTHER"), "<MC_ERR_INVALID_ARG>");
  EXPECT_EQ(GetParam("TIMEOUT_MS"), "<MC_ERR_INVALID_ARG>");
  EXPECT_EQ(GetParam(nullptr), "<MC_ERR_INVALID_ARG>");
  EXPECT_EQ(GetParam("MODE", 4), "<MC_ERR_NO_MEMORY>");  // "ring" needs 5 bytes with its NUL
  EXPECT_EQ(GetParam("MODE", 5), "ring");
  EXPECT_EQ(g_fake.host->get_param(g_fake.host->ctx, "MODE", nullptr, 16), MC_ERR_INVALID_ARG);
}

TEST_F(TransportTest, BadValueOfADeclaredParamFailsOpenBeforeInit) {
  ScopedEnv depth("MC_FAKE_DEPTH", "deep");
  absl::StatusOr<std::unique_ptr<Transport>> t = Transport::Open(Fake(), nullptr);
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(t.status().message(), "transport 'fake': MC_FAKE_DEPTH='deep' is not an integer");
  EXPECT_EQ(g_fake.init_calls, 0);
}

TEST_F(TransportTest, BadValueSetAfterOpenIsRefusedByGetParam) {
  absl::StatusOr<std::unique_ptr<Transport>> t = Transport::Open(Fake(), nullptr);
  ASSERT_TRUE(t.ok()) << t.status();
  ScopedEnv chunk("MC_FAKE_CHUNK", "huge");
  ::testing::internal::CaptureStderr();
  EXPECT_EQ(GetParam("CHUNK"), "<MC_ERR_INVALID_ARG>");
  EXPECT_THAT(::testing::internal::GetCapturedStderr(), HasSubstr("fake: MC_FAKE_CHUNK='huge' is not a size"));
}

TEST_F(TransportTest, LogLinesGoThroughTheCoreLogWithThePluginName) {
  absl::StatusOr<std::unique_ptr<Transport>> t = Transport::Open(Fake(), nullptr);
  ASSERT_TRUE(t.ok()) << t.status();
  mc_log_level_t old = LogThreshold();
  SetLogThreshold(MC_LOG_INFO);
  ::testing::internal::CaptureStderr();
  void* ctx = g_fake.host->ctx;
  g_fake.host->log(ctx, MC_LOG_WARN, "link is slow");
  g_fake.host->log(ctx, MC_LOG_DEBUG, "below the threshold");
  mc_test_log_with_int_level(g_fake.host, 99, "unknown level counts as trace");
  mc_test_log_with_int_level(g_fake.host, -3, "negative level counts as error");
  g_fake.host->log(ctx, MC_LOG_ERROR, nullptr);
  std::string out = ::testing::internal::GetCapturedStderr();
  SetLogThreshold(old);
  EXPECT_THAT(out, HasSubstr("WARN] fake: link is slow\n"));
  EXPECT_THAT(out, HasSubstr("ERROR] fake: negative level counts as error\n"));
  EXPECT_THAT(out, HasSubstr("ERROR] fake: (null)\n"));
  EXPECT_THAT(out, Not(HasSubstr("below the threshold")));
  EXPECT_THAT(out, Not(HasSubstr("unknown level")));
}

TEST_F(TransportTest, PeerFailureReachesTheCallback) {
  void* seen_ep = nullptr;
  mc_result_t seen_reason = MC_SUCCESS;
  std::string seen_detail = "unset";
  int calls = 0;
  absl::StatusOr<std::unique_ptr<Transport>> t =
      Transport::Open(Fake(), [&](void* ep, mc_result_t reason, const std::string& detail) {
        ++calls;
        seen_ep = ep;
        seen_reason = reason;
        seen_detail = detail;
      });
  ASSERT_TRUE(t.ok()) << t.status();
  int endpoint = 0;
  g_fake.host->peer_failed(g_fake.host->ctx, &endpoint, MC_ERR_PEER_LOST, "connection reset");
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(seen_ep, &endpoint);
  EXPECT_EQ(seen_reason, MC_ERR_PEER_LOST);
  EXPECT_EQ(seen_detail, "connection reset");
  g_fake.host->peer_failed(g_fake.host->ctx, &endpoint, MC_ERR_TIMEOUT, nullptr);
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(seen_reason, MC_ERR_TIMEOUT);
  EXPECT_EQ(seen_detail, "");
}

TEST_F(TransportTest, PeerFailuresFromManyThreadsWhileTheCallbackIsReplaced) {
  std::atomic<int> first{0};
  std::atomic<int> second{0};
  absl::StatusOr<std::unique_ptr<Transport>> t =
      Transport::Open(Fake(), [&](void*, mc_result_t, const std::string&) { first.fetch_add(1); });
  ASSERT_TRUE(t.ok()) << t.status();
  const mc_host_v1_t* host = g_fake.host;
  constexpr int kThreads = 4;
  constexpr int kReportsEach = 200;
  std::atomic<bool> go{false};
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&] {
      while (!go.load()) std::this_thread::yield();
      for (int k = 0; k < kReportsEach; ++k) host->peer_failed(host->ctx, nullptr, MC_ERR_PEER_LOST, "gone");
    });
  }
  go.store(true);
  (*t)->set_failure_callback([&](void*, mc_result_t, const std::string&) { second.fetch_add(1); });
  for (std::thread& th : threads) th.join();
  EXPECT_EQ(first.load() + second.load(), kThreads * kReportsEach);
  int first_before = first.load();
  host->peer_failed(host->ctx, nullptr, MC_ERR_PEER_LOST, "gone");
  EXPECT_EQ(first.load(), first_before);
  EXPECT_EQ(second.load() + first_before, kThreads * kReportsEach + 1);
}

TEST_F(TransportTest, CallbackMayReplaceItself) {
  int replaced_calls = 0;
  Transport* transport = nullptr;
  absl::StatusOr<std::unique_ptr<Transport>> t = Transport::Open(Fake(), [&](void*, mc_result_t, const std::string&) {
    transport->set_failure_callback([&](void*, mc_result_t, const std::string&) { ++replaced_calls; });
  });
  ASSERT_TRUE(t.ok()) << t.status();
  transport = t->get();
  g_fake.host->peer_failed(g_fake.host->ctx, nullptr, MC_ERR_PEER_LOST, "first");
  g_fake.host->peer_failed(g_fake.host->ctx, nullptr, MC_ERR_PEER_LOST, "second");
  EXPECT_EQ(replaced_calls, 1);
}

TEST_F(TransportTest, PeerFailureWithNoCallbackIsLoggedNotLost) {
  absl::StatusOr<std::unique_ptr<Transport>> t = Transport::Open(Fake(), nullptr);
  ASSERT_TRUE(t.ok()) << t.status();
  ::testing::internal::CaptureStderr();
  g_fake.host->peer_failed(g_fake.host->ctx, nullptr, MC_ERR_PEER_LOST, "gone");
  EXPECT_THAT(::testing::internal::GetCapturedStderr(), HasSubstr("no one is listening"));
}

TEST(TransportFileTest, MinimalPluginFileCannotRunHere) {
  std::string path = TestPluginFile("good", "minimal");
  absl::StatusOr<LoadedPlugin> loaded = LoadPlugin(path);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  absl::StatusOr<std::unique_ptr<Transport>> t = Transport::Open(*loaded, nullptr);
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(t.status().message(), "transport 'minimal' (" + path +
                                      ") cannot run here: the minimal test plugin never has a device "
                                      "(MC_ERR_NO_DEVICE)");
  absl::StatusOr<ParamSpec> spec = config::Spec("MC_MINIMAL_LEVEL");
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->default_value, "3");
}

TEST(TransportFileTest, BuiltinsOpenOnThisHostAndDescribeTheirDevices) {
  for (const char* name : {"tcp", "shm"}) {
    absl::StatusOr<LoadedPlugin> loaded = LoadPlugin(name);
    ASSERT_TRUE(loaded.ok()) << loaded.status();
    absl::StatusOr<std::unique_ptr<Transport>> t = Transport::Open(*loaded, nullptr);
    ASSERT_TRUE(t.ok()) << t.status();
    ASSERT_GE((*t)->device_count(), 1) << name;
    absl::StatusOr<mc_device_props_v1_t> props = (*t)->DeviceProps(0);
    ASSERT_TRUE(props.ok()) << props.status();
    EXPECT_STRNE(props->name, "") << name;
  }
}

}  // namespace
}  // namespace mc
