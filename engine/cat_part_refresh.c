/*
 * cat_part_refresh.c - refresh of a partitioned view (SPEC §6), partition
 * by partition (one INSERT ... SELECT per range: on MariaDB a single one
 * over 10M rows spilled to a huge temporary table and ran 7.5x slower):
 *
 *   COMPLETE (also AUTO on a never-built view or after an unattributed
 *   change, and the first build):
 *     keys  = SELECT DISTINCT <key of base_col> FROM base  (mapped view)
 *             SELECT DISTINCT <key of col> FROM (<def>)    (unmapped view)
 *     CREATE TABLE mv__mvp_new LIKE mv; ALTER ... PARTITION BY RANGE COLUMNS
 *     (col) (one partition per key, pmax); per key:
 *       INSERT INTO new SELECT * FROM (<def>) d WHERE col >= lo AND col < hi
 *     then the rest (NULL, rows outside every key); ANALYZE TABLE new;
 *     RENAME swap; drop old.
 *   AUTO: the stale (or new) partitions, refresh_partition_num (default 1)
 *   per batch, each batch one transaction:
 *       START TRANSACTION; per partition: DELETE FROM mv WHERE <range>;
 *       INSERT INTO mv SELECT * FROM (<def>) d WHERE <range>; COMMIT
 *     a range without its own storage partition (after the last bound: in
 *     pmax) first gets one: REORGANIZE PARTITION of the storage partition
 *     holding it, so the layout stays 1:1 / n:1 (split_storage).
 *   PARTITIONS (p1, ...): the same for the listed partitions.
 *   The task records its partitions (NeedRefreshPartitions).
 *   partition_sync_limit N unit: ranges older than the last N units are
 *   neither built nor kept (their rows are deleted, their partitions
 *   dropped from the state); queries over them are compensated from the
 *   base tables by the rewriter, or not rewritten when they need only them.
 *
 * Freshness: before reading, the whole-view mark is folded into the
 * partitions and the probe takes its baseline; a partition whose seq moved
 * while it was refreshed stays stale since the refresh start (the write may
 * or may not be in what was read).
 */
#include "cat_part_engine.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cat_binlog.h"
#include "cat_freshness.h"
#include <mysql.h>

#include "cat.h"
#include "cat_calendar.h"
#include "cat_core.h"
#include "cat_part.h"
#include "cat_refresh_clause.h"
#include "cat_reply.h"
#include "cat_store.h"
#include "cat_util.h"
#include "cat_probe.h"
#include "cat_part_track.h"
#include "cat_part_refresh.h"
#include "cat_refresh.h"
#include "cat_task.h"
#include "rw.h"

/* Run B's text on C as a step of a partition refresh (B freed). */
static int
run(MYSQL *c, struct cat_buf *b, const struct cat_mv *mv, const char *what,
    struct mvp_reply *reply, int64_t *affected)
{
    return cat_refresh_run(c, b, mv, "refresh", what, reply, affected);
}

/* "(SELECT * FROM (<def>) AS mvp_def" with the view's column names. */
static void
def_source_sql(struct cat_buf *b, const struct cat_mv *mv, const char *sql)
{
    cat_refresh_def_sql(b, mv, sql);
}

static void
def_source(struct cat_buf *b, const struct cat_mv *mv)
{
    def_source_sql(b, mv, mv->query_sql);
}

/*
 * The definition as a source for filling partition P: restricted on the
 * mapped BASE column too (rw_part_restrict_def), so that MariaDB prunes the
 * base table's partitions instead of scanning it whole for every view
 * partition; the definition as it is when that cannot be done (p_null, an
 * unmapped view, an unusual shape). The caller keeps its filter on the
 * view column.
 */
static void
def_source_part(struct cat_buf *b, const struct cat_mv *mv, const struct cat_ppart *p)
{
    char *r = p->is_null ? NULL : rw_part_restrict_def(mv, p->lo, p->hi);
    def_source_sql(b, mv, r != NULL ? r : mv->query_sql);
    free(r);
}

/* Range predicate of partition P on column COL into B. */
static void
range_pred(struct cat_buf *b, const char *col, const struct cat_ppart *p)
{
    int y, m, d;
    if (p->is_null) {
        cat_buf_ident(b, col);
        cat_buf_puts(b, " IS NULL");
        return;
    }
    cat_buf_ident(b, col);
    cat_day_to_ymd(p->lo, &y, &m, &d);
    cat_buf_printf(b, " >= '%04d-%02d-%02d' AND ", y, m, d);
    cat_buf_ident(b, col);
    cat_day_to_ymd(p->hi, &y, &m, &d);
    cat_buf_printf(b, " < '%04d-%02d-%02d'", y, m, d);
}

