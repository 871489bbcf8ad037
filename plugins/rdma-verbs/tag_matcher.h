// Tag matching for one endpoint: receives posted before their message
// arrived, and messages that arrived before their receive was posted, each
// kept per tag in order. Messages of one tag match receives of that tag in
// posting order; different tags are independent.
#ifndef MOONCOMM_PLUGINS_RDMA_VERBS_TAG_MATCHER_H_
#define MOONCOMM_PLUGINS_RDMA_VERBS_TAG_MATCHER_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <unordered_map>

#include "request.h"

namespace mc::rdma {

// A message that arrived with no receive posted for it.
struct Unexpected {
  uint64_t tag = 0;
  uint64_t length = 0;      // the message's length
  bool rendezvous = false;  // true: only the RTS came; the data waits at the sender
  uint64_t sender_id = 0;   // rendezvous: the sender's id and buffer
  uint64_t sender_addr = 0;
  uint32_t sender_rkey = 0;
  std::unique_ptr<char[]> data;  // eager: the payload, `length` bytes
};

class TagMatcher {
 public:
  void AddPosted(Request* recv);
  // The oldest receive posted for `tag`, removed; null when none.
  Request* TakePosted(uint64_t tag);
  // Removes every posted receive and hands each to `fn`.
  template <typename Fn>
  void DrainPosted(Fn fn) {
    auto posted = std::move(posted_);
    posted_.clear();
    posted_count_ = 0;
    for (auto& [tag, queue] : posted) {
      while (Request* r = queue.pop_front()) fn(r);
    }
  }

  void AddUnexpected(Unexpected message);
  // The oldest unexpected message of `tag`, removed; false when none.
  bool TakeUnexpected(uint64_t tag, Unexpected* out);
  // After the connection broke only eager messages (their data is here) can
  // still be received: per tag, the queue is cut at its first rendezvous one.
  void DropUnexpectedRendezvous();

  size_t posted_count() const { return posted_count_; }
  size_t unexpected_count() const { return unexpected_count_; }

 private:
  std::unordered_map<uint64_t, RequestQueue> posted_;
  std::unordered_map<uint64_t, std::deque<Unexpected>> unexpected_;
  size_t posted_count_ = 0;
  size_t unexpected_count_ = 0;
};

}  // namespace mc::rdma

#endif  // MOONCOMM_PLUGINS_RDMA_VERBS_TAG_MATCHER_H_
