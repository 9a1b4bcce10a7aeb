/*
 * itest_relay.c - the wire relay against a real MariaDB through the real
 * mvproxy binary: results equal to direct ones, errors, large results and
 * >16 MiB packets both ways, multi-statements, prepared statements, db
 * changes, authentication, concurrency, backend loss, client loss, and the
 * mariadb command-line client.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "it_common.h"

#define DB "px_relay_it"
#define BIG (20u * 1024u * 1024u)

static struct it_env env;
static struct it_proxy proxy;

static void
sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Connect to the proxy with a 64 MiB client packet limit (and FLAGS). */
static MYSQL *
px_conn(const char *db, unsigned long flags)
{
    MYSQL *m = mysql_init(NULL);
    unsigned long maxp = 64ul * 1024 * 1024;
    unsigned timeout = 60;

    assert_non_null(m);
    mysql_optionsv(m, MYSQL_OPT_MAX_ALLOWED_PACKET, &maxp);
    mysql_optionsv(m, MYSQL_OPT_READ_TIMEOUT, &timeout);
    mysql_optionsv(m, MYSQL_OPT_WRITE_TIMEOUT, &timeout);
    if (mysql_real_connect(m, "127.0.0.1", env.db_user, env.db_password, db, proxy.port, NULL,
                           flags) == NULL) {
        fprintf(stderr, "proxy connect: %u %s\n", mysql_errno(m), mysql_error(m));
        it_proxy_log_tail(&proxy, 20);
        mysql_close(m);
        fail();
    }
    return m;
}

/* Run SQL via the proxy and directly; assert equal row multisets. */
static void
assert_same(const char *sql, unsigned long flags)
{
    MYSQL *p = px_conn(DB, flags), *d = it_connect_direct(&env, DB, flags);
    struct it_rows rp, rd;
    unsigned ep, ed;

    assert_non_null(d);
    ep = it_query_rows(p, sql, &rp);
    ed = it_query_rows(d, sql, &rd);
    assert_int_equal(ep, ed);
    if (!it_rows_equal(&rp, &rd)) {
        it_rows_dump("proxy", &rp, 5);
        it_rows_dump("direct", &rd, 5);
    }
    assert_true(it_rows_equal(&rp, &rd));
    it_rows_free(&rp);
    it_rows_free(&rd);
    mysql_close(p);
    mysql_close(d);
}

static int
group_setup(void **state)
{
    MYSQL *d;

    (void)state;
    it_env_load(&env);
    d = it_connect_direct(&env, NULL, 0);
    if (d == NULL) {
        return -1;
    }
    it_exec(d, "DROP DATABASE IF EXISTS " DB);
    if (it_exec(d, "CREATE DATABASE " DB) != 0 ||
        it_exec(d, "CREATE TABLE " DB ".t (id INT PRIMARY KEY, name VARCHAR(20), v DECIMAL(10,2),"
                   " note TEXT)") != 0 ||
        it_exec(d, "INSERT INTO " DB ".t VALUES (1,'a',1.50,NULL),(2,'b',NULL,'NULL'),"
                   "(3,NULL,3.25,'x\ty'),(4,'d',4.00,'')") != 0 ||
        it_exec(d, "CREATE TABLE " DB ".blobs (id INT PRIMARY KEY, b LONGBLOB)") != 0) {
        mysql_close(d);
        return -1;
    }
    mysql_close(d);
    return it_proxy_start(&proxy, &env, "px_relay_it_meta", NULL);
}

static int
group_teardown(void **state)
{
    MYSQL *d;

    (void)state;
    if (proxy.pid > 0) {
        it_proxy_stop(&proxy);
    }
    d = it_connect_direct(&env, NULL, 0);
    if (d != NULL) {
        it_exec(d, "DROP DATABASE IF EXISTS " DB);
        it_exec(d, "DROP DATABASE IF EXISTS px_relay_it_meta");
        mysql_close(d);
    }
    return 0;
}

