/*
 * cat_part.c - partition model, derivation, per-partition state, marking,
 * introspection and persistence of partitioned views (see cat_part.h;
 * SPEC §4, §5, §9; Doris best practices §3.1, §4).
 *
 *   base change (value V of base_col, or a range of them)
 *        │  cat_part_key(V) = floor_unit(floor_derivation(V))
 *        v
 *   view partition [lo, hi) ── stale_since = min(stale_since, when)
 *        (missing: created stale, never refreshed; p_null always with it
 *         when the view column is nullable)
 *
 *   unattributed change (binlog row event, multi-table DML, probe of an
 *   unpartitioned base, a non-partition base table) ── cat_mark_table():
 *   view-level stale_since = every partition and every gap stale.
 */
#include "cat_part.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cat_freshness.h"
#include "cat_internal.h"
#include "rw_lex.h"

/* ------------------------------------------------------------ dates */

int64_t
cat_day_from_ymd(int y, int m, int d)
{
    /* H. Hinnant, "chrono-Compatible Low-Level Date Algorithms", days_from_civil */
    int64_t yy = (int64_t)y - (m <= 2);
    int64_t era = (yy >= 0 ? yy : yy - 399) / 400;
    int64_t yoe = yy - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

void
cat_day_to_ymd(int64_t z, int *y, int *m, int *d)
{
    int64_t era, doe, yoe, doy, mp, yy;
    z += 719468;
    era = (z >= 0 ? z : z - 146096) / 146097;
    doe = z - era * 146097;
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    yy = yoe + era * 400;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yy + (*m <= 2));
}

bool
cat_day_parse(const char *s, int64_t *day)
{
    int y, m, d, n = 0;
    while (s != NULL && isspace((unsigned char)*s)) {
        s++;
    }
    if (s == NULL) {
        return false;
    }
    if (sscanf(s, "%4d-%2d-%2d%n", &y, &m, &d, &n) == 3 && n >= 8) {
        /* fine */
    } else if (strlen(s) >= 8 && isdigit((unsigned char)s[0]) &&
               sscanf(s, "%4d%2d%2d%n", &y, &m, &d, &n) == 3 && n == 8) {
        /* YYYYMMDD */
    } else {
        return false;
    }
    if (y < 1 || m < 1 || m > 12 || d < 1 || d > 31) {
        return false;
    }
    /* what follows must be empty or a time */
    s += n;
    if (*s != '\0' && *s != ' ' && *s != 'T') {
        return false;
    }
    *day = cat_day_from_ymd(y, m, d);
    return true;
}

int64_t
cat_unit_floor(int64_t day, enum cat_punit unit)
{
    int y, m, d;
    int64_t wd;
    switch (unit) {
    case CAT_PU_WEEK:
        wd = ((day + 3) % 7 + 7) % 7; /* 1970-01-01 was a Thursday; Monday = 0 */
        return day - wd;
    case CAT_PU_MONTH:
        cat_day_to_ymd(day, &y, &m, &d);
        return cat_day_from_ymd(y, m, 1);
    case CAT_PU_QUARTER:
        cat_day_to_ymd(day, &y, &m, &d);
        return cat_day_from_ymd(y, (m - 1) / 3 * 3 + 1, 1);
    case CAT_PU_YEAR:
        cat_day_to_ymd(day, &y, &m, &d);
        return cat_day_from_ymd(y, 1, 1);
    default:
        return day;
    }
}

int64_t
cat_unit_next(int64_t lo, enum cat_punit unit)
{
    int y, m, d;
    switch (unit) {
    case CAT_PU_WEEK:
        return lo + 7;
    case CAT_PU_MONTH:
    case CAT_PU_QUARTER:
        cat_day_to_ymd(lo, &y, &m, &d);
        m += unit == CAT_PU_MONTH ? 1 : 3;
        if (m > 12) {
            m -= 12;
            y++;
        }
        return cat_day_from_ymd(y, m, 1);
    case CAT_PU_YEAR:
        cat_day_to_ymd(lo, &y, &m, &d);
        return cat_day_from_ymd(y + 1, 1, 1);
    default:
        return lo + 1;
    }
}

enum cat_punit
cat_unit_parse(const char *s)
{
    static const char *const names[] = {"", "day", "week", "month", "quarter", "year"};
    size_t i;
    for (i = 1; s != NULL && i < sizeof(names) / sizeof(names[0]); i++) {
        if (cat_streq_ci(s, names[i])) {
            return (enum cat_punit)i;
        }
    }
    return CAT_PU_NONE;
}

const char *
cat_unit_name(enum cat_punit u)
{
    static const char *const names[] = {"none", "day", "week", "month", "quarter", "year"};
    return (unsigned)u < sizeof(names) / sizeof(names[0]) ? names[u] : "none";
}

int64_t
cat_part_key(const struct cat_part_spec *spec, int64_t v)
{
    return cat_unit_floor(cat_unit_floor(v, spec->base_floor), spec->unit);
}

/* 'YYYY-MM-DD' of DAY into BUF. */
static char *
day_text(int64_t day, char *buf, size_t len)
{
    int y, m, d;
    cat_day_to_ymd(day, &y, &m, &d);
    snprintf(buf, len, "%04d-%02d-%02d", y, m, d);
    return buf;
}

/* ------------------------------------------------------------ spec */

