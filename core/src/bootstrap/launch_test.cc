#include <cstdlib>
#include <map>
#include <optional>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "mooncomm/bootstrap.h"

namespace mc {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

constexpr const char* kLaunchVariables[] = {
    "MC_RANK",      "MC_WORLD_SIZE",        "MC_BOOTSTRAP",         "RANK",         "WORLD_SIZE",
    "MASTER_ADDR",  "MASTER_PORT",          "OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE",
    "SLURM_PROCID", "SLURM_NTASKS",
};

// Clears every launcher variable for the test and puts the old values back after.
class DetectLaunchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* name : kLaunchVariables) {
      const char* value = std::getenv(name);
      saved_[name] = value ? std::optional<std::string>(value) : std::nullopt;
      unsetenv(name);
    }
  }
  void TearDown() override {
    for (const auto& [name, value] : saved_) {
      if (value) {
        setenv(name.c_str(), value->c_str(), 1);
      } else {
        unsetenv(name.c_str());
      }
    }
  }
  static void Set(const char* name, const char* value) { setenv(name, value, 1); }

  static std::string ErrorOf(const absl::StatusOr<LaunchInfo>& info) {
    EXPECT_FALSE(info.ok());
    if (!info.ok()) {
      EXPECT_EQ(info.status().code(), absl::StatusCode::kInvalidArgument);
    }
    return info.ok() ? "" : std::string(info.status().message());
  }

 private:
  std::map<std::string, std::optional<std::string>> saved_;
};

TEST_F(DetectLaunchTest, NothingSetIsASingleProcess) {
  absl::StatusOr<LaunchInfo> info = DetectLaunch();
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->rank, 0);
  EXPECT_EQ(info->world_size, 1);
  EXPECT_EQ(info->source, "single process");
  EXPECT_EQ(info->store_host, "");
  EXPECT_EQ(info->store_port, 0);
}

TEST_F(DetectLaunchTest, MoonCommVariables) {
  Set("MC_RANK", "2");
  Set("MC_WORLD_SIZE", "4");
  Set("MC_BOOTSTRAP", "node0:1234");
  absl::StatusOr<LaunchInfo> info = DetectLaunch();
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->rank, 2);
  EXPECT_EQ(info->world_size, 4);
  EXPECT_EQ(info->store_host, "node0");
  EXPECT_EQ(info->store_port, 1234);
  EXPECT_EQ(info->source, "MC_*");
}

TEST_F(DetectLaunchTest, MoonCommVariablesWinOverTorchrun) {
  Set("MC_RANK", "1");
  Set("MC_WORLD_SIZE", "2");
  Set("RANK", "5");
  Set("WORLD_SIZE", "8");
  Set("MASTER_ADDR", "10.0.0.9");
  Set("MASTER_PORT", "29500");
  Set("MC_BOOTSTRAP", "[::1]:7000");
  absl::StatusOr<LaunchInfo> info = DetectLaunch();
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->rank, 1);
  EXPECT_EQ(info->world_size, 2);
  EXPECT_EQ(info->source, "MC_*");
  EXPECT_EQ(info->store_host, "::1");  // MC_BOOTSTRAP wins over MASTER_ADDR
  EXPECT_EQ(info->store_port, 7000);
}

TEST_F(DetectLaunchTest, Torchrun) {
  Set("RANK", "3");
  Set("WORLD_SIZE", "8");
  Set("MASTER_ADDR", "node7");
  Set("MASTER_PORT", "29500");
  absl::StatusOr<LaunchInfo> info = DetectLaunch();
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->rank, 3);
  EXPECT_EQ(info->world_size, 8);
  EXPECT_EQ(info->store_host, "node7");
  EXPECT_EQ(info->store_port, 29500);
  EXPECT_EQ(info->source, "torchrun");
}

TEST_F(DetectLaunchTest, OpenMpiWithMasterAddress) {
  Set("OMPI_COMM_WORLD_RANK", "0");
  Set("OMPI_COMM_WORLD_SIZE", "2");
  Set("SLURM_PROCID", "1");  // Open MPI comes before Slurm
  Set("SLURM_NTASKS", "2");
  Set("MASTER_ADDR", "head");
  Set("MASTER_PORT", "4000");
  absl::StatusOr<LaunchInfo> info = DetectLaunch();
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->rank, 0);
  EXPECT_EQ(info->world_size, 2);
  EXPECT_EQ(info->source, "Open MPI");
  EXPECT_EQ(info->store_host, "head");
}

TEST_F(DetectLaunchTest, SlurmWithBootstrap) {
  Set("SLURM_PROCID", "5");
  Set("SLURM_NTASKS", "6");
  Set("MC_BOOTSTRAP", "10.2.0.1:5555");
  absl::StatusOr<LaunchInfo> info = DetectLaunch();
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->rank, 5);
  EXPECT_EQ(info->world_size, 6);
  EXPECT_EQ(info->source, "Slurm");
  EXPECT_EQ(info->store_host, "10.2.0.1");
  EXPECT_EQ(info->store_port, 5555);
}

