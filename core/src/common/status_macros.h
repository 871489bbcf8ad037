#ifndef MOONCOMM_SRC_COMMON_STATUS_MACROS_H_
#define MOONCOMM_SRC_COMMON_STATUS_MACROS_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define MC_RETURN_IF_ERROR(expr)                  \
  do {                                            \
    ::absl::Status mc_status_ = (expr);           \
    if (!mc_status_.ok()) return mc_status_;      \
  } while (0)

#define MC_CONCAT_INNER(a, b) a##b
#define MC_CONCAT(a, b) MC_CONCAT_INNER(a, b)
#define MC_ASSIGN_OR_RETURN(lhs, expr) MC_ASSIGN_OR_RETURN_IMPL(MC_CONCAT(mc_statusor_, __LINE__), lhs, expr)
#define MC_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                             \
  if (!tmp.ok()) return tmp.status();            \
  lhs = std::move(*tmp)

#endif  // MOONCOMM_SRC_COMMON_STATUS_MACROS_H_
