/*
 * The smallest complete v1 plugin: every function is present, and init
 * always says there is no device here, so the core's "cannot run here" path
 * is exercised. MINIMAL_NAME / MINIMAL_VERSION let one source build several
 * test files (the search-order test tells them apart by version).
 */
#include <stdio.h>

#include "mooncomm/plugin_abi.h"

#ifndef MINIMAL_NAME
#define MINIMAL_NAME "minimal"
#endif
#ifndef MINIMAL_VERSION
#define MINIMAL_VERSION "1.0"
#endif

static mc_result_t Init(const mc_host_v1_t* host, void** ctx, char* err, size_t err_len) {
  (void)host;
  *ctx = 0;
  snprintf(err, err_len, "the minimal test plugin never has a device");
  return MC_ERR_NO_DEVICE;
}

static mc_result_t Ctx(void* ctx) {
  (void)ctx;
  return MC_ERR_UNSUPPORTED;
}
static mc_result_t DeviceCount(void* ctx, int* count) {
  (void)ctx;
  *count = 0;
  return MC_SUCCESS;
}
static mc_result_t Listen(void* ctx, int dev, void* addr, size_t* addr_len, void** listener) {
  (void)ctx, (void)dev, (void)addr, (void)addr_len, (void)listener;
  return MC_ERR_UNSUPPORTED;
}
static mc_result_t Accept(void* listener, void** ep, void* hello, size_t* hello_len) {
  (void)listener, (void)ep, (void)hello, (void)hello_len;
  return MC_ERR_UNSUPPORTED;
}
static mc_result_t Connect(void* ctx, int dev, const void* addr, size_t addr_len, const void* hello, size_t hello_len,
                           void** ep) {
  (void)ctx, (void)dev, (void)addr, (void)addr_len, (void)hello, (void)hello_len, (void)ep;
  return MC_ERR_UNSUPPORTED;
}
static mc_result_t Isend(void* ep, uint64_t tag, const void* buf, size_t len, void* mr, void** req) {
  (void)ep, (void)tag, (void)buf, (void)len, (void)mr, (void)req;
  return MC_ERR_UNSUPPORTED;
}
static mc_result_t Irecv(void* ep, uint64_t tag, void* buf, size_t len, void* mr, void** req) {
  (void)ep, (void)tag, (void)buf, (void)len, (void)mr, (void)req;
  return MC_ERR_UNSUPPORTED;
}
static mc_result_t Iput(void* ep, const void* buf, size_t len, void* mr, uint64_t remote_addr, void* rkey,
                        uint64_t notify, void** req) {
  (void)ep, (void)buf, (void)len, (void)mr, (void)remote_addr, (void)rkey, (void)notify, (void)req;
  return MC_ERR_UNSUPPORTED;
}
static mc_result_t Test(void* req, int* done, mc_completion_v1_t* completion) {
  (void)req, (void)done, (void)completion;
  return MC_ERR_UNSUPPORTED;
}
static mc_result_t PollNotification(void* ep, mc_notification_v1_t* notification) {
  (void)ep, (void)notification;
  return MC_ERR_UNSUPPORTED;
}
static mc_result_t Reg(void* ctx, void* ptr, size_t len, mc_mem_kind_t kind, void** mr) {
  (void)ctx, (void)ptr, (void)len, (void)kind, (void)mr;
  return MC_ERR_UNSUPPORTED;
}
static mc_result_t Dereg(void* ctx, void* mr) {
  (void)ctx, (void)mr;
  return MC_ERR_UNSUPPORTED;
}
static mc_result_t PackRkey(void* ctx, void* mr, void* buf, size_t* len) {
  (void)ctx, (void)mr, (void)buf, (void)len;
  return MC_ERR_UNSUPPORTED;
}
static mc_result_t UnpackRkey(void* ep, const void* buf, size_t len, void** rkey) {
  (void)ep, (void)buf, (void)len, (void)rkey;
  return MC_ERR_UNSUPPORTED;
}
static mc_result_t DeviceProps(void* ctx, int dev, mc_device_props_v1_t* props) {
  (void)ctx, (void)dev, (void)props;
  return MC_ERR_UNSUPPORTED;
}

static const mc_transport_v1_t kTransport = {
    .init = Init,
    .finalize = Ctx,
    .device_count = DeviceCount,
    .listen = Listen,
    .accept = Accept,
    .close_listener = Ctx,
    .connect = Connect,
    .isend = Isend,
    .irecv = Irecv,
    .iput = Iput,
    .test = Test,
    .poll_notification = PollNotification,
    .progress = Ctx,
    .close = Ctx,
};
static const mc_memory_v1_t kMemory = {
    .reg = Reg,
    .dereg = Dereg,
    .pack_rkey = PackRkey,
    .unpack_rkey = UnpackRkey,
    .release_rkey = Ctx,
};
static const mc_topology_v1_t kTopology = {.device_props = DeviceProps};

/* LEVEL exists so tests can see a plugin's params registered before init. */
static const mc_param_v1_t kParams[] = {
    {"LEVEL", MC_PARAM_INT, "3", "A parameter of the minimal test plugin"},
};

__attribute__((visibility("default"))) const mc_plugin_v1_t mc_plugin_v1 = {
    .abi_version = MC_PLUGIN_ABI_VERSION,
    .name = MINIMAL_NAME,
    .version = MINIMAL_VERSION,
    .params = kParams,
    .num_params = sizeof(kParams) / sizeof(kParams[0]),
    .transport = &kTransport,
    .memory = &kMemory,
    .topology = &kTopology,
};
