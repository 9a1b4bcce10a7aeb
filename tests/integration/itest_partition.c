/*
 * itest_partition.c - partitioned views end to end (SPEC §4, §5, §6, §9;
 * catalog/cat_part.c, engine/cat_part_*.c, rewriter/rw_partition.c) against the private MariaDB
 * (binlog on) and a real mvproxy:
 *
 *   base table sales: RANGE COLUMNS(d) by day, 60 days (2024-03-01 ..
 *   2024-04-29); view mv_day PARTITION BY (d), REFRESH AUTO.
 *
 *   - CREATE validates the PARTITION BY column (clear errors);
 *   - an INSERT through the proxy into one day makes that view partition,
 *     and only it, stale (SHOW PARTITIONS, SHOW MATERIALIZED VIEWS counts);
 *   - a query over April is answered by union compensation with rows
 *     identical to the direct query; EXPLAIN REWRITE lists the stale
 *     partition; a query that needs only the stale day is not rewritten;
 *   - within grace_period the stale partition is read from the view: the
 *     rows equal the view's, NOT the base's (on purpose);
 *   - beyond grace_period it is compensated again;
 *   - REFRESH ... AUTO refreshes only the stale partition (task rows);
 *   - a write that bypasses the proxy is seen (binlog + probe) within 5 s,
 *     narrowed to its partition;
 *   - partition DDL (TRUNCATE, DROP, ADD, REORGANIZE PARTITION), through the
 *     proxy and directly, marks only the partitions it touches;
 *   - a new day after the last storage partition gets its own storage
 *     partition at the AUTO refresh (not pmax);
 *   - refresh_partition_num batches partitions;
 *   - ALTER MATERIALIZED VIEW ... SET is persisted across a restart, with
 *     the partition states.
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
#include <time.h>
#include <unistd.h>

#include <mysql.h>

#include "it_common.h"

#define META "mvp_meta_itpt"
#define DB "itpt"
#define APRIL "SELECT region, SUM(amount) AS s, COUNT(*) AS c FROM sales " \
              "WHERE d >= '2024-04-01' AND d < '2024-05-01' GROUP BY region"
#define APRIL_FROM_VIEW "SELECT region, SUM(s), SUM(c) FROM " DB ".mv_day " \
                        "WHERE d >= '2024-04-01' AND d < '2024-05-01' GROUP BY region"
#define MARCH_ALL "SELECT d, region, SUM(amount) AS s, COUNT(*) AS c FROM sales " \
                  "WHERE d >= '2024-03-01' AND d < '2024-05-01' GROUP BY d, region"

static struct it_env g_env;
static struct it_proxy g_proxy;

/* Connections for the tests (the test fails when they cannot be made). */
#define PROXY_CONN() it_must_connect_proxy(&g_proxy, &g_env, DB, 0)
#define DIRECT_CONN() it_must_connect_direct(&g_env, DB, 0)

/* The first column of the first row of SQL on M, into BUF ("" for NULL). */
static void
scalar(MYSQL *m, const char *sql, char *buf, size_t len)
{
    if (it_first_value(m, sql, buf, len) != 0) {
        fail_msg("%s: %s", sql, mysql_error(m));
    }
}

/*
 * SHOW PARTITIONS FROM mv_day through P: the comma list of the partitions
 * that are not in sync (p_null aside) into STALE, the number of dated
 * partitions into *N, and the VisibleVersionTime of partition WANT (may be
 * NULL) into VTIME.
 */
static void
show_parts(MYSQL *p, char *stale, size_t slen, int *n, const char *want, char *vtime,
           size_t vlen)
{
    MYSQL_RES *r;
    MYSQL_ROW row;
    size_t used = 0;
    stale[0] = '\0';
    *n = 0;
    if (vtime != NULL) {
        vtime[0] = '\0';
    }
    if (mysql_query(p, "SHOW PARTITIONS FROM mv_day") != 0) {
        fail_msg("SHOW PARTITIONS: %s", mysql_error(p));
    }
    r = mysql_store_result(p);
    assert_non_null(r);
    assert_true(mysql_num_fields(r) >= 6);
    while ((row = mysql_fetch_row(r)) != NULL) {
        if (strcmp(row[0], "p_null") == 0) {
            continue;
        }
        (*n)++;
        if (strcmp(row[2], "true") != 0) {
            used += (size_t)snprintf(stale + used, used < slen ? slen - used : 0, "%s%s",
                                     used > 0 ? "," : "", row[0]);
        }
        if (want != NULL && vtime != NULL && strcmp(row[0], want) == 0) {
            snprintf(vtime, vlen, "%s", row[4] ? row[4] : "");
        }
    }
    mysql_free_result(r);
}

