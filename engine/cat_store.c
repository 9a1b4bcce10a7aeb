/*
 * cat_store.c - the catalog's persistence in the backend's metadata schema
 * (SPEC §2, §4): the `mvs` table (one row per view: definition, properties,
 * freshness state), `tasks` (refresh task history, SPEC §9, bounded) and
 * `meta` (schema version). All access is with the service account.
 */
#include <mysql.h>

#include "cat.h"
#include "cat_constraint.h"
#include "cat_core.h"
#include "cat_parse.h"
#include "cat_props.h"
#include "cat_reply.h"
#include "cat_store.h"
#include "cat_util.h"
#include "cat_freshness.h"
#include "cat_incr.h"
#include "cat_index.h"
#include "cat_part_engine.h"
#include "cat_task.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Rows kept in `tasks` (older ones are deleted as new tasks start). */
#define CAT_TASK_HISTORY 1000

static void
meta_table(struct cat_buf *b, const char *table)
{
    cat_buf_qname(b, cat_meta_schema(), table);
}

int
cat_store_init_schema(MYSQL *c, char *err, size_t errlen)
{
    struct cat_buf q = {0};
    int rc = -1;
    unsigned code = 0;
    cat_buf_puts(&q, "CREATE DATABASE IF NOT EXISTS ");
    cat_buf_ident(&q, cat_meta_schema());
    if (cat_q(c, q.p, err, errlen, NULL) < 0) {
        goto out;
    }
    cat_buf_free(&q);
    cat_buf_puts(&q, "CREATE TABLE IF NOT EXISTS ");
    meta_table(&q, "mvs");
    cat_buf_puts(&q,
                 " (id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,"
                 " db VARCHAR(64) NOT NULL, name VARCHAR(64) NOT NULL,"
                 " query_sql LONGTEXT NOT NULL, create_sql LONGTEXT NOT NULL,"
                 " refresh_info VARCHAR(255) NOT NULL, build_mode VARCHAR(16) NOT NULL,"
                 " properties LONGTEXT NOT NULL, comment TEXT NULL,"
                 " col_names LONGTEXT NULL, col_comments LONGTEXT NULL,"
                 " bases LONGTEXT NOT NULL,"
                 " created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),"
                 " created_ms BIGINT NOT NULL DEFAULT 0,"
                 " last_refresh_ms BIGINT NOT NULL DEFAULT 0,"
                 " stale_since_ms BIGINT NOT NULL DEFAULT 0,"
                 " row_count BIGINT NOT NULL DEFAULT -1,"
                 " state VARCHAR(16) NOT NULL DEFAULT 'NORMAL',"
                 " refresh_state VARCHAR(16) NOT NULL DEFAULT 'INIT',"
                 " UNIQUE KEY db_name (db, name)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4");
    if (cat_q(c, q.p, err, errlen, NULL) < 0) {
        goto out;
    }
    cat_buf_free(&q);
    cat_buf_puts(&q, "CREATE TABLE IF NOT EXISTS ");
    meta_table(&q, "tasks");
    cat_buf_puts(&q,
                 " (task_id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,"
                 " job_name VARCHAR(128) NOT NULL, mv_id BIGINT UNSIGNED NOT NULL,"
                 " mv_name VARCHAR(64) NOT NULL, mv_db VARCHAR(64) NOT NULL,"
                 " status VARCHAR(16) NOT NULL, error_msg TEXT NULL,"
                 " create_time DATETIME(3) NOT NULL, start_time DATETIME(3) NULL,"
                 " finish_time DATETIME(3) NULL, duration_ms BIGINT NULL,"
                 " refresh_mode VARCHAR(16) NOT NULL,"
                 " need_refresh_partitions TEXT NULL, completed_partitions TEXT NULL,"
                 " progress VARCHAR(32) NULL, row_count BIGINT NULL,"
                 " KEY mv (mv_db, mv_name)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4");
    if (cat_q(c, q.p, err, errlen, NULL) < 0) {
        goto out;
    }
    cat_buf_free(&q);
    cat_buf_puts(&q, "CREATE TABLE IF NOT EXISTS ");
    meta_table(&q, "meta");
    cat_buf_puts(&q, " (k VARCHAR(64) NOT NULL PRIMARY KEY, v VARCHAR(255) NOT NULL)"
                     " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4");
    if (cat_q(c, q.p, err, errlen, NULL) < 0) {
        goto out;
    }
    cat_buf_free(&q);
    cat_buf_puts(&q, "INSERT IGNORE INTO ");
    meta_table(&q, "meta");
    cat_buf_puts(&q, " (k, v) VALUES ('schema_version', '1')");
    if (cat_q(c, q.p, err, errlen, NULL) < 0) {
        goto out;
    }
    /* the owner whose rights a refresh reads with (SPEC §3); added to
     * catalogs of older versions, where it stays NULL (cat_refresh_src) */
    cat_buf_free(&q);
    cat_buf_puts(&q, "ALTER TABLE ");
    meta_table(&q, "mvs");
    cat_buf_puts(&q, " ADD COLUMN IF NOT EXISTS owner VARCHAR(400) NULL");
    if (cat_q(c, q.p, err, errlen, &code) < 0 && code != 1060) {
        goto out;
    }
    /* the indexes of the storage table (cat_index.c); NULL in older catalogs: none */
    cat_buf_free(&q);
    cat_buf_puts(&q, "ALTER TABLE ");
    meta_table(&q, "mvs");
    cat_buf_puts(&q, " ADD COLUMN IF NOT EXISTS indexes LONGTEXT NULL");
    if (cat_q(c, q.p, err, errlen, &code) < 0 && code != 1060) {
        goto out;
    }
    /* per-partition state of partitioned views (cat_part.c) */
    if (cat_part_store_init(c, err, errlen) < 0) {
        goto out;
    }
    /* task owners (crash recovery, cat_task.c), incremental watermarks */
    if (cat_task_store_init(c, err, errlen) < 0 || cat_incr_store_init(c, err, errlen) < 0 ||
        cat_icons_store_init(c, err, errlen) < 0) {
        goto out;
    }
    rc = 0;
out:
    if (rc < 0) {
        char tmp[512];
        snprintf(tmp, sizeof(tmp), "creating metadata schema %s: %s", cat_meta_schema(), err);
        snprintf(err, errlen, "%s", tmp);
    }
    cat_buf_free(&q);
    return rc;
}

