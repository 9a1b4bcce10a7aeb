/*
 * rw_grain.h - time grains in view matching (rw_grain.c): view outputs that
 * truncate a time column (DATE(ts), DATE_FORMAT, ...), the time roll-up of
 * f(x) == f(DATE(x)), and query ranges over a truncated column.
 */
#ifndef RW_GRAIN_H
#define RW_GRAIN_H

#include <stdbool.h>

struct mctx;
struct rw_expr;

/* Is E a function f with f(x) == f(DATE(x)) for a datetime x (YEAR, MONTH,
 * QUARTER, LAST_DAY, DATE, DAY ...), so that it rolls up over a day grain? */
bool rw_grain_day_func(const struct rw_expr *e);

/*
 * A view output from which F(X) == F(DATE(X)) can be computed for a DATE /
 * DATETIME / TIMESTAMP column X (query space): DATE(X) itself, or another
 * truncation of X to a grain no coarser than a day, read as a time. Returns
 * a new expression over view columns (caller frees); *FOUND tells whether
 * such an output exists, so NULL with *FOUND true is OOM.
 */
struct rw_expr *rw_grain_day_source(const struct mctx *c, const struct rw_expr *x, bool *found);

/* Column E (query space) recovered exactly from a view output that
 * truncates it to a grain no coarser than the column's own, as CAST(v AS
 * <E's type>) (caller frees). NULL when no such output (or on OOM). */
struct rw_expr *rw_grain_inv_col(const struct mctx *c, const struct rw_expr *e);

/*
 * Query range conjunct E (`s >= M` or `s < M`, query space, s a column x or
 * x shifted by whole days/weeks) over a view output f(x) that truncates x
 * to a grain, for M a strict datetime literal on a boundary of that grain:
 * returns the same comparison over f(x) (caller frees), which selects the
 * same rows. NULL when E is not such a range (or on OOM).
 */
struct rw_expr *rw_grain_range_over_date(struct mctx *c, const struct rw_expr *e);

#endif /* RW_GRAIN_H */
