// Something the context's epoll set reports socket events to.
#ifndef MOONCOMM_PLUGINS_EFA_SOCKET_WATCHER_H_
#define MOONCOMM_PLUGINS_EFA_SOCKET_WATCHER_H_

#include <cstdint>

namespace mc::efa {

class SocketWatcher {
 public:
  virtual ~SocketWatcher() = default;
  // `events` are EPOLL* bits. A handler never frees another watcher.
  virtual void OnSocketEvents(uint32_t events) = 0;
};

}  // namespace mc::efa

#endif  // MOONCOMM_PLUGINS_EFA_SOCKET_WATCHER_H_
