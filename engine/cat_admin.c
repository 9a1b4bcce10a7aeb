/*
 * cat_admin.c - Doris-style admin SQL (SPEC §3, §8, §9): recognising the
 * statements on the worker thread (cheap, no backend I/O) and executing
 * them on an admin thread.
 *
 *   cat_admin_recognise ── first keywords (cat_admin_claim) ── cat_parse ──> job | ERR 1064
 *   cat_admin_run(job)
 *     CREATE   cat_admin_create.c: check AS select ─ CREATE TABLE ... AS SELECT ... WHERE 0
 *              (client's connection, client's privileges) ─ row in mvs ─ publish ─
 *              BUILD IMMEDIATE: refresh
 *     REFRESH  cat_task_run -> cat_refresh_view / cat_part_refresh / cat_incr_refresh
 *     DROP     DROP TABLE (client's connection) ─ delete row ─ publish
 *     SHOW / mv_infos() / tasks() / SHOW CREATE / SHOW PARTITIONS (cat_admin_show.c):
 *              local result sets;
 *              a filtered SELECT over mv_infos()/tasks() runs on the client's connection
 *              with the function replaced by a derived table of its rows
 *     EXPLAIN REWRITE  (cat_admin_show.c) rw_rewrite(explain) → one row per candidate
 *              + a summary row
 *     ALTER RENAME / SET / REFRESH, PAUSE / RESUME: catalog updates
 *     ALTER TABLE ... NOT ENFORCED / DROP CONSTRAINT / SET ("..._constraints"), SHOW
 *              CONSTRAINTS: informational constraints (cat_constraint.c)
 *
 * Helpers the three files share are in cat_admin_util.c.
 *
 * Refresh clauses (ON COMMIT / ON SCHEDULE / EVERY / FAST) are run by the
 * scheduler (cat_sched.c); REFRESH, BUILD IMMEDIATE and CANCEL go through
 * the task layer (cat_task.c).
 */
#include "cat_admin.h"
#include "rw_limits.h"

#include "cat_admin_create.h"
#include "cat_admin_show.h"
#include "cat_admin_util.h"
#include <mysql.h>

#include "cat.h"
#include "cat_binlog.h"
#include "cat_constraint.h"
#include "cat_core.h"
#include "cat_index.h"
#include "cat_refresh_clause.h"
#include "cat_reply.h"
#include "cat_show.h"
#include "cat_store.h"
#include "cat_util.h"
#include "cat_part_engine.h"
#include "cat_parse.h"
#include "cat_part.h"
#include "cat_priv.h"
#include "cat_sched.h"
#include "cat_task.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rw.h"
#include "rw_lex.h"

struct cat_admin_job {
    struct cat_stmt st;             /* the parsed statement */
    bool rewrite_enabled;           /* session enable_materialized_view_rewrite */
    uint32_t sql_mode;              /* the session's sql_mode (RW_MODE_*), for EXPLAIN REWRITE */
};

void
cat_admin_job_free(struct cat_admin_job *job)
{
    if (job == NULL) {
        return;
    }
    cat_stmt_free(&job->st);
    free(job);
}

void
cat_admin_job_set_rewrite(struct cat_admin_job *job, bool enabled)
{
    if (job != NULL) {
        job->rewrite_enabled = enabled;
    }
}

bool
cat_admin_job_set_sql_mode(struct cat_admin_job *job, uint32_t mode, struct mvp_reply *err)
{
    char names[96];

    if (job == NULL) {
        return true;
    }
    job->sql_mode = mode;
    if (mode == 0) {
        return true;
    }
    switch (job->st.kind) {
    case CAT_ST_EXPLAIN_REWRITE:
    case CAT_ST_SHOW_MVS:
    case CAT_ST_SHOW_CREATE:
    case CAT_ST_SHOW_PARTITIONS:
    case CAT_ST_SHOW_CONSTRAINTS:
    case CAT_ST_SELECT_TF:
        return true;
    default:
        break;
    }
    mvp_reply_err(err, 1235, "42000",
                  "materialized view definitions must be written in MariaDB's default "
                  "sql_mode; the session's sql_mode has %s",
                  (mode & RW_MODE_HONOURED) != 0
                      ? rw_sql_mode_names(mode & RW_MODE_HONOURED, names, sizeof(names))
                      : "a mode the proxy does not model");
    return false;
}

/* Fill ERR for an admin statement of LEN bytes over the size budget; returns true. */
static bool
too_big(struct mvp_reply *err, size_t len)
{
    mvp_reply_err(err, ER_NOT_SUPPORTED_YET, "42000",
                  "mvproxy does not analyse statements over max_statement_bytes (%zu bytes, "
                  "limit %zu)", len, rw_limits_get()->max_bytes);
    return true;
}

