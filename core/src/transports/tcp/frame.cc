#include "transports/tcp/frame.h"

#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "mooncomm/plugin_abi.h"

namespace mc::tcp {
namespace {

// Byte offsets of the header fields.
constexpr size_t kMagicAt = 0;
constexpr size_t kVersionAt = 4;
constexpr size_t kTypeAt = 5;
constexpr size_t kStatusAt = 6;
constexpr size_t kLengthAt = 8;
constexpr size_t kTagAt = 16;
constexpr size_t kIdAt = 24;
constexpr size_t kAddrAt = 32;
constexpr size_t kKeyAt = 40;
constexpr size_t kReservedAt = 44;

template <typename T>
void Store(uint8_t* out, T value) {
  for (size_t i = 0; i < sizeof(T); ++i) out[i] = static_cast<uint8_t>(value >> (8 * i));
}

template <typename T>
T Load(const uint8_t* in) {
  T value = 0;
  for (size_t i = 0; i < sizeof(T); ++i) value |= static_cast<T>(in[i]) << (8 * i);
  return value;
}

bool IsKnownType(uint8_t type) {
  return type >= static_cast<uint8_t>(FrameType::kHello) && type <= static_cast<uint8_t>(FrameType::kPutAck);
}

}  // namespace

bool FrameHasPayload(FrameType type) {
  switch (type) {
    case FrameType::kHello:
    case FrameType::kEager:
    case FrameType::kRndvData:
    case FrameType::kPut:
      return true;
    case FrameType::kRts:
    case FrameType::kCts:
    case FrameType::kPutAck:
      return false;
  }
  return false;
}

const char* FrameTypeName(FrameType type) {
  switch (type) {
    case FrameType::kHello: return "HELLO";
    case FrameType::kEager: return "EAGER";
    case FrameType::kRts: return "RTS";
    case FrameType::kCts: return "CTS";
    case FrameType::kRndvData: return "RNDV_DATA";
    case FrameType::kPut: return "PUT";
    case FrameType::kPutAck: return "PUT_ACK";
  }
  return "?";
}

void EncodeFrameHeader(const FrameHeader& header, uint8_t out[kFrameHeaderBytes]) {
  Store<uint32_t>(out + kMagicAt, kFrameMagic);
  out[kVersionAt] = kProtocolVersion;
  out[kTypeAt] = static_cast<uint8_t>(header.type);
  Store<uint16_t>(out + kStatusAt, header.status);
  Store<uint64_t>(out + kLengthAt, header.length);
  Store<uint64_t>(out + kTagAt, header.tag);
  Store<uint64_t>(out + kIdAt, header.id);
  Store<uint64_t>(out + kAddrAt, header.addr);
  Store<uint32_t>(out + kKeyAt, header.key);
  Store<uint32_t>(out + kReservedAt, 0);
}

absl::StatusOr<FrameHeader> DecodeFrameHeader(absl::Span<const uint8_t> bytes, uint64_t max_message) {
  if (bytes.size() < kFrameHeaderBytes) {
    return absl::DataLossError(
        absl::StrCat("truncated frame header: ", bytes.size(), " of ", kFrameHeaderBytes, " bytes"));
  }
  const uint8_t* in = bytes.data();
  uint32_t magic = Load<uint32_t>(in + kMagicAt);
  if (magic != kFrameMagic) {
    return absl::DataLossError(absl::StrFormat("bad frame magic 0x%08x (expected 0x%08x)", magic, kFrameMagic));
  }
  if (in[kVersionAt] != kProtocolVersion) {
    return absl::DataLossError(absl::StrCat("peer speaks tcp protocol version ", in[kVersionAt],
                                            ", this side speaks ", kProtocolVersion));
  }
  if (!IsKnownType(in[kTypeAt])) {
    return absl::DataLossError(absl::StrCat("unknown frame type ", in[kTypeAt]));
  }
  if (Load<uint32_t>(in + kReservedAt) != 0) {
    return absl::DataLossError("frame header has non-zero reserved bytes");
  }
  FrameHeader header;
  header.type = static_cast<FrameType>(in[kTypeAt]);
  header.status = Load<uint16_t>(in + kStatusAt);
  header.length = Load<uint64_t>(in + kLengthAt);
  header.tag = Load<uint64_t>(in + kTagAt);
  header.id = Load<uint64_t>(in + kIdAt);
  header.addr = Load<uint64_t>(in + kAddrAt);
  header.key = Load<uint32_t>(in + kKeyAt);
  uint64_t limit = header.type == FrameType::kHello ? MC_MAX_HELLO_BYTES : max_message;
  if (header.length > limit) {
    return absl::DataLossError(absl::StrCat(FrameTypeName(header.type), " frame of ", header.length,
                                            " bytes is above the limit of ", limit, " bytes"));
  }
  return header;
}

}  // namespace mc::tcp
