// The bootstrap store's wire format. Every message, request or reply, is one
// frame: a 4-byte big-endian body length, then the body
//
//   u8 kind | i64 number | u32 key count | keys (u32 length + bytes each) | value (u32 length + bytes)
//
// with all integers big-endian. One uniform layout keeps the codec small; what
// `number`, `keys` and `value` mean depends on the kind (see Op and Reply).
#ifndef MOONCOMM_SRC_BOOTSTRAP_WIRE_FORMAT_H_
#define MOONCOMM_SRC_BOOTSTRAP_WIRE_FORMAT_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace mc::bootstrap {

// Sanity limits: a length beyond these is garbage, not a big message.
inline constexpr size_t kMaxFrameBytes = size_t{64} << 20;
inline constexpr size_t kMaxKeyBytes = size_t{64} << 10;
inline constexpr size_t kMaxValueBytes = kMaxFrameBytes - (size_t{1} << 20);
inline constexpr size_t kMaxWaitKeys = 4096;
inline constexpr size_t kFrameHeaderBytes = 4;

// The first request on every connection: value = kHelloMagic, number = kProtocolVersion.
inline constexpr std::string_view kHelloMagic = "MoonCommStore";
inline constexpr int64_t kProtocolVersion = 1;

// Requests (client to server).
enum class Op : uint8_t {
  kHello = 1,  // value: magic, number: protocol version
  kSet = 2,    // keys: {key}, value
  kGet = 3,    // keys: {key}, number: timeout in ms (-1: none)
  kWait = 4,   // keys: all awaited, number: timeout in ms (-1: none)
  kAdd = 5,    // keys: {key}, number: delta
};

// Replies (server to client).
enum class Reply : uint8_t {
  kOk = 100,       // Get: value; Add: number = the new value
  kTimeout = 101,  // keys: those still missing
  kError = 102,    // number: absl::StatusCode, value: message
};

struct Message {
  uint8_t kind = 0;  // an Op or a Reply
  int64_t number = 0;
  std::vector<std::string> keys;
  std::string value;
};

// The whole frame, length prefix included.
std::string EncodeFrame(const Message& message);

// The body length a 4-byte frame header announces. InvalidArgument when it is
// zero or above kMaxFrameBytes.
absl::StatusOr<size_t> ParseFrameHeader(std::string_view header);

// Looks at the front of `buffer`: nullopt until a whole frame has arrived,
// then the frame's total size (header included). Errors as ParseFrameHeader.
absl::StatusOr<std::optional<size_t>> CompleteFrameSize(std::string_view buffer);

// Parses a frame's body (without the length prefix). InvalidArgument naming
// what was malformed: truncated fields, lengths past the end, trailing bytes.
absl::StatusOr<Message> DecodeBody(std::string_view body);

// Checks that a decoded request has the shape its op needs.
absl::Status ValidateRequest(const Message& request);

}  // namespace mc::bootstrap

#endif  // MOONCOMM_SRC_BOOTSTRAP_WIRE_FORMAT_H_