/* Is token T of SQL the word WORD? */
static bool
lead_is(const char *sql, struct rw_tok t, const char *word)
{
    struct rw_lexer lx;
    rw_lex_init(&lx, sql, t.off + t.len);
    return rw_tok_is(&lx, t, word);
}

enum cat_admin_claim
cat_admin_claim(const char *sql, const struct rw_tok lead[3])
{
    struct rw_tok a = lead[0], b = lead[1], c = lead[2];
    if (a.kind != RW_TOK_IDENT) {
        return CAT_CLAIM_NONE;
    }
    if (lead_is(sql, a, "SELECT")) {
        /* only SELECT ... FROM mv_infos(...) / tasks(...) is ours: the parser
         * looks for the table function */
        return CAT_CLAIM_PARSE;
    }
    if (lead_is(sql, a, "SHOW")) {
        if (lead_is(sql, b, "CREATE")) {
            /* SHOW CREATE TABLE / VIEW / DATABASE ... are the backend's, also
             * on a view's storage table */
            return lead_is(sql, c, "MATERIALIZED") ? CAT_CLAIM_OURS : CAT_CLAIM_NONE;
        }
        return lead_is(sql, b, "MATERIALIZED") || lead_is(sql, b, "PARTITIONS") ||
                       lead_is(sql, b, "CONSTRAINTS")
                   ? CAT_CLAIM_OURS
                   : CAT_CLAIM_NONE;
    }
    if (lead_is(sql, a, "ALTER") && lead_is(sql, b, "TABLE")) {
        return CAT_CLAIM_PARSE; /* the parser claims only the informational-constraint shapes */
    }
    if (lead_is(sql, a, "EXPLAIN")) {
        return lead_is(sql, b, "REWRITE") ? CAT_CLAIM_OURS : CAT_CLAIM_NONE;
    }
    return (lead_is(sql, a, "CREATE") || lead_is(sql, a, "REFRESH") ||
            lead_is(sql, a, "ALTER") || lead_is(sql, a, "DROP") || lead_is(sql, a, "PAUSE") ||
            lead_is(sql, a, "RESUME") || lead_is(sql, a, "CANCEL")) &&
                   lead_is(sql, b, "MATERIALIZED")
               ? CAT_CLAIM_OURS
               : CAT_CLAIM_NONE;
}

void
cat_admin_lead(const char *sql, size_t len, struct rw_tok lead[3])
{
    struct rw_lexer lx;
    int i;
    rw_lex_init(&lx, sql, len);
    for (i = 0; i < 3; i++) {
        do {
            lead[i] = rw_lex_next(&lx);
        } while (lead[i].kind == RW_TOK_HINT);
    }
}

bool
cat_admin_refuse_too_big(const char *sql, size_t len, const struct rw_tok lead[3],
                         struct mvp_reply *err)
{
    /* a SELECT or ALTER TABLE is relayed; a statement that can only be ours
     * gets a clear ERR */
    return cat_admin_claim(sql, lead) == CAT_CLAIM_OURS && too_big(err, len);
}

/* Does the statement name mv_infos or tasks as a word? Without one the
 * parser cannot claim a SELECT. */
static bool
names_table_function(const char *sql, size_t len, const struct rw_tok *tok, size_t n)
{
    struct rw_lexer lx;
    size_t i;
    rw_lex_init(&lx, sql, len);
    for (i = 0; i < n; i++) {
        if (rw_tok_is(&lx, tok[i], "mv_infos") || rw_tok_is(&lx, tok[i], "tasks")) {
            return true;
        }
    }
    return false;
}

bool
cat_admin_recognise_toks(const char *sql, size_t len, const struct rw_tok *tok, size_t n,
                         const char *db, struct cat_admin_job **job, struct mvp_reply *err)
{
    struct cat_stmt st;
    struct rw_tok lead[3];
    size_t i, k = 0;
    int rc;
    *job = NULL;
    for (i = 0; i < 3; i++) {
        while (k < n && tok[k].kind == RW_TOK_HINT) {
            k++;
        }
        lead[i] = tok[k < n ? k++ : n];
    }
    switch (cat_admin_claim(sql, lead)) {
    case CAT_CLAIM_NONE:
        return false;
    case CAT_CLAIM_PARSE:
        if (lead_is(sql, lead[0], "SELECT") && !names_table_function(sql, len, tok, n)) {
            return false;
        }
        break;
    case CAT_CLAIM_OURS:
        break;
    }
    memset(&st, 0, sizeof(st));
    rc = cat_parse_toks(sql, len, tok, n, &st, err);
    if (rc == 0) {
        cat_stmt_free(&st);
        return false;
    }
    if (rc < 0) {
        cat_stmt_free(&st);
        return true;
    }
    if (st.kind == CAT_ST_DROP_CONSTRAINT) {
        /* the proxy's only when it holds an informational constraint of that
         * name on the table; a real constraint's DROP goes to the backend */
        struct cat_snapshot *snap = cat_snapshot_acquire();
        const char *tdb = st.db != NULL ? st.db : db;
        bool ours = tdb != NULL && cat_icon_find(snap, tdb, st.name, st.con_name) != NULL;
        cat_snapshot_release(snap);
        if (!ours) {
            cat_stmt_free(&st);
            return false;
        }
    }
    *job = cat_xcalloc(1, sizeof(**job));
    (*job)->st = st;
    (*job)->rewrite_enabled = true;
    return true;
}

