#include "registration.h"

#include <rdma/fi_errno.h>

#include <algorithm>
#include <cstring>

#include "wire_format.h"

namespace mc::efa {

Registration::~Registration() {
  magic_ = 0;
  for (fid_mr* mr : mrs_) {
    if (mr != nullptr) fi_close(&mr->fid);
  }
}

mc_result_t Registration::Create(const std::vector<std::unique_ptr<Device>>& devices, void* ptr, size_t len,
                                 uint64_t* next_key, Registration** out, std::string* error) {
  auto reg = std::unique_ptr<Registration>(new Registration());
  reg->base_ = reinterpret_cast<uintptr_t>(ptr);
  reg->length_ = len;
  reg->mrs_.assign(devices.size(), nullptr);
  for (const auto& device : devices) {
    const uint64_t requested = device->prov_key() ? 0 : (*next_key)++;
    int rc = fi_mr_reg(device->domain(), ptr, len, kRegistrationAccess, 0, requested, 0,
                       &reg->mrs_[static_cast<size_t>(device->index())], nullptr);
    if (rc != 0) {
      *error = "fi_mr_reg of " + std::to_string(len) + " bytes on " + device->name() + ": " + fi_strerror(-rc);
      return rc == -FI_ENOMEM ? MC_ERR_NO_MEMORY : MC_ERR_INTERNAL;
    }
  }
  *out = reg.release();
  return MC_SUCCESS;
}

bool Registration::Covers(const void* buf, size_t len) const {
  const auto start = reinterpret_cast<uintptr_t>(buf);
  return start >= base_ && len <= length_ && start - base_ <= length_ - len;
}

void* Registration::Desc(int device) const { return fi_mr_desc(mrs_[static_cast<size_t>(device)]); }

mc_result_t Registration::Pack(const std::vector<std::unique_ptr<Device>>& devices, void* buf, size_t* len) const {
  RemoteKeyInfo info;
  info.base = base_;
  info.length = length_;
  info.key_bytes = 1;
  for (const auto& device : devices) {
    info.key_bytes = std::max(info.key_bytes, device->key_bytes());
    // All devices share one provider: one addressing mode.
    info.virt_addr = device->virt_addr();
    info.keys.emplace_back(device->index(), fi_mr_key(mrs_[static_cast<size_t>(device->index())]));
  }
  const size_t need = PackedRemoteKeyBytes(info.keys.size(), info.key_bytes);
  if (need > MC_MAX_RKEY_BYTES) return MC_ERR_UNSUPPORTED;
  if (*len < need) return MC_ERR_NO_MEMORY;
  const std::string bytes = EncodeRemoteKey(info);
  std::memcpy(buf, bytes.data(), bytes.size());
  *len = bytes.size();
  return MC_SUCCESS;
}

fid_mr* RegisterForOneOperation(const Device& device, const void* buf, size_t len, uint64_t access, uint64_t key,
                                std::string* error) {
  fid_mr* mr = nullptr;
  int rc = fi_mr_reg(device.domain(), buf, len, access, 0, device.prov_key() ? 0 : key, 0, &mr, nullptr);
  if (rc != 0) {
    *error = "fi_mr_reg of a " + std::to_string(len) + "-byte buffer: " + fi_strerror(-rc);
    return nullptr;
  }
  return mr;
}

}  // namespace mc::efa
