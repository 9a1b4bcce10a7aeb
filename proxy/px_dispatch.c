/*
 * px_dispatch.c - decides, for each COM_QUERY, whether the proxy relays it,
 * rewrites it onto a materialized view, answers it itself, or hands it to
 * an admin thread (see the diagram in px_dispatch.h).
 *
 * The query path reads the catalog through a per-thread snapshot
 * reference, re-acquired only when cat_version() moves, so it takes no
 * global lock (catalog/cat.h).
 */
#include "px_dispatch.h"

#include <ctype.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cat_engine.h"
#include "cat_admin.h"
#include "rw.h"
#include "rw_lex.h"
#include "rw_limits.h"

/* Per-thread snapshot cache; released by the key destructor at thread exit. */
static _Thread_local struct cat_snapshot *tl_snap;
static _Thread_local uint64_t tl_version;
static pthread_key_t g_snap_key;
static pthread_once_t g_snap_once = PTHREAD_ONCE_INIT;
static _Atomic uint64_t g_rewrite_failures;

static void
snap_key_destroy(void *p)
{
    cat_snapshot_release(p);
}

static void
snap_key_init(void)
{
    (void)pthread_key_create(&g_snap_key, snap_key_destroy);
}

/* The calling thread's current catalog snapshot (borrowed; may be NULL
 * before cat_init). Takes the catalog's lock only when the version moved. */
static struct cat_snapshot *
thread_snapshot(void)
{
    uint64_t v = cat_version();
    if (tl_snap == NULL || v != tl_version) {
        pthread_once(&g_snap_once, snap_key_init);
        cat_snapshot_release(tl_snap);
        tl_snap = cat_snapshot_acquire();
        tl_version = tl_snap != NULL ? tl_snap->version : 0;
        pthread_setspecific(g_snap_key, tl_snap);
    }
    return tl_snap;
}

static bool
snapshot_has_views(const struct cat_snapshot *snap)
{
    return snap != NULL && snap->mvs != NULL;
}

/*
 * Recognise `SET [SESSION|@@session.|@@] enable_materialized_view_rewrite =
 * {ON|OFF|TRUE|FALSE|1|0}` and the reserved `materialized_view_rewrite_explain`.
 * Returns true when SQL is one of them; fills OUT with the reply.
 */
static bool
handle_session_set(const char *sql, size_t len, struct px_dispatch_out *out)
{
    struct rw_lexer lx;
    struct rw_tok t;
    char *name = NULL, *val = NULL;
    bool handled = false;

    rw_lex_init(&lx, sql, len);
    t = rw_lex_next(&lx);
    if (!rw_tok_is(&lx, t, "SET")) {
        return false;
    }
    t = rw_lex_next(&lx);
    if (rw_tok_is(&lx, t, "SESSION") || rw_tok_is(&lx, t, "LOCAL")) {
        t = rw_lex_next(&lx);
    }
    if (t.kind == RW_TOK_VAR) {
        /* @@session.enable_materialized_view_rewrite or @@enable_... */
        size_t skip = 2;
        const char *p = sql + t.off;
        if (t.len > 10 && strncasecmp(p, "@@session.", 10) == 0) {
            skip = 10;
        } else if (t.len < 3 || p[1] != '@') {
            return false;
        }
        name = strndup(p + skip, t.len - skip);
    } else if (t.kind == RW_TOK_IDENT || t.kind == RW_TOK_QIDENT) {
        name = rw_tok_text(&lx, t);
    }
    if (name == NULL) {
        return false;
    }
    if (strcasecmp(name, "enable_materialized_view_rewrite") == 0) {
        t = rw_lex_next(&lx);
        if (rw_tok_is_op(&lx, t, "=") || rw_tok_is_op(&lx, t, ":=")) {
            t = rw_lex_next(&lx);
        }
        val = rw_tok_text(&lx, t);
        if (val != NULL && rw_lex_next(&lx).kind == RW_TOK_EOF) {
            if (strcasecmp(val, "ON") == 0 || strcasecmp(val, "TRUE") == 0 ||
                strcmp(val, "1") == 0) {
                out->set_rewrite = true;
                out->rewrite_enabled = true;
                handled = true;
            } else if (strcasecmp(val, "OFF") == 0 || strcasecmp(val, "FALSE") == 0 ||
                       strcmp(val, "0") == 0) {
                out->set_rewrite = true;
                out->rewrite_enabled = false;
                handled = true;
            }
        }
        out->kind = PX_DISPATCH_REPLY;
        if (handled) {
            mvp_reply_ok(&out->reply, 0, NULL);
        } else {
            mvp_reply_err(&out->reply, 1231, "42000",
                          "Variable 'enable_materialized_view_rewrite' can't be set to the value "
                          "of '%s' (use ON or OFF)", val ? val : "");
        }
        handled = true;
    } else if (strcasecmp(name, "materialized_view_rewrite_explain") == 0) {
        /* Reserved by SPEC §3: accepted, no effect yet. */
        out->kind = PX_DISPATCH_REPLY;
        mvp_reply_ok(&out->reply, 0, NULL);
        handled = true;
    }
    free(name);
    free(val);
    return handled;
}

