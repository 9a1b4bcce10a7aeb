/*
 * fuzz_sql.c - libFuzzer target for the dialect bridge + parser
 * (rw_parse_sql) and the whole rewriter (rw_rewrite, with and without
 * EXPLAIN) against a small fixed catalog snapshot: the tables and views of
 * the unit tests (tests/unit/rw_test_snap.h). The input is one statement.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rw.h"
#include "rw_parse.h"
#include "../tests/unit/rw_test_snap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct cat_snapshot *g_snap;

static struct cat_snapshot *
snap(void)
{
    if (g_snap != NULL) {
        return g_snap;
    }
    g_snap = ts_base();
    ts_view(g_snap, "test", "mv_day",
            "SELECT DATE(sale_date) AS d, region_id, SUM(sale_amount) AS s, COUNT(*) AS c "
            "FROM raw_sales WHERE status = 'completed' GROUP BY DATE(sale_date), region_id",
            "d date,region_id int,s decimal(34,2),c bigint", 100);
    ts_view(g_snap, "test", "mv_ol",
            "SELECT o_orderdate, l_partkey, SUM(l_quantity) AS q, COUNT(*) AS n "
            "FROM orders JOIN lineitem ON l_orderkey = o_orderkey "
            "GROUP BY o_orderdate, l_partkey",
            "o_orderdate date,l_partkey int,q decimal(37,2),n bigint", 1000);
    ts_view(g_snap, "test", "mv_rows",
            "SELECT region_id, category_id, sale_amount FROM raw_sales WHERE region_id > 3",
            "region_id int,category_id int,sale_amount decimal(12,2)", 10);
    rw_cache_set_capacity(16);
    return g_snap;
}

/* Free the snapshot at exit, so LeakSanitizer reports only real leaks. */
static void __attribute__((destructor))
snap_free(void)
{
    if (g_snap != NULL) {
        ts_free(g_snap);
        g_snap = NULL;
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct rw_parse p;
    char *err = NULL;
    size_t pos;
    struct rw_options opt;
    struct rw_outcome out;
    const char *sql = (const char *)data;

    if (rw_parse_sql(sql, size, &p, &err, &pos) != 0 && pos > size) {
        abort();
    }
    free(err);
    rw_parse_free(&p);

    memset(&opt, 0, sizeof(opt));
    opt.enabled = true;
    opt.now_ms = 2000;
    for (int explain = 0; explain <= 1; explain++) {
        opt.explain = explain != 0;
        memset(&out, 0, sizeof(out));
        if (rw_rewrite(sql, size, "test", snap(), &opt, &out) == 0 && out.rewritten &&
            out.sql == NULL) {
            abort();
        }
        rw_outcome_free(&out);
    }
    return 0;
}
