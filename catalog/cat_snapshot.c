/*
 * cat_snapshot.c - publication of immutable catalog snapshots and the
 * read-side lookups the query path uses (see cat.h for the concurrency
 * model).
 *
 *   admin thread                      worker threads
 *   build new snapshot ──publish──>   g_current (mutex only to swap/acquire)
 *                                     per query: cat_version() (atomic load);
 *                                     re-acquire only when it moved
 */
#include "cat.h"
#include "cat_util.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>


static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static struct cat_snapshot *g_current;      /* holds one reference */
static _Atomic uint64_t g_version;

int64_t
cat_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

uint64_t
cat_version(void)
{
    return atomic_load(&g_version);
}

struct cat_snapshot *
cat_snapshot_acquire(void)
{
    struct cat_snapshot *s;
    pthread_mutex_lock(&g_lock);
    s = g_current;
    if (s != NULL) {
        atomic_fetch_add(&s->refcnt, 1);
    }
    pthread_mutex_unlock(&g_lock);
    return s;
}

void
cat_snapshot_ref(struct cat_snapshot *snap)
{
    atomic_fetch_add(&snap->refcnt, 1);
}

void
cat_snapshot_release(struct cat_snapshot *snap)
{
    if (snap == NULL) {
        return;
    }
    if (atomic_fetch_sub(&snap->refcnt, 1) == 1) {
        cat_snapshot_free(snap);
    }
}

void
cat_snapshot_publish(struct cat_snapshot *snap)
{
    struct cat_snapshot *old;
    atomic_store(&snap->refcnt, 1);
    pthread_mutex_lock(&g_lock);
    old = g_current;
    g_current = snap;
    atomic_store(&g_version, snap->version);
    pthread_mutex_unlock(&g_lock);
    cat_snapshot_release(old);
}

void
cat_snapshot_unpublish(void)
{
    struct cat_snapshot *old;
    pthread_mutex_lock(&g_lock);
    old = g_current;
    g_current = NULL;
    pthread_mutex_unlock(&g_lock);
    cat_snapshot_release(old);
}

/* Write "db.name" lower-cased into BUF (BUFLEN bytes); returns BUF. */
char *
cat_make_key(char *buf, size_t buflen, const char *db, const char *name)
{
    size_t i;
    snprintf(buf, buflen, "%s.%s", db ? db : "", name ? name : "");
    for (i = 0; buf[i] != '\0'; i++) {
        buf[i] = (char)tolower((unsigned char)buf[i]);
    }
    return buf;
}

struct cat_mv *
cat_snapshot_find(const struct cat_snapshot *snap, const char *db, const char *name)
{
    char key[512];
    struct cat_mv *mv = NULL;
    if (snap == NULL || name == NULL) {
        return NULL;
    }
    cat_make_key(key, sizeof(key), db, name);
    HASH_FIND_STR(snap->mvs, key, mv);
    return mv;
}

const struct cat_table *
cat_snapshot_table(const struct cat_snapshot *snap, const char *db, const char *table)
{
    char key[512];
    struct cat_table *t = NULL;
    if (snap == NULL || table == NULL) {
        return NULL;
    }
    cat_make_key(key, sizeof(key), db, table);
    HASH_FIND_STR(snap->tables, key, t);
    return t;
}

bool
cat_mv_usable(const struct cat_mv *mv, int64_t now_ms, char *why, size_t whylen)
{
    /* the view's last refresh is loaded before its stale mark, as before
     * the rule moved to cat_freshness.c */
    int64_t last_refresh = atomic_load(&mv->state->last_refresh_ms);
    int64_t stale = atomic_load(&mv->state->stale_since_ms);
    return cat_fresh_usable(mv, CAT_FRESH_VIEW, last_refresh, stale, now_ms, why, whylen);
}

bool
cat_fresh_usable(const struct cat_mv *mv, enum cat_fresh_scope scope, int64_t last_refresh_ms,
                 int64_t stale_ms, int64_t now_ms, char *why, size_t whylen)
{
    if (scope == CAT_FRESH_VIEW) {
        if (!mv->rewrite_enabled) {
            snprintf(why, whylen, "query rewrite is disabled for this view");
            return false;
        }
        if (mv->consistency == CAT_CONSISTENCY_DISABLE) {
            snprintf(why, whylen, "query_rewrite_consistency is DISABLE");
            return false;
        }
        if (last_refresh_ms == 0) {
            snprintf(why, whylen, "view has never been refreshed (BUILD DEFERRED)");
            return false;
        }
    }
    if (stale_ms == 0 || mv->consistency == CAT_CONSISTENCY_LOOSE) {
        return true;
    }
    /* Strict: with grace_period 0 a stale view is never used, even by a
     * query that arrives in the same millisecond as the write. */
    if (now_ms - stale_ms < mv->grace_period_s * 1000) {
        return true;
    }
    if (why != NULL) {
        snprintf(why, whylen, "view is stale for %.3f s (since an observed base-table change), "
                 "beyond grace_period %lld s", (double)(now_ms - stale_ms) / 1000.0,
                 (long long)mv->grace_period_s);
    }
    return false;
}
