/*
 * cat_sync.c - catalog version polling and state adoption between proxies
 * that share one metadata schema (see cat_sync.h).
 */
#include "cat_sync.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mysql.h>

#include "cat.h"
#include "cat_core.h"
#include "cat_store.h"
#include "cat_util.h"
#include "cat_part_engine.h"
#include "cat_freshness.h"
#include "cat_part.h"

static _Atomic uint64_t g_seen;               /* stored version this proxy's catalog matches */
static _Thread_local bool t_reloading;        /* publishing a reload: do not bump */

/* Stored catalog version, or -1 on error. */
static int64_t
stored_version(MYSQL *c)
{
    struct cat_buf q = {0};
    MYSQL_RES *res;
    MYSQL_ROW row;
    int64_t v = -1;
    cat_buf_puts(&q, "SELECT v FROM ");
    cat_buf_qname(&q, cat_meta_schema(), "meta");
    cat_buf_puts(&q, " WHERE k = 'catalog_version'");
    if (mysql_real_query(c, q.p, q.len) == 0 && (res = mysql_store_result(c)) != NULL) {
        row = mysql_fetch_row(res);
        v = row != NULL && row[0] != NULL ? strtoll(row[0], NULL, 10) : 0;
        mysql_free_result(res);
    }
    cat_buf_free(&q);
    return v;
}

void
cat_sync_init(MYSQL *c)
{
    int64_t v = stored_version(c);
    atomic_store(&g_seen, v > 0 ? (uint64_t)v : 0);
}

int
cat_sync_bump(MYSQL *c)
{
    struct cat_buf q = {0};
    char err[256];
    uint64_t v;
    if (t_reloading) {
        return 0;
    }
    cat_buf_puts(&q, "UPDATE ");
    cat_buf_qname(&q, cat_meta_schema(), "meta");
    cat_buf_puts(&q, " SET v = LAST_INSERT_ID(CAST(v AS UNSIGNED) + 1)"
                     " WHERE k = 'catalog_version'");
    if (cat_q(c, q.p, err, sizeof(err), NULL) < 0) {
        cat_log(CAT_LOG_WARN, "bumping the catalog version: %s", err);
        cat_buf_free(&q);
        return -1;
    }
    cat_buf_free(&q);
    v = mysql_insert_id(c);
    /* only when nobody else bumped in between is our catalog the stored one */
    {
        uint64_t prev = v - 1;
        atomic_compare_exchange_strong(&g_seen, &prev, v);
    }
    return 0;
}

/* Adopt a refresh result stored for view MV (newer than ours). */
static void
adopt_view(struct cat_mv *mv, int64_t last, int64_t stale, int64_t rows, const char *rstate)
{
    struct cat_mv_state *st = mv->state;
    cat_fresh_adopt(mv, last, stale);
    atomic_store(&st->rows, rows);
    if (rstate != NULL) {
        int rs = strcmp(rstate, "SUCCESS") == 0   ? CAT_REFRESH_SUCCESS
                 : strcmp(rstate, "FAILED") == 0  ? CAT_REFRESH_FAILED
                 : strcmp(rstate, "RUNNING") == 0 ? CAT_REFRESH_RUNNING
                                                  : CAT_REFRESH_INIT;
        atomic_store(&st->refresh_state, rs);
    }
}

/* Merge the stored partition states of partitioned view MV into its state. */
static void
adopt_parts(MYSQL *c, struct cat_mv *mv, int64_t view_last)
{
    struct cat_pstate *ps = mv->state->parts;
    MYSQL_RES *res = cat_part_store_rows(c, mv->id);
    MYSQL_ROW row;
    if (res == NULL) {
        return;
    }
    pthread_mutex_lock(&ps->mu);
    while ((row = mysql_fetch_row(res)) != NULL) {
        cat_fresh_adopt_part(ps, atoi(row[0]), strtoll(row[1], NULL, 10),
                             strtoll(row[2], NULL, 10), strtoll(row[3], NULL, 10),
                             strtoll(row[4], NULL, 10), strtoll(row[5], NULL, 10), view_last);
    }
    pthread_mutex_unlock(&ps->mu);
    mysql_free_result(res);
}

