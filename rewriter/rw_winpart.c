/*
 * rw_winpart.c - window functions and partitions in view matching: a
 * compensation may filter a view with window outputs only on their PARTITION BY
 * keys, and a partitioned view's windows must lie inside its partitions.
 */
#include "rw_winpart.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cat.h"
#include "rw_coll.h"
#include "rw_emit.h"
#include "rw_mctx.h"
#include "rw_model.h"
#include "rw_util.h"

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
bool
rw_winpart_comp_on_partitions(struct mctx *c, const struct rw_expr *p)
{
    size_t i, k;
    if (p->kind != RW_E_VCOL) {
        for (i = 0; i < p->n; i++) {
            if (!rw_winpart_comp_on_partitions(c, p->args[i])) {
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
        col = x != c->vouts[i] ? rw_mctx_show(x) : NULL;
        rw_mctx_fail(c, "query filter on %s is not on the PARTITION BY of the view's window %s() "
                        "(%s): a window sees only the rows that pass the filter, so a filter that "
                        "cuts through its partitions changes its values",
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
