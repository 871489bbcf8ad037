// Cross-memory attach: one copy between two processes' address spaces with
// process_vm_readv / process_vm_writev. The kernel allows it when we could
// ptrace the peer (same user, and Yama / seccomp permitting).
#ifndef MOONCOMM_SRC_TRANSPORTS_SHM_CMA_H_
#define MOONCOMM_SRC_TRANSPORTS_SHM_CMA_H_

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <string>

namespace mc::shm {

enum class CmaOutcome {
  kCopied,        // `bytes` > 0 were copied (possibly fewer than asked)
  kRetry,         // interrupted; try again
  kNotPermitted,  // EPERM / ENOSYS: CMA cannot be used with this peer
  kPeerGone,      // ESRCH: the process no longer exists
  kBadAddress,    // EFAULT or nothing copied: a range is not mapped
  kFailed,        // anything else (ENOMEM...)
};

struct CmaResult {
  CmaOutcome outcome;
  size_t bytes;
  int error;  // errno when not kCopied
};

// Copies up to `bytes` from `remote_addr` in process `pid` to `local`.
CmaResult CmaRead(pid_t pid, void* local, uint64_t remote_addr, size_t bytes);
// Copies up to `bytes` from `local` to `remote_addr` in process `pid`.
CmaResult CmaWrite(pid_t pid, const void* local, uint64_t remote_addr, size_t bytes);

// Whether this process may use CMA at all (a read from itself; catches
// kernels and seccomp profiles without it). On false, *why says what failed.
bool CmaWorksHere(std::string* why);

}  // namespace mc::shm

#endif  // MOONCOMM_SRC_TRANSPORTS_SHM_CMA_H_
