/*
 * cat_probe.c - the partition probe (SPEC §5 fallback for writes that
 * bypass the proxy, and the binlog's undecodable row events):
 *
 *   binlog row event on the mapped base table of a partitioned view
 *      ── cat_part_defer ──> when the images cannot be decoded (the column
 *         not in the image, an undecodable type, the schema changed): the
 *         probe thread, woken at once
 *      while the follower runs, periodic probe rounds do nothing (it sees
 *      every committed change); they run only without the binlog
 *   probe thread (every MVPROXY_PROBE_INTERVAL_MS, default 2000 ms, or when
 *   woken): for each partitioned view with a mapped base table
 *      cheap signal: information_schema.TABLES UPDATE_TIME, TABLE_ROWS,
 *      DATA_LENGTH of the base (skipped when the binlog asked);
 *      exact signal when it moved: per view partition key
 *        SELECT key, COUNT(*), BIT_XOR(CRC32(CONCAT_WS(...all columns)))
 *        FROM base GROUP BY key
 *      compared with the fingerprints taken at the view's last refresh
 *      start: a changed / new / vanished key marks that partition, dated
 *      at the previous probe (the last time it was seen unchanged) or the
 *      binlog event time, whichever is earlier.
 *   Baselines: a refresh compares, then takes a strong one; after a
 *   restart the probe takes a weak one (writes made while the proxy was
 *   down are not in any baseline), and a binlog row event for a view with
 *   no strong baseline is not deferred: the view is marked whole.
 *   Deferred changes survive a stop: before the binlog follower stores
 *   its position it calls cat_part_probe_settle(), which probes every view
 *   with a pending change, or marks it whole when that fails.
 *
 * What the probe cannot see: a write that leaves COUNT and the CRC32
 * XOR unchanged (a collision, or an UPDATE that writes identical values,
 * which does not change the view either); the cheap signal's UPDATE_TIME
 * is per second and NULL after a restart, TABLE_ROWS is an estimate, so
 * without the binlog a write is seen when DATA_LENGTH/TABLE_ROWS/UPDATE_TIME
 * move (a same-second UPDATE that keeps the size can be missed until the
 * next write moves them). Writes through the proxy never depend on it.
 */
#include "cat_probe.h"
#include "cat_part.h"
#include "rw_limits.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cat_fresh.h"
#include "cat_freshness.h"
#include <mysql.h>

#include "cat.h"
#include "cat_calendar.h"
#include "cat_core.h"
#include "cat_util.h"
#include "cat_part_track.h"
#include "cat_rowimage.h"
#include "rw_lex.h"

/* ------------------------------------------------------------ probe */

static _Atomic int g_probe_stop;
static _Atomic int g_binlog_covers;         /* cat_part_probe_binlog_covers() */
static _Atomic int g_probe_wake;
static pthread_t g_probe_thread;
static bool g_probe_running;
static pthread_mutex_t g_probe_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_probe_cv = PTHREAD_COND_INITIALIZER;

void
cat_part_key_sql(struct cat_buf *b, const char *col, enum cat_punit floor, enum cat_punit u)
{
    struct cat_buf inner = {0}, c = {0};
    cat_buf_ident(&c, col);
    /* derivation floor first, then the partition unit */
    if (floor == CAT_PU_MONTH) {
        cat_buf_printf(&inner, "DATE_FORMAT(%s, '%%Y-%%m-01')", c.p);
    } else if (floor == CAT_PU_YEAR) {
        cat_buf_printf(&inner, "DATE_FORMAT(%s, '%%Y-01-01')", c.p);
    } else if (floor == CAT_PU_QUARTER) {
        cat_buf_printf(&inner, "(MAKEDATE(YEAR(%s), 1) + INTERVAL (QUARTER(%s) - 1) QUARTER)",
                       c.p, c.p);
    } else if (floor == CAT_PU_WEEK) {
        cat_buf_printf(&inner, "(DATE(%s) - INTERVAL WEEKDAY(%s) DAY)", c.p, c.p);
    } else {
        cat_buf_printf(&inner, "DATE(%s)", c.p);
    }
    switch (u) {
    case CAT_PU_WEEK:
        cat_buf_printf(b, "(DATE(%s) - INTERVAL WEEKDAY(%s) DAY)", inner.p, inner.p);
        break;
    case CAT_PU_MONTH:
        cat_buf_printf(b, "DATE_FORMAT(%s, '%%Y-%%m-01')", inner.p);
        break;
    case CAT_PU_QUARTER:
        cat_buf_printf(b, "(MAKEDATE(YEAR(%s), 1) + INTERVAL (QUARTER(%s) - 1) QUARTER)",
                       inner.p, inner.p);
        break;
    case CAT_PU_YEAR:
        cat_buf_printf(b, "DATE_FORMAT(%s, '%%Y-01-01')", inner.p);
        break;
    default:
        cat_buf_puts(b, inner.p);
        break;
    }
    cat_buf_free(&inner);
    cat_buf_free(&c);
}

