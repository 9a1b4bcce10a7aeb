/*
 * rw_derived.c - derived tables (subqueries in FROM) in the model: merged into
 * the block ("view merging", as MariaDB's derived_merge does) when the body
 * allows it, else an opaque instance keyed by the body's canonical signature
 * (rw_model_build() documents both).
 */
#include "rw_derived.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "rw_build.h"
#include "rw_coll.h"
#include "rw_conv.h"
#include "rw_from.h"
#include "rw_model.h"
#include "rw_outer.h"
#include "rw_select.h"
#include "rw_util.h"

/* ------------------------------------------------------------ derived tables */

/* Why the body S of a derived table cannot be merged into its block (static text), or NULL. */
static const char *
not_mergeable(const PgQuery__SelectStmt *s)
{
    if (s->op != PG_QUERY__SET_OPERATION__SETOP_NONE) {
        return "it is a UNION/INTERSECT/EXCEPT";
    }
    if (s->with_clause != NULL) {
        return "it has a WITH clause";
    }
    if (s->into_clause != NULL || s->n_locking_clause > 0 || s->n_values_lists > 0) {
        return "it is not a plain SELECT";
    }
    if (s->n_group_clause > 0 || s->group_distinct) {
        return "it has GROUP BY";
    }
    if (s->having_clause != NULL) {
        return "it has HAVING";
    }
    if (s->n_distinct_clause > 0) {
        return "it has DISTINCT";
    }
    if (s->limit_count != NULL || s->limit_offset != NULL) {
        return "it has LIMIT/OFFSET";
    }
    if (s->n_window_clause > 0) {
        return "it has a WINDOW clause";
    }
    if (s->n_from_clause == 0) {
        return "it has no FROM";
    }
    return NULL;
}

/* Append string S to signature O, length-prefixed (NULL as "~"). */
static void
sig_str(struct rw_buf *o, const char *s)
{
    if (s == NULL) {
        rw_buf_puts(o, "~");
        return;
    }
    rw_buf_printf(o, "%zu:", strlen(s));
    rw_buf_puts(o, s);
}

/* Append canonical expression E to signature O: every field rw_expr_cmp()
 * compares, so two trees print the same exactly when rw_expr_cmp() is 0. */
static void
sig_expr(struct rw_buf *o, const struct rw_expr *e)
{
    size_t i;
    if (e == NULL) {
        rw_buf_puts(o, "N");
        return;
    }
    rw_buf_printf(o, "(%d,%d,", (int)e->kind, e->tab);
    sig_str(o, e->name);
    if (e->kind == RW_E_CONST) {
        rw_buf_printf(o, ",%d,", (int)e->ctype);
        sig_str(o, e->val);
    }
    rw_buf_printf(o, ",%d%d%d%d,%zu", e->neg, e->distinct, e->case_arg, e->has_else, e->n);
    for (i = 0; i < e->n; i++) {
        rw_buf_puts(o, " ");
        sig_expr(o, e->args[i]);
    }
    rw_buf_puts(o, ")");
}

static int
sig_cmp_ptr(const void *a, const void *b)
{
    return rw_expr_cmp(*(struct rw_expr *const *)a, *(struct rw_expr *const *)b);
}

/* Append the N expressions at A to O as a set (sorted by rw_expr_cmp, duplicates once). */
static void
sig_set(struct rw_buf *o, struct rw_expr *const *a, size_t n)
{
    struct rw_expr **c;
    size_t i;
    rw_buf_printf(o, "{");
    if (n == 0) {
        rw_buf_puts(o, "}");
        return;
    }
    c = malloc(n * sizeof(*c));
    if (c == NULL) {
        o->oom = true;
        return;
    }
    memcpy(c, a, n * sizeof(*c));
    qsort(c, n, sizeof(*c), sig_cmp_ptr);
    for (i = 0; i < n; i++) {
        if (i > 0 && rw_expr_cmp(c[i - 1], c[i]) == 0) {
            continue;
        }
        sig_expr(o, c[i]);
    }
    free(c);
    rw_buf_puts(o, "}");
}

