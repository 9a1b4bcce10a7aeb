/*
 * test_px_dispatch.c - the query dispatcher's own decisions that need no
 * backend: session SET handling, admin recognition hand-off, relay of
 * ordinary statements with an empty catalog, and the one-pass statement
 * classification (px_stmt.h): which statements are the proxy's (their
 * whole grammar is), which are relayed, read or written.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "px_dispatch.h"
#include "px_stmt.h"
#include "rw_limits.h"

static struct px_session_info
session(bool rewrite)
{
    struct px_session_info si;
    memset(&si, 0, sizeof(si));
    si.id = 1;
    si.user = "root";
    si.db = "shop";
    si.rewrite_enabled = rewrite;
    return si;
}

static void
dispatch(const char *sql, struct px_dispatch_out *out)
{
    struct px_session_info si = session(true);
    memset(out, 0, sizeof(*out));
    px_dispatch_query(&si, sql, strlen(sql), out);
}

static void
test_set_rewrite_off_and_on(void **state)
{
    struct px_dispatch_out out;
    (void)state;
    dispatch("SET enable_materialized_view_rewrite = OFF", &out);
    assert_int_equal(out.kind, PX_DISPATCH_REPLY);
    assert_int_equal(out.reply.kind, MVP_REPLY_OK);
    assert_true(out.set_rewrite);
    assert_false(out.rewrite_enabled);
    px_dispatch_out_clear(&out);

    dispatch("set session enable_materialized_view_rewrite=on", &out);
    assert_int_equal(out.kind, PX_DISPATCH_REPLY);
    assert_true(out.set_rewrite);
    assert_true(out.rewrite_enabled);
    px_dispatch_out_clear(&out);

    dispatch("SET @@session.enable_materialized_view_rewrite = 0", &out);
    assert_int_equal(out.kind, PX_DISPATCH_REPLY);
    assert_true(out.set_rewrite);
    assert_false(out.rewrite_enabled);
    px_dispatch_out_clear(&out);
}

static void
test_set_rewrite_bad_value_is_error(void **state)
{
    struct px_dispatch_out out;
    (void)state;
    dispatch("SET enable_materialized_view_rewrite = maybe", &out);
    assert_int_equal(out.kind, PX_DISPATCH_REPLY);
    assert_int_equal(out.reply.kind, MVP_REPLY_ERR);
    assert_int_equal(out.reply.err_code, 1231);
    assert_false(out.set_rewrite);
    px_dispatch_out_clear(&out);
}

static void
test_other_set_is_relayed(void **state)
{
    struct px_dispatch_out out;
    (void)state;
    dispatch("SET NAMES utf8mb4", &out);
    assert_int_equal(out.kind, PX_DISPATCH_RELAY);
    assert_false(out.set_rewrite);
    px_dispatch_out_clear(&out);
    dispatch("SET sql_mode = 'ANSI'", &out);
    assert_int_equal(out.kind, PX_DISPATCH_RELAY);
    px_dispatch_out_clear(&out);
}

static void
test_select_without_catalog_is_relayed(void **state)
{
    struct px_dispatch_out out;
    (void)state;
    dispatch("SELECT region_id, SUM(sale_amount) FROM raw_sales GROUP BY region_id", &out);
    assert_int_equal(out.kind, PX_DISPATCH_RELAY);
    assert_null(out.sql);
    px_dispatch_out_clear(&out);
}

static void
test_admin_statement_is_admin_job(void **state)
{
    struct px_dispatch_out out;
    (void)state;
    dispatch("REFRESH MATERIALIZED VIEW mv_dwd_sales COMPLETE", &out);
    assert_int_equal(out.kind, PX_DISPATCH_ADMIN);
    assert_non_null(out.admin);
    px_dispatch_out_clear(&out);
    assert_null(out.admin);
}

static void
test_bad_admin_statement_is_syntax_error(void **state)
{
    struct px_dispatch_out out;
    (void)state;
    dispatch("CREATE MATERIALIZED VIEW AS", &out);
    assert_int_equal(out.kind, PX_DISPATCH_REPLY);
    assert_int_equal(out.reply.kind, MVP_REPLY_ERR);
    assert_int_equal(out.reply.err_code, 1064);
    px_dispatch_out_clear(&out);
}

/* One statement and what the classifier must make of it. */
struct want_kind {
    const char *sql;
    enum px_stmt_kind kind;
    bool admin_maybe;
};

