/*
 * cat_parse.c - parser of the Doris-style admin SQL for materialized views
 * (SPEC §3), on top of the MariaDB lexer (rw_lex.h). Every clause of SPEC §3
 * is accepted syntactically, including the Oracle / GaussDB(DWS) forms;
 * what a clause means is decided by cat_admin.c, which answers "not
 * supported yet" for the ones beyond the current issue. Also validates
 * PROPERTIES (known keys and their values).
 *
 *   text ──rw_lex_all──> tokens ──statement rule──> struct cat_stmt
 *                                  └ syntax error: 1064/42000 "... near '...' at position N"
 *                                    (N = 1-based byte offset of the offending token)
 */
#include "cat_parse.h"

#include "cat.h"
#include "cat_refresh_clause.h"
#include "cat_reply.h"
#include "cat_util.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cat_props.h"
#include "rw_lex.h"

/* Parser state over the token array of one statement. */
struct parser {
    const char *src;                /* statement text (borrowed) */
    size_t len;                     /* its length */
    struct rw_tok *t;               /* tokens without hints, EOF-terminated (owned) */
    size_t n;                       /* tokens without the EOF */
    size_t i;                       /* current token */
    struct rw_lexer lx;             /* for rw_tok_is / rw_tok_text */
    struct mvp_reply *err;          /* where errors go */
    bool failed;                    /* an error was reported */
};

static struct rw_tok
cur(const struct parser *p)
{
    return p->t[p->i < p->n ? p->i : p->n];
}

static struct rw_tok
peek(const struct parser *p, size_t k)
{
    return p->t[p->i + k < p->n ? p->i + k : p->n];
}

/* Report a syntax error at the current token (first error wins). */
static int
syntax_error(struct parser *p)
{
    struct rw_tok t = cur(p);
    size_t near_len;
    if (p->failed) {
        return -1;
    }
    p->failed = true;
    near_len = p->len - t.off;
    if (near_len > 40) {
        near_len = 40;
    }
    mvp_reply_err(p->err, 1064, "42000",
                  "You have an error in your SQL syntax near '%.*s' at position %zu",
                  (int)near_len, p->src + t.off, t.off + 1);
    return -1;
}

static bool
is_word(const struct parser *p, const char *w)
{
    return rw_tok_is(&p->lx, cur(p), w);
}

static bool
peek_word(const struct parser *p, size_t k, const char *w)
{
    return rw_tok_is(&p->lx, peek(p, k), w);
}

static bool
accept(struct parser *p, const char *w)
{
    if (is_word(p, w)) {
        p->i++;
        return true;
    }
    return false;
}

static int
expect(struct parser *p, const char *w)
{
    return accept(p, w) ? 0 : syntax_error(p);
}

static bool
is_op(const struct parser *p, const char *op)
{
    return rw_tok_is_op(&p->lx, cur(p), op);
}

static bool
accept_op(struct parser *p, const char *op)
{
    if (is_op(p, op)) {
        p->i++;
        return true;
    }
    return false;
}

static int
expect_op(struct parser *p, const char *op)
{
    return accept_op(p, op) ? 0 : syntax_error(p);
}

static bool
at_end(const struct parser *p)
{
    size_t j = p->i;
    while (j < p->n && rw_tok_is_op(&p->lx, p->t[j], ";")) {
        j++;
    }
    return j >= p->n;
}

static int
expect_end(struct parser *p)
{
    if (!at_end(p)) {
        return syntax_error(p);
    }
    p->i = p->n;
    return 0;
}

/* Identifier (bare or `quoted`) into *OUT (owned). */
static int
ident(struct parser *p, char **out)
{
    struct rw_tok t = cur(p);
    if (t.kind != RW_TOK_IDENT && t.kind != RW_TOK_QIDENT) {
        return syntax_error(p);
    }
    *out = rw_tok_text(&p->lx, t);
    p->i++;
    return 0;
}

/* [db.]name */
static int
qname(struct parser *p, char **db, char **name)
{
    char *a = NULL, *b = NULL;
    if (ident(p, &a) < 0) {
        return -1;
    }
    if (accept_op(p, ".")) {
        if (ident(p, &b) < 0) {
            free(a);
            return -1;
        }
        *db = a;
        *name = b;
        return 0;
    }
    *db = NULL;
    *name = a;
    return 0;
}

/* 'string' or "string" into *OUT (owned). */
static int
string_lit(struct parser *p, char **out)
{
    struct rw_tok t = cur(p);
    if (t.kind != RW_TOK_STRING) {
        return syntax_error(p);
    }
    *out = rw_tok_text(&p->lx, t);
    p->i++;
    return 0;
}

/* Unsigned integer literal into *OUT. */
static int
number(struct parser *p, int64_t *out)
{
    struct rw_tok t = cur(p);
    char buf[32];
    char *end;
    long long v;
    if (t.kind != RW_TOK_NUMBER || t.len >= sizeof(buf)) {
        return syntax_error(p);
    }
    memcpy(buf, p->src + t.off, t.len);
    buf[t.len] = '\0';
    errno = 0;
    v = strtoll(buf, &end, 10);
    if (errno != 0 || *end != '\0' || v < 0) {
        return syntax_error(p);
    }
    *out = v;
    p->i++;
    return 0;
}

/* Skip a balanced parenthesised group starting at '('; returns 0 / -1. */
static int
skip_group(struct parser *p)
{
    int depth = 0;
    if (!is_op(p, "(")) {
        return syntax_error(p);
    }
    do {
        if (p->i >= p->n) {
            return syntax_error(p);
        }
        if (is_op(p, "(")) {
            depth++;
        } else if (is_op(p, ")")) {
            depth--;
        }
        p->i++;
    } while (depth > 0);
    return 0;
}

