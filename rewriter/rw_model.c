/*
 * rw_model.c - builds the SPJG model of a SELECT block from the libpg_query
 * tree (view-matching.md §1) and analyses its predicates into equivalence
 * classes, typed ranges and residuals (Goldstein & Larson §3.1).
 *
 *   SelectStmt ──rw_conv()──> canonical rw_expr trees ──analyze()──> rw_pred
 *   FROM: RangeVar -> rw_tab (schema and declared keys copied from the snapshot)
 *         JoinExpr INNER/CROSS -> ON/USING conjuncts
 *         JoinExpr LEFT/RIGHT  -> rw_ojoin (null-supplying instance + ON), RIGHT
 *                                 normalised to LEFT; a WHERE that rejects the
 *                                 padded rows turns it back into an inner join
 *   outputs named as MariaDB names them (alias, else the item's text)
 *
 * This file holds the entry (rw_model_build, rw_model_free) and the schema
 * helpers; the steps are modules of their own, sharing the builder state of
 * rw_build.h: rw_from.c (FROM), rw_conv.c (expressions), rw_select.c (select
 * list), rw_derived.c (derived tables), rw_pred.c (predicate analysis),
 * rw_outer.c (outer joins).
 */
#include "rw_model.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cat.h"
#include "rw_build.h"
#include "rw_coll.h"
#include "rw_conv.h"
#include "rw_derived.h"
#include "rw_from.h"
#include "rw_outer.h"
#include "rw_pred.h"
#include "rw_select.h"
#include "rw_util.h"

enum rw_rtype
rw_rtype_of(const char *t)
{
    static const char *const num[] = {"tinyint", "smallint", "mediumint", "int", "integer",
                                      "bigint", "decimal", "numeric", NULL};
    static const char *const dt[] = {"date", "datetime", "timestamp", NULL};
    static const char *const str[] = {"char", "varchar", "text", "tinytext", "mediumtext",
                                      "longtext", "enum", NULL};
    size_t i;
    if (t == NULL) {
        return RW_R_NONE;
    }
    for (i = 0; num[i]; i++) {
        if (strcmp(t, num[i]) == 0) {
            return RW_R_NUM;
        }
    }
    for (i = 0; dt[i]; i++) {
        if (strcmp(t, dt[i]) == 0) {
            return RW_R_DT;
        }
    }
    for (i = 0; str[i]; i++) {
        if (strcmp(t, str[i]) == 0) {
            return RW_R_STR;
        }
    }
    return RW_R_NONE;
}

const struct rw_mcol *
rw_model_col(const struct rw_model *m, int tab, const char *col)
{
    size_t i;
    if (tab < 0 || (size_t)tab >= m->n_tabs) {
        return NULL;
    }
    for (i = 0; i < m->tabs[tab].n_cols; i++) {
        if (strcmp(m->tabs[tab].cols[i].name, col) == 0) {
            return &m->tabs[tab].cols[i];
        }
    }
    return NULL;
}

struct cat_key *
rw_keys_dup(const struct cat_key *src, size_t n, bool *ok)
{
    struct cat_key *d;
    size_t i, j;
    *ok = true;
    if (n == 0 || src == NULL) {
        return NULL;
    }
    d = calloc(n, sizeof(*d));
    if (d == NULL) {
        *ok = false;
        return NULL;
    }
    for (i = 0; i < n; i++) {
        d[i].cols = calloc(src[i].n_cols ? src[i].n_cols : 1, sizeof(char *));
        if (src[i].ref_key != NULL) {
            d[i].ref_key = rw_strdup(src[i].ref_key);
            d[i].ref_cols = calloc(src[i].n_cols ? src[i].n_cols : 1, sizeof(char *));
            *ok = *ok && d[i].ref_key != NULL && d[i].ref_cols != NULL;
        }
        if (d[i].cols == NULL) {
            *ok = false;
            break;
        }
        d[i].n_cols = src[i].n_cols;
        d[i].informational = src[i].informational;
        if (src[i].name != NULL) {
            d[i].name = rw_strdup(src[i].name);
            *ok = *ok && d[i].name != NULL;
        }
        for (j = 0; j < src[i].n_cols; j++) {
            d[i].cols[j] = rw_lower(src[i].cols[j]);
            *ok = *ok && d[i].cols[j] != NULL;
            if (d[i].ref_cols != NULL) {
                d[i].ref_cols[j] = rw_lower(src[i].ref_cols[j]);
                *ok = *ok && d[i].ref_cols[j] != NULL;
            }
        }
    }
    if (!*ok) {
        rw_keys_free(d, n);
        return NULL;
    }
    return d;
}

