/* A plugin built out of tree against the installed ABI header. It reports
 * that it has no device, so the core's loader opens it, validates every
 * table entry, and says why it cannot run. Nothing past init is reachable. */
#include <stdio.h>
#include <mooncomm/plugin_abi.h>

static mc_result_t init(const mc_host_v1_t* host, void** ctx, char* err, size_t err_len) {
  (void)host;
  *ctx = NULL;
  snprintf(err, err_len, "the consumer example has no devices");
  return MC_ERR_NO_DEVICE;
}
static mc_result_t finalize(void* ctx) { (void)ctx; return MC_ERR_UNSUPPORTED; }
static mc_result_t device_count(void* ctx, int* n) { (void)ctx; *n = 0; return MC_SUCCESS; }
static mc_result_t listen_(void* c, int d, void* a, size_t* l, void** h) { (void)c; (void)d; (void)a; (void)l; (void)h; return MC_ERR_UNSUPPORTED; }
static mc_result_t accept_(void* h, void** ep, void* hi, size_t* hl) { (void)h; (void)ep; (void)hi; (void)hl; return MC_ERR_UNSUPPORTED; }
static mc_result_t close_listener(void* h) { (void)h; return MC_ERR_UNSUPPORTED; }
static mc_result_t connect_(void* c, int d, const void* a, size_t al, const void* h, size_t hl, void** ep) {
  (void)c; (void)d; (void)a; (void)al; (void)h; (void)hl; (void)ep; return MC_ERR_UNSUPPORTED;
}
static mc_result_t isend(void* ep, uint64_t t, const void* b, size_t l, void* mr, void** r) {
  (void)ep; (void)t; (void)b; (void)l; (void)mr; (void)r; return MC_ERR_UNSUPPORTED;
}
static mc_result_t irecv(void* ep, uint64_t t, void* b, size_t l, void* mr, void** r) {
  (void)ep; (void)t; (void)b; (void)l; (void)mr; (void)r; return MC_ERR_UNSUPPORTED;
}
static mc_result_t iput(void* ep, const void* b, size_t l, void* mr, uint64_t ra, void* k, uint64_t n, void** r) {
  (void)ep; (void)b; (void)l; (void)mr; (void)ra; (void)k; (void)n; (void)r; return MC_ERR_UNSUPPORTED;
}
static mc_result_t test(void* r, int* d, mc_completion_v1_t* c) { (void)r; (void)d; (void)c; return MC_ERR_UNSUPPORTED; }
static mc_result_t poll_notification(void* ep, mc_notification_v1_t* n) { (void)ep; (void)n; return MC_ERR_UNSUPPORTED; }
static mc_result_t progress(void* ctx) { (void)ctx; return MC_ERR_UNSUPPORTED; }
static mc_result_t close_(void* ep) { (void)ep; return MC_ERR_UNSUPPORTED; }
static mc_result_t reg(void* c, void* p, size_t l, mc_mem_kind_t k, void** mr) { (void)c; (void)p; (void)l; (void)k; (void)mr; return MC_ERR_UNSUPPORTED; }
static mc_result_t dereg(void* c, void* mr) { (void)c; (void)mr; return MC_ERR_UNSUPPORTED; }
static mc_result_t pack_rkey(void* c, void* mr, void* b, size_t* l) { (void)c; (void)mr; (void)b; (void)l; return MC_ERR_UNSUPPORTED; }
static mc_result_t unpack_rkey(void* ep, const void* b, size_t l, void** k) { (void)ep; (void)b; (void)l; (void)k; return MC_ERR_UNSUPPORTED; }
static mc_result_t release_rkey(void* k) { (void)k; return MC_ERR_UNSUPPORTED; }
static mc_result_t device_props(void* c, int d, mc_device_props_v1_t* p) { (void)c; (void)d; (void)p; return MC_ERR_UNSUPPORTED; }

static const mc_transport_v1_t kTransport = {init, finalize, device_count, listen_, accept_, close_listener,
                                             connect_, isend, irecv, iput, test, poll_notification, progress,
                                             close_};
static const mc_memory_v1_t kMemory = {reg, dereg, pack_rkey, unpack_rkey, release_rkey};
static const mc_topology_v1_t kTopology = {device_props};

const mc_plugin_v1_t mc_plugin_v1 = {MC_PLUGIN_ABI_VERSION, "consumer", "0.0.1", NULL, 0,
                                     &kTransport, &kMemory, &kTopology};
