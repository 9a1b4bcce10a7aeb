/*
 * test_rw_match.c - view matching through rw_rewrite(): exact match,
 * compensations, roll-ups, time roll-up, joins, self-joins, residuals,
 * nested views, choice among views, hints, freshness, and the exact text
 * emitted (see ../../rewriter/rw_match.c and the modules it uses).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "rw_expr.h"
#include "rw_match.h"
#include "rw_test_snap.h"
#include "rw_test_expect.h"

static struct rw_options opt = {true, true, 5000, 0};

/* this file's options: the shared assertions of rw_test_expect.h */
#define rw(s, sql) ts_rw((s), (sql), &opt)
#define cand(o, name) ts_cand((o), (name))
#define expect_sql(s, sql, want) ts_expect_sql((s), (sql), (want), &opt)
#define expect_reject(s, sql, name, why) ts_expect_reject((s), (sql), (name), (why), &opt)

#define V "`test`.`mv_rc`."

static struct cat_snapshot *
snap_rc(void)
{
    struct cat_snapshot *s = ts_base();
    struct cat_mv *mv = ts_view(
        s, "test", "mv_rc",
        "SELECT region_id, category_id, customer_id, COUNT(*) AS cnt, SUM(sale_amount) AS amt, "
        "COUNT(sale_amount) AS amt_cnt, MIN(sale_amount) AS lo, MAX(sale_amount) AS hi "
        "FROM raw_sales WHERE status = 'completed' GROUP BY region_id, category_id, customer_id",
        "region_id int,category_id int,customer_id int,cnt bigint,amt decimal(34,2),"
        "amt_cnt bigint,lo decimal(12,2),hi decimal(12,2)",
        400);
    assert_non_null(mv->model);
    return s;
}

static void
test_exact_match(void **st)
{
    struct cat_snapshot *s = snap_rc();
    (void)st;
    expect_sql(s,
               "SELECT region_id, category_id, customer_id, COUNT(*), SUM(sale_amount) AS total "
               "FROM raw_sales WHERE status = 'completed' "
               "GROUP BY region_id, category_id, customer_id",
               "SELECT " V "`region_id` AS `region_id`, " V "`category_id` AS `category_id`, " V
               "`customer_id` AS `customer_id`, " V "`cnt` AS `COUNT(*)`, " V
               "`amt` AS `total` FROM `test`.`mv_rc`");
    ts_free(s);
}

static void
test_rollup_and_range(void **st)
{
    struct cat_snapshot *s = snap_rc();
    (void)st;
    expect_sql(s,
               "/* dash */ SELECT r.region_id, SUM(r.sale_amount) AS total, MAX(sale_amount) hi "
               "FROM raw_sales r WHERE r.status = 'completed' AND region_id IN (1, 2) "
               "GROUP BY r.region_id ORDER BY total DESC LIMIT 5; -- end",
               "/* dash */ SELECT " V "`region_id` AS `region_id`, CAST(SUM(" V "`amt`) AS DECIMAL(34,2)) "
               "AS `total`, "
               "MAX(" V "`hi`) AS `hi` FROM `test`.`mv_rc` WHERE (" V
               "`region_id` IN (1, 2)) GROUP BY " V
               "`region_id` ORDER BY `total` DESC LIMIT 5; -- end");
    ts_free(s);
}

static void
test_count_star_no_group(void **st)
{
    struct cat_snapshot *s = snap_rc();
    (void)st;
    expect_sql(s, "SELECT COUNT(*) AS n FROM raw_sales WHERE status = 'completed'",
               "SELECT CAST(COALESCE(SUM(" V "`cnt`), 0) AS SIGNED) AS `n` FROM `test`.`mv_rc`");
    ts_free(s);
}

static void
test_avg(void **st)
{
    struct cat_snapshot *s = snap_rc();
    (void)st;
    expect_sql(s,
               "SELECT category_id, AVG(sale_amount) FROM raw_sales WHERE status = 'completed' "
               "GROUP BY category_id",
               "SELECT " V "`category_id` AS `category_id`, CAST((SUM(" V "`amt`) / NULLIF(SUM(" V
               "`amt_cnt`), 0)) AS DECIMAL(16,6)) AS `AVG(sale_amount)` FROM `test`.`mv_rc` GROUP BY " V
               "`category_id`");
    ts_free(s);
}

static void
test_count_distinct(void **st)
{
    struct cat_snapshot *s = snap_rc();
    (void)st;
    expect_sql(s,
               "SELECT region_id, COUNT(DISTINCT customer_id) AS buyers FROM raw_sales "
               "WHERE status = 'completed' GROUP BY region_id",
               "SELECT " V "`region_id` AS `region_id`, COUNT(DISTINCT " V
               "`customer_id`) AS `buyers` FROM `test`.`mv_rc` GROUP BY " V "`region_id`");
    expect_reject(s,
                  "SELECT region_id, COUNT(DISTINCT product_id) FROM raw_sales "
                  "WHERE status = 'completed' GROUP BY region_id",
                  "test.mv_rc", "product_id");
    ts_free(s);
}

static void
test_rejections(void **st)
{
    struct cat_snapshot *s = snap_rc();
    (void)st;
    /* view filter stronger than the query */
    expect_reject(s, "SELECT region_id, SUM(sale_amount) FROM raw_sales GROUP BY region_id",
                  "test.mv_rc", "status");
    /* grouping not derivable */
    expect_reject(s,
                  "SELECT product_id, SUM(sale_amount) FROM raw_sales "
                  "WHERE status = 'completed' GROUP BY product_id",
                  "test.mv_rc", "product_id");
    /* detail query over an aggregate view */
    expect_reject(s, "SELECT region_id FROM raw_sales WHERE status = 'completed'", "test.mv_rc",
                  "every row");
    /* filter on a column the view does not keep */
    expect_reject(s,
                  "SELECT region_id, SUM(sale_amount) FROM raw_sales "
                  "WHERE status = 'completed' AND product_id = 3 GROUP BY region_id",
                  "test.mv_rc", "product_id");
    ts_free(s);
}

static void
test_time_rollup(void **st)
{
    struct cat_snapshot *s = ts_base();
    (void)st;
    ts_view(s, "test", "mv_day",
            "SELECT DATE(sale_date) AS sale_day, region_id, SUM(sale_amount) AS amt "
            "FROM raw_sales WHERE sale_date >= '2024-01-01' GROUP BY DATE(sale_date), region_id",
            "sale_day date,region_id int,amt decimal(34,2)", 100);
    expect_sql(s,
               "SELECT MONTH(sale_date) AS m, SUM(sale_amount) AS amt FROM raw_sales "
               "WHERE sale_date >= '2024-03-01' AND sale_date < '2024-04-01' "
               "GROUP BY MONTH(sale_date)",
               "SELECT MONTH(`test`.`mv_day`.`sale_day`) AS `m`, "
               "CAST(SUM(`test`.`mv_day`.`amt`) AS DECIMAL(34,2)) AS `amt` FROM `test`.`mv_day` WHERE (`test`.`mv_day`.`sale_day` < '2024-04-01') "
               "AND (`test`.`mv_day`.`sale_day` >= '2024-03-01') GROUP BY "
               "MONTH(`test`.`mv_day`.`sale_day`)");
    expect_sql(s,
               "SELECT DATE_FORMAT(sale_date, '%Y-%m') ym, YEAR(sale_date), SUM(sale_amount) "
               "FROM raw_sales WHERE sale_date >= '2024-01-01' "
               "GROUP BY DATE_FORMAT(sale_date, '%Y-%m'), YEAR(sale_date)",
               "SELECT DATE_FORMAT(`test`.`mv_day`.`sale_day`, '%Y-%m') AS `ym`, "
               "YEAR(`test`.`mv_day`.`sale_day`) AS `YEAR(sale_date)`, "
               "CAST(SUM(`test`.`mv_day`.`amt`) AS DECIMAL(34,2)) AS `SUM(sale_amount)` "
               "FROM `test`.`mv_day` "
               "GROUP BY DATE_FORMAT(`test`.`mv_day`.`sale_day`, '%Y-%m'), "
               "YEAR(`test`.`mv_day`.`sale_day`)");
    expect_reject(s,
                  "SELECT SUM(sale_amount) FROM raw_sales "
                  "WHERE sale_date >= '2024-03-01 12:00:00'",
                  "test.mv_day", "sale_date");
    expect_reject(s, "SELECT SUM(sale_amount) FROM raw_sales WHERE sale_date >= '2023-12-01'",
                  "test.mv_day", "not implied");
    expect_reject(s,
                  "SELECT DATE_FORMAT(sale_date, '%H'), SUM(sale_amount) FROM raw_sales "
                  "WHERE sale_date >= '2024-01-01' GROUP BY DATE_FORMAT(sale_date, '%H')",
                  "test.mv_day", "sale_date");
    ts_free(s);
}

