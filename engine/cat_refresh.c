/*
 * cat_refresh.c - complete refresh of a view with an atomic swap (SPEC §6),
 * run with the service account on its own connection:
 *
 *   GET_LOCK('mvproxy.refresh.db.mv', 0)        one refresh of a view at a time,
 *   task row RUNNING                            also across proxies
 *   seq0 = change_seq, t0 = now
 *   DROP TABLE IF EXISTS mv__mvp_new, mv__mvp_old        (leftovers of a crash)
 *   CREATE TABLE mv__mvp_new LIKE mv            or, when mv is missing or its
 *                                               columns no longer match the
 *                                               definition: CREATE TABLE ... AS
 *                                               SELECT * FROM <owner view> WHERE 0;
 *                                               then the view's indexes it lacks
 *                                               (cat_index.c)
 *   CREATE OR REPLACE DEFINER=<owner> SQL SECURITY DEFINER
 *       VIEW <meta>.mvp_src_<id>_0 AS SELECT * FROM (<definition>) AS mvp_def
 *   INSERT INTO mv__mvp_new SELECT * FROM <meta>.mvp_src_<id>_0
 *                                               (read with the owner's rights,
 *                                               SPEC §3; view dropped after)
 *   ANALYZE TABLE mv__mvp_new                   statistics before it is read
 *   RENAME TABLE mv TO mv__mvp_old, mv__mvp_new TO mv    atomic: readers see old or new
 *   DROP TABLE mv__mvp_old
 *   state: rows, last_refresh = now, stale_since = 0 when no write was seen
 *          since t0 (else t0), never fresher than the views it reads
 *   task row SUCCESS / FAILED, RELEASE_LOCK
 *
 * A failed refresh leaves the view as it was. The end (refresh state,
 * persisted state, task row, reply, log) is cat_refresh_finish, shared by
 * every engine; which engine runs is cat_refresh_pick (cat_refresh.h).
 */
#include <mysql.h>

#include "cat.h"
#include "cat_core.h"
#include "cat_part.h"
#include "cat_refresh_clause.h"
#include "cat_reply.h"
#include "cat_store.h"
#include "cat_util.h"
#include "cat_freshness.h"
#include "cat_binlog.h"
#include "cat_part_engine.h"
#include "cat_part_refresh.h"
#include "cat_incr.h"
#include "cat_index.h"
#include "cat_refresh.h"
#include "cat_task.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
cat_refresh_run(MYSQL *c, struct cat_buf *b, const struct cat_mv *mv, const char *kind,
                const char *what, struct mvp_reply *reply, int64_t *affected)
{
    if (cat_task_cancel_requested()) {
        /* CANCEL MATERIALIZED VIEW TASK: no further step (cat_task.c) */
        mvp_reply_err(reply, 1317, "70100", "refresh of %s.%s canceled (%s)", mv->db, mv->name,
                      what);
        cat_buf_free(b);
        return -1;
    }
    if (mysql_real_query(c, b->p, b->len) != 0) {
        const char *state = mysql_sqlstate(c);
        if (mysql_errno(c) == 1317) {
            /* its query was killed (a CANCEL, here or on another proxy) */
            cat_task_note_interrupted();
        }
        mvp_reply_err(reply, (uint16_t)mysql_errno(c), state && *state ? state : "HY000",
                      "%s of %s.%s failed (%s): %s", kind, mv->db, mv->name, what,
                      mysql_error(c));
        cat_buf_free(b);
        return -1;
    }
    if (affected != NULL) {
        *affected = (int64_t)mysql_affected_rows(c);
    }
    {
        MYSQL_RES *res = mysql_store_result(c);
        if (res != NULL) {
            mysql_free_result(res);
        }
    }
    cat_buf_free(b);
    return 0;
}

/* Run B's text on C as a step of a complete refresh (B freed). */
static int
step(MYSQL *c, struct cat_buf *b, const char *what, const struct cat_mv *mv,
     struct mvp_reply *reply)
{
    return cat_refresh_run(c, b, mv, "refresh", what, reply, NULL);
}

