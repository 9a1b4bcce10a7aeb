/*
 * cat_incr.h - incremental refresh of append-only sources (SPEC §6 note;
 * the seed's "REFRESH FAST" and seed 004's watermark pattern).
 *
 * A view qualifies when it is unpartitioned, reads exactly one base table,
 * groups by plain output columns, and every other output is SUM, COUNT,
 * MIN or MAX of an expression (no DISTINCT, HAVING, LIMIT, window, join or
 * subquery), and has the property incremental_column = a column of that
 * table that only grows (AUTO_INCREMENT id, load batch id, event time under
 * append-only loading). A refresh then, in one transaction:
 *
 *   hi = SELECT MAX(col) FROM base
 *   INSERT INTO mv SELECT <definition over rows wm < col <= hi>
 *     ON DUPLICATE KEY UPDATE s = s + VALUES(s), c = c + VALUES(c),
 *       mn = LEAST(mn, VALUES(mn)), mx = GREATEST(mx, VALUES(mx))  (NULL-safe)
 *   watermark := hi                          (metadata table mv_watermarks)
 *   COMMIT
 *
 * The storage table gets a UNIQUE KEY on the grouping columns (created on
 * the first incremental refresh; they must be NOT NULL). The first refresh
 * (or any refresh after which the watermark is unknown) is a "baseline":
 * a complete rebuild restricted to col <= hi, swapped in atomically, then
 * the watermark is recorded. Anything it cannot prove safe falls back to
 * the normal (complete / partition) refresh: an UPDATE, DELETE, REPLACE,
 * TRUNCATE or DDL observed on the base table since the last incremental
 * step (proxy DML or binlog row events), a restart after which that cannot
 * be proven (a crash, no binlog, a binlog not yet replayed up to the
 * restart: see cat_incr_state_save below), a view that does not qualify. MIN/MAX additionally assume
 * rows are never updated or deleted, which the same observation enforces.
 */
#ifndef CAT_INCR_H
#define CAT_INCR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cat.h"
#include "cat_refresh_clause.h"
#include "cat_util.h"
#include "cat_reply.h"
#include "cat_task.h"

struct cat_mv;
struct cat_snapshot;

/* Does a task of MODE on MV try the incremental path? (FAST or AUTO with
 * incremental_column set on an unpartitioned view) Cheap; no backend I/O. */
bool cat_incr_wanted(const struct cat_mv *mv, enum cat_refresh_method mode);

/*
 * Incremental refresh of view DB.NAME (see above). *HANDLED false: it did
 * nothing and the caller runs the normal refresh (REPLY untouched);
 * true: REPLY has the outcome and *OUTCOME (not NULL) its class
 * (CAT_TASK_BUSY when another refresh holds the view's lock). Returns 0 on
 * success, -1 otherwise.
 */
int cat_incr_refresh(const char *db, const char *name, struct mvp_reply *reply, bool *handled,
                     enum cat_task_result *outcome);

/*
 * A change to base table KEY ("db.table", lower case) that is not a pure
 * append (UPDATE, DELETE, REPLACE, TRUNCATE, DDL, unknown): views over it
 * fall back to a full refresh next time. Cheap, thread-safe.
 */
void cat_incr_note_nonappend(const char *key);

/* Same for every write statement SQL (LEN bytes, current database DB,
 * issued under the sql_mode flags MODE) that is not a plain INSERT ...
 * VALUES / INSERT ... SELECT. */
void cat_incr_note_sql(const char *sql, size_t len, const char *db, uint32_t mode);

/* Forget view MV_ID's watermark over C (a complete refresh rebuilt it from
 * every row; the next incremental step starts with a baseline). */
struct st_mysql;
void cat_incr_forget(struct st_mysql *c, unsigned long long mv_id);

/* Create the mv_watermarks metadata table (idempotent). */
int cat_incr_store_init(struct st_mysql *c, char *err, size_t errlen);

/*
 * "No update/delete since the last incremental step" across a restart.
 * cat_incr_state_save (graceful stop, after the binlog follower stored its
 * final position; FOLLOWED: it was running) records, per view still clean
 * in this process, that position in mv_watermarks.clean_at. A crash
 * records nothing, and without the binlog nothing is claimed (the downtime
 * could not be replayed). cat_incr_state_load (start, before the follower
 * starts) restores the views whose clean_at equals the stored position,
 * then clears every clean_at (used once). A restored view refreshes
 * incrementally only once cat_binlog_covers_downtime() holds (the follower
 * resumed at that position and has read the downtime; any update/delete in
 * it makes the step a baseline, as while running); until then, or when
 * unknown, it takes a baseline (conservative).
 */
void cat_incr_state_save(struct st_mysql *c, bool followed);
void cat_incr_state_load(struct st_mysql *c);

#endif /* CAT_INCR_H */
