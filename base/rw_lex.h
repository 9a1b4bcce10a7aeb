/*
 * rw_lex.h - a MySQL/MariaDB lexer: splits statement text into tokens with
 * their byte offsets in the original text. Used by the dialect bridge
 * (rewriter/rw_dialect.c), the front door (proxy/px_stmt.c), the admin
 * statement parser (engine/cat_parse.c) and the write-statement scanner
 * (engine/cat_fresh.c). It never fails: bytes it cannot classify become
 * RW_TOK_OTHER tokens.
 *
 * Follows the MariaDB KB "Identifier Names", "String Literals", "Comment
 * Syntax" pages: backtick identifiers (`` doubled), '...' and "..." strings
 * with backslash escapes and doubled quotes, 0x/X'..' and b'..' literals,
 * #, "-- " and C comments, and executable comments.
 *
 * Notes on the contract (rw_lex.c):
 * - a digit run followed by identifier bytes that do not form a number is
 *   one IDENT ("1abc", "0xzz", "2e"); ".5" is a NUMBER unless it directly
 *   follows an identifier or backtick ("t.5col" is t . 5col);
 * - RW_TOK_VAR covers @name, @'name', @"name", @`name`, @@name and
 *   @@scope.name; a lone "@" is an OP;
 * - N'..' and _charset'..' lex as IDENT then STRING; X'..' / b'..' are one
 *   NUMBER; an unterminated string, identifier or comment runs to the end;
 * - executable comments: the marker and 5- or 6-digit version are skipped,
 *   and any "* /" met outside a comment is skipped (it closes the
 *   executable comment; the lexer keeps no state), except "* / *", which is
 *   "*" followed by a comment;
 * - rw_tok_text: a \0 escape decodes to a NUL byte, so the C string ends
 *   there; \% and \_ stay two bytes, as MariaDB keeps them for LIKE.
 */
#ifndef RW_LEX_H
#define RW_LEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rw_sqlmode.h"

enum rw_tok_kind {
    RW_TOK_EOF = 0,     /* end of input (len 0) */
    RW_TOK_IDENT,       /* bare identifier or keyword: SELECT, raw_sales */
    RW_TOK_QIDENT,      /* `quoted identifier`, or "quoted" under ANSI_QUOTES (off/len include
                           the quotes; the first byte tells which) */
    RW_TOK_STRING,      /* 'text', or "text" unless ANSI_QUOTES (off/len include the quotes) */
    RW_TOK_NUMBER,      /* 12, 1.5, .5e3, 0x1F, X'1F', b'01' */
    RW_TOK_PARAM,       /* ? placeholder */
    RW_TOK_OP,          /* operator or punctuation: ( ) , . ; = <> != <= >= <=> || && := + - * / % ... */
    RW_TOK_VAR,         /* @user_var or @@system_var */
    RW_TOK_HINT,        /* optimizer hint comment: / *+ ... * / (off/len cover the comment) */
    RW_TOK_OTHER,       /* anything else (one byte) */
};

struct rw_tok {
    enum rw_tok_kind kind;  /* token class */
    size_t off;             /* byte offset in the input */
    size_t len;             /* length in bytes */
};

struct rw_lexer {
    const char *src;        /* input text (borrowed, not NUL-terminated necessarily) */
    size_t len;             /* input length in bytes */
    size_t pos;             /* next byte to scan */
    uint32_t mode;          /* RW_MODE_* flags (rw_sqlmode.h) the text is read under; 0 = default */
};

/* Start lexing LEN bytes at SRC (borrowed for the lexer's life) under
 * MariaDB's default sql_mode (mode 0). */
void rw_lex_init(struct rw_lexer *lx, const char *src, size_t len);

