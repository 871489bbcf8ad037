// mc_tune: measures every algorithm of each collective over a size sweep on
// this machine's transport and writes the tuning file MC_TUNING_FILE reads,
// a CSV of the measurements and a chart of them.
//   mc_tune --np 4 -b 1K -e 64M -f 4 --ops allreduce,allgather -o tuning.txt --chart tuning.png
//   MC_TUNING_FILE=tuning.txt mc_perf --op allreduce --np 4 -b 1K -e 64M -f 4
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "launcher/local_ranks.h"
#include "mc_perf/coll_bench.h"
#include "mc_tune/tune_options.h"
#include "mc_tune/tune_table.h"
#include "mooncomm/collectives.h"
#include "mooncomm/communicator.h"
#include "tuner/algorithm_catalog.h"
#include "tuner/size_text.h"
#include "tuner/tuning_file.h"

extern char** environ;

namespace {

using mc::tune::Measurement;
using mc::tune::TuneOptions;

std::string SelfPath() {
  char self[4096];
  ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
  if (n <= 0) return "";
  self[n] = '\0';
  return self;
}

int SpawnLocalRanks(int argc, char** argv, int np) {
  mc::LocalLaunch launch;
  std::string self = SelfPath();
  if (self.empty()) {
    std::fprintf(stderr, "mc_tune: cannot find my own executable\n");
    return 1;
  }
  launch.argv.push_back(self);
  for (int i = 1; i < argc; ++i) launch.argv.push_back(argv[i]);
  launch.num_ranks = np;
  launch.timeout = absl::Hours(4);
  absl::StatusOr<std::vector<mc::RankExit>> exits = mc::RunLocalRanks(launch);
  if (!exits.ok()) {
    std::fprintf(stderr, "mc_tune: %s\n", std::string(exits.status().message()).c_str());
    return 1;
  }
  int rc = 0;
  for (const mc::RankExit& e : *exits) {
    if (!e.exited || e.exit_code != 0) {
      std::fprintf(stderr, "mc_tune: %s\n", mc::Describe(e).c_str());
      rc = e.exited && e.exit_code == 2 && rc != 1 ? 2 : 1;
    }
  }
  return rc;
}

// The transport the tuner sees (as mc::Collectives does): the slowest link,
// tcp anywhere making it tcp.
std::string TunerTransport(const mc::Communicator& comm) {
  std::string transport;
  for (int r = 0; r < comm.size(); ++r) {
    if (r == comm.rank()) continue;
    std::string t = comm.transport_name(r);
    if (transport.empty() || t == "tcp") transport = t;
  }
  return transport.empty() ? "self" : transport;
}

std::string SizeText(uint64_t bytes) { return mc::algo::FormatSizeText(bytes); }

// Errors of a forced algorithm that the collective cannot run here (a
// constraint), as opposed to a failure while running.
bool IsNotEligible(const absl::Status& s) {
  return absl::IsInvalidArgument(s) || absl::IsFailedPrecondition(s) || absl::IsUnimplemented(s) ||
         absl::IsOutOfRange(s);
}

std::vector<std::string> AlgorithmsOf(mc::CollectiveKind coll) {
  std::vector<std::string> out;
  for (const mc::algo::AlgorithmDesc& d : mc::algo::ModelAlgorithms()) {
    if (d.coll == coll) out.push_back(d.name);
  }
  return out;
}

// Every rank runs the same sweep; rank 0 keeps the measurements.
absl::StatusOr<std::vector<Measurement>> Measure(mc::Communicator& comm, mc::Collectives& coll,
                                                 const TuneOptions& t) {
  mc::perf::CollBench bench(comm, coll);
  const bool talk = comm.rank() == 0;
  int total = 0, done = 0;
  for (mc::CollectiveKind op : t.ops) {
    mc::perf::Options o;
    o.coll = op;
    o.min_bytes = t.min_bytes;
    o.max_bytes = t.max_bytes;
    o.factor = t.factor;
    total += static_cast<int>(mc::perf::SweepSizes(o).size() * AlgorithmsOf(op).size());
  }
  std::vector<Measurement> out;
  for (mc::CollectiveKind op : t.ops) {
    mc::perf::Options o;
    o.mode = mc::CollectiveName(op);
    o.coll = op;
    o.min_bytes = t.min_bytes;
    o.max_bytes = t.max_bytes;
    o.factor = t.factor;
    o.iters = t.iters;
    o.warmup = t.warmup;
    o.reps = t.reps;
    o.dtype = t.dtype;
    o.check = t.check;
    const std::vector<uint64_t> sizes = mc::perf::SweepSizes(o);
    std::vector<std::string> algorithms = AlgorithmsOf(op);
    std::vector<bool> eligible(algorithms.size(), true);
    for (uint64_t bytes : sizes) {
      // The tuner's current choice at this size: one untimed call without a forced algorithm.
      mc::perf::Options probe = o;
      probe.iters = 1;
      probe.warmup = 0;
      probe.reps = 1;
      probe.check = false;
      absl::StatusOr<mc::perf::CollRow> current = bench.Run(probe, bytes, "");
      if (!current.ok()) {
        return absl::Status(current.status().code(), absl::StrCat(mc::CollectiveName(op), " at ", SizeText(bytes),
                                                                  ": ", current.status().message()));
      }
      const size_t first = out.size();
      for (size_t a = 0; a < algorithms.size(); ++a) {
        ++done;
        if (!eligible[a]) continue;
        absl::StatusOr<mc::perf::CollRow> row = bench.Run(o, bytes, algorithms[a]);
        if (!row.ok()) {
          if (!IsNotEligible(row.status())) {
            return absl::Status(row.status().code(), absl::StrCat(mc::CollectiveName(op), " ", algorithms[a], " at ",
                                                                  SizeText(bytes), ": ", row.status().message()));
          }
          eligible[a] = false;
          if (talk) {
            std::fprintf(stderr, "mc_tune: [%d/%d] %s %s: skipped, not eligible here (%s)\n", done, total,
                         mc::CollectiveName(op), algorithms[a].c_str(), std::string(row.status().message()).c_str());
          }
          continue;
        }
        if (row->wrong > 0) {
          return absl::DataLossError(absl::StrCat(mc::CollectiveName(op), " ", algorithms[a], " at ",
                                                  SizeText(row->bytes), ": ", row->wrong, " wrong elements"));
        }
        const bool is_current = algorithms[a] == current->algorithm;
        if (talk) {
          std::fprintf(stderr, "mc_tune: [%d/%d] %-14s %6s %-13s %10.2f us  busbw %7.3f GB/s%s\n", done, total,
                       mc::CollectiveName(op), SizeText(row->bytes).c_str(), algorithms[a].c_str(), row->time_us,
                       row->busbw_gbps, is_current ? "  (current choice)" : "");
        }
        out.push_back({op, row->bytes, algorithms[a], row->time_us, row->busbw_gbps, is_current});
      }
      if (talk && out.size() > first) {
        std::vector<Measurement> here(out.begin() + first, out.end());
        const mc::tune::Winner fastest = mc::tune::Winners(here, 0)[0];
        const mc::tune::Winner kept = mc::tune::Winners(here, t.margin)[0];
        if (kept.algorithm == fastest.algorithm) {
          std::fprintf(stderr, "mc_tune: %s %s: %s wins (%.2f us)%s\n", mc::CollectiveName(op),
                       SizeText(bytes).c_str(), kept.algorithm.c_str(), kept.time_us,
                       kept.algorithm == current->algorithm ? ", the current choice" : "");
        } else {
          std::fprintf(stderr, "mc_tune: %s %s: %s stays (%.2f us): %s (%.2f us) is not %g%% faster\n",
                       mc::CollectiveName(op), SizeText(bytes).c_str(), kept.algorithm.c_str(), kept.time_us,
                       fastest.algorithm.c_str(), fastest.time_us, t.margin * 100);
        }
      }
    }
  }
  return out;
}

// Runs `python plot_tuning.py ...`; the reason when no chart came of it.
absl::Status Plot(const TuneOptions& t, const std::string& title) {
  std::string script;
  const std::string self = SelfPath();
  const std::string next_to_me = self.substr(0, self.rfind('/') + 1) + "plot_tuning.py";
  for (const std::string& candidate : {next_to_me, std::string(MC_TUNE_SOURCE_DIR "/plot_tuning.py")}) {
    if (access(candidate.c_str(), R_OK) == 0) {
      script = candidate;
      break;
    }
  }
  if (script.empty()) return absl::NotFoundError(absl::StrCat("plot_tuning.py is not next to ", self));
  std::vector<std::string> args = {t.python, script, "--csv", t.csv, "--out", t.chart, "--title", title};
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  int err = posix_spawnp(&pid, t.python.c_str(), nullptr, nullptr, argv.data(), environ);
  if (err != 0) {
    return absl::NotFoundError(absl::StrCat("cannot run ", t.python, " (", std::strerror(err),
                                            "); install python3 and matplotlib, or pass --python"));
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return absl::OkStatus();
  if (WIFEXITED(status) && WEXITSTATUS(status) == 3) {
    return absl::FailedPreconditionError(absl::StrCat(t.python, " has no matplotlib (pip install matplotlib)"));
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 127) {
    return absl::NotFoundError(absl::StrCat(t.python, " was not found; install python3 and matplotlib"));
  }
  return absl::InternalError(absl::StrCat(script, " failed (status ", status, ")"));
}

std::string Now() {
  char text[64];
  std::time_t now = std::time(nullptr);
  std::tm tm;
  std::strftime(text, sizeof(text), "%Y-%m-%d %H:%M:%S %Z", localtime_r(&now, &tm));
  return text;
}

std::string LoadAverage() {
  double load[3] = {0, 0, 0};
  if (getloadavg(load, 3) != 3) return "unknown";
  return absl::StrFormat("%.2f %.2f %.2f", load[0], load[1], load[2]);
}

// Rank 0: the tuning file, the CSV and the chart.
int WriteOutputs(const mc::Communicator& comm, const TuneOptions& t, const std::vector<Measurement>& measured,
                 int argc, char** argv) {
  const std::string transport = TunerTransport(comm);
  char host[256] = "?";
  gethostname(host, sizeof(host) - 1);
  std::vector<std::string> args(argv + 1, argv + argc);
  std::vector<std::string> comments = {
      absl::StrCat("measured by mc_tune on ", host, ", ", Now(), ", load average ", LoadAverage()),
      absl::StrCat("mc_tune ", absl::StrJoin(args, " ")),
      absl::StrCat(comm.size(), " ranks over ", transport, ", ", mc::DataTypeName(t.dtype),
                   "; per size the algorithm with the lowest median time (the current choice unless another is ",
                   t.margin * 100, "% faster); a rule holds from its measured size to the next"),
  };
  mc::algo::TuningTable table = mc::tune::MakeTable(measured, t.margin, transport, comm.size(), comments);
  if (absl::Status s = mc::algo::WriteTuningFile(t.output, table); !s.ok()) {
    std::fprintf(stderr, "mc_tune: %s\n", std::string(s.message()).c_str());
    return 1;
  }
  std::fprintf(stderr, "mc_tune: wrote %s (%zu rules for %s, %d ranks); use it with MC_TUNING_FILE=%s\n",
               t.output.c_str(), table.rules.size(), transport.c_str(), comm.size(), t.output.c_str());
  if (absl::Status s = mc::tune::WriteCsv(t.csv, measured, t.margin); !s.ok()) {
    std::fprintf(stderr, "mc_tune: %s\n", std::string(s.message()).c_str());
    return 1;
  }
  std::fprintf(stderr, "mc_tune: wrote %s\n", t.csv.c_str());
  if (!t.chart.empty()) {
    const std::string title = absl::StrCat("mc_tune: ", comm.size(), " ranks over ", transport, ", ",
                                           mc::DataTypeName(t.dtype), " (", host, ")");
    if (absl::Status s = Plot(t, title); s.ok()) {
      std::fprintf(stderr, "mc_tune: wrote %s\n", t.chart.c_str());
    } else {
      std::fprintf(stderr, "mc_tune: no chart: %s (the tuning file and %s are written)\n",
                   std::string(s.message()).c_str(), t.csv.c_str());
    }
  }
  // The rules, for the record.
  std::printf("%s", mc::algo::FormatTuningTable(table).value_or("").c_str());
  std::fflush(stdout);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  absl::StatusOr<TuneOptions> options = mc::tune::ParseTuneOptions(argc, argv);
  if (!options.ok()) {
    bool help = absl::IsCancelled(options.status());
    std::fprintf(help ? stdout : stderr, "%s\n", std::string(options.status().message()).c_str());
    return help ? 0 : 2;
  }
  if (options->np > 0 && !mc::StartedByLauncher()) return SpawnLocalRanks(argc, argv, options->np);

  absl::StatusOr<std::unique_ptr<mc::Communicator>> comm = mc::Communicator::Create();
  if (!comm.ok()) {
    std::fprintf(stderr, "mc_tune: %s\n", std::string(comm.status().message()).c_str());
    return 1;
  }
  absl::StatusOr<std::unique_ptr<mc::Collectives>> coll = mc::Collectives::Create(comm->get());
  if (!coll.ok()) {
    std::fprintf(stderr, "mc_tune: %s\n", std::string(coll.status().message()).c_str());
    return 1;
  }
  if ((*comm)->rank() == 0) {
    std::fprintf(stderr, "mc_tune: %d ranks over %s, %s, sizes %s..%s by %llu, %zu collectives\n", (*comm)->size(),
                 TunerTransport(**comm).c_str(), mc::DataTypeName(options->dtype),
                 SizeText(options->min_bytes).c_str(), SizeText(options->max_bytes).c_str(),
                 static_cast<unsigned long long>(options->factor), options->ops.size());
  }
  absl::StatusOr<std::vector<Measurement>> measured = Measure(**comm, **coll, *options);
  if (!measured.ok()) {
    // Leave at once: the launcher then stops the other ranks.
    std::fprintf(stderr, "mc_tune rank %d: %s\n", (*comm)->rank(), std::string(measured.status().message()).c_str());
    return 1;
  }
  int rc = (*comm)->rank() == 0 ? WriteOutputs(**comm, *options, *measured, argc, argv) : 0;
  // Keep every rank alive until all are done, so nobody sees a peer vanish mid-run.
  absl::Status s = mc::StoreBarrier((*comm)->store(), "mc_tune/done", (*comm)->size(), absl::Minutes(10));
  if (!s.ok()) std::fprintf(stderr, "mc_tune: %s\n", std::string(s.message()).c_str());
  return rc == 0 && s.ok() ? 0 : rc == 0 ? 1 : rc;
}
