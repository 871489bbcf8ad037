// The verbs interfaces of verbs.h over libibverbs: an opened device (its
// protection domain registers memory), one of its ports, and RC queue pairs
// on that port with their completion queue. None of this can run without an
// RDMA device; the protocol above it is tested over fake_fabric.h.
#ifndef MOONCOMM_PLUGINS_RDMA_VERBS_IBV_PORT_H_
#define MOONCOMM_PLUGINS_RDMA_VERBS_IBV_PORT_H_

#include <infiniband/verbs.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "sysfs.h"
#include "verbs.h"

namespace mc::rdma {

// One opened device: its verbs context and protection domain, shared by its ports.
class Hca : public MemoryDomain {
 public:
  static StatusOr<std::unique_ptr<Hca>> Open(ibv_device* device);
  ~Hca() override;
  Hca(const Hca&) = delete;
  Hca& operator=(const Hca&) = delete;

  const std::string& name() const { return name_; }
  ibv_context* context() const { return context_; }
  ibv_pd* pd() const { return pd_; }
  const ibv_device_attr& attr() const { return attr_; }

  StatusOr<MemoryRegion> Register(void* addr, size_t len, bool on_demand) override;
  void Deregister(const MemoryRegion& region) override;
  bool on_demand_paging() const override { return odp_; }
  uint64_t guid() const override { return guid_; }

  // Reads the device's pending async events without blocking. A queue pair
  // that broke is named to `on_qp_error` (its qp_num); a dead device to
  // `on_device_error`; the rest is logged.
  void DrainAsyncEvents(const std::function<void(uint32_t qp_num, const std::string& what)>& on_qp_error,
                        const std::function<void(const std::string& what)>& on_device_error,
                        const std::function<void(mc_log_level_t, const std::string&)>& log);

 private:
  Hca() = default;
  std::string name_;
  ibv_context* context_ = nullptr;
  ibv_pd* pd_ = nullptr;
  ibv_device_attr attr_{};
  uint64_t guid_ = 0;
  bool odp_ = false;
};

// How queue pairs are tuned (MC_RDMA_* values) and addressed on one port.
struct PortSetup {
  uint8_t port_num = 1;
  ibv_port_attr attr{};
  bool ethernet = false;
  GidEntry gid;  // the chosen GID; index 0 and all zeros on InfiniBand without one
  uint8_t ib_timeout = 14;
  uint8_t retry_count = 7;
  uint8_t traffic_class = 0;
  uint8_t service_level = 0;
};

class IbvPort : public Port {
 public:
  IbvPort(Hca* hca, const PortSetup& setup, const mc_device_props_v1_t& props, std::string netdev);
  const mc_device_props_v1_t& props() const override { return props_; }
  MemoryDomain* domain() override { return hca_; }
  const std::string& netdev() const override { return netdev_; }
  StatusOr<std::unique_ptr<LinkableQueuePairs>> CreateQueuePairs(const QueuePairShape& shape) override;
  Hca* hca() const { return hca_; }

 private:
  Hca* hca_;
  PortSetup setup_;
  mc_device_props_v1_t props_;
  std::string netdev_;
};

// RC queue pairs of one connection and the completion queue they share.
class IbvQueuePairs : public LinkableQueuePairs {
 public:
  // Creates the completion queue and `shape.count` queue pairs in INIT.
  static StatusOr<std::unique_ptr<IbvQueuePairs>> Create(Hca* hca, const PortSetup& setup, const QueuePairShape& shape);
  ~IbvQueuePairs() override;

  void Describe(ConnInfo* info) const override;
  Status Link(const ConnInfo& remote) override;
  uint32_t read_limit() const override { return read_limit_; }
  int size() const override { return static_cast<int>(qps_.size()); }
  uint32_t max_inline() const override { return max_inline_; }
  int PostSend(int qp, const SendWork& work) override;
  int PostRecv(uint64_t wr_id, const Sge& sge) override;
  int Poll(WorkCompletion* out, int max) override;
  void Shutdown() override;

  bool Owns(uint32_t qp_num) const override { return IndexOf(qp_num) >= 0; }

 private:
  IbvQueuePairs(Hca* hca, const PortSetup& setup) : hca_(hca), setup_(setup) {}
  int IndexOf(uint32_t qp_num) const;

  Hca* hca_;
  PortSetup setup_;
  ibv_cq* cq_ = nullptr;
  std::vector<ibv_qp*> qps_;
  std::vector<uint32_t> psns_;
  uint32_t max_inline_ = 0;
  uint8_t rd_initiator_ = 1;  // READs we can have outstanding per queue pair (this device)
  uint8_t rd_responder_ = 1;  // READs we serve at once per queue pair
  uint32_t read_limit_ = 1;   // after Link: min(ours, the peer's responder resources)
  bool shut_down_ = false;
};

}  // namespace mc::rdma

#endif  // MOONCOMM_PLUGINS_RDMA_VERBS_IBV_PORT_H_
