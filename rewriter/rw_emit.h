/*
 * rw_emit.h - MariaDB text for canonical expressions over a view's storage
 * table, and splicing of a replacement block into the original statement
 * (view-matching.md §7: never deparse PostgreSQL; literals keep their
 * original MariaDB text).
 */
#ifndef RW_EMIT_H
#define RW_EMIT_H

#include <stddef.h>

#include "rw_expr.h"
#include "rw_util.h"

/* Append E in MariaDB syntax to B; view columns (RW_E_VCOL) are written
 * `DB`.`TABLE`.`col`. Plain RW_E_COL must not occur (emission is over views). */
void rw_emit_expr(struct rw_buf *b, const struct rw_expr *e, const char *db, const char *table);

/* New string: SRC with [START, END) replaced by REPL (caller frees); NULL on OOM. */
char *rw_emit_splice(const char *src, size_t len, size_t start, size_t end, const char *repl,
                     size_t *out_len);

#endif /* RW_EMIT_H */