TEST_F(DetectLaunchTest, WorldOfOneNeedsNoAddress) {
  Set("SLURM_PROCID", "0");
  Set("SLURM_NTASKS", "1");
  absl::StatusOr<LaunchInfo> info = DetectLaunch();
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->world_size, 1);
  EXPECT_EQ(info->source, "Slurm");
}

TEST_F(DetectLaunchTest, WorldWithoutAddressNamesWhatToSet) {
  Set("RANK", "0");
  Set("WORLD_SIZE", "2");
  EXPECT_THAT(ErrorOf(DetectLaunch()),
              AllOf(HasSubstr("world size 2"), HasSubstr("torchrun"), HasSubstr("MC_BOOTSTRAP"),
                    HasSubstr("MASTER_ADDR"), HasSubstr("MASTER_PORT")));
}

TEST_F(DetectLaunchTest, RankOutsideWorld) {
  Set("MC_RANK", "4");
  Set("MC_WORLD_SIZE", "4");
  Set("MC_BOOTSTRAP", "h:1");
  EXPECT_THAT(ErrorOf(DetectLaunch()), AllOf(HasSubstr("MC_RANK=4"), HasSubstr("[0, 4)")));
  Set("MC_RANK", "-1");
  EXPECT_THAT(ErrorOf(DetectLaunch()), HasSubstr("MC_RANK=-1"));
}

TEST_F(DetectLaunchTest, NonNumericValues) {
  Set("RANK", "zero");
  Set("WORLD_SIZE", "2");
  EXPECT_THAT(ErrorOf(DetectLaunch()), AllOf(HasSubstr("RANK='zero'"), HasSubstr("not an integer")));
  Set("MC_RANK", "1");
  Set("MC_WORLD_SIZE", "two");
  EXPECT_THAT(ErrorOf(DetectLaunch()), HasSubstr("MC_WORLD_SIZE='two'"));
}

TEST_F(DetectLaunchTest, BadWorldSize) {
  Set("OMPI_COMM_WORLD_RANK", "0");
  Set("OMPI_COMM_WORLD_SIZE", "0");
  EXPECT_THAT(ErrorOf(DetectLaunch()), HasSubstr("OMPI_COMM_WORLD_SIZE=0"));
}

TEST_F(DetectLaunchTest, RankWithoutWorldSize) {
  Set("MC_RANK", "1");
  Set("WORLD_SIZE", "2");  // another launcher's size does not complete MC_RANK
  EXPECT_THAT(ErrorOf(DetectLaunch()), AllOf(HasSubstr("MC_RANK=1"), HasSubstr("MC_WORLD_SIZE is not")));
}

TEST_F(DetectLaunchTest, WorldSizeWithoutRank) {
  Set("SLURM_NTASKS", "4");
  EXPECT_THAT(ErrorOf(DetectLaunch()), AllOf(HasSubstr("SLURM_NTASKS=4"), HasSubstr("SLURM_PROCID is not")));
}

TEST_F(DetectLaunchTest, BadBootstrapAddress) {
  Set("MC_RANK", "0");
  Set("MC_WORLD_SIZE", "2");
  Set("MC_BOOTSTRAP", "node0");
  EXPECT_THAT(ErrorOf(DetectLaunch()), AllOf(HasSubstr("MC_BOOTSTRAP"), HasSubstr("'node0'")));
}

TEST_F(DetectLaunchTest, HalfAMasterAddress) {
  Set("RANK", "0");
  Set("WORLD_SIZE", "2");
  Set("MASTER_ADDR", "node0");
  EXPECT_THAT(ErrorOf(DetectLaunch()), AllOf(HasSubstr("MASTER_ADDR=node0"), HasSubstr("MASTER_PORT is not")));
  unsetenv("MASTER_ADDR");
  Set("MASTER_PORT", "29500");
  EXPECT_THAT(ErrorOf(DetectLaunch()), AllOf(HasSubstr("MASTER_PORT=29500"), HasSubstr("MASTER_ADDR is not")));
  Set("MASTER_ADDR", "node0");
  Set("MASTER_PORT", "port");
  EXPECT_THAT(ErrorOf(DetectLaunch()), HasSubstr("MASTER_PORT='port'"));
  Set("MASTER_PORT", "70000");
  EXPECT_THAT(ErrorOf(DetectLaunch()), HasSubstr("MASTER_PORT=70000"));
}

TEST_F(DetectLaunchTest, BracketedMasterAddr) {
  Set("RANK", "1");
  Set("WORLD_SIZE", "2");
  Set("MASTER_ADDR", "[fd00::2]");
  Set("MASTER_PORT", "29500");
  absl::StatusOr<LaunchInfo> info = DetectLaunch();
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->store_host, "fd00::2");
}

}  // namespace
}  // namespace mc
