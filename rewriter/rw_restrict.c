/*
 * rw_restrict.c - restrict a view definition on its base partition column
 * (see rw_restrict.h).
 *
 * The block is parsed with rw_parse (dialect bridge + libpg_query) to check
 * its shape and find the base table's reference; the WHERE / end-of-FROM
 * positions are found on the original tokens at parenthesis depth 0, and
 * the text is spliced there, everything else copied verbatim.
 */
#include "rw_restrict.h"
#include "rw.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cat.h"
#include "cat_util.h"
#include "cat_part.h"
#include "rw_parse.h"
#include "rw_util.h"

static bool
tok_is(const struct rw_parse *p, size_t i, const char *kw)
{
    const struct rw_tok *t = &p->toks[i];
    return t->kind == RW_TOK_IDENT && t->len == strlen(kw) &&
           strncasecmp(p->src + t->off, kw, t->len) == 0;
}

static bool
tok_op(const struct rw_parse *p, size_t i, const char *op)
{
    const struct rw_tok *t = &p->toks[i];
    return t->kind == RW_TOK_OP && t->len == strlen(op) && strncmp(p->src + t->off, op, t->len) == 0;
}

/* A reference to the base table found in the FROM clause. */
struct ref {
    const char *bdb, *btab;        /* wanted db and table */
    size_t bdb_len;
    const char *db;                /* default db */
    int n;                         /* matches */
    const PgQuery__RangeVar *rv;   /* the (last) match */
};

static void
find_ref(struct ref *r, const PgQuery__Node *n)
{
    if (n == NULL) {
        return;
    }
    if (n->node_case == PG_QUERY__NODE__NODE_RANGE_VAR) {
        const PgQuery__RangeVar *rv = n->range_var;
        const char *sch = rv->schemaname != NULL && rv->schemaname[0] != '\0' ? rv->schemaname
                                                                              : r->db;
        if (rv->relname != NULL && strcasecmp(rv->relname, r->btab) == 0 && sch != NULL &&
            strlen(sch) == r->bdb_len && strncasecmp(sch, r->bdb, r->bdb_len) == 0) {
            r->n++;
            r->rv = rv;
        }
    } else if (n->node_case == PG_QUERY__NODE__NODE_JOIN_EXPR) {
        find_ref(r, n->join_expr->larg);
        find_ref(r, n->join_expr->rarg);
    }
    /* subqueries (RangeSubselect) are not searched: a match there cannot
     * be restricted from the outer block */
}

static bool
date_lit_ok(const char *s)
{
    for (; *s != '\0'; s++) {
        if (!((*s >= '0' && *s <= '9') || *s == '-' || *s == ':' || *s == ' ' || *s == '.')) {
            return false;
        }
    }
    return true;
}

static const char *const k_aggs[] = {
    "count", "sum", "min", "max", "avg", "group_concat", "std", "stddev", "stddev_pop",
    "stddev_samp", "variance", "var_pop", "var_samp", "bit_and", "bit_or", "bit_xor",
    "json_arrayagg", "json_objectagg", NULL,
};

static const char *const k_terms[] = {
    "GROUP", "HAVING", "WINDOW", "ORDER", "LIMIT", "OFFSET", "FETCH", "FOR", "LOCK",
    "INTO", "PROCEDURE", "UNION", "EXCEPT", "INTERSECT", "RETURNING", NULL,
};

#define FAIL(...)                                   \
    do {                                            \
        *err = rw_sprintf(__VA_ARGS__);             \
        goto out;                                   \
    } while (0)

#define FAIL_RET(...)                               \
    do {                                            \
        *err = rw_sprintf(__VA_ARGS__);             \
        return false;                               \
    } while (0)

/* Clause positions of block S on the original tokens of P, depth 0: *FROM
 * (the FROM keyword), *WHERE (0: none) and *TERM (the first token after the
 * WHERE condition, the EOF token when none). False with the reason in *ERR
 * (refused shapes: window functions, an aggregate without GROUP BY, index
 * hints, two WHERE keywords, unbalanced parentheses). */
