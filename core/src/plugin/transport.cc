// Transport: opens a loaded plugin and hands it the host table that routes
// its log lines, params and peer-failure reports into the core.
#include "plugin/transport.h"

#include <cstring>
#include <mutex>
#include <string>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/absl_compat.h"
#include "common/log.h"
#include "mooncomm/config.h"
#include "mooncomm/status.h"

namespace mc {
namespace {

constexpr size_t kInitErrorBytes = 512;

// What the plugin's host callbacks see through mc_host_v1_t::ctx.
struct HostContext {
  const mc_plugin_v1_t* plugin = nullptr;
  std::string name;
  // std::mutex rather than absl::Mutex: the sanitizers see into libstdc++'s
  // locks, not into a prebuilt Abseil's.
  std::mutex mu;
  // Guarded by `mu`. Copied out under it and called without it, so a callback
  // may replace itself and reports from several plugin threads do not serialize.
  std::shared_ptr<const Transport::FailureCallback> on_failure;
};

// "MC_<PLUGIN>_<NAME>", as config::RegisterPluginParams spells it.
std::string FullParamName(std::string_view plugin_name, std::string_view param_name) {
  std::string full =
      absl::StrCat("MC_", absl::AsciiStrToUpper(ToAbsl(plugin_name)), "_", absl::AsciiStrToUpper(ToAbsl(param_name)));
  for (char& c : full) {
    if (c == '-') c = '_';
  }
  return full;
}

// The value of a declared param in a form every plugin parses the same way:
// ints and sizes as plain decimal (suffixes applied), bools as "1" or "0".
absl::StatusOr<std::string> NormalizedValue(const std::string& full_name, mc_param_type_t type) {
  switch (type) {
    case MC_PARAM_INT: {
      absl::StatusOr<int64_t> v = config::GetInt(full_name);
      if (!v.ok()) return v.status();
      return absl::StrCat(*v);
    }
    case MC_PARAM_BOOL: {
      absl::StatusOr<bool> v = config::GetBool(full_name);
      if (!v.ok()) return v.status();
      return std::string(*v ? "1" : "0");
    }
    case MC_PARAM_SIZE: {
      absl::StatusOr<uint64_t> v = config::GetSize(full_name);
      if (!v.ok()) return v.status();
      return absl::StrCat(*v);
    }
    case MC_PARAM_STRING:
      return config::GetString(full_name);
  }
  return absl::InternalError(absl::StrCat(full_name, " has an unknown type"));
}

const mc_param_v1_t* FindDeclaredParam(const mc_plugin_v1_t& plugin, std::string_view name) {
  for (size_t i = 0; i < plugin.num_params; ++i) {
    if (plugin.params[i].name != nullptr && absl::EqualsIgnoreCase(plugin.params[i].name, ToAbsl(name))) {
      return &plugin.params[i];
    }
  }
  return nullptr;
}

// Every param of `plugin` that is set in the environment must parse.
absl::Status ValidateSetParams(const mc_plugin_v1_t& plugin, std::string_view name) {
  for (size_t i = 0; i < plugin.num_params; ++i) {
    std::string full = FullParamName(name, plugin.params[i].name);
    absl::StatusOr<std::string> value = NormalizedValue(full, plugin.params[i].type);
    if (!value.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("transport '", ToAbsl(name), "': ", value.status().message()));
    }
  }
  return absl::OkStatus();
}

void HostLog(void* ctx, mc_log_level_t level, const char* message) {
  auto* host = static_cast<HostContext*>(ctx);
  // A C plugin may pass any int; reading it as the C++ enum would be undefined.
  int clamped;
  static_assert(sizeof(clamped) == sizeof(level));
  std::memcpy(&clamped, &level, sizeof(clamped));
  if (clamped < MC_LOG_ERROR) clamped = MC_LOG_ERROR;
  if (clamped > MC_LOG_TRACE) clamped = MC_LOG_TRACE;
  auto lvl = static_cast<mc_log_level_t>(clamped);
  if (lvl > LogThreshold()) return;
  LogMessage(lvl).stream() << (host != nullptr ? host->name : "?") << ": " << (message != nullptr ? message : "(null)");
}

mc_result_t HostGetParam(void* ctx, const char* name, char* value, size_t value_len) {
  auto* host = static_cast<HostContext*>(ctx);
  if (host == nullptr || name == nullptr || (value == nullptr && value_len > 0)) return MC_ERR_INVALID_ARG;
  const mc_param_v1_t* param = FindDeclaredParam(*host->plugin, name);
  if (param == nullptr) {
    MC_LOG(WARN) << host->name << ": asked for parameter '" << name
                 << "', which the plugin does not declare in mc_plugin_v1.params";
    return MC_ERR_INVALID_ARG;
  }
  absl::StatusOr<std::string> text = NormalizedValue(FullParamName(host->name, param->name), param->type);
  if (!text.ok()) {
    // Open() checked the environment; this is a value set after that.
    MC_LOG(ERROR) << host->name << ": " << text.status().message();
    return MC_ERR_INVALID_ARG;
  }
  if (text->size() + 1 > value_len) return MC_ERR_NO_MEMORY;
  std::memcpy(value, text->data(), text->size());
  value[text->size()] = '\0';
  return MC_SUCCESS;
}

void HostPeerFailed(void* ctx, void* ep, mc_result_t reason, const char* detail) {
  auto* host = static_cast<HostContext*>(ctx);
  if (host == nullptr) return;
  std::string what = detail != nullptr ? detail : "";
  MC_LOG(INFO) << host->name << ": the peer of endpoint " << ep << " failed (" << ResultName(reason) << "): " << what;
  std::shared_ptr<const Transport::FailureCallback> callback;
  {
    std::lock_guard<std::mutex> lock(host->mu);
    callback = host->on_failure;
  }
  if (callback != nullptr && *callback) {
    (*callback)(ep, reason, what);
  } else {
    MC_LOG(WARN) << host->name << ": a peer failure was reported but no one is listening for it";
  }
}

}  // namespace

