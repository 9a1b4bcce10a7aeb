/*
 * cat_sched.c - the refresh scheduler thread (see cat_sched.h): per-view
 * jobs computed from the current snapshot every tick (100 ms or on a kick),
 * due views dispatched as tasks on detached threads within the task limit,
 * upstream-first ordering for layered views, backoff on failure.
 *
 *   tick ─ snapshot ─ for each view: job (trigger from its refresh clause)
 *        │               COMMIT: change_seq moved -> pending window
 *        │               SCHEDULE: next_ms
 *        │               failed: retry_at (2 s * 2^k, cap 300 s)
 *        ├ due and not held by an upstream view and a slot free -> task thread
 *        │   (held: an upstream view runs, is due, or is stale with a refresh
 *        │    of its own pending -- ON COMMIT burst or ON SCHEDULE)
 *        ├ every poll interval: cat_sync_poll (shared catalog, other proxies)
 *        └ every 10 s: owner lock check, cat_task_recover
 */
#include "cat_sched.h"
#include "rw_limits.h"

#include <ctype.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <mysql.h>

#include "cat.h"
#include "cat_core.h"
#include "cat_part.h"
#include "cat_refresh_clause.h"
#include "cat_reply.h"
#include "cat_task.h"
#include "cat_util.h"
#include "cat_part_engine.h"
#include "cat_sync.h"

#define RETRY_BASE_MS 2000
#define RETRY_CAP_MS 300000
#define MAX_DONE 64

/* Scheduler state of one view. */
struct job {
    char key[512];                  /* "db.name": hash key */
    char db[256];                   /* view database */
    char name[256];                 /* view name */
    uint64_t mv_id;                 /* catalog id */
    char *info;                     /* refresh_info of the clause the trigger was made from */
    struct cat_trigger tr;          /* parsed trigger */
    bool valid;                     /* tr parsed */
    uint64_t seen_seq;              /* change_seq last observed */
    int64_t first_change_ms;        /* COMMIT: first change of the pending burst, 0 = none */
    int64_t last_change_ms;         /* COMMIT: latest change of the burst */
    bool upstream_kick;             /* COMMIT: a view it reads finished a refresh */
    bool running;                   /* a task of ours runs */
    int fails;                      /* consecutive failures */
    int64_t retry_at_ms;            /* failed: not before this */
    int64_t next_ms;                /* SCHEDULE: next due time, 0 = compute */
    bool seen;                      /* mark-and-sweep against the snapshot */
    UT_hash_handle hh;              /* g_jobs */
};

/* Arguments of one task thread. */
struct run_arg {
    char key[512];                  /* view key */
    char db[256];                   /* view database */
    char name[256];                 /* view name */
    enum cat_refresh_method mode;   /* task mode */
    enum cat_task_origin origin;    /* schedule / commit */
};

static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_cv = PTHREAD_COND_INITIALIZER;
static pthread_t g_thread;
static bool g_started;
static bool g_stop;
static bool g_drain;                /* shutdown drain: start no new task (g_mu) */
static bool g_kicked;
static struct job *g_jobs;          /* by key; scheduler thread and task threads (g_mu) */
static int g_inflight;              /* task threads running (g_mu) */
static char *g_done[MAX_DONE];      /* keys of views whose task succeeded, not yet handled */
static size_t g_n_done;
static int64_t g_debounce_ms = 1000;
static int64_t g_poll_ms = 1000;

/* ---- triggers ---- */

/* Milliseconds of one UNIT word (singular/plural/abbreviated), 0 when unknown. */
static int64_t
unit_ms(const char *u, size_t n)
{
    static const struct {
        const char *w;              /* word */
        int64_t ms;                 /* its length */
    } units[] = {{"s", 1000},         {"sec", 1000},          {"secs", 1000},
                 {"second", 1000},    {"seconds", 1000},      {"m", 60000},
                 {"min", 60000},      {"mins", 60000},        {"minute", 60000},
                 {"minutes", 60000},  {"h", 3600000},         {"hour", 3600000},
                 {"hours", 3600000},  {"hr", 3600000},        {"d", 86400000},
                 {"day", 86400000},   {"days", 86400000},     {"w", 604800000},
                 {"week", 604800000}, {"weeks", 604800000}};
    size_t i;
    for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        if (strlen(units[i].w) == n && strncasecmp(units[i].w, u, n) == 0) {
            return units[i].ms;
        }
    }
    return 0;
}

