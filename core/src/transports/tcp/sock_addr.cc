#include "transports/tcp/sock_addr.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstring>

#include "absl/strings/str_cat.h"

namespace mc::tcp {
namespace {

constexpr uint8_t kPackedMarker = 'T';
constexpr uint8_t kPackedV4 = 4;
constexpr uint8_t kPackedV6 = 6;
constexpr size_t kPackedV4Bytes = 4 + 4;
constexpr size_t kPackedV6Bytes = 4 + 16 + 4;

}  // namespace

absl::StatusOr<size_t> PackSockAddr(const SockAddr& addr, absl::Span<uint8_t> out) {
  if (addr.family() == AF_INET) {
    if (out.size() < kPackedV4Bytes) return absl::InvalidArgumentError("address buffer too small");
    const auto* in4 = reinterpret_cast<const sockaddr_in*>(&addr.storage);
    out[0] = kPackedMarker;
    out[1] = kPackedV4;
    std::memcpy(&out[2], &in4->sin_port, 2);
    std::memcpy(&out[4], &in4->sin_addr, 4);
    return kPackedV4Bytes;
  }
  if (addr.family() == AF_INET6) {
    if (out.size() < kPackedV6Bytes) return absl::InvalidArgumentError("address buffer too small");
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&addr.storage);
    out[0] = kPackedMarker;
    out[1] = kPackedV6;
    std::memcpy(&out[2], &in6->sin6_port, 2);
    std::memcpy(&out[4], &in6->sin6_addr, 16);
    for (int i = 0; i < 4; ++i) out[20 + i] = static_cast<uint8_t>(in6->sin6_scope_id >> (8 * i));
    return kPackedV6Bytes;
  }
  return absl::InvalidArgumentError(absl::StrCat("unsupported address family ", addr.family()));
}

absl::StatusOr<SockAddr> UnpackSockAddr(absl::Span<const uint8_t> packed) {
  SockAddr addr;
  if (packed.size() == kPackedV4Bytes && packed[0] == kPackedMarker && packed[1] == kPackedV4) {
    auto* in4 = reinterpret_cast<sockaddr_in*>(&addr.storage);
    in4->sin_family = AF_INET;
    std::memcpy(&in4->sin_port, &packed[2], 2);
    std::memcpy(&in4->sin_addr, &packed[4], 4);
    addr.len = sizeof(sockaddr_in);
    return addr;
  }
  if (packed.size() == kPackedV6Bytes && packed[0] == kPackedMarker && packed[1] == kPackedV6) {
    auto* in6 = reinterpret_cast<sockaddr_in6*>(&addr.storage);
    in6->sin6_family = AF_INET6;
    std::memcpy(&in6->sin6_port, &packed[2], 2);
    std::memcpy(&in6->sin6_addr, &packed[4], 16);
    uint32_t scope = 0;
    for (int i = 0; i < 4; ++i) scope |= static_cast<uint32_t>(packed[20 + i]) << (8 * i);
    in6->sin6_scope_id = scope;
    addr.len = sizeof(sockaddr_in6);
    return addr;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("not a tcp transport address (", packed.size(), " bytes; expected 8 for IPv4 or 24 for IPv6, "
                   "starting with 'T' and 4 or 6)"));
}

std::string FormatSockAddr(const SockAddr& addr) {
  char text[INET6_ADDRSTRLEN] = {};
  if (addr.family() == AF_INET) {
    const auto* in4 = reinterpret_cast<const sockaddr_in*>(&addr.storage);
    inet_ntop(AF_INET, &in4->sin_addr, text, sizeof(text));
    return absl::StrCat(text, ":", ntohs(in4->sin_port));
  }
  if (addr.family() == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&addr.storage);
    inet_ntop(AF_INET6, &in6->sin6_addr, text, sizeof(text));
    std::string scope = in6->sin6_scope_id != 0 ? absl::StrCat("%", in6->sin6_scope_id) : "";
    return absl::StrCat("[", text, scope, "]:", ntohs(in6->sin6_port));
  }
  return absl::StrCat("<address family ", addr.family(), ">");
}

SockAddr WithPort(const SockAddr& addr, uint16_t port) {
  SockAddr copy = addr;
  if (copy.family() == AF_INET) reinterpret_cast<sockaddr_in*>(&copy.storage)->sin_port = htons(port);
  if (copy.family() == AF_INET6) reinterpret_cast<sockaddr_in6*>(&copy.storage)->sin6_port = htons(port);
  return copy;
}

}  // namespace mc::tcp
