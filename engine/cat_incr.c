/*
 * cat_incr.c - incremental refresh of single-table aggregate views over
 * append-only sources (see cat_incr.h for the contract):
 *
 *   cat_incr_analyse(definition) ── not provably safe ──> caller's normal refresh
 *        │ one table, GROUP BY, SUM/COUNT/MIN/MAX only, key columns NOT NULL
 *   GET_LOCK (the view's refresh lock) ─ task RUNNING
 *   UNIQUE KEY mvp_incr_key on the grouping columns (once)
 *   hi = MAX(col)
 *   no watermark / non-append change seen / new process ──> baseline:
 *        DELETE watermark; build mv__mvp_new from rows col <= hi; RENAME swap;
 *        watermark = hi
 *   else fold: START TRANSACTION; INSERT ... SELECT (wm < col <= hi)
 *        ON DUPLICATE KEY UPDATE (NULL-safe SUM/COUNT/MIN/MAX merge);
 *        watermark = hi; COMMIT
 *   freshness as cat_refresh.c: change_seq read before the data
 */
#include "cat_incr.h"
#include "cat_incr_plan.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cat_binlog.h"
#include <mysql.h>

#include "cat.h"
#include "cat_core.h"
#include "cat_fresh.h"
#include "cat_refresh_clause.h"
#include "cat_reply.h"
#include "cat_store.h"
#include "cat_util.h"
#include "cat_freshness.h"
#include "cat_refresh.h"
#include "cat_task.h"
#include "rw_lex.h"

/* Non-append changes per base table, and what each view saw at its last step. */
struct nonappend {
    char *key;                      /* "db.table" or "view:<id>" */
    uint64_t n;                     /* table: changes; view: table count at its last step */
    char *base;                     /* view: its base table key, NULL for tables */
    uint64_t mv_id;                 /* view: its id */
    bool seeded;                    /* view: state restored from the metadata schema at
                                     * start, not observed by this process: valid only once
                                     * the binlog replayed the downtime */
    UT_hash_handle hh;              /* g_na */
};

static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static struct nonappend *g_na;

static uint64_t
na_get(const char *key, bool *found)
{
    struct nonappend *e = NULL;
    uint64_t n = 0;
    pthread_mutex_lock(&g_mu);
    HASH_FIND_STR(g_na, key, e);
    if (e != NULL) {
        n = e->n;
    }
    if (found != NULL) {
        *found = e != NULL;
    }
    pthread_mutex_unlock(&g_mu);
    return n;
}

static void
na_set(const char *key, uint64_t n, bool add)
{
    struct nonappend *e = NULL;
    pthread_mutex_lock(&g_mu);
    HASH_FIND_STR(g_na, key, e);
    if (e == NULL) {
        e = cat_xcalloc(1, sizeof(*e));
        e->key = cat_xstrdup(key);
        HASH_ADD_KEYPTR(hh, g_na, e->key, strlen(e->key), e);
    }
    e->n = add ? e->n + n : n;
    pthread_mutex_unlock(&g_mu);
}

void
cat_incr_note_nonappend(const char *key)
{
    na_set(key, 1, true);
}

/* View entry VKEY: N (its base's count at this step), BASE, ID, SEEDED. */
static void
na_set_view(const char *vkey, uint64_t n, const char *base, uint64_t mv_id, bool seeded)
{
    struct nonappend *e;
    na_set(vkey, n, false);
    pthread_mutex_lock(&g_mu);
    HASH_FIND_STR(g_na, vkey, e);
    if (e != NULL) {
        free(e->base);
        e->base = cat_xstrdup(base);
        e->mv_id = mv_id;
        e->seeded = seeded;
    }
    pthread_mutex_unlock(&g_mu);
}

/* Was view entry VKEY restored at start rather than observed? */
static bool
na_seeded(const char *vkey)
{
    struct nonappend *e = NULL;
    bool s;
    pthread_mutex_lock(&g_mu);
    HASH_FIND_STR(g_na, vkey, e);
    s = e != NULL && e->seeded;
    pthread_mutex_unlock(&g_mu);
    return s;
}

