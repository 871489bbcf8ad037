#include "device_list.h"

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "gid_choice.h"
#include "port_rate.h"

namespace mc::rdma {
namespace {

constexpr uint64_t kMaxMessageBytes = uint64_t{1} << 40;  // chunked on the wire; the limit is the address space
constexpr double kInfiniBandLatencyUs = 1.5;
constexpr double kRoceLatencyUs = 2.5;

std::string Trim(const std::string& s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return s.substr(b, e - b);
}

std::string Join(const std::vector<std::string>& items, const char* sep) {
  std::string out;
  for (const std::string& item : items) out += (out.empty() ? "" : sep) + item;
  return out;
}

const char* GidTypeName(ibv_gid_type type) {
  switch (type) {
    case IBV_GID_TYPE_ROCE_V2: return "RoCE v2";
    case IBV_GID_TYPE_ROCE_V1: return "IB/RoCE v1";
    default: return "IB/RoCE v1";
  }
}

// The port's GID table from sysfs, or (where sysfs is not mounted, as in
// some containers) from libibverbs.
std::vector<GidEntry> ReadGidTable(const SysfsInfiniband& sysfs, Hca& hca, uint8_t port, int table_len) {
  std::vector<GidEntry> table = sysfs.GidTable(hca.name(), port);
  if (!table.empty()) return table;
  for (int i = 0; i < table_len; ++i) {
    ibv_gid_entry entry{};
    if (ibv_query_gid_ex(hca.context(), port, static_cast<uint32_t>(i), &entry, 0) != 0) continue;
    GidEntry e;
    e.index = i;
    std::memcpy(e.gid.data(), entry.gid.raw, e.gid.size());
    if (IsZeroGid(e.gid)) continue;
    e.type = GidTypeName(static_cast<ibv_gid_type>(entry.gid_type));
    table.push_back(e);
  }
  return table;
}

}  // namespace

StatusOr<std::vector<DeviceSelector>> ParseDeviceList(const std::string& text) {
  std::vector<DeviceSelector> selectors;
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    if (comma == std::string::npos) comma = text.size();
    const std::string item = Trim(text.substr(start, comma - start));
    start = comma + 1;
    if (item.empty()) {
      if (Trim(text).empty()) break;
      return InvalidArgument("MC_RDMA_DEVICES='" + text + "' has an empty item");
    }
    DeviceSelector s;
    const size_t colon = item.find(':');
    s.name = item.substr(0, colon);
    bool ok = !s.name.empty();
    for (char c : s.name) ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.');
    if (ok && colon != std::string::npos) {
      const std::string port = item.substr(colon + 1);
      ok = !port.empty() && port.size() <= 3;
      for (char c : port) ok = ok && std::isdigit(static_cast<unsigned char>(c));
      if (ok) s.port = std::stoi(port);
      ok = ok && s.port >= 1 && s.port <= 255;
    }
    if (!ok) {
      return InvalidArgument("MC_RDMA_DEVICES='" + text + "': '" + item +
                             "' is not a device name or device:port (for example mlx5_0 or mlx5_0:1)");
    }
    selectors.push_back(s);
  }
  return selectors;
}

bool IsSelected(const std::vector<DeviceSelector>& selectors, const std::string& name, int port) {
  if (selectors.empty()) return true;
  for (const DeviceSelector& s : selectors) {
    if (s.name == name && (s.port == 0 || s.port == port)) return true;
  }
  return false;
}

std::string PortName(const std::string& device, int port) { return device + ":" + std::to_string(port); }

