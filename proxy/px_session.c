/*
 * px_session.c - one client connection relayed to its own backend
 * connection: handshake and auth relay, command dispatch (relay, rewrite,
 * local reply, admin job), response-end tracking, back-pressure, teardown.
 *
 *   CONNECTING --connected--> HANDSHAKE --client response--> AUTH --OK--> IDLE
 *                                                             ^  |
 *                                              COM_CHANGE_USER|  v
 *   IDLE --COM_xxx relayed--> QUERY --response end--> IDLE <--'
 *   IDLE --ADMIN decision--> ADMIN --job done, reply sent--> IDLE
 *   any --error / EOF / COM_QUIT / shutdown--> CLOSING --both sides and job gone--> freed
 *
 *   client bev ──(COM_QUERY buffered whole; other commands streamed)──> backend bev
 *   client bev <──(response streamed packet by packet, headers peeked)── backend bev
 *
 * The relay reads only packet headers, the first payload byte and the
 * status flags of OK/EOF packets; row bytes are moved with
 * evbuffer_remove_buffer(). A packet of 0xFFFFFF payload bytes continues in
 * the next one: such continuation packets are passed through uninspected.
 *
 * Admin jobs run on a detached thread. Their EXEC callback marshals SQL onto
 * this session's worker loop (exec_ev, activated from the admin thread) and
 * waits on a condition variable; the loop runs the SQL on the backend
 * connection and parses the response into a struct mvp_reply (collect mode).
 * When the job ends, admin_ev posts its reply back to the loop. The session
 * is not freed while a job runs, even when the client has gone.
 *
 * Known limits: commands the proxy does not know are relayed and their
 * response is taken to be exactly one packet (replication commands such as
 * COM_BINLOG_DUMP stream and are not supported). A COM_STMT_EXECUTE that
 * opens a cursor is recognised by SERVER_STATUS_CURSOR_EXISTS in the EOF
 * after its column definitions, i.e. only without CLIENT_DEPRECATE_EOF.
 * The session-state-tracking schema change in OK packets is not parsed: the
 * current database follows COM_INIT_DB, `USE db` and COM_CHANGE_USER only.
 */
#include "px_session.h"
#include "rw_limits.h"

#include <assert.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "px_dispatch.h"
#include "px_log.h"
#include "px_mysql.h"
#include "px_worker.h"

#define PEEK_MAX        32u                 /* payload bytes peeked per packet (OK status fits) */
#define HANDSHAKE_MAX   (1u << 20)          /* greeting / handshake response / change-user cap */
#define CLIENT_READ_HIGH (PX_PKT_MAX + PX_PKT_HDR_LEN + 65536u) /* whole packet always fits */
#define CLOSE_FLUSH_SECS 10                 /* give up flushing a closing client after this */

#define ER_NET_PACKET_TOO_LARGE 1153
#define CR_CONN_HOST_ERROR      2003
#define CR_SERVER_LOST          2013
#define ER_NOT_SUPPORTED_AUTH   1251
#define ER_UNKNOWN_ERROR        1105
#define ER_SERVER_SHUTDOWN      1053
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
    uint16_t status;                    /* last server status flags seen */
    bool greeting_sent;                 /* HANDSHAKE: greeting forwarded to the client */

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

    bool admin_running;                 /* admin thread alive: do not free */
    struct admin_job *job;              /* the job (owned) */
    pthread_mutex_t mu;                 /* guards exec_req, exec done flags, admin_done */
    pthread_cond_t cv;                  /* signals exec_req->done */
    struct event *exec_ev;              /* activated by the admin thread: run exec_req */
    struct event *admin_ev;             /* activated by the admin thread: job finished */
    struct exec_req *exec_req;          /* posted, not yet started (under mu) */
    struct exec_req *exec_cur;          /* running on the backend (loop thread only) */
    struct collect coll;                /* response parser for exec_cur */
};

static _Atomic uint64_t next_session_id = 1;

static void bk_process(struct px_session *s);
static void cl_process(struct px_session *s);
static void session_close(struct px_session *s, const char *why);
static void exec_finish(struct px_session *s, int rc);
static void cl_send_err(struct px_session *s, uint16_t code, const char *sqlstate, const char *msg);

/* ---- state ----------------------------------------------------------- */

const char *
px_session_state_name(enum px_session_state state)
{
    switch (state) {
    case PX_SS_CONNECTING:
        return "CONNECTING";
    case PX_SS_HANDSHAKE:
        return "HANDSHAKE";
    case PX_SS_AUTH:
        return "AUTH";
    case PX_SS_IDLE:
        return "IDLE";
    case PX_SS_QUERY:
        return "QUERY";
    case PX_SS_ADMIN:
        return "ADMIN";
    case PX_SS_CLOSING:
        return "CLOSING";
    }
    return "?";
}

/* Is FROM -> TO a transition the protocol allows? */
static bool
legal_transition(enum px_session_state from, enum px_session_state to)
{
    if (to == PX_SS_CLOSING) {
        return from != PX_SS_CLOSING;
    }
    switch (from) {
    case PX_SS_CONNECTING:
        return to == PX_SS_HANDSHAKE;
    case PX_SS_HANDSHAKE:
        return to == PX_SS_AUTH;
    case PX_SS_AUTH:
        return to == PX_SS_IDLE;
    case PX_SS_IDLE:
        return to == PX_SS_QUERY || to == PX_SS_ADMIN || to == PX_SS_AUTH;
    case PX_SS_QUERY:
    case PX_SS_ADMIN:
        return to == PX_SS_IDLE;
    case PX_SS_CLOSING:
        return false;
    }
    return false;
}

/* Keep worker->n_busy (the drain's "still in flight" count) in step with
 * S: counted while a statement's response is relayed or an admin job runs. */
static void
busy_update(struct px_session *s)
{
    bool busy = s->state == PX_SS_QUERY || s->admin_running;

    if (busy != s->busy_counted) {
        s->busy_counted = busy;
        atomic_fetch_add(&s->worker->n_busy, busy ? 1 : -1);
    }
}

/*
 * The single place a session changes state: asserts the transition is
 * legal (px_fatal otherwise: a programming error), logs it at debug level and
 * adjusts which sides are read.
 */
static void
px_session_set_state(struct px_session *s, enum px_session_state to)
{
    if (!legal_transition(s->state, to)) {
        px_fatal("S-%llu: illegal state change %s -> %s", (unsigned long long)s->id,
                 px_session_state_name(s->state), px_session_state_name(to));
    }
    px_log_debug("S-%llu: %s -> %s", (unsigned long long)s->id, px_session_state_name(s->state),
                 px_session_state_name(to));
    s->state = to;
    busy_update(s);
    if (s->cl != NULL && !s->cl_closing) {
        if (to == PX_SS_ADMIN) {
            bufferevent_disable(s->cl, EV_READ);
        } else if (to == PX_SS_IDLE) {
            bufferevent_enable(s->cl, EV_READ);
        }
    }
}

/* Fill SI from S (borrowed pointers valid until S's user/db change). */
static void
session_info(const struct px_session *s, struct px_session_info *si)
{
    si->id = s->id;
    si->user = s->user != NULL ? s->user : "";
    si->db = s->db;
    si->rewrite_enabled = s->rewrite_enabled;
}

/* Replace owned string *DST with SRC (taken, may be NULL). */
static void
take_str(char **dst, char *src)
{
    free(*dst);
    *dst = src;
}

/* ---- teardown -------------------------------------------------------- */

/* Deferred free callback: the session is unreachable from any event now. */
static void
session_free_cb(evutil_socket_t fd, short what, void *arg)
{
    struct px_session *s = arg;
    struct px_worker *w = s->worker;

    (void)fd;
    (void)what;
    assert(s->cl == NULL && s->bk == NULL && !s->admin_running);
    if (s->prev != NULL) {
        s->prev->next = s->next;
    } else {
        w->sessions = s->next;
    }
    if (s->next != NULL) {
        s->next->prev = s->prev;
    }
    w->n_sessions--;
    px_log_debug("S-%llu: freed", (unsigned long long)s->id);
    event_free(s->exec_ev);
    event_free(s->admin_ev);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
    free(s->user);
    free(s->db);
    free(s->pending_user);
    free(s->pending_db);
    px_buf_free(&s->query);
    px_buf_free(&s->coll.pkt);
    free(s);
    px_worker_session_gone(w);
}

