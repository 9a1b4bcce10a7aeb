/*
 * test_rw_limits.c - the analysis budgets of base/rw_limits.h (issue 9
 * items 1 and 4): the token-stream depth estimate, rw_parse_sql refusing
 * deep / big statements before libpg_query builds a tree, real BI shapes
 * (100-term sums, 1,000-item IN lists, 200-WHEN CASEs, 500-term OR chains)
 * still parsed and rewritten, the stack a statement at the default limit
 * needs (run on a thread with a quarter of RW_PARSE_STACK_BYTES), and the
 * time budget giving up with a reason.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "rw_limits.h"
#include "rw_parse.h"
#include "rw_test_snap.h"

static const struct rw_limits defaults = {RW_DEFAULT_MAX_BYTES, RW_DEFAULT_MAX_TOKENS,
                                          RW_DEFAULT_MAX_DEPTH, RW_DEFAULT_TIME_BUDGET_MS};

enum shape {
    SUM,        /* SELECT SUM(region_id+region_id+...) FROM raw_sales */
    PARENS,     /* SELECT ((((1)))) */
    SUBQ,       /* WHERE region_id IN (SELECT ... WHERE region_id IN (...)) */
    NOTS,       /* WHERE NOT NOT ... region_id = 1 */
    FUNCS,      /* SELECT abs(abs(...(1))) */
    CASES,      /* CASE WHEN .. THEN CASE WHEN .. THEN ... END END */
    UNIONS,     /* SELECT .. UNION SELECT .. UNION ... */
    DERIVED,    /* SELECT * FROM (SELECT * FROM (...) t1) t0 */
    ORS,        /* WHERE region_id = 0 OR region_id = 1 OR ... */
    INLIST,     /* WHERE region_id IN (0, 1, ...) */
    WHENS,      /* CASE WHEN region_id = 0 THEN 0 WHEN ... END */
    ANDS,       /* WHERE region_id <> 0 AND region_id <> 1 AND ... */
};

/* The statement of shape K with N repetitions (caller frees). */
static char *
make(enum shape k, int n)
{
    size_t cap = (size_t)n * 80 + 200;
    char *b = malloc(cap), *q = b;
    int i;
    if (b == NULL) {
        abort();
    }
    switch (k) {
    case SUM:
        q += sprintf(q, "SELECT region_id, SUM(sale_amount");
        for (i = 1; i < n; i++) {
            q += sprintf(q, "+sale_amount");
        }
        sprintf(q, ") FROM raw_sales GROUP BY region_id");
        break;
    case PARENS:
    case FUNCS:
        q += sprintf(q, "SELECT ");
        for (i = 0; i < n; i++) {
            q += sprintf(q, k == FUNCS ? "abs(" : "(");
        }
        *q++ = '1';
        for (i = 0; i < n; i++) {
            *q++ = ')';
        }
        *q = '\0';
        break;
    case SUBQ:
        q += sprintf(q, "SELECT region_id FROM raw_sales WHERE region_id IN ");
        for (i = 0; i < n; i++) {
            q += sprintf(q, "(SELECT region_id FROM raw_sales WHERE region_id IN ");
        }
        q += sprintf(q, "(1)");
        for (i = 0; i < n; i++) {
            *q++ = ')';
        }
        *q = '\0';
        break;
    case NOTS:
        q += sprintf(q, "SELECT region_id FROM raw_sales WHERE ");
        for (i = 0; i < n; i++) {
            q += sprintf(q, "NOT ");
        }
        sprintf(q, "region_id = 1");
        break;
    case CASES:
        q += sprintf(q, "SELECT ");
        for (i = 0; i < n; i++) {
            q += sprintf(q, "CASE WHEN region_id = 1 THEN ");
        }
        q += sprintf(q, "1");
        for (i = 0; i < n; i++) {
            q += sprintf(q, " END");
        }
        sprintf(q, " FROM raw_sales");
        break;
    case UNIONS:
        q += sprintf(q, "SELECT region_id FROM raw_sales");
        for (i = 1; i < n; i++) {
            q += sprintf(q, " UNION SELECT region_id FROM raw_sales");
        }
        break;
    case DERIVED:
        q += sprintf(q, "SELECT * FROM ");
        for (i = 0; i < n; i++) {
            q += sprintf(q, "(SELECT * FROM ");
        }
        q += sprintf(q, "raw_sales");
        for (i = 0; i < n; i++) {
            q += sprintf(q, ") t%d", i);
        }
        break;
    case ORS:
    case ANDS:
        q += sprintf(q, "SELECT region_id, SUM(sale_amount) FROM raw_sales WHERE ");
        for (i = 0; i < n; i++) {
            q += sprintf(q, k == ORS ? "%sregion_id = %d" : "%sregion_id <> %d",
                         i == 0 ? "" : k == ORS ? " OR " : " AND ", i);
        }
        sprintf(q, " GROUP BY region_id");
        break;
    case INLIST:
        q += sprintf(q, "SELECT region_id, SUM(sale_amount) FROM raw_sales WHERE region_id IN (");
        for (i = 0; i < n; i++) {
            q += sprintf(q, "%s%d", i == 0 ? "" : ",", i);
        }
        sprintf(q, ") GROUP BY region_id");
        break;
    case WHENS:
        q += sprintf(q, "SELECT CASE");
        for (i = 0; i < n; i++) {
            q += sprintf(q, " WHEN region_id = %d THEN %d", i, i);
        }
        sprintf(q, " END AS c, SUM(sale_amount) FROM raw_sales GROUP BY 1");
        break;
    }
    return b;
}

