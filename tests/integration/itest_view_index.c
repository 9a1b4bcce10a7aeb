/*
 * itest_view_index.c - the physical design of view storage tables (issue
 * 12, part 2) through the real mvproxy: CREATE ... KEY (cols) / INDEX name
 * (cols) builds those indexes on the storage table (checked straight in
 * information_schema.STATISTICS); they survive REFRESH COMPLETE both when
 * the staging table is made LIKE the storage table and when it is rebuilt
 * from the definition (a storage column dropped behind the proxy), and an
 * AUTO (partition) refresh; ALTER MATERIALIZED VIEW ... ADD / DROP INDEX is
 * recorded and still shown after a restart; a view that declares none gets
 * the default indexes (partition column, leading GROUP BY outputs, join
 * key; a TEXT column gets a prefix); bad columns and duplicate names are
 * refused and change nothing; answers through the proxy equal MariaDB's.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "it_common.h"

#define DB   "itvidx"
#define META "mvp_meta_itvidx"

static struct it_env env;
static struct it_proxy proxy;

static MYSQL *
px_on(void)
{
    return it_must_connect_proxy(&proxy, &env, DB, CLIENT_MULTI_RESULTS);
}

static MYSQL *
direct(void)
{
    return it_must_connect_direct(&env, NULL, CLIENT_MULTI_RESULTS);
}

/*
 * The secondary indexes of DB.TABLE as MariaDB has them, read straight from
 * information_schema.STATISTICS: "name(c1,c2/255) name2(c)" sorted by name
 * (a prefix length after '/'), into BUF.
 */
static const char *
indexes_of(MYSQL *d, const char *table, char *buf, size_t len)
{
    char sql[1024];
    snprintf(sql, sizeof(sql),
             "SELECT IFNULL(GROUP_CONCAT(CONCAT(INDEX_NAME, '(', cols, ')') ORDER BY INDEX_NAME"
             " SEPARATOR ' '), '') FROM (SELECT INDEX_NAME, GROUP_CONCAT(CONCAT(COLUMN_NAME,"
             " IFNULL(CONCAT('/', SUB_PART), '')) ORDER BY SEQ_IN_INDEX) cols"
             " FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = '" DB "'"
             " AND TABLE_NAME = '%s' AND INDEX_NAME <> 'PRIMARY' GROUP BY INDEX_NAME) q",
             table);
    assert_int_equal(it_first_value(d, sql, buf, len), 0);
    return buf;
}

/* The view's SHOW MATERIALIZED VIEWS `Indexes` value (through mv_infos) into BUF. */
static const char *
shown(MYSQL *m, const char *view, char *buf, size_t len)
{
    char sql[512];
    snprintf(sql, sizeof(sql),
             "SELECT Indexes FROM mv_infos('database'='" DB "') WHERE Name = '%s'", view);
    assert_int_equal(it_first_value(m, sql, buf, len), 0);
    return buf;
}

/* SQL through the proxy M and straight on MariaDB D give the same rows. */
static void
same_answer(MYSQL *m, MYSQL *d, const char *sql)
{
    struct it_rows a = {0}, b = {0};
    char q[1024];
    assert_int_equal(it_query_rows(m, sql, &a), 0);
    snprintf(q, sizeof(q), "USE " DB);
    it_exec_ok(d, q);
    assert_int_equal(it_query_rows(d, sql, &b), 0);
    if (!it_rows_equal(&a, &b)) {
        it_rows_dump("proxy", &a, 20);
        it_rows_dump("direct", &b, 20);
        fail_msg("answers differ: %s", sql);
    }
    assert_true(a.n > 0);
    it_rows_free(&a);
    it_rows_free(&b);
}

/* Is VIEW in sync with its base tables (SyncWithBaseTables) a moment after
 * the last DDL, when the binlog follower has read it? Index DDL the proxy
 * runs must not make a view stale. */
static void
still_fresh(MYSQL *m, const char *view)
{
    char sql[512], buf[32];
    it_sleep_ms(1200);
    snprintf(sql, sizeof(sql),
             "SELECT SyncWithBaseTables FROM mv_infos('database'='" DB "') WHERE Name = '%s'",
             view);
    assert_int_equal(it_first_value(m, sql, buf, sizeof(buf)), 0);
    if (strcmp(buf, "1") != 0) {
        it_proxy_log_tail(&proxy, 20);
        fail_msg("view %s went stale", view);
    }
}

