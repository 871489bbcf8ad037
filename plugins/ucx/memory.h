// Registered memory and remote keys. A registration maps the caller's range
// with ucp_mem_map; its packed key (packed_key.h) carries the range and UCX's
// key. A remote key belongs to one endpoint and is unpacked into UCX's form
// once that endpoint's UCP endpoint exists.
#ifndef MOONCOMM_PLUGINS_UCX_MEMORY_H_
#define MOONCOMM_PLUGINS_UCX_MEMORY_H_

#include <ucp/api/ucp.h>

#include <cstdint>
#include <string>

#include "mooncomm/plugin_abi.h"
#include "packed_key.h"

namespace mc::ucx {

class UcxContext;

struct Registration {
  static constexpr uint32_t kMagic = 0x47524355;  // "UCRG"
  uint32_t magic = kMagic;
  UcxContext* ctx = nullptr;
  ucp_mem_h memh = nullptr;
  uint64_t base = 0;
  uint64_t length = 0;
  mc_mem_kind_t kind = MC_MEM_HOST;
  std::string packed;  // the packed key, made on the first pack_rkey
};

struct RemoteKey {
  static constexpr uint32_t kMagic = 0x4b524355;  // "UCRK"
  uint32_t magic = kMagic;
  UcxContext* ctx = nullptr;
  uint64_t endpoint_serial = 0;  // the endpoint it was unpacked for
  KeyContents contents;
  ucp_rkey_h handle = nullptr;  // UCX's key, once unpacked on the UCP endpoint
  // release_rkey while puts with it are unfinished only marks it: it goes
  // away with the last of them.
  int puts_in_flight = 0;
  bool released = false;
};

}  // namespace mc::ucx

#endif  // MOONCOMM_PLUGINS_UCX_MEMORY_H_