/* The stored binlog position text (meta.binlog_position; caller frees) or NULL. */
static char *
stored_binlog_pos(MYSQL *c)
{
    struct cat_buf q = {0};
    char *v;
    cat_buf_puts(&q, "SELECT v FROM ");
    cat_buf_qname(&q, cat_meta_schema(), "meta");
    cat_buf_puts(&q, " WHERE k = 'binlog_position'");
    v = cat_q_value(c, q.p, NULL);
    cat_buf_free(&q);
    return v;
}

void
cat_incr_state_load(MYSQL *c)
{
    struct cat_buf q = {0};
    MYSQL_RES *res;
    MYSQL_ROW row;
    char err[256], *pos = stored_binlog_pos(c);
    size_t n = 0;
    if (pos != NULL) {
        cat_buf_puts(&q, "SELECT mv_id, clean_base FROM ");
        cat_buf_qname(&q, cat_meta_schema(), "mv_watermarks");
        cat_buf_puts(&q, " WHERE clean_base IS NOT NULL AND clean_at = ");
        cat_buf_lit(&q, pos);
        if (mysql_real_query(c, q.p, q.len) == 0 && (res = mysql_store_result(c)) != NULL) {
            while ((row = mysql_fetch_row(res)) != NULL) {
                char vkey[64];
                unsigned long long id = strtoull(row[0], NULL, 10);
                snprintf(vkey, sizeof(vkey), "view:%llu", id);
                /* the base's count starts at 0 in this process */
                na_set_view(vkey, 0, row[1], id, true);
                n++;
            }
            mysql_free_result(res);
        }
        cat_buf_free(&q);
    }
    /* used once: a crash of this process must not find them again */
    cat_buf_puts(&q, "UPDATE ");
    cat_buf_qname(&q, cat_meta_schema(), "mv_watermarks");
    cat_buf_puts(&q, " SET clean_at = NULL, clean_base = NULL WHERE clean_at IS NOT NULL");
    if (cat_q(c, q.p, err, sizeof(err), NULL) < 0) {
        cat_log(CAT_LOG_WARN, "incremental refresh state: %s", err);
    }
    cat_buf_free(&q);
    if (n > 0) {
        cat_log(CAT_LOG_INFO, "incremental refresh: %zu view(s) append-only up to the last stop "
                "(trusted once the binlog has replayed the downtime)", n);
    }
    free(pos);
}

void
cat_incr_state_save(MYSQL *c, bool followed)
{
    struct nonappend *e, *tmp;
    struct clean {
        uint64_t id;
        char *base;
    } *cl = NULL;
    size_t n = 0, i;
    char err[256], *pos;
    bool covered = cat_binlog_covers_downtime();
    if (!followed || (pos = stored_binlog_pos(c)) == NULL) {
        return; /* the downtime to come could not be replayed: nothing to claim */
    }
    pthread_mutex_lock(&g_mu);
    cl = cat_xcalloc(HASH_COUNT(g_na) + 1, sizeof(*cl));
    HASH_ITER(hh, g_na, e, tmp) {
        struct nonappend *b = NULL;
        if (e->base == NULL) {
            continue;
        }
        HASH_FIND_STR(g_na, e->base, b);
        if ((b != NULL ? b->n : 0) != e->n || (e->seeded && !covered)) {
            continue; /* an update/delete since its last step, or not known */
        }
        cl[n].id = e->mv_id;
        cl[n].base = cat_xstrdup(e->base);
        n++;
    }
    pthread_mutex_unlock(&g_mu);
    for (i = 0; i < n; i++) {
        struct cat_buf q = {0};
        cat_buf_puts(&q, "UPDATE ");
        cat_buf_qname(&q, cat_meta_schema(), "mv_watermarks");
        cat_buf_puts(&q, " SET clean_at = ");
        cat_buf_lit(&q, pos);
        cat_buf_puts(&q, ", clean_base = ");
        cat_buf_lit(&q, cl[i].base);
        cat_buf_printf(&q, " WHERE mv_id = %llu", (unsigned long long)cl[i].id);
        if (cat_q(c, q.p, err, sizeof(err), NULL) < 0) {
            cat_log(CAT_LOG_WARN, "incremental refresh state: %s", err);
        }
        cat_buf_free(&q);
        free(cl[i].base);
    }
    free(cl);
    free(pos);
}

