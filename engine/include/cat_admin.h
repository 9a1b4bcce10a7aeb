/*
 * cat_admin.h - Doris-style admin SQL for materialized views (SPEC §3, §9):
 * recognising the statements on the query path, and running them on an
 * admin thread.
 *
 *   worker thread                         admin thread
 *   cat_admin_recognise(sql) ──job──>     cat_admin_run(job, exec-as-client)
 *      │ not admin: relay                   ├ DDL on the client's own connection
 *      └ syntax error: ERR reply            └ catalog + refresh with the service account
 *
 * Conventions (documented choices where SPEC is silent):
 * - syntax errors: 1064/42000 "... near '<40 bytes>' at position N", N the
 *   1-based byte offset of the offending token in the statement text;
 * - SHOW MATERIALIZED VIEWS / mv_infos(): the SPEC §9 columns in order, plus
 *   a last column RewriteModel ("ok", or why the view cannot be used for
 *   rewrite although it is stored and refreshed);
 * - SELECT * FROM mv_infos(...) / tasks(...) is answered locally; any other
 *   SELECT over them (WHERE, projection, joins) runs on the client's own
 *   connection with the function replaced by a derived table of its rows;
 *   SHOW MATERIALIZED VIEWS ... WHERE likewise.
 */
#ifndef CAT_ADMIN_H
#define CAT_ADMIN_H

#include <stdbool.h>
#include <stddef.h>

#include "cat_reply.h"

struct cat_admin_job;

/* Runs SQL on the client's own backend connection (blocking); see
 * px_exec_fn in proxy/px_dispatch.h: 0 with REPLY filled (OK/ERR/rows),
 * -1 when the connection is gone. */
typedef int (*cat_exec_fn)(void *exec_ctx, const char *sql, struct mvp_reply *reply);

/*
 * Is the statement SQL (LEN bytes) with current database DB (may be NULL) an
 * admin statement? Returns false (relay it) for anything else, cheaply.
 * Returns true with either *JOB set (caller runs it with cat_admin_run or
 * frees it with cat_admin_job_free) or, for a malformed admin statement,
 * *JOB NULL and ERR filled (1064/42000 with the position, SPEC §10).
 */
bool cat_admin_recognise(const char *sql, size_t len, const char *db, struct cat_admin_job **job,
                         struct mvp_reply *err);

/*
 * Run JOB (consumed) for USER with current database DB on the calling
 * thread; EXEC/EXEC_CTX run SQL as the client. Fills REPLY (caller zeroed
 * it). Blocks while a BUILD IMMEDIATE or REFRESH runs. A failed statement
 * changes nothing and answers an ERR.
 */
void cat_admin_run(struct cat_admin_job *job, const char *user, const char *db, cat_exec_fn exec,
                   void *exec_ctx, struct mvp_reply *reply);

/*
 * Pass the session's enable_materialized_view_rewrite flag to JOB (default
 * true); EXPLAIN REWRITE explains what the session would get. NULL ignored.
 */
void cat_admin_job_set_rewrite(struct cat_admin_job *job, bool enabled);

/* Free JOB without running it (NULL is ignored). */
void cat_admin_job_free(struct cat_admin_job *job);

#endif /* CAT_ADMIN_H */
