/*
 * cat_admin.c - Doris-style admin SQL (SPEC §3, §8, §9): recognising the
 * statements on the worker thread (cheap, no backend I/O) and executing
 * them on an admin thread.
 *
 *   cat_admin_recognise ── first keywords ── cat_parse ──> job | ERR 1064
 *   cat_admin_run(job)
 *     CREATE   check AS select ─ CREATE TABLE ... AS SELECT ... WHERE 0 (client's connection,
 *              client's privileges) ─ row in mvs ─ publish ─ BUILD IMMEDIATE: refresh
 *     REFRESH  cat_task_run -> cat_refresh_view / cat_part_refresh / cat_incr_refresh
 *     DROP     DROP TABLE (client's connection) ─ delete row ─ publish
 *     SHOW / mv_infos() / tasks() / SHOW CREATE / SHOW PARTITIONS: local result sets;
 *              a filtered SELECT over mv_infos()/tasks() runs on the client's connection
 *              with the function replaced by a derived table of its rows
 *     EXPLAIN REWRITE  rw_rewrite(explain) → one row per candidate + a summary row
 *     ALTER RENAME / SET / REFRESH, PAUSE / RESUME: catalog updates
 *     ALTER TABLE ... NOT ENFORCED / DROP CONSTRAINT / SET ("..._constraints"), SHOW
 *              CONSTRAINTS: informational constraints (cat_constraint.c)
 *
 * Refresh clauses (ON COMMIT / ON SCHEDULE / EVERY / FAST) are run by the
 * scheduler (cat_sched.c); REFRESH, BUILD IMMEDIATE and CANCEL go through
 * the task layer (cat_task.c).
 */
#include "cat_admin.h"
#include "rw_limits.h"

#define ER_NOT_SUPPORTED_YET 1235
#define ER_TOO_HIGH_LEVEL_OF_NESTING_FOR_SELECT 1473
#include "cat_internal.h"
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

/* True when the first token of SQL (hints skipped) is the word WORD. */
static bool
first_word_is(const char *sql, size_t len, const char *word)
{
    struct rw_lexer lx;
    struct rw_tok a;
    rw_lex_init(&lx, sql, len);
    do {
        a = rw_lex_next(&lx);
    } while (a.kind == RW_TOK_HINT);
    return rw_tok_is(&lx, a, word);
}

