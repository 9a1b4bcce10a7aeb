/*
 * itest_catalog.c - the catalog against a real MariaDB, without the proxy:
 * cat_init with the service account, admin statements through
 * cat_admin_recognise + cat_admin_run with an exec function that runs SQL on
 * a libmariadb connection standing in for the client's own backend
 * connection (as root, or as `app` who has no grants), freshness marking,
 * refresh, and a restart of the catalog.
 *
 * Needs MVP_DB_HOST / MVP_DB_PORT (scripts/mariadb.sh env); skipped without.
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

#include "cat_engine.h"
#include "cat_admin.h"
#include "cat_reply.h"

#define META "mvp_meta_itcat"
#define DB "itcat"

static const char *g_host;
static unsigned g_port;
static MYSQL *g_root;   /* "client" with all privileges */
static MYSQL *g_app;    /* "client" without grants */

static MYSQL *
connect_as(const char *user, const char *pw, const char *db)
{
    MYSQL *c = mysql_init(NULL);
    if (mysql_real_connect(c, g_host, user, pw, db, g_port, NULL, CLIENT_MULTI_RESULTS) ==
        NULL) {
        fprintf(stderr, "connect %s: %s\n", user, mysql_error(c));
        mysql_close(c);
        return NULL;
    }
    return c;
}

static void
q(MYSQL *c, const char *sql)
{
    if (mysql_query(c, sql) != 0) {
        fail_msg("%s: %s", sql, mysql_error(c));
    }
    do {
        MYSQL_RES *r = mysql_store_result(c);
        if (r) {
            mysql_free_result(r);
        }
    } while (mysql_next_result(c) == 0);
}

static long long
q_int(MYSQL *c, const char *sql)
{
    MYSQL_RES *r;
    MYSQL_ROW row;
    long long v = -999;
    if (mysql_query(c, sql) != 0) {
        fail_msg("%s: %s", sql, mysql_error(c));
    }
    r = mysql_store_result(c);
    if (r && (row = mysql_fetch_row(r)) && row[0]) {
        v = atoll(row[0]);
    }
    if (r) {
        mysql_free_result(r);
    }
    return v;
}

/* The exec function: run SQL on the libmariadb connection CTX. */
static int
exec_fn(void *ctx, const char *sql, struct mvp_reply *reply)
{
    MYSQL *c = ctx;
    MYSQL_RES *res;
    if (mysql_real_query(c, sql, strlen(sql)) != 0) {
        mvp_reply_err(reply, (uint16_t)mysql_errno(c), mysql_sqlstate(c), "%s", mysql_error(c));
        return 0;
    }
    res = mysql_store_result(c);
    if (res == NULL) {
        mvp_reply_ok(reply, mysql_affected_rows(c), mysql_info(c));
        return 0;
    }
    {
        unsigned n = mysql_num_fields(res), i;
        MYSQL_FIELD *f = mysql_fetch_fields(res);
        const char **names = calloc(n, sizeof(char *));
        MYSQL_ROW row;
        for (i = 0; i < n; i++) {
            names[i] = f[i].name;
        }
        mvp_reply_rows(reply, n, names, NULL);
        while ((row = mysql_fetch_row(res)) != NULL) {
            mvp_reply_add_row(reply, (const char *const *)row);
        }
        free(names);
    }
    mysql_free_result(res);
    return 0;
}

/* Run admin SQL as client C with session db DB; REPLY filled (caller clears). */
static bool
admin(MYSQL *c, const char *db, const char *sql, struct mvp_reply *reply)
{
    struct cat_admin_job *job = NULL;
    mvp_reply_init(reply);
    if (!cat_admin_recognise(sql, strlen(sql), db, &job, reply)) {
        return false;
    }
    if (job != NULL) {
        cat_admin_run(job, "root", db, exec_fn, c, reply);
    }
    return true;
}

