/*
 * cat_admin_create.c - CREATE MATERIALIZED VIEW (SPEC §3, §4): check the
 * definition, the name and the privileges, build the catalog entry, create
 * the storage table with the client's own privileges, record and publish
 * the view, and run its first refresh (BUILD IMMEDIATE). A failure at any
 * step changes nothing (SPEC §10).
 *
 *   check definition ─ CREATE privilege ─ name free, no self-read, no cycle ─ view model
 *     ─ owner + CREATE TABLE ... AS SELECT ... WHERE 0 (client's connection)
 *     ─ KEY / INDEX columns checked ─ row in mvs ─ publish ─ no index declared: the
 *     defaults recorded ─ BUILD IMMEDIATE: refresh task (builds the indexes)
 */
#include "cat_admin_create.h"

#include "cat_admin_util.h"
#include <mysql.h>

#include "cat.h"
#include "cat_admin.h"
#include "cat_core.h"
#include "cat_index.h"
#include "cat_part.h"
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

/* CREATE, step 1: the clauses and the AS select are well formed and within
 * the analysis budgets. Returns 0, or -1 with REPLY (1064, 1235, 1473). */
static int
create_check_definition(const struct cat_stmt *st, struct mvp_reply *reply)
{
    char *cerr = NULL, err[512];
    size_t epos = 0;

    if (st->partition_by != NULL) {
        /* syntax first; the column is checked once the storage table exists */
        struct cat_part_spec *ps = cat_part_spec_parse(st->partition_by, err, sizeof(err));
        if (ps == NULL) {
            mvp_reply_err(reply, 1064, "42000", "%s", err);
            return -1;
        }
        cat_part_spec_free(ps);
    }
    if (st->has_refresh && cat_adm_refresh_supported(&st->refresh, reply) < 0) {
        return -1;
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
        return -1;
    }
    if (cerr != NULL) {
        size_t pos = st->query_off + epos;
        size_t near = st->len - (pos < st->len ? pos : st->len);
        mvp_reply_err(reply, 1064, "42000",
                      "You have an error in your SQL syntax near '%.*s' at position %zu%s%s",
                      (int)(near > 40 ? 40 : near), st->sql + (pos < st->len ? pos : st->len),
                      pos + 1, cerr ? ": " : "", cerr ? cerr : "");
        free(cerr);
        return -1;
    }
    free(cerr);
    return 0;
}

/*
 * CREATE, step 3: the name is free (or IF NOT EXISTS: an OK note), and the
 * base tables the definition reads (into *TABLES / *N_TABLES, "db.t"
 * lower-cased; the caller owns them on 0) do not make it read itself or
 * close a cycle of views. KEY is the view's "db.name". Returns 0, or -1
 * with REPLY (the OK note, 1050, 1064, 1462).
 */
static int
create_check_name(const struct cat_stmt *st, const char *db, const char *key, char ***tables,
                  size_t *n_tables, struct mvp_reply *reply)
{
    struct cat_snapshot *snap;
    char *cerr = NULL;
    bool exists;
    size_t i;

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
        return -1;
    }
    if (rw_tables_read(st->sql + st->query_off, st->query_len, db, tables, n_tables, &cerr) <
        0) {
        mvp_reply_err(reply, 1064, "42000", "You have an error in your SQL syntax: %s",
                      cerr ? cerr : "the AS clause is not a SELECT");
        free(cerr);
        return -1;
    }
    for (i = 0; i < *n_tables; i++) {
        if (strcmp((*tables)[i], key) == 0) {
            mvp_reply_err(reply, 1462, "HY000", "Materialized view '%s.%s' cannot read itself",
                          db, st->name);
            cat_strv_free(*tables, *n_tables);
            return -1;
        }
    }
    {
        /* layers: refuse a definition that would close a cycle of views */
        char who[512];
        bool cycle;
        snap = cat_snapshot_acquire();
        cycle = cat_sched_would_cycle(snap, key, *tables, *n_tables, who, sizeof(who));
        cat_snapshot_release(snap);
        if (cycle) {
            mvp_reply_err(reply, 1462, "HY000",
                          "Materialized view '%s.%s' would form a cycle of views through %s",
                          db, st->name, who);
            cat_strv_free(*tables, *n_tables);
            return -1;
        }
    }
    return 0;
}

