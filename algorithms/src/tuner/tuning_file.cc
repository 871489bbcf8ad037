// Reads and writes tuning files (format in tuning_file.h).
#include "tuner/tuning_file.h"

#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "tuner/rule_grammar.h"

namespace mc::algo {
namespace {

constexpr std::string_view kMagic = "mooncomm-tuning";

absl::string_view Absl(std::string_view s) { return absl::string_view(s.data(), s.size()); }

// Splits "word rest of line" at the first blank.
std::pair<std::string_view, std::string_view> SplitDirective(std::string_view line) {
  size_t blank = 0;
  while (blank < line.size() && !std::isspace(static_cast<unsigned char>(line[blank]))) ++blank;
  return {line.substr(0, blank), TrimBlanks(line.substr(blank))};
}

bool HasBlank(std::string_view text) {
  for (char c : text) {
    if (std::isspace(static_cast<unsigned char>(c))) return true;
  }
  return false;
}

class TableParser {
 public:
  explicit TableParser(std::string_view name) : name_(name) {}

  absl::Status Line(int number, std::string_view line) {
    line_ = number;
    line = TrimBlanks(line);
    if (line.empty()) return absl::OkStatus();
    if (line.front() == '#') {
      line.remove_prefix(1);
      if (!line.empty() && line.front() == ' ') line.remove_prefix(1);
      table_.comments.emplace_back(line);
      return absl::OkStatus();
    }
    auto [word, value] = SplitDirective(line);
    if (!header_seen_) return Header(word, value);
    if (word == "transport") return Transport(value);
    if (word == "world_size") return WorldSize(value);
    if (word == "rule") return Rule(value);
    if (word == kMagic) return Error(absl::StrCat("'", Absl(kMagic), "' given twice"));
    return Error(absl::StrCat("unknown directive '", Absl(word), "' (expected transport, world_size or rule)"));
  }

  absl::StatusOr<TuningTable> Finish() {
    if (!header_seen_) return Error(absl::StrCat("no '", Absl(kMagic), " ", kTuningFileVersion, "' line"), false);
    if (!transport_line_) return Error("missing 'transport' line", false);
    if (!world_size_line_) return Error("missing 'world_size' line", false);
    return std::move(table_);
  }

 private:
  absl::Status Error(std::string_view message, bool with_line = true) const {
    return absl::InvalidArgumentError(with_line ? absl::StrCat(Absl(name_), ":", line_, ": ", Absl(message))
                                                : absl::StrCat(Absl(name_), ": ", Absl(message)));
  }

  absl::Status Header(std::string_view word, std::string_view value) {
    if (word != kMagic) {
      return Error(absl::StrCat("expected '", Absl(kMagic), " ", kTuningFileVersion, "' before anything else, found '",
                                Absl(word), "'"));
    }
    if (value != std::to_string(kTuningFileVersion)) {
      return Error(
          absl::StrCat("unsupported version '", Absl(value), "' (this build reads version ", kTuningFileVersion, ")"));
    }
    header_seen_ = true;
    return absl::OkStatus();
  }

  absl::Status Once(std::optional<int>* first_line, std::string_view what) {
    if (*first_line) return Error(absl::StrCat(Absl(what), " given twice (first on line ", **first_line, ")"));
    *first_line = line_;
    return absl::OkStatus();
  }

  absl::Status Transport(std::string_view value) {
    if (absl::Status s = Once(&transport_line_, "transport"); !s.ok()) return s;
    if (value.empty() || HasBlank(value)) {
      return Error(absl::StrCat("bad transport '", Absl(value), "' (expected one name, or * for any)"));
    }
    table_.transport = value == "*" ? "" : std::string(value);
    return absl::OkStatus();
  }

  absl::Status WorldSize(std::string_view value) {
    if (absl::Status s = Once(&world_size_line_, "world_size"); !s.ok()) return s;
    if (value == "*") {
      table_.world_size = 0;
      return absl::OkStatus();
    }
    int size = 0;
    auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), size);
    if (ec != std::errc() || end != value.data() + value.size() || size < 1) {
      return Error(absl::StrCat("bad world_size '", Absl(value), "' (expected a positive integer, or * for any)"));
    }
    table_.world_size = size;
    return absl::OkStatus();
  }

