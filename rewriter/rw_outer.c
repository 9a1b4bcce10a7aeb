/*
 * rw_outer.c - the outer joins of a model: which join null-supplies an
 * instance, which conjuncts reject its NULL-padded rows, and the
 * simplification of null-rejected outer joins into inner joins.
 */
#include "rw_outer.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "rw_build.h"
#include "rw_coll.h"
#include "rw_model.h"
#include "rw_util.h"

/* ---------------------------------------------------------- outer joins */

int
rw_model_oj_of(const struct rw_model *m, int tab)
{
    size_t i;
    for (i = 0; i < m->n_oj; i++) {
        if (m->oj[i].tab == tab) {
            return (int)i;
        }
    }
    return -1;
}

/* True when E is NULL whenever column (TAB, COL) is NULL (COL NULL: every
 * column of TAB): that column, or an arithmetic operator / CAST with such an
 * operand. */
bool
rw_outer_strict_on(const struct rw_expr *e, int tab, const char *col)
{
    static const char *const arith[] = {"+", "-", "*", "/", "%", "div", NULL};
    size_t i;
    if (e->kind == RW_E_COL) {
        return e->tab == tab && (col == NULL || strcmp(e->name, col) == 0);
    }
    if (e->kind == RW_E_CAST) {
        return rw_outer_strict_on(e->args[0], tab, col);
    }
    if (e->kind != RW_E_OP) {
        return false; /* functions may map NULL to a value (COALESCE, CONCAT_WS, IF ...) */
    }
    for (i = 0; arith[i] != NULL; i++) {
        if (strcmp(e->name, arith[i]) == 0) {
            break;
        }
    }
    if (arith[i] == NULL) {
        return false;
    }
    for (i = 0; i < e->n; i++) {
        if (rw_outer_strict_on(e->args[i], tab, col)) {
            return true;
        }
    }
    return false;
}

bool
rw_expr_rejects_null_col(const struct rw_expr *e, int tab, const char *col)
{
    static const char *const cmp[] = {"=", "<>", "<", "<=", ">", ">=", NULL};
    size_t i;
    switch (e->kind) {
    case RW_E_OP:
        for (i = 0; cmp[i] != NULL; i++) {
            if (strcmp(e->name, cmp[i]) == 0) {
                break;
            }
        }
        if (cmp[i] == NULL || e->n != 2) {
            return false; /* <=> is true for NULL <=> NULL */
        }
        return rw_outer_strict_on(e->args[0], tab, col) || rw_outer_strict_on(e->args[1], tab, col);
    case RW_E_IN:
    case RW_E_BETWEEN:
    case RW_E_LIKE:
        /* NULL [NOT] IN / BETWEEN / LIKE ... is NULL */
        return e->n > 0 && rw_outer_strict_on(e->args[0], tab, col);
    case RW_E_ISNULL:
        return e->neg && rw_outer_strict_on(e->args[0], tab, col);
    case RW_E_AND:
        for (i = 0; i < e->n; i++) {
            if (rw_expr_rejects_null_col(e->args[i], tab, col)) {
                return true;
            }
        }
        return false;
    case RW_E_OR:
        for (i = 0; i < e->n; i++) {
            if (!rw_expr_rejects_null_col(e->args[i], tab, col)) {
                return false;
            }
        }
        return e->n > 0;
    default:
        return false;
    }
}

bool
rw_expr_rejects_null(const struct rw_expr *e, int tab)
{
    return rw_expr_rejects_null_col(e, tab, NULL);
}

int
rw_model_simplify_oj(struct rw_model *m)
{
    bool changed = true;
    size_t i, j, k;
    while (changed) {
        changed = false;
        for (i = 0; i < m->n_oj && !changed; i++) {
            struct rw_ojoin *oj = &m->oj[i];
            bool rejected = false;
            for (j = 0; j < m->n_conj && !rejected; j++) {
                rejected = rw_expr_rejects_null(m->conj[j], oj->tab);
            }
            if (!rejected) {
                continue;
            }
            for (k = 0; k < oj->n_on; k++) {
                if (rw_build_push((void ***)&m->conj, &m->n_conj, oj->on[k]) != 0) {
                    /* the rest stays in the ON: the model is half-moved, callers fail */
                    memmove(oj->on, oj->on + k, (oj->n_on - k) * sizeof(*oj->on));
                    oj->n_on -= k;
                    return -1;
                }
            }
            free(oj->on);
            memmove(oj, oj + 1, (m->n_oj - i - 1) * sizeof(*oj));
            m->n_oj--;
            changed = true;
        }
    }
    return 0;
}
