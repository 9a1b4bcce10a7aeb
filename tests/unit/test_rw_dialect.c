/*
 * test_rw_dialect.c - unit tests for the MySQL-dialect bridge (rw_dialect.c):
 * for each rule, the translated text, that libpg_query parses it, and that
 * parse-tree locations map back (orig_off) to the right original bytes.
 * Also MariaDB versions of the seed dashboard queries and random input.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pg_query.h>
#include <pg_query/pg_query.pb-c.h>

#include "rw_dialect.h"
#include "rw_sqlmode.h"

/* Translate SRC, expecting success and exactly the text WANT (NULL: any). */
static void
tr_ok(const char *src, const char *want, struct rw_dialect_out *out)
{
    int rc = rw_dialect_translate(src, strlen(src), out);

    if (rc != 0) {
        print_error("translate failed for: %s\n", src);
        fail();
    }
    if (want != NULL && strcmp(out->text, want) != 0) {
        print_error("src:  %s\ngot:  %s\nwant: %s\n", src, out->text, want);
        fail();
    }
    assert_int_equal(out->orig_off[out->len], strlen(src));
    assert_int_equal(strlen(out->text), out->len);
}

/* Assert that TEXT parses with libpg_query. */
static void
parses(const char *text)
{
    PgQueryParseResult r = pg_query_parse(text);

    if (r.error != NULL) {
        print_error("parse error \"%s\" at %d in: %s\n", r.error->message, r.error->cursorpos,
                    text);
        pg_query_free_parse_result(r);
        fail();
    }
    pg_query_free_parse_result(r);
}

/* Translate SRC to WANT (NULL: don't care) and check it parses. */
static void
tr_parse(const char *src, const char *want)
{
    struct rw_dialect_out out;

    tr_ok(src, want, &out);
    parses(out.text);
    rw_dialect_free(&out);
}

/* Translate SRC expecting -1 (unsupported). */
static void
tr_fails(const char *src)
{
    struct rw_dialect_out out;

    if (rw_dialect_translate(src, strlen(src), &out) != -1) {
        print_error("expected -1 for: %s (got %s)\n", src, out.text);
        rw_dialect_free(&out);
        fail();
    }
    assert_null(out.text);
    assert_null(out.orig_off);
}

/* Collected parse-tree locations of one node type. */
struct locs {
    const ProtobufCMessageDescriptor *want;     /* node type to collect */
    int loc[64];                                /* locations found */
    size_t n;                                   /* how many */
};

/* Pre-order walk of MSG collecting the "location" of nodes of L->want. */
static void
walk(const ProtobufCMessage *msg, struct locs *l)
{
    const ProtobufCMessageDescriptor *d;
    unsigned f;

    if (msg == NULL) {
        return;
    }
    d = msg->descriptor;
    for (f = 0; f < d->n_fields; f++) {
        const ProtobufCFieldDescriptor *fd = &d->fields[f];
        const char *base = (const char *)msg;

        if (d == l->want && strcmp(fd->name, "location") == 0 && l->n < 64) {
            l->loc[l->n++] = *(const int32_t *)(base + fd->offset);
        }
        if (fd->type != PROTOBUF_C_TYPE_MESSAGE) {
            continue;
        }
        if (fd->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
            if (*(const uint32_t *)(base + fd->quantifier_offset) != fd->id) {
                continue;
            }
        }
        if (fd->label == PROTOBUF_C_LABEL_REPEATED) {
            size_t cnt = *(const size_t *)(base + fd->quantifier_offset);
            ProtobufCMessage *const *arr = *(ProtobufCMessage *const *const *)(base + fd->offset);
            size_t k;

            for (k = 0; k < cnt; k++) {
                walk(arr[k], l);
            }
        } else {
            walk(*(ProtobufCMessage *const *)(base + fd->offset), l);
        }
    }
}

/* Compare two ints for qsort. */
static int
cmp_int(const void *a, const void *b)
{
    int x = *(const int *)a;
    int y = *(const int *)b;

    return (x > y) - (x < y);
}

/*
 * Translate and parse SRC, collect the locations of every node of type
 * DESC, map them back, and check they are exactly the offsets of MARKS in
 * SRC (each mark's first occurrence after the previous mark's; marks in
 * source order).
 */
static void
expect_locs(const char *src, const ProtobufCMessageDescriptor *desc, const char *const *marks,
            size_t n)
{
    struct rw_dialect_out out;
    PgQueryProtobufParseResult r;
    PgQuery__ParseResult *tree;
    struct locs l;
    int want[64];
    size_t k;
    const char *from = src;

    tr_ok(src, NULL, &out);
    r = pg_query_parse_protobuf(out.text);
    if (r.error != NULL) {
        print_error("parse error \"%s\" in: %s\n", r.error->message, out.text);
        pg_query_free_protobuf_parse_result(r);
        fail();
    }
    tree = pg_query__parse_result__unpack(NULL, r.parse_tree.len,
                                          (const uint8_t *)r.parse_tree.data);
    pg_query_free_protobuf_parse_result(r);
    assert_non_null(tree);
    memset(&l, 0, sizeof(l));
    l.want = desc;
    walk(&tree->base, &l);
    pg_query__parse_result__free_unpacked(tree, NULL);

    for (k = 0; k < l.n; k++) {
        assert_true(l.loc[k] >= 0);
        l.loc[k] = (int)rw_dialect_orig(&out, (size_t)l.loc[k]);
    }
    for (k = 0; k < n; k++) {
        const char *hit = strstr(from, marks[k]);

        assert_non_null(hit);
        want[k] = (int)(hit - src);
        from = hit + 1;
    }
    qsort(l.loc, l.n, sizeof(int), cmp_int);
    if (l.n != n) {
        print_error("%s: %zu %s nodes, want %zu (text: %s)\n", src, l.n, desc->short_name, n,
                    out.text);
        fail();
    }
    for (k = 0; k < n; k++) {
        if (l.loc[k] != want[k]) {
            print_error("%s: %s #%zu maps to %d (\"%.10s\"), want %d (\"%s\")\n", src,
                        desc->short_name, k, l.loc[k], src + l.loc[k], want[k], marks[k]);
            fail();
        }
    }
    rw_dialect_free(&out);
}

