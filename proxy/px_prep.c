/*
 * px_prep.c - prepared statements on the rewrite path (issue 11; see
 * px_prep.h for the design). Part of the session module: it runs on the
 * session's worker thread and moves the session only through
 * px_session_set_state and the helpers of px_session_internal.h.
 *
 *   client EXECUTE(id) of a SELECT, no cursor, no long data
 *     └─ values written into the text as literals ──> px_dispatch_query
 *          ├─ not rewritten ──> the client's EXECUTE packet, unchanged
 *          └─ rewritten ─┬─ cached proxy statement P ──> EXECUTE(P)
 *                        └─ not cached ──> PREPARE(text) [dropped by the proxy]
 *                                           ├─ OK, 0 params, same column count
 *                                           │    ──> cache P, EXECUTE(P)
 *                                           └─ otherwise ──> the client's EXECUTE
 *   EXECUTE(P) answered with ERR first ──> P closed and forgotten, the client's
 *                                           EXECUTE sent (AFTER_RESEND)
 *
 * The rewritten execute's binary result set is relayed to the client with
 * the client's sequence ids (both executes are one packet). The freshness
 * decision is the dispatcher's, per execution.
 */
#include "px_prep.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <uthash.h>

#include "cat_util.h"
#include "px_log.h"
#include "px_resp.h"
#include "px_stmt.h"
#include "px_worker.h"
#include "rw_lex.h"

#define EXEC_HEAD 10u /* 0x17, statement id (4), flags (1), iteration count (4) */

/* A client's statement (binary protocol), by its id. */
struct prep_stmt {
    uint32_t id;            /* the client's (= the backend's) statement id */
    char *sql;              /* its text (owned, NUL-terminated) */
    size_t len;             /* bytes in sql */
    char *db;               /* current database at PREPARE (owned) or NULL */
    uint16_t n_params;      /* from the PREPARE_OK */
    uint16_t n_cols;        /* from the PREPARE_OK */
    uint8_t *types;         /* 2 * n_params type bytes last bound (owned) or NULL */
    bool candidate;         /* a SELECT the dispatcher may rewrite */
    bool long_data;         /* COM_STMT_SEND_LONG_DATA since the last execute / reset */
    bool bk_bound;          /* the backend's statement has been given the types: an
                             * execute relayed to it may omit them */
    UT_hash_handle hh;
};

/* A proxy-owned statement: a rewritten text prepared on the backend. */
struct prep_cached {
    char *key;              /* db (or ""), '\0', rewritten text (owned) */
    size_t key_len;         /* bytes in key */
    uint32_t id;            /* backend statement id (never shown to the client) */
    uint16_t n_cols;        /* its column count */
    uint64_t used;          /* tick of the last use (eviction: least recent) */
    UT_hash_handle hh;
};

/* A SQL-level prepared statement: PREPARE name FROM 'text'. */
struct sql_name {
    char *name;             /* lower case (owned) */
    char *text;             /* the statement text (owned) */
    char *db;               /* current database at PREPARE (owned) or NULL */
    UT_hash_handle hh;
};

enum prep_phase {
    PP_NONE = 0,            /* no proxy statement in flight */
    PP_PREPARE,             /* the proxy's COM_STMT_PREPARE of a rewritten text */
    PP_EXEC,                /* the proxy's COM_STMT_EXECUTE of a cached statement */
    PP_PROBE,               /* the proxy's SELECT of the user variables of an EXECUTE ... USING */
};

/* Where the user-variable probe's result set is (a text result set). */
enum probe_phase {
    PR_FIRST = 0,           /* column count, or ERR */
    PR_COLS,                /* column definitions */
    PR_COLS_EOF,            /* the EOF after them (no CLIENT_DEPRECATE_EOF) */
    PR_ROWS,                /* the row, then EOF / OK */
};

/* One column of the probe's result set: its definition and its value. */
struct probe_col {
    uint8_t type;           /* column type byte */
    char *val;              /* the row's value (owned, NUL-terminated) or NULL for SQL NULL */
    size_t len;             /* bytes in val */
};

struct px_prep {
    struct prep_stmt *stmts;        /* client statements by id */
    struct prep_cached *cache;      /* proxy statements by key */
    size_t n_cache;                 /* entries in cache */
    uint64_t tick;                  /* use counter */
    struct sql_name *names;         /* SQL-level statements by name */

    bool pend_valid;                /* a client COM_STMT_PREPARE is in flight ... */
    char *pend_sql;                 /* ... of this text (owned) */
    size_t pend_len;                /* bytes in pend_sql */

    bool sqlp_valid;                /* a SQL PREPARE is in flight ... */
    char *sqlp_name;                /* ... of this name (owned, lower case) */
    char *sqlp_text;                /* ... from this literal text (owned) or NULL (FROM @var) */

    enum prep_phase phase;          /* proxy statement in flight */
    char *run_key;                  /* PP_PREPARE: cache key of the text (owned) */
    size_t run_key_len;             /* bytes in run_key */
    uint16_t want_cols;             /* PP_PREPARE: the original's column count */
    bool first_seen;                /* PP_PREPARE: first response packet examined */
    uint32_t run_id;                /* PP_EXEC: the proxy statement executing */

    /* PP_PROBE: `EXECUTE name USING ...` waits for its variables' values */
    char *pr_text;                  /* the statement's text (owned) */
    size_t pr_n;                    /* USING items (= the text's placeholders) */
    char **pr_lit;                  /* pr_n literals: a constant item's text, NULL for a
                                     * variable's (array and strings owned) */
    char **pr_var;                  /* pr_n variable names as written (@a, @@x) or NULL (owned) */
    size_t pr_nvar;                 /* variables probed */
    enum probe_phase pr_phase;      /* where the response is */
    size_t pr_cols;                 /* columns expected: 2 per variable, then 4 */
    size_t pr_got;                  /* column definitions read */
    size_t pr_rows;                 /* rows read */
    bool pr_failed;                 /* the probe cannot give the values: run the original */
    struct probe_col *pr_col;       /* pr_cols columns (owned) */

    /* a command the freshness fence parked (px_fence.h) */
    char *fence_text;               /* its text with the bound values (owned) */
    size_t fence_len;               /* bytes in fence_text */
    uint32_t fence_stmt;            /* PX_FENCE_AT_EXECUTE: the client statement's id */
};

/* S's statement state, made on first use (out of memory aborts). */
static struct px_prep *
prep_get(struct px_session *s)
{
    if (s->prep == NULL) {
        s->prep = cat_xcalloc(1, sizeof(*s->prep));
    }
    return s->prep;
}

static bool
db_eq(const char *a, const char *b)
{
    if (a == NULL || b == NULL) {
        return a == b;
    }
    return strcmp(a, b) == 0;
}

static void
stmt_free(struct prep_stmt *st)
{
    free(st->sql);
    free(st->db);
    free(st->types);
    free(st);
}

static void
name_free(struct sql_name *n)
{
    free(n->name);
    free(n->text);
    free(n->db);
    free(n);
}

static void
forget_names(struct px_prep *pp)
{
    struct sql_name *n, *tmp;
    HASH_ITER(hh, pp->names, n, tmp) {
        HASH_DEL(pp->names, n);
        name_free(n);
    }
}

