/*
 * rw_rewrite.c - rw_rewrite(): the query path of the rewriter.
 *
 *   MariaDB text ─rw_dialect─> PG text ─pg_query─> tree
 *        │                                          │ top-level SELECT block
 *        │ hints (/\*+ USE_MV / NO_USE_MV *\/)       v
 *        │                                  rw_model_build (query block)
 *        │      snap->by_table[key] ──> candidate views (deduplicated)
 *        │                       for each: hint filter, model, freshness,
 *        │                       rw_match (unfolded model, then direct)
 *        v                                          │
 *   splice the chosen block text over the block's original span
 *   (fewest rows, then fewest compensations, then name)
 *
 * A decision cache keyed on (text, db, catalog version) can sit in front of
 * the parse later; everything here is a pure function of those and the
 * views' freshness.
 */
#include "rw.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cat.h"
#include "rw_emit.h"
#include "rw_match.h"
#include "rw_model.h"
#include "rw_parse.h"
#include "rw_util.h"

/* Hints found in the statement. */
struct hints {
    bool no_mv;             /* NO_USE_MV without a list: no rewrite */
    size_t n_use;           /* USE_MV names */
    char **use;             /* lower case, maybe "db.name" */
    size_t n_no;            /* NO_USE_MV names */
    char **no;              /* lower case */
};

/* Free hint lists. */
static void
hints_free(struct hints *h)
{
    size_t i;
    for (i = 0; i < h->n_use; i++) {
        free(h->use[i]);
    }
    for (i = 0; i < h->n_no; i++) {
        free(h->no[i]);
    }
    free(h->use);
    free(h->no);
}

/* Append NAME (consumed) to a list. */
static int
name_push(char ***v, size_t *n, char *name)
{
    char **a;
    if (name == NULL) {
        return -1;
    }
    a = realloc(*v, (*n + 1) * sizeof(*a));
    if (a == NULL) {
        free(name);
        return -1;
    }
    a[(*n)++] = name;
    *v = a;
    return 0;
}

/* Parse the hint comment TEXT (without the comment markers). */
static int
parse_hint(struct hints *h, const char *text, size_t len)
{
    struct rw_lexer lx;
    struct rw_tok t;
    rw_lex_init(&lx, text, len);
    t = rw_lex_next(&lx);
    while (t.kind != RW_TOK_EOF) {
        bool use = rw_tok_is(&lx, t, "USE_MV"), no = rw_tok_is(&lx, t, "NO_USE_MV");
        t = rw_lex_next(&lx);
        if (!use && !no) {
            continue;
        }
        if (!rw_tok_is_op(&lx, t, "(")) {
            if (no) {
                h->no_mv = true;
            }
            continue;
        }
        t = rw_lex_next(&lx);
        while (t.kind != RW_TOK_EOF && !rw_tok_is_op(&lx, t, ")")) {
            if (t.kind == RW_TOK_IDENT || t.kind == RW_TOK_QIDENT) {
                char *a = rw_tok_text(&lx, t), *full = a, *low;
                struct rw_tok n2 = rw_lex_next(&lx);
                if (rw_tok_is_op(&lx, n2, ".")) {
                    struct rw_tok n3 = rw_lex_next(&lx);
                    char *b = rw_tok_text(&lx, n3);
                    full = (a && b) ? rw_sprintf("%s.%s", a, b) : NULL;
                    free(a);
                    free(b);
                    n2 = rw_lex_next(&lx);
                }
                low = full ? rw_lower(full) : NULL;
                free(full);
                if (name_push(use ? &h->use : &h->no, use ? &h->n_use : &h->n_no, low) != 0) {
                    return -1;
                }
                t = n2;
                continue;
            }
            t = rw_lex_next(&lx);
        }
        if (t.kind != RW_TOK_EOF) {
            t = rw_lex_next(&lx);
        }
        if (use && h->n_use == 0) {
            h->no_mv = true; /* USE_MV() names nothing: nothing may be used */
        }
    }
    return 0;
}

