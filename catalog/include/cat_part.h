/*
 * cat_part.h - partitioned materialized views (SPEC §4, §5, §6, §9; Doris
 * "async materialized view best practices" §3.1, §4).
 *
 * Model. A view declared PARTITION BY (col) or PARTITION BY
 * (date_trunc(col, 'unit')) is split into ranges of its DATE/DATETIME
 * output column COL: one partition per UNIT (DAY when no date_trunc), named
 * Doris-style p_YYYYMMDD_YYYYMMDD ([lower, upper) bounds), plus p_null for
 * rows whose COL is NULL. The storage table is RANGE COLUMNS partitioned
 * the same way (rebuilt at every complete refresh; a partition refresh of a
 * range beyond the last bound splits the catch-all partition pmax).
 *
 * Derivation. When COL is computed from one column of one base table (the
 * column itself, DATE(), CAST(... AS DATE/DATETIME), DATE_FORMAT to the
 * first day of a day/month/year, date_trunc) and that table appears once
 * in the definition, a change to base rows whose column is V touches only
 * the view partition holding floor(V): DML through the proxy, partition DDL
 * and the probe then invalidate single partitions. Otherwise (a view over a
 * backend VIEW, SELECT *, a self-join) the view is still partitioned but
 * "unmapped": every base change invalidates all partitions.
 *
 * State. Per view, a struct cat_pstate shared across snapshots (like
 * struct cat_mv_state) holds the partitions, each with its own
 * stale-since / last-refresh / rows, under a per-view mutex (never a global
 * lock on the query path). The view-level stale_since_ms of cat_mv_state
 * keeps its meaning for a partitioned view: "a change that could not be
 * attributed to a range": every partition and every range without a
 * partition is stale since then.
 */
#ifndef CAT_PART_H
#define CAT_PART_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "cat_calendar.h"
#include "cat_reply.h"

struct cat_mv;
struct cat_snapshot;
struct cat_buf;

/* Immutable partition definition of a view (owned by struct cat_mv). */
struct cat_part_spec {
    char *col;                      /* view (storage) column */
    enum cat_punit unit;            /* partition unit (DAY when none given) */
    char *col_type;                 /* storage column DATA_TYPE: date / datetime / timestamp */
    char *base_key;                 /* "db.table" COL derives from, NULL when unmapped */
    char *base_col;                 /* that table's column (lower case), NULL when unmapped */
    enum cat_punit base_floor;      /* flooring COL applies to base_col (NONE, DAY, MONTH ...) */
    bool base_partitioned;          /* base table is RANGE / RANGE COLUMNS partitioned on base_col */
    bool base_to_days;              /* ... with RANGE (TO_DAYS(col)): bounds are TO_DAYS numbers */
    char *unmapped_why;             /* why unmapped, or NULL */
    int64_t sync_limit;             /* partition_sync_limit, 0 = unlimited */
    enum cat_punit sync_unit;       /* partition_sync_time_unit (DAY when not given) */
};

/* One view partition. */
struct cat_ppart {
    int64_t lo, hi;                 /* [lo, hi) in day numbers (days since 1970-01-01) */
    bool is_null;                   /* p_null: rows whose column is NULL (lo/hi unused) */
    int64_t stale_since_ms;         /* first unreflected change (unix ms), 0 = valid */
    int64_t last_refresh_ms;        /* end of its last refresh, 0 = never */
    int64_t rows;                   /* rows after its last refresh, -1 unknown */
    uint64_t seq;                   /* bumped by every mark (refresh checks it) */
};

/* One partition of the base table (RANGE partitioned bases; probe and DDL). */
struct cat_bpart {
    char *name;                     /* backend partition name */
    int64_t lo, hi;                 /* [lo, hi) day numbers; CAT_DAY_MIN / MAX for open ends */
    char *update_time;              /* information_schema UPDATE_TIME text or NULL */
    int64_t table_rows;             /* TABLE_ROWS */
    int64_t data_length;            /* DATA_LENGTH */
    int64_t gone_ms;                /* no longer in the table since (unix ms), 0 = current;
                                     * kept a minute so that DDL seen late in the binlog
                                     * (DROP / REORGANIZE) still finds its bounds */
};

/* Mutable partition state of one view, shared by all snapshots. */
struct cat_pstate {
    pthread_mutex_t mu;             /* guards everything below */
    size_t n, cap;                  /* partitions */
    struct cat_ppart *p;            /* sorted: p_null first, then by lo */
    int64_t gaps_stale_ms;          /* a change to a range that has no partition yet, 0 = none */
    int64_t window_lo;              /* partition_sync_limit: the view holds only day >= this */
    size_t n_base;                  /* base partitions as last read (cat_part_bounds_refresh) */
    struct cat_bpart *base;         /* ... in bound order, then retired ones (gone_ms != 0) */
    bool probed;                    /* base[] was read at least once */
    char *table_sig;                /* unpartitioned base: UPDATE_TIME/TABLE_ROWS/DATA_LENGTH text */
    int64_t last_probe_ms;          /* time of the previous probe (unix ms) */
    int dirty;                      /* changed since last persisted */
    _Atomic int64_t own_until_ms;   /* a partition refresh writes the storage table in place:
                                     * binlog row events on it until then are its own */
    _Atomic uint64_t rows_exact;    /* binlog row events on the mapped base table whose row
                                     * images were decoded (partitions marked exactly) */
    _Atomic uint64_t rows_probed;   /* ... handed to the probe (or marked whole) instead */
    _Atomic uint64_t probe_scans;   /* fingerprint scans of the base table (probe rounds,
                                     * deferred binlog changes, refresh baselines) */
};

