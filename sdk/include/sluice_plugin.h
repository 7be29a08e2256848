/*
 * sluice_plugin.h - the Sluice plugin ABI.
 *
 * A plugin is a shared library that exports exactly one symbol,
 * SLUICE_PLUGIN_ENTRY_SYMBOL, returning a static descriptor of the component
 * types it provides. Everything the plugin may call in the host arrives as a
 * table of function pointers (sluice_host_api); a plugin links against no
 * host symbol, so it can be written in C, Rust or Swift with only this header.
 *
 * Versioning
 *   Every struct that crosses the boundary starts with its size and grows only
 *   at the end. The host accepts any plugin with the same ABI major and reads
 *   min(struct_size, known size) of each struct, treating missing fields as
 *   zero/NULL. A different major is refused at load time.
 *
 * Ownership rules (the short form; each function repeats its own)
 *   - "borrowed": valid only for the duration of the call that passed it.
 *   - Data the host allocates (batches, events, metrics) is released by the host.
 *   - Data a plugin allocates (instances) is released by the plugin (destroy).
 *   - Strings are UTF-8. `sluice_bytes` are not NUL-terminated; `const char *`
 *     fields are.
 *
 * Status codes are small, closed, and 0 means OK. A message travels separately
 * in a caller-provided sluice_error. Nothing may unwind across the boundary:
 * C++ exceptions, Rust panics and Swift errors must be caught in the plugin.
 */
#ifndef SLUICE_PLUGIN_H
#define SLUICE_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SLUICE_ABI_MAJOR 1
#define SLUICE_ABI_MINOR 0

/* The one symbol a plugin exports (see sluice_plugin_entry_fn). */
#define SLUICE_PLUGIN_ENTRY_SYMBOL "sluice_plugin_entry"

#if defined(__GNUC__) || defined(__clang__)
#define SLUICE_EXPORT __attribute__((visibility("default")))
#else
#define SLUICE_EXPORT
#endif

/* ------------------------------------------------------------------------ */
/* Status codes                                                              */
/* ------------------------------------------------------------------------ */

typedef int32_t sluice_status;

enum {
    SLUICE_OK = 0,
    /* Not an error: nothing to do now, or no room downstream; retry later.
     * A source's submit returns it when a channel is full; a source's or
     * sink's process returns it when it had no events. */
    SLUICE_BACKOFF = 1,
    /* Not an error: "not mine, pass it on" (e.g. a selector that has no
     * opinion on a batch and lets the default selection stand). */
    SLUICE_DECLINED = 2,

    SLUICE_ERR_GENERIC = -1,   /* anything else; see the message */
    SLUICE_ERR_CONFIG = -2,    /* a property is missing or has a bad value */
    SLUICE_ERR_IO = -3,        /* an I/O operation failed */
    SLUICE_ERR_STATE = -4,     /* call not valid in the current lifecycle state */
    SLUICE_ERR_NOMEM = -5,     /* allocation failed */
    SLUICE_ERR_LIMIT = -6      /* a batch exceeds a channel's transactionCapacity */
};

/* A caller-provided error message buffer. The callee writes a NUL-terminated
 * UTF-8 message when it returns a negative status (and may when it returns
 * SLUICE_BACKOFF). The caller owns the struct; callee never keeps the pointer. */
#define SLUICE_ERROR_MESSAGE_MAX 512
typedef struct sluice_error {
    char message[SLUICE_ERROR_MESSAGE_MAX];
} sluice_error;

/* ------------------------------------------------------------------------ */
/* Events and batches                                                        */
/* ------------------------------------------------------------------------ */

/* A byte string. Not NUL-terminated. */
typedef struct sluice_bytes {
    const uint8_t *ptr;
    size_t len;
} sluice_bytes;

typedef struct sluice_header {
    sluice_bytes key;
    sluice_bytes value;
} sluice_header;

/* One event: headers (key/value byte strings) and a body.
 * All pointed-to memory belongs to the batch that holds the event and stays
 * valid until that batch is cleared, submitted successfully, committed or
 * rolled back. Plugins never write through these pointers; they change an
 * event with the host's event_* functions, which copy into the batch. */
