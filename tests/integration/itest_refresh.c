/*
 * itest_refresh.c - the refresh engine through the real mvproxy (SPEC §3,
 * §6, §9): every refresh clause (Doris and Oracle forms, BUILD DEFERRED),
 * a scheduled view refreshing on time, ON COMMIT debouncing a burst into
 * one task, layered DWD -> DWS -> ADS refreshing in order, AUTO rewriting
 * only the changed partition, CANCEL, PAUSE / RESUME, two proxies sharing
 * one catalog without ever refreshing one view together, and kill -9 of
 * the proxy during a refresh followed by a consistent restart, and the
 * incremental (incremental_column) path with its fallback.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "it_common.h"

#define DB "itref"
#define META "mvp_meta_itref"

static struct it_env env;
static struct it_proxy proxy;

static MYSQL *
px_on(const struct it_proxy *p)
{
    MYSQL *m = it_connect_proxy(p, &env, DB, CLIENT_MULTI_RESULTS);
    if (m == NULL) {
        it_proxy_log_tail(p, 30);
        fail_msg("cannot connect to the proxy");
    }
    return m;
}

static MYSQL *
direct(void)
{
    MYSQL *m = it_connect_direct(&env, NULL, CLIENT_MULTI_RESULTS);
    assert_non_null(m);
    return m;
}

/* Integer value of the first column of SQL's first row (-1 when none / error). */
static long long
num(MYSQL *m, const char *sql)
{
    long long v = -1;
    MYSQL_RES *res;
    MYSQL_ROW row;
    if (mysql_query(m, sql) != 0) {
        fprintf(stderr, "%s: %s\n", sql, mysql_error(m));
        return -1;
    }
    res = mysql_store_result(m);
    if (res != NULL) {
        row = mysql_fetch_row(res);
        if (row != NULL && row[0] != NULL) {
            v = atoll(row[0]);
        }
        mysql_free_result(res);
    }
    return v;
}

/* Text of the first column of SQL's first row into BUF ("" when none). */
static const char *
text(MYSQL *m, const char *sql, char *buf, size_t len)
{
    it_first_value(m, sql, buf, len);
    return buf;
}

static void
ok(MYSQL *m, const char *sql)
{
    unsigned e = it_exec(m, sql);
    if (e != 0) {
        it_proxy_log_tail(&proxy, 20);
        fail_msg("%s -> %u %s", sql, e, mysql_error(m));
    }
}

/*
 * DROP MATERIALIZED VIEW NAME through M, retrying while it says 1205: a
 * refresh's new rows are visible from its swap on, but the refresh keeps the
 * view's refresh lock a little longer (state, task row), and an ON COMMIT
 * refresh may start right after a test's last write. Fails the test on any
 * other error or after 5 s.
 */
static void
drop_view_retry(MYSQL *m, const char *name)
{
    char sql[256];
    unsigned e = 0;
    snprintf(sql, sizeof(sql), "DROP MATERIALIZED VIEW %s", name);
    for (int i = 0; i < 50 && (e = it_exec(m, sql)) == 1205; i++) {
        usleep(100000);
    }
    if (e != 0) {
        it_proxy_log_tail(&proxy, 20);
        fail_msg("%s -> %u %s", sql, e, mysql_error(m));
    }
}

/* Tasks of view NAME with STATUS (NULL = any), read from the metadata table. */
static long long
tasks(MYSQL *d, const char *name, const char *status)
{
    char sql[512];
    snprintf(sql, sizeof(sql),
             "SELECT COUNT(*) FROM " META ".tasks WHERE mv_db = '" DB "' AND mv_name = '%s'%s%s%s",
             name, status ? " AND status = '" : "", status ? status : "", status ? "'" : "");
    return num(d, sql);
}

/* Wait up to SECS for SQL's number to reach AT_LEAST. */
static long long
wait_num(MYSQL *m, const char *sql, long long at_least, int secs)
{
    long long v = -1;
    int i;
    for (i = 0; i < secs * 10; i++) {
        v = num(m, sql);
        if (v >= at_least) {
            break;
        }
        usleep(100000);
    }
    return v;
}

static int
setup(void **state)
{
    MYSQL *d;
    (void)state;
    it_env_load(&env);
    d = direct();
    ok(d, "DROP DATABASE IF EXISTS " DB);
    ok(d, "DROP DATABASE IF EXISTS " META);
    ok(d, "CREATE DATABASE " DB);
    ok(d, "CREATE TABLE " DB ".sales (id INT AUTO_INCREMENT PRIMARY KEY, k INT NOT NULL,"
          " v INT NOT NULL, d DATE NOT NULL)");
    ok(d, "INSERT INTO " DB ".sales (k, v, d) SELECT seq % 5, seq, '2024-05-01' + INTERVAL"
          " (seq % 3) DAY FROM " DB ".seq_1_to_300");
    ok(d, "CREATE TABLE " DB ".knob (n INT NOT NULL)");
    ok(d, "INSERT INTO " DB ".knob VALUES (2)");
    mysql_close(d);
    setenv("MVPROXY_COMMIT_DEBOUNCE_MS", "700", 1);
    setenv("MVPROXY_CATALOG_POLL_MS", "500", 1);
    return it_proxy_start(&proxy, &env, META, NULL);
}

