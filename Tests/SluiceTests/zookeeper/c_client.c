/* The ZooKeeper C client (libzookeeper-mt) against the coordinator: session,
 * create / create2 / TTL, get / set with versions, a data watch, children,
 * multi, digest auth and ACLs, delete. Prints "OK <step>" lines; exits 1 on
 * the first failure with the step and the error. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#define THREADED 1
#include <zookeeper/zookeeper.h>

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int connected = 0;
static int changed = 0;
static int child_changed = 0;

static void watcher(zhandle_t *zh, int type, int state, const char *path, void *ctx) {
    (void)zh; (void)ctx;
    pthread_mutex_lock(&mu);
    if (type == ZOO_SESSION_EVENT && state == ZOO_CONNECTED_STATE) connected = 1;
    if (type == ZOO_SESSION_EVENT && state != ZOO_CONNECTED_STATE) connected = 0;
    if (type == ZOO_CHANGED_EVENT && (strcmp(path, "/c/node") == 0 || strcmp(path, "/cr/x") == 0)) changed++;
    if (type == ZOO_CHILD_EVENT && strcmp(path, "/cr") == 0) child_changed++;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
}

static void check(int rc, int want, const char *step) {
    if (rc != want) {
        fprintf(stderr, "FAIL %s: got %d (%s), wanted %d\n", step, rc, zerror(rc), want);
        exit(1);
    }
}

static void wait_for(int *flag, int value) {
    pthread_mutex_lock(&mu);
    for (int i = 0; i < 100 && *flag < value; i++) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 100000000;
        if (ts.tv_nsec >= 1000000000) { ts.tv_sec++; ts.tv_nsec -= 1000000000; }
        pthread_cond_timedwait(&cv, &mu, &ts);
    }
    pthread_mutex_unlock(&mu);
}

static int restart_mode(zhandle_t *zh, const char *marker);

int main(int argc, char **argv) {
    if (argc < 2) { fprintf(stderr, "usage: c_client host:port [--restart MARKER_DIR]\n"); return 2; }
    zoo_set_debug_level(ZOO_LOG_LEVEL_ERROR);
    zhandle_t *zh = zookeeper_init(argv[1], watcher, 10000, 0, 0, 0);
    if (!zh) { perror("zookeeper_init"); return 1; }
    wait_for(&connected, 1);
    if (!connected) { fprintf(stderr, "FAIL connect\n"); return 1; }
    printf("OK connect timeout=%d\n", zoo_recv_timeout(zh));
    if (argc == 4 && strcmp(argv[2], "--restart") == 0) return restart_mode(zh, argv[3]);

    char buf[256];
    check(zoo_create(zh, "/c", "root", 4, &ZOO_OPEN_ACL_UNSAFE, 0, buf, sizeof buf), ZOK, "create /c");
    check(zoo_create(zh, "/c", "root", 4, &ZOO_OPEN_ACL_UNSAFE, 0, buf, sizeof buf), ZNODEEXISTS, "create /c twice");
    struct Stat st;
    check(zoo_create2(zh, "/c/node", "v0", 2, &ZOO_OPEN_ACL_UNSAFE, 0, buf, sizeof buf, &st), ZOK, "create2");
    if (st.dataLength != 2 || st.version != 0) { fprintf(stderr, "FAIL create2 stat\n"); return 1; }
    check(zoo_create(zh, "/c/s-", "", 0, &ZOO_OPEN_ACL_UNSAFE, ZOO_EPHEMERAL_SEQUENTIAL, buf, sizeof buf), ZOK, "create seq");
    if (strncmp(buf, "/c/s-00000000", 13) != 0) { fprintf(stderr, "FAIL seq name %s\n", buf); return 1; }
    check(zoo_create_ttl(zh, "/c/ttl", "", 0, &ZOO_OPEN_ACL_UNSAFE, ZOO_PERSISTENT_WITH_TTL, 5000, buf, sizeof buf), ZOK, "create ttl");
    printf("OK create\n");

    int len = sizeof buf;
    check(zoo_wget(zh, "/c/node", watcher, 0, buf, &len, &st), ZOK, "wget");
    if (len != 2 || memcmp(buf, "v0", 2) != 0) { fprintf(stderr, "FAIL get data\n"); return 1; }
    check(zoo_set(zh, "/c/node", "v1", 2, 5), ZBADVERSION, "set bad version");
    check(zoo_set(zh, "/c/node", "v1", 2, 0), ZOK, "set");
    wait_for(&changed, 1);
    if (changed != 1) { fprintf(stderr, "FAIL watch did not fire\n"); return 1; }
    printf("OK watch\n");

    struct String_vector kids;
    check(zoo_get_children(zh, "/c", 0, &kids), ZOK, "children");
    if (kids.count != 3) { fprintf(stderr, "FAIL children count %d\n", kids.count); return 1; }
    deallocate_String_vector(&kids);
    printf("OK children\n");

    zoo_op_t ops[3];
    zoo_op_result_t results[3];
    char p1[64], p2[64];
    zoo_create_op_init(&ops[0], "/c/m1", "a", 1, &ZOO_OPEN_ACL_UNSAFE, 0, p1, sizeof p1);
    zoo_set_op_init(&ops[1], "/c/node", "v2", 2, 1, NULL);
    zoo_create_op_init(&ops[2], "/c/m2", "b", 1, &ZOO_OPEN_ACL_UNSAFE, 0, p2, sizeof p2);
    check(zoo_multi(zh, 3, ops, results), ZOK, "multi");
    zoo_delete_op_init(&ops[0], "/c/m1", -1);
    zoo_delete_op_init(&ops[1], "/c/absent", -1);
    zoo_delete_op_init(&ops[2], "/c/m2", -1);
    check(zoo_multi(zh, 3, ops, results), ZNONODE, "failing multi");
    check(zoo_exists(zh, "/c/m1", 0, &st), ZOK, "m1 still there");
    printf("OK multi\n");

    check(zoo_add_auth(zh, "digest", "dave:pw", 7, NULL, NULL), ZOK, "add_auth");
    struct ACL creator[] = {{ZOO_PERM_ALL, ZOO_AUTH_IDS}};
    struct ACL_vector acl = {1, creator};
    check(zoo_create(zh, "/c/private", "p", 1, &acl, 0, buf, sizeof buf), ZOK, "create with auth acl");
    struct ACL_vector got;
    check(zoo_get_acl(zh, "/c/private", &got, &st), ZOK, "get_acl");
    if (got.count != 1 || strcmp(got.data[0].id.scheme, "digest") != 0 || strncmp(got.data[0].id.id, "dave:", 5) != 0) {
        fprintf(stderr, "FAIL acl %s:%s\n", got.data[0].id.scheme, got.data[0].id.id);
        return 1;
    }
    deallocate_ACL_vector(&got);
    printf("OK acl\n");

    check(zoo_delete(zh, "/c/node", 99), ZBADVERSION, "delete bad version");
    check(zoo_delete(zh, "/c", -1), ZNOTEMPTY, "delete non-empty");
    check(zoo_delete(zh, "/c/node", -1), ZOK, "delete");
    check(zoo_exists(zh, "/c/node", 0, &st), ZNONODE, "deleted");
    printf("OK delete\n");
    zookeeper_close(zh);
    printf("ALL OK\n");
    return 0;
}

static int file_exists(const char *dir, const char *name) {
    char p[512];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    return access(p, F_OK) == 0;
}

/* Watches set before a server restart are re-sent by the client (setWatches)
 * when it reconnects to the same session, and fire afterwards. */
