/*
 * cat_store.h - the catalog in the metadata schema (cat_store.c, SPEC §2):
 * the mvs table (definitions, properties, owner, state), the tasks table,
 * and applying PROPERTIES to a view.
 */
#ifndef CAT_STORE_H
#define CAT_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mysql.h>

#include "cat.h"

struct cat_prop;

/*
 * Validate N PROPS and apply them to MV: properties_json (canonical JSON of
 * PROPS), grace_period_s, consistency, rewrite_enabled (use_for_rewrite),
 * nondeterministic_ok, excluded ("db.table" keys, unqualified names in
 * MV->db). Returns 0, or -1 with ERR (MV unchanged).
 */
int cat_mv_set_props(struct cat_mv *mv, size_t n, const struct cat_prop *props,
                     struct mvp_reply *err);

/* Create the metadata schema and its tables if missing. */
int cat_store_init_schema(MYSQL *c, char *err, size_t errlen);
/* Load every view row into a new uthash *MVS (models and tables not built). */
int cat_store_load(MYSQL *c, struct cat_mv **mvs, char *err, size_t errlen);
/* Insert MV's row; sets MV->id. */
int cat_store_insert(MYSQL *c, struct cat_mv *mv, char *err, size_t errlen);
/* Rewrite MV's definition fields (name, refresh, properties, paused, indexes ...). */
int cat_store_update_def(MYSQL *c, const struct cat_mv *mv, char *err, size_t errlen);
/* Persist MV's freshness state (last refresh, stale since, rows, refresh state). */
int cat_store_save_state(MYSQL *c, const struct cat_mv *mv, char *err, size_t errlen);
/* Persist only stale_since_ms of view ID (freshness thread). */
int cat_store_save_stale(MYSQL *c, uint64_t id, int64_t stale_since_ms, char *err, size_t errlen);
/* Delete view ID's row. */
int cat_store_delete(MYSQL *c, uint64_t id, char *err, size_t errlen);
/* Start a task row (RUNNING) for MV with MODE; returns the task id or 0 on error. */
uint64_t cat_store_task_start(MYSQL *c, const struct cat_mv *mv, const char *mode);
/* Finish task TASK_ID with STATUS (SUCCESS/FAILED), ROWS and ERROR (may be NULL). */
void cat_store_task_finish(MYSQL *c, uint64_t task_id, const char *status, int64_t rows,
                           const char *error);
/* Mark tasks left RUNNING/PENDING by a previous process FAILED. */
void cat_store_task_recover(MYSQL *c);

#endif /* CAT_STORE_H */
