/*
 * cat_task.c - refresh tasks (SPEC §6, §9): the task row's life cycle, the
 * process-wide limit on concurrent refreshes, CANCEL (KILL QUERY of the
 * refresh connection), and recovery of tasks whose proxy died. See
 * cat_task.h for the flow.
 */
#include "cat_task.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cat_incr.h"
#include <mysql.h>

#include "cat.h"
#include "cat_core.h"
#include "cat_refresh_clause.h"
#include "cat_reply.h"
#include "cat_util.h"
#include "cat_part_engine.h"
#include "cat_part.h"
#include "cat_part_refresh.h"
#include "cat_refresh.h"
#include "cat_sched.h"

/* Rows kept in `tasks` (as cat_store.c). */
#define TASK_HISTORY 1000

/* One task of this process (PENDING or RUNNING). */
struct task_ent {
    char key[512];                  /* view "db.name" */
    uint64_t task_id;               /* its row, 0 until inserted */
    _Atomic unsigned long conn_id;  /* backend thread id of the refresh connection, 0 = none */
    _Atomic bool cancel;            /* CANCEL or shutdown asked it to stop */
    _Atomic bool started;           /* the row went RUNNING (the refresh lock is held) */
    struct task_ent *next;          /* g_tasks list */
};

static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_cv = PTHREAD_COND_INITIALIZER;
static struct task_ent *g_tasks;    /* PENDING and RUNNING tasks of this process */
static int g_max = 1;               /* concurrent refreshes allowed */
static int g_running;               /* refreshes holding a slot */
static char g_owner[64];            /* this proxy's owner id */

static _Thread_local struct task_ent *t_cur; /* the task the current thread runs */
static _Thread_local char t_run_by[400];      /* who starts this thread's next task ("" none) */

/*
 * The end of a task that could not be written because the backend was gone
 * (its link died with the refresh and no new one could be opened). It is
 * written when a link works again: before the next task of this process
 * starts, and by cat_task_recover(), which also drops the staging tables
 * the broken refresh left. Without this the row stayed RUNNING for good:
 * recovery skips rows whose owner (this live proxy) holds its lock.
 */
struct deferred_end {
    uint64_t tid;                   /* task row */
    char status[16];                /* FAILED or CANCELED */
    char *error;                    /* error_msg (owned) */
    int64_t at_ms;                  /* wall-clock time of the end (ms since the epoch) */
    char db[256], name[256];        /* the view (staging tables to drop) */
    bool recorded;                  /* the row was written; leftovers still to drop */
    struct deferred_end *next;      /* g_deferred list */
};

static struct deferred_end *g_deferred; /* under g_mu */

void
cat_task_init(int max_running)
{
    const char *env = getenv("MVPROXY_REFRESH_TASKS");
    char host[64] = "proxy";
    struct timespec ts;
    if (max_running <= 0 && env != NULL && atoi(env) > 0) {
        max_running = atoi(env); /* fallback when not configured */
    }
    g_max = max_running > 0 ? max_running : 1;
    gethostname(host, sizeof(host) - 1);
    host[20] = '\0';
    clock_gettime(CLOCK_REALTIME, &ts);
    snprintf(g_owner, sizeof(g_owner), "%s:%ld:%08lx", host, (long)getpid(),
             (unsigned long)((ts.tv_nsec ^ (ts.tv_sec << 12) ^ getpid()) & 0xffffffffUL));
}

void
cat_task_shutdown(void)
{
    pthread_mutex_lock(&g_mu);
    while (g_tasks != NULL) {
        struct task_ent *t = g_tasks;
        g_tasks = t->next;
        free(t);
    }
    pthread_mutex_unlock(&g_mu);
}

const char *
cat_task_owner(void)
{
    return g_owner;
}

int
cat_task_max(void)
{
    return g_max;
}

bool
cat_task_active(const char *key)
{
    struct task_ent *t;
    bool found = false;
    pthread_mutex_lock(&g_mu);
    for (t = g_tasks; t != NULL && !found; t = t->next) {
        found = strcmp(t->key, key) == 0;
    }
    pthread_mutex_unlock(&g_mu);
    return found;
}

int
cat_task_count(void)
{
    struct task_ent *t;
    int n = 0;
    pthread_mutex_lock(&g_mu);
    for (t = g_tasks; t != NULL; t = t->next) {
        n++;
    }
    pthread_mutex_unlock(&g_mu);
    return n;
}

bool
cat_task_cancel_requested(void)
{
    return t_cur != NULL && atomic_load(&t_cur->cancel);
}

void
cat_task_note_interrupted(void)
{
    if (t_cur != NULL) {
        atomic_store(&t_cur->cancel, true);
    }
}

