/*
 * itest_refresh_rights.c - a refresh reads with the rights of the view's
 * owner, never the service account's (SPEC §3; cat_refresh_src). Root
 * creates real backend users directly on MariaDB; they connect through a
 * real mvproxy and:
 *   - an attacker with ALL on their own schema only defines views that call
 *     SQL SECURITY INVOKER functions reading another schema's secret table
 *     and mysql.global_priv, or writing into another table and into the
 *     catalog in the metadata schema: the CREATE (or the REFRESH of a
 *     deferred one) fails, no secret reaches a view, nothing else changed;
 *   - the same user's ordinary views (complete, partitioned, incremental)
 *     build and refresh, with no owner view left behind in the metadata
 *     schema;
 *   - after REVOKE SELECT on the base table from a view's owner, REFRESH
 *     (asked by root) fails with the backend's error as the task's
 *     ErrorMsg and the view keeps its rows;
 *   - a view recorded without an owner (older catalogs) is refused with ERR
 *     1449 until an owner is recorded.
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

#define META "mvp_meta_itrr"
#define DB "itrr"
#define SEC "itrr_sec"
#define PW "pw_itrr"
#define ATT "itrr_att"
#define RV "itrr_rv"

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

/* Run SQL on M; the error number (0 on success). */
static unsigned
try_sql(MYSQL *m, const char *sql)
{
    struct it_rows r;
    unsigned e;
    memset(&r, 0, sizeof(r));
    e = it_query_rows(m, sql, &r);
    it_rows_free(&r);
    return e;
}

static int
setup(void **state)
{
    MYSQL *d;
    (void)state;
    it_env_load(&env);
    d = it_must_connect_direct(&env, NULL, 0);
    it_exec(d, "DROP USER IF EXISTS " ATT "@'%'");
    it_exec(d, "DROP USER IF EXISTS " RV "@'%'");
    it_exec_ok(d, "DROP DATABASE IF EXISTS " DB);
    it_exec_ok(d, "DROP DATABASE IF EXISTS " SEC);
    it_exec_ok(d, "DROP DATABASE IF EXISTS " META);
    it_exec_ok(d, "CREATE DATABASE " DB);
    it_exec_ok(d, "CREATE DATABASE " SEC);
    it_exec_ok(d, "CREATE TABLE " SEC ".secret (s VARCHAR(64) NOT NULL)");
    it_exec_ok(d, "INSERT INTO " SEC ".secret VALUES ('TOPSECRET')");
    it_exec_ok(d, "CREATE TABLE " SEC ".victim (n INT NOT NULL)");
    it_exec_ok(d, "INSERT INTO " SEC ".victim VALUES (1)");
    it_exec_ok(d, "CREATE TABLE " DB ".sales (id INT AUTO_INCREMENT PRIMARY KEY, k INT NOT NULL,"
                  " v INT NOT NULL, d DATE NOT NULL)");
    it_exec_ok(d, "INSERT INTO " DB ".sales (k, v, d) SELECT seq % 4, seq, '2024-05-01' +"
                  " INTERVAL (seq % 3) DAY FROM " DB ".seq_1_to_60");
    it_exec_ok(d, "CREATE USER " ATT "@'%' IDENTIFIED BY '" PW "'");
    it_exec_ok(d, "GRANT ALL ON " DB ".* TO " ATT "@'%'");
    it_exec_ok(d, "CREATE USER " RV "@'%' IDENTIFIED BY '" PW "'");
    it_exec_ok(d, "GRANT CREATE, DROP, ALTER, INSERT, DELETE, UPDATE ON " DB ".* TO " RV "@'%'");
    it_exec_ok(d, "GRANT SELECT ON " DB ".sales TO " RV "@'%'");
    /* the attacker's INVOKER functions (the attacker may create them: ALL
     * on DB; created by root here only to skip binlog trust settings) */
    it_exec_ok(d, "CREATE DEFINER=" ATT "@'%' FUNCTION " DB ".leak_secret() RETURNS VARCHAR(64)"
                  " SQL SECURITY INVOKER READS SQL DATA"
                  " RETURN (SELECT MAX(s) FROM " SEC ".secret)");
    it_exec_ok(d, "CREATE DEFINER=" ATT "@'%' FUNCTION " DB ".leak_users() RETURNS TEXT"
                  " SQL SECURITY INVOKER READS SQL DATA"
                  " RETURN (SELECT GROUP_CONCAT(User, ':', Priv) FROM mysql.global_priv)");
    it_exec_ok(d, "CREATE DEFINER=" ATT "@'%' FUNCTION " DB ".poison() RETURNS INT"
                  " SQL SECURITY INVOKER DETERMINISTIC MODIFIES SQL DATA BEGIN"
                  " INSERT INTO " SEC ".victim VALUES (666);"
                  " UPDATE " META ".mvs SET query_sql = 'SELECT 666';"
                  " RETURN 1; END");
    mysql_close(d);
    return it_proxy_start(&proxy, &env, META, NULL);
}

