#include <cerrno>
#include <cstdlib>
#include <mutex>
#include <string>
#include <unistd.h>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/absl_compat.h"
#include "common/log.h"
#include "config/params.h"
#include "mooncomm/config.h"

extern char** environ;

namespace mc::config {
namespace {

struct Registry {
  std::mutex mu;
  std::vector<ParamSpec> plugin_params;
  std::vector<std::string> registered_plugins;
};

Registry& GetRegistry() {
  static Registry* registry = new Registry();
  return *registry;
}

std::vector<ParamSpec> AllSpecs() {
  std::vector<ParamSpec> specs = CoreParams();
  Registry& r = GetRegistry();
  std::lock_guard<std::mutex> lock(r.mu);
  specs.insert(specs.end(), r.plugin_params.begin(), r.plugin_params.end());
  return specs;
}

ParamType FromAbiType(mc_param_type_t type) {
  switch (type) {
    case MC_PARAM_INT: return ParamType::kInt;
    case MC_PARAM_BOOL: return ParamType::kBool;
    case MC_PARAM_SIZE: return ParamType::kSize;
    case MC_PARAM_STRING: return ParamType::kString;
  }
  return ParamType::kString;
}

// The raw text of a declared variable and where it came from.
absl::StatusOr<std::pair<std::string, ParamSource>> RawValue(std::string_view name, ParamSpec* spec_out) {
  absl::StatusOr<ParamSpec> spec = Spec(name);
  if (!spec.ok()) return spec.status();
  const char* env = std::getenv(spec->name.c_str());
  *spec_out = *spec;
  if (env != nullptr) return std::make_pair(std::string(env), ParamSource::kEnvironment);
  return std::make_pair(spec->default_value, ParamSource::kDefault);
}

absl::Status Validate(const ParamSpec& spec, std::string_view value) {
  switch (spec.type) {
    case ParamType::kInt: return ParseInt(spec.name, value).status();
    case ParamType::kBool: return ParseBool(spec.name, value).status();
    case ParamType::kSize: return ParseSize(spec.name, value).status();
    case ParamType::kString: return absl::OkStatus();
    case ParamType::kEnum: {
      std::string lower = absl::AsciiStrToLower(ToAbsl(value));
      for (const std::string& choice : spec.choices) {
        if (lower == choice) return absl::OkStatus();
      }
      return absl::InvalidArgumentError(absl::StrCat(spec.name, "='", ToAbsl(value), "' is not one of: ",
                                                     absl::StrJoin(spec.choices, ", ")));
    }
  }
  return absl::OkStatus();
}

}  // namespace

void RegisterPluginParams(std::string_view plugin_name, const mc_param_v1_t* params, size_t count) {
  Registry& r = GetRegistry();
  std::lock_guard<std::mutex> lock(r.mu);
  for (const std::string& name : r.registered_plugins) {
    if (name == plugin_name) return;
  }
  r.registered_plugins.emplace_back(plugin_name);
  std::string prefix = absl::StrCat("MC_", absl::AsciiStrToUpper(ToAbsl(plugin_name)), "_");
  for (char& c : prefix) {
    if (c == '-') c = '_';
  }
  for (size_t i = 0; i < count && params != nullptr; ++i) {
    if (params[i].name == nullptr) continue;
    r.plugin_params.push_back(ParamSpec{
        absl::StrCat(prefix, absl::AsciiStrToUpper(params[i].name)), FromAbiType(params[i].type),
        params[i].default_value ? params[i].default_value : "", params[i].help ? params[i].help : "", {},
        std::string(plugin_name)});
  }
}

absl::StatusOr<ParamSpec> Spec(std::string_view name) {
  for (const ParamSpec& spec : AllSpecs()) {
    if (spec.name == name) return spec;
  }
  return absl::NotFoundError(absl::StrCat("no configuration variable named ", ToAbsl(name), " is declared"));
}

absl::StatusOr<int64_t> ParseInt(std::string_view name, std::string_view text) {
  int64_t value = 0;
  if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(ToAbsl(text)), &value)) {
    return absl::InvalidArgumentError(absl::StrCat(ToAbsl(name), "='", ToAbsl(text), "' is not an integer"));
  }
  return value;
}

absl::StatusOr<bool> ParseBool(std::string_view name, std::string_view text) {
  std::string lower = absl::AsciiStrToLower(absl::StripAsciiWhitespace(ToAbsl(text)));
  if (lower == "1" || lower == "true" || lower == "yes" || lower == "on") return true;
  if (lower == "0" || lower == "false" || lower == "no" || lower == "off") return false;
  return absl::InvalidArgumentError(
      absl::StrCat(ToAbsl(name), "='", ToAbsl(text), "' is not a boolean (use 1/0, true/false, yes/no, on/off)"));
}

