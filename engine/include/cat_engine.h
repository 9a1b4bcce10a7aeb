/*
 * cat_engine.h - the engine's interface to the proxy: start and stop the
 * catalog engine (load from the metadata schema, refresh tasks, scheduler,
 * binlog follower, probe, multi-proxy sync), the shutdown drain, and the
 * write marker that proxy DML calls. Admin statements: cat_admin.h.
 */
#ifndef CAT_ENGINE_H
#define CAT_ENGINE_H

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

#endif /* CAT_ENGINE_H */