/* "key" = "value" {, ...} inside ( ), appended to ST->props. */
static int
prop_list(struct parser *p, struct cat_stmt *st)
{
    if (expect_op(p, "(") < 0) {
        return -1;
    }
    if (accept_op(p, ")")) {
        return 0;
    }
    for (;;) {
        struct rw_tok kt = cur(p), vt;
        char *key, *val;
        size_t j;
        if (kt.kind != RW_TOK_STRING && kt.kind != RW_TOK_IDENT && kt.kind != RW_TOK_QIDENT) {
            return syntax_error(p);
        }
        p->i++;
        if (expect_op(p, "=") < 0) {
            return -1;
        }
        vt = cur(p);
        if (vt.kind != RW_TOK_STRING && vt.kind != RW_TOK_NUMBER && vt.kind != RW_TOK_IDENT) {
            return syntax_error(p);
        }
        p->i++;
        key = rw_tok_text(&p->lx, kt);
        val = rw_tok_text(&p->lx, vt);
        for (j = 0; key[j] != '\0'; j++) {
            key[j] = (char)tolower((unsigned char)key[j]);
        }
        st->props = realloc(st->props, (st->n_props + 1) * sizeof(*st->props));
        if (st->props == NULL) {
            abort();
        }
        st->props[st->n_props].key = key;
        st->props[st->n_props].value = val;
        st->n_props++;
        if (accept_op(p, ",")) {
            continue;
        }
        return expect_op(p, ")");
    }
}

/*
 * Refresh clause after the REFRESH keyword:
 *   [COMPLETE|AUTO|NEVER|FAST|FORCE]
 *   [ON {MANUAL | COMMIT | DEMAND | SCHEDULE EVERY n unit [STARTS 'ts']}]
 *   [START WITH (...)] [EVERY (INTERVAL 'x') | EVERY INTERVAL 'x']
 */
static int
refresh_clause(struct parser *p, struct cat_refresh_clause *rc)
{
    bool any = false;
    if (accept(p, "COMPLETE")) {
        rc->method = CAT_RM_COMPLETE;
        any = true;
    } else if (accept(p, "AUTO")) {
        rc->method = CAT_RM_AUTO;
        any = true;
    } else if (accept(p, "NEVER")) {
        rc->method = CAT_RM_NEVER;
        any = true;
    } else if (accept(p, "FAST")) {
        rc->method = CAT_RM_FAST;
        any = true;
    } else if (accept(p, "FORCE")) {
        rc->method = CAT_RM_AUTO;
        any = true;
    }
    if (accept(p, "ON")) {
        any = true;
        if (accept(p, "MANUAL")) {
            rc->trigger = CAT_RT_MANUAL;
        } else if (accept(p, "DEMAND")) {
            rc->trigger = CAT_RT_DEMAND;
        } else if (accept(p, "COMMIT")) {
            rc->trigger = CAT_RT_COMMIT;
        } else if (accept(p, "SCHEDULE")) {
            static const char *const units[] = {"MINUTE", "HOUR", "DAY", "WEEK", "SECOND",
                                                "MONTH"};
            size_t u;
            rc->trigger = CAT_RT_SCHEDULE;
            if (expect(p, "EVERY") < 0 || number(p, &rc->every_n) < 0) {
                return -1;
            }
            for (u = 0; u < sizeof(units) / sizeof(units[0]); u++) {
                if (accept(p, units[u])) {
                    rc->unit = cat_xstrdup(units[u]);
                    break;
                }
            }
            if (rc->unit == NULL) {
                return syntax_error(p);
            }
            if (accept(p, "STARTS") && string_lit(p, &rc->starts) < 0) {
                return -1;
            }
        } else {
            return syntax_error(p);
        }
    }
    if (is_word(p, "START") && peek_word(p, 1, "WITH")) {
        p->i += 2;
        any = true;
        if (is_op(p, "(")) {
            if (skip_group(p) < 0) {
                return -1;
            }
        } else {
            char *ignored = NULL;
            if (string_lit(p, &ignored) < 0) {
                return -1;
            }
            free(ignored);
        }
    }
    if (accept(p, "EVERY")) {
        bool paren = accept_op(p, "(");
        any = true;
        rc->trigger = CAT_RT_EVERY;
        if (expect(p, "INTERVAL") < 0 || string_lit(p, &rc->interval) < 0) {
            return -1;
        }
        if (paren && expect_op(p, ")") < 0) {
            return -1;
        }
    }
    return any ? 0 : syntax_error(p);
}

/* ( col [COMMENT 'x'], ... ) */
static int
column_list(struct parser *p, struct cat_stmt *st)
{
    if (expect_op(p, "(") < 0) {
        return -1;
    }
    for (;;) {
        char *name = NULL, *comment = NULL;
        if (ident(p, &name) < 0) {
            return -1;
        }
        if (accept(p, "COMMENT") && string_lit(p, &comment) < 0) {
            free(name);
            return -1;
        }
        st->col_names = realloc(st->col_names, (st->n_cols + 1) * sizeof(char *));
        st->col_comments = realloc(st->col_comments, (st->n_cols + 1) * sizeof(char *));
        if (st->col_names == NULL || st->col_comments == NULL) {
            abort();
        }
        st->col_names[st->n_cols] = name;
        st->col_comments[st->n_cols] = comment;
        st->n_cols++;
        if (accept_op(p, ",")) {
            continue;
        }
        return expect_op(p, ")");
    }
}

