/*
 * cat_freshness.h - the one writer of view freshness (SPEC §5, §6).
 *
 * Freshness is the view-level part of struct cat_mv_state (cat.h:
 * stale_since_ms, last_refresh_ms, change_seq, dirty) and the per-partition
 * part of struct cat_pstate (cat_part.h: each partition's stale_since_ms,
 * last_refresh_ms, rows, seq, and gaps_stale_ms, window_lo, dirty). Only
 * this module stores into them; everybody else reads (atomic loads, or a
 * copy with cat_part_view_get) and calls the functions below.
 *
 *   who                                   calls                       thread
 *   proxy DML, binlog follower            cat_fresh_mark_view         worker / follower
 *     (cat_fresh.c cat_mark_table ...)
 *   partition tracker, probe, row images  cat_part_mark_range         worker / follower / probe
 *   partition refresh (start, end)        cat_part_explode_whole      refresh task
 *   complete / incremental refresh        cat_fresh_settle            refresh task
 *   partition refresh                     cat_fresh_settle_parts      refresh task
 *   binlog position lost, restart         cat_mark_all (cat_fresh.c,  follower
 *                                           via cat_fresh_mark_view)
 *   catalog load (cat_store.c, cat_part.c) cat_fresh_load,            catalog load (no
 *                                           cat_fresh_load_part         reader yet)
 *   another proxy's refresh (cat_sync.c)  cat_fresh_adopt,            sync thread
 *                                           cat_fresh_adopt_part
 *   persistence thread (cat_fresh.c)      cat_fresh_persist_begin /   catalog thread
 *                                           cat_fresh_persist_failed
 *   rewriter (cat_mv_usable, cat_part_usable: the one grace-period rule,
 *     cat_fresh_usable, is the catalog's, cat.h)                       worker (read only)
 *
 * Memory ordering. The view-level fields are C11 atomics used with the
 * default (sequentially consistent) operations. A mark stores
 * stale_since_ms (CAS to the EARLIEST change) and then bumps change_seq; a
 * refresh loads change_seq (seq0) BEFORE it reads the base tables and
 * compares it after, so a change it may have missed always leaves the
 * view stale (since the refresh start t0 at the latest). Partition fields
 * are plain and guarded by the view's cat_pstate mutex; a partition mark
 * bumps the partition's seq under the mutex and the view's change_seq
 * after releasing it. dirty (view and partitions) means "not yet
 * persisted"; cat_fresh_kick() wakes the persistence thread.
 */
#ifndef CAT_FRESHNESS_H
#define CAT_FRESHNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cat_part.h"

struct cat_mv;

/* ---- marks ---- */

/*
 * A change dated WHEN_MS (unix ms; <= 0 is taken as 1) to a table MV reads:
 * stale_since moves from 0 to WHEN_MS, or down to it when a later change
 * had already marked the view (a binlog event can arrive after a
 * through-proxy mark of a later write); change_seq moves once; the view is
 * dirty and the persistence thread is kicked. Lock-free, any thread.
 */
void cat_fresh_mark_view(struct cat_mv *mv, int64_t when_ms);

/*
 * Mark base-value ranges of MV stale from WHEN_MS (SPEC §5): [LO, HI) in
 * base day numbers (HI exclusive) maps to the view partitions holding
 * cat_part_key(LO .. HI-1); partitions that do not exist yet are created
 * (stale, never refreshed) when CREATE_MISSING and the range spans at most
 * 400 units, else the gaps are marked. WITH_NULL also marks p_null. Lock:
 * the view's mutex. Bumps the view's change_seq and kicks persistence.
 */
void cat_part_mark_range(struct cat_mv *mv, int64_t lo, int64_t hi, bool with_null,
                         bool create_missing, int64_t when_ms);

/*
 * Fold the view-level "whole view stale" mark into the partitions: every
 * partition and the gaps become stale since it, and the view-level mark is
 * cleared. Called before a partial refresh.
 */
void cat_part_explode_whole(struct cat_mv *mv);

/* ---- settle after a refresh ---- */

