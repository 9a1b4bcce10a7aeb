/*
 * rw_conv.c - converts the expressions of a SELECT block (libpg_query nodes)
 * into canonical rw_expr trees over the model's table instances: column
 * references resolved through the range table, constants, functions,
 * operators, CAST, window functions and their frames, CASE, IS NULL ...
 */
#include "rw_conv.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cat_calendar.h"
#include "rw_build.h"
#include "rw_coll.h"
#include "rw_from.h"
#include "rw_model.h"
#include "rw_util.h"

/* ----------------------------------------------------------- expressions */

/* Output index whose name is NAME (case-insensitive), -1 none. */
int
rw_conv_out_named(const struct rw_model *m, const char *name)
{
    size_t i;
    int found = -1;
    for (i = 0; i < m->n_out; i++) {
        if (m->out[i].name != NULL && strcasecmp(m->out[i].name, name) == 0) {
            if (found >= 0) {
                return -2;
            }
            found = (int)i;
        }
    }
    return found;
}

/* Expression for column K (rw_build_rte_col) named COL of entry R; NULL with b->err. */
struct rw_expr *
rw_conv_rte_ref(struct build *b, const struct rte *r, int k, const char *col)
{
    struct rw_expr *e;
    if (r->tab >= 0) {
        e = rw_from_col_expr(r->tab, col);
    } else if (r->bad[k]) {
        rw_build_fail(b, "column %s.%s of a derived table on the null-supplying side of an outer "
                         "join is not NULL when the join finds no match (a constant, COALESCE, "
                         "CASE ...): not supported", r->alias, r->names[k]);
        return NULL;
    } else {
        e = rw_expr_copy(r->exprs[k]);
    }
    if (e == NULL) {
        rw_build_fail(b, "out of memory");
    }
    return e;
}

/* Resolve a ColumnRef (MariaDB's rules: an unqualified name must be a column
 * of exactly one table or derived table in scope, else it is ambiguous). */
static struct rw_expr *
conv_colref(struct build *b, const PgQuery__ColumnRef *c)
{
    const char *parts[3] = {NULL, NULL, NULL};
    size_t i, np = c->n_fields;
    char *col;
    int r = -1, k = -1;
    if (np == 0 || np > 3) {
        rw_build_fail(b, "bad column reference");
        return NULL;
    }
    for (i = 0; i < np; i++) {
        parts[i] = rw_build_sval(c->fields[i]);
        if (parts[i] == NULL) {
            rw_build_fail(b, "'*' is only supported as a whole select item");
            return NULL;
        }
    }
    col = rw_lower(parts[np - 1]);
    if (col == NULL) {
        rw_build_fail(b, "out of memory");
        return NULL;
    }
    if (np == 1) {
        for (i = b->rte_lo; i < b->n_rte; i++) {
            int kk = rw_build_rte_col(b, &b->rte[i], col);
            if (kk >= 0) {
                r = r == -1 ? (int)i : -2;
                k = kk;
            }
        }
        if (r == -1 && b->alias_fallback) {
            int o = rw_conv_out_named(b->m, col);
            if (o >= 0 && b->m->out[o].e != NULL) {
                free(col);
                return rw_expr_copy(b->m->out[o].e);
            }
        }
        if (r == -2) {
            rw_build_fail(b, "column %s is ambiguous", col);
        } else if (r == -1) {
            rw_build_fail(b, "unknown column %s", col);
        }
    } else {
        const char *tname = parts[np - 2];
        const char *dbname = np == 3 ? parts[0] : NULL;
        for (i = b->rte_lo; i < b->n_rte; i++) {
            const struct rte *e = &b->rte[i];
            if (e->tab < 0) {
                if (dbname == NULL && strcasecmp(e->alias, tname) == 0) {
                    r = r == -1 ? (int)i : -2;
                }
                continue;
            }
            const struct rw_tab *t = &b->m->tabs[e->tab];
            bool aliased = strcasecmp(t->alias, t->name) != 0;
            if (dbname != NULL) {
                if (!aliased && strcasecmp(t->db, dbname) == 0 && strcasecmp(t->name, tname) == 0) {
                    r = r == -1 ? (int)i : -2;
                }
            } else if (strcasecmp(t->alias, tname) == 0) {
                r = r == -1 ? (int)i : -2;
            }
        }
        if (r >= 0 && (k = rw_build_rte_col(b, &b->rte[r], col)) < 0) {
            rw_build_fail(b, "unknown column %s.%s", tname, col);
        } else if (r == -2) {
            rw_build_fail(b, "table reference %s is ambiguous", tname);
        } else if (r == -1) {
            rw_build_fail(b, "unknown table %s", tname);
        }
    }
    if (b->err != NULL) {
        free(col);
        return NULL;
    }
    {
        struct rw_expr *e = rw_conv_rte_ref(b, &b->rte[r], k, col);
        free(col);
        if (e != NULL) {
            b->ref_rte = r;
            b->ref_k = k;
        }
        return e;
    }
}

