// The efa plugin's own formats. None of them is libfabric's:
//   ListenAddress    what listen() hands the core: where the listener's
//                    control socket is, which listener, which provider.
//   handshake frames  REQUEST / ACCEPT / REJECT on the control socket: the
//                    fabric endpoint names both sides av_insert, the hello.
//   ControlMessage   untagged fabric messages between two connected
//                    endpoints: BYE (the peer closed) and PUT_INFO (what a
//                    put wrote, for the target's notification).
//   PackedRemoteKey  a registration's region and its key per device.
// Every decoder checks magic, version, lengths and a checksum, so random
// bytes are refused with a reason instead of being used.
#ifndef MOONCOMM_PLUGINS_EFA_WIRE_FORMAT_H_
#define MOONCOMM_PLUGINS_EFA_WIRE_FORMAT_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mc::efa {

inline constexpr uint8_t kWireVersion = 1;
// libfabric endpoint names we carry (efa: 32 bytes, tcp: 16 or 28, shm: ~20).
inline constexpr size_t kMaxFabricNameBytes = 256;

// ---- listen address ----

struct ListenAddress {
  uint8_t family = 0;   // 4 or 6
  uint8_t ip[16] = {};  // IPv4 in the first 4 bytes, network order
  uint16_t port = 0;    // host order
  uint32_t scope_id = 0;
  uint32_t device_index = 0;  // the listener's device in its process
  uint32_t provider_id = 0;   // ProviderId() of the listener's provider
  uint64_t listener_id = 0;   // names the listener; another one on a reused port refuses
};

inline constexpr size_t kListenAddressBytes = 48;

std::string EncodeListenAddress(const ListenAddress& address);
// False, with the reason in *why, unless `bytes` is an address we encoded.
bool DecodeListenAddress(const void* bytes, size_t len, ListenAddress* address, std::string* why);

// A short fingerprint of a provider name ("tcp;ofi_rxm", "efa").
uint32_t ProviderId(std::string_view provider_name);

// ---- handshake frames on the control socket ----

enum class FrameKind : uint8_t { kRequest = 1, kAccept = 2, kReject = 3 };

struct HandshakeRequest {
  uint64_t listener_id = 0;
  uint32_t device_index = 0;  // the connector's device
  std::string fabric_name;    // the connector's endpoint (fi_getname)
  std::string hello;
};

struct HandshakeAccept {
  uint32_t device_index = 0;  // the acceptor's device
  std::string fabric_name;    // the acceptor's endpoint for this connection
};

std::string EncodeRequest(const HandshakeRequest& request);
std::string EncodeAccept(const HandshakeAccept& accept);
std::string EncodeReject(std::string_view reason);

struct Frame {
  FrameKind kind = FrameKind::kRequest;
  std::string payload;
};

enum class ParseResult { kIncomplete, kFrame, kInvalid };
// Parses one frame from the front of `buffered`. kFrame sets *frame and
// *consumed; kInvalid explains in *why.
ParseResult ParseFrame(std::string_view buffered, Frame* frame, size_t* consumed, std::string* why);

bool DecodeRequest(const Frame& frame, HandshakeRequest* request, std::string* why);
bool DecodeAccept(const Frame& frame, HandshakeAccept* accept, std::string* why);
bool DecodeReject(const Frame& frame, std::string* reason, std::string* why);

// ---- control messages on the fabric ----

enum class ControlKind : uint8_t { kBye = 1, kPutInfo = 2 };

struct ControlMessage {
  ControlKind kind = ControlKind::kBye;
  uint64_t put_seq = 0;
  uint64_t notify = 0;
  uint64_t target_addr = 0;
  uint64_t bytes = 0;
};

inline constexpr size_t kControlMessageBytes = 40;
// Room in every control receive buffer: a longer message is truncated, and
// then refused as garbage.
inline constexpr size_t kControlBufferBytes = 64;

// Writes exactly kControlMessageBytes into `out`.
void EncodeControl(const ControlMessage& message, void* out);
bool DecodeControl(const void* bytes, size_t len, ControlMessage* message, std::string* why);

// ---- packed remote keys ----

struct RemoteKeyInfo {
  bool virt_addr = false;  // the provider addresses RMA by virtual address (else by offset)
  uint64_t base = 0;
  uint64_t length = 0;
  uint8_t key_bytes = 8;
  std::vector<std::pair<uint32_t, uint64_t>> keys;  // (device index, provider key)
};

// Bytes a key of `devices` devices with `key_bytes`-byte keys packs into.
size_t PackedRemoteKeyBytes(size_t devices, uint8_t key_bytes);
std::string EncodeRemoteKey(const RemoteKeyInfo& key);
bool DecodeRemoteKey(const void* bytes, size_t len, RemoteKeyInfo* key, std::string* why);

}  // namespace mc::efa

#endif  // MOONCOMM_PLUGINS_EFA_WIRE_FORMAT_H_
