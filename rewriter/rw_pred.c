/*
 * rw_pred.c - predicate analysis of a model (Goldstein & Larson §3.1): the
 * equivalence classes (union-find over column = column), the typed range of
 * each class and the residual conjuncts.
 */
#include "rw_pred.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "rw_build.h"
#include "rw_coll.h"
#include "rw_model.h"
#include "rw_util.h"

/* ------------------------------------------------------------- analysis */

void
rw_pred_free(struct rw_pred *pr)
{
    size_t i, j;
    if (pr->ranges != NULL) {
        for (i = 0; i < pr->n_cols; i++) {
            struct rw_range *r = &pr->ranges[i];
            free(r->lo);
            free(r->hi);
            for (j = 0; j < r->n_pts; j++) {
                free(r->pts[j]);
            }
            free(r->pts);
            free(r->src);
            free(r->note);
        }
    }
    free(pr->ranges);
    free(pr->cols);
    free(pr->resid);
    memset(pr, 0, sizeof(*pr));
}

int
rw_pred_find(const struct rw_pred *pr, int tab, const char *col)
{
    size_t i;
    for (i = 0; i < pr->n_cols; i++) {
        if (pr->cols[i].tab == tab && strcmp(pr->cols[i].col, col) == 0) {
            return (int)i;
        }
    }
    return -1;
}

int
rw_pred_root(const struct rw_pred *pr, int i)
{
    while (pr->cols[i].parent != i) {
        i = pr->cols[i].parent;
    }
    return i;
}

/* Node of column E (a COL) in M's analysis, added when missing; -1 on OOM. */
static int
pcol(struct rw_model *m, const struct rw_expr *e)
{
    struct rw_pred *pr = &m->pred;
    struct rw_pcol *c;
    int i = rw_pred_find(pr, e->tab, e->name);
    if (i >= 0) {
        return i;
    }
    c = realloc(pr->cols, (pr->n_cols + 1) * sizeof(*c));
    if (c == NULL) {
        return -1;
    }
    pr->cols = c;
    c = &c[pr->n_cols];
    c->tab = e->tab;
    c->col = e->name;
    c->parent = (int)pr->n_cols;
    c->mc = rw_model_col(m, e->tab, e->name);
    c->rtype = c->mc ? rw_rtype_of(c->mc->data_type) : RW_R_NONE;
    return (int)pr->n_cols++;
}

/* True for integer-family DATA_TYPEs. */
static bool
is_int_type(const char *t)
{
    return strstr(t, "int") != NULL;
}

/* May columns A and B (schema) share an equivalence class (values interchangeable)? */
static bool
eq_compatible(const struct rw_mcol *a, const struct rw_mcol *b)
{
    enum rw_rtype ta, tb;
    if (a == NULL || b == NULL) {
        return false;
    }
    ta = rw_rtype_of(a->data_type);
    tb = rw_rtype_of(b->data_type);
    if (ta != tb || ta == RW_R_STR || ta == RW_R_NONE) {
        return false; /* strings: collation may equate different values */
    }
    if (ta == RW_R_NUM) {
        return (is_int_type(a->data_type) && is_int_type(b->data_type)) ||
               strcmp(a->data_type, b->data_type) == 0;
    }
    return strcmp(a->data_type, b->data_type) == 0;
}

/* Comparable value of literal K for a column of domain T into *OUT (owned); false if none. */
static bool
typed_value(enum rw_rtype t, const struct rw_expr *k, char **out)
{
    char norm[20];
    if (k->kind != RW_E_CONST) {
        return false;
    }
    switch (t) {
    case RW_R_NUM:
        if (k->ctype != RW_C_INT && k->ctype != RW_C_DEC) {
            return false;
        }
        *out = rw_strdup(k->val);
        return *out != NULL;
    case RW_R_DT:
        if (k->ctype == RW_C_DATE) {
            *out = rw_strdup(k->val);
            return *out != NULL;
        }
        if (k->ctype != RW_C_STR || !rw_norm_datetime(k->val, norm)) {
            return false;
        }
        *out = rw_strdup(norm);
        return *out != NULL;
    case RW_R_STR:
        if (k->ctype != RW_C_STR || k->name != NULL) {
            return false; /* _charset'..' / N'..': another character set, not compared */
        }
        *out = rw_strdup(k->val);
        return *out != NULL;
    default:
        return false;
    }
}

/* Compare comparable values of domain T (strings: under collation COLL, which
 * the caller made sure decides them, see merge_atom; strcmp when it cannot). */
