/*
 * itest_admin_privileges.c - admin statements need the backend privilege of
 * their equivalent DDL, checked for the client's own user (SPEC §3), and
 * introspection shows only views on whose storage table the user has some
 * privilege. Root creates, directly on MariaDB, the probes' users:
 *   itap_own   ALL on its own schema itap_own only (creates its own views),
 *   itap_sel   SELECT on root's view table itap.mv_a only,
 *   itap_none  no grants at all,
 * and through a real mvproxy root's views itap.mv_a / itap.mv_b. Each
 * statement is tried both ways: the allowed user succeeds; the denied user
 * gets 1142 (1227 for CANCEL) and the view's state (State, refresh clause,
 * grace period, properties, rows, task count) is unchanged afterwards.
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

#define META "mvp_meta_itap"
#define DB "itap"
#define OWN "itap_own"
#define PW "pw_itap"

static struct it_env env;
static struct it_proxy proxy;

static const char *const users[][2] = {
    {"itap_own", "GRANT ALL ON " OWN ".* TO itap_own@'%'"},
    {"itap_sel", NULL}, /* SELECT on itap.mv_a, granted once the view exists */
    {"itap_none", NULL},
    {"itap_base", "GRANT SELECT ON " DB ".t TO itap_base@'%'"}, /* the base table, no view */
    {"itap_role", NULL}, /* ALTER + INSERT on itap.mv_a through a role granted to its role */
    {"itap_wild", "GRANT ALTER ON `itap\\_o%`.* TO itap_wild@'%'"}, /* a wildcard database */
    {NULL, NULL},
};

/* A query mv_a answers. */
#define QA "SELECT k, SUM(v) AS s FROM " DB ".t GROUP BY k"

/* Connect to the proxy as USER (database DB may be NULL); fails the test on error. */
static MYSQL *
as(const char *user, const char *db)
{
    char err[512];
    unsigned code = 0;
    MYSQL *m = it_connect(env.db_host, proxy.port, user, PW, db, 0, err, &code);
    if (m == NULL) {
        fail_msg("connect as %s: %s", user, err);
    }
    return m;
}

/* Root's view of VIEW's state through the proxy, into BUF: State, RefreshInfo,
 * GracePeriod, MvProperties, Rows of SHOW MATERIALIZED VIEWS, the storage
 * table's row count and the view's task count (direct). "" when not listed. */
static void
state_of(const char *db, const char *view, char *buf, size_t len)
{
    static const char *const want[] = {"State", "RefreshInfo", "GracePeriod", "MvProperties",
                                       "Rows", "Name"};
    MYSQL *m = it_must_connect_proxy(&proxy, &env, NULL, 0);
    MYSQL *d = it_must_connect_direct(&env, NULL, 0);
    MYSQL_RES *res;
    MYSQL_ROW row;
    MYSQL_FIELD *f;
    unsigned i, j, n;
    char sql[512], v[64];
    size_t off = 0;
    buf[0] = '\0';
    snprintf(sql, sizeof(sql), "SHOW MATERIALIZED VIEWS FROM %s", db);
    if (mysql_query(m, sql) != 0 || (res = mysql_store_result(m)) == NULL) {
        fail_msg("%s: %s", sql, mysql_error(m));
    }
    n = mysql_num_fields(res);
    f = mysql_fetch_fields(res);
    while ((row = mysql_fetch_row(res)) != NULL) {
        int name_col = -1;
        for (i = 0; i < n; i++) {
            if (strcmp(f[i].name, "Name") == 0) {
                name_col = (int)i;
            }
        }
        if (name_col < 0 || row[name_col] == NULL || strcmp(row[name_col], view) != 0) {
            continue;
        }
        for (j = 0; j < sizeof(want) / sizeof(want[0]); j++) {
            for (i = 0; i < n; i++) {
                if (strcmp(f[i].name, want[j]) == 0) {
                    off += (size_t)snprintf(buf + off, len > off ? len - off : 0, "%s|",
                                            row[i] ? row[i] : "NULL");
                }
            }
        }
    }
    mysql_free_result(res);
    snprintf(sql, sizeof(sql), "SELECT COUNT(*) FROM %s.%s", db, view);
    if (it_first_value(d, sql, v, sizeof(v)) != 0) {
        snprintf(v, sizeof(v), "no table");
    }
    off += (size_t)snprintf(buf + off, len > off ? len - off : 0, "rows=%s|", v);
    snprintf(sql, sizeof(sql), "SELECT COUNT(*) FROM " META ".tasks WHERE mv_db = '%s' AND "
                               "mv_name = '%s'", db, view);
    if (it_first_value(d, sql, v, sizeof(v)) != 0) {
        snprintf(v, sizeof(v), "?");
    }
    off += (size_t)snprintf(buf + off, len > off ? len - off : 0, "tasks=%s|", v);
    snprintf(sql, sizeof(sql), "SELECT COUNT(*) FROM information_schema.STATISTICS WHERE "
                               "TABLE_SCHEMA = '%s' AND TABLE_NAME = '%s'"
                               " AND INDEX_NAME NOT LIKE 'mvp\\_auto\\_%%'", db, view);
    if (it_first_value(d, sql, v, sizeof(v)) != 0) {
        snprintf(v, sizeof(v), "?");
    }
    snprintf(buf + off, len > off ? len - off : 0, "index_cols=%s", v);
    mysql_close(m);
    mysql_close(d);
}

