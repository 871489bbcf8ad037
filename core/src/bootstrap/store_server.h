// The bootstrap store's server, hosted by rank 0: one thread, one epoll set
// over the listening socket and every client, nothing blocks. Requests whose
// keys are missing are parked in a StoreTable and answered when the keys
// appear or their deadline passes, so clients never poll.
#ifndef MOONCOMM_SRC_BOOTSTRAP_STORE_SERVER_H_
#define MOONCOMM_SRC_BOOTSTRAP_STORE_SERVER_H_

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "bootstrap/socket_io.h"
#include "bootstrap/store_table.h"
#include "bootstrap/wire_format.h"

namespace mc::bootstrap {

class StoreServer {
 public:
  // Binds host:port (port 0: a free port) and starts serving on a new thread.
  static absl::StatusOr<std::unique_ptr<StoreServer>> Start(const std::string& host, int port);

  // Stops and joins the thread, then closes every socket; clients see the
  // connection close.
  ~StoreServer();

  StoreServer(const StoreServer&) = delete;
  StoreServer& operator=(const StoreServer&) = delete;

  int port() const { return port_; }

 private:
  using ClientId = StoreTable::ClientId;

  struct Client {
    ClientId id = 0;
    ScopedFd fd;
    std::string peer;        // for log lines
    std::string in;          // bytes received, not yet handled
    size_t in_consumed = 0;  // prefix of `in` already handled
    std::string out;         // bytes to send
    size_t out_sent = 0;
    bool greeted = false;    // sent a valid hello
    bool parked = false;     // a Get/Wait waits in the table
    bool watching_out = false;
    bool dead = false;       // closes at the end of this loop turn
  };

  StoreServer(ScopedFd listen_fd, ScopedFd epoll_fd, ScopedFd wake_fd, int port, std::string address);

  void Run();
  void AcceptAll();
  void ReadFrom(Client& client);
  void HandleInput(Client& client);
  void HandleRequest(Client& client, Message request);
  void Park(Client& client, const Message& request, bool get);
  void Answer(const std::vector<StoreTable::Waiter>& waiters);
  void AnswerExpired();
  void Send(Client& client, const Message& reply);
  void Flush(Client& client);
  void WatchOutput(Client& client, bool watch);
  void Doom(Client& client, const std::string& reason, bool garbage);
  void CloseDoomed();
  void PauseAccepting(bool pause);
  Client* Find(ClientId id);

  ScopedFd listen_fd_;
  ScopedFd epoll_fd_;
  ScopedFd wake_fd_;  // eventfd: wakes the loop for shutdown
  const int port_;
  const std::string address_;  // host:port, for log lines
  std::atomic<bool> stop_{false};
  std::thread thread_;

  // Touched only by the server thread.
  absl::flat_hash_map<ClientId, std::unique_ptr<Client>> clients_;
  ClientId next_client_id_ = 2;  // 0 and 1 tag the listening socket and the eventfd
  StoreTable table_;
  std::vector<char> read_buffer_;  // one recv's worth, reused for every client
  std::deque<ClientId> runnable_;  // clients whose buffered input may now be handled
  std::vector<ClientId> doomed_;
  // Out of file descriptors: the listening socket is left unwatched (else
  // it would wake the loop forever) until a client goes away or a moment passes.
  bool accept_paused_ = false;
  absl::Time accept_resume_at_ = absl::InfiniteFuture();
};

}  // namespace mc::bootstrap

#endif  // MOONCOMM_SRC_BOOTSTRAP_STORE_SERVER_H_
