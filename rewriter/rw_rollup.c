/*
 * rw_rollup.c - output derivation and aggregate roll-up (Goldstein & Larson
 * 2001 §4): a query expression expressed over view outputs (exact output
 * match, time roll-up, recursively over operands, window functions computed
 * again, join-back columns), and aggregates rolled up over the view's groups
 * with the result type the original aggregate has on MariaDB.
 */
#include "rw_rollup.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cat.h"
#include "rw_coll.h"
#include "rw_emit.h"
#include "rw_grain.h"
#include "rw_mctx.h"
#include "rw_model.h"
#include "rw_util.h"

static struct rw_expr *xlate_agg(struct mctx *c, const struct rw_expr *e);

/*
 * Append to R the translations (rw_rollup_xlate) of E's arguments FROM.. in order.
 * Returns 0, or -1 when one fails (R keeps what was appended; caller frees).
 */
static int
add_xlated(struct mctx *c, struct rw_expr *r, const struct rw_expr *e, size_t from)
{
    size_t i;
    for (i = from; i < e->n; i++) {
        if (rw_expr_add(r, rw_rollup_xlate(c, e->args[i])) != 0) {
            return -1;
        }
    }
    return 0;
}

/*
 * Window function E (query space) that no view output holds: computed again
 * over the view's rows. Exact only when the rows of the rewritten block
 * (view rows that pass the compensations) are the query block's rows, one
 * for one: the view must not be aggregated (grouped or DISTINCT).
 */
static struct rw_expr *
xlate_win(struct mctx *c, const struct rw_expr *e)
{
    struct rw_expr *r, *call;
    if (c->v->is_agg) {
        rw_mctx_fail(c, "window function %s() is not an output of the view, and the view's rows "
                        "are groups, not the query's rows, to compute it over",
                     e->name);
        return NULL;
    }
    r = rw_expr_new(RW_E_WIN, e->name);
    call = rw_expr_new(e->args[0]->kind, e->args[0]->name);
    if (r == NULL || call == NULL) {
        rw_expr_free(r);
        rw_expr_free(call);
        return NULL;
    }
    if (add_xlated(c, call, e->args[0], 0) != 0) {
        rw_expr_free(call);
        rw_expr_free(r);
        return NULL;
    }
    if (rw_expr_add(r, call) != 0 || add_xlated(c, r, e, 1) != 0) {
        rw_expr_free(r);
        return NULL;
    }
    return r;
}

/*
 * Join-back: column E (query space) read from a joined-back instance, as a
 * plain column of that instance (emitted `alias`.`col`): E itself when its
 * instance is joined back, else a joined-back member of E's equivalence
 * class (equal to E in every row of the result: the class's equalities are
 * all applied, by the view or as compensations). NULL when none.
 */
static struct rw_expr *
back_col(const struct mctx *c, const struct rw_expr *e)
{
    const struct rw_pred *qp = &c->q->pred;
    struct rw_expr *r;
    int k, root;
    size_t j;
    if (c->n_back == 0 || e->kind != RW_E_COL || e->tab < 0) {
        return NULL;
    }
    if (c->inv[e->tab] < 0) {
        return rw_expr_copy(e);
    }
    k = rw_pred_find(qp, e->tab, e->name);
    if (k < 0) {
        return NULL;
    }
    root = rw_pred_root(qp, k);
    for (j = 0; j < qp->n_cols; j++) {
        if (rw_pred_root(qp, (int)j) == root && c->inv[qp->cols[j].tab] < 0) {
            r = rw_expr_new(RW_E_COL, qp->cols[j].col);
            if (r != NULL) {
                r->tab = qp->cols[j].tab;
            }
            return r;
        }
    }
    return NULL;
}

/*
 * Express non-aggregate E (query space) over view outputs: exact output
 * match, time roll-up over DATE(x), or recursively over its operands.
 */
