// The plugin struct itself, and init / devices / finalize in one process.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstring>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "cases.h"
#include "child_check.h"
#include "gtest/gtest.h"
#include "process_group.h"
#include "session.h"

namespace mc::conformance {
namespace {

constexpr uint64_t kMinMaxMessageBytes = 256ull << 20;

bool IsInt(std::string text) {
  if (!text.empty() && (text[0] == '-' || text[0] == '+')) text.erase(0, 1);
  return !text.empty() && std::all_of(text.begin(), text.end(), [](unsigned char c) { return std::isdigit(c); });
}

bool IsBool(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  static const std::set<std::string> kWords = {"0", "1", "true", "false", "yes", "no", "on", "off"};
  return kWords.contains(text);
}

bool IsSize(std::string text) {
  if (!text.empty() && std::strchr("kKmMgG", text.back()) != nullptr) text.pop_back();
  return !text.empty() && std::all_of(text.begin(), text.end(), [](unsigned char c) { return std::isdigit(c); });
}

// A string within a fixed-size char array: NUL-terminated inside it.
bool IsTerminated(const char* text, size_t capacity) { return std::memchr(text, '\0', capacity) != nullptr; }

void ExpectParamsWellFormed(const mc_plugin_v1_t& plugin) {
  if (plugin.num_params == 0) return;
  ASSERT_NE(plugin.params, nullptr) << "num_params is " << plugin.num_params << " but params is NULL";
  std::set<std::string> seen;
  for (size_t i = 0; i < plugin.num_params; ++i) {
    const mc_param_v1_t& p = plugin.params[i];
    SCOPED_TRACE("params[" + std::to_string(i) + "]");
    ASSERT_NE(p.name, nullptr);
    std::string name = p.name;
    EXPECT_FALSE(name.empty());
    EXPECT_TRUE(std::all_of(name.begin(), name.end(), [](unsigned char c) { return std::isalnum(c) || c == '_'; }))
        << "param name '" << name << "' must be letters, digits and '_'";
    std::string upper = name;
    for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    EXPECT_TRUE(seen.insert(upper).second) << "param '" << name << "' is declared twice";
    EXPECT_TRUE(p.help != nullptr && *p.help != '\0' && std::strchr(p.help, '\n') == nullptr)
        << "param '" << name << "' needs a one-line help text";
    const std::string value = p.default_value != nullptr ? p.default_value : "";
    switch (p.type) {
      case MC_PARAM_INT:
        EXPECT_TRUE(IsInt(value)) << name << " default '" << value << "' is not an integer";
        break;
      case MC_PARAM_BOOL:
        EXPECT_TRUE(IsBool(value)) << name << " default '" << value << "' is not a bool";
        break;
      case MC_PARAM_SIZE:
        EXPECT_TRUE(IsSize(value)) << name << " default '" << value << "' is not a size";
        break;
      case MC_PARAM_STRING:
        break;
      default:
        ADD_FAILURE() << "param '" << name << "' has type " << static_cast<int>(p.type);
    }
  }
}

void CheckDeviceProps(Session& session, int dev) {
  mc_device_props_v1_t props = session.DeviceProps(dev);
  const std::string where = "device " + std::to_string(dev) + ": ";
  CONF_EXPECT(IsTerminated(props.name, sizeof(props.name)) && props.name[0] != '\0')
      << where << "name must be a non-empty NUL-terminated string";
  CONF_EXPECT(IsTerminated(props.pci_path, sizeof(props.pci_path))) << where << "pci_path is not NUL-terminated";
  CONF_EXPECT(props.numa_node >= -1) << where << "numa_node is " << props.numa_node;
  CONF_EXPECT(props.rail >= 0) << where << "rail is " << props.rail;
  CONF_EXPECT(std::isfinite(props.bandwidth_gbps) && props.bandwidth_gbps >= 0)
      << where << "bandwidth_gbps is " << props.bandwidth_gbps;
  CONF_EXPECT(std::isfinite(props.latency_us) && props.latency_us >= 0)
      << where << "latency_us is " << props.latency_us;
  CONF_EXPECT(props.mem_kinds & MC_MEM_KIND_BIT(MC_MEM_HOST))
      << where << "mem_kinds 0x" << std::hex << props.mem_kinds << " lacks host memory";
  CONF_EXPECT((props.mem_kinds & ~0x7u) == 0)
      << where << "mem_kinds 0x" << std::hex << props.mem_kinds << " has unknown bits";
  CONF_EXPECT(props.same_host_only == 0 || props.same_host_only == 1)
      << where << "same_host_only is " << props.same_host_only;
  CONF_EXPECT(props.max_message_bytes >= kMinMaxMessageBytes)
      << where << "max_message_bytes is " << props.max_message_bytes << ", at least 256 MiB is required";
}

// Each function pointer of the three tables and whether it is set.
std::vector<std::pair<const char*, bool>> FunctionFields(const mc_plugin_v1_t& plugin) {
  const mc_transport_v1_t& t = *plugin.transport;
  return {
      {"transport.init", t.init != nullptr},
      {"transport.finalize", t.finalize != nullptr},
      {"transport.device_count", t.device_count != nullptr},
      {"transport.listen", t.listen != nullptr},
      {"transport.accept", t.accept != nullptr},
      {"transport.close_listener", t.close_listener != nullptr},
      {"transport.connect", t.connect != nullptr},
      {"transport.isend", t.isend != nullptr},
      {"transport.irecv", t.irecv != nullptr},
      {"transport.iput", t.iput != nullptr},
      {"transport.test", t.test != nullptr},
      {"transport.poll_notification", t.poll_notification != nullptr},
      {"transport.progress", t.progress != nullptr},
      {"transport.close", t.close != nullptr},
      {"memory.reg", plugin.memory->reg != nullptr},
      {"memory.dereg", plugin.memory->dereg != nullptr},
      {"memory.pack_rkey", plugin.memory->pack_rkey != nullptr},
      {"memory.unpack_rkey", plugin.memory->unpack_rkey != nullptr},
      {"memory.release_rkey", plugin.memory->release_rkey != nullptr},
      {"topology.device_props", plugin.topology->device_props != nullptr},
  };
}

void InitDevicesChild(const mc_plugin_v1_t* plugin) {
  for (int round = 0; round < 2; ++round) {  // a second init after finalize must work too
    Session session(plugin);
    const int count = session.DeviceCount();
    CONF_EXPECT(count <= 4096) << "device_count reports " << count << " devices";
    for (int dev = 0; dev < count && dev < 4096; ++dev) CheckDeviceProps(session, dev);
    session.Progress();  // with nothing to do
    session.Finalize();
  }
}

}  // namespace

bool PluginTableIsUsable(const mc_plugin_v1_t* plugin) {
  if (plugin == nullptr || plugin->name == nullptr || plugin->transport == nullptr || plugin->memory == nullptr ||
      plugin->topology == nullptr) {
    return false;
  }
  for (const auto& [field, present] : FunctionFields(*plugin)) {
    if (!present) return false;
  }
  return plugin->num_params == 0 || plugin->params != nullptr;
}

void PluginTableIsComplete(const mc_plugin_v1_t* plugin) {
  ASSERT_NE(plugin, nullptr);
  EXPECT_EQ(plugin->abi_version, static_cast<uint32_t>(MC_PLUGIN_ABI_VERSION));
  ASSERT_NE(plugin->name, nullptr);
  std::string name = plugin->name;
  EXPECT_TRUE(!name.empty() && name.size() < MC_MAX_NAME_BYTES) << "name '" << name << "'";
  EXPECT_TRUE(std::all_of(name.begin(), name.end(),
                          [](unsigned char c) { return std::islower(c) || std::isdigit(c) || c == '-' || c == '_'; }))
      << "name '" << name << "' must be lower-case letters, digits, '-' and '_'";
  EXPECT_TRUE(plugin->version != nullptr && *plugin->version != '\0') << "version string missing";
  ASSERT_NE(plugin->transport, nullptr);
  ASSERT_NE(plugin->memory, nullptr);
  ASSERT_NE(plugin->topology, nullptr);
  for (const auto& [field, present] : FunctionFields(*plugin)) EXPECT_TRUE(present) << field << " is NULL";
  ExpectParamsWellFormed(*plugin);
}

void InitDevicesAndFinalize(const mc_plugin_v1_t* plugin) {
  // Finalize also checks that the plugin asked only for params it declares.
  RunChildren({[plugin](ChildEnv&) { InitDevicesChild(plugin); }});
}

}  // namespace mc::conformance
