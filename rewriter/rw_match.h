/*
 * rw_match.h - Goldstein & Larson view matching of one query block against
 * one view model, producing the replacement block text over the view's
 * storage table (view-matching.md §2-§4).
 */
#ifndef RW_MATCH_H
#define RW_MATCH_H

#include <stddef.h>

#include "rw_model.h"
#include "rw_winpart.h" /* rw_win_part_aligned() */

/*
 * Match query block Q against view model V (outputs carry storage column
 * names in ->vcol) whose storage table is VDB.VNAME. On a match returns 0
 * with the replacement SELECT block in *BLOCK (MariaDB text, caller frees)
 * and the number of compensating predicates in *N_COMP, and in *REASON
 * either NULL or a note for EXPLAIN REWRITE naming the informational (NOT
 * ENFORCED) constraints a join elimination trusted (caller frees). Returns 1 with a
 * reason for a DBA in *REASON (caller frees) when V cannot answer Q; -1 on
 * OOM. Tries every mapping of Q's table instances onto V's (self-joins).
 */
int rw_match(const struct rw_model *q, const struct rw_model *v, const char *vdb,
             const char *vname, char **block, int *n_comp, char **reason);

/*
 * rw_match(), and join-back: when Q reads table instances V lacks (more
 * instances of a table than V, or tables V does not read), an SPJ view V
 * (no aggregate, no DISTINCT) stands in for the instances it covers and the
 * others are read next to it, inner-joined, in the replacement block
 * (rw_join.c, rw_join_joinback_ok). *N_BACK (when not NULL) receives the
 * number of query instances joined back (0: V covers every table of Q). Aggregate
 * and DISTINCT views are refused (1) with a reason when Q has tables they
 * lack.
 */
int rw_match_ext(const struct rw_model *q, const struct rw_model *v, const char *vdb,
                 const char *vname, char **block, int *n_comp, size_t *n_back, char **reason);

#endif /* RW_MATCH_H */