/* Adopt newer refresh results of every view of the current snapshot. */
static int
poll_states(MYSQL *c)
{
    struct cat_buf q = {0};
    struct cat_snapshot *snap;
    MYSQL_RES *res;
    MYSQL_ROW row;
    cat_buf_puts(&q, "SELECT id, last_refresh_ms, stale_since_ms, row_count, refresh_state FROM ");
    cat_buf_qname(&q, cat_meta_schema(), "mvs");
    if (mysql_real_query(c, q.p, q.len) != 0 || (res = mysql_store_result(c)) == NULL) {
        cat_buf_free(&q);
        return -1;
    }
    cat_buf_free(&q);
    snap = cat_snapshot_acquire();
    while (snap != NULL && (row = mysql_fetch_row(res)) != NULL) {
        uint64_t id = strtoull(row[0], NULL, 10);
        int64_t last = strtoll(row[1], NULL, 10);
        struct cat_mv *mv, *tmp, *hit = NULL;
        HASH_ITER(hh, snap->mvs, mv, tmp) {
            if (mv->id == id) {
                hit = mv;
                break;
            }
        }
        if (hit == NULL || last <= atomic_load(&hit->state->last_refresh_ms)) {
            continue;
        }
        if (atomic_load(&hit->state->refresh_state) == CAT_REFRESH_RUNNING) {
            continue; /* our own refresh is settling it */
        }
        if (hit->part != NULL && hit->state->parts != NULL) {
            adopt_parts(c, hit, last);
        }
        adopt_view(hit, last, strtoll(row[2], NULL, 10), strtoll(row[3], NULL, 10), row[4]);
        cat_log(CAT_LOG_DEBUG, "adopted the refresh of %s made by another proxy", hit->key);
    }
    mysql_free_result(res);
    cat_snapshot_release(snap);
    return 0;
}

/* Reload the views from the store, keeping the states of those that stay. */
static int
reload(MYSQL *c)
{
    struct cat_mv *loaded = NULL, *l, *tmp;
    struct cat_snapshot *snap;
    char err[512];
    int rc;
    if (cat_store_load(c, &loaded, err, sizeof(err)) < 0) {
        cat_log(CAT_LOG_WARN, "reloading the catalog: %s", err);
        return -1;
    }
    snap = cat_snapshot_acquire();
    HASH_ITER(hh, loaded, l, tmp) {
        struct cat_mv *cur, *ct, *hit = NULL;
        if (snap != NULL) {
            HASH_ITER(hh, snap->mvs, cur, ct) {
                if (cur->id == l->id) {
                    hit = cur;
                    break;
                }
            }
        }
        if (hit != NULL && strcmp(hit->query_sql, l->query_sql) == 0 &&
            cat_streq_ci(hit->db, l->db)) {
            /* same view: keep the shared freshness state and the partitioning */
            struct cat_mv_state *old = l->state;
            l->state = hit->state;
            atomic_fetch_add(&l->state->refcnt, 1);
            if (atomic_fetch_sub(&old->refcnt, 1) == 1) {
                cat_pstate_free(old->parts);
                free(old);
            }
            if (hit->part != NULL) {
                l->part = cat_part_spec_dup(hit->part);
                cat_part_apply_props(l->part, l->properties_json);
            }
        } else {
            cat_load_partitioning(c, l);
        }
    }
    cat_snapshot_release(snap);
    t_reloading = true;
    rc = cat_publish_mvs(c, loaded, err, sizeof(err));
    t_reloading = false;
    if (rc < 0) {
        cat_log(CAT_LOG_WARN, "publishing the reloaded catalog: %s", err);
    }
    return rc;
}

int
cat_sync_poll(MYSQL *c)
{
    int64_t v = stored_version(c);
    if (v < 0) {
        return -1;
    }
    if ((uint64_t)v != atomic_load(&g_seen)) {
        cat_writer_lock();
        /* read again under the lock: our own writer may just have bumped it */
        v = stored_version(c);
        if (v >= 0 && (uint64_t)v != atomic_load(&g_seen)) {
            if (reload(c) == 0) {
                atomic_store(&g_seen, (uint64_t)v);
                cat_log(CAT_LOG_INFO, "catalog changed by another proxy (version %lld): reloaded",
                        (long long)v);
            }
        }
        cat_writer_unlock();
    }
    return poll_states(c);
}
