/*
 * rw_restrict.h - restrict a view definition on its BASE partition column,
 * so that MariaDB prunes the base table's partitions when one view
 * partition is recomputed (partition refresh, cat_part_refresh.c) or
 * compensated from the base tables (rw_partition.c).
 *
 * Filtering "(<definition>) AS d WHERE d.c >= lo" on the view's output
 * column c = DATE(base.col) is pushed down by MariaDB as
 * "DATE(base.col) >= lo", which prunes nothing: every day's refresh read
 * the whole base table. Adding "base.col >= lo' AND base.col < hi'" to the
 * definition's own WHERE, with [lo', hi') the base-column range that maps
 * onto [lo, hi), does prune. Callers keep their outer filter on c.
 */
#ifndef RW_RESTRICT_H
#define RW_RESTRICT_H

#include <stdint.h>

struct cat_mv;

/*
 * Return a copy of the single SELECT block SELECT_SQL (MariaDB text) with
 * "<q>.`BASE_COL` >= 'LO' AND <q>.`BASE_COL` < 'HI'" AND-ed into its WHERE
 * (one is created when absent; an existing condition is parenthesised),
 * where <q> is the alias (or the name) under which table BASE_KEY
 * ("db.table"; unqualified names resolve in DB) appears in the block's FROM
 * (top level or in its joins; exactly once). LO or HI may be NULL for an
 * open end, not both; they are literal texts ('...' quotes added).
 * Returns 0 with *OUT (caller frees), or -1 with a reason in *ERR (caller
 * frees; NULL on out-of-memory) and *OUT NULL, when the block is not a
 * plain SELECT (UNION, WITH, INTO, window functions, LIMIT/OFFSET, index
 * hints, an aggregate without GROUP BY, a parse error), the table is absent
 * or appears more than once, or only inside subqueries. Borrows its inputs.
 * Exactness is the caller's concern: the restriction keeps every output row
 * whose partition column lies in the range when that column is a per-row
 * function of BASE_COL that is a grouping key (or there is no grouping).
 */
int rw_restrict_base_range(const char *select_sql, const char *db, const char *base_key,
                           const char *base_col, const char *lo, const char *hi, char **out,
                           char **err);


#endif /* RW_RESTRICT_H */
