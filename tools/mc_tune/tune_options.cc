#include "mc_tune/tune_options.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "mc_perf/options.h"
#include "mooncomm/config.h"

namespace mc::tune {
namespace {

constexpr char kUsage[] =
    "usage: mc_tune --np N [-b MIN] [-e MAX] [-f FACTOR] [--ops OP,OP,...] [-o TUNING_FILE] [--chart PNG]\n"
    "               [--csv CSV] [-n ITERS] [-w WARMUP] [-r REPS] [-d DTYPE] [--margin PCT] [--check]\n"
    "               [--python PYTHON]\n"
    "  Times every algorithm of each collective over the size sweep (-b 1K -e 16M -f 4 by default) on the\n"
    "  transport MC_TRANSPORT picks, then writes the tuning file (-o, default mooncomm-tuning.txt): per\n"
    "  collective the fastest algorithm for each range of sizes, for this transport and world size.\n"
    "  Use it with MC_TUNING_FILE=<file>; MC_TUNE still overrides it.\n"
    "  --ops: allreduce, allgather, reduce_scatter, broadcast, reduce, alltoall, gather, scatter, barrier\n"
    "        (default: all). Sizes are the whole buffer, as mc_perf and nccl-tests print them.\n"
    "  --csv (default <file stem>.csv): every measurement; --chart (default <file stem>.png): time\n"
    "        against size per algorithm, one panel per collective, the winners marked, drawn by\n"
    "        plot_tuning.py (next to mc_tune) with matplotlib; --chart none: no chart\n"
    "  -n/-w/-r: iterations (fewer at large sizes), warmup calls and repetitions per algorithm and size\n"
    "        (default 200, 5, 3; the median repetition counts); -d: element type (f32)\n"
    "  --margin PCT (default 5): the tuner's current choice at a size stays unless another algorithm is\n"
    "        more than PCT% faster there (run-to-run noise should not overturn the cost model)\n"
    "  --np N starts N local ranks unless a launcher already did";

absl::StatusOr<int> ParsePositive(const std::string& flag, const std::string& text) {
  int value = 0;
  if (!absl::SimpleAtoi(text, &value) || value < 1) {
    return absl::InvalidArgumentError(absl::StrCat(flag, " ", text, ": expected a positive integer"));
  }
  return value;
}

}  // namespace

std::string Stem(const std::string& path) {
  const size_t slash = path.rfind('/');
  const size_t dot = path.rfind('.');
  if (dot == std::string::npos || (slash != std::string::npos && dot < slash) || dot == 0 ||
      (slash != std::string::npos && dot == slash + 1)) {
    return path;
  }
  return path.substr(0, dot);
}

absl::StatusOr<TuneOptions> ParseTuneOptions(int argc, char** argv) {
  TuneOptions o;
  bool chart_given = false, csv_given = false;
  for (int i = 1; i < argc; ++i) {
    std::string flag = argv[i];
    if (flag == "-h" || flag == "--help") return absl::CancelledError(kUsage);
    if (flag == "--check") {
      o.check = true;
      continue;
    }
    if (i + 1 >= argc) return absl::InvalidArgumentError(absl::StrCat(flag, " needs a value\n", kUsage));
    std::string value = argv[++i];
    absl::StatusOr<int> n = 0;
    if (flag == "--ops") {
      o.ops.clear();
      for (absl::string_view part : absl::StrSplit(value, ',', absl::SkipWhitespace())) {
        absl::StatusOr<CollectiveKind> k = perf::ParseBenchCollective("--ops", std::string(part));
        if (!k.ok()) return k.status();
        for (CollectiveKind seen : o.ops) {
          if (seen == *k) return absl::InvalidArgumentError(absl::StrCat("--ops ", value, ": ", part, " twice"));
        }
        o.ops.push_back(*k);
      }
      if (o.ops.empty()) return absl::InvalidArgumentError("--ops: no collective named");
    } else if (flag == "-b" || flag == "-e") {
      absl::StatusOr<uint64_t> bytes = config::ParseSize(flag, value);
      if (!bytes.ok()) return bytes.status();
      (flag == "-b" ? o.min_bytes : o.max_bytes) = *bytes;
    } else if (flag == "-f") {
      if (!(n = ParsePositive(flag, value)).ok()) return n.status();
      if (*n < 2) return absl::InvalidArgumentError("-f: the factor must be at least 2");
      o.factor = *n;
    } else if (flag == "-n" || flag == "-w" || flag == "-r" || flag == "--np") {
      if (!(n = ParsePositive(flag, value)).ok()) return n.status();
      if (flag == "-n") o.iters = *n;
      if (flag == "-w") o.warmup = *n;
      if (flag == "-r") o.reps = *n;
      if (flag == "--np") o.np = *n;
    } else if (flag == "-o" || flag == "--output") {
      if (value.empty()) return absl::InvalidArgumentError(absl::StrCat(flag, ": empty file name"));
      o.output = value;
    } else if (flag == "--chart") {
      o.chart = value == "none" ? "" : value;
      chart_given = true;
    } else if (flag == "--csv") {
      if (value.empty()) return absl::InvalidArgumentError("--csv: empty file name");
      o.csv = value;
      csv_given = true;
    } else if (flag == "--margin") {
      double pct = 0;
      if (!absl::SimpleAtod(value, &pct) || !(pct >= 0 && pct <= 1000)) {
        return absl::InvalidArgumentError(absl::StrCat("--margin ", value, ": expected a percentage from 0 to 1000"));
      }
      o.margin = pct / 100;
    } else if (flag == "--python") {
      o.python = value;
    } else if (flag == "-d" || flag == "--dtype") {
      absl::StatusOr<DataType> type = ParseDataType(value);
      if (!type.ok()) {
        return absl::InvalidArgumentError(absl::StrCat(flag, " ", value, ": unknown data type '", value,
                                                       "' (expected f32, f64, f16, bf16, i8, u8, i32, i64 or bool)"));
      }
      o.dtype = *type;
    } else {
      return absl::InvalidArgumentError(absl::StrCat("unknown flag ", flag, "\n", kUsage));
    }
  }
  if (o.min_bytes > o.max_bytes) {
    return absl::InvalidArgumentError(absl::StrCat("-b ", o.min_bytes, " is larger than -e ", o.max_bytes));
  }
  if (o.ops.empty()) o.ops.assign(std::begin(perf::kBenchCollectives), std::end(perf::kBenchCollectives));
  if (!chart_given) o.chart = Stem(o.output) + ".png";
  if (!csv_given) o.csv = Stem(o.output) + ".csv";
  if (o.csv == o.output || o.chart == o.output) {
    return absl::InvalidArgumentError(absl::StrCat("-o ", o.output, ": the same file as --csv or --chart"));
  }
  return o;
}

}  // namespace mc::tune
