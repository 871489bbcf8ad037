#include "transports/tcp/interfaces.h"

#include <netinet/in.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "gtest/gtest.h"

namespace mc::tcp {
namespace {

NetInterface Fake(const char* name, int family, bool up, bool loopback) {
  NetInterface i;
  i.name = name;
  i.addr.storage.ss_family = static_cast<sa_family_t>(family);
  i.addr.len = family == AF_INET ? sizeof(sockaddr_in) : sizeof(sockaddr_in6);
  i.up = up;
  i.loopback = loopback;
  return i;
}

TEST(TcpInterfacesTest, DefaultPrefersUpNonLoopbackIpv4) {
  std::vector<NetInterface> all = {Fake("lo", AF_INET, true, true), Fake("down0", AF_INET, false, false),
                                   Fake("v6only", AF_INET6, true, false), Fake("eth7", AF_INET, true, false)};
  absl::StatusOr<std::vector<NetInterface>> chosen = ChooseInterfacesFrom("", all);
  ASSERT_TRUE(chosen.ok()) << chosen.status();
  ASSERT_EQ(chosen->size(), 1u);
  EXPECT_EQ((*chosen)[0].name, "eth7");
}

TEST(TcpInterfacesTest, DefaultFallsBackToLoopback) {
  std::vector<NetInterface> all = {Fake("down0", AF_INET, false, false), Fake("lo", AF_INET, true, true)};
  absl::StatusOr<std::vector<NetInterface>> chosen = ChooseInterfacesFrom("", all);
  ASSERT_TRUE(chosen.ok()) << chosen.status();
  EXPECT_EQ((*chosen)[0].name, "lo");
  EXPECT_FALSE(ChooseInterfacesFrom("", {}).ok());
}

TEST(TcpInterfacesTest, NamedListKeepsOrderAndChecksEachName) {
  std::vector<NetInterface> all = {Fake("lo", AF_INET, true, true), Fake("eth0", AF_INET, true, false),
                                   Fake("eth1", AF_INET6, true, false), Fake("eth2", AF_INET, false, false)};
  absl::StatusOr<std::vector<NetInterface>> chosen = ChooseInterfacesFrom(" eth1, eth0 ", all);
  ASSERT_TRUE(chosen.ok()) << chosen.status();
  ASSERT_EQ(chosen->size(), 2u);
  EXPECT_EQ((*chosen)[0].name, "eth1");
  EXPECT_EQ((*chosen)[1].name, "eth0");

  absl::Status missing = ChooseInterfacesFrom("eth0,ib9", all).status();
  EXPECT_EQ(missing.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(missing.message().find("'ib9'"), std::string_view::npos) << missing;
  EXPECT_NE(missing.message().find("MC_TCP_IF"), std::string_view::npos) << missing;

  absl::Status down = ChooseInterfacesFrom("eth2", all).status();
  EXPECT_NE(down.message().find("down"), std::string_view::npos) << down;
  EXPECT_FALSE(ChooseInterfacesFrom(",", all).ok());
}

TEST(TcpInterfacesTest, ListsLoopback) {
  absl::StatusOr<std::vector<NetInterface>> all = ListInterfaces();
  ASSERT_TRUE(all.ok()) << all.status();
  bool found = false;
  for (const NetInterface& i : *all) found = found || (i.name == "lo" && i.loopback);
  EXPECT_TRUE(found);
}

class FakeSysfs : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/mc_tcp_sysfs_XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    root_ = pattern;
  }
  void TearDown() override { std::filesystem::remove_all(root_); }
  void Write(const std::string& rel, const std::string& text) {
    std::filesystem::create_directories(std::filesystem::path(root_ + "/" + rel).parent_path());
    std::ofstream(root_ + "/" + rel) << text;
  }
  std::string root_;
};

TEST_F(FakeSysfs, ReadsPciPathNumaAndSpeed) {
  Write("devices/pci0000:00/0000:00:03.0/numa_node", "1\n");
  std::filesystem::create_directories(root_ + "/net/eth9");
  std::filesystem::create_directory_symlink(root_ + "/devices/pci0000:00/0000:00:03.0", root_ + "/net/eth9/device");
  Write("net/eth9/speed", "25000\n");
  mc_device_props_v1_t p = ReadDeviceProps("eth9", false, 2, 1234, root_ + "/net");
  EXPECT_STREQ(p.name, "eth9");
  EXPECT_EQ(std::string(p.pci_path), std::filesystem::canonical(root_ + "/devices/pci0000:00/0000:00:03.0").string());
  EXPECT_EQ(p.numa_node, 1);
  EXPECT_DOUBLE_EQ(p.bandwidth_gbps, 25.0);
  EXPECT_EQ(p.rail, 2);
  EXPECT_EQ(p.max_message_bytes, 1234u);
  EXPECT_EQ(p.mem_kinds, MC_MEM_KIND_BIT(MC_MEM_HOST));
  EXPECT_EQ(p.same_host_only, 0);
}

TEST_F(FakeSysfs, UnknownsAreEmptyMinusOneAndZero) {
  Write("net/veth0/speed", "-1\n");
  Write("devices/x/numa_node", "-1\n");
  std::filesystem::create_directory_symlink(root_ + "/devices/x", root_ + "/net/veth0/device");
  mc_device_props_v1_t p = ReadDeviceProps("veth0", false, 0, 1, root_ + "/net");
  EXPECT_EQ(p.numa_node, -1);
  EXPECT_EQ(p.bandwidth_gbps, 0.0);
  mc_device_props_v1_t none = ReadDeviceProps("nothing", true, 0, 1, root_ + "/net");
  EXPECT_STREQ(none.pci_path, "");
  EXPECT_EQ(none.numa_node, -1);
  EXPECT_EQ(none.bandwidth_gbps, 0.0);
}

}  // namespace
}  // namespace mc::tcp
