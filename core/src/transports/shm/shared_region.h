// Shared memory that can be handed to another process: a sealed memfd,
// mapped read-write. The creator passes the fd over a Unix socket
// (SCM_RIGHTS); the receiver maps it after checking its size and seals.
#ifndef MOONCOMM_SRC_TRANSPORTS_SHM_SHARED_REGION_H_
#define MOONCOMM_SRC_TRANSPORTS_SHM_SHARED_REGION_H_

#include <cstddef>
#include <cstdint>

#include "absl/status/statusor.h"
#include "transports/shm/unique_fd.h"

namespace mc::shm {

class SharedRegion {
 public:
  SharedRegion() = default;
  ~SharedRegion();
  SharedRegion(SharedRegion&& other) noexcept;
  SharedRegion& operator=(SharedRegion&& other) noexcept;
  SharedRegion(const SharedRegion&) = delete;
  SharedRegion& operator=(const SharedRegion&) = delete;

  // A new zero-filled memfd of `bytes`, sealed against resizing, mapped and
  // prefaulted (so the first messages do not pay for page faults).
  static absl::StatusOr<SharedRegion> Create(size_t bytes, const char* debug_name);

  // Maps a memfd received from a peer. Its size must lie in [min_bytes,
  // max_bytes] and it must be sealed against shrinking: a peer that could
  // truncate the file under our mapping could make us fault (SIGBUS).
  static absl::StatusOr<SharedRegion> Map(UniqueFd fd, size_t min_bytes, size_t max_bytes);

  uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  int fd() const { return fd_.get(); }
  // The mapping stays valid without the descriptor.
  void CloseFd() { fd_.Reset(); }
  bool mapped() const { return data_ != nullptr; }

 private:
  SharedRegion(UniqueFd fd, uint8_t* data, size_t size) : fd_(std::move(fd)), data_(data), size_(size) {}
  void Unmap();

  UniqueFd fd_;
  uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace mc::shm

#endif  // MOONCOMM_SRC_TRANSPORTS_SHM_SHARED_REGION_H_
