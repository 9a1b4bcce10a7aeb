/*
 * rw_partition.c - rewrite by partition (see rw_partition.h).
 *
 *   block WHERE ──> range [lo, hi) of the base partition column (AND-ed
 *                   literal comparisons / BETWEEN; anything else: all)
 *        │
 *        v   view partitions in range: usable? (valid / grace / LOOSE)
 *   all usable ────────────────────────> block over `db`.`mv` unchanged
 *   some unusable ─> block over
 *        (SELECT * FROM `db`.`mv` WHERE <usable ranges>
 *         UNION ALL
 *         SELECT * FROM (<definition>) AS mvp_def
 *          WHERE NOT COALESCE(<usable ranges>, FALSE) AND <block range>) AS `mv`
 *   only unusable ─> not rewritten, with the reason
 *
 * Both branches produce the view's columns at the view's grain
 * (design §6), so the block's own roll-up re-aggregates them; the second
 * branch is the definition filtered on its own output column, which is
 * exactly what a fresh view holds for those ranges, whatever the
 * derivation. p_null (rows whose partition column is NULL) is a partition
 * like the others; ranges the view has no partition for count as valid
 * unless a change was seen there (gaps) or they are older than
 * partition_sync_limit (never held).
 */
#include "rw_partition.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cat.h"
#include "cat_part.h"
#include "rw_lex.h"
#include "rw_model.h"
#include "rw_restrict.h"
#include "rw.h"
#include "rw_util.h"

/* Tokens of a text, hints dropped. */
struct tk {
    struct rw_lexer lx;
    struct rw_tok *t;
    size_t n;
};

static int
tk_init(struct tk *k, const char *s, size_t len)
{
    size_t i, j = 0;
    rw_lex_init(&k->lx, s, len);
    k->t = rw_lex_all(s, len, &k->n);
    if (k->t == NULL) {
        return -1;
    }
    for (i = 0; i < k->n; i++) {
        if (k->t[i].kind != RW_TOK_HINT) {
            k->t[j++] = k->t[i];
        }
    }
    k->n = j;
    return 0;
}

static bool
w(const struct tk *k, size_t i, const char *word)
{
    return i < k->n && rw_tok_is(&k->lx, k->t[i], word);
}

static bool
op(const struct tk *k, size_t i, const char *o)
{
    return i < k->n && rw_tok_is_op(&k->lx, k->t[i], o);
}

static bool
ident(const struct tk *k, size_t i)
{
    return i < k->n && (k->t[i].kind == RW_TOK_IDENT || k->t[i].kind == RW_TOK_QIDENT);
}

/* Case-insensitive: is token I's identifier text NAME? */
static bool
ident_is(const struct tk *k, size_t i, const char *name)
{
    char *s;
    bool r;
    if (!ident(k, i)) {
        return false;
    }
    s = rw_tok_text(&k->lx, k->t[i]);
    r = s != NULL && strcasecmp(s, name) == 0;
    free(s);
    return r;
}

/* A date literal at *I ('x', DATE 'x', TIMESTAMP 'x'). */
static bool
lit(const struct tk *k, size_t *i, int64_t *day)
{
    char *s;
    bool ok;
    if ((w(k, *i, "DATE") || w(k, *i, "TIMESTAMP")) && *i + 1 < k->n &&
        k->t[*i + 1].kind == RW_TOK_STRING) {
        (*i)++;
    }
    if (*i >= k->n || k->t[*i].kind != RW_TOK_STRING) {
        return false;
    }
    s = rw_tok_text(&k->lx, k->t[*i]);
    ok = s != NULL && cat_day_parse(s, day);
    free(s);
    (*i)++;
    return ok;
}

/*
 * Is the column reference at *I the base partition column of MV in block
 * Q (unambiguously)? Advances past it.
 */
