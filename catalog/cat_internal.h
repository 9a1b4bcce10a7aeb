/*
 * cat_internal.h - functions shared between the catalog's own files; not
 * for the proxy or the rewriter.
 */
#ifndef CAT_INTERNAL_H
#define CAT_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mysql.h>

#include "cat.h"
#include "cat_admin.h"
#include "cat_refresh_clause.h"
#include "cat_reply.h"

/* Make SNAP (refcount reset to 1, held by the catalog) the current snapshot;
 * the previous one is released. Bumps cat_version() to SNAP->version. */
void cat_snapshot_publish(struct cat_snapshot *snap);

/* Drop the current snapshot (shutdown). */
void cat_snapshot_unpublish(void);

/* Free SNAP and everything it owns (views, tables, index; view states are
 * released by refcount). Called when the last reference goes. */
void cat_snapshot_free(struct cat_snapshot *snap);

/* Write "db.name" lower-cased into BUF (BUFLEN bytes); returns BUF. */
char *cat_make_key(char *buf, size_t buflen, const char *db, const char *name);

/* ---- small helpers (cat_util.c) ------------------------------------------------------- */

/* Growable NUL-terminated text buffer; zero-initialise, free with cat_buf_free(). */
struct cat_buf {
    char *p;                        /* text (NUL-terminated once anything was added) */
    size_t len;                     /* bytes used, without the NUL */
    size_t cap;                     /* bytes allocated */
};