static void
key_sql(struct cat_buf *b, const struct cat_part_spec *s)
{
    cat_part_key_sql(b, s->base_col, s->base_floor, s->unit);
}

/* Per-key fingerprints of MV's base table: parallel arrays; -1 on error. */
struct fp {
    size_t n;                       /* keys */
    int64_t *key;                   /* partition key (day), CAT_DAY_MIN for NULL */
    char **sig;                     /* "count:xor" */
};

static void
fp_free(struct fp *f)
{
    size_t i;
    for (i = 0; i < f->n; i++) {
        free(f->sig[i]);
    }
    free(f->key);
    free(f->sig);
    memset(f, 0, sizeof(*f));
}

/* Per-key fingerprints of MV's base table into OUT; WHERE (NULL: none)
 * restricts the rows read. */
static int
fingerprint_where(MYSQL *c, const struct cat_snapshot *snap, const struct cat_mv *mv,
                  const char *where, struct fp *out)
{
    const struct cat_part_spec *s = mv->part;
    struct cat_table *t = NULL;
    struct cat_buf q = {0};
    MYSQL_RES *res;
    MYSQL_ROW row;
    size_t i;
    const char *dot = strchr(s->base_key, '.');
    char *dbn;

    memset(out, 0, sizeof(*out));
    HASH_FIND_STR(snap->tables, s->base_key, t);
    if (t == NULL || t->n_cols == 0 || dot == NULL) {
        return -1;
    }
    cat_buf_puts(&q, "SELECT ");
    key_sql(&q, s);
    cat_buf_puts(&q, ", CONCAT(COUNT(*), ':', BIT_XOR(CRC32(CONCAT_WS(0x1f");
    for (i = 0; i < t->n_cols; i++) {
        cat_buf_puts(&q, ", ");
        cat_buf_ident(&q, t->cols[i].name);
        cat_buf_puts(&q, ", ISNULL(");
        cat_buf_ident(&q, t->cols[i].name);
        cat_buf_puts(&q, ")");
    }
    cat_buf_puts(&q, ")))) FROM ");
    dbn = cat_xstrndup(s->base_key, (size_t)(dot - s->base_key));
    cat_buf_qname(&q, dbn, dot + 1);
    free(dbn);
    if (where != NULL) {
        cat_buf_puts(&q, " WHERE ");
        cat_buf_puts(&q, where);
    }
    cat_buf_puts(&q, " GROUP BY 1");
    if (mysql_real_query(c, q.p, q.len) != 0 || (res = mysql_store_result(c)) == NULL) {
        cat_log(CAT_LOG_WARN, "partition probe of %s: %s", mv->key, mysql_error(c));
        cat_buf_free(&q);
        return -1;
    }
    cat_buf_free(&q);
    out->key = cat_xcalloc(mysql_num_rows(res) + 1, sizeof(*out->key));
    out->sig = cat_xcalloc(mysql_num_rows(res) + 1, sizeof(*out->sig));
    while ((row = mysql_fetch_row(res)) != NULL) {
        int64_t d = CAT_DAY_MIN;
        if (row[0] != NULL && !cat_day_parse(row[0], &d)) {
            continue;
        }
        out->key[out->n] = d;
        out->sig[out->n] = cat_xstrdup(row[1] ? row[1] : "");
        out->n++;
    }
    mysql_free_result(res);
    return 0;
}

