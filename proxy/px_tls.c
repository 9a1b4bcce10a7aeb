/*
 * px_tls.c - OpenSSL contexts (client-facing server context, backend-facing
 * client context), the ephemeral self-signed certificate, and the switch of
 * a session's socket bufferevent to TLS (libevent_openssl). The contexts
 * are made once by main() and shared read-only by the workers.
 *
 *   client --SSLRequest (seq 1)--> proxy: px_tls_switch(accept) on the client bev
 *   client <==TLS handshake======> proxy
 *   client ==HandshakeResponse41 (seq 2)==> proxy --> backend (plaintext, or
 *   over px_tls_switch(connect) after the proxy's own SSLRequest to the backend)
 */
#include "px_tls.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <arpa/inet.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>

#include "px_log.h"

#define EPHEMERAL_DAYS 3650 /* MariaDB's auto-generated certificate lasts ten years too */

static const char *const mode_names[] = {"disabled", "preferred", "required"};
static const char *const backend_names[] = {"disabled", "preferred", "required", "verify-ca",
                                            "verify-full"};

int
px_tls_parse_mode(const char *s, enum px_tls_mode *mode)
{
    size_t i;

    for (i = 0; i < sizeof(mode_names) / sizeof(mode_names[0]); i++) {
        if (strcasecmp(s, mode_names[i]) == 0) {
            *mode = (enum px_tls_mode)i;
            return 0;
        }
    }
    return -1;
}

int
px_tls_parse_backend_mode(const char *s, enum px_backend_tls *mode)
{
    size_t i;

    for (i = 0; i < sizeof(backend_names) / sizeof(backend_names[0]); i++) {
        if (strcasecmp(s, backend_names[i]) == 0) {
            *mode = (enum px_backend_tls)i;
            return 0;
        }
    }
    return -1;
}

const char *
px_tls_mode_name(enum px_tls_mode mode)
{
    return (unsigned)mode < 3 ? mode_names[mode] : "?";
}

const char *
px_tls_backend_mode_name(enum px_backend_tls mode)
{
    return (unsigned)mode < 5 ? backend_names[mode] : "?";
}

/* The oldest queued OpenSSL error as text into ERR after PREFIX; clears the queue. */
static void
ssl_err(char *err, size_t errlen, const char *prefix)
{
    unsigned long e = ERR_get_error();
    char buf[256] = "unknown error";

    if (e != 0) {
        ERR_error_string_n(e, buf, sizeof(buf));
    }
    ERR_clear_error();
    snprintf(err, errlen, "%s: %s", prefix, buf);
}

/* Make an RSA-2048 key and a self-signed certificate for it into *PKEY / *X509 (owned). */
static int
make_ephemeral(EVP_PKEY **pkey, X509 **x509, char *err, size_t errlen)
{
    EVP_PKEY *k = EVP_RSA_gen(2048);
    X509 *x = NULL;
    X509_NAME *name;
    unsigned char serial[16];
    BIGNUM *bn = NULL;

    if (k == NULL) {
        ssl_err(err, errlen, "ephemeral key");
        return -1;
    }
    x = X509_new();
    if (x == NULL || RAND_bytes(serial, sizeof(serial)) != 1) {
        goto fail;
    }
    serial[0] &= 0x7f; /* a positive serial number */
    bn = BN_bin2bn(serial, sizeof(serial), NULL);
    if (bn == NULL || BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) == NULL ||
        X509_set_version(x, 2) != 1 || X509_gmtime_adj(X509_getm_notBefore(x), -60) == NULL ||
        X509_gmtime_adj(X509_getm_notAfter(x), (long)EPHEMERAL_DAYS * 86400) == NULL ||
        X509_set_pubkey(x, k) != 1) {
        goto fail;
    }
    name = X509_get_subject_name(x);
    if (X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                   (const unsigned char *)"mvproxy ephemeral", -1, -1, 0) != 1 ||
        X509_set_issuer_name(x, name) != 1 || X509_sign(x, k, EVP_sha256()) == 0) {
        goto fail;
    }
    BN_free(bn);
    *pkey = k;
    *x509 = x;
    return 0;

