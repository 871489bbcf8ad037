// StoreBarrier: every rank counts itself in on "<name>/arrived"; the last to
// arrive sets "<name>/done", which everyone waits for. The server answers the
// waits when that key appears, so nobody polls.
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/absl_compat.h"
#include "mooncomm/bootstrap.h"

namespace mc {

absl::Status StoreBarrier(Store& store, std::string_view name, int world_size, absl::Duration timeout) {
  const std::string barrier = absl::StrCat("StoreBarrier '", ToAbsl(name), "'");
  if (name.empty()) return absl::InvalidArgumentError("StoreBarrier needs a non-empty name");
  if (world_size < 1) {
    return absl::InvalidArgumentError(absl::StrCat(barrier, ": world_size=", world_size, " must be at least 1"));
  }
  auto with_context = [&barrier](const absl::Status& s) {
    return absl::Status(s.code(), absl::StrCat(barrier, ": ", s.message()));
  };
  const absl::Time deadline = absl::Now() + timeout;
  const std::string arrived_key = absl::StrCat(ToAbsl(name), "/arrived");
  const std::string done_key = absl::StrCat(ToAbsl(name), "/done");

  absl::StatusOr<int64_t> arrived = store.Add(arrived_key, 1);
  if (!arrived.ok()) return with_context(arrived.status());
  if (*arrived > world_size) {
    return absl::FailedPreconditionError(absl::StrCat(barrier, ": ", *arrived, " ranks arrived for a world of ",
                                                      world_size, " (a barrier name may be used only once per store)"));
  }
  if (*arrived == world_size) {
    absl::Status s = store.Set(done_key, "1");
    return s.ok() ? s : with_context(s);
  }
  absl::Status waited = store.Wait({done_key}, deadline - absl::Now());
  if (waited.ok()) return waited;
  if (!absl::IsDeadlineExceeded(waited)) return with_context(waited);
  // Say how far the barrier got; adding 0 reads the count.
  absl::StatusOr<int64_t> count = store.Add(arrived_key, 0);
  std::string how_many = count.ok() ? absl::StrCat(*count) : "an unknown number";
  return absl::DeadlineExceededError(absl::StrCat(barrier, " timed out after ", absl::FormatDuration(timeout), ": ",
                                                  how_many, " of ", world_size, " ranks arrived"));
}

}  // namespace mc