void
rw_keys_free(struct cat_key *k, size_t n)
{
    size_t i, j;
    if (k == NULL) {
        return;
    }
    for (i = 0; i < n; i++) {
        for (j = 0; j < k[i].n_cols; j++) {
            free(k[i].cols != NULL ? k[i].cols[j] : NULL);
            free(k[i].ref_cols != NULL ? k[i].ref_cols[j] : NULL);
        }
        free(k[i].cols);
        free(k[i].ref_cols);
        free(k[i].ref_key);
        free(k[i].name);
    }
    free(k);
}

/* Refuse (in B) a block outside the model: set operations, WITH, INTO,
 * WINDOW, locking reads, VALUES, no FROM, GROUP BY DISTINCT. */
static void
block_refusal(struct build *b, const PgQuery__SelectStmt *s)
{
    if (s->op != PG_QUERY__SET_OPERATION__SETOP_NONE) {
        rw_build_fail(b, "UNION/INTERSECT/EXCEPT blocks are not supported yet");
    } else if (s->with_clause != NULL) {
        rw_build_fail(b, "WITH (common table expressions) is not supported yet");
    } else if (s->into_clause != NULL) {
        rw_build_fail(b, "SELECT ... INTO is not rewritten");
    } else if (s->n_window_clause > 0) {
        rw_build_fail(b, "WINDOW clause is outside the model");
    } else if (s->n_locking_clause > 0) {
        rw_build_fail(b, "locking reads (FOR UPDATE / LOCK IN SHARE MODE) are not rewritten");
    } else if (s->n_values_lists > 0) {
        rw_build_fail(b, "VALUES is not a table block");
    } else if (s->n_from_clause == 0) {
        rw_build_fail(b, "SELECT without FROM");
    } else if (s->group_distinct) {
        rw_build_fail(b, "GROUP BY DISTINCT is not supported");
    }
}

/* GROUP BY of S into the model: columns first, then select aliases
 * (MariaDB's order), ordinals. */
static void
group_by(struct build *b, const PgQuery__SelectStmt *s)
{
    size_t i;
    b->allow_agg = false;
    b->alias_fallback = true;
    for (i = 0; i < s->n_group_clause && b->err == NULL; i++) {
        const PgQuery__Node *g = s->group_clause[i];
        long k = rw_select_ordinal(g);
        struct rw_expr *e;
        if (g->node_case == PG_QUERY__NODE__NODE_GROUPING_SET) {
            rw_build_fail(b, "ROLLUP / GROUPING SETS are not supported");
            break;
        }
        if (k >= 1 && (size_t)k <= b->m->n_out) {
            e = rw_expr_copy(b->m->out[k - 1].e);
            if (e != NULL && rw_expr_has_agg(e)) {
                rw_build_fail(b, "GROUP BY %ld refers to an aggregate", k);
                rw_expr_free(e);
                break;
            }
        } else if (k >= 0) {
            rw_build_fail(b, "GROUP BY position %ld is out of range", k);
            break;
        } else {
            e = rw_conv(b, g);
        }
        if (e != NULL && rw_expr_has_win(e)) {
            rw_build_fail(b, "GROUP BY on a window function");
            rw_expr_free(e);
            break;
        }
        if (e == NULL || rw_build_push((void ***)&b->m->group, &b->m->n_group, e) != 0) {
            rw_expr_free(e);
            rw_build_fail(b, "out of memory");
        }
    }
}

