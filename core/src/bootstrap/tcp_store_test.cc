// TcpStore in one process: the server thread and clients on other threads,
// over real loopback sockets.
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "bootstrap/socket_io.h"
#include "bootstrap/wire_format.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "mooncomm/bootstrap.h"

namespace mc {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr absl::Duration kTimeout = absl::Seconds(10);

std::unique_ptr<TcpStore> StartServer(const std::string& host = "127.0.0.1", int port = 0) {
  TcpStoreOptions options;
  options.host = host;
  options.port = port;
  options.is_server = true;
  options.timeout = kTimeout;
  absl::StatusOr<std::unique_ptr<TcpStore>> store = TcpStore::Create(options);
  EXPECT_TRUE(store.ok()) << store.status();
  return store.ok() ? *std::move(store) : nullptr;
}

absl::StatusOr<std::unique_ptr<TcpStore>> Connect(int port, absl::Duration timeout = kTimeout,
                                                  const std::string& host = "127.0.0.1") {
  TcpStoreOptions options;
  options.host = host;
  options.port = port;
  options.timeout = timeout;
  return TcpStore::Create(options);
}

std::unique_ptr<TcpStore> Client(int port) {
  absl::StatusOr<std::unique_ptr<TcpStore>> store = Connect(port);
  EXPECT_TRUE(store.ok()) << store.status();
  return store.ok() ? *std::move(store) : nullptr;
}

// A port that nothing listens on (bound, then released).
int UnusedPort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  absl::StatusOr<int> port = bootstrap::LocalPort(fd);
  close(fd);
  return port.ok() ? *port : 1;
}

// A raw socket to the store, for speaking garbage to it.
bootstrap::ScopedFd RawConnect(int port) {
  absl::StatusOr<std::vector<bootstrap::SocketAddress>> addresses = bootstrap::Resolve("127.0.0.1", port, false);
  EXPECT_TRUE(addresses.ok());
  absl::StatusOr<bootstrap::ScopedFd> fd =
      bootstrap::ConnectOnce(addresses->front(), absl::Now() + absl::Seconds(5), nullptr);
  EXPECT_TRUE(fd.ok()) << fd.status();
  return fd.ok() ? *std::move(fd) : bootstrap::ScopedFd();
}

// True when the other side closes `fd` within `limit` (anything it sends first is skipped).
bool ClosedWithin(int fd, absl::Duration limit) {
  absl::Time deadline = absl::Now() + limit;
  char buffer[256];
  while (absl::Now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 50) <= 0) continue;
    ssize_t n = recv(fd, buffer, sizeof(buffer), 0);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) return true;
  }
  return false;
}

std::string Hello(int64_t version = bootstrap::kProtocolVersion) {
  return bootstrap::EncodeFrame(bootstrap::Message{static_cast<uint8_t>(bootstrap::Op::kHello), version, {},
                                                   std::string(bootstrap::kHelloMagic)});
}

void SendRaw(int fd, std::string_view bytes) {
  ASSERT_TRUE(bootstrap::SendAll(fd, bytes, absl::Now() + absl::Seconds(5)).ok());
}

TEST(TcpStoreTest, SetGetBinarySafe) {
  auto server = StartServer();
  ASSERT_NE(server, nullptr);
  EXPECT_GT(server->port(), 0);
  EXPECT_EQ(server->host(), "127.0.0.1");
  auto client = Client(server->port());
  ASSERT_NE(client, nullptr);

  const std::string binary_key("k\0\xff", 3);
  const std::string binary_value("\0a\0b\0\n\xfe", 7);
  ASSERT_TRUE(client->Set(binary_key, binary_value).ok());
  ASSERT_TRUE(client->Set("empty", "").ok());
  absl::StatusOr<std::string> got = server->Get(binary_key, absl::ZeroDuration());
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, binary_value);
  EXPECT_EQ(got->size(), 7u);
  EXPECT_EQ(*client->Get("empty", kTimeout), "");
  ASSERT_TRUE(server->Set("empty", "now full").ok());
  EXPECT_EQ(*client->Get("empty", kTimeout), "now full");
}

