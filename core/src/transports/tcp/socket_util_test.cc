#include "transports/tcp/socket_util.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "gtest/gtest.h"

namespace mc::tcp {
namespace {

int IntOption(int fd, int level, int name) {
  int value = -1;
  socklen_t len = sizeof(value);
  EXPECT_EQ(getsockopt(fd, level, name, &value, &len), 0);
  return value;
}

TEST(TcpSocketUtilTest, SocketsAreNonBlockingAndCloseOnExec) {
  absl::StatusOr<int> fd = OpenStreamSocket(AF_INET);
  ASSERT_TRUE(fd.ok()) << fd.status();
  EXPECT_NE(fcntl(*fd, F_GETFL) & O_NONBLOCK, 0);
  EXPECT_NE(fcntl(*fd, F_GETFD) & FD_CLOEXEC, 0);
  close(*fd);
}

TEST(TcpSocketUtilTest, ConnectionOptionsNoticeADeadPeer) {
  absl::StatusOr<int> fd = OpenStreamSocket(AF_INET);
  ASSERT_TRUE(fd.ok()) << fd.status();
  ASSERT_TRUE(SetConnectionOptions(*fd, 27000).ok());
  EXPECT_EQ(IntOption(*fd, IPPROTO_TCP, TCP_NODELAY), 1);
  EXPECT_EQ(IntOption(*fd, SOL_SOCKET, SO_KEEPALIVE), 1);
  EXPECT_EQ(IntOption(*fd, IPPROTO_TCP, TCP_USER_TIMEOUT), 27000);
  EXPECT_EQ(IntOption(*fd, IPPROTO_TCP, TCP_KEEPIDLE), 9);
  EXPECT_EQ(IntOption(*fd, IPPROTO_TCP, TCP_KEEPINTVL), 3);
  close(*fd);
}

TEST(TcpSocketUtilTest, DescribesTheUsualErrors) {
  EXPECT_EQ(DescribeSocketError(ECONNRESET), "connection reset by peer");
  EXPECT_NE(DescribeSocketError(0).find("closed by peer"), std::string::npos);
  EXPECT_NE(DescribeSocketError(EPIPE).find("broken pipe"), std::string::npos);
  EXPECT_NE(DescribeSocketError(ETIMEDOUT).find("timed out"), std::string::npos);
  EXPECT_NE(DescribeSocketError(ECONNREFUSED).find("refused"), std::string::npos);
}

}  // namespace
}  // namespace mc::tcp