/* Number of rows SQL returns on M (fails the test on an error). */
static size_t
n_rows(MYSQL *m, const char *sql)
{
    struct it_rows r;
    size_t n;
    memset(&r, 0, sizeof(r));
    if (it_query_rows(m, sql, &r) != 0) {
        fail_msg("%s: %s", sql, mysql_error(m));
    }
    n = r.n;
    it_rows_free(&r);
    return n;
}

/* Does some row of SQL's result on M contain NEEDLE? */
static bool
rows_contain(MYSQL *m, const char *sql, const char *needle)
{
    struct it_rows r;
    size_t i;
    bool found = false;
    memset(&r, 0, sizeof(r));
    if (it_query_rows(m, sql, &r) != 0) {
        fail_msg("%s: %s", sql, mysql_error(m));
    }
    for (i = 0; i < r.n; i++) {
        found = found || strstr(r.rows[i], needle) != NULL;
    }
    it_rows_free(&r);
    return found;
}

/* The newest task id of view DB.VIEW (direct), or 0. */
static unsigned long long
last_task(const char *db, const char *view)
{
    MYSQL *d = it_must_connect_direct(&env, NULL, 0);
    char sql[512], v[64] = "";
    snprintf(sql, sizeof(sql), "SELECT MAX(task_id) FROM " META ".tasks WHERE mv_db = '%s' "
                               "AND mv_name = '%s'", db, view);
    it_first_value(d, sql, v, sizeof(v));
    mysql_close(d);
    return strtoull(v, NULL, 10);
}