struct rw_expr *
rw_rollup_xlate(struct mctx *c, const struct rw_expr *e)
{
    int k;
    size_t i;
    struct rw_expr *r;
    if (c->why != NULL) {
        return NULL;
    }
    k = rw_mctx_find_out(c, e, false);
    if (k >= 0) {
        if (c->wused != NULL && rw_expr_has_win(c->vouts[k])) {
            c->wused[k] = true;
        }
        return rw_mctx_vcol(c, (size_t)k);
    }
    switch (e->kind) {
    case RW_E_WIN:
        return xlate_win(c, e);
    case RW_E_COL:
        r = back_col(c, e);
        if (r == NULL) {
            r = rw_grain_inv_col(c, e);
        }
        if (r != NULL) {
            return r;
        }
        rw_mctx_fail(c, "column %s is not an output of the view%s", e->name,
                     c->v->is_agg ? " (as a grouping column)" : "");
        return NULL;
    case RW_E_CONST:
        return rw_expr_copy(e);
    case RW_E_AGG:
        if (c->agg_mode) {
            return xlate_agg(c, e);
        }
        rw_mctx_fail(c, "aggregate is not allowed here");
        return NULL;
    default:
        break;
    }
    if (rw_grain_day_func(e)) {
        bool found;
        struct rw_expr *src = rw_grain_day_source(c, e->args[0], &found);
        if (found) {
            r = src != NULL ? rw_expr_new(RW_E_FUNC, e->name) : NULL;
            if (r == NULL) {
                rw_expr_free(src);
                return NULL;
            }
            if (rw_expr_add(r, src) != 0 || add_xlated(c, r, e, 1) != 0) {
                rw_expr_free(r);
                return NULL;
            }
            return r;
        }
    }
    r = rw_expr_copy(e);
    if (r == NULL) {
        return NULL;
    }
    for (i = 0; i < r->n; i++) {
        rw_expr_free(r->args[i]);
        r->args[i] = rw_rollup_xlate(c, e->args[i]);
        if (r->args[i] == NULL) {
            rw_expr_free(r);
            return NULL;
        }
    }
    return r;
}

/* Aggregate NAME over ARG (consumed), DISTINCT as given. */
static struct rw_expr *
mkagg(const char *name, struct rw_expr *arg, bool distinct)
{
    struct rw_expr *a = rw_expr_new(RW_E_AGG, name);
    if (a == NULL || arg == NULL || rw_expr_add(a, arg) != 0) {
        rw_expr_free(a);
        rw_expr_free(arg);
        return NULL;
    }
    a->distinct = distinct;
    return a;
}

/* FUNC NAME(A, B) with both consumed. */
struct rw_expr *
rw_rollup_mkfunc2(const char *kind_op, enum rw_ek kind, struct rw_expr *a, struct rw_expr *b)
{
    struct rw_expr *f = rw_expr_new(kind, kind_op);
    if (f == NULL || a == NULL || b == NULL) {
        rw_expr_free(f);
        rw_expr_free(a);
        rw_expr_free(b);
        return NULL;
    }
    if (rw_expr_add(f, a) != 0) {
        rw_expr_free(f);
        rw_expr_free(b);
        return NULL;
    }
    if (rw_expr_add(f, b) != 0) {
        rw_expr_free(f);
        return NULL;
    }
    return f;
}

/* Integer literal 0. */
static struct rw_expr *
zero(void)
{
    struct rw_expr *z = rw_expr_new(RW_E_CONST, NULL);
    if (z != NULL) {
        z->ctype = RW_C_INT;
        z->val = rw_strdup("0");
        z->text = rw_strdup("0");
    }
    return z;
}

/* View output holding COUNT of the rows where ARG is not NULL (COUNT(arg), or
 * COUNT(*) when ARG is a NOT NULL column); -1 when none. */
static int
find_count(struct mctx *c, const struct rw_expr *arg)
{
    struct rw_expr *cnt = mkagg("count", rw_expr_copy(arg), false);
    int k = -1;
    if (cnt != NULL) {
        k = rw_mctx_find_out(c, cnt, true);
    }
    rw_expr_free(cnt);
    if (k < 0 && arg->kind == RW_E_COL) {
        const struct rw_mcol *mc = rw_model_col(c->q, arg->tab, arg->name);
        if (mc != NULL && !mc->nullable && rw_model_oj_of(c->q, arg->tab) < 0) {
            struct rw_expr *star = rw_expr_new(RW_E_AGG, "count");
            if (star != NULL) {
                k = rw_mctx_find_out(c, star, true);
            }
            rw_expr_free(star);
        }
    }
    return k;
}

