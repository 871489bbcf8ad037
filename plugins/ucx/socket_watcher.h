// Something the context's epoll set reports socket events to: a listener or
// an endpoint's side connection.
#ifndef MOONCOMM_PLUGINS_UCX_SOCKET_WATCHER_H_
#define MOONCOMM_PLUGINS_UCX_SOCKET_WATCHER_H_

#include <chrono>
#include <cstdint>

namespace mc::ucx {

using Clock = std::chrono::steady_clock;

class SocketWatcher {
 public:
  virtual ~SocketWatcher() = default;
  // `events` is an EPOLL* mask.
  virtual void OnSocketEvents(uint32_t events) = 0;
  // Closed objects get no more events, even from a batch already fetched.
  virtual bool watching() const = 0;
};

}  // namespace mc::ucx

#endif  // MOONCOMM_PLUGINS_UCX_SOCKET_WATCHER_H_