static int
teardown(void **state)
{
    (void)state;
    it_proxy_stop(&proxy);
    return 0;
}

/* Every clause is accepted and shown canonically; bad ones are refused. */
static void
test_clauses(void **state)
{
    MYSQL *m = px_on(&proxy);
    char buf[256];
    (void)state;
    ok(m, "CREATE MATERIALIZED VIEW c1 BUILD DEFERRED REFRESH COMPLETE ON MANUAL AS"
          " SELECT k, SUM(v) s FROM sales GROUP BY k");
    ok(m, "CREATE MATERIALIZED VIEW c2 BUILD DEFERRED REFRESH AUTO ON COMMIT AS"
          " SELECT k, COUNT(*) c FROM sales GROUP BY k");
    ok(m, "CREATE MATERIALIZED VIEW c3 BUILD DEFERRED REFRESH AUTO ON SCHEDULE EVERY 1 HOUR"
          " STARTS '2030-01-01 00:00:00' AS SELECT k, MAX(v) x FROM sales GROUP BY k");
    ok(m, "CREATE MATERIALIZED VIEW c4 BUILD DEFERRED REFRESH FAST START WITH (now())"
          " EVERY (interval '5 min') ENABLE QUERY REWRITE AS SELECT k, MIN(v) n FROM sales GROUP BY k");
    ok(m, "CREATE MATERIALIZED VIEW c5 BUILD DEFERRED REFRESH COMPLETE ON DEMAND"
          " DISABLE QUERY REWRITE AS SELECT k, SUM(v) s FROM sales GROUP BY k");
    ok(m, "CREATE MATERIALIZED VIEW c6 BUILD DEFERRED REFRESH NEVER AS"
          " SELECT k, SUM(v) s FROM sales GROUP BY k");
    assert_non_null(strstr(text(m, "SELECT RefreshInfo FROM mv_infos('database'='" DB "')"
                                   " WHERE Name = 'c3'", buf, sizeof(buf)),
                           "REFRESH AUTO ON SCHEDULE EVERY 1 HOUR STARTS '2030-01-01 00:00:00'"));
    assert_non_null(strstr(text(m, "SELECT RefreshInfo FROM mv_infos('database'='" DB "')"
                                   " WHERE Name = 'c4'", buf, sizeof(buf)),
                           "REFRESH FAST EVERY (INTERVAL '5 min')"));
    /* BUILD DEFERRED: empty and unusable until its first refresh */
    assert_int_equal(num(m, "SELECT COUNT(*) FROM c1"), 0);
    assert_int_equal(num(m, "SELECT COUNT(*) FROM mv_infos('database'='" DB "')"
                            " WHERE Name = 'c1' AND (LastRefreshTime IS NULL OR LastRefreshTime = '')"),
                     1);
    assert_int_equal(it_exec(m, "ALTER MATERIALIZED VIEW c1 REFRESH COMPLETE ON SCHEDULE EVERY 1"
                                " MONTH"), 1235);
    assert_int_equal(it_exec(m, "ALTER MATERIALIZED VIEW c1 REFRESH FAST EVERY (interval"
                                " 'soon')"), 1235);
    ok(m, "REFRESH MATERIALIZED VIEW c1 COMPLETE");
    assert_int_equal(num(m, "SELECT COUNT(*) FROM c1"), 5);
    /* no scheduled task for MANUAL / DEMAND / NEVER / future STARTS views */
    sleep(2);
    {
        MYSQL *d = direct();
        assert_int_equal(tasks(d, "c3", NULL), 0);
        assert_int_equal(tasks(d, "c5", NULL), 0);
        assert_int_equal(tasks(d, "c6", NULL), 0);
        mysql_close(d);
    }
    /* REFRESH NEVER: a manual refresh is refused (Oracle ORA-23538) until
     * the method is changed */
    assert_int_equal(it_exec(m, "REFRESH MATERIALIZED VIEW c6 COMPLETE"), 1105);
    assert_non_null(strstr(mysql_error(m), "REFRESH NEVER"));
    ok(m, "ALTER MATERIALIZED VIEW c6 REFRESH AUTO ON MANUAL");
    ok(m, "REFRESH MATERIALIZED VIEW c6 COMPLETE");
    assert_int_equal(num(m, "SELECT COUNT(*) FROM c6"), 5);
    mysql_close(m);
}

