/*
 * rw_parse.c - dialect bridge + libpg_query parse into an owned tree, and
 * helpers that read the ORIGINAL text back (literals, expression ends) via
 * the bridge's offset map and the MariaDB lexer.
 */
#include "rw_parse.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rw_limits.h"
#include "rw_sqlmode.h"
#include "rw_util.h"

int
rw_parse_sql(const char *sql, size_t len, struct rw_parse *p, char **err, size_t *err_pos)
{
    return rw_parse_sql_mode(sql, len, 0, p, err, err_pos);
}

int
rw_parse_sql_mode(const char *sql, size_t len, uint32_t mode, struct rw_parse *p, char **err,
                  size_t *err_pos)
{
    PgQueryProtobufParseResult r;
    const struct rw_limits *lim;
    unsigned depth;

    memset(p, 0, sizeof(*p));
    p->src = sql;
    p->src_len = len;
    p->mode = mode;
    if (err_pos != NULL) {
        *err_pos = 0;
    }
    if ((mode & RW_MODE_UNSUPPORTED) != 0) {
        *err = rw_strdup("the session's sql_mode is not modelled (a mode other than ANSI_QUOTES, "
                         "PIPES_AS_CONCAT, NO_BACKSLASH_ESCAPES, IGNORE_SPACE and the harmless "
                         "ones of base/rw_sqlmode.h)");
        return -1;
    }
    lim = rw_limits_get();
    if (rw_limits_too_big(len)) {
        *err = rw_sprintf("statement not analysed: %zu bytes, over the size budget of %zu bytes "
                          "(max_statement_bytes)", len, lim->max_bytes);
        return -1;
    }
    p->toks = rw_lex_all_mode(sql, len, mode, &p->n_toks);
    if (p->toks == NULL) {
        *err = rw_strdup("out of memory");
        return -1;
    }
    if (lim->max_tokens != 0 && p->n_toks > lim->max_tokens) {
        *err = rw_sprintf("statement not analysed: %zu tokens, over the budget of %zu tokens "
                          "(max_statement_tokens)", p->n_toks, lim->max_tokens);
        return -1;
    }
    depth = rw_lex_depth(sql, len, p->toks, p->n_toks);
    if (depth > lim->max_depth) {
        *err = rw_sprintf("statement not analysed: nested too deeply (depth estimate %u, limit "
                          "%u, max_parse_depth)", depth, lim->max_depth);
        return -1;
    }
    if (rw_dialect_translate_mode(sql, len, mode, &p->d) != 0) {
        char names[96];

        *err = mode == 0 ? rw_strdup("statement uses MariaDB syntax the rewriter cannot translate")
                         : rw_sprintf("statement uses MariaDB syntax the rewriter cannot translate "
                                      "under sql_mode %s",
                                      rw_sql_mode_names(mode, names, sizeof(names)));
        return -1;
    }
    r = pg_query_parse_protobuf(p->d.text);
    if (r.error != NULL) {
        size_t pos = r.error->cursorpos > 0 ? (size_t)r.error->cursorpos - 1 : 0;
        pos = rw_dialect_orig(&p->d, pos);
        if (err_pos != NULL) {
            *err_pos = pos;
        }
        *err = rw_sprintf("syntax error at offset %zu: %s", pos, r.error->message);
        pg_query_free_protobuf_parse_result(r);
        return -1;
    }
    p->tree = pg_query__parse_result__unpack(NULL, r.parse_tree.len,
                                             (const uint8_t *)r.parse_tree.data);
    pg_query_free_protobuf_parse_result(r);
    if (p->tree == NULL) {
        *err = rw_strdup("cannot unpack parse tree");
        return -1;
    }
    return 0;
}

void
rw_parse_free(struct rw_parse *p)
{
    if (p->tree != NULL) {
        pg_query__parse_result__free_unpacked(p->tree, NULL);
    }
    rw_dialect_free(&p->d);
    free(p->toks);
    memset(p, 0, sizeof(*p));
}

size_t
rw_parse_orig(const struct rw_parse *p, int32_t loc)
{
    return rw_dialect_orig(&p->d, loc < 0 ? 0 : (size_t)loc);
}

size_t
rw_parse_tok_at(const struct rw_parse *p, size_t off)
{
    size_t lo = 0, hi = p->n_toks;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (p->toks[mid].off < off) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo;
}