#define LOCS(src, desc, ...)                                                       \
    do {                                                                           \
        const char *const m_[] = {__VA_ARGS__};                                    \
        expect_locs((src), (desc), m_, sizeof(m_) / sizeof(m_[0]));                \
    } while (0)

/* `ident` -> "ident"; locations land on the backticks. */
static void
test_backtick_identifiers(void **state)
{
    (void)state;
    tr_parse("SELECT `a b`, `c\"d`, `e``f` FROM `db`.`T1`",
             "SELECT \"a b\", \"c\"\"d\", \"e`f\" FROM \"db\".\"T1\"");
    LOCS("SELECT `a b`, t.`x` FROM `db`.`t` AS t WHERE `k` = 1",
         &pg_query__column_ref__descriptor, "`a b`", "t.`x`", "`k`");
    LOCS("SELECT 1 FROM `db`.`sales` s JOIN other o ON 1=1", &pg_query__range_var__descriptor,
         "`db`", "other");
}

/* PG-reserved words used as MariaDB identifiers are quoted, keywords are not. */
static void
test_pg_reserved_identifiers(void **state)
{
    (void)state;
    tr_parse("SELECT user, t.end, offset, only FROM user t WHERE end > 1 LIMIT 2 OFFSET 3",
             "SELECT \"user\", t.\"end\", \"offset\", \"only\" FROM \"user\" t WHERE \"end\" > 1 "
             "LIMIT 2 OFFSET 3");
    tr_parse("SELECT CASE WHEN a THEN b ELSE CASE c WHEN 1 THEN 2 END END AS end FROM t",
             "SELECT CASE WHEN a THEN b ELSE CASE c WHEN 1 THEN 2 END END AS \"end\" FROM t");
    tr_parse("SELECT a FROM t WHERE a = ANY (SELECT b FROM u) AND c = SOME (SELECT 1)", NULL);
    tr_parse("SELECT array, full, verbose, lateral, some FROM t", NULL);
    tr_parse("SELECT a FROM t ORDER BY a OFFSET 1 ROWS FETCH FIRST 2 ROWS ONLY", NULL);
    LOCS("SELECT user.id, u2.user FROM user JOIN u2 ON 1", &pg_query__column_ref__descriptor,
         "user.id", "u2.user");
    LOCS("SELECT 1 FROM user", &pg_query__range_var__descriptor, "user");
}

/* Identifiers PG's scanner would split: 1abc, $x. */
static void
test_odd_identifiers(void **state)
{
    (void)state;
    tr_parse("SELECT 1abc, t.2x, $d FROM t", "SELECT \"1abc\", t.\"2x\", \"$d\" FROM t");
    LOCS("SELECT 1abc FROM t", &pg_query__column_ref__descriptor, "1abc");
}

/* Strings: escapes decoded, '' doubling, "..." strings, concatenation, introducers. */
static void
test_strings(void **state)
{
    (void)state;
    tr_parse("SELECT 'it\\'s', 'a''b', \"dq\", \"x\"\"y\", 'tab\\there', 'pct\\%_\\_', '\\\\'",
             "SELECT 'it''s', 'a''b', 'dq', 'x\"y', 'tab\there', 'pct\\%_\\_', '\\'");
    tr_parse("SELECT 'a' 'b' \"c\", _utf8mb4'x', _latin1 'y', N'z' FROM t",
             "SELECT 'abc', 'x', 'y', 'z' FROM t");
    tr_parse("SELECT a FROM t WHERE b LIKE 'x\\_%' ESCAPE '\\\\'",
             "SELECT a FROM t WHERE b LIKE 'x\\_%' ESCAPE '\\'");
    LOCS("SELECT 'it\\'s', \"dq\", N'z'", &pg_query__a__const__descriptor, "'it", "\"dq",
         "'z'");
    tr_fails("SELECT 'a\\0b'");
    tr_fails("SELECT 'unterminated");
    tr_fails("SELECT `unterminated");
}

/* String aliases become "quoted" aliases (PG would read a 'b' as a typed literal). */
static void
test_string_aliases(void **state)
{
    (void)state;
    tr_parse("SELECT COUNT(*) AS 'cnt', a \"b\", c 'd', CASE WHEN a THEN 1 END 'e', "
             "a LIKE 'x', DATE '2024-01-01', x = 'y' FROM t",
             "SELECT COUNT(*) AS \"cnt\", a \"b\", c \"d\", CASE WHEN a THEN 1 END \"e\", "
             "a LIKE 'x', DATE '2024-01-01', x = 'y' FROM t");
}