struct cat_part_spec *
cat_part_spec_parse(const char *text, char *err, size_t errlen)
{
    struct rw_lexer lx;
    struct rw_tok t[16];
    size_t n = 0, i = 0, end;
    struct cat_part_spec *s;
    char *unit = NULL, *col = NULL;

    rw_lex_init(&lx, text, strlen(text));
    while (n < 16) {
        t[n] = rw_lex_next(&lx);
        if (t[n].kind == RW_TOK_EOF) {
            break;
        }
        n++;
    }
    if (n == 16) {
        snprintf(err, errlen, "PARTITION BY %s: expected (col) or (date_trunc(col, 'unit'))", text);
        return NULL;
    }
    end = n;
    /* strip enclosing parentheses */
    while (end >= 2 && rw_tok_is_op(&lx, t[i], "(") && rw_tok_is_op(&lx, t[end - 1], ")")) {
        i++;
        end--;
    }
    if (end - i == 1 && (t[i].kind == RW_TOK_IDENT || t[i].kind == RW_TOK_QIDENT)) {
        col = rw_tok_text(&lx, t[i]);
    } else if (end - i == 6 && rw_tok_is(&lx, t[i], "date_trunc") &&
               rw_tok_is_op(&lx, t[i + 1], "(") && rw_tok_is_op(&lx, t[i + 3], ",") &&
               rw_tok_is_op(&lx, t[i + 5], ")")) {
        struct rw_tok a = t[i + 2], b = t[i + 4];
        if (a.kind == RW_TOK_STRING && (b.kind == RW_TOK_IDENT || b.kind == RW_TOK_QIDENT)) {
            unit = rw_tok_text(&lx, a);
            col = rw_tok_text(&lx, b);
        } else if (b.kind == RW_TOK_STRING &&
                   (a.kind == RW_TOK_IDENT || a.kind == RW_TOK_QIDENT)) {
            unit = rw_tok_text(&lx, b);
            col = rw_tok_text(&lx, a);
        }
    }
    if (col == NULL) {
        free(unit);
        snprintf(err, errlen,
                 "PARTITION BY %s: expected (col) or (date_trunc(col, 'day'|'week'|'month'|"
                 "'quarter'|'year'))", text);
        return NULL;
    }
    s = cat_xcalloc(1, sizeof(*s));
    s->col = col;
    s->unit = CAT_PU_DAY;
    s->sync_unit = CAT_PU_DAY;
    if (unit != NULL) {
        s->unit = cat_unit_parse(unit);
        if (s->unit == CAT_PU_NONE) {
            snprintf(err, errlen,
                     "PARTITION BY date_trunc unit '%s' is not supported (day, week, month, "
                     "quarter, year)", unit);
            free(unit);
            cat_part_spec_free(s);
            return NULL;
        }
        free(unit);
    }
    return s;
}

struct cat_part_spec *
cat_part_spec_dup(const struct cat_part_spec *s)
{
    struct cat_part_spec *d = cat_xcalloc(1, sizeof(*d));
    *d = *s;
    d->col = cat_xstrdup(s->col);
    d->col_type = cat_xstrdup(s->col_type);
    d->base_key = cat_xstrdup(s->base_key);
    d->base_col = cat_xstrdup(s->base_col);
    d->unmapped_why = cat_xstrdup(s->unmapped_why);
    return d;
}

void
cat_part_spec_free(struct cat_part_spec *s)
{
    if (s == NULL) {
        return;
    }
    free(s->col);
    free(s->col_type);
    free(s->base_key);
    free(s->base_col);
    free(s->unmapped_why);
    free(s);
}

void
cat_part_apply_props(struct cat_part_spec *s, const char *json)
{
    char **k = NULL, **v = NULL;
    int n, i;
    s->sync_limit = 0;
    s->sync_unit = CAT_PU_DAY;
    n = json != NULL ? cat_json_parse_object(json, &k, &v) : -1;
    for (i = 0; i < n; i++) {
        if (strcmp(k[i], "partition_sync_limit") == 0) {
            s->sync_limit = strtoll(v[i], NULL, 10);
            if (s->sync_limit < 0) {
                s->sync_limit = 0;
            }
        } else if (strcmp(k[i], "partition_sync_time_unit") == 0) {
            enum cat_punit u = cat_unit_parse(v[i]);
            s->sync_unit = u == CAT_PU_NONE ? CAT_PU_DAY : u;
        }
    }
    if (n >= 0) {
        /* an empty object still allocates the arrays */
        cat_strv_free(k, (size_t)n);
        cat_strv_free(v, (size_t)n);
    }
}

/* ---- derivation ---- */

/* Token cursor over a text. */
struct toks {
    struct rw_lexer lx;             /* lexer (src borrowed) */
    struct rw_tok *t;               /* tokens */
    size_t n;                       /* count (without EOF) */
};

static void
toks_init(struct toks *k, const char *s)
{
    rw_lex_init(&k->lx, s, strlen(s));
    k->t = rw_lex_all(s, strlen(s), &k->n);
    if (k->t == NULL) {
        abort();
    }
    /* drop hints */
    {
        size_t i, j = 0;
        for (i = 0; i < k->n; i++) {
            if (k->t[i].kind != RW_TOK_HINT) {
                k->t[j++] = k->t[i];
            }
        }
        k->n = j;
    }
}

static bool
is_ident(struct rw_tok t)
{
    return t.kind == RW_TOK_IDENT || t.kind == RW_TOK_QIDENT;
}

/* Lower-cased text of token T. */
static char *
tok_low(const struct toks *k, struct rw_tok t)
{
    char *s = rw_tok_text(&k->lx, t);
    size_t i;
    if (s == NULL) {
        abort();
    }
    for (i = 0; s[i] != '\0'; i++) {
        s[i] = (char)tolower((unsigned char)s[i]);
    }
    return s;
}

/*
 * Strip the wrappers the derivation understands from tokens [A, B) (an
 * output expression) and find the base column: sets *COL_TOK (index of
 * the column token), *QUAL_TOK (qualifier index or SIZE_MAX) and *FLOOR.
 * Returns false when the expression is anything else.
 */
