// A device is one libfabric domain (an EFA NIC, a tcp interface, shm) whose
// FI_EP_RDM provider offers what the plugin needs: tagged messages with
// 64-bit tags, untagged messages, RMA writes with remote CQ data, send-after-
// send ordering. Everything the plugin does differently per provider is read
// here from fi_info (MR modes, key size, inject size, CQ data size, message
// limit), never assumed from a provider's name.
#ifndef MOONCOMM_PLUGINS_EFA_FABRIC_DEVICE_H_
#define MOONCOMM_PLUGINS_EFA_FABRIC_DEVICE_H_

#include <rdma/fabric.h>
#include <rdma/fi_domain.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "efa_params.h"
#include "mooncomm/plugin_abi.h"
#include "plugin_log.h"
#include "socket_util.h"

namespace mc::efa {

class Device {
 public:
  ~Device();
  Device(const Device&) = delete;
  Device& operator=(const Device&) = delete;

  int index() const { return index_; }
  fi_info* info() const { return info_; }
  fid_domain* domain() const { return domain_; }
  const std::string& name() const { return name_; }          // the domain name: "lo", "shm", "rdmap16s27-rdm"
  const std::string& provider() const { return provider_; }  // "tcp;ofi_rxm", "shm", "efa"
  uint32_t provider_id() const { return provider_id_; }

  // Local buffers need a descriptor (FI_MR_LOCAL, or MC_EFA_FORCE_MR_LOCAL).
  bool needs_local_mr() const { return needs_local_mr_; }
  // Remote addresses are virtual addresses (FI_MR_VIRT_ADDR), else offsets into the region.
  bool virt_addr() const { return (mr_mode_ & FI_MR_VIRT_ADDR) != 0; }
  // The provider picks the keys (FI_MR_PROV_KEY), else the plugin requests them.
  bool prov_key() const { return (mr_mode_ & FI_MR_PROV_KEY) != 0; }
  uint8_t key_bytes() const { return key_bytes_; }
  size_t inject_size() const { return inject_size_; }
  size_t cq_data_bytes() const { return cq_data_bytes_; }
  uint64_t max_message() const { return max_message_; }
  size_t rx_iov_limit() const { return info_->rx_attr->iov_limit; }
  // The overflow region receives on this device carry, or null (truncation_guard.h).
  void* guard() const { return guard_; }
  size_t guard_bytes() const { return guard_bytes_; }
  void UseTruncationGuard(void* base, size_t bytes) {
    guard_ = base;
    guard_bytes_ = bytes;
  }
  bool same_host_only() const { return same_host_only_; }
  const SocketAddress& control_ip() const { return control_ip_; }

  void FillProps(mc_device_props_v1_t* props) const;

 private:
  friend mc_result_t OpenDevices(const EfaConfig&, const Logger&, std::vector<std::unique_ptr<Device>>*, std::string*);
  Device() = default;

  int index_ = 0;
  fi_info* info_ = nullptr;  // one entry, owned
  fid_fabric* fabric_ = nullptr;
  fid_domain* domain_ = nullptr;
  std::string name_;
  std::string provider_;
  uint32_t provider_id_ = 0;
  uint64_t mr_mode_ = 0;
  bool needs_local_mr_ = false;
  uint8_t key_bytes_ = 8;
  size_t inject_size_ = 0;
  size_t cq_data_bytes_ = 0;
  uint64_t max_message_ = 0;
  bool same_host_only_ = false;
  int rail_ = 0;
  std::string pci_path_;
  int numa_node_ = -1;
  double bandwidth_gbps_ = 0;
  SocketAddress control_ip_;
  void* guard_ = nullptr;
  size_t guard_bytes_ = 0;
};

// Finds the devices (one per libfabric domain of the chosen provider) and
// opens each one's fabric and domain. MC_ERR_NO_DEVICE, with the reason in
// *error, when there is none.
mc_result_t OpenDevices(const EfaConfig& config, const Logger& log, std::vector<std::unique_ptr<Device>>* devices,
                        std::string* error);

}  // namespace mc::efa

#endif  // MOONCOMM_PLUGINS_EFA_FABRIC_DEVICE_H_
