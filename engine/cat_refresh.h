/*
 * cat_refresh.h - what every refresh engine shares (SPEC §6): the choice of
 * the engine (cat_refresh_pick), the complete engine itself
 * (cat_refresh_view), and the one way a refresh ends (cat_refresh_finish:
 * refresh state, persisted view state, task row, reply, log).
 *
 * The engines: complete (cat_refresh.c), partition (cat_part_refresh.c),
 * incremental (cat_incr.c). The step helpers they share (cat_refresh_run,
 * _open, _stage, _swap, _src ...) are declared at the end of this header.
 */
#ifndef CAT_REFRESH_H
#define CAT_REFRESH_H

#include <stdint.h>

#include <mysql.h>

#include "cat.h"
#include "cat_reply.h"
#include "cat_util.h"
#include "cat_task.h"

/* How a refresh rebuilds a view (cat_refresh_pick). */
enum cat_refresh_strategy {
    CAT_RS_COMPLETE = 0,            /* new table from the whole definition, atomic swap */
    CAT_RS_PARTITION,               /* partition by partition (cat_part_refresh.c) */
    CAT_RS_INCREMENTAL,             /* fold appended rows above a watermark (cat_incr.c) */
};

/*
 * The engine a refresh of MV in MODE uses (no backend I/O, cheap). The rules
 * (SPEC §6: AUTO refreshes only invalid partitions, all of an unpartitioned
 * view; COMPLETE rebuilds all; PARTITIONS(...) the listed ones -- as Doris
 * async MVs do; SPEC §4: partitions map to the storage table's RANGE
 * partitions):
 *   PARTITIONS (REFRESH ... PARTITIONS (p1, ...))   -> partition;
 *   FAST or AUTO on a view with incremental_column  -> incremental (an
 *     unpartitioned view only: cat_incr_wanted; Oracle's REFRESH FAST); it
 *     may still decline at run time (not provably safe) and the caller
 *     falls back to the complete engine;
 *   a partitioned view with its partition state     -> partition (which
 *     itself rebuilds every partition for COMPLETE, a never-built view or
 *     an unattributed change, else only the stale ones);
 *   anything else                                   -> complete.
 * NEVER is refused before a task is made (cat_admin.c); treated as AUTO.
 */
enum cat_refresh_strategy cat_refresh_pick(const struct cat_mv *mv, enum cat_refresh_method mode);

/* The task row's mode text of MODE ("AUTO", "COMPLETE", "PARTITIONS",
 * "FAST"; "AUTO" for NONE / NEVER). Static storage. */
const char *cat_refresh_method_name(enum cat_refresh_method mode);

/* What a refresh did, handed to cat_refresh_finish by its engine. */
struct cat_refresh_result {
    enum cat_task_result outcome;       /* CAT_TASK_OK, _FAILED or _CANCELED */
    enum cat_refresh_strategy strategy; /* the engine that ran */
    uint64_t task;                      /* task row id (0: none) */
    int64_t rows;                       /* rows written (task row, OK packet's affected rows) */
    const char *info;                   /* OK: the reply's info text (borrowed) */
    const char *log;                    /* OK: the log line, NULL = INFO */
};

/*
 * End a refresh of MV over its refresh connection C, whatever the engine:
 *   refresh_state SUCCESS / FAILED;
 *   the view's state persisted (cat_store_save_state; partitions too after a
 *     partition refresh; a failed partition refresh persists nothing: the
 *     partitions it refreshed stay unclaimed); a failure to persist is
 *     logged, not reported;
 *   the task row SUCCESS with R->rows, or FAILED with REPLY's error message
 *     (a canceled refresh is FAILED here too: cat_task_run overrides it
 *     with CANCELED and the 1317 reply);
 *   REPLY: OK (R->rows affected, R->info) on success; on failure the
 *     engine has already filled REPLY with the error;
 *   a log line (INFO on success, WARN with the error on failure).
 * The freshness marks (rows, last_refresh, stale_since) are the engine's to
 * set before this call. Borrows everything.
 */
void cat_refresh_finish(MYSQL *c, struct cat_mv *mv, const struct cat_refresh_result *r,
                        struct mvp_reply *reply);

/*
 * The outcome of a failed refresh step: CAT_TASK_CANCELED when the running
 * task was asked to stop (CANCEL, shutdown) or its backend query was killed
 * (cat_task_note_interrupted), else CAT_TASK_FAILED.
 */
enum cat_task_result cat_refresh_failure(void);

/*
 * Refresh view DB.NAME (SPEC §6) in MODE (COMPLETE, or AUTO for anything
 * else): a partitioned view is handed to cat_part_refresh
 * (cat_refresh_pick), any other one is rebuilt completely: task row,
 * backend GET_LOCK, build `name__mvp_new`, atomic RENAME swap, drop the old
 * table, update and persist the state. Fills REPLY with OK ("refreshed
 * db.mv: N rows in S s") or ERR; *OUTCOME (not NULL) gets the outcome
 * (CAT_TASK_BUSY when another refresh holds the view's lock). Returns 0/-1.
 */
int cat_refresh_view(const char *db, const char *name, enum cat_refresh_method mode,
                     struct mvp_reply *reply, enum cat_task_result *outcome);

/* ---- steps the three refresh strategies share (cat_refresh.c, cat.c) ---- */

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

#endif /* CAT_REFRESH_H */