static void
test_queries_equal_direct(void **state)
{
    (void)state;
    assert_same("SELECT * FROM t", 0);
    assert_same("SELECT id, name IS NULL, note FROM t WHERE id > 1 ORDER BY id", 0);
    assert_same("SELECT 1, 'two', NULL, 'NULL', 3.5, NOW() = NOW()", 0);
    assert_same("SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = '" DB "'",
                0);
    assert_same("SELECT COUNT(*), SUM(v), MAX(name) FROM t", 0);
    assert_same("UPDATE t SET v = v WHERE id = 1", 0);
}

static void
test_null_distinct_from_string_null(void **state)
{
    MYSQL *p = px_conn(DB, 0);
    struct it_rows r;

    (void)state;
    assert_int_equal(it_query_rows(p, "SELECT note FROM t WHERE id IN (1, 2)", &r), 0);
    assert_int_equal(r.n, 2);
    assert_string_equal(r.rows[0], "NULL");
    assert_string_equal(r.rows[1], "\\N");
    it_rows_free(&r);
    mysql_close(p);
}

static void
test_error_relayed(void **state)
{
    MYSQL *p = px_conn(DB, 0), *d = it_connect_direct(&env, DB, 0);
    char perr[512];

    (void)state;
    assert_int_not_equal(mysql_query(p, "SELEC 1"), 0);
    assert_int_equal(mysql_errno(p), 1064);
    assert_string_equal(mysql_sqlstate(p), "42000");
    snprintf(perr, sizeof(perr), "%s", mysql_error(p));
    assert_int_not_equal(mysql_query(d, "SELEC 1"), 0);
    assert_string_equal(perr, mysql_error(d));
    assert_int_not_equal(mysql_query(p, "SELECT * FROM no_such_table"), 0);
    assert_int_equal(mysql_errno(p), 1146);
    /* The session still works after errors. */
    assert_int_equal(mysql_query(p, "SELECT 1"), 0);
    mysql_free_result(mysql_store_result(p));
    mysql_close(p);
    mysql_close(d);
}

static void
test_large_result(void **state)
{
    MYSQL *p = px_conn(DB, 0);
    MYSQL_RES *res;
    MYSQL_ROW row;
    unsigned long n = 0, sum = 0;

    (void)state;
    assert_int_equal(mysql_query(p, "SELECT seq, REPEAT('x', 100) FROM seq_1_to_200000"), 0);
    res = mysql_use_result(p);
    assert_non_null(res);
    while ((row = mysql_fetch_row(res)) != NULL) {
        n++;
        sum += strtoul(row[0], NULL, 10);
        assert_int_equal(strlen(row[1]), 100);
    }
    assert_int_equal(mysql_errno(p), 0);
    mysql_free_result(res);
    assert_int_equal(n, 200000);
    assert_int_equal(sum, 200000ul * 200001ul / 2);
    mysql_close(p);
    assert_same("SELECT seq, seq * 2 FROM seq_1_to_50000", 0);
}

static void
test_big_value_from_backend(void **state)
{
    MYSQL *p = px_conn(DB, 0);
    MYSQL_RES *res;
    MYSQL_ROW row;
    unsigned long *lens;
    size_t i;

    (void)state;
    assert_int_equal(mysql_query(p, "SELECT REPEAT('a', 20*1024*1024), 'tail'"), 0);
    res = mysql_store_result(p);
    assert_non_null(res);
    row = mysql_fetch_row(res);
    assert_non_null(row);
    lens = mysql_fetch_lengths(res);
    assert_int_equal(lens[0], BIG);
    for (i = 0; i < BIG; i++) {
        if (row[0][i] != 'a') {
            fail_msg("byte %zu is %d", i, row[0][i]);
        }
    }
    assert_string_equal(row[1], "tail");
    mysql_free_result(res);
    /* A row exactly at the chain boundary and the following query. */
    assert_int_equal(mysql_query(p, "SELECT REPEAT('b', 16777215 - 4)"), 0);
    res = mysql_store_result(p);
    assert_non_null(res);
    row = mysql_fetch_row(res);
    assert_int_equal(mysql_fetch_lengths(res)[0], 16777211);
    mysql_free_result(res);
    assert_int_equal(mysql_query(p, "SELECT 2"), 0);
    mysql_free_result(mysql_store_result(p));
    mysql_close(p);
}

