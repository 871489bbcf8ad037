// PyTorch's c10d Store (the one init_process_group hands every backend,
// already prefixed per group) as the core's rendezvous Store, so the
// Communicator bootstraps through it and needs no address of its own.
#ifndef MOONCOMM_TORCH_C10D_STORE_H_
#define MOONCOMM_TORCH_C10D_STORE_H_

#include <torch/csrc/distributed/c10d/Store.hpp>

#include "mooncomm/bootstrap.h"

namespace mc::torch_backend {

class C10dStore : public Store {
 public:
  explicit C10dStore(c10::intrusive_ptr<c10d::Store> store) : store_(std::move(store)) {}

  absl::Status Set(std::string_view key, std::string_view value) override;
  absl::StatusOr<std::string> Get(std::string_view key, absl::Duration timeout) override;
  absl::Status Wait(absl::Span<const std::string> keys, absl::Duration timeout) override;
  absl::StatusOr<int64_t> Add(std::string_view key, int64_t delta) override;

 private:
  c10::intrusive_ptr<c10d::Store> store_;
};

}  // namespace mc::torch_backend

#endif  // MOONCOMM_TORCH_C10D_STORE_H_