/* Record the rest of the statement (after the current token) as the query. */
static int
query_tail(struct parser *p, struct cat_stmt *st)
{
    size_t last;
    if (at_end(p)) {
        return syntax_error(p);
    }
    st->query_off = cur(p).off;
    last = p->n;
    while (last > p->i && rw_tok_is_op(&p->lx, p->t[last - 1], ";")) {
        last--;
    }
    st->query_len = p->t[last - 1].off + p->t[last - 1].len - st->query_off;
    p->i = p->n;
    return 0;
}

/*
 * EXPLAIN REWRITE: the query is the original text right after REWRITE up to
 * the end (less a trailing ';' and white space), comments and hints
 * included, so the summary row shows the statement exactly as it would be
 * sent (SPEC §8).
 */
static int
explain_tail(struct parser *p, struct cat_stmt *st)
{
    size_t start, end;
    if (at_end(p)) {
        return syntax_error(p);
    }
    start = p->t[p->i - 1].off + p->t[p->i - 1].len;
    while (start < p->len && isspace((unsigned char)p->src[start])) {
        start++;
    }
    end = p->len;
    while (end > start && (isspace((unsigned char)p->src[end - 1]) || p->src[end - 1] == ';')) {
        end--;
    }
    st->query_off = start;
    st->query_len = end - start;
    p->i = p->n;
    return 0;
}

static int ident_list(struct parser *p, char ***cols, size_t *n);

/*
 * One index clause of CREATE, after KEY (IS_KEY: the view's key, named
 * "mvp_key"; a second one is a syntax error) or after INDEX (then: name
 * (cols)). Appended to ST->indexes. Whether the columns exist is checked
 * once the storage table does (cat_index_check).
 */
static int
index_clause(struct parser *p, struct cat_stmt *st, bool is_key)
{
    struct cat_mv_index ix;
    size_t i;
    memset(&ix, 0, sizeof(ix));
    if (is_key) {
        for (i = 0; i < st->n_indexes; i++) {
            if (st->indexes[i].is_key) {
                p->i--; /* point at the clause given twice */
                return syntax_error(p);
            }
        }
        ix.name = cat_xstrdup("mvp_key");
        ix.is_key = true;
    } else if (ident(p, &ix.name) < 0) {
        return -1;
    }
    if (ident_list(p, &ix.cols, &ix.n_cols) < 0) {
        free(ix.name);
        cat_strv_free(ix.cols, ix.n_cols);
        return -1;
    }
    st->indexes = realloc(st->indexes, (st->n_indexes + 1) * sizeof(*st->indexes));
    if (st->indexes == NULL) {
        abort();
    }
    st->indexes[st->n_indexes++] = ix;
    return 0;
}

static int
parse_create(struct parser *p, struct cat_stmt *st)
{
    st->kind = CAT_ST_CREATE;
    st->rewrite = -1;
    if (is_word(p, "IF")) {
        p->i++;
        if (expect(p, "NOT") < 0 || expect(p, "EXISTS") < 0) {
            return -1;
        }
        st->if_not_exists = true;
    }
    if (qname(p, &st->db, &st->name) < 0) {
        return -1;
    }
    if (is_op(p, "(") && column_list(p, st) < 0) {
        return -1;
    }
    while (!p->failed) {
        if (accept(p, "AS")) {
            return query_tail(p, st);
        }
        if (accept(p, "BUILD")) {
            if (accept(p, "IMMEDIATE")) {
                st->build = 1;
            } else if (accept(p, "DEFERRED")) {
                st->build = 2;
            } else {
                return syntax_error(p);
            }
        } else if ((is_word(p, "REFRESH") ||
                    (is_word(p, "NEVER") && peek_word(p, 1, "REFRESH"))) && st->has_refresh) {
            return syntax_error(p); /* a clause given twice (found by fuzz_admin) */
        } else if (is_word(p, "PARTITION") && st->partition_by != NULL) {
            return syntax_error(p);
        } else if (accept(p, "REFRESH")) {
            st->has_refresh = true;
            if (refresh_clause(p, &st->refresh) < 0) {
                return -1;
            }
        } else if (is_word(p, "NEVER") && peek_word(p, 1, "REFRESH")) {
            p->i += 2;
            st->has_refresh = true;
            st->refresh.method = CAT_RM_NEVER;
        } else if (accept(p, "PARTITION")) {
            size_t start;
            if (expect(p, "BY") < 0) {
                return -1;
            }
            start = cur(p).off;
            if (is_op(p, "(")) {
                if (skip_group(p) < 0) {
                    return -1;
                }
            } else {
                char *fn = NULL;
                if (ident(p, &fn) < 0) {
                    return -1;
                }
                free(fn);
                if (is_op(p, "(") && skip_group(p) < 0) {
                    return -1;
                }
            }
            st->partition_by = cat_xstrndup(p->src + start, p->t[p->i - 1].off +
                                                                p->t[p->i - 1].len - start);
        } else if (accept(p, "DISTRIBUTED")) {
            if (expect(p, "BY") < 0) {
                return -1;
            }
            if (accept(p, "HASH")) {
                if (skip_group(p) < 0) {
                    return -1;
                }
            } else if (!accept(p, "RANDOM")) {
                return syntax_error(p);
            }
            if (accept(p, "BUCKETS")) {
                int64_t nb;
                if (!accept(p, "AUTO") && number(p, &nb) < 0) {
                    return -1;
                }
            }
            st->distributed = true;
        } else if (((is_word(p, "DUPLICATE") || is_word(p, "UNIQUE") || is_word(p, "AGGREGATE")) &&
                    peek_word(p, 1, "KEY")) ||
                   (is_word(p, "KEY") && rw_tok_is_op(&p->lx, peek(p, 1), "(")) ||
                   (is_word(p, "ORDER") && peek_word(p, 1, "BY"))) {
            /* the view's KEY: Doris [DUPLICATE] KEY (cols), StarRocks ORDER BY (cols) */
            p->i += is_word(p, "KEY") ? 1 : 2;
            if (index_clause(p, st, true) < 0) {
                return -1;
            }
        } else if (is_word(p, "INDEX") && !rw_tok_is_op(&p->lx, peek(p, 1), "(")) {
            p->i++;
            if (index_clause(p, st, false) < 0) {
                return -1;
            }
        } else if (accept(p, "COMMENT")) {
            free(st->comment);
            st->comment = NULL;
            accept_op(p, "=");
            if (string_lit(p, &st->comment) < 0) {
                return -1;
            }
        } else if (accept(p, "PROPERTIES")) {
            if (prop_list(p, st) < 0) {
                return -1;
            }
        } else if (is_word(p, "WITH") && rw_tok_is_op(&p->lx, peek(p, 1), "(")) {
            p->i++;
            if (skip_group(p) < 0) {
                return -1;
            }
            st->with_options = true;
        } else if ((is_word(p, "ENABLE") || is_word(p, "DISABLE")) && peek_word(p, 1, "QUERY")) {
            st->rewrite = is_word(p, "ENABLE") ? 1 : 0;
            p->i += 2;
            if (expect(p, "REWRITE") < 0) {
                return -1;
            }
        } else {
            return syntax_error(p);
        }
    }
    return -1;
}

