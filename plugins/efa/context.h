// One init() of the plugin: its devices, the epoll set of its control
// sockets, and everything handed to the core (listeners, connections,
// requests, registrations, remote keys), so that finalize frees it all.
#ifndef MOONCOMM_PLUGINS_EFA_CONTEXT_H_
#define MOONCOMM_PLUGINS_EFA_CONTEXT_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "connection.h"
#include "efa_params.h"
#include "fabric_device.h"
#include "intrusive_list.h"
#include "mooncomm/plugin_abi.h"
#include "plugin_log.h"
#include "registration.h"
#include "request.h"
#include "socket_watcher.h"
#include "truncation_guard.h"

namespace mc::efa {

class Listener;

class Context {
 public:
  static constexpr uint32_t kMagic = 0x58414645;  // "EFAX"

  static mc_result_t Create(const mc_host_v1_t& host, Context** out, std::string* error);
  // Finalize: closes and frees everything still open.
  ~Context();
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;

  bool valid() const { return magic_ == kMagic; }
  const Logger& log() const { return log_; }
  const EfaConfig& config() const { return config_; }
  int device_count() const { return static_cast<int>(devices_.size()); }
  Device* device(int index) const;  // null when out of range
  const std::vector<std::unique_ptr<Device>>& devices() const { return devices_; }

  mc_result_t Listen(int dev, void* addr, size_t* addr_len, Listener** out);
  void CloseListener(Listener* listener);
  mc_result_t Connect(int dev, const void* addr, size_t addr_len, const void* hello, size_t hello_len,
                      Connection** out);
  void CloseConnection(Connection* conn);  // close(ep)
  void AddConnection(Connection* conn);
  void DestroyConnection(Connection* conn);  // one the core never held

  Request* NewRequest(OpKind kind);
  void FreeRequest(Request* request);

  mc_result_t Register(void* ptr, size_t len, Registration** out);
  void Deregister(Registration* registration);
  mc_result_t UnpackRemoteKey(Connection* conn, const void* buf, size_t len, RemoteKey** out);
  static void ReleaseRemoteKey(RemoteKey* key);  // release_rkey has no context
  // A key to request from providers that let the plugin choose (no FI_MR_PROV_KEY).
  uint64_t NextRequestedKey() { return next_key_++; }

  // Drives every connection and the control sockets.
  void Progress();
  // Reads control socket events. Unless `force`, about once a millisecond
  // while no handshake is under way: a dead peer is seen soon enough, and a
  // hot test() loop does not pay a system call per turn.
  void PollSockets(bool force);
  bool Watch(int fd, uint32_t events, SocketWatcher* watcher);
  void Rewatch(int fd, uint32_t events, SocketWatcher* watcher);
  void Unwatch(int fd);
  void HandshakeBegan() { ++handshakes_; }
  void HandshakeEnded() { --handshakes_; }

  void ReportPeerFailure(Connection* conn, const std::string& detail);
  // A truncated receive wrote into the guard region: give its pages back.
  void DiscardGuardPages() { guard_.Discard(); }

 private:
  Context(const mc_host_v1_t& host, const EfaConfig& config);
  void SetUpTruncationGuard();

  uint32_t magic_ = kMagic;
  mc_host_v1_t host_;
  Logger log_;
  EfaConfig config_;
  std::vector<std::unique_ptr<Device>> devices_;
  TruncationGuard guard_;  // unmapped after ~Context's body closed every endpoint posting into it
  int epoll_fd_ = -1;
  int handshakes_ = 0;
  Clock::time_point next_socket_poll_{};
  uint32_t unforced_polls_ = 0;
  uint64_t next_key_ = 1;
  uint64_t next_listener_id_;

  std::vector<Listener*> listeners_;
  IntrusiveList<Connection, &Connection::ctx_hook> connections_;
  IntrusiveList<Request, &Request::ctx_hook> requests_;
  std::vector<void*> spare_requests_;  // memory of freed requests, for the next ones
  IntrusiveList<Registration, &Registration::hook> registrations_;
  IntrusiveList<RemoteKey, &RemoteKey::hook> remote_keys_;
};

}  // namespace mc::efa

#endif  // MOONCOMM_PLUGINS_EFA_CONTEXT_H_
