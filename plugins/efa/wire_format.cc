#include "wire_format.h"

#include <cstring>

#include "byte_codec.h"

namespace mc::efa {
namespace {

constexpr uint32_t kAddressMagic = 0x4145434d;  // "MCEA"
constexpr uint32_t kFrameMagic = 0x4845434d;    // "MCEH"
constexpr uint16_t kControlMagic = 0x434d;      // "MC"
constexpr uint32_t kKeyMagic = 0x4b45434d;      // "MCEK"
constexpr size_t kFrameHeaderBytes = 8;         // magic, version, kind, payload length
constexpr size_t kMaxFramePayload = 1024;
constexpr size_t kMaxHelloBytes = 64;
constexpr uint8_t kKeyFlagVirtAddr = 1;

bool Fail(std::string* why, const char* reason) {
  if (why != nullptr) *why = reason;
  return false;
}

std::string EncodeFrame(FrameKind kind, const std::string& payload) {
  ByteWriter w;
  w.U32(kFrameMagic);
  w.U8(kWireVersion);
  w.U8(static_cast<uint8_t>(kind));
  w.U16(static_cast<uint16_t>(payload.size()));
  w.Bytes(payload);
  w.Checksum();
  return w.Take();
}

bool ReadName(ByteReader& r, size_t max, std::string* out) {
  const uint16_t len = r.U16();
  if (!r.ok() || len > max || len > r.remaining()) return false;
  *out = r.Bytes(len);
  return r.ok();
}

}  // namespace

uint32_t ProviderId(std::string_view provider_name) { return Fnv1a32(provider_name.data(), provider_name.size()); }

std::string EncodeListenAddress(const ListenAddress& a) {
  ByteWriter w;
  w.U32(kAddressMagic);
  w.U8(kWireVersion);
  w.U8(a.family);
  w.U16(a.port);
  w.Bytes(a.ip, sizeof(a.ip));
  w.U32(a.scope_id);
  w.U32(a.device_index);
  w.U32(a.provider_id);
  w.U64(a.listener_id);
  w.Checksum();
  return w.Take();
}

bool DecodeListenAddress(const void* bytes, size_t len, ListenAddress* a, std::string* why) {
  if (len != kListenAddressBytes) return Fail(why, "an efa listen address is 48 bytes");
  ByteReader r(bytes, len);
  if (r.U32() != kAddressMagic) return Fail(why, "not an efa listen address (bad magic)");
  if (r.U8() != kWireVersion) return Fail(why, "efa listen address of another version");
  a->family = r.U8();
  a->port = r.U16();
  r.Bytes(a->ip, sizeof(a->ip));
  a->scope_id = r.U32();
  a->device_index = r.U32();
  a->provider_id = r.U32();
  a->listener_id = r.U64();
  if (!r.ChecksumMatches()) return Fail(why, "efa listen address with a bad checksum");
  if (a->family != 4 && a->family != 6) return Fail(why, "efa listen address with an unknown address family");
  if (a->port == 0) return Fail(why, "efa listen address with port 0");
  return true;
}

std::string EncodeRequest(const HandshakeRequest& request) {
  ByteWriter w;
  w.U64(request.listener_id);
  w.U32(request.device_index);
  w.U16(static_cast<uint16_t>(request.fabric_name.size()));
  w.Bytes(request.fabric_name);
  w.U16(static_cast<uint16_t>(request.hello.size()));
  w.Bytes(request.hello);
  return EncodeFrame(FrameKind::kRequest, w.Take());
}

std::string EncodeAccept(const HandshakeAccept& accept) {
  ByteWriter w;
  w.U32(accept.device_index);
  w.U16(static_cast<uint16_t>(accept.fabric_name.size()));
  w.Bytes(accept.fabric_name);
  return EncodeFrame(FrameKind::kAccept, w.Take());
}

std::string EncodeReject(std::string_view reason) {
  ByteWriter w;
  const std::string_view cut = reason.substr(0, 200);
  w.U16(static_cast<uint16_t>(cut.size()));
  w.Bytes(cut);
  return EncodeFrame(FrameKind::kReject, w.Take());
}

ParseResult ParseFrame(std::string_view buffered, Frame* frame, size_t* consumed, std::string* why) {
  if (buffered.size() < kFrameHeaderBytes) {
    // Refuse garbage as early as the magic shows it.
    const size_t have = buffered.size() < 4 ? buffered.size() : 4;
    uint8_t magic[4];
    for (int i = 0; i < 4; ++i) magic[i] = static_cast<uint8_t>((kFrameMagic >> (8 * i)) & 0xff);
    if (std::memcmp(buffered.data(), magic, have) != 0) {
      Fail(why, "the peer sent bytes that are not an efa handshake frame");
      return ParseResult::kInvalid;
    }
    return ParseResult::kIncomplete;
  }
  ByteReader header(buffered.data(), kFrameHeaderBytes);
  const uint32_t magic = header.U32();
  const uint8_t version = header.U8();
  const uint8_t kind = header.U8();
  const uint16_t payload_len = header.U16();
  if (magic != kFrameMagic) {
    Fail(why, "the peer sent bytes that are not an efa handshake frame");
    return ParseResult::kInvalid;
  }
  if (version != kWireVersion) {
    Fail(why, "the peer speaks another version of the efa handshake");
    return ParseResult::kInvalid;
  }
  if (kind < static_cast<uint8_t>(FrameKind::kRequest) || kind > static_cast<uint8_t>(FrameKind::kReject) ||
      payload_len > kMaxFramePayload) {
    Fail(why, "efa handshake frame of an unknown kind or length");
    return ParseResult::kInvalid;
  }
  const size_t total = kFrameHeaderBytes + payload_len + 4;
  if (buffered.size() < total) return ParseResult::kIncomplete;
  ByteReader r(buffered.data(), total);
  r.Bytes(kFrameHeaderBytes);
  std::string payload = r.Bytes(payload_len);
  if (!r.ChecksumMatches()) {
    Fail(why, "efa handshake frame with a bad checksum");
    return ParseResult::kInvalid;
  }
  frame->kind = static_cast<FrameKind>(kind);
  frame->payload = std::move(payload);
  *consumed = total;
  return ParseResult::kFrame;
}

bool DecodeRequest(const Frame& frame, HandshakeRequest* request, std::string* why) {
  if (frame.kind != FrameKind::kRequest) return Fail(why, "expected a handshake REQUEST");
  ByteReader r(frame.payload.data(), frame.payload.size());
  request->listener_id = r.U64();
  request->device_index = r.U32();
  if (!ReadName(r, kMaxFabricNameBytes, &request->fabric_name) || request->fabric_name.empty()) {
    return Fail(why, "handshake REQUEST with a bad endpoint name");
  }
  if (!ReadName(r, kMaxHelloBytes, &request->hello)) return Fail(why, "handshake REQUEST with a bad hello");
  if (r.remaining() != 0) return Fail(why, "handshake REQUEST with trailing bytes");
  return true;
}

bool DecodeAccept(const Frame& frame, HandshakeAccept* accept, std::string* why) {
  if (frame.kind != FrameKind::kAccept) return Fail(why, "expected a handshake ACCEPT");
  ByteReader r(frame.payload.data(), frame.payload.size());
  accept->device_index = r.U32();
  if (!ReadName(r, kMaxFabricNameBytes, &accept->fabric_name) || accept->fabric_name.empty()) {
    return Fail(why, "handshake ACCEPT with a bad endpoint name");
  }
  if (r.remaining() != 0) return Fail(why, "handshake ACCEPT with trailing bytes");
  return true;
}

bool DecodeReject(const Frame& frame, std::string* reason, std::string* why) {
  if (frame.kind != FrameKind::kReject) return Fail(why, "expected a handshake REJECT");
  ByteReader r(frame.payload.data(), frame.payload.size());
  if (!ReadName(r, 200, reason) || r.remaining() != 0) return Fail(why, "handshake REJECT with a bad reason");
  return true;
}

void EncodeControl(const ControlMessage& m, void* out) {
  auto* p = static_cast<uint8_t*>(out);
  auto put = [&p](uint64_t v, int bytes) {
    for (int i = 0; i < bytes; ++i) *p++ = static_cast<uint8_t>((v >> (8 * i)) & 0xff);
  };
  put(kControlMagic, 2);
  put(kWireVersion, 1);
  put(static_cast<uint8_t>(m.kind), 1);
  put(0, 4);
  put(m.put_seq, 8);
  put(m.notify, 8);
  put(m.target_addr, 8);
  put(m.bytes, 8);
}

bool DecodeControl(const void* bytes, size_t len, ControlMessage* m, std::string* why) {
  if (len != kControlMessageBytes) return Fail(why, "control message of the wrong length");
  ByteReader r(bytes, len);
  if (r.U16() != kControlMagic || r.U8() != kWireVersion) return Fail(why, "control message with a bad header");
  const uint8_t kind = r.U8();
  if (kind != static_cast<uint8_t>(ControlKind::kBye) && kind != static_cast<uint8_t>(ControlKind::kPutInfo)) {
    return Fail(why, "control message of an unknown kind");
  }
  m->kind = static_cast<ControlKind>(kind);
  r.U32();
  m->put_seq = r.U64();
  m->notify = r.U64();
  m->target_addr = r.U64();
  m->bytes = r.U64();
  return r.ok();
}

size_t PackedRemoteKeyBytes(size_t devices, uint8_t key_bytes) { return 28 + devices * (1 + key_bytes); }

std::string EncodeRemoteKey(const RemoteKeyInfo& key) {
  ByteWriter w;
  w.U32(kKeyMagic);
  w.U8(kWireVersion);
  w.U8(key.virt_addr ? kKeyFlagVirtAddr : 0);
  w.U8(static_cast<uint8_t>(key.keys.size()));
  w.U8(key.key_bytes);
  w.U64(key.base);
  w.U64(key.length);
  for (const auto& [device, value] : key.keys) {
    w.U8(static_cast<uint8_t>(device));
    for (int i = 0; i < key.key_bytes; ++i) w.U8(static_cast<uint8_t>((value >> (8 * i)) & 0xff));
  }
  w.Checksum();
  return w.Take();
}

bool DecodeRemoteKey(const void* bytes, size_t len, RemoteKeyInfo* key, std::string* why) {
  if (len < PackedRemoteKeyBytes(0, 0)) return Fail(why, "too short for an efa remote key");
  ByteReader r(bytes, len);
  if (r.U32() != kKeyMagic) return Fail(why, "not an efa remote key (bad magic)");
  if (r.U8() != kWireVersion) return Fail(why, "efa remote key of another version");
  const uint8_t flags = r.U8();
  const uint8_t count = r.U8();
  key->key_bytes = r.U8();
  if (key->key_bytes == 0 || key->key_bytes > 8) return Fail(why, "efa remote key with a bad key size");
  if (len != PackedRemoteKeyBytes(count, key->key_bytes)) return Fail(why, "efa remote key of the wrong length");
  key->virt_addr = (flags & kKeyFlagVirtAddr) != 0;
  key->base = r.U64();
  key->length = r.U64();
  key->keys.clear();
  for (uint8_t i = 0; i < count; ++i) {
    const uint32_t device = r.U8();
    uint64_t value = 0;
    for (int b = 0; b < key->key_bytes; ++b) value |= static_cast<uint64_t>(r.U8()) << (8 * b);
    key->keys.emplace_back(device, value);
  }
  if (!r.ChecksumMatches()) return Fail(why, "efa remote key with a bad checksum");
  if (key->length == 0 || key->base + key->length < key->base) return Fail(why, "efa remote key with a bad region");
  return true;
}

}  // namespace mc::efa
