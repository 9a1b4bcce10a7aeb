/*
 * rw_decision_bench.c - what one rewrite decision costs on the query path,
 * without a backend: a fake catalog snapshot with 10, 100 and 1000 views
 * (indexed by base table as the catalog does: most over 50 other tables, a
 * few over raw_sales: the seed's DWD/DWS/ADS plus N/100 filtered variants)
 * and the seed's dashboard queries (examples/dashboard.sql a, b, c: today's
 * overview, last month by region and category, the 30-day daily trend).
 *
 *   miss: rw_rewrite() with the decision cache disabled: dialect bridge,
 *         libpg_query parse, block models, candidate lookup, matching of
 *         every candidate, splice;
 *   hit:  rw_rewrite() answered from the per-thread cache (key lookup plus
 *         cat_mv_usable() of the chosen view, copy of the outcome).
 *
 *   rw_decision_bench [--iters N]     (default 2000 per query and size)
 *
 * Prints microseconds per decision (the mean over N runs after one warm-up
 * run). Numbers are for comparison between sizes on one machine, not
 * absolute claims.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../tests/unit/rw_test_snap.h"

static const struct {
    const char *id;
    const char *sql;
} queries[] = {
    {"a today's overview",
     "SELECT COUNT(*) AS orders, SUM(sale_amount) AS sales, SUM(cost_amount) AS cost, "
     "SUM(sale_amount) - SUM(cost_amount) AS profit, COUNT(DISTINCT customer_id) AS customers "
     "FROM raw_sales WHERE status = 'completed' AND sale_date >= '2024-06-15' "
     "AND sale_date < '2024-06-16'"},
    {"b month by region/category",
     "SELECT region_id, category_id, COUNT(*) AS orders, SUM(sale_amount) AS sales, "
     "SUM(sale_amount) - SUM(cost_amount) AS profit FROM raw_sales WHERE status = 'completed' "
     "AND sale_date >= '2024-05-01' AND sale_date < '2024-06-01' "
     "GROUP BY region_id, category_id ORDER BY region_id, category_id"},
    {"c daily trend",
     "SELECT DATE(sale_date) AS day, COUNT(*) AS orders, SUM(sale_amount) AS sales, "
     "SUM(sale_amount) - SUM(cost_amount) AS profit FROM raw_sales WHERE status = 'completed' "
     "AND sale_date >= '2024-05-17' AND sale_date < '2024-06-16' GROUP BY DATE(sale_date) "
     "ORDER BY day"},
};

/* The fake catalog with N_VIEWS views. */
static struct cat_snapshot *
build_snapshot(int n_views)
{
    struct cat_snapshot *s = ts_base();
    char name[64], sql[1024];
    int i, n_raw = 3 + n_views / 100, n_other;
    for (i = 0; i < 50; i++) {
        snprintf(name, sizeof(name), "t%02d", i);
        ts_table(s, "test", name, "k int,g int,d datetime,a decimal(12,2),st varchar(10)");
    }
    ts_view(s, "test", "mv_dwd_sales",
            "SELECT DATE(sale_date) AS sale_date, region_id, category_id, product_id, "
            "customer_id, COUNT(*) AS order_count, SUM(sale_amount) AS total_amount, "
            "SUM(cost_amount) AS total_cost, COUNT(DISTINCT customer_id) AS customer_count "
            "FROM raw_sales WHERE status = 'completed' AND sale_date >= '2024-01-01' "
            "GROUP BY DATE(sale_date), region_id, category_id, product_id, customer_id",
            "sale_date date,region_id int,category_id int,product_id int,customer_id int,"
            "order_count bigint,total_amount decimal(34,2),total_cost decimal(34,2),"
            "customer_count bigint",
            400000);
    ts_view(s, "test", "mv_dws_sales",
            "SELECT sale_date, region_id, category_id, SUM(order_count) AS order_count, "
            "SUM(total_amount) AS total_amount, SUM(total_cost) AS total_cost, "
            "SUM(customer_count) AS customer_count FROM mv_dwd_sales "
            "GROUP BY sale_date, region_id, category_id",
            "sale_date date,region_id int,category_id int,order_count decimal(43,0),"
            "total_amount decimal(56,2),total_cost decimal(56,2),customer_count decimal(43,0)",
            20000);
    ts_view(s, "test", "mv_ads_daily_summary",
            "SELECT sale_date, SUM(order_count) AS total_orders, SUM(total_amount) AS "
            "total_sales, SUM(total_cost) AS total_cost, SUM(customer_count) AS "
            "total_customers, SUM(total_amount - total_cost) AS total_profit "
            "FROM mv_dws_sales GROUP BY sale_date",
            "sale_date date,total_orders decimal(65,0),total_sales decimal(65,2),"
            "total_cost decimal(65,2),total_customers decimal(65,0),total_profit decimal(65,2)",
            500);
    for (i = 3; i < n_raw; i++) {
        /* variants with another status filter: candidates that get rejected */
        snprintf(name, sizeof(name), "mv_raw_%03d", i);
        snprintf(sql, sizeof(sql),
                 "SELECT region_id, DATE(sale_date) AS d, COUNT(*) AS c, SUM(sale_amount) AS s "
                 "FROM raw_sales WHERE status = 'st%d' GROUP BY region_id, DATE(sale_date)",
                 i);
        ts_view(s, "test", name, sql, "region_id int,d date,c bigint,s decimal(34,2)", 1000);
    }
    n_other = n_views > n_raw ? n_views - n_raw : 0;
    for (i = 0; i < n_other; i++) {
        snprintf(name, sizeof(name), "mv_o_%04d", i);
        snprintf(sql, sizeof(sql),
                 "SELECT g, DATE(d) AS day, COUNT(*) AS c, SUM(a) AS s FROM t%02d "
                 "WHERE st = 'x%d' GROUP BY g, DATE(d)",
                 i % 50, i);
        ts_view(s, "test", name, sql, "g int,day date,c bigint,s decimal(34,2)", 100 + i);
    }
    return s;
}

