/*
 * test_rw_partition.c - unit tests for rw_restrict_base_range()
 * (rewriter/rw_restrict.c): the base-column range AND-ed into a view
 * definition's own WHERE, so that MariaDB prunes base partitions when one
 * view partition is refreshed or compensated.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rw_restrict.h"

static void
ok(const char *sql, const char *key, const char *lo, const char *hi, const char *want)
{
    char *out = NULL, *err = NULL;
    int rc = rw_restrict_base_range(sql, "sales_demo", key, "sale_date", lo, hi, &out, &err);
    if (rc != 0 || out == NULL || strcmp(out, want) != 0) {
        print_error("sql:  %s\ngot:  %s (%s)\nwant: %s\n", sql, out ? out : "(null)",
                    err ? err : "", want);
        fail();
    }
    assert_null(err);
    free(out);
}

static void
refused(const char *sql, const char *key)
{
    char *out = NULL, *err = NULL;
    int rc = rw_restrict_base_range(sql, "sales_demo", key, "sale_date", "2024-05-01",
                                    "2024-05-02", &out, &err);
    if (rc != -1 || out != NULL) {
        print_error("sql: %s\nunexpectedly restricted: %s\n", sql, out ? out : "(null)");
        fail();
    }
    assert_non_null(err);
    free(err);
}

static void
test_where_absent(void **state)
{
    (void)state;
    ok("SELECT DATE(sale_date) AS d, COUNT(*) FROM raw_sales GROUP BY DATE(sale_date)",
       "sales_demo.raw_sales", "2024-05-01", "2024-05-02",
       "SELECT DATE(sale_date) AS d, COUNT(*) FROM raw_sales WHERE raw_sales.`sale_date` >= "
       "'2024-05-01' AND raw_sales.`sale_date` < '2024-05-02' GROUP BY DATE(sale_date)");
    ok("SELECT sale_date, amount FROM raw_sales", "sales_demo.raw_sales", "2024-05-01",
       "2024-05-02",
       "SELECT sale_date, amount FROM raw_sales WHERE raw_sales.`sale_date` >= '2024-05-01' "
       "AND raw_sales.`sale_date` < '2024-05-02'");
    /* a trailing comment stays after the insertion */
    ok("SELECT sale_date FROM raw_sales -- all of it", "sales_demo.raw_sales", NULL,
       "2024-05-02",
       "SELECT sale_date FROM raw_sales WHERE raw_sales.`sale_date` < '2024-05-02' -- all of it");
    ok("SELECT sale_date FROM raw_sales ORDER BY 1", "sales_demo.raw_sales", "2024-05-01", NULL,
       "SELECT sale_date FROM raw_sales WHERE raw_sales.`sale_date` >= '2024-05-01' ORDER BY 1");
}

static void
test_where_present(void **state)
{
    (void)state;
    ok("SELECT DATE(sale_date) AS sale_date, SUM(x) FROM raw_sales\n"
       "WHERE status = 'completed'\n  AND sale_date >= '2024-01-01'\n"
       "GROUP BY DATE(sale_date), region_id HAVING SUM(x) > 0",
       "sales_demo.raw_sales", "2024-05-01", "2024-05-02",
       "SELECT DATE(sale_date) AS sale_date, SUM(x) FROM raw_sales\n"
       "WHERE (status = 'completed'\n  AND sale_date >= '2024-01-01') AND "
       "raw_sales.`sale_date` >= '2024-05-01' AND raw_sales.`sale_date` < '2024-05-02'\n"
       "GROUP BY DATE(sale_date), region_id HAVING SUM(x) > 0");
    /* OR: parenthesised, so the restriction applies to both arms */
    ok("SELECT sale_date FROM raw_sales WHERE a = 1 OR b = (SELECT MAX(c) FROM t WHERE d)",
       "sales_demo.raw_sales", "2024-05-01", "2024-05-02",
       "SELECT sale_date FROM raw_sales WHERE (a = 1 OR b = (SELECT MAX(c) FROM t WHERE d)) "
       "AND raw_sales.`sale_date` >= '2024-05-01' AND raw_sales.`sale_date` < '2024-05-02'");
    ok("SELECT sale_date FROM raw_sales WHERE a = 1 OR b = 2;", "sales_demo.raw_sales",
       "2024-05-01", "2024-05-02",
       "SELECT sale_date FROM raw_sales WHERE (a = 1 OR b = 2) AND raw_sales.`sale_date` >= "
       "'2024-05-01' AND raw_sales.`sale_date` < '2024-05-02';");
}

