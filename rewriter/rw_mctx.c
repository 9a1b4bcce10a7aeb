/*
 * rw_mctx.c - the matching state of one table mapping (view instance ->
 * query instance) and the translation of expressions into the query's space:
 * view instances mapped onto the query's, every column replaced by its query
 * equivalence-class representative, view outputs as storage columns.
 */
#include "rw_mctx.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cat.h"
#include "rw_coll.h"
#include "rw_emit.h"
#include "rw_model.h"
#include "rw_util.h"

/* Record the first failure. */
void
rw_mctx_fail(struct mctx *c, const char *fmt, ...)
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
char *
rw_mctx_show(const struct rw_expr *e)
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
struct rw_expr *
rw_mctx_qspace(const struct rw_model *q, const struct rw_expr *e, const int *map)
{
    struct rw_expr *c = rw_expr_copy(e);
    if (c == NULL) {
        return NULL;
    }
    to_query_space(q, c, map);
    return rw_expr_canon(c);
}

/* View-column node for output I. */
struct rw_expr *
rw_mctx_vcol(const struct mctx *c, size_t i)
{
    return rw_expr_new(RW_E_VCOL, c->v->out[i].vcol);
}

/* Index of a view output equal to E (query space); AGG_OK allows aggregate outputs. */
int
rw_mctx_find_out(const struct mctx *c, const struct rw_expr *e, bool agg_ok)
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
