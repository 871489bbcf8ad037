// Reading a port's GID table, PCI path and NUMA node from a sysfs tree (a
// fake one in a temp dir), choosing the GID, and the link rate codes.
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "gid_choice.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "port_rate.h"
#include "sysfs.h"

namespace mc::rdma {
namespace {

namespace fs = std::filesystem;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr const char* kZeroGid = "0000:0000:0000:0000:0000:0000:0000:0000";
constexpr const char* kLinkLocal = "fe80:0000:0000:0000:0202:c9ff:fe00:0001";
constexpr const char* kIpv4Mapped = "0000:0000:0000:0000:0000:ffff:c0a8:0105";  // ::ffff:192.168.1.5
constexpr const char* kGlobal6 = "2001:0db8:0000:0000:0000:0000:0000:0007";

// A fake /sys/class/infiniband under a temp dir, removed at the end.
class FakeSysfs {
 public:
  FakeSysfs() {
    char pattern[] = "/tmp/mc_rdma_sysfs_XXXXXX";
    base_ = mkdtemp(pattern);
    fs::create_directories(root());
  }
  ~FakeSysfs() { fs::remove_all(base_); }
  std::string root() const { return base_ + "/class/infiniband"; }

  void AddGid(const std::string& dev, int port, int index, const std::string& gid, const std::string& type,
              const std::string& ndev = "") {
    const std::string p = root() + "/" + dev + "/ports/" + std::to_string(port);
    Write(p + "/gids/" + std::to_string(index), gid + "\n");
    if (!type.empty()) Write(p + "/gid_attrs/types/" + std::to_string(index), type + "\n");
    if (!ndev.empty()) Write(p + "/gid_attrs/ndevs/" + std::to_string(index), ndev + "\n");
  }
  // device -> ../../devices/pci0000:00/<bdf>, with a numa_node file.
  void AddPciDevice(const std::string& dev, const std::string& bdf, const std::string& numa) {
    const std::string pci = base_ + "/devices/pci0000:00/" + bdf;
    fs::create_directories(pci);
    if (!numa.empty()) Write(pci + "/numa_node", numa + "\n");
    fs::create_directories(root() + "/" + dev);
    fs::create_symlink(pci, root() + "/" + dev + "/device");
  }
  std::string pci_path(const std::string& bdf) const {
    return fs::canonical(base_ + "/devices/pci0000:00/" + bdf).string();
  }

