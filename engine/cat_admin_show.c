/*
 * cat_admin_show.c - the introspection statements (SPEC §3, §8, §9): SHOW
 * MATERIALIZED VIEWS, SHOW CREATE MATERIALIZED VIEW, SHOW PARTITIONS, SELECT
 * ... FROM mv_infos(...) / tasks(...) and EXPLAIN REWRITE. Each shows only
 * the views on whose storage table the client has some privilege.
 * SELECT * FROM fn(...) is answered locally; any other SELECT over the
 * functions (and SHOW MATERIALIZED VIEWS ... WHERE) runs on the client's own
 * connection with the function replaced by a derived table of its rows.
 */
#include "cat_admin_show.h"

#include "cat_admin_util.h"
#include "cat.h"
#include "cat_admin.h"
#include "cat_part.h"
#include "cat_reply.h"
#include "cat_show.h"
#include "cat_util.h"
#include "cat_parse.h"
#include "cat_part_engine.h"
#include "cat_priv.h"
#include "cat_sched.h"
#include "cat_task.h"
#include "cat_cost.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rw.h"
#include "rw_lex.h"
#include "rw_limits.h"

/* ---- SHOW MATERIALIZED VIEWS / SHOW CREATE / SHOW PARTITIONS ---- */

static void run_show_where(struct cat_stmt *st, const struct mvp_reply *rows, cat_exec_fn exec,
                           void *ctx, struct mvp_reply *reply);

void
cat_admin_show_mvs(struct cat_stmt *st, const char *db, cat_exec_fn exec, void *ctx,
                   struct mvp_reply *reply)
{
    struct cat_snapshot *snap;
    const char *sdb = st->show_db ? st->show_db : db;
    struct cat_privs pr;
    if (cat_privs_load(exec, ctx, &pr, reply) < 0) {
        return;
    }
    snap = cat_snapshot_acquire();
    if (st->query_len > 0) {
        struct mvp_reply rows;
        mvp_reply_init(&rows);
        cat_show_mvs(snap, sdb, NULL, &rows);
        cat_adm_filter_visible(&rows, "Database", "Name", &pr);
        run_show_where(st, &rows, exec, ctx, reply);
        mvp_reply_clear(&rows);
    } else {
        cat_show_mvs(snap, sdb, st->like, reply);
        cat_adm_filter_visible(reply, "Database", "Name", &pr);
    }
    cat_snapshot_release(snap);
    cat_privs_free(&pr);
}

void
cat_admin_show_view(struct cat_stmt *st, const char *db, cat_exec_fn exec, void *ctx,
                    struct mvp_reply *reply)
{
    const char *vdb = cat_adm_view_db(st, db, reply);
    struct cat_snapshot *snap;
    struct cat_mv *mv;
    struct cat_privs pr;
    if (vdb == NULL || cat_privs_load(exec, ctx, &pr, reply) < 0) {
        return;
    }
    snap = cat_snapshot_acquire();
    mv = cat_adm_find_view(snap, st, vdb, reply);
    if (mv != NULL && !cat_privs_visible(&pr, mv->db, mv->name)) {
        /* hidden: answered as if it did not exist, so existence does not leak */
        mv = NULL;
        mvp_reply_err(reply, 1146, "42S02", "Materialized view '%s.%s' doesn't exist", vdb,
                      st->name);
    }
    cat_privs_free(&pr);
    if (mv != NULL && st->kind == CAT_ST_SHOW_CREATE) {
        static const char *const cols[] = {"Materialized View", "Create Materialized View"};
        char *text = cat_show_create_text(mv);
        const char *v[2] = {mv->name, text};
        mvp_reply_rows(reply, 2, cols, NULL);
        mvp_reply_add_row(reply, v);
        free(text);
    } else if (mv != NULL) {
        if (mv->part != NULL && mv->state->parts != NULL) {
            cat_part_show(mv, reply);
        } else {
            cat_show_partitions(mv, reply);
        }
    }
    cat_snapshot_release(snap);
}
/* ---- SELECT ... FROM mv_infos() / tasks() ---- */

