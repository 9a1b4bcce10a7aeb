/*
 * px_session_internal.h - the fields of a session and the helpers that the
 * session module's files share: px_session.c (the state machine, relay and
 * teardown), px_resp.c (reading backend responses) and px_admin_exec.c
 * (the admin bridge). Nothing outside those three files includes it; the
 * rest of the proxy sees only px_session.h.
 */
#ifndef PX_SESSION_INTERNAL_H
#define PX_SESSION_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <event2/bufferevent.h>
#include <event2/event.h>

#include "cat_engine.h"
#include "cat_reply.h"
#include "px_dispatch.h"
#include "px_mysql.h"
#include "px_session.h"

#define PEEK_MAX        32u                 /* payload bytes peeked per packet (OK status fits) */
#define HANDSHAKE_MAX   (1u << 20)          /* greeting / handshake response / change-user cap */
#define CLIENT_READ_HIGH (PX_PKT_MAX + PX_PKT_HDR_LEN + 65536u) /* whole packet always fits */
#define CLOSE_FLUSH_SECS 10                 /* give up flushing a closing client after this */
#define TLS_HANDSHAKE_SECS 10                 /* a TLS handshake (either hop) must end by then */

#define ER_NET_PACKET_TOO_LARGE 1153
#define CR_CONN_HOST_ERROR      2003
#define CR_SERVER_LOST          2013
#define ER_NOT_SUPPORTED_AUTH   1251
#define ER_UNKNOWN_ERROR        1105
#define ER_SERVER_SHUTDOWN      1053
#define CR_SSL_CONNECTION_ERROR 2026    /* sent as 1158 / 08S01 (px_mysql_build_err) */
/* MySQL 5.7+ ER_SECURE_TRANSPORT_REQUIRED. MariaDB 10.11 has no such code: under
 * require_secure_transport it answers 1045 / 28000 (checked), which would read as a
 * bad password; the proxy uses the MySQL code with SQLSTATE 08004. */
#define ER_SECURE_TRANSPORT_REQUIRED 3159
#define SHUTDOWN_MSG            "Server shutdown in progress"

/* How the end of the current command's response is recognised. */
enum resp_kind {
    RK_RESULTSET = 0,   /* OK | ERR | LOCAL INFILE | result set(s), MORE_RESULTS chains */
    RK_PREPARE,         /* COM_STMT_PREPARE: ERR | OK-prepare, param defs, column defs */
    RK_FIELD_LIST,      /* COM_FIELD_LIST: column defs until EOF/ERR */
    RK_FETCH,           /* COM_STMT_FETCH: rows until EOF/ERR */
    RK_ONE,             /* exactly one packet (PING, STATISTICS, unknown commands ...) */
};

enum resp_phase {
    PH_FIRST = 0,       /* expecting the first packet of a (next) result */
    PH_COLDEFS,         /* cols_left column definitions to go */
    PH_COLDEFS_EOF,     /* EOF after column definitions (no DEPRECATE_EOF) */
    PH_ROWS,            /* rows until EOF / OK(0xFE) / ERR */
    PH_INFILE,          /* client sends file packets until an empty one */
    PH_PARAMS,          /* prepare: params_left parameter definitions */
    PH_PARAMS_EOF,      /* prepare: EOF after the parameter definitions */
    PH_PCOLS,           /* prepare: cols_left column definitions */
    PH_PCOLS_EOF,       /* prepare: EOF after the column definitions */
};

/* Where the bytes of the backend packet being passed go. */
enum bk_sink {
    SINK_CLIENT = 0,    /* client output buffer */
    SINK_DISCARD,       /* dropped (swallowed rewrite ERR, unsolicited packets) */
};

/* What to do once the backend packet being passed is complete. */
enum bk_after {
    AFTER_NONE = 0,     /* nothing */
    AFTER_RESP_END,     /* the command's response ended */
    AFTER_RESEND,       /* rewritten query failed: send the original */
    AFTER_AUTH_OK,      /* authentication succeeded */
    AFTER_AUTH_ERR,     /* authentication failed */
    AFTER_VALIDATED,    /* the PREPARE of the original answered (px_validate.c) */
    AFTER_RUN_ORIGINAL, /* the discarded rewritten answer ended: run the original */
    AFTER_PREP,         /* the proxy's own COM_STMT_PREPARE answered (px_prep.c) */
};

