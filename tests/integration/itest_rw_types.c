/*
 * itest_rw_types.c - result-set metadata fidelity of rewritten queries: for
 * each roll-up rule of rw_rollup.c (COUNT as SUM of a count column, SUM of a
 * sum column, AVG as SUM/NULLIF(SUM), MIN/MAX, 1:1 mapping at equal
 * grouping, time roll-up, aggregation over a non-aggregate view, nested
 * views) the query runs through a real mvproxy and directly on MariaDB and
 * the two must return the same rows AND the same column metadata that BI
 * tools read: MariaDB field type, decimals (scale) and the NOT NULL flag.
 * Each query must also really be rewritten (EXPLAIN REWRITE says
 * REWRITTEN), otherwise the comparison would prove nothing. The last test
 * does the same for blocks below the top level (derived table, UNION
 * branches, CTE body, scalar subquery).
 *
 * Display lengths (MYSQL_FIELD.length) are reported but not compared: the
 * CAST that restores the type also restores most of them, but not all
 * (COALESCE(CAST(SUM(c) AS SIGNED), 0) reports 43, COUNT(*) 21).
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

#define META "mvp_meta_itrwt"
#define DB "itrwt"

static struct it_env env;
static struct it_proxy proxy;

/* One column's metadata as BI tools read it. */
struct colmeta {
    char name[128];
    int type;               /* enum enum_field_types */
    unsigned decimals;      /* scale */
    bool not_null;          /* NOT_NULL_FLAG */
    unsigned long length;   /* display length (informational) */
};

/* Run SQL on M and read the metadata of its result set into COLS (max 32). */
static unsigned
meta(MYSQL *m, const char *sql, struct colmeta *cols)
{
    MYSQL_RES *res;
    MYSQL_FIELD *f;
    unsigned n, i;
    if (mysql_query(m, sql) != 0) {
        fail_msg("%s: %s", sql, mysql_error(m));
    }
    res = mysql_store_result(m);
    assert_non_null(res);
    n = mysql_num_fields(res);
    assert_true(n <= 32);
    f = mysql_fetch_fields(res);
    for (i = 0; i < n; i++) {
        snprintf(cols[i].name, sizeof(cols[i].name), "%s", f[i].name);
        cols[i].type = (int)f[i].type;
        cols[i].decimals = f[i].decimals;
        cols[i].not_null = (f[i].flags & NOT_NULL_FLAG) != 0;
        cols[i].length = f[i].length;
    }
    mysql_free_result(res);
    return n;
}

/* Summary status of EXPLAIN REWRITE QUERY through the proxy. */
static void
summary(MYSQL *m, const char *query, char *out, size_t outlen)
{
    MYSQL_RES *res = it_explain_rewrite(m, query);
    MYSQL_ROW row;
    out[0] = '\0';
    while ((row = mysql_fetch_row(res)) != NULL) {
        if (row[0] == NULL) {
            snprintf(out, outlen, "%s | %s", row[1] ? row[1] : "", row[5] ? row[5] : "");
        }
    }
    mysql_free_result(res);
}

/* QUERY must be rewritten and return the same rows and metadata through the proxy. */
static void
same(MYSQL *px, MYSQL *direct, const char *query)
{
    struct colmeta a[32], b[32];
    struct it_rows ra = {0}, rb = {0};
    unsigned na, nb, i;
    char sum[4096];
    bool ok = true;
    summary(px, query, sum, sizeof(sum));
    if (strncmp(sum, "REWRITTEN", 9) != 0) {
        fail_msg("not rewritten: %s -> %s", query, sum);
    }
    na = meta(px, query, a);
    nb = meta(direct, query, b);
    assert_int_equal(na, nb);
    for (i = 0; i < na; i++) {
        bool same_col = a[i].type == b[i].type && a[i].decimals == b[i].decimals &&
                        a[i].not_null == b[i].not_null && strcmp(a[i].name, b[i].name) == 0;
        print_message("  %-24s direct type=%3d dec=%2u nn=%d len=%3lu | proxy type=%3d dec=%2u "
                      "nn=%d len=%3lu%s\n",
                      b[i].name, b[i].type, b[i].decimals, b[i].not_null, b[i].length, a[i].type,
                      a[i].decimals, a[i].not_null, a[i].length, same_col ? "" : "  <-- DIFFERS");
        ok = ok && same_col;
    }
    assert_int_equal(it_query_rows(px, query, &ra), 0);
    assert_int_equal(it_query_rows(direct, query, &rb), 0);
    if (!it_rows_equal(&ra, &rb)) {
        it_rows_dump("proxy", &ra, 20);
        it_rows_dump("direct", &rb, 20);
        ok = false;
    }
    it_rows_free(&ra);
    it_rows_free(&rb);
    if (!ok) {
        fail_msg("metadata or rows differ for %s (rewritten: %s)", query, sum);
    }
}