/* Distinct partition keys of MV now (sorted by the backend); -1 on error. */
static int
current_keys(MYSQL *c, const struct cat_mv *mv, int64_t **keys, size_t *n,
             struct mvp_reply *reply)
{
    const struct cat_part_spec *s = mv->part;
    struct cat_buf q = {0};
    MYSQL_RES *res;
    MYSQL_ROW row;
    *keys = NULL;
    *n = 0;
    cat_buf_puts(&q, "SELECT DISTINCT ");
    if (s->base_key != NULL) {
        const char *dot = strchr(s->base_key, '.');
        char *dbn = cat_xstrndup(s->base_key, (size_t)(dot - s->base_key));
        cat_part_key_sql(&q, s->base_col, s->base_floor, s->unit);
        cat_buf_puts(&q, " AS k FROM ");
        cat_buf_qname(&q, dbn, dot + 1);
        free(dbn);
    } else {
        cat_part_key_sql(&q, s->col, CAT_PU_NONE, s->unit);
        cat_buf_puts(&q, " AS k FROM (");
        def_source(&q, mv);
        cat_buf_puts(&q, ") AS mvp_keys");
    }
    {
        /* read as the view's owner (cat_refresh_src) */
        struct cat_buf src = {0};
        if (cat_refresh_src(c, mv, 0, q.p, "refresh", &src, reply) < 0) {
            cat_buf_free(&q);
            return -1;
        }
        cat_buf_free(&q);
        cat_buf_puts(&q, "SELECT * FROM ");
        cat_buf_add(&q, src.p, src.len);
        cat_buf_free(&src);
    }
    cat_buf_puts(&q, " ORDER BY 1");
    if (mysql_real_query(c, q.p, q.len) != 0 || (res = mysql_store_result(c)) == NULL) {
        if (mysql_errno(c) == 1317) {
            cat_task_note_interrupted(); /* killed: a CANCEL */
        }
        mvp_reply_err(reply, (uint16_t)mysql_errno(c), "HY000",
                      "refresh of %s.%s failed (listing partitions): %s", mv->db, mv->name,
                      mysql_error(c));
        cat_buf_free(&q);
        cat_refresh_src_drop(c, mv, 0, 1);
        return -1;
    }
    cat_buf_free(&q);
    cat_refresh_src_drop(c, mv, 0, 1);
    *keys = cat_xcalloc(mysql_num_rows(res) + 1, sizeof(**keys));
    while ((row = mysql_fetch_row(res)) != NULL) {
        int64_t d;
        if (row[0] != NULL && cat_day_parse(row[0], &d)) {
            (*keys)[(*n)++] = d;
        }
    }
    mysql_free_result(res);
    return 0;
}

/* partition_sync_limit window start (day) at NOW_MS, or CAT_DAY_MIN. */
static int64_t
window_lo(const struct cat_part_spec *s, int64_t now_ms)
{
    int64_t today, lo;
    int64_t i;
    if (s->sync_limit <= 0) {
        return CAT_DAY_MIN;
    }
    today = now_ms / 86400000;
    lo = cat_unit_floor(today, s->sync_unit);
    for (i = 1; i < s->sync_limit; i++) {
        /* step back one unit */
        lo = cat_unit_floor(lo - 1, s->sync_unit);
    }
    return lo;
}

/* Partition plan entry. */
struct job {
    struct cat_ppart p;             /* range (and its seq at the start) */
    int64_t rows;                   /* rows written */
    int64_t up_stale;               /* upstream views stale since (at the start), 0 = fresh */
};

/* Settle the state after refreshing JOBS (N) at T0..T1; COMPLETE replaces
 * the list (cat_freshness.c owns the partition states). */
static void
settle(struct cat_mv *mv, struct job *jobs, size_t n, bool complete, int64_t t0, int64_t t1,
       int64_t wlo, int64_t gaps0, int64_t up_all)
{
    struct cat_fresh_part *done = cat_xcalloc(n + 1, sizeof(*done));
    size_t i;
    for (i = 0; i < n; i++) {
        done[i].p = jobs[i].p;
        done[i].rows = jobs[i].rows;
        done[i].up_stale = jobs[i].up_stale;
    }
    cat_fresh_settle_parts(mv, done, n, complete, t0, t1, wlo, gaps0, up_all);
    free(done);
}

/* Storage partitioning DDL of TABLE for JOBS (N). */
static void
partition_ddl(struct cat_buf *b, const struct cat_mv *mv, const char *table, struct job *jobs,
              size_t n)
{
    size_t i, np = 0;
    char name[64];
    cat_buf_puts(b, "ALTER TABLE ");
    cat_buf_qname(b, mv->db, table);
    cat_buf_puts(b, " PARTITION BY RANGE COLUMNS(");
    cat_buf_ident(b, mv->part->col);
    cat_buf_puts(b, ") (");
    for (i = 0; i < n; i++) {
        int y, m, d;
        if (jobs[i].p.is_null) {
            continue;
        }
        cat_day_to_ymd(jobs[i].p.hi, &y, &m, &d);
        cat_buf_printf(b, "%sPARTITION %s VALUES LESS THAN ('%04d-%02d-%02d')",
                       np++ > 0 ? ", " : "", cat_ppart_name(&jobs[i].p, name, sizeof(name)), y, m,
                       d);
    }
    cat_buf_printf(b, "%sPARTITION pmax VALUES LESS THAN (MAXVALUE))", np > 0 ? ", " : "");
}