absl::StatusOr<uint64_t> ParseSize(std::string_view name, std::string_view text) {
  std::string_view t = ToStd(absl::StripAsciiWhitespace(ToAbsl(text)));
  uint64_t multiplier = 1;
  if (!t.empty()) {
    char suffix = absl::ascii_tolower(t.back());
    if (suffix == 'b' && t.size() > 1 && !absl::ascii_isdigit(t[t.size() - 2])) {
      t.remove_suffix(1);  // "4KB", "4kb"
      suffix = absl::ascii_tolower(t.back());
    }
    if (suffix == 'k') multiplier = 1ull << 10;
    if (suffix == 'm') multiplier = 1ull << 20;
    if (suffix == 'g') multiplier = 1ull << 30;
    if (suffix == 't') multiplier = 1ull << 40;
    if (multiplier != 1) t.remove_suffix(1);
  }
  uint64_t value = 0;
  if (t.empty() || !absl::SimpleAtoi(ToAbsl(t), &value) || (value != 0 && multiplier > UINT64_MAX / value)) {
    return absl::InvalidArgumentError(
        absl::StrCat(ToAbsl(name), "='", ToAbsl(text), "' is not a size (bytes, with an optional K, M, G or T suffix)"));
  }
  return value * multiplier;
}

absl::StatusOr<int64_t> GetInt(std::string_view name) {
  ParamSpec spec;
  auto raw = RawValue(name, &spec);
  if (!raw.ok()) return raw.status();
  return ParseInt(spec.name, raw->first);
}

absl::StatusOr<bool> GetBool(std::string_view name) {
  ParamSpec spec;
  auto raw = RawValue(name, &spec);
  if (!raw.ok()) return raw.status();
  return ParseBool(spec.name, raw->first);
}

absl::StatusOr<uint64_t> GetSize(std::string_view name) {
  ParamSpec spec;
  auto raw = RawValue(name, &spec);
  if (!raw.ok()) return raw.status();
  return ParseSize(spec.name, raw->first);
}

absl::StatusOr<std::string> GetString(std::string_view name) {
  ParamSpec spec;
  auto raw = RawValue(name, &spec);
  if (!raw.ok()) return raw.status();
  if (spec.type == ParamType::kEnum) {
    if (absl::Status s = Validate(spec, raw->first); !s.ok()) return s;
    return absl::AsciiStrToLower(raw->first);
  }
  return raw->first;
}

absl::StatusOr<mc_log_level_t> LogLevel() {
  absl::StatusOr<std::string> level = GetString("MC_LOG_LEVEL");
  if (!level.ok()) return level.status();
  if (*level == "error") return MC_LOG_ERROR;
  if (*level == "warn") return MC_LOG_WARN;
  if (*level == "info") return MC_LOG_INFO;
  if (*level == "debug") return MC_LOG_DEBUG;
  return MC_LOG_TRACE;
}

absl::StatusOr<absl::Duration> Timeout() {
  absl::StatusOr<int64_t> ms = GetInt("MC_TIMEOUT_MS");
  if (!ms.ok()) return ms.status();
  if (*ms <= 0) {
    return absl::InvalidArgumentError(absl::StrCat("MC_TIMEOUT_MS=", *ms, " must be a positive number of milliseconds"));
  }
  return absl::Milliseconds(*ms);
}

std::vector<ParamValue> All() {
  std::vector<ParamValue> values;
  for (const ParamSpec& spec : AllSpecs()) {
    const char* env = std::getenv(spec.name.c_str());
    values.push_back(ParamValue{spec, env ? env : spec.default_value,
                                env ? ParamSource::kEnvironment : ParamSource::kDefault});
  }
  return values;
}

std::vector<std::string> UnknownVariables() {
  std::vector<ParamSpec> specs = AllSpecs();
  std::vector<std::string> unknown;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string_view entry(*e);
    if (!entry.starts_with("MC_")) continue;
    std::string_view name = entry.substr(0, entry.find('='));
    bool known = false;
    for (const ParamSpec& spec : specs) known = known || spec.name == name;
    if (!known) unknown.emplace_back(name);
  }
  return unknown;
}

absl::Status ValidateAll() {
  for (const ParamValue& v : All()) {
    if (v.source != ParamSource::kEnvironment) continue;
    if (absl::Status s = Validate(v.spec, v.value); !s.ok()) return s;
  }
  if (absl::StatusOr<absl::Duration> t = Timeout(); !t.ok()) return t.status();
  return absl::OkStatus();
}

void WarnAboutUnknownVariables() {
  static std::once_flag once;
  std::call_once(once, [] {
    for (const std::string& name : UnknownVariables()) {
      MC_LOG(WARN) << "unknown configuration variable " << name << " is ignored (mc_info lists the known ones)";
    }
  });
}

const char* TypeName(ParamType type) {
  switch (type) {
    case ParamType::kInt: return "int";
    case ParamType::kBool: return "bool";
    case ParamType::kSize: return "size";
    case ParamType::kString: return "string";
    case ParamType::kEnum: return "enum";
  }
  return "?";
}

const char* SourceName(ParamSource source) {
  return source == ParamSource::kEnvironment ? "environment" : "default";
}

}  // namespace mc::config