void
cat_refresh_def_sql(struct cat_buf *b, const struct cat_mv *mv, const char *sql)
{
    size_t i;
    if (mv->n_cols > 0) {
        cat_buf_puts(b, "WITH mvp_def (");
        for (i = 0; i < mv->n_cols; i++) {
            cat_buf_puts(b, i > 0 ? ", " : "");
            cat_buf_ident(b, mv->col_names[i]);
        }
        cat_buf_puts(b, ") AS (");
        cat_buf_puts(b, sql);
        cat_buf_puts(b, "\n) SELECT * FROM mvp_def");
    } else {
        cat_buf_puts(b, "SELECT * FROM (");
        cat_buf_puts(b, sql);
        cat_buf_puts(b, "\n) AS mvp_def");
    }
}

/* `meta`.`mvp_src_<id>_<slot>` into B. */
static void
src_name(struct cat_buf *b, const struct cat_mv *mv, unsigned slot)
{
    char name[64];
    snprintf(name, sizeof(name), "mvp_src_%llu_%u", (unsigned long long)mv->id, slot);
    cat_buf_qname(b, cat_meta_schema(), name);
}

/*
 * SQL with every backquoted identifier that ends in a space renamed to
 * `<name trimmed>_mvp<n>` (malloc'd; NULL when there is none). MariaDB
 * accepts such an alias in a SELECT but refuses it anywhere in a view's
 * body (ERR 1166); no table or column can have such a name, so it can only
 * be an alias, and renaming all its occurrences alike keeps the query's
 * meaning (the outputs are named by the view's column list or mvp_def).
 * Strings and comments are skipped.
 */
static char *
rename_space_aliases(const char *sql)
{
    struct cat_buf b = {0};
    const char *p = sql;
    bool any = false;
    while (*p != '\0') {
        if (*p == '\'' || *p == '"') {
            char q = *p;
            const char *e = p + 1;
            while (*e != '\0' && !(*e == q && e[1] != q)) {
                e += (*e == '\\' || *e == q) && e[1] != '\0' ? 2 : 1;
            }
            e += *e != '\0';
            cat_buf_add(&b, p, (size_t)(e - p));
            p = e;
        } else if (p[0] == '/' && p[1] == '*') {
            const char *e = strstr(p + 2, "*/");
            e = e != NULL ? e + 2 : p + strlen(p);
            cat_buf_add(&b, p, (size_t)(e - p));
            p = e;
        } else if ((p[0] == '-' && p[1] == '-' && (p[2] == ' ' || p[2] == '\t')) || p[0] == '#') {
            const char *e = strchr(p, '\n');
            e = e != NULL ? e : p + strlen(p);
            cat_buf_add(&b, p, (size_t)(e - p));
            p = e;
        } else if (*p == '`') {
            const char *e = p + 1;
            while (*e != '\0' && !(*e == '`' && e[1] != '`')) {
                e += *e == '`' ? 2 : 1;
            }
            if (*e == '`' && e > p + 1 && e[-1] == ' ') {
                const char *t = e;
                while (t > p + 1 && t[-1] == ' ') {
                    t--;
                }
                cat_buf_add(&b, p, (size_t)(t - p));
                cat_buf_printf(&b, "_mvp%zu`", (size_t)(e - t));
                any = true;
            } else {
                cat_buf_add(&b, p, (size_t)(e - p) + (*e == '`'));
            }
            p = e + (*e == '`');
        } else {
            cat_buf_add(&b, p, 1);
            p++;
        }
    }
    if (!any) {
        cat_buf_free(&b);
        return NULL;
    }
    return cat_buf_take(&b);
}

