/*
 * test_rw_lex.c - unit tests for the MySQL/MariaDB lexer (rw_lex.c): each
 * lexical rule with exact offsets, rw_tok_text unescaping, unterminated
 * tokens, and random bytes (no crash, no read past the length).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rw_lex.h"
#include "rw_sqlmode.h"

/* One expected token: kind and exact text in the source. */
struct exp_tok {
    enum rw_tok_kind kind;      /* expected class */
    const char *text;           /* expected source bytes at off..off+len */
};

/*
 * Lex SRC and check it yields exactly the N tokens of EXP (then EOF), with
 * each token's text located at the first occurrence of that text at or
 * after the end of the previous token.
 */
static void
check_toks(const char *src, const struct exp_tok *exp, size_t n)
{
    struct rw_lexer lx;
    size_t k;
    size_t from = 0;
    size_t len = strlen(src);

    rw_lex_init(&lx, src, len);
    for (k = 0; k < n; k++) {
        struct rw_tok t = rw_lex_next(&lx);
        const char *hit = strstr(src + from, exp[k].text);
        size_t elen = strlen(exp[k].text);

        if (t.kind != exp[k].kind || t.len != elen || hit == NULL ||
            t.off != (size_t)(hit - src)) {
            print_error("token %zu of \"%s\": got kind %d \"%.*s\" at %zu, want kind %d \"%s\"\n",
                        k, src, (int)t.kind, (int)t.len, src + t.off, t.off, (int)exp[k].kind,
                        exp[k].text);
            fail();
        }
        from = t.off + t.len;
    }
    {
        struct rw_tok t = rw_lex_next(&lx);

        assert_int_equal(t.kind, RW_TOK_EOF);
        assert_int_equal(t.off, len);
        assert_int_equal(t.len, 0);
        /* EOF is sticky */
        t = rw_lex_next(&lx);
        assert_int_equal(t.kind, RW_TOK_EOF);
    }
}

#define CHECK(src, ...)                                                            \
    do {                                                                           \
        const struct exp_tok e_[] = {__VA_ARGS__};                                 \
        check_toks((src), e_, sizeof(e_) / sizeof(e_[0]));                         \
    } while (0)

/* Text of the first token of SRC through rw_tok_text (caller frees). */
static char *
first_text(const char *src, size_t len, enum rw_tok_kind *kind)
{
    struct rw_lexer lx;
    struct rw_tok t;

    rw_lex_init(&lx, src, len);
    t = rw_lex_next(&lx);
    if (kind != NULL) {
        *kind = t.kind;
    }
    return rw_tok_text(&lx, t);
}

/* Bare identifiers, keywords, $, UTF-8 bytes, digit-led identifiers. */
static void
test_identifiers(void **state)
{
    (void)state;
    CHECK("SELECT raw_sales, a$b, _x9 FROM t1",
          {RW_TOK_IDENT, "SELECT"}, {RW_TOK_IDENT, "raw_sales"}, {RW_TOK_OP, ","},
          {RW_TOK_IDENT, "a$b"}, {RW_TOK_OP, ","}, {RW_TOK_IDENT, "_x9"},
          {RW_TOK_IDENT, "FROM"}, {RW_TOK_IDENT, "t1"});
    CHECK("SELECT caf\xc3\xa9 FROM \xe8\xa1\xa8", {RW_TOK_IDENT, "SELECT"},
          {RW_TOK_IDENT, "caf\xc3\xa9"}, {RW_TOK_IDENT, "FROM"}, {RW_TOK_IDENT, "\xe8\xa1\xa8"});
    CHECK("1abc 12 0xzz 0x 2e 3e+ 0b12", {RW_TOK_IDENT, "1abc"}, {RW_TOK_NUMBER, "12"},
          {RW_TOK_IDENT, "0xzz"}, {RW_TOK_IDENT, "0x"}, {RW_TOK_IDENT, "2e"},
          {RW_TOK_IDENT, "3e"}, {RW_TOK_OP, "+"}, {RW_TOK_IDENT, "0b12"});
    CHECK("t.1col", {RW_TOK_IDENT, "t"}, {RW_TOK_OP, "."}, {RW_TOK_IDENT, "1col"});
}

