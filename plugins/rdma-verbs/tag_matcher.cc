#include "tag_matcher.h"

namespace mc::rdma {

void TagMatcher::AddPosted(Request* recv) {
  posted_[recv->tag].push_back(recv);
  ++posted_count_;
}

Request* TagMatcher::TakePosted(uint64_t tag) {
  if (posted_count_ == 0) return nullptr;
  auto it = posted_.find(tag);
  if (it == posted_.end()) return nullptr;
  Request* r = it->second.pop_front();
  if (it->second.empty()) posted_.erase(it);
  if (r != nullptr) --posted_count_;
  return r;
}

void TagMatcher::AddUnexpected(Unexpected message) {
  unexpected_[message.tag].push_back(std::move(message));
  ++unexpected_count_;
}

bool TagMatcher::TakeUnexpected(uint64_t tag, Unexpected* out) {
  if (unexpected_count_ == 0) return false;
  auto it = unexpected_.find(tag);
  if (it == unexpected_.end() || it->second.empty()) return false;
  *out = std::move(it->second.front());
  it->second.pop_front();
  if (it->second.empty()) unexpected_.erase(it);
  --unexpected_count_;
  return true;
}

void TagMatcher::DropUnexpectedRendezvous() {
  for (auto it = unexpected_.begin(); it != unexpected_.end();) {
    auto& queue = it->second;
    size_t keep = 0;
    while (keep < queue.size() && !queue[keep].rendezvous) ++keep;
    unexpected_count_ -= queue.size() - keep;
    queue.resize(keep);
    it = queue.empty() ? unexpected_.erase(it) : std::next(it);
  }
}

}  // namespace mc::rdma
