#include "context.h"

#include <sys/epoll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <random>

#include "connection.h"
#include "device_list.h"
#include "listener.h"
#include "sockets.h"

namespace mc::rdma {
namespace {

constexpr int kEventsPerPoll = 64;
// Once every connection is up, side sockets and async events are looked at
// this often (a syscall each): a dead peer is still seen within a millisecond
// of progress, and small-message latency does not pay for it.
constexpr std::chrono::microseconds kSocketPollInterval{1000};

}  // namespace

StatusOr<std::unique_ptr<RdmaContext>> RdmaContext::Create(const mc_host_v1_t& host) {
  StatusOr<RdmaConfig> config = ReadRdmaConfig(host);
  if (!config.ok()) return config.status();
  auto log = [&host](mc_log_level_t level, const std::string& message) {
    if (host.log != nullptr) host.log(host.ctx, level, message.c_str());
  };
  StatusOr<OpenedDevices> opened = OpenDevices(*config, SysfsInfiniband(), log);
  if (!opened.ok()) return opened.status();
  ContextDevices devices;
  devices.hcas = std::move(opened->hcas);
  for (auto& port : opened->ports) devices.ports.push_back(std::move(port));
  return CreateWithDevices(host, *config, std::move(devices));
}

StatusOr<std::unique_ptr<RdmaContext>> RdmaContext::CreateWithDevices(const mc_host_v1_t& host,
                                                                      const RdmaConfig& config,
                                                                      ContextDevices devices) {
  if (devices.ports.empty()) return NoDevice("no RDMA device found (no ports given)");
  const int epoll_fd = epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd < 0) return Internal(std::string("epoll_create1: ") + std::strerror(errno));
  return std::unique_ptr<RdmaContext>(new RdmaContext(host, config, std::move(devices), epoll_fd));
}

RdmaContext::RdmaContext(const mc_host_v1_t& host, const RdmaConfig& config, ContextDevices devices, int epoll_fd)
    : host_(host),
      config_(config),
      requests_([this] { Progress(); }),
      devices_(std::move(devices)),
      epoll_fd_(epoll_fd) {
  for (const auto& port : devices_.ports) {
    MemoryDomain* domain = port->domain();
    if (CacheFor(domain) != nullptr) continue;
    const bool odp = domain->on_demand_paging();
    const bool cache = config_.reg_cache == RegCacheMode::kOn || (config_.reg_cache == RegCacheMode::kAuto && odp);
    caches_.push_back(std::make_unique<RegistrationCache>(domain, cache, odp, config_.reg_cache_entries));
  }
}

RdmaContext::~RdmaContext() {
  graveyard_.clear();
  // Connections first: their endpoints hold queue pairs and registrations.
  connections_.clear();
  order_.clear();
  listeners_.clear();
  for (RemoteKey* key : remote_keys_) delete key;
  remote_keys_.clear();
  for (UserRegistration* reg : registrations_) {
    for (auto& [domain, region] : reg->regions) {
      CacheFor(domain)->RemoveUserRegion(region);
      domain->Deregister(region);
    }
    delete reg;
  }
  registrations_.clear();
  caches_.clear();
  devices_.ports.clear();
  devices_.hcas.clear();
  ::close(epoll_fd_);
  magic_ = 0;
}

RegistrationCache* RdmaContext::CacheFor(MemoryDomain* domain) {
  for (const auto& cache : caches_) {
    if (cache->domain() == domain) return cache.get();
  }
  return nullptr;
}

EndpointOptions RdmaContext::endpoint_options() const {
  EndpointOptions o;
  o.eager_limit = config_.eager_limit;
  o.recv_depth = config_.recv_depth;
  o.send_depth = config_.send_depth;
  o.chunk_bytes = config_.chunk_bytes;
  return o;
}

// ---- listen, connect, close ----