static void
forget_name(struct px_prep *pp, const char *name)
{
    struct sql_name *n = NULL;
    HASH_FIND_STR(pp->names, name, n);
    if (n != NULL) {
        HASH_DEL(pp->names, n);
        name_free(n);
    }
}

/* Send COM_STMT_CLOSE of backend statement ID (no response comes back). */
static void
send_close(struct px_session *s, uint32_t id)
{
    uint8_t p[5];
    if (s->bk == NULL) {
        return;
    }
    p[0] = PX_COM_STMT_CLOSE;
    p[1] = (uint8_t)id;
    p[2] = (uint8_t)(id >> 8);
    p[3] = (uint8_t)(id >> 16);
    p[4] = (uint8_t)(id >> 24);
    (void)px_session_send_command(s, p, sizeof(p));
}

static void
cache_del(struct px_prep *pp, struct prep_cached *c)
{
    HASH_DEL(pp->cache, c);
    pp->n_cache--;
    free(c->key);
    free(c);
}

/* Free what the user-variable probe holds (none in flight afterwards). */
static void
probe_clear(struct px_prep *pp)
{
    size_t i;
    for (i = 0; i < pp->pr_n; i++) {
        free(pp->pr_lit[i]);
        free(pp->pr_var[i]);
    }
    for (i = 0; pp->pr_col != NULL && i < pp->pr_cols; i++) {
        free(pp->pr_col[i].val);
    }
    free(pp->pr_lit);
    free(pp->pr_var);
    free(pp->pr_col);
    free(pp->pr_text);
    pp->pr_lit = NULL;
    pp->pr_var = NULL;
    pp->pr_col = NULL;
    pp->pr_text = NULL;
    pp->pr_n = 0;
    pp->pr_nvar = 0;
    pp->pr_cols = 0;
}

/*
 * Forget every statement of S: the backend forgot them too (COM_RESET_CONNECTION,
 * COM_CHANGE_USER) or the session ends; nothing is sent.
 */
static void
forget_all(struct px_session *s)
{
    struct px_prep *pp = s->prep;
    struct prep_stmt *st, *tmp;
    struct prep_cached *c, *ctmp;
    if (pp == NULL) {
        return;
    }
    HASH_ITER(hh, pp->stmts, st, tmp) {
        HASH_DEL(pp->stmts, st);
        stmt_free(st);
    }
    HASH_ITER(hh, pp->cache, c, ctmp) {
        cache_del(pp, c);
    }
    forget_names(pp);
}

void
px_prep_free(struct px_session *s)
{
    struct px_prep *pp = s->prep;
    if (pp == NULL) {
        return;
    }
    forget_all(s);
    free(pp->pend_sql);
    free(pp->sqlp_name);
    free(pp->sqlp_text);
    free(pp->run_key);
    free(pp->fence_text);
    probe_clear(pp);
    free(pp);
    s->prep = NULL;
}

/* ---- literal text -------------------------------------------------- */

/* Append integer V (signed unless UNS) as a literal; negatives in parentheses. */
static void
put_int(struct cat_buf *b, uint64_t raw, unsigned bytes, bool uns)
{
    uint64_t u = raw;
    int64_t v;
    if (uns) {
        cat_buf_printf(b, "%llu", (unsigned long long)u);
        return;
    }
    switch (bytes) {
    case 1:
        v = (int8_t)raw;
        break;
    case 2:
        v = (int16_t)raw;
        break;
    case 4:
        v = (int32_t)raw;
        break;
    default:
        v = (int64_t)raw;
        break;
    }
    if (v < 0) {
        cat_buf_printf(b, "(%lld)", (long long)v);
    } else {
        cat_buf_printf(b, "%lld", (long long)v);
    }
}

/* Little-endian unsigned of N bytes at P. */
static uint64_t
le(const uint8_t *p, unsigned n)
{
    uint64_t v = 0;
    unsigned i;
    for (i = 0; i < n; i++) {
        v |= (uint64_t)p[i] << (8 * i);
    }
    return v;
}

/* Append the binary DATE / DATETIME / TIMESTAMP value at P (L bytes, after
 * its length byte) of type TYPE. False for a zero or out-of-range date. */
static bool
put_datetime(struct cat_buf *b, uint8_t type, const uint8_t *p, unsigned l)
{
    unsigned y, mo, d, h = 0, mi = 0, sec = 0;
    unsigned long us = 0;
    if (l != 4 && l != 7 && l != 11) {
        return false; /* 0: the zero date, which strict modes reject as a literal */
    }
    y = (unsigned)le(p, 2);
    mo = p[2];
    d = p[3];
    if (l >= 7) {
        h = p[4];
        mi = p[5];
        sec = p[6];
    }
    if (l == 11) {
        us = (unsigned long)le(p + 7, 4);
    }
    if (y > 9999 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 59 ||
        us > 999999) {
        return false;
    }
    if (type == 0x0a) { /* DATE */
        cat_buf_printf(b, "DATE'%04u-%02u-%02u'", y, mo, d);
        return true;
    }
    cat_buf_printf(b, "TIMESTAMP'%04u-%02u-%02u %02u:%02u:%02u", y, mo, d, h, mi, sec);
    if (us != 0) {
        cat_buf_printf(b, ".%06lu", us);
    }
    cat_buf_puts(b, "'");
    return true;
}

/* Append the binary TIME value at P (L bytes after its length byte). */
static bool
put_time(struct cat_buf *b, const uint8_t *p, unsigned l)
{
    uint64_t days, hours;
    unsigned mi, sec;
    unsigned long us = 0;
    bool neg;
    if (l == 0) {
        cat_buf_puts(b, "TIME'00:00:00'");
        return true;
    }
    if (l != 8 && l != 12) {
        return false;
    }
    neg = p[0] != 0;
    days = le(p + 1, 4);
    hours = days * 24 + p[5];
    mi = p[6];
    sec = p[7];
    if (l == 12) {
        us = (unsigned long)le(p + 8, 4);
    }
    if (hours > 838 || mi > 59 || sec > 59 || us > 999999) {
        return false;
    }
    cat_buf_printf(b, "TIME'%s%02llu:%02u:%02u", neg ? "-" : "", (unsigned long long)hours, mi,
                   sec);
    if (us != 0) {
        cat_buf_printf(b, ".%06lu", us);
    }
    cat_buf_puts(b, "'");
    return true;
}

/* Append DOUBLE V as a literal the server reads as a DOUBLE (E exponent). */
static bool
put_double(struct cat_buf *b, double v)
{
    if (!isfinite(v)) {
        return false;
    }
    if (v < 0 || (v == 0 && signbit(v))) {
        cat_buf_printf(b, "(%.17E)", v);
    } else {
        cat_buf_printf(b, "%.17E", v);
    }
    return true;
}

/*
 * Append the value of type TYPE (UNS: the unsigned flag) at *P (not past
 * END) as a literal; advances *P. False: the value cannot be written as a
 * literal of the same meaning (or the packet is short).
 */