int
cat_task_store_init(MYSQL *c, char *err, size_t errlen)
{
    struct cat_buf q = {0};
    unsigned code = 0;
    int rc = 0;
    cat_buf_puts(&q, "ALTER TABLE ");
    cat_buf_qname(&q, cat_meta_schema(), "tasks");
    cat_buf_puts(&q, " ADD COLUMN IF NOT EXISTS owner VARCHAR(64) NULL,"
                     " ADD COLUMN IF NOT EXISTS conn_id BIGINT UNSIGNED NULL,"
                     " ADD COLUMN IF NOT EXISTS run_by VARCHAR(400) NULL");
    if (cat_q(c, q.p, err, errlen, &code) < 0) {
        /* MySQL has no ADD COLUMN IF NOT EXISTS: add them one by one */
        const char *cols[] = {"owner VARCHAR(64) NULL", "conn_id BIGINT UNSIGNED NULL",
                              "run_by VARCHAR(400) NULL"};
        size_t i;
        for (i = 0; i < 3; i++) {
            cat_buf_free(&q);
            cat_buf_puts(&q, "ALTER TABLE ");
            cat_buf_qname(&q, cat_meta_schema(), "tasks");
            cat_buf_printf(&q, " ADD COLUMN %s", cols[i]);
            if (cat_q(c, q.p, err, errlen, &code) < 0 && code != 1060) {
                rc = -1;
            }
        }
    }
    cat_buf_free(&q);
    /* catalog version for proxies sharing the schema (cat_sync.c) */
    cat_buf_puts(&q, "INSERT IGNORE INTO ");
    cat_buf_qname(&q, cat_meta_schema(), "meta");
    cat_buf_puts(&q, " (k, v) VALUES ('catalog_version', '0')");
    if (cat_q(c, q.p, err, errlen, NULL) < 0) {
        rc = -1;
    }
    cat_buf_free(&q);
    return rc;
}

/* Insert a PENDING row for view ID DB.NAME; returns its id or 0. */
static uint64_t
row_pending(MYSQL *c, uint64_t id, const char *db, const char *name, const char *mode)
{
    struct cat_buf q = {0};
    char err[256];
    uint64_t tid = 0;
    cat_buf_puts(&q, "INSERT INTO ");
    cat_buf_qname(&q, cat_meta_schema(), "tasks");
    cat_buf_puts(&q, " (job_name, mv_id, mv_name, mv_db, status, create_time, refresh_mode,"
                     " need_refresh_partitions, progress, owner, run_by) VALUES (");
    cat_buf_printf(&q, "'mv_job_%llu', %llu, ", (unsigned long long)id, (unsigned long long)id);
    cat_buf_lit(&q, name);
    cat_buf_puts(&q, ", ");
    cat_buf_lit(&q, db);
    cat_buf_puts(&q, ", 'PENDING', NOW(3), ");
    cat_buf_lit(&q, mode);
    cat_buf_puts(&q, ", ");
    cat_buf_lit(&q, name);
    cat_buf_puts(&q, ", '0.00% (0/1)', ");
    cat_buf_lit(&q, g_owner);
    cat_buf_puts(&q, ", ");
    if (t_run_by[0] != '\0') {
        cat_buf_lit(&q, t_run_by);
    } else {
        cat_buf_puts(&q, "NULL"); /* the scheduler's */
    }
    cat_buf_puts(&q, ")");
    if (cat_q(c, q.p, err, sizeof(err), NULL) == 0) {
        tid = mysql_insert_id(c);
    } else {
        cat_log(CAT_LOG_WARN, "recording a refresh task of %s.%s: %s", db, name, err);
    }
    cat_buf_free(&q);
    if (tid > TASK_HISTORY) {
        cat_buf_puts(&q, "DELETE FROM ");
        cat_buf_qname(&q, cat_meta_schema(), "tasks");
        cat_buf_printf(&q, " WHERE task_id <= %llu AND status NOT IN ('PENDING', 'RUNNING')",
                       (unsigned long long)(tid - TASK_HISTORY));
        cat_q(c, q.p, err, sizeof(err), NULL);
        cat_buf_free(&q);
    }
    return tid;
}

uint64_t
cat_task_started(MYSQL *c, const char *mode)
{
    struct cat_buf q = {0};
    char err[256];
    struct task_ent *t = t_cur;
    if (t == NULL || t->task_id == 0) {
        return 0;
    }
    atomic_store(&t->conn_id, mysql_thread_id(c));
    atomic_store(&t->started, true);
    cat_buf_puts(&q, "UPDATE ");
    cat_buf_qname(&q, cat_meta_schema(), "tasks");
    cat_buf_puts(&q, " SET status = 'RUNNING', start_time = NOW(3), refresh_mode = ");
    cat_buf_lit(&q, mode);
    cat_buf_printf(&q, ", conn_id = %lu WHERE task_id = %llu", mysql_thread_id(c),
                   (unsigned long long)t->task_id);
    if (cat_q(c, q.p, err, sizeof(err), NULL) < 0) {
        cat_log(CAT_LOG_WARN, "starting refresh task %llu: %s", (unsigned long long)t->task_id,
                err);
    }
    cat_buf_free(&q);
    return t->task_id;
}