static int
rcmp(enum rw_rtype t, const char *coll, const char *a, const char *b)
{
    int c;
    if (t == RW_R_NUM) {
        return rw_dec_cmp(a, b);
    }
    if (t == RW_R_STR && rw_coll_cmp(coll, a, b, &c)) {
        return c;
    }
    return strcmp(a, b);
}

/* Record in R->note (first one only) why a string atom stayed residual. */
static void
str_note(struct rw_range *r, char *msg)
{
    if (r->note == NULL) {
        r->note = msg;
    } else {
        free(msg);
    }
}

/*
 * Can string atom values V[0..N) join range R of collation COLL without a
 * comparison the collation cannot decide? Bounds (POINTS false) need every
 * value and every point already in R orderable; points need orderable
 * values when R has bounds, and a decided equality with each point R
 * already holds. Keeps the range's invariant: every comparison that
 * tighten(), the intersection and normalize_range() make is exact. When
 * not, notes why in R->note (shown by EXPLAIN REWRITE).
 */
static bool
str_atom_fits(struct rw_range *r, const char *coll, char *const *v, size_t n, bool points)
{
    size_t i, j;
    bool eq;
    const char *cn = coll != NULL ? coll : "(unknown)";
    for (i = 0; i < n; i++) {
        if ((!points || r->has_lo || r->has_hi) && !rw_coll_orderable(coll, v[i])) {
            str_note(r, rw_sprintf("cannot order '%s' under collation %s (ranges on strings are "
                                   "compared only for ASCII; under a case-insensitive collation "
                                   "only letters and digits)",
                                   v[i], cn));
            return false;
        }
        for (j = 0; points && r->has_pts && j < r->n_pts; j++) {
            if (!rw_coll_eq(coll, v[i], r->pts[j], &eq)) {
                str_note(r, rw_sprintf("cannot compare '%s' and '%s' under collation %s", v[i],
                                       r->pts[j], cn));
                return false;
            }
        }
    }
    for (j = 0; !points && r->has_pts && j < r->n_pts; j++) {
        if (!rw_coll_orderable(coll, r->pts[j])) {
            str_note(r, rw_sprintf("cannot compare '%s' and '%s' under collation %s", v[0],
                                   r->pts[j], cn));
            return false;
        }
    }
    return true;
}

/* Are points A and B equal in domain T (strings: under COLL; decided, see
 * str_atom_fits)? */
static bool
req(enum rw_rtype t, const char *coll, const char *a, const char *b)
{
    bool eq;
    if (t == RW_R_STR) {
        return rw_coll_eq(coll, a, b, &eq) && eq;
    }
    return rcmp(t, coll, a, b) == 0;
}

/* A single range atom: column op constant(s). */
struct atom {
    const struct rw_expr *col;  /* the column */
    const char *op;             /* "=", "<", "<=", ">", ">=", "between", "in" */
    const struct rw_expr *k1;   /* constant (lower for BETWEEN) */
    const struct rw_expr *k2;   /* BETWEEN upper */
    const struct rw_expr *in;   /* IN node (args[1..] constants) */
};

/* Recognise E as a range atom. */
static bool
as_atom(const struct rw_expr *e, struct atom *a)
{
    static const char *const flip[][2] = {{"=", "="}, {"<", ">"}, {"<=", ">="}, {">", "<"},
                                          {">=", "<="}, {NULL, NULL}};
    size_t i;
    memset(a, 0, sizeof(*a));
    if (e->kind == RW_E_OP && e->n == 2) {
        for (i = 0; flip[i][0] != NULL; i++) {
            if (strcmp(e->name, flip[i][0]) == 0) {
                break;
            }
        }
        if (flip[i][0] == NULL) {
            return false;
        }
        if (e->args[0]->kind == RW_E_COL && e->args[1]->kind == RW_E_CONST) {
            a->col = e->args[0];
            a->k1 = e->args[1];
            a->op = flip[i][0];
        } else if (e->args[1]->kind == RW_E_COL && e->args[0]->kind == RW_E_CONST) {
            a->col = e->args[1];
            a->k1 = e->args[0];
            a->op = flip[i][1];
        } else {
            return false;
        }
        return a->k1->ctype != RW_C_NULL;
    }
    if (e->kind == RW_E_BETWEEN && !e->neg && e->args[0]->kind == RW_E_COL &&
        e->args[1]->kind == RW_E_CONST && e->args[2]->kind == RW_E_CONST) {
        a->col = e->args[0];
        a->k1 = e->args[1];
        a->k2 = e->args[2];
        a->op = "between";
        return true;
    }
    if (e->kind == RW_E_IN && !e->neg && e->args[0]->kind == RW_E_COL) {
        for (i = 1; i < e->n; i++) {
            if (e->args[i]->kind != RW_E_CONST) {
                return false;
            }
        }
        a->col = e->args[0];
        a->in = e;
        a->op = "in";
        return true;
    }
    return false;
}

