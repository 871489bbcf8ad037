#include "listen_address.h"

#include <arpa/inet.h>

#include <cstring>

namespace mc::ucx {
namespace {

constexpr uint32_t kMagic = 0x4d435541;  // "MCUA"
constexpr uint8_t kVersion = 1;
constexpr uint8_t kFamily4 = 4;
constexpr uint8_t kFamily6 = 6;

}  // namespace

void EncodeListenAddress(const ListenAddress& address, uint8_t* out) {
  std::memset(out, 0, kListenAddressBytes);
  std::memcpy(out, &kMagic, 4);
  out[4] = kVersion;
  uint16_t port_be = 0;
  if (address.sockaddr.ss_family == AF_INET6) {
    const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(&address.sockaddr);
    out[5] = kFamily6;
    port_be = sin6->sin6_port;
    std::memcpy(out + 8, &sin6->sin6_addr, 16);
  } else {
    const auto* sin = reinterpret_cast<const sockaddr_in*>(&address.sockaddr);
    out[5] = kFamily4;
    port_be = sin->sin_port;
    std::memcpy(out + 8, &sin->sin_addr, 4);
  }
  std::memcpy(out + 6, &port_be, 2);
  std::memcpy(out + 24, &address.nonce, 8);
}

bool DecodeListenAddress(const void* bytes, size_t len, ListenAddress* address, std::string* why) {
  if (len != kListenAddressBytes) {
    *why = "a ucx listen address is " + std::to_string(kListenAddressBytes) + " bytes, this one " +
           std::to_string(len);
    return false;
  }
  const auto* in = static_cast<const uint8_t*>(bytes);
  uint32_t magic = 0;
  std::memcpy(&magic, in, 4);
  if (magic != kMagic || in[4] != kVersion) {
    *why = "the bytes are not a ucx listen address (bad magic or version)";
    return false;
  }
  uint16_t port_be = 0;
  std::memcpy(&port_be, in + 6, 2);
  if (port_be == 0) {
    *why = "the ucx listen address has port 0";
    return false;
  }
  *address = ListenAddress{};
  if (in[5] == kFamily4) {
    auto* sin = reinterpret_cast<sockaddr_in*>(&address->sockaddr);
    sin->sin_family = AF_INET;
    sin->sin_port = port_be;
    std::memcpy(&sin->sin_addr, in + 8, 4);
  } else if (in[5] == kFamily6) {
    auto* sin6 = reinterpret_cast<sockaddr_in6*>(&address->sockaddr);
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = port_be;
    std::memcpy(&sin6->sin6_addr, in + 8, 16);
  } else {
    *why = "the ucx listen address has an unknown address family " + std::to_string(in[5]);
    return false;
  }
  std::memcpy(&address->nonce, in + 24, 8);
  return true;
}

std::string FormatSockaddr(const sockaddr_storage& sockaddr) {
  char text[INET6_ADDRSTRLEN] = "?";
  if (sockaddr.ss_family == AF_INET6) {
    const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(&sockaddr);
    inet_ntop(AF_INET6, &sin6->sin6_addr, text, sizeof(text));
    return std::string("[") + text + "]:" + std::to_string(ntohs(sin6->sin6_port));
  }
  const auto* sin = reinterpret_cast<const sockaddr_in*>(&sockaddr);
  inet_ntop(AF_INET, &sin->sin_addr, text, sizeof(text));
  return std::string(text) + ":" + std::to_string(ntohs(sin->sin_port));
}

socklen_t SockaddrLength(const sockaddr_storage& sockaddr) {
  return sockaddr.ss_family == AF_INET6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in);
}

}  // namespace mc::ucx
