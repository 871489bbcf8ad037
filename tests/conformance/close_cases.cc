// close(ep) with requests in flight, the peer's close, and finalize with
// everything still open.
#include <string>
#include <vector>

#include "cases.h"
#include "child_check.h"
#include "pattern.h"
#include "peer_links.h"
#include "process_group.h"
#include "session.h"

namespace mc::conformance {
namespace {

constexpr std::chrono::seconds kCancelTimeout{2};
constexpr std::chrono::seconds kPeerCloseTimeout{5};
constexpr size_t kRecvSizes[] = {0, 100, 1u << 20, 8u << 20};
constexpr size_t kBigSend = 32u << 20;

ChildMain Role(const mc_plugin_v1_t* plugin, void (*role)(const mc_plugin_v1_t*, ChildEnv&)) {
  return [plugin, role](ChildEnv& env) { role(plugin, env); };
}

// ---- close with requests posted ----

void CloserRole(const mc_plugin_v1_t* plugin, ChildEnv& env) {
  Session session(plugin);
  void* ep = ConnectToPeer(session, env, 1);
  Ping(session, ep, 0, 1);
  std::vector<GuardedBuffer> in;
  std::vector<void*> recvs;
  for (size_t i = 0; i < std::size(kRecvSizes); ++i) {
    in.emplace_back(kRecvSizes[i], 64);
    recvs.push_back(session.PostRecv(ep, 0x300 + i, in.back().data(), kRecvSizes[i]));  // the peer never sends
  }
  std::vector<uint8_t> big(kBigSend, 0x42);
  void* send = session.PostSend(ep, 0x3ff, big.data(), big.size());  // the peer never receives it
  session.Close(ep);
  const Deadline deadline = Deadline::After(kCancelTimeout);
  for (size_t i = 0; i < recvs.size(); ++i) {
    mc_completion_v1_t done = session.Wait(recvs[i], "a receive posted before close", deadline);
    CONF_EXPECT_RC(done.status, MC_ERR_CLOSED) << "receive of " << kRecvSizes[i] << " bytes after close(ep)";
    CONF_EXPECT(!FindByteOtherThan(in[i].data(), in[i].size(), GuardedBuffer::kPoison) &&
                in[i].DescribeGuardDamage().empty())
        << "a receive cancelled by close wrote into its buffer";
  }
  mc_completion_v1_t sent = session.Wait(send, "a 32 MiB send posted before close", deadline);
  CONF_EXPECT(sent.status == MC_ERR_CLOSED || sent.status == MC_SUCCESS)
      << "a send in flight at close completed with " << ResultName(sent.status)
      << " (MC_ERR_CLOSED, or MC_SUCCESS if it had already gone out)";
  SendToPeer(env, 1, "closed");
  Barrier(session, env);
  session.Finalize();
}

void QuietPeerRole(const mc_plugin_v1_t* plugin, ChildEnv& env) {
  Session session(plugin);
  void* ep = ConnectToPeer(session, env, 0);
  Ping(session, ep, 1, 0);
  CONF_CHECK(ReceiveFromPeer(session, env, 0) == "closed");
  Barrier(session, env);
  session.Close(ep);
  session.Finalize();
}

// ---- the peer closes ----

void PeerCloserRole(const mc_plugin_v1_t* plugin, ChildEnv& env) {
  Session session(plugin);
  void* ep = ConnectToPeer(session, env, 1);
  Ping(session, ep, 0, 1);
  CONF_CHECK(ReceiveFromPeer(session, env, 1) == "posted");
  session.Close(ep);
  SendToPeer(env, 1, "closed");
  Barrier(session, env);
  session.Finalize();
}

void AbandonedRole(const mc_plugin_v1_t* plugin, ChildEnv& env) {
  Session session(plugin);
  void* ep = ConnectToPeer(session, env, 0);
  Ping(session, ep, 1, 0);
  GuardedBuffer small(100), large(4u << 20);
  std::vector<void*> recvs = {session.PostRecv(ep, 0x310, small.data(), small.size()),
                              session.PostRecv(ep, 0x311, large.data(), large.size())};
  SendToPeer(env, 0, "posted");
  CONF_CHECK(ReceiveFromPeer(session, env, 0) == "closed");
  const Deadline deadline = Deadline::After(kPeerCloseTimeout);
  for (void* recv : recvs) {
    mc_completion_v1_t done = session.Wait(recv, "a receive whose peer closed the endpoint", deadline);
    CONF_EXPECT_RC(done.status, MC_ERR_PEER_LOST) << "a receive pending when the peer closed its endpoint";
  }
  // Sending to a closed peer fails at once: an error now or a failed completion.
  std::vector<uint8_t> out(64, 1);
  void* req = nullptr;
  mc_result_t rc = session.t().isend(ep, 0x312, out.data(), out.size(), nullptr, &req);
  if (rc == MC_SUCCESS) rc = session.Wait(req, "a send to a closed peer", Deadline::After(kCancelTimeout)).status;
  CONF_EXPECT(IsError(rc)) << "a send to a peer that closed its endpoint ended with " << ResultName(rc);
  Barrier(session, env);
  session.Close(ep);
  session.Finalize();
}

// ---- finalize with everything open ----

void LeaveEverythingOpenRole(const mc_plugin_v1_t* plugin, ChildEnv& env) {
  Session session(plugin);
  const int me = env.rank();
  const int peer = 1 - me;
  void* ep = ConnectToPeer(session, env, peer);
  Ping(session, ep, me, peer);
  // A listener with a connection it never accepts, and a connection never accepted.
  void* listener = nullptr;
  SendToPeer(env, peer, session.Listen(0, &listener));
  session.Connect(0, ReceiveFromPeer(session, env, peer), HelloOf(me));
  // Registered memory and a peer's key.
  GuardedBuffer region(1u << 20);
  session.Register(region.data(), region.size());
  void* mr = session.Register(region.data(), region.size() / 2);
  SendToPeer(env, peer, session.PackRkey(mr));
  const std::string key = ReceiveFromPeer(session, env, peer);
  void* rkey = nullptr;
  CONF_CHECK_RC(session.m().unpack_rkey(ep, key.data(), key.size(), &rkey), MC_SUCCESS) << "unpack_rkey";
  // Requests that never complete.
  GuardedBuffer in(1u << 20);
  for (uint64_t tag = 0x320; tag < 0x323; ++tag) session.PostRecv(ep, tag, in.data(), in.size());
  std::vector<uint8_t> big(16u << 20, 0x17);
  session.PostSend(ep, 0x330, big.data(), big.size());
  Barrier(session, env);
  // Finalize checks that threads, descriptors, mappings and (under ASan) memory were all given back.
  session.Finalize();
}

}  // namespace

void CloseCancelsPendingRequests(const mc_plugin_v1_t* plugin) {
  RunChildren({Role(plugin, CloserRole), Role(plugin, QuietPeerRole)});
}

void PeerCloseFailsPendingRecvs(const mc_plugin_v1_t* plugin) {
  RunChildren({Role(plugin, PeerCloserRole), Role(plugin, AbandonedRole)});
}

void FinalizeFreesOpenResources(const mc_plugin_v1_t* plugin) {
  RunChildren({Role(plugin, LeaveEverythingOpenRole), Role(plugin, LeaveEverythingOpenRole)});
}

}  // namespace mc::conformance
