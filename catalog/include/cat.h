/*
 * cat.h - the catalog layer: the types of the materialized-view catalog
 * (views, their definitions and matching models, the schema of their base
 * tables, their freshness), snapshot acquire/release/publish, and the
 * read-side freshness rule. No I/O: the engine (engine/include/cat_engine.h)
 * loads, changes and persists the catalog; the rewriter only reads it.
 *
 * Concurrency: the catalog is published as immutable snapshots. Writers
 * (admin statements, refresh tasks; on admin threads) build a new snapshot
 * and publish it; readers (the query path on worker threads) hold a
 * reference to one snapshot and re-acquire only when cat_version() moves, so
 * the query path takes no global lock. Mutable per-view state (freshness,
 * hit counters) lives in struct cat_mv_state, shared by all snapshots and
 * updated with atomics.
 *
 * Persistence (engine): the catalog lives in the metadata schema in the
 * backend (SPEC §2), reached with the service account; a restarted proxy
 * reloads it.
 */
#ifndef CAT_H
#define CAT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uthash.h>

#include "cat_refresh_clause.h"
#include "cat_reply.h"

struct rw_mv_model;
struct cat_pstate;
struct cat_part_spec;
struct cat_snapshot;

/* Column of a base table, from information_schema.COLUMNS. */
struct cat_column {
    char *name;                     /* column name as declared */
    char *data_type;                /* DATA_TYPE, lower case: "int", "decimal", "datetime" ... */
    char *column_type;              /* COLUMN_TYPE: "decimal(12,2)" ... */
    bool nullable;                  /* IS_NULLABLE = YES */
    char *collation;                /* COLLATION_NAME, lower case; NULL for non-strings */
    char *charset;                  /* CHARACTER_SET_NAME, lower case; NULL for non-strings */
};

/*
 * A declared key of a base table (information_schema.TABLE_CONSTRAINTS /
 * KEY_COLUMN_USAGE, loaded by cat_keys_load()): a PRIMARY KEY or UNIQUE
 * constraint, or the referencing side of a FOREIGN KEY. The rewriter uses
 * them for join elimination (a view's extra table joined on a foreign key to
 * a unique key neither loses nor duplicates rows).
 */
struct cat_key {
    size_t n_cols;                  /* columns in the key (>= 1) */
    char **cols;                    /* column names, lower case, in key order */
    char *ref_key;                  /* FOREIGN KEY: referenced "db.table", lower case; else NULL */
    char **ref_cols;                /* FOREIGN KEY: referenced columns, lower case, same order */
    bool informational;             /* declared NOT ENFORCED through the proxy (trusted, not checked) */
    char *name;                     /* informational: the constraint's name; else NULL */
};

/* Kind of an informational constraint (ALTER TABLE ... NOT ENFORCED). */
enum cat_con_type {
    CAT_CON_PRIMARY = 1,            /* PRIMARY KEY */
    CAT_CON_UNIQUE,                 /* UNIQUE */
    CAT_CON_FOREIGN,                /* FOREIGN KEY ... REFERENCES */
};

/*
 * An informational constraint (Doris / StarRocks / SQL-standard NOT
 * ENFORCED): declared with admin SQL on the proxy port, stored in the
 * metadata schema (`constraints`), never checked against the data. Merged
 * into the cat_table keys the rewriter sees (cat_key.informational).
 */
struct cat_icon {
    char *table_key;                /* "db.table", lower case */
    char *name;                     /* constraint name as declared */
    enum cat_con_type type;         /* PRIMARY KEY / UNIQUE / FOREIGN KEY */
    struct cat_key key;             /* columns; FOREIGN KEY: ref_key/ref_cols; informational */
};

/* A base (or view storage) table the catalog knows the columns of. */
struct cat_table {
    char *key;                      /* "db.table", lower case: hash key */
    char *db;                       /* database */
    char *name;                     /* table name */
    size_t n_cols;                  /* number of columns */
    struct cat_column *cols;        /* in ordinal order */
    size_t n_ukeys;                 /* PRIMARY KEY / UNIQUE constraints */
    struct cat_key *ukeys;          /* their columns (ref_key NULL) */
    size_t n_fkeys;                 /* FOREIGN KEY constraints */
    struct cat_key *fkeys;          /* referencing columns and the referenced key */
    bool joinback_only;             /* loaded only as a table a query may join back to a
                                       view (its database holds a view's base table); no
                                       view reads it, so its keys are not loaded */
    UT_hash_handle hh;              /* cat_snapshot.tables */
};

/* Free the keys of T (n_ukeys/n_fkeys zeroed); part of freeing a table. */
void cat_table_keys_free(struct cat_table *t);

/* Free table T and everything it owns (columns, keys, names); T may be
 * unlinked from any hash first. NULL column strings are allowed. */
void cat_table_free(struct cat_table *t);

/* Free N informational constraints at ICONS and the array (NULL ignored). */
void cat_icons_free(struct cat_icon *icons, size_t n);