/* A view ON SCHEDULE EVERY 2 SECOND refreshes on time and picks up changes. */
static void
test_schedule(void **state)
{
    MYSQL *m = px_on(&proxy), *d = direct();
    long long n0, n1;
    (void)state;
    ok(m, "CREATE MATERIALIZED VIEW sch REFRESH COMPLETE ON SCHEDULE EVERY 2 SECOND AS"
          " SELECT k, SUM(v) s, COUNT(*) c FROM sales GROUP BY k");
    n0 = tasks(d, "sch", "SUCCESS");
    sleep(5);
    n1 = tasks(d, "sch", "SUCCESS");
    assert_true(n1 - n0 >= 2 && n1 - n0 <= 4);
    ok(d, "INSERT INTO " DB ".sales (k, v, d) VALUES (99, 1, '2024-05-01')");
    assert_int_equal(wait_num(m, "SELECT COUNT(*) FROM " DB ".sch WHERE k = 99", 1, 5), 1);
    /* The new rows are visible from the swap on, but the refresh holds the
     * view's refresh lock a little longer (state, task row): DROP says 1205
     * "retry when it ends" inside that window (seen under ASan). */
    drop_view_retry(m, "sch");
    assert_int_equal(num(m, "SELECT COUNT(*) FROM mv_infos('database'='" DB "') WHERE"
                            " Name = 'sch'"), 0);
    ok(d, "DELETE FROM " DB ".sales WHERE k = 99");
    mysql_close(m);
    mysql_close(d);
}

/* ON COMMIT: a burst of 20 writes makes one task. */
static void
test_commit_burst(void **state)
{
    MYSQL *m = px_on(&proxy), *d = direct();
    long long n0, n1;
    int i;
    (void)state;
    ok(m, "CREATE MATERIALIZED VIEW oc REFRESH AUTO ON COMMIT AS"
          " SELECT k, SUM(v) s FROM sales GROUP BY k");
    sleep(2);
    n0 = tasks(d, "oc", NULL);
    for (i = 0; i < 20; i++) {
        ok(m, "INSERT INTO sales (k, v, d) VALUES (7, 1, '2024-05-02')");
    }
    assert_int_equal(wait_num(m, "SELECT COUNT(*) FROM " DB ".oc WHERE k = 7 AND s = 20", 1, 8),
                     1);
    sleep(2);
    n1 = tasks(d, "oc", NULL);
    assert_int_equal(n1 - n0, 1);
    ok(m, "DROP MATERIALIZED VIEW oc");
    ok(m, "DELETE FROM sales WHERE k = 7");
    mysql_close(m);
    mysql_close(d);
}

/* DWD -> DWS -> ADS, all ON COMMIT: a base change refreshes them in order. */
static void
test_layers(void **state)
{
    MYSQL *m = px_on(&proxy), *d = direct();
    char sql[512];
    (void)state;
    ok(m, "CREATE MATERIALIZED VIEW dwd REFRESH AUTO ON COMMIT AS"
          " SELECT id, k, v, d FROM sales WHERE v > 0");
    ok(m, "CREATE MATERIALIZED VIEW dws REFRESH AUTO ON COMMIT AS"
          " SELECT k, d, SUM(v) s FROM dwd GROUP BY k, d");
    ok(m, "CREATE MATERIALIZED VIEW ads REFRESH AUTO ON COMMIT AS"
          " SELECT k, SUM(s) total FROM dws GROUP BY k");
    sleep(2);
    ok(d, "DELETE FROM " META ".tasks WHERE mv_name IN ('dwd', 'dws', 'ads')");
    ok(m, "INSERT INTO sales (k, v, d) VALUES (8, 1000, '2024-05-03')");
    assert_int_equal(wait_num(m, "SELECT COUNT(*) FROM " DB ".ads WHERE k = 8 AND total = 1000",
                              1, 15), 1);
    sleep(1);
    /* each ran (at least) once, in order: dwd finished before dws started, ... */
    snprintf(sql, sizeof(sql),
             "SELECT COUNT(*) FROM " META ".tasks a JOIN " META ".tasks b ON"
             " a.status = 'SUCCESS' AND b.status = 'SUCCESS' AND"
             " ((a.mv_name = 'dwd' AND b.mv_name = 'dws') OR (a.mv_name = 'dws' AND"
             " b.mv_name = 'ads')) AND a.finish_time <= b.start_time");
    assert_true(num(d, sql) >= 2);
    assert_int_equal(num(d, "SELECT COUNT(*) FROM " META ".tasks WHERE mv_name = 'ads'"
                            " AND status = 'SUCCESS' AND start_time < (SELECT MIN(finish_time)"
                            " FROM " META ".tasks WHERE mv_name = 'dwd')"), 0);
    /* cycles are refused at CREATE */
    assert_int_equal(it_exec(m, "CREATE MATERIALIZED VIEW cyc AS SELECT k FROM cyc"), 1462);
    ok(m, "DROP MATERIALIZED VIEW ads");
    ok(m, "DROP MATERIALIZED VIEW dws");
    ok(m, "DROP MATERIALIZED VIEW dwd");
    ok(m, "DELETE FROM sales WHERE k = 8");
    mysql_close(m);
    mysql_close(d);
}

