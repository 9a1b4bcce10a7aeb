/*
 * test_rw_joinback.c - join-back (rw_join.c rw_join_joinback_ok): a query block
 * that reads tables the view does not is answered from an SPJ view joined
 * with the remaining table instances; the exact text emitted, the guard
 * restricted to the view's tables, the refusals (aggregate view, outer join
 * to a joined-back table, SELECT *, view filter not implied, join key not
 * an output), equivalence classes through joined-back columns, self-joins,
 * alias clashes, and the choice of a covering view over a join-back.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "rw_emit.h"
#include "rw_test_snap.h"
#include "rw_test_expect.h"

static struct rw_options opt = {true, true, 5000, 0};

/* this file's options: the shared assertions of rw_test_expect.h */
#define rw(s, sql) ts_rw((s), (sql), &opt)
#define cand(o, name) ts_cand((o), (name))
#define expect_sql(s, sql, want) ts_expect_sql((s), (sql), (want), &opt)
#define expect_reject(s, sql, name, why) ts_expect_reject((s), (sql), (name), (why), &opt)

#define L "`test`.`mv_l`."

/* Snapshot with an SPJ view over lineitem (shipped lines only). */
static struct cat_snapshot *
snap_l(void)
{
    struct cat_snapshot *s = ts_base();
    struct cat_mv *mv = ts_view(s, "test", "mv_l",
                                "SELECT l_orderkey, l_partkey, l_quantity, l_shipdate FROM "
                                "lineitem WHERE l_shipdate >= '2024-01-01'",
                                "l_orderkey int,l_partkey int,l_quantity decimal(15,2),"
                                "l_shipdate date",
                                100);
    assert_non_null(mv->model);
    return s;
}

static void
test_join_back_text(void **st)
{
    struct cat_snapshot *s = snap_l();
    (void)st;
    expect_sql(s,
               "SELECT l.l_orderkey, o.o_orderdate, l.l_quantity FROM lineitem l JOIN orders o "
               "ON l.l_orderkey = o.o_orderkey WHERE l.l_shipdate >= '2024-01-01' "
               "AND o.o_orderstatus = 'F'",
               "SELECT " L "`l_orderkey` AS `l_orderkey`, `o`.`o_orderdate` AS `o_orderdate`, " L
               "`l_quantity` AS `l_quantity` FROM `test`.`mv_l`, `test`.`orders` AS `o` WHERE "
               "(" L "`l_orderkey` = `o`.`o_orderkey`) AND (`o`.`o_orderstatus` = 'F')");
    ts_free(s);
}

static void
test_join_back_aggregate_on_top(void **st)
{
    struct cat_snapshot *s = snap_l();
    (void)st;
    expect_sql(s,
               "SELECT o.o_orderstatus, SUM(l.l_quantity) AS q, COUNT(*) FROM lineitem l, orders o "
               "WHERE l.l_orderkey = o.o_orderkey AND l.l_shipdate >= '2024-02-01' "
               "GROUP BY o.o_orderstatus HAVING SUM(l.l_quantity) > 10",
               "SELECT `o`.`o_orderstatus` AS `o_orderstatus`, SUM(" L "`l_quantity`) AS `q`, "
               "COUNT(*) AS `COUNT(*)` FROM `test`.`mv_l`, `test`.`orders` AS `o` WHERE (" L
               "`l_orderkey` = `o`.`o_orderkey`) AND (" L "`l_shipdate` >= '2024-02-01') "
               "GROUP BY `o`.`o_orderstatus` HAVING (SUM(" L "`l_quantity`) > 10)");
    ts_free(s);
}

/* The privilege guard names lineitem (the view stands in for it), not orders (read). */
static void
test_guard_only_view_tables(void **st)
{
    struct cat_snapshot *s = snap_l();
    struct rw_outcome o;
    (void)st;
    o = rw(s, "SELECT l.l_partkey, o.o_custkey FROM lineitem l JOIN orders o "
              "ON l.l_orderkey = o.o_orderkey WHERE l.l_shipdate >= '2024-01-01'");
    assert_true(o.rewritten);
    assert_non_null(strstr(o.sql, "FROM `test`.`lineitem` WHERE 0)"));
    assert_null(strstr(o.sql, "FROM `test`.`orders` WHERE 0)"));
    rw_outcome_free(&o);
    ts_free(s);
}

