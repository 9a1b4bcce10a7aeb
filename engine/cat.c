/*
 * cat.c - the catalog's lifecycle and its writers: start-up (connect with
 * the service account, create the metadata schema, load every view, clean
 * refresh leftovers, publish), the build of a snapshot from a set of views
 * (schemas from information_schema, models in dependency order, the
 * by_table index), and shutdown.
 *
 *   admin thread (writer lock held)
 *   cat_current_mvs() ──copy + change──> cat_publish_mvs()
 *        fetch schemas ─> models: inner views first ─> by_table ─> cat_snapshot_publish()
 *
 * Views share their struct cat_mv_state across snapshots by refcount, so a
 * freshness mark made on any snapshot is seen by all.
 */
#include "cat.h"
#include "cat_constraint.h"
#include "cat_core.h"
#include "cat_engine.h"
#include "cat_fresh.h"
#include "cat_parse.h"
#include "cat_refresh.h"
#include "cat_reply.h"
#include "cat_store.h"
#include "cat_util.h"
#include "cat_part_engine.h"
#include "cat_probe.h"
#include "cat_part.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <mysql.h>

#include "cat_binlog.h"
#include "cat_fence.h"
#include "cat_cost.h"
#include "cat_incr.h"
#include "cat_sched.h"
#include "cat_sync.h"
#include "cat_task.h"
#include "rw.h"

/* Service connection settings, copied at cat_init. */
static struct {
    char *host;                     /* backend host */
    unsigned port;                  /* backend port */
    char *user;                     /* service account */
    char *password;                 /* its password */
    char *meta;                     /* metadata schema */
    bool refresh_nolog;             /* refresh connections run with sql_log_bin = 0 */
    int tls;                        /* cat_config.backend_tls: 0 off .. 4 verify-full */
    char *tls_ca;                   /* CA file or NULL */
    char *tls_cert;                 /* client certificate or NULL */
    char *tls_key;                  /* its key or NULL */
} g_cfg;
static _Atomic int g_nolog_warned;          /* the sql_log_bin refusal was logged */

static pthread_mutex_t g_writer = PTHREAD_MUTEX_INITIALIZER;
static _Atomic uint64_t g_next_version = 1;
static bool g_started;

const char *
cat_meta_schema(void)
{
    return g_cfg.meta ? g_cfg.meta : "mvproxy_meta";
}

void
cat_writer_lock(void)
{
    pthread_mutex_lock(&g_writer);
}

void
cat_writer_unlock(void)
{
    pthread_mutex_unlock(&g_writer);
}

/* Parse an on/off word; 1 on, -1 off, 0 unknown. */
static int
onoff(const char *v)
{
    if (v == NULL) {
        return 0;
    }
    if (cat_streq_ci(v, "1") || cat_streq_ci(v, "on") || cat_streq_ci(v, "true") ||
        cat_streq_ci(v, "yes")) {
        return 1;
    }
    if (cat_streq_ci(v, "0") || cat_streq_ci(v, "off") || cat_streq_ci(v, "false") ||
        cat_streq_ci(v, "no")) {
        return -1;
    }
    return 0;
}

void
cat_refresh_session(MYSQL *c)
{
    char err[512];
    if (!g_cfg.refresh_nolog) {
        return;
    }
    if (cat_q(c, "SET SESSION sql_log_bin = 0", err, sizeof(err), NULL) < 0 &&
        !atomic_exchange(&g_nolog_warned, 1)) {
        /* needs SUPER or BINLOG ADMIN: the refresh still runs, logged */
        cat_log(CAT_LOG_WARN, "refresh_log_bin = off: %s; refresh writes stay in the binlog",
                err);
    }
}

void
cat_refresh_analyze(MYSQL *c, const char *db, const char *table, const char *view_key)
{
    struct cat_buf b = {0};
    char err[512];
    int64_t t0 = cat_now_ms();
    cat_buf_puts(&b, "ANALYZE TABLE ");
    cat_buf_qname(&b, db, table);
    if (cat_q(c, b.p, err, sizeof(err), NULL) < 0) {
        cat_log(CAT_LOG_WARN, "refresh of %s: %s (statistics stay stale until InnoDB "
                "recomputes them)", view_key, err);
    } else {
        cat_log(CAT_LOG_DEBUG, "refresh of %s: ANALYZE TABLE %s.%s in %lld ms", view_key, db,
                table, (long long)(cat_now_ms() - t0));
    }
    cat_buf_free(&b);
}

