/*
 * cat_fresh.c - freshness v1 (SPEC §5): a write statement that goes through
 * the proxy marks every view over a table it names stale from that moment;
 * a background thread persists the marks so a restarted proxy still knows.
 *
 *   worker thread                          catalog thread (own service connection)
 *   cat_note_write(sql)                    every 100 ms, when g_dirty is set:
 *     first keyword a write? ──no──> 0       for each view with state->dirty:
 *     each IDENT / IDENT.IDENT ──>             UPDATE mvs SET stale_since_ms
 *       snap->by_table[key] → views
 *       CAS stale_since 0 → now, change_seq++, dirty = 1, g_dirty = 1
 *
 * The marking itself (cat_mark_table: stale_since to the EARLIEST change,
 * change_seq++, dirty, stored by cat_freshness.c) is the one path for both
 * freshness sources: the proxy-DML path here and the binlog follower
 * (cat_binlog_event.c), which feeds it "db.table" keys from row events
 * and its Query events' text through the same statement marker
 * (cat_mark_writes_opt), dated by the event.
 *
 * Conservative by design: every identifier of a write statement is looked
 * up as a table, so a column that shares a table's name over-marks (safe);
 * under-marking would be a bug. Views over views are in by_table under the
 * base tables they read transitively, and under the inner views' storage
 * tables, so a write to raw_sales marks DWD, DWS and ADS.
 */
#include "cat_incr.h"
#include "cat_fresh.h"
#include "cat_freshness.h"
#include "rw_limits.h"
#include <mysql.h>

#include "cat.h"
#include "cat_core.h"
#include "cat_engine.h"
#include "cat_store.h"
#include "cat_util.h"
#include "cat_part_engine.h"
#include "cat_part.h"
#include "cat_part_track.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rw_lex.h"

/* Statement keywords that change table data or definitions. */
static const char *const g_write_words[] = {"INSERT", "REPLACE", "UPDATE", "DELETE", "TRUNCATE",
                                            "LOAD",   "ALTER",   "DROP",   "RENAME"};

static _Atomic int g_dirty;                 /* some view state is dirty */
static _Atomic int g_stop;                  /* ask the thread to stop */
static pthread_t g_thread;
static bool g_thread_running;
static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_cv = PTHREAD_COND_INITIALIZER;
static pthread_mutex_t g_flush_mu = PTHREAD_MUTEX_INITIALIZER; /* one flush at a time */

/*
 * THE marking path (SPEC §5), shared by the proxy-DML scanner
 * (cat_note_write / cat_mark_writes) and the binlog follower (cat_binlog.c):
 * a change dated WHEN_MS to a table makes every view over it stale from the
 * EARLIEST unreflected change: stale_since moves from 0 to WHEN_MS, or down
 * to WHEN_MS when a later change had already marked it (a binlog event can
 * arrive after a through-proxy mark of a later write). change_seq moves
 * once per view per change, which is what a running refresh checks
 * (cat_freshness.c cat_fresh_settle).
 */
static void
mark(struct cat_marked *m, struct cat_mv *mv, int64_t when_ms)
{
    if (cat_marked_has(m, mv)) {
        return;
    }
    cat_marked_claim(m, mv);
    cat_fresh_mark_view(mv, when_ms);
}

static bool
excluded(const struct cat_mv *mv, const char *key)
{
    size_t i;
    for (i = 0; i < mv->n_excluded; i++) {
        if (strcmp(mv->excluded[i], key) == 0) {
            return true;
        }
    }
    return false;
}

void
cat_mark_table(const struct cat_snapshot *snap, const char *key, struct cat_marked *m,
               int64_t when_ms)
{
    struct cat_table_index *ix = NULL;
    struct cat_mv *self = NULL;
    size_t i;
    if (snap == NULL) {
        return;
    }
    HASH_FIND_STR(snap->by_table, key, ix);
    if (ix != NULL) {
        for (i = 0; i < ix->n; i++) {
            if (!excluded(ix->mvs[i], key)) {
                mark(m, ix->mvs[i], when_ms);
            }
        }
    }
    /* A user writing into a view's own storage table: its rows no longer
     * match its definition either. */
    HASH_FIND_STR(snap->mvs, key, self);
    if (self != NULL) {
        mark(m, self, when_ms);
    }
}

