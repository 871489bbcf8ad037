// Tuning files: writing, reading back, and errors that name file and line.
#include "tuner/tuning_file.h"

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace mc::algo {
namespace {

using K = CollectiveKind;
using ::testing::HasSubstr;
using ::testing::StartsWith;

class TuningFileTest : public ::testing::Test {
 protected:
  std::string PathFor(const std::string& name) {
    std::string path = ::testing::TempDir() + "tuner_file_test_" + std::to_string(getpid()) + "_" + name;
    created_.push_back(path);
    return path;
  }
  std::string WriteText(const std::string& name, const std::string& text) {
    std::string path = PathFor(name);
    std::ofstream(path) << text;
    return path;
  }
  static std::string ReadText(const std::string& path) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }
  // The error reading `text` gives, with the path replaced by "F".
  std::string ErrorOf(const std::string& text) {
    std::string path = WriteText("bad.tune", text);
    absl::StatusOr<TuningTable> table = ReadTuningFile(path);
    if (table.ok()) return "ok";
    EXPECT_EQ(table.status().code(), absl::StatusCode::kInvalidArgument);
    std::string message(table.status().message());
    EXPECT_THAT(message, StartsWith(path));
    return "F" + message.substr(path.size());
  }
  void TearDown() override {
    for (const std::string& path : created_) std::remove(path.c_str());
  }

  std::vector<std::string> created_;
};

TuningTable SampleTable() {
  TuningTable table;
  table.transport = "shm";
  table.world_size = 8;
  table.comments = {"measured by mc_tune", "", "host node17"};
  table.rules = {{K::kAllreduce, 0, 64 << 10, "dbtree", 16 << 10, 0},
                 {K::kAllreduce, 64 << 10, kInfiniteSize, "ring", 0, 2},
                 {K::kBroadcast, 0, kInfiniteSize, "pipelined", 0, 0}};
  return table;
}

TEST_F(TuningFileTest, WritesTheDocumentedFormat) {
  std::string path = PathFor("sample.tune");
  ASSERT_TRUE(WriteTuningFile(path, SampleTable()).ok());
  EXPECT_EQ(ReadText(path),
            "# measured by mc_tune\n"
            "#\n"
            "# host node17\n"
            "mooncomm-tuning 1\n"
            "transport shm\n"
            "world_size 8\n"
            "rule allreduce:0-64k:dbtree:chunk=16k\n"
            "rule allreduce:64k-inf:ring:channels=2\n"
            "rule broadcast:0-inf:pipelined\n");
}

TEST_F(TuningFileTest, RoundTrips) {
  std::string path = PathFor("round.tune");
  ASSERT_TRUE(WriteTuningFile(path, SampleTable()).ok());
  absl::StatusOr<TuningTable> table = ReadTuningFile(path);
  ASSERT_TRUE(table.ok()) << table.status();
  EXPECT_EQ(*table, SampleTable());

  TuningTable any;  // "*" for transport and world size, no rules
  ASSERT_TRUE(WriteTuningFile(path, any).ok());
  EXPECT_EQ(ReadText(path), "mooncomm-tuning 1\ntransport *\nworld_size *\n");
  table = ReadTuningFile(path);
  ASSERT_TRUE(table.ok()) << table.status();
  EXPECT_EQ(*table, any);
}

TEST_F(TuningFileTest, ReadsBlankLinesCommentsAnywhereAndBlanks) {
  std::string path = WriteText("loose.tune",
                               "\n   # top\n  mooncomm-tuning   1  \n\n"
                               "world_size 4\r\n#mid\ntransport tcp\nrule  allgather : 0-1k : direct \n# end");
  absl::StatusOr<TuningTable> table = ReadTuningFile(path);
  ASSERT_TRUE(table.ok()) << table.status();
  EXPECT_EQ(table->transport, "tcp");
  EXPECT_EQ(table->world_size, 4);
  EXPECT_THAT(table->comments, ::testing::ElementsAre("top", "mid", "end"));
  ASSERT_EQ(table->rules.size(), 1u);
  EXPECT_EQ(table->rules[0], (TuneRule{K::kAllgather, 0, 1024, "direct", 0, 0}));
}

TEST_F(TuningFileTest, ErrorsNameFileAndLine) {
  const std::string head = "mooncomm-tuning 1\ntransport shm\nworld_size 8\n";
  EXPECT_EQ(ErrorOf(head + "rule allreduce:0-64k:tree\nrule allreduce:64q-inf:ring\n"),
            "F:5: bad size '64q' in rule \"allreduce:64q-inf:ring\"");
  EXPECT_EQ(ErrorOf(head + "rule allreduce:0-inf:ring:channels=99\n"),
            "F:4: bad channels '99' in rule \"allreduce:0-inf:ring:channels=99\"; expected an integer from 1 to 64");
  EXPECT_EQ(ErrorOf(head + "rule\n"), "F:4: empty rule");
  EXPECT_EQ(ErrorOf("# c\ntransport shm\n"),
            "F:2: expected 'mooncomm-tuning 1' before anything else, found 'transport'");
  EXPECT_EQ(ErrorOf("mooncomm-tuning 2\n"), "F:1: unsupported version '2' (this build reads version 1)");
  EXPECT_EQ(ErrorOf("mooncomm-tuning\n"), "F:1: unsupported version '' (this build reads version 1)");
  EXPECT_EQ(ErrorOf(head + "mooncomm-tuning 1\n"), "F:4: 'mooncomm-tuning' given twice");
  EXPECT_EQ(ErrorOf(head + "rules allreduce:ring\n"),
            "F:4: unknown directive 'rules' (expected transport, world_size or rule)");
  EXPECT_EQ(ErrorOf(head + "\ntransport tcp\n"), "F:5: transport given twice (first on line 2)");
  EXPECT_EQ(ErrorOf(head + "world_size 8\n"), "F:4: world_size given twice (first on line 3)");
  EXPECT_EQ(ErrorOf("mooncomm-tuning 1\ntransport\n"), "F:2: bad transport '' (expected one name, or * for any)");
  EXPECT_EQ(ErrorOf("mooncomm-tuning 1\ntransport shm tcp\n"),
            "F:2: bad transport 'shm tcp' (expected one name, or * for any)");
  for (const char* bad : {"0", "-2", "x", "8x", ""}) {
    EXPECT_EQ(ErrorOf(std::string("mooncomm-tuning 1\nworld_size ") + bad + "\n"),
              std::string("F:2: bad world_size '") + bad + "' (expected a positive integer, or * for any)");
  }
}

TEST_F(TuningFileTest, MissingLinesAreErrorsWithoutALine) {
  EXPECT_EQ(ErrorOf(""), "F: no 'mooncomm-tuning 1' line");
  EXPECT_EQ(ErrorOf("# only a comment\n"), "F: no 'mooncomm-tuning 1' line");
  EXPECT_EQ(ErrorOf("mooncomm-tuning 1\nworld_size 2\n"), "F: missing 'transport' line");
  EXPECT_EQ(ErrorOf("mooncomm-tuning 1\ntransport shm\n"), "F: missing 'world_size' line");
}

TEST_F(TuningFileTest, MissingFileIsNotFound) {
  std::string path = PathFor("does_not_exist.tune");
  absl::StatusOr<TuningTable> table = ReadTuningFile(path);
  ASSERT_FALSE(table.ok());
  EXPECT_EQ(table.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(table.status().message(), "cannot open tuning file '" + path + "': No such file or directory");
}

TEST_F(TuningFileTest, UnwritablePathIsAnError) {
  std::string path = PathFor("no_such_dir/x.tune");
  absl::Status status = WriteTuningFile(path, SampleTable());
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(status.message(), "cannot write tuning file '" + path + "': No such file or directory");
}

TEST_F(TuningFileTest, UnwritableFieldsAreErrors) {
  TuningTable table;
  table.transport = "shm tcp";
  EXPECT_EQ(FormatTuningTable(table).status().message(), "tuning table: bad transport 'shm tcp'");
  table.transport = "shm";
  table.world_size = -1;
  EXPECT_EQ(FormatTuningTable(table).status().message(), "tuning table: bad world_size -1");
  table.world_size = 2;
  table.comments = {"two\nlines"};
  EXPECT_THAT(std::string(FormatTuningTable(table).status().message()), HasSubstr("comment with a line break"));
  std::string path = PathFor("never.tune");
  EXPECT_FALSE(WriteTuningFile(path, table).ok());
  EXPECT_FALSE(std::ifstream(path).good());
}

}  // namespace
}  // namespace mc::algo
