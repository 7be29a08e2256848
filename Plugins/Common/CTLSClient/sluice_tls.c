/*
 * sluice_tls.c -- blocking TLS client over OpenSSL 3; see include/sluice_tls.h.
 *
 * The socket is driven in non-blocking mode through a small BIO of our own
 * (recv/send with MSG_NOSIGNAL, so a peer that has gone away gives EPIPE
 * instead of SIGPIPE), and every SSL call that wants I/O waits in poll()
 * until the call's deadline.
 */
#define _GNU_SOURCE 1
#include "sluice_tls.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

struct sluice_tls_ctx {
    SSL_CTX *ssl_ctx;
    int verify;
    char trust[512]; /* "system default trust store" or "CA file /x/y.pem" */
};

struct sluice_tls_conn {
    SSL *ssl;
    int fd;
    int saved_flags;      /* fd's F_GETFL before we set O_NONBLOCK */
    int sys_errno;        /* errno of the last failed recv/send in the BIO */
    int broken;           /* a fatal error happened: no close_notify */
    int eof;              /* end of stream reported to the caller */
    int eof_clean;        /* ... and it was a close_notify */
    unsigned long long received; /* application bytes read so far */
    char peer[320];       /* "host:port" for messages */
    char host[256];       /* the name verified against the certificate */
    /* The first certificate verification failure (from the callback). */
    int verr_set;
    int verr_depth;
    char verr_subject[256];
    char verr_names[512]; /* subjectAltName entries, on a name mismatch */
};

/* ---- small helpers ---------------------------------------------------- */

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
    if (err == NULL || errlen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* Appends to a NUL-terminated buffer, truncating silently. */
static void append(char *buf, size_t cap, const char *fmt, ...)
{
    size_t used = strlen(buf);
    if (used + 1 >= cap)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf + used, cap - used, fmt, ap);
    va_end(ap);
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static long long deadline_after(int timeout_ms)
{
    return timeout_ms > 0 ? now_ms() + timeout_ms : -1;
}

/*
 * Waits until fd is ready for `events` or the deadline passes.
 * 1: ready (or in error/hangup: the next SSL call will tell), 0: timed out,
 * -1: poll failed (errno).
 */
static int wait_fd(int fd, short events, long long deadline)
{
    for (;;) {
        int wait = -1;
        if (deadline >= 0) {
            long long left = deadline - now_ms();
            if (left <= 0)
                return 0;
            wait = left > 0x7fffffff ? 0x7fffffff : (int)left;
        }
        struct pollfd p = { .fd = fd, .events = events, .revents = 0 };
        int r = poll(&p, 1, wait);
        if (r > 0)
            return 1;
        if (r == 0)
            return 0;
        if (errno != EINTR)
            return -1;
    }
}

/* ---- the socket BIO ---------------------------------------------------- */

static int bio_write(BIO *b, const char *buf, int len)
{
    struct sluice_tls_conn *c = BIO_get_data(b);
    BIO_clear_retry_flags(b);
    ssize_t n;
    do {
        n = send(c->fd, buf, (size_t)len, MSG_NOSIGNAL);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            BIO_set_retry_write(b);
        else
            c->sys_errno = errno;
        return -1;
    }
    return (int)n;
}

static int bio_read(BIO *b, char *buf, int len)
{
    struct sluice_tls_conn *c = BIO_get_data(b);
    BIO_clear_retry_flags(b);
    if (buf == NULL || len <= 0)
        return 0;
    ssize_t n;
    do {
        n = recv(c->fd, buf, (size_t)len, 0);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            BIO_set_retry_read(b);
        else
            c->sys_errno = errno;
        return -1;
    }
    return (int)n; /* 0: the peer closed the TCP connection */
}

static int bio_puts(BIO *b, const char *s)
{
    return bio_write(b, s, (int)strlen(s));
}

static long bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
    (void)b;
    (void)num;
    (void)ptr;
    switch (cmd) {
    case BIO_CTRL_FLUSH:
        return 1; /* nothing is buffered here */
    default:
        return 0;
    }
}

static int bio_create(BIO *b)
{
    BIO_set_init(b, 1);
    return 1;
}

static BIO_METHOD *g_bio_method;
static pthread_once_t g_bio_once = PTHREAD_ONCE_INIT;

