#include "transports/tcp/tcp_params.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "mooncomm/config.h"
#include "mooncomm/status.h"

namespace mc::tcp {
namespace {

// Lengths above this could overflow offset arithmetic; nobody sends 2^62 bytes.
constexpr uint64_t kMaxMessageCeiling = uint64_t{1} << 62;

absl::StatusOr<std::string> RawParam(const mc_host_v1_t& host, const char* name) {
  std::vector<char> value(256);
  for (int attempt = 0; attempt < 8; ++attempt) {
    mc_result_t r = host.get_param(host.ctx, name, value.data(), value.size());
    if (r == MC_SUCCESS) return std::string(value.data());
    if (r != MC_ERR_NO_MEMORY) {
      return StatusFromResult(r, absl::StrCat("reading parameter MC_TCP_", name));
    }
    value.resize(value.size() * 4);
  }
  return absl::InvalidArgumentError(absl::StrCat("MC_TCP_", name, " is too long"));
}

}  // namespace

const mc_param_v1_t kTcpParams[] = {
    {"IF", MC_PARAM_STRING, "",
     "network interfaces to use, comma separated (default: the first up non-loopback IPv4 interface, else lo)"},
    {"EAGER_LIMIT", MC_PARAM_SIZE, "64K", "messages up to this size are sent eagerly, larger ones by rendezvous"},
    {"MAX_MESSAGE", MC_PARAM_SIZE, "2G", "largest message or put; larger incoming frames break the connection"},
    {"USER_TIMEOUT_MS", MC_PARAM_INT, "30000",
     "a connection whose data or keepalive probes stay unanswered this long is lost (TCP_USER_TIMEOUT)"},
};
const size_t kNumTcpParams = sizeof(kTcpParams) / sizeof(kTcpParams[0]);

absl::StatusOr<TcpConfig> ReadTcpConfig(const mc_host_v1_t& host) {
  if (host.get_param == nullptr) return absl::InvalidArgumentError("host table has no get_param");
  TcpConfig config;

  absl::StatusOr<std::string> raw = RawParam(host, "IF");
  if (!raw.ok()) return raw.status();
  config.interfaces = *raw;

  raw = RawParam(host, "MAX_MESSAGE");
  if (!raw.ok()) return raw.status();
  absl::StatusOr<uint64_t> max_message = config::ParseSize("MC_TCP_MAX_MESSAGE", *raw);
  if (!max_message.ok()) return max_message.status();
  if (*max_message == 0 || *max_message > kMaxMessageCeiling) {
    return absl::InvalidArgumentError(
        absl::StrCat("MC_TCP_MAX_MESSAGE='", *raw, "' must be between 1 byte and 4 EiB"));
  }
  config.max_message = *max_message;

  raw = RawParam(host, "EAGER_LIMIT");
  if (!raw.ok()) return raw.status();
  absl::StatusOr<uint64_t> eager_limit = config::ParseSize("MC_TCP_EAGER_LIMIT", *raw);
  if (!eager_limit.ok()) return eager_limit.status();
  if (*eager_limit > config.max_message) {
    return absl::InvalidArgumentError(absl::StrCat("MC_TCP_EAGER_LIMIT='", *raw,
                                                   "' is above MC_TCP_MAX_MESSAGE (", config.max_message,
                                                   " bytes)"));
  }
  config.eager_limit = *eager_limit;

  raw = RawParam(host, "USER_TIMEOUT_MS");
  if (!raw.ok()) return raw.status();
  absl::StatusOr<int64_t> timeout = config::ParseInt("MC_TCP_USER_TIMEOUT_MS", *raw);
  if (!timeout.ok()) return timeout.status();
  if (*timeout < 1 || *timeout > INT32_MAX) {
    return absl::InvalidArgumentError(absl::StrCat("MC_TCP_USER_TIMEOUT_MS='", *raw,
                                                   "' must be between 1 and ", INT32_MAX, " milliseconds"));
  }
  config.user_timeout_ms = static_cast<uint32_t>(*timeout);
  return config;
}

}  // namespace mc::tcp
