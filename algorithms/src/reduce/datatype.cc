// Sizes and names of the element types and reduction operators.
#include "mooncomm/datatype.h"

#include <array>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"

namespace mc {
namespace {

struct TypeInfo {
  size_t size;
  const char* name;
  const char* long_name;
};

// Indexed by DataType.
constexpr std::array<TypeInfo, kNumDataTypes> kTypes = {{
    {4, "f32", "float32"},
    {8, "f64", "float64"},
    {2, "f16", "float16"},
    {2, "bf16", "bfloat16"},
    {1, "i8", "int8"},
    {1, "u8", "uint8"},
    {4, "i32", "int32"},
    {8, "i64", "int64"},
    {1, "bool", "bool"},
}};

// Indexed by ReduceOp.
struct OpInfo {
  const char* name;
  const char* long_name;
};
constexpr std::array<OpInfo, kNumReduceOps> kOps = {{
    {"sum", "sum"},
    {"prod", "product"},
    {"min", "minimum"},
    {"max", "maximum"},
    {"avg", "average"},
}};

// Looks `name` up in a table's short and long names; the error lists both.
template <typename Enum, typename Table>
absl::StatusOr<Enum> Parse(std::string_view name, const Table& table, const char* what) {
  for (size_t i = 0; i < table.size(); ++i) {
    if (name == table[i].name || name == table[i].long_name) return static_cast<Enum>(i);
  }
  std::vector<std::string> accepted;
  for (const auto& entry : table) {
    accepted.emplace_back(entry.name);
    if (std::string_view(entry.long_name) != entry.name) accepted.emplace_back(entry.long_name);
  }
  return absl::InvalidArgumentError(absl::StrCat("unknown ", what, " '", absl::string_view(name.data(), name.size()),
                                                 "' (expected one of ", absl::StrJoin(accepted, ", "), ")"));
}

}  // namespace

size_t DataTypeSize(DataType type) {
  const auto i = static_cast<size_t>(type);
  return i < kTypes.size() ? kTypes[i].size : 0;
}

const char* DataTypeName(DataType type) {
  const auto i = static_cast<size_t>(type);
  return i < kTypes.size() ? kTypes[i].name : "unknown";
}

const char* ReduceOpName(ReduceOp op) {
  const auto i = static_cast<size_t>(op);
  return i < kOps.size() ? kOps[i].name : "unknown";
}

absl::StatusOr<DataType> ParseDataType(std::string_view name) { return Parse<DataType>(name, kTypes, "data type"); }

absl::StatusOr<ReduceOp> ParseReduceOp(std::string_view name) { return Parse<ReduceOp>(name, kOps, "reduce op"); }

}  // namespace mc
