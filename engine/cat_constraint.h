/*
 * cat_constraint.h - informational constraints (NOT ENFORCED; Doris /
 * StarRocks style): their table in the metadata schema, loading them into
 * a snapshot, and the admin statements that declare and show them.
 */
#ifndef CAT_CONSTRAINT_H
#define CAT_CONSTRAINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mysql.h>

#include "cat.h"
#include "cat_admin.h"
#include "cat_reply.h"

struct cat_stmt;

/* Create `constraints` in the metadata schema if missing. Returns 0 / -1 with ERR. */
int cat_icons_store_init(MYSQL *c, char *err, size_t errlen);

/* Read every informational constraint of the metadata schema over C into
 * SNAP->icons (replacing what it held). On failure SNAP keeps none (logged). */
void cat_icons_load(MYSQL *c, struct cat_snapshot *snap);

/*
 * The informational constraint NAME (case-insensitive) of table DB.TABLE in
 * SNAP, or NULL. Borrowed from SNAP.
 */
const struct cat_icon *cat_icon_find(const struct cat_snapshot *snap, const char *db,
                                     const char *table, const char *name);

/*
 * Run ADD CONSTRAINT / DROP CONSTRAINT / SET ("..._constraints") / SHOW
 * CONSTRAINTS statement ST for a session whose current database is DB (may
 * be NULL); EXEC/EXEC_CTX run SQL as the client (the existence and key
 * checks read information_schema with the client's privileges). Fills REPLY
 * with OK, a result set or an ERR; a failed statement changes nothing.
 */
void cat_constraint_run(struct cat_stmt *st, const char *db, cat_exec_fn exec, void *ctx,
                        struct mvp_reply *reply);

#endif /* CAT_CONSTRAINT_H */
