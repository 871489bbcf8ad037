#include "transports/tcp/tag_matcher.h"

#include <utility>
#include <vector>

namespace mc::tcp {

TagMatcher::~TagMatcher() {
  for (auto& [tag, fifo] : unexpected_) {
    for (Unexpected* u = fifo.head; u != nullptr;) {
      Unexpected* next = u->next_in_queue;
      delete u;
      u = next;
    }
  }
}

void TagMatcher::AddPosted(Request* recv) {
  recv->next_in_queue = nullptr;
  Fifo<Request>& fifo = posted_[recv->tag];
  if (fifo.tail != nullptr) {
    fifo.tail->next_in_queue = recv;
  } else {
    fifo.head = recv;
  }
  fifo.tail = recv;
  ++posted_count_;
}

Request* TagMatcher::TakePosted(uint64_t tag) {
  auto it = posted_.find(tag);
  if (it == posted_.end()) return nullptr;
  Request* r = it->second.head;
  it->second.head = r->next_in_queue;
  if (it->second.head == nullptr) posted_.erase(it);
  r->next_in_queue = nullptr;
  --posted_count_;
  return r;
}

void TagMatcher::AddUnexpected(std::unique_ptr<Unexpected> message) {
  Unexpected* u = message.release();
  u->next_in_queue = nullptr;
  Fifo<Unexpected>& fifo = unexpected_[u->tag];
  if (fifo.tail != nullptr) {
    fifo.tail->next_in_queue = u;
  } else {
    fifo.head = u;
  }
  fifo.tail = u;
  ++unexpected_count_;
}

std::unique_ptr<Unexpected> TagMatcher::TakeUnexpected(uint64_t tag) {
  auto it = unexpected_.find(tag);
  if (it == unexpected_.end()) return nullptr;
  Unexpected* u = it->second.head;
  it->second.head = u->next_in_queue;
  if (it->second.head == nullptr) unexpected_.erase(it);
  u->next_in_queue = nullptr;
  --unexpected_count_;
  return std::unique_ptr<Unexpected>(u);
}

void TagMatcher::DropUnexpectedRendezvous() {
  std::vector<uint64_t> emptied;
  for (auto& [tag, fifo] : unexpected_) {
    // Keep the eager messages before the first rendezvous one; the rest
    // could only be received out of order.
    Unexpected* last_kept = nullptr;
    Unexpected* u = fifo.head;
    while (u != nullptr && !u->rendezvous) {
      last_kept = u;
      u = u->next_in_queue;
    }
    while (u != nullptr) {
      Unexpected* next = u->next_in_queue;
      delete u;
      --unexpected_count_;
      u = next;
    }
    if (last_kept == nullptr) {
      emptied.push_back(tag);
    } else {
      last_kept->next_in_queue = nullptr;
      fifo.tail = last_kept;
    }
  }
  for (uint64_t tag : emptied) unexpected_.erase(tag);
}

}  // namespace mc::tcp