/* The view's filter o_orderkey = 5 is implied by l_orderkey = 5 through the join. */
static void
test_class_through_joined_column(void **st)
{
    struct cat_snapshot *s = ts_base();
    struct cat_mv *mv = ts_view(s, "test", "mv_o5",
                                "SELECT o_orderkey, o_custkey FROM orders WHERE o_orderkey = 5",
                                "o_orderkey int,o_custkey int", 1);
    (void)st;
    assert_non_null(mv->model);
    expect_sql(s,
               "SELECT o.o_custkey, l.l_linenumber FROM orders o JOIN lineitem l "
               "ON l.l_orderkey = o.o_orderkey WHERE l.l_orderkey = 5",
               "SELECT `test`.`mv_o5`.`o_custkey` AS `o_custkey`, `l`.`l_linenumber` AS "
               "`l_linenumber` FROM `test`.`mv_o5`, `test`.`lineitem` AS `l` WHERE "
               "(`test`.`mv_o5`.`o_orderkey` = `l`.`l_orderkey`)");
    /* without the equality the range on l_orderkey says nothing about orders */
    expect_reject(s,
                  "SELECT o.o_custkey FROM orders o JOIN lineitem l ON l.l_partkey = o.o_orderkey "
                  "WHERE l.l_orderkey = 5",
                  "test.mv_o5", "view filter");
    ts_free(s);
}

static void
test_refusals(void **st)
{
    struct cat_snapshot *s = snap_l();
    struct cat_mv *mv = ts_view(s, "test", "mv_lagg",
                                "SELECT l_orderkey, SUM(l_quantity) AS q FROM lineitem "
                                "GROUP BY l_orderkey",
                                "l_orderkey int,q decimal(37,2)", 10);
    (void)st;
    assert_non_null(mv->model);
    /* an aggregate view joined back would change multiplicities */
    expect_reject(s,
                  "SELECT o.o_orderstatus, SUM(l.l_quantity) FROM lineitem l JOIN orders o "
                  "ON l.l_orderkey = o.o_orderkey GROUP BY o.o_orderstatus",
                  "test.mv_lagg", "would change the row multiplicities");
    /* outer join to the joined-back table */
    expect_reject(s,
                  "SELECT l.l_orderkey, o.o_custkey FROM lineitem l LEFT JOIN orders o "
                  "ON l.l_orderkey = o.o_orderkey WHERE l.l_shipdate >= '2024-01-01'",
                  "test.mv_l", "must be inner-joined");
    /* SELECT * over the joined-back table */
    expect_reject(s,
                  "SELECT l.l_orderkey, o.* FROM lineitem l JOIN orders o "
                  "ON l.l_orderkey = o.o_orderkey WHERE l.l_shipdate >= '2024-01-01'",
                  "test.mv_l", "SELECT * lists the columns of o");
    /* the view's filter is not implied */
    expect_reject(s,
                  "SELECT l.l_orderkey, o.o_custkey FROM lineitem l JOIN orders o "
                  "ON l.l_orderkey = o.o_orderkey",
                  "test.mv_l", "is not implied by the query");
    /* the join key is not a view output */
    expect_reject(s,
                  "SELECT l.l_orderkey, o.o_custkey FROM lineitem l JOIN orders o "
                  "ON l.l_linenumber = o.o_orderkey WHERE l.l_shipdate >= '2024-01-01'",
                  "test.mv_l", "l_linenumber");
    ts_free(s);
}

/* A view whose extra table is a lossy join may not stand in for the other one
 * (the mapping leaves a view instance out even with as many instances as the
 * query: its lossless-join check still applies). */
static void
test_lossy_extra_with_join_back(void **st)
{
    struct cat_snapshot *s = ts_base();
    struct cat_mv *mv = ts_view(s, "test", "mv_lo2",
                                "SELECT l.l_orderkey, l.l_partkey, l.l_quantity FROM lineitem l "
                                "JOIN orders o ON l.l_orderkey = o.o_orderkey",
                                "l_orderkey int,l_partkey int,l_quantity decimal(15,2)", 10);
    (void)st;
    assert_non_null(mv->model);
    expect_reject(s,
                  "SELECT l.l_quantity, r.region_id FROM lineitem l JOIN raw_sales r "
                  "ON r.product_id = l.l_partkey",
                  "test.mv_lo2", "may drop or duplicate rows");
    ts_free(s);
}