static bool
locate_clauses(const struct rw_parse *p, const PgQuery__SelectStmt *s, size_t *from_out,
               size_t *where_out, size_t *term_out, char **err)
{
    size_t i, start, from = 0, where = 0, term = 0;
    int depth = 0;
    for (start = 0; start < p->n_toks && p->toks[start].kind == RW_TOK_HINT; start++) {
    }
    if (start >= p->n_toks || !tok_is(p, start, "SELECT")) {
        FAIL_RET("the block does not start with SELECT");
    }
    for (i = start + 1; i + 1 < p->n_toks; i++) {
        if (tok_is(p, i, "OVER") && tok_op(p, i + 1, "(")) {
            /* a window sees only the rows the restriction keeps: its values change unless
             * it is partitioned by the partition column; never restrict such a block */
            FAIL_RET("window functions");
        }
    }
    for (i = start + 1; i < p->n_toks; i++) {
        if (tok_op(p, i, "(")) {
            depth++;
        } else if (tok_op(p, i, ")")) {
            if (--depth < 0) {
                FAIL_RET("unbalanced parentheses");
            }
        } else if (depth == 0 && p->toks[i].kind == RW_TOK_IDENT) {
            size_t k;
            if (from == 0) {
                if (tok_is(p, i, "FROM")) {
                    from = i;
                } else if (s->n_group_clause == 0 && i + 1 < p->n_toks && tok_op(p, i + 1, "(")) {
                    for (k = 0; k_aggs[k] != NULL; k++) {
                        if (tok_is(p, i, k_aggs[k])) {
                            FAIL_RET("an aggregate without GROUP BY");
                        }
                    }
                }
                continue;
            }
            if ((tok_is(p, i, "USE") || tok_is(p, i, "FORCE") || tok_is(p, i, "IGNORE")) &&
                i + 1 < p->n_toks && (tok_is(p, i + 1, "INDEX") || tok_is(p, i + 1, "KEY"))) {
                FAIL_RET("index hints");
            }
            if (tok_is(p, i, "WHERE")) {
                if (where != 0) {
                    FAIL_RET("two WHERE keywords");
                }
                where = i;
                continue;
            }
            for (k = 0; k_terms[k] != NULL; k++) {
                if (tok_is(p, i, k_terms[k])) {
                    break;
                }
            }
            if (k_terms[k] != NULL) {
                term = i;
                break;
            }
        } else if (depth == 0 && tok_op(p, i, ";")) {
            term = i;
            break;
        }
        if (from == 0 && s->n_group_clause == 0 && p->toks[i].kind == RW_TOK_IDENT &&
            i + 1 < p->n_toks && tok_op(p, i + 1, "(")) {
            size_t k;
            for (k = 0; k_aggs[k] != NULL; k++) {
                if (tok_is(p, i, k_aggs[k])) {
                    FAIL_RET("an aggregate without GROUP BY");
                }
            }
        }
    }
    if (term == 0) {
        term = p->n_toks; /* the EOF token */
    }
    if (from == 0 || term <= from + 1 || (where != 0) != (s->where_clause != NULL) ||
        (where != 0 && term <= where + 1)) {
        FAIL_RET("the block's clauses could not be located");
    }
    *from_out = from;
    *where_out = where;
    *term_out = term;
    return true;
}

/* The text [*Q_B, *Q_E) of P that names table reference R->rv between FROM
 * and TERM: its name, or its alias. False with the reason in *ERR. */