StatusOr<OpenedDevices> OpenDevices(const RdmaConfig& config, const SysfsInfiniband& sysfs,
                                    const std::function<void(mc_log_level_t, const std::string&)>& log) {
  StatusOr<std::vector<DeviceSelector>> selectors = ParseDeviceList(config.devices);
  if (!selectors.ok()) return selectors.status();

  int count = 0;
  ibv_device** list = ibv_get_device_list(&count);
  if (list == nullptr || count == 0) {
    const int err = errno;
    if (list != nullptr) ibv_free_device_list(list);
    const std::vector<std::string> names = sysfs.DeviceNames();
    if (names.empty()) {
      return NoDevice("no RDMA device found (" + sysfs.root() + " is absent or empty" +
                      (list == nullptr && err != 0 ? std::string("; libibverbs: ") + std::strerror(err) : "") + ")");
    }
    return NoDevice("no RDMA device found by libibverbs, although " + sysfs.root() + " lists " + Join(names, ", ") +
                    " (is the device's rdma-core provider installed, and /dev/infiniband visible here?)");
  }

  OpenedDevices opened;
  std::vector<std::string> skipped;
  std::vector<std::string> present;
  Status config_error;
  for (int d = 0; d < count && config_error.ok(); ++d) {
    const std::string name = ibv_get_device_name(list[d]);
    present.push_back(name);
    bool named = selectors->empty();
    for (const DeviceSelector& s : *selectors) named = named || s.name == name;
    if (!named) continue;
    StatusOr<std::unique_ptr<Hca>> hca = Hca::Open(list[d]);
    if (!hca.ok()) {
      skipped.push_back(name + " (" + hca.status().message() + ")");
      continue;
    }
    bool used = false;
    for (int p = 1; p <= (*hca)->attr().phys_port_cnt; ++p) {
      const std::string where = PortName(name, p);
      if (!IsSelected(*selectors, name, p)) continue;
      PortSetup setup;
      setup.port_num = static_cast<uint8_t>(p);
      if (int err = ibv_query_port((*hca)->context(), setup.port_num, &setup.attr); err != 0) {
        skipped.push_back(where + " (ibv_query_port: " + std::strerror(err) + ")");
        continue;
      }
      if (setup.attr.state != IBV_PORT_ACTIVE) {
        skipped.push_back(where + " (" + ibv_port_state_str(setup.attr.state) + ")");
        continue;
      }
      setup.ethernet = setup.attr.link_layer == IBV_LINK_LAYER_ETHERNET;
      StatusOr<GidEntry> gid = ChooseGid(ReadGidTable(sysfs, **hca, setup.port_num, setup.attr.gid_tbl_len),
                                         setup.ethernet, config.gid_index, name + " port " + std::to_string(p));
      if (!gid.ok()) {
        if (gid.status().code() == MC_ERR_INVALID_ARG) {
          config_error = gid.status();
          break;
        }
        skipped.push_back(where + " (" + gid.status().message() + ")");
        continue;
      }
      setup.gid = *gid;
      setup.ib_timeout = config.ib_timeout;
      setup.retry_count = config.retry_count;
      setup.traffic_class = config.traffic_class;
      setup.service_level = config.service_level;

      mc_device_props_v1_t props{};
      std::snprintf(props.name, sizeof(props.name), "%s", where.c_str());
      const std::string pci = sysfs.PciPath(name);
      if (pci.size() < sizeof(props.pci_path)) std::memcpy(props.pci_path, pci.c_str(), pci.size() + 1);
      props.numa_node = sysfs.NumaNode(name);
      props.rail = static_cast<int32_t>(opened.ports.size());
      props.bandwidth_gbps = PortGbps(setup.attr.active_speed, setup.attr.active_width);
      props.latency_us = setup.ethernet ? kRoceLatencyUs : kInfiniBandLatencyUs;
      props.mem_kinds = MC_MEM_KIND_BIT(MC_MEM_HOST);
      props.same_host_only = 0;
      props.max_message_bytes = kMaxMessageBytes;
      const std::string netdev = setup.ethernet ? sysfs.PortNetdev(name, p) : "";
      log(MC_LOG_INFO, "rdma: using " + where + (setup.ethernet ? " (RoCE" : " (InfiniBand") + ", GID index " +
                           std::to_string(setup.gid.index) + " " + FormatGid(setup.gid.gid) + ", " +
                           std::to_string(props.bandwidth_gbps) + " Gbit/s" + (netdev.empty() ? "" : ", " + netdev) +
                           ")");
      opened.ports.push_back(std::make_unique<IbvPort>(hca->get(), setup, props, netdev));
      used = true;
    }
    if (used) opened.hcas.push_back(std::move(*hca));
  }
  ibv_free_device_list(list);
  if (!config_error.ok()) return config_error;
  if (!opened.ports.empty()) {
    for (const std::string& s : skipped) log(MC_LOG_INFO, "rdma: not using " + s);
    return opened;
  }
  if (!selectors->empty()) {
    return NoDevice("no RDMA device found matching MC_RDMA_DEVICES='" + config.devices + "' (present: " +
                    Join(present, ", ") + (skipped.empty() ? "" : "; not usable: " + Join(skipped, "; ")) + ")");
  }
  return NoDevice("no RDMA device found with an active port (" + Join(skipped, "; ") + "; see " + sysfs.root() + ")");
}

}  // namespace mc::rdma
