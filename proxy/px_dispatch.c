/*
 * px_dispatch.c - decides, for each COM_QUERY, whether the proxy relays it,
 * rewrites it onto a materialized view, answers it itself, or hands it to
 * an admin thread (see the diagram in px_dispatch.h).
 *
 * Each statement is lexed once (px_stmt.h); every step reads its tokens.
 *
 * The query path reads the catalog through a per-thread snapshot
 * reference, re-acquired only when cat_version() moves, so it takes no
 * global lock (catalog/cat.h).
 */
#include "px_dispatch.h"

#include <ctype.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cat_engine.h"
#include "cat_admin.h"
#include "rw.h"
#include "rw_lex.h"
#include "rw_limits.h"
#include "px_log.h"
#include "px_stmt.h"

/* Per-thread snapshot cache; released by the key destructor at thread exit. */
static _Thread_local struct cat_snapshot *tl_snap;
static _Thread_local uint64_t tl_version;
static pthread_key_t g_snap_key;
static pthread_once_t g_snap_once = PTHREAD_ONCE_INIT;

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
 * Answer `SET [SESSION|@@session.|@@] enable_materialized_view_rewrite =
 * {ON|OFF|TRUE|FALSE|1|0}` and the reserved `materialized_view_rewrite_explain`
 * (ST is a PX_STMT_SESSION_SET): fills OUT with the reply.
 */