int
cat_refresh_src(MYSQL *c, const struct cat_mv *mv, unsigned slot, const char *select_sql,
                const char *kind, struct cat_buf *out, struct mvp_reply *reply)
{
    char *renamed = NULL;
    bool retried = false;
    struct cat_buf q = {0};
    const char *at;
    char *user;
    if (mv->owner == NULL || (at = strrchr(mv->owner, '@')) == NULL) {
        mvp_reply_err(reply, 1449, "HY000",
                      "%s of %s.%s refused: the view has no recorded owner (it was created by "
                      "an older mvproxy), so its definition cannot be read with its owner's "
                      "rights; DROP and CREATE it again, or record one (UPDATE %s.mvs SET "
                      "owner = 'user@host' WHERE id = %llu) and restart the proxy", kind,
                      mv->db, mv->name, cat_meta_schema(), (unsigned long long)mv->id);
        return -1;
    }
    user = cat_xstrndup(mv->owner, (size_t)(at - mv->owner));
    for (;;) {
        cat_buf_puts(&q, "CREATE OR REPLACE DEFINER=");
        cat_buf_lit(&q, user);
        cat_buf_puts(&q, "@");
        cat_buf_lit(&q, at + 1);
        cat_buf_puts(&q, " SQL SECURITY DEFINER VIEW ");
        src_name(&q, mv, slot);
        cat_buf_puts(&q, " AS ");
        cat_buf_puts(&q, renamed != NULL ? renamed : select_sql);
        if (cat_refresh_run(c, &q, mv, kind, "reading the definition as its owner", reply,
                            NULL) == 0) {
            break;
        }
        if (retried || reply->err_code != 1166 ||
            (renamed = rename_space_aliases(select_sql)) == NULL) {
            free(user);
            free(renamed);
            return -1;
        }
        /* an alias ending in a space: renamed for the view (rename_space_aliases) */
        retried = true;
        mvp_reply_clear(reply);
        mvp_reply_init(reply);
    }
    free(user);
    free(renamed);
    src_name(out, mv, slot);
    return 0;
}

void
cat_refresh_src_drop(MYSQL *c, const struct cat_mv *mv, unsigned slot0, unsigned n)
{
    struct cat_buf b = {0};
    char err[512];
    unsigned i;
    if (n == 0) {
        return;
    }
    cat_buf_puts(&b, "DROP VIEW IF EXISTS ");
    for (i = 0; i < n; i++) {
        cat_buf_puts(&b, i > 0 ? ", " : "");
        src_name(&b, mv, slot0 + i);
    }
    if (cat_q(c, b.p, err, sizeof(err), NULL) < 0) {
        cat_log(CAT_LOG_WARN, "refresh of %s: dropping its owner views: %s", mv->key, err);
    }
    cat_buf_free(&b);
}

/* Column names of "SELECT * FROM <FROM> WHERE 0" on C (N of them, caller
 * frees with cat_strv_free); -1 with *CODE the backend's errno on error. */
static int
col_names(MYSQL *c, const char *from, char ***names, size_t *n, unsigned *code)
{
    struct cat_buf q = {0};
    MYSQL_RES *res;
    MYSQL_FIELD *f;
    unsigned i, nf;
    *names = NULL;
    *n = 0;
    cat_buf_puts(&q, "SELECT * FROM ");
    cat_buf_puts(&q, from);
    cat_buf_puts(&q, " WHERE 0");
    if (mysql_real_query(c, q.p, q.len) != 0 || (res = mysql_store_result(c)) == NULL) {
        *code = mysql_errno(c);
        cat_buf_free(&q);
        return -1;
    }
    cat_buf_free(&q);
    nf = mysql_num_fields(res);
    f = mysql_fetch_fields(res);
    *names = cat_xcalloc(nf + 1, sizeof(char *));
    for (i = 0; i < nf; i++) {
        (*names)[i] = cat_xstrdup(f[i].name);
    }
    *n = nf;
    mysql_free_result(res);
    return 0;
}

int
cat_refresh_storage_ok(MYSQL *c, const struct cat_mv *mv, const char *kind,
                       struct mvp_reply *reply)
{
    struct cat_buf def = {0}, src = {0}, tab = {0};
    char **dn = NULL, **tn = NULL;
    size_t nd = 0, nt = 0, i;
    unsigned code = 0;
    int rc = 0;
    cat_refresh_def_sql(&def, mv, mv->query_sql);
    if (cat_refresh_src(c, mv, CAT_SRC_CHECK, def.p, kind, &src, reply) < 0) {
        cat_buf_free(&def);
        return -1;
    }
    cat_buf_free(&def);
    if (col_names(c, src.p, &dn, &nd, &code) < 0) {
        if (code == 1317) {
            cat_task_note_interrupted();
        }
        mvp_reply_err(reply, (uint16_t)code, mysql_sqlstate(c), "%s of %s.%s failed (reading "
                      "the definition as its owner): %s", kind, mv->db, mv->name,
                      mysql_error(c));
        rc = -1;
        goto out;
    }
    cat_buf_qname(&tab, mv->db, mv->name);
    if (col_names(c, tab.p, &tn, &nt, &code) < 0) {
        cat_log(CAT_LOG_WARN, "view %s: its storage table cannot be read (%u: %s); rebuilding it "
                "from the definition", mv->key, code, mysql_error(c));
        goto out;
    }
    rc = nt == nd;
    for (i = 0; rc == 1 && i < nd; i++) {
        rc = cat_streq_ci(dn[i], tn[i]);
    }
    if (rc == 0) {
        cat_log(CAT_LOG_WARN, "view %s: its storage table's columns no longer match the "
                "definition; rebuilding it from the definition", mv->key);
    }
out:
    cat_refresh_src_drop(c, mv, CAT_SRC_CHECK, 1);
    cat_strv_free(dn, nd);
    cat_strv_free(tn, nt);
    cat_buf_free(&src);
    cat_buf_free(&tab);
    return rc;
}