static void make_bio_method(void)
{
    BIO_METHOD *m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "sluice socket");
    if (m == NULL)
        return;
    if (!BIO_meth_set_write(m, bio_write) || !BIO_meth_set_read(m, bio_read) || !BIO_meth_set_puts(m, bio_puts) ||
        !BIO_meth_set_ctrl(m, bio_ctrl) || !BIO_meth_set_create(m, bio_create)) {
        BIO_meth_free(m);
        return;
    }
    g_bio_method = m; /* lives for the whole process */
}

/* ---- OpenSSL error text ------------------------------------------------- */

/*
 * Appends the reasons in this thread's OpenSSL error queue (oldest first, at
 * most 3, "; "-separated) and empties the queue. Returns the first error
 * code (0 when the queue was empty).
 */
static unsigned long append_ssl_errors(char *buf, size_t cap)
{
    unsigned long first = 0, e;
    const char *data = NULL;
    int flags = 0, n = 0;
    while ((e = ERR_get_error_all(NULL, NULL, NULL, &data, &flags)) != 0) {
        if (first == 0)
            first = e;
        if (n == 3)
            continue; /* keep draining */
        char text[256];
        const char *reason = ERR_reason_error_string(e);
        if (reason == NULL) {
            ERR_error_string_n(e, text, sizeof text);
            reason = text;
        }
        append(buf, cap, "%s%s", n > 0 ? "; " : "", reason);
        if (data != NULL && (flags & ERR_TXT_STRING) && data[0] != '\0')
            append(buf, cap, " (%s)", data);
        n++;
    }
    return first;
}

/* A hint for well-known handshake failures, or "". */
static const char *handshake_hint(unsigned long e)
{
    if (e == 0 || ERR_GET_LIB(e) != ERR_LIB_SSL)
        return "";
    switch (ERR_GET_REASON(e)) {
    case SSL_R_WRONG_VERSION_NUMBER:
    case SSL_R_PACKET_LENGTH_TOO_LONG:
    case SSL_R_HTTP_REQUEST:
        return " -- the server does not seem to speak TLS on this port (a plain-HTTP endpoint?)";
    case SSL_R_UNEXPECTED_EOF_WHILE_READING:
        return " -- the server closed the connection during the handshake";
    case SSL_R_UNSUPPORTED_PROTOCOL:
    case SSL_R_NO_PROTOCOLS_AVAILABLE:
    case SSL_R_TLSV1_ALERT_PROTOCOL_VERSION:
        return " -- the server does not offer TLS 1.2 or newer";
    default:
        return "";
    }
}

/* ---- certificate verification details ------------------------------------ */

static void name_oneline(X509_NAME *name, char *out, size_t cap)
{
    out[0] = '\0';
    if (name == NULL)
        return;
    BIO *mem = BIO_new(BIO_s_mem());
    if (mem == NULL)
        return;
    if (X509_NAME_print_ex(mem, name, 0, XN_FLAG_RFC2253) >= 0) {
        char *p = NULL;
        long n = BIO_get_mem_data(mem, &p);
        if (n > 0 && p != NULL)
            snprintf(out, cap, "%.*s", (int)(n < (long)cap ? n : (long)cap - 1), p);
    }
    BIO_free(mem);
}

/* "DNS:a, IP:1.2.3.4" from the certificate's subjectAltName. */
static void san_list(X509 *cert, char *out, size_t cap)
{
    out[0] = '\0';
    GENERAL_NAMES *names = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
    if (names == NULL)
        return;
    for (int i = 0; i < sk_GENERAL_NAME_num(names); i++) {
        const GENERAL_NAME *g = sk_GENERAL_NAME_value(names, i);
        const char *sep = out[0] ? ", " : "";
        if (g->type == GEN_DNS) {
            const unsigned char *s = ASN1_STRING_get0_data(g->d.dNSName);
            append(out, cap, "%sDNS:%.*s", sep, ASN1_STRING_length(g->d.dNSName), (const char *)s);
        } else if (g->type == GEN_IPADD) {
            char ip[INET6_ADDRSTRLEN] = "?";
            int len = ASN1_STRING_length(g->d.iPAddress);
            const unsigned char *a = ASN1_STRING_get0_data(g->d.iPAddress);
            if (len == 4)
                inet_ntop(AF_INET, a, ip, sizeof ip);
            else if (len == 16)
                inet_ntop(AF_INET6, a, ip, sizeof ip);
            append(out, cap, "%sIP:%s", sep, ip);
        }
    }
    GENERAL_NAMES_free(names);
}