/* The column list ST gives (names, comments) into MV's, replacing none. */
static void
copy_columns(struct cat_mv *mv, const struct cat_stmt *st)
{
    size_t i;
    mv->n_cols = st->n_cols;
    mv->col_names = cat_xcalloc(st->n_cols, sizeof(char *));
    mv->col_comments = cat_xcalloc(st->n_cols, sizeof(char *));
    for (i = 0; i < st->n_cols; i++) {
        mv->col_names[i] = cat_xstrdup(st->col_names[i]);
        mv->col_comments[i] = cat_xstrdup(st->col_comments[i]);
    }
}

/*
 * CREATE, step 4: the catalog entry for the view (not yet published):
 * definition, refresh clause, columns, PROPERTIES (ENABLE / DISABLE QUERY
 * REWRITE as use_for_rewrite), base TABLES (N_TABLES, taken). Returns it,
 * or NULL with REPLY (a bad property, 1235 for a nondeterministic call
 * not allowed); TABLES are freed either way.
 */
static struct cat_mv *
create_view_model(const struct cat_stmt *st, const char *db, const char *key, char **tables,
                  size_t n_tables, struct mvp_reply *reply)
{
    struct cat_mv *mv;
    struct cat_prop *props;
    size_t n_props, i;
    const char *nd;

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
        copy_columns(mv, st);
    }
    mv->n_indexes = st->n_indexes; /* checked once the storage table exists; the first
                                      refresh builds them (create_indexes) */
    cat_mv_indexes_copy(&mv->indexes, st->indexes, st->n_indexes);
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
        return NULL;
    }
    free(props);
    nd = nondeterministic_call(mv->query_sql, strlen(mv->query_sql));
    if (nd != NULL && !mv->nondeterministic_ok) {
        mvp_reply_err(reply, 1235, "42000",
                      "The definition of %s.%s calls the nondeterministic function %s; set "
                      "PROPERTIES (\"enable_nondeterministic_function\" = \"true\") to allow it",
                      db, st->name, nd);
        cat_mv_free(mv);
        return NULL;
    }
    return mv;
}

/*
 * CREATE, step 5: the owner (CURRENT_USER(), whose rights refreshes use)
 * into MV, and the storage table, created on the client's own connection
 * with its privileges (SPEC §3). A definition whose output columns have no
 * usable names gets generated ones (generated_columns, then ST and MV hold
 * them). Returns 0, or -1 with REPLY (the backend's error); MV stays the
 * caller's.
 */
static int
create_storage(struct cat_stmt *st, const char *db, struct cat_mv *mv, cat_exec_fn exec,
               void *ctx, struct mvp_reply *reply)
{
    struct cat_buf q = {0};

    /* The owner: refreshes read with this account's rights (SPEC §3). */
    if (creator(exec, ctx, &mv->owner, reply) < 0) {
        return -1;
    }
    /* The storage table, with the client's own privileges (SPEC §3). */
    storage_ddl(&q, db, st->name, st);
    if (cat_adm_exec_client(exec, ctx, q.p, reply) < 0) {
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
                copy_columns(mv, st);
                storage_ddl(&q, db, st->name, st);
                if (cat_adm_exec_client(exec, ctx, q.p, reply) < 0) {
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
            return -1;
        }
    } else {
        cat_buf_free(&q);
    }
    return 0;
}

/*
 * CREATE, step 6a: the declared indexes of MV (KEY / INDEX clauses) name
 * output columns of the new storage table and each other once (checked
 * with C, the service connection: cat_index_check). They are recorded with
 * the view; the first refresh builds them on its staging table
 * (cat_refresh_stage: on the live storage table the DDL would come back
 * through the binlog as a write to the view and make it stale). Returns 0,
 * or -1 with REPLY (1072, 1060, 1061, or the catalog read's error).
 */
static int
create_indexes(MYSQL *c, struct cat_mv *mv, struct mvp_reply *reply)
{
    char **cols = NULL, err[512];
    size_t nc = 0;
    int rc;
    if (mv->n_indexes == 0) {
        return 0;
    }
    if (cat_index_table_cols(c, mv->db, mv->name, &cols, NULL, &nc, err, sizeof(err)) < 0) {
        mvp_reply_err(reply, 1105, "HY000", "%s", err);
        return -1;
    }
    rc = cat_index_check(mv->indexes, mv->n_indexes, NULL, 0, cols, nc, reply);
    cat_strv_free(cols, nc);
    return rc;
}

