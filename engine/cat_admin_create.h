/*
 * cat_admin_create.h - CREATE MATERIALIZED VIEW (see cat_admin_create.c),
 * run on an admin thread by cat_admin_run.
 */
#ifndef CAT_ADMIN_CREATE_H
#define CAT_ADMIN_CREATE_H

#include "cat_admin.h"
#include "cat_parse.h"
#include "cat_reply.h"

/*
 * Run the CREATE MATERIALIZED VIEW ST (CAT_ST_CREATE; its column list may
 * be filled with generated names) for a client whose session database is
 * SDB (may be NULL); EXEC/CTX run SQL as the client (the storage table is
 * created with its privileges). Blocks through BUILD IMMEDIATE's first
 * refresh. Fills REPLY (caller initialised it): OK with an info text, or
 * the ERR (1046, 1050, 1064, 1142, 1235, 1462, 1473, the backend's), in
 * which case nothing changed (SPEC §3, §10).
 */
void cat_admin_create(struct cat_stmt *st, const char *sdb, cat_exec_fn exec, void *ctx,
                      struct mvp_reply *reply);

#endif /* CAT_ADMIN_CREATE_H */