/* Records the first failing certificate; never changes the verdict. */
static int verify_callback(int ok, X509_STORE_CTX *store)
{
    if (ok)
        return ok;
    SSL *ssl = X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx());
    struct sluice_tls_conn *c = ssl ? SSL_get_app_data(ssl) : NULL;
    if (c == NULL || c->verr_set)
        return ok;
    c->verr_set = 1;
    c->verr_depth = X509_STORE_CTX_get_error_depth(store);
    X509 *cert = X509_STORE_CTX_get_current_cert(store);
    if (cert != NULL) {
        name_oneline(X509_get_subject_name(cert), c->verr_subject, sizeof c->verr_subject);
        int e = X509_STORE_CTX_get_error(store);
        if (e == X509_V_ERR_HOSTNAME_MISMATCH || e == X509_V_ERR_IP_ADDRESS_MISMATCH)
            san_list(cert, c->verr_names, sizeof c->verr_names);
    }
    return ok;
}

/* ---- contexts --------------------------------------------------------------- */

sluice_tls_ctx *sluice_tls_ctx_new(const char *ca_file, int verify, char *err, size_t errlen)
{
    ERR_clear_error();
    pthread_once(&g_bio_once, make_bio_method);
    if (g_bio_method == NULL) {
        set_err(err, errlen, "TLS setup failed: cannot create the socket BIO method");
        return NULL;
    }
    struct sluice_tls_ctx *ctx = calloc(1, sizeof *ctx);
    if (ctx == NULL) {
        set_err(err, errlen, "TLS setup failed: out of memory");
        return NULL;
    }
    char reason[512] = "";
    ctx->ssl_ctx = SSL_CTX_new(TLS_client_method());
    if (ctx->ssl_ctx == NULL) {
        append_ssl_errors(reason, sizeof reason);
        set_err(err, errlen, "TLS setup failed: SSL_CTX_new: %s", reason[0] ? reason : "unknown error");
        free(ctx);
        return NULL;
    }
    SSL_CTX_set_min_proto_version(ctx->ssl_ctx, TLS1_2_VERSION);
    SSL_CTX_set_mode(ctx->ssl_ctx, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    ctx->verify = verify != 0;

    if (ca_file != NULL && ca_file[0] != '\0') {
        struct stat st;
        if (stat(ca_file, &st) != 0) {
            set_err(err, errlen, "TLS setup failed: cannot read CA file %s: %s", ca_file, strerror(errno));
            goto fail;
        }
        int is_dir = S_ISDIR(st.st_mode);
        if (!is_dir && access(ca_file, R_OK) != 0) {
            set_err(err, errlen, "TLS setup failed: cannot read CA file %s: %s", ca_file, strerror(errno));
            goto fail;
        }
        if (SSL_CTX_load_verify_locations(ctx->ssl_ctx, is_dir ? NULL : ca_file, is_dir ? ca_file : NULL) != 1) {
            append_ssl_errors(reason, sizeof reason);
            set_err(err, errlen, "TLS setup failed: cannot load CA certificates from %s: %s", ca_file,
                    reason[0] ? reason : "no PEM certificate found");
            goto fail;
        }
        snprintf(ctx->trust, sizeof ctx->trust, "trusted CAs from %s", ca_file);
    } else if (ctx->verify) {
        if (SSL_CTX_set_default_verify_paths(ctx->ssl_ctx) != 1) {
            append_ssl_errors(reason, sizeof reason);
            set_err(err, errlen, "TLS setup failed: cannot load the system trust store: %s",
                    reason[0] ? reason : "unknown error");
            goto fail;
        }
        snprintf(ctx->trust, sizeof ctx->trust, "trusted CAs from the system default store");
    }
    SSL_CTX_set_verify(ctx->ssl_ctx, ctx->verify ? SSL_VERIFY_PEER : SSL_VERIFY_NONE,
                       ctx->verify ? verify_callback : NULL);
    ERR_clear_error();
    return ctx;

fail:
    SSL_CTX_free(ctx->ssl_ctx);
    free(ctx);
    ERR_clear_error();
    return NULL;
}

void sluice_tls_ctx_free(sluice_tls_ctx *ctx)
{
    if (ctx == NULL)
        return;
    SSL_CTX_free(ctx->ssl_ctx); /* live SSL objects keep their own reference */
    free(ctx);
}

/* ---- connections ------------------------------------------------------------ */

static void free_conn(struct sluice_tls_conn *c)
{
    if (c->ssl != NULL)
        SSL_free(c->ssl); /* frees the BIO too */
    if (c->saved_flags != -1)
        fcntl(c->fd, F_SETFL, c->saved_flags);
    free(c);
}

/* "host:port" (brackets around IPv6 literals) from the name and getpeername. */
static void describe_peer(struct sluice_tls_conn *c, const char *host)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    int port = -1;
    if (getpeername(c->fd, (struct sockaddr *)&ss, &len) == 0) {
        if (ss.ss_family == AF_INET)
            port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
        else if (ss.ss_family == AF_INET6)
            port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    }
    int v6 = strchr(host, ':') != NULL && host[0] != '[';
    if (port >= 0)
        snprintf(c->peer, sizeof c->peer, "%s%s%s:%d", v6 ? "[" : "", host, v6 ? "]" : "", port);
    else
        snprintf(c->peer, sizeof c->peer, "%s", host);
}

