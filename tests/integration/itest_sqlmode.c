/*
 * itest_sqlmode.c - a rewrite never changes what the backend would answer
 * (issue 11): the proxy parses under the session's real sql_mode, learnt
 * from the backend's session state tracking however it was set (SET
 * sql_mode, SET @@session.sql_mode, init_connect, a procedure, SET
 * STATEMENT), and a mode the bridge cannot honour means no rewrite; a query
 * the backend rejects gets the backend's error, never rows from a view
 * (`COUNT (*)`, a user who may read the view's table but not the base
 * table, a REVOKE after the query was validated); a failed COM_CHANGE_USER
 * leaves the connection usable as the backend does. Every check compares
 * the proxy against MariaDB directly, and reads the view's hit counter to
 * tell whether the view answered.
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

#define META "mvp_meta_itsm"
#define DB "itsm"
#define Q_SUM "SELECT region, SUM(amount) FROM sales GROUP BY region"
#define Q_ANSI "SELECT region, SUM(\"amount\") FROM sales GROUP BY region"

static struct it_env env;
static struct it_proxy proxy;

static int
setup(void **state)
{
    MYSQL *d, *px;
    (void)state;
    it_env_load(&env);
    if (it_reset_dbs(&env, DB, META, true) < 0) {
        return -1;
    }
    d = it_must_connect_direct(&env, DB, 0);
    it_exec_ok(d, "CREATE TABLE sales (id INT PRIMARY KEY, region VARCHAR(10) NOT NULL,"
                  " amount INT NOT NULL)");
    it_exec_ok(d, "INSERT INTO sales SELECT seq, IF(seq % 3 = 0, 'north', 'south'), seq"
                  " FROM seq_1_to_60");
    it_exec(d, "DROP USER IF EXISTS 'itsm_v'@'%'");
    it_exec(d, "DROP USER IF EXISTS 'itsm_b'@'%'");
    it_exec_ok(d, "CREATE USER 'itsm_v'@'%' IDENTIFIED BY 'v_pw'");
    it_exec_ok(d, "CREATE USER 'itsm_b'@'%' IDENTIFIED BY 'b_pw'");
    it_exec_ok(d, "CREATE OR REPLACE PROCEDURE set_ansi() SET SESSION sql_mode = 'ANSI_QUOTES'");
    mysql_close(d);
    if (it_proxy_start(&proxy, &env, META, NULL) != 0) {
        return -1;
    }
    px = it_must_connect_proxy(&proxy, &env, DB, 0);
    /* the view's column is named like the base column, so a misparsed
     * "amount" would resolve to it on the backend */
    it_exec_ok(px, "CREATE MATERIALIZED VIEW mv_region REFRESH COMPLETE ON MANUAL AS"
                   " SELECT region, SUM(amount) AS amount, COUNT(*) AS cnt FROM sales"
                   " GROUP BY region");
    mysql_close(px);
    d = it_must_connect_direct(&env, DB, 0);
    it_exec_ok(d, "GRANT SELECT ON " DB ".mv_region TO 'itsm_v'@'%'");
    it_exec_ok(d, "GRANT SELECT ON " DB ".mv_region TO 'itsm_b'@'%'");
    it_exec_ok(d, "GRANT SELECT ON " DB ".sales TO 'itsm_b'@'%'");
    mysql_close(d);
    return 0;
}

static int
teardown(void **state)
{
    static const char *const views[] = {"mv_region", NULL};
    MYSQL *d;
    (void)state;
    d = it_connect_direct(&env, NULL, 0);
    if (d != NULL) {
        it_exec(d, "SET GLOBAL init_connect = ''");
        it_exec(d, "DROP USER IF EXISTS 'itsm_v'@'%'");
        it_exec(d, "DROP USER IF EXISTS 'itsm_b'@'%'");
        mysql_close(d);
    }
    return it_teardown(&proxy, &env, DB, META, views);
}

/* The view's hit counter (SHOW MATERIALIZED VIEWS' RewriteHits). */
static long
hits(void)
{
    MYSQL *px = it_must_connect_proxy(&proxy, &env, DB, 0);
    char buf[64];
    long n;
    if (it_first_value(px, "SELECT RewriteHits FROM mv_infos('database'='" DB "')"
                           " WHERE Name = 'mv_region'", buf, sizeof(buf)) != 0) {
        fail_msg("mv_infos: %s", mysql_error(px));
    }
    n = atol(buf);
    mysql_close(px);
    return n;
}

/* Q on PX and on D: the same error code (0 for none) and the same rows. */
static void
same_answer(MYSQL *px, MYSQL *d, const char *q)
{
    struct it_rows a, b;
    unsigned ea, eb;
    memset(&a, 0, sizeof(a));
    memset(&b, 0, sizeof(b));
    ea = it_query_rows(px, q, &a);
    eb = it_query_rows(d, q, &b);
    if (ea != eb) {
        fail_msg("%s: through the proxy ERR %u, directly ERR %u", q, ea, eb);
    }
    if (ea == 0 && !it_rows_equal(&a, &b)) {
        it_rows_dump("proxy", &a, 10);
        it_rows_dump("direct", &b, 10);
        fail_msg("%s: rows differ", q);
    }
    it_rows_free(&a);
    it_rows_free(&b);
}

