// One client connection to the bootstrap store: connect (with retries while
// rank 0 is still starting), greet, then one request and its reply at a time.
#ifndef MOONCOMM_SRC_BOOTSTRAP_STORE_CONNECTION_H_
#define MOONCOMM_SRC_BOOTSTRAP_STORE_CONNECTION_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "bootstrap/socket_io.h"
#include "bootstrap/wire_format.h"

namespace mc::bootstrap {

// Where the store is.
struct StoreEndpoint {
  std::string host;          // as configured, for messages
  std::string connect_host;  // what to connect to (a wildcard bind address becomes loopback)
  int port = 0;
  std::string text;          // "host:port" for messages
};

StoreEndpoint MakeStoreEndpoint(const std::string& host, int port);

class StoreConnection {
 public:
  // Connects and greets the store. With `retry`, a refused or unreachable
  // store is tried again with a short backoff until `timeout` has passed, then
  // DeadlineExceeded naming the address; without, the first failure is
  // Unavailable. A peer that answers the greeting with anything but a store's
  // reply is FailedPrecondition.
  static absl::StatusOr<std::unique_ptr<StoreConnection>> Open(const StoreEndpoint& endpoint,
                                                               absl::Duration timeout, bool retry);

  // Sends `request` and returns the reply of any Reply kind. Transport
  // failures: Unavailable (connection lost), DeadlineExceeded (no reply by
  // `deadline`), DataLoss (malformed reply). After one of those the
  // connection must not be used again.
  absl::StatusOr<Message> Call(const Message& request, absl::Time deadline);

 private:
  StoreConnection(ScopedFd fd, std::string text) : fd_(std::move(fd)), text_(std::move(text)) {}

  ScopedFd fd_;
  std::string text_;
};

// The status a kError reply carries, with the store's address added.
absl::Status ErrorFromReply(const Message& reply, const std::string& store_text);

}  // namespace mc::bootstrap

#endif  // MOONCOMM_SRC_BOOTSTRAP_STORE_CONNECTION_H_
