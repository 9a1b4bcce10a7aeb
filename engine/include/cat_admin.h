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
#include <stdint.h>

#include "cat_reply.h"
#include "rw_lex.h"

struct cat_admin_job;

/* Runs SQL on the client's own backend connection (blocking); see
 * px_exec_fn in proxy/px_dispatch.h: 0 with REPLY filled (OK/ERR/rows),
 * -1 when the connection is gone. */
typedef int (*cat_exec_fn)(void *exec_ctx, const char *sql, struct mvp_reply *reply);

/*
 * How much of a statement's grammar is the proxy's, judged from its first
 * three words (hints skipped):
 *   OURS   the whole grammar is the proxy's (CREATE / ALTER / DROP / REFRESH /
 *          PAUSE / RESUME / CANCEL MATERIALIZED ..., SHOW MATERIALIZED VIEWS,
 *          SHOW CREATE MATERIALIZED VIEW, SHOW PARTITIONS, SHOW CONSTRAINTS,
 *          EXPLAIN REWRITE): a malformed one is an ERR, never relayed;
 *   PARSE  the parser decides: a SELECT is ours only in the shape
 *          SELECT ... FROM mv_infos(...) / tasks(...), an ALTER TABLE only in
 *          the informational-constraint shapes; anything else is relayed;
 *   NONE   the backend's (SHOW CREATE TABLE / VIEW / DATABASE among them).
 */
enum cat_admin_claim { CAT_CLAIM_NONE = 0, CAT_CLAIM_PARSE, CAT_CLAIM_OURS };

/*
 * The claim of the statement whose first three non-hint tokens are LEAD
 * (offsets into SQL; RW_TOK_EOF past the end). Reads only those tokens.
 */
enum cat_admin_claim cat_admin_claim(const char *sql, const struct rw_tok lead[3]);

/* Lex the first three non-hint tokens of LEN bytes at SQL into LEAD
 * (RW_TOK_EOF past the end); reads no further than the third. */
void cat_admin_lead(const char *sql, size_t len, struct rw_tok lead[3]);

/*
 * For a statement of LEN bytes over the size budget (rw_limits_too_big),
 * not lexed beyond its LEAD words: returns true with ERR filled (1235/42000
 * naming max_statement_bytes) when it can only be the proxy's; false when
 * it is to be relayed (a SELECT, an ALTER TABLE, anything not ours).
 */
bool cat_admin_refuse_too_big(const char *sql, size_t len, const struct rw_tok lead[3],
                              struct mvp_reply *err);

/*
 * cat_admin_recognise over the tokens the caller already lexed: TOK is the
 * whole statement (N tokens plus the closing EOF, hints included, as from
 * rw_lex_all over the same LEN bytes at SQL; borrowed). The caller has
 * checked the size budget. Same results as cat_admin_recognise; lexes
 * nothing again.
 */
bool cat_admin_recognise_toks(const char *sql, size_t len, const struct rw_tok *tok, size_t n,
                              const char *db, struct cat_admin_job **job,
                              struct mvp_reply *err);

/*
 * Is the statement SQL (LEN bytes) with current database DB (may be NULL) an
 * admin statement? Returns false (relay it) for anything else, cheaply.
 * The size budget is checked after the first words, before lexing the rest.
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

/*
 * Pass the session's sql_mode (RW_MODE_* flags, base/rw_sqlmode.h) to JOB.
 * Under mode 0 (MariaDB's default, or only the harmless words) every
 * statement runs. Under any other mode only the statements that store no
 * SQL text run: EXPLAIN REWRITE (which then explains the query as read
 * under that mode), SHOW MATERIALIZED VIEWS / CREATE / PARTITIONS /
 * CONSTRAINTS and the mv_infos / tasks table functions. The others
 * (CREATE, ALTER, DROP, REFRESH, CANCEL, constraint changes) are refused:
 * returns false with ERR (1235/42000 "materialized view definitions must be
 * written in MariaDB's default sql_mode; the session's sql_mode has
 * ANSI_QUOTES") filled; a view definition is stored, re-read and refreshed
 * in the default mode, so one written under another mode would mean
 * something else (issue 11). Returns true otherwise. JOB NULL: true.
 */
bool cat_admin_job_set_sql_mode(struct cat_admin_job *job, uint32_t mode, struct mvp_reply *err);

/* Free JOB without running it (NULL is ignored). */
void cat_admin_job_free(struct cat_admin_job *job);

#endif /* CAT_ADMIN_H */
