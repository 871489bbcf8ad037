#include "plugin/loader.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "plugin/test_util.h"
#include "transports/builtin.h"

namespace mc {
namespace {

using ::mc::testing::ScopedEnv;
using ::mc::testing::TempDir;
using ::mc::testing::TestPluginDir;
using ::mc::testing::TestPluginFile;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::string MessageOf(const absl::StatusOr<LoadedPlugin>& loaded) { return std::string(loaded.status().message()); }

TEST(LoaderTest, BuiltinsLoadByNameWithoutAFile) {
  ASSERT_FALSE(BuiltinPlugins().empty());
  for (const mc_plugin_v1_t* builtin : BuiltinPlugins()) {
    absl::StatusOr<LoadedPlugin> loaded = LoadPlugin(builtin->name);
    ASSERT_TRUE(loaded.ok()) << loaded.status();
    EXPECT_EQ(loaded->plugin, builtin);
    EXPECT_EQ(loaded->name, builtin->name);
    EXPECT_EQ(loaded->path, "built-in");
    EXPECT_EQ(loaded->abi_version, 1u);
    EXPECT_EQ(loaded->library, nullptr);
  }
}

TEST(LoaderTest, TcpAndShmAreBuiltIn) {
  EXPECT_TRUE(LoadPlugin("tcp").ok());
  EXPECT_TRUE(LoadPlugin("shm").ok());
}

TEST(LoaderTest, BuiltinWinsOverAFileOfTheSameName) {
  TempDir dir;
  std::string builtin = BuiltinPlugins()[0]->name;
  dir.Symlink(absl::StrCat("libmooncomm-", builtin, ".so"), TestPluginFile("good", "minimal"));
  ScopedEnv env("MC_PLUGIN_PATH", dir.path());
  absl::StatusOr<LoadedPlugin> loaded = LoadPlugin(builtin);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->path, "built-in");
}

TEST(LoaderTest, GoodPluginLoadsByPath) {
  std::string path = TestPluginFile("good", "minimal");
  absl::StatusOr<LoadedPlugin> loaded = LoadPlugin(path);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->name, "minimal");
  EXPECT_EQ(loaded->path, path);
  EXPECT_EQ(loaded->abi_version, 1u);
  EXPECT_NE(loaded->library, nullptr);
  EXPECT_STREQ(loaded->plugin->version, "1.0");
}

TEST(LoaderTest, GoodPluginLoadsByNameFromPluginPath) {
  ScopedEnv env("MC_PLUGIN_PATH", TestPluginDir("good"));
  absl::StatusOr<LoadedPlugin> loaded = LoadPlugin("minimal");
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->path, TestPluginFile("good", "minimal"));
}

TEST(LoaderTest, FileWithoutAnySymbolIsRefused) {
  std::string path = TestPluginFile("broken", "nosymbol");
  absl::StatusOr<LoadedPlugin> loaded = LoadPlugin(path);
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(MessageOf(loaded), AllOf(HasSubstr(path), HasSubstr("exports none of mc_plugin_v1"),
                                       HasSubstr("this MoonComm knows ABI versions 1")));
}

TEST(LoaderTest, FileWithOnlyANewerSymbolNamesBothVersions) {
  std::string path = TestPluginFile("broken", "onlyv7");
  absl::StatusOr<LoadedPlugin> loaded = LoadPlugin(path);
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(MessageOf(loaded), absl::StrCat(path,
                                            " exports mc_plugin_v7 only; this MoonComm supports ABI version 1; "
                                            "rebuild the plugin against this MoonComm or upgrade MoonComm"));
}

TEST(LoaderTest, AbiVersionFieldThatDisagreesWithItsSymbolIsRefused) {
  std::string path = TestPluginFile("broken", "wrongabi");
  absl::StatusOr<LoadedPlugin> loaded = LoadPlugin(path);
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(MessageOf(loaded), AllOf(HasSubstr(path), HasSubstr("symbol mc_plugin_v1"), HasSubstr("abi_version is 2"),
                                       HasSubstr("must say 1")));
}

