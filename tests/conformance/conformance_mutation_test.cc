// The suite's own test: conformance cases run over mutants of the tcp
// transport (mutant_plugin.h), each with one injected fault, and must fail
// with a message naming what is wrong. A check that cannot fail shows up here.
#include <string>
#include <vector>

#include "cases.h"
#include "gtest/gtest-spi.h"
#include "gtest/gtest.h"
#include "mutant_plugin.h"
#include "transports/builtin.h"

namespace mc::conformance {
namespace {

struct Mutation {
  const char* name;
  Fault fault;
  CaseFunction run;
  const char* expected;  // a piece of the failure message the case must produce
};

std::ostream& operator<<(std::ostream& os, const Mutation& m) { return os << m.name; }

// Runs `m.run` over the mutant and returns every failure message it produced.
std::vector<std::string> FailuresOf(const Mutation& m) {
  const mc_plugin_v1_t* mutant = MutantPlugin(&mc_builtin_tcp_plugin, m.fault);
  testing::TestPartResultArray results;
  {
    testing::ScopedFakeTestPartResultReporter reporter(testing::ScopedFakeTestPartResultReporter::INTERCEPT_ALL_THREADS,
                                                       &results);
    m.run(mutant);
  }
  std::vector<std::string> failures;
  for (int i = 0; i < results.size(); ++i) {
    if (results.GetTestPartResult(i).failed()) failures.push_back(results.GetTestPartResult(i).message());
  }
  return failures;
}

class MutationTest : public testing::TestWithParam<Mutation> {};

TEST_P(MutationTest, CaseFailsAndSaysWhy) {
  const Mutation& m = GetParam();
  std::vector<std::string> failures = FailuresOf(m);
  ASSERT_FALSE(failures.empty()) << "the case passed over a plugin with fault " << m.name;
  bool named = false;
  std::string all;
  for (const std::string& failure : failures) {
    named = named || failure.find(m.expected) != std::string::npos;
    all += failure + "\n";
  }
  EXPECT_TRUE(named) << "no failure message mentions '" << m.expected << "'; the failures were:\n" << all;
}

// The mutant without a fault is the plugin itself: the cases pass over it.
TEST(MutationTest, UnmutatedPluginPasses) {
  for (CaseFunction run : {&InitDevicesAndFinalize, &ThousandMessagesInFlight, &InterleavedTagsKeepPerTagOrder,
                           &PutNotificationFollowsData, &KilledPeerIsReported}) {
    std::vector<std::string> failures = FailuresOf({"none", Fault::kNone, run, ""});
    EXPECT_TRUE(failures.empty()) << failures.front();
  }
}

const Mutation kMutations[] = {
    {"NullFunction", Fault::kNullFunction, &PluginTableIsComplete, "transport.poll_notification is NULL"},
    {"BadParamDefault", Fault::kBadParamDefault, &PluginTableIsComplete, "is not a size"},
    {"SmallMaxMessage", Fault::kSmallMaxMessage, &InitDevicesAndFinalize, "max_message_bytes is 1048576"},
    {"LeakDescriptor", Fault::kLeakDescriptor, &InitDevicesAndFinalize, "(/dev/null) still open"},
    {"LeakThread", Fault::kLeakThread, &InitDevicesAndFinalize, "thread(s) still running"},
#if defined(__SANITIZE_ADDRESS__)
    {"LeakMemory", Fault::kLeakMemory, &InitDevicesAndFinalize, "LeakSanitizer found memory"},
#endif
    {"CorruptHello", Fault::kCorruptHello, &ListenConnectAcceptHello, "that no connector sent"},
    {"CorruptReceivedByte", Fault::kCorruptReceivedByte, &TaggedSizesBothDirections,
     "message of 4096 bytes received: byte 2048 of 4096"},
    {"WrongCompletionTag", Fault::kWrongCompletionTag, &ThousandMessagesInFlight, "completion tag is"},
    {"SwapSameTagOrder", Fault::kSwapSameTagOrder, &InterleavedTagsKeepPerTagOrder,
     "receive of tag 18446744073709551615"},
    {"HideTruncation", Fault::kHideTruncation, &OversizedMessageIsTruncated, "expected MC_ERR_TRUNCATED"},
    {"EarlyNotification", Fault::kEarlyNotification, &PutNotificationFollowsData, "arrived before its data"},
    {"HidePutFailure", Fault::kHidePutFailure, &PutNotificationFollowsData, "succeeded; it must fail"},
    {"AcceptGarbageKey", Fault::kAcceptGarbageKey, &GarbageRkeyIsRefused, "succeeded; it must fail"},
    {"CloseForgetsRequests", Fault::kCloseForgetsRequests, &CloseCancelsPendingRequests, "expected MC_ERR_CLOSED"},
    {"LossAsClosedOnPeerClose", Fault::kLossAsClosed, &PeerCloseFailsPendingRecvs, "expected MC_ERR_PEER_LOST"},
    {"LossAsClosedOnKill", Fault::kLossAsClosed, &KilledPeerIsReported, "expected MC_ERR_PEER_LOST"},
    {"SlowLossDetection", Fault::kSlowLossDetection, &KilledPeerIsReported, "after the kill"},
    {"DoublePeerFailed", Fault::kDoublePeerFailed, &KilledPeerIsReported, "twice for one endpoint"},
    {"NullProgressAccepted", Fault::kNullProgressAccepted, &InvalidArgumentsAreErrors, "t.progress(nullptr)"},
    {"ConnectNeverFails", Fault::kConnectNeverFails, &ConnectToBadAddressFails, "did not complete"},
    {"CorruptReceivedByteInMesh", Fault::kCorruptReceivedByte, &ThreeProcessFullMesh, "bytes: byte 2049 of 4099"},
};

INSTANTIATE_TEST_SUITE_P(Tcp, MutationTest, testing::ValuesIn(kMutations),
                         [](const testing::TestParamInfo<Mutation>& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace mc::conformance
