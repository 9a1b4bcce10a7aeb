/*
 * test_rw_coll.c - unit tests for the collation comparator (rw_coll.c):
 * PAD SPACE vs NO PAD under *_bin, case folding and the ordered subset of
 * the *_ci collations, refusals (non-ASCII, punctuation, unknown
 * collations). The same claims are checked against a real MariaDB by
 * tests/integration/itest_coll.c.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "rw_coll.h"

/* Expect COLL to order A against B as WANT (-1, 0, 1). */
static void
cmp_is(const char *coll, const char *a, const char *b, int want)
{
    int r = 99;
    if (!rw_coll_cmp(coll, a, b, &r)) {
        fail_msg("%s: '%s' vs '%s' not decided", coll, a, b);
    }
    if (r != want) {
        fail_msg("%s: '%s' vs '%s' = %d, want %d", coll, a, b, r, want);
    }
    /* antisymmetry */
    assert_true(rw_coll_cmp(coll, b, a, &r));
    assert_int_equal(r, -want);
}

/* Expect COLL not to decide the order of A and B. */
static void
cmp_unknown(const char *coll, const char *a, const char *b)
{
    int r;
    if (rw_coll_cmp(coll, a, b, &r)) {
        fail_msg("%s: '%s' vs '%s' decided (%d), should not be", coll ? coll : "NULL", a, b, r);
    }
}

/* Expect COLL to decide equality of A and B as WANT (1/0), or not at all (-1). */
static void
eq_is(const char *coll, const char *a, const char *b, int want)
{
    bool eq = false;
    bool ok = rw_coll_eq(coll, a, b, &eq);
    if (want < 0) {
        if (ok) {
            fail_msg("%s: '%s' = '%s' decided, should not be", coll ? coll : "NULL", a, b);
        }
        return;
    }
    if (!ok || (int)eq != want) {
        fail_msg("%s: '%s' = '%s': ok %d eq %d, want %d", coll ? coll : "NULL", a, b, ok, eq,
                 want);
    }
}

static void
test_bin_pad_space(void **state)
{
    (void)state;
    cmp_is("utf8mb4_bin", "a", "b", -1);
    cmp_is("utf8mb4_bin", "B", "a", -1);  /* code points: upper case first */
    cmp_is("utf8mb4_bin", "a", "a ", 0);  /* PAD SPACE */
    cmp_is("utf8mb4_bin", "a", "a   ", 0);
    cmp_is("utf8mb4_bin", "a\t", "a", -1); /* tab < the pad space */
    cmp_is("utf8mb4_bin", "a\t", "a ", -1);
    cmp_is("utf8mb4_bin", "a !", "a", 1);
    cmp_is("utf8mb4_bin", "ab", "a", 1);
    cmp_is("latin1_bin", "", " ", 0);
    cmp_is("latin1_bin", "a-b", "a b", 1);
    cmp_unknown("utf8mb4_bin", "\xc3\xa9", "e"); /* non-ASCII: connection charset unknown */
}

static void
test_bin_nopad(void **state)
{
    (void)state;
    cmp_is("utf8mb4_nopad_bin", "a", "a ", -1);
    cmp_is("utf8mb4_nopad_bin", "a\t", "a", 1);
    cmp_is("utf8mb4_nopad_bin", "B", "a", -1);
    cmp_is("latin1_nopad_bin", "", " ", -1);
    eq_is("utf8mb4_nopad_bin", "a", "a ", 0);
    eq_is("utf8mb4_bin", "a", "a ", 1);
}

static void
test_ci_order(void **state)
{
    static const char *const cis[] = {"utf8mb4_general_ci", "utf8mb4_unicode_ci",
                                       "utf8mb4_unicode_520_ci", "utf8mb4_uca1400_ai_ci",
                                       "latin1_swedish_ci", "utf8mb3_general_ci",
                                       "utf8mb4_general_nopad_ci"};
    size_t i;
    (void)state;
    for (i = 0; i < sizeof(cis) / sizeof(cis[0]); i++) {
        const char *c = cis[i];
        cmp_is(c, "a", "B", -1); /* case folded: byte order would say 'B' < 'a' */
        cmp_is(c, "b", "B", 0);
        cmp_is(c, "Banana", "b", 1);
        cmp_is(c, "Banana", "C", -1);
        cmp_is(c, "9", "a", -1); /* digits before letters */
        cmp_is(c, "10", "9", -1);
        cmp_is(c, "ab", "abc", -1); /* a prefix first */
        cmp_is(c, "", "0", -1);
        cmp_unknown(c, "a b", "a");  /* space inside: not claimed */
        cmp_unknown(c, "a-b", "a");  /* punctuation: not claimed */
        cmp_unknown(c, "_x", "a");
        cmp_unknown(c, "\xc3\xa9", "e");
        eq_is(c, "A-B", "a-b", 1);  /* equality: printable ASCII, letters folded */
        eq_is(c, "a-b", "a_b", 0);
        eq_is(c, "\xc3\xa9", "E", -1);
        eq_is(c, "\xc3\xa9", "\xc3\xa9", 1); /* identical bytes */
    }
    /* PAD SPACE: trailing spaces ignored; NO PAD: not ordered at all */
    cmp_is("utf8mb4_general_ci", "b  ", "B", 0);
    cmp_is("utf8mb4_general_ci", "b  ", "ba", -1);
    cmp_unknown("utf8mb4_general_nopad_ci", "b ", "b");
    eq_is("utf8mb4_general_ci", "a ", "A", 1);
    eq_is("utf8mb4_general_nopad_ci", "a ", "A", 0);
}

static void
test_unknown(void **state)
{
    (void)state;
    cmp_unknown(NULL, "a", "b");
    cmp_unknown("latin1_general_cs", "a", "b");
    cmp_unknown("utf8mb4_danish_ci", "aa", "z"); /* 'aa' sorts after 'z' in Danish */
    cmp_unknown("latin1_german2_ci", "a", "b");
    eq_is(NULL, "a", "a", 1);
    eq_is(NULL, "a", "A", -1);
    eq_is("latin1_general_cs", "a", "b", -1);
    assert_false(rw_coll_orderable(NULL, "a"));
    assert_true(rw_coll_orderable("utf8mb4_bin", "a b"));
    assert_false(rw_coll_orderable("utf8mb4_general_ci", "a b"));
    assert_true(rw_coll_known("utf8mb4_general_ci"));
    assert_false(rw_coll_known("utf8mb4_danish_ci"));
    assert_non_null(rw_coll_known_name(0));
    assert_null(rw_coll_known_name(1000));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bin_pad_space),
        cmocka_unit_test(test_bin_nopad),
        cmocka_unit_test(test_ci_order),
        cmocka_unit_test(test_unknown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