TEST(LoaderTest, NullTransportTableIsNamed) {
  std::string path = TestPluginFile("broken", "nulltransport");
  absl::StatusOr<LoadedPlugin> loaded = LoadPlugin(path);
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(MessageOf(loaded), absl::StrCat(path, ": mc_plugin_v1.transport is NULL"));
}

TEST(LoaderTest, BrokenFileFoundByNameIsAnErrorNotSkipped) {
  ScopedEnv env("MC_PLUGIN_PATH", absl::StrCat(TestPluginDir("broken"), ":", TestPluginDir("good")));
  absl::StatusOr<LoadedPlugin> loaded = LoadPlugin("onlyv7");
  ASSERT_FALSE(loaded.ok());
  EXPECT_THAT(MessageOf(loaded), HasSubstr(TestPluginFile("broken", "onlyv7")));
}

TEST(LoaderTest, FileWhoseNameDisagreesWithItsStructIsRefused) {
  ScopedEnv env("MC_PLUGIN_PATH", TestPluginDir("misnamed"));
  absl::StatusOr<LoadedPlugin> loaded = LoadPlugin("misnamed");
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(MessageOf(loaded),
              AllOf(HasSubstr(TestPluginFile("misnamed", "misnamed")), HasSubstr("loaded as transport 'misnamed'"),
                    HasSubstr("mc_plugin_v1.name is 'minimal'"), HasSubstr("libmooncomm-minimal.so")));
}

TEST(LoaderTest, MissingPluginNamesTheFileAndEveryDirectorySearched) {
  ScopedEnv env("MC_PLUGIN_PATH", "/nonexistent/mc-a:/nonexistent/mc-b");
  absl::StatusOr<LoadedPlugin> loaded = LoadPlugin("nosuch");
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.status().code(), absl::StatusCode::kNotFound);
  std::string message = MessageOf(loaded);
  EXPECT_THAT(message,
              AllOf(HasSubstr("'nosuch'"), HasSubstr("libmooncomm-nosuch.so"), HasSubstr("tcp"), HasSubstr("shm")));
  std::vector<std::string> dirs = PluginSearchPath();
  ASSERT_GE(dirs.size(), 3u);
  EXPECT_EQ(dirs[0], "/nonexistent/mc-a");
  EXPECT_EQ(dirs[1], "/nonexistent/mc-b");
  for (const std::string& dir : dirs) EXPECT_THAT(message, HasSubstr(dir));
}

TEST(LoaderTest, MissingPathIsNotFound) {
  absl::StatusOr<LoadedPlugin> loaded = LoadPlugin("/nonexistent/dir/libmooncomm-x.so");
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(MessageOf(loaded), HasSubstr("/nonexistent/dir/libmooncomm-x.so does not exist"));
}

TEST(LoaderTest, DirectoryIsNotAPlugin) {
  absl::StatusOr<LoadedPlugin> loaded = LoadPlugin(TestPluginDir("good"));
  ASSERT_FALSE(loaded.ok());
  EXPECT_THAT(MessageOf(loaded), AllOf(HasSubstr(TestPluginDir("good")), HasSubstr("not a regular file")));
}

TEST(LoaderTest, NonElfFileReportsPathAndDlerror) {
  TempDir dir;
  std::string path = dir.WriteFile("libmooncomm-text.so", std::string(200, '#') + "\nthis is not a shared library\n");
  absl::StatusOr<LoadedPlugin> loaded = LoadPlugin(path);
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(MessageOf(loaded), AllOf(HasSubstr(absl::StrCat("cannot load transport plugin ", path)),
                                       HasSubstr("dlopen failed"), HasSubstr("ELF")));

  ScopedEnv env("MC_PLUGIN_PATH", dir.path());
  absl::StatusOr<LoadedPlugin> by_name = LoadPlugin("text");
  ASSERT_FALSE(by_name.ok());
  EXPECT_THAT(MessageOf(by_name), AllOf(HasSubstr(path), HasSubstr("dlopen failed")));
}

