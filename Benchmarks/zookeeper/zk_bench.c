/* Drives a ZooKeeper-protocol server with the C client (libzookeeper-mt):
 * CONNS sessions, each keeping WINDOW asynchronous requests outstanding.
 * Three phases over N znodes /bench/n<i> with VALUE-byte data: create, get,
 * set. Prints one line per phase: ops/s and p50 / p99 latency in ms.
 *
 *   zk_bench host:port N CONNS WINDOW VALUE
 */
#define THREADED 1
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zookeeper/zookeeper.h>

enum { CREATE, GET, SET };
static const char *names[] = {"create", "get", "set"};

static zhandle_t **handles;
static int conns, window, value_size, total;
static char *value;
static int phase;
static atomic_int next_op, done_ops, errors;
static double *latency;      /* ms, per op */
static double *started;      /* ns timestamp, per op */
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static atomic_int connected;

static double now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static void watcher(zhandle_t *zh, int type, int state, const char *path, void *ctx) {
    (void)zh; (void)path; (void)ctx;
    if (type == ZOO_SESSION_EVENT && state == ZOO_CONNECTED_STATE) atomic_fetch_add(&connected, 1);
}

static void issue(int h);

static void finished(intptr_t i, int rc) {
    latency[i] = (now_ns() - started[i]) / 1e6;
    if (rc != ZOK) atomic_fetch_add(&errors, 1);
    issue((int)(i % conns));
    if (atomic_fetch_add(&done_ops, 1) + 1 == total) {
        pthread_mutex_lock(&mu);
        pthread_cond_signal(&cv);
        pthread_mutex_unlock(&mu);
    }
}

static void string_done(int rc, const char *v, const void *d) { (void)v; finished((intptr_t)d, rc); }
static void data_done(int rc, const char *v, int len, const struct Stat *s, const void *d) {
    (void)v; (void)len; (void)s; finished((intptr_t)d, rc);
}
static void stat_done(int rc, const struct Stat *s, const void *d) { (void)s; finished((intptr_t)d, rc); }

/* Issues the next op of this phase on handle h, if any remain. */
static void issue(int h) {
    int i = atomic_fetch_add(&next_op, 1);
    if (i >= total) return;
    /* Ops are spread over handles by index so each handle keeps its window. */
    char path[64];
    snprintf(path, sizeof path, "/bench/n%d", i);
    started[i] = now_ns();
    const void *d = (const void *)(intptr_t)i;
    int rc;
    switch (phase) {
    case CREATE: rc = zoo_acreate(handles[h], path, value, value_size, &ZOO_OPEN_ACL_UNSAFE, 0, string_done, d); break;
    case GET: rc = zoo_aget(handles[h], path, 0, data_done, d); break;
    default: rc = zoo_aset(handles[h], path, value, value_size, -1, stat_done, d); break;
    }
    if (rc != ZOK) finished(i, rc);
}

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
    if (argc < 6) { fprintf(stderr, "usage: zk_bench host:port N CONNS WINDOW VALUE\n"); return 2; }
    total = atoi(argv[2]);
    conns = atoi(argv[3]);
    window = atoi(argv[4]);
    value_size = atoi(argv[5]);
    value = malloc(value_size);
    memset(value, 'v', value_size);
    latency = calloc(total, sizeof *latency);
    started = calloc(total, sizeof *started);
    zoo_set_debug_level(ZOO_LOG_LEVEL_ERROR);
    handles = calloc(conns, sizeof *handles);
    for (int h = 0; h < conns; h++) handles[h] = zookeeper_init(argv[1], watcher, 30000, 0, 0, 0);
    for (int t = 0; t < 1000 && atomic_load(&connected) < conns; t++) usleep(10000);
    if (atomic_load(&connected) < conns) { fprintf(stderr, "could not connect\n"); return 1; }
    zoo_create(handles[0], "/bench", "", 0, &ZOO_OPEN_ACL_UNSAFE, 0, NULL, 0);

    for (phase = CREATE; phase <= SET; phase++) {
        atomic_store(&next_op, 0);
        atomic_store(&done_ops, 0);
        atomic_store(&errors, 0);
        double t0 = now_ns();
        pthread_mutex_lock(&mu);
        for (int h = 0; h < conns; h++)
            for (int w = 0; w < window; w++) issue(h);
        while (atomic_load(&done_ops) < total) pthread_cond_wait(&cv, &mu);
        pthread_mutex_unlock(&mu);
        double secs = (now_ns() - t0) / 1e9;
        qsort(latency, total, sizeof *latency, cmp);
        printf("%s ops/s=%.0f p50_ms=%.3f p99_ms=%.3f errors=%d\n", names[phase], total / secs,
               latency[total / 2], latency[(int)(total * 0.99)], atomic_load(&errors));
        fflush(stdout);
    }
    for (int h = 0; h < conns; h++) zookeeper_close(handles[h]);
    return 0;
}
