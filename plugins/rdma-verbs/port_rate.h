// A port's link rate from ibv_query_port's active_speed and active_width codes.
#ifndef MOONCOMM_PLUGINS_RDMA_VERBS_PORT_RATE_H_
#define MOONCOMM_PLUGINS_RDMA_VERBS_PORT_RATE_H_

#include <cstdint>

namespace mc::rdma {

// Gbit/s per lane for an active_speed code (SDR 2.5 ... NDR 100), 0 if unknown.
double LaneGbps(uint8_t active_speed);
// Lanes for an active_width code (1x, 2x, 4x, 8x, 12x), 0 if unknown.
int LaneCount(uint8_t active_width);
// Their product: the port's nominal data rate in Gbit/s, 0 if unknown.
inline double PortGbps(uint8_t active_speed, uint8_t active_width) {
  return LaneGbps(active_speed) * LaneCount(active_width);
}

}  // namespace mc::rdma

#endif  // MOONCOMM_PLUGINS_RDMA_VERBS_PORT_RATE_H_
