#include "sysfs.h"

#include <dirent.h>
#include <limits.h>
#include <stdlib.h>

#include <algorithm>
#include <cstdio>
#include <fstream>

namespace mc::rdma {
namespace {

// The first line of a small file, without its newline; nullopt when unreadable.
std::optional<std::string> FirstLine(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::string line;
  if (!std::getline(in, line)) {
    // Reading a GID type of an unused entry fails (EINVAL) in real sysfs.
    return std::nullopt;
  }
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r' || line.back() == ' ')) line.pop_back();
  return line;
}

std::vector<std::string> DirEntries(const std::string& path) {
  std::vector<std::string> names;
  DIR* dir = opendir(path.c_str());
  if (dir == nullptr) return names;
  while (dirent* e = readdir(dir)) {
    std::string name = e->d_name;
    if (name != "." && name != "..") names.push_back(std::move(name));
  }
  closedir(dir);
  std::sort(names.begin(), names.end());
  return names;
}

bool AllDigits(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::vector<std::string> SysfsInfiniband::DeviceNames() const { return DirEntries(root_); }

std::vector<GidEntry> SysfsInfiniband::GidTable(const std::string& dev, int port) const {
  const std::string port_dir = root_ + "/" + dev + "/ports/" + std::to_string(port);
  std::vector<int> indexes;
  for (const std::string& name : DirEntries(port_dir + "/gids")) {
    if (AllDigits(name) && name.size() < 7) indexes.push_back(std::stoi(name));
  }
  std::sort(indexes.begin(), indexes.end());
  std::vector<GidEntry> table;
  for (int index : indexes) {
    const std::string i = std::to_string(index);
    std::optional<std::string> text = FirstLine(port_dir + "/gids/" + i);
    if (!text) continue;
    std::optional<Gid> gid = ParseGid(*text);
    if (!gid || IsZeroGid(*gid)) continue;
    GidEntry entry;
    entry.index = index;
    entry.gid = *gid;
    entry.type = FirstLine(port_dir + "/gid_attrs/types/" + i).value_or("");
    entry.ndev = FirstLine(port_dir + "/gid_attrs/ndevs/" + i).value_or("");
    table.push_back(std::move(entry));
  }
  return table;
}

std::string SysfsInfiniband::PciPath(const std::string& dev) const {
  char resolved[PATH_MAX];
  const std::string link = root_ + "/" + dev + "/device";
  if (realpath(link.c_str(), resolved) == nullptr) return "";
  return resolved;
}

int SysfsInfiniband::NumaNode(const std::string& dev) const {
  std::optional<std::string> text = FirstLine(root_ + "/" + dev + "/device/numa_node");
  if (!text) return -1;
  std::string t = *text;
  bool negative = !t.empty() && t[0] == '-';
  if (negative) t.erase(0, 1);
  if (!AllDigits(t) || t.size() > 6) return -1;
  return negative ? -1 : std::stoi(t);
}

std::string SysfsInfiniband::PortNetdev(const std::string& dev, int port) const {
  for (const GidEntry& e : GidTable(dev, port)) {
    if (!e.ndev.empty()) return e.ndev;
  }
  // Older kernels: the PCI function's netdevs.
  std::vector<std::string> nets = DirEntries(root_ + "/" + dev + "/device/net");
  return nets.empty() ? "" : nets.front();
}

std::optional<Gid> ParseGid(const std::string& text) {
  Gid gid{};
  size_t pos = 0;
  for (int group = 0; group < 8; ++group) {
    if (group > 0) {
      if (pos >= text.size() || text[pos] != ':') return std::nullopt;
      ++pos;
    }
    int value = 0;
    int digits = 0;
    while (pos < text.size() && HexValue(text[pos]) >= 0 && digits < 4) {
      value = value * 16 + HexValue(text[pos]);
      ++pos;
      ++digits;
    }
    if (digits == 0) return std::nullopt;
    gid[group * 2] = static_cast<uint8_t>(value >> 8);
    gid[group * 2 + 1] = static_cast<uint8_t>(value & 0xff);
  }
  if (pos != text.size()) return std::nullopt;
  return gid;
}

std::string FormatGid(const Gid& gid) {
  std::string out;
  char group[8];
  for (int i = 0; i < 8; ++i) {
    std::snprintf(group, sizeof(group), "%s%02x%02x", i == 0 ? "" : ":", gid[i * 2], gid[i * 2 + 1]);
    out += group;
  }
  return out;
}

bool IsZeroGid(const Gid& gid) {
  return std::all_of(gid.begin(), gid.end(), [](uint8_t b) { return b == 0; });
}

bool IsIpv4MappedGid(const Gid& gid) {
  for (int i = 0; i < 10; ++i) {
    if (gid[i] != 0) return false;
  }
  return gid[10] == 0xff && gid[11] == 0xff;
}

bool IsLinkLocalGid(const Gid& gid) { return gid[0] == 0xfe && (gid[1] & 0xc0) == 0x80; }

}  // namespace mc::rdma
