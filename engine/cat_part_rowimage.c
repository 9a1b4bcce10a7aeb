/*
 * cat_part_rowimage.c - change tracking per partition by binlog row image
 * (SPEC §5: "maps each row event to its table and partition"):
 *
 *   binlog row event on the mapped base table of a partitioned view
 *      ── cat_part_rows_mark ──> the partition column of every row image
 *         (UPDATE: before and after) marks exactly its partitions
 *      (undecodable images are left to cat_part_defer, cat_probe.c)
 */
#include "cat_part_rowimage.h"
#include "cat_part.h"
#include "rw_limits.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cat_fresh.h"
#include "cat_freshness.h"
#include "cat.h"
#include "cat_calendar.h"
#include "cat_util.h"
#include "cat_part_track.h"
#include "cat_rowimage.h"
#include "rw_lex.h"

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
        long imgs = -1;
        if (!cat_part_maps_table(mv, key) || cat_marked_has(m, mv)) {
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
        } else if ((col = cat_table_col_index(snap, key, mv->part->base_col)) < 0) {
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
        cat_marked_claim(m, mv);
        n++;
    }
    return n;
}
