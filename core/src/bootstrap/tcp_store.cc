// TcpStore: the client side every rank uses, plus the server rank 0 hosts.
//
// Requests from several threads run side by side over a small pool of
// connections: a thread blocked in Get never holds up another thread's Set
// (which might be the Set it waits for).
#include <algorithm>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "bootstrap/store_connection.h"
#include "bootstrap/store_server.h"
#include "bootstrap/wire_format.h"
#include "mooncomm/bootstrap.h"

namespace mc {

using bootstrap::Message;
using bootstrap::Op;
using bootstrap::Reply;

namespace {

// How long past a Get/Wait timeout a client still waits for the server's own
// timeout reply before it gives up on an unresponsive store.
constexpr absl::Duration kReplyGrace = absl::Seconds(2);
constexpr size_t kKeysShownInErrors = 8;

// Timeout in whole milliseconds for the wire: -1 for none, 0 to only check.
int64_t WireTimeoutMs(absl::Duration timeout) {
  if (timeout == absl::InfiniteDuration()) return -1;
  if (timeout <= absl::ZeroDuration()) return 0;
  return absl::ToInt64Milliseconds(absl::Ceil(timeout, absl::Milliseconds(1)));
}

std::string Quoted(const std::string& key) { return absl::StrCat("'", absl::CHexEscape(key), "'"); }

std::string DescribeKeys(const std::vector<std::string>& keys) {
  std::vector<std::string> shown;
  for (size_t i = 0; i < keys.size() && i < kKeysShownInErrors; ++i) shown.push_back(Quoted(keys[i]));
  std::string text = absl::StrJoin(shown, ", ");
  if (keys.size() > kKeysShownInErrors) absl::StrAppend(&text, " and ", keys.size() - kKeysShownInErrors, " more");
  return text;
}

absl::Status CheckKey(std::string_view key) {
  if (key.empty()) return absl::InvalidArgumentError("bootstrap store keys must not be empty");
  if (key.size() > bootstrap::kMaxKeyBytes) {
    return absl::InvalidArgumentError(absl::StrCat("bootstrap store key of ", key.size(),
                                                   " bytes is over the limit of ", bootstrap::kMaxKeyBytes));
  }
  return absl::OkStatus();
}

// When a client stops waiting for the server's answer to a Get/Wait.
absl::Time ReplyDeadline(absl::Duration timeout) {
  return absl::Now() + std::max(timeout, absl::ZeroDuration()) + kReplyGrace;
}

}  // namespace

class TcpStore::Impl {
 public:
  Impl(const TcpStoreOptions& options, bootstrap::StoreEndpoint endpoint,
       std::unique_ptr<bootstrap::StoreServer> server, std::unique_ptr<bootstrap::StoreConnection> first)
      : options_(options), endpoint_(std::move(endpoint)), server_(std::move(server)) {
    idle_.push_back(std::move(first));
  }

  ~Impl() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      idle_.clear();
    }
    server_.reset();  // joins the server thread; other ranks' clients see the close
  }

  int port() const { return endpoint_.port; }
  const std::string& host() const { return options_.host; }
  const std::string& text() const { return endpoint_.text; }
  absl::Duration request_timeout() const { return options_.timeout; }

  // Sends one request over an idle connection (or a new one) and returns the
  // reply; a kError reply becomes its status.
  absl::StatusOr<Message> Call(const Message& request, absl::Time deadline) {
    std::unique_ptr<bootstrap::StoreConnection> connection;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!idle_.empty()) {
        connection = std::move(idle_.back());
        idle_.pop_back();
      }
    }
    if (connection == nullptr) {
      // The store was reachable when this TcpStore was made: one quick
      // attempt, so a dead rank 0 is reported at once instead of retried.
      absl::StatusOr<std::unique_ptr<bootstrap::StoreConnection>> opened =
          bootstrap::StoreConnection::Open(endpoint_, options_.timeout, /*retry=*/false);
      if (!opened.ok()) return opened.status();
      connection = *std::move(opened);
    }
    absl::StatusOr<Message> reply = connection->Call(request, deadline);
    if (!reply.ok()) return reply.status();  // the connection is dropped
    {
      std::lock_guard<std::mutex> lock(mu_);
      idle_.push_back(std::move(connection));
    }
    if (reply->kind == static_cast<uint8_t>(Reply::kError)) return bootstrap::ErrorFromReply(*reply, endpoint_.text);
    return reply;
  }

  absl::Status Unexpected(const Message& reply) const {
    return absl::DataLossError(
        absl::StrCat("the bootstrap store at ", endpoint_.text, " sent an unexpected reply (kind ", reply.kind, ")"));
  }

 private:
  const TcpStoreOptions options_;
  const bootstrap::StoreEndpoint endpoint_;
  std::unique_ptr<bootstrap::StoreServer> server_;
  // std::mutex, not absl::Mutex: the system Abseil is not built with TSan
  // annotations, so ThreadSanitizer could not see absl::Mutex ordering.
  std::mutex mu_;
  std::vector<std::unique_ptr<bootstrap::StoreConnection>> idle_;  // guarded by mu_
};

