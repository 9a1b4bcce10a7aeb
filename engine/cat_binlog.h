/*
 * cat_binlog.h - freshness from the backend's binary log (SPEC §5): a
 * follower thread reads the binlog as a replica (MariaDB Connector/C
 * <mariadb_rpl.h>) and marks the views over every changed table stale,
 * including writes that bypassed the proxy. See cat_binlog.c for what it
 * can and cannot see.
 */
#ifndef CAT_BINLOG_H
#define CAT_BINLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mysql.h>

/*
 * Decide from the server's settings whether its binlog can be followed.
 * LOG_BIN is @@log_bin ("1"/"ON" = on; NULL unknown), FORMAT
 * @@binlog_format (ROW, MIXED or STATEMENT are usable; NULL unknown),
 * MASTER_FILE the File column of SHOW MASTER STATUS (NULL or "" when it
 * returned no row), REPL_PRIV 1 when the service account holds REPLICATION
 * SLAVE (or SUPER), 0 when it certainly does not, -1 when unknown (roles).
 * Returns true when usable; otherwise writes a one-line reason a DBA
 * understands into WHY (WHYLEN bytes). Pure; unit-tested.
 */
bool cat_binlog_decide(const char *log_bin, const char *format, const char *master_file,
                       int repl_priv, char *why, size_t whylen);

/*
 * Should a change to table DB.TABLE seen in the binlog be ignored? True
 * for the metadata schema META (the catalog's own bookkeeping) and for
 * refresh staging tables (names containing "__mvp_": `<mv>__mvp_new`,
 * `<mv>__mvp_old`). Case-insensitive. Pure; unit-tested.
 */
bool cat_binlog_skip_table(const char *db, const char *table, const char *meta);

/*
 * Start following the binlog (called by cat_init once the first snapshot is
 * published). Checks @@log_bin, @@binlog_format, SHOW MASTER STATUS and the
 * REPLICATION SLAVE privilege over a service connection, loads the stored
 * position from the metadata schema (key `binlog_position` of table
 * `meta`) and starts the follower thread there, or at the current end of
 * the binlog on a first start. When the stored position is gone (purged,
 * another server) every view is marked stale. Returns 0 when the follower
 * runs, -1 when freshness stays proxy-DML-only (one warn line logged with
 * the reason; cat_binlog_source() shows it). Never fatal to the proxy.
 */
int cat_binlog_start(void);

/*
 * Stop the follower promptly (its blocking read is interrupted by shutting
 * its socket down), persist its last position, and join it. Safe to call
 * when it was never started.
 */
void cat_binlog_stop(void);

/*
 * The FreshnessSource text of SHOW MATERIALIZED VIEWS into BUF (BUFLEN
 * bytes): "binlog" while the follower runs, else
 * "proxy-dml-only (<reason>)". Returns BUF. Thread-safe.
 */
const char *cat_binlog_source(char *buf, size_t buflen);

/*
 * The last loss of the follower's position since the start into BUF
 * (BUFLEN bytes; "" when none): the stored position was purged while no
 * proxy ran, or the server could no longer serve it, so every view was
 * marked stale (the safe side) and the follower went on from the end of
 * the binlog. SHOW MATERIALIZED VIEWS appends it to FreshnessSource.
 * Returns BUF. Thread-safe.
 */
const char *cat_binlog_gap(char *buf, size_t buflen);

/*
 * Register (ADD true) or unregister a backend connection id
 * (mysql_thread_id) of this proxy's refresh code: the follower skips the
 * Query events of those connections, also for a minute after the refresh
 * ended (its events may arrive late). Thread-safe; a full table only logs.
 */
void cat_binlog_own_conn(unsigned long thread_id, bool add);
/*
 * True when every change made while no proxy followed the binlog has been
 * seen: the follower runs, it started at the position stored by the last
 * one (not at the end: nothing was skipped), and it has read up to the end
 * the binlog had when it started. Incremental refresh (cat_incr.c) trusts
 * a "no update/delete since the last step" persisted across a restart
 * only then. Thread-safe.
 */
bool cat_binlog_covers_downtime(void);

/* ---- for the follower's event handling (cat_binlog_event.c) ---- */

struct bl_state;

/* Was THREAD_ID registered by this proxy's refresh code (cat_binlog_own_conn)
 * and not yet expired? Its Query events are the refresh's own. Thread-safe. */
bool cat_binlog_is_own_conn(unsigned long thread_id);
/* Mark every view stale from now, logging WHY (a gap the follower cannot
 * see into). */
void cat_binlog_mark_everything(const char *why);
/* Does S (LEN bytes) contain NEEDLE, ASCII case-insensitive? */
bool cat_binlog_ci_contains(const char *s, size_t len, const char *needle);
/* Record that the follower ST has read up to the end the binlog had at
 * its start (cat_binlog_covers_downtime). */
void cat_binlog_note_progress(const struct bl_state *st);

/*
 * The current end of C's binlog (SHOW MASTER STATUS: needs BINLOG MONITOR
 * or REPLICATION CLIENT) into FILE (FILELEN bytes) and *POS (bytes).
 * Returns 0, or -1 with a one-line reason in ERR (ERRLEN bytes).
 */
int cat_binlog_master_end(MYSQL *c, char *file, size_t filelen, uint64_t *pos, char *err,
                          size_t errlen);

#endif /* CAT_BINLOG_H */
