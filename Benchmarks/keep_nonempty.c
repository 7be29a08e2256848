/* Benchmark: the cheapest real filter in C, keeping every event with a
 * non-empty body: what crossing the ABI costs a C plugin. */
#include "sluice_plugin.h"

static sluice_status ok(void *i, sluice_error *e) { (void)i; (void)e; return SLUICE_OK; }
static sluice_status create(void *td, const sluice_host_api *h, sluice_component *s, void **out, sluice_error *e) {
    (void)td; (void)h; (void)s; (void)e;
    static int instance;
    *out = &instance;
    return SLUICE_OK;
}
static sluice_status configure(void *i, const sluice_property *p, size_t n, sluice_error *e) {
    (void)i; (void)p; (void)n; (void)e;
    return SLUICE_OK;
}
static void destroy(void *i) { (void)i; }
static sluice_status intercept(void *i, sluice_batch *b, sluice_error *e) {
    (void)i; (void)e;
    size_t kept = 0;
    for (size_t j = 0; j < b->count; j++) {
        if (b->events[j].body.len != 0) b->events[kept++] = b->events[j];
    }
    b->count = kept;
    return SLUICE_OK;
}

static const sluice_component_type types[] = {{
    .struct_size = sizeof(sluice_component_type), .kind = SLUICE_KIND_INTERCEPTOR,
    .type_name = "bench_keep_nonempty_c", .description = "Benchmark: keeps events with a non-empty body",
    .create = create, .configure = configure, .start = ok, .stop = ok, .destroy = destroy,
    .intercept = intercept,
}};

SLUICE_PLUGIN_ENTRY {
    static const sluice_plugin_descriptor d = {
        sizeof(sluice_plugin_descriptor), SLUICE_ABI_MAJOR, SLUICE_ABI_MINOR, "bench-keep-nonempty-c", "1.0.0",
        sizeof(sluice_component_type), 1, types };
    return &d;
}