/* Roll-up (or 1:1 mapping) of aggregate call E of the query (Goldstein & Larson §4.2). */
static struct rw_expr *
xlate_agg_raw(struct mctx *c, const struct rw_expr *e)
{
    int k;
    const char *nm = e->name;
    struct rw_expr *r = NULL;
    char *s;
    if (!c->v->is_agg) {
        /* aggregate over view rows */
        r = rw_expr_new(RW_E_AGG, nm);
        if (r == NULL) {
            return NULL;
        }
        r->distinct = e->distinct;
        if (e->n == 1 && rw_expr_add(r, rw_rollup_xlate(c, e->args[0])) != 0) {
            rw_expr_free(r);
            return NULL;
        }
        return r;
    }
    k = rw_mctx_find_out(c, e, true);
    if (k >= 0 && c->equal_groups) {
        return rw_mctx_vcol(c, (size_t)k);
    }
    if (k >= 0 && !e->distinct) {
        if (strcmp(nm, "sum") == 0 || strcmp(nm, "min") == 0 || strcmp(nm, "max") == 0) {
            return mkagg(nm, rw_mctx_vcol(c, (size_t)k), false);
        }
        if (strcmp(nm, "count") == 0) {
            r = mkagg("sum", rw_mctx_vcol(c, (size_t)k), false);
            return c->q->n_group == 0 ? rw_rollup_mkfunc2("coalesce", RW_E_FUNC, r, zero()) : r;
        }
    }
    if (!e->distinct && strcmp(nm, "count") == 0 && e->n == 1 &&
        (k = find_count(c, e->args[0])) >= 0) {
        r = c->equal_groups ? rw_mctx_vcol(c, (size_t)k)
                            : mkagg("sum", rw_mctx_vcol(c, (size_t)k), false);
        return c->q->n_group == 0 && !c->equal_groups
                   ? rw_rollup_mkfunc2("coalesce", RW_E_FUNC, r, zero())
                   : r;
    }
    if (!e->distinct && strcmp(nm, "avg") == 0 && e->n == 1) {
        struct rw_expr *sum = mkagg("sum", rw_expr_copy(e->args[0]), false);
        int ks = sum != NULL ? rw_mctx_find_out(c, sum, true) : -1;
        int kc = find_count(c, e->args[0]);
        rw_expr_free(sum);
        if (ks >= 0 && kc >= 0) {
            /* SUM(s) / NULLIF(SUM(c), 0): decimal division adds div_precision_increment
             * (4) to the scale, as AVG does; NULL over no rows like AVG */
            struct rw_expr *num = c->equal_groups
                                      ? rw_mctx_vcol(c, (size_t)ks)
                                      : mkagg("sum", rw_mctx_vcol(c, (size_t)ks), false);
            struct rw_expr *den = c->equal_groups
                                      ? rw_mctx_vcol(c, (size_t)kc)
                                      : mkagg("sum", rw_mctx_vcol(c, (size_t)kc), false);
            return rw_rollup_mkfunc2("/", RW_E_OP, num,
                                     rw_rollup_mkfunc2("nullif", RW_E_FUNC, den, zero()));
        }
    }
    if (!c->equal_groups && e->n == 1 &&
        (e->distinct || strcmp(nm, "min") == 0 || strcmp(nm, "max") == 0) &&
        (strcmp(nm, "count") == 0 || strcmp(nm, "sum") == 0 || strcmp(nm, "min") == 0 ||
         strcmp(nm, "max") == 0 || strcmp(nm, "avg") == 0)) {
        /* DISTINCT aggregates / MIN / MAX of a grouping column: aggregate view rows */
        bool saved = c->agg_mode;
        struct rw_expr *a;
        c->agg_mode = false;
        a = rw_rollup_xlate(c, e->args[0]);
        c->agg_mode = saved;
        if (a != NULL) {
            return mkagg(nm, a, e->distinct);
        }
        free(c->why);
        c->why = NULL;
    }
    s = rw_mctx_show(e);
    if (e->distinct && e->n == 1) {
        char *arg = rw_mctx_show(e->args[0]);
        rw_mctx_fail(c, "%s needs %s as a grouping column of the view", s ? s : "aggregate",
                     arg ? arg : "its argument");
        free(arg);
    } else {
        rw_mctx_fail(c, "aggregate %s cannot be derived from the view", s ? s : "");
    }
    free(s);
    return NULL;
}

/*
 * Decimal precision and scale MariaDB uses for an exact numeric column of
 * MC (Item::decimal_precision(): integer types by their digit count,
 * DECIMAL(p,s) as declared). Returns false for other types (floating
 * point, strings, temporal, YEAR, BIT): their SUM/AVG keep the same type
 * whatever the grouping, so no cast is needed.
 */
static bool
exact_prec(const struct rw_mcol *mc, int *prec, int *scale)
{
    static const struct {
        const char *dt;
        int digits;
    } ints[] = {{"tinyint", 3}, {"smallint", 5}, {"mediumint", 8}, {"int", 10},
                {"integer", 10}, {"bigint", 19}, {NULL, 0}};
    const char *ct = mc->column_type != NULL ? mc->column_type : "";
    size_t i;
    *scale = 0;
    for (i = 0; ints[i].dt != NULL; i++) {
        if (strcmp(mc->data_type, ints[i].dt) == 0) {
            *prec = ints[i].digits;
            if (ints[i].digits == 19 && strstr(ct, "unsigned") != NULL) {
                *prec = 20;
            }
            return true;
        }
    }
    if (strcmp(mc->data_type, "decimal") == 0 || strcmp(mc->data_type, "numeric") == 0) {
        const char *p = strchr(ct, '(');
        int pp = 10, ss = 0;
        if (p != NULL && sscanf(p, "(%d,%d)", &pp, &ss) < 1) {
            return false;
        }
        *prec = pp;
        *scale = ss;
        return pp > 0 && pp <= 65 && ss >= 0 && ss <= 38;
    }
    return false;
}