/* cat_scan_writes callback: every name of a non-append statement. */
static void
note_cb(const char *db, const char *name, void *arg)
{
    char key[512];
    (void)arg;
    cat_make_key(key, sizeof(key), db ? db : "", name);
    cat_incr_note_nonappend(key);
}

void
cat_incr_note_sql(const char *sql, size_t len, const char *db, uint32_t mode)
{
    struct rw_lexer lx;
    struct rw_tok t;
    bool plain_insert = false;
    rw_lex_init_mode(&lx, sql, len, mode & RW_MODE_HONOURED);
    do {
        t = rw_lex_next(&lx);
    } while (t.kind == RW_TOK_HINT);
    if (t.kind == RW_TOK_EOF) {
        return;
    }
    if (rw_tok_is(&lx, t, "INSERT") && memchr(sql, ';', len) == NULL) {
        /* INSERT without ON DUPLICATE KEY UPDATE only appends */
        plain_insert = true;
        while ((t = rw_lex_next(&lx)).kind != RW_TOK_EOF) {
            if (rw_tok_is(&lx, t, "DUPLICATE")) {
                plain_insert = false;
                break;
            }
        }
    }
    if (!plain_insert) {
        cat_scan_writes(sql, len, db, mode, note_cb, NULL);
    }
}

void
cat_incr_forget(struct st_mysql *c, unsigned long long mv_id)
{
    struct cat_buf q = {0};
    char err[256];
    cat_buf_puts(&q, "DELETE FROM ");
    cat_buf_qname(&q, cat_meta_schema(), "mv_watermarks");
    cat_buf_printf(&q, " WHERE mv_id = %llu", mv_id);
    if (cat_q(c, q.p, err, sizeof(err), NULL) < 0) {
        cat_log(CAT_LOG_WARN, "forgetting the watermark of view %llu: %s", mv_id, err);
    }
    cat_buf_free(&q);
}

int
cat_incr_store_init(struct st_mysql *c, char *err, size_t errlen)
{
    struct cat_buf q = {0};
    int rc;
    cat_buf_puts(&q, "CREATE TABLE IF NOT EXISTS ");
    cat_buf_qname(&q, cat_meta_schema(), "mv_watermarks");
    cat_buf_puts(&q, " (mv_id BIGINT UNSIGNED NOT NULL PRIMARY KEY, wm VARCHAR(255) NOT NULL,"
                     " updated_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3))"
                     " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4");
    rc = cat_q(c, q.p, err, errlen, NULL);
    cat_buf_free(&q);
    if (rc == 0) {
        /* "append-only up to the last stop" (cat_incr_state_save / _load) */
        cat_buf_puts(&q, "ALTER TABLE ");
        cat_buf_qname(&q, cat_meta_schema(), "mv_watermarks");
        cat_buf_puts(&q, " ADD COLUMN IF NOT EXISTS clean_at VARCHAR(255) NULL,"
                         " ADD COLUMN IF NOT EXISTS clean_base VARCHAR(600) NULL");
        rc = cat_q(c, q.p, err, errlen, NULL);
        cat_buf_free(&q);
    }
    return rc;
}

/* The incremental_column property of MV (caller frees) or NULL. */
static char *
incr_column(const struct cat_mv *mv)
{
    char **k = NULL, **v = NULL, *out = NULL;
    int n = cat_json_parse_object(mv->properties_json, &k, &v), i;
    for (i = 0; i < n; i++) {
        if (out == NULL && strcmp(k[i], "incremental_column") == 0 && v[i] != NULL) {
            out = cat_xstrdup(v[i]);
        }
    }
    cat_strv_free(k, n > 0 ? (size_t)n : 0); /* the arrays exist even when empty */
    cat_strv_free(v, n > 0 ? (size_t)n : 0);
    return out;
}

bool
cat_incr_wanted(const struct cat_mv *mv, enum cat_refresh_method mode)
{
    char *col;
    if (mv->part != NULL || (mode != CAT_RM_FAST && mode != CAT_RM_AUTO)) {
        return false;
    }
    col = incr_column(mv);
    free(col);
    return col != NULL;
}