/* SQL's whole result as one text (rows '|' separated; "" on error). */
static void
result_text(MYSQL *m, const char *sql, char *buf, size_t len)
{
    MYSQL_RES *res;
    MYSQL_ROW row;
    size_t n = 0;
    buf[0] = '\0';
    if (mysql_query(m, sql) != 0) {
        fprintf(stderr, "%s: %s\n", sql, mysql_error(m));
        return;
    }
    res = mysql_store_result(m);
    while (res != NULL && (row = mysql_fetch_row(res)) != NULL) {
        unsigned i;
        for (i = 0; i < mysql_num_fields(res) && n + 1 < len; i++) {
            n += (size_t)snprintf(buf + n, len - n, "%s,", row[i] ? row[i] : "NULL");
        }
        if (n + 1 < len) {
            n += (size_t)snprintf(buf + n, len - n, "|");
        }
    }
    if (res != NULL) {
        mysql_free_result(res);
    }
}

/* The same query through the proxy (rewritten or not) and on the backend. */
static void
same_answer(MYSQL *m, MYSQL *d, const char *q)
{
    char a[2048], b[2048], dq[600];
    snprintf(dq, sizeof(dq), "/* direct */ %s", q);
    result_text(m, q, a, sizeof(a));
    if (mysql_select_db(d, DB) != 0) {
        fail_msg("USE " DB ": %s", mysql_error(d));
    }
    result_text(d, dq, b, sizeof(b));
    if (strcmp(a, b) != 0) {
        char why[2048];
        snprintf(dq, sizeof(dq), "EXPLAIN REWRITE %s", q);
        result_text(m, dq, why, sizeof(why));
        fail_msg("wrong rows for %s: proxy [%s] direct [%s]; %s", q, a, b, why);
    }
}

/* DWD (partitioned, scheduled) -> DWS (month partitions, ON COMMIT) -> ADS
 * (ON COMMIT): a base write must not leave the upper layers "fresh" over a
 * DWD that has not caught up; once it has, they follow and end fresh. */
