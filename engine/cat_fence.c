/*
 * cat_fence.c - the freshness fence (issue 12, SPEC §5): an answer from a
 * view reflects every change committed more than grace_period before the
 * query, including changes that bypassed the proxy and that the binlog
 * follower has not read yet when the query arrives.
 *
 *   session (worker thread)            fence thread            follower thread
 *   cat_fence_begin(w, grace, now)
 *     last fetch recent enough? ─yes─> target = its position
 *     no: ticket = next generation,
 *         want = 1 ───────────────────> SHOW MASTER STATUS
 *                                        (one per batch: every
 *                                        waiter that arrived
 *                                        before it started)
 *                                       target of those waiters
 *                                        = the position read
 *   WAKE <──────────────────────────────── follower at target? ─┐
 *   WAKE <──────────────────────────────────────────────────────┴── after each event:
 *   cat_fence_poll(w): follower ≥ target                            cat_fence_follower_at
 *     and no probe-deferred change pending -> PASSED
 *
 * Why it is exact: a change whose commit returned before the query arrived
 * is in the binlog (MariaDB writes the binlog before the engine commit),
 * so it lies before any position read by a SHOW MASTER STATUS that
 * started after the arrival; once the follower has handled every event up
 * to that position its marks are in the freshness state (cat_freshness.c)
 * that the next rewrite decision reads. With a grace period G, a position
 * read by a fetch that started no earlier than arrival - G is enough:
 * changes after it are inside the grace period anyway.
 *
 * What it costs: nothing when no view answers; otherwise, under grace 0,
 * one position fetch round trip shared by every query that arrives while
 * the previous fetch is in flight, plus the follower's lag (typically well
 * under a millisecond on a local backend); the session waits without
 * blocking its worker. The session gives up after --freshness-fence-ms
 * (default 50) and relays the original.
 *
 * Locking: g_fc.mu guards everything in g_fc; the follower's position is
 * an atomic read without it. WAKE callbacks run under g_fc.mu and only
 * signal. cat_part_probe_pending takes the probe's lock, never under
 * g_fc.mu.
 */
#include "cat_fence.h"

#include <ctype.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cat_engine.h"
#include "cat_core.h"
#include "cat_util.h"
#include "cat_binlog.h"
#include "cat_probe.h"
#include "rw_limits.h"

/* Pause after a failed position fetch before the next try (ms). */
#define FC_RETRY_MS 20

static struct {
    pthread_mutex_t mu;             /* guards the fields below */
    pthread_cond_t cv;              /* wakes the fence thread (want, stop) */
    pthread_t thread;               /* the fence thread */
    bool running;                   /* thread created, not joined */
    bool stop;                      /* ask the thread to stop */
    bool want;                      /* a waiter needs the fetch of generation next_gen */
    uint64_t next_gen;              /* generation of the next fetch to start (from 1) */
    uint64_t done_gen;              /* last fetch that completed (0 none) */
    uint64_t done_key;              /* its position */
    int64_t done_start_ms;          /* when it started (wall clock ms) */
    struct cat_fence_waiter *waiters; /* linked waiters */
    uint64_t n_fenced, n_at_once, n_waited, n_fetches; /* counters (cat_fence_stats) */
} g_fc = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER, .next_gen = 1};

static _Atomic uint64_t g_follower_key;    /* cat_fence_key of the follower's position */
static atomic_bool g_following;             /* the follower follows */
static _Atomic int g_n_waiters;             /* linked waiters (cheap check for the follower) */

uint64_t
cat_fence_key(const char *file, uint64_t pos)
{
    const char *dot = file != NULL ? strrchr(file, '.') : NULL;
    uint64_t seq = 0;
    if (dot != NULL) {
        const char *p;
        for (p = dot + 1; *p != '\0' && isdigit((unsigned char)*p); p++) {
            seq = seq * 10 + (uint64_t)(*p - '0');
            if (seq > 0xffffffu) {
                seq = 0xffffffu;
            }
        }
    }
    if (pos > 0xffffffffffull) {
        pos = 0xffffffffffull;
    }
    return seq << 40 | pos;
}

