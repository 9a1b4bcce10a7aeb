/*
 * cat_admin_util.c - helpers shared by the admin statement handlers
 * (cat_admin.c, cat_admin_create.c, cat_admin_show.c): the view's
 * database, running SQL as the client, the privilege checks and
 * visibility filter of SPEC §3, and the lookups every statement on one
 * view makes.
 */
#include "cat_admin_util.h"

#include <mysql.h>

#include "cat.h"
#include "cat_admin.h"
#include "cat_core.h"
#include "cat_refresh_clause.h"
#include "cat_reply.h"
#include "cat_store.h"
#include "cat_util.h"
#include "cat_parse.h"
#include "cat_part_engine.h"
#include "cat_priv.h"
#include "cat_sched.h"
#include "cat_task.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rw.h"
#include "rw_lex.h"
#include "rw_limits.h"

/* ---- helpers ---- */

void
cat_adm_not_supported(struct mvp_reply *reply, const char *what)
{
    mvp_reply_err(reply, 1235, "42000", "%s is not supported yet", what);
}

/* The view's database: the qualifier or the session's; NULL with ERR 1046. */
const char *
cat_adm_view_db(const struct cat_stmt *st, const char *db, struct mvp_reply *reply)
{
    if (st->db != NULL) {
        return st->db;
    }
    if (db == NULL || *db == '\0') {
        mvp_reply_err(reply, 1046, "3D000", "No database selected");
        return NULL;
    }
    return db;
}

/* Run SQL as the client; 0 when the backend answered OK/rows, else REPLY holds its ERR. */
int
cat_adm_exec_client(cat_exec_fn exec, void *ctx, const char *sql, struct mvp_reply *reply)
{
    struct mvp_reply r;
    mvp_reply_init(&r);
    if (exec(ctx, sql, &r) < 0 || r.kind == MVP_REPLY_ERR) {
        if (r.kind != MVP_REPLY_ERR) {
            mvp_reply_err(&r, 2013, "HY000", "Lost connection to the backend");
        }
        mvp_reply_clear(reply);
        *reply = r;
        return -1;
    }
    mvp_reply_clear(&r);
    return 0;
}

/* "user@host" of P's CURRENT_USER() into BUF (the tasks.run_by form). */
const char *
cat_adm_grantee_text(const struct cat_privs *p, char *buf, size_t len)
{
    snprintf(buf, len, "%s@%s", p->user ? p->user : "", p->host ? p->host : "");
    return buf;
}

/*
 * Drop the rows of result set ROWS whose table (columns DBCOL and NAMECOL)
 * P may not see (SPEC §3: introspection shows only views on whose storage
 * table the user has some privilege, as MariaDB hides tables).
 */
void
cat_adm_filter_visible(struct mvp_reply *rows, const char *dbcol, const char *namecol,
                       const struct cat_privs *p)
{
    size_t i, j, n = 0, dc = SIZE_MAX, nc = SIZE_MAX;
    if (rows->kind != MVP_REPLY_ROWS) {
        return;
    }
    for (i = 0; i < rows->n_cols; i++) {
        if (strcmp(rows->col_names[i], dbcol) == 0) {
            dc = i;
        } else if (strcmp(rows->col_names[i], namecol) == 0) {
            nc = i;
        }
    }
    for (i = 0; i < rows->n_rows; i++) {
        char **r = rows->rows[i];
        bool keep = dc != SIZE_MAX && nc != SIZE_MAX && r[dc] != NULL && r[nc] != NULL &&
                    cat_privs_visible(p, r[dc], r[nc]);
        if (keep) {
            rows->rows[n++] = r;
            continue;
        }
        for (j = 0; j < rows->n_cols; j++) {
            free(r[j]);
        }
        free(r);
    }
    rows->n_rows = n;
}

/*
 * Check that the client holds NEED on the table of the view ST names in DB,
 * spelled as the catalog has it when the view exists (a denial does not
 * depend on whether it exists, so it tells nothing about that). P is
 * filled with the client's grants (caller frees with cat_privs_free, also
 * on failure). Returns 0, or -1 with REPLY (1142 or the backend's error).
 */
