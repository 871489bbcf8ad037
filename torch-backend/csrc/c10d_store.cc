#include "c10d_store.h"

#include <algorithm>
#include <chrono>
#include <exception>
#include <string>
#include <vector>

#include "absl/strings/str_join.h"

namespace mc::torch_backend {
namespace {

std::chrono::milliseconds ToChrono(absl::Duration d) {
  return std::chrono::milliseconds(std::max<int64_t>(1, absl::ToInt64Milliseconds(d)));
}

// c10d stores throw (DistStoreError on a timeout, c10::Error otherwise).
absl::Status FromException(const std::string& what, const std::exception& e) {
  const std::string message = "c10d store: " + what + ": " + e.what();
  if (std::string_view(e.what()).find("imeout") != std::string_view::npos ||
      std::string_view(e.what()).find("imed out") != std::string_view::npos) {
    return absl::DeadlineExceededError(message);
  }
  return absl::UnavailableError(message);
}

}  // namespace

absl::Status C10dStore::Set(std::string_view key, std::string_view value) {
  try {
    store_->set(std::string(key), std::vector<uint8_t>(value.begin(), value.end()));
    return absl::OkStatus();
  } catch (const std::exception& e) {
    return FromException("set '" + std::string(key) + "'", e);
  }
}

absl::StatusOr<std::string> C10dStore::Get(std::string_view key, absl::Duration timeout) {
  try {
    const std::string k(key);
    store_->wait({k}, ToChrono(timeout));
    std::vector<uint8_t> value = store_->get(k);
    return std::string(value.begin(), value.end());
  } catch (const std::exception& e) {
    return FromException("get '" + std::string(key) + "'", e);
  }
}

absl::Status C10dStore::Wait(absl::Span<const std::string> keys, absl::Duration timeout) {
  try {
    store_->wait(std::vector<std::string>(keys.begin(), keys.end()), ToChrono(timeout));
    return absl::OkStatus();
  } catch (const std::exception& e) {
    return FromException("wait for " + absl::StrJoin(keys, ", "), e);
  }
}

absl::StatusOr<int64_t> C10dStore::Add(std::string_view key, int64_t delta) {
  try {
    return store_->add(std::string(key), delta);
  } catch (const std::exception& e) {
    return FromException("add '" + std::string(key) + "'", e);
  }
}

}  // namespace mc::torch_backend