/*
 * Canonical signature of body model M with output column names NAMES
 * (lower case, M->n_out of them): its table instances (keys, in FROM
 * order), WHERE/ON conjuncts and outer joins (each a set), grouping set,
 * outputs by position (expression and name), HAVING, DISTINCT, and ORDER
 * BY / LIMIT / OFFSET when it has a LIMIT (MariaDB ignores the ORDER BY of
 * a derived table without one). Aliases, spacing and letter case do not
 * enter it: expressions are the canonical trees. Caller frees; NULL on OOM.
 */
static char *
body_signature(const struct rw_model *m, char *const *names)
{
    struct rw_buf o = {0};
    size_t i;
    rw_buf_printf(&o, "T%zu", m->n_tabs);
    for (i = 0; i < m->n_tabs; i++) {
        rw_buf_puts(&o, " ");
        sig_str(&o, m->tabs[i].opaque ? m->tabs[i].sig : m->tabs[i].key);
    }
    rw_buf_puts(&o, " W");
    sig_set(&o, m->conj, m->n_conj);
    for (i = 0; i < m->n_oj; i++) {
        rw_buf_printf(&o, " J%d", m->oj[i].tab);
        sig_set(&o, m->oj[i].on, m->oj[i].n_on);
    }
    rw_buf_printf(&o, " G%d", m->is_agg);
    sig_set(&o, m->group, m->n_group);
    rw_buf_printf(&o, " O%zu", m->n_out);
    for (i = 0; i < m->n_out; i++) {
        rw_buf_puts(&o, " ");
        sig_str(&o, names[i]);
        sig_expr(&o, m->out[i].e);
    }
    rw_buf_puts(&o, " H");
    sig_expr(&o, m->having);
    rw_buf_printf(&o, " D%d", m->distinct);
    if (m->limit_text != NULL || m->offset_text != NULL) {
        rw_buf_printf(&o, " S%zu", m->n_sort);
        for (i = 0; i < m->n_sort; i++) {
            rw_buf_printf(&o, " %d,%d", m->sort[i].out_ref, m->sort[i].desc);
            sig_expr(&o, m->sort[i].e);
        }
        rw_buf_puts(&o, " L");
        sig_str(&o, m->limit_text);
        sig_str(&o, m->offset_text);
    }
    if (o.oom) {
        rw_buf_free(&o);
        return NULL;
    }
    return rw_buf_take(&o);
}

/* True when every column E reads outside an aggregate call is a grouping
 * expression of M, or E itself is one (its value is the group's). */
static bool
grouped(const struct rw_model *m, const struct rw_expr *e)
{
    size_t i;
    for (i = 0; i < m->n_group; i++) {
        if (rw_expr_cmp(m->group[i], e) == 0) {
            return true;
        }
    }
    if (e->kind == RW_E_AGG) {
        return true;
    }
    if (e->kind == RW_E_COL) {
        return false;
    }
    for (i = 0; i < e->n; i++) {
        if (!grouped(m, e->args[i])) {
            return false;
        }
    }
    return true;
}

/* Why body model M cannot be an opaque instance (static text), or NULL. */
static const char *
opaque_refusal(const struct rw_model *m)
{
    size_t i;
    if (m->limit_text != NULL || m->offset_text != NULL) {
        return "it has LIMIT/OFFSET (which rows it keeps depends on how the backend breaks "
               "ties)";
    }
    if (m->nondet) {
        return "it calls a non-deterministic function";
    }
    if (m->has_win || m->opaque_why != NULL) {
        return "it computes window functions";
    }
    for (i = 0; i < m->n_out; i++) {
        if (m->out[i].e == NULL) {
            return "an output is outside the model";
        }
        if (rw_expr_nondeterministic(m->out[i].e)) {
            return "it calls a non-deterministic function";
        }
        if (m->is_agg && !grouped(m, m->out[i].e)) {
            return "an output reads a column that is neither grouped nor aggregated (its "
                   "value is any row's of the group)";
        }
    }
    if (m->having != NULL && rw_expr_nondeterministic(m->having)) {
        return "it calls a non-deterministic function";
    }
    if (m->having != NULL && !grouped(m, m->having)) {
        return "its HAVING reads a column that is neither grouped nor aggregated";
    }
    return NULL;
}

