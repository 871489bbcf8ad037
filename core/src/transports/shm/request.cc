#include "transports/shm/request.h"

namespace mc::shm {

Request* RequestPool::Get(Context* ctx) {
  Request* req;
  if (free_.empty()) {
    owned_.push_back(std::make_unique<Request>());
    req = owned_.back().get();
  } else {
    req = free_.back();
    free_.pop_back();
  }
  *req = Request{};
  req->magic = Request::kLiveMagic;
  req->ctx = ctx;
  return req;
}

void RequestPool::Put(Request* req) {
  req->magic = 0;
  free_.push_back(req);
}

}  // namespace mc::shm
