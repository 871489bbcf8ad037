// A plugin opened for use: its context, its devices, and the host callbacks
// that route its log lines, params and peer-failure reports into the core.
#ifndef MOONCOMM_SRC_PLUGIN_TRANSPORT_H_
#define MOONCOMM_SRC_PLUGIN_TRANSPORT_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "mooncomm/plugin_abi.h"
#include "plugin/loader.h"

namespace mc {

class Transport {
 public:
  // May be called from any thread (a plugin's own thread included).
  using FailureCallback = std::function<void(void* ep, mc_result_t reason, const std::string& detail)>;

  // Registers the plugin's params with config, checks those set in the
  // environment (InvalidArgument naming a bad one), then calls init. A plugin
  // that cannot run here is FailedPrecondition:
  //   "transport '<name>' (<path>) cannot run here: <its message> (<result>)".
  // The host table's get_param answers only the plugin's declared params, in
  // a normalized form: ints and sizes as plain decimal, bools as "1"/"0".
  static absl::StatusOr<std::unique_ptr<Transport>> Open(LoadedPlugin plugin, FailureCallback on_failure);
  ~Transport();  // finalize
  Transport(const Transport&) = delete;
  Transport& operator=(const Transport&) = delete;

  const std::string& name() const { return plugin_.name; }
  const LoadedPlugin& plugin() const { return plugin_; }
  int device_count() const { return device_count_; }
  absl::StatusOr<mc_device_props_v1_t> DeviceProps(int dev) const;

  // The raw tables and context, for the hot paths (isend/irecv/test).
  const mc_transport_v1_t& ops() const { return *plugin_.plugin->transport; }
  const mc_memory_v1_t& mem() const { return *plugin_.plugin->memory; }
  void* ctx() const { return ctx_; }

  // The failure callback may be replaced (the Communicator sets it once it
  // knows which endpoint belongs to which rank).
  void set_failure_callback(FailureCallback cb);

 private:
  struct HostState;
  Transport(LoadedPlugin plugin, std::unique_ptr<HostState> host);
  LoadedPlugin plugin_;
  std::unique_ptr<HostState> host_;
  void* ctx_ = nullptr;
  int device_count_ = 0;
};

}  // namespace mc

#endif  // MOONCOMM_SRC_PLUGIN_TRANSPORT_H_
