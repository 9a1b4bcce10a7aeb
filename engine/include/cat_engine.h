/*
 * cat_engine.h - the engine's interface to the proxy: start and stop the
 * catalog engine (load from the metadata schema, refresh tasks, scheduler,
 * binlog follower, probe, multi-proxy sync), the shutdown drain, and the
 * write marker that proxy DML calls. Admin statements: cat_admin.h.
 */
#ifndef CAT_ENGINE_H
#define CAT_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cat.h"

/* Settings the proxy hands to the catalog at start (from flags/config). */
struct cat_config {
    const char *backend_host;       /* backend address */
    unsigned backend_port;          /* backend TCP port */
    const char *service_user;       /* service account */
    const char *service_password;   /* its password ("" for none) */
    const char *meta_schema;        /* metadata schema, default "mvproxy_meta" */
    /* Refresh engine tuning; 0 = not configured: the environment variable
     * named, else the built-in default, is used (cat_task.h, cat_sched.h). */
    int refresh_tasks;              /* concurrent refresh tasks (MVPROXY_REFRESH_TASKS, 1) */
    int64_t commit_debounce_ms;     /* ON COMMIT debounce (MVPROXY_COMMIT_DEBOUNCE_MS, 1000) */
    int64_t catalog_poll_ms;        /* catalog / other proxies poll (MVPROXY_CATALOG_POLL_MS, 1000) */
    /* Refresh writes in the backend's binlog: 1 logged, -1 not (SET SESSION
     * sql_log_bin = 0 on refresh connections), 0 = not configured: env
     * MVPROXY_REFRESH_LOG_BIN (on/off), else logged. */
    int refresh_log_bin;
    /* TLS of the engine's own libmariadb connections (service user, refresh
     * tasks, binlog follower, probe, sync), as --backend-tls: 0 disabled,
     * 1 preferred (TLS when the backend offers it), 2 required, 3 verify-ca
     * (certificate checked against backend_tls_ca), 4 verify-full (and the
     * host name; libmariadb checks the name whenever it verifies). */
    int backend_tls;
    const char *backend_tls_ca;     /* PEM CA file or NULL */
    const char *backend_tls_cert;   /* client certificate or NULL */
    const char *backend_tls_key;    /* its key or NULL */
};

/*
 * Connect to the backend with the service account, create the metadata
 * schema if missing, load every view and publish the first snapshot.
 * Returns 0, or -1 with a one-line reason in ERR (ERRLEN bytes).
 */
int cat_init(const struct cat_config *cfg, char *err, size_t errlen);

/* Stop background work and release the catalog. Refresh tasks still
 * running are cancelled (they end FAILED/CANCELED, views unchanged). */
void cat_shutdown(void);

/*
 * Shutdown drain, step 1 (SPEC §2): no new scheduled refresh starts from
 * now on; running ones go on. Returns at once. Main thread.
 */
void cat_drain_begin(void);

/* Refresh tasks of this process still running or waiting (0 = drained). */
int cat_drain_pending(void);

/* Drain cut off (timeout, second signal): cancel every running refresh
 * task; each ends FAILED/CANCELED, its view unchanged. Returns at once. */
void cat_drain_cancel(void);

/*
 * Note a write statement SQL (LEN bytes) that a client sent through the
 * proxy with current database DB (may be NULL): every view over a table it
 * writes (INSERT, REPLACE, UPDATE, DELETE, TRUNCATE, LOAD DATA, ALTER/DROP/
 * RENAME TABLE) becomes stale from NOW_MS. Returns the number of views
 * marked. Cheap when the statement is a read. Thread-safe.
 * MODE is the session's sql_mode as RW_MODE_* flags (base/rw_sqlmode.h;
 * 0 = MariaDB's default): the statement is lexed as the server reads it
 * (under ANSI_QUOTES, UPDATE "t" SET ... writes table t), and under any
 * mode but 0 partitioned views are marked whole (issue 11).
 */
int cat_note_write(const char *sql, size_t len, const char *db, uint32_t mode, int64_t now_ms);

