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

#include "cat.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cat_util.h"
#include "rw_lex.h"

bool
cat_part_maps_table(const struct cat_mv *mv, const char *key)
{
    return mv->part != NULL && mv->part->base_key != NULL && mv->state->parts != NULL &&
           strcmp(mv->part->base_key, key) == 0;
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

/* Index of the partition holding key LO (or p_null), or -1; caller holds mu. */
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

/* Add a partition (caller holds mu); returns its index after sorting. */
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

void
cat_stale_min(int64_t *cur, int64_t when)
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
        cat_stale_min(&out->gaps_stale_ms, out->whole_stale_ms);
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
            cat_stale_min(&s, v.whole_stale_ms);
        }
        (*total)++;
        if (s == 0 && v.p[i].last_refresh_ms > 0) {
            (*valid)++;
        } else if (s != 0) {
            cat_stale_min(stale, s);
        }
    }
    if (v.gaps_stale_ms != 0) {
        cat_stale_min(stale, v.gaps_stale_ms);
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
            cat_stale_min(&s, v.whole_stale_ms);
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
        cat_stale_min(&best, up->created_ms > 0 ? up->created_ms : 1);
    }
    if (s != 0) {
        cat_stale_min(&best, s);
    }
    if (up->part == NULL || up->state->parts == NULL || cat_part_view_get(up, &v) != 0) {
        return best;
    }
    mapped = !all && !is_null && mv->part != NULL && mv->part->base_key != NULL &&
             mv->part->base_col != NULL && strcmp(mv->part->base_key, up->key) == 0 &&
             cat_streq_ci(mv->part->base_col, up->part->col);
    if (v.gaps_stale_ms != 0) {
        cat_stale_min(&best, v.gaps_stale_ms);
    }
    if (v.whole_stale_ms != 0) {
        cat_stale_min(&best, v.whole_stale_ms);
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
        cat_stale_min(&best, ps);
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
            cat_stale_min(&best, s);
        }
    }
    return best;
}