static void
test_classify_statements(void **state)
{
    static const struct want_kind cases[] = {
        {"SHOW CREATE MATERIALIZED VIEW mv_sales", PX_STMT_ADMIN, false},
        {"show create materialized view shop.mv_sales;", PX_STMT_ADMIN, false},
        {"SHOW CREATE TABLE raw_sales", PX_STMT_OTHER, false},
        {"SHOW CREATE TABLE mv_sales", PX_STMT_OTHER, false},
        {"SHOW CREATE VIEW v_sales", PX_STMT_OTHER, false},
        {"SHOW CREATE DATABASE shop", PX_STMT_OTHER, false},
        {"SHOW CREATE USER root", PX_STMT_OTHER, false},
        {"SHOW CREATE", PX_STMT_OTHER, false},
        {"SHOW MATERIALIZED VIEWS FROM shop", PX_STMT_ADMIN, false},
        {"/*+ hint */ SHOW MATERIALIZED VIEWS", PX_STMT_ADMIN, false},
        {"SHOW PARTITIONS FROM mv_sales", PX_STMT_ADMIN, false},
        {"SHOW CONSTRAINTS FROM raw_sales", PX_STMT_ADMIN, false},
        {"SHOW TABLES", PX_STMT_OTHER, false},
        {"CREATE MATERIALIZED VIEW mv AS SELECT 1", PX_STMT_ADMIN, false},
        {"CREATE TABLE t (a INT)", PX_STMT_OTHER, false},
        {"ALTER MATERIALIZED VIEW mv RENAME mv2", PX_STMT_ADMIN, false},
        {"DROP MATERIALIZED VIEW IF EXISTS mv", PX_STMT_ADMIN, false},
        {"REFRESH MATERIALIZED VIEW mv COMPLETE", PX_STMT_ADMIN, false},
        {"PAUSE MATERIALIZED VIEW JOB ON mv", PX_STMT_ADMIN, false},
        {"CANCEL MATERIALIZED VIEW TASK 3 ON mv", PX_STMT_ADMIN, false},
        {"EXPLAIN REWRITE SELECT 1", PX_STMT_ADMIN, false},
        {"SELECT * FROM mv_infos('database' = 'shop')", PX_STMT_SELECT, true},
        {"SELECT Name FROM tasks('type' = 'mv') WHERE State = 'FAILED'", PX_STMT_SELECT, true},
        {"SELECT region_id FROM raw_sales", PX_STMT_SELECT, false},
        {"WITH x AS (SELECT 1) SELECT * FROM x", PX_STMT_SELECT, false},
        {"(SELECT 1)", PX_STMT_SELECT, false},
        {"EXPLAIN SELECT 1", PX_STMT_EXPLAIN, false},
        {"EXPLAIN FORMAT=JSON SELECT 1", PX_STMT_EXPLAIN, false},
        {"DESCRIBE raw_sales", PX_STMT_OTHER, false},
        {"INSERT INTO raw_sales VALUES (1)", PX_STMT_WRITE, false},
        {"UPDATE raw_sales SET a = 1", PX_STMT_WRITE, false},
        {"DROP TABLE raw_sales", PX_STMT_WRITE, false},
        {"ALTER TABLE raw_sales ADD COLUMN c INT", PX_STMT_WRITE, true},
        {"SET enable_materialized_view_rewrite = OFF", PX_STMT_SESSION_SET, false},
        {"SET @@session.materialized_view_rewrite_explain = 1", PX_STMT_SESSION_SET, false},
        {"SET NAMES utf8mb4", PX_STMT_OTHER, false},
        {"COMMIT", PX_STMT_OTHER, false},
        {"", PX_STMT_OTHER, false},
    };
    size_t i;
    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct px_stmt st;
        memset(&st, 0, sizeof(st));
        px_stmt_classify(&st, cases[i].sql, strlen(cases[i].sql));
        if (st.kind != cases[i].kind || st.admin_maybe != cases[i].admin_maybe) {
            fail_msg("%s: kind %d admin_maybe %d, want %d %d", cases[i].sql, (int)st.kind,
                     (int)st.admin_maybe, (int)cases[i].kind, (int)cases[i].admin_maybe);
        }
        px_stmt_free(&st);
    }
}

/* Classification reads the leading words only; the tokens are kept for the rest. */
static void
test_classify_lexes_once(void **state)
{
    const char *sql = "SELECT a, b, c FROM raw_sales WHERE a = 1";
    const char *ex = "/*+ x */ EXPLAIN EXTENDED SELECT a FROM t";
    struct px_stmt st;
    const struct rw_tok *tok;
    size_t n;
    (void)state;
    memset(&st, 0, sizeof(st));
    px_stmt_classify(&st, sql, strlen(sql));
    assert_int_equal(st.kind, PX_STMT_SELECT);
    assert_true(st.n_tok <= 3);
    tok = px_stmt_all(&st, &n);
    assert_non_null(tok);
    assert_int_equal(n, 12);
    assert_int_equal(tok[n].kind, RW_TOK_EOF);
    px_stmt_free(&st);

    memset(&st, 0, sizeof(st));
    px_stmt_classify(&st, ex, strlen(ex));
    assert_int_equal(st.kind, PX_STMT_EXPLAIN);
    assert_int_equal(st.body_off, strlen("/*+ x */ EXPLAIN EXTENDED "));
    assert_int_equal(px_stmt_tok(&st, st.body_tok).off, st.body_off);
    px_stmt_free(&st);
}