/*
 * The owner's views (cat_refresh_src, slots 0 .. END-I-1) of the sources of
 * JOBS I .. END-1 into SRCS (their names; emptied first). Created before
 * the batch's transaction: a CREATE VIEW commits. Returns 0, or -1 with
 * REPLY filled.
 */
static int
batch_srcs(MYSQL *c, const struct cat_mv *mv, struct job *jobs, size_t i, size_t end,
           struct cat_buf *srcs, struct mvp_reply *reply)
{
    size_t k;
    for (k = i; k < end; k++) {
        struct cat_buf def = {0};
        int rc;
        cat_buf_free(&srcs[k - i]);
        def_source_part(&def, mv, &jobs[k].p);
        rc = cat_refresh_src(c, mv, (unsigned)(k - i), def.p, "refresh", &srcs[k - i], reply);
        cat_buf_free(&def);
        if (rc < 0) {
            return -1;
        }
    }
    return 0;
}

/* refresh_partition_num of MV (PROPERTIES; default 1): partitions per batch. */
static size_t
batch_size(const struct cat_mv *mv)
{
    char **k = NULL, **v = NULL;
    int n = mv->properties_json != NULL ? cat_json_parse_object(mv->properties_json, &k, &v)
                                        : -1;
    int i;
    long long bs = 1;
    for (i = 0; i < n; i++) {
        if (strcmp(k[i], "refresh_partition_num") == 0) {
            bs = strtoll(v[i], NULL, 10);
        }
    }
    if (n >= 0) {
        cat_strv_free(k, (size_t)n);
        cat_strv_free(v, (size_t)n);
    }
    return bs >= 1 ? (size_t)bs : 1;
}

/* One partition of the storage table. */
struct spart {
    char *name;                     /* backend partition name */
    int64_t hi;                     /* VALUES LESS THAN, day number (CAT_DAY_MAX: MAXVALUE) */
};

static void
sparts_free(struct spart *sp, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++) {
        free(sp[i].name);
    }
    free(sp);
}

/* The storage table's partitions in bound order into *OUT / *N (caller
 * frees with sparts_free); -1 when they cannot be read. */
static int
storage_parts(MYSQL *c, const struct cat_mv *mv, struct spart **out, size_t *n)
{
    struct cat_buf q = {0};
    MYSQL_RES *res;
    MYSQL_ROW row;
    *out = NULL;
    *n = 0;
    cat_buf_puts(&q, "SELECT PARTITION_NAME, PARTITION_DESCRIPTION FROM information_schema."
                     "PARTITIONS WHERE TABLE_SCHEMA = ");
    cat_buf_lit(&q, mv->db);
    cat_buf_puts(&q, " AND TABLE_NAME = ");
    cat_buf_lit(&q, mv->name);
    cat_buf_puts(&q, " AND PARTITION_NAME IS NOT NULL ORDER BY PARTITION_ORDINAL_POSITION");
    if (mysql_real_query(c, q.p, q.len) != 0 || (res = mysql_store_result(c)) == NULL) {
        cat_buf_free(&q);
        return -1;
    }
    cat_buf_free(&q);
    *out = cat_xcalloc(mysql_num_rows(res) + 1, sizeof(**out));
    while ((row = mysql_fetch_row(res)) != NULL) {
        int64_t hi = CAT_DAY_MAX;
        const char *d = row[1] != NULL ? row[1] : "MAXVALUE";
        if (row[0] == NULL) {
            continue;
        }
        if (!cat_streq_ci(d, "MAXVALUE")) {
            char lit[40];
            snprintf(lit, sizeof(lit), "%s", d + (*d == '\'' ? 1 : 0));
            lit[strcspn(lit, "'")] = '\0';
            if (!cat_day_parse(lit, &hi)) {
                continue;
            }
        }
        (*out)[*n].name = cat_xstrdup(row[0]);
        (*out)[*n].hi = hi;
        (*n)++;
    }
    mysql_free_result(res);
    return 0;
}

/*
 * Keep the storage layout 1:1 (SPEC §4): a partition range refreshed in
 * place that has no storage partition of its own yet (a day after the last
 * complete refresh lands in pmax, a day that was empty then lands in the
 * next partition up) gets one: the storage partition S that holds it is
 * split with ALTER TABLE ... REORGANIZE PARTITION S INTO (PARTITION p_new
 * VALUES LESS THAN (hi), PARTITION S VALUES LESS THAN (S's bound)), which
 * moves only S's rows. Runs before the batches' transactions (DDL commits
 * implicitly). Returns 0, -1 with REPLY filled.
 */
