// The grammar of one tuning rule (see tune_rule.h), shared by MC_TUNE and
// tuning files, which add their own context to the error.
#ifndef MOONCOMM_ALGORITHMS_TUNER_RULE_GRAMMAR_H_
#define MOONCOMM_ALGORITHMS_TUNER_RULE_GRAMMAR_H_

#include <string>
#include <string_view>

#include "tuner/tune_rule.h"

namespace mc::algo {

// What is wrong with a rule: `what` quotes the bad token ("bad size '64q'"),
// `hint` (maybe empty) says what was expected.
struct RuleProblem {
  std::string what;
  std::string hint;
};

// Parses `text` (one rule, already free of '#') into `rule`. On failure
// returns false and fills `problem`.
bool ParseRuleText(std::string_view text, TuneRule* rule, RuleProblem* problem);

// `text` without leading and trailing blanks.
std::string_view TrimBlanks(std::string_view text);

}  // namespace mc::algo

#endif  // MOONCOMM_ALGORITHMS_TUNER_RULE_GRAMMAR_H_
