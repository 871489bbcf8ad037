#include "context.h"

#include <sys/epoll.h>
#include <sys/random.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "endpoint.h"
#include "listen_address.h"
#include "listener.h"
#include "side_socket.h"
#include "ucx_status.h"
#include "ucx_tls.h"

namespace mc::ucx {
namespace {

constexpr int kEventsPerPoll = 64;
constexpr auto kSocketPollInterval = std::chrono::milliseconds(1);
constexpr auto kDeadlineCheckInterval = std::chrono::milliseconds(50);
constexpr auto kFinalizeGrace = std::chrono::seconds(2);
constexpr auto kSettleLimit = std::chrono::milliseconds(300);
constexpr int kSettleIdleRounds = 1000;
constexpr int kDrainRounds = 64;
constexpr uint32_t kCallsPerClockRead = 32;  // a power of two
constexpr size_t kSpareRequests = 1024;

uint64_t RandomNonce() {
  uint64_t nonce = 0;
  if (getrandom(&nonce, sizeof(nonce), 0) != sizeof(nonce)) {
    const auto now = static_cast<uint64_t>(Clock::now().time_since_epoch().count());
    nonce = now ^ (uint64_t{static_cast<uint32_t>(getpid())} << 32);
  }
  return nonce;
}

}  // namespace

// ---- life cycle ----

mc_result_t UcxContext::Create(const mc_host_v1_t& host, UcxContext** out, std::string* why) {
  UcxConfig config;
  if (!ReadUcxConfig(host, &config, why)) return MC_ERR_INVALID_ARG;
  // The loader (ucx_loader.cc) checked this before loading us; again here for
  // a process that loads this file directly.
  if (!WorthRunning(std::getenv("UCX_TLS"), HasRdmaDevice(kRdmaSysfsDir))) {
    *why = kNotWorthRunning;
    return MC_ERR_NO_DEVICE;
  }
  NetInterface interface;
  if (!ChooseInterface(config.interface, &interface, why)) return MC_ERR_NO_DEVICE;
  auto* ctx = new UcxContext(host, std::move(config), std::move(interface));
  ctx->epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  if (ctx->epoll_fd_ < 0) {
    *why = "epoll_create1 failed: " + DescribeErrno(errno);
    delete ctx;
    return MC_ERR_INTERNAL;
  }
  if (!ctx->StartUcx(why)) {
    delete ctx;
    return MC_ERR_NO_DEVICE;
  }
  ctx->Log(MC_LOG_INFO, "ucx: " + ctx->device_name_ + ", side connections on " + ctx->interface_.name + " (" +
                            FormatSockaddr(ctx->interface_.address) + "), UCP error handling " +
                            (ctx->error_mode_ == UCP_ERR_HANDLING_MODE_PEER ? "peer" : "none"));
  *out = ctx;
  return MC_SUCCESS;
}

UcxContext::UcxContext(const mc_host_v1_t& host, UcxConfig config, NetInterface interface)
    : host_(host), config_(std::move(config)), interface_(std::move(interface)) {
  const char* tls = std::getenv("UCX_TLS");
  device_name_ = std::string("ucx(") + (tls != nullptr && *tls != '\0' ? tls : "all") + ")";
  if (device_name_.size() >= MC_MAX_NAME_BYTES) device_name_ = device_name_.substr(0, MC_MAX_NAME_BYTES - 5) + "...)";
  same_host_only_ = OnlyHostLocalTransports(tls);
  // UCX 1.13's shared-memory transports cannot report a peer's failure, so
  // in peer mode UCX would refuse them; the side connection covers liveness.
  switch (config_.error_mode) {
    case ErrorMode::kPeer:
      error_mode_ = UCP_ERR_HANDLING_MODE_PEER;
      break;
    case ErrorMode::kNone:
      error_mode_ = UCP_ERR_HANDLING_MODE_NONE;
      break;
    case ErrorMode::kAuto:
      error_mode_ = same_host_only_ ? UCP_ERR_HANDLING_MODE_NONE : UCP_ERR_HANDLING_MODE_PEER;
      break;
  }
}

bool UcxContext::FallBackToNoErrorHandling() {
  if (config_.error_mode != ErrorMode::kAuto) return false;
  if (error_mode_ != UCP_ERR_HANDLING_MODE_NONE) {
    Log(MC_LOG_WARN, "ucx: no UCX transport to this peer can report failures; using UCP error handling mode "
                     "none (set MC_UCX_ERROR_MODE to choose)");
  }
  error_mode_ = UCP_ERR_HANDLING_MODE_NONE;
  return true;
}

bool UcxContext::StartUcx(std::string* why) {
  ucp_config_t* ucp_config = nullptr;
  ucs_status_t status = ucp_config_read(nullptr, nullptr, &ucp_config);
  if (status != UCS_OK) {
    *why = std::string("reading the UCX configuration failed: ") + ucs_status_string(status);
    return false;
  }
  ucp_params_t params{};
  params.field_mask = UCP_PARAM_FIELD_FEATURES | UCP_PARAM_FIELD_NAME;
  params.features = UCP_FEATURE_TAG | UCP_FEATURE_RMA;
  params.name = "mooncomm";
  status = ucp_init(&params, ucp_config, &ucp_);
  ucp_config_release(ucp_config);
  if (status != UCS_OK) {
    ucp_ = nullptr;
    *why = std::string("ucp_init failed: ") + ucs_status_string(status) + " (check UCX_TLS / UCX_NET_DEVICES)";
    return false;
  }
  ucp_context_attr_t attr{};
  attr.field_mask = UCP_ATTR_FIELD_MEMORY_TYPES;
  if (ucp_context_query(ucp_, &attr) == UCS_OK) memory_types_ = attr.memory_types;

  ucp_worker_params_t worker_params{};
  worker_params.field_mask = UCP_WORKER_PARAM_FIELD_THREAD_MODE;
  worker_params.thread_mode = UCS_THREAD_MODE_SINGLE;
  status = ucp_worker_create(ucp_, &worker_params, &worker_);
  if (status != UCS_OK) {
    worker_ = nullptr;
    *why = std::string("ucp_worker_create failed: ") + ucs_status_string(status);
    return false;
  }
  ucp_address_t* address = nullptr;
  size_t address_len = 0;
  status = ucp_worker_get_address(worker_, &address, &address_len);
  if (status != UCS_OK) {
    *why = std::string("ucp_worker_get_address failed: ") + ucs_status_string(status);
    return false;
  }
  worker_address_.assign(reinterpret_cast<const char*>(address), address_len);
  ucp_worker_release_address(worker_, address);
  PostControlReceive();
  return true;
}

UcxContext::~UcxContext() {
  in_progress_ = true;  // no host callbacks from here on
  SettleUcx();
  for (auto& [id, ep] : endpoints_) ep->ForceTeardown();
  for (auto& listener : listeners_) listener->Close();
  if (control_request_ != nullptr && worker_ != nullptr) ucp_request_cancel(worker_, control_request_);
  // Give UCX a moment to finish the closes and cancels it was asked for.
  const Clock::time_point give_up = Clock::now() + kFinalizeGrace;
  auto busy = [this] {
    if (control_request_ != nullptr || !control_sends_.empty()) return true;
    for (auto& [id, ep] : endpoints_) {
      if (!ep->TeardownDone()) return true;
    }
    for (Request* r = live_requests_; r != nullptr; r = r->live_next) {
      if (r->ucx != nullptr) return true;
    }
    return false;
  };
  while (worker_ != nullptr && busy() && Clock::now() < give_up) ucp_worker_progress(worker_);
  DrainControlMessages();
  // Whatever UCX did not finish is released without callbacks.
  for (auto& [id, ep] : endpoints_) ep->AbandonUcx();
  if (control_request_ != nullptr) ucp_request_free(control_request_);
  control_request_ = nullptr;
  for (OutgoingControl* oc : control_sends_) {
    if (oc->request != nullptr) ucp_request_free(oc->request);
    delete oc;
  }
  control_sends_.clear();
  for (Request* r = live_requests_; r != nullptr; r = r->live_next) {
    if (r->ucx != nullptr) ucp_request_free(r->ucx);
    r->ucx = nullptr;
  }
  for (RemoteKey* key : remote_keys_) {
    if (key->handle != nullptr) ucp_rkey_destroy(key->handle);
    delete key;
  }
  remote_keys_.clear();
  for (Registration* mr : registrations_) {
    if (mr->memh != nullptr) ucp_mem_unmap(ucp_, mr->memh);
    delete mr;
  }
  registrations_.clear();
  if (worker_ != nullptr) ucp_worker_destroy(worker_);
  if (ucp_ != nullptr) ucp_cleanup(ucp_);
  worker_ = nullptr;
  ucp_ = nullptr;
  closing_.clear();
  endpoints_.clear();
  listeners_.clear();
  dead_listeners_.clear();
  while (live_requests_ != nullptr) FreeRequest(live_requests_);
  for (Request* r : spare_requests_) delete r;
  spare_requests_.clear();
  if (epoll_fd_ >= 0) close(epoll_fd_);
  epoll_fd_ = -1;
  magic_ = 0;
}

void UcxContext::SettleUcx() {
  // UCX 1.13 asserts when ucp_worker_destroy purges an endpoint whose wireup
  // reply is still queued (fixed upstream after 1.13): let wireup messages in
  // flight go out before anything is closed.
  if (worker_ == nullptr) return;
  const Clock::time_point give_up = Clock::now() + kSettleLimit;
  int idle_rounds = 0;
  while (idle_rounds < kSettleIdleRounds && Clock::now() < give_up) {
    idle_rounds = ucp_worker_progress(worker_) != 0 ? 0 : idle_rounds + 1;
  }
}

void UcxContext::DrainControlMessages() {
  // Control messages that came after the control receive was cancelled (a
  // peer's BYE as both sides shut down): take them, so that UCX does not warn
  // about unmatched messages when the worker goes.
  if (worker_ == nullptr) return;
  const Clock::time_point give_up = Clock::now() + kSettleLimit;
  while (Clock::now() < give_up) {
    ucp_tag_recv_info_t info{};
    ucp_tag_message_h message = ucp_tag_probe_nb(worker_, kAnyControlTag, kKindMask, /*remove=*/1, &info);
    if (message == nullptr) return;
    ControlMessage scratch;
    ucp_request_param_t param{};
    ucs_status_ptr_t sp = ucp_tag_msg_recv_nbx(worker_, &scratch, sizeof(scratch), message, &param);
    if (!UCS_PTR_IS_PTR(sp)) continue;
    while (ucp_request_check_status(sp) == UCS_INPROGRESS && Clock::now() < give_up) ucp_worker_progress(worker_);
    ucp_request_free(sp);
  }
}

void UcxContext::Log(mc_log_level_t level, const std::string& message) const {
  if (host_.log != nullptr) host_.log(host_.ctx, level, message.c_str());
}

// ---- devices ----

mc_result_t UcxContext::DeviceProps(int dev, mc_device_props_v1_t* props) const {
  if (dev != 0) return MC_ERR_INVALID_ARG;
  *props = mc_device_props_v1_t{};
  std::snprintf(props->name, sizeof(props->name), "%s", device_name_.c_str());
  props->pci_path[0] = '\0';
  props->numa_node = -1;
  props->rail = 0;
  // UCP does not tell which transport an endpoint will use, or at what speed.
  props->bandwidth_gbps = 0;
  props->latency_us = 0;
  props->mem_kinds = MC_MEM_KIND_BIT(MC_MEM_HOST);
  if (memory_types_ & UCS_BIT(UCS_MEMORY_TYPE_CUDA)) props->mem_kinds |= MC_MEM_KIND_BIT(MC_MEM_CUDA);
  props->same_host_only = same_host_only_ ? 1 : 0;
  props->max_message_bytes = kMaxMessageBytes;
  return MC_SUCCESS;
}

// ---- connections ----

mc_result_t UcxContext::Listen(int dev, void* addr, size_t* addr_len, Listener** out) {
  if (dev != 0) return MC_ERR_INVALID_ARG;
  if (*addr_len < kListenAddressBytes) {
    Log(MC_LOG_ERROR, "ucx: listen needs " + std::to_string(kListenAddressBytes) + " address bytes, got room for " +
                          std::to_string(*addr_len));
    return MC_ERR_NO_MEMORY;
  }
  ListenAddress address;
  std::string why;
  const int fd = OpenListener(interface_.address, &address.sockaddr, &why);
  if (fd < 0) {
    Log(MC_LOG_ERROR, "ucx: listen failed: " + why);
    return MC_ERR_INTERNAL;
  }
  address.nonce = RandomNonce();
  listeners_.push_back(std::make_unique<Listener>(this, fd, address));
  EncodeListenAddress(address, static_cast<uint8_t*>(addr));
  *addr_len = kListenAddressBytes;
  *out = listeners_.back().get();
  return MC_SUCCESS;
}

mc_result_t UcxContext::CloseListener(Listener* listener) {
  listener->Close();
  auto it = std::find_if(listeners_.begin(), listeners_.end(), [&](const auto& l) { return l.get() == listener; });
  if (it != listeners_.end()) {
    dead_listeners_.push_back(std::move(*it));
    listeners_.erase(it);
  }
  return MC_SUCCESS;
}

mc_result_t UcxContext::Connect(int dev, const void* addr, size_t addr_len, const void* hello, size_t hello_len,
                                Endpoint** out) {
  if (dev != 0) return MC_ERR_INVALID_ARG;
  ListenAddress address;
  std::string why;
  if (!DecodeListenAddress(addr, addr_len, &address, &why)) {
    Log(MC_LOG_ERROR, "ucx: connect: " + why);
    return MC_ERR_INVALID_ARG;
  }
  Endpoint* ep = NewEndpoint();
  if (ep == nullptr) {
    Log(MC_LOG_ERROR, "ucx: connect: every endpoint id is in use");
    return MC_ERR_NO_MEMORY;
  }
  // Handed out before the connect starts, so that a failure right away is reported.
  ep->MarkHandedOut();
  ep->StartConnect(address, hello, hello_len);
  *out = ep;
  return MC_SUCCESS;
}

mc_result_t UcxContext::CloseEndpoint(Endpoint* ep) {
  ep->Close();
  return MC_SUCCESS;
}

Endpoint* UcxContext::NewEndpoint() {
  for (uint32_t attempt = 0; attempt < kMaxEndpointId; ++attempt) {
    const uint32_t id = next_endpoint_id_;
    next_endpoint_id_ = next_endpoint_id_ >= kMaxEndpointId ? 1 : next_endpoint_id_ + 1;
    if (endpoints_.contains(id)) continue;
    auto ep = std::make_unique<Endpoint>(this, id, next_endpoint_serial_++);
    Endpoint* raw = ep.get();
    endpoints_.emplace(id, std::move(ep));
    return raw;
  }
  return nullptr;
}

Endpoint* UcxContext::FindEndpoint(uint32_t id) const {
  auto it = endpoints_.find(id);
  return it == endpoints_.end() ? nullptr : it->second.get();
}

void UcxContext::Watch(int fd, SocketWatcher* watcher, uint32_t events) {
  epoll_event ev{};
  ev.events = events;
  ev.data.ptr = watcher;
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, fd, &ev) != 0 && errno == ENOENT) {
    epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev);
  }
}

