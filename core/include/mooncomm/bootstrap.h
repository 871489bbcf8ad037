// Rendezvous: a key-value store every rank reaches, and how a process learns
// its rank, the world size and the store's address from its launcher.
#ifndef MOONCOMM_BOOTSTRAP_H_
#define MOONCOMM_BOOTSTRAP_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "absl/types/span.h"

namespace mc {

// A key-value store shared by all ranks. Thread-safe. The torch backend
// adapts PyTorch's c10d Store to this interface.
class Store {
 public:
  virtual ~Store() = default;
  virtual absl::Status Set(std::string_view key, std::string_view value) = 0;
  // Blocks until `key` exists; DeadlineExceeded naming the key after `timeout`.
  virtual absl::StatusOr<std::string> Get(std::string_view key, absl::Duration timeout) = 0;
  // Blocks until every key exists; DeadlineExceeded naming the missing keys.
  virtual absl::Status Wait(absl::Span<const std::string> keys, absl::Duration timeout) = 0;
  // Atomically adds `delta` to the integer at `key` (absent: 0); returns the new value.
  virtual absl::StatusOr<int64_t> Add(std::string_view key, int64_t delta) = 0;
};

// Blocks until all `world_size` ranks have entered the barrier called `name`.
// Each name may be used once per store.
absl::Status StoreBarrier(Store& store, std::string_view name, int world_size, absl::Duration timeout);

struct TcpStoreOptions {
  std::string host = "127.0.0.1";
  int port = 0;              // 0: the server picks a free port (see TcpStore::port)
  bool is_server = false;    // rank 0 hosts the store
  // Where the server binds; empty: `host`. The Communicator binds the wildcard
  // address so ranks on other hosts reach it even when `host` resolves to a
  // loopback alias (Debian maps the hostname to 127.0.1.1).
  std::string listen_host;
  absl::Duration timeout = absl::Seconds(60);  // connecting, and each request
};

// The built-in store: rank 0 runs the server on a thread, every rank
// (rank 0 too) talks to it as a client over TCP.
class TcpStore : public Store {
 public:
  // Client: retries until the server answers or options.timeout passes, then
  // DeadlineExceeded naming the address. Server: binds host:port first.
  static absl::StatusOr<std::unique_ptr<TcpStore>> Create(const TcpStoreOptions& options);
  ~TcpStore() override;

  int port() const;
  const std::string& host() const;

  absl::Status Set(std::string_view key, std::string_view value) override;
  absl::StatusOr<std::string> Get(std::string_view key, absl::Duration timeout) override;
  absl::Status Wait(absl::Span<const std::string> keys, absl::Duration timeout) override;
  absl::StatusOr<int64_t> Add(std::string_view key, int64_t delta) override;

  class Impl;

 private:
  explicit TcpStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Where this process sits in the job, read from the environment in this order:
// MC_RANK / MC_WORLD_SIZE / MC_BOOTSTRAP; torchrun's RANK / WORLD_SIZE /
// MASTER_ADDR / MASTER_PORT; Open MPI's OMPI_COMM_WORLD_RANK / _SIZE;
// Slurm's SLURM_PROCID / SLURM_NTASKS. The store address always comes from
// MC_BOOTSTRAP or MASTER_ADDR:MASTER_PORT.
struct LaunchInfo {
  int rank = 0;
  int world_size = 1;
  std::string store_host;
  int store_port = 0;
  std::string source;  // "MC_*", "torchrun", "Open MPI", "Slurm", or "single process"
};

// Errors name the variable that is missing or wrong. A lone process with no
// launcher variables at all is rank 0 of 1.
absl::StatusOr<LaunchInfo> DetectLaunch();

// Parses "host:port" or "[v6addr]:port".
absl::StatusOr<std::pair<std::string, int>> ParseHostPort(std::string_view text);

}  // namespace mc

#endif  // MOONCOMM_BOOTSTRAP_H_