/* JSON array text of N strings V (entries may be NULL); caller frees. */
static char *
json_array(char **v, size_t n)
{
    struct cat_buf b = {0};
    size_t i;
    cat_buf_puts(&b, "[");
    for (i = 0; i < n; i++) {
        if (i > 0) {
            cat_buf_puts(&b, ",");
        }
        cat_buf_json_str(&b, v ? v[i] : NULL);
    }
    cat_buf_puts(&b, "]");
    return cat_buf_take(&b);
}

static const char *const g_refresh_states[] = {"INIT", "RUNNING", "SUCCESS", "FAILED"};

static int
refresh_state_parse(const char *s)
{
    int i;
    for (i = 0; i < 4; i++) {
        if (s != NULL && strcmp(s, g_refresh_states[i]) == 0) {
            /* A refresh cannot be running in a process that just started. */
            return i == CAT_REFRESH_RUNNING ? CAT_REFRESH_FAILED : i;
        }
    }
    return CAT_REFRESH_INIT;
}

int
cat_store_load(MYSQL *c, struct cat_mv **mvs, char *err, size_t errlen)
{
    struct cat_buf q = {0};
    MYSQL_RES *res;
    MYSQL_ROW row;
    *mvs = NULL;
    cat_buf_puts(&q, "SELECT id, db, name, query_sql, create_sql, refresh_info, build_mode,"
                     " properties, comment, col_names, col_comments, bases, created_ms,"
                     " last_refresh_ms, stale_since_ms, row_count, state, refresh_state,"
                     " owner, indexes FROM ");
    meta_table(&q, "mvs");
    cat_buf_puts(&q, " ORDER BY id");
    if (mysql_real_query(c, q.p, q.len) != 0 || (res = mysql_store_result(c)) == NULL) {
        snprintf(err, errlen, "loading the catalog from %s.mvs: %s", cat_meta_schema(),
                 mysql_error(c));
        cat_buf_free(&q);
        return -1;
    }
    cat_buf_free(&q);
    while ((row = mysql_fetch_row(res)) != NULL) {
        struct cat_mv *mv = cat_xcalloc(1, sizeof(*mv));
        char key[512];
        char **pk = NULL, **pv = NULL;
        int np, nb, i;
        struct mvp_reply perr;
        struct cat_prop *props;
        mv->id = strtoull(row[0], NULL, 10);
        mv->db = cat_xstrdup(row[1]);
        mv->name = cat_xstrdup(row[2]);
        mv->key = cat_xstrdup(cat_make_key(key, sizeof(key), mv->db, mv->name));
        mv->query_sql = cat_xstrdup(row[3]);
        mv->create_sql = cat_xstrdup(row[4]);
        mv->refresh_info = cat_xstrdup(row[5]);
        {
            char rerr[300];
            if (cat_refresh_clause_of_text(mv->refresh_info, &mv->refresh, rerr,
                                           sizeof(rerr)) < 0) {
                cat_log(CAT_LOG_WARN, "view %s: %s; it is refreshed only on request", mv->key,
                        rerr);
            }
        }
        mv->build_mode = cat_xstrdup(row[6]);
        mv->comment = cat_xstrdup(row[8]);
        mv->owner = row[18] != NULL && *row[18] != '\0' ? cat_xstrdup(row[18]) : NULL;
        (void)cat_index_of_json(row[19], &mv->indexes, &mv->n_indexes);
        if (row[9] != NULL) {
            char **names = NULL, **comments = NULL;
            int nn = cat_json_parse_array(row[9], &names);
            int nc = cat_json_parse_array(row[10], &comments);
            if (nn > 0 && nc == nn) {
                mv->n_cols = (size_t)nn;
                mv->col_names = names;
                mv->col_comments = comments;
            } else {
                cat_strv_free(names, nn > 0 ? (size_t)nn : 0);
                cat_strv_free(comments, nc > 0 ? (size_t)nc : 0);
            }
        }
        nb = cat_json_parse_array(row[11], &mv->bases);
        mv->n_bases = nb > 0 ? (size_t)nb : 0;
        mv->created_ms = strtoll(row[12], NULL, 10);
        mv->state = cat_mv_state_new();
        cat_fresh_load(mv, strtoll(row[13], NULL, 10), strtoll(row[14], NULL, 10));
        atomic_store(&mv->state->rows, strtoll(row[15], NULL, 10));
        mv->paused = row[16] != NULL && strcmp(row[16], "PAUSED") == 0;
        atomic_store(&mv->state->refresh_state, refresh_state_parse(row[17]));

        np = cat_json_parse_object(row[7], &pk, &pv);
        if (np < 0) {
            cat_log(CAT_LOG_WARN, "view %s: malformed properties, using defaults", mv->key);
            np = 0;
        }
        props = cat_xcalloc((size_t)np + 1, sizeof(*props));
        for (i = 0; i < np; i++) {
            props[i].key = pk[i];
            props[i].value = pv[i] ? pv[i] : cat_xstrdup("");
        }
        mvp_reply_init(&perr);
        if (cat_mv_set_props(mv, (size_t)np, props, &perr) < 0) {
            cat_log(CAT_LOG_WARN, "view %s: %s; using defaults", mv->key, perr.err_msg);
            cat_mv_set_props(mv, 0, NULL, &perr);
        }
        mvp_reply_clear(&perr);
        for (i = 0; i < np; i++) {
            free(props[i].key);
            free(props[i].value);
        }
        free(props);
        free(pk);
        free(pv);
        HASH_ADD_KEYPTR(hh, *mvs, mv->key, strlen(mv->key), mv);
    }
    mysql_free_result(res);
    return 0;
}