/* "5 min" / "1 hour" / "30 seconds" -> ms, 0 when not understood. */
static int64_t
interval_ms(const char *s)
{
    char *end;
    long long n;
    const char *u;
    size_t ul;
    while (isspace((unsigned char)*s)) {
        s++;
    }
    n = strtoll(s, &end, 10);
    if (end == s || n <= 0) {
        return 0;
    }
    u = end;
    while (isspace((unsigned char)*u)) {
        u++;
    }
    ul = 0;
    while (isalpha((unsigned char)u[ul])) {
        ul++;
    }
    if (u[ul] != '\0' && !isspace((unsigned char)u[ul])) {
        return 0;
    }
    {
        int64_t m = unit_ms(u, ul);
        return m > 0 && n < INT64_MAX / m ? (int64_t)n * m : 0;
    }
}

/* "YYYY-MM-DD HH:MM:SS" local time -> unix ms, 0 when malformed. */
static int64_t
parse_ts(const char *s)
{
    struct tm tm;
    int y, mo, d, h = 0, mi = 0, se = 0;
    if (sscanf(s, "%d-%d-%d %d:%d:%d", &y, &mo, &d, &h, &mi, &se) < 3) {
        return 0;
    }
    memset(&tm, 0, sizeof(tm));
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = se;
    tm.tm_isdst = -1;
    return (int64_t)mktime(&tm) * 1000;
}

int
cat_trigger_of(const struct cat_refresh_clause *rc, struct cat_trigger *out, char *err,
               size_t errlen)
{
    memset(out, 0, sizeof(*out));
    out->mode = rc->method == CAT_RM_COMPLETE || rc->method == CAT_RM_FAST ? rc->method
                                                                          : CAT_RM_AUTO;
    out->never = rc->method == CAT_RM_NEVER;
    switch (rc->trigger) {
    case CAT_RT_NONE:
    case CAT_RT_MANUAL:
    case CAT_RT_DEMAND:
        break; /* nothing for the scheduler */
    case CAT_RT_COMMIT:
        out->kind = CAT_TRIG_COMMIT;
        break;
    case CAT_RT_SCHEDULE: {
        long long n = (long long)rc->every_n;
        const char *u = rc->unit != NULL ? rc->unit : "";
        if (n <= 0) {
            snprintf(err, errlen, "ON SCHEDULE EVERY needs a whole number > 0, not %lld", n);
            return -1;
        }
        if (*u == '\0') {
            snprintf(err, errlen, "ON SCHEDULE EVERY %lld needs a unit", n);
            return -1;
        }
        if (strcmp(u, "SECOND") == 0) {
            out->every_ms = n * 1000;
        } else if (strcmp(u, "MINUTE") == 0) {
            out->every_ms = n * 60000;
        } else if (strcmp(u, "HOUR") == 0) {
            out->every_ms = n * 3600000;
        } else if (strcmp(u, "DAY") == 0) {
            out->every_ms = n * 86400000;
        } else if (strcmp(u, "WEEK") == 0) {
            out->every_ms = n * 604800000;
        } else {
            snprintf(err, errlen,
                     "ON SCHEDULE unit %s is not supported (SECOND, MINUTE, HOUR, DAY, "
                     "WEEK)", u);
            return -1;
        }
        out->kind = CAT_TRIG_SCHEDULE;
        if (rc->starts != NULL && (out->starts_ms = parse_ts(rc->starts)) == 0) {
            snprintf(err, errlen, "STARTS needs 'yyyy-mm-dd hh:mm:ss'");
            return -1;
        }
        break;
    }
    case CAT_RT_EVERY:
        if ((out->every_ms = interval_ms(rc->interval != NULL ? rc->interval : "")) <= 0) {
            snprintf(err, errlen,
                     "EVERY (INTERVAL '...') needs 'n unit' with unit second, minute, hour, "
                     "day or week (e.g. '5 min')");
            return -1;
        }
        out->kind = CAT_TRIG_SCHEDULE;
        break;
    }
    if (out->never) {
        out->kind = CAT_TRIG_MANUAL;
    }
    return 0;
}

