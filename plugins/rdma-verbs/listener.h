// A listening side socket. Accepted connections wait here until their
// REQUEST (with the hello) has arrived; accept() then hands them out in
// arrival order.
#ifndef MOONCOMM_PLUGINS_RDMA_VERBS_LISTENER_H_
#define MOONCOMM_PLUGINS_RDMA_VERBS_LISTENER_H_

#include <cstdint>
#include <deque>
#include <string>

#include "context.h"
#include "mooncomm/plugin_abi.h"

namespace mc::rdma {

class Listener : public Watched {
 public:
  static constexpr uint32_t kMagic = 0x4e4c4452;  // "RDLN"

  // Takes ownership of `fd`, a listening non-blocking socket in ctx's epoll set.
  Listener(RdmaContext* ctx, int dev, int fd, uint64_t id, std::string name);
  ~Listener() override;

  bool valid() const { return magic_ == kMagic; }
  RdmaContext* ctx() const { return ctx_; }
  uint64_t id() const { return id_; }

  void OnEvents(uint32_t events) override;
  // The oldest connection whose REQUEST arrived: MC_SUCCESS, MC_AGAIN when
  // none, MC_ERR_NO_MEMORY when its hello does not fit (it stays queued).
  mc_result_t Accept(Connection** out, void* hello, size_t* hello_len);
  // A queued connection failed before it was accepted.
  void Forget(Connection* connection);
  // Stops listening and drops the connections not yet accepted.
  void Close();

 private:
  uint32_t magic_ = kMagic;
  RdmaContext* ctx_;
  int dev_;
  int fd_;
  uint64_t id_;
  std::string name_;
  std::deque<Connection*> pending_;
};

}  // namespace mc::rdma

#endif  // MOONCOMM_PLUGINS_RDMA_VERBS_LISTENER_H_