/* Literal from an A_Const. */
static struct rw_expr *
conv_const(struct build *b, const PgQuery__AConst *k)
{
    struct rw_expr *e = rw_expr_new(RW_E_CONST, NULL);
    if (e == NULL) {
        rw_build_fail(b, "out of memory");
        return NULL;
    }
    e->text = rw_parse_literal(b->p, k->location);
    if (e->text == NULL) {
        rw_build_fail(b, "cannot read the literal at offset %zu", rw_parse_orig(b->p, k->location));
        rw_expr_free(e);
        return NULL;
    }
    if (k->isnull) {
        e->ctype = RW_C_NULL;
        e->val = rw_strdup("NULL");
    } else {
        switch (k->val_case) {
        case PG_QUERY__A__CONST__VAL_IVAL:
            e->ctype = RW_C_INT;
            e->val = rw_sprintf("%d", (int)(k->ival ? k->ival->ival : 0));
            break;
        case PG_QUERY__A__CONST__VAL_FVAL:
            e->val = rw_strdup(k->fval->fval);
            e->ctype = strpbrk(k->fval->fval, "eE") ? RW_C_FLOAT
                       : strchr(k->fval->fval, '.') ? RW_C_DEC
                                                   : RW_C_INT;
            if (strncmp(e->text, "0x", 2) == 0 || strncmp(e->text, "0X", 2) == 0) {
                e->ctype = RW_C_FLOAT; /* hex: identity only */
            }
            break;
        case PG_QUERY__A__CONST__VAL_SVAL:
            e->ctype = RW_C_STR;
            e->val = rw_strdup(k->sval->sval);
            if (e->text[0] != '\'' && e->text[0] != '"') {
                /* _charset'..' / N'..': the introducer is part of the value's
                 * identity (another character set compares differently) */
                size_t n = strcspn(e->text, "'\" \t\r\n");
                e->name = rw_strndup(e->text, n);
                if (e->name == NULL) {
                    rw_expr_free(e);
                    rw_build_fail(b, "out of memory");
                    return NULL;
                }
                for (char *q = e->name; *q != '\0'; q++) {
                    *q = (char)tolower((unsigned char)*q);
                }
            }
            break;
        case PG_QUERY__A__CONST__VAL_BOOLVAL:
            e->ctype = RW_C_BOOL;
            e->val = rw_strdup(k->boolval->boolval ? "1" : "0");
            break;
        default:
            e->ctype = RW_C_FLOAT;
            e->val = rw_strdup(e->text);
            break;
        }
    }
    if (e->val == NULL) {
        rw_expr_free(e);
        rw_build_fail(b, "out of memory");
        return NULL;
    }
    if (e->ctype == RW_C_INT && e->text[0] != '-' && (e->text[0] < '0' || e->text[0] > '9')) {
        e->ctype = RW_C_FLOAT; /* b'..', X'..' and friends: identity only */
    }
    return e;
}

/* Convert every node of LIST into args of E; false on failure. */
static bool
conv_args(struct build *b, struct rw_expr *e, PgQuery__Node *const *list, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++) {
        struct rw_expr *a = rw_conv(b, list[i]);
        if (a == NULL || rw_expr_add(e, a) != 0) {
            rw_build_fail(b, "out of memory");
            return false;
        }
    }
    return true;
}

/* PostgreSQL's FRAMEOPTION_* bits (parsenodes.h, PG 15) of WindowDef.frame_options. */
enum {
    FO_NONDEFAULT = 0x1, FO_RANGE = 0x2, FO_ROWS = 0x4, FO_GROUPS = 0x8, FO_BETWEEN = 0x10,
    FO_S_UP = 0x20, FO_E_UP = 0x40, FO_S_UF = 0x80, FO_E_UF = 0x100, FO_S_CR = 0x200,
    FO_E_CR = 0x400, FO_S_P = 0x800, FO_E_P = 0x1000, FO_S_F = 0x2000, FO_E_F = 0x4000,
    FO_EXCLUDE = 0x8000 | 0x10000 | 0x20000,
};

/* Append to FR (RW_E_WFRAME) the offset node N of a bound; false on failure. */
static bool
frame_offset(struct build *b, struct rw_expr *fr, const PgQuery__Node *n)
{
    struct rw_expr *o = rw_conv(b, n);
    if (o == NULL) {
        return false;
    }
    if (o->kind != RW_E_CONST || o->ctype != RW_C_INT || o->val[0] == '-') {
        rw_expr_free(o);
        rw_build_fail(b, "window frame offsets other than non-negative integer literals are not "
                         "supported");
        return false;
    }
    if (rw_expr_add(fr, o) != 0) {
        rw_build_fail(b, "out of memory");
        return false;
    }
    return true;
}

/*
 * The frame of window W as an RW_E_WFRAME (see rw_expr.h): the default
 * frame, and an explicit frame equal to it, are "" (RANGE BETWEEN
 * UNBOUNDED PRECEDING AND CURRENT ROW, which is also the whole partition
 * when there is no ORDER BY). NULL with b->err for GROUPS, EXCLUDE and
 * non-literal offsets.
 */
static struct rw_expr *
conv_frame(struct build *b, const PgQuery__WindowDef *w)
{
    int fo = w->frame_options;
    const char *st, *en;
    char *nm;
    struct rw_expr *fr;
    if ((fo & (FO_GROUPS | FO_EXCLUDE)) != 0) {
        rw_build_fail(b, "window frames with GROUPS or EXCLUDE are not supported");
        return NULL;
    }
    if (!(fo & FO_NONDEFAULT) ||
        ((fo & FO_RANGE) && (fo & FO_S_UP) && (fo & FO_E_CR))) {
        return rw_expr_new(RW_E_WFRAME, "");
    }
    st = (fo & FO_S_UP) ? "UP" : (fo & FO_S_CR) ? "CR" : (fo & FO_S_P) ? "P"
         : (fo & FO_S_F) ? "F" : (fo & FO_S_UF) ? "UF" : NULL;
    en = (fo & FO_E_UF) ? "UF" : (fo & FO_E_CR) ? "CR" : (fo & FO_E_P) ? "P"
         : (fo & FO_E_F) ? "F" : (fo & FO_E_UP) ? "UP" : NULL;
    if (!(fo & FO_BETWEEN) && en == NULL) {
        en = "CR"; /* ROWS <start> means BETWEEN <start> AND CURRENT ROW */
    }
    if (st == NULL || en == NULL || !(fo & (FO_ROWS | FO_RANGE))) {
        rw_build_fail(b, "window frame %#x is not supported", (unsigned)fo);
        return NULL;
    }
    if ((fo & FO_RANGE) && (st[0] == 'P' || st[0] == 'F' || en[0] == 'P' || en[0] == 'F')) {
        /* RANGE offsets depend on the ORDER BY type (INTERVAL for dates) */
        rw_build_fail(b, "RANGE window frames with offsets are not supported");
        return NULL;
    }
    nm = rw_sprintf("%s %s %s", (fo & FO_ROWS) ? "ROWS" : "RANGE", st, en);
    fr = nm != NULL ? rw_expr_new(RW_E_WFRAME, nm) : NULL;
    free(nm);
    if (fr == NULL) {
        rw_build_fail(b, "out of memory");
        return NULL;
    }
    if ((st[0] == 'P' || st[0] == 'F') && !frame_offset(b, fr, w->start_offset)) {
        rw_expr_free(fr);
        return NULL;
    }
    if ((en[0] == 'P' || en[0] == 'F') && !frame_offset(b, fr, w->end_offset)) {
        rw_expr_free(fr);
        return NULL;
    }
    return fr;
}

