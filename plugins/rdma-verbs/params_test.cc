// MC_RDMA_* parameters: defaults, parsing (raw environment text as the
// conformance host passes it, and normalized text as the core does), and
// errors that name the variable and the value.
#include "params.h"

#include <cctype>
#include <cstring>
#include <map>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace mc::rdma {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::StartsWith;

// A host whose get_param answers from a map, else the declared default.
class MapHost {
 public:
  explicit MapHost(std::map<std::string, std::string> values) : values_(std::move(values)) {
    table_.ctx = this;
    table_.get_param = &MapHost::GetParam;
  }
  const mc_host_v1_t& table() const { return table_; }

 private:
  static mc_result_t GetParam(void* ctx, const char* name, char* value, size_t value_len) {
    auto* self = static_cast<MapHost*>(ctx);
    std::string text;
    auto it = self->values_.find(name);
    if (it != self->values_.end()) {
      text = it->second;
    } else {
      bool declared = false;
      for (size_t i = 0; i < kNumRdmaParams; ++i) {
        if (std::string(kRdmaParams[i].name) == name) {
          text = kRdmaParams[i].default_value;
          declared = true;
        }
      }
      if (!declared) return MC_ERR_INVALID_ARG;
    }
    if (text.size() + 1 > value_len) return MC_ERR_NO_MEMORY;
    std::memcpy(value, text.c_str(), text.size() + 1);
    return MC_SUCCESS;
  }
  std::map<std::string, std::string> values_;
  mc_host_v1_t table_{};
};

std::string ErrorOf(std::map<std::string, std::string> values) {
  MapHost host(std::move(values));
  StatusOr<RdmaConfig> config = ReadRdmaConfig(host.table());
  if (config.ok()) return "ok";
  EXPECT_EQ(config.status().code(), MC_ERR_INVALID_ARG);
  return config.status().message();
}

TEST(RdmaParamsTest, DefaultsParse) {
  MapHost host({});
  StatusOr<RdmaConfig> config = ReadRdmaConfig(host.table());
  ASSERT_TRUE(config.ok()) << config.status().message();
  EXPECT_EQ(config->gid_index, -1);
  EXPECT_EQ(config->qps_per_peer, 2);
  EXPECT_EQ(config->eager_limit, 8192u);
  EXPECT_EQ(config->recv_depth, 128u);
  EXPECT_EQ(config->chunk_bytes, 1u << 20);
  EXPECT_EQ(config->reg_cache, RegCacheMode::kAuto);
  EXPECT_EQ(config->devices, "");
}

TEST(RdmaParamsTest, RawAndNormalizedValuesBothParse) {
  MapHost host({{"EAGER_LIMIT", "16k"},
                {"CHUNK_SIZE", "4194304"},
                {"GID_INDEX", "3"},
                {"QPS_PER_PEER", "+4"},
                {"REG_CACHE", "OFF"},
                {"DEVICES", " mlx5_0:1 "}});
  StatusOr<RdmaConfig> config = ReadRdmaConfig(host.table());
  ASSERT_TRUE(config.ok()) << config.status().message();
  EXPECT_EQ(config->eager_limit, 16384u);
  EXPECT_EQ(config->chunk_bytes, 4u << 20);
  EXPECT_EQ(config->gid_index, 3);
  EXPECT_EQ(config->qps_per_peer, 4);
  EXPECT_EQ(config->reg_cache, RegCacheMode::kOff);
  EXPECT_EQ(config->devices, "mlx5_0:1");
}

TEST(RdmaParamsTest, BadGidIndexIsNamed) {
  EXPECT_THAT(ErrorOf({{"GID_INDEX", "abc"}}), AllOf(StartsWith("MC_RDMA_GID_INDEX='abc'"), HasSubstr("integer")));
  EXPECT_THAT(ErrorOf({{"GID_INDEX", "-2"}}), AllOf(HasSubstr("MC_RDMA_GID_INDEX='-2'"), HasSubstr("between -1")));
  EXPECT_THAT(ErrorOf({{"GID_INDEX", "99999999999999999999"}}), HasSubstr("MC_RDMA_GID_INDEX"));
  EXPECT_EQ(ErrorOf({{"GID_INDEX", "-1"}}), "ok");
  EXPECT_EQ(ErrorOf({{"GID_INDEX", "0"}}), "ok");
}