/* Comments and executable comments; hints removed from the text. */
static void
test_comments(void **state)
{
    (void)state;
    tr_parse("SELECT /*+ USE_MV(db.v) */ a, # c\n b -- c\n FROM /*!50100 t */ /* x */",
             "SELECT a, b FROM t");
    tr_parse("SELECT a FROM t WHERE b = 1--1", "SELECT a FROM t WHERE b = 1- -1");
    tr_parse("SELECT /*M!100301 x, */ y FROM t", "SELECT x, y FROM t");
    LOCS("SELECT /*+ NO_USE_MV */ a /* c */, /*!b*/ FROM t", &pg_query__column_ref__descriptor,
         "a /*", "b*/");
}

/* LIMIT a, b -> LIMIT b OFFSET a; ? numbered in original order. */
static void
test_limit(void **state)
{
    (void)state;
    tr_parse("SELECT a FROM t LIMIT 5, 10", "SELECT a FROM t LIMIT 10 OFFSET 5");
    tr_parse("SELECT a FROM t WHERE b = ? LIMIT ?, ?",
             "SELECT a FROM t WHERE b = $1 LIMIT $3 OFFSET $2");
    tr_parse("SELECT a FROM t LIMIT 10", "SELECT a FROM t LIMIT 10");
    tr_parse("SELECT a FROM t LIMIT 10 OFFSET 5", "SELECT a FROM t LIMIT 10 OFFSET 5");
    LOCS("SELECT a FROM t LIMIT 5, 10", &pg_query__a__const__descriptor, "5", "10");
    LOCS("SELECT a FROM t WHERE b = ? LIMIT ?,?", &pg_query__param_ref__descriptor, "? L",
         "?,", "?");
}

/* INTERVAL n unit -> mvp_interval(n, 'unit'); INTERVAL() function quoted. */
static void
test_interval(void **state)
{
    (void)state;
    tr_parse("SELECT a FROM t WHERE d > NOW() - INTERVAL 7 DAY",
             "SELECT a FROM t WHERE d > NOW() - mvp_interval(7, 'day')");
    tr_parse("SELECT DATE_ADD(d, INTERVAL '1' MONTH), DATE_SUB(d, INTERVAL (n + 1) hour) FROM t",
             "SELECT DATE_ADD(d, mvp_interval('1', 'month')), "
             "DATE_SUB(d, mvp_interval((n + 1), 'hour')) FROM t");
    tr_parse("SELECT d + INTERVAL '1:30' HOUR_MINUTE, INTERVAL 1 QUARTER + d, "
             "d - INTERVAL t.n WEEK FROM t",
             "SELECT d + mvp_interval('1:30', 'hour_minute'), mvp_interval(1, 'quarter') + d, "
             "d - mvp_interval(t.n, 'week') FROM t");
    tr_parse("SELECT INTERVAL(5, 1, 10, 100) FROM t", "SELECT \"interval\"(5, 1, 10, 100) FROM t");
    tr_parse("SELECT CURDATE() - INTERVAL 1 YEAR, INTERVAL 2 SECOND, INTERVAL 3 MINUTE", NULL);
    LOCS("SELECT d - INTERVAL 7 DAY FROM t", &pg_query__func_call__descriptor, "INTERVAL");
    LOCS("SELECT d - INTERVAL 7 DAY FROM t", &pg_query__a__const__descriptor, "7", "DAY");
}

/* Bare aliases PG accepts only after AS (month, year, day ...) are quoted;
 * the same words as units or column references keep their meaning. */
static void
test_keyword_aliases(void **state)
{
    (void)state;
    tr_parse("SELECT date_format(a.d, '%Y%m') month, YEAR(d) year, d Day FROM t GROUP BY month",
             "SELECT date_format(a.d, '%Y%m') \"month\", YEAR(d) \"year\", d \"Day\" FROM t "
             "GROUP BY \"month\""); /* a reference: quoting only changes case folding */
    tr_parse("SELECT x hour, 1 minute, 'a' second, `q` filter FROM t WHERE 1 = 1 ORDER BY hour",
             "SELECT x \"hour\", 1 \"minute\", 'a' \"second\", \"q\" \"filter\" FROM t "
             "WHERE 1 = 1 ORDER BY \"hour\"");
    tr_parse("SELECT (SELECT MAX(d) month FROM t) window, within, without FROM t",
             "SELECT (SELECT MAX(d) \"month\" FROM t) \"window\", within, without FROM t");
    /* keyword roles: INTERVAL units, EXTRACT, TIMESTAMPDIFF, a column named day */
    tr_parse("SELECT EXTRACT(DAY FROM d), TIMESTAMPDIFF(MONTH, a, b), d + INTERVAL 1 YEAR, "
             "day FROM t",
             "SELECT EXTRACT(DAY FROM d), TIMESTAMPDIFF(MONTH, a, b), "
             "d + mvp_interval(1, 'year'), day FROM t");
    LOCS("SELECT f(x) month FROM t", &pg_query__res_target__descriptor, "f(x)");
}