static void
test_join_view(void **st)
{
    struct cat_snapshot *s = ts_base();
    const char *want =
        "SELECT `test`.`mv_ol`.`o_orderdate` AS `o_orderdate`, SUM(`test`.`mv_ol`.`rev`) AS "
        "`revenue` FROM `test`.`mv_ol` WHERE (`test`.`mv_ol`.`o_orderstatus` = 'F') GROUP BY "
        "`test`.`mv_ol`.`o_orderdate`";
    (void)st;
    ts_view(s, "test", "mv_ol",
            "SELECT o.o_orderdate, o.o_orderstatus, SUM(l.l_extendedprice * (1 - l.l_discount)) "
            "AS rev FROM orders o JOIN lineitem l ON o.o_orderkey = l.l_orderkey "
            "GROUP BY o.o_orderdate, o.o_orderstatus",
            "o_orderdate date,o_orderstatus char(1),rev decimal(40,4)", 50);
    expect_sql(s,
               "SELECT o_orderdate, SUM(l_extendedprice*(1-l_discount)) AS revenue "
               "FROM lineitem, orders WHERE l_orderkey = o_orderkey AND o_orderstatus = 'F' "
               "GROUP BY o_orderdate",
               want);
    expect_sql(s,
               "SELECT a.o_orderdate, SUM((1 - b.l_discount) * b.l_extendedprice) AS revenue "
               "FROM orders AS a INNER JOIN lineitem AS b ON b.l_orderkey = a.o_orderkey "
               "WHERE a.o_orderstatus = 'F' GROUP BY a.o_orderdate",
               want);
    /* join missing in the query */
    expect_reject(s, "SELECT o_orderdate, SUM(l_quantity) FROM orders, lineitem GROUP BY 1",
                  "test.mv_ol", "join predicate");
    ts_free(s);
}

static void
test_self_join(void **st)
{
    struct cat_snapshot *s = ts_base();
    (void)st;
    ts_view(s, "test", "mv_self",
            "SELECT a.o_orderkey AS k1, b.o_orderkey AS k2, b.o_totalprice AS p2 "
            "FROM orders a JOIN orders b ON a.o_custkey = b.o_custkey "
            "WHERE a.o_orderstatus = 'F'",
            "k1 int,k2 int,p2 decimal(15,2)", 10);
    /* the query names the instances the other way round */
    expect_sql(s,
               "SELECT y.o_orderkey, x.o_totalprice FROM orders x, orders y "
               "WHERE y.o_custkey = x.o_custkey AND y.o_orderstatus = 'F' AND x.o_totalprice > 10",
               "SELECT `test`.`mv_self`.`k1` AS `o_orderkey`, `test`.`mv_self`.`p2` AS "
               "`o_totalprice` FROM `test`.`mv_self` WHERE (`test`.`mv_self`.`p2` > 10)");
    ts_free(s);
}

static void
test_residuals(void **st)
{
    struct cat_snapshot *s = ts_base();
    (void)st;
    ts_view(s, "test", "mv_res",
            "SELECT region_id, product_id, sale_amount, cost_amount FROM raw_sales "
            "WHERE sale_amount > cost_amount OR status = 'gift'",
            "region_id int,product_id int,sale_amount decimal(12,2),cost_amount decimal(12,2)",
            10);
    expect_sql(s,
               "SELECT product_id, sale_amount - cost_amount AS profit FROM raw_sales "
               "WHERE (status = 'gift' OR cost_amount < sale_amount) AND region_id = 4 "
               "AND product_id + 1 <> 3",
               "SELECT `test`.`mv_res`.`product_id` AS `product_id`, (`test`.`mv_res`.`sale_amount` "
               "- `test`.`mv_res`.`cost_amount`) AS `profit` FROM `test`.`mv_res` WHERE "
               "(`test`.`mv_res`.`region_id` = 4) AND (3 <> (`test`.`mv_res`.`product_id` + 1))");
    expect_reject(s, "SELECT product_id FROM raw_sales WHERE sale_amount > cost_amount",
                  "test.mv_res", "not implied");
    ts_free(s);
}

static void
test_model_failures(void **st)
{
    struct cat_snapshot *s = ts_base();
    struct cat_mv *a, *b, *c;
    (void)st;
    a = ts_view(s, "test", "mv_now", "SELECT region_id FROM raw_sales WHERE sale_date < NOW()",
                "region_id int", 1);
    b = ts_view(s, "test", "mv_lim", "SELECT region_id FROM raw_sales LIMIT 10", "region_id int",
                1);
    c = ts_view(s, "test", "mv_win",
                "SELECT region_id, RANK() OVER (ORDER BY COUNT(*)) AS rk FROM raw_sales "
                "GROUP BY region_id",
                "region_id int,rk bigint", 1);
    assert_null(a->model);
    assert_non_null(strstr(a->model_error, "non-deterministic"));
    assert_null(b->model);
    assert_non_null(strstr(b->model_error, "LIMIT"));
    assert_null(c->model);
    assert_non_null(strstr(c->model_error, "window"));
    ts_free(s);
}

static void
test_nested_views(void **st)
{
    struct cat_snapshot *s = ts_base();
    struct cat_mv *dws, *ads;
    (void)st;
    ts_view(s, "test", "mv_dwd_sales",
            "SELECT DATE(sale_date) AS sale_date, region_id, category_id, product_id, customer_id,"
            " COUNT(*) AS order_count, SUM(sale_amount) AS total_amount, SUM(cost_amount) AS "
            "total_cost, COUNT(DISTINCT customer_id) AS customer_count FROM raw_sales "
            "WHERE status = 'completed' AND sale_date >= '2024-01-01' "
            "GROUP BY DATE(sale_date), region_id, category_id, product_id, customer_id",
            "sale_date date,region_id int,category_id int,product_id int,customer_id int,"
            "order_count bigint,total_amount decimal(34,2),total_cost decimal(34,2),"
            "customer_count bigint",
            100000);
    dws = ts_view(s, "test", "mv_dws_sales",
                  "SELECT sale_date, region_id, category_id, SUM(order_count) AS order_count, "
                  "SUM(total_amount) AS total_amount, SUM(total_cost) AS total_cost, "
                  "SUM(customer_count) AS customer_count FROM mv_dwd_sales "
                  "GROUP BY sale_date, region_id, category_id",
                  "sale_date date,region_id int,category_id int,order_count decimal(42,0),"
                  "total_amount decimal(42,2),total_cost decimal(42,2),customer_count "
                  "decimal(42,0)",
                  4000);
    ads = ts_view(s, "test", "mv_ads_daily_summary",
                  "SELECT sale_date, SUM(order_count) AS total_orders, SUM(total_amount) AS "
                  "total_sales, SUM(total_cost) AS total_cost, SUM(customer_count) AS "
                  "total_customers, SUM(total_amount - total_cost) AS total_profit "
                  "FROM mv_dws_sales GROUP BY sale_date",
                  "sale_date date,total_orders decimal(50,0),total_sales decimal(50,2),"
                  "total_cost decimal(50,2),total_customers decimal(50,0),total_profit "
                  "decimal(50,2)",
                  120);
    assert_non_null(dws->model);
    assert_non_null(ads->model);
    {
        struct rw_outcome o = rw(s, "SELECT DATE(sale_date) AS d, COUNT(*) AS orders, "
                                    "SUM(sale_amount) AS sales FROM raw_sales "
                                    "WHERE status = 'completed' AND sale_date >= '2024-02-01' "
                                    "GROUP BY DATE(sale_date)");
        assert_true(o.rewritten);
        assert_string_equal(
            o.sql, "SELECT `test`.`mv_ads_daily_summary`.`sale_date` AS `d`, "
                   "CAST(COALESCE(`test`.`mv_ads_daily_summary`.`total_orders`, 0) AS SIGNED) "
                   "AS `orders`, "
                   "CAST(`test`.`mv_ads_daily_summary`.`total_sales` AS DECIMAL(34,2)) "
                   "AS `sales` FROM "
                   "`test`.`mv_ads_daily_summary` WHERE "
                   "(`test`.`mv_ads_daily_summary`.`sale_date` >= '2024-02-01') AND "
                   "NOT EXISTS (SELECT `sale_amount`, `sale_date`, `status` "
                   "FROM `test`.`raw_sales` WHERE 0)");
        assert_int_equal(cand(&o, "test.mv_ads_daily_summary")->status, RW_CAND_CHOSEN);
        assert_int_equal(cand(&o, "test.mv_dws_sales")->status, RW_CAND_MATCHED_NOT_CHOSEN);
        assert_string_equal(cand(&o, "test.mv_dws_sales")->reason,
                            "view test.mv_ads_daily_summary holds fewer rows (120 < 4000)");
        rw_outcome_free(&o);
    }
    /* SUM(customer_count) of DWS is not COUNT(DISTINCT customer_id) */
    {
        struct rw_outcome o = rw(s, "SELECT DATE(sale_date), COUNT(DISTINCT customer_id) FROM "
                                    "raw_sales WHERE status = 'completed' AND sale_date >= "
                                    "'2024-01-01' GROUP BY DATE(sale_date)");
        assert_int_equal(cand(&o, "test.mv_dws_sales")->status, RW_CAND_REJECTED);
        assert_int_equal(cand(&o, "test.mv_ads_daily_summary")->status, RW_CAND_REJECTED);
        /* DWD groups by customer_id: it answers */
        assert_int_equal(cand(&o, "test.mv_dwd_sales")->status, RW_CAND_CHOSEN);
        rw_outcome_free(&o);
    }
    /* a query over the DWD view's table is answered by DWS (its direct model) */
    expect_sql(s,
               "SELECT sale_date, SUM(total_amount) FROM mv_dwd_sales GROUP BY sale_date",
               "SELECT `test`.`mv_dws_sales`.`sale_date` AS `sale_date`, "
               "CAST(SUM(`test`.`mv_dws_sales`.`total_amount`) AS DECIMAL(56,2)) AS `SUM(total_amount)` FROM "
               "`test`.`mv_dws_sales` GROUP BY `test`.`mv_dws_sales`.`sale_date`");
    ts_free(s);
}

