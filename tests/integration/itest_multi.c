/*
 * itest_multi.c - multi-statement packets (issue 11): each statement of a
 * COM_QUERY sent with CLIENT_MULTI_STATEMENTS (or after COM_SET_OPTION) is
 * considered for rewrite when every statement is a SELECT; a packet with a
 * write, a SET, a compound statement or an executable comment is relayed
 * unchanged, and a write anywhere in it marks its views stale before the
 * next query is matched (the proxy runs as a service user without
 * REPLICATION SLAVE, so the binlog follower cannot mark it first). Every
 * packet's whole answer (each result set's
 * rows in order, each OK, the ERR that ends it) is compared with MariaDB's
 * directly, and the views' hit counters tell which statements a view
 * answered.
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

#define META "mvp_meta_itmu"
#define DB "itmu"
#define Q_REGION "SELECT region, SUM(amount) AS s, COUNT(*) AS c FROM sales GROUP BY region" \
                 " ORDER BY region"
#define Q_CAT "SELECT cat, SUM(amount) AS s FROM sales GROUP BY cat ORDER BY cat"

static struct it_env env;
static struct it_proxy proxy;

/* The service account: all rights but REPLICATION SLAVE (no binlog follower). */
static const char *const SVC_ARGS[] = {"--service-user", "itmu_svc", "--service-password",
                                       "svc_pw", NULL};

static int
setup(void **state)
{
    static const char *const hosts[] = {"%", "127.0.0.1", NULL};
    char q[256];
    MYSQL *d, *px;
    int i;
    (void)state;
    it_env_load(&env);
    if (it_reset_dbs(&env, DB, META, true) < 0) {
        return -1;
    }
    d = it_must_connect_direct(&env, DB, 0);
    it_exec_ok(d, "CREATE TABLE sales (id INT PRIMARY KEY, region VARCHAR(10) NOT NULL,"
                  " cat VARCHAR(10) NOT NULL, amount INT NOT NULL)");
    it_exec_ok(d, "INSERT INTO sales SELECT seq, IF(seq % 3 = 0, 'north', 'south'),"
                  " ELT(1 + seq % 4, 'a', 'b', 'c', 'd'), seq FROM seq_1_to_80");
    for (i = 0; hosts[i] != NULL; i++) {
        snprintf(q, sizeof(q), "DROP USER IF EXISTS 'itmu_svc'@'%s'", hosts[i]);
        it_exec(d, q);
        snprintf(q, sizeof(q), "CREATE USER 'itmu_svc'@'%s' IDENTIFIED BY 'svc_pw'", hosts[i]);
        it_exec_ok(d, q);
        snprintf(q, sizeof(q), "GRANT ALL ON *.* TO 'itmu_svc'@'%s' WITH GRANT OPTION", hosts[i]);
        it_exec_ok(d, q);
        snprintf(q, sizeof(q), "REVOKE REPLICATION SLAVE ON *.* FROM 'itmu_svc'@'%s'", hosts[i]);
        it_exec_ok(d, q);
    }
    mysql_close(d);
    if (it_proxy_start(&proxy, &env, META, SVC_ARGS) != 0) {
        return -1;
    }
    px = it_must_connect_proxy(&proxy, &env, DB, 0);
    it_exec_ok(px, "CREATE MATERIALIZED VIEW mv_region REFRESH COMPLETE ON MANUAL AS"
                   " SELECT region, SUM(amount) AS s, COUNT(*) AS c FROM sales GROUP BY region");
    it_exec_ok(px, "CREATE MATERIALIZED VIEW mv_cat REFRESH COMPLETE ON MANUAL AS"
                   " SELECT cat, SUM(amount) AS s FROM sales GROUP BY cat");
    mysql_close(px);
    return 0;
}

static int
teardown(void **state)
{
    static const char *const views[] = {"mv_region", "mv_cat", NULL};
    int rc;
    MYSQL *d;
    (void)state;
    rc = it_teardown(&proxy, &env, DB, META, views);
    d = it_connect_direct(&env, NULL, 0);
    if (d != NULL) {
        it_exec(d, "DROP USER IF EXISTS 'itmu_svc'@'%'");
        it_exec(d, "DROP USER IF EXISTS 'itmu_svc'@'127.0.0.1'");
        mysql_close(d);
    }
    return rc;
}

/* Both views fresh again (a test that wrote to sales made them stale). */
static void
refresh_views(void)
{
    MYSQL *px = it_must_connect_proxy(&proxy, &env, DB, 0);
    it_exec_ok(px, "REFRESH MATERIALIZED VIEW mv_region COMPLETE");
    it_exec_ok(px, "REFRESH MATERIALIZED VIEW mv_cat COMPLETE");
    mysql_close(px);
}

/* VIEW's RewriteHits. */
static long
hits(const char *view)
{
    MYSQL *px = it_must_connect_proxy(&proxy, &env, DB, 0);
    char q[256], buf[64];
    snprintf(q, sizeof(q),
             "SELECT RewriteHits FROM mv_infos('database'='" DB "') WHERE Name = '%s'", view);
    if (it_first_value(px, q, buf, sizeof(buf)) != 0) {
        fail_msg("mv_infos: %s", mysql_error(px));
    }
    mysql_close(px);
    return atol(buf);
}