static int
split_storage(MYSQL *c, const struct cat_mv *mv, const struct job *jobs, size_t n,
              struct mvp_reply *reply)
{
    struct spart *sp = NULL;
    size_t nsp = 0, i, k;
    int rc = 0;
    if (storage_parts(c, mv, &sp, &nsp) < 0 || nsp == 0) {
        sparts_free(sp, nsp);
        return 0; /* not partitioned (very many ranges): nothing to keep */
    }
    for (i = 0; i < n && rc == 0; i++) {
        char name[64], bound[16];
        struct cat_buf b = {0};
        int y, m, d;
        bool have = false;
        if (jobs[i].p.is_null) {
            continue;
        }
        cat_ppart_name(&jobs[i].p, name, sizeof(name));
        for (k = 0; k < nsp && !have; k++) {
            have = cat_streq_ci(sp[k].name, name);
        }
        for (k = 0; !have && k < nsp && sp[k].hi <= jobs[i].p.lo; k++) {
        }
        if (have || k == nsp || sp[k].hi <= jobs[i].p.hi) {
            continue; /* its own already, or it would straddle a bound */
        }
        cat_day_to_ymd(jobs[i].p.hi, &y, &m, &d);
        snprintf(bound, sizeof(bound), "%04d-%02d-%02d", y, m, d);
        cat_buf_puts(&b, "ALTER TABLE ");
        cat_buf_qname(&b, mv->db, mv->name);
        cat_buf_puts(&b, " REORGANIZE PARTITION ");
        cat_buf_ident(&b, sp[k].name);
        cat_buf_puts(&b, " INTO (PARTITION ");
        cat_buf_ident(&b, name);
        cat_buf_printf(&b, " VALUES LESS THAN ('%s'), PARTITION ", bound);
        cat_buf_ident(&b, sp[k].name);
        if (sp[k].hi == CAT_DAY_MAX) {
            cat_buf_puts(&b, " VALUES LESS THAN (MAXVALUE))");
        } else {
            cat_day_to_ymd(sp[k].hi, &y, &m, &d);
            cat_buf_printf(&b, " VALUES LESS THAN ('%04d-%02d-%02d'))", y, m, d);
        }
        rc = run(c, &b, mv, "adding a storage partition", reply, NULL);
        if (rc == 0) {
            /* the list as it is now: the new partition just below S */
            sp = realloc(sp, (nsp + 1) * sizeof(*sp));
            if (sp == NULL) {
                abort();
            }
            memmove(&sp[k + 1], &sp[k], (nsp - k) * sizeof(*sp));
            sp[k].name = cat_xstrdup(name);
            sp[k].hi = jobs[i].p.hi;
            nsp++;
        }
    }
    sparts_free(sp, nsp);
    return rc;
}

/* Record the partitions of task TASK (NeedRefreshPartitions, SPEC §9). */
static void
task_partitions(MYSQL *c, uint64_t task, const struct job *jobs, size_t n)
{
    struct cat_buf q = {0}, l = {0};
    char pn[64], err[256];
    size_t i;
    if (task == 0) {
        return;
    }
    for (i = 0; i < n; i++) {
        cat_buf_puts(&l, i > 0 ? "," : "");
        cat_buf_puts(&l, cat_ppart_name(&jobs[i].p, pn, sizeof(pn)));
    }
    cat_buf_puts(&q, "UPDATE ");
    cat_buf_qname(&q, cat_meta_schema(), "tasks");
    cat_buf_puts(&q, " SET need_refresh_partitions = ");
    cat_buf_lit(&q, l.p != NULL ? l.p : "");
    cat_buf_printf(&q, ", progress = '0.00%% (0/%zu)' WHERE task_id = %llu", n,
                   (unsigned long long)task);
    if (cat_q(c, q.p, err, sizeof(err), NULL) < 0) {
        cat_log(CAT_LOG_WARN, "recording the partitions of task %llu: %s",
                (unsigned long long)task, err);
    }
    cat_buf_free(&q);
    cat_buf_free(&l);
}

/*
 * Does MV (partitioned) compute window functions whose PARTITION BY does not
 * determine its partition column (rw_win_part_aligned)? Then each window
 * spans view partitions, and refreshing some partitions leaves the others'
 * window values stale: such a view is only ever refreshed whole. False when
 * MV has no model (never used for rewrite; its refresh reads the definition
 * unrestricted, rw_restrict refuses windows).
 */
static bool
windows_span_partitions(const struct cat_mv *mv)
{
    if (mv->model == NULL || mv->part == NULL) {
        return false;
    }
    return !rw_mv_windows_aligned(mv->model, mv->part->col);
}

/* One partition refresh while it runs: what it was asked, what it plans,
 * what it did (cat_part_refresh and its steps). */
struct prun {
    struct cat_snapshot *snap;
    struct cat_mv *mv;
    MYSQL *c;                       /* refresh connection (cat_refresh_open) */
    enum cat_refresh_method mode;   /* COMPLETE, AUTO or PARTITIONS */
    char **parts;                   /* PARTITIONS: the names asked for (borrowed) */
    size_t n_parts;
    bool complete;                  /* rebuild the whole table (else in place) */
    bool partial_probe;             /* the probe baseline is re-taken per partition */
    int64_t t0;                     /* start: the time the refresh reads from */
    int64_t wlo;                    /* partition_sync_limit window start (day) */
    int64_t gaps0;                  /* gaps_stale_ms before reading */
    int64_t up_all;                 /* upstream views stale since (any partition), 0 = fresh */
    int64_t *keys;                  /* current partition keys (current_keys) */
    size_t n_keys;
    struct cat_part_view v;         /* the partition state before reading */
    struct job *jobs;               /* the partitions to refresh */
    size_t n_jobs;
    size_t bs;                      /* refresh_partition_num: partitions per batch */
    struct cat_buf *srcs;           /* owner views of the current batch (batch_srcs) */
    size_t n_batches;
    int64_t total;                  /* rows written */
    char *nn, *on;                  /* COMPLETE: staging and old table names */
};