/* What dispatch does with each class: the proxy answers only its own grammar. */
static void
test_dispatch_admin_vs_relay(void **state)
{
    static const char *const relayed[] = {
        "SHOW CREATE TABLE raw_sales",
        "SHOW CREATE TABLE mv_sales",
        "show create view v",
        "SHOW CREATE DATABASE shop",
        "SHOW CREATE TABLE `no such table`",
        "SELECT * FROM tasks",
        "SELECT 'mv_infos(' FROM dual",
        "ALTER TABLE raw_sales ADD COLUMN c INT",
        "ALTER TABLE raw_sales DROP CONSTRAINT fk_x",
        "EXPLAIN SELECT 1",
        "SHOW TABLES",
    };
    static const char *const admin[] = {
        "SHOW CREATE MATERIALIZED VIEW mv_sales",
        "SELECT * FROM mv_infos('database' = 'shop')",
        "SELECT TaskId FROM tasks('type' = 'mv') ORDER BY TaskId",
        "SHOW MATERIALIZED VIEWS",
        "EXPLAIN REWRITE SELECT 1",
    };
    struct px_dispatch_out out;
    size_t i;
    (void)state;
    for (i = 0; i < sizeof(relayed) / sizeof(relayed[0]); i++) {
        dispatch(relayed[i], &out);
        if (out.kind != PX_DISPATCH_RELAY) {
            fail_msg("%s: dispatch kind %d, want RELAY", relayed[i], (int)out.kind);
        }
        px_dispatch_out_clear(&out);
    }
    for (i = 0; i < sizeof(admin) / sizeof(admin[0]); i++) {
        dispatch(admin[i], &out);
        if (out.kind != PX_DISPATCH_ADMIN || out.admin == NULL) {
            fail_msg("%s: dispatch kind %d, want ADMIN", admin[i], (int)out.kind);
        }
        px_dispatch_out_clear(&out);
    }
    /* a malformed statement of the proxy's grammar is its ERR, not relayed */
    dispatch("SHOW CREATE MATERIALIZED TABLE mv_sales", &out);
    assert_int_equal(out.kind, PX_DISPATCH_REPLY);
    assert_int_equal(out.reply.err_code, 1064);
    px_dispatch_out_clear(&out);
    dispatch("SELECT * FROM mv_infos('bogus' = 'x')", &out);
    assert_int_equal(out.kind, PX_DISPATCH_REPLY);
    assert_int_equal(out.reply.err_code, 1064);
    px_dispatch_out_clear(&out);
}

/* Over the size budget: the proxy's own statements get an ERR, everything
 * else (SHOW CREATE TABLE and SELECT too) is relayed. */
static void
test_dispatch_too_big(void **state)
{
    struct rw_limits saved = *rw_limits_get(), small = saved;
    struct px_dispatch_out out;
    (void)state;
    small.max_bytes = 16;
    rw_limits_set(&small);
    dispatch("SHOW MATERIALIZED VIEWS LIKE 'mv_%'", &out);
    assert_int_equal(out.kind, PX_DISPATCH_REPLY);
    assert_int_equal(out.reply.err_code, 1235);
    px_dispatch_out_clear(&out);
    dispatch("SHOW CREATE TABLE raw_sales_of_the_year", &out);
    assert_int_equal(out.kind, PX_DISPATCH_RELAY);
    px_dispatch_out_clear(&out);
    dispatch("SELECT * FROM mv_infos('database' = 'shop')", &out);
    assert_int_equal(out.kind, PX_DISPATCH_RELAY);
    px_dispatch_out_clear(&out);
    rw_limits_set(&saved);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_set_rewrite_off_and_on),
        cmocka_unit_test(test_set_rewrite_bad_value_is_error),
        cmocka_unit_test(test_other_set_is_relayed),
        cmocka_unit_test(test_select_without_catalog_is_relayed),
        cmocka_unit_test(test_admin_statement_is_admin_job),
        cmocka_unit_test(test_bad_admin_statement_is_syntax_error),
        cmocka_unit_test(test_classify_statements),
        cmocka_unit_test(test_classify_lexes_once),
        cmocka_unit_test(test_dispatch_admin_vs_relay),
        cmocka_unit_test(test_dispatch_too_big),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
