/*
 * cat_part_refresh.h - the partition refresh engine (SPEC §4, §6): a
 * partitioned view rebuilt whole partition by partition, or only its stale
 * or named partitions refreshed in place. How it works: cat_part_refresh.c.
 */
#ifndef CAT_PART_REFRESH_H
#define CAT_PART_REFRESH_H

#include <stddef.h>

#include "cat.h"
#include "cat_refresh_clause.h"
#include "cat_reply.h"
#include "cat_util.h"
#include "cat_task.h"

/*
 * Refresh partitioned view DB.NAME: MODE CAT_RM_COMPLETE (new table built
 * partition by partition, atomic swap), CAT_RM_AUTO (only stale partitions,
 * each batch in one transaction: DELETE its range + INSERT ... SELECT
 * restricted to it), or CAT_RM_PARTITIONS with N_PARTS names PARTS
 * (borrowed). Any other mode is AUTO. Fills REPLY with OK (its info lists
 * the partitions) or ERR (1146 no such partitioned view, 1735 unknown
 * partition, 1235 windows spanning partitions, the backend's error);
 * *OUTCOME (not NULL) gets the outcome (CAT_TASK_BUSY when another refresh
 * holds the view's lock). Returns 0/-1.
 */
int cat_part_refresh(const char *db, const char *name, enum cat_refresh_method mode,
                     char **parts, size_t n_parts, struct mvp_reply *reply,
                     enum cat_task_result *outcome);

#endif /* CAT_PART_REFRESH_H */