void UcxContext::Unwatch(int fd) { epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr); }

// ---- progress ----

mc_result_t UcxContext::Progress() {
  if (in_progress_) return MC_SUCCESS;  // a host callback called back in: nothing nests
  in_progress_ = true;
  HandleUcxEvents();
  if (!closing_.empty() || !dead_listeners_.empty()) Sweep();
  ucp_worker_progress(worker_);
  HandleUcxEvents();
  // The clock is read every kCallsPerClockRead calls only: this is the hot
  // loop of every wait, and the side connections need no finer watch.
  if (handshakes_ > 0 || (++calls_since_clock_read_ & (kCallsPerClockRead - 1)) == 0) PollSockets(/*force=*/false);
  if (!reports_.empty()) ReportFailures();
  in_progress_ = false;
  return MC_SUCCESS;
}

void UcxContext::DrainUcx() {
  for (int round = 0; round < kDrainRounds; ++round) {
    if (ucp_worker_progress(worker_) == 0) break;
  }
  HandleUcxEvents();
}

void UcxContext::HandleUcxEvents() {
  for (;;) {
    if (control_ready_) {
      PostControlReceive();  // delivers it, then receives the next
      continue;
    }
    if (!ucx_errors_.empty()) {
      std::vector<std::pair<Endpoint*, ucs_status_t>> errors;
      errors.swap(ucx_errors_);
      for (auto& [ep, status] : errors) {
        ep->Fail(std::string("UCX reported ") + ucs_status_string(status) + " on the endpoint to " +
                 ep->peer_name());
      }
      continue;
    }
    if (!flushed_puts_.empty()) {
      std::vector<Request*> puts;
      puts.swap(flushed_puts_);
      for (Request* r : puts) {
        if (r->ep != nullptr && r->fail_status == MC_SUCCESS && r->ep->state() == Endpoint::State::kOpen) {
          r->ep->OnPutFlushed(r);
        } else {
          Finish(r, r->fail_status != MC_SUCCESS ? r->fail_status : MC_ERR_PEER_LOST, 0);
        }
      }
      continue;
    }
    return;
  }
}

