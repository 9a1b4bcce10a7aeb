/*
 * cat_part_track.c - change tracking per partition by write statement
 * (SPEC §5): proxy DML and the binlog's Query events (through
 * cat_mark_writes_opt, cat_fresh.c), and the base partition bounds the
 * partition DDL narrowing uses. Row images: cat_part_rowimage.c; the
 * probe: cat_probe.c.
 *
 *   proxy DML ── cat_part_note_write ──> ranges of the partition column
 *      INSERT/REPLACE ... VALUES: each row's value (NULL -> p_null);
 *      UPDATE t SET ... WHERE / DELETE FROM t WHERE: the AND-ed range
 *      predicates on the column (anything else: all partitions);
 *      ALTER TABLE t {TRUNCATE|DROP|REORGANIZE} PARTITION p, ...: the
 *      ranges of p (bounds cached from information_schema.PARTITIONS by
 *      the probe thread and each refresh, vanished ones kept a minute;
 *      unknown name: all); ADD PARTITION: none (a new range is empty);
 *      the binlog follower feeds Query events through the same path;
 *      other statements: the generic scanner (whole view).
 */
#include "cat_part_engine.h"
#include "cat_part_track.h"
#include "cat_part.h"
#include "rw_limits.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cat_fresh.h"
#include "cat_freshness.h"
#include <mysql.h>

#include "cat.h"
#include "cat_calendar.h"
#include "cat_util.h"
#include "cat_rowimage.h"
#include "rw_lex.h"

/* ------------------------------------------------------------ DML analysis */

struct stmt {
    struct rw_lexer lx;             /* lexer over the statement */
    struct rw_tok *t;               /* tokens (hints dropped) */
    size_t n;                       /* count */
};

static bool
ident(struct rw_tok t)
{
    return t.kind == RW_TOK_IDENT || t.kind == RW_TOK_QIDENT;
}

static char *
low_text(const struct stmt *s, size_t i)
{
    char *v = rw_tok_text(&s->lx, s->t[i]);
    size_t j;
    if (v == NULL) {
        abort();
    }
    for (j = 0; v[j] != '\0'; j++) {
        v[j] = (char)tolower((unsigned char)v[j]);
    }
    return v;
}

static bool
is_w(const struct stmt *s, size_t i, const char *w)
{
    return i < s->n && rw_tok_is(&s->lx, s->t[i], w);
}

static bool
is_op(const struct stmt *s, size_t i, const char *op)
{
    return i < s->n && rw_tok_is_op(&s->lx, s->t[i], op);
}

/* Read a table name at *I ([db.]name); fills DB/NAME (caller frees). */
static bool
table_at(const struct stmt *s, size_t *i, const char *cur_db, char **db, char **name)
{
    if (*i >= s->n || !ident(s->t[*i])) {
        return false;
    }
    if (is_op(s, *i + 1, ".") && *i + 2 < s->n && ident(s->t[*i + 2])) {
        *db = low_text(s, *i);
        *name = low_text(s, *i + 2);
        *i += 3;
    } else {
        if (cur_db == NULL || *cur_db == '\0') {
            return false;
        }
        *db = cat_xstrdup(cur_db);
        *name = low_text(s, *i);
        *i += 1;
    }
    return true;
}

/* A literal date at token I (optionally DATE/TIMESTAMP 'x'); advances *I. */
static bool
lit_day(const struct stmt *s, size_t *i, int64_t *day)
{
    char *v;
    bool ok;
    if (is_w(s, *i, "DATE") || is_w(s, *i, "TIMESTAMP")) {
        if (*i + 1 < s->n && s->t[*i + 1].kind == RW_TOK_STRING) {
            (*i)++;
        }
    }
    if (*i >= s->n || s->t[*i].kind != RW_TOK_STRING) {
        return false;
    }
    v = rw_tok_text(&s->lx, s->t[*i]);
    ok = v != NULL && cat_day_parse(v, day);
    free(v);
    (*i)++;
    return ok;
}