/* Leading keyword class of a statement. */
enum stmt_class { STMT_OTHER, STMT_SELECT, STMT_EXPLAIN, STMT_WRITE };

static enum stmt_class
classify(const char *sql, size_t len, size_t *body_off)
{
    struct rw_lexer lx;
    struct rw_tok t;
    rw_lex_init(&lx, sql, len);
    t = rw_lex_next(&lx);
    while (t.kind == RW_TOK_HINT) {
        t = rw_lex_next(&lx);
    }
    *body_off = t.off;
    if (rw_tok_is(&lx, t, "SELECT") || rw_tok_is(&lx, t, "WITH") ||
        rw_tok_is_op(&lx, t, "(")) {
        return STMT_SELECT;
    }
    if (rw_tok_is(&lx, t, "EXPLAIN") || rw_tok_is(&lx, t, "DESCRIBE") ||
        rw_tok_is(&lx, t, "DESC")) {
        /* EXPLAIN [EXTENDED|PARTITIONS|FORMAT=JSON] SELECT ...: the body is
         * rewritten so the plan shows what really runs (SPEC §8). */
        for (;;) {
            t = rw_lex_next(&lx);
            if (rw_tok_is(&lx, t, "EXTENDED") || rw_tok_is(&lx, t, "PARTITIONS")) {
                continue;
            }
            if (rw_tok_is(&lx, t, "FORMAT")) {
                t = rw_lex_next(&lx);          /* = */
                t = rw_lex_next(&lx);          /* JSON */
                continue;
            }
            break;
        }
        if (rw_tok_is(&lx, t, "SELECT") || rw_tok_is(&lx, t, "WITH")) {
            *body_off = t.off;
            return STMT_EXPLAIN;
        }
        return STMT_OTHER;
    }
    if (rw_tok_is(&lx, t, "INSERT") || rw_tok_is(&lx, t, "REPLACE") ||
        rw_tok_is(&lx, t, "UPDATE") || rw_tok_is(&lx, t, "DELETE") ||
        rw_tok_is(&lx, t, "TRUNCATE") || rw_tok_is(&lx, t, "LOAD") ||
        rw_tok_is(&lx, t, "ALTER") || rw_tok_is(&lx, t, "DROP") ||
        rw_tok_is(&lx, t, "RENAME")) {
        return STMT_WRITE;
    }
    return STMT_OTHER;
}

