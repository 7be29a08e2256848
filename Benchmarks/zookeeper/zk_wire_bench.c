/* A lean ZooKeeper-protocol load generator: speaks the wire format directly
 * (ConnectRequest, then pipelined create / getData / setData packets), so the
 * client spends far less CPU per operation than libzookeeper-mt and the
 * server, not the client, is what gets measured. CONNS threads, one session
 * each, WINDOW requests in flight per session; requests are batched into one
 * send() and responses parsed from one recv(). Prints the same lines as
 * zk_bench.c.
 *
 *   zk_wire_bench host port N CONNS WINDOW VALUE
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static const char *host;
static int port, total, conns, window, value_size, phase, per_conn;
static double *latency;
static int errors[64];
static pthread_barrier_t start_b, end_b;
static const char *names[] = {"create", "get", "set"};

static double now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

typedef struct { unsigned char *p; size_t len, cap; } buf_t;
static void put(buf_t *b, const void *d, size_t n) {
    if (b->len + n > b->cap) { b->cap = (b->len + n) * 2; b->p = realloc(b->p, b->cap); }
    memcpy(b->p + b->len, d, n);
    b->len += n;
}
static void put_i32(buf_t *b, int32_t v) { uint32_t x = htonl((uint32_t)v); put(b, &x, 4); }
static void put_i64(buf_t *b, int64_t v) { put_i32(b, (int32_t)(v >> 32)); put_i32(b, (int32_t)v); }
static void put_bytes(buf_t *b, const void *d, int n) { put_i32(b, n); put(b, d, n); }
static int32_t get_i32(const unsigned char *p) { uint32_t x; memcpy(&x, p, 4); return (int32_t)ntohl(x); }

static void write_all(int fd, buf_t *b) {
    size_t off = 0;
    while (off < b->len) {
        ssize_t n = send(fd, b->p + off, b->len - off, 0);
        if (n <= 0) { perror("send"); exit(1); }
        off += n;
    }
    b->len = 0;
}

/* Appends one request packet for op k of connection t. */
static void request(buf_t *b, int t, int k, const char *value) {
    char path[64];
    int plen = snprintf(path, sizeof path, "/wb/t%d-%d", t, k);
    size_t start = b->len;
    put_i32(b, 0);               /* length, patched below */
    put_i32(b, k);               /* xid */
    switch (phase) {
    case 0:
        put_i32(b, 1);
        put_bytes(b, path, plen);
        put_bytes(b, value, value_size);
        put_i32(b, 1); put_i32(b, 31); put_bytes(b, "world", 5); put_bytes(b, "anyone", 6);
        put_i32(b, 0);
        break;
    case 1:
        put_i32(b, 4);
        put_bytes(b, path, plen);
        put(b, "\0", 1);
        break;
    default:
        put_i32(b, 5);
        put_bytes(b, path, plen);
        put_bytes(b, value, value_size);
        put_i32(b, -1);
    }
    uint32_t len = htonl((uint32_t)(b->len - start - 4));
    memcpy(b->p + start, &len, 4);
}

