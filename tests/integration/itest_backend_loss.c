/*
 * itest_backend_loss.c - the backend dies while a refresh is in flight
 * (SPEC §6 "a failed refresh leaves the view as it was", §9 tasks, §2 the
 * relay). The shared test MariaDB must not die, so this test starts its own
 * private instance with scripts/mariadb.sh (MVP_RUN_DIR = a fresh directory
 * under /tmp), kills that mariadbd with SIGKILL, and starts it again on the
 * same port:
 *
 *   view mv REFRESH COMPLETE ON COMMIT, grace_period 0, over sales JOIN gate.
 *   A direct session holds LOCK TABLES gate WRITE, so the refresh triggered
 *   by an INSERT through the proxy blocks inside its fill step (staging
 *   table created, INSERT ... SELECT waiting): in flight however fast the
 *   machine is. A manual REFRESH of a second view mvm (ON MANUAL, same
 *   definition) blocks the same way, and a client query (SELECT SLEEP(60))
 *   runs through the proxy too.
 *
 *   backend killed:
 *     - the in-flight REFRESH gets an ERR naming the view and the step;
 *     - the in-flight client query gets an ERR packet from the proxy (1158
 *       08S01 "Lost connection to backend"), not a silent close;
 *     - an idle session's next command gets an ERR, a new session is refused
 *       with ERR 1158 "Can't connect to backend ...";
 *     - the proxy process stays up.
 *   backend back (same port):
 *     - the task of the killed refresh is FAILED with the backend's error
 *       text (the step and "Lost connection"/"gone away"), not left RUNNING
 *       and not blamed on a stopped proxy; mvm's task too, and its staging
 *       table (no retry will run for a manual view) is dropped;
 *     - until the retry, the view's table holds its old rows and a query is
 *       answered with the base's rows (never from a half-built table);
 *     - the scheduler's retry (backoff) refreshes the view: a later task is
 *       SUCCESS, the view holds the new rows and is CHOSEN again, staging
 *       tables are gone;
 *     - new sessions are accepted and answered;
 *     - the binlog follower reconnected and resumed (FreshnessSource is
 *       "binlog" with no position loss), follows the binlog file the
 *       restarted server writes: a DIRECT write to sales makes mv stale and
 *       its ON COMMIT refresh runs, and the stored follower position names
 *       that new file.
 *
 * Environment: MVP_DB_PORT etc. (it_common.h; the shared instance is only
 * used for it_env_load), MVP_SOURCE_DIR (default: derived from __FILE__) to
 * find scripts/mariadb.sh. Runtime about 7 s (two MariaDB starts).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <mysql.h>

#include "it_common.h"

/* The proxy reports client-range errors (2003, 2013) to clients as this
 * server error, SQLSTATE 08S01, with its own text (px_mysql_build_err). */
#define ER_NET_READ_ERROR 1158

#define DB "itloss"
#define META "mvp_meta_itloss"
#define VIEW_DEF                                                                                  \
    "SELECT s.g, SUM(s.v) AS sv, COUNT(*) AS c FROM sales s JOIN gate ON gate.g = s.g "          \
    "GROUP BY s.g"
#define QUERY "SELECT s.g, SUM(s.v) FROM sales s JOIN gate ON gate.g = s.g GROUP BY s.g"
/* Refresh steps blocked on the gate: the fill of a staging table, or the
 * owner view it reads through (cat_refresh_src), whose CREATE must open the
 * locked table first. One per blocked refresh (mv, then mvm). */
#define BLOCKED_STEPS                                                                             \
    "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE INFO LIKE 'INSERT INTO `" DB      \
    "`.`mv\\_\\_mvp\\_new`%' OR INFO LIKE 'INSERT INTO `" DB "`.`mvm\\_\\_mvp\\_new`%' OR INFO"     \
    " LIKE 'CREATE OR REPLACE DEFINER=% VIEW `" META "`.`mvp\\_src\\_%'"
static struct it_env g_env;         /* points at the private instance below */
static struct it_proxy g_proxy;
static char g_dir[256];             /* MVP_RUN_DIR of the private instance */
static char g_script[1024];         /* scripts/mariadb.sh */
static unsigned g_port;             /* its port (kept across the restart) */
static struct it_rows g_old_rows;   /* mv's rows before the backend died */
static long long g_failed_tid;      /* mv's task killed with the backend */
static long long g_manual_tid;      /* mvm's (manual REFRESH) task killed with it */