/* && || ! <=> MOD REGEXP RLIKE NOT REGEXP. */
static void
test_operators(void **state)
{
    (void)state;
    tr_parse("SELECT a && b, a || b, a <=> b, a MOD 3, a REGEXP 'x', a NOT RLIKE 'y' FROM t",
             "SELECT a AND b, a OR b, a IS NOT DISTINCT FROM b, a % 3, a ~ 'x', a !~ 'y' FROM t");
    tr_parse("SELECT a FROM t WHERE !(a > 1) AND ! b AND !!c AND !f(x) = 1 AND !t.c",
             "SELECT a FROM t WHERE (NOT(a > 1)) AND (NOT b) AND (NOT(NOT c)) AND "
             "(NOT f(x)) = 1 AND (NOT t.c)");
    tr_parse("SELECT a FROM t WHERE b!=-1 AND c%-1=0 AND d<>e", NULL);
    tr_parse("SELECT MOD(a, 2) FROM t", "SELECT MOD(a, 2) FROM t");
    LOCS("SELECT a FROM t WHERE x && y || !z", &pg_query__bool_expr__descriptor, "&&",
         "||", "!z");
    LOCS("SELECT a FROM t WHERE x <=> y", &pg_query__a__expr__descriptor, "<=>");
    LOCS("SELECT a FROM t WHERE x NOT REGEXP 'q'", &pg_query__a__expr__descriptor, "NOT");
}

/* Constructs whose translation would change meaning: -1. */
static void
test_unsupported(void **state)
{
    (void)state;
    tr_fails("SELECT a XOR b FROM t");
    tr_fails("SELECT a DIV 2 FROM t");
    tr_fails("SELECT @x := 1");
    tr_fails("SELECT a, COUNT(*) FROM t GROUP BY a WITH ROLLUP");
    tr_fails("SELECT X'1");
}

/* 0x.. and 0b.. literals become X'..' / B'..'. */
static void
test_hex_and_bit_literals(void **state)
{
    (void)state;
    tr_parse("SELECT 0x1F, 0xF, 0b101, X'ab', x'', b'01', B'1', 1e3, .5",
             "SELECT X'1F', X'0F', B'101', X'ab', x'', b'01', B'1', 1e3, .5");
    LOCS("SELECT 0x1F, b'1'", &pg_query__a__const__descriptor, "0x1F", "b'1'");
}

/* Functions PG's grammar reserves; CAST/CONVERT types; GROUP_CONCAT SEPARATOR. */
static void
test_functions(void **state)
{
    (void)state;
    tr_parse("SELECT CHAR(65), TIME(x), TIMESTAMP(x), VALUES(x), USER(), CURRENT_DATE(), "
             "NOW(), CURRENT_TIMESTAMP(), CURRENT_TIMESTAMP(3) FROM t",
             "SELECT \"char\"(65), \"time\"(x), \"timestamp\"(x), \"values\"(x), \"user\"(), "
             "CURRENT_DATE, NOW(), CURRENT_TIMESTAMP, CURRENT_TIMESTAMP(3) FROM t");
    tr_parse("SELECT CAST(a AS SIGNED INTEGER), CAST(b AS UNSIGNED), CAST(c AS DECIMAL(10,2)), "
             "CAST(d AS CHAR), CAST(e AS DATE), CAST(f AS DATETIME), CONVERT(g, SIGNED INT) FROM t",
             "SELECT CAST(a AS SIGNED ), CAST(b AS UNSIGNED), CAST(c AS DECIMAL(10,2)), "
             "CAST(d AS CHAR), CAST(e AS DATE), CAST(f AS DATETIME), CAST(g AS SIGNED ) FROM t");
    tr_parse("SELECT GROUP_CONCAT(DISTINCT a ORDER BY b DESC SEPARATOR '; '), "
             "GROUP_CONCAT(c SEPARATOR ''), GROUP_CONCAT(d) FROM t",
             "SELECT GROUP_CONCAT(DISTINCT a , separator => '; ' ORDER BY b DESC ), "
             "GROUP_CONCAT(c , separator => ''), GROUP_CONCAT(d) FROM t");
    /* accepted by PG as they are */
    tr_parse("SELECT IF(a > 1, 'y', 'n'), LEFT(a, 2), RIGHT(a, 2), DATE(d), YEAR(d), MONTH(d), "
             "DAY(d), HOUR(d), QUARTER(d), WEEK(d, 3), DATE_FORMAT(d, '%Y-%m'), LAST_DAY(d), "
             "SUBSTRING(s FROM 1 FOR 2), EXTRACT(YEAR_MONTH FROM d), TRIM(LEADING 'x' FROM s), "
             "POSITION('a' IN s), COUNT(DISTINCT x), CURRENT_DATE, CURDATE(), IFNULL(a, 0), "
             "STR_TO_DATE(s, '%Y'), TRUNCATE(x, 2), REPLACE(s, 'a', 'b'), INSERT(s, 1, 2, 'x'), "
             "DATE_ADD(d, INTERVAL 1 DAY), DATE_SUB(d, INTERVAL 1 DAY) FROM t",
             NULL);
    LOCS("SELECT CHAR(65), IF(a, 1, 2) FROM t", &pg_query__func_call__descriptor, "CHAR",
         "IF");
    LOCS("SELECT CONVERT(g, DATE) FROM t", &pg_query__type_cast__descriptor, "CONVERT");
}

