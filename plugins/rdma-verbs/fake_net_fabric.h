// Queue pairs emulated across processes, for running the conformance suite
// (real processes, kills, finalize checks) over the plugin's own code on a
// machine without RDMA hardware. Each queue pair set listens on a localhost
// TCP port (advertised as its "LID"); Link connects to the peer's. Work goes
// out on that stream as frames, the peer executes it in arrival order (a
// valid order for RC: each queue pair's own order is kept) against its own
// registrations -- SEND into the next posted receive, WRITE and READ within a
// registered key -- and answers with an acknowledgement or the READ's data,
// which completes the work. What a device refuses is refused here too (no
// receive posted, a key not covering the access) and breaks the link. A peer
// that dies closes the stream: outstanding work completes with an error.
// Not a model of timing or of a device; ibv_port.cc is what runs on hardware.
#ifndef MOONCOMM_PLUGINS_RDMA_VERBS_FAKE_NET_FABRIC_H_
#define MOONCOMM_PLUGINS_RDMA_VERBS_FAKE_NET_FABRIC_H_

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>

#include "verbs.h"

namespace mc::rdma::testing {

class NetFakeDomain : public MemoryDomain {
 public:
  NetFakeDomain();
  StatusOr<MemoryRegion> Register(void* addr, size_t len, bool on_demand) override;
  void Deregister(const MemoryRegion& region) override;
  bool on_demand_paging() const override { return false; }
  uint64_t guid() const override { return guid_; }
  bool Covers(uint32_t key, uint64_t addr, uint64_t len) const;

 private:
  uint64_t guid_;
  uint32_t next_key_ = 1;
  std::map<uint32_t, std::pair<uint64_t, uint64_t>> regions_;  // key -> {addr, len}
};

class NetFakeQueuePairs : public LinkableQueuePairs {
 public:
  static StatusOr<std::unique_ptr<NetFakeQueuePairs>> Create(NetFakeDomain* domain, const QueuePairShape& shape);
  ~NetFakeQueuePairs() override;

  void Describe(ConnInfo* info) const override;
  Status Link(const ConnInfo& remote) override;
  uint32_t read_limit() const override { return kReadLimit; }
  bool Owns(uint32_t) const override { return false; }
  int size() const override { return count_; }
  uint32_t max_inline() const override { return kMaxInline; }
  int PostSend(int qp, const SendWork& work) override;
  int PostRecv(uint64_t wr_id, const Sge& sge) override;
  int Poll(WorkCompletion* out, int max) override;
  void Shutdown() override;

 private:
  static constexpr uint32_t kReadLimit = 8;
  static constexpr uint32_t kMaxInline = 128;
  struct Posted {
    int qp;
    uint64_t wr_id;
    Sge sge;
    bool read;
  };
  struct Frame;

  NetFakeQueuePairs(NetFakeDomain* domain, int count, uint32_t send_depth, int listen_fd, uint16_t port)
      : domain_(domain), count_(count), send_depth_(send_depth), listen_fd_(listen_fd), port_(port) {}
  void Pump();
  void Flush();
  bool HandleFrame(const Frame& frame, const char* payload);
  void Answer(uint8_t kind, uint8_t status, int qp, uint64_t wr_id, const char* data, uint32_t len);
  void Complete(int qp, uint64_t wr_id, CompletionStatus status, const char* detail);
  void ToError(const char* why);
  void CloseSockets();

  NetFakeDomain* domain_;
  int count_;
  uint32_t send_depth_;
  int listen_fd_;
  uint16_t port_;
  int out_fd_ = -1;  // our work and our answers to the peer's
  int in_fd_ = -1;   // the peer's work and its answers to ours
  bool error_ = false;
  std::string outbound_;
  std::string inbound_;
  std::deque<Posted> pending_;  // sent, not yet answered, in order
  std::deque<std::pair<uint64_t, Sge>> recvs_;
  std::deque<WorkCompletion> cq_;
  uint32_t outstanding_ = 0;
};

class NetFakePort : public Port {
 public:
  explicit NetFakePort(std::string name);
  const mc_device_props_v1_t& props() const override { return props_; }
  MemoryDomain* domain() override { return &domain_; }
  const std::string& netdev() const override { return netdev_; }
  StatusOr<std::unique_ptr<LinkableQueuePairs>> CreateQueuePairs(const QueuePairShape& shape) override;

 private:
  NetFakeDomain domain_;
  mc_device_props_v1_t props_{};
  std::string netdev_;
};

}  // namespace mc::rdma::testing

#endif  // MOONCOMM_PLUGINS_RDMA_VERBS_FAKE_NET_FABRIC_H_
