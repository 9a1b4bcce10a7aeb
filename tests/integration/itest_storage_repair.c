/*
 * itest_storage_repair.c - a view whose storage table was dropped or
 * altered behind the proxy (straight on MariaDB) is repaired by REFRESH
 * (cat_refresh_stage rebuilds it from the definition; SPEC §6): meanwhile
 * queries through the proxy return the same rows as directly (the rewrite's
 * failure falls back to the original), REFRESH COMPLETE (and AUTO) rebuilds
 * the table with the definition's columns (and the storage partitioning of
 * a partitioned view), and the view answers again; meanwhile SHOW
 * MATERIALIZED VIEWS says SCHEMA_CHANGE with what to do. For an
 * unpartitioned and a partitioned view: DROP TABLE, ALTER TABLE DROP
 * COLUMN, ADD COLUMN.
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

#define META "mvp_meta_itsr"
#define DB "itsr"

static struct it_env env;
static struct it_proxy proxy;

/* The first value of SQL on M in a static buffer ("" for no row / NULL); fails on error. */
static const char *
val(MYSQL *m, const char *sql)
{
    static char buf[1024];
    if (it_first_value(m, sql, buf, sizeof(buf)) != 0) {
        fail_msg("%s: %s", sql, mysql_error(m));
    }
    return buf;
}

static int
setup(void **state)
{
    MYSQL *d;
    (void)state;
    it_env_load(&env);
    if (it_reset_dbs(&env, DB, META, true) < 0) {
        return -1;
    }
    d = it_must_connect_direct(&env, DB, 0);
    it_exec_ok(d, "CREATE TABLE sales (id INT AUTO_INCREMENT PRIMARY KEY, k INT NOT NULL,"
                  " v INT NOT NULL, d DATE NOT NULL)");
    it_exec_ok(d, "INSERT INTO sales (k, v, d) SELECT seq % 4, seq, '2024-05-01' +"
                  " INTERVAL (seq % 3) DAY FROM seq_1_to_90");
    mysql_close(d);
    return it_proxy_start(&proxy, &env, META, NULL);
}

static int
teardown(void **state)
{
    static const char *const views[] = {"rp_u", "rp_p", "rp_f", NULL};
    (void)state;
    return it_teardown(&proxy, &env, DB, META, views);
}

/* Query Q through the proxy returns the same rows as directly. */
static void
same_rows(MYSQL *px, MYSQL *d, const char *q)
{
    struct it_rows a, b;
    memset(&a, 0, sizeof(a));
    memset(&b, 0, sizeof(b));
    assert_int_equal(it_query_rows(px, q, &a), 0);
    assert_int_equal(it_query_rows(d, q, &b), 0);
    if (!it_rows_equal(&a, &b)) {
        it_rows_dump("proxy", &a, 20);
        it_rows_dump("direct", &b, 20);
        fail_msg("different rows for %s", q);
    }
    it_rows_free(&a);
    it_rows_free(&b);
}

/* The summary status of EXPLAIN REWRITE Q on PX into a static buffer. */
static const char *
rewrite_status(MYSQL *px, const char *q)
{
    static char st[64];
    MYSQL_RES *res = it_explain_rewrite(px, q);
    MYSQL_ROW row;
    st[0] = '\0';
    while ((row = mysql_fetch_row(res)) != NULL) {
        if (row[0] == NULL) {
            snprintf(st, sizeof(st), "%s", row[1] ? row[1] : "");
        }
    }
    mysql_free_result(res);
    return st;
}

/* Break VIEW's storage with DDL (straight on MariaDB), check queries stay
 * right, REFRESH MODE repairs it, and COLS are its columns again. */
static void
break_and_repair(MYSQL *px, MYSQL *d, const char *view, const char *ddl, const char *mode,
                 const char *q, const char *cols, bool partitioned)
{
    char sql[512];
    it_exec_ok(d, ddl);
    /* SHOW MATERIALIZED VIEWS tells */
    snprintf(sql, sizeof(sql), "SELECT State FROM mv_infos('database'='" DB "')"
             " WHERE Name = '%s'", view);
    assert_string_equal(val(px, sql), "SCHEMA_CHANGE");
    snprintf(sql, sizeof(sql), "SELECT SchemaChangeDetail LIKE '%%REFRESH MATERIALIZED VIEW%%'"
             " FROM mv_infos('database'='" DB "') WHERE Name = '%s'", view);
    assert_string_equal(val(px, sql), "1");
    /* one more base row: the old rows would be wrong now */
    it_exec_ok(d, "INSERT INTO sales (k, v, d) VALUES (1, 7, '2024-05-02')");
    same_rows(px, d, q);
    snprintf(sql, sizeof(sql), "REFRESH MATERIALIZED VIEW %s %s", view, mode);
    it_exec_ok(px, sql);
    snprintf(sql, sizeof(sql), "SELECT GROUP_CONCAT(COLUMN_NAME ORDER BY ORDINAL_POSITION)"
             " FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = '" DB "'"
             " AND TABLE_NAME = '%s'", view);
    assert_string_equal(val(d, sql), cols);
    if (partitioned) {
        snprintf(sql, sizeof(sql), "SELECT COUNT(*) > 1 FROM information_schema.PARTITIONS"
                 " WHERE TABLE_SCHEMA = '" DB "' AND TABLE_NAME = '%s'", view);
        assert_string_equal(val(d, sql), "1");
    }
    same_rows(px, d, q);
    assert_string_equal(rewrite_status(px, q), "REWRITTEN");
    /* the view is usable again: SHOW MATERIALIZED VIEWS lists it */
    snprintf(sql, sizeof(sql), "SELECT COUNT(*) FROM mv_infos('database'='" DB "')"
             " WHERE Name = '%s' AND SyncWithBaseTables = 1", view);
    assert_string_equal(val(px, sql), "1");
    snprintf(sql, sizeof(sql), "SELECT State FROM mv_infos('database'='" DB "')"
             " WHERE Name = '%s'", view);
    assert_string_equal(val(px, sql), "NORMAL");
}

