/*
 * rw.h - the rewriter's public interface: view models, view matching of the
 * SELECT blocks of a query, emission of the rewritten text, and the
 * candidate list that EXPLAIN REWRITE shows.
 *
 * Method: Goldstein & Larson, "Optimizing Queries Using Materialized Views:
 * A Practical, Scalable Solution" (SIGMOD 2001); see
 * ../shared/design/view-matching.md and SPEC §7, §8.
 */
#ifndef RW_H
#define RW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cat_snapshot;
struct cat_mv;
struct rw_mv_model;

enum rw_cand_status {
    RW_CAND_CHOSEN = 0,         /* the view the block was rewritten to */
    RW_CAND_MATCHED_NOT_CHOSEN, /* could answer, another view won */
    RW_CAND_REJECTED,           /* cannot answer the block (reason says why) */
};

/* One candidate view for EXPLAIN REWRITE (one row per view considered). */
struct rw_candidate {
    struct cat_mv *mv;          /* the view (borrowed from the snapshot) */
    char *mv_name;              /* "db.view" (owned) */
    enum rw_cand_status status; /* outcome */
    char *reason;               /* why rejected / not chosen; "" for CHOSEN (owned) */
    char *stale_partitions;     /* comma list or "" (owned) */
    int64_t est_rows;           /* rows the view holds, -1 unknown */
    char *sql;                  /* the block as it would read this view, or NULL (owned) */
};

struct rw_outcome {
    bool rewritten;             /* at least one block rewritten */
    char *sql;                  /* rewritten statement (owned), NULL when not rewritten */
    size_t sql_len;             /* bytes in sql */
    char *reason;               /* summary: why not rewritten, or "" (owned) */
    size_t n_cand;              /* candidates considered, over all blocks */
    struct rw_candidate *cand;  /* n_cand entries (owned) */
};

struct rw_options {
    bool enabled;               /* session enable_materialized_view_rewrite */
    bool explain;               /* fill cand[] with reasons (EXPLAIN REWRITE) */
    int64_t now_ms;             /* unix ms, for freshness */
    uint32_t sql_mode;          /* the session's sql_mode as RW_MODE_* flags (base/rw_sqlmode.h,
                                   rw_sql_mode_parse); 0 = MariaDB's default parse. The text is
                                   read under it; RW_MODE_UNSUPPORTED: nothing is rewritten */
};

/*
 * Try to rewrite LEN bytes of SQL (MariaDB dialect, one statement) issued
 * with current database DB (may be NULL) against snapshot SNAP. Fills OUT
 * (caller zeroes it; free with rw_outcome_free). Honours /\*+ USE_MV(..) *\/
 * and /\*+ NO_USE_MV[(..)] *\/ hints. SELECT statements (WITH and
 * parenthesised forms included) and INSERT ... SELECT (only the SELECT part)
 * are rewritten; every SELECT block is matched on its own (SPEC §7: top
 * level, FROM subqueries, CTE bodies, UNION branches, uncorrelated scalar /
 * IN subqueries) and each chosen replacement is spliced over its block's
 * original text, the rest staying byte-identical. With several blocks, the
 * candidates' reasons start with "block N: " (N in reading order).
 * Anything that does not parse or is outside the model is left unchanged
 * with a reason. Without opt->explain the decision may come from the
 * calling thread's decision cache (rw_cache_* below); its outcome then lists
 * only the CHOSEN candidates. The budgets of rw_limits.h apply: a
 * statement over the size or depth budget is not parsed, and matching that
 * runs over the time budget (checked per block and per candidate view)
 * gives up; either way nothing is rewritten and the reason says which
 * budget (such a timed-out decision is not cached).
 * SQL is read under opt->sql_mode (issue 11: ANSI_QUOTES, PIPES_AS_CONCAT,
 * NO_BACKSLASH_ESCAPES, IGNORE_SPACE as MariaDB reads them; see
 * rw_dialect_translate_mode); with RW_MODE_UNSUPPORTED nothing is
 * rewritten and the reason says "sql_mode ... is not modelled". The
 * rewritten text keeps the original bytes around each splice and prints
 * only mode-independent text (backtick names, CONCAT(), '..' literals from
 * the original), so it means the same under the session's mode.
 * Returns 0; -1 only on out-of-memory.
 * Thread-safe: SNAP is read-only, the cache is per thread.
 */
int rw_rewrite(const char *sql, size_t len, const char *db, const struct cat_snapshot *snap,
               const struct rw_options *opt, struct rw_outcome *out);

/* Free what OUT owns and zero it. */
void rw_outcome_free(struct rw_outcome *out);

/*
 * Decision cache (rw_cache.c). rw_rewrite() without opt->explain answers a
 * repeated statement from a per-thread LRU keyed on (exact text, current
 * database, snapshot and catalog version, enabled flag, sql_mode); on every hit it
 * re-checks cat_mv_usable() for the chosen views and for the views it
 * rejected as stale, and runs full matching when either changed. A hit's
 * outcome lists only the CHOSEN candidates. Thread-local: no locks.
 */
