#include "bootstrap/store_connection.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "bootstrap/host_port.h"
#include "common/log.h"

namespace mc::bootstrap {
namespace {

// One connect attempt to an address that drops packets must not eat the
// whole timeout: other addresses of the host, and later retries, get a turn.
constexpr absl::Duration kMaxConnectAttempt = absl::Seconds(2);
constexpr absl::Duration kFirstBackoff = absl::Milliseconds(10);
constexpr absl::Duration kMaxBackoff = absl::Milliseconds(250);
// Time allowed for the greeting even when a connect succeeds at the very end.
constexpr absl::Duration kMinHelloTime = absl::Seconds(1);

Message Hello() { return Message{static_cast<uint8_t>(Op::kHello), kProtocolVersion, {}, std::string(kHelloMagic)}; }

// Tries each address of the endpoint once; the first connected socket wins.
absl::StatusOr<ScopedFd> ConnectAny(const StoreEndpoint& endpoint, absl::Time deadline) {
  absl::StatusOr<std::vector<SocketAddress>> addresses = Resolve(endpoint.connect_host, endpoint.port, false);
  if (!addresses.ok()) return addresses.status();
  absl::Status last = absl::UnavailableError("no address");
  for (const SocketAddress& address : *addresses) {
    absl::StatusOr<ScopedFd> fd = ConnectOnce(address, std::min(deadline, absl::Now() + kMaxConnectAttempt), nullptr);
    if (fd.ok()) return fd;
    last = fd.status();
  }
  return last;
}

}  // namespace

StoreEndpoint MakeStoreEndpoint(const std::string& host, int port) {
  StoreEndpoint endpoint;
  endpoint.host = host;
  endpoint.port = port;
  endpoint.text = FormatHostPort(host, port);
  // A server bound to a wildcard address is reached through loopback.
  endpoint.connect_host = host;
  if (host.empty() || host == "0.0.0.0") endpoint.connect_host = "127.0.0.1";
  if (host == "::") endpoint.connect_host = "::1";
  return endpoint;
}

absl::StatusOr<std::unique_ptr<StoreConnection>> StoreConnection::Open(const StoreEndpoint& endpoint,
                                                                       absl::Duration timeout, bool retry) {
  const absl::Time deadline = absl::Now() + timeout;
  absl::Duration backoff = kFirstBackoff;
  absl::Status last;
  int attempts = 0;
  while (true) {
    ++attempts;
    absl::StatusOr<ScopedFd> fd = ConnectAny(endpoint, deadline);
    if (fd.ok()) {
      std::unique_ptr<StoreConnection> connection(new StoreConnection(*std::move(fd), endpoint.text));
      absl::StatusOr<Message> reply = connection->Call(Hello(), std::max(deadline, absl::Now() + kMinHelloTime));
      if (reply.ok() && reply->kind == static_cast<uint8_t>(Reply::kOk)) {
        MC_LOG(DEBUG) << "connected to the bootstrap store at " << endpoint.text << " after " << attempts
                      << " attempt(s)";
        return connection;
      }
      if (reply.ok() && reply->kind == static_cast<uint8_t>(Reply::kError)) {
        return ErrorFromReply(*reply, endpoint.text);
      }
      if (reply.ok() || absl::IsDataLoss(reply.status())) {
        return absl::FailedPreconditionError(absl::StrCat(
            "the service at ", endpoint.text, " is not a MoonComm bootstrap store (it answered the greeting with ",
            reply.ok() ? "an unexpected reply" : reply.status().message(), ")"));
      }
      last = reply.status();
    } else {
      if (absl::IsInvalidArgument(fd.status())) {  // the host name does not resolve: retrying will not help
        return absl::InvalidArgumentError(
            absl::StrCat("bootstrap store address ", endpoint.text, ": ", fd.status().message()));
      }
      last = fd.status();
    }
    if (!retry) {
      return absl::UnavailableError(absl::StrCat("cannot connect to the bootstrap store at ", endpoint.text,
                                                 " (did rank 0 exit?): ", last.message()));
    }
    absl::Time now = absl::Now();
    if (now >= deadline) break;
    absl::SleepFor(std::min(backoff, deadline - now));
    backoff = std::min(backoff * 2, kMaxBackoff);
  }
  return absl::DeadlineExceededError(absl::StrCat(
      "could not reach the bootstrap store at ", endpoint.text, " within ", absl::ToInt64Milliseconds(timeout),
      " ms (is rank 0 running? MC_BOOTSTRAP / MASTER_ADDR); last error: ", last.message()));
}

absl::StatusOr<Message> StoreConnection::Call(const Message& request, absl::Time deadline) {
  if (!fd_.valid()) {
    return absl::FailedPreconditionError(
        absl::StrCat("connection to the bootstrap store at ", text_, " was closed after an earlier error"));
  }
  IoResult sent = SendAll(fd_.get(), EncodeFrame(request), deadline);
  std::string body;
  IoResult received = sent.ok() ? ReceiveFrame(fd_.get(), deadline, &body) : sent;
  absl::StatusOr<Message> reply = absl::UnknownError("unset");
  switch (received.failure) {
    case IoFailure::kNone:
      reply = DecodeBody(body);
      if (!reply.ok()) {
        reply = absl::DataLossError(absl::StrCat("the bootstrap store at ", text_,
                                                 " sent a malformed reply: ", reply.status().message()));
      } else if (reply->kind < static_cast<uint8_t>(Reply::kOk)) {
        reply = absl::DataLossError(absl::StrCat("the bootstrap store at ", text_, " sent a request, not a reply"));
      }
      break;
    case IoFailure::kClosed:
      reply = absl::UnavailableError(absl::StrCat("lost the connection to the bootstrap store at ", text_,
                                                  " (did rank 0 exit?): ", received.detail));
      break;
    case IoFailure::kDeadline:
      reply = absl::DeadlineExceededError(absl::StrCat("the bootstrap store at ", text_, " did not answer in time"));
      break;
    case IoFailure::kBadFrame:
      reply = absl::DataLossError(
          absl::StrCat("the bootstrap store at ", text_, " sent a malformed reply: ", received.detail));
      break;
  }
  // After a failure the stream may be mid-frame: never reuse it.
  if (!reply.ok()) fd_.reset();
  return reply;
}

absl::Status ErrorFromReply(const Message& reply, const std::string& store_text) {
  absl::StatusCode code = static_cast<absl::StatusCode>(reply.number);
  if (code == absl::StatusCode::kOk || reply.number < 0 || reply.number > 16) code = absl::StatusCode::kUnknown;
  return absl::Status(code, absl::StrCat(reply.value, " (bootstrap store at ", store_text, ")"));
}

}  // namespace mc::bootstrap
