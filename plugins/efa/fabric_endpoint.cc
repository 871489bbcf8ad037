#include "fabric_endpoint.h"

#include <rdma/fi_cm.h>
#include <rdma/fi_errno.h>

#include "wire_format.h"

namespace mc::efa {
namespace {

bool Check(int rc, const char* what, std::string* error) {
  if (rc == 0) return true;
  *error = std::string(what) + ": " + fi_strerror(rc < 0 ? -rc : rc);
  return false;
}

}  // namespace

bool FabricEndpoint::Open(const Device& device, std::string* error) {
  const fi_info* info = device.info();
  fi_cq_attr cq_attr{};
  cq_attr.format = FI_CQ_FORMAT_TAGGED;
  cq_attr.wait_obj = FI_WAIT_NONE;  // polled; no file descriptor per queue
  cq_attr.size = info->tx_attr->size + info->rx_attr->size + 64;
  fi_av_attr av_attr{};
  av_attr.type = info->domain_attr->av_type != FI_AV_UNSPEC ? info->domain_attr->av_type : FI_AV_TABLE;
  av_attr.count = 2;
  if (!Check(fi_cq_open(device.domain(), &cq_attr, &cq_, nullptr), "fi_cq_open", error) ||
      !Check(fi_av_open(device.domain(), &av_attr, &av_, nullptr), "fi_av_open", error) ||
      !Check(fi_endpoint(device.domain(), device.info(), &ep_, nullptr), "fi_endpoint", error) ||
      !Check(fi_ep_bind(ep_, &cq_->fid, FI_TRANSMIT | FI_RECV), "fi_ep_bind(cq)", error) ||
      !Check(fi_ep_bind(ep_, &av_->fid, 0), "fi_ep_bind(av)", error) || !Check(fi_enable(ep_), "fi_enable", error)) {
    Close();
    return false;
  }
  char name[kMaxFabricNameBytes];
  size_t len = sizeof(name);
  int rc = fi_getname(&ep_->fid, name, &len);
  if (rc == -FI_ETOOSMALL) {
    *error = "the provider's endpoint names are " + std::to_string(len) + " bytes, more than the " +
             std::to_string(kMaxFabricNameBytes) + " the handshake carries";
    Close();
    return false;
  }
  if (!Check(rc, "fi_getname", error)) {
    Close();
    return false;
  }
  name_.assign(name, len);
  return true;
}

void FabricEndpoint::Close() {
  if (ep_ != nullptr) fi_close(&ep_->fid);
  if (av_ != nullptr) fi_close(&av_->fid);
  if (cq_ != nullptr) fi_close(&cq_->fid);
  ep_ = nullptr;
  av_ = nullptr;
  cq_ = nullptr;
  peer_ = FI_ADDR_NOTAVAIL;
}

bool FabricEndpoint::InsertPeer(const std::string& name, std::string* error) {
  fi_addr_t addr = FI_ADDR_NOTAVAIL;
  int inserted = fi_av_insert(av_, name.data(), 1, &addr, 0, nullptr);
  if (inserted != 1 || addr == FI_ADDR_NOTAVAIL) {
    *error = std::string("fi_av_insert of the peer's endpoint name failed") +
             (inserted < 0 ? std::string(": ") + fi_strerror(-inserted) : "");
    return false;
  }
  peer_ = addr;
  return true;
}

}  // namespace mc::efa