/* ---- the private MariaDB ------------------------------------------------ */

/* Run scripts/mariadb.sh ACTION on g_dir (port g_port when set). 0 = ok. */
static int
db_script(const char *action)
{
    char log[300], port[16];
    pid_t pid;
    int st, fd;

    snprintf(log, sizeof(log), "%s/script.log", g_dir);
    pid = fork();
    if (pid < 0) {
        return -1;
    }
    if (pid == 0) {
        fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (fd >= 0) {
            dup2(fd, STDOUT_FILENO);
            dup2(fd, STDERR_FILENO);
            close(fd);
        }
        setenv("MVP_RUN_DIR", g_dir, 1);
        setenv("MVP_DB_BUFFER_POOL", "64M", 1);
        if (g_port != 0) {
            snprintf(port, sizeof(port), "%u", g_port);
            setenv("MVP_DB_PORT", port, 1);
        } else {
            unsetenv("MVP_DB_PORT");
        }
        execlp("bash", "bash", g_script, action, (char *)NULL);
        _exit(127);
    }
    if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        char cmd[400];
        fprintf(stderr, "mariadb.sh %s failed; its log:\n", action);
        snprintf(cmd, sizeof(cmd), "tail -n 20 '%s' >&2", log);
        if (system(cmd) != 0) {
            fprintf(stderr, "(no log)\n");
        }
        return -1;
    }
    return 0;
}

/* Start the instance; on the first start read its port from its env file. */
static int
db_start(void)
{
    char path[300], line[256];
    FILE *f;

    if (db_script("start") != 0) {
        return -1;
    }
    if (g_port != 0) {
        return 0;
    }
    snprintf(path, sizeof(path), "%s/env", g_dir);
    f = fopen(path, "r");
    if (f == NULL) {
        return -1;
    }
    while (fgets(line, sizeof(line), f) != NULL) {
        if (strncmp(line, "MVP_DB_PORT=", 12) == 0) {
            g_port = (unsigned)atoi(line + 12);
        }
    }
    fclose(f);
    return g_port != 0 ? 0 : -1;
}

/* The pid of the instance's mariadbd (pid file), 0 when unknown. */
static pid_t
db_pid(void)
{
    char path[300];
    long pid = 0;
    FILE *f;

    snprintf(path, sizeof(path), "%s/mysqld.pid", g_dir);
    f = fopen(path, "r");
    if (f != NULL) {
        if (fscanf(f, "%ld", &pid) != 1) {
            pid = 0;
        }
        fclose(f);
    }
    return (pid_t)pid;
}

/* True while PID exists and is not a zombie. */
static bool
pid_running(pid_t pid)
{
    char path[64], buf[512], *p;
    FILE *f;
    size_t n;

    snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
    f = fopen(path, "r");
    if (f == NULL) {
        return false;
    }
    n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    p = strrchr(buf, ')');
    return p != NULL && p[1] == ' ' && p[2] != 'Z' && p[2] != 'X';
}

/* SIGKILL the instance's mariadbd (the one this test started) and wait until it is gone. */
static void
db_kill(void)
{
    pid_t pid = db_pid();
    int i;

    assert_true(pid > 0);
    assert_int_equal(kill(pid, SIGKILL), 0);
    for (i = 0; i < 200 && pid_running(pid); i++) {
        it_sleep_ms(50);
    }
    assert_false(pid_running(pid));
    /* A zombie nobody reaped yet still passes `kill -0`: drop the pid file so
     * that mariadb.sh does not take the dead server for a running one. */
    {
        char path[300];
        snprintf(path, sizeof(path), "%s/mysqld.pid", g_dir);
        unlink(path);
    }
}

/* ---- helpers ------------------------------------------------------------ */

/* Integer value of SQL's first column (-1 on error or no row). */
static long long
num(MYSQL *m, const char *sql)
{
    char buf[64];

    if (it_first_value(m, sql, buf, sizeof(buf)) != 0 || buf[0] == '\0') {
        return -1;
    }
    return atoll(buf);
}

/* Poll SQL on M every 100 ms for up to SECS until its number is >= AT_LEAST. */
static long long
wait_num(MYSQL *m, const char *sql, long long at_least, int secs)
{
    int64_t end = it_mono_ms() + secs * 1000;
    long long v;

    for (;;) {
        v = num(m, sql);
        if (v >= at_least || it_mono_ms() >= end) {
            return v;
        }
        it_sleep_ms(100);
    }
}

