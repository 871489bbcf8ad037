#include "plugin/validate.h"

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "plugin/test_util.h"

namespace mc {
namespace {

using ::testing::HasSubstr;

// A complete plugin whose tables a test may break one field at a time.
struct CompletePlugin {
  mc_transport_v1_t transport = testing::UnsupportedTransport();
  mc_memory_v1_t memory = testing::UnsupportedMemory();
  mc_topology_v1_t topology = testing::UnsupportedTopology();
  std::vector<mc_param_v1_t> params = {{"DEPTH", MC_PARAM_INT, "4", "depth"}, {"CHUNK", MC_PARAM_SIZE, "64K", "chunk"}};
  mc_plugin_v1_t plugin{};

  CompletePlugin(const CompletePlugin&) = delete;  // `plugin` points into this object
  CompletePlugin& operator=(const CompletePlugin&) = delete;
  CompletePlugin() {
    plugin.abi_version = 1;
    plugin.name = "fake";
    plugin.version = "1";
    plugin.params = params.data();
    plugin.num_params = params.size();
    plugin.transport = &transport;
    plugin.memory = &memory;
    plugin.topology = &topology;
  }
};

absl::Status Validate(const CompletePlugin& p) { return ValidatePluginV1(&p.plugin, "/x/libmooncomm-fake.so"); }

TEST(ValidateTest, CompletePluginIsValid) {
  CompletePlugin p;
  EXPECT_TRUE(Validate(p).ok()) << Validate(p);
}

TEST(ValidateTest, NullStructIsRefused) {
  absl::Status s = ValidatePluginV1(nullptr, "x.so");
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
}

TEST(ValidateTest, NullOrBadNameIsNamed) {
  CompletePlugin p;
  p.plugin.name = nullptr;
  EXPECT_EQ(Validate(p).message(), "/x/libmooncomm-fake.so: mc_plugin_v1.name is NULL");
  p.plugin.name = "Fake Net";
  EXPECT_THAT(Validate(p).message(), HasSubstr("mc_plugin_v1.name: plugin name 'Fake Net' has a bad character"));
  p.plugin.name = "";
  EXPECT_THAT(Validate(p).message(), HasSubstr("mc_plugin_v1.name: the plugin name is empty"));
}

TEST(ValidateTest, NullTablesAreNamed) {
  for (const char* table : {"transport", "memory", "topology"}) {
    CompletePlugin p;
    if (std::string(table) == "transport") p.plugin.transport = nullptr;
    if (std::string(table) == "memory") p.plugin.memory = nullptr;
    if (std::string(table) == "topology") p.plugin.topology = nullptr;
    absl::Status s = Validate(p);
    EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_EQ(s.message(), std::string("/x/libmooncomm-fake.so: mc_plugin_v1.") + table + " is NULL");
  }
}

TEST(ValidateTest, EveryNullFunctionIsNamed) {
  using Breaker = std::function<void(CompletePlugin&)>;
  const std::vector<std::pair<std::string, Breaker>> cases = {
      {"transport->init", [](CompletePlugin& p) { p.transport.init = nullptr; }},
      {"transport->finalize", [](CompletePlugin& p) { p.transport.finalize = nullptr; }},
      {"transport->device_count", [](CompletePlugin& p) { p.transport.device_count = nullptr; }},
      {"transport->listen", [](CompletePlugin& p) { p.transport.listen = nullptr; }},
      {"transport->accept", [](CompletePlugin& p) { p.transport.accept = nullptr; }},
      {"transport->close_listener", [](CompletePlugin& p) { p.transport.close_listener = nullptr; }},
      {"transport->connect", [](CompletePlugin& p) { p.transport.connect = nullptr; }},
      {"transport->isend", [](CompletePlugin& p) { p.transport.isend = nullptr; }},
      {"transport->irecv", [](CompletePlugin& p) { p.transport.irecv = nullptr; }},
      {"transport->iput", [](CompletePlugin& p) { p.transport.iput = nullptr; }},
      {"transport->test", [](CompletePlugin& p) { p.transport.test = nullptr; }},
      {"transport->poll_notification", [](CompletePlugin& p) { p.transport.poll_notification = nullptr; }},
      {"transport->progress", [](CompletePlugin& p) { p.transport.progress = nullptr; }},
      {"transport->close", [](CompletePlugin& p) { p.transport.close = nullptr; }},
      {"memory->reg", [](CompletePlugin& p) { p.memory.reg = nullptr; }},
      {"memory->dereg", [](CompletePlugin& p) { p.memory.dereg = nullptr; }},
      {"memory->pack_rkey", [](CompletePlugin& p) { p.memory.pack_rkey = nullptr; }},
      {"memory->unpack_rkey", [](CompletePlugin& p) { p.memory.unpack_rkey = nullptr; }},
      {"memory->release_rkey", [](CompletePlugin& p) { p.memory.release_rkey = nullptr; }},
      {"topology->device_props", [](CompletePlugin& p) { p.topology.device_props = nullptr; }},
  };
  for (const auto& [field, do_break] : cases) {
    CompletePlugin p;
    do_break(p);
    absl::Status s = Validate(p);
    EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << field;
    EXPECT_EQ(s.message(), "/x/libmooncomm-fake.so: mc_plugin_v1." + field + " is NULL");
  }
}

TEST(ValidateTest, ParamsArrayMissing) {
  CompletePlugin p;
  p.plugin.params = nullptr;
  EXPECT_THAT(Validate(p).message(), HasSubstr("mc_plugin_v1.params is NULL but num_params is 2"));
  p.plugin.num_params = 0;
  EXPECT_TRUE(Validate(p).ok());
}

TEST(ValidateTest, BadParamDeclarationsAreNamed) {
  {
    CompletePlugin p;
    p.params[1].name = nullptr;
    EXPECT_THAT(Validate(p).message(), HasSubstr("mc_plugin_v1.params[1].name is NULL"));
  }
  {
    CompletePlugin p;
    p.params[0].name = "EAGER LIMIT";
    EXPECT_THAT(Validate(p).message(), HasSubstr("params[0].name 'EAGER LIMIT' is not a parameter name"));
  }
  {
    CompletePlugin p;
    p.params[1].type = static_cast<mc_param_type_t>(9);
    EXPECT_THAT(Validate(p).message(), HasSubstr("params[1].type is 9"));
  }
  {
    CompletePlugin p;
    p.params[0].default_value = "four";
    EXPECT_THAT(Validate(p).message(), HasSubstr("params[0].default_value is bad: DEPTH='four' is not an integer"));
  }
  {
    CompletePlugin p;
    p.params[1].default_value = "lots";
    EXPECT_THAT(Validate(p).message(), HasSubstr("params[1].default_value is bad: CHUNK='lots' is not a size"));
  }
}

}  // namespace
}  // namespace mc