static void
test_hints_disabled_stale(void **st)
{
    struct cat_snapshot *s = snap_rc();
    struct cat_mv *other;
    struct rw_outcome o;
    const char *q = "SELECT region_id, SUM(sale_amount) FROM raw_sales "
                    "WHERE status = 'completed' GROUP BY region_id";
    char buf[512];
    (void)st;
    other = ts_view(s, "test", "mv_r",
                    "SELECT region_id, SUM(sale_amount) AS amt FROM raw_sales "
                    "WHERE status = 'completed' GROUP BY region_id",
                    "region_id int,amt decimal(34,2)", 10);
    o = rw(s, q);
    assert_int_equal(cand(&o, "test.mv_r")->status, RW_CAND_CHOSEN);
    assert_string_equal(cand(&o, "test.mv_rc")->reason,
                        "view test.mv_r holds fewer rows (10 < 400)");
    rw_outcome_free(&o);
    snprintf(buf, sizeof(buf), "SELECT /*+ USE_MV(test.mv_rc) */ %s", q + 7);
    o = rw(s, buf);
    assert_int_equal(cand(&o, "test.mv_rc")->status, RW_CAND_CHOSEN);
    assert_string_equal(cand(&o, "test.mv_r")->reason, "not named in the USE_MV hint");
    rw_outcome_free(&o);
    snprintf(buf, sizeof(buf), "SELECT /*+ NO_USE_MV(mv_r) */ %s", q + 7);
    o = rw(s, buf);
    assert_int_equal(cand(&o, "test.mv_rc")->status, RW_CAND_CHOSEN);
    rw_outcome_free(&o);
    snprintf(buf, sizeof(buf), "SELECT /*+ NO_USE_MV */ %s", q + 7);
    o = rw(s, buf);
    assert_false(o.rewritten);
    rw_outcome_free(&o);
    opt.enabled = false;
    o = rw(s, q);
    assert_false(o.rewritten);
    assert_string_equal(o.reason, "enable_materialized_view_rewrite is OFF");
    rw_outcome_free(&o);
    opt.enabled = true;
    atomic_store(&other->state->stale_since_ms, 1000);
    other->grace_period_s = 1;
    o = rw(s, q);
    assert_int_equal(cand(&o, "test.mv_r")->status, RW_CAND_REJECTED);
    assert_non_null(strstr(cand(&o, "test.mv_r")->reason, "stale"));
    assert_int_equal(cand(&o, "test.mv_rc")->status, RW_CAND_CHOSEN);
    rw_outcome_free(&o);
    ts_free(s);
}

static void
test_not_select(void **st)
{
    struct cat_snapshot *s = snap_rc();
    struct rw_outcome o;
    (void)st;
    o = rw(s, "UPDATE raw_sales SET status = 'x'");
    assert_false(o.rewritten);
    assert_null(o.sql);
    rw_outcome_free(&o);
    o = rw(s, "SELEC broken");
    assert_false(o.rewritten);
    rw_outcome_free(&o);
    ts_free(s);
}

/* Outer joins (view-matching.md §5): same LEFT JOIN, RIGHT JOIN spelled the
 * other way, INNER JOIN from a LEFT JOIN view with a NOT NULL compensation,
 * WHERE null-rejection, and the refusals. */
#define VOJ "`test`.`mv_oj`."
static void
test_outer_join(void **st)
{
    struct cat_snapshot *s = ts_base();
    (void)st;
    ts_view(s, "test", "mv_oj",
            "SELECT o.o_orderkey, o.o_custkey, l.l_linenumber, l.l_quantity "
            "FROM orders o LEFT JOIN lineitem l ON o.o_orderkey = l.l_orderkey",
            "o_orderkey int,o_custkey int,l_linenumber int,l_quantity decimal(15,2)", 10);
    /* the same left join, other aliases */
    expect_sql(s,
               "SELECT a.o_custkey, b.l_quantity FROM orders a LEFT JOIN lineitem b "
               "ON b.l_orderkey = a.o_orderkey",
               "SELECT " VOJ "`o_custkey` AS `o_custkey`, " VOJ "`l_quantity` AS `l_quantity` "
               "FROM `test`.`mv_oj`");
    /* RIGHT JOIN with the sides swapped is the same join */
    expect_sql(s,
               "SELECT a.o_custkey, b.l_quantity FROM lineitem b RIGHT JOIN orders a "
               "ON b.l_orderkey = a.o_orderkey WHERE a.o_custkey = 7",
               "SELECT " VOJ "`o_custkey` AS `o_custkey`, " VOJ "`l_quantity` AS `l_quantity` "
               "FROM `test`.`mv_oj` WHERE (" VOJ "`o_custkey` = 7)");
    /* a filter on the null-supplying side that keeps NULLs is a residual */
    expect_sql(s,
               "SELECT o.o_orderkey FROM orders o LEFT JOIN lineitem l "
               "ON o.o_orderkey = l.l_orderkey WHERE l.l_quantity IS NULL",
               "SELECT " VOJ "`o_orderkey` AS `o_orderkey` FROM `test`.`mv_oj` "
               "WHERE (" VOJ "`l_quantity` IS NULL)");
    /* inner join: the matched rows, found through a NOT NULL column of lineitem */
    expect_sql(s,
               "SELECT o.o_custkey, l.l_quantity FROM orders o JOIN lineitem l "
               "ON o.o_orderkey = l.l_orderkey",
               "SELECT " VOJ "`o_custkey` AS `o_custkey`, " VOJ "`l_quantity` AS `l_quantity` "
               "FROM `test`.`mv_oj` WHERE (" VOJ "`l_linenumber` IS NOT NULL)");
    /* a null-rejecting WHERE makes the query's left join an inner join */
    expect_sql(s,
               "SELECT o.o_custkey FROM orders o LEFT JOIN lineitem l "
               "ON o.o_orderkey = l.l_orderkey WHERE l.l_quantity > 5",
               "SELECT " VOJ "`o_custkey` AS `o_custkey` FROM `test`.`mv_oj` WHERE ("
               VOJ "`l_linenumber` IS NOT NULL) AND (" VOJ "`l_quantity` > 5)");
    /* another ON clause */
    expect_reject(s,
                  "SELECT o.o_custkey FROM orders o LEFT JOIN lineitem l "
                  "ON o.o_orderkey = l.l_orderkey AND l.l_quantity > 5",
                  "test.mv_oj", "another ON clause");
    /* the inner join with an extra ON filter is the view's rows, filtered */
    expect_sql(s,
               "SELECT o.o_custkey FROM orders o JOIN lineitem l "
               "ON o.o_orderkey = l.l_orderkey AND l.l_quantity > 5",
               "SELECT " VOJ "`o_custkey` AS `o_custkey` FROM `test`.`mv_oj` WHERE ("
               VOJ "`l_linenumber` IS NOT NULL) AND (" VOJ "`l_quantity` > 5)");
    /* orders null-supplied: not the view's join */
    expect_reject(s,
                  "SELECT o.o_custkey FROM orders o RIGHT JOIN lineitem l "
                  "ON o.o_orderkey = l.l_orderkey",
                  "test.mv_oj", "inner-joins it");
    /* COUNT(l.col) is not COUNT(*) over padded rows */
    ts_view(s, "test", "mv_ojc",
            "SELECT o.o_custkey, COUNT(*) AS n FROM orders o LEFT JOIN lineitem l "
            "ON o.o_orderkey = l.l_orderkey GROUP BY o.o_custkey",
            "o_custkey int,n bigint(21)", 5);
    expect_reject(s,
                  "SELECT /*+ USE_MV(mv_ojc) */ o.o_custkey, COUNT(l.l_linenumber) "
                  "FROM orders o LEFT JOIN lineitem l "
                  "ON o.o_orderkey = l.l_orderkey GROUP BY o.o_custkey",
                  "test.mv_ojc", "cannot be derived");
    ts_free(s);
}

