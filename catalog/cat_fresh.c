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
 * Conservative by design: every identifier of a write statement is looked
 * up as a table, so a column that shares a table's name over-marks (safe);
 * under-marking would be a bug. Views over views are in by_table under the
 * base tables they read transitively, and under the inner views' storage
 * tables, so a write to raw_sales marks DWD, DWS and ADS.
 */
#include "cat_internal.h"

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

/* Views already marked by the current statement (distinct count). */
struct marked {
    struct cat_mv **v;              /* marked views */
    size_t n;                       /* count */
};

static void
mark(struct marked *m, struct cat_mv *mv, int64_t now_ms)
{
    int64_t zero = 0;
    size_t i;
    for (i = 0; i < m->n; i++) {
        if (m->v[i] == mv) {
            return;
        }
    }
    m->v = realloc(m->v, (m->n + 1) * sizeof(*m->v));
    if (m->v == NULL) {
        abort();
    }
    m->v[m->n++] = mv;
    atomic_compare_exchange_strong(&mv->state->stale_since_ms, &zero, now_ms);
    atomic_fetch_add(&mv->state->change_seq, 1);
    atomic_store(&mv->state->dirty, 1);
    atomic_store(&g_dirty, 1);
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

/* Mark the views over table KEY ("db.table", lower case). */
static void
mark_table(const struct cat_snapshot *snap, const char *key, struct marked *m, int64_t now_ms)
{
    struct cat_table_index *ix = NULL;
    struct cat_mv *self = NULL;
    size_t i;
    HASH_FIND_STR(snap->by_table, key, ix);
    if (ix != NULL) {
        for (i = 0; i < ix->n; i++) {
            if (!excluded(ix->mvs[i], key)) {
                mark(m, ix->mvs[i], now_ms);
            }
        }
    }
    /* A user writing into a view's own storage table: its rows no longer
     * match its definition either. */
    HASH_FIND_STR(snap->mvs, key, self);
    if (self != NULL) {
        mark(m, self, now_ms);
    }
}

/* Mark for unqualified NAME when the session has no database: any db. */
static void
mark_any_db(const struct cat_snapshot *snap, const char *name, struct marked *m, int64_t now_ms)
{
    struct cat_table_index *ix, *tmp;
    struct cat_mv *mv, *mtmp;
    size_t nl = strlen(name);
    HASH_ITER(hh, snap->by_table, ix, tmp) {
        size_t kl = strlen(ix->key);
        if (kl > nl && ix->key[kl - nl - 1] == '.' && strcmp(ix->key + kl - nl, name) == 0) {
            mark_table(snap, ix->key, m, now_ms);
        }
    }
    HASH_ITER(hh, snap->mvs, mv, mtmp) {
        if (cat_streq_ci(mv->name, name)) {
            mark(m, mv, now_ms);
        }
    }
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

int
cat_mark_writes(const struct cat_snapshot *snap, const char *sql, size_t len, const char *db,
                int64_t now_ms)
{
    struct rw_lexer lx;
    struct rw_tok t;
    struct marked m = {0};
    bool in_write = false, at_start = true;
    size_t n;
    struct rw_tok prev = {RW_TOK_EOF, 0, 0};

    if (snap == NULL || snap->mvs == NULL) {
        return 0;
    }
    rw_lex_init(&lx, sql, len);
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
            char key[512];
            if (rw_tok_is_op(&lx, prev, ".")) {
                lx = save;
                prev = t;
                continue;
            }
            if (rw_tok_is_op(&lx, dot, ".")) {
                struct rw_tok second = rw_lex_next(&lx);
                if (is_name(second)) {
                    char *a = name_text(&lx, t), *b = name_text(&lx, second);
                    cat_make_key(key, sizeof(key), a, b);
                    mark_table(snap, key, &m, now_ms);
                    free(a);
                    free(b);
                    prev = second;
                    continue;
                }
                lx = save;
            } else {
                lx = save;
            }
            {
                char *a = name_text(&lx, t);
                if (db != NULL && *db != '\0') {
                    cat_make_key(key, sizeof(key), db, a);
                    mark_table(snap, key, &m, now_ms);
                } else {
                    mark_any_db(snap, a, &m, now_ms);
                }
                free(a);
            }
            prev = t;
        }
    }
    n = m.n;
    free(m.v);
    return (int)n;
}

int
cat_note_write(const char *sql, size_t len, const char *db, int64_t now_ms)
{
    struct rw_lexer lx;
    struct rw_tok t;
    struct cat_snapshot *snap;
    int n;
    /* Cheap exit for the common case: a single read statement. */
    rw_lex_init(&lx, sql, len);
    do {
        t = rw_lex_next(&lx);
    } while (t.kind == RW_TOK_HINT);
    if (t.kind == RW_TOK_EOF ||
        (!is_write_word(&lx, t) && memchr(sql, ';', len) == NULL)) {
        return 0;
    }
    snap = cat_snapshot_acquire();
    n = cat_mark_writes(snap, sql, len, db, now_ms);
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

/* Persist the dirty states of the current snapshot over *C (connects lazily). */
static void
flush(MYSQL **c)
{
    struct cat_snapshot *snap;
    struct cat_mv *mv, *tmp;
    char err[512];
    if (!atomic_exchange(&g_dirty, 0)) {
        return;
    }
    if (*c == NULL) {
        *c = cat_connect(err, sizeof(err));
        if (*c == NULL) {
            cat_log(CAT_LOG_WARN, "persisting freshness: %s (will retry)", err);
            atomic_store(&g_dirty, 1);
            return;
        }
    }
    snap = cat_snapshot_acquire();
    if (snap == NULL) {
        return;
    }
    HASH_ITER(hh, snap->mvs, mv, tmp) {
        if (!atomic_exchange(&mv->state->dirty, 0)) {
            continue;
        }
        if (cat_store_save_stale(*c, mv->id, atomic_load(&mv->state->stale_since_ms), err,
                                 sizeof(err)) < 0) {
            cat_log(CAT_LOG_WARN, "persisting freshness of %s: %s (will retry)", mv->key, err);
            atomic_store(&mv->state->dirty, 1);
            atomic_store(&g_dirty, 1);
            mysql_close(*c);
            *c = NULL;
            break;
        }
    }
    cat_snapshot_release(snap);
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
    if (pthread_create(&g_thread, NULL, fresh_main, NULL) != 0) {
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