static int
setup(void **state)
{
    MYSQL *d, *m;
    char sql[512];
    size_t k;
    (void)state;
    it_env_load(&env);
    d = it_connect_direct(&env, NULL, 0);
    if (d == NULL) {
        return -1;
    }
    it_exec(d, "DROP DATABASE IF EXISTS " DB);
    it_exec(d, "DROP DATABASE IF EXISTS " OWN);
    it_exec(d, "DROP DATABASE IF EXISTS " META);
    it_exec(d, "CREATE DATABASE " DB);
    it_exec(d, "CREATE DATABASE " OWN);
    it_exec(d, "CREATE TABLE " DB ".t (id INT PRIMARY KEY, k INT, v INT)");
    it_exec(d, "INSERT INTO " DB ".t VALUES (1,1,10),(2,1,20),(3,2,5)");
    it_exec(d, "CREATE TABLE " OWN ".t2 (id INT PRIMARY KEY, k INT, v INT)");
    it_exec(d, "INSERT INTO " OWN ".t2 VALUES (1,1,1),(2,2,2)");
    for (k = 0; users[k][0] != NULL; k++) {
        snprintf(sql, sizeof(sql), "DROP USER IF EXISTS %s@'%%'", users[k][0]);
        it_exec(d, sql);
        snprintf(sql, sizeof(sql), "CREATE USER %s@'%%' IDENTIFIED BY '" PW "'", users[k][0]);
        if (it_exec(d, sql) != 0 || (users[k][1] != NULL && it_exec(d, users[k][1]) != 0)) {
            mysql_close(d);
            return -1;
        }
    }
    mysql_close(d);
    if (it_proxy_start(&proxy, &env, META, NULL) != 0) {
        return -1;
    }
    m = it_connect_proxy(&proxy, &env, DB, 0);
    if (m == NULL) {
        return -1;
    }
    if (it_exec(m, "CREATE MATERIALIZED VIEW mv_a BUILD IMMEDIATE REFRESH COMPLETE ON MANUAL "
                   "AS SELECT k, SUM(v) AS s, COUNT(*) AS c FROM t GROUP BY k") != 0 ||
        it_exec(m, "CREATE MATERIALIZED VIEW mv_b BUILD IMMEDIATE REFRESH COMPLETE ON MANUAL "
                   "AS SELECT k, MAX(v) AS mx FROM t GROUP BY k") != 0 ||
        it_exec(m, "ALTER MATERIALIZED VIEW mv_a ADD INDEX ix_s (s)") != 0) {
        mysql_close(m);
        return -1;
    }
    mysql_close(m);
    /* the grant names the table, which exists now */
    d = it_connect_direct(&env, NULL, 0);
    it_exec(d, "GRANT SELECT ON " DB ".mv_a TO itap_sel@'%'");
    it_exec(d, "DROP ROLE IF EXISTS itap_r_outer");
    it_exec(d, "DROP ROLE IF EXISTS itap_r_inner");
    if (it_exec(d, "CREATE ROLE itap_r_inner") != 0 || it_exec(d, "CREATE ROLE itap_r_outer") != 0 ||
        it_exec(d, "GRANT ALTER, INSERT ON " DB ".mv_a TO itap_r_inner") != 0 ||
        it_exec(d, "GRANT itap_r_inner TO itap_r_outer") != 0 ||
        it_exec(d, "GRANT itap_r_outer TO itap_role@'%'") != 0 ||
        it_exec(d, "SET DEFAULT ROLE itap_r_outer FOR itap_role@'%'") != 0) {
        mysql_close(d);
        return -1;
    }
    mysql_close(d);
    m = as("itap_own", OWN);
    if (it_exec(m, "CREATE MATERIALIZED VIEW mv_o BUILD IMMEDIATE REFRESH COMPLETE ON MANUAL "
                   "AS SELECT k, SUM(v) AS s FROM t2 GROUP BY k") != 0) {
        mysql_close(m);
        return -1;
    }
    mysql_close(m);
    return 0;
}

static int
teardown(void **state)
{
    MYSQL *d;
    char sql[256];
    size_t k;
    (void)state;
    it_proxy_stop(&proxy);
    d = it_connect_direct(&env, NULL, 0);
    if (d != NULL) {
        for (k = 0; users[k][0] != NULL; k++) {
            snprintf(sql, sizeof(sql), "DROP USER IF EXISTS %s@'%%'", users[k][0]);
            it_exec(d, sql);
        }
        it_exec(d, "DROP ROLE IF EXISTS itap_r_outer");
        it_exec(d, "DROP ROLE IF EXISTS itap_r_inner");
        it_exec(d, "DROP DATABASE IF EXISTS " DB);
        it_exec(d, "DROP DATABASE IF EXISTS " OWN);
        it_exec(d, "DROP DATABASE IF EXISTS " META);
        mysql_close(d);
    }
    return 0;
}

