// Point-to-point through the collectives: Send / Recv cut a large message
// into chunks with several in flight when the tuner says so, and grouped
// send / receive posts a whole batch before waiting on any of it.
#include <algorithm>

#include "absl/strings/str_cat.h"
#include "collectives_impl.h"
#include "engine/tags.h"
#include "mooncomm/collectives.h"

namespace mc {
namespace {

absl::Status CheckTag(uint64_t tag) {
  if (tag & algo::kCollectiveTagBit) {
    return absl::InvalidArgumentError(absl::StrCat("tag ", tag, " uses bit 63, which is reserved for collectives"));
  }
  return absl::OkStatus();
}

// Posts one message as chunks (all with `tag`: matching keeps their order),
// at most `window` in flight, and waits for all.
template <typename PostFn>
absl::Status Chunked(Communicator& comm, size_t bytes, size_t chunk, int window, PostFn post) {
  const size_t chunks = bytes == 0 ? 1 : (bytes + chunk - 1) / chunk;
  std::vector<Request> reqs(std::min<size_t>(chunks, std::max(window, 1)));
  absl::Status first;
  for (size_t c = 0; c < chunks; ++c) {
    Request& slot = reqs[c % reqs.size()];
    if (slot.pending()) {
      absl::Status s = comm.Wait(slot);
      if (first.ok()) first = s;
    }
    if (!first.ok()) break;
    size_t begin = std::min(bytes, c * chunk);
    absl::Status s = post(begin, std::min(chunk, bytes - begin), &slot);
    if (!s.ok()) {
      first = s;
      break;
    }
  }
  absl::Status rest = comm.WaitAll(absl::MakeSpan(reqs));
  return first.ok() ? rest : first;
}

}  // namespace

absl::Status Collectives::Send(int peer, uint64_t tag, const void* buf, size_t bytes) {
  if (absl::Status s = CheckTag(tag); !s.ok()) return s;
  algo::AlgorithmChoice c = impl_->tuner.Choose(CollectiveKind::kSendRecv, bytes);
  Communicator& comm = impl_->comm;
  if (c.algorithm != "pipelined" || c.chunk_bytes == 0 || c.chunk_bytes >= bytes) return comm.Send(peer, tag, buf, bytes);
  const char* p = static_cast<const char*>(buf);
  return Chunked(comm, bytes, c.chunk_bytes, c.channels * 4, [&](size_t off, size_t len, Request* req) {
    return comm.Isend(peer, tag, p + off, len, req);
  });
}

absl::Status Collectives::Recv(int peer, uint64_t tag, void* buf, size_t bytes) {
  if (absl::Status s = CheckTag(tag); !s.ok()) return s;
  algo::AlgorithmChoice c = impl_->tuner.Choose(CollectiveKind::kSendRecv, bytes);
  Communicator& comm = impl_->comm;
  if (c.algorithm != "pipelined" || c.chunk_bytes == 0 || c.chunk_bytes >= bytes) return comm.Recv(peer, tag, buf, bytes);
  char* p = static_cast<char*>(buf);
  return Chunked(comm, bytes, c.chunk_bytes, c.channels * 4, [&](size_t off, size_t len, Request* req) {
    return comm.Irecv(peer, tag, p + off, len, req);
  });
}

absl::Status Collectives::GroupedSendRecv(absl::Span<const P2POp> ops) {
  Communicator& comm = impl_->comm;
  for (const P2POp& op : ops) {
    if (absl::Status s = CheckTag(op.tag); !s.ok()) return s;
    if (op.peer < 0 || op.peer >= comm.size() || op.peer == comm.rank()) {
      return absl::InvalidArgumentError(absl::StrCat("grouped send/recv: peer ", op.peer, " is not another rank of ",
                                                     comm.size()));
    }
    if (op.buf == nullptr && op.bytes > 0) return absl::InvalidArgumentError("grouped send/recv: null buffer");
  }
  // Receives first, then sends, all posted before any wait: whatever order
  // the peers post theirs in, every send finds its receive.
  std::vector<Request> reqs(ops.size());
  absl::Status first;
  for (int pass = 0; pass < 2; ++pass) {
    for (size_t i = 0; i < ops.size(); ++i) {
      const P2POp& op = ops[i];
      if ((op.kind == P2POp::kRecv) != (pass == 0)) continue;
      absl::Status s = op.kind == P2POp::kRecv ? comm.Irecv(op.peer, op.tag, op.buf, op.bytes, &reqs[i])
                                               : comm.Isend(op.peer, op.tag, op.buf, op.bytes, &reqs[i]);
      if (first.ok() && !s.ok()) first = s;
    }
  }
  absl::Status rest = comm.WaitAll(absl::MakeSpan(reqs));
  return first.ok() ? rest : first;
}

}  // namespace mc