/* An inner-join view never answers a left join; a view whose WHERE rejects
 * the padded rows is an inner-join view; nested null-supplying sides are
 * outside the model. */
static void
test_outer_join_refusals(void **st)
{
    struct cat_snapshot *s = ts_base();
    struct cat_mv *mv;
    (void)st;
    ts_view(s, "test", "mv_ij",
            "SELECT o.o_orderkey, o.o_custkey, l.l_quantity FROM orders o LEFT JOIN lineitem l "
            "ON o.o_orderkey = l.l_orderkey WHERE l.l_quantity > 1",
            "o_orderkey int,o_custkey int,l_quantity decimal(15,2)", 10);
    expect_reject(s,
                  "SELECT o.o_custkey FROM orders o LEFT JOIN lineitem l "
                  "ON o.o_orderkey = l.l_orderkey",
                  "test.mv_ij", "inner-joins it");
    expect_sql(s,
               "SELECT o.o_custkey FROM orders o JOIN lineitem l "
               "ON o.o_orderkey = l.l_orderkey WHERE l.l_quantity > 2",
               "SELECT `test`.`mv_ij`.`o_custkey` AS `o_custkey` FROM `test`.`mv_ij` "
               "WHERE (`test`.`mv_ij`.`l_quantity` > 2)");
    /* no column of lineitem that is never NULL in matched rows */
    ts_view(s, "test", "mv_ojn",
            "SELECT o.o_custkey, l.l_quantity FROM orders o LEFT JOIN lineitem l "
            "ON o.o_orderkey = l.l_orderkey",
            "o_custkey int,l_quantity decimal(15,2)", 10);
    expect_reject(s,
                  "SELECT o.o_custkey FROM orders o JOIN lineitem l "
                  "ON o.o_orderkey = l.l_orderkey",
                  "test.mv_ojn", "never NULL in matched rows");
    mv = ts_view(s, "test", "mv_nest",
                 "SELECT o.o_custkey FROM orders o LEFT JOIN (lineitem l JOIN raw_sales r "
                 "ON r.product_id = l.l_partkey) ON o.o_orderkey = l.l_orderkey",
                 "o_custkey int", 10);
    assert_null(mv->model);
    assert_non_null(strstr(mv->model_error, "single table"));
    mv = ts_view(s, "test", "mv_full",
                 "SELECT o.o_custkey FROM orders o FULL JOIN lineitem l "
                 "ON o.o_orderkey = l.l_orderkey",
                 "o_custkey int", 10);
    assert_null(mv->model);
    ts_free(s);
}

/* Join elimination (view-matching.md §2): an extra view table joined on a
 * declared NOT NULL foreign key to a unique key, or LEFT JOINed on a unique
 * key, neither drops nor duplicates rows; anything else is refused. */
static void
test_join_elimination(void **st)
{
    struct cat_snapshot *s = ts_base();
    (void)st;
    ts_table(s, "test", "prods", "pid int!,pname varchar(20)");
    ts_table(s, "test", "lines", "lid int!,pid int!,qty int,opt_pid int");
    ts_ukey(s, "test", "prods", "pid");
    ts_ukey(s, "test", "lines", "lid");
    ts_fkey(s, "test", "lines", "pid", "test.prods", "pid");
    ts_fkey(s, "test", "lines", "opt_pid", "test.prods", "pid");
    ts_view(s, "test", "mv_lp",
            "SELECT l.lid, l.pid, l.qty, p.pname FROM lines l JOIN prods p ON l.pid = p.pid",
            "lid int,pid int,qty int,pname varchar(20)", 10);
    expect_sql(s, "SELECT lid, qty FROM lines WHERE qty > 5",
               "SELECT `test`.`mv_lp`.`lid` AS `lid`, `test`.`mv_lp`.`qty` AS `qty` "
               "FROM `test`.`mv_lp` WHERE (`test`.`mv_lp`.`qty` > 5)");
    /* aggregate query over the eliminated join */
    expect_sql(s, "SELECT pid, SUM(qty) FROM lines GROUP BY pid",
               "SELECT `test`.`mv_lp`.`pid` AS `pid`, SUM(`test`.`mv_lp`.`qty`) AS `SUM(qty)` "
               "FROM `test`.`mv_lp` GROUP BY `test`.`mv_lp`.`pid`");
    /* a filter on the extra table drops rows */
    ts_view(s, "test", "mv_lpf",
            "SELECT l.lid, l.qty FROM lines l JOIN prods p ON l.pid = p.pid "
            "WHERE p.pname = 'a'",
            "lid int,qty int", 10);
    expect_reject(s, "SELECT /*+ USE_MV(mv_lpf) */ lid, qty FROM lines", "test.mv_lpf",
                  "may drop or duplicate rows");
    /* a nullable foreign key drops the rows where it is NULL */
    ts_view(s, "test", "mv_lpo",
            "SELECT l.lid, l.qty FROM lines l JOIN prods p ON l.opt_pid = p.pid",
            "lid int,qty int", 10);
    expect_reject(s, "SELECT /*+ USE_MV(mv_lpo) */ lid, qty FROM lines", "test.mv_lpo",
                  "has a nullable column opt_pid");
    /* LEFT JOIN on the unique key: lossless even on the nullable column */
    ts_view(s, "test", "mv_llp",
            "SELECT l.lid, l.qty, p.pname FROM lines l LEFT JOIN prods p ON l.opt_pid = p.pid",
            "lid int,qty int,pname varchar(20)", 10);
    expect_sql(s, "SELECT /*+ USE_MV(mv_llp) */ lid FROM lines WHERE qty = 1",
               "SELECT `test`.`mv_llp`.`lid` AS `lid` FROM "
               "`test`.`mv_llp` WHERE (`test`.`mv_llp`.`qty` = 1)");
    /* LEFT JOIN on a non-unique column may duplicate rows */
    ts_view(s, "test", "mv_lln",
            "SELECT l.lid, l.qty FROM lines l LEFT JOIN prods p ON l.qty = p.pid "
            "AND p.pname = l.lid",
            "lid int,qty int", 10);
    expect_sql(s, "SELECT /*+ USE_MV(mv_lln) */ lid FROM lines l LEFT JOIN prods p "
                  "ON l.qty = p.pid AND p.pname = l.lid",
               "SELECT `test`.`mv_lln`.`lid` AS `lid` FROM `test`.`mv_lln`");
    ts_view(s, "test", "mv_lld",
            "SELECT l.lid, l.qty FROM lines l LEFT JOIN prods p ON l.qty = p.pname",
            "lid int,qty int", 10);
    expect_reject(s, "SELECT /*+ USE_MV(mv_lld) */ lid FROM lines", "test.mv_lld",
                  "may drop or duplicate rows");
    /* no declared key at all */
    ts_view(s, "test", "mv_ol2",
            "SELECT o.o_orderkey, o.o_custkey FROM orders o JOIN lineitem l "
            "ON o.o_orderkey = l.l_orderkey",
            "o_orderkey int,o_custkey int", 10);
    expect_reject(s, "SELECT /*+ USE_MV(mv_ol2) */ o_custkey FROM orders", "test.mv_ol2",
                  "may drop or duplicate rows");
    ts_free(s);
}

/* Mark the last unique (FK false) or foreign (FK true) key of DB.NAME
 * informational (NOT ENFORCED) with constraint name CNAME. */
