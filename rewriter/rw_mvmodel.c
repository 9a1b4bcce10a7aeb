/*
 * rw_mvmodel.c - view models (rw.h: rw_mv_model_build/free/tables): the
 * direct model of a view definition, its storage-column mapping, and the
 * unfolding of a view over another view into a model over base tables
 * (view-matching.md §1: sums of sums fold to sums, sums of counts to
 * counts, MIN of MIN, MAX of MAX; a coarser grouping replaces a finer one;
 * anything else makes that output opaque).
 */
#include "rw.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cat.h"
#include "rw_match.h"
#include "rw_model.h"
#include "rw_util.h"

/* Substitute columns of E (over the outer view's single instance) by the inner
 * view's output expressions; NULL when a column maps to an opaque output. */
static struct rw_expr *
subst(const struct rw_model *inner, const struct rw_expr *e)
{
    struct rw_expr *r;
    size_t i;
    if (e->kind == RW_E_COL) {
        for (i = 0; i < inner->n_out; i++) {
            if (inner->out[i].vcol != NULL && strcasecmp(inner->out[i].vcol, e->name) == 0) {
                return inner->out[i].e != NULL ? rw_expr_copy(inner->out[i].e) : NULL;
            }
        }
        return NULL;
    }
    r = rw_expr_copy(e);
    if (r == NULL) {
        return NULL;
    }
    for (i = 0; i < r->n; i++) {
        rw_expr_free(r->args[i]);
        r->args[i] = subst(inner, e->args[i]);
        if (r->args[i] == NULL) {
            rw_expr_free(r);
            return NULL;
        }
    }
    return rw_expr_canon(r);
}

/* Fold outer aggregate E over an aggregated inner view; NULL = opaque. */
static struct rw_expr *
fold_agg(const struct rw_model *inner, const struct rw_expr *e)
{
    struct rw_expr *r, *ie;
    size_t i;
    if (!rw_expr_has_agg(e)) {
        r = subst(inner, e);
        if (r != NULL && rw_expr_has_agg(r)) {
            rw_expr_free(r);
            return NULL;
        }
        return r;
    }
    if (e->kind != RW_E_AGG) {
        r = rw_expr_copy(e);
        if (r == NULL) {
            return NULL;
        }
        for (i = 0; i < r->n; i++) {
            rw_expr_free(r->args[i]);
            r->args[i] = fold_agg(inner, e->args[i]);
            if (r->args[i] == NULL) {
                rw_expr_free(r);
                return NULL;
            }
        }
        return rw_expr_canon(r);
    }
    if (e->n != 1 || e->args[0]->kind != RW_E_COL) {
        return NULL;
    }
    ie = subst(inner, e->args[0]);
    if (ie == NULL) {
        return NULL;
    }
    if (ie->kind == RW_E_AGG && !ie->distinct && !e->distinct &&
        ((strcmp(e->name, "sum") == 0 &&
          (strcmp(ie->name, "sum") == 0 || strcmp(ie->name, "count") == 0)) ||
         (strcmp(e->name, "min") == 0 && strcmp(ie->name, "min") == 0) ||
         (strcmp(e->name, "max") == 0 && strcmp(ie->name, "max") == 0))) {
        return ie;
    }
    if (!rw_expr_has_agg(ie) &&
        (strcmp(e->name, "min") == 0 || strcmp(e->name, "max") == 0 ||
         (e->distinct && strcmp(e->name, "count") == 0))) {
        r = rw_expr_new(RW_E_AGG, e->name);
        if (r == NULL || rw_expr_add(r, ie) != 0) {
            rw_expr_free(r);
            return NULL;
        }
        r->distinct = e->distinct;
        return r;
    }
    rw_expr_free(ie);
    return NULL;
}