static int
fingerprint(MYSQL *c, const struct cat_snapshot *snap, const struct cat_mv *mv, struct fp *out)
{
    return fingerprint_where(c, snap, mv, NULL, out);
}

/* Per-view probe memory (probe thread, refresh, binlog checkpoint; under g_fp_mu). */
struct fp_entry {
    char *key;                      /* view key */
    uint64_t id;                    /* view id (detects drop + re-create) */
    struct fp base;                 /* fingerprints at the baseline */
    bool has_base;                  /* base / table_sig were taken */
    bool weak;                      /* base taken at start-up, not at a refresh: the binlog
                                     * backlog may predate it, so cat_part_defer does not
                                     * rely on it (the view is marked whole instead) */
    char *table_sig;                /* cheap signal at the baseline */
    int64_t seen_ms;                /* time of the baseline / last probe */
    int64_t pending_ms;             /* binlog asked at this event time (0 = no) */
    uint64_t pending_gen;           /* bumped by every cat_part_defer */
    UT_hash_handle hh;
};
static struct fp_entry *g_fp;
static pthread_mutex_t g_fp_mu = PTHREAD_MUTEX_INITIALIZER;

static void
fp_entry_free(struct fp_entry *e)
{
    fp_free(&e->base);
    free(e->table_sig);
    free(e->key);
    free(e);
}

/* The entry of MV, or NULL (a stale entry of a dropped namesake is
 * removed); caller holds g_fp_mu. */
static struct fp_entry *
fp_lookup(const struct cat_mv *mv)
{
    struct fp_entry *e = NULL;
    HASH_FIND_STR(g_fp, mv->key, e);
    if (e != NULL && e->id != mv->id) {
        HASH_DEL(g_fp, e);
        fp_entry_free(e);
        e = NULL;
    }
    return e;
}

bool
cat_part_probe_pending(void)
{
    struct fp_entry *e, *tmp;
    bool any = false;
    pthread_mutex_lock(&g_fp_mu);
    HASH_ITER(hh, g_fp, e, tmp) {
        if (e->pending_ms != 0) {
            any = true;
            break;
        }
    }
    pthread_mutex_unlock(&g_fp_mu);
    return any;
}

/* The entry of MV, created empty when missing; caller holds g_fp_mu. */
static struct fp_entry *
fp_get(const struct cat_mv *mv)
{
    struct fp_entry *e = fp_lookup(mv);
    if (e == NULL) {
        e = cat_xcalloc(1, sizeof(*e));
        e->key = cat_xstrdup(mv->key);
        e->id = mv->id;
        HASH_ADD_KEYPTR(hh, g_fp, e->key, strlen(e->key), e);
    }
    return e;
}

/* Cheap signal of MV's base table (caller frees) or NULL. */
static char *
table_sig(MYSQL *c, const struct cat_mv *mv)
{
    const char *key = mv->part->base_key, *dot = strchr(key, '.');
    struct cat_buf q = {0};
    char *dbn, *v;
    cat_buf_puts(&q, "SELECT CONCAT_WS('/', IFNULL(UPDATE_TIME, '-'), TABLE_ROWS, DATA_LENGTH) "
                     "FROM information_schema.TABLES WHERE TABLE_SCHEMA = ");
    dbn = cat_xstrndup(key, (size_t)(dot - key));
    cat_buf_lit(&q, dbn);
    free(dbn);
    cat_buf_puts(&q, " AND TABLE_NAME = ");
    cat_buf_lit(&q, dot + 1);
    v = cat_q_value(c, q.p, NULL);
    cat_buf_free(&q);
    return v;
}

/* Find KEY in F; index or -1. */
static ssize_t
fp_find(const struct fp *f, int64_t key)
{
    size_t i;
    for (i = 0; i < f->n; i++) {
        if (f->key[i] == key) {
            return (ssize_t)i;
        }
    }
    return -1;
}