static bool
locate_ref(const struct rw_parse *p, const struct ref *r, size_t from, size_t term, size_t *q_b,
           size_t *q_e, char **err)
{
    size_t name_b, name_e;
    name_b = rw_parse_tok_at(p, rw_parse_orig(p, r->rv->location));
    if (name_b <= from || name_b >= term ||
        (p->toks[name_b].kind != RW_TOK_IDENT && p->toks[name_b].kind != RW_TOK_QIDENT)) {
        FAIL_RET("the table reference could not be located");
    }
    name_e = name_b + 1;
    while (name_e + 1 < term && tok_op(p, name_e, ".") &&
           (p->toks[name_e + 1].kind == RW_TOK_IDENT ||
            p->toks[name_e + 1].kind == RW_TOK_QIDENT)) {
        name_e += 2;
    }
    *q_b = p->toks[name_b].off;
    *q_e = p->toks[name_e - 1].off + p->toks[name_e - 1].len;
    if (r->rv->alias != NULL && r->rv->alias->aliasname != NULL) {
        size_t a = name_e;
        const struct rw_tok *t;
        if (a < term && tok_is(p, a, "AS")) {
            a++;
        }
        t = &p->toks[a];
        if (a >= term || (t->kind != RW_TOK_IDENT && t->kind != RW_TOK_QIDENT)) {
            FAIL_RET("the table's alias could not be located");
        }
        {
            size_t al = strlen(r->rv->alias->aliasname);
            size_t tl = t->kind == RW_TOK_QIDENT ? t->len - 2 : t->len;
            const char *tp = p->src + t->off + (t->kind == RW_TOK_QIDENT ? 1 : 0);
            if (al != tl || strncasecmp(tp, r->rv->alias->aliasname, al) != 0) {
                FAIL_RET("the table's alias could not be located");
            }
        }
        *q_b = t->off;
        *q_e = t->off + t->len;
    }
    return true;
}

/* The text of P with the range lo <= Q.BASE_COL < hi (LO or HI NULL: that
 * bound open; Q the text [Q_B, Q_E)) and-ed into its WHERE (at WHERE, 0:
 * none, ending before TERM) or added as one, in B. Returns the text
 * (caller frees), NULL on OOM. */
static char *
splice(struct rw_buf *b, const struct rw_parse *p, size_t from, size_t where, size_t term,
       size_t q_b, size_t q_e, const char *base_col, const char *lo, const char *hi)
{
    size_t ins_b, ins_e; /* WHERE condition span, or the insertion point */
    size_t last = term - 1;
    while (last > from && p->toks[last].kind == RW_TOK_HINT) {
        last--;
    }
    ins_e = p->toks[last].off + p->toks[last].len;
    ins_b = where != 0 ? p->toks[where + 1].off : ins_e;
    rw_buf_add(b, p->src, ins_b);
    if (where != 0) {
        rw_buf_puts(b, "(");
        rw_buf_add(b, p->src + ins_b, ins_e - ins_b);
        rw_buf_puts(b, ") AND ");
    } else {
        rw_buf_puts(b, " WHERE ");
    }
    if (lo != NULL) {
        rw_buf_add(b, p->src + q_b, q_e - q_b);
        rw_buf_puts(b, ".");
        rw_buf_ident(b, base_col);
        rw_buf_printf(b, " >= '%s'", lo);
    }
    if (hi != NULL) {
        rw_buf_puts(b, lo != NULL ? " AND " : "");
        rw_buf_add(b, p->src + q_b, q_e - q_b);
        rw_buf_puts(b, ".");
        rw_buf_ident(b, base_col);
        rw_buf_printf(b, " < '%s'", hi);
    }
    rw_buf_add(b, p->src + ins_e, p->src_len - ins_e);
    return rw_buf_take(b);
}