static bool
put_value(struct cat_buf *b, uint8_t type, bool uns, const uint8_t **pp, const uint8_t *end)
{
    const uint8_t *p = *pp, *str;
    size_t n, i;
    unsigned w = 0;
    uint64_t raw;

    switch (type) {
    case 0x01: /* TINY */
        w = 1;
        break;
    case 0x02: /* SHORT */
    case 0x0d: /* YEAR */
        w = 2;
        break;
    case 0x03: /* LONG */
    case 0x09: /* INT24 */
        w = 4;
        break;
    case 0x08: /* LONGLONG */
        w = 8;
        break;
    case 0x04: /* FLOAT */
    case 0x05: /* DOUBLE */ {
        unsigned nb = type == 0x04 ? 4 : 8;
        double d;
        if ((size_t)(end - p) < nb) {
            return false;
        }
        raw = le(p, nb);
        if (nb == 4) {
            uint32_t r32 = (uint32_t)raw;
            float f;
            memcpy(&f, &r32, sizeof(f));
            d = f;
        } else {
            memcpy(&d, &raw, sizeof(d));
        }
        *pp = p + nb;
        return put_double(b, d);
    }
    case 0x00: /* DECIMAL */
    case 0xf6: /* NEWDECIMAL */
    case 0x0f: /* VARCHAR */
    case 0xfd: /* VAR_STRING */
    case 0xfe: /* STRING */ {
        char *tmp;
        bool dot = false, digit = false;
        if (px_mysql_get_lenenc_str(&p, end, &str, &n, NULL) != PX_OK) {
            return false;
        }
        *pp = p;
        if (type == 0x00 || type == 0xf6) {
            for (i = 0; i < n; i++) {
                if (str[i] >= '0' && str[i] <= '9') {
                    digit = true;
                } else if (str[i] == '.' && !dot) {
                    dot = true;
                } else if (!(str[i] == '-' && i == 0)) {
                    return false;
                }
            }
            if (!digit) {
                return false;
            }
            if (str[0] == '-') {
                cat_buf_add(b, "(", 1);
                cat_buf_add(b, (const char *)str, n);
                cat_buf_add(b, ")", 1);
            } else {
                cat_buf_add(b, (const char *)str, n);
            }
            return true;
        }
        /* A backslash means two things (NO_BACKSLASH_ESCAPES); control and
         * NUL bytes would need the hex form, whose charset is not the
         * connection's: both are not rewritten. */
        for (i = 0; i < n; i++) {
            if (str[i] == '\\' || str[i] < 0x20) {
                return false;
            }
        }
        tmp = cat_xstrndup((const char *)str, n);
        cat_buf_lit(b, tmp); /* '...' with '' doubling: the connection charset */
        free(tmp);
        return true;
    }
    case 0x07: /* TIMESTAMP */
    case 0x0a: /* DATE */
    case 0x0c: /* DATETIME */
    case 0x0b: /* TIME */ {
        unsigned l;
        if (p >= end) {
            return false;
        }
        l = p[0];
        if ((size_t)(end - p - 1) < l) {
            return false;
        }
        *pp = p + 1 + l;
        return type == 0x0b ? put_time(b, p + 1, l) : put_datetime(b, type, p + 1, l);
    }
    default:
        return false; /* NULL type without its bit, blobs, BIT, ENUM, SET, JSON, GEOMETRY */
    }
    if ((size_t)(end - p) < w) {
        return false;
    }
    put_int(b, le(p, w), w, uns);
    *pp = p + w;
    return true;
}

/*
 * SQL/LEN (lexed under sql_mode flags MODE) with its `?` placeholder tokens
 * replaced, in order, by the N literals LIT, each with a space either side.
 * NULL when the text does not hold exactly N placeholders (or cannot be
 * lexed); else the text (caller frees; *OUT_LEN bytes, NUL-terminated).
 */
static char *
subst_params(const char *sql, size_t len, uint32_t mode, size_t n, char *const *lit,
             size_t *out_len)
{
    size_t n_tok = 0, i, k = 0, last = 0;
    struct rw_tok *tok = rw_lex_all_mode(sql, len, mode, &n_tok);
    struct cat_buf b = {0};

    if (tok == NULL) {
        return NULL;
    }
    for (i = 0; i < n_tok; i++) {
        if (tok[i].kind != RW_TOK_PARAM) {
            continue;
        }
        if (k >= n) {
            break;
        }
        cat_buf_add(&b, sql + last, tok[i].off - last);
        cat_buf_add(&b, " ", 1);
        cat_buf_puts(&b, lit[k]);
        cat_buf_add(&b, " ", 1);
        last = tok[i].off + tok[i].len;
        k++;
    }
    free(tok);
    if (i < n_tok || k != n) {
        cat_buf_free(&b);
        return NULL;
    }
    cat_buf_add(&b, sql + last, len - last);
    *out_len = b.len;
    return cat_buf_take(&b);
}

/* Free the N strings of LIT and the array. */
static void
lits_free(char **lit, size_t n)
{
    size_t i;
    for (i = 0; lit != NULL && i < n; i++) {
        free(lit[i]);
    }
    free(lit);
}

char *
px_prep_literal_text(const char *sql, size_t len, uint32_t mode, uint16_t n_params,
                     const uint8_t *types, const uint8_t *params, size_t plen, size_t *out_len)
{
    size_t nb = ((size_t)n_params + 7) / 8, k;
    const uint8_t *p = params, *end = params + plen;
    char **lit;
    char *text = NULL;
    bool ok = true;

    if (n_params > 0) {
        if (types == NULL || plen < nb + 1) {
            return NULL;
        }
        p = params + nb + 1;
        if (params[nb] == 1) {
            if ((size_t)(end - p) < 2u * n_params) {
                return NULL;
            }
            p += 2u * n_params;
        }
    }
    lit = cat_xcalloc(n_params > 0 ? n_params : 1, sizeof(*lit));
    for (k = 0; k < n_params && ok; k++) {
        struct cat_buf v = {0};
        if (params[k / 8] & (1u << (k % 8))) {
            cat_buf_puts(&v, "NULL");
        } else {
            ok = put_value(&v, types[2 * k], (types[2 * k + 1] & 0x80) != 0, &p, end);
        }
        lit[k] = cat_buf_take(&v);
        ok = ok && lit[k] != NULL;
    }
    if (ok) {
        text = subst_params(sql, len, mode, n_params, lit, out_len);
    }
    lits_free(lit, n_params);
    return text;
}

/* Is the text of VAL/N an integer (DEC: a decimal with at most one '.'),
 * an optional '-' first and at least one digit? */
static bool
numeric_text(const char *val, size_t n, bool dec)
{
    size_t i;
    bool digit = false, dot = false;
    for (i = 0; i < n; i++) {
        if (val[i] >= '0' && val[i] <= '9') {
            digit = true;
        } else if (dec && val[i] == '.' && !dot) {
            dot = true;
        } else if (!(val[i] == '-' && i == 0)) {
            return false;
        }
    }
    return digit;
}

