// A listening side-connection socket. Incoming connections become endpoints
// that run the acceptor's half of the handshake; accept() hands out the ones
// that finished it, oldest first.
#ifndef MOONCOMM_PLUGINS_UCX_LISTENER_H_
#define MOONCOMM_PLUGINS_UCX_LISTENER_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <vector>

#include "listen_address.h"
#include "mooncomm/plugin_abi.h"
#include "socket_watcher.h"

namespace mc::ucx {

class Endpoint;
class UcxContext;

class Listener : public SocketWatcher {
 public:
  static constexpr uint32_t kMagic = 0x4e4c4355;  // "UCLN"

  // Takes the listening socket `fd` bound at `address`.
  Listener(UcxContext* ctx, int fd, const ListenAddress& address);
  ~Listener() override;
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;

  bool valid() const { return magic_ == kMagic && fd_ >= 0; }
  const ListenAddress& address() const { return address_; }
  UcxContext* ctx() const { return ctx_; }

  void OnSocketEvents(uint32_t events) override;
  bool watching() const override { return fd_ >= 0; }

  // MC_AGAIN until a connection finished its handshake.
  mc_result_t Accept(Endpoint** ep, void* hello, size_t* hello_len);
  // An endpoint of ours finished the handshake / failed before it was accepted.
  void OnHandshakeDone(Endpoint* ep);
  void Forget(Endpoint* ep);
  // close_listener: connections never accepted are closed (their connectors
  // see the side connection close and fail).
  void Close();

 private:
  uint32_t magic_ = kMagic;
  UcxContext* ctx_;
  int fd_;
  ListenAddress address_;
  std::vector<Endpoint*> handshaking_;
  std::deque<Endpoint*> ready_;
};

}  // namespace mc::ucx

#endif  // MOONCOMM_PLUGINS_UCX_LISTENER_H_