int
rw_restrict_base_range(const char *select_sql, const char *db, const char *base_key,
                       const char *base_col, const char *lo, const char *hi, char **out,
                       char **err)
{
    struct rw_parse p;
    const PgQuery__SelectStmt *s;
    struct ref r;
    struct rw_buf b = {0};
    char *perr = NULL;
    const char *dot;
    size_t i, from = 0, where = 0, term = 0, q_b, q_e;
    int rc = -1;

    *out = NULL;
    *err = NULL;
    memset(&p, 0, sizeof(p));
    if (select_sql == NULL || base_key == NULL || base_col == NULL || (lo == NULL && hi == NULL) ||
        (dot = strchr(base_key, '.')) == NULL) {
        *err = rw_strdup("nothing to restrict on");
        return -1;
    }
    if ((lo != NULL && !date_lit_ok(lo)) || (hi != NULL && !date_lit_ok(hi))) {
        *err = rw_strdup("bounds are not date literals");
        return -1;
    }
    if (rw_parse_sql(select_sql, strlen(select_sql), &p, &perr, NULL) != 0) {
        FAIL("definition does not parse: %s", perr ? perr : "?");
    }
    if (p.tree == NULL || p.tree->n_stmts != 1 || p.tree->stmts[0]->stmt == NULL ||
        p.tree->stmts[0]->stmt->node_case != PG_QUERY__NODE__NODE_SELECT_STMT) {
        FAIL("not a single SELECT");
    }
    s = p.tree->stmts[0]->stmt->select_stmt;
    if (s->op != PG_QUERY__SET_OPERATION__SETOP_NONE || s->with_clause != NULL ||
        s->into_clause != NULL || s->n_window_clause > 0 || s->limit_count != NULL ||
        s->limit_offset != NULL || s->n_locking_clause > 0) {
        FAIL("not a plain SELECT block (UNION, WITH, INTO, WINDOW, LIMIT or locking)");
    }
    memset(&r, 0, sizeof(r));
    r.bdb = base_key;
    r.bdb_len = (size_t)(dot - base_key);
    r.btab = dot + 1;
    r.db = db;
    for (i = 0; i < s->n_from_clause; i++) {
        find_ref(&r, s->from_clause[i]);
    }
    if (r.n != 1) {
        FAIL("%s appears %d times in the block's FROM", base_key, r.n);
    }

    if (!locate_clauses(&p, s, &from, &where, &term, err) ||
        !locate_ref(&p, &r, from, term, &q_b, &q_e, err)) {
        goto out;
    }
    *out = splice(&b, &p, from, where, term, q_b, q_e, base_col, lo, hi);
    if (*out == NULL) {
        goto out;
    }
    rc = 0;
out:
    if (rc != 0 && *err == NULL && *out == NULL && b.oom) {
        *err = NULL; /* out of memory */
    }
    rw_buf_free(&b);
    free(perr);
    rw_parse_free(&p);
    return rc;
}

/* Smallest start of a UNIT at or after DAY. */
static int64_t
unit_ceil(int64_t day, enum cat_punit u)
{
    int64_t f = cat_unit_floor(day, u);
    return f == day ? day : cat_unit_next(f, u);
}

char *
rw_part_restrict_def(const struct cat_mv *mv, int64_t lo, int64_t hi)
{
    const struct cat_part_spec *s = mv->part;
    char los[16], his[16], *out = NULL, *err = NULL;
    int y, m, d;

    if (s == NULL || s->base_key == NULL || s->base_col == NULL || mv->query_sql == NULL ||
        (lo <= CAT_DAY_MIN && hi >= CAT_DAY_MAX) || lo >= hi) {
        return NULL;
    }
    /* floor_U(col) >= lo  <=>  col >= ceil_U(lo); likewise for < hi */
    if (lo > CAT_DAY_MIN) {
        cat_day_to_ymd(unit_ceil(lo, s->base_floor), &y, &m, &d);
        snprintf(los, sizeof(los), "%04d-%02d-%02d", y, m, d);
    }
    if (hi < CAT_DAY_MAX) {
        cat_day_to_ymd(unit_ceil(hi, s->base_floor), &y, &m, &d);
        snprintf(his, sizeof(his), "%04d-%02d-%02d", y, m, d);
    }
    if (rw_restrict_base_range(mv->query_sql, mv->db, s->base_key, s->base_col,
                               lo > CAT_DAY_MIN ? los : NULL, hi < CAT_DAY_MAX ? his : NULL, &out,
                               &err) != 0) {
        cat_log(CAT_LOG_DEBUG, "view %s: definition not restricted on %s.%s (%s)", mv->key,
                s->base_key, s->base_col, err ? err : "out of memory");
        free(err);
        return NULL;
    }
    return out;
}
