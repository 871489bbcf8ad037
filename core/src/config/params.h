#ifndef MOONCOMM_SRC_CONFIG_PARAMS_H_
#define MOONCOMM_SRC_CONFIG_PARAMS_H_

#include <vector>

#include "mooncomm/config.h"

namespace mc::config {

// The core's declared variables (params.cc).
const std::vector<ParamSpec>& CoreParams();

}  // namespace mc::config

#endif  // MOONCOMM_SRC_CONFIG_PARAMS_H_
