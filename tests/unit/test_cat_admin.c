/*
 * test_cat_admin.c - the admin SQL parser (every SPEC §3 statement form,
 * including the Oracle / GaussDB forms), PROPERTIES validation, syntax-error
 * positions, cat_admin_recognise's cheap path, and the freshness marking of
 * write statements on a hand-built snapshot (layers, excluded tables, reads).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "cat.h"
#include "cat_admin.h"
#include "cat_core.h"
#include "cat_engine.h"
#include "cat_fresh.h"
#include "cat_index.h"
#include "cat_parse.h"
#include "cat_props.h"
#include "cat_refresh_clause.h"
#include "cat_reply.h"
#include "cat_show.h"
#include "cat_util.h"
#include "rw_lex.h"
#include "cat_test_parse.h"

/* CREATE ... KEY (cols) / INDEX name (cols) (issue 12): the clauses, their
 * errors, the checks against the storage columns, and the stored forms. */
static void
test_create_indexes(void **state)
{
    struct cat_stmt st;
    struct mvp_reply e;
    struct cat_mv_index *back = NULL;
    size_t nb = 0;
    char *txt, *json;
    char *cols[] = {"g", "day", "name", "total"};
    (void)state;
    assert_int_equal(parse("CREATE MATERIALIZED VIEW mv BUILD DEFERRED REFRESH COMPLETE "
                           "KEY (g, `day`) INDEX i_name (name) INDEX `i 2` (total, g) "
                           "PARTITION BY (day) PROPERTIES (\"grace_period\" = \"5\") "
                           "AS SELECT g, day, name, SUM(x) AS total FROM t GROUP BY 1, 2, 3",
                           &st, &e),
                     1);
    assert_int_equal(st.n_indexes, 3);
    assert_true(st.indexes[0].is_key);
    assert_string_equal(st.indexes[0].name, "mvp_key");
    assert_int_equal(st.indexes[0].n_cols, 2);
    assert_string_equal(st.indexes[0].cols[1], "day");
    assert_false(st.indexes[1].is_key);
    assert_string_equal(st.indexes[1].name, "i_name");
    assert_string_equal(st.indexes[2].name, "i 2");
    assert_string_equal(st.partition_by, "(day)");
    assert_int_equal(st.n_props, 1);
    assert_int_equal(cat_index_check(st.indexes, st.n_indexes, NULL, 0, cols, 4, &e), 0);
    txt = cat_index_text(st.indexes, st.n_indexes);
    assert_string_equal(txt, "KEY(g, day); INDEX i_name(name); INDEX i 2(total, g)");
    free(txt);
    json = cat_index_json(st.indexes, st.n_indexes);
    assert_int_equal(cat_index_of_json(json, &back, &nb), 3);
    assert_true(back[0].is_key);
    assert_string_equal(back[2].name, "i 2");
    assert_string_equal(back[2].cols[0], "total");
    free(json);
    {
        /* ALTER ... ADD INDEX i_name: a name the view has */
        struct cat_mv_index dup = {.name = "I_NAME", .n_cols = 1, .cols = cols};
        assert_int_equal(cat_index_check(&dup, 1, back, nb, cols, 4, &e), -1);
        assert_int_equal(e.err_code, 1061);
        mvp_reply_clear(&e);
    }
    cat_mv_indexes_free(back, nb);
    /* columns must be the view's outputs, once each */
    assert_int_equal(cat_index_check(st.indexes, st.n_indexes, NULL, 0, cols, 3, &e), -1);
    assert_int_equal(e.err_code, 1072);
    assert_non_null(strstr(e.err_msg, "'total'"));
    mvp_reply_clear(&e);
    done(&st, &e);
    assert_int_equal(
        parse("CREATE MATERIALIZED VIEW mv INDEX a (g, G) AS SELECT g FROM t", &st, &e), 1);
    assert_int_equal(cat_index_check(st.indexes, st.n_indexes, NULL, 0, cols, 4, &e), -1);
    assert_int_equal(e.err_code, 1060);
    mvp_reply_clear(&e);
    done(&st, &e);
    assert_int_equal(parse("CREATE MATERIALIZED VIEW mv INDEX a (g) INDEX A (day) AS SELECT g, "
                           "day FROM t",
                           &st, &e),
                     1);
    assert_int_equal(cat_index_check(st.indexes, st.n_indexes, NULL, 0, cols, 4, &e), -1);
    assert_int_equal(e.err_code, 1061);
    mvp_reply_clear(&e);
    done(&st, &e);
    /* Doris DUPLICATE KEY and StarRocks ORDER BY are the view's KEY */
    assert_int_equal(
        parse("CREATE MATERIALIZED VIEW mv DUPLICATE KEY (g) AS SELECT g FROM t", &st, &e), 1);
    assert_int_equal(st.n_indexes, 1);
    assert_true(st.indexes[0].is_key);
    done(&st, &e);
    assert_int_equal(
        parse("CREATE MATERIALIZED VIEW mv ORDER BY (g, day) AS SELECT g, day FROM t", &st, &e), 1);
    assert_int_equal(st.indexes[0].n_cols, 2);
    done(&st, &e);
    /* malformed: two KEYs, INDEX without a name or columns, an empty list */
    assert_int_equal(
        parse("CREATE MATERIALIZED VIEW mv KEY (g) KEY (g) AS SELECT g FROM t", &st, &e), -1);
    assert_int_equal(e.err_code, 1064);
    done(&st, &e);
    assert_int_equal(parse("CREATE MATERIALIZED VIEW mv INDEX (g) AS SELECT g FROM t", &st, &e),
                     -1);
    done(&st, &e);
    assert_int_equal(parse("CREATE MATERIALIZED VIEW mv INDEX i AS SELECT g FROM t", &st, &e), -1);
    done(&st, &e);
    assert_int_equal(parse("CREATE MATERIALIZED VIEW mv KEY () AS SELECT g FROM t", &st, &e), -1);
    done(&st, &e);
    assert_int_equal(cat_index_of_json(NULL, &back, &nb), 0);
    assert_int_equal(cat_index_of_json("[\"junk\"]", &back, &nb), 0);
}