static void
mark_key(struct cat_mv *mv, int64_t key, int64_t when)
{
    if (key == CAT_DAY_MIN) {
        cat_part_mark_range(mv, 0, 0, true, false, when);
    } else {
        cat_part_mark_range(mv, key, cat_unit_next(key, mv->part->unit), false, true, when);
    }
}

/* How probe_view() treats the baseline. */
enum probe_mode {
    PROBE_ROUND,                    /* periodic / woken: needs a baseline, may use the cheap signal */
    PROBE_REFRESH,                  /* refresh start: compare when there is a baseline, then
                                     * take a strong one */
    PROBE_STARTUP,                  /* no baseline yet: take a weak one, mark nothing */
};

/*
 * Probe MV (mapped, partitioned) over C: compare the per-key fingerprints
 * with the baseline and mark the keys that changed, dated at the previous
 * probe or the deferred binlog event, whichever is earlier; the current
 * figures become the baseline. Returns false when the backend could not be
 * read (a deferred change then stays pending).
 */
static bool
probe_view(MYSQL *c, const struct cat_snapshot *snap, struct cat_mv *mv, int64_t now,
           enum probe_mode mode)
{
    struct fp_entry *e;
    struct fp cur;
    char *sig;
    int64_t when, pending;
    uint64_t gen;
    size_t i;
    bool have_base;

    pthread_mutex_lock(&g_fp_mu);
    e = fp_get(mv);
    have_base = e->has_base;
    pending = e->pending_ms;
    gen = e->pending_gen;
    when = e->seen_ms > 0 ? e->seen_ms : now;
    if (pending > 0 && pending < when) {
        when = pending;
    }
    pthread_mutex_unlock(&g_fp_mu);
    if (mode == PROBE_ROUND && !have_base) {
        return true; /* no baseline yet: the next refresh (or start-up round) takes one */
    }
    if (mode == PROBE_STARTUP && have_base) {
        return true;
    }
    if (mode == PROBE_ROUND && pending == 0 && atomic_load(&g_binlog_covers)) {
        /* the binlog follower sees every committed change and marks it
         * (exactly from the row images, or by handing it here as pending):
         * a periodic round has nothing to find */
        return true;
    }
    sig = table_sig(c, mv);
    if (mode == PROBE_ROUND) {
        pthread_mutex_lock(&g_fp_mu);
        e = fp_get(mv);
        if (pending == 0 && sig != NULL && e->table_sig != NULL &&
            strcmp(sig, e->table_sig) == 0) {
            e->seen_ms = now;
            pthread_mutex_unlock(&g_fp_mu);
            free(sig);
            return true;
        }
        pthread_mutex_unlock(&g_fp_mu);
    }
    if (fingerprint(c, snap, mv, &cur) != 0) {
        free(sig);
        return false;
    }
    atomic_fetch_add(&mv->state->parts->probe_scans, 1);
    cat_log(CAT_LOG_DEBUG, "partition probe of %s: fingerprinted %s (%s)", mv->key,
            mv->part->base_key, mode == PROBE_ROUND ? (pending ? "binlog change" : "round")
                                : mode == PROBE_REFRESH ? "refresh baseline" : "start-up");
    pthread_mutex_lock(&g_fp_mu);
    e = fp_get(mv);
    if (e->has_base && mode != PROBE_STARTUP) {
        for (i = 0; i < cur.n; i++) {
            ssize_t j = fp_find(&e->base, cur.key[i]);
            if (j < 0 || strcmp(e->base.sig[j], cur.sig[i]) != 0) {
                mark_key(mv, cur.key[i], when);
            }
        }
        for (i = 0; i < e->base.n; i++) {
            if (fp_find(&cur, e->base.key[i]) < 0) {
                mark_key(mv, e->base.key[i], when);
            }
        }
    }
    /* the new figures are the baseline: a change is reported once (the
     * partition stays stale until a refresh takes a new baseline) */
    fp_free(&e->base);
    e->base = cur;
    e->has_base = true;
    if (mode == PROBE_STARTUP) {
        e->weak = true;
    } else if (mode == PROBE_REFRESH) {
        e->weak = false;
    }
    free(e->table_sig);
    e->table_sig = sig;
    e->seen_ms = now;
    if (e->pending_gen == gen) {
        e->pending_ms = 0; /* else a later event asked meanwhile: probe again */
    }
    pthread_mutex_unlock(&g_fp_mu);
    return true;
}

