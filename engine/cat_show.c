/*
 * cat_show.c - introspection result sets (SPEC §9): SHOW MATERIALIZED VIEWS
 * and mv_infos() rows, tasks() rows, SHOW CREATE MATERIALIZED VIEW text,
 * SHOW PARTITIONS; and turning a result set into a derived-table literal so
 * a filtered / projected SELECT over mv_infos() or tasks() can run on the
 * client's own connection.
 */
#include <mysql.h>

#include "cat.h"
#include "cat_calendar.h"
#include "cat_core.h"
#include "cat_index.h"
#include "cat_part.h"
#include "cat_reply.h"
#include "cat_show.h"
#include "cat_util.h"
#include "cat_part_engine.h"
#include "cat_binlog.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* SPEC §9 columns of SHOW MATERIALIZED VIEWS / mv_infos(), then ours. */
static const char *const g_mv_cols[] = {
    "Id",          "Name",           "JobName",         "State",           "SchemaChangeDetail",
    "RefreshState", "RefreshInfo",   "QuerySql",        "MvProperties",    "MvPartitionInfo",
    "SyncWithBaseTables", "Database", "GracePeriod",    "PartitionsValid", "PartitionsTotal",
    "LastRefreshTime", "Staleness",  "Rows",            "RewriteHits",     "LastHitTime",
    "RewriteModel", "FreshnessSource", "RewriteFailures", "Indexes"};
#define N_MV_COLS (sizeof(g_mv_cols) / sizeof(g_mv_cols[0]))
static const enum mvp_col_type g_mv_types[N_MV_COLS] = {
    MVP_COL_INT,    MVP_COL_STRING, MVP_COL_STRING, MVP_COL_STRING, MVP_COL_STRING,
    MVP_COL_STRING, MVP_COL_STRING, MVP_COL_STRING, MVP_COL_STRING, MVP_COL_STRING,
    MVP_COL_INT,    MVP_COL_STRING, MVP_COL_INT,    MVP_COL_INT,    MVP_COL_INT,
    MVP_COL_STRING, MVP_COL_INT,    MVP_COL_INT,    MVP_COL_INT,    MVP_COL_STRING,
    MVP_COL_STRING, MVP_COL_STRING, MVP_COL_INT,    MVP_COL_STRING};

bool
cat_like(const char *s, const char *pat)
{
    if (*pat == '\0') {
        return *s == '\0';
    }
    if (*pat == '%') {
        for (;;) {
            if (cat_like(s, pat + 1)) {
                return true;
            }
            if (*s == '\0') {
                return false;
            }
            s++;
        }
    }
    if (*pat == '\\' && pat[1] != '\0') {
        pat++;
        return *s != '\0' && tolower((unsigned char)*s) == tolower((unsigned char)*pat) &&
               cat_like(s + 1, pat + 1);
    }
    if (*s == '\0') {
        return false;
    }
    if (*pat == '_' || tolower((unsigned char)*s) == tolower((unsigned char)*pat)) {
        return cat_like(s + 1, pat + 1);
    }
    return false;
}

static int
cmp_mv_id(const void *a, const void *b)
{
    const struct cat_mv *x = *(const struct cat_mv *const *)a;
    const struct cat_mv *y = *(const struct cat_mv *const *)b;
    return x->id < y->id ? -1 : x->id > y->id;
}

/*
 * The storage tables of the N views in LIST as they are now in the backend
 * (one information_schema query on a service connection): DETAIL[i] gets
 * NULL when view i's table exists with the columns the catalog knows
 * (SNAP's schema of it; any columns when SNAP has none), else a malloc'd
 * SchemaChangeDetail (dropped or altered behind the proxy; REFRESH ...
 * COMPLETE rebuilds it, cat_refresh_stage). Everything NULL when the
 * backend cannot be asked.
 */