/* ---- refresh ---- */

/* The definition with its table replaced by rows LO < col <= HI (LO NULL: no lower bound). */
static void
bounded_def(struct cat_buf *b, const struct cat_mv *mv, const struct cat_incr_plan *p, const char *col,
            const char *lo, const char *hi)
{
    cat_buf_add(b, mv->query_sql, p->ref_off);
    cat_buf_puts(b, "(SELECT * FROM ");
    cat_buf_qname(b, p->base_db, p->base_name);
    cat_buf_puts(b, " WHERE ");
    if (lo != NULL) {
        cat_buf_ident(b, col);
        cat_buf_puts(b, " > ");
        cat_buf_lit(b, lo);
        cat_buf_puts(b, " AND ");
    }
    cat_buf_ident(b, col);
    cat_buf_puts(b, " <= ");
    cat_buf_lit(b, hi);
    cat_buf_puts(b, ") AS ");
    cat_buf_ident(b, p->alias);
    cat_buf_puts(b, mv->query_sql + p->ref_end);
}

/* Run B on C as a step of an incremental refresh (B freed). */
static int
run(MYSQL *c, struct cat_buf *b, const struct cat_mv *mv, const char *what,
    struct mvp_reply *reply, int64_t *affected)
{
    return cat_refresh_run(c, b, mv, "incremental refresh", what, reply, affected);
}

/* First value of a one-row query (caller frees; NULL for SQL NULL); *OK false on error. */
static char *
scalar(MYSQL *c, struct cat_buf *b, bool *ok)
{
    char *v = cat_q_value(c, b->p, ok);
    cat_buf_free(b);
    return v;
}

/* NULL-safe merge of storage column COL of MV by KIND into B (columns
 * qualified: the SELECT's derived table has the same names). */
static void
merge_expr(struct cat_buf *b, const struct cat_mv *mv, const char *col, enum cat_incr_out kind)
{
    bool mm = kind == CAT_IO_MIN || kind == CAT_IO_MAX;
    struct cat_buf q = {0};
    cat_buf_qname(&q, mv->db, mv->name);
    cat_buf_puts(&q, ".");
    cat_buf_ident(&q, col);
    cat_buf_puts(b, q.p);
    cat_buf_puts(b, " = CASE WHEN VALUES(");
    cat_buf_ident(b, col);
    cat_buf_puts(b, ") IS NULL THEN ");
    cat_buf_puts(b, q.p);
    cat_buf_puts(b, " WHEN ");
    cat_buf_puts(b, q.p);
    cat_buf_puts(b, " IS NULL THEN VALUES(");
    cat_buf_ident(b, col);
    cat_buf_puts(b, ") ELSE ");
    cat_buf_puts(b, kind == CAT_IO_MIN ? "LEAST(" : kind == CAT_IO_MAX ? "GREATEST(" : "");
    cat_buf_puts(b, q.p);
    cat_buf_puts(b, mm ? ", VALUES(" : " + VALUES(");
    cat_buf_ident(b, col);
    cat_buf_puts(b, mm ? ")) END" : ") END");
    cat_buf_free(&q);
}

/* One incremental refresh while it runs (cat_incr_refresh and its steps). */
struct irun {
    struct cat_mv *mv;
    MYSQL *c;                       /* refresh connection (cat_refresh_open) */
    const struct cat_incr_plan *p;           /* the definition's shape (analyse) */
    const struct cat_table *st;     /* the storage table's columns */
    const char *col;                /* incremental_column */
    char *hi;                       /* MAX(col) now (NULL: empty base) */
    char *wm;                       /* the watermark (NULL: none) */
    char *nn, *on;                  /* baseline: staging and old table names */
    int64_t rows;                   /* rows written */
    int64_t total;                  /* rows of the view after it (-1 unknown) */
    bool baseline;                  /* rebuild up to hi instead of folding */
};

/* Does MV's definition qualify (see cat_incr.h), with storage table ST
 * matching it? P gets its shape; a reason is logged when it does not. */
