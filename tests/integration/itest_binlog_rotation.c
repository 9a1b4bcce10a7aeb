/*
 * itest_binlog_rotation.c - the binlog follower's position across binlog
 * rotation, proxy restarts and PURGE (SPEC §5; engine/cat_binlog.c)
 * against the private MariaDB (binlog on, ROW) and a real mvproxy. View
 * mv_ev PARTITION BY (d) over ev, grace_period 0, so every spurious or
 * missed mark shows in SHOW PARTITIONS:
 *
 *   - rotation while running: FLUSH BINARY LOGS three times with writes to
 *     an unrelated table between: no partition goes stale; then a write to
 *     ev after the last rotation marks exactly its day; the stored position
 *     is "<server_id> <pos> <file>" with the current binlog file;
 *   - restart after rotation: the proxy stops after a FLUSH BINARY LOGS, the
 *     stored value names the file it was in; restarted, nothing is stale;
 *     stopped again, FLUSH BINARY LOGS and a write to one day while it is
 *     down: after the start exactly that day is stale;
 *   - PURGE BINARY LOGS of the stored file while the proxy is down: at the
 *     start every partition is stale (the safe side), the log and SHOW
 *     MATERIALIZED VIEWS' FreshnessSource say why, and the follower goes on
 *     from the current end (a later write marks exactly its day).
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

#define META "mvp_meta_itbr"
#define DB "itbr"
#define ALL_DAYS "p_20240501_20240502,p_20240502_20240503,p_20240503_20240504"

static struct it_env g_env;
static struct it_proxy g_proxy;

#define PROXY_CONN() it_must_connect_proxy(&g_proxy, &g_env, DB, 0)
#define DIRECT_CONN() it_must_connect_direct(&g_env, DB, 0)

/* The stored follower position (meta.binlog_position) into BUF; "" when none. */
static void
stored_pos(MYSQL *d, char *buf, size_t len)
{
    if (it_first_value(d, "SELECT v FROM " META ".meta WHERE k = 'binlog_position'", buf, len) !=
        0) {
        buf[0] = '\0';
    }
}

/* The current binlog file (SHOW MASTER STATUS) into BUF. */
static void
master_file(MYSQL *d, char *buf, size_t len)
{
    assert_int_equal(it_first_value(d, "SHOW MASTER STATUS", buf, len), 0);
}

/* Wait up to WITHIN_MS until the stored position is well formed and in FILE. */
static bool
wait_stored_in(MYSQL *d, const char *file, int within_ms)
{
    char v[512], f[300];
    unsigned long long sid, pos;
    int64_t end = it_mono_ms() + within_ms;

    for (;;) {
        stored_pos(d, v, sizeof(v));
        if (sscanf(v, "%llu %llu %299s", &sid, &pos, f) == 3 && strcmp(f, file) == 0 && pos >= 4) {
            return true;
        }
        if (it_mono_ms() >= end) {
            fprintf(stderr, "stored position '%s', wanted one in %s\n", v, file);
            return false;
        }
        it_sleep_ms(100);
    }
}

/* REFRESH through P until no partition is stale. */
static void
refresh_clean(MYSQL *p)
{
    it_exec_ok(p, "REFRESH MATERIALIZED VIEW mv_ev AUTO");
    assert_true(it_wait_stale_partitions(p, "mv_ev", "", 0));
}

/* Count lines of the proxy log containing NEEDLE. */
static int
log_count(const char *needle)
{
    char line[4096];
    int n = 0;
    FILE *f = fopen(g_proxy.log_path, "r");

    if (f == NULL) {
        return 0;
    }
    while (fgets(line, sizeof(line), f) != NULL) {
        n += strstr(line, needle) != NULL;
    }
    fclose(f);
    return n;
}

