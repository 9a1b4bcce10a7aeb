/*
 * cat_test_parse.h - the admin-SQL parser (cat_parse) as the catalog's unit
 * tests call it (test_cat_admin.c, test_cat_constraint.c). Header-only,
 * test use only: it includes what it needs (cat_admin.h, cat_parse.h).
 */
#ifndef CAT_TEST_PARSE_H
#define CAT_TEST_PARSE_H

#include <string.h>

#include "cat_admin.h"
#include "cat.h"
#include "cat_parse.h"
#include "cat_reply.h"
#include "cat_util.h"

/* Parse SQL; returns cat_parse's result, ST and ERR filled (caller frees with done()). */
static __attribute__((unused)) int
parse(const char *sql, struct cat_stmt *st, struct mvp_reply *err)
{
    memset(st, 0, sizeof(*st));
    mvp_reply_init(err);
    return cat_parse(sql, strlen(sql), st, err);
}

/* Free what parse() filled in ST and ERR. */
static __attribute__((unused)) void
done(struct cat_stmt *st, struct mvp_reply *err)
{
    cat_stmt_free(st);
    mvp_reply_clear(err);
}

#endif /* CAT_TEST_PARSE_H */