static bool
is_part_col(const struct tk *k, size_t *i, const struct cat_mv *mv, const struct rw_model *q)
{
    const struct cat_part_spec *s = mv->part;
    size_t j = *i, t;
    char *qual = NULL;
    bool ok = false, other_has = false;
    const struct rw_tab *base = NULL;
    if (!ident(k, j)) {
        return false;
    }
    if (op(k, j + 1, ".") && ident(k, j + 2)) {
        qual = rw_tok_text(&k->lx, k->t[j]);
        j += 2;
    }
    if (!ident_is(k, j, s->base_col)) {
        free(qual);
        return false;
    }
    for (t = 0; t < q->n_tabs; t++) {
        const struct rw_tab *tb = &q->tabs[t];
        size_t c;
        bool has = false;
        for (c = 0; c < tb->n_cols; c++) {
            has = has || strcasecmp(tb->cols[c].name, s->base_col) == 0;
        }
        if (strcmp(tb->key, s->base_key) == 0 && base == NULL &&
            (qual == NULL || strcasecmp(qual, tb->alias) == 0 ||
             strcasecmp(qual, tb->name) == 0)) {
            base = tb;
        } else if (has && (qual == NULL || strcasecmp(qual, tb->alias) == 0 ||
                           strcasecmp(qual, tb->name) == 0)) {
            other_has = true;
        }
    }
    ok = base != NULL && !other_has;
    free(qual);
    if (ok) {
        *i = j + 1;
    }
    return ok;
}

/*
 * Range [*LO, *HI) (base day numbers) the block's top-level WHERE allows
 * for the partition column; *FOUND when a predicate on it was used.
 */
static void
block_range(const struct tk *k, const struct cat_mv *mv, const struct rw_model *q, int64_t *lo,
            int64_t *hi, bool *found)
{
    size_t i, wh = SIZE_MAX, end = k->n, t, n_base = 0;
    int depth = 0;
    *lo = CAT_DAY_MIN;
    *hi = CAT_DAY_MAX;
    *found = false;
    if (mv->part->base_key == NULL || q->has_derived) {
        return; /* derived tables: the WHERE's names are not the base table's */
    }
    for (t = 0; t < q->n_tabs; t++) {
        n_base += strcmp(q->tabs[t].key, mv->part->base_key) == 0;
    }
    if (n_base != 1) {
        return; /* self-join: a predicate may restrict one instance only */
    }
    for (i = 0; i < k->n; i++) {
        if (op(k, i, "(")) {
            depth++;
        } else if (op(k, i, ")")) {
            depth--;
        } else if (depth == 0) {
            if (w(k, i, "WHERE") && wh == SIZE_MAX) {
                wh = i + 1;
            } else if (wh != SIZE_MAX && (w(k, i, "GROUP") || w(k, i, "HAVING") ||
                                          w(k, i, "ORDER") || w(k, i, "LIMIT") ||
                                          w(k, i, "WINDOW") || w(k, i, "UNION"))) {
                end = i;
                break;
            } else if (wh != SIZE_MAX &&
                       (w(k, i, "OR") || w(k, i, "XOR") || op(k, i, "||"))) {
                return;
            }
        }
    }
    if (wh == SIZE_MAX) {
        return;
    }
    for (i = wh; i < end; i++) {
        size_t j = i;
        int64_t d1, d2;
        if (i > wh && !w(k, i - 1, "AND") && !op(k, i - 1, "&&")) {
            continue;
        }
        if (!is_part_col(k, &j, mv, q)) {
            continue;
        }
        if (op(k, j, ">=") || op(k, j, ">")) {
            j++;
            if (lit(k, &j, &d1) && (j >= end || w(k, j, "AND") || op(k, j, "&&"))) {
                *lo = d1 > *lo ? d1 : *lo;
                *found = true;
            }
        } else if (op(k, j, "<") || op(k, j, "<=")) {
            j++;
            if (lit(k, &j, &d1) && (j >= end || w(k, j, "AND") || op(k, j, "&&"))) {
                *hi = d1 + 1 < *hi ? d1 + 1 : *hi;
                *found = true;
            }
        } else if (op(k, j, "=")) {
            j++;
            if (lit(k, &j, &d1) && (j >= end || w(k, j, "AND") || op(k, j, "&&"))) {
                *lo = d1 > *lo ? d1 : *lo;
                *hi = d1 + 1 < *hi ? d1 + 1 : *hi;
                *found = true;
            }
        } else if (w(k, j, "BETWEEN")) {
            j++;
            if (lit(k, &j, &d1) && w(k, j, "AND")) {
                j++;
                if (lit(k, &j, &d2) && (j >= end || w(k, j, "AND") || op(k, j, "&&"))) {
                    *lo = d1 > *lo ? d1 : *lo;
                    *hi = d2 + 1 < *hi ? d2 + 1 : *hi;
                    *found = true;
                }
            }
        }
    }
}

