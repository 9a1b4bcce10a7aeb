/*
 * itest_coll.c - verifies every claim of the collation comparator
 * (rewriter/rw_coll.c) against the real server: for each collation the
 * comparator knows and the server has, a column of that collation holds a
 * list of words (letters in both cases, digits, prefixes, trailing spaces,
 * tabs, punctuation, non-ASCII), MariaDB compares every pair of them
 * (a.s < b.s, a.s = b.s, in the column's collation), and wherever
 * rw_coll_cmp / rw_coll_eq give an answer it must be MariaDB's. Collations
 * the server lacks are reported and skipped; at least the common ones must
 * be there, and every present collation must have decided pairs (the test
 * cannot pass by deciding nothing).
 *
 * Needs MVP_DB_HOST / MVP_DB_PORT (scripts/test.sh); no proxy is started.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mysql.h>

#include "it_common.h"
#include "rw_coll.h"

#define DB "itcoll"

static struct it_env env;

static const char *const words[] = {
    "", "a", "A", "b", "B", "ab", "abc", "Ab", "aB", "a ", "a  ", "a\t", "a\n", "a b", "a-b",
    "A-B", "a_b", "_x", "0", "9", "10", "09", "z", "Z", "zz", "Zz", "banana", "Banana", "cherry",
    "C", "c", "apple", "APPLE", "a!", "a~", "~", "!", " ", "e", "E", "aa", "V", "W", "v", "w",
    "y", "Y", "ss", "th", "ch", "ll", "Ll", "aA1", "a1", "1a", "[", "]", "\\", "{", "|", "}",
    "^", "`", "@", "b  ", "B ", "\xc3\xa9", "\xc3\x89" "clair", "\xc3\xa5", "\xc3\x84",
};
#define N_WORDS (sizeof(words) / sizeof(words[0]))

/* Character set of collation COLL ("utf8" is utf8mb3) into CS (32 bytes). */
static void
charset_of(const char *coll, char *cs)
{
    snprintf(cs, 32, "%.*s", (int)strcspn(coll, "_"), coll);
    if (strcmp(cs, "utf8") == 0) {
        snprintf(cs, 32, "utf8mb3");
    }
}

/* Can a column of the server use collation COLL? (information_schema.COLLATIONS
 * lists the UCA 14 ones without their character set, so ask by trying.) */
static bool
server_has(MYSQL *m, const char *coll)
{
    char q[256], cs[32];
    charset_of(coll, cs);
    snprintf(q, sizeof(q),
             "CREATE TEMPORARY TABLE probe (s VARCHAR(1) CHARACTER SET %s COLLATE %s)", cs, coll);
    if (mysql_query(m, q) != 0) {
        return false;
    }
    assert_int_equal(it_exec(m, "DROP TEMPORARY TABLE probe"), 0);
    return true;
}

/* Check COLL; returns the number of pairs the comparator decided. */
static size_t
check_collation(MYSQL *m, const char *coll)
{
    char q[512], esc[64];
    char cs[32];
    size_t i, decided = 0, bad = 0;
    MYSQL_RES *res;
    MYSQL_ROW row;
    charset_of(coll, cs);
    assert_int_equal(it_exec(m, "DROP TABLE IF EXISTS w"), 0);
    snprintf(q, sizeof(q),
             "CREATE TABLE w (id INT PRIMARY KEY, s VARCHAR(20) CHARACTER SET %s COLLATE %s)", cs,
             coll);
    assert_int_equal(it_exec(m, q), 0);
    for (i = 0; i < N_WORDS; i++) {
        if (strcmp(cs, "ascii") == 0 && (unsigned char)words[i][0] >= 0x80) {
            continue; /* not representable */
        }
        mysql_real_escape_string(m, esc, words[i], (unsigned long)strlen(words[i]));
        snprintf(q, sizeof(q), "INSERT INTO w VALUES (%zu, '%s')", i, esc);
        assert_int_equal(it_exec(m, q), 0);
    }
    if (mysql_query(m, "SELECT a.id, b.id, a.s < b.s, a.s = b.s FROM w a, w b") != 0 ||
        (res = mysql_store_result(m)) == NULL) {
        fail_msg("pair query: %s", mysql_error(m));
    }
    while ((row = mysql_fetch_row(res)) != NULL) {
        const char *a = words[atoi(row[0])], *b = words[atoi(row[1])];
        int want = atoi(row[3]) ? 0 : atoi(row[2]) ? -1 : 1, got;
        bool eq;
        if (rw_coll_cmp(coll, a, b, &got)) {
            decided++;
            if (got != want) {
                fprintf(stderr, "%s: order of '%s' and '%s': comparator %d, MariaDB %d\n", coll,
                        a, b, got, want);
                bad++;
            }
        }
        if (rw_coll_eq(coll, a, b, &eq)) {
            decided++;
            if (eq != (want == 0)) {
                fprintf(stderr, "%s: '%s' = '%s': comparator %d, MariaDB %d\n", coll, a, b, eq,
                        want == 0);
                bad++;
            }
        }
    }
    mysql_free_result(res);
    if (bad > 0) {
        fail_msg("%s: %zu claims of rw_coll differ from MariaDB", coll, bad);
    }
    return decided;
}

static void
test_known_collations(void **state)
{
    MYSQL *m = it_connect_direct(&env, NULL, 0);
    size_t i, present = 0;
    const char *c;
    (void)state;
    assert_non_null(m);
    assert_int_equal(it_exec(m, "SET NAMES utf8mb4"), 0);
    assert_int_equal(it_exec(m, "DROP DATABASE IF EXISTS " DB), 0);
    assert_int_equal(it_exec(m, "CREATE DATABASE " DB), 0);
    assert_int_equal(it_exec(m, "USE " DB), 0);
    for (i = 0; (c = rw_coll_known_name(i)) != NULL; i++) {
        size_t n;
        if (!server_has(m, c)) {
            fprintf(stderr, "itest_coll: %s is not a collation of this server: skipped\n", c);
            continue;
        }
        present++;
        n = check_collation(m, c);
        fprintf(stderr, "itest_coll: %-30s %zu decided comparisons agree with MariaDB\n", c, n);
        assert_true(n > N_WORDS); /* the comparator must decide something */
    }
    /* the collations the brief names must be checked, not skipped */
    assert_true(server_has(m, "utf8mb4_general_ci") && server_has(m, "utf8mb4_bin") &&
                server_has(m, "latin1_swedish_ci") && server_has(m, "utf8mb4_unicode_ci"));
    assert_true(present >= 10);
    it_exec(m, "DROP DATABASE IF EXISTS " DB);
    mysql_close(m);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_collations),
    };
    it_env_load(&env);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