 private:
  static void Write(const std::string& path, const std::string& text) {
    fs::create_directories(fs::path(path).parent_path());
    std::ofstream(path) << text;
  }
  std::string base_;
};

TEST(GidTextTest, ParsesAndFormats) {
  std::optional<Gid> gid = ParseGid(kIpv4Mapped);
  ASSERT_TRUE(gid.has_value());
  EXPECT_TRUE(IsIpv4MappedGid(*gid));
  EXPECT_FALSE(IsLinkLocalGid(*gid));
  EXPECT_EQ((*gid)[12], 0xc0);
  EXPECT_EQ((*gid)[15], 0x05);
  EXPECT_EQ(FormatGid(*gid), kIpv4Mapped);
  EXPECT_TRUE(IsLinkLocalGid(*ParseGid(kLinkLocal)));
  EXPECT_TRUE(IsZeroGid(*ParseGid(kZeroGid)));
  EXPECT_FALSE(ParseGid("").has_value());
  EXPECT_FALSE(ParseGid("fe80::1").has_value());
  EXPECT_FALSE(ParseGid("0000:0000:0000:0000:0000:ffff:c0a8:0105:0000").has_value());
  EXPECT_FALSE(ParseGid("zzzz:0000:0000:0000:0000:ffff:c0a8:0105").has_value());
}

TEST(SysfsTest, ReadsTheGidTableSkippingEmptyEntries) {
  FakeSysfs sysfs;
  sysfs.AddGid("mlx5_0", 1, 0, kLinkLocal, "IB/RoCE v1", "eth2");
  sysfs.AddGid("mlx5_0", 1, 1, kLinkLocal, "RoCE v2", "eth2");
  sysfs.AddGid("mlx5_0", 1, 2, kZeroGid, "");  // unused: real sysfs fails reading its type
  sysfs.AddGid("mlx5_0", 1, 3, kIpv4Mapped, "RoCE v2", "eth2");
  sysfs.AddGid("mlx5_0", 1, 10, kGlobal6, "RoCE v2", "eth2");
  SysfsInfiniband reader(sysfs.root());
  std::vector<GidEntry> table = reader.GidTable("mlx5_0", 1);
  ASSERT_EQ(table.size(), 4u);
  EXPECT_EQ(table[0].index, 0);
  EXPECT_EQ(table[0].type, "IB/RoCE v1");
  EXPECT_EQ(table[2].index, 3);
  EXPECT_EQ(table[2].ndev, "eth2");
  EXPECT_EQ(table[3].index, 10);  // numeric order, not "10" < "3"
  EXPECT_EQ(reader.PortNetdev("mlx5_0", 1), "eth2");
  EXPECT_TRUE(reader.GidTable("mlx5_0", 2).empty());
  EXPECT_TRUE(reader.GidTable("nosuch", 1).empty());
  EXPECT_EQ(reader.DeviceNames(), std::vector<std::string>({"mlx5_0"}));
}

TEST(SysfsTest, PciPathAndNumaNode) {
  FakeSysfs sysfs;
  sysfs.AddPciDevice("mlx5_0", "0000:03:00.0", "1");
  sysfs.AddPciDevice("mlx5_1", "0000:04:00.0", "-1");
  sysfs.AddPciDevice("mlx5_2", "0000:05:00.0", "");
  SysfsInfiniband reader(sysfs.root());
  EXPECT_EQ(reader.PciPath("mlx5_0"), sysfs.pci_path("0000:03:00.0"));
  EXPECT_EQ(reader.NumaNode("mlx5_0"), 1);
  EXPECT_EQ(reader.NumaNode("mlx5_1"), -1);
  EXPECT_EQ(reader.NumaNode("mlx5_2"), -1);
  EXPECT_EQ(reader.PciPath("nosuch"), "");
  EXPECT_EQ(reader.NumaNode("nosuch"), -1);
}

TEST(SysfsTest, AbsentRootHasNoDevices) {
  SysfsInfiniband reader("/nonexistent/class/infiniband");
  EXPECT_TRUE(reader.DeviceNames().empty());
}

std::vector<GidEntry> Table(FakeSysfs& sysfs) { return SysfsInfiniband(sysfs.root()).GidTable("mlx5_0", 1); }

TEST(GidChoiceTest, RoceV2WithAnIpv4AddressIsPreferred) {
  FakeSysfs sysfs;
  sysfs.AddGid("mlx5_0", 1, 0, kLinkLocal, "IB/RoCE v1");
  sysfs.AddGid("mlx5_0", 1, 1, kLinkLocal, "RoCE v2");
  sysfs.AddGid("mlx5_0", 1, 2, kIpv4Mapped, "IB/RoCE v1");
  sysfs.AddGid("mlx5_0", 1, 3, kIpv4Mapped, "RoCE v2");
  sysfs.AddGid("mlx5_0", 1, 4, kGlobal6, "RoCE v2");
  StatusOr<GidEntry> gid = ChooseGid(Table(sysfs), /*ethernet=*/true, -1, "mlx5_0 port 1");
  ASSERT_TRUE(gid.ok()) << gid.status().message();
  EXPECT_EQ(gid->index, 3);
}

TEST(GidChoiceTest, FallsBackInOrder) {
  FakeSysfs sysfs;
  sysfs.AddGid("mlx5_0", 1, 0, kLinkLocal, "IB/RoCE v1");
  sysfs.AddGid("mlx5_0", 1, 1, kLinkLocal, "RoCE v2");
  sysfs.AddGid("mlx5_0", 1, 2, kGlobal6, "RoCE v2");
  EXPECT_EQ(ChooseGid(Table(sysfs), true, -1, "p")->index, 2) << "global IPv6 RoCE v2 over link-local";

  FakeSysfs v2_link_local;
  v2_link_local.AddGid("mlx5_0", 1, 0, kIpv4Mapped, "IB/RoCE v1");
  v2_link_local.AddGid("mlx5_0", 1, 1, kLinkLocal, "RoCE v2");
  EXPECT_EQ(ChooseGid(Table(v2_link_local), true, -1, "p")->index, 1) << "any RoCE v2 over RoCE v1";

  FakeSysfs untyped;  // a kernel without gid_attrs
  untyped.AddGid("mlx5_0", 1, 0, kLinkLocal, "");
  untyped.AddGid("mlx5_0", 1, 1, kIpv4Mapped, "");
  EXPECT_EQ(ChooseGid(Table(untyped), true, -1, "p")->index, 1);

  FakeSysfs only_v1;
  only_v1.AddGid("mlx5_0", 1, 5, kLinkLocal, "IB/RoCE v1");
  EXPECT_EQ(ChooseGid(Table(only_v1), true, -1, "p")->index, 5);
}

TEST(GidChoiceTest, RequestedIndexMustBePopulated) {
  FakeSysfs sysfs;
  sysfs.AddGid("mlx5_0", 1, 0, kLinkLocal, "IB/RoCE v1");
  sysfs.AddGid("mlx5_0", 1, 1, kLinkLocal, "RoCE v2");
  sysfs.AddGid("mlx5_0", 1, 2, kZeroGid, "");
  EXPECT_EQ(ChooseGid(Table(sysfs), true, 0, "mlx5_0 port 1")->index, 0) << "an explicit index wins";
  StatusOr<GidEntry> missing = ChooseGid(Table(sysfs), true, 2, "mlx5_0 port 1");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), MC_ERR_INVALID_ARG);
  EXPECT_THAT(missing.status().message(),
              AllOf(StartsWith("MC_RDMA_GID_INDEX=2"), HasSubstr("mlx5_0 port 1"), HasSubstr("populated: 0, 1")));
}