int
cat_refresh_stage(MYSQL *c, struct cat_buf *b, const struct cat_mv *mv, const char *kind,
                  char **nn, char **on, struct mvp_reply *reply)
{
    int ok;
    *nn = cat_xmalloc(strlen(mv->name) + 16);
    *on = cat_xmalloc(strlen(mv->name) + 16);
    sprintf(*nn, "%s__mvp_new", mv->name);
    sprintf(*on, "%s__mvp_old", mv->name);
    cat_buf_puts(b, "DROP TABLE IF EXISTS ");
    cat_buf_qname(b, mv->db, *nn);
    cat_buf_puts(b, ", ");
    cat_buf_qname(b, mv->db, *on);
    if (cat_refresh_run(c, b, mv, kind, "cleaning leftovers", reply, NULL) < 0) {
        return -1;
    }
    ok = cat_refresh_storage_ok(c, mv, kind, reply);
    if (ok < 0) {
        return -1;
    }
    if (ok == 1) {
        cat_buf_puts(b, "CREATE TABLE ");
        cat_buf_qname(b, mv->db, *nn);
        cat_buf_puts(b, " LIKE ");
        cat_buf_qname(b, mv->db, mv->name);
        if (cat_refresh_run(c, b, mv, kind, "creating the new table", reply, NULL) < 0) {
            return -1;
        }
        /* LIKE copied the storage table's indexes; a new one (CREATE's KEY /
         * INDEX, a default) is built here, on the empty staging table */
        (void)cat_index_build(c, mv->db, *nn, mv->indexes, mv->n_indexes, mv->key, NULL);
        return 0;
    }
    {
        /* rebuilt from the definition, typed as at CREATE (cat_admin.c storage_ddl) */
        struct cat_buf def = {0}, src = {0};
        int rc;
        cat_refresh_def_sql(&def, mv, mv->query_sql);
        rc = cat_refresh_src(c, mv, CAT_SRC_CHECK, def.p, kind, &src, reply);
        cat_buf_free(&def);
        if (rc < 0) {
            cat_buf_free(&src);
            return -1;
        }
        cat_buf_puts(b, "CREATE TABLE ");
        cat_buf_qname(b, mv->db, *nn);
        if (mv->comment != NULL) {
            cat_buf_puts(b, " COMMENT ");
            cat_buf_lit(b, mv->comment);
        }
        cat_buf_puts(b, " AS SELECT * FROM ");
        cat_buf_add(b, src.p, src.len);
        cat_buf_puts(b, " WHERE 0");
        cat_buf_free(&src);
        rc = cat_refresh_run(c, b, mv, kind, "rebuilding the storage table from the definition",
                             reply, NULL);
        cat_refresh_src_drop(c, mv, CAT_SRC_CHECK, 1);
        if (rc == 0) {
            /* the view's indexes, on the empty table (LIKE would have copied them) */
            (void)cat_index_build(c, mv->db, *nn, mv->indexes, mv->n_indexes, mv->key, NULL);
        }
        return rc;
    }
}