/* Free S later from the loop when nothing references it any more. */
static void
maybe_free(struct px_session *s)
{
    struct timeval zero = {0, 0};

    if (s->state != PX_SS_CLOSING || s->cl != NULL || s->bk != NULL || s->admin_running ||
        s->free_scheduled) {
        return;
    }
    s->free_scheduled = true;
    if (event_base_once(s->worker->base, -1, EV_TIMEOUT, session_free_cb, s, &zero) != 0) {
        px_log_error("S-%llu: cannot schedule free; leaking session", (unsigned long long)s->id);
    }
}

static void
bk_close(struct px_session *s)
{
    if (s->bk != NULL) {
        bufferevent_free(s->bk);
        s->bk = NULL;
    }
}

static void
cl_free(struct px_session *s)
{
    if (s->cl != NULL) {
        bufferevent_free(s->cl);
        s->cl = NULL;
    }
    maybe_free(s);
}

/* Client write callback while closing: free once everything was written. */
static void
cl_drained_cb(struct bufferevent *bev, void *arg)
{
    struct px_session *s = arg;

    (void)bev;
    if (evbuffer_get_length(bufferevent_get_output(s->cl)) == 0) {
        cl_free(s);
    }
}

static void
cl_closing_event_cb(struct bufferevent *bev, short what, void *arg)
{
    (void)bev;
    (void)what;
    cl_free(arg);
}

/* Close the client side, first flushing queued bytes when FLUSH. */
static void
cl_close(struct px_session *s, bool flush)
{
    if (s->cl == NULL || s->cl_closing) {
        return;
    }
    if (flush && evbuffer_get_length(bufferevent_get_output(s->cl)) > 0) {
        struct timeval tv = {CLOSE_FLUSH_SECS, 0};
        s->cl_closing = true;
        bufferevent_disable(s->cl, EV_READ);
        bufferevent_setwatermark(s->cl, EV_WRITE, 0, 0);
        bufferevent_setcb(s->cl, NULL, cl_drained_cb, cl_closing_event_cb, s);
        bufferevent_set_timeouts(s->cl, NULL, &tv);
        return;
    }
    cl_free(s);
}

/*
 * End session S: state CLOSING, backend closed (unless an admin job still
 * needs it), client flushed and closed. WHY is logged at debug level. S may
 * be freed from the loop afterwards; callers return right away.
 */
static void
session_close(struct px_session *s, const char *why)
{
    if (s->state != PX_SS_CLOSING) {
        px_log_debug("S-%llu: closing: %s", (unsigned long long)s->id, why);
        px_session_set_state(s, PX_SS_CLOSING);
    }
    if (!s->admin_running) {
        bk_close(s);
    }
    cl_close(s, true);
    maybe_free(s);
}

void
px_session_shutdown(struct px_session *s)
{
    bool tell = false;

    if (s->worker->draining && s->cl != NULL && !s->cl_closing) {
        /* End of a drain (SIGTERM): whoever can still take a whole packet
         * gets ERR 1053 before the close; a client in the middle of a
         * result cannot, its connection is just closed. */
        switch (s->state) {
        case PX_SS_IDLE:
            /* unsolicited, as MariaDB tells idle clients at shutdown */
            s->reply_seq = 0;
            tell = true;
            break;
        case PX_SS_QUERY:
            tell = !s->resp_started && s->bk_pass == 0;
            break;
        case PX_SS_ADMIN:
            tell = true;
            break;
        default:
            break;
        }
    }
    if (s->exec_cur != NULL) {
        /* The loop is going away: fail the admin job's query now. */
        bk_close(s);
        s->bk_lost = true;
        mvp_reply_err(s->exec_cur->reply, CR_SERVER_LOST, "HY000",
                      "Lost connection to backend (proxy shutting down)");
        exec_finish(s, -1);
    }
    s->bk_lost = true;
    bk_close(s);
    if (s->state != PX_SS_CLOSING) {
        px_session_set_state(s, PX_SS_CLOSING);
    }
    if (tell) {
        cl_send_err(s, ER_SERVER_SHUTDOWN, "08S01", SHUTDOWN_MSG);
        cl_close(s, true);
    } else if (s->cl != NULL) {
        cl_free(s);
    }
    maybe_free(s);
}

struct px_session *
px_session_next(const struct px_session *s)
{
    return s->next;
}

/* ---- sending to the client ------------------------------------------- */

/* Send ERR CODE/SQLSTATE/MSG to the client with the next expected sequence id. */
static void
cl_send_err(struct px_session *s, uint16_t code, const char *sqlstate, const char *msg)
{
    struct px_buf b;

    if (s->cl == NULL || s->cl_closing) {
        return;
    }
    px_buf_init(&b);
    px_mysql_build_err(&b, code, sqlstate, msg);
    px_mysql_write_packet(bufferevent_get_output(s->cl), &s->reply_seq, b.data, b.len);
    px_buf_free(&b);
}

/* Answer the current command with REPLY (sequence ids from reply_seq). */
static void
cl_send_reply(struct px_session *s, const struct mvp_reply *reply)
{
    int next;

    if (s->cl == NULL || s->cl_closing) {
        return;
    }
    next = px_mysql_encode_reply(reply, s->caps, s->status, s->reply_seq,
                                 bufferevent_get_output(s->cl));
    if (next < 0) {
        session_close(s, "out of memory encoding a reply");
        return;
    }
    s->reply_seq = (uint8_t)next;
}

/* Pause backend reads when the client is behind (back-pressure). */
static void
check_client_backlog(struct px_session *s)
{
    if (s->cl != NULL && s->bk != NULL && !s->bk_paused &&
        evbuffer_get_length(bufferevent_get_output(s->cl)) > s->worker->cfg->client_high_water) {
        s->bk_paused = true;
        bufferevent_disable(s->bk, EV_READ);
        px_log_debug("S-%llu: client backlog high, pausing backend reads",
                     (unsigned long long)s->id);
    }
}

/* ---- sending to the backend ------------------------------------------ */

/* Frame payload P/LEN (a command) to the backend with sequence ids from 0. Returns packets sent. */
static uint8_t
bk_send_command(struct px_session *s, const void *p, size_t len)
{
    uint8_t seq = 0;

    if (px_mysql_write_packet(bufferevent_get_output(s->bk), &seq, p, len) != PX_OK) {
        px_log_error("S-%llu: out of memory queueing a command", (unsigned long long)s->id);
    }
    return seq;
}

/* Start tracking the response to command CMD of shape KIND. */
static void
resp_begin(struct px_session *s, uint8_t cmd, enum resp_kind kind)
{
    s->cmd = cmd;
    s->rkind = kind;
    s->phase = kind == RK_FETCH ? PH_ROWS : PH_FIRST;
    s->cols_left = 0;
    s->params_left = 0;
    s->resp_ok = false;
    s->resp_started = false;
    s->bk_chain = false;
    s->bk_after = AFTER_NONE;
}

/* ---- response tracking ----------------------------------------------- */

/*
 * Advance the response state machine over one logical backend packet: LEN
 * is its payload length, PK its first min(LEN, PEEK_MAX) bytes (PKLEN).
 * Returns true when this packet ends the command's response.
 */