TEST(GidChoiceTest, InfiniBandUsesThePortGid) {
  FakeSysfs sysfs;
  sysfs.AddGid("mlx5_0", 1, 0, kLinkLocal, "IB/RoCE v1");
  sysfs.AddGid("mlx5_0", 1, 1, kGlobal6, "IB/RoCE v1");
  EXPECT_EQ(ChooseGid(Table(sysfs), false, -1, "p")->index, 0);
  EXPECT_EQ(ChooseGid({}, false, -1, "p")->index, 0) << "no GID needed inside a subnet";
}

TEST(GidChoiceTest, RoceWithoutAnyGidIsNotUsable) {
  StatusOr<GidEntry> none = ChooseGid({}, true, -1, "mlx5_0 port 1");
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.status().code(), MC_ERR_NO_DEVICE);
  EXPECT_THAT(none.status().message(), HasSubstr("IP address"));
}

TEST(PortRateTest, SpeedAndWidthCodes) {
  EXPECT_DOUBLE_EQ(PortGbps(32, 2), 100.0);   // EDR 4x
  EXPECT_DOUBLE_EQ(PortGbps(64, 2), 200.0);   // HDR 4x
  EXPECT_DOUBLE_EQ(PortGbps(128, 2), 400.0);  // NDR 4x
  EXPECT_DOUBLE_EQ(PortGbps(16, 1), 14.0);    // FDR 1x
  EXPECT_DOUBLE_EQ(PortGbps(1, 8), 30.0);     // SDR 12x
  EXPECT_DOUBLE_EQ(PortGbps(64, 16), 100.0);  // HDR 2x
  EXPECT_DOUBLE_EQ(PortGbps(3, 2), 0.0);
  EXPECT_DOUBLE_EQ(PortGbps(32, 3), 0.0);
}

}  // namespace
}  // namespace mc::rdma
