// A put reaches its target as two things that may arrive in either order:
// the data itself (fi_writedata, whose remote CQ data carries the put's
// sequence number, and whose completion at the target means the data is in
// place) and a PUT_INFO control message (notify value, target address,
// length). The notification is released once both are in, so never before
// the data. A put of 0 bytes writes nothing: its info alone releases it.
#ifndef MOONCOMM_PLUGINS_EFA_NOTIFICATION_JOIN_H_
#define MOONCOMM_PLUGINS_EFA_NOTIFICATION_JOIN_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <unordered_map>

#include "mooncomm/plugin_abi.h"

namespace mc::efa {

class NotificationJoin {
 public:
  // The remote CQ data holds the low `cq_data_bytes` bytes of the sequence number.
  explicit NotificationJoin(size_t cq_data_bytes);

  void OnInfo(uint64_t put_seq, const mc_notification_v1_t& notification);
  void OnDataWritten(uint64_t cq_data);
  // The next released notification, in release order.
  bool Pop(mc_notification_v1_t* notification);
  size_t waiting() const { return partial_.size(); }

 private:
  struct Partial {
    bool have_info = false;
    int writes_seen = 0;
    mc_notification_v1_t notification{};
  };
  void MaybeRelease(uint64_t key);

  uint64_t mask_;
  std::unordered_map<uint64_t, Partial> partial_;  // by sequence number & mask_
  std::deque<mc_notification_v1_t> ready_;
};

}  // namespace mc::efa

#endif  // MOONCOMM_PLUGINS_EFA_NOTIFICATION_JOIN_H_