/* Collect the hints of P's original text. */
static int
collect_hints(const struct rw_parse *p, struct hints *h)
{
    size_t i;
    for (i = 0; i < p->n_toks; i++) {
        if (p->toks[i].kind == RW_TOK_HINT && p->toks[i].len >= 5 &&
            parse_hint(h, p->src + p->toks[i].off + 3, p->toks[i].len - 5) != 0) {
            return -1;
        }
    }
    return 0;
}

/* Does hint name N denote view MV? */
static bool
hint_names(const char *n, const struct cat_mv *mv)
{
    return strchr(n, '.') != NULL ? strcasecmp(n, mv->key) == 0 : strcasecmp(n, mv->name) == 0;
}

/* Is MV in LIST? */
static bool
in_list(char **list, size_t n, const struct cat_mv *mv)
{
    size_t i;
    for (i = 0; i < n; i++) {
        if (hint_names(list[i], mv)) {
            return true;
        }
    }
    return false;
}

void
rw_outcome_free(struct rw_outcome *out)
{
    size_t i;
    for (i = 0; i < out->n_cand; i++) {
        free(out->cand[i].mv_name);
        free(out->cand[i].reason);
        free(out->cand[i].stale_partitions);
        free(out->cand[i].sql);
    }
    free(out->cand);
    free(out->sql);
    free(out->reason);
    memset(out, 0, sizeof(*out));
}

/* Append a candidate row; -1 on OOM. REASON consumed. */
static int
add_cand(struct rw_outcome *out, struct cat_mv *mv, enum rw_cand_status st, char *reason,
         char *sql)
{
    struct rw_candidate *c = realloc(out->cand, (out->n_cand + 1) * sizeof(*c));
    if (c == NULL || reason == NULL) {
        free(reason);
        free(sql);
        if (c != NULL) {
            out->cand = c;
        }
        return -1;
    }
    out->cand = c;
    c = &c[out->n_cand++];
    memset(c, 0, sizeof(*c));
    c->mv = mv;
    c->mv_name = rw_sprintf("%s.%s", mv->db, mv->name);
    c->status = st;
    c->reason = reason;
    c->stale_partitions = rw_strdup("");
    c->est_rows = mv->state != NULL ? atomic_load(&mv->state->rows) : -1;
    c->sql = sql;
    return (c->mv_name && c->stale_partitions) ? 0 : -1;
}

/* The original span [*START, *END) of the top-level SELECT block. */
static bool
block_span(const struct rw_parse *p, size_t *start, size_t *end)
{
    const PgQuery__RawStmt *rs = p->tree->stmts[0];
    size_t s0 = rw_parse_orig(p, rs->stmt_location);
    size_t e0 = rs->stmt_len > 0 ? rw_parse_orig(p, rs->stmt_location + rs->stmt_len)
                                 : p->src_len;
    size_t i = rw_parse_tok_at(p, s0), last = SIZE_MAX;
    struct rw_lexer lx;
    rw_lex_init(&lx, p->src, p->src_len);
    while (i < p->n_toks && p->toks[i].kind == RW_TOK_HINT) {
        i++;
    }
    if (i >= p->n_toks || !rw_tok_is(&lx, p->toks[i], "SELECT")) {
        return false;
    }
    *start = p->toks[i].off;
    for (; i < p->n_toks && p->toks[i].off < e0; i++) {
        if (!rw_tok_is_op(&lx, p->toks[i], ";")) {
            last = i;
        }
    }
    if (last == SIZE_MAX) {
        return false;
    }
    *end = p->toks[last].off + p->toks[last].len;
    return true;
}