int
cat_sched_validate(const struct cat_refresh_clause *rc, struct mvp_reply *reply)
{
    struct cat_trigger tr;
    char err[256];
    if (cat_trigger_of(rc, &tr, err, sizeof(err)) < 0) {
        mvp_reply_err(reply, 1235, "42000", "%s", err);
        return -1;
    }
    return 0;
}

/* Is FROM reachable from TO's key through view bases? (depth-bounded DFS) */
static bool
reaches(const struct cat_snapshot *snap, const char *from, const char *target, int depth,
        char *who, size_t wholen)
{
    struct cat_mv *mv = NULL;
    size_t i;
    if (depth > 64) {
        return true; /* absurdly deep: treat as a cycle */
    }
    if (strcmp(from, target) == 0) {
        return true;
    }
    HASH_FIND_STR(snap->mvs, from, mv);
    if (mv == NULL) {
        return false;
    }
    for (i = 0; i < mv->n_bases; i++) {
        if (reaches(snap, mv->bases[i], target, depth + 1, who, wholen)) {
            if (who != NULL && who[0] == '\0') {
                snprintf(who, wholen, "%s", mv->key);
            }
            return true;
        }
    }
    return false;
}

bool
cat_sched_would_cycle(const struct cat_snapshot *snap, const char *key, char **bases, size_t n,
                      char *who, size_t wholen)
{
    size_t i;
    if (who != NULL && wholen > 0) {
        who[0] = '\0';
    }
    for (i = 0; snap != NULL && i < n; i++) {
        if (reaches(snap, bases[i], key, 0, who, wholen)) {
            if (who != NULL && who[0] == '\0') {
                snprintf(who, wholen, "%s", bases[i]);
            }
            return true;
        }
    }
    return false;
}

/* ---- jobs ---- */

/* Does view MV need a refresh (stale, partially stale, or never built)? */
static bool
needs_refresh(const struct cat_mv *mv)
{
    if (atomic_load(&mv->state->last_refresh_ms) == 0 ||
        atomic_load(&mv->state->stale_since_ms) != 0) {
        return true;
    }
    if (mv->part != NULL && mv->state->parts != NULL) {
        int64_t valid, total, stale;
        cat_part_counts(mv, &valid, &total, &stale);
        return valid < total || stale != 0;
    }
    return false;
}

/* Next SCHEDULE time after AFTER_MS for J's trigger. */
static int64_t
next_slot(const struct job *j, int64_t after_ms)
{
    int64_t iv = j->tr.every_ms, s = j->tr.starts_ms;
    if (s == 0) {
        return after_ms + iv;
    }
    if (after_ms < s) {
        return s;
    }
    return s + ((after_ms - s) / iv + 1) * iv;
}

/* Is view MV held by an upstream view (transitively) that runs or is due? */
static bool
held(const struct cat_snapshot *snap, const struct cat_mv *mv, int64_t now, int depth)
{
    size_t i;
    if (depth > 32) {
        return false;
    }
    for (i = 0; i < mv->n_bases; i++) {
        struct cat_mv *up = NULL;
        struct job *uj = NULL;
        HASH_FIND_STR(snap->mvs, mv->bases[i], up);
        if (up == NULL || up == mv) {
            continue;
        }
        if (cat_task_active(up->key)) {
            return true;
        }
        HASH_FIND_STR(g_jobs, up->key, uj);
        if (uj != NULL && uj->valid && !up->paused) {
            if (uj->running) {
                return true;
            }
            if (uj->tr.kind == CAT_TRIG_COMMIT &&
                (uj->first_change_ms != 0 || uj->upstream_kick) && needs_refresh(up)) {
                return true;
            }
            if (uj->tr.kind == CAT_TRIG_SCHEDULE && uj->next_ms != 0 && now >= uj->next_ms &&
                now >= uj->retry_at_ms) {
                return true;
            }
            if (uj->tr.kind == CAT_TRIG_SCHEDULE && uj->fails == 0 && needs_refresh(up)) {
                /* stale, and its own schedule will refresh it: reading it now
                 * would only leave us stale; its success triggers us (SPEC §6) */
                return true;
            }
        }
        if (held(snap, up, now, depth + 1)) {
            return true;
        }
    }
    return false;
}