/* Statements on root's mv_a that a user without the privilege must not run. */
static const char *const changes[][2] = {
    {"ALTER MATERIALIZED VIEW " DB ".mv_a SET (\"grace_period\" = \"3600\")", "ALTER"},
    {"ALTER MATERIALIZED VIEW " DB ".mv_a REFRESH AUTO ON SCHEDULE EVERY 1 MINUTE", "ALTER"},
    {"ALTER MATERIALIZED VIEW " DB ".mv_a RENAME mv_a2", "ALTER"},
    {"ALTER MATERIALIZED VIEW " DB ".mv_a ADD INDEX ix_k (k)", "ALTER"},
    {"ALTER MATERIALIZED VIEW " DB ".mv_a DROP INDEX ix_s", "ALTER"},
    {"PAUSE MATERIALIZED VIEW JOB ON " DB ".mv_a", "ALTER"},
    {"RESUME MATERIALIZED VIEW JOB ON " DB ".mv_a", "ALTER"},
    {"REFRESH MATERIALIZED VIEW " DB ".mv_a COMPLETE", "INSERT"},
    {"DROP MATERIALIZED VIEW " DB ".mv_a", "DROP"},
    {NULL, NULL},
};

/* itap_sel (SELECT only) and itap_none: 1142 naming the command, nothing changes. */
static void
test_denied_changes(void **state)
{
    static const char *const who[] = {"itap_sel", "itap_none", "itap_own"};
    char before[1024], after[1024];
    size_t u, k;
    (void)state;
    state_of(DB, "mv_a", before, sizeof(before));
    assert_non_null(strstr(before, "mv_a|"));
    for (u = 0; u < 3; u++) {
        MYSQL *m = as(who[u], NULL);
        for (k = 0; changes[k][0] != NULL; k++) {
            char want[256];
            it_expect_errno(m, changes[k][0], 1142);
            snprintf(want, sizeof(want), "%s command denied to user '%s'@", changes[k][1],
                     who[u]);
            if (strstr(mysql_error(m), want) == NULL) {
                fail_msg("%s as %s: '%s' lacks '%s'", changes[k][0], who[u], mysql_error(m),
                         want);
            }
            state_of(DB, "mv_a", after, sizeof(after));
            if (strcmp(before, after) != 0) {
                fail_msg("%s as %s changed the view: %s -> %s", changes[k][0], who[u], before,
                         after);
            }
        }
        /* a view that does not exist: the same denial, so existence does not leak */
        it_expect_errno(m, "REFRESH MATERIALIZED VIEW " DB ".no_such_view COMPLETE", 1142);
        it_expect_errno(m, "DROP MATERIALIZED VIEW " DB ".no_such_view", 1142);
        mysql_close(m);
    }
}

