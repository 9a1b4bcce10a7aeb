/*
 * rw_cache.c - per-thread LRU of rewrite decisions (rw_cache.h).
 *
 * Each worker thread owns its cache (_Thread_local), so the query path
 * takes no lock. Entries live in a uthash table whose application order is
 * the recency order: a hit deletes and re-adds the entry (moves it to the
 * tail) and eviction takes the head (the uthash LRU idiom). The key is the
 * bytes  snapshot-pointer | version | enabled | sql_mode | db '\0' | text,
 * so the same text read under another sql_mode never shares a decision, a new
 * catalog version (or another snapshot object) never matches an old entry
 * and old entries age out. View pointers kept in an entry are dereferenced
 * only on a key match, i.e. while the same snapshot is held by the caller.
 *
 * A thread's entries are freed at thread exit (pthread key destructor) or
 * by rw_cache_flush().
 */
#include "rw_cache.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <uthash.h>

#include "cat.h"
#include "rw_util.h"

#define RW_CACHE_MAX_TEXT (64 * 1024)   /* longer statements are not cached */
#define RW_CACHE_DEFAULT_CAP 4096       /* entries per thread */

/* One cached decision. */
struct centry {
    char *key;                  /* key bytes (owned) */
    size_t key_len;             /* their length */
    bool rewritten;             /* decision */
    char *sql;                  /* rewritten statement or NULL (owned) */
    size_t sql_len;             /* its length */
    char *reason;               /* summary reason (owned) */
    size_t n_chosen;            /* chosen views */
    struct cat_mv **chosen;     /* borrowed from the snapshot of the key */
    size_t n_unusable;          /* views rejected as stale */
    struct cat_mv **unusable;   /* borrowed from the snapshot of the key */
    UT_hash_handle hh;          /* table, in recency order */
};

/* This thread's cache. */
struct tcache {
    struct centry *table;       /* uthash head */
    size_t cap;                 /* capacity in entries */
    struct rw_cache_stats st;   /* counters */
};

static _Thread_local struct tcache *tl_cache;
static pthread_key_t cache_key;
static pthread_once_t cache_once = PTHREAD_ONCE_INIT;
static _Atomic size_t default_cap = RW_CACHE_DEFAULT_CAP;

/* Free one entry. */
static void
entry_free(struct centry *e)
{
    free(e->key);
    free(e->sql);
    free(e->reason);
    free(e->chosen);
    free(e->unusable);
    free(e);
}

/* Free every entry of C (C stays usable). */
static void
cache_clear(struct tcache *c)
{
    struct centry *e, *tmp;
    HASH_ITER(hh, c->table, e, tmp) {
        HASH_DEL(c->table, e);
        entry_free(e);
    }
}

/* Thread-exit destructor. */
static void
cache_destroy(void *p)
{
    struct tcache *c = p;
    if (c != NULL) {
        cache_clear(c);
        free(c);
    }
}

static void
cache_key_init(void)
{
    (void)pthread_key_create(&cache_key, cache_destroy);
}

/* This thread's cache, created on first use; NULL on OOM. */
static struct tcache *
cache_get(void)
{
    if (tl_cache == NULL) {
        (void)pthread_once(&cache_once, cache_key_init);
        tl_cache = calloc(1, sizeof(*tl_cache));
        if (tl_cache == NULL) {
            return NULL;
        }
        tl_cache->cap = atomic_load(&default_cap);
        (void)pthread_setspecific(cache_key, tl_cache);
    }
    return tl_cache;
}

/* Build the key bytes into a new buffer; NULL on OOM or when too long. */
static char *
make_key(const char *sql, size_t len, const char *db, const struct cat_snapshot *snap,
         bool enabled, uint32_t mode, size_t *klen)
{
    size_t dlen = db != NULL ? strlen(db) : 0, n;
    uintptr_t sp = (uintptr_t)snap;
    uint64_t ver = snap != NULL ? snap->version : 0;
    char *k, *p;
    if (len > RW_CACHE_MAX_TEXT) {
        return NULL;
    }
    n = sizeof(sp) + sizeof(ver) + 1 + sizeof(mode) + dlen + 1 + len;
    k = malloc(n);
    if (k == NULL) {
        return NULL;
    }
    p = k;
    memcpy(p, &sp, sizeof(sp));
    p += sizeof(sp);
    memcpy(p, &ver, sizeof(ver));
    p += sizeof(ver);
    *p++ = enabled ? 1 : 0;
    memcpy(p, &mode, sizeof(mode));
    p += sizeof(mode);
    if (dlen > 0) {
        memcpy(p, db, dlen);
    }
    p += dlen;
    *p++ = db != NULL ? '\0' : '\1'; /* NULL db differs from "" */
    memcpy(p, sql, len);
    *klen = n;
    return k;
}

/* Is the cached decision E still what full matching would decide at NOW_MS? */
static bool
still_fresh(const struct centry *e, int64_t now_ms)
{
    char why[256];
    size_t i;
    for (i = 0; i < e->n_chosen; i++) {
        if (!cat_mv_usable(e->chosen[i], now_ms, why, sizeof(why))) {
            return false;
        }
    }
    for (i = 0; i < e->n_unusable; i++) {
        if (cat_mv_usable(e->unusable[i], now_ms, why, sizeof(why))) {
            return false;
        }
    }
    return true;
}