/*
 * Builds the reason of a failed SSL call (after SSL_get_error gave `code`).
 * `during_handshake` adds certificate details and hints.
 */
static void failure_reason(struct sluice_tls_conn *c, const struct sluice_tls_ctx *ctx, int code,
                           char *out, size_t cap)
{
    out[0] = '\0';
    if (ctx != NULL && ctx->verify) {
        long vr = SSL_get_verify_result(c->ssl);
        if (vr != X509_V_OK) {
            ERR_clear_error();
            append(out, cap, "certificate verify failed (%s", X509_verify_cert_error_string(vr));
            if (vr == X509_V_ERR_HOSTNAME_MISMATCH || vr == X509_V_ERR_IP_ADDRESS_MISMATCH) {
                append(out, cap, ": the server certificate");
                if (c->verr_subject[0])
                    append(out, cap, " (subject %s)", c->verr_subject);
                append(out, cap, " is valid for %s, not for %s", c->verr_names[0] ? c->verr_names : "no subjectAltName names",
                       c->host);
            } else {
                if (c->verr_set)
                    append(out, cap, "; depth %d, subject %s", c->verr_depth,
                           c->verr_subject[0] ? c->verr_subject : "?");
                append(out, cap, "; %s", ctx->trust);
            }
            append(out, cap, ")");
            return;
        }
    }
    switch (code) {
    case SSL_ERROR_SSL: {
        unsigned long first = append_ssl_errors(out, cap);
        if (out[0] == '\0')
            append(out, cap, "TLS protocol error");
        if (ctx != NULL)
            append(out, cap, "%s", handshake_hint(first));
        return;
    }
    case SSL_ERROR_SYSCALL: {
        append_ssl_errors(out, cap);
        if (out[0] != '\0')
            return;
        if (c->sys_errno == EPIPE || c->sys_errno == ECONNRESET)
            append(out, cap, "connection closed by the peer (%s)", strerror(c->sys_errno));
        else if (c->sys_errno != 0)
            append(out, cap, "%s", strerror(c->sys_errno));
        else
            append(out, cap, "connection closed by the peer");
        return;
    }
    case SSL_ERROR_ZERO_RETURN:
        append(out, cap, "the peer closed the TLS session (close_notify)");
        return;
    default:
        append_ssl_errors(out, cap);
        if (out[0] == '\0')
            append(out, cap, "unexpected SSL_get_error result %d", code);
        return;
    }
}

/* Is `host` an IPv4/IPv6 literal? Writes it without brackets to out. */
static int ip_literal(const char *host, char *out, size_t cap)
{
    unsigned char addr[16];
    size_t n = strlen(host);
    if (n >= 2 && host[0] == '[' && host[n - 1] == ']') {
        if (n - 2 >= cap)
            return 0;
        memcpy(out, host + 1, n - 2);
        out[n - 2] = '\0';
    } else {
        if (n >= cap)
            return 0;
        memcpy(out, host, n + 1);
    }
    return inet_pton(AF_INET, out, addr) == 1 || inet_pton(AF_INET6, out, addr) == 1;
}