/* Set bound (*HAS, *V, *INCL) to the tighter of itself and (NV, NINCL); LOWER selects max. */
static void
tighten(enum rw_rtype t, const char *coll, bool lower, bool *has, char **v, bool *incl, char *nv,
        bool nincl)
{
    int c;
    if (!*has) {
        *has = true;
        *v = nv;
        *incl = nincl;
        return;
    }
    c = rcmp(t, coll, nv, *v);
    if ((lower && c > 0) || (!lower && c < 0) || (c == 0 && !nincl)) {
        free(*v);
        *v = nv;
        *incl = c == 0 ? (*incl && nincl) : nincl;
        return;
    }
    free(nv);
}

/*
 * Merge atom A into range R of domain T; false when A cannot be
 * represented (R unchanged). For strings, MC is the column: its collation
 * decides every comparison (the column's coercibility beats a literal's);
 * an atom whose literals the collation cannot compare exactly (rw_coll.h)
 * stays a residual conjunct.
 */
static bool
merge_atom(struct rw_range *r, enum rw_rtype t, const struct rw_mcol *mc, const struct atom *a,
           const struct rw_expr *src)
{
    char *v1 = NULL, *v2 = NULL;
    size_t i, j;
    bool eq = strcmp(a->op, "=") == 0, in = strcmp(a->op, "in") == 0;
    struct rw_expr **ns;
    const char *coll = t == RW_R_STR && mc != NULL ? mc->collation : NULL;
    if (r->type != RW_R_NONE && r->type != t) {
        return false;
    }
    if (t == RW_R_STR && r->type == RW_R_STR &&
        (coll == NULL || r->coll == NULL ? coll != r->coll : strcmp(coll, r->coll) != 0)) {
        return false;
    }
    if (t == RW_R_STR && !eq && !in && mc != NULL && strcmp(mc->data_type, "enum") == 0) {
        return false; /* ENUM order is the index order for some operands: equality only */
    }
    if (t == RW_R_STR) {
        const struct rw_expr *ks[2] = {a->k1, a->k2};
        for (i = 0; i < 2 && !in; i++) {
            if (ks[i] != NULL && ks[i]->kind == RW_E_CONST && ks[i]->name != NULL) {
                str_note(r, rw_sprintf("literal %s has its own character set: not compared under "
                                       "the column's collation",
                                       ks[i]->text));
                return false;
            }
        }
    }
    if (in || eq) {
        char **pts = NULL;
        size_t n = 0, cnt = in ? a->in->n - 1 : 1;
        pts = calloc(cnt, sizeof(*pts));
        if (pts == NULL) {
            return false;
        }
        for (i = 0; i < cnt; i++) {
            const struct rw_expr *k = in ? a->in->args[i + 1] : a->k1;
            char *v;
            if (!typed_value(t, k, &v)) {
                for (j = 0; j < n; j++) {
                    free(pts[j]);
                }
                free(pts);
                return false;
            }
            pts[n++] = v;
        }
        if (t == RW_R_STR && !str_atom_fits(r, coll, pts, n, true)) {
            for (j = 0; j < n; j++) {
                free(pts[j]);
            }
            free(pts);
            return false;
        }
        if (r->has_pts) {
            /* intersect with the existing point set */
            size_t keep = 0;
            for (i = 0; i < r->n_pts; i++) {
                bool found = false;
                for (j = 0; j < n; j++) {
                    found = found || req(t, coll, r->pts[i], pts[j]);
                }
                if (found) {
                    r->pts[keep++] = r->pts[i];
                } else {
                    free(r->pts[i]);
                }
            }
            r->n_pts = keep;
            for (j = 0; j < n; j++) {
                free(pts[j]);
            }
            free(pts);
        } else {
            r->has_pts = true;
            r->pts = pts;
            r->n_pts = n;
        }
    } else {
        char *vv[2];
        if (!typed_value(t, a->k1, &v1) || (a->k2 != NULL && !typed_value(t, a->k2, &v2))) {
            free(v1);
            return false;
        }
        vv[0] = v1;
        vv[1] = v2;
        if (t == RW_R_STR && !str_atom_fits(r, coll, vv, v2 != NULL ? 2 : 1, false)) {
            free(v1);
            free(v2);
            return false;
        }
        if (strcmp(a->op, "between") == 0) {
            tighten(t, coll, true, &r->has_lo, &r->lo, &r->lo_incl, v1, true);
            tighten(t, coll, false, &r->has_hi, &r->hi, &r->hi_incl, v2, true);
        } else if (a->op[0] == '>') {
            tighten(t, coll, true, &r->has_lo, &r->lo, &r->lo_incl, v1, a->op[1] == '=');
        } else {
            tighten(t, coll, false, &r->has_hi, &r->hi, &r->hi_incl, v1, a->op[1] == '=');
        }
    }
    r->type = t;
    r->coll = coll;
    ns = realloc(r->src, (r->n_src + 1) * sizeof(*ns));
    if (ns == NULL) {
        return false;
    }
    r->src = ns;
    r->src[r->n_src++] = (struct rw_expr *)src;
    return true;
}

