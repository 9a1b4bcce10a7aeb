/*
 * rw_partition.h - rewrite by partition for partitioned views (SPEC §5,
 * design/view-matching.md §6; Doris best practices §4.3).
 */
#ifndef RW_PARTITION_H
#define RW_PARTITION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cat_mv;
struct cat_snapshot;
struct rw_model;

/*
 * Decide how partitioned view MV may answer the query block Q whose
 * original text is BLOCK (BLEN bytes), once the matcher produced *REPL
 * (the block rewritten over `db`.`mv`; owned, replaced in place):
 *   - every view partition the block needs (from its WHERE ranges on the
 *     partition column; all when none) is usable (valid, or stale within
 *     grace_period, or LOOSE): *REPL is kept; returns 0;
 *   - some are not: *REPL is rewritten to read, instead of the view, the
 *     derived table "usable view partitions UNION ALL the definition over
 *     everything else (restricted to the block's range)", so the block's
 *     own roll-up re-aggregates both (SUM of SUMs, COUNT as SUM, MIN/MAX,
 *     AVG recomposed by the matcher's roll-up); returns 0;
 *   - only unusable partitions are needed: returns 1 with *REASON.
 * *STALE receives the comma list of partitions answered from the base
 * tables ("" when none), also on 1. Strings are malloc'd (caller frees).
 * Returns -1 on out-of-memory. NOW_MS: unix ms. CUR_DB: the session's
 * database; the definition's text is resolved in the view's database, so
 * compensation is refused (1) when they differ.
 */
int rw_part_apply(const struct cat_snapshot *snap, const struct cat_mv *mv,
                  const struct rw_model *q, const char *cur_db, const char *block, size_t blen,
                  int64_t now_ms,
                  char **repl, char **stale, char **reason);

#endif /* RW_PARTITION_H */