/*
 * Complete or in place? COMPLETE, a never-built view and AUTO after an
 * unattributed change rebuild the whole table; so does AUTO on a view whose
 * windows span partitions (windows_span_partitions), which refuses
 * PARTITIONS (ERR 1235). Returns 0, or -1 with REPLY filled.
 */
static int
decide_complete(struct prun *pr, struct mvp_reply *reply)
{
    struct cat_mv *mv = pr->mv;
    pr->complete = pr->mode == CAT_RM_COMPLETE ||
                   atomic_load(&mv->state->last_refresh_ms) == 0 ||
                   (pr->mode == CAT_RM_AUTO && atomic_load(&mv->state->stale_since_ms) != 0);
    if (!pr->complete && windows_span_partitions(mv)) {
        /* a change in one partition changes window values in the others */
        if (pr->mode != CAT_RM_AUTO) {
            mvp_reply_err(reply, 1235, "42000",
                          "%s.%s has window functions that are not partitioned by its partition "
                          "column: refresh it whole (AUTO or COMPLETE)", mv->db, mv->name);
            return -1;
        }
        pr->complete = true;
    }
    return 0;
}

/* PARTITIONS (p1, ...): the named partitions as the jobs; -1 with REPLY
 * (ERR 1735) when one is unknown. */
static int
jobs_named(struct prun *pr, struct mvp_reply *reply)
{
    struct cat_mv *mv = pr->mv;
    size_t i, k;
    pr->complete = false;
    for (k = 0; k < pr->n_parts; k++) {
        bool found = false;
        for (i = 0; i < pr->v.n; i++) {
            char pn[64];
            if (cat_streq_ci(cat_ppart_name(&pr->v.p[i], pn, sizeof(pn)), pr->parts[k])) {
                pr->jobs = realloc(pr->jobs, (pr->n_jobs + 1) * sizeof(*pr->jobs));
                if (pr->jobs == NULL) {
                    abort();
                }
                pr->jobs[pr->n_jobs].p = pr->v.p[i];
                pr->jobs[pr->n_jobs].rows = 0;
                pr->n_jobs++;
                found = true;
            }
        }
        if (!found) {
            mvp_reply_err(reply, 1735, "HY000",
                          "Unknown partition '%s' in materialized view %s.%s (SHOW "
                          "PARTITIONS FROM %s lists them)", pr->parts[k], mv->db, mv->name,
                          mv->name);
            return -1;
        }
    }
    return 0;
}

/* COMPLETE / AUTO: every current key (complete), or the stale and new
 * partitions (in place) as the jobs; -1 with REPLY when the keys cannot be
 * read. */
static int
jobs_from_keys(struct prun *pr, struct mvp_reply *reply)
{
    struct cat_mv *mv = pr->mv;
    struct job *jobs;
    size_t i, k, n_jobs = 0;
    bool need_keys = pr->complete || pr->v.gaps_stale_ms != 0;
    if (need_keys && current_keys(pr->c, mv, &pr->keys, &pr->n_keys, reply) < 0) {
        return -1;
    }
    jobs = pr->jobs = cat_xcalloc(pr->v.n + pr->n_keys + 2, sizeof(*jobs));
    if (pr->complete) {
        /* p_null first, then one per key */
        jobs[n_jobs].p.is_null = true;
        n_jobs++;
        for (k = 0; k < pr->n_keys; k++) {
            jobs[n_jobs].p.lo = pr->keys[k];
            jobs[n_jobs].p.hi = cat_unit_next(pr->keys[k], mv->part->unit);
            n_jobs++;
        }
        /* keep the seqs of existing partitions for settling */
        for (i = 0; i < n_jobs; i++) {
            for (k = 0; k < pr->v.n; k++) {
                if (pr->v.p[k].is_null == jobs[i].p.is_null &&
                    (pr->v.p[k].is_null || pr->v.p[k].lo == jobs[i].p.lo)) {
                    jobs[i].p.seq = pr->v.p[k].seq;
                }
            }
        }
    } else {
        for (i = 0; i < pr->v.n; i++) {
            if (pr->v.p[i].stale_since_ms != 0 || pr->v.p[i].last_refresh_ms == 0) {
                jobs[n_jobs++].p = pr->v.p[i];
            }
        }
        for (k = 0; k < pr->n_keys; k++) {
            bool have = false;
            for (i = 0; i < pr->v.n && !have; i++) {
                have = !pr->v.p[i].is_null && pr->v.p[i].lo == pr->keys[k];
            }
            if (!have) {
                jobs[n_jobs].p.lo = pr->keys[k];
                jobs[n_jobs].p.hi = cat_unit_next(pr->keys[k], mv->part->unit);
                n_jobs++;
            }
        }
    }
    pr->n_jobs = n_jobs;
    return 0;
}