/* Deep copy of table instances. */
static int
copy_tabs(struct rw_model *dst, const struct rw_model *src)
{
    size_t i, j;
    dst->tabs = calloc(src->n_tabs ? src->n_tabs : 1, sizeof(*dst->tabs));
    if (dst->tabs == NULL) {
        return -1;
    }
    dst->n_tabs = src->n_tabs;
    for (i = 0; i < src->n_tabs; i++) {
        const struct rw_tab *s = &src->tabs[i];
        struct rw_tab *d = &dst->tabs[i];
        d->key = rw_strdup(s->key);
        d->opaque = s->opaque;
        d->sig = rw_strdup(s->sig); /* the body itself is not copied */
        d->db = rw_strdup(s->db);
        d->name = rw_strdup(s->name);
        d->alias = rw_strdup(s->alias);
        d->cols = calloc(s->n_cols ? s->n_cols : 1, sizeof(*d->cols));
        if (!d->key || !d->db || !d->name || !d->alias || !d->cols || (s->sig && !d->sig)) {
            return -1;
        }
        {
            bool ok1, ok2;
            d->ukeys = rw_keys_dup(s->ukeys, s->n_ukeys, &ok1);
            d->n_ukeys = d->ukeys != NULL ? s->n_ukeys : 0;
            d->fkeys = rw_keys_dup(s->fkeys, s->n_fkeys, &ok2);
            d->n_fkeys = d->fkeys != NULL ? s->n_fkeys : 0;
            if (!ok1 || !ok2) {
                return -1;
            }
        }
        d->n_cols = s->n_cols;
        for (j = 0; j < s->n_cols; j++) {
            d->cols[j].name = rw_strdup(s->cols[j].name);
            d->cols[j].decl = rw_strdup(s->cols[j].decl);
            d->cols[j].data_type = rw_strdup(s->cols[j].data_type);
            d->cols[j].column_type = rw_strdup(s->cols[j].column_type ? s->cols[j].column_type : "");
            d->cols[j].nullable = s->cols[j].nullable;
            d->cols[j].collation = s->cols[j].collation ? rw_strdup(s->cols[j].collation) : NULL;
            d->cols[j].charset = s->cols[j].charset ? rw_strdup(s->cols[j].charset) : NULL;
            if (!d->cols[j].name || !d->cols[j].decl || !d->cols[j].data_type ||
                !d->cols[j].column_type || (s->cols[j].collation && !d->cols[j].collation) ||
                (s->cols[j].charset && !d->cols[j].charset)) {
                return -1;
            }
        }
    }
    return 0;
}

/* Append E (consumed) to an expression array. */
static int
push_expr(struct rw_expr ***arr, size_t *n, struct rw_expr *e)
{
    struct rw_expr **a;
    if (e == NULL) {
        return -1;
    }
    a = realloc(*arr, (*n + 1) * sizeof(*a));
    if (a == NULL) {
        rw_expr_free(e);
        return -1;
    }
    a[(*n)++] = e;
    *arr = a;
    return 0;
}

/*
 * Unfold OUTER (reading the single view whose base-level model is INNER)
 * into a model over INNER's tables. Returns NULL (with *WHY) when the
 * combination is not foldable as a whole.
 */
