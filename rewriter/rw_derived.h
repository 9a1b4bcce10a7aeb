/*
 * rw_derived.h - derived tables (subqueries in FROM) in the model
 * (rw_derived.c): merged into the block or kept as an opaque instance.
 * Internal to the model builder (rw_build.h).
 */
#ifndef RW_DERIVED_H
#define RW_DERIVED_H

#include "rw_parse.h"

struct build;

/*
 * Add derived table RS to B's block. A mergeable body (rw_model_build
 * documents which) is merged: its tables become instances, its WHERE joins
 * conj[] (or b->pend on a null-supplying side), and a range-table entry
 * named by its alias maps its columns to the body's output expressions. A
 * body refused for GROUP BY, HAVING, DISTINCT becomes an opaque instance
 * with its own model. Refusals and OOM go to B->err.
 */
void rw_derived(struct build *b, const PgQuery__RangeSubselect *rs);

#endif /* RW_DERIVED_H */
