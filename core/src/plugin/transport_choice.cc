// ParseTransportChoice: the grammar of MC_TRANSPORT.
#include <algorithm>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/absl_compat.h"
#include "plugin/loader.h"
#include "plugin/search_path.h"

namespace mc {

absl::StatusOr<TransportChoice> ParseTransportChoice(std::string_view value) {
  absl::string_view trimmed = absl::StripAsciiWhitespace(ToAbsl(value));
  TransportChoice choice;
  if (absl::AsciiStrToLower(trimmed) == "auto") {
    choice.automatic = true;
    return choice;
  }
  if (trimmed.empty()) {
    return absl::InvalidArgumentError(
        "MC_TRANSPORT is empty: use auto, one transport name, or a comma list of names in order of preference");
  }
  int position = 0;
  for (absl::string_view item : absl::StrSplit(ToAbsl(value), ',')) {
    ++position;
    std::string what = absl::StrCat("MC_TRANSPORT='", ToAbsl(value), "': item ", position);
    // Names are matched case-insensitively, like "auto".
    std::string name = absl::AsciiStrToLower(absl::StripAsciiWhitespace(item));
    if (name.empty()) return absl::InvalidArgumentError(absl::StrCat(what, " is empty"));
    if (name == "auto") {
      return absl::InvalidArgumentError(absl::StrCat(what, " is 'auto', which cannot be part of a list"));
    }
    if (absl::Status s = CheckPluginName(name, what); !s.ok()) return s;
    if (std::find(choice.names.begin(), choice.names.end(), name) != choice.names.end()) {
      return absl::InvalidArgumentError(absl::StrCat(what, " ('", name, "') repeats an earlier item"));
    }
    choice.names.push_back(std::move(name));
  }
  return choice;
}

}  // namespace mc