static int
teardown(void **state)
{
    MYSQL *d;
    (void)state;
    it_teardown(&proxy, &env, DB, META, NULL);
    d = it_connect_direct(&env, NULL, 0);
    if (d != NULL) {
        it_exec(d, "DROP DATABASE IF EXISTS " SEC);
        it_exec(d, "DROP USER IF EXISTS " ATT "@'%'");
        it_exec(d, "DROP USER IF EXISTS " RV "@'%'");
        mysql_close(d);
    }
    return 0;
}

/* Nothing outside the attacker's rights changed, no view holds a secret. */
static void
assert_untouched(MYSQL *d)
{
    assert_string_equal(val(d, "SELECT COUNT(*) FROM " SEC ".victim"), "1");
    assert_string_equal(val(d, "SELECT COUNT(*) FROM " META ".mvs WHERE query_sql LIKE '%666%'"),
                        "0");
    assert_string_equal(val(d, "SELECT COUNT(*) FROM information_schema.VIEWS"
                               " WHERE TABLE_SCHEMA = '" META "'"), "0");
}

/* (a) INVOKER functions in a definition run with the owner's rights. */
static void
test_invoker_functions_run_as_owner(void **state)
{
    MYSQL *a = it_must_connect_proxy_as(&proxy, ATT, PW, DB, 0);
    MYSQL *d = it_must_connect_direct(&env, NULL, 0);
    const char *const defs[] = {
        "SELECT k, leak_secret() AS s FROM sales GROUP BY k",
        "SELECT k, leak_users() AS s FROM sales GROUP BY k",
        "SELECT k, poison() AS s FROM sales GROUP BY k",
    };
    char sql[512];
    size_t i;
    (void)state;
    /* directly, the attacker cannot read the secret */
    assert_int_not_equal(try_sql(a, "SELECT leak_secret()"), 0);
    for (i = 0; i < sizeof(defs) / sizeof(defs[0]); i++) {
        /* BUILD IMMEDIATE: the first refresh fails, the CREATE changes nothing */
        snprintf(sql, sizeof(sql), "CREATE MATERIALIZED VIEW mv_bad%zu AS %s", i, defs[i]);
        assert_int_not_equal(try_sql(a, sql), 0);
        assert_string_equal(val(d, "SELECT COUNT(*) FROM information_schema.TABLES"
                                   " WHERE TABLE_SCHEMA = '" DB "' AND TABLE_NAME LIKE 'mv_bad%'"),
                            "0");
        assert_untouched(d);
        /* BUILD DEFERRED, then REFRESH: ERR, the view stays empty */
        snprintf(sql, sizeof(sql), "CREATE MATERIALIZED VIEW mv_def%zu BUILD DEFERRED AS %s", i,
                 defs[i]);
        assert_int_equal(try_sql(a, sql), 0);
        snprintf(sql, sizeof(sql), "REFRESH MATERIALIZED VIEW mv_def%zu COMPLETE", i);
        assert_int_not_equal(try_sql(a, sql), 0);
        snprintf(sql, sizeof(sql), "SELECT COUNT(*) FROM " DB ".mv_def%zu", i);
        assert_string_equal(val(d, sql), "0");
        assert_untouched(d);
        snprintf(sql, sizeof(sql), "DROP MATERIALIZED VIEW mv_def%zu", i);
        it_exec_ok(a, sql);
    }
    assert_string_equal(val(d, "SELECT COUNT(*) FROM " DB ".sales"), "60");
    mysql_close(a);
    mysql_close(d);
}

