// Checks that an mc_plugin_v1_t is complete before the core calls into it:
// a plugin with a missing table or function is refused at load time with a
// message naming the field, instead of crashing later on a NULL call.
#ifndef MOONCOMM_SRC_PLUGIN_VALIDATE_H_
#define MOONCOMM_SRC_PLUGIN_VALIDATE_H_

#include <string_view>

#include "absl/status/status.h"
#include "mooncomm/plugin_abi.h"

namespace mc {

// FailedPrecondition "<where>: mc_plugin_v1.<field> ..." for the first
// problem found: a NULL or malformed name, a NULL table, a NULL function in a
// table, or a malformed param declaration (NULL name, unknown type, a default
// that does not parse as its type). Every function is required: a plugin that
// does not do something returns MC_ERR_UNSUPPORTED from it.
absl::Status ValidatePluginV1(const mc_plugin_v1_t* plugin, std::string_view where);

}  // namespace mc

#endif  // MOONCOMM_SRC_PLUGIN_VALIDATE_H_
