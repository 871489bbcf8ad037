// One-sided put with notification: the data is in place when its
// notification arrives, puts outside the registered range or with a garbage
// key fail without writing anything.
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

constexpr int kTarget = 0;
constexpr int kInitiator = 1;
constexpr size_t kRegionBytes = 8u << 20;
constexpr size_t kRegionGuard = 64u << 10;  // catches unchecked writes just outside the region
constexpr int kPuts = 256;
constexpr uint64_t kNotifyBase = 0x1000;
constexpr uint64_t kBadNotifyBase = 0xbad000;
constexpr uint64_t kPutTag = 0x9075;
constexpr std::chrono::seconds kPutTimeout{30};
constexpr std::chrono::milliseconds kDrainTime{300};

struct Chunk {
  size_t offset;
  size_t len;
};

// Where each put lands: sizes from a byte to 2 MiB, at odd offsets, 5
// untouched bytes between neighbours (about 3.5 MiB in all).
std::vector<Chunk> Layout() {
  std::vector<Chunk> chunks;
  size_t offset = 3;
  for (int i = 0; i < kPuts; ++i) {
    size_t len = i % 16 == 0 ? 65536 + i : static_cast<size_t>(i) * 37 % 4000 + 1;
    if (i == 5) len = (2u << 20) + 1;
    chunks.push_back({offset, len});
    offset += len + 5;
  }
  return chunks;
}

uint64_t ChunkSeed(int i) { return MessageSeed(kInitiator, kTarget, kPutTag, i); }

// Empty when the region holds every chunk's data and poison everywhere else.
std::string DescribeRegionDamage(const GuardedBuffer& region, const std::vector<Chunk>& chunks) {
  if (std::string damage = region.DescribeGuardDamage(); !damage.empty()) return damage;
  size_t next = 0;
  for (size_t i = 0; i < chunks.size(); ++i) {
    if (auto at = FindByteOtherThan(region.data() + next, chunks[i].offset - next, GuardedBuffer::kPoison)) {
      return "byte " + std::to_string(next + *at) + " of the region, outside every put, was written";
    }
    if (std::string mismatch =
            DescribePatternMismatch(region.data() + chunks[i].offset, chunks[i].len, ChunkSeed(static_cast<int>(i)));
        !mismatch.empty()) {
      return "put " + std::to_string(i) + " no longer holds its data: " + mismatch;
    }
    next = chunks[i].offset + chunks[i].len;
  }
  if (auto at = FindByteOtherThan(region.data() + next, region.size() - next, GuardedBuffer::kPoison)) {
    return "byte " + std::to_string(next + *at) + " of the region, outside every put, was written";
  }
  return "";
}

// Polls for notifications for `how_long`; every one that arrives is a failure.
void ExpectNoMoreNotifications(Session& session, void* ep, std::chrono::milliseconds how_long, const char* why) {
  const Deadline until = Deadline::After(how_long);
  while (!until.Expired()) {
    mc_notification_v1_t n{};
    mc_result_t rc = session.t().poll_notification(ep, &n);
    if (rc == MC_SUCCESS) {
      CONF_EXPECT(false) << "a notification with value 0x" << std::hex << n.value << " arrived " << why;
      continue;
    }
    if (rc != MC_AGAIN) return;  // the endpoint may be gone after a refused put; that is allowed
    session.Progress();
  }
}