/* ORDER BY of S into the model: select aliases first, then columns;
 * ordinals refer to outputs. */
static void
order_by(struct build *b, const PgQuery__SelectStmt *s)
{
    size_t i;
    for (i = 0; i < s->n_sort_clause && b->err == NULL; i++) {
        const PgQuery__SortBy *sb;
        struct rw_sort *srt;
        long k;
        if (s->sort_clause[i]->node_case != PG_QUERY__NODE__NODE_SORT_BY) {
            rw_build_fail(b, "bad ORDER BY item");
            break;
        }
        sb = s->sort_clause[i]->sort_by;
        srt = realloc(b->m->sort, (b->m->n_sort + 1) * sizeof(*srt));
        if (srt == NULL) {
            rw_build_fail(b, "out of memory");
            break;
        }
        b->m->sort = srt;
        srt = &srt[b->m->n_sort++];
        memset(srt, 0, sizeof(*srt));
        srt->out_ref = -1;
        srt->desc = sb->sortby_dir == PG_QUERY__SORT_BY_DIR__SORTBY_DESC;
        if (sb->sortby_nulls != PG_QUERY__SORT_BY_NULLS__SORTBY_NULLS_DEFAULT &&
            sb->sortby_nulls != PG_QUERY__SORT_BY_NULLS__SORT_BY_NULLS_UNDEFINED) {
            rw_build_fail(b, "NULLS FIRST/LAST is not MariaDB syntax");
            break;
        }
        k = rw_select_ordinal(sb->node);
        if (k >= 1 && (size_t)k <= b->m->n_out) {
            srt->out_ref = (int)k - 1;
            continue;
        }
        if (sb->node->node_case == PG_QUERY__NODE__NODE_COLUMN_REF &&
            sb->node->column_ref->n_fields == 1 && rw_build_sval(sb->node->column_ref->fields[0])) {
            int o = rw_conv_out_named(b->m, rw_build_sval(sb->node->column_ref->fields[0]));
            if (o >= 0) {
                srt->out_ref = o;
                continue;
            }
        }
        b->allow_win = true;
        srt->e = rw_conv(b, sb->node);
        b->allow_win = false;
    }
}

/* The block-wide flags of a built model: aggregate, non-deterministic;
 * window functions refused with GROUP BY, aggregates or DISTINCT. */
static void
block_flags(struct build *b)
{
    size_t i;
    if (b->err == NULL) {
        b->m->is_agg = b->m->n_group > 0 || (b->m->having != NULL);
        for (i = 0; i < b->m->n_out && !b->m->is_agg; i++) {
            b->m->is_agg = rw_expr_has_agg(b->m->out[i].e);
        }
        for (i = 0; i < b->m->n_conj; i++) {
            if (rw_expr_nondeterministic(b->m->conj[i])) {
                b->m->nondet = true;
            }
        }
        if (b->m->has_win && (b->m->is_agg || b->m->distinct)) {
            rw_build_fail(b, "window functions together with %s are outside the model",
                          b->m->distinct ? "DISTINCT" : "GROUP BY or aggregates");
        }
    }
}