/* Is token I (possibly qualified) the column COL? Advances *I past it. */
static bool
col_at(const struct stmt *s, size_t *i, const char *col)
{
    size_t j = *i;
    char *v;
    bool ok;
    if (j >= s->n || !ident(s->t[j])) {
        return false;
    }
    if (is_op(s, j + 1, ".") && j + 2 < s->n && ident(s->t[j + 2])) {
        j += 2;
    }
    v = low_text(s, j);
    ok = strcmp(v, col) == 0;
    free(v);
    if (ok) {
        *i = j + 1;
    }
    return ok;
}

/*
 * Ranges of COL in the WHERE clause starting at token W (AND-ed
 * conjuncts; a conjunct on another column leaves the range alone; OR at
 * depth 0 gives up). Conservative: the result contains every value a
 * matching row may have. Sets [*LO, *HI).
 */
static void
where_range(const struct stmt *s, size_t w, const char *col, int64_t *lo, int64_t *hi)
{
    size_t i = w;
    int depth = 0;
    int64_t l = CAT_DAY_MIN, h = CAT_DAY_MAX;
    for (i = w; i < s->n; i++) {
        if (is_op(s, i, "(")) {
            depth++;
        } else if (is_op(s, i, ")")) {
            depth--;
        } else if (depth == 0 && (is_w(s, i, "OR") || is_w(s, i, "XOR") || is_op(s, i, "||"))) {
            *lo = CAT_DAY_MIN;
            *hi = CAT_DAY_MAX;
            return;
        } else if (depth == 0 && (is_w(s, i, "ORDER") || is_w(s, i, "LIMIT") ||
                                  is_w(s, i, "RETURNING"))) {
            break;
        }
    }
    for (i = w; i < s->n; i++) {
        size_t j = i;
        int64_t d1, d2;
        if (i > w && !(is_w(s, i - 1, "WHERE") || is_w(s, i - 1, "AND") || is_op(s, i - 1, "&&"))) {
            continue;
        }
        if (!col_at(s, &j, col)) {
            continue;
        }
        if (is_op(s, j, ">=") || is_op(s, j, ">")) {
            j++;
            if (lit_day(s, &j, &d1) && d1 > l) {
                l = d1;
            }
        } else if (is_op(s, j, "<") || is_op(s, j, "<=")) {
            j++;
            if (lit_day(s, &j, &d1) && d1 + 1 < h) {
                h = d1 + 1;
            }
        } else if (is_op(s, j, "=")) {
            j++;
            if (lit_day(s, &j, &d1)) {
                if (d1 > l) {
                    l = d1;
                }
                if (d1 + 1 < h) {
                    h = d1 + 1;
                }
            }
        } else if (is_w(s, j, "BETWEEN")) {
            j++;
            if (lit_day(s, &j, &d1) && is_w(s, j, "AND")) {
                j++;
                if (lit_day(s, &j, &d2)) {
                    if (d1 > l) {
                        l = d1;
                    }
                    if (d2 + 1 < h) {
                        h = d2 + 1;
                    }
                }
            }
        }
    }
    *lo = l;
    *hi = h;
}

/* One INSERT row value: a day, NULL, or unknown. */
enum val_kind { VAL_DAY, VAL_NULL, VAL_UNKNOWN };

ssize_t
cat_table_col_index(const struct cat_snapshot *snap, const char *key, const char *col)
{
    struct cat_table *t = NULL;
    size_t i;
    HASH_FIND_STR(snap->tables, key, t);
    for (i = 0; t != NULL && i < t->n_cols; i++) {
        if (cat_streq_ci(t->cols[i].name, col)) {
            return (ssize_t)i;
        }
    }
    return -1;
}

