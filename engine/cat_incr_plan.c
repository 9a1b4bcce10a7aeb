/*
 * cat_incr_plan.c - does a view's definition qualify for the incremental
 * refresh (cat_incr.h), and what shape does it have: one base table, plain
 * grouping columns, SUM / COUNT / MIN / MAX outputs (see cat_incr_plan.h).
 */
#include "cat_incr_plan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cat.h"
#include "cat_util.h"
#include "rw_lex.h"

void
cat_incr_plan_free(struct cat_incr_plan *p)
{
    free(p->base_db);
    free(p->base_name);
    free(p->alias);
    free(p->kinds);
    memset(p, 0, sizeof(*p));
}

static bool
is_agg_word(const struct rw_lexer *lx, struct rw_tok t)
{
    static const char *const aggs[] = {"SUM", "COUNT", "MIN", "MAX", "AVG", "GROUP_CONCAT", "STD",
                                       "STDDEV", "STDDEV_POP", "STDDEV_SAMP", "VARIANCE",
                                       "VAR_POP", "VAR_SAMP", "BIT_AND", "BIT_OR", "BIT_XOR",
                                       "JSON_ARRAYAGG", "JSON_OBJECTAGG", "PERCENTILE_CONT",
                                       "PERCENTILE_DISC", "MEDIAN"};
    size_t i;
    for (i = 0; i < sizeof(aggs) / sizeof(aggs[0]); i++) {
        if (rw_tok_is(lx, t, aggs[i])) {
            return true;
        }
    }
    return false;
}

/* Unquoted text of identifier token T (caller frees). */
static char *
ident_text(const struct rw_lexer *lx, struct rw_tok t)
{
    if (t.kind == RW_TOK_QIDENT && t.len >= 2) {
        return cat_xstrndup(lx->src + t.off + 1, t.len - 2);
    }
    return cat_xstrndup(lx->src + t.off, t.len);
}

/* Classify select item toks [A, B) of TK; -1 when not allowed. */
static int
item_kind(const struct rw_lexer *lx, const struct rw_tok *tk, size_t a, size_t b)
{
    size_t i, depth = 0, close = 0;
    bool agg_first = b - a >= 3 && tk[a].kind == RW_TOK_IDENT && rw_tok_is_op(lx, tk[a + 1], "(");
    for (i = a; i < b; i++) {
        if (tk[i].kind == RW_TOK_IDENT && i + 1 < b && rw_tok_is_op(lx, tk[i + 1], "(") &&
            is_agg_word(lx, tk[i]) && i != a) {
            return -1; /* an aggregate inside an expression: not mergeable */
        }
        if (rw_tok_is(lx, tk[i], "OVER") || rw_tok_is(lx, tk[i], "DISTINCT")) {
            return -1;
        }
    }
    if (!agg_first || !is_agg_word(lx, tk[a])) {
        return CAT_IO_KEY;
    }
    for (i = a + 1; i < b; i++) {
        if (rw_tok_is_op(lx, tk[i], "(")) {
            depth++;
        } else if (rw_tok_is_op(lx, tk[i], ")") && --depth == 0) {
            close = i;
            break;
        }
    }
    if (close == 0) {
        return -1;
    }
    /* only an alias may follow the call */
    i = close + 1;
    if (i < b && rw_tok_is(lx, tk[i], "AS")) {
        i++;
    }
    if (i < b && (tk[i].kind == RW_TOK_IDENT || tk[i].kind == RW_TOK_QIDENT ||
                  tk[i].kind == RW_TOK_STRING)) {
        i++;
    }
    if (i != b) {
        return -1;
    }
    if (rw_tok_is(lx, tk[a], "SUM")) {
        return CAT_IO_SUM;
    }
    if (rw_tok_is(lx, tk[a], "COUNT")) {
        return CAT_IO_COUNT;
    }
    if (rw_tok_is(lx, tk[a], "MIN")) {
        return CAT_IO_MIN;
    }
    if (rw_tok_is(lx, tk[a], "MAX")) {
        return CAT_IO_MAX;
    }
    return -1;
}