static int
setup(void **state)
{
    MYSQL *d;
    (void)state;
    it_env_load(&env);
    if (it_reset_dbs(&env, DB, META, true) < 0) {
        return -1;
    }
    d = it_connect_direct(&env, DB, 0);
    if (d == NULL) {
        return -1;
    }
    if (it_exec(d, "CREATE TABLE sales (id INT AUTO_INCREMENT PRIMARY KEY, k INT NOT NULL,"
                   " v INT NOT NULL, d DATE NOT NULL, note TEXT, tag VARCHAR(20))") != 0 ||
        it_exec(d, "INSERT INTO sales (k, v, d, note, tag) SELECT seq % 7, seq,"
                   " '2024-05-01' + INTERVAL (seq % 5) DAY, CONCAT('n', seq % 3),"
                   " CONCAT('t', seq % 4) FROM seq_1_to_500") != 0 ||
        it_exec(d, "CREATE TABLE region (rk INT PRIMARY KEY, rname VARCHAR(20) NOT NULL)") != 0 ||
        it_exec(d, "INSERT INTO region SELECT seq, CONCAT('r', seq) FROM seq_0_to_6") != 0) {
        mysql_close(d);
        return -1;
    }
    mysql_close(d);
    return it_proxy_start(&proxy, &env, META, NULL);
}

static int
teardown(void **state)
{
    static const char *const views[] = {"vk",   "vp",      "va", "vd_g", "vd_p",
                                        "vd_j", "vd_none", "vt", NULL};
    (void)state;
    return it_teardown(&proxy, &env, DB, META, views);
}

/* Declared KEY and INDEX: built, shown, kept by both complete-refresh paths. */
static void
test_declared(void **state)
{
    MYSQL *m = px_on(), *d = direct();
    char buf[512], create[2048];
    (void)state;
    it_exec_ok(m, "CREATE MATERIALIZED VIEW vk REFRESH COMPLETE ON MANUAL KEY (k, d)"
                  " INDEX i_s (s) AS SELECT k, d, SUM(v) AS s, COUNT(*) AS c FROM sales"
                  " GROUP BY k, d");
    assert_string_equal(indexes_of(d, "vk", buf, sizeof(buf)), "i_s(s) mvp_key(k,d)");
    assert_string_equal(shown(m, "vk", buf, sizeof(buf)), "KEY(k, d); INDEX i_s(s)");
    {
        MYSQL_RES *r;
        MYSQL_ROW row;
        assert_int_equal(mysql_query(m, "SHOW CREATE MATERIALIZED VIEW vk"), 0);
        r = mysql_store_result(m);
        assert_non_null(r);
        row = mysql_fetch_row(r);
        assert_non_null(row);
        snprintf(create, sizeof(create), "%s", row[1]);
        mysql_free_result(r);
    }
    assert_non_null(strstr(create, "KEY (`k`, `d`)"));
    assert_non_null(strstr(create, "INDEX `i_s` (`s`)"));
    same_answer(m, d, "SELECT k, d, SUM(v) FROM sales WHERE k = 3 GROUP BY k, d");
    same_answer(m, d, "SELECT k, SUM(v) FROM sales WHERE k IN (1, 2) GROUP BY k");

    /* complete refresh, staging table LIKE the storage table */
    it_exec_ok(m, "INSERT INTO sales (k, v, d) VALUES (3, 1000, '2024-05-02')");
    it_exec_ok(m, "REFRESH MATERIALIZED VIEW vk COMPLETE");
    assert_string_equal(indexes_of(d, "vk", buf, sizeof(buf)), "i_s(s) mvp_key(k,d)");
    same_answer(m, d, "SELECT k, d, SUM(v) FROM sales WHERE k = 3 GROUP BY k, d");

    /* the storage table's columns changed behind the proxy: the refresh
     * rebuilds it from the definition (CREATE ... AS SELECT) and adds the
     * indexes again */
    it_exec_ok(d, "ALTER TABLE " DB ".vk DROP INDEX i_s, DROP COLUMN c");
    it_exec_ok(m, "REFRESH MATERIALIZED VIEW vk COMPLETE");
    assert_string_equal(indexes_of(d, "vk", buf, sizeof(buf)), "i_s(s) mvp_key(k,d)");
    assert_int_equal(it_first_value(d,
                                    "SELECT COUNT(*) FROM information_schema.COLUMNS WHERE"
                                    " TABLE_SCHEMA = '" DB "' AND TABLE_NAME = 'vk'",
                                    buf, sizeof(buf)),
                     0);
    assert_string_equal(buf, "4");
    same_answer(m, d, "SELECT k, d, SUM(v), COUNT(*) FROM sales WHERE k = 3 GROUP BY k, d");
    mysql_close(m);
    mysql_close(d);
}

