// Little-endian encoding of the plugin's own wire formats (listen address,
// handshake frames, control messages, packed remote keys), and the checksum
// that lets a decoder refuse bytes that were never one of ours.
#ifndef MOONCOMM_PLUGINS_EFA_BYTE_CODEC_H_
#define MOONCOMM_PLUGINS_EFA_BYTE_CODEC_H_

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace mc::efa {

// FNV-1a, 32 bits: detects garbage, not an attacker.
inline uint32_t Fnv1a32(const void* data, size_t len, uint32_t hash = 2166136261u) {
  const auto* p = static_cast<const uint8_t*>(data);
  for (size_t i = 0; i < len; ++i) {
    hash ^= p[i];
    hash *= 16777619u;
  }
  return hash;
}

class ByteWriter {
 public:
  void U8(uint8_t v) { out_.push_back(static_cast<char>(v)); }
  void U16(uint16_t v) { Little(v, 2); }
  void U32(uint32_t v) { Little(v, 4); }
  void U64(uint64_t v) { Little(v, 8); }
  void Bytes(const void* data, size_t len) { out_.append(static_cast<const char*>(data), len); }
  void Bytes(std::string_view bytes) { out_.append(bytes); }
  // Appends the checksum of everything written so far.
  void Checksum() { U32(Fnv1a32(out_.data(), out_.size())); }
  size_t size() const { return out_.size(); }
  std::string Take() { return std::move(out_); }

 private:
  void Little(uint64_t v, int bytes) {
    for (int i = 0; i < bytes; ++i) out_.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  }
  std::string out_;
};

// Reads what ByteWriter wrote. Once a read runs past the end, ok() is false
// and every later read yields zeros.
class ByteReader {
 public:
  ByteReader(const void* data, size_t len) : begin_(static_cast<const uint8_t*>(data)), p_(begin_), end_(p_ + len) {}

  bool ok() const { return ok_; }
  size_t remaining() const { return static_cast<size_t>(end_ - p_); }
  uint8_t U8() { return static_cast<uint8_t>(Little(1)); }
  uint16_t U16() { return static_cast<uint16_t>(Little(2)); }
  uint32_t U32() { return static_cast<uint32_t>(Little(4)); }
  uint64_t U64() { return Little(8); }
  std::string Bytes(size_t len) {
    if (!Have(len)) return std::string();
    std::string out(reinterpret_cast<const char*>(p_), len);
    p_ += len;
    return out;
  }
  void Bytes(void* out, size_t len) {
    if (!Have(len)) {
      std::memset(out, 0, len);
      return;
    }
    std::memcpy(out, p_, len);
    p_ += len;
  }
  // Reads a checksum and compares it with the checksum of everything before it.
  bool ChecksumMatches() {
    const uint32_t expected = Fnv1a32(begin_, static_cast<size_t>(p_ - begin_));
    return U32() == expected && ok_;
  }

 private:
  bool Have(size_t len) {
    if (!ok_ || remaining() < len) {
      ok_ = false;
      return false;
    }
    return true;
  }
  uint64_t Little(int bytes) {
    if (!Have(static_cast<size_t>(bytes))) return 0;
    uint64_t v = 0;
    for (int i = 0; i < bytes; ++i) v |= static_cast<uint64_t>(p_[i]) << (8 * i);
    p_ += bytes;
    return v;
  }

  const uint8_t* begin_;
  const uint8_t* p_;
  const uint8_t* end_;
  bool ok_ = true;
};

}  // namespace mc::efa

#endif  // MOONCOMM_PLUGINS_EFA_BYTE_CODEC_H_