/* Is MV a partitioned view (with its state) whose partition column derives
 * from base table KEY ("db.table", lower case)? */
bool cat_part_maps_table(const struct cat_mv *mv, const char *key);
/* View partition key (lo day) for base value day V under SPEC. */
int64_t cat_part_key(const struct cat_part_spec *spec, int64_t v);

/* ---- spec ---- */

/*
 * Parse the PARTITION BY text (with or without its parentheses):
 * "(col)", "(date_trunc(col, 'month'))", "date_trunc('month', col)".
 * Returns a new spec with col and unit set (caller frees with
 * cat_part_spec_free), or NULL with a reason in ERR.
 */
struct cat_part_spec *cat_part_spec_parse(const char *text, char *err, size_t errlen);
struct cat_part_spec *cat_part_spec_dup(const struct cat_part_spec *s);
void cat_part_spec_free(struct cat_part_spec *s);

/* Apply partition_sync_limit / partition_sync_time_unit from PROPERTIES JSON. */
void cat_part_apply_props(struct cat_part_spec *s, const char *properties_json);

/* ---- state ---- */

struct cat_pstate *cat_pstate_new(void);
void cat_pstate_free(struct cat_pstate *ps);
/* "p_20240501_20240601" / "p_null" into BUF. */
char *cat_ppart_name(const struct cat_ppart *p, char *buf, size_t len);
/* Index in PS of the partition holding key LO (IS_NULL: p_null), or -1. Caller holds PS->mu. */
ssize_t cat_pstate_find(const struct cat_pstate *ps, bool is_null, int64_t lo);
/* Add partition [LO, HI) (IS_NULL: p_null) to PS, never refreshed, valid; keeps PS->p
 * sorted and returns the new index. Caller holds PS->mu; aborts on out-of-memory. */
size_t cat_pstate_add(struct cat_pstate *ps, bool is_null, int64_t lo, int64_t hi);
/* Lower *CUR (unix ms, 0 = none) to WHEN, a change time (<= 0 is taken as 1):
 * the EARLIEST unreflected change wins. */
void cat_stale_min(int64_t *cur, int64_t when);

/* Marking partitions stale (cat_part_mark_range, cat_part_explode_whole)
 * and settling them after a refresh: the engine's freshness module
 * (engine/cat_freshness.h), the only writer of freshness. */

/* ---- the rewriter's view of a partitioned view ---- */

/* Copy of a view's partition state for one decision (free with cat_part_view_free). */
struct cat_part_view {
    size_t n;                       /* partitions */
    struct cat_ppart *p;            /* copy, same order as the state */
    int64_t gaps_stale_ms;          /* stale since for ranges without a partition (incl. whole) */
    int64_t whole_stale_ms;         /* view-level mark */
    int64_t window_lo;              /* sync window start (CAT_DAY_MIN when unlimited) */
};
/* Take a consistent copy of MV's partitions (MV partitioned). Returns 0, -1 on OOM. */
int cat_part_view_get(const struct cat_mv *mv, struct cat_part_view *out);
void cat_part_view_free(struct cat_part_view *v);
/* May a partition stale since STALE_MS be used at NOW_MS under MV's grace / consistency? */
bool cat_part_usable(const struct cat_mv *mv, int64_t stale_ms, int64_t now_ms);

/* ---- introspection ---- */

/* SHOW PARTITIONS FROM mv rows (SPEC §9) of a partitioned view. */
void cat_part_show(const struct cat_mv *mv, struct mvp_reply *reply);
/* Counts for SHOW MATERIALIZED VIEWS: valid and total partitions, and the
 * earliest stale-since over partitions (0 = none). */
void cat_part_counts(const struct cat_mv *mv, int64_t *valid, int64_t *total, int64_t *stale);
/* MvPartitionInfo text (caller frees). */
char *cat_part_info(const struct cat_mv *mv);

/* ---- layers (views over views, SPEC §6) ---- */

/*
 * Earliest unreflected change (unix ms, 0 = none) of the materialized views
 * MV reads directly, as they are now (call before the refresh reads them):
 * a never-built upstream, its view-level mark, its stale gaps, and its
 * stale or never-built partitions. ALL: every upstream partition counts.
 * Else MV's partition IS_NULL / [LO, HI) (day numbers): when MV's partition
 * column is mapped onto an upstream view's partition column only the
 * upstream partitions feeding that range count (p_null: all of them).
 */
int64_t cat_upstream_stale(const struct cat_snapshot *snap, const struct cat_mv *mv, bool all,
                           bool is_null, int64_t lo, int64_t hi);

#endif /* CAT_PART_H */