static void *
run_main(void *arg)
{
    struct run_arg *a = arg;
    struct mvp_reply r;
    enum cat_task_result res = CAT_TASK_FAILED;
    struct job *j = NULL;
    int64_t now;
    mvp_reply_init(&r);
    cat_task_run(a->db, a->name, a->mode, NULL, 0, a->origin, &r, &res);
    if (res == CAT_TASK_FAILED && r.kind == MVP_REPLY_ERR) {
        cat_log(CAT_LOG_WARN, "scheduled refresh of %s failed: %s", a->key, r.err_msg);
    }
    mvp_reply_clear(&r);
    now = cat_now_ms();
    pthread_mutex_lock(&g_mu);
    HASH_FIND_STR(g_jobs, a->key, j);
    if (j != NULL) {
        j->running = false;
        switch (res) {
        case CAT_TASK_OK:
        case CAT_TASK_CANCELED:
            j->fails = 0;
            j->retry_at_ms = 0;
            break;
        case CAT_TASK_FAILED: {
            int64_t back = RETRY_BASE_MS;
            int k;
            j->fails++;
            for (k = 1; k < j->fails && back < RETRY_CAP_MS; k++) {
                back *= 2;
            }
            j->retry_at_ms = now + (back < RETRY_CAP_MS ? back : RETRY_CAP_MS);
            cat_log(CAT_LOG_INFO, "refresh of %s: retry %d in %lld ms", a->key, j->fails,
                    (long long)(j->retry_at_ms - now));
            break;
        }
        case CAT_TASK_BUSY:
            /* another proxy refreshes it: look again after a quiet period */
            j->retry_at_ms = now + 2000;
            if (j->tr.kind == CAT_TRIG_COMMIT) {
                j->first_change_ms = now;
                j->last_change_ms = now;
            }
            break;
        }
        if (j->tr.kind == CAT_TRIG_SCHEDULE && res != CAT_TASK_BUSY) {
            j->next_ms = next_slot(j, now);
        } else if (j->tr.kind == CAT_TRIG_SCHEDULE) {
            j->next_ms = next_slot(j, now);
        }
    }
    g_inflight--;
    g_kicked = true;
    pthread_cond_broadcast(&g_cv);
    pthread_mutex_unlock(&g_mu);
    free(a);
    return NULL;
}

/* Start a task thread for J (g_mu held). Returns 0 or -1. */
static int
dispatch(struct job *j, enum cat_refresh_method mode, enum cat_task_origin origin)
{
    struct run_arg *a = cat_xcalloc(1, sizeof(*a));
    pthread_t t;
    pthread_attr_t at;
    snprintf(a->key, sizeof(a->key), "%s", j->key);
    snprintf(a->db, sizeof(a->db), "%s", j->db);
    snprintf(a->name, sizeof(a->name), "%s", j->name);
    a->mode = mode;
    a->origin = origin;
    if (rw_thread_attr_init(&at, true) != 0) {
        free(a);
        return -1;
    }
    if (pthread_create(&t, &at, run_main, a) != 0) {
        pthread_attr_destroy(&at);
        free(a);
        return -1;
    }
    pthread_attr_destroy(&at);
    j->running = true;
    g_inflight++;
    return 0;
}