void
cat_part_probe_baseline(MYSQL *c, struct cat_mv *mv)
{
    struct cat_snapshot *snap;
    if (mv->part == NULL || mv->part->base_key == NULL || mv->state->parts == NULL) {
        return;
    }
    snap = cat_snapshot_acquire();
    if (!probe_view(c, snap, mv, cat_now_ms(), PROBE_REFRESH)) {
        /* no new baseline: a pending change stays pending (settled by the
         * next probe or checkpoint) */
        cat_log(CAT_LOG_WARN, "partition probe baseline of %s failed", mv->key);
    }
    cat_snapshot_release(snap);
}

bool
cat_part_probe_partial_ok(const struct cat_mv *mv)
{
    struct fp_entry *e;
    bool ok;
    if (mv->part == NULL || mv->part->base_key == NULL || mv->state->parts == NULL ||
        (mv->part->base_floor != CAT_PU_NONE && mv->part->base_floor != CAT_PU_DAY)) {
        return false;
    }
    pthread_mutex_lock(&g_fp_mu);
    e = fp_lookup(mv);
    ok = e != NULL && e->has_base && !e->weak && e->pending_ms == 0;
    pthread_mutex_unlock(&g_fp_mu);
    return ok;
}

bool
cat_part_probe_baseline_parts(MYSQL *c, struct cat_mv *mv, const struct cat_ppart *parts,
                              size_t n)
{
    struct cat_snapshot *snap;
    struct cat_buf w = {0};
    struct fp cur, merged = {0};
    struct fp_entry *e;
    size_t i, k;
    int y, m, d;
    bool ok;

    if (!cat_part_probe_partial_ok(mv)) {
        return false;
    }
    if (n == 0) {
        return true;
    }
    /* base_floor NONE / DAY: key = unit_floor(DATE(col)), and the ranges
     * are unit-aligned, so "key in [lo, hi)" is "col >= lo AND col < hi":
     * a predicate on the base column itself, which prunes its partitions */
    cat_buf_puts(&w, "(");
    for (i = 0; i < n; i++) {
        cat_buf_puts(&w, i > 0 ? " OR " : "");
        cat_buf_ident(&w, mv->part->base_col);
        if (parts[i].is_null) {
            cat_buf_puts(&w, " IS NULL");
            continue;
        }
        cat_day_to_ymd(parts[i].lo, &y, &m, &d);
        cat_buf_printf(&w, " >= '%04d-%02d-%02d' AND ", y, m, d);
        cat_buf_ident(&w, mv->part->base_col);
        cat_day_to_ymd(parts[i].hi, &y, &m, &d);
        cat_buf_printf(&w, " < '%04d-%02d-%02d'", y, m, d);
    }
    cat_buf_puts(&w, ")");
    snap = cat_snapshot_acquire();
    ok = fingerprint_where(c, snap, mv, w.p, &cur) == 0;
    cat_snapshot_release(snap);
    cat_buf_free(&w);
    if (!ok) {
        return false;
    }
    pthread_mutex_lock(&g_fp_mu);
    e = fp_lookup(mv);
    if (e == NULL || !e->has_base || e->weak) {
        /* the baseline went away meanwhile: leave it to the next round */
        pthread_mutex_unlock(&g_fp_mu);
        fp_free(&cur);
        return false;
    }
    /* the baseline's keys outside the ranges, then the fresh figures of the
     * keys inside (a key gone from the base is simply no longer there);
     * the table signal and the probe time stay those of the last full
     * probe, so a change elsewhere since then is still found (and dated no
     * later than it happened) by the next round */
    merged.key = cat_xcalloc(e->base.n + cur.n + 1, sizeof(*merged.key));
    merged.sig = cat_xcalloc(e->base.n + cur.n + 1, sizeof(*merged.sig));
    for (i = 0; i < e->base.n; i++) {
        int64_t key = e->base.key[i];
        bool inside = false;
        for (k = 0; k < n && !inside; k++) {
            inside = parts[k].is_null ? key == CAT_DAY_MIN
                                      : key != CAT_DAY_MIN && key >= parts[k].lo &&
                                            key < parts[k].hi;
        }
        if (!inside) {
            merged.key[merged.n] = key;
            merged.sig[merged.n] = e->base.sig[i];
            e->base.sig[i] = NULL;
            merged.n++;
        }
    }
    for (i = 0; i < cur.n; i++) {
        merged.key[merged.n] = cur.key[i];
        merged.sig[merged.n] = cur.sig[i];
        cur.sig[i] = NULL;
        merged.n++;
    }
    fp_free(&e->base);
    e->base = merged;
    pthread_mutex_unlock(&g_fp_mu);
    fp_free(&cur);
    return true;
}

