// Building a Communicator: read the launch, open the transports, publish our
// listen addresses, pick a transport per peer, connect the full mesh.
#include <cstring>
#include <random>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "comm/communicator_impl.h"
#include "comm/host_identity.h"
#include "comm/peer_directory.h"
#include "common/absl_compat.h"
#include "common/log.h"
#include "common/status_macros.h"
#include "mooncomm/config.h"
#include "mooncomm/status.h"
#include "plugin/loader.h"

namespace mc {
namespace {

constexpr uint32_t kHelloMagic = 0x4d43484c;  // "MCHL"

struct Hello {
  uint32_t magic;
  int32_t rank;
  uint64_t nonce;  // which communicator: peers of another one are turned away
};

std::string Key(const Communicator::Impl& impl, std::string_view what) {
  return absl::StrCat(impl.prefix, "/", ToAbsl(what));
}

}  // namespace

Communicator::Impl::Impl(int rank, int size, absl::Duration timeout)
    : rank(rank), size(size), timeout(timeout), peers(new Peer[size]) {
  peers[rank].state.store(PeerState::kSelf);
}

Communicator::Impl::~Impl() { Shutdown(); }

absl::Status Communicator::Impl::OpenTransports(const std::string& transport_setting) {
  MC_ASSIGN_OR_RETURN(TransportChoice choice, ParseTransportChoice(transport_setting));
  std::vector<std::string> names = choice.automatic ? AvailablePluginNames() : choice.names;
  std::vector<std::string> skipped;
  for (const std::string& name : names) {
    absl::StatusOr<LoadedPlugin> plugin = LoadPlugin(name);
    absl::StatusOr<std::unique_ptr<Transport>> transport =
        plugin.ok() ? Transport::Open(*plugin, nullptr) : absl::StatusOr<std::unique_ptr<Transport>>(plugin.status());
    if (transport.ok() && (*transport)->device_count() < 1) {
      transport = absl::FailedPreconditionError(absl::StrCat("transport '", name, "' reports no devices"));
    }
    if (!transport.ok()) {
      // A transport the user named must work; `auto` skips what cannot run here.
      if (!choice.automatic) return transport.status();
      skipped.push_back(absl::StrCat(name, " (", transport.status().message(), ")"));
      continue;
    }
    Transport* raw = transport->get();
    raw->set_failure_callback([this, raw](void* ep, mc_result_t reason, const std::string& detail) {
      OnTransportFailure(raw, ep, reason, detail);
    });
    transports.push_back(std::move(*transport));
  }
  if (transports.empty()) {
    return absl::FailedPreconditionError(absl::StrCat("no transport could be opened (MC_TRANSPORT=",
                                                      transport_setting, "): ", absl::StrJoin(skipped, "; ")));
  }
  if (choice.automatic) {
    std::vector<std::string> opened;
    for (const auto& t : transports) opened.push_back(t->name());
    MC_LOG(INFO) << "MC_TRANSPORT=auto opened [" << absl::StrJoin(opened, ", ")
                 << "] in order of preference (same-host transports first)"
                 << (skipped.empty() ? "" : "; skipped: ") << absl::StrJoin(skipped, "; ");
  }
  config::WarnAboutUnknownVariables();  // now that the plugins' params are known
  return absl::OkStatus();
}

absl::Status Communicator::Impl::ConnectPeers(absl::Duration bootstrap_timeout) {
  const absl::Time deadline = absl::Now() + bootstrap_timeout;

  // The communicator's nonce: rank 0 draws it, everyone else reads it.
  uint64_t nonce = 0;
  if (rank == 0) {
    nonce = std::random_device{}() | (uint64_t{std::random_device{}()} << 32);
    MC_RETURN_IF_ERROR(store->Set(Key(*this, "nonce"), std::string(reinterpret_cast<char*>(&nonce), sizeof(nonce))));
  } else {
    MC_ASSIGN_OR_RETURN(std::string bytes, store->Get(Key(*this, "nonce"), bootstrap_timeout));
    if (bytes.size() != sizeof(nonce)) return absl::DataLossError("malformed communicator nonce in the store");
    std::memcpy(&nonce, bytes.data(), sizeof(nonce));
  }

  // Listen on every transport and publish our card.
  PeerCard mine;
  MC_ASSIGN_OR_RETURN(mine.host_id, HostIdentity());
  for (const auto& t : transports) {
    char addr[MC_MAX_ADDR_BYTES];
    size_t addr_len = sizeof(addr);
    void* listener = nullptr;
    mc_result_t rc = t->ops().listen(t->ctx(), 0, addr, &addr_len, &listener);
    if (rc != MC_SUCCESS) return StatusFromResult(rc, absl::StrCat("listen on transport '", t->name(), "'"));
    listeners.push_back(Listener{t.get(), listener, std::string(addr, addr_len)});
    MC_ASSIGN_OR_RETURN(mc_device_props_v1_t props, t->DeviceProps(0));
    mine.transports.push_back(PublishedTransport{t->name(), props.same_host_only != 0, std::string(addr, addr_len)});
  }
  MC_RETURN_IF_ERROR(store->Set(Key(*this, absl::StrCat("card/", rank)), EncodePeerCard(mine)));

  std::vector<PeerCard> cards(size);
  cards[rank] = mine;
  for (int r = 0; r < size; ++r) {
    if (r == rank) continue;
    absl::Duration left = std::max(deadline - absl::Now(), absl::ZeroDuration());
    MC_ASSIGN_OR_RETURN(std::string bytes, store->Get(Key(*this, absl::StrCat("card/", r)), left));
    MC_ASSIGN_OR_RETURN(cards[r], DecodePeerCard(bytes, absl::StrCat("rank ", r)));
  }

  // Pick a transport per pair; connect to lower ranks, accept from higher ones.
  auto transport_named = [&](const std::string& name) -> Transport* {
    for (const auto& t : transports)
      if (t->name() == name) return t.get();
    return nullptr;
  };
  std::set<int> awaiting;  // higher ranks that will connect to us
  for (int r = 0; r < size; ++r) {
    if (r == rank) continue;
    const PeerCard& lower = r < rank ? cards[r] : cards[rank];
    const PeerCard& higher = r < rank ? cards[rank] : cards[r];
    std::optional<size_t> choice = ChooseTransport(lower, higher);
    if (!choice) {
      return absl::FailedPreconditionError(absl::StrCat("no transport connects rank ", rank, " and rank ", r,
                                                        " (hosts ", cards[rank].host_id, " and ", cards[r].host_id,
                                                        "); check MC_TRANSPORT on both"));
    }
    const std::string& name = lower.transports[*choice].name;
    peers[r].transport = transport_named(name);
    if (r > rank) {
      awaiting.insert(r);
      continue;
    }
    const PublishedTransport* target = nullptr;
    for (const PublishedTransport& t : cards[r].transports)
      if (t.name == name) target = &t;
    Hello hello{kHelloMagic, rank, nonce};
    void* ep = nullptr;
    mc_result_t rc = peers[r].transport->ops().connect(peers[r].transport->ctx(), 0, target->address.data(),
                                                       target->address.size(), &hello, sizeof(hello), &ep);
    if (rc != MC_SUCCESS) {
      return StatusFromResult(rc, absl::StrCat("connect to rank ", r, " over ", name));
    }
    peers[r].ep = ep;
    std::lock_guard<std::mutex> lock(ep_mu);
    ep_rank[ep] = r;
  }

  {
    std::lock_guard<std::mutex> op_lock(op_mu);
    while (!awaiting.empty()) {
      bool accepted_any = false;
      for (const Listener& l : listeners) {
        void* ep = nullptr;
        Hello hello{};
        size_t hello_len = sizeof(hello);
        mc_result_t rc = l.transport->ops().accept(l.handle, &ep, &hello, &hello_len);
        if (rc == MC_AGAIN) continue;
        if (rc != MC_SUCCESS) return StatusFromResult(rc, absl::StrCat("accept on transport '", l.transport->name(), "'"));
        accepted_any = true;
        bool expected = hello_len == sizeof(hello) && hello.magic == kHelloMagic && hello.nonce == nonce &&
                        awaiting.count(hello.rank) == 1 && peers[hello.rank].transport == l.transport;
        if (!expected) {
          MC_LOG(WARN) << "turned away a connection on " << l.transport->name()
                       << " that is not from a member of this communicator";
          l.transport->ops().close(ep);
          continue;
        }
        awaiting.erase(hello.rank);
        peers[hello.rank].ep = ep;
        std::lock_guard<std::mutex> lock(ep_mu);
        ep_rank[ep] = hello.rank;
      }
      if (accepted_any) continue;
      if (absl::Now() > deadline) {
        std::vector<int> missing(awaiting.begin(), awaiting.end());
        return absl::DeadlineExceededError(absl::StrCat("rank ", rank, " timed out after ",
                                                        absl::FormatDuration(bootstrap_timeout),
                                                        " waiting for ranks [", absl::StrJoin(missing, ", "),
                                                        "] to connect (MC_BOOTSTRAP_TIMEOUT_MS)"));
      }
      ProgressLocked();
      std::this_thread::yield();
    }
  }

  // Everyone has accepted: count in, and keep our transports moving while
  // the others finish, since their accepts need our hellos to go out.
  MC_RETURN_IF_ERROR(store->Add(Key(*this, "connected"), 1).status());
  while (true) {
    MC_ASSIGN_OR_RETURN(int64_t connected, store->Add(Key(*this, "connected"), 0));
    if (connected >= size) break;
    if (absl::Now() > deadline) {
      return absl::DeadlineExceededError(absl::StrCat("only ", connected, " of ", size,
                                                      " ranks finished connecting within ",
                                                      absl::FormatDuration(bootstrap_timeout)));
    }
    {
      std::lock_guard<std::mutex> op_lock(op_mu);
      ProgressLocked();
    }
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }

  for (int r = 0; r < size; ++r) {
    if (r != rank) MC_LOG(DEBUG) << "rank " << r << " over " << peers[r].transport->name();
  }
  return absl::OkStatus();
}

void Communicator::Impl::Shutdown() {
  StopWatchdog();
  ReleaseStore();
  std::lock_guard<std::mutex> lock(op_mu);
  for (int r = 0; r < size; ++r) {
    if (peers[r].ep != nullptr && !peers[r].ep_closed) {
      peers[r].transport->ops().close(peers[r].ep);
      peers[r].ep_closed = true;
    }
  }
  // Abandoned requests were completed by close(); let the plugins free them.
  for (size_t i = 0; i < orphans.size(); ++i) {
    int done = 0;
    mc_completion_v1_t completion{};
    orphan_transports[i]->ops().test(orphans[i], &done, &completion);
  }
  orphans.clear();
  orphan_transports.clear();
  for (const Listener& l : listeners) l.transport->ops().close_listener(l.handle);
  listeners.clear();
  transports.clear();  // finalize
}

void Communicator::Impl::ReleaseStore() {
  // Rank 0 hosts the store: it stays up until every live rank has said it is
  // done with it (or the deadline passes), so nobody loses it mid-call.
  if (owned_store == nullptr || size <= 1) return;
  const std::string key = Key(*this, "finalized");
  if (!owned_store->Add(key, 1).ok() || rank != 0) return;
  const absl::Time deadline = absl::Now() + std::min(timeout, absl::Seconds(10));
  while (absl::Now() < deadline) {
    int alive = 0;
    for (int r = 0; r < size; ++r) alive += peers[r].state.load() != PeerState::kFailed;
    absl::StatusOr<int64_t> done = owned_store->Add(key, 0);
    if (!done.ok() || *done >= alive) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

absl::StatusOr<std::unique_ptr<Communicator>> Communicator::Create(CommunicatorOptions options) {
  MC_RETURN_IF_ERROR(config::ValidateAll());
  LaunchInfo launch;
  if (options.rank < 0 || options.world_size < 0 || options.store == nullptr) {
    absl::StatusOr<LaunchInfo> detected = DetectLaunch();
    if (!detected.ok() && (options.rank < 0 || options.world_size < 0 || options.world_size > 1)) {
      return detected.status();
    }
    if (detected.ok()) launch = *detected;
  }
  if (options.rank >= 0) launch.rank = options.rank;
  if (options.world_size >= 0) launch.world_size = options.world_size;
  if (launch.world_size < 1 || launch.rank < 0 || launch.rank >= launch.world_size) {
    return absl::InvalidArgumentError(
        absl::StrCat("rank ", launch.rank, " is not in a world of size ", launch.world_size));
  }
  absl::Duration timeout;
  if (options.timeout) {
    if (*options.timeout <= absl::ZeroDuration()) return absl::InvalidArgumentError("timeout must be positive");
    timeout = *options.timeout;
  } else {
    MC_ASSIGN_OR_RETURN(timeout, config::Timeout());
  }
  MC_ASSIGN_OR_RETURN(int64_t bootstrap_ms, config::GetInt("MC_BOOTSTRAP_TIMEOUT_MS"));
  if (bootstrap_ms <= 0) return absl::InvalidArgumentError("MC_BOOTSTRAP_TIMEOUT_MS must be positive");
  SetLogRank(launch.rank);

  auto impl = std::make_unique<Impl>(launch.rank, launch.world_size, timeout);
  impl->prefix = options.store_prefix;
  impl->store = options.store;
  if (impl->store == nullptr && launch.world_size > 1) {
    TcpStoreOptions store_options;
    store_options.host = launch.store_host;
    store_options.port = launch.store_port;
    store_options.is_server = launch.rank == 0;
    store_options.listen_host = launch.store_host.find(':') != std::string::npos ? "::" : "0.0.0.0";
    store_options.timeout = absl::Milliseconds(bootstrap_ms);
    MC_ASSIGN_OR_RETURN(impl->owned_store, TcpStore::Create(store_options));
    impl->store = impl->owned_store.get();
  }

  std::string transport_setting = options.transport;
  if (transport_setting.empty()) {
    MC_ASSIGN_OR_RETURN(transport_setting, config::GetString("MC_TRANSPORT"));
  }
  MC_RETURN_IF_ERROR(impl->OpenTransports(transport_setting));
  if (launch.world_size > 1) {
    MC_RETURN_IF_ERROR(impl->ConnectPeers(absl::Milliseconds(bootstrap_ms)));
  }
  impl->StartWatchdog();
  return std::unique_ptr<Communicator>(new Communicator(std::move(impl)));
}

}  // namespace mc
