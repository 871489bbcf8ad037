// Debian's Abseil is built in C++17 mode with its own absl::string_view and
// absl::optional, distinct from the std:: ones our C++20 code uses. These
// adapters cross that line at the call sites that need Abseil's types.
#ifndef MOONCOMM_SRC_COMMON_ABSL_COMPAT_H_
#define MOONCOMM_SRC_COMMON_ABSL_COMPAT_H_

#include <string_view>

#include "absl/strings/string_view.h"

namespace mc {

inline absl::string_view ToAbsl(std::string_view s) { return absl::string_view(s.data(), s.size()); }
inline std::string_view ToStd(absl::string_view s) { return std::string_view(s.data(), s.size()); }

}  // namespace mc

#endif  // MOONCOMM_SRC_COMMON_ABSL_COMPAT_H_