int
cat_mv_set_props(struct cat_mv *mv, size_t n, const struct cat_prop *props,
                 struct mvp_reply *err)
{
    struct cat_props p;
    struct cat_buf b = {0};
    size_t i;
    if (cat_props_validate(n, props, &p, err) < 0) {
        return -1;
    }
    cat_buf_puts(&b, "{");
    for (i = 0; i < n; i++) {
        if (i > 0) {
            cat_buf_puts(&b, ",");
        }
        cat_buf_json_str(&b, props[i].key);
        cat_buf_puts(&b, ":");
        cat_buf_json_str(&b, props[i].value);
    }
    cat_buf_puts(&b, "}");
    free(mv->properties_json);
    mv->properties_json = cat_buf_take(&b);
    mv->grace_period_s = p.grace_period_s;
    mv->consistency = p.consistency;
    mv->nondeterministic_ok = p.nondeterministic_ok;
    mv->rewrite_enabled = p.rewrite != 0;
    cat_strv_free(mv->excluded, mv->n_excluded);
    mv->n_excluded = p.n_excluded;
    mv->excluded = cat_xcalloc(p.n_excluded + 1, sizeof(char *));
    for (i = 0; i < p.n_excluded; i++) {
        char key[512];
        const char *dot = strchr(p.excluded[i], '.');
        if (dot != NULL) {
            char *dbp = cat_xstrndup(p.excluded[i], (size_t)(dot - p.excluded[i]));
            cat_make_key(key, sizeof(key), dbp, dot + 1);
            free(dbp);
        } else {
            cat_make_key(key, sizeof(key), mv->db, p.excluded[i]);
        }
        mv->excluded[i] = cat_xstrdup(key);
    }
    cat_props_free(&p);
    return 0;
}