/* Mark for unqualified NAME when the session has no database: any db. */
static void
mark_any_db(const struct cat_snapshot *snap, const char *name, struct cat_marked *m,
            int64_t when_ms)
{
    struct cat_table_index *ix, *tmp;
    struct cat_mv *mv, *mtmp;
    size_t nl = strlen(name);
    HASH_ITER(hh, snap->by_table, ix, tmp) {
        size_t kl = strlen(ix->key);
        if (kl > nl && ix->key[kl - nl - 1] == '.' && strcmp(ix->key + kl - nl, name) == 0) {
            cat_mark_table(snap, ix->key, m, when_ms);
        }
    }
    HASH_ITER(hh, snap->mvs, mv, mtmp) {
        if (cat_streq_ci(mv->name, name)) {
            mark(m, mv, when_ms);
        }
    }
}

void
cat_mark_name(const struct cat_snapshot *snap, const char *db, const char *name,
              struct cat_marked *m, int64_t when_ms)
{
    char key[512];
    if (snap == NULL || name == NULL) {
        return;
    }
    if (db != NULL && *db != '\0') {
        cat_mark_table(snap, cat_make_key(key, sizeof(key), db, name), m, when_ms);
    } else {
        char *low = cat_xstrdup(name);
        size_t i;
        for (i = 0; low[i] != '\0'; i++) {
            low[i] = (char)tolower((unsigned char)low[i]);
        }
        mark_any_db(snap, low, m, when_ms);
        free(low);
    }
}

void
cat_mark_all(const struct cat_snapshot *snap, struct cat_marked *m, int64_t when_ms)
{
    struct cat_mv *mv, *tmp;
    if (snap == NULL) {
        return;
    }
    HASH_ITER(hh, snap->mvs, mv, tmp) {
        mark(m, mv, when_ms);
    }
}

void
cat_marked_claim(struct cat_marked *m, struct cat_mv *mv)
{
    m->v = realloc(m->v, (m->n + 1) * sizeof(*m->v));
    if (m->v == NULL) {
        abort();
    }
    m->v[m->n++] = mv;
}

bool
cat_marked_has(const struct cat_marked *m, const struct cat_mv *mv)
{
    size_t k;
    for (k = 0; k < m->n; k++) {
        if (m->v[k] == mv) {
            return true;
        }
    }
    return false;
}

void
cat_marked_free(struct cat_marked *m)
{
    free(m->v);
    m->v = NULL;
    m->n = 0;
}

static bool
is_write_word(const struct rw_lexer *lx, struct rw_tok t)
{
    size_t i;
    for (i = 0; i < sizeof(g_write_words) / sizeof(g_write_words[0]); i++) {
        if (rw_tok_is(lx, t, g_write_words[i])) {
            return true;
        }
    }
    return false;
}

static bool
is_name(struct rw_tok t)
{
    return t.kind == RW_TOK_IDENT || t.kind == RW_TOK_QIDENT;
}

/* Lower-cased identifier text of T (caller frees). */
static char *
name_text(const struct rw_lexer *lx, struct rw_tok t)
{
    char *s = rw_tok_text(lx, t);
    size_t i;
    for (i = 0; s != NULL && s[i] != '\0'; i++) {
        s[i] = (char)tolower((unsigned char)s[i]);
    }
    return s;
}

bool
cat_sql_is_write(const char *sql, size_t len, uint32_t mode)
{
    struct rw_lexer lx;
    struct rw_tok t;
    rw_lex_init_mode(&lx, sql, len, mode & RW_MODE_HONOURED);
    do {
        t = rw_lex_next(&lx);
    } while (t.kind == RW_TOK_HINT);
    return t.kind != RW_TOK_EOF && (is_write_word(&lx, t) || memchr(sql, ';', len) != NULL);
}