void UcxContext::PollSockets(bool force) {
  const Clock::time_point now = Clock::now();
  if (!force && handshakes_ == 0 && now < next_socket_poll_) return;
  next_socket_poll_ = now + kSocketPollInterval;
  epoll_event events[kEventsPerPoll];
  const int n = epoll_wait(epoll_fd_, events, kEventsPerPoll, 0);
  for (int i = 0; i < n; ++i) {
    auto* watcher = static_cast<SocketWatcher*>(events[i].data.ptr);
    if (watcher->watching()) watcher->OnSocketEvents(events[i].events);
  }
  if (handshakes_ > 0 && now >= next_deadline_check_) {
    next_deadline_check_ = now + kDeadlineCheckInterval;
    std::vector<Endpoint*> handshaking;
    for (auto& [id, ep] : endpoints_) {
      if (ep->handshaking() && !ep->closed()) handshaking.push_back(ep.get());
    }
    for (Endpoint* ep : handshaking) ep->CheckHandshakeDeadline(now);
  }
}

void UcxContext::ReportFailures() {
  std::vector<Endpoint*> reports;
  reports.swap(reports_);
  for (Endpoint* ep : reports) {
    std::string detail;
    if (ep->TakeFailureReport(&detail) && host_.peer_failed != nullptr) {
      host_.peer_failed(host_.ctx, ep, MC_ERR_PEER_LOST, detail.c_str());
    }
  }
}