/* True when token I of P is the identifier WORD (any case). */
static bool
tok_is(const struct rw_parse *p, size_t i, const char *word)
{
    struct rw_lexer lx;
    rw_lex_init_mode(&lx, p->src, p->src_len, p->mode);
    return i < p->n_toks && rw_tok_is(&lx, p->toks[i], word);
}

/* True when token I of P is the operator OP. */
static bool
tok_op(const struct rw_parse *p, size_t i, const char *op)
{
    struct rw_lexer lx;
    rw_lex_init_mode(&lx, p->src, p->src_len, p->mode);
    return i < p->n_toks && rw_tok_is_op(&lx, p->toks[i], op);
}

size_t
rw_parse_expr_end(const struct rw_parse *p, size_t off)
{
    static const char *const stop[] = {
        "FROM", "WHERE", "GROUP", "HAVING", "ORDER", "LIMIT", "AS", "UNION", "INTO",
        "WINDOW", "FOR", "LOCK", "PROCEDURE", "EXCEPT", "INTERSECT", "ASC", "DESC",
        "OFFSET", NULL};
    static const char *const units[] = {
        "MICROSECOND", "SECOND", "MINUTE", "HOUR", "DAY", "WEEK", "MONTH", "QUARTER", "YEAR",
        "SECOND_MICROSECOND", "MINUTE_MICROSECOND", "MINUTE_SECOND", "HOUR_MICROSECOND",
        "HOUR_SECOND", "HOUR_MINUTE", "DAY_MICROSECOND", "DAY_SECOND", "DAY_MINUTE", "DAY_HOUR",
        "YEAR_MONTH", NULL};
    size_t i = rw_parse_tok_at(p, off), end = off;
    int depth = 0;
    bool first = true;
    bool interval = false; /* an INTERVAL at depth 0 waits for its unit word */
    for (; i < p->n_toks; i++) {
        if (depth == 0 && interval && !tok_is(p, i - 1, "INTERVAL") &&
            p->toks[i].kind == RW_TOK_IDENT) {
            size_t k;
            for (k = 0; units[k] != NULL && !tok_is(p, i, units[k]); k++) {
            }
            if (units[k] != NULL) {
                /* INTERVAL expr UNIT: the unit is not an implicit alias */
                interval = false;
                end = p->toks[i].off + p->toks[i].len;
                continue;
            }
        }
        if (depth == 0 && tok_is(p, i, "INTERVAL")) {
            interval = true;
        }
        if (depth == 0 && !first) {
            size_t k;
            bool is_stop = false;
            if (tok_op(p, i, ",") || tok_op(p, i, ")") || tok_op(p, i, ";")) {
                break;
            }
            for (k = 0; stop[k] != NULL; k++) {
                if (tok_is(p, i, stop[k])) {
                    is_stop = true;
                    break;
                }
            }
            if (is_stop) {
                break;
            }
            /* an implicit alias: an identifier right after a complete operand */
            if ((p->toks[i].kind == RW_TOK_IDENT || p->toks[i].kind == RW_TOK_QIDENT ||
                 p->toks[i].kind == RW_TOK_STRING) &&
                i > 0 &&
                (p->toks[i - 1].kind == RW_TOK_IDENT || p->toks[i - 1].kind == RW_TOK_QIDENT ||
                 p->toks[i - 1].kind == RW_TOK_NUMBER || p->toks[i - 1].kind == RW_TOK_STRING ||
                 tok_op(p, i - 1, ")")) &&
                !tok_is(p, i - 1, "NOT") && !tok_is(p, i - 1, "AND") &&
                !tok_is(p, i - 1, "OR") && !tok_is(p, i - 1, "CASE") &&
                !tok_is(p, i - 1, "WHEN") && !tok_is(p, i - 1, "THEN") &&
                !tok_is(p, i - 1, "ELSE") && !tok_is(p, i - 1, "IS") &&
                !tok_is(p, i - 1, "DISTINCT") && !tok_is(p, i - 1, "INTERVAL") &&
                !tok_is(p, i - 1, "BINARY") && !tok_is(p, i - 1, "DATE") &&
                !tok_is(p, i - 1, "TIMESTAMP") && !tok_is(p, i - 1, "LIKE") &&
                !tok_is(p, i - 1, "BETWEEN") && !tok_is(p, i - 1, "IN") &&
                !tok_is(p, i - 1, "DIV") && !tok_is(p, i - 1, "MOD") &&
                !tok_is(p, i - 1, "XOR") && !tok_is(p, i - 1, "REGEXP") &&
                !tok_is(p, i - 1, "RLIKE") && !tok_is(p, i - 1, "ESCAPE") &&
                p->toks[i].kind == RW_TOK_IDENT && !tok_is(p, i, "END") &&
                !tok_is(p, i, "AND") && !tok_is(p, i, "OR") && !tok_is(p, i, "IS") &&
                !tok_is(p, i, "NOT") && !tok_is(p, i, "IN") && !tok_is(p, i, "LIKE") &&
                !tok_is(p, i, "BETWEEN") && !tok_is(p, i, "WHEN") &&
                !tok_is(p, i, "THEN") && !tok_is(p, i, "ELSE") && !tok_is(p, i, "DIV") &&
                !tok_is(p, i, "MOD") && !tok_is(p, i, "XOR") && !tok_is(p, i, "REGEXP") &&
                !tok_is(p, i, "RLIKE") && !tok_is(p, i, "COLLATE") &&
                !tok_is(p, i, "ESCAPE") && !tok_is(p, i, "SOUNDS") &&
                !(tok_is(p, i, "OVER") && tok_op(p, i + 1, "("))) {
                break;
            }
        }
        first = false;
        if (tok_op(p, i, "(")) {
            depth++;
        } else if (tok_op(p, i, ")")) {
            if (depth == 0) {
                break;
            }
            depth--;
        }
        end = p->toks[i].off + p->toks[i].len;
    }
    return end;
}