/* Lower-case copy of NAME (caller frees); NULL with "out of memory" failed in B. */
static char *
lower_or_fail(struct build *b, const char *name)
{
    char *low = rw_lower(name);
    if (low == NULL) {
        rw_build_fail(b, "out of memory");
    }
    return low;
}

/* Is the lower-case name LOW one of the NULL-terminated LIST? */
static bool
name_in(const char *low, const char *const *list)
{
    size_t i;
    for (i = 0; list[i] != NULL; i++) {
        if (strcmp(low, list[i]) == 0) {
            return true;
        }
    }
    return false;
}

/*
 * Convert the window function call F (F->over set; RAW its name) into
 * RW_E_WIN (rw_expr.h): the call, PARTITION BY (sorted by canonicalisation),
 * ORDER BY items with their direction, and the frame. Only in the select
 * list and ORDER BY of a block; named windows, DISTINCT, FILTER and
 * functions that are neither aggregates nor MariaDB window functions fail.
 */
static struct rw_expr *
conv_window(struct build *b, const PgQuery__FuncCall *f, const char *raw)
{
    static const char *const aggs[] = {"sum", "count", "min", "max", "avg", "std", "stddev",
                                       "stddev_pop", "stddev_samp", "variance", "var_pop",
                                       "var_samp", "bit_and", "bit_or", "bit_xor", NULL};
    static const char *const wins[] = {"row_number", "rank", "dense_rank", "percent_rank",
                                       "cume_dist", "ntile", "lag", "lead", "first_value",
                                       "last_value", "nth_value", NULL};
    const PgQuery__WindowDef *w = f->over;
    bool is_agg = false, is_win = false, aa = b->allow_agg, aw = b->allow_win;
    struct rw_expr *e = NULL, *call = NULL, *part = NULL, *ord = NULL, *fr = NULL;
    char *low;
    size_t i;
    if (!b->allow_win) {
        rw_build_fail(b, "window function %s() is not allowed here", raw);
        return NULL;
    }
    if ((w->name != NULL && w->name[0] != '\0') || (w->refname != NULL && w->refname[0] != '\0')) {
        rw_build_fail(b, "named windows (OVER w, WINDOW w AS ...) are outside the model");
        return NULL;
    }
    if (f->agg_distinct || f->agg_filter != NULL || f->n_agg_order > 0 || f->agg_within_group ||
        f->func_variadic) {
        rw_build_fail(b, "modifiers on window function %s() are not supported", raw);
        return NULL;
    }
    if ((low = lower_or_fail(b, raw)) == NULL) {
        return NULL;
    }
    is_agg = name_in(low, aggs);
    is_win = name_in(low, wins);
    if (!is_agg && !is_win) {
        rw_build_fail(b, "%s() is not a window function the model knows", raw);
        free(low);
        return NULL;
    }
    call = rw_expr_new(is_agg ? RW_E_AGG : RW_E_FUNC, low);
    e = rw_expr_new(RW_E_WIN, low);
    part = rw_expr_new(RW_E_WPART, NULL);
    ord = rw_expr_new(RW_E_WORDER, NULL);
    free(low);
    if (call == NULL || e == NULL || part == NULL || ord == NULL) {
        rw_build_fail(b, "out of memory");
        goto bad;
    }
    b->allow_agg = true; /* refused below with a clearer reason than "not allowed here" */
    b->allow_win = false;
    if (f->agg_star) {
        if (strcmp(call->name, "count") != 0) {
            rw_build_fail(b, "%s(*) is not supported", call->name);
        }
    } else {
        (void)conv_args(b, call, f->args, f->n_args);
    }
    if (b->err == NULL && is_agg && call->n != (f->agg_star ? 0u : 1u)) {
        rw_build_fail(b, "%s() with %zu arguments is not supported", call->name, call->n);
    }
    for (i = 0; i < w->n_partition_clause && b->err == NULL; i++) {
        struct rw_expr *pe = rw_conv(b, w->partition_clause[i]);
        if (pe != NULL && pe->kind == RW_E_CONST) {
            rw_expr_free(pe);
            rw_build_fail(b, "a literal in a window PARTITION BY is not supported");
            break;
        }
        if (pe == NULL || rw_expr_add(part, pe) != 0) {
            rw_build_fail(b, "out of memory");
        }
    }
    for (i = 0; i < w->n_order_clause && b->err == NULL; i++) {
        const PgQuery__SortBy *sb;
        struct rw_expr *it, *oe;
        if (w->order_clause[i]->node_case != PG_QUERY__NODE__NODE_SORT_BY) {
            rw_build_fail(b, "bad window ORDER BY item");
            break;
        }
        sb = w->order_clause[i]->sort_by;
        if ((sb->sortby_nulls != PG_QUERY__SORT_BY_NULLS__SORTBY_NULLS_DEFAULT &&
             sb->sortby_nulls != PG_QUERY__SORT_BY_NULLS__SORT_BY_NULLS_UNDEFINED) ||
            sb->n_use_op > 0) {
            rw_build_fail(b,
                          "NULLS FIRST/LAST or USING in a window ORDER BY is not MariaDB syntax");
            break;
        }
        oe = rw_conv(b, sb->node);
        if (oe != NULL && oe->kind == RW_E_CONST) {
            rw_expr_free(oe);
            rw_build_fail(b, "a literal in a window ORDER BY is not supported");
            break;
        }
        it = rw_expr_new(RW_E_WSORT, NULL);
        if (oe == NULL || it == NULL || rw_expr_add(it, oe) != 0) {
            rw_expr_free(it);
            rw_build_fail(b, "out of memory");
            break;
        }
        it->neg = sb->sortby_dir == PG_QUERY__SORT_BY_DIR__SORTBY_DESC;
        if (rw_expr_add(ord, it) != 0) {
            rw_build_fail(b, "out of memory");
        }
    }
    b->allow_agg = aa;
    b->allow_win = aw;
    for (i = 0; b->err == NULL && i < call->n; i++) {
        if (rw_expr_has_agg(call->args[i])) {
            rw_build_fail(b, "window functions over aggregates (windows together with GROUP BY or "
                             "aggregates) are outside the model");
        }
    }
    if (b->err == NULL && (rw_expr_has_agg(part) || rw_expr_has_agg(ord))) {
        rw_build_fail(b, "window functions over aggregates (windows together with GROUP BY or "
                         "aggregates) are outside the model");
    }
    if (b->err != NULL) {
        goto bad;
    }
    fr = conv_frame(b, w);
    if (fr == NULL) {
        if (b->err == NULL) {
            rw_build_fail(b, "out of memory");
        }
        goto bad;
    }
    {
        /* rw_expr_add consumes its argument, also on failure */
        struct rw_expr **parts[4] = {&call, &part, &ord, &fr};
        for (i = 0; i < 4; i++) {
            struct rw_expr *x = *parts[i];
            *parts[i] = NULL;
            if (rw_expr_add(e, x) != 0) {
                rw_build_fail(b, "out of memory");
                goto bad;
            }
        }
    }
    b->m->has_win = true;
    return e;
bad:
    rw_expr_free(fr);
    b->allow_agg = aa;
    b->allow_win = aw;
    rw_expr_free(call);
    rw_expr_free(part);
    rw_expr_free(ord);
    rw_expr_free(e);
    return NULL;
}