static void
test_big_insert_to_backend(void **state)
{
    const size_t blob = 17u * 1024u * 1024u;
    const char *pre = "INSERT INTO blobs VALUES (1, '";
    size_t plen = strlen(pre), qlen = plen + blob + 2;
    char *q = malloc(qlen + 1);
    MYSQL *p = px_conn(DB, 0);
    struct it_rows r;
    MYSQL_STMT *st;
    MYSQL_BIND b[2];
    int id = 2;
    unsigned long bl = blob;
    char *data = malloc(blob);

    (void)state;
    memcpy(q, pre, plen);
    memset(q + plen, 'z', blob);
    memcpy(q + plen + blob, "')", 3);
    assert_int_equal(mysql_real_query(p, q, qlen), 0);
    assert_int_equal(mysql_affected_rows(p), 1);
    /* The same size as a prepared-statement parameter (COM_STMT_EXECUTE chain). */
    memset(data, 'y', blob);
    st = mysql_stmt_init(p);
    assert_int_equal(mysql_stmt_prepare(st, "INSERT INTO blobs VALUES (?, ?)", (unsigned long)-1), 0);
    memset(b, 0, sizeof(b));
    b[0].buffer_type = MYSQL_TYPE_LONG;
    b[0].buffer = &id;
    b[1].buffer_type = MYSQL_TYPE_LONG_BLOB;
    b[1].buffer = data;
    b[1].buffer_length = blob;
    b[1].length = &bl;
    assert_int_equal(mysql_stmt_bind_param(st, b), 0);
    assert_int_equal(mysql_stmt_execute(st), 0);
    mysql_stmt_close(st);
    assert_int_equal(it_query_rows(p, "SELECT id, LENGTH(b), MD5(b) = MD5(REPEAT(IF(id=1,'z','y'), "
                                      "17*1024*1024)) FROM blobs", &r), 0);
    assert_int_equal(r.n, 2);
    assert_string_equal(r.rows[0], "1\t17825792\t1");
    assert_string_equal(r.rows[1], "2\t17825792\t1");
    it_rows_free(&r);
    assert_int_equal(mysql_query(p, "DELETE FROM blobs"), 0);
    free(q);
    free(data);
    mysql_close(p);
}

static void
test_multi_statements(void **state)
{
    MYSQL *p = px_conn(DB, CLIENT_MULTI_STATEMENTS);
    MYSQL_RES *res;
    int sets = 0, oks = 0, st;

    (void)state;
    assert_same("SELECT 1; SELECT 2, 3; DO 1; SELECT name FROM t", CLIENT_MULTI_STATEMENTS);
    assert_int_equal(mysql_query(p, "SELECT 1; UPDATE t SET v = v; SELECT 'x', NULL; DO 2"), 0);
    do {
        res = mysql_store_result(p);
        if (res != NULL) {
            sets++;
            mysql_free_result(res);
        } else {
            assert_int_equal(mysql_field_count(p), 0);
            oks++;
        }
        st = mysql_next_result(p);
    } while (st == 0);
    assert_int_equal(st, -1);
    assert_int_equal(sets, 2);
    assert_int_equal(oks, 2);
    /* An error in the middle ends the chain; the session stays usable. */
    assert_int_equal(mysql_query(p, "SELECT 1; SELEC 2; SELECT 3"), 0);
    mysql_free_result(mysql_store_result(p));
    assert_true(mysql_next_result(p) > 0);
    assert_int_equal(mysql_errno(p), 1064);
    assert_int_equal(mysql_query(p, "SELECT 4"), 0);
    res = mysql_store_result(p);
    assert_string_equal(mysql_fetch_row(res)[0], "4");
    mysql_free_result(res);
    /* A stored procedure returns result sets plus a final OK (MORE_RESULTS chain). */
    assert_int_equal(mysql_query(p, "CREATE OR REPLACE PROCEDURE pr() BEGIN SELECT 1; "
                                    "SELECT 2, 3; END"), 0);
    mysql_close(p);
    assert_same("CALL pr()", CLIENT_MULTI_RESULTS);
}