/* Append printf-style text to the NUL-terminated OUT of CAP bytes. */
static void
put(char *out, size_t cap, const char *fmt, ...)
{
    size_t at = strlen(out);
    va_list ap;
    if (at + 1 >= cap) {
        return;
    }
    va_start(ap, fmt);
    vsnprintf(out + at, cap - at, fmt, ap);
    va_end(ap);
}

/*
 * The whole answer to the packet SQL on M, as text into OUT (CAP bytes):
 * per statement "RS" and its rows in order, or "OK <affected>", and
 * "ERR <code>" for the error that ends the packet. The connection is then
 * checked usable.
 */
static void
transcript(MYSQL *m, const char *sql, char *out, size_t cap)
{
    MYSQL_RES *res;
    MYSQL_ROW row;
    unsigned i, nf;
    int st;

    out[0] = '\0';
    if (mysql_real_query(m, sql, strlen(sql)) != 0) {
        put(out, cap, "ERR %u\n", mysql_errno(m));
        goto usable;
    }
    for (;;) {
        res = mysql_store_result(m);
        if (res != NULL) {
            put(out, cap, "RS\n");
            nf = mysql_num_fields(res);
            while ((row = mysql_fetch_row(res)) != NULL) {
                for (i = 0; i < nf; i++) {
                    put(out, cap, "%s%s", i > 0 ? "\t" : "", row[i] != NULL ? row[i] : "\\N");
                }
                put(out, cap, "\n");
            }
            mysql_free_result(res);
        } else if (mysql_field_count(m) == 0) {
            put(out, cap, "OK %llu\n", (unsigned long long)mysql_affected_rows(m));
        } else {
            put(out, cap, "ERR %u\n", mysql_errno(m));
            break;
        }
        st = mysql_next_result(m);
        if (st > 0) {
            put(out, cap, "ERR %u\n", mysql_errno(m));
            break;
        }
        if (st < 0) {
            break;
        }
    }
usable:
    if (mysql_query(m, "SELECT 'still'") != 0) {
        fail_msg("[%s]: the connection is not usable after it: %s", sql, mysql_error(m));
    }
    res = mysql_store_result(m);
    mysql_free_result(res);
}

/*
 * The packet SQL answers alike through PX and directly on D; through the
 * proxy mv_region answered WANT_REGION of its statements and mv_cat
 * WANT_CAT. UNDO (or NULL) runs directly between the two runs: it takes
 * back what the proxy's run wrote, so the direct run meets the same rows.
 */
static void
check_undo(MYSQL *px, MYSQL *d, const char *sql, const char *undo, long want_region,
           long want_cat)
{
    static char a[65536], b[65536];
    long r0 = hits("mv_region"), c0 = hits("mv_cat"), r1, c1;

    transcript(px, sql, a, sizeof(a));
    r1 = hits("mv_region");
    c1 = hits("mv_cat");
    if (undo != NULL) {
        it_exec_ok(d, undo);
    }
    transcript(d, sql, b, sizeof(b));
    if (strcmp(a, b) != 0) {
        fail_msg("[%s]\nthrough the proxy:\n%s\ndirectly:\n%s", sql, a, b);
    }
    if (r1 - r0 != want_region || c1 - c0 != want_cat) {
        it_proxy_log_tail(&proxy, 20);
        fail_msg("[%s]: mv_region answered %ld (want %ld), mv_cat %ld (want %ld)", sql, r1 - r0,
                 want_region, c1 - c0, want_cat);
    }
}

/* check_undo for a packet that writes nothing. */
static void
check(MYSQL *px, MYSQL *d, const char *sql, long want_region, long want_cat)
{
    check_undo(px, d, sql, NULL, want_region, want_cat);
}

/* Every SELECT of the packet is considered; separators and the others stay. */
static void
test_each_select_considered(void **state)
{
    MYSQL *px = it_must_connect_proxy(&proxy, &env, DB, CLIENT_MULTI_STATEMENTS);
    MYSQL *d = it_must_connect_direct(&env, DB, CLIENT_MULTI_STATEMENTS);
    (void)state;
    refresh_views();
    check(px, d, Q_REGION "; " Q_CAT, 1, 1);
    check(px, d, "SELECT 'a;b' AS `x;y`;\n" Q_CAT "; -- the end;\n", 0, 1);
    check(px, d, Q_REGION ";" Q_REGION ";SELECT 1;" Q_CAT ";", 2, 1);
    /* a single statement with a trailing `;` is the single-statement path */
    check(px, d, Q_CAT ";", 0, 1);
    mysql_close(px);
    mysql_close(d);
}

/* Without multi-statements the backend rejects the packet: so does the proxy;
 * COM_SET_OPTION turns them on (and off) for the proxy as for the backend. */