typedef struct sluice_event {
    const sluice_header *headers;
    uint32_t header_count;
    uint32_t reserved; /* zero */
    sluice_bytes body;
} sluice_event;

/* A batch of events, always host-allocated.
 *
 * `events` points at `count` events. Interceptors may reorder and drop events
 * by rearranging this array in place and lowering `count` (never raising it);
 * that is how filtering works without a call per event.
 * The `events` pointer may change after batch_append: re-read it.
 * `host_private` is the host's; plugins must not touch it. */
typedef struct sluice_batch {
    uint32_t struct_size;
    uint32_t reserved;
    sluice_event *events;
    size_t count;
    void *host_private;
} sluice_batch;

/* ------------------------------------------------------------------------ */
/* Host API: the table of services handed to every component                */
/* ------------------------------------------------------------------------ */

/* The host's handle for one component instance; the first argument of most
 * host calls. Owned by the host, valid from create until destroy returns. */
typedef struct sluice_component sluice_component;

/* A counter or gauge registered by a component; owned by the host. */
typedef struct sluice_metric sluice_metric;

typedef enum sluice_log_level {
    SLUICE_LOG_TRACE = 0,
    SLUICE_LOG_DEBUG = 1,
    SLUICE_LOG_INFO = 2,
    SLUICE_LOG_WARN = 3,
    SLUICE_LOG_ERROR = 4
} sluice_log_level;

typedef enum sluice_metric_kind {
    SLUICE_METRIC_COUNTER = 0, /* only grows; metric_add */
    SLUICE_METRIC_GAUGE = 1    /* any value; metric_set */
} sluice_metric_kind;

typedef struct sluice_host_api {
    uint32_t struct_size;
    uint16_t abi_major;
    uint16_t abi_minor;

    /* --- Logging. Any thread, any time between create and destroy; never
     * blocks for long. `msg` is borrowed. */
    void (*log)(sluice_component *self, sluice_log_level level,
                const char *msg, size_t msg_len);

    /* --- Metrics. metric() registers (or finds) a counter or gauge named
     * `name` (borrowed) for this component; call it from create, configure
     * or start. The returned handle is owned by the host and valid until
     * destroy. metric_add/metric_set: any thread, lock-free. */
    sluice_metric *(*metric)(sluice_component *self, const char *name,
                             sluice_metric_kind kind);
    void (*metric_add)(sluice_metric *metric, int64_t delta);
    void (*metric_set)(sluice_metric *metric, int64_t value);

    /* --- Batches. A batch is owned by the component that created it and
     * released with batch_free (the host frees everything in it). One
     * thread at a time may use a batch. */
    sluice_batch *(*batch_new)(sluice_component *self, size_t capacity_hint);
    void (*batch_free)(sluice_batch *batch);
    /* Empties a batch the caller created (never one passed to intercept);
     * previously returned event pointers become invalid. */
    void (*batch_clear)(sluice_batch *batch);
    /* Appends one event, copying `body` and the headers (all borrowed).
     * Returns SLUICE_ERR_NOMEM on allocation failure. */
    sluice_status (*batch_append)(sluice_batch *batch,
                                  const uint8_t *body, size_t body_len,
                                  const sluice_header *headers, size_t header_count);

    /* --- Changing one event of a batch (interceptors; sources before submit).
     * The new bytes are copied into the batch; `index` < batch->count.
     * Old pointers of that event's headers/body may become stale. */
    sluice_status (*event_set_header)(sluice_batch *batch, size_t index,
                                      const uint8_t *key, size_t key_len,
                                      const uint8_t *value, size_t value_len);
    /* Returns SLUICE_DECLINED when the event had no such header. */
    sluice_status (*event_remove_header)(sluice_batch *batch, size_t index,
                                         const uint8_t *key, size_t key_len);
    sluice_status (*event_set_body)(sluice_batch *batch, size_t index,
                                    const uint8_t *body, size_t body_len);

    /* --- Sources: hand a batch to the channel processor (interceptors,
     * selector, then one transaction per required channel: all commit or
     * none does).
     *   SLUICE_OK       committed; the batch is now empty and reusable.
     *   SLUICE_BACKOFF  a channel was full; nothing was committed and the
     *                   batch holds the original events again: retry later.
     *   < 0             error (message in err); nothing was committed and
     *                   the batch holds the original events.
     * Any source thread; may block up to the channel's keep-alive waiting for
     * room. Not from inside another component's callback. */
    sluice_status (*source_submit)(sluice_component *self, sluice_batch *batch,
                                   sluice_error *err);

    /* --- Sinks: one transaction at a time per sink, on the thread that runs
     * the sink's process(). sink_take opens a transaction (or continues the
     * open one) and takes up to `max` events from the sink's channel; it
     * waits briefly when the channel is empty. `*out` is owned by the host,
     * read-only to the sink, and valid until sink_commit or sink_rollback.
     * sink_take returns SLUICE_BACKOFF with an empty batch when there was
     * nothing to take. A transaction left open when process() returns is
     * rolled back by the host (and logged). */
    sluice_status (*sink_take)(sluice_component *self, size_t max,
                               const sluice_batch **out, sluice_error *err);
    sluice_status (*sink_commit)(sluice_component *self, sluice_error *err);
    void (*sink_rollback)(sluice_component *self);

    /* --- Lifecycle queries. Any thread. Returns non-zero once the host has
     * begun stopping this component: long loops should check it. */
    int (*is_stopping)(sluice_component *self);
    /* The component's name in the config (e.g. "r1") and the agent's name,
     * NUL-terminated, owned by the host, valid until destroy. */
    const char *(*component_name)(sluice_component *self);
    const char *(*agent_name)(sluice_component *self);
} sluice_host_api;