/* Link W (caller holds g_fc.mu). */
static void
link_waiter(struct cat_fence_waiter *w)
{
    w->prev = NULL;
    w->next = g_fc.waiters;
    if (g_fc.waiters != NULL) {
        g_fc.waiters->prev = w;
    }
    g_fc.waiters = w;
    w->linked = true;
    atomic_fetch_add(&g_n_waiters, 1);
}

/* Unlink W if linked (caller holds g_fc.mu). */
static void
unlink_waiter(struct cat_fence_waiter *w)
{
    if (!w->linked) {
        return;
    }
    if (w->prev != NULL) {
        w->prev->next = w->next;
    } else {
        g_fc.waiters = w->next;
    }
    if (w->next != NULL) {
        w->next->prev = w->prev;
    }
    w->prev = w->next = NULL;
    w->linked = false;
    atomic_fetch_sub(&g_n_waiters, 1);
}

/* Wake every waiter whose target KEY reaches (caller holds g_fc.mu). */
static void
wake_reached(uint64_t key)
{
    struct cat_fence_waiter *w;
    for (w = g_fc.waiters; w != NULL; w = w->next) {
        if (w->has_target && key >= w->target && w->wake != NULL) {
            w->wake(w->arg);
        }
    }
}

enum cat_fence_result
cat_fence_begin(struct cat_fence_waiter *w, int64_t grace_ms, int64_t now_ms,
                void (*wake)(void *arg), void *arg)
{
    bool at_once = false;
    memset(w, 0, sizeof(*w));
    if (!atomic_load(&g_following)) {
        return CAT_FENCE_OFF;
    }
    w->wake = wake;
    w->arg = arg;
    pthread_mutex_lock(&g_fc.mu);
    if (!g_fc.running) {
        pthread_mutex_unlock(&g_fc.mu);
        return CAT_FENCE_OFF;
    }
    g_fc.n_fenced++;
    if (grace_ms > 0 && g_fc.done_gen > 0 && g_fc.done_start_ms >= now_ms - grace_ms) {
        /* a position read within the grace period is enough */
        w->ticket = g_fc.done_gen;
        w->target = g_fc.done_key;
        w->has_target = true;
        at_once = atomic_load(&g_follower_key) >= w->target;
    } else {
        /* a fetch that starts after now: the next generation */
        w->ticket = g_fc.next_gen;
        g_fc.want = true;
        pthread_cond_signal(&g_fc.cv);
    }
    if (!at_once) {
        link_waiter(w);
    }
    pthread_mutex_unlock(&g_fc.mu);
    /* the probe's pending changes are read after the follower's position:
     * the follower defers a change before it publishes the position past
     * it, so a position that covers a deferral is never seen without it */
    if (at_once && !cat_part_probe_pending()) {
        pthread_mutex_lock(&g_fc.mu);
        g_fc.n_at_once++;
        pthread_mutex_unlock(&g_fc.mu);
        return CAT_FENCE_PASSED;
    }
    if (at_once) {
        /* the follower is there but a deferred change waits for the probe:
         * poll again later (the session's timer) */
        pthread_mutex_lock(&g_fc.mu);
        link_waiter(w);
        pthread_mutex_unlock(&g_fc.mu);
    }
    return CAT_FENCE_WAIT;
}

enum cat_fence_result
cat_fence_poll(struct cat_fence_waiter *w)
{
    bool reached;
    pthread_mutex_lock(&g_fc.mu);
    reached = w->has_target && atomic_load(&g_follower_key) >= w->target;
    pthread_mutex_unlock(&g_fc.mu);
    if (!reached || cat_part_probe_pending()) {
        return CAT_FENCE_WAIT;
    }
    pthread_mutex_lock(&g_fc.mu);
    unlink_waiter(w);
    g_fc.n_waited++;
    pthread_mutex_unlock(&g_fc.mu);
    return CAT_FENCE_PASSED;
}

void
cat_fence_end(struct cat_fence_waiter *w)
{
    pthread_mutex_lock(&g_fc.mu);
    unlink_waiter(w);
    pthread_mutex_unlock(&g_fc.mu);
}

void
cat_fence_stats(uint64_t *fenced, uint64_t *at_once, uint64_t *waited, uint64_t *fetches)
{
    pthread_mutex_lock(&g_fc.mu);
    if (fenced != NULL) {
        *fenced = g_fc.n_fenced;
    }
    if (at_once != NULL) {
        *at_once = g_fc.n_at_once;
    }
    if (waited != NULL) {
        *waited = g_fc.n_waited;
    }
    if (fetches != NULL) {
        *fetches = g_fc.n_fetches;
    }
    pthread_mutex_unlock(&g_fc.mu);
}