/*
 * INTERVAL expr unit, which the bridge wrote as mvp_interval(expr, 'unit')
 * with the 'unit' constant located on the unit word (rw_dialect.h): E (the
 * FUNC node "mvp_interval", consumed) gets args[0] = expr and args[1] = a
 * string constant whose value is the lower-case unit and whose text is the
 * unit word as written, so that rw_emit prints INTERVAL expr UNIT again.
 * The interval is structural: matched as a whole, never evaluated.
 */
static struct rw_expr *
conv_interval(struct build *b, struct rw_expr *e, const PgQuery__FuncCall *f)
{
    const PgQuery__AConst *k;
    struct rw_expr *u;
    size_t off, i;
    if (f->n_args != 2 || f->args[1]->node_case != PG_QUERY__NODE__NODE_A_CONST ||
        f->args[1]->a_const->val_case != PG_QUERY__A__CONST__VAL_SVAL) {
        rw_expr_free(e);
        rw_build_fail(b, "unsupported INTERVAL expression");
        return NULL;
    }
    k = f->args[1]->a_const;
    if (rw_expr_add(e, rw_conv(b, f->args[0])) != 0 || b->err != NULL) {
        rw_expr_free(e);
        rw_build_fail(b, "out of memory");
        return NULL;
    }
    off = rw_parse_orig(b->p, k->location);
    i = rw_parse_tok_at(b->p, off);
    u = rw_expr_new(RW_E_CONST, NULL);
    if (u == NULL || i >= b->p->n_toks || b->p->toks[i].off != off ||
        b->p->toks[i].kind != RW_TOK_IDENT) {
        rw_expr_free(u);
        rw_expr_free(e);
        rw_build_fail(b, "cannot read the INTERVAL unit at offset %zu", off);
        return NULL;
    }
    u->ctype = RW_C_STR;
    u->val = rw_strdup(k->sval->sval);
    u->text = rw_strndup(b->p->src + off, b->p->toks[i].len);
    if (u->val == NULL || u->text == NULL || rw_expr_add(e, u) != 0) {
        rw_expr_free(e);
        rw_build_fail(b, "out of memory");
        return NULL;
    }
    for (i = 0; u->text[i] != '\0'; i++) {
        u->text[i] = (char)toupper((unsigned char)u->text[i]);
    }
    return e;
}

/* Convert a FuncCall. */
static struct rw_expr *
conv_func(struct build *b, const PgQuery__FuncCall *f)
{
    static const char *const aggs[] = {"sum", "count", "min", "max", "avg", "group_concat",
                                       "std", "stddev", "stddev_pop", "stddev_samp",
                                       "variance", "var_pop", "var_samp", "bit_and", "bit_or",
                                       "bit_xor", "json_arrayagg", "json_objectagg", NULL};
    const char *raw;
    char *low;
    const char *name;
    bool is_agg = false;
    struct rw_expr *e;
    if (f->n_funcname == 2 && rw_build_sval(f->funcname[0]) != NULL &&
        strcmp(rw_build_sval(f->funcname[0]), "pg_catalog") == 0) {
        rw_build_fail(b, "function syntax %s(...) is not supported", rw_build_sval(f->funcname[1]));
        return NULL;
    }
    if (f->n_funcname != 1 || (raw = rw_build_sval(f->funcname[0])) == NULL) {
        rw_build_fail(b, "qualified function names are not supported");
        return NULL;
    }
    if (f->over != NULL) {
        return conv_window(b, f, raw);
    }
    if (f->agg_filter != NULL || f->n_agg_order > 0 || f->agg_within_group || f->func_variadic) {
        rw_build_fail(b, "aggregate modifiers on %s() are not supported", raw);
        return NULL;
    }
    if ((low = lower_or_fail(b, raw)) == NULL) {
        return NULL;
    }
    is_agg = name_in(low, aggs);
    name = is_agg ? low : rw_func_canon_name(low, f->n_args);
    e = rw_expr_new(is_agg ? RW_E_AGG : RW_E_FUNC, name);
    free(low);
    if (e == NULL) {
        rw_build_fail(b, "out of memory");
        return NULL;
    }
    if (is_agg) {
        bool aa = b->allow_agg;
        if (!aa) {
            rw_build_fail(b, "aggregate %s() is not allowed here", e->name);
            rw_expr_free(e);
            return NULL;
        }
        e->distinct = f->agg_distinct;
        if (f->agg_star) {
            if (strcmp(e->name, "count") != 0) {
                rw_build_fail(b, "%s(*) is not supported", e->name);
                rw_expr_free(e);
                return NULL;
            }
            return e;
        }
        b->allow_agg = false; /* no nested aggregates */
        if (!conv_args(b, e, f->args, f->n_args)) {
            b->allow_agg = aa;
            rw_expr_free(e);
            return NULL;
        }
        b->allow_agg = aa;
        if (e->n != 1 && strcmp(e->name, "group_concat") != 0) {
            rw_build_fail(b, "%s() with %zu arguments is not supported", e->name, e->n);
            rw_expr_free(e);
            return NULL;
        }
        return e;
    }
    if (f->agg_star || f->agg_distinct) {
        rw_build_fail(b, "%s() is not a known aggregate", e->name);
        rw_expr_free(e);
        return NULL;
    }
    if (strcmp(e->name, "mvp_interval") == 0) {
        return conv_interval(b, e, f);
    }
    if (!conv_args(b, e, f->args, f->n_args)) {
        rw_expr_free(e);
        return NULL;
    }
    if (rw_func_nondeterministic(e->name)) {
        b->m->nondet = true;
    }
    return e;
}

