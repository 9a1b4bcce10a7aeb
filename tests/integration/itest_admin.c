/*
 * itest_admin.c - the admin SQL through the real mvproxy with a real client
 * (libmariadb): CREATE (IMMEDIATE, DEFERRED), duplicate 1050, bad SQL 1064,
 * no privilege 1142 with nothing recorded, REFRESH, SHOW MATERIALIZED VIEWS
 * columns and values, SHOW CREATE MATERIALIZED VIEW, SHOW CREATE TABLE / VIEW /
 * DATABASE relayed as the backend answers them, DROP (IF EXISTS), EXPLAIN REWRITE shape,
 * DML through the proxy marks a view stale (not used after its grace
 * period, used again after a refresh), and a restarted proxy still knows
 * every view (SPEC §3, §5, §8, §9, §10).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "it_common.h"

#define DB "itadm"
#define META "mvp_meta_itadm"

static struct it_env env;
static struct it_proxy proxy;

/* Connect to the proxy as USER (session database DB unless the user is app,
 * who may not use it). */
static MYSQL *
px(const char *user, const char *pw)
{
    return it_must_connect_proxy_as(&proxy, user, pw, strcmp(user, "app") == 0 ? NULL : DB,
                                    CLIENT_MULTI_RESULTS);
}

/* Run SQL on M, expecting error CODE (0 = success). */
#define expect(m, sql, code) it_expect_errno((m), (sql), (code))

/* One field of the first row of SQL's result (static buffer; "NULL" for NULL). */
static const char *
field(MYSQL *m, const char *sql, const char *col)
{
    static char buf[2048];
    MYSQL_RES *res;
    MYSQL_ROW row;
    MYSQL_FIELD *f;
    unsigned i, n;
    if (mysql_query(m, sql) != 0) {
        fail_msg("%s: %s", sql, mysql_error(m));
    }
    res = mysql_store_result(m);
    assert_non_null(res);
    row = mysql_fetch_row(res);
    if (row == NULL) {
        mysql_free_result(res);
        return NULL;
    }
    n = mysql_num_fields(res);
    f = mysql_fetch_fields(res);
    for (i = 0; i < n; i++) {
        if (strcmp(f[i].name, col) == 0) {
            snprintf(buf, sizeof(buf), "%s", row[i] ? row[i] : "NULL");
            mysql_free_result(res);
            return buf;
        }
    }
    mysql_free_result(res);
    fail_msg("no column %s in %s", col, sql);
    return NULL;
}

/* Status of the summary row of EXPLAIN REWRITE SQL, and the first candidate's. */
static void
explain(MYSQL *m, const char *query, char *summary, size_t slen, char *first, size_t flen)
{
    MYSQL_RES *res = it_explain_rewrite(m, query);
    MYSQL_ROW row;
    assert_int_equal(mysql_num_fields(res), 6);
    assert_string_equal(mysql_fetch_fields(res)[0].name, "mv_name");
    assert_string_equal(mysql_fetch_fields(res)[1].name, "status");
    assert_string_equal(mysql_fetch_fields(res)[4].name, "est_rows");
    first[0] = summary[0] = '\0';
    while ((row = mysql_fetch_row(res)) != NULL) {
        if (row[0] == NULL) {
            snprintf(summary, slen, "%s", row[1]);
        } else if (first[0] == '\0') {
            snprintf(first, flen, "%s", row[1]);
        }
    }
    mysql_free_result(res);
}

static int
setup(void **state)
{
    MYSQL *d;
    (void)state;
    it_env_load(&env);
    if (it_reset_dbs(&env, DB, META, true) != 0 ||
        (d = it_connect_direct(&env, NULL, 0)) == NULL) {
        return -1;
    }
    it_exec(d, "CREATE TABLE " DB ".sales (id INT PRIMARY KEY, region VARCHAR(16), amount "
               "DECIMAL(10,2))");
    it_exec(d, "INSERT INTO " DB ".sales VALUES (1,'north',10),(2,'south',20),(3,'north',5)");
    mysql_close(d);
    return it_proxy_start(&proxy, &env, META, NULL);
}

static int
teardown(void **state)
{
    (void)state;
    return it_teardown(&proxy, &env, DB, META, NULL);
}