/* True when SQL starts "ALTER MATERIALIZED": only the proxy answers it. */
static bool
ours_by_prefix(const char *sql, size_t len)
{
    struct rw_lexer lx;
    struct rw_tok a, b;
    rw_lex_init(&lx, sql, len);
    do {
        a = rw_lex_next(&lx);
    } while (a.kind == RW_TOK_HINT);
    do {
        b = rw_lex_next(&lx);
    } while (b.kind == RW_TOK_HINT);
    return rw_tok_is(&lx, a, "ALTER") && rw_tok_is(&lx, b, "MATERIALIZED");
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

/* First keyword(s) that may start an admin statement (cheap pre-check). */
static bool
maybe_admin(const char *sql, size_t len)
{
    struct rw_lexer lx;
    struct rw_tok a, b;
    rw_lex_init(&lx, sql, len);
    do {
        a = rw_lex_next(&lx);
    } while (a.kind == RW_TOK_HINT);
    if (a.kind != RW_TOK_IDENT) {
        return false;
    }
    if (rw_tok_is(&lx, a, "SELECT")) {
        return true; /* cat_parse looks for mv_infos / tasks with a substring search first */
    }
    do {
        b = rw_lex_next(&lx);
    } while (b.kind == RW_TOK_HINT);
    if (rw_tok_is(&lx, a, "SHOW")) {
        return rw_tok_is(&lx, b, "MATERIALIZED") || rw_tok_is(&lx, b, "CREATE") ||
               rw_tok_is(&lx, b, "PARTITIONS") || rw_tok_is(&lx, b, "CONSTRAINTS");
    }
    if (rw_tok_is(&lx, a, "ALTER") && rw_tok_is(&lx, b, "TABLE")) {
        return true; /* cat_parse claims only the informational-constraint shapes */
    }
    if (rw_tok_is(&lx, a, "EXPLAIN")) {
        return rw_tok_is(&lx, b, "REWRITE");
    }
    return (rw_tok_is(&lx, a, "CREATE") || rw_tok_is(&lx, a, "REFRESH") ||
            rw_tok_is(&lx, a, "ALTER") || rw_tok_is(&lx, a, "DROP") ||
            rw_tok_is(&lx, a, "PAUSE") || rw_tok_is(&lx, a, "RESUME") ||
            rw_tok_is(&lx, a, "CANCEL")) &&
           rw_tok_is(&lx, b, "MATERIALIZED");
}

bool
cat_admin_recognise(const char *sql, size_t len, const char *db, struct cat_admin_job **job,
                    struct mvp_reply *err)
{
    struct cat_stmt st;
    int rc;
    (void)db;
    *job = NULL;
    if (sql == NULL || len == 0 || !maybe_admin(sql, len)) {
        return false;
    }
    if (rw_limits_too_big(len)) {
        /* over the size budget (rw_limits.h): a SELECT or ALTER TABLE is
         * relayed; a statement that can only be ours gets a clear ERR */
        if (first_word_is(sql, len, "SELECT") || first_word_is(sql, len, "ALTER")) {
            return first_word_is(sql, len, "ALTER") && ours_by_prefix(sql, len) &&
                   too_big(err, len);
        }
        return too_big(err, len);
    }
    if (first_word_is(sql, len, "SELECT") && !cat_contains_ci(sql, len, "mv_infos") &&
        !cat_contains_ci(sql, len, "tasks")) {
        return false; /* every SELECT passes maybe_admin: do not lex it all */
    }
    memset(&st, 0, sizeof(st));
    rc = cat_parse(sql, len, &st, err);
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

/* ---- helpers ---- */

static void
not_supported(struct mvp_reply *reply, const char *what)
{
    mvp_reply_err(reply, 1235, "42000", "%s is not supported yet", what);
}

/* The view's database: the qualifier or the session's; NULL with ERR 1046. */
static const char *
view_db(const struct cat_stmt *st, const char *db, struct mvp_reply *reply)
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
static int
exec_client(cat_exec_fn exec, void *ctx, const char *sql, struct mvp_reply *reply)
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
static const char *
grantee_text(const struct cat_privs *p, char *buf, size_t len)
{
    snprintf(buf, len, "%s@%s", p->user ? p->user : "", p->host ? p->host : "");
    return buf;
}

/*
 * Drop the rows of result set ROWS whose table (columns DBCOL and NAMECOL)
 * P may not see (SPEC §3: introspection shows only views on whose storage
 * table the user has some privilege, as MariaDB hides tables).
 */
static void
filter_visible(struct mvp_reply *rows, const char *dbcol, const char *namecol,
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
 * The client's CURRENT_USER() ("user@host": the account of the grant that
 * authenticated it), read on its own connection through EXEC, into *OWNER
 * (caller frees). The view's refreshes read with this account's rights
 * (cat_refresh_src). Returns 0, or -1 with REPLY holding the ERR.
 */
static int
creator(cat_exec_fn exec, void *ctx, char **owner, struct mvp_reply *reply)
{
    struct mvp_reply r;
    mvp_reply_init(&r);
    *owner = NULL;
    if (exec(ctx, "SELECT CURRENT_USER()", &r) < 0 || r.kind != MVP_REPLY_ROWS ||
        r.n_rows != 1 || r.n_cols < 1 || r.rows[0][0] == NULL ||
        strchr(r.rows[0][0], '@') == NULL) {
        if (r.kind == MVP_REPLY_ERR) {
            mvp_reply_clear(reply);
            *reply = r;
            return -1;
        }
        mvp_reply_clear(&r);
        mvp_reply_err(reply, 1105, "HY000",
                      "could not read CURRENT_USER() of the creating session");
        return -1;
    }
    *owner = cat_xstrdup(r.rows[0][0]);
    mvp_reply_clear(&r);
    return 0;
}

/* Check a refresh clause is one the scheduler runs (cat_sched.c); else ERR 1235. */
static int
refresh_supported(const struct cat_refresh_clause *rc, struct mvp_reply *reply)
{
    return cat_sched_validate(rc, reply);
}

/* Lookup words for nondeterministic functions (SPEC §3 enable_nondeterministic_function). */
static const char *
nondeterministic_call(const char *sql, size_t len)
{
    static const char *const fns[] = {"NOW", "RAND", "UUID", "UUID_SHORT", "SYSDATE", "CURDATE",
                                      "CURTIME", "UNIX_TIMESTAMP", "CURRENT_TIMESTAMP",
                                      "CURRENT_DATE", "CURRENT_TIME", "LOCALTIME",
                                      "LOCALTIMESTAMP", "UTC_TIMESTAMP", "UTC_DATE",
                                      "CONNECTION_ID", "CURRENT_USER", "USER"};
    struct rw_lexer lx;
    struct rw_tok t, prev = {RW_TOK_EOF, 0, 0};
    size_t i;
    rw_lex_init(&lx, sql, len);
    while ((t = rw_lex_next(&lx)).kind != RW_TOK_EOF) {
        if (t.kind == RW_TOK_IDENT && !rw_tok_is_op(&lx, prev, ".")) {
            struct rw_lexer save = lx;
            struct rw_tok next = rw_lex_next(&lx);
            bool call = rw_tok_is_op(&lx, next, "(");
            lx = save;
            for (i = 0; i < sizeof(fns) / sizeof(fns[0]); i++) {
                bool bare_ok = i >= 8 && i <= 14; /* CURRENT_TIMESTAMP etc. need no () */
                if (rw_tok_is(&lx, t, fns[i]) && (call || bare_ok)) {
                    return fns[i];
                }
            }
        }
        prev = t;
    }
    return NULL;
}

/* Delete view ID's row and publish the catalog without KEY (writer lock taken here). */
static void
forget_view(MYSQL *c, uint64_t id, const char *key)
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

/* Append the storage-table DDL of a view (empty, typed like the definition). */
static void
storage_ddl(struct cat_buf *q, const char *db, const char *name, const struct cat_stmt *st)
{
    size_t i;
    cat_buf_puts(q, "CREATE TABLE ");
    cat_buf_qname(q, db, name);
    if (st->comment != NULL) {
        cat_buf_puts(q, " COMMENT ");
        cat_buf_lit(q, st->comment);
    }
    if (st->n_cols > 0) {
        cat_buf_puts(q, " AS WITH mvp_def (");
        for (i = 0; i < st->n_cols; i++) {
            cat_buf_puts(q, i > 0 ? ", " : "");
            cat_buf_ident(q, st->col_names[i]);
        }
        cat_buf_puts(q, ") AS (");
        cat_buf_add(q, st->sql + st->query_off, st->query_len);
        cat_buf_puts(q, "\n) SELECT * FROM mvp_def WHERE 0");
    } else {
        cat_buf_puts(q, " AS SELECT * FROM (");
        cat_buf_add(q, st->sql + st->query_off, st->query_len);
        cat_buf_puts(q, "\n) AS mvp_def WHERE 0");
    }
}

/*
 * The definition names an output by text that CREATE TABLE refuses (an
 * unaliased expression longer than 64 characters or ending in a space):
 * read the outputs' names as the client (SELECT * FROM (<def>) WHERE 0) and
 * give the invalid ones a generated storage name (cat_col_name_generate),
 * as if the CREATE had listed the columns. The generated name's COMMENT
 * records the output it stands for (SHOW CREATE MATERIALIZED VIEW shows the
 * mapping); a query answered from the view still reports MariaDB's name (the
 * rewriter emits AS <name>). Returns 1 when ST now has a column list, 0 when
 * no name is invalid (the caller keeps its error), -1 with REPLY set.
 */
static int
generated_columns(struct cat_stmt *st, cat_exec_fn exec, void *ctx, struct mvp_reply *reply)
{
    struct cat_buf q = {0};
    struct mvp_reply r;
    size_t i, n_bad = 0;
    char **names, **comments;
    mvp_reply_init(&r);
    cat_buf_puts(&q, "SELECT * FROM (");
    cat_buf_add(&q, st->sql + st->query_off, st->query_len);
    cat_buf_puts(&q, "\n) AS mvp_def WHERE 0");
    if (exec(ctx, q.p, &r) < 0 || r.kind == MVP_REPLY_ERR) {
        cat_buf_free(&q);
        if (r.kind != MVP_REPLY_ERR) {
            mvp_reply_err(&r, 2013, "HY000", "Lost connection to the backend");
        }
        mvp_reply_clear(reply);
        *reply = r;
        return -1;
    }
    cat_buf_free(&q);
    if (r.kind != MVP_REPLY_ROWS || r.n_cols == 0) {
        mvp_reply_clear(&r);
        return 0;
    }
    for (i = 0; i < r.n_cols; i++) {
        n_bad += !cat_col_name_valid(r.col_names[i]);
    }
    if (n_bad == 0) {
        mvp_reply_clear(&r);
        return 0;
    }
    names = cat_xcalloc(r.n_cols, sizeof(char *));
    comments = cat_xcalloc(r.n_cols, sizeof(char *));
    for (i = 0; i < r.n_cols; i++) {
        if (cat_col_name_valid(r.col_names[i])) {
            names[i] = cat_xstrdup(r.col_names[i]);
        }
    }
    for (i = 0; i < r.n_cols; i++) {
        if (names[i] == NULL) {
            struct cat_buf c = {0};
            /* taken: the valid names and the generated ones so far */
            names[i] = cat_col_name_generate(r.col_names[i], i + 1, (const char *const *)names,
                                             r.n_cols);
            cat_buf_puts(&c, "generated name of the output ");
            cat_buf_puts(&c, r.col_names[i]);
            comments[i] = cat_buf_take(&c);
        }
    }
    cat_strv_free(st->col_names, st->n_cols);
    cat_strv_free(st->col_comments, st->n_cols);
    st->n_cols = r.n_cols;
    st->col_names = names;
    st->col_comments = comments;
    mvp_reply_clear(&r);
    return 1;
}

/* ---- CREATE ---- */

static void
run_create(struct cat_stmt *st, const char *sdb, cat_exec_fn exec, void *ctx,
           struct mvp_reply *reply)
{
    const char *db = view_db(st, sdb, reply);
    struct cat_snapshot *snap;
    struct cat_mv *mv, *mvs;
    char *cerr = NULL, **tables = NULL, key[512], err[512];
    size_t epos = 0, n_tables = 0, i;
    struct cat_buf q = {0};
    const char *nd;
    MYSQL *c;
    bool exists;
    struct cat_prop *props;
    size_t n_props;

    if (db == NULL) {
        return;
    }
    if (st->partition_by != NULL) {
        /* syntax first; the column is checked once the storage table exists */
        struct cat_part_spec *ps = cat_part_spec_parse(st->partition_by, err, sizeof(err));
        if (ps == NULL) {
            mvp_reply_err(reply, 1064, "42000", "%s", err);
            return;
        }
        cat_part_spec_free(ps);
    }
    if (st->has_refresh && refresh_supported(&st->refresh, reply) < 0) {
        return;
    }
    if (rw_check_select(st->sql + st->query_off, st->query_len, &cerr, &epos) < 0 &&
        rw_limits_refused(cerr)) {
        /* over the analysis budgets (rw_limits.h): not a syntax error */
        if (strstr(cerr, "nested too deeply") != NULL) {
            mvp_reply_err(reply, ER_TOO_HIGH_LEVEL_OF_NESTING_FOR_SELECT, "HY000",
                          "Materialized view definition too deeply nested for mvproxy: %s", cerr);
        } else {
            mvp_reply_err(reply, ER_NOT_SUPPORTED_YET, "42000",
                          "Materialized view definition too large for mvproxy: %s", cerr);
        }
        free(cerr);
        return;
    }
    if (cerr != NULL) {
        size_t pos = st->query_off + epos;
        size_t near = st->len - (pos < st->len ? pos : st->len);
        mvp_reply_err(reply, 1064, "42000",
                      "You have an error in your SQL syntax near '%.*s' at position %zu%s%s",
                      (int)(near > 40 ? 40 : near), st->sql + (pos < st->len ? pos : st->len),
                      pos + 1, cerr ? ": " : "", cerr ? cerr : "");
        free(cerr);
        return;
    }
    free(cerr);
    cerr = NULL;
    {
        /* CREATE on the database (or the table) first: "already exists" and the
         * cycle check must not tell a user views it may not see (SPEC §3);
         * SELECT on what the definition reads is the backend's, checked when
         * the storage table is created with the client's own connection */
        struct cat_privs pr;
        int prc = require_on_view(st, db, CAT_PRIV_CREATE, "CREATE", exec, ctx, &pr, reply);
        char who[400];
        grantee_text(&pr, who, sizeof(who));
        cat_privs_free(&pr);
        if (prc < 0) {
            return;
        }
        cat_task_set_run_by(who); /* BUILD IMMEDIATE's task is the creator's */
    }
    cat_make_key(key, sizeof(key), db, st->name);
    snap = cat_snapshot_acquire();
    exists = cat_snapshot_find(snap, db, st->name) != NULL;
    cat_snapshot_release(snap);
    if (exists) {
        if (st->if_not_exists) {
            char info[600];
            snprintf(info, sizeof(info), "materialized view %s.%s already exists", db, st->name);
            mvp_reply_ok(reply, 0, info);
        } else {
            mvp_reply_err(reply, 1050, "42S01", "Materialized view '%s.%s' already exists", db,
                          st->name);
        }
        return;
    }
    if (rw_tables_read(st->sql + st->query_off, st->query_len, db, &tables, &n_tables, &cerr) <
        0) {
        mvp_reply_err(reply, 1064, "42000", "You have an error in your SQL syntax: %s",
                      cerr ? cerr : "the AS clause is not a SELECT");
        free(cerr);
        return;
    }
    for (i = 0; i < n_tables; i++) {
        if (strcmp(tables[i], key) == 0) {
            mvp_reply_err(reply, 1462, "HY000", "Materialized view '%s.%s' cannot read itself",
                          db, st->name);
            cat_strv_free(tables, n_tables);
            return;
        }
    }
    {
        /* layers: refuse a definition that would close a cycle of views */
        char who[512];
        bool cycle;
        snap = cat_snapshot_acquire();
        cycle = cat_sched_would_cycle(snap, key, tables, n_tables, who, sizeof(who));
        cat_snapshot_release(snap);
        if (cycle) {
            mvp_reply_err(reply, 1462, "HY000",
                          "Materialized view '%s.%s' would form a cycle of views through %s",
                          db, st->name, who);
            cat_strv_free(tables, n_tables);
            return;
        }
    }

    mv = cat_xcalloc(1, sizeof(*mv));
    mv->key = cat_xstrdup(key);
    mv->db = cat_xstrdup(db);
    mv->name = cat_xstrdup(st->name);
    mv->query_sql = cat_xstrndup(st->sql + st->query_off, st->query_len);
    mv->create_sql = cat_xstrndup(st->sql, st->len);
    {
        struct cat_refresh_clause def = {0};
        mv->refresh_info = cat_refresh_text(st->has_refresh ? &st->refresh : &def);
        cat_refresh_clause_copy(&mv->refresh, st->has_refresh ? &st->refresh : &def);
    }
    mv->build_mode = cat_xstrdup(st->build == 2 ? "DEFERRED" : "IMMEDIATE");
    mv->comment = cat_xstrdup(st->comment);
    mv->n_bases = n_tables;
    mv->bases = tables;
    mv->state = cat_mv_state_new();
    mv->created_ms = cat_now_ms();
    mv->n_cols = st->n_cols;
    if (st->n_cols > 0) {
        mv->col_names = cat_xcalloc(st->n_cols, sizeof(char *));
        mv->col_comments = cat_xcalloc(st->n_cols, sizeof(char *));
        for (i = 0; i < st->n_cols; i++) {
            mv->col_names[i] = cat_xstrdup(st->col_names[i]);
            mv->col_comments[i] = cat_xstrdup(st->col_comments[i]);
        }
    }
    /* ENABLE / DISABLE QUERY REWRITE is kept as Doris's use_for_rewrite property. */
    n_props = st->n_props;
    props = cat_xcalloc(n_props + 1, sizeof(*props));
    if (n_props > 0) {
        memcpy(props, st->props, n_props * sizeof(*props));
    }
    if (st->rewrite >= 0) {
        bool given = false;
        for (i = 0; i < n_props; i++) {
            given = given || strcmp(props[i].key, "use_for_rewrite") == 0;
        }
        if (!given) {
            props[n_props].key = "use_for_rewrite";
            props[n_props].value = st->rewrite ? "true" : "false";
            n_props++;
        }
    }
    if (cat_mv_set_props(mv, n_props, props, reply) < 0) {
        free(props);
        cat_mv_free(mv);
        return;
    }
    free(props);
    nd = nondeterministic_call(mv->query_sql, strlen(mv->query_sql));
    if (nd != NULL && !mv->nondeterministic_ok) {
        mvp_reply_err(reply, 1235, "42000",
                      "The definition of %s.%s calls the nondeterministic function %s; set "
                      "PROPERTIES (\"enable_nondeterministic_function\" = \"true\") to allow it",
                      db, st->name, nd);
        cat_mv_free(mv);
        return;
    }

    /* The owner: refreshes read with this account's rights (SPEC §3). */
    if (creator(exec, ctx, &mv->owner, reply) < 0) {
        cat_mv_free(mv);
        return;
    }
    /* The storage table, with the client's own privileges (SPEC §3). */
    storage_ddl(&q, db, st->name, st);
    if (exec_client(exec, ctx, q.p, reply) < 0) {
        int g = 0;
        cat_buf_free(&q);
        if (st->n_cols == 0 && reply->kind == MVP_REPLY_ERR &&
            (reply->err_code == 1166 || reply->err_code == 1059)) {
            /* Incorrect column name / Identifier name too long */
            struct mvp_reply r2;
            mvp_reply_init(&r2);
            g = generated_columns(st, exec, ctx, &r2);
            if (g == 1) {
                mvp_reply_clear(&r2);
                mvp_reply_clear(reply);
                mvp_reply_init(reply);
                mv->n_cols = st->n_cols;
                mv->col_names = cat_xcalloc(st->n_cols, sizeof(char *));
                mv->col_comments = cat_xcalloc(st->n_cols, sizeof(char *));
                for (i = 0; i < st->n_cols; i++) {
                    mv->col_names[i] = cat_xstrdup(st->col_names[i]);
                    mv->col_comments[i] = cat_xstrdup(st->col_comments[i]);
                }
                storage_ddl(&q, db, st->name, st);
                if (exec_client(exec, ctx, q.p, reply) < 0) {
                    g = -1;
                }
                cat_buf_free(&q);
            } else {
                mvp_reply_clear(&r2); /* keep the CREATE's own error */
                g = -1;
            }
        } else {
            g = -1;
        }
        if (g < 0) {
            cat_mv_free(mv);
            return;
        }
    } else {
        cat_buf_free(&q);
    }

    c = cat_connect(err, sizeof(err));
    if (c == NULL) {
        mvp_reply_err(reply, 2003, "HY000", "recording %s.%s in the catalog: %s", db, st->name,
                      err);
        goto undo_table;
    }
    if (st->partition_by != NULL) {
        /* PARTITION BY: the column must be a DATE/DATETIME output; its
         * derivation from a base table's column is worked out (SPEC §4) */
        mv->part = cat_part_spec_parse(st->partition_by, err, sizeof(err));
        if (mv->part == NULL || cat_part_resolve(c, mv, err, sizeof(err)) < 0) {
            mvp_reply_err(reply, 1235, "HY000", "%s", err);
            goto undo_table;
        }
        mv->state->parts = cat_pstate_new();
    }
    cat_writer_lock();
    if (cat_store_insert(c, mv, err, sizeof(err)) < 0) {
        cat_writer_unlock();
        mvp_reply_err(reply, 1105, "HY000", "recording %s.%s in the catalog: %s", db, st->name,
                      err);
        mysql_close(c);
        c = NULL;
        goto undo_table;
    }
    {
        uint64_t id = mv->id;
        mvs = cat_current_mvs();
        HASH_ADD_KEYPTR(hh, mvs, mv->key, strlen(mv->key), mv);
        mv = NULL;
        if (cat_publish_mvs(c, mvs, err, sizeof(err)) < 0) {
            cat_writer_unlock();
            mvp_reply_err(reply, 1105, "HY000", "publishing the catalog: %s", err);
            cat_store_delete(c, id, err, sizeof(err));
            mysql_close(c);
            c = NULL;
            goto undo_table;
        }
        cat_writer_unlock();

        if (st->build == 2) {
            char info[600];
            snprintf(info, sizeof(info),
                     "created %s.%s (BUILD DEFERRED: not used until REFRESH MATERIALIZED VIEW)",
                     db, st->name);
            mvp_reply_ok(reply, 0, info);
            mysql_close(c);
            return;
        }
        if (cat_task_run(db, st->name, CAT_RM_COMPLETE, NULL, 0, CAT_TASK_BUILD, reply,
                         NULL) < 0) {
            /* BUILD IMMEDIATE failed: the statement changes nothing. */
            struct mvp_reply keep = *reply;
            mvp_reply_init(reply);
            forget_view(c, id, key);
            mysql_close(c);
            c = NULL;
            q = (struct cat_buf){0};
            cat_buf_puts(&q, "DROP TABLE IF EXISTS ");
            cat_buf_qname(&q, db, st->name);
            if (exec_client(exec, ctx, q.p, reply) < 0) {
                MYSQL *s = cat_connect(err, sizeof(err));
                if (s != NULL) {
                    cat_q(s, q.p, err, sizeof(err), NULL);
                    mysql_close(s);
                }
            }
            cat_buf_free(&q);
            mvp_reply_clear(reply);
            *reply = keep;
            return;
        }
        {
            char info[700];
            snprintf(info, sizeof(info), "created %s.%s; %s", db, st->name,
                     reply->info ? reply->info : "refreshed");
            mvp_reply_ok(reply, reply->affected_rows, info);
        }
        mysql_close(c);
        return;
    }

undo_table: {
    struct mvp_reply tmp;
    mvp_reply_init(&tmp);
    q = (struct cat_buf){0};
    cat_buf_puts(&q, "DROP TABLE IF EXISTS ");
    cat_buf_qname(&q, db, st->name);
    exec(ctx, q.p, &tmp);
    mvp_reply_clear(&tmp);
    cat_buf_free(&q);
    cat_mv_free(mv);
    if (c != NULL) {
        mysql_close(c);
    }
}
}

/* ---- lookups shared by the statements on one view ---- */

/* Find the view named by ST in the current snapshot (SNAP held by caller). */
static struct cat_mv *
find_view(struct cat_snapshot *snap, const struct cat_stmt *st, const char *db,
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
static bool
refresh_lock(MYSQL *c, const struct cat_mv *mv, bool take)
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

/* ---- REFRESH ---- */

static void
run_refresh(struct cat_stmt *st, const char *sdb, cat_exec_fn exec, void *ctx,
            struct mvp_reply *reply)
{
    const char *db = view_db(st, sdb, reply);
    struct cat_snapshot *snap;
    struct cat_mv *mv;
    char name[256];
    if (db == NULL) {
        return;
    }
    {
        /* SPEC §3: REFRESH needs INSERT on the view's table; the task is the client's */
        struct cat_privs pr;
        char who[400];
        int prc = require_on_view(st, db, CAT_PRIV_INSERT, "INSERT", exec, ctx, &pr, reply);
        grantee_text(&pr, who, sizeof(who));
        cat_privs_free(&pr);
        if (prc < 0) {
            return;
        }
        cat_task_set_run_by(who);
    }
    snap = cat_snapshot_acquire();
    mv = find_view(snap, st, db, reply);
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
    const char *db = view_db(st, sdb, reply);
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
    {
        /* SPEC §3: DROP needs DROP on the view's table, before anything else */
        struct cat_privs pr;
        int prc = require_on_view(st, db, CAT_PRIV_DROP, "DROP", exec, ctx, &pr, reply);
        cat_privs_free(&pr);
        if (prc < 0) {
            return;
        }
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
    if (!refresh_lock(c, mv, true)) {
        mvp_reply_err(reply, 1205, "HY000", "a refresh of %s.%s is running; retry when it ends",
                      mv->db, mv->name);
        mysql_close(c);
        cat_snapshot_release(snap);
        return;
    }
    cat_buf_puts(&q, "DROP TABLE IF EXISTS ");
    cat_buf_qname(&q, mv->db, mv->name);
    cat_snapshot_release(snap);
    if (exec_client(exec, ctx, q.p, reply) < 0) {
        cat_buf_free(&q);
        cat_q(c, "SELECT RELEASE_ALL_LOCKS()", err, sizeof(err), NULL);
        mysql_close(c);
        return;
    }
    cat_buf_free(&q);
    forget_view(c, id, key);
    cat_q(c, "SELECT RELEASE_ALL_LOCKS()", err, sizeof(err), NULL);
    mysql_close(c);
    mvp_reply_ok(reply, 0, NULL);
}

/* ---- ALTER / PAUSE / RESUME ---- */

/* ALTER (RENAME / REFRESH / SET), PAUSE, RESUME of the view ST names in DB:
 * edit a copy of the catalog, persist the row, publish. */
static void
change_view(struct cat_stmt *st, const char *db, cat_exec_fn exec, void *ctx,
            struct mvp_reply *reply)
{
    struct cat_snapshot *snap;
    struct cat_mv *cur, *mvs, *mv = NULL;
    char key[512], err[512];
    MYSQL *c;
    {
        /* SPEC §3: every ALTER form, PAUSE and RESUME need ALTER on the view's table */
        struct cat_privs pr;
        int prc = require_on_view(st, db, CAT_PRIV_ALTER, "ALTER", exec, ctx, &pr, reply);
        cat_privs_free(&pr);
        if (prc < 0) {
            return;
        }
    }
    snap = cat_snapshot_acquire();
    cur = find_view(snap, st, db, reply);
    if (cur == NULL) {
        cat_snapshot_release(snap);
        return;
    }
    snprintf(key, sizeof(key), "%s", cur->key);
    if (st->kind == CAT_ST_ALTER_REFRESH && refresh_supported(&st->refresh, reply) < 0) {
        cat_snapshot_release(snap);
        return;
    }
    if (st->kind == CAT_ST_ALTER_RENAME) {
        struct cat_mv *dep[2];
        if (st->new_db != NULL && !cat_streq_ci(st->new_db, cur->db)) {
            not_supported(reply, "Moving a materialized view to another database");
            cat_snapshot_release(snap);
            return;
        }
        if (cat_snapshot_find(snap, cur->db, st->new_name) != NULL) {
            mvp_reply_err(reply, 1050, "42S01", "Materialized view '%s.%s' already exists",
                          cur->db, st->new_name);
            cat_snapshot_release(snap);
            return;
        }
        if (cat_dependents(snap, cur, dep, 2) > 0) {
            mvp_reply_err(reply, 3730, "HY000",
                          "Cannot rename materialized view '%s.%s': view '%s.%s' reads it",
                          cur->db, cur->name, dep[0]->db, dep[0]->name);
            cat_snapshot_release(snap);
            return;
        }
    }
    cat_snapshot_release(snap);

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
    case CAT_ST_ALTER_SET: {
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
        if (i < 0) {
            goto out;
        }
        break;
    }
    case CAT_ST_ALTER_RENAME: {
        struct cat_buf q = {0};
        char nkey[512];
        if (!refresh_lock(c, mv, true)) {
            mvp_reply_err(reply, 1205, "HY000", "a refresh of %s is running; retry when it ends",
                          key);
            goto out;
        }
        cat_buf_puts(&q, "RENAME TABLE ");
        cat_buf_qname(&q, mv->db, mv->name);
        cat_buf_puts(&q, " TO ");
        cat_buf_qname(&q, mv->db, st->new_name);
        if (exec_client(exec, ctx, q.p, reply) < 0) {
            cat_buf_free(&q);
            cat_q(c, "SELECT RELEASE_ALL_LOCKS()", err, sizeof(err), NULL);
            goto out;
        }
        cat_buf_free(&q);
        cat_q(c, "SELECT RELEASE_ALL_LOCKS()", err, sizeof(err), NULL);
        HASH_DEL(mvs, mv);
        free(mv->name);
        mv->name = cat_xstrdup(st->new_name);
        free(mv->key);
        mv->key = cat_xstrdup(cat_make_key(nkey, sizeof(nkey), mv->db, mv->name));
        HASH_ADD_KEYPTR(hh, mvs, mv->key, strlen(mv->key), mv);
        break;
    }
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
 * ALTER MATERIALIZED VIEW mv {ADD INDEX i (cols) | DROP INDEX i}: an index
 * of the storage table, made with the client's own connection (the backend
 * checks its ALTER / INDEX privileges too) under the view's refresh lock, so
 * that a complete refresh (staging CREATE ... LIKE the table) keeps it.
 */
static void
alter_index(struct cat_stmt *st, const char *db, cat_exec_fn exec, void *ctx,
            struct mvp_reply *reply)
{
    struct cat_snapshot *snap;
    struct cat_mv *mv;
    struct cat_buf q = {0};
    char err[512];
    MYSQL *c;
    size_t i;
    {
        struct cat_privs pr;
        int prc = require_on_view(st, db, CAT_PRIV_ALTER, "ALTER", exec, ctx, &pr, reply);
        cat_privs_free(&pr);
        if (prc < 0) {
            return;
        }
    }
    snap = cat_snapshot_acquire();
    mv = find_view(snap, st, db, reply);
    if (mv == NULL) {
        cat_snapshot_release(snap);
        return;
    }
    cat_buf_puts(&q, "ALTER TABLE ");
    cat_buf_qname(&q, mv->db, mv->name);
    if (st->index_drop) {
        cat_buf_puts(&q, " DROP INDEX ");
        cat_buf_ident(&q, st->con_name);
    } else {
        cat_buf_puts(&q, " ADD INDEX ");
        cat_buf_ident(&q, st->con_name);
        cat_buf_puts(&q, " (");
        for (i = 0; i < st->n_parts; i++) {
            cat_buf_puts(&q, i > 0 ? ", " : "");
            cat_buf_ident(&q, st->parts[i]);
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
    if (!refresh_lock(c, mv, true)) {
        mvp_reply_err(reply, 1205, "HY000", "a refresh of %s is running; retry when it ends",
                      mv->key);
        cat_snapshot_release(snap);
        cat_buf_free(&q);
        mysql_close(c);
        return;
    }
    cat_snapshot_release(snap);
    if (exec_client(exec, ctx, q.p, reply) == 0) {
        mvp_reply_ok(reply, 0, NULL);
    }
    cat_q(c, "SELECT RELEASE_ALL_LOCKS()", err, sizeof(err), NULL);
    mysql_close(c);
    cat_buf_free(&q);
}

/* ---- SELECT ... FROM mv_infos() / tasks() ---- */

static void
run_select_tf(struct cat_stmt *st, const char *sdb, cat_exec_fn exec, void *ctx,
              struct mvp_reply *reply)
{
    struct mvp_reply rows;
    const char *db = st->tf_database;
    struct cat_privs pr;
    if (cat_privs_load(exec, ctx, &pr, reply) < 0) {
        return;
    }
    mvp_reply_init(&rows);
    if (st->tf == CAT_TF_MV_INFOS) {
        struct cat_snapshot *snap = cat_snapshot_acquire();
        cat_show_mvs(snap, db, NULL, &rows);
        cat_snapshot_release(snap);
        filter_visible(&rows, "Database", "Name", &pr);
    } else if (cat_show_tasks(&rows) < 0) {
        cat_privs_free(&pr);
        mvp_reply_clear(reply);
        *reply = rows;
        return;
    } else {
        filter_visible(&rows, "MvDatabaseName", "MvName", &pr);
    }
    cat_privs_free(&pr);
    (void)sdb;
    if (st->tf_star_only) {
        mvp_reply_clear(reply);
        *reply = rows;
        return;
    }
    {
        /* Filtered / projected: splice a derived table of the rows in place of
         * the function and let the backend evaluate the rest as the client. */
        struct cat_buf q = {0};
        char *derived = cat_rows_as_derived(&rows, st->tf_alias ? NULL
                                                   : st->tf == CAT_TF_MV_INFOS ? "mv_infos"
                                                                               : "tasks");
        cat_buf_add(&q, st->sql, st->tf_off);
        cat_buf_puts(&q, derived);
        cat_buf_add(&q, st->sql + st->tf_end, st->len - st->tf_end);
        free(derived);
        mvp_reply_clear(&rows);
        mvp_reply_clear(reply);
        if (exec(ctx, q.p, reply) < 0 && reply->kind != MVP_REPLY_ERR) {
            mvp_reply_err(reply, 2013, "HY000", "Lost connection to the backend");
        }
        cat_buf_free(&q);
    }
}

/* SHOW MATERIALIZED VIEWS ... WHERE cond: filter the rows on the client's connection. */
static void
run_show_where(struct cat_stmt *st, const struct mvp_reply *rows, cat_exec_fn exec, void *ctx,
               struct mvp_reply *reply)
{
    struct cat_buf q = {0};
    char *derived = cat_rows_as_derived(rows, "mv_infos");
    cat_buf_puts(&q, "SELECT * FROM ");
    cat_buf_puts(&q, derived);
    cat_buf_puts(&q, " WHERE ");
    cat_buf_add(&q, st->sql + st->query_off, st->query_len);
    free(derived);
    mvp_reply_clear(reply);
    if (exec(ctx, q.p, reply) < 0 && reply->kind != MVP_REPLY_ERR) {
        mvp_reply_err(reply, 2013, "HY000", "Lost connection to the backend");
    }
    cat_buf_free(&q);
}

/* ---- EXPLAIN REWRITE (SPEC §8) ---- */

static void
run_explain(struct cat_admin_job *job, const char *db, cat_exec_fn exec, void *ctx,
            struct mvp_reply *reply)
{
    static const char *const cols[] = {"mv_name", "status", "reason", "stale_partitions",
                                       "est_rows", "sql"};
    static const enum mvp_col_type types[] = {MVP_COL_STRING, MVP_COL_STRING, MVP_COL_STRING,
                                              MVP_COL_STRING, MVP_COL_INT, MVP_COL_STRING};
    static const char *const status[] = {"CHOSEN", "MATCHED_NOT_CHOSEN", "REJECTED"};
    struct cat_stmt *st = &job->st;
    struct cat_snapshot *snap = cat_snapshot_acquire();
    struct rw_options opt = {.enabled = job->rewrite_enabled, .explain = true,
                             .now_ms = cat_now_ms()};
    struct rw_outcome out;
    size_t i;
    struct cat_buf notes = {0}; /* what CHOSEN matches trusted, for the summary row */
    char *query;
    struct cat_privs pr;
    bool hidden_chosen = false;
    if (cat_privs_load(exec, ctx, &pr, reply) < 0) {
        cat_snapshot_release(snap);
        return;
    }
    query = cat_xstrndup(st->sql + st->query_off, st->query_len);
    memset(&out, 0, sizeof(out));
    if (rw_rewrite(query, st->query_len, db, snap, &opt, &out) < 0) {
        mvp_reply_err(reply, 1105, "HY000", "EXPLAIN REWRITE: out of memory");
        rw_outcome_free(&out);
        cat_snapshot_release(snap);
        cat_privs_free(&pr);
        free(query);
        return;
    }
    mvp_reply_rows(reply, 6, cols, types);
    for (i = 0; i < out.n_cand; i++) {
        const struct rw_candidate *cd = &out.cand[i];
        char est[24];
        const char *v[6];
        int s = (int)cd->status;
        if (cd->mv != NULL && !cat_privs_visible(&pr, cd->mv->db, cd->mv->name)) {
            /* SPEC §3: no row for a view the user cannot see; a statement
             * answered from it would be refused by the backend and run as
             * written, so the summary says so */
            hidden_chosen = hidden_chosen || cd->status == RW_CAND_CHOSEN;
            continue;
        }
        snprintf(est, sizeof(est), "%lld", (long long)cd->est_rows);
        v[0] = cd->mv_name;
        v[1] = status[s >= 0 && s <= 2 ? s : 2];
        v[2] = cd->reason ? cd->reason : "";
        if (cd->status == RW_CAND_CHOSEN) {
            /* SPEC §8: empty for CHOSEN; what the match trusted (informational
             * constraints) goes to the summary row instead */
            if (v[2][0] != '\0') {
                cat_buf_puts(&notes, notes.len > 0 ? "; " : "");
                cat_buf_puts(&notes, v[2]);
            }
            v[2] = "";
        }
        v[3] = cd->stale_partitions ? cd->stale_partitions : "";
        v[4] = cd->est_rows >= 0 ? est : NULL;
        v[5] = cd->sql;
        mvp_reply_add_row(reply, v);
    }
    {
        const char *v[6];
        v[0] = NULL;
        bool rewritten = out.rewritten && !hidden_chosen;
        v[1] = rewritten ? "REWRITTEN" : "NOT_REWRITTEN";
        v[2] = hidden_chosen ? ""
               : out.reason && out.reason[0] != '\0' ? out.reason
               : notes.len > 0                      ? notes.p
                                                    : "";
        v[3] = "";
        v[4] = NULL;
        v[5] = rewritten && out.sql ? out.sql : query;
        mvp_reply_add_row(reply, v);
    }
    cat_privs_free(&pr);
    cat_buf_free(&notes);
    rw_outcome_free(&out);
    cat_snapshot_release(snap);
    free(query);
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
    grantee_text(&pr, me, sizeof(me));
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
        run_create(st, db, exec, exec_ctx, reply);
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
        const char *vdb = view_db(st, db, reply);
        if (vdb != NULL) {
            change_view(st, vdb, exec, exec_ctx, reply);
        }
        break;
    }
    case CAT_ST_ALTER_INDEX: {
        const char *vdb = view_db(st, db, reply);
        if (vdb != NULL) {
            alter_index(st, vdb, exec, exec_ctx, reply);
        }
        break;
    }
    case CAT_ST_CANCEL:
    {
        const char *vdb = view_db(st, db, reply);
        if (vdb != NULL && cancel_allowed(st->task_id, exec, exec_ctx, reply) == 0) {
            cat_task_cancel(vdb, st->name, st->task_id, reply);
        }
        break;
    }
    case CAT_ST_SHOW_MVS: {
        struct cat_snapshot *snap;
        const char *sdb = st->show_db ? st->show_db : db;
        struct cat_privs pr;
        if (cat_privs_load(exec, exec_ctx, &pr, reply) < 0) {
            break;
        }
        snap = cat_snapshot_acquire();
        if (st->query_len > 0) {
            struct mvp_reply rows;
            mvp_reply_init(&rows);
            cat_show_mvs(snap, sdb, NULL, &rows);
            filter_visible(&rows, "Database", "Name", &pr);
            run_show_where(st, &rows, exec, exec_ctx, reply);
            mvp_reply_clear(&rows);
        } else {
            cat_show_mvs(snap, sdb, st->like, reply);
            filter_visible(reply, "Database", "Name", &pr);
        }
        cat_snapshot_release(snap);
        cat_privs_free(&pr);
        break;
    }
    case CAT_ST_SHOW_CREATE:
    case CAT_ST_SHOW_PARTITIONS: {
        const char *vdb = view_db(st, db, reply);
        struct cat_snapshot *snap;
        struct cat_mv *mv;
        struct cat_privs pr;
        if (vdb == NULL || cat_privs_load(exec, exec_ctx, &pr, reply) < 0) {
            break;
        }
        snap = cat_snapshot_acquire();
        mv = find_view(snap, st, vdb, reply);
        if (mv != NULL && !cat_privs_visible(&pr, mv->db, mv->name)) {
            /* hidden: answered as if it did not exist, so existence does not leak */
            mv = NULL;
            mvp_reply_err(reply, 1146, "42S02", "Materialized view '%s.%s' doesn't exist", vdb,
                          st->name);
        }
        cat_privs_free(&pr);
        if (mv != NULL && st->kind == CAT_ST_SHOW_CREATE) {
            static const char *const cols[] = {"Materialized View", "Create Materialized View"};
            char *text = cat_show_create_text(mv);
            const char *v[2] = {mv->name, text};
            mvp_reply_rows(reply, 2, cols, NULL);
            mvp_reply_add_row(reply, v);
            free(text);
        } else if (mv != NULL) {
            if (mv->part != NULL && mv->state->parts != NULL) {
                cat_part_show(mv, reply);
            } else {
                cat_show_partitions(mv, reply);
            }
        }
        cat_snapshot_release(snap);
        break;
    }
    case CAT_ST_SELECT_TF:
        run_select_tf(st, db, exec, exec_ctx, reply);
        break;
    case CAT_ST_EXPLAIN_REWRITE:
        run_explain(job, db, exec, exec_ctx, reply);
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