sluice_tls_conn *sluice_tls_connect(sluice_tls_ctx *ctx, int fd, const char *hostname, int timeout_ms,
                                    char *err, size_t errlen)
{
    ERR_clear_error();
    if (ctx == NULL || fd < 0 || hostname == NULL || hostname[0] == '\0') {
        set_err(err, errlen, "TLS connect: invalid argument (%s)",
                ctx == NULL ? "no context" : fd < 0 ? "bad socket" : "no hostname");
        return NULL;
    }
    long long deadline = deadline_after(timeout_ms);
    struct sluice_tls_conn *c = calloc(1, sizeof *c);
    if (c == NULL) {
        set_err(err, errlen, "TLS handshake with %s failed: out of memory", hostname);
        return NULL;
    }
    c->fd = fd;
    c->saved_flags = -1;
    describe_peer(c, hostname);
    snprintf(c->host, sizeof c->host, "%s", hostname);

    int flags = fcntl(fd, F_GETFL);
    if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
        set_err(err, errlen, "TLS handshake with %s failed: cannot make the socket non-blocking: %s", c->peer,
                strerror(errno));
        free_conn(c);
        return NULL;
    }
    c->saved_flags = flags;

    char reason[1024] = "";
    c->ssl = SSL_new(ctx->ssl_ctx);
    BIO *bio = c->ssl ? BIO_new(g_bio_method) : NULL;
    if (bio == NULL) {
        append_ssl_errors(reason, sizeof reason);
        set_err(err, errlen, "TLS handshake with %s failed: cannot set up: %s", c->peer,
                reason[0] ? reason : "out of memory");
        free_conn(c);
        return NULL;
    }
    BIO_set_data(bio, c);
    SSL_set_bio(c->ssl, bio, bio); /* the SSL owns the BIO now */
    SSL_set_app_data(c->ssl, c);

    char ip[INET6_ADDRSTRLEN + 8];
    int is_ip = ip_literal(hostname, ip, sizeof ip);
    int ok = 1;
    if (!is_ip)
        ok = SSL_set_tlsext_host_name(c->ssl, hostname) == 1; /* SNI: DNS names only (RFC 6066) */
    if (ok && ctx->verify) {
        if (is_ip) {
            ok = X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(c->ssl), ip) == 1;
        } else {
            SSL_set_hostflags(c->ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
            ok = SSL_set1_host(c->ssl, hostname) == 1;
        }
    }
    if (!ok) {
        append_ssl_errors(reason, sizeof reason);
        set_err(err, errlen, "TLS handshake with %s failed: cannot use '%s' as the server name%s%s", c->peer,
                hostname, reason[0] ? ": " : "", reason);
        free_conn(c);
        return NULL;
    }

    for (;;) {
        c->sys_errno = 0;
        int r = SSL_connect(c->ssl);
        if (r == 1)
            break;
        int code = SSL_get_error(c->ssl, r);
        if (code == SSL_ERROR_WANT_READ || code == SSL_ERROR_WANT_WRITE) {
            int w = wait_fd(fd, code == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline);
            if (w > 0)
                continue;
            if (w == 0)
                set_err(err, errlen,
                        "TLS handshake with %s timed out after %d ms (the server accepted the TCP connection but "
                        "did not complete the TLS handshake)", c->peer, timeout_ms);
            else
                set_err(err, errlen, "TLS handshake with %s failed: poll: %s", c->peer, strerror(errno));
            ERR_clear_error();
            free_conn(c);
            return NULL;
        }
        failure_reason(c, ctx, code, reason, sizeof reason);
        set_err(err, errlen, "TLS handshake with %s failed: %s", c->peer, reason);
        ERR_clear_error();
        free_conn(c);
        return NULL;
    }
    ERR_clear_error();
    return c;
}

long sluice_tls_write(sluice_tls_conn *c, const void *buf, size_t len, int timeout_ms, char *err, size_t errlen)
{
    ERR_clear_error();
    if (c == NULL || (buf == NULL && len > 0)) {
        set_err(err, errlen, "TLS write: invalid argument");
        return -1;
    }
    if (c->broken) {
        set_err(err, errlen, "TLS write to %s failed: the connection already failed", c->peer);
        return -1;
    }
    if (len > (size_t)LONG_MAX) {
        set_err(err, errlen, "TLS write to %s failed: too large", c->peer);
        return -1;
    }
    long long deadline = deadline_after(timeout_ms);
    const unsigned char *p = buf;
    size_t done = 0;
    while (done < len) {
        size_t n = 0;
        c->sys_errno = 0;
        if (SSL_write_ex(c->ssl, p + done, len - done, &n) == 1) {
            done += n;
            continue;
        }
        int code = SSL_get_error(c->ssl, 0);
        if (code == SSL_ERROR_WANT_READ || code == SSL_ERROR_WANT_WRITE) {
            int w = wait_fd(c->fd, code == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline);
            if (w > 0)
                continue;
            c->broken = 1; /* a partial TLS record may be pending: unusable */
            if (w == 0)
                set_err(err, errlen, "TLS write to %s timed out after %d ms (%zu of %zu bytes sent; the server is "
                        "not reading)", c->peer, timeout_ms, done, len);
            else
                set_err(err, errlen, "TLS write to %s failed: poll: %s", c->peer, strerror(errno));
            ERR_clear_error();
            return -1;
        }
        char reason[1024];
        failure_reason(c, NULL, code, reason, sizeof reason);
        c->broken = 1;
        set_err(err, errlen, "TLS write to %s failed after %zu of %zu bytes: %s", c->peer, done, len, reason);
        ERR_clear_error();
        return -1;
    }
    return (long)len;
}