/* ( ident {, ident} ) into *COLS / *N (owned). */
static int
ident_list(struct parser *p, char ***cols, size_t *n)
{
    if (expect_op(p, "(") < 0) {
        return -1;
    }
    for (;;) {
        char *c = NULL;
        if (ident(p, &c) < 0) {
            return -1;
        }
        *cols = realloc(*cols, (*n + 1) * sizeof(**cols));
        if (*cols == NULL) {
            abort();
        }
        (*cols)[(*n)++] = c;
        if (accept_op(p, ",")) {
            continue;
        }
        return expect_op(p, ")");
    }
}

static int
parse_refresh(struct parser *p, struct cat_stmt *st)
{
    st->kind = CAT_ST_REFRESH;
    if (qname(p, &st->db, &st->name) < 0) {
        return -1;
    }
    if (accept(p, "COMPLETE")) {
        st->refresh_mode = CAT_RM_COMPLETE;
    } else if (accept(p, "AUTO")) {
        st->refresh_mode = CAT_RM_AUTO;
    } else if (accept(p, "FAST")) {
        st->refresh_mode = CAT_RM_FAST; /* incremental where safe (cat_incr.c) */
    } else if (accept(p, "PARTITIONS") || accept(p, "PARTITION")) {
        st->refresh_mode = CAT_RM_PARTITIONS;
        if (ident_list(p, &st->parts, &st->n_parts) < 0) {
            return -1;
        }
    } else {
        /* Doris requires a mode; AUTO is what it would pick, so accept the bare form. */
        st->refresh_mode = CAT_RM_AUTO;
    }
    return expect_end(p);
}

static int
parse_alter(struct parser *p, struct cat_stmt *st)
{
    if (qname(p, &st->db, &st->name) < 0) {
        return -1;
    }
    st->rewrite = -1;
    if (accept(p, "RENAME")) {
        st->kind = CAT_ST_ALTER_RENAME;
        accept(p, "TO");
        if (qname(p, &st->new_db, &st->new_name) < 0) {
            return -1;
        }
    } else if (accept(p, "REFRESH")) {
        st->kind = CAT_ST_ALTER_REFRESH;
        st->has_refresh = true;
        if (refresh_clause(p, &st->refresh) < 0) {
            return -1;
        }
    } else if (accept(p, "SET")) {
        st->kind = CAT_ST_ALTER_SET;
        if (prop_list(p, st) < 0) {
            return -1;
        }
    } else if (accept(p, "ADD")) {
        /* ADD {INDEX | KEY} name (col, ...): an index of the storage table */
        st->kind = CAT_ST_ALTER_INDEX;
        if (!accept(p, "INDEX") && expect(p, "KEY") < 0) {
            return -1;
        }
        if (ident(p, &st->con_name) < 0 || ident_list(p, &st->parts, &st->n_parts) < 0) {
            return -1;
        }
    } else if (accept(p, "DROP")) {
        st->kind = CAT_ST_ALTER_INDEX;
        st->index_drop = true;
        if (!accept(p, "INDEX") && expect(p, "KEY") < 0) {
            return -1;
        }
        if (ident(p, &st->con_name) < 0) {
            return -1;
        }
    } else if ((is_word(p, "ENABLE") || is_word(p, "DISABLE")) && peek_word(p, 1, "QUERY")) {
        st->kind = CAT_ST_ALTER_SET;
        st->rewrite = is_word(p, "ENABLE") ? 1 : 0;
        p->i += 2;
        if (expect(p, "REWRITE") < 0) {
            return -1;
        }
    } else {
        return syntax_error(p);
    }
    return expect_end(p);
}

/* ---- informational constraints: ALTER TABLE ... NOT ENFORCED ---- */