TEST(TcpStoreTest, LargeValueRoundTrips) {
  auto server = StartServer();
  ASSERT_NE(server, nullptr);
  std::string big(8 << 20, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 131 + 7);
  ASSERT_TRUE(server->Set("big", big).ok());
  auto client = Client(server->port());
  ASSERT_NE(client, nullptr);
  absl::StatusOr<std::string> got = client->Get("big", kTimeout);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_TRUE(*got == big);
}

TEST(TcpStoreTest, GetBlocksUntilAnotherClientSets) {
  auto server = StartServer();
  ASSERT_NE(server, nullptr);
  auto client = Client(server->port());
  ASSERT_NE(client, nullptr);
  std::thread setter([&] {
    absl::SleepFor(absl::Milliseconds(150));
    EXPECT_TRUE(server->Set("late", "value").ok());
  });
  absl::Time start = absl::Now();
  absl::StatusOr<std::string> got = client->Get("late", kTimeout);
  setter.join();
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, "value");
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(100));
}

TEST(TcpStoreTest, GetWithoutDeadlineAndSetFromAnotherThreadOfTheSameStore) {
  auto server = StartServer();
  ASSERT_NE(server, nullptr);
  // One store object used by two threads: the blocked Get must not hold up the Set.
  std::thread setter([&] {
    absl::SleepFor(absl::Milliseconds(100));
    EXPECT_TRUE(server->Set("same-store", "ok").ok());
  });
  absl::StatusOr<std::string> got = server->Get("same-store", absl::InfiniteDuration());
  setter.join();
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, "ok");
}

TEST(TcpStoreTest, GetTimeoutNamesKeyAndStore) {
  auto server = StartServer();
  ASSERT_NE(server, nullptr);
  auto client = Client(server->port());
  ASSERT_NE(client, nullptr);
  absl::Time start = absl::Now();
  absl::StatusOr<std::string> got = client->Get("never/set", absl::Milliseconds(200));
  absl::Duration took = absl::Now() - start;
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_THAT(got.status().message(),
              AllOf(HasSubstr("'never/set'"), HasSubstr(absl::StrCat("127.0.0.1:", server->port()))));
  EXPECT_GE(took, absl::Milliseconds(190));
  EXPECT_LT(took, absl::Seconds(2));
  // The connection stays usable after a timeout.
  ASSERT_TRUE(client->Set("after", "1").ok());
  EXPECT_EQ(*client->Get("after", absl::ZeroDuration()), "1");
}

TEST(TcpStoreTest, ZeroTimeoutOnlyChecks) {
  auto server = StartServer();
  ASSERT_NE(server, nullptr);
  absl::StatusOr<std::string> got = server->Get("absent", absl::ZeroDuration());
  EXPECT_EQ(got.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(server->Wait({"absent"}, absl::ZeroDuration()).code(), absl::StatusCode::kDeadlineExceeded);
  ASSERT_TRUE(server->Set("present", "x").ok());
  EXPECT_TRUE(server->Wait({"present"}, absl::ZeroDuration()).ok());
  EXPECT_TRUE(server->Wait({}, absl::ZeroDuration()).ok());
}

TEST(TcpStoreTest, WaitReturnsOnceEveryKeyExists) {
  auto server = StartServer();
  ASSERT_NE(server, nullptr);
  auto client = Client(server->port());
  ASSERT_NE(client, nullptr);
  std::atomic<bool> both_set{false};
  std::thread setter([&] {
    absl::SleepFor(absl::Milliseconds(50));
    EXPECT_TRUE(server->Set("a", "1").ok());
    absl::SleepFor(absl::Milliseconds(100));
    both_set = true;
    EXPECT_TRUE(server->Set("b", "2").ok());
  });
  absl::Status waited = client->Wait({"a", "b"}, kTimeout);
  EXPECT_TRUE(both_set.load());
  setter.join();
  EXPECT_TRUE(waited.ok()) << waited;
}

TEST(TcpStoreTest, WaitTimeoutNamesOnlyTheMissingKeys) {
  auto server = StartServer();
  ASSERT_NE(server, nullptr);
  ASSERT_TRUE(server->Set("here", "1").ok());
  absl::Status waited = server->Wait({"here", "gone1", "gone2"}, absl::Milliseconds(150));
  EXPECT_EQ(waited.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_THAT(waited.message(), AllOf(HasSubstr("'gone1'"), HasSubstr("'gone2'"), HasSubstr("2 of 3 missing"),
                                      Not(HasSubstr("'here'")), HasSubstr(absl::StrCat(":", server->port()))));
}

TEST(TcpStoreTest, ManyParkedGetsReleasedBySet) {
  auto server = StartServer();
  ASSERT_NE(server, nullptr);
  constexpr int kThreads = 12;
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  auto client = Client(server->port());
  ASSERT_NE(client, nullptr);
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&] {
      absl::StatusOr<std::string> got = client->Get("go", kTimeout);
      if (got.ok() && *got == "now") ++ok;
    });
  }
  absl::SleepFor(absl::Milliseconds(100));
  ASSERT_TRUE(server->Set("go", "now").ok());
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(ok.load(), kThreads);
}

