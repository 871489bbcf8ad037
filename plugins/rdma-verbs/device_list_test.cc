// MC_RDMA_DEVICES parsing and selection (device discovery itself needs hardware).
#include "device_list.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace mc::rdma {
namespace {

using ::testing::HasSubstr;

TEST(DeviceListTest, ParsesNamesAndPorts) {
  StatusOr<std::vector<DeviceSelector>> s = ParseDeviceList(" mlx5_0, mlx5_1:2 ,bnxt_re0");
  ASSERT_TRUE(s.ok()) << s.status().message();
  ASSERT_EQ(s->size(), 3u);
  EXPECT_EQ((*s)[0].name, "mlx5_0");
  EXPECT_EQ((*s)[0].port, 0);
  EXPECT_EQ((*s)[1].name, "mlx5_1");
  EXPECT_EQ((*s)[1].port, 2);
  EXPECT_TRUE(IsSelected(*s, "mlx5_0", 1));
  EXPECT_TRUE(IsSelected(*s, "mlx5_0", 2));
  EXPECT_TRUE(IsSelected(*s, "mlx5_1", 2));
  EXPECT_FALSE(IsSelected(*s, "mlx5_1", 1));
  EXPECT_FALSE(IsSelected(*s, "mlx5_2", 1));
  ASSERT_TRUE(ParseDeviceList("").ok());
  EXPECT_TRUE(ParseDeviceList("")->empty());
  EXPECT_TRUE(IsSelected({}, "anything", 3));
}

TEST(DeviceListTest, BadItemsAreNamed) {
  for (const char* bad : {"mlx5_0:", "mlx5_0:x", "mlx5_0:0", "mlx5_0:256", ":1", "mlx5_0,,mlx5_1", "a b", "mlx5_0;1"}) {
    StatusOr<std::vector<DeviceSelector>> s = ParseDeviceList(bad);
    EXPECT_FALSE(s.ok()) << bad;
    if (!s.ok()) {
      EXPECT_THAT(s.status().message(), HasSubstr("MC_RDMA_DEVICES")) << bad;
    }
  }
}

TEST(DeviceListTest, PortNames) { EXPECT_EQ(PortName("mlx5_0", 1), "mlx5_0:1"); }

}  // namespace
}  // namespace mc::rdma
