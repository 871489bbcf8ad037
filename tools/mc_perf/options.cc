#include "mc_perf/options.h"

#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "mooncomm/config.h"

namespace mc::perf {
namespace {

constexpr char kUsage[] =
    "usage: mc_perf [--op p2p] [-b MIN] [-e MAX] [-f FACTOR] [-n ITERS] [-w WARMUP] [-r REPS]\n"
    "               [--window W] [--check] [--np N]\n"
    "  p2p: ping-pong latency (one-way, us) and unidirectional bandwidth (GB/s) between ranks 0 and 1\n"
    "  sizes take K/M/G suffixes; --np N starts N local ranks unless a launcher already did\n"
    "  MC_TRANSPORT picks the transport (auto, tcp, shm, a plugin name)";

absl::StatusOr<int> ParsePositive(const std::string& flag, const std::string& text) {
  int value = 0;
  if (!absl::SimpleAtoi(text, &value) || value < 1) {
    return absl::InvalidArgumentError(absl::StrCat(flag, " ", text, ": expected a positive integer"));
  }
  return value;
}

}  // namespace

absl::StatusOr<Options> ParseOptions(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string flag = argv[i];
    if (flag == "-h" || flag == "--help") return absl::CancelledError(kUsage);
    if (flag == "--check" || flag == "-c") {
      o.check = true;
      continue;
    }
    if (i + 1 >= argc) return absl::InvalidArgumentError(absl::StrCat(flag, " needs a value\n", kUsage));
    std::string value = argv[++i];
    absl::StatusOr<int> n = 0;
    if (flag == "--op" || flag == "-o") {
      if (value != "p2p") {
        return absl::InvalidArgumentError(
            absl::StrCat("--op ", value, ": this build measures p2p only (collectives arrive with the algorithm library)"));
      }
      o.mode = value;
    } else if (flag == "-b" || flag == "-e") {
      absl::StatusOr<uint64_t> bytes = config::ParseSize(flag, value);
      if (!bytes.ok()) return bytes.status();
      (flag == "-b" ? o.min_bytes : o.max_bytes) = *bytes;
    } else if (flag == "-f") {
      if (!(n = ParsePositive(flag, value)).ok()) return n.status();
      if (*n < 2) return absl::InvalidArgumentError("-f: the factor must be at least 2");
      o.factor = *n;
    } else if (flag == "-n" || flag == "-w" || flag == "-r" || flag == "--window" || flag == "--np") {
      if (!(n = ParsePositive(flag, value)).ok()) return n.status();
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
  return o;
}

}  // namespace mc::perf
