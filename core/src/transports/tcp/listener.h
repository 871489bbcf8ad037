// A listening socket. New connections are accepted during progress and read
// until their HELLO frame is complete; only then does accept() hand them out.
#ifndef MOONCOMM_SRC_TRANSPORTS_TCP_LISTENER_H_
#define MOONCOMM_SRC_TRANSPORTS_TCP_LISTENER_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "mooncomm/plugin_abi.h"
#include "transports/tcp/pollable.h"

namespace mc::tcp {

class Endpoint;
class TcpContext;

class Listener : public Pollable {
 public:
  static constexpr uint32_t kMagic = 0x4e4c4354;  // "TCLN"

  Listener(TcpContext* ctx, int fd, std::string address);
  ~Listener() override;
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;

  bool valid() const { return magic_ == kMagic; }
  TcpContext* ctx() const { return ctx_; }

  // MC_AGAIN until a connection's HELLO has arrived; MC_ERR_NO_MEMORY (and the
  // connection stays queued) when `hello` cannot hold its hello bytes.
  mc_result_t Accept(Endpoint** ep, void* hello, size_t* hello_len);
  // Closes the socket and every connection not handed out yet.
  void Close();

  void OnEvents(uint32_t events) override;
  void OnHelloReceived(Endpoint* ep);
  void Forget(Endpoint* ep);

 private:
  uint32_t magic_ = kMagic;
  TcpContext* ctx_;
  int fd_;
  std::string address_;
  std::vector<Endpoint*> awaiting_hello_;
  std::deque<Endpoint*> ready_;
};

}  // namespace mc::tcp

#endif  // MOONCOMM_SRC_TRANSPORTS_TCP_LISTENER_H_