/* Mark MV for an INSERT/REPLACE ... VALUES statement (tokens from V, the VALUES keyword). */
static void
mark_values(struct cat_mv *mv, const struct stmt *s, size_t v, ssize_t idx, int64_t when)
{
    size_t i = v + 1;
    bool nullable = true;
    if (idx < 0) {
        cat_part_mark_range(mv, CAT_DAY_MIN, CAT_DAY_MAX, true, false, when);
        return;
    }
    while (i < s->n && is_op(s, i, "(")) {
        size_t item = 0;
        int depth = 0;
        size_t start = i + 1;
        enum val_kind kind = VAL_UNKNOWN;
        int64_t day = 0;
        for (i = i + 1; i < s->n; i++) {
            bool end_item;
            if (is_op(s, i, "(")) {
                depth++;
                continue;
            }
            if (is_op(s, i, ")") && depth > 0) {
                depth--;
                continue;
            }
            end_item = depth == 0 && (is_op(s, i, ",") || is_op(s, i, ")"));
            if (!end_item) {
                continue;
            }
            if ((ssize_t)item == idx) {
                size_t j = start;
                if (i - start == 1 && is_w(s, start, "NULL")) {
                    kind = VAL_NULL;
                } else if (lit_day(s, &j, &day) && j == i) {
                    kind = VAL_DAY;
                }
            }
            item++;
            start = i + 1;
            if (is_op(s, i, ")")) {
                break;
            }
        }
        if (kind == VAL_DAY) {
            cat_part_mark_range(mv, day, day + 1, false, true, when);
        } else if (kind == VAL_NULL) {
            cat_part_mark_range(mv, 0, 0, true, false, when);
        } else {
            cat_part_mark_range(mv, CAT_DAY_MIN, CAT_DAY_MAX, true, false, when);
            return;
        }
        i++;
        if (!is_op(s, i, ",")) {
            break;
        }
        i++;
    }
    (void)nullable;
}

/*
 * Can MV's partition column be NULL (its storage column; true when the
 * schema is unknown)? A NOT NULL view column means p_null is always empty,
 * so a write narrowed to a range of non-NULL base values need not mark it
 * (a view row can only get a NULL column from a NULL base value or from an
 * outer join's null extension, and the latter makes the column nullable).
 */
static bool
view_col_nullable(const struct cat_snapshot *snap, const struct cat_mv *mv)
{
    const struct cat_table *t = cat_snapshot_table(snap, mv->db, mv->name);
    size_t i;
    for (i = 0; t != NULL && i < t->n_cols; i++) {
        if (cat_streq_ci(t->cols[i].name, mv->part->col)) {
            return t->cols[i].nullable;
        }
    }
    return true;
}

/* ------------------------------------------------------------ partition DDL */

/*
 * Upper bound (exclusive, day number) of an information_schema
 * PARTITION_DESCRIPTION: "MAXVALUE", a RANGE COLUMNS literal ('2024-03-02'
 * or '2024-03-02 06:00:00': a bound after midnight keeps that day), or a
 * RANGE (TO_DAYS(col)) number. False when it cannot be read.
 */
static bool
bound_day(const char *desc, bool to_days, int64_t *hi)
{
    char lit[40];
    const char *p = lit, *sp;
    if (desc == NULL) {
        return false;
    }
    if (cat_streq_ci(desc, "MAXVALUE")) {
        *hi = CAT_DAY_MAX;
        return true;
    }
    if (to_days) {
        char *e;
        long long v = strtoll(desc, &e, 10);
        if (e == desc) {
            return false;
        }
        *hi = (int64_t)v - 719528; /* TO_DAYS('1970-01-01') */
        return true;
    }
    snprintf(lit, sizeof(lit), "%s", desc + (*desc == '\'' ? 1 : 0));
    lit[strcspn(lit, "'")] = '\0';
    if (!cat_day_parse(p, hi)) {
        return false;
    }
    sp = strchr(p, ' ');
    if (sp != NULL) {
        const char *t = sp + 1;
        while (*t == '0' || *t == ':' || *t == '.') {
            t++;
        }
        if (*t != '\0') {
            (*hi)++; /* a time after midnight */
        }
    }
    return true;
}