static void
test_create_doris_full(void **state)
{
    struct cat_stmt st;
    struct mvp_reply e;
    const char *sql =
        "CREATE MATERIALIZED VIEW IF NOT EXISTS sales.mv1 (region COMMENT 'r', total)\n"
        "BUILD DEFERRED REFRESH COMPLETE ON MANUAL\n"
        "DISTRIBUTED BY HASH(region) BUCKETS 2\n"
        "COMMENT 'daily'\n"
        "PROPERTIES (\"grace_period\" = \"600\", \"replication_num\" = \"1\")\n"
        "AS SELECT region, SUM(amount) FROM raw_sales GROUP BY region;";
    (void)state;
    assert_int_equal(parse(sql, &st, &e), 1);
    assert_int_equal(st.kind, CAT_ST_CREATE);
    assert_true(st.if_not_exists);
    assert_string_equal(st.db, "sales");
    assert_string_equal(st.name, "mv1");
    assert_int_equal(st.n_cols, 2);
    assert_string_equal(st.col_names[0], "region");
    assert_string_equal(st.col_comments[0], "r");
    assert_null(st.col_comments[1]);
    assert_int_equal(st.build, 2);
    assert_int_equal(st.refresh.method, CAT_RM_COMPLETE);
    assert_int_equal(st.refresh.trigger, CAT_RT_MANUAL);
    assert_true(st.distributed);
    assert_string_equal(st.comment, "daily");
    assert_int_equal(st.n_props, 2);
    assert_string_equal(st.props[0].key, "grace_period");
    assert_string_equal(st.props[0].value, "600");
    assert_int_equal(st.query_len, strlen("SELECT region, SUM(amount) FROM raw_sales GROUP BY "
                                          "region"));
    assert_memory_equal(st.sql + st.query_off, "SELECT region", 13);
    done(&st, &e);
}

