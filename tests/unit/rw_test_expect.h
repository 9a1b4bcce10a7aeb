/*
 * rw_test_expect.h - cmocka assertions over rw_rewrite() shared by the
 * rewriter's unit tests (test_rw_match.c, test_rw_joinback.c,
 * test_rw_blocks.c). Header-only, test use only: include it after
 * <cmocka.h> and "rw_test_snap.h".
 */
#ifndef RW_TEST_EXPECT_H
#define RW_TEST_EXPECT_H

#include <stdlib.h>
#include <string.h>

#include "rw_test_snap.h"

/* Rewrite SQL in database "test" with options OPT; returns the outcome
 * (caller frees with rw_outcome_free). Fails the test when rw_rewrite errs. */
static __attribute__((unused)) struct rw_outcome
ts_rw(struct cat_snapshot *s, const char *sql, const struct rw_options *opt)
{
    struct rw_outcome o;
    assert_int_equal(rw_rewrite(sql, strlen(sql), "test", s, opt, &o), 0);
    return o;
}

/* Candidate row of O for view NAME ("test.x", borrowed from O); fails the test when absent. */
static __attribute__((unused)) const struct rw_candidate *
ts_cand(const struct rw_outcome *o, const char *name)
{
    for (size_t i = 0; i < o->n_cand; i++) {
        if (strcmp(o->cand[i].mv_name, name) == 0) {
            return &o->cand[i];
        }
    }
    fail_msg("no candidate %s", name);
    return NULL;
}

/* Expect SQL (options OPT) rewritten to WANT once its privilege guards
 * (at least one) are stripped; prints every candidate's reason when not. */
static __attribute__((unused)) void
ts_expect_sql(struct cat_snapshot *s, const char *sql, const char *want,
              const struct rw_options *opt)
{
    struct rw_outcome o = ts_rw(s, sql, opt);
    int ng;
    char *got;
    if (!o.rewritten) {
        for (size_t i = 0; i < o.n_cand; i++) {
            print_message("cand %s: %s\n", o.cand[i].mv_name, o.cand[i].reason);
        }
        fail_msg("not rewritten: %s", o.reason);
    }
    got = ts_strip_guards(o.sql, &ng);
    assert_true(ng >= 1); /* every rewritten block carries its privilege guard */
    assert_string_equal(got, want);
    free(got);
    rw_outcome_free(&o);
}

/* Expect SQL (options OPT) not rewritten, with view NAME rejected for a
 * reason containing WHY. */
static __attribute__((unused)) void
ts_expect_reject(struct cat_snapshot *s, const char *sql, const char *name, const char *why,
                 const struct rw_options *opt)
{
    struct rw_outcome o = ts_rw(s, sql, opt);
    const struct rw_candidate *c;
    if (o.rewritten) {
        fail_msg("unexpected rewrite: %s", o.sql);
    }
    c = ts_cand(&o, name);
    assert_int_equal(c->status, RW_CAND_REJECTED);
    if (strstr(c->reason, why) == NULL) {
        fail_msg("reason '%s' lacks '%s'", c->reason, why);
    }
    rw_outcome_free(&o);
}

#endif /* RW_TEST_EXPECT_H */