/* Status of view DB.mv in EXPLAIN REWRITE QUERY through M ("" when no row). */
static void
explain_status(MYSQL *m, char *status, size_t len)
{
    MYSQL_RES *r;
    MYSQL_ROW row;

    status[0] = '\0';
    if (mysql_query(m, "EXPLAIN REWRITE " QUERY) != 0) {
        fail_msg("EXPLAIN REWRITE: %s", mysql_error(m));
    }
    r = mysql_store_result(m);
    assert_non_null(r);
    while ((row = mysql_fetch_row(r)) != NULL) {
        if (row[0] != NULL && strcmp(row[0], DB ".mv") == 0) {
            snprintf(status, len, "%s", row[1] ? row[1] : "");
        }
    }
    mysql_free_result(r);
}

/* QUERY through the proxy P and directly on D return the same rows. */
static void
same_rows(MYSQL *p, MYSQL *d, const char *what)
{
    struct it_rows a, b;

    assert_int_equal(it_query_rows(p, QUERY, &a), 0);
    assert_int_equal(it_query_rows(d, QUERY, &b), 0);
    if (!it_rows_equal(&a, &b)) {
        it_rows_dump("proxy", &a, 10);
        it_rows_dump("direct", &b, 10);
        fail_msg("%s: the proxy's rows differ from MariaDB's", what);
    }
    it_rows_free(&a);
    it_rows_free(&b);
}

/* A client statement in another thread: it blocks its connection. */
struct bg {
    MYSQL *m;                       /* connected to the proxy (owned by the caller) */
    const char *sql;                /* statement */
    unsigned err;                   /* its error number, 0 = success */
    char msg[512];                  /* its error text */
};

static void *
bg_main(void *arg)
{
    struct bg *b = arg;
    struct it_rows r;

    b->err = it_query_rows(b->m, b->sql, &r);
    snprintf(b->msg, sizeof(b->msg), "%s", b->err ? mysql_error(b->m) : "");
    it_rows_free(&r);
    return NULL;
}

/* ---- setup -------------------------------------------------------------- */

static int
setup(void **state)
{
    static const char *const extra[] = {"--commit-debounce-ms", "200", "--refresh-tasks", "2",
                                        NULL};
    const char *src = getenv("MVP_SOURCE_DIR");
    MYSQL *d;
    (void)state;
    it_env_load(&g_env);
    if (src != NULL) {
        snprintf(g_script, sizeof(g_script), "%s/scripts/mariadb.sh", src);
    } else {
        /* __FILE__ is <root>/tests/integration/itest_backend_loss.c */
        const char *cut = strstr(__FILE__, "tests/integration/");
        snprintf(g_script, sizeof(g_script), "%.*sscripts/mariadb.sh",
                 cut != NULL ? (int)(cut - __FILE__) : 0, __FILE__);
    }
    if (access(g_script, R_OK) != 0) {
        fprintf(stderr, "FATAL: %s not found (set MVP_SOURCE_DIR)\n", g_script);
        return -1;
    }
    snprintf(g_dir, sizeof(g_dir), "/tmp/mvp-itloss-%ld", (long)getpid());
    if (db_start() != 0) {
        return -1;
    }
    g_env.db_host = "127.0.0.1";
    g_env.db_port = g_port;
    g_env.db_user = "root";
    g_env.db_password = "";
    if (it_reset_dbs(&g_env, DB, META, true) != 0 ||
        (d = it_connect_direct(&g_env, DB, 0)) == NULL) {
        return -1;
    }
    if (it_exec(d, "CREATE TABLE sales (id INT PRIMARY KEY, g INT NOT NULL, v INT NOT NULL)") ||
        it_exec(d, "CREATE TABLE gate (g INT PRIMARY KEY)") ||
        it_exec(d, "INSERT INTO gate VALUES (1), (2), (3)") ||
        it_exec(d, "INSERT INTO sales SELECT seq, 1 + seq % 3, seq FROM seq_1_to_300")) {
        mysql_close(d);
        return -1;
    }
    mysql_close(d);
    if (it_proxy_start(&g_proxy, &g_env, META, extra) != 0) {
        return -1;
    }
    return 0;
}