int
cat_refresh_swap(MYSQL *c, struct cat_buf *b, const struct cat_mv *mv, const char *kind,
                 const char *nn, const char *on, struct mvp_reply *reply)
{
    char err[512];
    cat_buf_puts(b, "RENAME TABLE ");
    cat_buf_qname(b, mv->db, mv->name);
    cat_buf_puts(b, " TO ");
    cat_buf_qname(b, mv->db, on);
    cat_buf_puts(b, ", ");
    cat_buf_qname(b, mv->db, nn);
    cat_buf_puts(b, " TO ");
    cat_buf_qname(b, mv->db, mv->name);
    if (cat_refresh_run(c, b, mv, kind, "swapping in the new table", reply, NULL) < 0) {
        struct cat_buf t = {0};
        unsigned code = 0;
        int gone;
        /* the storage table was dropped behind the proxy: the new one takes its name */
        cat_buf_puts(&t, "SELECT 1 FROM ");
        cat_buf_qname(&t, mv->db, mv->name);
        cat_buf_puts(&t, " WHERE 0");
        gone = cat_q(c, t.p, err, sizeof(err), &code) < 0 && code == 1146;
        cat_buf_free(&t);
        if (!gone) {
            return -1;
        }
        mvp_reply_clear(reply);
        mvp_reply_init(reply);
        cat_buf_puts(b, "RENAME TABLE ");
        cat_buf_qname(b, mv->db, nn);
        cat_buf_puts(b, " TO ");
        cat_buf_qname(b, mv->db, mv->name);
        if (cat_refresh_run(c, b, mv, kind, "swapping in the new table", reply, NULL) < 0) {
            return -1;
        }
        return 0;
    }
    cat_buf_puts(b, "DROP TABLE IF EXISTS ");
    cat_buf_qname(b, mv->db, on);
    if (cat_q(c, b->p, err, sizeof(err), NULL) < 0) {
        cat_log(CAT_LOG_WARN, "%s of %s: dropping the old table: %s", kind, mv->key, err);
    }
    cat_buf_free(b);
    return 0;
}

void
cat_refresh_drop_staging(MYSQL *c, const struct cat_mv *mv, const char *nn)
{
    struct cat_buf b = {0};
    char err[512];
    int i;
    cat_buf_puts(&b, "DROP TABLE IF EXISTS ");
    cat_buf_qname(&b, mv->db, nn);
    /* A CANCEL repeats KILL QUERY while the task lives (cat_task.c): one may
     * land on this clean-up after the fill it meant has already stopped.
     * Interrupted (1317) is retried; a lost connection is not. */
    for (i = 0; i < 5; i++) {
        if (cat_q(c, b.p, err, sizeof(err), NULL) == 0 || mysql_errno(c) != 1317) {
            break;
        }
    }
    cat_buf_free(&b);
}

MYSQL *
cat_refresh_open(const struct cat_mv *mv, char *lockname, size_t lockname_len, bool *locked,
                 struct mvp_reply *reply)
{
    struct cat_buf b = {0};
    char err[512];
    MYSQL *c;

    *locked = false;
    c = cat_connect(err, sizeof(err));
    if (c == NULL) {
        mvp_reply_err(reply, 2003, "HY000", "refresh of %s.%s: %s", mv->db, mv->name, err);
        return NULL;
    }
    /* The binlog follower skips this connection's statements (its writes
     * are the refresh's own, not base changes). */
    cat_binlog_own_conn(mysql_thread_id(c), true);
    cat_refresh_session(c);
    snprintf(lockname, lockname_len, "mvproxy.refresh.%s", mv->key);
    cat_buf_puts(&b, "SELECT GET_LOCK(");
    cat_buf_lit(&b, lockname);
    cat_buf_puts(&b, ", 0)");
    if (mysql_real_query(c, b.p, b.len) == 0) {
        MYSQL_RES *res = mysql_store_result(c);
        MYSQL_ROW row = res ? mysql_fetch_row(res) : NULL;
        *locked = row != NULL && row[0] != NULL && strcmp(row[0], "1") == 0;
        if (res != NULL) {
            mysql_free_result(res);
        }
    }
    cat_buf_free(&b);
    if (!*locked) {
        mvp_reply_err(reply, 1205, "HY000", "a refresh of %s.%s is already running", mv->db,
                      mv->name);
    }
    return c;
}

void
cat_refresh_close(MYSQL *c, const char *lockname, bool locked)
{
    struct cat_buf b = {0};
    char err[512];
    if (c == NULL) {
        return;
    }
    if (locked) {
        cat_buf_puts(&b, "SELECT RELEASE_LOCK(");
        cat_buf_lit(&b, lockname);
        cat_buf_puts(&b, ")");
        cat_q(c, b.p, err, sizeof(err), NULL);
        cat_buf_free(&b);
    }
    cat_binlog_own_conn(mysql_thread_id(c), false);
    mysql_close(c);
}