void
cat_part_bounds_refresh(MYSQL *c, struct cat_mv *mv)
{
    const struct cat_part_spec *s = mv->part;
    struct cat_pstate *ps = mv->state->parts;
    struct cat_buf q = {0};
    struct cat_bpart *nb = NULL;
    size_t n = 0, cap, i, j;
    MYSQL_RES *res;
    MYSQL_ROW row;
    int64_t lo = CAT_DAY_MIN, now = cat_now_ms();
    const char *dot;
    char *dbn;

    if (s == NULL || ps == NULL || s->base_key == NULL || !s->base_partitioned ||
        (dot = strchr(s->base_key, '.')) == NULL) {
        return;
    }
    cat_buf_puts(&q, "SELECT PARTITION_NAME, PARTITION_DESCRIPTION FROM information_schema."
                     "PARTITIONS WHERE TABLE_SCHEMA = ");
    dbn = cat_xstrndup(s->base_key, (size_t)(dot - s->base_key));
    cat_buf_lit(&q, dbn);
    free(dbn);
    cat_buf_puts(&q, " AND TABLE_NAME = ");
    cat_buf_lit(&q, dot + 1);
    cat_buf_puts(&q, " AND PARTITION_NAME IS NOT NULL"
                     " ORDER BY PARTITION_ORDINAL_POSITION, SUBPARTITION_ORDINAL_POSITION");
    if (mysql_real_query(c, q.p, q.len) != 0 || (res = mysql_store_result(c)) == NULL) {
        cat_log(CAT_LOG_DEBUG, "partition bounds of %s: %s", s->base_key, mysql_error(c));
        cat_buf_free(&q);
        return;
    }
    cat_buf_free(&q);
    cap = (size_t)mysql_num_rows(res) + 1;
    nb = cat_xcalloc(cap, sizeof(*nb));
    while ((row = mysql_fetch_row(res)) != NULL) {
        int64_t hi;
        if (row[0] == NULL || (n > 0 && strcmp(nb[n - 1].name, row[0]) == 0)) {
            continue; /* subpartitions repeat their partition */
        }
        if (!bound_day(row[1], s->base_to_days, &hi) || hi < lo) {
            hi = CAT_DAY_MAX; /* unreadable: everything above LO (conservative) */
        }
        nb[n].name = cat_xstrdup(row[0]);
        nb[n].lo = lo;
        nb[n].hi = hi;
        nb[n].table_rows = -1;
        nb[n].data_length = -1;
        n++;
        lo = hi;
    }
    mysql_free_result(res);
    pthread_mutex_lock(&ps->mu);
    /* partitions that vanished (DROP, REORGANIZE) stay a minute as retired */
    for (i = 0; i < ps->n_base; i++) {
        struct cat_bpart *o = &ps->base[i];
        bool still = false;
        for (j = 0; j < n && !still; j++) {
            still = cat_streq_ci(nb[j].name, o->name) && nb[j].lo == o->lo && nb[j].hi == o->hi;
        }
        if (still || (o->gone_ms != 0 && now - o->gone_ms > 60000)) {
            continue;
        }
        if (n == cap) {
            cap *= 2;
            nb = realloc(nb, cap * sizeof(*nb));
            if (nb == NULL) {
                abort();
            }
        }
        nb[n] = *o;
        nb[n].name = cat_xstrdup(o->name);
        nb[n].update_time = NULL;
        nb[n].gone_ms = o->gone_ms != 0 ? o->gone_ms : now;
        n++;
    }
    for (i = 0; i < ps->n_base; i++) {
        free(ps->base[i].name);
        free(ps->base[i].update_time);
    }
    free(ps->base);
    ps->base = nb;
    ps->n_base = n;
    ps->probed = true;
    pthread_mutex_unlock(&ps->mu);
}

