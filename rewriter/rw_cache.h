/*
 * rw_cache.h - the rewriter's decision cache (view-matching.md §7, issue 3):
 * repeat decisions for identical statement text come from a per-thread LRU
 * keyed on (exact text, current database, snapshot identity and catalog
 * version, enabled flag). Freshness is re-validated on every hit: the views
 * the decision chose must still be usable (cat_mv_usable) and the views it
 * rejected as stale must still be unusable; otherwise the entry is dropped
 * and the caller runs full matching. The public controls (flush, stats,
 * capacity) are in rw.h.
 */
#ifndef RW_CACHE_H
#define RW_CACHE_H

#include <stdbool.h>
#include <stddef.h>

#include "rw.h"

struct cat_snapshot;
struct cat_mv;

/*
 * Look SQL (LEN bytes) with current database DB (may be NULL) up in this
 * thread's cache for snapshot SNAP and options OPT (enabled, now_ms). On a
 * valid hit fills OUT (zeroed by the caller; free with rw_outcome_free) with
 * rewritten/sql/reason and one RW_CAND_CHOSEN candidate per chosen view, and
 * returns true. Returns false on a miss, a stale entry (removed) or OOM (OUT
 * left zeroed). Never used for EXPLAIN (the caller skips it).
 */
bool rw_cache_lookup(const char *sql, size_t len, const char *db,
                     const struct cat_snapshot *snap, const struct rw_options *opt,
                     struct rw_outcome *out);

/*
 * Remember decision OUT for SQL/LEN/DB/SNAP/OPT in this thread's cache (a
 * copy; OUT stays the caller's). UNUSABLE (N_UN views, borrowed) are the
 * views rejected as not fresh enough: a hit re-checks that they still are.
 * Statements longer than 64 KiB are not cached. Evicts the least recently
 * used entry beyond the capacity. Allocation failure just skips caching.
 */
void rw_cache_store(const char *sql, size_t len, const char *db, const struct cat_snapshot *snap,
                    const struct rw_options *opt, const struct rw_outcome *out,
                    struct cat_mv *const *unusable, size_t n_un);

#endif /* RW_CACHE_H */