/* The INSERT ... SELECT that fills TABLE (in MV's db) from MV's definition,
 * read through the owner's view (cat_refresh_src, slot 0); -1 with REPLY. */
static int
fill_sql(MYSQL *c, struct cat_buf *b, const struct cat_mv *mv, const char *table,
         struct mvp_reply *reply)
{
    struct cat_buf def = {0}, src = {0};
    int rc;
    cat_refresh_def_sql(&def, mv, mv->query_sql);
    rc = cat_refresh_src(c, mv, 0, def.p, "refresh", &src, reply);
    cat_buf_free(&def);
    if (rc == 0) {
        cat_buf_puts(b, "INSERT INTO ");
        cat_buf_qname(b, mv->db, table);
        cat_buf_puts(b, " SELECT * FROM ");
        cat_buf_add(b, src.p, src.len);
    }
    cat_buf_free(&src);
    return rc;
}

/* Earliest unreflected change of the views MV reads (0 when all are fresh):
 * their view-level marks and, for a partitioned upstream view, its stale
 * partitions and gaps (cat_part.c cat_upstream_stale). */
static int64_t
inputs_stale_since(const struct cat_snapshot *snap, const struct cat_mv *mv)
{
    return cat_upstream_stale(snap, mv, true, false, 0, 0);
}

enum cat_refresh_strategy
cat_refresh_pick(const struct cat_mv *mv, enum cat_refresh_method mode)
{
    if (mode == CAT_RM_PARTITIONS) {
        return CAT_RS_PARTITION;
    }
    if (cat_incr_wanted(mv, mode)) {
        return CAT_RS_INCREMENTAL;
    }
    if (mv->part != NULL && mv->state->parts != NULL) {
        return CAT_RS_PARTITION;
    }
    return CAT_RS_COMPLETE;
}

const char *
cat_refresh_method_name(enum cat_refresh_method mode)
{
    switch (mode) {
    case CAT_RM_COMPLETE:
        return "COMPLETE";
    case CAT_RM_PARTITIONS:
        return "PARTITIONS";
    case CAT_RM_FAST:
        return "FAST";
    case CAT_RM_NONE:
    case CAT_RM_AUTO:
    case CAT_RM_NEVER:
        break;
    }
    return "AUTO";
}

enum cat_task_result
cat_refresh_failure(void)
{
    return cat_task_cancel_requested() ? CAT_TASK_CANCELED : CAT_TASK_FAILED;
}

void
cat_refresh_finish(MYSQL *c, struct cat_mv *mv, const struct cat_refresh_result *r,
                   struct mvp_reply *reply)
{
    char err[512];
    bool ok = r->outcome == CAT_TASK_OK;
    bool part = r->strategy == CAT_RS_PARTITION;
    atomic_store(&mv->state->refresh_state, ok ? CAT_REFRESH_SUCCESS : CAT_REFRESH_FAILED);
    if (ok && part) {
        if (cat_store_save_state(c, mv, err, sizeof(err)) < 0 ||
            cat_part_store_save(c, mv, err, sizeof(err)) < 0) {
            cat_log(CAT_LOG_WARN, "refresh of %s: persisting its state: %s", mv->key, err);
        }
    } else if (!part) {
        /* the incremental engine never logged a failure to persist after a
         * failed refresh (the refresh's own failure is logged below) */
        if (cat_store_save_state(c, mv, err, sizeof(err)) < 0 &&
            (ok || r->strategy != CAT_RS_INCREMENTAL)) {
            cat_log(CAT_LOG_WARN, "refresh of %s: persisting its state: %s", mv->key, err);
        }
    }
    if (ok) {
        cat_store_task_finish(c, r->task, "SUCCESS", r->rows, NULL);
        mvp_reply_ok(reply, (uint64_t)r->rows, r->info);
        cat_log(CAT_LOG_INFO, "%s", r->log != NULL ? r->log : r->info);
        return;
    }
    cat_store_task_finish(c, r->task, "FAILED", 0, reply->err_msg);
    cat_log(CAT_LOG_WARN, "%s of %s failed: %s",
            r->strategy == CAT_RS_INCREMENTAL ? "incremental refresh" : "refresh", mv->key,
            reply->err_msg);
}