void cat_buf_add(struct cat_buf *b, const char *s, size_t n);
void cat_buf_puts(struct cat_buf *b, const char *s);
void cat_buf_printf(struct cat_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Append NAME as a backtick-quoted identifier (` doubled). */
void cat_buf_ident(struct cat_buf *b, const char *name);
/* Append `DB`.`NAME`. */
void cat_buf_qname(struct cat_buf *b, const char *db, const char *name);
/* Append S as a string literal that means the same under every sql_mode
 * ('...' with '' doubling; a hex literal with a utf8mb4 introducer when S
 * holds a backslash or control bytes). NULL appends NULL. */
void cat_buf_lit(struct cat_buf *b, const char *s);
/* Append S as a JSON string (quotes, escapes). */
void cat_buf_json_str(struct cat_buf *b, const char *s);
/* Take the text (caller frees; "" when empty) and reset B. */
char *cat_buf_take(struct cat_buf *b);
void cat_buf_free(struct cat_buf *b);

/* malloc/strdup that abort on out-of-memory (catalog data is small). */
void *cat_xmalloc(size_t n);
void *cat_xcalloc(size_t n, size_t size);
char *cat_xstrdup(const char *s);          /* NULL -> NULL */
char *cat_xstrndup(const char *s, size_t n);
/* ASCII lower-case copy of S, "" for NULL (caller frees; aborts on out-of-memory). */
char *cat_xstrdup_lower(const char *s);
/* ASCII case-insensitive equality. */
bool cat_streq_ci(const char *a, const char *b);
/*
 * Can NAME (UTF-8, NUL-terminated) be a column of a MariaDB table? MariaDB
 * names an unaliased select item by its text, which a result set accepts
 * but CREATE TABLE refuses (ERR 1166 / 1059, sql/table.cc
 * check_column_name): empty, more than 64 characters, or ending in a space.
 */
bool cat_col_name_valid(const char *name);
/*
 * Storage column name for the view output at 1-based position ORDINAL whose
 * MariaDB name NAME is not a valid column name (cat_col_name_valid): the
 * first 50 characters of NAME with every run of other bytes than
 * [A-Za-z0-9_] replaced by one '_' (leading/trailing '_' dropped; "col"
 * when nothing is left), then "_<ORDINAL>"; "_<ORDINAL>_<k>" (k = 2, 3, ...)
 * when that equals (ASCII case-insensitively) one of the N_TAKEN names in
 * TAKEN. Deterministic: the same definition gets the same names. The
 * result is ASCII (at most 64 characters while ORDINAL < 10^6); caller frees.
 */
char *cat_col_name_generate(const char *name, size_t ordinal, const char *const *taken,
                            size_t n_taken);
/* Format unix ms as "YYYY-MM-DD HH:MM:SS" (local time) into BUF; 0 -> "". */
char *cat_fmt_time(char *buf, size_t buflen, int64_t ms);

/*
 * Parse a flat JSON object of string values ({"k":"v",...}) into parallel
 * arrays KEYS/VALUES (caller frees each string and both arrays). Returns the
 * count, or -1 on malformed input. Used for the mvs.properties column.
 */
int cat_json_parse_object(const char *s, char ***keys, char ***values);
/* Parse a JSON array of strings or nulls; same conventions. */
int cat_json_parse_array(const char *s, char ***items);
/* Free an array of N strings and the array. */
void cat_strv_free(char **v, size_t n);

/*
 * Prepare refresh connection C (cat_refresh.c, cat_part_refresh.c,
 * cat_incr.c) right after it is opened: with refresh_log_bin off
 * (cat_config.refresh_log_bin / MVPROXY_REFRESH_LOG_BIN) runs SET SESSION
 * sql_log_bin = 0, so nothing the refresh writes (storage tables, their
 * DDL, its task and state rows) reaches the backend's binlog. Needs SUPER
 * or BINLOG ADMIN; a refusal is logged once and the refresh runs logged.
 */
void cat_refresh_session(MYSQL *c);

/*
 * Run the SQL in B (freed) on C as one step of a refresh of MV. WHAT names
 * the step for messages, KIND the refresh ("refresh", "incremental
 * refresh"). Honours CANCEL MATERIALIZED VIEW TASK before the step (ERR
 * 1317). Stores affected rows in *AFFECTED when not NULL. Returns 0, or -1
 * with REPLY filled with the backend's error.
 */
int cat_refresh_run(MYSQL *c, struct cat_buf *b, const struct cat_mv *mv, const char *kind,
                    const char *what, struct mvp_reply *reply, int64_t *affected);

/*
 * Open a service connection for refreshing MV: registered with the binlog
 * follower as the proxy's own (its writes are not base changes), set up by
 * cat_refresh_session(), holding GET_LOCK("mvproxy.refresh.<db.mv>") so one
 * refresh of a view runs at a time across proxies (SPEC §6). Writes the lock
 * name into LOCKNAME (LOCKNAME_LEN bytes). Returns NULL with REPLY = ERR 2003
 * when the backend cannot be reached; else the connection, with *LOCKED
 * false and REPLY = ERR 1205 when another refresh holds the lock. Close with
 * cat_refresh_close().
 */
MYSQL *cat_refresh_open(const struct cat_mv *mv, char *lockname, size_t lockname_len,
                        bool *locked, struct mvp_reply *reply);

/* Release LOCKNAME when LOCKED, unregister and close C (NULL is ignored). */
void cat_refresh_close(MYSQL *c, const char *lockname, bool locked);

/*
 * ANALYZE TABLE DB.TABLE over C: fresh InnoDB statistics for a storage
 * table built by a complete refresh, before it is swapped in (until InnoDB
 * recomputes them on its own the optimizer sees a few dozen rows and
 * full-scans). Persistent-statistics sampling, not a table scan (MariaDB
 * 10.4+ collects engine-independent statistics only on request). A
 * failure is logged as a warning naming VIEW_KEY; never fatal.
 */
void cat_refresh_analyze(MYSQL *c, const char *db, const char *table, const char *view_key);

/*
 * Stage a rebuild of MV (shared by complete, partition and incremental
 * refresh): sets *NN / *ON to the staging names "<mv>__mvp_new" and
 * "<mv>__mvp_old" (malloc'd, caller frees, set even on failure), drops
 * leftovers of both, then CREATE TABLE <nn> LIKE <mv>, or, when the
 * storage table is missing or its columns no longer match the definition
 * (dropped or altered behind the proxy, cat_refresh_storage_ok), CREATE
 * TABLE <nn> AS SELECT ... WHERE 0 from the definition read through the
 * owner's view (the partitioned engine partitions it next). B is a scratch
 * buffer (left empty). KIND as for cat_refresh_run. Returns 0, or -1 with
 * REPLY filled.
 */
int cat_refresh_stage(MYSQL *c, struct cat_buf *b, const struct cat_mv *mv, const char *kind,
                      char **nn, char **on, struct mvp_reply *reply);

/*
 * Swap the filled staging table NN in for MV atomically (RENAME TABLE mv
 * TO on, nn TO mv; just nn TO mv when MV's table is missing), then drop
 * ON; a failed drop is only logged (the next
 * refresh drops leftovers). Returns 0, or -1 with REPLY filled when the
 * RENAME failed (NN is then still there: cat_refresh_drop_staging).
 */
int cat_refresh_swap(MYSQL *c, struct cat_buf *b, const struct cat_mv *mv, const char *kind,
                     const char *nn, const char *on, struct mvp_reply *reply);

/* Best-effort DROP TABLE IF EXISTS of staging table NN of MV after a failed step. */
void cat_refresh_drop_staging(MYSQL *c, const struct cat_mv *mv, const char *nn);

/*
 * The owner's view of a refresh step (SPEC §3: a refresh reads with the
 * rights of the view's owner, never the service account's). On C, creates
 *   CREATE OR REPLACE DEFINER=<mv->owner> SQL SECURITY DEFINER
 *       VIEW <meta>.mvp_src_<id>_<slot> AS <SELECT_SQL>
 * so that a statement reading it is checked by the backend with the
 * owner's privileges at execution (a REVOKE counts at the next refresh, an
 * SQL SECURITY INVOKER function inside runs as the owner), then appends its
 * qualified name to OUT. The service account needs SET USER (SUPER before
 * MariaDB 10.5.2) and CREATE VIEW/DROP on the metadata schema. SELECT_SQL
 * is borrowed; SLOT tells apart views alive at once (one per partition of
 * a batch). Unqualified tables resolve against C's current database. A
 * view without a recorded owner (catalogs of older versions) is refused:
 * ERR 1449 asking to re-create it. Returns 0, or -1 with REPLY filled
 * (KIND as for cat_refresh_run). Drop with cat_refresh_src_drop.
 */
int cat_refresh_src(MYSQL *c, const struct cat_mv *mv, unsigned slot, const char *select_sql,
                    const char *kind, struct cat_buf *out, struct mvp_reply *reply);

/* Best-effort DROP VIEW IF EXISTS of MV's owner views SLOT0 .. SLOT0+N-1 on C. */
void cat_refresh_src_drop(MYSQL *c, const struct cat_mv *mv, unsigned slot0, unsigned n);

/*
 * "SELECT * FROM (<SQL>) AS mvp_def", or with MV's column list
 * "WITH mvp_def (c1, ...) AS (<SQL>) SELECT * FROM mvp_def", into B: the
 * definition (or a restriction of it) with the view's output names.
 */
void cat_refresh_def_sql(struct cat_buf *b, const struct cat_mv *mv, const char *sql);

/*
 * Does MV's storage table exist on C with the columns its definition
 * outputs (same count and names, in order)? Reads the definition through
 * the owner's view (slot CAT_SRC_CHECK). Returns 1 when it does, 0 when the
 * table is missing or was altered behind the proxy (a complete refresh
 * rebuilds it from the definition: cat_refresh_stage), -1 with REPLY
 * filled when the definition cannot be read.
 */
int cat_refresh_storage_ok(MYSQL *c, const struct cat_mv *mv, const char *kind,
                           struct mvp_reply *reply);

#define CAT_SRC_CHECK 9999u          /* cat_refresh_src slot of the storage check and staging */

/* Logging through the proxy's px_log when linked in, else stderr. */
void cat_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define CAT_LOG_ERROR 0
#define CAT_LOG_WARN 1
#define CAT_LOG_INFO 2
#define CAT_LOG_DEBUG 3

/* ---- admin statement parser (cat_parse.c) ----------------------------------------------- */

enum cat_stmt_kind {
    CAT_ST_CREATE = 1,              /* CREATE MATERIALIZED VIEW */
    CAT_ST_REFRESH,                 /* REFRESH MATERIALIZED VIEW */
    CAT_ST_ALTER_RENAME,            /* ALTER MATERIALIZED VIEW mv RENAME new */
    CAT_ST_ALTER_REFRESH,           /* ALTER MATERIALIZED VIEW mv REFRESH <clause> */
    CAT_ST_ALTER_SET,               /* ALTER MATERIALIZED VIEW mv SET ("k" = "v") */
    CAT_ST_DROP,                    /* DROP MATERIALIZED VIEW */
    CAT_ST_PAUSE,                   /* PAUSE MATERIALIZED VIEW JOB ON mv */
    CAT_ST_RESUME,                  /* RESUME MATERIALIZED VIEW JOB ON mv */
    CAT_ST_CANCEL,                  /* CANCEL MATERIALIZED VIEW TASK id ON mv */
    CAT_ST_SHOW_MVS,                /* SHOW MATERIALIZED VIEWS */
    CAT_ST_SHOW_CREATE,             /* SHOW CREATE MATERIALIZED VIEW */
    CAT_ST_SHOW_PARTITIONS,         /* SHOW PARTITIONS FROM mv */
    CAT_ST_SELECT_TF,               /* SELECT ... FROM mv_infos(...) / tasks(...) */
    CAT_ST_EXPLAIN_REWRITE,         /* EXPLAIN REWRITE <select> */
    CAT_ST_ADD_CONSTRAINT,          /* ALTER TABLE t ADD CONSTRAINT c ... NOT ENFORCED */
    CAT_ST_DROP_CONSTRAINT,         /* ALTER TABLE t DROP CONSTRAINT c (informational only) */
    CAT_ST_SET_CONSTRAINTS,         /* ALTER TABLE t SET ("unique_constraints" = ...) (StarRocks) */
    CAT_ST_SHOW_CONSTRAINTS,        /* SHOW CONSTRAINTS FROM t */
    CAT_ST_ALTER_INDEX,             /* ALTER MATERIALIZED VIEW mv {ADD INDEX i (c, ...) | DROP INDEX i} */
};

/* One informational constraint as written (ADD CONSTRAINT, or one entry of
 * a StarRocks property); strings owned. */
struct cat_con_spec {
    enum cat_con_type type;         /* PRIMARY KEY / UNIQUE / FOREIGN KEY */
    char *name;                     /* as written, or generated for StarRocks properties */
    size_t n_cols;                  /* constrained columns */
    char **cols;                    /* as written */
    char *ref_db;                   /* FOREIGN KEY: referenced table's qualifier or NULL */
    char *ref_name;                 /* FOREIGN KEY: referenced table, else NULL */
    size_t n_ref_cols;              /* FOREIGN KEY: referenced columns */
    char **ref_cols;                /* as written */
};

/* Free what SPEC owns and zero it. */
void cat_con_spec_free(struct cat_con_spec *spec);

/*
 * Parse the StarRocks table properties "unique_constraints" (VALUE: keys
 * separated by ';', columns of one key by ',': "c1;c2,c3") or
 * "foreign_key_constraints" (FK true; "(c1, c2) REFERENCES [db.]t(c1, c2)
 * [; ...]") into OUT / N (appended; caller frees each with
 * cat_con_spec_free and the array). Generated names: "uk_<k>" / "fk_<k>",
 * K counting from 1 in the order written. An empty VALUE gives no
 * constraint. Returns 0, or -1 with ERR (1231/42000 naming the property and
 * the bad text); OUT / N then hold what was parsed so far.
 */
int cat_con_parse_prop(const char *value, bool fk, struct cat_con_spec **out, size_t *n,
                       struct mvp_reply *err);

/* enum cat_refresh_method, enum cat_refresh_trigger, struct cat_refresh_clause:
 * cat_refresh_clause.h */

/* One PROPERTIES / SET entry. */
struct cat_prop {
    char *key;                      /* lower-cased key */
    char *value;                    /* value as written (unquoted) */
};

/* Which table function a CAT_ST_SELECT_TF statement reads. */
enum cat_tf_kind {
    CAT_TF_MV_INFOS = 1,            /* mv_infos('database' = 'db') */
    CAT_TF_TASKS,                   /* tasks('type' = 'mv') */
};

/* A parsed admin statement; strings owned; free with cat_stmt_free(). */
struct cat_stmt {
    enum cat_stmt_kind kind;        /* statement */
    char *sql;                      /* the statement text (copy) */
    size_t len;                     /* its length */
    bool if_exists;                 /* DROP ... IF EXISTS */
    bool if_not_exists;             /* CREATE ... IF NOT EXISTS */
    char *db;                       /* qualifier of the view name, or NULL */
    char *name;                     /* view name */
    char *new_name;                 /* ALTER ... RENAME target */
    char *new_db;                   /* ALTER ... RENAME target's qualifier or NULL */
    size_t n_cols;                  /* CREATE column list */
    char **col_names;               /* n_cols names */
    char **col_comments;            /* n_cols comments (NULL when none) */
    int build;                      /* 0 not given, 1 IMMEDIATE, 2 DEFERRED */
    bool has_refresh;               /* a refresh clause was given */
    struct cat_refresh_clause refresh; /* CREATE / ALTER refresh clause */
    char *partition_by;             /* PARTITION BY text or NULL */
    bool distributed;               /* DISTRIBUTED BY given (ignored) */
    bool with_options;              /* WITH (...) given (ignored) */
    char *comment;                  /* COMMENT '...' or NULL */
    int rewrite;                    /* -1 not given, 0 DISABLE, 1 ENABLE QUERY REWRITE */
    size_t n_props;                 /* PROPERTIES / SET entries */
    struct cat_prop *props;         /* n_props entries */
    size_t query_off;               /* CREATE AS <select> / EXPLAIN REWRITE <select>: offset */
    size_t query_len;               /* ... and length (trailing ';' and blanks excluded) */
    enum cat_refresh_method refresh_mode; /* REFRESH MATERIALIZED VIEW mode */
    size_t n_parts;                 /* REFRESH ... PARTITIONS (...) */
    char **parts;                   /* partition names */
    uint64_t task_id;               /* CANCEL ... TASK id */
    char *show_db;                  /* SHOW ... FROM db */
    char *like;                     /* SHOW ... LIKE 'pattern' */
    enum cat_tf_kind tf;            /* SELECT_TF: which function */
    size_t tf_off;                  /* SELECT_TF: offset of the function name */
    size_t tf_end;                  /* SELECT_TF: offset after its closing ')' */
    char *tf_database;              /* mv_infos('database' = ...) or NULL */
    bool tf_star_only;              /* SELECT * FROM fn(...) [;] exactly */
    bool tf_alias;                  /* the function is followed by an alias */
    size_t n_cons;                  /* ADD / SET CONSTRAINTS: the constraints */
    struct cat_con_spec *cons;      /* n_cons entries (owned) */
    char *con_name;                 /* DROP CONSTRAINT: the name; ALTER_INDEX: the index */
    bool index_drop;                /* ALTER_INDEX: DROP INDEX (else ADD INDEX con_name (parts)) */
    bool set_unique;                /* SET: "unique_constraints" given (replaces PK/UNIQUE) */
    bool set_foreign;               /* SET: "foreign_key_constraints" given (replaces FKs) */
};

/*
 * Parse LEN bytes of SQL as an admin statement into ST (zeroed by the
 * caller; free with cat_stmt_free even on failure). Returns 1 when it is an
 * admin statement and parsed, 0 when it is not an admin statement (relay),
 * -1 when it is one but malformed or has bad PROPERTIES: ERR is filled
 * (1064/42000 with the 1-based byte position, 1911 unknown property,
 * 1231/42000 bad value). SPEC §3.
 */
int cat_parse(const char *sql, size_t len, struct cat_stmt *st, struct mvp_reply *err);

/* Case-insensitive search for NEEDLE (lower case) in LEN bytes at HAY. */
bool cat_contains_ci(const char *hay, size_t len, const char *needle);
void cat_stmt_free(struct cat_stmt *st);

/* Effective settings from PROPERTIES. */
struct cat_props {
    int64_t grace_period_s;         /* grace_period, seconds */
    enum cat_consistency consistency; /* query_rewrite_consistency */
    bool nondeterministic_ok;       /* enable_nondeterministic_function */
    int rewrite;                    /* use_for_rewrite: -1 not given, 0/1 */
    size_t n_excluded;              /* excluded_trigger_tables */
    char **excluded;                /* as written (unqualified or db.t) */
};

/*
 * Validate N properties PROPS (SPEC §3 table plus Doris keys accepted and
 * ignored: replication_num, ...). Fills OUT (free with cat_props_free).
 * Returns 0, or -1 with ERR filled: unknown key (1911/HY000 naming it) or a
 * bad value (1231/42000 naming key and value).
 */
int cat_props_validate(size_t n, const struct cat_prop *props, struct cat_props *out,
                       struct mvp_reply *err);
void cat_props_free(struct cat_props *p);

/* cat_refresh_text: cat_refresh_clause.h */

/* ---- catalog core (cat.c) --------------------------------------------------------------- */

/* Open a new service-account connection (caller closes with mysql_close).
 * Returns NULL with a one-line reason in ERR. */
MYSQL *cat_connect(char *err, size_t errlen);
/* Same with a read/write timeout of TIMEOUT_S seconds (0 = library default). */
MYSQL *cat_connect_timeout(unsigned timeout_s, char *err, size_t errlen);

/* Run SQL on C discarding any result; returns 0 or -1 with ERR (message
 * with the MySQL code) and, when CODE is not NULL, the error number. */
int cat_q(MYSQL *c, const char *sql, char *err, size_t errlen, unsigned *code);

/* Metadata schema name (valid after cat_init). */
const char *cat_meta_schema(void);

/* Lock / unlock the catalog writer mutex (admin threads). */
void cat_writer_lock(void);
void cat_writer_unlock(void);

/* Deep copy of MV (shares MV->state with a new reference; model not copied). */
struct cat_mv *cat_mv_dup(const struct cat_mv *mv);
/* Free MV (model, strings; releases the state reference). */
void cat_mv_free(struct cat_mv *mv);
/* New view state: fresh, never refreshed, rows -1, refcount 1. */
struct cat_mv_state *cat_mv_state_new(void);

/*
 * Build and publish the next snapshot from MVS (a uthash of views, consumed):
 * fetch the schema of every base and storage table over C, build models in
 * dependency order and the by_table index. Caller holds the writer lock.
 * Returns 0, or -1 with ERR (nothing published, MVS freed).
 */
int cat_publish_mvs(MYSQL *c, struct cat_mv *mvs, char *err, size_t errlen);

/*
 * Re-read MV's PARTITION BY from its stored CREATE text, resolve it over C
 * and load its partition state (at start and when another proxy's view
 * is loaded, cat_sync.c). A view whose partitioning cannot be resolved is
 * kept unpartitioned and not used for rewrite (logged).
 */
void cat_load_partitioning(MYSQL *c, struct cat_mv *mv);

/* Free a hash of views (a writer abandoning its change). */
void cat_free_mvs(struct cat_mv *mvs);

/* Build the by_table index of a hand-made SNAP (mvs filled, no models);
 * for unit tests of the freshness marking. */
void cat_snapshot_index(struct cat_snapshot *snap);

/* Copy of the current snapshot's views (caller owns the hash). */
struct cat_mv *cat_current_mvs(void);

/* Views in SNAP that read view MV directly (borrowed), up to MAX into OUT; returns the count. */
size_t cat_dependents(const struct cat_snapshot *snap, const struct cat_mv *mv,
                      struct cat_mv **out, size_t max);

/* ---- store (cat_store.c) ---------------------------------------------------------------- */

/*
 * Validate N PROPS and apply them to MV: properties_json (canonical JSON of
 * PROPS), grace_period_s, consistency, rewrite_enabled (use_for_rewrite),
 * nondeterministic_ok, excluded ("db.table" keys, unqualified names in
 * MV->db). Returns 0, or -1 with ERR (MV unchanged).
 */
int cat_mv_set_props(struct cat_mv *mv, size_t n, const struct cat_prop *props,
                     struct mvp_reply *err);

/* Create the metadata schema and its tables if missing. */
int cat_store_init_schema(MYSQL *c, char *err, size_t errlen);
/* Load every view row into a new uthash *MVS (models and tables not built). */
int cat_store_load(MYSQL *c, struct cat_mv **mvs, char *err, size_t errlen);
/* Insert MV's row; sets MV->id. */
int cat_store_insert(MYSQL *c, struct cat_mv *mv, char *err, size_t errlen);
/* Rewrite MV's definition fields (name, refresh, properties, paused ...). */
int cat_store_update_def(MYSQL *c, const struct cat_mv *mv, char *err, size_t errlen);
/* Persist MV's freshness state (last refresh, stale since, rows, refresh state). */
int cat_store_save_state(MYSQL *c, const struct cat_mv *mv, char *err, size_t errlen);
/* Persist only stale_since_ms of view ID (freshness thread). */
int cat_store_save_stale(MYSQL *c, uint64_t id, int64_t stale_since_ms, char *err, size_t errlen);
/* Delete view ID's row. */
int cat_store_delete(MYSQL *c, uint64_t id, char *err, size_t errlen);
/* Start a task row (RUNNING) for MV with MODE; returns the task id or 0 on error. */
uint64_t cat_store_task_start(MYSQL *c, const struct cat_mv *mv, const char *mode);
/* Finish task TASK_ID with STATUS (SUCCESS/FAILED), ROWS and ERROR (may be NULL). */
void cat_store_task_finish(MYSQL *c, uint64_t task_id, const char *status, int64_t rows,
                           const char *error);
/* Mark tasks left RUNNING/PENDING by a previous process FAILED. */
void cat_store_task_recover(MYSQL *c);

/* ---- informational constraints (cat_constraint.c) ---------------------------------------- */

/* Create `constraints` in the metadata schema if missing. Returns 0 / -1 with ERR. */
int cat_icons_store_init(MYSQL *c, char *err, size_t errlen);

/* Read every informational constraint of the metadata schema over C into
 * SNAP->icons (replacing what it held). On failure SNAP keeps none (logged). */
void cat_icons_load(MYSQL *c, struct cat_snapshot *snap);

/*
 * The informational constraint NAME (case-insensitive) of table DB.TABLE in
 * SNAP, or NULL. Borrowed from SNAP.
 */
const struct cat_icon *cat_icon_find(const struct cat_snapshot *snap, const char *db,
                                     const char *table, const char *name);

/*
 * Run ADD CONSTRAINT / DROP CONSTRAINT / SET ("..._constraints") / SHOW
 * CONSTRAINTS statement ST for a session whose current database is DB (may
 * be NULL); EXEC/EXEC_CTX run SQL as the client (the existence and key
 * checks read information_schema with the client's privileges). Fills REPLY
 * with OK, a result set or an ERR; a failed statement changes nothing.
 */
void cat_constraint_run(struct cat_stmt *st, const char *db, cat_exec_fn exec, void *ctx,
                        struct mvp_reply *reply);

/* ---- freshness (cat_fresh.c) ------------------------------------------------------------ */

/* Start / stop the background thread that persists freshness marks. */
int cat_fresh_start(char *err, size_t errlen);
void cat_fresh_stop(void);
/* Wake the persistence thread (cheap; never blocks). */
void cat_fresh_kick(void);
/*
 * Mark the views of SNAP over the tables the write statement SQL names
 * (see cat_note_write) stale from NOW_MS; returns the number of views whose
 * change_seq moved. Pure in-memory; used by cat_note_write and unit tests.
 */
int cat_mark_writes(const struct cat_snapshot *snap, const char *sql, size_t len, const char *db,
                    int64_t now_ms);

/*
 * The one marking path, used by the proxy-DML scanner above and by the
 * binlog follower (cat_binlog.c). A struct cat_marked collects the views
 * one change marked, so each view is marked once per change; zero it
 * before use, free with cat_marked_free().
 */
struct cat_marked {
    struct cat_mv **v;              /* views marked by this change (borrowed from the snapshot) */
    size_t n;                       /* count */
};
/*
 * Mark every view of SNAP over table KEY ("db.table", lower case; not in
 * its excluded_trigger_tables) and the view whose storage table KEY is:
 * stale_since goes from 0 to WHEN_MS, or down to WHEN_MS when it was
 * later (the earliest unreflected change wins); change_seq++; the state is
 * queued for persistence. Lock-free (atomics); SNAP may be NULL.
 */
void cat_mark_table(const struct cat_snapshot *snap, const char *key, struct cat_marked *m,
                    int64_t when_ms);
/* Same for table NAME in database DB; DB NULL or "" means "any database"
 * (an unqualified name with no current database). */
void cat_mark_name(const struct cat_snapshot *snap, const char *db, const char *name,
                   struct cat_marked *m, int64_t when_ms);
/* Mark every view of SNAP (a change the follower cannot attribute). */
void cat_mark_all(const struct cat_snapshot *snap, struct cat_marked *m, int64_t when_ms);
void cat_marked_free(struct cat_marked *m);

/* Called by cat_scan_writes for each table name a write statement may
 * write: DB is the qualifier or the default database (NULL when neither),
 * NAME the lower-cased name (both valid during the call only). */
typedef void (*cat_write_name_fn)(const char *db, const char *name, void *arg);
/*
 * The write scanner: for every statement of SQL (LEN bytes, ';'-separated)
 * whose first keyword changes data or definitions (INSERT, REPLACE,
 * UPDATE, DELETE, TRUNCATE, LOAD, ALTER, DROP, RENAME), call FN for each
 * IDENT / IDENT.IDENT in it (conservative: columns too). Returns the number
 * of calls.
 */
int cat_scan_writes(const char *sql, size_t len, const char *db, cat_write_name_fn fn,
                    void *arg);
/* Cheap test: may SQL write (first keyword a write word, or several statements)? */
bool cat_sql_is_write(const char *sql, size_t len);
/*
 * Persist every dirty view state over C now (waits for a flush in progress
 * on the freshness thread). Returns 0 when every mark made before the call
 * is stored, -1 with ERR otherwise. Used by the binlog follower before it
 * records its position.
 */
int cat_fresh_flush_sync(MYSQL *c, char *err, size_t errlen);

/* ---- refresh (cat_refresh.c): cat_refresh.h ---- */

/* ---- introspection (cat_show.c) --------------------------------------------------------- */

/* SHOW MATERIALIZED VIEWS [FROM db] [LIKE pat] / mv_infos rows (SPEC §9). */
void cat_show_mvs(const struct cat_snapshot *snap, const char *db, const char *like,
                  struct mvp_reply *reply);
/* tasks('type'='mv') rows (SPEC §9) read from the metadata schema. */
int cat_show_tasks(struct mvp_reply *reply);
/* SHOW CREATE MATERIALIZED VIEW text of MV (caller frees). */
char *cat_show_create_text(const struct cat_mv *mv);
/* SHOW PARTITIONS FROM mv: one row for an unpartitioned view (SPEC §9). */
void cat_show_partitions(const struct cat_mv *mv, struct mvp_reply *reply);
/* R's rows as a derived table "(SELECT ... UNION ALL ...) AS `ALIAS`" (ALIAS
 * may be NULL); caller frees. */
char *cat_rows_as_derived(const struct mvp_reply *r, const char *alias);
/* SQL LIKE match of S against PAT (% and _; case-insensitive). */
bool cat_like(const char *s, const char *pat);

#endif /* CAT_INTERNAL_H */