static void
test_prepared_statements(void **state)
{
    MYSQL *p = px_conn(DB, 0);
    MYSQL_STMT *st;
    MYSQL_BIND in[1], out[3];
    int id = 1, oid = 0;
    char name[32], note[32];
    unsigned long nl = 0, notel = 0;
    my_bool nnull = 0, notenull = 0;
    int rows = 0;

    (void)state;
    st = mysql_stmt_init(p);
    assert_int_equal(mysql_stmt_prepare(st, "SELECT id, name, note FROM t WHERE id >= ? ORDER BY id",
                                        (unsigned long)-1), 0);
    assert_int_equal(mysql_stmt_param_count(st), 1);
    assert_int_equal(mysql_stmt_field_count(st), 3);
    memset(in, 0, sizeof(in));
    in[0].buffer_type = MYSQL_TYPE_LONG;
    in[0].buffer = &id;
    assert_int_equal(mysql_stmt_bind_param(st, in), 0);
    memset(out, 0, sizeof(out));
    out[0].buffer_type = MYSQL_TYPE_LONG;
    out[0].buffer = &oid;
    out[1].buffer_type = MYSQL_TYPE_STRING;
    out[1].buffer = name;
    out[1].buffer_length = sizeof(name);
    out[1].length = &nl;
    out[1].is_null = &nnull;
    out[2].buffer_type = MYSQL_TYPE_STRING;
    out[2].buffer = note;
    out[2].buffer_length = sizeof(note);
    out[2].length = &notel;
    out[2].is_null = &notenull;
    assert_int_equal(mysql_stmt_execute(st), 0);
    assert_int_equal(mysql_stmt_bind_result(st, out), 0);
    assert_int_equal(mysql_stmt_store_result(st), 0);
    while (mysql_stmt_fetch(st) == 0) {
        rows++;
        if (oid == 3) {
            assert_true(nnull);
        }
        if (oid == 2) {
            assert_string_equal(note, "NULL");
        }
    }
    assert_int_equal(rows, 4);
    /* Re-execute with another parameter. */
    id = 3;
    assert_int_equal(mysql_stmt_execute(st), 0);
    assert_int_equal(mysql_stmt_store_result(st), 0);
    assert_int_equal(mysql_stmt_num_rows(st), 2);
    assert_int_equal(mysql_stmt_reset(st), 0);
    /* COM_STMT_CLOSE has no response: the next command must still line up. */
    assert_int_equal(mysql_stmt_close(st), 0);
    st = mysql_stmt_init(p);
    assert_int_equal(mysql_stmt_prepare(st, "DO ?", (unsigned long)-1), 0);
    assert_int_equal(mysql_stmt_param_count(st), 1);
    mysql_stmt_close(st);
    st = mysql_stmt_init(p);
    assert_int_equal(mysql_stmt_prepare(st, "SELEC ?", (unsigned long)-1) != 0, 1);
    assert_int_equal(mysql_stmt_errno(st), 1064);
    mysql_stmt_close(st);
    assert_int_equal(mysql_query(p, "SELECT 5"), 0);
    mysql_free_result(mysql_store_result(p));
    mysql_close(p);
}