void
cat_fence_set_following(bool on)
{
    atomic_store(&g_following, on);
}

void
cat_fence_follower_at(const char *file, uint64_t pos)
{
    uint64_t key = cat_fence_key(file, pos);
    atomic_store(&g_follower_key, key);
    if (atomic_load(&g_n_waiters) == 0) {
        return;
    }
    pthread_mutex_lock(&g_fc.mu);
    wake_reached(key);
    pthread_mutex_unlock(&g_fc.mu);
}

/* The fence thread: one SHOW MASTER STATUS per batch of waiters. */
static void *
fence_main(void *arg)
{
    MYSQL *c = NULL;
    char err[600], file[256];
    bool warned = false;
    (void)arg;
    pthread_mutex_lock(&g_fc.mu);
    while (!g_fc.stop) {
        uint64_t gen, pos = 0, key;
        int64_t start;
        int rc;
        struct cat_fence_waiter *w;
        if (!g_fc.want) {
            pthread_cond_wait(&g_fc.cv, &g_fc.mu);
            continue;
        }
        gen = g_fc.next_gen++;
        g_fc.want = false;
        pthread_mutex_unlock(&g_fc.mu);
        start = cat_now_ms();
        if (c == NULL) {
            c = cat_connect_timeout(2, err, sizeof(err));
        }
        rc = c != NULL ? cat_binlog_master_end(c, file, sizeof(file), &pos, err, sizeof(err))
                       : -1;
        if (rc < 0) {
            if (!warned) {
                cat_log(CAT_LOG_WARN, "freshness fence: reading the binlog position: %s "
                                      "(queries that wait are relayed)", err);
                warned = true;
            }
            if (c != NULL) {
                mysql_close(c);
                c = NULL;
            }
        } else {
            warned = false;
        }
        key = rc == 0 ? cat_fence_key(file, pos) : 0;
        pthread_mutex_lock(&g_fc.mu);
        if (rc == 0) {
            g_fc.n_fetches++;
            g_fc.done_gen = gen;
            g_fc.done_key = key;
            g_fc.done_start_ms = start;
        }
        for (w = g_fc.waiters; w != NULL; w = w->next) {
            if (w->has_target || w->ticket > gen) {
                continue;
            }
            if (rc == 0) {
                w->target = key;
                w->has_target = true;
            } else {
                g_fc.want = true; /* the next fetch also starts after its arrival */
            }
        }
        if (rc == 0) {
            wake_reached(atomic_load(&g_follower_key));
        } else {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_nsec += FC_RETRY_MS * 1000000L;
            if (ts.tv_nsec >= 1000000000L) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000L;
            }
            if (!g_fc.stop) {
                pthread_cond_timedwait(&g_fc.cv, &g_fc.mu, &ts);
            }
        }
    }
    pthread_mutex_unlock(&g_fc.mu);
    if (c != NULL) {
        mysql_close(c);
    }
    return NULL;
}

int
cat_fence_start(void)
{
    pthread_mutex_lock(&g_fc.mu);
    if (g_fc.running) {
        pthread_mutex_unlock(&g_fc.mu);
        return 0;
    }
    g_fc.stop = false;
    if (rw_thread_create(&g_fc.thread, fence_main, NULL, false) != 0) {
        pthread_mutex_unlock(&g_fc.mu);
        cat_log(CAT_LOG_WARN, "freshness fence: cannot start its thread; fence off");
        return -1;
    }
    g_fc.running = true;
    pthread_mutex_unlock(&g_fc.mu);
    return 0;
}

void
cat_fence_stop(void)
{
    pthread_mutex_lock(&g_fc.mu);
    if (!g_fc.running) {
        pthread_mutex_unlock(&g_fc.mu);
        return;
    }
    g_fc.stop = true;
    pthread_cond_broadcast(&g_fc.cv);
    pthread_mutex_unlock(&g_fc.mu);
    pthread_join(g_fc.thread, NULL);
    pthread_mutex_lock(&g_fc.mu);
    g_fc.running = false;
    pthread_mutex_unlock(&g_fc.mu);
}