bool
cat_admin_recognise(const char *sql, size_t len, const char *db, struct cat_admin_job **job,
                    struct mvp_reply *err)
{
    struct rw_tok lead[3], *tok;
    size_t n;
    bool r;
    enum cat_admin_claim claim;
    *job = NULL;
    if (sql == NULL || len == 0) {
        return false;
    }
    cat_admin_lead(sql, len, lead);
    claim = cat_admin_claim(sql, lead);
    if (claim == CAT_CLAIM_NONE) {
        return false;
    }
    if (rw_limits_too_big(len)) {
        /* over the size budget (rw_limits.h) */
        return cat_admin_refuse_too_big(sql, len, lead, err);
    }
    if (lead_is(sql, lead[0], "SELECT") && !cat_contains_ci(sql, len, "mv_infos") &&
        !cat_contains_ci(sql, len, "tasks")) {
        return false; /* most SELECTs: do not lex them all */
    }
    tok = rw_lex_all(sql, len, &n);
    if (tok == NULL) {
        return false;
    }
    r = cat_admin_recognise_toks(sql, len, tok, n, db, job, err);
    free(tok);
    return r;
}

/* ---- REFRESH ---- */

static void
run_refresh(struct cat_stmt *st, const char *sdb, cat_exec_fn exec, void *ctx,
            struct mvp_reply *reply)
{
    const char *db = cat_adm_view_db(st, sdb, reply);
    struct cat_snapshot *snap;
    struct cat_mv *mv;
    char name[256];
    if (db == NULL) {
        return;
    }
    {
        /* SPEC §3: REFRESH needs INSERT on the view's table; the task is the client's */
        char who[400];
        if (cat_adm_check_view_priv(st, db, CAT_PRIV_INSERT, "INSERT", exec, ctx, who,
                                    sizeof(who), reply) < 0) {
            return;
        }
        cat_task_set_run_by(who);
    }
    snap = cat_snapshot_acquire();
    mv = cat_adm_find_view(snap, st, db, reply);
    if (mv == NULL) {
        cat_snapshot_release(snap);
        return;
    }
    snprintf(name, sizeof(name), "%s", mv->name);
    {
        /* REFRESH NEVER (Oracle / GaussDB semantics; Doris has no such
         * method): the view keeps what it was built with and is never
         * refreshed, by the scheduler or by hand (Oracle: ORA-23538). The
         * build of BUILD IMMEDIATE is not a REFRESH statement and still runs. */
        if (mv->refresh.method == CAT_RM_NEVER) {
            mvp_reply_err(reply, 1105, "HY000",
                          "cannot refresh materialized view %s.%s: it is REFRESH NEVER (change "
                          "that first: ALTER MATERIALIZED VIEW %s.%s REFRESH AUTO)",
                          db, name, db, name);
            cat_snapshot_release(snap);
            return;
        }
    }
    if (st->refresh_mode == CAT_RM_PARTITIONS) {
        bool partitioned = mv->part != NULL && mv->state->parts != NULL;
        cat_snapshot_release(snap);
        if (!partitioned) {
            mvp_reply_err(reply, 1505, "HY000",
                          "REFRESH ... PARTITIONS: materialized view %s.%s is not partitioned",
                          db, name);
            return;
        }
        cat_task_run(db, name, CAT_RM_PARTITIONS, st->parts, st->n_parts, CAT_TASK_MANUAL, reply,
                     NULL);
        return;
    }
    cat_snapshot_release(snap);
    /* every refresh is a task (cat_task.c): row, slot, cancel, layers */
    cat_task_run(db, name,
                 st->refresh_mode == CAT_RM_AUTO || st->refresh_mode == CAT_RM_FAST
                     ? st->refresh_mode
                     : CAT_RM_COMPLETE,
                 NULL, 0, CAT_TASK_MANUAL, reply, NULL);
}

/* ---- DROP ---- */