/*
 * The plan: the probe's baseline and the partition marks as they are now,
 * then the partitions to refresh (jobs_named / jobs_from_keys) within the
 * partition_sync_limit window, each with its upstream views' staleness.
 * Returns 0, or -1 with REPLY filled.
 */
static int
plan_jobs(struct prun *pr, struct mvp_reply *reply)
{
    struct cat_mv *mv = pr->mv;
    MYSQL *c = pr->c;
    size_t i;
    /* baseline for the probe, then the marks as they are now: a complete
     * refresh (or a view without a strong baseline) compares and re-takes
     * all of it (one scan of the base); a partial one re-takes only the
     * keys it refreshes, below, once it knows them (pruned on the base) */
    pr->partial_probe = !pr->complete && cat_part_probe_partial_ok(mv);
    if (!pr->partial_probe) {
        cat_part_probe_baseline(c, mv);
    }
    cat_part_bounds_refresh(c, mv);
    cat_part_explode_whole(mv);
    if (cat_part_view_get(mv, &pr->v) != 0) {
        mvp_reply_err(reply, 1037, "HY001", "out of memory");
        return -1;
    }
    pr->gaps0 = pr->v.gaps_stale_ms;
    if (pr->mode == CAT_RM_PARTITIONS ? jobs_named(pr, reply) < 0
                                      : jobs_from_keys(pr, reply) < 0) {
        return -1;
    }
    /* partition_sync_limit: nothing older than the window is built */
    if (pr->wlo != CAT_DAY_MIN) {
        size_t j = 0;
        for (i = 0; i < pr->n_jobs; i++) {
            if (pr->jobs[i].p.is_null || pr->jobs[i].p.hi > pr->wlo) {
                pr->jobs[j++] = pr->jobs[i];
            }
        }
        pr->n_jobs = j;
    }
    if (pr->partial_probe && pr->n_jobs > 0) {
        struct cat_ppart *rs = cat_xcalloc(pr->n_jobs, sizeof(*rs));
        for (i = 0; i < pr->n_jobs; i++) {
            rs[i] = pr->jobs[i].p;
        }
        if (!cat_part_probe_baseline_parts(c, mv, rs, pr->n_jobs)) {
            cat_log(CAT_LOG_DEBUG, "refresh of %s: partial probe baseline not taken", mv->key);
        }
        free(rs);
    }
    /* upstream views (layers) as they are before anything is read: a
     * partition fed by a stale upstream partition stays stale since it */
    pr->up_all = cat_upstream_stale(pr->snap, mv, true, false, 0, 0);
    for (i = 0; i < pr->n_jobs; i++) {
        pr->jobs[i].up_stale = pr->up_all == 0
                                   ? 0
                                   : cat_upstream_stale(pr->snap, mv, false,
                                                        pr->jobs[i].p.is_null, pr->jobs[i].p.lo,
                                                        pr->jobs[i].p.hi);
    }
    return 0;
}

/*
 * COMPLETE: the new table partitioned like the plan, filled batch by batch,
 * swapped in. Returns 0; -1 with REPLY filled (the staging table dropped).
 */
static int
fill_complete(struct prun *pr, struct mvp_reply *reply)
{
    struct cat_mv *mv = pr->mv;
    MYSQL *c = pr->c;
    struct job *jobs = pr->jobs;
    struct cat_buf b = {0};
    char err[512];
    size_t i, k, bs = pr->bs, n_jobs = pr->n_jobs;
    if (cat_refresh_stage(c, &b, mv, "refresh", &pr->nn, &pr->on, reply) < 0) {
        return -1;
    }
    if (n_jobs < 8000) {
        partition_ddl(&b, mv, pr->nn, jobs, n_jobs);
        if (run(c, &b, mv, "partitioning the new table", reply, NULL) < 0) {
            goto failed_drop;
        }
    }
    /* refresh_partition_num partitions per batch, one transaction each */
    for (i = 0; i < n_jobs; i += bs) {
        size_t end = i + bs < n_jobs ? i + bs : n_jobs;
        if (batch_srcs(c, mv, jobs, i, end, pr->srcs, reply) < 0) {
            goto failed_drop;
        }
        if (bs > 1 && cat_q(c, "START TRANSACTION", err, sizeof(err), NULL) < 0) {
            mvp_reply_err(reply, 1105, "HY000", "refresh of %s.%s: %s", mv->db, mv->name,
                          err);
            goto failed_drop;
        }
        for (k = i; k < end; k++) {
            cat_buf_puts(&b, "INSERT INTO ");
            cat_buf_qname(&b, mv->db, pr->nn);
            cat_buf_puts(&b, " SELECT * FROM ");
            cat_buf_add(&b, pr->srcs[k - i].p, pr->srcs[k - i].len);
            cat_buf_puts(&b, " AS mvp_part WHERE ");
            range_pred(&b, mv->part->col, &jobs[k].p);
            if (run(c, &b, mv, "filling a partition", reply, &jobs[k].rows) < 0) {
                cat_q(c, "ROLLBACK", err, sizeof(err), NULL);
                goto failed_drop;
            }
            pr->total += jobs[k].rows;
        }
        if (bs > 1 && cat_q(c, "COMMIT", err, sizeof(err), NULL) < 0) {
            mvp_reply_err(reply, 1105, "HY000", "refresh of %s.%s: %s", mv->db, mv->name,
                          err);
            goto failed_drop;
        }
        pr->n_batches++;
    }
    cat_refresh_analyze(c, mv->db, pr->nn, mv->key);
    if (cat_refresh_swap(c, &b, mv, "refresh", pr->nn, pr->on, reply) < 0) {
        goto failed_drop;
    }
    return 0;

failed_drop:
    cat_refresh_drop_staging(c, mv, pr->nn);
    return -1;
}

