/*
 * itest_shutdown.c - the SIGTERM drain (SPEC §2; proxy/main.c, px_worker.c,
 * px_session.c) against the private MariaDB and a real mvproxy:
 *
 *   drain:    a client runs SELECT SLEEP(2) through the proxy and SIGTERM
 *             arrives during it: the client gets its row; a new connection
 *             attempt during the drain is refused; an idle client's next
 *             query gets ERR 1053 (08S01 "Server shutdown in progress");
 *             the proxy exits 0 once the statement ended (not before, not
 *             much later).
 *   option:   --help lists --shutdown-timeout, a bad value is refused.
 *   timeout:  shutdown_timeout = 1 (config file) and SELECT SLEEP(10): the client gets
 *             ERR 1053 after about 1 s, the proxy exits 0 in bounded time.
 *   mid-result: a client in the middle of a result set when the timeout
 *             passes (rows streamed, then SLEEP) is disconnected (2013):
 *             an ERR cannot come between rows; exit 0.
 *   second:   a second SIGTERM during the drain stops at once (exit 0).
 *   refresh:  a REFRESH blocked (LOCK TABLES ... WRITE held by a direct
 *             session) when SIGTERM arrives finishes once the lock goes,
 *             its client gets OK and its task is SUCCESS; the same past a
 *             1 s timeout: the client gets ERR 1053, and the task row says
 *             FAILED or CANCELED (not RUNNING) after the next start.
 *
 * Environment: MVP_DB_HOST / MVP_DB_PORT, MVP_PROXY_BIN (it_common.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <mysql.h>

#include "it_common.h"

#define META "mvp_meta_itsd"
#define DB "itsd"
#define ER_SERVER_SHUTDOWN 1053

static struct it_env g_env;
static struct it_proxy g_proxy;
static bool g_mv_made;              /* view mv exists */

/* A statement run on its own thread through the proxy. */
struct bg {
    const char *sql;                /* what to run */
    MYSQL *m;                       /* its connection (made before the thread starts) */
    unsigned err;                   /* 0 or the error number */
    char msg[512];                  /* error message */
    char first[128];                /* first column of the first row, "" when none */
    int64_t done_ms;                /* it_mono_ms() when it returned */
};

static void *
bg_main(void *arg)
{
    struct bg *b = arg;
    MYSQL_RES *r;
    MYSQL_ROW row;

    b->first[0] = '\0';
    if (mysql_query(b->m, b->sql) != 0) {
        b->err = mysql_errno(b->m);
        snprintf(b->msg, sizeof(b->msg), "%s", mysql_error(b->m));
    } else if ((r = mysql_store_result(b->m)) != NULL) {
        row = mysql_fetch_row(r);
        if (row != NULL && row[0] != NULL) {
            snprintf(b->first, sizeof(b->first), "%s", row[0]);
        }
        mysql_free_result(r);
    } else if (mysql_errno(b->m) != 0) {
        b->err = mysql_errno(b->m);
        snprintf(b->msg, sizeof(b->msg), "%s", mysql_error(b->m));
    }
    b->done_ms = it_mono_ms();
    return NULL;
}

/* Wait up to WITHIN_MS for the proxy to exit; its exit status, or -1 when it
 * still runs (then it is killed). *AT_MS gets the time of the exit. */
static int
wait_exit(int within_ms, int64_t *at_ms)
{
    int64_t end = it_mono_ms() + within_ms;
    int st;

    while (it_mono_ms() < end) {
        if (waitpid(g_proxy.pid, &st, WNOHANG) == g_proxy.pid) {
            g_proxy.pid = 0;
            *at_ms = it_mono_ms();
            return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        }
        it_sleep_ms(20);
    }
    it_proxy_log_tail(&g_proxy, 30);
    kill(g_proxy.pid, SIGKILL);
    waitpid(g_proxy.pid, &st, 0);
    g_proxy.pid = 0;
    return -1;
}

/* Poll the direct connection D until SQL's first value is "1" (up to WITHIN_MS). */
static bool
wait_true(MYSQL *d, const char *sql, int within_ms)
{
    char v[64];
    int64_t end = it_mono_ms() + within_ms;

    do {
        if (it_first_value(d, sql, v, sizeof(v)) == 0 && strcmp(v, "1") == 0) {
            return true;
        }
        it_sleep_ms(50);
    } while (it_mono_ms() < end);
    return false;
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
    it_exec(d, "CREATE TABLE " DB ".t (id INT PRIMARY KEY, g INT, v INT)");
    it_exec(d, "INSERT INTO " DB ".t VALUES (1, 1, 10), (2, 2, 20)");
    mysql_close(d);
    return 0;
}