MYSQL *
cat_connect(char *err, size_t errlen)
{
    return cat_connect_timeout(0, err, errlen);
}

/* Set C's TLS options for g_cfg.tls (TLS wanted: ENFORCE true) before connecting. */
static void
set_tls(MYSQL *c, bool enforce)
{
    my_bool on = 1, verify = g_cfg.tls >= 3;

    if (!enforce) {
        return;
    }
    mysql_optionsv(c, MYSQL_OPT_SSL_ENFORCE, &on);
    mysql_optionsv(c, MYSQL_OPT_SSL_VERIFY_SERVER_CERT, &verify);
    if (g_cfg.tls_ca != NULL) {
        mysql_optionsv(c, MYSQL_OPT_SSL_CA, g_cfg.tls_ca);
    }
    if (g_cfg.tls_cert != NULL) {
        mysql_optionsv(c, MYSQL_OPT_SSL_CERT, g_cfg.tls_cert);
        mysql_optionsv(c, MYSQL_OPT_SSL_KEY, g_cfg.tls_key);
    }
}

/* One connection attempt as the service user, over TLS when TLS. NULL with ERR on failure. */
static MYSQL *
connect_once(unsigned timeout_s, bool tls, unsigned *code, char *err, size_t errlen)
{
    MYSQL *c = mysql_init(NULL);
    unsigned timeout = 10;
    if (c == NULL) {
        snprintf(err, errlen, "out of memory creating a backend connection");
        *code = 0;
        return NULL;
    }
    mysql_options(c, MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
    if (timeout_s > 0) {
        mysql_options(c, MYSQL_OPT_READ_TIMEOUT, &timeout_s);
        mysql_options(c, MYSQL_OPT_WRITE_TIMEOUT, &timeout_s);
    }
    mysql_options(c, MYSQL_SET_CHARSET_NAME, "utf8mb4");
    set_tls(c, tls);
    if (mysql_real_connect(c, g_cfg.host, g_cfg.user, g_cfg.password, NULL, g_cfg.port, NULL,
                           CLIENT_MULTI_RESULTS) == NULL) {
        snprintf(err, errlen, "cannot connect to the backend %s:%u as %s%s: %s", g_cfg.host,
                 g_cfg.port, g_cfg.user, tls ? " over TLS" : "", mysql_error(c));
        *code = mysql_errno(c);
        mysql_close(c);
        return NULL;
    }
    if (tls && g_cfg.tls >= 2 && mysql_get_ssl_cipher(c) == NULL) {
        /* libmariadb 3.3 goes on in plaintext when the server has no TLS */
        snprintf(err, errlen, "the backend %s:%u does not offer TLS (--backend-tls %s)", g_cfg.host,
                 g_cfg.port, g_cfg.tls >= 3 ? "verify-*" : "required");
        *code = 2026;
        mysql_close(c);
        return NULL;
    }
    return c;
}

/*
 * The one place the engine connects to the backend: every libmariadb
 * connection (service user, refresh tasks, binlog follower, probe, sync)
 * comes from here, so --backend-tls applies to all of them. "preferred"
 * asks for TLS and goes on in plaintext when the backend has none (and
 * tries once more without TLS should the TLS attempt fail with
 * CR_SSL_CONNECTION_ERROR, 2026); "required" and the verify modes refuse a
 * connection that did not end up encrypted.
 */
MYSQL *
cat_connect_timeout(unsigned timeout_s, char *err, size_t errlen)
{
    unsigned code = 0;
    MYSQL *c = connect_once(timeout_s, g_cfg.tls > 0, &code, err, errlen);

    if (c == NULL && g_cfg.tls == 1 && code == 2026) {
        c = connect_once(timeout_s, false, &code, err, errlen);
    }
    return c;
}

char *
cat_q_value(MYSQL *c, const char *sql, bool *ok)
{
    MYSQL_RES *res;
    MYSQL_ROW row;
    char *v = NULL;
    if (ok != NULL) {
        *ok = false;
    }
    if (mysql_real_query(c, sql, strlen(sql)) != 0) {
        return NULL;
    }
    res = mysql_store_result(c);
    if (res == NULL) {
        return NULL;
    }
    if (ok != NULL) {
        *ok = true;
    }
    row = mysql_fetch_row(res);
    if (row != NULL && row[0] != NULL) {
        v = cat_xstrdup(row[0]);
    }
    mysql_free_result(res);
    return v;
}

int
cat_q(MYSQL *c, const char *sql, char *err, size_t errlen, unsigned *code)
{
    MYSQL_RES *res;
    if (code != NULL) {
        *code = 0;
    }
    if (mysql_real_query(c, sql, strlen(sql)) != 0) {
        if (code != NULL) {
            *code = mysql_errno(c);
        }
        snprintf(err, errlen, "%s (error %u)", mysql_error(c), mysql_errno(c));
        return -1;
    }
    do {
        res = mysql_store_result(c);
        if (res != NULL) {
            mysql_free_result(res);
        }
    } while (mysql_next_result(c) == 0);
    return 0;
}

/* ---- views ---- */

struct cat_mv *
cat_current_mvs(void)
{
    struct cat_snapshot *s = cat_snapshot_acquire();
    struct cat_mv *out = NULL, *mv, *tmp;
    if (s == NULL) {
        return NULL;
    }
    HASH_ITER(hh, s->mvs, mv, tmp) {
        struct cat_mv *d = cat_mv_dup(mv);
        HASH_ADD_KEYPTR(hh, out, d->key, strlen(d->key), d);
    }
    cat_snapshot_release(s);
    return out;
}

size_t
cat_dependents(const struct cat_snapshot *snap, const struct cat_mv *mv, struct cat_mv **out,
               size_t max)
{
    struct cat_mv *o, *tmp;
    size_t n = 0, i;
    if (snap == NULL) {
        return 0;
    }
    HASH_ITER(hh, snap->mvs, o, tmp) {
        if (o == mv || strcmp(o->key, mv->key) == 0) {
            continue;
        }
        for (i = 0; i < o->n_bases; i++) {
            if (strcmp(o->bases[i], mv->key) == 0) {
                if (n < max) {
                    out[n] = o;
                }
                n++;
                break;
            }
        }
    }
    return n;
}

/* ---- snapshot build ---- */

/* Add KEY (copied if new) to the set V/N (linear; sets are small). */
static void
set_add(char ***v, size_t *n, const char *key)
{
    size_t i;
    for (i = 0; i < *n; i++) {
        if (strcmp((*v)[i], key) == 0) {
            return;
        }
    }
    *v = realloc(*v, (*n + 1) * sizeof(char *));
    if (*v == NULL) {
        abort();
    }
    (*v)[(*n)++] = cat_xstrdup(key);
}

/*
 * The databases whose every table goes into the snapshot: those of the base
 * tables the views read (a query may join a view back to any other table
 * there; rewriter/rw_join.c). System schemas and the metadata schema are left out.
 * Returns the count; *DBS gets a malloc'd array of malloc'd names
 * (cat_strv_free).
 */
static size_t
joinback_schemas(struct cat_mv *mvs, char ***dbs)
{
    static const char *const sys[] = {"mysql", "information_schema", "performance_schema",
                                      "sys", NULL};
    struct cat_mv *mv, *tmp;
    size_t n = 0, i, k;
    *dbs = NULL;
    HASH_ITER(hh, mvs, mv, tmp) {
        for (i = 0; i < mv->n_bases; i++) {
            const char *dot = strchr(mv->bases[i], '.');
            char *db;
            bool skip = false;
            if (dot == NULL) {
                continue;
            }
            db = cat_xstrndup(mv->bases[i], (size_t)(dot - mv->bases[i]));
            for (k = 0; sys[k] != NULL && !skip; k++) {
                skip = strcasecmp(db, sys[k]) == 0;
            }
            if (!skip && strcasecmp(db, cat_meta_schema()) != 0) {
                set_add(dbs, &n, db);
            }
            free(db);
        }
    }
    return n;
}

/* Append UNION ALL branch number K of fetch_tables' query: the columns of
 * table DB.TABLE, or of every table of DB when TABLE is NULL. */
static void
columns_branch(struct cat_buf *q, size_t k, const char *db, const char *table)
{
    if (k > 0) {
        cat_buf_puts(q, " UNION ALL ");
    }
    cat_buf_puts(q, "(SELECT TABLE_SCHEMA, TABLE_NAME, COLUMN_NAME, DATA_TYPE, COLUMN_TYPE, "
                    "IS_NULLABLE, COLLATION_NAME, CHARACTER_SET_NAME, ORDINAL_POSITION "
                    "FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ");
    cat_buf_lit(q, db);
    if (table != NULL) {
        cat_buf_puts(q, " AND TABLE_NAME = ");
        cat_buf_lit(q, table);
    }
    cat_buf_puts(q, ")");
}

/*
 * Fetch the columns of every table in KEYS, and of every table of the
 * databases DBS (N_DBS names, whole schemas: the tables a query may join
 * back to a view), into SNAP->tables. Returns 0, or -1 with the backend's
 * error in ERR.
 */
static int
fetch_tables(MYSQL *c, struct cat_snapshot *snap, char **keys, size_t n, char **dbs,
             size_t n_dbs, char *err, size_t errlen)
{
    struct cat_buf q = {0};
    MYSQL_RES *res;
    MYSQL_ROW row;
    size_t i;
    if (n == 0) {
        return 0;
    }
    /*
     * One UNION ALL branch per database of DBS (whole schema) and per table
     * of KEYS outside them, each with constant TABLE_SCHEMA (and TABLE_NAME):
     * MariaDB then reads just that database's (or table's) definitions. IN
     * lists made it scan every database, which under concurrent DDL crashed
     * MariaDB 10.11.19 (create_tmp_table_for_schema).
     */
    {
        size_t n_br = 0, j;
        for (i = 0; i < n_dbs; i++) {
            columns_branch(&q, n_br++, dbs[i], NULL);
        }
        for (i = 0; i < n; i++) {
            const char *dot = strchr(keys[i], '.');
            char *dbn;
            bool covered = false;
            if (dot == NULL) {
                continue;
            }
            dbn = cat_xstrndup(keys[i], (size_t)(dot - keys[i]));
            for (j = 0; j < n_dbs && !covered; j++) {
                covered = strcasecmp(dbs[j], dbn) == 0;
            }
            if (!covered) {
                columns_branch(&q, n_br++, dbn, dot + 1);
            }
            free(dbn);
        }
        if (n_br == 0) {
            cat_buf_free(&q);
            return 0;
        }
    }
    cat_buf_puts(&q, " ORDER BY 1, 2, 9");
    if (mysql_real_query(c, q.p, q.len) != 0 || (res = mysql_store_result(c)) == NULL) {
        snprintf(err, errlen, "reading information_schema.COLUMNS: %s", mysql_error(c));
        cat_buf_free(&q);
        return -1;
    }
    cat_buf_free(&q);
    while ((row = mysql_fetch_row(res)) != NULL) {
        char key[512];
        struct cat_table *t = NULL;
        struct cat_column *col;
        bool wanted = false, by_schema = false;
        cat_make_key(key, sizeof(key), row[0], row[1]);
        for (i = 0; i < n; i++) {
            if (strcmp(keys[i], key) == 0) {
                wanted = true;
                break;
            }
        }
        for (i = 0; i < n_dbs && !wanted; i++) {
            wanted = by_schema = strcasecmp(dbs[i], row[0]) == 0;
        }
        if (!wanted) {
            continue;
        }
        HASH_FIND_STR(snap->tables, key, t);
        if (t == NULL) {
            t = cat_xcalloc(1, sizeof(*t));
            t->key = cat_xstrdup(key);
            t->db = cat_xstrdup(row[0]);
            t->name = cat_xstrdup(row[1]);
            t->joinback_only = by_schema;
            HASH_ADD_KEYPTR(hh, snap->tables, t->key, strlen(t->key), t);
        }
        t->cols = realloc(t->cols, (t->n_cols + 1) * sizeof(*t->cols));
        if (t->cols == NULL) {
            abort();
        }
        col = &t->cols[t->n_cols++];
        col->name = cat_xstrdup(row[2]);
        col->data_type = cat_xstrdup(row[3] ? row[3] : "");
        for (i = 0; col->data_type[i] != '\0'; i++) {
            col->data_type[i] = (char)tolower((unsigned char)col->data_type[i]);
        }
        col->column_type = cat_xstrdup(row[4] ? row[4] : "");
        col->nullable = row[5] != NULL && strcmp(row[5], "YES") == 0;
        col->collation = row[6] != NULL ? cat_xstrdup(row[6]) : NULL;
        col->charset = row[7] != NULL ? cat_xstrdup(row[7]) : NULL;
        for (i = 0; col->collation != NULL && col->collation[i] != '\0'; i++) {
            col->collation[i] = (char)tolower((unsigned char)col->collation[i]);
        }
        for (i = 0; col->charset != NULL && col->charset[i] != '\0'; i++) {
            col->charset[i] = (char)tolower((unsigned char)col->charset[i]);
        }
    }
    mysql_free_result(res);
    return 0;
}

/* Add the keys of the tables view MV reads, following views transitively. */
static void
closure(const struct cat_snapshot *snap, const struct cat_mv *mv, char ***v, size_t *n, int depth)
{
    size_t i;
    if (depth > 32) {
        return;
    }
    for (i = 0; i < mv->n_bases; i++) {
        struct cat_mv *inner = NULL;
        size_t before = *n;
        set_add(v, n, mv->bases[i]);
        if (*n == before) {
            continue;
        }
        HASH_FIND_STR(snap->mvs, mv->bases[i], inner);
        if (inner != NULL) {
            closure(snap, inner, v, n, depth + 1);
        }
    }
}

static void
index_add(struct cat_snapshot *snap, const char *key, struct cat_mv *mv)
{
    struct cat_table_index *ix = NULL;
    size_t i;
    HASH_FIND_STR(snap->by_table, key, ix);
    if (ix == NULL) {
        ix = cat_xcalloc(1, sizeof(*ix));
        ix->key = cat_xstrdup(key);
        HASH_ADD_KEYPTR(hh, snap->by_table, ix->key, strlen(ix->key), ix);
    }
    for (i = 0; i < ix->n; i++) {
        if (ix->mvs[i] == mv) {
            return;
        }
    }
    ix->mvs = realloc(ix->mvs, (ix->n + 1) * sizeof(*ix->mvs));
    if (ix->mvs == NULL) {
        abort();
    }
    ix->mvs[ix->n++] = mv;
}

/* Depth of MV in the view-over-view graph (0 = reads only tables). */
static int
layer(const struct cat_snapshot *snap, const struct cat_mv *mv, int depth)
{
    size_t i;
    int best = 0;
    if (depth > 32) {
        return depth;
    }
    for (i = 0; i < mv->n_bases; i++) {
        struct cat_mv *inner = NULL;
        HASH_FIND_STR(snap->mvs, mv->bases[i], inner);
        if (inner != NULL && inner != mv) {
            int d = layer(snap, inner, depth + 1) + 1;
            if (d > best) {
                best = d;
            }
        }
    }
    return best;
}

/*
 * Build models (inner views first) and the by_table index of SNAP, whose
 * mvs and tables are filled. Exposed for the unit tests through
 * cat_snapshot_index().
 */
static void
build_models_and_index(struct cat_snapshot *snap, bool build_models)
{
    struct cat_mv *mv, *tmp;
    int max_layer = 0, l;
    HASH_ITER(hh, snap->mvs, mv, tmp) {
        int d = layer(snap, mv, 0);
        if (d > max_layer) {
            max_layer = d;
        }
    }
    for (l = 0; l <= max_layer && build_models; l++) {
        HASH_ITER(hh, snap->mvs, mv, tmp) {
            char *err = NULL;
            if (layer(snap, mv, 0) != l) {
                continue;
            }
            rw_mv_model_free(mv->model);
            free(mv->model_error);
            mv->model_error = NULL;
            mv->model = rw_mv_model_build(snap, mv->db, mv->name, mv->query_sql, &err);
            mv->model_free = rw_mv_model_free;
            if (mv->model == NULL) {
                mv->model_error = cat_xstrdup(err ? err : "view matching model not available");
                cat_log(CAT_LOG_INFO, "view %s is stored but not used for rewrite: %s", mv->key,
                        mv->model_error);
            }
            free(err);
        }
    }
    HASH_ITER(hh, snap->mvs, mv, tmp) {
        char **keys = NULL;
        size_t n = 0, i;
        closure(snap, mv, &keys, &n, 0);
        if (mv->model != NULL) {
            const char *const *mk = NULL;
            size_t nm = rw_mv_model_tables(mv->model, &mk);
            for (i = 0; i < nm; i++) {
                set_add(&keys, &n, mk[i]);
            }
        }
        for (i = 0; i < n; i++) {
            index_add(snap, keys[i], mv);
        }
        cat_strv_free(keys, n);
    }
}

void
cat_snapshot_index(struct cat_snapshot *snap)
{
    build_models_and_index(snap, false);
}

int
cat_publish_mvs(MYSQL *c, struct cat_mv *mvs, char *err, size_t errlen)
{
    struct cat_snapshot *snap = cat_xcalloc(1, sizeof(*snap));
    struct cat_mv *mv, *tmp;
    char **keys = NULL, **dbs = NULL;
    size_t n = 0, i, n_dbs = 0;
    snap->mvs = mvs;
    HASH_ITER(hh, mvs, mv, tmp) {
        set_add(&keys, &n, mv->key);
        for (i = 0; i < mv->n_bases; i++) {
            set_add(&keys, &n, mv->bases[i]);
        }
    }
    n_dbs = joinback_schemas(mvs, &dbs);
    if (fetch_tables(c, snap, keys, n, dbs, n_dbs, err, errlen) < 0) {
        cat_strv_free(keys, n);
        cat_strv_free(dbs, n_dbs);
        cat_snapshot_free(snap);
        return -1;
    }
    cat_strv_free(keys, n);
    cat_icons_load(c, snap); /* informational constraints (cat_constraint.c) */
    cat_strv_free(dbs, n_dbs);
    (void)cat_keys_load(c, snap); /* optional: without keys there is no join elimination */
    build_models_and_index(snap, true);
    {
        uint64_t v = atomic_fetch_add(&g_next_version, 1);
        if (v <= cat_version()) {
            v = cat_version() + 1;
            atomic_store(&g_next_version, v + 1);
        }
        snap->version = v;
    }
    cat_snapshot_publish(snap);
    (void)cat_sync_bump(c); /* other proxies on this schema reload (cat_sync.c) */
    return 0;
}

/* ---- start / stop ---- */

/* Drop build leftovers of MV (crash between build and swap) when no refresh runs. */
static void
clean_leftovers(MYSQL *c, const struct cat_mv *mv)
{
    struct cat_buf q = {0};
    char err[256];
    MYSQL_RES *res;
    MYSQL_ROW row;
    bool locked = false;
    cat_buf_puts(&q, "SELECT GET_LOCK(");
    {
        struct cat_buf lk = {0};
        cat_buf_printf(&lk, "mvproxy.refresh.%s", mv->key);
        cat_buf_lit(&q, lk.p);
        cat_buf_free(&lk);
    }
    cat_buf_puts(&q, ", 0)");
    if (mysql_real_query(c, q.p, q.len) == 0 && (res = mysql_store_result(c)) != NULL) {
        row = mysql_fetch_row(res);
        locked = row != NULL && row[0] != NULL && strcmp(row[0], "1") == 0;
        mysql_free_result(res);
    }
    cat_buf_free(&q);
    if (!locked) {
        return;
    }
    {
        char *nn = cat_xmalloc(strlen(mv->name) + 16), *on = cat_xmalloc(strlen(mv->name) + 16);
        sprintf(nn, "%s__mvp_new", mv->name);
        sprintf(on, "%s__mvp_old", mv->name);
        cat_buf_puts(&q, "DROP TABLE IF EXISTS ");
        cat_buf_qname(&q, mv->db, nn);
        cat_buf_puts(&q, ", ");
        cat_buf_qname(&q, mv->db, on);
        if (cat_q(c, q.p, err, sizeof(err), NULL) < 0) {
            cat_log(CAT_LOG_WARN, "cleaning refresh leftovers of %s: %s", mv->key, err);
        }
        free(nn);
        free(on);
    }
    cat_buf_free(&q);
    cat_q(c, "SELECT RELEASE_ALL_LOCKS()", err, sizeof(err), NULL);
}

/*
 * Partitioned views (cat_part.h): the PARTITION BY clause is re-read from
 * the stored CREATE statement, its derivation re-resolved against the
 * backend, and the per-partition state loaded from mv_partitions. A view
 * whose partitioning cannot be resolved any more (the column was dropped)
 * keeps no partition state: it is refreshed completely and never used for
 * rewrite until re-created (logged).
 */
void
cat_load_partitioning(MYSQL *c, struct cat_mv *mv)
{
    struct cat_stmt st;
    struct mvp_reply r;
    char err[600];
    memset(&st, 0, sizeof(st));
    mvp_reply_init(&r);
    if (mv->create_sql != NULL &&
        cat_parse(mv->create_sql, strlen(mv->create_sql), &st, &r) == 1 &&
        st.partition_by != NULL) {
        mv->part = cat_part_spec_parse(st.partition_by, err, sizeof(err));
        if (mv->part != NULL && cat_part_resolve(c, mv, err, sizeof(err)) < 0) {
            cat_part_spec_free(mv->part);
            mv->part = NULL;
        }
        if (mv->part == NULL) {
            cat_log(CAT_LOG_WARN, "materialized view %s: partitioning ignored: %s", mv->key, err);
            mv->rewrite_enabled = false;
        } else {
            mv->state->parts = cat_pstate_new();
            if (cat_part_store_load(c, mv, err, sizeof(err)) < 0) {
                cat_log(CAT_LOG_WARN, "%s", err);
            }
        }
    }
    cat_stmt_free(&st);
    mvp_reply_clear(&r);
}

int
cat_init(const struct cat_config *cfg, char *err, size_t errlen)
{
    MYSQL *c;
    struct cat_mv *mvs = NULL, *mv, *tmp;
    size_t n = 0;
    if (g_started) {
        snprintf(err, errlen, "catalog already started");
        return -1;
    }
    mysql_library_init(0, NULL, NULL);
    g_cfg.host = cat_xstrdup(cfg->backend_host ? cfg->backend_host : "127.0.0.1");
    g_cfg.port = cfg->backend_port ? cfg->backend_port : 3306;
    g_cfg.user = cat_xstrdup(cfg->service_user ? cfg->service_user : "mvproxy");
    g_cfg.password = cat_xstrdup(cfg->service_password ? cfg->service_password : "");
    g_cfg.tls = cfg->backend_tls;
    g_cfg.tls_ca = cfg->backend_tls_ca ? cat_xstrdup(cfg->backend_tls_ca) : NULL;
    g_cfg.tls_cert = cfg->backend_tls_cert ? cat_xstrdup(cfg->backend_tls_cert) : NULL;
    g_cfg.tls_key = cfg->backend_tls_key ? cat_xstrdup(cfg->backend_tls_key) : NULL;
    {
        int lb = cfg->refresh_log_bin;
        if (lb == 0) {
            lb = onoff(getenv("MVPROXY_REFRESH_LOG_BIN"));
        }
        g_cfg.refresh_nolog = lb < 0;
        atomic_store(&g_nolog_warned, 0);
        if (g_cfg.refresh_nolog) {
            cat_log(CAT_LOG_INFO, "refresh_log_bin = off: refresh writes are not written to "
                    "the backend's binlog (replicas do not get the view tables)");
        }
    }
    g_cfg.meta = cat_xstrdup(cfg->meta_schema && *cfg->meta_schema ? cfg->meta_schema
                                                                    : "mvproxy_meta");
    c = cat_connect(err, errlen);
    if (c == NULL) {
        goto fail;
    }
    if (cat_store_init_schema(c, err, errlen) < 0 || cat_store_load(c, &mvs, err, errlen) < 0) {
        mysql_close(c);
        goto fail;
    }
    cat_task_init(cfg->refresh_tasks);
    cat_incr_state_load(c); /* before the binlog follower moves the stored position */
    cat_sync_init(c);
    cat_store_task_recover(c);
    HASH_ITER(hh, mvs, mv, tmp) {
        clean_leftovers(c, mv);
        cat_load_partitioning(c, mv);
        n++;
    }
    cat_writer_lock();
    if (cat_publish_mvs(c, mvs, err, errlen) < 0) {
        cat_writer_unlock();
        mysql_close(c);
        goto fail;
    }
    cat_writer_unlock();
    mysql_close(c);
    if (cat_fresh_start(err, errlen) < 0) {
        cat_snapshot_unpublish();
        goto fail;
    }
    /* Binlog follower (SPEC §5): never fatal; without it freshness falls
     * back to proxy DML only, and SHOW MATERIALIZED VIEWS says why. */
    if (cat_binlog_start() == 0) {
        /* the freshness fence waits for the follower (issue 12) */
        (void)cat_fence_start();
    }
    /* Partition probe (SPEC §5): narrows binlog row events to partitions
     * and sees writes that bypass the proxy when there is no binlog. */
    if (cat_part_probe_start(err, errlen) < 0) {
        cat_log(CAT_LOG_WARN, "%s", err);
    }
    /* The cost-based choice's estimates (issue 12). */
    (void)cat_cost_start();
    /* Refresh scheduler (SPEC §6): schedules, ON COMMIT, other proxies. */
    if (cat_sched_start(cfg->commit_debounce_ms, cfg->catalog_poll_ms, err, errlen) < 0) {
        cat_log(CAT_LOG_WARN, "%s", err);
    }
    g_started = true;
    cat_log(CAT_LOG_INFO, "loaded %zu materialized view(s) from %s", n, g_cfg.meta);
    return 0;
fail:
    free(g_cfg.host);
    free(g_cfg.user);
    free(g_cfg.password);
    free(g_cfg.meta);
    free(g_cfg.tls_ca);
    free(g_cfg.tls_cert);
    free(g_cfg.tls_key);
    memset(&g_cfg, 0, sizeof(g_cfg));
    return -1;
}

void
cat_shutdown(void)
{
    char src[64], err[256];
    bool followed;
    MYSQL *c;
    if (!g_started) {
        return;
    }
    cat_sched_stop();   /* first: running refreshes end, no new ones start */
    followed = strcmp(cat_binlog_source(src, sizeof(src)), "binlog") == 0;
    cat_fence_stop();
    cat_cost_stop();
    cat_binlog_stop();  /* before the freshness thread: its last marks get persisted */
    /* then what incremental refresh may trust after the restart (cat_incr.h) */
    if ((c = cat_connect(err, sizeof(err))) != NULL) {
        cat_incr_state_save(c, followed);
        mysql_close(c);
    }
    cat_part_probe_stop();
    cat_fresh_stop();
    cat_task_shutdown();
    cat_snapshot_unpublish();
    free(g_cfg.host);
    free(g_cfg.user);
    free(g_cfg.password);
    free(g_cfg.meta);
    free(g_cfg.tls_ca);
    free(g_cfg.tls_cert);
    free(g_cfg.tls_key);
    memset(&g_cfg, 0, sizeof(g_cfg));
    g_started = false;
}

void
cat_drain_begin(void)
{
    if (g_started) {
        cat_sched_drain();
    }
}

void
cat_drain_cancel(void)
{
    if (g_started) {
        (void)cat_task_stop_all();
    }
}

int
cat_drain_pending(void)
{
    return g_started ? cat_task_count() : 0;
}