/* Set the final STATUS of row TID (when the refresh code did not, or to
 * override FAILED with CANCELED), ended at AT_MS (wall clock, ms since the
 * epoch; 0 = now). Returns 0, or -1 when the UPDATE failed (logged). */
static int
row_final_at(MYSQL *c, uint64_t tid, const char *status, const char *error, int64_t at_ms)
{
    struct cat_buf q = {0};
    char err[256], end[64];
    int rc;
    if (c == NULL || tid == 0) {
        return -1;
    }
    if (at_ms > 0) {
        snprintf(end, sizeof(end), "FROM_UNIXTIME(%lld.%03lld)", (long long)(at_ms / 1000),
                 (long long)(at_ms % 1000));
    } else {
        snprintf(end, sizeof(end), "NOW(3)");
    }
    cat_buf_puts(&q, "UPDATE ");
    cat_buf_qname(&q, cat_meta_schema(), "tasks");
    cat_buf_puts(&q, " SET status = ");
    cat_buf_lit(&q, status);
    cat_buf_puts(&q, ", error_msg = ");
    cat_buf_lit(&q, error);
    cat_buf_printf(&q, ", start_time = COALESCE(start_time, %s), finish_time = %s,"
                       " duration_ms = TIMESTAMPDIFF(MICROSECOND, COALESCE(start_time, %s),"
                       " %s) DIV 1000", end, end, end, end);
    cat_buf_printf(&q, " WHERE task_id = %llu", (unsigned long long)tid);
    rc = cat_q(c, q.p, err, sizeof(err), NULL);
    if (rc < 0) {
        cat_log(CAT_LOG_WARN, "finishing refresh task %llu: %s", (unsigned long long)tid, err);
    }
    cat_buf_free(&q);
    return rc < 0 ? -1 : 0;
}

static void
row_final(MYSQL *c, uint64_t tid, const char *status, const char *error)
{
    (void)row_final_at(c, tid, status, error, 0);
}

/* Keep the end of task TID of view DB.NAME for later (see struct deferred_end). */
static void
defer_end(uint64_t tid, const char *status, const char *error, const char *db, const char *name)
{
    struct deferred_end *d;
    if (tid == 0) {
        return;
    }
    d = cat_xcalloc(1, sizeof(*d));
    d->tid = tid;
    snprintf(d->status, sizeof(d->status), "%s", status);
    d->error = cat_xstrdup(error);
    d->at_ms = cat_now_ms();
    snprintf(d->db, sizeof(d->db), "%s", db);
    snprintf(d->name, sizeof(d->name), "%s", name);
    pthread_mutex_lock(&g_mu);
    d->next = g_deferred;
    g_deferred = d;
    pthread_mutex_unlock(&g_mu);
    cat_log(CAT_LOG_WARN, "refresh task %llu of %s.%s: the backend is gone; its end (%s) is "
            "recorded when it is back", (unsigned long long)tid, db, name, status);
}

static void drop_leftovers(MYSQL *c, const char *db, const char *name);

/*
 * Write the deferred task ends over C. With CLEAN, also drop the staging
 * tables of their views (unless a refresh of the view runs here: it drops
 * them itself) and forget them; without, keep them for a later CLEAN.
 */
static void
flush_deferred(MYSQL *c, bool clean)
{
    struct deferred_end *list, *d, *next, *keep = NULL;
    char key[512];
    pthread_mutex_lock(&g_mu);
    list = g_deferred;
    g_deferred = NULL;
    pthread_mutex_unlock(&g_mu);
    for (d = list; d != NULL; d = next) {
        next = d->next;
        if (!d->recorded && row_final_at(c, d->tid, d->status, d->error, d->at_ms) == 0) {
            d->recorded = true;
            cat_log(CAT_LOG_INFO, "recorded refresh task %llu of %s.%s as %s (backend is back)",
                    (unsigned long long)d->tid, d->db, d->name, d->status);
        }
        if (d->recorded && clean) {
            cat_make_key(key, sizeof(key), d->db, d->name);
            if (!cat_task_active(key)) {
                drop_leftovers(c, d->db, d->name);
            }
            free(d->error);
            free(d);
            continue;
        }
        d->next = keep;
        keep = d;
    }
    if (keep != NULL) {
        pthread_mutex_lock(&g_mu);
        for (d = keep; d->next != NULL; d = d->next) {
        }
        d->next = g_deferred;
        g_deferred = keep;
        pthread_mutex_unlock(&g_mu);
    }
}

static void
row_delete(MYSQL *c, uint64_t tid)
{
    struct cat_buf q = {0};
    char err[256];
    if (c == NULL || tid == 0) {
        return;
    }
    cat_buf_puts(&q, "DELETE FROM ");
    cat_buf_qname(&q, cat_meta_schema(), "tasks");
    cat_buf_printf(&q, " WHERE task_id = %llu", (unsigned long long)tid);
    cat_q(c, q.p, err, sizeof(err), NULL);
    cat_buf_free(&q);
}

