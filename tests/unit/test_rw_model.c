/*
 * test_rw_model.c - statement helpers and view models: rw_check_select,
 * rw_tables_read, rw_mv_model_build failures and unfolded table lists,
 * output names and byte-identical splicing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "rw_test_snap.h"

static void
test_check_select(void **st)
{
    char *err = NULL;
    size_t pos = 99;
    const char *bad = "SELECT a FROM t WHERE";
    (void)st;
    assert_int_equal(rw_check_select("SELECT a FROM t", 15, &err, &pos), 0);
    assert_int_equal(rw_check_select(bad, strlen(bad), &err, &pos), -1);
    assert_non_null(err);
    assert_true(pos <= strlen(bad));
    free(err);
    assert_int_equal(rw_check_select("DELETE FROM t", 13, &err, &pos), -1);
    free(err);
}

static void
test_tables_read(void **st)
{
    const char *q = "WITH c AS (SELECT x FROM other.t2) SELECT * FROM T1 a JOIN c ON a.x = c.x "
                    "WHERE a.y IN (SELECT y FROM `Shop`.`T3`)";
    char **t = NULL, *err = NULL;
    size_t n = 0;
    (void)st;
    assert_int_equal(rw_tables_read(q, strlen(q), "db", &t, &n, &err), 0);
    assert_int_equal(n, 3);
    for (size_t i = 0; i < n; i++) {
        assert_true(strcmp(t[i], "other.t2") == 0 || strcmp(t[i], "db.t1") == 0 ||
                    strcmp(t[i], "shop.t3") == 0);
    }
    for (size_t i = 0; i < n; i++) {
        free(t[i]);
    }
    free(t);
    assert_int_equal(rw_tables_read("SELEC", 5, "db", &t, &n, &err), -1);
    free(err);
}

static void
test_view_models(void **st)
{
    struct cat_snapshot *s = ts_base();
    struct cat_mv *a, *b, *c;
    const char *const *keys;
    (void)st;
    a = ts_view(s, "test", "v1", "SELECT DISTINCT region_id FROM raw_sales", "region_id int", 5);
    assert_non_null(a->model);
    b = ts_view(s, "test", "v2", "SELECT region_id, COUNT(*) AS n FROM v1 GROUP BY region_id",
                "region_id int,n bigint", 5);
    assert_non_null(b->model);
    /* v2 over v1 unfolds to raw_sales; the direct table stays listed */
    assert_int_equal(rw_mv_model_tables(b->model, &keys), 2);
    assert_string_equal(keys[0], "test.raw_sales");
    assert_string_equal(keys[1], "test.v1");
    c = ts_view(s, "test", "v3", "SELECT region_id FROM raw_sales WHERE sale_date > CURDATE()",
                "region_id int", 5);
    assert_null(c->model);
    c = ts_view(s, "test", "v4", "SELECT nope FROM raw_sales", "nope int", 5);
    assert_null(c->model);
    assert_non_null(strstr(c->model_error, "nope"));
    c = ts_view(s, "test", "v5",
                "SELECT region_id FROM raw_sales WHERE region_id IN (SELECT 1 FROM orders)",
                "region_id int", 5);
    assert_null(c->model);
    ts_free(s);
}

static void
test_names_and_splice(void **st)
{
    struct cat_snapshot *s = ts_base();
    struct rw_options opt = {true, true, 5000};
    struct rw_outcome o;
    const char *q = "-- head\n/* c */ SELECT  Region_ID , `category_id`, sale_amount*2  ,"
                    "sale_amount AS 'Amt' FROM test.raw_sales WHERE region_id = 1 ;  /* tail */";
    (void)st;
    ts_view(s, "test", "v", "SELECT region_id, category_id, sale_amount FROM raw_sales",
            "region_id int,category_id int,sale_amount decimal(12,2)", 5);
    assert_int_equal(rw_rewrite(q, strlen(q), NULL, s, &opt, &o), 0);
    assert_true(o.rewritten);
    assert_string_equal(
        o.sql, "-- head\n/* c */ SELECT `test`.`v`.`region_id` AS `Region_ID`, "
               "`test`.`v`.`category_id` AS `category_id`, (`test`.`v`.`sale_amount` * 2) AS "
               "`sale_amount*2`, `test`.`v`.`sale_amount` AS `Amt` FROM `test`.`v` WHERE "
               "(`test`.`v`.`region_id` = 1) AND NOT EXISTS (SELECT `category_id`, `region_id`, "
               "`sale_amount` FROM `test`.`raw_sales` WHERE 0) ;  /* tail */");
    rw_outcome_free(&o);
    ts_free(s);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_check_select),
        cmocka_unit_test(test_tables_read),
        cmocka_unit_test(test_view_models),
        cmocka_unit_test(test_names_and_splice),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
