// Three processes, fully connected, each sending to each at the same time.
#include <memory>
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

constexpr int kProcesses = 3;
constexpr size_t kSizes[] = {0, 1, 4099, (1u << 20) + 3};
constexpr std::chrono::seconds kMeshTimeout{30};

uint64_t MeshTag(int from, int to, size_t k) { return 0x500 + 100 * from + 10 * to + k; }

void MeshRole(const mc_plugin_v1_t* plugin, ChildEnv& env) {
  Session session(plugin);
  const int me = env.rank();
  std::vector<void*> eps = ConnectMesh(session, env);
  for (int peer = 0; peer < kProcesses; ++peer) {
    if (peer != me) Ping(session, eps[peer], me, peer);
  }
  struct Transfer {
    int peer;
    size_t k;
    bool is_recv;
    std::unique_ptr<GuardedBuffer> buf;
  };
  std::vector<Transfer> transfers;
  std::vector<void*> reqs;
  for (int peer = 0; peer < kProcesses; ++peer) {
    if (peer == me) continue;
    for (size_t k = 0; k < std::size(kSizes); ++k) {
      auto in = std::make_unique<GuardedBuffer>(kSizes[k], 64);
      reqs.push_back(session.PostRecv(eps[peer], MeshTag(peer, me, k), in->data(), kSizes[k]));
      transfers.push_back({peer, k, true, std::move(in)});
      auto out = std::make_unique<GuardedBuffer>(kSizes[k], 64);
      FillPattern(out->data(), kSizes[k], MessageSeed(me, peer, MeshTag(me, peer, k), k));
      reqs.push_back(session.PostSend(eps[peer], MeshTag(me, peer, k), out->data(), kSizes[k]));
      transfers.push_back({peer, k, false, std::move(out)});
    }
  }
  std::vector<mc_completion_v1_t> done = session.WaitAll(reqs, "all-to-all", Deadline::After(kMeshTimeout));
  for (size_t i = 0; i < transfers.size(); ++i) {
    const Transfer& tr = transfers[i];
    const size_t len = kSizes[tr.k];
    const std::string what = std::string(tr.is_recv ? "message from rank " : "message to rank ") +
                             std::to_string(tr.peer) + " of " + std::to_string(len) + " bytes";
    CONF_CHECK_RC(done[i].status, MC_SUCCESS) << what;
    CONF_CHECK(done[i].bytes == len) << what << ": completion says " << done[i].bytes << " bytes";
    if (!tr.is_recv) continue;
    CONF_CHECK(done[i].tag == MeshTag(tr.peer, me, tr.k)) << what << ": completion tag " << done[i].tag;
    std::string mismatch =
        DescribePatternMismatch(tr.buf->data(), len, MessageSeed(tr.peer, me, MeshTag(tr.peer, me, tr.k), tr.k));
    CONF_CHECK(mismatch.empty()) << what << ": " << mismatch;
    CONF_CHECK(tr.buf->DescribeGuardDamage().empty()) << what << ": " << tr.buf->DescribeGuardDamage();
  }
  session.ExpectNoPeerFailures("while all processes were alive");
  Barrier(session, env);
  for (void* ep : eps) {
    if (ep != nullptr) session.Close(ep);
  }
  session.Finalize();
}

}  // namespace

void ThreeProcessFullMesh(const mc_plugin_v1_t* plugin) {
  std::vector<ChildMain> roles;
  for (int i = 0; i < kProcesses; ++i) roles.push_back([plugin](ChildEnv& env) { MeshRole(plugin, env); });
  RunChildren(std::move(roles));
}

}  // namespace mc::conformance
