/*
 * rw_from.c - the FROM clause of a SELECT block in the model (view-matching.md
 * §1): RangeVar -> rw_tab (schema and declared keys copied from the snapshot),
 * JoinExpr INNER/CROSS -> ON/USING conjuncts, JoinExpr LEFT/RIGHT -> rw_ojoin
 * (RIGHT normalised to LEFT), RangeSubselect -> rw_derived().
 */
#include "rw_from.h"

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
#include "rw_model.h"
#include "rw_util.h"

/* ------------------------------------------------------------------ FROM */

/* Add table instance for RV; returns its index or -1. */
static int
add_table(struct build *b, const PgQuery__RangeVar *rv)
{
    const char *db = (rv->schemaname != NULL && rv->schemaname[0] != '\0') ? rv->schemaname : b->db;
    const struct cat_table *t;
    struct rw_tab *tabs, *nt;
    size_t i;
    if (rv->catalogname != NULL && rv->catalogname[0] != '\0') {
        rw_build_fail(b, "three-part table name %s.%s.%s is not supported", rv->catalogname,
                      rv->schemaname, rv->relname);
        return -1;
    }
    if (db == NULL) {
        rw_build_fail(b, "no database selected for table %s", rv->relname);
        return -1;
    }
    t = cat_snapshot_table(b->snap, db, rv->relname);
    if (t == NULL) {
        rw_build_fail(b, "table %s.%s is not known to the catalog", db, rv->relname);
        return -1;
    }
    tabs = realloc(b->m->tabs, (b->m->n_tabs + 1) * sizeof(*tabs));
    if (tabs == NULL) {
        rw_build_fail(b, "out of memory");
        return -1;
    }
    b->m->tabs = tabs;
    nt = &tabs[b->m->n_tabs++];
    memset(nt, 0, sizeof(*nt));
    nt->key = rw_lower(t->key);
    nt->db = rw_strdup(t->db);
    nt->name = rw_strdup(t->name);
    nt->alias = rw_lower(rv->alias != NULL ? rv->alias->aliasname : rv->relname);
    nt->cols = calloc(t->n_cols ? t->n_cols : 1, sizeof(*nt->cols));
    if (nt->key == NULL || nt->db == NULL || nt->name == NULL || nt->alias == NULL ||
        nt->cols == NULL) {
        rw_build_fail(b, "out of memory");
        return -1;
    }
    {
        bool ok1, ok2;
        nt->ukeys = rw_keys_dup(t->ukeys, t->n_ukeys, &ok1);
        nt->n_ukeys = nt->ukeys != NULL ? t->n_ukeys : 0;
        nt->fkeys = rw_keys_dup(t->fkeys, t->n_fkeys, &ok2);
        nt->n_fkeys = nt->fkeys != NULL ? t->n_fkeys : 0;
        if (!ok1 || !ok2) {
            rw_build_fail(b, "out of memory");
            return -1;
        }
    }
    nt->n_cols = t->n_cols;
    for (i = 0; i < t->n_cols; i++) {
        nt->cols[i].name = rw_lower(t->cols[i].name);
        nt->cols[i].decl = rw_strdup(t->cols[i].name);
        nt->cols[i].data_type = rw_lower(t->cols[i].data_type ? t->cols[i].data_type : "");
        nt->cols[i].column_type = rw_lower(t->cols[i].column_type ? t->cols[i].column_type : "");
        nt->cols[i].nullable = t->cols[i].nullable;
        nt->cols[i].collation = t->cols[i].collation ? rw_lower(t->cols[i].collation) : NULL;
        nt->cols[i].charset = t->cols[i].charset ? rw_lower(t->cols[i].charset) : NULL;
        if (!nt->cols[i].name || !nt->cols[i].decl || !nt->cols[i].data_type ||
            !nt->cols[i].column_type || (t->cols[i].collation && !nt->cols[i].collation) ||
            (t->cols[i].charset && !nt->cols[i].charset)) {
            rw_build_fail(b, "out of memory");
            return -1;
        }
    }
    if (rw_build_rte_push_last_table(b, nt->alias) != 0) {
        return -1;
    }
    return (int)(b->m->n_tabs - 1);
}

/* Add every top-level conjunct of E (consumed) to the model. */
void
rw_from_add_conjuncts(struct build *b, struct rw_expr *e)
{
    size_t i;
    if (e == NULL) {
        return;
    }
    if (e->kind == RW_E_AND) {
        for (i = 0; i < e->n; i++) {
            rw_from_add_conjuncts(b, e->args[i]);
        }
        e->n = 0;
        rw_expr_free(e);
        return;
    }
    if (rw_build_push((void ***)&b->m->conj, &b->m->n_conj, e) != 0) {
        rw_expr_free(e);
        rw_build_fail(b, "out of memory");
    }
}

/* The unique instance in [LO, HI) with column COL; -1 none, -2 ambiguous. */
static int
instance_with(const struct build *b, size_t lo, size_t hi, const char *col)
{
    int found = -1;
    size_t i;
    for (i = lo; i < hi; i++) {
        if (rw_model_col(b->m, (int)i, col) != NULL) {
            if (found >= 0) {
                return -2;
            }
            found = (int)i;
        }
    }
    return found;
}