static bool
resp_step(struct px_session *s, uint32_t len, const uint8_t *pk, size_t pklen)
{
    bool dep = (s->caps & PX_CLIENT_DEPRECATE_EOF) != 0;
    bool is_final = len > 0 && len < PX_PKT_MAX && pk[0] == 0xfe; /* EOF or OK(0xFE) */
    uint8_t b0 = len > 0 ? pk[0] : 0;
    uint16_t st;
    uint64_t n;
    const uint8_t *q;

    if (len == 0) {
        /* Not a valid response packet anywhere we track; treat it as the end. */
        return s->phase == PH_FIRST;
    }
    if (s->rkind == RK_ONE) {
        s->resp_ok = b0 == 0x00;
        if (b0 == 0x00 && px_mysql_ok_eof_status(pk, pklen, dep, &st) == PX_OK) {
            s->status = st;
        }
        return true;
    }
    if (b0 == 0xff && (s->phase == PH_FIRST || s->phase == PH_ROWS || s->phase == PH_INFILE ||
                       s->rkind == RK_FIELD_LIST)) {
        s->resp_ok = false;
        return true;
    }
    switch (s->rkind) {
    case RK_FIELD_LIST:
        if (is_final) {
            if (px_mysql_ok_eof_status(pk, pklen, dep, &st) == PX_OK) {
                s->status = st;
            }
            s->resp_ok = true;
            return true;
        }
        return false;
    case RK_PREPARE:
        switch (s->phase) {
        case PH_FIRST:
            if (b0 != 0x00 || pklen < 9) {
                return true;
            }
            s->prep_cols = px_mysql_u16(pk + 5);
            s->params_left = px_mysql_u16(pk + 7);
            s->cols_left = s->prep_cols;
            s->resp_ok = true;
            if (s->params_left > 0) {
                s->phase = PH_PARAMS;
                return false;
            }
            if (s->cols_left > 0) {
                s->phase = PH_PCOLS;
                return false;
            }
            return true;
        case PH_PARAMS:
            if (--s->params_left > 0) {
                return false;
            }
            if (!dep) {
                s->phase = PH_PARAMS_EOF;
                return false;
            }
            /* fall through */
        case PH_PARAMS_EOF:
            if (s->cols_left > 0) {
                s->phase = PH_PCOLS;
                return false;
            }
            return true;
        case PH_PCOLS:
            if (--s->cols_left > 0) {
                return false;
            }
            if (!dep) {
                s->phase = PH_PCOLS_EOF;
                return false;
            }
            return true;
        case PH_PCOLS_EOF:
            return true;
        default:
            return true;
        }
    case RK_RESULTSET:
    case RK_FETCH:
        switch (s->phase) {
        case PH_FIRST:
        case PH_INFILE:
            s->phase = PH_FIRST;
            if (b0 == 0x00) {
                s->resp_ok = true;
                if (px_mysql_ok_eof_status(pk, pklen, dep, &st) == PX_OK) {
                    s->status = st;
                    if (st & PX_SERVER_MORE_RESULTS_EXISTS) {
                        return false;
                    }
                }
                return true;
            }
            if (b0 == 0xfb && s->cmd == PX_COM_QUERY) {
                s->phase = PH_INFILE;
                if (s->cl != NULL) {
                    bufferevent_enable(s->cl, EV_READ);
                }
                return false;
            }
            q = pk;
            if (px_mysql_get_lenenc(&q, pk + pklen, &n, NULL) != PX_OK || n == 0) {
                return true;
            }
            s->cols_left = n;
            s->phase = PH_COLDEFS;
            return false;
        case PH_COLDEFS:
            if (--s->cols_left > 0) {
                return false;
            }
            s->phase = dep ? PH_ROWS : PH_COLDEFS_EOF;
            return false;
        case PH_COLDEFS_EOF:
            if (px_mysql_ok_eof_status(pk, pklen, false, &st) == PX_OK) {
                s->status = st;
                if ((st & PX_SERVER_STATUS_CURSOR_EXISTS) && s->cmd == PX_COM_STMT_EXECUTE) {
                    /* Rows come later with COM_STMT_FETCH. */
                    s->resp_ok = true;
                    return true;
                }
            }
            s->phase = PH_ROWS;
            return false;
        case PH_ROWS:
            if (is_final) {
                s->resp_ok = true;
                if (px_mysql_ok_eof_status(pk, pklen, dep, &st) == PX_OK) {
                    s->status = st;
                    if ((st & PX_SERVER_MORE_RESULTS_EXISTS) && s->rkind == RK_RESULTSET) {
                        s->phase = PH_FIRST;
                        return false;
                    }
                }
                return true;
            }
            return false;
        default:
            return true;
        }
    case RK_ONE:
        return true;
    }
    return true;
}

/* The command's response is complete: apply its effects, go IDLE, serve pipelined input. */
static void
resp_end(struct px_session *s)
{
    if (s->pending_db_valid) {
        if (s->resp_ok) {
            px_log_debug("S-%llu: current db now '%s'", (unsigned long long)s->id,
                         s->pending_db ? s->pending_db : "");
            take_str(&s->db, s->pending_db);
            s->pending_db = NULL;
        }
        s->pending_db_valid = false;
    }
    if (s->cmd == PX_COM_RESET_CONNECTION && s->resp_ok) {
        s->rewrite_enabled = true;
    }
    free(s->pending_db);
    s->pending_db = NULL;
    s->query.len = 0;
    s->rewrite_check = false;
    s->seq_delta = 0;
    if (s->state == PX_SS_QUERY) {
        px_session_set_state(s, PX_SS_IDLE);
        if (s->cl != NULL && evbuffer_get_length(bufferevent_get_input(s->cl)) > 0) {
            cl_process(s);
        }
    }
}

/* Authentication (handshake or COM_CHANGE_USER) finished with OK (OK true) or ERR. */
static void
auth_end(struct px_session *s, bool ok)
{
    if (ok) {
        take_str(&s->user, s->pending_user);
        s->pending_user = NULL;
        take_str(&s->db, s->pending_db);
        s->pending_db = NULL;
        if (s->change_user) {
            s->rewrite_enabled = true;
        }
        px_log_debug("S-%llu: authenticated as '%s'", (unsigned long long)s->id, s->user);
        s->change_user = false;
        px_session_set_state(s, PX_SS_IDLE);
        if (s->cl != NULL && evbuffer_get_length(bufferevent_get_input(s->cl)) > 0) {
            cl_process(s);
        }
        return;
    }
    free(s->pending_user);
    s->pending_user = NULL;
    free(s->pending_db);
    s->pending_db = NULL;
    if (s->change_user) {
        /* The backend keeps the connection after a failed COM_CHANGE_USER? Not
         * reliably across versions: drop the session, the client already has the ERR. */
        session_close(s, "COM_CHANGE_USER failed");
        return;
    }
    session_close(s, "authentication failed");
}

/* Send the original query text again after the rewritten one failed. */
static void
resend_original(struct px_session *s)
{
    struct px_session_info si;
    uint8_t sent;

    session_info(s, &si);
    px_dispatch_note_rewrite_failed(&si);
    px_log_debug("S-%llu: rewritten query failed at the backend; sending the original",
                 (unsigned long long)s->id);
    sent = bk_send_command(s, s->query.data, s->query.len);
    s->seq_delta = (uint8_t)(s->query_pkts - sent);
    resp_begin(s, PX_COM_QUERY, RK_RESULTSET);
}

/* ---- backend side ---------------------------------------------------- */

/* Move up to bk_pass bytes of the current backend packet to its sink. */
static void
bk_move(struct px_session *s)
{
    struct evbuffer *in = bufferevent_get_input(s->bk);
    size_t n = evbuffer_get_length(in);

    if (n > s->bk_pass) {
        n = s->bk_pass;
    }
    if (n == 0) {
        return;
    }
    if (s->bk_sink == SINK_CLIENT && s->cl != NULL && !s->cl_closing) {
        evbuffer_remove_buffer(in, bufferevent_get_output(s->cl), n);
    } else {
        evbuffer_drain(in, n);
    }
    s->bk_pass -= n;
}

/*
 * Begin passing the backend packet whose header HDR (payload LEN) is at the
 * front of the input: to SINK, renumbering its sequence id by seq_delta.
 */
static void
bk_begin_packet(struct px_session *s, uint8_t *hdr, uint32_t len, enum bk_sink sink)
{
    struct evbuffer *in = bufferevent_get_input(s->bk);

    s->bk_sink = sink;
    s->bk_chain = len == PX_PKT_MAX;
    if (sink == SINK_CLIENT) {
        s->reply_seq = (uint8_t)(hdr[3] + s->seq_delta + 1);
        s->resp_started = true;
    }
    if (sink == SINK_CLIENT && s->seq_delta != 0 && s->cl != NULL && !s->cl_closing) {
        hdr[3] = (uint8_t)(hdr[3] + s->seq_delta);
        evbuffer_drain(in, PX_PKT_HDR_LEN);
        evbuffer_add(bufferevent_get_output(s->cl), hdr, PX_PKT_HDR_LEN);
        s->bk_pass = len;
    } else {
        s->bk_pass = (size_t)len + PX_PKT_HDR_LEN;
    }
}

/* Run the action queued for the end of the packet just passed. */
static void
bk_after_packet(struct px_session *s)
{
    enum bk_after a = s->bk_after;

    if (s->bk_chain) {
        return;
    }
    s->bk_after = AFTER_NONE;
    switch (a) {
    case AFTER_NONE:
        break;
    case AFTER_RESP_END:
        resp_end(s);
        break;
    case AFTER_RESEND:
        resend_original(s);
        break;
    case AFTER_AUTH_OK:
        auth_end(s, true);
        break;
    case AFTER_AUTH_ERR:
        auth_end(s, false);
        break;
    }
}

