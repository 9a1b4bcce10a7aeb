/*
 * rw_dialect.c - the MySQL-dialect bridge: translates MariaDB statement text
 * into text PostgreSQL's grammar (libpg_query) accepts, token by token, and
 * records for every output byte the offset in the original it came from, so
 * parse-tree locations map back to the original text (rewrite splices the
 * original; it never deparses). The exact mappings are listed in
 * rw_dialect.h.
 *
 *   original --rw_lex_all--> tokens --emit_range--> text + orig_off[]
 *
 *   - a token copied verbatim maps byte for byte;
 *   - a translated token maps each output byte k to tok.off + min(k, len-1),
 *     so its first byte lands on the token start;
 *   - the white space between two tokens is copied (byte for byte) when the
 *     original gap is pure white space, otherwise (a comment, a dropped token,
 *     a reordering) it becomes one space mapped to the end of the previous
 *     token; so a node's [start, end) maps to the original [start, end).
 */
#include "rw_dialect.h"
#include "rw_lex.h"
#include "rw_sqlmode.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TR_UNSUPPORTED (-1)     /* construct whose translation would change meaning */
#define TR_NOMEM (-2)           /* out of memory */
#define TR_MAX_DEPTH 200        /* nesting bound for the recursive emitters */

/* Translation state for one statement. */
struct tr {
    struct rw_lexer lx;         /* over the original text (for rw_tok_is & co) */
    const char *src;            /* original text (borrowed) */
    size_t src_len;             /* its length */
    struct rw_tok *tk;          /* tokens, tk[n] is EOF (owned) */
    size_t n;                   /* tokens without EOF */
    size_t *match;              /* match[i]: index of the ")" closing "(" at i, or n (owned) */
    int *pnum;                  /* pnum[i]: 1-based number of the ? at i (owned) */
    char *out;                  /* translated text (owned until handed to the caller) */
    size_t *map;                /* map[k]: original offset of out[k] (owned, idem) */
    size_t len;                 /* bytes in out */
    size_t cap;                 /* allocated entries of out and map */
    size_t last_end;            /* original offset just past the last emitted piece */
    int case_depth;             /* open CASE ... END */
    int depth;                  /* recursion depth of emit_range */
    int rc;                     /* 0, TR_UNSUPPORTED or TR_NOMEM */
    uint32_t mode;              /* RW_MODE_* flags the text is read under */
    size_t *rmatch;             /* rmatch[i]: index of the "(" opening ")" at i, or n (owned) */
    bool *chain;                /* chain[i]: a PIPES_AS_CONCAT chain starts at token i (owned) */
};

/* PostgreSQL reserved (or type/function-name) keywords that MariaDB accepts
 * as bare identifiers; see want_quote() for the contexts that keep them. */
static const char *const pg_only_reserved[] = {
    "analyse", "any", "array", "asymmetric", "authorization", "cast", "collation",
    "concurrently", "current_catalog", "current_schema", "deferrable", "do", "end",
    "freeze", "full", "ilike", "initially", "isnull", "lateral", "notnull", "offset",
    "only", "overlaps", "placing", "session_user", "similar", "some", "symmetric",
    "tablesample", "user", "variadic", "verbose",
};

/* Of the above, the PG type/function-name keywords: legal as function names. */
static const char *const pg_type_func[] = {
    "authorization", "collation", "concurrently", "current_schema", "freeze", "full",
    "ilike", "isnull", "notnull", "overlaps", "similar", "tablesample", "verbose",
};

/* Words PG accepts as a column label only after AS (its AS_LABEL keywords)
 * while MariaDB takes them bare: `expr month` -> `expr "month"` (checked
 * against libpg_query 15 and MariaDB 10.11; see alias_position()). */
static const char *const pg_as_label_only[] = {
    "day", "filter", "hour", "minute", "month", "second", "window", "within", "without", "year",
};

/* Tokens that may follow a select-list alias. */
static const char *const alias_follow_kw[] = {
    "from", "into", "where", "union", "except", "intersect", "order", "limit", "having",
};

/* MariaDB functions whose name PG's grammar reserves: emitted "quoted"(...). */
static const char *const quoted_funcs[] = {
    "char", "time", "timestamp", "values", "user", "session_user", "interval",
};

/* Functions that PG knows as keywords without parentheses: NAME() -> NAME. */
static const char *const nullary_kw_funcs[] = {
    "current_date", "current_time", "current_timestamp", "localtime", "localtimestamp",
    "current_user", "current_role",
};

/*
 * Built-in functions MariaDB recognises only when "(" follows the name
 * immediately, unless IGNORE_SPACE (its sql/lex.h "sql_functions" list).
 * Checked against MariaDB 10.11 (SELECT f (x) errors with sql_mode='',
 * works with 'IGNORE_SPACE'): every name below. Checked and NOT in the list
 * (a gap is accepted in both modes): AVG, CONVERT, SYSDATE, UTC_DATE,
 * UTC_TIME, UTC_TIMESTAMP, ROW_NUMBER, LAST_VALUE, CURRENT_DATE,
 * CURRENT_TIME, CURRENT_TIMESTAMP, LOCALTIME, LOCALTIMESTAMP, CURRENT_USER,
 * DATABASE, USER, CONCAT, IFNULL, COALESCE, DATE_FORMAT, TIMESTAMPADD,
 * TIMESTAMPDIFF, CHAR, TIME, TIMESTAMP, INTERVAL, EXISTS.
 */
static const char *const no_space_funcs[] = {
    "adddate", "bit_and", "bit_or", "bit_xor", "cast", "count", "cume_dist", "curdate",
    "curtime", "date_add", "date_sub", "dense_rank", "extract", "first_value", "group_concat",
    "json_arrayagg", "json_objectagg", "lag", "lead", "max", "median", "mid", "min", "now",
    "nth_value", "ntile", "percent_rank", "percentile_cont", "percentile_disc", "position",
    "rank", "session_user", "std", "stddev", "stddev_pop", "stddev_samp", "subdate", "substr",
    "substring", "sum", "system_user", "trim", "var_pop", "var_samp", "variance",
};

/* Words after which an operand starts a new PIPES_AS_CONCAT chain: they
 * bind more loosely than || in both MariaDB and PG (see concat_prepass). */
static const char *const concat_lead_kw[] = {
    "select", "distinct", "all", "where", "having", "on", "and", "or", "not", "when",
    "then", "else", "case", "by", "like", "between", "regexp", "rlike", "xor", "escape",
    "mod", "return",
};

/* Words that may follow the last operand of a PIPES_AS_CONCAT chain. */
static const char *const concat_follow_kw[] = {
    "from", "as", "and", "or", "is", "like", "not", "between", "in", "then", "when", "else",
    "end", "asc", "desc", "mod", "xor", "regexp", "rlike", "where", "group", "order",
    "having", "limit", "union", "escape", "sounds", "except", "intersect", "into", "for",
    "window",
};