TEST(LoaderTest, FirstDirectoryInPluginPathWins) {
  {
    ScopedEnv env("MC_PLUGIN_PATH", absl::StrCat(TestPluginDir("first"), ":", TestPluginDir("second")));
    absl::StatusOr<LoadedPlugin> loaded = LoadPlugin("order");
    ASSERT_TRUE(loaded.ok()) << loaded.status();
    EXPECT_STREQ(loaded->plugin->version, "first");
    EXPECT_EQ(loaded->path, TestPluginFile("first", "order"));
  }
  {
    ScopedEnv env("MC_PLUGIN_PATH", absl::StrCat(TestPluginDir("second"), ":", TestPluginDir("first")));
    absl::StatusOr<LoadedPlugin> loaded = LoadPlugin("order");
    ASSERT_TRUE(loaded.ok()) << loaded.status();
    EXPECT_STREQ(loaded->plugin->version, "second");
    EXPECT_EQ(loaded->path, TestPluginFile("second", "order"));
  }
}

TEST(LoaderTest, SearchPathSkipsEmptyItemsAndDuplicates) {
  ScopedEnv env("MC_PLUGIN_PATH", "/x/a/::/x/b:/x/a:");
  std::vector<std::string> dirs = PluginSearchPath();
  ASSERT_GE(dirs.size(), 3u);
  EXPECT_EQ(dirs[0], "/x/a");
  EXPECT_EQ(dirs[1], "/x/b");
  EXPECT_NE(dirs[2], "/x/a");
  // The install's plugin dir and libmooncomm's own dir (here: the test binary's) follow.
  EXPECT_GE(dirs.size(), 4u);
}

TEST(LoaderTest, AvailableNamesListBuiltinsFirstThenFilesWithoutOpeningThem) {
  ScopedEnv env("MC_PLUGIN_PATH",
                absl::StrCat(TestPluginDir("broken"), ":", TestPluginDir("first"), ":", TestPluginDir("second")));
  std::vector<std::string> names = AvailablePluginNames();
  std::vector<std::string> expected;
  for (const mc_plugin_v1_t* builtin : BuiltinPlugins()) expected.emplace_back(builtin->name);
  for (const char* name : {"nosymbol", "nulltransport", "onlyv7", "wrongabi", "order"}) expected.emplace_back(name);
  EXPECT_EQ(names, expected);
}

TEST(LoaderTest, BadNamesAreInvalidArguments) {
  absl::StatusOr<LoadedPlugin> empty = LoadPlugin("");
  EXPECT_EQ(empty.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(MessageOf(empty), HasSubstr("empty"));

  absl::StatusOr<LoadedPlugin> spaced = LoadPlugin("my plugin");
  EXPECT_EQ(spaced.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(MessageOf(spaced), AllOf(HasSubstr("'my plugin'"), HasSubstr("position 3")));

  absl::StatusOr<LoadedPlugin> file = LoadPlugin("libmooncomm-ucx.so");
  EXPECT_EQ(file.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(MessageOf(file), HasSubstr("give a path with a '/'"));

  absl::StatusOr<LoadedPlugin> long_name = LoadPlugin(std::string(MC_MAX_NAME_BYTES, 'a'));
  EXPECT_EQ(long_name.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(MessageOf(long_name), HasSubstr("longer than"));
}

TEST(LoaderTest, ALoadedLibraryStaysOpenWhileACopyLives) {
  absl::StatusOr<LoadedPlugin> first = LoadPlugin(TestPluginFile("good", "minimal"));
  ASSERT_TRUE(first.ok()) << first.status();
  LoadedPlugin copy = *first;
  first = absl::UnknownError("dropped");
  // The struct lives in the .so: reading it would fault had the copy not kept it open.
  EXPECT_STREQ(copy.plugin->name, "minimal");
  EXPECT_EQ(copy.library.use_count(), 1);
}

}  // namespace
}  // namespace mc
