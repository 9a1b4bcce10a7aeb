/*
 * rw_subsume.c - the subsumption tests of view matching (Goldstein & Larson
 * 2001 §3): equijoin (equivalence classes), range and residual subsumption,
 * and the compensating predicates the rewrite applies on top of the view;
 * plus the grouping test (do the groupings coincide).
 */
#include "rw_subsume.h"

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
#include "rw_rollup.h"
#include "rw_util.h"

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

/* Add E (consumed) to CP; false on OOM/NULL. */
bool
rw_subsume_comp_add(struct comp *cp, struct rw_expr *e)
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


/* Translate query predicate E (query space) into a compensation. */
static bool
compensate(struct mctx *c, struct comp *cp, const struct rw_expr *e)
{
    struct rw_expr *t;
    char *save = c->why, *s;
    c->why = NULL;
    t = rw_rollup_xlate(c, e);
    if (t == NULL) {
        t = rw_grain_range_over_date(c, e);
    }
    if (t == NULL) {
        char *inner = c->why;
        c->why = save;
        s = rw_mctx_show(e);
        rw_mctx_fail(c, "query filter %s cannot be applied to the view: %s", s ? s : "",
                     inner ? inner : "not expressible over its columns");
        free(s);
        free(inner);
        return false;
    }
    free(c->why);
    c->why = save;
    return rw_subsume_comp_add(cp, t);
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
        struct rw_expr *e = rw_mctx_qspace(c->q, c->q->conj[i], NULL);
        yes = e != NULL && rw_expr_rejects_null_col(e, ve->args[0]->tab, ve->args[0]->name);
        rw_expr_free(e);
    }
    return yes;
}

/* 1. Equijoin subsumption: every view join predicate (a = b in a view
 * equivalence class) holds in the query's classes; false with the reason in C. */
static bool
equijoin_subsumed(struct mctx *c)
{
    const struct rw_pred *qp = &c->q->pred, *vp = &c->v->pred;
    size_t i, j;
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
            rw_mctx_fail(c, "view join predicate %s = %s is not in the query", vp->cols[i].col,
                         vp->cols[r].col);
            return false;
        }
    }
    return true;
}

/* The query equalities the view lacks, into CP as compensations over view
 * outputs (and joined-back columns); false with the reason in C or on OOM. */
static bool
equijoin_compensations(struct mctx *c, struct comp *cp)
{
    const struct rw_pred *qp = &c->q->pred, *vp = &c->v->pred;
    size_t i, j;
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
                if (o >= 0 && (item = rw_mctx_vcol(c, (size_t)o)) == NULL) {
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
                    rw_mctx_fail(c, "query join predicate on %s needs the column in the view "
                                    "output (to join the view with the tables it does not read, or "
                                    "to compensate)",
                                 miss);
                } else {
                    rw_mctx_fail(c,
                                 "query join predicate on %s needs the column in the view output",
                                 qp->cols[j].col);
                }
                rw_expr_free(item);
                rw_expr_free(prev);
                return false;
            }
            if (!rw_subsume_comp_add(cp,
                                     rw_rollup_mkfunc2("=", RW_E_OP, prev, rw_expr_copy(item)))) {
                rw_expr_free(item);
                return false;
            }
            first_vroot = vroot; /* chain a = b, b = c */
            prev = item;
            prev_col = qp->cols[j].col;
        }
        rw_expr_free(prev);
    }
    return true;
}

/* 2. Range subsumption: every view range contains the query's range on the
 * same class; false with the reason in C. */
static bool
range_subsumed(struct mctx *c)
{
    const struct rw_pred *qp = &c->q->pred, *vp = &c->v->pred;
    size_t i, j;
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
            rw_mctx_fail(c, "view filter on a table the query does not read");
            return false;
        }
        qk = rw_pred_find(qp, c->map[vp->cols[j].tab], vp->cols[j].col);
        if (qk >= 0) {
            qr = &qp->ranges[rw_pred_root(qp, qk)];
        }
        if (!range_contains(vr, qr)) {
            char *s = vr->n_src > 0 ? rw_mctx_show(vr->src[0]) : NULL;
            const char *why = qr != NULL && qr->note != NULL ? qr->note
                              : vr->type == RW_R_STR && qr != NULL && qr->type == RW_R_STR &&
                                      !qr->empty
                                  ? "the query's string range is not inside it under the "
                                    "column's collation, or the collation cannot compare the "
                                    "bounds"
                                  : NULL;
            rw_mctx_fail(c, "view filter %s is not implied by the query%s%s",
                         s ? s : vp->cols[i].col, why ? ": " : "", why ? why : "");
            free(s);
            return false;
        }
    }
    return true;
}

/* The query ranges the view does not apply as they are, into CP as
 * compensations; false with the reason in C or on OOM. */
static bool
range_compensations(struct mctx *c, struct comp *cp)
{
    const struct rw_pred *qp = &c->q->pred, *vp = &c->v->pred;
    size_t i, j;
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
            struct rw_expr *e = rw_mctx_qspace(c->q, qr->src[j], NULL);
            bool ok = e != NULL && compensate(c, cp, e);
            rw_expr_free(e);
            if (!ok) {
                return false;
            }
        }
    }
    return true;
}

/* 3. Residual subsumption: every view residual is a query residual (or an
 * implied IS NOT NULL); the query residuals the view lacks go to CP. False
 * with the reason in C or on OOM. */
static bool
residual_subsumed(struct mctx *c, struct comp *cp)
{
    const struct rw_pred *qp = &c->q->pred, *vp = &c->v->pred;
    size_t i, j;
    bool *hit = calloc(qp->n_resid ? qp->n_resid : 1, sizeof(*hit));
    struct rw_expr **qres = calloc(qp->n_resid ? qp->n_resid : 1, sizeof(*qres));
    bool ok = hit != NULL && qres != NULL;
    for (i = 0; ok && i < qp->n_resid; i++) {
        qres[i] = rw_mctx_qspace(c->q, qp->resid[i], NULL);
        ok = qres[i] != NULL;
    }
    for (i = 0; ok && i < vp->n_resid; i++) {
        struct rw_expr *ve = rw_mctx_qspace(c->q, vp->resid[i], c->map);
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
            char *s = rw_mctx_show(vp->resid[i]);
            const char *why = resid_note(vp, vp->resid[i]);
            rw_mctx_fail(c, "view filter %s is not implied by the query%s%s", s ? s : "",
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

/* The subsumption tests, in order (equijoin, range, residual); fills CP with
 * compensations. */
bool
rw_subsume(struct mctx *c, struct comp *cp)
{
    return equijoin_subsumed(c) && equijoin_compensations(c, cp) && range_subsumed(c) &&
           range_compensations(c, cp) && residual_subsumed(c, cp);
}
/* Do the query's and the view's groupings coincide (as sets, in query space)? */
bool
rw_subsume_groups_equal(struct mctx *c)
{
    size_t i, j;
    bool eq = true;
    struct rw_expr **vg = calloc(c->v->n_group ? c->v->n_group : 1, sizeof(*vg));
    struct rw_expr **qg = calloc(c->q->n_group ? c->q->n_group : 1, sizeof(*qg));
    if (vg == NULL || qg == NULL) {
        eq = false;
    }
    for (i = 0; eq && i < c->v->n_group; i++) {
        vg[i] = rw_mctx_qspace(c->q, c->v->group[i], c->map);
        eq = vg[i] != NULL;
    }
    for (i = 0; eq && i < c->q->n_group; i++) {
        qg[i] = rw_mctx_qspace(c->q, c->q->group[i], NULL);
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