static int
teardown(void **state)
{
    static const char *const views[] = {"mv", NULL};

    (void)state;
    if (g_proxy.pid == 0 && it_proxy_start(&g_proxy, &g_env, META, NULL) != 0) {
        return -1;
    }
    return it_teardown(&g_proxy, &g_env, DB, META, views);
}

/* SIGTERM during SELECT SLEEP(2): the row arrives, new connections are
 * refused, an idle client gets ERR 1053, exit 0 after the statement. */
static void
test_drain(void **state)
{
    static const char *const args[] = {"--shutdown-timeout", "20", NULL};
    struct bg b = {.sql = "SELECT 42, SLEEP(2)"};
    MYSQL *idle, *idle2, *m;
    pthread_t t;
    int64_t sig_ms, exit_ms;
    char err[512];
    unsigned code = 0;

    (void)state;
    assert_int_equal(it_proxy_start(&g_proxy, &g_env, META, args), 0);
    idle = it_must_connect_proxy(&g_proxy, &g_env, DB, 0);
    it_exec_ok(idle, "SELECT 1");
    idle2 = it_must_connect_proxy(&g_proxy, &g_env, DB, 0);
    it_exec_ok(idle2, "SELECT 1");
    b.m = it_must_connect_proxy(&g_proxy, &g_env, DB, 0);
    pthread_create(&t, NULL, bg_main, &b);
    it_sleep_ms(500);
    sig_ms = it_mono_ms();
    assert_int_equal(kill(g_proxy.pid, SIGTERM), 0);
    it_sleep_ms(300);

    /* the listener is closed: a new connection is refused */
    m = it_connect("127.0.0.1", g_proxy.port, g_env.db_user, g_env.db_password, DB, 0, err,
                   &code);
    print_message("new connection during the drain: %s\n", m == NULL ? err : "accepted");
    assert_null(m);
    assert_true(code == 2002 || code == 2003); /* CR_CONNECTION_ERROR / CR_CONN_HOST_ERROR */

    /* the idle client's next command: ERR 1053, not relayed */
    assert_int_not_equal(it_exec(idle, "SELECT 1"), 0);
    print_message("idle client: %u %s (%s)\n", mysql_errno(idle), mysql_error(idle),
                  mysql_sqlstate(idle));
    assert_int_equal(mysql_errno(idle), ER_SERVER_SHUTDOWN);
    assert_string_equal(mysql_sqlstate(idle), "08S01");
    mysql_close(idle);

    /* the statement in flight gets its whole result */
    pthread_join(t, NULL);
    mysql_close(b.m);
    print_message("in-flight statement: err %u '%s', row '%s' after %lld ms\n", b.err, b.msg,
                  b.first, (long long)(b.done_ms - sig_ms));
    assert_int_equal(b.err, 0);
    assert_string_equal(b.first, "42");

    /* ... and the proxy then exits 0, soon after it */
    assert_int_equal(wait_exit(10000, &exit_ms), 0);
    print_message("proxy exited %lld ms after SIGTERM\n", (long long)(exit_ms - sig_ms));
    assert_true(exit_ms >= b.done_ms - 100);
    assert_true(exit_ms - b.done_ms < 2000);

    /* a client idle through the whole drain was told and closed: its next
     * command fails (never hangs, never reaches a backend) */
    assert_int_not_equal(it_exec(idle2, "SELECT 1"), 0);
    print_message("client idle through the drain, next command: %u %s\n", mysql_errno(idle2),
                  mysql_error(idle2));
    assert_true(mysql_errno(idle2) == ER_SERVER_SHUTDOWN || mysql_errno(idle2) == 2013 ||
                mysql_errno(idle2) == 2006);
    mysql_close(idle2);
}

/* The option: --help lists it, a bad value is refused with a reason. */
static void
test_option(void **state)
{
    char cmd[1200], out[8192];
    size_t n;
    FILE *f;

    (void)state;
    snprintf(cmd, sizeof(cmd), "'%s' --help 2>&1", g_env.proxy_bin);
    f = popen(cmd, "r");
    assert_non_null(f);
    n = fread(out, 1, sizeof(out) - 1, f);
    out[n] = '\0';
    assert_int_equal(pclose(f), 0);
    assert_non_null(strstr(out, "--shutdown-timeout SECS"));
    snprintf(cmd, sizeof(cmd), "'%s' --shutdown-timeout soon 2>&1", g_env.proxy_bin);
    f = popen(cmd, "r");
    assert_non_null(f);
    n = fread(out, 1, sizeof(out) - 1, f);
    out[n] = '\0';
    assert_int_not_equal(pclose(f), 0);
    print_message("bad value: %s", out);
    assert_non_null(strstr(out, "bad shutdown timeout 'soon'"));
}