#define QU "SELECT k, SUM(v) AS s FROM sales GROUP BY k"
#define QP "SELECT d, k, SUM(v) AS s FROM sales WHERE d >= '2024-05-01' GROUP BY d, k"

static void
test_unpartitioned(void **state)
{
    MYSQL *px = it_must_connect_proxy(&proxy, &env, DB, 0);
    MYSQL *d = it_must_connect_direct(&env, DB, 0);
    (void)state;
    it_exec_ok(px, "CREATE MATERIALIZED VIEW rp_u REFRESH COMPLETE ON MANUAL AS"
                   " SELECT k, SUM(v) AS s FROM sales GROUP BY k");
    assert_string_equal(rewrite_status(px, QU), "REWRITTEN");
    break_and_repair(px, d, "rp_u", "DROP TABLE rp_u", "COMPLETE", QU, "k,s", false);
    break_and_repair(px, d, "rp_u", "ALTER TABLE rp_u DROP COLUMN s", "COMPLETE", QU, "k,s",
                     false);
    break_and_repair(px, d, "rp_u", "ALTER TABLE rp_u ADD COLUMN x INT", "AUTO", QU, "k,s",
                     false);
    mysql_close(px);
    mysql_close(d);
}

static void
test_partitioned(void **state)
{
    MYSQL *px = it_must_connect_proxy(&proxy, &env, DB, 0);
    MYSQL *d = it_must_connect_direct(&env, DB, 0);
    (void)state;
    it_exec_ok(px, "CREATE MATERIALIZED VIEW rp_p REFRESH AUTO ON MANUAL PARTITION BY (d) AS"
                   " SELECT d, k, SUM(v) AS s FROM sales GROUP BY d, k");
    assert_string_equal(rewrite_status(px, QP), "REWRITTEN");
    break_and_repair(px, d, "rp_p", "DROP TABLE rp_p", "AUTO", QP, "d,k,s", true);
    break_and_repair(px, d, "rp_p", "ALTER TABLE rp_p DROP COLUMN s", "COMPLETE", QP, "d,k,s",
                     true);
    break_and_repair(px, d, "rp_p", "ALTER TABLE rp_p ADD COLUMN x INT", "AUTO", QP, "d,k,s",
                     true);
    mysql_close(px);
    mysql_close(d);
}

/* Count of lines of the proxy's log that contain NEEDLE. */
static int
log_count(const char *needle)
{
    char line[4096];
    int n = 0;
    FILE *f = fopen(proxy.log_path, "r");
    assert_non_null(f);
    while (fgets(line, sizeof(line), f) != NULL) {
        n += strstr(line, needle) != NULL;
    }
    fclose(f);
    return n;
}

/*
 * SPEC §7: a rewritten query the backend rejects is answered by the
 * original and counted: the view's RewriteFailures column goes up by one
 * per rejected query, and the log names the view and the backend's code.
 * Queries the backend accepts do not count.
 */
static void
test_rewrite_failure_counted(void **state)
{
    MYSQL *px = it_must_connect_proxy(&proxy, &env, DB, 0);
    MYSQL *d = it_must_connect_direct(&env, DB, 0);
    const char *fails = "SELECT RewriteFailures FROM mv_infos('database'='" DB "')"
                        " WHERE Name = 'rp_f'";
    const char *warn = "rejected the query rewritten onto " DB ".rp_f (ERR 1146)";
    (void)state;
    it_exec_ok(px, "CREATE MATERIALIZED VIEW rp_f REFRESH COMPLETE ON MANUAL AS"
                   " SELECT k, COUNT(*) AS c FROM sales GROUP BY k");
    assert_string_equal(rewrite_status(px, "SELECT k, COUNT(*) FROM sales GROUP BY k"),
                        "REWRITTEN");
    same_rows(px, d, "SELECT k, COUNT(*) FROM sales GROUP BY k");
    assert_string_equal(val(px, fails), "0");
    assert_int_equal(log_count(warn), 0);
    /* the storage table goes behind the proxy's back, unlogged (so the
     * binlog follower cannot tell the proxy): the rewrite fails */
    it_exec_ok(d, "SET SESSION sql_log_bin = 0");
    it_exec_ok(d, "DROP TABLE rp_f");
    it_exec_ok(d, "SET SESSION sql_log_bin = 1");
    same_rows(px, d, "SELECT k, COUNT(*) FROM sales GROUP BY k");
    assert_string_equal(val(px, fails), "1");
    same_rows(px, d, "SELECT k, COUNT(*) FROM sales GROUP BY k");
    assert_string_equal(val(px, fails), "2");
    assert_int_equal(log_count(warn), 2);
    /* repaired: rewritten again, and no new failure */
    it_exec_ok(px, "REFRESH MATERIALIZED VIEW rp_f COMPLETE");
    same_rows(px, d, "SELECT k, COUNT(*) FROM sales GROUP BY k");
    assert_string_equal(val(px, fails), "2");
    it_exec_ok(px, "DROP MATERIALIZED VIEW rp_f");
    mysql_close(px);
    mysql_close(d);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unpartitioned),
        cmocka_unit_test(test_partitioned),
        cmocka_unit_test(test_rewrite_failure_counted),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