/*
 * The CAST target that gives a rolled-up aggregate the result type the
 * ORIGINAL aggregate E (query space) has on MariaDB, into OUT: COUNT ->
 * "SIGNED" (BIGINT; a SUM of counts is DECIMAL); SUM(exact col) ->
 * DECIMAL(p+22, s) capped at 65 (Item_sum_sum); AVG(exact col) ->
 * DECIMAL(p+4, s+4) (Item_sum_avg, div_precision_increment 4). Returns
 * false when no cast is needed or the type is unknown (floating point SUM
 * and AVG stay DOUBLE; MIN/MAX keep the column type).
 */
static bool
agg_result_type(const struct mctx *c, const struct rw_expr *e, char *out, size_t outlen)
{
    const struct rw_mcol *mc;
    int p, s;
    if (e->kind != RW_E_AGG || e->distinct) {
        return false;
    }
    if (strcmp(e->name, "count") == 0) {
        snprintf(out, outlen, "SIGNED");
        return true;
    }
    if (e->n != 1 || e->args[0]->kind != RW_E_COL ||
        (strcmp(e->name, "sum") != 0 && strcmp(e->name, "avg") != 0)) {
        return false;
    }
    mc = rw_model_col(c->q, e->args[0]->tab, e->args[0]->name);
    if (mc == NULL || !exact_prec(mc, &p, &s)) {
        return false;
    }
    if (strcmp(e->name, "sum") == 0) {
        snprintf(out, outlen, "DECIMAL(%d,%d)", p + 22 > 65 ? 65 : p + 22, s);
    } else {
        snprintf(out, outlen, "DECIMAL(%d,%d)", p + 4 > 65 ? 65 : p + 4, s + 4 > 38 ? 38 : s + 4);
    }
    return true;
}

/* Does view column VCOL's storage type already equal CAST target TARGET? */
static bool
vcol_has_type(const struct mctx *c, const char *vcol_name, const char *target)
{
    size_t i;
    for (i = 0; i < c->v->n_out; i++) {
        const char *t = c->v->out[i].vtype;
        if (c->v->out[i].vcol == NULL || strcmp(c->v->out[i].vcol, vcol_name) != 0 || t == NULL) {
            continue;
        }
        if (strcmp(target, "SIGNED") == 0) {
            return strncmp(t, "bigint", 6) == 0 && strstr(t, "unsigned") == NULL;
        }
        return strcasecmp(t, target) == 0;
    }
    return false;
}

/* CAST(A AS TARGET), A consumed. */
static struct rw_expr *
mkcast(struct rw_expr *a, const char *target)
{
    struct rw_expr *r = rw_expr_new(RW_E_CAST, target);
    if (r == NULL || a == NULL || rw_expr_add(r, a) != 0) {
        rw_expr_free(r);
        rw_expr_free(a);
        return NULL;
    }
    return r;
}

/*
 * Aggregate E of the query over the view, with the result type of the
 * original (result-set metadata fidelity: BI tools read column types).
 * Roll-ups change the type (SUM of a BIGINT count column is DECIMAL; a SUM
 * of a DECIMAL(34,2) sum column is DECIMAL(56,2); SUM/NULLIF(SUM) is wider
 * than AVG), so the derived expression is wrapped in CAST(.. AS <type the
 * original aggregate has>) unless it is a plain read of a view column that
 * already has it. COUNT becomes CAST(COALESCE(x, 0) AS SIGNED): BIGINT,
 * NOT NULL and display length 21, as COUNT reports. The values are
 * unchanged: the target is exactly the original's type, which holds them.
 */
static struct rw_expr *
xlate_agg(struct mctx *c, const struct rw_expr *e)
{
    char target[40];
    struct rw_expr *r = xlate_agg_raw(c, e);
    if (r == NULL || !c->v->is_agg || !agg_result_type(c, e, target, sizeof(target))) {
        return r;
    }
    if (r->kind == RW_E_VCOL && vcol_has_type(c, r->name, target)) {
        return r;
    }
    if (r->kind == RW_E_AGG && r->distinct) {
        return r; /* aggregate over view grouping columns: already the original type */
    }
    if (strcmp(target, "SIGNED") == 0 &&
        !(r->kind == RW_E_FUNC && strcmp(r->name, "coalesce") == 0)) {
        /* COUNT is never NULL: COALESCE(.., 0) inside the CAST gives BIGINT NOT NULL with
         * COUNT's display length (21), and changes no value (a count column is NULL only
         * when summed over no rows, where COUNT is 0) */
        r = rw_rollup_mkfunc2("coalesce", RW_E_FUNC, r, zero());
        if (r == NULL) {
            return NULL;
        }
    }
    return mkcast(r, target);
}