/* INSERT/REPLACE ... SELECT: the SELECT body is a rewrite candidate (SPEC §7). */
static bool
is_insert_select(const char *sql, size_t len)
{
    struct rw_lexer lx;
    struct rw_tok t;
    rw_lex_init(&lx, sql, len);
    t = rw_lex_next(&lx);
    if (!rw_tok_is(&lx, t, "INSERT") && !rw_tok_is(&lx, t, "REPLACE")) {
        return false;
    }
    for (t = rw_lex_next(&lx); t.kind != RW_TOK_EOF; t = rw_lex_next(&lx)) {
        if (rw_tok_is(&lx, t, "SELECT")) {
            return true;
        }
        if (rw_tok_is(&lx, t, "VALUES") || rw_tok_is(&lx, t, "VALUE") ||
            rw_tok_is(&lx, t, "SET")) {
            return false;
        }
    }
    return false;
}

/* Count a hit on every view the outcome chose (SHOW MATERIALIZED VIEWS). */
static void
count_hits(const struct rw_outcome *o, int64_t now)
{
    size_t i;
    for (i = 0; i < o->n_cand; i++) {
        struct cat_mv *mv = o->cand[i].mv;
        if (o->cand[i].status == RW_CAND_CHOSEN && mv != NULL && mv->state != NULL) {
            atomic_fetch_add(&mv->state->hits, 1);
            atomic_store(&mv->state->last_hit_ms, now);
        }
    }
}

/* Is "DB.NAME" (NAME: LEN bytes, unquoted) a table some view reads? */
static bool
table_has_views(const struct cat_snapshot *snap, const char *db, size_t dblen, const char *name,
                size_t len)
{
    char key[512];
    size_t i, n;
    struct cat_table_index *ix = NULL;
    if (db == NULL || dblen + len + 2 > sizeof(key)) {
        return false;
    }
    n = 0;
    for (i = 0; i < dblen; i++) {
        key[n++] = (char)tolower((unsigned char)db[i]);
    }
    key[n++] = '.';
    for (i = 0; i < len; i++) {
        key[n++] = (char)tolower((unsigned char)name[i]);
    }
    key[n] = '\0';
    HASH_FIND_STR(snap->by_table, key, ix);
    return ix != NULL;
}

/*
 * Cheap pre-filter before parsing: does the statement name, as a bare or
 * qualified identifier, any table that some view reads? A statement that
 * names none cannot be answered from a view, so the parse (~10-200 us) is
 * skipped. Over-approximate by design: any identifier counts (a column with
 * a table's name only costs a parse); a miss would only lose a rewrite.
 */
static bool
names_a_view_table(const struct cat_snapshot *snap, const char *db, const char *sql, size_t len)
{
    struct rw_lexer lx;
    struct rw_tok t, prev = {RW_TOK_EOF, 0, 0}, prev2 = {RW_TOK_EOF, 0, 0};
    rw_lex_init(&lx, sql, len);
    for (t = rw_lex_next(&lx); t.kind != RW_TOK_EOF; t = rw_lex_next(&lx)) {
        if (t.kind == RW_TOK_IDENT || t.kind == RW_TOK_QIDENT) {
            const char *p = sql + t.off;
            size_t n = t.len;
            if (t.kind == RW_TOK_QIDENT) {
                if (n < 2 || memchr(p + 1, '`', n - 2) != NULL) {
                    return true; /* doubled backticks: let the parser decide */
                }
                p++;
                n -= 2;
            }
            if (db != NULL && table_has_views(snap, db, strlen(db), p, n)) {
                return true;
            }
            if (rw_tok_is_op(&lx, prev, ".") &&
                (prev2.kind == RW_TOK_IDENT || prev2.kind == RW_TOK_QIDENT)) {
                const char *q = sql + prev2.off;
                size_t qn = prev2.len;
                if (prev2.kind == RW_TOK_QIDENT && qn >= 2) {
                    q++;
                    qn -= 2;
                }
                if (table_has_views(snap, q, qn, p, n)) {
                    return true;
                }
            }
        }
        prev2 = prev;
        prev = t;
    }
    return false;
}

