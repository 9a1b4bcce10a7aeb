/*
 * rw_mctx.h - the matching state of one table mapping and the translation
 * of expressions into the query's space (rw_mctx.c), shared by the view
 * matching modules (rw_match.c and the modules it names). Internal to them:
 * the rest of the rewriter calls rw_match.h.
 */
#ifndef RW_MCTX_H
#define RW_MCTX_H

#include <stdbool.h>
#include <stddef.h>

struct rw_expr;
struct rw_model;


/* Matching state for one mapping. */
struct mctx {
    const struct rw_model *q;   /* query block */
    const struct rw_model *v;   /* view model */
    const int *map;             /* view instance -> query instance */
    const int *inv;             /* query instance -> view instance */
    struct rw_expr **vouts;     /* view outputs in query space (NULL = opaque) */
    bool agg_mode;              /* translating inside an aggregate query */
    bool equal_groups;          /* view groups == query groups: aggregates map 1:1 */
    bool *wused;                /* per view output: a window value the rewrite reads */
    bool no_win_reuse;          /* compute every window again over the view's rows */
    size_t n_back;              /* query instances joined back (inv < 0); 0: none */
    char **ralias;              /* per query instance: alias of a joined-back one, else NULL
                                   (owned; NULL when n_back is 0) */
    char *why;                  /* first failure (owned) */
    char *note;                 /* informational constraints a join elimination relied on (owned) */
    char *topn_limit;           /* Top-N view: the LIMIT to emit instead of the query's (owned) */
    char *topn_offset;          /* ... and the OFFSET into the view's rows (owned) */
};

/* Record the printf-style reason of the first failure in C->why (owned by
 * C; "out of memory" when formatting fails); later calls keep the first. */
void rw_mctx_fail(struct mctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Text of E with bare column names, for reasons (caller frees; NULL on
 * OOM). */
char *rw_mctx_show(const struct rw_expr *e);

/* Canonical copy of E (caller frees) in query Q's space: columns of view
 * instances mapped by MAP onto query instances (MAP NULL for query
 * expressions), then every column replaced by its equivalence-class
 * representative in Q's predicate analysis. NULL on OOM. */
struct rw_expr *rw_mctx_qspace(const struct rw_model *q, const struct rw_expr *e, const int *map);

/* New view-column node (RW_E_VCOL, caller frees) for output I of the view:
 * its storage column. NULL on OOM. */
struct rw_expr *rw_mctx_vcol(const struct mctx *c, size_t i);

/* Index of a view output equal to E (both in query space), -1 when none.
 * AGG_OK allows the aggregate outputs of an aggregate view; window outputs
 * are skipped when C->no_win_reuse. */
int rw_mctx_find_out(const struct mctx *c, const struct rw_expr *e, bool agg_ok);

#endif /* RW_MCTX_H */
