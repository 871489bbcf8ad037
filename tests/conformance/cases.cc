#include "cases.h"

namespace mc::conformance {

std::span<const ConformanceCase> AllCases() {
  static constexpr ConformanceCase kCases[] = {
      {"PluginTableIsComplete", &PluginTableIsComplete},
      {"InitDevicesAndFinalize", &InitDevicesAndFinalize},
      {"ListenConnectAcceptHello", &ListenConnectAcceptHello},
      {"TaggedSizesBothDirections", &TaggedSizesBothDirections},
      {"ThousandMessagesInFlight", &ThousandMessagesInFlight},
      {"InterleavedTagsKeepPerTagOrder", &InterleavedTagsKeepPerTagOrder},
      {"OversizedMessageIsTruncated", &OversizedMessageIsTruncated},
      {"PutNotificationFollowsData", &PutNotificationFollowsData},
      {"GarbageRkeyIsRefused", &GarbageRkeyIsRefused},
      {"CloseCancelsPendingRequests", &CloseCancelsPendingRequests},
      {"PeerCloseFailsPendingRecvs", &PeerCloseFailsPendingRecvs},
      {"FinalizeFreesOpenResources", &FinalizeFreesOpenResources},
      {"InvalidArgumentsAreErrors", &InvalidArgumentsAreErrors},
      {"ConnectToBadAddressFails", &ConnectToBadAddressFails},
      {"KilledPeerIsReported", &KilledPeerIsReported},
      {"ThreeProcessFullMesh", &ThreeProcessFullMesh},
  };
  return kCases;
}

}  // namespace mc::conformance
