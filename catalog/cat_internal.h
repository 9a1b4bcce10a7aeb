/*
 * cat_internal.h - functions shared between the catalog's own files; not
 * for the proxy or the rewriter.
 */
#ifndef CAT_INTERNAL_H
#define CAT_INTERNAL_H

#include <stddef.h>

#include "cat.h"

/* Make SNAP (refcount reset to 1, held by the catalog) the current snapshot;
 * the previous one is released. Bumps cat_version() to SNAP->version. */
void cat_snapshot_publish(struct cat_snapshot *snap);

/* Drop the current snapshot (shutdown). */
void cat_snapshot_unpublish(void);

/* Free SNAP and everything it owns (views, tables, index; view states are
 * released by refcount). Called when the last reference goes. */
void cat_snapshot_free(struct cat_snapshot *snap);

/* Write "db.name" lower-cased into BUF (BUFLEN bytes); returns BUF. */
char *cat_make_key(char *buf, size_t buflen, const char *db, const char *name);

#endif /* CAT_INTERNAL_H */