int
cat_store_insert(MYSQL *c, struct cat_mv *mv, char *err, size_t errlen)
{
    struct cat_buf q = {0};
    char *cols = NULL, *comments = NULL, *bases = json_array(mv->bases, mv->n_bases);
    char *indexes = cat_index_json(mv->indexes, mv->n_indexes);
    int rc;
    if (mv->n_cols > 0) {
        cols = json_array(mv->col_names, mv->n_cols);
        comments = json_array(mv->col_comments, mv->n_cols);
    }
    cat_buf_puts(&q, "INSERT INTO ");
    meta_table(&q, "mvs");
    cat_buf_puts(&q, " (db, name, query_sql, create_sql, refresh_info, build_mode, properties,"
                     " comment, col_names, col_comments, bases, created_ms, state, owner, indexes)"
                     " VALUES (");
    cat_buf_lit(&q, mv->db);
    cat_buf_puts(&q, ",");
    cat_buf_lit(&q, mv->name);
    cat_buf_puts(&q, ",");
    cat_buf_lit(&q, mv->query_sql);
    cat_buf_puts(&q, ",");
    cat_buf_lit(&q, mv->create_sql);
    cat_buf_puts(&q, ",");
    cat_buf_lit(&q, mv->refresh_info);
    cat_buf_puts(&q, ",");
    cat_buf_lit(&q, mv->build_mode);
    cat_buf_puts(&q, ",");
    cat_buf_lit(&q, mv->properties_json);
    cat_buf_puts(&q, ",");
    cat_buf_lit(&q, mv->comment);
    cat_buf_puts(&q, ",");
    cat_buf_lit(&q, cols);
    cat_buf_puts(&q, ",");
    cat_buf_lit(&q, comments);
    cat_buf_puts(&q, ",");
    cat_buf_lit(&q, bases);
    cat_buf_printf(&q, ",%lld,", (long long)mv->created_ms);
    cat_buf_lit(&q, mv->paused ? "PAUSED" : "NORMAL");
    cat_buf_puts(&q, ",");
    cat_buf_lit(&q, mv->owner);
    cat_buf_puts(&q, ",");
    cat_buf_lit(&q, indexes);
    cat_buf_puts(&q, ")");
    rc = cat_q(c, q.p, err, errlen, NULL);
    if (rc == 0) {
        mv->id = mysql_insert_id(c);
    }
    free(indexes);
    free(cols);
    free(comments);
    free(bases);
    cat_buf_free(&q);
    return rc;
}

