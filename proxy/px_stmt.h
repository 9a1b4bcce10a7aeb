/*
 * px_stmt.h - the classified statement: the query path lexes a COM_QUERY
 * once (rewriter/rw_lex.h) and every later step - session SET, the admin
 * recogniser and parser, the SELECT pre-filter - reads the same tokens.
 *
 *   text ──px_stmt_classify──> kind + leading words ──┬ SESSION_SET  px_dispatch answers
 *        (lexes only the first words)                 ├ ADMIN        cat_admin_recognise_toks
 *                                                     ├ SELECT / EXPLAIN / WRITE  rewrite path
 *                                                     └ OTHER        relay
 *
 * Tokens are lexed on demand and kept: classification reads the first few,
 * a whole-statement scan (px_stmt_all) lexes the rest once. The caller
 * checks the size budget (rw_limits_too_big) before asking for them all,
 * so an oversized statement is never lexed beyond its first words.
 */
#ifndef PX_STMT_H
#define PX_STMT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cat_admin.h"
#include "rw_lex.h"

enum px_stmt_kind {
    PX_STMT_OTHER = 0,              /* anything else: relayed */
    PX_STMT_SESSION_SET,            /* SET enable_materialized_view_rewrite / ..._explain */
    PX_STMT_ADMIN,                  /* the proxy's own grammar by its leading words */
    PX_STMT_SELECT,                 /* SELECT / WITH / ( */
    PX_STMT_EXPLAIN,                /* EXPLAIN / DESCRIBE [options] SELECT | WITH */
    PX_STMT_WRITE,                  /* INSERT REPLACE UPDATE DELETE TRUNCATE LOAD ALTER DROP
                                     * RENAME */
};

/* Which session variable a PX_STMT_SESSION_SET sets. */
enum px_set_var {
    PX_SET_NONE = 0,
    PX_SET_REWRITE,                 /* enable_materialized_view_rewrite */
    PX_SET_REWRITE_EXPLAIN,         /* materialized_view_rewrite_explain (reserved, SPEC §3) */
};

/* A classified statement; zero it, fill with px_stmt_classify, free with px_stmt_free. */
struct px_stmt {
    enum px_stmt_kind kind;         /* what it is */
    bool admin_maybe;               /* SELECT naming mv_infos / tasks, ALTER TABLE: the
                                     * admin parser decides; when it declines, KIND stands */
    const char *sql;                /* statement text (borrowed, not NUL-terminated) */
    size_t len;                     /* its length, bytes */
    struct rw_tok lead[3];          /* the first three non-hint tokens (EOF past the end) */
    size_t body_off;                /* SELECT / EXPLAIN: byte offset of the query to rewrite */
    size_t body_tok;                /* ... and the index of its first token */
    enum px_set_var set_var;        /* SESSION_SET: the variable */
    size_t set_arg;                 /* SESSION_SET: index of the token after its name */
    /* lexed so far (lazily): */
    struct rw_lexer lx;             /* over sql; also for rw_tok_is / rw_tok_text */
    struct rw_tok *tok;             /* tokens, hints included (owned) */
    size_t n_tok;                   /* tokens lexed, the EOF included once reached */
    size_t cap;                     /* allocated entries */
    bool done;                      /* the EOF has been lexed */
};

/*
 * Classify LEN bytes at SQL (borrowed for ST's life) into ST (zeroed by the
 * caller). Lexes only the leading tokens it needs; never fails (out of
 * memory classifies as OTHER). Free with px_stmt_free.
 */
void px_stmt_classify(struct px_stmt *st, const char *sql, size_t len);

/*
 * px_stmt_classify for text issued under the session's sql_mode flags MODE
 * (RW_MODE_*, base/rw_sqlmode.h; 0 = MariaDB's default): every token of
 * ST is lexed under it (rw_lex_init_mode), so "x" is a name under
 * ANSI_QUOTES. px_stmt_classify is mode 0.
 */
void px_stmt_classify_mode(struct px_stmt *st, const char *sql, size_t len, uint32_t mode);

/* Token I of ST (hints included), lexing on demand; RW_TOK_EOF past the end. */
struct rw_tok px_stmt_tok(struct px_stmt *st, size_t i);

/*
 * Lex the rest of ST and return all its tokens (borrowed from ST: N tokens
 * plus the closing RW_TOK_EOF, as rw_lex_all would), or NULL when out of
 * memory. Check the size budget first: this reads the whole text.
 */
const struct rw_tok *px_stmt_all(struct px_stmt *st, size_t *n);

/* INSERT/REPLACE ... SELECT (SPEC §7): the SELECT body is a rewrite candidate.
 * Lexes up to the SELECT, VALUES or SET that decides. */
bool px_stmt_is_insert_select(struct px_stmt *st);

/* Free what ST owns and zero it. */
void px_stmt_free(struct px_stmt *st);

#endif /* PX_STMT_H */