void UcxContext::Sweep() {
  dead_listeners_.clear();
  if (closing_.empty()) return;
  std::vector<Endpoint*> still_closing;
  for (Endpoint* ep : closing_) {
    if (!ep->TeardownDone()) {
      still_closing.push_back(ep);
      continue;
    }
    endpoints_.erase(ep->id());
  }
  closing_.swap(still_closing);
}

// ---- control messages ----

void UcxContext::ControlRecvDone(void* request, ucs_status_t status, const ucp_tag_recv_info_t* info,
                                 void* user_data) {
  auto* ctx = static_cast<UcxContext*>(user_data);
  if (info != nullptr) ctx->control_info_ = *info;  // before the free: info lives in the request
  ucp_request_free(request);
  ctx->control_request_ = nullptr;
  ctx->control_status_ = status;
  ctx->control_ready_ = true;
}

void UcxContext::PostControlReceive() {
  while (!control_failed_ && control_request_ == nullptr) {
    if (control_ready_) {
      control_ready_ = false;
      DeliverControl(control_status_);
      continue;
    }
    // UCX 1.13 does not fill recv_info on immediate completion, so the
    // callback always runs (maybe inside this call) and fills it.
    ucp_request_param_t param{};
    param.op_attr_mask = UCP_OP_ATTR_FIELD_CALLBACK | UCP_OP_ATTR_FIELD_USER_DATA | UCP_OP_ATTR_FLAG_NO_IMM_CMPL;
    param.cb.recv = &ControlRecvDone;
    param.user_data = this;
    ucs_status_ptr_t sp =
        ucp_tag_recv_nbx(worker_, &control_in_, sizeof(control_in_), kAnyControlTag, kKindMask, &param);
    if (UCS_PTR_IS_PTR(sp)) {
      if (!control_ready_) control_request_ = sp;  // else the callback ran and freed it
      continue;
    }
    DeliverControl(UCS_PTR_STATUS(sp));
  }
}