fail:
    ssl_err(err, errlen, "ephemeral certificate");
    BN_free(bn);
    X509_free(x);
    EVP_PKEY_free(k);
    return -1;
}

/* Log CTX's certificate subject and SHA-256 fingerprint at INFO, prefixed WHAT. */
static void
log_fingerprint(SSL_CTX *ctx, const char *what)
{
    X509 *x = SSL_CTX_get0_certificate(ctx);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned n = 0, i;
    char hex[EVP_MAX_MD_SIZE * 3 + 1], subj[256];

    if (x == NULL || X509_digest(x, EVP_sha256(), md, &n) != 1) {
        return;
    }
    for (i = 0; i < n; i++) {
        snprintf(hex + i * 3, 4, "%02X%s", md[i], i + 1 < n ? ":" : "");
    }
    X509_NAME_oneline(X509_get_subject_name(x), subj, sizeof(subj));
    px_log_info("TLS: %s certificate %s, SHA-256 fingerprint %s", what, subj, hex);
}

SSL_CTX *
px_tls_server_ctx_new(const char *cert, const char *key, const char *ca, char *err, size_t errlen)
{
    static const unsigned char sid_ctx[] = "mvproxy";
    SSL_CTX *ctx;

    if ((cert == NULL) != (key == NULL)) {
        snprintf(err, errlen, "--tls-cert and --tls-key go together");
        return NULL;
    }
    ctx = SSL_CTX_new(TLS_server_method());
    if (ctx == NULL) {
        ssl_err(err, errlen, "SSL_CTX_new");
        return NULL;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION);
    SSL_CTX_set_session_id_context(ctx, sid_ctx, sizeof(sid_ctx) - 1);
    if (cert != NULL) {
        if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
            ssl_err(err, errlen, cert);
            goto fail;
        }
        if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
            ssl_err(err, errlen, key);
            goto fail;
        }
        if (SSL_CTX_check_private_key(ctx) != 1) {
            snprintf(err, errlen, "%s does not match the certificate in %s", key, cert);
            goto fail;
        }
        log_fingerprint(ctx, "client-side");
    } else {
        EVP_PKEY *k = NULL;
        X509 *x = NULL;
        int ok;
        if (make_ephemeral(&k, &x, err, errlen) != 0) {
            goto fail;
        }
        ok = SSL_CTX_use_certificate(ctx, x) == 1 && SSL_CTX_use_PrivateKey(ctx, k) == 1;
        X509_free(x);
        EVP_PKEY_free(k);
        if (!ok) {
            ssl_err(err, errlen, "ephemeral certificate");
            goto fail;
        }
        log_fingerprint(ctx, "no --tls-cert given: ephemeral self-signed");
    }
    if (ca != NULL) {
        STACK_OF(X509_NAME) * names;
        if (SSL_CTX_load_verify_locations(ctx, ca, NULL) != 1) {
            ssl_err(err, errlen, ca);
            goto fail;
        }
        names = SSL_load_client_CA_file(ca);
        if (names != NULL) {
            SSL_CTX_set_client_CA_list(ctx, names);
        }
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    }
    return ctx;

fail:
    SSL_CTX_free(ctx);
    return NULL;
}

SSL_CTX *
px_tls_client_ctx_new(enum px_backend_tls mode, const char *ca, const char *cert, const char *key,
                      char *err, size_t errlen)
{
    SSL_CTX *ctx;

    if ((cert == NULL) != (key == NULL)) {
        snprintf(err, errlen, "--backend-tls-cert and --backend-tls-key go together");
        return NULL;
    }
    ctx = SSL_CTX_new(TLS_client_method());
    if (ctx == NULL) {
        ssl_err(err, errlen, "SSL_CTX_new");
        return NULL;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    if (mode >= PX_BTLS_VERIFY_CA) {
        if (ca != NULL ? SSL_CTX_load_verify_locations(ctx, ca, NULL) != 1
                       : SSL_CTX_set_default_verify_paths(ctx) != 1) {
            ssl_err(err, errlen, ca != NULL ? ca : "default CA paths");
            goto fail;
        }
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    } else {
        SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
    }
    if (cert != NULL) {
        if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
            ssl_err(err, errlen, cert);
            goto fail;
        }
        if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1 ||
            SSL_CTX_check_private_key(ctx) != 1) {
            ssl_err(err, errlen, key);
            goto fail;
        }
    }
    return ctx;

