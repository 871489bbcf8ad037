#include "packed_key.h"

#include <cstring>

namespace mc::ucx {
namespace {

constexpr uint32_t kMagic = 0x4d43554b;  // "MCUK"
constexpr uint8_t kVersion = 1;
constexpr size_t kHeaderBytes = 24;

uint64_t Fnv1a(const char* data, size_t len) {
  uint64_t hash = 0xcbf29ce484222325ull;
  for (size_t i = 0; i < len; ++i) {
    hash ^= static_cast<uint8_t>(data[i]);
    hash *= 0x100000001b3ull;
  }
  return hash;
}

}  // namespace

std::string EncodeKey(const KeyContents& key) {
  std::string out(kHeaderBytes, '\0');
  const uint16_t ucx_len = static_cast<uint16_t>(key.ucx_key.size());
  std::memcpy(out.data(), &kMagic, 4);
  out[4] = static_cast<char>(kVersion);
  std::memcpy(out.data() + 6, &ucx_len, 2);
  std::memcpy(out.data() + 8, &key.base, 8);
  std::memcpy(out.data() + 16, &key.length, 8);
  out += key.ucx_key;
  const uint64_t checksum = Fnv1a(out.data(), out.size());
  out.append(reinterpret_cast<const char*>(&checksum), sizeof(checksum));
  return out;
}

bool DecodeKey(const void* bytes, size_t len, KeyContents* key, std::string* why) {
  const char* in = static_cast<const char*>(bytes);
  if (len < kPackedKeyOverhead) {
    *why = "a ucx remote key is at least " + std::to_string(kPackedKeyOverhead) + " bytes, this one " +
           std::to_string(len);
    return false;
  }
  uint32_t magic = 0;
  uint16_t ucx_len = 0;
  std::memcpy(&magic, in, 4);
  std::memcpy(&ucx_len, in + 6, 2);
  if (magic != kMagic || static_cast<uint8_t>(in[4]) != kVersion) {
    *why = "the bytes are not a ucx remote key (bad magic or version)";
    return false;
  }
  if (kPackedKeyOverhead + ucx_len != len) {
    *why = "the remote key's length " + std::to_string(len) + " does not match its contents";
    return false;
  }
  uint64_t checksum = 0;
  std::memcpy(&checksum, in + len - 8, 8);
  if (checksum != Fnv1a(in, len - 8)) {
    *why = "the remote key's checksum does not match (corrupt key)";
    return false;
  }
  std::memcpy(&key->base, in + 8, 8);
  std::memcpy(&key->length, in + 16, 8);
  key->ucx_key.assign(in + kHeaderBytes, ucx_len);
  return true;
}

bool KeyCovers(const KeyContents& key, uint64_t addr, uint64_t len) {
  if (addr < key.base) return false;
  const uint64_t offset = addr - key.base;
  return offset <= key.length && len <= key.length - offset;
}

}  // namespace mc::ucx
