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

#include <mysql.h>

#include "cat_reply.h"

struct cat_mv;
struct cat_snapshot;
struct cat_buf;

/* Calendar units of PARTITION BY date_trunc and partition_sync_time_unit. */
enum cat_punit {
    CAT_PU_NONE = 0,                /* no flooring (the column itself) */
    CAT_PU_DAY,
    CAT_PU_WEEK,                    /* ISO weeks, starting Monday (Doris date_trunc) */
    CAT_PU_MONTH,
    CAT_PU_QUARTER,
    CAT_PU_YEAR,
};

#define CAT_DAY_MIN INT64_C(-100000000)    /* "minus infinity" in day numbers */
#define CAT_DAY_MAX INT64_C(100000000)     /* "plus infinity" */

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

/* ---- date arithmetic (proleptic Gregorian, day numbers since 1970-01-01) ---- */

int64_t cat_day_from_ymd(int y, int m, int d);
void cat_day_to_ymd(int64_t day, int *y, int *m, int *d);
/* Parse "YYYY-MM-DD[ HH:MM:SS[.ffffff]]" (also YYYYMMDD); false when not a date. */
bool cat_day_parse(const char *s, int64_t *day);
/* Start of the UNIT containing DAY (NONE and DAY return DAY). */
int64_t cat_unit_floor(int64_t day, enum cat_punit unit);
/* Start of the unit after the one starting at LO. */
int64_t cat_unit_next(int64_t lo, enum cat_punit unit);
/* "day" / "month" ... (lower case) -> unit; CAT_PU_NONE when unknown. */
enum cat_punit cat_unit_parse(const char *s);
const char *cat_unit_name(enum cat_punit u);
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

/*
 * Validate and complete MV->part over C (service account) at CREATE and at
 * load: the storage column must exist and be DATE/DATETIME/TIMESTAMP (else
 * -1 with ERR: "PARTITION BY column ..."); the derivation from a base
 * column is worked out from the definition text and information_schema
 * (unmapped with a reason when it cannot be). Sets sync_limit/sync_unit
 * from MV's properties. Returns 0 or -1.
 */
int cat_part_resolve(MYSQL *c, struct cat_mv *mv, char *err, size_t errlen);

/* Apply partition_sync_limit / partition_sync_time_unit from PROPERTIES JSON. */
void cat_part_apply_props(struct cat_part_spec *s, const char *properties_json);

/* ---- state ---- */

struct cat_pstate *cat_pstate_new(void);
void cat_pstate_free(struct cat_pstate *ps);
/* "p_20240501_20240601" / "p_null" into BUF. */
char *cat_ppart_name(const struct cat_ppart *p, char *buf, size_t len);

/*
 * Mark base-value ranges of MV stale from WHEN_MS (SPEC §5): [LO, HI) in
 * base day numbers (HI exclusive) maps to the view partitions holding
 * cat_part_key(LO .. HI-1); partitions that do not exist yet are created
 * (stale, never refreshed) when CREATE_MISSING and the range spans at most
 * 400 units, else the gaps are marked. WITH_NULL also marks p_null. Lock:
 * the view's mutex. Bumps the view's change_seq and kicks persistence.
 */
void cat_part_mark_range(struct cat_mv *mv, int64_t lo, int64_t hi, bool with_null,
                         bool create_missing, int64_t when_ms);

/*
 * Fold the view-level "whole view stale" mark into the partitions: every
 * partition and the gaps become stale since it, and the view-level mark is
 * cleared. Called before a partial refresh.
 */
void cat_part_explode_whole(struct cat_mv *mv);

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

/* ---- persistence (metadata table mv_partitions) ---- */

int cat_part_store_init(MYSQL *c, char *err, size_t errlen);
int cat_part_store_save(MYSQL *c, const struct cat_mv *mv, char *err, size_t errlen);
int cat_part_store_load(MYSQL *c, struct cat_mv *mv, char *err, size_t errlen);
int cat_part_store_delete(MYSQL *c, uint64_t id, char *err, size_t errlen);

/* ---- change tracking ---- */

/*
 * Precise marking of one write statement SQL (LEN bytes, current database
 * DB) for the partitioned views of SNAP: INSERT/REPLACE ... VALUES (the
 * partition column's values), UPDATE / DELETE of one table with WHERE
 * ranges on it, ALTER TABLE ... {ADD|DROP|TRUNCATE|REORGANIZE} PARTITION,
 * TRUNCATE TABLE. Returns true when the statement was handled here (every
 * view over its table was marked, precisely or whole), false when the
 * caller must run the generic scanner. WHEN_MS dates the change.
 */
bool cat_part_note_write(const struct cat_snapshot *snap, const char *sql, size_t len,
                         const char *db, int64_t when_ms, int *n_marked);

/*
 * A binlog row event on table KEY dated WHEN_MS: the partitioned views
 * whose mapped base table KEY is are handed to the probe (woken at once),
 * which narrows the change to partitions with per-partition fingerprints;
 * they are added to M so the caller does not mark them whole. Returns the
 * number of views deferred (0 when the probe thread is not running).
 */
