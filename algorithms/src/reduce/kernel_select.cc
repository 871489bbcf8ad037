// Picks the widest kernel table the running CPU supports.
#include "reduce/kernel_table.h"

namespace mc::algo::reduce_internal {
namespace {

bool CpuRuns(Isa isa) {
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)  // where the x86 tables are built
  // Also safe when called from a static initializer, before libgcc's own.
  __builtin_cpu_init();
  switch (isa) {
    case Isa::kGeneric:
      return true;
    case Isa::kAvx2:
      return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("f16c");
    case Isa::kAvx512:
      return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
             __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("f16c");
  }
  return false;
#else
  return isa == Isa::kGeneric;
#endif
}

}  // namespace

const char* IsaName(Isa isa) {
  switch (isa) {
    case Isa::kGeneric:
      return "generic";
    case Isa::kAvx2:
      return "avx2";
    case Isa::kAvx512:
      return "avx512";
  }
  return "unknown";
}

const KernelTable* KernelTableFor(Isa isa) {
  if (!CpuRuns(isa)) return nullptr;
  switch (isa) {
    case Isa::kGeneric:
      return GenericKernelTable();
    case Isa::kAvx2:
      return Avx2KernelTable();
    case Isa::kAvx512:
      return Avx512KernelTable();
  }
  return nullptr;
}

Isa ActiveIsa() {
  static const Isa kActive = [] {
    for (Isa isa : {Isa::kAvx512, Isa::kAvx2}) {
      if (KernelTableFor(isa) != nullptr) return isa;
    }
    return Isa::kGeneric;
  }();
  return kActive;
}

const KernelTable& ActiveKernelTable() {
  static const KernelTable& table = *KernelTableFor(ActiveIsa());
  return table;
}

}  // namespace mc::algo::reduce_internal
