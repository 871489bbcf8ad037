// MC_TUNE strings: '#'-separated rules, parsed and printed.
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "tuner/rule_grammar.h"
#include "tuner/tune_rule.h"

namespace mc::algo {
namespace {

absl::string_view Absl(std::string_view s) { return absl::string_view(s.data(), s.size()); }

// "<what> in rule 2 (\"<text>\")[; <hint>]"
std::string Describe(const RuleProblem& problem, std::string_view where) {
  std::string message = absl::StrCat(problem.what, " in ", Absl(where));
  if (!problem.hint.empty()) absl::StrAppend(&message, "; ", problem.hint);
  return message;
}

}  // namespace

absl::StatusOr<std::vector<TuneRule>> ParseTuneString(std::string_view text, std::string_view origin) {
  std::vector<TuneRule> rules;
  if (TrimBlanks(text).empty()) return rules;
  size_t start = 0;
  for (int index = 1;; ++index) {
    size_t hash = text.find('#', start);
    std::string_view rule_text = TrimBlanks(text.substr(start, hash == std::string_view::npos ? hash : hash - start));
    TuneRule rule;
    RuleProblem problem;
    if (rule_text.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(Absl(origin), ": empty rule ", index, " (rules are separated by a single '#')"));
    }
    if (!ParseRuleText(rule_text, &rule, &problem)) {
      std::string where = absl::StrCat("rule ", index, " (\"", Absl(rule_text), "\")");
      return absl::InvalidArgumentError(absl::StrCat(Absl(origin), ": ", Describe(problem, where)));
    }
    rules.push_back(std::move(rule));
    if (hash == std::string_view::npos) return rules;
    start = hash + 1;
  }
}

absl::StatusOr<TuneRule> ParseTuneRule(std::string_view text) {
  TuneRule rule;
  RuleProblem problem;
  if (TrimBlanks(text).empty()) return absl::InvalidArgumentError("empty rule");
  if (!ParseRuleText(text, &rule, &problem)) {
    return absl::InvalidArgumentError(Describe(problem, absl::StrCat("rule \"", Absl(TrimBlanks(text)), "\"")));
  }
  return rule;
}

std::string FormatTuneRule(const TuneRule& rule) {
  std::string text = absl::StrCat(CollectiveName(rule.coll), ":", FormatSizeText(rule.lo), "-", FormatSizeText(rule.hi),
                                  ":", rule.algorithm);
  if (rule.chunk_bytes != 0) absl::StrAppend(&text, ":chunk=", FormatSizeText(rule.chunk_bytes));
  if (rule.channels != 0) absl::StrAppend(&text, ":channels=", rule.channels);
  return text;
}

std::string FormatTuneRules(absl::Span<const TuneRule> rules) {
  return absl::StrJoin(rules, "#",
                       [](std::string* out, const TuneRule& rule) { absl::StrAppend(out, FormatTuneRule(rule)); });
}

}  // namespace mc::algo
