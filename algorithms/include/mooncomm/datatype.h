// Element types and reduction operators of the collectives.
#ifndef MOONCOMM_DATATYPE_H_
#define MOONCOMM_DATATYPE_H_

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "absl/status/statusor.h"

namespace mc {

enum class DataType : uint8_t {
  kFloat32,
  kFloat64,
  kFloat16,   // IEEE 754 binary16
  kBFloat16,  // the upper half of a float32
  kInt8,
  kUInt8,
  kInt32,
  kInt64,
  kBool,      // one byte, 0 or 1; sum and max are "or", prod and min are "and"
};
inline constexpr int kNumDataTypes = 9;

enum class ReduceOp : uint8_t {
  kSum,
  kProd,
  kMin,
  kMax,
  kAvg,  // sum, then divided by the number of ranks that took part (integers: truncated)
};
inline constexpr int kNumReduceOps = 5;

size_t DataTypeSize(DataType type);
const char* DataTypeName(DataType type);  // "f32", "f64", "f16", "bf16", "i8", "u8", "i32", "i64", "bool"
const char* ReduceOpName(ReduceOp op);    // "sum", "prod", "min", "max", "avg"
// Accepts the names above and the long forms ("float32", "bfloat16", "int64", ...).
absl::StatusOr<DataType> ParseDataType(std::string_view name);
absl::StatusOr<ReduceOp> ParseReduceOp(std::string_view name);

}  // namespace mc

#endif  // MOONCOMM_DATATYPE_H_