int
cat_scan_writes(const char *sql, size_t len, const char *db, uint32_t mode, cat_write_name_fn fn,
                void *arg)
{
    struct rw_lexer lx;
    struct rw_tok t;
    bool in_write = false, at_start = true;
    int n = 0;
    struct rw_tok prev = {RW_TOK_EOF, 0, 0};

    if (db != NULL && *db == '\0') {
        db = NULL;
    }
    rw_lex_init_mode(&lx, sql, len, mode & RW_MODE_HONOURED);
    for (;;) {
        t = rw_lex_next(&lx);
        if (t.kind == RW_TOK_EOF) {
            break;
        }
        if (t.kind == RW_TOK_HINT) {
            continue;
        }
        if (rw_tok_is_op(&lx, t, ";")) {
            at_start = true;
            in_write = false;
            continue;
        }
        if (at_start) {
            at_start = false;
            in_write = is_write_word(&lx, t);
            if (!in_write && memchr(sql + t.off, ';', len - t.off) == NULL) {
                break; /* a read and no further statement: the cheap path */
            }
            continue;
        }
        if (!in_write || !is_name(t)) {
            prev = t;
            continue;
        }
        {
            /* IDENT [ . IDENT ] ; the part after a '.' was consumed with its qualifier. */
            struct rw_lexer save = lx;
            struct rw_tok dot = rw_lex_next(&lx);
            if (rw_tok_is_op(&lx, prev, ".")) {
                lx = save;
                prev = t;
                continue;
            }
            if (rw_tok_is_op(&lx, dot, ".")) {
                struct rw_tok second = rw_lex_next(&lx);
                if (is_name(second)) {
                    char *a = name_text(&lx, t), *b = name_text(&lx, second);
                    fn(a, b, arg);
                    n++;
                    free(a);
                    free(b);
                    prev = second;
                    continue;
                }
            }
            lx = save;
            {
                char *a = name_text(&lx, t);
                fn(db, a, arg);
                n++;
                free(a);
            }
            prev = t;
        }
    }
    return n;
}

/* cat_scan_writes callback of cat_mark_writes_opt. */
struct mark_ctx {
    const struct cat_snapshot *snap;    /* views to mark */
    struct cat_marked m;                /* marked so far */
    int64_t when_ms;                    /* change time */
    struct cat_mark_opt *opt;           /* the caller's filter, or NULL */
};

static void
mark_name_cb(const char *db, const char *name, void *arg)
{
    struct mark_ctx *ctx = arg;
    if (ctx->opt != NULL) {
        if (ctx->opt->skip != NULL && ctx->opt->skip(db, name, ctx->opt->arg)) {
            return;
        }
        ctx->opt->user = true;
    }
    cat_mark_name(ctx->snap, db, name, &ctx->m, ctx->when_ms);
}

int
cat_mark_writes_opt(const struct cat_snapshot *snap, const char *sql, size_t len,
                    const char *db, uint32_t mode, int64_t when_ms, struct cat_mark_opt *opt)
{
    struct mark_ctx ctx = {snap, {NULL, 0}, when_ms, opt};
    size_t n;
    int np = 0;
    /* no views: nothing to mark; the binlog (OPT) still learns whether the
     * statement names a user table */
    if (opt == NULL && (snap == NULL || snap->mvs == NULL)) {
        return 0;
    }
    /* one single-table DML statement: partitioned views are marked by
     * partition (cat_part_track.c), the others whole, as below */
    if (mode == 0 && cat_part_note_write(snap, sql, len, db, when_ms, &np)) {
        if (opt != NULL) {
            opt->user = true;
        }
        return np;
    }
    cat_scan_writes(sql, len, db, mode, mark_name_cb, &ctx);
    n = ctx.m.n;
    cat_marked_free(&ctx.m);
    return (int)n;
}

int
cat_mark_writes(const struct cat_snapshot *snap, const char *sql, size_t len, const char *db,
                int64_t now_ms)
{
    return cat_mark_writes_opt(snap, sql, len, db, 0, now_ms, NULL);
}

int
cat_note_write(const char *sql, size_t len, const char *db, uint32_t mode, int64_t now_ms)
{
    struct cat_snapshot *snap;
    int n;
    /* Cheap exit for the common case: a single read statement. */
    if (!cat_sql_is_write(sql, len, mode)) {
        return 0;
    }
    cat_incr_note_sql(sql, len, db, mode); /* UPDATE/DELETE/...: incremental refresh falls back */
    snap = cat_snapshot_acquire();
    n = cat_mark_writes_opt(snap, sql, len, db, mode, now_ms, NULL);
    cat_snapshot_release(snap);
    if (n > 0) {
        cat_log(CAT_LOG_DEBUG, "write marked %d view(s) stale", n);
    }
    return n;
}

