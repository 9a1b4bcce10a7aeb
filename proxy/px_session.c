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
 * TLS (px_tls.c): in HANDSHAKE a client SSLRequest (seq 1) switches s->cl to
 * TLS and the handshake response follows as seq 2; with --backend-tls the
 * proxy sends the backend its own SSLRequest (the response's first 32 bytes)
 * and switches s->bk before forwarding the response. Each hop keeps its own
 * sequence ids; seq_delta (backend -> client) and auth_cl_delta (client ->
 * backend) renumber the rest of the connection phase.
 *
 * Split over three files (px_session_internal.h has the fields): this one
 * is the state machine, the relay and the teardown; px_resp.c reads the
 * backend's responses (where one ends; collecting one into a reply);
 * px_admin_exec.c is the admin bridge below.
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
#include "px_fence.h"
#include "px_log.h"
#include "px_mysql.h"
#include "px_tls.h"
#include "px_worker.h"

#include "px_admin_exec.h"
#include "px_prep.h"
#include "px_resp.h"
#include "px_session_internal.h"
#include "px_track.h"
#include "px_validate.h"

static _Atomic uint64_t next_session_id = 1;

static void session_close(struct px_session *s, const char *why);
static void cl_tls_timer_cb(evutil_socket_t fd, short what, void *arg);
static void cl_read_cb(struct bufferevent *bev, void *arg);
static void cl_write_cb(struct bufferevent *bev, void *arg);
static void cl_event_cb(struct bufferevent *bev, short what, void *arg);
static void bk_read_cb(struct bufferevent *bev, void *arg);
static void bk_write_cb(struct bufferevent *bev, void *arg);
static void bk_event_cb(struct bufferevent *bev, short what, void *arg);

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
void
px_session_busy_update(struct px_session *s)
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
void
px_session_set_state(struct px_session *s, enum px_session_state to)
{
    if (!legal_transition(s->state, to)) {
        px_fatal("S-%llu: illegal state change %s -> %s", (unsigned long long)s->id,
                 px_session_state_name(s->state), px_session_state_name(to));
    }
    px_log_debug("S-%llu: %s -> %s", (unsigned long long)s->id, px_session_state_name(s->state),
                 px_session_state_name(to));
    s->state = to;
    px_session_busy_update(s);
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
    si->sql_mode = px_track_sql_mode(s);
    si->multi_statements = s->multi_on;
}

void
px_session_fill_info(const struct px_session *s, struct px_session_info *si)
{
    session_info(s, si);
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
    if (s->tls_timer != NULL) {
        event_free(s->tls_timer);
    }
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
    free(s->user);
    free(s->db);
    free(s->pending_user);
    free(s->pending_db);
    px_buf_free(&s->query);
    px_track_free(s);
    px_buf_free(&s->coll.pkt);
    px_buf_free(&s->bk_hs_resp);
    px_rewrite_views_clear(&s->rewrite_views);
    px_prep_free(s);
    px_fence_free(s);
    free(s);
    px_worker_session_gone(w);
}

/* Free S later from the loop when nothing references it any more. */
void
px_session_maybe_free(struct px_session *s)
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

void
px_session_bk_close(struct px_session *s)
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
    px_session_maybe_free(s);
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
void
px_session_cl_close(struct px_session *s, bool flush)
{
    if (s->cl == NULL || s->cl_closing) {
        return;
    }
    /* nothing can be written before the client's TLS handshake is done */
    if (flush && !(s->cl_tls && !s->cl_tls_up) &&
        evbuffer_get_length(bufferevent_get_output(s->cl)) > 0) {
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
        px_session_bk_close(s);
    }
    px_session_cl_close(s, true);
    px_session_maybe_free(s);
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
        px_session_bk_close(s);
        s->bk_lost = true;
        mvp_reply_err(s->exec_cur->reply, CR_SERVER_LOST, "HY000",
                      "Lost connection to backend (proxy shutting down)");
        px_admin_exec_finish(s, -1);
    }
    s->bk_lost = true;
    px_session_bk_close(s);
    if (s->state != PX_SS_CLOSING) {
        px_session_set_state(s, PX_SS_CLOSING);
    }
    if (tell) {
        px_session_send_err(s, ER_SERVER_SHUTDOWN, "08S01", SHUTDOWN_MSG);
        px_session_cl_close(s, true);
    } else if (s->cl != NULL) {
        cl_free(s);
    }
    px_session_maybe_free(s);
}

struct px_session *
px_session_next(const struct px_session *s)
{
    return s->next;
}

/* ---- sending to the client ------------------------------------------- */