/* A partitioned view: its indexes survive an AUTO (partition) refresh. */
static void
test_partition(void **state)
{
    MYSQL *m = px_on(), *d = direct();
    char buf[512];
    (void)state;
    it_exec_ok(m, "CREATE MATERIALIZED VIEW vp REFRESH AUTO ON MANUAL INDEX i_k (k)"
                  " PARTITION BY (d) AS SELECT d, k, SUM(v) AS s FROM sales GROUP BY d, k");
    assert_string_equal(indexes_of(d, "vp", buf, sizeof(buf)), "i_k(k)");
    it_exec_ok(m, "INSERT INTO sales (k, v, d) VALUES (2, 77, '2024-05-03')");
    it_exec_ok(m, "REFRESH MATERIALIZED VIEW vp AUTO");
    assert_string_equal(indexes_of(d, "vp", buf, sizeof(buf)), "i_k(k)");
    it_exec_ok(m, "REFRESH MATERIALIZED VIEW vp COMPLETE");
    assert_string_equal(indexes_of(d, "vp", buf, sizeof(buf)), "i_k(k)");
    assert_string_equal(shown(m, "vp", buf, sizeof(buf)), "INDEX i_k(k)");
    same_answer(m, d, "SELECT d, k, SUM(v) FROM sales WHERE k = 2 GROUP BY d, k");
    mysql_close(m);
    mysql_close(d);
}

/* ALTER ... ADD / DROP INDEX: on the table, in the catalog, after a restart. */
static void
test_alter_restart(void **state)
{
    MYSQL *m = px_on(), *d = direct();
    char buf[512];
    (void)state;
    it_exec_ok(m, "CREATE MATERIALIZED VIEW va REFRESH COMPLETE ON MANUAL KEY (k)"
                  " AS SELECT k, tag, SUM(v) AS s FROM sales GROUP BY k, tag");
    it_exec_ok(m, "ALTER MATERIALIZED VIEW va ADD INDEX i_tag (tag, k)");
    assert_string_equal(indexes_of(d, "va", buf, sizeof(buf)), "i_tag(tag,k) mvp_key(k)");
    assert_string_equal(shown(m, "va", buf, sizeof(buf)), "KEY(k); INDEX i_tag(tag, k)");
    it_exec_ok(m, "ALTER MATERIALIZED VIEW va DROP INDEX mvp_key");
    assert_string_equal(indexes_of(d, "va", buf, sizeof(buf)), "i_tag(tag,k)");
    assert_string_equal(shown(m, "va", buf, sizeof(buf)), "INDEX i_tag(tag, k)");
    still_fresh(m, "va");
    /* refused, nothing changes */
    it_expect_errno(m, "ALTER MATERIALIZED VIEW va ADD INDEX i_x (nope)", 1072);
    it_expect_errno(m, "ALTER MATERIALIZED VIEW va ADD INDEX i_tag (k)", 1061);
    it_expect_errno(m, "ALTER MATERIALIZED VIEW va ADD INDEX i_y (k, K)", 1060);
    it_expect_errno(m, "ALTER MATERIALIZED VIEW va DROP INDEX nope", 1091);
    assert_string_equal(indexes_of(d, "va", buf, sizeof(buf)), "i_tag(tag,k)");
    mysql_close(m);

    /* a restarted proxy reads the list from the catalog */
    assert_int_equal(it_proxy_stop(&proxy), 0);
    assert_int_equal(it_proxy_start(&proxy, &env, META, NULL), 0);
    m = px_on();
    assert_string_equal(shown(m, "va", buf, sizeof(buf)), "INDEX i_tag(tag, k)");
    /* ... and a rebuild from the definition uses it */
    it_exec_ok(d, "ALTER TABLE " DB ".va DROP INDEX i_tag, DROP COLUMN s");
    it_exec_ok(m, "REFRESH MATERIALIZED VIEW va COMPLETE");
    assert_string_equal(indexes_of(d, "va", buf, sizeof(buf)), "i_tag(tag,k)");
    same_answer(m, d, "SELECT k, tag, SUM(v) FROM sales WHERE tag = 't1' GROUP BY k, tag");
    mysql_close(m);
    mysql_close(d);
}