/* Q on PX and D answers alike, and the view answered it through the proxy
 * (VIEW_USED) or did not. */
static void
check(MYSQL *px, MYSQL *d, const char *q, bool view_used)
{
    long before = hits();
    same_answer(px, d, q);
    if (view_used) {
        assert_int_equal(hits(), before + 1);
    } else {
        assert_int_equal(hits(), before);
    }
}

/* The default mode: rewritten, and "amount" is a string (SUM is 0). */
static void
test_default_mode(void **state)
{
    MYSQL *px = it_must_connect_proxy(&proxy, &env, DB, 0);
    MYSQL *d = it_must_connect_direct(&env, DB, 0);
    (void)state;
    check(px, d, Q_SUM, true);
    same_answer(px, d, Q_ANSI);
    mysql_close(px);
    mysql_close(d);
}

/* ANSI_QUOTES however it was set: "amount" is the column, as MariaDB reads it. */
static void
test_ansi_quotes(void **state)
{
    static const char *const sets[] = {
        "SET sql_mode = 'ANSI_QUOTES'",
        "SET @@session.sql_mode = CONCAT(@@sql_mode, ',ANSI_QUOTES')",
        "SET SESSION sql_mode = 'ANSI'",
        "CALL set_ansi()",
        NULL,
    };
    size_t i;
    (void)state;
    for (i = 0; sets[i] != NULL; i++) {
        MYSQL *px = it_must_connect_proxy(&proxy, &env, DB, 0);
        MYSQL *d = it_must_connect_direct(&env, DB, 0);
        it_exec_ok(px, sets[i]);
        it_exec_ok(d, sets[i]);
        same_answer(px, d, Q_ANSI);
        same_answer(px, d, "SELECT region, SUM(\"nosuch\") FROM sales GROUP BY region");
        check(px, d, Q_SUM, true);
        /* back to the default: "amount" is a string again */
        it_exec_ok(px, "SET sql_mode = DEFAULT");
        it_exec_ok(d, "SET sql_mode = DEFAULT");
        same_answer(px, d, Q_ANSI);
        mysql_close(px);
        mysql_close(d);
    }
}

/* PIPES_AS_CONCAT: || concatenates. */
static void
test_pipes_as_concat(void **state)
{
    MYSQL *px = it_must_connect_proxy(&proxy, &env, DB, 0);
    MYSQL *d = it_must_connect_direct(&env, DB, 0);
    const char *q = "SELECT region || '!', SUM(amount) FROM sales GROUP BY region";
    (void)state;
    same_answer(px, d, q);
    it_exec_ok(px, "SET sql_mode = 'PIPES_AS_CONCAT'");
    it_exec_ok(d, "SET sql_mode = 'PIPES_AS_CONCAT'");
    same_answer(px, d, q);
    mysql_close(px);
    mysql_close(d);
}

/* A mode the bridge does not model: relayed, never rewritten; SET STATEMENT
 * changes the mode for one statement only. */
static void
test_unmodelled_mode(void **state)
{
    MYSQL *px = it_must_connect_proxy(&proxy, &env, DB, 0);
    MYSQL *d = it_must_connect_direct(&env, DB, 0);
    (void)state;
    it_exec_ok(px, "SET sql_mode = 'HIGH_NOT_PRECEDENCE'");
    it_exec_ok(d, "SET sql_mode = 'HIGH_NOT_PRECEDENCE'");
    check(px, d, Q_SUM, false);
    it_exec_ok(px, "SET sql_mode = DEFAULT");
    it_exec_ok(d, "SET sql_mode = DEFAULT");
    check(px, d, Q_SUM, true);
    same_answer(px, d, "SET STATEMENT sql_mode = 'ANSI_QUOTES' FOR " Q_ANSI);
    /* after SET STATEMENT the session's own mode is back */
    check(px, d, Q_SUM, true);
    same_answer(px, d, Q_ANSI);
    mysql_close(px);
    mysql_close(d);
}

/* init_connect sets the mode for users without SUPER: the proxy learns it. */
static void
test_init_connect(void **state)
{
    MYSQL *root = it_must_connect_direct(&env, NULL, 0);
    MYSQL *px, *d;
    (void)state;
    it_exec_ok(root, "SET GLOBAL init_connect = 'SET SESSION sql_mode = ''ANSI_QUOTES'''");
    px = it_must_connect_proxy_as(&proxy, "itsm_b", "b_pw", DB, 0);
    d = it_connect(env.db_host, env.db_port, "itsm_b", "b_pw", DB, 0, NULL, NULL);
    assert_non_null(d);
    same_answer(px, d, "SELECT @@sql_mode");
    same_answer(px, d, Q_ANSI);
    mysql_close(px);
    mysql_close(d);
    it_exec_ok(root, "SET GLOBAL init_connect = ''");
    mysql_close(root);
}