void
cat_part_probe_once(MYSQL *c, int64_t now_ms)
{
    struct cat_snapshot *snap = cat_snapshot_acquire();
    struct cat_mv *mv, *tmp;
    if (snap == NULL) {
        return;
    }
    HASH_ITER(hh, snap->mvs, mv, tmp) {
        if (mv->part != NULL && mv->part->base_key != NULL && mv->state->parts != NULL) {
            cat_part_bounds_refresh(c, mv);
            if (atomic_load(&mv->state->last_refresh_ms) != 0) {
                /* after a restart: a weak baseline for the writes to come */
                (void)probe_view(c, snap, mv, now_ms, PROBE_STARTUP);
            }
            (void)probe_view(c, snap, mv, now_ms, PROBE_ROUND);
        }
    }
    cat_snapshot_release(snap);
}

int
cat_part_probe_settle(MYSQL *c)
{
    struct cat_snapshot *snap = cat_snapshot_acquire();
    struct cat_mv *mv, *tmp;
    int n = 0;
    if (snap == NULL) {
        return 0;
    }
    HASH_ITER(hh, snap->mvs, mv, tmp) {
        struct fp_entry *e;
        int64_t pending = 0;
        int tries;
        if (mv->part == NULL || mv->part->base_key == NULL || mv->state->parts == NULL) {
            continue;
        }
        for (tries = 0; tries < 3; tries++) {
            pthread_mutex_lock(&g_fp_mu);
            e = fp_lookup(mv);
            pending = e != NULL ? e->pending_ms : 0;
            pthread_mutex_unlock(&g_fp_mu);
            if (pending == 0 || !probe_view(c, snap, mv, cat_now_ms(), PROBE_ROUND)) {
                break;
            }
        }
        if (pending == 0) {
            continue;
        }
        pthread_mutex_lock(&g_fp_mu);
        e = fp_lookup(mv);
        if (e != NULL && e->pending_ms != 0) {
            pending = e->pending_ms;
            e->pending_ms = 0;
        } else {
            pending = 0;
        }
        pthread_mutex_unlock(&g_fp_mu);
        if (pending != 0) {
            /* could not narrow it: every partition, conservatively */
            cat_part_mark_range(mv, CAT_DAY_MIN, CAT_DAY_MAX, true, false, pending);
            cat_log(CAT_LOG_INFO, "partition probe of %s could not run: every partition "
                    "marked stale", mv->key);
            n++;
        }
    }
    cat_snapshot_release(snap);
    return n;
}

/*
 * A binlog row event on table KEY at WHEN_MS: for the partitioned views
 * whose mapped base table it is and that have a baseline taken at a
 * refresh, ask the probe to narrow it to partitions (woken at once) and
 * claim them in M so the caller does not mark them whole. Returns the
 * number of views deferred.
 */
