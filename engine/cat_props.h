/*
 * cat_props.h - PROPERTIES of a materialized view (SPEC §3): the effective
 * settings a list of key = value pairs gives, with validation.
 */
#ifndef CAT_PROPS_H
#define CAT_PROPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cat.h"
#include "cat_parse.h"
#include "cat_reply.h"

/* Effective settings from PROPERTIES. */
struct cat_props {
    int64_t grace_period_s;         /* grace_period, seconds */
    enum cat_consistency consistency; /* query_rewrite_consistency */
    bool nondeterministic_ok;       /* enable_nondeterministic_function */
    int rewrite;                    /* use_for_rewrite: -1 not given, 0/1 */
    size_t n_excluded;              /* excluded_trigger_tables */
    char **excluded;                /* as written (unqualified or db.t) */
};

/*
 * Validate N properties PROPS (SPEC §3 table plus Doris keys accepted and
 * ignored: replication_num, ...). Fills OUT (free with cat_props_free).
 * Returns 0, or -1 with ERR filled: unknown key (1911/HY000 naming it) or a
 * bad value (1231/42000 naming key and value).
 */
int cat_props_validate(size_t n, const struct cat_prop *props, struct cat_props *out,
                       struct mvp_reply *err);
void cat_props_free(struct cat_props *p);

#endif /* CAT_PROPS_H */
