/*
 * cat_part_track.h - change tracking per partition by write statement
 * (SPEC §5): the partition-precise marking of proxy DML and of the
 * binlog's Query events (cat_mark_writes_opt calls it first), and the
 * cached RANGE partition bounds of base tables its partition DDL
 * narrowing uses.
 */
#ifndef CAT_PART_TRACK_H
#define CAT_PART_TRACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mysql.h>

#include "cat_part.h"

struct cat_snapshot;
struct cat_mv;

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
 * Re-read the RANGE partition bounds of MV's base table over C into the
 * view's state (information_schema.PARTITIONS; partitions that vanished
 * are kept as retired for a minute). The partition DDL narrowing of
 * cat_part_note_write() uses them: the probe thread calls this every
 * round, a refresh at its start. No-op for a base that is not RANGE
 * partitioned on the column.
 */
void cat_part_bounds_refresh(MYSQL *c, struct cat_mv *mv);

/* Column index of COL (case-insensitive) in the catalog's column list of
 * base table KEY ("db.table") in SNAP, or -1 when the table or the column
 * is not known. */
ssize_t cat_table_col_index(const struct cat_snapshot *snap, const char *key, const char *col);

#endif /* CAT_PART_TRACK_H */