void
cat_task_record_noop(MYSQL *c, uint64_t mv_id, const char *db, const char *name)
{
    uint64_t tid = row_pending(c, mv_id, db, name, "NOT_REFRESH");
    struct cat_buf q = {0};
    char err[256];
    if (tid == 0) {
        return;
    }
    cat_buf_puts(&q, "UPDATE ");
    cat_buf_qname(&q, cat_meta_schema(), "tasks");
    cat_buf_printf(&q, " SET status = 'SUCCESS', start_time = NOW(3), finish_time = NOW(3),"
                       " duration_ms = 0, need_refresh_partitions = '', completed_partitions = '',"
                       " progress = '100.00%% (0/0)', row_count = 0 WHERE task_id = %llu",
                   (unsigned long long)tid);
    cat_q(c, q.p, err, sizeof(err), NULL);
    cat_buf_free(&q);
}

/* Unlink and free T. */
static void
ent_remove(struct task_ent *t)
{
    struct task_ent **pp;
    pthread_mutex_lock(&g_mu);
    for (pp = &g_tasks; *pp != NULL; pp = &(*pp)->next) {
        if (*pp == t) {
            *pp = t->next;
            break;
        }
    }
    pthread_cond_broadcast(&g_cv);
    pthread_mutex_unlock(&g_mu);
    free(t);
}

/* Enter T (key set) in the registry; false, with *OTHER the task id of the
 * task of the same view already there, when there is one (T not entered). */
static bool
ent_add(struct task_ent *t, uint64_t *other)
{
    struct task_ent *o;
    pthread_mutex_lock(&g_mu);
    for (o = g_tasks; o != NULL; o = o->next) {
        if (strcmp(o->key, t->key) == 0) {
            *other = o->task_id;
            pthread_mutex_unlock(&g_mu);
            return false;
        }
    }
    t->next = g_tasks;
    g_tasks = t;
    pthread_mutex_unlock(&g_mu);
    return true;
}

/* Wait for a slot in the process-wide limit; false (no slot taken) when
 * CANCEL ended the wait. */
static bool
slot_take(struct task_ent *t)
{
    pthread_mutex_lock(&g_mu);
    while (g_running >= g_max && !atomic_load(&t->cancel)) {
        pthread_cond_wait(&g_cv, &g_mu);
    }
    if (atomic_load(&t->cancel)) {
        pthread_mutex_unlock(&g_mu);
        return false;
    }
    g_running++;
    pthread_mutex_unlock(&g_mu);
    return true;
}

static void
slot_give(void)
{
    pthread_mutex_lock(&g_mu);
    g_running--;
    pthread_cond_broadcast(&g_cv);
    pthread_mutex_unlock(&g_mu);
}

/*
 * Run the engine STRATEGY (cat_refresh_pick) for view VDB.VNAME in MODE;
 * an incremental refresh that declines falls back to the complete engine
 * (cat_refresh_view, which hands a partitioned view to cat_part_refresh).
 * *RES gets the engine's outcome. Returns 0/-1 with REPLY filled.
 */
static int
run_engine(const char *vdb, const char *vname, enum cat_refresh_strategy strategy,
           enum cat_refresh_method mode, char **parts, size_t n_parts, struct mvp_reply *reply,
           enum cat_task_result *res)
{
    if (strategy == CAT_RS_INCREMENTAL) {
        bool handled = false;
        int rc = cat_incr_refresh(vdb, vname, reply, &handled, res);
        if (handled) {
            return rc;
        }
        mvp_reply_clear(reply);
        mvp_reply_init(reply);
    }
    if (mode == CAT_RM_PARTITIONS) {
        return cat_part_refresh(vdb, vname, CAT_RM_PARTITIONS, parts, n_parts, reply, res);
    }
    return cat_refresh_view(vdb, vname, mode == CAT_RM_COMPLETE ? CAT_RM_COMPLETE : CAT_RM_AUTO,
                            reply, res);
}

/*
 * Record how task T of VDB.VNAME ended over C from the engine's RC and
 * outcome RES: the row (when the engine did not write it, or CANCELED over
 * its FAILED), and for a cancel the reply. Returns the outcome class.
 */
