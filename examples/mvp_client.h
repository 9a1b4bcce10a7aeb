/*
 * examples/mvp_client.h - the connection helpers the demo and benchmark
 * clients share (examples/dashboard.c, bench/relay_bench.c): a HOST:PORT
 * endpoint and a connect with a timeout. Header-only (static functions):
 * CMake builds each C file of examples/ and bench/ as its own executable.
 */
#ifndef MVP_CLIENT_H
#define MVP_CLIENT_H

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mysql.h>

struct endpoint {
    char host[256];             /* host name or address */
    unsigned port;              /* TCP port; 0 = not configured */
};

/* Parse "HOST:PORT" (or just "PORT", host 127.0.0.1) into EP. Returns
 * false when malformed. */
static inline bool
parse_endpoint(const char *s, struct endpoint *ep)
{
    const char *colon = strrchr(s, ':');
    const char *port = colon != NULL ? colon + 1 : s;
    char *end;
    long p;

    errno = 0;
    p = strtol(port, &end, 10);
    if (errno != 0 || *end != '\0' || p <= 0 || p > 65535) {
        return false;
    }
    if (colon != NULL) {
        size_t n = (size_t)(colon - s);
        if (n == 0 || n >= sizeof(ep->host)) {
            return false;
        }
        memcpy(ep->host, s, n);
        ep->host[n] = '\0';
    } else {
        snprintf(ep->host, sizeof(ep->host), "127.0.0.1");
    }
    ep->port = (unsigned)p;
    return true;
}

/* Connect to EP as USER/PASSWORD into DB (10 s connect timeout). NULL with
 * ERR filled ("host:port: message") on failure. Caller closes. */
static inline MYSQL *
mvp_connect(const struct endpoint *ep, const char *user, const char *password, const char *db,
            char *err, size_t errlen)
{
    MYSQL *m = mysql_init(NULL);
    unsigned timeout = 10;
    if (m == NULL) {
        snprintf(err, errlen, "mysql_init failed");
        return NULL;
    }
    mysql_options(m, MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
    if (mysql_real_connect(m, ep->host, user, password, db, ep->port, NULL, 0) == NULL) {
        snprintf(err, errlen, "%.100s:%u: %.140s", ep->host, ep->port, mysql_error(m));
        mysql_close(m);
        return NULL;
    }
    return m;
}

#endif /* MVP_CLIENT_H */