/* SELECT modifiers, FROM DUAL, STRAIGHT_JOIN, index hints, locking clauses. */
static void
test_select_clauses(void **state)
{
    (void)state;
    tr_parse("SELECT SQL_NO_CACHE SQL_CALC_FOUND_ROWS HIGH_PRIORITY STRAIGHT_JOIN DISTINCTROW a "
             "FROM t",
             "SELECT DISTINCT a FROM t");
    tr_parse("SELECT 1 FROM DUAL", "SELECT 1");
    tr_parse("SELECT 1 FROM DUAL WHERE 1 = 1", "SELECT 1 WHERE 1 = 1");
    tr_parse("SELECT a FROM t1 STRAIGHT_JOIN t2 ON t1.a = t2.b",
             "SELECT a FROM t1 JOIN t2 ON t1.a = t2.b");
    tr_parse("SELECT a FROM t1 USE INDEX (i1), IGNORE KEY FOR ORDER BY (i2) "
             "JOIN t2 FORCE INDEX FOR JOIN (i3) ON 1 = 1",
             "SELECT a FROM t1 JOIN t2 ON 1 = 1");
    tr_parse("SELECT a FROM t LOCK IN SHARE MODE", "SELECT a FROM t FOR SHARE");
    tr_parse("SELECT a FROM t WHERE b = 1 FOR UPDATE", "SELECT a FROM t WHERE b = 1 FOR UPDATE");
    LOCS("SELECT SQL_NO_CACHE a FROM t", &pg_query__column_ref__descriptor, "a FROM");
}

/* ? placeholders and @variables. */
static void
test_params_and_vars(void **state)
{
    (void)state;
    tr_parse("SELECT a FROM t WHERE a = ? AND b IN (?, ?)",
             "SELECT a FROM t WHERE a = $1 AND b IN ($2, $3)");
    tr_parse("SELECT @x, @@session.sql_mode, @'q v', @@version FROM t",
             "SELECT mvp_user_var('x'), mvp_sys_var('session.sql_mode'), mvp_user_var('q v'), "
             "mvp_sys_var('version') FROM t");
    LOCS("SELECT @x + 1", &pg_query__func_call__descriptor, "@x");
}

/* Map invariants: bounds, orig_off[len], verbatim bytes, clamping, spans. */
static void
test_map_invariants(void **state)
{
    static const char *const srcs[] = {
        "SELECT `a`, 'b\\'c', x /* c */ FROM t # x\n WHERE y && z LIMIT 1, 2",
        "  \n SELECT  a\tFROM\n t  ",
        "SELECT a FROM t WHERE d > NOW() - INTERVAL 1 DAY AND !b",
        "",
    };
    size_t s;

    (void)state;
    for (s = 0; s < sizeof(srcs) / sizeof(srcs[0]); s++) {
        struct rw_dialect_out out;
        size_t slen = strlen(srcs[s]);
        size_t k;

        tr_ok(srcs[s], NULL, &out);
        for (k = 0; k < out.len; k++) {
            assert_true(out.orig_off[k] <= slen);
        }
        assert_int_equal(rw_dialect_orig(&out, out.len + 100), slen);
        rw_dialect_free(&out);
        assert_null(out.text);
    }
    {
        /* a node's end maps to the original end: "x  +  y" spans the whole text */
        const char *src = "SELECT `x`  +  y FROM t";
        struct rw_dialect_out out;
        const char *p;

        tr_ok(src, "SELECT \"x\"  +  y FROM t", &out);
        p = strstr(out.text, "y FROM");
        assert_int_equal(rw_dialect_orig(&out, (size_t)(strstr(out.text, "\"x\"") - out.text)),
                         7);
        assert_int_equal(rw_dialect_orig(&out, (size_t)(p - out.text) + 1),
                         (size_t)(strstr(src, " FROM") - src));
        /* whitespace copied byte for byte, monotonic */
        for (size_t k = 1; k <= out.len; k++) {
            assert_true(out.orig_off[k] >= out.orig_off[k - 1]);
        }
        rw_dialect_free(&out);
    }
    {
        struct rw_dialect_out out;

        assert_int_equal(rw_dialect_translate(NULL, 0, &out), 0);
        assert_int_equal(out.len, 0);
        assert_string_equal(out.text, "");
        assert_int_equal(out.orig_off[0], 0);
        rw_dialect_free(&out);
        rw_dialect_free(&out);
        assert_int_equal(rw_dialect_orig(&out, 3), 0);
    }
}

/*
 * MariaDB versions of the seed dashboard queries (seeds 000, 003, 004),
 * written the way a MariaDB application sends them: they must translate
 * and parse.
 */

/* Translate SRC under MODE to WANT (checked to parse), or expect -1 when
 * WANT is NULL; the offset map must cover the original. */
