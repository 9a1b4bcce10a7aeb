/*
 * rw_build.c - the state of the model builder shared by its modules
 * (rw_model.c, rw_from.c, rw_conv.c, rw_select.c, rw_derived.c): the first
 * failure reason, pointer arrays, and the range table (the names in scope).
 */
#include "rw_build.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "rw_coll.h"
#include "rw_model.h"
#include "rw_util.h"

/* Record the first failure reason. */
void
rw_build_fail(struct build *b, const char *fmt, ...)
{
    va_list ap;
    if (b->err != NULL) {
        return;
    }
    va_start(ap, fmt);
    b->err = rw_vsprintf(fmt, ap);
    va_end(ap);
    if (b->err == NULL) {
        b->err = rw_strdup("out of memory");
    }
}

/* Grow an array of pointers by one slot holding X; -1 on OOM. */
int
rw_build_push(void ***arr, size_t *n, void *x)
{
    void **a = realloc(*arr, (*n + 1) * sizeof(*a));
    if (a == NULL) {
        return -1;
    }
    a[(*n)++] = x;
    *arr = a;
    return 0;
}

/* Text of a String node, or NULL. */
const char *
rw_build_sval(const PgQuery__Node *n)
{
    return (n != NULL && n->node_case == PG_QUERY__NODE__NODE_STRING) ? n->string->sval : NULL;
}

/* Free what entry R owns. */
void
rw_build_rte_clear(struct rte *r)
{
    size_t i;
    free(r->alias);
    for (i = 0; i < r->n_cols; i++) {
        free(r->names != NULL ? r->names[i] : NULL);
        rw_expr_free(r->exprs != NULL ? r->exprs[i] : NULL);
    }
    free(r->names);
    free(r->exprs);
    free(r->bad);
    memset(r, 0, sizeof(*r));
}

/* Drop the entries from index N on. */
void
rw_build_rte_pop_to(struct build *b, size_t n)
{
    while (b->n_rte > n) {
        rw_build_rte_clear(&b->rte[--b->n_rte]);
    }
}

/* Append entry R (its contents consumed, also on failure). */
void
rw_build_rte_push(struct build *b, struct rte *r)
{
    struct rte *a = realloc(b->rte, (b->n_rte + 1) * sizeof(*a));
    if (a == NULL) {
        rw_build_rte_clear(r);
        rw_build_fail(b, "out of memory");
        return;
    }
    b->rte = a;
    a[b->n_rte++] = *r;
    memset(r, 0, sizeof(*r));
}

/*
 * Append an entry for the model's last table (b->m->tabs[n_tabs - 1]) under
 * ALIAS (copied). Returns 0, or -1 with "out of memory" failed in B (an
 * rw_build_rte_push failure is only in B->err, as for every rw_build_rte_push).
 */
int
rw_build_rte_push_last_table(struct build *b, const char *alias)
{
    struct rte r;
    memset(&r, 0, sizeof(r));
    r.tab = (int)(b->m->n_tabs - 1);
    r.alias = rw_strdup(alias);
    if (r.alias == NULL) {
        rw_build_fail(b, "out of memory");
        return -1;
    }
    rw_build_rte_push(b, &r);
    return 0;
}

/* Index of column COL (lower case) in entry R; -1 when absent. */
int
rw_build_rte_col(const struct build *b, const struct rte *r, const char *col)
{
    size_t i;
    if (r->tab >= 0) {
        return rw_model_col(b->m, r->tab, col) != NULL ? 0 : -1;
    }
    for (i = 0; i < r->n_cols; i++) {
        if (strcasecmp(r->names[i], col) == 0) {
            return (int)i;
        }
    }
    return -1;
}