mc_result_t RdmaContext::Listen(int dev, void* addr, size_t* addr_len, Listener** out) {
  if (dev < 0 || dev >= device_count() || addr == nullptr || addr_len == nullptr || out == nullptr) {
    return MC_ERR_INVALID_ARG;
  }
  if (*addr_len < kListenAddressBytes) return MC_ERR_NO_MEMORY;  // nothing written
  StatusOr<SockAddr> where = ChooseListenAddress(config_.socket_if, port(dev)->netdev());
  if (!where.ok()) {
    Log(MC_LOG_ERROR, "rdma: listen: " + where.status().message());
    return where.status().code();
  }
  SockAddr bound;
  StatusOr<int> fd = ListenOn(*where, &bound);
  if (!fd.ok()) {
    Log(MC_LOG_ERROR, "rdma: listen: " + fd.status().message());
    return fd.status().code();
  }
  const uint64_t id = (uint64_t{std::random_device{}()} << 32) | std::random_device{}();
  const ListenAddress address = ToListenAddress(bound, id);
  EncodeListenAddress(address, static_cast<uint8_t*>(addr), *addr_len, addr_len);
  auto listener = std::make_unique<Listener>(this, dev, *fd, id, FormatSockAddr(bound));
  if (!Watch(*fd, listener.get(), EPOLLIN)) {
    Log(MC_LOG_ERROR, std::string("rdma: epoll_ctl: ") + std::strerror(errno));
    return MC_ERR_INTERNAL;
  }
  Listener* raw = listener.get();
  listeners_[raw] = std::move(listener);
  *out = raw;
  Log(MC_LOG_DEBUG, "rdma: listening on " + FormatSockAddr(bound) + " for " + port(dev)->props().name);
  return MC_SUCCESS;
}

mc_result_t RdmaContext::Connect(int dev, const void* addr, size_t addr_len, const void* hello, size_t hello_len,
                                 Connection** out) {
  if (dev < 0 || dev >= device_count() || addr == nullptr || addr_len == 0 || addr_len > MC_MAX_ADDR_BYTES ||
      (hello == nullptr && hello_len > 0) || hello_len > MC_MAX_HELLO_BYTES || out == nullptr) {
    return MC_ERR_INVALID_ARG;
  }
  StatusOr<ListenAddress> to = DecodeListenAddress(static_cast<const uint8_t*>(addr), addr_len);
  if (!to.ok()) {
    Log(MC_LOG_ERROR, "rdma: connect: " + to.status().message());
    return MC_ERR_INVALID_ARG;
  }
  StatusOr<std::unique_ptr<Connection>> c =
      Connection::Connect(this, dev, *to, std::string(static_cast<const char*>(hello), hello_len));
  if (!c.ok()) {
    Log(MC_LOG_ERROR, "rdma: connect: " + c.status().message());
    return c.status().code();
  }
  Connection* raw = AdoptConnection(std::move(*c));
  raw->MarkHandedOut();
  *out = raw;
  return MC_SUCCESS;
}

void RdmaContext::CloseListener(Listener* listener) {
  listener->Close();
  listener->mark_dead();
  auto it = listeners_.find(listener);
  if (it == listeners_.end()) return;
  std::unique_ptr<Watched> owned = std::move(it->second);
  listeners_.erase(it);
  Bury(std::move(owned));
}

void RdmaContext::CloseConnection(Connection* connection) {
  connection->Close();
  DestroyConnection(connection);
}

Connection* RdmaContext::AdoptConnection(std::unique_ptr<Connection> connection) {
  Connection* raw = connection.get();
  connections_[raw] = std::move(connection);
  order_.push_back(raw);
  return raw;
}

void RdmaContext::DestroyConnection(Connection* connection) {
  connection->mark_dead();
  auto it = connections_.find(connection);
  if (it == connections_.end()) return;
  std::unique_ptr<Watched> owned = std::move(it->second);
  connections_.erase(it);
  order_.erase(std::find(order_.begin(), order_.end(), connection));
  Bury(std::move(owned));
}

void RdmaContext::Bury(std::unique_ptr<Watched> object) {
  // Inside progress someone up the stack may still hold the object.
  if (in_progress_) graveyard_.push_back(std::move(object));
}

// ---- progress ----

mc_result_t RdmaContext::Progress() {
  if (in_progress_) return MC_SUCCESS;  // a host callback called back in: nothing nests
  graveyard_.clear();
  in_progress_ = true;
  const auto now = std::chrono::steady_clock::now();
  if (handshake_seen_ || now - last_socket_poll_ >= kSocketPollInterval) {
    last_socket_poll_ = now;
    handshake_seen_ = false;
    PollSockets();
    DrainAsyncEvents();
  }
  snapshot_.assign(order_.begin(), order_.end());
  for (Connection* c : snapshot_) {
    if (c->dead()) continue;
    c->Progress();
    if (!c->dead() && c->handshaking()) handshake_seen_ = true;
  }
  in_progress_ = false;
  return MC_SUCCESS;
}

void RdmaContext::PollSockets() {
  epoll_event events[kEventsPerPoll];
  const int n = epoll_wait(epoll_fd_, events, kEventsPerPoll, 0);
  for (int i = 0; i < n; ++i) {
    auto* target = static_cast<Watched*>(events[i].data.ptr);
    if (!target->dead()) target->OnEvents(events[i].events);
  }
}

