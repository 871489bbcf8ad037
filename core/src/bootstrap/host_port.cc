#include "bootstrap/host_port.h"

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/absl_compat.h"
#include "mooncomm/bootstrap.h"

namespace mc {
namespace bootstrap {

std::string FormatHostPort(std::string_view host, int port) {
  if (host.find(':') != std::string_view::npos) return absl::StrCat("[", ToAbsl(host), "]:", port);
  return absl::StrCat(ToAbsl(host), ":", port);
}

}  // namespace bootstrap

namespace {

absl::StatusOr<int> ParsePort(std::string_view text, std::string_view port) {
  int value = 0;
  if (port.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", ToAbsl(text), "' has no port after the ':' (expected host:port)"));
  }
  if (!absl::SimpleAtoi(ToAbsl(port), &value) || !absl::ascii_isdigit(port.front())) {
    return absl::InvalidArgumentError(absl::StrCat("'", ToAbsl(text), "': port '", ToAbsl(port), "' is not a number"));
  }
  if (value < 1 || value > 65535) {
    return absl::InvalidArgumentError(absl::StrCat("'", ToAbsl(text), "': port ", value, " is outside 1-65535"));
  }
  return value;
}

}  // namespace

absl::StatusOr<std::pair<std::string, int>> ParseHostPort(std::string_view text) {
  std::string_view s = ToStd(absl::StripAsciiWhitespace(ToAbsl(text)));
  if (s.empty()) return absl::InvalidArgumentError("empty address (expected host:port or [ipv6]:port)");
  std::string_view host;
  std::string_view port;
  if (s.front() == '[') {
    size_t close = s.find(']');
    if (close == std::string_view::npos) {
      return absl::InvalidArgumentError(absl::StrCat("'", ToAbsl(text), "' opens '[' but has no closing ']'"));
    }
    host = s.substr(1, close - 1);
    std::string_view after = s.substr(close + 1);
    if (after.empty() || after.front() != ':') {
      return absl::InvalidArgumentError(
          absl::StrCat("'", ToAbsl(text), "' needs ':port' after ']' (expected [ipv6]:port)"));
    }
    port = after.substr(1);
  } else {
    size_t colon = s.rfind(':');
    if (colon == std::string_view::npos) {
      return absl::InvalidArgumentError(absl::StrCat("'", ToAbsl(text), "' has no port (expected host:port)"));
    }
    if (s.find(':') != colon) {
      return absl::InvalidArgumentError(
          absl::StrCat("'", ToAbsl(text), "' has several ':'; write an IPv6 address in brackets: [addr]:port"));
    }
    host = s.substr(0, colon);
    port = s.substr(colon + 1);
  }
  if (host.empty()) return absl::InvalidArgumentError(absl::StrCat("'", ToAbsl(text), "' has no host before the port"));
  absl::StatusOr<int> port_number = ParsePort(text, port);
  if (!port_number.ok()) return port_number.status();
  return std::make_pair(std::string(host), *port_number);
}

}  // namespace mc