bool
px_prep_var_literal(struct cat_buf *b, uint8_t type, const char *val, size_t n, const char *coll,
                    const char *conn_coll, bool str_ok)
{
    size_t i;
    if (val == NULL) {
        cat_buf_puts(b, "NULL");
        return true;
    }
    switch (type) {
    case 0x01: /* TINY */
    case 0x02: /* SHORT */
    case 0x03: /* LONG */
    case 0x08: /* LONGLONG */
    case 0x09: /* INT24 */
    case 0x00: /* DECIMAL */
    case 0xf6: /* NEWDECIMAL */
        if (!numeric_text(val, n, type == 0x00 || type == 0xf6)) {
            return false;
        }
        if (val[0] == '-') {
            cat_buf_add(b, "(", 1);
            cat_buf_add(b, val, n);
            cat_buf_add(b, ")", 1);
        } else {
            cat_buf_add(b, val, n);
        }
        return true;
    case 0x0f: /* VARCHAR */
    case 0xfd: /* VAR_STRING */
    case 0xfe: /* STRING */
    case 0xf9: /* TINY_BLOB */
    case 0xfa: /* MEDIUM_BLOB */
    case 0xfb: /* LONG_BLOB */
    case 0xfc: /* BLOB */
        /* The value as a literal of the connection's character set: only
         * when it already is one (its collation is the connection's, the
         * client, connection and result sets agree), without backslashes
         * (NO_BACKSLASH_ESCAPES) or control and NUL bytes. */
        if (!str_ok || coll == NULL || conn_coll == NULL || strcmp(coll, conn_coll) != 0 ||
            strcmp(coll, "binary") == 0) {
            return false;
        }
        for (i = 0; i < n; i++) {
            if (val[i] == '\\' || (unsigned char)val[i] < 0x20) {
                return false;
            }
        }
        cat_buf_lit(b, val);
        return true;
    default:
        /* DOUBLE: its text form need not give back the same bits */
        return false;
    }
}

/* ---- the proxy's statements ------------------------------------------ */

/* Execute proxy statement C (no parameters, no cursor) in place of the
 * client's execute; its first response packet is checked for an ERR. */
static void
send_exec(struct px_session *s, struct prep_cached *c)
{
    struct px_prep *pp = s->prep;
    uint8_t p[EXEC_HEAD], sent;
    p[0] = PX_COM_STMT_EXECUTE;
    p[1] = (uint8_t)c->id;
    p[2] = (uint8_t)(c->id >> 8);
    p[3] = (uint8_t)(c->id >> 16);
    p[4] = (uint8_t)(c->id >> 24);
    p[5] = 0; /* CURSOR_TYPE_NO_CURSOR */
    p[6] = 1; /* iteration count 1 */
    p[7] = p[8] = p[9] = 0;
    c->used = ++pp->tick;
    pp->phase = PP_EXEC;
    pp->run_id = c->id;
    px_session_resp_begin(s, PX_COM_STMT_EXECUTE, RK_RESULTSET);
    sent = px_session_send_command(s, p, sizeof(p));
    s->seq_delta = (uint8_t)(s->query_pkts - sent);
    s->rewrite_check = true;
}

/* Run the rewritten text OUT (from px_dispatch_query) of client statement ST. */
static void
start_rewritten(struct px_session *s, struct prep_stmt *st, struct px_dispatch_out *out)
{
    struct px_prep *pp = s->prep;
    struct prep_cached *c = NULL, *e, *tmp, *old = NULL;
    const char *db = s->db != NULL ? s->db : "";
    size_t dbl = strlen(db), klen = dbl + 1 + out->sql_len;
    char *key = cat_xmalloc(klen + 1);
    struct px_buf pl;
    char what[24];

    memcpy(key, db, dbl + 1);
    memcpy(key + dbl + 1, out->sql, out->sql_len);
    key[klen] = '\0';
    snprintf(what, sizeof(what), "statement %u", st->id);
    px_session_adopt_rewrite(s, out, what);
    HASH_FIND(hh, pp->cache, key, klen, c);
    if (c != NULL) {
        free(key);
        send_exec(s, c);
        return;
    }
    if (pp->n_cache >= PX_PREP_CACHE_MAX) {
        HASH_ITER(hh, pp->cache, e, tmp) {
            if (old == NULL || e->used < old->used) {
                old = e;
            }
        }
        send_close(s, old->id);
        cache_del(pp, old);
    }
    free(pp->run_key);
    pp->run_key = key;
    pp->run_key_len = klen;
    pp->want_cols = st->n_cols;
    pp->first_seen = false;
    pp->phase = PP_PREPARE;
    px_session_resp_begin(s, PX_COM_STMT_PREPARE, RK_PREPARE);
    px_buf_init(&pl);
    px_buf_put_u8(&pl, PX_COM_STMT_PREPARE);
    px_buf_put(&pl, out->sql, out->sql_len);
    (void)px_session_send_command(s, pl.data, pl.len);
    px_buf_free(&pl);
}

bool
px_prep_bk_packet(struct px_session *s, uint8_t *hdr, uint32_t len, size_t pk)
{
    struct px_prep *pp = s->prep;
    if (pp == NULL || pp->phase != PP_PREPARE) {
        return false;
    }
    if (!pp->first_seen) {
        pp->first_seen = true;
        s->rewrite_err = 0;
        if (len > 0 && len < PX_PKT_MAX && hdr[4] == 0xff && pk >= 3) {
            s->rewrite_err = (unsigned)hdr[5] | (unsigned)hdr[6] << 8;
        }
    }
    if (px_resp_step(s, len, hdr + PX_PKT_HDR_LEN, pk)) {
        s->bk_after = AFTER_PREP;
    }
    px_session_bk_begin_packet(s, hdr, len, SINK_DISCARD);
    return true;
}

void
px_prep_after_packet(struct px_session *s)
{
    struct px_prep *pp = s->prep;
    struct prep_cached *c;

    if (pp == NULL || pp->phase != PP_PREPARE) {
        return;
    }
    pp->phase = PP_NONE;
    if (s->resp_ok && s->prep_params == 0 && s->prep_cols == pp->want_cols) {
        c = cat_xcalloc(1, sizeof(*c));
        c->key = pp->run_key;
        c->key_len = pp->run_key_len;
        c->id = s->prep_id;
        c->n_cols = pp->want_cols;
        pp->run_key = NULL;
        HASH_ADD_KEYPTR(hh, pp->cache, c->key, c->key_len, c);
        pp->n_cache++;
        send_exec(s, c);
        return;
    }
    free(pp->run_key);
    pp->run_key = NULL;
    if (s->resp_ok) {
        /* prepared, but not the original's shape: not used */
        px_log_debug("S-%llu: rewritten statement has %llu params, %llu columns (want 0, %u): "
                     "executing the original",
                     (unsigned long long)s->id, (unsigned long long)s->prep_params,
                     (unsigned long long)s->prep_cols, pp->want_cols);
        send_close(s, s->prep_id);
        px_session_send_original(s);
        return;
    }
    px_session_resend_original(s); /* counts the failure, sends s->query */
}

void
px_prep_rewrite_failed(struct px_session *s)
{
    struct px_prep *pp = s->prep;
    struct prep_cached *c, *tmp;
    if (pp == NULL || pp->phase != PP_EXEC) {
        return;
    }
    pp->phase = PP_NONE;
    HASH_ITER(hh, pp->cache, c, tmp) {
        if (c->id == pp->run_id) {
            send_close(s, c->id);
            cache_del(pp, c);
            break;
        }
    }
}

