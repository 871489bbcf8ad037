#include "notification_join.h"

namespace mc::efa {

NotificationJoin::NotificationJoin(size_t cq_data_bytes)
    : mask_(cq_data_bytes >= 8 ? ~uint64_t{0} : (uint64_t{1} << (8 * cq_data_bytes)) - 1) {}

void NotificationJoin::OnInfo(uint64_t put_seq, const mc_notification_v1_t& notification) {
  if (notification.bytes == 0) {
    ready_.push_back(notification);
    return;
  }
  const uint64_t key = put_seq & mask_;
  Partial& p = partial_[key];
  p.have_info = true;
  p.notification = notification;
  MaybeRelease(key);
}

void NotificationJoin::OnDataWritten(uint64_t cq_data) {
  const uint64_t key = cq_data & mask_;
  ++partial_[key].writes_seen;
  MaybeRelease(key);
}

void NotificationJoin::MaybeRelease(uint64_t key) {
  auto it = partial_.find(key);
  if (it == partial_.end() || !it->second.have_info || it->second.writes_seen == 0) return;
  ready_.push_back(it->second.notification);
  // A sequence number that wrapped around may already have its next write in.
  if (--it->second.writes_seen == 0) {
    partial_.erase(it);
  } else {
    it->second.have_info = false;
  }
}

bool NotificationJoin::Pop(mc_notification_v1_t* notification) {
  if (ready_.empty()) return false;
  *notification = ready_.front();
  ready_.pop_front();
  return true;
}

}  // namespace mc::efa