/* Map a PG operator name to ours; NULL when unsupported. */
static const char *
op_name(const char *pg)
{
    static const char *const ops[][2] = {
        {"=", "="},   {"<>", "<>"}, {"!=", "<>"}, {"<", "<"},  {"<=", "<="}, {">", ">"},
        {">=", ">="}, {"+", "+"},   {"-", "-"},   {"*", "*"},  {"/", "/"},   {"%", "%"},
        {NULL, NULL}};
    size_t i;
    for (i = 0; ops[i][0] != NULL; i++) {
        if (strcmp(ops[i][0], pg) == 0) {
            return ops[i][1];
        }
    }
    return NULL;
}

/* The integer N of an INTERVAL's expression E (an integer literal, or a
 * string literal holding one, as INTERVAL '1' YEAR); false otherwise. */
static bool
interval_count(const struct rw_expr *e, long *n)
{
    const char *v;
    char *end;
    if (e == NULL || e->kind != RW_E_CONST || (e->ctype != RW_C_INT && e->ctype != RW_C_STR) ||
        (v = e->val) == NULL || *v == '\0') {
        return false;
    }
    *n = strtol(v, &end, 10);
    return *end == '\0' && *n > -100000 && *n < 100000;
}

/*
 * Constant date arithmetic, folded: E is `DATE 'd' + INTERVAL n unit`
 * (either order), or `DATE 'd' - INTERVAL n unit`, with unit DAY, WEEK,
 * MONTH, QUARTER or YEAR. MariaDB computes a DATE from it (KB "DATE_ADD":
 * a month step keeps the day, clamped to the last day of the month, so
 * 2024-01-31 + INTERVAL 1 MONTH is 2024-02-29), and so does this. Returns
 * the new DATE literal (E consumed) so that a range over such a bound
 * (TPC-H's `< DATE '1994-01-01' + INTERVAL 1 YEAR`) is compared with the
 * view's like any literal; E unchanged when it is anything else (a
 * TIMESTAMP literal, an hour unit, a column, a result out of 0001..9999).
 */
static struct rw_expr *
fold_date_interval(struct rw_expr *e)
{
    const struct rw_expr *d, *iv, *u;
    int y, m, day, y2, m2, d2;
    int64_t dn;
    long n, months = 0, days = 0;
    char norm[20], txt[32];
    struct rw_expr *r;
    bool plus;
    if (e == NULL || e->kind != RW_E_OP || e->n != 2 || e->name == NULL) {
        return e;
    }
    plus = strcmp(e->name, "+") == 0;
    if (!plus && strcmp(e->name, "-") != 0) {
        return e;
    }
    d = e->args[0];
    iv = e->args[1];
    if (plus && d->kind == RW_E_FUNC) {
        d = e->args[1]; /* INTERVAL n unit + DATE 'd' */
        iv = e->args[0];
    }
    if (d->kind != RW_E_CONST || d->ctype != RW_C_DATE || d->text == NULL || d->val == NULL ||
        strncasecmp(d->text, "DATE", 4) != 0 || strlen(d->val) != 19 ||
        strcmp(d->val + 10, " 00:00:00") != 0 || iv->kind != RW_E_FUNC || iv->name == NULL ||
        strcmp(iv->name, "mvp_interval") != 0 || iv->n != 2 ||
        !interval_count(iv->args[0], &n) || (u = iv->args[1])->val == NULL ||
        sscanf(d->val, "%4d-%2d-%2d", &y, &m, &day) != 3) {
        return e;
    }
    dn = cat_day_from_ymd(y, m, day);
    cat_day_to_ymd(dn, &y2, &m2, &d2);
    if (y2 != y || m2 != m || d2 != day) {
        return e; /* not a real date (2024-02-30): the backend decides */
    }
    if (strcmp(u->val, "day") == 0) {
        days = n;
    } else if (strcmp(u->val, "week") == 0) {
        days = 7 * n;
    } else if (strcmp(u->val, "month") == 0) {
        months = n;
    } else if (strcmp(u->val, "quarter") == 0) {
        months = 3 * n;
    } else if (strcmp(u->val, "year") == 0) {
        months = 12 * n;
    } else {
        return e;
    }
    if (!plus) {
        days = -days;
        months = -months;
    }
    if (months != 0) {
        long t = (long)y * 12 + (m - 1) + months, last;
        long yy = t >= 0 ? t / 12 : -((-t + 11) / 12);
        int mm = (int)(t - yy * 12) + 1;
        if (yy < 1 || yy > 9999) {
            return e;
        }
        last = (long)(cat_day_from_ymd(mm == 12 ? (int)yy + 1 : (int)yy, mm == 12 ? 1 : mm + 1, 1) -
                      cat_day_from_ymd((int)yy, mm, 1));
        dn = cat_day_from_ymd((int)yy, mm, day > last ? (int)last : day);
    }
    dn += days;
    cat_day_to_ymd(dn, &y2, &m2, &d2);
    if (y2 < 1 || y2 > 9999) {
        return e;
    }
    snprintf(norm, sizeof(norm), "%04d-%02d-%02d 00:00:00", y2, m2, d2);
    snprintf(txt, sizeof(txt), "DATE '%04d-%02d-%02d'", y2, m2, d2);
    r = rw_expr_new(RW_E_CONST, NULL);
    if (r == NULL) {
        return e;
    }
    r->ctype = RW_C_DATE;
    r->val = rw_strdup(norm);
    r->text = rw_strdup(txt);
    if (r->val == NULL || r->text == NULL) {
        rw_expr_free(r);
        return e;
    }
    rw_expr_free(e);
    return r;
}

