// What shm peers exchange: the listen address, the handshake messages on the
// Unix socket, the records in the shared rings, and packed remote keys. Both
// ends run on one host, so structs travel in host byte order; every field a
// peer sends is checked before use.
#ifndef MOONCOMM_SRC_TRANSPORTS_SHM_WIRE_H_
#define MOONCOMM_SRC_TRANSPORTS_SHM_WIRE_H_

#include <cstdint>

#include "mooncomm/plugin_abi.h"

namespace mc::shm {

inline constexpr uint32_t kProtocolVersion = 1;

// The opaque listen address.
struct AddressWire {
  char magic[8];         // kAddressMagic
  uint8_t boot_id[16];   // the kernel's boot id; all zero when unknown
  char name[96];         // abstract socket name, NUL-terminated
};
inline constexpr char kAddressMagic[8] = {'M', 'C', 'S', 'H', 'M', 'A', '0', '1'};
static_assert(sizeof(AddressWire) <= MC_MAX_ADDR_BYTES);

// Connector -> acceptor, with the connector's ring memfd attached.
struct HelloMsg {
  uint64_t magic;  // kHelloMagic
  uint32_t version;
  uint32_t hello_bytes;
  uint64_t nonce;  // identifies the connector's context (checked in remote keys)
  uint8_t hello[MC_MAX_HELLO_BYTES];
};
inline constexpr uint64_t kHelloMagic = 0x4f4c4c45484d4843ull;  // "CHMHELLO"

// Acceptor -> connector, with the acceptor's ring memfd attached when accepted.
struct ReplyMsg {
  uint64_t magic;  // kReplyMagic
  uint32_t version;
  uint32_t status;  // kReplyAccepted or kReplyBadVersion
  uint64_t nonce;
};
inline constexpr uint64_t kReplyMagic = 0x594c504552484d43ull;  // "CMHREPLY"
inline constexpr uint32_t kReplyAccepted = 0;
inline constexpr uint32_t kReplyBadVersion = 1;

// Sent on the socket by a side that closes its endpoint, so the peer can tell
// a close from a crash.
inline constexpr uint8_t kByeByte = 0xb7;

// Record types in the rings (0 is the ring's padding).
enum RecordType : uint32_t {
  kRecordEager = 1,   // EagerHeader + payload: a whole message
  kRecordRts = 2,     // RtsHeader: a large message waits in the sender's memory
  kRecordCts = 3,     // CtsHeader: the receiver asks for the message through the ring
  kRecordData = 4,    // DataHeader + payload: one chunk of such a message
  kRecordFin = 5,     // FinHeader: the receiver is done with the sender's buffer
  kRecordPut = 6,     // PutHeader + payload: put data, and on the last record the notification
  kRecordPutAck = 7,  // PutAckHeader: the target placed (or refused) a put
};

struct EagerHeader {
  uint64_t tag;
};

struct RtsHeader {
  uint64_t tag;
  uint64_t bytes;
  uint64_t src_addr;  // in the sender's address space
  uint64_t send_id;
};

struct CtsHeader {
  uint64_t send_id;
  uint64_t recv_id;
  uint64_t bytes;  // how much the receiver wants (less than the message when truncating)
};

struct DataHeader {
  uint64_t recv_id;
  uint64_t offset;
};

struct FinHeader {
  uint64_t send_id;
  uint32_t status;  // mc_result_t for the sender
  uint32_t reserved;
};

inline constexpr uint32_t kPutLast = 1;  // the put's last record: deliver the notification

struct PutHeader {
  uint64_t put_id;
  uint64_t key_id;
  uint64_t addr;         // target address of the whole put
  uint64_t total_bytes;  // length of the whole put
  uint64_t offset;       // where this record's payload goes, from addr
  uint64_t notify;
  uint32_t flags;
  uint32_t reserved;
};

struct PutAckHeader {
  uint64_t put_id;
  uint32_t status;
  uint32_t reserved;
};

// A packed remote key.
struct RkeyWire {
  uint64_t magic;  // kRkeyMagic
  uint64_t nonce;  // the packing context's
  uint64_t key_id;
  uint64_t base;
  uint64_t length;
  int32_t pid;  // informational: the packing process
  uint32_t reserved;
};
inline constexpr uint64_t kRkeyMagic = 0x59454b524d485343ull;  // "CSHMRKEY"
static_assert(sizeof(RkeyWire) <= MC_MAX_RKEY_BYTES);

}  // namespace mc::shm

#endif  // MOONCOMM_SRC_TRANSPORTS_SHM_WIRE_H_