/* Backtick identifiers with `` doubling, and their unquoted text. */
static void
test_quoted_identifiers(void **state)
{
    char *s;
    enum rw_tok_kind k;

    (void)state;
    CHECK("SELECT `a b`.`c``d` FROM `db`.`t`", {RW_TOK_IDENT, "SELECT"},
          {RW_TOK_QIDENT, "`a b`"}, {RW_TOK_OP, "."}, {RW_TOK_QIDENT, "`c``d`"},
          {RW_TOK_IDENT, "FROM"}, {RW_TOK_QIDENT, "`db`"}, {RW_TOK_OP, "."},
          {RW_TOK_QIDENT, "`t`"});
    s = first_text("`c``d`", 6, &k);
    assert_int_equal(k, RW_TOK_QIDENT);
    assert_string_equal(s, "c`d");
    free(s);
    s = first_text("`it's \\n`", 9, NULL);
    assert_string_equal(s, "it's \\n");   /* no backslash escapes in identifiers */
    free(s);
    s = first_text("````", 4, NULL);
    assert_string_equal(s, "`");
    free(s);
}

/* '...' and "..." strings: escapes, doubled quotes, exact extents. */
static void
test_strings(void **state)
{
    char *s;
    enum rw_tok_kind k;

    (void)state;
    CHECK("a = 'it''s' OR b = \"say \\\"hi\\\"\" OR c='x\\'y'", {RW_TOK_IDENT, "a"},
          {RW_TOK_OP, "="}, {RW_TOK_STRING, "'it''s'"}, {RW_TOK_IDENT, "OR"},
          {RW_TOK_IDENT, "b"}, {RW_TOK_OP, "="}, {RW_TOK_STRING, "\"say \\\"hi\\\"\""},
          {RW_TOK_IDENT, "OR"}, {RW_TOK_IDENT, "c"}, {RW_TOK_OP, "="},
          {RW_TOK_STRING, "'x\\'y'"});
    s = first_text("'it''s'", 7, &k);
    assert_int_equal(k, RW_TOK_STRING);
    assert_string_equal(s, "it's");
    free(s);
    s = first_text("'a\\nb\\tc\\rd\\\\e\\'f\\\"g\\bh\\Zi\\%j\\_k\\ql'", 38, NULL);
    assert_string_equal(s, "a\nb\tc\rd\\e'f\"g\bh\032i\\%j\\_kql");
    free(s);
    s = first_text("\"x\"\"y\"", 6, NULL);
    assert_string_equal(s, "x\"y");
    free(s);
    s = first_text("''", 2, NULL);
    assert_string_equal(s, "");
    free(s);
    /* \0 decodes to a NUL byte: the C string ends there */
    s = first_text("'a\\0b'", 6, NULL);
    assert_int_equal(s[0], 'a');
    assert_int_equal(s[1], '\0');
    free(s);
}

/* N'..', _charset'..' introducers lex as IDENT then STRING. */
static void
test_introducers(void **state)
{
    (void)state;
    CHECK("N'abc' _utf8mb4'x' n'y'", {RW_TOK_IDENT, "N"}, {RW_TOK_STRING, "'abc'"},
          {RW_TOK_IDENT, "_utf8mb4"}, {RW_TOK_STRING, "'x'"}, {RW_TOK_IDENT, "n"},
          {RW_TOK_STRING, "'y'"});
}