static bool
derive_expr(const struct toks *k, size_t a, size_t b, size_t *col_tok, size_t *qual_tok,
            enum cat_punit *floor)
{
    const struct rw_lexer *lx = &k->lx;
    for (;;) {
        if (b - a == 1 && is_ident(k->t[a])) {
            *col_tok = a;
            *qual_tok = SIZE_MAX;
            return true;
        }
        if (b - a == 3 && is_ident(k->t[a]) && rw_tok_is_op(lx, k->t[a + 1], ".") &&
            is_ident(k->t[a + 2])) {
            *col_tok = a + 2;
            *qual_tok = a;
            return true;
        }
        if (b - a >= 4 && rw_tok_is_op(lx, k->t[a + 1], "(") &&
            rw_tok_is_op(lx, k->t[b - 1], ")")) {
            /* F ( inner [, 'arg'] ) or CAST ( inner AS type ) */
            size_t in_a = a + 2, in_b = b - 1;
            if (rw_tok_is(lx, k->t[a], "DATE") || rw_tok_is(lx, k->t[a], "TO_DATE")) {
                if (*floor < CAT_PU_DAY) {
                    *floor = CAT_PU_DAY;
                }
                a = in_a;
                b = in_b;
                continue;
            }
            if (rw_tok_is(lx, k->t[a], "CAST") && in_b - in_a >= 3 &&
                rw_tok_is(lx, k->t[in_b - 2], "AS")) {
                if (rw_tok_is(lx, k->t[in_b - 1], "DATE")) {
                    if (*floor < CAT_PU_DAY) {
                        *floor = CAT_PU_DAY;
                    }
                } else if (!rw_tok_is(lx, k->t[in_b - 1], "DATETIME")) {
                    return false;
                }
                a = in_a;
                b = in_b - 2;
                continue;
            }
            if (rw_tok_is(lx, k->t[a], "CAST") && in_b - in_a >= 6 &&
                rw_tok_is(lx, k->t[in_b - 5], "AS") && rw_tok_is(lx, k->t[in_b - 4], "DATETIME")) {
                /* CAST(x AS DATETIME(n)) */
                a = in_a;
                b = in_b - 5;
                continue;
            }
            if ((rw_tok_is(lx, k->t[a], "DATE_FORMAT") || rw_tok_is(lx, k->t[a], "date_trunc")) &&
                in_b - in_a >= 3 && rw_tok_is_op(lx, k->t[in_b - 2], ",") &&
                k->t[in_b - 1].kind == RW_TOK_STRING) {
                char *fmt = rw_tok_text(lx, k->t[in_b - 1]);
                enum cat_punit u = CAT_PU_NONE;
                if (rw_tok_is(lx, k->t[a], "date_trunc")) {
                    u = cat_unit_parse(fmt);
                } else if (strcmp(fmt, "%Y-%m-%d") == 0) {
                    u = CAT_PU_DAY;
                } else if (strcmp(fmt, "%Y-%m-01") == 0) {
                    u = CAT_PU_MONTH;
                } else if (strcmp(fmt, "%Y-01-01") == 0) {
                    u = CAT_PU_YEAR;
                }
                free(fmt);
                if (u == CAT_PU_NONE) {
                    return false;
                }
                /* nested floors: the coarser one wins for day/month/year chains */
                if (u > *floor) {
                    *floor = u;
                }
                a = in_a;
                b = in_b - 2;
                continue;
            }
        }
        return false;
    }
}

/*
 * Find the output expression of view column COL in the definition DEF
 * (top-level select list). Returns true with [*A, *B) token bounds.
 */
static bool
find_output(const struct toks *k, const struct cat_mv *mv, const char *col, size_t *oa,
            size_t *ob)
{
    const struct rw_lexer *lx = &k->lx;
    size_t i = 0, start, item = 0;
    int depth = 0;
    if (k->n == 0 || !rw_tok_is(lx, k->t[0], "SELECT")) {
        return false; /* WITH ... or parenthesised: not followed */
    }
    i = 1;
    while (i < k->n && (rw_tok_is(lx, k->t[i], "DISTINCT") || rw_tok_is(lx, k->t[i], "ALL") ||
                        rw_tok_is(lx, k->t[i], "STRAIGHT_JOIN") ||
                        rw_tok_is(lx, k->t[i], "SQL_NO_CACHE"))) {
        i++;
    }
    start = i;
    for (; i <= k->n; i++) {
        bool at_end = i == k->n || (depth == 0 && (rw_tok_is_op(lx, k->t[i], ",") ||
                                                   rw_tok_is(lx, k->t[i], "FROM")));
        if (i < k->n && rw_tok_is_op(lx, k->t[i], "(")) {
            depth++;
        } else if (i < k->n && rw_tok_is_op(lx, k->t[i], ")")) {
            depth--;
        }
        if (!at_end) {
            continue;
        }
        {
            size_t a = start, b = i;
            char *name = NULL;
            if (b > a + 1 && is_ident(k->t[b - 1]) && rw_tok_is(lx, k->t[b - 2], "AS")) {
                name = tok_low(k, k->t[b - 1]);
                b -= 2;
            } else if (b > a + 1 && is_ident(k->t[b - 1]) &&
                       (rw_tok_is_op(lx, k->t[b - 2], ")") || is_ident(k->t[b - 2]))) {
                name = tok_low(k, k->t[b - 1]);
                b -= 1;
            } else if (b > a && is_ident(k->t[b - 1])) {
                name = tok_low(k, k->t[b - 1]);
            }
            if (mv->n_cols > 0) {
                free(name);
                name = item < mv->n_cols ? cat_xstrdup(mv->col_names[item]) : NULL;
            }
            if (name != NULL && cat_streq_ci(name, col)) {
                free(name);
                *oa = a;
                *ob = b;
                return true;
            }
            free(name);
        }
        if (i == k->n || rw_tok_is(lx, k->t[i], "FROM")) {
            break;
        }
        start = i + 1;
        item++;
    }
    return false;
}

