// Parses one rule: COLLECTIVE[:LO-HI]:ALGORITHM[:chunk=SIZE][:channels=N].
#include "tuner/rule_grammar.h"

#include <cctype>
#include <charconv>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"

namespace mc::algo {
namespace {

std::string Quote(std::string_view token) {
  return absl::StrCat("'", absl::string_view(token.data(), token.size()), "'");
}

std::vector<std::string_view> SplitFields(std::string_view text) {
  std::vector<std::string_view> fields;
  size_t start = 0;
  while (true) {
    size_t colon = text.find(':', start);
    fields.push_back(TrimBlanks(text.substr(start, colon == std::string_view::npos ? colon : colon - start)));
    if (colon == std::string_view::npos) return fields;
    start = colon + 1;
  }
}

std::string CollectiveList() {
  std::string list;
  for (int i = 0; i < kNumCollectiveKinds; ++i) {
    absl::StrAppend(&list, i == 0 ? "" : ", ", CollectiveName(static_cast<CollectiveKind>(i)));
  }
  return list;
}

bool Fail(RuleProblem* problem, std::string what, std::string hint = "") {
  problem->what = std::move(what);
  problem->hint = std::move(hint);
  return false;
}

// A range field starts with a digit or holds a '-'; an algorithm name never does.
bool LooksLikeRange(std::string_view field) {
  return field.find('-') != std::string_view::npos ||
         (!field.empty() && std::isdigit(static_cast<unsigned char>(field.front())));
}

bool IsAlgorithmName(std::string_view name) {
  if (name.empty() || !std::islower(static_cast<unsigned char>(name.front()))) return false;
  for (char c : name) {
    bool ok = std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) || c == '_';
    if (!ok) return false;
  }
  return true;
}

bool ParseRange(std::string_view field, TuneRule* rule, RuleProblem* problem) {
  size_t dash = field.find('-');
  if (dash == std::string_view::npos) {
    return Fail(problem, absl::StrCat("bad range ", Quote(field)), "expected LO-HI, e.g. 0-64k or 64k-inf");
  }
  std::string_view lo_text = TrimBlanks(field.substr(0, dash));
  std::string_view hi_text = TrimBlanks(field.substr(dash + 1));
  if (lo_text == "inf") {
    return Fail(problem, absl::StrCat("bad size ", Quote(lo_text)), "inf is only valid as the upper bound");
  }
  std::optional<uint64_t> lo = ParseSizeText(lo_text, /*allow_inf=*/false);
  if (!lo) return Fail(problem, absl::StrCat("bad size ", Quote(lo_text)));
  std::optional<uint64_t> hi = ParseSizeText(hi_text, /*allow_inf=*/true);
  if (!hi) return Fail(problem, absl::StrCat("bad size ", Quote(hi_text)));
  if (*lo >= *hi) return Fail(problem, absl::StrCat("empty range ", Quote(field)), "LO must be below HI");
  rule->lo = *lo;
  rule->hi = *hi;
  return true;
}

bool ParseOption(std::string_view field, TuneRule* rule, RuleProblem* problem) {
  size_t eq = field.find('=');
  std::string_view key = TrimBlanks(field.substr(0, eq));
  std::string_view value = eq == std::string_view::npos ? std::string_view() : TrimBlanks(field.substr(eq + 1));
  if (eq != std::string_view::npos && key == "chunk") {
    if (rule->chunk_bytes != 0) return Fail(problem, absl::StrCat("chunk given twice at ", Quote(field)));
    std::optional<uint64_t> chunk = ParseSizeText(value, /*allow_inf=*/false);
    static_assert(sizeof(size_t) == sizeof(uint64_t), "chunk sizes are 64-bit");
    if (!chunk || *chunk == 0) {
      return Fail(problem, absl::StrCat("bad chunk ", Quote(value)), "expected a positive size such as 256k");
    }
    rule->chunk_bytes = static_cast<size_t>(*chunk);
    return true;
  }
  if (eq != std::string_view::npos && key == "channels") {
    if (rule->channels != 0) return Fail(problem, absl::StrCat("channels given twice at ", Quote(field)));
    int channels = 0;
    auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), channels);
    if (ec != std::errc() || end != value.data() + value.size() || channels < 1 || channels > kMaxTuneChannels) {
      return Fail(problem, absl::StrCat("bad channels ", Quote(value)),
                  absl::StrCat("expected an integer from 1 to ", kMaxTuneChannels));
    }
    rule->channels = channels;
    return true;
  }
  return Fail(problem, absl::StrCat("unknown field ", Quote(field)), "expected chunk=SIZE or channels=N");
}

}  // namespace

std::string_view TrimBlanks(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.remove_suffix(1);
  return text;
}

bool ParseRuleText(std::string_view text, TuneRule* rule, RuleProblem* problem) {
  *rule = TuneRule();
  text = TrimBlanks(text);
  if (text.empty()) return Fail(problem, "empty rule");
  std::vector<std::string_view> fields = SplitFields(text);

  absl::StatusOr<CollectiveKind> coll = ParseCollective(fields[0]);
  if (!coll.ok()) {
    return Fail(problem, absl::StrCat("unknown collective ", Quote(fields[0])),
                absl::StrCat("expected one of ", CollectiveList()));
  }
  rule->coll = *coll;

  size_t next = 1;
  if (next < fields.size() && LooksLikeRange(fields[next])) {
    if (!ParseRange(fields[next], rule, problem)) return false;
    ++next;
  }
  if (next >= fields.size() || fields[next].empty() || fields[next].find('=') != std::string_view::npos) {
    return Fail(problem, "missing algorithm", "expected COLLECTIVE[:LO-HI]:ALGORITHM");
  }
  if (!IsAlgorithmName(fields[next])) {
    return Fail(problem, absl::StrCat("bad algorithm name ", Quote(fields[next])),
                "expected lower case letters, digits and '_', starting with a letter");
  }
  rule->algorithm = std::string(fields[next]);
  for (++next; next < fields.size(); ++next) {
    if (!ParseOption(fields[next], rule, problem)) return false;
  }
  return true;
}

}  // namespace mc::algo
