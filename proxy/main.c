/*
 * main.c - mvproxy entry point: flags and config, backend address check,
 * catalog start, worker threads, the accepting listener, and a clean stop
 * on SIGTERM/SIGINT. Exits non-zero with a one-line reason when it cannot
 * start.
 *
 * The stop is a drain (SPEC §2, in the manner of PgBouncer's and ProxySQL's
 * shutdown):
 *
 *   SIGTERM/SIGINT ─> listener closed (new connections refused), workers
 *     │               drain (px_worker_drain: a new command gets ERR 1053),
 *     │               scheduler starts no task (cat_drain_begin)
 *     v
 *   every DRAIN_TICK_MS: statements / admin jobs in flight (px_worker_busy)
 *     + refresh tasks (cat_drain_pending) == 0 ─> stop
 *     │ shutdown_timeout passed, or a second signal ─> refresh tasks
 *     │   cancelled (they end FAILED/CANCELED), stop
 *     v
 *   stop: workers stopped (idle clients and unanswered commands get ERR
 *     1053, a client mid-result is disconnected), catalog shut down, exit 0
 */
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>
#include <sys/socket.h>

#include <event2/event.h>
#include <event2/listener.h>
#include <event2/thread.h>

#include "cat_engine.h"
#include "px_conf.h"
#include "px_log.h"
#include "px_tls.h"
#include "px_worker.h"
#include "rw_limits.h"

#define MAX_QUERY_BYTES     (64u * 1024u * 1024u)   /* COM_QUERY payload cap */
#define CLIENT_HIGH_WATER   (4u * 1024u * 1024u)    /* pause the backend above this backlog */
#define CLIENT_LOW_WATER    (1u * 1024u * 1024u)    /* resume at or below this */
#define BACKEND_PROBE_MS    5000                    /* startup reachability check timeout */
#define DRAIN_TICK_MS       50                      /* drain: how often "all done?" is asked */

struct proxy {
    struct px_conf conf;                /* settings */
    struct px_relay_cfg relay;          /* shared with the workers */
    struct event_base *base;            /* main loop: accept and signals */
    struct evconnlistener *listener;    /* client listener */
    struct event *sig_term, *sig_int;   /* stop signals */
    struct px_worker *workers;          /* conf.threads workers */
    int n_workers;                      /* started workers */
    unsigned next_worker;               /* round-robin cursor */
    bool draining;                      /* first stop signal seen: the drain runs */
    bool drain_cut;                     /* drain ended by its timeout or a second signal */
    struct timeval drain_deadline;      /* monotonic-ish (event_base_gettimeofday_cached) end */
    struct event *drain_tick;           /* DRAIN_TICK_MS timer while draining */
};

/* Print the one-line startup failure REASON and exit 1. */
static _Noreturn void
die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static _Noreturn void
die(const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "mvproxy: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(1);
}

/*
 * Resolve HOST:PORT (numeric or name, TCP) into SS/LEN. PASSIVE for a
 * listen address. Returns 0 or a getaddrinfo error code.
 */
static int
resolve(const char *host, unsigned port, bool passive, struct sockaddr_storage *ss,
        socklen_t *len)
{
    struct addrinfo hints, *res = NULL;
    char portstr[16];
    int rc;

    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = passive ? AI_PASSIVE : 0;
    snprintf(portstr, sizeof(portstr), "%u", port);
    rc = getaddrinfo(host, portstr, &hints, &res);
    if (rc != 0) {
        return rc;
    }
    memcpy(ss, res->ai_addr, res->ai_addrlen);
    *len = res->ai_addrlen;
    freeaddrinfo(res);
    return 0;
}