static struct rw_model *
unfold(const struct rw_model *outer, const struct rw_model *inner, char **why)
{
    struct rw_model *u = calloc(1, sizeof(*u));
    size_t i;
    if (u == NULL) {
        return NULL;
    }
    if (inner->having != NULL || inner->limit_text != NULL || inner->distinct) {
        *why = rw_strdup("inner view has HAVING/LIMIT/DISTINCT");
        goto bad;
    }
    if (inner->has_win && (outer->n_conj > 0 || outer->n_oj > 0 || outer->is_agg ||
                           outer->distinct || outer->has_win)) {
        /* the outer block filters, groups or windows the inner window values after they
         * were computed: one block over the base tables cannot say that */
        *why = rw_strdup("outer view filters or aggregates the window values of the inner view");
        goto bad;
    }
    if (outer->has_win && inner->is_agg) {
        *why = rw_strdup("outer view computes windows over the groups of the inner view");
        goto bad;
    }
    u->has_win = inner->has_win || outer->has_win;
    if (copy_tabs(u, inner) != 0) {
        goto oom;
    }
    u->has_derived = inner->has_derived || outer->has_derived;
    for (i = 0; i < inner->n_conj; i++) {
        if (push_expr(&u->conj, &u->n_conj, rw_expr_copy(inner->conj[i])) != 0) {
            goto oom;
        }
    }
    if (inner->n_oj > 0) {
        u->oj = calloc(inner->n_oj, sizeof(*u->oj));
        if (u->oj == NULL) {
            goto oom;
        }
        for (i = 0; i < inner->n_oj; i++) {
            size_t k;
            u->oj[u->n_oj].tab = inner->oj[i].tab;
            u->n_oj++;
            for (k = 0; k < inner->oj[i].n_on; k++) {
                if (push_expr(&u->oj[i].on, &u->oj[i].n_on,
                              rw_expr_copy(inner->oj[i].on[k])) != 0) {
                    goto oom;
                }
            }
        }
    }
    for (i = 0; i < outer->n_conj; i++) {
        struct rw_expr *e = subst(inner, outer->conj[i]);
        if (e == NULL || rw_expr_has_agg(e)) {
            rw_expr_free(e);
            *why = rw_strdup("outer filter on an aggregated or opaque column of the inner view");
            goto bad;
        }
        if (push_expr(&u->conj, &u->n_conj, e) != 0) {
            goto oom;
        }
    }
    u->out = calloc(outer->n_out ? outer->n_out : 1, sizeof(*u->out));
    if (u->out == NULL) {
        goto oom;
    }
    u->n_out = outer->n_out;
    for (i = 0; i < outer->n_out; i++) {
        u->out[i].name = rw_strdup(outer->out[i].name);
        u->out[i].vcol = rw_strdup(outer->out[i].vcol);
        u->out[i].vtype = rw_strdup(outer->out[i].vtype);
        if (u->out[i].name == NULL || u->out[i].vcol == NULL ||
            (outer->out[i].vtype != NULL && u->out[i].vtype == NULL)) {
            goto oom;
        }
    }
    if (inner->is_agg && outer->is_agg) {
        for (i = 0; i < outer->n_group; i++) {
            struct rw_expr *g = subst(inner, outer->group[i]);
            if (g == NULL || rw_expr_has_agg(g)) {
                rw_expr_free(g);
                *why = rw_strdup("outer grouping on an aggregated column of the inner view");
                goto bad;
            }
            if (push_expr(&u->group, &u->n_group, g) != 0) {
                goto oom;
            }
        }
        for (i = 0; i < outer->n_out; i++) {
            u->out[i].e = outer->out[i].e ? fold_agg(inner, outer->out[i].e) : NULL;
        }
        u->is_agg = true;
    } else if (inner->is_agg) {
        for (i = 0; i < inner->n_group; i++) {
            if (push_expr(&u->group, &u->n_group, rw_expr_copy(inner->group[i])) != 0) {
                goto oom;
            }
        }
        for (i = 0; i < outer->n_out; i++) {
            u->out[i].e = outer->out[i].e ? subst(inner, outer->out[i].e) : NULL;
        }
        u->is_agg = true;
    } else {
        for (i = 0; i < outer->n_group; i++) {
            if (push_expr(&u->group, &u->n_group, subst(inner, outer->group[i])) != 0) {
                *why = rw_strdup("outer grouping on an opaque column of the inner view");
                goto bad;
            }
        }
        for (i = 0; i < outer->n_out; i++) {
            u->out[i].e = outer->out[i].e ? subst(inner, outer->out[i].e) : NULL;
        }
        u->is_agg = outer->is_agg;
    }
    if (rw_model_simplify_oj(u) != 0 || rw_model_analyze(u) != 0) {
        goto oom;
    }
    return u;
oom:
    free(*why);
    *why = rw_strdup("out of memory");
bad:
    rw_model_free(u);
    return NULL;
}

void
rw_mv_model_free(struct rw_mv_model *mm)
{
    size_t i;
    if (mm == NULL) {
        return;
    }
    rw_model_free(mm->direct);
    rw_model_free(mm->unfolded);
    for (i = 0; i < mm->n_tables; i++) {
        free(mm->tables[i]);
    }
    free(mm->tables);
    free(mm);
}

size_t
rw_mv_model_tables(const struct rw_mv_model *mm, const char *const **keys)
{
    *keys = (const char *const *)mm->tables;
    return mm->n_tables;
}

/* Add KEY to MM->tables unless present; -1 on OOM. */
static int
add_key(struct rw_mv_model *mm, const char *key)
{
    size_t i;
    char *k;
    for (i = 0; i < mm->n_tables; i++) {
        if (strcmp(mm->tables[i], key) == 0) {
            return 0;
        }
    }
    k = rw_strdup(key);
    if (k == NULL) {
        return -1;
    }
    if (push_expr((struct rw_expr ***)&mm->tables, &mm->n_tables, (struct rw_expr *)k) != 0) {
        free(k);
        return -1;
    }
    return 0;
}

/* Add the base-table keys of M's instances to MM->tables: an opaque derived
 * table contributes the tables its body reads (recursively), not its own key;
 * -1 on OOM. */
static int
add_model_keys(struct rw_mv_model *mm, const struct rw_model *m)
{
    size_t i;
    for (i = 0; i < m->n_tabs; i++) {
        if (m->tabs[i].opaque) {
            if (m->tabs[i].body != NULL && add_model_keys(mm, m->tabs[i].body) != 0) {
                return -1;
            }
        } else if (add_key(mm, m->tabs[i].key) != 0) {
            return -1;
        }
    }
    return 0;
}

