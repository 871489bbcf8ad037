#include "coll/coll_values.h"

#include <cmath>
#include <cstring>

#include "reduce/half_float.h"

namespace mc::test {
namespace {

template <typename T>
T LoadRaw(const void* buf, size_t i) {
  T v;
  std::memcpy(&v, static_cast<const char*>(buf) + i * sizeof(T), sizeof(T));
  return v;
}
template <typename T>
void StoreRaw(void* buf, size_t i, T v) {
  std::memcpy(static_cast<char*>(buf) + i * sizeof(T), &v, sizeof(T));
}

bool IsSigned(DataType t) {
  return t != DataType::kUInt8 && t != DataType::kBool;
}

// Wraps an exact integer result to the integer type, two's complement.
int64_t WrapTo(DataType t, int64_t v) {
  switch (t) {
    case DataType::kInt8: return static_cast<int8_t>(static_cast<uint8_t>(v));
    case DataType::kUInt8: return static_cast<uint8_t>(v);
    case DataType::kInt32: return static_cast<int32_t>(static_cast<uint32_t>(v));
    default: return v;
  }
}

}  // namespace

double InputValue(DataType type, ReduceOp op, int rank, size_t i, uint32_t salt) {
  const uint64_t h = (static_cast<uint64_t>(rank) * 7919 + i * 104729 + salt * 15485863ull) >> 3;
  if (type == DataType::kBool) return (h % 3) == 0 ? 1 : 0;
  if (op == ReduceOp::kProd) {
    // Products of eight such values stay exact in every type, bf16 included.
    int v = (h % 4 == 0) ? 2 : 1;
    if (IsSigned(type) && h % 5 == 0) v = -v;
    return v;
  }
  int v = static_cast<int>(h % 16);  // sums of eight stay below 128
  if (IsSigned(type)) v -= 8;
  return v;
}

double Load(DataType type, const void* buf, size_t i) {
  switch (type) {
    case DataType::kFloat32: return LoadRaw<float>(buf, i);
    case DataType::kFloat64: return LoadRaw<double>(buf, i);
    case DataType::kFloat16: return algo::HalfToFloat(LoadRaw<uint16_t>(buf, i));
    case DataType::kBFloat16: return algo::BFloat16ToFloat(LoadRaw<uint16_t>(buf, i));
    case DataType::kInt8: return LoadRaw<int8_t>(buf, i);
    case DataType::kUInt8: return LoadRaw<uint8_t>(buf, i);
    case DataType::kInt32: return LoadRaw<int32_t>(buf, i);
    case DataType::kInt64: return static_cast<double>(LoadRaw<int64_t>(buf, i));
    case DataType::kBool: return LoadRaw<uint8_t>(buf, i);
  }
  return 0;
}

void Store(DataType type, void* buf, size_t i, double v) {
  switch (type) {
    case DataType::kFloat32: StoreRaw<float>(buf, i, static_cast<float>(v)); break;
    case DataType::kFloat64: StoreRaw<double>(buf, i, v); break;
    case DataType::kFloat16: StoreRaw<uint16_t>(buf, i, algo::FloatToHalf(static_cast<float>(v))); break;
    case DataType::kBFloat16: StoreRaw<uint16_t>(buf, i, algo::FloatToBFloat16(static_cast<float>(v))); break;
    case DataType::kInt8: StoreRaw<int8_t>(buf, i, static_cast<int8_t>(WrapTo(type, static_cast<int64_t>(v)))); break;
    case DataType::kUInt8: StoreRaw<uint8_t>(buf, i, static_cast<uint8_t>(WrapTo(type, static_cast<int64_t>(v)))); break;
    case DataType::kInt32: StoreRaw<int32_t>(buf, i, static_cast<int32_t>(WrapTo(type, static_cast<int64_t>(v)))); break;
    case DataType::kInt64: StoreRaw<int64_t>(buf, i, static_cast<int64_t>(v)); break;
    case DataType::kBool: StoreRaw<uint8_t>(buf, i, v != 0 ? 1 : 0); break;
  }
}

void Fill(DataType type, ReduceOp op, int rank, size_t first, uint32_t salt, void* buf, size_t count) {
  for (size_t j = 0; j < count; ++j) Store(type, buf, j, InputValue(type, op, rank, first + j, salt));
}

void ReferenceInto(DataType type, ReduceOp op, const std::vector<int>& ranks, size_t i, uint32_t salt, void* out,
                   size_t j) {
  const bool is_float = type == DataType::kFloat32 || type == DataType::kFloat64 || type == DataType::kFloat16 ||
                        type == DataType::kBFloat16;
  if (type == DataType::kBool) {
    bool any = false, all = true;
    for (int r : ranks) {
      bool v = InputValue(type, op, r, i, salt) != 0;
      any = any || v;
      all = all && v;
    }
    bool v = (op == ReduceOp::kProd || op == ReduceOp::kMin) ? all : any;
    if (op == ReduceOp::kAvg) v = any;  // avg on bool reduces as sum (or) and does not divide
    Store(type, out, j, v ? 1 : 0);
    return;
  }
  // Exact in int64 (small values), then wrapped or rounded to the type.
  int64_t acc = static_cast<int64_t>(InputValue(type, op, ranks[0], i, salt));
  for (size_t k = 1; k < ranks.size(); ++k) {
    int64_t v = static_cast<int64_t>(InputValue(type, op, ranks[k], i, salt));
    switch (op) {
      case ReduceOp::kSum:
      case ReduceOp::kAvg: acc += v; break;
      case ReduceOp::kProd: acc *= v; break;
      case ReduceOp::kMin: acc = std::min(acc, v); break;
      case ReduceOp::kMax: acc = std::max(acc, v); break;
    }
  }
  if (op != ReduceOp::kAvg) {
    Store(type, out, j, static_cast<double>(WrapTo(type, acc)));
    return;
  }
  const int n = static_cast<int>(ranks.size());
  if (!is_float) {
    Store(type, out, j, static_cast<double>(WrapTo(type, WrapTo(type, acc) / n)));
  } else if (type == DataType::kFloat64) {
    Store(type, out, j, static_cast<double>(acc) / n);
  } else {
    // f32, f16, bf16 divide in float arithmetic, then round to the type.
    Store(type, out, j, static_cast<double>(static_cast<float>(acc) / static_cast<float>(n)));
  }
}

uint64_t HashBytes(const void* data, size_t bytes, uint64_t seed) {
  const auto* p = static_cast<const unsigned char*>(data);
  uint64_t h = seed;
  for (size_t i = 0; i < bytes; ++i) h = (h ^ p[i]) * 1099511628211ull;
  return h;
}

}  // namespace mc::test
