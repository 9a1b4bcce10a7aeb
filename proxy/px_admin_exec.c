/*
 * px_admin_exec.c - the admin bridge of a session: an admin job runs on its
 * own detached thread; the SQL it runs as the client (px_exec_fn) is
 * marshalled onto the session's worker loop (exec_ev), sent on the
 * client's own backend connection and its response collected into a
 * struct mvp_reply (px_resp.c, collect mode); when the job ends, admin_ev
 * posts its reply back to the loop, which answers the client.
 *
 *   loop: cmd_query ─ADMIN─> start_admin ──thread──> px_dispatch_admin_run
 *                                                      │ session_exec(sql) ─┐
 *   loop: exec_ev_cb ─COM_QUERY─> backend ─> bk_collect ─> exec_finish ─────┘ (cond var)
 *   loop: admin_ev_cb <─ job done ─ reply to the client, IDLE
 */
#include "px_admin_exec.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "px_log.h"
#include "px_resp.h"
#include "px_worker.h"
#include "rw_limits.h"

/* ---- admin exec: run SQL as the client, collect the response ---------- */

/* Hand the exec result back to the waiting admin thread. */
void
px_admin_exec_finish(struct px_session *s, int rc)
{
    struct exec_req *req = s->exec_cur;

    px_resp_coll_reset(&s->coll);
    s->coll.pkt.len = 0;
    s->exec_cur = NULL;
    pthread_mutex_lock(&s->mu);
    req->rc = rc;
    req->done = true;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

/* Backend input while an exec runs: whole packets into the collector. */
int
px_admin_exec_collect(struct px_session *s)
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
        px_admin_exec_finish(s, -1);
        s->bk_lost = true;
        px_session_bk_close(s);
        return PX_ERR;
    }
    if (px_resp_coll_packet(s, s->coll.pkt.data, s->coll.pkt.len)) {
        px_admin_exec_finish(s, 0);
    }
    return PX_OK;
}

/* Loop callback: the admin thread posted an exec request. */
void
px_admin_exec_ev_cb(evutil_socket_t fd, short what, void *arg)
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
        px_admin_exec_finish(s, -1);
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
    px_session_send_command(s, pl, n + 1);
    free(pl);
    px_resp_coll_reset(&s->coll);
    s->coll.have_result = false;
    s->coll.keep = true;
    if (evbuffer_get_length(bufferevent_get_input(s->bk)) > 0) {
        px_session_bk_process(s);
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
void
px_admin_exec_admin_ev_cb(evutil_socket_t fd, short what, void *arg)
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
    px_session_busy_update(s);
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
        px_session_bk_close(s);
        px_session_send_err(s, ER_SERVER_SHUTDOWN, "08S01", SHUTDOWN_MSG);
        px_session_cl_close(s, true);
        px_session_maybe_free(s);
    } else if (s->state == PX_SS_ADMIN && s->cl != NULL) {
        px_session_send_reply(s, &job->reply);
        s->query.len = 0;
        px_session_set_state(s, PX_SS_IDLE);
        if (s->bk == NULL) {
            s->bk_lost = true;
        }
        if (evbuffer_get_length(bufferevent_get_input(s->cl)) > 0) {
            px_session_cl_process(s);
        }
    } else {
        px_log_debug("S-%llu: admin job ended after the client left", (unsigned long long)s->id);
        if (s->state != PX_SS_CLOSING) {
            px_session_set_state(s, PX_SS_CLOSING);
        }
        px_session_bk_close(s);
        px_session_maybe_free(s);
    }
    mvp_reply_clear(&job->reply);
    free(job->user);
    free(job->db);
    free(job);
}

/* Start ADMIN (consumed) for the current COM_QUERY on a new thread. */
void
px_admin_exec_start(struct px_session *s, void *admin)
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