static unsigned
depth_of(const char *sql)
{
    size_t n;
    struct rw_tok *t = rw_lex_all(sql, strlen(sql), &n);
    unsigned d = rw_lex_depth(sql, strlen(sql), t, n);
    free(t);
    return d;
}

/* rw_parse_sql(SQL): 0, or -1 with *REFUSED telling a budget refusal. */
static int
parse(const char *sql, bool *refused)
{
    struct rw_parse p;
    char *err = NULL;
    int rc = rw_parse_sql(sql, strlen(sql), &p, &err, NULL);
    *refused = rw_limits_refused(err);
    free(err);
    rw_parse_free(&p);
    return rc;
}

/* Depth estimates grow with the nesting they stand for and stay small for flat lists. */
static void
test_estimate(void **state)
{
    char *s;
    (void)state;
    s = make(SUM, 5000);
    assert_true(depth_of(s) >= 4999);
    free(s);
    s = make(PARENS, 10000);
    assert_true(depth_of(s) >= 10000);
    free(s);
    s = make(SUBQ, 300);
    assert_true(depth_of(s) >= 300 * 5);
    free(s);
    s = make(UNIONS, 1000);
    assert_true(depth_of(s) >= 1000);
    free(s);
    s = make(INLIST, 100000);
    assert_true(depth_of(s) < 20);
    free(s);
    s = make(WHENS, 200);
    assert_true(depth_of(s) < 20);
    free(s);
    s = make(ANDS, 100000);
    assert_true(depth_of(s) < 20);
    free(s);
}

/* Deep statements are refused before parsing; the message says why. */
static void
test_deep_refused(void **state)
{
    static const struct {
        enum shape k;
        int n;
    } deep[] = {{SUM, 5000}, {PARENS, 10000}, {SUBQ, 300}, {NOTS, 2000}, {FUNCS, 3000},
                {CASES, 1000}, {UNIONS, 2000}, {DERIVED, 1000}};
    (void)state;
    rw_limits_set(&defaults);
    for (size_t i = 0; i < sizeof(deep) / sizeof(deep[0]); i++) {
        char *s = make(deep[i].k, deep[i].n);
        bool refused = false;
        assert_int_equal(parse(s, &refused), -1);
        assert_true(refused);
        free(s);
    }
}

/* Real BI shapes stay under the default limit and parse. */
static void
test_bi_sql_parses(void **state)
{
    static const struct {
        enum shape k;
        int n;
    } ok[] = {{SUM, 100}, {INLIST, 1000}, {WHENS, 200}, {ORS, 500}, {ANDS, 2000},
              {SUBQ, 20}, {UNIONS, 100}, {DERIVED, 50}, {PARENS, 100}};
    (void)state;
    rw_limits_set(&defaults);
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        char *s = make(ok[i].k, ok[i].n);
        bool refused = true;
        if (parse(s, &refused) != 0) {
            fail_msg("shape %d x %d did not parse (depth %u)", ok[i].k, ok[i].n, depth_of(s));
        }
        free(s);
    }
}

/* A 100-term sum, a 1,000-item IN list and a 500-term OR chain are still rewritten. */
static void
test_bi_sql_rewritten(void **state)
{
    static const struct {
        enum shape k;
        int n;
    } ok[] = {{INLIST, 1000}, {ORS, 500}, {ANDS, 500}};
    struct cat_snapshot *s = ts_base();
    struct rw_options opt = {true, true, 5000, 0};
    (void)state;
    rw_limits_set(&defaults);
    ts_view(s, "test", "mv_r",
            "SELECT region_id, SUM(sale_amount) AS amt FROM raw_sales GROUP BY region_id",
            "region_id int,amt decimal(34,2)", 10);
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        char *sql = make(ok[i].k, ok[i].n);
        struct rw_outcome out;
        memset(&out, 0, sizeof(out));
        assert_int_equal(rw_rewrite(sql, strlen(sql), "test", s, &opt, &out), 0);
        if (!out.rewritten) {
            fail_msg("shape %d x %d not rewritten: %s", ok[i].k, ok[i].n, out.reason);
        }
        rw_outcome_free(&out);
        free(sql);
    }
    ts_free(s);
}

struct deep_run {
    const char *sql;            /* statement */
    struct cat_snapshot *snap;  /* catalog */
};

static void *
deep_main(void *arg)
{
    struct deep_run *r = arg;
    struct rw_options opt = {true, true, 5000, 0};
    struct rw_outcome out;
    bool refused;
    memset(&out, 0, sizeof(out));
    (void)parse(r->sql, &refused);
    (void)rw_rewrite(r->sql, strlen(r->sql), "test", r->snap, &opt, &out);
    rw_outcome_free(&out);
    return NULL;
}

