// The libfabric objects of one connection: an RDM endpoint with its own
// completion queue and a one-entry address vector holding the peer.
//
// A connection owns a whole endpoint (rather than sharing one per device and
// putting a connection id into the tag) for two reasons: MoonComm tags are
// full 64-bit values, which leaves no tag bits for an id; and closing the
// endpoint is the one sure way to make the provider let go of every buffer
// of the connection's pending operations (send cancellation is optional in
// libfabric), which close() and a lost peer need.
#ifndef MOONCOMM_PLUGINS_EFA_FABRIC_ENDPOINT_H_
#define MOONCOMM_PLUGINS_EFA_FABRIC_ENDPOINT_H_

#include <rdma/fabric.h>
#include <rdma/fi_domain.h>
#include <rdma/fi_endpoint.h>

#include <string>

#include "fabric_device.h"

namespace mc::efa {

class FabricEndpoint {
 public:
  FabricEndpoint() = default;
  ~FabricEndpoint() { Close(); }
  FabricEndpoint(const FabricEndpoint&) = delete;
  FabricEndpoint& operator=(const FabricEndpoint&) = delete;

  bool Open(const Device& device, std::string* error);
  // Closes the endpoint, then its queue and address vector. From here on the
  // provider holds no reference to any operation posted on it.
  void Close();
  bool is_open() const { return ep_ != nullptr; }

  // The peer's endpoint name (fi_getname on its side).
  bool InsertPeer(const std::string& name, std::string* error);
  bool has_peer() const { return peer_ != FI_ADDR_NOTAVAIL; }

  fid_ep* ep() const { return ep_; }
  fid_cq* cq() const { return cq_; }
  fi_addr_t peer() const { return peer_; }
  const std::string& name() const { return name_; }

 private:
  fid_ep* ep_ = nullptr;
  fid_cq* cq_ = nullptr;
  fid_av* av_ = nullptr;
  fi_addr_t peer_ = FI_ADDR_NOTAVAIL;
  std::string name_;
};

}  // namespace mc::efa

#endif  // MOONCOMM_PLUGINS_EFA_FABRIC_ENDPOINT_H_
