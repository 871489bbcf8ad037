// "host:port" text to and from its parts (ParseHostPort is public in
// mooncomm/bootstrap.h; this adds the reverse for error messages).
#ifndef MOONCOMM_SRC_BOOTSTRAP_HOST_PORT_H_
#define MOONCOMM_SRC_BOOTSTRAP_HOST_PORT_H_

#include <string>
#include <string_view>

namespace mc::bootstrap {

// "10.0.0.1:29500", "[fe80::1]:29500" (IPv6 literals get brackets).
std::string FormatHostPort(std::string_view host, int port);

}  // namespace mc::bootstrap

#endif  // MOONCOMM_SRC_BOOTSTRAP_HOST_PORT_H_