/* Handle the "upstream finished" notes: trigger ON COMMIT dependents (g_mu held). */
static void
handle_done(const struct cat_snapshot *snap, int64_t now)
{
    size_t i;
    for (i = 0; i < g_n_done; i++) {
        struct cat_mv *mv = NULL, *dep[64];
        size_t n, k;
        HASH_FIND_STR(snap->mvs, g_done[i], mv);
        if (mv != NULL) {
            n = cat_dependents(snap, mv, dep, 64);
            for (k = 0; k < n && k < 64; k++) {
                struct job *dj = NULL;
                HASH_FIND_STR(g_jobs, dep[k]->key, dj);
                if (dj != NULL && dj->valid && dj->tr.kind == CAT_TRIG_COMMIT) {
                    dj->upstream_kick = true;
                    if (dj->first_change_ms == 0) {
                        dj->first_change_ms = now;
                    }
                    dj->last_change_ms = now;
                }
            }
        }
        free(g_done[i]);
        g_done[i] = NULL;
    }
    g_n_done = 0;
}

/* One scheduling round over SNAP at NOW (g_mu held). C: the scheduler's connection. */
static void
tick(MYSQL *c, const struct cat_snapshot *snap, int64_t now)
{
    struct cat_mv *mv, *tmp;
    struct job *j, *jt;
    int max_tasks = cat_task_max();
    HASH_ITER(hh, g_jobs, j, jt) {
        j->seen = false;
    }
    HASH_ITER(hh, snap->mvs, mv, tmp) {
        uint64_t seq = atomic_load(&mv->state->change_seq);
        HASH_FIND_STR(g_jobs, mv->key, j);
        if (j == NULL || j->mv_id != mv->id) {
            if (j != NULL) {
                HASH_DEL(g_jobs, j);
                if (j->running) {
                    /* the view was dropped and re-created: let the thread finish */
                }
                free(j->info);
                free(j);
            }
            j = cat_xcalloc(1, sizeof(*j));
            snprintf(j->key, sizeof(j->key), "%s", mv->key);
            snprintf(j->db, sizeof(j->db), "%s", mv->db);
            snprintf(j->name, sizeof(j->name), "%s", mv->name);
            j->mv_id = mv->id;
            j->seen_seq = seq;
            HASH_ADD_STR(g_jobs, key, j);
        }
        j->seen = true;
        if (j->info == NULL || strcmp(j->info, mv->refresh_info ? mv->refresh_info : "") != 0) {
            char err[256];
            free(j->info);
            j->info = cat_xstrdup(mv->refresh_info ? mv->refresh_info : "");
            /* the text only tells that the clause changed; the trigger
             * comes from the parsed clause (cat_refresh_clause.h) */
            j->valid = cat_trigger_of(&mv->refresh, &j->tr, err, sizeof(err)) == 0;
            if (!j->valid) {
                cat_log(CAT_LOG_WARN, "view %s: %s; it is refreshed only on request", mv->key,
                        err);
            }
            j->next_ms = 0;
            if (j->valid && j->tr.kind == CAT_TRIG_COMMIT && needs_refresh(mv) &&
                atomic_load(&mv->state->last_refresh_ms) != 0) {
                /* changes while no proxy watched (or before the clause changed) */
                j->first_change_ms = now;
                j->last_change_ms = now;
            }
        }
        if (seq != j->seen_seq) {
            j->seen_seq = seq;
            if (j->first_change_ms == 0) {
                j->first_change_ms = now;
            }
            j->last_change_ms = now;
        }
    }
    HASH_ITER(hh, g_jobs, j, jt) {
        if (!j->seen && !j->running) {
            HASH_DEL(g_jobs, j);
            free(j->info);
            free(j);
        }
    }
    handle_done(snap, now);

    HASH_ITER(hh, snap->mvs, mv, tmp) {
        enum cat_refresh_method mode;
        enum cat_task_origin origin;
        bool due = false;
        HASH_FIND_STR(g_jobs, mv->key, j);
        if (j == NULL || !j->valid || j->running || j->tr.kind == CAT_TRIG_MANUAL ||
            mv->paused) {
            continue;
        }
        if (j->retry_at_ms != 0 && now < j->retry_at_ms) {
            continue;
        }
        if (j->tr.kind == CAT_TRIG_SCHEDULE) {
            if (j->next_ms == 0) {
                int64_t last = atomic_load(&mv->state->last_refresh_ms);
                j->next_ms = next_slot(j, last != 0 ? last : mv->created_ms);
                if (j->tr.starts_ms != 0 && last == 0 && mv->created_ms < j->tr.starts_ms) {
                    j->next_ms = j->tr.starts_ms;
                }
            }
            due = now >= j->next_ms || (j->fails > 0 && now >= j->retry_at_ms);
            origin = CAT_TASK_SCHEDULE;
        } else {
            int64_t quiet_at, cap_at;
            origin = CAT_TASK_COMMIT;
            if (j->fails > 0 && needs_refresh(mv)) {
                due = true;
            } else if (j->first_change_ms != 0 || j->upstream_kick) {
                quiet_at = j->last_change_ms + g_debounce_ms;
                cap_at = j->first_change_ms + 10 * g_debounce_ms;
                due = j->upstream_kick || now >= quiet_at || now >= cap_at;
                if (due && !needs_refresh(mv) && !j->upstream_kick) {
                    /* refreshed meanwhile (another proxy, a manual REFRESH) */
                    j->first_change_ms = 0;
                    j->last_change_ms = 0;
                    due = false;
                }
            }
        }
        if (!due || held(snap, mv, now, 0) || cat_task_active(mv->key)) {
            continue;
        }
        mode = j->tr.mode;
        if (origin == CAT_TASK_SCHEDULE && mode != CAT_RM_COMPLETE && !needs_refresh(mv) &&
            j->fails == 0) {
            /* AUTO / FAST on a fresh view: a NOT_REFRESH task, no backend work */
            if (c != NULL) {
                cat_task_record_noop(c, mv->id, mv->db, mv->name);
            }
            j->next_ms = next_slot(j, now);
            continue;
        }
        if (g_inflight >= max_tasks) {
            break; /* the limit: views later in the round wait for the next tick */
        }
        j->first_change_ms = 0;
        j->last_change_ms = 0;
        j->upstream_kick = false;
        if (dispatch(j, mode, origin) < 0) {
            cat_log(CAT_LOG_WARN, "cannot start a refresh thread for %s", mv->key);
        }
    }
}

