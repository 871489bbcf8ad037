// One connection to a peer, and the protocol spoken on it (wire.h).
//
// Sending: every operation becomes a frame in the outbox; Flush() writes as
// much as the socket takes without blocking. A send completes once all its
// bytes are in the socket; a put completes when the target's PUT_ACK comes.
//
// Receiving: ReadFrames() reads a header, decides where the payload goes, and
// reads the payload straight there:
//   - a MSG whose receive is posted goes into the receive's buffer (the
//     bytes past its capacity are dropped: MC_ERR_TRUNCATED);
//   - a MSG nobody asked for yet goes into a new buffer on the unexpected
//     queue, and a later irecv copies it out;
//   - a PUT goes into the registered memory it names, if the key is live and
//     the range fits, else nowhere (the ack then says MC_ERR_ACCESS).
// Matching is per endpoint and tag, in order: a receive takes the oldest
// unexpected message of its tag, a message takes the oldest posted receive.
//
// Failure: end of file or a socket error breaks the endpoint. Its pending
// requests complete with MC_ERR_PEER_LOST at once, and the next progress()
// reports the peer to the host (once, and only after the core holds the
// endpoint). Messages that arrived whole before the break can still be received.
#ifndef UNIXDEMO_ENDPOINT_H_
#define UNIXDEMO_ENDPOINT_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>

#include "mooncomm/plugin_abi.h"
#include "request.h"
#include "wire.h"

namespace unixdemo {

class Context;

class Endpoint {
 public:
  static constexpr uint32_t kMagic = 0x45445855;  // "UXDE"

  // `fd` is a socket (or -1 when none could be made). A connector's socket
  // may still be waiting for room in the listener's backlog (connected ==
  // false); an acceptor's endpoint waits for the connector's HELLO first.
  Endpoint(Context* ctx, int fd, bool connected, bool awaiting_hello, std::string peer);
  ~Endpoint();
  Endpoint(const Endpoint&) = delete;
  Endpoint& operator=(const Endpoint&) = delete;

  // False once closed: the handle is no longer the core's to use.
  bool valid() const { return magic_ == kMagic && !closed_; }
  Context* ctx() const { return ctx_; }
  uint64_t id() const { return id_; }
  bool broken() const { return broken_; }
  bool awaiting_hello() const { return awaiting_hello_; }
  const std::string& hello() const { return hello_; }

  // Connector: queues the HELLO frame, the first thing on the wire.
  void SendHello(const void* hello, size_t len);
  // The core now holds this endpoint: from now on a failure is reported.
  void MarkHandedOut() { handed_out_ = true; }

  // The ABI operations. Arguments are checked by the caller (plugin.cc).
  mc_result_t Send(uint64_t tag, const void* buf, size_t len, Request** out);
  mc_result_t Recv(uint64_t tag, void* buf, size_t len, Request** out);
  mc_result_t Put(const void* buf, size_t len, uint64_t remote_addr, uint64_t key, uint64_t notify, Request** out);
  mc_result_t PollNotification(mc_notification_v1_t* notification);
  // close(): completes every pending request with MC_ERR_CLOSED, closes the socket.
  void Close();

  // progress(): finishes a connect, writes, reads.
  void Progress();
  // Calls host.peer_failed if the endpoint broke, the core holds it, and it
  // was not reported before.
  void ReportFailureIfDue(const mc_host_v1_t& host);
  // A registration went away: a PUT being read into it stops there.
  void OnDeregistered(uint64_t key);
  // A connector's failure that happened inside connect() itself.
  void Fail(mc_result_t request_status, const std::string& detail);

 private:
  // A frame waiting in the outbox.
  struct Outgoing {
    FrameHeader header;
    const char* payload;  // the user's buffer (valid until its request completes) or our hello_
    uint64_t sent;        // bytes of header and payload written so far
    Request* request;     // send: completes when written; put: then waits for its ack; else null
  };
  // A message that arrived before its receive was posted.
  struct Unexpected {
    uint64_t tag = 0;
    uint64_t length = 0;
    std::unique_ptr<char[]> data;
    bool complete = false;          // all of it has been read
    Request* claimed_by = nullptr;  // a receive posted while it was still arriving
  };

  void Queue(uint32_t type, uint64_t tag, uint64_t addr, uint64_t key, const void* payload, uint64_t length,
             Request* request);
  void TryConnect();
  void Flush();

  // Reading (endpoint_inbound.cc). ReadFrames returns true once the socket
  // has nothing more to read now (or the endpoint broke), false when it
  // stopped at its per-call budget.
  bool ReadFrames();
  bool StartFrame();
  void StartMessage();
  void StartPut();
  void FinishFrame();
  void FinishPutAck();
  Request* TakePostedRecv(uint64_t tag);
  static void Deliver(const Unexpected& message, Request* recv);
  void EraseUnexpected(const Unexpected* message);
  bool FailProtocol(const std::string& what);

  // Completes every pending request with `status` and forgets partial input.
  void CancelAll(mc_result_t status);

  uint32_t magic_ = kMagic;
  Context* ctx_;
  uint64_t id_;
  int fd_;
  std::string peer_;     // connector: the socket name; acceptor: "process <pid>"
  bool connected_;       // the socket is connected (connector: maybe not yet)
  bool awaiting_hello_;  // acceptor: the HELLO frame has not fully arrived
  std::string hello_;    // the hello we sent (connector) or received (acceptor)
  bool handed_out_ = false;
  bool closed_ = false;
  bool broken_ = false;
  bool reported_ = false;
  int write_error_ = 0;  // errno of a failed write, pending the reads before Fail()
  std::string failure_detail_;

  std::deque<Outgoing> outbox_;
  std::deque<Request*> puts_awaiting_ack_;              // in the order they were sent
  std::deque<Request*> posted_recvs_;                   // in posting order
  std::deque<std::unique_ptr<Unexpected>> unexpected_;  // in arrival order
  std::deque<mc_notification_v1_t> notifications_;

  // The frame being read.
  FrameHeader in_{};
  size_t header_read_ = 0;                    // bytes of in_ read so far
  bool in_payload_ = false;                   // in_ is complete; its payload is being read
  uint64_t payload_left_ = 0;                 // payload bytes still to read
  char* sink_ = nullptr;                      // where the next payload bytes go ...
  uint64_t sink_left_ = 0;                    // ... for this many; the rest is read and dropped
  Request* landing_recv_ = nullptr;           // MSG: the posted receive it fills
  Unexpected* landing_unexpected_ = nullptr;  // MSG: or the unexpected entry
  mc_result_t put_status_ = MC_SUCCESS;       // PUT: the verdict so far
};

}  // namespace unixdemo

#endif  // UNIXDEMO_ENDPOINT_H_