static void
tr_mode(uint32_t mode, const char *src, const char *want)
{
    struct rw_dialect_out out;
    int rc = rw_dialect_translate_mode(src, strlen(src), mode, &out);

    if (want == NULL) {
        if (rc != -1) {
            print_error("mode %x: expected -1 for: %s (got %s)\n", mode, src, out.text);
            rw_dialect_free(&out);
            fail();
        }
        assert_null(out.text);
        return;
    }
    if (rc != 0) {
        print_error("mode %x: translate failed for: %s\n", mode, src);
        fail();
    }
    if (strcmp(out.text, want) != 0) {
        print_error("mode %x\nsrc:  %s\ngot:  %s\nwant: %s\n", mode, src, out.text, want);
        fail();
    }
    assert_int_equal(out.orig_off[out.len], strlen(src));
    parses(out.text);
    rw_dialect_free(&out);
}

/* Issue 11: the same text under the session's sql_mode. */
static void
test_sql_modes(void **state)
{
    const uint32_t aq = RW_MODE_ANSI_QUOTES, pc = RW_MODE_PIPES_AS_CONCAT;
    const uint32_t is = RW_MODE_IGNORE_SPACE, nb = RW_MODE_NO_BACKSLASH_ESCAPES;
    struct rw_dialect_out out;
    size_t k;

    (void)state;
    /* ANSI_QUOTES: "x" is a column, not a string */
    tr_mode(0, "SELECT \"amount\" FROM t", "SELECT 'amount' FROM t");
    tr_mode(aq, "SELECT \"amount\" FROM t", "SELECT \"amount\" FROM t");
    tr_mode(aq, "SELECT \"a\"\"b\", 'x' FROM \"t\"", "SELECT \"a\"\"b\", 'x' FROM \"t\"");
    tr_mode(aq, "SELECT `a`, \"b\" FROM t WHERE c = 'it''s'",
            "SELECT \"a\", \"b\" FROM t WHERE c = 'it''s'");
    /* NO_BACKSLASH_ESCAPES: 'a\' is the two bytes a and backslash */
    tr_mode(0, "SELECT 'a\\' FROM t", NULL); /* unterminated in the default mode */
    tr_mode(nb, "SELECT 'a\\' FROM t", "SELECT 'a\\' FROM t");
    tr_mode(0, "SELECT 'a\\nb' FROM t", "SELECT 'a\nb' FROM t");
    tr_mode(nb, "SELECT 'a\\nb' FROM t", "SELECT 'a\\nb' FROM t");
    /* PIPES_AS_CONCAT: || is concat; default: OR */
    tr_mode(0, "SELECT a || b FROM t", "SELECT a OR b FROM t");
    tr_mode(pc, "SELECT a || b FROM t", "SELECT concat(a, b) FROM t");
    tr_mode(pc, "SELECT a || 'x' || t.c AS k FROM t",
            "SELECT concat(a, 'x', t.c) AS k FROM t");
    /* || binds tighter than * and + in MariaDB (2 * 3 || 4 = 68) */
    tr_mode(pc, "SELECT 2 * 3 || 4, 1 + 2 || 3 FROM t", "SELECT 2 * concat(3, 4), 1 + concat(2, 3) FROM t");
    tr_mode(pc, "SELECT x FROM t WHERE a || b = 'xy' AND f(c) || (d) LIKE 'q%'",
            "SELECT x FROM t WHERE concat(a, b) = 'xy' AND concat(f(c), (d)) LIKE 'q%'");
    tr_mode(pc, "SELECT (a || b) || c FROM t", "SELECT concat((concat(a, b)), c) FROM t");
    tr_mode(pc, "SELECT a || -b FROM t", "SELECT concat(a, -b) FROM t");
    tr_mode(pc | aq, "SELECT \"a\" || 'x' FROM t", "SELECT concat(\"a\", 'x') FROM t");
    tr_mode(pc, "SELECT -a || b FROM t", NULL);         /* (-a) || b */
    tr_mode(pc, "SELECT DATE '2024-01-01' || b FROM t", NULL);
    tr_mode(pc, "SELECT a || b c FROM t", NULL);       /* alias without AS */
    tr_mode(pc, "SELECT x FROM t WHERE a || b IS NULL", "SELECT x FROM t WHERE concat(a, b) IS NULL");
    tr_mode(pc, "SELECT a || INTERVAL 1 DAY FROM t", NULL);
    tr_mode(pc, "SELECT a || f(x) OVER (ORDER BY y) FROM t", NULL);
    /* IGNORE_SPACE: COUNT (*) is a syntax error without it */
    tr_mode(0, "SELECT COUNT(*), SUM(x) FROM t", "SELECT COUNT(*), SUM(x) FROM t");
    tr_mode(0, "SELECT COUNT (*) FROM t", NULL);
    tr_mode(0, "SELECT SUM (x) FROM t", NULL);
    tr_mode(0, "SELECT sum/* c */(x) FROM t", NULL);
    tr_mode(0, "SELECT AVG (x), CONVERT (x, CHAR) FROM t", "SELECT AVG (x), CAST (x AS CHAR) FROM t");
    tr_mode(is, "SELECT COUNT (*), SUM (x) FROM t", "SELECT COUNT (*), SUM (x) FROM t");
    tr_mode(is, "SELECT sum/* c */(x) FROM t", "SELECT sum (x) FROM t");
    /* a mode the bridge does not model: never translated */
    for (k = 0; k < 2; k++) {
        assert_int_equal(rw_dialect_translate_mode("SELECT 1", 8, RW_MODE_UNSUPPORTED | (uint32_t)k, &out), -1);
        assert_null(out.text);
    }
}

