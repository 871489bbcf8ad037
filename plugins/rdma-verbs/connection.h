// One connection as the core sees it (the ABI's endpoint handle): the side
// socket, the handshake over it, and the Endpoint that carries the data.
//
//   connector                                   acceptor
//   connect(): socket connecting, Endpoint
//   created (work posted now waits)
//   socket up: queue pairs in INIT, receives
//   posted --- REQUEST (QPs, buffers, hello) -->  queue pairs created, receives
//                                                 posted, linked (RTR, RTS);
//                                                 accept() may hand it out
//   linked (RTR, RTS), Endpoint started <-- REPLY (QPs, buffers) ---
//   --- READY ---------------------------------->  Endpoint started
//
// Afterwards the socket is the liveness channel: EOF or an error is the
// peer's death (the kernel closes a dead process's sockets at once); a local
// close sends BYE with the count of our messages the peer has, so it can
// take those before it fails the connection. Any failure closes our socket,
// so the peer learns of it too.
#ifndef MOONCOMM_PLUGINS_RDMA_VERBS_CONNECTION_H_
#define MOONCOMM_PLUGINS_RDMA_VERBS_CONNECTION_H_

#include <cstdint>
#include <memory>
#include <string>

#include "context.h"
#include "endpoint.h"
#include "side_channel.h"
#include "sockets.h"
#include "verbs.h"
#include "wire.h"

namespace mc::rdma {

class Listener;

class Connection : public Watched, public EndpointHost {
 public:
  static constexpr uint32_t kMagic = 0x50454452;  // "RDEP"

  // Connector: starts connecting to `to` and returns at once.
  static StatusOr<std::unique_ptr<Connection>> Connect(RdmaContext* ctx, int dev, const ListenAddress& to,
                                                       std::string hello);
  // Acceptor: a socket `listener` accepted; waits for the REQUEST.
  Connection(RdmaContext* ctx, int dev, std::unique_ptr<SideChannel> channel, Listener* listener, uint64_t listener_id,
             std::string peer);
  ~Connection() override;

  bool valid() const { return magic_ == kMagic; }
  RdmaContext* ctx() const { return ctx_; }
  Port* port() const { return port_; }
  // Null for an acceptor until its REQUEST arrived (it is not handed out before).
  Endpoint* endpoint() const { return endpoint_.get(); }
  const std::string& hello() const { return hello_; }
  const std::string& peer() const { return peer_; }
  bool handshaking() const { return phase_ != Phase::kOpen && phase_ != Phase::kEnded; }
  // Acceptor: the REQUEST was taken; accept() may hand this connection out.
  bool acceptable() const { return endpoint_ != nullptr && !endpoint_->broken(); }
  void set_listener(Listener* listener) { listener_ = listener; }
  // The core now holds this connection: failures are reported from now on.
  void MarkHandedOut();
  bool Owns(uint32_t qp_num) const { return qps_ != nullptr && qps_->Owns(qp_num); }

  void OnEvents(uint32_t events) override;
  // Endpoint progress, and the failure report the core is owed.
  void Progress();
  // A queue pair or the device broke (async event).
  void FailFromDevice(const std::string& what);
  // close(): cancels our requests (MC_ERR_CLOSED), tells the peer, closes the socket.
  void Close();

  // EndpointHost.
  void Log(mc_log_level_t level, const std::string& message) override { ctx_->Log(level, message); }
  void OnEndpointFailed(const std::string& detail) override;

 private:
  enum class Phase {
    kTcpConnecting,  // connector: the socket is connecting
    kAwaitRequest,   // acceptor
    kAwaitReply,     // connector
    kAwaitReady,     // acceptor
    kOpen,
    kEnded,  // BYE came, or the socket is closed
  };

  Connection(RdmaContext* ctx, int dev, std::unique_ptr<SideChannel> channel, std::string peer);
  Status CreateEndpoint();
  Status CreateQueuePairs(int count);
  void OnConnected();
  void OnFrame(const FrameHeader& header, const std::string& body);
  Status OnRequest(const std::string& body);
  Status OnReply(const std::string& body);
  void OnReady();
  void ReadFrames();
  void UpdateWatch();
  void CloseSocket();
  // Before the endpoint exists (acceptor): drop quietly; else fail it.
  void Fail(const std::string& detail);

  uint32_t magic_ = kMagic;
  RdmaContext* ctx_;
  int dev_;
  Port* port_;
  std::unique_ptr<SideChannel> channel_;
  std::string peer_;
  Phase phase_;
  bool acceptor_;
  Listener* listener_ = nullptr;
  uint64_t listener_id_ = 0;
  std::string hello_;
  std::unique_ptr<Endpoint> endpoint_;
  LinkableQueuePairs* qps_ = nullptr;  // owned by endpoint_
  ConnInfo peer_info_;
  bool write_interest_ = false;
  bool handed_out_ = false;
  bool report_pending_ = false;
  bool reported_ = false;
  std::string failure_detail_;
  int connect_error_ = 0;  // a connect that failed at once, reported from the first progress
};

}  // namespace mc::rdma

#endif  // MOONCOMM_PLUGINS_RDMA_VERBS_CONNECTION_H_