/* Handle the server greeting (HANDSHAKE state). Returns PX_OK, PX_AGAIN or PX_ERR (closed). */
static int
bk_greeting(struct px_session *s)
{
    struct evbuffer *in = bufferevent_get_input(s->bk);
    struct px_handshake hs;
    struct px_buf pl;
    uint8_t seq;
    int rc;

    if (s->greeting_sent) {
        /* Nothing may come from the backend before the client answered. */
        evbuffer_drain(in, evbuffer_get_length(in));
        return PX_AGAIN;
    }
    px_buf_init(&pl);
    rc = px_mysql_take_payload(in, HANDSHAKE_MAX, &pl, &seq);
    if (rc == PX_AGAIN) {
        px_buf_free(&pl);
        return PX_AGAIN;
    }
    if (rc != PX_OK || pl.len == 0) {
        px_buf_free(&pl);
        cl_send_err(s, ER_UNKNOWN_ERROR, "08S01", "Bad handshake from backend");
        session_close(s, "bad greeting");
        return PX_ERR;
    }
    if (pl.data[0] == 0xff) {
        /* e.g. "Too many connections", "Host is blocked": relay it and close. */
        s->reply_seq = seq;
        px_mysql_write_packet(bufferevent_get_output(s->cl), &s->reply_seq, pl.data, pl.len);
        px_buf_free(&pl);
        session_close(s, "backend refused the connection");
        return PX_ERR;
    }
    if (px_mysql_parse_handshake(pl.data, pl.len, &hs) != PX_OK) {
        px_buf_free(&pl);
        cl_send_err(s, ER_UNKNOWN_ERROR, "08S01", "Unsupported handshake from backend");
        session_close(s, "unsupported greeting");
        return PX_ERR;
    }
    px_mysql_handshake_clear_caps(pl.data, pl.len, &hs, PX_CAPS_CLEARED, PX_EXT_CAPS_CLEARED);
    s->server_caps = hs.caps;
    s->status = hs.status;
    px_log_debug("S-%llu: backend %s conn %u caps 0x%08x ext 0x%08x", (unsigned long long)s->id,
                 hs.server_version, hs.conn_id, hs.caps, hs.ext_caps);
    px_mysql_write_packet(bufferevent_get_output(s->cl), &seq, pl.data, pl.len);
    px_buf_free(&pl);
    s->greeting_sent = true;
    /* The client may have answered already (it cannot have: it had no greeting). */
    return PX_OK;
}

/*
 * Peek at the next backend packet: its header and first min(LEN, PEEK_MAX)
 * payload bytes are copied into HDR (PX_PKT_HDR_LEN + PEEK_MAX bytes), the
 * payload length into *LEN and the peeked length into *PK. A continuation
 * of a 0xFFFFFF chain is not a packet of its own: it is begun at once to
 * CHAIN_SINK. Returns PX_OK (a new packet to look at), PEEK_CHAIN (a
 * continuation, begun) or PX_AGAIN (not all there yet).
 */
#define PEEK_CHAIN 1
static int
bk_peek_packet(struct px_session *s, uint8_t *hdr, uint32_t *len, size_t *pk,
               enum bk_sink chain_sink)
{
    struct evbuffer *in = bufferevent_get_input(s->bk);
    uint8_t seq;

    if (px_mysql_peek_header(in, len, &seq) != PX_OK) {
        return PX_AGAIN;
    }
    hdr[3] = seq;
    if (s->bk_chain) {
        bk_begin_packet(s, hdr, *len, chain_sink);
        return PEEK_CHAIN;
    }
    *pk = *len < PEEK_MAX ? *len : PEEK_MAX;
    if (evbuffer_get_length(in) < PX_PKT_HDR_LEN + *pk) {
        return PX_AGAIN;
    }
    evbuffer_copyout(in, hdr, PX_PKT_HDR_LEN + *pk);
    return PX_OK;
}

/* One backend packet in AUTH state. */
static int
bk_auth_packet(struct px_session *s)
{
    uint8_t hdr[PX_PKT_HDR_LEN + PEEK_MAX];
    uint32_t len;
    size_t pk;
    uint16_t st;
    int rc = bk_peek_packet(s, hdr, &len, &pk, SINK_CLIENT);

    if (rc != PX_OK) {
        return rc == PEEK_CHAIN ? PX_OK : rc;
    }
    if (len > 0 && len < PX_PKT_MAX && hdr[4] == 0x00) {
        if (px_mysql_ok_eof_status(hdr + 4, pk, false, &st) == PX_OK) {
            s->status = st;
        }
        s->bk_after = AFTER_AUTH_OK;
    } else if (len > 0 && len < PX_PKT_MAX && hdr[4] == 0xff) {
        s->bk_after = AFTER_AUTH_ERR;
    }
    /* 0xFE auth switch and 0x01 more-data are relayed as they are. */
    bk_begin_packet(s, hdr, len, SINK_CLIENT);
    return PX_OK;
}

/* One backend packet while a command's response is relayed (QUERY state). */
static int
bk_query_packet(struct px_session *s)
{
    uint8_t hdr[PX_PKT_HDR_LEN + PEEK_MAX];
    uint32_t len;
    size_t pk;
    /* a continuation of a long packet goes where its start went */
    int rc = bk_peek_packet(s, hdr, &len, &pk, s->bk_sink);

    if (rc != PX_OK) {
        return rc == PEEK_CHAIN ? PX_OK : rc;
    }
    if (s->rewrite_check) {
        s->rewrite_check = false;
        if (len > 0 && len < PX_PKT_MAX && hdr[4] == 0xff) {
            s->bk_after = AFTER_RESEND;
            bk_begin_packet(s, hdr, len, SINK_DISCARD);
            return PX_OK;
        }
    }
    if (resp_step(s, len, hdr + 4, pk)) {
        s->bk_after = AFTER_RESP_END;
    }
    bk_begin_packet(s, hdr, len, SINK_CLIENT);
    return PX_OK;
}

/* ---- admin exec: collect a response into a struct mvp_reply ---------- */

static void
coll_reset(struct collect *c)
{
    size_t i;

    for (i = 0; c->names != NULL && i < c->n_cols; i++) {
        free(c->names[i]);
    }
    free(c->names);
    free(c->types);
    c->names = NULL;
    c->types = NULL;
    c->n_cols = 0;
    c->got_cols = 0;
    c->phase = PH_FIRST;
}

/* Map a MySQL column type byte to the reply's column type. */
static enum mvp_col_type
col_type(uint8_t t)
{
    switch (t) {
    case 0x01: /* TINY */
    case 0x02: /* SHORT */
    case 0x03: /* LONG */
    case 0x08: /* LONGLONG */
    case 0x09: /* INT24 */
    case 0x0d: /* YEAR */
        return MVP_COL_INT;
    default:
        return MVP_COL_STRING;
    }
}

/* Copy N bytes at P into a new NUL-terminated string. */
static char *
dup_bytes(const uint8_t *p, size_t n)
{
    char *s = malloc(n + 1);

    if (s == NULL) {
        px_fatal("out of memory");
    }
    memcpy(s, p, n);
    s[n] = '\0';
    return s;
}

/* Parse an ERR payload P/LEN into REPLY. */
static void
coll_err(struct mvp_reply *reply, const uint8_t *p, size_t len)
{
    uint16_t code = len >= 3 ? px_mysql_u16(p + 1) : ER_UNKNOWN_ERROR;
    char state[6] = "HY000";
    size_t off = 3;
    char *msg;

    if (len >= 9 && p[3] == '#') {
        memcpy(state, p + 4, 5);
        off = 9;
    }
    msg = dup_bytes(p + (off < len ? off : len), off < len ? len - off : 0);
    mvp_reply_clear(reply);
    mvp_reply_err(reply, code, state, "%s", msg);
    free(msg);
}

/*
 * Feed one logical payload P/LEN of the exec response into S's collector.
 * Returns true when the response ended.
 */