/*
 * Wait (up to 10 s) until the proxy's binlog follower has stored a position
 * at or past the backend's current binlog end, read through direct
 * connection D. The follower marks a view stale again for an event it reads
 * after a refresh ended, even when the refresh reflected it (cat_binlog.c,
 * "Refresh ordering rule": conservative on purpose), so a test that wants
 * "fresh after REFRESH" must let the follower catch up first.
 */
static void
wait_binlog_caught_up(MYSQL *d)
{
    char file[256] = "", buf[512];
    unsigned long long target = 0;
    int64_t end = it_mono_ms() + 10000;
    MYSQL_RES *r;
    MYSQL_ROW row;
    assert_int_equal(mysql_query(d, "SHOW MASTER STATUS"), 0);
    r = mysql_store_result(d);
    assert_non_null(r);
    if ((row = mysql_fetch_row(r)) != NULL && row[0] != NULL && row[1] != NULL) {
        snprintf(file, sizeof(file), "%s", row[0]);
        target = strtoull(row[1], NULL, 10);
    }
    mysql_free_result(r);
    while (file[0] != '\0' && it_mono_ms() < end) {
        unsigned long long sid = 0, pos = 0;
        char sfile[256] = "";
        it_first_value(d, "SELECT v FROM " META ".meta WHERE k = 'binlog_position'", buf,
                       sizeof(buf));
        if (sscanf(buf, "%llu %llu %255s", &sid, &pos, sfile) == 3 &&
            (strcmp(sfile, file) > 0 || (strcmp(sfile, file) == 0 && pos >= target))) {
            return;
        }
        usleep(100 * 1000);
    }
}

/* REFRESH mv_day AUTO through P once the binlog follower has caught up (D: direct). */
static void
refresh_auto(MYSQL *p, MYSQL *d)
{
    wait_binlog_caught_up(d);
    it_exec_ok(p, "REFRESH MATERIALIZED VIEW mv_day AUTO");
}

/* EXPLAIN REWRITE SQL through P: status, stale_partitions and sql of the
 * mv_day row, and the summary's status. */
static void
explain(MYSQL *p, const char *sql, char *status, size_t slen, char *stale, size_t stlen,
        char *text, size_t tlen, char *summary, size_t sulen)
{
    MYSQL_RES *r;
    MYSQL_ROW row;
    char q[2048];
    snprintf(status, slen, "(no row)");
    stale[0] = '\0';
    text[0] = '\0';
    summary[0] = '\0';
    snprintf(q, sizeof(q), "EXPLAIN REWRITE %s", sql);
    if (mysql_query(p, q) != 0) {
        fail_msg("%s: %s", q, mysql_error(p));
    }
    r = mysql_store_result(p);
    assert_non_null(r);
    while ((row = mysql_fetch_row(r)) != NULL) {
        if (row[0] != NULL && strcmp(row[0], DB ".mv_day") == 0) {
            snprintf(status, slen, "%s: %s", row[1] ? row[1] : "", row[2] ? row[2] : "");
            snprintf(stale, stlen, "%s", row[3] ? row[3] : "");
            snprintf(text, tlen, "%s", row[5] ? row[5] : "");
        } else if (row[0] == NULL) {
            snprintf(summary, sulen, "%s", row[1] ? row[1] : "");
        }
    }
    mysql_free_result(r);
}