/* Self-join: the view stands in for one instance, the other is read. */
static void
test_self_join(void **st)
{
    struct cat_snapshot *s = ts_base();
    struct cat_mv *mv = ts_view(s, "test", "mv_of",
                                "SELECT o_orderkey, o_custkey FROM orders WHERE o_orderstatus = 'F'",
                                "o_orderkey int,o_custkey int", 10);
    (void)st;
    assert_non_null(mv->model);
    expect_sql(s,
               "SELECT a.o_orderkey, b.o_orderkey FROM orders a JOIN orders b "
               "ON a.o_custkey = b.o_custkey WHERE b.o_orderstatus = 'F'",
               "SELECT `a`.`o_orderkey` AS `o_orderkey`, `test`.`mv_of`.`o_orderkey` AS "
               "`o_orderkey` FROM `test`.`mv_of`, `test`.`orders` AS `a` WHERE "
               "(`a`.`o_custkey` = `test`.`mv_of`.`o_custkey`)");
    ts_free(s);
}

/* A joined-back alias equal to the view's name gets a fresh one. */
static void
test_alias_clash(void **st)
{
    struct cat_snapshot *s = snap_l();
    (void)st;
    expect_sql(s,
               "SELECT l.l_partkey, mv_l.o_custkey FROM lineitem l JOIN orders mv_l "
               "ON l.l_orderkey = mv_l.o_orderkey WHERE l.l_shipdate >= '2024-01-01'",
               "SELECT " L "`l_partkey` AS `l_partkey`, `mvp_jb1`.`o_custkey` AS `o_custkey` "
               "FROM `test`.`mv_l`, `test`.`orders` AS `mvp_jb1` WHERE (" L
               "`l_orderkey` = `mvp_jb1`.`o_orderkey`)");
    ts_free(s);
}

/* A view that covers every table wins over a smaller one that needs a join-back. */
static void
test_choice_prefers_covering_view(void **st)
{
    struct cat_snapshot *s = snap_l();
    struct cat_mv *mv = ts_view(s, "test", "mv_lo",
                                "SELECT l.l_orderkey, l.l_quantity, l.l_shipdate, o.o_custkey "
                                "FROM lineitem l JOIN orders o ON l.l_orderkey = o.o_orderkey",
                                "l_orderkey int,l_quantity decimal(15,2),l_shipdate date,"
                                "o_custkey int",
                                1000);
    struct rw_outcome o;
    (void)st;
    assert_non_null(mv->model);
    o = rw(s, "SELECT l.l_quantity, o.o_custkey FROM lineitem l JOIN orders o "
              "ON l.l_orderkey = o.o_orderkey WHERE l.l_shipdate >= '2024-01-01'");
    assert_true(o.rewritten);
    assert_int_equal(cand(&o, "test.mv_lo")->status, RW_CAND_CHOSEN);
    assert_int_equal(cand(&o, "test.mv_l")->status, RW_CAND_MATCHED_NOT_CHOSEN);
    assert_non_null(strstr(cand(&o, "test.mv_l")->reason, "covers more of the query's tables"));
    rw_outcome_free(&o);
    ts_free(s);
}

/* rw_emit_expr_tabs: plain columns of listed instances are qualified by alias. */
static void
test_emit_expr_tabs(void **st)
{
    struct rw_expr *e = rw_expr_new(RW_E_OP, "=");
    struct rw_expr *a = rw_expr_new(RW_E_VCOL, "k"), *b = rw_expr_new(RW_E_COL, "o_id");
    const char *aliases[2] = {NULL, "o"};
    struct rw_buf buf = {0};
    char *txt;
    (void)st;
    b->tab = 1;
    assert_int_equal(rw_expr_add(e, a), 0);
    assert_int_equal(rw_expr_add(e, b), 0);
    rw_emit_expr_tabs(&buf, e, "db", "mv", aliases, 2);
    txt = rw_buf_take(&buf);
    assert_string_equal(txt, "(`db`.`mv`.`k` = `o`.`o_id`)");
    free(txt);
    rw_emit_expr_tabs(&buf, e, "db", "mv", NULL, 0);
    txt = rw_buf_take(&buf);
    assert_string_equal(txt, "(`db`.`mv`.`k` = `o_id`)");
    free(txt);
    rw_expr_free(e);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_join_back_text),
        cmocka_unit_test(test_join_back_aggregate_on_top),
        cmocka_unit_test(test_guard_only_view_tables),
        cmocka_unit_test(test_class_through_joined_column),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_lossy_extra_with_join_back),
        cmocka_unit_test(test_self_join),
        cmocka_unit_test(test_alias_clash),
        cmocka_unit_test(test_choice_prefers_covering_view),
        cmocka_unit_test(test_emit_expr_tabs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