struct rw_cache_stats {
    uint64_t hits;              /* lookups answered from the cache */
    uint64_t misses;            /* lookups that ran full matching (stale ones included) */
    uint64_t stale;             /* entries dropped because freshness changed */
    uint64_t evictions;         /* LRU evictions */
    size_t entries;             /* entries held now */
};

/* Drop every entry of the calling thread's cache (counters are kept). */
void rw_cache_flush(void);

/* The calling thread's counters and size into *ST. */
void rw_cache_get_stats(struct rw_cache_stats *st);

/* Entries per thread (default 4096; 0 disables caching): applies to the
 * calling thread now (evicting as needed) and to threads that start caching
 * later. */
void rw_cache_set_capacity(size_t n);

/*
 * Build the matching model of the view DB.NAME whose definition is the
 * SELECT text SELECT_SQL (MariaDB dialect). Schema of the tables it reads,
 * and of its own storage table DB.NAME (whose columns name the view's
 * outputs, in order), must be in SNAP->tables; views it reads are unfolded
 * through their models in SNAP. Returns the model (free with
 * rw_mv_model_free), or NULL with a reason in *ERR (caller frees) when the
 * definition is outside what matching supports (the view is still stored
 * and refreshed, just never used for rewrite).
 */
struct rw_mv_model *rw_mv_model_build(const struct cat_snapshot *snap, const char *db,
                                      const char *name, const char *select_sql, char **err);

/* Free MODEL (NULL is ignored). */
void rw_mv_model_free(struct rw_mv_model *model);

/*
 * Base tables MODEL reads after unfolding views, as "db.table" lower-case
 * keys (borrowed; valid while MODEL lives). Returns the count.
 */
size_t rw_mv_model_tables(const struct rw_mv_model *model, const char *const **keys);

/*
 * The tables that the SELECT text SQL (LEN bytes) reads directly, as
 * "db.table" lower case, unqualified names resolved against DB. Fills
 * *TABLES (malloc'd array of malloc'd strings; caller frees both) and *N.
 * Returns 0, or -1 with a reason in *ERR (caller frees) when SQL is not a
 * SELECT the parser accepts.
 */
int rw_tables_read(const char *sql, size_t len, const char *db, char ***tables, size_t *n,
                   char **err);

/*
 * Check that SQL (LEN bytes) is a single SELECT statement; returns 0 or -1
 * with a syntax-error message in *ERR (caller frees) and the 0-based byte
 * offset of the error in the original text in *ERR_POS. Used by CREATE
 * MATERIALIZED VIEW to validate the AS clause before touching the backend.
 */
int rw_check_select(const char *sql, size_t len, char **err, size_t *err_pos);

/* ---- what the refresh engine asks of the rewriter ---- */

/*
 * MV's definition (mv->query_sql) restricted on its mapped base column to
 * the rows that can land in view partitions [LO, HI) (day numbers;
 * CAT_DAY_MIN / CAT_DAY_MAX for open ends), through the mapping recorded in
 * mv->part (base_key, base_col, base_floor: the bounds are rounded up to
 * the base flooring unit, which is exact for unit-aligned ranges). Returns
 * a new string (caller frees), or NULL when it cannot be done (unmapped
 * view, both ends open, a shape rw_restrict_base_range refuses, OOM): the
 * caller then uses the definition as it is.
 */
char *rw_part_restrict_def(const struct cat_mv *mv, int64_t lo, int64_t hi);

/*
 * Partitioned views with window functions: is every window function of the
 * view whose model is MODEL partitioned (PARTITION BY) on something that
 * determines its partition column VCOL? Then each window partition lies in
 * one view partition and a partition refresh stays exact. Returns true
 * when so, when the view has no window, or when MODEL is NULL (such a view
 * is never used for rewrite); false when a window spans view partitions.
 */
bool rw_mv_windows_aligned(const struct rw_mv_model *model, const char *vcol);

/*
 * Default indexes of a view (engine/cat_index.c): the storage columns
 * (borrowed from MODEL; valid while it lives) that a selective query most
 * likely filters on. A view that groups: the outputs that are its first
 * GROUP BY expressions, in GROUP BY order, at most MAX (*WHAT = 'g'). A
 * join without GROUP BY or aggregates: the first output that is a column of
 * an equi-join conjunct (WHERE, inner or outer ON) between two tables, one
 * column (*WHAT = 'j'). Anything else, or MODEL NULL: 0. Writes up to MAX
 * names to COLS; returns how many.
 */
size_t rw_mv_model_index_cols(const struct rw_mv_model *model, const char **cols, size_t max,
                              char *what);

#endif /* RW_H */
