/*
 * fuzz_admin.c - libFuzzer target for the admin statement recogniser and
 * parser (cat_admin_recognise, cat_parse): CREATE/ALTER/DROP/REFRESH
 * MATERIALIZED VIEW, SHOW ..., EXPLAIN REWRITE, constraints. The input is
 * one statement; nothing is run.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cat_admin.h"
#include "cat.h"
#include "cat_parse.h"
#include "cat_reply.h"
#include "cat_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cat_admin_job *job = NULL;
    struct mvp_reply err;
    struct cat_stmt st;
    const char *sql = (const char *)data;

    mvp_reply_init(&err);
    if (cat_admin_recognise(sql, size, "test", &job, &err)) {
        cat_admin_job_free(job);
    }
    mvp_reply_clear(&err);

    mvp_reply_init(&err);
    memset(&st, 0, sizeof(st));
    (void)cat_parse(sql, size, &st, &err);
    cat_stmt_free(&st);
    mvp_reply_clear(&err);
    return 0;
}