static void
test_create_schedule_and_partition(void **state)
{
    struct cat_stmt st;
    struct mvp_reply e;
    char *txt;
    (void)state;
    assert_int_equal(parse("CREATE MATERIALIZED VIEW mv BUILD IMMEDIATE REFRESH AUTO ON SCHEDULE "
                           "EVERY 2 HOUR STARTS '2024-01-01 00:00:00' PARTITION BY "
                           "(date_trunc(ts, 'day')) AS SELECT 1",
                           &st, &e),
                     1);
    assert_int_equal(st.refresh.method, CAT_RM_AUTO);
    assert_int_equal(st.refresh.trigger, CAT_RT_SCHEDULE);
    assert_int_equal(st.refresh.every_n, 2);
    assert_string_equal(st.refresh.unit, "HOUR");
    assert_string_equal(st.refresh.starts, "2024-01-01 00:00:00");
    assert_string_equal(st.partition_by, "(date_trunc(ts, 'day'))");
    txt = cat_refresh_text(&st.refresh);
    assert_string_equal(txt, "REFRESH AUTO ON SCHEDULE EVERY 2 HOUR STARTS '2024-01-01 00:00:00'");
    free(txt);
    done(&st, &e);
    assert_int_equal(parse("CREATE MATERIALIZED VIEW mv REFRESH COMPLETE ON COMMIT partition "
                           "by(order_date) AS SELECT 1",
                           &st, &e),
                     1);
    assert_int_equal(st.refresh.trigger, CAT_RT_COMMIT);
    assert_string_equal(st.partition_by, "(order_date)");
    done(&st, &e);
}

static void
test_create_oracle_forms(void **state)
{
    struct cat_stmt st;
    struct mvp_reply e;
    (void)state;
    assert_int_equal(parse("CREATE MATERIALIZED VIEW mv REFRESH FAST EVERY (interval '5 min') "
                           "ENABLE QUERY REWRITE AS SELECT 1",
                           &st, &e),
                     1);
    assert_int_equal(st.refresh.method, CAT_RM_FAST);
    assert_int_equal(st.refresh.trigger, CAT_RT_EVERY);
    assert_string_equal(st.refresh.interval, "5 min");
    assert_int_equal(st.rewrite, 1);
    done(&st, &e);
    assert_int_equal(parse("CREATE MATERIALIZED VIEW mv WITH (orientation = column) REFRESH "
                           "COMPLETE ON DEMAND DISABLE QUERY REWRITE PARTITION BY "
                           "date_trunc('month', ts) AS WITH x AS (SELECT 1 AS a) SELECT a FROM x",
                           &st, &e),
                     1);
    assert_true(st.with_options);
    assert_int_equal(st.refresh.trigger, CAT_RT_DEMAND);
    assert_int_equal(st.rewrite, 0);
    assert_string_equal(st.partition_by, "date_trunc('month', ts)");
    assert_memory_equal(st.sql + st.query_off, "WITH x AS", 9);
    done(&st, &e);
}