static void
expect_ok(MYSQL *c, const char *sql)
{
    struct mvp_reply r;
    assert_true(admin(c, DB, sql, &r));
    if (r.kind != MVP_REPLY_OK && r.kind != MVP_REPLY_ROWS) {
        char msg[1024];
        snprintf(msg, sizeof(msg), "%s -> ERR %u %s", sql, r.err_code,
                 r.err_msg ? r.err_msg : "");
        mvp_reply_clear(&r); /* fail_msg does not return: free first */
        fail_msg("%s", msg);
    }
    mvp_reply_clear(&r);
}

static void
expect_err(MYSQL *c, const char *sql, unsigned code)
{
    struct mvp_reply r;
    assert_true(admin(c, DB, sql, &r));
    if (r.kind != MVP_REPLY_ERR || r.err_code != code) {
        char msg[1024];
        snprintf(msg, sizeof(msg), "%s -> kind %d code %u (%s), want ERR %u", sql, r.kind,
                 r.err_code, r.err_msg ? r.err_msg : "", code);
        mvp_reply_clear(&r); /* fail_msg does not return: free first */
        fail_msg("%s", msg);
    }
    mvp_reply_clear(&r);
}

static int
col_index(const struct mvp_reply *r, const char *name)
{
    size_t i;
    for (i = 0; i < r->n_cols; i++) {
        if (strcmp(r->col_names[i], name) == 0) {
            return (int)i;
        }
    }
    fail_msg("no column %s", name);
    return -1;
}

/* Value of column COL for view NAME in SHOW MATERIALIZED VIEWS (static buffer). */
static const char *
show_value(const char *name, const char *col)
{
    static char buf[4096];
    struct mvp_reply r;
    size_t i;
    admin(g_root, DB, "SHOW MATERIALIZED VIEWS FROM " DB, &r);
    assert_int_equal(r.kind, MVP_REPLY_ROWS);
    buf[0] = '\0';
    for (i = 0; i < r.n_rows; i++) {
        if (strcmp(r.rows[i][col_index(&r, "Name")], name) == 0) {
            const char *v = r.rows[i][col_index(&r, col)];
            snprintf(buf, sizeof(buf), "%s", v ? v : "NULL");
            mvp_reply_clear(&r);
            return buf;
        }
    }
    mvp_reply_clear(&r);
    return NULL;
}

static bool
usable(const char *name)
{
    struct cat_snapshot *s = cat_snapshot_acquire();
    struct cat_mv *mv = cat_snapshot_find(s, DB, name);
    char why[256];
    bool u;
    assert_non_null(mv);
    u = cat_mv_usable(mv, cat_now_ms(), why, sizeof(why));
    cat_snapshot_release(s);
    return u;
}

static int
start_catalog(void)
{
    struct cat_config cfg = {0};
    cfg.backend_host = g_host;
    cfg.backend_port = g_port;
    cfg.service_user = "mvproxy";
    cfg.service_password = "mvproxy";
    cfg.meta_schema = META;
    char err[512];
    if (cat_init(&cfg, err, sizeof(err)) != 0) {
        fprintf(stderr, "cat_init: %s\n", err);
        return -1;
    }
    return 0;
}

static int
setup(void **state)
{
    (void)state;
    g_root = connect_as("root", "", NULL);
    if (g_root == NULL) {
        return -1;
    }
    q(g_root, "DROP DATABASE IF EXISTS " META);
    q(g_root, "DROP DATABASE IF EXISTS " DB);
    q(g_root, "CREATE DATABASE " DB);
    q(g_root, "USE " DB);
    q(g_root, "CREATE TABLE raw_sales (id INT PRIMARY KEY, region VARCHAR(16), amount "
              "DECIMAL(10,2), dim_id INT)");
    q(g_root, "INSERT INTO raw_sales VALUES (1,'north',10,1),(2,'south',20,1),(3,'north',5,2),"
              "(4,'east',7,2)");
    q(g_root, "CREATE TABLE dim (dim_id INT PRIMARY KEY, label VARCHAR(16))");
    q(g_root, "INSERT INTO dim VALUES (1,'a'),(2,'b')");
    g_app = connect_as("app", "app_pw", NULL);
    if (g_app == NULL) {
        return -1;
    }
    return start_catalog();
}

