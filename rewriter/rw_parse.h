/*
 * rw_parse.h - the libpg_query wrapper: MariaDB text goes through the
 * dialect bridge (rw_dialect.h), is parsed with pg_query_parse_protobuf and
 * unpacked into an owned protobuf tree. Node locations are byte offsets
 * into the translated text; rw_parse_orig() maps them back to offsets in
 * the ORIGINAL text, and the token array of the original text lets callers
 * read literals and find the ends of expressions (libpg_query gives start
 * locations only).
 */
#ifndef RW_PARSE_H
#define RW_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <pg_query.h>
#include <pg_query/pg_query.pb-c.h>

#include "rw_dialect.h"
#include "rw_lex.h"

/* A parsed statement and everything needed to splice its original text. */
struct rw_parse {
    const char *src;                /* original text (borrowed) */
    size_t src_len;                 /* bytes in src */
    struct rw_dialect_out d;        /* translated text + offset map (owned) */
    PgQuery__ParseResult *tree;     /* unpacked parse tree (owned) */
    struct rw_tok *toks;            /* tokens of the original text, EOF-terminated (owned) */
    size_t n_toks;                  /* tokens without the EOF */
    uint32_t mode;                  /* RW_MODE_* flags the text was lexed under (rw_sqlmode.h);
                                       re-lex p->src with rw_lex_init_mode(.., mode) */
};

/*
 * Translate and parse LEN bytes of MariaDB SQL at SQL into P (caller frees
 * with rw_parse_free, also on failure). SQL is borrowed for P's life.
 * Returns 0, or -1 with a message in *ERR (caller frees) and, when ERR_POS
 * is not NULL, the 0-based offset of the error in the original text.
 * A statement over the budgets of rw_limits.h (size, tokens, estimated
 * depth) is refused before it is parsed, with the reason in *ERR, so no
 * caller ever gets a tree deeper than the limit (issue 9 item 1).
 */
int rw_parse_sql(const char *sql, size_t len, struct rw_parse *p, char **err, size_t *err_pos);

/*
 * rw_parse_sql for text issued under the sql_mode flags MODE (RW_MODE_*,
 * base/rw_sqlmode.h): lexed and translated as MariaDB reads it under that
 * mode (rw_dialect_translate_mode). RW_MODE_UNSUPPORTED: -1 with
 * "sql_mode ... is not modelled" in *ERR. Mode 0 is rw_parse_sql.
 */
int rw_parse_sql_mode(const char *sql, size_t len, uint32_t mode, struct rw_parse *p,
                      char **err, size_t *err_pos);

/* Free what P owns and zero it. */
void rw_parse_free(struct rw_parse *p);

/* Original offset of translated location LOC (-1 → 0). */
size_t rw_parse_orig(const struct rw_parse *p, int32_t loc);

/* Index of the first original token starting at or after OFF (n_toks when none). */
size_t rw_parse_tok_at(const struct rw_parse *p, size_t off);

/*
 * End offset (exclusive, original text) of the expression starting at
 * original offset OFF: scans tokens balancing parentheses and stops before
 * a ',' ')' ';' or one of the clause keywords (FROM, WHERE, GROUP, HAVING,
 * ORDER, LIMIT, AS, UNION, ...) at depth 0. Trailing comments excluded.
 */
size_t rw_parse_expr_end(const struct rw_parse *p, size_t off);

/*
 * Original text of the literal whose translated location is LOC (a number
 * with an optional sign, a string with its _charset or N introducer if it
 * has one, TRUE/FALSE/NULL, or a typed literal such as DATE '2024-01-01').
 * Returns a new string (caller frees) or NULL when
 * LOC does not start a literal or on OOM.
 */
char *rw_parse_literal(const struct rw_parse *p, int32_t loc);

/* The name of node case NC for messages ("FuncCall", ...). */
const char *rw_node_name(const PgQuery__Node *n);

#endif /* RW_PARSE_H */
