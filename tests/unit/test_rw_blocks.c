/*
 * test_rw_blocks.c - every SELECT block is a candidate (SPEC §7): derived
 * tables, CTE bodies, UNION branches (ORDER BY/LIMIT after the union stay
 * the union's), scalar and IN subqueries, INSERT ... SELECT; blocks over
 * CTE names, correlated subqueries and WITH RECURSIVE are left alone with
 * a reason; the rest of the text stays byte-identical. Also the decision
 * cache (rw_cache.c): hits, freshness re-validation, LRU bound.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "rw_test_snap.h"
#include "rw_test_expect.h"

static struct rw_options xopt = {true, true, 5000, 0};   /* EXPLAIN: no cache */
static struct rw_options qopt = {true, false, 5000, 0};  /* query path: cached */

#define V "`test`.`mv_r`."
#define MVR "SELECT " V "`region_id` AS `region_id`, " V "`amt` AS `s` FROM `test`.`mv_r`"
#define MVT "SELECT CAST(SUM(" V "`amt`) AS DECIMAL(34,2)) AS `t` FROM `test`.`mv_r`"

static struct cat_snapshot *
snap_r(void)
{
    struct cat_snapshot *s = ts_base();
    struct cat_mv *mv = ts_view(s, "test", "mv_r",
                                "SELECT region_id, SUM(sale_amount) AS amt, COUNT(*) AS cnt "
                                "FROM raw_sales WHERE status = 'completed' GROUP BY region_id",
                                "region_id int,amt decimal(34,2),cnt bigint", 10);
    assert_non_null(mv->model);
    return s;
}

/* Rewrite with OPT; returns the outcome (caller frees). */
#define rwo(s, sql, o) ts_rw((s), (sql), (o))

/* Expect the EXPLAIN-mode rewrite of SQL to be WANT (rw_test_expect.h). */
#define expect_sql(s, sql, want) ts_expect_sql((s), (sql), (want), &xopt)

/* Expect no rewrite, with a summary reason containing WHY. */
static void
expect_none(struct cat_snapshot *s, const char *sql, const char *why)
{
    struct rw_outcome o = rwo(s, sql, &xopt);
    if (o.rewritten) {
        fail_msg("unexpected rewrite: %s", o.sql);
    }
    if (strstr(o.reason, why) == NULL) {
        fail_msg("reason '%s' lacks '%s'", o.reason, why);
    }
    rw_outcome_free(&o);
}

#define Q "SELECT region_id, SUM(sale_amount) AS s FROM raw_sales WHERE status = 'completed' " \
          "GROUP BY region_id"

static void
test_derived_table(void **st)
{
    struct cat_snapshot *s = snap_r();
    (void)st;
    expect_sql(s, "SELECT d.region_id FROM (" Q ") AS d WHERE d.s > 10 ORDER BY 1",
               "SELECT d.region_id FROM (" MVR ") AS d WHERE d.s > 10 ORDER BY 1");
    ts_free(s);
}

static void
test_cte_bodies(void **st)
{
    struct cat_snapshot *s = snap_r();
    struct rw_outcome o;
    (void)st;
    /* the outer block reads the CTE name raw_sales-like 'x': not a candidate */
    expect_sql(s, "WITH x AS (" Q "), y AS (SELECT SUM(sale_amount) AS t FROM raw_sales "
                  "WHERE status = 'completed') SELECT * FROM x, y",
               "WITH x AS (" MVR "), y AS (" MVT ") SELECT * FROM x, y");
    /* a CTE that shadows a base table name: the outer block is not over raw_sales */
    o = rwo(s, "WITH raw_sales AS (SELECT 1 AS region_id) SELECT region_id FROM raw_sales",
            &xopt);
    assert_false(o.rewritten);
    assert_non_null(strstr(o.reason, "common table expression"));
    rw_outcome_free(&o);
    /* WITH RECURSIVE: untouched */
    expect_none(s,
                "WITH RECURSIVE r AS (" Q " UNION ALL SELECT region_id, s FROM r WHERE 0) "
                "SELECT * FROM r",
                "recursive common table expression");
    ts_free(s);
}

