/*
 * itest_privileges.c - the rewriter's privilege guard (SPEC §7: a user is
 * rewritten onto a view only when that user may SELECT every base table the
 * original block reads; rw_emit_guard). Root creates users with specific
 * grants directly on MariaDB; the tests connect as those users through a
 * real mvproxy and directly, and check that:
 *   - a user with SELECT on the base table and the view gets the rewrite
 *     (plain EXPLAIN through the proxy reads the view) and the same rows;
 *   - a user with SELECT on the view's storage table only gets exactly the
 *     error of the original query (1142), never base rows, and the backend
 *     itself refuses the rewritten text with 1142;
 *   - column-level grants: a user with SELECT(col) on some base columns is
 *     treated exactly like direct (rows when the columns suffice, 1143 on
 *     the same column otherwise);
 *   - a user with SELECT on the base table but not on the view still gets
 *     rows (the rewritten query fails, the proxy falls back).
 *
 * Needs MVP_DB_HOST / MVP_DB_PORT / MVP_PROXY_BIN (scripts/test.sh).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mysql.h>

#include "it_common.h"

#define META "mvp_meta_itpriv"
#define DB "itpriv"
#define PW "pw_itpriv"

static struct it_env env;
static struct it_proxy proxy;

/* The users (host '%'), their grants, created by setup(). */
static const char *const users[][2] = {
    {"itp_base", "GRANT SELECT ON " DB ".* TO itp_base@'%'"},
    {"itp_view", "GRANT SELECT ON " DB ".mv_reg TO itp_view@'%'"},
    {"itp_col", "GRANT SELECT (region, amount) ON " DB ".sales TO itp_col@'%'"},
    {"itp_nomv", "GRANT SELECT ON " DB ".sales TO itp_nomv@'%'"},
    {NULL, NULL},
};

/* The query every test asks; mv_reg answers it. */
#define Q "SELECT region, SUM(amount) AS amt FROM sales GROUP BY region"
/* Reads secret too: mv_sec answers it; itp_col may not read secret. */
#define QS "SELECT region, SUM(amount) AS amt FROM sales WHERE secret = 1 GROUP BY region"

/* Connect as USER to PORT (proxy or backend); fails the test on error. */
static MYSQL *
conn_as(unsigned port, const char *user)
{
    char err[512];
    unsigned code = 0;
    MYSQL *m = it_connect(env.db_host, port, user, PW, DB, 0, err, &code);
    if (m == NULL) {
        fail_msg("connect as %s to port %u: %s", user, port, err);
    }
    return m;
}

/* Run SQL on M; returns the error number (0 on success) and fills R. */
static unsigned
run(MYSQL *m, const char *sql, struct it_rows *r)
{
    memset(r, 0, sizeof(*r));
    return it_query_rows(m, sql, r);
}

/* The summary row of EXPLAIN REWRITE QUERY through the proxy as root: its
 * status into ST and its sql into SQL (the text sent to the backend). */
static void
explain_rewrite(const char *query, char *st, size_t stlen, char *sql, size_t sqllen)
{
    char text[2048];
    MYSQL *m = it_connect_proxy(&proxy, &env, DB, 0);
    MYSQL_RES *res;
    MYSQL_ROW row;
    assert_non_null(m);
    snprintf(text, sizeof(text), "EXPLAIN REWRITE %s", query);
    if (mysql_query(m, text) != 0) {
        fail_msg("%s: %s", text, mysql_error(m));
    }
    res = mysql_store_result(m);
    assert_non_null(res);
    st[0] = sql[0] = '\0';
    while ((row = mysql_fetch_row(res)) != NULL) {
        if (row[0] == NULL) {
            snprintf(st, stlen, "%s", row[1] ? row[1] : "");
            snprintf(sql, sqllen, "%s", row[5] ? row[5] : "");
        }
    }
    mysql_free_result(res);
    mysql_close(m);
}

/* True when plain EXPLAIN of QUERY on M (through the proxy) reads table NAME. */
static bool
explain_reads(MYSQL *m, const char *query, const char *name)
{
    char text[2048];
    MYSQL_RES *res;
    MYSQL_ROW row;
    bool found = false;
    unsigned i, n;
    MYSQL_FIELD *f;
    snprintf(text, sizeof(text), "EXPLAIN %s", query);
    if (mysql_query(m, text) != 0) {
        fail_msg("%s: %s", text, mysql_error(m));
    }
    res = mysql_store_result(m);
    assert_non_null(res);
    n = mysql_num_fields(res);
    f = mysql_fetch_fields(res);
    while ((row = mysql_fetch_row(res)) != NULL) {
        for (i = 0; i < n; i++) {
            if (strcmp(f[i].name, "table") == 0 && row[i] != NULL && strcmp(row[i], name) == 0) {
                found = true;
            }
        }
    }
    mysql_free_result(res);
    return found;
}