/* Take (or check) the owner lock on *C; reconnect when the link is gone. */
static void
owner_lock(MYSQL **c)
{
    char err[512];
    if (*c != NULL && mysql_ping(*c) == 0) {
        return;
    }
    if (*c != NULL) {
        mysql_close(*c);
    }
    *c = cat_connect(err, sizeof(err));
    if (*c == NULL) {
        cat_log(CAT_LOG_WARN, "scheduler: %s", err);
        return;
    }
    {
        struct cat_buf q = {0}, n = {0};
        cat_buf_printf(&n, "mvproxy.owner.%s", cat_task_owner());
        cat_buf_puts(&q, "SELECT GET_LOCK(");
        cat_buf_lit(&q, n.p);
        cat_buf_puts(&q, ", 0)");
        if (cat_q(*c, q.p, err, sizeof(err), NULL) < 0) {
            cat_log(CAT_LOG_WARN, "scheduler: owner lock: %s", err);
        }
        cat_buf_free(&q);
        cat_buf_free(&n);
    }
}

static void *
sched_main(void *arg)
{
    MYSQL *c = NULL;
    int64_t last_recover = 0, last_poll = 0;
    (void)arg;
    owner_lock(&c);
    pthread_mutex_lock(&g_mu);
    while (!g_stop) {
        struct timespec ts;
        struct cat_snapshot *snap;
        int64_t now = cat_now_ms();
        pthread_mutex_unlock(&g_mu);
        /* every 10 s; every second while the backend is unreachable, so
         * that once it is back our owner lock (other proxies' recovery
         * takes our RUNNING tasks for orphans without it) and the task
         * ends it missed (cat_task_recover) follow soon */
        if (now - last_recover >= 10000 || (c == NULL && now - last_recover >= 1000)) {
            owner_lock(&c);
            if (c != NULL) {
                cat_task_recover(c);
            }
            last_recover = now;
        }
        if (now - last_poll >= g_poll_ms && c != NULL) {
            if (cat_sync_poll(c) < 0 && mysql_ping(c) != 0) {
                mysql_close(c);
                c = NULL;
                last_recover = 0;
            }
            last_poll = now;
        }
        snap = cat_snapshot_acquire();
        pthread_mutex_lock(&g_mu);
        if (snap != NULL && !g_drain) {
            tick(c, snap, cat_now_ms());
        }
        pthread_mutex_unlock(&g_mu);
        cat_snapshot_release(snap);
        pthread_mutex_lock(&g_mu);
        if (!g_kicked && !g_stop) {
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_nsec += 100 * 1000000L;
            if (ts.tv_nsec >= 1000000000L) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000L;
            }
            pthread_cond_timedwait(&g_cv, &g_mu, &ts);
        }
        g_kicked = false;
    }
    pthread_mutex_unlock(&g_mu);
    if (c != NULL) {
        mysql_close(c);
    }
    return NULL;
}