/*
 * The freshness fence (issue 12; SPEC §5 "every change committed more than
 * grace_period seconds before the query"). A view is known stale only once
 * the binlog follower has read the change; a write made directly on the
 * backend a moment before a query may not be read yet. Before an answer
 * from a view, the session waits until the follower has read the backend's
 * binlog up to a position fetched after the query arrived (grace 0), or
 * fetched at most GRACE ms before it (shared by every session: one
 * SHOW MASTER STATUS per batch of waiters, on the fence thread's own
 * connection), and until the partition probe has resolved every change
 * handed to it. Without the follower the fence is off: the guarantee is
 * then that of the probe and of proxy DML (SHOW MATERIALIZED VIEWS
 * FreshnessSource says which).
 *
 * A waiter is the caller's (embedded in its session, no allocation); the
 * engine links it while it waits and calls WAKE(ARG) from an engine thread
 * (under the fence's lock: WAKE must only signal, e.g. event_active) when
 * cat_fence_poll may now pass. Use from one thread per waiter.
 */
struct cat_fence_waiter {
    uint64_t ticket;                /* generation of the position fetch that covers it */
    uint64_t target;                /* binlog key (cat_fence.c) the follower must reach */
    bool has_target;                /* target is known (its fetch completed) */
    bool linked;                    /* on the engine's waiter list */
    void (*wake)(void *arg);        /* signal: poll again */
    void *arg;                      /* its argument */
    struct cat_fence_waiter *prev;  /* waiter list (engine-owned while linked) */
    struct cat_fence_waiter *next;
};

enum cat_fence_result {
    CAT_FENCE_PASSED = 0,           /* the follower has read every change that matters */
    CAT_FENCE_WAIT,                 /* not yet: W is linked; WAKE comes, then poll again */
    CAT_FENCE_OFF,                  /* no binlog follower: nothing to wait for */
};

/*
 * Start fencing a query that arrived at NOW_MS (wall clock, cat_now_ms)
 * and would be answered from views whose smallest grace period is GRACE_MS
 * (0 = strict). Returns PASSED when a position fetched no earlier than
 * NOW_MS - GRACE_MS (strictly after the arrival when GRACE_MS is 0) is
 * already read, WAIT (W linked, a fetch requested when needed) or OFF.
 * W must not be linked. Thread-safe.
 */
enum cat_fence_result cat_fence_begin(struct cat_fence_waiter *w, int64_t grace_ms,
                                      int64_t now_ms, void (*wake)(void *arg), void *arg);

/* Check waiter W again: PASSED (W unlinked) or WAIT (still linked). */
enum cat_fence_result cat_fence_poll(struct cat_fence_waiter *w);

/* Stop waiting (timeout, session closed): unlink W; no WAKE after the
 * return. Safe on a waiter that is not linked. */
void cat_fence_end(struct cat_fence_waiter *w);

/* Fence counters since start (SHOW PROXY STATUS style, and tests):
 * queries fenced, of which passed at once, passed after waiting; position
 * fetches made. Thread-safe; any pointer may be NULL. */
void cat_fence_stats(uint64_t *fenced, uint64_t *at_once, uint64_t *waited, uint64_t *fetches);

/*
 * The cost-based choice (issue 12; engine/cat_cost.c for the estimate and
 * the rule). Before a rewrite is sent, the dispatcher asks whether the
 * backend's optimizer expects the original statement to be cheaper.
 */
enum cat_cost_verdict {
    CAT_COST_UNKNOWN = 0,           /* no estimate yet (one is being made) or none possible */
    CAT_COST_REWRITE,               /* the rewrite is expected no dearer: send it */
    CAT_COST_ORIGINAL,              /* the original is expected cheaper: relay it */
};

/*
 * Judge the rewrite REW (RLEN bytes) of the statement ORIG (OLEN bytes)
 * run in database DB (NULL: none) under SQL_MODE (RW_MODE_* flags), with
 * the catalog at VERSION, at NOW_MS. A current estimate answers at once.
 * Otherwise the answer is UNKNOWN: the first time a text is seen it is only
 * remembered, the second time an estimate is requested from the estimate
 * thread (the texts are copied), so a text that never comes back costs the
 * backend nothing. Always UNKNOWN under a non-default sql_mode and for a
 * statement longer than 16 KiB. Thread-safe; never blocks on the backend.
 */
enum cat_cost_verdict cat_cost_judge(const char *db, uint32_t sql_mode, const char *orig,
                                     size_t olen, const char *rew, size_t rlen, uint64_t version,
                                     int64_t now_ms);

#endif /* CAT_ENGINE_H */
