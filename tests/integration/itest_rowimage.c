/*
 * itest_rowimage.c - direct writes on the base table of a day-partitioned
 * view are narrowed to partitions from the binlog's row images (SPEC §5;
 * engine/cat_rowimage.c, cat_part_rowimage.c cat_part_rows_mark) against the
 * private MariaDB (binlog ROW, binlog_row_image FULL) and a real mvproxy:
 *
 *   base table ev (id INT, amt DECIMAL(12,2), note VARCHAR(20) NULL,
 *   ts DATETIME(3), d DATE, tail TEXT): the partition column d comes after
 *   a mix of fixed, packed, nullable and fractional types;
 *   view mv_ev PARTITION BY (d), grace_period 0.
 *
 *   - a direct INSERT (several rows, NULL note) makes exactly its days
 *     stale within 2 s;
 *   - a direct UPDATE that moves a row from one day to another makes both
 *     days stale (before and after images);
 *   - a direct DELETE makes its day stale;
 *   - none of those used the probe: SHOW MATERIALIZED VIEWS FreshnessSource
 *     counts the row events as exact, none probed, and no fingerprint scan
 *     ran; the proxy's debug log says "exact";
 *   - a DELETE logged with binlog_row_image=MINIMAL (the before image has
 *     only the primary key, not d) falls back to the probe, which still
 *     narrows it to its day; the log says why.
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

#define META "mvp_meta_itri"
#define DB "itri"

static struct it_env g_env;
static struct it_proxy g_proxy;

/* Connections for the tests (the test fails when they cannot be made). */
#define PROXY_CONN() it_must_connect_proxy(&g_proxy, &g_env, DB, 0)
#define DIRECT_CONN() it_must_connect_direct(&g_env, DB, 0)

/* The row-event counters of mv_ev from FreshnessSource:
 * "binlog+probe (row events: N exact, M probed; K scans)". */
static void
counters(MYSQL *p, long *exact, long *probed, long *scans)
{
    MYSQL_RES *r;
    MYSQL_ROW row;
    MYSQL_FIELD *f;
    unsigned i, nf;
    const char *src = NULL, *at;
    assert_int_equal(mysql_query(p, "SHOW MATERIALIZED VIEWS FROM " DB " LIKE 'mv_ev'"), 0);
    r = mysql_store_result(p);
    assert_non_null(r);
    nf = mysql_num_fields(r);
    f = mysql_fetch_fields(r);
    row = mysql_fetch_row(r);
    assert_non_null(row);
    for (i = 0; i < nf; i++) {
        if (strcmp(f[i].name, "FreshnessSource") == 0) {
            src = row[i];
        }
    }
    assert_non_null(src);
    at = strstr(src, "row events: ");
    if (at == NULL || sscanf(at, "row events: %ld exact, %ld probed; %ld scans", exact, probed,
                             scans) != 3) {
        fail_msg("FreshnessSource '%s' has no row-event counters", src);
    }
    assert_non_null(strstr(src, "binlog"));
    mysql_free_result(r);
}

/* Count lines of the proxy's log containing NEEDLE. */
static int
log_count(const char *needle)
{
    FILE *f = fopen(g_proxy.log_path, "r");
    char line[4096];
    int n = 0;
    if (f == NULL) {
        return -1;
    }
    while (fgets(line, sizeof(line), f) != NULL) {
        n += strstr(line, needle) != NULL;
    }
    fclose(f);
    return n;
}

static void
refresh_clean(MYSQL *p)
{
    it_exec_ok(p, "REFRESH MATERIALIZED VIEW mv_ev AUTO");
    assert_true(it_wait_stale_partitions(p, "mv_ev", "", 0));
}

static int
setup(void **state)
{
    static const char *const extra[] = {"--log-level", "debug", NULL};
    MYSQL *d;
    (void)state;
    it_env_load(&g_env);
    setenv("MVPROXY_PROBE_INTERVAL_MS", "300", 1);
    if (it_reset_dbs(&g_env, DB, META, true) != 0 ||
        (d = it_connect_direct(&g_env, NULL, 0)) == NULL) {
        return -1;
    }
    if (it_exec(d, "CREATE TABLE " DB ".ev (id INT NOT NULL PRIMARY KEY, amt DECIMAL(12,2) NOT "
                   "NULL, note VARCHAR(20) NULL, ts DATETIME(3) NOT NULL, d DATE NOT NULL, "
                   "tail TEXT NULL)") != 0 ||
        it_exec(d, "INSERT INTO " DB ".ev SELECT seq, seq * 1.25, IF(seq % 3 = 0, NULL, "
                   "CONCAT('n', seq)), '2024-05-01 10:00:00.123' + INTERVAL seq MINUTE, "
                   "'2024-05-01' + INTERVAL (seq % 10) DAY, REPEAT('t', seq % 50) "
                   "FROM mysql.seq_1_to_500") != 0) {
        mysql_close(d);
        return -1;
    }
    mysql_close(d);
    return it_proxy_start_exec(&g_proxy, &g_env, META, extra, DB,
                               "CREATE MATERIALIZED VIEW mv_ev BUILD IMMEDIATE REFRESH AUTO "
                               "ON MANUAL PARTITION BY (d) PROPERTIES ('grace_period' = '0') "
                               "AS SELECT d, COUNT(*) AS c, SUM(amt) AS s FROM ev GROUP BY d");
}