/* Convert an A_Expr. */
static struct rw_expr *
conv_aexpr(struct build *b, const PgQuery__AExpr *a)
{
    const char *nm = a->n_name > 0 ? rw_build_sval(a->name[a->n_name - 1]) : NULL;
    struct rw_expr *e = NULL;
    const PgQuery__List *l;
    switch (a->kind) {
    case PG_QUERY__A__EXPR__KIND__AEXPR_OP: {
        const char *op = nm ? op_name(nm) : NULL;
        if (op == NULL || a->n_name != 1) {
            rw_build_fail(b, "operator %s is not supported", nm ? nm : "?");
            return NULL;
        }
        e = rw_expr_new(RW_E_OP, op);
        if (e == NULL) {
            break;
        }
        if (a->lexpr != NULL && rw_expr_add(e, rw_conv(b, a->lexpr)) != 0) {
            break;
        }
        if (a->rexpr == NULL || rw_expr_add(e, rw_conv(b, a->rexpr)) != 0) {
            break;
        }
        if (e->n == 1 && strcmp(op, "-") != 0 && strcmp(op, "+") != 0) {
            rw_build_fail(b, "prefix operator %s is not supported", op);
            break;
        }
        return fold_date_interval(e);
    }
    case PG_QUERY__A__EXPR__KIND__AEXPR_NOT_DISTINCT:
        e = rw_expr_new(RW_E_OP, "<=>");
        if (e == NULL || rw_expr_add(e, rw_conv(b, a->lexpr)) != 0 ||
            rw_expr_add(e, rw_conv(b, a->rexpr)) != 0) {
            break;
        }
        return e;
    case PG_QUERY__A__EXPR__KIND__AEXPR_NULLIF:
        e = rw_expr_new(RW_E_FUNC, "nullif");
        if (e == NULL || rw_expr_add(e, rw_conv(b, a->lexpr)) != 0 ||
            rw_expr_add(e, rw_conv(b, a->rexpr)) != 0) {
            break;
        }
        return e;
    case PG_QUERY__A__EXPR__KIND__AEXPR_IN:
        if (a->rexpr == NULL || a->rexpr->node_case != PG_QUERY__NODE__NODE_LIST) {
            rw_build_fail(b, "IN (subquery) is not supported");
            return NULL;
        }
        l = a->rexpr->list;
        e = rw_expr_new(RW_E_IN, NULL);
        if (e == NULL) {
            break;
        }
        e->neg = nm != NULL && strcmp(nm, "<>") == 0;
        if (rw_expr_add(e, rw_conv(b, a->lexpr)) != 0 || !conv_args(b, e, l->items, l->n_items)) {
            break;
        }
        return e;
    case PG_QUERY__A__EXPR__KIND__AEXPR_LIKE:
        e = rw_expr_new(RW_E_LIKE, NULL);
        if (e == NULL) {
            break;
        }
        e->neg = nm != NULL && strcmp(nm, "!~~") == 0;
        if (rw_expr_add(e, rw_conv(b, a->lexpr)) != 0 ||
            rw_expr_add(e, rw_conv(b, a->rexpr)) != 0) {
            break;
        }
        return e;
    case PG_QUERY__A__EXPR__KIND__AEXPR_BETWEEN:
    case PG_QUERY__A__EXPR__KIND__AEXPR_NOT_BETWEEN:
        if (a->rexpr == NULL || a->rexpr->node_case != PG_QUERY__NODE__NODE_LIST ||
            a->rexpr->list->n_items != 2) {
            rw_build_fail(b, "bad BETWEEN");
            return NULL;
        }
        e = rw_expr_new(RW_E_BETWEEN, NULL);
        if (e == NULL) {
            break;
        }
        e->neg = a->kind == PG_QUERY__A__EXPR__KIND__AEXPR_NOT_BETWEEN;
        if (rw_expr_add(e, rw_conv(b, a->lexpr)) != 0 ||
            !conv_args(b, e, a->rexpr->list->items, 2)) {
            break;
        }
        return e;
    default:
        rw_build_fail(b, "expression kind %d is not supported", (int)a->kind);
        return NULL;
    }
    rw_expr_free(e);
    rw_build_fail(b, "out of memory");
    return NULL;
}

/*
 * Canonical MariaDB text of the CAST / CONVERT target type whose first
 * token is at original offset OFF, up to the closing ')' of the call:
 * keywords upper case, one space between words, none around '(' ',' ')';
 * INT / INTEGER / SIGNED INT[EGER] -> SIGNED, UNSIGNED INT[EGER] ->
 * UNSIGNED (MariaDB treats them alike). Returns a new string or NULL when
 * the type cannot be read (unbalanced, empty, or a character set / collation
 * clause, which the matcher does not model).
 */