/* shutdown_timeout = 1 (config file) and SELECT SLEEP(10): ERR 1053 after
 * ~1 s, exit 0. */
static void
test_timeout(void **state)
{
    static const char *const args[] = {"--config", "itest_shutdown.conf", NULL};
    struct bg b = {.sql = "SELECT SLEEP(10)"};
    pthread_t t;
    int64_t sig_ms, exit_ms;
    FILE *f;

    (void)state;
    f = fopen("itest_shutdown.conf", "w");
    assert_non_null(f);
    fputs("[mvproxy]\nshutdown_timeout = 1\n", f);
    fclose(f);
    assert_int_equal(it_proxy_start(&g_proxy, &g_env, META, args), 0);
    unlink("itest_shutdown.conf"); /* read at the start */
    b.m = it_must_connect_proxy(&g_proxy, &g_env, DB, 0);
    pthread_create(&t, NULL, bg_main, &b);
    it_sleep_ms(400);
    sig_ms = it_mono_ms();
    assert_int_equal(kill(g_proxy.pid, SIGTERM), 0);
    assert_int_equal(wait_exit(6000, &exit_ms), 0);
    pthread_join(t, NULL);
    mysql_close(b.m);
    print_message("cut-off statement: %u %s after %lld ms; exit after %lld ms\n", b.err, b.msg,
                  (long long)(b.done_ms - sig_ms), (long long)(exit_ms - sig_ms));
    assert_int_equal(b.err, ER_SERVER_SHUTDOWN);
    assert_non_null(strstr(b.msg, "shutdown"));
    assert_true(b.done_ms - sig_ms >= 900);
    assert_true(b.done_ms - sig_ms < 4000);
    assert_true(exit_ms - sig_ms < 4000);
}

/* Past the timeout, a client in the middle of a result set is disconnected. */
static void
test_mid_result(void **state)
{
    static const char *const args[] = {"--shutdown-timeout", "1", NULL};
    MYSQL *m;
    MYSQL_RES *r;
    MYSQL_ROW row;
    unsigned long rows = 0;
    int64_t sig_ms, exit_ms, end_ms;

    (void)state;
    assert_int_equal(it_proxy_start(&g_proxy, &g_env, META, args), 0);
    m = it_must_connect_proxy(&g_proxy, &g_env, DB, 0);
    /* 299 rows of 2 kB stream at once, then the server sleeps 10 s */
    assert_int_equal(mysql_query(m, "SELECT seq, REPEAT('x', 2000), SLEEP(IF(seq = 300, 10, 0)) "
                                    "FROM mysql.seq_1_to_400"), 0);
    r = mysql_use_result(m);
    assert_non_null(r);
    while (rows < 200 && (row = mysql_fetch_row(r)) != NULL) {
        rows++;
    }
    assert_int_equal(rows, 200);
    sig_ms = it_mono_ms();
    assert_int_equal(kill(g_proxy.pid, SIGTERM), 0);
    while ((row = mysql_fetch_row(r)) != NULL) {
        rows++;
    }
    end_ms = it_mono_ms();
    print_message("mid-result client: %lu rows, then %u %s after %lld ms\n", rows,
                  mysql_errno(m), mysql_error(m), (long long)(end_ms - sig_ms));
    assert_true(rows < 400);
    assert_int_equal(mysql_errno(m), 2013); /* CR_SERVER_LOST */
    assert_true(end_ms - sig_ms >= 900 && end_ms - sig_ms < 4000);
    mysql_free_result(r);
    mysql_close(m);
    assert_int_equal(wait_exit(6000, &exit_ms), 0);
}

/* A second SIGTERM during the drain stops now. */
static void
test_second_signal(void **state)
{
    static const char *const args[] = {"--shutdown-timeout", "30", NULL};
    struct bg b = {.sql = "SELECT SLEEP(8)"};
    pthread_t t;
    int64_t sig_ms, exit_ms;

    (void)state;
    assert_int_equal(it_proxy_start(&g_proxy, &g_env, META, args), 0);
    b.m = it_must_connect_proxy(&g_proxy, &g_env, DB, 0);
    pthread_create(&t, NULL, bg_main, &b);
    it_sleep_ms(400);
    assert_int_equal(kill(g_proxy.pid, SIGTERM), 0);
    it_sleep_ms(500);
    sig_ms = it_mono_ms();
    assert_int_equal(kill(g_proxy.pid, SIGINT), 0);
    assert_int_equal(wait_exit(5000, &exit_ms), 0);
    pthread_join(t, NULL);
    mysql_close(b.m);
    print_message("second signal: client %u %s; exit after %lld ms\n", b.err, b.msg,
                  (long long)(exit_ms - sig_ms));
    assert_int_equal(b.err, ER_SERVER_SHUTDOWN);
    assert_true(exit_ms - sig_ms < 3000);
}

