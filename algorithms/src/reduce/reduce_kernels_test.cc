// The reduction kernels of every ISA this CPU runs, and the public entry
// points, against the scalar model in reduce_reference.h.
#include "reduce/reduce_kernels.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <iterator>
#include <limits>
#include <ostream>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "gtest/gtest.h"
#include "reduce/kernel_table.h"
#include "reduce/reduce_reference.h"

namespace mc::algo {
namespace reduce_internal {
void PrintTo(Isa isa, std::ostream* os) { *os << IsaName(isa); }
}  // namespace reduce_internal
namespace {

using reduce_internal::Isa;
using reduce_internal::KernelTable;
using reduce_internal::KernelTableFor;
using Bytes = std::vector<unsigned char>;

constexpr DataType kAllTypes[] = {DataType::kFloat32,  DataType::kFloat64, DataType::kFloat16,
                                  DataType::kBFloat16, DataType::kInt8,    DataType::kUInt8,
                                  DataType::kInt32,    DataType::kInt64,   DataType::kBool};
constexpr ReduceOp kCombineOps[] = {ReduceOp::kSum, ReduceOp::kProd, ReduceOp::kMin, ReduceOp::kMax};
constexpr ReduceOp kAllOps[] = {ReduceOp::kSum, ReduceOp::kProd, ReduceOp::kMin, ReduceOp::kMax, ReduceOp::kAvg};
// 1000003 is prime: it leaves a tail after every vector width.
constexpr size_t kCounts[] = {0, 1, 7, 1000003};

std::string Describe(DataType type, ReduceOp op) { return absl::StrCat(DataTypeName(type), " ", ReduceOpName(op)); }

// One element's bits, as hex.
std::string Hex(const unsigned char* p, DataType type) {
  uint64_t v = 0;
  std::memcpy(&v, p, DataTypeSize(type));
  return absl::StrFormat("0x%0*x", static_cast<int>(2 * DataTypeSize(type)), v);
}

// An element of `type` as its bits, weighted towards what the kernels must get
// right: values of one magnitude (so sums and products round rather than
// saturate), each type's special values, and arbitrary bit patterns.
uint64_t RandomElement(DataType type, std::mt19937_64& rng) {
  static constexpr uint64_t kF32Specials[] = {0x0,        0x80000000, 0x7F800000, 0xFF800000, 0x7FC00000,
                                              0x7F800001, 0xFFC12345, 0x1,        0x80000001, 0x007FFFFF,
                                              0x00800000, 0x7F7FFFFF, 0xFF7FFFFF, 0x3F800000};
  static constexpr uint64_t kF64Specials[] = {0x0,
                                              0x8000000000000000,
                                              0x7FF0000000000000,
                                              0xFFF0000000000000,
                                              0x7FF8000000000000,
                                              0x7FF0000000000001,
                                              0xFFF8123456789ABC,
                                              0x1,
                                              0x8000000000000001,
                                              0x000FFFFFFFFFFFFF,
                                              0x0010000000000000,
                                              0x7FEFFFFFFFFFFFFF,
                                              0xFFEFFFFFFFFFFFFF,
                                              0x3FF0000000000000};
  static constexpr uint64_t kF16Specials[] = {0x0,    0x8000, 0x7C00, 0xFC00, 0x7E00, 0x7C01, 0xFE55,
                                              0x0001, 0x8001, 0x03FF, 0x0400, 0x7BFF, 0xFBFF, 0x3C00};
  static constexpr uint64_t kBF16Specials[] = {0x0,    0x8000, 0x7F80, 0xFF80, 0x7FC0, 0x7F81, 0xFFC5,
                                               0x0001, 0x8001, 0x007F, 0x0080, 0x7F7F, 0xFF7F, 0x3F80};
  const uint64_t bits = rng();
  const uint64_t pick = rng() % 100;
  const uint64_t sign = bits >> 63;
  auto special = [&](const auto& list) { return list[bits % std::size(list)]; };
  switch (type) {
    case DataType::kFloat32:
      if (pick < 5) return special(kF32Specials);
      if (pick < 30) return bits & 0xFFFFFFFF;
      return (sign << 31) | ((120 + rng() % 16) << 23) | (bits & 0x7FFFFF);
    case DataType::kFloat64:
      if (pick < 5) return special(kF64Specials);
      if (pick < 30) return bits;
      return (sign << 63) | ((1016 + rng() % 16) << 52) | (bits & 0xFFFFFFFFFFFFF);
    case DataType::kFloat16:
      if (pick < 5) return special(kF16Specials);
      if (pick < 30) return bits & 0xFFFF;
      return (sign << 15) | ((10 + rng() % 11) << 10) | (bits & 0x3FF);
    case DataType::kBFloat16:
      if (pick < 5) return special(kBF16Specials);
      if (pick < 30) return bits & 0xFFFF;
      return (sign << 15) | ((120 + rng() % 16) << 7) | (bits & 0x7F);
    case DataType::kBool:
      return pick < 90 ? bits % 2 : bits & 0xFF;  // a few bytes other than 0 and 1
    default:
      if (pick < 50) return bits;
      if (pick < 55) return sign ? uint64_t{1} << (8 * DataTypeSize(type) - 1) : ~uint64_t{0};  // min or -1
      return static_cast<uint64_t>(static_cast<int64_t>(bits % 41) - 20);
  }
}

Bytes RandomElements(DataType type, size_t count, uint64_t seed) {
  std::mt19937_64 rng(seed);
  const size_t size = DataTypeSize(type);
  Bytes out(count * size);
  for (size_t i = 0; i < count; ++i) {
    const uint64_t v = RandomElement(type, rng);
    std::memcpy(out.data() + i * size, &v, size);  // little-endian: the low bytes
  }
  return out;
}

// got[i] == a[i] op b[i] by the model, for every i; names the first few misses.
::testing::AssertionResult MatchesModel(const unsigned char* got, const unsigned char* a, const unsigned char* b,
                                        size_t count, DataType type, ReduceOp op) {
  const size_t size = DataTypeSize(type);
  Bytes want(count * size);
  reference::Reduce2(want.data(), a, b, count, type, op);
  std::string misses;
  size_t n = 0;
  for (size_t i = 0; i < count; ++i) {
    if (reference::Matches(got + i * size, want.data() + i * size, type, op)) continue;
    if (++n <= 5) {
      absl::StrAppend(&misses, "\n  [", i, "] ", Hex(a + i * size, type), " ", ReduceOpName(op), " ",
                      Hex(b + i * size, type), " = ", Hex(got + i * size, type), ", want ",
                      Hex(want.data() + i * size, type));
    }
  }
  if (n == 0) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << Describe(type, op) << " count " << count << ": " << n << " wrong" << misses;
}

class KernelTest : public ::testing::TestWithParam<Isa> {
 protected:
  void SetUp() override {
    table_ = KernelTableFor(GetParam());
    if (table_ == nullptr) GTEST_SKIP() << IsaName(GetParam()) << " does not run here";
  }