/*
 * Statements just under the default depth limit parse and rewrite on a
 * thread with a quarter of the stack every parsing thread gets: a 4x
 * margin (a crash here means the limit or RW_PARSE_STACK_BYTES is wrong).
 */
static void
test_stack_margin(void **state)
{
    static const struct {
        enum shape k;
        int n;
    } edge[] = {{SUM, 990}, {NOTS, 990}, {PARENS, 495}, {FUNCS, 495}, {CASES, 495},
                {SUBQ, 160}, {UNIONS, 195}, {DERIVED, 160}};
    struct cat_snapshot *s = ts_base();
    (void)state;
    rw_limits_set(&defaults);
    ts_view(s, "test", "mv_r",
            "SELECT region_id, SUM(sale_amount) AS amt FROM raw_sales GROUP BY region_id",
            "region_id int,amt decimal(34,2)", 10);
    for (size_t i = 0; i < sizeof(edge) / sizeof(edge[0]); i++) {
        char *sql = make(edge[i].k, edge[i].n);
        struct deep_run r = {sql, s};
        pthread_attr_t a;
        pthread_t th;
        bool refused = true;
        unsigned d = depth_of(sql);
        if (d > RW_DEFAULT_MAX_DEPTH || d < RW_DEFAULT_MAX_DEPTH * 8 / 10 ||
            parse(sql, &refused) != 0) {
            fail_msg("shape %d x %d: depth %u is not just under the limit", edge[i].k,
                     edge[i].n, d);
        }
        assert_int_equal(pthread_attr_init(&a), 0);
        assert_int_equal(pthread_attr_setstacksize(&a, RW_PARSE_STACK_BYTES / 4), 0);
        assert_int_equal(pthread_create(&th, &a, deep_main, &r), 0);
        assert_int_equal(pthread_join(th, NULL), 0);
        pthread_attr_destroy(&a);
        free(sql);
    }
    ts_free(s);
}

/* The size and token budgets refuse before lexing / parsing, and 0 means no limit. */
static void
test_size_budget(void **state)
{
    struct rw_limits l = defaults;
    bool refused = false;
    char *s = make(INLIST, 1000);
    (void)state;
    l.max_bytes = 1000;
    rw_limits_set(&l);
    assert_true(rw_limits_too_big(strlen(s)));
    assert_int_equal(parse(s, &refused), -1);
    assert_true(refused);
    l.max_bytes = 0;
    l.max_tokens = 500;
    rw_limits_set(&l);
    assert_false(rw_limits_too_big(strlen(s)));
    assert_int_equal(parse(s, &refused), -1);
    assert_true(refused);
    l.max_tokens = 0;
    rw_limits_set(&l);
    assert_int_equal(parse(s, &refused), 0);
    rw_limits_set(&defaults);
    free(s);
}

/* Matching that runs over the time budget gives up: nothing rewritten, the reason says so. */
static void
test_time_budget(void **state)
{
    struct cat_snapshot *s = ts_base();
    struct rw_options opt = {true, true, 5000, 0};
    struct rw_limits l = defaults;
    struct rw_outcome out;
    char *sql = make(UNIONS, 150);
    (void)state;
    for (int i = 0; i < 10; i++) {
        char name[32], def[128];
        snprintf(name, sizeof(name), "mv_r%d", i);
        snprintf(def, sizeof(def), "SELECT region_id, category_id FROM raw_sales");
        ts_view(s, "test", name, def, "region_id int,category_id int", 10 + i);
    }
    l.time_budget_ms = 0; /* no budget: rewritten (slow builds included) */
    rw_limits_set(&l);
    memset(&out, 0, sizeof(out));
    assert_int_equal(rw_rewrite(sql, strlen(sql), "test", s, &opt, &out), 0);
    if (!out.rewritten) {
        fail_msg("not rewritten: %.200s", out.reason);
    }
    rw_outcome_free(&out);
    l.time_budget_ms = 1;
    rw_limits_set(&l);
    for (int explain = 1; explain >= 0; explain--) {
        opt.explain = explain != 0;
        memset(&out, 0, sizeof(out));
        assert_int_equal(rw_rewrite(sql, strlen(sql), "test", s, &opt, &out), 0);
        assert_false(out.rewritten);
        assert_non_null(strstr(out.reason, "time budget of 1 ms"));
        for (size_t i = 0; i < out.n_cand; i++) {
            assert_int_not_equal(out.cand[i].status, RW_CAND_CHOSEN);
        }
        rw_outcome_free(&out);
    }
    rw_limits_set(&defaults);
    free(sql);
    ts_free(s);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_estimate),        cmocka_unit_test(test_deep_refused),
        cmocka_unit_test(test_bi_sql_parses),   cmocka_unit_test(test_bi_sql_rewritten),
        cmocka_unit_test(test_stack_margin),    cmocka_unit_test(test_size_budget),
        cmocka_unit_test(test_time_budget),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
