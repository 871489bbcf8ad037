#include "transports/shm/shared_region.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"

namespace mc::shm {
namespace {

std::string ErrnoText(int err) { return absl::StrCat(std::strerror(err), " (errno ", err, ")"); }

absl::StatusOr<uint8_t*> MapShared(int fd, size_t bytes) {
  void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, 0);
  if (p == MAP_FAILED) {
    int err = errno;
    return absl::ResourceExhaustedError(absl::StrCat("mmap of ", bytes, " shared bytes failed: ", ErrnoText(err)));
  }
  return static_cast<uint8_t*>(p);
}

}  // namespace

SharedRegion::~SharedRegion() { Unmap(); }

SharedRegion::SharedRegion(SharedRegion&& other) noexcept
    : fd_(std::move(other.fd_)), data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)) {}

SharedRegion& SharedRegion::operator=(SharedRegion&& other) noexcept {
  if (this != &other) {
    Unmap();
    fd_ = std::move(other.fd_);
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

void SharedRegion::Unmap() {
  if (data_ != nullptr) ::munmap(data_, size_);
  data_ = nullptr;
  size_ = 0;
  fd_.Reset();
}

absl::StatusOr<SharedRegion> SharedRegion::Create(size_t bytes, const char* debug_name) {
  UniqueFd fd(::memfd_create(debug_name, MFD_CLOEXEC | MFD_ALLOW_SEALING));
  if (!fd.valid()) {
    int err = errno;
    return absl::ResourceExhaustedError(absl::StrCat("memfd_create failed: ", ErrnoText(err)));
  }
  if (::ftruncate(fd.get(), static_cast<off_t>(bytes)) != 0) {
    int err = errno;
    return absl::ResourceExhaustedError(absl::StrCat("cannot size shared memory to ", bytes, " bytes: ", ErrnoText(err)));
  }
  if (::fcntl(fd.get(), F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) != 0) {
    int err = errno;
    return absl::InternalError(absl::StrCat("cannot seal shared memory: ", ErrnoText(err)));
  }
  absl::StatusOr<uint8_t*> data = MapShared(fd.get(), bytes);
  if (!data.ok()) return data.status();
  return SharedRegion(std::move(fd), *data, bytes);
}

absl::StatusOr<SharedRegion> SharedRegion::Map(UniqueFd fd, size_t min_bytes, size_t max_bytes) {
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) {
    int err = errno;
    return absl::InvalidArgumentError(absl::StrCat("cannot stat the peer's shared memory: ", ErrnoText(err)));
  }
  size_t bytes = static_cast<size_t>(st.st_size);
  if (st.st_size < 0 || bytes < min_bytes || bytes > max_bytes) {
    return absl::InvalidArgumentError(absl::StrCat("the peer's shared memory has ", st.st_size,
                                                   " bytes, expected ", min_bytes, " to ", max_bytes));
  }
  int seals = ::fcntl(fd.get(), F_GET_SEALS);
  if (seals < 0 || (seals & F_SEAL_SHRINK) == 0) {
    return absl::InvalidArgumentError("the peer's shared memory is not sealed against shrinking");
  }
  absl::StatusOr<uint8_t*> data = MapShared(fd.get(), bytes);
  if (!data.ok()) return data.status();
  return SharedRegion(std::move(fd), *data, bytes);
}

}  // namespace mc::shm