void
cat_con_spec_free(struct cat_con_spec *spec)
{
    if (spec == NULL) {
        return;
    }
    free(spec->name);
    cat_strv_free(spec->cols, spec->n_cols);
    free(spec->ref_db);
    free(spec->ref_name);
    cat_strv_free(spec->ref_cols, spec->n_ref_cols);
    memset(spec, 0, sizeof(*spec));
}


/*
 * The constraint body after [CONSTRAINT name]:
 *   PRIMARY KEY (cols) | UNIQUE [KEY|INDEX] (cols)
 *   | FOREIGN KEY (cols) REFERENCES [db.]t (cols)
 */
static int
constraint_body(struct parser *p, struct cat_con_spec *c)
{
    if (accept(p, "PRIMARY")) {
        c->type = CAT_CON_PRIMARY;
        if (expect(p, "KEY") < 0) {
            return -1;
        }
    } else if (accept(p, "UNIQUE")) {
        c->type = CAT_CON_UNIQUE;
        if (!accept(p, "KEY")) {
            (void)accept(p, "INDEX");
        }
    } else if (accept(p, "FOREIGN")) {
        c->type = CAT_CON_FOREIGN;
        if (expect(p, "KEY") < 0) {
            return -1;
        }
    } else {
        return syntax_error(p);
    }
    if (ident_list(p, &c->cols, &c->n_cols) < 0) {
        return -1;
    }
    if (c->type == CAT_CON_FOREIGN) {
        if (expect(p, "REFERENCES") < 0 || qname(p, &c->ref_db, &c->ref_name) < 0 ||
            ident_list(p, &c->ref_cols, &c->n_ref_cols) < 0) {
            return -1;
        }
    }
    return 0;
}

/* Do the statement's last tokens (before any ';') spell NOT ENFORCED? */
static bool
ends_not_enforced(const struct parser *p)
{
    size_t j = p->n;
    while (j > 0 && rw_tok_is_op(&p->lx, p->t[j - 1], ";")) {
        j--;
    }
    return j >= 2 && rw_tok_is(&p->lx, p->t[j - 2], "NOT") &&
           rw_tok_is(&p->lx, p->t[j - 1], "ENFORCED");
}

/*
 * After ALTER TABLE. Only three shapes are the proxy's; anything else
 * (every real MariaDB ALTER TABLE) returns 0 and is relayed untouched:
 *   [db.]t ADD [CONSTRAINT name] <body> NOT ENFORCED   (MariaDB has no NOT ENFORCED)
 *   [db.]t DROP CONSTRAINT [IF EXISTS] name            (cat_admin.c relays it unless an
 *                                                       informational constraint has that name)
 *   [db.]t SET ("unique_constraints" = ..., ...)       (StarRocks; no MariaDB syntax)
 */
static int
parse_alter_table(struct parser *p, struct cat_stmt *st)
{
    if (ends_not_enforced(p)) {
        struct cat_con_spec c;
        memset(&c, 0, sizeof(c));
        st->kind = CAT_ST_ADD_CONSTRAINT;
        if (qname(p, &st->db, &st->name) < 0 || expect(p, "ADD") < 0) {
            return -1;
        }
        if (accept(p, "CONSTRAINT") && !is_word(p, "PRIMARY") && !is_word(p, "UNIQUE") &&
            !is_word(p, "FOREIGN")) {
            if (ident(p, &c.name) < 0) {
                return -1;
            }
        }
        if (constraint_body(p, &c) < 0) {
            cat_con_spec_free(&c);
            return -1;
        }
        st->cons = cat_xcalloc(1, sizeof(*st->cons));
        st->cons[0] = c;
        st->n_cons = 1;
        if (expect(p, "NOT") < 0 || expect(p, "ENFORCED") < 0) {
            return -1;
        }
        return expect_end(p);
    }
    /* the other two shapes: look without reporting errors; not ours = relay */
    {
        char *db = NULL, *name = NULL;
        bool failed = p->failed;
        struct mvp_reply *e = p->err, dummy;
        mvp_reply_init(&dummy);
        p->err = &dummy;
        if (qname(p, &db, &name) < 0) {
            p->failed = failed;
            p->err = e;
            mvp_reply_clear(&dummy);
            return 0;
        }
        p->err = e;
        mvp_reply_clear(&dummy);
        if (is_word(p, "DROP") && peek_word(p, 1, "CONSTRAINT")) {
            st->db = db;
            st->name = name;
            p->i += 2;
            if (accept(p, "IF")) {
                if (!accept(p, "EXISTS")) {
                    goto relay;
                }
                st->if_exists = true;
            }
            if (cur(p).kind != RW_TOK_IDENT && cur(p).kind != RW_TOK_QIDENT) {
                goto relay;
            }
            (void)ident(p, &st->con_name);
            if (!at_end(p)) {
                goto relay; /* DROP CONSTRAINT c, ADD ...: a real multi-clause ALTER */
            }
            st->kind = CAT_ST_DROP_CONSTRAINT;
            p->i = p->n;
            return 0;
        }
        if (is_word(p, "SET") && rw_tok_is_op(&p->lx, peek(p, 1), "(")) {
            st->db = db;
            st->name = name;
            st->kind = CAT_ST_SET_CONSTRAINTS;
            p->i++;
            if (prop_list(p, st) < 0) {
                return -1;
            }
            return expect_end(p);
        }
        free(db);
        free(name);
        return 0;
    }
relay:
    free(st->db);
    free(st->name);
    free(st->con_name);
    st->db = st->name = st->con_name = NULL;
    st->if_exists = false;
    return 0;
}