static bool
coll_packet(struct px_session *s, const uint8_t *p, size_t len)
{
    struct collect *c = &s->coll;
    struct mvp_reply *reply = s->exec_cur->reply;
    bool dep = (s->caps & PX_CLIENT_DEPRECATE_EOF) != 0;
    const uint8_t *q = p, *end = p + len, *str;
    uint64_t n, affected, insert_id;
    uint16_t st = 0;
    size_t i, sl;
    bool is_null;

    if (len == 0) {
        return c->phase == PH_FIRST;
    }
    if (p[0] == 0xff && c->phase != PH_COLDEFS) {
        coll_err(reply, p, len);
        c->have_result = true;
        return true;
    }
    switch (c->phase) {
    case PH_FIRST:
        if (p[0] == 0x00) {
            q = p + 1;
            if (px_mysql_get_lenenc(&q, end, &affected, NULL) != PX_OK ||
                px_mysql_get_lenenc(&q, end, &insert_id, NULL) != PX_OK || end - q < 4) {
                mvp_reply_clear(reply);
                mvp_reply_err(reply, ER_UNKNOWN_ERROR, "HY000", "malformed OK from backend");
                return true;
            }
            st = px_mysql_u16(q);
            s->status = st;
            q += 4;
            if (!c->have_result) {
                char *info = NULL;
                if (s->caps & PX_CLIENT_SESSION_TRACK) {
                    if (q < end && px_mysql_get_lenenc_str(&q, end, &str, &sl, NULL) == PX_OK) {
                        info = dup_bytes(str, sl);
                    }
                } else if (q < end) {
                    info = dup_bytes(q, (size_t)(end - q));
                }
                mvp_reply_clear(reply);
                mvp_reply_ok(reply, affected, info != NULL && info[0] ? info : NULL);
                free(info);
            }
            return !(st & PX_SERVER_MORE_RESULTS_EXISTS);
        }
        if (p[0] == 0xfb) {
            /* LOCAL INFILE: the proxy has no file to give; an empty packet ends it. */
            uint8_t seq = 2;
            px_mysql_write_packet(bufferevent_get_output(s->bk), &seq, NULL, 0);
            return false;
        }
        q = p;
        if (px_mysql_get_lenenc(&q, end, &n, NULL) != PX_OK || n == 0 || n > 4096) {
            mvp_reply_clear(reply);
            mvp_reply_err(reply, ER_UNKNOWN_ERROR, "HY000", "malformed result set from backend");
            return true;
        }
        coll_reset(c);
        c->n_cols = (size_t)n;
        c->names = calloc(n, sizeof(*c->names));
        c->types = calloc(n, sizeof(*c->types));
        if (c->names == NULL || c->types == NULL) {
            px_fatal("out of memory");
        }
        c->keep = !c->have_result;
        c->phase = PH_COLDEFS;
        return false;
    case PH_COLDEFS:
        /* catalog, schema, table, org_table, name, org_name, 0x0c, charset, length, type */
        for (i = 0; i < 6; i++) {
            if (px_mysql_get_lenenc_str(&q, end, &str, &sl, NULL) != PX_OK) {
                str = NULL;
                break;
            }
            if (i == 4) {
                c->names[c->got_cols] = dup_bytes(str, sl);
            }
        }
        if (c->names[c->got_cols] == NULL) {
            c->names[c->got_cols] = dup_bytes((const uint8_t *)"?", 1);
        }
        if (str != NULL && end - q >= 8) {
            c->types[c->got_cols] = col_type(q[7]);
        }
        if (++c->got_cols < c->n_cols) {
            return false;
        }
        if (c->keep) {
            mvp_reply_clear(reply);
            mvp_reply_rows(reply, c->n_cols, (const char *const *)c->names, c->types);
            c->have_result = true;
        }
        c->phase = dep ? PH_ROWS : PH_COLDEFS_EOF;
        return false;
    case PH_COLDEFS_EOF:
        c->phase = PH_ROWS;
        return false;
    case PH_ROWS:
        if (p[0] == 0xfe && len < PX_PKT_MAX) {
            if (px_mysql_ok_eof_status(p, len, dep, &st) == PX_OK) {
                s->status = st;
            }
            coll_reset(c);
            if (st & PX_SERVER_MORE_RESULTS_EXISTS) {
                return false;
            }
            return true;
        }
        if (c->keep) {
            char **vals = calloc(c->n_cols, sizeof(*vals));
            if (vals == NULL) {
                px_fatal("out of memory");
            }
            for (i = 0; i < c->n_cols; i++) {
                if (px_mysql_get_lenenc_str(&q, end, &str, &sl, &is_null) != PX_OK) {
                    break;
                }
                vals[i] = is_null ? NULL : dup_bytes(str, sl);
            }
            mvp_reply_add_row(reply, (const char *const *)vals);
            for (i = 0; i < c->n_cols; i++) {
                free(vals[i]);
            }
            free(vals);
        }
        return false;
    default:
        return true;
    }
}

