/*
 * rw_match.c - subsumption tests and output derivation (Goldstein &
 * Larson 2001 §3: equijoin, range and residual subsumption; §4: output and
 * grouping computability, aggregate roll-up), plus time roll-up over a
 * view column equal to DATE(ts). Everything is compared in the query's
 * space: view columns are mapped onto query table instances and every
 * column is replaced by its query equivalence-class representative.
 *
 *   for each table mapping m (view instance -> query instance):
 *     equijoin  ->  range  ->  residual  ->  outputs/grouping  ->  text
 */
#include "rw_match.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "rw_emit.h"
#include "rw_util.h"

/* Matching state for one mapping. */
struct mctx {
    const struct rw_model *q;   /* query block */
    const struct rw_model *v;   /* view model */
    const int *map;             /* view instance -> query instance */
    const int *inv;             /* query instance -> view instance */
    struct rw_expr **vouts;     /* view outputs in query space (NULL = opaque) */
    bool agg_mode;              /* translating inside an aggregate query */
    bool equal_groups;          /* view groups == query groups: aggregates map 1:1 */
    char *why;                  /* first failure (owned) */
};

/* Record the first failure. */
static void
mfail(struct mctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void
mfail(struct mctx *c, const char *fmt, ...)
{
    va_list ap;
    if (c->why != NULL) {
        return;
    }
    va_start(ap, fmt);
    c->why = rw_vsprintf(fmt, ap);
    va_end(ap);
}

/* Text of E with bare column names (for reasons). */
static char *
show(const struct rw_expr *e)
{
    struct rw_buf b = {0};
    rw_emit_expr(&b, e, "", "");
    return rw_buf_take(&b);
}

/* Replace columns of E in place: view instances -> query (when MAP), then class reps. */
static void
to_query_space(const struct rw_model *q, struct rw_expr *e, const int *map)
{
    size_t i;
    if (e->kind == RW_E_COL) {
        int k;
        if (map != NULL) {
            e->tab = map[e->tab];
        }
        k = rw_pred_find(&q->pred, e->tab, e->name);
        if (k >= 0) {
            int r = rw_pred_root(&q->pred, k);
            char *nm = rw_strdup(q->pred.cols[r].col);
            if (nm != NULL) {
                free(e->name);
                e->name = nm;
                e->tab = q->pred.cols[r].tab;
            }
        }
    }
    for (i = 0; i < e->n; i++) {
        to_query_space(q, e->args[i], map);
    }
}

/* Canonical copy of E in query space (MAP NULL for query expressions). */
static struct rw_expr *
qspace(const struct rw_model *q, const struct rw_expr *e, const int *map)
{
    struct rw_expr *c = rw_expr_copy(e);
    if (c == NULL) {
        return NULL;
    }
    to_query_space(q, c, map);
    return rw_expr_canon(c);
}

/* View-column node for output I. */
static struct rw_expr *
vcol(const struct mctx *c, size_t i)
{
    return rw_expr_new(RW_E_VCOL, c->v->out[i].vcol);
}

/* Index of a view output equal to E (query space); AGG_OK allows aggregate outputs. */
static int
find_out(const struct mctx *c, const struct rw_expr *e, bool agg_ok)
{
    size_t i;
    for (i = 0; i < c->v->n_out; i++) {
        if (c->vouts[i] == NULL) {
            continue;
        }
        if (!agg_ok && c->v->is_agg && rw_expr_has_agg(c->vouts[i])) {
            continue;
        }
        if (rw_expr_cmp(c->vouts[i], e) == 0) {
            return (int)i;
        }
    }
    return -1;
}

/* Functions f with f(x) == f(DATE(x)) for datetime x (time roll-up). */
static bool
day_grain_func(const struct rw_expr *e)
{
    static const char *const f[] = {"year", "month", "quarter", "last_day", "date", "day",
                                    "dayofyear", "dayofweek", "weekday", "monthname",
                                    "dayname", "to_days", NULL};
    size_t i;
    if (e->kind != RW_E_FUNC || e->n < 1) {
        return false;
    }
    if (strcmp(e->name, "date_format") == 0 && e->n == 2 && e->args[1]->kind == RW_E_CONST &&
        e->args[1]->ctype == RW_C_STR) {
        const char *p = e->args[1]->val;
        for (; *p != '\0'; p++) {
            if (*p == '%') {
                p++;
                if (*p == '\0' || strchr("YymcMbdejD%", *p) == NULL) {
                    return false;
                }
            }
        }
        return true;
    }
    if (e->n != 1) {
        return false;
    }
    for (i = 0; f[i] != NULL; i++) {
        if (strcmp(f[i], e->name) == 0) {
            return true;
        }
    }
    return false;
}

/* Index of a non-aggregate view output equal to DATE(X); -1 when none. */
static int
find_date_of(const struct mctx *c, const struct rw_expr *x)
{
    struct rw_expr *d = rw_expr_new(RW_E_FUNC, "date");
    int k = -1;
    if (d == NULL || rw_expr_add(d, rw_expr_copy(x)) != 0) {
        rw_expr_free(d);
        return -1;
    }
    d = rw_expr_canon(d);
    if (d != NULL) {
        k = find_out(c, d, false);
    }
    rw_expr_free(d);
    return k;
}

static struct rw_expr *xlate_agg(struct mctx *c, const struct rw_expr *e);

/*
 * Express non-aggregate E (query space) over view outputs: exact output
 * match, time roll-up over DATE(x), or recursively over its operands.
 */
static struct rw_expr *
xlate(struct mctx *c, const struct rw_expr *e)
{
    int k;
    size_t i;
    struct rw_expr *r;
    if (c->why != NULL) {
        return NULL;
    }
    k = find_out(c, e, false);
    if (k >= 0) {
        return vcol(c, (size_t)k);
    }
    switch (e->kind) {
    case RW_E_COL:
        mfail(c, "column %s is not an output of the view%s", e->name,
              c->v->is_agg ? " (as a grouping column)" : "");
        return NULL;
    case RW_E_CONST:
        return rw_expr_copy(e);
    case RW_E_AGG:
        if (c->agg_mode) {
            return xlate_agg(c, e);
        }
        mfail(c, "aggregate is not allowed here");
        return NULL;
    default:
        break;
    }
    if (day_grain_func(e) && (k = find_date_of(c, e->args[0])) >= 0) {
        r = rw_expr_new(RW_E_FUNC, e->name);
        if (r == NULL || rw_expr_add(r, vcol(c, (size_t)k)) != 0) {
            rw_expr_free(r);
            return NULL;
        }
        for (i = 1; i < e->n; i++) {
            if (rw_expr_add(r, xlate(c, e->args[i])) != 0) {
                rw_expr_free(r);
                return NULL;
            }
        }
        return r;
    }
    r = rw_expr_copy(e);
    if (r == NULL) {
        return NULL;
    }
    for (i = 0; i < r->n; i++) {
        rw_expr_free(r->args[i]);
        r->args[i] = xlate(c, e->args[i]);
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
static struct rw_expr *
mkfunc2(const char *kind_op, enum rw_ek kind, struct rw_expr *a, struct rw_expr *b)
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
        k = find_out(c, cnt, true);
    }
    rw_expr_free(cnt);
    if (k < 0 && arg->kind == RW_E_COL) {
        const struct rw_mcol *mc = rw_model_col(c->q, arg->tab, arg->name);
        if (mc != NULL && !mc->nullable) {
            struct rw_expr *star = rw_expr_new(RW_E_AGG, "count");
            if (star != NULL) {
                k = find_out(c, star, true);
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
        if (e->n == 1 && rw_expr_add(r, xlate(c, e->args[0])) != 0) {
            rw_expr_free(r);
            return NULL;
        }
        return r;
    }
    k = find_out(c, e, true);
    if (k >= 0 && c->equal_groups) {
        return vcol(c, (size_t)k);
    }
    if (k >= 0 && !e->distinct) {
        if (strcmp(nm, "sum") == 0 || strcmp(nm, "min") == 0 || strcmp(nm, "max") == 0) {
            return mkagg(nm, vcol(c, (size_t)k), false);
        }
        if (strcmp(nm, "count") == 0) {
            r = mkagg("sum", vcol(c, (size_t)k), false);
            return c->q->n_group == 0 ? mkfunc2("coalesce", RW_E_FUNC, r, zero()) : r;
        }
    }
    if (!e->distinct && strcmp(nm, "count") == 0 && e->n == 1 &&
        (k = find_count(c, e->args[0])) >= 0) {
        r = c->equal_groups ? vcol(c, (size_t)k) : mkagg("sum", vcol(c, (size_t)k), false);
        return c->q->n_group == 0 && !c->equal_groups ? mkfunc2("coalesce", RW_E_FUNC, r, zero())
                                                      : r;
    }
    if (!e->distinct && strcmp(nm, "avg") == 0 && e->n == 1) {
        struct rw_expr *sum = mkagg("sum", rw_expr_copy(e->args[0]), false);
        int ks = sum != NULL ? find_out(c, sum, true) : -1;
        int kc = find_count(c, e->args[0]);
        rw_expr_free(sum);
        if (ks >= 0 && kc >= 0) {
            /* SUM(s) / NULLIF(SUM(c), 0): decimal division adds div_precision_increment
             * (4) to the scale, as AVG does; NULL over no rows like AVG */
            struct rw_expr *num = c->equal_groups ? vcol(c, (size_t)ks)
                                                  : mkagg("sum", vcol(c, (size_t)ks), false);
            struct rw_expr *den = c->equal_groups ? vcol(c, (size_t)kc)
                                                  : mkagg("sum", vcol(c, (size_t)kc), false);
            return mkfunc2("/", RW_E_OP, num, mkfunc2("nullif", RW_E_FUNC, den, zero()));
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
        a = xlate(c, e->args[0]);
        c->agg_mode = saved;
        if (a != NULL) {
            return mkagg(nm, a, e->distinct);
        }
        free(c->why);
        c->why = NULL;
    }
    s = show(e);
    if (e->distinct && e->n == 1) {
        char *arg = show(e->args[0]);
        mfail(c, "%s needs %s as a grouping column of the view", s ? s : "aggregate",
              arg ? arg : "its argument");
        free(arg);
    } else {
        mfail(c, "aggregate %s cannot be derived from the view", s ? s : "");
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
        r = mkfunc2("coalesce", RW_E_FUNC, r, zero());
        if (r == NULL) {
            return NULL;
        }
    }
    return mkcast(r, target);
}

/* Is range QR (query) contained in VR (view)? Both of domain VR->type. */
static bool
range_contains(const struct rw_range *vr, const struct rw_range *qr)
{
    size_t i, j;
    if (qr == NULL || qr->type == RW_R_NONE) {
        return vr->type == RW_R_NONE;
    }
    if (qr->empty) {
        return true;
    }
    if (qr->type != vr->type) {
        return false;
    }
#define RC(a, b) (vr->type == RW_R_NUM ? rw_dec_cmp((a), (b)) : strcmp((a), (b)))
    if (qr->has_pts) {
        for (i = 0; i < qr->n_pts; i++) {
            const char *p = qr->pts[i];
            bool ok = true;
            if (vr->has_lo) {
                int cl = RC(p, vr->lo);
                ok = ok && (cl > 0 || (cl == 0 && vr->lo_incl));
            }
            if (vr->has_hi) {
                int ch = RC(p, vr->hi);
                ok = ok && (ch < 0 || (ch == 0 && vr->hi_incl));
            }
            if (vr->has_pts) {
                bool found = false;
                for (j = 0; j < vr->n_pts; j++) {
                    found = found || RC(p, vr->pts[j]) == 0;
                }
                ok = ok && found;
            }
            if (!ok) {
                return false;
            }
        }
        return true;
    }
    if (vr->has_pts) {
        return false;
    }
    if (vr->has_lo) {
        int cl;
        if (!qr->has_lo) {
            return false;
        }
        cl = RC(qr->lo, vr->lo);
        if (cl < 0 || (cl == 0 && qr->lo_incl && !vr->lo_incl)) {
            return false;
        }
    }
    if (vr->has_hi) {
        int ch;
        if (!qr->has_hi) {
            return false;
        }
        ch = RC(qr->hi, vr->hi);
        if (ch > 0 || (ch == 0 && qr->hi_incl && !vr->hi_incl)) {
            return false;
        }
    }
#undef RC
    return true;
}

/* Compensation list. */
struct comp {
    struct rw_expr **v;     /* predicates over view columns (owned) */
    size_t n;               /* count */
};

/* Add E (consumed) to CP; false on OOM/NULL. */
static bool
comp_add(struct comp *cp, struct rw_expr *e)
{
    struct rw_expr **a;
    if (e == NULL) {
        return false;
    }
    a = realloc(cp->v, (cp->n + 1) * sizeof(*a));
    if (a == NULL) {
        rw_expr_free(e);
        return false;
    }
    cp->v = a;
    cp->v[cp->n++] = e;
    return true;
}

/* Query range source E over a view DATE(col) output: ts >= midnight / ts < midnight only. */
static struct rw_expr *
range_over_date(struct mctx *c, const struct rw_expr *e)
{
    const struct rw_expr *col, *k;
    const char *op;
    int out;
    char norm[20];
    if (e->kind != RW_E_OP || e->n != 2) {
        return NULL;
    }
    if (e->args[0]->kind == RW_E_COL && e->args[1]->kind == RW_E_CONST) {
        col = e->args[0];
        k = e->args[1];
        op = e->name;
    } else if (e->args[1]->kind == RW_E_COL && e->args[0]->kind == RW_E_CONST) {
        col = e->args[1];
        k = e->args[0];
        op = strcmp(e->name, "<=") == 0 ? ">=" : strcmp(e->name, ">") == 0 ? "<" : "?";
    } else {
        return NULL;
    }
    if (strcmp(op, ">=") != 0 && strcmp(op, "<") != 0) {
        return NULL;
    }
    if (k->ctype == RW_C_DATE) {
        strcpy(norm, k->val);
    } else if (k->ctype != RW_C_STR || !rw_norm_datetime(k->val, norm)) {
        return NULL;
    }
    if (strcmp(norm + 10, " 00:00:00") != 0) {
        return NULL; /* not a midnight: DATE(ts) cannot express it */
    }
    out = find_date_of(c, col);
    if (out < 0) {
        return NULL;
    }
    return mkfunc2(op, RW_E_OP, vcol(c, (size_t)out), rw_expr_copy(k));
}

/* Translate query predicate E (query space) into a compensation. */
static bool
compensate(struct mctx *c, struct comp *cp, const struct rw_expr *e)
{
    struct rw_expr *t;
    char *save = c->why, *s;
    c->why = NULL;
    t = xlate(c, e);
    if (t == NULL) {
        t = range_over_date(c, e);
    }
    if (t == NULL) {
        char *inner = c->why;
        c->why = save;
        s = show(e);
        mfail(c, "query filter %s cannot be applied to the view: %s", s ? s : "",
              inner ? inner : "not expressible over its columns");
        free(s);
        free(inner);
        return false;
    }
    free(c->why);
    c->why = save;
    return comp_add(cp, t);
}

/* Equal ranges (bounds and points)? */
static bool
range_equal(const struct rw_range *a, const struct rw_range *b)
{
    return range_contains(a, b) && range_contains(b, a);
}

/* The subsumption tests; fills CP with compensations. */
static bool
subsume(struct mctx *c, struct comp *cp)
{
    const struct rw_pred *qp = &c->q->pred, *vp = &c->v->pred;
    size_t i, j;
    /* 1. equijoin subsumption */
    for (i = 0; i < vp->n_cols; i++) {
        int r = rw_pred_root(vp, (int)i), a, b;
        if (r == (int)i) {
            continue;
        }
        a = rw_pred_find(qp, c->map[vp->cols[i].tab], vp->cols[i].col);
        b = rw_pred_find(qp, c->map[vp->cols[r].tab], vp->cols[r].col);
        if (a < 0 || b < 0 || rw_pred_root(qp, a) != rw_pred_root(qp, b)) {
            mfail(c, "view join predicate %s = %s is not in the query", vp->cols[i].col,
                  vp->cols[r].col);
            return false;
        }
    }
    /* query equalities the view lacks: v.a = v.b over view outputs */
    for (i = 0; i < qp->n_cols; i++) {
        int first_out = -1, first_vroot = -2;
        if (rw_pred_root(qp, (int)i) != (int)i) {
            continue;
        }
        for (j = 0; j < qp->n_cols; j++) {
            int vk, vroot, o = -1;
            size_t k;
            if (rw_pred_root(qp, (int)j) != (int)i) {
                continue;
            }
            vk = rw_pred_find(vp, c->inv[qp->cols[j].tab], qp->cols[j].col);
            vroot = vk >= 0 ? rw_pred_root(vp, vk) : -3 - (int)j;
            if (vroot == first_vroot) {
                continue;
            }
            /* a plain column output of this view class */
            for (k = 0; k < c->v->n_out && o < 0; k++) {
                const struct rw_expr *oe = c->v->out[k].e;
                int ok;
                if (oe == NULL || oe->kind != RW_E_COL) {
                    continue;
                }
                ok = rw_pred_find(vp, oe->tab, oe->name);
                if ((vk >= 0 && ok >= 0 && rw_pred_root(vp, ok) == vroot) ||
                    (oe->tab == c->inv[qp->cols[j].tab] && strcmp(oe->name, qp->cols[j].col) == 0)) {
                    o = (int)k;
                }
            }
            if (first_vroot == -2) {
                first_vroot = vroot;
                first_out = o;
                continue;
            }
            if (o < 0 || first_out < 0) {
                mfail(c, "query join predicate on %s needs the column in the view output",
                      qp->cols[j].col);
                return false;
            }
            if (!comp_add(cp, mkfunc2("=", RW_E_OP, vcol(c, (size_t)first_out),
                                      vcol(c, (size_t)o)))) {
                return false;
            }
            first_vroot = vroot; /* chain a = b, b = c */
            first_out = o;
        }
    }
    /* 2. range subsumption */
    for (i = 0; i < vp->n_cols; i++) {
        const struct rw_range *vr = &vp->ranges[i];
        const struct rw_range *qr = NULL;
        int qk;
        if (vr->type == RW_R_NONE || rw_pred_root(vp, (int)i) != (int)i) {
            continue;
        }
        qk = rw_pred_find(qp, c->map[vp->cols[i].tab], vp->cols[i].col);
        if (qk >= 0) {
            qr = &qp->ranges[rw_pred_root(qp, qk)];
        }
        if (!range_contains(vr, qr)) {
            char *s = vr->n_src > 0 ? show(vr->src[0]) : NULL;
            mfail(c, "view filter %s is not implied by the query", s ? s : vp->cols[i].col);
            free(s);
            return false;
        }
    }
    for (i = 0; i < qp->n_cols; i++) {
        const struct rw_range *qr = &qp->ranges[i];
        bool same = false;
        if (qr->type == RW_R_NONE || rw_pred_root(qp, (int)i) != (int)i) {
            continue;
        }
        for (j = 0; j < qp->n_cols && !same; j++) {
            int vk;
            if (rw_pred_root(qp, (int)j) != (int)i) {
                continue;
            }
            vk = rw_pred_find(vp, c->inv[qp->cols[j].tab], qp->cols[j].col);
            same = vk >= 0 && range_equal(&vp->ranges[rw_pred_root(vp, vk)], qr);
        }
        for (j = 0; j < qr->n_src && !same; j++) {
            struct rw_expr *e = qspace(c->q, qr->src[j], NULL);
            bool ok = e != NULL && compensate(c, cp, e);
            rw_expr_free(e);
            if (!ok) {
                return false;
            }
        }
    }
    /* 3. residual subsumption */
    {
        bool *hit = calloc(qp->n_resid ? qp->n_resid : 1, sizeof(*hit));
        struct rw_expr **qres = calloc(qp->n_resid ? qp->n_resid : 1, sizeof(*qres));
        bool ok = hit != NULL && qres != NULL;
        for (i = 0; ok && i < qp->n_resid; i++) {
            qres[i] = qspace(c->q, qp->resid[i], NULL);
            ok = qres[i] != NULL;
        }
        for (i = 0; ok && i < vp->n_resid; i++) {
            struct rw_expr *ve = qspace(c->q, vp->resid[i], c->map);
            bool found = false;
            for (j = 0; ve != NULL && j < qp->n_resid; j++) {
                if (rw_expr_cmp(ve, qres[j]) == 0) {
                    hit[j] = true;
                    found = true;
                }
            }
            rw_expr_free(ve);
            if (!found) {
                char *s = show(vp->resid[i]);
                mfail(c, "view filter %s is not implied by the query", s ? s : "");
                free(s);
                ok = false;
            }
        }
        for (i = 0; ok && i < qp->n_resid; i++) {
            if (!hit[i]) {
                ok = compensate(c, cp, qres[i]);
            }
        }
        for (i = 0; qres != NULL && i < qp->n_resid; i++) {
            rw_expr_free(qres[i]);
        }
        free(qres);
        free(hit);
        return ok;
    }
}

/* Do the query's and the view's groupings coincide (as sets, in query space)? */
static bool
groups_equal(struct mctx *c)
{
    size_t i, j;
    bool eq = true;
    struct rw_expr **vg = calloc(c->v->n_group ? c->v->n_group : 1, sizeof(*vg));
    struct rw_expr **qg = calloc(c->q->n_group ? c->q->n_group : 1, sizeof(*qg));
    if (vg == NULL || qg == NULL) {
        eq = false;
    }
    for (i = 0; eq && i < c->v->n_group; i++) {
        vg[i] = qspace(c->q, c->v->group[i], c->map);
        eq = vg[i] != NULL;
    }
    for (i = 0; eq && i < c->q->n_group; i++) {
        qg[i] = qspace(c->q, c->q->group[i], NULL);
        eq = qg[i] != NULL;
    }
    for (i = 0; eq && i < c->v->n_group; i++) {
        bool f = false;
        for (j = 0; j < c->q->n_group; j++) {
            f = f || rw_expr_cmp(vg[i], qg[j]) == 0;
        }
        eq = f;
    }
    for (i = 0; eq && i < c->q->n_group; i++) {
        bool f = false;
        for (j = 0; j < c->v->n_group; j++) {
            f = f || rw_expr_cmp(qg[i], vg[j]) == 0;
        }
        eq = f;
    }
    for (i = 0; vg != NULL && i < c->v->n_group; i++) {
        rw_expr_free(vg[i]);
    }
    for (i = 0; qg != NULL && i < c->q->n_group; i++) {
        rw_expr_free(qg[i]);
    }
    free(vg);
    free(qg);
    return eq;
}

/* Translate query expression E (not yet in query space). */
static struct rw_expr *
xq(struct mctx *c, const struct rw_expr *e)
{
    struct rw_expr *qe = qspace(c->q, e, NULL), *t;
    if (qe == NULL) {
        return NULL;
    }
    t = xlate(c, qe);
    rw_expr_free(qe);
    return t;
}

/* Build the replacement block text; NULL with c->why on failure. */
static char *
emit_block(struct mctx *c, const struct comp *cp, const char *vdb, const char *vname)
{
    struct rw_buf b = {0};
    size_t i;
    bool group_by = c->q->is_agg && !c->equal_groups && c->v->is_agg
                        ? true
                        : (c->q->is_agg && !c->v->is_agg);
    struct rw_expr *t;
    size_t nwhere = 0;
    c->agg_mode = c->q->is_agg;
    rw_buf_puts(&b, c->q->distinct ? "SELECT DISTINCT " : "SELECT ");
    for (i = 0; i < c->q->n_out; i++) {
        t = xq(c, c->q->out[i].e);
        if (t == NULL) {
            goto bad;
        }
        if (i > 0) {
            rw_buf_puts(&b, ", ");
        }
        rw_emit_expr(&b, t, vdb, vname);
        rw_expr_free(t);
        rw_buf_puts(&b, " AS ");
        rw_buf_ident(&b, c->q->out[i].name);
    }
    rw_buf_puts(&b, " FROM ");
    rw_buf_ident(&b, vdb);
    rw_buf_puts(&b, ".");
    rw_buf_ident(&b, vname);
    for (i = 0; i < cp->n; i++) {
        rw_buf_puts(&b, nwhere++ == 0 ? " WHERE " : " AND ");
        rw_emit_expr(&b, cp->v[i], vdb, vname);
    }
    if (c->q->having != NULL && !group_by && c->q->is_agg) {
        /* one view row per group: HAVING filters view rows */
        t = xq(c, c->q->having);
        if (t == NULL) {
            goto bad;
        }
        rw_buf_puts(&b, nwhere++ == 0 ? " WHERE " : " AND ");
        rw_emit_expr(&b, t, vdb, vname);
        rw_expr_free(t);
    }
    if (group_by && c->q->n_group > 0) {
        bool saved = c->agg_mode;
        c->agg_mode = false;
        rw_buf_puts(&b, " GROUP BY ");
        for (i = 0; i < c->q->n_group; i++) {
            t = xq(c, c->q->group[i]);
            if (t == NULL) {
                char *s = show(c->q->group[i]);
                free(c->why);
                c->why = NULL;
                mfail(c, "grouping column %s not in view", s ? s : "");
                free(s);
                goto bad;
            }
            if (i > 0) {
                rw_buf_puts(&b, ", ");
            }
            rw_emit_expr(&b, t, vdb, vname);
            rw_expr_free(t);
        }
        c->agg_mode = saved;
    }
    if (c->q->having != NULL && group_by) {
        t = xq(c, c->q->having);
        if (t == NULL) {
            goto bad;
        }
        rw_buf_puts(&b, " HAVING ");
        rw_emit_expr(&b, t, vdb, vname);
        rw_expr_free(t);
    }
    for (i = 0; i < c->q->n_sort; i++) {
        const struct rw_sort *s = &c->q->sort[i];
        rw_buf_puts(&b, i == 0 ? " ORDER BY " : ", ");
        if (s->out_ref >= 0) {
            rw_buf_ident(&b, c->q->out[s->out_ref].name);
        } else {
            t = xq(c, s->e);
            if (t == NULL) {
                goto bad;
            }
            rw_emit_expr(&b, t, vdb, vname);
            rw_expr_free(t);
        }
        if (s->desc) {
            rw_buf_puts(&b, " DESC");
        }
    }
    if (c->q->limit_text != NULL) {
        rw_buf_printf(&b, " LIMIT %s", c->q->limit_text);
        if (c->q->offset_text != NULL) {
            rw_buf_printf(&b, " OFFSET %s", c->q->offset_text);
        }
    } else if (c->q->offset_text != NULL) {
        mfail(c, "OFFSET without LIMIT");
        goto bad;
    }
    return rw_buf_take(&b);
bad:
    if (c->why == NULL) {
        mfail(c, "out of memory");
    }
    rw_buf_free(&b);
    return NULL;
}

/* Match under one table mapping. */
static int
match_mapping(const struct rw_model *q, const struct rw_model *v, const int *map, const int *inv,
              const char *vdb, const char *vname, char **block, int *n_comp, char **reason)
{
    struct mctx c;
    struct comp cp = {0};
    size_t i;
    int rc = 1;
    memset(&c, 0, sizeof(c));
    c.q = q;
    c.v = v;
    c.map = map;
    c.inv = inv;
    c.vouts = calloc(v->n_out ? v->n_out : 1, sizeof(*c.vouts));
    if (c.vouts == NULL) {
        return -1;
    }
    for (i = 0; i < v->n_out; i++) {
        if (v->out[i].e != NULL) {
            c.vouts[i] = qspace(q, v->out[i].e, map);
        }
    }
    if (!q->is_agg && v->is_agg && !q->distinct) {
        mfail(&c, "the query needs every row but the view is aggregated");
    }
    if (c.why == NULL && subsume(&c, &cp)) {
        char *blk = NULL;
        if (q->is_agg && v->is_agg && groups_equal(&c)) {
            c.equal_groups = true;
            blk = emit_block(&c, &cp, vdb, vname);
            if (blk == NULL) {
                free(c.why);
                c.why = NULL;
            }
        }
        if (blk == NULL) {
            c.equal_groups = false;
            blk = emit_block(&c, &cp, vdb, vname);
        }
        if (blk != NULL) {
            *block = blk;
            *n_comp = (int)cp.n;
            rc = 0;
        }
    }
    if (rc != 0) {
        *reason = c.why != NULL ? c.why : rw_strdup("out of memory");
        c.why = NULL;
    }
    free(c.why);
    for (i = 0; i < cp.n; i++) {
        rw_expr_free(cp.v[i]);
    }
    free(cp.v);
    for (i = 0; i < v->n_out; i++) {
        rw_expr_free(c.vouts[i]);
    }
    free(c.vouts);
    return rc;
}

/* Backtracking over mappings of view instance J onward. */
struct mapping_search {
    const struct rw_model *q, *v;   /* models */
    const char *vdb, *vname;        /* storage table */
    int *map, *inv;                 /* current mapping */
    bool *used;                     /* query instances taken */
    char *block;                    /* best block (owned) */
    int n_comp;                     /* its compensations */
    char *reason;                   /* first failure (owned) */
    int tried;                      /* mappings tried */
    bool oom;                       /* OOM seen */
};

/* Try all mappings from view instance J. */
static void
search(struct mapping_search *s, size_t j)
{
    size_t i;
    if (s->tried >= 256 || s->oom) {
        return;
    }
    if (j == s->v->n_tabs) {
        char *blk = NULL, *why = NULL;
        int nc = 0, rc;
        s->tried++;
        rc = match_mapping(s->q, s->v, s->map, s->inv, s->vdb, s->vname, &blk, &nc, &why);
        if (rc < 0) {
            s->oom = true;
        } else if (rc == 0 && (s->block == NULL || nc < s->n_comp)) {
            free(s->block);
            s->block = blk;
            s->n_comp = nc;
            blk = NULL;
        } else if (rc == 1 && s->reason == NULL) {
            s->reason = why;
            why = NULL;
        }
        free(blk);
        free(why);
        return;
    }
    for (i = 0; i < s->q->n_tabs; i++) {
        if (s->used[i] || strcmp(s->q->tabs[i].key, s->v->tabs[j].key) != 0) {
            continue;
        }
        s->used[i] = true;
        s->map[j] = (int)i;
        s->inv[i] = (int)j;
        search(s, j + 1);
        s->used[i] = false;
    }
}

int
rw_match(const struct rw_model *q, const struct rw_model *v, const char *vdb, const char *vname,
         char **block, int *n_comp, char **reason)
{
    struct mapping_search s;
    size_t i, j;
    *block = NULL;
    *reason = NULL;
    *n_comp = 0;
    /* the table multisets must be equal (extra view tables: a later issue) */
    for (i = 0; i < v->n_tabs; i++) {
        size_t nv = 0, nq = 0;
        for (j = 0; j < v->n_tabs; j++) {
            nv += strcmp(v->tabs[j].key, v->tabs[i].key) == 0;
        }
        for (j = 0; j < q->n_tabs; j++) {
            nq += strcmp(q->tabs[j].key, v->tabs[i].key) == 0;
        }
        if (nq < nv) {
            *reason = rw_sprintf("view joins table %s that the query does not", v->tabs[i].key);
            return *reason ? 1 : -1;
        }
    }
    for (i = 0; i < q->n_tabs; i++) {
        size_t nv = 0;
        for (j = 0; j < v->n_tabs; j++) {
            nv += strcmp(v->tabs[j].key, q->tabs[i].key) == 0;
        }
        if (nv == 0) {
            *reason = rw_sprintf("query reads table %s that the view does not", q->tabs[i].key);
            return *reason ? 1 : -1;
        }
    }
    if (q->n_tabs != v->n_tabs) {
        *reason = rw_sprintf("query reads %zu table instances, the view %zu", q->n_tabs, v->n_tabs);
        return *reason ? 1 : -1;
    }
    memset(&s, 0, sizeof(s));
    s.q = q;
    s.v = v;
    s.vdb = vdb;
    s.vname = vname;
    s.map = calloc(v->n_tabs + 1, sizeof(int));
    s.inv = calloc(q->n_tabs + 1, sizeof(int));
    s.used = calloc(q->n_tabs + 1, sizeof(bool));
    if (s.map == NULL || s.inv == NULL || s.used == NULL) {
        s.oom = true;
    } else {
        search(&s, 0);
    }
    free(s.map);
    free(s.inv);
    free(s.used);
    if (s.oom) {
        free(s.block);
        free(s.reason);
        return -1;
    }
    if (s.block != NULL) {
        free(s.reason);
        *block = s.block;
        *n_comp = s.n_comp;
        return 0;
    }
    *reason = s.reason != NULL ? s.reason : rw_strdup("no table mapping matches");
    return 1;
}