static void
test_create_show_drop(void **state)
{
    MYSQL *m = px(env.db_user, env.db_password), *app;
    (void)state;
    expect(m, "CREATE MATERIALIZED VIEW mv_sum BUILD IMMEDIATE REFRESH COMPLETE ON MANUAL "
              "PROPERTIES (\"grace_period\" = \"0\") AS SELECT region, SUM(amount) AS total, "
              "COUNT(*) AS cnt FROM sales GROUP BY region",
           0);
    assert_string_equal(field(m, "SELECT COUNT(*) AS n FROM mv_sum", "n"), "2");
    expect(m, "CREATE MATERIALIZED VIEW mv_sum AS SELECT 1 AS a", 1050);
    expect(m, "CREATE MATERIALIZED VIEW mv_x AS SELEKT 1", 1064);
    expect(m, "CREATE MATERIALIZED VIEW mv_x BUILD SOMETIME AS SELECT 1", 1064);
    expect(m, "CREATE MATERIALIZED VIEW mv_deferred BUILD DEFERRED AS SELECT region FROM sales",
           0);
    assert_string_equal(field(m, "SELECT COUNT(*) AS n FROM mv_deferred", "n"), "0");

    /* the client's privileges apply: app has none */
    app = px("app", "app_pw");
    expect(app, "CREATE MATERIALIZED VIEW " DB ".mv_app AS SELECT region FROM " DB ".sales",
           1142);
    mysql_close(app);
    assert_null(field(m, "SHOW MATERIALIZED VIEWS LIKE 'mv_app'", "Name"));

    assert_string_equal(field(m, "SHOW MATERIALIZED VIEWS LIKE 'mv_sum'", "Rows"), "2");
    assert_string_equal(field(m, "SHOW MATERIALIZED VIEWS LIKE 'mv_sum'", "RefreshState"),
                        "SUCCESS");
    assert_string_equal(field(m, "SHOW MATERIALIZED VIEWS LIKE 'mv_sum'", "SyncWithBaseTables"),
                        "1");
    assert_string_equal(field(m, "SHOW MATERIALIZED VIEWS LIKE 'mv_deferred'", "RefreshState"),
                        "INIT");
    assert_non_null(strstr(field(m, "SHOW CREATE MATERIALIZED VIEW mv_sum",
                                 "Create Materialized View"),
                           "\"grace_period\" = \"0\""));
    assert_string_equal(field(m, "SELECT Name FROM mv_infos('database'='" DB "') WHERE "
                                 "GracePeriod = 0 ORDER BY Id LIMIT 1",
                              "Name"),
                        "mv_sum");
    expect(m, "REFRESH MATERIALIZED VIEW mv_deferred COMPLETE", 0);
    assert_string_equal(field(m, "SELECT COUNT(*) AS n FROM mv_deferred", "n"), "3");
    expect(m, "DROP MATERIALIZED VIEW mv_deferred", 0);
    expect(m, "DROP MATERIALIZED VIEW mv_deferred", 1146);
    expect(m, "DROP MATERIALIZED VIEW IF EXISTS mv_deferred", 0);
    expect(m, "SELECT * FROM mv_deferred", 1146);
    mysql_close(m);
}

/* SQL through the proxy (P) and straight to the backend (D): the same
 * result set (columns and rows), or the same error number, SQLSTATE and
 * message. */
static void
same_as_direct(MYSQL *p, MYSQL *d, const char *sql)
{
    struct it_rows rp, rd;
    unsigned ep, ed;
    memset(&rp, 0, sizeof(rp));
    memset(&rd, 0, sizeof(rd));
    ep = it_query_rows(p, sql, &rp);
    ed = it_query_rows(d, sql, &rd);
    if (ep != ed) {
        fail_msg("%s: proxy errno %u (%s), direct %u (%s)", sql, ep, mysql_error(p), ed,
                 mysql_error(d));
    }
    if (ed != 0) {
        assert_string_equal(mysql_sqlstate(p), mysql_sqlstate(d));
        assert_string_equal(mysql_error(p), mysql_error(d));
    } else {
        assert_int_equal(rp.n_cols, rd.n_cols);
        if (!it_rows_equal(&rp, &rd)) {
            it_rows_dump("proxy", &rp, 5);
            it_rows_dump("direct", &rd, 5);
            fail_msg("%s: the proxy's rows differ from the backend's", sql);
        }
    }
    it_rows_free(&rp);
    it_rows_free(&rd);
}