static void
test_layers_stale_upstream(void **state)
{
    MYSQL *m = px_on(&proxy), *d = direct();
    static const char *const qs[] = {
        "SELECT SUM(v) FROM sales",
        "SELECT d, SUM(v) FROM sales GROUP BY d ORDER BY d",
        "SELECT SUM(s) FROM ldws",
        "SELECT d, SUM(s) FROM ldwd GROUP BY d ORDER BY d",
    };
    size_t i;
    int t;
    (void)state;
    ok(m, "CREATE MATERIALIZED VIEW ldwd REFRESH AUTO ON SCHEDULE EVERY 1 MINUTE"
          " PARTITION BY (d) PROPERTIES ('grace_period' = '0') AS"
          " SELECT d, k, SUM(v) s FROM sales GROUP BY d, k");
    ok(m, "CREATE MATERIALIZED VIEW ldws REFRESH AUTO ON COMMIT"
          " PARTITION BY (date_trunc(d, 'month')) PROPERTIES ('grace_period' = '0') AS"
          " SELECT d, SUM(s) s FROM ldwd GROUP BY d");
    ok(m, "CREATE MATERIALIZED VIEW lads REFRESH AUTO ON COMMIT"
          " PROPERTIES ('grace_period' = '0') AS SELECT SUM(s) total FROM ldws");
    assert_int_equal(wait_num(m, "SELECT COUNT(*) FROM mv_infos('database'='" DB "')"
                                 " WHERE Name IN ('ldwd', 'ldws', 'lads')"
                                 " AND SyncWithBaseTables = 1", 3, 15), 3);
    ok(m, "INSERT INTO sales (k, v, d) VALUES (9, 500, '2024-05-03'), (9, 7, '2024-06-10')");
    /* the ON COMMIT window of DWS / ADS passes (debounce 700 ms); DWD waits
     * for its minute */
    for (t = 0; t < 30; t++) {
        for (i = 0; i < sizeof(qs) / sizeof(qs[0]); i++) {
            same_answer(m, d, qs[i]);
        }
        usleep(100000);
    }
    assert_int_equal(num(d, "SELECT COUNT(*) FROM " DB ".ldwd WHERE k = 9"), 0);
    assert_int_equal(num(m, "SELECT COUNT(*) FROM mv_infos('database'='" DB "')"
                            " WHERE Name IN ('ldws', 'lads') AND SyncWithBaseTables = 1"), 0);
    /* the lower layer catches up: the upper ones follow */
    ok(m, "REFRESH MATERIALIZED VIEW ldwd AUTO");
    for (t = 0; t < 150; t++) {
        for (i = 0; i < sizeof(qs) / sizeof(qs[0]); i++) {
            same_answer(m, d, qs[i]);
        }
        if (num(m, "SELECT COUNT(*) FROM mv_infos('database'='" DB "') WHERE Name IN"
                   " ('ldwd', 'ldws', 'lads') AND SyncWithBaseTables = 1") == 3 &&
            num(d, "SELECT total - (SELECT SUM(v) FROM " DB ".sales) FROM " DB ".lads") == 0) {
            break;
        }
        usleep(100000);
    }
    assert_int_equal(num(m, "SELECT COUNT(*) FROM mv_infos('database'='" DB "') WHERE Name IN"
                            " ('ldwd', 'ldws', 'lads') AND SyncWithBaseTables = 1"), 3);
    /* rows equal to their definitions over the base data */
    assert_int_equal(num(d, "SELECT total - (SELECT SUM(v) FROM " DB ".sales) FROM " DB ".lads"),
                     0);
    assert_int_equal(num(d, "SELECT COUNT(*) FROM (SELECT d, SUM(v) s FROM " DB ".sales"
                            " GROUP BY d) q LEFT JOIN " DB ".ldws w USING (d, s)"
                            " WHERE w.d IS NULL"),
                     0);
    assert_int_equal(num(d, "SELECT COUNT(*) FROM " DB ".ldws"),
                     num(d, "SELECT COUNT(DISTINCT d) FROM " DB ".sales"));
    ok(m, "DROP MATERIALIZED VIEW lads");
    ok(m, "DROP MATERIALIZED VIEW ldws");
    ok(m, "DROP MATERIALIZED VIEW ldwd");
    ok(m, "DELETE FROM sales WHERE k = 9");
    mysql_close(m);
    mysql_close(d);
}

/* AUTO touches only the changed partition: the rows written are that day's. */
static void
test_auto_partition(void **state)
{
    MYSQL *m = px_on(&proxy), *d = direct();
    long long day_rows, written;
    (void)state;
    ok(m, "CREATE MATERIALIZED VIEW pv REFRESH AUTO ON MANUAL PARTITION BY (d) AS"
          " SELECT d, k, SUM(v) s FROM sales GROUP BY d, k");
    ok(m, "INSERT INTO sales (k, v, d) VALUES (1, 5, '2024-05-02')");
    day_rows = num(d, "SELECT COUNT(DISTINCT k) FROM " DB ".sales WHERE d = '2024-05-02'");
    ok(m, "REFRESH MATERIALIZED VIEW pv AUTO");
    written = num(d, "SELECT row_count FROM " META ".tasks WHERE mv_name = 'pv'"
                     " ORDER BY task_id DESC LIMIT 1");
    assert_int_equal(written, day_rows);
    assert_true(num(d, "SELECT COUNT(*) FROM " DB ".pv") > day_rows);
    ok(m, "DROP MATERIALIZED VIEW pv");
    mysql_close(m);
    mysql_close(d);
}

/* A REFRESH in another thread (it blocks its client). */
struct bg {
    const struct it_proxy *p;       /* proxy to send it to */
    const char *sql;                /* statement */
    unsigned err;                   /* its outcome */
};

static void *
bg_main(void *arg)
{
    struct bg *b = arg;
    MYSQL *m = it_connect_proxy(b->p, &env, DB, CLIENT_MULTI_RESULTS);
    b->err = m ? it_exec(m, b->sql) : 2003;
    if (m != NULL) {
        mysql_close(m);
    }
    return NULL;
}

/* The slow view: ~9M joined rows when knob.n = 3000, instant when 2. */
#define SLOW_DEF                                                                                  \
    " AS SELECT a.seq % 7 AS k, COUNT(*) AS c FROM seq_1_to_3000 a, seq_1_to_3000 b, knob"       \
    " WHERE b.seq <= knob.n GROUP BY k"

