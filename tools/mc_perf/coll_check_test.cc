// The --check reference: inputs exact in every type, reductions independent
// of the order, and CountWrong finding every changed element.
#include "mc_perf/coll_check.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "gtest/gtest.h"

namespace mc::perf {
namespace {

using K = CollectiveKind;

constexpr size_t kCount = 97;  // odd, not a multiple of the rank counts

std::vector<char> Inputs(K coll, DataType t, ReduceOp op, int rank, int n, size_t count) {
  std::vector<char> buf(count * DataTypeSize(t));
  FillInput(buf.data(), count, 0, coll, t, op, rank, n);
  return buf;
}

TEST(CollCheck, InputsRoundTripInEveryType) {
  for (int t = 0; t < kNumDataTypes; ++t) {
    const auto type = static_cast<DataType>(t);
    for (int op = 0; op < kNumReduceOps; ++op) {
      for (K coll : {K::kAllreduce, K::kAllgather}) {
        for (int r = 0; r < 5; ++r) {
          std::vector<char> buf = Inputs(coll, type, static_cast<ReduceOp>(op), r, 5, kCount);
          for (size_t i = 0; i < kCount; ++i) {
            ASSERT_EQ(LoadElement(buf.data(), i, type),
                      InputValue(coll, type, static_cast<ReduceOp>(op), r, 5, i))
                << DataTypeName(type) << " " << ReduceOpName(static_cast<ReduceOp>(op)) << " rank " << r << " i " << i;
          }
        }
      }
    }
  }
}

// The reference of a reduction in any order is the same: reversing the
// ranks, in double and in the element type, gives the same value.
TEST(CollCheck, ReferenceMatchesAReductionInAnotherOrder) {
  for (DataType type : {DataType::kFloat16, DataType::kBFloat16, DataType::kInt8, DataType::kUInt8, DataType::kFloat32}) {
    for (int n : {1, 2, 3, 8}) {
      for (size_t i = 0; i < kCount; ++i) {
        double sum = 0, mn = 1e300, mx = -1e300, prod = 1;
        for (int r = n - 1; r >= 0; --r) {
          sum += InputValue(K::kAllreduce, type, ReduceOp::kSum, r, n, i);
          prod *= InputValue(K::kAllreduce, type, ReduceOp::kProd, r, n, i);
          mn = std::min(mn, InputValue(K::kAllreduce, type, ReduceOp::kMin, r, n, i));
          mx = std::max(mx, InputValue(K::kAllreduce, type, ReduceOp::kMax, r, n, i));
        }
        EXPECT_EQ(ReducedValue(type, ReduceOp::kMin, n, i), mn);
        EXPECT_EQ(ReducedValue(type, ReduceOp::kMax, n, i), mx);
        if (type != DataType::kInt8 && type != DataType::kUInt8) {
          EXPECT_EQ(ReducedValue(type, ReduceOp::kSum, n, i), sum);
          EXPECT_EQ(ReducedValue(type, ReduceOp::kProd, n, i), prod);
        }
        // avg inputs sum to a multiple of n.
        double avg_sum = 0;
        for (int r = 0; r < n; ++r) avg_sum += InputValue(K::kAllreduce, type, ReduceOp::kAvg, r, n, i);
        EXPECT_EQ(avg_sum / n, static_cast<int64_t>(avg_sum) / n) << "n " << n << " i " << i;
        EXPECT_EQ(ReducedValue(type, ReduceOp::kAvg, n, i), avg_sum / n);
      }
    }
  }
}

TEST(CollCheck, IntegerSumsWrap) {
  // 64 ranks of i8 values 1..4 pass 127: the reference wraps like the kernels.
  for (size_t i = 0; i < 8; ++i) {
    int64_t sum = 0;
    for (int r = 0; r < 64; ++r) sum += static_cast<int64_t>(InputValue(K::kAllreduce, DataType::kInt8, ReduceOp::kSum, r, 64, i));
    EXPECT_EQ(ReducedValue(DataType::kInt8, ReduceOp::kSum, 64, i), static_cast<int8_t>(sum));
  }
}

TEST(CollCheck, BoolReductionsAreOrAndAnd) {
  const int n = 4;
  for (size_t i = 0; i < kCount; ++i) {
    bool any = false, all = true;
    for (int r = 0; r < n; ++r) {
      any = any || InputValue(K::kAllreduce, DataType::kBool, ReduceOp::kMax, r, n, i) != 0;
      all = all && InputValue(K::kAllreduce, DataType::kBool, ReduceOp::kMin, r, n, i) != 0;
    }
    EXPECT_EQ(ReducedValue(DataType::kBool, ReduceOp::kMax, n, i), any);
    EXPECT_EQ(ReducedValue(DataType::kBool, ReduceOp::kMin, n, i), all);
  }
}

// A serial model of each collective's output on one rank, checked clean, then
// with one element changed.
std::vector<char> ModelOutput(K coll, DataType t, ReduceOp op, int rank, int n, int root, size_t count) {
  const size_t E = DataTypeSize(t);
  std::vector<char> out;
  std::vector<double> values;
  switch (coll) {
    case K::kAllreduce:
    case K::kReduce:
      for (size_t i = 0; i < count; ++i) values.push_back(ReducedValue(t, op, n, i));
      break;
    case K::kReduceScatter:
      for (size_t i = 0; i < count; ++i) values.push_back(ReducedValue(t, op, n, rank * count + i));
      break;
    case K::kBroadcast:
      for (size_t i = 0; i < count; ++i) values.push_back(InputValue(coll, t, op, root, n, i));
      break;
    case K::kAllgather:
    case K::kGather:
      for (int b = 0; b < n; ++b) {
        for (size_t j = 0; j < count; ++j) values.push_back(InputValue(coll, t, op, b, n, j));
      }
      break;
    case K::kAlltoall:
      for (int p = 0; p < n; ++p) {
        for (size_t j = 0; j < count; ++j) values.push_back(InputValue(coll, t, op, p, n, rank * count + j));
      }
      break;
    case K::kScatter:
      for (size_t j = 0; j < count; ++j) values.push_back(InputValue(coll, t, op, root, n, rank * count + j));
      break;
    default:
      break;
  }
  out.resize(values.size() * E);
  for (size_t i = 0; i < values.size(); ++i) {
    // f32 holds every value exactly; convert through it for the 16-bit types.
    if (t == DataType::kFloat32) {
      float f = static_cast<float>(values[i]);
      std::memcpy(out.data() + i * E, &f, E);
    } else if (t == DataType::kInt32) {
      int32_t v = static_cast<int32_t>(values[i]);
      std::memcpy(out.data() + i * E, &v, E);
    }
  }
  return out;
}

TEST(CollCheck, CountWrongFindsEveryChangedElement) {
  const int n = 3, root = 1;
  for (DataType t : {DataType::kFloat32, DataType::kInt32}) {
    for (K coll : {K::kAllreduce, K::kReduce, K::kReduceScatter, K::kBroadcast, K::kAllgather, K::kGather,
                   K::kAlltoall, K::kScatter}) {
      for (int rank = 0; rank < n; ++rank) {
        std::vector<char> out = ModelOutput(coll, t, ReduceOp::kSum, rank, n, root, kCount);
        const bool checked = !((coll == K::kReduce || coll == K::kGather) && rank != root);
        EXPECT_EQ(CountWrong(coll, t, ReduceOp::kSum, rank, n, root, out.data(), kCount), 0)
            << CollectiveName(coll) << " rank " << rank;
        out[3 * DataTypeSize(t)] ^= 0x40;
        out[out.size() - 1] ^= 0x10;
        EXPECT_EQ(CountWrong(coll, t, ReduceOp::kSum, rank, n, root, out.data(), kCount), checked ? 2 : 0)
            << CollectiveName(coll) << " rank " << rank;
        Poison(out.data(), out.size());
        EXPECT_EQ(CountWrong(coll, t, ReduceOp::kSum, rank, n, root, out.data(), kCount),
                  checked ? static_cast<int64_t>(out.size() / DataTypeSize(t)) : 0)
            << CollectiveName(coll);
      }
    }
  }
}

}  // namespace
}  // namespace mc::perf