/* FreshnessSource of mv_ev in SHOW MATERIALIZED VIEWS into BUF. */
static void
freshness_source(MYSQL *p, char *buf, size_t len)
{
    MYSQL_RES *r;
    MYSQL_ROW row;
    int fi;

    buf[0] = '\0';
    assert_int_equal(mysql_query(p, "SHOW MATERIALIZED VIEWS FROM " DB), 0);
    r = mysql_store_result(p);
    assert_non_null(r);
    fi = it_field_index(r, "FreshnessSource");
    assert_true(fi >= 0);
    row = mysql_fetch_row(r);
    if (row != NULL && row[fi] != NULL) {
        snprintf(buf, len, "%s", row[fi]);
    }
    mysql_free_result(r);
}

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
    it_exec(d, "CREATE TABLE " DB ".ev (id INT PRIMARY KEY, d DATE NOT NULL, amt INT)");
    it_exec(d, "CREATE TABLE " DB ".other (id INT PRIMARY KEY)");
    it_exec(d, "INSERT INTO " DB ".ev SELECT seq, '2024-05-01' + INTERVAL (seq % 3) DAY, seq "
               "FROM mysql.seq_1_to_30");
    mysql_close(d);
    return it_proxy_start_exec(&g_proxy, &g_env, META, NULL, DB,
                               "CREATE MATERIALIZED VIEW mv_ev BUILD IMMEDIATE REFRESH AUTO ON "
                               "MANUAL PARTITION BY (d) PROPERTIES ('grace_period' = '0') AS "
                               "SELECT d, COUNT(*) AS c, SUM(amt) AS s FROM ev GROUP BY d");
}

static int
teardown(void **state)
{
    static const char *const views[] = {"mv_ev", NULL};

    (void)state;
    if (g_proxy.pid == 0 && it_proxy_start(&g_proxy, &g_env, META, NULL) != 0) {
        return -1;
    }
    return it_teardown(&g_proxy, &g_env, DB, META, views);
}

/* FLUSH BINARY LOGS while the follower runs: nothing missed, nothing spurious. */
static void
test_rotation_while_running(void **state)
{
    MYSQL *p = PROXY_CONN(), *d = DIRECT_CONN();
    char file[300], v[512];
    int i;

    (void)state;
    refresh_clean(p);
    it_sleep_ms(1000); /* the refresh's own events are behind us */
    for (i = 0; i < 3; i++) {
        it_exec_ok(d, "FLUSH BINARY LOGS");
        snprintf(v, sizeof(v), "INSERT INTO other VALUES (%d)", 100 + i);
        it_exec_ok(d, v);
        it_sleep_ms(300);
    }
    it_sleep_ms(1500);
    assert_true(it_wait_stale_partitions(p, "mv_ev", "", 0));
    master_file(d, file, sizeof(file));
    if (!wait_stored_in(d, file, 3000)) {
        it_proxy_log_tail(&g_proxy, 30);
        fail_msg("the stored position does not follow the rotation");
    }
    stored_pos(d, v, sizeof(v));
    print_message("after 3 rotations: stored '%s', current file %s\n", v, file);
    /* a write in the newest file marks exactly its day */
    it_exec_ok(d, "UPDATE ev SET amt = amt + 1 WHERE id = 3"); /* day 2024-05-01 */
    if (!it_wait_stale_partitions(p, "mv_ev", "p_20240501_20240502", 2000)) {
        it_proxy_log_tail(&g_proxy, 30);
        fail_msg("a write after the rotations was missed");
    }
    mysql_close(d);
    mysql_close(p);
}

/* Proxy restarts across rotations: resume at file:pos, no spurious marks,
 * a write made while it was down marks exactly its day. */