/*
 * A REFRESH blocked on LOCK TABLES when SIGTERM arrives: with the lock
 * released within the timeout it finishes (OK, task SUCCESS); with
 * HOLD_MS past a 1 s timeout it is cut off (ERR 1053, task FAILED or
 * CANCELED once the proxy runs again). The ERR is 1053 even though the
 * drain's cancel (1317) ends the admin job before the workers stop: the
 * workers are marked cut off first (px_worker_cut).
 */
static void
refresh_case(const char *timeout, int hold_ms, bool finishes)
{
    const char *const args[] = {"--shutdown-timeout", timeout, NULL};
    struct bg b = {.sql = "REFRESH MATERIALIZED VIEW mv COMPLETE"};
    MYSQL *p, *d, *holder;
    pthread_t t;
    int64_t exit_ms;
    char v[64], sql[256];
    long long before;

    assert_int_equal(it_proxy_start(&g_proxy, &g_env, META, args), 0);
    p = it_must_connect_proxy(&g_proxy, &g_env, DB, 0);
    if (!g_mv_made) {
        g_mv_made = true;
        it_exec_ok(p, "CREATE MATERIALIZED VIEW mv BUILD IMMEDIATE REFRESH COMPLETE ON MANUAL "
                      "AS SELECT g, SUM(v) AS s FROM t GROUP BY g");
    }
    mysql_close(p);
    d = it_must_connect_direct(&g_env, NULL, 0);
    it_first_value(d, "SELECT COALESCE(MAX(task_id), 0) FROM " META ".tasks", v, sizeof(v));
    before = atoll(v);
    holder = it_must_connect_direct(&g_env, DB, 0);
    it_exec_ok(holder, "LOCK TABLES t WRITE");
    b.m = it_must_connect_proxy(&g_proxy, &g_env, DB, 0);
    pthread_create(&t, NULL, bg_main, &b);
    snprintf(sql, sizeof(sql),
             "SELECT COUNT(*) > 0 FROM " META ".tasks WHERE task_id > %lld AND status = 'RUNNING'",
             before);
    assert_true(wait_true(d, sql, 10000));
    it_sleep_ms(200);
    assert_int_equal(kill(g_proxy.pid, SIGTERM), 0);
    it_sleep_ms(hold_ms);
    it_exec_ok(holder, "UNLOCK TABLES");
    mysql_close(holder);
    assert_int_equal(wait_exit(15000, &exit_ms), 0);
    pthread_join(t, NULL);
    mysql_close(b.m);
    print_message("REFRESH at SIGTERM (timeout %s s, lock held %d ms): %u %s\n", timeout,
                  hold_ms, b.err, b.msg);
    if (finishes) {
        assert_int_equal(b.err, 0);
    } else {
        assert_int_equal(b.err, ER_SERVER_SHUTDOWN);
    }
    /* the task's end as the next proxy sees it */
    assert_int_equal(it_proxy_start(&g_proxy, &g_env, META, NULL), 0);
    snprintf(sql, sizeof(sql),
             "SELECT status FROM " META ".tasks WHERE task_id > %lld ORDER BY task_id LIMIT 1",
             before);
    assert_int_equal(it_first_value(d, sql, v, sizeof(v)), 0);
    print_message("its task: %s\n", v);
    if (finishes) {
        assert_string_equal(v, "SUCCESS");
    } else {
        assert_true(strcmp(v, "FAILED") == 0 || strcmp(v, "CANCELED") == 0);
    }
    mysql_close(d);
    assert_int_equal(it_proxy_stop(&g_proxy), 0);
}

static void
test_refresh_finishes(void **state)
{
    (void)state;
    refresh_case("20", 1000, true);
}

static void
test_refresh_cut_off(void **state)
{
    (void)state;
    refresh_case("1", 3000, false);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_option),
        cmocka_unit_test(test_drain),
        cmocka_unit_test(test_timeout),
        cmocka_unit_test(test_mid_result),
        cmocka_unit_test(test_second_signal),
        cmocka_unit_test(test_refresh_finishes),
        cmocka_unit_test(test_refresh_cut_off),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
