// The Communicator: this process's rank in a group, a connection to every
// peer (over the transport that suits each pair), peer health, and failure
// events. Point-to-point and one-sided operations live here; collectives are
// built on top of them in algorithms/.
//
//   auto comm = mc::Communicator::Create();           // from MC_* / torchrun / mpirun variables
//   mc::Request req;
//   absl::Status s = (*comm)->Isend(1, /*tag=*/7, buf, len, &req);
//   if (s.ok()) s = (*comm)->Wait(req);                // a lost peer: mc::FailedPeerOf(s) == 1
//
// Thread-safety: all methods may be called from several threads; operations
// are serialized internally. Failure listeners run on whatever thread noticed
// the failure and must not call back into the Communicator.
#ifndef MOONCOMM_COMMUNICATOR_H_
#define MOONCOMM_COMMUNICATOR_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "mooncomm/bootstrap.h"
#include "mooncomm/plugin_abi.h"

namespace mc {

class Communicator;

struct CommunicatorOptions {
  // Both -1: read from the launcher's environment (see DetectLaunch).
  int rank = -1;
  int world_size = -1;
  // Rendezvous store. Null: a TcpStore at the launcher's address, hosted by rank 0.
  Store* store = nullptr;
  // Namespaces this communicator's keys, so several share one store.
  std::string store_prefix = "mc";
  // Empty: MC_TRANSPORT.
  std::string transport;
  // Unset: MC_TIMEOUT_MS.
  std::optional<absl::Duration> timeout;
};

enum class PeerState { kSelf, kAlive, kFailed };

struct FailureEvent {
  int rank = -1;
  std::string transport;  // of the connection that saw it
  std::string detail;     // "connection reset by peer", "no progress within 5000 ms"
  absl::Time when;
};

// Something the target of a put learns after the put's data has landed.
struct Notification {
  uint64_t value = 0;
  uint64_t addr = 0;
  size_t bytes = 0;
};

// A non-blocking operation in flight. Owned by the caller; Wait() or Test()
// it to completion. Destroying a pending Request is allowed: the operation
// is then finished in the background and its result dropped.
class Request {
 public:
  Request() = default;
  Request(Request&& other) noexcept;
  Request& operator=(Request&& other) noexcept;
  Request(const Request&) = delete;
  Request& operator=(const Request&) = delete;
  ~Request();

  bool pending() const { return handle_ != nullptr; }
  // Valid once the request has completed successfully.
  size_t bytes() const { return bytes_; }
  int peer() const { return peer_; }

 private:
  friend class Communicator;
  Communicator* comm_ = nullptr;
  void* handle_ = nullptr;  // the plugin's request
  int peer_ = -1;
  size_t bytes_ = 0;
};

// A registration of local memory with every transport the communicator uses.
// Deregistered when the last copy of the handle goes; release every handle
// before the Communicator.
class MemoryRegistration;
using MemoryHandle = std::shared_ptr<MemoryRegistration>;
// A peer's memory key, usable for puts to that peer.
class RemoteKeyImpl;
using RemoteKey = std::shared_ptr<RemoteKeyImpl>;

class Communicator {
 public:
  static absl::StatusOr<std::unique_ptr<Communicator>> Create(CommunicatorOptions options = {});
  ~Communicator();
  Communicator(const Communicator&) = delete;
  Communicator& operator=(const Communicator&) = delete;

  int rank() const;
  int size() const;
  absl::Duration timeout() const;
  // The transport connecting us to `peer` ("shm", "tcp", ...); "self" for our own rank.
  std::string transport_name(int peer) const;
  // Properties of the device the connection to `peer` runs on.
  absl::StatusOr<mc_device_props_v1_t> peer_device_props(int peer) const;

  // Tagged point-to-point. Messages between two ranks with the same tag
  // match in posting order. Sending to oneself is not supported (copy instead).
  absl::Status Isend(int peer, uint64_t tag, const void* buf, size_t len, Request* req);
  absl::Status Irecv(int peer, uint64_t tag, void* buf, size_t len, Request* req);
  // Blocks until done. A peer that does not complete it within timeout() is
  // declared failed; a failed peer's status names it (FailedPeerOf).
  absl::Status Wait(Request& req);
  // Waits for all; returns the first error, but always finishes every request.
  absl::Status WaitAll(absl::Span<Request> reqs);
  // Non-blocking: true when done (status in *status).
  bool Test(Request& req, absl::Status* status);
  absl::Status Send(int peer, uint64_t tag, const void* buf, size_t len);
  absl::Status Recv(int peer, uint64_t tag, void* buf, size_t len);

  // One-sided. Register local memory, hand its packed key to a peer (through
  // any channel, e.g. a send), and the peer can put into it.
  absl::StatusOr<MemoryHandle> RegisterMemory(void* ptr, size_t len, mc_mem_kind_t kind = MC_MEM_HOST);
  // The key of `mem` that `peer` can use (keys differ per transport).
  absl::StatusOr<std::string> PackRemoteKey(const MemoryHandle& mem, int peer);
  absl::StatusOr<RemoteKey> ImportRemoteKey(int peer, std::string_view packed);
  // Writes [src, src+len) to remote_addr in the peer's registered memory, then
  // delivers `notify` to the peer, never before the data. `src_mem` may be null.
  absl::Status Iput(int peer, const void* src, size_t len, const MemoryHandle& src_mem, uint64_t remote_addr,
                    const RemoteKey& key, uint64_t notify, Request* req);
  // Next notification from puts `peer` made into our memory; nullopt if none yet.
  absl::StatusOr<std::optional<Notification>> PollNotification(int peer);
  absl::StatusOr<Notification> WaitNotification(int peer);

  // Peer health. A failed peer never comes back to life.
  PeerState peer_state(int peer) const;
  std::vector<int> failed_ranks() const;
  std::vector<FailureEvent> failure_events() const;
  // Declares `peer` failed (e.g. a layer above saw it miss a deadline):
  // its endpoint is closed, its pending operations fail, listeners run.
  void DeclareFailed(int peer, std::string_view reason);
  // Called once per failed peer, on the thread that noticed.
  void AddFailureListener(std::function<void(const FailureEvent&)> listener);
  // Drives every transport once; failures seen are reported.
  absl::Status Progress();

  // The rendezvous store this communicator was built on, and the prefix of
  // its keys there (layers above put theirs under it).
  Store& store();
  const std::string& store_prefix() const;

  class Impl;

 private:
  friend class Request;
  friend class MemoryRegistration;
  friend class RemoteKeyImpl;
  explicit Communicator(std::unique_ptr<Impl> impl);
  void Abandon(Request& req);
  // Validates the peer and posts through `post` (one plugin call that hands
  // out a request), retrying while the transport answers MC_AGAIN.
  absl::Status Post(int peer, const char* op, Request* req, absl::FunctionRef<mc_result_t(void** handle)> post);
  std::unique_ptr<Impl> impl_;
};

}  // namespace mc

#endif  // MOONCOMM_COMMUNICATOR_H_
