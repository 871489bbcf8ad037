// The opaque listen address the core exchanges through the bootstrap: where
// the listener's side connection (TCP) can be reached, and a nonce that the
// connector repeats in its handshake so that a stale address is noticed.
#ifndef MOONCOMM_PLUGINS_UCX_LISTEN_ADDRESS_H_
#define MOONCOMM_PLUGINS_UCX_LISTEN_ADDRESS_H_

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <string>

namespace mc::ucx {

struct ListenAddress {
  sockaddr_storage sockaddr{};  // AF_INET or AF_INET6, with the port
  uint64_t nonce = 0;
};

// Bytes on the wire: magic, version, family, port, 16 address bytes, nonce.
inline constexpr size_t kListenAddressBytes = 32;

// Writes kListenAddressBytes into `out` (which has room for them).
void EncodeListenAddress(const ListenAddress& address, uint8_t* out);
// False, with `why` set, for bytes that are not an address this plugin wrote.
bool DecodeListenAddress(const void* bytes, size_t len, ListenAddress* address, std::string* why);

// "10.0.0.1:4242" or "[fe80::1]:4242".
std::string FormatSockaddr(const sockaddr_storage& sockaddr);
socklen_t SockaddrLength(const sockaddr_storage& sockaddr);

}  // namespace mc::ucx

#endif  // MOONCOMM_PLUGINS_UCX_LISTEN_ADDRESS_H_
