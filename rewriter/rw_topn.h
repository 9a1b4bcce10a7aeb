/*
 * rw_topn.h - Top-N views in view matching (rw_topn.c).
 */
#ifndef RW_TOPN_H
#define RW_TOPN_H

#include <stdbool.h>
#include <stddef.h>

struct comp;
struct mctx;
struct rw_model;

/*
 * Top-N view V (ORDER BY ... LIMIT n OFFSET o): may it answer the query
 * C->q, which must be V's block exactly but for a LIMIT qn OFFSET qo with
 * [qo, qo+qn) inside [o, o+n)? No join-back, no eliminated join (UNMAPPED,
 * the view instances the mapping leaves out, must be 0), no compensation in
 * CP, the same groups and ORDER BY. True with C->topn_limit / C->topn_offset
 * set (owned by C), else false with the reason in C->why.
 */
bool rw_topn_ok(struct mctx *c, const struct rw_model *v, size_t unmapped, const struct comp *cp);

#endif /* RW_TOPN_H */
