/*
 * cat_admin_util.h - helpers shared by the admin statement handlers
 * (cat_admin.c, cat_admin_create.c, cat_admin_show.c); not for the proxy.
 * Every function that can fail reports it in a struct mvp_reply as the ERR
 * the client gets.
 */
#ifndef CAT_ADMIN_UTIL_H
#define CAT_ADMIN_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mysql.h>

#include "cat.h"
#include "cat_admin.h"
#include "cat_parse.h"
#include "cat_priv.h"
#include "cat_reply.h"

#define ER_NOT_SUPPORTED_YET 1235
#define ER_TOO_HIGH_LEVEL_OF_NESTING_FOR_SELECT 1473

/* Fill REPLY with ERR 1235/42000 "WHAT is not supported yet". */
void cat_adm_not_supported(struct mvp_reply *reply, const char *what);

/* The database of the view ST names: its qualifier, else the session's DB;
 * NULL with ERR 1046 in REPLY when neither is set. Borrowed from ST / DB. */
const char *cat_adm_view_db(const struct cat_stmt *st, const char *db, struct mvp_reply *reply);

/* Run SQL as the client through EXEC/CTX, discarding an OK or rows: 0, or
 * -1 with REPLY holding the backend's ERR (2013 when the connection is gone). */
int cat_adm_exec_client(cat_exec_fn exec, void *ctx, const char *sql, struct mvp_reply *reply);

/* "user@host" of P's CURRENT_USER() into BUF (LEN bytes; the tasks.run_by
 * form); returns BUF. */
const char *cat_adm_grantee_text(const struct cat_privs *p, char *buf, size_t len);

/* Drop the rows of result set ROWS whose table (columns DBCOL and NAMECOL)
 * P may not see (SPEC §3: introspection hides what the user may not see). */
void cat_adm_filter_visible(struct mvp_reply *rows, const char *dbcol, const char *namecol,
                            const struct cat_privs *p);

/*
 * Check that the client (grants loaded through EXEC/CTX) holds NEED
 * (CAT_PRIV_*, named CMD in the message) on the table of the view ST names
 * in DB: the check every statement on one view makes first (SPEC §3). WHO
 * (WHOLEN bytes; NULL when not wanted) gets the client's grantee text.
 * Returns 0, or -1 with REPLY (1142 or the backend's error).
 */
int cat_adm_check_view_priv(const struct cat_stmt *st, const char *db, uint32_t need,
                            const char *cmd, cat_exec_fn exec, void *ctx, char *who,
                            size_t wholen, struct mvp_reply *reply);

/* 0 when RC is a refresh clause the scheduler runs (cat_sched.c), else -1
 * with ERR 1235 in REPLY. */
int cat_adm_refresh_supported(const struct cat_refresh_clause *rc, struct mvp_reply *reply);

/* Delete view ID's row over the service connection C and publish the
 * catalog without KEY (takes the writer lock). Failures are logged. */
void cat_adm_forget_view(MYSQL *c, uint64_t id, const char *key);

/* The view ST names in DB in SNAP (held by the caller; the result is
 * borrowed from it), or NULL with ERR 1146/42S02 in REPLY. */
struct cat_mv *cat_adm_find_view(struct cat_snapshot *snap, const struct cat_stmt *st,
                                 const char *db, struct mvp_reply *reply);

/* Take (TAKE, zero timeout) or release MV's refresh lock on C: true when
 * the lock was taken / released, false when a refresh holds it. */
bool cat_adm_refresh_lock(MYSQL *c, const struct cat_mv *mv, bool take);

#endif /* CAT_ADMIN_UTIL_H */