static bool
qualifies(const struct cat_mv *mv, const struct cat_table *st, struct cat_incr_plan *p)
{
    char why[256];
    size_t i;
    if (!cat_incr_analyse(mv->query_sql, mv->db, p, why, sizeof(why))) {
        cat_log(CAT_LOG_INFO, "view %s: incremental refresh not possible (%s); full refresh",
                mv->key, why);
        return false;
    }
    if (st == NULL || st->n_cols != p->n_out) {
        cat_log(CAT_LOG_INFO, "view %s: incremental refresh: storage columns unknown", mv->key);
        return false;
    }
    for (i = 0; i < p->n_out; i++) {
        if (p->kinds[i] == CAT_IO_KEY && st->cols[i].nullable) {
            cat_log(CAT_LOG_INFO,
                    "view %s: incremental refresh needs NOT NULL grouping columns (%s is "
                    "nullable); full refresh", mv->key, st->cols[i].name);
            return false;
        }
    }
    return true;
}

/*
 * The UNIQUE KEY the fold's ON DUPLICATE KEY UPDATE needs, added when
 * missing (then IR->baseline: what the table holds was not folded under
 * it). Returns 0, or -1 when it cannot be had (logged; a full refresh).
 */
static int
unique_key(struct irun *ir)
{
    struct cat_mv *mv = ir->mv;
    struct cat_buf b = {0};
    char err[512], *n;
    bool ok;
    size_t i;
    cat_buf_puts(&b, "SELECT COUNT(*) FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = ");
    cat_buf_lit(&b, mv->db);
    cat_buf_puts(&b, " AND TABLE_NAME = ");
    cat_buf_lit(&b, mv->name);
    cat_buf_puts(&b, " AND INDEX_NAME = 'mvp_incr_key'");
    n = scalar(ir->c, &b, &ok);
    if (ok && n != NULL && strcmp(n, "0") == 0) {
        size_t nk = 0;
        cat_buf_puts(&b, "ALTER TABLE ");
        cat_buf_qname(&b, mv->db, mv->name);
        cat_buf_puts(&b, " ADD UNIQUE KEY mvp_incr_key (");
        for (i = 0; i < ir->p->n_out; i++) {
            if (ir->p->kinds[i] == CAT_IO_KEY) {
                cat_buf_puts(&b, nk++ > 0 ? ", " : "");
                cat_buf_ident(&b, ir->st->cols[i].name);
            }
        }
        cat_buf_puts(&b, ")");
        if (nk == 0 || cat_q(ir->c, b.p, err, sizeof(err), NULL) < 0) {
            cat_log(CAT_LOG_INFO, "view %s: no unique key on its grouping columns (%s); full "
                    "refresh", mv->key, nk == 0 ? "no grouping column" : err);
            cat_buf_free(&b);
            free(n);
            return -1;
        }
        cat_buf_free(&b);
        ir->baseline = true;
    }
    free(n);
    return 0;
}

/* IR->hi = MAX(incremental_column) of the base table, read as the view's
 * owner (cat_refresh_src), and IR->wm the watermark; -1 with REPLY. */
static int
read_marks(struct irun *ir, struct mvp_reply *reply)
{
    struct cat_mv *mv = ir->mv;
    MYSQL *c = ir->c;
    struct cat_buf b = {0};
    bool ok;
    {
        /* the watermark, read as the view's owner too (cat_refresh_src) */
        struct cat_buf src = {0};
        cat_buf_puts(&b, "SELECT MAX(");
        cat_buf_ident(&b, ir->col);
        cat_buf_puts(&b, ") AS m FROM ");
        cat_buf_qname(&b, ir->p->base_db, ir->p->base_name);
        if (cat_refresh_src(c, mv, 0, b.p, "incremental refresh", &src, reply) < 0) {
            cat_buf_free(&b);
            return -1;
        }
        cat_buf_free(&b);
        cat_buf_puts(&b, "SELECT m FROM ");
        cat_buf_add(&b, src.p, src.len);
        cat_buf_free(&src);
    }
    ir->hi = scalar(c, &b, &ok);
    if (!ok) {
        if (mysql_errno(c) == 1317) {
            cat_task_note_interrupted(); /* killed: a CANCEL */
        }
        mvp_reply_err(reply, (uint16_t)mysql_errno(c), "HY000",
                      "incremental refresh of %s.%s: reading MAX(%s): %s", mv->db, mv->name,
                      ir->col, mysql_error(c));
        return -1;
    }
    cat_buf_puts(&b, "SELECT wm FROM ");
    cat_buf_qname(&b, cat_meta_schema(), "mv_watermarks");
    cat_buf_printf(&b, " WHERE mv_id = %llu", (unsigned long long)mv->id);
    ir->wm = scalar(c, &b, &ok);
    return 0;
}