static int
require_on_view(const struct cat_stmt *st, const char *db, uint32_t need, const char *cmd,
                cat_exec_fn exec, void *ctx, struct cat_privs *p, struct mvp_reply *reply)
{
    struct cat_snapshot *snap;
    struct cat_mv *mv;
    char vdb[256], vname[256];
    if (cat_privs_load(exec, ctx, p, reply) < 0) {
        return -1;
    }
    snap = cat_snapshot_acquire();
    mv = cat_snapshot_find(snap, db, st->name);
    snprintf(vdb, sizeof(vdb), "%s", mv != NULL ? mv->db : db);
    snprintf(vname, sizeof(vname), "%s", mv != NULL ? mv->name : st->name);
    cat_snapshot_release(snap);
    return cat_priv_require(p, exec, ctx, vdb, vname, need, cmd, reply);
}

/*
 * require_on_view with the grants loaded and freed here: the check every
 * statement on one view makes first (SPEC §3 privileges). WHO (WHOLEN
 * bytes; NULL when not wanted) gets the client's grantee text, for the
 * refresh task it starts. Returns 0, or -1 with REPLY (1142 or the
 * backend's error).
 */
int
cat_adm_check_view_priv(const struct cat_stmt *st, const char *db, uint32_t need,
                        const char *cmd, cat_exec_fn exec, void *ctx, char *who, size_t wholen,
                        struct mvp_reply *reply)
{
    struct cat_privs pr;
    int prc = require_on_view(st, db, need, cmd, exec, ctx, &pr, reply);
    if (who != NULL) {
        cat_adm_grantee_text(&pr, who, wholen);
    }
    cat_privs_free(&pr);
    return prc;
}

/* Check a refresh clause is one the scheduler runs (cat_sched.c); else ERR 1235. */
int
cat_adm_refresh_supported(const struct cat_refresh_clause *rc, struct mvp_reply *reply)
{
    return cat_sched_validate(rc, reply);
}

/* Delete view ID's row and publish the catalog without KEY (writer lock taken here). */
void
cat_adm_forget_view(MYSQL *c, uint64_t id, const char *key)
{
    char err[512];
    struct cat_mv *mvs, *mv = NULL;
    cat_writer_lock();
    if (cat_store_delete(c, id, err, sizeof(err)) < 0) {
        cat_log(CAT_LOG_WARN, "removing %s from the catalog: %s", key, err);
    }
    mvs = cat_current_mvs();
    HASH_FIND_STR(mvs, key, mv);
    if (mv != NULL) {
        HASH_DEL(mvs, mv);
        cat_mv_free(mv);
    }
    if (cat_publish_mvs(c, mvs, err, sizeof(err)) < 0) {
        cat_log(CAT_LOG_WARN, "publishing the catalog: %s", err);
    }
    cat_writer_unlock();
}

/* ---- lookups shared by the statements on one view ---- */

/* Find the view named by ST in the current snapshot (SNAP held by caller). */
struct cat_mv *
cat_adm_find_view(struct cat_snapshot *snap, const struct cat_stmt *st, const char *db,
                  struct mvp_reply *reply)
{
    struct cat_mv *mv = cat_snapshot_find(snap, db, st->name);
    if (mv == NULL) {
        mvp_reply_err(reply, 1146, "42S02", "Materialized view '%s.%s' doesn't exist", db,
                      st->name);
    }
    return mv;
}

/* Take the refresh lock of MV on C (0 timeout); false when a refresh runs. */
bool
cat_adm_refresh_lock(MYSQL *c, const struct cat_mv *mv, bool take)
{
    struct cat_buf q = {0};
    char name[600];
    bool ok = false;
    snprintf(name, sizeof(name), "mvproxy.refresh.%s", mv->key);
    cat_buf_puts(&q, take ? "SELECT GET_LOCK(" : "SELECT RELEASE_LOCK(");
    cat_buf_lit(&q, name);
    cat_buf_puts(&q, take ? ", 0)" : ")");
    if (mysql_real_query(c, q.p, q.len) == 0) {
        MYSQL_RES *res = mysql_store_result(c);
        MYSQL_ROW row = res ? mysql_fetch_row(res) : NULL;
        ok = row != NULL && row[0] != NULL && strcmp(row[0], "1") == 0;
        if (res != NULL) {
            mysql_free_result(res);
        }
    }
    cat_buf_free(&q);
    return ok;
}