/* Rows of SQL on A and on B are the same multiset (EXPECT_EQUAL) or not. */
static void
rows_compare(MYSQL *a, const char *sa, MYSQL *b, const char *sb, bool expect_equal,
             const char *what)
{
    struct it_rows ra, rb;
    if (it_query_rows(a, sa, &ra) != 0) {
        fail_msg("%s: %s", sa, mysql_error(a));
    }
    if (it_query_rows(b, sb, &rb) != 0) {
        fail_msg("%s: %s", sb, mysql_error(b));
    }
    assert_true(ra.n > 0);
    if (it_rows_equal(&ra, &rb) != expect_equal) {
        it_rows_dump("first", &ra, 10);
        it_rows_dump("second", &rb, 10);
        it_proxy_log_tail(&g_proxy, 20);
        fail_msg("%s: rows %s", what, expect_equal ? "differ" : "are equal");
    }
    it_rows_free(&ra);
    it_rows_free(&rb);
}

/* The proxy answers SQL with the same rows as MariaDB directly. */
static void
same_as_direct(MYSQL *p, MYSQL *d, const char *sql, const char *what)
{
    rows_compare(p, sql, d, sql, true, what);
}

static int
setup(void **state)
{
    MYSQL *d;
    char sql[8192];
    size_t used;
    int i;
    (void)state;
    it_env_load(&g_env);
    setenv("MVPROXY_PROBE_INTERVAL_MS", "500", 1);
    if (it_reset_dbs(&g_env, DB, META, true) != 0 ||
        (d = it_connect_direct(&g_env, NULL, 0)) == NULL) {
        return -1;
    }
    used = (size_t)snprintf(sql, sizeof(sql),
                            "CREATE TABLE " DB ".sales (id INT NOT NULL AUTO_INCREMENT, "
                            "d DATE NOT NULL, region VARCHAR(8) NOT NULL, "
                            "amount DECIMAL(10,2) NOT NULL, PRIMARY KEY (id, d)) "
                            "PARTITION BY RANGE COLUMNS(d) (");
    for (i = 0; i < 60; i++) {
        /* p20240301 .. p20240429: day i of [2024-03-01, 2024-04-30) */
        int m = i < 31 ? 3 : 4, day = i < 31 ? i + 1 : i - 30;
        int nm = (i + 1) < 31 ? 3 : 4, nday = (i + 1) < 31 ? i + 2 : i - 29;
        used += (size_t)snprintf(sql + used, sizeof(sql) - used,
                                 "%sPARTITION p2024%02d%02d VALUES LESS THAN ('2024-%02d-%02d')",
                                 i > 0 ? ", " : "", m, day, nm, nday);
    }
    snprintf(sql + used, sizeof(sql) - used, ")");
    if (it_exec(d, sql) != 0 ||
        it_exec(d, "INSERT INTO " DB ".sales (d, region, amount) SELECT "
                   "'2024-03-01' + INTERVAL (seq % 60) DAY, ELT(1 + (seq DIV 60) % 3, 'n', 's', 'e'), "
                   "(seq % 97) + 0.25 FROM mysql.seq_0_to_1799") != 0 ||
        it_exec(d, "CREATE TABLE " DB ".plain (id INT PRIMARY KEY, d DATE, v INT)") != 0) {
        mysql_close(d);
        return -1;
    }
    mysql_close(d);
    return it_proxy_start_exec(&g_proxy, &g_env, META, NULL, DB,
                               "CREATE MATERIALIZED VIEW mv_day BUILD IMMEDIATE REFRESH AUTO "
                               "ON MANUAL PARTITION BY (d) PROPERTIES ('grace_period' = '0') "
                               "AS SELECT d, region, SUM(amount) AS s, COUNT(*) AS c "
                               "FROM sales GROUP BY d, region");
}

static int
teardown(void **state)
{
    static const char *const views[] = {"mv_day", NULL};
    (void)state;
    return it_teardown(&g_proxy, &g_env, DB, META, views);
}

/* CREATE refuses a PARTITION BY column that is not a date output column,
 * with an error that names it. */
