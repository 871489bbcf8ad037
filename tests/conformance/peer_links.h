// Child-side steps that involve the other processes of a case: exchanging
// bytes over the side channels (while driving the plugin's progress, since a
// peer may be waiting on ours), connecting endpoints, and lining up.
#ifndef MOONCOMM_TESTS_CONFORMANCE_PEER_LINKS_H_
#define MOONCOMM_TESTS_CONFORMANCE_PEER_LINKS_H_

#include <string>
#include <string_view>
#include <vector>

#include "process_group.h"
#include "session.h"

namespace mc::conformance {

inline constexpr std::chrono::seconds kBarrierTimeout{45};

void SendToPeer(ChildEnv& env, int peer, std::string_view message);
// Receives the next side-channel message from `peer`, driving progress meanwhile.
std::string ReceiveFromPeer(Session& session, ChildEnv& env, int peer);
std::string ReceiveFromParent(Session* session, ChildEnv& env, const Deadline& deadline);

// Every process of the case reaches this point.
void Barrier(Session& session, ChildEnv& env);

// The hello a connector sends: names its rank.
std::string HelloOf(int rank);

// One endpoint between this process and `peer`: the lower rank listens and
// accepts, the higher rank connects.
void* ConnectToPeer(Session& session, ChildEnv& env, int peer, int dev = 0);
// An endpoint to every other process; eps[rank()] is nullptr.
std::vector<void*> ConnectMesh(Session& session, ChildEnv& env, int dev = 0);

// One small message each way on `ep`, verified. Both sides call it.
void Ping(Session& session, void* ep, int my_rank, int peer_rank);

// Encodes a few integers for the side channel, and decodes them.
std::string EncodeWords(const std::vector<uint64_t>& words);
std::vector<uint64_t> DecodeWords(std::string_view bytes);

}  // namespace mc::conformance

#endif  // MOONCOMM_TESTS_CONFORMANCE_PEER_LINKS_H_