  absl::Status Rule(std::string_view value) {
    absl::StatusOr<TuneRule> rule = ParseTuneRule(value);
    if (!rule.ok()) {
      absl::string_view message = rule.status().message();
      return Error(std::string_view(message.data(), message.size()));
    }
    table_.rules.push_back(*std::move(rule));
    return absl::OkStatus();
  }

  std::string_view name_;
  int line_ = 0;
  bool header_seen_ = false;
  std::optional<int> transport_line_;
  std::optional<int> world_size_line_;
  TuningTable table_;
};

absl::Status ErrnoStatus(int error, std::string message) {
  std::string text = absl::StrCat(message, ": ", std::strerror(error));
  if (error == ENOENT) return absl::NotFoundError(text);
  if (error == EACCES || error == EPERM) return absl::PermissionDeniedError(text);
  return absl::UnavailableError(text);
}

}  // namespace

absl::StatusOr<TuningTable> ParseTuningTable(std::string_view text, std::string_view name) {
  TableParser parser(name);
  int number = 1;
  while (!text.empty()) {
    size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    if (absl::Status s = parser.Line(number, line); !s.ok()) return s;
    if (end == std::string_view::npos) break;
    text.remove_prefix(end + 1);
    ++number;
  }
  return parser.Finish();
}

absl::StatusOr<std::string> FormatTuningTable(const TuningTable& table) {
  if (HasBlank(table.transport)) {
    return absl::InvalidArgumentError(absl::StrCat("tuning table: bad transport '", table.transport, "'"));
  }
  if (table.world_size < 0) {
    return absl::InvalidArgumentError(absl::StrCat("tuning table: bad world_size ", table.world_size));
  }
  std::string text;
  for (const std::string& comment : table.comments) {
    if (comment.find_first_of("\r\n") != std::string::npos) {
      return absl::InvalidArgumentError(absl::StrCat("tuning table: comment with a line break: '", comment, "'"));
    }
    absl::StrAppend(&text, comment.empty() ? "#" : "# ", comment, "\n");
  }
  absl::StrAppend(&text, Absl(kMagic), " ", kTuningFileVersion, "\n");
  absl::StrAppend(&text, "transport ", table.transport.empty() ? "*" : table.transport, "\n");
  absl::StrAppend(&text, "world_size ", table.world_size == 0 ? "*" : std::to_string(table.world_size), "\n");
  for (const TuneRule& rule : table.rules) absl::StrAppend(&text, "rule ", FormatTuneRule(rule), "\n");
  return text;
}

absl::StatusOr<TuningTable> ReadTuningFile(const std::string& path) {
  std::FILE* file = std::fopen(path.c_str(), "r");
  if (file == nullptr) return ErrnoStatus(errno, absl::StrCat("cannot open tuning file '", path, "'"));
  std::string text;
  char buffer[4096];
  size_t got;
  while ((got = std::fread(buffer, 1, sizeof(buffer), file)) > 0) text.append(buffer, got);
  int error = std::ferror(file) ? errno : 0;
  std::fclose(file);
  if (error != 0) return ErrnoStatus(error, absl::StrCat("cannot read tuning file '", path, "'"));
  return ParseTuningTable(text, path);
}

absl::Status WriteTuningFile(const std::string& path, const TuningTable& table) {
  absl::StatusOr<std::string> text = FormatTuningTable(table);
  if (!text.ok()) return text.status();
  std::string temp = absl::StrCat(path, ".tmp.", getpid());
  std::FILE* file = std::fopen(temp.c_str(), "w");
  if (file == nullptr) return ErrnoStatus(errno, absl::StrCat("cannot write tuning file '", path, "'"));
  bool ok = std::fwrite(text->data(), 1, text->size(), file) == text->size();
  int error = ok ? 0 : errno;
  if (std::fclose(file) != 0 && ok) {
    ok = false;
    error = errno;
  }
  if (ok && std::rename(temp.c_str(), path.c_str()) != 0) {
    ok = false;
    error = errno;
  }
  if (!ok) {
    std::remove(temp.c_str());
    return ErrnoStatus(error, absl::StrCat("cannot write tuning file '", path, "'"));
  }
  return absl::OkStatus();
}

}  // namespace mc::algo