/* Integers, decimals, exponents, hex and bit literals. */
static void
test_numbers(void **state)
{
    (void)state;
    CHECK("12 1.5 .5e3 1e-3 2E+10 3. 0x1F X'1f' x'' b'0101' B'1' 0b101",
          {RW_TOK_NUMBER, "12"}, {RW_TOK_NUMBER, "1.5"}, {RW_TOK_NUMBER, ".5e3"},
          {RW_TOK_NUMBER, "1e-3"}, {RW_TOK_NUMBER, "2E+10"}, {RW_TOK_NUMBER, "3."},
          {RW_TOK_NUMBER, "0x1F"}, {RW_TOK_NUMBER, "X'1f'"}, {RW_TOK_NUMBER, "x''"},
          {RW_TOK_NUMBER, "b'0101'"}, {RW_TOK_NUMBER, "B'1'"}, {RW_TOK_NUMBER, "0b101"});
    CHECK("a-1", {RW_TOK_IDENT, "a"}, {RW_TOK_OP, "-"}, {RW_TOK_NUMBER, "1"});
    CHECK("t.a+.5", {RW_TOK_IDENT, "t"}, {RW_TOK_OP, "."}, {RW_TOK_IDENT, "a"},
          {RW_TOK_OP, "+"}, {RW_TOK_NUMBER, ".5"});
    CHECK("x IN(1,2)", {RW_TOK_IDENT, "x"}, {RW_TOK_IDENT, "IN"}, {RW_TOK_OP, "("},
          {RW_TOK_NUMBER, "1"}, {RW_TOK_OP, ","}, {RW_TOK_NUMBER, "2"}, {RW_TOK_OP, ")"});
}

/* ? placeholders and @user / @@system variables. */
static void
test_params_and_vars(void **state)
{
    (void)state;
    CHECK("a = ? AND b = @v AND c = @'q v' AND d = @@sql_mode AND e = @@global.x AND @`b`",
          {RW_TOK_IDENT, "a"}, {RW_TOK_OP, "="}, {RW_TOK_PARAM, "?"}, {RW_TOK_IDENT, "AND"},
          {RW_TOK_IDENT, "b"}, {RW_TOK_OP, "="}, {RW_TOK_VAR, "@v"}, {RW_TOK_IDENT, "AND"},
          {RW_TOK_IDENT, "c"}, {RW_TOK_OP, "="}, {RW_TOK_VAR, "@'q v'"}, {RW_TOK_IDENT, "AND"},
          {RW_TOK_IDENT, "d"}, {RW_TOK_OP, "="}, {RW_TOK_VAR, "@@sql_mode"},
          {RW_TOK_IDENT, "AND"}, {RW_TOK_IDENT, "e"}, {RW_TOK_OP, "="},
          {RW_TOK_VAR, "@@global.x"}, {RW_TOK_IDENT, "AND"}, {RW_TOK_VAR, "@`b`"});
    CHECK("@ x", {RW_TOK_OP, "@"}, {RW_TOK_IDENT, "x"});
}

/* Operators: longest match first. */
static void
test_operators(void **state)
{
    (void)state;
    CHECK("a<=>b<=c>=d<>e!=f:=g||h&&i<<j>>k->l->>m",
          {RW_TOK_IDENT, "a"}, {RW_TOK_OP, "<=>"}, {RW_TOK_IDENT, "b"}, {RW_TOK_OP, "<="},
          {RW_TOK_IDENT, "c"}, {RW_TOK_OP, ">="}, {RW_TOK_IDENT, "d"}, {RW_TOK_OP, "<>"},
          {RW_TOK_IDENT, "e"}, {RW_TOK_OP, "!="}, {RW_TOK_IDENT, "f"}, {RW_TOK_OP, ":="},
          {RW_TOK_IDENT, "g"}, {RW_TOK_OP, "||"}, {RW_TOK_IDENT, "h"}, {RW_TOK_OP, "&&"},
          {RW_TOK_IDENT, "i"}, {RW_TOK_OP, "<<"}, {RW_TOK_IDENT, "j"}, {RW_TOK_OP, ">>"},
          {RW_TOK_IDENT, "k"}, {RW_TOK_OP, "->"}, {RW_TOK_IDENT, "l"}, {RW_TOK_OP, "->>"},
          {RW_TOK_IDENT, "m"});
    CHECK("(a)+b-c*d/e%f=g<h>i!j&k|l^m~n;", {RW_TOK_OP, "("}, {RW_TOK_IDENT, "a"},
          {RW_TOK_OP, ")"}, {RW_TOK_OP, "+"}, {RW_TOK_IDENT, "b"}, {RW_TOK_OP, "-"},
          {RW_TOK_IDENT, "c"}, {RW_TOK_OP, "*"}, {RW_TOK_IDENT, "d"}, {RW_TOK_OP, "/"},
          {RW_TOK_IDENT, "e"}, {RW_TOK_OP, "%"}, {RW_TOK_IDENT, "f"}, {RW_TOK_OP, "="},
          {RW_TOK_IDENT, "g"}, {RW_TOK_OP, "<"}, {RW_TOK_IDENT, "h"}, {RW_TOK_OP, ">"},
          {RW_TOK_IDENT, "i"}, {RW_TOK_OP, "!"}, {RW_TOK_IDENT, "j"}, {RW_TOK_OP, "&"},
          {RW_TOK_IDENT, "k"}, {RW_TOK_OP, "|"}, {RW_TOK_IDENT, "l"}, {RW_TOK_OP, "^"},
          {RW_TOK_IDENT, "m"}, {RW_TOK_OP, "~"}, {RW_TOK_IDENT, "n"}, {RW_TOK_OP, ";"});
    CHECK("a\\b", {RW_TOK_IDENT, "a"}, {RW_TOK_OTHER, "\\"}, {RW_TOK_IDENT, "b"});
}