/* DIFF rows between view V (in DB) and query Q, on D. */
static const char *
diff(MYSQL *d, const char *v, const char *cols, const char *q)
{
    char sql[1024];
    snprintf(sql, sizeof(sql), "SELECT COUNT(*) FROM (SELECT %s FROM " DB ".%s UNION ALL %s)"
             " u GROUP BY %s HAVING COUNT(*) <> 2 LIMIT 1", cols, v, q, cols);
    return val(d, sql);
}

/* (b) the owner's ordinary views build and refresh through the owner views. */
static void
test_legit_views_refresh(void **state)
{
    MYSQL *a = it_must_connect_proxy_as(&proxy, ATT, PW, DB, 0);
    MYSQL *d = it_must_connect_direct(&env, NULL, 0);
    (void)state;
    it_exec_ok(a, "CREATE MATERIALIZED VIEW ok_c AS SELECT k, SUM(v) s FROM sales GROUP BY k");
    it_exec_ok(a, "CREATE MATERIALIZED VIEW ok_p REFRESH AUTO ON MANUAL PARTITION BY (d) AS"
                  " SELECT d, k, SUM(v) s FROM sales GROUP BY d, k");
    it_exec_ok(a, "CREATE MATERIALIZED VIEW ok_i REFRESH FAST ON MANUAL"
                  " PROPERTIES ('incremental_column' = 'id') AS"
                  " SELECT k, SUM(v) s, COUNT(*) c FROM sales GROUP BY k");
    it_exec_ok(a, "INSERT INTO sales (k, v, d) VALUES (1, 1000, '2024-05-02'),"
                  " (9, 5, '2024-05-04')");
    it_exec_ok(a, "REFRESH MATERIALIZED VIEW ok_c COMPLETE");
    it_exec_ok(a, "REFRESH MATERIALIZED VIEW ok_p AUTO");
    it_exec_ok(a, "REFRESH MATERIALIZED VIEW ok_i FAST");
    assert_string_equal(diff(d, "ok_c", "k, s", "SELECT k, SUM(v) FROM " DB ".sales GROUP BY k"),
                        "");
    assert_string_equal(diff(d, "ok_p", "d, k, s",
                             "SELECT d, k, SUM(v) FROM " DB ".sales GROUP BY d, k"), "");
    assert_string_equal(diff(d, "ok_i", "k, s, c",
                             "SELECT k, SUM(v), COUNT(*) FROM " DB ".sales GROUP BY k"), "");
    assert_string_equal(val(d, "SELECT COUNT(*) FROM " DB ".ok_c"), "5");
    assert_untouched(d);
    it_exec_ok(a, "DELETE FROM sales WHERE id > 60");
    it_exec_ok(a, "DROP MATERIALIZED VIEW ok_c");
    it_exec_ok(a, "DROP MATERIALIZED VIEW ok_p");
    it_exec_ok(a, "DROP MATERIALIZED VIEW ok_i");
    mysql_close(a);
    mysql_close(d);
}