static void
storage_states(const struct cat_snapshot *snap, struct cat_mv **list, size_t n, char **detail)
{
    struct cat_buf q = {0};
    char err[512];
    MYSQL *c;
    MYSQL_RES *res;
    MYSQL_ROW row;
    bool *seen;
    size_t i, k;
    if (n == 0 || (c = cat_connect(err, sizeof(err))) == NULL) {
        return;
    }
    cat_buf_puts(&q, "SELECT TABLE_SCHEMA, TABLE_NAME, GROUP_CONCAT(COLUMN_NAME ORDER BY"
                     " ORDINAL_POSITION SEPARATOR ',') FROM information_schema.COLUMNS WHERE"
                     " (TABLE_SCHEMA, TABLE_NAME) IN (");
    for (i = 0; i < n; i++) {
        cat_buf_puts(&q, i > 0 ? ", (" : "(");
        cat_buf_lit(&q, list[i]->db);
        cat_buf_puts(&q, ", ");
        cat_buf_lit(&q, list[i]->name);
        cat_buf_puts(&q, ")");
    }
    cat_buf_puts(&q, ") GROUP BY TABLE_SCHEMA, TABLE_NAME");
    if (mysql_real_query(c, q.p, q.len) != 0 || (res = mysql_store_result(c)) == NULL) {
        cat_buf_free(&q);
        mysql_close(c);
        return;
    }
    cat_buf_free(&q);
    seen = cat_xcalloc(n, sizeof(*seen));
    while ((row = mysql_fetch_row(res)) != NULL) {
        for (i = 0; i < n; i++) {
            const struct cat_table *t;
            struct cat_buf want = {0};
            if (seen[i] || row[0] == NULL || row[1] == NULL ||
                !cat_streq_ci(row[0], list[i]->db) || !cat_streq_ci(row[1], list[i]->name)) {
                continue;
            }
            seen[i] = true;
            t = cat_snapshot_table(snap, list[i]->db, list[i]->name);
            for (k = 0; t != NULL && k < t->n_cols; k++) {
                cat_buf_puts(&want, k > 0 ? "," : "");
                cat_buf_puts(&want, t->cols[k].name);
            }
            if (t != NULL && t->n_cols > 0 && !cat_streq_ci(want.p, row[2] ? row[2] : "")) {
                struct cat_buf d = {0};
                cat_buf_printf(&d, "storage table %s.%s was altered behind the proxy (columns "
                               "%s, expected %s): REFRESH MATERIALIZED VIEW %s.%s COMPLETE "
                               "rebuilds it", list[i]->db, list[i]->name, row[2] ? row[2] : "",
                               want.p, list[i]->db, list[i]->name);
                detail[i] = cat_buf_take(&d);
            }
            cat_buf_free(&want);
        }
    }
    mysql_free_result(res);
    mysql_close(c);
    for (i = 0; i < n; i++) {
        if (!seen[i]) {
            struct cat_buf d = {0};
            cat_buf_printf(&d, "storage table %s.%s is missing (dropped behind the proxy): "
                           "REFRESH MATERIALIZED VIEW %s.%s COMPLETE rebuilds it",
                           list[i]->db, list[i]->name, list[i]->db, list[i]->name);
            detail[i] = cat_buf_take(&d);
        }
    }
    free(seen);
}