/* SELECT modifiers PG does not have; dropped. */
static const char *const select_modifiers[] = {
    "sql_no_cache", "sql_cache", "sql_calc_found_rows", "high_priority", "straight_join",
    "sql_small_result", "sql_big_result", "sql_buffer_result",
};

/* INTERVAL units (MariaDB "Date and Time Units"). */
static const char *const interval_units[] = {
    "microsecond", "second", "minute", "hour", "day", "week", "month", "quarter", "year",
    "second_microsecond", "minute_microsecond", "minute_second", "hour_microsecond",
    "hour_second", "hour_minute", "day_microsecond", "day_second", "day_minute", "day_hour",
    "year_month",
};

/* Words that end the expression of an INTERVAL when no unit came first. */
static const char *const interval_stops[] = {
    "from", "where", "and", "or", "then", "else", "end", "when", "as", "group", "order",
    "having", "limit", "union", "on", "xor",
};

/* Bare words that may precede a string literal that is not an alias. */
static const char *const string_lead_kw[] = {
    "against", "all", "and", "any", "as", "between", "binary", "by", "case", "character",
    "charset", "collate", "comment", "date", "datetime", "default", "describe", "distinct",
    "distinctrow", "div", "do", "else", "elseif", "escape", "except", "exists", "explain",
    "format", "from", "having", "high_priority", "if", "in", "intersect", "interval", "into",
    "is", "like", "limit", "mod", "not", "on", "or", "over", "partition", "password",
    "regexp", "return", "returns", "rlike", "rows", "select", "separator", "set", "show",
    "some", "sounds", "sql_big_result", "sql_buffer_result", "sql_cache",
    "sql_calc_found_rows", "sql_no_cache", "sql_small_result", "straight_join", "then",
    "time", "timestamp", "to", "union", "until", "using", "value", "values", "when",
    "where", "while", "with", "xor",
};

static size_t emit_range(struct tr *t, size_t i, size_t j);
static size_t emit_one(struct tr *t, size_t i, size_t j);

/* True when token I (< J) is the IDENT WORD, ignoring case. */
static bool
kw(const struct tr *t, size_t i, size_t j, const char *word)
{
    return i < j && i < t->n && rw_tok_is(&t->lx, t->tk[i], word);
}

/* True when token I (< J) is the operator OP. */
static bool
op(const struct tr *t, size_t i, size_t j, const char *o)
{
    return i < j && i < t->n && rw_tok_is_op(&t->lx, t->tk[i], o);
}

/* True when token I (< J) is of KIND. */
static bool
kind(const struct tr *t, size_t i, size_t j, enum rw_tok_kind k)
{
    return i < j && i < t->n && t->tk[i].kind == k;
}

/* Index in LIST (N words) of the IDENT token I, ignoring case, or -1. */
static int
kw_in(const struct tr *t, size_t i, size_t j, const char *const *list, size_t n)
{
    size_t k;

    if (!kind(t, i, j, RW_TOK_IDENT)) {
        return -1;
    }
    for (k = 0; k < n; k++) {
        if (rw_tok_is(&t->lx, t->tk[i], list[k])) {
            return (int)k;
        }
    }
    return -1;
}

#define KW_IN(t, i, j, list) kw_in((t), (i), (j), (list), sizeof(list) / sizeof((list)[0]))

/* Make room for EXTRA more output bytes (plus the final NUL / map entry). */
static bool
reserve(struct tr *t, size_t extra)
{
    size_t need = t->len + extra + 1;
    size_t cap = t->cap;
    char *o;
    size_t *m;

    if (t->rc != 0) {
        return false;
    }
    if (need <= cap) {
        return true;
    }
    while (cap < need) {
        cap = cap < 64 ? 64 : cap * 2;
    }
    o = realloc(t->out, cap);
    if (o == NULL) {
        t->rc = TR_NOMEM;
        return false;
    }
    t->out = o;
    m = realloc(t->map, cap * sizeof(*m));
    if (m == NULL) {
        t->rc = TR_NOMEM;
        return false;
    }
    t->map = m;
    t->cap = cap;
    return true;
}

/*
 * Append N bytes S, output byte k mapped to OFF + min(k, SPAN - 1) (to OFF
 * when SPAN is 0).
 */
static void
put(struct tr *t, const char *s, size_t n, size_t off, size_t span)
{
    size_t k;

    if (!reserve(t, n)) {
        return;
    }
    for (k = 0; k < n; k++) {
        t->out[t->len] = s[k];
        t->map[t->len] = off + (span == 0 ? 0 : (k < span ? k : span - 1));
        t->len++;
    }
}

/* True for a byte that may continue a PG identifier, number or quote. */
static bool
wordish(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_' || c == '$' || c == '"' || c == '\'' || c >= 0x80;
}

/* True for a byte PG's scanner may glue into a multi-character operator. */
static bool
opish(unsigned char c)
{
    return c != 0 && strchr("~!@#^&|`?+-*/%<>=", c) != NULL;
}

/* True when PG's scanner would read bytes A then B as one token. */
static bool
would_glue(unsigned char a, unsigned char b)
{
    return (wordish(a) && wordish(b)) || (opish(a) && opish(b));
}

/*
 * Separate the next piece (original offset OFF, first output byte FIRST)
 * from what is already emitted: copy a pure white-space original gap, else
 * put one space when the gap was not empty or the bytes would glue.
 */