static void
test_multi_off_and_set_option(void **state)
{
    MYSQL *px = it_must_connect_proxy(&proxy, &env, DB, 0);
    MYSQL *d = it_must_connect_direct(&env, DB, 0);
    (void)state;
    refresh_views();
    check(px, d, Q_REGION "; " Q_CAT, 0, 0);
    assert_int_equal(mysql_set_server_option(px, MYSQL_OPTION_MULTI_STATEMENTS_ON), 0);
    assert_int_equal(mysql_set_server_option(d, MYSQL_OPTION_MULTI_STATEMENTS_ON), 0);
    check(px, d, Q_REGION "; " Q_CAT, 1, 1);
    assert_int_equal(mysql_set_server_option(px, MYSQL_OPTION_MULTI_STATEMENTS_OFF), 0);
    assert_int_equal(mysql_set_server_option(d, MYSQL_OPTION_MULTI_STATEMENTS_OFF), 0);
    check(px, d, Q_REGION "; " Q_CAT, 0, 0);
    mysql_close(px);
    mysql_close(d);
}

/* A statement the backend rejects: the rows before it and its error, as
 * direct, and no view's answer counted. */
static void
test_rejected_statement(void **state)
{
    MYSQL *px = it_must_connect_proxy(&proxy, &env, DB, CLIENT_MULTI_STATEMENTS);
    MYSQL *d = it_must_connect_direct(&env, DB, CLIENT_MULTI_STATEMENTS);
    (void)state;
    refresh_views();
    /* COUNT (*) with a space is a syntax error without IGNORE_SPACE */
    check(px, d, Q_CAT "; SELECT region, COUNT (*) FROM sales GROUP BY region", 0, 0);
    check(px, d, Q_CAT "; SELECT nope FROM sales GROUP BY region; " Q_REGION, 0, 0);
    check(px, d, Q_CAT "; SELECT * FROM no_such_table", 0, 0);
    /* and the next packet is rewritten again */
    check(px, d, Q_CAT "; " Q_REGION, 1, 1);
    mysql_close(px);
    mysql_close(d);
}

/* What can change a later statement's answer or parse: relayed unchanged. */
static void
test_state_changes_relayed(void **state)
{
    MYSQL *px = it_must_connect_proxy(&proxy, &env, DB, CLIENT_MULTI_STATEMENTS);
    MYSQL *d = it_must_connect_direct(&env, DB, CLIENT_MULTI_STATEMENTS);
    (void)state;
    refresh_views();
    check(px, d, "SET @x = 1; " Q_CAT, 0, 0);
    check(px, d, "USE " DB "; " Q_CAT, 0, 0);
    check(px, d, "SET SESSION sql_mode = 'ANSI_QUOTES'; SELECT cat, SUM(\"amount\") AS s"
                 " FROM sales GROUP BY cat ORDER BY cat; SET SESSION sql_mode = DEFAULT", 0, 0);
    check(px, d, "BEGIN NOT ATOMIC " Q_CAT "; " Q_REGION "; END", 0, 0);
    check(px, d, "SELECT /*!40001 SQL_NO_CACHE */ 1; " Q_CAT, 0, 0);
    check(px, d, "SHOW TABLES; " Q_CAT, 0, 0);
    mysql_close(px);
    mysql_close(d);
}

/* The proxy's log says it does not follow the binlog. */
static bool
log_has_no_binlog(void)
{
    char line[1024];
    bool found = false;
    FILE *f = fopen(proxy.log_path, "r");
    if (f == NULL) {
        return false;
    }
    while (!found && fgets(line, sizeof(line), f) != NULL) {
        found = strstr(line, "not following the binlog") != NULL;
    }
    fclose(f);
    return found;
}

/* A write anywhere in a packet marks its views before anything else is
 * matched: the packet itself and the next query answer as direct. */
static void
test_write_marks(void **state)
{
    MYSQL *px = it_must_connect_proxy(&proxy, &env, DB, CLIENT_MULTI_STATEMENTS);
    MYSQL *d = it_must_connect_direct(&env, DB, CLIENT_MULTI_STATEMENTS);
    (void)state;
    assert_true(log_has_no_binlog());
    refresh_views();
    check_undo(px, d, "INSERT INTO sales VALUES (1001, 'north', 'a', 1000); " Q_CAT,
               "DELETE FROM sales WHERE id = 1001", 0, 0);
    refresh_views();
    /* the write second: the query right after must not read the views */
    check_undo(px, d, "SELECT 1; INSERT INTO sales VALUES (1002, 'south', 'b', 5000)",
               "DELETE FROM sales WHERE id = 1002", 0, 0);
    check(px, d, Q_CAT, 0, 0);
    check(px, d, Q_REGION, 0, 0);
    refresh_views();
    check(px, d, Q_CAT, 0, 1);
    mysql_close(px);
    mysql_close(d);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_each_select_considered),
        cmocka_unit_test(test_multi_off_and_set_option),
        cmocka_unit_test(test_rejected_statement),
        cmocka_unit_test(test_state_changes_relayed),
        cmocka_unit_test(test_write_marks),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