static enum cat_task_result
record_end(MYSQL *c, struct task_ent *t, int rc, enum cat_task_result res, const char *vdb,
           const char *vname, struct mvp_reply *reply)
{
    bool started = atomic_load(&t->started);
    if (rc == 0) {
        if (!started) {
            row_final(c, t->task_id, "SUCCESS", NULL);
        }
        return CAT_TASK_OK;
    }
    if (!started && res == CAT_TASK_BUSY) {
        /* another proxy holds the view's refresh lock: not a task of ours */
        row_delete(c, t->task_id);
        return CAT_TASK_BUSY;
    }
    if (atomic_load(&t->cancel) || res == CAT_TASK_CANCELED) {
        row_final(c, t->task_id, "CANCELED",
                  "canceled by CANCEL MATERIALIZED VIEW TASK; the view is as it was");
        mvp_reply_clear(reply);
        mvp_reply_err(reply, 1317, "70100", "refresh task %llu of %s.%s was canceled",
                      (unsigned long long)t->task_id, vdb, vname);
        return CAT_TASK_CANCELED;
    }
    if (!started) {
        row_final(c, t->task_id, "FAILED",
                  reply->kind == MVP_REPLY_ERR ? reply->err_msg : "failed");
    }
    return CAT_TASK_FAILED;
}

/* C lost the backend during the task: the end RES of task TID recorded on
 * a new link, or deferred until the backend is back (flush_deferred).
 * Returns the new link (NULL when none could be opened). */
static MYSQL *
record_end_after_loss(MYSQL *c, uint64_t tid, enum cat_task_result res, const char *vdb,
                      const char *vname, const struct mvp_reply *reply)
{
    char err[512];
    const char *status = res == CAT_TASK_CANCELED ? "CANCELED" : "FAILED";
    const char *why = reply->kind == MVP_REPLY_ERR && reply->err_msg != NULL
                          ? reply->err_msg
                          : "backend went away";
    mysql_close(c);
    c = cat_connect(err, sizeof(err));
    if (res == CAT_TASK_FAILED || res == CAT_TASK_CANCELED) {
        if (c == NULL || row_final_at(c, tid, status, why, 0) < 0) {
            defer_end(tid, status, why, vdb, vname);
        }
    }
    return c;
}

int
cat_task_run(const char *db, const char *name, enum cat_refresh_method mode, char **parts,
             size_t n_parts, enum cat_task_origin origin, struct mvp_reply *reply,
             enum cat_task_result *result)
{
    struct cat_snapshot *snap = cat_snapshot_acquire();
    struct cat_mv *mv = cat_snapshot_find(snap, db, name);
    struct task_ent *t;
    char vdb[256], vname[256], err[512];
    uint64_t mv_id, other = 0;
    MYSQL *c;
    enum cat_task_result res = CAT_TASK_FAILED, engine_res = CAT_TASK_FAILED;
    enum cat_refresh_strategy strategy;
    int rc = -1;

    if (result != NULL) {
        *result = CAT_TASK_FAILED;
    }
    if (mv == NULL) {
        mvp_reply_err(reply, 1146, "42S02", "Materialized view '%s.%s' doesn't exist",
                      db ? db : "", name);
        cat_snapshot_release(snap);
        return -1;
    }
    snprintf(vdb, sizeof(vdb), "%s", mv->db);
    snprintf(vname, sizeof(vname), "%s", mv->name);
    mv_id = mv->id;
    strategy = cat_refresh_pick(mv, mode);
    t = cat_xcalloc(1, sizeof(*t));
    snprintf(t->key, sizeof(t->key), "%s", mv->key);
    cat_snapshot_release(snap);

    if (!ent_add(t, &other)) {
        free(t);
        mvp_reply_err(reply, 1205, "HY000", "a refresh of %s.%s is already running (task %llu)",
                      vdb, vname, (unsigned long long)other);
        if (result != NULL) {
            *result = CAT_TASK_BUSY;
        }
        return -1;
    }

    c = cat_connect(err, sizeof(err));
    if (c == NULL) {
        mvp_reply_err(reply, 2003, "HY000", "refresh of %s.%s: %s", vdb, vname, err);
        goto done;
    }
    flush_deferred(c, false);
    t->task_id = row_pending(c, mv_id, vdb, vname, cat_refresh_method_name(mode));
    if (t->task_id == 0) {
        mvp_reply_err(reply, (uint16_t)(mysql_errno(c) ? mysql_errno(c) : 1105), "HY000",
                      "refresh of %s.%s: cannot record its task: %s", vdb, vname,
                      mysql_error(c));
        goto done;
    }
    /* a slot in the process-wide limit; CANCEL may end the wait */
    if (!slot_take(t)) {
        mvp_reply_err(reply, 1317, "70100", "refresh task %llu of %s.%s was canceled",
                      (unsigned long long)t->task_id, vdb, vname);
        res = CAT_TASK_CANCELED;
        row_final(c, t->task_id, "CANCELED", "canceled before it started");
        goto done;
    }