/* Turn SELECT DISTINCT outputs into GROUP BY outputs (same rows). */
static int
distinct_to_group(struct rw_model *m)
{
    size_t i;
    if (!m->distinct || m->is_agg) {
        return 0;
    }
    for (i = 0; i < m->n_out; i++) {
        if (push_expr(&m->group, &m->n_group, rw_expr_copy(m->out[i].e)) != 0) {
            return -1;
        }
    }
    m->distinct = false;
    m->is_agg = true;
    return 0;
}

/*
 * Why a view with LIMIT (a Top-N view) is never used, or NULL when it may
 * answer a query that differs only in LIMIT/OFFSET (rw_topn.c): it must
 * group (GROUP BY or DISTINCT), have a LIMIT count, an ORDER BY that names
 * every GROUP BY expression (groups are distinct on them, so no two rows
 * tie and the order is total), no window function. An SPJ view is refused:
 * its ORDER BY would have to cover a unique key of every table to be total.
 * The reason is allocated (caller frees).
 */
static char *
topn_refusal(const struct rw_model *m)
{
    size_t g, i;
    const char *rule = "view has LIMIT; its rows depend on the order and it is never used "
                       "for rewrite";
    if (!m->is_agg || m->n_group == 0) {
        return rw_sprintf("%s (a Top-N view is used only when it groups and its ORDER BY "
                          "names every GROUP BY expression)", rule);
    }
    if (m->limit_text == NULL || m->n_sort == 0 || m->has_win) {
        return rw_sprintf("%s (a Top-N view needs ORDER BY ... LIMIT and no window function)",
                          rule);
    }
    for (g = 0; g < m->n_group; g++) {
        bool found = false;
        for (i = 0; i < m->n_sort && !found; i++) {
            const struct rw_expr *e =
                m->sort[i].out_ref >= 0 ? m->out[m->sort[i].out_ref].e : m->sort[i].e;
            found = e != NULL && rw_expr_cmp(e, m->group[g]) == 0;
        }
        if (!found) {
            return rw_sprintf("%s (its ORDER BY does not name every GROUP BY expression: "
                              "groups that tie on it are cut arbitrarily)", rule);
        }
    }
    return NULL;
}

struct rw_mv_model *
rw_mv_model_build(const struct cat_snapshot *snap, const char *db, const char *name,
                  const char *select_sql, char **err)
{
    struct rw_parse p;
    struct rw_mv_model *mm = NULL;
    struct rw_model *m = NULL;
    const struct cat_table *st;
    size_t i;
    *err = NULL;
    if (rw_parse_sql(select_sql, strlen(select_sql), &p, err, NULL) != 0) {
        rw_parse_free(&p);
        return NULL;
    }
    if (p.tree->n_stmts != 1 || p.tree->stmts[0]->stmt == NULL ||
        p.tree->stmts[0]->stmt->node_case != PG_QUERY__NODE__NODE_SELECT_STMT) {
        *err = rw_strdup("view definition is not a single SELECT");
        goto out;
    }
    m = rw_model_build(&p, p.tree->stmts[0]->stmt->select_stmt, db, snap, err);
    if (m == NULL) {
        goto out;
    }
    if (m->nondet) {
        *err = rw_strdup("view uses a non-deterministic function; it is never used for rewrite");
    } else if (m->having != NULL) {
        *err = rw_strdup("view has HAVING, which matching does not support yet");
    }
    if (*err != NULL) {
        goto out;
    }
    if (distinct_to_group(m) != 0) {
        *err = rw_strdup("out of memory");
        goto out;
    }
    if ((m->limit_text != NULL || m->offset_text != NULL) && (*err = topn_refusal(m)) != NULL) {
        goto out;
    }
    st = cat_snapshot_table(snap, db, name);
    if (st != NULL && st->n_cols != m->n_out) {
        *err = rw_sprintf("storage table %s.%s has %zu columns, the definition %zu outputs", db,
                          name, st->n_cols, m->n_out);
        goto out;
    }
    for (i = 0; i < m->n_out; i++) {
        m->out[i].vcol = rw_strdup(st != NULL ? st->cols[i].name : m->out[i].name);
        if (st != NULL && (st->cols[i].column_type != NULL || st->cols[i].data_type != NULL)) {
            m->out[i].vtype = rw_lower(st->cols[i].column_type != NULL ? st->cols[i].column_type
                                                                       : st->cols[i].data_type);
            if (m->out[i].vtype == NULL) {
                *err = rw_strdup("out of memory");
                goto out;
            }
        }
        if (m->out[i].vcol == NULL) {
            *err = rw_strdup("out of memory");
            goto out;
        }
    }
    mm = calloc(1, sizeof(*mm));
    if (mm == NULL) {
        *err = rw_strdup("out of memory");
        goto out;
    }
    mm->direct = m;
    m = NULL;
    if (mm->direct->n_tabs == 1 && mm->direct->limit_text == NULL) {
        /* (a Top-N view is matched as written: unfolding would lose its LIMIT) */
        const struct rw_tab *t = &mm->direct->tabs[0];
        const struct cat_mv *inner = cat_snapshot_find(snap, t->db, t->name);
        if (inner != NULL && inner->model != NULL) {
            const struct rw_model *im =
                inner->model->unfolded ? inner->model->unfolded : inner->model->direct;
            char *why = NULL;
            mm->unfolded = unfold(mm->direct, im, &why);
            free(why); /* not foldable: the direct model is still usable */
        }
    }
    {
        const struct rw_model *base = mm->unfolded ? mm->unfolded : mm->direct;
        if (add_model_keys(mm, base) != 0) {
            goto oom;
        }
        /* the direct model also holds the bodies of opaque derived tables (the unfolded
         * copy does not) */
        if (mm->unfolded && add_model_keys(mm, mm->direct) != 0) {
            goto oom;
        }
    }
    goto out;
oom:
    rw_mv_model_free(mm);
    mm = NULL;
    *err = rw_strdup("out of memory");
out:
    rw_model_free(m);
    rw_parse_free(&p);
    if (mm != NULL && *err != NULL) {
        rw_mv_model_free(mm);
        mm = NULL;
    }
    return mm;
}