/* Try one TCP connection to the backend (timeout BACKEND_PROBE_MS). Returns 0 or an errno. */
static int
probe_backend(const struct sockaddr_storage *ss, socklen_t len)
{
    struct pollfd pfd;
    socklen_t elen = sizeof(int);
    int fd, rc, err = 0;

    fd = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        return errno;
    }
    rc = connect(fd, (const struct sockaddr *)ss, len);
    if (rc != 0 && errno != EINPROGRESS) {
        err = errno;
        close(fd);
        return err;
    }
    if (rc != 0) {
        pfd.fd = fd;
        pfd.events = POLLOUT;
        rc = poll(&pfd, 1, BACKEND_PROBE_MS);
        if (rc == 0) {
            close(fd);
            return ETIMEDOUT;
        }
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) != 0) {
            err = errno;
        }
    }
    close(fd);
    return err;
}

/* Listener callback (main thread): hand the socket to the next worker. */
static void
accept_cb(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int salen,
          void *arg)
{
    struct proxy *px = arg;
    struct px_worker *w = &px->workers[px->next_worker++ % (unsigned)px->n_workers];

    (void)l;
    if (px_worker_hand_fd(w, fd, sa, (socklen_t)salen) != 0) {
        px_log_warn("cannot hand a connection to worker %d; closing it", w->index);
        close(fd);
    }
}

static void
accept_error_cb(struct evconnlistener *l, void *arg)
{
    int err = EVUTIL_SOCKET_ERROR();

    (void)l;
    (void)arg;
    /* EMFILE and friends: log and keep listening. */
    px_log_warn("accept failed: %s", evutil_socket_error_to_string(err));
}

/* Drain timer (main thread): stop when nothing is in flight any more, or
 * cut the drain off at its deadline. */
static void
drain_tick_cb(evutil_socket_t fd, short what, void *arg)
{
    struct proxy *px = arg;
    struct timeval now;
    int busy = 0, tasks, i;

    (void)fd;
    (void)what;
    for (i = 0; i < px->n_workers; i++) {
        busy += px_worker_busy(&px->workers[i]);
    }
    tasks = cat_drain_pending();
    if (busy == 0 && tasks == 0) {
        px_log_info("drained: no statement or refresh in flight; stopping");
        event_base_loopbreak(px->base);
        return;
    }
    evutil_gettimeofday(&now, NULL);
    if (evutil_timercmp(&now, &px->drain_deadline, >=)) {
        px_log_warn("shutdown timeout (%d s): %d statement(s) and %d refresh task(s) still "
                    "running are cut off (ERR 1053)",
                    px->conf.shutdown_timeout, busy, tasks);
        px->drain_cut = true;
        event_base_loopbreak(px->base);
    }
}

/*
 * SIGTERM / SIGINT (main thread). The first begins the drain: the listener
 * closes at once, the workers answer new commands with ERR 1053, the
 * scheduler starts nothing; the drain timer then decides when to stop. A
 * second signal during the drain stops now.
 */
static void
signal_cb(evutil_socket_t sig, short what, void *arg)
{
    struct proxy *px = arg;
    struct timeval tick = {0, DRAIN_TICK_MS * 1000};
    int i;

    (void)what;
    if (px->draining) {
        px_log_info("signal %d received during the drain: stopping now", (int)sig);
        px->drain_cut = true;
        event_base_loopbreak(px->base);
        return;
    }
    px->draining = true;
    px_log_info("signal %d received: draining (new connections refused; running statements "
                "and refreshes get up to %d s)",
                (int)sig, px->conf.shutdown_timeout);
    if (px->listener != NULL) {
        evconnlistener_free(px->listener);
        px->listener = NULL;
    }
    for (i = 0; i < px->n_workers; i++) {
        px_worker_drain(&px->workers[i]);
    }
    cat_drain_begin();
    evutil_gettimeofday(&px->drain_deadline, NULL);
    px->drain_deadline.tv_sec += px->conf.shutdown_timeout;
    px->drain_tick = event_new(px->base, -1, EV_PERSIST, drain_tick_cb, px);
    if (px->drain_tick == NULL || event_add(px->drain_tick, &tick) != 0) {
        px_log_error("cannot start the drain timer; stopping now");
        px->drain_cut = true;
        event_base_loopbreak(px->base);
    }
}