/* Column reference node of instance TAB, column COL. */
struct rw_expr *
rw_from_col_expr(int tab, const char *col)
{
    struct rw_expr *e = rw_expr_new(RW_E_COL, col);
    if (e != NULL) {
        e->tab = tab;
    }
    return e;
}

/* Append the top-level conjuncts of E (consumed) to *ARR; -1 on OOM. */
int
rw_from_split_conj(struct rw_expr *e, struct rw_expr ***arr, size_t *n)
{
    size_t i;
    int rc = 0;
    if (e->kind == RW_E_AND) {
        for (i = 0; i < e->n; i++) {
            if (rc == 0) {
                rc = rw_from_split_conj(e->args[i], arr, n);
            } else {
                rw_expr_free(e->args[i]);
            }
        }
        e->n = 0;
        rw_expr_free(e);
        return rc;
    }
    if (rw_build_push((void ***)arr, n, e) != 0) {
        rw_expr_free(e);
        return -1;
    }
    return 0;
}

/* The kind of join J: *OUTER for LEFT / RIGHT (whose null-supplying side
 * must be a single table or derived table); false with the reason in B for
 * FULL / SEMI / ANTI, NATURAL and aliased joins. */
static bool
join_kind(struct build *b, const PgQuery__JoinExpr *j, bool *outer)
{
    switch (j->jointype) {
    case PG_QUERY__JOIN_TYPE__JOIN_INNER:
        break;
    case PG_QUERY__JOIN_TYPE__JOIN_LEFT:
    case PG_QUERY__JOIN_TYPE__JOIN_RIGHT: {
        bool left = j->jointype == PG_QUERY__JOIN_TYPE__JOIN_LEFT;
        const PgQuery__Node *ns = left ? j->rarg : j->larg;
        *outer = true;
        if (ns == NULL || (ns->node_case != PG_QUERY__NODE__NODE_RANGE_VAR &&
                           ns->node_case != PG_QUERY__NODE__NODE_RANGE_SUBSELECT)) {
            rw_build_fail(b, "the null-supplying side of a %s JOIN must be a single table "
                             "(a nested join there is not supported)",
                          left ? "LEFT" : "RIGHT");
            return false;
        }
        break;
    }
    default:
        rw_build_fail(b, "FULL OUTER / SEMI / ANTI joins are not supported");
        return false;
    }
    if (j->is_natural) {
        rw_build_fail(b, "NATURAL JOIN is not supported");
        return false;
    }
    if (j->alias != NULL) {
        rw_build_fail(b, "aliased join is not supported");
        return false;
    }
    return true;
}

/* Add the equalities of J's USING clause (columns unique on both sides:
 * instances [LEFT_LO, MID) and [MID, n_tabs)) to ON; false with the reason in
 * B and ON freed. */
static bool
join_using(struct build *b, const PgQuery__JoinExpr *j, struct rw_expr *on, size_t left_lo,
           size_t mid)
{
    size_t i;
    for (i = 0; i < j->n_using_clause; i++) {
        const char *name = rw_build_sval(j->using_clause[i]);
        char *low = name ? rw_lower(name) : NULL;
        int l, r;
        struct rw_expr *eq;
        if (low == NULL) {
            rw_expr_free(on);
            rw_build_fail(b, "bad USING clause");
            return false;
        }
        l = instance_with(b, left_lo, mid, low);
        r = instance_with(b, mid, b->m->n_tabs, low);
        if (l < 0 || r < 0) {
            rw_expr_free(on);
            rw_build_fail(b, "USING column %s is not unique on both sides", low);
            free(low);
            return false;
        }
        eq = rw_expr_new(RW_E_OP, "=");
        if (eq == NULL || rw_expr_add(eq, rw_from_col_expr(l, low)) != 0 ||
            rw_expr_add(eq, rw_from_col_expr(r, low)) != 0) {
            rw_expr_free(eq);
            rw_expr_free(on);
            free(low);
            rw_build_fail(b, "out of memory");
            return false;
        }
        free(low);
        if (rw_expr_add(on, rw_expr_canon(eq)) != 0) {
            rw_expr_free(on);
            rw_build_fail(b, "out of memory");
            return false;
        }
    }
    return true;
}

/* Add J's ON condition to ON, converted in the join's own scope (the
 * instances from LEFT_LO, the range-table entries from RTE_LEFT); false with
 * the reason in B and ON freed. */
static bool
join_on(struct build *b, const PgQuery__JoinExpr *j, struct rw_expr *on, size_t left_lo,
        size_t rte_left)
{
    size_t saved_lo, saved_rlo;
    if (j->quals != NULL) {
        bool aa = b->allow_agg;
        struct rw_expr *q;
        b->allow_agg = false;
        saved_lo = b->scope_lo;
        saved_rlo = b->rte_lo;
        b->scope_lo = left_lo; /* ON sees only the tables of this join */
        b->rte_lo = rte_left;
        q = rw_conv(b, j->quals);
        b->scope_lo = saved_lo;
        b->rte_lo = saved_rlo;
        b->allow_agg = aa;
        if (q == NULL || rw_expr_add(on, q) != 0) {
            rw_expr_free(on);
            rw_build_fail(b, "out of memory");
            return false;
        }
    }
    return true;
}