/* Send ERR CODE/SQLSTATE/MSG to the client with the next expected sequence id. */
void
px_session_send_err(struct px_session *s, uint16_t code, const char *sqlstate, const char *msg)
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
void
px_session_send_reply(struct px_session *s, const struct mvp_reply *reply)
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
uint8_t
px_session_send_command(struct px_session *s, const void *p, size_t len)
{
    uint8_t seq = 0;

    if (px_mysql_write_packet(bufferevent_get_output(s->bk), &seq, p, len) != PX_OK) {
        px_log_error("S-%llu: out of memory queueing a command", (unsigned long long)s->id);
    }
    return seq;
}

/* Start tracking the response to command CMD of shape KIND. */
void
px_session_resp_begin(struct px_session *s, uint8_t cmd, enum resp_kind kind)
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

/* ---- response end --------------------------------------------------- */

/* The command's response is complete: apply its effects, go IDLE, serve pipelined input. */
static void
resp_end(struct px_session *s)
{
    px_prep_resp_end(s);
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
        s->rearm = true; /* session variables are back to their defaults */
    }
    free(s->pending_db);
    s->pending_db = NULL;
    s->query.len = 0;
    s->rewrite_check = false;
    s->validate = PX_VAL_NONE;
    px_rewrite_views_clear(&s->rewrite_views);
    s->seq_delta = 0;
    if (s->state == PX_SS_QUERY) {
        px_session_set_state(s, PX_SS_IDLE);
        if (s->rearm) {
            px_track_arm(s);
        }
        if (s->cl != NULL && evbuffer_get_length(bufferevent_get_input(s->cl)) > 0) {
            px_session_cl_process(s);
        }
    }
}

/* Authentication (handshake or COM_CHANGE_USER) finished with OK (OK true) or ERR. */
static void
auth_end(struct px_session *s, bool ok)
{
    /* the connection phase's sequence offsets end with it */
    s->seq_delta = 0;
    s->auth_cl_delta = 0;
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
        px_track_arm(s);
        if (s->cl != NULL && evbuffer_get_length(bufferevent_get_input(s->cl)) > 0) {
            px_session_cl_process(s);
        }
        return;
    }
    free(s->pending_user);
    s->pending_user = NULL;
    free(s->pending_db);
    s->pending_db = NULL;
    if (s->change_user) {
        /* MariaDB keeps the connection after a failed COM_CHANGE_USER: the
         * previous user stays logged in, with its session reset (no current
         * database, session variables at their defaults). The client has the
         * ERR; the session goes on likewise. */
        s->change_user = false;
        take_str(&s->db, NULL);
        s->rewrite_enabled = true;
        px_log_debug("S-%llu: COM_CHANGE_USER failed; still '%s'", (unsigned long long)s->id,
                     s->user != NULL ? s->user : "");
        px_session_set_state(s, PX_SS_IDLE);
        px_track_arm(s);
        if (s->cl != NULL && evbuffer_get_length(bufferevent_get_input(s->cl)) > 0) {
            px_session_cl_process(s);
        }
        return;
    }
    session_close(s, "authentication failed");
}

void
px_session_send_original(struct px_session *s)
{
    uint8_t sent;

    px_rewrite_views_clear(&s->rewrite_views);
    s->rewrite_check = false;
    sent = px_session_send_command(s, s->query.data, s->query.len);
    s->seq_delta = (uint8_t)(s->query_pkts - sent);
    px_session_resp_begin(s, s->query.len > 0 ? s->query.data[0] : PX_COM_QUERY, RK_RESULTSET);
}

/* Send the original command (a COM_QUERY, or a COM_STMT_EXECUTE: px_prep.c)
 * again after the rewritten one failed. */
static void
resend_original(struct px_session *s)
{
    struct px_session_info si;

    session_info(s, &si);
    px_dispatch_note_rewrite_failed(&si, &s->rewrite_views, s->rewrite_err);
    px_prep_rewrite_failed(s);
    px_session_send_original(s);
}

