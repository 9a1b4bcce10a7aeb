/*
 * cat_refresh.h - what every refresh engine shares (SPEC §6): the choice of
 * the engine (cat_refresh_pick), the complete engine itself
 * (cat_refresh_view), and the one way a refresh ends (cat_refresh_finish:
 * refresh state, persisted view state, task row, reply, log).
 *
 * The engines: complete (cat_refresh.c), partition (cat_part_refresh.c),
 * incremental (cat_incr.c). The step helpers they share (cat_refresh_run,
 * _open, _stage, _swap, _src ...) are declared in cat_internal.h.
 */
#ifndef CAT_REFRESH_H
#define CAT_REFRESH_H

#include <stdint.h>

#include <mysql.h>

#include "cat_internal.h"
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

#endif /* CAT_REFRESH_H */