void
cat_show_mvs(const struct cat_snapshot *snap, const char *db, const char *like,
             struct mvp_reply *reply)
{
    char **detail;
    struct cat_mv *mv, *tmp, **list;
    size_t n = 0, i;
    int64_t now = cat_now_ms();
    char source[512], psource[560], gap[400], srcgap[920];
    cat_binlog_source(source, sizeof(source)); /* one value for every row (SPEC §5) */
    cat_binlog_gap(gap, sizeof(gap));
    snprintf(srcgap, sizeof(srcgap), "%s%s%s", source, gap[0] ? "; " : "", gap);
    /* a partitioned view over a mapped base table: row events marked from
     * their row images, the partition probe (cat_part_track.c) for those
     * that cannot be decoded: "binlog+probe (row events: N exact, M
     * probed; K scans)", or "probe; <why not the binlog>" */
    if (strcmp(source, "binlog") == 0) {
        snprintf(psource, sizeof(psource), "binlog+probe");
    } else {
        snprintf(psource, sizeof(psource), "probe; %s", source);
    }
    mvp_reply_rows(reply, N_MV_COLS, g_mv_cols, g_mv_types);
    if (snap == NULL) {
        return;
    }
    list = cat_xcalloc(HASH_COUNT(snap->mvs) + 1, sizeof(*list));
    HASH_ITER(hh, snap->mvs, mv, tmp) {
        if (db != NULL && !cat_streq_ci(mv->db, db)) {
            continue;
        }
        if (like != NULL && !cat_like(mv->name, like)) {
            continue;
        }
        list[n++] = mv;
    }
    qsort(list, n, sizeof(*list), cmp_mv_id);
    detail = cat_xcalloc(n + 1, sizeof(*detail));
    storage_states(snap, list, n, detail);
    for (i = 0; i < n; i++) {
        static const char *const rstate[] = {"INIT", "REFRESHING", "SUCCESS", "FAIL"};
        char id[24], job[40], grace[24], staleness[24], rows[24], hits[24], last_refresh[32],
            last_hit[32], failures[24];
        const char *v[N_MV_COLS];
        char *refresh_info, *indexes;
        int64_t stale, lr, r, lh, pvalid = 0, ptotal = -1;
        int rs;
        bool sync;
        char *pinfo = NULL, pv_s[24], pt_s[24], psrc[1100];
        mv = list[i];
        stale = atomic_load(&mv->state->stale_since_ms);
        lr = atomic_load(&mv->state->last_refresh_ms);
        r = atomic_load(&mv->state->rows);
        lh = atomic_load(&mv->state->last_hit_ms);
        rs = atomic_load(&mv->state->refresh_state);
        sync = lr > 0 && stale == 0;
        if (mv->part != NULL && mv->state->parts != NULL) {
            /* partitioned: counts and staleness over partitions (SPEC §9) */
            int64_t pst;
            cat_part_counts(mv, &pvalid, &ptotal, &pst);
            if (pst != 0 && (stale == 0 || pst < stale)) {
                stale = pst;
            }
            sync = lr > 0 && stale == 0;
            pinfo = cat_part_info(mv);
        }
        snprintf(id, sizeof(id), "%llu", (unsigned long long)mv->id);
        snprintf(job, sizeof(job), "mv_job_%llu", (unsigned long long)mv->id);
        snprintf(grace, sizeof(grace), "%lld", (long long)mv->grace_period_s);
        snprintf(staleness, sizeof(staleness), "%lld",
                 (long long)(stale > 0 && now > stale ? (now - stale) / 1000 : 0));
        snprintf(rows, sizeof(rows), "%lld", (long long)r);
        snprintf(hits, sizeof(hits), "%llu",
                 (unsigned long long)atomic_load(&mv->state->hits));
        snprintf(failures, sizeof(failures), "%llu",
                 (unsigned long long)atomic_load(&mv->state->rewrite_failures));
        cat_fmt_time(last_refresh, sizeof(last_refresh), lr);
        cat_fmt_time(last_hit, sizeof(last_hit), lh);
        {
            struct cat_buf b = {0};
            cat_buf_printf(&b, "BUILD %s %s", mv->build_mode, mv->refresh_info);
            refresh_info = cat_buf_take(&b);
        }
        v[0] = id;
        v[1] = mv->name;
        v[2] = job;
        v[3] = mv->paused ? "PAUSED" : detail[i] != NULL ? "SCHEMA_CHANGE" : "NORMAL";
        v[4] = detail[i] != NULL ? detail[i] : "";
        v[5] = rstate[rs >= 0 && rs < 4 ? rs : 0];
        v[6] = refresh_info;
        v[7] = mv->query_sql;
        v[8] = mv->properties_json;
        v[9] = pinfo != NULL ? pinfo : "MTMVPartitionInfo{partitionType=SELF_MANAGE}";
        v[10] = sync ? "1" : "0";
        v[11] = mv->db;
        v[12] = grace;
        snprintf(pv_s, sizeof(pv_s), "%lld", (long long)(ptotal >= 0 ? pvalid : (sync ? 1 : 0)));
        snprintf(pt_s, sizeof(pt_s), "%lld", (long long)(ptotal >= 0 ? ptotal : 1));
        v[13] = pv_s;
        v[14] = pt_s;
        v[15] = lr > 0 ? last_refresh : NULL;
        v[16] = lr > 0 ? staleness : NULL;
        v[17] = r >= 0 ? rows : NULL;
        v[18] = hits;
        v[19] = lh > 0 ? last_hit : NULL;
        v[20] = mv->model != NULL ? "ok" : (mv->model_error ? mv->model_error : "not built");
        v[21] = srcgap;
        if (mv->part != NULL && mv->part->base_key != NULL && mv->state->parts != NULL) {
            const struct cat_pstate *ps = mv->state->parts;
            snprintf(psrc, sizeof(psrc),
                     "%s (row events: %llu exact, %llu probed; %llu scans)%s%s", psource,
                     (unsigned long long)atomic_load(&ps->rows_exact),
                     (unsigned long long)atomic_load(&ps->rows_probed),
                     (unsigned long long)atomic_load(&ps->probe_scans), gap[0] ? "; " : "", gap);
            v[21] = psrc;
        }
        v[22] = failures;
        indexes = cat_index_text(mv->indexes, mv->n_indexes);
        v[23] = indexes;
        mvp_reply_add_row(reply, v);
        free(indexes);
        free(refresh_info);
        free(pinfo);
        free(detail[i]);
    }
    free(detail);
    free(list);
}