/* A request from the admin thread to run SQL on this session's backend. */
struct exec_req {
    const char *sql;            /* NUL-terminated (borrowed from the admin thread) */
    struct mvp_reply *reply;    /* filled on the loop thread */
    int rc;                     /* 0 response arrived, -1 connection gone */
    bool done;                  /* set under s->mu; admin thread waits for it */
};

/* An admin job in flight (owned by the session while admin_running). */
struct admin_job {
    struct px_session *s;       /* session (kept alive until the job ends) */
    void *admin;                /* opaque job from px_dispatch_query (consumed by run) */
    char *user;                 /* copy of the session user */
    char *db;                   /* copy of the current db or NULL */
    struct px_session_info si;  /* points at user/db above */
    struct mvp_reply reply;     /* what the client gets */
};

/* Parser state for responses to admin EXEC queries (collect mode). */
struct collect {
    enum resp_phase phase;      /* PH_FIRST, PH_COLDEFS, PH_COLDEFS_EOF, PH_ROWS */
    size_t n_cols;              /* columns of the current result set */
    size_t got_cols;            /* column definitions seen */
    char **names;               /* n_cols names (owned until handed to the reply) */
    enum mvp_col_type *types;   /* n_cols types */
    bool have_result;           /* reply holds a result set or ERR: ignore later results */
    bool keep;                  /* rows of the current result set go into the reply */
    struct px_buf pkt;          /* reassembled payload */
};

struct px_session {
    uint64_t id;                        /* session id (logs, px_session_info) */
    struct px_worker *worker;           /* owning worker (its thread runs us) */
    struct px_session *prev, *next;     /* worker->sessions list */
    enum px_session_state state;        /* see the diagram above */
    char peer[64];                      /* client address for logs */
    struct bufferevent *cl;             /* client side, NULL once closed */
    struct bufferevent *bk;             /* backend side, NULL once closed */
    bool bk_lost;                       /* backend went away: ERR 2013 at the next command */
    bool cl_closing;                    /* client is flushing its last bytes, then closed */
    bool free_scheduled;                /* deferred free queued */
    bool busy_counted;                  /* counted in worker->n_busy (QUERY or admin job) */
    bool resp_started;                  /* bytes of the current response reached the client */

    uint32_t server_caps;               /* greeting capabilities after our edits */
    uint32_t caps;                      /* client caps & server caps */
    bool multi_on;                      /* multi-statements on: CLIENT_MULTI_STATEMENTS in caps,
                                         * then the last COM_SET_OPTION */
    uint16_t status;                    /* last server status flags seen */
    bool greeting_sent;                 /* HANDSHAKE: greeting forwarded to the client */

    bool cl_tls;                        /* client bev switched to TLS after its SSLRequest */
    bool cl_tls_up;                     /* ... and its TLS handshake completed */
    struct event *tls_timer;            /* drops a client whose TLS handshake stalls (owned) */
    bool bk_ssl_offered;                /* the backend's greeting had CLIENT_SSL */
    bool bk_tls;                        /* the backend hop is (being switched to) TLS */
    bool bk_tls_pending;                /* backend TLS handshake running: bk_hs_resp waits */
    struct px_buf bk_hs_resp;           /* handshake response to send once backend TLS is up */
    uint8_t auth_cl_delta;              /* AUTH: added to client sequence ids sent on to the
                                         * backend (the two hops' SSLRequests differ) */

    char *user;                         /* authenticated user (owned) */
    char *db;                           /* current database or NULL (owned) */
    bool rewrite_enabled;               /* session rewrite flag */
    char *pending_user;                 /* user of the auth in progress (owned) */
    char *pending_db;                   /* db to adopt when the command succeeds (owned) */
    bool pending_db_valid;              /* pending_db applies to this command */
    bool change_user;                   /* AUTH came from COM_CHANGE_USER */