static void
test_restart_after_rotation(void **state)
{
    MYSQL *p = PROXY_CONN(), *d = DIRECT_CONN();
    char file[300], v[512];

    (void)state;
    refresh_clean(p);
    it_sleep_ms(1000);
    it_exec_ok(d, "FLUSH BINARY LOGS");
    it_exec_ok(d, "INSERT INTO other VALUES (200)");
    master_file(d, file, sizeof(file));
    assert_true(wait_stored_in(d, file, 3000));
    mysql_close(p);
    assert_int_equal(it_proxy_stop(&g_proxy), 0);
    stored_pos(d, v, sizeof(v));
    print_message("stored at stop: '%s' (current file %s)\n", v, file);
    assert_true(wait_stored_in(d, file, 0));

    /* restarted: it resumes there, and nothing is stale */
    assert_int_equal(it_proxy_start(&g_proxy, &g_env, META, NULL), 0);
    p = PROXY_CONN();
    it_sleep_ms(1500);
    if (!it_wait_stale_partitions(p, "mv_ev", "", 0)) {
        it_proxy_log_tail(&g_proxy, 30);
        fail_msg("a restart after a rotation marked the view stale");
    }
    assert_int_not_equal(log_count("resuming at the stored position"), 0);
    mysql_close(p);

    /* down again: rotation and a write while no proxy runs */
    assert_int_equal(it_proxy_stop(&g_proxy), 0);
    it_exec_ok(d, "FLUSH BINARY LOGS");
    it_exec_ok(d, "UPDATE ev SET amt = amt + 1 WHERE id = 4"); /* day 2024-05-02 */
    it_exec_ok(d, "FLUSH BINARY LOGS");
    assert_int_equal(it_proxy_start(&g_proxy, &g_env, META, NULL), 0);
    p = PROXY_CONN();
    if (!it_wait_stale_partitions(p, "mv_ev", "p_20240502_20240503", 3000)) {
        it_proxy_log_tail(&g_proxy, 30);
        fail_msg("a write made while the proxy was down (across rotations) was not seen");
    }
    it_sleep_ms(500);
    assert_true(it_wait_stale_partitions(p, "mv_ev", "p_20240502_20240503", 0));
    mysql_close(d);
    mysql_close(p);
}

/* The stored file purged while the proxy is down: everything stale, said so,
 * and the follower continues from the current end. */
static void
test_purge_while_down(void **state)
{
    MYSQL *p = PROXY_CONN(), *d = DIRECT_CONN();
    char file[300], v[512], src[512], sql[400];

    (void)state;
    refresh_clean(p);
    it_sleep_ms(1000);
    it_exec_ok(d, "INSERT INTO other VALUES (300)");
    master_file(d, file, sizeof(file));
    assert_true(wait_stored_in(d, file, 3000));
    mysql_close(p);
    assert_int_equal(it_proxy_stop(&g_proxy), 0);
    stored_pos(d, v, sizeof(v));
    /* MariaDB keeps a file its binlog checkpoint still needs: rotate and
     * purge until the stored file is really gone */
    {
        char old[300], cnt[300];
        unsigned long long sid, pos;
        int64_t end = it_mono_ms() + 10000;
        assert_int_equal(sscanf(v, "%llu %llu %299s", &sid, &pos, old), 3);
        for (;;) {
            it_exec_ok(d, "FLUSH BINARY LOGS");
            master_file(d, file, sizeof(file));
            snprintf(sql, sizeof(sql), "PURGE BINARY LOGS TO '%s'", file);
            it_exec_ok(d, sql);
            it_first_value(d, "SHOW BINARY LOGS", cnt, sizeof(cnt));
            if (strcmp(cnt, old) > 0) {
                break; /* the oldest file left comes after the stored one */
            }
            assert_true(it_mono_ms() < end);
            it_sleep_ms(300);
        }
        print_message("stored '%s'; purged up to %s (oldest left %s)\n", v, file, cnt);
    }

    assert_int_equal(it_proxy_start(&g_proxy, &g_env, META, NULL), 0);
    p = PROXY_CONN();
    if (!it_wait_stale_partitions(p, "mv_ev", ALL_DAYS, 2000)) {
        it_proxy_log_tail(&g_proxy, 30);
        fail_msg("a purged position did not mark every partition stale");
    }
    assert_int_not_equal(log_count("is not available"), 0);
    freshness_source(p, src, sizeof(src));
    print_message("FreshnessSource: %s\n", src);
    assert_true(strncmp(src, "binlog", 6) == 0);
    assert_non_null(strstr(src, "purged"));

    /* it follows on from the current end */
    refresh_clean(p);
    it_sleep_ms(1000);
    it_exec_ok(d, "UPDATE ev SET amt = amt + 1 WHERE id = 5"); /* day 2024-05-03 */
    if (!it_wait_stale_partitions(p, "mv_ev", "p_20240503_20240504", 2000)) {
        it_proxy_log_tail(&g_proxy, 30);
        fail_msg("after a purged position the follower does not follow");
    }
    mysql_close(d);
    mysql_close(p);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rotation_while_running),
        cmocka_unit_test(test_restart_after_rotation),
        cmocka_unit_test(test_purge_while_down),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
