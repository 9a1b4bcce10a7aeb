/*
 * rw_from.h - the FROM clause of a SELECT block in the model (rw_from.c):
 * table instances, inner-join conjuncts and outer joins. Internal to the
 * model builder (rw_build.h).
 */
#ifndef RW_FROM_H
#define RW_FROM_H

#include <stddef.h>

#include "rw_parse.h"

struct build;
struct rw_expr;

/*
 * Walk FROM item N (RangeVar, JoinExpr, RangeSubselect) into B's model:
 * its table instances and range-table entries, the ON/USING conjuncts of
 * inner joins into conj[], an outer join into oj[] (RIGHT normalised to
 * LEFT), a derived table through rw_derived(). Failures (unsupported items,
 * unknown tables, nested outer joins, OOM) go to B->err.
 */
void rw_from_item(struct build *b, const PgQuery__Node *n);

/* Add every top-level conjunct of E (consumed, also on failure) to B's
 * model conj[]; OOM goes to B->err. E NULL is ignored. */
void rw_from_add_conjuncts(struct build *b, struct rw_expr *e);

/* New column reference node of instance TAB, column COL (copied); NULL on
 * OOM. The caller owns it. */
struct rw_expr *rw_from_col_expr(int tab, const char *col);

/* Append the top-level conjuncts of E (consumed, also on failure) to the
 * array *ARR of *N entries. Returns 0, or -1 on OOM. */
int rw_from_split_conj(struct rw_expr *e, struct rw_expr ***arr, size_t *n);

#endif /* RW_FROM_H */