    uint8_t cmd;                        /* command in flight */
    uint8_t cl_seq;                     /* sequence id of the client's last command packet */
    uint8_t reply_seq;                  /* next sequence id the client expects from us */
    enum resp_kind rkind;               /* response shape of cmd */
    enum resp_phase phase;              /* where in that response we are */
    uint64_t cols_left;                 /* column definitions to go */
    uint64_t params_left;               /* prepare: parameter definitions to go */
    uint64_t prep_cols;                 /* prepare: column count */
    uint64_t prep_params;               /* prepare: parameter count */
    uint32_t prep_id;                   /* prepare: statement id of the PREPARE_OK */
    struct px_prep *prep;               /* prepared statements (px_prep.c; owned, lazily made) */
    bool resp_ok;                       /* final packet of the response was OK */

    size_t bk_pass;                     /* bytes of the current backend packet still to move */
    bool bk_chain;                      /* next backend packet continues a 0xFFFFFF chain */
    enum bk_sink bk_sink;               /* destination of bk_pass bytes */
    enum bk_after bk_after;             /* action when the passed packet (chain) is complete */
    uint8_t seq_delta;                  /* added to relayed backend sequence ids (mod 256) */
    bool bk_paused;                     /* backend reads paused: client backlog too big */

    size_t cl_pass;                     /* bytes of the current client packet still to move */
    bool cl_chain;                      /* next client packet continues a chain */

    struct px_buf query;                /* COM_QUERY payload (cmd byte + SQL) being built */
    bool query_open;                    /* a COM_QUERY chain is being assembled */
    uint8_t query_pkts;                 /* packets the client used for it (mod 256) */
    bool rewrite_check;                 /* rewritten query sent: inspect first response packet */
    struct px_rewrite_views rewrite_views; /* the views the rewritten query in flight reads */
    unsigned rewrite_err;               /* ERR code the backend answered it with */

    bool admin_running;                 /* admin thread alive: do not free */
    struct admin_job *job;              /* the job (owned) */
    pthread_mutex_t mu;                 /* guards exec_req, exec done flags, admin_done */
    pthread_cond_t cv;                  /* signals exec_req->done */
    struct event *exec_ev;              /* activated by the admin thread: run exec_req */
    struct event *admin_ev;             /* activated by the admin thread: job finished */
    struct exec_req *exec_req;          /* posted, not yet started (under mu) */
    struct exec_req *exec_cur;          /* running on the backend (loop thread only) */
    struct collect coll;                /* response parser for exec_cur */

    /* session state tracking (px_track.c) */
    uint32_t bk_caps;                   /* capabilities of the backend connection: caps, plus
                                         * CLIENT_SESSION_TRACK when the proxy added it */
    bool track_added;                   /* the proxy asked the backend for session tracking:
                                         * OK packets are converted back for the client */
    bool arming;                        /* the tracking statement is in flight: commands wait */
    bool rearm;                         /* run it again when the command in flight ends */
    bool mode_known;                    /* sql_mode is the backend's current one */
    uint32_t sql_mode;                  /* its rw_sql_mode_parse flags */
    char *sql_mode_text;                /* its text as the backend reported it (owned) */

    /* validation of the original before a rewrite (px_validate.c) */
    int validate;                       /* enum px_validate_state */
    uint32_t val_ids[PX_DISPATCH_MULTI_MAX];  /* the PREPAREs' statement ids (0: failed) */
    uint8_t val_sent;                   /* PREPAREs sent for the command in flight */
    uint8_t val_done;                   /* ... and answered */
    bool val_bad;                       /* one of them answered ERR */
    uint64_t val_epoch;                 /* schema epoch when it was sent */
    uint8_t val_seq_delta;              /* seq_delta of the rewritten query behind it */

