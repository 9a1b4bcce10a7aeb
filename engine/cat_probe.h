/*
 * cat_probe.h - the partition probe (SPEC §5): a thread that finds
 * changes to the mapped base tables of partitioned views that no write
 * statement through the proxy announced, with per-partition fingerprints
 * compared against a baseline taken at each refresh; it also narrows the
 * binlog's undecodable row events (cat_part_defer) to partitions.
 */
#ifndef CAT_PROBE_H
#define CAT_PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mysql.h>

#include "cat_part.h"

struct cat_snapshot;
struct cat_mv;
struct cat_marked;
struct cat_buf;

/*
 * A binlog row event on table KEY dated WHEN_MS: the partitioned views
 * whose mapped base table KEY is are handed to the probe (woken at once),
 * which narrows the change to partitions with per-partition fingerprints;
 * they are added to M so the caller does not mark them whole. Returns the
 * number of views deferred (0 when the probe thread is not running).
 */
size_t cat_part_defer(const struct cat_snapshot *snap, const char *key, struct cat_marked *m,
                      int64_t when_ms);

/*
 * The probe's fallback role while the binlog is followed: when ON, a
 * periodic probe round neither reads the cheap information_schema signal
 * nor fingerprints a base table that no binlog event handed to it (every
 * committed change reaches the follower, which marks it exactly or defers
 * it). The follower sets it while it follows (cat_binlog.c). Thread-safe.
 */
void cat_part_probe_binlog_covers(bool on);

/* SQL expression (into B) of the partition key of column COL: FLOOR (the
 * derivation) then unit U, as a DATE. */
void cat_part_key_sql(struct cat_buf *b, const char *col, enum cat_punit floor, enum cat_punit u);

/*
 * Resolve every change the binlog handed to the probe (cat_part_defer)
 * over C now: probe those views, and mark a view whole from its pending
 * time when that fails. The binlog follower calls it before it persists
 * the marks and records its position, so a deferred change is never lost
 * behind a stored position (a stop or a crash before the probe ran).
 * Returns the number of views that had to be marked whole.
 */
int cat_part_probe_settle(MYSQL *c);

/*
 * Does any view have a change the binlog handed to the probe
 * (cat_part_defer) that no probe has resolved yet? Such a change is read
 * by the follower but not marked: the freshness fence (cat_fence.c) waits
 * for it. Thread-safe; takes the fingerprint lock briefly.
 */
bool cat_part_probe_pending(void);

/* Start / stop the probe thread (SPEC §5 fallback for writes that bypass
 * the proxy): every MVPROXY_PROBE_INTERVAL_MS (default 2000) ms. */
int cat_part_probe_start(char *err, size_t errlen);
void cat_part_probe_stop(void);
/* Run one probe round now over C (tests; the probe thread). */
void cat_part_probe_once(MYSQL *c, int64_t now_ms);
/* Take the probe's baseline of MV (refresh start): a change since the
 * previous baseline (a deferred binlog change included) is marked first,
 * then the current figures become the baseline. */
void cat_part_probe_baseline(MYSQL *c, struct cat_mv *mv);
/*
 * Cheap refresh-start baseline for a partial refresh: true when MV has a
 * strong baseline, no deferred binlog change and a base column the ranges
 * can be put on directly (the column itself or DATE() of it), i.e. when
 * cat_part_probe_baseline_parts() may replace cat_part_probe_baseline().
 */
bool cat_part_probe_partial_ok(const struct cat_mv *mv);
/*
 * Re-take the baseline of only the keys in PARTS (N ranges about to be
 * refreshed) with one query restricted on the base column (partition
 * pruning instead of a full scan); the rest of the baseline, the table
 * signal and the probe time are kept, so changes elsewhere are still found
 * by the next probe round. Compares nothing (those partitions are being
 * refreshed). Call before reading the base. False when it was not done
 * (cat_part_probe_partial_ok() false, or the query failed): the refreshed
 * keys then keep their old baseline (the next round may re-mark them:
 * conservative).
 */
bool cat_part_probe_baseline_parts(MYSQL *c, struct cat_mv *mv, const struct cat_ppart *parts,
                                   size_t n);

#endif /* CAT_PROBE_H */