  void Reduce2(void* dst, const void* a, const void* b, size_t count, DataType type, ReduceOp op) const {
    table_->binary[static_cast<int>(type)][static_cast<int>(op)](dst, a, b, count);
  }

  void DivideBy(void* buf, size_t count, DataType type, int divisor) const {
    table_->divide[static_cast<int>(type)](buf, count, divisor);
  }

  const KernelTable* table_ = nullptr;
};

INSTANTIATE_TEST_SUITE_P(Isas, KernelTest, ::testing::Values(Isa::kGeneric, Isa::kAvx2, Isa::kAvx512),
                         [](const auto& info) { return std::string(IsaName(info.param)); });

TEST_P(KernelTest, MatchesTheModelForEveryTypeOpAndCount) {
  for (DataType type : kAllTypes) {
    const size_t size = DataTypeSize(type);
    const Bytes a = RandomElements(type, kCounts[3], 1);
    const Bytes b = RandomElements(type, kCounts[3], 2);
    for (ReduceOp op : kCombineOps) {
      for (size_t count : kCounts) {
        Bytes dst(count * size + 1, 0xA5);
        Reduce2(dst.data(), a.data(), b.data(), count, type, op);
        EXPECT_TRUE(MatchesModel(dst.data(), a.data(), b.data(), count, type, op));
        EXPECT_EQ(dst.back(), 0xA5) << Describe(type, op) << " wrote past the end";
      }
    }
  }
}

TEST_P(KernelTest, CountZeroTouchesNothing) {
  for (DataType type : kAllTypes) {
    for (ReduceOp op : kCombineOps) Reduce2(nullptr, nullptr, nullptr, 0, type, op);
    DivideBy(nullptr, 0, type, 3);
  }
}

// Every byte offset of each pointer, every count up to a few vectors: the
// result must not depend on where the data sits, and nothing outside dst's
// range may change.
TEST_P(KernelTest, AnyAlignmentAndEveryTailLength) {
  constexpr size_t kMaxCount = 70;
  constexpr size_t kPad = 16;
  for (DataType type : kAllTypes) {
    const size_t size = DataTypeSize(type);
    const Bytes a_src = RandomElements(type, kMaxCount, 3);
    const Bytes b_src = RandomElements(type, kMaxCount, 4);
    for (ReduceOp op : kCombineOps) {
      for (size_t offset : {size_t{0}, size_t{1}, size_t{3}, size_t{5}}) {
        for (size_t count = 0; count <= kMaxCount; ++count) {
          // dst, a and b each at a different misalignment.
          Bytes a(kPad + kMaxCount * size), b(a.size() + 2), dst(kPad + kMaxCount * size + kPad, 0x5A);
          std::memcpy(a.data() + offset, a_src.data(), count * size);
          std::memcpy(b.data() + offset + 2, b_src.data(), count * size);
          unsigned char* d = dst.data() + kPad - offset;
          Reduce2(d, a.data() + offset, b.data() + offset + 2, count, type, op);
          ASSERT_TRUE(MatchesModel(d, a_src.data(), b_src.data(), count, type, op)) << "offset " << offset;
          for (size_t i = 0; i < dst.size(); ++i) {
            if (dst.data() + i >= d && dst.data() + i < d + count * size) continue;
            ASSERT_EQ(dst[i], 0x5A) << Describe(type, op) << " count " << count << " wrote byte " << i;
          }
        }
      }
    }
  }
}

// dst may be a, b, or both; a and b may be the same buffer.
TEST_P(KernelTest, Aliasing) {
  constexpr size_t kCount = 4099;
  for (DataType type : kAllTypes) {
    const size_t size = DataTypeSize(type);
    const Bytes a = RandomElements(type, kCount, 5);
    const Bytes b = RandomElements(type, kCount, 6);
    for (ReduceOp op : kCombineOps) {
      // One byte in, so that the pointers are not even element-aligned.
      Bytes buf(kCount * size + 1);
      unsigned char* p = buf.data() + 1;

      std::memcpy(p, a.data(), a.size());
      Reduce2(p, p, b.data(), kCount, type, op);
      EXPECT_TRUE(MatchesModel(p, a.data(), b.data(), kCount, type, op)) << "dst == a";

      std::memcpy(p, b.data(), b.size());
      Reduce2(p, a.data(), p, kCount, type, op);
      EXPECT_TRUE(MatchesModel(p, a.data(), b.data(), kCount, type, op)) << "dst == b";

      std::memcpy(p, a.data(), a.size());
      Reduce2(p, p, p, kCount, type, op);
      EXPECT_TRUE(MatchesModel(p, a.data(), a.data(), kCount, type, op)) << "dst == a == b";

      Bytes dst(kCount * size);
      Reduce2(dst.data(), a.data(), a.data(), kCount, type, op);
      EXPECT_TRUE(MatchesModel(dst.data(), a.data(), a.data(), kCount, type, op)) << "a == b";
    }
  }
}

// An element's result depends on its inputs only: the same data shifted by a
// few elements (so that it meets other vector lanes, or the scalar tail)
// gives the same bits, NaN payloads included.
TEST_P(KernelTest, ResultsDoNotDependOnPosition) {
  constexpr size_t kCount = 1000;
  for (DataType type : kAllTypes) {
    const size_t size = DataTypeSize(type);
    const Bytes a = RandomElements(type, kCount, 7);
    const Bytes b = RandomElements(type, kCount, 8);
    for (ReduceOp op : kCombineOps) {
      Bytes whole(kCount * size);
      Reduce2(whole.data(), a.data(), b.data(), kCount, type, op);
      for (size_t shift : {1, 3, 5, 17, 990, 999}) {
        Bytes part((kCount - shift) * size);
        Reduce2(part.data(), a.data() + shift * size, b.data() + shift * size, kCount - shift, type, op);
        ASSERT_EQ(std::memcmp(part.data(), whole.data() + shift * size, part.size()), 0)
            << Describe(type, op) << " shift " << shift;
      }
    }
  }
}

// Hand-checked cases: each is repeated across a buffer long enough that it is
// computed both in the vector loop and in the tail. As with the model, a NaN
// out of a sum or product may be any NaN.
struct Case {
  DataType type;
  ReduceOp op;
  uint64_t a, b, want;
};

void PrintTo(const Case& c, std::ostream* os) {
  *os << Describe(c.type, c.op) << absl::StrFormat(" 0x%x 0x%x", c.a, c.b);
}

constexpr uint64_t kI8Min = 0x80, kI32Min = 0x80000000, kI64Min = 0x8000000000000000;
constexpr uint64_t kI32Max = 0x7FFFFFFF, kI64Max = 0x7FFFFFFFFFFFFFFF;

const Case kCases[] = {
    // f16: ties to even, overflow, subnormals, infinities and NaNs.
    {DataType::kFloat16, ReduceOp::kSum, 0x3C00, 0x1000, 0x3C00},  // 1 + 2^-11: tie, down to even
    {DataType::kFloat16, ReduceOp::kSum, 0x3C01, 0x1000, 0x3C02},  // tie, up to even
    {DataType::kFloat16, ReduceOp::kSum, 0x7BFF, 0x4C00, 0x7C00},  // 65504 + 16 = 65520: infinity
    {DataType::kFloat16, ReduceOp::kSum, 0x7BFF, 0x4800, 0x7BFF},  // 65504 + 8 rounds back down
    {DataType::kFloat16, ReduceOp::kSum, 0x0001, 0x0001, 0x0002},  // subnormals add exactly
    {DataType::kFloat16, ReduceOp::kSum, 0x03FF, 0x0001, 0x0400},  // into the normals
    {DataType::kFloat16, ReduceOp::kSum, 0x3C00, 0xBC00, 0x0000},  // 1 - 1 = +0
    {DataType::kFloat16, ReduceOp::kSum, 0x8000, 0x8000, 0x8000},  // -0 + -0 = -0
    {DataType::kFloat16, ReduceOp::kSum, 0x7C00, 0x3C00, 0x7C00},
    {DataType::kFloat16, ReduceOp::kSum, 0x7C00, 0xFC00, 0x7E00},  // inf - inf
    {DataType::kFloat16, ReduceOp::kSum, 0x7C01, 0x3C00, 0x7E01},
    {DataType::kFloat16, ReduceOp::kProd, 0x0001, 0x3800, 0x0000},  // 2^-25: tie, down to 0
    {DataType::kFloat16, ReduceOp::kProd, 0x0003, 0x3800, 0x0002},  // 1.5 * 2^-24: tie, up to 2
    {DataType::kFloat16, ReduceOp::kProd, 0x5C00, 0x5C00, 0x7C00},  // 256 * 256 overflows
    {DataType::kFloat16, ReduceOp::kProd, 0x3C00, 0x8000, 0x8000},
    {DataType::kFloat16, ReduceOp::kMin, 0x7E00, 0x3C00, 0x7E00},
    {DataType::kFloat16, ReduceOp::kMin, 0x3C00, 0xFD55, 0x7E00},  // any NaN: the canonical one
    {DataType::kFloat16, ReduceOp::kMax, 0x3C00, 0x7C01, 0x7E00},
    {DataType::kFloat16, ReduceOp::kMin, 0x0000, 0x8000, 0x8000},  // -0 < +0
    {DataType::kFloat16, ReduceOp::kMin, 0x8000, 0x0000, 0x8000},
    {DataType::kFloat16, ReduceOp::kMax, 0x8000, 0x0000, 0x0000},
    {DataType::kFloat16, ReduceOp::kMax, 0x0000, 0x8000, 0x0000},
    {DataType::kFloat16, ReduceOp::kMax, 0xFC00, 0x0001, 0x0001},
    {DataType::kFloat16, ReduceOp::kMin, 0xFC00, 0x0001, 0xFC00},
    // bf16
    {DataType::kBFloat16, ReduceOp::kSum, 0x3F80, 0x3B80, 0x3F80},   // 1 + 2^-8: tie, down to even
    {DataType::kBFloat16, ReduceOp::kSum, 0x3F81, 0x3B80, 0x3F82},   // tie, up to even
    {DataType::kBFloat16, ReduceOp::kSum, 0x7F7F, 0x7F7F, 0x7F80},   // overflow
    {DataType::kBFloat16, ReduceOp::kSum, 0x0001, 0x0001, 0x0002},   // subnormals are kept
    {DataType::kBFloat16, ReduceOp::kProd, 0x0001, 0x3F00, 0x0000},  // tie, down to 0
    {DataType::kBFloat16, ReduceOp::kProd, 0x0003, 0x3F00, 0x0002},  // tie, up to 2
    {DataType::kBFloat16, ReduceOp::kSum, 0x7F81, 0x3F80, 0x7FC1},
    {DataType::kBFloat16, ReduceOp::kMax, 0x7FC0, 0x3F80, 0x7FC0},
    {DataType::kBFloat16, ReduceOp::kMax, 0x3F80, 0xFFC3, 0x7FC0},
    {DataType::kBFloat16, ReduceOp::kMin, 0x0000, 0x8000, 0x8000},
    {DataType::kBFloat16, ReduceOp::kMax, 0x8000, 0x0000, 0x0000},
    // f32 and f64: NaN and signed zeros in min and max.
    {DataType::kFloat32, ReduceOp::kMin, 0x7FC00000, 0x3F800000, 0x7FC00000},
    {DataType::kFloat32, ReduceOp::kMin, 0x3F800000, 0xFF800001, 0x7FC00000},
    {DataType::kFloat32, ReduceOp::kMax, 0x7F800000, 0x7FC12345, 0x7FC00000},
    {DataType::kFloat32, ReduceOp::kMax, 0xFFC00001, 0x7FC00002, 0x7FC00000},
    {DataType::kFloat32, ReduceOp::kMin, 0x00000000, 0x80000000, 0x80000000},
    {DataType::kFloat32, ReduceOp::kMin, 0x80000000, 0x00000000, 0x80000000},
    {DataType::kFloat32, ReduceOp::kMax, 0x80000000, 0x00000000, 0x00000000},
    {DataType::kFloat32, ReduceOp::kMax, 0x00000000, 0x80000000, 0x00000000},
    {DataType::kFloat32, ReduceOp::kMin, 0xFF800000, 0x7F800000, 0xFF800000},
    {DataType::kFloat32, ReduceOp::kMax, 0x00000001, 0x80000001, 0x00000001},  // subnormals compare
    {DataType::kFloat32, ReduceOp::kSum, 0x00000001, 0x00000001, 0x00000002},
    {DataType::kFloat64, ReduceOp::kMin, 0x7FF8000000000000, 0x3FF0000000000000, 0x7FF8000000000000},
    {DataType::kFloat64, ReduceOp::kMax, 0x3FF0000000000000, 0xFFF0000000000001, 0x7FF8000000000000},
    {DataType::kFloat64, ReduceOp::kMin, 0x0000000000000000, 0x8000000000000000, 0x8000000000000000},
    {DataType::kFloat64, ReduceOp::kMax, 0x8000000000000000, 0x0000000000000000, 0x0000000000000000},
    {DataType::kFloat64, ReduceOp::kSum, 0x7FEFFFFFFFFFFFFF, 0x7FEFFFFFFFFFFFFF, 0x7FF0000000000000},
    // Integers wrap.
    {DataType::kInt8, ReduceOp::kSum, 0x7F, 0x01, kI8Min},
    {DataType::kInt8, ReduceOp::kSum, kI8Min, 0xFF, 0x7F},  // -128 + -1
    {DataType::kInt8, ReduceOp::kProd, 0x10, 0x10, 0x00},
    {DataType::kInt8, ReduceOp::kProd, kI8Min, 0xFF, kI8Min},  // -128 * -1
    {DataType::kInt8, ReduceOp::kProd, 0xFD, 0x05, 0xF1},      // -3 * 5
    {DataType::kInt8, ReduceOp::kMin, 0x80, 0x7F, 0x80},
    {DataType::kInt8, ReduceOp::kMax, 0xFF, 0x01, 0x01},
    {DataType::kUInt8, ReduceOp::kSum, 0xFF, 0x01, 0x00},
    {DataType::kUInt8, ReduceOp::kProd, 0x10, 0x11, 0x10},
    {DataType::kUInt8, ReduceOp::kMin, 0xFF, 0x01, 0x01},
    {DataType::kUInt8, ReduceOp::kMax, 0xFF, 0x01, 0xFF},
    {DataType::kInt32, ReduceOp::kSum, kI32Max, 0x1, kI32Min},
    {DataType::kInt32, ReduceOp::kProd, 0x10000, 0x10000, 0x0},
    {DataType::kInt32, ReduceOp::kProd, kI32Min, 0xFFFFFFFF, kI32Min},
    {DataType::kInt32, ReduceOp::kMin, kI32Min, kI32Max, kI32Min},
    {DataType::kInt32, ReduceOp::kMax, 0xFFFFFFFF, 0x0, 0x0},
    {DataType::kInt64, ReduceOp::kSum, kI64Max, 0x1, kI64Min},
    {DataType::kInt64, ReduceOp::kProd, 0x100000000, 0x100000000, 0x0},
    {DataType::kInt64, ReduceOp::kProd, kI64Max, 0x3, 0x7FFFFFFFFFFFFFFD},
    {DataType::kInt64, ReduceOp::kProd, 0xFFFFFFFFFFFFFFFF, 0xFFFFFFFFFFFFFFFF, 0x1},
    {DataType::kInt64, ReduceOp::kMin, kI64Min, kI64Max, kI64Min},
    {DataType::kInt64, ReduceOp::kMax, kI64Min, 0xFFFFFFFFFFFFFFFF, 0xFFFFFFFFFFFFFFFF},
    // bool: any nonzero byte is true, results are 0 or 1.
    {DataType::kBool, ReduceOp::kSum, 0x1, 0x1, 0x1},
    {DataType::kBool, ReduceOp::kSum, 0x2, 0x0, 0x1},
    {DataType::kBool, ReduceOp::kMax, 0x0, 0x0, 0x0},
    {DataType::kBool, ReduceOp::kProd, 0x2, 0x4, 0x1},
    {DataType::kBool, ReduceOp::kProd, 0x1, 0x0, 0x0},
    {DataType::kBool, ReduceOp::kMin, 0xFF, 0x1, 0x1},
};

TEST_P(KernelTest, HandCheckedCases) {
  constexpr size_t kCount = 67;  // a vector loop and a tail for every width
  for (const Case& c : kCases) {
    const size_t size = DataTypeSize(c.type);
    Bytes a(kCount * size), b(kCount * size), dst(kCount * size);
    for (size_t i = 0; i < kCount; ++i) {
      std::memcpy(a.data() + i * size, &c.a, size);
      std::memcpy(b.data() + i * size, &c.b, size);
    }
    Reduce2(dst.data(), a.data(), b.data(), kCount, c.type, c.op);
    for (size_t i = 0; i < kCount; ++i) {
      ASSERT_TRUE(reference::Matches(dst.data() + i * size, &c.want, c.type, c.op))
          << ::testing::PrintToString(c) << " gave " << Hex(dst.data() + i * size, c.type) << " at " << i;
    }
    // And the model agrees with the hand.
    ASSERT_TRUE(MatchesModel(dst.data(), a.data(), b.data(), kCount, c.type, c.op)) << ::testing::PrintToString(c);
  }
}

TEST_P(KernelTest, DivideMatchesTheModel) {
  for (DataType type : kAllTypes) {
    const size_t size = DataTypeSize(type);
    const Bytes data = RandomElements(type, kCounts[3], 9);
    for (int divisor : {2, 3, 7, 1000, std::numeric_limits<int>::max()}) {
      for (size_t count : kCounts) {
        Bytes got(data.begin(), data.begin() + count * size);
        Bytes want = got;
        DivideBy(got.data(), count, type, divisor);
        reference::DivideBy(want.data(), count, type, divisor);
        size_t first_miss = count;
        for (size_t i = 0; i < count && first_miss == count; ++i) {
          if (!reference::Matches(got.data() + i * size, want.data() + i * size, type, ReduceOp::kAvg)) first_miss = i;
        }
        ASSERT_EQ(first_miss, count) << DataTypeName(type) << " / " << divisor << " count " << count << ": "
                                     << Hex(data.data() + first_miss * size, type) << " gave "
                                     << Hex(got.data() + first_miss * size, type) << ", want "
                                     << Hex(want.data() + first_miss * size, type);
      }
    }
  }
}

TEST_P(KernelTest, DivideTruncatesTowardZero) {
  int32_t i32[] = {-7, 7, -1, 1, std::numeric_limits<int32_t>::min(), std::numeric_limits<int32_t>::max()};
  DivideBy(i32, std::size(i32), DataType::kInt32, 2);
  EXPECT_EQ(std::vector<int32_t>(std::begin(i32), std::end(i32)),
            (std::vector<int32_t>{-3, 3, 0, 0, -1073741824, 1073741823}));
  int8_t i8[] = {-128, 127, -7, 7, -2, 2};
  DivideBy(i8, std::size(i8), DataType::kInt8, 3);
  EXPECT_EQ(std::vector<int8_t>(std::begin(i8), std::end(i8)), (std::vector<int8_t>{-42, 42, -2, 2, 0, 0}));
  uint8_t u8[] = {255, 5};
  DivideBy(u8, std::size(u8), DataType::kUInt8, 2);
  EXPECT_EQ(std::vector<uint8_t>(std::begin(u8), std::end(u8)), (std::vector<uint8_t>{127, 2}));
  constexpr int64_t kMin = std::numeric_limits<int64_t>::min(), kMax = std::numeric_limits<int64_t>::max();
  int64_t i64[] = {kMin, -9, kMax};
  DivideBy(i64, std::size(i64), DataType::kInt64, 4);
  EXPECT_EQ(std::vector<int64_t>(std::begin(i64), std::end(i64)), (std::vector<int64_t>{kMin / 4, -2, kMax / 4}));
  uint8_t flags[] = {0, 1, 2};
  DivideBy(flags, std::size(flags), DataType::kBool, 3);
  EXPECT_EQ(std::vector<uint8_t>(std::begin(flags), std::end(flags)), (std::vector<uint8_t>{0, 1, 2}));
  uint16_t f16[17];
  std::fill(std::begin(f16), std::end(f16), 0x3C00);  // 1.0
  DivideBy(f16, std::size(f16), DataType::kFloat16, 3);
  for (uint16_t h : f16) EXPECT_EQ(h, 0x3555);  // 1/3 rounded to nearest
}

// The public entry points run the active ISA's kernels, with kAvg summing.
TEST(ReduceKernelsTest, PublicEntryPointsMatchTheModel) {
  constexpr size_t kCount = 10007;
  for (DataType type : kAllTypes) {
    const size_t size = DataTypeSize(type);
    const Bytes a = RandomElements(type, kCount, 10);
    const Bytes b = RandomElements(type, kCount, 11);
    for (ReduceOp op : kAllOps) {
      Bytes dst(kCount * size);
      Reduce2(dst.data(), a.data(), b.data(), kCount, type, op);
      EXPECT_TRUE(MatchesModel(dst.data(), a.data(), b.data(), kCount, type, op));
      Bytes acc = a;
      ReduceInto(acc.data(), b.data(), kCount, type, op);
      EXPECT_TRUE(MatchesModel(acc.data(), a.data(), b.data(), kCount, type, op)) << "ReduceInto";
      EXPECT_EQ(acc, dst);
    }
    Bytes divided = a;
    Bytes want = a;
    DivideBy(divided.data(), kCount, type, 5);
    reference::DivideBy(want.data(), kCount, type, 5);
    for (size_t i = 0; i < kCount; ++i) {
      ASSERT_TRUE(reference::Matches(divided.data() + i * size, want.data() + i * size, type, ReduceOp::kAvg))
          << DataTypeName(type) << " at " << i;
    }
    Bytes unchanged = a;
    DivideBy(unchanged.data(), kCount, type, 1);
    EXPECT_EQ(unchanged, a);
  }
  ReduceInto(nullptr, nullptr, 0, DataType::kFloat32, ReduceOp::kSum);
  DivideBy(nullptr, 0, DataType::kFloat32, 2);
}

TEST(ReduceKernelsTest, ActiveIsaIsTheWidestAvailable) {
  const Isa active = reduce_internal::ActiveIsa();
  EXPECT_NE(KernelTableFor(active), nullptr);
  for (Isa wider = static_cast<Isa>(static_cast<int>(active) + 1); static_cast<int>(wider) < reduce_internal::kNumIsas;
       wider = static_cast<Isa>(static_cast<int>(wider) + 1)) {
    EXPECT_EQ(KernelTableFor(wider), nullptr) << IsaName(wider);
  }
  std::printf("active reduce ISA: %s\n", IsaName(active));
}

TEST(ReduceKernelsDeathTest, BadArgumentsStop) {
  float x = 1;
  EXPECT_DEATH(DivideBy(&x, 1, DataType::kFloat32, 0), "divisor of at least 1");
  EXPECT_DEATH(DivideBy(&x, 1, DataType::kFloat32, -2), "divisor of at least 1");
  EXPECT_DEATH(ReduceInto(&x, &x, 1, static_cast<DataType>(kNumDataTypes), ReduceOp::kSum), "invalid DataType");
  EXPECT_DEATH(ReduceInto(&x, &x, 1, DataType::kFloat32, static_cast<ReduceOp>(kNumReduceOps)), "invalid ReduceOp");
}

}  // namespace
}  // namespace mc::algo