absl::StatusOr<std::unique_ptr<TcpStore>> TcpStore::Create(const TcpStoreOptions& options) {
  if (options.host.empty()) return absl::InvalidArgumentError("TcpStoreOptions.host is empty");
  if (options.port < 0 || options.port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat("TcpStoreOptions.port=", options.port, " is outside 0-65535"));
  }
  if (!options.is_server && options.port == 0) {
    return absl::InvalidArgumentError("TcpStoreOptions.port=0 for a client: a client needs the store's port");
  }
  if (options.timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        absl::StrCat("TcpStoreOptions.timeout=", absl::FormatDuration(options.timeout), " must be positive"));
  }
  std::unique_ptr<bootstrap::StoreServer> server;
  int port = options.port;
  if (options.is_server) {
    absl::StatusOr<std::unique_ptr<bootstrap::StoreServer>> started =
        bootstrap::StoreServer::Start(options.listen_host.empty() ? options.host : options.listen_host, options.port);
    if (!started.ok()) return started.status();
    server = *std::move(started);
    port = server->port();
  }
  bootstrap::StoreEndpoint endpoint = bootstrap::MakeStoreEndpoint(options.host, port);
  absl::StatusOr<std::unique_ptr<bootstrap::StoreConnection>> first =
      bootstrap::StoreConnection::Open(endpoint, options.timeout, /*retry=*/true);
  if (!first.ok()) return first.status();
  auto impl = std::make_unique<Impl>(options, std::move(endpoint), std::move(server), *std::move(first));
  return std::unique_ptr<TcpStore>(new TcpStore(std::move(impl)));
}

TcpStore::TcpStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
TcpStore::~TcpStore() = default;

int TcpStore::port() const { return impl_->port(); }
const std::string& TcpStore::host() const { return impl_->host(); }

absl::Status TcpStore::Set(std::string_view key, std::string_view value) {
  if (absl::Status s = CheckKey(key); !s.ok()) return s;
  if (value.size() > bootstrap::kMaxValueBytes) {
    return absl::InvalidArgumentError(absl::StrCat("bootstrap store value of ", value.size(),
                                                   " bytes is over the limit of ", bootstrap::kMaxValueBytes));
  }
  Message request{static_cast<uint8_t>(Op::kSet), 0, {std::string(key)}, std::string(value)};
  absl::StatusOr<Message> reply = impl_->Call(request, absl::Now() + impl_->request_timeout());
  if (!reply.ok()) return reply.status();
  if (reply->kind != static_cast<uint8_t>(Reply::kOk)) return impl_->Unexpected(*reply);
  return absl::OkStatus();
}

absl::StatusOr<std::string> TcpStore::Get(std::string_view key, absl::Duration timeout) {
  if (absl::Status s = CheckKey(key); !s.ok()) return s;
  Message request{static_cast<uint8_t>(Op::kGet), WireTimeoutMs(timeout), {std::string(key)}, {}};
  absl::StatusOr<Message> reply = impl_->Call(request, ReplyDeadline(timeout));
  const std::string what = absl::StrCat(" waiting for key ", Quoted(request.keys[0]), " in the bootstrap store at ",
                                        impl_->text());
  if (!reply.ok()) {
    if (absl::IsDeadlineExceeded(reply.status())) {
      return absl::DeadlineExceededError(absl::StrCat("timed out after ", absl::FormatDuration(timeout), what,
                                                      " (the store itself did not answer)"));
    }
    return reply.status();
  }
  if (reply->kind == static_cast<uint8_t>(Reply::kTimeout)) {
    return absl::DeadlineExceededError(absl::StrCat("timed out after ", absl::FormatDuration(timeout), what));
  }
  if (reply->kind != static_cast<uint8_t>(Reply::kOk)) return impl_->Unexpected(*reply);
  return std::move(reply->value);
}

absl::Status TcpStore::Wait(absl::Span<const std::string> keys, absl::Duration timeout) {
  if (keys.empty()) return absl::OkStatus();
  if (keys.size() > bootstrap::kMaxWaitKeys) {
    return absl::InvalidArgumentError(absl::StrCat("Wait on ", keys.size(), " keys; at most ",
                                                   bootstrap::kMaxWaitKeys, " keys per call"));
  }
  size_t total = 0;
  for (const std::string& key : keys) {
    if (absl::Status s = CheckKey(key); !s.ok()) return s;
    total += key.size() + 4;
  }
  if (total > bootstrap::kMaxValueBytes) {
    return absl::InvalidArgumentError(absl::StrCat("Wait on keys totalling ", total, " bytes; the limit is ",
                                                   bootstrap::kMaxValueBytes));
  }
  Message request{static_cast<uint8_t>(Op::kWait), WireTimeoutMs(timeout), {keys.begin(), keys.end()}, {}};
  absl::StatusOr<Message> reply = impl_->Call(request, ReplyDeadline(timeout));
  if (!reply.ok()) {
    if (absl::IsDeadlineExceeded(reply.status())) {
      return absl::DeadlineExceededError(absl::StrCat("timed out after ", absl::FormatDuration(timeout),
                                                      " waiting for keys ", DescribeKeys(request.keys),
                                                      " in the bootstrap store at ", impl_->text(),
                                                      " (the store itself did not answer)"));
    }
    return reply.status();
  }
  if (reply->kind == static_cast<uint8_t>(Reply::kTimeout)) {
    return absl::DeadlineExceededError(absl::StrCat(
        "timed out after ", absl::FormatDuration(timeout), " waiting for key(s) in the bootstrap store at ",
        impl_->text(), "; ", reply->keys.size(), " of ", keys.size(), " missing: ", DescribeKeys(reply->keys)));
  }
  if (reply->kind != static_cast<uint8_t>(Reply::kOk)) return impl_->Unexpected(*reply);
  return absl::OkStatus();
}

absl::StatusOr<int64_t> TcpStore::Add(std::string_view key, int64_t delta) {
  if (absl::Status s = CheckKey(key); !s.ok()) return s;
  Message request{static_cast<uint8_t>(Op::kAdd), delta, {std::string(key)}, {}};
  absl::StatusOr<Message> reply = impl_->Call(request, absl::Now() + impl_->request_timeout());
  if (!reply.ok()) return reply.status();
  if (reply->kind != static_cast<uint8_t>(Reply::kOk)) return impl_->Unexpected(*reply);
  return reply->number;
}

}  // namespace mc
