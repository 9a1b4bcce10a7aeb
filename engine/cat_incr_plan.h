/*
 * cat_incr_plan.h - the definition analysis of the incremental refresh
 * (cat_incr.c): which views qualify (see cat_incr.h) and the shape the
 * refresh rewrites (the base table reference, each output's kind).
 */
#ifndef CAT_INCR_PLAN_H
#define CAT_INCR_PLAN_H

#include <stdbool.h>
#include <stddef.h>

/* Kind of one output of the definition: how the fold merges it. */
enum cat_incr_out { CAT_IO_KEY = 0, CAT_IO_SUM, CAT_IO_COUNT, CAT_IO_MIN, CAT_IO_MAX };

/* What the definition looks like, when it qualifies (strings owned). */
struct cat_incr_plan {
    char *base_db;                  /* base table database */
    char *base_name;                /* base table name */
    size_t ref_off, ref_end;        /* the table reference (name [AS alias]) in query_sql */
    char *alias;                    /* what the query calls the table */
    size_t n_out;                   /* select items */
    enum cat_incr_out *kinds;       /* ... their kinds */
};

/*
 * Analyse definition SQL of a view in database DB: true with P filled
 * (free with cat_incr_plan_free) when it qualifies; false with the reason
 * in WHY (WHYLEN bytes) and P empty. Lexes only (rw_lex), no backend I/O.
 */
bool cat_incr_analyse(const char *sql, const char *db, struct cat_incr_plan *p, char *why,
                      size_t whylen);

/* Free P's strings and arrays and zero it. */
void cat_incr_plan_free(struct cat_incr_plan *p);

#endif /* CAT_INCR_PLAN_H */
