/*
 * rw_emit.h - MariaDB text for canonical expressions over a view's storage
 * table, and splicing of a replacement block into the original statement
 * (view-matching.md §7: never deparse PostgreSQL; literals keep their
 * original MariaDB text).
 */
#ifndef RW_EMIT_H
#define RW_EMIT_H

#include <stdbool.h>
#include <stddef.h>

#include "rw_expr.h"
#include "rw_util.h"

/* Append E in MariaDB syntax to B; view columns (RW_E_VCOL) are written
 * `DB`.`TABLE`.`col`. Plain RW_E_COL must not occur (emission is over views). */
void rw_emit_expr(struct rw_buf *b, const struct rw_expr *e, const char *db, const char *table);

/*
 * Like rw_emit_expr(), and a plain column (RW_E_COL) of query instance T is
 * written `ALIASES[T]`.`col` when T < N_ALIASES and ALIASES[T] is not NULL:
 * the columns of the tables a join-back rewrite reads next to the view
 * (rw_join.c). ALIASES is borrowed; NULL behaves as rw_emit_expr().
 */
void rw_emit_expr_tabs(struct rw_buf *b, const struct rw_expr *e, const char *db,
                       const char *table, const char *const *aliases, size_t n_aliases);

struct rw_model;

/*
 * Append to B the privilege guard of query block Q (SPEC §7: a user is
 * rewritten onto a view only when that user may SELECT every base table the
 * original block reads): for each distinct base table of Q, in FROM order,
 *
 *   NOT EXISTS (SELECT `c1`, `c2` FROM `db`.`t` WHERE 0)
 *
 * joined by " AND ", where c1, c2 ... are the columns Q reads from that table
 * (every instance of it; sorted, once each) or `1` when it reads none. The
 * guard is always true, costs no table read (the backend folds it:
 * "Impossible WHERE"), and makes the backend check the original block's
 * table and column SELECT privileges when it prepares the rewritten text:
 * a user who may not read them gets ERR 1142/1143 and the proxy falls back
 * to the original statement. Nothing is appended when Q has no table.
 */
void rw_emit_guard(struct rw_buf *b, const struct rw_model *q);

/*
 * rw_emit_guard() restricted to the tables of the instances I of Q with
 * TABS[I] true (TABS has Q->n_tabs entries, borrowed; NULL: every table).
 * A join-back rewrite guards the tables the view stands in for; the tables
 * it reads directly need no guard, the backend checks them anyway. A table
 * with several instances is guarded (with the columns every instance reads)
 * when any of its instances is selected.
 */
void rw_emit_guard_tabs(struct rw_buf *b, const struct rw_model *q, const bool *tabs);

/* New string: SRC with [START, END) replaced by REPL (caller frees); NULL on OOM. */
char *rw_emit_splice(const char *src, size_t len, size_t start, size_t end, const char *repl,
                     size_t *out_len);

#endif /* RW_EMIT_H */
