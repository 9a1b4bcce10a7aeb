/*
 * cat_part_store.c - persistence of partition state in the metadata table
 * mv_partitions (cat_part_engine.h), so a restarted proxy knows which
 * partitions are valid (SPEC §2, §9).
 */
#include "cat_part_engine.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cat_freshness.h"
#include <mysql.h>

#include "cat.h"
#include "cat_core.h"
#include "cat_part.h"
#include "cat_util.h"

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

MYSQL_RES *
cat_part_store_rows(MYSQL *c, uint64_t id)
{
    struct cat_buf q = {0};
    MYSQL_RES *res = NULL;
    cat_buf_puts(&q, "SELECT is_null, lo_day, hi_day, stale_since_ms, last_refresh_ms, "
                     "row_count FROM ");
    cat_buf_qname(&q, cat_meta_schema(), "mv_partitions");
    cat_buf_printf(&q, " WHERE mv_id = %llu", (unsigned long long)id);
    if (mysql_real_query(c, q.p, q.len) == 0) {
        res = mysql_store_result(c);
    }
    cat_buf_free(&q);
    return res;
}

int
cat_part_store_load(MYSQL *c, struct cat_mv *mv, char *err, size_t errlen)
{
    struct cat_pstate *ps = mv->state->parts;
    MYSQL_RES *res = cat_part_store_rows(c, mv->id);
    MYSQL_ROW row;
    if (res == NULL) {
        snprintf(err, errlen, "loading partitions of %s: %s", mv->key, mysql_error(c));
        return -1;
    }
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