static int
teardown(void **state)
{
    static const char *const views[] = {"mv", "mvm", NULL};
    char cmd[400];
    (void)state;
    it_rows_free(&g_old_rows);
    if (g_port != 0) {
        it_teardown(&g_proxy, &g_env, DB, META, views);
    } else {
        it_proxy_stop(&g_proxy);
    }
    db_script("stop");
    /* only the directory this test made */
    if (strncmp(g_dir, "/tmp/mvp-itloss-", 16) == 0) {
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", g_dir);
        if (system(cmd) != 0) {
            fprintf(stderr, "could not remove %s\n", g_dir);
        }
    }
    return 0;
}

/* ---- tests -------------------------------------------------------------- */

/* The backend dies with a refresh and a client query in flight. */
static void
test_backend_dies(void **state)
{
    MYSQL *p = it_must_connect_proxy(&g_proxy, &g_env, DB, 0);
    MYSQL *d = it_must_connect_direct(&g_env, DB, 0);
    MYSQL *holder = it_must_connect_direct(&g_env, DB, 0);
    MYSQL *idle = it_must_connect_proxy(&g_proxy, &g_env, DB, 0);
    struct bg b = {it_must_connect_proxy(&g_proxy, &g_env, DB, 0), "SELECT SLEEP(60)", 0, ""};
    struct bg r = {it_must_connect_proxy(&g_proxy, &g_env, DB, 0),
                   "REFRESH MATERIALIZED VIEW mvm COMPLETE", 0, ""};
    char status[64], err[512], sql[300];
    unsigned code = 0;
    pthread_t t, tr;
    MYSQL *m;
    (void)state;

    it_exec_ok(p, "CREATE MATERIALIZED VIEW mv BUILD IMMEDIATE REFRESH COMPLETE ON COMMIT "
                  "PROPERTIES ('grace_period' = '0') AS " VIEW_DEF);
    explain_status(p, status, sizeof(status));
    assert_string_equal(status, "CHOSEN");
    same_rows(p, d, "fresh view");
    assert_int_equal(it_query_rows(d, "SELECT * FROM mv", &g_old_rows), 0);
    assert_int_equal(g_old_rows.n, 3);
    /* a manual view: no retry will clean up after its refresh */
    it_exec_ok(p, "CREATE MATERIALIZED VIEW mvm BUILD IMMEDIATE REFRESH COMPLETE ON MANUAL "
                  "AS " VIEW_DEF);

    /* The refresh will block in its fill step on the gate. */
    it_exec_ok(holder, "LOCK TABLES gate WRITE");
    it_exec_ok(p, "INSERT INTO sales VALUES (1001, 1, 1000), (1002, 4, 5)");
    g_failed_tid = wait_num(d, "SELECT MAX(task_id) FROM " META ".tasks WHERE mv_name = 'mv'"
                               " AND status = 'RUNNING'", 1, 15);
    assert_true(g_failed_tid > 0);
    /* blocked before or after its staging table exists: the owner view's
     * CREATE (column check, then the fill) needs the locked gate too */
    assert_int_equal(wait_num(d, BLOCKED_STEPS, 1, 10), 1);
    pthread_create(&tr, NULL, bg_main, &r);
    g_manual_tid = wait_num(d, "SELECT MAX(task_id) FROM " META ".tasks WHERE mv_name = 'mvm'"
                               " AND status = 'RUNNING'", 1, 15);
    assert_true(g_manual_tid > 0);
    assert_int_equal(wait_num(d, BLOCKED_STEPS, 2, 10), 2);
    pthread_create(&t, NULL, bg_main, &b);
    assert_int_equal(wait_num(d, "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE"
                                 " INFO = 'SELECT SLEEP(60)'", 1, 10), 1);
    mysql_close(d);

    db_kill();

    /* the query in flight: an ERR packet from the proxy, soon */
    pthread_join(t, NULL);
    mysql_close(b.m);
    print_message("in-flight query: %u %s\n", b.err, b.msg);
    assert_int_equal(b.err, ER_NET_READ_ERROR);
    assert_non_null(strstr(b.msg, "Lost connection to backend"));
    assert_true(it_proxy_alive(&g_proxy));
    /* the manual REFRESH in flight: an ERR naming the failed step */
    pthread_join(tr, NULL);
    mysql_close(r.m);
    print_message("in-flight REFRESH: %u %s\n", r.err, r.msg);
    assert_int_not_equal(r.err, 0);
    assert_non_null(strstr(r.msg, "mvm"));

    /* an idle session learns at its next command */
    assert_int_not_equal(it_exec(idle, "SELECT 1"), 0);
    print_message("idle session: %u %s\n", mysql_errno(idle), mysql_error(idle));
    assert_int_equal(mysql_errno(idle), ER_NET_READ_ERROR);
    assert_non_null(strstr(mysql_error(idle), "backend"));
    mysql_close(idle);

    /* a new session is refused with a clear error */
    m = it_connect("127.0.0.1", g_proxy.port, g_env.db_user, g_env.db_password, DB, 0, err,
                   &code);
    assert_null(m);
    print_message("new session: %s\n", err);
    assert_int_equal(code, ER_NET_READ_ERROR);
    assert_non_null(strstr(err, "Can't connect to backend"));

    /* the proxy answered all that and is still up (the refresh thread too
     * saw the loss: its task cannot be recorded until the backend is back) */
    it_sleep_ms(1500);
    assert_true(it_proxy_alive(&g_proxy));
    mysql_close(p);
    mysql_close(holder); /* its connection died with the server */
    snprintf(sql, sizeof(sql), "%lld", g_failed_tid);
    print_message("killed refresh task: %s\n", sql);
}

