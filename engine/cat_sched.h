/*
 * cat_sched.h - the refresh scheduler (SPEC §3 refresh clauses, §6): one
 * thread with a timer loop that runs due refreshes as tasks (cat_task.h).
 *
 *   ON SCHEDULE EVERY n unit [STARTS ts] / Oracle EVERY (interval 'x'):
 *       due at STARTS + k*interval, or last refresh + interval; a view
 *       never refreshed: its creation + interval
 *   ON COMMIT: due when observed base changes (change_seq moved) have been
 *       quiet for MVPROXY_COMMIT_DEBOUNCE_MS (default 1000 ms; at most 10x
 *       that after the first change): a burst of writes makes one task;
 *       also when a view it reads finished a refresh
 *   ON MANUAL / ON DEMAND / REFRESH NEVER: never by the scheduler
 *   Layers: a view is held while a view it reads (transitively) runs or is
 *       due, so DWD -> DWS -> ADS refresh in order.
 *   Failures: retried after 2 s, 4 s, 8 s ... (cap 300 s), never in a tight
 *       loop; "another refresh runs" (another proxy holds the view's lock)
 *       is not a failure.
 *   PAUSE MATERIALIZED VIEW JOB: the view is skipped until RESUME.
 *
 * The thread also keeps this proxy's owner lock (cat_task.h), recovers
 * tasks of dead proxies every 10 s, and polls the shared catalog every
 * MVPROXY_CATALOG_POLL_MS (default 1000) ms (cat_sync.c).
 */
#ifndef CAT_SCHED_H
#define CAT_SCHED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cat_reply.h"
#include "cat_task.h"

struct cat_snapshot;
struct cat_refresh_clause;

/* What a view's refresh clause asks of the scheduler. */
enum cat_trig_kind {
    CAT_TRIG_MANUAL = 0,            /* ON MANUAL / ON DEMAND / none / NEVER */
    CAT_TRIG_COMMIT,                /* ON COMMIT */
    CAT_TRIG_SCHEDULE,              /* ON SCHEDULE EVERY / EVERY (INTERVAL ...) */
};

/* A refresh clause as the scheduler reads it. */
struct cat_trigger {
    enum cat_trig_kind kind;        /* when */
    enum cat_refresh_method mode;   /* task mode: CAT_RM_AUTO, _COMPLETE or _FAST */
    bool never;                     /* REFRESH NEVER */
    int64_t every_ms;               /* SCHEDULE: interval, ms (> 0) */
    int64_t starts_ms;              /* SCHEDULE: STARTS (unix ms), 0 when not given */
};

/*
 * What refresh clause RC (struct cat_mv.refresh, parsed once at CREATE /
 * ALTER or when loaded) asks of the scheduler, into OUT. Units: SECOND (an
 * extension, for tests), MINUTE, HOUR, DAY, WEEK; Oracle intervals "5 min",
 * "1 hour", "30 seconds", "2 days", "1 week". Returns 0, or -1 with a
 * reason in ERR (ERRLEN bytes): a unit such as MONTH, a zero count, a
 * STARTS or interval text that is not understood.
 */
int cat_trigger_of(const struct cat_refresh_clause *rc, struct cat_trigger *out, char *err,
                   size_t errlen);

/*
 * Check that refresh clause RC can run (CREATE / ALTER ... REFRESH). Returns
 * 0, or -1 with REPLY = ERR 1235/42000 naming what is wrong (a unit such as
 * MONTH, a zero interval, an interval text that is not understood).
 */
int cat_sched_validate(const struct cat_refresh_clause *rc, struct mvp_reply *reply);

/*
 * Would a view KEY that reads the N tables BASES close a cycle in the
 * view-over-view graph of SNAP (KEY reachable from one of its bases)?
 * Fills WHO (WHOLEN bytes) with the view on the cycle. SPEC §4 layers.
 */
bool cat_sched_would_cycle(const struct cat_snapshot *snap, const char *key, char **bases,
                           size_t n, char *who, size_t wholen);

/* Start / stop the scheduler thread. DEBOUNCE_MS: ON COMMIT debounce,
 * POLL_MS: catalog / other proxies poll interval (each 0 = not configured:
 * MVPROXY_COMMIT_DEBOUNCE_MS / MVPROXY_CATALOG_POLL_MS from the
 * environment, else 1000). Start returns 0 or -1 with ERR. Stop cancels
 * running tasks (they end FAILED/CANCELED, views unchanged) and waits for
 * them (up to 30 s). */
int cat_sched_start(int64_t debounce_ms, int64_t poll_ms, char *err, size_t errlen);
void cat_sched_stop(void);

/*
 * Shutdown drain (SPEC §2): from now on the scheduler starts no task;
 * tasks already running go on (cat_task_count() says how many are left)
 * until cat_sched_stop() cancels what remains. Any thread.
 */
void cat_sched_drain(void);

/* Wake the scheduler now (cheap). */
void cat_sched_kick(void);

/*
 * A task of view KEY ended with RES (called by cat_task_run, any origin):
 * on success the ON COMMIT views that read KEY are triggered.
 */
void cat_sched_task_done(const char *key, enum cat_task_result res);

#endif /* CAT_SCHED_H */
