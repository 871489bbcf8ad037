#include "mc_tune/tune_table.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "tuner/size_text.h"

namespace mc::tune {

std::vector<Winner> Winners(const std::vector<Measurement>& measurements, double margin) {
  std::vector<Winner> out;
  std::map<std::pair<CollectiveKind, uint64_t>, size_t> index;
  std::map<std::pair<CollectiveKind, uint64_t>, const Measurement*> current;
  for (const Measurement& m : measurements) {
    if (m.current) current[{m.coll, m.bytes}] = &m;
    auto [it, fresh] = index.try_emplace({m.coll, m.bytes}, out.size());
    if (fresh) {
      out.push_back({m.coll, m.bytes, m.algorithm, m.time_us});
    } else if (m.time_us < out[it->second].time_us) {
      out[it->second].algorithm = m.algorithm;
      out[it->second].time_us = m.time_us;
    }
  }
  for (Winner& w : out) {
    auto it = current.find({w.coll, w.bytes});
    if (it != current.end() && it->second->time_us <= w.time_us * (1 + margin)) {
      w.algorithm = it->second->algorithm;
      w.time_us = it->second->time_us;
    }
  }
  return out;
}

std::vector<algo::TuneRule> RulesFromWinners(const std::vector<Winner>& winners) {
  // Per collective, in first-seen order, the winners by ascending size.
  std::vector<CollectiveKind> order;
  std::map<CollectiveKind, std::map<uint64_t, std::string>> by_coll;
  for (const Winner& w : winners) {
    if (by_coll.find(w.coll) == by_coll.end()) order.push_back(w.coll);
    by_coll[w.coll][w.bytes] = w.algorithm;
  }
  std::vector<algo::TuneRule> rules;
  for (CollectiveKind coll : order) {
    const auto& sizes = by_coll[coll];
    for (auto it = sizes.begin(); it != sizes.end(); ++it) {
      const bool first = it == sizes.begin();
      if (!first && rules.back().algorithm == it->second) continue;  // merged into the previous range
      if (!first) rules.back().hi = it->first;
      algo::TuneRule rule;
      rule.coll = coll;
      rule.lo = first ? 0 : it->first;
      rule.hi = algo::kInfiniteSize;
      rule.algorithm = it->second;
      rules.push_back(rule);
    }
  }
  return rules;
}

algo::TuningTable MakeTable(const std::vector<Measurement>& measurements, double margin,
                            const std::string& transport, int world_size, std::vector<std::string> comments) {
  algo::TuningTable table;
  table.transport = transport;
  table.world_size = world_size;
  table.rules = RulesFromWinners(Winners(measurements, margin));
  table.comments = std::move(comments);
  return table;
}

absl::Status WriteCsv(const std::string& path, const std::vector<Measurement>& measurements, double margin) {
  std::vector<Winner> winners = Winners(measurements, margin);
  std::map<std::pair<CollectiveKind, uint64_t>, std::string> won;
  for (const Winner& w : winners) won[{w.coll, w.bytes}] = w.algorithm;
  std::string text = "op,bytes,algorithm,time_us,busbw_gbps,winner,current\n";
  for (const Measurement& m : measurements) {
    absl::StrAppendFormat(&text, "%s,%d,%s,%.3f,%.4f,%d,%d\n", CollectiveName(m.coll), m.bytes, m.algorithm,
                          m.time_us, m.busbw_gbps, won[{m.coll, m.bytes}] == m.algorithm ? 1 : 0, m.current ? 1 : 0);
  }
  FILE* f = std::fopen(path.c_str(), "w");
  if (f == nullptr) return absl::ErrnoToStatus(errno, absl::StrCat("cannot write ", path));
  const bool ok = std::fwrite(text.data(), 1, text.size(), f) == text.size();
  if (std::fclose(f) != 0 || !ok) return absl::ErrnoToStatus(errno, absl::StrCat("cannot write ", path));
  return absl::OkStatus();
}

}  // namespace mc::tune