/*
 * Number of identifier tokens of K equal (case-insensitively) to NAME that
 * may name a table: an identifier followed by "." is a qualifier
 * (tbl.col, or the db of db.tbl), not an appearance of the table, so
 * "FROM lineitem ... ON lineitem.l_orderkey = ..." counts once. A column
 * that happens to share the table's name still counts (over-counting only
 * leaves the view unmapped: safe).
 */
static size_t
count_ident(const struct toks *k, const char *name)
{
    size_t i, n = 0;
    for (i = 0; i < k->n; i++) {
        if (i + 1 < k->n && rw_tok_is_op(&k->lx, k->t[i + 1], ".")) {
            continue;
        }
        if (is_ident(k->t[i])) {
            char *s = tok_low(k, k->t[i]);
            n += strcmp(s, name) == 0;
            free(s);
        }
    }
    return n;
}

/* Base table that alias ALIAS names in K ("tbl [AS] alias"), lower case or NULL. */
static char *
alias_table(const struct toks *k, const char *alias)
{
    size_t i;
    for (i = 1; i < k->n; i++) {
        size_t j = i - 1;
        char *s;
        if (!is_ident(k->t[i])) {
            continue;
        }
        s = tok_low(k, k->t[i]);
        if (strcmp(s, alias) != 0) {
            free(s);
            continue;
        }
        free(s);
        if (rw_tok_is(&k->lx, k->t[j], "AS") && j > 0) {
            j--;
        }
        if (is_ident(k->t[j])) {
            return tok_low(k, k->t[j]);
        }
    }
    return NULL;
}

/* Run Q on C and return its single-row result's first column (caller frees) or NULL. */
static char *
q_value(MYSQL *c, const char *q)
{
    MYSQL_RES *res;
    MYSQL_ROW row;
    char *v = NULL;
    if (mysql_real_query(c, q, strlen(q)) != 0) {
        return NULL;
    }
    res = mysql_store_result(c);
    if (res == NULL) {
        return NULL;
    }
    row = mysql_fetch_row(res);
    if (row != NULL && row[0] != NULL) {
        v = cat_xstrdup(row[0]);
    }
    mysql_free_result(res);
    return v;
}

static void
set_unmapped(struct cat_part_spec *s, const char *why)
{
    free(s->unmapped_why);
    s->unmapped_why = cat_xstrdup(why);
    free(s->base_key);
    free(s->base_col);
    s->base_key = NULL;
    s->base_col = NULL;
    s->base_partitioned = false;
}

/* Is DB.TABLE RANGE partitioned on COL? Sets to_days for RANGE(TO_DAYS(col)). */
static bool
base_range_partitioned(MYSQL *c, const char *db, const char *table, const char *col,
                       bool *to_days)
{
    struct cat_buf q = {0};
    MYSQL_RES *res;
    MYSQL_ROW row;
    bool ok = false;
    cat_buf_puts(&q, "SELECT PARTITION_METHOD, PARTITION_EXPRESSION FROM information_schema."
                     "PARTITIONS WHERE TABLE_SCHEMA = ");
    cat_buf_lit(&q, db);
    cat_buf_puts(&q, " AND TABLE_NAME = ");
    cat_buf_lit(&q, table);
    cat_buf_puts(&q, " AND PARTITION_NAME IS NOT NULL LIMIT 1");
    *to_days = false;
    if (mysql_real_query(c, q.p, q.len) == 0 && (res = mysql_store_result(c)) != NULL) {
        row = mysql_fetch_row(res);
        if (row != NULL && row[0] != NULL && row[1] != NULL) {
            char expr[256];
            size_t i, j = 0;
            for (i = 0; row[1][i] != '\0' && j + 1 < sizeof(expr); i++) {
                if (row[1][i] != '`' && row[1][i] != ' ') {
                    expr[j++] = (char)tolower((unsigned char)row[1][i]);
                }
            }
            expr[j] = '\0';
            if (strcmp(row[0], "RANGE COLUMNS") == 0 && strcmp(expr, col) == 0) {
                ok = true;
            } else if (strcmp(row[0], "RANGE") == 0 && strncmp(expr, "to_days(", 8) == 0 &&
                       strncmp(expr + 8, col, strlen(col)) == 0 &&
                       strcmp(expr + 8 + strlen(col), ")") == 0) {
                ok = true;
                *to_days = true;
            }
        }
        mysql_free_result(res);
    }
    cat_buf_free(&q);
    return ok;
}