/* Ranges of MV's base partition NAME (current and retired) into R (up to
 * MAX); returns how many, 0 when unknown. */
static size_t
bpart_ranges(struct cat_mv *mv, const char *name, int64_t (*r)[2], size_t max)
{
    struct cat_pstate *ps = mv->state->parts;
    size_t i, n = 0;
    pthread_mutex_lock(&ps->mu);
    for (i = 0; i < ps->n_base && n < max; i++) {
        if (cat_streq_ci(ps->base[i].name, name)) {
            r[n][0] = ps->base[i].lo;
            r[n][1] = ps->base[i].hi;
            n++;
        }
    }
    pthread_mutex_unlock(&ps->mu);
    return n;
}

/* The partition operations narrowed to partitions. */
enum pddl { PDDL_TRUNCATE, PDDL_DROP, PDDL_REORGANIZE, PDDL_ADD };

/*
 * ALTER [ONLINE] [IGNORE] TABLE t {TRUNCATE PARTITION {ALL | p, ...} |
 * DROP PARTITION [IF EXISTS] p, ... | REORGANIZE PARTITION p, ... INTO (...)
 * | ADD PARTITION (...)}: the views whose partition column maps to a RANGE
 * partition of t get only the view partitions over the named partitions'
 * ranges marked (bounds from cat_part_bounds_refresh(), read before the DDL
 * ran; an unknown name marks every partition); ADD moves no row and marks
 * none. Every other view over t is marked whole. Returns false (the
 * generic scanner marks whole) for any other ALTER.
 */
static bool
note_ddl(const struct cat_snapshot *snap, const struct stmt *s, const char *cur_db,
         int64_t when_ms, struct cat_marked *m)
{
    size_t i = 1, j, n_names = 0, names_at = 0;
    char *db = NULL, *name = NULL, key[512];
    enum pddl op;
    bool all = false, ok = false;
    struct cat_table_index *ix = NULL;

    while (is_w(s, i, "ONLINE") || is_w(s, i, "IGNORE")) {
        i++;
    }
    if (!is_w(s, i, "TABLE")) {
        return false;
    }
    i++;
    if (!table_at(s, &i, cur_db, &db, &name)) {
        return false;
    }
    if (is_w(s, i, "TRUNCATE")) {
        op = PDDL_TRUNCATE;
    } else if (is_w(s, i, "DROP")) {
        op = PDDL_DROP;
    } else if (is_w(s, i, "REORGANIZE")) {
        op = PDDL_REORGANIZE;
    } else if (is_w(s, i, "ADD")) {
        op = PDDL_ADD;
    } else {
        goto out;
    }
    if (!is_w(s, i + 1, "PARTITION")) {
        goto out;
    }
    i += 2;
    if (op == PDDL_ADD) {
        if (!is_op(s, i, "(") && !is_w(s, i, "IF")) {
            goto out;
        }
    } else {
        if (op == PDDL_DROP && is_w(s, i, "IF") && is_w(s, i + 1, "EXISTS")) {
            i += 2;
        }
        if (op == PDDL_TRUNCATE && is_w(s, i, "ALL") && i + 1 == s->n) {
            all = true;
        } else {
            names_at = i;
            while (i < s->n && ident(s->t[i])) {
                n_names++;
                i++;
                if (!is_op(s, i, ",")) {
                    break;
                }
                i++;
            }
            if (n_names == 0 || (op == PDDL_REORGANIZE ? !is_w(s, i, "INTO") : i != s->n)) {
                goto out;
            }
        }
    }
    ok = true;
    cat_make_key(key, sizeof(key), db, name);
    HASH_FIND_STR(snap->by_table, key, ix);
    for (j = 0; ix != NULL && j < ix->n; j++) {
        struct cat_mv *mv = ix->mvs[j];
        const struct cat_part_spec *ps = mv->part;
        size_t e, k;
        bool excl = false, whole = all;
        for (e = 0; e < mv->n_excluded; e++) {
            excl = excl || strcmp(mv->excluded[e], key) == 0;
        }
        if (excl || ps == NULL || ps->base_key == NULL || strcmp(ps->base_key, key) != 0 ||
            mv->state->parts == NULL) {
            continue; /* whole-view marking below */
        }
        if (op == PDDL_ADD) {
            /* a new RANGE partition is empty: no view row changes */
            cat_log(CAT_LOG_DEBUG, "ADD PARTITION on %s: no partition of %s changes", key,
                    mv->key);
            cat_marked_claim(m, mv);
            continue;
        }
        if (!ps->base_partitioned) {
            whole = true;
        }
        for (k = 0, i = names_at; !whole && k < n_names; k++, i += 2) {
            int64_t r[8][2];
            char *pn = rw_tok_text(&s->lx, s->t[i]);
            size_t nr = pn != NULL ? bpart_ranges(mv, pn, r, 8) : 0, x;
            free(pn);
            if (nr == 0) {
                whole = true; /* bounds not known (yet): every partition */
                break;
            }
            for (x = 0; x < nr; x++) {
                /* NULLs live in the first RANGE partition */
                cat_part_mark_range(mv, r[x][0], r[x][1], r[x][0] == CAT_DAY_MIN, false,
                                    when_ms);
            }
        }
        if (whole) {
            cat_part_mark_range(mv, CAT_DAY_MIN, CAT_DAY_MAX, true, false, when_ms);
        }
        cat_marked_claim(m, mv);
    }
    cat_mark_table(snap, key, m, when_ms);
out:
    free(db);
    free(name);
    return ok;
}