bool
rw_cache_lookup(const char *sql, size_t len, const char *db, const struct cat_snapshot *snap,
                const struct rw_options *opt, struct rw_outcome *out)
{
    struct tcache *c = cache_get();
    struct centry *e = NULL;
    size_t klen = 0, i;
    char *key;
    if (c == NULL || c->cap == 0) {
        return false;
    }
    key = make_key(sql, len, db, snap, opt->enabled, opt->sql_mode, &klen);
    if (key == NULL) {
        return false;
    }
    HASH_FIND(hh, c->table, key, klen, e);
    free(key);
    if (e == NULL) {
        c->st.misses++;
        return false;
    }
    if (!still_fresh(e, opt->now_ms)) {
        HASH_DEL(c->table, e);
        entry_free(e);
        c->st.stale++;
        c->st.misses++;
        return false;
    }
    /* move to the tail: most recently used */
    HASH_DEL(c->table, e);
    HASH_ADD_KEYPTR(hh, c->table, e->key, e->key_len, e);
    memset(out, 0, sizeof(*out));
    out->rewritten = e->rewritten;
    out->reason = rw_strdup(e->reason);
    if (e->sql != NULL) {
        out->sql = rw_strndup(e->sql, e->sql_len);
        out->sql_len = e->sql_len;
    }
    if (e->n_chosen > 0) {
        out->cand = calloc(e->n_chosen, sizeof(*out->cand));
    }
    if (out->reason == NULL || (e->sql != NULL && out->sql == NULL) ||
        (e->n_chosen > 0 && out->cand == NULL)) {
        rw_outcome_free(out);
        return false;
    }
    for (i = 0; i < e->n_chosen; i++) {
        struct rw_candidate *cd = &out->cand[out->n_cand++];
        struct cat_mv *mv = e->chosen[i];
        cd->mv = mv;
        cd->mv_name = rw_sprintf("%s.%s", mv->db, mv->name);
        cd->status = RW_CAND_CHOSEN;
        cd->reason = rw_strdup("");
        cd->stale_partitions = rw_strdup("");
        cd->est_rows = mv->state != NULL ? atomic_load(&mv->state->rows) : -1;
        if (cd->mv_name == NULL || cd->reason == NULL || cd->stale_partitions == NULL) {
            rw_outcome_free(out);
            return false;
        }
    }
    c->st.hits++;
    return true;
}

void
rw_cache_store(const char *sql, size_t len, const char *db, const struct cat_snapshot *snap,
               const struct rw_options *opt, const struct rw_outcome *out,
               struct cat_mv *const *unusable, size_t n_un)
{
    struct tcache *c = cache_get();
    struct centry *e, *old = NULL;
    size_t i, n_ch = 0;
    if (c == NULL || c->cap == 0) {
        return;
    }
    e = calloc(1, sizeof(*e));
    if (e == NULL) {
        return;
    }
    e->key = make_key(sql, len, db, snap, opt->enabled, opt->sql_mode, &e->key_len);
    e->rewritten = out->rewritten;
    e->reason = rw_strdup(out->reason != NULL ? out->reason : "");
    if (out->sql != NULL) {
        e->sql = rw_strndup(out->sql, out->sql_len);
        e->sql_len = out->sql_len;
    }
    for (i = 0; i < out->n_cand; i++) {
        n_ch += out->cand[i].status == RW_CAND_CHOSEN;
    }
    e->chosen = calloc(n_ch ? n_ch : 1, sizeof(*e->chosen));
    e->unusable = calloc(n_un ? n_un : 1, sizeof(*e->unusable));
    if (e->key == NULL || e->reason == NULL || (out->sql != NULL && e->sql == NULL) ||
        e->chosen == NULL || e->unusable == NULL) {
        entry_free(e);
        return;
    }
    for (i = 0; i < out->n_cand; i++) {
        if (out->cand[i].status == RW_CAND_CHOSEN) {
            e->chosen[e->n_chosen++] = out->cand[i].mv;
        }
    }
    for (i = 0; i < n_un; i++) {
        e->unusable[e->n_unusable++] = unusable[i];
    }
    HASH_FIND(hh, c->table, e->key, e->key_len, old);
    if (old != NULL) {
        HASH_DEL(c->table, old);
        entry_free(old);
    }
    HASH_ADD_KEYPTR(hh, c->table, e->key, e->key_len, e);
    while (HASH_COUNT(c->table) > c->cap) {
        struct centry *lru = c->table; /* head = least recently used */
        HASH_DEL(c->table, lru);
        entry_free(lru);
        c->st.evictions++;
    }
}

void
rw_cache_flush(void)
{
    if (tl_cache != NULL) {
        cache_clear(tl_cache);
    }
}

void
rw_cache_get_stats(struct rw_cache_stats *st)
{
    struct tcache *c = cache_get();
    memset(st, 0, sizeof(*st));
    if (c != NULL) {
        *st = c->st;
        st->entries = HASH_COUNT(c->table);
    }
}

void
rw_cache_set_capacity(size_t n)
{
    struct tcache *c;
    atomic_store(&default_cap, n);
    c = cache_get();
    if (c == NULL) {
        return;
    }
    c->cap = n;
    while (HASH_COUNT(c->table) > c->cap) {
        struct centry *lru = c->table;
        HASH_DEL(c->table, lru);
        entry_free(lru);
        c->st.evictions++;
    }
}
