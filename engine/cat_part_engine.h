/*
 * cat_part_engine.h - the engine's side of partitioned views (cat_part.h has
 * the types and the state): resolving a view's partition derivation and
 * persisting partition state (cat_part_resolve.c, cat_part_store.c); the
 * partition refresh has its own header (cat_part_refresh.h). Change tracking has headers
 * of its own (cat_part_track.h, cat_part_rowimage.h, cat_probe.h).
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
/* The stored partition rows of view ID over C: is_null, lo_day, hi_day,
 * stale_since_ms, last_refresh_ms, row_count (free with mysql_free_result),
 * or NULL with the error in mysql_error(C). */
MYSQL_RES *cat_part_store_rows(MYSQL *c, uint64_t id);
int cat_part_store_delete(MYSQL *c, uint64_t id, char *err, size_t errlen);

/* ---- change tracking: cat_part_track.h (write statements, base partition
 * bounds), cat_part_rowimage.h (binlog row images), cat_probe.h (the
 * probe) ---- */

/* The partition refresh: cat_part_refresh.h. */

#endif /* CAT_PART_ENGINE_H */