/* itap_own on its own view: every statement works, and its effect shows. */
static void
test_owner_allowed(void **state)
{
    MYSQL *m = as("itap_own", OWN);
    char st[1024];
    (void)state;
    it_exec_ok(m, "ALTER MATERIALIZED VIEW mv_o SET (\"grace_period\" = \"60\")");
    state_of(OWN, "mv_o", st, sizeof(st));
    assert_non_null(strstr(st, "|60|"));
    it_exec_ok(m, "ALTER MATERIALIZED VIEW mv_o REFRESH COMPLETE ON SCHEDULE EVERY 1 DAY");
    state_of(OWN, "mv_o", st, sizeof(st));
    assert_non_null(strstr(st, "EVERY 1 DAY"));
    it_exec_ok(m, "PAUSE MATERIALIZED VIEW JOB ON mv_o");
    state_of(OWN, "mv_o", st, sizeof(st));
    assert_non_null(strstr(st, "PAUSED|"));
    it_exec_ok(m, "RESUME MATERIALIZED VIEW JOB ON mv_o");
    state_of(OWN, "mv_o", st, sizeof(st));
    assert_null(strstr(st, "PAUSED|"));
    it_exec_ok(m, "ALTER MATERIALIZED VIEW mv_o REFRESH COMPLETE ON MANUAL");
    it_exec_ok(m, "REFRESH MATERIALIZED VIEW mv_o COMPLETE");
    it_exec_ok(m, "ALTER MATERIALIZED VIEW mv_o ADD INDEX ix_k (k)");
    state_of(OWN, "mv_o", st, sizeof(st));
    assert_non_null(strstr(st, "index_cols=1"));
    it_exec_ok(m, "REFRESH MATERIALIZED VIEW mv_o COMPLETE"); /* the rebuilt table keeps it */
    state_of(OWN, "mv_o", st, sizeof(st));
    assert_non_null(strstr(st, "index_cols=1"));
    it_exec_ok(m, "ALTER MATERIALIZED VIEW mv_o DROP INDEX ix_k");
    state_of(OWN, "mv_o", st, sizeof(st));
    assert_non_null(strstr(st, "index_cols=0"));
    it_exec_ok(m, "ALTER MATERIALIZED VIEW mv_o RENAME mv_o2");
    it_exec_ok(m, "ALTER MATERIALIZED VIEW mv_o2 RENAME mv_o");
    it_exec_ok(m, "CREATE MATERIALIZED VIEW mv_tmp BUILD DEFERRED AS SELECT k FROM t2");
    it_exec_ok(m, "DROP MATERIALIZED VIEW mv_tmp");
    mysql_close(m);
    /* root keeps every right on every view */
    m = it_must_connect_proxy(&proxy, &env, DB, 0);
    it_exec_ok(m, "ALTER MATERIALIZED VIEW " OWN ".mv_o SET (\"grace_period\" = \"0\")");
    it_exec_ok(m, "PAUSE MATERIALIZED VIEW JOB ON mv_b");
    it_exec_ok(m, "RESUME MATERIALIZED VIEW JOB ON mv_b");
    mysql_close(m);
}

/* CREATE needs CREATE on the database and SELECT on what the definition reads. */
static void
test_create_denied(void **state)
{
    MYSQL *m = as("itap_sel", NULL), *d;
    char v[64];
    (void)state;
    it_expect_errno(m, "CREATE MATERIALIZED VIEW " DB ".mv_x BUILD DEFERRED AS SELECT k, s "
                       "FROM " DB ".mv_a", 1142);
    mysql_close(m);
    m = as("itap_own", OWN);
    it_expect_errno(m, "CREATE MATERIALIZED VIEW mv_y BUILD IMMEDIATE AS SELECT k, SUM(v) AS s "
                       "FROM " DB ".t GROUP BY k", 1142);
    /* and an existing view's name in a database without CREATE: 1142, not "exists" */
    it_expect_errno(m, "CREATE MATERIALIZED VIEW " DB ".mv_b AS SELECT 1 AS one", 1142);
    mysql_close(m);
    d = it_must_connect_direct(&env, NULL, 0);
    assert_int_equal(it_first_value(d, "SELECT COUNT(*) FROM information_schema.TABLES WHERE "
                                       "TABLE_SCHEMA = '" OWN "' AND TABLE_NAME = 'mv_y'",
                                    v, sizeof(v)), 0);
    assert_string_equal(v, "0");
    assert_int_equal(it_first_value(d, "SELECT COUNT(*) FROM " META ".mvs WHERE name IN "
                                       "('mv_x', 'mv_y')", v, sizeof(v)), 0);
    assert_string_equal(v, "0");
    mysql_close(d);
}

