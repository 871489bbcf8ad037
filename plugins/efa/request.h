// What the plugin posts to libfabric. Every posted operation starts with a
// FabricOp, so a completion's op_context leads back to it; the fi_context2
// in front is the room providers with FI_CONTEXT / FI_CONTEXT2 modes use
// while the operation is pending.
#ifndef MOONCOMM_PLUGINS_EFA_REQUEST_H_
#define MOONCOMM_PLUGINS_EFA_REQUEST_H_

#include <rdma/fabric.h>
#include <rdma/fi_domain.h>

#include <cstddef>
#include <cstdint>

#include "intrusive_list.h"
#include "mooncomm/plugin_abi.h"
#include "wire_format.h"

namespace mc::efa {

class Connection;
class Context;

enum class OpKind : uint8_t {
  kSend,         // a tagged send (Request)
  kRecv,         // a tagged receive (Request)
  kPut,          // the RMA write of a put (Request)
  kControlRecv,  // a buffer for the peer's control messages (ControlSlot)
  kControlSend,  // a control message to the peer (ControlSlot)
};

struct FabricOp {
  explicit FabricOp(OpKind k) : kind(k) {}
  fi_context2 provider_space{};
  OpKind kind;
};

// A request handle given to the core: one isend, irecv or iput.
struct Request : FabricOp {
  static constexpr uint32_t kMagic = 0x52414645;  // "EFAR"
  Request(OpKind k, Context* c) : FabricOp(k), ctx(c) {}

  uint32_t magic = kMagic;
  Context* ctx;
  Connection* conn = nullptr;  // null once done

  // The operation.
  void* buf = nullptr;
  size_t len = 0;
  void* desc = nullptr;      // local descriptor, when the provider wants one
  fid_mr* own_mr = nullptr;  // a registration made for this operation alone
  uint64_t tag = 0;
  uint64_t fabric_target = 0;  // put: the address or offset RMA uses
  uint64_t key = 0;            // put: the target's memory key
  uint64_t notify = 0;         // put: the notification's value
  uint64_t target_addr = 0;    // put: the target address as the core gave it
  uint64_t put_seq = 0;        // put: joins data and info at the target
  bool info_sent = false;      // put: PUT_INFO is on its way

  // The outcome.
  bool done = false;
  mc_result_t status = MC_SUCCESS;
  size_t bytes = 0;
  uint64_t completed_tag = 0;

  ListHook<Request> ctx_hook;   // every live request of the context
  ListHook<Request> conn_hook;  // the connection queue or in-flight list it is on
};

// A buffer for control messages, one of a connection's fixed set.
struct ControlSlot : FabricOp {
  ControlSlot() : FabricOp(OpKind::kControlRecv) {}
  Connection* conn = nullptr;
  int index = 0;
  bool posted = false;  // a receive slot handed to the provider / a send slot in use
  alignas(8) uint8_t buf[kControlBufferBytes] = {};
};

}  // namespace mc::efa

#endif  // MOONCOMM_PLUGINS_EFA_REQUEST_H_