/* (c) a REVOKE counts at the next refresh, even one asked by root. */
static void
test_revoke_counts(void **state)
{
    MYSQL *o = it_must_connect_proxy_as(&proxy, RV, PW, DB, 0);
    MYSQL *r = it_must_connect_proxy(&proxy, &env, DB, 0);
    MYSQL *d = it_must_connect_direct(&env, NULL, 0);
    char before[1024], msg[1024];
    (void)state;
    it_exec_ok(o, "CREATE MATERIALIZED VIEW rv_c AS SELECT k, SUM(v) s FROM sales GROUP BY k");
    snprintf(before, sizeof(before), "%s", val(d, "SELECT SUM(s) FROM " DB ".rv_c"));
    assert_string_not_equal(before, "");
    it_exec_ok(d, "REVOKE SELECT ON " DB ".sales FROM " RV "@'%'");
    it_exec_ok(d, "INSERT INTO " DB ".sales (k, v, d) VALUES (2, 5000, '2024-05-01')");
    assert_int_not_equal(try_sql(r, "REFRESH MATERIALIZED VIEW rv_c COMPLETE"), 0);
    assert_int_not_equal(try_sql(o, "REFRESH MATERIALIZED VIEW rv_c COMPLETE"), 0);
    /* the view is as it was */
    assert_string_equal(val(d, "SELECT SUM(s) FROM " DB ".rv_c"), before);
    /* the task's ErrorMsg is the backend's refusal for the owner */
    snprintf(msg, sizeof(msg), "%s",
             val(d, "SELECT error_msg FROM " META ".tasks WHERE mv_name = 'rv_c'"
                    " ORDER BY task_id DESC LIMIT 1"));
    if (strstr(msg, "lack rights") == NULL && strstr(msg, "denied") == NULL) {
        fail_msg("task error is not the backend's refusal: %s", msg);
    }
    assert_string_equal(val(d, "SELECT status FROM " META ".tasks WHERE mv_name = 'rv_c'"
                               " ORDER BY task_id DESC LIMIT 1"), "FAILED");
    assert_untouched(d);
    /* granted again: the next refresh works */
    it_exec_ok(d, "GRANT SELECT ON " DB ".sales TO " RV "@'%'");
    it_exec_ok(r, "REFRESH MATERIALIZED VIEW rv_c COMPLETE");
    assert_string_not_equal(val(d, "SELECT SUM(s) FROM " DB ".rv_c"), before);
    it_exec_ok(d, "DELETE FROM " DB ".sales WHERE id > 60");
    it_exec_ok(r, "DROP MATERIALIZED VIEW rv_c");
    mysql_close(o);
    mysql_close(r);
    mysql_close(d);
}

/* A view recorded without an owner (older catalogs) is not refreshed. */
static void
test_no_owner_refused(void **state)
{
    MYSQL *a = it_must_connect_proxy_as(&proxy, ATT, PW, DB, 0);
    MYSQL *d = it_must_connect_direct(&env, NULL, 0);
    (void)state;
    it_exec_ok(a, "CREATE MATERIALIZED VIEW no_own AS SELECT k, COUNT(*) c FROM sales GROUP BY k");
    assert_string_equal(val(d, "SELECT owner FROM " META ".mvs WHERE name = 'no_own'"),
                        ATT "@%");
    mysql_close(a);
    it_exec_ok(d, "UPDATE " META ".mvs SET owner = NULL WHERE name = 'no_own'");
    assert_int_equal(it_proxy_stop(&proxy), 0);
    assert_int_equal(it_proxy_start(&proxy, &env, META, NULL), 0);
    a = it_must_connect_proxy_as(&proxy, ATT, PW, DB, 0);
    it_expect_errno(a, "REFRESH MATERIALIZED VIEW no_own COMPLETE", 1449);
    mysql_close(a);
    /* an owner recorded by the operator: refreshes again */
    it_exec_ok(d, "UPDATE " META ".mvs SET owner = '" ATT "@%' WHERE name = 'no_own'");
    assert_int_equal(it_proxy_stop(&proxy), 0);
    assert_int_equal(it_proxy_start(&proxy, &env, META, NULL), 0);
    a = it_must_connect_proxy_as(&proxy, ATT, PW, DB, 0);
    it_exec_ok(a, "REFRESH MATERIALIZED VIEW no_own COMPLETE");
    it_exec_ok(a, "DROP MATERIALIZED VIEW no_own");
    mysql_close(a);
    mysql_close(d);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_invoker_functions_run_as_owner),
        cmocka_unit_test(test_legit_views_refresh),
        cmocka_unit_test(test_revoke_counts),
        cmocka_unit_test(test_no_owner_refused),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
