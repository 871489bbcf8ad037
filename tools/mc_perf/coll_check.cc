#include "mc_perf/coll_check.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>

namespace mc::perf {
namespace {

bool IsReduction(CollectiveKind coll) {
  return coll == CollectiveKind::kAllreduce || coll == CollectiveKind::kReduceScatter ||
         coll == CollectiveKind::kReduce;
}

bool IsFloat(DataType t) {
  return t == DataType::kFloat32 || t == DataType::kFloat64 || t == DataType::kFloat16 || t == DataType::kBFloat16;
}
bool IsUnsigned(DataType t) { return t == DataType::kUInt8 || t == DataType::kBool; }

// float -> binary16 for the values used here (0 and normal numbers; rounds to
// nearest even, which the inputs never need).
uint16_t ToHalf(float f) {
  const uint32_t u = std::bit_cast<uint32_t>(f);
  const uint32_t sign = (u >> 16) & 0x8000u;
  const uint32_t a = u & 0x7FFFFFFFu;
  if (a < 0x38800000u) return static_cast<uint16_t>(sign);  // below f16's normal range: 0 here
  if (a >= 0x477FF000u) return static_cast<uint16_t>(sign | 0x7C00u);
  uint32_t h = ((a >> 23) - 127 + 15) << 10 | ((a & 0x7FFFFFu) >> 13);
  const uint32_t rest = a & 0x1FFFu;
  if (rest > 0x1000u || (rest == 0x1000u && (h & 1u))) ++h;
  return static_cast<uint16_t>(sign | h);
}

double FromHalf(uint16_t h) {
  const int sign = (h & 0x8000u) ? -1 : 1;
  const int exp = (h >> 10) & 0x1F;
  const int mant = h & 0x3FF;
  if (exp == 0) return sign * std::ldexp(mant, -24);
  if (exp == 31) return mant ? std::nan("") : sign * INFINITY;
  return sign * std::ldexp(1024 + mant, exp - 25);
}

uint16_t ToBFloat16(float f) {
  const uint32_t u = std::bit_cast<uint32_t>(f);
  return static_cast<uint16_t>((u + 0x7FFFu + ((u >> 16) & 1u)) >> 16);
}

double FromBFloat16(uint16_t b) { return std::bit_cast<float>(static_cast<uint32_t>(b) << 16); }

void StoreElement(void* buf, size_t i, DataType type, double v) {
  switch (type) {
    case DataType::kFloat32: static_cast<float*>(buf)[i] = static_cast<float>(v); break;
    case DataType::kFloat64: static_cast<double*>(buf)[i] = v; break;
    case DataType::kFloat16: static_cast<uint16_t*>(buf)[i] = ToHalf(static_cast<float>(v)); break;
    case DataType::kBFloat16: static_cast<uint16_t*>(buf)[i] = ToBFloat16(static_cast<float>(v)); break;
    case DataType::kInt8: static_cast<int8_t*>(buf)[i] = static_cast<int8_t>(v); break;
    case DataType::kUInt8: static_cast<uint8_t*>(buf)[i] = static_cast<uint8_t>(v); break;
    case DataType::kInt32: static_cast<int32_t*>(buf)[i] = static_cast<int32_t>(v); break;
    case DataType::kInt64: static_cast<int64_t*>(buf)[i] = static_cast<int64_t>(v); break;
    case DataType::kBool: static_cast<uint8_t*>(buf)[i] = v != 0; break;
  }
}

// Two's complement wrap of an exact integer result to the type's width.
double Wrap(DataType type, int64_t v) {
  switch (type) {
    case DataType::kInt8: return static_cast<int8_t>(v);
    case DataType::kUInt8: return static_cast<uint8_t>(v);
    case DataType::kInt32: return static_cast<int32_t>(v);
    case DataType::kBool: return v != 0;
    default: return static_cast<double>(v);
  }
}

// The element of rank's block `index` the non-reduction patterns use: unique
// per (rank, index) modulo what the type holds exactly.
double MovedValue(DataType type, int rank, size_t index) {
  const uint64_t mix = static_cast<uint64_t>(rank) * 7919u + index * 31u + 1u;
  switch (type) {
    case DataType::kBool: return static_cast<double>((rank + index) & 1u);
    case DataType::kInt8: return static_cast<double>(mix % 255) - 127;
    case DataType::kUInt8: return static_cast<double>(mix % 256);
    case DataType::kFloat16: return static_cast<double>(mix % 4096) - 2048;
    case DataType::kBFloat16: return static_cast<double>(mix % 512) - 256;
    default: return static_cast<double>(mix % (1u << 24));
  }
}

}  // namespace

double InputValue(CollectiveKind coll, DataType type, ReduceOp op, int rank, int ranks, size_t index) {
  if (!IsReduction(coll)) return MovedValue(type, rank, index);
  const uint64_t r = static_cast<uint64_t>(rank), i = index;
  if (type == DataType::kBool) {
    switch (op) {
      case ReduceOp::kProd:
      case ReduceOp::kMin: return (r + i) % 5 != 0;  // "and": mostly true
      default: return (r + i) % 3 == 0;              // "or": mostly false
    }
  }
  switch (op) {
    case ReduceOp::kSum: return static_cast<double>(1 + (r * 3 + i * 7) % 4);
    case ReduceOp::kProd:
      if ((r + i) % 4 == 0) return 2;
      if ((r + 2 * i) % 5 == 0 && !IsUnsigned(type)) return -1;
      return 1;
    case ReduceOp::kMin:
    case ReduceOp::kMax: {
      const double v = static_cast<double>((r * 5 + i * 3) % 11);
      return IsUnsigned(type) ? v : v - 5;
    }
    case ReduceOp::kAvg: {
      // base + d(rank), the d summing to 0 over the ranks: -1, +1, -1, +1, ... (0 for an odd last rank).
      const double base = static_cast<double>(2 + (i * 7) % 4);
      if (rank == ranks - 1 && ranks % 2 == 1) return base;
      return base + (rank % 2 == 0 ? -1 : 1);
    }
  }
  return 0;
}

void FillInput(void* buf, size_t count, size_t first, CollectiveKind coll, DataType type, ReduceOp op, int rank,
               int ranks) {
  for (size_t i = 0; i < count; ++i) StoreElement(buf, i, type, InputValue(coll, type, op, rank, ranks, first + i));
}

double ReducedValue(DataType type, ReduceOp op, int ranks, size_t index) {
  const CollectiveKind k = CollectiveKind::kAllreduce;
  if (type == DataType::kBool) {
    bool any = false, all = true;
    for (int r = 0; r < ranks; ++r) {
      const bool v = InputValue(k, type, op, r, ranks, index) != 0;
      any = any || v;
      all = all && v;
    }
    return (op == ReduceOp::kProd || op == ReduceOp::kMin) ? all : any;
  }
  if (IsFloat(type)) {
    double acc = InputValue(k, type, op, 0, ranks, index);
    for (int r = 1; r < ranks; ++r) {
      const double v = InputValue(k, type, op, r, ranks, index);
      switch (op) {
        case ReduceOp::kSum:
        case ReduceOp::kAvg: acc += v; break;
        case ReduceOp::kProd: acc *= v; break;
        case ReduceOp::kMin: acc = std::min(acc, v); break;
        case ReduceOp::kMax: acc = std::max(acc, v); break;
      }
    }
    return op == ReduceOp::kAvg ? acc / ranks : acc;
  }
  int64_t acc = static_cast<int64_t>(InputValue(k, type, op, 0, ranks, index));
  for (int r = 1; r < ranks; ++r) {
    const auto v = static_cast<int64_t>(InputValue(k, type, op, r, ranks, index));
    switch (op) {
      case ReduceOp::kSum:
      case ReduceOp::kAvg: acc = static_cast<int64_t>(static_cast<uint64_t>(acc) + static_cast<uint64_t>(v)); break;
      case ReduceOp::kProd: acc = static_cast<int64_t>(static_cast<uint64_t>(acc) * static_cast<uint64_t>(v)); break;
      case ReduceOp::kMin: acc = std::min(acc, v); break;
      case ReduceOp::kMax: acc = std::max(acc, v); break;
    }
  }
  return op == ReduceOp::kAvg ? Wrap(type, acc / ranks) : Wrap(type, acc);
}

double LoadElement(const void* buf, size_t i, DataType type) {
  switch (type) {
    case DataType::kFloat32: return static_cast<const float*>(buf)[i];
    case DataType::kFloat64: return static_cast<const double*>(buf)[i];
    case DataType::kFloat16: return FromHalf(static_cast<const uint16_t*>(buf)[i]);
    case DataType::kBFloat16: return FromBFloat16(static_cast<const uint16_t*>(buf)[i]);
    case DataType::kInt8: return static_cast<const int8_t*>(buf)[i];
    case DataType::kUInt8:
    case DataType::kBool: return static_cast<const uint8_t*>(buf)[i];
    case DataType::kInt32: return static_cast<const int32_t*>(buf)[i];
    case DataType::kInt64: return static_cast<double>(static_cast<const int64_t*>(buf)[i]);
  }
  return 0;
}

void Poison(void* buf, size_t bytes) { std::memset(buf, 0xA7, bytes); }

int64_t CountWrong(CollectiveKind coll, DataType type, ReduceOp op, int rank, int ranks, int root, const void* recv,
                   size_t count) {
  int64_t wrong = 0;
  auto expect = [&](size_t i, double want) { wrong += !(LoadElement(recv, i, type) == want); };
  switch (coll) {
    case CollectiveKind::kAllreduce:
      for (size_t i = 0; i < count; ++i) expect(i, ReducedValue(type, op, ranks, i));
      break;
    case CollectiveKind::kReduce:
      if (rank == root) {
        for (size_t i = 0; i < count; ++i) expect(i, ReducedValue(type, op, ranks, i));
      }
      break;
    case CollectiveKind::kReduceScatter:
      for (size_t i = 0; i < count; ++i) expect(i, ReducedValue(type, op, ranks, rank * count + i));
      break;
    case CollectiveKind::kBroadcast:
      for (size_t i = 0; i < count; ++i) expect(i, InputValue(coll, type, op, root, ranks, i));
      break;
    case CollectiveKind::kAllgather:
      for (int b = 0; b < ranks; ++b) {
        for (size_t j = 0; j < count; ++j) expect(b * count + j, InputValue(coll, type, op, b, ranks, j));
      }
      break;
    case CollectiveKind::kGather:
      if (rank == root) {
        for (int b = 0; b < ranks; ++b) {
          for (size_t j = 0; j < count; ++j) expect(b * count + j, InputValue(coll, type, op, b, ranks, j));
        }
      }
      break;
    case CollectiveKind::kAlltoall:
      // Block p of my receive buffer is block `rank` of rank p's send buffer.
      for (int p = 0; p < ranks; ++p) {
        for (size_t j = 0; j < count; ++j) {
          expect(p * count + j, InputValue(coll, type, op, p, ranks, rank * count + j));
        }
      }
      break;
    case CollectiveKind::kScatter:
      for (size_t j = 0; j < count; ++j) expect(j, InputValue(coll, type, op, root, ranks, rank * count + j));
      break;
    default:
      break;
  }
  return wrong;
}

}  // namespace mc::perf
