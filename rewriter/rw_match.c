/*
 * rw_match.c - view matching of one query block against one view model:
 * subsumption tests and output derivation (Goldstein & Larson 2001 §3:
 * equijoin, range and residual subsumption; §4: output and grouping
 * computability, aggregate roll-up), plus time roll-up over a view column
 * equal to DATE(ts). Everything is compared in the query's
 * space: view columns are mapped onto query table instances and every
 * column is replaced by its query equivalence-class representative.
 *
 *   for each table mapping m (view instance -> query instance, or none for
 *   an extra view table that must be a lossless join):
 *     join elimination -> outer joins (same LEFT JOIN + ON, or LEFT answering
 *     INNER with `v.col IS NOT NULL`) -> equijoin -> range -> residual ->
 *     outputs/grouping -> text
 *
 * The steps are modules of their own: rw_mctx.c (the matching state, query
 * space), rw_grain.c (time grains), rw_rollup.c (output derivation, roll-up),
 * rw_subsume.c (subsumption, compensations), rw_join.c (outer joins, join
 * elimination, join-back), rw_winpart.c (windows and partitions), rw_topn.c
 * (Top-N); this file emits the replacement block and searches the mappings.
 */
#include "rw_match.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cat.h"
#include "rw_coll.h"
#include "rw_emit.h"
#include "rw_grain.h"
#include "rw_join.h"
#include "rw_mctx.h"
#include "rw_model.h"
#include "rw_rollup.h"
#include "rw_subsume.h"
#include "rw_topn.h"
#include "rw_util.h"
#include "rw_winpart.h"

/* Translate query expression E (not yet in query space). */
static struct rw_expr *
xq(struct mctx *c, const struct rw_expr *e)
{
    struct rw_expr *qe = rw_mctx_qspace(c->q, e, NULL), *t;
    if (qe == NULL) {
        return NULL;
    }
    t = rw_rollup_xlate(c, qe);
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
                char *s = rw_mctx_show(c->q->group[i]);
                free(c->why);
                c->why = NULL;
                rw_mctx_fail(c, "grouping column %s not in view", s ? s : "");
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
        rw_mctx_fail(c, "OFFSET without LIMIT");
        goto bad;
    }
    return rw_buf_take(&b);
bad:
    if (c->why == NULL) {
        rw_mctx_fail(c, "out of memory");
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
            c.vouts[i] = rw_mctx_qspace(q, v->out[i].e, map);
        }
    }
    if (!q->is_agg && v->is_agg && !q->distinct) {
        rw_mctx_fail(&c, "the query needs every row but the view is aggregated");
    }
    if (c.why == NULL && c.n_back > 0 && !rw_join_joinback_ok(&c, vname) && c.why == NULL) {
        rw_mctx_fail(&c, "out of memory");
    }
    for (i = 0; i < v->n_tabs; i++) {
        unmapped += map[i] < 0;
    }
    if (c.why == NULL && unmapped > 0 && !rw_join_extras_lossless(&c) && c.why == NULL) {
        rw_mctx_fail(&c, "out of memory");
    }
    if (c.why == NULL && !rw_join_outer_joins(&c, v, &adj, &cp, &veff) && c.why == NULL) {
        rw_mctx_fail(&c, "out of memory");
    }
    c.v = veff;
    if (c.why == NULL && rw_subsume(&c, &cp)) {
        char *blk = NULL;
        bool topn = v->limit_text != NULL || v->offset_text != NULL;
        if (topn && (veff != v || !rw_topn_ok(&c, v, unmapped, &cp))) {
            if (c.why == NULL) {
                rw_mctx_fail(&c, "view has LIMIT: the query's outer joins differ from the view's");
            }
        } else if (q->is_agg && v->is_agg && rw_subsume_groups_equal(&c)) {
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
            if (!rw_winpart_comp_on_partitions(&c, cp.v[i])) {
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
    rw_join_vadj_free(&adj);
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
