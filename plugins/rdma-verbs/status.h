// Errors inside the rdma plugin. A plugin links nothing of MoonComm but the
// ABI header (no Abseil), so this is a small Status/StatusOr of its own whose
// code is the mc_result_t the ABI call will answer.
#ifndef MOONCOMM_PLUGINS_RDMA_VERBS_STATUS_H_
#define MOONCOMM_PLUGINS_RDMA_VERBS_STATUS_H_

#include <cassert>
#include <optional>
#include <string>
#include <utility>

#include "mooncomm/plugin_abi.h"

namespace mc::rdma {

class [[nodiscard]] Status {
 public:
  Status() = default;  // success
  Status(mc_result_t code, std::string message) : code_(code), message_(std::move(message)) {}

  bool ok() const { return code_ == MC_SUCCESS; }
  mc_result_t code() const { return code_; }
  const std::string& message() const { return message_; }

 private:
  mc_result_t code_ = MC_SUCCESS;
  std::string message_;
};

inline Status InvalidArgument(std::string message) { return Status(MC_ERR_INVALID_ARG, std::move(message)); }
inline Status NoDevice(std::string message) { return Status(MC_ERR_NO_DEVICE, std::move(message)); }
inline Status Internal(std::string message) { return Status(MC_ERR_INTERNAL, std::move(message)); }
inline Status ProtocolError(std::string message) { return Status(MC_ERR_PROTOCOL, std::move(message)); }

template <typename T>
class [[nodiscard]] StatusOr {
 public:
  StatusOr(T value) : value_(std::move(value)) {}         // NOLINT: implicit like absl::StatusOr
  StatusOr(Status status) : status_(std::move(status)) {  // NOLINT
    assert(!status_.ok());
    if (status_.ok()) status_ = Internal("StatusOr built from an OK status");
  }

  bool ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }
  T& operator*() { return *value_; }
  const T& operator*() const { return *value_; }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }

 private:
  Status status_;
  std::optional<T> value_;
};

}  // namespace mc::rdma

#endif  // MOONCOMM_PLUGINS_RDMA_VERBS_STATUS_H_