/* Lex SQL into S (hints dropped, trailing ';' stripped). False when the
 * text cannot be lexed or holds several statements (the generic scanner
 * handles those); S->t is to be freed by the caller in both cases. */
static bool
lex_one_statement(struct stmt *s, const char *sql, size_t len)
{
    size_t i, j;
    rw_lex_init(&s->lx, sql, len);
    s->t = rw_lex_all(sql, len, &s->n);
    if (s->t == NULL) {
        return false;
    }
    for (i = 0, j = 0; i < s->n; i++) {
        if (s->t[i].kind != RW_TOK_HINT) {
            s->t[j++] = s->t[i];
        }
    }
    s->n = j;
    while (s->n > 0 && is_op(s, s->n - 1, ";")) {
        s->n--;
    }
    for (i = 0; i < s->n; i++) {
        if (is_op(s, i, ";")) {
            return false; /* several statements: the generic scanner */
        }
    }
    return true;
}

/* A single-table DML statement as cat_part_note_write() analyses it. */
struct dml {
    enum { K_INSERT, K_UPDATE, K_DELETE } kind;
    char *db, *name;                /* the table (caller frees) */
    bool on_dup;                    /* REPLACE / ON DUPLICATE KEY UPDATE */
    size_t values;                  /* INSERT: index of VALUES */
    size_t col_list, ncols_list;    /* INSERT (cols ...): first column token, count; 0 = none */
    size_t where;                   /* UPDATE / DELETE: first token after WHERE, 0 = none */
};

/* Parse S as INSERT/REPLACE ... VALUES, or a single-table UPDATE / DELETE
 * without subqueries, into D. False for anything else (the generic
 * scanner); D->db / D->name may be set either way. */
