#include "bootstrap/store_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <algorithm>
#include <climits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "bootstrap/host_port.h"
#include "common/log.h"

namespace mc::bootstrap {
namespace {

constexpr uint64_t kListenTag = 0;
constexpr uint64_t kWakeTag = 1;
constexpr size_t kReadChunk = 64 << 10;
constexpr size_t kKeptBufferBytes = 1 << 20;
constexpr absl::Duration kAcceptPause = absl::Milliseconds(100);
// A client may have this much unhandled input (one whole frame plus change);
// beyond it the client is not following the protocol.
constexpr size_t kMaxBufferedInput = kMaxFrameBytes + kFrameHeaderBytes + kReadChunk;

std::string PeerName(int fd) {
  sockaddr_storage storage{};
  socklen_t length = sizeof(storage);
  if (getpeername(fd, reinterpret_cast<sockaddr*>(&storage), &length) != 0) return "unknown peer";
  char text[INET6_ADDRSTRLEN] = {};
  if (storage.ss_family == AF_INET6) {
    const auto* a = reinterpret_cast<const sockaddr_in6*>(&storage);
    inet_ntop(AF_INET6, &a->sin6_addr, text, sizeof(text));
    return FormatHostPort(text, ntohs(a->sin6_port));
  }
  const auto* a = reinterpret_cast<const sockaddr_in*>(&storage);
  inet_ntop(AF_INET, &a->sin_addr, text, sizeof(text));
  return FormatHostPort(text, ntohs(a->sin_port));
}

int EpollTimeoutMs(absl::Time deadline) {
  if (deadline == absl::InfiniteFuture()) return -1;
  absl::Duration left = deadline - absl::Now();
  if (left <= absl::ZeroDuration()) return 0;
  int64_t ms = absl::ToInt64Milliseconds(absl::Ceil(left, absl::Milliseconds(1)));
  return ms > INT_MAX ? INT_MAX : static_cast<int>(ms);
}

absl::Time DeadlineAfterMs(int64_t ms) {
  return ms < 0 ? absl::InfiniteFuture() : absl::Now() + absl::Milliseconds(ms);
}

Message OkReply() { return Message{static_cast<uint8_t>(Reply::kOk), 0, {}, {}}; }

Message ErrorReply(const absl::Status& status) {
  return Message{static_cast<uint8_t>(Reply::kError), static_cast<int64_t>(status.code()), {},
                 std::string(status.message())};
}

Message TimeoutReply(std::vector<std::string> missing) {
  return Message{static_cast<uint8_t>(Reply::kTimeout), 0, std::move(missing), {}};
}

}  // namespace

absl::StatusOr<std::unique_ptr<StoreServer>> StoreServer::Start(const std::string& host, int port) {
  absl::StatusOr<ScopedFd> listen_fd = Listen(host, port);
  if (!listen_fd.ok()) return listen_fd.status();
  absl::StatusOr<int> bound_port = LocalPort(listen_fd->get());
  if (!bound_port.ok()) return bound_port.status();
  ScopedFd epoll_fd(epoll_create1(EPOLL_CLOEXEC));
  if (!epoll_fd.valid()) return absl::InternalError(absl::StrCat("epoll_create1: ", ErrnoText(errno)));
  ScopedFd wake_fd(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
  if (!wake_fd.valid()) return absl::InternalError(absl::StrCat("eventfd: ", ErrnoText(errno)));
  epoll_event listen_event{};
  listen_event.events = EPOLLIN;
  listen_event.data.u64 = kListenTag;
  epoll_event wake_event{};
  wake_event.events = EPOLLIN;
  wake_event.data.u64 = kWakeTag;
  if (epoll_ctl(epoll_fd.get(), EPOLL_CTL_ADD, listen_fd->get(), &listen_event) != 0 ||
      epoll_ctl(epoll_fd.get(), EPOLL_CTL_ADD, wake_fd.get(), &wake_event) != 0) {
    return absl::InternalError(absl::StrCat("epoll_ctl: ", ErrnoText(errno)));
  }
  std::string address = FormatHostPort(host, *bound_port);
  bool loopback = false;
  std::string bound = LocalAddressText(listen_fd->get(), &loopback);
  MC_LOG(INFO) << "bootstrap store listening on " << address << " (" << bound << ")";
  // Debian-style /etc/hosts maps the host's own name to 127.0.1.1: fine on
  // one host, unreachable from every other one.
  if (loopback && bound != host && host != "localhost") {
    MC_LOG(WARN) << "bootstrap store host '" << host << "' resolves to the loopback address " << bound
                 << ": ranks on other hosts cannot reach it; for a multi-host job set MC_BOOTSTRAP "
                 << "(or MASTER_ADDR) to an address of a network interface";
  }
  return std::unique_ptr<StoreServer>(new StoreServer(*std::move(listen_fd), std::move(epoll_fd),
                                                      std::move(wake_fd), *bound_port, std::move(address)));
}

StoreServer::StoreServer(ScopedFd listen_fd, ScopedFd epoll_fd, ScopedFd wake_fd, int port, std::string address)
    : listen_fd_(std::move(listen_fd)),
      epoll_fd_(std::move(epoll_fd)),
      wake_fd_(std::move(wake_fd)),
      port_(port),
      address_(std::move(address)) {
  read_buffer_.resize(kReadChunk);
  thread_ = std::thread([this] { Run(); });
}

StoreServer::~StoreServer() {
  stop_.store(true, std::memory_order_release);
  uint64_t one = 1;
  ssize_t written = write(wake_fd_.get(), &one, sizeof(one));
  (void)written;  // the eventfd counter cannot overflow from one write
  if (thread_.joinable()) thread_.join();
  MC_LOG(DEBUG) << "bootstrap store at " << address_ << " stopped";
}

void StoreServer::Run() {
  constexpr int kMaxEvents = 64;
  epoll_event events[kMaxEvents];
  while (!stop_.load(std::memory_order_acquire)) {
    int n = epoll_wait(epoll_fd_.get(), events, kMaxEvents,
                       EpollTimeoutMs(std::min(table_.NextDeadline(), accept_resume_at_)));
    if (n < 0) {
      if (errno == EINTR) continue;
      MC_LOG(ERROR) << "bootstrap store at " << address_ << ": epoll_wait failed: " << ErrnoText(errno);
      break;
    }
    for (int i = 0; i < n; ++i) {
      const uint64_t tag = events[i].data.u64;
      if (tag == kListenTag) {
        AcceptAll();
        continue;
      }
      if (tag == kWakeTag) continue;  // stop_ is checked by the loop
      Client* client = Find(tag);
      if (client == nullptr || client->dead) continue;
      if (events[i].events & EPOLLOUT) Flush(*client);
      if (!client->dead && (events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))) ReadFrom(*client);
    }
    if (accept_paused_ && absl::Now() >= accept_resume_at_) PauseAccepting(false);
    AnswerExpired();
    while (!runnable_.empty()) {
      ClientId id = runnable_.front();
      runnable_.pop_front();
      if (Client* client = Find(id); client != nullptr && !client->dead) HandleInput(*client);
    }
    CloseDoomed();
  }
  for (auto& entry : clients_) epoll_ctl(epoll_fd_.get(), EPOLL_CTL_DEL, entry.second->fd.get(), nullptr);
  clients_.clear();
}

void StoreServer::AcceptAll() {
  while (true) {
    int fd = accept4(listen_fd_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      const int error = errno;
      if (error == EINTR || error == ECONNABORTED) continue;
      if (error == EAGAIN || error == EWOULDBLOCK) return;
      MC_LOG(WARN) << "bootstrap store at " << address_ << ": accept failed: " << ErrnoText(error)
                   << "; trying again shortly";
      PauseAccepting(true);
      return;
    }
    auto client = std::make_unique<Client>();
    client->fd.reset(fd);
    ConfigureStreamSocket(fd);
    client->peer = PeerName(fd);
    client->id = next_client_id_++;
    epoll_event event{};
    event.events = EPOLLIN;
    event.data.u64 = client->id;
    if (epoll_ctl(epoll_fd_.get(), EPOLL_CTL_ADD, fd, &event) != 0) {
      MC_LOG(WARN) << "bootstrap store at " << address_ << ": epoll_ctl for " << client->peer
                   << " failed: " << ErrnoText(errno);
      continue;  // `client` closes the fd
    }
    MC_LOG(DEBUG) << "bootstrap store at " << address_ << ": client " << client->peer << " connected";
    const ClientId id = client->id;
    clients_.emplace(id, std::move(client));
  }
}

void StoreServer::ReadFrom(Client& client) {
  bool peer_closed = false;
  while (true) {
    ssize_t n = recv(client.fd.get(), read_buffer_.data(), read_buffer_.size(), 0);
    if (n > 0) {
      client.in.append(read_buffer_.data(), static_cast<size_t>(n));
      if (client.in.size() - client.in_consumed > kMaxBufferedInput) {
        Doom(client, "sent more data than one request may hold without waiting for replies", true);
        return;
      }
      continue;
    }
    if (n == 0) {
      peer_closed = true;
      break;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) break;
    Doom(client, ErrnoText(errno), false);
    return;
  }
  if (peer_closed) {
    // Requests that arrived before the close still count (a Set and then exit).
    if (!client.parked) HandleInput(client);
    if (!client.dead) Doom(client, "disconnected", false);
    return;
  }
  runnable_.push_back(client.id);
}

void StoreServer::HandleInput(Client& client) {
  // One request at a time per client: a parked request holds back the rest,
  // and so does a reply the client has not read yet.
  while (!client.dead && !client.parked && client.out_sent == client.out.size()) {
    std::string_view pending = std::string_view(client.in).substr(client.in_consumed);
    absl::StatusOr<std::optional<size_t>> frame_size = CompleteFrameSize(pending);
    if (!frame_size.ok()) {
      Doom(client, std::string(frame_size.status().message()), true);
      return;
    }
    if (!frame_size->has_value()) break;
    absl::StatusOr<Message> request = DecodeBody(pending.substr(kFrameHeaderBytes, **frame_size - kFrameHeaderBytes));
    client.in_consumed += **frame_size;
    absl::Status valid = request.ok() ? ValidateRequest(*request) : request.status();
    if (!valid.ok()) {
      Doom(client, std::string(valid.message()), true);
      return;
    }
    HandleRequest(client, *std::move(request));
  }
  if (client.in_consumed > 0 && client.in_consumed * 2 >= client.in.size()) {
    client.in.erase(0, client.in_consumed);
    client.in_consumed = 0;
    if (client.in.empty() && client.in.capacity() > kKeptBufferBytes) std::string().swap(client.in);
  }
}

void StoreServer::HandleRequest(Client& client, Message request) {
  const Op op = static_cast<Op>(request.kind);
  if (!client.greeted) {
    if (op != Op::kHello || request.value != kHelloMagic) {
      Doom(client, "first request is not a MoonComm store hello", true);
      return;
    }
    if (request.number != kProtocolVersion) {
      Send(client, ErrorReply(absl::FailedPreconditionError(
                       absl::StrCat("bootstrap store protocol mismatch: the store speaks version ", kProtocolVersion,
                                    ", this client version ", request.number, " (mixed MoonComm builds?)"))));
      Doom(client, "protocol version mismatch", true);
      return;
    }
    client.greeted = true;
    Send(client, OkReply());
    return;
  }
  switch (op) {
    case Op::kHello:
      Send(client, OkReply());
      return;
    case Op::kSet: {
      std::vector<StoreTable::Waiter> ready = table_.Set(request.keys[0], std::move(request.value));
      Send(client, OkReply());
      Answer(ready);
      return;
    }
    case Op::kGet:
      if (const std::string* value = table_.Find(request.keys[0]); value != nullptr) {
        Message reply = OkReply();
        reply.value = *value;
        Send(client, reply);
      } else {
        Park(client, request, /*get=*/true);
      }
      return;
    case Op::kWait:
      if (table_.Missing(request.keys).empty()) {
        Send(client, OkReply());
      } else {
        Park(client, request, /*get=*/false);
      }
      return;
    case Op::kAdd: {
      std::vector<StoreTable::Waiter> ready;
      absl::StatusOr<int64_t> sum = table_.Add(request.keys[0], request.number, &ready);
      if (!sum.ok()) {
        Send(client, ErrorReply(sum.status()));
        return;
      }
      Message reply = OkReply();
      reply.number = *sum;
      Send(client, reply);
      Answer(ready);
      return;
    }
  }
}

void StoreServer::Park(Client& client, const Message& request, bool get) {
  if (request.number == 0) {  // a zero timeout only checks
    Send(client, TimeoutReply(table_.Missing(request.keys)));
    return;
  }
  client.parked = true;
  table_.Park(StoreTable::Waiter{client.id, get, request.keys, DeadlineAfterMs(request.number)});
}

void StoreServer::Answer(const std::vector<StoreTable::Waiter>& waiters) {
  for (const StoreTable::Waiter& waiter : waiters) {
    Client* client = Find(waiter.client);
    if (client == nullptr || client->dead) continue;
    client->parked = false;
    Message reply = OkReply();
    if (waiter.get) {
      const std::string* value = table_.Find(waiter.keys[0]);
      if (value != nullptr) reply.value = *value;
    }
    Send(*client, reply);
    runnable_.push_back(waiter.client);
  }
}

void StoreServer::AnswerExpired() {
  for (StoreTable::Waiter& waiter : table_.TakeExpired(absl::Now())) {
    Client* client = Find(waiter.client);
    if (client == nullptr || client->dead) continue;
    client->parked = false;
    Send(*client, TimeoutReply(table_.Missing(waiter.keys)));
    runnable_.push_back(waiter.client);
  }
}

void StoreServer::Send(Client& client, const Message& reply) {
  if (client.out_sent == client.out.size()) {
    client.out.clear();
    client.out_sent = 0;
  }
  client.out += EncodeFrame(reply);
  Flush(client);
}

void StoreServer::Flush(Client& client) {
  while (client.out_sent < client.out.size()) {
    ssize_t n = send(client.fd.get(), client.out.data() + client.out_sent, client.out.size() - client.out_sent,
                     MSG_NOSIGNAL);
    if (n >= 0) {
      client.out_sent += static_cast<size_t>(n);
      continue;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      WatchOutput(client, true);
      return;
    }
    Doom(client, ErrnoText(errno), false);
    return;
  }
  client.out.clear();
  client.out_sent = 0;
  // A large value sent once should not stay allocated for every idle client.
  if (client.out.capacity() > kKeptBufferBytes) std::string().swap(client.out);
  if (client.watching_out) {
    WatchOutput(client, false);
    // Input held back behind this reply may go on now.
    runnable_.push_back(client.id);
  }
}

void StoreServer::WatchOutput(Client& client, bool watch) {
  if (client.watching_out == watch) return;
  epoll_event event{};
  event.events = watch ? (EPOLLIN | EPOLLOUT) : EPOLLIN;
  event.data.u64 = client.id;
  epoll_ctl(epoll_fd_.get(), EPOLL_CTL_MOD, client.fd.get(), &event);
  client.watching_out = watch;
}

void StoreServer::Doom(Client& client, const std::string& reason, bool garbage) {
  if (client.dead) return;
  client.dead = true;
  if (garbage) {
    MC_LOG(WARN) << "bootstrap store at " << address_ << ": closing client " << client.peer << ": " << reason;
  } else {
    MC_LOG(DEBUG) << "bootstrap store at " << address_ << ": client " << client.peer << " gone: " << reason;
  }
  doomed_.push_back(client.id);
}

void StoreServer::CloseDoomed() {
  for (ClientId id : doomed_) {
    auto it = clients_.find(id);
    if (it == clients_.end()) continue;
    epoll_ctl(epoll_fd_.get(), EPOLL_CTL_DEL, it->second->fd.get(), nullptr);
    table_.DropClient(id);
    clients_.erase(it);
  }
  if (!doomed_.empty()) PauseAccepting(false);
  doomed_.clear();
}

void StoreServer::PauseAccepting(bool pause) {
  accept_resume_at_ = pause ? absl::Now() + kAcceptPause : absl::InfiniteFuture();
  if (accept_paused_ == pause) return;
  epoll_event event{};
  event.events = pause ? 0u : static_cast<uint32_t>(EPOLLIN);
  event.data.u64 = kListenTag;
  epoll_ctl(epoll_fd_.get(), EPOLL_CTL_MOD, listen_fd_.get(), &event);
  accept_paused_ = pause;
}

StoreServer::Client* StoreServer::Find(ClientId id) {
  auto it = clients_.find(id);
  return it == clients_.end() ? nullptr : it->second.get();
}

}  // namespace mc::bootstrap
