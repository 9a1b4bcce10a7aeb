/*
 * cat_task.h - every refresh is a task (SPEC §6, §9): a row in the metadata
 * schema's `tasks` table that goes PENDING -> RUNNING -> SUCCESS / FAILED /
 * CANCELED, a slot in the process-wide limit on concurrent refreshes, and
 * an entry in the in-process registry that CANCEL uses to find the
 * backend connection to KILL.
 *
 *   caller (admin thread: REFRESH / BUILD IMMEDIATE; scheduler task thread)
 *     cat_task_run ─ registry entry (one task per view per process)
 *                  ─ row PENDING (owner = this proxy) ─ wait for a slot
 *                  ─ TLS context ─> the engine cat_refresh_pick chose (cat_refresh.h):
 *                        cat_refresh_view / cat_part_refresh / cat_incr_refresh
 *                        cat_store_task_start: row -> RUNNING (+ conn_id), under GET_LOCK
 *                        every step: cat_task_cancel_requested()
 *                        the end: cat_refresh_finish, outcome (enum cat_task_result) up
 *                  ─ row SUCCESS / FAILED / CANCELED ─ slot back ─ cat_sched_task_done
 *
 * Owners: each proxy holds the backend lock "mvproxy.owner.<owner id>" for
 * its lifetime (cat_sched.c). A task row whose owner lock is free belongs
 * to a proxy that died: cat_task_recover() marks it FAILED and KILLs its
 * orphaned refresh query, so a kill -9 never leaves a RUNNING task behind.
 */
#ifndef CAT_TASK_H
#define CAT_TASK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mysql.h>

#include "cat_refresh_clause.h"
#include "cat_reply.h"

/* Who asked for a task (logged; the scheduler uses its outcome). */
enum cat_task_origin {
    CAT_TASK_MANUAL = 0,            /* REFRESH MATERIALIZED VIEW */
    CAT_TASK_BUILD,                 /* CREATE ... BUILD IMMEDIATE */
    CAT_TASK_SCHEDULE,              /* ON SCHEDULE / EVERY (scheduler) */
    CAT_TASK_COMMIT,                /* ON COMMIT (scheduler, debounced) */
};

/* Outcome class of a finished task (scheduler bookkeeping). */
enum cat_task_result {
    CAT_TASK_OK = 0,                /* SUCCESS (or NOT_REFRESH) */
    CAT_TASK_FAILED,                /* FAILED: retry with backoff */
    CAT_TASK_CANCELED,              /* CANCELED by CANCEL ... TASK */
    CAT_TASK_BUSY,                  /* another refresh of the view runs (here or another proxy) */
};

/*
 * Start the task subsystem: MAX_RUNNING concurrent refresh tasks per
 * process (--refresh-tasks / refresh_tasks; 0 = not configured: the
 * environment variable MVPROXY_REFRESH_TASKS, else 1), a fresh owner id.
 * Call once from cat_init before any refresh. Never fails.
 */
void cat_task_init(int max_running);

/* Release the registry (shutdown; no task may be running). */
void cat_task_shutdown(void);

/* This proxy's owner id ("host:pid:random"), stable for the process. */
const char *cat_task_owner(void);

/*
 * Run a refresh of view DB.NAME as a task, on the calling thread, and
 * return when it ended. MODE: CAT_RM_AUTO, CAT_RM_COMPLETE,
 * CAT_RM_PARTITIONS (with N_PARTS names PARTS, borrowed) or CAT_RM_FAST
 * (incremental where provably safe, else AUTO); the engine is chosen by
 * cat_refresh_pick (cat_refresh.h). Fills REPLY with OK (the refresh's
 * info) or ERR (1205 when a refresh of the view already runs, here or on
 * another proxy; 1317/70100 when canceled). *RESULT (may be NULL) gets the
 * outcome class the engine reported. Returns 0 on SUCCESS, -1 otherwise.
 */
