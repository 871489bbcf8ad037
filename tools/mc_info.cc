// mc_info: what this MoonComm build is, where it looks for transport plugins,
// which transports it finds and whether they can run here, and every MC_*
// variable with its value and where the value came from.
//
//   mc_info              the full report
//   mc_info --markdown   only the MC_* table, as Markdown (the README embeds it)
//
// Exit status: 0; 1 when a variable that is set has a bad value; 2 on bad usage.
#include <dirent.h>
#include <dlfcn.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "mooncomm/config.h"
#include "mooncomm/plugin_abi.h"
#include "plugin/loader.h"
#include "plugin/transport.h"

#ifndef MC_VERSION_STRING
#error "MC_VERSION_STRING must be defined by the build"
#endif
#ifndef MC_HAVE_CUDA
#error "MC_HAVE_CUDA must be defined (1 or 0) by the build"
#endif

namespace mc {
namespace {

// A variable whose value is bad, with the reason.
struct Problem {
  std::string message;
};

std::string MemKindsText(uint32_t mask) {
  std::vector<std::string> kinds;
  if (mask & MC_MEM_KIND_BIT(MC_MEM_HOST)) kinds.emplace_back("host");
  if (mask & MC_MEM_KIND_BIT(MC_MEM_CUDA)) kinds.emplace_back("cuda");
  if (mask & MC_MEM_KIND_BIT(MC_MEM_DMABUF)) kinds.emplace_back("dmabuf");
  uint32_t known = MC_MEM_KIND_BIT(MC_MEM_HOST) | MC_MEM_KIND_BIT(MC_MEM_CUDA) | MC_MEM_KIND_BIT(MC_MEM_DMABUF);
  if (mask & ~known) kinds.push_back(absl::StrFormat("unknown bits 0x%x", mask & ~known));
  return kinds.empty() ? "none" : absl::StrJoin(kinds, ", ");
}

std::string LibraryPath() {
  Dl_info info;
  if (dladdr(reinterpret_cast<void*>(&LoadPlugin), &info) == 0 || info.dli_fname == nullptr) return "unknown";
  return info.dli_fname;
}

bool DirectoryExists(const std::string& path) {
  DIR* d = opendir(path.c_str());
  if (d == nullptr) return false;
  closedir(d);
  return true;
}

void PrintBuild() {
  std::printf("MoonComm %s\n", MC_VERSION_STRING);
  std::printf("  library:           %s\n", LibraryPath().c_str());
  std::printf("  plugin ABI:        version %d (symbol %s)\n", MC_PLUGIN_ABI_VERSION, MC_PLUGIN_SYMBOL_V1);
  std::printf("  CUDA support:      %s\n", MC_HAVE_CUDA ? "on" : "off");
}

void PrintSearchPath() {
  std::printf("\nPlugin search path (MC_PLUGIN_PATH first, then the install's and the library's own):\n");
  for (const std::string& dir : PluginSearchPath()) {
    std::printf("  %s%s\n", dir.c_str(), DirectoryExists(dir) ? "" : "  (does not exist)");
  }
}

void PrintDevice(const Transport& transport, int dev) {
  absl::StatusOr<mc_device_props_v1_t> props = transport.DeviceProps(dev);
  if (!props.ok()) {
    std::printf("    device %d: %s\n", dev, std::string(props.status().message()).c_str());
    return;
  }
  std::printf("    device %d: %s\n", dev, props->name);
  std::printf("      pci_path:          %s\n", props->pci_path[0] != '\0' ? props->pci_path : "(none)");
  std::printf("      numa_node:         %d%s\n", props->numa_node, props->numa_node < 0 ? " (unknown)" : "");
  std::printf("      rail:              %d\n", props->rail);
  std::printf("      bandwidth_gbps:    %g%s\n", props->bandwidth_gbps, props->bandwidth_gbps == 0 ? " (unknown)" : "");
  std::printf("      latency_us:        %g\n", props->latency_us);
  std::printf("      mem_kinds:         %s\n", MemKindsText(props->mem_kinds).c_str());
  std::printf("      same_host_only:    %s\n", props->same_host_only ? "yes" : "no");
  std::printf("      max_message_bytes: %llu\n", static_cast<unsigned long long>(props->max_message_bytes));
}

// Loads and opens every transport found; registers their params on the way.
void PrintTransports() {
  std::printf("\nTransports (built-in first, then plugin files):\n");
  for (const std::string& name : AvailablePluginNames()) {
    absl::StatusOr<LoadedPlugin> loaded = LoadPlugin(name);
    if (!loaded.ok()) {
      std::printf("  %s\n    cannot load: %s\n", name.c_str(), std::string(loaded.status().message()).c_str());
      continue;
    }
    const char* version = loaded->plugin->version != nullptr ? loaded->plugin->version : "?";
    std::printf("  %s  (%s, ABI version %u, plugin version %s)\n", name.c_str(), loaded->path.c_str(),
                loaded->abi_version, version);
    absl::StatusOr<std::unique_ptr<Transport>> transport = Transport::Open(*loaded, nullptr);
    if (!transport.ok()) {
      std::printf("    %s\n", std::string(transport.status().message()).c_str());
      continue;
    }
    if ((*transport)->device_count() == 0) std::printf("    no devices\n");
    for (int dev = 0; dev < (*transport)->device_count(); ++dev) PrintDevice(**transport, dev);
  }
}

// Loads every plugin found without opening it, so its params are known.
void RegisterAllPluginParams() {
  for (const std::string& name : AvailablePluginNames()) {
    absl::StatusOr<LoadedPlugin> loaded = LoadPlugin(name);
    if (!loaded.ok()) continue;
    config::RegisterPluginParams(loaded->name, loaded->plugin->params, loaded->plugin->num_params);
  }
}

std::string TypeText(const ParamSpec& spec) {
  if (spec.type == ParamType::kEnum) return absl::StrCat("enum (", absl::StrJoin(spec.choices, "|"), ")");
  return config::TypeName(spec.type);
}

// MC_TRANSPORT must parse, and every transport it names must load.
absl::Status CheckTransportChoice() {
  absl::StatusOr<std::string> value = config::GetString("MC_TRANSPORT");
  if (!value.ok()) return value.status();
  absl::StatusOr<TransportChoice> choice = ParseTransportChoice(*value);
  if (!choice.ok()) return choice.status();
  for (const std::string& name : choice->names) {
    absl::StatusOr<LoadedPlugin> loaded = LoadPlugin(name);
    if (!loaded.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("MC_TRANSPORT names '", name, "', which cannot be loaded: ", loaded.status().message()));
    }
  }
  return absl::OkStatus();
}

// The reason a variable's value is bad, or "" when it is fine.
std::string CheckValue(const ParamSpec& spec) {
  absl::Status status;
  switch (spec.type) {
    case ParamType::kInt:
      status = config::GetInt(spec.name).status();
      break;
    case ParamType::kBool:
      status = config::GetBool(spec.name).status();
      break;
    case ParamType::kSize:
      status = config::GetSize(spec.name).status();
      break;
    case ParamType::kString:
    case ParamType::kEnum:
      status = config::GetString(spec.name).status();
      break;
  }
  if (status.ok() && spec.name == "MC_TIMEOUT_MS") status = config::Timeout().status();
  if (status.ok() && spec.name == "MC_TRANSPORT") status = CheckTransportChoice();
  return status.ok() ? "" : std::string(status.message());
}

std::vector<Problem> PrintVariables() {
  std::vector<ParamValue> values = config::All();
  size_t name_width = 4;
  size_t value_width = 5;
  for (const ParamValue& v : values) {
    name_width = std::max(name_width, v.spec.name.size());
    value_width = std::max(value_width, v.value.size() + 2);
  }
  value_width = std::min<size_t>(value_width, 24);  // a long path overflows its cell rather than every row
  std::printf("\nConfiguration variables:\n");
  std::printf("  %-*s  %-*s  %-11s  %-7s  %s\n", static_cast<int>(name_width), "NAME", static_cast<int>(value_width),
              "VALUE", "SOURCE", "OWNER", "TYPE: HELP");
  std::vector<Problem> problems;
  for (const ParamValue& v : values) {
    std::string quoted = absl::StrCat("\"", v.value, "\"");
    std::printf("  %-*s  %-*s  %-11s  %-7s  %s: %s\n", static_cast<int>(name_width), v.spec.name.c_str(),
                static_cast<int>(value_width), quoted.c_str(), config::SourceName(v.source), v.spec.owner.c_str(),
                TypeText(v.spec).c_str(), v.spec.help.c_str());
    if (v.source != ParamSource::kEnvironment) continue;
    std::string bad = CheckValue(v.spec);
    if (!bad.empty()) problems.push_back(Problem{bad});
  }
  return problems;
}

void PrintUnknownVariables() {
  std::vector<std::string> unknown = config::UnknownVariables();
  if (unknown.empty()) return;
  std::printf("\n");
  for (const std::string& name : unknown) {
    std::printf("warning: %s is set, but neither the core nor any transport found declares it; it is ignored\n",
                name.c_str());
  }
}

std::string MarkdownCell(std::string_view text) {
  return absl::StrReplaceAll(absl::string_view(text.data(), text.size()), {{"|", "\\|"}, {"\n", " "}});
}

void PrintMarkdown() {
  RegisterAllPluginParams();
  std::printf("| Variable | Type | Default | Owner | Description |\n");
  std::printf("|---|---|---|---|---|\n");
  for (const ParamValue& v : config::All()) {
    std::string default_text = v.spec.default_value.empty() ? "(empty)" : absl::StrCat("`", v.spec.default_value, "`");
    std::printf("| `%s` | %s | %s | %s | %s |\n", v.spec.name.c_str(), MarkdownCell(TypeText(v.spec)).c_str(),
                MarkdownCell(default_text).c_str(), v.spec.owner.c_str(), MarkdownCell(v.spec.help).c_str());
  }
}

int PrintReport() {
  PrintBuild();
  PrintSearchPath();
  PrintTransports();
  std::vector<Problem> problems = PrintVariables();
  PrintUnknownVariables();
  if (problems.empty()) return 0;
  std::printf("\n");
  for (const Problem& p : problems) std::printf("error: %s\n", p.message.c_str());
  return 1;
}

void PrintUsage(std::FILE* out) {
  std::fprintf(out,
               "usage: mc_info [--markdown]\n"
               "  Prints this MoonComm's build, plugin search path, transports and MC_* variables.\n"
               "  --markdown  print only the MC_* variables, as a Markdown table\n"
               "  Exit status 1 when a variable that is set has a bad value.\n");
}

}  // namespace
}  // namespace mc

int main(int argc, char** argv) {
  bool markdown = false;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--markdown") {
      markdown = true;
    } else if (arg == "--help" || arg == "-h") {
      mc::PrintUsage(stdout);
      return 0;
    } else {
      std::fprintf(stderr, "mc_info: unknown argument '%s'\n", argv[i]);
      mc::PrintUsage(stderr);
      return 2;
    }
  }
  if (markdown) {
    mc::PrintMarkdown();
    return 0;
  }
  int rc = mc::PrintReport();
  std::fflush(stdout);
  return rc;
}
