#include "params.h"

#include <cctype>
#include <limits>
#include <vector>

namespace mc::rdma {
namespace {

constexpr int kMaxQpsPerPeer = 16;
constexpr uint64_t kMaxEagerLimit = 1u << 20;  // a receive buffer per credit: keep them modest

// The environment name of a param: "MC_RDMA_" + name for the shipped plugin.
std::string FullName(std::string_view prefix, const char* name) { return std::string(prefix) + name; }

std::string Quoted(std::string_view name, std::string_view text) {
  return std::string(name) + "='" + std::string(text) + "'";
}

StatusOr<std::string> RawParam(const mc_host_v1_t& host, std::string_view prefix, const char* name) {
  std::vector<char> value(256);
  for (int attempt = 0; attempt < 8; ++attempt) {
    mc_result_t r = host.get_param(host.ctx, name, value.data(), value.size());
    if (r == MC_SUCCESS) {
      value.back() = '\0';
      return std::string(value.data());
    }
    if (r != MC_ERR_NO_MEMORY) return Status(r, "reading parameter " + FullName(prefix, name) + " failed");
    value.resize(value.size() * 4);
  }
  return InvalidArgument(FullName(prefix, name) + " is too long");
}

// Reads and range-checks one int param.
template <typename T>
Status ReadInt(const mc_host_v1_t& host, std::string_view prefix, const char* name, int64_t min, int64_t max, T* out) {
  StatusOr<std::string> raw = RawParam(host, prefix, name);
  if (!raw.ok()) return raw.status();
  StatusOr<int64_t> value = ParseIntParam(FullName(prefix, name), *raw, min, max);
  if (!value.ok()) return value.status();
  *out = static_cast<T>(*value);
  return Status();
}

template <typename T>
Status ReadSize(const mc_host_v1_t& host, std::string_view prefix, const char* name, uint64_t min, uint64_t max,
                T* out) {
  StatusOr<std::string> raw = RawParam(host, prefix, name);
  if (!raw.ok()) return raw.status();
  StatusOr<uint64_t> value = ParseSizeParam(FullName(prefix, name), *raw, min, max);
  if (!value.ok()) return value.status();
  *out = static_cast<T>(*value);
  return Status();
}

std::string_view Trim(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.remove_suffix(1);
  return text;
}

// Digits only, no overflow past uint64.
bool ParseDigits(std::string_view digits, uint64_t* out) {
  if (digits.empty()) return false;
  uint64_t v = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return false;
    const uint64_t d = static_cast<uint64_t>(c - '0');
    if (v > (std::numeric_limits<uint64_t>::max() - d) / 10) return false;
    v = v * 10 + d;
  }
  *out = v;
  return true;
}

}  // namespace

const mc_param_v1_t kRdmaParams[] = {
    {"DEVICES", MC_PARAM_STRING, "",
     "RDMA ports to use, comma separated: mlx5_0 (its active ports) or mlx5_0:1 (default: every active port)"},
    {"GID_INDEX", MC_PARAM_INT, "-1",
     "GID table index (RoCE, routed IB); -1 chooses: RoCE v2 with an IPv4-mapped address first"},
    {"QPS_PER_PEER", MC_PARAM_INT, "2",
     "RC queue pairs per connection (1-16); large transfers are striped over them; the connector's value wins"},
    {"EAGER_LIMIT", MC_PARAM_SIZE, "8K",
     "messages up to this size travel through pre-posted receive buffers, larger ones by rendezvous (RDMA READ)"},
    {"RECV_DEPTH", MC_PARAM_INT, "128", "receive buffers posted per connection: eager messages in flight (2-8192)"},
    {"SEND_DEPTH", MC_PARAM_INT, "256", "send queue entries per queue pair (16-8192)"},
    {"CHUNK_SIZE", MC_PARAM_SIZE, "1M",
     "rendezvous reads and large puts are cut into chunks of this size, spread over the queue pairs (4K-1G)"},
    {"IB_TIMEOUT", MC_PARAM_INT, "14", "local ACK timeout of the queue pairs: 4.096 us * 2^value (1-31)"},
    {"RETRY_COUNT", MC_PARAM_INT, "7", "transport retries before a queue pair gives up on its peer (0-7)"},
    {"TRAFFIC_CLASS", MC_PARAM_INT, "0", "traffic class (RoCE: DSCP << 2) of the queue pairs (0-255)"},
    {"SERVICE_LEVEL", MC_PARAM_INT, "0", "InfiniBand service level of the queue pairs (0-15)"},
    {"SOCKET_IF", MC_PARAM_STRING, "",
     "interface of the connection-setup and liveness socket (default: the port's netdev, else the first up "
     "non-loopback one, else lo)"},
    {"REG_CACHE", MC_PARAM_STRING, "auto",
     "cache registrations of unregistered buffers: auto (only with on-demand paging), on (also without), off"},
    {"REG_CACHE_ENTRIES", MC_PARAM_INT, "256", "most cached registrations per device (1-65536)"},
};
const size_t kNumRdmaParams = sizeof(kRdmaParams) / sizeof(kRdmaParams[0]);

