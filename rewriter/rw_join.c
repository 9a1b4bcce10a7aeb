/*
 * rw_join.c - joins in view matching: outer-join compatibility (the same
 * LEFT JOIN and ON, or a view LEFT JOIN answering an inner join; view-matching.md
 * §5), join elimination (extra view instances that are lossless joins), and
 * join-back (query instances the view lacks read next to it).
 */
#include "rw_join.h"

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

/* Free what ADJ owns. */
void
rw_join_vadj_free(struct vadj *adj)
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
bool
rw_join_outer_joins(struct mctx *c, const struct rw_model *v, struct vadj *adj, struct comp *cp,
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
            rw_mctx_fail(c, "the query's LEFT JOIN of %s keeps rows without a match, the view "
                            "inner-joins it",
                         q->tabs[q->oj[i].tab].alias);
            return false;
        }
        if (!on_equal(&q->oj[i], &v->oj[vo], c->map)) {
            rw_mctx_fail(c, "the view's LEFT JOIN of %s has another ON clause than the query's",
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
            rw_mctx_fail(c, "the view's LEFT JOIN of %s answers the query's inner join only when a "
                            "column of %s that is never NULL in matched rows (a NOT NULL column or "
                            "the join key) is a view output",
                         v->tabs[oj->tab].alias, v->tabs[oj->tab].alias);
            free(conv);
            return false;
        }
        {
            struct rw_expr *nn = rw_expr_new(RW_E_ISNULL, NULL);
            if (nn == NULL || rw_expr_add(nn, rw_mctx_vcol(c, (size_t)out)) != 0) {
                rw_expr_free(nn);
                free(conv);
                return false;
            }
            nn->neg = true;
            if (!rw_subsume_comp_add(cp, nn)) {
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
bool
rw_join_extras_lossless(struct mctx *c)
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
            rw_mctx_fail(c, "view reads derived table %s, which the query does not: a derived "
                            "table that groups, aggregates or is DISTINCT is never eliminated",
                         v->tabs[i].alias);
            ok = false;
        } else if (c->map[i] < 0 && !gone[i] &&
                   nullable_fk_to(v, (int)i, &fkname, &fktab, &fkcol)) {
            rw_mctx_fail(c, "view joins table %s that the query does not; the %sforeign key%s%s of "
                            "%s referencing it has a nullable column %s (rows with a NULL there "
                            "are not in the view's inner join): declare the column NOT NULL",
                         v->tabs[i].key, fkname ? "informational " : "", fkname ? " " : "",
                         fkname ? fkname : "", fktab, fkcol);
            ok = false;
        } else if (c->map[i] < 0 && !gone[i]) {
            rw_mctx_fail(c, "view joins table %s that the query does not, and that join may drop "
                            "or duplicate rows (it needs a declared foreign key, NOT NULL, to a "
                            "unique key, or a LEFT JOIN on a unique key, and no filter on %s)",
                         v->tabs[i].key, v->tabs[i].alias);
            ok = false;
        }
    }
    free(gone);
    return ok;
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
bool
rw_join_joinback_ok(struct mctx *c, const char *vname)
{
    const struct rw_model *q = c->q, *v = c->v;
    size_t i, j, t;
    if (v->is_agg || v->distinct) {
        for (t = 0; t + 1 < q->n_tabs && c->inv[t] >= 0; t++) {
        }
        rw_mctx_fail(c, "query reads table %s that the view does not, and the view is %s: joining "
                        "it back would change the row multiplicities",
                     q->tabs[t].key, v->distinct ? "DISTINCT" : "aggregated");
        return false;
    }
    for (i = 0; i < q->n_oj; i++) {
        const struct rw_ojoin *oj = &q->oj[i];
        if (c->inv[oj->tab] < 0) {
            rw_mctx_fail(c, "the query LEFT JOINs %s, which the view does not read: a table joined "
                            "back to the view must be inner-joined",
                         q->tabs[oj->tab].alias);
            return false;
        }
        for (j = 0; j < oj->n_on; j++) {
            for (t = 0; t < q->n_tabs; t++) {
                if (c->inv[t] < 0 && mentions(oj->on[j], (int)t)) {
                    rw_mctx_fail(c, "the ON clause of the query's LEFT JOIN of %s reads %s, which "
                                    "the view does not read",
                                 q->tabs[oj->tab].alias, q->tabs[t].alias);
                    return false;
                }
            }
        }
    }
    for (t = 0; t < q->n_tabs; t++) {
        if (c->inv[t] < 0 && q->tabs[t].opaque) {
            rw_mctx_fail(c, "the query's derived table %s is not in the view: a derived table that "
                            "groups, aggregates or is DISTINCT is never joined back",
                         q->tabs[t].alias);
            return false;
        }
        if (c->inv[t] < 0 && q->tabs[t].star) {
            rw_mctx_fail(c, "SELECT * lists the columns of %s, which the view does not read: name "
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