static void
test_create_validation(void **state)
{
    MYSQL *p = PROXY_CONN();
    (void)state;
    assert_int_not_equal(it_exec(p, "CREATE MATERIALIZED VIEW bad1 BUILD IMMEDIATE REFRESH "
                                    "AUTO ON MANUAL PARTITION BY (region) AS SELECT d, region, "
                                    "SUM(amount) AS s FROM sales GROUP BY d, region"), 0);
    assert_non_null(strstr(mysql_error(p), "region"));
    assert_non_null(strstr(mysql_error(p), "DATE"));
    assert_int_not_equal(it_exec(p, "CREATE MATERIALIZED VIEW bad2 BUILD IMMEDIATE REFRESH "
                                    "AUTO ON MANUAL PARTITION BY (nope) AS SELECT d, region, "
                                    "SUM(amount) AS s FROM sales GROUP BY d, region"), 0);
    assert_non_null(strstr(mysql_error(p), "nope"));
    assert_int_not_equal(it_exec(p, "CREATE MATERIALIZED VIEW bad3 BUILD IMMEDIATE REFRESH "
                                    "AUTO ON MANUAL PARTITION BY (date_trunc(d, 'fortnight')) "
                                    "AS SELECT d, SUM(amount) AS s FROM sales GROUP BY d"), 0);
    /* nothing was left behind */
    assert_int_not_equal(it_exec(p, "SELECT * FROM bad1"), 0);
    mysql_close(p);
}

/* After the build: 60 day partitions (1:1 with the base), all in sync;
 * the storage table is RANGE partitioned the same way. */
static void
test_initial_state(void **state)
{
    MYSQL *p = PROXY_CONN(), *d = DIRECT_CONN();
    char stale[4096], buf[64];
    int n;
    (void)state;
    show_parts(p, stale, sizeof(stale), &n, NULL, NULL, 0);
    assert_int_equal(n, 60);
    assert_string_equal(stale, "");
    scalar(d, "SELECT COUNT(*) FROM information_schema.PARTITIONS WHERE TABLE_SCHEMA = '" DB
              "' AND TABLE_NAME = 'mv_day' AND PARTITION_NAME LIKE 'p\\_2024%'",
           buf, sizeof(buf));
    assert_string_equal(buf, "60");
    same_as_direct(p, d, APRIL, "fresh view");
    mysql_close(d);
    mysql_close(p);
}

/* An INSERT through the proxy into 2024-04-10: that partition and only it
 * becomes stale; SHOW MATERIALIZED VIEWS counts it. */
static void
test_insert_marks_one_partition(void **state)
{
    MYSQL *p = PROXY_CONN();
    MYSQL_RES *r;
    MYSQL_ROW row;
    MYSQL_FIELD *f;
    unsigned i, nf;
    const char *valid = NULL, *total = NULL;
    (void)state;
    it_exec_ok(p, "INSERT INTO sales (d, region, amount) VALUES ('2024-04-10', 'n', 1000.00)");
    assert_true(it_wait_stale_partitions(p, "mv_day", "p_20240410_20240411", 0));
    assert_int_equal(mysql_query(p, "SHOW MATERIALIZED VIEWS FROM " DB), 0);
    r = mysql_store_result(p);
    assert_non_null(r);
    nf = mysql_num_fields(r);
    f = mysql_fetch_fields(r);
    row = mysql_fetch_row(r);
    assert_non_null(row);
    for (i = 0; i < nf; i++) {
        if (strcmp(f[i].name, "PartitionsValid") == 0) {
            valid = row[i];
        } else if (strcmp(f[i].name, "PartitionsTotal") == 0) {
            total = row[i];
        } else if (strcmp(f[i].name, "FreshnessSource") == 0) {
            assert_non_null(strstr(row[i], "probe"));
        }
    }
    assert_non_null(valid);
    assert_non_null(total);
    assert_int_equal(atoi(total) - atoi(valid), 1);
    mysql_free_result(r);
    mysql_close(p);
}

/* grace_period 0: the month query is answered from the valid partitions
 * UNION ALL the base for the stale day, with the direct query's rows. */
static void
test_union_compensation(void **state)
{
    MYSQL *p = PROXY_CONN(), *d = DIRECT_CONN();
    char status[512], stale[512], text[8192], summary[64];
    (void)state;
    explain(p, APRIL, status, sizeof(status), stale, sizeof(stale), text, sizeof(text), summary,
            sizeof(summary));
    assert_string_equal(status, "CHOSEN: ");
    assert_string_equal(summary, "REWRITTEN");
    assert_non_null(strstr(stale, "p_20240410_20240411"));
    assert_non_null(strstr(text, "UNION ALL"));
    same_as_direct(p, d, APRIL, "union compensation");
    same_as_direct(p, d, MARCH_ALL, "union compensation, no roll-up");
    /* only the stale day needed: not rewritten, with the reason */
    explain(p, "SELECT region, SUM(amount) FROM sales WHERE d = '2024-04-10' GROUP BY region",
            status, sizeof(status), stale, sizeof(stale), text, sizeof(text), summary,
            sizeof(summary));
    assert_string_equal(summary, "NOT_REWRITTEN");
    assert_non_null(strstr(status, "p_20240410_20240411"));
    assert_non_null(strstr(stale, "p_20240410_20240411"));
    mysql_close(d);
    mysql_close(p);
}