    cat_log(CAT_LOG_INFO, "refresh task %llu of %s.%s (%s, %s) starts",
            (unsigned long long)t->task_id, vdb, vname, cat_refresh_method_name(mode),
            origin == CAT_TASK_SCHEDULE ? "schedule"
            : origin == CAT_TASK_COMMIT ? "on commit"
            : origin == CAT_TASK_BUILD  ? "build"
                                        : "manual");
    t_cur = t;
    rc = run_engine(vdb, vname, strategy, mode, parts, n_parts, reply, &engine_res);
    t_cur = NULL;
    slot_give();
    res = record_end(c, t, rc, engine_res, vdb, vname, reply);
done:
    if (c != NULL && mysql_ping(c) != 0) {
        /* the backend went away during the task: record the end on a new
         * link, or once the backend is back (flush_deferred) */
        c = record_end_after_loss(c, t->task_id, res, vdb, vname, reply);
    }
    if (c != NULL) {
        mysql_close(c);
    }
    {
        char key[512];
        snprintf(key, sizeof(key), "%s", t->key);
        ent_remove(t);
        if (result != NULL) {
            *result = res;
        }
        cat_sched_task_done(key, res);
    }
    return rc == 0 ? 0 : -1;
}

/* KILL QUERY backend thread CONN over a new service connection (best effort). */
static void
kill_query(unsigned long conn)
{
    char err[512], sql[64];
    MYSQL *k;
    if (conn == 0) {
        return;
    }
    k = cat_connect(err, sizeof(err));
    if (k == NULL) {
        cat_log(CAT_LOG_WARN, "cancel: %s", err);
        return;
    }
    snprintf(sql, sizeof(sql), "KILL QUERY %lu", conn);
    if (cat_q(k, sql, err, sizeof(err), NULL) < 0) {
        cat_log(CAT_LOG_DEBUG, "cancel: %s", err);
    }
    mysql_close(k);
}

/* Status of row TID and its conn_id/owner/view into the out params; -1 when absent. */
static int
row_get(MYSQL *c, uint64_t tid, char *status, size_t slen, unsigned long *conn, char *owner,
        size_t olen, char *key, size_t klen)
{
    struct cat_buf q = {0};
    MYSQL_RES *res;
    MYSQL_ROW row;
    int rc = -1;
    cat_buf_puts(&q, "SELECT status, conn_id, owner, mv_db, mv_name FROM ");
    cat_buf_qname(&q, cat_meta_schema(), "tasks");
    cat_buf_printf(&q, " WHERE task_id = %llu", (unsigned long long)tid);
    if (mysql_real_query(c, q.p, q.len) == 0 && (res = mysql_store_result(c)) != NULL) {
        if ((row = mysql_fetch_row(res)) != NULL) {
            snprintf(status, slen, "%s", row[0] ? row[0] : "");
            *conn = row[1] ? strtoul(row[1], NULL, 10) : 0;
            snprintf(owner, olen, "%s", row[2] ? row[2] : "");
            cat_make_key(key, klen, row[3] ? row[3] : "", row[4] ? row[4] : "");
            rc = 0;
        }
        mysql_free_result(res);
    }
    cat_buf_free(&q);
    return rc;
}

void
cat_task_set_run_by(const char *who)
{
    snprintf(t_run_by, sizeof(t_run_by), "%s", who != NULL ? who : "");
}

int
cat_task_run_by(uint64_t task_id, char *who, size_t wlen)
{
    struct cat_buf q = {0};
    char err[512];
    MYSQL *c = cat_connect(err, sizeof(err));
    MYSQL_RES *res;
    MYSQL_ROW row;
    int rc = -1;
    if (wlen > 0) {
        who[0] = '\0';
    }
    if (c == NULL) {
        return -1;
    }
    cat_buf_puts(&q, "SELECT run_by FROM ");
    cat_buf_qname(&q, cat_meta_schema(), "tasks");
    cat_buf_printf(&q, " WHERE task_id = %llu", (unsigned long long)task_id);
    if (mysql_real_query(c, q.p, q.len) == 0 && (res = mysql_store_result(c)) != NULL) {
        rc = 0;
        if ((row = mysql_fetch_row(res)) != NULL) {
            snprintf(who, wlen, "%s", row[0] ? row[0] : "");
            rc = 1;
        }
        mysql_free_result(res);
    }
    cat_buf_free(&q);
    mysql_close(c);
    return rc;
}