static void
day_lit(struct rw_buf *b, int64_t day)
{
    int y, m, d;
    cat_day_to_ymd(day, &y, &m, &d);
    rw_buf_printf(b, "'%04d-%02d-%02d'", y, m, d);
}

/* Append the OR of the usable ranges (merged) on view column COL. */
static void
usable_pred(struct rw_buf *b, const char *col, const struct cat_ppart *p, const bool *use,
            size_t n)
{
    size_t i = 0, terms = 0;
    rw_buf_puts(b, "(");
    while (i < n) {
        int64_t lo, hi;
        if (!use[i]) {
            i++;
            continue;
        }
        rw_buf_puts(b, terms++ > 0 ? " OR " : "");
        if (p[i].is_null) {
            rw_buf_ident(b, col);
            rw_buf_puts(b, " IS NULL");
            i++;
            continue;
        }
        lo = p[i].lo;
        hi = p[i].hi;
        i++;
        while (i < n && use[i] && !p[i].is_null && p[i].lo == hi) {
            hi = p[i].hi;
            i++;
        }
        rw_buf_puts(b, "(");
        rw_buf_ident(b, col);
        rw_buf_puts(b, " >= ");
        day_lit(b, lo);
        rw_buf_puts(b, " AND ");
        rw_buf_ident(b, col);
        rw_buf_puts(b, " < ");
        day_lit(b, hi);
        rw_buf_puts(b, ")");
    }
    if (terms == 0) {
        rw_buf_puts(b, "FALSE");
    }
    rw_buf_puts(b, ")");
}

/*
 * Replace the view reference in REPL: "`db`.`mv`." prefixes become
 * "`mv`." and the FROM "`db`.`mv`" becomes DERIVED (which ends with
 * AS `mv`). Returns the new text or NULL (OOM or unexpected shape).
 */
static char *
swap_view(const char *repl, const struct cat_mv *mv, const char *derived)
{
    struct tk k;
    struct rw_buf b = {0};
    size_t i, pos = 0, n_from = 0;
    if (tk_init(&k, repl, strlen(repl)) != 0) {
        return NULL;
    }
    for (i = 0; i + 2 < k.n; i++) {
        if (!(ident_is(&k, i, mv->db) && op(&k, i + 1, ".") && ident_is(&k, i + 2, mv->name))) {
            continue;
        }
        rw_buf_add(&b, repl + pos, k.t[i].off - pos);
        if (op(&k, i + 3, ".")) {
            /* `db`.`mv`.`col` -> `mv`.`col` */
            pos = k.t[i + 2].off;
        } else {
            if (i == 0 || !w(&k, i - 1, "FROM")) {
                free(k.t);
                rw_buf_free(&b);
                return NULL;
            }
            rw_buf_puts(&b, derived);
            pos = k.t[i + 2].off + k.t[i + 2].len;
            n_from++;
        }
        i += 2;
    }
    rw_buf_puts(&b, repl + pos);
    free(k.t);
    if (n_from != 1) {
        rw_buf_free(&b);
        return NULL;
    }
    return rw_buf_take(&b);
}

/* The definition as a SELECT list source (column list honoured). */
static void
def_source_sql(struct rw_buf *b, const struct cat_mv *mv, const char *sql)
{
    size_t i;
    if (mv->n_cols > 0) {
        rw_buf_puts(b, "WITH mvp_def (");
        for (i = 0; i < mv->n_cols; i++) {
            rw_buf_puts(b, i > 0 ? ", " : "");
            rw_buf_ident(b, mv->col_names[i]);
        }
        rw_buf_puts(b, ") AS (");
        rw_buf_puts(b, sql);
        rw_buf_puts(b, "\n) SELECT * FROM mvp_def");
    } else {
        rw_buf_puts(b, "SELECT * FROM (");
        rw_buf_puts(b, sql);
        rw_buf_puts(b, "\n) AS mvp_def");
    }
}

/* Which needed partitions the rewrite can read (rw_part_apply's scan). */
struct part_scan {
    bool *use;                  /* per partition of the view: needed and usable */
    bool any_use, any_bad;      /* some needed partition is usable / unusable */
    bool bad_null;              /* p_null is needed and unusable */
    int64_t bad_lo, bad_hi;     /* hull of the unusable partitions */
    bool gaps_bad;              /* needed ranges without a partition are not valid */
};