static void
test_other_statements(void **state)
{
    struct cat_stmt st;
    struct mvp_reply e;
    (void)state;
    assert_int_equal(parse("REFRESH MATERIALIZED VIEW db1.mv COMPLETE", &st, &e), 1);
    assert_int_equal(st.kind, CAT_ST_REFRESH);
    assert_int_equal(st.refresh_mode, CAT_RM_COMPLETE);
    assert_string_equal(st.db, "db1");
    done(&st, &e);
    assert_int_equal(parse("REFRESH MATERIALIZED VIEW mv PARTITIONS (p1, `p2`)", &st, &e), 1);
    assert_int_equal(st.refresh_mode, CAT_RM_PARTITIONS);
    assert_int_equal(st.n_parts, 2);
    assert_string_equal(st.parts[1], "p2");
    done(&st, &e);
    assert_int_equal(parse("ALTER MATERIALIZED VIEW mv RENAME mv2", &st, &e), 1);
    assert_int_equal(st.kind, CAT_ST_ALTER_RENAME);
    assert_string_equal(st.new_name, "mv2");
    done(&st, &e);
    assert_int_equal(parse("ALTER MATERIALIZED VIEW mv REFRESH AUTO ON MANUAL", &st, &e), 1);
    assert_int_equal(st.kind, CAT_ST_ALTER_REFRESH);
    done(&st, &e);
    assert_int_equal(parse("ALTER MATERIALIZED VIEW mv SET (\"grace_period\" = \"10\")", &st, &e),
                     1);
    assert_int_equal(st.kind, CAT_ST_ALTER_SET);
    done(&st, &e);
    assert_int_equal(parse("ALTER MATERIALIZED VIEW mv ADD INDEX ix (a, `b`)", &st, &e), 1);
    assert_int_equal(st.kind, CAT_ST_ALTER_INDEX);
    assert_false(st.index_drop);
    assert_string_equal(st.con_name, "ix");
    assert_int_equal(st.n_parts, 2);
    assert_string_equal(st.parts[1], "b");
    done(&st, &e);
    assert_int_equal(parse("ALTER MATERIALIZED VIEW mv DROP KEY ix", &st, &e), 1);
    assert_int_equal(st.kind, CAT_ST_ALTER_INDEX);
    assert_true(st.index_drop);
    done(&st, &e);
    assert_int_equal(parse("ALTER MATERIALIZED VIEW mv ADD INDEX ix", &st, &e), -1);
    done(&st, &e);
    assert_int_equal(parse("DROP MATERIALIZED VIEW IF EXISTS `my db`.`m``v`", &st, &e), 1);
    assert_int_equal(st.kind, CAT_ST_DROP);
    assert_true(st.if_exists);
    assert_string_equal(st.db, "my db");
    assert_string_equal(st.name, "m`v");
    done(&st, &e);
    assert_int_equal(parse("PAUSE MATERIALIZED VIEW JOB ON mv", &st, &e), 1);
    assert_int_equal(st.kind, CAT_ST_PAUSE);
    done(&st, &e);
    assert_int_equal(parse("RESUME MATERIALIZED VIEW JOB ON mv", &st, &e), 1);
    assert_int_equal(st.kind, CAT_ST_RESUME);
    done(&st, &e);
    assert_int_equal(parse("CANCEL MATERIALIZED VIEW TASK 42 ON mv", &st, &e), 1);
    assert_int_equal(st.kind, CAT_ST_CANCEL);
    assert_int_equal(st.task_id, 42);
    done(&st, &e);
    assert_int_equal(parse("SHOW MATERIALIZED VIEWS FROM db1 LIKE 'mv%'", &st, &e), 1);
    assert_int_equal(st.kind, CAT_ST_SHOW_MVS);
    assert_string_equal(st.show_db, "db1");
    assert_string_equal(st.like, "mv%");
    done(&st, &e);
    assert_int_equal(parse("SHOW MATERIALIZED VIEWS WHERE Name = 'x';", &st, &e), 1);
    assert_int_equal(st.query_len, strlen("Name = 'x'"));
    done(&st, &e);
    assert_int_equal(parse("SHOW CREATE MATERIALIZED VIEW mv", &st, &e), 1);
    assert_int_equal(st.kind, CAT_ST_SHOW_CREATE);
    done(&st, &e);
    assert_int_equal(parse("SHOW PARTITIONS FROM mv", &st, &e), 1);
    assert_int_equal(st.kind, CAT_ST_SHOW_PARTITIONS);
    done(&st, &e);
    assert_int_equal(parse("EXPLAIN REWRITE SELECT 1 FROM t;", &st, &e), 1);
    assert_int_equal(st.kind, CAT_ST_EXPLAIN_REWRITE);
    assert_int_equal(st.query_len, strlen("SELECT 1 FROM t"));
    done(&st, &e);
}