struct cat_marked;
size_t cat_part_defer(const struct cat_snapshot *snap, const char *key, struct cat_marked *m,
                      int64_t when_ms);

/*
 * A binlog rows event on table KEY dated WHEN_MS, with its row images
 * (SPEC §5: "maps each row event to its table and partition"): for every
 * partitioned view whose mapped base table KEY is, the partition column's
 * value in each image (an UPDATE's before and after images) is decoded
 * with the layout TM of the event's TABLE_MAP (cat_rowimage.h) and exactly
 * the view partitions holding those values are marked stale (NULL:
 * p_null; a zero or invalid date: every partition; TIMESTAMP: the UTC day
 * and both neighbours, since the view floors it in a session time zone).
 * Those views are added to M (claimed: the caller must neither defer nor
 * mark them whole). A view is left unclaimed, for cat_part_defer() and
 * the probe, when WHY_NOT is non-NULL (the caller found the event
 * undecodable: its text is the reason logged), TM is NULL (the table map
 * could not be parsed),
 * the catalog's column list of KEY does not match the table map (count,
 * or a type: the schema changed since), or the images cannot be decoded
 * (cat_ri_scan's reasons: the column missing from an image under
 * binlog_row_image=MINIMAL, an undecodable type, bad lengths). Each
 * decision is logged at debug level ("binlog rows ... exact" / "...
 * probe: <reason>") and counted in the view's rows_exact / rows_probed.
 * Returns the number of views marked exactly. Borrows everything.
 */
struct cat_ri_table;
struct cat_ri_rows;
size_t cat_part_rows_mark(const struct cat_snapshot *snap, const char *key,
                          const struct cat_ri_table *tm, const struct cat_ri_rows *rows,
                          const char *why_not, struct cat_marked *m, int64_t when_ms);

/*
 * The probe's fallback role while the binlog is followed: when ON, a
 * periodic probe round neither reads the cheap information_schema signal
 * nor fingerprints a base table that no binlog event handed to it (every
 * committed change reaches the follower, which marks it exactly or defers
 * it). The follower sets it while it follows (cat_binlog.c). Thread-safe.
 */
void cat_part_probe_binlog_covers(bool on);

/* SQL expression (into B) of the partition key of column COL: FLOOR (the
 * derivation) then unit U, as a DATE. */
void cat_part_key_sql(struct cat_buf *b, const char *col, enum cat_punit floor, enum cat_punit u);

/*
 * Re-read the RANGE partition bounds of MV's base table over C into the
 * view's state (information_schema.PARTITIONS; partitions that vanished
 * are kept as retired for a minute). The partition DDL narrowing of
 * cat_part_note_write() uses them: the probe thread calls this every
 * round, a refresh at its start. No-op for a base that is not RANGE
 * partitioned on the column.
 */
void cat_part_bounds_refresh(MYSQL *c, struct cat_mv *mv);

/*
 * Resolve every change the binlog handed to the probe (cat_part_defer)
 * over C now: probe those views, and mark a view whole from its pending
 * time when that fails. The binlog follower calls it before it persists
 * the marks and records its position, so a deferred change is never lost
 * behind a stored position (a stop or a crash before the probe ran).
 * Returns the number of views that had to be marked whole.
 */
int cat_part_probe_settle(MYSQL *c);

/* Start / stop the probe thread (SPEC §5 fallback for writes that bypass
 * the proxy): every MVPROXY_PROBE_INTERVAL_MS (default 2000) ms. */
int cat_part_probe_start(char *err, size_t errlen);
void cat_part_probe_stop(void);
/* Run one probe round now over C (tests; the probe thread). */
void cat_part_probe_once(MYSQL *c, int64_t now_ms);
/* Take the probe's baseline of MV (refresh start): a change since the
 * previous baseline (a deferred binlog change included) is marked first,
 * then the current figures become the baseline. */
void cat_part_probe_baseline(MYSQL *c, struct cat_mv *mv);
/*
 * Cheap refresh-start baseline for a partial refresh: true when MV has a
 * strong baseline, no deferred binlog change and a base column the ranges
 * can be put on directly (the column itself or DATE() of it), i.e. when
 * cat_part_probe_baseline_parts() may replace cat_part_probe_baseline().
 */
bool cat_part_probe_partial_ok(const struct cat_mv *mv);
/*
 * Re-take the baseline of only the keys in PARTS (N ranges about to be
 * refreshed) with one query restricted on the base column (partition
 * pruning instead of a full scan); the rest of the baseline, the table
 * signal and the probe time are kept, so changes elsewhere are still found
 * by the next probe round. Compares nothing (those partitions are being
 * refreshed). Call before reading the base. False when it was not done
 * (cat_part_probe_partial_ok() false, or the query failed): the refreshed
 * keys then keep their old baseline (the next round may re-mark them:
 * conservative).
 */
bool cat_part_probe_baseline_parts(MYSQL *c, struct cat_mv *mv, const struct cat_ppart *parts,
                                   size_t n);

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

/* refresh: cat_part_refresh.h */

#endif /* CAT_PART_H */