/*
 * SHOW CREATE TABLE / VIEW / DATABASE are the backend's grammar, relayed
 * byte for byte, also on a materialized view's storage table and for a
 * missing table (issue 10: they used to be claimed by the admin parser);
 * SHOW CREATE MATERIALIZED VIEW stays the proxy's.
 */
static void
test_show_create_relayed(void **state)
{
    MYSQL *m = px(env.db_user, env.db_password), *d = it_connect_direct(&env, DB, 0);
    (void)state;
    assert_non_null(d);
    it_exec_ok(d, "CREATE OR REPLACE VIEW v_north AS SELECT id, amount FROM sales "
                  "WHERE region = 'north'");
    expect(m, "CREATE MATERIALIZED VIEW mv_show BUILD IMMEDIATE AS SELECT region, "
              "COUNT(*) AS cnt FROM sales GROUP BY region",
           0);
    same_as_direct(m, d, "SHOW CREATE TABLE sales");
    same_as_direct(m, d, "show create table " DB ".`sales`");
    same_as_direct(m, d, "SHOW CREATE TABLE mv_show");      /* the view's storage table */
    same_as_direct(m, d, "SHOW CREATE TABLE no_such_table");
    same_as_direct(m, d, "SHOW CREATE VIEW v_north");
    same_as_direct(m, d, "SHOW CREATE DATABASE " DB);
    same_as_direct(m, d, "SHOW CREATE TABLE");              /* the backend's syntax error */
    assert_non_null(strstr(field(m, "SHOW CREATE MATERIALIZED VIEW mv_show",
                                 "Create Materialized View"),
                           "COUNT(*)"));
    expect(m, "SHOW CREATE MATERIALIZED VIEW no_such_mv", 1146);
    expect(m, "DROP MATERIALIZED VIEW mv_show", 0);
    it_exec_ok(d, "DROP VIEW v_north");
    mysql_close(d);
    mysql_close(m);
}

static void
test_freshness_and_explain(void **state)
{
    MYSQL *m = px(env.db_user, env.db_password);
    const char *q = "SELECT region, SUM(amount) FROM sales GROUP BY region";
    char summary[64], first[64];
    (void)state;
    explain(m, q, summary, sizeof(summary), first, sizeof(first));
    assert_string_equal(first, "CHOSEN");
    assert_string_equal(summary, "REWRITTEN");
    /* DML through the proxy: stale from now; grace_period 0 → not used */
    expect(m, "INSERT INTO sales VALUES (4, 'east', 7)", 0);
    usleep(1100 * 1000);
    explain(m, q, summary, sizeof(summary), first, sizeof(first));
    assert_string_equal(first, "REJECTED");
    assert_string_equal(summary, "NOT_REWRITTEN");
    assert_string_equal(field(m, "SHOW MATERIALIZED VIEWS LIKE 'mv_sum'", "SyncWithBaseTables"),
                        "0");
    /* a refresh makes it fresh again */
    expect(m, "REFRESH MATERIALIZED VIEW mv_sum COMPLETE", 0);
    explain(m, q, summary, sizeof(summary), first, sizeof(first));
    assert_string_equal(first, "CHOSEN");
    assert_string_equal(field(m, "SHOW MATERIALIZED VIEWS LIKE 'mv_sum'", "Rows"), "3");
    mysql_close(m);
}

static void
test_restart(void **state)
{
    MYSQL *m;
    (void)state;
    m = px(env.db_user, env.db_password);
    expect(m, "UPDATE sales SET amount = amount + 1 WHERE id = 1", 0);
    mysql_close(m);
    usleep(500 * 1000); /* the stale mark is persisted in the background */
    assert_int_equal(it_proxy_stop(&proxy), 0);
    assert_int_equal(it_proxy_start(&proxy, &env, META, NULL), 0);
    m = px(env.db_user, env.db_password);
    assert_string_equal(field(m, "SHOW MATERIALIZED VIEWS LIKE 'mv_sum'", "Rows"), "3");
    assert_string_equal(field(m, "SHOW MATERIALIZED VIEWS LIKE 'mv_sum'", "SyncWithBaseTables"),
                        "0");
    expect(m, "DROP MATERIALIZED VIEW mv_sum", 0);
    assert_null(field(m, "SHOW MATERIALIZED VIEWS", "Name"));
    mysql_close(m);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_create_show_drop),
        cmocka_unit_test(test_show_create_relayed),
        cmocka_unit_test(test_freshness_and_explain),
        cmocka_unit_test(test_restart),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