/*
 * The baseline: the watermark forgotten, a new table built from the rows
 * up to IR->hi (all of them on an empty base) and swapped in, the new
 * watermark recorded. Returns 0, or -1 with REPLY (staging dropped).
 */
static int
fill_baseline(struct irun *ir, struct mvp_reply *reply)
{
    struct cat_mv *mv = ir->mv;
    MYSQL *c = ir->c;
    struct cat_buf b = {0};
    cat_buf_puts(&b, "DELETE FROM ");
    cat_buf_qname(&b, cat_meta_schema(), "mv_watermarks");
    cat_buf_printf(&b, " WHERE mv_id = %llu", (unsigned long long)mv->id);
    if (run(c, &b, mv, "forgetting the watermark", reply, NULL) < 0) {
        return -1;
    }
    if (cat_refresh_stage(c, &b, mv, "incremental refresh", &ir->nn, &ir->on, reply) < 0) {
        return -1;
    }
    {
        struct cat_buf def = {0}, src = {0};
        int src_rc;
        cat_buf_puts(&def, "SELECT * FROM (");
        if (ir->hi != NULL) {
            bounded_def(&def, mv, ir->p, ir->col, NULL, ir->hi);
        } else {
            cat_buf_puts(&def, mv->query_sql);
        }
        cat_buf_puts(&def, "\n) AS mvp_def");
        src_rc = cat_refresh_src(c, mv, 0, def.p, "incremental refresh", &src, reply);
        cat_buf_free(&def);
        if (src_rc < 0) {
            goto failed_drop;
        }
        cat_buf_puts(&b, "INSERT INTO ");
        cat_buf_qname(&b, mv->db, ir->nn);
        cat_buf_puts(&b, " SELECT * FROM ");
        cat_buf_add(&b, src.p, src.len);
        cat_buf_free(&src);
    }
    if (run(c, &b, mv, "filling the new table", reply, &ir->rows) < 0) {
        goto failed_drop;
    }
    ir->total = ir->rows;
    if (cat_refresh_swap(c, &b, mv, "incremental refresh", ir->nn, ir->on, reply) < 0) {
        goto failed_drop;
    }
    if (ir->hi != NULL) {
        cat_buf_puts(&b, "REPLACE INTO ");
        cat_buf_qname(&b, cat_meta_schema(), "mv_watermarks");
        cat_buf_printf(&b, " (mv_id, wm) VALUES (%llu, ", (unsigned long long)mv->id);
        cat_buf_lit(&b, ir->hi);
        cat_buf_puts(&b, ")");
        if (run(c, &b, mv, "recording the watermark", reply, NULL) < 0) {
            return -1;
        }
    }
    return 0;

failed_drop:
    cat_refresh_drop_staging(c, mv, ir->nn);
    return -1;
}

/*
 * The incremental step: in one transaction, the rows above the watermark up
 * to IR->hi folded into the view (ON DUPLICATE KEY UPDATE with merge_expr)
 * and the watermark moved to IR->hi. Returns 0, or -1 with REPLY (rolled
 * back).
 */
