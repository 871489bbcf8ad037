// A listener: a TCP control socket on the device's IP. A connector's
// REQUEST arriving on an accepted socket becomes a connection (endpoint
// opened, ACCEPT answered) that waits here until accept() hands it out; a
// REQUEST naming another listener (a reused port) is refused.
#ifndef MOONCOMM_PLUGINS_EFA_LISTENER_H_
#define MOONCOMM_PLUGINS_EFA_LISTENER_H_

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "connection.h"
#include "control_channel.h"
#include "fabric_device.h"
#include "mooncomm/plugin_abi.h"
#include "socket_watcher.h"

namespace mc::efa {

class Context;

class Listener : public SocketWatcher {
 public:
  static constexpr uint32_t kMagic = 0x4c414645;  // "EFAL"

  // Listens on `device`; *address is what connectors pass to connect().
  static mc_result_t Open(Context* ctx, Device* device, uint64_t id, std::string* address, Listener** out,
                          std::string* error);
  // Closes the socket and drops the connections never accepted.
  ~Listener() override;
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;

  bool valid() const { return magic_ == kMagic; }
  Context* ctx() const { return ctx_; }

  mc_result_t Accept(Connection** ep, void* hello, size_t* hello_len);
  void OnSocketEvents(uint32_t events) override;
  // Frees finished handshakes and drops those past the connect timeout.
  void Tidy(Clock::time_point now);

 private:
  class Incoming;
  Listener(Context* ctx, Device* device, int fd, uint64_t id);
  void OnIncoming(Incoming* incoming, uint32_t events);
  void Refuse(Incoming* incoming, const std::string& reason);

  uint32_t magic_ = kMagic;
  Context* ctx_;
  Device* device_;
  int fd_;
  uint64_t id_;
  std::vector<std::unique_ptr<Incoming>> incoming_;  // sockets whose REQUEST has not arrived
  std::deque<Connection*> ready_;                    // accepted by us, not yet by the core
};

}  // namespace mc::efa

#endif  // MOONCOMM_PLUGINS_EFA_LISTENER_H_
