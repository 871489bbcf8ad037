/*
 * MoonComm transport plugin ABI.
 *
 * A transport plugin is a shared library that includes this header and nothing
 * else of MoonComm's. It exports one const struct per ABI version it supports,
 * named by MC_PLUGIN_SYMBOL_V<N> ("mc_plugin_v1", later "mc_plugin_v2", ...).
 * The core looks for the newest version it knows first and adapts older ones.
 * The built-in transports (tcp, shm) implement exactly this ABI too.
 *
 * Rules every plugin follows:
 *  - No call blocks. "Not yet" is MC_AGAIN, a normal answer, never an error.
 *  - The core calls into one plugin context from one thread at a time, so a
 *    plugin needs no locks of its own unless it runs its own threads.
 *  - host->peer_failed may be called from any thread, at any time after the
 *    endpoint was handed to the core and before close(ep) returns, at most
 *    once per endpoint.
 *  - Every request handed out completes exactly once through test(); after
 *    test() reports done the handle is freed by the plugin and never used again.
 *  - close(ep) completes the endpoint's in-flight requests with MC_ERR_CLOSED;
 *    their handles stay valid until test() reports them done. When the peer
 *    closes its end, pending requests complete with MC_ERR_PEER_LOST.
 *  - Every function pointer in every table is required; what a plugin does not
 *    support returns MC_ERR_UNSUPPORTED. The loader rejects NULL entries.
 *  - No C++ types, exceptions or ownership of core memory cross this boundary.
 */
#ifndef MOONCOMM_PLUGIN_ABI_H_
#define MOONCOMM_PLUGIN_ABI_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MC_PLUGIN_ABI_VERSION 1
#define MC_PLUGIN_SYMBOL_V1 "mc_plugin_v1"

#define MC_MAX_ADDR_BYTES 128  /* opaque listen address exchanged via bootstrap */
#define MC_MAX_HELLO_BYTES 64  /* bytes a connector hands to the acceptor */
#define MC_MAX_RKEY_BYTES 256  /* packed remote key */
#define MC_MAX_NAME_BYTES 64

typedef enum mc_result {
  MC_SUCCESS = 0,
  MC_AGAIN = 1,            /* not done yet, or no resources right now: call again */
  MC_ERR_INVALID_ARG = 2,  /* a bad argument: null handle, bad length, bad device */
  MC_ERR_UNSUPPORTED = 3,  /* the plugin does not do this (memory kind, operation) */
  MC_ERR_NO_DEVICE = 4,    /* no usable device: the plugin cannot run here */
  MC_ERR_NO_MEMORY = 5,
  MC_ERR_TRUNCATED = 6,    /* the incoming message is larger than the posted buffer */
  MC_ERR_PEER_LOST = 7,    /* the endpoint's peer is gone (process died, link down) */
  MC_ERR_CLOSED = 8,       /* the endpoint was closed locally; the request was cancelled */
  MC_ERR_TIMEOUT = 9,
  MC_ERR_PROTOCOL = 10,    /* garbage or an impossible header from the wire */
  MC_ERR_ACCESS = 11,      /* remote key invalid, or a put outside the registered region */
  MC_ERR_INTERNAL = 12
} mc_result_t;

typedef enum mc_log_level {
  MC_LOG_ERROR = 0,
  MC_LOG_WARN = 1,
  MC_LOG_INFO = 2,
  MC_LOG_DEBUG = 3,
  MC_LOG_TRACE = 4
} mc_log_level_t;

typedef enum mc_mem_kind {
  MC_MEM_HOST = 0,   /* pageable or pinned host memory */
  MC_MEM_CUDA = 1,   /* CUDA device memory */
  MC_MEM_DMABUF = 2  /* a dma-buf file descriptor */
} mc_mem_kind_t;

#define MC_MEM_KIND_BIT(kind) (1u << (kind))

typedef enum mc_param_type {
  MC_PARAM_INT = 0,    /* signed decimal integer */
  MC_PARAM_BOOL = 1,   /* 0/1, true/false, yes/no, on/off */
  MC_PARAM_SIZE = 2,   /* bytes, with optional K/M/G suffix (powers of 1024) */
  MC_PARAM_STRING = 3
} mc_param_type_t;

/* A parameter a plugin reads. Its full name is MC_<PLUGIN NAME>_<name>,
 * upper-cased, e.g. the tcp plugin's "EAGER_LIMIT" is MC_TCP_EAGER_LIMIT. */
typedef struct mc_param_v1 {
  const char* name;
  mc_param_type_t type;
  const char* default_value;
  const char* help; /* one line */
} mc_param_v1_t;

/* What the core hands a plugin at init. */
typedef struct mc_host_v1 {
  void* ctx;
  void (*log)(void* ctx, mc_log_level_t level, const char* message);
  /* Looks up one of the plugin's declared params by its short name. Writes the
   * value (or the declared default) NUL-terminated and normalized: ints and
   * sizes as plain decimal ("3K" arrives as "3072"), bools as "1" or "0".
   * The core has already rejected malformed values. Returns MC_ERR_INVALID_ARG
   * for an undeclared name and MC_ERR_NO_MEMORY when value_len is too small. */
  mc_result_t (*get_param)(void* ctx, const char* name, char* value, size_t value_len);
  /* The peer of `ep` is gone. `reason` is MC_ERR_PEER_LOST or MC_ERR_TIMEOUT;
   * `detail` says what was seen ("connection reset", "process exited"). */
  void (*peer_failed)(void* ctx, void* ep, mc_result_t reason, const char* detail);
} mc_host_v1_t;