long sluice_tls_read(sluice_tls_conn *c, void *buf, size_t cap, int timeout_ms, char *err, size_t errlen)
{
    ERR_clear_error();
    if (c == NULL || (buf == NULL && cap > 0)) {
        set_err(err, errlen, "TLS read: invalid argument");
        return -1;
    }
    if (c->eof || cap == 0)
        return 0;
    if (c->broken) {
        set_err(err, errlen, "TLS read from %s failed: the connection already failed", c->peer);
        return -1;
    }
    if (cap > 0x7fffffffL)
        cap = 0x7fffffffL; /* keep the result representable everywhere */
    long long deadline = deadline_after(timeout_ms);
    for (;;) {
        size_t n = 0;
        c->sys_errno = 0;
        if (SSL_read_ex(c->ssl, buf, cap, &n) == 1) {
            c->received += n;
            return (long)n;
        }
        int code = SSL_get_error(c->ssl, 0);
        if (code == SSL_ERROR_WANT_READ || code == SSL_ERROR_WANT_WRITE) {
            int w = wait_fd(c->fd, code == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline);
            if (w > 0)
                continue;
            if (w == 0)
                set_err(err, errlen, "TLS read from %s timed out after %d ms (no data from the server)", c->peer,
                        timeout_ms);
            else
                set_err(err, errlen, "TLS read from %s failed: poll: %s", c->peer, strerror(errno));
            ERR_clear_error();
            return -1; /* nothing is half-done: the caller may read again */
        }
        if (code == SSL_ERROR_ZERO_RETURN) { /* close_notify */
            c->eof = 1;
            c->eof_clean = 1;
            ERR_clear_error();
            return 0;
        }
        /* The peer closed TCP without close_notify: OpenSSL 3 reports
         * SSL_R_UNEXPECTED_EOF_WHILE_READING, 1.1.1 a SYSCALL error with no
         * errno and an empty queue. */
        unsigned long e = ERR_peek_error();
        int unexpected_eof =
            (code == SSL_ERROR_SSL && ERR_GET_LIB(e) == ERR_LIB_SSL &&
             ERR_GET_REASON(e) == SSL_R_UNEXPECTED_EOF_WHILE_READING) ||
            (code == SSL_ERROR_SYSCALL && e == 0 && c->sys_errno == 0);
        c->broken = 1; /* no close_notify from us after this */
        if (unexpected_eof) {
            ERR_clear_error();
            if (c->received > 0) {
                c->eof = 1;
                return 0;
            }
            set_err(err, errlen, "TLS read from %s failed: the server closed the connection without sending any "
                    "data (and without close_notify)", c->peer);
            return -1;
        }
        char reason[1024];
        failure_reason(c, NULL, code, reason, sizeof reason);
        set_err(err, errlen, "TLS read from %s failed: %s", c->peer, reason);
        ERR_clear_error();
        return -1;
    }
}

int sluice_tls_eof_was_clean(const sluice_tls_conn *c)
{
    return c != NULL && c->eof && c->eof_clean;
}

void sluice_tls_close(sluice_tls_conn *c)
{
    if (c == NULL)
        return;
    ERR_clear_error();
    if (!c->broken && SSL_is_init_finished(c->ssl)) {
        /* One close_notify, best effort; we do not wait for the peer's. */
        long long deadline = deadline_after(250);
        for (;;) {
            int r = SSL_shutdown(c->ssl);
            if (r >= 0)
                break;
            int code = SSL_get_error(c->ssl, r);
            if (code != SSL_ERROR_WANT_WRITE || wait_fd(c->fd, POLLOUT, deadline) <= 0)
                break;
        }
    }
    ERR_clear_error();
    free_conn(c);
}
