#include "transports/tcp/sock_addr.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstring>
#include <vector>

#include "gtest/gtest.h"
#include "mooncomm/plugin_abi.h"

namespace mc::tcp {
namespace {

SockAddr V4(const char* ip, uint16_t port) {
  SockAddr a;
  auto* in4 = reinterpret_cast<sockaddr_in*>(&a.storage);
  in4->sin_family = AF_INET;
  in4->sin_port = htons(port);
  inet_pton(AF_INET, ip, &in4->sin_addr);
  a.len = sizeof(sockaddr_in);
  return a;
}

SockAddr V6(const char* ip, uint16_t port, uint32_t scope) {
  SockAddr a;
  auto* in6 = reinterpret_cast<sockaddr_in6*>(&a.storage);
  in6->sin6_family = AF_INET6;
  in6->sin6_port = htons(port);
  in6->sin6_scope_id = scope;
  inet_pton(AF_INET6, ip, &in6->sin6_addr);
  a.len = sizeof(sockaddr_in6);
  return a;
}

TEST(TcpSockAddrTest, Ipv4RoundTrip) {
  uint8_t buf[MC_MAX_ADDR_BYTES];
  absl::StatusOr<size_t> n = PackSockAddr(V4("192.0.2.7", 4711), absl::MakeSpan(buf));
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_LE(*n, size_t{MC_MAX_ADDR_BYTES});
  absl::StatusOr<SockAddr> back = UnpackSockAddr(absl::MakeConstSpan(buf, *n));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(FormatSockAddr(*back), "192.0.2.7:4711");
  EXPECT_EQ(back->len, sizeof(sockaddr_in));
}

TEST(TcpSockAddrTest, Ipv6RoundTripKeepsScope) {
  uint8_t buf[MC_MAX_ADDR_BYTES];
  absl::StatusOr<size_t> n = PackSockAddr(V6("fe80::1", 99, 3), absl::MakeSpan(buf));
  ASSERT_TRUE(n.ok()) << n.status();
  absl::StatusOr<SockAddr> back = UnpackSockAddr(absl::MakeConstSpan(buf, *n));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(FormatSockAddr(*back), "[fe80::1%3]:99");
}

TEST(TcpSockAddrTest, RejectsGarbageAndWrongSizes) {
  uint8_t buf[MC_MAX_ADDR_BYTES];
  absl::StatusOr<size_t> n = PackSockAddr(V4("127.0.0.1", 1), absl::MakeSpan(buf));
  ASSERT_TRUE(n.ok());
  EXPECT_FALSE(UnpackSockAddr(absl::MakeConstSpan(buf, *n - 1)).ok());
  EXPECT_FALSE(UnpackSockAddr(absl::MakeConstSpan(buf, *n + 1)).ok());
  buf[0] = 'X';
  EXPECT_FALSE(UnpackSockAddr(absl::MakeConstSpan(buf, *n)).ok());
  EXPECT_FALSE(UnpackSockAddr({}).ok());
  std::vector<uint8_t> zeros(24, 0);
  EXPECT_FALSE(UnpackSockAddr(zeros).ok());
}

TEST(TcpSockAddrTest, PackNeedsRoom) {
  uint8_t small[7];
  EXPECT_FALSE(PackSockAddr(V4("127.0.0.1", 1), absl::MakeSpan(small)).ok());
  SockAddr unix_family;
  unix_family.storage.ss_family = AF_UNIX;
  uint8_t buf[MC_MAX_ADDR_BYTES];
  EXPECT_FALSE(PackSockAddr(unix_family, absl::MakeSpan(buf)).ok());
}

}  // namespace
}  // namespace mc::tcp