int
cat_show_tasks(struct mvp_reply *reply)
{
    static const char *const cols[] = {
        "TaskId",     "JobName",    "MvName",     "MvDatabaseName", "Status",
        "ErrorMsg",   "CreateTime", "StartTime",  "FinishTime",     "DurationMs",
        "RefreshMode", "NeedRefreshPartitions", "CompletedPartitions", "Progress", "Rows"};
    static const enum mvp_col_type types[] = {
        MVP_COL_INT,    MVP_COL_STRING, MVP_COL_STRING, MVP_COL_STRING, MVP_COL_STRING,
        MVP_COL_STRING, MVP_COL_STRING, MVP_COL_STRING, MVP_COL_STRING, MVP_COL_INT,
        MVP_COL_STRING, MVP_COL_STRING, MVP_COL_STRING, MVP_COL_STRING, MVP_COL_INT};
    struct cat_buf q = {0};
    char err[512];
    MYSQL *c = cat_connect(err, sizeof(err));
    MYSQL_RES *res;
    MYSQL_ROW row;
    if (c == NULL) {
        mvp_reply_err(reply, 2003, "HY000", "reading tasks: %s", err);
        return -1;
    }
    cat_buf_puts(&q, "SELECT task_id, job_name, mv_name, mv_db, status, error_msg,"
                     " DATE_FORMAT(create_time, '%Y-%m-%d %H:%i:%s'),"
                     " DATE_FORMAT(start_time, '%Y-%m-%d %H:%i:%s'),"
                     " DATE_FORMAT(finish_time, '%Y-%m-%d %H:%i:%s'), duration_ms,"
                     " CASE WHEN status IN ('FAILED', 'CANCELED') THEN 'NOT_REFRESH'"
                     " WHEN refresh_mode IN ('PARTIAL', 'FAST', 'INCREMENTAL') THEN 'PARTIAL'"
                     " WHEN refresh_mode = 'NOT_REFRESH' THEN 'NOT_REFRESH' ELSE 'COMPLETE' END,"
                     " need_refresh_partitions, completed_partitions, progress, row_count FROM ");
    cat_buf_qname(&q, cat_meta_schema(), "tasks");
    cat_buf_puts(&q, " ORDER BY task_id");
    if (mysql_real_query(c, q.p, q.len) != 0 || (res = mysql_store_result(c)) == NULL) {
        mvp_reply_err(reply, (uint16_t)mysql_errno(c), "HY000", "reading tasks: %s",
                      mysql_error(c));
        cat_buf_free(&q);
        mysql_close(c);
        return -1;
    }
    cat_buf_free(&q);
    mvp_reply_rows(reply, sizeof(cols) / sizeof(cols[0]), cols, types);
    while ((row = mysql_fetch_row(res)) != NULL) {
        mvp_reply_add_row(reply, (const char *const *)row);
    }
    mysql_free_result(res);
    mysql_close(c);
    return 0;
}

char *
cat_show_create_text(const struct cat_mv *mv)
{
    struct cat_buf b = {0};
    char **pk = NULL, **pv = NULL;
    int np, i;
    cat_buf_puts(&b, "CREATE MATERIALIZED VIEW ");
    cat_buf_qname(&b, mv->db, mv->name);
    if (mv->n_cols > 0) {
        size_t c;
        cat_buf_puts(&b, " (");
        for (c = 0; c < mv->n_cols; c++) {
            if (c > 0) {
                cat_buf_puts(&b, ", ");
            }
            cat_buf_ident(&b, mv->col_names[c]);
            if (mv->col_comments != NULL && mv->col_comments[c] != NULL) {
                cat_buf_puts(&b, " COMMENT ");
                cat_buf_lit(&b, mv->col_comments[c]);
            }
        }
        cat_buf_puts(&b, ")");
    }
    cat_buf_printf(&b, "\nBUILD %s %s", mv->build_mode, mv->refresh_info);
    cat_index_clauses(&b, mv->indexes, mv->n_indexes); /* KEY (...) / INDEX i (...) */
    if (mv->part != NULL) {
        /* PARTITION BY (cat_part.h): re-read from this text at load */
        cat_buf_puts(&b, "\nPARTITION BY (");
        if (mv->part->unit != CAT_PU_DAY) {
            cat_buf_puts(&b, "date_trunc(");
            cat_buf_ident(&b, mv->part->col);
            cat_buf_printf(&b, ", '%s')", cat_unit_name(mv->part->unit));
        } else {
            cat_buf_ident(&b, mv->part->col);
        }
        cat_buf_puts(&b, ")");
    }
    if (mv->comment != NULL) {
        cat_buf_puts(&b, "\nCOMMENT ");
        cat_buf_lit(&b, mv->comment);
    }
    np = cat_json_parse_object(mv->properties_json, &pk, &pv);
    if (np > 0) {
        cat_buf_puts(&b, "\nPROPERTIES (");
        for (i = 0; i < np; i++) {
            cat_buf_puts(&b, i > 0 ? ", " : "");
            cat_buf_json_str(&b, pk[i]);
            cat_buf_puts(&b, " = ");
            cat_buf_json_str(&b, pv[i]);
        }
        cat_buf_puts(&b, ")");
    }
    if (np > 0) {
        cat_strv_free(pk, (size_t)np);
        cat_strv_free(pv, (size_t)np);
    } else {
        free(pk);
        free(pv);
    }
    cat_buf_puts(&b, "\nAS ");
    cat_buf_puts(&b, mv->query_sql);
    return cat_buf_take(&b);
}

