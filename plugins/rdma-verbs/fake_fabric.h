// An in-process stand-in for RC queue pairs and memory registration, for
// tests on machines without RDMA hardware. Posted work waits on its queue
// pair's "wire" and executes later, when either side polls: queue pairs
// advance in a seeded random interleaving, each in its own order, so data
// on one queue pair may land before or after work posted earlier on
// another, and a source buffer is read only when its work executes (as a
// device does). Completions come out of Poll in a random interleaving that
// keeps each queue's own order. What a device would refuse, the fake
// refuses the same way: keys that do not cover an access (remote access
// error), a SEND with no receive posted (receiver not ready: fatal here,
// because the plugin's credits must prevent it), a full send queue (ENOMEM),
// a message larger than the receive buffer. Each refusal breaks the link,
// as on RC. It also records READs beyond the read limit, which a device
// would only stall on, so tests can check the plugin's accounting.
#ifndef MOONCOMM_PLUGINS_RDMA_VERBS_FAKE_FABRIC_H_
#define MOONCOMM_PLUGINS_RDMA_VERBS_FAKE_FABRIC_H_

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "verbs.h"

namespace mc::rdma::testing {

class FakeMemoryDomain : public MemoryDomain {
 public:
  explicit FakeMemoryDomain(uint64_t guid, bool on_demand = false);
  StatusOr<MemoryRegion> Register(void* addr, size_t len, bool on_demand) override;
  void Deregister(const MemoryRegion& region) override;
  bool on_demand_paging() const override { return on_demand_; }
  uint64_t guid() const override { return guid_; }

  // True when `key` is registered and covers [addr, addr + len).
  bool Covers(uint32_t key, uint64_t addr, uint64_t len) const;
  size_t live() const { return regions_.size(); }
  int register_calls() const { return register_calls_; }
  int on_demand_registrations() const { return on_demand_registrations_; }
  void FailNextRegister() { fail_next_ = true; }

 private:
  struct Region {
    uint64_t addr;
    uint64_t len;
  };
  uint64_t guid_;
  bool on_demand_;
  uint32_t next_key_;
  std::map<uint32_t, Region> regions_;
  int register_calls_ = 0;
  int on_demand_registrations_ = 0;
  bool fail_next_ = false;
};

struct FakeQpOptions {
  int count = 1;
  uint32_t send_depth = 64;
  uint32_t max_inline = 64;
  uint32_t read_limit = 4;
  uint32_t seed = 1;
};

class FakeQueuePairs : public LinkableQueuePairs {
 public:
  FakeQueuePairs(FakeMemoryDomain* domain, const FakeQpOptions& options);
  ~FakeQueuePairs() override;

  // LinkableQueuePairs: Describe gives qpn values that Link finds again.
  void Describe(ConnInfo* info) const override;
  Status Link(const ConnInfo& remote) override;
  uint32_t read_limit() const override { return options_.read_limit; }
  bool Owns(uint32_t qp_num) const override {
    return qp_num >= qpn_ && qp_num < qpn_ + static_cast<uint32_t>(options_.count);
  }
  int size() const override { return options_.count; }
  uint32_t max_inline() const override { return options_.max_inline; }
  int PostSend(int qp, const SendWork& work) override;
  int PostRecv(uint64_t wr_id, const Sge& sge) override;
  int Poll(WorkCompletion* out, int max) override;
  void Shutdown() override;

  // Test knobs and observations.
  void BreakLink(const char* why);  // every queue pair of both sides goes to the error state
  bool in_error() const { return error_; }
  uint64_t posted_on(int qp) const { return posted_[qp]; }
  bool read_limit_exceeded() const { return read_limit_exceeded_; }
  const std::string& fault() const { return fault_; }  // the first refusal, "" when none
  size_t posted_receives() const { return recvs_.size(); }

 private:
  struct PostedRecv {
    uint64_t wr_id;
    Sge sge;
  };
  struct PendingSend {
    WorkCompletion wc;
    bool read;
  };
  struct OnWire {
    SendWork work;
    std::vector<char> inline_bytes;  // inline payloads are copied when posted
  };
  // Executes posted work of this side and the peer's, queue pairs in random order.
  void Advance();
  void Execute(int qp, const OnWire& item);
  void Complete(int qp, uint64_t wr_id, CompletionStatus status, const char* detail);
  // A refused request breaks its queue pair on both sides, as on RC.
  void Refuse(int qp, uint64_t wr_id, CompletionStatus status, const char* why);
  void QpToError(int qp);
  void ToError();
  bool TakeReceive(PostedRecv* out);

  FakeMemoryDomain* domain_;
  FakeQpOptions options_;
  uint32_t qpn_;
  FakeQueuePairs* peer_ = nullptr;
  bool error_ = false;          // every queue pair is in the error state
  std::vector<bool> qp_error_;  // per queue pair
  std::deque<PostedRecv> recvs_;
  std::vector<std::deque<PendingSend>> send_cq_;  // per queue pair
  std::vector<std::deque<OnWire>> wire_;          // posted, not yet executed, per queue pair
  bool posting_read_ = false;                     // the work being completed is a READ
  std::deque<WorkCompletion> recv_cq_;
  std::vector<uint32_t> outstanding_;  // send work not yet polled, per queue pair
  std::vector<uint32_t> reads_outstanding_;
  std::vector<uint64_t> posted_;
  bool read_limit_exceeded_ = false;
  std::string fault_;
  std::mt19937 rng_;
};

// A Port over the fake: for running the whole plugin in one process.
class FakePort : public Port {
 public:
  FakePort(FakeMemoryDomain* domain, std::string name, const FakeQpOptions& options);
  const mc_device_props_v1_t& props() const override { return props_; }
  MemoryDomain* domain() override { return domain_; }
  const std::string& netdev() const override { return netdev_; }
  StatusOr<std::unique_ptr<LinkableQueuePairs>> CreateQueuePairs(const QueuePairShape& shape) override;

 private:
  FakeMemoryDomain* domain_;
  mc_device_props_v1_t props_{};
  std::string netdev_;
  FakeQpOptions options_;
};

}  // namespace mc::rdma::testing

#endif  // MOONCOMM_PLUGINS_RDMA_VERBS_FAKE_FABRIC_H_
