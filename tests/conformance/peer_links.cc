#include "peer_links.h"

#include <cstring>
#include <optional>

#include "child_check.h"
#include "pattern.h"

namespace mc::conformance {
namespace {
constexpr uint64_t kPingTag = 0x70696e67;  // "ping"
constexpr size_t kPingBytes = 333;
}  // namespace

void SendToPeer(ChildEnv& env, int peer, std::string_view message) {
  CONF_CHECK(env.peer(peer).Send(message)) << "rank " << peer << "'s side channel is closed (did it fail?)";
}

std::string ReceiveFromPeer(Session& session, ChildEnv& env, int peer) {
  std::optional<std::string> message =
      env.peer(peer).Receive(Deadline::After(kBarrierTimeout), [&] { session.Progress(); });
  CONF_CHECK(message.has_value()) << "nothing came from rank " << peer
                                  << " on the side channel (it failed, see its report, or timed out)";
  return *message;
}

std::string ReceiveFromParent(Session* session, ChildEnv& env, const Deadline& deadline) {
  std::function<void()> idle;
  if (session != nullptr) idle = [session] { session->Progress(); };
  std::optional<std::string> message = env.parent().Receive(deadline, idle);
  CONF_CHECK(message.has_value()) << "nothing came from the test process on the side channel";
  return *message;
}

void Barrier(Session& session, ChildEnv& env) {
  for (int peer = 0; peer < env.size(); ++peer) {
    if (peer != env.rank()) SendToPeer(env, peer, "barrier");
  }
  for (int peer = 0; peer < env.size(); ++peer) {
    if (peer == env.rank()) continue;
    std::string message = ReceiveFromPeer(session, env, peer);
    CONF_CHECK(message == "barrier") << "expected a barrier from rank " << peer << ", got '" << message << "'";
  }
}

std::string HelloOf(int rank) { return "conformance rank " + std::to_string(rank); }

void* ConnectToPeer(Session& session, ChildEnv& env, int peer, int dev) {
  if (env.rank() < peer) {
    void* listener = nullptr;
    SendToPeer(env, peer, session.Listen(dev, &listener));
    std::string hello;
    void* ep = session.Accept(listener, &hello, Deadline::After(kOpTimeout));
    CONF_CHECK(hello == HelloOf(peer)) << "accepted hello '" << hello << "', expected '" << HelloOf(peer) << "'";
    session.CloseListener(listener);
    return ep;
  }
  std::string addr = ReceiveFromPeer(session, env, peer);
  return session.Connect(dev, addr, HelloOf(env.rank()));
}

std::vector<void*> ConnectMesh(Session& session, ChildEnv& env, int dev) {
  const int me = env.rank();
  std::vector<void*> eps(static_cast<size_t>(env.size()), nullptr);
  void* listener = nullptr;
  std::string addr = session.Listen(dev, &listener);
  for (int peer = me + 1; peer < env.size(); ++peer) SendToPeer(env, peer, addr);
  for (int peer = 0; peer < me; ++peer) {
    eps[static_cast<size_t>(peer)] = session.Connect(dev, ReceiveFromPeer(session, env, peer), HelloOf(me));
  }
  const Deadline deadline = Deadline::After(kOpTimeout);
  for (int accepted = 0; accepted < env.size() - 1 - me; ++accepted) {
    std::string hello;
    void* ep = session.Accept(listener, &hello, deadline);
    int from = -1;
    for (int peer = me + 1; peer < env.size(); ++peer) {
      if (hello == HelloOf(peer)) from = peer;
    }
    CONF_CHECK(from >= 0) << "accepted a connection whose hello '" << hello << "' names no expected rank";
    CONF_CHECK(eps[static_cast<size_t>(from)] == nullptr) << "rank " << from << " was accepted twice";
    eps[static_cast<size_t>(from)] = ep;
  }
  session.CloseListener(listener);
  return eps;
}

void Ping(Session& session, void* ep, int my_rank, int peer_rank) {
  std::vector<uint8_t> out(kPingBytes);
  GuardedBuffer in(kPingBytes, 64);
  FillPattern(out.data(), out.size(), MessageSeed(my_rank, peer_rank, kPingTag, 0));
  void* recv = session.PostRecv(ep, kPingTag, in.data(), in.size());
  void* send = session.PostSend(ep, kPingTag, out.data(), out.size());
  std::vector<mc_completion_v1_t> done = session.WaitAll({recv, send}, "ping", Deadline::After(kOpTimeout));
  CONF_CHECK_RC(done[0].status, MC_SUCCESS) << "ping from rank " << peer_rank << ": receive status";
  CONF_CHECK_RC(done[1].status, MC_SUCCESS) << "ping to rank " << peer_rank << ": send status";
  CONF_CHECK(done[0].bytes == kPingBytes) << "ping received " << done[0].bytes << " bytes, sent " << kPingBytes;
  std::string mismatch = DescribePatternMismatch(in.data(), in.size(), MessageSeed(peer_rank, my_rank, kPingTag, 0));
  CONF_CHECK(mismatch.empty()) << "ping from rank " << peer_rank << ": " << mismatch;
  CONF_CHECK(in.DescribeGuardDamage().empty()) << "ping: " << in.DescribeGuardDamage();
}

std::string EncodeWords(const std::vector<uint64_t>& words) {
  std::string bytes(words.size() * sizeof(uint64_t), '\0');
  if (!words.empty()) std::memcpy(bytes.data(), words.data(), bytes.size());
  return bytes;
}

std::vector<uint64_t> DecodeWords(std::string_view bytes) {
  CONF_CHECK(bytes.size() % sizeof(uint64_t) == 0) << "side-channel message of " << bytes.size() << " bytes";
  std::vector<uint64_t> words(bytes.size() / sizeof(uint64_t));
  if (!words.empty()) std::memcpy(words.data(), bytes.data(), bytes.size());
  return words;
}

}  // namespace mc::conformance