int
cat_task_cancel(const char *db, const char *name, uint64_t task_id, struct mvp_reply *reply)
{
    struct cat_snapshot *snap = cat_snapshot_acquire();
    struct cat_mv *mv = cat_snapshot_find(snap, db, name);
    struct task_ent *t;
    char key[512], err[512], status[32], owner[64], rkey[512];
    unsigned long conn = 0;
    MYSQL *c;
    int i;
    if (mv == NULL) {
        mvp_reply_err(reply, 1146, "42S02", "Materialized view '%s.%s' doesn't exist",
                      db ? db : "", name);
        cat_snapshot_release(snap);
        return -1;
    }
    snprintf(key, sizeof(key), "%s", mv->key);
    cat_snapshot_release(snap);

    pthread_mutex_lock(&g_mu);
    for (t = g_tasks; t != NULL; t = t->next) {
        if (t->task_id == task_id) {
            break;
        }
    }
    if (t != NULL && strcmp(t->key, key) != 0) {
        pthread_mutex_unlock(&g_mu);
        mvp_reply_err(reply, 1094, "HY000", "Task %llu is not a task of materialized view %s",
                      (unsigned long long)task_id, key);
        return -1;
    }
    if (t != NULL) {
        atomic_store(&t->cancel, true);
        pthread_cond_broadcast(&g_cv);
        pthread_mutex_unlock(&g_mu);
        for (i = 0; i < 300; i++) {
            bool alive = false;
            unsigned long cur = 0;
            struct task_ent *o;
            pthread_mutex_lock(&g_mu);
            for (o = g_tasks; o != NULL; o = o->next) {
                if (o->task_id == task_id) {
                    alive = true;
                    cur = atomic_load(&o->conn_id);
                }
            }
            pthread_mutex_unlock(&g_mu);
            if (!alive) {
                break;
            }
            /* the flag stops the next step; KILL QUERY stops the current one */
            if (i % 10 == 0 && cur != 0) {
                kill_query(cur);
            }
            usleep(100000);
        }
        mvp_reply_ok(reply, 0, "task canceled; the view is as it was");
        return 0;
    }
    pthread_mutex_unlock(&g_mu);

    /* not a task of this proxy: its row says who runs it */
    c = cat_connect(err, sizeof(err));
    if (c == NULL) {
        mvp_reply_err(reply, 2003, "HY000", "cancel: %s", err);
        return -1;
    }
    if (row_get(c, task_id, status, sizeof(status), &conn, owner, sizeof(owner), rkey,
                sizeof(rkey)) < 0) {
        mvp_reply_err(reply, 1094, "HY000", "Unknown task %llu", (unsigned long long)task_id);
        mysql_close(c);
        return -1;
    }
    if (strcmp(rkey, key) != 0) {
        mvp_reply_err(reply, 1094, "HY000", "Task %llu is not a task of materialized view %s",
                      (unsigned long long)task_id, key);
        mysql_close(c);
        return -1;
    }
    if (strcmp(status, "RUNNING") != 0 && strcmp(status, "PENDING") != 0) {
        mvp_reply_err(reply, 1105, "HY000", "Task %llu is not running (status %s)",
                      (unsigned long long)task_id, status);
        mysql_close(c);
        return -1;
    }
    for (i = 0; i < 60; i++) {
        if (conn != 0) {
            kill_query(conn);
        }
        usleep(500000);
        if (row_get(c, task_id, status, sizeof(status), &conn, owner, sizeof(owner), rkey,
                    sizeof(rkey)) < 0 ||
            (strcmp(status, "RUNNING") != 0 && strcmp(status, "PENDING") != 0)) {
            break;
        }
    }
    mysql_close(c);
    mvp_reply_ok(reply, 0, "task canceled; the view is as it was");
    return 0;
}

int
cat_task_stop_all(void)
{
    struct task_ent *t;
    unsigned long conns[64];
    int n = 0, i;
    pthread_mutex_lock(&g_mu);
    for (t = g_tasks; t != NULL; t = t->next) {
        atomic_store(&t->cancel, true);
        if (n < 64) {
            conns[n] = atomic_load(&t->conn_id);
        }
        n++;
    }
    pthread_cond_broadcast(&g_cv);
    pthread_mutex_unlock(&g_mu);
    for (i = 0; i < n && i < 64; i++) {
        kill_query(conns[i]);
    }
    return n;
}

/* Drop the staging tables of view DB.NAME when no refresh of it runs (waits up to 5 s). */
static void
drop_leftovers(MYSQL *c, const char *db, const char *name)
{
    struct cat_buf q = {0}, lk = {0};
    char err[256];
    MYSQL_RES *res;
    MYSQL_ROW row;
    bool locked = false;
    char key[512];
    cat_make_key(key, sizeof(key), db, name);
    cat_buf_printf(&lk, "mvproxy.refresh.%s", key);
    cat_buf_puts(&q, "SELECT GET_LOCK(");
    cat_buf_lit(&q, lk.p);
    cat_buf_puts(&q, ", 5)");
    if (mysql_real_query(c, q.p, q.len) == 0 && (res = mysql_store_result(c)) != NULL) {
        row = mysql_fetch_row(res);
        locked = row != NULL && row[0] != NULL && strcmp(row[0], "1") == 0;
        mysql_free_result(res);
    }
    cat_buf_free(&q);
    if (locked) {
        struct cat_buf n1 = {0}, n2 = {0};
        cat_buf_printf(&n1, "%s__mvp_new", name);
        cat_buf_printf(&n2, "%s__mvp_old", name);
        cat_buf_puts(&q, "DROP TABLE IF EXISTS ");
        cat_buf_qname(&q, db, n1.p);
        cat_buf_puts(&q, ", ");
        cat_buf_qname(&q, db, n2.p);
        if (cat_q(c, q.p, err, sizeof(err), NULL) < 0) {
            cat_log(CAT_LOG_WARN, "cleaning refresh leftovers of %s: %s", key, err);
        }
        cat_buf_free(&q);
        cat_buf_free(&n1);
        cat_buf_free(&n2);
        cat_buf_puts(&q, "SELECT RELEASE_LOCK(");
        cat_buf_lit(&q, lk.p);
        cat_buf_puts(&q, ")");
        cat_q(c, q.p, err, sizeof(err), NULL);
        cat_buf_free(&q);
    }
    cat_buf_free(&lk);
}