static int
setup(void **state)
{
    MYSQL *d, *m;
    char sql[512];
    size_t k;
    (void)state;
    it_env_load(&env);
    d = it_connect_direct(&env, NULL, 0);
    if (d == NULL) {
        return -1;
    }
    it_exec(d, "DROP DATABASE IF EXISTS " DB);
    it_exec(d, "DROP DATABASE IF EXISTS " META);
    it_exec(d, "CREATE DATABASE " DB);
    it_exec(d, "CREATE TABLE " DB ".sales (id INT PRIMARY KEY, region INT NOT NULL, "
               "amount DECIMAL(12,2), secret INT)");
    it_exec(d, "INSERT INTO " DB ".sales VALUES (1,1,10.00,1),(2,1,5.50,0),(3,2,7.25,1),"
               "(4,3,1.00,0),(5,3,2.00,1),(6,2,NULL,1)");
    mysql_close(d);
    if (it_proxy_start(&proxy, &env, META, NULL) != 0) {
        return -1;
    }
    m = it_connect_proxy(&proxy, &env, DB, 0);
    if (m == NULL) {
        return -1;
    }
    if (it_exec(m, "CREATE MATERIALIZED VIEW mv_reg BUILD IMMEDIATE REFRESH COMPLETE ON MANUAL "
                   "AS SELECT region, SUM(amount) AS amt, COUNT(*) AS c FROM sales "
                   "GROUP BY region") != 0 ||
        it_exec(m, "CREATE MATERIALIZED VIEW mv_sec BUILD IMMEDIATE REFRESH COMPLETE ON MANUAL "
                   "AS SELECT region, secret, SUM(amount) AS amt FROM sales "
                   "GROUP BY region, secret") != 0) {
        mysql_close(m);
        return -1;
    }
    mysql_close(m);
    d = it_connect_direct(&env, NULL, 0);
    if (d == NULL) {
        return -1;
    }
    for (k = 0; users[k][0] != NULL; k++) {
        snprintf(sql, sizeof(sql), "DROP USER IF EXISTS %s@'%%'", users[k][0]);
        it_exec(d, sql);
        snprintf(sql, sizeof(sql), "CREATE USER %s@'%%' IDENTIFIED BY '" PW "'", users[k][0]);
        if (it_exec(d, sql) != 0 || it_exec(d, users[k][1]) != 0) {
            mysql_close(d);
            return -1;
        }
    }
    /* itp_col may read the view tables too, but only two columns of sales */
    it_exec(d, "GRANT SELECT ON " DB ".mv_reg TO itp_col@'%'");
    it_exec(d, "GRANT SELECT ON " DB ".mv_sec TO itp_col@'%'");
    mysql_close(d);
    return 0;
}

static int
teardown(void **state)
{
    MYSQL *d;
    char sql[256];
    size_t k;
    (void)state;
    it_proxy_stop(&proxy);
    d = it_connect_direct(&env, NULL, 0);
    if (d != NULL) {
        for (k = 0; users[k][0] != NULL; k++) {
            snprintf(sql, sizeof(sql), "DROP USER IF EXISTS %s@'%%'", users[k][0]);
            it_exec(d, sql);
        }
        it_exec(d, "DROP DATABASE IF EXISTS " DB);
        it_exec(d, "DROP DATABASE IF EXISTS " META);
        mysql_close(d);
    }
    return 0;
}

/* The rewritten text carries a guard naming the base table and its columns. */
static void
test_guard_in_rewrite(void **state)
{
    char st[64], sql[4096];
    (void)state;
    explain_rewrite(Q, st, sizeof(st), sql, sizeof(sql));
    assert_string_equal(st, "REWRITTEN");
    assert_non_null(strstr(sql, "`" DB "`.`mv_reg`"));
    assert_non_null(strstr(sql, "NOT EXISTS (SELECT `amount`, `region` FROM `" DB "`.`sales` "
                                "WHERE 0)"));
    explain_rewrite(QS, st, sizeof(st), sql, sizeof(sql));
    assert_string_equal(st, "REWRITTEN");
    assert_non_null(strstr(sql, "NOT EXISTS (SELECT `amount`, `region`, `secret` FROM `" DB
                                "`.`sales` WHERE 0)"));
}

