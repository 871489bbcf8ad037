// Memory registrations and the peers' keys. A registration is made in every
// device's domain, so that any connection can use it; its packed key carries
// the key per device, and the peer picks the one of the device its
// connection lands on.
#ifndef MOONCOMM_PLUGINS_EFA_REGISTRATION_H_
#define MOONCOMM_PLUGINS_EFA_REGISTRATION_H_

#include <rdma/fabric.h>
#include <rdma/fi_domain.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "fabric_device.h"
#include "intrusive_list.h"
#include "mooncomm/plugin_abi.h"

namespace mc::efa {

// Access every registration asks for: local buffer of a send, receive or
// write, and the target of a peer's write.
inline constexpr uint64_t kRegistrationAccess = FI_SEND | FI_RECV | FI_WRITE | FI_REMOTE_WRITE;

class Registration {
 public:
  static constexpr uint32_t kMagic = 0x474d4645;  // "EFMG"
  ~Registration();

  // Registers [ptr, ptr + len) with every device. `next_key` supplies the
  // keys the plugin requests from providers without FI_MR_PROV_KEY.
  static mc_result_t Create(const std::vector<std::unique_ptr<Device>>& devices, void* ptr, size_t len,
                            uint64_t* next_key, Registration** out, std::string* error);

  bool valid() const { return magic_ == kMagic; }
  bool Covers(const void* buf, size_t len) const;
  void* Desc(int device) const;
  // The packed key (wire_format.h); MC_ERR_NO_MEMORY when *len is too small.
  mc_result_t Pack(const std::vector<std::unique_ptr<Device>>& devices, void* buf, size_t* len) const;

  ListHook<Registration> hook;

 private:
  Registration() = default;
  uint32_t magic_ = kMagic;
  uintptr_t base_ = 0;
  size_t length_ = 0;
  std::vector<fid_mr*> mrs_;  // by device index
};

// A peer's region as unpacked for one connection.
struct RemoteKey {
  static constexpr uint32_t kMagic = 0x4b524645;  // "EFRK"
  uint32_t magic = kMagic;
  uint64_t base = 0;
  uint64_t length = 0;
  uint64_t key = 0;  // for the device the connection's peer uses
  bool virt_addr = false;
  ListHook<RemoteKey> hook;
};

// Registers one local buffer for one operation (FI_MR_LOCAL with no
// registration from the core). Null with *error on failure.
fid_mr* RegisterForOneOperation(const Device& device, const void* buf, size_t len, uint64_t access, uint64_t key,
                                std::string* error);

}  // namespace mc::efa

#endif  // MOONCOMM_PLUGINS_EFA_REGISTRATION_H_
