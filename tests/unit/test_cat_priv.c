/*
 * test_cat_priv.c - SHOW GRANTS lines into grants and the checks on them
 * (engine/cat_priv.c): global, database (wildcard patterns), table and
 * column grants, ALL PRIVILEGES, roles' lines, lines that grant no table
 * privilege. The lines are MariaDB 10.11's SHOW GRANTS output.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "cat_priv.h"

/* Parse LINES (NULL-terminated) into P as cat_privs_load would. */
static void
load(struct cat_privs *p, const char *const *lines)
{
    size_t n = 0, i;
    memset(p, 0, sizeof(*p));
    while (lines[n] != NULL) {
        n++;
    }
    p->g = calloc(n + 1, sizeof(*p->g));
    for (i = 0; i < n; i++) {
        if (cat_grant_parse(lines[i], &p->g[p->n]) == 1) {
            p->n++;
        }
    }
}

static void
test_parse_shapes(void **state)
{
    struct cat_grant g;
    (void)state;
    assert_int_equal(cat_grant_parse("GRANT ALL PRIVILEGES ON *.* TO `root`@`localhost` WITH "
                                     "GRANT OPTION", &g), 1);
    assert_null(g.db);
    assert_int_equal(g.privs & CAT_PRIV_ALL, CAT_PRIV_ALL);
    cat_grant_free(&g);
    assert_int_equal(cat_grant_parse("GRANT SELECT, INSERT, ALTER ON `d\\_%`.* TO `u`@`%`", &g),
                     1);
    assert_string_equal(g.db, "d\\_%");
    assert_null(g.table);
    assert_int_equal(g.privs, CAT_PRIV_SELECT | CAT_PRIV_INSERT | CAT_PRIV_ALTER);
    cat_grant_free(&g);
    assert_int_equal(cat_grant_parse("GRANT SELECT (`a`, `b`), DROP ON `d1`.`t``x` TO `r1`", &g),
                     1);
    assert_string_equal(g.db, "d1");
    assert_string_equal(g.table, "t`x");
    assert_true(g.columns);
    assert_int_equal(g.privs, CAT_PRIV_DROP);
    cat_grant_free(&g);
    assert_int_equal(cat_grant_parse("GRANT USAGE ON *.* TO `u1`@`%` IDENTIFIED BY PASSWORD "
                                     "'*7B9E'", &g), 1);
    assert_int_equal(g.privs, 0);
    cat_grant_free(&g);
    assert_int_equal(cat_grant_parse("GRANT `r1` TO `u1`@`%`", &g), 0);
    assert_int_equal(cat_grant_parse("GRANT PROXY ON ``@`%` TO `root`@`localhost`", &g), 0);
    assert_int_equal(cat_grant_parse("GRANT EXECUTE ON PROCEDURE `d1`.`p` TO `u`@`%`", &g), 0);
    assert_int_equal(cat_grant_parse("SET DEFAULT ROLE `r1` FOR `u1`@`%`", &g), 0);
    assert_int_equal(cat_grant_parse("garbage", &g), -1);
    assert_int_equal(cat_grant_parse("GRANT SELECT ON", &g), -1);
}

static void
test_checks(void **state)
{
    static const char *const lines[] = {
        "GRANT `r1` TO `u1`@`%`",
        "GRANT PROCESS ON *.* TO `u1`@`%` IDENTIFIED BY PASSWORD '*7B9E'",
        "GRANT ALL PRIVILEGES ON `own\\_%`.* TO `u1`@`%`",
        "GRANT USAGE ON *.* TO `r1`",
        "GRANT SELECT ON `d1`.`t` TO `r1`",   /* a role's line: it counts */
        "GRANT INSERT (`a`) ON `d1`.`c` TO `u1`@`%`",
        NULL,
    };
    struct cat_privs p;
    (void)state;
    load(&p, lines);
    assert_int_equal(cat_privs_global(&p), CAT_PRIV_PROCESS);
    assert_int_equal(cat_privs_on(&p, "own_x", "v") & CAT_PRIV_ALTER, CAT_PRIV_ALTER);
    assert_int_equal(cat_privs_on(&p, "ownXx", "v") & CAT_PRIV_ALTER, 0); /* \_ is literal */
    assert_int_equal(cat_privs_on(&p, "d1", "t"), CAT_PRIV_SELECT | CAT_PRIV_PROCESS);
    assert_int_equal(cat_privs_on(&p, "d1", "T") & CAT_PRIV_SELECT, 0);
    assert_true(cat_privs_visible(&p, "d1", "t"));
    assert_true(cat_privs_visible(&p, "d1", "c"));       /* a column grant */
    assert_int_equal(cat_privs_on(&p, "d1", "c") & CAT_PRIV_INSERT, 0);
    assert_false(cat_privs_visible(&p, "d1", "u"));      /* PROCESS shows no table */
    assert_true(cat_privs_visible(&p, "own_1", "any"));
    cat_privs_free(&p);
}

static void
test_db_match(void **state)
{
    (void)state;
    assert_true(cat_priv_db_match("d%", "d"));
    assert_true(cat_priv_db_match("d_b", "dxb"));
    assert_false(cat_priv_db_match("d\\_b", "dxb"));
    assert_true(cat_priv_db_match("d\\_b", "d_b"));
    assert_true(cat_priv_db_match("%_1", "ab_1"));
    assert_false(cat_priv_db_match("shop", "Shop"));
    assert_false(cat_priv_db_match("a%", NULL));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_shapes),
        cmocka_unit_test(test_checks),
        cmocka_unit_test(test_db_match),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