struct rw_model *
rw_model_build(const struct rw_parse *p, const PgQuery__SelectStmt *s, const char *db,
               const struct cat_snapshot *snap, char **err)
{
    struct build b;
    size_t i;
    memset(&b, 0, sizeof(b));
    b.p = p;
    b.db = db;
    b.snap = snap;
    b.m = calloc(1, sizeof(*b.m));
    if (b.m == NULL) {
        *err = rw_strdup("out of memory");
        return NULL;
    }
    block_refusal(&b, s);
    for (i = 0; i < s->n_from_clause && b.err == NULL; i++) {
        rw_from_item(&b, s->from_clause[i]);
    }
    if (b.err == NULL && s->where_clause != NULL) {
        rw_from_add_conjuncts(&b, rw_conv(&b, s->where_clause));
    }
    b.allow_agg = true;
    b.allow_win = true;
    for (i = 0; i < s->n_target_list && b.err == NULL; i++) {
        rw_select_item(&b, s->target_list[i]);
    }
    b.allow_win = false;
    if (b.err == NULL && s->n_distinct_clause > 0) {
        if (s->n_distinct_clause != 1 ||
            (s->distinct_clause[0] != NULL &&
             s->distinct_clause[0]->node_case != PG_QUERY__NODE__NODE__NOT_SET)) {
            rw_build_fail(&b, "DISTINCT ON is not supported");
        }
        b.m->distinct = true;
    }
    group_by(&b, s);
    b.allow_agg = true;
    if (b.err == NULL && s->having_clause != NULL) {
        b.m->having = rw_conv(&b, s->having_clause);
    }
    order_by(&b, s);
    if (b.err == NULL && s->limit_option == PG_QUERY__LIMIT_OPTION__LIMIT_OPTION_WITH_TIES) {
        rw_build_fail(&b, "FETCH ... WITH TIES is not supported");
    }
    if (b.err == NULL && s->limit_count != NULL) {
        b.m->limit_text = rw_select_limit_text(&b, s->limit_count);
    }
    if (b.err == NULL && s->limit_offset != NULL) {
        b.m->offset_text = rw_select_limit_text(&b, s->limit_offset);
    }
    block_flags(&b);
    if (b.err == NULL) {
        if (rw_model_simplify_oj(b.m) != 0 || rw_model_analyze(b.m) != 0) {
            rw_build_fail(&b, "out of memory");
        }
    }
    if (b.err == NULL && b.m->has_win) {
        rw_select_win_opaque(&b);
    }
    rw_build_rte_pop_to(&b, 0);
    free(b.rte);
    for (i = 0; i < b.n_pend; i++) {
        rw_expr_free(b.pend[i]);
    }
    free(b.pend);
    if (b.err != NULL) {
        rw_model_free(b.m);
        *err = b.err;
        return NULL;
    }
    return b.m;
}

void
rw_model_free(struct rw_model *m)
{
    size_t i, j;
    if (m == NULL) {
        return;
    }
    rw_pred_free(&m->pred);
    for (i = 0; i < m->n_tabs; i++) {
        struct rw_tab *t = &m->tabs[i];
        free(t->key);
        free(t->db);
        free(t->name);
        free(t->alias);
        for (j = 0; j < t->n_cols && t->cols != NULL; j++) {
            free(t->cols[j].name);
            free(t->cols[j].decl);
            free(t->cols[j].data_type);
            free(t->cols[j].column_type);
            free(t->cols[j].collation);
            free(t->cols[j].charset);
        }
        free(t->cols);
        rw_keys_free(t->ukeys, t->n_ukeys);
        rw_keys_free(t->fkeys, t->n_fkeys);
        free(t->sig);
        rw_model_free(t->body);
    }
    free(m->tabs);
    for (i = 0; i < m->n_conj; i++) {
        rw_expr_free(m->conj[i]);
    }
    free(m->conj);
    for (i = 0; i < m->n_oj; i++) {
        for (j = 0; j < m->oj[i].n_on; j++) {
            rw_expr_free(m->oj[i].on[j]);
        }
        free(m->oj[i].on);
    }
    free(m->oj);
    for (i = 0; i < m->n_group; i++) {
        rw_expr_free(m->group[i]);
    }
    free(m->group);
    for (i = 0; i < m->n_out; i++) {
        free(m->out[i].name);
        free(m->out[i].vcol);
        free(m->out[i].vtype);
        rw_expr_free(m->out[i].e);
    }
    free(m->out);
    rw_expr_free(m->having);
    for (i = 0; i < m->n_sort; i++) {
        rw_expr_free(m->sort[i].e);
    }
    free(m->sort);
    free(m->limit_text);
    free(m->offset_text);
    free(m->opaque_why);
    for (i = 0; i < m->n_read; i++) {
        rw_expr_free(m->read[i]);
    }
    free(m->read);
    free(m);
}