static void
run_drop(struct cat_stmt *st, const char *sdb, cat_exec_fn exec, void *ctx,
         struct mvp_reply *reply)
{
    const char *db = cat_adm_view_db(st, sdb, reply);
    struct cat_snapshot *snap;
    struct cat_mv *mv, *dep[4];
    size_t n_dep;
    MYSQL *c;
    char err[512], key[512];
    uint64_t id;
    struct cat_buf q = {0};
    if (db == NULL) {
        return;
    }
    /* SPEC §3: DROP needs DROP on the view's table, before anything else */
    if (cat_adm_check_view_priv(st, db, CAT_PRIV_DROP, "DROP", exec, ctx, NULL, 0, reply) < 0) {
        return;
    }
    snap = cat_snapshot_acquire();
    mv = cat_snapshot_find(snap, db, st->name);
    if (mv == NULL) {
        if (st->if_exists) {
            char info[600];
            snprintf(info, sizeof(info), "materialized view %s.%s does not exist", db, st->name);
            mvp_reply_ok(reply, 0, info);
        } else {
            mvp_reply_err(reply, 1146, "42S02", "Materialized view '%s.%s' doesn't exist", db,
                          st->name);
        }
        cat_snapshot_release(snap);
        return;
    }
    n_dep = cat_dependents(snap, mv, dep, 4);
    if (n_dep > 0) {
        mvp_reply_err(reply, 3730, "HY000",
                      "Cannot drop materialized view '%s.%s': view '%s.%s' reads it (drop it "
                      "first)",
                      mv->db, mv->name, dep[0]->db, dep[0]->name);
        cat_snapshot_release(snap);
        return;
    }
    id = mv->id;
    snprintf(key, sizeof(key), "%s", mv->key);
    c = cat_connect(err, sizeof(err));
    if (c == NULL) {
        mvp_reply_err(reply, 2003, "HY000", "dropping %s.%s: %s", mv->db, mv->name, err);
        cat_snapshot_release(snap);
        return;
    }
    if (!cat_adm_refresh_lock(c, mv, true)) {
        mvp_reply_err(reply, 1205, "HY000", "a refresh of %s.%s is running; retry when it ends",
                      mv->db, mv->name);
        mysql_close(c);
        cat_snapshot_release(snap);
        return;
    }
    cat_buf_puts(&q, "DROP TABLE IF EXISTS ");
    cat_buf_qname(&q, mv->db, mv->name);
    cat_snapshot_release(snap);
    if (cat_adm_exec_client(exec, ctx, q.p, reply) < 0) {
        cat_buf_free(&q);
        cat_q(c, "SELECT RELEASE_ALL_LOCKS()", err, sizeof(err), NULL);
        mysql_close(c);
        return;
    }
    cat_buf_free(&q);
    cat_adm_forget_view(c, id, key);
    cat_q(c, "SELECT RELEASE_ALL_LOCKS()", err, sizeof(err), NULL);
    mysql_close(c);
    mvp_reply_ok(reply, 0, NULL);
}

/* ---- ALTER / PAUSE / RESUME ---- */

/*
 * ALTER / PAUSE / RESUME, before the catalog writer lock: the view ST names
 * exists (its key into KEY, KEYLEN bytes), the new refresh clause is one
 * the proxy runs, a RENAME target is free, in the same database and no
 * view reads the renamed one. Returns 0, or -1 with REPLY (1146, 1235,
 * 1050, 3730).
 */
static int
change_check(const struct cat_stmt *st, const char *db, char *key, size_t keylen,
             struct mvp_reply *reply)
{
    struct cat_snapshot *snap;
    struct cat_mv *cur;

    snap = cat_snapshot_acquire();
    cur = cat_adm_find_view(snap, st, db, reply);
    if (cur == NULL) {
        cat_snapshot_release(snap);
        return -1;
    }
    snprintf(key, keylen, "%s", cur->key);
    if (st->kind == CAT_ST_ALTER_REFRESH && cat_adm_refresh_supported(&st->refresh, reply) < 0) {
        cat_snapshot_release(snap);
        return -1;
    }
    if (st->kind == CAT_ST_ALTER_RENAME) {
        struct cat_mv *dep[2];
        if (st->new_db != NULL && !cat_streq_ci(st->new_db, cur->db)) {
            cat_adm_not_supported(reply, "Moving a materialized view to another database");
            cat_snapshot_release(snap);
            return -1;
        }
        if (cat_snapshot_find(snap, cur->db, st->new_name) != NULL) {
            mvp_reply_err(reply, 1050, "42S01", "Materialized view '%s.%s' already exists",
                          cur->db, st->new_name);
            cat_snapshot_release(snap);
            return -1;
        }
        if (cat_dependents(snap, cur, dep, 2) > 0) {
            mvp_reply_err(reply, 3730, "HY000",
                          "Cannot rename materialized view '%s.%s': view '%s.%s' reads it",
                          cur->db, cur->name, dep[0]->db, dep[0]->name);
            cat_snapshot_release(snap);
            return -1;
        }
    }
    cat_snapshot_release(snap);
    return 0;
}

