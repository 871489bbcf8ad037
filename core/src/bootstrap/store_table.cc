#include "bootstrap/store_table.h"

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace mc::bootstrap {

std::vector<StoreTable::Waiter> StoreTable::Set(const std::string& key, std::string value) {
  data_[key] = std::move(value);
  std::vector<Waiter> ready;
  auto it = waiting_on_.find(key);
  if (it == waiting_on_.end()) return ready;
  absl::flat_hash_set<ClientId> clients = std::move(it->second);
  waiting_on_.erase(it);
  for (ClientId client : clients) {
    auto waiter = waiters_.find(client);
    if (waiter == waiters_.end()) continue;
    if (!Missing(waiter->second.keys).empty()) continue;  // still lacks another key
    ready.push_back(waiter->second);
    Unpark(client);
  }
  return ready;
}

const std::string* StoreTable::Find(const std::string& key) const {
  auto it = data_.find(key);
  return it == data_.end() ? nullptr : &it->second;
}

absl::StatusOr<int64_t> StoreTable::Add(const std::string& key, int64_t delta, std::vector<Waiter>* ready) {
  int64_t current = 0;
  if (const std::string* value = Find(key); value != nullptr && !absl::SimpleAtoi(*value, &current)) {
    return absl::FailedPreconditionError(absl::StrCat("cannot add to key '", absl::CHexEscape(key),
                                                      "': its value is not an integer"));
  }
  int64_t sum = 0;
  if (__builtin_add_overflow(current, delta, &sum)) {
    return absl::OutOfRangeError(absl::StrCat("adding ", delta, " to key '", absl::CHexEscape(key), "' (", current,
                                              ") overflows a 64-bit integer"));
  }
  *ready = Set(key, absl::StrCat(sum));
  return sum;
}

std::vector<std::string> StoreTable::Missing(const std::vector<std::string>& keys) const {
  std::vector<std::string> missing;
  for (const std::string& key : keys) {
    if (!data_.contains(key)) missing.push_back(key);
  }
  return missing;
}

void StoreTable::Park(Waiter waiter) {
  const ClientId client = waiter.client;
  Unpark(client);
  for (const std::string& key : Missing(waiter.keys)) waiting_on_[key].insert(client);
  deadlines_.emplace(waiter.deadline, client);
  waiters_.emplace(client, std::move(waiter));
}

std::vector<StoreTable::Waiter> StoreTable::TakeExpired(absl::Time now) {
  std::vector<Waiter> expired;
  while (!deadlines_.empty() && deadlines_.begin()->first <= now) {
    ClientId client = deadlines_.begin()->second;
    expired.push_back(waiters_.at(client));
    Unpark(client);
  }
  return expired;
}

void StoreTable::DropClient(ClientId client) { Unpark(client); }

absl::Time StoreTable::NextDeadline() const {
  return deadlines_.empty() ? absl::InfiniteFuture() : deadlines_.begin()->first;
}

void StoreTable::Unpark(ClientId client) {
  auto it = waiters_.find(client);
  if (it == waiters_.end()) return;
  for (const std::string& key : it->second.keys) {
    auto waiting = waiting_on_.find(key);
    if (waiting == waiting_on_.end()) continue;
    waiting->second.erase(client);
    if (waiting->second.empty()) waiting_on_.erase(waiting);
  }
  deadlines_.erase({it->second.deadline, client});
  waiters_.erase(it);
}

}  // namespace mc::bootstrap
