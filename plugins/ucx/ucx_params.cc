#include "ucx_params.h"

#include <cerrno>
#include <cstdlib>
#include <vector>

namespace mc::ucx {

namespace {

bool ReadRaw(const mc_host_v1_t& host, const char* name, std::string* value, std::string* why) {
  std::vector<char> buf(256);
  for (int attempt = 0; attempt < 8; ++attempt) {
    const mc_result_t rc = host.get_param(host.ctx, name, buf.data(), buf.size());
    if (rc == MC_SUCCESS) {
      *value = buf.data();
      return true;
    }
    if (rc != MC_ERR_NO_MEMORY) {
      *why = std::string("reading MC_UCX_") + name + " failed (error " + std::to_string(rc) + ")";
      return false;
    }
    buf.resize(buf.size() * 4);
  }
  *why = std::string("MC_UCX_") + name + " is too long";
  return false;
}

bool ReadMilliseconds(const mc_host_v1_t& host, const char* name, int* out, std::string* why) {
  std::string text;
  if (!ReadRaw(host, name, &text, why)) return false;
  errno = 0;
  char* end = nullptr;
  const long long value = std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || errno != 0 || value < 1 || value > 24 * 3600 * 1000LL) {
    *why = std::string("MC_UCX_") + name + "='" + text + "' must be between 1 and 86400000 milliseconds";
    return false;
  }
  *out = static_cast<int>(value);
  return true;
}

bool ReadErrorMode(const mc_host_v1_t& host, ErrorMode* out, std::string* why) {
  std::string text;
  if (!ReadRaw(host, "ERROR_MODE", &text, why)) return false;
  if (text == "auto") {
    *out = ErrorMode::kAuto;
  } else if (text == "peer") {
    *out = ErrorMode::kPeer;
  } else if (text == "none") {
    *out = ErrorMode::kNone;
  } else {
    *why = "MC_UCX_ERROR_MODE='" + text + "' must be auto, peer or none";
    return false;
  }
  return true;
}

}  // namespace

bool ReadUcxConfig(const mc_host_v1_t& host, UcxConfig* config, std::string* why) {
  if (host.get_param == nullptr) {
    *why = "the host table has no get_param";
    return false;
  }
  return ReadRaw(host, "IF", &config->interface, why) &&
         ReadMilliseconds(host, "CONNECT_TIMEOUT_MS", &config->connect_timeout_ms, why) &&
         ReadMilliseconds(host, "PEER_TIMEOUT_MS", &config->peer_timeout_ms, why) &&
         ReadErrorMode(host, &config->error_mode, why);
}

}  // namespace mc::ucx
