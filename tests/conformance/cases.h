// The conformance cases. Each runs in the gtest process, forks the processes
// it needs, and reports through gtest; the table below is what
// RegisterConformanceTests registers once per plugin.
#ifndef MOONCOMM_TESTS_CONFORMANCE_CASES_H_
#define MOONCOMM_TESTS_CONFORMANCE_CASES_H_

#include <span>

#include "mooncomm/plugin_abi.h"

namespace mc::conformance {

using CaseFunction = void (*)(const mc_plugin_v1_t* plugin);

struct ConformanceCase {
  const char* name;  // never contains a transport's name, so filters like '*shm*' stay exact
  CaseFunction run;
};

// plugin_table_cases.cc
void PluginTableIsComplete(const mc_plugin_v1_t* plugin);
void InitDevicesAndFinalize(const mc_plugin_v1_t* plugin);
// connect_cases.cc
void ListenConnectAcceptHello(const mc_plugin_v1_t* plugin);
// tagged_cases.cc
void TaggedSizesBothDirections(const mc_plugin_v1_t* plugin);
void ThousandMessagesInFlight(const mc_plugin_v1_t* plugin);
void InterleavedTagsKeepPerTagOrder(const mc_plugin_v1_t* plugin);
void OversizedMessageIsTruncated(const mc_plugin_v1_t* plugin);
// put_cases.cc
void PutNotificationFollowsData(const mc_plugin_v1_t* plugin);
void GarbageRkeyIsRefused(const mc_plugin_v1_t* plugin);
// close_cases.cc
void CloseCancelsPendingRequests(const mc_plugin_v1_t* plugin);
void PeerCloseFailsPendingRecvs(const mc_plugin_v1_t* plugin);
void FinalizeFreesOpenResources(const mc_plugin_v1_t* plugin);
// invalid_arg_cases.cc
void InvalidArgumentsAreErrors(const mc_plugin_v1_t* plugin);
void ConnectToBadAddressFails(const mc_plugin_v1_t* plugin);
// peer_loss_cases.cc
void KilledPeerIsReported(const mc_plugin_v1_t* plugin);
// mesh_cases.cc
void ThreeProcessFullMesh(const mc_plugin_v1_t* plugin);

std::span<const ConformanceCase> AllCases();

// Every table and function pointer is set (what PluginTableIsComplete checks in detail).
bool PluginTableIsUsable(const mc_plugin_v1_t* plugin);

}  // namespace mc::conformance

#endif  // MOONCOMM_TESTS_CONFORMANCE_CASES_H_
