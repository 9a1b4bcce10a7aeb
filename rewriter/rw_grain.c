/*
 * rw_grain.c - time grains in view matching: view outputs that truncate a
 * time column to a grain (DATE(ts), DATE_FORMAT, ...), the time roll-up of
 * functions with f(x) == f(DATE(x)), the exact recovery of a column from its
 * truncation, and query ranges over a truncated column (range compensation).
 */
#include "rw_grain.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cat.h"
#include "rw_coll.h"
#include "rw_emit.h"
#include "rw_mctx.h"
#include "rw_model.h"
#include "rw_rollup.h"
#include "rw_util.h"

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

/* Is E the bridge's INTERVAL expr UNIT (rw_conv.c conv_interval) in UNIT? */
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
bool
rw_grain_day_func(const struct rw_expr *e)
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
        k = rw_mctx_find_out(c, d, false);
    }
    rw_expr_free(d);
    return k;
}

/* View column I read as a time: CAST(v AS DATETIME) when STR (a bare
 * DATE_FORMAT string), else v itself. NULL on OOM. */
static struct rw_expr *
vtime(const struct mctx *c, size_t i, bool str)
{
    struct rw_expr *v = rw_mctx_vcol(c, i), *r;
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
struct rw_expr *
rw_grain_day_source(const struct mctx *c, const struct rw_expr *x, bool *found)
{
    int k = find_date_of(c, x);
    const struct rw_mcol *mc;
    size_t i;
    *found = false;
    if (k >= 0) {
        *found = true;
        return rw_mctx_vcol(c, (size_t)k);
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
struct rw_expr *
rw_grain_inv_col(const struct mctx *c, const struct rw_expr *e)
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
        v = rw_mctx_vcol(c, i);
        if (r == NULL || v == NULL || rw_expr_add(r, v) != 0) {
            rw_expr_free(r);
            return NULL;
        }
        return r;
    }
    return NULL;
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
struct rw_expr *
rw_grain_range_over_date(struct mctx *c, const struct rw_expr *e)
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
        return rw_rollup_mkfunc2(op, RW_E_OP, lhs, rw_expr_copy(k));
    }
    return NULL;
}
