// One tcp transport context (what init returns): the chosen interfaces, the
// epoll set that progress() drives, and everything the context owns --
// listeners, endpoints, requests, registrations and remote keys. finalize
// destroys it and with it all of those.
#ifndef MOONCOMM_SRC_TRANSPORTS_TCP_CONTEXT_H_
#define MOONCOMM_SRC_TRANSPORTS_TCP_CONTEXT_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "mooncomm/plugin_abi.h"
#include "transports/tcp/interfaces.h"
#include "transports/tcp/memory_registry.h"
#include "transports/tcp/pollable.h"
#include "transports/tcp/request.h"
#include "transports/tcp/tcp_params.h"

namespace mc::tcp {

class Endpoint;
class Listener;

class TcpContext {
 public:
  static constexpr uint32_t kMagic = 0x58544354;  // "TCTX"

  // Reads the params through `host` and picks the interfaces. Errors name the
  // bad variable (InvalidArgument) or say why no interface is usable (NotFound).
  static absl::StatusOr<std::unique_ptr<TcpContext>> Create(const mc_host_v1_t& host);
  ~TcpContext();
  TcpContext(const TcpContext&) = delete;
  TcpContext& operator=(const TcpContext&) = delete;

  bool valid() const { return magic_ == kMagic; }
  const TcpConfig& config() const { return config_; }
  int device_count() const { return static_cast<int>(devices_.size()); }
  const NetInterface& device(int dev) const { return devices_[dev]; }
  MemoryRegistry& memory() { return memory_; }

  // The ABI calls.
  mc_result_t Listen(int dev, void* addr, size_t* addr_len, Listener** out);
  mc_result_t Connect(int dev, const void* addr, size_t addr_len, const void* hello, size_t hello_len,
                      Endpoint** out);
  void CloseListener(Listener* listener);
  // Cancels the endpoint's requests (MC_ERR_CLOSED) and destroys it.
  void CloseEndpoint(Endpoint* ep);
  mc_result_t Progress();
  mc_result_t Deregister(Registration* reg);

  // For endpoints and listeners.
  bool Watch(int fd, Pollable* target, uint32_t events);
  void Rewatch(int fd, Pollable* target, uint32_t events);
  void Unwatch(int fd);
  Endpoint* AdoptEndpoint(std::unique_ptr<Endpoint> ep);
  // Destroys an endpoint quietly (no completions, no report): used for
  // connections that were never handed out.
  void DestroyEndpoint(Endpoint* ep);
  // Asks for ep->RunDeferred() at the start and end of the next progress.
  void ScheduleDeferred(Endpoint* ep);
  void ReportPeerFailure(Endpoint* ep, const std::string& detail);
  void Log(mc_log_level_t level, const std::string& message) const;

  Request* NewRequest(Request::Kind kind);
  void FreeRequest(Request* request);

 private:
  TcpContext(const mc_host_v1_t& host, TcpConfig config, std::vector<NetInterface> devices, int epoll_fd);
  void RunDeferred();
  void Bury(std::unique_ptr<Pollable> object);

  uint32_t magic_ = kMagic;
  mc_host_v1_t host_;
  TcpConfig config_;
  std::vector<NetInterface> devices_;
  int epoll_fd_;
  bool in_progress_ = false;
  bool epoll_failure_logged_ = false;
  MemoryRegistry memory_;
  absl::flat_hash_map<Endpoint*, std::unique_ptr<Endpoint>> endpoints_;
  absl::flat_hash_map<Listener*, std::unique_ptr<Listener>> listeners_;
  std::vector<Endpoint*> deferred_;
  // Objects closed while inside progress; freed at the start of the next one,
  // so that code up the stack (and an API call that just progressed) can
  // still look at their dead() flag.
  std::vector<std::unique_ptr<Pollable>> graveyard_;
  Request* live_requests_ = nullptr;  // intrusive list of every request not yet freed
  std::vector<Request*> spare_requests_;
};

}  // namespace mc::tcp

#endif  // MOONCOMM_SRC_TRANSPORTS_TCP_CONTEXT_H_