static void
test_cancel(void **state)
{
    MYSQL *m = px_on(&proxy), *d = direct();
    struct bg b = {&proxy, "REFRESH MATERIALIZED VIEW slow COMPLETE", 0};
    pthread_t t;
    char sql[256];
    long long tid;
    (void)state;
    ok(m, "CREATE MATERIALIZED VIEW slow REFRESH COMPLETE ON MANUAL" SLOW_DEF);
    assert_int_equal(num(m, "SELECT SUM(c) FROM slow"), 6000);
    ok(d, "UPDATE " DB ".knob SET n = 3000");
    pthread_create(&t, NULL, bg_main, &b);
    tid = wait_num(d, "SELECT MAX(task_id) FROM " META ".tasks WHERE mv_name = 'slow'"
                      " AND status = 'RUNNING'", 1, 10);
    assert_true(tid > 0);
    usleep(500000);
    snprintf(sql, sizeof(sql), "CANCEL MATERIALIZED VIEW TASK %lld ON slow", tid);
    ok(m, sql);
    pthread_join(t, NULL);
    assert_int_equal(b.err, 1317);
    snprintf(sql, sizeof(sql), "SELECT status FROM " META ".tasks WHERE task_id = %lld", tid);
    {
        char buf[64];
        assert_string_equal(text(d, sql, buf, sizeof(buf)), "CANCELED");
    }
    assert_int_equal(num(d, "SELECT SUM(c) FROM " DB ".slow"), 6000);
    /* the canceled build's work table is dropped (on a loaded machine a
     * moment after the client's ERR) */
    assert_int_equal(wait_num(d, "SELECT COUNT(*) = 0 FROM information_schema.TABLES WHERE"
                                 " TABLE_SCHEMA = '" DB "' AND TABLE_NAME LIKE '%\\_\\_mvp\\_%'",
                              1, 10),
                     1);
    /* cancelling a finished task says so */
    assert_int_equal(it_exec(m, "CANCEL MATERIALIZED VIEW TASK 1 ON slow"),
                     1094);
    ok(d, "UPDATE " DB ".knob SET n = 2");
    ok(m, "DROP MATERIALIZED VIEW slow");
    mysql_close(m);
    mysql_close(d);
}

static void
test_pause_resume(void **state)
{
    MYSQL *m = px_on(&proxy), *d = direct();
    long long n0, n1, n2;
    char buf[64];
    (void)state;
    ok(m, "CREATE MATERIALIZED VIEW pr REFRESH COMPLETE ON SCHEDULE EVERY 1 SECOND AS"
          " SELECT k, SUM(v) s FROM sales GROUP BY k");
    sleep(2);
    ok(m, "PAUSE MATERIALIZED VIEW JOB ON pr");
    assert_string_equal(text(m, "SELECT State FROM mv_infos('database'='" DB "') WHERE"
                                " Name = 'pr'", buf, sizeof(buf)), "PAUSED");
    usleep(500000);
    n0 = tasks(d, "pr", NULL);
    sleep(3);
    n1 = tasks(d, "pr", NULL);
    assert_int_equal(n1, n0);
    ok(m, "RESUME MATERIALIZED VIEW JOB ON pr");
    sleep(3);
    n2 = tasks(d, "pr", NULL);
    assert_true(n2 >= n1 + 2);
    ok(m, "DROP MATERIALIZED VIEW pr");
    mysql_close(m);
    mysql_close(d);
}

/* Two proxies on one catalog: same views, same tasks, never the same view's
 * refresh at the same time. */
