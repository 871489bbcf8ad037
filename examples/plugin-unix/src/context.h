// One unixdemo context: what init() returns and finalize() destroys. It owns
// every object the plugin hands out -- listeners, endpoints, requests,
// registrations and remote keys -- so finalize can free whatever the core
// left open, and it drives them all in progress().
//
// Threading: the ABI promises that the core calls into one context from one
// thread at a time, and unixdemo runs no threads of its own, so nothing here
// takes a lock.
#ifndef UNIXDEMO_CONTEXT_H_
#define UNIXDEMO_CONTEXT_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "memory.h"
#include "mooncomm/plugin_abi.h"
#include "params.h"
#include "request.h"

namespace unixdemo {

class Endpoint;
class Listener;

class Context {
 public:
  static constexpr uint32_t kMagic = 0x43445855;  // "UXDC"

  // init(): reads the params and checks that Unix sockets work here. On
  // failure returns nullptr, with *result (MC_ERR_INVALID_ARG for a bad param,
  // MC_ERR_NO_DEVICE when sockets cannot be made) and `error` saying why.
  static std::unique_ptr<Context> Create(const mc_host_v1_t& host, mc_result_t* result, std::string* error);
  // finalize(): closes every socket and frees every object still open.
  ~Context();
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;

  bool valid() const { return magic_ == kMagic; }
  const Settings& settings() const { return settings_; }
  void Log(mc_log_level_t level, const char* format, ...) const __attribute__((format(printf, 3, 4)));

  // ---- connections ----
  mc_result_t Listen(void* addr, size_t* addr_len, Listener** out);
  mc_result_t Connect(const void* addr, size_t addr_len, const void* hello, size_t hello_len, Endpoint** out);
  void CloseListener(Listener* listener);
  // close(): cancels the endpoint's requests (MC_ERR_CLOSED) and drops it.
  void CloseEndpoint(Endpoint* ep);
  // For listeners: takes a freshly accepted socket as an endpoint awaiting its HELLO.
  Endpoint* AdoptAccepted(int fd);
  // Takes an endpoint off the live list (it is freed at the start of the next
  // outermost progress). Alone, for one never handed to the core, it is a
  // quiet drop: no completions, no report.
  void Retire(Endpoint* ep);
  uint64_t NextEndpointId() { return ++last_endpoint_id_; }
  // A buffer that payload bytes nobody wants are read into and dropped.
  char* scratch() { return scratch_.data(); }
  size_t scratch_size() const { return scratch_.size(); }

  // progress(): accepts connections, moves bytes on every endpoint, then
  // reports lost peers to the host.
  void Progress();

  // ---- requests ----
  Request* NewRequest(Request::Kind kind, uint64_t tag, void* buf, size_t len);
  // After test() reported the request done.
  void FreeRequest(Request* request);

  // ---- memory ----
  mc_result_t Register(void* ptr, size_t len, mc_mem_kind_t kind, Registration** out);
  bool Owns(const Registration* reg) const;
  void Deregister(Registration* reg);
  // The registration a PUT names, or nullptr (unknown or deregistered key).
  const Registration* FindRegistration(uint64_t key) const;
  RemoteKey* NewRemoteKey(uint64_t endpoint_id, uint64_t key);
  // False when `key` is not one of ours.
  bool ReleaseRemoteKey(RemoteKey* key);

 private:
  Context(const mc_host_v1_t& host, const Settings& settings);
  std::string NewSocketName();

  uint32_t magic_ = kMagic;
  mc_host_v1_t host_;  // a copy: the core's table need not outlive init()
  Settings settings_;
  std::mt19937_64 random_;
  uint64_t last_endpoint_id_ = 0;
  uint64_t last_listener_id_ = 0;
  std::vector<char> scratch_;

  std::unordered_map<Listener*, std::unique_ptr<Listener>> listeners_;
  std::unordered_map<Endpoint*, std::unique_ptr<Endpoint>> endpoints_;
  std::unordered_map<Request*, std::unique_ptr<Request>> requests_;
  std::unordered_map<uint64_t, std::unique_ptr<Registration>> registrations_;  // by key
  std::unordered_map<RemoteKey*, std::unique_ptr<RemoteKey>> remote_keys_;

  // Closed endpoints and listeners are freed at the start of the next
  // outermost progress(), not at once: the host's peer_failed callback may
  // close an endpoint while progress() is still walking the list, and
  // accept() / poll_notification() look at their object after progressing.
  std::vector<std::unique_ptr<Endpoint>> closed_endpoints_;
  std::vector<std::unique_ptr<Listener>> closed_listeners_;
  int progress_depth_ = 0;
};

}  // namespace unixdemo

#endif  // UNIXDEMO_CONTEXT_H_