/*
 * ALTER ... SET ("k" = "v", ...): merge ST's properties (and ENABLE /
 * DISABLE QUERY REWRITE as use_for_rewrite) into MV's, validated; the
 * partition settings follow. Returns 0, or -1 with REPLY (bad property).
 */
static int
alter_set_props(const struct cat_stmt *st, struct cat_mv *mv, struct mvp_reply *reply)
{
    char **pk = NULL, **pv = NULL;
    int np = cat_json_parse_object(mv->properties_json, &pk, &pv), i;
    size_t n = 0, j;
    struct cat_prop *merged;
    if (np < 0) {
        np = 0;
    }
    merged = cat_xcalloc((size_t)np + st->n_props + 2, sizeof(*merged));
    for (i = 0; i < np; i++) {
        merged[n].key = pk[i];
        merged[n].value = pv[i] ? pv[i] : "";
        n++;
    }
    for (j = 0; j < st->n_props; j++) {
        size_t k;
        for (k = 0; k < n && strcmp(merged[k].key, st->props[j].key) != 0; k++) {
        }
        merged[k].key = st->props[j].key;
        merged[k].value = st->props[j].value;
        if (k == n) {
            n++;
        }
    }
    if (st->rewrite >= 0) {
        size_t k;
        for (k = 0; k < n && strcmp(merged[k].key, "use_for_rewrite") != 0; k++) {
        }
        merged[k].key = "use_for_rewrite";
        merged[k].value = st->rewrite ? "true" : "false";
        if (k == n) {
            n++;
        }
    }
    i = cat_mv_set_props(mv, n, merged, reply);
    if (i == 0 && mv->part != NULL) {
        cat_part_apply_props(mv->part, mv->properties_json); /* partition_sync_limit ... */
    }
    free(merged);
    if (np > 0) {
        cat_strv_free(pk, (size_t)np);
        cat_strv_free(pv, (size_t)np);
    } else {
        free(pk);
        free(pv);
    }
    return i;
}

/*
 * ALTER ... RENAME: rename MV's storage table on the client's connection
 * (its privileges), under the view's refresh lock taken on C, and re-key MV
 * in *MVS (the writer's copy of the catalog). KEY names the view in
 * messages. Returns 0, or -1 with REPLY (1205 while a refresh runs, the
 * backend's error).
 */
static int
alter_rename(const struct cat_stmt *st, struct cat_mv *mv, struct cat_mv **mvs, MYSQL *c,
             const char *key, cat_exec_fn exec, void *ctx, struct mvp_reply *reply)
{
    struct cat_mv *head = *mvs;
    char err[512];
    struct cat_buf q = {0};
    char nkey[512];
    if (!cat_adm_refresh_lock(c, mv, true)) {
        mvp_reply_err(reply, 1205, "HY000", "a refresh of %s is running; retry when it ends",
                      key);
        return -1;
    }
    cat_buf_puts(&q, "RENAME TABLE ");
    cat_buf_qname(&q, mv->db, mv->name);
    cat_buf_puts(&q, " TO ");
    cat_buf_qname(&q, mv->db, st->new_name);
    if (cat_adm_exec_client(exec, ctx, q.p, reply) < 0) {
        cat_buf_free(&q);
        cat_q(c, "SELECT RELEASE_ALL_LOCKS()", err, sizeof(err), NULL);
        return -1;
    }
    cat_buf_free(&q);
    cat_q(c, "SELECT RELEASE_ALL_LOCKS()", err, sizeof(err), NULL);
    HASH_DEL(head, mv);
    free(mv->name);
    mv->name = cat_xstrdup(st->new_name);
    free(mv->key);
    mv->key = cat_xstrdup(cat_make_key(nkey, sizeof(nkey), mv->db, mv->name));
    HASH_ADD_KEYPTR(hh, head, mv->key, strlen(mv->key), mv);
    *mvs = head;
    return 0;
}

/* ALTER (RENAME / REFRESH / SET), PAUSE, RESUME of the view ST names in DB:
 * edit a copy of the catalog, persist the row, publish. */
static void
change_view(struct cat_stmt *st, const char *db, cat_exec_fn exec, void *ctx,
            struct mvp_reply *reply)
{
    struct cat_mv *mvs, *mv = NULL;
    char key[512], err[512];
    MYSQL *c;
    /* SPEC §3: every ALTER form, PAUSE and RESUME need ALTER on the view's table */
    if (cat_adm_check_view_priv(st, db, CAT_PRIV_ALTER, "ALTER", exec, ctx, NULL, 0, reply) < 0) {
        return;
    }
    if (change_check(st, db, key, sizeof(key), reply) < 0) {
        return;
    }

