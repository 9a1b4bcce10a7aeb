/*
 * itest_fence.c - the exact freshness fence (issue 12; engine/cat_fence.c,
 * proxy/px_fence.c) against a private MariaDB with --log-bin and a real
 * mvproxy: a write made DIRECTLY on MariaDB and a query through the proxy
 * right after it (grace_period 0) never gets an answer from a view that
 * missed the write, 200 trials, for a plain query, a binary-protocol
 * execute and an SQL EXECUTE ... USING @var; without a write the same
 * queries are answered from the view (the fence parks and resumes them);
 * a follower that cannot catch up (its dump connection killed) costs the
 * wait and a relayed answer, never an error or wrong rows.
 *
 * Environment: MVP_DB_HOST / MVP_DB_PORT, MVP_PROXY_BIN (it_common.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <mysql.h>

#include "it_common.h"

#define META "mvp_meta_itfn"
#define DB "itfn"
#define QUERY "SELECT g, SUM(v), COUNT(*) FROM t GROUP BY g"
#define QUERY_P "SELECT g, SUM(v), COUNT(*) FROM t WHERE g >= ? GROUP BY g"
#define TRIALS 200

static struct it_env g_env;
static struct it_proxy g_proxy;

static int
setup(void **state)
{
    MYSQL *d;
    (void)state;
    it_env_load(&g_env);
    if (it_reset_dbs(&g_env, DB, META, true) != 0 ||
        (d = it_connect_direct(&g_env, NULL, 0)) == NULL) {
        return -1;
    }
    it_exec(d, "CREATE TABLE " DB ".t (id INT AUTO_INCREMENT PRIMARY KEY, g INT, v INT)");
    it_exec(d, "INSERT INTO " DB ".t (g, v) VALUES (1, 10), (2, 20), (1, 5), (3, 7)");
    mysql_close(d);
    return it_proxy_start_exec(&g_proxy, &g_env, META, NULL, DB,
                               "CREATE MATERIALIZED VIEW mv BUILD IMMEDIATE REFRESH COMPLETE ON "
                               "MANUAL PROPERTIES ('grace_period' = '0') AS "
                               "SELECT g, SUM(v) AS s, COUNT(*) AS c FROM t GROUP BY g");
}

static int
teardown(void **state)
{
    static const char *const views[] = {"mv", NULL};
    (void)state;
    return it_teardown(&g_proxy, &g_env, DB, META, views);
}

/* RewriteHits of view mv (SHOW MATERIALIZED VIEWS through the proxy). */
static long long
hits(MYSQL *p)
{
    long long v = -1;
    MYSQL_RES *r;
    MYSQL_ROW row;
    int fi;
    assert_int_equal(mysql_query(p, "SHOW MATERIALIZED VIEWS FROM " DB " LIKE 'mv'"), 0);
    r = mysql_store_result(p);
    assert_non_null(r);
    fi = it_field_index(r, "RewriteHits");
    assert_true(fi >= 0);
    if ((row = mysql_fetch_row(r)) != NULL && row[fi] != NULL) {
        v = atoll(row[fi]);
    }
    mysql_free_result(r);
    return v;
}