TEST(RdmaParamsTest, BadQpsPerPeerIsNamed) {
  EXPECT_THAT(ErrorOf({{"QPS_PER_PEER", "0"}}),
              AllOf(HasSubstr("MC_RDMA_QPS_PER_PEER='0'"), HasSubstr("between 1 and 16")));
  EXPECT_THAT(ErrorOf({{"QPS_PER_PEER", "17"}}), HasSubstr("MC_RDMA_QPS_PER_PEER='17'"));
  EXPECT_THAT(ErrorOf({{"QPS_PER_PEER", "two"}}), HasSubstr("MC_RDMA_QPS_PER_PEER='two'"));
  EXPECT_THAT(ErrorOf({{"QPS_PER_PEER", ""}}), HasSubstr("MC_RDMA_QPS_PER_PEER"));
  EXPECT_EQ(ErrorOf({{"QPS_PER_PEER", "16"}}), "ok");
}

TEST(RdmaParamsTest, OtherRangesAreChecked) {
  EXPECT_THAT(ErrorOf({{"EAGER_LIMIT", "2M"}}), HasSubstr("MC_RDMA_EAGER_LIMIT='2M'"));
  EXPECT_THAT(ErrorOf({{"EAGER_LIMIT", "8KB"}}), HasSubstr("MC_RDMA_EAGER_LIMIT='8KB'"));
  EXPECT_THAT(ErrorOf({{"RECV_DEPTH", "1"}}), HasSubstr("MC_RDMA_RECV_DEPTH='1'"));
  EXPECT_THAT(ErrorOf({{"SEND_DEPTH", "100000"}}), HasSubstr("MC_RDMA_SEND_DEPTH"));
  EXPECT_THAT(ErrorOf({{"CHUNK_SIZE", "1K"}}), HasSubstr("MC_RDMA_CHUNK_SIZE='1K'"));
  EXPECT_THAT(ErrorOf({{"IB_TIMEOUT", "0"}}), HasSubstr("MC_RDMA_IB_TIMEOUT"));
  EXPECT_THAT(ErrorOf({{"RETRY_COUNT", "8"}}), HasSubstr("MC_RDMA_RETRY_COUNT"));
  EXPECT_THAT(ErrorOf({{"TRAFFIC_CLASS", "256"}}), HasSubstr("MC_RDMA_TRAFFIC_CLASS"));
  EXPECT_THAT(ErrorOf({{"SERVICE_LEVEL", "16"}}), HasSubstr("MC_RDMA_SERVICE_LEVEL"));
  EXPECT_THAT(ErrorOf({{"REG_CACHE", "sometimes"}}),
              AllOf(HasSubstr("MC_RDMA_REG_CACHE='sometimes'"), HasSubstr("auto, on or off")));
  EXPECT_THAT(ErrorOf({{"REG_CACHE_ENTRIES", "0"}}), HasSubstr("MC_RDMA_REG_CACHE_ENTRIES"));
}

TEST(RdmaParamsTest, DeclarationsAreWellFormed) {
  for (size_t i = 0; i < kNumRdmaParams; ++i) {
    const mc_param_v1_t& p = kRdmaParams[i];
    SCOPED_TRACE(p.name);
    ASSERT_NE(p.help, nullptr);
    EXPECT_NE(*p.help, '\0');
    EXPECT_EQ(std::string(p.help).find('\n'), std::string::npos);
    for (const char* c = p.name; *c != '\0'; ++c) {
      EXPECT_TRUE(std::isupper(static_cast<unsigned char>(*c)) || *c == '_') << p.name;
    }
  }
}

}  // namespace
}  // namespace mc::rdma
