// Tag matching for one endpoint: receives posted before their message
// arrived, and messages that arrived before their receive was posted, each
// kept per tag in order. Messages of one tag match receives of that tag in
// posting order; different tags are independent.
#ifndef MOONCOMM_SRC_TRANSPORTS_TCP_TAG_MATCHER_H_
#define MOONCOMM_SRC_TRANSPORTS_TCP_TAG_MATCHER_H_

#include <cstddef>
#include <cstdint>
#include <memory>

#include "absl/container/flat_hash_map.h"
#include "transports/tcp/request.h"

namespace mc::tcp {

// A message that arrived with no receive posted for it.
struct Unexpected {
  uint64_t tag = 0;
  uint64_t length = 0;      // the message's length
  bool rendezvous = false;  // true: only the RTS came; the data waits at the sender
  uint64_t sender_id = 0;   // rendezvous: the sender's id, echoed in the CTS
  std::unique_ptr<char[]> data;  // eager: the payload, `length` bytes
  Unexpected* next_in_queue = nullptr;
};

class TagMatcher {
 public:
  TagMatcher() = default;
  TagMatcher(const TagMatcher&) = delete;
  TagMatcher& operator=(const TagMatcher&) = delete;
  ~TagMatcher();

  void AddPosted(Request* recv);
  // The oldest receive posted for `tag`, removed; null when none.
  Request* TakePosted(uint64_t tag);
  // Removes every posted receive and hands each to `fn`.
  template <typename Fn>
  void DrainPosted(Fn fn) {
    for (auto& [tag, fifo] : posted_) {
      for (Request* r = fifo.head; r != nullptr;) {
        Request* next = r->next_in_queue;
        r->next_in_queue = nullptr;
        fn(r);
        r = next;
      }
    }
    posted_.clear();
  }

  void AddUnexpected(std::unique_ptr<Unexpected> message);
  // The oldest unexpected message of `tag`, removed; null when none.
  std::unique_ptr<Unexpected> TakeUnexpected(uint64_t tag);
  // After the connection broke only eager messages (their data is here) can
  // still be received: per tag, the queue is cut at its first rendezvous one.
  void DropUnexpectedRendezvous();

  size_t posted_count() const { return posted_count_; }
  size_t unexpected_count() const { return unexpected_count_; }

 private:
  template <typename T>
  struct Fifo {
    T* head = nullptr;
    T* tail = nullptr;
  };
  absl::flat_hash_map<uint64_t, Fifo<Request>> posted_;
  absl::flat_hash_map<uint64_t, Fifo<Unexpected>> unexpected_;
  size_t posted_count_ = 0;
  size_t unexpected_count_ = 0;
};

}  // namespace mc::tcp

#endif  // MOONCOMM_SRC_TRANSPORTS_TCP_TAG_MATCHER_H_