/* Within grace_period the stale partition is read from the view: the rows
 * are the VIEW's (without the new sale), not the base's. On purpose. */
static void
test_within_grace(void **state)
{
    MYSQL *p = PROXY_CONN(), *d = DIRECT_CONN();
    char status[512], stale[512], text[8192], summary[64];
    (void)state;
    it_exec_ok(p, "ALTER MATERIALIZED VIEW mv_day SET ('grace_period' = '3600')");
    explain(p, APRIL, status, sizeof(status), stale, sizeof(stale), text, sizeof(text), summary,
            sizeof(summary));
    assert_string_equal(status, "CHOSEN: ");
    assert_string_equal(stale, "");
    assert_null(strstr(text, "UNION ALL"));
    rows_compare(p, APRIL, d, APRIL_FROM_VIEW, true, "within grace: the view's rows");
    rows_compare(p, APRIL, d, APRIL, false, "within grace: not the base's rows");
    mysql_close(d);
    mysql_close(p);
}

/* Beyond grace_period the stale partition is compensated again. */
static void
test_beyond_grace(void **state)
{
    MYSQL *p = PROXY_CONN(), *d = DIRECT_CONN();
    char status[512], stale[512], text[8192], summary[64];
    (void)state;
    it_exec_ok(p, "ALTER MATERIALIZED VIEW mv_day SET ('grace_period' = '1')");
    usleep(1200 * 1000);
    explain(p, APRIL, status, sizeof(status), stale, sizeof(stale), text, sizeof(text), summary,
            sizeof(summary));
    assert_string_equal(status, "CHOSEN: ");
    assert_non_null(strstr(stale, "p_20240410_20240411"));
    same_as_direct(p, d, APRIL, "beyond grace");
    it_exec_ok(p, "ALTER MATERIALIZED VIEW mv_day SET ('grace_period' = '0')");
    mysql_close(d);
    mysql_close(p);
}

/* REFRESH ... AUTO rebuilds only the stale partition: the task wrote that
 * day's view rows and no other; the other partitions keep their time. */
static void
test_auto_refresh_only_stale(void **state)
{
    MYSQL *p = PROXY_CONN(), *d = DIRECT_CONN();
    char stale[4096], before[64], after[64], rows[64], day_rows[64], parts[512];
    int n;
    (void)state;
    show_parts(p, stale, sizeof(stale), &n, "p_20240301_20240302", before, sizeof(before));
    refresh_auto(p, d);
    show_parts(p, stale, sizeof(stale), &n, "p_20240301_20240302", after, sizeof(after));
    assert_string_equal(stale, "");
    assert_string_equal(before, after);
    scalar(p, "SELECT `Rows` FROM tasks('type' = 'mv') WHERE MvName = 'mv_day' "
              "ORDER BY TaskId DESC LIMIT 1", rows, sizeof(rows));
    scalar(p, "SELECT NeedRefreshPartitions FROM tasks('type' = 'mv') WHERE MvName = 'mv_day' "
              "ORDER BY TaskId DESC LIMIT 1", parts, sizeof(parts));
    scalar(d, "SELECT COUNT(*) FROM mv_day WHERE d = '2024-04-10'", day_rows, sizeof(day_rows));
    assert_string_equal(rows, day_rows);
    assert_string_equal(parts, "p_20240410_20240411");
    same_as_direct(p, d, APRIL, "after the AUTO refresh");
    mysql_close(d);
    mysql_close(p);
}

/* Writes that bypass the proxy are seen within 5 s (binlog + probe) and
 * narrowed to their partitions. */