/* Fill ST->cons from the StarRocks properties of ALTER TABLE ... SET (...). */
static int
set_constraints(struct cat_stmt *st, struct mvp_reply *err)
{
    size_t i;
    for (i = 0; i < st->n_props; i++) {
        const char *k = st->props[i].key;
        bool fk = strcmp(k, "foreign_key_constraints") == 0;
        if (!fk && strcmp(k, "unique_constraints") != 0) {
            mvp_reply_err(err, 1911, "HY000",
                          "Unknown table property '%s' (ALTER TABLE ... SET takes "
                          "unique_constraints and foreign_key_constraints)", k);
            return -1;
        }
        if ((fk && st->set_foreign) || (!fk && st->set_unique)) {
            mvp_reply_err(err, 1231, "42000", "Property '%s' given twice", k);
            return -1;
        }
        if (fk) {
            st->set_foreign = true;
        } else {
            st->set_unique = true;
        }
        if (cat_con_parse_prop(st->props[i].value, fk, &st->cons, &st->n_cons, err) < 0) {
            return -1;
        }
    }
    return 0;
}

int
cat_con_parse_prop(const char *value, bool fk, struct cat_con_spec **out, size_t *n,
                   struct mvp_reply *err)
{
    const char *prop = fk ? "foreign_key_constraints" : "unique_constraints";
    const char *s = value, *e;
    int k = 0;
    while (*s != '\0') {
        struct cat_con_spec c;
        struct parser p;
        struct rw_tok *all;
        size_t n_all, len;
        int rc;
        e = strchr(s, ';');
        len = e != NULL ? (size_t)(e - s) : strlen(s);
        all = rw_lex_all(s, len, &n_all);
        if (all == NULL) {
            abort();
        }
        if (n_all == 0) { /* empty entry ("" or "a;;b") */
            free(all);
            s += len + (e != NULL);
            continue;
        }
        memset(&c, 0, sizeof(c));
        memset(&p, 0, sizeof(p));
        p.src = s;
        p.len = len;
        p.t = all;
        p.n = n_all;
        p.err = err;
        rw_lex_init(&p.lx, s, len);
        c.type = fk ? CAT_CON_FOREIGN : CAT_CON_UNIQUE;
        if (fk) {
            rc = ident_list(&p, &c.cols, &c.n_cols);
            if (rc == 0 && (expect(&p, "REFERENCES") < 0 || qname(&p, &c.ref_db, &c.ref_name) < 0 ||
                            ident_list(&p, &c.ref_cols, &c.n_ref_cols) < 0)) {
                rc = -1;
            }
        } else {
            /* [db.]table.col is StarRocks' long form: keep the last part */
            rc = 0;
            for (;;) {
                char *col = NULL;
                if (ident(&p, &col) < 0) {
                    rc = -1;
                    break;
                }
                while (accept_op(&p, ".")) {
                    free(col);
                    col = NULL;
                    if (ident(&p, &col) < 0) {
                        rc = -1;
                        break;
                    }
                }
                if (rc < 0) {
                    break;
                }
                c.cols = realloc(c.cols, (c.n_cols + 1) * sizeof(*c.cols));
                if (c.cols == NULL) {
                    abort();
                }
                c.cols[c.n_cols++] = col;
                if (!accept_op(&p, ",")) {
                    break;
                }
            }
        }
        if (rc == 0 && p.i < p.n) {
            rc = -1;
        }
        free(all);
        if (rc < 0) {
            cat_con_spec_free(&c);
            mvp_reply_err(err, 1231, "42000", "Variable '%s' can't be set to the value of '%.*s'",
                          prop, (int)len, s);
            return -1;
        }
        k++;
        c.name = cat_xmalloc(24);
        snprintf(c.name, 24, "%s_%d", fk ? "fk" : "uk", k);
        *out = realloc(*out, (*n + 1) * sizeof(**out));
        if (*out == NULL) {
            abort();
        }
        (*out)[(*n)++] = c;
        s += len + (e != NULL);
    }
    return 0;
}

