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
#include "cat_engine.h"
#include "cat_admin.h"
#include "cat_reply.h"
#include "cat_util.h"

/* Transitional umbrella: each module now has its own header; files still
 * including this one get them all. */
#include "cat_constraint.h"
#include "cat_core.h"
#include "cat_show.h"
#include "cat_refresh.h"
#include "cat_store.h"


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



/* ---- admin statement parser: cat_parse.h ---------------------------------------------- */

#include "cat_parse.h"

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

/* Canonical text of a refresh clause ("REFRESH COMPLETE ON MANUAL"); caller frees. */
char *cat_refresh_text(const struct cat_refresh_clause *rc);

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

#endif /* CAT_INTERNAL_H */