    c = cat_connect(err, sizeof(err));
    if (c == NULL) {
        mvp_reply_err(reply, 2003, "HY000", "changing %s: %s", key, err);
        return;
    }
    cat_writer_lock();
    mvs = cat_current_mvs();
    HASH_FIND_STR(mvs, key, mv);
    if (mv == NULL) {
        mvp_reply_err(reply, 1146, "42S02", "Materialized view '%s' doesn't exist", key);
        goto out;
    }
    switch (st->kind) {
    case CAT_ST_PAUSE:
    case CAT_ST_RESUME:
        mv->paused = st->kind == CAT_ST_PAUSE;
        break;
    case CAT_ST_ALTER_REFRESH:
        free(mv->refresh_info);
        mv->refresh_info = cat_refresh_text(&st->refresh);
        cat_refresh_clause_free(&mv->refresh);
        cat_refresh_clause_copy(&mv->refresh, &st->refresh);
        break;
    case CAT_ST_ALTER_SET:
        if (alter_set_props(st, mv, reply) < 0) {
            goto out;
        }
        break;
    case CAT_ST_ALTER_RENAME:
        if (alter_rename(st, mv, &mvs, c, key, exec, ctx, reply) < 0) {
            goto out;
        }
        break;
    default:
        break;
    }
    free(mv->create_sql);
    mv->create_sql = cat_show_create_text(mv);
    if (cat_store_update_def(c, mv, err, sizeof(err)) < 0) {
        mvp_reply_err(reply, 1105, "HY000", "updating the catalog: %s", err);
        goto out;
    }
    if (cat_publish_mvs(c, mvs, err, sizeof(err)) < 0) {
        mvs = NULL;
        mvp_reply_err(reply, 1105, "HY000", "publishing the catalog: %s", err);
        goto out;
    }
    mvs = NULL;
    mvp_reply_ok(reply, 0, NULL);
    cat_sched_kick(); /* PAUSE / RESUME / new refresh clause take effect now */
out:
    cat_free_mvs(mvs);
    cat_writer_unlock();
    mysql_close(c);
}

/*
 * ALTER ... ADD INDEX: the new index ST names (con_name over parts) against
 * MV's storage columns (from SNAP) and its indexes. Returns 0, or -1 with
 * REPLY (1072, 1060, 1061).
 */
static int
alter_index_check(const struct cat_snapshot *snap, const struct cat_stmt *st,
                  const struct cat_mv *mv, struct mvp_reply *reply)
{
    const struct cat_table *t = cat_snapshot_table(snap, mv->db, mv->name);
    struct cat_mv_index ix;
    char **cols;
    size_t i;
    int rc;
    if (t == NULL) {
        return 0; /* the storage table is not known: the backend judges */
    }
    cols = cat_xcalloc(t->n_cols + 1, sizeof(char *));
    for (i = 0; i < t->n_cols; i++) {
        cols[i] = t->cols[i].name;
    }
    memset(&ix, 0, sizeof(ix));
    ix.name = st->con_name;
    ix.n_cols = st->n_parts;
    ix.cols = st->parts;
    rc = cat_index_check(&ix, 1, mv->indexes, mv->n_indexes, cols, t->n_cols, reply);
    free(cols);
    return rc;
}

/*
 * After ALTER ... ADD / DROP INDEX ran on the storage table: the view's
 * index list in the catalog (stored, published, announced) gains or loses
 * it, so refreshes that rebuild the table from the definition, restarted
 * proxies and other proxies know it. A DROP of an index the catalog does
 * not list (made with plain ALTER TABLE) changes nothing. Returns 0, or -1
 * with REPLY (the catalog's error; the table already changed).
 */
static int
alter_index_record(const struct cat_stmt *st, const char *key, struct mvp_reply *reply)
{
    struct cat_mv *mvs, *mv = NULL;
    char err[512];
    MYSQL *c = cat_connect(err, sizeof(err));
    size_t i;
    int rc = -1;
    if (c == NULL) {
        mvp_reply_err(reply, 2003, "HY000", "recording the index of %s: %s", key, err);
        return -1;
    }
    cat_writer_lock();
    mvs = cat_current_mvs();
    HASH_FIND_STR(mvs, key, mv);
    if (mv == NULL) {
        rc = 0; /* dropped meanwhile */
        goto out;
    }
    if (st->index_drop) {
        size_t k = 0;
        for (i = 0; i < mv->n_indexes; i++) {
            if (cat_streq_ci(mv->indexes[i].name, st->con_name)) {
                free(mv->indexes[i].name);
                cat_strv_free(mv->indexes[i].cols, mv->indexes[i].n_cols);
            } else {
                mv->indexes[k++] = mv->indexes[i];
            }
        }
        if (k == mv->n_indexes) {
            rc = 0; /* not one of the view's */
            goto out;
        }
        mv->n_indexes = k;
    } else {
        struct cat_mv_index *x;
        mv->indexes = realloc(mv->indexes, (mv->n_indexes + 1) * sizeof(*mv->indexes));
        if (mv->indexes == NULL) {
            abort();
        }
        x = &mv->indexes[mv->n_indexes++];
        memset(x, 0, sizeof(*x));
        x->name = cat_xstrdup(st->con_name);
        x->n_cols = st->n_parts;
        x->cols = cat_xcalloc(st->n_parts, sizeof(char *));
        for (i = 0; i < st->n_parts; i++) {
            x->cols[i] = cat_xstrdup(st->parts[i]);
        }
    }
    free(mv->create_sql);
    mv->create_sql = cat_show_create_text(mv);
    if (cat_store_update_def(c, mv, err, sizeof(err)) < 0) {
        mvp_reply_err(reply, 1105, "HY000", "updating the catalog: %s", err);
        goto out;
    }
    rc = cat_publish_mvs(c, mvs, err, sizeof(err));
    mvs = NULL;
    if (rc < 0) {
        mvp_reply_err(reply, 1105, "HY000", "publishing the catalog: %s", err);
    }
out:
    cat_free_mvs(mvs);
    cat_writer_unlock();
    mysql_close(c);
    return rc;
}

