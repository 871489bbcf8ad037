// The frames of the side connection's handshake. The connector sends HELLO
// (its endpoint id, its UCP worker address and the core's hello bytes), the
// acceptor answers REPLY (its endpoint id and worker address). Each side then
// makes a UCP endpoint to the other's worker. Nothing else is ever sent on the
// side connection: it stays open as the liveness signal (EOF = the peer is gone).
#ifndef MOONCOMM_PLUGINS_UCX_HANDSHAKE_H_
#define MOONCOMM_PLUGINS_UCX_HANDSHAKE_H_

#include <cstddef>
#include <cstdint>
#include <string>

namespace mc::ucx {

// A worker address larger than this is garbage (real ones are a few hundred bytes).
inline constexpr size_t kMaxWorkerAddressBytes = 64 * 1024;

struct HelloFrame {
  uint64_t listener_nonce = 0;
  uint32_t endpoint_id = 0;  // the connector's id: tags of messages to the connector carry it
  std::string hello;         // the core's hello, at most MC_MAX_HELLO_BYTES
  std::string worker_address;
};

struct ReplyFrame {
  uint32_t endpoint_id = 0;  // the acceptor's id
  std::string worker_address;
};

enum class ParseResult { kIncomplete, kComplete, kInvalid };

std::string EncodeHello(const HelloFrame& frame);
std::string EncodeReply(const ReplyFrame& frame);

// Parses a frame from the start of `bytes`. kComplete sets *frame and
// *consumed; kInvalid sets *why; kIncomplete means more bytes are needed.
ParseResult ParseHello(const std::string& bytes, HelloFrame* frame, size_t* consumed, std::string* why);
ParseResult ParseReply(const std::string& bytes, ReplyFrame* frame, size_t* consumed, std::string* why);

}  // namespace mc::ucx

#endif  // MOONCOMM_PLUGINS_UCX_HANDSHAKE_H_
