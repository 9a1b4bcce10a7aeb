/*
 * rw_outer.h - the outer joins of a model (rw_outer.c): which join
 * null-supplies an instance, which conjuncts reject its NULL-padded rows,
 * and the simplification of null-rejected outer joins into inner joins.
 */
#ifndef RW_OUTER_H
#define RW_OUTER_H

#include <stdbool.h>

struct rw_expr;
struct rw_model;

/*
 * Turn every outer join of M whose null-supplying instance is null-rejected
 * by a conjunct of M->conj (a strict comparison, IN, BETWEEN, LIKE or IS
 * NOT NULL on one of its columns) into an inner join: its ON conjuncts move
 * to conj[] (the padded rows are filtered out anyway, so the rows are the
 * same). Repeats until nothing changes. Call before rw_model_analyze().
 * Returns 0 or -1 on OOM.
 */
int rw_model_simplify_oj(struct rw_model *m);

/* Index in M->oj of the outer join that null-supplies instance TAB; -1 when
 * TAB is inner-joined (its rows are never padded with NULLs). */
int rw_model_oj_of(const struct rw_model *m, int tab);

/* True when conjunct E is false or NULL whenever every column of instance
 * TAB is NULL (E rejects the NULL-padded rows of TAB). */
bool rw_expr_rejects_null(const struct rw_expr *e, int tab);

/* True when conjunct E is false or NULL whenever column COL of instance TAB
 * is NULL (COL NULL: whenever every column of TAB is NULL). */
bool rw_expr_rejects_null_col(const struct rw_expr *e, int tab, const char *col);

/* True when E is NULL whenever column (TAB, COL) of the model is NULL (COL
 * NULL: every column of TAB): that column, or an arithmetic operator / CAST
 * with such an operand (a strict expression; the derived-table merge refuses
 * the others on a null-supplying side). */
bool rw_outer_strict_on(const struct rw_expr *e, int tab, const char *col);

#endif /* RW_OUTER_H */