/* #, "-- " and C comments are skipped; "--x" is two minus signs. */
static void
test_comments(void **state)
{
    (void)state;
    CHECK("SELECT 1 # c\n, 2 -- c\n, 3 /* c\n */ , 4--5", {RW_TOK_IDENT, "SELECT"},
          {RW_TOK_NUMBER, "1"}, {RW_TOK_OP, ","}, {RW_TOK_NUMBER, "2"}, {RW_TOK_OP, ","},
          {RW_TOK_NUMBER, "3"}, {RW_TOK_OP, ","}, {RW_TOK_NUMBER, "4"}, {RW_TOK_OP, "-"},
          {RW_TOK_OP, "-"}, {RW_TOK_NUMBER, "5"});
    CHECK("a --\tx\nb --", {RW_TOK_IDENT, "a"}, {RW_TOK_IDENT, "b"});
    CHECK("a/**/b/***/c", {RW_TOK_IDENT, "a"}, {RW_TOK_IDENT, "b"}, {RW_TOK_IDENT, "c"});
    CHECK("SELECT t.*/* c */ FROM t", {RW_TOK_IDENT, "SELECT"}, {RW_TOK_IDENT, "t"},
          {RW_TOK_OP, "."}, {RW_TOK_OP, "*"}, {RW_TOK_IDENT, "FROM"}, {RW_TOK_IDENT, "t"});
    CHECK("a '#not' `--x` \"/*y*/\"", {RW_TOK_IDENT, "a"}, {RW_TOK_STRING, "'#not'"},
          {RW_TOK_QIDENT, "`--x`"}, {RW_TOK_STRING, "\"/*y*/\""});
}

/* Optimizer hints are returned whole as RW_TOK_HINT. */
static void
test_hints(void **state)
{
    (void)state;
    CHECK("SELECT /*+ USE_MV(db.v1) */ a FROM t", {RW_TOK_IDENT, "SELECT"},
          {RW_TOK_HINT, "/*+ USE_MV(db.v1) */"}, {RW_TOK_IDENT, "a"}, {RW_TOK_IDENT, "FROM"},
          {RW_TOK_IDENT, "t"});
    CHECK("SELECT /*+ NO_USE_MV", {RW_TOK_IDENT, "SELECT"}, {RW_TOK_HINT, "/*+ NO_USE_MV"});
    CHECK("/*+*/x", {RW_TOK_HINT, "/*+*/"}, {RW_TOK_IDENT, "x"});
}

/* Executable comments are lexed as their content. */
static void
test_executable_comments(void **state)
{
    (void)state;
    CHECK("SELECT /*!50100 SQL_NO_CACHE */ a", {RW_TOK_IDENT, "SELECT"},
          {RW_TOK_IDENT, "SQL_NO_CACHE"}, {RW_TOK_IDENT, "a"});
    CHECK("SELECT /*M!100301 b, */ a", {RW_TOK_IDENT, "SELECT"}, {RW_TOK_IDENT, "b"},
          {RW_TOK_OP, ","}, {RW_TOK_IDENT, "a"});
    CHECK("/*!STRAIGHT_JOIN*/x", {RW_TOK_IDENT, "STRAIGHT_JOIN"}, {RW_TOK_IDENT, "x"});
    CHECK("/*!40101 SET x='*/'*/;", {RW_TOK_IDENT, "SET"}, {RW_TOK_IDENT, "x"},
          {RW_TOK_OP, "="}, {RW_TOK_STRING, "'*/'"}, {RW_TOK_OP, ";"});
    /* fewer than 5 digits: they are content */
    CHECK("/*!12 */", {RW_TOK_NUMBER, "12"});
    CHECK("/*!50100 a", {RW_TOK_IDENT, "a"});
}

