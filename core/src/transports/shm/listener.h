// A listening shm socket and the connections whose handshake is under way.
#ifndef MOONCOMM_SRC_TRANSPORTS_SHM_LISTENER_H_
#define MOONCOMM_SRC_TRANSPORTS_SHM_LISTENER_H_

#include <cstdint>
#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "mooncomm/plugin_abi.h"
#include "transports/shm/endpoint.h"
#include "transports/shm/unique_fd.h"
#include "transports/shm/wire.h"

namespace mc::shm {

class Context;

class Listener {
 public:
  static absl::StatusOr<std::unique_ptr<Listener>> Create(Context* ctx);

  const AddressWire& address() const { return address_; }
  Context* context() const { return ctx_; }

  // MC_AGAIN until some connector's handshake is complete; then the new
  // endpoint (owned by the context) and the connector's hello. A connection
  // with a bad hello is dropped (and logged), never returned.
  mc_result_t Accept(Endpoint** ep, void* hello, size_t* hello_len);

 private:
  struct Pending {
    UniqueFd sock;                  // until the hello arrived
    std::unique_ptr<Endpoint> ep;   // after
    std::vector<uint8_t> hello;
  };

  Listener(Context* ctx, UniqueFd sock) : ctx_(ctx), sock_(std::move(sock)) {}
  void AcceptNewConnections();
  // Reads the hello and builds the endpoint. False: drop the connection.
  bool ReadHello(Pending& pending);

  Context* ctx_;
  UniqueFd sock_;
  AddressWire address_{};
  std::vector<Pending> pending_;
};

}  // namespace mc::shm

#endif  // MOONCOMM_SRC_TRANSPORTS_SHM_LISTENER_H_
