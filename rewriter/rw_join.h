/*
 * rw_join.h - joins in view matching (rw_join.c): outer-join
 * compatibility, join elimination and join-back.
 */
#ifndef RW_JOIN_H
#define RW_JOIN_H

#include <stdbool.h>

#include "rw_model.h"

struct comp;
struct mctx;

/* A view built for one mapping: the shared model with some outer joins
 * turned into inner joins (their ON moved to the conjuncts). */
struct vadj {
    struct rw_model m;          /* shallow copy; conj, oj and pred are its own */
    bool used;                  /* m is in use (free it) */
};

/* Free what ADJ owns (not the shared parts of its model) and mark it
 * unused. */
void rw_join_vadj_free(struct vadj *adj);

/*
 * Outer-join compatibility of query C->q and view V under C's mapping
 * (view-matching.md §5): every left join of the query must be a left join
 * of the view with the same ON; a view left join over a table the query
 * inner-joins answers it through the matched rows (its ON becomes a view
 * conjunct, CP gets `v.col IS NOT NULL`). On success *VEFF is V, or ADJ's
 * model (free with rw_join_vadj_free) when something was converted. Returns
 * false with the reason in C->why.
 */
bool rw_join_outer_joins(struct mctx *c, const struct rw_model *v, struct vadj *adj,
                         struct comp *cp, const struct rw_model **veff);

/* Check that every view instance the mapping leaves out (C->map < 0) is a
 * lossless join (join elimination, in some order: a declared foreign key to
 * a unique key, or a LEFT JOIN on a unique key); notes the informational
 * keys it trusted in C->note. False with the reason in C->why. */
bool rw_join_extras_lossless(struct mctx *c);

/*
 * Join-back: may the SPJ view stand in for the query instances the mapping
 * covers, with the other (inner-joined) query instances read next to it in
 * the replacement block? Sets C->ralias (the aliases the block gives them;
 * VNAME is the view's storage table, whose name they must not clash with).
 * False with the reason in C->why.
 */
bool rw_join_joinback_ok(struct mctx *c, const char *vname);

#endif /* RW_JOIN_H */
