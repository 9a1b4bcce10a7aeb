/*
 * rw_rollup.h - output derivation and aggregate roll-up in view matching
 * (rw_rollup.c, Goldstein & Larson 2001 §4): query expressions expressed
 * over view outputs.
 */
#ifndef RW_ROLLUP_H
#define RW_ROLLUP_H

#include "rw_expr.h"

struct mctx;

/*
 * Non-aggregate query expression E (query space) expressed over the view's
 * outputs: an exact output match, a time roll-up over DATE(x), a column of a
 * joined-back instance, or recursively over its operands; an aggregate is
 * rolled up when C->agg_mode, refused otherwise. Returns a new expression (caller
 * frees), or NULL with the reason in C->why (or on OOM).
 */
struct rw_expr *rw_rollup_xlate(struct mctx *c, const struct rw_expr *e);

/* New node KIND named KIND_OP (a function name or operator) with arguments
 * A and B, both consumed (also on failure). NULL on OOM. */
struct rw_expr *rw_rollup_mkfunc2(const char *kind_op, enum rw_ek kind, struct rw_expr *a,
                                  struct rw_expr *b);

#endif /* RW_ROLLUP_H */
