// The bytes pack_rkey hands out: the registered range (so that the initiator
// refuses puts outside it before UCX sees them; UCX itself does not check
// ranges for every transport), UCX's own packed key, and a checksum so that
// garbage is refused at unpack instead of reaching ucp_ep_rkey_unpack.
#ifndef MOONCOMM_PLUGINS_UCX_PACKED_KEY_H_
#define MOONCOMM_PLUGINS_UCX_PACKED_KEY_H_

#include <cstddef>
#include <cstdint>
#include <string>

namespace mc::ucx {

// Our bytes around UCX's: header (24) and checksum (8).
inline constexpr size_t kPackedKeyOverhead = 32;

struct KeyContents {
  uint64_t base = 0;    // the target address the region starts at
  uint64_t length = 0;  // its bytes
  std::string ucx_key;  // from ucp_rkey_pack
};

std::string EncodeKey(const KeyContents& key);
// False, with `why` set, for bytes that are not a key this plugin packed.
bool DecodeKey(const void* bytes, size_t len, KeyContents* key, std::string* why);

// True when [addr, addr + len) lies inside the key's region (no overflow).
bool KeyCovers(const KeyContents& key, uint64_t addr, uint64_t len);

}  // namespace mc::ucx

#endif  // MOONCOMM_PLUGINS_UCX_PACKED_KEY_H_