int
cat_store_update_def(MYSQL *c, const struct cat_mv *mv, char *err, size_t errlen)
{
    struct cat_buf q = {0};
    char *bases = json_array(mv->bases, mv->n_bases);
    char *indexes = cat_index_json(mv->indexes, mv->n_indexes);
    int rc;
    cat_buf_puts(&q, "UPDATE ");
    meta_table(&q, "mvs");
    cat_buf_puts(&q, " SET db = ");
    cat_buf_lit(&q, mv->db);
    cat_buf_puts(&q, ", name = ");
    cat_buf_lit(&q, mv->name);
    cat_buf_puts(&q, ", create_sql = ");
    cat_buf_lit(&q, mv->create_sql);
    cat_buf_puts(&q, ", refresh_info = ");
    cat_buf_lit(&q, mv->refresh_info);
    cat_buf_puts(&q, ", properties = ");
    cat_buf_lit(&q, mv->properties_json);
    cat_buf_puts(&q, ", bases = ");
    cat_buf_lit(&q, bases);
    cat_buf_puts(&q, ", state = ");
    cat_buf_lit(&q, mv->paused ? "PAUSED" : "NORMAL");
    cat_buf_puts(&q, ", indexes = ");
    cat_buf_lit(&q, indexes);
    cat_buf_printf(&q, " WHERE id = %llu", (unsigned long long)mv->id);
    rc = cat_q(c, q.p, err, errlen, NULL);
    free(indexes);
    free(bases);
    cat_buf_free(&q);
    return rc;
}

int
cat_store_save_state(MYSQL *c, const struct cat_mv *mv, char *err, size_t errlen)
{
    struct cat_buf q = {0};
    int rc, rs = atomic_load(&mv->state->refresh_state);
    cat_buf_puts(&q, "UPDATE ");
    meta_table(&q, "mvs");
    cat_buf_printf(&q,
                   " SET last_refresh_ms = %lld, stale_since_ms = %lld, row_count = %lld,"
                   " refresh_state = '%s' WHERE id = %llu",
                   (long long)atomic_load(&mv->state->last_refresh_ms),
                   (long long)atomic_load(&mv->state->stale_since_ms),
                   (long long)atomic_load(&mv->state->rows),
                   g_refresh_states[rs >= 0 && rs < 4 ? rs : 0], (unsigned long long)mv->id);
    rc = cat_q(c, q.p, err, errlen, NULL);
    cat_buf_free(&q);
    return rc;
}

int
cat_store_save_stale(MYSQL *c, uint64_t id, int64_t stale_since_ms, char *err, size_t errlen)
{
    struct cat_buf q = {0};
    int rc;
    cat_buf_puts(&q, "UPDATE ");
    meta_table(&q, "mvs");
    cat_buf_printf(&q, " SET stale_since_ms = %lld WHERE id = %llu", (long long)stale_since_ms,
                   (unsigned long long)id);
    rc = cat_q(c, q.p, err, errlen, NULL);
    cat_buf_free(&q);
    return rc;
}

