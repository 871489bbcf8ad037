// A listening socket. progress() accepts every connection that waits; each
// becomes an endpoint that reads the connector's HELLO frame. accept() then
// hands out the oldest endpoint whose HELLO is complete, with that hello.
#ifndef UNIXDEMO_LISTENER_H_
#define UNIXDEMO_LISTENER_H_

#include <cstdint>
#include <deque>
#include <string>

namespace unixdemo {

class Context;
class Endpoint;

class Listener {
 public:
  static constexpr uint32_t kMagic = 0x4c445855;  // "UXDL"

  Listener(Context* ctx, int fd, std::string name);
  ~Listener();
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;

  bool valid() const { return magic_ == kMagic && !closed_; }
  Context* ctx() const { return ctx_; }

  void Progress();
  // The oldest connection whose HELLO has arrived, still on the list; nullptr
  // when none. Connections that broke before their HELLO are dropped here.
  Endpoint* NextReady();
  // accept() took `ep`: it is the core's now.
  void Remove(Endpoint* ep);
  // close_listener(): closes the socket; connections not handed out are dropped.
  void Close();

 private:
  uint32_t magic_ = kMagic;
  Context* ctx_;
  int fd_;
  std::string name_;
  bool closed_ = false;
  std::deque<Endpoint*> pending_;  // accepted sockets not yet handed out, oldest first
};

}  // namespace unixdemo

#endif  // UNIXDEMO_LISTENER_H_