/* The backend is back: task FAILED with its text, view consistent, retry succeeds. */
static void
test_backend_back(void **state)
{
    MYSQL *d, *p = NULL;
    char sql[400], buf[1024], status[64];
    struct it_rows now;
    long long ok_tid;
    int i;
    (void)state;
    assert_true(g_failed_tid > 0);
    assert_int_equal(db_start(), 0);
    d = it_must_connect_direct(&g_env, DB, 0);

    /* Until the retry has run: mv holds its old rows, and the proxy never
     * answers from a half-built table (poll while a new session is refused). */
    for (i = 0; i < 100 && p == NULL; i++) {
        assert_int_equal(it_query_rows(d, "SELECT * FROM mv", &now), 0);
        if (!it_rows_equal(&now, &g_old_rows)) {
            struct it_rows want;
            assert_int_equal(it_query_rows(d, VIEW_DEF, &want), 0);
            if (!it_rows_equal(&now, &want)) {
                it_rows_dump("mv", &now, 10);
                fail_msg("the view holds neither its old nor its new rows");
            }
            it_rows_free(&want);
        }
        it_rows_free(&now);
        p = it_connect("127.0.0.1", g_proxy.port, g_env.db_user, g_env.db_password, DB, 0,
                       buf, NULL);
        if (p == NULL) {
            it_sleep_ms(100);
        }
    }
    assert_non_null(p); /* new sessions are accepted again */
    same_rows(p, d, "after the restart");

    /* the killed refresh's task: FAILED with the backend's error text */
    snprintf(sql, sizeof(sql), "SELECT status = 'FAILED' FROM " META ".tasks WHERE task_id = %lld",
             g_failed_tid);
    if (wait_num(d, sql, 1, 30) != 1) {
        it_proxy_log_tail(&g_proxy, 40);
        fail_msg("task %lld is not FAILED", g_failed_tid);
    }
    snprintf(sql, sizeof(sql), "SELECT error_msg FROM " META ".tasks WHERE task_id = %lld",
             g_failed_tid);
    assert_int_equal(it_first_value(d, sql, buf, sizeof(buf)), 0);
    print_message("task %lld error: %s\n", g_failed_tid, buf);
    /* the step it was blocked in: the fill, or the owner view it reads through */
    assert_true(strstr(buf, "filling the new table") != NULL ||
                strstr(buf, "reading the definition as its owner") != NULL);
    assert_true(strstr(buf, "Lost connection") != NULL || strstr(buf, "gone away") != NULL);
    assert_null(strstr(buf, "proxy running it stopped"));
    /* ... and the manual one's, whose staging table nothing else drops */
    snprintf(sql, sizeof(sql), "SELECT status = 'FAILED' AND (error_msg LIKE '%%filling the new "
                               "table%%' OR error_msg LIKE '%%reading the definition as its "
                               "owner%%') FROM " META ".tasks WHERE task_id = %lld",
             g_manual_tid);
    assert_int_equal(wait_num(d, sql, 1, 20), 1);
    if (wait_num(d, "SELECT 1 - COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = '"
                    DB "' AND TABLE_NAME LIKE 'mvm\\_\\_mvp\\_%'", 1, 20) != 1) {
        it_proxy_log_tail(&g_proxy, 40);
        fail_msg("the staging table of the broken manual refresh was not dropped");
    }
    assert_int_equal(it_query_rows(d, "SELECT * FROM mvm", &now), 0);
    assert_true(it_rows_equal(&now, &g_old_rows)); /* as it was */
    it_rows_free(&now);

    /* the retry (backoff) refreshes it */
    snprintf(sql, sizeof(sql), "SELECT COALESCE(MAX(task_id), 0) FROM " META ".tasks WHERE "
                               "mv_name = 'mv' AND status = 'SUCCESS' AND task_id > %lld",
             g_failed_tid);
    ok_tid = wait_num(d, sql, 1, 40);
    if (ok_tid <= 0) {
        it_proxy_log_tail(&g_proxy, 40);
        fail_msg("the view was not refreshed after the backend came back");
    }
    assert_int_equal(wait_num(d, "SELECT 1 - COUNT(*) FROM information_schema.TABLES WHERE "
                                 "TABLE_SCHEMA = '" DB "' AND TABLE_NAME LIKE "
                                 "'mv\\_\\_mvp\\_%'", 1, 10), 1);
    {
        struct it_rows want;
        assert_int_equal(it_query_rows(d, "SELECT * FROM mv", &now), 0);
        assert_int_equal(it_query_rows(d, VIEW_DEF, &want), 0);
        assert_true(it_rows_equal(&now, &want));
        assert_false(it_rows_equal(&now, &g_old_rows));
        it_rows_free(&now);
        it_rows_free(&want);
    }
    explain_status(p, status, sizeof(status));
    assert_string_equal(status, "CHOSEN");
    same_rows(p, d, "after the retry");
    assert_int_equal(num(p, "SELECT COUNT(*) FROM mv_infos('database'='" DB "') WHERE Name = "
                            "'mv' AND RefreshState = 'SUCCESS'"), 1);
    assert_true(it_proxy_alive(&g_proxy));
    mysql_close(p);
    mysql_close(d);
}