static int restart_mode(zhandle_t *zh, const char *marker) {
    char buf[64];
    int len = sizeof buf;
    struct Stat st;
    struct String_vector kids;
    check(zoo_create(zh, "/cr", "", 0, &ZOO_OPEN_ACL_UNSAFE, 0, buf, sizeof buf), ZOK, "create /cr");
    check(zoo_create(zh, "/cr/x", "before", 6, &ZOO_OPEN_ACL_UNSAFE, 0, buf, sizeof buf), ZOK, "create /cr/x");
    int64_t session = zoo_client_id(zh)->client_id;
    check(zoo_wget(zh, "/cr/x", watcher, 0, buf, &len, &st), ZOK, "wget");
    check(zoo_wget_children(zh, "/cr", watcher, 0, &kids), ZOK, "wget_children");
    deallocate_String_vector(&kids);
    char p[512];
    snprintf(p, sizeof p, "%s/c-ready", marker);
    fclose(fopen(p, "w"));
    for (int i = 0; i < 600 && !file_exists(marker, "restarted"); i++) usleep(50000);
    for (int i = 0; i < 400; i++) {  /* until reconnected */
        len = sizeof buf;
        if (zoo_exists(zh, "/cr", 0, &st) == ZOK) break;
        usleep(50000);
    }
    if (zoo_client_id(zh)->client_id != session) { fprintf(stderr, "FAIL session changed\n"); return 1; }
    check(zoo_set(zh, "/cr/x", "after", 5, -1), ZOK, "set after restart");
    check(zoo_create(zh, "/cr/kid", "", 0, &ZOO_OPEN_ACL_UNSAFE, 0, buf, sizeof buf), ZOK, "create kid");
    wait_for(&changed, 1);
    wait_for(&child_changed, 1);
    if (changed != 1 || child_changed != 1) {
        fprintf(stderr, "FAIL watches after restart: data %d child %d\n", changed, child_changed);
        return 1;
    }
    printf("OK watches re-set after restart\n");
    zookeeper_close(zh);
    return 0;
}