/* A query the backend rejects gets the backend's error, not the view's rows. */
static void
test_backend_error_stays_error(void **state)
{
    MYSQL *px = it_must_connect_proxy(&proxy, &env, DB, 0);
    MYSQL *d = it_must_connect_direct(&env, DB, 0);
    (void)state;
    check(px, d, "SELECT region, COUNT (*) FROM sales GROUP BY region", false);
    check(px, d, "SELECT region, COUNT(*) FROM sales GROUP BY region", true);
    check(px, d, "SELECT region, SUM(amount), nosuch FROM sales GROUP BY region", false);
    /* the connection goes on */
    check(px, d, Q_SUM, true);
    mysql_close(px);
    mysql_close(d);
}

/* Rights: a user who may read the view's table but not the base table gets
 * the backend's 1142; one who may read both, and loses the base table with
 * a REVOKE (through the proxy) after the query was validated, too. */
static void
test_privileges(void **state)
{
    MYSQL *pv = it_must_connect_proxy_as(&proxy, "itsm_v", "v_pw", DB, 0);
    MYSQL *dv = it_connect(env.db_host, env.db_port, "itsm_v", "v_pw", DB, 0, NULL, NULL);
    MYSQL *pb = it_must_connect_proxy_as(&proxy, "itsm_b", "b_pw", DB, 0);
    MYSQL *db = it_connect(env.db_host, env.db_port, "itsm_b", "b_pw", DB, 0, NULL, NULL);
    MYSQL *root = it_must_connect_proxy(&proxy, &env, DB, 0);
    (void)state;
    assert_non_null(dv);
    assert_non_null(db);
    check(pv, dv, Q_SUM, false);
    check(pb, db, Q_SUM, true);
    check(pb, db, Q_SUM, true);
    it_exec_ok(root, "REVOKE SELECT ON " DB ".sales FROM 'itsm_b'@'%'");
    check(pb, db, Q_SUM, false);
    it_exec_ok(root, "GRANT SELECT ON " DB ".sales TO 'itsm_b'@'%'");
    check(pb, db, Q_SUM, true);
    mysql_close(pv);
    mysql_close(dv);
    mysql_close(pb);
    mysql_close(db);
    mysql_close(root);
}

/* A failed COM_CHANGE_USER: the backend keeps the connection with the
 * previous user and a reset session; so does the proxy. */
static void
test_change_user_failure(void **state)
{
    MYSQL *px = it_must_connect_proxy_as(&proxy, "itsm_b", "b_pw", DB, 0);
    MYSQL *d = it_connect(env.db_host, env.db_port, "itsm_b", "b_pw", DB, 0, NULL, NULL);
    const char *who = "SELECT CURRENT_USER(), DATABASE(), @@sql_mode, @x";
    (void)state;
    assert_non_null(d);
    it_exec_ok(px, "SET @x = 1, sql_mode = 'ANSI_QUOTES'");
    it_exec_ok(d, "SET @x = 1, sql_mode = 'ANSI_QUOTES'");
    assert_int_not_equal(mysql_change_user(px, "itsm_v", "wrong", DB), 0);
    assert_int_not_equal(mysql_change_user(d, "itsm_v", "wrong", DB), 0);
    same_answer(px, d, who);
    /* and it still works, in the default mode again */
    it_exec_ok(px, "USE " DB);
    it_exec_ok(d, "USE " DB);
    check(px, d, Q_SUM, true);
    same_answer(px, d, Q_ANSI);
    /* a successful change afterwards */
    assert_int_equal(mysql_change_user(px, "itsm_v", "v_pw", DB), 0);
    assert_int_equal(mysql_change_user(d, "itsm_v", "v_pw", DB), 0);
    same_answer(px, d, who);
    check(px, d, Q_SUM, false);
    mysql_close(px);
    mysql_close(d);
}

/* COM_RESET_CONNECTION puts sql_mode back to the default; the proxy knows. */
static void
test_reset_connection(void **state)
{
    MYSQL *px = it_must_connect_proxy(&proxy, &env, DB, 0);
    MYSQL *d = it_must_connect_direct(&env, DB, 0);
    (void)state;
    it_exec_ok(px, "SET sql_mode = 'ANSI_QUOTES'");
    it_exec_ok(d, "SET sql_mode = 'ANSI_QUOTES'");
    assert_int_equal(mysql_reset_connection(px), 0);
    assert_int_equal(mysql_reset_connection(d), 0);
    same_answer(px, d, "SELECT @@sql_mode");
    it_exec_ok(px, "USE " DB);
    it_exec_ok(d, "USE " DB);
    same_answer(px, d, Q_ANSI);
    check(px, d, Q_SUM, true);
    mysql_close(px);
    mysql_close(d);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_default_mode),
        cmocka_unit_test(test_ansi_quotes),
        cmocka_unit_test(test_pipes_as_concat),
        cmocka_unit_test(test_unmodelled_mode),
        cmocka_unit_test(test_init_connect),
        cmocka_unit_test(test_backend_error_stays_error),
        cmocka_unit_test(test_privileges),
        cmocka_unit_test(test_change_user_failure),
        cmocka_unit_test(test_reset_connection),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