bool
cat_incr_analyse(const char *sql, const char *db, struct cat_incr_plan *p, char *why, size_t whylen)
{
    struct rw_lexer lx;
    struct rw_tok *tk;
    size_t n, i, from = 0, item0, depth = 0, n_select = 0;
    bool group = false;
    memset(p, 0, sizeof(*p));
    tk = rw_lex_all(sql, strlen(sql), &n);
    rw_lex_init(&lx, sql, strlen(sql));
    if (tk == NULL || n < 4 || !rw_tok_is(&lx, tk[0], "SELECT")) {
        snprintf(why, whylen, "the definition is not a plain SELECT");
        free(tk);
        return false;
    }
    for (i = 0; i < n; i++) {
        if (rw_tok_is(&lx, tk[i], "SELECT")) {
            n_select++;
        }
        if (rw_tok_is(&lx, tk[i], "HAVING") || rw_tok_is(&lx, tk[i], "LIMIT") ||
            rw_tok_is(&lx, tk[i], "UNION") || rw_tok_is(&lx, tk[i], "JOIN") ||
            rw_tok_is(&lx, tk[i], "ROLLUP") || rw_tok_is(&lx, tk[i], "WITH")) {
            snprintf(why, whylen, "the definition uses %.*s", (int)tk[i].len, sql + tk[i].off);
            free(tk);
            return false;
        }
    }
    if (n_select != 1) {
        snprintf(why, whylen, "the definition has a subquery");
        free(tk);
        return false;
    }
    /* select items up to the top-level FROM */
    item0 = 1;
    for (i = 1; i < n && tk[i].kind != RW_TOK_EOF; i++) {
        bool end = false;
        if (rw_tok_is_op(&lx, tk[i], "(")) {
            depth++;
        } else if (rw_tok_is_op(&lx, tk[i], ")")) {
            depth--;
        } else if (depth == 0 && rw_tok_is(&lx, tk[i], "FROM")) {
            end = true;
            from = i;
        }
        if (depth == 0 && (end || rw_tok_is_op(&lx, tk[i], ","))) {
            int k = item_kind(&lx, tk, item0, i);
            if (k < 0 || i == item0) {
                snprintf(why, whylen, "output %zu is not a grouping column or SUM/COUNT/MIN/MAX",
                         p->n_out + 1);
                free(tk);
                cat_incr_plan_free(p);
                return false;
            }
            p->kinds = realloc(p->kinds, (p->n_out + 1) * sizeof(*p->kinds));
            if (p->kinds == NULL) {
                abort();
            }
            p->kinds[p->n_out++] = (enum cat_incr_out)k;
            item0 = i + 1;
        }
        if (end) {
            break;
        }
    }
    if (from == 0 || from + 1 >= n) {
        snprintf(why, whylen, "no FROM clause");
        free(tk);
        cat_incr_plan_free(p);
        return false;
    }
    /* FROM name [AS alias] followed by WHERE / GROUP / end */
    i = from + 1;
    if (tk[i].kind != RW_TOK_IDENT && tk[i].kind != RW_TOK_QIDENT) {
        snprintf(why, whylen, "FROM is not a single table");
        free(tk);
        cat_incr_plan_free(p);
        return false;
    }
    p->ref_off = tk[i].off;
    if (i + 2 < n && rw_tok_is_op(&lx, tk[i + 1], ".")) {
        p->base_db = ident_text(&lx, tk[i]);
        p->base_name = ident_text(&lx, tk[i + 2]);
        i += 3;
    } else {
        p->base_db = cat_xstrdup(db);
        p->base_name = ident_text(&lx, tk[i]);
        i += 1;
    }
    p->alias = cat_xstrdup(p->base_name);
    p->ref_end = tk[i - 1].off + tk[i - 1].len;
    if (i < n && rw_tok_is(&lx, tk[i], "AS")) {
        i++;
    }
    if (i < n && (tk[i].kind == RW_TOK_IDENT || tk[i].kind == RW_TOK_QIDENT) &&
        !rw_tok_is(&lx, tk[i], "WHERE") && !rw_tok_is(&lx, tk[i], "GROUP")) {
        free(p->alias);
        p->alias = ident_text(&lx, tk[i]);
        p->ref_end = tk[i].off + tk[i].len;
        i++;
    }
    if (i < n && tk[i].kind != RW_TOK_EOF && !rw_tok_is(&lx, tk[i], "WHERE") &&
        !rw_tok_is(&lx, tk[i], "GROUP")) {
        snprintf(why, whylen, "FROM is not a single table");
        free(tk);
        cat_incr_plan_free(p);
        return false;
    }
    for (; i < n; i++) {
        group = group || rw_tok_is(&lx, tk[i], "GROUP");
    }
    free(tk);
    if (!group) {
        snprintf(why, whylen, "the definition has no GROUP BY");
        cat_incr_plan_free(p);
        return false;
    }
    return true;
}
