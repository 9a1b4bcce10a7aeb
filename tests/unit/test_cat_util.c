/*
 * test_cat_util.c - the catalog's quoting and flat-JSON helpers
 * (base/cat_util.c): identifiers and string literals with their quote
 * doubled, the hex form for literals with a backslash or control byte, and
 * the object / array readers sharing one parser (empty input, {}, nulls,
 * growth past the first allocation, malformed input).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "cat.h"
#include "cat_util.h"

static void
test_ident(void **state)
{
    struct cat_buf b = {0};
    (void)state;
    cat_buf_ident(&b, "plain");
    assert_string_equal(b.p, "`plain`");
    cat_buf_free(&b);
    cat_buf_ident(&b, "a`b``c'd");
    assert_string_equal(b.p, "`a``b````c'd`");
    cat_buf_free(&b);
    cat_buf_qname(&b, "d`b", "");
    assert_string_equal(b.p, "`d``b`.``");
    cat_buf_free(&b);
}

/* Storage column names for outputs CREATE TABLE refuses (cat_col_name_generate). */
static void
test_col_names(void **state)
{
    const char *taken[3] = {"id", "abc_2", NULL};
    char *n;
    char longname[100];
    (void)state;
    memset(longname, 'x', 64);
    longname[64] = '\0';
    assert_true(cat_col_name_valid("id"));
    assert_true(cat_col_name_valid(longname));   /* 64 characters */
    longname[64] = 'y';
    longname[65] = '\0';
    assert_false(cat_col_name_valid(longname));  /* 65 */
    assert_false(cat_col_name_valid(""));
    assert_false(cat_col_name_valid("abc "));
    assert_true(cat_col_name_valid(" abc"));
    /* 64 two-byte characters are 64 characters, not 128 */
    {
        char u[200];
        size_t i;
        for (i = 0; i < 64; i++) {
            u[2 * i] = (char)0xC3;
            u[2 * i + 1] = (char)0xA9;
        }
        u[128] = '\0';
        assert_true(cat_col_name_valid(u));
    }
    n = cat_col_name_generate("case when a > 1 and b IN (4, 5) then c else d end", 1, NULL, 0);
    assert_string_equal(n, "case_when_a_1_and_b_IN_4_5_then_c_else_d_end_1");
    free(n);
    n = cat_col_name_generate(longname, 7, NULL, 0);
    assert_int_equal(strlen(n), 52); /* 50 characters + "_7" */
    free(n);
    n = cat_col_name_generate("'abc '", 2, taken, 2);
    assert_string_equal(n, "abc_2_2"); /* abc_2 is taken */
    free(n);
    n = cat_col_name_generate("  ", 4, taken, 3);
    assert_string_equal(n, "col_4");
    free(n);
    n = cat_col_name_generate("(((x)))", 3, NULL, 0);
    assert_string_equal(n, "x_3");
    free(n);
}

static void
test_lit(void **state)
{
    struct cat_buf b = {0};
    (void)state;
    cat_buf_lit(&b, NULL);
    assert_string_equal(b.p, "NULL");
    cat_buf_free(&b);
    cat_buf_lit(&b, "it's `x` \"q\"");
    assert_string_equal(b.p, "'it''s `x` \"q\"'");
    cat_buf_free(&b);
    cat_buf_lit(&b, "''");
    assert_string_equal(b.p, "''''''");
    cat_buf_free(&b);
    /* a backslash or a control byte: hex, whatever the SQL mode */
    cat_buf_lit(&b, "a\\'");
    assert_string_equal(b.p, "_utf8mb4 X'615C27'");
    cat_buf_free(&b);
    cat_buf_lit(&b, "\n");
    assert_string_equal(b.p, "_utf8mb4 X'0A'");
    cat_buf_free(&b);
}

static void
test_json_object(void **state)
{
    char **k = NULL, **v = NULL;
    (void)state;
    assert_int_equal(cat_json_parse_object("", &k, &v), 0);
    assert_null(k);
    assert_null(v);
    assert_int_equal(cat_json_parse_object(NULL, &k, &v), 0);
    assert_int_equal(cat_json_parse_object(" { } ", &k, &v), 0);
    cat_strv_free(k, 0);
    cat_strv_free(v, 0);
    assert_int_equal(cat_json_parse_object("{\"a\": \"1\", \"b\":null,\"c\":\"x\\\"y\\n\"}", &k,
                                           &v),
                     3);
    assert_string_equal(k[0], "a");
    assert_string_equal(v[0], "1");
    assert_string_equal(k[1], "b");
    assert_null(v[1]);
    assert_string_equal(k[2], "c");
    assert_string_equal(v[2], "x\"y\n");
    cat_strv_free(k, 3);
    cat_strv_free(v, 3);
    /* more than the first allocation (4) */
    assert_int_equal(cat_json_parse_object("{\"1\":\"a\",\"2\":\"b\",\"3\":\"c\",\"4\":\"d\","
                                           "\"5\":\"e\",\"6\":\"f\"}",
                                           &k, &v),
                     6);
    assert_string_equal(k[5], "6");
    assert_string_equal(v[4], "e");
    cat_strv_free(k, 6);
    cat_strv_free(v, 6);
    /* malformed: nothing returned */
    assert_int_equal(cat_json_parse_object("[\"a\"]", &k, &v), -1);
    assert_null(k);
    assert_null(v);
    assert_int_equal(cat_json_parse_object("{null:\"a\"}", &k, &v), -1);
    assert_int_equal(cat_json_parse_object("{\"a\" \"b\"}", &k, &v), -1);
    assert_int_equal(cat_json_parse_object("{\"a\":\"b\",}", &k, &v), -1);
    assert_int_equal(cat_json_parse_object("{\"a\":\"b\"", &k, &v), -1);
    assert_int_equal(cat_json_parse_object("{\"a\":\"b", &k, &v), -1);
}

static void
test_json_array(void **state)
{
    char **it = NULL;
    (void)state;
    assert_int_equal(cat_json_parse_array("  ", &it), 0);
    assert_null(it);
    assert_int_equal(cat_json_parse_array("[]", &it), 0);
    cat_strv_free(it, 0);
    assert_int_equal(cat_json_parse_array("[\"a\", null, \"\\u00e9\", \"d\", \"e\"]", &it), 5);
    assert_string_equal(it[0], "a");
    assert_null(it[1]);
    assert_string_equal(it[2], "\xc3\xa9");
    assert_string_equal(it[4], "e");
    cat_strv_free(it, 5);
    assert_int_equal(cat_json_parse_array("{\"a\":\"b\"}", &it), -1);
    assert_null(it);
    assert_int_equal(cat_json_parse_array("[\"a\":\"b\"]", &it), -1);
    assert_int_equal(cat_json_parse_array("[\"a\" \"b\"]", &it), -1);
    assert_int_equal(cat_json_parse_array("[\"a\",", &it), -1);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ident),
        cmocka_unit_test(test_lit),
        cmocka_unit_test(test_col_names),
        cmocka_unit_test(test_json_object),
        cmocka_unit_test(test_json_array),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