static int
setup(void **state)
{
    MYSQL *d, *m;
    static const char *const views[] = {
        /* fine grain: (g, day) */
        "CREATE MATERIALIZED VIEW mv_fine BUILD IMMEDIATE REFRESH COMPLETE ON MANUAL AS "
        "SELECT g, DATE(ts) AS day, COUNT(*) AS c, COUNT(i) AS ci, COUNT(d) AS cd, "
        "COUNT(f) AS cf, COUNT(bi) AS cb, SUM(i) AS si, SUM(d) AS sd, SUM(f) AS sf, "
        "SUM(bi) AS sb, MIN(d) AS mn, MAX(ts) AS mx, MIN(i) AS mni FROM t GROUP BY g, DATE(ts)",
        /* a second layer over the first (sums of sums) */
        "CREATE MATERIALIZED VIEW mv_g BUILD IMMEDIATE REFRESH COMPLETE ON MANUAL AS "
        "SELECT g, SUM(c) AS c, SUM(si) AS si, SUM(sd) AS sd, SUM(ci) AS ci, SUM(cd) AS cd "
        "FROM mv_fine GROUP BY g",
        /* non-aggregate view */
        "CREATE MATERIALIZED VIEW mv_rows BUILD IMMEDIATE REFRESH COMPLETE ON MANUAL AS "
        "SELECT g, i, d, f, ts FROM t WHERE g >= 2",
        NULL};
    size_t k;
    (void)state;
    it_env_load(&env);
    if (it_reset_dbs(&env, DB, META, true) != 0 ||
        (d = it_connect_direct(&env, NULL, 0)) == NULL) {
        return -1;
    }
    it_exec(d, "CREATE TABLE " DB ".t (id INT PRIMARY KEY, g INT NOT NULL, i INT, "
               "d DECIMAL(12,2), f DOUBLE, ts DATETIME NOT NULL, bi BIGINT)");
    it_exec(d, "INSERT INTO " DB ".t VALUES "
               "(1,1,1,1.50,1.5,'2024-01-01 10:00:00',5),(2,1,2,2.25,2.5,'2024-01-02 11:00:00',6),"
               "(3,2,3,3.10,3.5,'2024-02-01 00:00:00',7),(4,2,NULL,NULL,NULL,'2024-02-01 08:00:00',"
               "NULL),(5,3,7,-4.75,0.25,'2024-03-15 23:59:59',9000000000),"
               "(6,3,8,10.01,1e10,'2024-03-16 00:00:00',-1),(7,2,4,0.07,2,'2024-02-03 04:05:06',3)");
    mysql_close(d);
    if (it_proxy_start(&proxy, &env, META, NULL) != 0) {
        return -1;
    }
    m = it_connect_proxy(&proxy, &env, DB, 0);
    if (m == NULL) {
        return -1;
    }
    for (k = 0; views[k] != NULL; k++) {
        if (it_exec(m, views[k]) != 0) {
            mysql_close(m);
            return -1;
        }
    }
    mysql_close(m);
    return 0;
}

static int
teardown(void **state)
{
    (void)state;
    return it_teardown(&proxy, &env, DB, META, NULL);
}