static void
test_init_db_and_use(void **state)
{
    MYSQL *p = px_conn(NULL, 0);
    struct it_rows r;

    (void)state;
    assert_int_equal(it_query_rows(p, "SELECT DATABASE()", &r), 0);
    assert_string_equal(r.rows[0], "\\N");
    it_rows_free(&r);
    assert_int_equal(mysql_select_db(p, DB), 0);
    assert_int_equal(it_query_rows(p, "SELECT DATABASE(), COUNT(*) FROM t", &r), 0);
    assert_string_equal(r.rows[0], DB "\t4");
    it_rows_free(&r);
    assert_int_not_equal(mysql_select_db(p, "no_such_db_px"), 0);
    assert_int_equal(mysql_errno(p), 1049);
    assert_int_equal(mysql_query(p, " /* c */ USE `information_schema`"), 0);
    assert_int_equal(it_query_rows(p, "SELECT DATABASE()", &r), 0);
    assert_string_equal(r.rows[0], "information_schema");
    it_rows_free(&r);
    mysql_close(p);
}

static void
test_auth(void **state)
{
    char err[512];
    unsigned e = 0;
    MYSQL *m;
    struct it_rows r;

    (void)state;
    m = it_connect("127.0.0.1", proxy.port, "app", "wrong", NULL, 0, err, &e);
    assert_null(m);
    assert_int_equal(e, 1045);
    m = it_connect("127.0.0.1", proxy.port, "nobody_px", "", NULL, 0, err, &e);
    assert_null(m);
    assert_int_equal(e, 1045);
    m = it_connect("127.0.0.1", proxy.port, "app", "app_pw", NULL, 0, err, &e);
    assert_non_null(m);
    assert_int_equal(it_query_rows(m, "SELECT CURRENT_USER()", &r), 0);
    assert_int_equal(strncmp(r.rows[0], "app@", 4), 0);
    it_rows_free(&r);
    /* app has no grants on the test database. */
    assert_int_not_equal(mysql_select_db(m, DB), 0);
    assert_int_equal(mysql_errno(m), 1044);
    /* COM_CHANGE_USER re-authenticates through the proxy. */
    assert_int_equal(mysql_change_user(m, env.db_user, env.db_password, DB), 0);
    assert_int_equal(it_query_rows(m, "SELECT CURRENT_USER(), DATABASE()", &r), 0);
    assert_int_equal(strncmp(r.rows[0], "root@", 5), 0);
    it_rows_free(&r);
    mysql_close(m);
}

static void
test_other_commands(void **state)
{
    MYSQL *p = px_conn(DB, 0);
    MYSQL_RES *res;
    const char *stat;

    (void)state;
    assert_int_equal(mysql_ping(p), 0);
    stat = mysql_stat(p);
    assert_non_null(stat);
    assert_non_null(strstr(stat, "Uptime"));
    res = mysql_list_fields(p, "t", NULL);
    assert_non_null(res);
    assert_int_equal(mysql_num_fields(res), 4);
    mysql_free_result(res);
    assert_int_equal(mysql_query(p, "SET @px = 42"), 0);
    assert_int_equal(mysql_reset_connection(p), 0);
    assert_int_equal(mysql_query(p, "SELECT @px IS NULL"), 0);
    res = mysql_store_result(p);
    assert_string_equal(mysql_fetch_row(res)[0], "1");
    mysql_free_result(res);
    assert_int_equal(mysql_set_server_option(p, MYSQL_OPTION_MULTI_STATEMENTS_ON), 0);
    assert_int_equal(mysql_query(p, "SELECT 1; SELECT 2"), 0);
    mysql_free_result(mysql_store_result(p));
    assert_int_equal(mysql_next_result(p), 0);
    mysql_free_result(mysql_store_result(p));
    assert_int_equal(mysql_next_result(p), -1);
    mysql_close(p);
}