static bool
parse_dml(const struct stmt *s, const char *cur_db, struct dml *d)
{
    size_t i = 0, j;
    if (is_w(s, 0, "INSERT") || is_w(s, 0, "REPLACE")) {
        d->kind = K_INSERT;
        d->on_dup = is_w(s, 0, "REPLACE");
        i = 1;
        while (is_w(s, i, "LOW_PRIORITY") || is_w(s, i, "DELAYED") ||
               is_w(s, i, "HIGH_PRIORITY") || is_w(s, i, "IGNORE") || is_w(s, i, "INTO")) {
            i++;
        }
    } else if (is_w(s, 0, "UPDATE")) {
        d->kind = K_UPDATE;
        i = 1;
        while (is_w(s, i, "LOW_PRIORITY") || is_w(s, i, "IGNORE")) {
            i++;
        }
    } else if (is_w(s, 0, "DELETE")) {
        d->kind = K_DELETE;
        i = 1;
        while (is_w(s, i, "LOW_PRIORITY") || is_w(s, i, "QUICK") || is_w(s, i, "IGNORE")) {
            i++;
        }
        if (!is_w(s, i, "FROM")) {
            return false;
        }
        i++;
    } else {
        return false;
    }
    if (!table_at(s, &i, cur_db, &d->db, &d->name)) {
        return false;
    }
    if (d->kind == K_INSERT) {
        if (is_w(s, i, "PARTITION")) {
            return false;
        }
        if (is_op(s, i, "(")) {
            d->col_list = i + 1;
            for (i = i + 1; i < s->n && !is_op(s, i, ")"); i++) {
                if (ident(s->t[i])) {
                    d->ncols_list++;
                } else if (!is_op(s, i, ",")) {
                    return false;
                }
            }
            i++;
        }
        if (!is_w(s, i, "VALUES") && !is_w(s, i, "VALUE")) {
            return false; /* INSERT ... SELECT / SET: the generic scanner */
        }
        d->values = i;
        for (j = i; j < s->n; j++) {
            if (is_w(s, j, "SELECT")) {
                return false;
            }
            if (is_w(s, j, "DUPLICATE")) {
                d->on_dup = true;
            }
        }
        return true;
    }
    /* single-table UPDATE / DELETE: [AS] alias, then SET / WHERE */
    if (is_w(s, i, "AS")) {
        i++;
    }
    if (i < s->n && ident(s->t[i]) && !is_w(s, i, "SET") && !is_w(s, i, "WHERE")) {
        i++;
    }
    if (d->kind == K_UPDATE) {
        if (!is_w(s, i, "SET")) {
            return false;
        }
    } else if (i < s->n && !is_w(s, i, "WHERE") && !is_w(s, i, "ORDER") &&
               !is_w(s, i, "LIMIT")) {
        return false;
    }
    for (j = i; j < s->n; j++) {
        if (is_w(s, j, "SELECT")) {
            return false; /* subqueries: the generic scanner */
        }
        if (is_w(s, j, "WHERE") && d->where == 0) {
            d->where = j + 1;
        }
    }
    return true;
}

/* Does MV track table KEY by partition (its mapped base table, not excluded)? */
static bool
tracks_by_partition(const struct cat_mv *mv, const char *key)
{
    const struct cat_part_spec *ps = mv->part;
    size_t e;
    bool excl = false;
    for (e = 0; e < mv->n_excluded; e++) {
        excl = excl || strcmp(mv->excluded[e], key) == 0;
    }
    return !excl && ps != NULL && ps->base_key != NULL && strcmp(ps->base_key, key) == 0 &&
           mv->state->parts != NULL;
}

/* INSERT D into table KEY: mark MV's partitions of the inserted values.
 * False when MV is left to the whole-view marking. */
static bool
mark_insert(const struct cat_snapshot *snap, const struct stmt *s, const struct dml *d,
            const char *key, struct cat_mv *mv, int64_t when_ms)
{
    const struct cat_part_spec *ps = mv->part;
    ssize_t idx = -1;
    if (d->on_dup && !ps->base_partitioned) {
        /* REPLACE / ON DUPLICATE KEY may change rows of any partition
         * unless the table's unique keys include the partition column */
        return false;
    }
    if (d->col_list > 0) {
        size_t c, k = 0;
        for (c = d->col_list; k < d->ncols_list; c++) {
            if (ident(s->t[c])) {
                size_t cc = c;
                if (col_at(s, &cc, ps->base_col)) {
                    idx = (ssize_t)k;
                }
                k++;
            }
        }
        if (idx < 0) {
            /* column not given: its default (NULL or a constant) */
            cat_part_mark_range(mv, CAT_DAY_MIN, CAT_DAY_MAX, true, false, when_ms);
            return true;
        }
    } else {
        idx = cat_table_col_index(snap, key, ps->base_col);
    }
    mark_values(mv, s, d->values, idx, when_ms);
    return true;
}

