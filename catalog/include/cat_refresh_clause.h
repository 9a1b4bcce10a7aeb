/*
 * cat_refresh_clause.h - a view's refresh clause (CREATE / ALTER
 * MATERIALIZED VIEW ... REFRESH <method> ON <trigger>, SPEC §6): its parsed
 * form, kept in struct cat_mv next to its canonical text (refresh_info,
 * for storage and SHOW). The parser is the engine's (engine/cat_parse.c;
 * stored text is read back with cat_refresh_clause_of_text, cat_parse.h);
 * the scheduler reads the parsed form (engine/cat_sched.c cat_trigger_of).
 */
#ifndef CAT_REFRESH_CLAUSE_H
#define CAT_REFRESH_CLAUSE_H

#include <stddef.h>
#include <stdint.h>

enum cat_refresh_method {
    CAT_RM_NONE = 0,                /* not given */
    CAT_RM_COMPLETE,                /* COMPLETE */
    CAT_RM_AUTO,                    /* AUTO */
    CAT_RM_NEVER,                   /* NEVER */
    CAT_RM_FAST,                    /* FAST (Oracle/GaussDB: incremental) */
    CAT_RM_PARTITIONS,              /* REFRESH MATERIALIZED VIEW mv PARTITIONS (...) */
};

enum cat_refresh_trigger {
    CAT_RT_NONE = 0,                /* not given (= MANUAL) */
    CAT_RT_MANUAL,                  /* ON MANUAL */
    CAT_RT_DEMAND,                  /* ON DEMAND (Oracle; = MANUAL) */
    CAT_RT_COMMIT,                  /* ON COMMIT */
    CAT_RT_SCHEDULE,                /* ON SCHEDULE EVERY n unit [STARTS ...] */
    CAT_RT_EVERY,                   /* Oracle EVERY (interval '5 min') */
};

/* A refresh clause as written (CREATE / ALTER ... REFRESH). */
struct cat_refresh_clause {
    enum cat_refresh_method method;     /* COMPLETE / AUTO / NEVER / FAST */
    enum cat_refresh_trigger trigger;   /* MANUAL / COMMIT / SCHEDULE ... */
    int64_t every_n;                    /* SCHEDULE EVERY n */
    char *unit;                         /* MINUTE/HOUR/DAY/WEEK (upper), or NULL */
    char *starts;                       /* STARTS 'yyyy-mm-dd hh:mm:ss' or NULL */
    char *interval;                     /* Oracle EVERY (interval 'x'): 'x' or NULL */
};

/* Canonical text of a refresh clause ("REFRESH COMPLETE ON MANUAL"), as
 * stored (mvs.refresh_info) and shown; caller frees. */
char *cat_refresh_text(const struct cat_refresh_clause *rc);

/* Deep copy of SRC into DST (DST's old strings are not freed). */
void cat_refresh_clause_copy(struct cat_refresh_clause *dst, const struct cat_refresh_clause *src);

/* Free RC's strings and zero it. */
void cat_refresh_clause_free(struct cat_refresh_clause *rc);

#endif /* CAT_REFRESH_CLAUSE_H */