static void
ts_informational(struct cat_snapshot *s, const char *name, bool fk, const char *cname)
{
    struct cat_table *t = NULL;
    char key[256];
    struct cat_key *k;
    snprintf(key, sizeof(key), "test.%s", name);
    HASH_FIND_STR(s->tables, key, t);
    assert_non_null(t);
    k = fk ? &t->fkeys[t->n_fkeys - 1] : &t->ukeys[t->n_ukeys - 1];
    k->informational = true;
    k->name = strdup(cname);
}

/* Rewrite SQL and return the CHOSEN candidate's reason (caller frees). */
static char *
chosen_reason(struct cat_snapshot *s, const char *sql)
{
    struct rw_outcome o = rw(s, sql);
    char *r = NULL;
    assert_true(o.rewritten);
    for (size_t i = 0; i < o.n_cand; i++) {
        if (o.cand[i].status == RW_CAND_CHOSEN) {
            r = strdup(o.cand[i].reason);
        }
    }
    assert_non_null(r);
    rw_outcome_free(&o);
    return r;
}

/* Informational (NOT ENFORCED) keys: join elimination trusts them like real
 * ones, with the same NOT NULL rule, and EXPLAIN says it relied on them. */
static void
test_informational_keys(void **st)
{
    struct cat_snapshot *s = ts_base();
    char *r;
    (void)st;
    ts_table(s, "test", "prods", "pid int!,pname varchar(20)");
    ts_table(s, "test", "lines", "lid int!,pid int!,qty int,opt_pid int");
    ts_table(s, "test", "rprods", "pid int!,pname varchar(20)");
    ts_table(s, "test", "rlines", "lid int!,pid int!,qty int");
    ts_ukey(s, "test", "prods", "pid");
    ts_informational(s, "prods", false, "pk_p");
    ts_fkey(s, "test", "lines", "pid", "test.prods", "pid");
    ts_informational(s, "lines", true, "fk_p");
    ts_fkey(s, "test", "lines", "opt_pid", "test.prods", "pid");
    ts_informational(s, "lines", true, "fk_o");
    ts_ukey(s, "test", "rprods", "pid"); /* real keys only */
    ts_fkey(s, "test", "rlines", "pid", "test.rprods", "pid");
    ts_view(s, "test", "mv_ilp",
            "SELECT l.lid, l.pid, l.qty, p.pname FROM lines l JOIN prods p ON l.pid = p.pid",
            "lid int,pid int,qty int,pname varchar(20)", 10);
    expect_sql(s, "SELECT lid, qty FROM lines WHERE qty > 5",
               "SELECT `test`.`mv_ilp`.`lid` AS `lid`, `test`.`mv_ilp`.`qty` AS `qty` "
               "FROM `test`.`mv_ilp` WHERE (`test`.`mv_ilp`.`qty` > 5)");
    r = chosen_reason(s, "SELECT lid, qty FROM lines WHERE qty > 5");
    assert_non_null(strstr(r, "join with test.prods eliminated on informational constraints "
                              "fk_p, pk_p (NOT ENFORCED"));
    free(r);
    /* the query reads prods too: nothing eliminated, nothing trusted */
    r = chosen_reason(s, "SELECT l.lid, p.pname FROM lines l JOIN prods p ON l.pid = p.pid");
    assert_string_equal(r, "");
    free(r);
    /* real keys: no note */
    ts_view(s, "test", "mv_rlp",
            "SELECT l.lid, l.qty, p.pname FROM rlines l JOIN rprods p ON l.pid = p.pid",
            "lid int,qty int,pname varchar(20)", 10);
    r = chosen_reason(s, "SELECT lid FROM rlines");
    assert_string_equal(r, "");
    free(r);
    /* a nullable informational foreign key is refused like a real one */
    ts_view(s, "test", "mv_ilo",
            "SELECT l.lid, l.qty FROM lines l JOIN prods p ON l.opt_pid = p.pid",
            "lid int,qty int", 10);
    expect_reject(s, "SELECT /*+ USE_MV(mv_ilo) */ lid, qty FROM lines", "test.mv_ilo",
                  "informational foreign key fk_o of test.lines referencing it has a nullable "
                  "column opt_pid");
    /* LEFT JOIN on the informational unique key: only the unique key is trusted */
    ts_view(s, "test", "mv_illp",
            "SELECT l.lid, l.qty, p.pname FROM lines l LEFT JOIN prods p ON l.opt_pid = p.pid",
            "lid int,qty int,pname varchar(20)", 10);
    r = chosen_reason(s, "SELECT /*+ USE_MV(mv_illp) */ lid FROM lines WHERE qty = 1");
    assert_non_null(strstr(r, "informational constraint pk_p (NOT ENFORCED"));
    free(r);
    ts_free(s);
}

/* A view filter `c IS NOT NULL` is implied by any query conjunct that is
 * NULL for a NULL c (a range, an equality with another column). */
/* The privilege guard (SPEC §7, rw_emit_guard): every rewritten block ends
 * its WHERE with one always-false NOT EXISTS per base table the original
 * block reads, naming exactly the columns it reads from that table, so the
 * backend checks the original table and column privileges. */
static void
test_privilege_guard(void **st)
{
    struct cat_snapshot *s = ts_base();
    struct rw_outcome o;
    (void)st;
    ts_view(s, "test", "mv_ol",
            "SELECT o.o_orderdate, o.o_orderstatus, SUM(l.l_extendedprice * (1 - l.l_discount)) "
            "AS rev FROM orders o JOIN lineitem l ON o.o_orderkey = l.l_orderkey "
            "GROUP BY o.o_orderdate, o.o_orderstatus",
            "o_orderdate date,o_orderstatus char(1),rev decimal(40,4)", 50);
    ts_view(s, "test", "mv_cnt",
            "SELECT region_id, COUNT(*) AS c FROM raw_sales GROUP BY region_id",
            "region_id int,c bigint", 5);
    ts_view(s, "test", "mv_oj",
            "SELECT o.o_orderkey, o.o_custkey, l.l_linenumber, l.l_quantity "
            "FROM orders o LEFT JOIN lineitem l ON o.o_orderkey = l.l_orderkey",
            "o_orderkey int,o_custkey int,l_linenumber int,l_quantity decimal(15,2)", 10);
    ts_view(s, "test", "mv_self",
            "SELECT a.o_orderkey AS k1, b.o_orderkey AS k2, b.o_totalprice AS p2 "
            "FROM orders a JOIN orders b ON a.o_custkey = b.o_custkey "
            "WHERE a.o_orderstatus = 'F'",
            "k1 int,k2 int,p2 decimal(15,2)", 10);
    /* two tables, in FROM order; join, filter, output and aggregate columns */
    o = rw(s, "SELECT o_orderdate, SUM(l_extendedprice*(1-l_discount)) AS revenue "
              "FROM lineitem, orders WHERE l_orderkey = o_orderkey AND o_orderstatus = 'F' "
              "GROUP BY o_orderdate");
    assert_true(o.rewritten);
    assert_string_equal(
        o.sql, "SELECT `test`.`mv_ol`.`o_orderdate` AS `o_orderdate`, SUM(`test`.`mv_ol`.`rev`) "
               "AS `revenue` FROM `test`.`mv_ol` WHERE (`test`.`mv_ol`.`o_orderstatus` = 'F') "
               "AND NOT EXISTS (SELECT `l_discount`, `l_extendedprice`, `l_orderkey` FROM "
               "`test`.`lineitem` WHERE 0) AND NOT EXISTS (SELECT `o_orderdate`, `o_orderkey`, "
               "`o_orderstatus` FROM `test`.`orders` WHERE 0) GROUP BY "
               "`test`.`mv_ol`.`o_orderdate`");
    /* EXPLAIN REWRITE's candidate sql is what would be sent: guard included */
    assert_non_null(strstr(cand(&o, "test.mv_ol")->sql, "NOT EXISTS (SELECT `l_discount`"));
    rw_outcome_free(&o);
    /* no column read: SELECT 1 still needs SELECT on the table */
    o = rw(s, "SELECT COUNT(*) AS n FROM raw_sales");
    assert_true(o.rewritten);
    assert_non_null(strstr(o.sql, " FROM `test`.`mv_cnt` WHERE NOT EXISTS (SELECT 1 FROM "
                                  "`test`.`raw_sales` WHERE 0)"));
    rw_outcome_free(&o);
    /* outer join: the ON columns are read too */
    o = rw(s, "SELECT o.o_custkey FROM orders o LEFT JOIN lineitem l "
              "ON o.o_orderkey = l.l_orderkey");
    assert_true(o.rewritten);
    assert_string_equal(o.sql, "SELECT `test`.`mv_oj`.`o_custkey` AS `o_custkey` FROM "
                               "`test`.`mv_oj` WHERE NOT EXISTS (SELECT `o_custkey`, "
                               "`o_orderkey` FROM `test`.`orders` WHERE 0) AND NOT EXISTS "
                               "(SELECT `l_orderkey` FROM `test`.`lineitem` WHERE 0)");
    rw_outcome_free(&o);
    /* self-join: one guard for the table, the columns of both instances */
    o = rw(s, "SELECT y.o_orderkey, x.o_totalprice FROM orders x, orders y "
              "WHERE y.o_custkey = x.o_custkey AND y.o_orderstatus = 'F'");
    assert_true(o.rewritten);
    assert_non_null(strstr(o.sql, " FROM `test`.`mv_self` WHERE NOT EXISTS (SELECT `o_custkey`, "
                                  "`o_orderkey`, `o_orderstatus`, `o_totalprice` FROM "
                                  "`test`.`orders` WHERE 0)"));
    assert_null(strstr(o.sql, "WHERE 0) AND NOT EXISTS"));
    rw_outcome_free(&o);
    /* SELECT *: every column */
    o = rw(s, "SELECT * FROM orders o LEFT JOIN lineitem l ON o.o_orderkey = l.l_orderkey");
    if (o.rewritten) {
        assert_non_null(strstr(o.sql, "(SELECT `o_custkey`, `o_orderdate`, `o_orderkey`, "
                                      "`o_orderstatus`, `o_totalprice` FROM `test`.`orders`"));
    }
    rw_outcome_free(&o);
    ts_free(s);
}

