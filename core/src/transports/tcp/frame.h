// The tcp transport's wire framing: every frame is a fixed 48-byte header,
// little-endian, followed by `length` payload bytes (for the types that carry
// a payload). DecodeFrameHeader is the only place that trusts nothing: a bad
// magic, an unknown version or type, or an impossible length is rejected
// before anything is allocated or written.
#ifndef MOONCOMM_SRC_TRANSPORTS_TCP_FRAME_H_
#define MOONCOMM_SRC_TRANSPORTS_TCP_FRAME_H_

#include <cstddef>
#include <cstdint>

#include "absl/status/statusor.h"
#include "absl/types/span.h"

namespace mc::tcp {

inline constexpr uint32_t kFrameMagic = 0x5043434du;  // "MCCP" read as little-endian bytes
inline constexpr uint8_t kProtocolVersion = 1;
inline constexpr size_t kFrameHeaderBytes = 48;

enum class FrameType : uint8_t {
  kHello = 1,      // connector -> acceptor, first frame; payload: the hello bytes
  kEager = 2,      // tagged message; payload: the data
  kRts = 3,        // rendezvous request: tag, length, id = sender's rendezvous id
  kCts = 4,        // rendezvous answer: id = sender's id, addr = receiver's id, length = bytes wanted
  kRndvData = 5,   // rendezvous data: id = receiver's id; payload: the data
  kPut = 6,        // one-sided write: tag = notify, addr, key, id = put id; payload: the data
  kPutAck = 7,     // put done: id = put id, status = mc_result_t of the target's check
};

struct FrameHeader {
  FrameType type = FrameType::kEager;
  uint16_t status = 0;  // kPutAck: an mc_result_t
  uint64_t length = 0;  // payload bytes (kCts: bytes the receiver takes; no payload follows)
  uint64_t tag = 0;     // kEager/kRts: the tag; kPut: the notify value
  uint64_t id = 0;
  uint64_t addr = 0;
  uint32_t key = 0;     // kPut: registration key id
};

// True for the frame types whose `length` bytes of payload follow the header.
bool FrameHasPayload(FrameType type);
const char* FrameTypeName(FrameType type);

void EncodeFrameHeader(const FrameHeader& header, uint8_t out[kFrameHeaderBytes]);

// Decodes and validates one header. `max_message` bounds the length of every
// frame type (kHello: MC_MAX_HELLO_BYTES). Errors are DataLoss with a message
// that says what was wrong ("bad magic 0x12345678").
absl::StatusOr<FrameHeader> DecodeFrameHeader(absl::Span<const uint8_t> bytes, uint64_t max_message);

}  // namespace mc::tcp

#endif  // MOONCOMM_SRC_TRANSPORTS_TCP_FRAME_H_
