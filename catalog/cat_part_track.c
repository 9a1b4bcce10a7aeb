/*
 * cat_part_track.c - change tracking per partition (SPEC §5):
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
 *   binlog row event on the mapped base table of a partitioned view
 *      ── cat_part_rows_mark ──> the partition column of every row image
 *         (UPDATE: before and after) marks exactly its partitions
 *      ── cat_part_defer ──> when the images cannot be decoded (the column
 *         not in the image, an undecodable type, the schema changed): the
 *         probe thread, woken at once
 *      while the follower runs, periodic probe rounds do nothing (it sees
 *      every committed change); they run only without the binlog
 *   probe thread (every MVPROXY_PROBE_INTERVAL_MS, default 2000 ms, or when
 *   woken): for each partitioned view with a mapped base table
 *      cheap signal: information_schema.TABLES UPDATE_TIME, TABLE_ROWS,
 *      DATA_LENGTH of the base (skipped when the binlog asked);
 *      exact signal when it moved: per view partition key
 *        SELECT key, COUNT(*), BIT_XOR(CRC32(CONCAT_WS(...all columns)))
 *        FROM base GROUP BY key
 *      compared with the fingerprints taken at the view's last refresh
 *      start: a changed / new / vanished key marks that partition, dated
 *      at the previous probe (the last time it was seen unchanged) or the
 *      binlog event time, whichever is earlier.
 *   Baselines: a refresh compares, then takes a strong one; after a
 *   restart the probe takes a weak one (writes made while the proxy was
 *   down are not in any baseline), and a binlog row event for a view with
 *   no strong baseline is not deferred: the view is marked whole.
 *   Deferred changes survive a stop: before the binlog follower stores
 *   its position it calls cat_part_probe_settle(), which probes every view
 *   with a pending change, or marks it whole when that fails.
 *
 * What the probe cannot see: a write that leaves COUNT and the CRC32
 * XOR unchanged (a collision, or an UPDATE that writes identical values,
 * which does not change the view either); the cheap signal's UPDATE_TIME
 * is per second and NULL after a restart, TABLE_ROWS is an estimate, so
 * without the binlog a write is seen when DATA_LENGTH/TABLE_ROWS/UPDATE_TIME
 * move (a same-second UPDATE that keeps the size can be missed until the
 * next write moves them). Writes through the proxy never depend on it.
 */
#include "cat_part.h"
#include "rw_limits.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cat_freshness.h"
#include "cat_internal.h"
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

/* Column index of COL in table KEY's schema (SNAP), or -1. */
static ssize_t
schema_index(const struct cat_snapshot *snap, const char *key, const char *col)
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

/* Add MV to M without marking it (it was marked precisely). */
static void
claim(struct cat_marked *m, struct cat_mv *mv)
{
    m->v = realloc(m->v, (m->n + 1) * sizeof(*m->v));
    if (m->v == NULL) {
        abort();
    }
    m->v[m->n++] = mv;
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
            claim(m, mv);
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
        claim(m, mv);
    }
    cat_mark_table(snap, key, m, when_ms);
out:
    free(db);
    free(name);
    return ok;
}