/* Per device, what the topology layer and the tuner need. */
typedef struct mc_device_props_v1 {
  char name[MC_MAX_NAME_BYTES];  /* "lo", "mlx5_0", "shm" */
  char pci_path[256];            /* sysfs path of the PCI device, "" when none */
  int32_t numa_node;             /* -1 when unknown */
  int32_t rail;                  /* rail index for multi-rail fabrics, 0 when single */
  double bandwidth_gbps;         /* expected point-to-point rate, Gbit/s; 0 when unknown */
  double latency_us;             /* expected one-way small-message latency */
  uint32_t mem_kinds;            /* MC_MEM_KIND_BIT mask of registrable memory */
  int32_t same_host_only;        /* 1: reaches only peers on this host (shm, cuda-ipc) */
  uint64_t max_message_bytes;    /* largest message (isend/iput length); a receive
                                    buffer may be larger */
} mc_device_props_v1_t;

typedef struct mc_completion_v1 {
  mc_result_t status;
  uint64_t tag;  /* the tag of a received message */
  size_t bytes;  /* bytes sent, received or put */
} mc_completion_v1_t;

/* Delivered to the target of an iput after all of the put's data is visible. */
typedef struct mc_notification_v1 {
  uint64_t value;  /* the initiator's notify value */
  uint64_t addr;   /* target address the data was written to */
  size_t bytes;
} mc_notification_v1_t;

typedef struct mc_transport_v1 {
  /* Opens the plugin. With no usable device returns MC_ERR_NO_DEVICE and says
   * why in err ("no RDMA device found"). */
  mc_result_t (*init)(const mc_host_v1_t* host, void** ctx, char* err, size_t err_len);
  /* Closes everything the context still owns. */
  mc_result_t (*finalize)(void* ctx);
  mc_result_t (*device_count)(void* ctx, int* count);

  /* Starts listening on device `dev`. Writes an opaque address of at most
   * MC_MAX_ADDR_BYTES (*addr_len in: capacity, out: used). */
  mc_result_t (*listen)(void* ctx, int dev, void* addr, size_t* addr_len, void** listener);
  /* MC_AGAIN until a connector's hello has arrived; then hands out the
   * endpoint and the hello (*hello_len in: capacity, out: used). */
  mc_result_t (*accept)(void* listener, void** ep, void* hello, size_t* hello_len);
  mc_result_t (*close_listener)(void* listener);
  /* Starts connecting and returns the endpoint at once; operations posted
   * before the connection is up are queued. A connection that cannot be made
   * completes the endpoint's requests with MC_ERR_PEER_LOST. */
  mc_result_t (*connect)(void* ctx, int dev, const void* addr, size_t addr_len,
                         const void* hello, size_t hello_len, void** ep);

  /* Tagged messages. Matching is per endpoint and tag, in posting order. A
   * message of 0 bytes is valid. `mr` is a registration covering buf, or NULL. */
  mc_result_t (*isend)(void* ep, uint64_t tag, const void* buf, size_t len, void* mr, void** req);
  mc_result_t (*irecv)(void* ep, uint64_t tag, void* buf, size_t len, void* mr, void** req);
  /* One-sided write into the peer's registered memory at remote_addr, then a
   * notification carrying `notify` to the peer, never before the data. */
  mc_result_t (*iput)(void* ep, const void* buf, size_t len, void* mr, uint64_t remote_addr,
                      void* rkey, uint64_t notify, void** req);
  /* *done = 1 and *completion filled when the request has finished (then the
   * handle is freed); *done = 0 otherwise. Makes progress as needed. Returns
   * MC_SUCCESS (or MC_AGAIN with *done = 0); the operation's own outcome is
   * completion->status. A put's target address and a notification's addr are
   * addresses in the target process. */
  mc_result_t (*test)(void* req, int* done, mc_completion_v1_t* completion);
  /* Next notification for puts the peer of `ep` made into our memory; MC_AGAIN if none. */
  mc_result_t (*poll_notification)(void* ep, mc_notification_v1_t* notification);
  /* Drives all endpoints of the context; detects lost peers. Returns
   * MC_SUCCESS or MC_AGAIN. */
  mc_result_t (*progress)(void* ctx);
  mc_result_t (*close)(void* ep);
} mc_transport_v1_t;

typedef struct mc_memory_v1 {
  mc_result_t (*reg)(void* ctx, void* ptr, size_t len, mc_mem_kind_t kind, void** mr);
  mc_result_t (*dereg)(void* ctx, void* mr);
  /* *len in: capacity of buf, out: bytes used (at most MC_MAX_RKEY_BYTES). */
  mc_result_t (*pack_rkey)(void* ctx, void* mr, void* buf, size_t* len);
  /* Remote keys are per endpoint: a key from the peer of `ep`. */
  mc_result_t (*unpack_rkey)(void* ep, const void* buf, size_t len, void** rkey);
  mc_result_t (*release_rkey)(void* rkey);
} mc_memory_v1_t;

typedef struct mc_topology_v1 {
  mc_result_t (*device_props)(void* ctx, int dev, mc_device_props_v1_t* props);
} mc_topology_v1_t;

typedef struct mc_plugin_v1 {
  uint32_t abi_version;  /* MC_PLUGIN_ABI_VERSION the struct was built for: 1 */
  const char* name;      /* short lower-case name used by MC_TRANSPORT: "tcp", "ucx" */
  const char* version;   /* the plugin's own version string */
  const mc_param_v1_t* params;
  size_t num_params;
  const mc_transport_v1_t* transport;
  const mc_memory_v1_t* memory;
  const mc_topology_v1_t* topology;
} mc_plugin_v1_t;

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* MOONCOMM_PLUGIN_ABI_H_ */