/* Recompute emptiness and drop points outside the bounds. */
static void
normalize_range(struct rw_range *r)
{
    size_t i, keep = 0;
    if (r->has_pts) {
        for (i = 0; i < r->n_pts; i++) {
            int cl = r->has_lo ? rcmp(r->type, r->coll, r->pts[i], r->lo) : 1;
            int ch = r->has_hi ? rcmp(r->type, r->coll, r->pts[i], r->hi) : -1;
            if ((cl > 0 || (cl == 0 && r->lo_incl)) && (ch < 0 || (ch == 0 && r->hi_incl))) {
                r->pts[keep++] = r->pts[i];
            } else {
                free(r->pts[i]);
            }
        }
        r->n_pts = keep;
        r->empty = keep == 0;
    } else if (r->has_lo && r->has_hi) {
        int c = rcmp(r->type, r->coll, r->lo, r->hi);
        r->empty = c > 0 || (c == 0 && !(r->lo_incl && r->hi_incl));
    }
}

int
rw_model_analyze(struct rw_model *m)
{
    struct rw_pred *pr = &m->pred;
    bool *used;
    size_t i;
    rw_pred_free(pr);
    used = calloc(m->n_conj ? m->n_conj : 1, sizeof(*used));
    if (used == NULL) {
        return -1;
    }
    /* pass 1: column = column of interchangeable types -> equivalence classes */
    for (i = 0; i < m->n_conj; i++) {
        const struct rw_expr *e = m->conj[i];
        int a, c;
        if (e->kind != RW_E_OP || strcmp(e->name, "=") != 0 || e->n != 2 ||
            e->args[0]->kind != RW_E_COL || e->args[1]->kind != RW_E_COL) {
            continue;
        }
        if (!eq_compatible(rw_model_col(m, e->args[0]->tab, e->args[0]->name),
                           rw_model_col(m, e->args[1]->tab, e->args[1]->name))) {
            continue;
        }
        a = pcol(m, e->args[0]);
        c = pcol(m, e->args[1]);
        if (a < 0 || c < 0) {
            free(used);
            return -1;
        }
        a = rw_pred_root(pr, a);
        c = rw_pred_root(pr, c);
        if (a != c) {
            /* the smaller index stays root: deterministic representatives */
            if (a < c) {
                pr->cols[c].parent = a;
            } else {
                pr->cols[a].parent = c;
            }
        }
        used[i] = true;
    }
    /* make sure every range column has a node before ranges[] is sized */
    for (i = 0; i < m->n_conj; i++) {
        struct atom a;
        if (!used[i] && as_atom(m->conj[i], &a) && pcol(m, a.col) < 0) {
            free(used);
            return -1;
        }
    }
    pr->ranges = calloc(pr->n_cols ? pr->n_cols : 1, sizeof(*pr->ranges));
    if (pr->ranges == NULL) {
        free(used);
        return -1;
    }
    /* pass 2: ranges per class; everything else is residual */
    for (i = 0; i < m->n_conj; i++) {
        struct atom a;
        if (used[i]) {
            continue;
        }
        if (as_atom(m->conj[i], &a)) {
            int c = rw_pred_find(pr, a.col->tab, a.col->name);
            int root = rw_pred_root(pr, c);
            if (pr->cols[c].rtype != RW_R_NONE &&
                merge_atom(&pr->ranges[root], pr->cols[c].rtype, pr->cols[c].mc, &a, m->conj[i])) {
                continue;
            }
        }
        if (rw_build_push((void ***)&pr->resid, &pr->n_resid, m->conj[i]) != 0) {
            free(used);
            return -1;
        }
    }
    for (i = 0; i < pr->n_cols; i++) {
        if (pr->ranges[i].type != RW_R_NONE) {
            normalize_range(&pr->ranges[i]);
        }
    }
    free(used);
    return 0;
}
