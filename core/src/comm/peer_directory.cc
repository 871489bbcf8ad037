#include "comm/peer_directory.h"

#include <cstdint>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "common/absl_compat.h"

namespace mc {
namespace {

constexpr uint32_t kCardMagic = 0x4d435031;  // "MCP1"

void PutU32(std::string& out, uint32_t v) { out.append(reinterpret_cast<const char*>(&v), sizeof(v)); }
void PutString(std::string& out, std::string_view s) {
  PutU32(out, static_cast<uint32_t>(s.size()));
  out.append(s);
}

class Reader {
 public:
  explicit Reader(std::string_view bytes) : rest_(bytes) {}
  bool U32(uint32_t* v) {
    if (rest_.size() < sizeof(*v)) return false;
    std::memcpy(v, rest_.data(), sizeof(*v));
    rest_.remove_prefix(sizeof(*v));
    return true;
  }
  bool String(std::string* s) {
    uint32_t len = 0;
    if (!U32(&len) || rest_.size() < len) return false;
    s->assign(rest_.substr(0, len));
    rest_.remove_prefix(len);
    return true;
  }
  bool done() const { return rest_.empty(); }

 private:
  std::string_view rest_;
};

}  // namespace

std::string EncodePeerCard(const PeerCard& card) {
  std::string out;
  PutU32(out, kCardMagic);
  PutString(out, card.host_id);
  PutU32(out, static_cast<uint32_t>(card.transports.size()));
  for (const PublishedTransport& t : card.transports) {
    PutString(out, t.name);
    PutU32(out, t.same_host_only ? 1 : 0);
    PutString(out, t.address);
  }
  return out;
}

absl::StatusOr<PeerCard> DecodePeerCard(std::string_view bytes, std::string_view from) {
  Reader r(bytes);
  PeerCard card;
  uint32_t magic = 0, count = 0;
  auto bad = [&] { return absl::DataLossError(absl::StrCat("malformed peer card from ", ToAbsl(from))); };
  if (!r.U32(&magic) || magic != kCardMagic) return bad();
  if (!r.String(&card.host_id) || !r.U32(&count) || count > 64) return bad();
  for (uint32_t i = 0; i < count; ++i) {
    PublishedTransport t;
    uint32_t same_host = 0;
    if (!r.String(&t.name) || !r.U32(&same_host) || !r.String(&t.address)) return bad();
    t.same_host_only = same_host != 0;
    card.transports.push_back(std::move(t));
  }
  if (!r.done()) return bad();
  return card;
}

std::optional<size_t> ChooseTransport(const PeerCard& lower, const PeerCard& higher) {
  bool same_host = lower.host_id == higher.host_id;
  for (size_t i = 0; i < lower.transports.size(); ++i) {
    const PublishedTransport& t = lower.transports[i];
    if (t.same_host_only && !same_host) continue;
    for (const PublishedTransport& other : higher.transports) {
      if (other.name == t.name) return i;
    }
  }
  return std::nullopt;
}

}  // namespace mc