/* Register client statement ID (prepared from pp->pend_sql) with its counts. */
static void
stmt_register(struct px_session *s, uint32_t id, uint16_t n_params, uint16_t n_cols)
{
    struct px_prep *pp = s->prep;
    struct prep_stmt *st = NULL;
    struct px_stmt cls;

    HASH_FIND(hh, pp->stmts, &id, sizeof(id), st);
    if (st != NULL) {
        HASH_DEL(pp->stmts, st);
        stmt_free(st);
    }
    st = cat_xcalloc(1, sizeof(*st));
    st->id = id;
    st->sql = pp->pend_sql;
    st->len = pp->pend_len;
    pp->pend_sql = NULL;
    st->db = cat_xstrdup(s->db);
    st->n_params = n_params;
    st->n_cols = n_cols;
    memset(&cls, 0, sizeof(cls));
    px_stmt_classify(&cls, st->sql, st->len);
    st->candidate = cls.kind == PX_STMT_SELECT && !cls.admin_maybe && n_cols > 0;
    px_stmt_free(&cls);
    HASH_ADD(hh, pp->stmts, id, sizeof(st->id), st);
}

void
px_prep_resp_end(struct px_session *s)
{
    struct px_prep *pp = s->prep;
    if (pp == NULL) {
        return;
    }
    pp->phase = PP_NONE;
    if (s->cmd == PX_COM_STMT_PREPARE && pp->pend_valid) {
        if (s->resp_ok && s->prep_params <= UINT16_MAX && s->prep_cols <= UINT16_MAX) {
            stmt_register(s, s->prep_id, (uint16_t)s->prep_params, (uint16_t)s->prep_cols);
        }
        pp->pend_valid = false;
        free(pp->pend_sql);
        pp->pend_sql = NULL;
    }
    if (s->cmd == PX_COM_QUERY && pp->sqlp_valid) {
        /* a failed PREPARE leaves no statement of that name either */
        forget_name(pp, pp->sqlp_name);
        if (s->resp_ok && pp->sqlp_text != NULL) {
            struct sql_name *n = cat_xcalloc(1, sizeof(*n));
            n->name = pp->sqlp_name;
            n->text = pp->sqlp_text;
            n->db = cat_xstrdup(s->db);
            pp->sqlp_name = NULL;
            pp->sqlp_text = NULL;
            HASH_ADD_KEYPTR(hh, pp->names, n->name, strlen(n->name), n);
        }
        pp->sqlp_valid = false;
        free(pp->sqlp_name);
        free(pp->sqlp_text);
        pp->sqlp_name = NULL;
        pp->sqlp_text = NULL;
    }
}

/* ---- client commands --------------------------------------------------- */

/* Relay the client's execute in s->query of statement ST unchanged; an
 * execute that binds its types leaves them bound on the backend's
 * statement too. */
static void
exec_relay(struct px_session *s, struct prep_stmt *st)
{
    size_t nb = ((size_t)st->n_params + 7) / 8;
    if (st->n_params > 0 && s->query.len >= EXEC_HEAD + nb + 1 &&
        s->query.data[EXEC_HEAD + nb] == 1) {
        st->bk_bound = true;
    }
    px_session_send_original(s);
}

/*
 * Decide *TEXTP (TLEN bytes: the text of S's command with its bound values
 * in place) into OUT, which the caller frees: true when OUT is a rewrite
 * that the freshness fence lets go. False means send the original; then
 * *PARKED says whether the fence parked the command instead, in which case
 * the text is kept for px_prep_fence_resume (*TEXTP taken and set NULL;
 * STMT_ID is the client statement of an execute) and nothing is sent.
 */
static bool
decide_gated(struct px_session *s, char **textp, size_t tlen, enum px_fence_at at,
             uint32_t stmt_id, struct px_dispatch_out *out, bool *parked)
{
    struct px_prep *pp = prep_get(s);
    struct px_session_info si;

    *parked = false;
    memset(out, 0, sizeof(*out));
    px_session_fill_info(s, &si);
    px_dispatch_query(&si, *textp, tlen, out);
    if (out->kind != PX_DISPATCH_REWRITE || out->sql == NULL) {
        return false;
    }
    switch (px_fence_gate(s, &out->views, at)) {
    case PX_FENCE_GO:
        return true;
    case PX_FENCE_PARKED:
        free(pp->fence_text);
        pp->fence_text = *textp;
        pp->fence_len = tlen;
        pp->fence_stmt = stmt_id;
        *textp = NULL;
        *parked = true;
        break;
    case PX_FENCE_RELAY:
        break;
    }
    px_dispatch_uncount(&out->views);
    return false;
}

/* COM_STMT_EXECUTE (LEN payload bytes, AVAIL buffered with the header) of
 * client statement ST: see px_prep_cl_command. */
static int
exec_command(struct px_session *s, struct prep_stmt *st, uint32_t len, size_t avail)
{
    struct evbuffer *in = bufferevent_get_input(s->cl);
    struct px_dispatch_out out;
    struct px_session_info si;
    const uint8_t *p, *params;
    size_t plen, nb, tlen = 0;
    bool long_data = st->long_data;
    char *text = NULL;

    if (!st->candidate) {
        st->long_data = false;
        return PX_PREP_PASS;
    }
    if (len >= PX_PKT_MAX || len > s->worker->cfg->max_query + 1 || len < EXEC_HEAD) {
        /* cannot see the types it may bind: wait for an execute that binds again */
        free(st->types);
        st->types = NULL;
        st->long_data = false;
        return PX_PREP_PASS;
    }
    if (avail < (size_t)len + PX_PKT_HDR_LEN) {
        return PX_AGAIN;
    }
    st->long_data = false;
    s->query.len = 0;
    s->query_pkts = 1;
    evbuffer_drain(in, PX_PKT_HDR_LEN);
    px_buf_reserve(&s->query, len);
    evbuffer_remove(in, s->query.data, len);
    s->query.len = len;
    p = s->query.data;
    params = p + EXEC_HEAD;
    plen = len - EXEC_HEAD;
    nb = ((size_t)st->n_params + 7) / 8;
    if (st->n_params > 0 && plen >= nb + 1 && params[nb] == 1 &&
        plen - nb - 1 >= 2u * st->n_params) {
        free(st->types);
        st->types = cat_xmalloc(2u * st->n_params);
        memcpy(st->types, params + nb + 1, 2u * st->n_params);
    }
    if (st->n_params > 0 && plen >= nb + 1 && params[nb] == 0 && !st->bk_bound &&
        st->types != NULL) {
        /* The client bound its types in an execute that the proxy ran on its
         * own statement: the backend's statement has never seen them, so an
         * execute relayed to it must carry them (else ERR 1210). */
        struct px_buf q;
        px_buf_init(&q);
        px_buf_put(&q, p, EXEC_HEAD + nb);
        px_buf_put_u8(&q, 1);
        px_buf_put(&q, st->types, 2u * st->n_params);
        px_buf_put(&q, params + nb + 1, plen - nb - 1);
        px_buf_free(&s->query);
        s->query = q;
        p = s->query.data;
        params = p + EXEC_HEAD;
        plen = s->query.len - EXEC_HEAD;
    }
    px_session_set_state(s, PX_SS_QUERY);
    px_session_fill_info(s, &si);
    if (p[5] == 0 && !long_data && s->rewrite_enabled && db_eq(st->db, s->db)) {
        text = px_prep_literal_text(st->sql, st->len, si.sql_mode, st->n_params, st->types,
                                    params, plen, &tlen);
    }
    if (text != NULL) {
        bool parked;
        if (decide_gated(s, &text, tlen, PX_FENCE_AT_EXECUTE, st->id, &out, &parked)) {
            start_rewritten(s, st, &out);
            px_dispatch_out_clear(&out);
            free(text);
            return PX_OK;
        }
        px_dispatch_out_clear(&out);
        free(text);
        if (parked) {
            return PX_OK;
        }
    }
    exec_relay(s, st);
    return PX_OK;
}

