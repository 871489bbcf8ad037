// How a MoonComm message is named on the UCP worker. UCP tags are worker-wide,
// MoonComm tags are per endpoint, so the 64-bit UCP tag carries both:
//
//   bits 63..40  the receiving endpoint's id (24 bits, chosen by the receiver
//                and told to the sender in the handshake)
//   bits 39..38  the kind: a user tag itself, a user tag's index, a control message
//   bits 37..0   the payload: the user tag (when it fits), else its index
//
// A user tag below 2^38 travels as itself. A larger one is given a small index
// by the sender, per endpoint, the first time it is used; a TAG_INDEX control
// message tells the receiver which user tag the index stands for, and receives
// for that tag wait in the plugin until it has arrived. Receives are posted
// with an exact (all-ones) mask, so matching stays per endpoint and tag, in
// posting order, and UCX does it without copies.
#ifndef MOONCOMM_PLUGINS_UCX_TAG_LAYOUT_H_
#define MOONCOMM_PLUGINS_UCX_TAG_LAYOUT_H_

#include <cstdint>

namespace mc::ucx {

inline constexpr int kEndpointIdShift = 40;
inline constexpr int kKindShift = 38;
inline constexpr uint64_t kPayloadMask = (uint64_t{1} << kKindShift) - 1;
inline constexpr uint64_t kKindMask = uint64_t{3} << kKindShift;
inline constexpr uint32_t kMaxEndpointId = (uint32_t{1} << 24) - 1;  // id 0 is never used
inline constexpr uint64_t kFullMask = ~uint64_t{0};

enum class TagKind : uint64_t {
  kDirect = 0,   // payload is the user tag
  kIndexed = 1,  // payload is the sender's index for the user tag
  kControl = 2,  // a ControlMessage; payload 0
};

constexpr uint64_t MakeUcpTag(uint32_t endpoint_id, TagKind kind, uint64_t payload) {
  return (uint64_t{endpoint_id} << kEndpointIdShift) | (static_cast<uint64_t>(kind) << kKindShift) |
         (payload & kPayloadMask);
}
constexpr bool FitsDirect(uint64_t user_tag) { return user_tag <= kPayloadMask; }
constexpr uint32_t EndpointIdOf(uint64_t ucp_tag) { return static_cast<uint32_t>(ucp_tag >> kEndpointIdShift); }
constexpr TagKind KindOf(uint64_t ucp_tag) { return static_cast<TagKind>((ucp_tag & kKindMask) >> kKindShift); }
constexpr uint64_t PayloadOf(uint64_t ucp_tag) { return ucp_tag & kPayloadMask; }

// Every control message of every endpoint matches this tag under kKindMask.
inline constexpr uint64_t kAnyControlTag = static_cast<uint64_t>(TagKind::kControl) << kKindShift;

// The largest index a sender hands out for large user tags on one endpoint.
inline constexpr uint64_t kMaxTagIndex = kPayloadMask;

// What travels on an endpoint's control tag. Fixed size, host byte order
// (both ends run the same plugin on the same kind of host).
struct ControlMessage {
  enum Type : uint32_t {
    kTagIndex = 1,  // a = index, b = the user tag it stands for
    kNotify = 2,    // a put landed: a = notify value, b = target address, c = bytes
    kBye = 3,       // the sender closed the endpoint; nothing follows
  };
  static constexpr uint32_t kMagic = 0x4d435543;  // "MCUC"
  uint32_t magic = kMagic;
  uint32_t type = 0;
  uint64_t a = 0;
  uint64_t b = 0;
  uint64_t c = 0;
};
static_assert(sizeof(ControlMessage) == 32);

}  // namespace mc::ucx

#endif  // MOONCOMM_PLUGINS_UCX_TAG_LAYOUT_H_