/*
 * A successful refresh of unpartitioned view MV that loaded change_seq
 * SEQ0 and then started reading its bases at T0 and ended at T1 (unix
 * ms): last_refresh_ms = T1; stale_since_ms becomes 0 when no change was
 * seen since (change_seq still SEQ0) and REFLECTED (the caller's own check
 * that it read everything, e.g. the incremental path's base watermark),
 * else T0 (a change seen after T0 may or may not be in what was read);
 * never fresher than INPUTS_STALE (the upstream views' earliest
 * unreflected change, 0 = none; SPEC §6). Clears dirty (the caller
 * persists the state). Lock-free.
 */
void cat_fresh_settle(struct cat_mv *mv, uint64_t seq0, int64_t t0, int64_t t1,
                      int64_t inputs_stale, bool reflected);

/* One refreshed partition of a partition refresh. */
struct cat_fresh_part {
    struct cat_ppart p;             /* range, and its seq when the refresh started */
    int64_t rows;                   /* rows written */
    int64_t up_stale;               /* upstream views stale since (at the start), 0 = fresh */
};

/*
 * A successful partition refresh of MV that read DONE (N partitions) over
 * T0..T1 (unix ms): each refreshed partition is fresh unless marked since
 * (its seq moved: stale since T0), never fresher than its up_stale, with
 * last_refresh T1 and its rows. COMPLETE: the list is replaced (partitions
 * not rebuilt are dropped unless created by a mark since T0) and the gaps
 * are fresh unless marked since (GAPS0: gaps_stale_ms at the start). WLO
 * (day number, CAT_DAY_MIN = unlimited) is the partition_sync_limit
 * window: partitions before it are dropped. UP_ALL (0 = none) is the
 * upstream views' earliest unreflected change: the gaps stay stale since
 * it. Then the view's rows (sum over partitions) and last_refresh_ms = T1;
 * a view-level mark that arrived meanwhile is folded into the partitions.
 * Takes the view's partition mutex; borrows DONE.
 */
void cat_fresh_settle_parts(struct cat_mv *mv, const struct cat_fresh_part *done, size_t n,
                            bool complete, int64_t t0, int64_t t1, int64_t wlo, int64_t gaps0,
                            int64_t up_all);

/* ---- set from the store / from another proxy ---- */

/* Catalog load (cat_store.c): the stored last refresh and stale-since (unix
 * ms) of a new, not yet published MV. */
void cat_fresh_load(struct cat_mv *mv, int64_t last_refresh_ms, int64_t stale_since_ms);

/*
 * Another proxy stored a newer refresh of MV (cat_sync.c): adopt its
 * LAST_REFRESH_MS and STALE_SINCE_MS, but keep our own stale mark when it
 * is later than that refresh (a change this proxy saw after it).
 */
void cat_fresh_adopt(struct cat_mv *mv, int64_t last_refresh_ms, int64_t stale_since_ms);

/*
 * One stored row of mv_partitions into PS at catalog load (cat_part.c
 * cat_part_store_load): ISN 2 is the gaps row, 1 p_null, 0 the range
 * [LO, HI) (day numbers); STALE / LAST unix ms, ROWS. Caller holds PS->mu.
 */
void cat_fresh_load_part(struct cat_pstate *ps, int isn, int64_t lo, int64_t hi, int64_t stale,
                         int64_t last, int64_t rows);

/*
 * The same row stored by another proxy (cat_sync.c), merged: a partition
 * is taken over when its stored refresh is newer than ours (our later
 * stale mark kept), a missing one is added; the gaps row replaces ours
 * when ours predates VIEW_LAST (the adopted view-level last refresh).
 * Caller holds PS->mu.
 */
void cat_fresh_adopt_part(struct cat_pstate *ps, int isn, int64_t lo, int64_t hi, int64_t stale,
                          int64_t last, int64_t rows, int64_t view_last);

/* ---- persistence handshake (cat_fresh.c flush thread) ---- */

/* Take MV's dirty flags (view and partitions) for persisting: true when
 * it was dirty (both flags are now clear). */
bool cat_fresh_persist_begin(struct cat_mv *mv);
/* Persisting MV failed: dirty again (PARTS: the partition states too),
 * and the persistence thread is kicked to retry. */
void cat_fresh_persist_failed(struct cat_mv *mv, bool parts);

#endif /* CAT_FRESHNESS_H */