void
px_session_resend_original(struct px_session *s)
{
    resend_original(s);
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

void
px_session_bk_begin_packet(struct px_session *s, uint8_t *hdr, uint32_t len, enum bk_sink sink)
{
    bk_begin_packet(s, hdr, len, sink);
}

/* Run the action queued for the end of the packet just passed. */
void
px_session_bk_after(struct px_session *s)
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
    case AFTER_PREP:
        px_prep_after_packet(s);
        break;
    case AFTER_AUTH_OK:
        auth_end(s, true);
        break;
    case AFTER_AUTH_ERR:
        auth_end(s, false);
        break;
    case AFTER_VALIDATED:
        px_validate_prepared(s);
        break;
    case AFTER_RUN_ORIGINAL:
        px_validate_run_original(s);
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
        px_session_send_err(s, ER_UNKNOWN_ERROR, "08S01", "Bad handshake from backend");
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
        px_session_send_err(s, ER_UNKNOWN_ERROR, "08S01", "Unsupported handshake from backend");
        session_close(s, "unsupported greeting");
        return PX_ERR;
    }
    s->bk_ssl_offered = (hs.caps & PX_CLIENT_SSL) != 0;
    if (s->worker->cfg->backend_tls >= PX_BTLS_REQUIRED && !s->bk_ssl_offered) {
        char msg[400];
        snprintf(msg, sizeof(msg), "Backend %s does not offer TLS (--backend-tls %s)",
                 s->worker->cfg->backend_name,
                 px_tls_backend_mode_name((enum px_backend_tls)s->worker->cfg->backend_tls));
        px_log_warn("S-%llu: %s", (unsigned long long)s->id, msg);
        px_buf_free(&pl);
        s->reply_seq = 0;
        px_session_send_err(s, CR_SSL_CONNECTION_ERROR, "08S01", msg);
        session_close(s, "backend without TLS");
        return PX_ERR;
    }
    px_mysql_handshake_clear_caps(pl.data, pl.len, &hs, PX_CAPS_CLEARED, PX_EXT_CAPS_CLEARED);
    if (s->worker->cfg->tls_ctx != NULL) {
        /* the proxy terminates the client's TLS itself (Protocol::SSLRequest) */
        px_mysql_handshake_set_caps(pl.data, pl.len, &hs, PX_CLIENT_SSL);
    }
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
        rc = px_track_ok_packet(s, hdr, len, pk);
        if (rc != PX_TRACK_PASS) {
            return rc;
        }
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
    if (s->validate != PX_VAL_NONE) {
        /* the PREPARE of the original, or a rewritten answer to discard */
        px_validate_prepare_packet(s, hdr, len, pk);
        bk_begin_packet(s, hdr, len, SINK_DISCARD);
        return PX_OK;
    }
    rc = px_prep_probe_packet(s, hdr, len);
    if (rc != PX_PREP_PASS) {
        return rc;
    }
    if (px_prep_bk_packet(s, hdr, len, pk)) {
        return PX_OK;
    }
    if (s->rewrite_check) {
        s->rewrite_check = false;
        if (len > 0 && len < PX_PKT_MAX && hdr[4] == 0xff) {
            s->rewrite_err = pk >= 3 ? (unsigned)hdr[5] | (unsigned)hdr[6] << 8 : 0;
            s->bk_after = AFTER_RESEND;
            bk_begin_packet(s, hdr, len, SINK_DISCARD);
            return PX_OK;
        }
    }
    rc = px_track_ok_packet(s, hdr, len, pk);
    if (rc != PX_TRACK_PASS) {
        return rc;
    }
    if (px_resp_step(s, len, hdr + 4, pk)) {
        s->bk_after = AFTER_RESP_END;
    }
    bk_begin_packet(s, hdr, len, SINK_CLIENT);
    return PX_OK;
}

/* ---- backend events --------------------------------------------------- */

/* Process everything buffered from the backend that the current state allows. */
void
px_session_bk_process(struct px_session *s)
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
            px_session_bk_after(s);
            continue;
        }
        if (evbuffer_get_length(in) == 0) {
            return;
        }
        if (s->exec_cur != NULL) {
            rc = px_admin_exec_collect(s);
        } else if (s->arming) {
            rc = px_track_arm_packet(s);
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
    px_session_bk_process(arg);
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
            px_session_cl_process(s);
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
    px_session_bk_close(s);
    s->bk_lost = true;
    s->arming = false;
    if (s->exec_cur != NULL) {
        mvp_reply_clear(s->exec_cur->reply);
        mvp_reply_err(s->exec_cur->reply, CR_SERVER_LOST, "HY000", "Lost connection to backend");
        px_admin_exec_finish(s, -1);
    }
    switch (s->state) {
    case PX_SS_CONNECTING:
    case PX_SS_HANDSHAKE:
    case PX_SS_AUTH:
    case PX_SS_QUERY:
        if (!mid_packet) {
            px_session_send_err(s, CR_SERVER_LOST, "HY000", "Lost connection to backend");
        }
        session_close(s, "backend lost");
        return;
    case PX_SS_IDLE:
    case PX_SS_ADMIN:
        /* The client learns at its next command (or when the job's reply is sent). */
        return;
    case PX_SS_CLOSING:
        px_session_maybe_free(s);
        return;
    }
}

/*
 * An event of the backend bufferevent while its TLS handshake runs
 * (bk_tls_pending): CONNECTED sends the client's handshake response, now
 * with CLIENT_SSL, as sequence id 2 (1 was the proxy's SSLRequest); a
 * failure (bad certificate, no TLS, closed) tells the client and closes.
 */
