/*
 * px_stmt.c - lexing and classifying a COM_QUERY once for the whole query
 * path (see px_stmt.h). The rules are the ones px_dispatch.c applied with a
 * fresh lexer per step before issue 10; hint tokens are skipped exactly
 * where those steps skipped them.
 */
#include "px_stmt.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cat_util.h"
#include "rw_limits.h"

/* Lex one more token into ST; false when the EOF was lexed already or out of memory. */
static bool
lex_one(struct px_stmt *st)
{
    if (st->done) {
        return false;
    }
    if (st->n_tok == st->cap) {
        size_t cap = st->cap ? 2 * st->cap : 16;
        struct rw_tok *grown = realloc(st->tok, cap * sizeof(*grown));
        if (grown == NULL) {
            return false;
        }
        st->tok = grown;
        st->cap = cap;
    }
    st->tok[st->n_tok] = rw_lex_next(&st->lx);
    st->done = st->tok[st->n_tok].kind == RW_TOK_EOF;
    st->n_tok++;
    return true;
}

struct rw_tok
px_stmt_tok(struct px_stmt *st, size_t i)
{
    struct rw_tok eof = {RW_TOK_EOF, st->len, 0};
    while (st->n_tok <= i && lex_one(st)) {
    }
    return i < st->n_tok ? st->tok[i] : eof;
}

const struct rw_tok *
px_stmt_all(struct px_stmt *st, size_t *n)
{
    while (lex_one(st)) {
    }
    if (!st->done) {
        return NULL; /* out of memory */
    }
    *n = st->n_tok - 1;
    return st->tok;
}

/* Index of the first non-hint token at or after I. */
static size_t
skip_hints(struct px_stmt *st, size_t i)
{
    while (px_stmt_tok(st, i).kind == RW_TOK_HINT) {
        i++;
    }
    return i;
}

/*
 * `SET [SESSION|LOCAL|@@session.|@@] name`: which of the proxy's session
 * variables NAME is (SPEC §3); *ARG is the index of the token after it.
 */
static enum px_set_var
session_set_var(struct px_stmt *st, size_t *arg)
{
    struct rw_tok t;
    size_t i = 0;
    char *name = NULL;
    enum px_set_var v = PX_SET_NONE;

    t = px_stmt_tok(st, i++);
    if (!rw_tok_is(&st->lx, t, "SET")) {
        return PX_SET_NONE;
    }
    t = px_stmt_tok(st, i++);
    if (rw_tok_is(&st->lx, t, "SESSION") || rw_tok_is(&st->lx, t, "LOCAL")) {
        t = px_stmt_tok(st, i++);
    }
    if (t.kind == RW_TOK_VAR) {
        /* @@session.enable_materialized_view_rewrite or @@enable_... */
        size_t skip = 2;
        const char *p = st->sql + t.off;
        if (t.len > 10 && strncasecmp(p, "@@session.", 10) == 0) {
            skip = 10;
        } else if (t.len < 3 || p[1] != '@') {
            return PX_SET_NONE;
        }
        name = strndup(p + skip, t.len - skip);
    } else if (t.kind == RW_TOK_IDENT || t.kind == RW_TOK_QIDENT) {
        name = rw_tok_text(&st->lx, t);
    }
    if (name == NULL) {
        return PX_SET_NONE;
    }
    if (strcasecmp(name, "enable_materialized_view_rewrite") == 0) {
        v = PX_SET_REWRITE;
    } else if (strcasecmp(name, "materialized_view_rewrite_explain") == 0) {
        v = PX_SET_REWRITE_EXPLAIN;
    }
    free(name);
    *arg = i;
    return v;
}

