#include "params.h"

namespace unixdemo {
namespace {

// Beyond this, offsets into a message could overflow; no one sends 4 EiB.
constexpr uint64_t kMaxMessageCeiling = uint64_t{1} << 62;

// A normalized size or int: decimal digits only.
bool ParseDecimal(const char* text, uint64_t* value) {
  if (*text == '\0') return false;
  uint64_t v = 0;
  for (const char* c = text; *c != '\0'; ++c) {
    if (*c < '0' || *c > '9') return false;
    const uint64_t digit = static_cast<uint64_t>(*c - '0');
    if (v > (UINT64_MAX - digit) / 10) return false;
    v = v * 10 + digit;
  }
  *value = v;
  return true;
}

}  // namespace

// Short names: the core prefixes them with MC_UNIXDEMO_. The default, too,
// is handed over through get_param, so the code below has one path.
const mc_param_v1_t kParams[] = {
    {"MAX_MESSAGE", MC_PARAM_SIZE, "1073741824",
     "largest message or put in bytes; a larger frame from a peer breaks the connection"},
};
const size_t kNumParams = sizeof(kParams) / sizeof(kParams[0]);

bool ReadSettings(const mc_host_v1_t& host, Settings* settings, std::string* error) {
  char value[64];
  mc_result_t rc = host.get_param(host.ctx, "MAX_MESSAGE", value, sizeof(value));
  if (rc != MC_SUCCESS) {
    *error = rc == MC_ERR_NO_MEMORY ? "MC_UNIXDEMO_MAX_MESSAGE is too long"
                                    : "the host has no value for MC_UNIXDEMO_MAX_MESSAGE";
    return false;
  }
  uint64_t max_message = 0;
  if (!ParseDecimal(value, &max_message) || max_message == 0 || max_message > kMaxMessageCeiling) {
    *error = std::string("MC_UNIXDEMO_MAX_MESSAGE='") + value +
             "' is not a size between 1 byte and 4 EiB (the host hands sizes over as decimal bytes)";
    return false;
  }
  settings->max_message = max_message;
  return true;
}

}  // namespace unixdemo