StatusOr<int64_t> ParseIntParam(std::string_view name, std::string_view text, int64_t min, int64_t max) {
  std::string_view t = Trim(text);
  bool negative = false;
  if (!t.empty() && (t.front() == '-' || t.front() == '+')) {
    negative = t.front() == '-';
    t.remove_prefix(1);
  }
  uint64_t magnitude = 0;
  const std::string range = "between " + std::to_string(min) + " and " + std::to_string(max);
  if (!ParseDigits(t, &magnitude)) {
    return InvalidArgument(Quoted(name, text) + " is not an integer (expected one " + range + ")");
  }
  if (magnitude > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
    return InvalidArgument(Quoted(name, text) + " must be " + range);
  }
  const int64_t value = negative ? -static_cast<int64_t>(magnitude) : static_cast<int64_t>(magnitude);
  if (value < min || value > max) return InvalidArgument(Quoted(name, text) + " must be " + range);
  return value;
}

StatusOr<uint64_t> ParseSizeParam(std::string_view name, std::string_view text, uint64_t min, uint64_t max) {
  std::string_view t = Trim(text);
  uint64_t unit = 1;
  if (!t.empty()) {
    switch (std::toupper(static_cast<unsigned char>(t.back()))) {
      case 'K': unit = uint64_t{1} << 10; break;
      case 'M': unit = uint64_t{1} << 20; break;
      case 'G': unit = uint64_t{1} << 30; break;
      default: break;
    }
    if (unit != 1) t.remove_suffix(1);
  }
  const std::string range = "between " + std::to_string(min) + " and " + std::to_string(max) + " bytes";
  uint64_t count = 0;
  if (!ParseDigits(t, &count)) {
    return InvalidArgument(Quoted(name, text) + " is not a size (bytes, with an optional K, M or G)");
  }
  if (count > std::numeric_limits<uint64_t>::max() / unit || count * unit < min || count * unit > max) {
    return InvalidArgument(Quoted(name, text) + " must be " + range);
  }
  return count * unit;
}

StatusOr<RegCacheMode> ParseRegCacheMode(std::string_view name, std::string_view text) {
  std::string lower(Trim(text));
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower == "auto" || lower.empty()) return RegCacheMode::kAuto;
  if (lower == "on" || lower == "1" || lower == "true" || lower == "yes") return RegCacheMode::kOn;
  if (lower == "off" || lower == "0" || lower == "false" || lower == "no") return RegCacheMode::kOff;
  return InvalidArgument(Quoted(name, text) + " must be auto, on or off");
}

StatusOr<RdmaConfig> ReadRdmaConfig(const mc_host_v1_t& host, std::string_view env_prefix) {
  const std::string_view p = env_prefix;
  if (host.get_param == nullptr) return InvalidArgument("the host table has no get_param");
  RdmaConfig c;
  StatusOr<std::string> raw = RawParam(host, p, "DEVICES");
  if (!raw.ok()) return raw.status();
  c.devices = std::string(Trim(*raw));
  raw = RawParam(host, p, "SOCKET_IF");
  if (!raw.ok()) return raw.status();
  c.socket_if = std::string(Trim(*raw));
  raw = RawParam(host, p, "REG_CACHE");
  if (!raw.ok()) return raw.status();
  StatusOr<RegCacheMode> mode = ParseRegCacheMode(FullName(p, "REG_CACHE"), *raw);
  if (!mode.ok()) return mode.status();
  c.reg_cache = *mode;

  Status s;
  if (!(s = ReadInt(host, p, "GID_INDEX", -1, 65535, &c.gid_index)).ok()) return s;
  if (!(s = ReadInt(host, p, "QPS_PER_PEER", 1, kMaxQpsPerPeer, &c.qps_per_peer)).ok()) return s;
  if (!(s = ReadSize(host, p, "EAGER_LIMIT", 0, kMaxEagerLimit, &c.eager_limit)).ok()) return s;
  if (!(s = ReadInt(host, p, "RECV_DEPTH", 2, 8192, &c.recv_depth)).ok()) return s;
  if (!(s = ReadInt(host, p, "SEND_DEPTH", 16, 8192, &c.send_depth)).ok()) return s;
  if (!(s = ReadSize(host, p, "CHUNK_SIZE", 4096, uint64_t{1} << 30, &c.chunk_bytes)).ok()) return s;
  if (!(s = ReadInt(host, p, "IB_TIMEOUT", 1, 31, &c.ib_timeout)).ok()) return s;
  if (!(s = ReadInt(host, p, "RETRY_COUNT", 0, 7, &c.retry_count)).ok()) return s;
  if (!(s = ReadInt(host, p, "TRAFFIC_CLASS", 0, 255, &c.traffic_class)).ok()) return s;
  if (!(s = ReadInt(host, p, "SERVICE_LEVEL", 0, 15, &c.service_level)).ok()) return s;
  if (!(s = ReadInt(host, p, "REG_CACHE_ENTRIES", 1, 65536, &c.reg_cache_entries)).ok()) return s;
  return c;
}

}  // namespace mc::rdma