static int
fold(struct irun *ir, struct mvp_reply *reply)
{
    struct cat_mv *mv = ir->mv;
    MYSQL *c = ir->c;
    const struct cat_incr_plan *p = ir->p;
    struct cat_buf b = {0}, def = {0}, src = {0};
    char err[512];
    bool ok;
    size_t i;
    int src_rc;
    /* the owner's view first: a CREATE VIEW commits */
    cat_buf_puts(&def, "SELECT * FROM (");
    bounded_def(&def, mv, p, ir->col, ir->wm, ir->hi);
    cat_buf_puts(&def, "\n) AS mvp_def");
    src_rc = cat_refresh_src(c, mv, 0, def.p, "incremental refresh", &src, reply);
    cat_buf_free(&def);
    if (src_rc < 0) {
        return -1;
    }
    if (cat_q(c, "START TRANSACTION", err, sizeof(err), NULL) < 0) {
        mvp_reply_err(reply, 1105, "HY000", "incremental refresh of %s.%s: %s", mv->db,
                      mv->name, err);
        cat_buf_free(&src);
        return -1;
    }
    cat_buf_puts(&b, "INSERT INTO ");
    cat_buf_qname(&b, mv->db, mv->name);
    cat_buf_puts(&b, " SELECT * FROM ");
    cat_buf_add(&b, src.p, src.len);
    cat_buf_free(&src);
    cat_buf_puts(&b, " AS mvp_def ON DUPLICATE KEY UPDATE ");
    {
        size_t nm = 0;
        for (i = 0; i < p->n_out; i++) {
            if (p->kinds[i] != CAT_IO_KEY) {
                cat_buf_puts(&b, nm++ > 0 ? ", " : "");
                merge_expr(&b, mv, ir->st->cols[i].name, p->kinds[i]);
            }
        }
        if (nm == 0) {
            cat_buf_ident(&b, ir->st->cols[0].name);
            cat_buf_puts(&b, " = ");
            cat_buf_ident(&b, ir->st->cols[0].name);
        }
    }
    if (run(c, &b, mv, "folding new rows", reply, &ir->rows) < 0) {
        cat_q(c, "ROLLBACK", err, sizeof(err), NULL);
        return -1;
    }
    cat_buf_puts(&b, "UPDATE ");
    cat_buf_qname(&b, cat_meta_schema(), "mv_watermarks");
    cat_buf_puts(&b, " SET wm = ");
    cat_buf_lit(&b, ir->hi);
    cat_buf_printf(&b, ", updated_at = NOW(3) WHERE mv_id = %llu",
                   (unsigned long long)mv->id);
    if (run(c, &b, mv, "recording the watermark", reply, NULL) < 0) {
        cat_q(c, "ROLLBACK", err, sizeof(err), NULL);
        return -1;
    }
    if (cat_q(c, "COMMIT", err, sizeof(err), NULL) < 0) {
        mvp_reply_err(reply, 1105, "HY000", "incremental refresh of %s.%s: %s", mv->db,
                      mv->name, err);
        return -1;
    }
    cat_buf_puts(&b, "SELECT COUNT(*) FROM ");
    cat_buf_qname(&b, mv->db, mv->name);
    {
        char *cnt = scalar(c, &b, &ok);
        ir->total = cnt != NULL ? strtoll(cnt, NULL, 10) : -1;
        free(cnt);
    }
    return 0;
}

/*
 * Before the task starts, on the locked connection: the view's database
 * selected, its storage table as the definition says (else *HANDLED false:
 * the complete path rebuilds it, cat_refresh_stage) with the unique key the
 * fold needs (unique_key; else *HANDLED false). Returns 0, or -1 (with
 * REPLY filled when *HANDLED stays true).
 */
static int
storage_ready(struct irun *ir, struct mvp_reply *reply, bool *handled)
{
    struct cat_mv *mv = ir->mv;
    int sok;
    if (mysql_select_db(ir->c, mv->db) != 0) {
        mvp_reply_err(reply, (uint16_t)mysql_errno(ir->c), "HY000",
                      "incremental refresh of %s.%s: %s", mv->db, mv->name, mysql_error(ir->c));
        return -1;
    }
    /* storage dropped or altered behind the proxy: the complete path
     * rebuilds it (cat_refresh_stage) */
    sok = cat_refresh_storage_ok(ir->c, mv, "incremental refresh", reply);
    if (sok < 0) {
        return -1;
    }
    if (sok == 0 || unique_key(ir) < 0) {
        *handled = false;
        return -1;
    }
    return 0;
}

