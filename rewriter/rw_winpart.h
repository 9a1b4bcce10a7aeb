/*
 * rw_winpart.h - window functions and partitions in view matching
 * (rw_winpart.c): compensations over window outputs, windows of
 * partitioned views.
 */
#ifndef RW_WINPART_H
#define RW_WINPART_H

#include <stdbool.h>

struct mctx;
struct rw_expr;
struct rw_model;

/*
 * Check compensation predicate P (over view columns) against the view's
 * window outputs the rewrite reads (C->wused): each view column P reads must
 * be a function of the PARTITION BY of every such window (a filter on the
 * partition key keeps or drops whole partitions). False with the reason in
 * C->why.
 */
bool rw_winpart_comp_on_partitions(struct mctx *c, const struct rw_expr *p);

/*
 * Partitioned views with window functions: is every window function of view
 * model V's outputs partitioned (PARTITION BY) on something that
 * determines V's partition column VCOL (its output expression itself, or
 * every column it reads)? Then each window partition lies inside one view
 * partition, and per-partition freshness, refresh and compensation stay
 * exact. Returns true when so (or V has no window), else false with a
 * reason in *WHY (caller frees; NULL on OOM).
 */
bool rw_win_part_aligned(const struct rw_model *v, const char *vcol, char **why);

#endif /* RW_WINPART_H */
