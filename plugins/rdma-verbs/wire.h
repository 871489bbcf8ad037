// Every byte layout the rdma plugin puts on a wire or hands the core:
//  - the listen address (opaque to the core, exchanged through the bootstrap);
//  - the frames of the side TCP socket: REQUEST (connector -> acceptor: its
//    queue pairs and the hello), REPLY (acceptor -> connector: its queue
//    pairs), READY (connector -> acceptor: our queue pairs are live), BYE
//    (either way on a local close: how many of the peer's messages we saw);
//  - the header of messages on queue pair 0 and the put descriptor;
//  - packed remote keys.
// Multi-byte fields of the address, the frames and the keys are written
// little-endian byte by byte; the data-path header is a little-endian struct.
#ifndef MOONCOMM_PLUGINS_RDMA_VERBS_WIRE_H_
#define MOONCOMM_PLUGINS_RDMA_VERBS_WIRE_H_

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "status.h"
#include "sysfs.h"

namespace mc::rdma {

static_assert(std::endian::native == std::endian::little, "the rdma plugin's data path assumes little-endian hosts");

// ---- listen address ----

struct ListenAddress {
  int family = 0;                // AF_INET or AF_INET6
  std::array<uint8_t, 16> ip{};  // IPv4 uses the first 4 bytes
  uint16_t port = 0;
  uint64_t listener_id = 0;  // a connection to a different listener on the same port is refused
};
constexpr size_t kListenAddressBytes = 32;

// False (nothing written) when capacity < kListenAddressBytes.
bool EncodeListenAddress(const ListenAddress& address, uint8_t* out, size_t capacity, size_t* used);
StatusOr<ListenAddress> DecodeListenAddress(const uint8_t* data, size_t len);

// ---- side-socket frames ----

enum class FrameType : uint8_t { kRequest = 1, kReply = 2, kReady = 3, kBye = 4 };
constexpr size_t kFrameHeaderBytes = 12;
constexpr size_t kMaxFrameBody = 1024;
constexpr int kMaxQps = 16;

struct FrameHeader {
  FrameType type = FrameType::kRequest;
  uint32_t body_len = 0;
};

std::string EncodeFrame(FrameType type, const std::string& body);
// `data` holds kFrameHeaderBytes. Bad magic, version, type or length: MC_ERR_PROTOCOL.
StatusOr<FrameHeader> DecodeFrameHeader(const uint8_t* data);

// What one side tells the other to connect its queue pairs (REQUEST, REPLY).
struct ConnInfo {
  uint64_t listener_id = 0;  // REQUEST: the listener the connector meant; REPLY: 0
  uint64_t hca_guid = 0;     // names the device in packed remote keys
  uint16_t lid = 0;
  uint8_t port = 0;
  uint8_t ethernet = 0;      // 1: RoCE (always routed by GID), 0: InfiniBand
  uint8_t mtu = 0;           // enum ibv_mtu of the port: 1 (256) .. 5 (4096)
  uint8_t rd_initiator = 0;  // RDMA READs this side can have outstanding per QP
  uint8_t rd_responder = 0;  // RDMA READs this side serves at once per QP
  Gid gid{};
  uint32_t recv_depth = 0;   // receive buffers posted on QP 0: the sender's credit window
  uint32_t eager_limit = 0;  // payload bytes one receive buffer holds
  uint64_t credit_addr = 0;  // where the peer RDMA-writes its count of reposted buffers
  uint32_t credit_rkey = 0;
  uint64_t ring_addr = 0;  // put descriptors, recv_depth slots of kPutDescriptorBytes
  uint32_t ring_rkey = 0;
  std::vector<uint32_t> qpn;  // one per queue pair, 1..kMaxQps
  std::vector<uint32_t> psn;  // initial packet sequence numbers (24 bits)
  std::string hello;          // REQUEST: the connector's hello, at most MC_MAX_HELLO_BYTES
};

std::string EncodeConnInfo(const ConnInfo& info);
StatusOr<ConnInfo> DecodeConnInfo(const uint8_t* data, size_t len);
std::string EncodeBye(uint64_t delivered);
StatusOr<uint64_t> DecodeBye(const uint8_t* data, size_t len);

// ---- data path ----

enum class MsgType : uint8_t {
  kEager = 1,  // tag, length, payload after the header
  kRts = 2,    // tag, length, id; addr + rkey: the sender's buffer to RDMA READ
  kFin = 3,    // id: the receiver is done reading; the send completes
};

// Starts every SEND on queue pair 0.
struct MsgHeader {
  uint8_t type;
  uint8_t flags;
  uint16_t reserved;
  uint32_t rkey;
  uint64_t tag;
  uint64_t length;
  uint64_t id;
  uint64_t addr;
  uint64_t credits;  // cumulative receive buffers the sender reposted (credits it returns)
};
static_assert(sizeof(MsgHeader) == 48);

// Written by RDMA WRITE WITH IMMEDIATE into the target's descriptor ring; the
// immediate is the slot. `seq` is the message's sequence number on QP 0.
struct PutDescriptor {
  uint64_t value;
  uint64_t addr;
  uint64_t bytes;
  uint64_t seq;
};
static_assert(sizeof(PutDescriptor) == 32);
constexpr size_t kPutDescriptorBytes = sizeof(PutDescriptor);

// ---- remote keys ----

struct RkeyEntry {
  uint64_t hca_guid = 0;
  uint32_t rkey = 0;
};
struct PackedKey {
  uint64_t addr = 0;
  uint64_t length = 0;
  std::vector<RkeyEntry> entries;  // one per device of the packing context, 1..kMaxKeyEntries
};
constexpr size_t kMaxKeyEntries = 16;
size_t PackedKeyBytes(size_t entries);
// False (nothing written) when capacity is too small.
bool EncodeRemoteKey(const PackedKey& key, uint8_t* out, size_t capacity, size_t* used);
// Garbage (bad magic, size, count or checksum): MC_ERR_INVALID_ARG.
StatusOr<PackedKey> DecodeRemoteKey(const uint8_t* data, size_t len);

}  // namespace mc::rdma

#endif  // MOONCOMM_PLUGINS_RDMA_VERBS_WIRE_H_