/* Range on a time column the view outputs only truncated (CAST(DATE(x) AS
 * DATETIME), DATE_FORMAT month/hour starts, MAKEDATE(YEAR(x), 1)): bounds on
 * the grain's boundaries move to the truncated column; others do not. */
static void
test_time_grain_ranges(void **st)
{
    struct cat_snapshot *s = ts_base();
    (void)st;
    ts_view(s, "test", "mv_dt",
            "SELECT region_id, CAST(DATE(sale_date) AS DATETIME) AS d, COUNT(*) AS c "
            "FROM raw_sales GROUP BY region_id, CAST(DATE(sale_date) AS DATETIME)",
            "region_id int,d datetime,c bigint", 10);
    ts_view(s, "test", "mv_mon",
            "SELECT region_id, CAST(DATE_FORMAT(sale_date, '%Y-%m-01') AS DATETIME) AS m, "
            "COUNT(*) AS c FROM raw_sales "
            "GROUP BY region_id, CAST(DATE_FORMAT(sale_date, '%Y-%m-01') AS DATETIME)",
            "region_id int,m datetime,c bigint", 20);
    ts_view(s, "test", "mv_hr",
            "SELECT o_custkey, CAST(DATE_FORMAT(o_orderdate, '%Y-%m-%d %H:00:00') AS DATETIME) AS h, "
            "COUNT(*) AS c FROM orders "
            "GROUP BY o_custkey, CAST(DATE_FORMAT(o_orderdate, '%Y-%m-%d %H:00:00') AS DATETIME)",
            "o_custkey int,h datetime,c bigint", 20);
    ts_view(s, "test", "mv_str",
            "SELECT region_id, DATE_FORMAT(sale_date, '%Y-%m-%d %H:%i:%s') AS t, COUNT(*) AS c "
            "FROM raw_sales GROUP BY region_id, DATE_FORMAT(sale_date, '%Y-%m-%d %H:%i:%s')",
            "region_id int,t varchar(40),c bigint", 30);
    /* day boundaries, both orientations */
    expect_sql(s,
               "SELECT region_id, COUNT(*) FROM raw_sales WHERE sale_date >= '2024-01-01' "
               "AND '2024-02-01' > sale_date GROUP BY region_id",
               "SELECT `test`.`mv_dt`.`region_id` AS `region_id`, CAST(COALESCE(SUM("
               "`test`.`mv_dt`.`c`), 0) AS SIGNED) AS `COUNT(*)` FROM `test`.`mv_dt` WHERE "
               "(`test`.`mv_dt`.`d` < '2024-02-01') AND (`test`.`mv_dt`.`d` >= '2024-01-01') "
               "GROUP BY `test`.`mv_dt`.`region_id`");
    /* month boundaries but not day ones: only the month view */
    expect_sql(s,
               "SELECT /*+ USE_MV(mv_mon) */ region_id, COUNT(*) FROM raw_sales "
               "WHERE sale_date >= '2024-02-01 00:00:00' AND sale_date < '2024-05-01' "
               "GROUP BY region_id",
               "SELECT `test`.`mv_mon`.`region_id` AS `region_id`, "
               "CAST(COALESCE(SUM(`test`.`mv_mon`.`c`), 0) AS SIGNED) AS `COUNT(*)` FROM "
               "`test`.`mv_mon` WHERE (`test`.`mv_mon`.`m` < '2024-05-01') AND "
               "(`test`.`mv_mon`.`m` >= '2024-02-01 00:00:00') GROUP BY `test`.`mv_mon`.`region_id`");
    expect_reject(s,
                  "SELECT /*+ USE_MV(mv_mon) */ region_id, COUNT(*) FROM raw_sales "
                  "WHERE sale_date >= '2024-02-15' GROUP BY region_id",
                  "test.mv_mon", "sale_date");
    /* not a boundary of the day grain */
    expect_reject(s,
                  "SELECT /*+ USE_MV(mv_dt) */ region_id, COUNT(*) FROM raw_sales "
                  "WHERE sale_date >= '2024-01-01 06:00:00' GROUP BY region_id",
                  "test.mv_dt", "sale_date");
    /* > and <= are not grain-exact */
    expect_reject(s,
                  "SELECT /*+ USE_MV(mv_dt) */ region_id, COUNT(*) FROM raw_sales "
                  "WHERE sale_date > '2024-01-01' GROUP BY region_id",
                  "test.mv_dt", "sale_date");
    /* a DATE column under an hour grain: the truncation is the identity on its
     * values, so CAST(h AS DATE) is o_orderdate and any literal applies */
    expect_sql(s,
               "SELECT o_custkey, COUNT(*) FROM orders "
               "WHERE o_orderdate >= '2024-01-01 05:00:00' GROUP BY o_custkey",
               "SELECT `test`.`mv_hr`.`o_custkey` AS `o_custkey`, CAST(COALESCE(SUM("
               "`test`.`mv_hr`.`c`), 0) AS SIGNED) AS `COUNT(*)` FROM `test`.`mv_hr` WHERE "
               "(CAST(`test`.`mv_hr`.`h` AS DATE) >= '2024-01-01 05:00:00') "
               "GROUP BY `test`.`mv_hr`.`o_custkey`");
    expect_sql(s,
               "SELECT o_custkey, COUNT(*) FROM orders WHERE o_orderdate >= '2024-01-01' "
               "GROUP BY o_custkey",
               "SELECT `test`.`mv_hr`.`o_custkey` AS `o_custkey`, CAST(COALESCE(SUM("
               "`test`.`mv_hr`.`c`), 0) AS SIGNED) AS `COUNT(*)` FROM `test`.`mv_hr` WHERE "
               "(CAST(`test`.`mv_hr`.`h` AS DATE) >= '2024-01-01') GROUP BY "
               "`test`.`mv_hr`.`o_custkey`");
    /* a DATE_FORMAT string to the second of a DATETIME(0): read back exactly */
    expect_sql(s,
               "SELECT /*+ USE_MV(mv_str) */ region_id, COUNT(*) FROM raw_sales "
               "WHERE sale_date >= '2024-01-01 10:00:01' GROUP BY region_id",
               "SELECT `test`.`mv_str`.`region_id` AS `region_id`, CAST(COALESCE(SUM("
               "`test`.`mv_str`.`c`), 0) AS SIGNED) AS `COUNT(*)` FROM `test`.`mv_str` WHERE "
               "(CAST(`test`.`mv_str`.`t` AS DATETIME) >= '2024-01-01 10:00:01') "
               "GROUP BY `test`.`mv_str`.`region_id`");
    ts_free(s);
}

/* Week and quarter truncations, whole-day shifts, DATE_FORMAT strings of
 * DATETIME(6) (not invertible: only second-aligned >= / <), rw_weekday. */
