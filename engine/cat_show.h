/*
 * cat_show.h - introspection result sets (cat_show.c, SPEC §9): SHOW
 * MATERIALIZED VIEWS / mv_infos(), tasks(), SHOW CREATE MATERIALIZED VIEW,
 * SHOW PARTITIONS, and turning a result set into a derived table for the
 * table functions' WHERE / ORDER BY.
 */
#ifndef CAT_SHOW_H
#define CAT_SHOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mysql.h>

#include "cat.h"
#include "cat_reply.h"

/* SHOW MATERIALIZED VIEWS [FROM db] [LIKE pat] / mv_infos rows (SPEC §9). */
void cat_show_mvs(const struct cat_snapshot *snap, const char *db, const char *like,
                  struct mvp_reply *reply);
/* tasks('type'='mv') rows (SPEC §9) read from the metadata schema. */
int cat_show_tasks(struct mvp_reply *reply);
/* SHOW CREATE MATERIALIZED VIEW text of MV (caller frees). */
char *cat_show_create_text(const struct cat_mv *mv);
/* SHOW PARTITIONS FROM mv: one row for an unpartitioned view (SPEC §9). */
void cat_show_partitions(const struct cat_mv *mv, struct mvp_reply *reply);
/* R's rows as a derived table "(SELECT ... UNION ALL ...) AS `ALIAS`" (ALIAS
 * may be NULL); caller frees. */
char *cat_rows_as_derived(const struct mvp_reply *r, const char *alias);
/* SQL LIKE match of S against PAT (% and _; case-insensitive). */
bool cat_like(const char *s, const char *pat);

#endif /* CAT_SHOW_H */
