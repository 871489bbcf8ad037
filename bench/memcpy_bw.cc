// The ceiling for the p2p benchmark: single-thread memcpy bandwidth between
// two separate buffers, over the same size sweep as mc_perf, medians of reps.
//   memcpy_bw -b 8 -e 256M -f 2
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

uint64_t ParseSize(const char* text) {
  char* end = nullptr;
  uint64_t v = std::strtoull(text, &end, 10);
  switch (*end) {
    case 'K': case 'k': return v << 10;
    case 'M': case 'm': return v << 20;
    case 'G': case 'g': return v << 30;
    default: return v;
  }
}

}  // namespace

int main(int argc, char** argv) {
  uint64_t min = 8, max = 256ull << 20, factor = 2;
  int reps = 5;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string f = argv[i];
    if (f == "-b") min = ParseSize(argv[i + 1]);
    else if (f == "-e") max = ParseSize(argv[i + 1]);
    else if (f == "-f") factor = std::strtoull(argv[i + 1], nullptr, 10);
    else if (f == "-r") reps = std::atoi(argv[i + 1]);
    else {
      std::fprintf(stderr, "usage: memcpy_bw [-b MIN] [-e MAX] [-f FACTOR] [-r REPS]\n");
      return 2;
    }
  }
  if (min == 0 || factor < 2 || min > max) {
    std::fprintf(stderr, "memcpy_bw: need 0 < -b <= -e and -f >= 2\n");
    return 2;
  }
  auto* src = static_cast<uint8_t*>(std::aligned_alloc(64, (max + 63) / 64 * 64));
  auto* dst = static_cast<uint8_t*>(std::aligned_alloc(64, (max + 63) / 64 * 64));
  std::memset(src, 1, max);
  std::memset(dst, 2, max);
  std::printf("# %12s %10s\n", "size(B)", "bw(GB/s)");
  for (uint64_t bytes = min; bytes <= max; bytes *= factor) {
    uint64_t iters = std::clamp<uint64_t>((1ull << 30) / bytes, 3, 200000);
    std::vector<double> bws;
    for (int r = 0; r < reps; ++r) {
      auto start = std::chrono::steady_clock::now();
      for (uint64_t i = 0; i < iters; ++i) {
        std::memcpy(dst, src, bytes);
        asm volatile("" : : "r"(dst) : "memory");  // keep every copy
      }
      std::chrono::duration<double> s = std::chrono::steady_clock::now() - start;
      bws.push_back(static_cast<double>(bytes) * iters / s.count() / 1e9);
    }
    std::sort(bws.begin(), bws.end());
    std::printf("  %12llu %10.3f\n", static_cast<unsigned long long>(bytes), bws[bws.size() / 2]);
    if (bytes > max / factor) break;
  }
  std::free(src);
  std::free(dst);
  return 0;
}