static void
sep(struct tr *t, size_t off, unsigned char first)
{
    unsigned char last;

    if (t->len == 0) {
        return;
    }
    last = (unsigned char)t->out[t->len - 1];
    if (off > t->last_end) {
        size_t k;

        for (k = t->last_end; k < off; k++) {
            unsigned char c = (unsigned char)t->src[k];

            if (!(c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v')) {
                break;
            }
        }
        if (k == off) {
            put(t, t->src + t->last_end, off - t->last_end, t->last_end, off - t->last_end);
            return;
        }
        put(t, " ", 1, t->last_end, 0);
        return;
    }
    if (off < t->last_end || would_glue(last, first)) {
        put(t, " ", 1, t->last_end, 0);
    }
}

/*
 * Emit the translated text S (N bytes) for the original span [OFF, OFF+SPAN)
 * and move the gap reference past that span.
 */
static void
piece(struct tr *t, const char *s, size_t n, size_t off, size_t span)
{
    if (n == 0) {
        return;
    }
    sep(t, off, (unsigned char)s[0]);
    put(t, s, n, off, span);
    t->last_end = off + span;
}

/*
 * Append S (N bytes) right after what was emitted, for the original span
 * [OFF, OFF+SPAN), separated only when bytes would glue: for the inner
 * parts of one translated construct ("mvp_user_var(" + "'x'" + ")").
 */
static void
glue(struct tr *t, const char *s, size_t n, size_t off, size_t span)
{
    if (n == 0) {
        return;
    }
    if (t->len > 0 && would_glue((unsigned char)t->out[t->len - 1], (unsigned char)s[0])) {
        put(t, " ", 1, t->last_end, 0);
    }
    put(t, s, n, off, span);
    t->last_end = off + span;
}

/* piece() for a NUL-terminated S standing for token I. */
static void
piece_tok(struct tr *t, const char *s, size_t i)
{
    piece(t, s, strlen(s), t->tk[i].off, t->tk[i].len);
}

/* Emit token I unchanged. */
static void
verbatim(struct tr *t, size_t i)
{
    piece(t, t->src + t->tk[i].off, t->tk[i].len, t->tk[i].off, t->tk[i].len);
}

/*
 * Decode the quoted token I (string or backtick identifier) into a new
 * buffer (*DST, caller frees, *DLEN bytes, NUL-terminated): doubled quotes
 * become one; for strings, backslash escapes are decoded as MariaDB does
 * (\% and \_ stay two bytes). Sets *HAS_NUL when the value holds a NUL.
 * Returns false for an unterminated token (t->rc untouched) or on OOM
 * (t->rc set).
 */
static bool
decode_quoted(struct tr *t, size_t i, char **dst, size_t *dlen, bool *has_nul)
{
    const char *p = t->src + t->tk[i].off;
    size_t len = t->tk[i].len;
    bool bs = t->tk[i].kind == RW_TOK_STRING && (t->mode & RW_MODE_NO_BACKSLASH_ESCAPES) == 0;
    char q = p[0];
    size_t k = 1;
    size_t n = 0;
    char *d;

    *has_nul = false;
    *dst = NULL;
    d = malloc(len + 1);
    if (d == NULL) {
        t->rc = TR_NOMEM;
        return false;
    }
    for (;;) {
        char c;

        if (k >= len) {
            free(d);
            return false;
        }
        c = p[k];
        if (bs && c == '\\') {
            char e;

            if (k + 1 >= len) {
                free(d);
                return false;
            }
            e = p[k + 1];
            switch (e) {
            case '0': d[n++] = '\0'; break;
            case 'b': d[n++] = '\b'; break;
            case 'n': d[n++] = '\n'; break;
            case 'r': d[n++] = '\r'; break;
            case 't': d[n++] = '\t'; break;
            case 'Z': d[n++] = '\032'; break;
            case '%':
            case '_':
                d[n++] = '\\';
                d[n++] = e;
                break;
            default: d[n++] = e; break;
            }
            k += 2;
            continue;
        }
        if (c == q) {
            if (k + 1 < len && p[k + 1] == q) {
                d[n++] = q;
                k += 2;
                continue;
            }
            break;
        }
        d[n++] = c;
        k++;
    }
    if (memchr(d, '\0', n) != NULL) {
        *has_nul = true;
    }
    d[n] = '\0';
    *dst = d;
    *dlen = n;
    return true;
}

/*
 * Append to the growing buffer *B (*BLEN bytes, *BCAP allocated) the N
 * bytes S with every byte equal to Q doubled. Returns false on OOM.
 */
static bool
cat_doubled(char **b, size_t *blen, size_t *bcap, const char *s, size_t n, char q)
{
    size_t k;

    for (k = 0; k < n; k++) {
        if (*blen + 2 >= *bcap) {
            size_t cap = *bcap < 32 ? 32 : *bcap * 2;
            char *nb = realloc(*b, cap);

            if (nb == NULL) {
                return false;
            }
            *b = nb;
            *bcap = cap;
        }
        if (s[k] == q) {
            (*b)[(*blen)++] = q;
        }
        (*b)[(*blen)++] = s[k];
    }
    return true;
}

/*
 * Emit the text between quotes Q (with Q doubled) built from N bytes VAL,
 * as one piece for the original span [OFF, OFF+SPAN); when TIGHT, glued
 * to the previous output (see glue()).
 */
static void
emit_quoted(struct tr *t, const char *val, size_t n, char q, size_t off, size_t span, bool tight)
{
    size_t bcap = n * 2 + 3;
    size_t blen = 0;
    char *b = malloc(bcap);

    if (b == NULL) {
        t->rc = TR_NOMEM;
        return;
    }
    b[blen++] = q;
    if (!cat_doubled(&b, &blen, &bcap, val, n, q)) {
        free(b);
        t->rc = TR_NOMEM;
        return;
    }
    b[blen++] = q;
    if (tight) {
        glue(t, b, blen, off, span);
    } else {
        piece(t, b, blen, off, span);
    }
    free(b);
}

/* `ident` -> "ident" (embedded " doubled). */
static size_t
emit_qident(struct tr *t, size_t i)
{
    char *v;
    size_t n;
    bool nul;

    if (!decode_quoted(t, i, &v, &n, &nul)) {
        if (t->rc == 0) {
            t->rc = TR_UNSUPPORTED;
        }
        return i + 1;
    }
    emit_quoted(t, v, n, '"', t->tk[i].off, t->tk[i].len, false);
    free(v);
    return i + 1;
}

/*
 * Whether the string literal at I is a column alias: after AS, or right
 * after an operand (`x`, ")", a number, ?, a bare word that is not a
 * keyword that takes a string operand). PG would read `a 'b'` as a typed
 * literal 'b'::a.
 */
static bool
string_is_alias(const struct tr *t, size_t i)
{
    const struct rw_tok *p;

    if (i == 0) {
        return false;
    }
    p = &t->tk[i - 1];
    switch (p->kind) {
    case RW_TOK_QIDENT:
    case RW_TOK_NUMBER:
    case RW_TOK_PARAM:
        return true;
    case RW_TOK_OP:
        return rw_tok_is_op(&t->lx, *p, ")");
    case RW_TOK_IDENT:
        if (rw_tok_is(&t->lx, *p, "as")) {
            return true;
        }
        if (t->src[p->off] == '_' ||
            (p->len == 1 && (t->src[p->off] == 'N' || t->src[p->off] == 'n') &&
             p->off + 1 == t->tk[i].off)) {
            return false;       /* introducer */
        }
        return KW_IN(t, i - 1, t->n, string_lead_kw) < 0;
    default:
        return false;
    }
}

/*
 * One or more adjacent string literals (MariaDB concatenates them) ->
 * one PG standard string '...' ('' doubled); after AS, a "quoted" alias.
 * A NUL in the value or an unterminated literal is unsupported.
 */
static size_t
emit_string(struct tr *t, size_t i, size_t j)
{
    char *all = NULL;
    size_t alen = 0;
    size_t k = i;
    bool alias = string_is_alias(t, i);
    size_t off = t->tk[i].off;

    while (kind(t, k, j, RW_TOK_STRING)) {
        char *v;
        size_t n;
        bool nul;
        char *grown;

        if (!decode_quoted(t, k, &v, &n, &nul) || nul) {
            free(v);
            free(all);
            if (t->rc == 0) {
                t->rc = TR_UNSUPPORTED;
            }
            return k + 1;
        }
        grown = realloc(all, alen + n + 1);
        if (grown == NULL) {
            free(v);
            free(all);
            t->rc = TR_NOMEM;
            return k + 1;
        }
        all = grown;
        memcpy(all + alen, v, n);
        alen += n;
        free(v);
        k++;
    }
    emit_quoted(t, all == NULL ? "" : all, alen, alias ? '"' : '\'', off,
                t->tk[k - 1].off + t->tk[k - 1].len - off, false);
    free(all);
    return k;
}

/* 0x1F -> X'1F', 0b101 -> B'101'; X'..' b'..' and decimals unchanged. */
static size_t
emit_number(struct tr *t, size_t i)
{
    const char *p = t->src + t->tk[i].off;
    size_t len = t->tk[i].len;

    if (len > 2 && p[0] == '0' && (p[1] == 'x' || p[1] == 'b')) {
        char *b = malloc(len + 4);
        size_t n = 0;

        if (b == NULL) {
            t->rc = TR_NOMEM;
            return i + 1;
        }
        b[n++] = p[1] == 'x' ? 'X' : 'B';
        b[n++] = '\'';
        if (p[1] == 'x' && (len - 2) % 2 == 1) {
            b[n++] = '0';
        }
        memcpy(b + n, p + 2, len - 2);
        n += len - 2;
        b[n++] = '\'';
        piece(t, b, n, t->tk[i].off, len);
        free(b);
        return i + 1;
    }
    if (len >= 2 && p[1] == '\'' && (len < 3 || p[len - 1] != '\'')) {
        t->rc = TR_UNSUPPORTED;     /* unterminated X'.. / b'.. */
        return i + 1;
    }
    verbatim(t, i);
    return i + 1;
}

/* ? -> $N, numbered in original order. */
static size_t
emit_param(struct tr *t, size_t i)
{
    char b[32];
    int n = snprintf(b, sizeof(b), "$%d", t->pnum[i]);

    piece(t, b, (size_t)n, t->tk[i].off, t->tk[i].len);
    return i + 1;
}

/* @name -> mvp_user_var('name'); @@[scope.]name -> mvp_sys_var('[scope.]name'). */
static size_t
emit_var(struct tr *t, size_t i)
{
    struct rw_tok tok = t->tk[i];
    bool sys = tok.len >= 2 && t->src[tok.off + 1] == '@';
    size_t skip = sys ? 2 : 1;
    struct rw_tok name;
    char *v;
    const char *fn = sys ? "mvp_sys_var(" : "mvp_user_var(";

    name.off = tok.off + skip;
    name.len = tok.len - skip;
    name.kind = RW_TOK_IDENT;
    if (name.len > 0) {
        char c = t->src[name.off];

        if (c == '`') {
            name.kind = RW_TOK_QIDENT;
        } else if (c == '\'' || c == '"') {
            name.kind = RW_TOK_STRING;
        }
    }
    v = rw_tok_text(&t->lx, name);
    if (v == NULL) {
        t->rc = TR_NOMEM;
        return i + 1;
    }
    piece(t, fn, strlen(fn), tok.off, tok.len);
    emit_quoted(t, v, strlen(v), '\'', tok.off, tok.len, true);
    glue(t, ")", 1, tok.off + tok.len, 0);
    free(v);
    return i + 1;
}

/* Emit the identifier token I double-quoted, case kept ("user", "1abc"). */
static size_t
emit_ident_quoted(struct tr *t, size_t i)
{
    emit_quoted(t, t->src + t->tk[i].off, t->tk[i].len, '"', t->tk[i].off, t->tk[i].len, false);
    return i + 1;
}

/* Emit the identifier token I lower-cased and double-quoted: "char"(...). */
static size_t
emit_func_quoted(struct tr *t, size_t i)
{
    size_t n = t->tk[i].len;
    char *b = malloc(n + 1);
    size_t k;

    if (b == NULL) {
        t->rc = TR_NOMEM;
        return i + 1;
    }
    for (k = 0; k < n; k++) {
        char c = t->src[t->tk[i].off + k];

        b[k] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
    }
    emit_quoted(t, b, n, '"', t->tk[i].off, n, false);
    free(b);
    return i + 1;
}

/*
 * Index just past the operand of a prefix operator that starts at K (< J):
 * more prefix operators, then a primary: (...), CASE ... END, a (qualified)
 * name with an optional call, literal(s), ?, @var; an optional COLLATE x.
 * Returns J + 1 when no operand can be delimited.
 */
static size_t
operand_end(const struct tr *t, size_t k, size_t j)
{
    while (op(t, k, j, "!") || op(t, k, j, "-") || op(t, k, j, "+") || op(t, k, j, "~") ||
           kw(t, k, j, "binary")) {
        k++;
    }
    if (k >= j) {
        return j + 1;
    }
    if (op(t, k, j, "(")) {
        k = t->match[k];
        if (k >= j) {
            return j + 1;
        }
        k++;
    } else if (kw(t, k, j, "case")) {
        int d = 0;

        for (; k < j; k++) {
            if (kw(t, k, j, "case")) {
                d++;
            } else if (kw(t, k, j, "end") && --d == 0) {
                break;
            }
        }
        if (k >= j) {
            return j + 1;
        }
        k++;
    } else if (kind(t, k, j, RW_TOK_IDENT) || kind(t, k, j, RW_TOK_QIDENT)) {
        if (t->tk[k].kind == RW_TOK_IDENT && t->src[t->tk[k].off] == '_' &&
            kind(t, k + 1, j, RW_TOK_STRING)) {
            k++;
            while (kind(t, k, j, RW_TOK_STRING)) {
                k++;
            }
        } else {
            k++;
            while (op(t, k, j, ".") && (kind(t, k + 1, j, RW_TOK_IDENT) ||
                                        kind(t, k + 1, j, RW_TOK_QIDENT) ||
                                        op(t, k + 1, j, "*"))) {
                k += 2;
            }
            if (op(t, k, j, "(")) {
                k = t->match[k];
                if (k >= j) {
                    return j + 1;
                }
                k++;
            }
        }
    } else if (kind(t, k, j, RW_TOK_STRING)) {
        while (kind(t, k, j, RW_TOK_STRING)) {
            k++;
        }
    } else if (kind(t, k, j, RW_TOK_NUMBER) || kind(t, k, j, RW_TOK_PARAM) ||
               kind(t, k, j, RW_TOK_VAR)) {
        k++;
    } else {
        return j + 1;
    }
    if (kw(t, k, j, "collate") && k + 1 < j) {
        k += 2;
    }
    return k;
}

/*
 * Start of the primary that ends at token K (walking back): a (qualified)
 * name, a literal run with its _charset / N introducer, ?, @var, a
 * parenthesised group with the (qualified) function name before it.
 * Returns SIZE_MAX when none can be delimited.
 */
static size_t
operand_start(const struct tr *t, size_t k)
{
    size_t n = t->n;

    if (k >= n) {
        return SIZE_MAX;
    }
    if (op(t, k, n, ")")) {
        k = t->rmatch[k];
        if (k >= n) {
            return SIZE_MAX;
        }
        if (k == 0 || !(kind(t, k - 1, n, RW_TOK_IDENT) || kind(t, k - 1, n, RW_TOK_QIDENT)) ||
            KW_IN(t, k - 1, n, concat_lead_kw) >= 0) {
            return k;
        }
        k--;
    } else if (kind(t, k, n, RW_TOK_STRING)) {
        while (k > 0 && kind(t, k - 1, n, RW_TOK_STRING)) {
            k--;
        }
        if (k > 0 && kind(t, k - 1, n, RW_TOK_IDENT) &&
            (t->src[t->tk[k - 1].off] == '_' ||
             (t->tk[k - 1].len == 1 && (t->src[t->tk[k - 1].off] == 'N' ||
                                        t->src[t->tk[k - 1].off] == 'n')))) {
            k--;
        }
        return k;
    } else if (kind(t, k, n, RW_TOK_NUMBER) || kind(t, k, n, RW_TOK_PARAM) ||
               kind(t, k, n, RW_TOK_VAR)) {
        return k;
    } else if (!(kind(t, k, n, RW_TOK_IDENT) || kind(t, k, n, RW_TOK_QIDENT))) {
        return SIZE_MAX;
    }
    /* a name: walk back over "qual ." parts */
    while (k >= 2 && op(t, k - 1, n, ".") &&
           (kind(t, k - 2, n, RW_TOK_IDENT) || kind(t, k - 2, n, RW_TOK_QIDENT))) {
        k -= 2;
    }
    return k;
}

/* May the token before the first operand of a || chain (at K) stand
 * there: it binds more loosely than || in MariaDB, and is not a prefix
 * operator that would take the operand alone? */
static bool
concat_lead_ok(const struct tr *t, size_t k)
{
    static const char *const ops[] = {"(", ",", ";", "=", "<", ">", "<=", ">=", "<>",
                                      "!=", "<=>", "&&", "*", "/", "%", "^", "&",
                                      "|", "<<", ">>"};
    size_t n = t->n;
    size_t x;

    if (kind(t, k, n, RW_TOK_HINT) || KW_IN(t, k, n, concat_lead_kw) >= 0) {
        return true;
    }
    for (x = 0; x < sizeof(ops) / sizeof(ops[0]); x++) {
        if (op(t, k, n, ops[x])) {
            return true;
        }
    }
    if ((op(t, k, n, "+") || op(t, k, n, "-")) && k > 0) {
        /* binary only after something that ends an operand */
        enum rw_tok_kind pk = t->tk[k - 1].kind;

        return pk == RW_TOK_NUMBER || pk == RW_TOK_STRING || pk == RW_TOK_QIDENT ||
               pk == RW_TOK_PARAM || pk == RW_TOK_VAR || op(t, k - 1, n, ")");
    }
    return false;
}

/* May token K follow the last operand of a || chain? */
static bool
concat_follow_ok(const struct tr *t, size_t k)
{
    static const char *const ops[] = {")", ",", ";", "=", "<", ">", "<=", ">=", "<>",
                                      "!=", "<=>", "&&", "||", "*", "/", "%", "^",
                                      "&", "|", "<<", ">>", "+", "-"};
    size_t n = t->n;
    size_t x;

    if (k >= n || KW_IN(t, k, n, concat_follow_kw) >= 0) {
        return true;
    }
    for (x = 0; x < sizeof(ops) / sizeof(ops[0]); x++) {
        if (op(t, k, n, ops[x])) {
            return true;
        }
    }
    return false;
}

/*
 * PIPES_AS_CONCAT: find every chain "a || b || ..." and mark its first
 * token in t->chain. MariaDB's || (concat) binds tighter than everything
 * but the prefix operators, BINARY, COLLATE and INTERVAL (KB "Operator
 * Precedence"; checked: 1 + 2 || 3 = 24, 2 * 3 || 4 = 68), so each operand
 * is one primary (operand_end / operand_start) and the chain becomes
 * concat(a, b, ...) (emit_concat), which keeps MariaDB's grouping whatever
 * surrounds it and means the same in the text sent back to MariaDB in any
 * mode. When the token before or after the chain could take a part of an
 * operand instead (a prefix operator, DATE 'x', an alias without AS, ...),
 * the statement is refused (TR_UNSUPPORTED).
 */
static void
concat_prepass(struct tr *t)
{
    size_t n = t->n;
    size_t prev_end = SIZE_MAX; /* end of the right operand of the last || */
    size_t i;

    for (i = 0; i < n && t->rc == 0; i++) {
        size_t e;

        if (!op(t, i, n, "||")) {
            continue;
        }
        if (prev_end != i) {
            size_t s = i == 0 ? SIZE_MAX : operand_start(t, i - 1);

            if (s == SIZE_MAX || (s > 0 && !concat_lead_ok(t, s - 1))) {
                t->rc = TR_UNSUPPORTED;
                return;
            }
            t->chain[s] = true;
        }
        e = operand_end(t, i + 1, n);
        if (e > n || !concat_follow_ok(t, e)) {
            t->rc = TR_UNSUPPORTED;
            return;
        }
        prev_end = e;
    }
}

/* The chain a || b || ... starting at I (< J) -> concat(a, b, ...). */
static size_t
emit_concat(struct tr *t, size_t i, size_t j)
{
    size_t k = i;

    t->chain[i] = false;
    piece(t, "concat(", 7, t->tk[i].off, 0);
    for (;;) {
        size_t e = operand_end(t, k, j);

        if (e > j) {
            t->rc = TR_UNSUPPORTED;
            return j;
        }
        emit_range(t, k, e);
        if (!op(t, e, j, "||")) {
            k = e;
            break;
        }
        glue(t, ",", 1, t->tk[e].off, t->tk[e].len);
        k = e + 1;
    }
    glue(t, ")", 1, t->last_end, 0);
    return k;
}

/* ! x -> (NOT x): MariaDB's ! binds tighter than comparison, PG's NOT does not. */
static size_t
emit_bang(struct tr *t, size_t i, size_t j)
{
    size_t e = operand_end(t, i + 1, j);

    if (e > j) {
        t->rc = TR_UNSUPPORTED;
        return i + 1;
    }
    piece_tok(t, "(NOT", i);
    emit_range(t, i + 1, e);
    glue(t, ")", 1, t->last_end, 0);
    return e;
}

/*
 * CAST target type from K to M (exclusive): SIGNED/UNSIGNED [INT|INTEGER]
 * -> the bare type name signed/unsigned; anything else unchanged.
 */
static void
emit_cast_type(struct tr *t, size_t k, size_t m)
{
    if (kw(t, k, m, "signed") || kw(t, k, m, "unsigned")) {
        verbatim(t, k);
        k++;
        if (kw(t, k, m, "int") || kw(t, k, m, "integer")) {
            k++;
        }
    }
    emit_range(t, k, m);
}

/* Index of the first token in (I, M) at the nesting level of I+1 that is WORD. */
static size_t
find_top(const struct tr *t, size_t from, size_t m, const char *word, bool is_op)
{
    size_t k = from;

    while (k < m) {
        if (is_op ? op(t, k, m, word) : kw(t, k, m, word)) {
            return k;
        }
        if (op(t, k, m, "(")) {
            k = t->match[k];
            if (k >= m) {
                return m;
            }
        }
        k++;
    }
    return m;
}

/* CAST(x AS type): translate the target type. */
static size_t
emit_cast(struct tr *t, size_t i, size_t j)
{
    size_t m = t->match[i + 1];
    size_t a;

    if (m >= j) {
        verbatim(t, i);
        return i + 1;
    }
    a = find_top(t, i + 2, m, "as", false);
    if (a >= m) {
        verbatim(t, i);
        return i + 1;
    }
    verbatim(t, i);
    verbatim(t, i + 1);
    emit_range(t, i + 2, a);
    verbatim(t, a);
    emit_cast_type(t, a + 1, m);
    verbatim(t, m);
    return m + 1;
}

/* CONVERT(x, type) -> CAST(x AS type); CONVERT(x USING cs) is left alone. */
static size_t
emit_convert(struct tr *t, size_t i, size_t j)
{
    size_t m = t->match[i + 1];
    size_t c;

    if (m >= j) {
        verbatim(t, i);
        return i + 1;
    }
    c = find_top(t, i + 2, m, ",", true);
    if (c >= m || c == i + 2) {
        verbatim(t, i);
        return i + 1;
    }
    piece_tok(t, "CAST", i);
    verbatim(t, i + 1);
    emit_range(t, i + 2, c);
    piece_tok(t, "AS", c);
    emit_cast_type(t, c + 1, m);
    verbatim(t, m);
    return m + 1;
}

/*
 * INTERVAL expr unit -> mvp_interval(expr, 'unit'); INTERVAL(N, N1, ...)
 * (the function) -> "interval"(...). Anything else is copied.
 */
static size_t
emit_interval(struct tr *t, size_t i, size_t j)
{
    size_t k = i + 1;
    int u;
    char *b;
    size_t n;

    while (k < j) {
        if (k > i + 1 && !op(t, k + 1, j, "(") && (u = KW_IN(t, k, j, interval_units)) >= 0) {
            break;
        }
        if (op(t, k, j, ",") || op(t, k, j, ")") || op(t, k, j, ";") ||
            KW_IN(t, k, j, interval_stops) >= 0) {
            k = j;
            break;
        }
        if (op(t, k, j, "(")) {
            if (t->match[k] >= j) {
                k = j;
                break;
            }
            k = t->match[k];
        }
        k++;
    }
    if (k >= j) {
        if (op(t, i + 1, j, "(")) {
            return emit_func_quoted(t, i);
        }
        verbatim(t, i);
        return i + 1;
    }
    u = KW_IN(t, k, j, interval_units);
    piece_tok(t, "mvp_interval(", i);
    t->last_end = t->tk[i + 1].off;
    emit_range(t, i + 1, k);
    n = strlen(interval_units[u]);
    b = malloc(n + 3);
    if (b == NULL) {
        t->rc = TR_NOMEM;
        return k + 1;
    }
    b[0] = '\'';
    memcpy(b + 1, interval_units[u], n);
    b[n + 1] = '\'';
    /* the unit constant maps onto the unit word, the ")" just past it */
    glue(t, ",", 1, t->tk[k].off, 0);
    put(t, " ", 1, t->tk[k].off, 0);
    glue(t, b, n + 2, t->tk[k].off, t->tk[k].len);
    glue(t, ")", 1, t->tk[k].off + t->tk[k].len, 0);
    free(b);
    return k + 1;
}

/*
 * GROUP_CONCAT([DISTINCT] x [ORDER BY ..] SEPARATOR 's') ->
 * GROUP_CONCAT([DISTINCT] x, separator => 's' [ORDER BY ..]).
 */
static size_t
emit_group_concat(struct tr *t, size_t i, size_t j)
{
    size_t m = t->match[i + 1];
    size_t s;
    size_t o;
    size_t e;

    if (m >= j) {
        verbatim(t, i);
        return i + 1;
    }
    s = find_top(t, i + 2, m, "separator", false);
    if (s >= m || !kind(t, s + 1, m, RW_TOK_STRING)) {
        verbatim(t, i);
        return i + 1;
    }
    e = s + 1;
    while (kind(t, e, m, RW_TOK_STRING)) {
        e++;
    }
    o = find_top(t, i + 2, s, "order", false);
    verbatim(t, i);
    verbatim(t, i + 1);
    emit_range(t, i + 2, o);
    piece_tok(t, ", separator =>", s);
    emit_range(t, s + 1, e);
    emit_range(t, o, s);
    emit_range(t, e, m);
    verbatim(t, m);
    return m + 1;
}

/*
 * Skip an index hint at I: {USE|FORCE|IGNORE} {INDEX|KEY}
 * [FOR {JOIN|ORDER BY|GROUP BY}] (...) [, next hint]. Returns the index
 * after it, or I when I does not start a hint.
 */
static size_t
skip_index_hint(const struct tr *t, size_t i, size_t j)
{
    size_t k = i;

    for (;;) {
        size_t h = k;

        if (!(kw(t, h, j, "use") || kw(t, h, j, "force") || kw(t, h, j, "ignore")) ||
            !(kw(t, h + 1, j, "index") || kw(t, h + 1, j, "key"))) {
            return k == i ? i : k - 1;      /* k - 1: give the comma back */
        }
        h += 2;
        if (kw(t, h, j, "for")) {
            if (kw(t, h + 1, j, "join")) {
                h += 2;
            } else if ((kw(t, h + 1, j, "order") || kw(t, h + 1, j, "group")) &&
                       kw(t, h + 2, j, "by")) {
                h += 3;
            } else {
                return k == i ? i : k - 1;
            }
        }
        if (!op(t, h, j, "(") || t->match[h] >= j) {
            return k == i ? i : k - 1;
        }
        k = t->match[h] + 1;
        if (!op(t, k, j, ",")) {
            return k;
        }
        k++;
    }
}

/*
 * Whether the PG-reserved identifier at I must be double-quoted here (it is
 * not used as the keyword both dialects share). Function-call uses are
 * handled by the caller.
 */
static bool
want_quote(struct tr *t, size_t i, size_t j)
{
    if (kw(t, i, j, "end")) {
        return t->case_depth == 0;
    }
    if (kw(t, i, j, "offset")) {
        return !(kind(t, i + 1, j, RW_TOK_NUMBER) || kind(t, i + 1, j, RW_TOK_PARAM) ||
                 kind(t, i + 1, j, RW_TOK_VAR));
    }
    if (kw(t, i, j, "only")) {
        return !(i > 0 && (kw(t, i - 1, j, "rows") || kw(t, i - 1, j, "row")));
    }
    return true;
}

/*
 * Is the IDENT token I (< J) a bare column alias: right after the end of an
 * expression (a ")", a literal, a name) and before what may follow an
 * alias (",", ")", ";", the end, FROM, WHERE, ...)? Not after "(" or ","
 * (EXTRACT(DAY FROM x), TIMESTAMPDIFF(MONTH, a, b) keep the keyword), and
 * INTERVAL n DAY never gets here (emit_interval consumes its unit).
 * Quoting a word that is a column name instead only changes its case
 * folding, which the model does itself.
 */
static bool
alias_position(const struct tr *t, size_t i, size_t j)
{
    enum rw_tok_kind pk;
    if (i == 0) {
        return false;
    }
    pk = t->tk[i - 1].kind;
    if (!(op(t, i - 1, j, ")") || pk == RW_TOK_NUMBER || pk == RW_TOK_STRING ||
          pk == RW_TOK_QIDENT || pk == RW_TOK_IDENT)) {
        return false;
    }
    return i + 1 >= j || op(t, i + 1, j, ",") || op(t, i + 1, j, ")") || op(t, i + 1, j, ";") ||
           KW_IN(t, i + 1, j, alias_follow_kw) >= 0;
}

/* Translate the IDENT token I (< J); returns the index after what it used. */
static size_t
emit_ident(struct tr *t, size_t i, size_t j)
{
    const char *p = t->src + t->tk[i].off;
    bool call = op(t, i + 1, j, "(");
    size_t k;

    /* _charset'..' and N'..' introducers: the string stays, the prefix goes */
    if (kind(t, i + 1, j, RW_TOK_STRING) &&
        (p[0] == '_' || (t->tk[i].len == 1 && (p[0] == 'N' || p[0] == 'n') &&
                         t->tk[i + 1].off == t->tk[i].off + 1))) {
        return i + 1;
    }
    if (call && (t->mode & RW_MODE_IGNORE_SPACE) == 0 &&
        t->tk[i + 1].off != t->tk[i].off + t->tk[i].len && KW_IN(t, i, j, no_space_funcs) >= 0) {
        /* COUNT (x) without IGNORE_SPACE: MariaDB reads COUNT as a name */
        t->rc = TR_UNSUPPORTED;
        return i + 1;
    }
    if (p[0] >= '0' && p[0] <= '9') {
        return emit_ident_quoted(t, i);
    }
    if (p[0] == '$') {
        return emit_ident_quoted(t, i);
    }
    if (kw(t, i, j, "select")) {
        verbatim(t, i);
        for (k = i + 1; k < j; k++) {
            if (kind(t, k, j, RW_TOK_HINT) || KW_IN(t, k, j, select_modifiers) >= 0) {
                continue;
            }
            if (kw(t, k, j, "all") || kw(t, k, j, "distinct")) {
                verbatim(t, k);
            } else if (kw(t, k, j, "distinctrow")) {
                piece_tok(t, "DISTINCT", k);
            } else {
                break;
            }
        }
        return k;
    }
    if (kw(t, i, j, "straight_join")) {
        piece_tok(t, "JOIN", i);
        return i + 1;
    }
    if (kw(t, i, j, "from") && kw(t, i + 1, j, "dual") && !op(t, i + 2, j, ".")) {
        return i + 2;
    }
    if (kw(t, i, j, "limit") && op(t, i + 2, j, ",") && i + 3 < j) {
        enum rw_tok_kind a = t->tk[i + 1].kind;
        enum rw_tok_kind b = t->tk[i + 3].kind;
        bool simple_a = a == RW_TOK_NUMBER || a == RW_TOK_PARAM || a == RW_TOK_VAR;
        bool simple_b = b == RW_TOK_NUMBER || b == RW_TOK_PARAM || b == RW_TOK_VAR;

        if (simple_a && simple_b) {
            verbatim(t, i);
            emit_one(t, i + 3, j);
            piece_tok(t, "OFFSET", i + 2);
            emit_one(t, i + 1, j);
            return i + 4;
        }
    }
    if (kw(t, i, j, "interval")) {
        return emit_interval(t, i, j);
    }
    if (kw(t, i, j, "case")) {
        t->case_depth++;
        verbatim(t, i);
        return i + 1;
    }
    if (kw(t, i, j, "end") && t->case_depth > 0) {
        t->case_depth--;
        verbatim(t, i);
        return i + 1;
    }
    if (call && kw(t, i, j, "convert")) {
        return emit_convert(t, i, j);
    }
    if (call && kw(t, i, j, "cast")) {
        return emit_cast(t, i, j);
    }
    if (call && kw(t, i, j, "group_concat")) {
        return emit_group_concat(t, i, j);
    }
    if (kw(t, i, j, "not") && (kw(t, i + 1, j, "regexp") || kw(t, i + 1, j, "rlike"))) {
        piece(t, "!~", 2, t->tk[i].off, t->tk[i + 1].off + t->tk[i + 1].len - t->tk[i].off);
        return i + 2;
    }
    if (kw(t, i, j, "regexp") || kw(t, i, j, "rlike")) {
        piece_tok(t, "~", i);
        return i + 1;
    }
    if (kw(t, i, j, "mod") && !call) {
        piece_tok(t, "%", i);
        return i + 1;
    }
    if ((kw(t, i, j, "div") && !call) || kw(t, i, j, "xor")) {
        t->rc = TR_UNSUPPORTED;
        return i + 1;
    }
    if (kw(t, i, j, "with") && kw(t, i + 1, j, "rollup")) {
        t->rc = TR_UNSUPPORTED;
        return i + 1;
    }
    if (kw(t, i, j, "lock") && kw(t, i + 1, j, "in") && kw(t, i + 2, j, "share") &&
        kw(t, i + 3, j, "mode")) {
        piece(t, "FOR SHARE", 9, t->tk[i].off,
              t->tk[i + 3].off + t->tk[i + 3].len - t->tk[i].off);
        return i + 4;
    }
    k = skip_index_hint(t, i, j);
    if (k != i) {
        return k;
    }
    if (kw(t, i, j, "distinctrow")) {
        piece_tok(t, "DISTINCT", i);
        return i + 1;
    }
    if (call && KW_IN(t, i, j, nullary_kw_funcs) >= 0 && op(t, i + 2, j, ")")) {
        verbatim(t, i);
        t->last_end = t->tk[i + 2].off + 1;
        return i + 3;
    }
    if (call && KW_IN(t, i, j, quoted_funcs) >= 0) {
        return emit_func_quoted(t, i);
    }
    if (!call && KW_IN(t, i, j, pg_as_label_only) >= 0 && alias_position(t, i, j)) {
        return emit_ident_quoted(t, i);
    }
    if (KW_IN(t, i, j, pg_only_reserved) >= 0) {
        if (call) {
            if (KW_IN(t, i, j, pg_type_func) >= 0 || kw(t, i, j, "any") || kw(t, i, j, "some")) {
                verbatim(t, i);
                return i + 1;
            }
            return emit_func_quoted(t, i);
        }
        if (want_quote(t, i, j)) {
            return emit_ident_quoted(t, i);
        }
    }
    verbatim(t, i);
    return i + 1;
}

/* Translate the token at I (< J); returns the index after what it used. */
static size_t
emit_one(struct tr *t, size_t i, size_t j)
{
    if (t->chain != NULL && t->chain[i]) {
        return emit_concat(t, i, j);
    }
    switch (t->tk[i].kind) {
    case RW_TOK_HINT:
        return i + 1;
    case RW_TOK_QIDENT:
        return emit_qident(t, i);
    case RW_TOK_STRING:
        return emit_string(t, i, j);
    case RW_TOK_NUMBER:
        return emit_number(t, i);
    case RW_TOK_PARAM:
        return emit_param(t, i);
    case RW_TOK_VAR:
        return emit_var(t, i);
    case RW_TOK_IDENT:
        return emit_ident(t, i, j);
    case RW_TOK_OP:
        if (op(t, i, j, "&&")) {
            piece_tok(t, "AND", i);
        } else if (op(t, i, j, "||")) {
            if ((t->mode & RW_MODE_PIPES_AS_CONCAT) != 0) {
                t->rc = TR_UNSUPPORTED; /* a || outside a chain concat_prepass found */
            } else {
                piece_tok(t, "OR", i);
            }
        } else if (op(t, i, j, "<=>")) {
            piece_tok(t, "IS NOT DISTINCT FROM", i);
        } else if (op(t, i, j, ":=")) {
            t->rc = TR_UNSUPPORTED;
        } else if (op(t, i, j, "!")) {
            return emit_bang(t, i, j);
        } else {
            verbatim(t, i);
        }
        return i + 1;
    case RW_TOK_EOF:
    case RW_TOK_OTHER:
    default:
        verbatim(t, i);
        return i + 1;
    }
}

/* Translate tokens [I, J); returns J. */
static size_t
emit_range(struct tr *t, size_t i, size_t j)
{
    if (++t->depth > TR_MAX_DEPTH) {
        t->rc = TR_UNSUPPORTED;
    }
    while (i < j && t->rc == 0) {
        i = emit_one(t, i, j);
    }
    t->depth--;
    return j;
}

/*
 * Lex the input and build the paren-match and parameter-number tables.
 * Returns false on out-of-memory.
 */
static bool
prepare(struct tr *t)
{
    size_t *stack;
    size_t sp = 0;
    size_t i;
    int params = 0;

    t->tk = rw_lex_all_mode(t->src, t->src_len, t->mode, &t->n);
    if (t->tk == NULL) {
        return false;
    }
    t->match = malloc((t->n + 1) * sizeof(*t->match));
    t->rmatch = malloc((t->n + 1) * sizeof(*t->rmatch));
    t->pnum = malloc((t->n + 1) * sizeof(*t->pnum));
    stack = malloc((t->n + 1) * sizeof(*stack));
    if (t->match == NULL || t->rmatch == NULL || t->pnum == NULL || stack == NULL) {
        free(stack);
        return false;
    }
    if ((t->mode & RW_MODE_PIPES_AS_CONCAT) != 0) {
        t->chain = calloc(t->n + 1, sizeof(*t->chain));
        if (t->chain == NULL) {
            free(stack);
            return false;
        }
    }
    for (i = 0; i < t->n; i++) {
        t->match[i] = t->n;
        t->rmatch[i] = t->n;
        t->pnum[i] = 0;
        if (rw_tok_is_op(&t->lx, t->tk[i], "(")) {
            stack[sp++] = i;
        } else if (rw_tok_is_op(&t->lx, t->tk[i], ")") && sp > 0) {
            t->rmatch[i] = stack[sp - 1];
            t->match[stack[--sp]] = i;
        } else if (t->tk[i].kind == RW_TOK_PARAM) {
            t->pnum[i] = ++params;
        }
    }
    free(stack);
    return true;
}

/*
 * Translate LEN bytes of MariaDB SQL at SRC into OUT (caller frees with
 * rw_dialect_free). Returns 0, or -1 when the text uses a construct the
 * bridge does not translate because PG would read it differently, or on
 * out-of-memory; OUT is zeroed then.
 */
int
rw_dialect_translate(const char *src, size_t len, struct rw_dialect_out *out)
{
    return rw_dialect_translate_mode(src, len, 0, out);
}

/*
 * rw_dialect_translate under the sql_mode flags MODE (rw_dialect.h);
 * RW_MODE_UNSUPPORTED: -1 at once.
 */
int
rw_dialect_translate_mode(const char *src, size_t len, uint32_t mode,
                          struct rw_dialect_out *out)
{
    struct tr t;

    memset(out, 0, sizeof(*out));
    memset(&t, 0, sizeof(t));
    if (src == NULL) {
        src = "";
        len = 0;
    }
    if ((mode & RW_MODE_UNSUPPORTED) != 0) {
        return -1;
    }
    t.src = src;
    t.src_len = len;
    t.mode = mode;
    rw_lex_init_mode(&t.lx, src, len, mode);
    if (!prepare(&t)) {
        t.rc = TR_NOMEM;
    } else {
        if (t.chain != NULL) {
            concat_prepass(&t);
        }
        if (t.rc == 0 && reserve(&t, len + 16)) {
            emit_range(&t, 0, t.n);
        }
    }
    free(t.tk);
    free(t.match);
    free(t.rmatch);
    free(t.chain);
    free(t.pnum);
    if (t.rc != 0 || !reserve(&t, 0)) {
        free(t.out);
        free(t.map);
        return -1;
    }
    t.out[t.len] = '\0';
    t.map[t.len] = len;
    out->text = t.out;
    out->len = t.len;
    out->orig_off = t.map;
    return 0;
}

/* Free what OUT owns and zero it. */
void
rw_dialect_free(struct rw_dialect_out *out)
{
    if (out == NULL) {
        return;
    }
    free(out->text);
    free(out->orig_off);
    memset(out, 0, sizeof(*out));
}

/* Original offset of translated offset OFF (clamped to the text length). */
size_t
rw_dialect_orig(const struct rw_dialect_out *out, size_t off)
{
    if (out == NULL || out->orig_off == NULL) {
        return 0;
    }
    if (off > out->len) {
        off = out->len;
    }
    return out->orig_off[off];
}