static char *
cast_type_text(const struct rw_parse *p, size_t off)
{
    struct rw_lexer lx;
    struct rw_buf t = {0};
    size_t i = rw_parse_tok_at(p, off);
    int depth = 0;
    bool prev_word = false;
    char *r;
    rw_lex_init_mode(&lx, p->src, p->src_len, p->mode);
    for (; i < p->n_toks; i++) {
        struct rw_tok k = p->toks[i];
        if (rw_tok_is_op(&lx, k, "(")) {
            depth++;
        } else if (rw_tok_is_op(&lx, k, ")")) {
            if (depth == 0) {
                break;
            }
            depth--;
        }
        if (k.kind == RW_TOK_IDENT) {
            if (rw_tok_is(&lx, k, "CHARACTER") || rw_tok_is(&lx, k, "CHARSET") ||
                rw_tok_is(&lx, k, "COLLATE") || rw_tok_is(&lx, k, "ASCII") ||
                rw_tok_is(&lx, k, "UNICODE")) {
                rw_buf_free(&t);
                return NULL;
            }
            if (prev_word) {
                rw_buf_puts(&t, " ");
            }
            for (size_t c = 0; c < k.len; c++) {
                char ch = p->src[k.off + c];
                ch = (char)(ch >= 'a' && ch <= 'z' ? ch - 32 : ch);
                rw_buf_add(&t, &ch, 1);
            }
            prev_word = true;
        } else if (k.kind == RW_TOK_NUMBER || k.kind == RW_TOK_OP) {
            rw_buf_add(&t, p->src + k.off, k.len);
            prev_word = false;
        } else {
            rw_buf_free(&t);
            return NULL;
        }
    }
    if (i >= p->n_toks || t.len == 0 || t.oom) {
        rw_buf_free(&t);
        return NULL;
    }
    r = rw_buf_take(&t);
    if (r == NULL) {
        return NULL;
    }
    if (strcmp(r, "INT") == 0 || strcmp(r, "INTEGER") == 0 || strcmp(r, "SIGNED INT") == 0 ||
        strcmp(r, "SIGNED INTEGER") == 0) {
        free(r);
        return rw_strdup("SIGNED");
    }
    if (strcmp(r, "UNSIGNED INT") == 0 || strcmp(r, "UNSIGNED INTEGER") == 0) {
        free(r);
        return rw_strdup("UNSIGNED");
    }
    return r;
}

/*
 * CAST(x AS type) / CONVERT(x, type) over an expression: RW_E_CAST named by
 * the canonical target type (cast_type_text), so that two casts match when
 * their operands match and their types are written alike (issue 3,
 * "Expressions: ... casts"). The type text comes from the ORIGINAL MariaDB
 * text, never from the PostgreSQL type name the parser saw.
 */
static struct rw_expr *
conv_cast_expr(struct build *b, const PgQuery__TypeCast *tc)
{
    char *ty;
    struct rw_expr *e;
    if (tc->type_name == NULL || tc->arg == NULL || tc->type_name->n_array_bounds > 0) {
        rw_build_fail(b, "CAST / type conversion is not supported here");
        return NULL;
    }
    ty = cast_type_text(b->p, rw_parse_orig(b->p, tc->type_name->location));
    if (ty == NULL) {
        rw_build_fail(b, "CAST target type at offset %zu is not supported",
                      rw_parse_orig(b->p, tc->type_name->location));
        return NULL;
    }
    e = rw_expr_new(RW_E_CAST, ty);
    free(ty);
    if (e == NULL || rw_expr_add(e, rw_conv(b, tc->arg)) != 0) {
        rw_expr_free(e);
        rw_build_fail(b, "out of memory");
        return NULL;
    }
    return e;
}

/*
 * Text of the typed literal DATE '..' / TIMESTAMP '..' whose string starts
 * at parser location LOC: the keyword of type TN ("date" or "timestamp"),
 * a space and the original string literal (MariaDB reads DATE'x' and
 * DATE 'x' alike). A new string, or NULL when the literal cannot be read.
 */
static char *
typed_literal_text(const struct rw_parse *p, const char *tn, int32_t loc)
{
    char *lit = rw_parse_literal(p, loc), *r;
    size_t n;
    if (lit == NULL) {
        return NULL;
    }
    n = strlen(lit) + 12;
    r = malloc(n);
    if (r != NULL) {
        snprintf(r, n, "%s %s", strcmp(tn, "date") == 0 ? "DATE" : "TIMESTAMP", lit);
    }
    free(lit);
    return r;
}

/* Convert a TypeCast: typed literals DATE '..' / TIMESTAMP '..', else a cast. */
static struct rw_expr *
conv_cast(struct build *b, const PgQuery__TypeCast *tc)
{
    const char *tn = tc->type_name && tc->type_name->n_names > 0
                         ? rw_build_sval(tc->type_name->names[tc->type_name->n_names - 1])
                         : NULL;
    char norm[20];
    struct rw_expr *e;
    if (tn != NULL && (strcmp(tn, "date") == 0 || strcmp(tn, "timestamp") == 0) &&
        tc->arg != NULL && tc->arg->node_case == PG_QUERY__NODE__NODE_A_CONST &&
        tc->arg->a_const->val_case == PG_QUERY__A__CONST__VAL_SVAL &&
        rw_norm_datetime(tc->arg->a_const->sval->sval, norm)) {
        e = rw_expr_new(RW_E_CONST, NULL);
        if (e == NULL) {
            rw_build_fail(b, "out of memory");
            return NULL;
        }
        e->ctype = RW_C_DATE;
        e->val = rw_strdup(norm);
        if (tc->location >= 0) {
            /* CAST('2024-01-01' AS DATE) or '2024-01-01'::date: an ordinary
             * cast. The parser gives a typed literal (makeStringConstCast)
             * no location of its own; its string keeps one. */
            rw_expr_free(e);
            return conv_cast_expr(b, tc);
        }
        e->text = typed_literal_text(b->p, tn, tc->arg->a_const->location);
        if (e->val == NULL || e->text == NULL) {
            rw_expr_free(e);
            rw_build_fail(b, "cannot read the typed literal at offset %zu",
                          rw_parse_orig(b->p, tc->location));
            return NULL;
        }
        return e;
    }
    return conv_cast_expr(b, tc);
}