int
cat_task_recover(MYSQL *c)
{
    struct cat_buf q = {0};
    char err[256];
    MYSQL_RES *res;
    MYSQL_ROW row;
    int n = 0;
    struct orphan {
        uint64_t tid;               /* task row */
        unsigned long conn;         /* its refresh connection, 0 = none */
        uint64_t mv_id;             /* its view */
        char db[65], name[65];      /* ... by name */
    } *o = NULL;
    size_t no = 0, i;
    /* ends of our own tasks the backend was not there to take */
    flush_deferred(c, true);
    cat_buf_puts(&q, "SELECT task_id, conn_id, mv_id, mv_db, mv_name FROM ");
    cat_buf_qname(&q, cat_meta_schema(), "tasks");
    cat_buf_puts(&q, " WHERE status IN ('PENDING', 'RUNNING') AND (owner IS NULL OR owner = ''"
                     " OR IS_USED_LOCK(CONCAT('mvproxy.owner.', owner)) IS NULL)");
    if (mysql_real_query(c, q.p, q.len) != 0 || (res = mysql_store_result(c)) == NULL) {
        cat_log(CAT_LOG_WARN, "recovering refresh tasks: %s", mysql_error(c));
        cat_buf_free(&q);
        return 0;
    }
    cat_buf_free(&q);
    o = cat_xcalloc(mysql_num_rows(res) + 1, sizeof(*o));
    while ((row = mysql_fetch_row(res)) != NULL) {
        o[no].tid = strtoull(row[0], NULL, 10);
        o[no].conn = row[1] ? strtoul(row[1], NULL, 10) : 0;
        o[no].mv_id = strtoull(row[2], NULL, 10);
        snprintf(o[no].db, sizeof(o[no].db), "%s", row[3] ? row[3] : "");
        snprintf(o[no].name, sizeof(o[no].name), "%s", row[4] ? row[4] : "");
        no++;
    }
    mysql_free_result(res);
    for (i = 0; i < no; i++) {
        if (o[i].conn != 0) {
            /* the dead proxy's refresh query may still run on the backend:
             * end its session (it rolls back; its GET_LOCK goes) */
            cat_buf_puts(&q, "SELECT 1 FROM information_schema.PROCESSLIST WHERE ID = ");
            cat_buf_printf(&q, "%lu AND USER = SUBSTRING_INDEX(CURRENT_USER(), '@', 1)",
                           o[i].conn);
            if (mysql_real_query(c, q.p, q.len) == 0 && (res = mysql_store_result(c)) != NULL) {
                bool alive = mysql_num_rows(res) > 0;
                mysql_free_result(res);
                if (alive) {
                    char sql[64];
                    snprintf(sql, sizeof(sql), "KILL %lu", o[i].conn);
                    cat_q(c, sql, err, sizeof(err), NULL);
                    cat_log(CAT_LOG_WARN, "killed the orphaned refresh session %lu of task %llu",
                            o[i].conn, (unsigned long long)o[i].tid);
                }
            }
            cat_buf_free(&q);
        }
        cat_buf_puts(&q, "UPDATE ");
        cat_buf_qname(&q, cat_meta_schema(), "tasks");
        cat_buf_puts(&q, " SET status = 'FAILED', error_msg = 'the proxy running it stopped"
                         " (task recovered at restart or by another proxy)', start_time ="
                         " COALESCE(start_time, create_time), finish_time = NOW(3)");
        cat_buf_printf(&q, " WHERE task_id = %llu AND status IN ('PENDING', 'RUNNING')",
                       (unsigned long long)o[i].tid);
        if (cat_q(c, q.p, err, sizeof(err), NULL) == 0 && mysql_affected_rows(c) > 0) {
            n++;
        }
        cat_buf_free(&q);
        cat_buf_puts(&q, "UPDATE ");
        cat_buf_qname(&q, cat_meta_schema(), "mvs");
        cat_buf_printf(&q, " SET refresh_state = 'FAILED' WHERE id = %llu AND refresh_state ="
                           " 'RUNNING'", (unsigned long long)o[i].mv_id);
        cat_q(c, q.p, err, sizeof(err), NULL);
        cat_buf_free(&q);
        if (o[i].db[0] != '\0' && o[i].name[0] != '\0') {
            drop_leftovers(c, o[i].db, o[i].name);
        }
    }
    if (n > 0) {
        cat_log(CAT_LOG_WARN, "marked %d refresh task(s) of stopped proxies FAILED", n);
    }
    free(o);
    return n;
}