int
cat_part_resolve(MYSQL *c, struct cat_mv *mv, char *err, size_t errlen)
{
    struct cat_part_spec *s = mv->part;
    struct cat_buf q = {0};
    struct toks k;
    char *type, *why = NULL;
    size_t oa, ob, col_tok, qual_tok, i;
    enum cat_punit fl = CAT_PU_NONE;
    char *col = NULL, *qual = NULL, *qual_table = NULL, *found = NULL;
    size_t n_found = 0;

    cat_part_apply_props(s, mv->properties_json);
    /* the storage column: exists, and is a date */
    cat_buf_puts(&q, "SELECT DATA_TYPE FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ");
    cat_buf_lit(&q, mv->db);
    cat_buf_puts(&q, " AND TABLE_NAME = ");
    cat_buf_lit(&q, mv->name);
    cat_buf_puts(&q, " AND COLUMN_NAME = ");
    cat_buf_lit(&q, s->col);
    type = q_value(c, q.p);
    cat_buf_free(&q);
    if (type == NULL) {
        snprintf(err, errlen,
                 "PARTITION BY column `%s` is not an output column of materialized view %s.%s",
                 s->col, mv->db, mv->name);
        return -1;
    }
    for (i = 0; type[i] != '\0'; i++) {
        type[i] = (char)tolower((unsigned char)type[i]);
    }
    if (strcmp(type, "date") != 0 && strcmp(type, "datetime") != 0 &&
        strcmp(type, "timestamp") != 0) {
        snprintf(err, errlen,
                 "PARTITION BY column `%s` of %s.%s is %s: partitioned views need a DATE or "
                 "DATETIME column derived from the partition column of a base table",
                 s->col, mv->db, mv->name, type);
        free(type);
        return -1;
    }
    free(s->col_type);
    s->col_type = type;

    /* a backend VIEW among the inputs: writes to the tables under it are
     * not attributed to it, so partitions could not be kept honest */
    for (i = 0; i < mv->n_bases; i++) {
        const char *dot = strchr(mv->bases[i], '.');
        char *dbn, *tt;
        if (dot == NULL) {
            continue;
        }
        dbn = cat_xstrndup(mv->bases[i], (size_t)(dot - mv->bases[i]));
        cat_buf_puts(&q, "SELECT TABLE_TYPE FROM information_schema.TABLES WHERE TABLE_SCHEMA = ");
        cat_buf_lit(&q, dbn);
        cat_buf_puts(&q, " AND TABLE_NAME = ");
        cat_buf_lit(&q, dot + 1);
        tt = q_value(c, q.p);
        cat_buf_free(&q);
        free(dbn);
        if (tt != NULL && strcmp(tt, "VIEW") == 0) {
            snprintf(err, errlen,
                     "partitioned materialized view %s.%s reads the backend view %s: the "
                     "partition column must come from a base table (RANGE partitioned by a "
                     "date column, or unpartitioned)", mv->db, mv->name, mv->bases[i]);
            free(tt);
            return -1;
        }
        free(tt);
    }
    /* the derivation, from the definition text */
    toks_init(&k, mv->query_sql);
    if (!find_output(&k, mv, s->col, &oa, &ob)) {
        why = "the column's expression could not be located in the definition (WITH, SELECT * "
              "or a parenthesised query)";
        goto unmapped;
    }
    if (!derive_expr(&k, oa, ob, &col_tok, &qual_tok, &fl)) {
        why = "the column is not a base column or DATE()/CAST()/date_trunc() of one";
        goto unmapped;
    }
    col = tok_low(&k, k.t[col_tok]);
    if (qual_tok != SIZE_MAX) {
        qual = tok_low(&k, k.t[qual_tok]);
        qual_table = alias_table(&k, qual);
        if (qual_table == NULL) {
            qual_table = cat_xstrdup(qual);
        }
    }
    for (i = 0; i < mv->n_bases; i++) {
        const char *dot = strchr(mv->bases[i], '.');
        const char *tname = dot ? dot + 1 : mv->bases[i];
        char *v;
        if (qual_table != NULL && strcmp(qual_table, tname) != 0 && strcmp(qual, tname) != 0) {
            continue;
        }
        cat_buf_puts(&q, "SELECT CONCAT(t.TABLE_TYPE, ':', c.DATA_TYPE) FROM information_schema."
                         "COLUMNS c JOIN information_schema.TABLES t ON t.TABLE_SCHEMA = "
                         "c.TABLE_SCHEMA AND t.TABLE_NAME = c.TABLE_NAME WHERE c.TABLE_SCHEMA = ");
        {
            /* constants on both sides: each is a one-table lookup, not a scan
             * of every database (which crashed MariaDB 10.11 under DDL) */
            char *dbn = dot ? cat_xstrndup(mv->bases[i], (size_t)(dot - mv->bases[i]))
                            : cat_xstrdup(mv->db);
            cat_buf_lit(&q, dbn);
            cat_buf_puts(&q, " AND t.TABLE_SCHEMA = ");
            cat_buf_lit(&q, dbn);
            free(dbn);
        }
        cat_buf_puts(&q, " AND c.TABLE_NAME = ");
        cat_buf_lit(&q, tname);
        cat_buf_puts(&q, " AND t.TABLE_NAME = ");
        cat_buf_lit(&q, tname);
        cat_buf_puts(&q, " AND LOWER(c.COLUMN_NAME) = ");
        cat_buf_lit(&q, col);
        v = q_value(c, q.p);
        cat_buf_free(&q);
        if (v != NULL) {
            n_found++;
            if (n_found == 1) {
                found = cat_xstrdup(mv->bases[i]);
                if (strncmp(v, "BASE TABLE:", 11) != 0) {
                    why = "the column comes from a backend view, not a base table";
                }
                if (strstr(v, ":date") == NULL && strstr(v, ":timestamp") == NULL) {
                    why = "the base column is not DATE/DATETIME";
                }
            }
            free(v);
        }
    }
    if (n_found == 0) {
        why = "no base table of the definition has that column";
        goto unmapped;
    }
    if (n_found > 1) {
        why = "several base tables have a column of that name";
        goto unmapped;
    }
    if (why != NULL && strstr(why, "backend view") != NULL) {
        /* writes to the tables under a backend view are not attributed to
         * it, so the view's partitions could not be kept honest */
        snprintf(err, errlen,
                 "PARTITION BY column `%s` of %s.%s derives from the backend view %s: the "
                 "partition column must come from a base table (RANGE partitioned by a date "
                 "column, or unpartitioned)", s->col, mv->db, mv->name, found);
        free(k.t);
        free(col);
        free(qual);
        free(qual_table);
        free(found);
        return -1;
    }
    if (why != NULL) {
        goto unmapped;
    }
    {
        const char *tname = strchr(found, '.') + 1;
        if (count_ident(&k, tname) != 1) {
            why = "the base table appears more than once in the definition";
            goto unmapped;
        }
    }
    free(s->base_key);
    free(s->base_col);
    s->base_key = found;
    found = NULL;
    s->base_col = col;
    col = NULL;
    s->base_floor = fl;
    free(s->unmapped_why);
    s->unmapped_why = NULL;
    {
        char *dbn = cat_xstrndup(s->base_key, (size_t)(strchr(s->base_key, '.') - s->base_key));
        s->base_partitioned = base_range_partitioned(c, dbn, strchr(s->base_key, '.') + 1,
                                                     s->base_col, &s->base_to_days);
        free(dbn);
    }
    goto out;
unmapped:
    set_unmapped(s, why);
out:
    free(k.t);
    free(col);
    free(qual);
    free(qual_table);
    free(found);
    return 0;
}