struct Transport::HostState {
  HostContext context;
  mc_host_v1_t table{};
};

Transport::Transport(LoadedPlugin plugin, std::unique_ptr<HostState> host)
    : plugin_(std::move(plugin)), host_(std::move(host)) {}

Transport::~Transport() {
  mc_result_t rc = ops().finalize(ctx_);
  if (rc != MC_SUCCESS) {
    MC_LOG(WARN) << "transport '" << name() << "' (" << plugin_.path << "): finalize returned " << ResultName(rc);
  }
}

absl::StatusOr<std::unique_ptr<Transport>> Transport::Open(LoadedPlugin plugin, FailureCallback on_failure) {
  if (plugin.plugin == nullptr) return absl::InvalidArgumentError("Transport::Open: the plugin is not loaded");
  const mc_plugin_v1_t& p = *plugin.plugin;
  config::RegisterPluginParams(plugin.name, p.params, p.num_params);
  if (absl::Status s = ValidateSetParams(p, plugin.name); !s.ok()) return s;

  auto host = std::make_unique<HostState>();
  host->context.plugin = plugin.plugin;
  host->context.name = plugin.name;
  host->context.on_failure = std::make_shared<const FailureCallback>(std::move(on_failure));
  host->table = mc_host_v1_t{&host->context, &HostLog, &HostGetParam, &HostPeerFailed};

  const std::string where = absl::StrCat("transport '", plugin.name, "' (", plugin.path, ")");
  void* ctx = nullptr;
  char err[kInitErrorBytes] = {0};
  mc_result_t rc = p.transport->init(&host->table, &ctx, err, sizeof(err));
  err[sizeof(err) - 1] = '\0';  // a plugin that fills the buffer may forget the NUL
  if (rc != MC_SUCCESS) {
    std::string why = err[0] != '\0' ? std::string(err) : "init gave no reason";
    return absl::FailedPreconditionError(absl::StrCat(where, " cannot run here: ", why, " (", ResultName(rc), ")"));
  }

  int count = 0;
  rc = p.transport->device_count(ctx, &count);
  if (rc != MC_SUCCESS || count < 0) {
    p.transport->finalize(ctx);
    if (rc != MC_SUCCESS) return StatusFromResult(rc, absl::StrCat(where, ": device_count failed"));
    return absl::InternalError(absl::StrCat(where, ": device_count returned ", count, " devices"));
  }

  std::unique_ptr<Transport> transport(new Transport(std::move(plugin), std::move(host)));
  transport->ctx_ = ctx;
  transport->device_count_ = count;
  MC_LOG(DEBUG) << "opened " << where << " with " << count << " device(s)";
  return transport;
}

absl::StatusOr<mc_device_props_v1_t> Transport::DeviceProps(int dev) const {
  if (dev < 0 || dev >= device_count_) {
    return absl::InvalidArgumentError(
        absl::StrCat("transport '", name(), "' has no device ", dev, " (it has ", device_count_, ")"));
  }
  mc_device_props_v1_t props;
  std::memset(&props, 0, sizeof(props));
  mc_result_t rc = plugin_.plugin->topology->device_props(ctx_, dev, &props);
  if (rc != MC_SUCCESS) {
    return StatusFromResult(rc, absl::StrCat("transport '", name(), "': device_props of device ", dev));
  }
  props.name[sizeof(props.name) - 1] = '\0';
  props.pci_path[sizeof(props.pci_path) - 1] = '\0';
  return props;
}

void Transport::set_failure_callback(FailureCallback cb) {
  auto callback = std::make_shared<const FailureCallback>(std::move(cb));
  std::lock_guard<std::mutex> lock(host_->context.mu);
  host_->context.on_failure = std::move(callback);
}

}  // namespace mc