void UcxContext::DeliverControl(ucs_status_t status) {
  if (status == UCS_ERR_CANCELED) return;
  if (status != UCS_OK) {
    Log(MC_LOG_WARN, std::string("ucx: a control message could not be received: ") + ucs_status_string(status));
    if (status != UCS_ERR_MESSAGE_TRUNCATED) control_failed_ = true;
    return;
  }
  const ControlMessage message = control_in_;
  Endpoint* ep = FindEndpoint(EndpointIdOf(control_info_.sender_tag));
  if (control_info_.length != sizeof(message) || message.magic != ControlMessage::kMagic) {
    if (ep != nullptr) ep->Fail("protocol error: a malformed control message from " + ep->peer_name());
    return;
  }
  // A message for an endpoint that is gone (closed, or a stale id) is dropped.
  if (ep != nullptr && !ep->closed()) ep->OnControl(message);
}

void UcxContext::ControlSendDone(void* request, ucs_status_t, void* user_data) {
  auto* oc = static_cast<OutgoingControl*>(user_data);
  ucp_request_free(request);
  oc->ctx->control_sends_.erase(oc);
  delete oc;
}

void UcxContext::SendControl(ucp_ep_h ep, uint32_t peer_id, const ControlMessage& message) {
  auto* oc = new OutgoingControl{this, nullptr, message};
  ucp_request_param_t param{};
  param.op_attr_mask = UCP_OP_ATTR_FIELD_CALLBACK | UCP_OP_ATTR_FIELD_USER_DATA;
  param.cb.send = &ControlSendDone;
  param.user_data = oc;
  ucs_status_ptr_t sp =
      ucp_tag_send_nbx(ep, &oc->message, sizeof(oc->message), MakeUcpTag(peer_id, TagKind::kControl, 0), &param);
  if (UCS_PTR_IS_PTR(sp)) {
    oc->request = sp;
    control_sends_.insert(oc);
    return;
  }
  if (UCS_PTR_STATUS(sp) != UCS_OK) {
    Log(MC_LOG_DEBUG, std::string("ucx: a control message was not sent: ") + ucs_status_string(UCS_PTR_STATUS(sp)));
  }
  delete oc;
}