int
px_prep_cl_command(struct px_session *s, uint8_t cmd, uint32_t len)
{
    struct evbuffer *in = bufferevent_get_input(s->cl);
    size_t avail = evbuffer_get_length(in);
    uint8_t head[PX_PKT_HDR_LEN + 5];
    struct px_prep *pp;
    struct prep_stmt *st = NULL;
    uint32_t id;

    switch (cmd) {
    case PX_COM_RESET_CONNECTION:
    case PX_COM_CHANGE_USER:
        forget_all(s);
        return PX_PREP_PASS;
    case PX_COM_STMT_PREPARE:
        pp = prep_get(s);
        pp->pend_valid = false;
        free(pp->pend_sql);
        pp->pend_sql = NULL;
        if (len >= PX_PKT_MAX || len > s->worker->cfg->max_query + 1) {
            return PX_PREP_PASS; /* not remembered: never rewritten */
        }
        if (avail < (size_t)len + PX_PKT_HDR_LEN) {
            return PX_AGAIN;
        }
        {
            struct evbuffer_ptr pos;
            pp->pend_len = len - 1;
            pp->pend_sql = cat_xmalloc(pp->pend_len + 1);
            evbuffer_ptr_set(in, &pos, PX_PKT_HDR_LEN + 1, EVBUFFER_PTR_SET);
            evbuffer_copyout_from(in, &pos, pp->pend_sql, pp->pend_len);
            pp->pend_sql[pp->pend_len] = '\0';
            pp->pend_valid = true;
        }
        return PX_PREP_PASS;
    case PX_COM_STMT_CLOSE:
    case PX_COM_STMT_RESET:
    case PX_COM_STMT_SEND_LONG_DATA:
    case PX_COM_STMT_EXECUTE:
        if (s->prep == NULL || s->prep->stmts == NULL || len < 5) {
            return PX_PREP_PASS;
        }
        if (avail < sizeof(head)) {
            return PX_AGAIN;
        }
        evbuffer_copyout(in, head, sizeof(head));
        id = px_mysql_u32(head + PX_PKT_HDR_LEN + 1);
        HASH_FIND(hh, s->prep->stmts, &id, sizeof(id), st);
        if (st == NULL) {
            return PX_PREP_PASS;
        }
        switch (cmd) {
        case PX_COM_STMT_CLOSE:
            HASH_DEL(s->prep->stmts, st);
            stmt_free(st);
            return PX_PREP_PASS;
        case PX_COM_STMT_RESET:
            st->long_data = false;
            return PX_PREP_PASS;
        case PX_COM_STMT_SEND_LONG_DATA:
            st->long_data = true;
            return PX_PREP_PASS;
        default:
            return exec_command(s, st, len, avail);
        }
    default:
        return PX_PREP_PASS;
    }
}

/* ---- SQL-level PREPARE / EXECUTE -------------------------------------- */

/* Is token T the end of the statement (EOF, or ';' then EOF)? */
static bool
stmt_end(struct rw_lexer *lx, struct rw_tok t)
{
    if (t.kind == RW_TOK_EOF) {
        return true;
    }
    return rw_tok_is_op(lx, t, ";") && rw_lex_next(lx).kind == RW_TOK_EOF;
}

/* The statement name token T, lower case (caller frees), or NULL. */
static char *
name_of(struct rw_lexer *lx, struct rw_tok t)
{
    char *n, *q;
    if (t.kind != RW_TOK_IDENT && t.kind != RW_TOK_QIDENT) {
        return NULL;
    }
    n = rw_tok_text(lx, t);
    if (n == NULL) {
        return NULL;
    }
    q = cat_xstrdup_lower(n);
    free(n);
    return q;
}

/* Send the rewritten COM_QUERY text OUT in place of the client's EXECUTE
 * (s->query, the fallback should the backend reject it). */
static void
send_rewritten_query(struct px_session *s, struct px_dispatch_out *out)
{
    px_session_adopt_rewrite(s, out, "EXECUTE");
    px_session_resp_begin(s, PX_COM_QUERY, RK_RESULTSET);
    px_session_send_rewritten(s, out);
}

/* The number of `?` placeholders of SQL/LEN under MODE (SIZE_MAX: not lexed). */
static size_t
count_params(const char *sql, size_t len, uint32_t mode)
{
    size_t n_tok = 0, i, k = 0;
    struct rw_tok *tok = rw_lex_all_mode(sql, len, mode, &n_tok);
    if (tok == NULL) {
        return SIZE_MAX;
    }
    for (i = 0; i < n_tok; i++) {
        k += tok[i].kind == RW_TOK_PARAM;
    }
    free(tok);
    return k;
}

/*
 * The USING list of `EXECUTE name USING ...` from LX on (after USING), for
 * a text of N_PARAMS placeholders: each item is a constant (an unsigned
 * number, optionally after '-', a plain '...' string, NULL) or a variable
 * (@user_var, @@system_var). Fills PP's pr_lit / pr_var / pr_n / pr_nvar
 * and returns true; false (PP untouched) for any other item, a count that
 * is not N_PARAMS, or text after the list.
 */
static bool
parse_using(struct px_prep *pp, struct rw_lexer *lx, const char *sql, size_t n_params)
{
    char **lit = cat_xcalloc(n_params > 0 ? n_params : 1, sizeof(*lit));
    char **var = cat_xcalloc(n_params > 0 ? n_params : 1, sizeof(*var));
    size_t n = 0, nvar = 0, i;
    struct rw_tok t = rw_lex_next(lx);
    bool ok = n_params > 0;

    while (ok) {
        bool neg = false;
        if (n >= n_params) {
            ok = false;
            break;
        }
        if (rw_tok_is_op(lx, t, "-")) {
            neg = true;
            t = rw_lex_next(lx);
        }
        if (t.kind == RW_TOK_NUMBER) {
            for (i = 0; i < t.len && ok; i++) {
                char c = sql[t.off + i];
                ok = (c >= '0' && c <= '9') || c == '.' || c == 'e' || c == 'E';
            }
            lit[n] = cat_xstrndup(sql + t.off, t.len);
            if (neg) {
                char *w = cat_xmalloc(t.len + 4);
                snprintf(w, t.len + 4, "(-%s)", lit[n]);
                free(lit[n]);
                lit[n] = w;
            }
        } else if (neg) {
            ok = false;
        } else if (t.kind == RW_TOK_STRING && sql[t.off] == '\'' &&
                   memchr(sql + t.off, '\\', t.len) == NULL) {
            lit[n] = cat_xstrndup(sql + t.off, t.len);
        } else if (rw_tok_is(lx, t, "NULL")) {
            lit[n] = cat_xstrdup("NULL");
        } else if (t.kind == RW_TOK_VAR) {
            var[n] = cat_xstrndup(sql + t.off, t.len);
            nvar++;
        } else {
            ok = false;
        }
        n++;
        t = rw_lex_next(lx);
        if (stmt_end(lx, t)) {
            break;
        }
        if (!rw_tok_is_op(lx, t, ",")) {
            ok = false;
            break;
        }
        t = rw_lex_next(lx);
    }
    if (!ok || n != n_params) {
        lits_free(lit, n_params);
        lits_free(var, n_params);
        return false;
    }
    probe_clear(pp);
    pp->pr_lit = lit;
    pp->pr_var = var;
    pp->pr_n = n;
    pp->pr_nvar = nvar;
    return true;
}

