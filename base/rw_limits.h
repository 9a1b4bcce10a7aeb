/*
 * rw_limits.h - the bounds on how much work the proxy spends analysing one
 * statement (SPEC §2: "a statement the proxy cannot analyse within bounded
 * depth, size and time is relayed unchanged"; issue 9 items 1 and 4).
 *
 *   size    statements longer than max_bytes, or of more than max_tokens
 *           tokens, are not analysed (no parse, no view-name pre-filter);
 *   depth   the nesting of the parse tree is estimated from the token
 *           stream (rw_lex_depth) BEFORE libpg_query builds the tree, whose
 *           output, unpack and our own walkers all recurse once per level;
 *           over max_depth the statement is not parsed;
 *   time    rw_rewrite gives up matching once time_budget_ms has passed
 *           (checked per SELECT block and per candidate view).
 *
 * Over any bound the caller relays the statement unchanged (the rewriter
 * reports it like a parse failure, with the reason, which EXPLAIN REWRITE
 * shows on its NOT_REWRITTEN row). The bounds are process-wide, set once at
 * startup from the configuration (px_conf.c) before threads start; every
 * thread that parses runs with RW_PARSE_STACK_BYTES of stack, enough for
 * max_depth with a wide margin (measured in tests/unit/test_rw_limits.c).
 */
#ifndef RW_LIMITS_H
#define RW_LIMITS_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rw_lex.h"

#define RW_DEFAULT_MAX_BYTES (1u << 20)     /* 1 MiB of statement text */
#define RW_DEFAULT_MAX_TOKENS 200000u       /* lexer tokens */
#define RW_DEFAULT_MAX_DEPTH 1000u          /* estimated tree depth (rw_lex_depth) */
#define RW_DEFAULT_TIME_BUDGET_MS 200u      /* matching time per statement */
#define RW_MAX_DEPTH_CEILING 4000u          /* what RW_PARSE_STACK_BYTES is sized for */

/* Stack for every thread that parses SQL (workers, admin, catalog): 32 MiB
 * of virtual memory. Measured (RelWithDebInfo, parse + rewrite with
 * EXPLAIN): the worst shapes at estimate 4000 (a 4000-term sum, 4000 NOTs,
 * 2000 nested CASEs) need between 4 and 8 MiB, so the default limit 1000
 * has a margin of 16x and the ceiling 4x; test_rw_limits checks the
 * default limit's worst shapes on an 8 MiB thread. */
#define RW_PARSE_STACK_BYTES ((size_t)32 << 20)

struct rw_limits {
    size_t max_bytes;           /* statement text, bytes; 0 = no limit */
    size_t max_tokens;          /* lexer tokens; 0 = no limit */
    unsigned max_depth;         /* estimated tree depth, 1..RW_MAX_DEPTH_CEILING */
    unsigned time_budget_ms;    /* rewrite decision time, ms; 0 = no limit */
};

/* Install L process-wide (copied; max_depth clamped to 1..RW_MAX_DEPTH_CEILING).
 * Call before threads start or from tests. */
void rw_limits_set(const struct rw_limits *l);

/* The limits in force (defaults until rw_limits_set is called). */
const struct rw_limits *rw_limits_get(void);

/* True when LEN bytes of text exceed the size budget (max_bytes). */
bool rw_limits_too_big(size_t len);

/*
 * Estimate the depth of the parse tree of the statement whose N tokens TOKS
 * lex SRC (SRC_LEN bytes), without parsing it: two per open parenthesis or
 * CASE, plus every operator of the left-deep chains that are open at that
 * point (a+a+...+a, NOT NOT ..., a||b||..., UNION chains), three per
 * SELECT (a subquery's SubLink/SelectStmt/ResTarget levels). A comma,
 * AND/OR (the parser flattens their chains into one list), WHEN/THEN/ELSE
 * and a clause keyword end an expression (the chain of its level
 * restarts). Returns the maximum over the statement; it is
 * never below the real depth in operator/paren units. O(N), no allocation
 * beyond a stack of MAX_PAREN levels: deeper than that returns UINT_MAX.
 */
unsigned rw_lex_depth(const char *src, size_t src_len, const struct rw_tok *toks, size_t n);

/*
 * Initialise A (caller destroys it with pthread_attr_destroy) for a thread
 * that may parse SQL: stack RW_PARSE_STACK_BYTES, DETACHED when DETACHED.
 * Returns 0 or an errno value (A is then destroyed).
 */
int rw_thread_attr_init(pthread_attr_t *a, bool detached);

/*
 * pthread_create(T, attributes of rw_thread_attr_init(DETACHED), FN, ARG):
 * the way every thread that may parse SQL is started. Returns 0 or an
 * errno value (no thread started).
 */
int rw_thread_create(pthread_t *t, void *(*fn)(void *), void *arg, bool detached);

/* True when ERR (may be NULL) is a refusal of rw_parse_sql for a budget
 * (its message starts with RW_LIMITS_REFUSED) rather than a syntax error. */
#define RW_LIMITS_REFUSED "statement not analysed"
bool rw_limits_refused(const char *err);

/* Monotonic clock in ms (CLOCK_MONOTONIC), for time budgets. */
int64_t rw_limits_now_ms(void);

#endif /* RW_LIMITS_H */