static void *run(void *arg) {
    int t = (int)(intptr_t)arg;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    inet_pton(AF_INET, host, &a.sin_addr);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) { perror("connect"); exit(1); }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    buf_t out = {0};
    char zero[16] = {0};
    size_t start = out.len;
    put_i32(&out, 0);
    put_i32(&out, 0); put_i64(&out, 0); put_i32(&out, 30000); put_i64(&out, 0); put_bytes(&out, zero, 16); put(&out, "\0", 1);
    uint32_t l = htonl((uint32_t)(out.len - start - 4));
    memcpy(out.p + start, &l, 4);
    write_all(fd, &out);
    size_t cap = 1 << 20, have = 0;
    unsigned char *in = malloc(cap);
    /* ConnectResponse */
    while (have < 4 || have < 4 + (size_t)get_i32(in)) {
        ssize_t n = recv(fd, in + have, cap - have, 0);
        if (n <= 0) { fprintf(stderr, "handshake failed\n"); exit(1); }
        have += n;
    }
    have = 0;
    char *value = malloc(value_size);
    memset(value, 'v', value_size);
    double *sent = calloc(per_conn, sizeof *sent);
    for (int p = 0; p < 3; p++) {
        pthread_barrier_wait(&start_b);
        int next = 0, done = 0;
        while (next < per_conn && next < window) { sent[next] = now_ns(); request(&out, t, next, value); next++; }
        write_all(fd, &out);
        while (done < per_conn) {
            ssize_t n = recv(fd, in + have, cap - have, 0);
            if (n <= 0) { fprintf(stderr, "connection lost\n"); exit(1); }
            have += n;
            size_t off = 0;
            double now = now_ns();
            while (have - off >= 4 && have - off >= 4 + (size_t)get_i32(in + off)) {
                int32_t len = get_i32(in + off);
                int32_t xid = get_i32(in + off + 4);
                int32_t err = get_i32(in + off + 16);
                off += 4 + len;
                if (xid < 0) continue;  /* ping or event */
                if (err != 0) errors[t]++;
                latency[(size_t)t * per_conn + xid] = (now - sent[xid]) / 1e6;
                done++;
                if (next < per_conn) { sent[next] = now; request(&out, t, next, value); next++; }
            }
            memmove(in, in + off, have - off);
            have -= off;
            if (out.len) write_all(fd, &out);
        }
        pthread_barrier_wait(&end_b);
    }
    close(fd);
    return NULL;
}

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
    if (argc < 7) { fprintf(stderr, "usage: zk_wire_bench host port N CONNS WINDOW VALUE\n"); return 2; }
    host = argv[1]; port = atoi(argv[2]); total = atoi(argv[3]); conns = atoi(argv[4]);
    window = atoi(argv[5]); value_size = atoi(argv[6]);
    if (conns > 64) conns = 64;
    per_conn = total / conns;
    total = per_conn * conns;
    latency = calloc(total, sizeof *latency);
    pthread_barrier_init(&start_b, NULL, conns + 1);
    pthread_barrier_init(&end_b, NULL, conns + 1);
    /* The parent node, through one short-lived session. */
    {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
        inet_pton(AF_INET, host, &a.sin_addr);
        if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) { perror("connect"); return 1; }
        buf_t b = {0};
        char zero[16] = {0};
        put_i32(&b, 45); put_i32(&b, 0); put_i64(&b, 0); put_i32(&b, 30000); put_i64(&b, 0); put_bytes(&b, zero, 16); put(&b, "\0", 1);
        size_t s = b.len;
        put_i32(&b, 0); put_i32(&b, 1); put_i32(&b, 1); put_bytes(&b, "/wb", 3); put_bytes(&b, "", 0);
        put_i32(&b, 1); put_i32(&b, 31); put_bytes(&b, "world", 5); put_bytes(&b, "anyone", 6); put_i32(&b, 0);
        uint32_t l = htonl((uint32_t)(b.len - s - 4));
        memcpy(b.p + s, &l, 4);
        write_all(fd, &b);
        unsigned char tmp[256];
        usleep(200000);
        recv(fd, tmp, sizeof tmp, MSG_DONTWAIT);
        close(fd);
    }
    pthread_t th[64];
    for (int t = 0; t < conns; t++) pthread_create(&th[t], NULL, run, (void *)(intptr_t)t);
    for (phase = 0; phase < 3; phase++) {
        memset(errors, 0, sizeof errors);
        double t0 = now_ns();
        pthread_barrier_wait(&start_b);
        pthread_barrier_wait(&end_b);
        double secs = (now_ns() - t0) / 1e9;
        int errs = 0;
        for (int t = 0; t < conns; t++) errs += errors[t];
        qsort(latency, total, sizeof *latency, cmp);
        printf("%s ops/s=%.0f p50_ms=%.3f p99_ms=%.3f errors=%d\n", names[phase], total / secs,
               latency[total / 2], latency[(int)(total * 0.99)], errs);
        fflush(stdout);
    }
    for (int t = 0; t < conns; t++) pthread_join(th[t], NULL);
    return 0;
}
