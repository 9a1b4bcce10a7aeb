/*
 * cat_cost.h - the cost-based choice's engine-side parts (cat_cost.c); the
 * proxy's question, cat_cost_judge, is in include/cat_engine.h.
 */
#ifndef CAT_COST_H
#define CAT_COST_H

#include <stddef.h>

#include <mysql.h>

#include "cat_engine.h"

/*
 * The estimated row reads of a plan: JSON (LEN bytes) is the text of
 * MariaDB's EXPLAIN FORMAT=JSON. Per nested loop, each table's `rows` times
 * the rows that reach it (earlier tables' rows x filtered / 100), summed
 * over every loop, derived table and subquery. Returns -1 when JSON does
 * not parse. Pure; unit-tested.
 */
double cat_cost_plan_reads(const char *json, size_t len);

/*
 * The rule between an original that reads ORIG_READS rows and its rewrite
 * that reads REW_READS (either negative: unknown): ORIGINAL when the
 * rewrite reads at least 1,000 rows and more than 1.5 times the original's,
 * else REWRITE; UNKNOWN when a figure is missing. Pure; unit-tested.
 */
enum cat_cost_verdict cat_cost_compare(double orig_reads, double rew_reads);

/*
 * EXPLAIN FORMAT=JSON the statement SQL (LEN bytes) on C and return its
 * estimated row reads, or -1 when the backend refused it (the error stays
 * on C for mysql_errno).
 */
double cat_cost_explain(MYSQL *c, const char *sql, size_t len);

/* Start / stop the estimate thread (cat_init / cat_shutdown). Start returns
 * 0 or -1 (logged; rewrites are then never compared). */
int cat_cost_start(void);
void cat_cost_stop(void);

#endif /* CAT_COST_H */
