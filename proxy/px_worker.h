/*
 * px_worker.h - worker threads. Each worker owns one libevent event_base and
 * the sessions handed to it; a session lives on one worker forever, so the
 * session code needs no locks except for the admin-thread handoff. The main
 * thread accepts connections and passes each fd to a worker round-robin
 * through the worker's notification pipe.
 */
#ifndef PX_WORKER_H
#define PX_WORKER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct event;
struct event_base;
struct px_session;
struct ssl_ctx_st;

/* Settings shared read-only by all workers and sessions. */
struct px_relay_cfg {
    struct sockaddr_storage backend_addr;   /* resolved backend address */
    socklen_t backend_addrlen;              /* bytes used in backend_addr */
    char backend_name[300];                 /* "host:port" for logs */
    size_t max_query;                       /* COM_QUERY payload cap (bytes) */
    long long fence_ms;                     /* freshness fence wait, ms (0 = no fence) */
    size_t client_high_water;               /* pause backend reads above this client backlog */
    size_t client_low_water;                /* resume at or below this */
    int tls_mode;                           /* enum px_tls_mode (client side) */
    struct ssl_ctx_st *tls_ctx;             /* server context for clients, NULL when disabled
                                             * (owned by main, shared by every worker) */
    int backend_tls;                        /* enum px_backend_tls */
    struct ssl_ctx_st *backend_tls_ctx;     /* client context for the backend or NULL */
    char backend_host[256];                 /* backend host: SNI and verify-full's name */
};

struct px_worker {
    int index;                              /* 0..threads-1, for logs */
    pthread_t thread;                       /* the worker thread */
    bool started;                           /* thread is running (join needed) */
    struct event_base *base;                /* this worker's loop (owned) */
    int pipe_rd;                            /* notification pipe, read end (worker) */
    int pipe_wr;                            /* write end (main thread) */
    struct event *notify_ev;                /* read event on pipe_rd */
    const struct px_relay_cfg *cfg;         /* shared settings (borrowed) */
    struct px_session *sessions;            /* doubly linked list of live sessions */
    size_t n_sessions;                      /* length of that list */
    bool stopping;                          /* stop requested: close all, exit when empty */
    bool draining;                          /* shutdown drain: new commands get ERR 1053 */
    atomic_bool cut;                        /* drain cut off (set by main before it cancels
                                             * the refreshes): an admin job that ends now
                                             * answers ERR 1053, not its own reply */
    _Atomic int n_busy;                     /* sessions with a statement in flight (QUERY
                                             * state) plus admin jobs running; read by main */
};

/*
 * Create W's event base and pipe and start its thread. CFG must outlive the
 * worker. Returns 0, or -1 with a reason in ERR (ERRLEN bytes).
 */
int px_worker_start(struct px_worker *w, int index, const struct px_relay_cfg *cfg, char *err,
                    size_t errlen);

/*
 * Hand the accepted, non-blocking socket FD (peer address SA/SALEN) to W.
 * Called on the main thread. On success W owns FD; returns 0, or -1 (the
 * caller closes FD).
 */
int px_worker_hand_fd(struct px_worker *w, int fd, const struct sockaddr *sa, socklen_t salen);

/*
 * Ask W to stop: it closes every session and its thread leaves the loop when
 * no session (including ones waiting for an admin job) is left. Main thread.
 */
void px_worker_stop(struct px_worker *w);

/*
 * Begin the shutdown drain on W (SPEC §2; main thread, returns at once):
 * W takes no new connection, and every command that arrives on one of its
 * sessions from now on is answered ERR 1053 / 08S01 "Server shutdown in
 * progress" (the session is then closed) instead of being relayed; a
 * statement or admin job already in flight runs on and its client gets the
 * whole result. px_worker_busy() tells when nothing is left in flight; then
 * (or at the drain timeout) px_worker_stop() ends the rest: idle sessions
 * and those whose response has not begun get ERR 1053, a client in the
 * middle of a result set is disconnected.
 */
void px_worker_drain(struct px_worker *w);

/*
 * Mark W's drain as cut off (main thread, returns at once; call before
 * cancelling the refresh tasks and before px_worker_stop()). From now on an
 * admin job that ends, e.g. a REFRESH ended by that cancel, is answered
 * ERR 1053 and its session closed, instead of the job's own reply (the
 * cancel's 1317): the client sees the same shutdown error whichever comes
 * first on W's loop, the job's end or the stop request.
 */
void px_worker_cut(struct px_worker *w);

/* Statements and admin jobs in flight on W (any thread; atomic read). */
int px_worker_busy(const struct px_worker *w);

/* Wait for W's thread to end and free W's resources. Main thread. */
void px_worker_join(struct px_worker *w);

/* Called by the session layer (worker thread) after a session was freed. */
void px_worker_session_gone(struct px_worker *w);

#endif /* PX_WORKER_H */
