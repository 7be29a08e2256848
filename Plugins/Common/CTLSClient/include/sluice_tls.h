/*
 * sluice_tls.h -- a small blocking TLS client layer over OpenSSL 3, for
 * Sluice's HTTP clients (swebhdfs://).
 *
 * The caller opens and connects the TCP socket; this layer runs TLS on it.
 * Every call is blocking and bounded by its own timeout_ms (poll() on the
 * socket, which is switched to non-blocking while a connection exists).
 *
 * Conventions for every function below:
 *   - err/errlen: on failure a one-line, NUL-terminated message is written
 *     there (truncated to errlen). err may be NULL or errlen 0. On success
 *     err is left untouched.
 *   - timeout_ms: a deadline for the whole call. timeout_ms <= 0 waits
 *     without limit.
 *   - Failures are described with the peer as "host:port", the TLS/OpenSSL
 *     reason and, for certificate problems, the verification error, e.g.
 *     "TLS handshake with localhost:9871 failed: certificate verify failed
 *      (self-signed certificate; depth 0, subject CN=localhost)".
 *   - OpenSSL's error queue of the calling thread is cleared by each call.
 *   - SIGPIPE is never raised by this layer (sends use MSG_NOSIGNAL).
 *
 * Link with -lssl -lcrypto. The header needs no OpenSSL headers.
 */
#ifndef SLUICE_TLS_H
#define SLUICE_TLS_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Opaque; imported by Swift as OpaquePointer. */
typedef struct sluice_tls_ctx sluice_tls_ctx;
typedef struct sluice_tls_conn sluice_tls_conn;

/*
 * Creates a client context: TLS 1.2 minimum, peer verification on unless
 * verify == 0.
 *
 *   ca_file: PEM file of trusted CA certificates (or of the self-signed
 *            server certificate itself); a directory is accepted too (an
 *            OpenSSL hashed CA directory). NULL: the system default trust
 *            store (on Debian /etc/ssl/certs).
 *   verify:  nonzero: the server's chain must verify against ca_file (or the
 *            system store) and its certificate must match the hostname
 *            given to sluice_tls_connect. 0: no verification at all (tests
 *            only -- an active attacker can read and change everything).
 *
 * Returns NULL on failure (e.g. the CA file is missing or holds no
 * certificate), with the reason in err.
 *
 * Ownership: the caller owns the result and frees it with
 * sluice_tls_ctx_free. The ca_file string is not retained.
 * Thread-safety: a context is immutable once created and may be shared by
 * any number of threads calling sluice_tls_connect concurrently.
 */
sluice_tls_ctx *sluice_tls_ctx_new(const char *ca_file, int verify, char *err, size_t errlen);

/*
 * Releases the caller's reference to ctx. NULL is accepted. Connections
 * created from ctx hold their own reference, so ctx may be freed while they
 * are still open; it must not be freed while another thread is inside
 * sluice_tls_connect with it.
 */
void sluice_tls_ctx_free(sluice_tls_ctx *ctx);

/*
 * Runs the TLS handshake as a client on fd, an already-connected TCP socket.
 *
 *   hostname: the name the caller connected to. A DNS name is sent as SNI
 *             and checked against the certificate's subjectAltName DNS
 *             entries (wildcards in the leftmost label only); an IPv4/IPv6
 *             literal (brackets allowed: "[::1]") is not sent as SNI and is
 *             checked against subjectAltName IP entries. Not retained.
 *   timeout_ms: bound for the whole handshake.
 *
 * Returns the connection, or NULL with the reason in err (handshake timeout,
 * certificate verification failure, hostname mismatch, peer not speaking
 * TLS, peer closed, ...).
 *
 * fd ownership: the CALLER KEEPS OWNERSHIP of fd; this layer never closes
 * it. While the connection exists fd is in O_NONBLOCK mode and must not be
 * read, written or closed directly. Its original file status flags are
 * restored when sluice_tls_connect fails and by sluice_tls_close; close fd
 * after sluice_tls_close (or after a failed sluice_tls_connect).
 *
 * Thread-safety: safe to call concurrently from several threads, on
 * different fds, with a shared ctx.
 */
sluice_tls_conn *sluice_tls_connect(sluice_tls_ctx *ctx, int fd, const char *hostname, int timeout_ms,
                                    char *err, size_t errlen);

/*
 * Writes all len bytes (or fails). Returns len (>= 0) on success, -1 on
 * failure (timeout, peer closed, TLS error) with the reason in err. After a
 * failure the connection is only good for sluice_tls_close.
 *
 * buf is not retained. Thread-safety: a connection is used by one thread at
 * a time (reads and writes included); different connections are independent.
 */
long sluice_tls_write(sluice_tls_conn *conn, const void *buf, size_t len, int timeout_ms, char *err, size_t errlen);

/*
 * Reads up to cap bytes: waits until at least one byte of application data
 * is available and returns how many were stored in buf (1...cap).
 *
 * Returns 0 at end of stream:
 *   - the peer sent close_notify (a clean TLS close), or
 *   - the peer closed the TCP connection WITHOUT close_notify after this
 *     connection had already received application data. Many HTTP/1.1
 *     servers do this after a "Connection: close" answer; it is treated as
 *     end of stream. Because such an EOF could also be a truncation, the
 *     caller should check the message framing (Content-Length or chunked
 *     encoding) and may ask sluice_tls_eof_was_clean.
 * Returns -1 on failure, with the reason in err: timeout, a TLS error, a
 * socket error, or the peer closing without close_notify before ANY
 * application data was received (no answer at all).
 * After 0 is returned, further calls return 0 again. cap == 0 returns 0
 * immediately without reading.
 *
 * Thread-safety: as sluice_tls_write.
 */
long sluice_tls_read(sluice_tls_conn *conn, void *buf, size_t cap, int timeout_ms, char *err, size_t errlen);

/*
 * After sluice_tls_read returned 0: 1 when the peer ended with close_notify,
 * 0 when it just closed the TCP connection (or EOF has not been reached).
 */
int sluice_tls_eof_was_clean(const sluice_tls_conn *conn);

/*
 * Sends close_notify (best effort, waiting at most ~250 ms for the socket
 * to accept it; skipped after a TLS failure), frees the connection and
 * restores fd's original flags. Does NOT close fd. NULL is accepted.
 * The conn must not be used afterwards.
 */
void sluice_tls_close(sluice_tls_conn *conn);

#ifdef __cplusplus
}
#endif

#endif /* SLUICE_TLS_H */