static int
teardown(void **state)
{
    (void)state;
    cat_shutdown();
    if (g_root) {
        q(g_root, "DROP DATABASE IF EXISTS " DB);
        q(g_root, "DROP DATABASE IF EXISTS " META);
        mysql_close(g_root);
    }
    if (g_app) {
        mysql_close(g_app);
    }
    return 0;
}

static void
test_create_immediate(void **state)
{
    (void)state;
    expect_ok(g_root, "CREATE MATERIALIZED VIEW mv_region BUILD IMMEDIATE REFRESH COMPLETE ON "
                      "MANUAL PROPERTIES (\"grace_period\" = \"0\") AS SELECT region, "
                      "SUM(amount) AS total, COUNT(*) AS cnt FROM raw_sales GROUP BY region;");
    assert_int_equal(q_int(g_root, "SELECT COUNT(*) FROM " DB ".mv_region"), 3);
    assert_string_equal(show_value("mv_region", "Rows"), "3");
    assert_string_equal(show_value("mv_region", "SyncWithBaseTables"), "1");
    assert_string_equal(show_value("mv_region", "RefreshState"), "SUCCESS");
    assert_string_equal(show_value("mv_region", "RefreshInfo"),
                        "BUILD IMMEDIATE REFRESH COMPLETE ON MANUAL");
    assert_string_equal(show_value("mv_region", "PartitionsTotal"), "1");
    assert_true(usable("mv_region"));
    /* leftovers of the swap are gone */
    assert_int_equal(q_int(g_root, "SELECT COUNT(*) FROM information_schema.TABLES WHERE "
                                   "TABLE_SCHEMA='" DB "' AND TABLE_NAME LIKE '%mvp%'"),
                     0);
}

static void
test_create_errors(void **state)
{
    struct mvp_reply r;
    (void)state;
    expect_err(g_root, "CREATE MATERIALIZED VIEW mv_region AS SELECT 1 AS x", 1050);
    expect_ok(g_root, "CREATE MATERIALIZED VIEW IF NOT EXISTS mv_region AS SELECT 1 AS x");
    expect_err(g_root, "CREATE MATERIALIZED VIEW mv_bad AS SELEC region FROM raw_sales", 1064);
    expect_err(g_root, "CREATE MATERIALIZED VIEW mv_bad AS SELECT nope FROM raw_sales", 1054);
    expect_err(g_root, "CREATE MATERIALIZED VIEW mv_bad AS SELECT * FROM no_such_table", 1146);
    expect_err(g_root, "CREATE MATERIALIZED VIEW mv_bad PROPERTIES ('grace_period' = 'abc') AS "
                       "SELECT region FROM raw_sales",
               1231);
    expect_err(g_root, "CREATE MATERIALIZED VIEW mv_bad PROPERTIES ('colour' = 'red') AS "
                       "SELECT region FROM raw_sales",
               1911);
    expect_err(g_root, "CREATE MATERIALIZED VIEW mv_bad PARTITION BY (region) AS SELECT region "
                       "FROM raw_sales",
               1235);
    /* no privileges: the client's CREATE TABLE ... AS SELECT is refused; nothing recorded */
    assert_true(admin(g_app, DB, "CREATE MATERIALIZED VIEW " DB ".mv_app AS SELECT region FROM "
                                 DB ".raw_sales",
                      &r));
    assert_int_equal(r.kind, MVP_REPLY_ERR);
    assert_int_equal(r.err_code, 1142);
    mvp_reply_clear(&r);
    assert_null(show_value("mv_app", "Name"));
    assert_null(show_value("mv_bad", "Name"));
    assert_int_equal(q_int(g_root, "SELECT COUNT(*) FROM " META ".mvs WHERE name IN "
                                   "('mv_app','mv_bad')"),
                     0);
}