/* ------------------------------------------------------------ state */

struct cat_pstate *
cat_pstate_new(void)
{
    struct cat_pstate *ps = cat_xcalloc(1, sizeof(*ps));
    pthread_mutex_init(&ps->mu, NULL);
    ps->window_lo = CAT_DAY_MIN;
    return ps;
}

static void
bparts_free(struct cat_bpart *b, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++) {
        free(b[i].name);
        free(b[i].update_time);
    }
    free(b);
}

void
cat_pstate_free(struct cat_pstate *ps)
{
    if (ps == NULL) {
        return;
    }
    pthread_mutex_destroy(&ps->mu);
    free(ps->p);
    bparts_free(ps->base, ps->n_base);
    free(ps->table_sig);
    free(ps);
}

char *
cat_ppart_name(const struct cat_ppart *p, char *buf, size_t len)
{
    int y1, m1, d1, y2, m2, d2;
    if (p->is_null) {
        snprintf(buf, len, "p_null");
        return buf;
    }
    cat_day_to_ymd(p->lo, &y1, &m1, &d1);
    cat_day_to_ymd(p->hi, &y2, &m2, &d2);
    snprintf(buf, len, "p_%04d%02d%02d_%04d%02d%02d", y1, m1, d1, y2, m2, d2);
    return buf;
}

ssize_t
cat_pstate_find(const struct cat_pstate *ps, bool is_null, int64_t lo)
{
    size_t i;
    for (i = 0; i < ps->n; i++) {
        if (ps->p[i].is_null == is_null && (is_null || ps->p[i].lo == lo)) {
            return (ssize_t)i;
        }
    }
    return -1;
}

static int
ppart_cmp(const void *a, const void *b)
{
    const struct cat_ppart *x = a, *y = b;
    if (x->is_null != y->is_null) {
        return x->is_null ? -1 : 1;
    }
    return x->lo < y->lo ? -1 : x->lo > y->lo;
}

size_t
cat_pstate_add(struct cat_pstate *ps, bool is_null, int64_t lo, int64_t hi)
{
    ssize_t i;
    if (ps->n == ps->cap) {
        ps->cap = ps->cap ? ps->cap * 2 : 16;
        ps->p = realloc(ps->p, ps->cap * sizeof(*ps->p));
        if (ps->p == NULL) {
            abort();
        }
    }
    memset(&ps->p[ps->n], 0, sizeof(ps->p[0]));
    ps->p[ps->n].is_null = is_null;
    ps->p[ps->n].lo = lo;
    ps->p[ps->n].hi = hi;
    ps->p[ps->n].rows = 0;
    ps->n++;
    qsort(ps->p, ps->n, sizeof(*ps->p), ppart_cmp);
    i = cat_pstate_find(ps, is_null, lo);
    return (size_t)i;
}

static void
stale_min(int64_t *cur, int64_t when)
{
    if (when <= 0) {
        when = 1;
    }
    if (*cur == 0 || when < *cur) {
        *cur = when;
    }
}

int
cat_part_view_get(const struct cat_mv *mv, struct cat_part_view *out)
{
    struct cat_pstate *ps = mv->state->parts;
    memset(out, 0, sizeof(*out));
    out->window_lo = CAT_DAY_MIN;
    if (ps == NULL) {
        return 0;
    }
    pthread_mutex_lock(&ps->mu);
    out->n = ps->n;
    if (ps->n > 0) {
        out->p = malloc(ps->n * sizeof(*out->p));
        if (out->p == NULL) {
            pthread_mutex_unlock(&ps->mu);
            return -1;
        }
        memcpy(out->p, ps->p, ps->n * sizeof(*out->p));
    }
    out->gaps_stale_ms = ps->gaps_stale_ms;
    out->window_lo = ps->window_lo;
    pthread_mutex_unlock(&ps->mu);
    out->whole_stale_ms = atomic_load(&mv->state->stale_since_ms);
    if (out->whole_stale_ms != 0) {
        stale_min(&out->gaps_stale_ms, out->whole_stale_ms);
    }
    return 0;
}

void
cat_part_view_free(struct cat_part_view *v)
{
    free(v->p);
    memset(v, 0, sizeof(*v));
}

bool
cat_part_usable(const struct cat_mv *mv, int64_t stale_ms, int64_t now_ms)
{
    return cat_fresh_usable(mv, CAT_FRESH_PARTITION, 0, stale_ms, now_ms, NULL, 0);
}

/* ------------------------------------------------------------ introspection */

void
cat_part_counts(const struct cat_mv *mv, int64_t *valid, int64_t *total, int64_t *stale)
{
    struct cat_part_view v;
    size_t i;
    *valid = 0;
    *total = 0;
    *stale = 0;
    if (cat_part_view_get(mv, &v) != 0) {
        return;
    }
    for (i = 0; i < v.n; i++) {
        int64_t s = v.p[i].stale_since_ms;
        if (v.whole_stale_ms != 0) {
            stale_min(&s, v.whole_stale_ms);
        }
        (*total)++;
        if (s == 0 && v.p[i].last_refresh_ms > 0) {
            (*valid)++;
        } else if (s != 0) {
            stale_min(stale, s);
        }
    }
    if (v.gaps_stale_ms != 0) {
        stale_min(stale, v.gaps_stale_ms);
    }
    cat_part_view_free(&v);
}

