/*
 * rw_subsume.h - the subsumption tests of view matching (rw_subsume.c,
 * Goldstein & Larson 2001 §3: equijoin, range, residual) and the
 * compensating predicates they produce.
 */
#ifndef RW_SUBSUME_H
#define RW_SUBSUME_H

#include <stdbool.h>
#include <stddef.h>

struct mctx;
struct rw_expr;

/* Compensation list. */
struct comp {
    struct rw_expr **v;     /* predicates over view columns (owned) */
    size_t n;               /* count */
};

/* Add compensation E (consumed) to CP. False on OOM or when E is NULL (a
 * failed translation), E freed. */
bool rw_subsume_comp_add(struct comp *cp, struct rw_expr *e);

/*
 * The subsumption tests of the mapping in C (Goldstein & Larson §3.1-3.2):
 * every view equivalence class is implied by the query's (equijoin), every
 * view range contains the query's (range), every view residual is a query
 * conjunct (residual). Fills CP with the compensations: what the query
 * applies and the view does not, translated over view columns. Returns
 * true, or false with the reason in C->why (also on OOM).
 */
bool rw_subsume(struct mctx *c, struct comp *cp);

/* Do the query's and the view's groupings coincide (as sets, in query
 * space)? */
bool rw_subsume_groups_equal(struct mctx *c);

#endif /* RW_SUBSUME_H */
