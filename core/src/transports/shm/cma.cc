#include "transports/shm/cma.h"

#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace mc::shm {
namespace {

CmaResult Classify(ssize_t copied) {
  if (copied > 0) return {CmaOutcome::kCopied, static_cast<size_t>(copied), 0};
  if (copied == 0) return {CmaOutcome::kBadAddress, 0, EFAULT};
  int err = errno;
  switch (err) {
    case EINTR:
    case EAGAIN:
      return {CmaOutcome::kRetry, 0, err};
    case EPERM:
    case EACCES:
    case ENOSYS:
      return {CmaOutcome::kNotPermitted, 0, err};
    case ESRCH:
      return {CmaOutcome::kPeerGone, 0, err};
    case EFAULT:
      return {CmaOutcome::kBadAddress, 0, err};
    default:
      return {CmaOutcome::kFailed, 0, err};
  }
}

}  // namespace

CmaResult CmaRead(pid_t pid, void* local, uint64_t remote_addr, size_t bytes) {
  iovec local_iov{local, bytes};
  iovec remote_iov{reinterpret_cast<void*>(static_cast<uintptr_t>(remote_addr)), bytes};
  return Classify(::process_vm_readv(pid, &local_iov, 1, &remote_iov, 1, 0));
}

CmaResult CmaWrite(pid_t pid, const void* local, uint64_t remote_addr, size_t bytes) {
  iovec local_iov{const_cast<void*>(local), bytes};
  iovec remote_iov{reinterpret_cast<void*>(static_cast<uintptr_t>(remote_addr)), bytes};
  return Classify(::process_vm_writev(pid, &local_iov, 1, &remote_iov, 1, 0));
}

bool CmaWorksHere(std::string* why) {
  uint64_t source = 0x5eed5eed5eed5eedull;
  uint64_t target = 0;
  CmaResult result = CmaRead(::getpid(), &target, reinterpret_cast<uintptr_t>(&source), sizeof(source));
  if (result.outcome == CmaOutcome::kCopied && result.bytes == sizeof(source) && target == source) return true;
  *why = absl::StrCat("process_vm_readv on this process failed: ",
                      result.error != 0 ? std::strerror(result.error) : "wrong data");
  return false;
}

}  // namespace mc::shm
