// Bad arguments get error codes, never a crash, a hang or a write outside
// the caller's buffers: NULL handles and out-pointers, bad device indexes,
// bad lengths, and addresses that lead nowhere.
#include <cstring>
#include <string>
#include <vector>

#include "cases.h"
#include "child_check.h"
#include "pattern.h"
#include "peer_links.h"
#include "process_group.h"
#include "session.h"

namespace mc::conformance {
namespace {

constexpr int kChecker = 0;
constexpr int kHelper = 1;
constexpr std::chrono::seconds kBadConnectTimeout{5};

void ExpectInvalid(mc_result_t rc, const char* call) {
  CONF_EXPECT(rc == MC_ERR_INVALID_ARG) << call << " returned " << ResultName(rc) << ", expected MC_ERR_INVALID_ARG";
}
// The call's text is the message: "t.isend(nullptr, 1, buf, 8, nullptr, &req) returned ...".
#define EXPECT_INVALID(call) ExpectInvalid((call), #call)

void ExpectErrorOf(mc_result_t rc, std::initializer_list<mc_result_t> allowed, const char* call) {
  bool ok = false;
  std::string names;
  for (mc_result_t a : allowed) {
    ok = ok || rc == a;
    names += (names.empty() ? "" : " or ") + ResultName(a);
  }
  CONF_EXPECT(ok) << call << " returned " << ResultName(rc) << ", expected " << names;
}
#define EXPECT_ERROR_OF(call, ...) ExpectErrorOf((call), {__VA_ARGS__}, #call)

void CheckInit(const mc_plugin_v1_t* plugin) {
  const mc_transport_v1_t& t = *plugin->transport;
  TestHost host(plugin);
  char err[256] = {0};
  void* ctx = nullptr;
  EXPECT_INVALID(t.init(nullptr, &ctx, err, sizeof(err)));
  if (ctx != nullptr) t.finalize(ctx);
  EXPECT_INVALID(t.init(host.table(), nullptr, err, sizeof(err)));
}

void CheckDevices(Session& session) {
  const mc_transport_v1_t& t = session.t();
  const mc_topology_v1_t& topo = *session.plugin().topology;
  void* ctx = session.ctx();
  const int count = session.DeviceCount();
  int n = 0;
  mc_device_props_v1_t props{};
  EXPECT_INVALID(t.device_count(nullptr, &n));
  EXPECT_INVALID(t.device_count(ctx, nullptr));
  EXPECT_INVALID(topo.device_props(nullptr, 0, &props));
  EXPECT_INVALID(topo.device_props(ctx, -1, &props));
  EXPECT_INVALID(topo.device_props(ctx, count, &props));
  EXPECT_INVALID(topo.device_props(ctx, 0, nullptr));
  EXPECT_INVALID(t.progress(nullptr));
  EXPECT_INVALID(t.finalize(nullptr));
}

void CheckListen(Session& session) {
  const mc_transport_v1_t& t = session.t();
  void* ctx = session.ctx();
  const int count = session.DeviceCount();
  char addr[MC_MAX_ADDR_BYTES];
  size_t len = sizeof(addr);
  void* listener = nullptr;
  EXPECT_INVALID(t.listen(nullptr, 0, addr, &len, &listener));
  EXPECT_INVALID(t.listen(ctx, -1, addr, &len, &listener));
  EXPECT_INVALID(t.listen(ctx, count, addr, &len, &listener));
  EXPECT_INVALID(t.listen(ctx, 0, nullptr, &len, &listener));
  EXPECT_INVALID(t.listen(ctx, 0, addr, nullptr, &listener));
  EXPECT_INVALID(t.listen(ctx, 0, addr, &len, nullptr));
  if (listener != nullptr) session.CloseListener(listener);
  // Too little room for the address: an error, and nothing written past the capacity given.
  for (size_t capacity : {0, 1}) {
    std::vector<char> guarded(MC_MAX_ADDR_BYTES, static_cast<char>(GuardedBuffer::kGuard));
    size_t short_len = capacity;
    listener = nullptr;
    EXPECT_ERROR_OF(t.listen(ctx, 0, guarded.data(), &short_len, &listener), MC_ERR_INVALID_ARG, MC_ERR_NO_MEMORY);
    CONF_EXPECT(!FindByteOtherThan(guarded.data() + capacity, guarded.size() - capacity, GuardedBuffer::kGuard))
        << "listen with room for " << capacity << " address bytes wrote past it";
    if (listener != nullptr) session.CloseListener(listener);
  }
  // accept and close_listener on a real listener with bad out-pointers.
  session.Listen(0, &listener);
  void* ep = nullptr;
  char hello[MC_MAX_HELLO_BYTES];
  size_t hello_len = sizeof(hello);
  EXPECT_INVALID(t.accept(nullptr, &ep, hello, &hello_len));
  EXPECT_INVALID(t.accept(listener, nullptr, hello, &hello_len));
  EXPECT_INVALID(t.accept(listener, &ep, hello, nullptr));
  EXPECT_INVALID(t.close_listener(nullptr));
  session.CloseListener(listener);
}

void CheckConnect(Session& session, const std::string& good_addr) {
  const mc_transport_v1_t& t = session.t();
  void* ctx = session.ctx();
  const int count = session.DeviceCount();
  const char* addr = good_addr.data();
  const size_t len = good_addr.size();
  std::vector<char> long_addr(MC_MAX_ADDR_BYTES + 1, 0);
  std::memcpy(long_addr.data(), addr, len);
  const char hello[MC_MAX_HELLO_BYTES + 1] = "hi";
  std::vector<void*> eps(10, nullptr);  // one per call, so a wrongly accepted call leaves its ep to close
  EXPECT_INVALID(t.connect(nullptr, 0, addr, len, hello, 2, &eps[0]));
  EXPECT_INVALID(t.connect(ctx, -1, addr, len, hello, 2, &eps[1]));
  EXPECT_INVALID(t.connect(ctx, count, addr, len, hello, 2, &eps[2]));
  EXPECT_INVALID(t.connect(ctx, 0, nullptr, len, hello, 2, &eps[3]));
  EXPECT_INVALID(t.connect(ctx, 0, addr, 0, hello, 2, &eps[4]));
  EXPECT_INVALID(t.connect(ctx, 0, long_addr.data(), MC_MAX_ADDR_BYTES + 1, hello, 2, &eps[5]));
  EXPECT_INVALID(t.connect(ctx, 0, addr, len, nullptr, 2, &eps[6]));
  EXPECT_INVALID(t.connect(ctx, 0, addr, len, hello, MC_MAX_HELLO_BYTES + 1, &eps[7]));
  EXPECT_INVALID(t.connect(ctx, 0, addr, len, hello, 2, nullptr));
  for (void* ep : eps) {
    if (ep != nullptr) session.Close(ep);
  }
}

void CheckMessaging(Session& session, void* ep, const std::vector<uint64_t>& region, const std::string& key) {
  const mc_transport_v1_t& t = session.t();
  const mc_device_props_v1_t props = session.DeviceProps(0);
  std::vector<uint8_t> buf(64, 0x33);
  void* req = nullptr;
  EXPECT_INVALID(t.isend(nullptr, 1, buf.data(), 8, nullptr, &req));
  EXPECT_INVALID(t.isend(ep, 1, nullptr, 8, nullptr, &req));
  EXPECT_INVALID(t.isend(ep, 1, buf.data(), 8, nullptr, nullptr));
  EXPECT_INVALID(t.irecv(nullptr, 1, buf.data(), 8, nullptr, &req));
  EXPECT_INVALID(t.irecv(ep, 1, nullptr, 8, nullptr, &req));
  EXPECT_INVALID(t.irecv(ep, 1, buf.data(), 8, nullptr, nullptr));
  if (props.max_message_bytes < SIZE_MAX / 2) {
    // A message longer than the device's limit. A plugin that accepted it would
    // read past the 64-byte buffer: the child's crash is then the report.
    EXPECT_INVALID(t.isend(ep, 1, buf.data(), props.max_message_bytes + 1, nullptr, &req));
  }
  EXPECT_INVALID(t.test(nullptr, nullptr, nullptr));
  int done = 0;
  mc_completion_v1_t completion{};
  EXPECT_INVALID(t.test(nullptr, &done, &completion));
  mc_notification_v1_t notification{};
  EXPECT_INVALID(t.poll_notification(nullptr, &notification));
  EXPECT_INVALID(t.poll_notification(ep, nullptr));
  EXPECT_INVALID(t.close(nullptr));

  void* rkey = nullptr;
  CONF_CHECK_RC(session.m().unpack_rkey(ep, key.data(), key.size(), &rkey), MC_SUCCESS) << "unpack of a good key";
  void* mr = session.Register(buf.data(), buf.size());
  const uint64_t remote = region.at(0);
  EXPECT_INVALID(t.iput(nullptr, buf.data(), 8, mr, remote, rkey, 1, &req));
  EXPECT_INVALID(t.iput(ep, nullptr, 8, mr, remote, rkey, 1, &req));
  EXPECT_INVALID(t.iput(ep, buf.data(), 8, mr, remote, nullptr, 1, &req));
  EXPECT_INVALID(t.iput(ep, buf.data(), 8, mr, remote, rkey, 1, nullptr));
  CONF_CHECK_RC(session.m().release_rkey(rkey), MC_SUCCESS) << "release_rkey";
  session.Deregister(mr);
}

void CheckMemory(Session& session, void* ep, const std::string& key) {
  const mc_memory_v1_t& m = session.m();
  void* ctx = session.ctx();
  const mc_device_props_v1_t props = session.DeviceProps(0);
  std::vector<uint8_t> buf(4096, 0);
  void* mr = nullptr;
  EXPECT_INVALID(m.reg(nullptr, buf.data(), buf.size(), MC_MEM_HOST, &mr));
  EXPECT_INVALID(m.reg(ctx, nullptr, buf.size(), MC_MEM_HOST, &mr));
  EXPECT_INVALID(m.reg(ctx, buf.data(), buf.size(), MC_MEM_HOST, nullptr));
  EXPECT_ERROR_OF(m.reg(ctx, buf.data(), buf.size(), static_cast<mc_mem_kind_t>(99), &mr), MC_ERR_INVALID_ARG,
                  MC_ERR_UNSUPPORTED);
  if (!(props.mem_kinds & MC_MEM_KIND_BIT(MC_MEM_CUDA))) {
    EXPECT_ERROR_OF(m.reg(ctx, buf.data(), buf.size(), MC_MEM_CUDA, &mr), MC_ERR_UNSUPPORTED, MC_ERR_INVALID_ARG);
  }
  if (mr != nullptr) m.dereg(ctx, mr);

  mr = session.Register(buf.data(), buf.size());
  EXPECT_INVALID(m.dereg(ctx, nullptr));
  EXPECT_INVALID(m.dereg(nullptr, mr));
  char packed[MC_MAX_RKEY_BYTES];
  size_t packed_len = sizeof(packed);
  EXPECT_INVALID(m.pack_rkey(ctx, nullptr, packed, &packed_len));
  EXPECT_INVALID(m.pack_rkey(nullptr, mr, packed, &packed_len));
  EXPECT_INVALID(m.pack_rkey(ctx, mr, nullptr, &packed_len));
  EXPECT_INVALID(m.pack_rkey(ctx, mr, packed, nullptr));
  std::vector<char> guarded(MC_MAX_RKEY_BYTES, static_cast<char>(GuardedBuffer::kGuard));
  size_t one = 1;
  EXPECT_ERROR_OF(m.pack_rkey(ctx, mr, guarded.data(), &one), MC_ERR_NO_MEMORY, MC_ERR_INVALID_ARG);
  CONF_EXPECT(!FindByteOtherThan(guarded.data() + 1, guarded.size() - 1, GuardedBuffer::kGuard))
      << "pack_rkey with room for 1 byte wrote past it";
  session.Deregister(mr);

  void* rkey = nullptr;
  std::vector<char> long_key(MC_MAX_RKEY_BYTES + 1, 0);
  std::memcpy(long_key.data(), key.data(), key.size());
  EXPECT_INVALID(m.unpack_rkey(nullptr, key.data(), key.size(), &rkey));
  EXPECT_INVALID(m.unpack_rkey(ep, nullptr, key.size(), &rkey));
  EXPECT_INVALID(m.unpack_rkey(ep, key.data(), 0, &rkey));
  EXPECT_INVALID(m.unpack_rkey(ep, long_key.data(), long_key.size(), &rkey));
  EXPECT_INVALID(m.unpack_rkey(ep, key.data(), key.size(), nullptr));
  if (rkey != nullptr) m.release_rkey(rkey);
  EXPECT_INVALID(m.release_rkey(nullptr));
}

void CheckerRole(const mc_plugin_v1_t* plugin, ChildEnv& env) {
  CheckInit(plugin);
  Session session(plugin);
  void* ep = ConnectToPeer(session, env, kHelper);
  Ping(session, ep, kChecker, kHelper);
  const std::string helper_addr = ReceiveFromPeer(session, env, kHelper);
  const std::string key = ReceiveFromPeer(session, env, kHelper);
  const std::vector<uint64_t> region = DecodeWords(ReceiveFromPeer(session, env, kHelper));
  CheckDevices(session);
  CheckListen(session);
  CheckConnect(session, helper_addr);
  CheckMessaging(session, ep, region, key);
  CheckMemory(session, ep, key);
  SendToPeer(env, kHelper, "done");
  Ping(session, ep, kChecker, kHelper);  // the endpoint survived all of it
  session.ExpectNoPeerFailures("after calls with bad arguments");
  Barrier(session, env);
  session.Close(ep);
  session.Finalize();
}

void HelperRole(const mc_plugin_v1_t* plugin, ChildEnv& env) {
  Session session(plugin);
  void* ep = ConnectToPeer(session, env, kChecker);
  Ping(session, ep, kHelper, kChecker);
  void* listener = nullptr;
  SendToPeer(env, kChecker, session.Listen(0, &listener));
  GuardedBuffer region(4096);
  void* mr = session.Register(region.data(), region.size());
  SendToPeer(env, kChecker, session.PackRkey(mr));
  SendToPeer(env, kChecker, EncodeWords({region.addr(), region.size()}));
  CONF_CHECK(ReceiveFromPeer(session, env, kChecker) == "done");
  Ping(session, ep, kHelper, kChecker);
  Barrier(session, env);
  session.CloseListener(listener);
  session.Deregister(mr);
  session.Close(ep);
  session.Finalize();
}

// ---- addresses that lead nowhere ----

// Connecting to `addr` fails: at once, or by failing the endpoint's requests with MC_ERR_PEER_LOST.
void ExpectConnectFails(Session& session, const std::string& addr, const std::string& what) {
  void* ep = nullptr;
  mc_result_t rc = session.t().connect(session.ctx(), 0, addr.data(), addr.size(), "x", 1, &ep);
  if (IsError(rc)) return;
  CONF_EXPECT_RC(rc, MC_SUCCESS) << "connect to " << what << " (it returns the endpoint at once)";
  if (rc != MC_SUCCESS) return;
  CONF_CHECK(ep != nullptr) << "connect returned MC_SUCCESS but no endpoint";
  session.host().EndpointOpened(ep);
  std::vector<uint8_t> out(8, 1), in(8, 0);
  const Deadline deadline = Deadline::After(kBadConnectTimeout);
  // An immediate error from the post is fine; a request must complete with MC_ERR_PEER_LOST.
  auto expect_fails = [&](const char* op, mc_result_t posted, void* req) {
    if (IsError(posted)) return;
    CONF_EXPECT_RC(posted, MC_SUCCESS) << op << " on an endpoint to " << what;
    if (posted != MC_SUCCESS) return;
    mc_completion_v1_t done = session.Wait(req, std::string(op) + " on an endpoint to " + what, deadline);
    CONF_EXPECT_RC(done.status, MC_ERR_PEER_LOST) << op << " on an endpoint connected to " << what;
  };
  void* send = nullptr;
  const mc_result_t send_rc = session.t().isend(ep, 5, out.data(), out.size(), nullptr, &send);
  expect_fails("a send", send_rc, send);
  void* recv = nullptr;
  const mc_result_t recv_rc = session.t().irecv(ep, 5, in.data(), in.size(), nullptr, &recv);
  expect_fails("a receive", recv_rc, recv);
  session.Close(ep);
}

void BadAddressRole(const mc_plugin_v1_t* plugin, ChildEnv&) {
  Session session(plugin);
  std::string random(MC_MAX_ADDR_BYTES, '\0');
  FillPattern(random.data(), random.size(), 0xadd7e55);
  ExpectConnectFails(session, random, "an address of random bytes");
  ExpectConnectFails(session, std::string(16, '\0'), "an address of zero bytes");
  void* listener = nullptr;
  const std::string closed = session.Listen(0, &listener);
  session.CloseListener(listener);
  ExpectConnectFails(session, closed, "the address of a closed listener");
  session.Finalize();
}

ChildMain Role(const mc_plugin_v1_t* plugin, void (*role)(const mc_plugin_v1_t*, ChildEnv&)) {
  return [plugin, role](ChildEnv& env) { role(plugin, env); };
}

}  // namespace

void InvalidArgumentsAreErrors(const mc_plugin_v1_t* plugin) {
  RunChildren({Role(plugin, CheckerRole), Role(plugin, HelperRole)});
}

void ConnectToBadAddressFails(const mc_plugin_v1_t* plugin) { RunChildren({Role(plugin, BadAddressRole)}); }

}  // namespace mc::conformance