/*
 * Start lexing LEN bytes at SRC (borrowed) as MariaDB reads them under the
 * sql_mode flags MODE (RW_MODE_*, rw_sqlmode.h; other bits are ignored by
 * the lexer): RW_MODE_ANSI_QUOTES makes "..." a quoted identifier
 * (RW_TOK_QIDENT, "" doubling, no escapes); RW_MODE_NO_BACKSLASH_ESCAPES
 * makes a backslash an ordinary byte in strings (and rw_tok_text decodes
 * them so). Sources: MariaDB KB "SQL_MODE", "Identifier Names", "String
 * Literals". Mode 0 is rw_lex_init.
 */
void rw_lex_init_mode(struct rw_lexer *lx, const char *src, size_t len, uint32_t mode);

/* Next token, skipping white space and ordinary comments (hint comments
 * "/ *+ ... * /" are returned as RW_TOK_HINT; executable comments
 * "/ *! ... * /" and "/ *M! ... * /" are lexed as their content). */
struct rw_tok rw_lex_next(struct rw_lexer *lx);

/* True when TOK is an IDENT equal to WORD, ignoring ASCII case. */
bool rw_tok_is(const struct rw_lexer *lx, struct rw_tok tok, const char *word);

/* True when TOK is an OP token equal to OP exactly ("(", "<=", ...). */
bool rw_tok_is_op(const struct rw_lexer *lx, struct rw_tok tok, const char *op);

/*
 * Copy the value of TOK into a new NUL-terminated string (caller frees):
 * an identifier unquoted (`x` or, under ANSI_QUOTES, "x": quotes removed,
 * the doubled quote -> one), a string literal unquoted and unescaped
 * (\n, \t, \0, \\, \', \", doubled quotes; no backslash escapes when LX's
 * mode has RW_MODE_NO_BACKSLASH_ESCAPES), other tokens verbatim. TOK must
 * come from a lexer with LX's mode. Returns NULL only on out-of-memory.
 */
char *rw_tok_text(const struct rw_lexer *lx, struct rw_tok tok);

/*
 * Tokenize all of SRC (LEN bytes) into a malloc'd array ending with an
 * RW_TOK_EOF token; stores the count (without EOF) in *N. Caller frees.
 */
struct rw_tok *rw_lex_all(const char *src, size_t len, size_t *n);

/* rw_lex_all under the sql_mode flags MODE (see rw_lex_init_mode). */
struct rw_tok *rw_lex_all_mode(const char *src, size_t len, uint32_t mode, size_t *n);

/* A byte range of a text: OFF bytes from its start, LEN bytes long. */
struct rw_span {
    size_t off;
    size_t len;
};

/*
 * Split a multi-statement text (a COM_QUERY sent with
 * CLIENT_MULTI_STATEMENTS; MariaDB KB "Multiple Statements") at its
 * top-level `;` tokens. TOK holds NTOK tokens of LX's whole text (hints
 * included, the RW_TOK_EOF not counted: what rw_lex_all_mode returns), lexed
 * by LX under the session's sql_mode; LX gives the text and compares words.
 * On success *SPANS (malloc'd, caller frees) holds *N >= 1 statements in
 * order; each span runs from the byte after the previous `;` (or 0) to the
 * byte before its own `;` (or the end), so leading comments and white space
 * stay with their statement; a `;` and white space or comments at the very
 * end add no statement. Returns:
 *    1  split (*N may be 1: a single statement);
 *    0  not split: the text holds a compound statement whose body has `;` of
 *       its own (BEGIN NOT ATOMIC ... END, IF / CASE / LOOP / WHILE / REPEAT /
 *       FOR at a statement's start, a label `l:`, CREATE ... BEGIN), two or
 *       more statements and an executable comment (a `;` inside one would
 *       be read as a separator), an empty statement between two `;` (the
 *       server answers ERR 1065), or no statement at all;
 *   -1  out of memory.
 * *SPANS is NULL and *N 0 unless 1 is returned.
 */
int rw_split_statements(const struct rw_lexer *lx, const struct rw_tok *tok, size_t ntok,
                        struct rw_span **spans, size_t *n);

#endif /* RW_LEX_H */
