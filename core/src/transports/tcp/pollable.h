// Something the context's epoll set watches: an endpoint or a listener.
#ifndef MOONCOMM_SRC_TRANSPORTS_TCP_POLLABLE_H_
#define MOONCOMM_SRC_TRANSPORTS_TCP_POLLABLE_H_

#include <cstdint>

namespace mc::tcp {

class Pollable {
 public:
  virtual ~Pollable() = default;
  // `events` is the epoll event mask the socket reported.
  virtual void OnEvents(uint32_t events) = 0;

  // Set once the object is closed; it may still exist for a while (its
  // destruction is deferred while the context is inside progress), but
  // nothing is dispatched to it any more.
  bool dead() const { return dead_; }
  void mark_dead() { dead_ = true; }

 private:
  bool dead_ = false;
};

}  // namespace mc::tcp

#endif  // MOONCOMM_SRC_TRANSPORTS_TCP_POLLABLE_H_