char *
rw_parse_literal(const struct rw_parse *p, int32_t loc)
{
    size_t off = rw_parse_orig(p, loc);
    size_t i = rw_parse_tok_at(p, off);
    size_t start, end;
    if (i >= p->n_toks || p->toks[i].off != off) {
        return NULL;
    }
    start = p->toks[i].off;
    if (tok_op(p, i, "-") || tok_op(p, i, "+")) {
        if (i + 1 >= p->n_toks || p->toks[i + 1].kind != RW_TOK_NUMBER) {
            return NULL;
        }
        end = p->toks[i + 1].off + p->toks[i + 1].len;
        return rw_strndup(p->src + start, end - start);
    }
    switch (p->toks[i].kind) {
    case RW_TOK_NUMBER:
    case RW_TOK_STRING:
        end = p->toks[i].off + p->toks[i].len;
        /* a _charset / N introducer (dropped by the bridge) belongs to the literal */
        if (p->toks[i].kind == RW_TOK_STRING && i > 0 && p->toks[i - 1].kind == RW_TOK_IDENT &&
            (p->src[p->toks[i - 1].off] == '_' ||
             (p->toks[i - 1].len == 1 && (p->src[p->toks[i - 1].off] == 'N' ||
                                          p->src[p->toks[i - 1].off] == 'n') &&
              p->toks[i - 1].off + 1 == start))) {
            start = p->toks[i - 1].off;
        }
        /* MariaDB concatenates adjacent string literals: 'a' 'b' */
        while (p->toks[i].kind == RW_TOK_STRING && i + 1 < p->n_toks &&
               p->toks[i + 1].kind == RW_TOK_STRING) {
            i++;
            end = p->toks[i].off + p->toks[i].len;
        }
        return rw_strndup(p->src + start, end - start);
    case RW_TOK_IDENT:
        if (tok_is(p, i, "TRUE") || tok_is(p, i, "FALSE") || tok_is(p, i, "NULL")) {
            return rw_strndup(p->src + start, p->toks[i].len);
        }
        if ((tok_is(p, i, "DATE") || tok_is(p, i, "TIMESTAMP") || tok_is(p, i, "TIME")) &&
            i + 1 < p->n_toks && p->toks[i + 1].kind == RW_TOK_STRING) {
            end = p->toks[i + 1].off + p->toks[i + 1].len;
            return rw_strndup(p->src + start, end - start);
        }
        return NULL;
    default:
        return NULL;
    }
}

const char *
rw_node_name(const PgQuery__Node *n)
{
    const ProtobufCFieldDescriptor *f;
    if (n == NULL) {
        return "NULL";
    }
    f = protobuf_c_message_descriptor_get_field(&pg_query__node__descriptor,
                                                (unsigned)n->node_case);
    return f != NULL ? f->name : "node";
}
