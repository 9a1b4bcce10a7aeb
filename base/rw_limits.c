/*
 * rw_limits.c - size, depth and time budgets of the analysis of one
 * statement (rw_limits.h), and the token-stream depth estimate that lets
 * rw_parse_sql refuse a statement before libpg_query builds a tree deep
 * enough to overflow a thread's stack.
 */
#include "rw_limits.h"

#include <limits.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

static struct rw_limits g_limits = {
    RW_DEFAULT_MAX_BYTES, RW_DEFAULT_MAX_TOKENS, RW_DEFAULT_MAX_DEPTH, RW_DEFAULT_TIME_BUDGET_MS};

void
rw_limits_set(const struct rw_limits *l)
{
    g_limits = *l;
    if (g_limits.max_depth == 0) {
        g_limits.max_depth = 1;
    }
    if (g_limits.max_depth > RW_MAX_DEPTH_CEILING) {
        g_limits.max_depth = RW_MAX_DEPTH_CEILING;
    }
    atomic_thread_fence(memory_order_release);
}

const struct rw_limits *
rw_limits_get(void)
{
    return &g_limits;
}

bool
rw_limits_too_big(size_t len)
{
    return g_limits.max_bytes != 0 && len > g_limits.max_bytes;
}

int64_t
rw_limits_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

bool
rw_limits_refused(const char *err)
{
    return err != NULL && strncmp(err, RW_LIMITS_REFUSED, strlen(RW_LIMITS_REFUSED)) == 0;
}

int
rw_thread_attr_init(pthread_attr_t *a, bool detached)
{
    int rc = pthread_attr_init(a);
    if (rc != 0) {
        return rc;
    }
    rc = pthread_attr_setstacksize(a, RW_PARSE_STACK_BYTES);
    if (rc == 0 && detached) {
        rc = pthread_attr_setdetachstate(a, PTHREAD_CREATE_DETACHED);
    }
    if (rc != 0) {
        pthread_attr_destroy(a);
    }
    return rc;
}

int
rw_thread_create(pthread_t *t, void *(*fn)(void *), void *arg, bool detached)
{
    pthread_attr_t a;
    int rc = rw_thread_attr_init(&a, detached);
    if (rc != 0) {
        return rc;
    }
    rc = pthread_create(t, &a, fn, arg);
    pthread_attr_destroy(&a);
    return rc;
}

/* True when TOK (an IDENT) is one of the NULL-terminated WORDS. */
static bool
is_word(const struct rw_lexer *lx, struct rw_tok tok, const char *const *words)
{
    if (tok.kind != RW_TOK_IDENT) {
        return false;
    }
    for (size_t i = 0; words[i] != NULL; i++) {
        if (rw_tok_is(lx, tok, words[i])) {
            return true;
        }
    }
    return false;
}

#define MAX_PAREN 8192 /* levels tracked; deeper is over any limit anyway */

unsigned
rw_lex_depth(const char *src, size_t src_len, const struct rw_tok *toks, size_t n)
{
    /* binary/unary operators written as words: each is one tree level */
    static const char *const op_words[] = {
        "XOR", "NOT", "IS", "LIKE", "ILIKE", "BETWEEN", "IN", "DIV", "MOD",
        "REGEXP", "RLIKE", "COLLATE", "ESCAPE", "SOUNDS", "BINARY", "INTERVAL", NULL};
    /* words after which a new, independent expression starts at this level */
    /* AND / OR: the parser flattens a chain of one kind into one BoolExpr
     * list (PostgreSQL's makeAndExpr / makeOrExpr), so a boolean chain is
     * flat: each operand is its own expression, like list items */
    static const char *const restart[] = {
        "AND", "OR", "WHEN", "THEN", "ELSE", "FROM", "WHERE", "GROUP", "HAVING", "ORDER", "LIMIT", "ON",
        "USING", "BY", "WINDOW", "PARTITION", "OFFSET", "VALUES", "SET", NULL};
    /* set operations chain left-deep, like operators, and never restart */
    static const char *const setops[] = {"UNION", "EXCEPT", "INTERSECT", "MINUS", NULL};
    struct level {
        unsigned base;      /* structural levels of this paren level (SELECT, UNION) */
        unsigned expr;      /* operators of the expression being read */
        bool is_case;       /* opened by CASE (closed by END) */
    };
    static _Thread_local struct level stack[MAX_PAREN];
    struct rw_lexer lx;
    size_t top = 0;             /* stack[0] is the statement level */
    unsigned long long sum = 0; /* base + expr over the open levels */
    unsigned long long best = 0;

    rw_lex_init(&lx, src, src_len);
    memset(&stack[0], 0, sizeof(stack[0]));
    for (size_t i = 0; i < n; i++) {
        struct rw_tok t = toks[i];
        unsigned add = 0;
        bool open = false, close = false, reset = false, is_case = false;
        if (t.kind == RW_TOK_OP) {
            if (rw_tok_is_op(&lx, t, "(")) {
                open = true;
            } else if (rw_tok_is_op(&lx, t, ")")) {
                close = true;
            } else if (rw_tok_is_op(&lx, t, ",") || rw_tok_is_op(&lx, t, ";")) {
                reset = true;
            } else if (!rw_tok_is_op(&lx, t, ".")) {
                add = 1;
            }
        } else if (t.kind == RW_TOK_IDENT) {
            if (rw_tok_is(&lx, t, "CASE")) {
                open = is_case = true;
            } else if (rw_tok_is(&lx, t, "END") && top > 0 && stack[top].is_case) {
                close = true;
            } else if (rw_tok_is(&lx, t, "SELECT")) {
                stack[top].base += 3;
                sum += 3;
            } else if (is_word(&lx, t, setops)) {
                stack[top].base += 2;
                sum += 2;
                reset = true;
            } else if (is_word(&lx, t, restart)) {
                reset = true;
            } else if (is_word(&lx, t, op_words)) {
                add = 1;
            }
        }
        if (reset) {
            sum -= stack[top].expr;
            stack[top].expr = 0;
        }
        if (add > 0) {
            stack[top].expr += add;
            sum += add;
        }
        if (open) {
            if (top + 1 >= MAX_PAREN) {
                return UINT_MAX;
            }
            top++;
            stack[top].base = 0;
            stack[top].expr = 0;
            stack[top].is_case = is_case;
            sum += 2;
            stack[top].base = 2;
        }
        if (close && top > 0) {
            sum -= stack[top].base + stack[top].expr;
            top--;
            /* the closed group is one operand of its level's chain */
        }
        if (sum > best) {
            best = sum;
        }
    }
    return best > UINT_MAX ? UINT_MAX : (unsigned)best;
}
