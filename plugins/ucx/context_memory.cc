// Memory registration and keys of a context.
#include <cstring>

#include "context.h"
#include "ucx_status.h"

namespace mc::ucx {

mc_result_t UcxContext::Register(void* ptr, size_t len, mc_mem_kind_t kind, Registration** out) {
  ucs_memory_type_t type = UCS_MEMORY_TYPE_HOST;
  switch (kind) {
    case MC_MEM_HOST:
      break;
    case MC_MEM_CUDA:
      if ((memory_types_ & UCS_BIT(UCS_MEMORY_TYPE_CUDA)) == 0) {
        Log(MC_LOG_WARN, "ucx: reg of CUDA memory: this UCX has no CUDA support");
        return MC_ERR_UNSUPPORTED;
      }
      type = UCS_MEMORY_TYPE_CUDA;
      break;
    case MC_MEM_DMABUF:
      Log(MC_LOG_WARN, "ucx: reg of dma-buf memory is not supported");
      return MC_ERR_UNSUPPORTED;
    default:
      return MC_ERR_INVALID_ARG;
  }
  if (len == 0) return MC_ERR_INVALID_ARG;
  ucp_mem_map_params_t params{};
  params.field_mask =
      UCP_MEM_MAP_PARAM_FIELD_ADDRESS | UCP_MEM_MAP_PARAM_FIELD_LENGTH | UCP_MEM_MAP_PARAM_FIELD_MEMORY_TYPE;
  params.address = ptr;
  params.length = len;
  params.memory_type = type;
  ucp_mem_h memh = nullptr;
  const ucs_status_t status = ucp_mem_map(ucp_, &params, &memh);
  if (status != UCS_OK) {
    Log(MC_LOG_ERROR, "ucx: ucp_mem_map of " + std::to_string(len) + " bytes failed: " + ucs_status_string(status));
    const mc_result_t rc = ResultFromUcs(status);
    return rc == MC_ERR_NO_MEMORY || rc == MC_ERR_UNSUPPORTED ? rc : MC_ERR_INTERNAL;
  }
  auto* mr = new Registration();
  mr->ctx = this;
  mr->memh = memh;
  mr->base = reinterpret_cast<uint64_t>(ptr);
  mr->length = len;
  mr->kind = kind;
  registrations_.insert(mr);
  *out = mr;
  return MC_SUCCESS;
}

mc_result_t UcxContext::Deregister(Registration* mr) {
  if (registrations_.erase(mr) == 0) return MC_ERR_INVALID_ARG;
  ucp_mem_unmap(ucp_, mr->memh);
  mr->magic = 0;
  delete mr;
  return MC_SUCCESS;
}

mc_result_t UcxContext::PackKey(Registration* mr, void* buf, size_t* len) {
  if (mr->packed.empty()) {
    void* ucx_key = nullptr;
    size_t ucx_len = 0;
    const ucs_status_t status = ucp_rkey_pack(ucp_, mr->memh, &ucx_key, &ucx_len);
    if (status != UCS_OK) {
      Log(MC_LOG_ERROR, std::string("ucx: ucp_rkey_pack failed: ") + ucs_status_string(status));
      return MC_ERR_INTERNAL;
    }
    KeyContents contents;
    contents.base = mr->base;
    contents.length = mr->length;
    contents.ucx_key.assign(static_cast<const char*>(ucx_key), ucx_len);
    ucp_rkey_buffer_release(ucx_key);
    if (kPackedKeyOverhead + ucx_len > MC_MAX_RKEY_BYTES) {
      Log(MC_LOG_ERROR, "ucx: UCX's packed key is " + std::to_string(ucx_len) + " bytes; with the plugin's " +
                            std::to_string(kPackedKeyOverhead) + " it does not fit MC_MAX_RKEY_BYTES (" +
                            std::to_string(MC_MAX_RKEY_BYTES) + "): narrow UCX_TLS to the transports in use");
      return MC_ERR_UNSUPPORTED;
    }
    mr->packed = EncodeKey(contents);
  }
  if (*len < mr->packed.size()) {
    *len = mr->packed.size();
    return MC_ERR_NO_MEMORY;
  }
  std::memcpy(buf, mr->packed.data(), mr->packed.size());
  *len = mr->packed.size();
  return MC_SUCCESS;
}

RemoteKey* UcxContext::NewRemoteKey(uint64_t endpoint_serial, KeyContents contents) {
  auto* key = new RemoteKey();
  key->ctx = this;
  key->endpoint_serial = endpoint_serial;
  key->contents = std::move(contents);
  remote_keys_.insert(key);
  return key;
}

mc_result_t UcxContext::ReleaseKey(RemoteKey* key) {
  if (!remote_keys_.contains(key) || key->released) return MC_ERR_INVALID_ARG;
  key->magic = 0;
  key->released = true;
  if (key->puts_in_flight == 0) DestroyKey(key);
  return MC_SUCCESS;
}

void UcxContext::DestroyKey(RemoteKey* key) {
  remote_keys_.erase(key);
  if (key->handle != nullptr) ucp_rkey_destroy(key->handle);
  delete key;
}

}  // namespace mc::ucx