/* Move the pending WHERE conjuncts of a derived table on the null-supplying
 * side (b->pend) into ON; false with "out of memory" in B and ON freed. */
static bool
join_pending(struct build *b, struct rw_expr *on)
{
    size_t i;
    /* the WHERE of a derived table on the null-supplying side joins the ON */
    for (i = 0; i < b->n_pend; i++) {
        struct rw_expr *pe = b->pend[i];
        b->pend[i] = NULL;
        if (rw_expr_add(on, pe) != 0) {
            rw_expr_free(on);
            rw_build_fail(b, "out of memory");
            return false;
        }
    }
    return true;
}

/* Add the outer join null-supplying instance NULL_TAB with condition ON
 * (consumed) to the model; failures go to B. */
static void
add_outer_join(struct build *b, struct rw_expr *on, int null_tab)
{
    struct rw_ojoin *oj = realloc(b->m->oj, (b->m->n_oj + 1) * sizeof(*oj));
    if (oj == NULL) {
        rw_expr_free(on);
        rw_build_fail(b, "out of memory");
        return;
    }
    b->m->oj = oj;
    oj = &oj[b->m->n_oj++];
    memset(oj, 0, sizeof(*oj));
    oj->tab = null_tab;
    if (on->n == 0) {
        rw_expr_free(on);
        b->m->n_oj--;
        rw_build_fail(b, "outer join without ON or USING");
        return;
    }
    /* flatten the ON into its conjuncts (nested ANDs included) */
    if (rw_from_split_conj(on, &oj->on, &oj->n_on) != 0) {
        rw_build_fail(b, "out of memory");
    }
}

/* One JoinExpr: both sides, then its USING / ON conjuncts into conj[] (inner
 * join) or one rw_ojoin (outer join, RIGHT normalised to LEFT). */
static void
join_expr(struct build *b, const PgQuery__JoinExpr *j)
{
    size_t left_lo = b->m->n_tabs, mid, i, rte_left = b->n_rte;
    int null_tab = -1; /* null-supplying instance of an outer join */
    struct rw_expr *on;
    bool outer = false;
    if (b->null_side) {
        rw_build_fail(b, "the null-supplying side of an outer join must be a single table "
                         "(a derived table there joins several tables: a nested outer join)");
        return;
    }
    if (!join_kind(b, j, &outer)) {
        return;
    }
    b->null_side = outer && j->jointype == PG_QUERY__JOIN_TYPE__JOIN_RIGHT;
    rw_from_item(b, j->larg);
    mid = b->m->n_tabs;
    b->null_side = outer && j->jointype == PG_QUERY__JOIN_TYPE__JOIN_LEFT;
    rw_from_item(b, j->rarg);
    b->null_side = false;
    if (b->err != NULL) {
        return;
    }
    if (outer) {
        bool left = j->jointype == PG_QUERY__JOIN_TYPE__JOIN_LEFT;
        null_tab = left ? (int)mid : (int)left_lo;
        if ((left ? b->m->n_tabs - mid : mid - left_lo) != 1) {
            rw_build_fail(b, "the null-supplying side of a %s JOIN must be a single table "
                             "(a derived table there reads several tables: a nested outer join)",
                          left ? "LEFT" : "RIGHT");
            return;
        }
    }
    for (i = rte_left; i < b->n_rte && j->n_using_clause > 0; i++) {
        if (b->rte[i].tab < 0) {
            rw_build_fail(b, "JOIN ... USING with a derived table is not supported");
            return;
        }
    }
    on = rw_expr_new(RW_E_AND, NULL);
    if (on == NULL) {
        rw_build_fail(b, "out of memory");
        return;
    }
    if (j->n_using_clause > 0) {
        b->has_using = true;
    }
    if (!join_using(b, j, on, left_lo, mid) || !join_on(b, j, on, left_lo, rte_left) ||
        !join_pending(b, on)) {
        return;
    }
    b->n_pend = 0;
    if (!outer) {
        rw_from_add_conjuncts(b, on);
        return;
    }
    add_outer_join(b, on, null_tab);
}

/* Walk one FROM item. */
void
rw_from_item(struct build *b, const PgQuery__Node *n)
{
    if (b->err != NULL) {
        return;
    }
    switch (n->node_case) {
    case PG_QUERY__NODE__NODE_RANGE_VAR:
        add_table(b, n->range_var);
        return;
    case PG_QUERY__NODE__NODE_JOIN_EXPR:
        join_expr(b, n->join_expr);
        return;
    case PG_QUERY__NODE__NODE_RANGE_SUBSELECT:
        rw_derived(b, n->range_subselect);
        return;
    default:
        rw_build_fail(b, "unsupported FROM item %s", rw_node_name(n));
        return;
    }
}