void TargetRole(const mc_plugin_v1_t* plugin, ChildEnv& env) {
  Session session(plugin);
  void* ep = ConnectToPeer(session, env, kInitiator);
  Ping(session, ep, kTarget, kInitiator);
  GuardedBuffer region(kRegionBytes, kRegionGuard);
  void* mr = session.Register(region.data(), region.size());
  SendToPeer(env, kInitiator, session.PackRkey(mr));
  SendToPeer(env, kInitiator, EncodeWords({region.addr(), region.size()}));

  const std::vector<Chunk> chunks = Layout();
  CONF_CHECK(chunks.back().offset + chunks.back().len <= kRegionBytes) << "the test's layout does not fit";
  std::vector<bool> seen(kPuts, false);
  int remaining = kPuts;
  const Deadline deadline = Deadline::After(kPutTimeout);
  while (remaining > 0) {
    mc_notification_v1_t n{};
    mc_result_t rc = session.t().poll_notification(ep, &n);
    if (rc == MC_AGAIN) {
      CONF_CHECK(!deadline.Expired()) << remaining << " of " << kPuts << " notifications never arrived";
      session.Progress();
      continue;
    }
    CONF_CHECK_RC(rc, MC_SUCCESS) << "poll_notification";
    CONF_CHECK(n.value >= kNotifyBase && n.value < kNotifyBase + kPuts)
        << "a notification carries value 0x" << std::hex << n.value << ", which no put used";
    const int i = static_cast<int>(n.value - kNotifyBase);
    CONF_CHECK(!seen[i]) << "put " << i << " was notified twice";
    seen[i] = true;
    --remaining;
    CONF_CHECK(n.addr == region.addr() + chunks[i].offset)
        << "put " << i << ": notification addr is 0x" << std::hex << n.addr << ", expected 0x"
        << region.addr() + chunks[i].offset;
    CONF_CHECK(n.bytes == chunks[i].len) << "put " << i << ": notification says " << n.bytes << " bytes, expected "
                                         << chunks[i].len;
    std::string mismatch = DescribePatternMismatch(region.data() + chunks[i].offset, chunks[i].len, ChunkSeed(i));
    CONF_CHECK(mismatch.empty()) << "put " << i << "'s notification arrived before its data: " << mismatch;
  }
  // The initiator now tries puts outside the region.
  CONF_CHECK(ReceiveFromPeer(session, env, kInitiator) == "bad puts done");
  ExpectNoMoreNotifications(session, ep, kDrainTime, "for a put that should have failed (or twice)");
  std::string damage = DescribeRegionDamage(region, chunks);
  CONF_CHECK(damage.empty()) << damage;
  Barrier(session, env);
  session.Deregister(mr);
  session.Close(ep);
  session.Finalize();
}

// A put that must fail: an immediate error, or a request that completes with one.
void ExpectPutFails(Session& session, void* ep, const void* buf, size_t len, void* mr, uint64_t remote_addr, void* rkey,
                    uint64_t notify, const std::string& what) {
  const Deadline deadline = Deadline::After(kOpTimeout);
  void* req = nullptr;
  mc_result_t rc;
  while ((rc = session.t().iput(ep, buf, len, mr, remote_addr, rkey, notify, &req)) == MC_AGAIN) {
    CONF_CHECK(!deadline.Expired()) << what << ": iput kept returning MC_AGAIN";
    session.Progress();
  }
  if (rc == MC_SUCCESS) {
    CONF_CHECK(req != nullptr) << what << ": iput returned MC_SUCCESS but no request";
    rc = session.Wait(req, what, deadline).status;
  }
  CONF_EXPECT(rc != MC_SUCCESS) << what << " succeeded; it must fail (MC_ERR_ACCESS)";
  if (rc != MC_SUCCESS && rc != MC_ERR_ACCESS) {
    ReportFromChild("note: " + what + " failed with " + ResultName(rc) + " (MC_ERR_ACCESS is the expected code)");
  }
}

void InitiatorRole(const mc_plugin_v1_t* plugin, ChildEnv& env) {
  Session session(plugin);
  void* ep = ConnectToPeer(session, env, kTarget);
  Ping(session, ep, kInitiator, kTarget);
  const std::string key = ReceiveFromPeer(session, env, kTarget);
  const std::vector<uint64_t> region = DecodeWords(ReceiveFromPeer(session, env, kTarget));
  CONF_CHECK(region.size() == 2);
  const uint64_t base = region[0];
  const uint64_t size = region[1];
  void* rkey = nullptr;
  CONF_CHECK_RC(session.m().unpack_rkey(ep, key.data(), key.size(), &rkey), MC_SUCCESS) << "unpack_rkey";
  CONF_CHECK(rkey != nullptr) << "unpack_rkey returned MC_SUCCESS but no key";

  const std::vector<Chunk> chunks = Layout();
  GuardedBuffer src(kRegionBytes);
  for (int i = 0; i < kPuts; ++i) FillPattern(src.data() + chunks[i].offset, chunks[i].len, ChunkSeed(i));
  void* mr = session.Register(src.data(), src.size());
  std::vector<void*> reqs;
  for (int i = 0; i < kPuts; ++i) {
    reqs.push_back(session.PostPut(ep, src.data() + chunks[i].offset, chunks[i].len, mr, base + chunks[i].offset, rkey,
                                   kNotifyBase + i));
  }
  std::vector<mc_completion_v1_t> done = session.WaitAll(reqs, "puts", Deadline::After(kPutTimeout));
  for (int i = 0; i < kPuts; ++i) {
    CONF_CHECK_RC(done[i].status, MC_SUCCESS) << "put " << i;
    CONF_CHECK(done[i].bytes == chunks[i].len) << "put " << i << " completion says " << done[i].bytes << " bytes";
  }

  struct BadPut {
    uint64_t remote_addr;
    size_t len;
    const char* what;
  };
  const BadPut bad_puts[] = {
      {base + size - 16, 64, "a put straddling the end of the registered region"},
      {base + size + 1024, 256, "a put past the end of the registered region"},
      {base - 512, 128, "a put before the start of the registered region"},
      {base + 100, static_cast<size_t>(size), "a put longer than what is left of the region"},
  };
  for (size_t j = 0; j < std::size(bad_puts); ++j) {
    ExpectPutFails(session, ep, src.data(), bad_puts[j].len, mr, bad_puts[j].remote_addr, rkey, kBadNotifyBase + j,
                   bad_puts[j].what);
  }
  SendToPeer(env, kTarget, "bad puts done");
  Barrier(session, env);
  CONF_CHECK_RC(session.m().release_rkey(rkey), MC_SUCCESS) << "release_rkey";
  session.Deregister(mr);
  session.Close(ep);
  session.Finalize();
}