/* CANCEL: the task's owner or PROCESS; a denial comes before "not running". */
static void
test_cancel(void **state)
{
    MYSQL *root = it_must_connect_proxy(&proxy, &env, DB, 0), *m;
    unsigned long long tid, otid;
    char sql[256];
    (void)state;
    it_exec_ok(root, "REFRESH MATERIALIZED VIEW mv_a COMPLETE");
    tid = last_task(DB, "mv_a");
    assert_true(tid > 0);
    snprintf(sql, sizeof(sql), "CANCEL MATERIALIZED VIEW TASK %llu ON " DB ".mv_a", tid);
    m = as("itap_none", NULL);
    it_expect_errno(m, sql, 1227);
    mysql_close(m);
    m = as("itap_own", NULL);
    it_expect_errno(m, sql, 1227);
    /* its own (finished) task: allowed, so the answer is "not running" */
    it_exec_ok(m, "REFRESH MATERIALIZED VIEW " OWN ".mv_o COMPLETE");
    otid = last_task(OWN, "mv_o");
    assert_true(otid > 0);
    snprintf(sql, sizeof(sql), "CANCEL MATERIALIZED VIEW TASK %llu ON " OWN ".mv_o", otid);
    it_expect_errno(m, sql, 1105);
    mysql_close(m);
    /* root has PROCESS: "not running", not a denial */
    snprintf(sql, sizeof(sql), "CANCEL MATERIALIZED VIEW TASK %llu ON " DB ".mv_a", tid);
    it_expect_errno(root, sql, 1105);
    mysql_close(root);
}

/* Introspection hides the views a user cannot see, as MariaDB hides tables. */
static void
test_introspection(void **state)
{
    MYSQL *m = as("itap_none", NULL), *root;
    MYSQL_RES *res;
    MYSQL_ROW row;
    (void)state;
    assert_int_equal(n_rows(m, "SHOW MATERIALIZED VIEWS FROM " DB), 0);
    assert_int_equal(n_rows(m, "SHOW MATERIALIZED VIEWS FROM " OWN), 0);
    assert_int_equal(n_rows(m, "SELECT * FROM mv_infos('database' = '" DB "')"), 0);
    assert_int_equal(n_rows(m, "SELECT * FROM tasks('type' = 'mv')"), 0);
    assert_int_equal(n_rows(m, "SELECT TaskId FROM tasks('type' = 'mv') WHERE 1 = 1"), 0);
    it_expect_errno(m, "SHOW CREATE MATERIALIZED VIEW " DB ".mv_a", 1146);
    it_expect_errno(m, "SHOW PARTITIONS FROM " DB ".mv_a", 1146);
    res = it_explain_rewrite(m, QA);
    assert_non_null(res);
    while ((row = mysql_fetch_row(res)) != NULL) {
        if (row[0] != NULL) {
            fail_msg("EXPLAIN REWRITE as itap_none lists %s", row[0]);
        }
        assert_string_equal(row[1], "NOT_REWRITTEN");
        assert_null(strstr(row[5] ? row[5] : "", "mv_"));
    }
    mysql_free_result(res);
    mysql_close(m);

    /* SELECT on the base table but no privilege on the view: the view is
     * hidden even where it would be chosen, and the summary is the query as
     * written (the backend would refuse the rewritten text for this user) */
    m = as("itap_base", NULL);
    res = it_explain_rewrite(m, QA);
    assert_non_null(res);
    while ((row = mysql_fetch_row(res)) != NULL) {
        if (row[0] != NULL) {
            fail_msg("EXPLAIN REWRITE as itap_base lists %s", row[0]);
        }
        assert_string_equal(row[1], "NOT_REWRITTEN");
        assert_string_equal(row[5], QA);
    }
    mysql_free_result(res);
    assert_int_equal(n_rows(m, QA), 2); /* and the query itself still answers */
    mysql_close(m);

    m = as("itap_sel", NULL);
    assert_int_equal(n_rows(m, "SHOW MATERIALIZED VIEWS FROM " DB), 1);
    assert_true(rows_contain(m, "SHOW MATERIALIZED VIEWS FROM " DB, "mv_a"));
    assert_int_equal(n_rows(m, "SELECT * FROM mv_infos('database' = '" DB "')"), 1);
    assert_false(rows_contain(m, "SELECT * FROM tasks('type' = 'mv')", "mv_b"));
    assert_true(rows_contain(m, "SELECT * FROM tasks('type' = 'mv')", "mv_a"));
    assert_int_equal(n_rows(m, "SHOW CREATE MATERIALIZED VIEW " DB ".mv_a"), 1);
    it_expect_errno(m, "SHOW CREATE MATERIALIZED VIEW " DB ".mv_b", 1146);
    it_expect_errno(m, "SHOW PARTITIONS FROM " DB ".mv_b", 1146);
    assert_int_equal(n_rows(m, "SHOW PARTITIONS FROM " DB ".mv_a") > 0, 1);
    mysql_close(m);

    m = as("itap_own", NULL);
    assert_int_equal(n_rows(m, "SHOW MATERIALIZED VIEWS FROM " DB), 0);
    assert_int_equal(n_rows(m, "SHOW MATERIALIZED VIEWS FROM " OWN), 1);
    mysql_close(m);

    root = it_must_connect_proxy(&proxy, &env, DB, 0);
    assert_int_equal(n_rows(root, "SHOW MATERIALIZED VIEWS FROM " DB), 2);
    assert_true(rows_contain(root, "SELECT * FROM tasks('type' = 'mv')", "mv_o"));
    res = it_explain_rewrite(root, QA);
    assert_non_null(res);
    {
        bool listed = false;
        while ((row = mysql_fetch_row(res)) != NULL) {
            listed = listed || (row[0] != NULL && strstr(row[0], "mv_a") != NULL);
        }
        assert_true(listed);
    }
    mysql_free_result(res);
    mysql_close(root);
}