/* Unterminated strings, identifiers and comments run to the end. */
static void
test_unterminated(void **state)
{
    char *s;

    (void)state;
    CHECK("a 'abc", {RW_TOK_IDENT, "a"}, {RW_TOK_STRING, "'abc"});
    CHECK("a 'ab''", {RW_TOK_IDENT, "a"}, {RW_TOK_STRING, "'ab''"});
    CHECK("a \"x\\\"", {RW_TOK_IDENT, "a"}, {RW_TOK_STRING, "\"x\\\""});
    CHECK("a `b", {RW_TOK_IDENT, "a"}, {RW_TOK_QIDENT, "`b"});
    CHECK("a /* b", {RW_TOK_IDENT, "a"});
    CHECK("a X'1", {RW_TOK_IDENT, "a"}, {RW_TOK_NUMBER, "X'1"});
    CHECK("a @'x", {RW_TOK_IDENT, "a"}, {RW_TOK_VAR, "@'x"});
    CHECK("'", {RW_TOK_STRING, "'"});
    s = first_text("'ab''", 5, NULL);
    assert_string_equal(s, "ab'");
    free(s);
    s = first_text("'abc", 4, NULL);
    assert_string_equal(s, "abc");
    free(s);
    s = first_text("'a\\", 3, NULL);
    assert_string_equal(s, "a\\");
    free(s);
    s = first_text("`x", 2, NULL);
    assert_string_equal(s, "x");
    free(s);
    s = first_text("'", 1, NULL);
    assert_string_equal(s, "");
    free(s);
}

/* The input is not NUL-terminated: tokens stop at LEN exactly. */
static void
test_length_bound(void **state)
{
    const char *src = "SELECT abcdef 'xyz' 123";
    struct rw_lexer lx;
    struct rw_tok t;
    char *s;

    (void)state;
    rw_lex_init(&lx, src, 10);
    t = rw_lex_next(&lx);
    assert_true(rw_tok_is(&lx, t, "select"));
    t = rw_lex_next(&lx);
    assert_int_equal(t.kind, RW_TOK_IDENT);
    assert_int_equal(t.off, 7);
    assert_int_equal(t.len, 3);
    t = rw_lex_next(&lx);
    assert_int_equal(t.kind, RW_TOK_EOF);
    assert_int_equal(t.off, 10);

    rw_lex_init(&lx, src, 17);
    rw_lex_next(&lx);
    rw_lex_next(&lx);
    t = rw_lex_next(&lx);
    assert_int_equal(t.kind, RW_TOK_STRING);
    assert_int_equal(t.len, 3);
    s = rw_tok_text(&lx, t);
    assert_string_equal(s, "xy");
    free(s);

    rw_lex_init(&lx, NULL, 5);
    t = rw_lex_next(&lx);
    assert_int_equal(t.kind, RW_TOK_EOF);
}

