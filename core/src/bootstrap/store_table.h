// The bootstrap server's state without any I/O: the key-value data and the
// requests parked until their keys appear or their deadline passes. Owned by
// the server thread alone, so it has no locks.
#ifndef MOONCOMM_SRC_BOOTSTRAP_STORE_TABLE_H_
#define MOONCOMM_SRC_BOOTSTRAP_STORE_TABLE_H_

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace mc::bootstrap {

class StoreTable {
 public:
  using ClientId = uint64_t;

  // A request waiting for keys. `get` waiters want the value of keys[0];
  // the others only want every key to exist.
  struct Waiter {
    ClientId client = 0;
    bool get = false;
    std::vector<std::string> keys;
    absl::Time deadline = absl::InfiniteFuture();
  };

  // Stores `value`; returns the waiters this made complete (removed from the table).
  std::vector<Waiter> Set(const std::string& key, std::string value);

  // The value at `key`, if any.
  const std::string* Find(const std::string& key) const;

  // Adds `delta` to the decimal integer at `key` (absent counts as 0) and
  // returns the new value, plus completed waiters through `ready`.
  // FailedPrecondition when the value is not an integer, OutOfRange on overflow.
  absl::StatusOr<int64_t> Add(const std::string& key, int64_t delta, std::vector<Waiter>* ready);

  // The keys among `keys` that do not exist yet.
  std::vector<std::string> Missing(const std::vector<std::string>& keys) const;

  // Parks a waiter whose keys are not all there yet. One per client.
  void Park(Waiter waiter);

  // Removes and returns the waiters whose deadline is at or before `now`.
  std::vector<Waiter> TakeExpired(absl::Time now);

  // Forgets the waiter of a client that went away.
  void DropClient(ClientId client);

  // The earliest deadline of any parked waiter (InfiniteFuture if none).
  absl::Time NextDeadline() const;

  size_t parked() const { return waiters_.size(); }
  size_t size() const { return data_.size(); }

 private:
  void Unpark(ClientId client);

  absl::flat_hash_map<std::string, std::string> data_;
  absl::flat_hash_map<ClientId, Waiter> waiters_;
  // key -> clients whose waiter still lacks that key.
  absl::flat_hash_map<std::string, absl::flat_hash_set<ClientId>> waiting_on_;
  std::set<std::pair<absl::Time, ClientId>> deadlines_;
};

}  // namespace mc::bootstrap

#endif  // MOONCOMM_SRC_BOOTSTRAP_STORE_TABLE_H_
