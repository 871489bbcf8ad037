#include "transports/shm/listener.h"

#include <cerrno>
#include <cstring>
#include <string>

#include "absl/strings/str_cat.h"
#include "transports/shm/context.h"
#include "transports/shm/unix_socket.h"

namespace mc::shm {
namespace {
constexpr size_t kMaxPending = 1024;
constexpr int kMaxAcceptsPerCall = 64;
}  // namespace

absl::StatusOr<std::unique_ptr<Listener>> Listener::Create(Context* ctx) {
  std::string name = ctx->NewListenerName();
  absl::StatusOr<UniqueFd> sock = ListenAbstract(name);
  if (!sock.ok()) return sock.status();
  std::unique_ptr<Listener> listener(new Listener(ctx, std::move(*sock)));
  std::memcpy(listener->address_.magic, kAddressMagic, sizeof(kAddressMagic));
  std::memcpy(listener->address_.boot_id, ctx->boot_id(), sizeof(listener->address_.boot_id));
  if (name.size() >= sizeof(listener->address_.name)) return absl::InternalError("shm socket name too long");
  std::memcpy(listener->address_.name, name.c_str(), name.size() + 1);
  return listener;
}

void Listener::AcceptNewConnections() {
  for (int i = 0; i < kMaxAcceptsPerCall && pending_.size() < kMaxPending; ++i) {
    int fd = AcceptConnection(sock_.get());
    if (fd < 0) return;
    pending_.push_back(Pending{UniqueFd(fd), nullptr, {}});
  }
}

bool Listener::ReadHello(Pending& pending) {
  HelloMsg hello{};
  size_t bytes = 0;
  UniqueFd ring_fd;
  int err = ReceiveMessage(pending.sock.get(), &hello, sizeof(hello), &bytes, &ring_fd);
  if (err == EAGAIN) return true;
  if (err != 0 || bytes == 0) {
    ctx_->Log(MC_LOG_DEBUG, absl::StrCat("shm: a connector went away before its hello: ",
                                         err != 0 ? std::strerror(err) : "end of file"));
    return false;
  }
  if (bytes < offsetof(HelloMsg, nonce) || hello.magic != kHelloMagic) {
    ctx_->Log(MC_LOG_WARN, "shm: dropped a connection whose hello is not an shm hello");
    return false;
  }
  if (hello.version != kProtocolVersion) {
    ReplyMsg reply{kReplyMagic, kProtocolVersion, kReplyBadVersion, 0};
    (void)SendMessage(pending.sock.get(), &reply, sizeof(reply), -1);
    ctx_->Log(MC_LOG_WARN, absl::StrCat("shm: dropped a connector speaking protocol version ", hello.version,
                                        "; this process speaks ", kProtocolVersion));
    return false;
  }
  if (bytes != sizeof(hello) || hello.hello_bytes > MC_MAX_HELLO_BYTES || !ring_fd.valid()) {
    ctx_->Log(MC_LOG_WARN, "shm: dropped a connection with a malformed hello");
    return false;
  }
  absl::StatusOr<std::unique_ptr<Endpoint>> ep =
      Endpoint::FromHello(ctx_, std::move(pending.sock), hello, std::move(ring_fd));
  if (!ep.ok()) {
    ctx_->Log(MC_LOG_WARN, absl::StrCat("shm: dropped a connection: ", ep.status().message()));
    return false;
  }
  pending.ep = std::move(*ep);
  pending.hello.assign(hello.hello, hello.hello + hello.hello_bytes);
  return true;
}

mc_result_t Listener::Accept(Endpoint** ep, void* hello, size_t* hello_len) {
  AcceptNewConnections();
  for (size_t i = 0; i < pending_.size();) {
    Pending& pending = pending_[i];
    if (pending.ep == nullptr) {
      if (!ReadHello(pending)) {
        pending_.erase(pending_.begin() + static_cast<ptrdiff_t>(i));
        continue;
      }
      if (pending.ep == nullptr) {
        ++i;
        continue;
      }
    }
    if (*hello_len < pending.hello.size()) return MC_ERR_NO_MEMORY;
    mc_result_t sent = pending.ep->SendReply();
    if (sent == MC_AGAIN) {
      ++i;
      continue;
    }
    if (sent != MC_SUCCESS) {
      pending_.erase(pending_.begin() + static_cast<ptrdiff_t>(i));
      continue;
    }
    if (!pending.hello.empty()) std::memcpy(hello, pending.hello.data(), pending.hello.size());
    *hello_len = pending.hello.size();
    *ep = ctx_->AddEndpoint(std::move(pending.ep));
    pending_.erase(pending_.begin() + static_cast<ptrdiff_t>(i));
    return MC_SUCCESS;
  }
  return MC_AGAIN;
}

}  // namespace mc::shm
