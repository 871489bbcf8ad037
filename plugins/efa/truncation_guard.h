// Truncation without the provider: every receive is posted as two iov
// entries, the core's buffer and then a shared overflow region as large as
// the largest message. No incoming message is ever longer than what was
// posted, so the provider never truncates; a completion longer than the
// core's buffer is reported as MC_ERR_TRUNCATED by the plugin, the first
// bytes in the buffer and nothing past it.
//
// Why: libfabric 1.17's shm provider spins forever in fi_cq_read when a
// message taking its CMA path is truncated, and its tcp provider (under
// ofi_rxm) drops the connection after a truncation, losing what follows
// (ofiwg/libfabric#8274, fixed in 1.18.1). Truncation is an error path that
// must not cost a hang or lost messages.
//
// The region is address space only (MAP_NORESERVE): what a truncated
// message writes there is given back at once. A provider that needs local
// registrations (FI_MR_LOCAL) would have to register, and maybe pin, all of
// it, so such devices go without the guard and rely on the provider.
#ifndef MOONCOMM_PLUGINS_EFA_TRUNCATION_GUARD_H_
#define MOONCOMM_PLUGINS_EFA_TRUNCATION_GUARD_H_

#include <cstddef>

namespace mc::efa {

class TruncationGuard {
 public:
  TruncationGuard() = default;
  ~TruncationGuard();
  TruncationGuard(const TruncationGuard&) = delete;
  TruncationGuard& operator=(const TruncationGuard&) = delete;

  // Reserves `bytes` of address space; false when the system refuses.
  bool Reserve(size_t bytes);
  void* base() const { return base_; }
  size_t bytes() const { return bytes_; }
  // Gives back the pages a truncated message wrote into.
  void Discard();

 private:
  void* base_ = nullptr;
  size_t bytes_ = 0;
};

}  // namespace mc::efa

#endif  // MOONCOMM_PLUGINS_EFA_TRUNCATION_GUARD_H_
