// MoonComm's configuration: MC_* environment variables.
//
// Every variable is declared exactly once: the core's in core/src/config/params.cc,
// a plugin's in its mc_plugin_v1::params (full name MC_<PLUGIN>_<NAME>).
// Values are parsed on use; a bad value is an InvalidArgument error that names
// the variable, the value and what was expected.
#ifndef MOONCOMM_CONFIG_H_
#define MOONCOMM_CONFIG_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "mooncomm/plugin_abi.h"

namespace mc {

enum class ParamType { kInt, kBool, kSize, kString, kEnum };

struct ParamSpec {
  std::string name;           // full name: "MC_TIMEOUT_MS"
  ParamType type;
  std::string default_value;
  std::string help;           // one line
  std::vector<std::string> choices;  // kEnum only
  std::string owner;          // "core" or the plugin's name
};

enum class ParamSource { kDefault, kEnvironment };

struct ParamValue {
  ParamSpec spec;
  std::string value;   // as set, or the default
  ParamSource source;
};

namespace config {

// Makes a plugin's params known (idempotent per plugin name).
void RegisterPluginParams(std::string_view plugin_name, const mc_param_v1_t* params, size_t count);

// The spec of a declared variable, or NotFound.
absl::StatusOr<ParamSpec> Spec(std::string_view name);

// Typed values of declared variables: the environment's value, else the default.
absl::StatusOr<int64_t> GetInt(std::string_view name);
absl::StatusOr<bool> GetBool(std::string_view name);
absl::StatusOr<uint64_t> GetSize(std::string_view name);
absl::StatusOr<std::string> GetString(std::string_view name);  // kString and kEnum

// Conveniences for the core's own variables.
absl::StatusOr<mc_log_level_t> LogLevel();     // MC_LOG_LEVEL
absl::StatusOr<absl::Duration> Timeout();      // MC_TIMEOUT_MS

// Every declared variable with its value and where that value came from.
std::vector<ParamValue> All();
// MC_* variables in the environment that nothing declares.
std::vector<std::string> UnknownVariables();
// Parses every declared variable that is set; the first bad one is the error.
absl::Status ValidateAll();
// Logs one warning per unknown MC_* variable, once per process.
void WarnAboutUnknownVariables();

// Parsers, exposed for tests and tools.
absl::StatusOr<int64_t> ParseInt(std::string_view name, std::string_view text);
absl::StatusOr<bool> ParseBool(std::string_view name, std::string_view text);
absl::StatusOr<uint64_t> ParseSize(std::string_view name, std::string_view text);

const char* TypeName(ParamType type);
const char* SourceName(ParamSource source);

}  // namespace config
}  // namespace mc

#endif  // MOONCOMM_CONFIG_H_