static void
test_table_functions(void **state)
{
    struct cat_stmt st;
    struct mvp_reply e;
    const char *sql = "SELECT Name FROM mv_infos('database' = 'db1') WHERE Rows > 0";
    (void)state;
    assert_int_equal(parse(sql, &st, &e), 1);
    assert_int_equal(st.kind, CAT_ST_SELECT_TF);
    assert_int_equal(st.tf, CAT_TF_MV_INFOS);
    assert_string_equal(st.tf_database, "db1");
    assert_false(st.tf_star_only);
    assert_false(st.tf_alias);
    assert_memory_equal(sql + st.tf_off, "mv_infos(", 9);
    assert_int_equal(sql[st.tf_end], ' ');
    done(&st, &e);
    assert_int_equal(parse("select * from tasks('type'='mv');", &st, &e), 1);
    assert_int_equal(st.tf, CAT_TF_TASKS);
    assert_true(st.tf_star_only);
    done(&st, &e);
    assert_int_equal(parse("SELECT * FROM mv_infos('database'='d') AS m", &st, &e), 1);
    assert_true(st.tf_alias);
    done(&st, &e);
    /* not admin: a table named tasks, a column named mv_infos */
    assert_int_equal(parse("SELECT * FROM tasks WHERE id = 1", &st, &e), 0);
    done(&st, &e);
    assert_int_equal(parse("SELECT mv_infos FROM t", &st, &e), 0);
    done(&st, &e);
}

static void
test_syntax_errors(void **state)
{
    struct cat_stmt st;
    struct mvp_reply e;
    (void)state;
    assert_int_equal(parse("CREATE MATERIALIZED VIEW mv BUILD LATER AS SELECT 1", &st, &e), -1);
    assert_int_equal(e.err_code, 1064);
    assert_string_equal(e.sqlstate, "42000");
    assert_non_null(strstr(e.err_msg, "near 'LATER AS SELECT 1' at position 35"));
    done(&st, &e);
    assert_int_equal(parse("CREATE MATERIALIZED VIEW mv AS", &st, &e), -1);
    assert_non_null(strstr(e.err_msg, "at position 31"));
    done(&st, &e);
    /* a clause given twice is an error, not a leak of the first (found by fuzz_admin) */
    assert_int_equal(parse("CREATE MATERIALIZED VIEW mv PARTITION BY (d) PARTITION BY (e) AS "
                           "SELECT d, e FROM t", &st, &e), -1);
    assert_int_equal(e.err_code, 1064);
    assert_non_null(strstr(e.err_msg, "near 'PARTITION BY (e)"));
    done(&st, &e);
    assert_int_equal(parse("CREATE MATERIALIZED VIEW mv REFRESH AUTO ON SCHEDULE EVERY 1 DAY "
                           "REFRESH COMPLETE ON SCHEDULE EVERY 2 HOUR AS SELECT 1", &st, &e), -1);
    assert_int_equal(e.err_code, 1064);
    done(&st, &e);
    assert_int_equal(parse("DROP MATERIALIZED VIEW mv extra", &st, &e), -1);
    assert_non_null(strstr(e.err_msg, "near 'extra'"));
    done(&st, &e);
    assert_int_equal(parse("REFRESH MATERIALIZED VIEW", &st, &e), -1);
    done(&st, &e);
    assert_int_equal(parse("SHOW MATERIALIZED TABLES", &st, &e), -1);
    done(&st, &e);
    assert_int_equal(parse("CREATE MATERIALIZED VIEW mv REFRESH ON SCHEDULE EVERY x HOUR AS "
                           "SELECT 1",
                           &st, &e),
                     -1);
    done(&st, &e);
    /* not admin statements */
    assert_int_equal(parse("CREATE TABLE t (a int)", &st, &e), 0);
    done(&st, &e);
    assert_int_equal(parse("SHOW TABLES", &st, &e), 0);
    done(&st, &e);
    assert_int_equal(parse("EXPLAIN SELECT 1", &st, &e), 0);
    done(&st, &e);
}