static void
test_time_more(void **st)
{
    struct cat_snapshot *s = ts_base();
    (void)st;
    ts_table(s, "test", "ev", "id int,t6 datetime(6),k int");
    ts_view(s, "test", "mv_wk",
            "SELECT k, CAST(DATE_SUB(DATE(t6), INTERVAL WEEKDAY(t6) DAY) AS DATETIME) AS w, "
            "COUNT(*) AS c FROM ev "
            "GROUP BY k, CAST(DATE_SUB(DATE(t6), INTERVAL WEEKDAY(t6) DAY) AS DATETIME)",
            "k int,w datetime,c bigint", 10);
    ts_view(s, "test", "mv_q",
            "SELECT k, MAKEDATE(YEAR(t6), 1) + INTERVAL (QUARTER(t6) - 1) QUARTER AS q, "
            "COUNT(*) AS c FROM ev "
            "GROUP BY k, MAKEDATE(YEAR(t6), 1) + INTERVAL (QUARTER(t6) - 1) QUARTER",
            "k int,q date,c bigint", 20);
    ts_view(s, "test", "mv_s6",
            "SELECT k, DATE_FORMAT(t6, '%Y-%m-%d %H:%i:%s') AS s, COUNT(*) AS c FROM ev "
            "GROUP BY k, DATE_FORMAT(t6, '%Y-%m-%d %H:%i:%s')",
            "k int,s varchar(40),c bigint", 30);
    expect_sql(s,
               "SELECT /*+ USE_MV(mv_wk) */ k, COUNT(*) FROM ev WHERE t6 >= '2024-01-01' "
               "AND t6 < '2024-01-15' GROUP BY k",
               "SELECT `test`.`mv_wk`.`k` AS `k`, CAST(COALESCE(SUM(`test`.`mv_wk`.`c`), 0) AS "
               "SIGNED) AS `COUNT(*)` FROM `test`.`mv_wk` WHERE (`test`.`mv_wk`.`w` < "
               "'2024-01-15') AND (`test`.`mv_wk`.`w` >= '2024-01-01') GROUP BY "
               "`test`.`mv_wk`.`k`");
    /* 2024-01-02 is a Tuesday; 2024-01-07 a Sunday */
    expect_reject(s, "SELECT /*+ USE_MV(mv_wk) */ k, COUNT(*) FROM ev WHERE t6 >= '2024-01-02' "
                     "GROUP BY k", "test.mv_wk", "t6");
    expect_reject(s, "SELECT /*+ USE_MV(mv_wk) */ k, COUNT(*) FROM ev WHERE t6 < '2024-01-07' "
                     "GROUP BY k", "test.mv_wk", "t6");
    expect_reject(s, "SELECT /*+ USE_MV(mv_wk) */ k, COUNT(*) FROM ev WHERE t6 = '2024-01-08' "
                     "GROUP BY k", "test.mv_wk", "t6");
    /* a week shift keeps week boundaries, a day shift does not */
    expect_sql(s,
               "SELECT /*+ USE_MV(mv_wk) */ k, COUNT(*) FROM ev "
               "WHERE DATE_ADD(t6, INTERVAL 2 WEEK) >= '2024-01-15' GROUP BY k",
               "SELECT `test`.`mv_wk`.`k` AS `k`, CAST(COALESCE(SUM(`test`.`mv_wk`.`c`), 0) AS "
               "SIGNED) AS `COUNT(*)` FROM `test`.`mv_wk` WHERE (DATE_ADD(`test`.`mv_wk`.`w`, "
               "INTERVAL 2 WEEK) >= '2024-01-15') GROUP BY `test`.`mv_wk`.`k`");
    expect_reject(s, "SELECT /*+ USE_MV(mv_wk) */ k, COUNT(*) FROM ev "
                     "WHERE DATE_ADD(t6, INTERVAL 1 DAY) >= '2024-01-15' GROUP BY k",
                  "test.mv_wk", "t6");
    expect_sql(s,
               "SELECT /*+ USE_MV(mv_q) */ k, COUNT(*) FROM ev WHERE t6 >= '2024-04-01' "
               "AND t6 < '2024-10-01' GROUP BY k",
               "SELECT `test`.`mv_q`.`k` AS `k`, CAST(COALESCE(SUM(`test`.`mv_q`.`c`), 0) AS "
               "SIGNED) AS `COUNT(*)` FROM `test`.`mv_q` WHERE (`test`.`mv_q`.`q` < "
               "'2024-10-01') AND (`test`.`mv_q`.`q` >= '2024-04-01') GROUP BY "
               "`test`.`mv_q`.`k`");
    expect_reject(s, "SELECT /*+ USE_MV(mv_q) */ k, COUNT(*) FROM ev WHERE t6 >= '2024-05-01' "
                     "GROUP BY k", "test.mv_q", "t6");
    /* DATETIME(6) to the second: not the identity */
    expect_sql(s,
               "SELECT /*+ USE_MV(mv_s6) */ k, COUNT(*) FROM ev WHERE t6 >= '2024-01-01 10:00:01' "
               "GROUP BY k",
               "SELECT `test`.`mv_s6`.`k` AS `k`, CAST(COALESCE(SUM(`test`.`mv_s6`.`c`), 0) AS "
               "SIGNED) AS `COUNT(*)` FROM `test`.`mv_s6` WHERE (CAST(`test`.`mv_s6`.`s` AS "
               "DATETIME) >= '2024-01-01 10:00:01') GROUP BY `test`.`mv_s6`.`k`");
    expect_reject(s, "SELECT /*+ USE_MV(mv_s6) */ k, COUNT(*) FROM ev "
                     "WHERE t6 <= '2024-01-01 10:00:01' GROUP BY k", "test.mv_s6", "t6");
    expect_reject(s, "SELECT /*+ USE_MV(mv_s6) */ k, COUNT(*) FROM ev "
                     "WHERE t6 >= '2024-01-01 10:00:01.5' GROUP BY k", "test.mv_s6", "t6");
    expect_reject(s, "SELECT /*+ USE_MV(mv_s6) */ t6, COUNT(*) FROM ev GROUP BY t6",
                  "test.mv_s6", "t6");
    ts_free(s);
    assert_int_equal(rw_weekday("2024-01-01 00:00:00"), 0);
    assert_int_equal(rw_weekday("2024-01-07 00:00:00"), 6);
    assert_int_equal(rw_weekday("1970-01-01 00:00:00"), 3);
    assert_int_equal(rw_weekday("2000-02-29 00:00:00"), 1);
    assert_int_equal(rw_weekday("1900-02-29 00:00:00"), -1);
    assert_int_equal(rw_weekday("2023-02-30 00:00:00"), -1);
    assert_int_equal(rw_weekday("0001-01-01 00:00:00"), 0);
}

static void
test_is_not_null_implied(void **st)
{
    struct cat_snapshot *s = ts_base();
    (void)st;
    ts_view(s, "test", "mv_nn",
            "SELECT o_orderkey, o_custkey FROM orders WHERE o_custkey IS NOT NULL",
            "o_orderkey int,o_custkey int", 10);
    expect_sql(s, "SELECT o_orderkey FROM orders WHERE o_custkey = 5",
               "SELECT `test`.`mv_nn`.`o_orderkey` AS `o_orderkey` FROM `test`.`mv_nn` "
               "WHERE (`test`.`mv_nn`.`o_custkey` = 5)");
    expect_sql(s, "SELECT o_orderkey FROM orders WHERE o_custkey + 1 > 5",
               "SELECT `test`.`mv_nn`.`o_orderkey` AS `o_orderkey` FROM `test`.`mv_nn` "
               "WHERE ((`test`.`mv_nn`.`o_custkey` + 1) > 5)");
    expect_reject(s, "SELECT o_orderkey FROM orders WHERE o_custkey <=> 5", "test.mv_nn",
                  "not implied");
    expect_reject(s, "SELECT o_orderkey FROM orders WHERE COALESCE(o_custkey, 5) = 5",
                  "test.mv_nn", "not implied");
    ts_free(s);
}

#define W "`test`.`mv_w`."

/* Window functions in views: same window + filters on its PARTITION BY only
 * (rw_winpart.c rw_winpart_comp_on_partitions), ties (rw_win_deterministic), windows
 * computed again over an SPJ view, partitioned views (rw_win_part_aligned). */