// ---- requests ----

Request* UcxContext::NewRequest(Request::Kind kind, Endpoint* ep) {
  Request* r;
  if (!spare_requests_.empty()) {
    r = spare_requests_.back();
    spare_requests_.pop_back();
    *r = Request{};
  } else {
    r = new Request();
  }
  r->kind = kind;
  r->ctx = this;
  r->ep = ep;
  r->live_next = live_requests_;
  if (live_requests_ != nullptr) live_requests_->live_prev = r;
  live_requests_ = r;
  return r;
}

void UcxContext::FreeRequest(Request* r) {
  if (r->live_prev != nullptr) {
    r->live_prev->live_next = r->live_next;
  } else {
    live_requests_ = r->live_next;
  }
  if (r->live_next != nullptr) r->live_next->live_prev = r->live_prev;
  r->magic = 0;
  if (spare_requests_.size() < kSpareRequests && magic_ == kMagic) {
    spare_requests_.push_back(r);
  } else {
    delete r;
  }
}

void UcxContext::Finish(Request* r, mc_result_t status, size_t bytes) {
  if (r->stage == Request::Stage::kDone) return;
  r->stage = Request::Stage::kDone;
  r->completion.status = status;
  r->completion.tag = r->tag;
  r->completion.bytes = bytes;
  if (r->ep != nullptr) r->ep->Unlink(r);
  r->ep = nullptr;
  if (RemoteKey* key = r->rkey; key != nullptr) {
    r->rkey = nullptr;
    if (--key->puts_in_flight == 0 && key->released) DestroyKey(key);
  }
}

void UcxContext::OnUcxDone(Request* r, ucs_status_t status) {
  const mc_result_t failed = r->fail_status != MC_SUCCESS ? r->fail_status : ResultFromUcs(status);
  switch (r->kind) {
    case Request::Kind::kRecv:
      if (status == UCS_OK) {
        Finish(r, MC_SUCCESS, r->info.length);
      } else if (status == UCS_ERR_MESSAGE_TRUNCATED && r->fail_status == MC_SUCCESS) {
        Finish(r, MC_ERR_TRUNCATED, 0);
      } else {
        Finish(r, failed, 0);
      }
      return;
    case Request::Kind::kSend:
      Finish(r, status == UCS_OK ? MC_SUCCESS : failed, status == UCS_OK ? r->len : 0);
      return;
    case Request::Kind::kPut:
      if (status != UCS_OK) {
        Finish(r, failed, 0);
      } else if (r->stage == Request::Stage::kNotifying) {
        Finish(r, MC_SUCCESS, r->len);
      } else {
        QueuePutFlushed(r);  // the notification is sent from progress, outside UCX's callback
      }
      return;
  }
}

mc_result_t UcxContext::Test(Request* r, int* done, mc_completion_v1_t* completion) {
  if (r->stage != Request::Stage::kDone) Progress();
  if (r->stage != Request::Stage::kDone) {
    *done = 0;
    return MC_SUCCESS;
  }
  *completion = r->completion;
  *done = 1;
  FreeRequest(r);
  return MC_SUCCESS;
}

}  // namespace mc::ucx
