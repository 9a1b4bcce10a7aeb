/*
 * px_dispatch.h - the seam between the wire relay (px_session.c and friends)
 * and the query brain (admin SQL, view matching, freshness).
 *
 *   client COM_QUERY ──> px_dispatch_query() ──┬─ RELAY    send original bytes
 *                                              ├─ REWRITE  send out->sql; if the
 *                                              │           first response packet is
 *                                              │           ERR, send the original
 *                                              │           instead (SPEC §7)
 *                                              ├─ REPLY    answer with out->reply
 *                                              └─ ADMIN    run px_dispatch_admin_run()
 *                                                          on a separate thread, then
 *                                                          answer with its reply
 *
 * px_dispatch_query() runs on the session's worker thread and must be fast
 * (no backend I/O). px_dispatch_admin_run() may block for minutes (a
 * BUILD IMMEDIATE over a billion rows); it runs on its own thread and may
 * call back into the session with EXEC to run SQL on the client's own
 * backend connection (so DDL runs with the client's privileges).
 */
#ifndef PX_DISPATCH_H
#define PX_DISPATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cat_reply.h"
#include "rw_lex.h"

struct cat_mv;
struct cat_snapshot;

/* What the dispatcher knows of a session; owned by the session. */
struct px_session_info {
    uint64_t id;                    /* session id (for logs) */
    const char *user;               /* authenticated user name, never NULL */
    const char *db;                 /* current database or NULL */
    bool rewrite_enabled;           /* SET enable_materialized_view_rewrite; default true */
    uint32_t sql_mode;              /* the session's @@sql_mode as RW_MODE_* flags
                                     * (rw_sql_mode_parse, base/rw_sqlmode.h), filled by the
                                     * session; 0 = MariaDB's default parse. The statement is
                                     * lexed, rewritten and write-marked under it (issue 11) */
    bool multi_statements;          /* the backend takes several `;`-separated statements in one
                                     * COM_QUERY: CLIENT_MULTI_STATEMENTS at the handshake, or
                                     * COM_SET_OPTION since (each is then considered, issue 11) */
};

enum px_dispatch_kind {
    PX_DISPATCH_RELAY = 0,          /* relay the client's packet unchanged */
    PX_DISPATCH_REWRITE,            /* send out->sql (rewritten query) */
    PX_DISPATCH_REPLY,              /* answer locally with out->reply */
    PX_DISPATCH_ADMIN,              /* run out->admin on an admin thread */
};

/*
 * The views a REWRITE decision reads. The session keeps it until the
 * backend's first response packet to the rewritten query says whether the
 * backend took it (SPEC §7: a rejected rewrite is counted per view and the
 * original is sent instead).
 */
struct px_rewrite_views {
    struct cat_snapshot *snap;      /* a reference to the snapshot the views are from, or NULL */
    size_t n;                       /* views */
    struct cat_mv **mvs;            /* the views (borrowed from snap; the array is owned) */
};

/*
 * Take back the hit counted on each view of V (the rewrite they were
 * counted for was not sent, or its answer was discarded). V is unchanged.
 */
void px_dispatch_uncount(const struct px_rewrite_views *v);

/* Drop what V holds (the snapshot reference, the array) and zero it. */
void px_rewrite_views_clear(struct px_rewrite_views *v);

/* Statements of one multi-statement packet the proxy considers for rewrite;
 * a packet of more is relayed unrewritten. */
#define PX_DISPATCH_MULTI_MAX 16

struct px_dispatch_out {
    enum px_dispatch_kind kind;     /* what to do */
    char *sql;                      /* REWRITE: new query text (owned, malloc) */
    size_t sql_len;                 /* REWRITE: bytes in sql */
    struct px_rewrite_views views;  /* REWRITE: the views sql reads (move it to keep it) */
    struct rw_span *checks;         /* REWRITE of a multi-statement packet: the statements of
                                     * the original to validate one by one (COM_STMT_PREPARE
                                     * takes one), offsets into the client's SQL; owned.
                                     * NULL: validate the whole text */
    size_t n_checks;                /* entries in checks */
    struct mvp_reply reply;         /* REPLY: the answer */
    void *admin;                    /* ADMIN: opaque job, pass to px_dispatch_admin_run */
    bool set_rewrite;               /* REPLY/RELAY: session flag changed ... */
    bool rewrite_enabled;           /* ... to this value */
};

/*
 * Could the single SELECT of LEN bytes at SQL (placeholders allowed) be
 * rewritten for session SI at all: rewrite on, views in the catalog, within
 * the size budget, a plain SELECT (no `;`) that names a table some view
 * reads? A cheap pre-filter (lexes, never parses) for work that costs a
 * round trip before the real decision (px_prep.c's user-variable probe);
 * false is final, true only means px_dispatch_query may rewrite it.
 */
bool px_dispatch_may_rewrite(const struct px_session_info *si, const char *sql, size_t len);

/*
 * Decide what to do with a COM_QUERY of LEN bytes at SQL (not NUL-terminated,
 * the payload after the 0x03 command byte) from session SI. Fills OUT, which
 * the caller has zeroed and later frees with px_dispatch_out_clear(). Never
 * fails: anything it does not understand is PX_DISPATCH_RELAY. Thread-safe;
 * runs on the calling worker thread without a global lock.
 */
void px_dispatch_query(const struct px_session_info *si, const char *sql, size_t len,
                       struct px_dispatch_out *out);

/* Free what OUT owns (sql, reply, an admin job not run) and zero it. */
void px_dispatch_out_clear(struct px_dispatch_out *out);

/*
 * Run SQL on the client's own backend connection, blocking the calling
 * (admin) thread until the whole response has arrived. Fills REPLY with the
 * backend's OK, ERR or result set (rows as text). Returns 0 when a response
 * arrived (even an ERR), -1 when the connection is gone (REPLY then holds an
 * ERR 2013 "Lost connection"). Implemented by the session layer.
 */
typedef int (*px_exec_fn)(void *exec_ctx, const char *sql, struct mvp_reply *reply);

/*
 * Run the admin job ADMIN (consumed: freed on return) for session SI on the
 * calling thread; EXEC/EXEC_CTX run SQL as the client. Fills REPLY (caller
 * zeroed it) with what the client must get. SI's strings stay valid for the
 * call. Never returns without a reply.
 */
void px_dispatch_admin_run(void *admin, const struct px_session_info *si, px_exec_fn exec,
                           void *exec_ctx, struct mvp_reply *reply);

/*
 * The rewritten query of session SI, reading the views V, failed at the
 * backend with ERR CODE (SPEC §7): each view's RewriteFailures counter
 * (SHOW MATERIALIZED VIEWS, mv_infos) goes up by one and a WARN line names
 * the views and the code; the caller then sends the original query. V is
 * left as it is (the caller clears it).
 */
void px_dispatch_note_rewrite_failed(const struct px_session_info *si,
                                     const struct px_rewrite_views *v, unsigned code);

#endif /* PX_DISPATCH_H */