/* Freshness and usage of one view; shared across snapshots (refcounted). */
struct cat_mv_state {
    _Atomic int64_t stale_since_ms;     /* first unreflected base change (unix ms), 0 = fresh */
    _Atomic int64_t last_refresh_ms;    /* end of last successful refresh (unix ms), 0 = never */
    _Atomic int64_t rows;               /* rows in the storage table after last refresh, -1 unknown */
    _Atomic uint64_t change_seq;        /* bumped on every observed base change */
    _Atomic uint64_t hits;              /* rewrites that chose this view */
    _Atomic int64_t last_hit_ms;        /* time of the last such rewrite (unix ms), 0 = never */
    _Atomic uint64_t rewrite_failures;  /* rewrites onto this view the backend rejected (the
                                           proxy ran the original instead, SPEC §7) */
    _Atomic int refcnt;                 /* snapshots referencing this state */
    _Atomic int refresh_state;          /* enum cat_refresh_state of the last/current refresh */
    _Atomic int dirty;                  /* freshness changed on the query path, not yet persisted */
    struct cat_pstate *parts;           /* partitioned views: per-partition state (cat_part.h), else NULL */
};

/* Outcome of a view's latest refresh task (SHOW ... RefreshState). */
enum cat_refresh_state {
    CAT_REFRESH_INIT = 0,           /* never refreshed */
    CAT_REFRESH_RUNNING,            /* a refresh task is running */
    CAT_REFRESH_SUCCESS,            /* the last refresh succeeded */
    CAT_REFRESH_FAILED,             /* the last refresh failed (view kept its old rows) */
};

enum cat_consistency {
    CAT_CONSISTENCY_ENFORCED = 0,   /* fresh or within grace_period only */
    CAT_CONSISTENCY_LOOSE,          /* stale data allowed */
    CAT_CONSISTENCY_DISABLE,        /* never used for rewrite */
};

/*
 * An index of a view's storage table (the view's physical design): the
 * view's KEY (cols) (named "mvp_key"), an INDEX name (cols), or a default
 * index the proxy chose (named "mvp_auto_*", auto set). Built on the
 * staging table of every complete refresh (engine/cat_index.c).
 */
struct cat_mv_index {
    char *name;                     /* index name on the storage table */
    bool is_key;                    /* declared as the view's KEY (cols) */
    bool is_auto;                   /* a default index (none was declared) */
    size_t n_cols;                  /* columns (>= 1) */
    char **cols;                    /* storage column names, as written, in order */
};

/* Deep copy of the N indexes at V into *OUT (NULL when N is 0); aborts on OOM. */
void cat_mv_indexes_copy(struct cat_mv_index **out, const struct cat_mv_index *v, size_t n);

/* Free the N indexes at V and the array (NULL ignored). */
void cat_mv_indexes_free(struct cat_mv_index *v, size_t n);

/* One materialized view (immutable within a snapshot). */
struct cat_mv {
    char *key;                      /* "db.name", lower case: hash key */
    uint64_t id;                    /* catalog id */
    char *db;                       /* database of the view and its storage table */
    char *name;                     /* view name = storage table name */
    char *query_sql;                /* the AS <select> text, as written (MariaDB dialect) */
    char *create_sql;               /* the whole CREATE statement, as written */
    char *refresh_info;             /* canonical refresh clause, e.g. "REFRESH COMPLETE ON MANUAL" */
    struct cat_refresh_clause refresh; /* the same clause parsed (refresh_info is its text) */
    char *build_mode;               /* "IMMEDIATE" or "DEFERRED" */
    char *properties_json;          /* PROPERTIES as a JSON object text */
    char *comment;                  /* COMMENT or NULL */
    char *owner;                    /* CURRENT_USER() of the creator, "user@host" (split at the
                                       last '@'); refreshes read as this account (SPEC §3).
                                       NULL for views recorded before owners were: they do
                                       not refresh until re-created */
    int64_t grace_period_s;         /* grace_period property, seconds */
    enum cat_consistency consistency; /* query_rewrite_consistency */
    bool rewrite_enabled;           /* ENABLE/DISABLE QUERY REWRITE */
    bool nondeterministic_ok;       /* enable_nondeterministic_function */
    size_t n_excluded;              /* excluded_trigger_tables count */
    char **excluded;                /* "db.table" lower case */
    size_t n_bases;                 /* base tables the definition reads directly */
    char **bases;                   /* "db.table" lower case (a base may be another view) */
    struct rw_mv_model *model;      /* matching model, NULL when it could not be built */
    void (*model_free)(struct rw_mv_model *model); /* frees MODEL; set with it by the layer that
                                       built it (the catalog cannot call the rewriter) */
    char *model_error;              /* why model is NULL, else NULL */
    struct cat_mv_state *state;     /* shared, mutable freshness state */
    bool paused;                    /* PAUSE MATERIALIZED VIEW JOB (State = PAUSED) */
    size_t n_cols;                  /* user column list (CREATE ... (c1, c2)), 0 when none */
    char **col_names;               /* n_cols names */
    char **col_comments;            /* n_cols comments, entries may be NULL */
    int64_t created_ms;             /* creation time (unix ms) */
    struct cat_part_spec *part;     /* PARTITION BY (cat_part.h), NULL when unpartitioned */
    size_t n_indexes;               /* indexes of the storage table (declared or default) */
    struct cat_mv_index *indexes;   /* n_indexes entries, in declaration order */
    UT_hash_handle hh;              /* cat_snapshot.mvs */
};