    /* freshness fence (px_fence.c) */
    struct cat_fence_waiter fence;      /* the engine's waiter (linked while parked) */
    struct event *fence_wake;           /* activated by the engine; also a 1 ms poll (owned) */
    struct event *fence_timer;          /* the --freshness-fence-ms deadline (owned) */
    uint8_t fence_state;                /* px_fence.c enum px_fence_state, per command */
    uint8_t fence_at;                   /* enum px_fence_at of the parked command */
};

/* ---- px_session.c helpers used by px_resp.c and px_admin_exec.c ------- */

/* Decide the parked COM_QUERY in s->query again and send it (px_fence.c;
 * S is in QUERY and its response tracking has begun). */
void px_session_query_resume(struct px_session *s);

/* Start tracking the response to command CMD of shape KIND (phase, counters). */
void px_session_resp_begin(struct px_session *s, uint8_t cmd, enum resp_kind kind);

/* Recompute S's contribution to worker->n_busy (QUERY or an admin job running). */
void px_session_busy_update(struct px_session *s);

/* The single place S changes state (px_fatal on an illegal transition). */
void px_session_set_state(struct px_session *s, enum px_session_state to);

/* Free S when nothing references it any more (both sides and any job gone). */
void px_session_maybe_free(struct px_session *s);

/* Close the backend connection (idempotent). */
void px_session_bk_close(struct px_session *s);

/* Close the client side; with FLUSH, after its pending output is written. */
void px_session_cl_close(struct px_session *s, bool flush);

/* Run the action queued (bk_after) for the end of the backend packet just
 * passed or consumed: the response's end, a resend, the end of authentication. */
void px_session_bk_after(struct px_session *s);

/* Process everything buffered from the backend that the current state allows. */
void px_session_bk_process(struct px_session *s);

/* Serve buffered client input (the next pipelined command). */
void px_session_cl_process(struct px_session *s);

/* Send ERR CODE/SQLSTATE/MSG to the client with the next expected sequence id. */
void px_session_send_err(struct px_session *s, uint16_t code, const char *sqlstate, const char *msg);

/* Answer the current command with REPLY (sequence ids from reply_seq). */
void px_session_send_reply(struct px_session *s, const struct mvp_reply *reply);

/* Send the client's own command (s->query: a COM_QUERY or COM_STMT_EXECUTE
 * payload) unchanged and follow its answer for the client, as it comes (no
 * rewrite check); drops the views of a rewrite that is not used. The one way back to the original after a
 * rewritten command failed, was not validated, or was not taken. */
void px_session_send_original(struct px_session *s);

/* S goes ahead with the rewrite OUT of its command: logs WHAT ("query",
 * "EXECUTE", "statement") with the text at debug level and moves OUT's
 * views into s->rewrite_views (counted hits go with them; OUT->views is
 * zeroed). Every path that sends a rewrite adopts it first. */
void px_session_adopt_rewrite(struct px_session *s, struct px_dispatch_out *out, const char *what);

/* Send the adopted rewrite's text OUT->sql as a COM_QUERY in place of the
 * client's command (s->query stays the fallback) and check its first
 * response packet (rewrite_check). The response tracking must have begun. */
void px_session_send_rewritten(struct px_session *s, const struct px_dispatch_out *out);

/* Frame payload P/LEN (a command, bytes) to the backend with sequence ids
 * from 0. Returns the number of packets sent. */
uint8_t px_session_send_command(struct px_session *s, const void *p, size_t len);

/* Begin passing the backend packet whose header HDR (payload LEN bytes) is at
 * the front of the backend input to SINK (sequence id renumbered by
 * seq_delta when it goes to the client). */
void px_session_bk_begin_packet(struct px_session *s, uint8_t *hdr, uint32_t len,
                                enum bk_sink sink);

/* Fill SI from S (pointers borrowed until S's user/db change). */
void px_session_fill_info(const struct px_session *s, struct px_session_info *si);

/* The rewritten statement in flight failed (s->rewrite_err): count it on its
 * views and send the client's original command (s->query) instead. */
void px_session_resend_original(struct px_session *s);

#endif /* PX_SESSION_INTERNAL_H */