/*
 * Classify the partitions of V the key range [KLO, KHI) needs (p_null too
 * when not FOUND) into SC, and list the unusable ones (stale beyond the
 * grace period or outside partition_sync_limit, then the invalid gaps) in
 * ST, comma-separated.
 */
static void
scan_partitions(const struct cat_mv *mv, const struct cat_part_view *v, bool found, int64_t klo,
                int64_t khi, int64_t now_ms, struct part_scan *sc, struct rw_buf *st)
{
    const char *gap_why = NULL;
    size_t i;
    for (i = 0; i < v->n; i++) {
        const struct cat_ppart *p = &v->p[i];
        int64_t eff = p->stale_since_ms;
        bool needed = p->is_null ? !found : (p->hi > klo && p->lo < khi);
        char name[64];
        if (!needed) {
            continue;
        }
        if (v->whole_stale_ms != 0 && (eff == 0 || v->whole_stale_ms < eff)) {
            eff = v->whole_stale_ms;
        }
        if (!p->is_null && p->hi <= v->window_lo) {
            eff = 1; /* outside partition_sync_limit: not held */
        }
        if (cat_part_usable(mv, eff, now_ms) && !(p->is_null == false && p->hi <= v->window_lo)) {
            sc->use[i] = true;
            sc->any_use = true;
        } else {
            sc->any_bad = true;
            if (p->is_null) {
                sc->bad_null = true;
            } else {
                sc->bad_lo = p->lo < sc->bad_lo ? p->lo : sc->bad_lo;
                sc->bad_hi = p->hi > sc->bad_hi ? p->hi : sc->bad_hi;
            }
            rw_buf_puts(st, st->len > 0 ? "," : "");
            rw_buf_puts(st, cat_ppart_name(p, name, sizeof(name)));
        }
    }
    /* ranges the view holds no partition for */
    if (v->gaps_stale_ms != 0 && !cat_part_usable(mv, v->gaps_stale_ms, now_ms)) {
        sc->gaps_bad = true;
        gap_why = "ranges without a partition changed";
    }
    if (v->window_lo != CAT_DAY_MIN && klo < v->window_lo) {
        sc->gaps_bad = true;
        gap_why = "ranges older than partition_sync_limit are not kept";
    }
    if (sc->gaps_bad) {
        rw_buf_puts(st, st->len > 0 ? "," : "");
        rw_buf_printf(st, "(%s)", gap_why);
    }
}

/*
 * Append to D the compensating derived table that stands in for the view:
 * its usable partitions UNION ALL the definition over the rest of the key
 * range [KLO, KHI) (FOUND: the block restricts the key), named as the view.
 */
static void
compensating_table(struct rw_buf *d, const struct cat_mv *mv, const struct cat_part_view *v,
                   const struct part_scan *sc, bool found, int64_t klo, int64_t khi)
{
    const struct cat_part_spec *s = mv->part;
    rw_buf_puts(d, "(SELECT * FROM ");
    rw_buf_ident(d, mv->db);
    rw_buf_puts(d, ".");
    rw_buf_ident(d, mv->name);
    rw_buf_puts(d, " WHERE ");
    usable_pred(d, s->col, v->p, sc->use, v->n);
    rw_buf_puts(d, " UNION ALL SELECT * FROM (");
    {
        /* the definition restricted on the BASE column to the range it must
         * supply (the block's range; within it, when ranges without a
         * partition are valid, the hull of the unusable partitions), so
         * that MariaDB prunes the base table's partitions; as it is when
         * p_null must be supplied or the restriction cannot be made */
        int64_t rlo = klo, rhi = khi;
        char *rdef = NULL;
        if (!sc->gaps_bad && sc->bad_lo < sc->bad_hi) {
            rlo = sc->bad_lo > rlo ? sc->bad_lo : rlo;
            rhi = sc->bad_hi < rhi ? sc->bad_hi : rhi;
        }
        if (!sc->bad_null && rlo < rhi) {
            rdef = rw_part_restrict_def(mv, rlo, rhi);
        }
        def_source_sql(d, mv, rdef != NULL ? rdef : mv->query_sql);
        free(rdef);
    }
    rw_buf_puts(d, ") AS mvp_comp WHERE NOT COALESCE(");
    usable_pred(d, s->col, v->p, sc->use, v->n);
    rw_buf_puts(d, ", FALSE)");
    if (found) {
        if (klo > CAT_DAY_MIN) {
            rw_buf_puts(d, " AND ");
            rw_buf_ident(d, s->col);
            rw_buf_puts(d, " >= ");
            day_lit(d, klo);
        }
        if (khi < CAT_DAY_MAX) {
            rw_buf_puts(d, " AND ");
            rw_buf_ident(d, s->col);
            rw_buf_puts(d, " < ");
            day_lit(d, khi);
        }
    }
    rw_buf_puts(d, ") AS ");
    rw_buf_ident(d, mv->name);
}