void
cat_admin_select_tf(struct cat_stmt *st, const char *sdb, cat_exec_fn exec, void *ctx,
                    struct mvp_reply *reply)
{
    struct mvp_reply rows;
    const char *db = st->tf_database;
    struct cat_privs pr;
    if (cat_privs_load(exec, ctx, &pr, reply) < 0) {
        return;
    }
    mvp_reply_init(&rows);
    if (st->tf == CAT_TF_MV_INFOS) {
        struct cat_snapshot *snap = cat_snapshot_acquire();
        cat_show_mvs(snap, db, NULL, &rows);
        cat_snapshot_release(snap);
        cat_adm_filter_visible(&rows, "Database", "Name", &pr);
    } else if (cat_show_tasks(&rows) < 0) {
        cat_privs_free(&pr);
        mvp_reply_clear(reply);
        *reply = rows;
        return;
    } else {
        cat_adm_filter_visible(&rows, "MvDatabaseName", "MvName", &pr);
    }
    cat_privs_free(&pr);
    (void)sdb;
    if (st->tf_star_only) {
        mvp_reply_clear(reply);
        *reply = rows;
        return;
    }
    {
        /* Filtered / projected: splice a derived table of the rows in place of
         * the function and let the backend evaluate the rest as the client. */
        struct cat_buf q = {0};
        char *derived = cat_rows_as_derived(&rows, st->tf_alias ? NULL
                                                   : st->tf == CAT_TF_MV_INFOS ? "mv_infos"
                                                                               : "tasks");
        cat_buf_add(&q, st->sql, st->tf_off);
        cat_buf_puts(&q, derived);
        cat_buf_add(&q, st->sql + st->tf_end, st->len - st->tf_end);
        free(derived);
        mvp_reply_clear(&rows);
        mvp_reply_clear(reply);
        if (exec(ctx, q.p, reply) < 0 && reply->kind != MVP_REPLY_ERR) {
            mvp_reply_err(reply, 2013, "HY000", "Lost connection to the backend");
        }
        cat_buf_free(&q);
    }
}

/* SHOW MATERIALIZED VIEWS ... WHERE cond: filter the rows on the client's connection. */
static void
run_show_where(struct cat_stmt *st, const struct mvp_reply *rows, cat_exec_fn exec, void *ctx,
               struct mvp_reply *reply)
{
    struct cat_buf q = {0};
    char *derived = cat_rows_as_derived(rows, "mv_infos");
    cat_buf_puts(&q, "SELECT * FROM ");
    cat_buf_puts(&q, derived);
    cat_buf_puts(&q, " WHERE ");
    cat_buf_add(&q, st->sql + st->query_off, st->query_len);
    free(derived);
    mvp_reply_clear(reply);
    if (exec(ctx, q.p, reply) < 0 && reply->kind != MVP_REPLY_ERR) {
        mvp_reply_err(reply, 2013, "HY000", "Lost connection to the backend");
    }
    cat_buf_free(&q);
}

/* ---- EXPLAIN REWRITE (SPEC §8) ---- */

/* The backend's estimated row reads of SQL, EXPLAINed as the client on its
 * own connection (EXEC/CTX); -1 when it refused it. */
static double
explain_reads(cat_exec_fn exec, void *ctx, const char *sql)
{
    struct cat_buf q = {0};
    struct mvp_reply r;
    double reads = -1.0;
    memset(&r, 0, sizeof(r));
    cat_buf_puts(&q, "EXPLAIN FORMAT=JSON ");
    cat_buf_puts(&q, sql);
    if (exec(ctx, q.p, &r) == 0 && r.kind == MVP_REPLY_ROWS && r.n_rows > 0 && r.n_cols > 0 &&
        r.rows[0][0] != NULL) {
        reads = cat_cost_plan_reads(r.rows[0][0], strlen(r.rows[0][0]));
    }
    mvp_reply_clear(&r);
    cat_buf_free(&q);
    return reads;
}

