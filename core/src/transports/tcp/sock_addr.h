// A socket address (IPv4 or IPv6) and its packed form: the opaque address the
// tcp transport hands the core from listen() and takes back in connect().
// Packed layout: 'T', family (4 or 6), port (2 bytes, network order), the
// address (4 or 16 bytes), and for IPv6 the scope id (4 bytes, little-endian).
#ifndef MOONCOMM_SRC_TRANSPORTS_TCP_SOCK_ADDR_H_
#define MOONCOMM_SRC_TRANSPORTS_TCP_SOCK_ADDR_H_

#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/types/span.h"

namespace mc::tcp {

struct SockAddr {
  sockaddr_storage storage{};
  socklen_t len = 0;

  int family() const { return storage.ss_family; }
  const sockaddr* get() const { return reinterpret_cast<const sockaddr*>(&storage); }
  sockaddr* get() { return reinterpret_cast<sockaddr*>(&storage); }
};

inline constexpr size_t kMaxPackedSockAddrBytes = 24;

// Writes the packed form into `out`; returns the bytes used, or InvalidArgument
// for a family other than AF_INET/AF_INET6 or a buffer that is too small.
absl::StatusOr<size_t> PackSockAddr(const SockAddr& addr, absl::Span<uint8_t> out);
absl::StatusOr<SockAddr> UnpackSockAddr(absl::Span<const uint8_t> packed);

// "192.0.2.1:4711" or "[fd00::2%3]:4711".
std::string FormatSockAddr(const SockAddr& addr);

// The same address with a different port.
SockAddr WithPort(const SockAddr& addr, uint16_t port);

}  // namespace mc::tcp

#endif  // MOONCOMM_SRC_TRANSPORTS_TCP_SOCK_ADDR_H_
