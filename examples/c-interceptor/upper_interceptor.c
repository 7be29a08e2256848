/*
 * An example Sluice interceptor in plain C: upper-cases ASCII letters in each
 * event body and stamps a header naming itself. Builds with only the header:
 *
 *   cc -O2 -shared -fPIC -fvisibility=hidden -I ../../sdk/include \
 *      upper_interceptor.c -o libupper_interceptor.so
 *
 * Config:   a1.sources.r1.interceptors = up
 *           a1.sources.r1.interceptors.up.type = upper
 *           a1.sources.r1.interceptors.up.header = stamped-by   (optional)
 */
#include <stdlib.h>
#include <string.h>

#include "sluice_plugin.h"

typedef struct upper {
    const sluice_host_api *host;
    sluice_component *self;
    char *header;         /* owned; header name to set */
    uint8_t *scratch;     /* owned; reused body buffer */
    size_t scratch_cap;
} upper;

static void set_error(sluice_error *err, const char *msg) {
    if (err) {
        strncpy(err->message, msg, SLUICE_ERROR_MESSAGE_MAX - 1);
        err->message[SLUICE_ERROR_MESSAGE_MAX - 1] = 0;
    }
}

static sluice_status upper_create(void *type_data, const sluice_host_api *host,
                                  sluice_component *self, void **out, sluice_error *err) {
    (void)type_data;
    upper *u = calloc(1, sizeof *u);
    if (!u) { set_error(err, "out of memory"); return SLUICE_ERR_NOMEM; }
    u->host = host;
    u->self = self;
    u->header = strdup("intercepted-by");
    *out = u;
    return SLUICE_OK;
}

static sluice_status upper_configure(void *inst, const sluice_property *props, size_t n,
                                     sluice_error *err) {
    upper *u = inst;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(props[i].key, "header") == 0) {
            if (props[i].value[0] == 0) { set_error(err, "property 'header' must not be empty"); return SLUICE_ERR_CONFIG; }
            free(u->header);
            u->header = strdup(props[i].value);
        }
    }
    return SLUICE_OK;
}

static sluice_status upper_start(void *inst, sluice_error *err) { (void)inst; (void)err; return SLUICE_OK; }
static sluice_status upper_stop(void *inst, sluice_error *err) { (void)inst; (void)err; return SLUICE_OK; }

static void upper_destroy(void *inst) {
    upper *u = inst;
    free(u->header);
    free(u->scratch);
    free(u);
}

static sluice_status upper_intercept(void *inst, sluice_batch *batch, sluice_error *err) {
    upper *u = inst;
    static const char value[] = "c-upper";
    size_t hlen = strlen(u->header);
    for (size_t i = 0; i < batch->count; i++) {
        sluice_bytes body = batch->events[i].body;
        if (body.len > u->scratch_cap) {
            uint8_t *p = realloc(u->scratch, body.len);
            if (!p) { set_error(err, "out of memory"); return SLUICE_ERR_NOMEM; }
            u->scratch = p;
            u->scratch_cap = body.len;
        }
        for (size_t j = 0; j < body.len; j++) {
            uint8_t c = body.ptr[j];
            u->scratch[j] = (c >= 'a' && c <= 'z') ? (uint8_t)(c - 32) : c;
        }
        /* The host copies both; our buffers stay ours. */
        u->host->event_set_body(batch, i, u->scratch, body.len);
        u->host->event_set_header(batch, i, (const uint8_t *)u->header, hlen,
                                  (const uint8_t *)value, sizeof value - 1);
    }
    return SLUICE_OK;
}

static const sluice_config_key upper_keys[] = {
    { sizeof(sluice_config_key), SLUICE_VALUE_STRING, "header", "intercepted-by",
      "header set to \"c-upper\" on every event", 0 },
};

static const char *const upper_aliases[] = { "com.example.UpperInterceptor$Builder" };

static const sluice_component_type upper_types[] = {{
    .struct_size = sizeof(sluice_component_type),
    .kind = SLUICE_KIND_INTERCEPTOR,
    .type_name = "upper",
    .aliases = upper_aliases,
    .alias_count = 1,
    .config_key_count = 1,
    .config_keys = upper_keys,
    .description = "Upper-cases ASCII letters in event bodies (C example)",
    .create = upper_create,
    .configure = upper_configure,
    .start = upper_start,
    .stop = upper_stop,
    .destroy = upper_destroy,
    .intercept = upper_intercept,
}};

SLUICE_PLUGIN_ENTRY {
    static const sluice_plugin_descriptor d = {
        .struct_size = sizeof(sluice_plugin_descriptor),
        .abi_major = SLUICE_ABI_MAJOR,
        .abi_minor = SLUICE_ABI_MINOR,
        .name = "example-c-upper",
        .version = "1.0.0",
        .component_type_size = sizeof(sluice_component_type),
        .component_count = 1,
        .components = upper_types,
    };
    return &d;
}
