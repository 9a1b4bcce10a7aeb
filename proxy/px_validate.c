/*
 * px_validate.c - the original is prepared on the backend before a rewritten
 * query's rows reach the client (see px_validate.h). Part of the session
 * module.
 */
#include "px_validate.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uthash.h>

#include "cat.h"
#include "px_log.h"
#include "px_resp.h"
#include "px_session_internal.h"
#include "px_track.h"
#include "rw_lex.h"

#define VALIDATE_CACHE_MAX 4096u    /* texts remembered per worker thread */

/* One validated (user, db, sql_mode, text). */
struct val_entry {
    char *key;                      /* user \0 db \0 mode \0 text (owned) */
    size_t key_len;                 /* its length, bytes */
    int64_t expires_ms;             /* trusted until (unix ms) */
    uint64_t epoch;                 /* g_epoch when it was validated */
    UT_hash_handle hh;
};

/* Bumped by any session relaying DDL, GRANT, REVOKE, SET ROLE ...: every
 * worker's entries of an older epoch are void. */
static _Atomic uint64_t g_epoch = 1;

static _Thread_local struct val_entry *t_cache;

/* Build the cache key of S's current query into *KEY (malloc) and *LEN. */
static bool
make_key(const struct px_session *s, char **key, size_t *len)
{
    const char *user = s->user != NULL ? s->user : "";
    const char *db = s->db != NULL ? s->db : "";
    char mode[16];
    size_t ul = strlen(user), dl = strlen(db), ml, tl = s->query.len - 1;
    char *k;

    ml = (size_t)snprintf(mode, sizeof(mode), "%08x", px_track_sql_mode(s));
    k = malloc(ul + dl + ml + tl + 3);
    if (k == NULL) {
        return false;
    }
    memcpy(k, user, ul + 1);
    memcpy(k + ul + 1, db, dl + 1);
    memcpy(k + ul + dl + 2, mode, ml + 1);
    memcpy(k + ul + dl + ml + 3, s->query.data + 1, tl);
    *key = k;
    *len = ul + dl + ml + tl + 3;
    return true;
}

static void
entry_free(struct val_entry *e)
{
    HASH_DEL(t_cache, e);
    free(e->key);
    free(e);
}

bool
px_validate_known(const struct px_session *s)
{
    struct val_entry *e = NULL;
    char *key;
    size_t len;

    if (!make_key(s, &key, &len)) {
        return false;
    }
    HASH_FIND(hh, t_cache, key, len, e);
    free(key);
    if (e == NULL) {
        return false;
    }
    if (e->epoch != atomic_load(&g_epoch) || e->expires_ms < cat_now_ms()) {
        entry_free(e);
        return false;
    }
    /* most recently used goes last: eviction takes the head */
    HASH_DEL(t_cache, e);
    HASH_ADD_KEYPTR(hh, t_cache, e->key, e->key_len, e);
    return true;
}

/* Remember that S's current query text is valid for its user, db and mode. */
static void
remember(const struct px_session *s, uint64_t epoch)
{
    struct val_entry *e = NULL, *old = NULL;
    char *key;
    size_t len;

    if (!make_key(s, &key, &len)) {
        return;
    }
    HASH_FIND(hh, t_cache, key, len, old);
    if (old != NULL) {
        entry_free(old);
    }
    e = calloc(1, sizeof(*e));
    if (e == NULL) {
        free(key);
        return;
    }
    e->key = key;
    e->key_len = len;
    e->epoch = epoch;
    e->expires_ms = cat_now_ms() + VALIDATE_TTL_MS;
    HASH_ADD_KEYPTR(hh, t_cache, e->key, e->key_len, e);
    while (HASH_COUNT(t_cache) > VALIDATE_CACHE_MAX) {
        entry_free(t_cache);
    }
}

uint8_t
px_validate_start(struct px_session *s, const char *sql, size_t len, const struct rw_span *checks,
                  size_t n_checks)
{
    const char *orig = (const char *)s->query.data + 1;
    struct px_buf pl;
    uint8_t sent;
    size_t i, n = checks != NULL ? n_checks : 1;

    px_buf_init(&pl);
    for (i = 0; i < n && i < PX_DISPATCH_MULTI_MAX; i++) {
        pl.len = 0;
        px_buf_put_u8(&pl, PX_COM_STMT_PREPARE);
        if (checks != NULL) {
            px_buf_put(&pl, orig + checks[i].off, checks[i].len);
        } else {
            px_buf_put(&pl, orig, s->query.len - 1);
        }
        px_session_send_command(s, pl.data, pl.len);
        s->val_ids[i] = 0;
    }
    s->val_sent = (uint8_t)i;
    s->val_done = 0;
    s->val_bad = false;
    pl.len = 0;
    px_buf_put_u8(&pl, PX_COM_QUERY);
    px_buf_put(&pl, sql, len);
    sent = px_session_send_command(s, pl.data, pl.len);
    px_buf_free(&pl);
    s->val_epoch = atomic_load(&g_epoch);
    px_session_resp_begin(s, PX_COM_STMT_PREPARE, RK_PREPARE);
    s->validate = PX_VAL_PREPARE;
    return sent;
}