/*
 * ALTER MATERIALIZED VIEW mv {ADD INDEX i (cols) | DROP INDEX i}: the
 * client needs ALTER on the view (checked by the proxy, like every ALTER
 * MATERIALIZED VIEW); the index is made on the storage table with the
 * service connection (registered with the binlog follower as the proxy's
 * own, so the view stays fresh) under the view's refresh lock, then
 * recorded in the view's index list (alter_index_record). ADD checks first
 * that the columns are the view's outputs and the name is new (ERR 1072 /
 * 1060 / 1061, nothing changed); the backend's own error otherwise (1091
 * for a DROP of a name the table does not have, unless the view lists it).
 */
static void
alter_index(struct cat_stmt *st, const char *db, cat_exec_fn exec, void *ctx,
            struct mvp_reply *reply)
{
    struct cat_snapshot *snap;
    struct cat_mv *mv;
    struct cat_buf q = {0};
    char err[512], key[512];
    MYSQL *c;
    size_t i;
    unsigned code;
    bool listed;
    if (cat_adm_check_view_priv(st, db, CAT_PRIV_ALTER, "ALTER", exec, ctx, NULL, 0, reply) < 0) {
        return;
    }
    snap = cat_snapshot_acquire();
    mv = cat_adm_find_view(snap, st, db, reply);
    if (mv == NULL) {
        cat_snapshot_release(snap);
        return;
    }
    if (!st->index_drop && alter_index_check(snap, st, mv, reply) < 0) {
        cat_snapshot_release(snap);
        return;
    }
    snprintf(key, sizeof(key), "%s", mv->key);
    cat_buf_puts(&q, "ALTER TABLE ");
    cat_buf_qname(&q, mv->db, mv->name);
    if (st->index_drop) {
        cat_buf_puts(&q, " DROP INDEX ");
        cat_buf_ident(&q, st->con_name);
    } else {
        const struct cat_table *t = cat_snapshot_table(snap, mv->db, mv->name);
        cat_buf_puts(&q, " ADD INDEX ");
        cat_buf_ident(&q, st->con_name);
        cat_buf_puts(&q, " (");
        for (i = 0; i < st->n_parts; i++) {
            size_t k;
            cat_buf_puts(&q, i > 0 ? ", " : "");
            cat_buf_ident(&q, st->parts[i]);
            for (k = 0; t != NULL && k < t->n_cols; k++) {
                if (cat_streq_ci(t->cols[k].name, st->parts[i]) &&
                    cat_index_needs_prefix(t->cols[k].data_type)) {
                    cat_buf_printf(&q, "(%d)", CAT_INDEX_PREFIX); /* TEXT / BLOB */
                }
            }
        }
        cat_buf_puts(&q, ")");
    }
    c = cat_connect(err, sizeof(err));
    if (c == NULL) {
        mvp_reply_err(reply, 2003, "HY000", "changing %s: %s", mv->key, err);
        cat_snapshot_release(snap);
        cat_buf_free(&q);
        return;
    }
    if (!cat_adm_refresh_lock(c, mv, true)) {
        mvp_reply_err(reply, 1205, "HY000", "a refresh of %s is running; retry when it ends",
                      mv->key);
        cat_snapshot_release(snap);
        cat_buf_free(&q);
        mysql_close(c);
        return;
    }
    listed = false;
    for (i = 0; i < mv->n_indexes; i++) {
        listed = listed || cat_streq_ci(mv->indexes[i].name, st->con_name);
    }
    cat_snapshot_release(snap);
    /* the proxy's own connection, which the binlog follower skips: the same
     * DDL from another connection is a write to the view's storage table
     * and would make the view stale (cat_fresh.c) */
    cat_binlog_own_conn(mysql_thread_id(c), true);
    code = 0;
    if (cat_q(c, q.p, err, sizeof(err), &code) < 0 && !(st->index_drop && listed && code == 1091)) {
        /* 1091 on a listed index: one the backend refused at a refresh */
        mvp_reply_err(reply, (uint16_t)code, mysql_sqlstate(c), "%s", mysql_error(c));
    } else if (alter_index_record(st, key, reply) == 0) {
        mvp_reply_ok(reply, 0, NULL);
    }
    cat_binlog_own_conn(mysql_thread_id(c), false);
    cat_q(c, "SELECT RELEASE_ALL_LOCKS()", err, sizeof(err), NULL);
    mysql_close(c);
    cat_buf_free(&q);
}

