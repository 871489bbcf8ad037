#include "fabric_device.h"

#include <rdma/fi_errno.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <set>

namespace mc::efa {
namespace {

// The MR modes the plugin knows how to honour. A provider that needs another
// one (FI_MR_ENDPOINT, FI_MR_RAW, FI_MR_HMEM...) is not offered by fi_getinfo.
constexpr uint64_t kSupportedMrModes = FI_MR_LOCAL | FI_MR_VIRT_ADDR | FI_MR_ALLOCATED | FI_MR_PROV_KEY;
constexpr uint32_t kApiVersion = FI_VERSION(1, 9);

fi_info* MakeHints(const std::string& provider, uint64_t mr_modes, bool remote_comm) {
  fi_info* hints = fi_allocinfo();
  if (hints == nullptr) return nullptr;
  hints->caps = FI_MSG | FI_TAGGED | FI_RMA | FI_WRITE | FI_REMOTE_WRITE | FI_SEND | FI_RECV;
  if (remote_comm) hints->caps |= FI_REMOTE_COMM;
  // Every operation carries a fi_context2 the provider may use.
  hints->mode = FI_CONTEXT | FI_CONTEXT2;
  hints->ep_attr->type = FI_EP_RDM;
  hints->domain_attr->mr_mode = static_cast<int>(mr_modes);
  // One thread at a time per context, and a context has its own domains.
  hints->domain_attr->threading = FI_THREAD_DOMAIN;
  hints->domain_attr->resource_mgmt = FI_RM_ENABLED;
  hints->domain_attr->cq_data_size = 4;  // a put's sequence number
  // Per-tag order: messages between two endpoints arrive in send order.
  hints->tx_attr->msg_order = FI_ORDER_SAS;
  hints->rx_attr->msg_order = FI_ORDER_SAS;
  if (!provider.empty()) hints->fabric_attr->prov_name = strdup(provider.c_str());
  return hints;
}

int TagBits(uint64_t format) {
  int bits = 0;
  while (bits < 64 && (format >> bits) != 0) ++bits;
  return bits;
}

std::string PciPathOf(const fi_info* info) {
  if (info->nic == nullptr || info->nic->bus_attr == nullptr || info->nic->bus_attr->bus_type != FI_BUS_PCI) return "";
  const fi_pci_attr& pci = info->nic->bus_attr->attr.pci;
  char path[128];
  std::snprintf(path, sizeof(path), "/sys/bus/pci/devices/%04x:%02x:%02x.%x", pci.domain_id, pci.bus_id, pci.device_id,
                pci.function_id);
  return path;
}

int NumaNodeOf(const std::string& pci_path) {
  if (pci_path.empty()) return -1;
  std::ifstream file(pci_path + "/numa_node");
  int node = -1;
  if (!(file >> node) || node < -1) return -1;
  return node;
}

// The domains of `provider` that reach other hosts too.
std::set<std::string> RemoteCapableDomains(const std::string& provider, uint64_t mr_modes) {
  std::set<std::string> domains;
  fi_info* hints = MakeHints(provider, mr_modes, /*remote_comm=*/true);
  fi_info* list = nullptr;
  if (hints != nullptr && fi_getinfo(kApiVersion, nullptr, nullptr, 0, hints, &list) == 0) {
    for (fi_info* i = list; i != nullptr; i = i->next) {
      domains.insert(std::string(i->fabric_attr->prov_name) + "/" + i->domain_attr->name);
    }
    fi_freeinfo(list);
  }
  fi_freeinfo(hints);
  return domains;
}

// Why `info` cannot serve, or "" when it can.
std::string Unusable(const fi_info* info) {
  if (TagBits(info->ep_attr->mem_tag_format) < 64) return "its tags have fewer than 64 bits";
  if (info->domain_attr->cq_data_size < 4) return "its remote CQ data is shorter than 4 bytes";
  if (info->domain_attr->mr_key_size > 8) return "its memory keys are longer than 8 bytes";
  if ((info->domain_attr->mr_mode & ~static_cast<int>(kSupportedMrModes)) != 0) return "it needs MR modes we lack";
  if (info->ep_attr->max_msg_size == 0) return "its largest message is 0 bytes";
  return "";
}

}  // namespace

Device::~Device() {
  if (domain_ != nullptr) fi_close(&domain_->fid);
  if (fabric_ != nullptr) fi_close(&fabric_->fid);
  if (info_ != nullptr) fi_freeinfo(info_);
}

void Device::FillProps(mc_device_props_v1_t* props) const {
  *props = mc_device_props_v1_t{};
  std::snprintf(props->name, sizeof(props->name), "%s", name_.c_str());
  std::snprintf(props->pci_path, sizeof(props->pci_path), "%s", pci_path_.c_str());
  props->numa_node = numa_node_;
  props->rail = rail_;
  props->bandwidth_gbps = bandwidth_gbps_;
  // A coarse guess for the tuner: shared memory against a network.
  props->latency_us = same_host_only_ ? 1.0 : 15.0;
  props->mem_kinds = MC_MEM_KIND_BIT(MC_MEM_HOST);
  props->same_host_only = same_host_only_ ? 1 : 0;
  props->max_message_bytes = max_message_;
}

mc_result_t OpenDevices(const EfaConfig& config, const Logger& log, std::vector<std::unique_ptr<Device>>* devices,
                        std::string* error) {
  // Always one named provider (MC_EFA_PROVIDER, default efa), never "whatever
  // libfabric offers": otherwise MC_TRANSPORT=auto would open this plugin over
  // tcp on any machine where FI_PROVIDER=tcp happens to be set. FI_PROVIDER
  // still filters what libfabric offers.
  const std::string provider = config.provider.empty() ? std::string("efa") : config.provider;
  const char* fi_provider = std::getenv("FI_PROVIDER");
  const bool fi_filter = fi_provider != nullptr && *fi_provider != '\0';
  const std::string asked = provider + (config.domain.empty() ? "" : ", domain " + config.domain);
  // The loader (efa_loader.cc) checked this before loading us; again here for
  // a process that loads this file directly.
  if (!ProviderMayHaveDevice(provider, kRdmaSysfsDir)) {
    *error = kNoEfaDevice;
    return MC_ERR_NO_DEVICE;
  }
  // First without FI_MR_LOCAL: a provider that can do without (efa's RDM
  // endpoint can) then registers nothing per operation. Only a provider that
  // needs local registrations is taken with them.
  fi_info* list = nullptr;
  uint64_t mr_modes = kSupportedMrModes & ~static_cast<uint64_t>(FI_MR_LOCAL);
  int rc = -FI_ENODATA;
  for (int attempt = 0; attempt < 2 && rc != 0; ++attempt) {
    if (attempt == 1) mr_modes = kSupportedMrModes;
    fi_info* hints = MakeHints(provider, mr_modes, /*remote_comm=*/false);
    if (hints == nullptr) {
      *error = "fi_allocinfo failed";
      return MC_ERR_NO_MEMORY;
    }
    rc = fi_getinfo(kApiVersion, nullptr, nullptr, 0, hints, &list);
    fi_freeinfo(hints);
  }
  if (rc != 0) {
    *error = "libfabric offers no FI_EP_RDM endpoint with tagged messages and RMA writes for provider " + asked +
             " (fi_getinfo: " + fi_strerror(-rc) + ")" +
             (fi_filter ? std::string("; FI_PROVIDER=") + fi_provider + " limits what libfabric offers" : "") +
             "; MC_EFA_PROVIDER picks the provider (default efa; tcp or shm for testing)";
    return MC_ERR_NO_DEVICE;
  }
  const std::set<std::string> remote_capable = RemoteCapableDomains(provider, mr_modes);

  // One entry per domain: the first that can serve, IPv4 before IPv6.
  std::vector<fi_info*> chosen;
  std::set<std::string> skipped_reasons;
  for (int pass = 0; pass < 2; ++pass) {
    for (fi_info* i = list; i != nullptr; i = i->next) {
      const std::string domain = i->domain_attr->name != nullptr ? i->domain_attr->name : "";
      if (!config.domain.empty() && domain != config.domain) continue;
      if (pass == 0 && i->addr_format == FI_SOCKADDR_IN6) continue;
      bool seen = false;
      for (fi_info* c : chosen) seen = seen || domain == c->domain_attr->name;
      if (seen) continue;
      if (std::string why = Unusable(i); !why.empty()) {
        skipped_reasons.insert(std::string(i->fabric_attr->prov_name) + "/" + domain + ": " + why);
        continue;
      }
      chosen.push_back(i);
    }
  }
  for (const std::string& reason : skipped_reasons) log(MC_LOG_DEBUG, "efa: skipping %s", reason.c_str());
  if (chosen.empty()) {
    *error = "no libfabric domain of provider " + asked + " can serve";
    for (const std::string& reason : skipped_reasons) *error += "; " + reason;
    fi_freeinfo(list);
    return MC_ERR_NO_DEVICE;
  }

  int rail = 0;
  for (fi_info* entry : chosen) {
    auto device = std::unique_ptr<Device>(new Device());
    device->index_ = static_cast<int>(devices->size());
    device->info_ = fi_dupinfo(entry);
    if (device->info_ == nullptr) {
      *error = "fi_dupinfo failed";
      fi_freeinfo(list);
      return MC_ERR_NO_MEMORY;
    }
    const fi_info* info = device->info_;
    device->name_ = info->domain_attr->name;
    device->provider_ = info->fabric_attr->prov_name;
    device->provider_id_ = ProviderId(device->provider_);
    device->mr_mode_ = static_cast<uint64_t>(info->domain_attr->mr_mode);
    device->needs_local_mr_ = (device->mr_mode_ & FI_MR_LOCAL) != 0 || config.force_mr_local;
    device->key_bytes_ = static_cast<uint8_t>(info->domain_attr->mr_key_size == 0 ? 8 : info->domain_attr->mr_key_size);
    device->inject_size_ = info->tx_attr->inject_size;
    device->cq_data_bytes_ = info->domain_attr->cq_data_size;
    device->max_message_ = std::min<uint64_t>(info->ep_attr->max_msg_size, config.max_message);
    device->same_host_only_ = !remote_capable.contains(device->provider_ + "/" + device->name_);
    device->pci_path_ = PciPathOf(info);
    device->numa_node_ = NumaNodeOf(device->pci_path_);
    device->rail_ = device->pci_path_.empty() ? 0 : rail++;
    if (info->nic != nullptr && info->nic->link_attr != nullptr) {
      device->bandwidth_gbps_ = static_cast<double>(info->nic->link_attr->speed) / 1e9;
    }
    const sockaddr* own = info->addr_format == FI_SOCKADDR_IN || info->addr_format == FI_SOCKADDR_IN6
                              ? static_cast<const sockaddr*>(info->src_addr)
                              : nullptr;
    if (!ChooseControlIp(config.socket_ifname, own, device->same_host_only_, &device->control_ip_, error)) {
      fi_freeinfo(list);
      return MC_ERR_INVALID_ARG;
    }
    rc = fi_fabric(info->fabric_attr, &device->fabric_, nullptr);
    if (rc == 0) rc = fi_domain(device->fabric_, device->info_, &device->domain_, nullptr);
    if (rc != 0) {
      *error = "opening libfabric domain " + device->name_ + " of " + device->provider_ + ": " + fi_strerror(-rc);
      fi_freeinfo(list);
      return MC_ERR_NO_DEVICE;
    }
    log(MC_LOG_DEBUG,
        "efa: device %d is %s/%s (mr_mode 0x%llx%s, %u-byte keys, inject %zu, cq data %zu, max message %llu, "
        "%s, control sockets on %s)",
        device->index_, device->provider_.c_str(), device->name_.c_str(),
        static_cast<unsigned long long>(device->mr_mode_), config.force_mr_local ? " + forced FI_MR_LOCAL" : "",
        device->key_bytes_, device->inject_size_, device->cq_data_bytes_,
        static_cast<unsigned long long>(device->max_message_), device->same_host_only_ ? "this host only" : "remote",
        device->control_ip_.ToString().c_str());
    devices->push_back(std::move(device));
  }
  fi_freeinfo(list);
  return MC_SUCCESS;
}

}  // namespace mc::efa