static void
bk_tls_event(struct px_session *s, short what)
{
    char why[400], msg[800];
    uint8_t seq = 2;

    if (what & BEV_EVENT_CONNECTED) {
        s->bk_tls_pending = false;
        bufferevent_set_timeouts(s->bk, NULL, NULL);
        px_log_debug("S-%llu: backend TLS up (%s)", (unsigned long long)s->id,
                     px_tls_cipher(s->bk) ? px_tls_cipher(s->bk) : "?");
        if (px_mysql_write_packet(bufferevent_get_output(s->bk), &seq, s->bk_hs_resp.data,
                                  s->bk_hs_resp.len) != PX_OK) {
            session_close(s, "out of memory");
        }
        px_buf_free(&s->bk_hs_resp);
        return;
    }
    if (!(what & (BEV_EVENT_EOF | BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT))) {
        return;
    }
    if (what & BEV_EVENT_TIMEOUT) {
        snprintf(why, sizeof(why), "no progress for %d s", TLS_HANDSHAKE_SECS);
    } else {
        px_tls_error(s->bk, why, sizeof(why));
    }
    snprintf(msg, sizeof(msg), "TLS handshake with backend %s failed: %s",
             s->worker->cfg->backend_name, why);
    px_log_warn("S-%llu: %s", (unsigned long long)s->id, msg);
    s->bk_tls_pending = false;
    px_buf_free(&s->bk_hs_resp);
    px_session_bk_close(s);
    s->bk_lost = true;
    px_session_send_err(s, CR_SSL_CONNECTION_ERROR, "08S01", msg);
    session_close(s, "backend TLS handshake failed");
}