static void
test_properties(void **state)
{
    struct cat_stmt st;
    struct mvp_reply e;
    struct cat_props p;
    struct cat_prop ok[] = {{"grace_period", "30"},
                            {"excluded_trigger_tables", "dim1, db2.dim2"},
                            {"query_rewrite_consistency", "loose"},
                            {"enable_nondeterministic_function", "true"},
                            {"partition_sync_limit", "3"},
                            {"partition_sync_time_unit", "MONTH"},
                            {"refresh_partition_num", "2"},
                            {"replication_num", "1"}};
    (void)state;
    mvp_reply_init(&e);
    assert_int_equal(cat_props_validate(sizeof(ok) / sizeof(ok[0]), ok, &p, &e), 0);
    assert_int_equal(p.grace_period_s, 30);
    assert_int_equal(p.consistency, CAT_CONSISTENCY_LOOSE);
    assert_true(p.nondeterministic_ok);
    assert_int_equal(p.n_excluded, 2);
    assert_string_equal(p.excluded[1], "db2.dim2");
    cat_props_free(&p);

    assert_int_equal(parse("CREATE MATERIALIZED VIEW mv PROPERTIES ('grace_period' = '-5') AS "
                           "SELECT 1",
                           &st, &e),
                     -1);
    assert_int_equal(e.err_code, 1231);
    assert_non_null(strstr(e.err_msg, "grace_period"));
    done(&st, &e);
    assert_int_equal(parse("CREATE MATERIALIZED VIEW mv PROPERTIES ('grace_period' = '1h') AS "
                           "SELECT 1",
                           &st, &e),
                     -1);
    assert_int_equal(e.err_code, 1231);
    done(&st, &e);
    assert_int_equal(parse("CREATE MATERIALIZED VIEW mv PROPERTIES ('gracе' = '1', 'x' = 'y') "
                           "AS SELECT 1",
                           &st, &e),
                     -1);
    assert_int_equal(e.err_code, 1911);
    done(&st, &e);
    assert_int_equal(parse("ALTER MATERIALIZED VIEW mv SET ('query_rewrite_consistency' = "
                           "'sometimes')",
                           &st, &e),
                     -1);
    assert_non_null(strstr(e.err_msg, "ENFORCED, LOOSE or DISABLE"));
    done(&st, &e);
    assert_int_equal(parse("CREATE MATERIALIZED VIEW mv PROPERTIES ('grace_period' = '1', "
                           "'grace_period' = '2') AS SELECT 1",
                           &st, &e),
                     -1);
    done(&st, &e);
}

static void
test_recognise(void **state)
{
    struct cat_admin_job *job = NULL;
    struct mvp_reply e;
    const char *sel = "SELECT * FROM orders WHERE id = 1";
    const char *bad = "DROP MATERIALIZED VIEW";
    const char *good = "/*+ hint */ SHOW MATERIALIZED VIEWS";
    (void)state;
    mvp_reply_init(&e);
    assert_false(cat_admin_recognise(sel, strlen(sel), "db", &job, &e));
    assert_null(job);
    assert_true(cat_admin_recognise(bad, strlen(bad), "db", &job, &e));
    assert_null(job);
    assert_int_equal(e.kind, MVP_REPLY_ERR);
    assert_int_equal(e.err_code, 1064);
    mvp_reply_clear(&e);
    assert_true(cat_admin_recognise(good, strlen(good), "db", &job, &e));
    assert_non_null(job);
    cat_admin_job_set_rewrite(job, false);
    cat_admin_job_free(job);
}

/* Only a statement whose whole grammar is the proxy's is claimed: SHOW
 * CREATE TABLE / VIEW / DATABASE are the backend's (issue 10). */
