// One rdma transport context (what init returns): its ports, a registration
// cache per device, the epoll set of side sockets and listeners, and
// everything the context owns -- listeners, connections, requests, user
// registrations and remote keys. finalize destroys it and with it all of those.
#ifndef MOONCOMM_PLUGINS_RDMA_VERBS_CONTEXT_H_
#define MOONCOMM_PLUGINS_RDMA_VERBS_CONTEXT_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "endpoint.h"
#include "ibv_port.h"
#include "mooncomm/plugin_abi.h"
#include "params.h"
#include "registration_cache.h"
#include "request.h"
#include "status.h"
#include "verbs.h"

namespace mc::rdma {

class Connection;
class Listener;
class RdmaContext;

// Something with a socket in the context's epoll set.
class Watched {
 public:
  virtual ~Watched() = default;
  virtual void OnEvents(uint32_t events) = 0;
  bool dead() const { return dead_; }
  void mark_dead() { dead_ = true; }

 private:
  bool dead_ = false;
};

// A reg() registration: one memory region per device of the context.
struct UserRegistration {
  static constexpr uint32_t kMagic = 0x47524452;  // "RDRG"
  uint32_t magic = kMagic;
  char* ptr = nullptr;
  size_t len = 0;
  std::vector<std::pair<MemoryDomain*, MemoryRegion>> regions;
};

// An unpacked peer key, valid for puts on the connection it was unpacked for.
struct RemoteKey {
  static constexpr uint32_t kMagic = 0x4b524452;  // "RDRK"
  uint32_t magic = kMagic;
  RdmaContext* ctx = nullptr;
  Connection* connection = nullptr;  // compared, never dereferenced: it may be closed by now
  PackedKey key;
};

// The devices a context runs on. Real ones come with their Hca objects (for
// async events); tests pass fake ports and an empty hcas.
struct ContextDevices {
  std::vector<std::unique_ptr<Hca>> hcas;
  std::vector<std::unique_ptr<Port>> ports;
};

class RdmaContext {
 public:
  static constexpr uint32_t kMagic = 0x58544452;  // "RDTX"

  // Reads the params and opens the devices. MC_ERR_NO_DEVICE ("no RDMA
  // device found ...") when none is usable; MC_ERR_INVALID_ARG naming a bad param.
  static StatusOr<std::unique_ptr<RdmaContext>> Create(const mc_host_v1_t& host);
  // Over devices the caller opened (tests run the plugin over fake ports this way).
  static StatusOr<std::unique_ptr<RdmaContext>> CreateWithDevices(const mc_host_v1_t& host, const RdmaConfig& config,
                                                                  ContextDevices devices);
  ~RdmaContext();
  RdmaContext(const RdmaContext&) = delete;
  RdmaContext& operator=(const RdmaContext&) = delete;

  bool valid() const { return magic_ == kMagic; }
  const RdmaConfig& config() const { return config_; }
  int device_count() const { return static_cast<int>(devices_.ports.size()); }
  Port* port(int dev) const { return devices_.ports[dev].get(); }
  RequestPool& requests() { return requests_; }
  RegistrationCache* CacheFor(MemoryDomain* domain);
  EndpointOptions endpoint_options() const;

  // The ABI calls.
  mc_result_t Listen(int dev, void* addr, size_t* addr_len, Listener** out);
  mc_result_t Connect(int dev, const void* addr, size_t addr_len, const void* hello, size_t hello_len,
                      Connection** out);
  // Stops listening; connections not yet accepted are dropped.
  void CloseListener(Listener* listener);
  void CloseConnection(Connection* connection);
  mc_result_t Progress();
  mc_result_t Register(void* ptr, size_t len, mc_mem_kind_t kind, UserRegistration** out);
  mc_result_t Deregister(UserRegistration* reg);
  mc_result_t PackKey(UserRegistration* reg, void* buf, size_t* len);
  RemoteKey* AddRemoteKey(Connection* connection, PackedKey key);
  bool ReleaseRemoteKey(RemoteKey* key);
  bool IsLiveRegistration(UserRegistration* reg) const { return registrations_.count(reg) > 0; }

  // For connections and listeners.
  bool Watch(int fd, Watched* target, uint32_t events);
  void Rewatch(int fd, Watched* target, uint32_t events);
  void Unwatch(int fd);
  Connection* AdoptConnection(std::unique_ptr<Connection> connection);
  // Destroys a connection quietly: used for accepted ones never handed out.
  void DestroyConnection(Connection* connection);
  void ReportPeerFailure(Connection* connection, const std::string& detail);
  void Log(mc_log_level_t level, const std::string& message) const;
  // Sockets are polled every progress while a handshake is under way.
  void NoteHandshake() { handshake_seen_ = true; }

 private:
  RdmaContext(const mc_host_v1_t& host, const RdmaConfig& config, ContextDevices devices, int epoll_fd);
  void PollSockets();
  void DrainAsyncEvents();
  void Bury(std::unique_ptr<Watched> object);

  uint32_t magic_ = kMagic;
  mc_host_v1_t host_;
  RdmaConfig config_;
  RequestPool requests_;
  ContextDevices devices_;
  std::vector<std::unique_ptr<RegistrationCache>> caches_;  // one per distinct domain
  int epoll_fd_;
  bool in_progress_ = false;
  bool handshake_seen_ = true;
  std::chrono::steady_clock::time_point last_socket_poll_{};
  std::unordered_map<Connection*, std::unique_ptr<Connection>> connections_;
  std::vector<Connection*> order_;     // connections in creation order, for progress
  std::vector<Connection*> snapshot_;  // reused by progress
  std::unordered_map<Listener*, std::unique_ptr<Listener>> listeners_;
  std::unordered_set<UserRegistration*> registrations_;
  std::unordered_set<RemoteKey*> remote_keys_;
  // Connections and listeners closed while inside progress; freed at the
  // start of the next one, so code up the stack can still look at their dead() flag.
  std::vector<std::unique_ptr<Watched>> graveyard_;
};

}  // namespace mc::rdma

#endif  // MOONCOMM_PLUGINS_RDMA_VERBS_CONTEXT_H_
