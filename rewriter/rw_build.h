/*
 * rw_build.h - the state of the model builder (rw_model_build), shared by
 * the modules that build one SELECT block: rw_model.c (the entry), rw_from.c
 * (FROM), rw_conv.c (expressions), rw_select.c (select list) and
 * rw_derived.c (derived tables); rw_pred.c and rw_outer.c use its pointer
 * arrays. Internal to them: the rest of the rewriter sees only the finished
 * rw_model (rw_model.h).
 */
#ifndef RW_BUILD_H
#define RW_BUILD_H

#include <stdbool.h>
#include <stddef.h>

#include "rw_parse.h"

struct cat_snapshot;
struct rw_expr;
struct rw_model;

/*
 * A name the block's expressions may refer to (a range table entry): a base
 * table instance, or a merged derived table whose columns are expressions
 * over the base instances of its body.
 */
struct rte {
    char *alias;                /* lower case */
    int tab;                    /* base table instance; -1 for a derived table */
    size_t n_cols;              /* derived: output columns */
    char **names;               /* derived: column names as MariaDB reports them */
    struct rw_expr **exprs;     /* derived: canonical expressions over base instances */
    bool *bad;                  /* derived: not NULL-preserving on a null-supplying side */
};

/* Builder state for one block. */
struct build {
    const struct rw_parse *p;           /* parse (original text, tokens) */
    const char *db;                     /* current database or NULL */
    const struct cat_snapshot *snap;    /* schemas */
    struct rw_model *m;                 /* model being built */
    char *err;                          /* first failure (owned) */
    bool allow_agg;                     /* aggregates allowed in this clause */
    bool allow_win;                     /* window functions allowed (select list, ORDER BY) */
    bool alias_fallback;                /* unknown bare names may be output aliases */
    size_t scope_lo;                    /* first instance names may resolve to (ON scope) */
    bool has_using;                     /* a JOIN ... USING was seen */
    struct rte *rte;                    /* names in scope, FROM order */
    size_t n_rte;                       /* count */
    size_t rte_lo;                      /* first entry names may resolve to (ON / body scope) */
    bool null_side;                     /* building the null-supplying side of an outer join */
    size_t n_pend;                      /* derived WHERE conjuncts bound for that join's ON */
    struct rw_expr **pend;              /* canonical (owned) */
    int ref_rte, ref_k;                 /* entry and column the last resolved ColumnRef named
                                           (conv_colref); ref_rte -1 when none */
};

/*
 * Record the first failure reason of B: the printf-style message goes to
 * B->err (owned by B, "out of memory" when formatting fails); later calls
 * keep the first one. The builder stops at the first failure (its steps
 * check B->err).
 */
void rw_build_fail(struct build *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Grow the pointer array *ARR of *N entries by one slot holding X (not
 * copied: the array owns it only if its owner frees its entries). Returns 0,
 * or -1 on OOM with *ARR and *N unchanged. */
int rw_build_push(void ***arr, size_t *n, void *x);

/* Text of String node N (borrowed from the parse tree), or NULL when N is
 * NULL or not a String. */
const char *rw_build_sval(const PgQuery__Node *n);

/* Free what range-table entry R owns (not R itself). */
void rw_build_rte_clear(struct rte *r);

/* Drop (and free) the range-table entries of B from index N on. */
void rw_build_rte_pop_to(struct build *b, size_t n);

/* Append entry R to B's range table; its contents are consumed (moved, R is
 * zeroed), also on failure, which is "out of memory" in B->err. */
void rw_build_rte_push(struct build *b, struct rte *r);

/*
 * Append a range-table entry for the model's last table instance
 * (b->m->tabs[n_tabs - 1]) under ALIAS (copied). Returns 0, or -1 with "out
 * of memory" failed in B (an rw_build_rte_push failure is only in B->err).
 */
int rw_build_rte_push_last_table(struct build *b, const char *alias);

/* Index of column COL (lower case) in entry R: 0 when R is a base instance
 * that has COL (its columns are looked up by name), the output index for a
 * derived table (names compared case-insensitively); -1 when absent. */
int rw_build_rte_col(const struct build *b, const struct rte *r, const char *col);

#endif /* RW_BUILD_H */