/* rw_tok_is / rw_tok_is_op / rw_tok_text on ordinary tokens. */
static void
test_predicates(void **state)
{
    const char *src = "Select `select` <= 'x' 42";
    struct rw_lexer lx;
    struct rw_tok t;
    char *s;

    (void)state;
    rw_lex_init(&lx, src, strlen(src));
    t = rw_lex_next(&lx);
    assert_true(rw_tok_is(&lx, t, "SELECT"));
    assert_true(rw_tok_is(&lx, t, "select"));
    assert_false(rw_tok_is(&lx, t, "selec"));
    assert_false(rw_tok_is(&lx, t, "selects"));
    assert_false(rw_tok_is_op(&lx, t, "Select"));
    s = rw_tok_text(&lx, t);
    assert_string_equal(s, "Select");
    free(s);
    t = rw_lex_next(&lx);
    assert_false(rw_tok_is(&lx, t, "select"));  /* quoted: not a keyword */
    t = rw_lex_next(&lx);
    assert_true(rw_tok_is_op(&lx, t, "<="));
    assert_false(rw_tok_is_op(&lx, t, "<"));
    assert_false(rw_tok_is(&lx, t, "<="));
    t = rw_lex_next(&lx);
    assert_false(rw_tok_is_op(&lx, t, "'x'"));
    t = rw_lex_next(&lx);
    s = rw_tok_text(&lx, t);
    assert_string_equal(s, "42");
    free(s);
}

/* rw_lex_all returns every token and a final EOF. */
static void
test_lex_all(void **state)
{
    const char *src = "SELECT a, `b` FROM t WHERE c = 'x' -- tail";
    struct rw_tok *toks;
    size_t n;

    (void)state;
    toks = rw_lex_all(src, strlen(src), &n);
    assert_non_null(toks);
    assert_int_equal(n, 10);
    assert_int_equal(toks[3].kind, RW_TOK_QIDENT);
    assert_int_equal(toks[3].off, 10);
    assert_int_equal(toks[9].kind, RW_TOK_STRING);
    assert_int_equal(toks[10].kind, RW_TOK_EOF);
    assert_int_equal(toks[10].off, strlen(src));
    free(toks);

    toks = rw_lex_all("", 0, &n);
    assert_non_null(toks);
    assert_int_equal(n, 0);
    assert_int_equal(toks[0].kind, RW_TOK_EOF);
    free(toks);
}

/*
 * Random bytes (and random mixes of SQL fragments) never crash, tokens
 * stay inside the input, advance, and cover bytes in order. Each input is
 * an exact-size heap copy so ASan/valgrind catch any read past LEN.
 */
