/*
 * cat_part_engine.h - the engine's side of partitioned views (cat_part.h has
 * the types and the state): resolving a view's partition derivation and
 * persisting partition state (cat_part_resolve.c, cat_part_store.c), change
 * tracking of writes, partition DDL, binlog row images and the probe
 * (cat_part_track.c), and the partition refresh (cat_part_refresh.c).
 * SPEC §4, §5, §9.
 */
#ifndef CAT_PART_ENGINE_H
#define CAT_PART_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mysql.h>

#include "cat_part.h"

/*
 * Validate and complete MV->part over C (service account) at CREATE and at
 * load: the storage column must exist and be DATE/DATETIME/TIMESTAMP (else
 * -1 with ERR: "PARTITION BY column ..."); the derivation from a base
 * column is worked out from the definition text and information_schema
 * (unmapped with a reason when it cannot be). Sets sync_limit/sync_unit
 * from MV's properties. Returns 0 or -1.
 */
int cat_part_resolve(MYSQL *c, struct cat_mv *mv, char *err, size_t errlen);

/* ---- persistence (metadata table mv_partitions) ---- */

int cat_part_store_init(MYSQL *c, char *err, size_t errlen);
int cat_part_store_save(MYSQL *c, const struct cat_mv *mv, char *err, size_t errlen);
int cat_part_store_load(MYSQL *c, struct cat_mv *mv, char *err, size_t errlen);
int cat_part_store_delete(MYSQL *c, uint64_t id, char *err, size_t errlen);

/* ---- change tracking ---- */

/*
 * Precise marking of one write statement SQL (LEN bytes, current database
 * DB) for the partitioned views of SNAP: INSERT/REPLACE ... VALUES (the
 * partition column's values), UPDATE / DELETE of one table with WHERE
 * ranges on it, ALTER TABLE ... {ADD|DROP|TRUNCATE|REORGANIZE} PARTITION,
 * TRUNCATE TABLE. Returns true when the statement was handled here (every
 * view over its table was marked, precisely or whole), false when the
 * caller must run the generic scanner. WHEN_MS dates the change.
 */
bool cat_part_note_write(const struct cat_snapshot *snap, const char *sql, size_t len,
                         const char *db, int64_t when_ms, int *n_marked);

/*
 * A binlog row event on table KEY dated WHEN_MS: the partitioned views
 * whose mapped base table KEY is are handed to the probe (woken at once),
 * which narrows the change to partitions with per-partition fingerprints;
 * they are added to M so the caller does not mark them whole. Returns the
 * number of views deferred (0 when the probe thread is not running).
 */
struct cat_marked;
size_t cat_part_defer(const struct cat_snapshot *snap, const char *key, struct cat_marked *m,
                      int64_t when_ms);

/*
 * A binlog rows event on table KEY dated WHEN_MS, with its row images
 * (SPEC §5: "maps each row event to its table and partition"): for every
 * partitioned view whose mapped base table KEY is, the partition column's
 * value in each image (an UPDATE's before and after images) is decoded
 * with the layout TM of the event's TABLE_MAP (cat_rowimage.h) and exactly
 * the view partitions holding those values are marked stale (NULL:
 * p_null; a zero or invalid date: every partition; TIMESTAMP: the UTC day
 * and both neighbours, since the view floors it in a session time zone).
 * Those views are added to M (claimed: the caller must neither defer nor
 * mark them whole). A view is left unclaimed, for cat_part_defer() and
 * the probe, when WHY_NOT is non-NULL (the caller found the event
 * undecodable: its text is the reason logged), TM is NULL (the table map
 * could not be parsed),
 * the catalog's column list of KEY does not match the table map (count,
 * or a type: the schema changed since), or the images cannot be decoded
 * (cat_ri_scan's reasons: the column missing from an image under
 * binlog_row_image=MINIMAL, an undecodable type, bad lengths). Each
 * decision is logged at debug level ("binlog rows ... exact" / "...
 * probe: <reason>") and counted in the view's rows_exact / rows_probed.
 * Returns the number of views marked exactly. Borrows everything.
 */
struct cat_ri_table;
struct cat_ri_rows;
size_t cat_part_rows_mark(const struct cat_snapshot *snap, const char *key,
                          const struct cat_ri_table *tm, const struct cat_ri_rows *rows,
                          const char *why_not, struct cat_marked *m, int64_t when_ms);

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
 * Re-read the RANGE partition bounds of MV's base table over C into the
 * view's state (information_schema.PARTITIONS; partitions that vanished
 * are kept as retired for a minute). The partition DDL narrowing of
 * cat_part_note_write() uses them: the probe thread calls this every
 * round, a refresh at its start. No-op for a base that is not RANGE
 * partitioned on the column.
 */
void cat_part_bounds_refresh(MYSQL *c, struct cat_mv *mv);

/*
 * Resolve every change the binlog handed to the probe (cat_part_defer)
 * over C now: probe those views, and mark a view whole from its pending
 * time when that fails. The binlog follower calls it before it persists
 * the marks and records its position, so a deferred change is never lost
 * behind a stored position (a stop or a crash before the probe ran).
 * Returns the number of views that had to be marked whole.
 */
int cat_part_probe_settle(MYSQL *c);

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

/* ---- refresh (cat_part_refresh.c) ---- */

/*
 * Refresh partitioned view DB.NAME: MODE "COMPLETE" (new table built
 * partition by partition, atomic swap), "AUTO" (only stale partitions,
 * each in one transaction: DELETE its range + INSERT ... SELECT restricted
 * to it), or "PARTITIONS" with N_PARTS names PARTS. Fills REPLY. Returns 0/-1.
 */
int cat_part_refresh(const char *db, const char *name, const char *mode, char **parts,
                     size_t n_parts, struct mvp_reply *reply);

#endif /* CAT_PART_ENGINE_H */