int
cat_sched_start(int64_t debounce_ms, int64_t poll_ms, char *err, size_t errlen)
{
    const char *e = getenv("MVPROXY_COMMIT_DEBOUNCE_MS");
    if (debounce_ms > 0) {
        g_debounce_ms = debounce_ms;
    } else if (e != NULL && atoll(e) > 0) {
        g_debounce_ms = atoll(e); /* fallback when not configured */
    }
    e = getenv("MVPROXY_CATALOG_POLL_MS");
    if (poll_ms > 0) {
        g_poll_ms = poll_ms;
    } else if (e != NULL && atoll(e) > 0) {
        g_poll_ms = atoll(e);
    }
    g_stop = false;
    g_drain = false;
    if (rw_thread_create(&g_thread, sched_main, NULL, false) != 0) {
        snprintf(err, errlen, "cannot start the refresh scheduler thread");
        return -1;
    }
    g_started = true;
    return 0;
}

void
cat_sched_stop(void)
{
    struct job *j, *jt;
    int i;
    size_t k;
    if (!g_started) {
        return;
    }
    pthread_mutex_lock(&g_mu);
    g_stop = true;
    pthread_cond_broadcast(&g_cv);
    pthread_mutex_unlock(&g_mu);
    pthread_join(g_thread, NULL);
    g_started = false;
    /* running refreshes fail (their view stays as it was) */
    cat_task_stop_all();
    for (i = 0; i < 300; i++) {
        int n;
        pthread_mutex_lock(&g_mu);
        n = g_inflight;
        pthread_mutex_unlock(&g_mu);
        if (n == 0) {
            break;
        }
        usleep(100000);
    }
    pthread_mutex_lock(&g_mu);
    HASH_ITER(hh, g_jobs, j, jt) {
        HASH_DEL(g_jobs, j);
        free(j->info);
        free(j);
    }
    for (k = 0; k < g_n_done; k++) {
        free(g_done[k]);
    }
    g_n_done = 0;
    pthread_mutex_unlock(&g_mu);
}

void
cat_sched_drain(void)
{
    pthread_mutex_lock(&g_mu);
    g_drain = true;
    pthread_mutex_unlock(&g_mu);
}

void
cat_sched_kick(void)
{
    pthread_mutex_lock(&g_mu);
    g_kicked = true;
    pthread_cond_broadcast(&g_cv);
    pthread_mutex_unlock(&g_mu);
}

void
cat_sched_task_done(const char *key, enum cat_task_result res)
{
    pthread_mutex_lock(&g_mu);
    if (res == CAT_TASK_OK && g_n_done < MAX_DONE) {
        g_done[g_n_done++] = cat_xstrdup(key);
    }
    g_kicked = true;
    pthread_cond_broadcast(&g_cv);
    pthread_mutex_unlock(&g_mu);
}