/* No index declared: the default rule. */
static void
test_defaults(void **state)
{
    MYSQL *m = px_on(), *d = direct();
    char buf[512];
    (void)state;
    /* aggregating: the leading (up to 3) GROUP BY outputs, in GROUP BY order */
    it_exec_ok(m, "CREATE MATERIALIZED VIEW vd_g AS SELECT tag, k, d, id % 2 AS par, SUM(v) AS s"
                  " FROM sales GROUP BY tag, k, d, id % 2");
    assert_string_equal(indexes_of(d, "vd_g", buf, sizeof(buf)), "mvp_auto_group(tag,k,d)");
    assert_string_equal(shown(m, "vd_g", buf, sizeof(buf)), "INDEX mvp_auto_group(tag, k, d)");
    still_fresh(m, "vd_g");
    /* partitioned, grouping not led by the partition column: both */
    it_exec_ok(m, "CREATE MATERIALIZED VIEW vd_p PARTITION BY (d) AS"
                  " SELECT k, d, SUM(v) AS s FROM sales GROUP BY k, d");
    assert_string_equal(indexes_of(d, "vd_p", buf, sizeof(buf)),
                        "mvp_auto_group(k,d) mvp_auto_part(d)");
    /* a join without GROUP BY: its first join-key output */
    it_exec_ok(m, "CREATE MATERIALIZED VIEW vd_j AS SELECT s.id, s.v, s.k, r.rname"
                  " FROM sales s JOIN region r ON s.k = r.rk");
    assert_string_equal(indexes_of(d, "vd_j", buf, sizeof(buf)), "mvp_auto_join(k)");
    same_answer(m, d,
                "SELECT s.id, s.v, r.rname FROM sales s JOIN region r ON s.k = r.rk"
                " WHERE s.k = 4");
    /* one table, no GROUP BY: nothing */
    it_exec_ok(m, "CREATE MATERIALIZED VIEW vd_none AS SELECT id, k, v FROM sales WHERE v > 10");
    assert_string_equal(indexes_of(d, "vd_none", buf, sizeof(buf)), "");
    assert_string_equal(shown(m, "vd_none", buf, sizeof(buf)), "");
    /* a TEXT column gets a prefix; the view answers */
    it_exec_ok(m, "CREATE MATERIALIZED VIEW vt INDEX i_note (note, k) AS"
                  " SELECT note, k, COUNT(*) AS c FROM sales GROUP BY note, k");
    assert_string_equal(indexes_of(d, "vt", buf, sizeof(buf)), "i_note(note/255,k)");
    it_exec_ok(m, "ALTER MATERIALIZED VIEW vt ADD INDEX i_note2 (note)");
    assert_string_equal(indexes_of(d, "vt", buf, sizeof(buf)),
                        "i_note(note/255,k) i_note2(note/255)");
    same_answer(m, d, "SELECT note, k, COUNT(*) FROM sales WHERE note = 'n1' GROUP BY note, k");
    mysql_close(m);
    mysql_close(d);
}

/* Bad KEY / INDEX clauses: an error, and no view, table or catalog row. */
static void
test_errors(void **state)
{
    MYSQL *m = px_on(), *d = direct();
    char buf[256];
    (void)state;
    it_expect_errno(m, "CREATE MATERIALIZED VIEW vbad KEY (nope) AS SELECT k FROM sales", 1072);
    it_expect_errno(m,
                    "CREATE MATERIALIZED VIEW vbad INDEX a (k) INDEX A (v)"
                    " AS SELECT k, v FROM sales",
                    1061);
    it_expect_errno(m, "CREATE MATERIALIZED VIEW vbad INDEX a (k, k) AS SELECT k FROM sales", 1060);
    it_expect_errno(m, "CREATE MATERIALIZED VIEW vbad KEY (k) KEY (k) AS SELECT k FROM sales",
                    1064);
    it_expect_errno(m, "CREATE MATERIALIZED VIEW vbad INDEX (k) AS SELECT k FROM sales", 1064);
    assert_int_equal(it_first_value(d,
                                    "SELECT COUNT(*) FROM information_schema.TABLES WHERE"
                                    " TABLE_SCHEMA = '" DB "' AND TABLE_NAME = 'vbad'",
                                    buf, sizeof(buf)),
                     0);
    assert_string_equal(buf, "0");
    assert_int_equal(it_first_value(d, "SELECT COUNT(*) FROM " META ".mvs WHERE name = 'vbad'", buf,
                                    sizeof(buf)),
                     0);
    assert_string_equal(buf, "0");
    mysql_close(m);
    mysql_close(d);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_declared),      cmocka_unit_test(test_partition),
        cmocka_unit_test(test_alter_restart), cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