size_t
cat_part_defer(const struct cat_snapshot *snap, const char *key, struct cat_marked *m,
               int64_t when_ms)
{
    struct cat_table_index *ix = NULL;
    size_t j, n = 0;
    if (snap == NULL) {
        return 0;
    }
    {
        /* row events of a partition refresh on the view's own storage table
         * (it DELETEs and INSERTs in place; row events carry no thread id) */
        struct cat_mv *self = NULL;
        HASH_FIND_STR(snap->mvs, key, self);
        if (self != NULL && self->state->parts != NULL &&
            cat_now_ms() < atomic_load(&self->state->parts->own_until_ms)) {
            cat_marked_claim(m, self);
        }
    }
    if (!g_probe_running) {
        return 0;
    }
    HASH_FIND_STR(snap->by_table, key, ix);
    for (j = 0; ix != NULL && j < ix->n; j++) {
        struct cat_mv *mv = ix->mvs[j];
        struct fp_entry *e;
        bool deferred = false;
        if (!cat_part_maps_table(mv, key) || cat_marked_has(m, mv)) {
            continue;
        }
        pthread_mutex_lock(&g_fp_mu);
        e = fp_lookup(mv);
        if (e != NULL && e->has_base && !e->weak) {
            if (e->pending_ms == 0 || when_ms < e->pending_ms) {
                e->pending_ms = when_ms > 0 ? when_ms : 1;
            }
            e->pending_gen++;
            deferred = true;
        }
        pthread_mutex_unlock(&g_fp_mu);
        if (deferred) {
            /* else no baseline to compare with: the caller marks it whole */
            cat_marked_claim(m, mv);
            n++;
        }
    }
    if (n > 0) {
        pthread_mutex_lock(&g_probe_mu);
        atomic_store(&g_probe_wake, 1);
        pthread_cond_signal(&g_probe_cv);
        pthread_mutex_unlock(&g_probe_mu);
    }
    return n;
}

void
cat_part_probe_binlog_covers(bool on)
{
    atomic_store(&g_binlog_covers, on ? 1 : 0);
}

static void *
probe_main(void *arg)
{
    MYSQL *c = NULL;
    const char *env = getenv("MVPROXY_PROBE_INTERVAL_MS");
    long interval = env != NULL ? strtol(env, NULL, 10) : 2000;
    (void)arg;
    if (interval < 50) {
        interval = 50;
    }
    pthread_mutex_lock(&g_probe_mu);
    while (!atomic_load(&g_probe_stop)) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += interval / 1000;
        ts.tv_nsec += (interval % 1000) * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        if (!atomic_exchange(&g_probe_wake, 0)) {
            pthread_cond_timedwait(&g_probe_cv, &g_probe_mu, &ts);
        }
        atomic_store(&g_probe_wake, 0);
        if (atomic_load(&g_probe_stop)) {
            break;
        }
        pthread_mutex_unlock(&g_probe_mu);
        if (c == NULL) {
            char err[512];
            c = cat_connect_timeout(30, err, sizeof(err));
            if (c == NULL) {
                cat_log(CAT_LOG_WARN, "partition probe: %s (will retry)", err);
            }
        }
        if (c != NULL) {
            cat_part_probe_once(c, cat_now_ms());
            if (mysql_errno(c) == 2006 || mysql_errno(c) == 2013) {
                mysql_close(c);
                c = NULL;
            }
        }
        pthread_mutex_lock(&g_probe_mu);
    }
    pthread_mutex_unlock(&g_probe_mu);
    if (c != NULL) {
        mysql_close(c);
    }
    return NULL;
}

int
cat_part_probe_start(char *err, size_t errlen)
{
    atomic_store(&g_probe_stop, 0);
    if (rw_thread_create(&g_probe_thread, probe_main, NULL, false) != 0) {
        snprintf(err, errlen, "cannot start the partition probe thread");
        return -1;
    }
    g_probe_running = true;
    return 0;
}

void
cat_part_probe_stop(void)
{
    struct fp_entry *e, *tmp;
    if (g_probe_running) {
        pthread_mutex_lock(&g_probe_mu);
        atomic_store(&g_probe_stop, 1);
        pthread_cond_signal(&g_probe_cv);
        pthread_mutex_unlock(&g_probe_mu);
        pthread_join(g_probe_thread, NULL);
        g_probe_running = false;
    }
    pthread_mutex_lock(&g_fp_mu);
    HASH_ITER(hh, g_fp, e, tmp) {
        HASH_DEL(g_fp, e);
        fp_entry_free(e);
    }
    pthread_mutex_unlock(&g_fp_mu);
}
