#include "ibv_port.h"

#include <arpa/inet.h>
#include <fcntl.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <random>

namespace mc::rdma {
namespace {

// Payload bytes we ask to be sent inline (copied into the work request):
// every header-only message and small eager ones. Retried with 0 if refused.
constexpr uint32_t kWantedInline = 220;
constexpr uint8_t kMaxReadDepth = 16;
constexpr uint8_t kMinRnrTimer = 12;  // 0.64 ms; credits keep receivers from running dry anyway
constexpr uint8_t kRnrRetryForever = 7;

std::string Errno(const char* what, int err) { return std::string(what) + ": " + std::strerror(err); }

uint8_t ClampReads(int device_value) {
  return static_cast<uint8_t>(std::clamp(device_value, 1, static_cast<int>(kMaxReadDepth)));
}

}  // namespace

// ---- device ----

StatusOr<std::unique_ptr<Hca>> Hca::Open(ibv_device* device) {
  std::unique_ptr<Hca> hca(new Hca());
  hca->name_ = ibv_get_device_name(device);
  hca->guid_ = ibv_get_device_guid(device);
  hca->context_ = ibv_open_device(device);
  if (hca->context_ == nullptr) return Internal(Errno(("ibv_open_device(" + hca->name_ + ")").c_str(), errno));
  if (int err = ibv_query_device(hca->context_, &hca->attr_); err != 0) {
    return Internal(Errno(("ibv_query_device(" + hca->name_ + ")").c_str(), err));
  }
  hca->pd_ = ibv_alloc_pd(hca->context_);
  if (hca->pd_ == nullptr) return Internal(Errno(("ibv_alloc_pd(" + hca->name_ + ")").c_str(), errno));
  ibv_device_attr_ex ex{};
  if (ibv_query_device_ex(hca->context_, nullptr, &ex) == 0) {
    const uint32_t needed = IBV_ODP_SUPPORT_SEND | IBV_ODP_SUPPORT_RECV | IBV_ODP_SUPPORT_WRITE | IBV_ODP_SUPPORT_READ;
    hca->odp_ = (ex.odp_caps.general_caps & IBV_ODP_SUPPORT) != 0 &&
                (ex.odp_caps.per_transport_caps.rc_odp_caps & needed) == needed;
  }
  // Async events are read from progress, never waited for.
  const int flags = fcntl(hca->context_->async_fd, F_GETFL);
  if (flags < 0 || fcntl(hca->context_->async_fd, F_SETFL, flags | O_NONBLOCK) != 0) {
    return Internal(Errno("making the async event descriptor non-blocking", errno));
  }
  return hca;
}

Hca::~Hca() {
  if (pd_ != nullptr) ibv_dealloc_pd(pd_);
  if (context_ != nullptr) ibv_close_device(context_);
}

StatusOr<MemoryRegion> Hca::Register(void* addr, size_t len, bool on_demand) {
  int access = IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE | IBV_ACCESS_REMOTE_READ;
  if (on_demand) access |= IBV_ACCESS_ON_DEMAND;
  ibv_mr* mr = ibv_reg_mr(pd_, addr, len, access);
  if (mr == nullptr) {
    const int err = errno;
    return Status(err == ENOMEM ? MC_ERR_NO_MEMORY : MC_ERR_INTERNAL,
                  "ibv_reg_mr of " + std::to_string(len) + " bytes on " + name_ + " failed: " + std::strerror(err) +
                      (err == ENOMEM ? " (is the locked-memory limit, ulimit -l, too low?)" : ""));
  }
  MemoryRegion region;
  region.addr = reinterpret_cast<uint64_t>(addr);
  region.length = len;
  region.lkey = mr->lkey;
  region.rkey = mr->rkey;
  region.handle = mr;
  return region;
}

void Hca::Deregister(const MemoryRegion& region) {
  if (region.handle != nullptr) ibv_dereg_mr(static_cast<ibv_mr*>(region.handle));
}

void Hca::DrainAsyncEvents(const std::function<void(uint32_t, const std::string&)>& on_qp_error,
                           const std::function<void(const std::string&)>& on_device_error,
                           const std::function<void(mc_log_level_t, const std::string&)>& log) {
  ibv_async_event event;
  while (ibv_get_async_event(context_, &event) == 0) {
    const std::string what = name_ + ": " + ibv_event_type_str(event.event_type);
    switch (event.event_type) {
      case IBV_EVENT_QP_FATAL:
      case IBV_EVENT_QP_REQ_ERR:
      case IBV_EVENT_QP_ACCESS_ERR:
      case IBV_EVENT_PATH_MIG_ERR: {
        const uint32_t qp_num = event.element.qp->qp_num;
        ibv_ack_async_event(&event);
        on_qp_error(qp_num, what);
        continue;
      }
      case IBV_EVENT_DEVICE_FATAL:
        ibv_ack_async_event(&event);
        on_device_error(what);
        continue;
      case IBV_EVENT_PORT_ERR:
      case IBV_EVENT_CQ_ERR: log(MC_LOG_WARN, "rdma: " + what); break;
      default: log(MC_LOG_DEBUG, "rdma: " + what); break;
    }
    ibv_ack_async_event(&event);
  }
}

// ---- port ----

IbvPort::IbvPort(Hca* hca, const PortSetup& setup, const mc_device_props_v1_t& props, std::string netdev)
    : hca_(hca), setup_(setup), props_(props), netdev_(std::move(netdev)) {}

StatusOr<std::unique_ptr<LinkableQueuePairs>> IbvPort::CreateQueuePairs(const QueuePairShape& shape) {
  StatusOr<std::unique_ptr<IbvQueuePairs>> qps = IbvQueuePairs::Create(hca_, setup_, shape);
  if (!qps.ok()) return qps.status();
  return std::unique_ptr<LinkableQueuePairs>(std::move(*qps));
}

// ---- queue pairs ----

StatusOr<std::unique_ptr<IbvQueuePairs>> IbvQueuePairs::Create(Hca* hca, const PortSetup& setup,
                                                               const QueuePairShape& shape) {
  std::unique_ptr<IbvQueuePairs> set(new IbvQueuePairs(hca, setup));
  const ibv_device_attr& attr = hca->attr();
  const uint32_t send_depth = std::min<uint32_t>(shape.send_depth, static_cast<uint32_t>(attr.max_qp_wr));
  const uint32_t recv_depth = shape.recv_depth;
  if (send_depth < shape.send_depth || recv_depth > static_cast<uint32_t>(attr.max_qp_wr)) {
    return InvalidArgument(hca->name() + " allows " + std::to_string(attr.max_qp_wr) +
                           " work requests per queue: lower MC_RDMA_SEND_DEPTH / MC_RDMA_RECV_DEPTH");
  }
  // Room for every completion that can be outstanding: a smaller queue could overflow.
  const uint64_t cqe = uint64_t{static_cast<uint32_t>(shape.count)} * send_depth + recv_depth + 16;
  if (cqe > static_cast<uint64_t>(attr.max_cqe)) {
    return InvalidArgument(hca->name() + " allows completion queues of " + std::to_string(attr.max_cqe) + " entries, " +
                           std::to_string(cqe) +
                           " are needed: lower MC_RDMA_QPS_PER_PEER, MC_RDMA_SEND_DEPTH or MC_RDMA_RECV_DEPTH");
  }
  set->cq_ = ibv_create_cq(hca->context(), static_cast<int>(cqe), nullptr, nullptr, 0);
  if (set->cq_ == nullptr) return Internal(Errno(("ibv_create_cq on " + hca->name()).c_str(), errno));
  set->rd_initiator_ = ClampReads(attr.max_qp_init_rd_atom);
  set->rd_responder_ = ClampReads(attr.max_qp_rd_atom);
  std::random_device random;
  for (int i = 0; i < shape.count; ++i) {
    ibv_qp_init_attr init{};
    init.send_cq = set->cq_;
    init.recv_cq = set->cq_;
    init.qp_type = IBV_QPT_RC;
    init.sq_sig_all = 1;
    init.cap.max_send_wr = send_depth;
    init.cap.max_recv_wr = i == 0 ? recv_depth : 1;  // receives arrive on queue pair 0 only
    init.cap.max_send_sge = 1;
    init.cap.max_recv_sge = 1;
    init.cap.max_inline_data = kWantedInline;
    ibv_qp* qp = ibv_create_qp(hca->pd(), &init);
    if (qp == nullptr) {
      init.cap.max_inline_data = 0;
      qp = ibv_create_qp(hca->pd(), &init);
    }
    if (qp == nullptr) return Internal(Errno(("ibv_create_qp on " + hca->name()).c_str(), errno));
    set->qps_.push_back(qp);
    set->max_inline_ = i == 0 ? init.cap.max_inline_data : std::min(set->max_inline_, init.cap.max_inline_data);
    set->psns_.push_back(random() & 0xffffff);

    ibv_qp_attr a{};
    a.qp_state = IBV_QPS_INIT;
    a.pkey_index = 0;
    a.port_num = setup.port_num;
    a.qp_access_flags = IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE | IBV_ACCESS_REMOTE_READ;
    if (int err = ibv_modify_qp(qp, &a, IBV_QP_STATE | IBV_QP_PKEY_INDEX | IBV_QP_PORT | IBV_QP_ACCESS_FLAGS);
        err != 0) {
      return Internal(Errno("moving a queue pair to INIT", err));
    }
  }
  return set;
}

IbvQueuePairs::~IbvQueuePairs() {
  for (ibv_qp* qp : qps_) ibv_destroy_qp(qp);
  if (cq_ != nullptr) ibv_destroy_cq(cq_);
}

void IbvQueuePairs::Describe(ConnInfo* info) const {
  info->hca_guid = hca_->guid();
  info->lid = setup_.attr.lid;
  info->port = setup_.port_num;
  info->ethernet = setup_.ethernet ? 1 : 0;
  info->mtu = static_cast<uint8_t>(setup_.attr.active_mtu);
  info->rd_initiator = rd_initiator_;
  info->rd_responder = rd_responder_;
  info->gid = setup_.gid.gid;
  info->qpn.clear();
  info->psn = psns_;
  for (ibv_qp* qp : qps_) info->qpn.push_back(qp->qp_num);
}

Status IbvQueuePairs::Link(const ConnInfo& remote) {
  if (remote.qpn.size() != qps_.size()) {
    return ProtocolError("the peer has " + std::to_string(remote.qpn.size()) + " queue pairs, we have " +
                         std::to_string(qps_.size()));
  }
  if ((remote.ethernet != 0) != setup_.ethernet) {
    return InvalidArgument("cannot connect a RoCE port to an InfiniBand port");
  }
  if (setup_.ethernet && IsZeroGid(remote.gid)) return ProtocolError("the RoCE peer sent no GID");
  // InfiniBand routes by LID inside a subnet; a GRH is needed across subnets.
  const bool global = setup_.ethernet || (!IsZeroGid(setup_.gid.gid) && !IsZeroGid(remote.gid) &&
                                          std::memcmp(setup_.gid.gid.data(), remote.gid.data(), 8) != 0);
  read_limit_ = std::min(rd_initiator_, remote.rd_responder);
  const auto mtu = static_cast<ibv_mtu>(std::min<int>(setup_.attr.active_mtu, remote.mtu));
  for (size_t i = 0; i < qps_.size(); ++i) {
    ibv_qp_attr a{};
    a.qp_state = IBV_QPS_RTR;
    a.path_mtu = mtu;
    a.dest_qp_num = remote.qpn[i];
    a.rq_psn = remote.psn[i];
    a.max_dest_rd_atomic = rd_responder_;
    a.min_rnr_timer = kMinRnrTimer;
    a.ah_attr.dlid = remote.lid;
    a.ah_attr.sl = setup_.service_level;
    a.ah_attr.port_num = setup_.port_num;
    if (global) {
      a.ah_attr.is_global = 1;
      std::memcpy(a.ah_attr.grh.dgid.raw, remote.gid.data(), remote.gid.size());
      a.ah_attr.grh.sgid_index = static_cast<uint8_t>(setup_.gid.index);
      a.ah_attr.grh.hop_limit = 255;
      a.ah_attr.grh.traffic_class = setup_.traffic_class;
    }
    if (int err = ibv_modify_qp(qps_[i], &a,
                                IBV_QP_STATE | IBV_QP_AV | IBV_QP_PATH_MTU | IBV_QP_DEST_QPN | IBV_QP_RQ_PSN |
                                    IBV_QP_MAX_DEST_RD_ATOMIC | IBV_QP_MIN_RNR_TIMER);
        err != 0) {
      return Internal(Errno("moving a queue pair to RTR", err));
    }
    ibv_qp_attr s{};
    s.qp_state = IBV_QPS_RTS;
    s.timeout = setup_.ib_timeout;
    s.retry_cnt = setup_.retry_count;
    s.rnr_retry = kRnrRetryForever;
    s.sq_psn = psns_[i];
    s.max_rd_atomic = static_cast<uint8_t>(read_limit_);
    if (int err = ibv_modify_qp(qps_[i], &s,
                                IBV_QP_STATE | IBV_QP_TIMEOUT | IBV_QP_RETRY_CNT | IBV_QP_RNR_RETRY | IBV_QP_SQ_PSN |
                                    IBV_QP_MAX_QP_RD_ATOMIC);
        err != 0) {
      return Internal(Errno("moving a queue pair to RTS", err));
    }
  }
  return Status();
}

int IbvQueuePairs::PostSend(int qp, const SendWork& work) {
  ibv_sge sge{work.sge.addr, work.sge.length, work.sge.lkey};
  ibv_send_wr wr{};
  wr.wr_id = work.wr_id;
  wr.sg_list = &sge;
  wr.num_sge = work.sge.length > 0 ? 1 : 0;
  wr.send_flags = IBV_SEND_SIGNALED | (work.inline_data ? IBV_SEND_INLINE : 0);
  switch (work.op) {
    case WorkOp::kSend: wr.opcode = IBV_WR_SEND; break;
    case WorkOp::kWrite: wr.opcode = IBV_WR_RDMA_WRITE; break;
    case WorkOp::kWriteImm:
      wr.opcode = IBV_WR_RDMA_WRITE_WITH_IMM;
      wr.imm_data = htonl(work.imm);
      break;
    case WorkOp::kRead: wr.opcode = IBV_WR_RDMA_READ; break;
  }
  wr.wr.rdma.remote_addr = work.remote_addr;
  wr.wr.rdma.rkey = work.rkey;
  ibv_send_wr* bad = nullptr;
  return ibv_post_send(qps_[qp], &wr, &bad);
}

int IbvQueuePairs::PostRecv(uint64_t wr_id, const Sge& sge_in) {
  ibv_sge sge{sge_in.addr, sge_in.length, sge_in.lkey};
  ibv_recv_wr wr{};
  wr.wr_id = wr_id;
  wr.sg_list = &sge;
  wr.num_sge = 1;
  ibv_recv_wr* bad = nullptr;
  return ibv_post_recv(qps_[0], &wr, &bad);
}

int IbvQueuePairs::IndexOf(uint32_t qp_num) const {
  for (size_t i = 0; i < qps_.size(); ++i) {
    if (qps_[i]->qp_num == qp_num) return static_cast<int>(i);
  }
  return -1;
}

int IbvQueuePairs::Poll(WorkCompletion* out, int max) {
  ibv_wc wc[32];
  const int n = ibv_poll_cq(cq_, std::min(max, 32), wc);
  if (n < 0) return n;
  for (int i = 0; i < n; ++i) {
    WorkCompletion& c = out[i];
    c = WorkCompletion();
    c.wr_id = wc[i].wr_id;
    c.qp = IndexOf(wc[i].qp_num);
    switch (wc[i].status) {
      case IBV_WC_SUCCESS: c.status = CompletionStatus::kSuccess; break;
      case IBV_WC_WR_FLUSH_ERR: c.status = CompletionStatus::kFlushed; break;
      case IBV_WC_REM_ACCESS_ERR: c.status = CompletionStatus::kRemoteAccess; break;
      default: c.status = CompletionStatus::kError; break;
    }
    if (c.status != CompletionStatus::kSuccess) {
      c.detail = ibv_wc_status_str(wc[i].status);
      continue;  // the opcode and lengths of a failed completion are undefined
    }
    c.is_recv = (wc[i].opcode & IBV_WC_RECV) != 0;
    c.with_imm = wc[i].opcode == IBV_WC_RECV_RDMA_WITH_IMM;
    c.byte_len = wc[i].byte_len;
    if (wc[i].wc_flags & IBV_WC_WITH_IMM) c.imm = ntohl(wc[i].imm_data);
  }
  return n;
}

void IbvQueuePairs::Shutdown() {
  if (shut_down_) return;
  shut_down_ = true;
  for (ibv_qp* qp : qps_) {
    ibv_qp_attr a{};
    a.qp_state = IBV_QPS_ERR;
    ibv_modify_qp(qp, &a, IBV_QP_STATE);
  }
}

}  // namespace mc::rdma