// ---- garbage keys ----

std::vector<std::string> GarbageKeys() {
  std::string random(MC_MAX_RKEY_BYTES, '\0');
  FillPattern(random.data(), random.size(), 0x6a7ba6e);
  return {random, std::string(16, '\0'), std::string(32, '\xff'), std::string(1, '\x01')};
}

void GarbageTargetRole(const mc_plugin_v1_t* plugin, ChildEnv& env) {
  Session session(plugin);
  void* ep = ConnectToPeer(session, env, kInitiator);
  Ping(session, ep, kTarget, kInitiator);
  GuardedBuffer region(64u << 10);
  void* mr = session.Register(region.data(), region.size());
  SendToPeer(env, kInitiator, EncodeWords({region.addr(), region.size()}));
  CONF_CHECK(ReceiveFromPeer(session, env, kInitiator) == "done");
  ExpectNoMoreNotifications(session, ep, kDrainTime, "for a put made with a garbage key");
  CONF_CHECK(!FindByteOtherThan(region.data(), region.size(), GuardedBuffer::kPoison))
      << "a put with a garbage key wrote into registered memory";
  CONF_CHECK(region.DescribeGuardDamage().empty()) << region.DescribeGuardDamage();
  Barrier(session, env);
  session.Deregister(mr);
  session.Close(ep);
  session.Finalize();
}

void GarbageInitiatorRole(const mc_plugin_v1_t* plugin, ChildEnv& env) {
  Session session(plugin);
  void* ep = ConnectToPeer(session, env, kTarget);
  Ping(session, ep, kInitiator, kTarget);
  const std::vector<uint64_t> region = DecodeWords(ReceiveFromPeer(session, env, kTarget));
  CONF_CHECK(region.size() == 2);
  std::vector<uint8_t> src(128, 0x11);
  void* mr = session.Register(src.data(), src.size());
  const std::vector<std::string> keys = GarbageKeys();
  for (size_t j = 0; j < keys.size(); ++j) {
    const std::string what =
        "a put with garbage key #" + std::to_string(j) + " (" + std::to_string(keys[j].size()) + " bytes)";
    void* rkey = nullptr;
    mc_result_t rc = session.m().unpack_rkey(ep, keys[j].data(), keys[j].size(), &rkey);
    if (IsError(rc)) continue;  // refused at once: the best answer
    CONF_CHECK_RC(rc, MC_SUCCESS) << "unpack_rkey of garbage key #" << j;
    CONF_CHECK(rkey != nullptr) << "unpack_rkey returned MC_SUCCESS but no key";
    ExpectPutFails(session, ep, src.data(), src.size(), mr, region[0], rkey, kBadNotifyBase + j, what);
    CONF_CHECK_RC(session.m().release_rkey(rkey), MC_SUCCESS) << "release_rkey of garbage key #" << j;
  }
  SendToPeer(env, kTarget, "done");
  Barrier(session, env);
  session.Deregister(mr);
  session.Close(ep);
  session.Finalize();
}

ChildMain Role(const mc_plugin_v1_t* plugin, void (*role)(const mc_plugin_v1_t*, ChildEnv&)) {
  return [plugin, role](ChildEnv& env) { role(plugin, env); };
}

}  // namespace

void PutNotificationFollowsData(const mc_plugin_v1_t* plugin) {
  RunChildren({Role(plugin, TargetRole), Role(plugin, InitiatorRole)});
}

void GarbageRkeyIsRefused(const mc_plugin_v1_t* plugin) {
  RunChildren({Role(plugin, GarbageTargetRole), Role(plugin, GarbageInitiatorRole)});
}

}  // namespace mc::conformance