void
cat_admin_explain(struct cat_stmt *st, bool rewrite_enabled, uint32_t sql_mode, const char *db, cat_exec_fn exec,
                  void *ctx, struct mvp_reply *reply)
{
    static const char *const cols[] = {"mv_name", "status", "reason", "stale_partitions",
                                       "est_rows", "sql"};
    static const enum mvp_col_type types[] = {MVP_COL_STRING, MVP_COL_STRING, MVP_COL_STRING,
                                              MVP_COL_STRING, MVP_COL_INT, MVP_COL_STRING};
    static const char *const status[] = {"CHOSEN", "MATCHED_NOT_CHOSEN", "REJECTED"};
    struct cat_snapshot *snap = cat_snapshot_acquire();
    struct rw_options opt = {.enabled = rewrite_enabled, .explain = true,
                             .now_ms = cat_now_ms(), .sql_mode = sql_mode};
    struct rw_outcome out;
    size_t i;
    struct cat_buf notes = {0}; /* what CHOSEN matches trusted, for the summary row */
    char *query;
    struct cat_privs pr;
    bool hidden_chosen = false;
    if (cat_privs_load(exec, ctx, &pr, reply) < 0) {
        cat_snapshot_release(snap);
        return;
    }
    query = cat_xstrndup(st->sql + st->query_off, st->query_len);
    memset(&out, 0, sizeof(out));
    if (rw_rewrite(query, st->query_len, db, snap, &opt, &out) < 0) {
        mvp_reply_err(reply, 1105, "HY000", "EXPLAIN REWRITE: out of memory");
        rw_outcome_free(&out);
        cat_snapshot_release(snap);
        cat_privs_free(&pr);
        free(query);
        return;
    }
    mvp_reply_rows(reply, 6, cols, types);
    for (i = 0; i < out.n_cand; i++) {
        const struct rw_candidate *cd = &out.cand[i];
        char est[24];
        const char *v[6];
        int s = (int)cd->status;
        if (cd->mv != NULL && !cat_privs_visible(&pr, cd->mv->db, cd->mv->name)) {
            /* SPEC §3: no row for a view the user cannot see; a statement
             * answered from it would be refused by the backend and run as
             * written, so the summary says so */
            hidden_chosen = hidden_chosen || cd->status == RW_CAND_CHOSEN;
            continue;
        }
        snprintf(est, sizeof(est), "%lld", (long long)cd->est_rows);
        v[0] = cd->mv_name;
        v[1] = status[s >= 0 && s <= 2 ? s : 2];
        v[2] = cd->reason ? cd->reason : "";
        if (cd->status == RW_CAND_CHOSEN) {
            /* SPEC §8: empty for CHOSEN; what the match trusted (informational
             * constraints) goes to the summary row instead */
            if (v[2][0] != '\0') {
                cat_buf_puts(&notes, notes.len > 0 ? "; " : "");
                cat_buf_puts(&notes, v[2]);
            }
            v[2] = "";
        }
        v[3] = cd->stale_partitions ? cd->stale_partitions : "";
        v[4] = cd->est_rows >= 0 ? est : NULL;
        v[5] = cd->sql;
        mvp_reply_add_row(reply, v);
    }
    {
        const char *v[6];
        struct cat_buf why = {0};
        bool rewritten = out.rewritten && !hidden_chosen, cheaper = false;
        v[0] = NULL;
        v[2] = hidden_chosen ? ""
               : out.reason && out.reason[0] != '\0' ? out.reason
               : notes.len > 0                      ? notes.p
                                                    : "";
        if (rewritten && out.sql != NULL && sql_mode == 0) {
            /* the cost-based choice (issue 12), as the dispatcher makes it
             * (cat_cost_judge): the backend's estimates of both plans */
            double ro = explain_reads(exec, ctx, query), rr = ro >= 0 ? explain_reads(exec, ctx,
                                                                                      out.sql)
                                                                    : -1.0;
            enum cat_cost_verdict cv = cat_cost_compare(ro, rr);
            if (cv != CAT_COST_UNKNOWN) {
                cheaper = cv == CAT_COST_ORIGINAL;
                cat_buf_puts(&why, v[2]);
                cat_buf_printf(&why, "%sestimated row reads (the backend's EXPLAIN): original "
                                     "%.0f, rewritten %.0f%s",
                               why.len > 0 ? "; " : "", ro, rr,
                               cheaper ? ": the original is cheaper and runs as written" : "");
                v[2] = why.p;
            }
        }
        v[1] = cheaper ? "ORIGINAL_CHEAPER" : rewritten ? "REWRITTEN" : "NOT_REWRITTEN";
        v[3] = "";
        v[4] = NULL;
        v[5] = rewritten && !cheaper && out.sql ? out.sql : query;
        mvp_reply_add_row(reply, v);
        cat_buf_free(&why);
    }
    cat_privs_free(&pr);
    cat_buf_free(&notes);
    rw_outcome_free(&out);
    cat_snapshot_release(snap);
    free(query);
}