static void
test_deferred_and_refresh(void **state)
{
    struct mvp_reply r;
    (void)state;
    expect_ok(g_root, "CREATE MATERIALIZED VIEW mv_def (reg COMMENT 'the region', n) BUILD "
                      "DEFERRED REFRESH AUTO ON MANUAL COMMENT 'deferred one' AS SELECT region, "
                      "COUNT(*) FROM raw_sales GROUP BY region");
    assert_int_equal(q_int(g_root, "SELECT COUNT(*) FROM " DB ".mv_def"), 0);
    assert_false(usable("mv_def"));
    assert_string_equal(show_value("mv_def", "RefreshState"), "INIT");
    assert_true(admin(g_root, DB, "REFRESH MATERIALIZED VIEW mv_def COMPLETE", &r));
    assert_int_equal(r.kind, MVP_REPLY_OK);
    assert_int_equal(r.affected_rows, 3);
    assert_non_null(strstr(r.info, "3 rows"));
    mvp_reply_clear(&r);
    assert_true(usable("mv_def"));
    assert_int_equal(q_int(g_root, "SELECT n FROM " DB ".mv_def WHERE reg='north'"), 2);
    expect_err(g_root, "REFRESH MATERIALIZED VIEW mv_nope COMPLETE", 1146);
    /* PARTITIONS of a view that is not partitioned (cat_admin.c run_refresh) */
    expect_err(g_root, "REFRESH MATERIALIZED VIEW mv_def PARTITIONS (p1)", 1505);
    /* tasks() history */
    assert_true(admin(g_root, DB, "SELECT * FROM tasks('type'='mv')", &r));
    assert_int_equal(r.kind, MVP_REPLY_ROWS);
    assert_int_equal(r.n_cols, 15);
    assert_true(r.n_rows >= 2);
    assert_string_equal(r.rows[r.n_rows - 1][col_index(&r, "Status")], "SUCCESS");
    mvp_reply_clear(&r);
    assert_true(admin(g_root, DB,
                      "SELECT MvName, `Rows` FROM tasks('type'='mv') WHERE MvName = 'mv_def'",
                      &r));
    assert_int_equal(r.kind, MVP_REPLY_ROWS);
    assert_int_equal(r.n_cols, 2);
    assert_int_equal(r.n_rows, 1);
    mvp_reply_clear(&r);
}

static void
test_freshness(void **state)
{
    (void)state;
    expect_ok(g_root, "CREATE MATERIALIZED VIEW mv_grace PROPERTIES ('grace_period'='3600') AS "
                      "SELECT region, SUM(amount) AS s FROM raw_sales GROUP BY region");
    expect_ok(g_root, "CREATE MATERIALIZED VIEW mv_dim PROPERTIES "
                      "('excluded_trigger_tables'='dim') AS SELECT s.region, d.label FROM "
                      "raw_sales s JOIN dim d ON s.dim_id = d.dim_id");
    /* reads mark nothing */
    assert_int_equal(cat_note_write("SELECT * FROM raw_sales", 23, DB, 0, cat_now_ms()), 0);
    /* a write to the excluded dim marks nothing */
    assert_int_equal(cat_note_write("INSERT INTO dim VALUES (3,'c')", 30, DB, 0, cat_now_ms()), 0);
    q(g_root, "INSERT INTO " DB ".raw_sales VALUES (5,'west',1,1)");
    assert_true(cat_note_write("INSERT INTO raw_sales VALUES (5,'west',1,1)", 43, DB, 0,
                               cat_now_ms() - 1000) >= 4);
    assert_false(usable("mv_region"));
    assert_true(usable("mv_grace"));
    assert_string_equal(show_value("mv_region", "SyncWithBaseTables"), "0");
    /* persisted asynchronously */
    usleep(400 * 1000);
    assert_true(q_int(g_root, "SELECT stale_since_ms FROM " META ".mvs WHERE name='mv_region'") >
                0);
    expect_ok(g_root, "REFRESH MATERIALIZED VIEW mv_region AUTO");
    assert_true(usable("mv_region"));
    assert_string_equal(show_value("mv_region", "Rows"), "4");
    assert_string_equal(show_value("mv_region", "Staleness"), "0");
}