TEST(TcpStoreTest, AddSemantics) {
  auto server = StartServer();
  ASSERT_NE(server, nullptr);
  EXPECT_EQ(*server->Add("n", 5), 5);
  EXPECT_EQ(*server->Add("n", -2), 3);
  EXPECT_EQ(*server->Add("n", 0), 3);
  EXPECT_EQ(*server->Get("n", absl::ZeroDuration()), "3");
  ASSERT_TRUE(server->Set("word", "hello").ok());
  absl::StatusOr<int64_t> bad = server->Add("word", 1);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(bad.status().message(), AllOf(HasSubstr("'word'"), HasSubstr("not an integer")));
  // The error did not break the store.
  EXPECT_EQ(*server->Add("n", 1), 4);
}

TEST(TcpStoreTest, ConcurrentAddsFromManyClients) {
  auto server = StartServer();
  ASSERT_NE(server, nullptr);
  constexpr int kClients = 3, kThreadsPerClient = 3, kAddsPerThread = 40;
  std::vector<std::unique_ptr<TcpStore>> clients;
  for (int i = 0; i < kClients; ++i) clients.push_back(Client(server->port()));
  std::vector<std::thread> threads;
  for (auto& client : clients) {
    ASSERT_NE(client, nullptr);
    for (int t = 0; t < kThreadsPerClient; ++t) {
      threads.emplace_back([&client] {
        for (int i = 0; i < kAddsPerThread; ++i) EXPECT_TRUE(client->Add("counter", 1).ok());
      });
    }
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(*server->Add("counter", 0), kClients * kThreadsPerClient * kAddsPerThread);
}

TEST(TcpStoreTest, BadKeysAndValuesAreRejectedClientSide) {
  auto server = StartServer();
  ASSERT_NE(server, nullptr);
  EXPECT_EQ(server->Set("", "v").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(server->Get("", kTimeout).status().code(), absl::StatusCode::kInvalidArgument);
  std::string huge_key(bootstrap::kMaxKeyBytes + 1, 'k');
  absl::Status s = server->Set(huge_key, "v");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("over the limit"));
  EXPECT_EQ(server->Wait({"ok", ""}, kTimeout).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(server->Add("", 1).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(TcpStoreTest, BadOptions) {
  TcpStoreOptions options;
  options.port = 0;
  EXPECT_EQ(TcpStore::Create(options).status().code(), absl::StatusCode::kInvalidArgument);
  options.port = 70000;
  EXPECT_THAT(TcpStore::Create(options).status().message(), HasSubstr("70000"));
  options.port = 1234;
  options.timeout = absl::ZeroDuration();
  EXPECT_THAT(TcpStore::Create(options).status().message(), HasSubstr("timeout"));
  options.timeout = kTimeout;
  options.host = "";
  EXPECT_THAT(TcpStore::Create(options).status().message(), HasSubstr("host"));
}

TEST(TcpStoreTest, UnreachableStoreNamesAddressAndHints) {
  const int port = UnusedPort();
  absl::Time start = absl::Now();
  absl::StatusOr<std::unique_ptr<TcpStore>> store = Connect(port, absl::Milliseconds(300));
  absl::Duration took = absl::Now() - start;
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_THAT(store.status().message(),
              HasSubstr(absl::StrCat("could not reach the bootstrap store at 127.0.0.1:", port,
                                     " within 300 ms (is rank 0 running? MC_BOOTSTRAP / MASTER_ADDR)")));
  EXPECT_GE(took, absl::Milliseconds(290));
  EXPECT_LT(took, absl::Seconds(3));
}

TEST(TcpStoreTest, ClientStartedBeforeServerRetriesUntilItAnswers) {
  const int port = UnusedPort();
  absl::StatusOr<std::unique_ptr<TcpStore>> client = absl::UnknownError("not run");
  std::thread early([&] { client = Connect(port, kTimeout); });
  absl::SleepFor(absl::Milliseconds(300));
  auto server = StartServer("127.0.0.1", port);
  early.join();
  ASSERT_NE(server, nullptr);
  ASSERT_TRUE(client.ok()) << client.status();
  ASSERT_TRUE((*client)->Set("k", "v").ok());
  EXPECT_EQ(*server->Get("k", kTimeout), "v");
}

TEST(TcpStoreTest, UnresolvableHostNamesTheHost) {
  absl::StatusOr<std::unique_ptr<TcpStore>> store = Connect(1234, absl::Milliseconds(500), "no-such-host.invalid");
  ASSERT_FALSE(store.ok());
  EXPECT_THAT(store.status().message(), HasSubstr("no-such-host.invalid"));
}

TEST(TcpStoreTest, BindFailureNamesAddressAndErrno) {
  auto first = StartServer();
  ASSERT_NE(first, nullptr);
  TcpStoreOptions options;
  options.port = first->port();
  options.is_server = true;
  absl::StatusOr<std::unique_ptr<TcpStore>> second = TcpStore::Create(options);
  ASSERT_FALSE(second.ok());
  EXPECT_THAT(second.status().message(),
              AllOf(HasSubstr(absl::StrCat("127.0.0.1:", first->port())), HasSubstr("Address already in use")));
}

TEST(TcpStoreTest, IPv6Loopback) {
  bootstrap::ScopedFd probe(socket(AF_INET6, SOCK_STREAM, 0));
  sockaddr_in6 addr{};
  addr.sin6_family = AF_INET6;
  addr.sin6_addr = in6addr_loopback;
  if (!probe.valid() || bind(probe.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    GTEST_SKIP() << "no IPv6 loopback on this machine";
  }
  auto server = StartServer("::1");
  ASSERT_NE(server, nullptr);
  absl::StatusOr<std::unique_ptr<TcpStore>> client = Connect(server->port(), kTimeout, "::1");
  ASSERT_TRUE(client.ok()) << client.status();
  ASSERT_TRUE((*client)->Set("v6", "yes").ok());
  EXPECT_EQ(*server->Get("v6", kTimeout), "yes");
  absl::StatusOr<std::string> missing = (*client)->Get("nope", absl::Milliseconds(10));
  EXPECT_THAT(missing.status().message(), HasSubstr(absl::StrCat("[::1]:", server->port())));
}

TEST(TcpStoreTest, HostNamesResolve) {
  auto server = StartServer("localhost");
  ASSERT_NE(server, nullptr);
  absl::StatusOr<std::unique_ptr<TcpStore>> client = Connect(server->port(), kTimeout, "localhost");
  ASSERT_TRUE(client.ok()) << client.status();
  ASSERT_TRUE((*client)->Set("name", "resolved").ok());
  EXPECT_EQ(*server->Get("name", kTimeout), "resolved");
}

TEST(TcpStoreTest, WildcardServerReachedOverLoopback) {
  auto server = StartServer("0.0.0.0");
  ASSERT_NE(server, nullptr);
  ASSERT_TRUE(server->Set("any", "1").ok());
  auto client = Client(server->port());
  ASSERT_NE(client, nullptr);
  EXPECT_EQ(*client->Get("any", kTimeout), "1");
}

TEST(TcpStoreTest, ServerShutdownWakesBlockedClients) {
  auto server = StartServer();
  ASSERT_NE(server, nullptr);
  const int port = server->port();
  auto client = Client(port);
  ASSERT_NE(client, nullptr);
  absl::Status result = absl::UnknownError("not run");
  absl::Duration took;
  std::thread waiter([&] {
    absl::Time start = absl::Now();
    result = client->Get("never", absl::Seconds(30)).status();
    took = absl::Now() - start;
  });
  absl::SleepFor(absl::Milliseconds(200));
  server.reset();
  waiter.join();
  EXPECT_EQ(result.code(), absl::StatusCode::kUnavailable) << result;
  EXPECT_THAT(result.message(), HasSubstr(absl::StrCat("127.0.0.1:", port)));
  EXPECT_LT(took, absl::Seconds(5));
  // Later requests fail at once too.
  absl::Time start = absl::Now();
  absl::Status later = client->Set("k", "v");
  EXPECT_EQ(later.code(), absl::StatusCode::kUnavailable) << later;
  EXPECT_THAT(later.message(), HasSubstr(absl::StrCat("127.0.0.1:", port)));
  EXPECT_LT(absl::Now() - start, absl::Seconds(2));
}

TEST(TcpStoreTest, BarrierWithThreads) {
  auto server = StartServer();
  ASSERT_NE(server, nullptr);
  constexpr int kRanks = 4;
  std::vector<std::unique_ptr<TcpStore>> stores;
  for (int i = 1; i < kRanks; ++i) stores.push_back(Client(server->port()));
  std::atomic<int> arrived{0};
  std::atomic<int> left_early{0};
  std::vector<std::thread> threads;
  for (int r = 0; r < kRanks; ++r) {
    threads.emplace_back([&, r] {
      Store& store = r == 0 ? static_cast<Store&>(*server) : static_cast<Store&>(*stores[r - 1]);
      absl::SleepFor(absl::Milliseconds(40 * r));
      ++arrived;
      absl::Status s = StoreBarrier(store, "threads", kRanks, kTimeout);
      EXPECT_TRUE(s.ok()) << s;
      if (arrived.load() != kRanks) ++left_early;
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(left_early.load(), 0);
}

TEST(TcpStoreTest, BarrierTimeoutSaysHowManyArrived) {
  auto server = StartServer();
  ASSERT_NE(server, nullptr);
  absl::Status s = StoreBarrier(*server, "lonely", 3, absl::Milliseconds(200));
  EXPECT_EQ(s.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_THAT(s.message(), AllOf(HasSubstr("'lonely'"), HasSubstr("1 of 3 ranks arrived")));
}

TEST(TcpStoreTest, BarrierMisuse) {
  auto server = StartServer();
  ASSERT_NE(server, nullptr);
  EXPECT_TRUE(StoreBarrier(*server, "once", 1, kTimeout).ok());
  absl::Status again = StoreBarrier(*server, "once", 1, kTimeout);
  EXPECT_EQ(again.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(again.message(), HasSubstr("only once"));
  EXPECT_EQ(StoreBarrier(*server, "zero", 0, kTimeout).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(StoreBarrier(*server, "", 2, kTimeout).code(), absl::StatusCode::kInvalidArgument);
}

// Garbage on one connection closes that connection and nothing else.
class GarbageTest : public ::testing::TestWithParam<std::string> {};

TEST_P(GarbageTest, ClosesThatClientOnly) {
  auto server = StartServer();
  ASSERT_NE(server, nullptr);
  auto client = Client(server->port());
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(client->Set("before", "1").ok());

  bootstrap::ScopedFd raw = RawConnect(server->port());
  ASSERT_TRUE(raw.valid());
  SendRaw(raw.get(), GetParam());
  EXPECT_TRUE(ClosedWithin(raw.get(), absl::Seconds(5)));

  ASSERT_TRUE(client->Set("after", "2").ok());
  EXPECT_EQ(*client->Get("before", kTimeout), "1");
  EXPECT_EQ(*server->Get("after", kTimeout), "2");
}

std::string SetFrame() {
  return bootstrap::EncodeFrame(bootstrap::Message{static_cast<uint8_t>(bootstrap::Op::kSet), 0, {"k"}, "v"});
}

INSTANTIATE_TEST_SUITE_P(
    All, GarbageTest,
    ::testing::Values(std::string("\xff\xff\xff\xff garbage"),                   // absurd length
                      std::string("GET / HTTP/1.1\r\nHost: x\r\n\r\n"),          // another protocol
                      std::string("\0\0\0\0", 4),                                // empty frame
                      SetFrame(),                                                // no hello first
                      Hello() + std::string("\0\0\0\x05\x03zzzz", 9),            // truncated body
                      Hello() + std::string("\0\0\0\x0e\x09", 5) + std::string(13, '\0'),  // unknown op
                      Hello() + bootstrap::EncodeFrame(bootstrap::Message{         // reply kind as request
                                    static_cast<uint8_t>(bootstrap::Reply::kOk), 0, {}, ""}),
                      Hello() + bootstrap::EncodeFrame(bootstrap::Message{         // Set with no key
                                    static_cast<uint8_t>(bootstrap::Op::kSet), 0, {}, "v"})));

TEST(TcpStoreGarbageTest, ClientVanishingMidFrameOrWhileWaiting) {
  auto server = StartServer();
  ASSERT_NE(server, nullptr);
  {
    bootstrap::ScopedFd raw = RawConnect(server->port());
    std::string frame = SetFrame();
    SendRaw(raw.get(), Hello() + frame.substr(0, frame.size() / 2));
  }
  {
    bootstrap::ScopedFd raw = RawConnect(server->port());
    SendRaw(raw.get(), Hello() + bootstrap::EncodeFrame(bootstrap::Message{static_cast<uint8_t>(bootstrap::Op::kGet),
                                                                             -1, {"parked"}, ""}));
  }
  absl::SleepFor(absl::Milliseconds(100));
  ASSERT_TRUE(server->Set("parked", "x").ok());
  EXPECT_EQ(*server->Get("parked", kTimeout), "x");
}

TEST(TcpStoreGarbageTest, ProtocolVersionMismatchIsAnsweredWithAnError) {
  auto server = StartServer();
  ASSERT_NE(server, nullptr);
  bootstrap::ScopedFd raw = RawConnect(server->port());
  SendRaw(raw.get(), Hello(99));
  std::string body;
  ASSERT_TRUE(bootstrap::ReceiveFrame(raw.get(), absl::Now() + absl::Seconds(5), &body).ok());
  absl::StatusOr<bootstrap::Message> reply = bootstrap::DecodeBody(body);
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_EQ(reply->kind, static_cast<uint8_t>(bootstrap::Reply::kError));
  EXPECT_THAT(reply->value, AllOf(HasSubstr("protocol"), HasSubstr("99")));
  EXPECT_TRUE(ClosedWithin(raw.get(), absl::Seconds(5)));
}

TEST(TcpStoreGarbageTest, ServiceThatIsNotAStoreIsNamed) {
  absl::StatusOr<bootstrap::ScopedFd> listener = bootstrap::Listen("127.0.0.1", 0);
  ASSERT_TRUE(listener.ok()) << listener.status();
  const int port = *bootstrap::LocalPort(listener->get());
  std::thread impostor([&] {
    pollfd p{listener->get(), POLLIN, 0};
    if (poll(&p, 1, 5000) != 1) return;
    bootstrap::ScopedFd conn(accept(listener->get(), nullptr, nullptr));
    std::string answer = "HTTP/1.0 400 Bad Request\r\n\r\n";
    bootstrap::SendAll(conn.get(), answer, absl::Now() + absl::Seconds(5));
    ClosedWithin(conn.get(), absl::Seconds(5));
  });
  absl::StatusOr<std::unique_ptr<TcpStore>> store = Connect(port, absl::Seconds(5));
  impostor.join();
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(store.status().message(),
              AllOf(HasSubstr(absl::StrCat("127.0.0.1:", port)), HasSubstr("not a MoonComm bootstrap store")));
}

}  // namespace
}  // namespace mc
