#include "transports/tcp/memory_registry.h"

#include "absl/strings/str_cat.h"

namespace mc::tcp {
namespace {

constexpr uint32_t kPackedKeyMagic = 0x314b4354;  // "TCK1"

template <typename T>
void Store(uint8_t* out, T value) {
  for (size_t i = 0; i < sizeof(T); ++i) out[i] = static_cast<uint8_t>(value >> (8 * i));
}

template <typename T>
T Load(const uint8_t* in) {
  T value = 0;
  for (size_t i = 0; i < sizeof(T); ++i) value |= static_cast<T>(in[i]) << (8 * i);
  return value;
}

}  // namespace

void PackKey(const Registration& reg, uint8_t out[kPackedKeyBytes]) {
  Store<uint32_t>(out, kPackedKeyMagic);
  Store<uint32_t>(out + 4, reg.key);
  Store<uint64_t>(out + 8, reg.base);
  Store<uint64_t>(out + 16, reg.length);
}

absl::StatusOr<RemoteKey> UnpackKey(absl::Span<const uint8_t> packed) {
  if (packed.size() != kPackedKeyBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("a tcp remote key is ", kPackedKeyBytes, " bytes, not ", packed.size()));
  }
  if (Load<uint32_t>(packed.data()) != kPackedKeyMagic) {
    return absl::InvalidArgumentError("not a tcp remote key (bad magic)");
  }
  RemoteKey key;
  key.key = Load<uint32_t>(packed.data() + 4);
  key.base = Load<uint64_t>(packed.data() + 8);
  key.length = Load<uint64_t>(packed.data() + 16);
  if (key.length > UINT64_MAX - key.base) {
    return absl::InvalidArgumentError("tcp remote key describes a range past the end of the address space");
  }
  return key;
}

MemoryRegistry::~MemoryRegistry() {
  for (auto& [key, reg] : regs_) delete reg;
  for (RemoteKey* key : remote_keys_) delete key;
}

mc_result_t MemoryRegistry::Register(void* ptr, size_t len, mc_mem_kind_t kind, Registration** out) {
  if (out == nullptr || (ptr == nullptr && len > 0)) return MC_ERR_INVALID_ARG;
  if (kind == MC_MEM_CUDA || kind == MC_MEM_DMABUF) return MC_ERR_UNSUPPORTED;
  if (kind != MC_MEM_HOST) return MC_ERR_INVALID_ARG;
  uint64_t base = reinterpret_cast<uintptr_t>(ptr);
  if (len > UINT64_MAX - base) return MC_ERR_INVALID_ARG;
  // Key 0 is never handed out; skip keys still in use after a wrap.
  while (next_key_ == 0 || regs_.contains(next_key_)) ++next_key_;
  auto* reg = new Registration;
  reg->key = next_key_++;
  reg->base = base;
  reg->length = len;
  regs_[reg->key] = reg;
  *out = reg;
  return MC_SUCCESS;
}

bool MemoryRegistry::Deregister(Registration* reg) {
  auto it = regs_.find(reg->key);
  if (it == regs_.end() || it->second != reg) return false;
  regs_.erase(it);
  reg->magic = 0;
  delete reg;
  return true;
}

const Registration* MemoryRegistry::Find(uint32_t key) const {
  auto it = regs_.find(key);
  return it == regs_.end() ? nullptr : it->second;
}

RemoteKey* MemoryRegistry::AddRemoteKey(const RemoteKey& key) {
  auto* copy = new RemoteKey(key);
  copy->registry = this;
  remote_keys_.insert(copy);
  return copy;
}

bool MemoryRegistry::ReleaseRemoteKey(RemoteKey* key) {
  if (remote_keys_.erase(key) == 0) return false;
  key->magic = 0;
  delete key;
  return true;
}

}  // namespace mc::tcp
