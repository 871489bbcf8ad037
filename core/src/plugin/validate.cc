#include "plugin/validate.h"

#include <cstring>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/absl_compat.h"
#include "mooncomm/config.h"
#include "plugin/search_path.h"

namespace mc {
namespace {

// A C plugin may store any int in an enum field; reading it as the C++ enum
// type would be undefined for values outside the enumerators.
template <typename Enum>
int RawEnum(const Enum& value) {
  static_assert(sizeof(Enum) == sizeof(int));
  int raw;
  std::memcpy(&raw, &value, sizeof(raw));
  return raw;
}

absl::Status Missing(std::string_view where, std::string_view field) {
  return absl::FailedPreconditionError(absl::StrCat(ToAbsl(where), ": mc_plugin_v1.", ToAbsl(field), " is NULL"));
}

// Each entry: the field's name and whether it is set.
struct Field {
  const char* name;
  bool present;
};

absl::Status CheckFields(std::string_view where, std::string_view table, std::initializer_list<Field> fields) {
  for (const Field& f : fields) {
    if (!f.present) return Missing(where, absl::StrCat(ToAbsl(table), "->", f.name));
  }
  return absl::OkStatus();
}

absl::Status CheckTransport(std::string_view where, const mc_transport_v1_t& t) {
  return CheckFields(where, "transport",
                     {{"init", t.init != nullptr},
                      {"finalize", t.finalize != nullptr},
                      {"device_count", t.device_count != nullptr},
                      {"listen", t.listen != nullptr},
                      {"accept", t.accept != nullptr},
                      {"close_listener", t.close_listener != nullptr},
                      {"connect", t.connect != nullptr},
                      {"isend", t.isend != nullptr},
                      {"irecv", t.irecv != nullptr},
                      {"iput", t.iput != nullptr},
                      {"test", t.test != nullptr},
                      {"poll_notification", t.poll_notification != nullptr},
                      {"progress", t.progress != nullptr},
                      {"close", t.close != nullptr}});
}

absl::Status CheckMemory(std::string_view where, const mc_memory_v1_t& m) {
  return CheckFields(where, "memory",
                     {{"reg", m.reg != nullptr},
                      {"dereg", m.dereg != nullptr},
                      {"pack_rkey", m.pack_rkey != nullptr},
                      {"unpack_rkey", m.unpack_rkey != nullptr},
                      {"release_rkey", m.release_rkey != nullptr}});
}

absl::Status CheckParamDefault(const std::string& full_name, const mc_param_v1_t& p) {
  if (p.default_value == nullptr) return absl::OkStatus();  // read as ""
  switch (p.type) {
    case MC_PARAM_INT:
      return config::ParseInt(full_name, p.default_value).status();
    case MC_PARAM_BOOL:
      return config::ParseBool(full_name, p.default_value).status();
    case MC_PARAM_SIZE:
      return config::ParseSize(full_name, p.default_value).status();
    case MC_PARAM_STRING:
      return absl::OkStatus();
  }
  return absl::OkStatus();
}

absl::Status CheckParams(std::string_view where, const mc_plugin_v1_t& plugin) {
  if (plugin.num_params == 0) return absl::OkStatus();
  if (plugin.params == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat(ToAbsl(where), ": mc_plugin_v1.params is NULL but num_params is ", plugin.num_params));
  }
  for (size_t i = 0; i < plugin.num_params; ++i) {
    const mc_param_v1_t& p = plugin.params[i];
    std::string field = absl::StrCat("params[", i, "]");
    if (p.name == nullptr) return Missing(where, absl::StrCat(field, ".name"));
    std::string_view name = p.name;
    bool name_ok = !name.empty();
    for (char c : name) name_ok = name_ok && (absl::ascii_isalnum(c) || c == '_');
    if (!name_ok) {
      return absl::FailedPreconditionError(absl::StrCat(ToAbsl(where), ": mc_plugin_v1.", field, ".name '",
                                                        ToAbsl(name),
                                                        "' is not a parameter name (letters, digits, '_')"));
    }
    if (int type = RawEnum(p.type); type < MC_PARAM_INT || type > MC_PARAM_STRING) {
      return absl::FailedPreconditionError(
          absl::StrCat(ToAbsl(where), ": mc_plugin_v1.", field, ".type is ", type, ", not an mc_param_type_t"));
    }
    if (absl::Status s = CheckParamDefault(std::string(name), p); !s.ok()) {
      return absl::FailedPreconditionError(
          absl::StrCat(ToAbsl(where), ": mc_plugin_v1.", field, ".default_value is bad: ", s.message()));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidatePluginV1(const mc_plugin_v1_t* plugin, std::string_view where) {
  if (plugin == nullptr)
    return absl::FailedPreconditionError(absl::StrCat(ToAbsl(where), ": the plugin struct is NULL"));
  if (plugin->name == nullptr) return Missing(where, "name");
  if (absl::Status s = CheckPluginName(plugin->name, absl::StrCat(ToAbsl(where), ": mc_plugin_v1.name")); !s.ok()) {
    return absl::FailedPreconditionError(s.message());
  }
  if (plugin->transport == nullptr) return Missing(where, "transport");
  if (plugin->memory == nullptr) return Missing(where, "memory");
  if (plugin->topology == nullptr) return Missing(where, "topology");
  if (absl::Status s = CheckTransport(where, *plugin->transport); !s.ok()) return s;
  if (absl::Status s = CheckMemory(where, *plugin->memory); !s.ok()) return s;
  if (plugin->topology->device_props == nullptr) return Missing(where, "topology->device_props");
  return CheckParams(where, *plugin);
}

}  // namespace mc