static void
test_aliases(void **state)
{
    (void)state;
    ok("SELECT DATE(s.sale_date) AS d, c.name, COUNT(*) FROM raw_sales AS s "
       "JOIN cats c ON c.id = s.cat WHERE c.x = 1 GROUP BY 1, 2",
       "sales_demo.raw_sales", "2024-05-01", "2024-05-02",
       "SELECT DATE(s.sale_date) AS d, c.name, COUNT(*) FROM raw_sales AS s "
       "JOIN cats c ON c.id = s.cat WHERE (c.x = 1) AND s.`sale_date` >= '2024-05-01' AND "
       "s.`sale_date` < '2024-05-02' GROUP BY 1, 2");
    ok("SELECT r.sale_date FROM cats, raw_sales r", "sales_demo.raw_sales", "2024-05-01",
       "2024-05-02",
       "SELECT r.sale_date FROM cats, raw_sales r WHERE r.`sale_date` >= '2024-05-01' AND "
       "r.`sale_date` < '2024-05-02'");
    /* case of an alias is kept (MariaDB aliases are case sensitive) */
    ok("SELECT RS.sale_date FROM raw_sales RS", "sales_demo.raw_sales", "2024-05-01",
       "2024-05-02",
       "SELECT RS.sale_date FROM raw_sales RS WHERE RS.`sale_date` >= '2024-05-01' AND "
       "RS.`sale_date` < '2024-05-02'");
    /* qualified with the database */
    ok("SELECT sale_date FROM sales_demo.raw_sales", "sales_demo.raw_sales", "2024-05-01",
       "2024-05-02",
       "SELECT sale_date FROM sales_demo.raw_sales WHERE sales_demo.raw_sales.`sale_date` >= "
       "'2024-05-01' AND sales_demo.raw_sales.`sale_date` < '2024-05-02'");
}

static void
test_backticks(void **state)
{
    (void)state;
    ok("SELECT DATE(`sale_date`) AS `sale_date` FROM `sales_demo`.`raw_sales` "
       "WHERE `status` = 'completed' GROUP BY DATE(`sale_date`)",
       "sales_demo.raw_sales", "2024-05-01", "2024-05-02",
       "SELECT DATE(`sale_date`) AS `sale_date` FROM `sales_demo`.`raw_sales` "
       "WHERE (`status` = 'completed') AND `sales_demo`.`raw_sales`.`sale_date` >= "
       "'2024-05-01' AND `sales_demo`.`raw_sales`.`sale_date` < '2024-05-02' "
       "GROUP BY DATE(`sale_date`)");
    ok("SELECT `x`.`sale_date` FROM `raw_sales` AS `x` GROUP BY 1", "sales_demo.raw_sales",
       "2024-05-01", "2024-05-02",
       "SELECT `x`.`sale_date` FROM `raw_sales` AS `x` WHERE `x`.`sale_date` >= '2024-05-01' "
       "AND `x`.`sale_date` < '2024-05-02' GROUP BY 1");
}

static void
test_refused(void **state)
{
    (void)state;
    refused("SELECT sale_date FROM raw_sales LIMIT 10", "sales_demo.raw_sales");
    refused("SELECT sale_date FROM raw_sales UNION ALL SELECT sale_date FROM raw_sales",
            "sales_demo.raw_sales");
    refused("SELECT a.sale_date FROM raw_sales a JOIN raw_sales b ON a.id = b.id",
            "sales_demo.raw_sales");
    refused("SELECT sale_date FROM (SELECT sale_date FROM raw_sales) t", "sales_demo.raw_sales");
    refused("SELECT sale_date FROM other_table", "sales_demo.raw_sales");
    refused("SELECT sale_date FROM other_db.raw_sales", "sales_demo.raw_sales");
    refused("SELECT MIN(sale_date) FROM raw_sales", "sales_demo.raw_sales");
    refused("SELECT sale_date, SUM(x) OVER (ORDER BY sale_date) FROM raw_sales",
            "sales_demo.raw_sales");
    refused("SELECT sale_date FROM raw_sales USE INDEX FOR ORDER BY (i) ORDER BY 1",
            "sales_demo.raw_sales");
    refused("WITH t AS (SELECT 1) SELECT sale_date FROM raw_sales", "sales_demo.raw_sales");
    refused("SELECT sale_date FROM", "sales_demo.raw_sales");
    {
        char *out = NULL, *err = NULL;
        assert_int_equal(rw_restrict_base_range("SELECT sale_date FROM raw_sales", "sales_demo",
                                                "sales_demo.raw_sales", "sale_date", NULL, NULL,
                                                &out, &err),
                         -1);
        assert_null(out);
        free(err);
        assert_int_equal(rw_restrict_base_range("SELECT sale_date FROM raw_sales", "sales_demo",
                                                "sales_demo.raw_sales", "sale_date",
                                                "2024'--", NULL, &out, &err),
                         -1);
        free(err);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_where_absent), cmocka_unit_test(test_where_present),
        cmocka_unit_test(test_aliases),      cmocka_unit_test(test_backticks),
        cmocka_unit_test(test_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