/* ---- CANCEL ---- */

/*
 * SPEC §3: CANCEL of task TASK_ID needs being the one who started it
 * (tasks.run_by, compared with the client's CURRENT_USER()) or the PROCESS
 * (or SUPER) privilege; checked before anything else about the task, so a
 * denied user learns nothing of its state. An unknown task is left to
 * cat_task_cancel. Returns 0, or -1 with REPLY (1227, or the backend's error).
 */
static int
cancel_allowed(uint64_t task_id, cat_exec_fn exec, void *ctx, struct mvp_reply *reply)
{
    struct cat_privs pr;
    char who[400], me[400];
    int rc;
    if (cat_privs_load(exec, ctx, &pr, reply) < 0) {
        return -1;
    }
    if ((cat_privs_global(&pr) & (CAT_PRIV_PROCESS | CAT_PRIV_SUPER)) != 0) {
        cat_privs_free(&pr);
        return 0;
    }
    cat_adm_grantee_text(&pr, me, sizeof(me));
    cat_privs_free(&pr);
    rc = cat_task_run_by(task_id, who, sizeof(who));
    if (rc == 0 || (rc == 1 && strcmp(who, me) == 0)) {
        return 0;
    }
    mvp_reply_err(reply, 1227, "42000",
                  "Access denied; you need (at least one of) the PROCESS privilege(s) for this "
                  "operation (task %llu is not yours)",
                  (unsigned long long)task_id);
    return -1;
}

/* ---- dispatch ---- */

void
cat_admin_run(struct cat_admin_job *job, const char *user, const char *db, cat_exec_fn exec,
              void *exec_ctx, struct mvp_reply *reply)
{
    struct cat_stmt *st = &job->st;
    (void)user;
    mvp_reply_clear(reply);
    switch (st->kind) {
    case CAT_ST_CREATE:
        cat_admin_create(st, db, exec, exec_ctx, reply);
        break;
    case CAT_ST_REFRESH:
        run_refresh(st, db, exec, exec_ctx, reply);
        break;
    case CAT_ST_DROP:
        run_drop(st, db, exec, exec_ctx, reply);
        break;
    case CAT_ST_ALTER_RENAME:
    case CAT_ST_ALTER_REFRESH:
    case CAT_ST_ALTER_SET:
    case CAT_ST_PAUSE:
    case CAT_ST_RESUME: {
        const char *vdb = cat_adm_view_db(st, db, reply);
        if (vdb != NULL) {
            change_view(st, vdb, exec, exec_ctx, reply);
        }
        break;
    }
    case CAT_ST_ALTER_INDEX: {
        const char *vdb = cat_adm_view_db(st, db, reply);
        if (vdb != NULL) {
            alter_index(st, vdb, exec, exec_ctx, reply);
        }
        break;
    }
    case CAT_ST_CANCEL:
    {
        const char *vdb = cat_adm_view_db(st, db, reply);
        if (vdb != NULL && cancel_allowed(st->task_id, exec, exec_ctx, reply) == 0) {
            cat_task_cancel(vdb, st->name, st->task_id, reply);
        }
        break;
    }
    case CAT_ST_SHOW_MVS:
        cat_admin_show_mvs(st, db, exec, exec_ctx, reply);
        break;
    case CAT_ST_SHOW_CREATE:
    case CAT_ST_SHOW_PARTITIONS:
        cat_admin_show_view(st, db, exec, exec_ctx, reply);
        break;
    case CAT_ST_SELECT_TF:
        cat_admin_select_tf(st, db, exec, exec_ctx, reply);
        break;
    case CAT_ST_EXPLAIN_REWRITE:
        cat_admin_explain(st, job->rewrite_enabled, job->sql_mode, db, exec, exec_ctx, reply);
        break;
    case CAT_ST_ADD_CONSTRAINT:
    case CAT_ST_DROP_CONSTRAINT:
    case CAT_ST_SET_CONSTRAINTS:
    case CAT_ST_SHOW_CONSTRAINTS:
        cat_constraint_run(st, db, exec, exec_ctx, reply);
        break;
    }
    cat_task_set_run_by(NULL);
    cat_admin_job_free(job);
}
