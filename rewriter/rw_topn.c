/*
 * rw_topn.c - Top-N views in view matching (ORDER BY ... LIMIT n OFFSET o):
 * a query with the same block answers from the view when its LIMIT/OFFSET
 * window lies inside the view's.
 */
#include "rw_topn.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cat.h"
#include "rw_coll.h"
#include "rw_emit.h"
#include "rw_mctx.h"
#include "rw_model.h"
#include "rw_subsume.h"
#include "rw_util.h"

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
bool
rw_topn_ok(struct mctx *c, const struct rw_model *v, size_t unmapped, const struct comp *cp)
{
    const struct rw_model *q = c->q;
    unsigned long long vn, vo, qn, qo;
    size_t i;
    if (q->limit_text == NULL || q->n_sort == 0) {
        rw_mctx_fail(c, "view has ORDER BY ... LIMIT: only a query with the same ORDER BY and a "
                        "LIMIT inside the view's can use it");
        return false;
    }
    if (c->n_back > 0 || unmapped > 0) {
        rw_mctx_fail(c, "view has LIMIT: the query must read exactly the view's tables");
        return false;
    }
    if (cp->n > 0) {
        rw_mctx_fail(c, "view has LIMIT: the query's filters must be the view's (a filter on the "
                        "view's first rows is not a filter on the query's)");
        return false;
    }
    if (q->having != NULL || q->distinct || q->has_win) {
        rw_mctx_fail(c, "view has LIMIT: the query has HAVING, DISTINCT or a window function");
        return false;
    }
    if (!q->is_agg || !rw_subsume_groups_equal(c)) {
        rw_mctx_fail(c, "view has LIMIT: the query must group by the view's GROUP BY (no roll-up)");
        return false;
    }
    if (q->n_sort != v->n_sort) {
        rw_mctx_fail(c, "view has LIMIT: the query's ORDER BY differs from the view's");
        return false;
    }
    for (i = 0; i < q->n_sort; i++) {
        const struct rw_sort *qs = &q->sort[i], *vs = &v->sort[i];
        const struct rw_expr *qe = qs->out_ref >= 0 ? q->out[qs->out_ref].e : qs->e;
        const struct rw_expr *ve = vs->out_ref >= 0 ? v->out[vs->out_ref].e : vs->e;
        struct rw_expr *a, *b;
        bool same;
        if (qe == NULL || ve == NULL || qs->desc != vs->desc) {
            rw_mctx_fail(c,
                         "view has LIMIT: the query's ORDER BY differs from the view's (key %zu)",
                         i + 1);
            return false;
        }
        a = rw_mctx_qspace(q, qe, NULL);
        b = rw_mctx_qspace(q, ve, c->map);
        same = a != NULL && b != NULL && rw_expr_cmp(a, b) == 0;
        rw_expr_free(a);
        rw_expr_free(b);
        if (!same) {
            rw_mctx_fail(c,
                         "view has LIMIT: the query's ORDER BY differs from the view's (key %zu)",
                         i + 1);
            return false;
        }
    }
    if (!limit_value(v->limit_text, 0, &vn) || !limit_value(v->offset_text, 0, &vo) ||
        !limit_value(q->limit_text, 0, &qn) || !limit_value(q->offset_text, 0, &qo)) {
        rw_mctx_fail(c, "view has LIMIT: LIMIT/OFFSET is not a plain integer");
        return false;
    }
    if (qo < vo || qo + qn > vo + vn) {
        rw_mctx_fail(c, "view has LIMIT %llu OFFSET %llu (rows %llu..%llu of the order); the query "
                        "asks for rows %llu..%llu", vn, vo, vo + 1, vo + vn, qo + 1, qo + qn);
        return false;
    }
    c->topn_limit = rw_sprintf("%llu", qn);
    c->topn_offset = rw_sprintf("%llu", qo - vo);
    if (c->topn_limit == NULL || c->topn_offset == NULL) {
        rw_mctx_fail(c, "out of memory");
        return false;
    }
    return true;
}