int cat_task_run(const char *db, const char *name, enum cat_refresh_method mode, char **parts,
                 size_t n_parts, enum cat_task_origin origin, struct mvp_reply *reply,
                 enum cat_task_result *result);

/*
 * Name WHO ("user@host" as CURRENT_USER() gives it, copied; NULL or "" for
 * none) as the one who starts the tasks the calling thread runs next: it is
 * recorded in the task's row (tasks.run_by) so that its CANCEL is allowed
 * to its owner (SPEC §3). Scheduled tasks have none (NULL).
 */
void cat_task_set_run_by(const char *who);

/*
 * Who started task TASK_ID (tasks.run_by, copied to WHO; "" for the
 * scheduler). Returns 1 when the task exists, 0 when it does not, -1 when
 * the catalog cannot be read.
 */
int cat_task_run_by(uint64_t task_id, char *who, size_t wlen);

/*
 * Record a NOT_REFRESH task (SUCCESS, no rows) for view MV_KEY ("db.name")
 * that a scheduled AUTO found fresh. Best effort (logged on failure).
 */
void cat_task_record_noop(MYSQL *c, uint64_t mv_id, const char *db, const char *name);

/*
 * CANCEL MATERIALIZED VIEW TASK TASK_ID ON DB.NAME: a PENDING task of this
 * proxy ends CANCELED without running; a RUNNING one has its backend query
 * killed (KILL QUERY with the service account; another proxy's task
 * through the conn_id in its row) and ends CANCELED with the view as it
 * was (staging tables dropped). Waits up to 30 s for it to end. Fills
 * REPLY: OK, or ERR 1146 (no such view), 1094/HY000 (unknown task or not
 * of this view), 1105 (already finished: its status). Returns 0/-1.
 */
int cat_task_cancel(const char *db, const char *name, uint64_t task_id,
                    struct mvp_reply *reply);

/*
 * True when the task running on this thread was asked to stop (CANCEL or
 * shutdown). The refresh code calls it before every backend step and
 * fails the step with ERR 1317 when it is set. False outside a task.
 */
bool cat_task_cancel_requested(void);

/*
 * The backend interrupted a query of the task running on this thread (ERR
 * 1317: a KILL QUERY, from this proxy's CANCEL or another proxy's, which
 * reaches the refresh connection through the task row's conn_id): from now
 * on the task counts as canceled (cat_task_cancel_requested). No-op
 * outside a task.
 */
void cat_task_note_interrupted(void);

/*
 * Called by cat_store_task_start on the refresh connection C once the view's
 * refresh lock is held: when the calling thread runs a task, its PENDING
 * row becomes RUNNING with MODE and the connection id, and its id is
 * returned; returns 0 when the thread runs no task (the caller inserts a
 * row of its own).
 */
uint64_t cat_task_started(MYSQL *c, const char *mode);

/*
 * Mark tasks of dead proxies FAILED (SPEC §6 crash safety): PENDING or
 * RUNNING rows whose owner lock is free (or that have no owner); their
 * refresh queries still running on the backend are KILLed first. Run at
 * start and periodically by the scheduler over C (service account).
 * Returns the number of rows marked.
 */
int cat_task_recover(MYSQL *c);

/* Add the owner / conn_id columns to an older `tasks` table (idempotent). */
int cat_task_store_init(MYSQL *c, char *err, size_t errlen);

/* Ask every running task of this process to stop (shutdown); returns how many run. */
int cat_task_stop_all(void);

/* The process-wide limit on concurrent refresh tasks (>= 1). */
int cat_task_max(void);

/* Tasks of this process that run or wait for a slot (any origin: the
 * scheduler, REFRESH, BUILD IMMEDIATE). Any thread. */
int cat_task_count(void);

/* True while a task of view KEY ("db.name") runs or waits in this process. */
bool cat_task_active(const char *key);

#endif /* CAT_TASK_H */