/* Roll-ups to a coarser grouping and to no grouping at all. */
static void
test_rollup_types(void **state)
{
    MYSQL *px = it_connect_proxy(&proxy, &env, DB, 0), *dr = it_connect_direct(&env, DB, 0);
    (void)state;
    assert_non_null(px);
    assert_non_null(dr);
    /* COUNT(*) / COUNT(x) as SUM of count columns: BIGINT, not DECIMAL */
    same(px, dr, "SELECT g, COUNT(*), COUNT(i), COUNT(d) FROM t GROUP BY g");
    same(px, dr, "SELECT COUNT(*) AS n, COUNT(f) AS nf FROM t");
    /* SUM of int / decimal / double / bigint */
    same(px, dr, "SELECT g, SUM(i), SUM(d), SUM(f), SUM(bi) FROM t GROUP BY g");
    same(px, dr, "SELECT SUM(i), SUM(d), SUM(bi) FROM t");
    /* AVG recomposed from SUM / COUNT */
    same(px, dr, "SELECT g, AVG(i), AVG(d), AVG(f), AVG(bi) FROM t GROUP BY g");
    same(px, dr, "SELECT AVG(i) AS ai, AVG(d) AS ad, AVG(f) AS af FROM t");
    /* MIN / MAX, time functions */
    same(px, dr, "SELECT g, MIN(d), MAX(ts), MIN(i) FROM t GROUP BY g");
    same(px, dr, "SELECT YEAR(ts) AS y, MONTH(ts) AS mo, DATE_FORMAT(ts, '%Y-%m') AS ym, "
                 "COUNT(*) AS n, SUM(d) AS sd FROM t GROUP BY YEAR(ts), MONTH(ts), "
                 "DATE_FORMAT(ts, '%Y-%m')");
    /* arithmetic over rolled-up aggregates */
    same(px, dr, "SELECT g, SUM(d) - SUM(i) AS diff, COUNT(*) + 1 AS n1 FROM t GROUP BY g");
    mysql_close(px);
    mysql_close(dr);
}

/* Same grouping as a view (1:1 mapping), nested views, non-aggregate view. */
static void
test_exact_and_nested_types(void **state)
{
    MYSQL *px = it_connect_proxy(&proxy, &env, DB, 0), *dr = it_connect_direct(&env, DB, 0);
    (void)state;
    assert_non_null(px);
    assert_non_null(dr);
    same(px, dr, "SELECT g, DATE(ts) AS day, COUNT(*), SUM(i), SUM(d), AVG(d), MIN(d) "
                 "FROM t GROUP BY g, DATE(ts)");
    /* answered by mv_g (sums of sums over the first layer) */
    same(px, dr, "SELECT /*+ USE_MV(mv_g) */ g, COUNT(*) AS c, SUM(i) AS si, SUM(d) AS sd, "
                 "AVG(d) AS ad FROM t GROUP BY g");
    same(px, dr, "SELECT /*+ USE_MV(mv_g) */ COUNT(*) AS c, SUM(d) AS sd FROM t");
    /* aggregate over the rows of a non-aggregate view */
    same(px, dr, "SELECT /*+ USE_MV(mv_rows) */ g, COUNT(*), SUM(i), SUM(d), AVG(d), AVG(f) "
                 "FROM t WHERE g >= 2 GROUP BY g");
    mysql_close(px);
    mysql_close(dr);
}

/* Blocks other than the top level (SPEC §7): derived table, UNION branches, CTE body,
 * scalar subquery; same rows and metadata as the original. */
static void
test_block_types(void **state)
{
    MYSQL *px = it_connect_proxy(&proxy, &env, DB, 0), *dr = it_connect_direct(&env, DB, 0);
    (void)state;
    assert_non_null(px);
    assert_non_null(dr);
    same(px, dr, "SELECT d.g, d.n FROM (SELECT g, COUNT(*) AS n FROM t GROUP BY g) AS d "
                 "WHERE d.n > 1 ORDER BY d.g");
    same(px, dr, "SELECT g, COUNT(*) AS v FROM t GROUP BY g UNION ALL "
                 "SELECT g, SUM(i) FROM t GROUP BY g ORDER BY 1, 2 LIMIT 5");
    same(px, dr, "WITH x AS (SELECT g, SUM(d) AS s FROM t GROUP BY g) SELECT * FROM x "
                 "WHERE s > 0");
    same(px, dr, "SELECT id FROM t WHERE d > (SELECT AVG(d) FROM t) ORDER BY id");
    mysql_close(px);
    mysql_close(dr);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rollup_types),
        cmocka_unit_test(test_exact_and_nested_types),
        cmocka_unit_test(test_block_types),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