/* After the backend restart the binlog follower resumes and follows the new
 * binlog file: a direct write is seen (mv refreshed ON COMMIT), the stored
 * position is in the new file, and no position loss was reported. */
static void
test_binlog_after_restart(void **state)
{
    MYSQL *d, *p;
    MYSQL_RES *r;
    MYSQL_ROW row;
    char sql[400], file[300], src[1024] = "";
    long long last_ok, tid;
    int fi;
    (void)state;
    d = it_must_connect_direct(&g_env, DB, 0);
    p = it_must_connect_proxy(&g_proxy, &g_env, DB, 0);
    assert_int_equal(it_first_value(d, "SHOW MASTER STATUS", file, sizeof(file)), 0);
    last_ok = num(d, "SELECT COALESCE(MAX(task_id), 0) FROM " META ".tasks");
    it_exec_ok(d, "INSERT INTO sales VALUES (2001, 2, 7)"); /* not through the proxy */
    snprintf(sql, sizeof(sql), "SELECT COALESCE(MAX(task_id), 0) FROM " META ".tasks WHERE "
                               "mv_name = 'mv' AND status = 'SUCCESS' AND task_id > %lld",
             last_ok);
    tid = wait_num(d, sql, 1, 40);
    if (tid <= 0) {
        it_proxy_log_tail(&g_proxy, 40);
        fail_msg("a direct write after the backend restart was not seen");
    }
    snprintf(sql, sizeof(sql), "SELECT v LIKE '%% %% %s' FROM " META ".meta WHERE k = "
                               "'binlog_position'", file);
    if (wait_num(d, sql, 1, 10) != 1) {
        it_proxy_log_tail(&g_proxy, 40);
        fail_msg("the stored binlog position is not in the new file %s", file);
    }
    assert_int_equal(mysql_query(p, "SHOW MATERIALIZED VIEWS FROM " DB " LIKE 'mv'"), 0);
    r = mysql_store_result(p);
    assert_non_null(r);
    fi = it_field_index(r, "FreshnessSource");
    assert_true(fi >= 0);
    row = mysql_fetch_row(r);
    if (row != NULL && row[fi] != NULL) {
        snprintf(src, sizeof(src), "%s", row[fi]);
    }
    mysql_free_result(r);
    print_message("after the restart: task %lld, file %s, FreshnessSource %s\n", tid, file, src);
    assert_string_equal(src, "binlog");
    mysql_close(p);
    mysql_close(d);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_backend_dies),
        cmocka_unit_test(test_backend_back),
        cmocka_unit_test(test_binlog_after_restart),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