/* SELECT ... FROM mv_infos(...) / tasks(...): locate the table function. */
static int
parse_select_tf(struct parser *p, struct cat_stmt *st)
{
    size_t j;
    static const char *const clause_words[] = {
        "WHERE", "GROUP", "HAVING", "ORDER", "LIMIT", "UNION", "JOIN", "INNER", "LEFT",
        "RIGHT", "CROSS", "NATURAL", "STRAIGHT_JOIN", "ON", "USING", "WINDOW", "FOR", "LOCK",
        "INTO", "PROCEDURE", "EXCEPT", "INTERSECT", "FULL", "OFFSET", "FETCH"};
    for (j = 1; j + 1 < p->n; j++) {
        struct rw_tok t = p->t[j];
        bool mvi = rw_tok_is(&p->lx, t, "mv_infos"), tsk = rw_tok_is(&p->lx, t, "tasks");
        struct rw_tok prev = p->t[j - 1];
        if ((!mvi && !tsk) || !rw_tok_is_op(&p->lx, p->t[j + 1], "(")) {
            continue;
        }
        if (!rw_tok_is(&p->lx, prev, "FROM") && !rw_tok_is(&p->lx, prev, "JOIN") &&
            !rw_tok_is_op(&p->lx, prev, ",")) {
            continue;
        }
        st->kind = CAT_ST_SELECT_TF;
        st->tf = mvi ? CAT_TF_MV_INFOS : CAT_TF_TASKS;
        st->tf_off = t.off;
        p->i = j + 2;
        if (!accept_op(p, ")")) {
            for (;;) {
                char *k = NULL, *v = NULL;
                if (string_lit(p, &k) < 0) {
                    return -1;
                }
                if (expect_op(p, "=") < 0 || string_lit(p, &v) < 0) {
                    free(k);
                    return -1;
                }
                if (cat_streq_ci(k, "database")) {
                    free(st->tf_database);
                    st->tf_database = v;
                    v = NULL;
                } else if (cat_streq_ci(k, "type") && st->tf == CAT_TF_TASKS) {
                    if (!cat_streq_ci(v, "mv")) {
                        free(k);
                        free(v);
                        p->i--;
                        return syntax_error(p);
                    }
                } else if (!cat_streq_ci(k, "catalog")) {
                    free(k);
                    free(v);
                    p->i -= 3;
                    return syntax_error(p);
                }
                free(k);
                free(v);
                if (accept_op(p, ",")) {
                    continue;
                }
                if (expect_op(p, ")") < 0) {
                    return -1;
                }
                break;
            }
        }
        st->tf_end = p->t[p->i - 1].off + 1;
        {
            struct rw_tok a = cur(p);
            size_t w;
            bool clause = false;
            if (a.kind == RW_TOK_QIDENT || rw_tok_is(&p->lx, a, "AS")) {
                st->tf_alias = true;
            } else if (a.kind == RW_TOK_IDENT) {
                for (w = 0; w < sizeof(clause_words) / sizeof(clause_words[0]); w++) {
                    if (rw_tok_is(&p->lx, a, clause_words[w])) {
                        clause = true;
                    }
                }
                st->tf_alias = !clause;
            }
        }
        st->tf_star_only = j == 3 && rw_tok_is_op(&p->lx, p->t[1], "*") &&
                           rw_tok_is(&p->lx, p->t[2], "FROM") && at_end(p);
        p->i = p->n;
        return 0;
    }
    return 0;
}

static int
parse_show(struct parser *p, struct cat_stmt *st)
{
    if (accept(p, "MATERIALIZED")) {
        if (expect(p, "VIEWS") < 0) {
            return -1;
        }
        st->kind = CAT_ST_SHOW_MVS;
        if (accept(p, "FROM") || accept(p, "IN")) {
            if (ident(p, &st->show_db) < 0) {
                return -1;
            }
        }
        if (accept(p, "LIKE")) {
            if (string_lit(p, &st->like) < 0) {
                return -1;
            }
        } else if (accept(p, "WHERE")) {
            /* Answered by filtering the mv_infos rows on the client's connection. */
            return query_tail(p, st);
        }
        return expect_end(p);
    }
    if (accept(p, "CREATE")) {
        if (expect(p, "MATERIALIZED") < 0 || expect(p, "VIEW") < 0) {
            return -1;
        }
        st->kind = CAT_ST_SHOW_CREATE;
        if (qname(p, &st->db, &st->name) < 0) {
            return -1;
        }
        return expect_end(p);
    }
    if (accept(p, "CONSTRAINTS")) {
        st->kind = CAT_ST_SHOW_CONSTRAINTS;
        if ((!accept(p, "FROM") && expect(p, "IN") < 0) || qname(p, &st->db, &st->name) < 0) {
            return -1;
        }
        return expect_end(p);
    }
    if (accept(p, "PARTITIONS")) {
        st->kind = CAT_ST_SHOW_PARTITIONS;
        if (expect(p, "FROM") < 0 || qname(p, &st->db, &st->name) < 0) {
            return -1;
        }
        return expect_end(p);
    }
    return 0;
}

void
cat_stmt_free(struct cat_stmt *st)
{
    size_t i;
    if (st == NULL) {
        return;
    }
    free(st->sql);
    free(st->db);
    free(st->name);
    free(st->new_name);
    free(st->new_db);
    cat_strv_free(st->col_names, st->n_cols);
    cat_strv_free(st->col_comments, st->n_cols);
    free(st->refresh.unit);
    free(st->refresh.starts);
    free(st->refresh.interval);
    free(st->partition_by);
    free(st->comment);
    for (i = 0; i < st->n_props; i++) {
        free(st->props[i].key);
        free(st->props[i].value);
    }
    free(st->props);
    cat_strv_free(st->parts, st->n_parts);
    free(st->show_db);
    free(st->like);
    free(st->tf_database);
    for (i = 0; i < st->n_cons; i++) {
        cat_con_spec_free(&st->cons[i]);
    }
    free(st->cons);
    free(st->con_name);
    cat_mv_indexes_free(st->indexes, st->n_indexes);
    memset(st, 0, sizeof(*st));
}

int
cat_parse(const char *sql, size_t len, struct cat_stmt *st, struct mvp_reply *err)
{
    struct rw_tok *all;
    size_t n_all;
    int rc;

    all = rw_lex_all(sql, len, &n_all);
    if (all == NULL) {
        return 0;
    }
    rc = cat_parse_toks(sql, len, all, n_all, st, err);
    free(all);
    return rc;
}

int
cat_parse_toks(const char *sql, size_t len, const struct rw_tok *tok, size_t n_tok,
               struct cat_stmt *st, struct mvp_reply *err)
{
    struct parser p;
    struct rw_tok *all;
    size_t i, k = 0;
    int rc = 0;