static void
test_seed_queries(void **state)
{
    static const char *const q[] = {
        /* 003 revenue summary */
        "SELECT SUM(CASE WHEN created_at >= CURDATE() THEN total_amount END) AS today, "
        "SUM(CASE WHEN created_at >= CURDATE() - INTERVAL 7 DAY THEN total_amount END) AS "
        "`last_7_days`, SUM(CASE WHEN created_at >= DATE_FORMAT(CURDATE(), '%Y-%m-01') "
        "AND created_at < DATE_FORMAT(CURDATE(), '%Y-%m-01') + INTERVAL 1 MONTH "
        "THEN total_amount END) AS this_month FROM `orders` "
        "WHERE `status` NOT IN ('cancelled', 'refunded')",
        /* 003 daily revenue chart */
        "SELECT DATE(created_at) AS order_date, COUNT(*) AS order_count, SUM(total_amount) AS "
        "revenue FROM orders WHERE status NOT IN (\"cancelled\", \"refunded\") AND created_at >= "
        "DATE_SUB(CURDATE(), INTERVAL 29 DAY) GROUP BY DATE(created_at) ORDER BY 1",
        /* 003 conversion funnel */
        "SELECT 'Sessions' AS stage, COUNT(DISTINCT session_id) AS users FROM page_views "
        "UNION ALL SELECT 'Add to Cart', COUNT(DISTINCT session_id) FROM cart_events "
        "WHERE `action` = 'add' UNION ALL SELECT 'Checkout', COUNT(DISTINCT o.customer_id) "
        "FROM orders o WHERE created_at >= NOW() - INTERVAL 30 DAY",
        /* 003 RFM base */
        "SELECT customer_id, DATEDIFF(CURDATE(), MAX(created_at)) AS recency_days, "
        "COUNT(DISTINCT order_id) AS frequency, SUM(total_amount) AS monetary FROM orders "
        "WHERE status NOT IN ('cancelled', 'refunded') GROUP BY customer_id "
        "HAVING frequency > 1 ORDER BY monetary DESC LIMIT 0, 100",
        /* 003 top products */
        "SELECT p.product_id, p.name AS product_name, c.name AS category, "
        "SUM(oi.quantity) AS units_sold, SUM(oi.line_total) AS total_revenue, "
        "ROUND(100.0 * (p.list_price - IFNULL(p.cost_price, 0)) / p.list_price, 1) AS margin_pct "
        "FROM products p JOIN categories c ON p.category_id = c.category_id "
        "JOIN order_items oi ON p.product_id = oi.product_id "
        "JOIN orders o ON oi.order_id = o.order_id WHERE o.status NOT IN ('cancelled', "
        "'refunded') GROUP BY p.product_id, p.name, c.name ORDER BY total_revenue DESC LIMIT 50",
        /* 003 bought together */
        "SELECT p1.name AS product_1, p2.name AS product_2, COUNT(*) AS times_bought_together "
        "FROM order_items oi1 JOIN order_items oi2 ON oi1.order_id = oi2.order_id "
        "AND oi1.product_id < oi2.product_id JOIN products p1 ON oi1.product_id = p1.product_id "
        "JOIN products p2 ON oi2.product_id = p2.product_id "
        "GROUP BY p1.product_id, p1.name, p2.product_id, p2.name HAVING COUNT(*) >= 10 "
        "ORDER BY times_bought_together DESC LIMIT 20",
        /* 003 low stock */
        "SELECT p.sku, p.name, i.warehouse, i.quantity AS stock, IFNULL(s.units_sold_30d, 0) "
        "AS sold_last_30d, CASE WHEN i.quantity <= i.reorder_level THEN 'REORDER NOW' "
        "WHEN i.quantity <= i.reorder_level * 2 THEN 'Low Stock' ELSE 'OK' END AS stock_status "
        "FROM inventory i JOIN products p ON i.product_id = p.product_id LEFT JOIN "
        "(SELECT oi.product_id, SUM(oi.quantity) AS units_sold_30d FROM order_items oi "
        "JOIN orders o ON oi.order_id = o.order_id WHERE o.created_at >= CURDATE() - INTERVAL "
        "30 DAY GROUP BY oi.product_id) s ON i.product_id = s.product_id "
        "WHERE p.is_active = TRUE ORDER BY days_of_stock",
        /* 003 customer lifetime */
        "SELECT c.customer_id, c.email, c.tier, COUNT(DISTINCT o.order_id) AS total_orders, "
        "SUM(o.total_amount) AS lifetime_value, MAX(o.created_at) AS last_order_date "
        "FROM customers c LEFT JOIN orders o ON c.customer_id = o.customer_id "
        "AND o.status NOT IN ('cancelled', 'refunded') "
        "GROUP BY c.customer_id, c.email, c.tier",
        /* 000 DWD layer */
        "SELECT DATE(sale_date) as sale_date, region_id, category_id, product_id, customer_id, "
        "COUNT(*) as order_count, SUM(sale_amount) as total_amount, SUM(cost_amount) as "
        "total_cost, COUNT(DISTINCT customer_id) as customer_count FROM raw_sales "
        "WHERE status = 'completed' AND sale_date >= '2024-01-01' "
        "GROUP BY DATE(sale_date), region_id, category_id, product_id, customer_id",
        /* 000 ADS layer */
        "SELECT sale_date, SUM(order_count) as total_orders, SUM(total_amount) as total_sales, "
        "SUM(total_amount - total_cost) as total_profit FROM mv_dws_sales GROUP BY sale_date",
        /* 004 time series */
        "SELECT summary_date, total_revenue, revenue_7d_avg, yoy_growth_rate "
        "FROM time_series_revenue WHERE summary_date > CURRENT_DATE - INTERVAL 30 DAY "
        "ORDER BY summary_date",
        /* 004 top products today */
        "SELECT SQL_NO_CACHE product_name, product_category, revenue, revenue_rank_overall "
        "FROM daily_product_rankings WHERE summary_date = CURDATE() AND "
        "revenue_rank_overall <= 10 ORDER BY revenue_rank_overall",
        /* 004 monthly roll-up */
        "SELECT DATE_FORMAT(summary_date, '%Y-%m-01') AS summary_month, store_id, category_id, "
        "SUM(revenue), SUM(quantity), SUM(orders), COUNT(*) AS operating_days, AVG(revenue) "
        "FROM daily_sales WHERE summary_date >= '2024-01-01' AND summary_date < "
        "'2024-01-01' + INTERVAL 1 MONTH GROUP BY store_id, category_id",
    };
    size_t k;

    (void)state;
    for (k = 0; k < sizeof(q) / sizeof(q[0]); k++) {
        tr_parse(q[k], NULL);
    }
    LOCS("SELECT DATE(sale_date) as sale_date, SUM(`total_amount`) FROM raw_sales "
         "WHERE status = 'completed' GROUP BY DATE(sale_date)",
         &pg_query__column_ref__descriptor, "sale_date)", "`total_amount`", "status",
         "sale_date)");
}