static void
test_two_proxies(void **state)
{
    struct it_proxy p2;
    MYSQL *m1 = px_on(&proxy), *m2, *d = direct();
    struct bg b1 = {&proxy, "REFRESH MATERIALIZED VIEW tp COMPLETE", 0};
    struct bg b2 = {NULL, "REFRESH MATERIALIZED VIEW tp COMPLETE", 0};
    pthread_t t1, t2;
    (void)state;
    memset(&p2, 0, sizeof(p2));
    assert_int_equal(it_proxy_start(&p2, &env, META, NULL), 0);
    m2 = px_on(&p2);
    ok(d, "UPDATE " DB ".knob SET n = 300");
    ok(m1, "CREATE MATERIALIZED VIEW tp REFRESH COMPLETE ON SCHEDULE EVERY 1 SECOND" SLOW_DEF);
    /* the second proxy sees the new view within its poll interval */
    assert_int_equal(wait_num(m2, "SELECT COUNT(*) FROM mv_infos('database'='" DB "')"
                                  " WHERE Name = 'tp'", 1, 5), 1);
    b2.p = &p2;
    pthread_create(&t1, NULL, bg_main, &b1);
    pthread_create(&t2, NULL, bg_main, &b2);
    pthread_join(t1, NULL);
    pthread_join(t2, NULL);
    assert_true(b1.err == 0 || b1.err == 1205);
    assert_true(b2.err == 0 || b2.err == 1205);
    sleep(5);
    ok(m1, "PAUSE MATERIALIZED VIEW JOB ON tp");
    sleep(2);
    /* both proxies ran tasks, none overlapping */
    assert_true(num(d, "SELECT COUNT(DISTINCT owner) FROM " META ".tasks WHERE mv_name = 'tp'"
                       " AND status = 'SUCCESS'") >= 1);
    assert_int_equal(num(d, "SELECT COUNT(*) FROM " META ".tasks a JOIN " META ".tasks b ON"
                            " a.mv_name = 'tp' AND b.mv_name = 'tp' AND a.task_id < b.task_id"
                            " AND a.start_time IS NOT NULL AND b.start_time IS NOT NULL"
                            " AND b.start_time < a.finish_time AND a.start_time < b.finish_time"),
                     0);
    /* both see the same task history */
    assert_int_equal(num(m1, "SELECT COUNT(*) FROM tasks('type'='mv') WHERE MvName = 'tp'"),
                     num(m2, "SELECT COUNT(*) FROM tasks('type'='mv') WHERE MvName = 'tp'"));
    ok(m2, "DROP MATERIALIZED VIEW tp");
    assert_int_equal(wait_num(m1, "SELECT 1 - COUNT(*) FROM mv_infos('database'='" DB "')"
                                  " WHERE Name = 'tp'", 1, 5), 1);
    ok(d, "UPDATE " DB ".knob SET n = 2");
    mysql_close(m2);
    it_proxy_stop(&p2);
    mysql_close(m1);
    mysql_close(d);
}

/* kill -9 in the middle of a refresh, then restart: consistent. */
static void
test_kill9(void **state)
{
    MYSQL *m = px_on(&proxy), *d = direct();
    long long tid;
    char sql[256], buf[64];
    (void)state;
    /* 3000 x 30000 rows at n = 30000: tens of seconds, so the kill below
     * always lands inside the refresh, however fast the machine is. */
    ok(m, "CREATE MATERIALIZED VIEW k9 REFRESH COMPLETE ON COMMIT AS SELECT a.seq % 7 AS k,"
          " COUNT(*) AS c FROM seq_1_to_3000 a, seq_1_to_30000 b, knob WHERE b.seq <= knob.n"
          " GROUP BY k");
    assert_int_equal(num(d, "SELECT SUM(c) FROM " DB ".k9"), 6000);
    ok(m, "UPDATE knob SET n = 30000"); /* ON COMMIT: the slow refresh starts */
    tid = wait_num(d, "SELECT MAX(task_id) FROM " META ".tasks WHERE mv_name = 'k9'"
                      " AND status = 'RUNNING'", 1, 10);
    assert_true(tid > 0);
    usleep(300 * 1000);
    kill(proxy.pid, SIGKILL);
    waitpid(proxy.pid, NULL, 0);
    proxy.pid = 0;
    mysql_close(m);
    /* the view still holds its old complete version */
    assert_int_equal(num(d, "SELECT SUM(c) FROM " DB ".k9"), 6000);
    ok(d, "UPDATE " DB ".knob SET n = 4");
    assert_int_equal(it_proxy_start(&proxy, &env, META, NULL), 0);
    /* recovered at start, or by the scheduler's periodic recovery once the
     * backend has noticed the dead proxy's sessions */
    snprintf(sql, sizeof(sql), "SELECT status = 'FAILED' FROM " META ".tasks WHERE task_id = %lld",
             tid);
    assert_int_equal(wait_num(d, sql, 1, 15), 1);
    snprintf(sql, sizeof(sql), "SELECT error_msg FROM " META ".tasks WHERE task_id = %lld", tid);
    assert_non_null(strstr(text(d, sql, buf, sizeof(buf)), "stopped"));
    assert_int_equal(wait_num(d, "SELECT 1 - COUNT(*) FROM information_schema.TABLES WHERE"
                                 " TABLE_SCHEMA = '" DB "' AND TABLE_NAME LIKE '%\\_\\_mvp\\_%'",
                              1, 20), 1);
    /* retried (the view is stale): the new knob is reflected */
    assert_int_equal(wait_num(d, "SELECT SUM(c) = 12000 FROM " DB ".k9", 1, 30), 1);
    m = px_on(&proxy);
    drop_view_retry(m, "k9"); /* an ON COMMIT retry may still hold the refresh lock */
    ok(d, "UPDATE " DB ".knob SET n = 2");
    mysql_close(m);
    mysql_close(d);
}