/* The text of PP's statement with its USING values in place (all constants
 * or read by the probe); NULL when one cannot be written as a literal. */
static char *
using_text(struct px_prep *pp, uint32_t mode, size_t *tlen)
{
    return subst_params(pp->pr_text, strlen(pp->pr_text), mode, pp->pr_n, pp->pr_lit, tlen);
}

/* Dispatch the statement text TEXT/LEN of an SQL EXECUTE for SI; when the
 * dispatcher rewrites it, OUT (the EXECUTE's relay) becomes that rewrite. */
static void
take_rewrite(const struct px_session_info *si, const char *text, size_t len,
             struct px_dispatch_out *out)
{
    struct px_dispatch_out o2;
    memset(&o2, 0, sizeof(o2));
    px_dispatch_query(si, text, len, &o2);
    if (o2.kind == PX_DISPATCH_REWRITE && o2.sql != NULL) {
        px_dispatch_out_clear(out);
        *out = o2;
        return;
    }
    px_dispatch_out_clear(&o2);
}

bool
px_prep_sql_query(struct px_session *s, const struct px_session_info *si, const char *sql,
                  size_t len, struct px_dispatch_out *out)
{
    struct rw_lexer lx;
    struct rw_tok t0, t1, t2, t3;
    struct px_prep *pp;
    struct sql_name *n = NULL;
    char *name;

    rw_lex_init_mode(&lx, sql, len, si->sql_mode);
    t0 = rw_lex_next(&lx);
    if (rw_tok_is(&lx, t0, "PREPARE")) {
        t1 = rw_lex_next(&lx);
        t2 = rw_lex_next(&lx);
        name = name_of(&lx, t1);
        if (name == NULL || !rw_tok_is(&lx, t2, "FROM")) {
            free(name);
            goto other;
        }
        pp = prep_get(s);
        free(pp->sqlp_name);
        free(pp->sqlp_text);
        pp->sqlp_name = name;
        pp->sqlp_text = NULL;
        pp->sqlp_valid = true;
        t3 = rw_lex_next(&lx);
        /* only a plain '...' literal: "..." is an identifier under ANSI_QUOTES,
         * a backslash depends on NO_BACKSLASH_ESCAPES */
        if (t3.kind == RW_TOK_STRING && sql[t3.off] == '\'' &&
            memchr(sql + t3.off, '\\', t3.len) == NULL && stmt_end(&lx, rw_lex_next(&lx))) {
            pp->sqlp_text = rw_tok_text(&lx, t3);
        }
        return false;
    }
    if (rw_tok_is(&lx, t0, "EXECUTE")) {
        bool using = false;
        t1 = rw_lex_next(&lx);
        name = name_of(&lx, t1);
        if (name == NULL) {
            goto other;
        }
        if (s->prep != NULL) {
            t2 = rw_lex_next(&lx);
            using = rw_tok_is(&lx, t2, "USING");
            if (using || stmt_end(&lx, t2)) {
                HASH_FIND_STR(s->prep->names, name, n);
            }
        }
        free(name);
        if (n == NULL || !si->rewrite_enabled || !db_eq(n->db, si->db)) {
            return false;
        }
        if (using) {
            /* EXECUTE name USING v, ...: the values go into the text as
             * literals; variables are read first (px_prep_probe_start) */
            size_t tlen = 0, np = count_params(n->text, strlen(n->text), si->sql_mode);
            char *text;
            if (np == SIZE_MAX || np == 0 ||
                !px_dispatch_may_rewrite(si, n->text, strlen(n->text)) ||
                !parse_using(s->prep, &lx, sql, np)) {
                return false;
            }
            s->prep->pr_text = cat_xstrdup(n->text);
            if (s->prep->pr_nvar > 0) {
                return true;
            }
            text = using_text(s->prep, si->sql_mode, &tlen);
            probe_clear(s->prep);
            if (text == NULL) {
                return false;
            }
            take_rewrite(si, text, tlen, out);
            free(text);
            return false;
        }
        take_rewrite(si, n->text, strlen(n->text), out);
        return false;
    }
    if (rw_tok_is(&lx, t0, "DEALLOCATE") || rw_tok_is(&lx, t0, "DROP")) {
        t1 = rw_lex_next(&lx);
        if (rw_tok_is(&lx, t1, "PREPARE")) {
            name = name_of(&lx, rw_lex_next(&lx));
            if (s->prep != NULL && name != NULL) {
                forget_name(s->prep, name);
            }
            free(name);
            return false;
        }
    }
other:
    /* A PREPARE the proxy did not follow (inside a multi-statement packet,
     * EXECUTE IMMEDIATE ...) may have replaced a name: forget them all. */
    if (s->prep != NULL && s->prep->names != NULL && cat_contains_ci(sql, len, "prepare")) {
        forget_names(s->prep);
    }
    return false;
}

/* ---- EXECUTE ... USING @var: the user-variable probe ------------------ */

/* The probe's last four columns: what a string value may be written as. */
#define PROBE_TAIL                                                                             \
    ", @@collation_connection, @@character_set_client, @@character_set_connection, "          \
    "@@character_set_results"

void
px_prep_probe_start(struct px_session *s)
{
    struct px_prep *pp = s->prep;
    struct px_buf pl;
    size_t i;
    bool first = true;

    px_buf_init(&pl);
    px_buf_put_u8(&pl, PX_COM_QUERY);
    px_buf_put(&pl, "SELECT ", 7);
    for (i = 0; i < pp->pr_n; i++) {
        if (pp->pr_var[i] == NULL) {
            continue;
        }
        if (!first) {
            px_buf_put(&pl, ", ", 2);
        }
        first = false;
        px_buf_put(&pl, pp->pr_var[i], strlen(pp->pr_var[i]));
        px_buf_put(&pl, ", COLLATION(", 12);
        px_buf_put(&pl, pp->pr_var[i], strlen(pp->pr_var[i]));
        px_buf_put(&pl, ")", 1);
    }
    px_buf_put(&pl, PROBE_TAIL, sizeof(PROBE_TAIL) - 1);
    pp->pr_cols = 2 * pp->pr_nvar + 4;
    pp->pr_col = cat_xcalloc(pp->pr_cols, sizeof(*pp->pr_col));
    pp->pr_phase = PR_FIRST;
    pp->pr_got = 0;
    pp->pr_rows = 0;
    pp->pr_failed = false;
    pp->phase = PP_PROBE;
    px_log_debug("S-%llu: EXECUTE USING: reading %zu variable(s)", (unsigned long long)s->id,
                 pp->pr_nvar);
    (void)px_session_send_command(s, pl.data, pl.len);
    px_buf_free(&pl);
}