static void
test_bypass_write(void **state)
{
    MYSQL *p = PROXY_CONN(), *d = DIRECT_CONN();
    (void)state;
    it_exec_ok(d, "INSERT INTO sales (d, region, amount) VALUES ('2024-03-15', 'e', 7.00)");
    if (!it_wait_stale_partitions(p, "mv_day", "p_20240315_20240316", 5000)) {
        it_proxy_log_tail(&g_proxy, 30);
        fail_msg("a direct INSERT was not narrowed to its partition within 5 s");
    }
    it_exec_ok(d, "UPDATE sales SET amount = amount + 1 WHERE d = '2024-03-20' AND region = 'n'");
    assert_true(it_wait_stale_partitions(p, "mv_day", "p_20240315_20240316,p_20240320_20240321", 5000));
    same_as_direct(p, d, MARCH_ALL, "compensated after direct writes");
    refresh_auto(p, d);
    assert_true(it_wait_stale_partitions(p, "mv_day", "", 0));
    sleep(1); /* the refresh's own binlog events do not make it stale */
    assert_true(it_wait_stale_partitions(p, "mv_day", "", 0));
    mysql_close(d);
    mysql_close(p);
}

/* Partition DDL marks only the partitions it touches, through the proxy
 * and directly; the answers stay those of the base. */
static void
test_partition_ddl(void **state)
{
    MYSQL *p = PROXY_CONN(), *d = DIRECT_CONN();
    char buf[64];
    (void)state;
    it_exec_ok(p, "ALTER TABLE sales TRUNCATE PARTITION p20240305");
    assert_true(it_wait_stale_partitions(p, "mv_day", "p_20240305_20240306", 0));
    same_as_direct(p, d, MARCH_ALL, "after TRUNCATE PARTITION");
    refresh_auto(p, d);

    it_exec_ok(p, "ALTER TABLE sales DROP PARTITION p20240306");
    assert_true(it_wait_stale_partitions(p, "mv_day", "p_20240306_20240307", 0));
    same_as_direct(p, d, MARCH_ALL, "after DROP PARTITION");
    refresh_auto(p, d);
    assert_true(it_wait_stale_partitions(p, "mv_day", "", 0));

    /* a new, empty base partition changes no view partition */
    it_exec_ok(p, "ALTER TABLE sales ADD PARTITION "
               "(PARTITION p20240430 VALUES LESS THAN ('2024-05-01'))");
    usleep(300 * 1000);
    assert_true(it_wait_stale_partitions(p, "mv_day", "", 0));

    it_exec_ok(p, "ALTER TABLE sales REORGANIZE PARTITION p20240301, p20240302 INTO "
               "(PARTITION p0301 VALUES LESS THAN ('2024-03-02'), "
               "PARTITION p0302 VALUES LESS THAN ('2024-03-03'))");
    assert_true(it_wait_stale_partitions(p, "mv_day", "p_20240301_20240302,p_20240302_20240303", 0));
    same_as_direct(p, d, MARCH_ALL, "after REORGANIZE PARTITION");
    refresh_auto(p, d);
    assert_true(it_wait_stale_partitions(p, "mv_day", "", 0));
    sleep(1);

    /* the same DDL straight on MariaDB: seen in the binlog */
    it_exec_ok(d, "ALTER TABLE sales TRUNCATE PARTITION p20240310");
    if (!it_wait_stale_partitions(p, "mv_day", "p_20240310_20240311", 5000)) {
        it_proxy_log_tail(&g_proxy, 30);
        fail_msg("a direct TRUNCATE PARTITION was not narrowed to its partition");
    }
    same_as_direct(p, d, MARCH_ALL, "after a direct TRUNCATE PARTITION");
    refresh_auto(p, d);
    assert_true(it_wait_stale_partitions(p, "mv_day", "", 0));

    /* a sale on the new day: its own storage partition at the AUTO refresh */
    it_exec_ok(p, "INSERT INTO sales (d, region, amount) VALUES ('2024-04-30', 's', 3.00)");
    assert_true(it_wait_stale_partitions(p, "mv_day", "p_20240430_20240501", 0));
    refresh_auto(p, d);
    assert_true(it_wait_stale_partitions(p, "mv_day", "", 0));
    scalar(d, "SELECT COUNT(*) FROM information_schema.PARTITIONS WHERE TABLE_SCHEMA = '" DB
              "' AND TABLE_NAME = 'mv_day' AND PARTITION_NAME = 'p_20240430_20240501'",
           buf, sizeof(buf));
    assert_string_equal(buf, "1");
    scalar(d, "SELECT COUNT(*) FROM mv_day PARTITION (pmax)", buf, sizeof(buf));
    assert_string_equal(buf, "0");
    scalar(d, "SELECT COUNT(*) FROM mv_day PARTITION (p_20240430_20240501)", buf, sizeof(buf));
    assert_string_equal(buf, "1");
    same_as_direct(p, d, MARCH_ALL, "after the new day's refresh");
    mysql_close(d);
    mysql_close(p);
}