static void
test_recognise_show_create(void **state)
{
    static const char *const relayed[] = {
        "SHOW CREATE TABLE orders", "show create view v", "SHOW CREATE DATABASE db",
        "SHOW CREATE TABLE mv_sales", "SHOW CREATE", "SELECT * FROM tasks",
    };
    const char *ours = "SHOW CREATE MATERIALIZED VIEW mv_sales";
    const char *bad = "SHOW CREATE MATERIALIZED TABLE mv_sales";
    struct cat_admin_job *job = NULL;
    struct mvp_reply e;
    struct rw_tok lead[3];
    size_t i;
    (void)state;
    mvp_reply_init(&e);
    for (i = 0; i < sizeof(relayed) / sizeof(relayed[0]); i++) {
        assert_false(cat_admin_recognise(relayed[i], strlen(relayed[i]), "db", &job, &e));
        assert_null(job);
    }
    assert_int_equal(e.err_code, 0); /* no ERR for what is relayed */
    cat_admin_lead(ours, strlen(ours), lead);
    assert_int_equal(cat_admin_claim(ours, lead), CAT_CLAIM_OURS);
    assert_true(cat_admin_recognise(ours, strlen(ours), "db", &job, &e));
    assert_non_null(job);
    cat_admin_job_free(job);
    job = NULL;
    assert_true(cat_admin_recognise(bad, strlen(bad), "db", &job, &e));
    assert_null(job);
    assert_int_equal(e.err_code, 1064);
    mvp_reply_clear(&e);
}

/* ---- freshness marking on a hand-built snapshot ---- */

static struct cat_mv *
add_mv(struct cat_snapshot *s, const char *db, const char *name, const char *const *bases,
       const char *excluded)
{
    struct cat_mv *mv = cat_xcalloc(1, sizeof(*mv));
    char key[256];
    size_t n = 0;
    mv->db = cat_xstrdup(db);
    mv->name = cat_xstrdup(name);
    mv->key = cat_xstrdup(cat_make_key(key, sizeof(key), db, name));
    while (bases[n] != NULL) {
        n++;
    }
    mv->bases = cat_xcalloc(n, sizeof(char *));
    for (mv->n_bases = 0; mv->n_bases < n; mv->n_bases++) {
        mv->bases[mv->n_bases] = cat_xstrdup(bases[mv->n_bases]);
    }
    if (excluded != NULL) {
        mv->n_excluded = 1;
        mv->excluded = cat_xcalloc(1, sizeof(char *));
        mv->excluded[0] = cat_xstrdup(excluded);
    }
    mv->state = cat_mv_state_new();
    mv->rewrite_enabled = true;
    HASH_ADD_KEYPTR(hh, s->mvs, mv->key, strlen(mv->key), mv);
    return mv;
}

static int64_t
stale(const struct cat_mv *mv)
{
    return atomic_load(&mv->state->stale_since_ms);
}

static void
reset(struct cat_snapshot *s)
{
    struct cat_mv *mv, *tmp;
    HASH_ITER(hh, s->mvs, mv, tmp) {
        atomic_store(&mv->state->stale_since_ms, 0);
    }
}

static int
mark(struct cat_snapshot *s, const char *sql, const char *db)
{
    return cat_mark_writes(s, sql, strlen(sql), db, 1000);
}