/* Hand the exec result back to the waiting admin thread. */
static void
exec_finish(struct px_session *s, int rc)
{
    struct exec_req *req = s->exec_cur;

    coll_reset(&s->coll);
    s->coll.pkt.len = 0;
    s->exec_cur = NULL;
    pthread_mutex_lock(&s->mu);
    req->rc = rc;
    req->done = true;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

/* Backend input while an exec runs: whole packets into the collector. */
static int
bk_collect(struct px_session *s)
{
    struct evbuffer *in = bufferevent_get_input(s->bk);
    uint8_t seq;
    int rc;

    s->coll.pkt.len = 0;
    rc = px_mysql_take_payload(in, s->worker->cfg->max_query, &s->coll.pkt, &seq);
    if (rc == PX_AGAIN) {
        return PX_AGAIN;
    }
    if (rc != PX_OK) {
        mvp_reply_clear(s->exec_cur->reply);
        mvp_reply_err(s->exec_cur->reply, ER_NET_PACKET_TOO_LARGE, "08S01",
                      "Result packet too large for an internal query");
        exec_finish(s, -1);
        s->bk_lost = true;
        bk_close(s);
        return PX_ERR;
    }
    if (coll_packet(s, s->coll.pkt.data, s->coll.pkt.len)) {
        exec_finish(s, 0);
    }
    return PX_OK;
}

/* Loop callback: the admin thread posted an exec request. */
static void
exec_ev_cb(evutil_socket_t fd, short what, void *arg)
{
    struct px_session *s = arg;
    struct exec_req *req;
    size_t n;
    uint8_t *pl;

    (void)fd;
    (void)what;
    pthread_mutex_lock(&s->mu);
    req = s->exec_req;
    s->exec_req = NULL;
    pthread_mutex_unlock(&s->mu);
    if (req == NULL) {
        return;
    }
    s->exec_cur = req;
    mvp_reply_init(req->reply);
    if (s->bk == NULL || s->bk_lost) {
        mvp_reply_err(req->reply, CR_SERVER_LOST, "HY000", "Lost connection to backend");
        exec_finish(s, -1);
        return;
    }
    px_log_debug("S-%llu: admin exec: %s", (unsigned long long)s->id, req->sql);
    n = strlen(req->sql);
    pl = malloc(n + 1);
    if (pl == NULL) {
        px_fatal("out of memory");
    }
    pl[0] = PX_COM_QUERY;
    memcpy(pl + 1, req->sql, n);
    bk_send_command(s, pl, n + 1);
    free(pl);
    coll_reset(&s->coll);
    s->coll.have_result = false;
    s->coll.keep = true;
    if (evbuffer_get_length(bufferevent_get_input(s->bk)) > 0) {
        bk_process(s);
    }
}

/*
 * px_exec_fn for admin jobs: runs on the admin thread; posts SQL to the
 * session's loop and blocks until the response was parsed into REPLY.
 */
static int
session_exec(void *exec_ctx, const char *sql, struct mvp_reply *reply)
{
    struct px_session *s = exec_ctx;
    struct exec_req req;

    memset(&req, 0, sizeof(req));
    req.sql = sql;
    req.reply = reply;
    pthread_mutex_lock(&s->mu);
    s->exec_req = &req;
    event_active(s->exec_ev, EV_READ, 0);
    while (!req.done) {
        pthread_cond_wait(&s->cv, &s->mu);
    }
    pthread_mutex_unlock(&s->mu);
    return req.rc;
}

/* Admin thread body: run the job, then post completion to the loop. */
static void *
admin_thread(void *arg)
{
    struct admin_job *job = arg;
    struct px_session *s = job->s;

    px_dispatch_admin_run(job->admin, &job->si, session_exec, s, &job->reply);
    job->admin = NULL;
    pthread_mutex_lock(&s->mu);
    event_active(s->admin_ev, EV_READ, 0);
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

/* Loop callback: the admin job ended; answer the client (if still there). */
static void
admin_ev_cb(evutil_socket_t fd, short what, void *arg)
{
    struct px_session *s = arg;
    struct admin_job *job;

    (void)fd;
    (void)what;
    pthread_mutex_lock(&s->mu);
    job = s->job;
    s->job = NULL;
    pthread_mutex_unlock(&s->mu);
    s->admin_running = false;
    busy_update(s);
    if (job == NULL) {
        return;
    }
    if (s->state == PX_SS_ADMIN && s->cl != NULL && !s->cl_closing &&
        atomic_load(&s->worker->cut)) {
        /* Drain cut off (SPEC §2): the job may have ended only because the
         * drain cancelled its refresh (1317), or just before the stop; the
         * client waiting on it gets ERR 1053, then the close, either way. */
        px_log_debug("S-%llu: admin job ended at the drain's cut-off: ERR 1053",
                     (unsigned long long)s->id);
        px_session_set_state(s, PX_SS_CLOSING);
        bk_close(s);
        cl_send_err(s, ER_SERVER_SHUTDOWN, "08S01", SHUTDOWN_MSG);
        cl_close(s, true);
        maybe_free(s);
    } else if (s->state == PX_SS_ADMIN && s->cl != NULL) {
        cl_send_reply(s, &job->reply);
        s->query.len = 0;
        px_session_set_state(s, PX_SS_IDLE);
        if (s->bk == NULL) {
            s->bk_lost = true;
        }
        if (evbuffer_get_length(bufferevent_get_input(s->cl)) > 0) {
            cl_process(s);
        }
    } else {
        px_log_debug("S-%llu: admin job ended after the client left", (unsigned long long)s->id);
        if (s->state != PX_SS_CLOSING) {
            px_session_set_state(s, PX_SS_CLOSING);
        }
        bk_close(s);
        maybe_free(s);
    }
    mvp_reply_clear(&job->reply);
    free(job->user);
    free(job->db);
    free(job);
}

/* Start ADMIN (consumed) for the current COM_QUERY on a new thread. */
static void
start_admin(struct px_session *s, void *admin)
{
    struct admin_job *job = calloc(1, sizeof(*job));
    pthread_t th;
    struct px_dispatch_out tmp;

    if (job == NULL) {
        px_fatal("out of memory");
    }
    job->s = s;
    job->admin = admin;
    job->user = strdup(s->user != NULL ? s->user : "");
    job->db = s->db != NULL ? strdup(s->db) : NULL;
    if (job->user == NULL || (s->db != NULL && job->db == NULL)) {
        px_fatal("out of memory");
    }
    job->si.id = s->id;
    job->si.user = job->user;
    job->si.db = job->db;
    job->si.rewrite_enabled = s->rewrite_enabled;
    mvp_reply_init(&job->reply);
    s->job = job;
    s->admin_running = true;
    px_session_set_state(s, PX_SS_ADMIN);
    if (rw_thread_create(&th, admin_thread, job, true) != 0) {
        px_log_error("S-%llu: cannot start an admin thread", (unsigned long long)s->id);
        memset(&tmp, 0, sizeof(tmp));
        tmp.kind = PX_DISPATCH_ADMIN;
        tmp.admin = admin;
        px_dispatch_out_clear(&tmp);
        mvp_reply_err(&job->reply, ER_UNKNOWN_ERROR, "HY000",
                      "mvproxy: cannot start an admin thread");
        pthread_mutex_lock(&s->mu);
        event_active(s->admin_ev, EV_READ, 0);
        pthread_mutex_unlock(&s->mu);
        return;
    }
}

/* ---- backend events --------------------------------------------------- */

/* Process everything buffered from the backend that the current state allows. */
static void
bk_process(struct px_session *s)
{
    int rc;

    while (s->bk != NULL && !s->bk_paused) {
        struct evbuffer *in = bufferevent_get_input(s->bk);
        if (s->bk_pass > 0) {
            bk_move(s);
            check_client_backlog(s);
            if (s->bk_pass > 0) {
                return;
            }
            bk_after_packet(s);
            continue;
        }
        if (evbuffer_get_length(in) == 0) {
            return;
        }
        if (s->exec_cur != NULL) {
            rc = bk_collect(s);
        } else {
            switch (s->state) {
            case PX_SS_HANDSHAKE:
                rc = bk_greeting(s);
                break;
            case PX_SS_AUTH:
                rc = bk_auth_packet(s);
                break;
            case PX_SS_QUERY:
                rc = bk_query_packet(s);
                break;
            default:
                /* Unsolicited (IDLE/ADMIN) or closing: nothing to relay it to. */
                px_log_debug("S-%llu: dropping %zu unsolicited backend bytes in %s",
                             (unsigned long long)s->id, evbuffer_get_length(in),
                             px_session_state_name(s->state));
                evbuffer_drain(in, evbuffer_get_length(in));
                rc = PX_AGAIN;
                break;
            }
        }
        if (rc != PX_OK) {
            return;
        }
    }
}

static void
bk_read_cb(struct bufferevent *bev, void *arg)
{
    (void)bev;
    bk_process(arg);
}

/* Backend output drained below its low-water mark: resume reading the client. */
static void
bk_write_cb(struct bufferevent *bev, void *arg)
{
    struct px_session *s = arg;

    (void)bev;
    if (s->cl != NULL && !s->cl_closing && s->state != PX_SS_ADMIN &&
        s->state != PX_SS_CLOSING) {
        bufferevent_enable(s->cl, EV_READ);
        if (evbuffer_get_length(bufferevent_get_input(s->cl)) > 0) {
            cl_process(s);
        }
    }
}

/* The backend connection is gone (EOF or error). */
static void
bk_lost(struct px_session *s, const char *why)
{
    bool mid_packet = s->bk_pass > 0 || s->bk_chain;

    px_log_debug("S-%llu: backend connection lost in %s: %s", (unsigned long long)s->id,
                 px_session_state_name(s->state), why);
    bk_close(s);
    s->bk_lost = true;
    if (s->exec_cur != NULL) {
        mvp_reply_clear(s->exec_cur->reply);
        mvp_reply_err(s->exec_cur->reply, CR_SERVER_LOST, "HY000", "Lost connection to backend");
        exec_finish(s, -1);
    }
    switch (s->state) {
    case PX_SS_CONNECTING:
    case PX_SS_HANDSHAKE:
    case PX_SS_AUTH:
    case PX_SS_QUERY:
        if (!mid_packet) {
            cl_send_err(s, CR_SERVER_LOST, "HY000", "Lost connection to backend");
        }
        session_close(s, "backend lost");
        return;
    case PX_SS_IDLE:
    case PX_SS_ADMIN:
        /* The client learns at its next command (or when the job's reply is sent). */
        return;
    case PX_SS_CLOSING:
        maybe_free(s);
        return;
    }
}

static void
bk_event_cb(struct bufferevent *bev, short what, void *arg)
{
    struct px_session *s = arg;
    int one = 1;
    char msg[512];

    if (what & BEV_EVENT_CONNECTED) {
        setsockopt(bufferevent_getfd(bev), IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        px_session_set_state(s, PX_SS_HANDSHAKE);
        bufferevent_enable(bev, EV_READ | EV_WRITE);
        return;
    }
    if (s->state == PX_SS_CONNECTING) {
        snprintf(msg, sizeof(msg), "Can't connect to backend %s (%s)",
                 s->worker->cfg->backend_name,
                 evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
        px_log_warn("S-%llu: %s", (unsigned long long)s->id, msg);
        bk_close(s);
        s->reply_seq = 0;
        cl_send_err(s, CR_CONN_HOST_ERROR, "HY000", msg);
        session_close(s, "backend connect failed");
        return;
    }
    if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) {
        /* Relay what arrived before the close. */
        bk_process(s);
        if (s->bk != NULL) {
            bk_lost(s, (what & BEV_EVENT_EOF) ? "EOF" : "socket error");
        }
    }
}

/* ---- client side ----------------------------------------------------- */

/* Move up to cl_pass bytes of the current client packet to the backend. */
static void
cl_move(struct px_session *s)
{
    struct evbuffer *in = bufferevent_get_input(s->cl);
    size_t n = evbuffer_get_length(in);

    if (n > s->cl_pass) {
        n = s->cl_pass;
    }
    if (s->bk != NULL) {
        evbuffer_remove_buffer(in, bufferevent_get_output(s->bk), n);
        if (evbuffer_get_length(bufferevent_get_output(s->bk)) >
            s->worker->cfg->client_high_water) {
            /* Backend slower than the client (big LOAD DATA / INSERT): pause the client. */
            bufferevent_disable(s->cl, EV_READ);
        }
    } else {
        evbuffer_drain(in, n);
    }
    s->cl_pass -= n;
}

/* Begin relaying the client packet with payload LEN at the front of the input. */
static void
cl_begin_packet(struct px_session *s, uint32_t len)
{
    s->cl_chain = len == PX_PKT_MAX;
    s->cl_pass = (size_t)len + PX_PKT_HDR_LEN;
}

/* HANDSHAKE: the client's handshake response. */
static int
cl_handshake_resp(struct px_session *s)
{
    struct evbuffer *in = bufferevent_get_input(s->cl);
    struct px_handshake_resp r;
    struct px_buf pl;
    uint8_t seq;
    int rc;

    if (!s->greeting_sent) {
        return PX_AGAIN;
    }
    px_buf_init(&pl);
    rc = px_mysql_take_payload(in, HANDSHAKE_MAX, &pl, &seq);
    if (rc == PX_AGAIN) {
        px_buf_free(&pl);
        return PX_AGAIN;
    }
    memset(&r, 0, sizeof(r));
    s->reply_seq = (uint8_t)(seq + 1);
    if (rc != PX_OK || px_mysql_parse_handshake_resp(pl.data, pl.len, &r) != PX_OK) {
        px_buf_free(&pl);
        px_mysql_handshake_resp_free(&r);
        cl_send_err(s, 1043, "08S01", "Bad handshake");
        session_close(s, "bad handshake response");
        return PX_ERR;
    }
    if (r.ssl_request) {
        px_buf_free(&pl);
        px_mysql_handshake_resp_free(&r);
        cl_send_err(s, ER_NOT_SUPPORTED_AUTH, "08004",
                    "mvproxy does not support TLS between client and proxy yet");
        session_close(s, "client asked for TLS");
        return PX_ERR;
    }
    s->caps = r.caps & s->server_caps;
    take_str(&s->pending_user, r.user);
    take_str(&s->pending_db, r.db);
    r.user = NULL;
    r.db = NULL;
    px_log_debug("S-%llu: client user '%s' db '%s' caps 0x%08x", (unsigned long long)s->id,
                 s->pending_user, s->pending_db ? s->pending_db : "", s->caps);
    px_mysql_handshake_resp_free(&r);
    px_mysql_write_packet(bufferevent_get_output(s->bk), &seq, pl.data, pl.len);
    px_buf_free(&pl);
    s->change_user = false;
    px_session_set_state(s, PX_SS_AUTH);
    return PX_OK;
}

/* Act on a complete COM_QUERY (s->query holds 0x03 + SQL). */
static void
cmd_query(struct px_session *s)
{
    struct px_dispatch_out out;
    struct px_session_info si;
    const char *sql = (const char *)s->query.data + 1;
    size_t len = s->query.len - 1;
    struct px_buf pl;
    uint8_t sent;
    char *use_db;

    memset(&out, 0, sizeof(out));
    session_info(s, &si);
    px_dispatch_query(&si, sql, len, &out);
    if (out.set_rewrite) {
        s->rewrite_enabled = out.rewrite_enabled;
    }
    switch (out.kind) {
    case PX_DISPATCH_RELAY:
    case PX_DISPATCH_REWRITE:
        use_db = px_mysql_parse_use(sql, len);
        if (use_db != NULL) {
            take_str(&s->pending_db, use_db);
            s->pending_db_valid = true;
        }
        px_session_set_state(s, PX_SS_QUERY);
        resp_begin(s, PX_COM_QUERY, RK_RESULTSET);
        if (out.kind == PX_DISPATCH_REWRITE && out.sql != NULL) {
            px_log_debug("S-%llu: rewritten: %.*s", (unsigned long long)s->id,
                         (int)(out.sql_len > 2000 ? 2000 : out.sql_len), out.sql);
            px_buf_init(&pl);
            px_buf_put_u8(&pl, PX_COM_QUERY);
            px_buf_put(&pl, out.sql, out.sql_len);
            sent = bk_send_command(s, pl.data, pl.len);
            px_buf_free(&pl);
            s->rewrite_check = true;
        } else {
            sent = bk_send_command(s, s->query.data, s->query.len);
        }
        s->seq_delta = (uint8_t)(s->query_pkts - sent);
        break;
    case PX_DISPATCH_REPLY:
        cl_send_reply(s, &out.reply);
        s->query.len = 0;
        break;
    case PX_DISPATCH_ADMIN:
        start_admin(s, out.admin);
        out.admin = NULL;
        break;
    }
    px_dispatch_out_clear(&out);
}

/* Response shape of command CMD. */
static enum resp_kind
cmd_resp_kind(uint8_t cmd)
{
    switch (cmd) {
    case PX_COM_QUERY:
    case PX_COM_STMT_EXECUTE:
    case PX_COM_PROCESS_INFO:
    case PX_COM_STMT_BULK_EXECUTE:
        return RK_RESULTSET;
    case PX_COM_STMT_PREPARE:
        return RK_PREPARE;
    case PX_COM_FIELD_LIST:
        return RK_FIELD_LIST;
    case PX_COM_STMT_FETCH:
        return RK_FETCH;
    default:
        /* PING, STATISTICS, INIT_DB, SET_OPTION, RESET_CONNECTION, STMT_RESET,
         * PROCESS_KILL, REFRESH, DEBUG ... and unknown commands: one packet. */
        return RK_ONE;
    }
}

/* IDLE: read the next command. Returns PX_OK (progress), PX_AGAIN or PX_ERR (closed). */
static int
cl_command(struct px_session *s)
{
    struct evbuffer *in = bufferevent_get_input(s->cl);
    uint8_t hdr[PX_PKT_HDR_LEN + 1];
    struct px_buf pl;
    uint32_t len;
    uint8_t seq, cmd;
    size_t avail = evbuffer_get_length(in);

    if (px_mysql_peek_header(in, &len, &seq) != PX_OK) {
        return PX_AGAIN;
    }
    if (s->query_open) {
        /* Next packet of a long COM_QUERY. */
        if (avail < (size_t)len + PX_PKT_HDR_LEN) {
            return PX_AGAIN;
        }
        if (s->query.len + len > s->worker->cfg->max_query + 1) {
            goto too_big;
        }
        evbuffer_drain(in, PX_PKT_HDR_LEN);
        px_buf_reserve(&s->query, len);
        evbuffer_remove(in, s->query.data + s->query.len, len);
        s->query.len += len;
        s->query_pkts++;
        s->cl_seq = seq;
        if (len == PX_PKT_MAX) {
            return PX_OK;
        }
        s->query_open = false;
        s->reply_seq = (uint8_t)(seq + 1);
        cmd_query(s);
        return PX_OK;
    }
    if (len == 0) {
        s->reply_seq = (uint8_t)(seq + 1);
        cl_send_err(s, 1047, "08S01", "Unknown command");
        session_close(s, "empty command packet");
        return PX_ERR;
    }
    if (avail < PX_PKT_HDR_LEN + 1) {
        return PX_AGAIN;
    }
    evbuffer_copyout(in, hdr, sizeof(hdr));
    cmd = hdr[4];
    s->cl_seq = seq;
    s->reply_seq = (uint8_t)(seq + 1);
    if (cmd == PX_COM_QUIT) {
        evbuffer_drain(in, avail);
        session_close(s, "COM_QUIT");
        return PX_ERR;
    }
    if (s->worker->draining) {
        /* SPEC §2: during the shutdown drain a new command is not relayed */
        evbuffer_drain(in, avail);
        cl_send_err(s, ER_SERVER_SHUTDOWN, "08S01", SHUTDOWN_MSG);
        session_close(s, "command during the shutdown drain");
        return PX_ERR;
    }
    if (s->bk_lost || s->bk == NULL) {
        cl_send_err(s, CR_SERVER_LOST, "HY000", "Lost connection to backend");
        session_close(s, "command after backend loss");
        return PX_ERR;
    }
    switch (cmd) {
    case PX_COM_QUERY:
        if (avail < (size_t)len + PX_PKT_HDR_LEN) {
            if ((size_t)len > s->worker->cfg->max_query + 1) {
                goto too_big;
            }
            return PX_AGAIN;
        }
        s->query.len = 0;
        s->query_pkts = 1;
        evbuffer_drain(in, PX_PKT_HDR_LEN);
        px_buf_reserve(&s->query, len);
        evbuffer_remove(in, s->query.data, len);
        s->query.len = len;
        if (len == PX_PKT_MAX) {
            s->query_open = true;
            return PX_OK;
        }
        cmd_query(s);
        return PX_OK;
    case PX_COM_INIT_DB:
    case PX_COM_CHANGE_USER:
        if (avail < (size_t)len + PX_PKT_HDR_LEN) {
            if (len >= HANDSHAKE_MAX) {
                goto too_big;
            }
            return PX_AGAIN;
        }
        px_buf_init(&pl);
        px_buf_reserve(&pl, len);
        {
            struct evbuffer_ptr pos;
            evbuffer_ptr_set(in, &pos, PX_PKT_HDR_LEN, EVBUFFER_PTR_SET);
            evbuffer_copyout_from(in, &pos, pl.data, len);
            pl.len = len;
        }
        if (cmd == PX_COM_INIT_DB) {
            take_str(&s->pending_db, dup_bytes(pl.data + 1, len - 1));
            s->pending_db_valid = true;
            px_buf_free(&pl);
            break;
        }
        {
            char *u = NULL, *d = NULL;
            if (px_mysql_parse_change_user(pl.data, pl.len, s->caps, &u, &d) != PX_OK) {
                px_buf_free(&pl);
                cl_send_err(s, 1043, "08S01", "Bad COM_CHANGE_USER packet");
                session_close(s, "bad COM_CHANGE_USER");
                return PX_ERR;
            }
            px_buf_free(&pl);
            take_str(&s->pending_user, u);
            take_str(&s->pending_db, d);
        }
        s->change_user = true;
        s->bk_chain = false;
        s->bk_after = AFTER_NONE;
        px_session_set_state(s, PX_SS_AUTH);
        cl_begin_packet(s, len);
        return PX_OK;
    case PX_COM_STMT_CLOSE:
    case PX_COM_STMT_SEND_LONG_DATA:
        /* No response: relay and stay IDLE. */
        cl_begin_packet(s, len);
        return PX_OK;
    default:
        break;
    }
    px_session_set_state(s, PX_SS_QUERY);
    resp_begin(s, cmd, cmd_resp_kind(cmd));
    s->seq_delta = 0;
    cl_begin_packet(s, len);
    return PX_OK;

too_big:
    evbuffer_drain(in, evbuffer_get_length(in));
    s->query_open = false;
    s->query.len = 0;
    cl_send_err(s, ER_NET_PACKET_TOO_LARGE, "08S01",
                "Got a packet bigger than the proxy's query limit");
    session_close(s, "query too large");
    return PX_ERR;
}

/* Process everything buffered from the client that the current state allows. */
static void
cl_process(struct px_session *s)
{
    struct evbuffer *in;
    uint32_t len;
    uint8_t seq;
    int rc;

    while (s->cl != NULL && !s->cl_closing && s->state != PX_SS_CLOSING) {
        in = bufferevent_get_input(s->cl);
        if (s->cl_pass > 0) {
            cl_move(s);
            if (s->cl_pass > 0) {
                return;
            }
            continue;
        }
        if (evbuffer_get_length(in) == 0) {
            return;
        }
        if (s->cl_chain) {
            if (px_mysql_peek_header(in, &len, &seq) != PX_OK) {
                return;
            }
            cl_begin_packet(s, len);
            continue;
        }
        switch (s->state) {
        case PX_SS_HANDSHAKE:
            rc = cl_handshake_resp(s);
            break;
        case PX_SS_AUTH:
            /* Auth responses: relay as they come. */
            if (s->bk != NULL) {
                evbuffer_remove_buffer(in, bufferevent_get_output(s->bk), evbuffer_get_length(in));
            } else {
                evbuffer_drain(in, evbuffer_get_length(in));
            }
            rc = PX_AGAIN;
            break;
        case PX_SS_IDLE:
            rc = cl_command(s);
            break;
        case PX_SS_QUERY:
            if (s->phase == PH_INFILE) {
                if (px_mysql_peek_header(in, &len, &seq) != PX_OK) {
                    return;
                }
                cl_begin_packet(s, len);
                if (len == 0) {
                    /* The empty packet ends the file; the backend answers next. */
                    s->phase = PH_FIRST;
                }
                rc = PX_OK;
                break;
            }
            rc = PX_AGAIN;
            break;
        default:
            rc = PX_AGAIN;
            break;
        }
        if (rc != PX_OK) {
            return;
        }
    }
}

static void
cl_read_cb(struct bufferevent *bev, void *arg)
{
    (void)bev;
    cl_process(arg);
}

/* Client output drained to the low-water mark: resume the backend. */
static void
cl_write_cb(struct bufferevent *bev, void *arg)
{
    struct px_session *s = arg;

    (void)bev;
    if (s->bk_paused && s->bk != NULL) {
        s->bk_paused = false;
        bufferevent_enable(s->bk, EV_READ);
        px_log_debug("S-%llu: client caught up, resuming backend reads",
                     (unsigned long long)s->id);
        bk_process(s);
    }
}

static void
cl_event_cb(struct bufferevent *bev, short what, void *arg)
{
    struct px_session *s = arg;

    (void)bev;
    if (!(what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))) {
        return;
    }
    px_log_debug("S-%llu: client %s in %s", (unsigned long long)s->id,
                 (what & BEV_EVENT_EOF) ? "closed" : "error", px_session_state_name(s->state));
    bufferevent_free(s->cl);
    s->cl = NULL;
    session_close(s, "client gone");
}

/* ---- creation -------------------------------------------------------- */

int
px_session_new(struct px_worker *w, int fd, const struct sockaddr *sa, socklen_t salen)
{
    struct px_session *s;
    const struct px_relay_cfg *cfg = w->cfg;
    int one = 1;
    char host[INET6_ADDRSTRLEN] = "?";
    unsigned port = 0;

    s = calloc(1, sizeof(*s));
    if (s == NULL) {
        close(fd);
        return -1;
    }
    s->id = atomic_fetch_add(&next_session_id, 1);
    s->worker = w;
    s->state = PX_SS_CONNECTING;
    s->rewrite_enabled = true;
    px_buf_init(&s->query);
    px_buf_init(&s->coll.pkt);
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    if (sa != NULL && sa->sa_family == AF_INET && salen >= (socklen_t)sizeof(struct sockaddr_in)) {
        const struct sockaddr_in *in4 = (const struct sockaddr_in *)sa;
        inet_ntop(AF_INET, &in4->sin_addr, host, sizeof(host));
        port = ntohs(in4->sin_port);
    } else if (sa != NULL && sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
        port = ntohs(in6->sin6_port);
    }
    snprintf(s->peer, sizeof(s->peer), "%s:%u", host, port);
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));

    s->exec_ev = event_new(w->base, -1, 0, exec_ev_cb, s);
    s->admin_ev = event_new(w->base, -1, 0, admin_ev_cb, s);
    s->cl = bufferevent_socket_new(w->base, fd, BEV_OPT_CLOSE_ON_FREE);
    s->bk = bufferevent_socket_new(w->base, -1, BEV_OPT_CLOSE_ON_FREE);
    if (s->exec_ev == NULL || s->admin_ev == NULL || s->cl == NULL || s->bk == NULL) {
        if (s->cl == NULL) {
            close(fd);
        }
        goto fail;
    }
    /* Link first: from here on the normal close path frees everything. */
    s->next = w->sessions;
    if (w->sessions != NULL) {
        w->sessions->prev = s;
    }
    w->sessions = s;
    w->n_sessions++;

    bufferevent_setcb(s->cl, cl_read_cb, cl_write_cb, cl_event_cb, s);
    bufferevent_setwatermark(s->cl, EV_READ, 0, CLIENT_READ_HIGH);
    bufferevent_setwatermark(s->cl, EV_WRITE, cfg->client_low_water, 0);
    bufferevent_enable(s->cl, EV_READ | EV_WRITE);
    bufferevent_setcb(s->bk, bk_read_cb, bk_write_cb, bk_event_cb, s);
    bufferevent_setwatermark(s->bk, EV_WRITE, cfg->client_low_water, 0);
    px_log_debug("S-%llu: client %s connected (worker %d)", (unsigned long long)s->id, s->peer,
                 w->index);
    if (bufferevent_socket_connect(s->bk, (const struct sockaddr *)&cfg->backend_addr,
                                   (int)cfg->backend_addrlen) != 0) {
        char msg[512];
        snprintf(msg, sizeof(msg), "Can't connect to backend %s", cfg->backend_name);
        bk_close(s);
        s->reply_seq = 0;
        cl_send_err(s, CR_CONN_HOST_ERROR, "HY000", msg);
        session_close(s, "backend connect failed");
    }
    return 0;

fail:
    if (s->cl != NULL) {
        bufferevent_free(s->cl);
    }
    if (s->bk != NULL) {
        bufferevent_free(s->bk);
    }
    if (s->exec_ev != NULL) {
        event_free(s->exec_ev);
    }
    if (s->admin_ev != NULL) {
        event_free(s->admin_ev);
    }
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
    free(s);
    return -1;
}