/*
 * CREATE, step 6b (writer lock held, view KEY just published): a view that
 * declared no index gets the defaults (cat_index_defaults, from the
 * published model), recorded and published again before the first refresh
 * builds them. Never fatal: a failure is logged and the view has none.
 */
static void
create_default_indexes(MYSQL *c, const char *key)
{
    struct cat_snapshot *snap = cat_snapshot_acquire();
    struct cat_mv *pub = NULL, *mvs, *mv = NULL;
    struct cat_mv_index *ix = NULL;
    size_t n = 0;
    char err[512];
    if (snap != NULL) {
        HASH_FIND_STR(snap->mvs, key, pub);
    }
    if (pub != NULL) {
        n = cat_index_defaults(pub, &ix);
    }
    cat_snapshot_release(snap);
    if (n == 0) {
        return;
    }
    mvs = cat_current_mvs();
    HASH_FIND_STR(mvs, key, mv);
    if (mv == NULL) {
        cat_mv_indexes_free(ix, n);
        cat_free_mvs(mvs);
        return;
    }
    mv->indexes = ix;
    mv->n_indexes = n;
    if (cat_store_update_def(c, mv, err, sizeof(err)) < 0) {
        cat_log(CAT_LOG_WARN, "view %s: recording its default indexes: %s", key, err);
        cat_free_mvs(mvs);
        return;
    }
    if (cat_publish_mvs(c, mvs, err, sizeof(err)) < 0) {
        cat_log(CAT_LOG_WARN, "view %s: publishing its default indexes: %s", key, err);
    }
}

/*
 * CREATE, step 6: record MV (taken) in the catalog, publish it and, unless
 * BUILD DEFERRED, run its first refresh as a BUILD task. Any failure drops
 * the storage table again and leaves the catalog as it was: the statement
 * changes nothing (SPEC §10). Fills REPLY with the OK or the ERR. Kept in
 * one piece: the undo path is shared by every failure after the table was
 * created.
 */
static void
create_publish(struct cat_stmt *st, const char *db, const char *key, struct cat_mv *mv,
               cat_exec_fn exec, void *ctx, struct mvp_reply *reply)
{
    struct cat_mv *mvs;
    struct cat_buf q = {0};
    char err[512];
    MYSQL *c;

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
    if (create_indexes(c, mv, reply) < 0) {
        goto undo_table;
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
        size_t mv_declared = st->n_indexes;
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
        if (mv_declared == 0) {
            create_default_indexes(c, key);
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
            cat_adm_forget_view(c, id, key);
            mysql_close(c);
            c = NULL;
            q = (struct cat_buf){0};
            cat_buf_puts(&q, "DROP TABLE IF EXISTS ");
            cat_buf_qname(&q, db, st->name);
            if (cat_adm_exec_client(exec, ctx, q.p, reply) < 0) {
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

void
cat_admin_create(struct cat_stmt *st, const char *sdb, cat_exec_fn exec, void *ctx,
                 struct mvp_reply *reply)
{
    const char *db = cat_adm_view_db(st, sdb, reply);
    struct cat_mv *mv;
    char **tables = NULL, key[512];
    size_t n_tables = 0;

    if (db == NULL || create_check_definition(st, reply) < 0) {
        return;
    }
    {
        /* CREATE on the database (or the table) first: "already exists" and the
         * cycle check must not tell a user views it may not see (SPEC §3);
         * SELECT on what the definition reads is the backend's, checked when
         * the storage table is created with the client's own connection */
        char who[400];
        if (cat_adm_check_view_priv(st, db, CAT_PRIV_CREATE, "CREATE", exec, ctx, who,
                                    sizeof(who), reply) < 0) {
            return;
        }
        cat_task_set_run_by(who); /* BUILD IMMEDIATE's task is the creator's */
    }
    cat_make_key(key, sizeof(key), db, st->name);
    if (create_check_name(st, db, key, &tables, &n_tables, reply) < 0) {
        return;
    }
    mv = create_view_model(st, db, key, tables, n_tables, reply);
    if (mv == NULL) {
        return;
    }
    if (create_storage(st, db, mv, exec, ctx, reply) < 0) {
        cat_mv_free(mv);
        return;
    }
    create_publish(st, db, key, mv, exec, ctx, reply);
}
