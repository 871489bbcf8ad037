// The Communicator's state, shared by the files of comm/: setup
// (communicator_setup.cc), point-to-point (communicator.cc), memory and puts
// (communicator_memory.cc) and peer health (peer_health.cc).
#ifndef MOONCOMM_SRC_COMM_COMMUNICATOR_IMPL_H_
#define MOONCOMM_SRC_COMM_COMMUNICATOR_IMPL_H_

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/time/time.h"
#include "mooncomm/communicator.h"
#include "plugin/transport.h"

namespace mc {

class Communicator::Impl {
 public:
  struct Peer {
    Transport* transport = nullptr;  // null for ourselves
    void* ep = nullptr;
    std::atomic<PeerState> state{PeerState::kAlive};
    bool ep_closed = false;  // guarded by op_mu
  };

  Impl(int rank, int size, absl::Duration timeout);
  ~Impl();

  // --- setup (communicator_setup.cc) ---
  absl::Status OpenTransports(const std::string& transport_setting);
  absl::Status ConnectPeers(absl::Duration bootstrap_timeout);
  void Shutdown();
  void ReleaseStore();

  // --- calls into plugins; all take op_mu ---
  // Drives every transport once and finishes abandoned requests. Caller holds op_mu.
  void ProgressLocked();
  // Closes the endpoints of peers declared failed since the last call. Caller holds op_mu.
  void CloseFailedEndpointsLocked();
  absl::Status CheckPeer(int peer, const char* op) const;
  // The status of a finished request to/from `peer`.
  absl::Status CompletionStatus(int peer, const mc_completion_v1_t& completion) const;

  // --- peer health (peer_health.cc) ---
  // Marks `peer` failed once: records the event, tells the listeners, and
  // queues its endpoint for closing. Safe from any thread, with or without op_mu.
  void MarkFailed(int peer, const std::string& transport, const std::string& detail);
  void OnTransportFailure(Transport* transport, void* ep, mc_result_t reason, const std::string& detail);
  void StartWatchdog();
  void StopWatchdog();
  // Counts calls into the plugins; the watchdog steps in only when it stops moving.
  void NoteProgress() { progress_count_.fetch_add(1, std::memory_order_relaxed); }

  const int rank;
  const int size;
  const absl::Duration timeout;

  std::unique_ptr<Store> owned_store;
  Store* store = nullptr;
  std::string prefix;

  std::vector<std::unique_ptr<Transport>> transports;
  struct Listener {
    Transport* transport;
    void* handle;
    std::string address;
  };
  std::vector<Listener> listeners;
  std::unique_ptr<Peer[]> peers;

  // Serializes every call into a plugin (the ABI allows one thread per context).
  std::mutex op_mu;
  std::vector<void*> orphans;  // abandoned plugin requests, guarded by op_mu
  uint64_t test_calls = 0;     // guarded by op_mu
  std::vector<Transport*> orphan_transports;

  // Endpoint to rank, written during setup, read by failure callbacks.
  std::mutex ep_mu;
  absl::flat_hash_map<void*, int> ep_rank;

  mutable std::mutex events_mu;
  std::vector<FailureEvent> events;
  std::vector<std::function<void(const FailureEvent&)>> failure_listeners;
  std::atomic<bool> has_unclosed_failures{false};

 private:
  std::atomic<uint64_t> progress_count_{0};
  std::thread watchdog_;
  std::mutex watchdog_mu_;
  std::condition_variable watchdog_cv_;
  bool watchdog_stop_ = false;
};

class MemoryRegistration {
 public:
  MemoryRegistration(Communicator::Impl* impl, void* ptr, size_t len) : impl_(impl), ptr_(ptr), len_(len) {}
  ~MemoryRegistration();
  void* ptr() const { return ptr_; }
  size_t len() const { return len_; }
  // The registration with `transport`, or null.
  void* mr_for(const Transport* transport) const;

 private:
  friend class Communicator;
  Communicator::Impl* impl_;
  void* ptr_;
  size_t len_;
  std::vector<std::pair<Transport*, void*>> mrs_;
};

class RemoteKeyImpl {
 public:
  RemoteKeyImpl(Communicator::Impl* impl, Transport* transport, void* rkey, int peer)
      : impl_(impl), transport_(transport), rkey_(rkey), peer_(peer) {}
  ~RemoteKeyImpl();
  void* rkey() const { return rkey_; }
  int peer() const { return peer_; }

 private:
  Communicator::Impl* impl_;
  Transport* transport_;
  void* rkey_;
  int peer_;
};

}  // namespace mc

#endif  // MOONCOMM_SRC_COMM_COMMUNICATOR_IMPL_H_