/* 64-bit FNV-1a of S. */
static unsigned long long
fnv1a(const char *s)
{
    unsigned long long h = 1469598103934665603ULL;
    for (; *s != '\0'; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return h;
}

/*
 * Add derived table RS (body S, which merging refused: WHY) as an opaque
 * instance: the body gets its own model (same snapshot; a failure refuses
 * the block as before), and the instance is a table whose columns are the
 * body's outputs, keyed by the body's canonical signature, so that view
 * matching maps it only onto a structurally identical body
 * (view-matching.md §2: table mapping by key).
 */
static void
opaque_derived(struct build *b, const PgQuery__RangeSubselect *rs, const char *alias,
               const PgQuery__SelectStmt *s, const char *why)
{
    struct rw_model *body;
    struct rw_tab *tabs, *nt;
    char *err = NULL, **names;
    const char *bad;
    size_t i, j, n;
    body = rw_model_build(b->p, s, b->db, b->snap, &err);
    if (body == NULL) {
        rw_build_fail(b, "derived table %s cannot be merged into the block (%s) and its body is "
                         "outside the model: %s", alias, why, err != NULL ? err : "out of memory");
        free(err);
        return;
    }
    bad = opaque_refusal(body);
    if (bad != NULL) {
        rw_build_fail(b, "derived table %s cannot be merged into the block (%s) nor matched as a "
                         "whole: %s", alias, why, bad);
        rw_model_free(body);
        return;
    }
    n = body->n_out;
    if (rs->alias->n_colnames > 0 && rs->alias->n_colnames != n) {
        rw_build_fail(b, "derived table %s names %zu columns, its select list has %zu", alias,
                      rs->alias->n_colnames, n);
        rw_model_free(body);
        return;
    }
    names = calloc(n ? n : 1, sizeof(*names));
    if (names == NULL) {
        rw_model_free(body);
        rw_build_fail(b, "out of memory");
        return;
    }
    for (i = 0; i < n && b->err == NULL; i++) {
        const char *nm = rs->alias->n_colnames > 0 ? rw_build_sval(rs->alias->colnames[i])
                                                   : body->out[i].name;
        names[i] = nm != NULL ? rw_lower(nm) : NULL;
        if (names[i] == NULL) {
            rw_build_fail(b, "bad column list of derived table %s", alias);
        }
        for (j = 0; j < i && b->err == NULL; j++) {
            if (strcmp(names[i], names[j]) == 0) {
                rw_build_fail(b, "derived table %s has two columns named %s", alias, names[i]);
            }
        }
    }
    tabs = b->err == NULL ? realloc(b->m->tabs, (b->m->n_tabs + 1) * sizeof(*tabs)) : NULL;
    if (tabs == NULL) {
        rw_build_fail(b, "out of memory");
        for (i = 0; i < n; i++) {
            free(names[i]);
        }
        free(names);
        rw_model_free(body);
        return;
    }
    b->m->tabs = tabs;
    nt = &tabs[b->m->n_tabs++];
    memset(nt, 0, sizeof(*nt));
    nt->opaque = true;
    nt->body = body;
    nt->sig = body_signature(body, names);
    nt->key = nt->sig != NULL ? rw_sprintf("derived:%016llx", fnv1a(nt->sig)) : NULL;
    nt->db = rw_strdup("");
    nt->name = rw_strdup(alias);
    nt->alias = rw_lower(alias);
    nt->cols = calloc(n ? n : 1, sizeof(*nt->cols));
    b->m->has_derived = true;
    if (nt->sig == NULL || nt->key == NULL || nt->db == NULL || nt->name == NULL ||
        nt->alias == NULL || nt->cols == NULL) {
        rw_build_fail(b, "out of memory");
    }
    for (i = 0; i < n && b->err == NULL; i++) {
        const struct rw_expr *e = body->out[i].e;
        const struct rw_mcol *bc = e->kind == RW_E_COL ? rw_model_col(body, e->tab, e->name)
                                                       : NULL;
        struct rw_mcol *c = &nt->cols[nt->n_cols++];
        c->name = names[i];
        names[i] = NULL;
        c->decl = rw_strdup(rs->alias->n_colnames > 0 ? rw_build_sval(rs->alias->colnames[i])
                                                      : body->out[i].name);
        /* a plain column keeps its type and collation; anything else has no range
         * semantics (its predicates stay residual) */
        c->data_type = rw_strdup(bc != NULL ? bc->data_type : "");
        c->column_type = rw_strdup(bc != NULL ? bc->column_type : "");
        c->collation = bc != NULL && bc->collation != NULL ? rw_strdup(bc->collation) : NULL;
        c->charset = bc != NULL && bc->charset != NULL ? rw_strdup(bc->charset) : NULL;
        /* NOT NULL only for a NOT NULL column of an inner-joined instance of a grouped body
         * (a scalar aggregate body returns its one row over no rows with NULLs) */
        c->nullable = bc == NULL || bc->nullable || rw_model_oj_of(body, e->tab) >= 0 ||
                      (body->is_agg && body->n_group == 0);
        if (c->decl == NULL || c->data_type == NULL || c->column_type == NULL ||
            (bc != NULL && bc->collation != NULL && c->collation == NULL) ||
            (bc != NULL && bc->charset != NULL && c->charset == NULL)) {
            rw_build_fail(b, "out of memory");
        }
    }
    for (i = 0; i < n; i++) {
        free(names[i]);
    }
    free(names);
    if (b->err == NULL) {
        (void)rw_build_rte_push_last_table(b, nt->alias);
    }
}

/* True when body S is refused merging only for GROUP BY, HAVING, DISTINCT or
 * LIMIT/OFFSET: it can be an opaque instance (opaque_derived). */
static bool
opaque_kind(const PgQuery__SelectStmt *s)
{
    return s->op == PG_QUERY__SET_OPERATION__SETOP_NONE && s->with_clause == NULL &&
           s->into_clause == NULL && s->n_locking_clause == 0 && s->n_values_lists == 0 &&
           s->n_window_clause == 0 && s->n_from_clause > 0 && !s->group_distinct;
}

/*
 * Merge derived table RS into the block (see rw_model_build): its body's
 * tables become instances, its WHERE joins conj[] (or b->pend on a
 * null-supplying side), and an entry named by its alias maps its columns to
 * the body's output expressions. The body's ORDER BY is ignored (MariaDB
 * ignores it without LIMIT).
 */
void
rw_derived(struct build *b, const PgQuery__RangeSubselect *rs)
{
    const char *alias = rs->alias != NULL ? rs->alias->aliasname : NULL;
    const PgQuery__SelectStmt *s;
    const char *why;
    size_t rte_lo0 = b->rte_lo, first_rte = b->n_rte, first_tab = b->m->n_tabs, first_out, i, j;
    bool aa = b->allow_agg, af = b->alias_fallback;
    struct rte d;
    if (rs->lateral) {
        rw_build_fail(b, "LATERAL derived tables are not supported");
        return;
    }
    if (alias == NULL || alias[0] == '\0') {
        rw_build_fail(b, "derived table without an alias");
        return;
    }
    if (rs->subquery == NULL || rs->subquery->node_case != PG_QUERY__NODE__NODE_SELECT_STMT) {
        rw_build_fail(b, "derived table %s is not a SELECT", alias);
        return;
    }
    s = rs->subquery->select_stmt;
    why = not_mergeable(s);
    if (why != NULL && opaque_kind(s)) {
        opaque_derived(b, rs, alias, s, why);
        return;
    }
    if (why != NULL) {
        rw_build_fail(b, "derived table %s cannot be merged into the block: %s", alias, why);
        return;
    }
    b->m->has_derived = true;
    for (i = 0; i < s->n_from_clause && b->err == NULL; i++) {
        rw_from_item(b, s->from_clause[i]);
    }
    if (b->err != NULL) {
        return;
    }
    /* the body sees only its own FROM (MariaDB has no LATERAL) */
    b->rte_lo = first_rte;
    b->allow_agg = true;
    b->alias_fallback = false;
    if (s->where_clause != NULL) {
        struct rw_expr *w = rw_conv(b, s->where_clause);
        if (w != NULL && rw_expr_nondeterministic(w)) {
            rw_build_fail(b, "derived table %s cannot be merged into the block: it calls a "
                             "non-deterministic function", alias);
        }
        if (w != NULL && b->null_side) {
            if (rw_from_split_conj(w, &b->pend, &b->n_pend) != 0) {
                rw_build_fail(b, "out of memory");
            }
        } else {
            rw_from_add_conjuncts(b, w);
        }
    }
    first_out = b->m->n_out;
    for (i = 0; i < s->n_target_list && b->err == NULL; i++) {
        rw_select_item(b, s->target_list[i]);
    }
    b->rte_lo = rte_lo0;
    b->allow_agg = aa;
    b->alias_fallback = af;
    rw_build_rte_pop_to(b, first_rte);
    memset(&d, 0, sizeof(d));
    d.tab = -1;
    d.n_cols = b->err == NULL ? b->m->n_out - first_out : 0;
    d.alias = rw_lower(alias);
    d.names = calloc(d.n_cols ? d.n_cols : 1, sizeof(*d.names));
    d.exprs = calloc(d.n_cols ? d.n_cols : 1, sizeof(*d.exprs));
    d.bad = calloc(d.n_cols ? d.n_cols : 1, sizeof(*d.bad));
    if (b->err == NULL &&
        (d.alias == NULL || d.names == NULL || d.exprs == NULL || d.bad == NULL)) {
        rw_build_fail(b, "out of memory");
    }
    for (i = 0; i < d.n_cols && b->err == NULL; i++) {
        struct rw_out *o = &b->m->out[first_out + i];
        d.names[i] = o->name;
        d.exprs[i] = o->e;
        o->name = NULL;
        o->e = NULL;
        if (rw_expr_has_agg(d.exprs[i])) {
            rw_build_fail(b, "derived table %s cannot be merged into the block: it aggregates",
                          alias);
        } else if (rw_expr_nondeterministic(d.exprs[i])) {
            /* merged, each reference would call it again */
            rw_build_fail(b, "derived table %s cannot be merged into the block: it calls a "
                             "non-deterministic function", alias);
        }
    }
    /* what the outer block does not reference is still read: privilege guard */
    for (i = 0; i < d.n_cols && b->err == NULL; i++) {
        struct rw_expr *x = rw_expr_copy(d.exprs[i]);
        if (x == NULL || rw_build_push((void ***)&b->m->read, &b->m->n_read, x) != 0) {
            rw_expr_free(x);
            rw_build_fail(b, "out of memory");
        }
    }
    while (b->m->n_out > first_out) {
        struct rw_out *o = &b->m->out[--b->m->n_out];
        free(o->name);
        rw_expr_free(o->e);
    }
    if (b->err == NULL && rs->alias->n_colnames > 0) {
        if (rs->alias->n_colnames != d.n_cols) {
            rw_build_fail(b, "derived table %s names %zu columns, its select list has %zu", alias,
                          rs->alias->n_colnames, d.n_cols);
        }
        for (i = 0; i < d.n_cols && b->err == NULL; i++) {
            char *nn = rw_build_sval(rs->alias->colnames[i])
                           ? rw_strdup(rw_build_sval(rs->alias->colnames[i]))
                           : NULL;
            if (nn == NULL) {
                rw_build_fail(b, "bad column list of derived table %s", alias);
                break;
            }
            free(d.names[i]);
            d.names[i] = nn;
        }
    }
    for (i = 0; i < d.n_cols && b->err == NULL; i++) {
        for (j = 0; j < i; j++) {
            if (strcasecmp(d.names[i], d.names[j]) == 0) {
                rw_build_fail(b, "derived table %s has two columns named %s", alias, d.names[i]);
                break;
            }
        }
        if (b->null_side) {
            /* NULL-padded: the column must be NULL then, as the substituted expression is */
            bool strict = false;
            size_t t;
            for (t = first_tab; t < b->m->n_tabs && !strict; t++) {
                strict = rw_outer_strict_on(d.exprs[i], (int)t, NULL);
            }
            d.bad[i] = !strict;
        }
    }
    if (b->err != NULL) {
        rw_build_rte_clear(&d);
        return;
    }
    rw_build_rte_push(b, &d);
}