bool
rw_mv_windows_aligned(const struct rw_mv_model *model, const char *vcol)
{
    const struct rw_model *m;
    char *why = NULL;
    bool aligned;
    if (model == NULL) {
        return true;
    }
    m = model->unfolded != NULL ? model->unfolded : model->direct;
    aligned = rw_win_part_aligned(m, vcol, &why);
    free(why);
    return aligned;
}

/* The output of M that is exactly E (a grouping or join column), or -1. */
static int
out_of_expr(const struct rw_model *m, const struct rw_expr *e)
{
    size_t i;
    for (i = 0; i < m->n_out; i++) {
        if (m->out[i].e != NULL && m->out[i].vcol != NULL && rw_expr_cmp(m->out[i].e, e) == 0) {
            return (int)i;
        }
    }
    return -1;
}

/* First output of M that is one side of a column = column conjunct of CONJ
 * (N) between two table instances, or -1. */
static int
join_key_out(const struct rw_model *m, struct rw_expr *const *conj, size_t n)
{
    size_t i, k;
    for (i = 0; i < n; i++) {
        const struct rw_expr *e = conj[i];
        if (e == NULL || e->kind != RW_E_OP || e->name == NULL || strcmp(e->name, "=") != 0 ||
            e->n != 2 || e->args[0]->kind != RW_E_COL || e->args[1]->kind != RW_E_COL ||
            e->args[0]->tab == e->args[1]->tab) {
            continue;
        }
        for (k = 0; k < 2; k++) {
            int o = out_of_expr(m, e->args[k]);
            if (o >= 0) {
                return o;
            }
        }
    }
    return -1;
}

size_t
rw_mv_model_index_cols(const struct rw_mv_model *model, const char **cols, size_t max, char *what)
{
    const struct rw_model *m;
    size_t n = 0, g, j;
    *what = 0;
    if (model == NULL || model->direct == NULL || max == 0) {
        return 0;
    }
    m = model->direct;
    if (m->n_group > 0) {
        for (g = 0; g < m->n_group && n < max; g++) {
            int o = out_of_expr(m, m->group[g]);
            bool dup = false;
            if (o < 0) {
                break; /* leading groups only: stop at the first one not output */
            }
            for (j = 0; j < n; j++) {
                dup = dup || strcasecmp(cols[j], m->out[o].vcol) == 0;
            }
            if (!dup) {
                cols[n++] = m->out[o].vcol;
            }
        }
        *what = n > 0 ? 'g' : 0;
        return n;
    }
    if (!m->is_agg && m->n_tabs > 1) {
        int o = join_key_out(m, m->conj, m->n_conj);
        for (j = 0; o < 0 && j < m->n_oj; j++) {
            o = join_key_out(m, m->oj[j].on, m->oj[j].n_on);
        }
        if (o >= 0) {
            cols[0] = m->out[o].vcol;
            *what = 'j';
            return 1;
        }
    }
    return 0;
}