/* ------------------------------------------------------------------------ */
/* Plugin side: descriptor and component types                               */
/* ------------------------------------------------------------------------ */

typedef enum sluice_kind {
    SLUICE_KIND_SOURCE = 1,
    SLUICE_KIND_SINK = 2,
    SLUICE_KIND_INTERCEPTOR = 3,
    SLUICE_KIND_SELECTOR = 4,
    SLUICE_KIND_SERVICE = 5
} sluice_kind;

typedef enum sluice_value_type {
    SLUICE_VALUE_STRING = 0,
    SLUICE_VALUE_INT = 1,
    SLUICE_VALUE_BOOL = 2,
    SLUICE_VALUE_DOUBLE = 3,
    SLUICE_VALUE_LIST = 4 /* whitespace-separated names */
} sluice_value_type;

/* A configuration key a component understands. `name` may end in ".*" to
 * accept every key under that prefix (e.g. "serializers.*"). The host warns
 * about keys that match none of a component's declared keys, checks
 * `required` keys and typed values, and prints these as reference docs. */
typedef struct sluice_config_key {
    uint32_t struct_size;
    sluice_value_type type;
    const char *name;
    const char *default_value; /* NULL: no default */
    const char *doc;           /* one line */
    int32_t required;          /* non-zero: configure fails without it */
} sluice_config_key;

/* One property handed to configure(). Both strings borrowed for the call. */
typedef struct sluice_property {
    const char *key;   /* relative to the component: "batchSize" */
    const char *value;
} sluice_property;

/*
 * A component type. Which function pointers must be set depends on `kind`:
 *   all kinds:   create, configure, start, stop, destroy
 *   SOURCE:      process optional: set  -> "pollable", the host calls process()
 *                                          in a loop on a runner thread;
 *                                 NULL  -> "event-driven", the source starts
 *                                          its own threads in start() and
 *                                          calls source_submit from them.
 *   SINK:        process required.
 *   INTERCEPTOR: intercept required.
 *   SELECTOR:    select required.
 *   SERVICE:     none beyond the lifecycle.
 *
 * Threading contract for every component:
 *   create, configure, start, stop, destroy are called by the host's control
 *   thread, one at a time, in that order (stop/destroy may follow a failed
 *   configure or start). process/intercept/select run only between a
 *   successful start and the call to stop: the host joins its runner
 *   threads and stops upstream sources before it calls stop.
 *   After destroy returns the plugin must not call the host and must have
 *   joined every thread it started.
 */
