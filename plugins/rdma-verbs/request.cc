#include "request.h"

namespace mc::rdma {
namespace {

// Freed requests kept for reuse, so a stream of small messages does not allocate per message.
constexpr size_t kSpareRequests = 1024;

}  // namespace

RequestPool::~RequestPool() {
  while (live_ != nullptr) {
    Request* r = live_;
    live_ = r->next_live;
    delete r;
  }
  for (Request* r : spare_) delete r;
}

Request* RequestPool::New(Request::Kind kind) {
  Request* r;
  if (!spare_.empty()) {
    r = spare_.back();
    spare_.pop_back();
    *r = Request();
  } else {
    r = new Request;
  }
  r->kind = kind;
  r->pool = this;
  r->next_live = live_;
  if (live_ != nullptr) live_->prev_live = r;
  live_ = r;
  ++live_count_;
  return r;
}

void RequestPool::Free(Request* r) {
  if (r->prev_live != nullptr) {
    r->prev_live->next_live = r->next_live;
  } else {
    live_ = r->next_live;
  }
  if (r->next_live != nullptr) r->next_live->prev_live = r->prev_live;
  --live_count_;
  r->magic = 0;
  if (spare_.size() < kSpareRequests) {
    spare_.push_back(r);
  } else {
    delete r;
  }
}

}  // namespace mc::rdma