    memset(&p, 0, sizeof(p));
    p.src = sql;
    p.len = len;
    p.err = err;
    rw_lex_init(&p.lx, sql, len);
    /* the parser's own copy: hints carry no meaning in admin statements
     * (EXPLAIN REWRITE keeps them in its text), so they are dropped */
    all = malloc((n_tok + 1) * sizeof(*all));
    if (all == NULL) {
        return 0;
    }
    for (i = 0; i <= n_tok; i++) {
        if (tok[i].kind != RW_TOK_HINT) {
            all[k++] = tok[i];
        }
    }
    p.t = all;
    p.n = k - 1;
    if (p.n == 0) {
        free(all);
        return 0;
    }

    if (accept(&p, "CREATE")) {
        if (accept(&p, "MATERIALIZED")) {
            rc = expect(&p, "VIEW") < 0 ? -1 : parse_create(&p, st);
        }
    } else if (accept(&p, "REFRESH")) {
        if (accept(&p, "MATERIALIZED")) {
            rc = expect(&p, "VIEW") < 0 ? -1 : parse_refresh(&p, st);
        }
    } else if (accept(&p, "ALTER")) {
        if (accept(&p, "MATERIALIZED")) {
            rc = expect(&p, "VIEW") < 0 ? -1 : parse_alter(&p, st);
        } else if (accept(&p, "TABLE")) {
            rc = parse_alter_table(&p, st);
        }
    } else if (accept(&p, "DROP")) {
        if (accept(&p, "MATERIALIZED")) {
            st->kind = CAT_ST_DROP;
            if (expect(&p, "VIEW") < 0) {
                rc = -1;
            } else {
                if (accept(&p, "IF")) {
                    if (expect(&p, "EXISTS") < 0) {
                        rc = -1;
                    }
                    st->if_exists = true;
                }
                if (rc == 0 && (qname(&p, &st->db, &st->name) < 0 || expect_end(&p) < 0)) {
                    rc = -1;
                }
            }
        }
    } else if (is_word(&p, "PAUSE") || is_word(&p, "RESUME")) {
        bool pause = is_word(&p, "PAUSE");
        p.i++;
        if (accept(&p, "MATERIALIZED")) {
            st->kind = pause ? CAT_ST_PAUSE : CAT_ST_RESUME;
            if (expect(&p, "VIEW") < 0 || expect(&p, "JOB") < 0 || expect(&p, "ON") < 0 ||
                qname(&p, &st->db, &st->name) < 0 || expect_end(&p) < 0) {
                rc = -1;
            }
        }
    } else if (accept(&p, "CANCEL")) {
        if (accept(&p, "MATERIALIZED")) {
            int64_t id = 0;
            st->kind = CAT_ST_CANCEL;
            if (expect(&p, "VIEW") < 0 || expect(&p, "TASK") < 0 || number(&p, &id) < 0 ||
                expect(&p, "ON") < 0 || qname(&p, &st->db, &st->name) < 0 ||
                expect_end(&p) < 0) {
                rc = -1;
            }
            st->task_id = (uint64_t)id;
        }
    } else if (accept(&p, "SHOW")) {
        rc = parse_show(&p, st);
    } else if (accept(&p, "EXPLAIN")) {
        if (accept(&p, "REWRITE")) {
            st->kind = CAT_ST_EXPLAIN_REWRITE;
            rc = explain_tail(&p, st);
        }
    } else if (is_word(&p, "SELECT")) {
        if (cat_contains_ci(sql, len, "mv_infos") || cat_contains_ci(sql, len, "tasks")) {
            rc = parse_select_tf(&p, st);
        }
    }

    free(all);
    if (rc < 0 || p.failed) {
        if (!p.failed) {
            mvp_reply_err(err, 1064, "42000", "You have an error in your SQL syntax");
        }
        return -1;
    }
    if (st->kind == 0) {
        return 0;
    }
    if (st->kind == CAT_ST_SET_CONSTRAINTS && set_constraints(st, err) < 0) {
        return -1;
    }
    if (st->kind == CAT_ST_CREATE || st->kind == CAT_ST_ALTER_SET) {
        struct cat_props props;
        if (cat_props_validate(st->n_props, st->props, &props, err) < 0) {
            return -1;
        }
        cat_props_free(&props);
    }
    st->sql = cat_xstrndup(sql, len);
    st->len = len;
    return 1;
}

int
cat_refresh_clause_of_text(const char *text, struct cat_refresh_clause *out, char *err,
                           size_t errlen)
{
    /* the clause's own parser (cat_parse.c refresh_clause) behind a
     * statement that carries it: the text is what cat_refresh_text made */
    struct cat_buf b = {0};
    struct cat_stmt st;
    struct mvp_reply perr;
    int rc;
    memset(out, 0, sizeof(*out));
    memset(&st, 0, sizeof(st));
    mvp_reply_init(&perr);
    cat_buf_puts(&b, "ALTER MATERIALIZED VIEW mvp_clause ");
    cat_buf_puts(&b, text != NULL ? text : "");
    rc = cat_parse(b.p, b.len, &st, &perr) == 1 && st.kind == CAT_ST_ALTER_REFRESH ? 0 : -1;
    if (rc == 0) {
        *out = st.refresh;
        memset(&st.refresh, 0, sizeof(st.refresh)); /* moved to OUT */
    } else {
        snprintf(err, errlen, "refresh clause '%s' not understood%s%s", text != NULL ? text : "",
                 perr.kind == MVP_REPLY_ERR && perr.err_msg != NULL ? ": " : "",
                 perr.kind == MVP_REPLY_ERR && perr.err_msg != NULL ? perr.err_msg : "");
    }
    cat_stmt_free(&st);
    mvp_reply_clear(&perr);
    cat_buf_free(&b);
    return rc;
}