int
cat_incr_refresh(const char *db, const char *name, struct mvp_reply *reply, bool *handled,
                 enum cat_task_result *outcome)
{
    struct cat_snapshot *snap = cat_snapshot_acquire();
    struct cat_mv *mv = cat_snapshot_find(snap, db, name);
    struct cat_incr_plan p;
    struct irun ir;
    struct cat_refresh_result r = {CAT_TASK_FAILED, CAT_RS_INCREMENTAL, 0, 0, NULL, NULL};
    char lockname[600], vkey[64], base_key[512], info[700];
    char *col = NULL;
    bool locked = false, seen;
    uint64_t seq0, na0;
    int64_t t0, t1;
    int rc = -1;

    *handled = false;
    *outcome = CAT_TASK_FAILED;
    memset(&p, 0, sizeof(p));
    memset(&ir, 0, sizeof(ir));
    ir.total = -1;
    if (mv == NULL || mv->part != NULL || (col = incr_column(mv)) == NULL) {
        cat_snapshot_release(snap);
        return -1;
    }
    ir.mv = mv;
    ir.p = &p;
    ir.col = col;
    ir.st = cat_snapshot_table(snap, mv->db, mv->name);
    if (!qualifies(mv, ir.st, &p)) {
        goto out_unhandled;
    }
    cat_make_key(base_key, sizeof(base_key), p.base_db, p.base_name);
    snprintf(vkey, sizeof(vkey), "view:%llu", (unsigned long long)mv->id);
    na0 = na_get(base_key, NULL);
    ir.baseline = na_get(vkey, &seen) != na0 || !seen;
    if (!ir.baseline && na_seeded(vkey) && !cat_binlog_covers_downtime()) {
        /* restored from the last stop: trusted only once the binlog has
         * replayed what happened while no proxy was watching */
        ir.baseline = true;
    }

    ir.c = cat_refresh_open(mv, lockname, sizeof(lockname), &locked, reply);
    *handled = true;
    if (ir.c == NULL || !locked) {
        if (ir.c != NULL) {
            r.outcome = CAT_TASK_BUSY;
        }
        goto out;
    }
    if (storage_ready(&ir, reply, handled) < 0) {
        goto out;
    }
    r.task = cat_store_task_start(ir.c, mv, ir.baseline ? "COMPLETE" : "PARTIAL");
    atomic_store(&mv->state->refresh_state, CAT_REFRESH_RUNNING);
    seq0 = atomic_load(&mv->state->change_seq);
    t0 = cat_now_ms();

    if (read_marks(&ir, reply) < 0) {
        goto failed;
    }
    if (ir.wm == NULL) {
        ir.baseline = true;
    }
    if (ir.hi == NULL) {
        /* empty base: the baseline makes an empty view */
        ir.baseline = true;
    }
    if ((ir.baseline ? fill_baseline(&ir, reply) : fold(&ir, reply)) < 0) {
        goto failed;
    }
    t1 = cat_now_ms();
    na_set_view(vkey, na0, base_key, mv->id, false);
    atomic_store(&mv->state->rows, ir.total);
    /* a change seen meanwhile may be unreflected: stale since t0 */
    cat_fresh_settle(mv, seq0, t0, t1, 0, na_get(base_key, NULL) == na0);
    snprintf(info, sizeof(info), "refreshed %s.%s (%s): %s %s, %lld rows written in %.2f s",
             mv->db, mv->name, ir.baseline ? "incremental baseline" : "incremental",
             ir.baseline ? "rows up to" : "rows above",
             ir.baseline ? (ir.hi ? ir.hi : "-") : ir.wm, (long long)ir.rows,
             (double)(t1 - t0) / 1000.0);
    r.outcome = CAT_TASK_OK;
    r.rows = ir.rows;
    r.info = info;
    cat_refresh_finish(ir.c, mv, &r, reply);
    rc = 0;
    goto out;

failed:
    r.outcome = cat_refresh_failure();
    cat_refresh_finish(ir.c, mv, &r, reply);
out:
    *outcome = r.outcome;
    if (ir.c != NULL && locked) {
        cat_refresh_src_drop(ir.c, mv, 0, 1);
    }
    cat_refresh_close(ir.c, lockname, locked);
out_unhandled:
    free(col);
    free(ir.hi);
    free(ir.wm);
    free(ir.nn);
    free(ir.on);
    cat_incr_plan_free(&p);
    cat_snapshot_release(snap);
    return rc;
}