static void
test_mark_writes(void **state)
{
    struct cat_snapshot *s = cat_xcalloc(1, sizeof(*s));
    const char *const dwd_b[] = {"w.raw_sales", "w.dim", NULL};
    const char *const dws_b[] = {"w.dwd", NULL};
    const char *const ads_b[] = {"w.dws", NULL};
    const char *const oth_b[] = {"x.orders", "x.nation", NULL};
    struct cat_mv *dwd, *dws, *ads, *oth;
    (void)state;
    dwd = add_mv(s, "w", "dwd", dwd_b, NULL);
    dws = add_mv(s, "w", "dws", dws_b, NULL);
    ads = add_mv(s, "w", "ads", ads_b, NULL);
    oth = add_mv(s, "x", "oth", oth_b, "x.nation");
    cat_snapshot_index(s);

    /* reads mark nothing */
    assert_int_equal(mark(s, "SELECT * FROM raw_sales", "w"), 0);
    assert_int_equal(mark(s, "select * from raw_sales; select 1", "w"), 0);
    assert_int_equal(stale(dwd), 0);

    /* DML on the base marks every layer */
    assert_int_equal(mark(s, "INSERT INTO raw_sales VALUES (1)", "w"), 3);
    assert_int_equal(stale(dwd), 1000);
    assert_int_equal(stale(dws), 1000);
    assert_int_equal(stale(ads), 1000);
    assert_int_equal(stale(oth), 0);
    /* the first unreflected change is kept */
    assert_int_equal(cat_mark_writes(s, "DELETE FROM raw_sales", 21, "w", 5000), 3);
    assert_int_equal(stale(dwd), 1000);
    reset(s);

    /* qualified names, other session db, backticks, case */
    assert_int_equal(mark(s, "UPDATE `W`.`Raw_Sales` SET a = 1", "other"), 3);
    reset(s);
    assert_int_equal(mark(s, "update x.orders o join w.dim d on o.k = d.k set o.a = 1", NULL),
                     4);
    reset(s);
    /* no session db: an unqualified name matches in any database */
    assert_int_equal(mark(s, "TRUNCATE TABLE orders", NULL), 1);
    reset(s);

    /* the middle layer's storage written directly: itself and the layers above */
    assert_int_equal(mark(s, "REPLACE INTO dws VALUES (1)", "w"), 2);
    assert_int_equal(stale(dwd), 0);
    assert_int_equal(stale(dws), 1000);
    reset(s);

    /* excluded_trigger_tables */
    assert_int_equal(mark(s, "INSERT INTO nation VALUES (1)", "x"), 0);
    assert_int_equal(mark(s, "INSERT INTO orders VALUES (1)", "x"), 1);
    reset(s);

    /* multi-statement text: each statement is checked */
    assert_int_equal(mark(s, "SELECT 1; /* c */ DELETE FROM dim WHERE 1", "w"), 3);
    reset(s);
    /* DDL and LOAD */
    assert_int_equal(mark(s, "ALTER TABLE x.orders ADD COLUMN c INT", NULL), 1);
    reset(s);
    assert_int_equal(mark(s, "LOAD DATA INFILE '/tmp/x' INTO TABLE raw_sales", "w"), 3);
    reset(s);
    assert_int_equal(mark(s, "RENAME TABLE dim TO dim_old", "w"), 3);
    reset(s);
    /* hints before the keyword */
    assert_int_equal(mark(s, "/*+ SET_VAR(x=1) */ INSERT INTO dim VALUES (3)", "w"), 3);
    assert_true(atomic_load(&dwd->state->change_seq) > 0);
    cat_snapshot_free(s);
}

static void
test_note_write_cheap(void **state)
{
    (void)state;
    /* no catalog published: reads and writes return 0 without crashing */
    assert_int_equal(cat_note_write("SELECT 1", 8, "db", 0, 1), 0);
    assert_int_equal(cat_note_write("INSERT INTO t VALUES (1)", 24, "db", 0, 1), 0);
    assert_int_equal(cat_note_write("", 0, NULL, 0, 1), 0);
}

static void
test_like(void **state)
{
    (void)state;
    assert_true(cat_like("mv_sales", "mv%"));
    assert_true(cat_like("MV_SALES", "mv\\_sales"));
    assert_true(cat_like("abc", "a_c"));
    assert_false(cat_like("abc", "a_"));
    assert_true(cat_like("", "%"));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_create_doris_full),
        cmocka_unit_test(test_create_indexes),
        cmocka_unit_test(test_create_schedule_and_partition),
        cmocka_unit_test(test_create_oracle_forms),
        cmocka_unit_test(test_other_statements),
        cmocka_unit_test(test_table_functions),
        cmocka_unit_test(test_syntax_errors),
        cmocka_unit_test(test_properties),
        cmocka_unit_test(test_recognise),
        cmocka_unit_test(test_recognise_show_create),
        cmocka_unit_test(test_mark_writes),
        cmocka_unit_test(test_note_write_cheap),
        cmocka_unit_test(test_like),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
