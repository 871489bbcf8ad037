// Sizes, names and parsing of DataType and ReduceOp.
#include "mooncomm/datatype.h"

#include <iterator>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace mc {
namespace {

using ::testing::HasSubstr;

TEST(DataTypeTest, SizesAndNames) {
  const struct {
    DataType type;
    size_t size;
    const char* name;
    const char* long_name;
  } kCases[] = {
      {DataType::kFloat32, 4, "f32", "float32"}, {DataType::kFloat64, 8, "f64", "float64"},
      {DataType::kFloat16, 2, "f16", "float16"}, {DataType::kBFloat16, 2, "bf16", "bfloat16"},
      {DataType::kInt8, 1, "i8", "int8"},        {DataType::kUInt8, 1, "u8", "uint8"},
      {DataType::kInt32, 4, "i32", "int32"},     {DataType::kInt64, 8, "i64", "int64"},
      {DataType::kBool, 1, "bool", "bool"},
  };
  static_assert(std::size(kCases) == kNumDataTypes);
  for (const auto& c : kCases) {
    EXPECT_EQ(DataTypeSize(c.type), c.size) << c.name;
    EXPECT_STREQ(DataTypeName(c.type), c.name);
    EXPECT_EQ(ParseDataType(c.name).value(), c.type) << c.name;
    EXPECT_EQ(ParseDataType(c.long_name).value(), c.type) << c.long_name;
  }
  EXPECT_EQ(DataTypeSize(static_cast<DataType>(kNumDataTypes)), 0u);
  EXPECT_STREQ(DataTypeName(static_cast<DataType>(200)), "unknown");
}

TEST(DataTypeTest, ReduceOpNames) {
  const struct {
    ReduceOp op;
    const char* name;
    const char* long_name;
  } kCases[] = {
      {ReduceOp::kSum, "sum", "sum"},     {ReduceOp::kProd, "prod", "product"}, {ReduceOp::kMin, "min", "minimum"},
      {ReduceOp::kMax, "max", "maximum"}, {ReduceOp::kAvg, "avg", "average"},
  };
  static_assert(std::size(kCases) == kNumReduceOps);
  for (const auto& c : kCases) {
    EXPECT_STREQ(ReduceOpName(c.op), c.name);
    EXPECT_EQ(ParseReduceOp(c.name).value(), c.op) << c.name;
    EXPECT_EQ(ParseReduceOp(c.long_name).value(), c.op) << c.long_name;
  }
  EXPECT_STREQ(ReduceOpName(static_cast<ReduceOp>(kNumReduceOps)), "unknown");
}

TEST(DataTypeTest, ParseErrorsNameTheValueAndListTheAccepted) {
  const auto type = ParseDataType("float128");
  ASSERT_FALSE(type.ok());
  EXPECT_EQ(type.status().code(), absl::StatusCode::kInvalidArgument);
  const std::string type_message(type.status().message());
  EXPECT_THAT(type_message, HasSubstr("'float128'"));
  EXPECT_THAT(type_message, HasSubstr("f32, float32, f64, float64, f16, float16, bf16, bfloat16, i8, int8, u8, uint8, "
                                      "i32, int32, i64, int64, bool"));

  const auto op = ParseReduceOp("Sum");  // names are case-sensitive
  ASSERT_FALSE(op.ok());
  EXPECT_EQ(op.status().code(), absl::StatusCode::kInvalidArgument);
  const std::string op_message(op.status().message());
  EXPECT_THAT(op_message, HasSubstr("'Sum'"));
  EXPECT_THAT(op_message, HasSubstr("sum, prod, product, min, minimum, max, maximum, avg, average"));

  EXPECT_FALSE(ParseDataType("").ok());
  EXPECT_FALSE(ParseReduceOp("").ok());
}

}  // namespace
}  // namespace mc
