// DetectLaunch: rank, world size and store address from whichever launcher
// started this process.
#include <cstdlib>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "mooncomm/bootstrap.h"
#include "mooncomm/config.h"

namespace mc {
namespace {

// One launcher's pair of variables.
struct Convention {
  const char* source;
  const char* rank_var;
  const char* size_var;
  bool declared;  // MC_* variables are read through mc::config
};

constexpr Convention kConventions[] = {
    {"MC_*", "MC_RANK", "MC_WORLD_SIZE", true},
    {"torchrun", "RANK", "WORLD_SIZE", false},
    {"Open MPI", "OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE", false},
    {"Slurm", "SLURM_PROCID", "SLURM_NTASKS", false},
};

bool IsSet(const char* name) { return std::getenv(name) != nullptr; }

absl::StatusOr<int64_t> ReadInt(const char* name, bool declared) {
  if (declared) return config::GetInt(name);
  return config::ParseInt(name, std::getenv(name));
}

absl::StatusOr<LaunchInfo> FromConvention(const Convention& c) {
  if (!IsSet(c.size_var)) {
    return absl::InvalidArgumentError(absl::StrCat(c.rank_var, "=", std::getenv(c.rank_var), " is set but ",
                                                   c.size_var, " is not (", c.source, " launch needs both)"));
  }
  if (!IsSet(c.rank_var)) {
    return absl::InvalidArgumentError(absl::StrCat(c.size_var, "=", std::getenv(c.size_var), " is set but ",
                                                   c.rank_var, " is not (", c.source, " launch needs both)"));
  }
  absl::StatusOr<int64_t> size = ReadInt(c.size_var, c.declared);
  if (!size.ok()) return size.status();
  absl::StatusOr<int64_t> rank = ReadInt(c.rank_var, c.declared);
  if (!rank.ok()) return rank.status();
  if (*size < 1 || *size > (int64_t{1} << 30)) {
    return absl::InvalidArgumentError(absl::StrCat(c.size_var, "=", *size, " is not a valid world size"));
  }
  if (*rank < 0 || *rank >= *size) {
    return absl::InvalidArgumentError(absl::StrCat(c.rank_var, "=", *rank, " is outside [0, ", *size, ") set by ",
                                                   c.size_var, "=", *size));
  }
  LaunchInfo info;
  info.rank = static_cast<int>(*rank);
  info.world_size = static_cast<int>(*size);
  info.source = c.source;
  return info;
}

// Fills the store address from MC_BOOTSTRAP, else MASTER_ADDR:MASTER_PORT.
absl::Status FillStoreAddress(LaunchInfo& info) {
  absl::StatusOr<std::string> bootstrap = config::GetString("MC_BOOTSTRAP");
  if (!bootstrap.ok()) return bootstrap.status();
  if (!bootstrap->empty()) {
    absl::StatusOr<std::pair<std::string, int>> parsed = ParseHostPort(*bootstrap);
    if (!parsed.ok()) return absl::InvalidArgumentError(absl::StrCat("MC_BOOTSTRAP: ", parsed.status().message()));
    info.store_host = parsed->first;
    info.store_port = parsed->second;
    return absl::OkStatus();
  }
  const char* addr = std::getenv("MASTER_ADDR");
  const char* port = std::getenv("MASTER_PORT");
  if (addr != nullptr && *addr == '\0') addr = nullptr;
  if (port != nullptr && *port == '\0') port = nullptr;
  if (addr != nullptr || port != nullptr) {
    if (addr == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("MASTER_PORT=", port, " is set but MASTER_ADDR is not (or set MC_BOOTSTRAP=host:port)"));
    }
    if (port == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("MASTER_ADDR=", addr, " is set but MASTER_PORT is not (or set MC_BOOTSTRAP=host:port)"));
    }
    absl::StatusOr<int64_t> port_number = config::ParseInt("MASTER_PORT", port);
    if (!port_number.ok()) return port_number.status();
    if (*port_number < 1 || *port_number > 65535) {
      return absl::InvalidArgumentError(absl::StrCat("MASTER_PORT=", *port_number, " is outside 1-65535"));
    }
    std::string host = addr;
    if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    info.store_host = host;
    info.store_port = static_cast<int>(*port_number);
    return absl::OkStatus();
  }
  if (info.world_size > 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "world size ", info.world_size, " (from ", info.source,
        ") but no bootstrap store address: set MC_BOOTSTRAP=host:port, or MASTER_ADDR and MASTER_PORT, "
        "to rank 0's address"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<LaunchInfo> DetectLaunch() {
  std::optional<LaunchInfo> found;
  for (const Convention& c : kConventions) {
    if (!IsSet(c.rank_var) && !IsSet(c.size_var)) continue;
    absl::StatusOr<LaunchInfo> info = FromConvention(c);
    if (!info.ok()) return info.status();
    found = *std::move(info);
    break;
  }
  LaunchInfo info = found.value_or(LaunchInfo{0, 1, "", 0, "single process"});
  if (absl::Status s = FillStoreAddress(info); !s.ok()) return s;
  return info;
}

}  // namespace mc