/*
 * Random bytes and random SQL-fragment soup: never crash, and on success
 * the map stays inside the input (exact-size heap copies so ASan/valgrind
 * catch reads past LEN). Successful outputs are fed to the parser too.
 */
static void
test_random_input(void **state)
{
    static const char *const frags[] = {
        "SELECT ", "a", "`b`", "'c'", "\"d\"", ",", "(", ")", "!", "&&", "||", "<=>", "LIMIT ",
        "1", "?", "@x", "INTERVAL ", "DAY ", "CAST(", " AS ", "SIGNED", "CONVERT(", "GROUP_CONCAT(",
        "SEPARATOR ", "ORDER BY ", "CASE ", "END ", "USE INDEX ", "FROM ", "DUAL ", "/*+", "*/",
        "/*!", "-- ", "#", "\n", "\\", "0x1", "X'", "_utf8", "N", "user ", "XOR", "NOT ",
        "REGEXP ", "\xff", "\0", " ", "STRAIGHT_JOIN ", "WITH ROLLUP", ".", "MOD ", "offset ",
    };
    unsigned int seed = 4242;
    int iter;

    (void)state;
    for (iter = 0; iter < 6000; iter++) {
        char buf[512];
        size_t n = 0;
        size_t want = (size_t)(rand_r(&seed) % 200);
        char *src;
        struct rw_dialect_out out;

        while (n < want) {
            if (iter % 3 == 0) {
                buf[n++] = (char)(rand_r(&seed) & 0xff);
            } else {
                const char *f = frags[rand_r(&seed) % (sizeof(frags) / sizeof(frags[0]))];
                size_t fl = f[0] == '\0' ? 1 : strlen(f);

                if (n + fl > sizeof(buf)) {
                    break;
                }
                memcpy(buf + n, f, fl);
                n += fl;
            }
        }
        src = malloc(n == 0 ? 1 : n);
        assert_non_null(src);
        memcpy(src, buf, n);
        if (rw_dialect_translate(src, n, &out) == 0) {
            size_t k;

            assert_int_equal(out.orig_off[out.len], n);
            for (k = 0; k < out.len; k++) {
                assert_true(out.orig_off[k] <= n);
            }
            if (strlen(out.text) == out.len) {
                PgQueryParseResult r = pg_query_parse(out.text);

                pg_query_free_parse_result(r);
            }
            rw_dialect_free(&out);
        }
        free(src);
    }
}

/* Release libpg_query's per-thread memory after the run. */
static int
teardown_all(void **state)
{
    (void)state;
    pg_query_exit();
    return 0;
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_backtick_identifiers),
        cmocka_unit_test(test_pg_reserved_identifiers),
        cmocka_unit_test(test_odd_identifiers),
        cmocka_unit_test(test_strings),
        cmocka_unit_test(test_string_aliases),
        cmocka_unit_test(test_comments),
        cmocka_unit_test(test_limit),
        cmocka_unit_test(test_interval),
        cmocka_unit_test(test_operators),
        cmocka_unit_test(test_unsupported),
        cmocka_unit_test(test_hex_and_bit_literals),
        cmocka_unit_test(test_functions),
        cmocka_unit_test(test_select_clauses),
        cmocka_unit_test(test_params_and_vars),
        cmocka_unit_test(test_keyword_aliases),
        cmocka_unit_test(test_map_invariants),
        cmocka_unit_test(test_seed_queries),
        cmocka_unit_test(test_sql_modes),
        cmocka_unit_test(test_random_input),
    };

    return cmocka_run_group_tests(tests, NULL, teardown_all);
}