static void
test_local_infile(void **state)
{
    char path[] = "/tmp/px-infile-XXXXXX", sql[256];
    int fd = mkstemp(path), i;
    FILE *f = fdopen(fd, "w");
    MYSQL *p = mysql_init(NULL);
    unsigned int on = 1;
    struct it_rows r;

    (void)state;
    for (i = 0; i < 1000; i++) {
        fprintf(f, "%d\tname%d\n", 1000 + i, i);
    }
    fclose(f);
    mysql_optionsv(p, MYSQL_OPT_LOCAL_INFILE, &on);
    assert_non_null(mysql_real_connect(p, "127.0.0.1", env.db_user, env.db_password, DB,
                                       proxy.port, NULL, 0));
    snprintf(sql, sizeof(sql), "LOAD DATA LOCAL INFILE '%s' INTO TABLE t (id, name)", path);
    if (mysql_query(p, sql) != 0) {
        /* local_infile disabled on the server is an ERR relayed after the file phase. */
        fprintf(stderr, "LOAD DATA LOCAL: %u %s\n", mysql_errno(p), mysql_error(p));
        assert_int_equal(mysql_errno(p), 1148);
    } else {
        assert_int_equal(mysql_affected_rows(p), 1000);
        assert_int_equal(it_query_rows(p, "SELECT COUNT(*) FROM t WHERE id >= 1000", &r), 0);
        assert_string_equal(r.rows[0], "1000");
        it_rows_free(&r);
        assert_int_equal(mysql_query(p, "DELETE FROM t WHERE id >= 1000"), 0);
    }
    unlink(path);
    mysql_close(p);
}

struct worker_arg {
    int idx;                /* thread index */
    int failures;           /* result */
};

static void *
conc_worker(void *arg)
{
    struct worker_arg *a = arg;
    MYSQL *conns[10];
    char sql[128], want[64];
    struct it_rows r;
    int i, k;

    for (i = 0; i < 10; i++) {
        conns[i] = it_connect_proxy(&proxy, &env, DB, 0);
        if (conns[i] == NULL) {
            a->failures++;
        }
    }
    for (k = 0; k < 20; k++) {
        for (i = 0; i < 10; i++) {
            if (conns[i] == NULL) {
                continue;
            }
            snprintf(sql, sizeof(sql), "SELECT %d, COUNT(*) FROM seq_1_to_%d", a->idx * 100 + i,
                     100 + k);
            snprintf(want, sizeof(want), "%d\t%d", a->idx * 100 + i, 100 + k);
            if (it_query_rows(conns[i], sql, &r) != 0 || r.n != 1 || strcmp(r.rows[0], want)) {
                a->failures++;
            }
            it_rows_free(&r);
        }
    }
    for (i = 0; i < 10; i++) {
        if (conns[i] != NULL) {
            mysql_close(conns[i]);
        }
    }
    return NULL;
}

static void
test_concurrent_clients(void **state)
{
    pthread_t th[5];
    struct worker_arg args[5];
    int i;

    (void)state;
    for (i = 0; i < 5; i++) {
        args[i].idx = i;
        args[i].failures = 0;
        assert_int_equal(pthread_create(&th[i], NULL, conc_worker, &args[i]), 0);
    }
    for (i = 0; i < 5; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(args[i].failures, 0);
    }
}

/* Sessions of USER in the backend's processlist (excluding the caller's). */
static long
backend_sessions(MYSQL *d, const char *user)
{
    char sql[256];
    struct it_rows r;
    long n;

    snprintf(sql, sizeof(sql),
             "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE USER = '%s' AND ID <> "
             "CONNECTION_ID()", user);
    assert_int_equal(it_query_rows(d, sql, &r), 0);
    n = atol(r.rows[0]);
    it_rows_free(&r);
    return n;
}