/* Probe column I's value, NULL when SQL NULL or out of range. */
static const char *
probe_val(const struct px_prep *pp, size_t i)
{
    return i < pp->pr_cols ? pp->pr_col[i].val : NULL;
}

/* The probe's response is complete: run the client's EXECUTE, rewritten
 * with the values read when they all make literals and a view answers. */
static void
probe_done(struct px_session *s)
{
    struct px_prep *pp = s->prep;
    struct px_session_info si;
    struct px_dispatch_out out;
    char *text = NULL;
    size_t tlen = 0, i, j = 0, base = 2 * pp->pr_nvar;
    bool ok = !pp->pr_failed && pp->pr_rows == 1;

    pp->phase = PP_NONE;
    px_session_fill_info(s, &si);
    if (ok) {
        const char *cc = probe_val(pp, base + 1), *cn = probe_val(pp, base + 2),
                   *cr = probe_val(pp, base + 3);
        bool str_ok = cc != NULL && cn != NULL && cr != NULL && strcmp(cc, cn) == 0 &&
                      strcmp(cn, cr) == 0;
        for (i = 0; i < pp->pr_n && ok; i++) {
            struct cat_buf b = {0};
            const struct probe_col *v;
            if (pp->pr_var[i] == NULL) {
                continue;
            }
            v = &pp->pr_col[2 * j];
            ok = px_prep_var_literal(&b, v->type, v->val, v->len, probe_val(pp, 2 * j + 1),
                                     probe_val(pp, base), str_ok);
            j++;
            free(pp->pr_lit[i]);
            pp->pr_lit[i] = cat_buf_take(&b);
            ok = ok && pp->pr_lit[i] != NULL;
        }
    }
    if (ok) {
        text = using_text(pp, si.sql_mode, &tlen);
    }
    probe_clear(pp);
    if (text != NULL) {
        bool parked, go = decide_gated(s, &text, tlen, PX_FENCE_AT_USING, 0, &out, &parked);
        free(text);
        if (go) {
            send_rewritten_query(s, &out);
            px_dispatch_out_clear(&out);
            return;
        }
        px_dispatch_out_clear(&out);
        if (parked) {
            return;
        }
    } else {
        px_log_debug("S-%llu: EXECUTE USING: values not written as literals; relayed",
                     (unsigned long long)s->id);
    }
    px_session_send_original(s);
}

/* Read one whole probe payload P/LEN into PP; true when the response ended. */
static bool
probe_payload(struct px_session *s, struct px_prep *pp, const uint8_t *p, size_t len)
{
    bool dep = (s->caps & PX_CLIENT_DEPRECATE_EOF) != 0;
    const uint8_t *q = p, *end = p + len, *str;
    uint64_t n;
    size_t i, sl;
    bool is_null;

    if (len > 0 && p[0] == 0xff && pp->pr_phase != PR_COLS) {
        pp->pr_failed = true; /* the backend refused the probe: the original says why */
        return true;
    }
    switch (pp->pr_phase) {
    case PR_FIRST:
        if (len == 0 || p[0] == 0x00 || p[0] == 0xfb ||
            px_mysql_get_lenenc(&q, end, &n, NULL) != PX_OK || n != pp->pr_cols) {
            /* not the result set asked for: nothing more to read can be
             * assumed, so this ends the probe (a LOCAL INFILE cannot come) */
            pp->pr_failed = true;
            return true;
        }
        pp->pr_phase = PR_COLS;
        return false;
    case PR_COLS:
        /* catalog, schema, table, org_table, name, org_name, 0x0c, charset,
         * length, type (MariaDB KB "Result Set Packets", column definition) */
        for (i = 0; i < 6; i++) {
            if (px_mysql_get_lenenc_str(&q, end, &str, &sl, NULL) != PX_OK) {
                pp->pr_failed = true;
                break;
            }
        }
        if (i == 6 && end - q >= 8) {
            pp->pr_col[pp->pr_got].type = q[7];
        } else {
            pp->pr_failed = true;
        }
        if (++pp->pr_got == pp->pr_cols) {
            pp->pr_phase = dep ? PR_ROWS : PR_COLS_EOF;
        }
        return false;
    case PR_COLS_EOF:
        pp->pr_phase = PR_ROWS;
        return false;
    case PR_ROWS:
        if (len > 0 && p[0] == 0xfe) {
            return true; /* EOF, or the OK that ends it (CLIENT_DEPRECATE_EOF) */
        }
        if (++pp->pr_rows > 1) {
            return false;
        }
        for (i = 0; i < pp->pr_cols; i++) {
            if (px_mysql_get_lenenc_str(&q, end, &str, &sl, &is_null) != PX_OK) {
                pp->pr_failed = true;
                break;
            }
            if (!is_null) {
                pp->pr_col[i].val = px_resp_dup_bytes(str, sl);
                pp->pr_col[i].len = sl;
            }
        }
        return false;
    }
    return true;
}

int
px_prep_probe_packet(struct px_session *s, uint8_t *hdr, uint32_t len)
{
    struct px_prep *pp = s->prep;
    struct evbuffer *in;
    struct px_buf pl;
    uint8_t seq;
    bool end;

    if (pp == NULL || pp->phase != PP_PROBE) {
        return PX_PREP_PASS;
    }
    if (len >= PX_PKT_MAX || len > s->worker->cfg->max_query) {
        /* a value too big to write into a statement: skip the packet (a row;
         * a column definition cannot be this long) */
        pp->pr_failed = true;
        if (pp->pr_phase == PR_ROWS) {
            pp->pr_rows++;
        }
        px_session_bk_begin_packet(s, hdr, len, SINK_DISCARD);
        return PX_OK;
    }
    in = bufferevent_get_input(s->bk);
    px_buf_init(&pl);
    if (px_mysql_take_payload(in, len, &pl, &seq) != PX_OK) {
        px_buf_free(&pl);
        return PX_AGAIN;
    }
    end = probe_payload(s, pp, pl.data, pl.len);
    px_buf_free(&pl);
    if (end) {
        probe_done(s);
    }
    return PX_OK;
}

void
px_prep_fence_resume(struct px_session *s, enum px_fence_at at)
{
    struct px_prep *pp = prep_get(s);
    struct px_dispatch_out out;
    struct prep_stmt *st = NULL;
    char *text = pp->fence_text;
    size_t tlen = pp->fence_len;
    bool parked, go;

    pp->fence_text = NULL;
    if (at == PX_FENCE_AT_EXECUTE) {
        HASH_FIND(hh, pp->stmts, &pp->fence_stmt, sizeof(pp->fence_stmt), st);
    }
    if (text == NULL || (at == PX_FENCE_AT_EXECUTE && st == NULL)) {
        free(text);
        px_session_send_original(s);
        return;
    }
    /* the fence has passed or failed for this command: never parked again */
    go = decide_gated(s, &text, tlen, at, pp->fence_stmt, &out, &parked);
    free(text);
    if (go) {
        if (at == PX_FENCE_AT_EXECUTE) {
            start_rewritten(s, st, &out);
        } else {
            send_rewritten_query(s, &out);
        }
    } else if (at == PX_FENCE_AT_EXECUTE) {
        exec_relay(s, st);
    } else {
        px_session_send_original(s);
    }
    px_dispatch_out_clear(&out);
}
