/*
 * rw_match.c - subsumption tests and output derivation (Goldstein &
 * Larson 2001 §3: equijoin, range and residual subsumption; §4: output and
 * grouping computability, aggregate roll-up), plus time roll-up over a
 * view column equal to DATE(ts). Everything is compared in the query's
 * space: view columns are mapped onto query table instances and every
 * column is replaced by its query equivalence-class representative.
 *
 *   for each table mapping m (view instance -> query instance, or none for
 *   an extra view table that must be a lossless join):
 *     join elimination -> outer joins (same LEFT JOIN + ON, or LEFT answering
 *     INNER with `v.col IS NOT NULL`) -> equijoin -> range -> residual ->
 *     outputs/grouping -> text
 */
#include "rw_match.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cat.h"
#include "rw_coll.h"
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
    bool *wused;                /* per view output: a window value the rewrite reads */
    bool no_win_reuse;          /* compute every window again over the view's rows */
    size_t n_back;              /* query instances joined back (inv < 0); 0: none */
    char **ralias;              /* per query instance: alias of a joined-back one, else NULL
                                   (owned; NULL when n_back is 0) */
    char *why;                  /* first failure (owned) */
    char *note;                 /* informational constraints a join elimination relied on (owned) */
    char *topn_limit;           /* Top-N view: the LIMIT to emit instead of the query's (owned) */
    char *topn_offset;          /* ... and the OFFSET into the view's rows (owned) */
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
        if (c->no_win_reuse && rw_expr_has_win(c->vouts[i])) {
            continue;
        }
        if (rw_expr_cmp(c->vouts[i], e) == 0) {
            return (int)i;
        }
    }
    return -1;
}

/* Truncation grains of a time column, finest first (G_WEEK: the Monday of
 * x's week, at 00:00:00; G_QUARTER: the first day of x's quarter). */
enum grain {
    G_SECOND = 0,
    G_MINUTE,
    G_HOUR,
    G_DAY,
    G_WEEK,
    G_MONTH,
    G_QUARTER,
    G_YEAR,
    G_NONE
};

/* Grain of DATE_FORMAT format FMT when it prints a truncated datetime that
 * MariaDB reads back as one ('%Y-%m-01' is the first of the month); G_NONE
 * otherwise. Only fixed-width, most-significant-first formats: '%y' (two
 * digits), '%c' / '%e' (no leading zero) and the like are not read back
 * exactly and are not listed. */
static enum grain
format_grain(const char *fmt)
{
    static const struct {
        const char *fmt;
        enum grain g;
    } f[] = {{"%Y-%m-%d %H:%i:%s", G_SECOND}, {"%Y-%m-%d %H:%i:%S", G_SECOND},
             {"%Y-%m-%d %H:%i:00", G_MINUTE}, {"%Y-%m-%d %H:00:00", G_HOUR},
             {"%Y-%m-%d", G_DAY},             {"%Y-%m-%d 00:00:00", G_DAY},
             {"%Y-%m-01", G_MONTH},           {"%Y-%m-01 00:00:00", G_MONTH},
             {"%Y-01-01", G_YEAR},            {"%Y-01-01 00:00:00", G_YEAR}};
    size_t i;
    for (i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
        if (strcmp(f[i].fmt, fmt) == 0) {
            return f[i].g;
        }
    }
    return G_NONE;
}

/* Is E the one-argument function NAME? */
static bool
is_func1(const struct rw_expr *e, const char *name)
{
    return e->kind == RW_E_FUNC && e->n == 1 && strcmp(e->name, name) == 0;
}

/* Is E the bridge's INTERVAL expr UNIT (rw_model.c conv_interval) in UNIT? */
static bool
is_interval(const struct rw_expr *e, const char *unit)
{
    return e->kind == RW_E_FUNC && e->n == 2 && strcmp(e->name, "mvp_interval") == 0 &&
           e->args[1]->kind == RW_E_CONST && e->args[1]->ctype == RW_C_STR &&
           strcasecmp(e->args[1]->val, unit) == 0;
}

/* If E is date arithmetic D - INTERVAL (DATE_SUB, SUBDATE or `-`; ADD: DATE_ADD,
 * ADDDATE or `+`), set *D and *IV to its operands. */
static bool
date_arith(const struct rw_expr *e, bool add, const struct rw_expr **d, const struct rw_expr **iv)
{
    if (e->n != 2 || e->name == NULL) {
        return false;
    }
    if (!(e->kind == RW_E_FUNC && strcmp(e->name, add ? "date_add" : "date_sub") == 0) &&
        !(e->kind == RW_E_FUNC && strcmp(e->name, add ? "adddate" : "subdate") == 0) &&
        !(e->kind == RW_E_OP && strcmp(e->name, add ? "+" : "-") == 0)) {
        return false;
    }
    if (e->args[1]->kind != RW_E_FUNC || strcmp(e->args[1]->name, "mvp_interval") != 0) {
        return false;
    }
    *d = e->args[0];
    *iv = e->args[1];
    return true;
}

/*
 * If view output expression E (query space) is a temporal truncation of a
 * column, return its grain, set *X to the column and *STR to whether the
 * value is a string that must be CAST back to DATETIME before it compares
 * as a time; G_NONE otherwise. Recognised, each also under CAST(... AS DATE
 * / DATETIME):
 *   DATE(x)                                              day
 *   MAKEDATE(YEAR(x), 1)                                 year
 *   MAKEDATE(YEAR(x), 1) + INTERVAL (QUARTER(x) - 1) QUARTER   quarter
 *   DATE_SUB(DATE(x), INTERVAL WEEKDAY(x) DAY)           week (Monday)
 *   DATE_FORMAT(x, <truncating format>)                  format_grain();
 *                                                        a string when bare
 * A bare DATE_FORMAT compares as a string; the callers compare
 * CAST(v AS DATETIME) instead (its fixed-width format reads back exactly).
 */
static enum grain
trunc_of(const struct rw_expr *e, const struct rw_expr **x, bool *str)
{
    enum grain g = G_NONE;
    bool cast = false, to_date = false;
    const struct rw_expr *d, *iv;
    *str = false;
    if (e->kind == RW_E_CAST && e->n == 1) {
        if (strncmp(e->name, "DATETIME", 8) == 0) {
            cast = true;
        } else if (strcmp(e->name, "DATE") == 0) {
            cast = to_date = true;
        } else {
            return G_NONE;
        }
        e = e->args[0];
    }
    if (date_arith(e, false, &d, &iv) && is_func1(d, "date") && is_interval(iv, "day") &&
        is_func1(iv->args[0], "weekday") &&
        (rw_expr_cmp(iv->args[0]->args[0], d->args[0]) == 0 ||
         rw_expr_cmp(iv->args[0]->args[0], d) == 0)) {
        g = G_WEEK;
        e = d->args[0];
    } else if (date_arith(e, true, &d, &iv) && d->kind == RW_E_FUNC &&
               strcmp(d->name, "makedate") == 0 && is_interval(iv, "quarter") &&
               iv->args[0]->kind == RW_E_OP && strcmp(iv->args[0]->name, "-") == 0 &&
               iv->args[0]->n == 2 && is_func1(iv->args[0]->args[0], "quarter") &&
               iv->args[0]->args[1]->kind == RW_E_CONST &&
               iv->args[0]->args[1]->ctype == RW_C_INT &&
               strcmp(iv->args[0]->args[1]->val, "1") == 0 &&
               trunc_of(d, x, str) == G_YEAR && !*str &&
               rw_expr_cmp(iv->args[0]->args[0]->args[0], *x) == 0) {
        g = G_QUARTER;
        e = *x;
    } else if (e->kind != RW_E_FUNC) {
        return G_NONE;
    } else if (is_func1(e, "date")) {
        g = G_DAY;
        e = e->args[0];
    } else if (strcmp(e->name, "makedate") == 0 && e->n == 2 && e->args[1]->kind == RW_E_CONST &&
               e->args[1]->ctype == RW_C_INT && strcmp(e->args[1]->val, "1") == 0 &&
               is_func1(e->args[0], "year")) {
        g = G_YEAR;
        e = e->args[0]->args[0];
    } else if (strcmp(e->name, "date_format") == 0 && e->n == 2 &&
               e->args[1]->kind == RW_E_CONST && e->args[1]->ctype == RW_C_STR) {
        g = format_grain(e->args[1]->val);
        *str = !cast;
        e = e->args[0];
    }
    if (g == G_NONE || e->kind != RW_E_COL) {
        *str = false;
        return G_NONE;
    }
    if (to_date && g < G_DAY) {
        g = G_DAY;
    }
    *x = e;
    return g;
}

/*
 * Cast type that holds every value of column MC exactly ("DATE" for a DATE
 * column, "DATETIME" for a DATETIME without fractional seconds) and set *OWN
 * to the column's own grain (G_DAY, G_SECOND); NULL for any other column
 * (fractional seconds are finer than any grain; a TIMESTAMP reads in the
 * session's time zone).
 */
