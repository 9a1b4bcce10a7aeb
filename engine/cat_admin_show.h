/*
 * cat_admin_show.h - the introspection statements (see cat_admin_show.c),
 * run on an admin thread by cat_admin_run. Each takes the statement ST,
 * the session database DB (may be NULL), EXEC/CTX to run SQL as the
 * client (its grants decide what it sees), and fills REPLY (caller
 * initialised it) with a result set or the ERR.
 */
#ifndef CAT_ADMIN_SHOW_H
#define CAT_ADMIN_SHOW_H

#include <stdbool.h>

#include "cat_admin.h"
#include "cat_parse.h"
#include "cat_reply.h"

/* SHOW MATERIALIZED VIEWS [FROM db] [LIKE '...' | WHERE ...]: the SPEC §9
 * columns, one row per visible view. */
void cat_admin_show_mvs(struct cat_stmt *st, const char *db, cat_exec_fn exec, void *ctx,
                        struct mvp_reply *reply);

/* SHOW CREATE MATERIALIZED VIEW / SHOW PARTITIONS FROM: one view; a view
 * the client may not see is answered 1146 like a missing one. */
void cat_admin_show_view(struct cat_stmt *st, const char *db, cat_exec_fn exec, void *ctx,
                         struct mvp_reply *reply);

/* SELECT ... FROM mv_infos(...) / tasks(...): SELECT * answered locally,
 * any other shape run on the client's connection over a derived table of
 * the rows. */
void cat_admin_select_tf(struct cat_stmt *st, const char *sdb, cat_exec_fn exec, void *ctx,
                         struct mvp_reply *reply);

/* EXPLAIN REWRITE <select> (SPEC §8) as a session with rewrite
 * REWRITE_ENABLED and sql_mode SQL_MODE (RW_MODE_*) would get it: one row
 * per candidate view plus a summary row. */
void cat_admin_explain(struct cat_stmt *st, bool rewrite_enabled, uint32_t sql_mode, const char *db,
                       cat_exec_fn exec, void *ctx, struct mvp_reply *reply);

#endif /* CAT_ADMIN_SHOW_H */