fail:
    SSL_CTX_free(ctx);
    return NULL;
}

void
px_tls_ctx_free(SSL_CTX *ctx)
{
    SSL_CTX_free(ctx);
}

/* Is HOST a numeric IPv4 or IPv6 address (no SNI for those)? */
static bool
is_ip_literal(const char *host)
{
    unsigned char buf[16];

    return inet_pton(AF_INET, host, buf) == 1 || inet_pton(AF_INET6, host, buf) == 1;
}

int
px_tls_switch(struct bufferevent **bev, struct event_base *base, SSL_CTX *ctx, bool accept,
              const char *host, bool verify_host)
{
    struct bufferevent *old = *bev, *nb;
    evutil_socket_t fd = bufferevent_getfd(old);
    SSL *ssl;

    if (fd < 0 || evbuffer_get_length(bufferevent_get_input(old)) > 0 ||
        evbuffer_get_length(bufferevent_get_output(old)) > 0) {
        return -1;
    }
    ssl = SSL_new(ctx);
    if (ssl == NULL) {
        return -1;
    }
    if (!accept && host != NULL && host[0] != '\0') {
        if (!is_ip_literal(host)) {
            SSL_set_tlsext_host_name(ssl, host);
        }
        if (verify_host) {
            /* X509_check_host / _ip through the verify parameters */
            if (is_ip_literal(host) ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host) != 1
                                    : SSL_set1_host(ssl, host) != 1) {
                SSL_free(ssl);
                return -1;
            }
        }
    }
    /* The old bufferevent must not close the socket when freed. */
    bufferevent_disable(old, EV_READ | EV_WRITE);
    if (bufferevent_setfd(old, -1) != 0) {
        SSL_free(ssl);
        return -1;
    }
    nb = bufferevent_openssl_socket_new(
        base, fd, ssl, accept ? BUFFEREVENT_SSL_ACCEPTING : BUFFEREVENT_SSL_CONNECTING,
        BEV_OPT_CLOSE_ON_FREE);
    if (nb == NULL) {
        /* bufferevent_openssl_socket_new frees nothing on failure */
        SSL_free(ssl);
        bufferevent_setfd(old, fd);
        return -1;
    }
    bufferevent_openssl_set_allow_dirty_shutdown(nb, 1);
    bufferevent_free(old);
    *bev = nb;
    return 0;
}

bool
px_tls_active(struct bufferevent *bev)
{
    return bev != NULL && bufferevent_openssl_get_ssl(bev) != NULL;
}

void
px_tls_error(struct bufferevent *bev, char *buf, size_t len)
{
    unsigned long e;
    SSL *ssl = bufferevent_openssl_get_ssl(bev);
    size_t used = 0;
    char one[256];
    long vr;

    buf[0] = '\0';
    while ((e = bufferevent_get_openssl_error(bev)) != 0) {
        if (ERR_GET_LIB(e) == 0) {
            continue; /* libevent queues errno values here too */
        }
        ERR_error_string_n(e, one, sizeof(one));
        used += (size_t)snprintf(buf + used, used < len ? len - used : 0, "%s%s",
                                 used > 0 ? "; " : "", one);
        if (used >= len) {
            break;
        }
    }
    if (ssl != NULL) {
        vr = SSL_get_verify_result(ssl);
        if (vr != X509_V_OK && used < len) {
            used += (size_t)snprintf(buf + used, len - used, "%scertificate: %s",
                                     used > 0 ? "; " : "", X509_verify_cert_error_string(vr));
        }
    }
    if (buf[0] == '\0') {
        snprintf(buf, len, "connection closed during the TLS handshake");
    }
}

const char *
px_tls_cipher(struct bufferevent *bev)
{
    SSL *ssl = bev != NULL ? bufferevent_openssl_get_ssl(bev) : NULL;

    return ssl != NULL ? SSL_get_cipher_name(ssl) : NULL;
}