void
cat_fresh_kick(void)
{
    atomic_store(&g_dirty, 1);
}

/*
 * Persist the dirty states of the current snapshot over C. Serialised by
 * g_flush_mu so that cat_fresh_flush_sync() returning means every mark made
 * before the call is in the metadata schema (the binlog follower relies on
 * it before it records its position). Returns 0, or -1 with ERR (the
 * failed view stays dirty).
 */
static int
flush_states(MYSQL *c, char *err, size_t errlen)
{
    struct cat_snapshot *snap;
    struct cat_mv *mv, *tmp;
    int rc = 0;
    snap = cat_snapshot_acquire();
    if (snap == NULL) {
        return 0;
    }
    HASH_ITER(hh, snap->mvs, mv, tmp) {
        if (!cat_fresh_persist_begin(mv)) {
            continue;
        }
        if (mv->state->parts != NULL) {
            /* partitioned: the per-partition marks too (cat_part.c) */
            if (cat_part_store_save(c, mv, err, errlen) < 0) {
                cat_fresh_persist_failed(mv, true);
                rc = -1;
                break;
            }
        }
        if (cat_store_save_stale(c, mv->id, atomic_load(&mv->state->stale_since_ms), err,
                                 errlen) < 0) {
            char tmpbuf[600];
            snprintf(tmpbuf, sizeof(tmpbuf), "persisting freshness of %s: %s", mv->key, err);
            snprintf(err, errlen, "%s", tmpbuf);
            cat_fresh_persist_failed(mv, false);
            rc = -1;
            break;
        }
    }
    cat_snapshot_release(snap);
    return rc;
}

int
cat_fresh_flush_sync(MYSQL *c, char *err, size_t errlen)
{
    int rc;
    pthread_mutex_lock(&g_flush_mu);
    atomic_store(&g_dirty, 0);
    rc = flush_states(c, err, errlen);
    pthread_mutex_unlock(&g_flush_mu);
    return rc;
}

/* Persist the dirty states over *C (connects lazily; reconnects after an error). */
static void
flush(MYSQL **c)
{
    char err[700];
    if (!atomic_exchange(&g_dirty, 0)) {
        return;
    }
    pthread_mutex_lock(&g_flush_mu);
    if (*c == NULL) {
        *c = cat_connect(err, sizeof(err));
        if (*c == NULL) {
            pthread_mutex_unlock(&g_flush_mu);
            cat_log(CAT_LOG_WARN, "persisting freshness: %s (will retry)", err);
            atomic_store(&g_dirty, 1);
            return;
        }
    }
    if (flush_states(*c, err, sizeof(err)) < 0) {
        cat_log(CAT_LOG_WARN, "%s (will retry)", err);
        mysql_close(*c);
        *c = NULL;
    }
    pthread_mutex_unlock(&g_flush_mu);
}

static void *
fresh_main(void *arg)
{
    MYSQL *c = NULL;
    (void)arg;
    pthread_mutex_lock(&g_mu);
    while (!atomic_load(&g_stop)) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 100 * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&g_cv, &g_mu, &ts);
        pthread_mutex_unlock(&g_mu);
        flush(&c);
        pthread_mutex_lock(&g_mu);
    }
    pthread_mutex_unlock(&g_mu);
    flush(&c);
    if (c != NULL) {
        mysql_close(c);
    }
    return NULL;
}

int
cat_fresh_start(char *err, size_t errlen)
{
    atomic_store(&g_stop, 0);
    if (rw_thread_create(&g_thread, fresh_main, NULL, false) != 0) {
        snprintf(err, errlen, "cannot start the catalog thread");
        return -1;
    }
    g_thread_running = true;
    return 0;
}

void
cat_fresh_stop(void)
{
    if (!g_thread_running) {
        return;
    }
    pthread_mutex_lock(&g_mu);
    atomic_store(&g_stop, 1);
    pthread_cond_signal(&g_cv);
    pthread_mutex_unlock(&g_mu);
    pthread_join(g_thread, NULL);
    g_thread_running = false;
}
