// Bandwidth of the reduction kernels, next to memcpy of the same buffers.
//
// Wall-clock time, one thread. Bytes counted are bytes moved through memory: ReduceInto(dst, src, n) reads
// dst and src and writes dst, 3 * n * size per call; memcpy of the same
// n * size bytes reads once and writes once, 2 * n * size. Equal GB/s means
// the kernel keeps memory as busy as memcpy does.
//
// reduce_into/<type>/<op>/<bytes> runs the public ReduceInto (the ISA this CPU
// picks); isa/<isa>/<type>/<op>/<bytes> runs one ISA's kernel, to show what
// the dispatch buys. bench/results/reduce_kernels.md has the numbers.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <string>

#include "absl/strings/str_cat.h"
#include "benchmark/benchmark.h"
#include "mooncomm/datatype.h"
#include "reduce/kernel_table.h"
#include "reduce/reduce_kernels.h"

namespace mc::algo {
namespace {

using reduce_internal::Isa;

constexpr size_t kSizes[] = {size_t{4} << 10, size_t{256} << 10, size_t{4} << 20, size_t{64} << 20};

// One pair of buffers of the largest size, shared by every benchmark, so that
// all of them run on the same pages (where huge pages land varies between
// allocations, and with it the large sizes' bandwidth).
struct Buffers {
  unsigned char* dst;
  unsigned char* src;
};

Buffers SharedBuffers() {
  static const Buffers buffers = [] {
    constexpr size_t kMax = kSizes[std::size(kSizes) - 1];
    Buffers b{static_cast<unsigned char*>(std::aligned_alloc(64, kMax)),
              static_cast<unsigned char*>(std::aligned_alloc(64, kMax))};
    std::memset(b.dst, 0, kMax);
    std::memset(b.src, 0, kMax);
    return b;
  }();
  return buffers;
}

// Fills with 1 (or true, or 1.0) so that sums grow slowly, products stay put
// and no value is ever subnormal, whose handling could cost time of its own.
void FillWithOnes(unsigned char* p, size_t count, DataType type) {
  const size_t size = DataTypeSize(type);
  uint64_t one = 1;
  if (type == DataType::kFloat32) one = 0x3F800000;
  if (type == DataType::kFloat64) one = 0x3FF0000000000000;
  if (type == DataType::kFloat16) one = 0x3C00;
  if (type == DataType::kBFloat16) one = 0x3F80;
  for (size_t i = 0; i < count; ++i) std::memcpy(p + i * size, &one, size);
}

void ReduceBench(benchmark::State& state, DataType type, ReduceOp op, size_t bytes,
                 reduce_internal::BinaryKernel kernel) {
  const size_t count = bytes / DataTypeSize(type);
  const Buffers buffers = SharedBuffers();
  FillWithOnes(buffers.dst, count, type);
  FillWithOnes(buffers.src, count, type);
  for (auto _ : state) {
    if (kernel != nullptr) {
      kernel(buffers.dst, buffers.dst, buffers.src, count);
    } else {
      ReduceInto(buffers.dst, buffers.src, count, type, op);
    }
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(3 * bytes));
}

void MemcpyBench(benchmark::State& state, size_t bytes) {
  const Buffers buffers = SharedBuffers();
  for (auto _ : state) {
    std::memcpy(buffers.dst, buffers.src, bytes);
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(2 * bytes));
}

void Register() {
  constexpr DataType kTypes[] = {DataType::kFloat32,  DataType::kFloat64, DataType::kFloat16,
                                 DataType::kBFloat16, DataType::kInt8,    DataType::kUInt8,
                                 DataType::kInt32,    DataType::kInt64,   DataType::kBool};
  for (size_t bytes : kSizes) {
    benchmark::RegisterBenchmark(absl::StrCat("memcpy/", bytes).c_str(), MemcpyBench, bytes)->UseRealTime();
    for (DataType type : kTypes) {
      benchmark::RegisterBenchmark(absl::StrCat("reduce_into/", DataTypeName(type), "/sum/", bytes).c_str(),
                                   ReduceBench, type, ReduceOp::kSum, bytes, nullptr)
          ->UseRealTime();
    }
    for (ReduceOp op : {ReduceOp::kProd, ReduceOp::kMin, ReduceOp::kMax}) {
      benchmark::RegisterBenchmark(absl::StrCat("reduce_into/f32/", ReduceOpName(op), "/", bytes).c_str(), ReduceBench,
                                   DataType::kFloat32, op, bytes, nullptr)
          ->UseRealTime();
    }
  }
  // Each ISA's kernel for the types where the instruction set matters most.
  for (Isa isa : {Isa::kGeneric, Isa::kAvx2, Isa::kAvx512}) {
    const reduce_internal::KernelTable* table = reduce_internal::KernelTableFor(isa);
    if (table == nullptr) continue;
    for (DataType type : {DataType::kFloat32, DataType::kFloat16, DataType::kBFloat16, DataType::kInt8}) {
      for (size_t bytes : kSizes) {
        const auto kernel = table->binary[static_cast<int>(type)][static_cast<int>(ReduceOp::kSum)];
        benchmark::RegisterBenchmark(
            absl::StrCat("isa/", IsaName(isa), "/", DataTypeName(type), "/sum/", bytes).c_str(), ReduceBench, type,
            ReduceOp::kSum, bytes, kernel)
            ->UseRealTime();
      }
    }
  }
}

}  // namespace
}  // namespace mc::algo

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  mc::algo::Register();
  benchmark::AddCustomContext("reduce_isa", mc::algo::reduce_internal::IsaName(mc::algo::reduce_internal::ActiveIsa()));
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