/* incremental_column: appends are folded; a DELETE forces the fallback. */
static void
test_incremental(void **state)
{
    MYSQL *m = px_on(&proxy), *d = direct();
    char buf[256];
    (void)state;
    ok(m, "CREATE MATERIALIZED VIEW inc REFRESH FAST ON MANUAL"
          " PROPERTIES ('incremental_column' = 'id') AS"
          " SELECT k, SUM(v) s, COUNT(*) c, MIN(v) mn, MAX(v) mx FROM sales GROUP BY k");
    ok(m, "REFRESH MATERIALIZED VIEW inc FAST"); /* baseline */
    ok(m, "INSERT INTO sales (k, v, d) VALUES (1, 100000, '2024-05-01'), (42, 3, '2024-05-01')");
    ok(m, "REFRESH MATERIALIZED VIEW inc FAST");
    assert_string_equal(text(d, "SELECT refresh_mode FROM " META ".tasks WHERE mv_name = 'inc'"
                                " ORDER BY task_id DESC LIMIT 1", buf, sizeof(buf)), "PARTIAL");
    assert_int_equal(num(d, "SELECT row_count FROM " META ".tasks WHERE mv_name = 'inc'"
                            " ORDER BY task_id DESC LIMIT 1"), 3); /* 1 insert + 1 update (2) */
    assert_int_equal(num(d, "SELECT COUNT(*) FROM (SELECT k, SUM(v) s, COUNT(*) c, MIN(v) mn,"
                            " MAX(v) mx FROM " DB ".sales GROUP BY k) q LEFT JOIN " DB ".inc i"
                            " USING (k, s, c, mn, mx) WHERE i.k IS NULL"), 0);
    ok(m, "DELETE FROM sales WHERE k = 42");
    ok(m, "REFRESH MATERIALIZED VIEW inc FAST");
    assert_string_equal(text(d, "SELECT refresh_mode FROM " META ".tasks WHERE mv_name = 'inc'"
                                " ORDER BY task_id DESC LIMIT 1", buf, sizeof(buf)), "COMPLETE");
    assert_int_equal(num(d, "SELECT COUNT(*) FROM " DB ".inc WHERE k = 42"), 0);
    /* a graceful restart keeps "append-only since the last step" (the
     * binlog replays the downtime): the next step is still incremental */
    ok(m, "INSERT INTO sales (k, v, d) VALUES (7, 5, '2024-05-02')");
    ok(m, "REFRESH MATERIALIZED VIEW inc FAST");
    mysql_close(m);
    assert_int_equal(it_proxy_stop(&proxy), 0);
    assert_int_equal(it_proxy_start(&proxy, &env, META, NULL), 0);
    m = px_on(&proxy);
    sleep(1); /* the follower reads the (empty) downtime */
    ok(m, "INSERT INTO sales (k, v, d) VALUES (7, 6, '2024-05-02')");
    ok(m, "REFRESH MATERIALIZED VIEW inc FAST");
    assert_string_equal(text(d, "SELECT refresh_mode FROM " META ".tasks WHERE mv_name = 'inc'"
                                " ORDER BY task_id DESC LIMIT 1", buf, sizeof(buf)), "PARTIAL");
    /* ... but not over an update made while no proxy ran */
    mysql_close(m);
    assert_int_equal(it_proxy_stop(&proxy), 0);
    ok(d, "UPDATE " DB ".sales SET v = v + 1 WHERE k = 7");
    assert_int_equal(it_proxy_start(&proxy, &env, META, NULL), 0);
    m = px_on(&proxy);
    sleep(1);
    ok(m, "REFRESH MATERIALIZED VIEW inc FAST");
    assert_string_equal(text(d, "SELECT refresh_mode FROM " META ".tasks WHERE mv_name = 'inc'"
                                " ORDER BY task_id DESC LIMIT 1", buf, sizeof(buf)), "COMPLETE");
    assert_int_equal(num(d, "SELECT COUNT(*) FROM (SELECT k, SUM(v) s, COUNT(*) c, MIN(v) mn,"
                            " MAX(v) mx FROM " DB ".sales GROUP BY k) q LEFT JOIN " DB ".inc i"
                            " USING (k, s, c, mn, mx) WHERE i.k IS NULL"), 0);
    ok(m, "DELETE FROM sales WHERE v = 100000 OR k = 7");
    ok(m, "DROP MATERIALIZED VIEW inc");
    mysql_close(m);
    mysql_close(d);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_clauses),      cmocka_unit_test(test_schedule),
        cmocka_unit_test(test_commit_burst), cmocka_unit_test(test_layers),
        cmocka_unit_test(test_layers_stale_upstream),
        cmocka_unit_test(test_auto_partition), cmocka_unit_test(test_cancel),
        cmocka_unit_test(test_pause_resume), cmocka_unit_test(test_incremental),
        cmocka_unit_test(test_two_proxies),  cmocka_unit_test(test_kill9),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
