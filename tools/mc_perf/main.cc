// mc_perf: MoonComm's performance test, in the manner of nccl-tests.
//   mc_perf --np 2 -b 8 -e 256M -f 2          # p2p latency and bandwidth, 2 local ranks
//   MC_TRANSPORT=tcp mc_perf --np 2 --check
//   mc_perf --op allreduce -b 1K -e 64M -f 4 --np 4 --check   # a collective (coll_bench.h)
#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "launcher/local_ranks.h"
#include "mc_perf/coll_bench.h"
#include "mc_perf/options.h"
#include "mc_perf/p2p_bench.h"
#include "mooncomm/collectives.h"
#include "mooncomm/communicator.h"

namespace {

int SpawnLocalRanks(int argc, char** argv, int np) {
  mc::LocalLaunch launch;
  char self[4096];
  ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
  if (n <= 0) {
    std::fprintf(stderr, "mc_perf: cannot find my own executable\n");
    return 1;
  }
  self[n] = '\0';
  launch.argv.push_back(self);
  for (int i = 1; i < argc; ++i) launch.argv.push_back(argv[i]);
  launch.num_ranks = np;
  launch.timeout = absl::Hours(1);
  absl::StatusOr<std::vector<mc::RankExit>> exits = mc::RunLocalRanks(launch);
  if (!exits.ok()) {
    std::fprintf(stderr, "mc_perf: %s\n", std::string(exits.status().message()).c_str());
    return 1;
  }
  int rc = 0;
  for (const mc::RankExit& e : *exits) {
    if (!e.exited || e.exit_code != 0) {
      std::fprintf(stderr, "mc_perf: %s\n", mc::Describe(e).c_str());
      rc = 1;
    }
  }
  return rc;
}

void PrintTable(const mc::Communicator& comm, const std::vector<mc::perf::P2pRow>& rows) {
  std::printf("# mc_perf p2p: rank 0 <-> rank 1 over %s, %d ranks\n", comm.transport_name(1).c_str(), comm.size());
  std::printf("# lat: one-way ping-pong latency; bw: unidirectional bandwidth; medians of repetitions\n");
  std::printf("#\n# %12s %8s %10s %8s %10s %8s\n", "size(B)", "lat-iter", "lat(us)", "bw-msgs", "bw(GB/s)", "#wrong");
  for (const auto& r : rows) {
    std::string wrong = r.wrong < 0 ? "N/A" : std::to_string(r.wrong);
    std::printf("  %12llu %8d %10.2f %8d %10.3f %8s\n", static_cast<unsigned long long>(r.bytes), r.lat_iters,
                r.lat_us, r.bw_messages, r.bw_gbps, wrong.c_str());
  }
  std::fflush(stdout);
}

// Rank 0 prints the table row by row as sizes finish; returns the wrong elements.
absl::StatusOr<int64_t> RunCollectives(mc::Communicator& comm, const mc::perf::Options& options) {
  absl::StatusOr<std::unique_ptr<mc::Collectives>> coll = mc::Collectives::Create(&comm);
  if (!coll.ok()) return coll.status();
  if (comm.rank() == 0) mc::perf::PrintCollHeader(comm, options);
  absl::StatusOr<std::vector<mc::perf::CollRow>> rows = mc::perf::RunCollectiveSweep(comm, **coll, options);
  if (!rows.ok()) return rows.status();
  int64_t wrong = 0;
  for (const auto& r : *rows) wrong += r.wrong > 0 ? r.wrong : 0;
  return wrong;
}

}  // namespace

int main(int argc, char** argv) {
  absl::StatusOr<mc::perf::Options> options = mc::perf::ParseOptions(argc, argv);
  if (!options.ok()) {
    bool help = absl::IsCancelled(options.status());
    std::fprintf(help ? stdout : stderr, "%s\n", std::string(options.status().message()).c_str());
    return help ? 0 : 2;
  }
  if (options->np > 0 && !mc::StartedByLauncher()) return SpawnLocalRanks(argc, argv, options->np);

  absl::StatusOr<std::unique_ptr<mc::Communicator>> comm = mc::Communicator::Create();
  if (!comm.ok()) {
    std::fprintf(stderr, "mc_perf: %s\n", std::string(comm.status().message()).c_str());
    return 1;
  }
  int64_t wrong = 0;
  if (options->mode == "p2p") {
    absl::StatusOr<std::vector<mc::perf::P2pRow>> rows = mc::perf::RunP2p(**comm, *options);
    if (!rows.ok()) {
      std::fprintf(stderr, "mc_perf rank %d: %s\n", (*comm)->rank(), std::string(rows.status().message()).c_str());
      return 1;
    }
    for (const auto& r : *rows) wrong += r.wrong > 0 ? r.wrong : 0;
    if ((*comm)->rank() == 0) PrintTable(**comm, *rows);
  } else {
    absl::StatusOr<int64_t> w = RunCollectives(**comm, *options);
    if (!w.ok()) {
      std::fprintf(stderr, "mc_perf rank %d: %s\n", (*comm)->rank(), std::string(w.status().message()).c_str());
      return absl::IsInvalidArgument(w.status()) ? 2 : 1;
    }
    wrong = *w;
  }
  // Keep every rank alive until all are done, so nobody sees a peer vanish mid-run.
  absl::Status s = mc::StoreBarrier((*comm)->store(), "mc_perf/done", (*comm)->size(), absl::Minutes(10));
  if (!s.ok()) std::fprintf(stderr, "mc_perf: %s\n", std::string(s.message()).c_str());
  return wrong == 0 && s.ok() ? 0 : 1;
}
