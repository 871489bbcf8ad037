#include "mc_perf/options.h"

#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "mooncomm/config.h"
#include "tuner/algorithm_catalog.h"

namespace mc::perf {
namespace {

constexpr char kUsage[] =
    "usage: mc_perf [--op OP] [-b MIN] [-e MAX] [-f FACTOR] [-n ITERS] [-w WARMUP] [-r REPS] [--check] [--np N]\n"
    "               [-d DTYPE] [-o REDOP] [--root R] [--algo ALGO] [--inplace]   (collectives)\n"
    "               [--window W]                                                 (p2p)\n"
    "  --op: p2p (default), allreduce, allgather, reduce_scatter, broadcast, reduce, alltoall, gather,\n"
    "        scatter, barrier\n"
    "  p2p: ping-pong latency (one-way, us) and unidirectional bandwidth (GB/s) between ranks 0 and 1\n"
    "  collectives, as nccl-tests prints them: size is the whole buffer (allgather, reduce_scatter,\n"
    "        alltoall, gather, scatter: all size() blocks), time the median over -r repetitions of the\n"
    "        slowest rank's mean over -n iterations (fewer at large sizes) after -w warmup ones\n"
    "  -d/--dtype f32 (default), f64, f16, bf16, i8, u8, i32, i64, bool; -o/--redop sum (default), prod,\n"
    "        min, max, avg; --root R (broadcast, reduce, gather, scatter; default 0); --algo forces an\n"
    "        algorithm instead of the tuner's choice; --inplace uses the in-place form\n"
    "  --check: verify every element (collectives: against a serial reference computed locally)\n"
    "  sizes take K/M/G suffixes; --np N starts N local ranks unless a launcher already did\n"
    "  MC_TRANSPORT picks the transport (auto, tcp, shm, a plugin name); MC_TUNE and MC_TUNING_FILE\n"
    "        steer the tuner (see mc_tune)";

absl::StatusOr<int> ParseInt(const std::string& flag, const std::string& text, int min) {
  int value = 0;
  if (!absl::SimpleAtoi(text, &value) || value < min) {
    return absl::InvalidArgumentError(
        absl::StrCat(flag, " ", text, min > 0 ? ": expected a positive integer" : ": expected an integer >= 0"));
  }
  return value;
}

}  // namespace

absl::StatusOr<CollectiveKind> ParseBenchCollective(const std::string& flag, const std::string& name) {
  std::vector<std::string> names;
  for (CollectiveKind k : kBenchCollectives) {
    if (name == CollectiveName(k)) return k;
    names.push_back(CollectiveName(k));
  }
  const std::string expected = absl::StrCat("(expected one of ", absl::StrJoin(names, ", "), flag == "--op" ? ", p2p)" : ")");
  if (ParseCollective(name).ok()) {
    return absl::InvalidArgumentError(absl::StrCat(flag, " ", name, ": mc_perf does not measure ", name, " ", expected));
  }
  return absl::InvalidArgumentError(absl::StrCat(flag, " ", name, ": unknown operation '", name, "' ", expected));
}

std::string AlgorithmList(CollectiveKind coll) {
  std::vector<std::string> names;
  for (const algo::AlgorithmDesc& d : algo::ModelAlgorithms()) {
    if (d.coll == coll) names.push_back(d.name);
  }
  return absl::StrJoin(names, ", ");
}

absl::Status CheckAlgorithm(CollectiveKind coll, const std::string& name) {
  for (const algo::AlgorithmDesc& d : algo::ModelAlgorithms()) {
    if (d.coll == coll && d.name == name) return absl::OkStatus();
  }
  return absl::InvalidArgumentError(absl::StrCat("--algo ", name, ": ", CollectiveName(coll), " has no algorithm '",
                                                 name, "' (expected one of ", AlgorithmList(coll), ")"));
}

absl::StatusOr<Options> ParseOptions(int argc, char** argv) {
  Options o;
  bool root_given = false, dtype_given = false, redop_given = false, inplace_given = false;
  for (int i = 1; i < argc; ++i) {
    std::string flag = argv[i];
    if (flag == "-h" || flag == "--help") return absl::CancelledError(kUsage);
    if (flag == "--check" || flag == "-c") {
      o.check = true;
      continue;
    }
    if (flag == "--inplace") {
      o.inplace = inplace_given = true;
      continue;
    }
    if (i + 1 >= argc) return absl::InvalidArgumentError(absl::StrCat(flag, " needs a value\n", kUsage));
    std::string value = argv[++i];
    absl::StatusOr<int> n = 0;
    if (flag == "--op") {
      if (value == "p2p") {
        o.mode = value;
        continue;
      }
      absl::StatusOr<CollectiveKind> coll = ParseBenchCollective(flag, value);
      if (!coll.ok()) return coll.status();
      o.mode = value;
      o.coll = *coll;
    } else if (flag == "-d" || flag == "--dtype") {
      absl::StatusOr<DataType> type = ParseDataType(value);
      if (!type.ok()) {
        return absl::InvalidArgumentError(absl::StrCat(flag, " ", value, ": unknown data type '", value,
                                                       "' (expected f32, f64, f16, bf16, i8, u8, i32, i64 or bool)"));
      }
      o.dtype = *type;
      dtype_given = true;
    } else if (flag == "-o" || flag == "--redop") {
      absl::StatusOr<ReduceOp> op = ParseReduceOp(value);
      if (!op.ok()) {
        return absl::InvalidArgumentError(absl::StrCat(flag, " ", value, ": unknown reduction '", value,
                                                       "' (expected sum, prod, min, max or avg)"));
      }
      o.redop = *op;
      redop_given = true;
    } else if (flag == "--root") {
      if (!(n = ParseInt(flag, value, 0)).ok()) return n.status();
      o.root = *n;
      root_given = true;
    } else if (flag == "--algo") {
      if (value.empty()) return absl::InvalidArgumentError("--algo: empty algorithm name");
      o.algo = value;
    } else if (flag == "-b" || flag == "-e") {
      absl::StatusOr<uint64_t> bytes = config::ParseSize(flag, value);
      if (!bytes.ok()) return bytes.status();
      (flag == "-b" ? o.min_bytes : o.max_bytes) = *bytes;
    } else if (flag == "-f") {
      if (!(n = ParseInt(flag, value, 1)).ok()) return n.status();
      if (*n < 2) return absl::InvalidArgumentError("-f: the factor must be at least 2");
      o.factor = *n;
    } else if (flag == "-n" || flag == "-w" || flag == "-r" || flag == "--window" || flag == "--np") {
      if (!(n = ParseInt(flag, value, 1)).ok()) return n.status();
      if (flag == "-n") o.iters = *n;
      if (flag == "-w") o.warmup = *n;
      if (flag == "-r") o.reps = *n;
      if (flag == "--window") o.window = *n;
      if (flag == "--np") o.np = *n;
    } else {
      return absl::InvalidArgumentError(absl::StrCat("unknown flag ", flag, "\n", kUsage));
    }
  }
  if (o.min_bytes > o.max_bytes) {
    return absl::InvalidArgumentError(absl::StrCat("-b ", o.min_bytes, " is larger than -e ", o.max_bytes));
  }
  if (o.mode == "p2p") {
    if (!o.algo.empty() || root_given || dtype_given || redop_given || inplace_given) {
      return absl::InvalidArgumentError(
          "--algo, --root, -d/--dtype, -o/--redop and --inplace apply to collectives; p2p takes none of them");
    }
    return o;
  }
  if (!o.algo.empty()) {
    if (absl::Status s = CheckAlgorithm(o.coll, o.algo); !s.ok()) return s;
  }
  if (o.np > 0 && o.root >= o.np) {
    return absl::InvalidArgumentError(absl::StrCat("--root ", o.root, ": not a rank of --np ", o.np));
  }
  return o;
}

}  // namespace mc::perf
