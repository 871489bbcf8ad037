#include "handshake.h"

#include <cstring>

#include "mooncomm/plugin_abi.h"
#include "tag_layout.h"

namespace mc::ucx {
namespace {

constexpr uint32_t kHelloMagic = 0x4d435548;  // "MCUH"
constexpr uint32_t kReplyMagic = 0x4d435552;  // "MCUR"
constexpr uint16_t kVersion = 1;
constexpr size_t kHelloHeaderBytes = 24;
constexpr size_t kReplyHeaderBytes = 16;

template <typename T>
void Put(std::string* out, T value) {
  out->append(reinterpret_cast<const char*>(&value), sizeof(value));
}

template <typename T>
T Get(const std::string& in, size_t offset) {
  T value;
  std::memcpy(&value, in.data() + offset, sizeof(value));
  return value;
}

bool CheckHeader(const std::string& bytes, uint32_t magic, const char* frame, std::string* why) {
  if (Get<uint32_t>(bytes, 0) != magic) {
    *why = std::string("the side connection did not start with a ucx ") + frame + " frame";
    return false;
  }
  const uint16_t version = Get<uint16_t>(bytes, 4);
  if (version != kVersion) {
    *why = std::string("the peer speaks handshake version ") + std::to_string(version) + ", this plugin " +
           std::to_string(kVersion);
    return false;
  }
  return true;
}

bool CheckEndpointId(uint32_t id, std::string* why) {
  if (id == 0 || id > kMaxEndpointId) {
    *why = "the peer's endpoint id " + std::to_string(id) + " is out of range";
    return false;
  }
  return true;
}

bool CheckWorkerAddressLength(uint32_t len, std::string* why) {
  if (len == 0 || len > kMaxWorkerAddressBytes) {
    *why = "the peer's UCP worker address is " + std::to_string(len) + " bytes";
    return false;
  }
  return true;
}

}  // namespace

std::string EncodeHello(const HelloFrame& frame) {
  std::string out;
  Put<uint32_t>(&out, kHelloMagic);
  Put<uint16_t>(&out, kVersion);
  Put<uint16_t>(&out, static_cast<uint16_t>(frame.hello.size()));
  Put<uint64_t>(&out, frame.listener_nonce);
  Put<uint32_t>(&out, frame.endpoint_id);
  Put<uint32_t>(&out, static_cast<uint32_t>(frame.worker_address.size()));
  out += frame.hello;
  out += frame.worker_address;
  return out;
}

std::string EncodeReply(const ReplyFrame& frame) {
  std::string out;
  Put<uint32_t>(&out, kReplyMagic);
  Put<uint16_t>(&out, kVersion);
  Put<uint16_t>(&out, 0);
  Put<uint32_t>(&out, frame.endpoint_id);
  Put<uint32_t>(&out, static_cast<uint32_t>(frame.worker_address.size()));
  out += frame.worker_address;
  return out;
}

ParseResult ParseHello(const std::string& bytes, HelloFrame* frame, size_t* consumed, std::string* why) {
  // The magic is checked as soon as it is there, so garbage fails early.
  if (bytes.size() >= 6 && !CheckHeader(bytes, kHelloMagic, "HELLO", why)) return ParseResult::kInvalid;
  if (bytes.size() < kHelloHeaderBytes) return ParseResult::kIncomplete;
  const uint16_t hello_len = Get<uint16_t>(bytes, 6);
  const uint32_t endpoint_id = Get<uint32_t>(bytes, 16);
  const uint32_t address_len = Get<uint32_t>(bytes, 20);
  if (hello_len > MC_MAX_HELLO_BYTES) {
    *why = "the peer's hello is " + std::to_string(hello_len) + " bytes (at most " +
           std::to_string(MC_MAX_HELLO_BYTES) + ")";
    return ParseResult::kInvalid;
  }
  if (!CheckEndpointId(endpoint_id, why) || !CheckWorkerAddressLength(address_len, why)) return ParseResult::kInvalid;
  const size_t total = kHelloHeaderBytes + hello_len + address_len;
  if (bytes.size() < total) return ParseResult::kIncomplete;
  frame->listener_nonce = Get<uint64_t>(bytes, 8);
  frame->endpoint_id = endpoint_id;
  frame->hello.assign(bytes, kHelloHeaderBytes, hello_len);
  frame->worker_address.assign(bytes, kHelloHeaderBytes + hello_len, address_len);
  *consumed = total;
  return ParseResult::kComplete;
}

ParseResult ParseReply(const std::string& bytes, ReplyFrame* frame, size_t* consumed, std::string* why) {
  if (bytes.size() >= 6 && !CheckHeader(bytes, kReplyMagic, "REPLY", why)) return ParseResult::kInvalid;
  if (bytes.size() < kReplyHeaderBytes) return ParseResult::kIncomplete;
  const uint32_t endpoint_id = Get<uint32_t>(bytes, 8);
  const uint32_t address_len = Get<uint32_t>(bytes, 12);
  if (!CheckEndpointId(endpoint_id, why) || !CheckWorkerAddressLength(address_len, why)) return ParseResult::kInvalid;
  const size_t total = kReplyHeaderBytes + address_len;
  if (bytes.size() < total) return ParseResult::kIncomplete;
  frame->endpoint_id = endpoint_id;
  frame->worker_address.assign(bytes, kReplyHeaderBytes, address_len);
  *consumed = total;
  return ParseResult::kComplete;
}

}  // namespace mc::ucx