char *
cat_part_info(const struct cat_mv *mv)
{
    struct cat_buf b = {0};
    const struct cat_part_spec *s = mv->part;
    cat_buf_printf(&b, "MTMVPartitionInfo{partitionType=FOLLOW_BASE_TABLE, partitionCol=%s, "
                   "unit=%s", s->col, cat_unit_name(s->unit));
    if (s->base_key != NULL) {
        cat_buf_printf(&b, ", relatedTable=%s, relatedCol=%s, relatedTablePartitioned=%s",
                       s->base_key, s->base_col, s->base_partitioned ? "true" : "false");
    } else {
        cat_buf_printf(&b, ", relatedTable=none (unmapped: %s; every base change invalidates "
                       "all partitions)", s->unmapped_why ? s->unmapped_why : "");
    }
    if (s->sync_limit > 0) {
        cat_buf_printf(&b, ", syncLimit=%lld %s", (long long)s->sync_limit,
                       cat_unit_name(s->sync_unit));
    }
    cat_buf_puts(&b, "}");
    return cat_buf_take(&b);
}

void
cat_part_show(const struct cat_mv *mv, struct mvp_reply *reply)
{
    static const char *const cols[] = {"PartitionName", "Range", "SyncWithBaseTables",
                                       "UnsyncTables", "VisibleVersionTime", "RowCount",
                                       "StaleSince"};
    static const enum mvp_col_type types[] = {MVP_COL_STRING, MVP_COL_STRING, MVP_COL_STRING,
                                              MVP_COL_STRING, MVP_COL_STRING, MVP_COL_INT,
                                              MVP_COL_STRING};
    struct cat_part_view v;
    size_t i;
    mvp_reply_rows(reply, 7, cols, types);
    if (cat_part_view_get(mv, &v) != 0) {
        return;
    }
    for (i = 0; i < v.n; i++) {
        const struct cat_ppart *p = &v.p[i];
        char name[64], range[80], a[16], b2[16], t[32], ts[32], rows[24];
        const char *val[7];
        int64_t s = p->stale_since_ms;
        struct cat_buf unsync = {0};
        bool sync;
        if (v.whole_stale_ms != 0) {
            stale_min(&s, v.whole_stale_ms);
        }
        sync = s == 0 && p->last_refresh_ms > 0;
        if (!sync) {
            if (mv->part->base_key != NULL && v.whole_stale_ms == 0) {
                cat_buf_puts(&unsync, mv->part->base_key);
            } else {
                size_t j;
                for (j = 0; j < mv->n_bases; j++) {
                    cat_buf_puts(&unsync, j > 0 ? "," : "");
                    cat_buf_puts(&unsync, mv->bases[j]);
                }
            }
        }
        if (p->is_null) {
            snprintf(range, sizeof(range), "NULL");
        } else {
            snprintf(range, sizeof(range), "[%s, %s)", day_text(p->lo, a, sizeof(a)),
                     day_text(p->hi, b2, sizeof(b2)));
        }
        snprintf(rows, sizeof(rows), "%lld", (long long)p->rows);
        val[0] = cat_ppart_name(p, name, sizeof(name));
        val[1] = range;
        val[2] = sync ? "true" : "false";
        val[3] = unsync.p ? unsync.p : "";
        val[4] = p->last_refresh_ms > 0 ? cat_fmt_time(t, sizeof(t), p->last_refresh_ms) : NULL;
        val[5] = p->rows >= 0 ? rows : NULL;
        val[6] = s > 0 ? cat_fmt_time(ts, sizeof(ts), s) : NULL;
        mvp_reply_add_row(reply, val);
        cat_buf_free(&unsync);
    }
    cat_part_view_free(&v);
}

/* ------------------------------------------------------------ persistence */

int
cat_part_store_init(MYSQL *c, char *err, size_t errlen)
{
    struct cat_buf q = {0};
    int rc;
    cat_buf_puts(&q, "CREATE TABLE IF NOT EXISTS ");
    cat_buf_qname(&q, cat_meta_schema(), "mv_partitions");
    cat_buf_puts(&q, " (mv_id BIGINT UNSIGNED NOT NULL, is_null TINYINT NOT NULL,"
                     " lo_day BIGINT NOT NULL, hi_day BIGINT NOT NULL,"
                     " stale_since_ms BIGINT NOT NULL, last_refresh_ms BIGINT NOT NULL,"
                     " row_count BIGINT NOT NULL, PRIMARY KEY (mv_id, is_null, lo_day))"
                     " ENGINE=InnoDB");
    rc = cat_q(c, q.p, err, errlen, NULL);
    cat_buf_free(&q);
    return rc;
}

int
cat_part_store_delete(MYSQL *c, uint64_t id, char *err, size_t errlen)
{
    struct cat_buf q = {0};
    int rc;
    cat_buf_puts(&q, "DELETE FROM ");
    cat_buf_qname(&q, cat_meta_schema(), "mv_partitions");
    cat_buf_printf(&q, " WHERE mv_id = %llu", (unsigned long long)id);
    rc = cat_q(c, q.p, err, errlen, NULL);
    cat_buf_free(&q);
    return rc;
}

