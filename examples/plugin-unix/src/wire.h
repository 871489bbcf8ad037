// What travels between two unixdemo processes: the listen address that the
// core exchanges through its bootstrap, the packed remote key, and the frames
// on a connection. Both ends run on one host, so fields are in native byte
// order; a transport that crosses hosts would fix the order here.
#ifndef UNIXDEMO_WIRE_H_
#define UNIXDEMO_WIRE_H_

#include <cstdint>

#include "mooncomm/plugin_abi.h"

namespace unixdemo {

// ---- listen address (opaque to the core, at most MC_MAX_ADDR_BYTES) ----
// kAddrMagic, then the abstract socket name (no NUL). The magic lets
// connect() refuse bytes that were never a unixdemo address.
inline constexpr uint32_t kAddrMagic = 0x41445855;  // "UXDA"
inline constexpr size_t kMaxSocketName = 107;       // sun_path minus the leading NUL
static_assert(sizeof(kAddrMagic) + kMaxSocketName <= MC_MAX_ADDR_BYTES);

// ---- packed remote key (at most MC_MAX_RKEY_BYTES) ----
// The key names a registration in the target's context. It is a random
// 64-bit number, so a stale or forged key almost never names a live
// registration; the target also range-checks every put.
inline constexpr uint32_t kKeyMagic = 0x4b445855;  // "UXDK"
inline constexpr uint32_t kKeyVersion = 1;         // bump when PackedKey changes
struct PackedKey {
  uint32_t magic;
  uint32_t version;
  uint64_t key;
};
static_assert(sizeof(PackedKey) == 16 && sizeof(PackedKey) <= MC_MAX_RKEY_BYTES);

// ---- frames ----
// A connection carries a stream of frames: a fixed header, then `length`
// payload bytes.
//   HELLO    the connector's first frame; payload: its hello bytes.
//   MSG      a tagged message; payload: the message.
//   PUT      a one-sided write; payload: the data, which the target copies to
//            `addr` inside the registration named by `key`, and only then
//            queues the notification.
//   PUT_ACK  the target's verdict on a PUT, no payload. The target handles
//            PUTs in stream order, so acks arrive in the order puts were sent.
inline constexpr uint32_t kFrameMagic = 0x46445855;  // "UXDF": catches a stream out of step

enum FrameType : uint32_t {
  kFrameHello = 1,
  kFrameMsg = 2,
  kFramePut = 3,
  kFramePutAck = 4,
};

struct FrameHeader {
  uint32_t magic;
  uint32_t type;    // a FrameType
  uint64_t length;  // payload bytes that follow
  uint64_t tag;     // MSG: the tag. PUT: the notify value. PUT_ACK: an mc_result_t.
  uint64_t addr;    // PUT: target address, in the target process
  uint64_t key;     // PUT: the target registration's key
};
static_assert(sizeof(FrameHeader) == 40);

}  // namespace unixdemo

#endif  // UNIXDEMO_WIRE_H_