void RdmaContext::DrainAsyncEvents() {
  for (const auto& hca : devices_.hcas) {
    hca->DrainAsyncEvents(
        [&](uint32_t qp_num, const std::string& what) {
          for (Connection* c : order_) {
            if (!c->dead() && c->Owns(qp_num)) {
              c->FailFromDevice(what);
              return;
            }
          }
        },
        [&](const std::string& what) {
          Log(MC_LOG_ERROR, "rdma: " + what);
          std::vector<Connection*> on_device;
          for (Connection* c : order_) {
            if (c->port()->domain() == hca.get()) on_device.push_back(c);
          }
          for (Connection* c : on_device) {
            if (!c->dead()) c->FailFromDevice(what);
          }
        },
        [&](mc_log_level_t level, const std::string& message) { Log(level, message); });
  }
}

bool RdmaContext::Watch(int fd, Watched* target, uint32_t events) {
  epoll_event ev{};
  ev.events = events;
  ev.data.ptr = target;
  return epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) == 0;
}

void RdmaContext::Rewatch(int fd, Watched* target, uint32_t events) {
  epoll_event ev{};
  ev.events = events;
  ev.data.ptr = target;
  epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, fd, &ev);
}

void RdmaContext::Unwatch(int fd) { epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr); }

void RdmaContext::ReportPeerFailure(Connection* connection, const std::string& detail) {
  if (host_.peer_failed != nullptr) host_.peer_failed(host_.ctx, connection, MC_ERR_PEER_LOST, detail.c_str());
}

void RdmaContext::Log(mc_log_level_t level, const std::string& message) const {
  if (host_.log != nullptr) host_.log(host_.ctx, level, message.c_str());
}

// ---- memory ----

mc_result_t RdmaContext::Register(void* ptr, size_t len, mc_mem_kind_t kind, UserRegistration** out) {
  if (kind == MC_MEM_CUDA || kind == MC_MEM_DMABUF) return MC_ERR_UNSUPPORTED;
  if (kind != MC_MEM_HOST || ptr == nullptr || len == 0 || out == nullptr) return MC_ERR_INVALID_ARG;
  auto reg = std::make_unique<UserRegistration>();
  reg->ptr = static_cast<char*>(ptr);
  reg->len = len;
  for (const auto& cache : caches_) {
    StatusOr<MemoryRegion> region = cache->domain()->Register(ptr, len, false);
    if (!region.ok()) {
      Log(MC_LOG_ERROR, "rdma: reg: " + region.status().message());
      for (auto& [domain, r] : reg->regions) domain->Deregister(r);
      return region.status().code();
    }
    reg->regions.emplace_back(cache->domain(), *region);
  }
  for (auto& [domain, region] : reg->regions) CacheFor(domain)->AddUserRegion(region);
  UserRegistration* raw = reg.release();
  registrations_.insert(raw);
  *out = raw;
  return MC_SUCCESS;
}

mc_result_t RdmaContext::Deregister(UserRegistration* reg) {
  if (registrations_.erase(reg) == 0) return MC_ERR_INVALID_ARG;
  for (auto& [domain, region] : reg->regions) {
    CacheFor(domain)->RemoveUserRegion(region);
    domain->Deregister(region);
  }
  reg->magic = 0;
  delete reg;
  return MC_SUCCESS;
}

mc_result_t RdmaContext::PackKey(UserRegistration* reg, void* buf, size_t* len) {
  PackedKey key;
  key.addr = reinterpret_cast<uint64_t>(reg->ptr);
  key.length = reg->len;
  for (const auto& [domain, region] : reg->regions) key.entries.push_back(RkeyEntry{domain->guid(), region.rkey});
  if (key.entries.size() > kMaxKeyEntries) return MC_ERR_UNSUPPORTED;
  if (!EncodeRemoteKey(key, static_cast<uint8_t*>(buf), *len, len)) return MC_ERR_NO_MEMORY;
  return MC_SUCCESS;
}

RemoteKey* RdmaContext::AddRemoteKey(Connection* connection, PackedKey key) {
  auto* k = new RemoteKey;
  k->ctx = this;
  k->connection = connection;
  k->key = std::move(key);
  remote_keys_.insert(k);
  return k;
}

bool RdmaContext::ReleaseRemoteKey(RemoteKey* key) {
  if (remote_keys_.erase(key) == 0) return false;
  key->magic = 0;
  delete key;
  return true;
}

}  // namespace mc::rdma
