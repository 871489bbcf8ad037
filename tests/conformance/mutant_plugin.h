// A plugin that forwards every call to a real one and injects one fault.
// The suite's own test runs conformance cases over such mutants and expects
// them to fail: proof that each check can fail, not only pass.
#ifndef MOONCOMM_TESTS_CONFORMANCE_MUTANT_PLUGIN_H_
#define MOONCOMM_TESTS_CONFORMANCE_MUTANT_PLUGIN_H_

#include "mooncomm/plugin_abi.h"

namespace mc::conformance {

enum class Fault {
  kNone,
  kNullFunction,          // the transport table has no poll_notification
  kBadParamDefault,       // a SIZE param whose default is "12Q"
  kSmallMaxMessage,       // device_props says max_message_bytes is 1 MiB
  kLeakDescriptor,        // init opens a descriptor that finalize never closes
  kLeakThread,            // init starts a thread that finalize never stops
  kLeakMemory,            // init allocates memory that finalize never frees
  kCorruptHello,          // accept hands out the hello with its last byte changed
  kCorruptReceivedByte,   // a byte of every received message of 4 KiB or more is flipped
  kWrongCompletionTag,    // received messages report tag + 1
  kSwapSameTagOrder,      // receives of tag ~0 match messages two by two in swapped order
  kHideTruncation,        // MC_ERR_TRUNCATED completions say MC_SUCCESS
  kEarlyNotification,     // a put's notification comes while the first byte is not yet there
  kHidePutFailure,        // failed puts complete with MC_SUCCESS
  kAcceptGarbageKey,      // unpack_rkey takes any bytes, and puts with such keys "succeed"
  kCloseForgetsRequests,  // MC_ERR_CLOSED completions say MC_SUCCESS
  kLossAsClosed,          // MC_ERR_PEER_LOST completions say MC_ERR_CLOSED
  kSlowLossDetection,     // MC_ERR_PEER_LOST completions are held back for 3 s
  kDoublePeerFailed,      // peer_failed is reported twice per endpoint
  kNullProgressAccepted,  // progress(NULL) returns MC_SUCCESS
  kConnectNeverFails,     // connect to a bad address gives an endpoint whose requests never end
};

// The mutant of `inner` with `fault`. One mutant exists at a time (the last
// call wins); set it up in the gtest process before a case forks.
const mc_plugin_v1_t* MutantPlugin(const mc_plugin_v1_t* inner, Fault fault);

}  // namespace mc::conformance

#endif  // MOONCOMM_TESTS_CONFORMANCE_MUTANT_PLUGIN_H_