/*
 * Try to rewrite the SELECT that starts at BODY_OFF of SQL; on success the
 * text before BODY_OFF (EXPLAIN prefix, leading comments) is kept.
 */
static void
try_rewrite(const struct px_session_info *si, const char *sql, size_t len, size_t body_off,
            struct px_dispatch_out *out)
{
    struct cat_snapshot *snap = thread_snapshot();
    struct rw_options opt;
    struct rw_outcome o;

    /* the size budget first: even the view-name pre-filter lexes the whole
     * text, and this runs on the worker's event loop (issue 9 item 4) */
    if (!snapshot_has_views(snap) || !si->rewrite_enabled || rw_limits_too_big(len - body_off) ||
        !names_a_view_table(snap, si->db, sql + body_off, len - body_off)) {
        return;
    }
    memset(&opt, 0, sizeof(opt));
    memset(&o, 0, sizeof(o));
    opt.enabled = si->rewrite_enabled;
    opt.explain = false;
    opt.now_ms = cat_now_ms();
    if (rw_rewrite(sql + body_off, len - body_off, si->db, snap, &opt, &o) == 0 && o.rewritten &&
        o.sql != NULL) {
        char *text = malloc(body_off + o.sql_len + 1);
        if (text != NULL) {
            memcpy(text, sql, body_off);
            memcpy(text + body_off, o.sql, o.sql_len);
            text[body_off + o.sql_len] = '\0';
            out->kind = PX_DISPATCH_REWRITE;
            out->sql = text;
            out->sql_len = body_off + o.sql_len;
            count_hits(&o, opt.now_ms);
        }
    }
    rw_outcome_free(&o);
}

void
px_dispatch_query(const struct px_session_info *si, const char *sql, size_t len,
                  struct px_dispatch_out *out)
{
    struct cat_admin_job *job = NULL;
    size_t body_off = 0;
    enum stmt_class cls;

    out->kind = PX_DISPATCH_RELAY;
    if (handle_session_set(sql, len, out)) {
        return;
    }
    mvp_reply_init(&out->reply);
    if (cat_admin_recognise(sql, len, si->db, &job, &out->reply)) {
        if (job != NULL) {
            cat_admin_job_set_rewrite(job, si->rewrite_enabled);
            out->kind = PX_DISPATCH_ADMIN;
            out->admin = job;
        } else {
            out->kind = PX_DISPATCH_REPLY;
        }
        return;
    }
    cls = classify(sql, len, &body_off);
    switch (cls) {
    case STMT_SELECT:
        try_rewrite(si, sql, len, 0, out);
        break;
    case STMT_EXPLAIN:
        try_rewrite(si, sql, len, body_off, out);
        break;
    case STMT_WRITE:
        /* Mark first: an INSERT ... SELECT that reads a table it also writes
         * must not be answered from a view it just made stale. */
        (void)cat_note_write(sql, len, si->db, cat_now_ms());
        if (is_insert_select(sql, len)) {
            try_rewrite(si, sql, len, 0, out);
        }
        break;
    case STMT_OTHER:
        break;
    }
}

void
px_dispatch_out_clear(struct px_dispatch_out *out)
{
    free(out->sql);
    mvp_reply_clear(&out->reply);
    cat_admin_job_free(out->admin);
    memset(out, 0, sizeof(*out));
}

void
px_dispatch_admin_run(void *admin, const struct px_session_info *si, px_exec_fn exec,
                      void *exec_ctx, struct mvp_reply *reply)
{
    cat_admin_run(admin, si->user, si->db, exec, exec_ctx, reply);
}

void
px_dispatch_note_rewrite_failed(const struct px_session_info *si)
{
    (void)si;
    atomic_fetch_add(&g_rewrite_failures, 1);
}

uint64_t
px_dispatch_rewrite_failures(void)
{
    return atomic_load(&g_rewrite_failures);
}
