/*
 * px_tls.h - TLS for both hops of a session (issue 11): the process-wide
 * OpenSSL contexts (one server context for clients, one client context for
 * the backend, each shared read-only by every worker: SSL_new() on a shared
 * SSL_CTX is thread-safe), the ephemeral self-signed certificate made at
 * start when no --tls-cert is given, and the switch of a session's plaintext
 * socket bufferevent to a TLS one after an SSLRequest
 * ("Protocol::SSLRequest", "Connection Phase" of the client/server protocol).
 */
#ifndef PX_TLS_H
#define PX_TLS_H

#include <stdbool.h>
#include <stddef.h>

struct bufferevent;
struct event_base;
struct ssl_ctx_st;

/* --tls-mode: TLS between clients and the proxy. */
enum px_tls_mode {
    PX_TLS_DISABLED = 0, /* CLIENT_SSL not offered; an SSLRequest is refused */
    PX_TLS_PREFERRED,    /* offered; plaintext clients accepted (default) */
    PX_TLS_REQUIRED,     /* offered; plaintext handshake responses get ERR 08004 */
};

/* --backend-tls: TLS between the proxy and the backend. */
enum px_backend_tls {
    PX_BTLS_DISABLED = 0, /* never (default) */
    PX_BTLS_PREFERRED,    /* when the backend offers CLIENT_SSL; no certificate check */
    PX_BTLS_REQUIRED,     /* a backend without CLIENT_SSL is an error; no check */
    PX_BTLS_VERIFY_CA,    /* required, and the certificate must chain to the CA */
    PX_BTLS_VERIFY_FULL,  /* verify-ca, and its name must match the backend host */
};

/* Parse "disabled" / "preferred" / "required" into *MODE. Returns 0 or -1. */
int px_tls_parse_mode(const char *s, enum px_tls_mode *mode);

/* Parse the --backend-tls words (also verify-ca, verify-full) into *MODE. Returns 0 or -1. */
int px_tls_parse_backend_mode(const char *s, enum px_backend_tls *mode);

/* The flag word for MODE ("disabled" ...), static storage. */
const char *px_tls_mode_name(enum px_tls_mode mode);
const char *px_tls_backend_mode_name(enum px_backend_tls mode);

/*
 * The server context for client connections. CERT and KEY (PEM files; both
 * or neither) are loaded; when both are NULL an ephemeral RSA-2048 key and a
 * self-signed X.509 certificate (CN "mvproxy ephemeral", valid ten years) are
 * made in memory and their SHA-256 fingerprint is logged at INFO. CA (may be
 * NULL): client certificates are requested, and one a client presents must
 * verify against it. TLS 1.2 is the minimum. Returns the context (free with
 * px_tls_ctx_free()) or NULL with a one-line reason in ERR (ERRLEN bytes).
 */
struct ssl_ctx_st *px_tls_server_ctx_new(const char *cert, const char *key, const char *ca,
                                         char *err, size_t errlen);

/*
 * The client context for backend connections under MODE (not
 * PX_BTLS_DISABLED). CA (may be NULL: the system's default trust store) is
 * used by the verify modes; CERT/KEY (both or neither) are a client
 * certificate shown to the backend. Returns the context (free with
 * px_tls_ctx_free()) or NULL with a reason in ERR.
 */
struct ssl_ctx_st *px_tls_client_ctx_new(enum px_backend_tls mode, const char *ca, const char *cert,
                                         const char *key, char *err, size_t errlen);

/* Free CTX (NULL is fine). Call after every session using it is gone. */
void px_tls_ctx_free(struct ssl_ctx_st *ctx);

/*
 * Replace the plaintext socket bufferevent *BEV (on BASE, no bytes left in
 * its input or output: the caller flushes first) with a TLS bufferevent on
 * the same socket: the server side of the handshake (ACCEPT true, after the
 * client's SSLRequest) or the client side (after the proxy's SSLRequest to
 * the backend; HOST, may be NULL, is sent as SNI and, with VERIFY_HOST,
 * checked against the backend certificate). The old bufferevent is freed
 * without closing the socket; the new one owns the socket and the SSL
 * object (BEV_OPT_CLOSE_ON_FREE) and has no callbacks yet; it reports
 * BEV_EVENT_CONNECTED when the handshake is done, BEV_EVENT_ERROR when it
 * fails. Returns 0, or -1 (then *BEV is unchanged and still owns the socket).
 */
int px_tls_switch(struct bufferevent **bev, struct event_base *base, struct ssl_ctx_st *ctx,
                  bool accept, const char *host, bool verify_host);

/* Is BEV a TLS bufferevent made by px_tls_switch()? */
bool px_tls_active(struct bufferevent *bev);

/*
 * Why the TLS bufferevent BEV failed, for a log line, into BUF (LEN bytes):
 * the queued OpenSSL errors, the certificate verification result, or
 * "connection closed". Drains BEV's error queue.
 */
void px_tls_error(struct bufferevent *bev, char *buf, size_t len);

/* The negotiated cipher of BEV (static storage), or NULL when it is not TLS. */
const char *px_tls_cipher(struct bufferevent *bev);

#endif /* PX_TLS_H */