typedef struct sluice_component_type {
    uint32_t struct_size;
    sluice_kind kind;
    /* Short, case-insensitive type name used in configs: "timestamp". */
    const char *type_name;
    /* Other names that resolve to this type, e.g. Flume's Java class names
     * "org.apache.flume.interceptor.TimestampInterceptor$Builder". */
    const char *const *aliases;
    uint32_t alias_count;
    uint32_t config_key_count;
    const sluice_config_key *config_keys;
    const char *description; /* one line */
    /* Passed back to create; lets one set of functions serve many types. */
    void *type_data;

    /* Creates an instance. `host` and `self` stay valid until destroy returns;
     * keep them. Writes the plugin-owned instance pointer to *instance_out. */
    sluice_status (*create)(void *type_data, const sluice_host_api *host,
                            sluice_component *self, void **instance_out,
                            sluice_error *err);
    /* Applies the component's properties (borrowed array of `count`). Called
     * once, before start. Return SLUICE_ERR_CONFIG naming the key on bad input. */
    sluice_status (*configure)(void *instance, const sluice_property *props,
                               size_t count, sluice_error *err);
    /* Begins work: open sockets, start threads. Must not block indefinitely. */
    sluice_status (*start)(void *instance, sluice_error *err);
    /* Ends work. For event-driven sources: stop calling source_submit and join
     * threads before returning. May block until in-flight work is done. */
    sluice_status (*stop)(void *instance, sluice_error *err);
    /* Frees the instance. Always called exactly once after create succeeded. */
    void (*destroy)(void *instance);

    /* SOURCE (pollable) and SINK: one unit of work. Called repeatedly on one
     * dedicated runner thread. May block (bounded), may call source_submit /
     * sink_take / sink_commit / sink_rollback. Return SLUICE_OK after doing
     * work, SLUICE_BACKOFF when there was nothing to do (the runner sleeps,
     * growing the delay), or an error (logged; the runner sleeps). */
    sluice_status (*process)(void *instance, sluice_error *err);

    /* INTERCEPTOR: transforms a batch in place on the submitting source's
     * thread. Calls for one instance are never concurrent. May change events
     * with event_* host calls, may drop/reorder by editing batch->events and
     * lowering batch->count, must not add events nor keep pointers after
     * returning. Must not block. An error rejects the whole submit. */
    sluice_status (*intercept)(void *instance, sluice_batch *batch,
                               sluice_error *err);

    /* SELECTOR: chooses channels per event. The instance learned its source's
     * channel list (in order, at most 64) from the "channels" property during
     * configure; bit i of a mask is channel i. For each event j it writes
     * required[j] and optional[j] (arrays of batch->count, host-owned,
     * zero-filled on entry). Same threading as intercept. */
    sluice_status (*select)(void *instance, const sluice_batch *batch,
                            uint64_t *required, uint64_t *optional,
                            sluice_error *err);
} sluice_component_type;

/* What the entry symbol returns: static data, valid for the life of the
 * process (plugins are never unloaded). */
typedef struct sluice_plugin_descriptor {
    uint32_t struct_size;
    uint16_t abi_major;
    uint16_t abi_minor;
    const char *name;    /* e.g. "flume-interceptors" */
    const char *version; /* e.g. "1.0.0" */
    /* sizeof(sluice_component_type) as the plugin was compiled: the stride
     * of `components`, so newer hosts can read older plugins. */
    uint32_t component_type_size;
    uint32_t component_count;
    const sluice_component_type *components;
} sluice_plugin_descriptor;

/* Signature of the exported entry symbol. Called once per load, from the
 * host's control thread; must not call the host. */
typedef const sluice_plugin_descriptor *(*sluice_plugin_entry_fn)(void);

/* Convenience for C plugins:
 *   SLUICE_PLUGIN_ENTRY { static sluice_plugin_descriptor d = {...}; return &d; } */
#define SLUICE_PLUGIN_ENTRY \
    SLUICE_EXPORT const sluice_plugin_descriptor *sluice_plugin_entry(void)

#ifdef __cplusplus
}
#endif

#endif /* SLUICE_PLUGIN_H */