static const char *
exact_cast(const struct rw_mcol *mc, enum grain *own)
{
    if (mc == NULL || mc->data_type == NULL) {
        return NULL;
    }
    if (strcmp(mc->data_type, "date") == 0) {
        *own = G_DAY;
        return "DATE";
    }
    if (strcmp(mc->data_type, "datetime") == 0 && mc->column_type != NULL &&
        (strcmp(mc->column_type, "datetime") == 0 || strcmp(mc->column_type, "datetime(0)") == 0)) {
        *own = G_SECOND;
        return "DATETIME";
    }
    return NULL;
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

/* View column I read as a time: CAST(v AS DATETIME) when STR (a bare
 * DATE_FORMAT string), else v itself. NULL on OOM. */
static struct rw_expr *
vtime(const struct mctx *c, size_t i, bool str)
{
    struct rw_expr *v = vcol(c, i), *r;
    if (v == NULL || !str) {
        return v;
    }
    r = rw_expr_new(RW_E_CAST, "DATETIME");
    if (r == NULL || rw_expr_add(r, v) != 0) {
        rw_expr_free(r);
        return NULL;
    }
    return r;
}

/*
 * A view output from which F(X) == F(DATE(X)) can be computed for a DATE /
 * DATETIME / TIMESTAMP column X (query space): DATE(X) itself, or any other
 * truncation of X to a grain no coarser than a day (trunc_of: DATE(t(X)) ==
 * DATE(X)), read as a time (vtime). *FOUND tells whether one exists; the
 * result is NULL when none or on OOM.
 */
static struct rw_expr *
day_source(const struct mctx *c, const struct rw_expr *x, bool *found)
{
    int k = find_date_of(c, x);
    const struct rw_mcol *mc;
    size_t i;
    *found = false;
    if (k >= 0) {
        *found = true;
        return vcol(c, (size_t)k);
    }
    if (x->kind != RW_E_COL) {
        return NULL;
    }
    mc = rw_model_col(c->q, x->tab, x->name);
    if (mc == NULL || rw_rtype_of(mc->data_type) != RW_R_DT) {
        return NULL;
    }
    for (i = 0; i < c->v->n_out; i++) {
        const struct rw_expr *tx = NULL;
        bool str;
        enum grain g;
        if (c->vouts[i] == NULL || (c->v->is_agg && rw_expr_has_agg(c->vouts[i]))) {
            continue;
        }
        g = trunc_of(c->vouts[i], &tx, &str);
        if (g <= G_DAY && rw_expr_cmp(tx, x) == 0) {
            *found = true;
            return vtime(c, i, str);
        }
    }
    return NULL;
}

/*
 * Column E (query space) recovered exactly from a view output that
 * truncates it to a grain no coarser than the column's own (a DATE column
 * under DATE(x) or CAST(DATE_FORMAT(x, '%Y-%m-%d %H:%i:00') AS DATETIME), a
 * DATETIME(0) column under DATE_FORMAT(x, '%Y-%m-%d %H:%i:%s')): the
 * truncation is then the identity on x's values, and CAST(v AS <x's type>)
 * is x, type and value, NULL for NULL. NULL when no such output.
 */
static struct rw_expr *
inv_col(const struct mctx *c, const struct rw_expr *e)
{
    enum grain own = G_NONE;
    const char *type;
    size_t i;
    if (e->kind != RW_E_COL) {
        return NULL;
    }
    type = exact_cast(rw_model_col(c->q, e->tab, e->name), &own);
    if (type == NULL) {
        return NULL;
    }
    for (i = 0; i < c->v->n_out; i++) {
        const struct rw_expr *tx = NULL;
        bool str;
        enum grain g;
        struct rw_expr *r, *v;
        if (c->vouts[i] == NULL || (c->v->is_agg && rw_expr_has_agg(c->vouts[i]))) {
            continue;
        }
        g = trunc_of(c->vouts[i], &tx, &str);
        if (g > own || rw_expr_cmp(tx, e) != 0) {
            continue;
        }
        r = rw_expr_new(RW_E_CAST, type);
        v = vcol(c, i);
        if (r == NULL || v == NULL || rw_expr_add(r, v) != 0) {
            rw_expr_free(r);
            return NULL;
        }
        return r;
    }
    return NULL;
}

static struct rw_expr *xlate_agg(struct mctx *c, const struct rw_expr *e);
static struct rw_expr *xlate(struct mctx *c, const struct rw_expr *e);

/*
 * Append to R the translations (xlate) of E's arguments FROM.. in order.
 * Returns 0, or -1 when one fails (R keeps what was appended; caller frees).
 */
static int
add_xlated(struct mctx *c, struct rw_expr *r, const struct rw_expr *e, size_t from)
{
    size_t i;
    for (i = from; i < e->n; i++) {
        if (rw_expr_add(r, xlate(c, e->args[i])) != 0) {
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
        mfail(c, "window function %s() is not an output of the view, and the view's rows are "
                 "groups, not the query's rows, to compute it over",
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
        if (c->wused != NULL && rw_expr_has_win(c->vouts[k])) {
            c->wused[k] = true;
        }
        return vcol(c, (size_t)k);
    }
    switch (e->kind) {
    case RW_E_WIN:
        return xlate_win(c, e);
    case RW_E_COL:
        r = back_col(c, e);
        if (r == NULL) {
            r = inv_col(c, e);
        }
        if (r != NULL) {
            return r;
        }
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
    if (day_grain_func(e)) {
        bool found;
        struct rw_expr *src = day_source(c, e->args[0], &found);
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
        if (mc != NULL && !mc->nullable && rw_model_oj_of(c->q, arg->tab) < 0) {
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

/*
 * Order of comparable values A and B of range VR's domain into *RES; false
 * when it is not known exactly (strings: collation VR->coll, rw_coll.h).
 */
static bool
rc_cmp(const struct rw_range *vr, const char *a, const char *b, int *res)
{
    if (vr->type == RW_R_NUM) {
        *res = rw_dec_cmp(a, b);
        return true;
    }
    if (vr->type == RW_R_STR) {
        return rw_coll_cmp(vr->coll, a, b, res);
    }
    *res = strcmp(a, b);
    return true;
}

/* Are A and B known to be equal values of range VR's domain? */
static bool
rc_eq(const struct rw_range *vr, const char *a, const char *b)
{
    bool eq;
    int c;
    if (vr->type == RW_R_STR) {
        return rw_coll_eq(vr->coll, a, b, &eq) && eq;
    }
    return rc_cmp(vr, a, b, &c) && c == 0;
}

/* Is range QR (query) contained in VR (view)? Both of domain VR->type; a
 * comparison that cannot be decided (strings, rw_coll.h) means no. */
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
    if (vr->type == RW_R_STR &&
        (vr->coll == NULL || qr->coll == NULL ? vr->coll != qr->coll
                                              : strcmp(vr->coll, qr->coll) != 0)) {
        return false; /* the column's collation changed between the two schemas */
    }
    if (qr->has_pts) {
        for (i = 0; i < qr->n_pts; i++) {
            const char *p = qr->pts[i];
            bool ok = true;
            int cl, ch;
            if (vr->has_lo) {
                ok = ok && rc_cmp(vr, p, vr->lo, &cl) && (cl > 0 || (cl == 0 && vr->lo_incl));
            }
            if (vr->has_hi) {
                ok = ok && rc_cmp(vr, p, vr->hi, &ch) && (ch < 0 || (ch == 0 && vr->hi_incl));
            }
            if (vr->has_pts) {
                bool found = false;
                for (j = 0; j < vr->n_pts; j++) {
                    found = found || rc_eq(vr, p, vr->pts[j]);
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
        if (!qr->has_lo || !rc_cmp(vr, qr->lo, vr->lo, &cl)) {
            return false;
        }
        if (cl < 0 || (cl == 0 && qr->lo_incl && !vr->lo_incl)) {
            return false;
        }
    }
    if (vr->has_hi) {
        int ch;
        if (!qr->has_hi || !rc_cmp(vr, qr->hi, vr->hi, &ch)) {
            return false;
        }
        if (ch > 0 || (ch == 0 && qr->hi_incl && !vr->hi_incl)) {
            return false;
        }
    }
    return true;
}

/* Why a string comparison on a column of residual conjunct E stayed out of
 * the ranges of PRED (rw_range.note), or NULL. */
static const char *
resid_note(const struct rw_pred *pred, const struct rw_expr *e)
{
    size_t i;
    for (i = 0; i < e->n && i < 2; i++) {
        int k;
        if (e->args[i]->kind != RW_E_COL) {
            continue;
        }
        k = rw_pred_find(pred, e->args[i]->tab, e->args[i]->name);
        if (k >= 0 && pred->ranges[rw_pred_root(pred, k)].note != NULL) {
            return pred->ranges[rw_pred_root(pred, k)].note;
        }
    }
    return NULL;
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

/* Is the normalised datetime N ('YYYY-MM-DD HH:MM:SS') a boundary of grain G? */
static bool
aligned(const char *n, enum grain g)
{
    switch (g) {
    case G_YEAR:
        if (strncmp(n + 5, "01-01", 5) != 0) {
            return false;
        }
        return aligned(n, G_DAY);
    case G_QUARTER:
        if (strncmp(n + 5, "01-01", 5) != 0 && strncmp(n + 5, "04-01", 5) != 0 &&
            strncmp(n + 5, "07-01", 5) != 0 && strncmp(n + 5, "10-01", 5) != 0) {
            return false;
        }
        return aligned(n, G_DAY);
    case G_MONTH:
        if (strncmp(n + 8, "01", 2) != 0) {
            return false;
        }
        return aligned(n, G_DAY);
    case G_WEEK:
        if (rw_weekday(n) != 0) {
            return false;
        }
        return aligned(n, G_DAY);
    case G_DAY:
        return strcmp(n + 10, " 00:00:00") == 0;
    case G_HOUR:
        return strcmp(n + 13, ":00:00") == 0;
    case G_MINUTE:
        return strcmp(n + 16, ":00") == 0;
    case G_SECOND:
        return true;
    default:
        return false;
    }
}

/*
 * Shift of query range side S: S is a column (*DAYS = 0), or DATE_ADD /
 * DATE_SUB / ADDDATE / SUBDATE / `+` / `-` of a column and INTERVAL n DAY
 * or n WEEK with an integer literal n (*DAYS = the signed shift in days).
 * Returns the column, or NULL for anything else.
 */
static const struct rw_expr *
shifted_col(const struct rw_expr *s, long *days)
{
    const struct rw_expr *d, *iv;
    bool add;
    long n;
    char *end;
    *days = 0;
    if (s->kind == RW_E_COL) {
        return s;
    }
    if (date_arith(s, true, &d, &iv)) {
        add = true;
    } else if (date_arith(s, false, &d, &iv)) {
        add = false;
    } else {
        return NULL;
    }
    if (d->kind != RW_E_COL || iv->args[0]->kind != RW_E_CONST ||
        iv->args[0]->ctype != RW_C_INT || (!is_interval(iv, "day") && !is_interval(iv, "week"))) {
        return NULL;
    }
    n = strtol(iv->args[0]->val, &end, 10);
    if (*end != '\0' || n > 4000000L || n < -4000000L) {
        return NULL;
    }
    if (is_interval(iv, "week")) {
        n *= 7;
    }
    *days = add ? n : -n;
    return d;
}

/*
 * Query range source E (`s >= M` or `s < M`, query space) over a view output
 * f(x) that truncates x to a grain (trunc_of): since f(x) <= x < the next
 * boundary after f(x), for M on a boundary of the grain x >= M <=> f(x) >= M
 * and x < M <=> f(x) < M. s is x, or x shifted by whole days (DATE_ADD(x,
 * INTERVAL n DAY), shifted_col) when the grain is a day or finer, or by
 * whole weeks under a week grain: the shift commutes with the truncation,
 * f(x + n) = f(x) + n, and overflows (NULL) for the same rows (the range of
 * DATETIME ends on a day boundary, 9999-12-31 23:59:59.999999), so the
 * compensation is the same shift of f(x). Only for a DATE / DATETIME /
 * TIMESTAMP column x (a string column compares as text, DATE(x) as a date)
 * and a strict datetime literal M; a DATE column also needs M at midnight
 * (the two sides then compare the same whichever type MariaDB compares them
 * in). A bare DATE_FORMAT output is compared as CAST(v AS DATETIME).
 */
static struct rw_expr *
range_over_date(struct mctx *c, const struct rw_expr *e)
{
    const struct rw_expr *col, *side, *k;
    const struct rw_mcol *mc;
    const char *op;
    size_t i;
    long days;
    char norm[20];
    if (e->kind != RW_E_OP || e->n != 2) {
        return NULL;
    }
    if (e->args[1]->kind == RW_E_CONST) {
        side = e->args[0];
        k = e->args[1];
        op = e->name;
    } else if (e->args[0]->kind == RW_E_CONST) {
        side = e->args[1];
        k = e->args[0];
        op = strcmp(e->name, "<=") == 0 ? ">=" : strcmp(e->name, ">") == 0 ? "<" : "?";
    } else {
        return NULL;
    }
    col = shifted_col(side, &days);
    if (col == NULL) {
        return NULL;
    }
    if (strcmp(op, ">=") != 0 && strcmp(op, "<") != 0) {
        return NULL;
    }
    mc = rw_model_col(c->q, col->tab, col->name);
    if (mc == NULL || rw_rtype_of(mc->data_type) != RW_R_DT) {
        return NULL;
    }
    if (k->ctype == RW_C_DATE) {
        strcpy(norm, k->val);
    } else if (k->ctype != RW_C_STR || !rw_norm_datetime(k->val, norm)) {
        return NULL;
    }
    if (strcmp(mc->data_type, "date") == 0 && !aligned(norm, G_DAY)) {
        return NULL;
    }
    for (i = 0; i < c->v->n_out; i++) {
        const struct rw_expr *x = NULL;
        enum grain g;
        bool str;
        struct rw_expr *lhs;
        if (c->vouts[i] == NULL || (c->v->is_agg && rw_expr_has_agg(c->vouts[i]))) {
            continue;
        }
        g = trunc_of(c->vouts[i], &x, &str);
        if (g == G_NONE || rw_expr_cmp(x, col) != 0 || !aligned(norm, g)) {
            continue;
        }
        if (days != 0 && !(g <= G_DAY || (g == G_WEEK && days % 7 == 0))) {
            continue;
        }
        lhs = vtime(c, i, str);
        if (lhs != NULL && days != 0) {
            /* the query's own shift, applied to the truncated value */
            struct rw_expr *sh = rw_expr_copy(side);
            if (sh == NULL) {
                rw_expr_free(lhs);
                return NULL;
            }
            rw_expr_free(sh->args[0]);
            sh->args[0] = lhs;
            lhs = sh;
        }
        return mkfunc2(op, RW_E_OP, lhs, rw_expr_copy(k));
    }
    return NULL;
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

/*
 * Is view residual VE (query space) `col IS NOT NULL` implied by the query:
 * does some query conjunct reject NULL in col's equivalence class (a range,
 * an equality with another column, a strict comparison)?
 */
static bool
implied_not_null(struct mctx *c, const struct rw_expr *ve)
{
    size_t i;
    bool yes = false;
    if (ve->kind != RW_E_ISNULL || !ve->neg || ve->n != 1 || ve->args[0]->kind != RW_E_COL) {
        return false;
    }
    for (i = 0; i < c->q->n_conj && !yes; i++) {
        struct rw_expr *e = qspace(c->q, c->q->conj[i], NULL);
        yes = e != NULL && rw_expr_rejects_null_col(e, ve->args[0]->tab, ve->args[0]->name);
        rw_expr_free(e);
    }
    return yes;
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
        if (r == (int)i || c->map[vp->cols[i].tab] < 0) {
            continue;
        }
        /* compare with the class's first member the query has (extra view
         * tables, eliminated as lossless joins, are not in the query) */
        for (j = 0; j < vp->n_cols; j++) {
            if (rw_pred_root(vp, (int)j) == r && c->map[vp->cols[j].tab] >= 0) {
                break;
            }
        }
        r = (int)j;
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
    /* query equalities the view lacks: v.a = v.b over view outputs; with
     * join-back, also every column of a joined-back instance in the class
     * (v.a = r.b, r.b = r.c): each class becomes one chain of equalities */
    for (i = 0; i < qp->n_cols; i++) {
        int first_vroot = -2;
        struct rw_expr *prev = NULL;    /* chain head: view or joined-back column */
        const char *prev_col = NULL;    /* its query column (NULL: none yet) */
        bool prev_missing = false;      /* the head's view class has no output */
        if (rw_pred_root(qp, (int)i) != (int)i) {
            continue;
        }
        for (j = 0; j < qp->n_cols; j++) {
            int vk, vroot, o = -1;
            size_t k;
            struct rw_expr *item = NULL;
            if (rw_pred_root(qp, (int)j) != (int)i) {
                continue;
            }
            if (c->inv[qp->cols[j].tab] < 0) {
                /* a joined-back column: read directly */
                vroot = -3 - (int)j;
                item = rw_expr_new(RW_E_COL, qp->cols[j].col);
                if (item == NULL) {
                    rw_expr_free(prev);
                    return false;
                }
                item->tab = qp->cols[j].tab;
            } else {
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
                        (oe->tab == c->inv[qp->cols[j].tab] &&
                         strcmp(oe->name, qp->cols[j].col) == 0)) {
                        o = (int)k;
                    }
                }
                if (o >= 0 && (item = vcol(c, (size_t)o)) == NULL) {
                    rw_expr_free(prev);
                    return false;
                }
            }
            if (prev_col == NULL) {
                first_vroot = vroot;
                prev = item;
                prev_col = qp->cols[j].col;
                prev_missing = item == NULL;
                continue;
            }
            if (item == NULL || prev_missing) {
                const char *miss = item == NULL ? qp->cols[j].col : prev_col;
                if (c->n_back > 0) {
                    mfail(c, "query join predicate on %s needs the column in the view output "
                             "(to join the view with the tables it does not read, or to "
                             "compensate)",
                          miss);
                } else {
                    mfail(c, "query join predicate on %s needs the column in the view output",
                          qp->cols[j].col);
                }
                rw_expr_free(item);
                rw_expr_free(prev);
                return false;
            }
            if (!comp_add(cp, mkfunc2("=", RW_E_OP, prev, rw_expr_copy(item)))) {
                rw_expr_free(item);
                return false;
            }
            first_vroot = vroot; /* chain a = b, b = c */
            prev = item;
            prev_col = qp->cols[j].col;
        }
        rw_expr_free(prev);
    }
    /* 2. range subsumption */
    for (i = 0; i < vp->n_cols; i++) {
        const struct rw_range *vr = &vp->ranges[i];
        const struct rw_range *qr = NULL;
        int qk;
        if (vr->type == RW_R_NONE || rw_pred_root(vp, (int)i) != (int)i) {
            continue;
        }
        for (j = 0; j < vp->n_cols; j++) {
            if (rw_pred_root(vp, (int)j) == (int)i && c->map[vp->cols[j].tab] >= 0) {
                break;
            }
        }
        if (j == vp->n_cols) {
            mfail(c, "view filter on a table the query does not read");
            return false;
        }
        qk = rw_pred_find(qp, c->map[vp->cols[j].tab], vp->cols[j].col);
        if (qk >= 0) {
            qr = &qp->ranges[rw_pred_root(qp, qk)];
        }
        if (!range_contains(vr, qr)) {
            char *s = vr->n_src > 0 ? show(vr->src[0]) : NULL;
            const char *why = qr != NULL && qr->note != NULL ? qr->note
                              : vr->type == RW_R_STR && qr != NULL && qr->type == RW_R_STR &&
                                      !qr->empty
                                  ? "the query's string range is not inside it under the "
                                    "column's collation, or the collation cannot compare the "
                                    "bounds"
                                  : NULL;
            mfail(c, "view filter %s is not implied by the query%s%s", s ? s : vp->cols[i].col,
                  why ? ": " : "", why ? why : "");
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
            if (!found && ve != NULL) {
                found = implied_not_null(c, ve);
            }
            rw_expr_free(ve);
            if (!found) {
                char *s = show(vp->resid[i]);
                const char *why = resid_note(vp, vp->resid[i]);
                mfail(c, "view filter %s is not implied by the query%s%s", s ? s : "",
                      why ? ": " : "", why ? why : "");
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

/* Append E over the view (and the joined-back instances' columns) to B. */
static void
emit_x(const struct mctx *c, struct rw_buf *b, const struct rw_expr *e, const char *vdb,
       const char *vname)
{
    rw_emit_expr_tabs(b, e, vdb, vname, (const char *const *)c->ralias,
                      c->ralias != NULL ? c->q->n_tabs : 0);
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
        emit_x(c, &b, t, vdb, vname);
        rw_expr_free(t);
        rw_buf_puts(&b, " AS ");
        rw_buf_ident(&b, c->q->out[i].name);
    }
    rw_buf_puts(&b, " FROM ");
    rw_buf_ident(&b, vdb);
    rw_buf_puts(&b, ".");
    rw_buf_ident(&b, vname);
    for (i = 0; c->n_back > 0 && i < c->q->n_tabs; i++) {
        /* join-back: the instances the view does not stand in for, inner-joined
         * (cross product here; their join predicates are in the WHERE) */
        if (c->inv[i] >= 0) {
            continue;
        }
        rw_buf_puts(&b, ", ");
        rw_buf_ident(&b, c->q->tabs[i].db);
        rw_buf_puts(&b, ".");
        rw_buf_ident(&b, c->q->tabs[i].name);
        rw_buf_puts(&b, " AS ");
        rw_buf_ident(&b, c->ralias[i]);
    }
    for (i = 0; i < cp->n; i++) {
        rw_buf_puts(&b, nwhere++ == 0 ? " WHERE " : " AND ");
        emit_x(c, &b, cp->v[i], vdb, vname);
    }
    if (c->q->having != NULL && !group_by && c->q->is_agg) {
        /* one view row per group: HAVING filters view rows */
        t = xq(c, c->q->having);
        if (t == NULL) {
            goto bad;
        }
        rw_buf_puts(&b, nwhere++ == 0 ? " WHERE " : " AND ");
        emit_x(c, &b, t, vdb, vname);
        rw_expr_free(t);
    }
    if (c->q->n_tabs > 0) {
        /* privilege guard (SPEC §7): the backend checks the original block's reads */
        rw_buf_puts(&b, nwhere++ == 0 ? " WHERE " : " AND ");
        if (c->n_back > 0) {
            /* only the tables the view stands in for: the others are read */
            bool *g = calloc(c->q->n_tabs, sizeof(*g));
            if (g == NULL) {
                goto bad;
            }
            for (i = 0; i < c->q->n_tabs; i++) {
                g[i] = c->inv[i] >= 0;
            }
            rw_emit_guard_tabs(&b, c->q, g);
            free(g);
        } else {
            rw_emit_guard(&b, c->q);
        }
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
            emit_x(c, &b, t, vdb, vname);
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
        emit_x(c, &b, t, vdb, vname);
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
            emit_x(c, &b, t, vdb, vname);
            rw_expr_free(t);
        }
        if (s->desc) {
            rw_buf_puts(&b, " DESC");
        }
    }
    if (c->topn_limit != NULL) {
        rw_buf_printf(&b, " LIMIT %s OFFSET %s", c->topn_limit, c->topn_offset);
    } else if (c->q->limit_text != NULL) {
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

/* ------------------------------------------------------------ outer joins */

/* Copy of view expression E with its instances mapped onto the query's by
 * MAP (no equivalence classes: ON clauses hold before the WHERE), canonical. */
static struct rw_expr *
map_only(const struct rw_expr *e, const int *map)
{
    struct rw_expr *c = rw_expr_copy(e);
    struct rw_expr *stack[64];
    size_t top = 0, i;
    if (c == NULL) {
        return NULL;
    }
    stack[top++] = c;
    while (top > 0) {
        struct rw_expr *x = stack[--top];
        if (x->kind == RW_E_COL) {
            x->tab = map[x->tab];
        }
        for (i = 0; i < x->n; i++) {
            if (top == sizeof(stack) / sizeof(stack[0])) {
                rw_expr_free(c);
                return NULL;
            }
            stack[top++] = x->args[i];
        }
    }
    return rw_expr_canon(c);
}

/* Are the ON conjunct sets of query outer join QO and view outer join VO equal
 * under MAP? */
static bool
on_equal(const struct rw_ojoin *qo, const struct rw_ojoin *vo, const int *map)
{
    size_t i, j;
    bool *hit = calloc(qo->n_on ? qo->n_on : 1, sizeof(*hit));
    bool ok = hit != NULL;
    for (i = 0; ok && i < vo->n_on; i++) {
        struct rw_expr *m = map_only(vo->on[i], map);
        bool found = false;
        for (j = 0; m != NULL && j < qo->n_on; j++) {
            if (rw_expr_cmp(m, qo->on[j]) == 0) {
                hit[j] = true;
                found = true;
            }
        }
        rw_expr_free(m);
        ok = found;
    }
    for (j = 0; ok && j < qo->n_on; j++) {
        ok = hit[j];
    }
    free(hit);
    return ok;
}

/* Is view column (TAB, COL) non-NULL in every row where outer join OJ matched:
 * declared NOT NULL, or a direct operand of a comparison in its ON? */
static bool
nonnull_when_matched(const struct rw_model *v, const struct rw_ojoin *oj, const char *col)
{
    static const char *const cmp[] = {"=", "<>", "<", "<=", ">", ">=", NULL};
    const struct rw_mcol *mc = rw_model_col(v, oj->tab, col);
    size_t i, k, a;
    if (mc != NULL && !mc->nullable) {
        return true;
    }
    for (i = 0; i < oj->n_on; i++) {
        const struct rw_expr *e = oj->on[i];
        if (e->kind != RW_E_OP || e->n != 2) {
            continue;
        }
        for (k = 0; cmp[k] != NULL && strcmp(cmp[k], e->name) != 0; k++) {
        }
        if (cmp[k] == NULL) {
            continue;
        }
        for (a = 0; a < 2; a++) {
            if (e->args[a]->kind == RW_E_COL && e->args[a]->tab == oj->tab &&
                strcmp(e->args[a]->name, col) == 0) {
                return true;
            }
        }
    }
    return false;
}

/* A view built for one mapping: the shared model with some outer joins
 * turned into inner joins (their ON moved to the conjuncts). */
struct vadj {
    struct rw_model m;          /* shallow copy; conj, oj and pred are its own */
    bool used;                  /* m is in use (free it) */
};

/* Free what ADJ owns. */
static void
vadj_free(struct vadj *adj)
{
    if (adj->used) {
        rw_pred_free(&adj->m.pred);
        free(adj->m.conj);
        free(adj->m.oj);
    }
    adj->used = false;
}

/*
 * Outer-join compatibility of query Q and view V under MAP/INV
 * (view-matching.md §5). Every left join of the query must be a left join of
 * the view with the same ON. A left join of the view over a table the query
 * inner-joins answers it through rows where the join matched: the view's
 * ON becomes a conjunct the query must imply, and CP gets `v.col IS NOT
 * NULL` on an output column of that table that is never NULL in a matched
 * row. On success *VEFF is V, or ADJ's model when something was converted.
 * Returns false with the reason in C.
 */
static bool
outer_joins(struct mctx *c, const struct rw_model *v, struct vadj *adj, struct comp *cp,
            const struct rw_model **veff)
{
    const struct rw_model *q = c->q;
    size_t i, k, nconv = 0;
    bool *conv;
    *veff = v;
    for (i = 0; i < q->n_oj; i++) {
        int vi = c->inv[q->oj[i].tab];
        int vo = rw_model_oj_of(v, vi);
        if (vo < 0) {
            mfail(c, "the query's LEFT JOIN of %s keeps rows without a match, the view "
                     "inner-joins it",
                  q->tabs[q->oj[i].tab].alias);
            return false;
        }
        if (!on_equal(&q->oj[i], &v->oj[vo], c->map)) {
            mfail(c, "the view's LEFT JOIN of %s has another ON clause than the query's",
                  q->tabs[q->oj[i].tab].alias);
            return false;
        }
    }
    if (v->n_oj == 0) {
        return true;
    }
    conv = calloc(v->n_oj, sizeof(*conv));
    if (conv == NULL) {
        return false;
    }
    for (i = 0; i < v->n_oj; i++) {
        const struct rw_ojoin *oj = &v->oj[i];
        int out = -1;
        if (c->map[oj->tab] < 0 || rw_model_oj_of(q, c->map[oj->tab]) >= 0) {
            continue; /* eliminated extra table, or the same left join */
        }
        for (k = 0; k < v->n_out && out < 0; k++) {
            const struct rw_expr *e = v->out[k].e;
            if (e != NULL && e->kind == RW_E_COL && e->tab == oj->tab && v->out[k].vcol != NULL &&
                nonnull_when_matched(v, oj, e->name)) {
                out = (int)k;
            }
        }
        if (out < 0) {
            mfail(c, "the view's LEFT JOIN of %s answers the query's inner join only when a "
                     "column of %s that is never NULL in matched rows (a NOT NULL column or "
                     "the join key) is a view output",
                  v->tabs[oj->tab].alias, v->tabs[oj->tab].alias);
            free(conv);
            return false;
        }
        {
            struct rw_expr *nn = rw_expr_new(RW_E_ISNULL, NULL);
            if (nn == NULL || rw_expr_add(nn, vcol(c, (size_t)out)) != 0) {
                rw_expr_free(nn);
                free(conv);
                return false;
            }
            nn->neg = true;
            if (!comp_add(cp, nn)) {
                free(conv);
                return false;
            }
        }
        conv[i] = true;
        nconv++;
    }
    if (nconv == 0) {
        free(conv);
        return true;
    }
    memset(adj, 0, sizeof(*adj));
    adj->m = *v;
    adj->used = true;
    adj->m.conj = NULL;
    adj->m.n_conj = 0;
    adj->m.oj = NULL;
    adj->m.n_oj = 0;
    memset(&adj->m.pred, 0, sizeof(adj->m.pred));
    {
        size_t nc = v->n_conj;
        for (i = 0; i < v->n_oj; i++) {
            nc += conv[i] ? v->oj[i].n_on : 0;
        }
        adj->m.conj = calloc(nc ? nc : 1, sizeof(*adj->m.conj));
        adj->m.oj = calloc(v->n_oj, sizeof(*adj->m.oj));
        if (adj->m.conj == NULL || adj->m.oj == NULL) {
            free(conv);
            return false;
        }
        for (i = 0; i < v->n_conj; i++) {
            adj->m.conj[adj->m.n_conj++] = v->conj[i];
        }
        for (i = 0; i < v->n_oj; i++) {
            if (!conv[i]) {
                adj->m.oj[adj->m.n_oj++] = v->oj[i];
                continue;
            }
            for (k = 0; k < v->oj[i].n_on; k++) {
                adj->m.conj[adj->m.n_conj++] = v->oj[i].on[k];
            }
        }
    }
    free(conv);
    if (rw_model_analyze(&adj->m) != 0) {
        return false;
    }
    *veff = &adj->m;
    return true;
}

/* ------------------------------------------------------- join elimination */

/* Does E mention a column of instance TAB? */
static bool
mentions(const struct rw_expr *e, int tab)
{
    size_t i;
    if (e->kind == RW_E_COL && e->tab == tab) {
        return true;
    }
    for (i = 0; i < e->n; i++) {
        if (mentions(e->args[i], tab)) {
            return true;
        }
    }
    return false;
}

/* Is every column of unique key K of instance E in the set COLS (N names)? */
static bool
key_covered(const struct cat_key *k, char *const *cols, size_t n)
{
    size_t i, j;
    for (i = 0; i < k->n_cols; i++) {
        bool f = false;
        for (j = 0; j < n && !f; j++) {
            f = strcmp(k->cols[i], cols[j]) == 0;
        }
        if (!f) {
            return false;
        }
    }
    return k->n_cols > 0;
}

/* Does some declared unique key of instance E lie within COLS? A real
 * (enforced) key is preferred; *INFO gets the informational key relied on,
 * NULL when a real one sufficed. */
static bool
unique_within(const struct rw_model *v, int e, char *const *cols, size_t n,
              const struct cat_key **info)
{
    size_t k;
    bool found = false;
    *info = NULL;
    for (k = 0; k < v->tabs[e].n_ukeys; k++) {
        const struct cat_key *u = &v->tabs[e].ukeys[k];
        if (key_covered(u, cols, n)) {
            if (!u->informational) {
                *info = NULL;
                return true;
            }
            if (!found) {
                *info = u;
            }
            found = true;
        }
    }
    return found;
}

/* What a join elimination trusted: informational keys (NULL = real or none). */
struct elim_trust {
    const struct cat_key *uk;   /* unique key of the eliminated instance */
    const struct cat_key *fk;   /* foreign key that references it */
};

/* Are view columns (TA, CA) and (TB, CB) in one view equivalence class? */
static bool
same_class(const struct rw_model *v, int ta, const char *ca, int tb, const char *cb)
{
    int a = rw_pred_find(&v->pred, ta, ca), b = rw_pred_find(&v->pred, tb, cb);
    return a >= 0 && b >= 0 && rw_pred_root(&v->pred, a) == rw_pred_root(&v->pred, b);
}

/*
 * May the view's extra instance E (not in the query) be dropped without
 * changing the view's rows over the other tables (GONE: instances already
 * dropped)? A LEFT JOIN of E whose ON equates a unique key of E with
 * expressions over other tables: at most one match, every row kept. An
 * inner join of E whose only conjuncts are column equalities that pair a
 * declared foreign key of another instance (all columns NOT NULL) with
 * the unique key it references: exactly one match. Nothing else may
 * mention E.
 */
static bool
eliminable(const struct rw_model *v, int e, const bool *gone, struct elim_trust *trust)
{
    size_t i, j, k;
    int oj = rw_model_oj_of(v, e);
    bool found = false;
    memset(trust, 0, sizeof(*trust));
    for (i = 0; i < v->n_oj; i++) {
        if ((int)i == oj || gone[v->oj[i].tab]) {
            continue;
        }
        for (j = 0; j < v->oj[i].n_on; j++) {
            if (mentions(v->oj[i].on[j], e)) {
                return false;
            }
        }
    }
    if (oj >= 0) {
        const struct rw_ojoin *o = &v->oj[oj];
        char **cols = calloc(o->n_on ? o->n_on : 1, sizeof(*cols));
        size_t n = 0;
        bool ok;
        if (cols == NULL) {
            return false;
        }
        for (i = 0; i < v->n_conj; i++) {
            if (mentions(v->conj[i], e)) {
                free(cols);
                return false;
            }
        }
        for (j = 0; j < o->n_on; j++) {
            const struct rw_expr *x = o->on[j];
            if (x->kind != RW_E_OP || strcmp(x->name, "=") != 0 || x->n != 2) {
                continue;
            }
            for (k = 0; k < 2; k++) {
                const struct rw_expr *a = x->args[k], *b = x->args[1 - k];
                if (a->kind == RW_E_COL && a->tab == e && !mentions(b, e) &&
                    !rw_expr_nondeterministic(b)) {
                    cols[n++] = a->name;
                    break;
                }
            }
        }
        ok = unique_within(v, e, cols, n, &trust->uk);
        free(cols);
        return ok;
    }
    /* inner join: only column = column conjuncts may mention E */
    for (i = 0; i < v->n_conj; i++) {
        const struct rw_expr *x = v->conj[i];
        if (!mentions(x, e)) {
            continue;
        }
        if (x->kind != RW_E_OP || strcmp(x->name, "=") != 0 || x->n != 2 ||
            x->args[0]->kind != RW_E_COL || x->args[1]->kind != RW_E_COL ||
            x->args[0]->tab == x->args[1]->tab ||
            rw_pred_find(&v->pred, x->args[0]->tab, x->args[0]->name) < 0) {
            return false; /* a filter on E, or an equality outside the classes */
        }
    }
    for (i = 0; i < v->pred.n_cols; i++) {
        const struct rw_range *r = &v->pred.ranges[rw_pred_root(&v->pred, (int)i)];
        if (v->pred.cols[i].tab == e && r->type != RW_R_NONE) {
            return false; /* a range on E's class */
        }
    }
    for (i = 0; i < v->n_tabs; i++) {
        const struct rw_tab *t = &v->tabs[i];
        if ((int)i == e || rw_model_oj_of(v, (int)i) >= 0) {
            continue;
        }
        for (k = 0; k < t->n_fkeys; k++) {
            const struct cat_key *fk = &t->fkeys[k], *uk = NULL;
            bool ok = fk->ref_key != NULL && strcmp(fk->ref_key, v->tabs[e].key) == 0 &&
                      unique_within(v, e, fk->ref_cols, fk->n_cols, &uk);
            for (j = 0; ok && j < fk->n_cols; j++) {
                const struct rw_mcol *mc = rw_model_col(v, (int)i, fk->cols[j]);
                ok = mc != NULL && !mc->nullable &&
                     same_class(v, (int)i, fk->cols[j], e, fk->ref_cols[j]);
            }
            if (ok && !fk->informational && uk == NULL) {
                memset(trust, 0, sizeof(*trust));
                return true; /* enforced keys only: nothing to trust */
            }
            if (ok && !found) {
                trust->fk = fk->informational ? fk : NULL;
                trust->uk = uk;
                found = true;
            }
        }
    }
    return found;
}

/* Add to C->note that dropping view instance E trusted the informational keys of T. */
static void
note_trust(struct mctx *c, int e, const struct elim_trust *t)
{
    char *n;
    if (t->uk == NULL && t->fk == NULL) {
        return;
    }
    n = rw_sprintf("%s%sjoin with %s eliminated on informational constraint%s %s%s%s "
                   "(NOT ENFORCED: trusted, not checked)",
                   c->note ? c->note : "", c->note ? "; " : "", c->v->tabs[e].key,
                   t->uk && t->fk ? "s" : "", t->fk ? t->fk->name : "",
                   t->uk && t->fk ? ", " : "", t->uk ? t->uk->name : "");
    if (n != NULL) {
        free(c->note);
        c->note = n;
    }
}

/* For the reason of a refused elimination: is there a foreign key of another
 * inner-joined instance that references E's unique key along the view's join
 * but has a nullable column? Sets its name (NULL for a real key), table
 * and column (borrowed). */
static bool
nullable_fk_to(const struct rw_model *v, int e, const char **name, const char **tab,
               const char **col)
{
    size_t i, j, k;
    const struct cat_key *uk;
    if (rw_model_oj_of(v, e) >= 0) {
        return false;
    }
    for (i = 0; i < v->n_tabs; i++) {
        const struct rw_tab *t = &v->tabs[i];
        if ((int)i == e || rw_model_oj_of(v, (int)i) >= 0) {
            continue;
        }
        for (k = 0; k < t->n_fkeys; k++) {
            const struct cat_key *fk = &t->fkeys[k];
            const char *nc = NULL;
            bool ok = fk->ref_key != NULL && strcmp(fk->ref_key, v->tabs[e].key) == 0 &&
                      unique_within(v, e, fk->ref_cols, fk->n_cols, &uk);
            for (j = 0; ok && j < fk->n_cols; j++) {
                const struct rw_mcol *mc = rw_model_col(v, (int)i, fk->cols[j]);
                ok = mc != NULL && same_class(v, (int)i, fk->cols[j], e, fk->ref_cols[j]);
                if (ok && mc->nullable && nc == NULL) {
                    nc = fk->cols[j];
                }
            }
            if (ok && nc != NULL) {
                *name = fk->informational ? fk->name : NULL;
                *tab = t->key;
                *col = nc;
                return true;
            }
        }
    }
    return false;
}

/* Check that every view instance the mapping leaves out (MAP < 0) is a
 * lossless join (eliminable, in some order); false with the reason in C. */
static bool
extras_lossless(struct mctx *c)
{
    const struct rw_model *v = c->v;
    bool *gone = calloc(v->n_tabs ? v->n_tabs : 1, sizeof(*gone));
    bool progress = true, ok = true;
    size_t i;
    if (gone == NULL) {
        return false;
    }
    while (progress) {
        progress = false;
        for (i = 0; i < v->n_tabs; i++) {
            struct elim_trust tr;
            if (c->map[i] < 0 && !gone[i] && !v->tabs[i].opaque &&
                eliminable(v, (int)i, gone, &tr)) {
                gone[i] = true;
                progress = true;
                note_trust(c, (int)i, &tr);
            }
        }
    }
    for (i = 0; i < v->n_tabs && ok; i++) {
        const char *fkname = NULL, *fkcol = NULL, *fktab = NULL;
        if (c->map[i] < 0 && v->tabs[i].opaque) {
            mfail(c, "view reads derived table %s, which the query does not: a derived table "
                     "that groups, aggregates or is DISTINCT is never eliminated",
                  v->tabs[i].alias);
            ok = false;
        } else if (c->map[i] < 0 && !gone[i] &&
                   nullable_fk_to(v, (int)i, &fkname, &fktab, &fkcol)) {
            mfail(c, "view joins table %s that the query does not; the %sforeign key%s%s of %s "
                     "referencing it has a nullable column %s (rows with a NULL there are not in "
                     "the view's inner join): declare the column NOT NULL",
                  v->tabs[i].key, fkname ? "informational " : "", fkname ? " " : "",
                  fkname ? fkname : "", fktab, fkcol);
            ok = false;
        } else if (c->map[i] < 0 && !gone[i]) {
            mfail(c, "view joins table %s that the query does not, and that join may drop or "
                     "duplicate rows (it needs a declared foreign key, NOT NULL, to a unique key, "
                     "or a LEFT JOIN on a unique key, and no filter on %s)",
                  v->tabs[i].key, v->tabs[i].alias);
            ok = false;
        }
    }
    free(gone);
    return ok;
}

/* Is X (query space) a function of the PARTITION BY list PART alone (constant
 * on each window partition)? */
static bool
part_determined(const struct rw_expr *x, const struct rw_expr *part)
{
    size_t i;
    for (i = 0; i < part->n; i++) {
        if (rw_expr_cmp(x, part->args[i]) == 0) {
            return true;
        }
    }
    if (x->kind == RW_E_CONST) {
        return true;
    }
    if (x->kind == RW_E_COL || x->kind == RW_E_VCOL || x->kind == RW_E_AGG ||
        x->kind == RW_E_WIN || x->n == 0 || rw_func_nondeterministic(x->name ? x->name : "")) {
        return false;
    }
    for (i = 0; i < x->n; i++) {
        if (!part_determined(x->args[i], part)) {
            return false;
        }
    }
    return true;
}

/*
 * First window function (RW_E_WIN) of E whose PARTITION BY list does not
 * determine X by the test ON (part_determined or cols_in_part); NULL none.
 */
static const struct rw_expr *
win_first_off(const struct rw_expr *e, const struct rw_expr *x,
              bool (*on)(const struct rw_expr *x, const struct rw_expr *part))
{
    size_t i;
    const struct rw_expr *r;
    if (e->kind == RW_E_WIN) {
        return on(x, e->args[1]) ? NULL : e;
    }
    for (i = 0; i < e->n; i++) {
        if ((r = win_first_off(e->args[i], x, on)) != NULL) {
            return r;
        }
    }
    return NULL;
}

/*
 * Check compensation predicate P (over view columns) against the view's
 * window outputs the rewrite reads (C->wused): each view column P reads
 * must be a function of the PARTITION BY of every such window (a filter on
 * the partition key keeps or drops whole partitions, so the window values
 * of the rows kept are unchanged). False with the reason in C.
 */
static bool
comp_on_partitions(struct mctx *c, const struct rw_expr *p)
{
    size_t i, k;
    if (p->kind != RW_E_VCOL) {
        for (i = 0; i < p->n; i++) {
            if (!comp_on_partitions(c, p->args[i])) {
                return false;
            }
        }
        return true;
    }
    for (k = 0; k < c->v->n_out; k++) {
        if (c->v->out[k].vcol != NULL && strcmp(c->v->out[k].vcol, p->name) == 0) {
            break;
        }
    }
    for (i = 0; i < c->v->n_out; i++) {
        const struct rw_expr *x, *w;
        struct rw_buf b = {0};
        char *pt, *col;
        if (!c->wused[i]) {
            continue;
        }
        /* an unknown column is determined by nothing: x = the window output itself */
        x = k < c->v->n_out && c->vouts[k] != NULL ? c->vouts[k] : c->vouts[i];
        w = win_first_off(c->vouts[i], x, part_determined);
        if (w == NULL) {
            continue;
        }
        rw_emit_expr(&b, w->args[1], "", "");
        pt = rw_buf_take(&b);
        col = x != c->vouts[i] ? show(x) : NULL;
        mfail(c, "query filter on %s is not on the PARTITION BY of the view's window %s() (%s): "
                 "a window sees only the rows that pass the filter, so a filter that cuts "
                 "through its partitions changes its values",
              col != NULL ? col : p->name, w->name,
              pt != NULL && pt[0] != '\0' ? pt : "no PARTITION BY");
        free(pt);
        free(col);
        return false;
    }
    return true;
}

/* Is every column of X among the PARTITION BY list PART (or X itself in it)? */
static bool
cols_in_part(const struct rw_expr *x, const struct rw_expr *part)
{
    size_t i;
    for (i = 0; i < part->n; i++) {
        if (rw_expr_cmp(x, part->args[i]) == 0) {
            return true;
        }
    }
    if (x->kind == RW_E_COL || x->kind == RW_E_WIN || x->kind == RW_E_AGG) {
        return false;
    }
    for (i = 0; i < x->n; i++) {
        if (!cols_in_part(x->args[i], part)) {
            return false;
        }
    }
    return true;
}

bool
rw_win_part_aligned(const struct rw_model *v, const char *vcol, char **why)
{
    const struct rw_expr *pe = NULL, *w;
    size_t i;
    *why = NULL;
    if (!v->has_win) {
        return true;
    }
    for (i = 0; i < v->n_out; i++) {
        if (v->out[i].vcol != NULL && strcasecmp(v->out[i].vcol, vcol) == 0) {
            pe = v->out[i].e;
        }
    }
    for (i = 0; i < v->n_out; i++) {
        if (v->out[i].e == NULL) {
            continue;
        }
        w = pe != NULL ? win_first_off(v->out[i].e, pe, cols_in_part) : NULL;
        if (pe == NULL && rw_expr_has_win(v->out[i].e)) {
            w = v->out[i].e;
        }
        if (w != NULL) {
            *why = rw_sprintf("the view is partitioned by %s but its window %s() is not "
                              "partitioned by it: a change in one view partition changes window "
                              "values in others, which per-partition freshness and refresh do "
                              "not track",
                              vcol, w->kind == RW_E_WIN ? w->name : "function");
            return false;
        }
    }
    return true;
}

/*
 * Join-back (Goldstein & Larson §3, "the query references tables the view
 * does not"; Calcite MaterializedViewRule, Doris): the view stands in for
 * the query instances the mapping covers, and the other instances R are
 * read next to it:
 *
 *   SELECT ... FROM view, r1, r2 WHERE <compensations> [GROUP BY ...]
 *
 * With P the query's conjunction (over its V and R instances), the query is
 * σ[P](V × R). For an SPJ view holding σ[Pv](V), one row per qualifying
 * combination of V rows, σ[P](V × R) = σ[P](σ[Pv](V) × R) whenever P
 * implies Pv row by row: that is what the subsumption tests check, in the
 * query's equivalence classes, which may pass through R columns (o.k = r.k
 * AND r.k = 5 implies o.k = 5 on every row P accepts, so a view filtering
 * o.k = 5 lacks none of the rows). Every part of P the view does not apply
 * is applied on top as a compensation, R-only and V-R conjuncts included,
 * and each equivalence class becomes one chain of equalities, so every
 * class equality holds in the result. Conditions (else a reason):
 *   - the view is SPJ: an aggregate or DISTINCT view has other row
 *     multiplicities than the query's V part (aggregating on top of the
 *     view joined with R is fine: roll-up over view rows);
 *   - R is inner-joined: no outer join null-supplies an R instance or names
 *     one in its ON (an outer join among V instances commutes with the
 *     cross product with R, so it is matched as today);
 *   - no SELECT * lists R's columns (they come from the catalog snapshot,
 *     which does not follow DDL on tables no view reads).
 * Sets C->ralias (the aliases the rewritten block gives R: the query's own,
 * or mvp_jb<N> when one would clash with the view's table name).
 */
static bool
joinback_ok(struct mctx *c, const char *vname)
{
    const struct rw_model *q = c->q, *v = c->v;
    size_t i, j, t;
    if (v->is_agg || v->distinct) {
        for (t = 0; t + 1 < q->n_tabs && c->inv[t] >= 0; t++) {
        }
        mfail(c, "query reads table %s that the view does not, and the view is %s: joining it "
                 "back would change the row multiplicities",
              q->tabs[t].key, v->distinct ? "DISTINCT" : "aggregated");
        return false;
    }
    for (i = 0; i < q->n_oj; i++) {
        const struct rw_ojoin *oj = &q->oj[i];
        if (c->inv[oj->tab] < 0) {
            mfail(c, "the query LEFT JOINs %s, which the view does not read: a table joined "
                     "back to the view must be inner-joined",
                  q->tabs[oj->tab].alias);
            return false;
        }
        for (j = 0; j < oj->n_on; j++) {
            for (t = 0; t < q->n_tabs; t++) {
                if (c->inv[t] < 0 && mentions(oj->on[j], (int)t)) {
                    mfail(c, "the ON clause of the query's LEFT JOIN of %s reads %s, which the "
                             "view does not read",
                          q->tabs[oj->tab].alias, q->tabs[t].alias);
                    return false;
                }
            }
        }
    }
    for (t = 0; t < q->n_tabs; t++) {
        if (c->inv[t] < 0 && q->tabs[t].opaque) {
            mfail(c, "the query's derived table %s is not in the view: a derived table that "
                     "groups, aggregates or is DISTINCT is never joined back",
                  q->tabs[t].alias);
            return false;
        }
        if (c->inv[t] < 0 && q->tabs[t].star) {
            mfail(c, "SELECT * lists the columns of %s, which the view does not read: name "
                     "them to have it joined back to the view",
                  q->tabs[t].alias);
            return false;
        }
    }
    c->ralias = calloc(q->n_tabs, sizeof(*c->ralias));
    if (c->ralias == NULL) {
        return false;
    }
    for (t = 0; t < q->n_tabs; t++) {
        const char *a = q->tabs[t].alias;
        bool clash;
        if (c->inv[t] >= 0) {
            continue;
        }
        clash = strcasecmp(a, vname) == 0;
        for (i = 0; i < t && !clash; i++) {
            clash = c->ralias[i] != NULL && strcasecmp(c->ralias[i], a) == 0;
        }
        c->ralias[t] = clash ? rw_sprintf("mvp_jb%zu", t) : rw_strdup(a);
        if (c->ralias[t] == NULL) {
            return false;
        }
    }
    return true;
}

/* Match under one table mapping. */
/* Parse a LIMIT/OFFSET literal TEXT (NULL: DEF) into *OUT; false when it
 * is not a plain decimal integer below 2^62. */
static bool
limit_value(const char *text, unsigned long long def, unsigned long long *out)
{
    unsigned long long v = 0;
    const char *p;
    if (text == NULL) {
        *out = def;
        return true;
    }
    if (*text == '\0') {
        return false;
    }
    for (p = text; *p != '\0'; p++) {
        if (*p < '0' || *p > '9' || v > (1ULL << 62) / 10) {
            return false;
        }
        v = v * 10 + (unsigned long long)(*p - '0');
    }
    if (v >= (1ULL << 62)) {
        return false;
    }
    *out = v;
    return true;
}

/*
 * Top-N view V (ORDER BY ... LIMIT n OFFSET o, a total order: rw_mvmodel.c
 * topn_refusal): the query must be the view's block exactly, but for its
 * LIMIT qn OFFSET qo with [qo, qo+qn) inside [o, o+n): the same tables (no
 * join-back, no eliminated join), no compensating filter, the same groups
 * (no roll-up), no HAVING or DISTINCT, and the same ORDER BY keys in the
 * same order and directions. The view's rows are then rows o.. of the
 * query's sorted result, and the query's are rows qo-o.. of them in the
 * same order. Sets c->topn_limit/topn_offset, or c->why.
 */
static bool
topn_ok(struct mctx *c, const struct rw_model *v, size_t unmapped, const struct comp *cp)
{
    const struct rw_model *q = c->q;
    unsigned long long vn, vo, qn, qo;
    size_t i;
    if (q->limit_text == NULL || q->n_sort == 0) {
        mfail(c, "view has ORDER BY ... LIMIT: only a query with the same ORDER BY and a LIMIT "
                 "inside the view's can use it");
        return false;
    }
    if (c->n_back > 0 || unmapped > 0) {
        mfail(c, "view has LIMIT: the query must read exactly the view's tables");
        return false;
    }
    if (cp->n > 0) {
        mfail(c, "view has LIMIT: the query's filters must be the view's (a filter on the "
                 "view's first rows is not a filter on the query's)");
        return false;
    }
    if (q->having != NULL || q->distinct || q->has_win) {
        mfail(c, "view has LIMIT: the query has HAVING, DISTINCT or a window function");
        return false;
    }
    if (!q->is_agg || !groups_equal(c)) {
        mfail(c, "view has LIMIT: the query must group by the view's GROUP BY (no roll-up)");
        return false;
    }
    if (q->n_sort != v->n_sort) {
        mfail(c, "view has LIMIT: the query's ORDER BY differs from the view's");
        return false;
    }
    for (i = 0; i < q->n_sort; i++) {
        const struct rw_sort *qs = &q->sort[i], *vs = &v->sort[i];
        const struct rw_expr *qe = qs->out_ref >= 0 ? q->out[qs->out_ref].e : qs->e;
        const struct rw_expr *ve = vs->out_ref >= 0 ? v->out[vs->out_ref].e : vs->e;
        struct rw_expr *a, *b;
        bool same;
        if (qe == NULL || ve == NULL || qs->desc != vs->desc) {
            mfail(c, "view has LIMIT: the query's ORDER BY differs from the view's (key %zu)",
                  i + 1);
            return false;
        }
        a = qspace(q, qe, NULL);
        b = qspace(q, ve, c->map);
        same = a != NULL && b != NULL && rw_expr_cmp(a, b) == 0;
        rw_expr_free(a);
        rw_expr_free(b);
        if (!same) {
            mfail(c, "view has LIMIT: the query's ORDER BY differs from the view's (key %zu)",
                  i + 1);
            return false;
        }
    }
    if (!limit_value(v->limit_text, 0, &vn) || !limit_value(v->offset_text, 0, &vo) ||
        !limit_value(q->limit_text, 0, &qn) || !limit_value(q->offset_text, 0, &qo)) {
        mfail(c, "view has LIMIT: LIMIT/OFFSET is not a plain integer");
        return false;
    }
    if (qo < vo || qo + qn > vo + vn) {
        mfail(c, "view has LIMIT %llu OFFSET %llu (rows %llu..%llu of the order); the query "
                 "asks for rows %llu..%llu", vn, vo, vo + 1, vo + vn, qo + 1, qo + qn);
        return false;
    }
    c->topn_limit = rw_sprintf("%llu", qn);
    c->topn_offset = rw_sprintf("%llu", qo - vo);
    if (c->topn_limit == NULL || c->topn_offset == NULL) {
        mfail(c, "out of memory");
        return false;
    }
    return true;
}

static int
match_mapping(const struct rw_model *q, const struct rw_model *v, const int *map, const int *inv,
              const char *vdb, const char *vname, char **block, int *n_comp, char **reason)
{
    struct mctx c;
    struct comp cp = {0};
    struct vadj adj;
    const struct rw_model *veff = v;
    size_t i, unmapped = 0;
    int rc = 1;
    memset(&c, 0, sizeof(c));
    memset(&adj, 0, sizeof(adj));
    c.q = q;
    c.v = v;
    c.map = map;
    c.inv = inv;
    for (i = 0; i < q->n_tabs; i++) {
        c.n_back += inv[i] < 0;
    }
    c.vouts = calloc(v->n_out ? v->n_out : 1, sizeof(*c.vouts));
    c.wused = calloc(v->n_out ? v->n_out : 1, sizeof(*c.wused));
    if (c.vouts == NULL || c.wused == NULL) {
        free(c.vouts);
        free(c.wused);
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
    if (c.why == NULL && c.n_back > 0 && !joinback_ok(&c, vname) && c.why == NULL) {
        mfail(&c, "out of memory");
    }
    for (i = 0; i < v->n_tabs; i++) {
        unmapped += map[i] < 0;
    }
    if (c.why == NULL && unmapped > 0 && !extras_lossless(&c) && c.why == NULL) {
        mfail(&c, "out of memory");
    }
    if (c.why == NULL && !outer_joins(&c, v, &adj, &cp, &veff) && c.why == NULL) {
        mfail(&c, "out of memory");
    }
    c.v = veff;
    if (c.why == NULL && subsume(&c, &cp)) {
        char *blk = NULL;
        bool topn = v->limit_text != NULL || v->offset_text != NULL;
        if (topn && (veff != v || !topn_ok(&c, v, unmapped, &cp))) {
            if (c.why == NULL) {
                mfail(&c, "view has LIMIT: the query's outer joins differ from the view's");
            }
        } else if (q->is_agg && v->is_agg && groups_equal(&c)) {
            c.equal_groups = true;
            blk = emit_block(&c, &cp, vdb, vname);
            if (blk == NULL && !topn) {
                free(c.why);
                c.why = NULL;
            }
        }
        if (blk == NULL && !topn) {
            c.equal_groups = false;
            blk = emit_block(&c, &cp, vdb, vname);
        }
        /* windows of the view that the rewrite reads: every compensating filter must keep or
         * drop whole window partitions (the view's filter is the query's, modulo those) */
        for (i = 0; blk != NULL && i < cp.n; i++) {
            if (!comp_on_partitions(&c, cp.v[i])) {
                free(blk);
                blk = NULL;
            }
        }
        if (blk == NULL && !topn && q->has_win && !v->is_agg && c.why != NULL) {
            /* the view's rows are the query's: compute the windows again over them */
            char *first = c.why;
            c.why = NULL;
            c.no_win_reuse = true;
            memset(c.wused, 0, (v->n_out ? v->n_out : 1) * sizeof(*c.wused));
            blk = emit_block(&c, &cp, vdb, vname);
            free(c.why);
            c.why = first;
        }
        if (blk != NULL) {
            *block = blk;
            *n_comp = (int)cp.n;
            rc = 0;
            *reason = c.note; /* a note on success: informational constraints trusted */
            c.note = NULL;
        }
    }
    if (rc != 0) {
        *reason = c.why != NULL ? c.why : rw_strdup("out of memory");
        c.why = NULL;
    }
    free(c.why);
    free(c.note);
    free(c.topn_limit);
    free(c.topn_offset);
    for (i = 0; i < cp.n; i++) {
        rw_expr_free(cp.v[i]);
    }
    free(cp.v);
    for (i = 0; i < v->n_out; i++) {
        rw_expr_free(c.vouts[i]);
    }
    free(c.vouts);
    free(c.wused);
    for (i = 0; c.ralias != NULL && i < q->n_tabs; i++) {
        free(c.ralias[i]);
    }
    free(c.ralias);
    vadj_free(&adj);
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
    char *note;                     /* the best block's note (owned) or NULL */
    int tried;                      /* mappings tried */
    size_t extra;                   /* view instances still allowed to stay unmapped */
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
            free(s->note);
            s->note = why; /* NULL or the informational-constraint note */
            why = NULL;
        } else if (rc == 1 && s->reason == NULL) {
            s->reason = why;
            why = NULL;
        }
        free(blk);
        free(why);
        return;
    }
    for (i = 0; i < s->q->n_tabs; i++) {
        if (s->used[i] || strcmp(s->q->tabs[i].key, s->v->tabs[j].key) != 0 ||
            s->q->tabs[i].opaque != s->v->tabs[j].opaque ||
            (s->q->tabs[i].opaque && (s->q->tabs[i].sig == NULL || s->v->tabs[j].sig == NULL ||
                                      strcmp(s->q->tabs[i].sig, s->v->tabs[j].sig) != 0))) {
            continue; /* opaque derived tables: the same body, not only the same hash */
        }
        s->used[i] = true;
        s->map[j] = (int)i;
        s->inv[i] = (int)j;
        search(s, j + 1);
        s->used[i] = false;
        s->inv[i] = -1; /* unmapped query instances are joined back (inv < 0) */
    }
    if (s->extra > 0) {
        /* view instance J has no query counterpart: a join to eliminate */
        s->extra--;
        s->map[j] = -1;
        search(s, j + 1);
        s->extra++;
    }
}

int
rw_match(const struct rw_model *q, const struct rw_model *v, const char *vdb, const char *vname,
         char **block, int *n_comp, char **reason)
{
    return rw_match_ext(q, v, vdb, vname, block, n_comp, NULL, reason);
}

int
rw_match_ext(const struct rw_model *q, const struct rw_model *v, const char *vdb,
             const char *vname, char **block, int *n_comp, size_t *n_back, char **reason)
{
    struct mapping_search s;
    size_t i, j, extra = 0, back = 0;
    bool spj = !v->is_agg && !v->distinct;
    *block = NULL;
    *reason = NULL;
    *n_comp = 0;
    if (n_back != NULL) {
        *n_back = 0;
    }
    /* per table: the view stands in for min(view, query) instances of it;
     * view instances beyond the query's must be lossless joins (checked per
     * mapping), query instances beyond the view's are joined back (SPJ
     * views only, checked per mapping) */
    for (i = 0; i < q->n_tabs; i++) {
        size_t nv = 0, nq = 0, first = i;
        for (j = 0; j < v->n_tabs; j++) {
            nv += strcmp(v->tabs[j].key, q->tabs[i].key) == 0;
        }
        for (j = 0; j < q->n_tabs; j++) {
            nq += strcmp(q->tabs[j].key, q->tabs[i].key) == 0;
            if (j < first && strcmp(q->tabs[j].key, q->tabs[i].key) == 0) {
                first = j;
            }
        }
        if (first != i || nv >= nq) {
            continue;
        }
        if (q->tabs[i].opaque) {
            *reason = rw_sprintf("the query's derived table %s (it groups, aggregates or is "
                                 "DISTINCT) has no identical derived table in the view: such a "
                                 "derived table is matched only as a whole, never joined back",
                                 q->tabs[i].alias);
            return *reason ? 1 : -1;
        }
        if (!spj) {
            const char *what = v->distinct ? "DISTINCT" : "aggregated";
            if (nv > 0) {
                *reason = rw_sprintf("query reads table %s %zu times, the view %zu (the view is "
                                     "%s: joining it back to the other instances would change "
                                     "the row multiplicities)",
                                     q->tabs[i].key, nq, nv, what);
            } else {
                *reason = rw_sprintf("query reads table %s that the view does not (the view is "
                                     "%s: joining it back would change the row multiplicities)",
                                     q->tabs[i].key, what);
            }
            return *reason ? 1 : -1;
        }
        back += nq - nv;
    }
    for (i = 0; i < v->n_tabs; i++) {
        size_t nv = 0, nq = 0, first = i;
        for (j = 0; j < v->n_tabs; j++) {
            nv += strcmp(v->tabs[j].key, v->tabs[i].key) == 0;
            if (j < first && strcmp(v->tabs[j].key, v->tabs[i].key) == 0) {
                first = j;
            }
        }
        for (j = 0; j < q->n_tabs; j++) {
            nq += strcmp(q->tabs[j].key, v->tabs[i].key) == 0;
        }
        if (first == i && nv > nq) {
            extra += nv - nq;
        }
    }
    if (back >= q->n_tabs) {
        *reason = rw_strdup("the view reads none of the query's tables");
        return *reason ? 1 : -1;
    }
    memset(&s, 0, sizeof(s));
    s.extra = extra;
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
        for (i = 0; i < q->n_tabs; i++) {
            s.inv[i] = -1;
        }
        search(&s, 0);
    }
    free(s.map);
    free(s.inv);
    free(s.used);
    if (s.oom) {
        free(s.block);
        free(s.reason);
        free(s.note);
        return -1;
    }
    if (s.block != NULL) {
        free(s.reason);
        *block = s.block;
        *n_comp = s.n_comp;
        *reason = s.note;
        if (n_back != NULL) {
            *n_back = back;
        }
        return 0;
    }
    free(s.note);
    *reason = s.reason != NULL ? s.reason : rw_strdup("no table mapping matches");
    return 1;
}