bool
cat_part_note_write(const struct cat_snapshot *snap, const char *sql, size_t len,
                    const char *cur_db, int64_t when_ms, int *n_marked)
{
    struct stmt s;
    size_t i = 0, j, values = 0, where = 0, ncols_list = 0, col_list = 0;
    char *db = NULL, *name = NULL, key[512];
    enum { K_INSERT, K_UPDATE, K_DELETE } kind;
    struct cat_table_index *ix = NULL;
    struct cat_marked m = {NULL, 0};
    bool handled = false, sets_col_any = false, on_dup = false;

    *n_marked = 0;
    if (snap == NULL || snap->by_table == NULL) {
        return false;
    }
    rw_lex_init(&s.lx, sql, len);
    s.t = rw_lex_all(sql, len, &s.n);
    if (s.t == NULL) {
        return false;
    }
    for (i = 0, j = 0; i < s.n; i++) {
        if (s.t[i].kind != RW_TOK_HINT) {
            s.t[j++] = s.t[i];
        }
    }
    s.n = j;
    while (s.n > 0 && is_op(&s, s.n - 1, ";")) {
        s.n--;
    }
    for (i = 0; i < s.n; i++) {
        if (is_op(&s, i, ";")) {
            goto out; /* several statements: the generic scanner */
        }
    }
    i = 0;
    if (is_w(&s, 0, "ALTER")) {
        handled = note_ddl(snap, &s, cur_db, when_ms, &m);
        *n_marked = (int)m.n;
        goto out;
    }
    if (is_w(&s, 0, "INSERT") || is_w(&s, 0, "REPLACE")) {
        kind = K_INSERT;
        on_dup = is_w(&s, 0, "REPLACE");
        i = 1;
        while (is_w(&s, i, "LOW_PRIORITY") || is_w(&s, i, "DELAYED") ||
               is_w(&s, i, "HIGH_PRIORITY") || is_w(&s, i, "IGNORE") || is_w(&s, i, "INTO")) {
            i++;
        }
    } else if (is_w(&s, 0, "UPDATE")) {
        kind = K_UPDATE;
        i = 1;
        while (is_w(&s, i, "LOW_PRIORITY") || is_w(&s, i, "IGNORE")) {
            i++;
        }
    } else if (is_w(&s, 0, "DELETE")) {
        kind = K_DELETE;
        i = 1;
        while (is_w(&s, i, "LOW_PRIORITY") || is_w(&s, i, "QUICK") || is_w(&s, i, "IGNORE")) {
            i++;
        }
        if (!is_w(&s, i, "FROM")) {
            goto out;
        }
        i++;
    } else {
        goto out;
    }
    if (!table_at(&s, &i, cur_db, &db, &name)) {
        goto out;
    }
    if (kind == K_INSERT) {
        if (is_w(&s, i, "PARTITION")) {
            goto out;
        }
        if (is_op(&s, i, "(")) {
            col_list = i + 1;
            for (i = i + 1; i < s.n && !is_op(&s, i, ")"); i++) {
                if (ident(s.t[i])) {
                    ncols_list++;
                } else if (!is_op(&s, i, ",")) {
                    goto out;
                }
            }
            i++;
        }
        if (!is_w(&s, i, "VALUES") && !is_w(&s, i, "VALUE")) {
            goto out; /* INSERT ... SELECT / SET: the generic scanner */
        }
        values = i;
        for (j = i; j < s.n; j++) {
            if (is_w(&s, j, "SELECT")) {
                goto out;
            }
            if (is_w(&s, j, "DUPLICATE")) {
                on_dup = true;
            }
        }
    } else {
        /* single-table UPDATE / DELETE: [AS] alias, then SET / WHERE */
        if (is_w(&s, i, "AS")) {
            i++;
        }
        if (i < s.n && ident(s.t[i]) && !is_w(&s, i, "SET") && !is_w(&s, i, "WHERE")) {
            i++;
        }
        if (kind == K_UPDATE) {
            if (!is_w(&s, i, "SET")) {
                goto out;
            }
        } else if (i < s.n && !is_w(&s, i, "WHERE") && !is_w(&s, i, "ORDER") &&
                   !is_w(&s, i, "LIMIT")) {
            goto out;
        }
        for (j = i; j < s.n; j++) {
            if (is_w(&s, j, "SELECT")) {
                goto out; /* subqueries: the generic scanner */
            }
            if (is_w(&s, j, "WHERE") && where == 0) {
                where = j + 1;
            }
        }
    }
    cat_make_key(key, sizeof(key), db, name);
    handled = true;
    HASH_FIND_STR(snap->by_table, key, ix);
    for (j = 0; ix != NULL && j < ix->n; j++) {
        struct cat_mv *mv = ix->mvs[j];
        const struct cat_part_spec *ps = mv->part;
        size_t e;
        bool excl = false;
        for (e = 0; e < mv->n_excluded; e++) {
            excl = excl || strcmp(mv->excluded[e], key) == 0;
        }
        if (excl || ps == NULL || ps->base_key == NULL || strcmp(ps->base_key, key) != 0 ||
            mv->state->parts == NULL) {
            continue; /* whole-view marking below */
        }
        if (kind == K_INSERT) {
            ssize_t idx = -1;
            if (on_dup && !ps->base_partitioned) {
                /* REPLACE / ON DUPLICATE KEY may change rows of any partition
                 * unless the table's unique keys include the partition column */
                continue;
            }
            if (col_list > 0) {
                size_t c, k = 0;
                for (c = col_list; k < ncols_list; c++) {
                    if (ident(s.t[c])) {
                        size_t cc = c;
                        if (col_at(&s, &cc, ps->base_col)) {
                            idx = (ssize_t)k;
                        }
                        k++;
                    }
                }
                if (idx < 0) {
                    /* column not given: its default (NULL or a constant) */
                    cat_part_mark_range(mv, CAT_DAY_MIN, CAT_DAY_MAX, true, false, when_ms);
                    claim(&m, mv);
                    continue;
                }
            } else {
                idx = schema_index(snap, key, ps->base_col);
            }
            mark_values(mv, &s, values, idx, when_ms);
        } else {
            int64_t lo = CAT_DAY_MIN, hi = CAT_DAY_MAX;
            if (kind == K_UPDATE) {
                /* SET col = ... moves rows between partitions: all */
                size_t a;
                sets_col_any = false;
                for (a = 0; a < s.n && (where == 0 || a < where); a++) {
                    size_t aa = a;
                    if (a > 0 && (is_w(&s, a - 1, "SET") || is_op(&s, a - 1, ",")) &&
                        col_at(&s, &aa, ps->base_col) && is_op(&s, aa, "=")) {
                        sets_col_any = true;
                    }
                }
            }
            if (where > 0 && !sets_col_any) {
                where_range(&s, where, ps->base_col, &lo, &hi);
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
        claim(&m, mv);
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
    free(db);
    free(name);
    free(s.t);
    return handled;
}

/* ------------------------------------------------------------ probe */

static _Atomic int g_probe_stop;
static _Atomic int g_binlog_covers;         /* cat_part_probe_binlog_covers() */
static _Atomic int g_probe_wake;
static pthread_t g_probe_thread;
static bool g_probe_running;
static pthread_mutex_t g_probe_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_probe_cv = PTHREAD_COND_INITIALIZER;

void
cat_part_key_sql(struct cat_buf *b, const char *col, enum cat_punit floor, enum cat_punit u)
{
    struct cat_buf inner = {0}, c = {0};
    cat_buf_ident(&c, col);
    /* derivation floor first, then the partition unit */
    if (floor == CAT_PU_MONTH) {
        cat_buf_printf(&inner, "DATE_FORMAT(%s, '%%Y-%%m-01')", c.p);
    } else if (floor == CAT_PU_YEAR) {
        cat_buf_printf(&inner, "DATE_FORMAT(%s, '%%Y-01-01')", c.p);
    } else if (floor == CAT_PU_QUARTER) {
        cat_buf_printf(&inner, "(MAKEDATE(YEAR(%s), 1) + INTERVAL (QUARTER(%s) - 1) QUARTER)",
                       c.p, c.p);
    } else if (floor == CAT_PU_WEEK) {
        cat_buf_printf(&inner, "(DATE(%s) - INTERVAL WEEKDAY(%s) DAY)", c.p, c.p);
    } else {
        cat_buf_printf(&inner, "DATE(%s)", c.p);
    }
    switch (u) {
    case CAT_PU_WEEK:
        cat_buf_printf(b, "(DATE(%s) - INTERVAL WEEKDAY(%s) DAY)", inner.p, inner.p);
        break;
    case CAT_PU_MONTH:
        cat_buf_printf(b, "DATE_FORMAT(%s, '%%Y-%%m-01')", inner.p);
        break;
    case CAT_PU_QUARTER:
        cat_buf_printf(b, "(MAKEDATE(YEAR(%s), 1) + INTERVAL (QUARTER(%s) - 1) QUARTER)",
                       inner.p, inner.p);
        break;
    case CAT_PU_YEAR:
        cat_buf_printf(b, "DATE_FORMAT(%s, '%%Y-01-01')", inner.p);
        break;
    default:
        cat_buf_puts(b, inner.p);
        break;
    }
    cat_buf_free(&inner);
    cat_buf_free(&c);
}

static void
key_sql(struct cat_buf *b, const struct cat_part_spec *s)
{
    cat_part_key_sql(b, s->base_col, s->base_floor, s->unit);
}

/* Per-key fingerprints of MV's base table: parallel arrays; -1 on error. */
struct fp {
    size_t n;                       /* keys */
    int64_t *key;                   /* partition key (day), CAT_DAY_MIN for NULL */
    char **sig;                     /* "count:xor" */
};

static void
fp_free(struct fp *f)
{
    size_t i;
    for (i = 0; i < f->n; i++) {
        free(f->sig[i]);
    }
    free(f->key);
    free(f->sig);
    memset(f, 0, sizeof(*f));
}

/* Per-key fingerprints of MV's base table into OUT; WHERE (NULL: none)
 * restricts the rows read. */
static int
fingerprint_where(MYSQL *c, const struct cat_snapshot *snap, const struct cat_mv *mv,
                  const char *where, struct fp *out)
{
    const struct cat_part_spec *s = mv->part;
    struct cat_table *t = NULL;
    struct cat_buf q = {0};
    MYSQL_RES *res;
    MYSQL_ROW row;
    size_t i;
    const char *dot = strchr(s->base_key, '.');
    char *dbn;

    memset(out, 0, sizeof(*out));
    HASH_FIND_STR(snap->tables, s->base_key, t);
    if (t == NULL || t->n_cols == 0 || dot == NULL) {
        return -1;
    }
    cat_buf_puts(&q, "SELECT ");
    key_sql(&q, s);
    cat_buf_puts(&q, ", CONCAT(COUNT(*), ':', BIT_XOR(CRC32(CONCAT_WS(0x1f");
    for (i = 0; i < t->n_cols; i++) {
        cat_buf_puts(&q, ", ");
        cat_buf_ident(&q, t->cols[i].name);
        cat_buf_puts(&q, ", ISNULL(");
        cat_buf_ident(&q, t->cols[i].name);
        cat_buf_puts(&q, ")");
    }
    cat_buf_puts(&q, ")))) FROM ");
    dbn = cat_xstrndup(s->base_key, (size_t)(dot - s->base_key));
    cat_buf_qname(&q, dbn, dot + 1);
    free(dbn);
    if (where != NULL) {
        cat_buf_puts(&q, " WHERE ");
        cat_buf_puts(&q, where);
    }
    cat_buf_puts(&q, " GROUP BY 1");
    if (mysql_real_query(c, q.p, q.len) != 0 || (res = mysql_store_result(c)) == NULL) {
        cat_log(CAT_LOG_WARN, "partition probe of %s: %s", mv->key, mysql_error(c));
        cat_buf_free(&q);
        return -1;
    }
    cat_buf_free(&q);
    out->key = cat_xcalloc(mysql_num_rows(res) + 1, sizeof(*out->key));
    out->sig = cat_xcalloc(mysql_num_rows(res) + 1, sizeof(*out->sig));
    while ((row = mysql_fetch_row(res)) != NULL) {
        int64_t d = CAT_DAY_MIN;
        if (row[0] != NULL && !cat_day_parse(row[0], &d)) {
            continue;
        }
        out->key[out->n] = d;
        out->sig[out->n] = cat_xstrdup(row[1] ? row[1] : "");
        out->n++;
    }
    mysql_free_result(res);
    return 0;
}

static int
fingerprint(MYSQL *c, const struct cat_snapshot *snap, const struct cat_mv *mv, struct fp *out)
{
    return fingerprint_where(c, snap, mv, NULL, out);
}

/* Per-view probe memory (probe thread, refresh, binlog checkpoint; under g_fp_mu). */
struct fp_entry {
    char *key;                      /* view key */
    uint64_t id;                    /* view id (detects drop + re-create) */
    struct fp base;                 /* fingerprints at the baseline */
    bool has_base;                  /* base / table_sig were taken */
    bool weak;                      /* base taken at start-up, not at a refresh: the binlog
                                     * backlog may predate it, so cat_part_defer does not
                                     * rely on it (the view is marked whole instead) */
    char *table_sig;                /* cheap signal at the baseline */
    int64_t seen_ms;                /* time of the baseline / last probe */
    int64_t pending_ms;             /* binlog asked at this event time (0 = no) */
    uint64_t pending_gen;           /* bumped by every cat_part_defer */
    UT_hash_handle hh;
};
static struct fp_entry *g_fp;
static pthread_mutex_t g_fp_mu = PTHREAD_MUTEX_INITIALIZER;

static void
fp_entry_free(struct fp_entry *e)
{
    fp_free(&e->base);
    free(e->table_sig);
    free(e->key);
    free(e);
}

/* The entry of MV, or NULL (a stale entry of a dropped namesake is
 * removed); caller holds g_fp_mu. */
static struct fp_entry *
fp_lookup(const struct cat_mv *mv)
{
    struct fp_entry *e = NULL;
    HASH_FIND_STR(g_fp, mv->key, e);
    if (e != NULL && e->id != mv->id) {
        HASH_DEL(g_fp, e);
        fp_entry_free(e);
        e = NULL;
    }
    return e;
}

/* The entry of MV, created empty when missing; caller holds g_fp_mu. */
static struct fp_entry *
fp_get(const struct cat_mv *mv)
{
    struct fp_entry *e = fp_lookup(mv);
    if (e == NULL) {
        e = cat_xcalloc(1, sizeof(*e));
        e->key = cat_xstrdup(mv->key);
        e->id = mv->id;
        HASH_ADD_KEYPTR(hh, g_fp, e->key, strlen(e->key), e);
    }
    return e;
}

/* Cheap signal of MV's base table (caller frees) or NULL. */
static char *
table_sig(MYSQL *c, const struct cat_mv *mv)
{
    const char *key = mv->part->base_key, *dot = strchr(key, '.');
    struct cat_buf q = {0};
    MYSQL_RES *res;
    MYSQL_ROW row;
    char *dbn, *v = NULL;
    cat_buf_puts(&q, "SELECT CONCAT_WS('/', IFNULL(UPDATE_TIME, '-'), TABLE_ROWS, DATA_LENGTH) "
                     "FROM information_schema.TABLES WHERE TABLE_SCHEMA = ");
    dbn = cat_xstrndup(key, (size_t)(dot - key));
    cat_buf_lit(&q, dbn);
    free(dbn);
    cat_buf_puts(&q, " AND TABLE_NAME = ");
    cat_buf_lit(&q, dot + 1);
    if (mysql_real_query(c, q.p, q.len) == 0 && (res = mysql_store_result(c)) != NULL) {
        row = mysql_fetch_row(res);
        if (row != NULL && row[0] != NULL) {
            v = cat_xstrdup(row[0]);
        }
        mysql_free_result(res);
    }
    cat_buf_free(&q);
    return v;
}

/* Find KEY in F; index or -1. */
static ssize_t
fp_find(const struct fp *f, int64_t key)
{
    size_t i;
    for (i = 0; i < f->n; i++) {
        if (f->key[i] == key) {
            return (ssize_t)i;
        }
    }
    return -1;
}

static void
mark_key(struct cat_mv *mv, int64_t key, int64_t when)
{
    if (key == CAT_DAY_MIN) {
        cat_part_mark_range(mv, 0, 0, true, false, when);
    } else {
        cat_part_mark_range(mv, key, cat_unit_next(key, mv->part->unit), false, true, when);
    }
}

/* How probe_view() treats the baseline. */
enum probe_mode {
    PROBE_ROUND,                    /* periodic / woken: needs a baseline, may use the cheap signal */
    PROBE_REFRESH,                  /* refresh start: compare when there is a baseline, then
                                     * take a strong one */
    PROBE_STARTUP,                  /* no baseline yet: take a weak one, mark nothing */
};

/*
 * Probe MV (mapped, partitioned) over C: compare the per-key fingerprints
 * with the baseline and mark the keys that changed, dated at the previous
 * probe or the deferred binlog event, whichever is earlier; the current
 * figures become the baseline. Returns false when the backend could not be
 * read (a deferred change then stays pending).
 */
static bool
probe_view(MYSQL *c, const struct cat_snapshot *snap, struct cat_mv *mv, int64_t now,
           enum probe_mode mode)
{
    struct fp_entry *e;
    struct fp cur;
    char *sig;
    int64_t when, pending;
    uint64_t gen;
    size_t i;
    bool have_base;

    pthread_mutex_lock(&g_fp_mu);
    e = fp_get(mv);
    have_base = e->has_base;
    pending = e->pending_ms;
    gen = e->pending_gen;
    when = e->seen_ms > 0 ? e->seen_ms : now;
    if (pending > 0 && pending < when) {
        when = pending;
    }
    pthread_mutex_unlock(&g_fp_mu);
    if (mode == PROBE_ROUND && !have_base) {
        return true; /* no baseline yet: the next refresh (or start-up round) takes one */
    }
    if (mode == PROBE_STARTUP && have_base) {
        return true;
    }
    if (mode == PROBE_ROUND && pending == 0 && atomic_load(&g_binlog_covers)) {
        /* the binlog follower sees every committed change and marks it
         * (exactly from the row images, or by handing it here as pending):
         * a periodic round has nothing to find */
        return true;
    }
    sig = table_sig(c, mv);
    if (mode == PROBE_ROUND) {
        pthread_mutex_lock(&g_fp_mu);
        e = fp_get(mv);
        if (pending == 0 && sig != NULL && e->table_sig != NULL &&
            strcmp(sig, e->table_sig) == 0) {
            e->seen_ms = now;
            pthread_mutex_unlock(&g_fp_mu);
            free(sig);
            return true;
        }
        pthread_mutex_unlock(&g_fp_mu);
    }
    if (fingerprint(c, snap, mv, &cur) != 0) {
        free(sig);
        return false;
    }
    atomic_fetch_add(&mv->state->parts->probe_scans, 1);
    cat_log(CAT_LOG_DEBUG, "partition probe of %s: fingerprinted %s (%s)", mv->key,
            mv->part->base_key, mode == PROBE_ROUND ? (pending ? "binlog change" : "round")
                                : mode == PROBE_REFRESH ? "refresh baseline" : "start-up");
    pthread_mutex_lock(&g_fp_mu);
    e = fp_get(mv);
    if (e->has_base && mode != PROBE_STARTUP) {
        for (i = 0; i < cur.n; i++) {
            ssize_t j = fp_find(&e->base, cur.key[i]);
            if (j < 0 || strcmp(e->base.sig[j], cur.sig[i]) != 0) {
                mark_key(mv, cur.key[i], when);
            }
        }
        for (i = 0; i < e->base.n; i++) {
            if (fp_find(&cur, e->base.key[i]) < 0) {
                mark_key(mv, e->base.key[i], when);
            }
        }
    }
    /* the new figures are the baseline: a change is reported once (the
     * partition stays stale until a refresh takes a new baseline) */
    fp_free(&e->base);
    e->base = cur;
    e->has_base = true;
    if (mode == PROBE_STARTUP) {
        e->weak = true;
    } else if (mode == PROBE_REFRESH) {
        e->weak = false;
    }
    free(e->table_sig);
    e->table_sig = sig;
    e->seen_ms = now;
    if (e->pending_gen == gen) {
        e->pending_ms = 0; /* else a later event asked meanwhile: probe again */
    }
    pthread_mutex_unlock(&g_fp_mu);
    return true;
}

void
cat_part_probe_baseline(MYSQL *c, struct cat_mv *mv)
{
    struct cat_snapshot *snap;
    if (mv->part == NULL || mv->part->base_key == NULL || mv->state->parts == NULL) {
        return;
    }
    snap = cat_snapshot_acquire();
    if (!probe_view(c, snap, mv, cat_now_ms(), PROBE_REFRESH)) {
        /* no new baseline: a pending change stays pending (settled by the
         * next probe or checkpoint) */
        cat_log(CAT_LOG_WARN, "partition probe baseline of %s failed", mv->key);
    }
    cat_snapshot_release(snap);
}

bool
cat_part_probe_partial_ok(const struct cat_mv *mv)
{
    struct fp_entry *e;
    bool ok;
    if (mv->part == NULL || mv->part->base_key == NULL || mv->state->parts == NULL ||
        (mv->part->base_floor != CAT_PU_NONE && mv->part->base_floor != CAT_PU_DAY)) {
        return false;
    }
    pthread_mutex_lock(&g_fp_mu);
    e = fp_lookup(mv);
    ok = e != NULL && e->has_base && !e->weak && e->pending_ms == 0;
    pthread_mutex_unlock(&g_fp_mu);
    return ok;
}

bool
cat_part_probe_baseline_parts(MYSQL *c, struct cat_mv *mv, const struct cat_ppart *parts,
                              size_t n)
{
    struct cat_snapshot *snap;
    struct cat_buf w = {0};
    struct fp cur, merged = {0};
    struct fp_entry *e;
    size_t i, k;
    int y, m, d;
    bool ok;

    if (!cat_part_probe_partial_ok(mv)) {
        return false;
    }
    if (n == 0) {
        return true;
    }
    /* base_floor NONE / DAY: key = unit_floor(DATE(col)), and the ranges
     * are unit-aligned, so "key in [lo, hi)" is "col >= lo AND col < hi":
     * a predicate on the base column itself, which prunes its partitions */
    cat_buf_puts(&w, "(");
    for (i = 0; i < n; i++) {
        cat_buf_puts(&w, i > 0 ? " OR " : "");
        cat_buf_ident(&w, mv->part->base_col);
        if (parts[i].is_null) {
            cat_buf_puts(&w, " IS NULL");
            continue;
        }
        cat_day_to_ymd(parts[i].lo, &y, &m, &d);
        cat_buf_printf(&w, " >= '%04d-%02d-%02d' AND ", y, m, d);
        cat_buf_ident(&w, mv->part->base_col);
        cat_day_to_ymd(parts[i].hi, &y, &m, &d);
        cat_buf_printf(&w, " < '%04d-%02d-%02d'", y, m, d);
    }
    cat_buf_puts(&w, ")");
    snap = cat_snapshot_acquire();
    ok = fingerprint_where(c, snap, mv, w.p, &cur) == 0;
    cat_snapshot_release(snap);
    cat_buf_free(&w);
    if (!ok) {
        return false;
    }
    pthread_mutex_lock(&g_fp_mu);
    e = fp_lookup(mv);
    if (e == NULL || !e->has_base || e->weak) {
        /* the baseline went away meanwhile: leave it to the next round */
        pthread_mutex_unlock(&g_fp_mu);
        fp_free(&cur);
        return false;
    }
    /* the baseline's keys outside the ranges, then the fresh figures of the
     * keys inside (a key gone from the base is simply no longer there);
     * the table signal and the probe time stay those of the last full
     * probe, so a change elsewhere since then is still found (and dated no
     * later than it happened) by the next round */
    merged.key = cat_xcalloc(e->base.n + cur.n + 1, sizeof(*merged.key));
    merged.sig = cat_xcalloc(e->base.n + cur.n + 1, sizeof(*merged.sig));
    for (i = 0; i < e->base.n; i++) {
        int64_t key = e->base.key[i];
        bool inside = false;
        for (k = 0; k < n && !inside; k++) {
            inside = parts[k].is_null ? key == CAT_DAY_MIN
                                      : key != CAT_DAY_MIN && key >= parts[k].lo &&
                                            key < parts[k].hi;
        }
        if (!inside) {
            merged.key[merged.n] = key;
            merged.sig[merged.n] = e->base.sig[i];
            e->base.sig[i] = NULL;
            merged.n++;
        }
    }
    for (i = 0; i < cur.n; i++) {
        merged.key[merged.n] = cur.key[i];
        merged.sig[merged.n] = cur.sig[i];
        cur.sig[i] = NULL;
        merged.n++;
    }
    fp_free(&e->base);
    e->base = merged;
    pthread_mutex_unlock(&g_fp_mu);
    fp_free(&cur);
    return true;
}

void
cat_part_probe_once(MYSQL *c, int64_t now_ms)
{
    struct cat_snapshot *snap = cat_snapshot_acquire();
    struct cat_mv *mv, *tmp;
    if (snap == NULL) {
        return;
    }
    HASH_ITER(hh, snap->mvs, mv, tmp) {
        if (mv->part != NULL && mv->part->base_key != NULL && mv->state->parts != NULL) {
            cat_part_bounds_refresh(c, mv);
            if (atomic_load(&mv->state->last_refresh_ms) != 0) {
                /* after a restart: a weak baseline for the writes to come */
                (void)probe_view(c, snap, mv, now_ms, PROBE_STARTUP);
            }
            (void)probe_view(c, snap, mv, now_ms, PROBE_ROUND);
        }
    }
    cat_snapshot_release(snap);
}

int
cat_part_probe_settle(MYSQL *c)
{
    struct cat_snapshot *snap = cat_snapshot_acquire();
    struct cat_mv *mv, *tmp;
    int n = 0;
    if (snap == NULL) {
        return 0;
    }
    HASH_ITER(hh, snap->mvs, mv, tmp) {
        struct fp_entry *e;
        int64_t pending = 0;
        int tries;
        if (mv->part == NULL || mv->part->base_key == NULL || mv->state->parts == NULL) {
            continue;
        }
        for (tries = 0; tries < 3; tries++) {
            pthread_mutex_lock(&g_fp_mu);
            e = fp_lookup(mv);
            pending = e != NULL ? e->pending_ms : 0;
            pthread_mutex_unlock(&g_fp_mu);
            if (pending == 0 || !probe_view(c, snap, mv, cat_now_ms(), PROBE_ROUND)) {
                break;
            }
        }
        if (pending == 0) {
            continue;
        }
        pthread_mutex_lock(&g_fp_mu);
        e = fp_lookup(mv);
        if (e != NULL && e->pending_ms != 0) {
            pending = e->pending_ms;
            e->pending_ms = 0;
        } else {
            pending = 0;
        }
        pthread_mutex_unlock(&g_fp_mu);
        if (pending != 0) {
            /* could not narrow it: every partition, conservatively */
            cat_part_mark_range(mv, CAT_DAY_MIN, CAT_DAY_MAX, true, false, pending);
            cat_log(CAT_LOG_INFO, "partition probe of %s could not run: every partition "
                    "marked stale", mv->key);
            n++;
        }
    }
    cat_snapshot_release(snap);
    return n;
}

/* ------------------------------------------------------------ row images */

/* Distinct base days collected from the images of one rows event. */
#define RI_MAX_DAYS 4096
struct ri_days {
    int64_t *d;                     /* sorted, distinct (up to RI_MAX_DAYS) */
    size_t n;
    int64_t lo, hi;                 /* [lo, hi) of everything seen (the cover when too many) */
    bool null;                      /* a NULL value: p_null */
    bool whole;                     /* a zero / invalid date: every partition */
    bool overflow;                  /* more than RI_MAX_DAYS distinct days: mark [lo, hi) */
};

static void
ri_add(struct ri_days *r, int64_t day)
{
    size_t a = 0, b = r->n;
    if (r->lo == r->hi) {
        r->lo = day;
        r->hi = day + 1;
    } else {
        r->lo = day < r->lo ? day : r->lo;
        r->hi = day + 1 > r->hi ? day + 1 : r->hi;
    }
    if (r->overflow) {
        return;
    }
    while (a < b) {
        size_t mid = (a + b) / 2;
        if (r->d[mid] < day) {
            a = mid + 1;
        } else {
            b = mid;
        }
    }
    if (a < r->n && r->d[a] == day) {
        return;
    }
    if (r->n == RI_MAX_DAYS) {
        r->overflow = true;
        return;
    }
    memmove(r->d + a + 1, r->d + a, (r->n - a) * sizeof(*r->d));
    r->d[a] = day;
    r->n++;
}

/* cat_ri_scan callback: the base day(s) a value falls into. */
static void
ri_collect(const struct cat_ri_value *v, bool after, void *arg)
{
    struct ri_days *r = arg;
    (void)after;
    switch (v->kind) {
    case CAT_RI_V_NULL:
        r->null = true;
        break;
    case CAT_RI_V_DATE: {
        int y, m, d;
        int64_t day;
        if (v->year < 1 || v->month < 1 || v->month > 12 || v->day < 1) {
            r->whole = true; /* '0000-00-00', '2024-00-10' ...: no calendar day */
            break;
        }
        day = cat_day_from_ymd(v->year, v->month, v->day);
        cat_day_to_ymd(day, &y, &m, &d);
        if (y != v->year || m != v->month || d != v->day) {
            r->whole = true; /* '2024-02-31' (ALLOW_INVALID_DATES) */
            break;
        }
        ri_add(r, day);
        break;
    }
    case CAT_RI_V_EPOCH: {
        /* TIMESTAMP is stored in UTC; the view floors it in the refresh
         * session's time zone (UTC-12 .. UTC+14): the UTC day or a
         * neighbour. Epoch 0 is the zero timestamp. */
        int64_t day = v->epoch_s / 86400;
        if (v->epoch_s <= 0) {
            r->whole = true;
            break;
        }
        ri_add(r, day - 1);
        ri_add(r, day);
        ri_add(r, day + 1);
        break;
    }
    }
}

/*
 * Does the binlog type TY (real type for STRING) of a column fit its
 * information_schema DATA_TYPE DT and COLUMN_TYPE CT? Unknown DATA_TYPE
 * names (MariaDB plugin types: inet6, uuid ...) fit anything; the
 * partition column (STRICT) must be a date type that decodes as such.
 */
static bool
ri_type_fits(unsigned ty, const char *dt, const char *ct, bool strict)
{
    static const struct {
        const char *dt;
        unsigned t1, t2, t3;
    } map[] = {
        {"tinyint", CAT_RI_T_TINY, CAT_RI_T_TINY, CAT_RI_T_TINY},
        {"smallint", CAT_RI_T_SHORT, CAT_RI_T_SHORT, CAT_RI_T_SHORT},
        {"mediumint", CAT_RI_T_INT24, CAT_RI_T_INT24, CAT_RI_T_INT24},
        {"int", CAT_RI_T_LONG, CAT_RI_T_LONG, CAT_RI_T_LONG},
        {"bigint", CAT_RI_T_LONGLONG, CAT_RI_T_LONGLONG, CAT_RI_T_LONGLONG},
        {"float", CAT_RI_T_FLOAT, CAT_RI_T_FLOAT, CAT_RI_T_FLOAT},
        {"double", CAT_RI_T_DOUBLE, CAT_RI_T_DOUBLE, CAT_RI_T_DOUBLE},
        {"decimal", CAT_RI_T_NEWDECIMAL, CAT_RI_T_NEWDECIMAL, CAT_RI_T_NEWDECIMAL},
        {"date", CAT_RI_T_DATE, CAT_RI_T_NEWDATE, CAT_RI_T_DATE},
        {"datetime", CAT_RI_T_DATETIME2, CAT_RI_T_DATETIME, CAT_RI_T_DATETIME2},
        {"timestamp", CAT_RI_T_TIMESTAMP2, CAT_RI_T_TIMESTAMP, CAT_RI_T_TIMESTAMP2},
        {"time", CAT_RI_T_TIME2, CAT_RI_T_TIME, CAT_RI_T_TIME2},
        {"year", CAT_RI_T_YEAR, CAT_RI_T_YEAR, CAT_RI_T_YEAR},
        {"varchar", CAT_RI_T_VARCHAR, CAT_RI_T_VAR_STRING, CAT_RI_T_VARCHAR},
        {"varbinary", CAT_RI_T_VARCHAR, CAT_RI_T_VAR_STRING, CAT_RI_T_VARCHAR},
        {"char", CAT_RI_T_STRING, CAT_RI_T_STRING, CAT_RI_T_STRING},
        {"binary", CAT_RI_T_STRING, CAT_RI_T_STRING, CAT_RI_T_STRING},
        {"enum", CAT_RI_T_ENUM, CAT_RI_T_ENUM, CAT_RI_T_ENUM},
        {"set", CAT_RI_T_SET, CAT_RI_T_SET, CAT_RI_T_SET},
        {"bit", CAT_RI_T_BIT, CAT_RI_T_BIT, CAT_RI_T_BIT},
        {"tinytext", CAT_RI_T_BLOB, CAT_RI_T_TINY_BLOB, CAT_RI_T_BLOB},
        {"text", CAT_RI_T_BLOB, CAT_RI_T_BLOB, CAT_RI_T_BLOB},
        {"mediumtext", CAT_RI_T_BLOB, CAT_RI_T_MEDIUM_BLOB, CAT_RI_T_BLOB},
        {"longtext", CAT_RI_T_BLOB, CAT_RI_T_LONG_BLOB, CAT_RI_T_JSON},
        {"tinyblob", CAT_RI_T_BLOB, CAT_RI_T_TINY_BLOB, CAT_RI_T_BLOB},
        {"blob", CAT_RI_T_BLOB, CAT_RI_T_BLOB, CAT_RI_T_BLOB},
        {"mediumblob", CAT_RI_T_BLOB, CAT_RI_T_MEDIUM_BLOB, CAT_RI_T_BLOB},
        {"longblob", CAT_RI_T_BLOB, CAT_RI_T_LONG_BLOB, CAT_RI_T_BLOB},
        {"json", CAT_RI_T_BLOB, CAT_RI_T_JSON, CAT_RI_T_BLOB},
    };
    size_t i;
    bool old_temporal = ty == CAT_RI_T_DATETIME || ty == CAT_RI_T_TIMESTAMP || ty == CAT_RI_T_TIME;
    if (old_temporal && ct != NULL && strchr(ct, '(') != NULL) {
        /* MariaDB 5.3 high-resolution DATETIME(n) / TIMESTAMP(n) / TIME(n)
         * (mysql56_temporal_format=OFF): a different size, not decoded */
        return false;
    }
    for (i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
        if (strcmp(dt, map[i].dt) == 0) {
            return ty == map[i].t1 || ty == map[i].t2 || ty == map[i].t3;
        }
    }
    return !strict;
}

/* Mark MV for the days collected in R (exact path). */
static void
ri_mark(struct cat_mv *mv, const struct ri_days *r, int64_t when)
{
    size_t i, j;
    if (r->whole) {
        cat_part_mark_range(mv, CAT_DAY_MIN, CAT_DAY_MAX, true, false, when);
        return;
    }
    if (r->null) {
        cat_part_mark_range(mv, 0, 0, true, false, when);
    }
    if (r->overflow) {
        cat_part_mark_range(mv, r->lo, r->hi, false, true, when);
        return;
    }
    /* runs of consecutive days: one mark each */
    for (i = 0; i < r->n; i = j) {
        for (j = i + 1; j < r->n && r->d[j] == r->d[j - 1] + 1; j++) {
        }
        cat_part_mark_range(mv, r->d[i], r->d[j - 1] + 1, false, true, when);
    }
}

size_t
cat_part_rows_mark(const struct cat_snapshot *snap, const char *key,
                   const struct cat_ri_table *tm, const struct cat_ri_rows *rows,
                   const char *why_not, struct cat_marked *m, int64_t when_ms)
{
    struct cat_table_index *ix = NULL;
    const struct cat_table *bt = NULL;
    size_t j, n = 0;
    if (snap == NULL) {
        return 0;
    }
    HASH_FIND_STR(snap->by_table, key, ix);
    {
        struct cat_table *t = NULL;
        HASH_FIND_STR(snap->tables, key, t);
        bt = t;
    }
    for (j = 0; ix != NULL && j < ix->n; j++) {
        struct cat_mv *mv = ix->mvs[j];
        struct ri_days r;
        char why[300] = "";
        ssize_t col = -1;
        size_t k;
        bool dup = false;
        long imgs = -1;
        if (mv->part == NULL || mv->part->base_key == NULL ||
            strcmp(mv->part->base_key, key) != 0 || mv->state->parts == NULL) {
            continue;
        }
        for (k = 0; k < m->n; k++) {
            dup = dup || m->v[k] == mv;
        }
        if (dup) {
            continue;
        }
        memset(&r, 0, sizeof(r));
        if (why_not != NULL) {
            snprintf(why, sizeof(why), "%s", why_not);
        } else if (tm == NULL || rows == NULL) {
            snprintf(why, sizeof(why), "the table map could not be parsed");
        } else if (bt == NULL) {
            snprintf(why, sizeof(why), "no column list of %s in the catalog", key);
        } else if (bt->n_cols != tm->n) {
            snprintf(why, sizeof(why), "the table map has %u columns, the catalog %zu (schema "
                     "changed?)", tm->n, bt->n_cols);
        } else if ((col = schema_index(snap, key, mv->part->base_col)) < 0) {
            snprintf(why, sizeof(why), "column %s not in the catalog's column list",
                     mv->part->base_col);
        } else {
            for (k = 0; k < bt->n_cols && why[0] == '\0'; k++) {
                if (!ri_type_fits(tm->type[k], bt->cols[k].data_type, bt->cols[k].column_type,
                                  (ssize_t)k == col)) {
                    char tn[32];
                    snprintf(why, sizeof(why), "column %s is %s in the catalog but %s in the "
                             "binlog (schema changed?)", bt->cols[k].name,
                             bt->cols[k].column_type,
                             cat_ri_type_name(tm->type[k], tn, sizeof(tn)));
                }
            }
        }
        if (why[0] == '\0') {
            r.d = cat_xcalloc(RI_MAX_DAYS, sizeof(*r.d));
            imgs = cat_ri_scan(tm, rows, (uint32_t)col, ri_collect, &r, why, sizeof(why));
        }
        if (imgs < 0) {
            atomic_fetch_add(&mv->state->parts->rows_probed, 1);
            cat_log(CAT_LOG_DEBUG, "binlog rows on %s for %s: probe: %s", key, mv->key, why);
            free(r.d);
            continue;
        }
        ri_mark(mv, &r, when_ms);
        atomic_fetch_add(&mv->state->parts->rows_exact, 1);
        {
            char lo[24] = "-", hi[24] = "-";
            int y, mo, d;
            if (r.lo != r.hi) {
                cat_day_to_ymd(r.lo, &y, &mo, &d);
                snprintf(lo, sizeof(lo), "%04d-%02d-%02d", y, mo, d);
                cat_day_to_ymd(r.hi - 1, &y, &mo, &d);
                snprintf(hi, sizeof(hi), "%04d-%02d-%02d", y, mo, d);
            }
            cat_log(CAT_LOG_DEBUG, "binlog rows on %s for %s: exact: %ld image(s), %s day(s) "
                    "%s..%s%s%s", key, mv->key, imgs, r.overflow ? "many" : "distinct", lo, hi,
                    r.null ? ", NULL" : "", r.whole ? ", zero date: all partitions" : "");
        }
        free(r.d);
        claim(m, mv);
        n++;
    }
    return n;
}

/*
 * A binlog row event on table KEY at WHEN_MS: for the partitioned views
 * whose mapped base table it is and that have a baseline taken at a
 * refresh, ask the probe to narrow it to partitions (woken at once) and
 * claim them in M so the caller does not mark them whole. Returns the
 * number of views deferred.
 */
size_t
cat_part_defer(const struct cat_snapshot *snap, const char *key, struct cat_marked *m,
               int64_t when_ms)
{
    struct cat_table_index *ix = NULL;
    size_t j, n = 0;
    if (snap == NULL) {
        return 0;
    }
    {
        /* row events of a partition refresh on the view's own storage table
         * (it DELETEs and INSERTs in place; row events carry no thread id) */
        struct cat_mv *self = NULL;
        HASH_FIND_STR(snap->mvs, key, self);
        if (self != NULL && self->state->parts != NULL &&
            cat_now_ms() < atomic_load(&self->state->parts->own_until_ms)) {
            claim(m, self);
        }
    }
    if (!g_probe_running) {
        return 0;
    }
    HASH_FIND_STR(snap->by_table, key, ix);
    for (j = 0; ix != NULL && j < ix->n; j++) {
        struct cat_mv *mv = ix->mvs[j];
        struct fp_entry *e;
        size_t k;
        bool dup = false, deferred = false;
        if (mv->part == NULL || mv->part->base_key == NULL ||
            strcmp(mv->part->base_key, key) != 0 || mv->state->parts == NULL) {
            continue;
        }
        for (k = 0; k < m->n; k++) {
            dup = dup || m->v[k] == mv;
        }
        if (dup) {
            continue;
        }
        pthread_mutex_lock(&g_fp_mu);
        e = fp_lookup(mv);
        if (e != NULL && e->has_base && !e->weak) {
            if (e->pending_ms == 0 || when_ms < e->pending_ms) {
                e->pending_ms = when_ms > 0 ? when_ms : 1;
            }
            e->pending_gen++;
            deferred = true;
        }
        pthread_mutex_unlock(&g_fp_mu);
        if (deferred) {
            /* else no baseline to compare with: the caller marks it whole */
            claim(m, mv);
            n++;
        }
    }
    if (n > 0) {
        pthread_mutex_lock(&g_probe_mu);
        atomic_store(&g_probe_wake, 1);
        pthread_cond_signal(&g_probe_cv);
        pthread_mutex_unlock(&g_probe_mu);
    }
    return n;
}

void
cat_part_probe_binlog_covers(bool on)
{
    atomic_store(&g_binlog_covers, on ? 1 : 0);
}

static void *
probe_main(void *arg)
{
    MYSQL *c = NULL;
    const char *env = getenv("MVPROXY_PROBE_INTERVAL_MS");
    long interval = env != NULL ? strtol(env, NULL, 10) : 2000;
    (void)arg;
    if (interval < 50) {
        interval = 50;
    }
    pthread_mutex_lock(&g_probe_mu);
    while (!atomic_load(&g_probe_stop)) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += interval / 1000;
        ts.tv_nsec += (interval % 1000) * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        if (!atomic_exchange(&g_probe_wake, 0)) {
            pthread_cond_timedwait(&g_probe_cv, &g_probe_mu, &ts);
        }
        atomic_store(&g_probe_wake, 0);
        if (atomic_load(&g_probe_stop)) {
            break;
        }
        pthread_mutex_unlock(&g_probe_mu);
        if (c == NULL) {
            char err[512];
            c = cat_connect_timeout(30, err, sizeof(err));
            if (c == NULL) {
                cat_log(CAT_LOG_WARN, "partition probe: %s (will retry)", err);
            }
        }
        if (c != NULL) {
            cat_part_probe_once(c, cat_now_ms());
            if (mysql_errno(c) == 2006 || mysql_errno(c) == 2013) {
                mysql_close(c);
                c = NULL;
            }
        }
        pthread_mutex_lock(&g_probe_mu);
    }
    pthread_mutex_unlock(&g_probe_mu);
    if (c != NULL) {
        mysql_close(c);
    }
    return NULL;
}

int
cat_part_probe_start(char *err, size_t errlen)
{
    atomic_store(&g_probe_stop, 0);
    if (rw_thread_create(&g_probe_thread, probe_main, NULL, false) != 0) {
        snprintf(err, errlen, "cannot start the partition probe thread");
        return -1;
    }
    g_probe_running = true;
    return 0;
}

void
cat_part_probe_stop(void)
{
    struct fp_entry *e, *tmp;
    if (g_probe_running) {
        pthread_mutex_lock(&g_probe_mu);
        atomic_store(&g_probe_stop, 1);
        pthread_cond_signal(&g_probe_cv);
        pthread_mutex_unlock(&g_probe_mu);
        pthread_join(g_probe_thread, NULL);
        g_probe_running = false;
    }
    pthread_mutex_lock(&g_fp_mu);
    HASH_ITER(hh, g_fp, e, tmp) {
        HASH_DEL(g_fp, e);
        fp_entry_free(e);
    }
    pthread_mutex_unlock(&g_fp_mu);
}