/* Leading keyword class of a statement whose first non-hint token is token FIRST. */
static enum px_stmt_kind
lexical_kind(struct px_stmt *st, size_t first)
{
    struct rw_lexer *lx = &st->lx;
    size_t i = first;
    struct rw_tok t = px_stmt_tok(st, i);

    if (rw_tok_is(lx, t, "SELECT") || rw_tok_is(lx, t, "WITH") || rw_tok_is_op(lx, t, "(")) {
        /* the whole text is the query: leading hints stay in it */
        st->body_off = 0;
        st->body_tok = 0;
        return PX_STMT_SELECT;
    }
    if (rw_tok_is(lx, t, "EXPLAIN") || rw_tok_is(lx, t, "DESCRIBE") || rw_tok_is(lx, t, "DESC")) {
        /* EXPLAIN [EXTENDED|PARTITIONS|FORMAT=JSON] SELECT ...: the body is
         * rewritten so the plan shows what really runs (SPEC §8). */
        for (;;) {
            t = px_stmt_tok(st, ++i);
            if (rw_tok_is(lx, t, "EXTENDED") || rw_tok_is(lx, t, "PARTITIONS")) {
                continue;
            }
            if (rw_tok_is(lx, t, "FORMAT")) {
                i += 2;                         /* = JSON */
                continue;
            }
            break;
        }
        if (rw_tok_is(lx, t, "SELECT") || rw_tok_is(lx, t, "WITH")) {
            st->body_off = t.off;
            st->body_tok = i;
            return PX_STMT_EXPLAIN;
        }
        return PX_STMT_OTHER;
    }
    if (rw_tok_is(lx, t, "INSERT") || rw_tok_is(lx, t, "REPLACE") ||
        rw_tok_is(lx, t, "UPDATE") || rw_tok_is(lx, t, "DELETE") ||
        rw_tok_is(lx, t, "TRUNCATE") || rw_tok_is(lx, t, "LOAD") ||
        rw_tok_is(lx, t, "ALTER") || rw_tok_is(lx, t, "DROP") ||
        rw_tok_is(lx, t, "RENAME")) {
        return PX_STMT_WRITE;
    }
    return PX_STMT_OTHER;
}

void
px_stmt_classify(struct px_stmt *st, const char *sql, size_t len)
{
    px_stmt_classify_mode(st, sql, len, 0);
}

void
px_stmt_classify_mode(struct px_stmt *st, const char *sql, size_t len, uint32_t mode)
{
    size_t first, i, k;
    enum cat_admin_claim claim;

    st->sql = sql;
    st->len = len;
    rw_lex_init_mode(&st->lx, sql, len, mode & RW_MODE_HONOURED);
    st->set_var = session_set_var(st, &st->set_arg);
    if (st->set_var != PX_SET_NONE) {
        st->kind = PX_STMT_SESSION_SET;
        return;
    }
    first = skip_hints(st, 0);
    for (i = 0, k = first; i < 3; i++) {
        st->lead[i] = px_stmt_tok(st, k);
        if (i < 2) {
            k = skip_hints(st, k + 1);
        }
    }
    claim = cat_admin_claim(sql, st->lead);
    if (claim == CAT_CLAIM_OURS) {
        st->kind = PX_STMT_ADMIN;
        return;
    }
    st->kind = lexical_kind(st, first);
    /* most SELECTs name neither table function: a substring test spares
     * the admin parser (and lexing them all); one over the size budget is
     * relayed anyway, so it is not even scanned */
    st->admin_maybe = claim == CAT_CLAIM_PARSE &&
                      (st->kind != PX_STMT_SELECT ||
                       (!rw_limits_too_big(len) && (cat_contains_ci(sql, len, "mv_infos") ||
                                                    cat_contains_ci(sql, len, "tasks"))));
}

bool
px_stmt_is_insert_select(struct px_stmt *st)
{
    struct rw_lexer *lx = &st->lx;
    struct rw_tok t = px_stmt_tok(st, 0);
    size_t i;
    /* the first token as lexed, a leading hint not skipped (as before issue 10) */
    if (!rw_tok_is(lx, t, "INSERT") && !rw_tok_is(lx, t, "REPLACE")) {
        return false;
    }
    for (i = 1, t = px_stmt_tok(st, i); t.kind != RW_TOK_EOF; t = px_stmt_tok(st, ++i)) {
        if (rw_tok_is(lx, t, "SELECT")) {
            return true;
        }
        if (rw_tok_is(lx, t, "VALUES") || rw_tok_is(lx, t, "VALUE") || rw_tok_is(lx, t, "SET")) {
            return false;
        }
    }
    return false;
}

void
px_stmt_free(struct px_stmt *st)
{
    free(st->tok);
    memset(st, 0, sizeof(*st));
}