/* Convert node N into a canonical expression; NULL with b->err on failure. */
static struct rw_expr *
conv_raw(struct build *b, const PgQuery__Node *n)
{
    struct rw_expr *e = NULL;
    size_t i;
    if (n == NULL) {
        rw_build_fail(b, "missing expression");
        return NULL;
    }
    switch (n->node_case) {
    case PG_QUERY__NODE__NODE_COLUMN_REF:
        return conv_colref(b, n->column_ref);
    case PG_QUERY__NODE__NODE_A_CONST:
        return conv_const(b, n->a_const);
    case PG_QUERY__NODE__NODE_TYPE_CAST:
        return conv_cast(b, n->type_cast);
    case PG_QUERY__NODE__NODE_A_EXPR:
        return conv_aexpr(b, n->a_expr);
    case PG_QUERY__NODE__NODE_FUNC_CALL:
        return conv_func(b, n->func_call);
    case PG_QUERY__NODE__NODE_BOOL_EXPR: {
        const PgQuery__BoolExpr *be = n->bool_expr;
        e = rw_expr_new(be->boolop == PG_QUERY__BOOL_EXPR_TYPE__AND_EXPR  ? RW_E_AND
                        : be->boolop == PG_QUERY__BOOL_EXPR_TYPE__OR_EXPR ? RW_E_OR
                                                                          : RW_E_NOT,
                        NULL);
        if (e == NULL || !conv_args(b, e, be->args, be->n_args)) {
            break;
        }
        return e;
    }
    case PG_QUERY__NODE__NODE_NULL_TEST:
        e = rw_expr_new(RW_E_ISNULL, NULL);
        if (e == NULL || rw_expr_add(e, rw_conv(b, n->null_test->arg)) != 0) {
            break;
        }
        e->neg = n->null_test->nulltesttype == PG_QUERY__NULL_TEST_TYPE__IS_NOT_NULL;
        return e;
    case PG_QUERY__NODE__NODE_COALESCE_EXPR:
        e = rw_expr_new(RW_E_FUNC, "coalesce");
        if (e == NULL || !conv_args(b, e, n->coalesce_expr->args, n->coalesce_expr->n_args)) {
            break;
        }
        return e;
    case PG_QUERY__NODE__NODE_MIN_MAX_EXPR:
        e = rw_expr_new(RW_E_FUNC, n->min_max_expr->op == PG_QUERY__MIN_MAX_OP__IS_GREATEST
                                       ? "greatest"
                                       : "least");
        if (e == NULL || !conv_args(b, e, n->min_max_expr->args, n->min_max_expr->n_args)) {
            break;
        }
        return e;
    case PG_QUERY__NODE__NODE_SQLVALUE_FUNCTION: {
        const char *nm;
        switch (n->sqlvalue_function->op) {
        case PG_QUERY__SQLVALUE_FUNCTION_OP__SVFOP_CURRENT_DATE:
            nm = "current_date";
            break;
        case PG_QUERY__SQLVALUE_FUNCTION_OP__SVFOP_CURRENT_TIMESTAMP:
        case PG_QUERY__SQLVALUE_FUNCTION_OP__SVFOP_LOCALTIMESTAMP:
        case PG_QUERY__SQLVALUE_FUNCTION_OP__SVFOP_LOCALTIME:
            nm = "now";
            break;
        case PG_QUERY__SQLVALUE_FUNCTION_OP__SVFOP_CURRENT_TIME:
            nm = "current_time";
            break;
        case PG_QUERY__SQLVALUE_FUNCTION_OP__SVFOP_CURRENT_USER:
        case PG_QUERY__SQLVALUE_FUNCTION_OP__SVFOP_USER:
            nm = "current_user";
            break;
        default:
            rw_build_fail(b, "SQL value function %d is not supported",
                          (int)n->sqlvalue_function->op);
            return NULL;
        }
        b->m->nondet = true;
        e = rw_expr_new(RW_E_FUNC, nm);
        if (e == NULL) {
            break;
        }
        return e;
    }
    case PG_QUERY__NODE__NODE_CASE_EXPR: {
        const PgQuery__CaseExpr *c = n->case_expr;
        e = rw_expr_new(RW_E_CASE, NULL);
        if (e == NULL) {
            break;
        }
        if (c->arg != NULL) {
            e->case_arg = true;
            if (rw_expr_add(e, rw_conv(b, c->arg)) != 0) {
                break;
            }
        }
        for (i = 0; i < c->n_args; i++) {
            const PgQuery__CaseWhen *w = c->args[i]->case_when;
            if (c->args[i]->node_case != PG_QUERY__NODE__NODE_CASE_WHEN ||
                rw_expr_add(e, rw_conv(b, w->expr)) != 0 ||
                rw_expr_add(e, rw_conv(b, w->result)) != 0) {
                goto bad;
            }
        }
        if (c->defresult != NULL) {
            e->has_else = true;
            if (rw_expr_add(e, rw_conv(b, c->defresult)) != 0) {
                break;
            }
        }
        return e;
    }
    case PG_QUERY__NODE__NODE_SUB_LINK:
        rw_build_fail(b, "subqueries in expressions are not supported yet");
        return NULL;
    case PG_QUERY__NODE__NODE_COLLATE_CLAUSE:
        rw_build_fail(b, "an explicit COLLATE overrides the column's collation: such comparisons "
                         "are not matched");
        return NULL;
    case PG_QUERY__NODE__NODE_PARAM_REF:
        rw_build_fail(b, "placeholders are not supported");
        return NULL;
    default:
        rw_build_fail(b, "unsupported expression %s", rw_node_name(n));
        return NULL;
    }
bad:
    rw_expr_free(e);
    rw_build_fail(b, "out of memory");
    return NULL;
}

struct rw_expr *
rw_conv(struct build *b, const PgQuery__Node *n)
{
    struct rw_expr *e;
    if (b->err != NULL) {
        return NULL;
    }
    e = conv_raw(b, n);
    if (e == NULL) {
        rw_build_fail(b, "out of memory");
        return NULL;
    }
    return rw_expr_canon(e);
}