/* A user with SELECT on base and view: rewritten (EXPLAIN reads the view) and same rows. */
static void
test_base_user_rewritten(void **state)
{
    MYSQL *px = conn_as(proxy.port, "itp_base"), *dr = conn_as(env.db_port, "itp_base");
    struct it_rows a, b;
    (void)state;
    assert_true(explain_reads(px, Q, "mv_reg"));
    assert_int_equal(run(px, Q, &a), 0);
    assert_int_equal(run(dr, Q, &b), 0);
    assert_true(it_rows_equal(&a, &b));
    assert_int_equal(a.n, 3);
    it_rows_free(&a);
    it_rows_free(&b);
    assert_int_equal(run(px, QS, &a), 0);
    assert_int_equal(run(dr, QS, &b), 0);
    assert_true(it_rows_equal(&a, &b));
    it_rows_free(&a);
    it_rows_free(&b);
    mysql_close(px);
    mysql_close(dr);
}

/* A user with SELECT on the view table only: the original's error, never base rows. */
static void
test_view_only_user_refused(void **state)
{
    MYSQL *px = conn_as(proxy.port, "itp_view"), *dr = conn_as(env.db_port, "itp_view");
    struct it_rows a, b;
    char st[64], sql[4096];
    unsigned ea, eb;
    (void)state;
    /* the backend itself refuses the rewritten text (the guard) */
    explain_rewrite(Q, st, sizeof(st), sql, sizeof(sql));
    assert_string_equal(st, "REWRITTEN");
    assert_int_equal(run(dr, sql, &a), 1142);
    assert_int_equal(a.n, 0);
    /* through the proxy: exactly the direct error */
    eb = run(dr, Q, &b);
    assert_int_equal(eb, 1142);
    ea = run(px, Q, &a);
    assert_int_equal(ea, eb);
    assert_string_equal(mysql_error(px), mysql_error(dr));
    assert_int_equal(a.n, 0);
    ea = run(px, QS, &a);
    assert_int_equal(ea, 1142);
    assert_int_equal(a.n, 0);
    /* the view table itself stays readable: it is what the user was granted */
    assert_int_equal(run(px, "SELECT region, amt FROM mv_reg", &a), 0);
    assert_int_equal(a.n, 3);
    it_rows_free(&a);
    it_rows_free(&b);
    mysql_close(px);
    mysql_close(dr);
}

/* Column-level grants: exactly like direct. */
static void
test_column_grants(void **state)
{
    MYSQL *px = conn_as(proxy.port, "itp_col"), *dr = conn_as(env.db_port, "itp_col");
    struct it_rows a, b;
    char st[64], sql[4096];
    unsigned ea, eb;
    (void)state;
    /* region and amount are granted: rewritten, same rows */
    assert_true(explain_reads(px, Q, "mv_reg"));
    assert_int_equal(run(px, Q, &a), 0);
    assert_int_equal(run(dr, Q, &b), 0);
    assert_true(it_rows_equal(&a, &b));
    it_rows_free(&a);
    it_rows_free(&b);
    /* secret is not: the rewritten text is refused on that column, and the
     * proxy answers the original's error */
    explain_rewrite(QS, st, sizeof(st), sql, sizeof(sql));
    assert_string_equal(st, "REWRITTEN");
    assert_int_equal(run(dr, sql, &a), 1143);
    assert_non_null(strstr(mysql_error(dr), "secret"));
    eb = run(dr, QS, &b);
    assert_int_equal(eb, 1143);
    ea = run(px, QS, &a);
    assert_int_equal(ea, eb);
    assert_string_equal(mysql_error(px), mysql_error(dr));
    assert_int_equal(a.n, 0);
    /* COUNT(*) reads no column: allowed directly with any column grant, and alike */
    eb = run(dr, "SELECT COUNT(*) FROM sales", &b);
    ea = run(px, "SELECT COUNT(*) FROM sales", &a);
    assert_int_equal(ea, eb);
    assert_true(it_rows_equal(&a, &b));
    it_rows_free(&a);
    it_rows_free(&b);
    mysql_close(px);
    mysql_close(dr);
}

/* SELECT on the base table but not on the view: rows through the fallback. */
static void
test_no_view_grant_falls_back(void **state)
{
    MYSQL *px = conn_as(proxy.port, "itp_nomv"), *dr = conn_as(env.db_port, "itp_nomv");
    struct it_rows a, b;
    (void)state;
    assert_int_equal(run(px, Q, &a), 0);
    assert_int_equal(run(dr, Q, &b), 0);
    assert_true(it_rows_equal(&a, &b));
    assert_false(explain_reads(px, Q, "mv_reg"));
    it_rows_free(&a);
    it_rows_free(&b);
    mysql_close(px);
    mysql_close(dr);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_guard_in_rewrite),
        cmocka_unit_test(test_base_user_rewritten),
        cmocka_unit_test(test_view_only_user_refused),
        cmocka_unit_test(test_column_grants),
        cmocka_unit_test(test_no_view_grant_falls_back),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
