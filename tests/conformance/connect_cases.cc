// listen / connect / accept: addresses and hellos arrive intact, and each
// accepted endpoint is wired to the connection whose hello it handed out.
#include <cstring>
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

constexpr int kAcceptor = 0;
constexpr int kConnector = 1;
constexpr uint64_t kTag = 0xc0ffee;
constexpr size_t kMessageBytes = 1000;

// The hellos of the connections made to one listener: the largest allowed, a short one, none.
std::vector<std::string> Hellos() {
  std::string full(MC_MAX_HELLO_BYTES, '\0');
  FillPattern(full.data(), full.size(), MessageSeed(kConnector, kAcceptor, 0x4e110, 0));
  return {full, "hello", ""};
}

std::string ListenWithGuardedAddress(Session& session, int dev, void** listener) {
  std::vector<char> addr(2 * MC_MAX_ADDR_BYTES, static_cast<char>(GuardedBuffer::kGuard));
  size_t len = MC_MAX_ADDR_BYTES;
  *listener = nullptr;
  CONF_CHECK_RC(session.t().listen(session.ctx(), dev, addr.data(), &len, listener), MC_SUCCESS)
      << "listen on device " << dev;
  CONF_CHECK(*listener != nullptr) << "listen returned MC_SUCCESS but no listener";
  CONF_CHECK(len > 0 && len <= MC_MAX_ADDR_BYTES) << "listen's address is " << len << " bytes";
  CONF_CHECK(!FindByteOtherThan(addr.data() + MC_MAX_ADDR_BYTES, MC_MAX_ADDR_BYTES, GuardedBuffer::kGuard))
      << "listen wrote past the address capacity it was given";
  return std::string(addr.data(), len);
}

// Accepts one connection with a guarded hello buffer; returns the hello.
void* AcceptWithGuardedHello(Session& session, void* listener, std::string* hello) {
  const Deadline deadline = Deadline::After(kOpTimeout);
  for (;;) {
    std::vector<char> buf(2 * MC_MAX_HELLO_BYTES, static_cast<char>(GuardedBuffer::kGuard));
    size_t len = MC_MAX_HELLO_BYTES;
    void* ep = nullptr;
    mc_result_t rc = session.t().accept(listener, &ep, buf.data(), &len);
    if (rc == MC_SUCCESS) {
      CONF_CHECK(ep != nullptr) << "accept returned MC_SUCCESS but no endpoint";
      CONF_CHECK(len <= MC_MAX_HELLO_BYTES) << "accept says the hello is " << len << " bytes";
      CONF_CHECK(!FindByteOtherThan(buf.data() + MC_MAX_HELLO_BYTES, MC_MAX_HELLO_BYTES, GuardedBuffer::kGuard))
          << "accept wrote past the hello capacity it was given";
      session.host().EndpointOpened(ep);
      hello->assign(buf.data(), len);
      return ep;
    }
    CONF_CHECK(rc == MC_AGAIN) << "accept returned " << ResultName(rc);
    CONF_CHECK(!deadline.Expired()) << "accept: no connection arrived within the deadline";
    session.Progress();
  }
}

uint64_t SeedOf(int from, int to, int connection) { return MessageSeed(from, to, kTag, connection); }

// Posts one receive and one send per endpoint; connection k carries seed k.
void ExchangeOnEach(Session& session, const std::vector<void*>& eps, int me, int peer) {
  std::vector<std::vector<uint8_t>> out(eps.size(), std::vector<uint8_t>(kMessageBytes));
  std::vector<GuardedBuffer> in;
  std::vector<void*> reqs;
  for (size_t k = 0; k < eps.size(); ++k) {
    in.emplace_back(kMessageBytes, 64);
    FillPattern(out[k].data(), kMessageBytes, SeedOf(me, peer, static_cast<int>(k)));
    reqs.push_back(session.PostSend(eps[k], kTag, out[k].data(), kMessageBytes));
    reqs.push_back(session.PostRecv(eps[k], kTag, in[k].data(), kMessageBytes));
  }
  std::vector<mc_completion_v1_t> done =
      session.WaitAll(reqs, "one message each way per connection", Deadline::After(kOpTimeout));
  for (size_t k = 0; k < eps.size(); ++k) {
    CONF_CHECK_RC(done[2 * k].status, MC_SUCCESS) << "send on connection " << k;
    CONF_CHECK_RC(done[2 * k + 1].status, MC_SUCCESS) << "receive on connection " << k;
    CONF_CHECK(done[2 * k + 1].bytes == kMessageBytes) << "connection " << k << " received " << done[2 * k + 1].bytes;
    CONF_CHECK(done[2 * k + 1].tag == kTag) << "connection " << k << " received tag " << done[2 * k + 1].tag;
    std::string mismatch = DescribePatternMismatch(in[k].data(), kMessageBytes, SeedOf(peer, me, static_cast<int>(k)));
    CONF_CHECK(mismatch.empty()) << "the endpoint of connection " << k
                                 << " carries another connection's data (or corrupt data): " << mismatch;
    CONF_CHECK(in[k].DescribeGuardDamage().empty()) << in[k].DescribeGuardDamage();
  }
}

void AcceptorRound(Session& session, ChildEnv& env, int dev) {
  void* listener = nullptr;
  SendToPeer(env, kConnector, ListenWithGuardedAddress(session, dev, &listener));
  const std::vector<std::string> hellos = Hellos();
  std::vector<void*> eps(hellos.size(), nullptr);
  for (size_t i = 0; i < hellos.size(); ++i) {
    std::string hello;
    void* ep = AcceptWithGuardedHello(session, listener, &hello);
    size_t k = 0;
    while (k < hellos.size() && hellos[k] != hello) ++k;
    CONF_CHECK(k < hellos.size()) << "accepted a hello of " << hello.size()
                                  << " bytes that no connector sent (corrupt or cut short)";
    CONF_CHECK(eps[k] == nullptr) << "the hello of connection " << k << " was handed out twice";
    eps[k] = ep;
  }
  ExchangeOnEach(session, eps, kAcceptor, kConnector);
  session.ExpectNoPeerFailures("during the exchange");
  Barrier(session, env);
  for (void* ep : eps) session.Close(ep);
  session.CloseListener(listener);
}

void ConnectorRound(Session& session, ChildEnv& env, int dev) {
  const std::string addr = ReceiveFromPeer(session, env, kAcceptor);
  std::vector<void*> eps;
  // Sends are posted right after connect: they must be queued until the connection is up.
  for (const std::string& hello : Hellos()) eps.push_back(session.Connect(dev, addr, hello));
  ExchangeOnEach(session, eps, kConnector, kAcceptor);
  session.ExpectNoPeerFailures("during the exchange");
  Barrier(session, env);
  for (void* ep : eps) session.Close(ep);
}

}  // namespace

void ListenConnectAcceptHello(const mc_plugin_v1_t* plugin) {
  auto role = [plugin](ChildEnv& env) {
    Session session(plugin);
    const int devices = session.DeviceCount();
    for (int dev = 0; dev < devices && dev < 16; ++dev) {
      if (env.rank() == kAcceptor) {
        AcceptorRound(session, env, dev);
      } else {
        ConnectorRound(session, env, dev);
      }
      Barrier(session, env);
    }
    session.Finalize();
  };
  RunChildren({role, role});
}

}  // namespace mc::conformance