static void
test_layers(void **state)
{
    (void)state;
    expect_ok(g_root, "CREATE MATERIALIZED VIEW mv_top AS SELECT SUM(total) AS grand FROM "
                      "mv_region");
    assert_true(usable("mv_top"));
    assert_true(cat_note_write("UPDATE raw_sales SET amount = amount + 1 WHERE id = 1", 52, DB, 0,
                               cat_now_ms() - 1000) >= 2);
    assert_false(usable("mv_region"));
    assert_false(usable("mv_top"));
    /* the upper layer cannot be fresher than its input */
    expect_ok(g_root, "REFRESH MATERIALIZED VIEW mv_top COMPLETE");
    assert_false(usable("mv_top"));
    expect_ok(g_root, "REFRESH MATERIALIZED VIEW mv_region COMPLETE");
    expect_ok(g_root, "REFRESH MATERIALIZED VIEW mv_top COMPLETE");
    assert_true(usable("mv_top"));
    /* dependents block DROP */
    expect_err(g_root, "DROP MATERIALIZED VIEW mv_region", 3730);
}

static void
test_show_and_alter(void **state)
{
    struct mvp_reply r;
    (void)state;
    assert_true(admin(g_root, DB, "SHOW MATERIALIZED VIEWS LIKE 'mv_re%'", &r));
    assert_int_equal(r.kind, MVP_REPLY_ROWS);
    assert_int_equal(r.n_cols, 24);
    assert_string_equal(r.col_names[0], "Id");
    assert_string_equal(r.col_names[21], "FreshnessSource"); /* engine/cat_binlog.c */
    assert_string_equal(r.col_names[22], "RewriteFailures"); /* SPEC §7, proxy/px_session.c */
    assert_string_equal(r.col_names[23], "Indexes"); /* engine/cat_index.c */
    assert_string_equal(r.col_names[10], "SyncWithBaseTables");
    assert_string_equal(r.col_names[19], "LastHitTime");
    assert_string_equal(r.col_names[20], "RewriteModel");
    assert_int_equal(r.n_rows, 1);
    mvp_reply_clear(&r);
    assert_true(admin(g_root, DB, "SHOW MATERIALIZED VIEWS WHERE Name = 'mv_def'", &r));
    assert_int_equal(r.kind, MVP_REPLY_ROWS);
    assert_int_equal(r.n_rows, 1);
    mvp_reply_clear(&r);
    assert_true(admin(g_root, DB,
                      "SELECT Name, GracePeriod FROM mv_infos('database'='" DB
                      "') WHERE GracePeriod > 0",
                      &r));
    assert_int_equal(r.kind, MVP_REPLY_ROWS);
    assert_int_equal(r.n_rows, 1);
    assert_string_equal(r.rows[0][0], "mv_grace");
    mvp_reply_clear(&r);
    assert_true(admin(g_root, DB, "SHOW CREATE MATERIALIZED VIEW mv_def", &r));
    assert_int_equal(r.kind, MVP_REPLY_ROWS);
    assert_non_null(strstr(r.rows[0][1], "COMMENT 'the region'"));
    assert_non_null(strstr(r.rows[0][1], "AS SELECT region"));
    mvp_reply_clear(&r);
    assert_true(admin(g_root, DB, "SHOW PARTITIONS FROM mv_def", &r));
    assert_int_equal(r.kind, MVP_REPLY_ROWS);
    assert_int_equal(r.n_rows, 1);
    mvp_reply_clear(&r);
    expect_ok(g_root, "ALTER MATERIALIZED VIEW mv_def SET ('grace_period' = '60')");
    assert_string_equal(show_value("mv_def", "GracePeriod"), "60");
    expect_err(g_root, "ALTER MATERIALIZED VIEW mv_def SET ('grace_period' = '-1')", 1231);
    expect_ok(g_root, "PAUSE MATERIALIZED VIEW JOB ON mv_def");
    assert_string_equal(show_value("mv_def", "State"), "PAUSED");
    expect_ok(g_root, "RESUME MATERIALIZED VIEW JOB ON mv_def");
    assert_string_equal(show_value("mv_def", "State"), "NORMAL");
    expect_ok(g_root, "ALTER MATERIALIZED VIEW mv_def RENAME mv_def2");
    assert_non_null(show_value("mv_def2", "Name"));
    assert_int_equal(q_int(g_root, "SELECT COUNT(*) FROM " DB ".mv_def2"), 3);
    /* ON COMMIT is supported (cat_sched.c); a schedule unit that is not is refused */
    expect_err(g_root, "ALTER MATERIALIZED VIEW mv_def2 REFRESH COMPLETE ON SCHEDULE EVERY 1 MONTH",
               1235);
    /* EXPLAIN REWRITE: candidate rows + one summary row, SPEC §8 columns */
    assert_true(admin(g_root, DB, "EXPLAIN REWRITE SELECT region, SUM(amount) FROM raw_sales "
                                  "GROUP BY region",
                      &r));
    assert_int_equal(r.kind, MVP_REPLY_ROWS);
    assert_int_equal(r.n_cols, 6);
    assert_string_equal(r.col_names[0], "mv_name");
    assert_string_equal(r.col_names[5], "sql");
    assert_true(r.n_rows >= 1);
    assert_null(r.rows[r.n_rows - 1][0]);
    mvp_reply_clear(&r);
}