/* Mean microseconds of ITERS decisions of SQL. */
static double
time_decisions(struct cat_snapshot *s, const char *sql, int iters, bool *rewritten)
{
    struct rw_options opt = {true, false, 5000, 0};
    struct timespec a, b;
    struct rw_outcome o;
    int i;
    if (rw_rewrite(sql, strlen(sql), "test", s, &opt, &o) != 0) {
        fprintf(stderr, "rw_rewrite failed\n");
        exit(1);
    }
    *rewritten = o.rewritten;
    rw_outcome_free(&o);
    clock_gettime(CLOCK_MONOTONIC, &a);
    for (i = 0; i < iters; i++) {
        if (rw_rewrite(sql, strlen(sql), "test", s, &opt, &o) != 0) {
            fprintf(stderr, "rw_rewrite failed\n");
            exit(1);
        }
        rw_outcome_free(&o);
    }
    clock_gettime(CLOCK_MONOTONIC, &b);
    return ((double)(b.tv_sec - a.tv_sec) * 1e6 + (double)(b.tv_nsec - a.tv_nsec) / 1e3) / iters;
}

int
main(int argc, char **argv)
{
    static const int sizes[] = {10, 100, 1000};
    int iters = 2000;
    size_t k, q;
    if (argc == 3 && strcmp(argv[1], "--iters") == 0) {
        iters = atoi(argv[2]) > 0 ? atoi(argv[2]) : iters;
    }
    printf("%-6s %-28s %-12s %12s %12s\n", "views", "query", "rewritten", "miss us", "hit us");
    for (k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
        struct cat_snapshot *s = build_snapshot(sizes[k]);
        for (q = 0; q < sizeof(queries) / sizeof(queries[0]); q++) {
            bool rw1 = false, rw2 = false;
            double miss, hit;
            rw_cache_set_capacity(0);
            miss = time_decisions(s, queries[q].sql, iters, &rw1);
            rw_cache_set_capacity(4096);
            hit = time_decisions(s, queries[q].sql, iters * 10, &rw2);
            printf("%-6d %-28s %-12s %12.2f %12.2f\n", sizes[k], queries[q].id,
                   rw1 && rw2 ? "yes" : (rw1 || rw2) ? "MISMATCH" : "no", miss, hit);
        }
        rw_cache_flush();
        ts_free(s);
    }
    return 0;
}
