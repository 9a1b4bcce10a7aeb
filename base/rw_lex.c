/*
 * rw_lex.c - MySQL/MariaDB lexer: splits statement text into tokens that
 * carry their byte offsets in the original text. It never fails and never
 * reads past the given length (the input need not be NUL-terminated):
 * bytes it cannot classify become one-byte RW_TOK_OTHER tokens, and an
 * unterminated string, quoted identifier or comment runs to the end.
 *
 * Executable comments ("/ *!50100 ... * /", "/ *M!100301 ... * /") are lexed
 * as their content: the opener and version digits are skipped, and so is
 * the closing "* /" when it is reached. The lexer keeps no state for this
 * (struct rw_lexer has none to spare), so any "* /" met outside a comment
 * is skipped; that pair never forms valid SQL otherwise. The one exception
 * is "* / *", which is "*" followed by a comment ("t.* / * c * /").
 */
#include "rw_lex.h"

#include <stdlib.h>
#include <string.h>

/*
 * True for the bytes a bare identifier is made of: ASCII letters and
 * digits, '_', '$', and every byte >= 0x80 (UTF-8 sequences).
 */
static bool
is_ident_byte(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_' || c == '$' || c >= 0x80;
}

/* True for an ASCII decimal digit. */
static bool
is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

/* True for an ASCII hexadecimal digit. */
static bool
is_hex(unsigned char c)
{
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* True for the white space MariaDB skips between tokens. */
static bool
is_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* Byte at I of LX's input, or 0 when I is at or past the end. */
static unsigned char
at(const struct rw_lexer *lx, size_t i)
{
    return i < lx->len ? (unsigned char)lx->src[i] : 0;
}

/* Whether a backslash escapes the next byte in LX's strings (not under
 * NO_BACKSLASH_ESCAPES). */
static bool
str_backslash(const struct rw_lexer *lx)
{
    return (lx->mode & RW_MODE_NO_BACKSLASH_ESCAPES) == 0;
}

/* Build a token of KIND covering [OFF, END). */
static struct rw_tok
mk(enum rw_tok_kind kind, size_t off, size_t end)
{
    struct rw_tok t;

    t.kind = kind;
    t.off = off;
    t.len = end - off;
    return t;
}

/*
 * Offset just past the quoted run that opens at I with quote byte Q
 * (string or quoted identifier). A doubled quote stands for one quote;
 * when BACKSLASH, a backslash escapes the next byte. Unterminated: LEN.
 * Sets *CLOSED (when not NULL) to whether the closing quote was found.
 */
static size_t
scan_quoted_ex(const struct rw_lexer *lx, size_t i, unsigned char q, bool backslash,
               bool *closed)
{
    if (closed != NULL) {
        *closed = false;
    }
    i++;
    while (i < lx->len) {
        unsigned char c = (unsigned char)lx->src[i];

        if (backslash && c == '\\') {
            i += 2;
            continue;
        }
        if (c == q) {
            if (at(lx, i + 1) == q && i + 1 < lx->len) {
                i += 2;
                continue;
            }
            if (closed != NULL) {
                *closed = true;
            }
            return i + 1;
        }
        i++;
    }
    return lx->len;
}

/* scan_quoted_ex() without the CLOSED report. */
static size_t
scan_quoted(const struct rw_lexer *lx, size_t i, unsigned char q, bool backslash)
{
    return scan_quoted_ex(lx, i, q, backslash, NULL);
}

/* Offset just past a run of identifier bytes starting at I. */
static size_t
scan_ident(const struct rw_lexer *lx, size_t i)
{
    while (i < lx->len && is_ident_byte((unsigned char)lx->src[i])) {
        i++;
    }
    return i;
}

/*
 * Lex a token that starts with a digit, or with '.' followed by a digit,
 * at I: 0x1F, 0b01, 12, 1.5, .5e3, 1e-3. A digit run followed by letters
 * that do not make a number ("1abc", "0xzz", "2e") is an identifier.
 */
static struct rw_tok
lex_number(const struct rw_lexer *lx, size_t i)
{
    size_t start = i;
    bool dot = false;

    if (at(lx, i) == '0' && (at(lx, i + 1) == 'x' || at(lx, i + 1) == 'b')) {
        bool hex = at(lx, i + 1) == 'x';
        size_t j = i + 2;

        while (j < lx->len && (hex ? is_hex(at(lx, j)) : (at(lx, j) == '0' || at(lx, j) == '1'))) {
            j++;
        }
        if (j > i + 2 && !(j < lx->len && is_ident_byte(at(lx, j)))) {
            return mk(RW_TOK_NUMBER, start, j);
        }
        return mk(RW_TOK_IDENT, start, scan_ident(lx, i));
    }
    while (i < lx->len && is_digit(at(lx, i))) {
        i++;
    }
    if (i < lx->len && at(lx, i) == '.') {
        dot = true;
        i++;
        while (i < lx->len && is_digit(at(lx, i))) {
            i++;
        }
    }
    if (i < lx->len && (at(lx, i) == 'e' || at(lx, i) == 'E')) {
        size_t j = i + 1;

        if (j < lx->len && (at(lx, j) == '+' || at(lx, j) == '-')) {
            j++;
        }
        if (j < lx->len && is_digit(at(lx, j))) {
            i = j;
            while (i < lx->len && is_digit(at(lx, i))) {
                i++;
            }
            return mk(RW_TOK_NUMBER, start, i);
        }
    }
    if (!dot && i < lx->len && is_ident_byte(at(lx, i))) {
        return mk(RW_TOK_IDENT, start, scan_ident(lx, i));
    }
    return mk(RW_TOK_NUMBER, start, i);
}

/*
 * Lex a user or system variable at I ('@'): @name, @'name', @"name",
 * @`name`, @@name, @@global.name. A lone '@' is an OP.
 */
static struct rw_tok
lex_var(const struct rw_lexer *lx, size_t i)
{
    size_t start = i;
    unsigned char c;

    i++;
    if (at(lx, i) == '@' && i < lx->len) {
        i++;
        c = at(lx, i);
        if (i < lx->len && (c == '`' || c == '\'' || c == '"')) {
            return mk(RW_TOK_VAR, start, scan_quoted(lx, i, c, c != '`' && str_backslash(lx)));
        }
        i = scan_ident(lx, i);
        if (at(lx, i) == '.' && i + 1 < lx->len && is_ident_byte(at(lx, i + 1))) {
            i = scan_ident(lx, i + 1);
        }
        return mk(RW_TOK_VAR, start, i);
    }
    c = at(lx, i);
    if (i < lx->len && (c == '`' || c == '\'' || c == '"')) {
        return mk(RW_TOK_VAR, start, scan_quoted(lx, i, c, c != '`' && str_backslash(lx)));
    }
    if (i < lx->len && is_ident_byte(c)) {
        return mk(RW_TOK_VAR, start, scan_ident(lx, i));
    }
    return mk(RW_TOK_OP, start, i);
}

/* Lex an operator or punctuation token at I, longest match first. */
static struct rw_tok
lex_op(const struct rw_lexer *lx, size_t i)
{
    static const char *const ops3[] = {"<=>", "->>"};
    static const char *const ops2[] = {"<=", ">=", "<>", "!=", ":=", "||", "&&",
                                       "<<", ">>", "->"};
    size_t k;

    if (i + 3 <= lx->len) {
        for (k = 0; k < sizeof(ops3) / sizeof(ops3[0]); k++) {
            if (memcmp(lx->src + i, ops3[k], 3) == 0) {
                return mk(RW_TOK_OP, i, i + 3);
            }
        }
    }
    if (i + 2 <= lx->len) {
        for (k = 0; k < sizeof(ops2) / sizeof(ops2[0]); k++) {
            if (memcmp(lx->src + i, ops2[k], 2) == 0) {
                return mk(RW_TOK_OP, i, i + 2);
            }
        }
    }
    if (strchr("()[]{},.;=<>!+-*/%&|^~:", at(lx, i)) != NULL && at(lx, i) != 0) {
        return mk(RW_TOK_OP, i, i + 1);
    }
    return mk(RW_TOK_OTHER, i, i + 1);
}

/*
 * Skip white space, ordinary comments, executable-comment markers and
 * their closing "* /" from LX->pos, leaving LX->pos at the next token. When
 * that token is a hint comment, *HINT_END is set to the offset just past
 * it (LX->pos is its start); otherwise *HINT_END is 0.
 */
static void
skip_blank(struct rw_lexer *lx, size_t *hint_end)
{
    *hint_end = 0;
    while (lx->pos < lx->len) {
        size_t i = lx->pos;
        unsigned char c = at(lx, i);

        if (is_space(c)) {
            lx->pos++;
        } else if (c == '#' ||
                   (c == '-' && at(lx, i + 1) == '-' && i + 1 < lx->len &&
                    (i + 2 >= lx->len || at(lx, i + 2) <= ' '))) {
            while (lx->pos < lx->len && lx->src[lx->pos] != '\n') {
                lx->pos++;
            }
        } else if (c == '/' && at(lx, i + 1) == '*' && i + 1 < lx->len) {
            unsigned char c2 = at(lx, i + 2);

            if (i + 2 < lx->len && c2 == '!') {
                lx->pos = i + 3;
            } else if (i + 3 < lx->len && c2 == 'M' && at(lx, i + 3) == '!') {
                lx->pos = i + 4;
            } else {
                size_t j = i + 2;

                while (j + 1 < lx->len && !(lx->src[j] == '*' && lx->src[j + 1] == '/')) {
                    j++;
                }
                j = j + 1 < lx->len ? j + 2 : lx->len;
                if (i + 2 < lx->len && c2 == '+') {
                    *hint_end = j;
                    return;
                }
                lx->pos = j;
                continue;
            }
            /* executable comment: skip the version (5 or 6 digits, MariaDB) */
            {
                size_t n = 0;

                while (n < 6 && is_digit(at(lx, lx->pos + n)) && lx->pos + n < lx->len) {
                    n++;
                }
                if (n >= 5) {
                    lx->pos += n;
                }
            }
        } else if (c == '*' && at(lx, i + 1) == '/' && i + 1 < lx->len &&
                   !(at(lx, i + 2) == '*' && i + 2 < lx->len)) {
            /* the end of an executable comment */
            lx->pos += 2;
        } else {
            return;
        }
    }
}

/* Start lexing LEN bytes at SRC (borrowed for the lexer's life), mode 0. */
void
rw_lex_init(struct rw_lexer *lx, const char *src, size_t len)
{
    rw_lex_init_mode(lx, src, len, 0);
}

/* Start lexing LEN bytes at SRC (borrowed) under the sql_mode flags MODE. */
void
rw_lex_init_mode(struct rw_lexer *lx, const char *src, size_t len, uint32_t mode)
{
    lx->src = src;
    lx->len = src == NULL ? 0 : len;
    lx->pos = 0;
    lx->mode = mode;
}


/*
 * Next token of LX, skipping white space and ordinary comments. Returns an
 * RW_TOK_EOF token (off = input length, len 0) at the end, every time.
 */
struct rw_tok
rw_lex_next(struct rw_lexer *lx)
{
    size_t hint_end;
    size_t i;
    unsigned char c;
    struct rw_tok t;

    skip_blank(lx, &hint_end);
    i = lx->pos;
    if (hint_end != 0) {
        t = mk(RW_TOK_HINT, i, hint_end);
    } else if (i >= lx->len) {
        return mk(RW_TOK_EOF, lx->len, lx->len);
    } else {
        c = at(lx, i);
        if ((c == 'x' || c == 'X' || c == 'b' || c == 'B') && at(lx, i + 1) == '\'' &&
            i + 1 < lx->len) {
            t = mk(RW_TOK_NUMBER, i, scan_quoted(lx, i + 1, '\'', false));
        } else if (is_digit(c) ||
                   (c == '.' && is_digit(at(lx, i + 1)) && i + 1 < lx->len &&
                    !(i > 0 && (is_ident_byte((unsigned char)lx->src[i - 1]) ||
                                lx->src[i - 1] == '`')))) {
            t = lex_number(lx, i);
        } else if (is_ident_byte(c)) {
            t = mk(RW_TOK_IDENT, i, scan_ident(lx, i));
        } else if (c == '`' || (c == '"' && (lx->mode & RW_MODE_ANSI_QUOTES) != 0)) {
            t = mk(RW_TOK_QIDENT, i, scan_quoted(lx, i, c, false));
        } else if (c == '\'' || c == '"') {
            t = mk(RW_TOK_STRING, i, scan_quoted(lx, i, c, str_backslash(lx)));
        } else if (c == '?') {
            t = mk(RW_TOK_PARAM, i, i + 1);
        } else if (c == '@') {
            t = lex_var(lx, i);
        } else {
            t = lex_op(lx, i);
        }
    }
    if (t.off + t.len > lx->len) {
        t.len = lx->len - t.off;
    }
    lx->pos = t.off + t.len;
    return t;
}

/* True when TOK is an IDENT equal to WORD, ignoring ASCII case. */
bool
rw_tok_is(const struct rw_lexer *lx, struct rw_tok tok, const char *word)
{
    size_t k;

    if (tok.kind != RW_TOK_IDENT || strlen(word) != tok.len || tok.off + tok.len > lx->len) {
        return false;
    }
    for (k = 0; k < tok.len; k++) {
        unsigned char a = (unsigned char)lx->src[tok.off + k];
        unsigned char b = (unsigned char)word[k];

        if (a >= 'A' && a <= 'Z') {
            a = (unsigned char)(a - 'A' + 'a');
        }
        if (b >= 'A' && b <= 'Z') {
            b = (unsigned char)(b - 'A' + 'a');
        }
        if (a != b) {
            return false;
        }
    }
    return true;
}

/* True when TOK is an OP token equal to OP exactly ("(", "<=", ...). */
bool
rw_tok_is_op(const struct rw_lexer *lx, struct rw_tok tok, const char *op)
{
    return tok.kind == RW_TOK_OP && strlen(op) == tok.len && tok.off + tok.len <= lx->len &&
           memcmp(lx->src + tok.off, op, tok.len) == 0;
}

/*
 * Decode the body of a quoted token (between the quotes, BODY_LEN bytes at
 * BODY, quote byte Q) into DST (at least BODY_LEN + 1 bytes): doubled quotes
 * become one, and when BACKSLASH the MariaDB escapes are decoded (\% and \_
 * stay two bytes, as MariaDB keeps them for LIKE). Returns the length.
 */
static size_t
unquote(const char *body, size_t body_len, char q, bool backslash, char *dst)
{
    size_t i = 0;
    size_t n = 0;

    while (i < body_len) {
        char c = body[i];

        if (backslash && c == '\\' && i + 1 < body_len) {
            char e = body[i + 1];

            switch (e) {
            case '0': dst[n++] = '\0'; break;
            case 'b': dst[n++] = '\b'; break;
            case 'n': dst[n++] = '\n'; break;
            case 'r': dst[n++] = '\r'; break;
            case 't': dst[n++] = '\t'; break;
            case 'Z': dst[n++] = '\032'; break;
            case '%':
            case '_':
                dst[n++] = '\\';
                dst[n++] = e;
                break;
            default: dst[n++] = e; break;
            }
            i += 2;
            continue;
        }
        if (c == q && i + 1 < body_len && body[i + 1] == q) {
            dst[n++] = q;
            i += 2;
            continue;
        }
        dst[n++] = c;
        i++;
    }
    dst[n] = '\0';
    return n;
}

/*
 * Copy the value of TOK into a new NUL-terminated string (caller frees):
 * an identifier unquoted (backticks removed, `` -> `), a string literal
 * unquoted and unescaped, other tokens verbatim. An unterminated quoted
 * token yields its text after the opening quote. Returns NULL only on
 * out-of-memory.
 */
char *
rw_tok_text(const struct rw_lexer *lx, struct rw_tok tok)
{
    const char *p;
    size_t len;
    char *dst;

    if (tok.off > lx->len) {
        tok.off = lx->len;
    }
    if (tok.len > lx->len - tok.off) {
        tok.len = lx->len - tok.off;
    }
    p = lx->src == NULL ? "" : lx->src + tok.off;
    len = tok.len;
    dst = malloc(len + 1);
    if (dst == NULL) {
        return NULL;
    }
    if ((tok.kind == RW_TOK_QIDENT || tok.kind == RW_TOK_STRING) && len >= 1) {
        char q = p[0];
        size_t body = len - 1;
        struct rw_lexer sub;
        bool closed;

        /* drop the closing quote unless the token is unterminated */
        bool bs = tok.kind == RW_TOK_STRING && str_backslash(lx);

        rw_lex_init_mode(&sub, p, len, lx->mode);
        scan_quoted_ex(&sub, 0, (unsigned char)q, bs, &closed);
        if (closed && body > 0) {
            body--;
        }
        unquote(p + 1, body, q, bs, dst);
        return dst;
    }
    memcpy(dst, p, len);
    dst[len] = '\0';
    return dst;
}

/*
 * Tokenize all of SRC (LEN bytes) into a malloc'd array ending with an
 * RW_TOK_EOF token; stores the count (without EOF) in *N. Caller frees.
 * Returns NULL (and *N = 0) only on out-of-memory.
 */
struct rw_tok *
rw_lex_all(const char *src, size_t len, size_t *n)
{
    return rw_lex_all_mode(src, len, 0, n);
}

/* rw_lex_all under the sql_mode flags MODE. */
struct rw_tok *
rw_lex_all_mode(const char *src, size_t len, uint32_t mode, size_t *n)
{
    struct rw_lexer lx;
    struct rw_tok *toks;
    size_t cap = 16;
    size_t cnt = 0;

    *n = 0;
    toks = malloc(cap * sizeof(*toks));
    if (toks == NULL) {
        return NULL;
    }
    rw_lex_init_mode(&lx, src, len, mode);
    for (;;) {
        struct rw_tok t = rw_lex_next(&lx);

        if (cnt == cap) {
            struct rw_tok *grown = realloc(toks, 2 * cap * sizeof(*toks));

            if (grown == NULL) {
                free(toks);
                return NULL;
            }
            toks = grown;
            cap *= 2;
        }
        toks[cnt] = t;
        if (t.kind == RW_TOK_EOF) {
            break;
        }
        cnt++;
    }
    *n = cnt;
    return toks;
}

/* Does the text hold an executable comment opener, "/ *!" or "/ *M!"? */
static bool
has_executable_comment(const char *src, size_t len)
{
    size_t i;
    for (i = 0; i + 2 < len; i++) {
        if (src[i] == '/' && src[i + 1] == '*' &&
            (src[i + 2] == '!' || (src[i + 2] == 'M' && i + 3 < len && src[i + 3] == '!'))) {
            return true;
        }
    }
    return false;
}

/* Words that open a compound statement when they start one (MariaDB KB
 * "Using Compound Statements Outside of Stored Programs"). */
static const char *const COMPOUND_WORDS[] = {
    "IF", "CASE", "LOOP", "WHILE", "REPEAT", "FOR", "DECLARE", NULL,
};

/* Is TOK, the first token of a statement, a compound statement's opener? */
static bool
opens_compound(const struct rw_lexer *lx, struct rw_tok tok)
{
    size_t i;
    for (i = 0; COMPOUND_WORDS[i] != NULL; i++) {
        if (rw_tok_is(lx, tok, COMPOUND_WORDS[i])) {
            return true;
        }
    }
    return false;
}

int
rw_split_statements(const struct rw_lexer *lx, const struct rw_tok *tok, size_t ntok,
                    struct rw_span **spans, size_t *n)
{
    const char *src = lx->src;
    struct rw_tok t, first = {RW_TOK_EOF, 0, 0};
    struct rw_span *out = NULL;
    size_t cnt = 0, cap = 0, start = 0, in_stmt = 0, i;
    bool begin_first = false;

    *spans = NULL;
    *n = 0;
    for (i = 0; i <= ntok; i++) {
        bool end = i == ntok;
        t = end ? (struct rw_tok){RW_TOK_EOF, lx->len, 0} : tok[i];
        if (end || (t.kind == RW_TOK_OP && t.len == 1 && src[t.off] == ';')) {
            if (in_stmt == 0) {
                if (end) {
                    break; /* a trailing `;`, or nothing at all */
                }
                free(out);
                return 0; /* an empty statement between two `;` */
            }
            if (cnt == cap) {
                size_t ncap = cap == 0 ? 4 : 2 * cap;
                struct rw_span *grown = realloc(out, ncap * sizeof(*out));
                if (grown == NULL) {
                    free(out);
                    return -1;
                }
                out = grown;
                cap = ncap;
            }
            out[cnt].off = start;
            out[cnt].len = t.off - start;
            cnt++;
            start = t.off + 1;
            in_stmt = 0;
            begin_first = false;
            continue;
        }
        if (t.kind == RW_TOK_HINT) {
            continue;
        }
        if (in_stmt == 0) {
            first = t;
            if (opens_compound(lx, t)) {
                free(out);
                return 0;
            }
            begin_first = rw_tok_is(lx, t, "BEGIN");
        } else if (in_stmt == 1) {
            /* `label:` opens a labelled block; BEGIN NOT ATOMIC a compound one;
             * BEGIN [WORK] alone starts a transaction */
            if ((first.kind == RW_TOK_IDENT && rw_tok_is_op(lx, t, ":")) ||
                (begin_first && !rw_tok_is(lx, t, "WORK"))) {
                free(out);
                return 0;
            }
        }
        if (in_stmt > 0 && rw_tok_is(lx, t, "BEGIN")) {
            free(out);
            return 0; /* CREATE PROCEDURE ... BEGIN ... END and the like */
        }
        in_stmt++;
    }
    /* a `;` inside an executable comment would be read as a separator: with
     * one the text is split only when it has no `;` before its end */
    if (cnt == 0 || (cnt > 1 && has_executable_comment(src, lx->len))) {
        free(out);
        return 0;
    }
    *spans = out;
    *n = cnt;
    return 1;
}
