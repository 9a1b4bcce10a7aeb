/*
 * rw_conv.h - conversion of a SELECT block's expressions (libpg_query
 * nodes) into canonical rw_expr trees over the model's table instances
 * (rw_conv.c). Internal to the model builder (rw_build.h).
 */
#ifndef RW_CONV_H
#define RW_CONV_H

#include "rw_parse.h"

struct build;
struct rte;
struct rw_model;

/*
 * Canonical expression of node N in B's scope (rw_expr_canon applied);
 * the caller owns it. NULL with the reason in B->err (unsupported
 * construct, unknown or ambiguous column, aggregate or window function
 * where the clause forbids it, OOM), or at once when B->err is already set.
 */
struct rw_expr *rw_conv(struct build *b, const PgQuery__Node *n);

/* Expression (owned by the caller) for column K (rw_build_rte_col) named COL
 * of range-table entry R; NULL with the reason in B->err. */
struct rw_expr *rw_conv_rte_ref(struct build *b, const struct rte *r, int k, const char *col);

/* Index of the output of M named NAME (case-insensitive); -1 when none,
 * -2 when several outputs have that name. */
int rw_conv_out_named(const struct rw_model *m, const char *name);

#endif /* RW_CONV_H */