static void
test_backend_killed(void **state)
{
    MYSQL *p = px_conn(DB, 0), *d = it_connect_direct(&env, NULL, 0), *p2;
    struct it_rows r;
    char sql[64];
    unsigned e;

    (void)state;
    assert_int_equal(it_query_rows(p, "SELECT CONNECTION_ID()", &r), 0);
    snprintf(sql, sizeof(sql), "KILL %s", r.rows[0]);
    it_rows_free(&r);
    assert_int_equal(it_exec(d, sql), 0);
    sleep_ms(200);
    assert_int_not_equal(mysql_query(p, "SELECT 1"), 0);
    e = mysql_errno(p);
    /* The proxy answers ERR 1158/08S01 "Lost connection to backend" and closes. */
    if (!(e == 1158 || e == 2013 || e == 2006)) {
        fail_msg("idle kill gave %u: %s", e, mysql_error(p));
    }
    if (e == 1158) {
        assert_string_equal(mysql_sqlstate(p), "08S01");
        assert_non_null(strstr(mysql_error(p), "Lost connection to backend"));
    }
    mysql_close(p);
    /* A command in flight when the backend dies. */
    p = px_conn(DB, 0);
    assert_int_equal(it_query_rows(p, "SELECT CONNECTION_ID()", &r), 0);
    snprintf(sql, sizeof(sql), "KILL %s", r.rows[0]);
    it_rows_free(&r);
    p2 = it_connect_direct(&env, NULL, 0);
    assert_int_equal(mysql_send_query(p, "SELECT SLEEP(5)", 15), 0);
    sleep_ms(300);
    assert_int_equal(it_exec(p2, sql), 0);
    assert_int_not_equal(mysql_read_query_result(p), 0);
    e = mysql_errno(p);
    if (!(e == 1158 || e == 2013 || e == 2006 || e == 1927)) {
        fail_msg("in-flight kill gave %u: %s", e, mysql_error(p));
    }
    mysql_close(p);
    mysql_close(p2);
    mysql_close(d);
    assert_true(it_proxy_alive(&proxy));
    p = px_conn(DB, 0);
    assert_int_equal(mysql_query(p, "SELECT 1"), 0);
    mysql_free_result(mysql_store_result(p));
    mysql_close(p);
}

/* Resident set size of the proxy process in KiB (0 when unknown). */
static long
proxy_rss_kb(void)
{
    char path[64], line[256];
    long kb = 0;
    FILE *f;

    snprintf(path, sizeof(path), "/proc/%d/status", (int)proxy.pid);
    f = fopen(path, "r");
    if (f == NULL) {
        return 0;
    }
    while (fgets(line, sizeof(line), f) != NULL) {
        if (strncmp(line, "VmRSS:", 6) == 0) {
            kb = atol(line + 6);
        }
    }
    fclose(f);
    fprintf(stderr, "proxy RSS %ld KiB\n", kb);
    return kb;
}

static void
test_client_gone_mid_result(void **state)
{
    MYSQL *d = it_connect_direct(&env, NULL, 0), *p;
    MYSQL_RES *res;
    long before, after = -1, rss0;
    int i;

    (void)state;
    before = backend_sessions(d, env.db_user);
    rss0 = proxy_rss_kb();
    p = px_conn(DB, 0);
    assert_int_equal(mysql_query(p, "SELECT seq, REPEAT('x', 1000) FROM seq_1_to_2000000"), 0);
    res = mysql_use_result(p);
    assert_non_null(res);
    for (i = 0; i < 100; i++) {
        assert_non_null(mysql_fetch_row(res));
    }
    /* A slow client (2 GB result pending): back-pressure keeps the proxy small. */
    sleep_ms(1500);
    assert_true(proxy_rss_kb() - rss0 < 64 * 1024);
    /* Vanish without COM_QUIT. */
    shutdown(mysql_get_socket(p), SHUT_RDWR);
    mysql_free_result(res);
    mysql_close(p);
    for (i = 0; i < 100; i++) {
        after = backend_sessions(d, env.db_user);
        if (after <= before) {
            break;
        }
        sleep_ms(100);
    }
    assert_true(after <= before);
    assert_true(it_proxy_alive(&proxy));
    mysql_close(d);
    assert_same("SELECT 42", 0);
}

