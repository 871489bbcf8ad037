// One process's use of the plugin under test, inside a child: init with a
// TestHost, thin wrappers over the raw ABI calls that check every result
// (CONF_CHECK: a failure ends the child with a message naming the call), and
// a Finalize that verifies the plugin gave back everything it took.
#ifndef MOONCOMM_TESTS_CONFORMANCE_SESSION_H_
#define MOONCOMM_TESTS_CONFORMANCE_SESSION_H_

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "deadline.h"
#include "mooncomm/plugin_abi.h"
#include "process_snapshot.h"
#include "test_host.h"

namespace mc::conformance {

class Session {
 public:
  // Inits the plugin. MC_ERR_NO_DEVICE ends the child with kChildNoDevice
  // (the case is skipped); any other failure ends it as failed.
  explicit Session(const mc_plugin_v1_t* plugin);
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  const mc_plugin_v1_t& plugin() const { return *plugin_; }
  const mc_transport_v1_t& t() const { return *plugin_->transport; }
  const mc_memory_v1_t& m() const { return *plugin_->memory; }
  void* ctx() const { return ctx_; }
  TestHost& host() { return *host_; }

  int DeviceCount();
  mc_device_props_v1_t DeviceProps(int dev);
  void Progress();

  // Connection setup. Listen returns the address bytes.
  std::string Listen(int dev, void** listener);
  void* Accept(void* listener, std::string* hello, const Deadline& deadline);
  void* Connect(int dev, std::string_view addr, std::string_view hello);
  void Close(void* ep);  // expects MC_SUCCESS
  void CloseListener(void* listener);

  // Posting; MC_AGAIN is retried (driving progress) until kOpTimeout.
  void* PostSend(void* ep, uint64_t tag, const void* buf, size_t len, void* mr = nullptr);
  void* PostRecv(void* ep, uint64_t tag, void* buf, size_t len, void* mr = nullptr);
  void* PostPut(void* ep, const void* buf, size_t len, void* mr, uint64_t remote_addr, void* rkey, uint64_t notify);

  // One test() call: true with *completion filled once the request is done.
  bool Test(void* req, mc_completion_v1_t* completion, std::string_view what);
  // Waits for one request / all of them, driving progress.
  mc_completion_v1_t Wait(void* req, std::string_view what, const Deadline& deadline);
  mc_completion_v1_t Wait(void* req, std::string_view what);  // within kOpTimeout
  std::vector<mc_completion_v1_t> WaitAll(const std::vector<void*>& reqs, std::string_view what,
                                          const Deadline& deadline);

  // Memory.
  void* Register(void* ptr, size_t len);
  void Deregister(void* mr);
  std::string PackRkey(void* mr);

  // No host callback has seen a contract breach so far.
  void ExpectNoHostProblems();
  // No peer_failed report so far (all peers are healthy).
  void ExpectNoPeerFailures(std::string_view when);

  // Finalizes, then checks that the plugin's threads have stopped, its file
  // descriptors and shared-memory mappings are gone and, under ASan, that
  // nothing leaked. Leftovers are failures.
  void Finalize();

 private:
  const mc_plugin_v1_t* plugin_;
  std::unique_ptr<TestHost> host_;
  ProcessSnapshot before_init_;
  void* ctx_ = nullptr;
};

}  // namespace mc::conformance

#endif  // MOONCOMM_TESTS_CONFORMANCE_SESSION_H_