/*
 * Text of a derived table holding the rows of R: "(SELECT v AS `c1`, ... UNION
 * ALL SELECT ...) AS `ALIAS`" (ALIAS NULL: no alias). Integer columns are
 * emitted as numbers, strings as literals, NULLs as NULL. Caller frees.
 */
char *
cat_rows_as_derived(const struct mvp_reply *r, const char *alias)
{
    struct cat_buf b = {0};
    size_t i, j;
    cat_buf_puts(&b, "(");
    if (r->n_rows == 0) {
        cat_buf_puts(&b, "SELECT ");
        for (j = 0; j < r->n_cols; j++) {
            cat_buf_puts(&b, j > 0 ? ", " : "");
            cat_buf_puts(&b, r->col_types[j] == MVP_COL_INT ? "CAST(NULL AS SIGNED)"
                                                             : "CAST(NULL AS CHAR)");
            cat_buf_puts(&b, " AS ");
            cat_buf_ident(&b, r->col_names[j]);
        }
        cat_buf_puts(&b, " FROM DUAL WHERE 0");
    }
    for (i = 0; i < r->n_rows; i++) {
        cat_buf_puts(&b, i > 0 ? " UNION ALL SELECT " : "SELECT ");
        for (j = 0; j < r->n_cols; j++) {
            const char *v = r->rows[i][j];
            cat_buf_puts(&b, j > 0 ? ", " : "");
            if (v == NULL) {
                cat_buf_puts(&b, r->col_types[j] == MVP_COL_INT ? "CAST(NULL AS SIGNED)"
                                                                 : "CAST(NULL AS CHAR)");
            } else if (r->col_types[j] == MVP_COL_INT) {
                cat_buf_printf(&b, "%lld", strtoll(v, NULL, 10));
            } else {
                cat_buf_lit(&b, v);
            }
            if (i == 0) {
                cat_buf_puts(&b, " AS ");
                cat_buf_ident(&b, r->col_names[j]);
            }
        }
    }
    cat_buf_puts(&b, ")");
    if (alias != NULL) {
        cat_buf_puts(&b, " AS ");
        cat_buf_ident(&b, alias);
    }
    return cat_buf_take(&b);
}

void
cat_show_partitions(const struct cat_mv *mv, struct mvp_reply *reply)
{
    static const char *const cols[] = {"PartitionName", "Range", "SyncWithBaseTables",
                                       "UnsyncTables", "VisibleVersionTime", "RowCount"};
    static const enum mvp_col_type types[] = {MVP_COL_STRING, MVP_COL_STRING, MVP_COL_STRING,
                                              MVP_COL_STRING, MVP_COL_STRING, MVP_COL_INT};
    const char *v[6];
    char t[32], rows[24];
    int64_t lr = atomic_load(&mv->state->last_refresh_ms);
    int64_t stale = atomic_load(&mv->state->stale_since_ms);
    int64_t r = atomic_load(&mv->state->rows);
    bool sync = lr > 0 && stale == 0;
    struct cat_buf unsync = {0};
    size_t i;
    if (!sync) {
        for (i = 0; i < mv->n_bases; i++) {
            cat_buf_puts(&unsync, i > 0 ? "," : "");
            cat_buf_puts(&unsync, mv->bases[i]);
        }
    }
    mvp_reply_rows(reply, 6, cols, types);
    snprintf(rows, sizeof(rows), "%lld", (long long)r);
    v[0] = mv->name;
    v[1] = "";
    v[2] = sync ? "true" : "false";
    v[3] = unsync.p ? unsync.p : "";
    v[4] = lr > 0 ? cat_fmt_time(t, sizeof(t), lr) : NULL;
    v[5] = r >= 0 ? rows : NULL;
    mvp_reply_add_row(reply, v);
    cat_buf_free(&unsync);
}