int
cat_store_delete(MYSQL *c, uint64_t id, char *err, size_t errlen)
{
    struct cat_buf q = {0};
    int rc;
    cat_buf_puts(&q, "DELETE FROM ");
    meta_table(&q, "mvs");
    cat_buf_printf(&q, " WHERE id = %llu", (unsigned long long)id);
    rc = cat_q(c, q.p, err, errlen, NULL);
    cat_buf_free(&q);
    if (rc == 0) {
        rc = cat_part_store_delete(c, id, err, errlen);
    }
    return rc;
}

uint64_t
cat_store_task_start(MYSQL *c, const struct cat_mv *mv, const char *mode)
{
    struct cat_buf q = {0};
    char err[256];
    uint64_t id = cat_task_started(c, mode);
    if (id != 0) {
        return id; /* the task's PENDING row (cat_task.c) is now RUNNING */
    }
    cat_buf_puts(&q, "INSERT INTO ");
    meta_table(&q, "tasks");
    cat_buf_puts(&q, " (job_name, mv_id, mv_name, mv_db, status, create_time, start_time,"
                     " refresh_mode, need_refresh_partitions, progress) VALUES (");
    cat_buf_printf(&q, "'mv_job_%llu', %llu, ", (unsigned long long)mv->id,
                   (unsigned long long)mv->id);
    cat_buf_lit(&q, mv->name);
    cat_buf_puts(&q, ", ");
    cat_buf_lit(&q, mv->db);
    cat_buf_puts(&q, ", 'RUNNING', NOW(3), NOW(3), ");
    cat_buf_lit(&q, mode);
    cat_buf_puts(&q, ", ");
    cat_buf_lit(&q, mv->name);
    cat_buf_puts(&q, ", '0.00% (0/1)')");
    if (cat_q(c, q.p, err, sizeof(err), NULL) == 0) {
        id = mysql_insert_id(c);
    } else {
        cat_log(CAT_LOG_WARN, "recording a refresh task of %s: %s", mv->key, err);
    }
    cat_buf_free(&q);
    if (id > CAT_TASK_HISTORY) {
        cat_buf_puts(&q, "DELETE FROM ");
        meta_table(&q, "tasks");
        cat_buf_printf(&q, " WHERE task_id <= %llu",
                       (unsigned long long)(id - CAT_TASK_HISTORY));
        cat_q(c, q.p, err, sizeof(err), NULL);
        cat_buf_free(&q);
    }
    return id;
}

void
cat_store_task_finish(MYSQL *c, uint64_t task_id, const char *status, int64_t rows,
                      const char *error)
{
    struct cat_buf q = {0};
    char err[256];
    bool ok = strcmp(status, "SUCCESS") == 0;
    if (task_id == 0) {
        return;
    }
    cat_buf_puts(&q, "UPDATE ");
    meta_table(&q, "tasks");
    cat_buf_puts(&q, " SET status = ");
    cat_buf_lit(&q, status);
    cat_buf_puts(&q, ", error_msg = ");
    cat_buf_lit(&q, error);
    cat_buf_puts(&q, ", finish_time = NOW(3),"
                     " duration_ms = TIMESTAMPDIFF(MICROSECOND, start_time, NOW(3)) DIV 1000,");
    if (ok) {
        cat_buf_puts(&q, " completed_partitions = need_refresh_partitions,"
                         " progress = '100.00% (1/1)',");
    }
    cat_buf_printf(&q, " row_count = %lld WHERE task_id = %llu", (long long)rows,
                   (unsigned long long)task_id);
    if (cat_q(c, q.p, err, sizeof(err), NULL) < 0) {
        cat_log(CAT_LOG_WARN, "finishing refresh task %llu: %s", (unsigned long long)task_id,
                err);
    }
    cat_buf_free(&q);
}

void
cat_store_task_recover(MYSQL *c)
{
    /* only tasks of proxies that are gone (their owner lock is free) */
    (void)cat_task_recover(c);
}