/* Release everything main() created (safe on a partially started proxy). */
static void
proxy_teardown(struct proxy *px)
{
    int i;

    if (px->listener != NULL) {
        evconnlistener_free(px->listener);
        px->listener = NULL;
    }
    if (px->drain_tick != NULL) {
        event_free(px->drain_tick);
        px->drain_tick = NULL;
    }
    if (px->drain_cut) {
        /* Admin jobs wait for their refresh: end the refreshes first. But
         * mark the workers cut off before that, so an admin job the cancel
         * ends is answered ERR 1053 (SPEC §2), not with the cancel's 1317,
         * even when its end reaches the worker before the stop request. */
        for (i = 0; i < px->n_workers; i++) {
            px_worker_cut(&px->workers[i]);
        }
        cat_drain_cancel();
    }
    for (i = 0; i < px->n_workers; i++) {
        px_worker_stop(&px->workers[i]);
    }
    for (i = 0; i < px->n_workers; i++) {
        px_worker_join(&px->workers[i]);
    }
    free(px->workers);
    px->workers = NULL;
    if (px->sig_term != NULL) {
        event_free(px->sig_term);
    }
    if (px->sig_int != NULL) {
        event_free(px->sig_int);
    }
    if (px->base != NULL) {
        event_base_free(px->base);
    }
}