/* Privileges through roles (a role granted to the current role) and wildcard databases. */
static void
test_roles_and_wildcards(void **state)
{
    MYSQL *m = as("itap_role", NULL);
    char st[1024];
    (void)state;
    it_exec_ok(m, "PAUSE MATERIALIZED VIEW JOB ON " DB ".mv_a");
    state_of(DB, "mv_a", st, sizeof(st));
    assert_non_null(strstr(st, "PAUSED|"));
    it_exec_ok(m, "RESUME MATERIALIZED VIEW JOB ON " DB ".mv_a");
    it_exec_ok(m, "REFRESH MATERIALIZED VIEW " DB ".mv_a COMPLETE");
    it_expect_errno(m, "PAUSE MATERIALIZED VIEW JOB ON " DB ".mv_b", 1142);
    it_expect_errno(m, "DROP MATERIALIZED VIEW " DB ".mv_a", 1142);
    assert_int_equal(n_rows(m, "SHOW MATERIALIZED VIEWS FROM " DB), 1);
    /* without the role: nothing */
    it_exec_ok(m, "SET ROLE NONE");
    it_expect_errno(m, "PAUSE MATERIALIZED VIEW JOB ON " DB ".mv_a", 1142);
    assert_int_equal(n_rows(m, "SHOW MATERIALIZED VIEWS FROM " DB), 0);
    mysql_close(m);

    m = as("itap_wild", NULL);
    it_exec_ok(m, "PAUSE MATERIALIZED VIEW JOB ON " OWN ".mv_o");
    it_exec_ok(m, "RESUME MATERIALIZED VIEW JOB ON " OWN ".mv_o");
    it_expect_errno(m, "PAUSE MATERIALIZED VIEW JOB ON " DB ".mv_a", 1142);
    it_expect_errno(m, "REFRESH MATERIALIZED VIEW " OWN ".mv_o COMPLETE", 1142); /* no INSERT */
    assert_int_equal(n_rows(m, "SHOW MATERIALIZED VIEWS FROM " OWN), 1);
    mysql_close(m);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_denied_changes),
        cmocka_unit_test(test_owner_allowed),
        cmocka_unit_test(test_create_denied),
        cmocka_unit_test(test_cancel),
        cmocka_unit_test(test_introspection),
        cmocka_unit_test(test_roles_and_wildcards),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