int
cat_part_store_save(MYSQL *c, const struct cat_mv *mv, char *err, size_t errlen)
{
    struct cat_part_view v;
    struct cat_buf q = {0};
    size_t i;
    int rc = -1;
    if (mv->state->parts == NULL) {
        return 0;
    }
    if (cat_part_view_get(mv, &v) != 0) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (cat_q(c, "START TRANSACTION", err, errlen, NULL) < 0 ||
        cat_part_store_delete(c, mv->id, err, errlen) < 0) {
        goto out;
    }
    if (v.n > 0) {
        cat_buf_puts(&q, "INSERT INTO ");
        cat_buf_qname(&q, cat_meta_schema(), "mv_partitions");
        cat_buf_puts(&q, " VALUES ");
        for (i = 0; i < v.n; i++) {
            const struct cat_ppart *p = &v.p[i];
            cat_buf_printf(&q, "%s(%llu, %d, %lld, %lld, %lld, %lld, %lld)", i > 0 ? ", " : "",
                           (unsigned long long)mv->id, p->is_null ? 1 : 0,
                           (long long)(p->is_null ? 0 : p->lo), (long long)p->hi,
                           (long long)p->stale_since_ms, (long long)p->last_refresh_ms,
                           (long long)p->rows);
        }
        if (cat_q(c, q.p, err, errlen, NULL) < 0) {
            cat_q(c, "ROLLBACK", NULL, 0, NULL);
            goto out;
        }
    }
    if (v.gaps_stale_ms != 0 && v.whole_stale_ms == 0) {
        /* gaps are kept as a pseudo row lo = CAT_DAY_MIN, is_null = 2 */
        cat_buf_free(&q);
        cat_buf_puts(&q, "INSERT INTO ");
        cat_buf_qname(&q, cat_meta_schema(), "mv_partitions");
        cat_buf_printf(&q, " VALUES (%llu, 2, 0, 0, %lld, 0, 0)", (unsigned long long)mv->id,
                       (long long)v.gaps_stale_ms);
        if (cat_q(c, q.p, err, errlen, NULL) < 0) {
            cat_q(c, "ROLLBACK", NULL, 0, NULL);
            goto out;
        }
    }
    rc = cat_q(c, "COMMIT", err, errlen, NULL);
out:
    cat_buf_free(&q);
    cat_part_view_free(&v);
    return rc;
}

int
cat_part_store_load(MYSQL *c, struct cat_mv *mv, char *err, size_t errlen)
{
    struct cat_pstate *ps = mv->state->parts;
    struct cat_buf q = {0};
    MYSQL_RES *res;
    MYSQL_ROW row;
    cat_buf_puts(&q, "SELECT is_null, lo_day, hi_day, stale_since_ms, last_refresh_ms, "
                     "row_count FROM ");
    cat_buf_qname(&q, cat_meta_schema(), "mv_partitions");
    cat_buf_printf(&q, " WHERE mv_id = %llu", (unsigned long long)mv->id);
    if (mysql_real_query(c, q.p, q.len) != 0 || (res = mysql_store_result(c)) == NULL) {
        snprintf(err, errlen, "loading partitions of %s: %s", mv->key, mysql_error(c));
        cat_buf_free(&q);
        return -1;
    }
    cat_buf_free(&q);
    pthread_mutex_lock(&ps->mu);
    while ((row = mysql_fetch_row(res)) != NULL) {
        cat_fresh_load_part(ps, atoi(row[0]), strtoll(row[1], NULL, 10),
                            strtoll(row[2], NULL, 10), strtoll(row[3], NULL, 10),
                            strtoll(row[4], NULL, 10), strtoll(row[5], NULL, 10));
    }
    pthread_mutex_unlock(&ps->mu);
    mysql_free_result(res);
    return 0;
}

/* ------------------------------------------------------------ layers */

/* Earliest unreflected change of upstream view UP relevant to MV (0 = none):
 * the whole of UP, or, when MV's partition column is mapped onto UP's
 * partition column, only UP's partitions overlapping MV's range [LO, HI)
 * (IS_NULL / ALL: every partition, conservative). */
static int64_t
upstream_one(const struct cat_mv *mv, const struct cat_mv *up, bool all, bool is_null,
             int64_t lo, int64_t hi)
{
    int64_t best = 0, s = atomic_load(&up->state->stale_since_ms);
    bool mapped;
    struct cat_part_view v;
    size_t i;
    if (atomic_load(&up->state->last_refresh_ms) == 0) {
        /* never built: it reflects nothing of its bases */
        stale_min(&best, up->created_ms > 0 ? up->created_ms : 1);
    }
    if (s != 0) {
        stale_min(&best, s);
    }
    if (up->part == NULL || up->state->parts == NULL || cat_part_view_get(up, &v) != 0) {
        return best;
    }
    mapped = !all && !is_null && mv->part != NULL && mv->part->base_key != NULL &&
             mv->part->base_col != NULL && strcmp(mv->part->base_key, up->key) == 0 &&
             cat_streq_ci(mv->part->base_col, up->part->col);
    if (v.gaps_stale_ms != 0) {
        stale_min(&best, v.gaps_stale_ms);
    }
    if (v.whole_stale_ms != 0) {
        stale_min(&best, v.whole_stale_ms);
    }
    for (i = 0; i < v.n; i++) {
        const struct cat_ppart *p = &v.p[i];
        int64_t ps = p->stale_since_ms;
        if (ps == 0 && p->last_refresh_ms == 0) {
            ps = up->created_ms > 0 ? up->created_ms : 1;
        }
        if (ps == 0) {
            continue;
        }
        if (mapped && !p->is_null) {
            /* the key is monotone in the base value: UP's [p->lo, p->hi)
             * feeds MV's keys key(p->lo) .. key(p->hi - 1) */
            if (cat_part_key(mv->part, p->lo) >= hi || cat_part_key(mv->part, p->hi - 1) < lo) {
                continue;
            }
        }
        stale_min(&best, ps);
    }
    cat_part_view_free(&v);
    return best;
}

int64_t
cat_upstream_stale(const struct cat_snapshot *snap, const struct cat_mv *mv, bool all,
                   bool is_null, int64_t lo, int64_t hi)
{
    int64_t best = 0;
    size_t i;
    for (i = 0; snap != NULL && i < mv->n_bases; i++) {
        struct cat_mv *up = NULL;
        int64_t s;
        HASH_FIND_STR(snap->mvs, mv->bases[i], up);
        if (up == NULL || up == mv) {
            continue;
        }
        s = upstream_one(mv, up, all, is_null, lo, hi);
        if (s != 0) {
            stale_min(&best, s);
        }
    }
    return best;
}