int
main(int argc, char **argv)
{
    struct proxy px;
    struct cat_config cc;
    struct sockaddr_storage lss;
    socklen_t llen = 0;
    char err[512];
    int rc, i;

    memset(&px, 0, sizeof(px));
    switch (px_conf_load(argc, argv, stdout, &px.conf, err, sizeof(err))) {
    case PX_CONF_RUN:
        break;
    case PX_CONF_EXIT_OK:
        px_conf_free(&px.conf);
        return 0;
    case PX_CONF_FAIL:
        px_conf_free(&px.conf);
        die("bad configuration: %s", err);
    }
    px_log_set_level(px.conf.log_level);
    signal(SIGPIPE, SIG_IGN);

    rc = resolve(px.conf.backend_host, px.conf.backend_port, false, &px.relay.backend_addr,
                 &px.relay.backend_addrlen);
    if (rc != 0) {
        die("cannot resolve backend %s: %s", px.conf.backend_host, gai_strerror(rc));
    }
    snprintf(px.relay.backend_name, sizeof(px.relay.backend_name), "%s:%u",
             px.conf.backend_host, px.conf.backend_port);
    px.relay.max_query = MAX_QUERY_BYTES;
    px.relay.fence_ms = px.conf.freshness_fence_ms;
    px.relay.client_high_water = CLIENT_HIGH_WATER;
    px.relay.client_low_water = CLIENT_LOW_WATER;
    snprintf(px.relay.backend_host, sizeof(px.relay.backend_host), "%s", px.conf.backend_host);
    px.relay.tls_mode = (int)px.conf.tls_mode;
    px.relay.backend_tls = (int)px.conf.backend_tls;
    if (px.conf.tls_mode != PX_TLS_DISABLED) {
        px.relay.tls_ctx =
            px_tls_server_ctx_new(px.conf.tls_cert, px.conf.tls_key, px.conf.tls_ca, err,
                                  sizeof(err));
        if (px.relay.tls_ctx == NULL) {
            die("TLS: %s", err);
        }
    }
    if (px.conf.backend_tls != PX_BTLS_DISABLED) {
        px.relay.backend_tls_ctx =
            px_tls_client_ctx_new(px.conf.backend_tls, px.conf.backend_tls_ca,
                                  px.conf.backend_tls_cert, px.conf.backend_tls_key, err,
                                  sizeof(err));
        if (px.relay.backend_tls_ctx == NULL) {
            die("backend TLS: %s", err);
        }
    }
    rc = probe_backend(&px.relay.backend_addr, px.relay.backend_addrlen);
    if (rc != 0) {
        die("backend %s unreachable: %s", px.relay.backend_name, strerror(rc));
    }
    rc = resolve(px.conf.listen_host, px.conf.listen_port, true, &lss, &llen);
    if (rc != 0) {
        die("cannot resolve listen address %s: %s", px.conf.listen_host, gai_strerror(rc));
    }

    if (evthread_use_pthreads() != 0) {
        die("libevent has no pthreads support");
    }
    px.base = event_base_new();
    if (px.base == NULL) {
        die("cannot create the event loop");
    }
    /* Before the listener: a client may connect (and a supervisor send
     * SIGTERM) as soon as it listens; the signal then waits for the loop
     * instead of killing the process. */
    px.sig_term = evsignal_new(px.base, SIGTERM, signal_cb, &px);
    px.sig_int = evsignal_new(px.base, SIGINT, signal_cb, &px);
    if (px.sig_term == NULL || px.sig_int == NULL || event_add(px.sig_term, NULL) != 0 ||
        event_add(px.sig_int, NULL) != 0) {
        die("cannot install signal handlers");
    }
    px.listener = evconnlistener_new_bind(px.base, accept_cb, &px,
                                          LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE |
                                              LEV_OPT_CLOSE_ON_EXEC,
                                          1024, (struct sockaddr *)&lss, (int)llen);
    if (px.listener == NULL) {
        die("cannot listen on %s:%u: %s", px.conf.listen_host, px.conf.listen_port,
            strerror(errno));
    }
    evconnlistener_set_error_cb(px.listener, accept_error_cb);

    /* analysis budgets (issue 9): set before any thread parses SQL */
    {
        struct rw_limits lim;
        lim.max_bytes = (size_t)px.conf.max_statement_bytes;
        lim.max_tokens = (size_t)px.conf.max_statement_tokens;
        lim.max_depth = (unsigned)px.conf.max_parse_depth;
        lim.time_budget_ms = (unsigned)px.conf.rewrite_time_budget_ms;
        rw_limits_set(&lim);
    }
    memset(&cc, 0, sizeof(cc));
    cc.backend_host = px.conf.backend_host;
    cc.backend_port = px.conf.backend_port;
    cc.service_user = px.conf.service_user;
    cc.service_password = px.conf.service_password;
    cc.meta_schema = px.conf.meta_schema;
    cc.refresh_tasks = px.conf.refresh_tasks;
    cc.commit_debounce_ms = px.conf.commit_debounce_ms;
    cc.catalog_poll_ms = px.conf.catalog_poll_ms;
    cc.refresh_log_bin = px.conf.refresh_log_bin;
    cc.backend_tls = (int)px.conf.backend_tls;
    cc.backend_tls_ca = px.conf.backend_tls_ca;
    cc.backend_tls_cert = px.conf.backend_tls_cert;
    cc.backend_tls_key = px.conf.backend_tls_key;
    err[0] = '\0';
    if (cat_init(&cc, err, sizeof(err)) != 0) {
        proxy_teardown(&px);
        die("catalog: %s", err[0] ? err : "initialisation failed");
    }

    px.workers = calloc((size_t)px.conf.threads, sizeof(*px.workers));
    if (px.workers == NULL) {
        die("out of memory");
    }
    for (i = 0; i < px.conf.threads; i++) {
        if (px_worker_start(&px.workers[i], i, &px.relay, err, sizeof(err)) != 0) {
            px.n_workers = i;
            px_worker_join(&px.workers[i]);
            proxy_teardown(&px);
            cat_shutdown();
            die("worker %d: %s", i, err);
        }
        px.n_workers = i + 1;
    }
    px_log_info("mvproxy %s listening on %s:%u, backend %s, %d worker threads, client TLS %s, "
                "backend TLS %s",
                MVPROXY_VERSION, px.conf.listen_host, px.conf.listen_port, px.relay.backend_name,
                px.conf.threads, px_tls_mode_name(px.conf.tls_mode),
                px_tls_backend_mode_name(px.conf.backend_tls));

    event_base_dispatch(px.base);

    proxy_teardown(&px);
    cat_shutdown();
    /* every session (and its SSL object) is gone with the workers */
    px_tls_ctx_free(px.relay.tls_ctx);
    px_tls_ctx_free(px.relay.backend_tls_ctx);
    px_log_info("stopped");
    px_conf_free(&px.conf);
    libevent_global_shutdown();
    return 0;
}
