// An in-process Store, for a communicator of one rank and for tests.
#ifndef MOONCOMM_SRC_COMM_LOCAL_STORE_H_
#define MOONCOMM_SRC_COMM_LOCAL_STORE_H_

#include <condition_variable>
#include <map>
#include <mutex>
#include <string>

#include "mooncomm/bootstrap.h"

namespace mc {

class LocalStore : public Store {
 public:
  absl::Status Set(std::string_view key, std::string_view value) override;
  absl::StatusOr<std::string> Get(std::string_view key, absl::Duration timeout) override;
  absl::Status Wait(absl::Span<const std::string> keys, absl::Duration timeout) override;
  absl::StatusOr<int64_t> Add(std::string_view key, int64_t delta) override;

 private:
  std::mutex mu_;
  std::condition_variable changed_;
  std::map<std::string, std::string, std::less<>> values_;
};

}  // namespace mc

#endif  // MOONCOMM_SRC_COMM_LOCAL_STORE_H_