static void
test_restart(void **state)
{
    char before[64];
    (void)state;
    snprintf(before, sizeof(before), "%s", show_value("mv_region", "LastRefreshTime"));
    cat_note_write("DELETE FROM raw_sales WHERE id = 5", 34, DB, 0, cat_now_ms() - 5000);
    usleep(400 * 1000);
    cat_shutdown();
    assert_int_equal(start_catalog(), 0);
    assert_non_null(show_value("mv_def2", "Name"));
    assert_string_equal(show_value("mv_region", "LastRefreshTime"), before);
    assert_string_equal(show_value("mv_region", "Rows"), "4");
    assert_false(usable("mv_region"));
    assert_true(usable("mv_grace"));
    assert_string_equal(show_value("mv_def2", "GracePeriod"), "60");
}

static void
test_drop(void **state)
{
    (void)state;
    expect_ok(g_root, "DROP MATERIALIZED VIEW mv_top");
    expect_ok(g_root, "DROP MATERIALIZED VIEW mv_region");
    expect_err(g_root, "DROP MATERIALIZED VIEW mv_region", 1146);
    expect_ok(g_root, "DROP MATERIALIZED VIEW IF EXISTS mv_region");
    assert_int_equal(q_int(g_root, "SELECT COUNT(*) FROM information_schema.TABLES WHERE "
                                   "TABLE_SCHEMA='" DB "' AND TABLE_NAME='mv_region'"),
                     0);
    assert_null(show_value("mv_region", "Name"));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_create_immediate), cmocka_unit_test(test_create_errors),
        cmocka_unit_test(test_deferred_and_refresh), cmocka_unit_test(test_freshness),
        cmocka_unit_test(test_layers),           cmocka_unit_test(test_show_and_alter),
        cmocka_unit_test(test_restart),          cmocka_unit_test(test_drop),
    };
    const char *port = getenv("MVP_DB_PORT");
    if (port == NULL) {
        printf("itest_catalog: MVP_DB_PORT not set (scripts/mariadb.sh start); skipped\n");
        return 0;
    }
    g_host = getenv("MVP_DB_HOST") ? getenv("MVP_DB_HOST") : "127.0.0.1";
    g_port = (unsigned)atoi(port);
    return cmocka_run_group_tests(tests, setup, teardown);
}
