#include "efa_params.h"

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <vector>

namespace mc::efa {
namespace {

bool RawParam(const mc_host_v1_t& host, const char* name, std::string* value, std::string* error) {
  std::vector<char> buf(256);
  for (int attempt = 0; attempt < 6; ++attempt) {
    mc_result_t rc = host.get_param(host.ctx, name, buf.data(), buf.size());
    if (rc == MC_SUCCESS) {
      *value = buf.data();
      return true;
    }
    if (rc != MC_ERR_NO_MEMORY) {
      *error = std::string("reading MC_EFA_") + name + " failed";
      return false;
    }
    buf.resize(buf.size() * 4);
  }
  *error = std::string("MC_EFA_") + name + " is too long";
  return false;
}

// The host hands ints as plain decimal.
bool ParseInt(const std::string& text, int64_t* out) {
  if (text.empty()) return false;
  errno = 0;
  char* end = nullptr;
  long long v = std::strtoll(text.c_str(), &end, 10);
  if (errno != 0 || end == nullptr || *end != '\0') return false;
  *out = v;
  return true;
}

// The host normalizes sizes to plain decimal; a suffix is taken too, so a
// host that passes values through unchanged is understood as well.
bool ParseSize(std::string text, int64_t* out) {
  int shift = 0;
  if (!text.empty()) {
    switch (text.back()) {
      case 'k':
      case 'K':
        shift = 10;
        break;
      case 'm':
      case 'M':
        shift = 20;
        break;
      case 'g':
      case 'G':
        shift = 30;
        break;
      default:
        break;
    }
    if (shift != 0) text.pop_back();
  }
  int64_t value = 0;
  if (!ParseInt(text, &value) || value < 0 || value > (INT64_MAX >> shift)) return false;
  *out = value << shift;
  return true;
}

bool ParseBool(const std::string& text) {
  return text == "1" || text == "true" || text == "yes" || text == "on" || text == "TRUE" || text == "YES" ||
         text == "ON";
}

}  // namespace

const mc_param_v1_t kEfaParams[] = {
    {"PROVIDER", MC_PARAM_STRING, "efa",
     "libfabric provider to use (efa; tcp or shm for testing); FI_PROVIDER alone never picks another one"},
    {"DOMAIN", MC_PARAM_STRING, "", "use only the libfabric domain (device) of this name; empty: every domain"},
    {"SOCKET_IFNAME", MC_PARAM_STRING, "",
     "interface for the control sockets (handshake and liveness); empty: the device's own IP, else the first up "
     "non-loopback IPv4 interface"},
    {"CONNECT_TIMEOUT_MS", MC_PARAM_INT, "10000",
     "a connection whose handshake is not answered within this many milliseconds fails"},
    {"FORCE_MR_LOCAL", MC_PARAM_BOOL, "0",
     "register local buffers even when the provider does not require it (FI_MR_LOCAL path)"},
    {"MAX_MESSAGE", MC_PARAM_SIZE, "2G", "largest message or put (at most what the provider allows)"},
    {"TRUNCATION_GUARD", MC_PARAM_BOOL, "1",
     "give every receive an overflow buffer so that the provider never truncates (the plugin reports it)"},
};
const size_t kNumEfaParams = sizeof(kEfaParams) / sizeof(kEfaParams[0]);

bool ReadEfaConfig(const mc_host_v1_t& host, EfaConfig* config, std::string* error) {
  if (host.get_param == nullptr) {
    *error = "the host table has no get_param";
    return false;
  }
  std::string text;
  if (!RawParam(host, "PROVIDER", &config->provider, error)) return false;
  // Only a provider named here is used: MC_TRANSPORT=auto must not open this
  // plugin over tcp because FI_PROVIDER=tcp is set for something else.
  if (config->provider.empty()) config->provider = "efa";
  if (!RawParam(host, "DOMAIN", &config->domain, error)) return false;
  if (!RawParam(host, "SOCKET_IFNAME", &config->socket_ifname, error)) return false;
  if (!RawParam(host, "CONNECT_TIMEOUT_MS", &text, error)) return false;
  if (!ParseInt(text, &config->connect_timeout_ms) || config->connect_timeout_ms <= 0 ||
      config->connect_timeout_ms > 3600 * 1000) {
    *error = "MC_EFA_CONNECT_TIMEOUT_MS='" + text + "' must be between 1 and 3600000";
    return false;
  }
  if (!RawParam(host, "FORCE_MR_LOCAL", &text, error)) return false;
  config->force_mr_local = ParseBool(text);
  if (!RawParam(host, "MAX_MESSAGE", &text, error)) return false;
  int64_t max_message = 0;
  if (!ParseSize(text, &max_message) || max_message <= 0 || max_message > (int64_t{1} << 46)) {
    *error = "MC_EFA_MAX_MESSAGE='" + text + "' must be between 1 byte and 64 TiB";
    return false;
  }
  config->max_message = static_cast<uint64_t>(max_message);
  if (!RawParam(host, "TRUNCATION_GUARD", &text, error)) return false;
  config->truncation_guard = ParseBool(text);
  return true;
}

bool ProviderMayHaveDevice(const std::string& provider, const char* sysfs_dir) {
  return provider != "efa" || plugins::HasRdmaDevice(sysfs_dir);
}

}  // namespace mc::efa
