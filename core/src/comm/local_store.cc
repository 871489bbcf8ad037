#include "comm/local_store.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/absl_compat.h"

namespace mc {

absl::Status LocalStore::Set(std::string_view key, std::string_view value) {
  std::lock_guard<std::mutex> lock(mu_);
  values_[std::string(key)] = std::string(value);
  changed_.notify_all();
  return absl::OkStatus();
}

absl::StatusOr<std::string> LocalStore::Get(std::string_view key, absl::Duration timeout) {
  std::string k(key);
  if (absl::Status s = Wait(absl::MakeConstSpan(&k, 1), timeout); !s.ok()) return s;
  std::lock_guard<std::mutex> lock(mu_);
  return values_.find(key)->second;
}

absl::Status LocalStore::Wait(absl::Span<const std::string> keys, absl::Duration timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  auto all_present = [&] {
    for (const std::string& k : keys)
      if (values_.find(k) == values_.end()) return false;
    return true;
  };
  if (!changed_.wait_for(lock, absl::ToChronoMilliseconds(timeout), all_present)) {
    return absl::DeadlineExceededError(absl::StrCat("timed out waiting for store keys (first: ",
                                                    keys.empty() ? "" : keys[0], ")"));
  }
  return absl::OkStatus();
}

absl::StatusOr<int64_t> LocalStore::Add(std::string_view key, int64_t delta) {
  std::lock_guard<std::mutex> lock(mu_);
  int64_t value = 0;
  auto it = values_.find(key);
  if (it != values_.end() && !absl::SimpleAtoi(it->second, &value)) {
    return absl::FailedPreconditionError(absl::StrCat("store key ", ToAbsl(key), " does not hold an integer"));
  }
  value += delta;
  values_[std::string(key)] = absl::StrCat(value);
  changed_.notify_all();
  return value;
}

}  // namespace mc