static void
test_union_branches(void **st)
{
    struct cat_snapshot *s = snap_r();
    (void)st;
    /* ORDER BY / LIMIT after an unparenthesised union belong to the union */
    expect_sql(s, Q " UNION ALL " Q " ORDER BY 1 LIMIT 3",
               MVR " UNION ALL " MVR " ORDER BY 1 LIMIT 3");
    /* parenthesised branches keep their own ORDER BY / LIMIT */
    expect_sql(s, "(" Q " ORDER BY s DESC LIMIT 2) UNION (SELECT 1, 2) ORDER BY 2",
               "(" MVR " ORDER BY `s` DESC LIMIT 2) UNION (SELECT 1, 2) ORDER BY 2");
    /* one branch matches, the other does not: only it changes */
    expect_sql(s, Q " UNION SELECT o_custkey, o_totalprice FROM orders",
               MVR " UNION SELECT o_custkey, o_totalprice FROM orders");
    ts_free(s);
}

static void
test_subqueries(void **st)
{
    struct cat_snapshot *s = snap_r();
    struct rw_outcome o;
    int found = 0;
    (void)st;
    expect_sql(s,
               "SELECT o_orderkey FROM orders WHERE o_totalprice > (SELECT SUM(sale_amount) AS t "
               "FROM raw_sales WHERE status = 'completed') AND o_custkey IN (SELECT region_id "
               "FROM raw_sales WHERE status = 'completed' GROUP BY region_id)",
               "SELECT o_orderkey FROM orders WHERE o_totalprice > (" MVT ") AND o_custkey IN "
               "(SELECT " V "`region_id` AS `region_id` FROM `test`.`mv_r`)");
    /* correlated: the inner block names the outer alias o */
    o = rwo(s,
            "SELECT o_orderkey FROM orders o WHERE o.o_totalprice > (SELECT SUM(sale_amount) "
            "FROM raw_sales r WHERE status = 'completed' AND r.region_id = o.o_custkey)",
            &xopt);
    assert_false(o.rewritten);
    assert_non_null(strstr(o.reason, "block 2: correlated subquery"));
    rw_outcome_free(&o);
    /* candidates carry the block number when there are several blocks */
    o = rwo(s, "SELECT (SELECT COUNT(*) FROM raw_sales WHERE status = 'cancelled') AS c, "
               "(" Q " LIMIT 1) AS x",
            &xopt);
    for (size_t i = 0; i < o.n_cand; i++) {
        found += strncmp(o.cand[i].reason, "block 2: view filter", 20) == 0;
    }
    assert_int_equal(found, 1);
    rw_outcome_free(&o);
    ts_free(s);
}

static void
test_insert_select(void **st)
{
    struct cat_snapshot *s = snap_r();
    (void)st;
    expect_sql(s, "INSERT INTO report (r, total) " Q,
               "INSERT INTO report (r, total) " MVR);
    expect_none(s, "INSERT INTO report SELECT 1, 2", "SELECT without FROM");
    expect_none(s, "UPDATE orders SET o_totalprice = 0", "not a single SELECT");
    ts_free(s);
}

static void
test_byte_identical_rest(void **st)
{
    struct cat_snapshot *s = snap_r();
    (void)st;
    expect_sql(s,
               "/* a */ SELECT  x.region_id  -- c1\n FROM ( " Q " )x JOIN\n(" Q ") y USING "
               "(region_id);  # tail",
               "/* a */ SELECT  x.region_id  -- c1\n FROM ( " MVR " )x JOIN\n(" MVR
               ") y USING (region_id);  # tail");
    ts_free(s);
}

static void
test_cache_hit_and_freshness(void **st)
{
    struct cat_snapshot *s = snap_r();
    struct cat_mv *mv = cat_snapshot_find(s, "test", "mv_r");
    struct rw_cache_stats cs;
    struct rw_outcome a, b, c;
    (void)st;
    rw_cache_flush();
    rw_cache_get_stats(&cs);
    uint64_t h0 = cs.hits, m0 = cs.misses;
    a = rwo(s, Q, &qopt);
    b = rwo(s, Q, &qopt);
    rw_cache_get_stats(&cs);
    assert_int_equal(cs.misses - m0, 1);
    assert_int_equal(cs.hits - h0, 1);
    assert_true(a.rewritten && b.rewritten);
    assert_string_equal(a.sql, b.sql);
    assert_int_equal(b.n_cand, 1);
    assert_int_equal(b.cand[0].status, RW_CAND_CHOSEN);
    assert_ptr_equal(b.cand[0].mv, mv);
    /* the view goes stale: the hit is re-validated and full matching says no */
    atomic_store(&mv->state->stale_since_ms, 1000);
    c = rwo(s, Q, &qopt);
    assert_false(c.rewritten);
    rw_cache_get_stats(&cs);
    assert_int_equal(cs.stale, 1);
    rw_outcome_free(&c);
    /* ... and fresh again: the stored "not rewritten" is re-validated too */
    atomic_store(&mv->state->stale_since_ms, 0);
    c = rwo(s, Q, &qopt);
    assert_true(c.rewritten);
    assert_string_equal(c.sql, a.sql);
    rw_outcome_free(&c);
    /* another database or another catalog version is another key */
    s->version = 2;
    c = rwo(s, Q, &qopt);
    assert_true(c.rewritten);
    rw_outcome_free(&c);
    rw_cache_get_stats(&cs);
    assert_int_equal(cs.entries, 2);
    rw_outcome_free(&a);
    rw_outcome_free(&b);
    rw_cache_flush();
    ts_free(s);
}