/* UPDATE / DELETE D: mark MV's partitions in the WHERE ranges on the
 * partition column (all of them when there are none, or when an UPDATE
 * sets the column). */
static void
mark_update_delete(const struct cat_snapshot *snap, const struct stmt *s, const struct dml *d,
                   struct cat_mv *mv, int64_t when_ms)
{
    const struct cat_part_spec *ps = mv->part;
    int64_t lo = CAT_DAY_MIN, hi = CAT_DAY_MAX;
    bool sets_col_any = false;
    if (d->kind == K_UPDATE) {
        /* SET col = ... moves rows between partitions: all */
        size_t a;
        for (a = 0; a < s->n && (d->where == 0 || a < d->where); a++) {
            size_t aa = a;
            if (a > 0 && (is_w(s, a - 1, "SET") || is_op(s, a - 1, ",")) &&
                col_at(s, &aa, ps->base_col) && is_op(s, aa, "=")) {
                sets_col_any = true;
            }
        }
    }
    if (d->where > 0 && !sets_col_any) {
        where_range(s, d->where, ps->base_col, &lo, &hi);
    }
    if (lo == CAT_DAY_MIN && hi == CAT_DAY_MAX) {
        cat_part_mark_range(mv, lo, hi, true, false, when_ms);
    } else {
        /* an UPDATE/DELETE can make rows appear in a range with no
         * partition yet (HAVING, anti-joins): create them; the
         * rows it touches have a non-NULL column (p_null only
         * when the view column is nullable: outer joins) */
        cat_part_mark_range(mv, lo, hi, view_col_nullable(snap, mv), true, when_ms);
    }
}

bool
cat_part_note_write(const struct cat_snapshot *snap, const char *sql, size_t len,
                    const char *cur_db, int64_t when_ms, int *n_marked)
{
    struct stmt s = {0};
    struct dml d = {0};
    size_t j;
    char key[512];
    struct cat_table_index *ix = NULL;
    struct cat_marked m = {NULL, 0};
    bool handled = false;

    *n_marked = 0;
    if (snap == NULL || snap->by_table == NULL) {
        return false;
    }
    if (!lex_one_statement(&s, sql, len)) {
        goto out;
    }
    if (is_w(&s, 0, "ALTER")) {
        handled = note_ddl(snap, &s, cur_db, when_ms, &m);
        *n_marked = (int)m.n;
        goto out;
    }
    if (!parse_dml(&s, cur_db, &d)) {
        goto out;
    }
    cat_make_key(key, sizeof(key), d.db, d.name);
    handled = true;
    HASH_FIND_STR(snap->by_table, key, ix);
    for (j = 0; ix != NULL && j < ix->n; j++) {
        struct cat_mv *mv = ix->mvs[j];
        if (!tracks_by_partition(mv, key)) {
            continue; /* whole-view marking below */
        }
        if (d.kind == K_INSERT) {
            if (!mark_insert(snap, &s, &d, key, mv, when_ms)) {
                continue;
            }
        } else {
            mark_update_delete(snap, &s, &d, mv, when_ms);
        }
        cat_marked_claim(&m, mv);
    }
    *n_marked = (int)m.n;
    /* every other view over the table (and the table's own view, if any): whole */
    {
        size_t before = m.n;
        cat_mark_table(snap, key, &m, when_ms);
        *n_marked += (int)(m.n - before);
    }
out:
    cat_marked_free(&m);
    free(d.db);
    free(d.name);
    free(s.t);
    return handled;
}
