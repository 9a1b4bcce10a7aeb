/*
 * test_cat_cost.c - the cost-based choice's pure parts (engine/cat_cost.c):
 * the estimated row reads of MariaDB 10.11 EXPLAIN FORMAT=JSON plans (one
 * table by index, a join in nested-loop order with `filtered`, a derived
 * table, a subquery, malformed input) and the rule between the original
 * and its rewrite (the floor, the margin, unknown figures).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "cat_cost.h"

static double
reads(const char *json)
{
    return cat_cost_plan_reads(json, strlen(json));
}

static void
test_plan_reads(void **state)
{
    (void)state;
    /* one table through an index: its rows */
    assert_true(reads("{\"query_block\": {\"select_id\": 1, \"nested_loop\": [{\"table\": "
                      "{\"table_name\": \"t\", \"access_type\": \"ref\", \"rows\": 200, "
                      "\"filtered\": 100}}]}}") == 200.0);
    /* a join: 100 rows of a, 10% pass, each reads 5 rows of b: 100 + 10 * 5 */
    assert_true(reads("{\"query_block\": {\"select_id\": 1, \"filesort\": {\"temporary_table\": "
                      "{\"nested_loop\": [{\"table\": {\"table_name\": \"a\", \"rows\": 100, "
                      "\"filtered\": 10}}, {\"block-nl-join\": {\"table\": {\"table_name\": "
                      "\"b\", \"rows\": 5, \"filtered\": 100}, \"join_type\": \"BNL\"}}]}}}}") ==
                150.0);
    /* a materialized derived table: its own reads (the scan of its temporary
     * result is not counted again) */
    assert_true(reads("{\"query_block\": {\"select_id\": 1, \"nested_loop\": [{\"table\": "
                      "{\"table_name\": \"<derived2>\", \"rows\": 10, \"filtered\": 100, "
                      "\"materialized\": {\"query_block\": {\"select_id\": 2, \"nested_loop\": "
                      "[{\"table\": {\"table_name\": \"t\", \"rows\": 1000, \"filtered\": "
                      "100}}]}}}}]}}") == 1000.0);
    /* a subquery with an impossible WHERE reads nothing */
    assert_true(reads("{\"query_block\": {\"select_id\": 1, \"nested_loop\": [{\"table\": "
                      "{\"table_name\": \"mv\", \"rows\": 100, \"filtered\": 100}}], "
                      "\"subqueries\": [{\"query_block\": {\"select_id\": 3, \"table\": "
                      "{\"message\": \"Impossible WHERE\"}}}]}}") == 100.0);
    /* filtered below one row never makes the later tables free */
    assert_true(reads("{\"query_block\": {\"nested_loop\": [{\"table\": {\"rows\": 1, "
                      "\"filtered\": 1}}, {\"table\": {\"rows\": 7, \"filtered\": 100}}]}}") ==
                8.0);
    assert_true(reads("not json") < 0);
    assert_true(reads("") < 0);
}

static void
test_compare(void **state)
{
    (void)state;
    /* below the floor the rewrite stands, however it compares */
    assert_int_equal(cat_cost_compare(1, 999), CAT_COST_REWRITE);
    /* above it, more than 1.5 times the original's reads: the original */
    assert_int_equal(cat_cost_compare(200, 20280), CAT_COST_ORIGINAL);
    assert_int_equal(cat_cost_compare(19735, 20280), CAT_COST_REWRITE);
    assert_int_equal(cat_cost_compare(2000, 3000), CAT_COST_REWRITE);
    assert_int_equal(cat_cost_compare(2000, 3001), CAT_COST_ORIGINAL);
    assert_int_equal(cat_cost_compare(1000000, 100), CAT_COST_REWRITE);
    assert_int_equal(cat_cost_compare(-1, 100), CAT_COST_UNKNOWN);
    assert_int_equal(cat_cost_compare(100, -1), CAT_COST_UNKNOWN);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plan_reads),
        cmocka_unit_test(test_compare),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
