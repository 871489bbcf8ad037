// A peer killed with SIGKILL: the survivor hears of it through peer_failed,
// its pending requests fail with MC_ERR_PEER_LOST quickly, and new requests
// to the dead peer fail at once.
#include <sched.h>

#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cases.h"
#include "child_check.h"
#include "gtest/gtest.h"
#include "pattern.h"
#include "peer_links.h"
#include "process_group.h"
#include "session.h"

namespace mc::conformance {
namespace {

constexpr int kSurvivor = 0;
constexpr int kVictimConnects = 1;  // connects to the survivor: the survivor's ep is an accepted one
constexpr int kVictimListens = 2;   // the survivor connects to it
constexpr auto kDetectLimit = std::chrono::seconds(2);
constexpr auto kGiveUp = std::chrono::seconds(10);
constexpr auto kAtOnce = std::chrono::milliseconds(250);
constexpr auto kVictimLifetime = std::chrono::seconds(40);
constexpr auto kSetupTimeout = std::chrono::seconds(30);
constexpr size_t kRecvSizes[] = {16, 64u << 10, 8u << 20};
constexpr size_t kSendBytes = 16u << 20;

struct Pending {
  Pending(void* req, bool is_recv, int victim) : req(req), is_recv(is_recv), victim(victim) {}
  void* req;
  bool is_recv;
  int victim;
  bool done = false;
  mc_completion_v1_t completion{};
  Clock::time_point when;
};

// After the kill: a new send / receive on the dead endpoint fails at once.
void ExpectFailsAtOnce(Session& session, void* ep, int victim) {
  std::vector<uint8_t> buf(64, 9);
  const std::string what = "on the endpoint of killed rank " + std::to_string(victim);
  for (bool is_recv : {false, true}) {
    void* req = nullptr;
    mc_result_t rc = is_recv ? session.t().irecv(ep, 0x4f0, buf.data(), buf.size(), nullptr, &req)
                             : session.t().isend(ep, 0x4f0, buf.data(), buf.size(), nullptr, &req);
    const char* op = is_recv ? "a new receive " : "a new send ";
    if (IsError(rc)) continue;
    CONF_EXPECT_RC(rc, MC_SUCCESS) << op << what;
    if (rc != MC_SUCCESS) continue;
    mc_completion_v1_t done = session.Wait(req, op + what, Deadline::After(kAtOnce));
    CONF_EXPECT_RC(done.status, MC_ERR_PEER_LOST) << op << what;
  }
}

void SurvivorRole(const mc_plugin_v1_t* plugin, ChildEnv& env) {
  Session session(plugin);
  std::vector<void*> eps(3, nullptr);
  eps[kVictimConnects] = ConnectToPeer(session, env, kVictimConnects);
  eps[kVictimListens] = session.Connect(0, ReceiveFromPeer(session, env, kVictimListens), HelloOf(kSurvivor));
  std::vector<Pending> pending;
  std::vector<std::unique_ptr<GuardedBuffer>> buffers;
  std::vector<uint8_t> out(kSendBytes, 0x61);
  for (int victim : {kVictimConnects, kVictimListens}) {
    Ping(session, eps[victim], kSurvivor, victim);
    for (size_t i = 0; i < std::size(kRecvSizes); ++i) {
      buffers.push_back(std::make_unique<GuardedBuffer>(kRecvSizes[i], 64));
      pending.emplace_back(session.PostRecv(eps[victim], 0x400 + i, buffers.back()->data(), kRecvSizes[i]), true,
                           victim);
    }
    pending.emplace_back(session.PostSend(eps[victim], 0x4ff, out.data(), out.size()), false, victim);
  }
  CONF_CHECK(env.parent().Send("posted"));
  // Wait without driving progress: the kill happens meanwhile.
  const std::vector<uint64_t> words = DecodeWords(ReceiveFromParent(nullptr, env, Deadline::After(kSetupTimeout)));
  CONF_CHECK(words.size() == 1);
  const Clock::time_point killed_at{Clock::duration(words[0])};

  const Deadline give_up = Deadline::At(killed_at + kGiveUp);
  for (;;) {
    bool all_done = true;
    for (Pending& p : pending) {
      if (p.done) continue;
      if (session.Test(p.req, &p.completion, "a request to a killed peer")) {
        p.done = true;
        p.when = Clock::now();
      } else {
        all_done = false;
      }
    }
    const bool all_reported = !session.host().FailuresOf(eps[kVictimConnects]).empty() &&
                              !session.host().FailuresOf(eps[kVictimListens]).empty();
    if (all_done && all_reported) break;
    CONF_CHECK(!give_up.Expired()) << (all_done ? "" : "requests to the killed peers never completed; ")
                                   << (all_reported ? "" : "peer_failed was not called for every killed peer")
                                   << " (waited " << std::chrono::duration_cast<std::chrono::seconds>(kGiveUp).count()
                                   << " s)";
    session.Progress();
  }

  Clock::time_point last = killed_at;
  for (const Pending& p : pending) {
    const std::string what =
        std::string(p.is_recv ? "a receive" : "a send") + " pending on killed rank " + std::to_string(p.victim);
    if (p.is_recv) {
      CONF_EXPECT_RC(p.completion.status, MC_ERR_PEER_LOST) << what;
    } else {
      CONF_EXPECT(p.completion.status == MC_ERR_PEER_LOST || p.completion.status == MC_SUCCESS)
          << what << " ended with " << ResultName(p.completion.status);
    }
    last = std::max(last, p.when);
  }
  for (int victim : {kVictimConnects, kVictimListens}) {
    for (const PeerFailure& f : session.host().FailuresOf(eps[victim])) last = std::max(last, f.when);
  }
  CONF_EXPECT(last - killed_at < kDetectLimit)
      << "the loss of the killed peers was seen " << SecondsBetween(killed_at, last) << " s after the kill (limit "
      << std::chrono::duration<double>(kDetectLimit).count() << " s)";

  // A little more progress: no second report for the same endpoint.
  const Deadline settle = Deadline::After(std::chrono::milliseconds(200));
  while (!settle.Expired()) session.Progress();
  for (int victim : {kVictimConnects, kVictimListens}) {
    CONF_EXPECT(session.host().FailuresOf(eps[victim]).size() == 1)
        << "peer_failed was called " << session.host().FailuresOf(eps[victim]).size() << " times for rank " << victim;
    ExpectFailsAtOnce(session, eps[victim], victim);
  }
  for (int victim : {kVictimConnects, kVictimListens}) session.Close(eps[victim]);
  session.Finalize();
}

[[noreturn]] void WaitToBeKilled(Session& session, ChildEnv& env) {
  CONF_CHECK(env.parent().Send("ready"));
  const Deadline deadline = Deadline::After(kVictimLifetime);
  while (!deadline.Expired()) {
    session.Progress();
    sched_yield();
  }
  ExitChild(kChildFailed, "was never killed");
}

void VictimConnectsRole(const mc_plugin_v1_t* plugin, ChildEnv& env) {
  Session session(plugin);
  void* ep = ConnectToPeer(session, env, kSurvivor);
  Ping(session, ep, kVictimConnects, kSurvivor);
  WaitToBeKilled(session, env);
}

void VictimListensRole(const mc_plugin_v1_t* plugin, ChildEnv& env) {
  Session session(plugin);
  void* listener = nullptr;
  SendToPeer(env, kSurvivor, session.Listen(0, &listener));
  std::string hello;
  void* ep = session.Accept(listener, &hello, Deadline::After(kOpTimeout));
  Ping(session, ep, kVictimListens, kSurvivor);
  WaitToBeKilled(session, env);
}

ChildMain Role(const mc_plugin_v1_t* plugin, void (*role)(const mc_plugin_v1_t*, ChildEnv&)) {
  return [plugin, role](ChildEnv& env) { role(plugin, env); };
}

// Parent side: the message each child sends when it is in place.
bool AwaitFromChild(ProcessGroup& group, int rank, const std::string& expected) {
  std::optional<std::string> message = group.channel(rank).Receive(Deadline::After(kSetupTimeout));
  return message.has_value() && *message == expected;
}

}  // namespace

void KilledPeerIsReported(const mc_plugin_v1_t* plugin) {
  ProcessGroup group(CurrentCaseName(),
                     {Role(plugin, SurvivorRole), Role(plugin, VictimConnectsRole), Role(plugin, VictimListensRole)});
  if (!group.ok()) return;
  const bool in_place = AwaitFromChild(group, kVictimConnects, "ready") &&
                        AwaitFromChild(group, kVictimListens, "ready") && AwaitFromChild(group, kSurvivor, "posted");
  if (in_place) {
    const Clock::time_point killed_at = Clock::now();
    group.Kill(kVictimConnects);
    group.Kill(kVictimListens);
    group.channel(kSurvivor).Send(EncodeWords({static_cast<uint64_t>(killed_at.time_since_epoch().count())}));
  }
  // If they never got in place, one of them has failed: give the others a moment, no more.
  std::vector<ChildOutcome> outcomes =
      group.Wait(Deadline::After(in_place ? std::chrono::seconds(kCaseTimeout) : std::chrono::seconds(2)));
  ExpectChildrenPassed(outcomes);
  if (!in_place && !testing::Test::IsSkipped()) {
    ADD_FAILURE() << "the processes never got in place for the kill";
  }
}

}  // namespace mc::conformance