/* Gather the candidate views of the query's tables through snap->by_table. */
static int
candidates(const struct cat_snapshot *snap, const struct rw_model *q, struct cat_mv ***mvs,
           size_t *n)
{
    size_t i, j, k;
    *mvs = NULL;
    *n = 0;
    for (i = 0; i < q->n_tabs; i++) {
        struct cat_table_index *ix = NULL;
        if (snap->by_table == NULL) {
            break;
        }
        HASH_FIND_STR(snap->by_table, q->tabs[i].key, ix);
        for (j = 0; ix != NULL && j < ix->n; j++) {
            bool dup = false;
            struct cat_mv **a;
            for (k = 0; k < *n; k++) {
                dup = dup || (*mvs)[k] == ix->mvs[j];
            }
            if (dup) {
                continue;
            }
            a = realloc(*mvs, (*n + 1) * sizeof(*a));
            if (a == NULL) {
                return -1;
            }
            a[(*n)++] = ix->mvs[j];
            *mvs = a;
        }
    }
    return 0;
}

/* Row count used for choosing: unknown counts as large. */
static int64_t
rows_of(const struct rw_candidate *c)
{
    return c->est_rows < 0 ? INT64_MAX : c->est_rows;
}

int
rw_rewrite(const char *sql, size_t len, const char *db, const struct cat_snapshot *snap,
           const struct rw_options *opt, struct rw_outcome *out)
{
    struct rw_parse p;
    struct hints h;
    struct rw_model *q = NULL;
    struct cat_mv **mvs = NULL;
    size_t n_mvs = 0, i, bstart = 0, bend = 0;
    int *ncomp = NULL;
    char *err = NULL;
    int rc = 0;
    ssize_t best = -1;

    memset(&h, 0, sizeof(h));
    memset(&p, 0, sizeof(p));
    memset(out, 0, sizeof(*out));
    if (!opt->enabled) {
        out->reason = rw_strdup("enable_materialized_view_rewrite is OFF");
        return out->reason ? 0 : -1;
    }
    if (rw_parse_sql(sql, len, &p, &err, NULL) != 0) {
        out->reason = rw_sprintf("not rewritten: %s", err ? err : "parse failed");
        goto done;
    }
    if (p.tree->n_stmts != 1 || p.tree->stmts[0]->stmt == NULL ||
        p.tree->stmts[0]->stmt->node_case != PG_QUERY__NODE__NODE_SELECT_STMT) {
        out->reason = rw_strdup("not a single SELECT statement");
        goto done;
    }
    if (collect_hints(&p, &h) != 0) {
        rc = -1;
        goto done;
    }
    if (h.no_mv) {
        out->reason = rw_strdup("NO_USE_MV hint");
        goto done;
    }
    if (!block_span(&p, &bstart, &bend)) {
        out->reason = rw_strdup("cannot locate the SELECT block in the text");
        goto done;
    }
    q = rw_model_build(&p, p.tree->stmts[0]->stmt->select_stmt, db, snap, &err);
    if (q == NULL) {
        out->reason = rw_sprintf("query block is outside the model: %s", err ? err : "");
        goto done;
    }
    if (candidates(snap, q, &mvs, &n_mvs) != 0) {
        rc = -1;
        goto done;
    }
    ncomp = calloc(n_mvs ? n_mvs : 1, sizeof(*ncomp));
    if (ncomp == NULL) {
        rc = -1;
        goto done;
    }
    for (i = 0; i < n_mvs; i++) {
        struct cat_mv *mv = mvs[i];
        char why[256];
        char *block = NULL, *reason = NULL, *full = NULL;
        int nc = 0, m = 1;
        if (in_list(h.no, h.n_no, mv)) {
            reason = rw_strdup("excluded by the NO_USE_MV hint");
        } else if (h.n_use > 0 && !in_list(h.use, h.n_use, mv)) {
            reason = rw_strdup("not named in the USE_MV hint");
        } else if (mv->model == NULL) {
            reason = rw_sprintf("view is not usable for rewrite: %s",
                                mv->model_error ? mv->model_error : "no model");
        } else if (!cat_mv_usable(mv, opt->now_ms, why, sizeof(why))) {
            reason = rw_strdup(why);
        } else {
            const struct rw_model *vm[2] = {mv->model->unfolded, mv->model->direct};
            size_t k;
            for (k = 0; k < 2 && m != 0; k++) {
                char *r2 = NULL;
                if (vm[k] == NULL) {
                    continue;
                }
                m = rw_match(q, vm[k], mv->db, mv->name, &block, &nc, &r2);
                if (m < 0) {
                    rc = -1;
                    free(reason);
                    goto done;
                }
                if (m == 1 && reason == NULL) {
                    reason = r2;
                } else {
                    free(r2);
                }
            }
        }
        if (m == 0) {
            size_t flen;
            free(reason);
            full = rw_emit_splice(sql, len, bstart, bend, block, &flen);
            free(block);
            if (full == NULL || add_cand(out, mv, RW_CAND_MATCHED_NOT_CHOSEN, rw_strdup(""),
                                         full) != 0) {
                rc = -1;
                goto done;
            }
            ncomp[out->n_cand - 1] = nc;
        } else if (add_cand(out, mv, RW_CAND_REJECTED, reason, NULL) != 0) {
            rc = -1;
            goto done;
        }
    }
    for (i = 0; i < out->n_cand; i++) {
        const struct rw_candidate *c = &out->cand[i], *bc;
        if (c->status != RW_CAND_MATCHED_NOT_CHOSEN) {
            continue;
        }
        if (best < 0) {
            best = (ssize_t)i;
            continue;
        }
        bc = &out->cand[best];
        if (rows_of(c) < rows_of(bc) ||
            (rows_of(c) == rows_of(bc) &&
             (ncomp[i] < ncomp[best] ||
              (ncomp[i] == ncomp[best] && strcmp(c->mv_name, bc->mv_name) < 0)))) {
            best = (ssize_t)i;
        }
    }
    if (best < 0) {
        out->reason = rw_strdup(out->n_cand == 0 ? "no materialized view reads these tables"
                                                 : "no materialized view matches");
        goto done;
    }
    for (i = 0; i < out->n_cand; i++) {
        struct rw_candidate *c = &out->cand[i], *bc = &out->cand[best];
        if (c->status != RW_CAND_MATCHED_NOT_CHOSEN || (ssize_t)i == best) {
            continue;
        }
        free(c->reason);
        if (rows_of(bc) < rows_of(c)) {
            if (c->est_rows < 0) {
                c->reason = rw_sprintf("view %s holds fewer rows (%lld < unknown)", bc->mv_name,
                                       (long long)bc->est_rows);
            } else {
                c->reason = rw_sprintf("view %s holds fewer rows (%lld < %lld)", bc->mv_name,
                                       (long long)bc->est_rows, (long long)c->est_rows);
            }
        } else if (ncomp[best] < ncomp[i]) {
            c->reason = rw_sprintf("view %s needs fewer compensating predicates (%d < %d)",
                                   bc->mv_name, ncomp[best], ncomp[i]);
        } else {
            c->reason = rw_sprintf("view %s is equally good and sorts first by name",
                                   bc->mv_name);
        }
        if (c->reason == NULL) {
            rc = -1;
            goto done;
        }
    }
    out->cand[best].status = RW_CAND_CHOSEN;
    out->sql = rw_strdup(out->cand[best].sql);
    if (out->sql == NULL) {
        rc = -1;
        goto done;
    }
    out->sql_len = strlen(out->sql);
    out->rewritten = true;
    out->reason = rw_strdup("");
done:
    if (rc == 0 && out->reason == NULL) {
        rc = -1;
    }
    free(err);
    free(ncomp);
    free(mvs);
    rw_model_free(q);
    hints_free(&h);
    rw_parse_free(&p);
    if (rc != 0) {
        rw_outcome_free(out);
    }
    return rc;
}