/* refresh_partition_num: 3 stale partitions refreshed 2 per batch. */
static void
test_refresh_batches(void **state)
{
    MYSQL *p = PROXY_CONN(), *d = DIRECT_CONN();
    (void)state;
    it_exec_ok(p, "ALTER MATERIALIZED VIEW mv_day SET ('refresh_partition_num' = '2')");
    it_exec_ok(p, "INSERT INTO sales (d, region, amount) VALUES ('2024-03-21', 'n', 1.00), "
               "('2024-03-22', 'n', 1.00), ('2024-03-23', 'n', 1.00)");
    assert_true(it_wait_stale_partitions(p, "mv_day", "p_20240321_20240322,p_20240322_20240323,p_20240323_20240324", 0));
    refresh_auto(p, d);
    assert_non_null(mysql_info(p));
    assert_non_null(strstr(mysql_info(p), "2 batch"));
    assert_true(it_wait_stale_partitions(p, "mv_day", "", 0));
    same_as_direct(p, d, MARCH_ALL, "after a batched refresh");
    mysql_close(d);
    mysql_close(p);
}

/* ALTER ... SET survives a restart, and so do the partition states. */
static void
test_alter_persisted(void **state)
{
    MYSQL *p = PROXY_CONN();
    MYSQL_RES *r;
    MYSQL_ROW row;
    MYSQL_FIELD *f;
    unsigned i, nf;
    bool seen_grace = false, seen_props = false;
    (void)state;
    it_exec_ok(p, "ALTER MATERIALIZED VIEW mv_day SET ('grace_period' = '77', "
               "'query_rewrite_consistency' = 'LOOSE')");
    it_exec_ok(p, "INSERT INTO sales (d, region, amount) VALUES ('2024-04-02', 'e', 2.00)");
    assert_true(it_wait_stale_partitions(p, "mv_day", "p_20240402_20240403", 0));
    mysql_close(p);
    sleep(1); /* the catalog thread persists the marks */
    assert_int_equal(it_proxy_stop(&g_proxy), 0);
    assert_int_equal(it_proxy_start(&g_proxy, &g_env, META, NULL), 0);
    p = PROXY_CONN();
    assert_true(it_wait_stale_partitions(p, "mv_day", "p_20240402_20240403", 0));
    assert_int_equal(mysql_query(p, "SHOW MATERIALIZED VIEWS FROM " DB), 0);
    r = mysql_store_result(p);
    assert_non_null(r);
    nf = mysql_num_fields(r);
    f = mysql_fetch_fields(r);
    row = mysql_fetch_row(r);
    assert_non_null(row);
    for (i = 0; i < nf; i++) {
        if (strcmp(f[i].name, "GracePeriod") == 0) {
            assert_string_equal(row[i], "77");
            seen_grace = true;
        } else if (strcmp(f[i].name, "MvProperties") == 0) {
            assert_non_null(strstr(row[i], "LOOSE"));
            assert_non_null(strstr(row[i], "refresh_partition_num"));
            seen_props = true;
        }
    }
    assert_true(seen_grace && seen_props);
    mysql_free_result(r);
    mysql_close(p);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_create_validation),
        cmocka_unit_test(test_initial_state),
        cmocka_unit_test(test_insert_marks_one_partition),
        cmocka_unit_test(test_union_compensation),
        cmocka_unit_test(test_within_grace),
        cmocka_unit_test(test_beyond_grace),
        cmocka_unit_test(test_auto_refresh_only_stale),
        cmocka_unit_test(test_bypass_write),
        cmocka_unit_test(test_partition_ddl),
        cmocka_unit_test(test_refresh_batches),
        cmocka_unit_test(test_alter_persisted),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