static int
cmp_line(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* How the query is sent through the proxy. */
enum way { W_TEXT, W_STMT, W_USING };

/* Rows of the query sent WAY on P (the statement ST for W_STMT). */
static void
rows_via(MYSQL *p, MYSQL_STMT *st, enum way way, struct it_rows *out)
{
    MYSQL_BIND pb, rb[3];
    long long g = 0, c0 = 0, c2 = 0;
    char s1[64];
    unsigned long l1 = 0;
    my_bool n1 = 0;
    int rc;
    char line[160];
    memset(out, 0, sizeof(*out));
    switch (way) {
    case W_TEXT:
        assert_int_equal(it_query_rows(p, QUERY, out), 0);
        return;
    case W_USING:
        assert_int_equal(it_query_rows(p, "EXECUTE q USING @lo", out), 0);
        return;
    case W_STMT:
        break;
    }
    memset(&pb, 0, sizeof(pb));
    pb.buffer_type = MYSQL_TYPE_LONGLONG;
    pb.buffer = &c0;
    assert_int_equal(mysql_stmt_bind_param(st, &pb), 0);
    assert_int_equal(mysql_stmt_execute(st), 0);
    memset(rb, 0, sizeof(rb));
    rb[0].buffer_type = MYSQL_TYPE_LONGLONG;
    rb[0].buffer = &g;
    rb[1].buffer_type = MYSQL_TYPE_STRING;
    rb[1].buffer = s1;
    rb[1].buffer_length = sizeof(s1) - 1;
    rb[1].length = &l1;
    rb[1].is_null = &n1;
    rb[2].buffer_type = MYSQL_TYPE_LONGLONG;
    rb[2].buffer = &c2;
    assert_int_equal(mysql_stmt_bind_result(st, rb), 0);
    assert_int_equal(mysql_stmt_store_result(st), 0);
    while ((rc = mysql_stmt_fetch(st)) == 0) {
        s1[l1 < sizeof(s1) ? l1 : sizeof(s1) - 1] = '\0';
        snprintf(line, sizeof(line), "%lld\t%s\t%lld", g, n1 ? "\\N" : s1, c2);
        out->rows = realloc(out->rows, (out->n + 1) * sizeof(*out->rows));
        assert_non_null(out->rows);
        out->rows[out->n++] = strdup(line);
    }
    assert_int_equal(rc, MYSQL_NO_DATA);
    out->n_cols = 3;
    qsort(out->rows, out->n, sizeof(*out->rows), cmp_line);
    mysql_stmt_free_result(st);
}

/* Direct rows of the query, in the same text form as rows_via. */
static void
rows_direct(MYSQL *d, struct it_rows *out)
{
    assert_int_equal(it_query_rows(d, QUERY, out), 0);
}

/*
 * TRIALS times: refresh the view (it is then fresh and answers, checked by
 * its hit counter on every tenth trial), write directly on MariaDB (insert,
 * update or delete in turn, autocommit), and at once read through the
 * proxy WAY: the rows must be the direct ones.
 */
static void
trials(enum way way)
{
    MYSQL *p = it_must_connect_proxy(&g_proxy, &g_env, DB, 0);
    MYSQL *d = it_connect_direct(&g_env, DB, 0);
    MYSQL_STMT *st = NULL;
    struct it_rows rp, rd;
    int k, wrong = 0, answered = 0;
    char sql[160];
    assert_non_null(d);
    if (way == W_STMT) {
        st = mysql_stmt_init(p);
        assert_non_null(st);
        assert_int_equal(mysql_stmt_prepare(st, QUERY_P, strlen(QUERY_P)), 0);
        /* the text form of the binary rows is compared with the text query's */
    }
    if (way == W_USING) {
        it_exec_ok(p, "PREPARE q FROM '" QUERY_P "'");
        it_exec_ok(p, "SET @lo = 0");
    }
    for (k = 0; k < TRIALS; k++) {
        long long h0;
        it_exec_ok(p, "REFRESH MATERIALIZED VIEW mv COMPLETE");
        if (k % 10 == 0) {
            /* the control: no write, the view answers (through the fence) */
            h0 = hits(p);
            rows_via(p, st, way, &rp);
            it_rows_free(&rp);
            if (hits(p) == h0 + 1) {
                answered++;
            }
        }
        switch (k % 3) {
        case 0:
            snprintf(sql, sizeof(sql), "INSERT INTO t (g, v) VALUES (%d, %d)", 1 + k % 4, k);
            break;
        case 1:
            snprintf(sql, sizeof(sql), "UPDATE t SET v = v + 1 WHERE g = %d", 1 + k % 4);
            break;
        default:
            snprintf(sql, sizeof(sql), "DELETE FROM t WHERE g = %d ORDER BY id LIMIT 1",
                     1 + k % 4);
            break;
        }
        it_exec_ok(d, sql);
        rows_via(p, st, way, &rp);
        rows_direct(d, &rd);
        if (!it_rows_equal(&rp, &rd)) {
            if (wrong == 0) {
                fprintf(stderr, "trial %d (%s): the proxy's answer missed the write\n", k, sql);
                it_rows_dump("proxy", &rp, 10);
                it_rows_dump("direct", &rd, 10);
            }
            wrong++;
        }
        it_rows_free(&rp);
        it_rows_free(&rd);
    }
    fprintf(stderr, "fence, way %d: %d of %d answers stale; the view answered %d of %d controls\n",
            (int)way, wrong, TRIALS, answered, TRIALS / 10);
    assert_int_equal(wrong, 0);
    assert_int_equal(answered, TRIALS / 10);
    if (st != NULL) {
        mysql_stmt_close(st);
    }
    mysql_close(p);
    mysql_close(d);
}

static void
test_text(void **state)
{
    (void)state;
    trials(W_TEXT);
}

static void
test_prepared(void **state)
{
    (void)state;
    trials(W_STMT);
}

static void
test_execute_using(void **state)
{
    (void)state;
    trials(W_USING);
}

/*
 * The follower cannot catch up (its Binlog Dump connection is killed; it
 * reconnects after a back-off): a query right after a direct write waits
 * at most --freshness-fence-ms, then is relayed: right rows, no error, the
 * session still usable.
 */
static void
test_follower_behind(void **state)
{
    MYSQL *p = it_must_connect_proxy(&g_proxy, &g_env, DB, 0);
    MYSQL *d = it_connect_direct(&g_env, DB, 0);
    struct it_rows rp, rd;
    MYSQL_RES *r;
    MYSQL_ROW row;
    int killed = 0, k;
    (void)state;
    assert_non_null(d);
    for (k = 0; k < 3; k++) {
        it_exec_ok(p, "REFRESH MATERIALIZED VIEW mv COMPLETE");
        assert_int_equal(mysql_query(d, "SELECT id FROM information_schema.PROCESSLIST "
                                        "WHERE COMMAND LIKE 'Binlog Dump%'"), 0);
        r = mysql_store_result(d);
        assert_non_null(r);
        while ((row = mysql_fetch_row(r)) != NULL) {
            char sql[64];
            snprintf(sql, sizeof(sql), "KILL %s", row[0]);
            if (mysql_query(d, sql) == 0) {
                killed++;
            }
        }
        mysql_free_result(r);
        it_exec_ok(d, "INSERT INTO t (g, v) VALUES (2, 1000)");
        rows_via(p, NULL, W_TEXT, &rp);
        rows_direct(d, &rd);
        if (!it_rows_equal(&rp, &rd)) {
            it_rows_dump("proxy", &rp, 10);
            it_rows_dump("direct", &rd, 10);
            fail_msg("round %d: rows differ while the follower was behind", k);
        }
        it_rows_free(&rp);
        it_rows_free(&rd);
        it_exec_ok(p, "SELECT 1");
    }
    assert_true(killed > 0);
    mysql_close(p);
    mysql_close(d);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_text),
        cmocka_unit_test(test_prepared),
        cmocka_unit_test(test_execute_using),
        cmocka_unit_test(test_follower_behind),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
