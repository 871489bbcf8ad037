// The params unixdemo declares. The core reads each one from the environment
// as MC_UNIXDEMO_<NAME>, rejects values that do not fit the declared type,
// and hands the rest over normalized through host->get_param: sizes arrive as
// plain decimal ("1K" comes as "1024"), bools as "1" or "0". So the plugin
// parses only decimal digits and never a suffix.
#ifndef UNIXDEMO_PARAMS_H_
#define UNIXDEMO_PARAMS_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "mooncomm/plugin_abi.h"

namespace unixdemo {

extern const mc_param_v1_t kParams[];
extern const size_t kNumParams;

struct Settings {
  // MC_UNIXDEMO_MAX_MESSAGE: the largest message or put. It is the device's
  // max_message_bytes, and it bounds what a peer can make us allocate for a
  // message that arrives before its receive is posted.
  uint64_t max_message = 0;
};

// Reads every param through the host. False, with `error` naming the
// variable and the value, when one is unusable.
bool ReadSettings(const mc_host_v1_t& host, Settings* settings, std::string* error);

}  // namespace unixdemo

#endif  // UNIXDEMO_PARAMS_H_