int
cat_refresh_view(const char *db, const char *name, enum cat_refresh_method mode,
                 struct mvp_reply *reply, enum cat_task_result *outcome)
{
    struct cat_snapshot *snap = cat_snapshot_acquire();
    struct cat_mv *mv = cat_snapshot_find(snap, db, name);
    MYSQL *c = NULL;
    struct cat_buf b = {0};
    char *nn = NULL, *on = NULL, lockname[600];
    char info[600], logline[600];
    struct cat_refresh_result r = {CAT_TASK_FAILED, CAT_RS_COMPLETE, 0, 0, NULL, NULL};
    uint64_t seq0;
    int64_t t0, t1, rows = 0, inputs_stale;
    int prev_state;
    bool locked = false;
    int rc = -1;

    *outcome = CAT_TASK_FAILED;
    if (mv == NULL) {
        mvp_reply_err(reply, 1146, "42S02", "Materialized view '%s.%s' doesn't exist",
                      db ? db : "", name);
        cat_snapshot_release(snap);
        return -1;
    }
    if (cat_refresh_pick(mv, mode) == CAT_RS_PARTITION) {
        /* partitioned: partition by partition (cat_part_refresh.c) */
        char vdb[256], vname[256];
        snprintf(vdb, sizeof(vdb), "%s", mv->db);
        snprintf(vname, sizeof(vname), "%s", mv->name);
        cat_snapshot_release(snap);
        return cat_part_refresh(vdb, vname, mode, NULL, 0, reply, outcome);
    }
    c = cat_refresh_open(mv, lockname, sizeof(lockname), &locked, reply);
    if (c == NULL) {
        cat_snapshot_release(snap);
        return -1;
    }
    if (!locked) {
        r.outcome = CAT_TASK_BUSY;
        goto out;
    }
    if (mysql_select_db(c, mv->db) != 0) {
        mvp_reply_err(reply, (uint16_t)mysql_errno(c), mysql_sqlstate(c),
                      "refresh of %s.%s: %s", mv->db, mv->name, mysql_error(c));
        goto out;
    }
    r.task = cat_store_task_start(c, mv, cat_refresh_method_name(mode));
    /* a rebuild outside the incremental path invalidates its watermark (cat_incr.c) */
    cat_incr_forget(c, mv->id);
    prev_state = atomic_exchange(&mv->state->refresh_state, CAT_REFRESH_RUNNING);
    (void)prev_state;
    seq0 = atomic_load(&mv->state->change_seq);
    t0 = cat_now_ms();
    inputs_stale = inputs_stale_since(snap, mv);

    if (cat_refresh_stage(c, &b, mv, "refresh", &nn, &on, reply) < 0) {
        goto failed;
    }
    if (fill_sql(c, &b, mv, nn, reply) < 0) {
        goto failed_drop;
    }
    if (step(c, &b, "filling the new table", mv, reply) < 0) {
        goto failed_drop;
    }
    rows = (int64_t)mysql_affected_rows(c);
    cat_refresh_src_drop(c, mv, 0, 1);
    cat_refresh_analyze(c, mv->db, nn, mv->key);
    if (cat_refresh_swap(c, &b, mv, "refresh", nn, on, reply) < 0) {
        goto failed_drop;
    }

    t1 = cat_now_ms();
    atomic_store(&mv->state->rows, rows);
    cat_fresh_settle(mv, seq0, t0, t1, inputs_stale, true);
    snprintf(info, sizeof(info), "refreshed %s.%s: %lld rows in %.2f s", mv->db, mv->name,
             (long long)rows, (double)(t1 - t0) / 1000.0);
    snprintf(logline, sizeof(logline), "refreshed %s: %lld rows in %lld ms", mv->key,
             (long long)rows, (long long)(t1 - t0));
    r.outcome = CAT_TASK_OK;
    r.rows = rows;
    r.info = info;
    r.log = logline;
    cat_refresh_finish(c, mv, &r, reply);
    rc = 0;
    goto out;

failed_drop:
    cat_refresh_drop_staging(c, mv, nn);
    cat_refresh_src_drop(c, mv, 0, 1);
failed:
    r.outcome = cat_refresh_failure();
    cat_refresh_finish(c, mv, &r, reply);
out:
    *outcome = r.outcome;
    free(nn);
    free(on);
    cat_refresh_close(c, lockname, locked);
    cat_snapshot_release(snap);
    return rc;
}