/*
 * In place (AUTO, PARTITIONS): each batch one transaction that DELETEs the
 * ranges and INSERTs them again; then the rows beyond partition_sync_limit
 * go. Returns 0, or -1 with REPLY filled (batches committed stay).
 */
static int
fill_in_place(struct prun *pr, struct mvp_reply *reply)
{
    struct cat_mv *mv = pr->mv;
    MYSQL *c = pr->c;
    struct job *jobs = pr->jobs;
    struct cat_buf b = {0};
    char err[512];
    size_t i, k, bs = pr->bs, n_jobs = pr->n_jobs;
    /* the binlog follower ignores row events on the storage table
     * until a minute after this refresh (cat_part_defer) */
    atomic_store(&mv->state->parts->own_until_ms, INT64_MAX);
    if (split_storage(c, mv, jobs, n_jobs, reply) < 0) {
        return -1;
    }
    /* refresh_partition_num partitions per batch, one transaction each:
     * DELETE the range + INSERT ... SELECT restricted to it */
    for (i = 0; i < n_jobs; i += bs) {
        size_t end = i + bs < n_jobs ? i + bs : n_jobs;
        if (batch_srcs(c, mv, jobs, i, end, pr->srcs, reply) < 0) {
            return -1;
        }
        if (cat_q(c, "START TRANSACTION", err, sizeof(err), NULL) < 0) {
            mvp_reply_err(reply, 1105, "HY000", "refresh of %s.%s: %s", mv->db, mv->name,
                          err);
            return -1;
        }
        for (k = i; k < end; k++) {
            int64_t del = 0;
            cat_buf_puts(&b, "DELETE FROM ");
            cat_buf_qname(&b, mv->db, mv->name);
            cat_buf_puts(&b, " WHERE ");
            range_pred(&b, mv->part->col, &jobs[k].p);
            if (run(c, &b, mv, "clearing a partition", reply, &del) < 0) {
                cat_q(c, "ROLLBACK", err, sizeof(err), NULL);
                return -1;
            }
            cat_buf_puts(&b, "INSERT INTO ");
            cat_buf_qname(&b, mv->db, mv->name);
            cat_buf_puts(&b, " SELECT * FROM ");
            cat_buf_add(&b, pr->srcs[k - i].p, pr->srcs[k - i].len);
            cat_buf_puts(&b, " AS mvp_part WHERE ");
            range_pred(&b, mv->part->col, &jobs[k].p);
            if (run(c, &b, mv, "filling a partition", reply, &jobs[k].rows) < 0) {
                cat_q(c, "ROLLBACK", err, sizeof(err), NULL);
                return -1;
            }
        }
        if (cat_q(c, "COMMIT", err, sizeof(err), NULL) < 0) {
            mvp_reply_err(reply, 1105, "HY000", "refresh of %s.%s: %s", mv->db, mv->name,
                          err);
            return -1;
        }
        for (k = i; k < end; k++) {
            pr->total += jobs[k].rows;
        }
        pr->n_batches++;
    }
    if (pr->wlo != CAT_DAY_MIN) {
        /* partition_sync_limit: drop the rows that fell out of the window */
        int y, m, d;
        cat_day_to_ymd(pr->wlo, &y, &m, &d);
        cat_buf_puts(&b, "DELETE FROM ");
        cat_buf_qname(&b, mv->db, mv->name);
        cat_buf_puts(&b, " WHERE ");
        cat_buf_ident(&b, mv->part->col);
        cat_buf_printf(&b, " < '%04d-%02d-%02d'", y, m, d);
        if (run(c, &b, mv, "dropping partitions beyond partition_sync_limit", reply, NULL) <
            0) {
            return -1;
        }
    }
    return 0;
}

/* After the fill: the partition state settled, the refresh finished
 * (cat_refresh_finish) with its partitions in the reply's info. */