static void
test_random_bytes(void **state)
{
    static const char *const frags[] = {"'", "\"", "`", "/*", "*/", "/*!", "/*M!", "/*+",
                                        "--", "-- ", "#", "\n", "\\", "0x", "X'", "b'",
                                        "@", "@@", ".", "1", "e", "a", "<=", ">", "?",
                                        "\xff", "\x80", "\0", " ", "50100", "''", "``"};
    unsigned int seed = 12345;
    int iter;

    (void)state;
    for (iter = 0; iter < 20000; iter++) {
        size_t len = (size_t)(rand_r(&seed) % 64);
        char buf[256];
        size_t n = 0;
        char *src;
        struct rw_lexer lx;
        size_t prev_end = 0;
        int guard = 0;

        while (n < len) {
            if (iter % 2 == 0) {
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
        rw_lex_init(&lx, src, n);
        for (;;) {
            struct rw_tok t = rw_lex_next(&lx);
            char *s;

            assert_true(t.off >= prev_end);
            assert_true(t.off + t.len <= n);
            s = rw_tok_text(&lx, t);
            assert_non_null(s);
            free(s);
            if (t.kind == RW_TOK_EOF) {
                assert_int_equal(t.off, n);
                break;
            }
            assert_true(t.len > 0);
            prev_end = t.off + t.len;
            assert_true(++guard <= (int)n + 1);
        }
        free(src);
    }
}

/* Split SQL; expect RC and, when split, the statements' texts in order. */
static void
expect_split(const char *sql, uint32_t mode, int rc, const char *const *want, size_t n_want)
{
    struct rw_span *sp = NULL;
    struct rw_lexer lx;
    struct rw_tok *tok;
    size_t n = 99, i, ntok;
    int got;

    tok = rw_lex_all_mode(sql, strlen(sql), mode, &ntok);
    assert_non_null(tok);
    rw_lex_init_mode(&lx, sql, strlen(sql), mode);
    got = rw_split_statements(&lx, tok, ntok, &sp, &n);
    free(tok);

    assert_int_equal(got, rc);
    if (rc != 1) {
        assert_null(sp);
        assert_int_equal(n, 0);
        return;
    }
    assert_int_equal(n, n_want);
    for (i = 0; i < n; i++) {
        assert_true(sp[i].off + sp[i].len <= strlen(sql));
        if (strlen(want[i]) != sp[i].len || memcmp(sql + sp[i].off, want[i], sp[i].len) != 0) {
            fail_msg("statement %zu of [%s]: got [%.*s], want [%s]", i, sql, (int)sp[i].len,
                     sql + sp[i].off, want[i]);
        }
    }
    free(sp);
}

static void
test_split_statements(void **state)
{
    static const char *const one[] = {"SELECT 1"};
    static const char *const two[] = {"SELECT 1", " SELECT 'a;b' AS `c;d`"};
    static const char *const cmt[] = {"SELECT 1 -- a; comment\n", " /* ; */ SELECT 2"};
    static const char *const txn[] = {"BEGIN", " INSERT INTO t VALUES (1)", " COMMIT"};
    static const char *const ansi[] = {"SELECT \"a;b\"", " SELECT 2"};
    static const char *const bs[] = {"SELECT 'x\\'", "SELECT 2"};
    static const char *const ec[] = {"SELECT /*!40001 SQL_NO_CACHE */ 1"};

    (void)state;
    expect_split("SELECT 1", 0, 1, one, 1);
    expect_split("SELECT 1;", 0, 1, one, 1);
    expect_split("SELECT /*!40001 SQL_NO_CACHE */ 1;", 0, 1, ec, 1);
    expect_split("SELECT 1; -- done\n  ", 0, 1, one, 1);
    expect_split("SELECT 1; SELECT 'a;b' AS `c;d`", 0, 1, two, 2);
    expect_split("SELECT 1 -- a; comment\n; /* ; */ SELECT 2", 0, 1, cmt, 2);
    expect_split("BEGIN; INSERT INTO t VALUES (1); COMMIT", 0, 1, txn, 3);
    /* "a;b" is a string by default and a name under ANSI_QUOTES: one `;` either way */
    expect_split("SELECT \"a;b\"; SELECT 2", RW_MODE_ANSI_QUOTES, 1, ansi, 2);
    /* under NO_BACKSLASH_ESCAPES 'x\' ends at its second quote */
    expect_split("SELECT 'x\\';SELECT 2", RW_MODE_NO_BACKSLASH_ESCAPES, 1, bs, 2);
    /* not split: compound statements, executable comments, empty statements */
    expect_split("BEGIN NOT ATOMIC SELECT 1; SELECT 2; END", 0, 0, NULL, 0);
    expect_split("CREATE PROCEDURE p() BEGIN SELECT 1; END; SELECT 2", 0, 0, NULL, 0);
    expect_split("IF 1 THEN SELECT 1; END IF", 0, 0, NULL, 0);
    expect_split("SELECT 1; lbl: LOOP SELECT 1; END LOOP", 0, 0, NULL, 0);
    expect_split("WHILE 0 DO SELECT 1; END WHILE", 0, 0, NULL, 0);
    expect_split("SELECT 1 /*!50000 ; SELECT 2 */", 0, 0, NULL, 0);
    expect_split("SELECT 1 /*M!100100 ; SELECT 2 */", 0, 0, NULL, 0);
    expect_split("SELECT 1;; SELECT 2", 0, 0, NULL, 0);
    expect_split(";", 0, 0, NULL, 0);
    expect_split("", 0, 0, NULL, 0);
    expect_split("  -- nothing\n", 0, 0, NULL, 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_identifiers),
        cmocka_unit_test(test_quoted_identifiers),
        cmocka_unit_test(test_strings),
        cmocka_unit_test(test_introducers),
        cmocka_unit_test(test_numbers),
        cmocka_unit_test(test_params_and_vars),
        cmocka_unit_test(test_operators),
        cmocka_unit_test(test_comments),
        cmocka_unit_test(test_hints),
        cmocka_unit_test(test_executable_comments),
        cmocka_unit_test(test_unterminated),
        cmocka_unit_test(test_length_bound),
        cmocka_unit_test(test_predicates),
        cmocka_unit_test(test_lex_all),
        cmocka_unit_test(test_random_bytes),
        cmocka_unit_test(test_split_statements),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