static void
test_mariadb_cli(void **state)
{
    char *out = NULL;

    (void)state;
    assert_int_equal(it_cli(proxy.port, env.db_user, env.db_password, "select 1", &out), 0);
    assert_string_equal(out, "1\n");
    free(out);
    assert_int_equal(it_cli(proxy.port, "app", "app_pw", "select current_user()", &out), 0);
    assert_int_equal(strncmp(out, "app@", 4), 0);
    free(out);
    assert_int_not_equal(it_cli(proxy.port, env.db_user, env.db_password, "selec 1", &out), 0);
    assert_non_null(strstr(out, "1064"));
    free(out);
}

/*
 * The dispatch seam with the real catalog: a statement answered locally
 * (REPLY: the backend would reject the variable), an admin statement run on
 * an admin thread (ADMIN), and one whose DDL runs on the client's own
 * backend connection (exec-as-client: user app may not create tables).
 */
static void
test_dispatch_paths(void **state)
{
    MYSQL *p = px_conn(DB, 0), *app;
    MYSQL_RES *res;
    MYSQL_FIELD *f;
    unsigned i;
    bool has_name = false;
    char err[512];

    (void)state;
    assert_int_equal(mysql_query(p, "SET enable_materialized_view_rewrite = OFF"), 0);
    assert_int_equal(mysql_field_count(p), 0);
    assert_int_equal(mysql_query(p, "SELECT 1"), 0);
    mysql_free_result(mysql_store_result(p));
    assert_int_equal(mysql_query(p, "SET enable_materialized_view_rewrite = ON"), 0);
    assert_int_equal(mysql_query(p, "SHOW MATERIALIZED VIEWS"), 0);
    res = mysql_store_result(p);
    assert_non_null(res);
    for (i = 0; i < mysql_num_fields(res); i++) {
        f = mysql_fetch_field_direct(res, i);
        has_name = has_name || strcmp(f->name, "Name") == 0;
    }
    assert_true(has_name);
    mysql_free_result(res);
    /* The session is IDLE again after the admin job. */
    assert_int_equal(mysql_query(p, "SELECT 2"), 0);
    mysql_free_result(mysql_store_result(p));
    mysql_close(p);
    app = it_connect("127.0.0.1", proxy.port, "app", "app_pw", NULL, 0, err, NULL);
    assert_non_null(app);
    assert_int_not_equal(mysql_query(app, "CREATE MATERIALIZED VIEW " DB ".mv_denied AS "
                                          "SELECT id FROM " DB ".t"), 0);
    assert_int_equal(mysql_errno(app), 1142);
    assert_int_equal(mysql_query(app, "SELECT 3"), 0);
    mysql_free_result(mysql_store_result(app));
    mysql_close(app);
}

static void
test_zz_clean_shutdown(void **state)
{
    MYSQL *idle = px_conn(DB, 0);

    (void)state;
    /* SIGTERM with a client connected: exit 0. */
    assert_int_equal(it_proxy_stop(&proxy), 0);
    assert_int_not_equal(mysql_query(idle, "SELECT 1"), 0);
    mysql_close(idle);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_queries_equal_direct),
        cmocka_unit_test(test_null_distinct_from_string_null),
        cmocka_unit_test(test_error_relayed),
        cmocka_unit_test(test_large_result),
        cmocka_unit_test(test_big_value_from_backend),
        cmocka_unit_test(test_big_insert_to_backend),
        cmocka_unit_test(test_multi_statements),
        cmocka_unit_test(test_prepared_statements),
        cmocka_unit_test(test_init_db_and_use),
        cmocka_unit_test(test_auth),
        cmocka_unit_test(test_other_commands),
        cmocka_unit_test(test_local_infile),
        cmocka_unit_test(test_concurrent_clients),
        cmocka_unit_test(test_backend_killed),
        cmocka_unit_test(test_client_gone_mid_result),
        cmocka_unit_test(test_mariadb_cli),
        cmocka_unit_test(test_dispatch_paths),
        cmocka_unit_test(test_zz_clean_shutdown),
    };

    mysql_library_init(0, NULL, NULL);
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