static void
test_windows(void **st)
{
    struct cat_snapshot *s = ts_base();
    struct cat_mv *mv;
    char *why = NULL;
    struct rw_outcome o;
    (void)st;
    ts_ukey(s, "test", "orders", "o_orderkey");
    mv = ts_view(s, "test", "mv_w",
                 "SELECT o_orderkey, o_custkey, o_orderstatus, ROW_NUMBER() OVER (PARTITION BY "
                 "o_custkey ORDER BY o_orderdate, o_orderkey) AS rn FROM orders",
                 "o_orderkey int,o_custkey int,o_orderstatus char(1),rn bigint", 10);
    assert_non_null(mv->model);
    assert_true(mv->model->direct->has_win);
    assert_null(mv->model->direct->opaque_why);
    /* the same window, filtered on its partition key: read from the view */
    expect_sql(s,
               "SELECT o_orderkey, ROW_NUMBER() OVER (PARTITION BY o_custkey ORDER BY "
               "o_orderdate, o_orderkey) AS rn FROM orders WHERE o_custkey = 7",
               "SELECT " W "`o_orderkey` AS `o_orderkey`, " W "`rn` AS `rn` FROM `test`.`mv_w` "
               "WHERE (" W "`o_custkey` = 7)");
    /* a filter inside the partitions changes the numbering */
    expect_reject(s,
                  "SELECT o_orderkey, ROW_NUMBER() OVER (PARTITION BY o_custkey ORDER BY "
                  "o_orderdate, o_orderkey) AS rn FROM orders WHERE o_orderstatus = 'F'",
                  "test.mv_w", "is not on the PARTITION BY of the view's window row_number()");
    /* another ordering is another window (and o_orderdate is not in the view) */
    expect_reject(s,
                  "SELECT o_orderkey, ROW_NUMBER() OVER (PARTITION BY o_custkey ORDER BY "
                  "o_orderdate DESC, o_orderkey) AS rn FROM orders",
                  "test.mv_w", "o_orderdate");
    /* plain columns of a window view follow the usual rules, whatever the filter */
    expect_sql(s, "SELECT o_orderkey FROM orders WHERE o_orderstatus = 'F'",
               "SELECT " W "`o_orderkey` AS `o_orderkey` FROM `test`.`mv_w` WHERE (" W
               "`o_orderstatus` = 'F')");
    /* partition alignment */
    assert_true(rw_win_part_aligned(mv->model->direct, "o_custkey", &why));
    assert_null(why);
    assert_false(rw_win_part_aligned(mv->model->direct, "o_orderstatus", &why));
    assert_non_null(strstr(why, "row_number()"));
    free(why);
    /* recomputed over an SPJ view, frame and DESC emitted in MariaDB syntax */
    ts_view(s, "test", "mv_spj", "SELECT o_orderkey, o_custkey, o_totalprice FROM orders",
            "o_orderkey int,o_custkey int,o_totalprice decimal(15,2)", 5);
    expect_sql(s,
               "SELECT o_orderkey, SUM(o_totalprice) OVER (PARTITION BY o_custkey ORDER BY "
               "o_orderkey DESC ROWS BETWEEN 2 PRECEDING AND CURRENT ROW) AS m FROM orders",
               "SELECT `test`.`mv_spj`.`o_orderkey` AS `o_orderkey`, SUM(`test`.`mv_spj`."
               "`o_totalprice`) OVER (PARTITION BY `test`.`mv_spj`.`o_custkey` ORDER BY "
               "`test`.`mv_spj`.`o_orderkey` DESC ROWS BETWEEN 2 PRECEDING AND CURRENT ROW) AS "
               "`m` FROM `test`.`mv_spj`");
    /* ties: lineitem has no declared key, ROW_NUMBER's numbering of ties is arbitrary */
    ts_view(s, "test", "mv_lt",
            "SELECT l_orderkey, l_partkey, ROW_NUMBER() OVER (PARTITION BY l_orderkey ORDER BY "
            "l_partkey) AS rn, RANK() OVER (PARTITION BY l_orderkey ORDER BY l_partkey) AS rk "
            "FROM lineitem",
            "l_orderkey int,l_partkey int,rn bigint,rk bigint", 3);
    o = rw(s, "SELECT l_orderkey, ROW_NUMBER() OVER (PARTITION BY l_orderkey ORDER BY "
              "l_partkey) AS rn FROM lineitem");
    assert_false(o.rewritten);
    assert_non_null(strstr(o.reason, "tie"));
    rw_outcome_free(&o);
    /* ... RANK is the same whatever the order of ties */
    expect_sql(s,
               "SELECT l_orderkey, RANK() OVER (PARTITION BY l_orderkey ORDER BY l_partkey) AS rk "
               "FROM lineitem",
               "SELECT `test`.`mv_lt`.`l_orderkey` AS `l_orderkey`, `test`.`mv_lt`.`rk` AS `rk` "
               "FROM `test`.`mv_lt`");
    /* windows with GROUP BY / DISTINCT are outside the model */
    o = rw(s, "SELECT DISTINCT o_custkey, RANK() OVER (ORDER BY o_custkey) FROM orders");
    assert_false(o.rewritten);
    assert_non_null(strstr(o.reason, "DISTINCT"));
    rw_outcome_free(&o);
    ts_free(s);
}

/* String ranges compared under the column's collation (rw_coll.h), and
 * date arithmetic with INTERVAL kept in order (not commutative). */
static void
test_string_ranges_and_intervals(void **st)
{
    struct cat_snapshot *s = ts_base();
    struct cat_table *t = NULL;
    (void)st;
    HASH_FIND_STR(s->tables, "test.raw_sales", t);
    assert_non_null(t);
    for (size_t i = 0; i < t->n_cols; i++) {
        if (strcmp(t->cols[i].name, "status") == 0) {
            t->cols[i].collation = strdup("utf8mb4_general_ci");
        }
    }
    assert_non_null(ts_view(s, "test", "mv_iv",
                            "SELECT sale_date + INTERVAL 1 MONTH + INTERVAL 1 DAY AS t2, status, "
                            "sale_amount FROM raw_sales WHERE status >= 'b'",
                            "t2 datetime,status varchar(20),sale_amount decimal(12,2)", 100)
                        ->model);
    /* 'C' >= 'b' under _ci (byte order would say 'C' < 'b') */
    expect_sql(s,
               "SELECT sale_date + INTERVAL 1 MONTH + INTERVAL 1 DAY AS t2 FROM raw_sales "
               "WHERE status >= 'C' AND status < 'd'",
               "SELECT `test`.`mv_iv`.`t2` AS `t2` FROM `test`.`mv_iv` WHERE "
               "(`test`.`mv_iv`.`status` < 'd') AND (`test`.`mv_iv`.`status` >= 'C')");
    /* the same date arithmetic in another order is another expression */
    expect_reject(s,
                  "SELECT sale_date + INTERVAL 1 DAY + INTERVAL 1 MONTH AS t2 FROM raw_sales "
                  "WHERE status >= 'c'",
                  "test.mv_iv", "sale_date");
    /* 'A' < 'b' under _ci: outside the view */
    expect_reject(s, "SELECT status FROM raw_sales WHERE status >= 'A'", "test.mv_iv",
                  "not implied");
    /* punctuation is not ordered under _ci: refused with the reason */
    expect_reject(s, "SELECT status FROM raw_sales WHERE status >= 'c-d'", "test.mv_iv",
                  "cannot order 'c-d' under collation utf8mb4_general_ci");
    /* an introducer: another character set */
    expect_reject(s, "SELECT status FROM raw_sales WHERE status >= _latin1'c'", "test.mv_iv",
                  "has its own character set");
    /* equality folds case: 'B' = 'b' is inside status >= 'b' */
    expect_sql(s, "SELECT status FROM raw_sales WHERE status = 'B'",
               "SELECT `test`.`mv_iv`.`status` AS `status` FROM `test`.`mv_iv` WHERE "
               "(`test`.`mv_iv`.`status` = 'B')");
    ts_free(s);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exact_match), cmocka_unit_test(test_outer_join),
        cmocka_unit_test(test_windows),
        cmocka_unit_test(test_outer_join_refusals),
        cmocka_unit_test(test_join_elimination), cmocka_unit_test(test_is_not_null_implied),     cmocka_unit_test(test_rollup_and_range),
        cmocka_unit_test(test_count_star_no_group), cmocka_unit_test(test_avg),
        cmocka_unit_test(test_count_distinct),  cmocka_unit_test(test_rejections),
        cmocka_unit_test(test_time_rollup),     cmocka_unit_test(test_join_view),
        cmocka_unit_test(test_self_join),       cmocka_unit_test(test_residuals),
        cmocka_unit_test(test_privilege_guard), cmocka_unit_test(test_time_grain_ranges),
        cmocka_unit_test(test_time_more),
        cmocka_unit_test(test_model_failures),  cmocka_unit_test(test_nested_views),
        cmocka_unit_test(test_hints_disabled_stale), cmocka_unit_test(test_not_select),
        cmocka_unit_test(test_informational_keys),
        cmocka_unit_test(test_string_ranges_and_intervals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
