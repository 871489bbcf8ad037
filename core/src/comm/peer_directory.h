// What each rank publishes through the store so the others can reach it:
// its host identity and, per transport it opened, a listen address. And the
// rule by which both ends of a pair pick the same transport.
#ifndef MOONCOMM_SRC_COMM_PEER_DIRECTORY_H_
#define MOONCOMM_SRC_COMM_PEER_DIRECTORY_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace mc {

struct PublishedTransport {
  std::string name;
  bool same_host_only = false;
  std::string address;  // opaque, from the transport's listen()
};

struct PeerCard {
  std::string host_id;
  std::vector<PublishedTransport> transports;  // in the publisher's order of preference
};

std::string EncodePeerCard(const PeerCard& card);
// DataLoss naming `from` for a malformed card.
absl::StatusOr<PeerCard> DecodePeerCard(std::string_view bytes, std::string_view from);

// The transport two ranks use: the first in the lower rank's order of
// preference that the other rank also opened, skipping same-host-only
// transports when the hosts differ. Both ranks compute the same answer.
// Returns the index into `lower.transports`, or nullopt if nothing fits.
std::optional<size_t> ChooseTransport(const PeerCard& lower, const PeerCard& higher);

}  // namespace mc

#endif  // MOONCOMM_SRC_COMM_PEER_DIRECTORY_H_
