// Temporary buffers of the collectives, kept between calls so that a large
// collective does not pay for fresh pages every time.
#ifndef MOONCOMM_ALGORITHMS_ENGINE_SCRATCH_POOL_H_
#define MOONCOMM_ALGORITHMS_ENGINE_SCRATCH_POOL_H_

#include <cstddef>
#include <algorithm>
#include <cstdlib>
#include <memory>
#include <vector>

namespace mc::algo {

class ScratchPool {
 public:
  // Buffer number `slot`, grown to at least `bytes`; 64-byte aligned.
  void* Get(int slot, size_t bytes) {
    if (slot >= static_cast<int>(buffers_.size())) buffers_.resize(slot + 1);
    Buffer& b = buffers_[slot];
    if (b.bytes < bytes || !b.data) {
      size_t rounded = (std::max<size_t>(bytes, 64) + 63) / 64 * 64;
      b.data.reset(static_cast<char*>(std::aligned_alloc(64, rounded)));
      b.bytes = rounded;
    }
    return b.data.get();
  }

 private:
  struct Free {
    void operator()(char* p) const { std::free(p); }
  };
  struct Buffer {
    std::unique_ptr<char, Free> data;
    size_t bytes = 0;
  };
  std::vector<Buffer> buffers_;
};

}  // namespace mc::algo

#endif  // MOONCOMM_ALGORITHMS_ENGINE_SCRATCH_POOL_H_
