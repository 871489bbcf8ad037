// mc::Collectives: argument checks, the tuner's choice, and the run over the
// survivors. The algorithms themselves are in algos/.
#include "mooncomm/collectives.h"

#include <cstdlib>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "algos/registry.h"
#include "collectives_impl.h"
#include "mooncomm/config.h"
#include "mooncomm/log.h"

namespace mc {
namespace {

using algo::CollArgs;

algo::TopologyInfo LocalTopology(Communicator& comm) {
  algo::TopologyInfo topo;
  topo.world_size = comm.size();
  topo.single_host = true;
  // The slowest link decides: tcp anywhere makes the model a tcp model.
  for (int r = 0; r < comm.size(); ++r) {
    if (r == comm.rank()) continue;
    std::string t = comm.transport_name(r);
    if (t != "shm" && t != "cuda-ipc") topo.single_host = false;
    if (topo.transport.empty() || t == "tcp") {
      topo.transport = t;
      if (auto props = comm.peer_device_props(r); props.ok()) {
        topo.latency_us = props->latency_us;
        topo.bandwidth_gbps = props->bandwidth_gbps;
      }
    }
  }
  return topo;
}

// Every rank must choose the same algorithm and chunking for the same call,
// but transports report per-process figures (a measured copy rate, say), so
// every rank tunes with rank 0's view, passed through the store.
absl::StatusOr<algo::TopologyInfo> AgreedTopology(Communicator& comm) {
  algo::TopologyInfo topo = LocalTopology(comm);
  if (comm.size() == 1) return topo;
  const std::string key = absl::StrCat(comm.store_prefix(), "/collectives/topology");
  if (comm.rank() == 0) {
    std::string value = absl::StrCat(topo.transport, "\n", absl::StrFormat("%a", topo.latency_us), "\n",
                                     absl::StrFormat("%a", topo.bandwidth_gbps), "\n", topo.single_host ? 1 : 0);
    if (absl::Status s = comm.store().Set(key, value); !s.ok()) return s;
    return topo;
  }
  absl::StatusOr<std::string> value = comm.store().Get(key, comm.timeout());
  if (!value.ok()) return value.status();
  std::vector<std::string> parts = absl::StrSplit(*value, '\n');
  if (parts.size() != 4) return absl::DataLossError(absl::StrCat("bad topology record in the store: ", *value));
  topo.transport = parts[0];
  topo.latency_us = std::strtod(parts[1].c_str(), nullptr);
  topo.bandwidth_gbps = std::strtod(parts[2].c_str(), nullptr);
  topo.single_host = parts[3] == "1";
  return topo;
}

std::vector<algo::AlgorithmDesc> EngineAlgorithms() {
  std::vector<algo::AlgorithmDesc> out;
  for (const algo::AlgorithmEntry& e : algo::AllAlgorithms()) out.push_back({e.kind, e.name});
  out.push_back({CollectiveKind::kSendRecv, "direct"});
  out.push_back({CollectiveKind::kSendRecv, "pipelined"});
  return out;
}

absl::Status CheckBuffer(const char* what, const void* p, size_t count) {
  if (p == nullptr && count > 0) return absl::InvalidArgumentError(absl::StrCat(what, ": null buffer with count ", count));
  return absl::OkStatus();
}

bool Overlaps(const void* a, size_t a_bytes, const void* b, size_t b_bytes) {
  auto pa = reinterpret_cast<uintptr_t>(a), pb = reinterpret_cast<uintptr_t>(b);
  return a_bytes > 0 && b_bytes > 0 && pa < pb + b_bytes && pb < pa + a_bytes;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Collectives>> Collectives::Create(Communicator* comm) {
  if (comm == nullptr) return absl::InvalidArgumentError("Collectives::Create: null communicator");
  absl::StatusOr<bool> retry = config::GetBool("MC_COLL_RETRY");
  if (!retry.ok()) return retry.status();
  absl::StatusOr<algo::TopologyInfo> topo = AgreedTopology(*comm);
  if (!topo.ok()) return topo.status();
  absl::StatusOr<algo::Tuner> tuner = algo::Tuner::Create(*topo, EngineAlgorithms());
  if (!tuner.ok()) return tuner.status();
  if (LogThreshold() >= MC_LOG_INFO && comm->rank() == 0) {
    LogLine(MC_LOG_INFO, absl::StrCat("collective algorithms by size:\n", tuner->DescribeMap()).c_str());
  } else {
    for (const std::string& note : tuner->notes()) LogLine(MC_LOG_WARN, note.c_str());
  }
  auto impl = std::make_unique<Impl>(*comm, *retry, std::move(*tuner));
  return std::unique_ptr<Collectives>(new Collectives(std::move(impl)));
}

Collectives::Collectives(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Collectives::~Collectives() = default;

Communicator& Collectives::comm() { return impl_->comm; }
std::string Collectives::DescribeTuning() const { return impl_->tuner.DescribeMap(); }

std::vector<int> Collectives::active_ranks() const { return impl_->runner.alive_ranks(); }

const void* Collectives::Impl::KeepInput(const void* input, size_t bytes) {
  if (!retry || comm.size() == 1 || bytes == 0) return input;
  if (kept_input.size() < bytes) kept_input.resize(bytes);
  std::memcpy(kept_input.data(), input, bytes);
  return kept_input.data();
}

Collectives::Result Collectives::Impl::Run(CollArgs args, size_t bytes, const CollectiveOptions& options) {
  const char* what = CollectiveName(args.kind);
  absl::StatusOr<algo::AlgorithmChoice> choice = tuner.Resolve(args.kind, bytes, options);
  if (!choice.ok()) return choice.status();
  const algo::AlgorithmEntry* entry = algo::FindAlgorithm(args.kind, choice->algorithm);
  if (entry == nullptr) {
    return absl::InternalError(absl::StrCat("no algorithm '", choice->algorithm, "' for ", what));
  }
  args.chunk_bytes = choice->chunk_bytes;
  args.channels = std::max(choice->channels, 1);
  // What every rank must agree it called. allgatherv: the total (every rank
  // passes all counts); alltoallv: per-rank counts legitimately differ.
  algo::CallSignature call;
  call.kind = static_cast<uint8_t>(args.kind);
  call.type = static_cast<uint8_t>(args.type);
  const bool reduces = args.kind == CollectiveKind::kAllreduce || args.kind == CollectiveKind::kReduce ||
                       args.kind == CollectiveKind::kReduceScatter;
  call.op = reduces ? static_cast<uint8_t>(args.op) : 0;
  call.root = args.root;
  if (args.kind == CollectiveKind::kAllgatherv) {
    for (size_t c : args.recv_counts) call.count += c;
  } else if (args.kind != CollectiveKind::kAlltoallv && args.kind != CollectiveKind::kBarrier) {
    call.count = args.count;
  }
  auto participants =
      runner.Run(what, args.root, call, [&](algo::Attempt& attempt) { return entry->run(attempt, args); });
  if (!participants.ok()) return participants.status();
  last_participants = *participants;

  // Blocks of ranks that did not take part are zero-filled, so the result is
  // the same on every survivor.
  if (static_cast<int>(participants->size()) < comm.size() && args.recv != nullptr) {
    std::vector<bool> took_part(comm.size(), false);
    for (int r : *participants) took_part[r] = true;
    const size_t E = args.elem;
    for (int r = 0; r < comm.size(); ++r) {
      if (took_part[r]) continue;
      switch (args.kind) {
        case CollectiveKind::kAllgather:
        case CollectiveKind::kAlltoall:
          std::memset(args.recv_bytes() + r * args.count * E, 0, args.count * E);
          break;
        case CollectiveKind::kGather:
          if (comm.rank() == args.root) std::memset(args.recv_bytes() + r * args.count * E, 0, args.count * E);
          break;
        case CollectiveKind::kAllgatherv:
        case CollectiveKind::kAlltoallv:
          std::memset(args.recv_bytes() + args.recv_displs[r] * E, 0, args.recv_counts[r] * E);
          break;
        default:
          break;
      }
    }
  }
  return CollectiveResult{*participants, entry->name};
}

Collectives::Result Collectives::Allreduce(const void* send, void* recv, size_t count, DataType type, ReduceOp op,
                                           const CollectiveOptions& options) {
  CollArgs a;
  a.kind = CollectiveKind::kAllreduce;
  a.send = send;
  a.recv = recv;
  a.count = count;
  a.type = type;
  a.elem = DataTypeSize(type);
  a.op = op;
  if (auto s = CheckBuffer("allreduce send", send, count); !s.ok()) return s;
  if (auto s = CheckBuffer("allreduce recv", recv, count); !s.ok()) return s;
  if (send == recv) a.send = impl_->KeepInput(send, count * a.elem);
  return impl_->Run(a, count * a.elem, options);
}

Collectives::Result Collectives::Allgather(const void* send, void* recv, size_t count, DataType type,
                                           const CollectiveOptions& options) {
  CollArgs a;
  a.kind = CollectiveKind::kAllgather;
  a.send = send;
  a.recv = recv;
  a.count = count;
  a.type = type;
  a.elem = DataTypeSize(type);
  if (auto s = CheckBuffer("allgather send", send, count); !s.ok()) return s;
  if (auto s = CheckBuffer("allgather recv", recv, count); !s.ok()) return s;
  return impl_->Run(a, count * a.elem * impl_->comm.size(), options);
}

Collectives::Result Collectives::Allgatherv(const void* send, void* recv, absl::Span<const size_t> counts,
                                            absl::Span<const size_t> displs, DataType type,
                                            const CollectiveOptions& options) {
  const int n = impl_->comm.size();
  if (static_cast<int>(counts.size()) != n || static_cast<int>(displs.size()) != n) {
    return absl::InvalidArgumentError(absl::StrCat("allgatherv: counts and displs must have one entry per rank (", n,
                                                   "), got ", counts.size(), " and ", displs.size()));
  }
  CollArgs a;
  a.kind = CollectiveKind::kAllgatherv;
  a.send = send;
  a.recv = recv;
  a.count = counts[impl_->comm.rank()];
  a.type = type;
  a.elem = DataTypeSize(type);
  a.recv_counts = counts;
  a.recv_displs = displs;
  size_t total = 0;
  for (size_t c : counts) total += c;
  if (auto s = CheckBuffer("allgatherv send", send, a.count); !s.ok()) return s;
  if (auto s = CheckBuffer("allgatherv recv", recv, total); !s.ok()) return s;
  return impl_->Run(a, total * a.elem, options);
}

Collectives::Result Collectives::ReduceScatter(const void* send, void* recv, size_t recv_count, DataType type,
                                               ReduceOp op, const CollectiveOptions& options) {
  const size_t E = DataTypeSize(type), n = impl_->comm.size();
  CollArgs a;
  a.kind = CollectiveKind::kReduceScatter;
  a.send = send;
  a.recv = recv;
  a.count = recv_count;
  a.type = type;
  a.elem = E;
  a.op = op;
  if (auto s = CheckBuffer("reduce_scatter send", send, recv_count); !s.ok()) return s;
  if (auto s = CheckBuffer("reduce_scatter recv", recv, recv_count); !s.ok()) return s;
  if (Overlaps(send, n * recv_count * E, recv, recv_count * E)) {
    if (recv != static_cast<const char*>(send) + impl_->comm.rank() * recv_count * E) {
      return absl::InvalidArgumentError(
          "reduce_scatter: recv overlaps send but is not this rank's block of it (the in-place form)");
    }
    a.send = impl_->KeepInput(send, n * recv_count * E);
  }
  return impl_->Run(a, n * recv_count * E, options);
}

Collectives::Result Collectives::Broadcast(void* buf, size_t count, DataType type, int root,
                                           const CollectiveOptions& options) {
  if (root < 0 || root >= impl_->comm.size()) {
    return absl::InvalidArgumentError(absl::StrCat("broadcast: root ", root, " is not a rank of ", impl_->comm.size()));
  }
  if (auto s = CheckBuffer("broadcast", buf, count); !s.ok()) return s;
  CollArgs a;
  a.kind = CollectiveKind::kBroadcast;
  a.send = buf;
  a.recv = buf;
  a.count = count;
  a.type = type;
  a.elem = DataTypeSize(type);
  a.root = root;
  return impl_->Run(a, count * a.elem, options);
}

Collectives::Result Collectives::Reduce(const void* send, void* recv, size_t count, DataType type, ReduceOp op,
                                        int root, const CollectiveOptions& options) {
  if (root < 0 || root >= impl_->comm.size()) {
    return absl::InvalidArgumentError(absl::StrCat("reduce: root ", root, " is not a rank of ", impl_->comm.size()));
  }
  const bool is_root = impl_->comm.rank() == root;
  if (auto s = CheckBuffer("reduce send", send, count); !s.ok()) return s;
  if (is_root) {
    if (auto s = CheckBuffer("reduce recv", recv, count); !s.ok()) return s;
  }
  CollArgs a;
  a.kind = CollectiveKind::kReduce;
  a.send = send;
  a.recv = recv;
  a.count = count;
  a.type = type;
  a.elem = DataTypeSize(type);
  a.op = op;
  a.root = root;
  if (is_root && send == recv) a.send = impl_->KeepInput(send, count * a.elem);
  return impl_->Run(a, count * a.elem, options);
}

Collectives::Result Collectives::Alltoall(const void* send, void* recv, size_t count, DataType type,
                                          const CollectiveOptions& options) {
  const size_t E = DataTypeSize(type), n = impl_->comm.size();
  if (auto s = CheckBuffer("alltoall send", send, count); !s.ok()) return s;
  if (auto s = CheckBuffer("alltoall recv", recv, count); !s.ok()) return s;
  CollArgs a;
  a.kind = CollectiveKind::kAlltoall;
  a.send = send;
  a.recv = recv;
  a.count = count;
  a.type = type;
  a.elem = E;
  if (send == recv) a.send = impl_->KeepInput(send, n * count * E);
  return impl_->Run(a, n * count * E, options);
}

Collectives::Result Collectives::Alltoallv(const void* send, absl::Span<const size_t> send_counts,
                                           absl::Span<const size_t> send_displs, void* recv,
                                           absl::Span<const size_t> recv_counts,
                                           absl::Span<const size_t> recv_displs, DataType type,
                                           const CollectiveOptions& options) {
  const size_t n = impl_->comm.size();
  if (send_counts.size() != n || send_displs.size() != n || recv_counts.size() != n || recv_displs.size() != n) {
    return absl::InvalidArgumentError(
        absl::StrCat("alltoallv: counts and displacements must have one entry per rank (", n, ")"));
  }
  // Two null buffers (nothing to send or receive anywhere) are not "in place".
  if (send == recv && send != nullptr) {
    return absl::InvalidArgumentError("alltoallv: in place (send == recv) is not supported");
  }
  size_t sent = 0, received = 0;
  for (size_t r = 0; r < n; ++r) {
    sent += send_counts[r];
    received += recv_counts[r];
  }
  if (auto s = CheckBuffer("alltoallv send", send, sent); !s.ok()) return s;
  if (auto s = CheckBuffer("alltoallv recv", recv, received); !s.ok()) return s;
  CollArgs a;
  a.kind = CollectiveKind::kAlltoallv;
  a.send = send;
  a.recv = recv;
  a.count = 0;
  a.type = type;
  a.elem = DataTypeSize(type);
  a.send_counts = send_counts;
  a.send_displs = send_displs;
  a.recv_counts = recv_counts;
  a.recv_displs = recv_displs;
  return impl_->Run(a, std::max(sent, received) * a.elem, options);
}

Collectives::Result Collectives::Gather(const void* send, void* recv, size_t count, DataType type, int root,
                                        const CollectiveOptions& options) {
  if (root < 0 || root >= impl_->comm.size()) {
    return absl::InvalidArgumentError(absl::StrCat("gather: root ", root, " is not a rank of ", impl_->comm.size()));
  }
  if (auto s = CheckBuffer("gather send", send, count); !s.ok()) return s;
  if (impl_->comm.rank() == root) {
    if (auto s = CheckBuffer("gather recv", recv, count); !s.ok()) return s;
  }
  CollArgs a;
  a.kind = CollectiveKind::kGather;
  a.send = send;
  a.recv = recv;
  a.count = count;
  a.type = type;
  a.elem = DataTypeSize(type);
  a.root = root;
  return impl_->Run(a, count * a.elem * impl_->comm.size(), options);
}

Collectives::Result Collectives::Scatter(const void* send, void* recv, size_t count, DataType type, int root,
                                         const CollectiveOptions& options) {
  if (root < 0 || root >= impl_->comm.size()) {
    return absl::InvalidArgumentError(absl::StrCat("scatter: root ", root, " is not a rank of ", impl_->comm.size()));
  }
  if (auto s = CheckBuffer("scatter recv", recv, count); !s.ok()) return s;
  if (impl_->comm.rank() == root) {
    if (auto s = CheckBuffer("scatter send", send, count); !s.ok()) return s;
  }
  CollArgs a;
  a.kind = CollectiveKind::kScatter;
  a.send = send;
  a.recv = recv;
  a.count = count;
  a.type = type;
  a.elem = DataTypeSize(type);
  a.root = root;
  return impl_->Run(a, count * a.elem * impl_->comm.size(), options);
}

Collectives::Result Collectives::Barrier(const CollectiveOptions& options) {
  CollArgs a;
  a.kind = CollectiveKind::kBarrier;
  a.count = 0;
  return impl_->Run(a, 0, options);
}

}  // namespace mc