static void
test_cache_lru_bound(void **st)
{
    struct cat_snapshot *s = snap_r();
    struct rw_cache_stats cs;
    char sql[256];
    (void)st;
    rw_cache_flush();
    rw_cache_set_capacity(3);
    for (int i = 0; i < 5; i++) {
        struct rw_outcome o;
        snprintf(sql, sizeof(sql), Q " LIMIT %d", i + 1);
        o = rwo(s, sql, &qopt);
        assert_true(o.rewritten);
        rw_outcome_free(&o);
    }
    rw_cache_get_stats(&cs);
    assert_int_equal(cs.entries, 3);
    {
        /* LIMIT 1 was evicted (a miss), LIMIT 5 is still there (a hit) */
        struct rw_outcome o;
        uint64_t h = cs.hits, m = cs.misses;
        o = rwo(s, Q " LIMIT 5", &qopt);
        rw_outcome_free(&o);
        o = rwo(s, Q " LIMIT 1", &qopt);
        rw_outcome_free(&o);
        rw_cache_get_stats(&cs);
        assert_int_equal(cs.hits - h, 1);
        assert_int_equal(cs.misses - m, 1);
    }
    rw_cache_set_capacity(0);
    rw_cache_get_stats(&cs);
    assert_int_equal(cs.entries, 0);
    rw_cache_set_capacity(4096);
    ts_free(s);
}

/* CAST / CONVERT are matched structurally and emitted in MariaDB syntax. */
static void
test_cast_expressions(void **st)
{
    struct cat_snapshot *s = ts_base();
    struct cat_mv *mv = ts_view(s, "test", "mv_c",
                                "SELECT CAST(sale_date AS DATE) AS d, CAST(region_id AS CHAR(5)) "
                                "AS r, SUM(sale_amount) AS amt FROM raw_sales "
                                "GROUP BY CAST(sale_date AS DATE), CAST(region_id AS CHAR(5))",
                                "d date,r varchar(5),amt decimal(34,2)", 10);
    (void)st;
    assert_non_null(mv->model);
    /* CONVERT(x, type) is CAST(x AS type); case and spacing of the type do not matter */
    expect_sql(s,
               "SELECT CONVERT(sale_date, date) AS d, SUM(sale_amount) AS amt FROM raw_sales "
               "WHERE CAST(region_id AS char( 5 )) = '3' GROUP BY CAST(sale_date AS DATE)",
               "SELECT `test`.`mv_c`.`d` AS `d`, CAST(SUM(`test`.`mv_c`.`amt`) AS DECIMAL(34,2)) "
               "AS `amt` FROM `test`.`mv_c` WHERE ('3' = `test`.`mv_c`.`r`) GROUP BY "
               "`test`.`mv_c`.`d`");
    /* another target type is another expression */
    {
        struct rw_outcome o = rwo(s,
                                  "SELECT CAST(sale_date AS DATETIME) AS d, SUM(sale_amount) "
                                  "FROM raw_sales GROUP BY CAST(sale_date AS DATETIME)",
                                  &xopt);
        assert_false(o.rewritten);
        rw_outcome_free(&o);
    }
    /* casts over a view column are emitted as MariaDB casts */
    expect_sql(s,
               "SELECT CAST(SUM(sale_amount) AS SIGNED INTEGER) AS t FROM raw_sales",
               "SELECT CAST(CAST(SUM(`test`.`mv_c`.`amt`) AS DECIMAL(34,2)) AS SIGNED) AS `t` "
               "FROM `test`.`mv_c`");
    ts_free(s);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_derived_table),
        cmocka_unit_test(test_cte_bodies),
        cmocka_unit_test(test_union_branches),
        cmocka_unit_test(test_subqueries),
        cmocka_unit_test(test_insert_select),
        cmocka_unit_test(test_byte_identical_rest),
        cmocka_unit_test(test_cache_hit_and_freshness),
        cmocka_unit_test(test_cache_lru_bound),
        cmocka_unit_test(test_cast_expressions),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    rw_cache_flush();
    return rc;
}