static void
succeeded(struct prun *pr, uint64_t task, struct mvp_reply *reply)
{
    struct cat_mv *mv = pr->mv;
    struct cat_refresh_result r = {CAT_TASK_OK, CAT_RS_PARTITION, task, pr->total, NULL, NULL};
    struct cat_buf pl = {0};
    char info[700], pn[64];
    int64_t t1 = cat_now_ms();
    size_t i;
    if (!pr->complete) {
        atomic_store(&mv->state->parts->own_until_ms, t1 + 60000);
    }
    settle(mv, pr->jobs, pr->n_jobs, pr->complete, pr->t0, t1, pr->wlo, pr->gaps0, pr->up_all);
    for (i = 0; i < pr->n_jobs && i < 20; i++) {
        cat_buf_puts(&pl, i > 0 ? "," : "");
        cat_buf_puts(&pl, cat_ppart_name(&pr->jobs[i].p, pn, sizeof(pn)));
    }
    if (pr->n_jobs > 20) {
        cat_buf_printf(&pl, ",... (%zu)", pr->n_jobs);
    }
    snprintf(info, sizeof(info), "refreshed %s.%s (%s): %zu partition(s) [%s] in %zu "
             "batch(es), %lld rows in %.2f s", mv->db, mv->name,
             pr->complete ? "COMPLETE" : "PARTIAL", pr->n_jobs, pl.p ? pl.p : "", pr->n_batches,
             (long long)pr->total, (double)(t1 - pr->t0) / 1000.0);
    r.info = info;
    cat_refresh_finish(pr->c, mv, &r, reply);
    cat_buf_free(&pl);
}

int
cat_part_refresh(const char *db, const char *name, enum cat_refresh_method mode, char **parts,
                 size_t n_parts, struct mvp_reply *reply, enum cat_task_result *outcome)
{
    struct prun pr;
    struct cat_mv *mv;
    char lockname[600];
    uint64_t task = 0;
    size_t i;
    bool locked = false;
    int rc = -1;

    memset(&pr, 0, sizeof(pr));
    *outcome = CAT_TASK_FAILED;
    pr.snap = cat_snapshot_acquire();
    mv = pr.mv = cat_snapshot_find(pr.snap, db, name);
    pr.mode = mode == CAT_RM_COMPLETE || mode == CAT_RM_PARTITIONS ? mode : CAT_RM_AUTO;
    pr.parts = parts;
    pr.n_parts = n_parts;
    if (mv == NULL || mv->part == NULL || mv->state->parts == NULL) {
        mvp_reply_err(reply, 1146, "42S02", "Partitioned materialized view '%s.%s' doesn't exist",
                      db ? db : "", name);
        cat_snapshot_release(pr.snap);
        return -1;
    }
    pr.bs = batch_size(mv);
    pr.c = cat_refresh_open(mv, lockname, sizeof(lockname), &locked, reply);
    if (pr.c == NULL) {
        cat_snapshot_release(pr.snap);
        return -1;
    }
    pr.srcs = cat_xcalloc(pr.bs, sizeof(*pr.srcs));
    if (!locked) {
        *outcome = CAT_TASK_BUSY;
        goto out;
    }
    if (mysql_select_db(pr.c, mv->db) != 0) {
        mvp_reply_err(reply, (uint16_t)mysql_errno(pr.c), "HY000", "refresh of %s.%s: %s",
                      mv->db, mv->name, mysql_error(pr.c));
        goto out;
    }
    {
        /* storage dropped or altered behind the proxy: only a complete
         * refresh rebuilds it (cat_refresh_stage), whatever was asked */
        int sok = cat_refresh_storage_ok(pr.c, mv, "refresh", reply);
        if (sok < 0) {
            goto out;
        }
        if (sok == 0) {
            pr.mode = CAT_RM_COMPLETE;
        }
    }
    pr.t0 = cat_now_ms();
    pr.wlo = window_lo(mv->part, pr.t0);
    if (decide_complete(&pr, reply) < 0 || plan_jobs(&pr, reply) < 0) {
        goto out;
    }
    task = cat_store_task_start(pr.c, mv, pr.complete ? "COMPLETE" : "PARTIAL");
    task_partitions(pr.c, task, pr.jobs, pr.n_jobs);
    atomic_store(&mv->state->refresh_state, CAT_REFRESH_RUNNING);

    if ((pr.complete ? fill_complete(&pr, reply) : fill_in_place(&pr, reply)) == 0) {
        succeeded(&pr, task, reply);
        *outcome = CAT_TASK_OK;
        rc = 0;
    } else {
        /* partitions refreshed before the failure stay stale (safe: each was
         * one transaction, the state just does not claim them) */
        struct cat_refresh_result r = {CAT_TASK_FAILED, CAT_RS_PARTITION, task, 0, NULL, NULL};
        if (!pr.complete) {
            atomic_store(&mv->state->parts->own_until_ms, cat_now_ms() + 60000);
        }
        r.outcome = *outcome = cat_refresh_failure();
        cat_refresh_finish(pr.c, mv, &r, reply);
    }

out:
    if (pr.srcs != NULL) {
        if (pr.c != NULL && locked) {
            cat_refresh_src_drop(pr.c, mv, 0, (unsigned)pr.bs);
        }
        for (i = 0; i < pr.bs; i++) {
            cat_buf_free(&pr.srcs[i]);
        }
        free(pr.srcs);
    }
    cat_part_view_free(&pr.v);
    free(pr.jobs);
    free(pr.keys);
    free(pr.nn);
    free(pr.on);
    cat_refresh_close(pr.c, lockname, locked);
    cat_snapshot_release(pr.snap);
    return rc;
}
