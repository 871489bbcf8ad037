#include "process_snapshot.h"

#include <dirent.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/lsan_interface.h>
#endif

namespace mc::conformance {
namespace {

int CountThreads() {
  int count = 0;
  DIR* dir = opendir("/proc/self/task");
  if (dir == nullptr) return -1;
  while (dirent* entry = readdir(dir)) {
    if (entry->d_name[0] != '.') ++count;
  }
  closedir(dir);
  return count;
}

std::map<int, std::string> OpenFds() {
  std::map<int, std::string> fds;
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) return fds;
  const int own = dirfd(dir);
  while (dirent* entry = readdir(dir)) {
    if (entry->d_name[0] == '.') continue;
    int fd = std::atoi(entry->d_name);
    if (fd == own) continue;
    char target[512];
    std::string path = std::string("/proc/self/fd/") + entry->d_name;
    ssize_t n = readlink(path.c_str(), target, sizeof(target) - 1);
    fds[fd] = n > 0 ? std::string(target, static_cast<size_t>(n)) : "?";
  }
  closedir(dir);
  return fds;
}

bool IsSharedMemoryPath(const std::string& path) {
  return path.rfind("/dev/shm/", 0) == 0 || path.rfind("/memfd:", 0) == 0 || path.rfind("/SYSV", 0) == 0;
}

std::set<std::string> SharedMappings() {
  std::set<std::string> paths;
  std::ifstream maps("/proc/self/maps");
  std::string line;
  while (std::getline(maps, line)) {
    // address perms offset dev inode pathname
    std::istringstream fields(line);
    std::string address, perms, offset, dev, inode, path;
    fields >> address >> perms >> offset >> dev >> inode;
    std::getline(fields >> std::ws, path);
    if (IsSharedMemoryPath(path)) paths.insert(path);
  }
  return paths;
}

}  // namespace

ProcessSnapshot ProcessSnapshot::Take() {
  ProcessSnapshot snapshot;
  snapshot.threads = CountThreads();
  snapshot.fds = OpenFds();
  snapshot.shared_mappings = SharedMappings();
  return snapshot;
}

std::vector<std::string> DescribeLeftovers(const ProcessSnapshot& before, const ProcessSnapshot& after) {
  std::vector<std::string> lines;
  if (after.threads > before.threads) {
    lines.push_back(std::to_string(after.threads - before.threads) + " thread(s) still running");
  }
  for (const auto& [fd, target] : after.fds) {
    auto it = before.fds.find(fd);
    if (it == before.fds.end() || it->second != target) {
      lines.push_back("file descriptor " + std::to_string(fd) + " (" + target + ") still open");
    }
  }
  for (const std::string& path : after.shared_mappings) {
    if (!before.shared_mappings.contains(path)) lines.push_back("shared memory " + path + " still mapped");
  }
  return lines;
}

bool LeakSanitizerFindsLeaks() {
#if defined(__SANITIZE_ADDRESS__)
  return __lsan_do_recoverable_leak_check() != 0;
#else
  return false;
#endif
}

}  // namespace mc::conformance