void
px_validate_prepare_packet(struct px_session *s, uint8_t *hdr, uint32_t len, size_t pk)
{
    if (s->validate == PX_VAL_PREPARE && s->phase == PH_FIRST && len > 4 && hdr[4] == 0x00 &&
        pk >= 5 && s->val_done < s->val_sent) {
        s->val_ids[s->val_done] = px_mysql_u32(hdr + 5);
    }
    if (px_resp_step(s, len, hdr + 4, pk)) {
        s->bk_after = s->validate == PX_VAL_PREPARE ? AFTER_VALIDATED : AFTER_RUN_ORIGINAL;
    }
}

void
px_validate_prepared(struct px_session *s)
{
    struct px_buf pl;
    uint8_t i;

    if (!s->resp_ok) {
        s->val_bad = true;
        s->val_ids[s->val_done] = 0;
    }
    if (++s->val_done < s->val_sent) {
        /* the next statement's PREPARE answers next (a multi-statement packet) */
        px_session_resp_begin(s, PX_COM_STMT_PREPARE, RK_PREPARE);
        return;
    }
    px_buf_init(&pl);
    for (i = 0; i < s->val_sent; i++) {
        if (s->val_ids[i] != 0) {
            pl.len = 0;
            px_buf_put_u8(&pl, PX_COM_STMT_CLOSE);
            px_buf_put_u32(&pl, s->val_ids[i]);
            px_session_send_command(s, pl.data, pl.len); /* no answer */
        }
    }
    px_buf_free(&pl);
    if (!s->val_bad) {
        remember(s, s->val_epoch);
        px_session_resp_begin(s, PX_COM_QUERY, RK_RESULTSET);
        s->seq_delta = s->val_seq_delta;
        s->rewrite_check = true;
        s->validate = PX_VAL_NONE;
        return;
    }
    /* The original is not valid as it stands: its own answer is the one to give. */
    px_dispatch_uncount(&s->rewrite_views);
    px_log_debug("S-%llu: the backend rejects the original; not rewritten",
                 (unsigned long long)s->id);
    px_session_resp_begin(s, PX_COM_QUERY, RK_RESULTSET);
    s->rewrite_check = false;
    s->validate = PX_VAL_DISCARD;
}

void
px_validate_run_original(struct px_session *s)
{
    s->validate = PX_VAL_NONE;
    px_session_send_original(s);
}

/* Statements after which what a query may name or read can differ. */
static const char *const SCHEMA_WORDS[] = {
    "ALTER", "DROP", "RENAME", "CREATE", "GRANT", "REVOKE", "LOCK", "UNLOCK",
    "FLUSH", "CALL", "EXECUTE", "INSTALL", "UNINSTALL", "IMPORT", NULL,
};

/* Does the statement whose first word is T (lexed by LX) change names or privileges? */
static bool
changes_schema(struct rw_lexer *lx, struct rw_tok t)
{
    size_t i;

    if (t.kind != RW_TOK_IDENT) {
        return false;
    }
    for (i = 0; SCHEMA_WORDS[i] != NULL; i++) {
        if (rw_tok_is(lx, t, SCHEMA_WORDS[i])) {
            return true;
        }
    }
    if (rw_tok_is(lx, t, "SET")) {
        t = rw_lex_next(lx);
        return rw_tok_is(lx, t, "ROLE") || rw_tok_is(lx, t, "DEFAULT") ||
               rw_tok_is(lx, t, "PASSWORD");
    }
    return false;
}

void
px_validate_note_query(const char *sql, size_t len)
{
    struct rw_lexer lx;
    struct rw_tok t;
    bool start = true;
    bool multi = memchr(sql, ';', len) != NULL;

    /* the first word of each statement: of a multi-statement packet all are
     * read, of anything else only the first */
    rw_lex_init(&lx, sql, len);
    for (t = rw_lex_next(&lx); t.kind != RW_TOK_EOF; t = rw_lex_next(&lx)) {
        if (t.kind == RW_TOK_HINT) {
            continue;
        }
        if (rw_tok_is_op(&lx, t, ";")) {
            start = true;
            continue;
        }
        if (start && changes_schema(&lx, t)) {
            atomic_fetch_add(&g_epoch, 1);
            return;
        }
        start = false;
        if (!multi) {
            return;
        }
    }
}

void
px_validate_thread_free(void)
{
    struct val_entry *e, *tmp;

    HASH_ITER(hh, t_cache, e, tmp) {
        entry_free(e);
    }
}
