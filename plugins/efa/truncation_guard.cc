#include "truncation_guard.h"

#include <sys/mman.h>

namespace mc::efa {

TruncationGuard::~TruncationGuard() {
  if (base_ != nullptr) munmap(base_, bytes_);
}

bool TruncationGuard::Reserve(size_t bytes) {
  void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED) return false;
  base_ = p;
  bytes_ = bytes;
  return true;
}

void TruncationGuard::Discard() {
  if (base_ != nullptr) madvise(base_, bytes_, MADV_DONTNEED);
}

}  // namespace mc::efa