/* Replace the view in *REPL by the compensating derived table in D (taken).
 * Returns 0, 1 with *REASON (STALE names the partitions) when the block has
 * an unexpected shape, -1 on OOM. */
static int
swap_compensation(char **repl, const struct cat_mv *mv, struct rw_buf *d, const char *stale,
                  char **reason)
{
    char *dt = rw_buf_take(d), *nr;
    if (dt == NULL) {
        return -1;
    }
    nr = swap_view(*repl, mv, dt);
    free(dt);
    if (nr == NULL) {
        *reason = rw_sprintf("stale partitions (%s) need compensation, but the rewritten "
                             "block has an unexpected shape", stale);
        return *reason ? 1 : -1;
    }
    free(*repl);
    *repl = nr;
    return 0;
}

int
rw_part_apply(const struct cat_snapshot *snap, const struct cat_mv *mv,
              const struct rw_model *q, const char *cur_db, const char *block, size_t blen,
              int64_t now_ms,
              char **repl, char **stale, char **reason)
{
    const struct cat_part_spec *s = mv->part;
    struct cat_part_view v;
    struct tk k;
    int64_t lo, hi, klo = CAT_DAY_MIN, khi = CAT_DAY_MAX;
    struct part_scan sc;
    bool found;
    struct rw_buf st = {0}, d = {0};
    int rc = 0;

    (void)snap;
    *stale = NULL;
    *reason = NULL;
    if (tk_init(&k, block, blen) != 0) {
        return -1;
    }
    block_range(&k, mv, q, &lo, &hi, &found);
    free(k.t);
    if (found && lo >= hi) {
        found = true; /* contradictory range: nothing needed; keep the view */
        *stale = rw_strdup("");
        return *stale ? 0 : -1;
    }
    if (found) {
        klo = lo > CAT_DAY_MIN ? cat_part_key(s, lo) : CAT_DAY_MIN;
        khi = hi < CAT_DAY_MAX ? cat_unit_next(cat_part_key(s, hi - 1), s->unit) : CAT_DAY_MAX;
    }
    if (cat_part_view_get(mv, &v) != 0) {
        return -1;
    }
    memset(&sc, 0, sizeof(sc));
    sc.bad_lo = CAT_DAY_MAX;
    sc.bad_hi = CAT_DAY_MIN;
    sc.use = calloc(v.n + 1, sizeof(*sc.use));
    if (sc.use == NULL) {
        cat_part_view_free(&v);
        return -1;
    }
    scan_partitions(mv, &v, found, klo, khi, now_ms, &sc, &st);
    *stale = st.len > 0 ? rw_buf_take(&st) : rw_strdup("");
    if (*stale == NULL) {
        rc = -1;
        goto out;
    }
    if (!sc.any_bad && !sc.gaps_bad) {
        goto out; /* every needed partition usable: the plain rewrite */
    }
    if (mv->consistency == CAT_CONSISTENCY_LOOSE && !sc.gaps_bad) {
        goto out;
    }
    if (!sc.any_use) {
        *reason = rw_sprintf("only unusable partitions are needed (%s): stale beyond "
                             "grace_period %llds or not held; answered from the base tables",
                             *stale, (long long)mv->grace_period_s);
        rc = *reason ? 1 : -1;
        goto out;
    }
    if (cur_db == NULL || strcasecmp(cur_db, mv->db) != 0) {
        /* the definition's unqualified names resolve in the view's database */
        *reason = rw_sprintf("stale partitions (%s) need compensation from the base tables, "
                             "which needs %s as the current database", *stale, mv->db);
        rc = *reason ? 1 : -1;
        goto out;
    }
    /* the compensating derived table */
    compensating_table(&d, mv, &v, &sc, found, klo, khi);
    rc = swap_compensation(repl, mv, &d, *stale, reason);
out:
    rw_buf_free(&st);
    rw_buf_free(&d);
    free(sc.use);
    cat_part_view_free(&v);
    return rc;
}