static void
bk_event_cb(struct bufferevent *bev, short what, void *arg)
{
    struct px_session *s = arg;
    int one = 1;
    char msg[512];

    if (s->bk_tls_pending) {
        bk_tls_event(s, what);
        return;
    }
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
        px_session_bk_close(s);
        s->reply_seq = 0;
        px_session_send_err(s, CR_CONN_HOST_ERROR, "HY000", msg);
        session_close(s, "backend connect failed");
        return;
    }
    if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) {
        /* Relay what arrived before the close. */
        px_session_bk_process(s);
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

/* Callbacks and watermarks of the client bufferevent (again after its switch to TLS). */
static void
cl_setup(struct px_session *s)
{
    bufferevent_setcb(s->cl, cl_read_cb, cl_write_cb, cl_event_cb, s);
    bufferevent_setwatermark(s->cl, EV_READ, 0, CLIENT_READ_HIGH);
    bufferevent_setwatermark(s->cl, EV_WRITE, s->worker->cfg->client_low_water, 0);
    bufferevent_enable(s->cl, EV_READ | EV_WRITE);
}

/*
 * Write the whole output of the plaintext backend bufferevent (the proxy's
 * SSLRequest) to its socket now, so the TLS handshake can follow it on the
 * same socket. 36 bytes into a fresh connection: EAGAIN is not expected.
 * Returns PX_OK or PX_ERR.
 */
static int
bk_flush_now(struct px_session *s)
{
    struct evbuffer *out = bufferevent_get_output(s->bk);
    evutil_socket_t fd = bufferevent_getfd(s->bk);
    int tries = 0;

    while (evbuffer_get_length(out) > 0) {
        if (evbuffer_write(out, fd) < 0 || ++tries > 100) {
            return PX_ERR;
        }
    }
    return PX_OK;
}

/*
 * Start TLS to the backend (Protocol::SSLRequest, client side): send the
 * first 32 bytes of the client's handshake response PL (CLIENT_SSL set) as
 * sequence id 1, switch s->bk to TLS, and keep PL (consumed, on success and
 * failure) to send once the handshake is done (bk_tls_event). Returns PX_OK,
 * or PX_ERR after telling the client and closing.
 */
static int
bk_start_tls(struct px_session *s, struct px_buf *pl)
{
    const struct px_relay_cfg *cfg = s->worker->cfg;
    uint8_t req[32];
    uint8_t seq = 1;

    memcpy(req, pl->data, sizeof(req));
    px_mysql_resp_set_ssl(req, sizeof(req), true);
    px_mysql_resp_set_ssl(pl->data, pl->len, true);
    if (px_mysql_write_packet(bufferevent_get_output(s->bk), &seq, req, sizeof(req)) != PX_OK ||
        bk_flush_now(s) != PX_OK ||
        px_tls_switch(&s->bk, s->worker->base, cfg->backend_tls_ctx, false, cfg->backend_host,
                      cfg->backend_tls == PX_BTLS_VERIFY_FULL) != 0) {
        px_buf_free(pl);
        px_log_warn("S-%llu: cannot start TLS to the backend", (unsigned long long)s->id);
        px_session_send_err(s, CR_SSL_CONNECTION_ERROR, "08S01",
                            "Cannot start TLS to the backend");
        session_close(s, "backend TLS start failed");
        return PX_ERR;
    }
    bufferevent_setcb(s->bk, bk_read_cb, bk_write_cb, bk_event_cb, s);
    bufferevent_setwatermark(s->bk, EV_WRITE, cfg->client_low_water, 0);
    bufferevent_enable(s->bk, EV_READ | EV_WRITE);
    {
        struct timeval tv = {TLS_HANDSHAKE_SECS, 0};
        bufferevent_set_timeouts(s->bk, &tv, &tv);
    }
    s->bk_tls = true;
    s->bk_tls_pending = true;
    px_buf_free(&s->bk_hs_resp);
    s->bk_hs_resp = *pl;
    px_buf_init(pl);
    return PX_OK;
}

/*
 * The client's SSLRequest arrived (sequence id SEQ): switch the client
 * bufferevent to the server side of a TLS handshake; the real handshake
 * response follows over TLS. Returns PX_AGAIN, or PX_ERR (closed).
 */
static int
cl_start_tls(struct px_session *s, uint8_t seq)
{
    const struct px_relay_cfg *cfg = s->worker->cfg;

    if (cfg->tls_ctx == NULL || s->cl_tls) {
        px_session_send_err(s, ER_NOT_SUPPORTED_AUTH, "08004",
                            s->cl_tls ? "SSLRequest over TLS" : "TLS is disabled on this proxy");
        session_close(s, "unexpected SSLRequest");
        return PX_ERR;
    }
    if (px_tls_switch(&s->cl, s->worker->base, cfg->tls_ctx, true, NULL, false) != 0) {
        /* bytes after the SSLRequest before our answer, or out of memory */
        px_log_warn("S-%llu: client %s: cannot start TLS after its SSLRequest",
                    (unsigned long long)s->id, s->peer);
        session_close(s, "client TLS start failed");
        return PX_ERR;
    }
    s->cl_tls = true;
    s->reply_seq = (uint8_t)(seq + 1);
    cl_setup(s);
    {
        /* a client that stops half-way through the handshake is dropped */
        struct timeval tv = {TLS_HANDSHAKE_SECS, 0};
        bufferevent_set_timeouts(s->cl, &tv, &tv);
        /* and a timer of its own: a filter bufferevent's timeouts do not
         * always fire while the handshake waits for the peer */
        if (s->tls_timer == NULL) {
            s->tls_timer = evtimer_new(s->worker->base, cl_tls_timer_cb, s);
        }
        if (s->tls_timer != NULL) {
            evtimer_add(s->tls_timer, &tv);
        }
    }
    px_log_debug("S-%llu: client %s: TLS handshake started", (unsigned long long)s->id, s->peer);
    return PX_AGAIN;
}

/*
 * HANDSHAKE: the client's handshake response (Connection Phase), or its
 * SSLRequest first (sequence id 1; the response then comes over TLS as 2).
 * The backend always sees a response with the sequence id and CLIENT_SSL of
 * its own hop: 1 and no CLIENT_SSL in plaintext, 2 and CLIENT_SSL after the
 * proxy's SSLRequest (bk_start_tls). seq_delta / auth_cl_delta renumber the
 * rest of the connection phase between the two hops.
 */
static int
cl_handshake_resp(struct px_session *s)
{
    struct evbuffer *in = bufferevent_get_input(s->cl);
    const struct px_relay_cfg *cfg = s->worker->cfg;
    struct px_handshake_resp r;
    struct px_buf pl;
    uint32_t hlen;
    uint8_t seq, bseq;
    int rc;
    bool bk_tls;

    if (!s->greeting_sent) {
        return PX_AGAIN;
    }
    if (cfg->tls_ctx != NULL && !s->cl_tls && px_mysql_peek_header(in, &hlen, &seq) == PX_OK) {
        /* Read no byte past this packet: after an SSLRequest the TLS
         * ClientHello follows at once, and it belongs to the TLS socket.
         * (An oversized packet reads on and is refused below.) */
        bufferevent_setwatermark(s->cl, EV_READ, 0,
                                 hlen < HANDSHAKE_MAX ? PX_PKT_HDR_LEN + (size_t)hlen
                                                      : CLIENT_READ_HIGH);
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
        px_session_send_err(s, 1043, "08S01", "Bad handshake");
        session_close(s, "bad handshake response");
        return PX_ERR;
    }
    if (r.ssl_request) {
        px_buf_free(&pl);
        px_mysql_handshake_resp_free(&r);
        return cl_start_tls(s, seq);
    }
    if (cfg->tls_ctx != NULL && !s->cl_tls) {
        bufferevent_setwatermark(s->cl, EV_READ, 0, CLIENT_READ_HIGH);
    }
    if (cfg->tls_mode == PX_TLS_REQUIRED && !s->cl_tls) {
        px_buf_free(&pl);
        px_mysql_handshake_resp_free(&r);
        px_log_info("S-%llu: client %s refused: plaintext, and --tls-mode is required",
                    (unsigned long long)s->id, s->peer);
        px_session_send_err(s, ER_SECURE_TRANSPORT_REQUIRED, "08004",
                            "Connections using insecure transport are prohibited while "
                            "--tls-mode=required");
        session_close(s, "plaintext client in tls-mode required");
        return PX_ERR;
    }
    s->caps = r.caps & s->server_caps;
    s->multi_on = (s->caps & PX_CLIENT_MULTI_STATEMENTS) != 0;
    take_str(&s->pending_user, r.user);
    take_str(&s->pending_db, r.db);
    r.user = NULL;
    r.db = NULL;
    px_log_debug("S-%llu: client user '%s' db '%s' caps 0x%08x%s", (unsigned long long)s->id,
                 s->pending_user, s->pending_db ? s->pending_db : "", s->caps,
                 s->cl_tls ? " over TLS" : "");
    px_mysql_handshake_resp_free(&r);
    px_track_handshake(s, pl.data, pl.len);
    bk_tls = cfg->backend_tls != PX_BTLS_DISABLED && s->bk_ssl_offered;
    /* backend packet n is client packet n + seq_delta (mod 256) */
    s->seq_delta = (uint8_t)((s->cl_tls ? 1 : 0) - (bk_tls ? 1 : 0));
    s->auth_cl_delta = (uint8_t)-s->seq_delta;
    s->change_user = false;
    if (bk_tls) {
        if (bk_start_tls(s, &pl) != PX_OK) {
            return PX_ERR;
        }
        px_session_set_state(s, PX_SS_AUTH);
        return PX_OK;
    }
    px_mysql_resp_set_ssl(pl.data, pl.len, false);
    bseq = 1;
    px_mysql_write_packet(bufferevent_get_output(s->bk), &bseq, pl.data, pl.len);
    px_buf_free(&pl);
    px_session_set_state(s, PX_SS_AUTH);
    return PX_OK;
}

/*
 * AUTH (connection phase only, auth_cl_delta != 0): relay the client's auth
 * packets (auth switch responses, more data) to the backend with their
 * sequence ids renumbered for the backend's hop. Returns PX_OK or PX_AGAIN.
 */
static int
cl_auth_packet(struct px_session *s)
{
    struct evbuffer *in = bufferevent_get_input(s->cl);
    uint8_t hdr[PX_PKT_HDR_LEN];
    uint32_t len;
    uint8_t seq;

    if (px_mysql_peek_header(in, &len, &seq) != PX_OK) {
        return PX_AGAIN;
    }
    evbuffer_remove(in, hdr, sizeof(hdr));
    hdr[3] = (uint8_t)(seq + s->auth_cl_delta);
    if (s->bk != NULL) {
        evbuffer_add(bufferevent_get_output(s->bk), hdr, sizeof(hdr));
    }
    s->cl_chain = false;
    s->cl_pass = len;
    return PX_OK;
}

void
px_session_adopt_rewrite(struct px_session *s, struct px_dispatch_out *out, const char *what)
{
    px_log_debug("S-%llu: %s rewritten: %.*s", (unsigned long long)s->id, what,
                 (int)(out->sql_len > 2000 ? 2000 : out->sql_len), out->sql);
    px_rewrite_views_clear(&s->rewrite_views);
    s->rewrite_views = out->views;
    memset(&out->views, 0, sizeof(out->views));
}

void
px_session_send_rewritten(struct px_session *s, const struct px_dispatch_out *out)
{
    struct px_buf pl;
    uint8_t sent;

    px_buf_init(&pl);
    px_buf_put_u8(&pl, PX_COM_QUERY);
    px_buf_put(&pl, out->sql, out->sql_len);
    sent = px_session_send_command(s, pl.data, pl.len);
    px_buf_free(&pl);
    s->seq_delta = (uint8_t)(s->query_pkts - sent);
    s->rewrite_check = true;
}

/* Decide the COM_QUERY in s->query (0x03 + SQL) for S into OUT (zeroed
 * here) and SI: *PROBE when an EXECUTE ... USING reads its variables first,
 * *SQL_EXECUTE when the decision rewrites an SQL EXECUTE. */
static void
query_decide(struct px_session *s, struct px_session_info *si, struct px_dispatch_out *out,
             bool *probe, bool *sql_execute)
{
    const char *sql = (const char *)s->query.data + 1;
    size_t len = s->query.len - 1;

    memset(out, 0, sizeof(*out));
    session_info(s, si);
    px_dispatch_query(si, sql, len, out);
    *probe = false;
    *sql_execute = false;
    if (out->kind == PX_DISPATCH_RELAY) {
        *probe = px_prep_sql_query(s, si, sql, len, out);
        /* an SQL EXECUTE rewritten: the backend accepted its text at PREPARE */
        *sql_execute = out->kind == PX_DISPATCH_REWRITE;
    }
}

/* Send what OUT decided for the COM_QUERY in s->query: the probe of an
 * EXECUTE ... USING, the rewrite (behind the freshness fence and, unless
 * known, the validation of the original), or the client's bytes. S is in
 * QUERY with its response tracking begun. */
static void
query_send(struct px_session *s, struct px_dispatch_out *out, bool sql_execute, bool probe)
{
    uint8_t sent;

    if (probe) {
        /* EXECUTE ... USING @var: its values first (px_prep.h) */
        px_prep_probe_start(s);
        return;
    }
    if (out->kind == PX_DISPATCH_REWRITE && out->sql != NULL) {
        switch (px_fence_gate(s, &out->views, PX_FENCE_AT_QUERY)) {
        case PX_FENCE_PARKED:
            /* decided again when the fence passes (px_session_query_resume) */
            px_dispatch_uncount(&out->views);
            return;
        case PX_FENCE_RELAY:
            px_dispatch_uncount(&out->views);
            goto original;
        case PX_FENCE_GO:
            break;
        }
        px_session_adopt_rewrite(s, out, "query");
        if (sql_execute || px_validate_known(s)) {
            px_session_send_rewritten(s, out);
        } else {
            /* the backend judges the original first (px_validate.h) */
            sent = px_validate_start(s, out->sql, out->sql_len, out->checks, out->n_checks);
            s->val_seq_delta = (uint8_t)(s->query_pkts - sent);
        }
        return;
    }
original:
    sent = px_session_send_command(s, s->query.data, s->query.len);
    s->seq_delta = (uint8_t)(s->query_pkts - sent);
}

void
px_session_query_resume(struct px_session *s)
{
    struct px_dispatch_out out;
    struct px_session_info si;
    bool probe, sql_execute;

    query_decide(s, &si, &out, &probe, &sql_execute);
    query_send(s, &out, sql_execute, probe);
    px_dispatch_out_clear(&out);
}

/* Act on a complete COM_QUERY (s->query holds 0x03 + SQL). */
static void
cmd_query(struct px_session *s)
{
    struct px_dispatch_out out;
    struct px_session_info si;
    const char *sql = (const char *)s->query.data + 1;
    size_t len = s->query.len - 1;
    char *use_db;
    bool sql_execute, probe;

    query_decide(s, &si, &out, &probe, &sql_execute);
    if (out.set_rewrite) {
        s->rewrite_enabled = out.rewrite_enabled;
    }
    switch (out.kind) {
    case PX_DISPATCH_RELAY:
    case PX_DISPATCH_REWRITE:
        px_track_note_query(s, sql, len);
        px_validate_note_query(sql, len);
        use_db = px_mysql_parse_use(sql, len);
        if (use_db != NULL) {
            take_str(&s->pending_db, use_db);
            s->pending_db_valid = true;
        }
        px_session_set_state(s, PX_SS_QUERY);
        px_session_resp_begin(s, PX_COM_QUERY, RK_RESULTSET);
        query_send(s, &out, sql_execute, probe);
        break;
    case PX_DISPATCH_REPLY:
        px_session_send_reply(s, &out.reply);
        s->query.len = 0;
        break;
    case PX_DISPATCH_ADMIN:
        px_admin_exec_start(s, out.admin);
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
        px_session_send_err(s, 1047, "08S01", "Unknown command");
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
        px_session_send_err(s, ER_SERVER_SHUTDOWN, "08S01", SHUTDOWN_MSG);
        session_close(s, "command during the shutdown drain");
        return PX_ERR;
    }
    if (s->bk_lost || s->bk == NULL) {
        px_session_send_err(s, CR_SERVER_LOST, "HY000", "Lost connection to backend");
        session_close(s, "command after backend loss");
        return PX_ERR;
    }
    px_fence_reset(s);
    {
        int prc = px_prep_cl_command(s, cmd, len);
        if (prc != PX_PREP_PASS) {
            return prc;
        }
    }
    if (cmd == PX_COM_SET_OPTION && len == 3 && avail >= PX_PKT_HDR_LEN + 3) {
        /* COM_SET_OPTION: 0 turns multi-statements on, 1 off (relayed as it is) */
        uint8_t opt[PX_PKT_HDR_LEN + 3];
        uint16_t v;
        evbuffer_copyout(in, opt, sizeof(opt));
        v = px_mysql_u16(opt + 5);
        if (v <= 1) {
            s->multi_on = v == 0;
        }
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
            take_str(&s->pending_db, px_resp_dup_bytes(pl.data + 1, len - 1));
            s->pending_db_valid = true;
            px_buf_free(&pl);
            break;
        }
        {
            char *u = NULL, *d = NULL;
            if (px_mysql_parse_change_user(pl.data, pl.len, s->caps, &u, &d) != PX_OK) {
                px_buf_free(&pl);
                px_session_send_err(s, 1043, "08S01", "Bad COM_CHANGE_USER packet");
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
    px_session_resp_begin(s, cmd, cmd_resp_kind(cmd));
    s->seq_delta = 0;
    cl_begin_packet(s, len);
    return PX_OK;

too_big:
    evbuffer_drain(in, evbuffer_get_length(in));
    s->query_open = false;
    s->query.len = 0;
    px_session_send_err(s, ER_NET_PACKET_TOO_LARGE, "08S01",
                "Got a packet bigger than the proxy's query limit");
    session_close(s, "query too large");
    return PX_ERR;
}

/* Process everything buffered from the client that the current state allows. */
void
px_session_cl_process(struct px_session *s)
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
            if (s->bk_tls_pending) {
                /* the backend has not seen the handshake response yet */
                rc = PX_AGAIN;
                break;
            }
            if (s->auth_cl_delta != 0) {
                rc = cl_auth_packet(s);
                break;
            }
            /* Auth responses: relay as they come. */
            if (s->bk != NULL) {
                evbuffer_remove_buffer(in, bufferevent_get_output(s->bk), evbuffer_get_length(in));
            } else {
                evbuffer_drain(in, evbuffer_get_length(in));
            }
            rc = PX_AGAIN;
            break;
        case PX_SS_IDLE:
            /* while the tracking statement is answered, commands wait */
            rc = s->arming ? PX_AGAIN : cl_command(s);
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
    px_session_cl_process(arg);
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
        px_session_bk_process(s);
    }
}

static void
cl_event_cb(struct bufferevent *bev, short what, void *arg)
{
    struct px_session *s = arg;

    (void)bev;
    if (what & BEV_EVENT_CONNECTED) {
        s->cl_tls_up = true;
        bufferevent_set_timeouts(s->cl, NULL, NULL);
        if (s->tls_timer != NULL) {
            evtimer_del(s->tls_timer);
        }
        px_log_debug("S-%llu: client TLS up (%s)", (unsigned long long)s->id,
                     px_tls_cipher(s->cl) ? px_tls_cipher(s->cl) : "?");
        return;
    }
    if (!(what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) &&
        !((what & BEV_EVENT_TIMEOUT) && s->cl_tls && !s->cl_tls_up)) {
        return;
    }
    if (s->cl_tls && !s->cl_tls_up) {
        char why[400];
        if (what & BEV_EVENT_TIMEOUT) {
            snprintf(why, sizeof(why), "no progress for %d s", TLS_HANDSHAKE_SECS);
        } else {
            px_tls_error(s->cl, why, sizeof(why));
        }
        px_log_warn("S-%llu: client %s: TLS handshake failed: %s", (unsigned long long)s->id,
                    s->peer, why);
    }
    px_log_debug("S-%llu: client %s in %s", (unsigned long long)s->id,
                 (what & BEV_EVENT_EOF) ? "closed" : "error", px_session_state_name(s->state));
    bufferevent_free(s->cl);
    s->cl = NULL;
    session_close(s, "client gone");
}

/* The client's TLS handshake made no progress for TLS_HANDSHAKE_SECS. */
static void
cl_tls_timer_cb(evutil_socket_t fd, short what, void *arg)
{
    struct px_session *s = arg;

    (void)fd;
    (void)what;
    if (s->cl == NULL || !s->cl_tls || s->cl_tls_up) {
        return;
    }
    if (s->cl_closing || s->state == PX_SS_CLOSING) {
        cl_free(s); /* a flush that cannot happen before the handshake */
        return;
    }
    cl_event_cb(s->cl, BEV_EVENT_TIMEOUT, s);
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
    px_buf_init(&s->bk_hs_resp);
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

    s->exec_ev = event_new(w->base, -1, 0, px_admin_exec_ev_cb, s);
    s->admin_ev = event_new(w->base, -1, 0, px_admin_exec_admin_ev_cb, s);
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

    cl_setup(s);
    if (cfg->tls_ctx != NULL) {
        /* Read the handshake response's header alone first (cl_handshake_resp). */
        bufferevent_setwatermark(s->cl, EV_READ, 0, PX_PKT_HDR_LEN);
    }
    bufferevent_setcb(s->bk, bk_read_cb, bk_write_cb, bk_event_cb, s);
    bufferevent_setwatermark(s->bk, EV_WRITE, cfg->client_low_water, 0);
    px_log_debug("S-%llu: client %s connected (worker %d)", (unsigned long long)s->id, s->peer,
                 w->index);
    if (bufferevent_socket_connect(s->bk, (const struct sockaddr *)&cfg->backend_addr,
                                   (int)cfg->backend_addrlen) != 0) {
        char msg[512];
        snprintf(msg, sizeof(msg), "Can't connect to backend %s", cfg->backend_name);
        px_session_bk_close(s);
        s->reply_seq = 0;
        px_session_send_err(s, CR_CONN_HOST_ERROR, "HY000", msg);
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