static int
teardown(void **state)
{
    static const char *const views[] = {"mv_ev", NULL};
    (void)state;
    return it_teardown(&g_proxy, &g_env, DB, META, views);
}

/* INSERT, UPDATE across days, DELETE: exact partitions, no probe. */
static void
test_exact_from_row_images(void **state)
{
    MYSQL *p = PROXY_CONN(), *d = DIRECT_CONN();
    long e0, p0, s0, e1, p1, s1;
    int logged0;
    (void)state;
    refresh_clean(p);
    sleep(1); /* the refresh's own events are behind us */
    counters(p, &e0, &p0, &s0);
    logged0 = log_count("binlog rows on " DB ".ev for " DB ".mv_ev: exact");

    /* several rows, one with a NULL before the partition column */
    it_exec_ok(d, "INSERT INTO ev VALUES (1001, 12.34, NULL, '2024-05-03 23:59:59.999', "
               "'2024-05-03', 'x'), (1002, -0.01, 'abc', '2024-05-08 00:00:00.000', "
               "'2024-05-08', NULL)");
    if (!it_wait_stale_partitions(p, "mv_ev", "p_20240503_20240504,p_20240508_20240509", 2000)) {
        it_proxy_log_tail(&g_proxy, 30);
        fail_msg("a direct INSERT was not narrowed to its partitions within 2 s");
    }
    refresh_clean(p);

    /* a row moves from 2024-05-04 to 2024-05-07: both */
    it_exec_ok(d, "UPDATE ev SET d = '2024-05-07', note = REPEAT('z', 20) WHERE id = 3");
    if (!it_wait_stale_partitions(p, "mv_ev", "p_20240504_20240505,p_20240507_20240508", 2000)) {
        it_proxy_log_tail(&g_proxy, 30);
        fail_msg("a direct UPDATE across days did not mark both partitions within 2 s");
    }
    refresh_clean(p);

    it_exec_ok(d, "DELETE FROM ev WHERE id = 5");
    if (!it_wait_stale_partitions(p, "mv_ev", "p_20240506_20240507", 2000)) {
        it_proxy_log_tail(&g_proxy, 30);
        fail_msg("a direct DELETE was not narrowed to its partition within 2 s");
    }
    sleep(1); /* a probe round would have run meanwhile */
    counters(p, &e1, &p1, &s1);
    assert_int_equal(e1 - e0, 3);
    assert_int_equal(p1 - p0, 0);
    /* refreshes re-take the probe's baseline on the refreshed days only
     * (partial, pruned); no full scan for the writes themselves */
    if (s1 != s0) {
        it_proxy_log_tail(&g_proxy, 40);
        fail_msg("the probe scanned the base table %ld time(s)", s1 - s0);
    }
    assert_int_equal(log_count("binlog rows on " DB ".ev for " DB ".mv_ev: exact") - logged0, 3);
    refresh_clean(p);
    mysql_close(d);
    mysql_close(p);
}

/* binlog_row_image=MINIMAL: the DELETE's before image has only the primary
 * key: the probe narrows it instead, still to its day. */
static void
test_minimal_image_falls_back(void **state)
{
    MYSQL *p = PROXY_CONN(), *d = DIRECT_CONN();
    long e0, p0, s0, e1, p1, s1;
    (void)state;
    refresh_clean(p);
    sleep(1);
    counters(p, &e0, &p0, &s0);
    it_exec_ok(d, "SET SESSION binlog_row_image = 'MINIMAL'");
    it_exec_ok(d, "DELETE FROM ev WHERE id = 12"); /* d = 2024-05-03 */
    if (!it_wait_stale_partitions(p, "mv_ev", "p_20240503_20240504", 3000)) {
        it_proxy_log_tail(&g_proxy, 30);
        fail_msg("a MINIMAL-image DELETE was not narrowed by the probe within 3 s");
    }
    counters(p, &e1, &p1, &s1);
    assert_int_equal(e1 - e0, 0);
    assert_int_equal(p1 - p0, 1);
    assert_true(s1 > s0);
    assert_true(log_count("not in the before image") >= 1);
    refresh_clean(p);
    mysql_close(d);
    mysql_close(p);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exact_from_row_images),
        cmocka_unit_test(test_minimal_image_falls_back),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