/* Views that read one base table (directly or through unfolded views). */
struct cat_table_index {
    char *key;                      /* "db.table", lower case */
    size_t n;                       /* number of views */
    struct cat_mv **mvs;            /* the views (borrowed from the snapshot) */
    UT_hash_handle hh;              /* cat_snapshot.by_table */
};

struct cat_snapshot {
    uint64_t version;               /* catalog version; bumps on every change */
    struct cat_mv *mvs;             /* uthash by key */
    struct cat_table *tables;       /* uthash by key: schema of base and storage tables */
    struct cat_table_index *by_table; /* uthash by key: views per base table */
    size_t n_icons;                 /* informational constraints (cat_constraint.c) */
    struct cat_icon *icons;         /* all of them, any table (owned) */
    _Atomic int refcnt;             /* holders */
};

/* Current catalog version (atomic load; cheap). */
uint64_t cat_version(void);

/* Take a reference to the current snapshot; release with cat_snapshot_release(). */
struct cat_snapshot *cat_snapshot_acquire(void);

/* One more reference to SNAP, which the caller already holds (release it
 * with cat_snapshot_release()); lock-free. */
void cat_snapshot_ref(struct cat_snapshot *snap);

/* Drop a reference taken with cat_snapshot_acquire(); NULL is ignored. */
void cat_snapshot_release(struct cat_snapshot *snap);

/* Find a view by database and name (case-insensitive); NULL when absent. */
struct cat_mv *cat_snapshot_find(const struct cat_snapshot *snap, const char *db,
                                 const char *name);

/* Schema of "db"."table" (case-insensitive) or NULL. */
const struct cat_table *cat_snapshot_table(const struct cat_snapshot *snap, const char *db,
                                           const char *table);

/*
 * May MV be used for rewrite at NOW_MS (unix ms)? SPEC §5: usable when
 * fresh, or stale for no more than grace_period; LOOSE always; DISABLE never;
 * a view never refreshed never. On false, writes a reason a DBA understands
 * into WHY (WHYLEN bytes).
 */
bool cat_mv_usable(const struct cat_mv *mv, int64_t now_ms, char *why, size_t whylen);

/* Writer side (engine, writer lock held). Make SNAP (refcount reset to 1, held by the catalog) the current snapshot;
 * the previous one is released. Bumps cat_version() to SNAP->version. */
void cat_snapshot_publish(struct cat_snapshot *snap);

/* Drop the current snapshot (shutdown). */
void cat_snapshot_unpublish(void);

/* Free SNAP and everything it owns (views, tables, index; view states are
 * released by refcount). Called when the last reference goes. */
void cat_snapshot_free(struct cat_snapshot *snap);

/* Write "db.name" lower-cased into BUF (BUFLEN bytes); returns BUF. */
char *cat_make_key(char *buf, size_t buflen, const char *db, const char *name);

/* Copy of MV sharing its state (refcount taken); no model (caller builds one). */
struct cat_mv *cat_mv_dup(const struct cat_mv *mv);
/* Free MV and what it owns (its model through model_free; state by refcount). */
void cat_mv_free(struct cat_mv *mv);
/* A new view state: fresh, never refreshed, rows unknown, refcount 1. */
struct cat_mv_state *cat_mv_state_new(void);
/* Free every view of the hash MVS (a list outside any snapshot). */
void cat_free_mvs(struct cat_mv *mvs);

/* The grace-period rule (SPEC §5), one for views and partitions. */

/* What cat_fresh_usable checks: the whole view, or one partition (range)
 * of a view the caller already found usable as a whole. */
enum cat_fresh_scope {
    CAT_FRESH_VIEW,                 /* + rewrite enabled, consistency not DISABLE, built once */
    CAT_FRESH_PARTITION,            /* only the staleness of the range */
};

/*
 * May MV (or, for CAT_FRESH_PARTITION, a part of it stale since STALE_MS)
 * answer a query at NOW_MS (unix ms)? Fresh (STALE_MS 0) or
 * query_rewrite_consistency LOOSE: yes; ENFORCED: only while
 * NOW_MS - STALE_MS < grace_period (strict: with grace_period 0 a stale
 * view is never used). CAT_FRESH_VIEW also refuses a view with rewrite
 * disabled, consistency DISABLE, or LAST_REFRESH_MS 0 (never built). When
 * false and WHY is non-NULL, the reason is written to WHY (WHYLEN bytes).
 */
bool cat_fresh_usable(const struct cat_mv *mv, enum cat_fresh_scope scope,
                      int64_t last_refresh_ms, int64_t stale_ms, int64_t now_ms, char *why,
                      size_t whylen);

/* Wall-clock time in unix milliseconds. */
int64_t cat_now_ms(void);

#endif /* CAT_H */