static void
handle_session_set(struct px_stmt *st, struct px_dispatch_out *out)
{
    struct rw_tok t;
    size_t i = st->set_arg;
    char *val = NULL;
    bool handled = false;

    out->kind = PX_DISPATCH_REPLY;
    mvp_reply_init(&out->reply);
    if (st->set_var == PX_SET_REWRITE_EXPLAIN) {
        /* Reserved by SPEC §3: accepted, no effect yet. */
        mvp_reply_ok(&out->reply, 0, NULL);
        return;
    }
    t = px_stmt_tok(st, i++);
    if (rw_tok_is_op(&st->lx, t, "=") || rw_tok_is_op(&st->lx, t, ":=")) {
        t = px_stmt_tok(st, i++);
    }
    val = rw_tok_text(&st->lx, t);
    if (val != NULL && px_stmt_tok(st, i).kind == RW_TOK_EOF) {
        if (strcasecmp(val, "ON") == 0 || strcasecmp(val, "TRUE") == 0 || strcmp(val, "1") == 0) {
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
    if (handled) {
        mvp_reply_ok(&out->reply, 0, NULL);
    } else {
        mvp_reply_err(&out->reply, 1231, "42000",
                      "Variable 'enable_materialized_view_rewrite' can't be set to the value "
                      "of '%s' (use ON or OFF)", val ? val : "");
    }
    free(val);
}

/*
 * Count a hit on every view the outcome chose (SHOW MATERIALIZED VIEWS) and
 * list them in VIEWS, holding a reference to SNAP (where they live) so the
 * session can still name and count them when the backend rejects the
 * rewritten query.
 */
static void
count_hits(const struct rw_outcome *o, int64_t now, struct cat_snapshot *snap,
           struct px_rewrite_views *views)
{
    struct cat_mv **grown;
    size_t i;

    grown = o->n_cand > 0 ? realloc(views->mvs, (views->n + o->n_cand) * sizeof(*views->mvs))
                          : views->mvs;
    if (grown != NULL) {
        views->mvs = grown;
    }
    for (i = 0; i < o->n_cand; i++) {
        struct cat_mv *mv = o->cand[i].mv;
        if (o->cand[i].status == RW_CAND_CHOSEN && mv != NULL && mv->state != NULL) {
            atomic_fetch_add(&mv->state->hits, 1);
            atomic_store(&mv->state->last_hit_ms, now);
            if (grown != NULL) { /* out of memory: the failure is then not attributed */
                views->mvs[views->n++] = mv;
            }
        }
    }
    if (views->n > 0 && views->snap == NULL) {
        cat_snapshot_ref(snap);
        views->snap = snap;
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
names_a_view_table(const struct cat_snapshot *snap, const char *db, struct px_stmt *st,
                   size_t from)
{
    const struct rw_lexer *lx = &st->lx;
    const char *sql = st->sql;
    struct rw_tok t, prev = {RW_TOK_EOF, 0, 0}, prev2 = {RW_TOK_EOF, 0, 0};
    size_t i;
    for (i = from, t = px_stmt_tok(st, i); t.kind != RW_TOK_EOF; t = px_stmt_tok(st, ++i)) {
        if (t.kind == RW_TOK_IDENT || t.kind == RW_TOK_QIDENT) {
            const char *p = sql + t.off;
            size_t n = t.len;
            if (t.kind == RW_TOK_QIDENT) {
                /* `x`, or "x" under ANSI_QUOTES */
                if (n < 2 || memchr(p + 1, p[0], n - 2) != NULL) {
                    return true; /* doubled quotes: let the parser decide */
                }
                p++;
                n -= 2;
            }
            if (db != NULL && table_has_views(snap, db, strlen(db), p, n)) {
                return true;
            }
            if (rw_tok_is_op(lx, prev, ".") &&
                (prev2.kind == RW_TOK_IDENT || prev2.kind == RW_TOK_QIDENT)) {
                const char *q = sql + prev2.off;
                size_t qn = prev2.len;
                if (prev2.kind == RW_TOK_QIDENT && qn >= 2) {
                    if (memchr(q + 1, q[0], qn - 2) != NULL) {
                        return true; /* doubled quotes: let the parser decide */
                    }
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
 * Does ST hold a `?` placeholder token from token FROM on? The backend
 * rejects such a COM_QUERY text (issue 11: it is never rewritten; the
 * prepared-statement path substitutes the bound values first, px_prep.c).
 */
static bool
has_placeholder(struct px_stmt *st, size_t from)
{
    struct rw_tok t;
    size_t i;
    for (i = from, t = px_stmt_tok(st, i); t.kind != RW_TOK_EOF; t = px_stmt_tok(st, ++i)) {
        if (t.kind == RW_TOK_PARAM) {
            return true;
        }
    }
    return false;
}

/*
 * Rewrite the SELECT that starts at BODY_OFF (token BODY_TOK) of ST for
 * session SI against SNAP. On success returns true with the whole new text
 * of ST in *TEXT (malloc'd, NUL-terminated, *TLEN bytes; the text before
 * BODY_OFF, an EXPLAIN prefix or leading comments, is kept) and the chosen
 * views appended to VIEWS (their hits counted); false leaves both alone.
 */
static bool
rewrite_stmt(const struct px_session_info *si, struct px_stmt *st, size_t body_off,
             size_t body_tok, struct cat_snapshot *snap, char **text, size_t *tlen,
             struct px_rewrite_views *views)
{
    struct rw_options opt;
    struct rw_outcome o;
    const char *sql = st->sql;
    size_t len = st->len;
    bool done = false, ok;

    /* the size budget first: even the view-name pre-filter lexes the whole
     * text, and this runs on the worker's event loop (issue 9 item 4) */
    if (!snapshot_has_views(snap) || !si->rewrite_enabled || rw_limits_too_big(len - body_off) ||
        has_placeholder(st, body_tok) || !names_a_view_table(snap, si->db, st, body_tok)) {
        return false;
    }
    memset(&opt, 0, sizeof(opt));
    memset(&o, 0, sizeof(o));
    opt.enabled = si->rewrite_enabled;
    opt.explain = false;
    opt.now_ms = cat_now_ms();
    opt.sql_mode = si->sql_mode;
    ok = rw_rewrite(sql + body_off, len - body_off, si->db, snap, &opt, &o) == 0 &&
         o.rewritten && o.sql != NULL;
    if (ok && cat_cost_judge(si->db, si->sql_mode, sql + body_off, len - body_off, o.sql,
                             o.sql_len, snap->version, opt.now_ms) == CAT_COST_ORIGINAL) {
        /* the backend expects the original to be cheaper (issue 12): as
         * written; EXPLAIN REWRITE says ORIGINAL_CHEAPER with the figures */
        px_log_debug("S-%llu: the original is expected cheaper than its rewrite; relayed",
                     (unsigned long long)si->id);
        ok = false;
    }
    if (ok) {
        char *t = malloc(body_off + o.sql_len + 1);
        if (t != NULL) {
            memcpy(t, sql, body_off);
            memcpy(t + body_off, o.sql, o.sql_len);
            t[body_off + o.sql_len] = '\0';
            *text = t;
            *tlen = body_off + o.sql_len;
            count_hits(&o, opt.now_ms, snap, views);
            done = true;
        }
    }
    rw_outcome_free(&o);
    return done;
}

/* Try to rewrite the SELECT that starts at BODY_OFF of ST into OUT (rewrite_stmt). */
static void
try_rewrite(const struct px_session_info *si, struct px_stmt *st, size_t body_off,
            size_t body_tok, struct px_dispatch_out *out)
{
    if (rewrite_stmt(si, st, body_off, body_tok, thread_snapshot(), &out->sql, &out->sql_len,
                     &out->views)) {
        out->kind = PX_DISPATCH_REWRITE;
    }
}

/*
 * A COM_QUERY of several statements (MariaDB KB "Multiple Statements"):
 * true when ST (the whole text, classified) holds more than one, and OUT is
 * then decided. Every write in it marks its views first (as a single write
 * does, px_dispatch_query). When the session runs multi-statements and
 * every statement is a plain SELECT, each is considered for rewrite on its
 * own and the packet is sent with the rewritten ones in place, the
 * separators and the others byte for byte; OUT->checks lists every
 * statement of the original, which the session validates one by one before
 * the rows reach the client (px_validate.h). Anything else in the packet (a
 * SET, USE, a write, a compound statement ...) can change what a later
 * statement reads or how it parses: the packet is relayed unchanged. The
 * split reads ST's tokens, which the single-statement path reuses.
 */
static bool
dispatch_multi(const struct px_session_info *si, struct px_stmt *st, struct px_dispatch_out *out)
{
    struct px_stmt part[PX_DISPATCH_MULTI_MAX];
    char *piece[PX_DISPATCH_MULTI_MAX] = {NULL};
    size_t plen[PX_DISPATCH_MULTI_MAX] = {0};
    const char *sql = st->sql;
    size_t len = st->len;
    struct cat_snapshot *snap;
    const struct rw_tok *tok;
    struct rw_span *sp = NULL;
    size_t n = 0, ntok, i, done = 0, total = len, at = 0, w = 0;
    bool plain = true;
    char *text;
    int rc = 0;

    if (memchr(sql, ';', len) == NULL) {
        return false;
    }
    /* over the size budget the text is not lexed here (rw_limits.h); the
     * write marking below reads it as a big single write would be read */
    if (!rw_limits_too_big(len) && (tok = px_stmt_all(st, &ntok)) != NULL) {
        rc = rw_split_statements(&st->lx, tok, ntok, &sp, &n);
    }
    if (rc == 1 && n == 1) {
        free(sp);
        return false; /* one statement and a trailing `;` */
    }
    /* several statements, or ones the splitter cannot see into: every
     * write among them marks its views (cat_scan_writes reads them all) */
    (void)cat_note_write(sql, len, si->db, si->sql_mode, cat_now_ms());
    snap = thread_snapshot();
    if (rc != 1 || n > PX_DISPATCH_MULTI_MAX || !si->multi_statements || !si->rewrite_enabled ||
        !snapshot_has_views(snap)) {
        free(sp);
        return true;
    }
    memset(part, 0, n * sizeof(part[0]));
    for (i = 0; i < n && plain; i++) {
        px_stmt_classify_mode(&part[i], sql + sp[i].off, sp[i].len, si->sql_mode);
        plain = part[i].kind == PX_STMT_SELECT && !part[i].admin_maybe;
    }
    for (i = 0; plain && i < n; i++) {
        if (rewrite_stmt(si, &part[i], 0, 0, snap, &piece[i], &plen[i], &out->views)) {
            total = total - sp[i].len + plen[i];
            done++;
        }
    }
    text = done > 0 ? malloc(total + 1) : NULL;
    if (text != NULL) {
        for (i = 0; i < n; i++) {
            if (piece[i] == NULL) {
                continue;
            }
            memcpy(text + w, sql + at, sp[i].off - at);
            w += sp[i].off - at;
            memcpy(text + w, piece[i], plen[i]);
            w += plen[i];
            at = sp[i].off + sp[i].len;
        }
        memcpy(text + w, sql + at, len - at);
        w += len - at;
        text[w] = '\0';
        out->kind = PX_DISPATCH_REWRITE;
        out->sql = text;
        out->sql_len = w;
        out->checks = sp;
        out->n_checks = n;
        sp = NULL;
    } else if (done > 0) {
        px_dispatch_uncount(&out->views); /* out of memory: relayed after all */
        px_rewrite_views_clear(&out->views);
    }
    for (i = 0; i < n; i++) {
        free(piece[i]);
        px_stmt_free(&part[i]);
    }
    free(sp);
    return true;
}

/*
 * The admin recogniser on ST's tokens: true when the statement is the
 * proxy's (OUT then holds the job or the ERR), false to go on with ST's kind.
 */
static bool
dispatch_admin(const struct px_session_info *si, struct px_stmt *st, struct px_dispatch_out *out)
{
    struct cat_admin_job *job = NULL;
    const struct rw_tok *tok;
    size_t n;
    bool ours;

    if (rw_limits_too_big(st->len)) {
        /* over the size budget (rw_limits.h): never lexed beyond the first words */
        ours = cat_admin_refuse_too_big(st->sql, st->len, st->lead, &out->reply);
    } else {
        tok = px_stmt_all(st, &n);
        ours = tok != NULL &&
               cat_admin_recognise_toks(st->sql, st->len, tok, n, si->db, &job, &out->reply);
    }
    if (!ours) {
        return false;
    }
    if (job != NULL && !cat_admin_job_set_sql_mode(job, si->sql_mode, &out->reply)) {
        /* a definition written under another sql_mode (issue 11) */
        cat_admin_job_free(job);
        out->kind = PX_DISPATCH_REPLY;
        return true;
    }
    if (job != NULL) {
        cat_admin_job_set_rewrite(job, si->rewrite_enabled);
        out->kind = PX_DISPATCH_ADMIN;
        out->admin = job;
    } else {
        out->kind = PX_DISPATCH_REPLY;
    }
    return true;
}

void
px_dispatch_query(const struct px_session_info *si, const char *sql, size_t len,
                  struct px_dispatch_out *out)
{
    struct px_stmt st;

    out->kind = PX_DISPATCH_RELAY;
    memset(&st, 0, sizeof(st));
    px_stmt_classify_mode(&st, sql, len, si->sql_mode);
    if (st.kind == PX_STMT_SESSION_SET) {
        handle_session_set(&st, out);
        px_stmt_free(&st);
        return;
    }
    mvp_reply_init(&out->reply);
    if ((st.kind == PX_STMT_ADMIN || st.admin_maybe) && dispatch_admin(si, &st, out)) {
        px_stmt_free(&st);
        return;
    }
    if (dispatch_multi(si, &st, out)) {
        px_stmt_free(&st);
        return;
    }
    switch (st.kind) {
    case PX_STMT_SELECT:
        try_rewrite(si, &st, 0, 0, out);
        break;
    case PX_STMT_EXPLAIN:
        try_rewrite(si, &st, st.body_off, st.body_tok, out);
        break;
    case PX_STMT_WRITE:
        /* Mark first: an INSERT ... SELECT that reads a table it also writes
         * must not be answered from a view it just made stale. */
        (void)cat_note_write(sql, len, si->db, si->sql_mode, cat_now_ms());
        if (px_stmt_is_insert_select(&st)) {
            try_rewrite(si, &st, 0, 0, out);
        }
        break;
    case PX_STMT_ADMIN:             /* the admin parser declined it: relay */
    case PX_STMT_SESSION_SET:
    case PX_STMT_OTHER:
        break;
    }
    px_stmt_free(&st);
}

bool
px_dispatch_may_rewrite(const struct px_session_info *si, const char *sql, size_t len)
{
    struct cat_snapshot *snap = thread_snapshot();
    struct px_stmt st;
    bool may;

    if (!si->rewrite_enabled || !snapshot_has_views(snap) || rw_limits_too_big(len)) {
        return false;
    }
    memset(&st, 0, sizeof(st));
    px_stmt_classify_mode(&st, sql, len, si->sql_mode);
    may = st.kind == PX_STMT_SELECT && !st.admin_maybe && memchr(sql, ';', len) == NULL &&
          names_a_view_table(snap, si->db, &st, 0);
    px_stmt_free(&st);
    return may;
}

void
px_dispatch_out_clear(struct px_dispatch_out *out)
{
    free(out->sql);
    free(out->checks);
    mvp_reply_clear(&out->reply);
    cat_admin_job_free(out->admin);
    px_rewrite_views_clear(&out->views);
    memset(out, 0, sizeof(*out));
}

void
px_dispatch_admin_run(void *admin, const struct px_session_info *si, px_exec_fn exec,
                      void *exec_ctx, struct mvp_reply *reply)
{
    cat_admin_run(admin, si->user, si->db, exec, exec_ctx, reply);
}

void
px_dispatch_uncount(const struct px_rewrite_views *v)
{
    size_t i;
    for (i = 0; i < v->n; i++) {
        atomic_fetch_sub(&v->mvs[i]->state->hits, 1);
    }
}

void
px_rewrite_views_clear(struct px_rewrite_views *v)
{
    cat_snapshot_release(v->snap);
    free(v->mvs);
    memset(v, 0, sizeof(*v));
}

void
px_dispatch_note_rewrite_failed(const struct px_session_info *si,
                                const struct px_rewrite_views *v, unsigned code)
{
    char names[512];
    size_t i, off = 0;
    names[0] = '\0';
    for (i = 0; i < v->n; i++) {
        atomic_fetch_add(&v->mvs[i]->state->rewrite_failures, 1);
        if (off < sizeof(names)) {
            int w = snprintf(names + off, sizeof(names) - off, "%s%s.%s", i > 0 ? ", " : "",
                             v->mvs[i]->db, v->mvs[i]->name);
            off += w > 0 ? (size_t)w : 0;
        }
    }
    px_log_warn("S-%llu: the backend rejected the query rewritten onto %s (ERR %u); "
                "running the original instead", (unsigned long long)si->id,
                v->n > 0 ? names : "(no view)", code);
}
