/*
 * rw_rewrite.c - rw_rewrite(): the query path of the rewriter.
 *
 *   text ──rw_cache_lookup──> hit (freshness re-checked) ─────────────> outcome
 *     │ miss
 *     v
 *   rw_dialect ─> pg_query ─> tree ─walk─> SELECT blocks (SPEC §7: top level,
 *     │                                   FROM subqueries, CTE bodies, UNION
 *     │ hints (USE_MV / NO_USE_MV)        branches, scalar/IN subqueries,
 *     │                                   INSERT ... SELECT body) with their
 *     │                                   original text spans (rw_lex)
 *     v            for each block:
 *   rw_model_build ─> snap->by_table[key] ─> candidate views (deduplicated)
 *                     hint filter, model, freshness (cat_mv_usable),
 *                     rw_match (unfolded model, then direct);
 *                     choice: fewest rows, fewest compensations, name
 *     v
 *   splice every chosen replacement over its block's span; the rest of the
 *   text stays byte-identical ──rw_cache_store──> outcome
 *
 * A block is a candidate only when each FROM item is a base table (not a
 * CTE name) or a derived table that rw_model_build merges into it, and it
 * does not reference an outer block (correlated subqueries are skipped with
 * a reason). Blocks of WITH RECURSIVE are never touched. Blocks are
 * numbered in reading order; with more than one block, EXPLAIN reasons
 * start with "block N: ". A block inside a rewritten block (a derived
 * table's body when the block that reads it matched) is not spliced: the
 * enclosing block wins, its chosen candidate is demoted to
 * MATCHED_NOT_CHOSEN with the reason.
 */
#include "rw.h"
#include "rw_limits.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cat.h"
#include "cat_part.h"
#include "rw_cache.h"
#include "rw_emit.h"
#include "rw_match.h"
#include "rw_model.h"
#include "rw_parse.h"
#include "rw_partition.h"
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
parse_hint(struct hints *h, const char *text, size_t len, uint32_t mode)
{
    struct rw_lexer lx;
    struct rw_tok t;
    rw_lex_init_mode(&lx, text, len, mode);
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
            parse_hint(h, p->src + p->toks[i].off + 3, p->toks[i].len - 5, p->mode) != 0) {
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

/* Add the candidate views of Q's tables, found through snap->by_table, to *MVS
 * (an opaque derived table: those of the tables its body reads). */
static int
candidates_add(const struct cat_snapshot *snap, const struct rw_model *q, struct cat_mv ***mvs,
               size_t *n)
{
    size_t i, j, k;
    for (i = 0; i < q->n_tabs; i++) {
        struct cat_table_index *ix = NULL;
        if (snap->by_table == NULL) {
            break;
        }
        if (q->tabs[i].opaque) {
            if (q->tabs[i].body != NULL && candidates_add(snap, q->tabs[i].body, mvs, n) != 0) {
                return -1;
            }
            continue;
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

/* Gather the candidate views of the query's tables through snap->by_table. */
static int
candidates(const struct cat_snapshot *snap, const struct rw_model *q, struct cat_mv ***mvs,
           size_t *n)
{
    *mvs = NULL;
    *n = 0;
    return candidates_add(snap, q, mvs, n);
}

/* Row count used for choosing: unknown counts as large. */
static int64_t
rows_of(const struct rw_candidate *c)
{
    return c->est_rows < 0 ? INT64_MAX : c->est_rows;
}


/* ------------------------------------------------------------ SELECT blocks */

/* One SELECT block of the statement (SPEC §7: every block is a candidate). */
struct block {
    const PgQuery__SelectStmt *s;   /* the block (borrowed from the parse tree) */
    size_t start, end;              /* original text span [start, end) */
    bool sublink;                   /* scalar / IN / EXISTS subquery in an expression */
    bool located;                   /* start/end are valid */
    const char *skip;               /* why it is not a candidate (static), or NULL */
    char *chosen;                   /* replacement text of the chosen view (owned) */
    ssize_t best;                   /* index in the outcome of its chosen candidate, or -1 */
};

/* Block finder state. */
struct walk {
    const struct rw_parse *p;       /* parse */
    struct block *b;                /* blocks in discovery order */
    size_t n;                       /* count */
    const char **cte;               /* CTE names in scope (borrowed from the tree) */
    size_t n_cte;                   /* count */
    bool oom;                       /* allocation failed */
};

static void walk_select(struct walk *w, const PgQuery__SelectStmt *s, bool branch, bool sublink,
                        const char *skip);

/* True when token I of P is the keyword WORD. */
static bool
tok_word(const struct rw_parse *p, size_t i, const char *word)
{
    struct rw_lexer lx;
    rw_lex_init_mode(&lx, p->src, p->src_len, p->mode);
    return i < p->n_toks && rw_tok_is(&lx, p->toks[i], word);
}

/* True when token I of P is the operator OP. */
static bool
tok_op(const struct rw_parse *p, size_t i, const char *op)
{
    struct rw_lexer lx;
    rw_lex_init_mode(&lx, p->src, p->src_len, p->mode);
    return i < p->n_toks && rw_tok_is_op(&lx, p->toks[i], op);
}

/*
 * The original text span of block S: from its SELECT keyword (the last
 * SELECT token before its first select item; only modifiers and hints sit
 * between them) to the last token before, at parenthesis depth 0: the ')'
 * that closes a subquery / CTE body / parenthesised branch, ';', the end,
 * UNION/EXCEPT/INTERSECT, "ON DUPLICATE KEY" of INSERT ... SELECT, and, for
 * an unparenthesised union branch (BRANCH, with no ORDER BY/LIMIT of its
 * own), ORDER BY / LIMIT, which then belong to the union. False when the
 * span cannot be located.
 */
static bool
block_span(const struct rw_parse *p, const PgQuery__SelectStmt *s, bool branch, size_t *start,
           size_t *end)
{
    size_t first, i, last = SIZE_MAX;
    int depth = 0;
    bool stop_order = branch && s->n_sort_clause == 0 && s->limit_count == NULL &&
                      s->limit_offset == NULL;
    if (s->n_target_list == 0 || s->target_list[0]->node_case != PG_QUERY__NODE__NODE_RES_TARGET) {
        return false;
    }
    first = rw_parse_tok_at(p, rw_parse_orig(p, s->target_list[0]->res_target->location));
    for (i = first; i > 0; i--) {
        if (tok_word(p, i - 1, "SELECT")) {
            break;
        }
    }
    if (i == 0) {
        return false;
    }
    i--;
    *start = p->toks[i].off;
    for (; i < p->n_toks; i++) {
        if (tok_op(p, i, "(")) {
            depth++;
        } else if (tok_op(p, i, ")")) {
            if (depth == 0) {
                break;
            }
            depth--;
        } else if (depth == 0) {
            if (tok_op(p, i, ";") || tok_word(p, i, "UNION") || tok_word(p, i, "EXCEPT") ||
                tok_word(p, i, "INTERSECT") ||
                (tok_word(p, i, "ON") && tok_word(p, i + 1, "DUPLICATE")) ||
                (stop_order && (tok_word(p, i, "ORDER") || tok_word(p, i, "LIMIT")))) {
                break;
            }
        }
        last = i;
    }
    if (last == SIZE_MAX) {
        return false;
    }
    *end = p->toks[last].off + p->toks[last].len;
    return *end > *start;
}

/* Is the unqualified name REL a CTE in scope? */
static bool
is_cte(const struct walk *w, const PgQuery__RangeVar *rv)
{
    size_t i;
    if (rv->schemaname != NULL && rv->schemaname[0] != '\0') {
        return false;
    }
    for (i = 0; i < w->n_cte; i++) {
        if (strcasecmp(w->cte[i], rv->relname) == 0) {
            return true;
        }
    }
    return false;
}

/* Why FROM item N is not a base table (static text), or NULL. */
static const char *
from_not_base(const struct walk *w, const PgQuery__Node *n)
{
    const char *r;
    switch (n->node_case) {
    case PG_QUERY__NODE__NODE_RANGE_VAR:
        return is_cte(w, n->range_var) ? "reads a common table expression, not a base table"
                                       : NULL;
    case PG_QUERY__NODE__NODE_JOIN_EXPR:
        r = from_not_base(w, n->join_expr->larg);
        return r != NULL ? r : from_not_base(w, n->join_expr->rarg);
    case PG_QUERY__NODE__NODE_RANGE_SUBSELECT: {
        /* merged into the block when mergeable (rw_model_build); its own
         * FROM must not name a CTE either */
        const PgQuery__Node *sq = n->range_subselect->subquery;
        size_t i;
        if (sq == NULL || sq->node_case != PG_QUERY__NODE__NODE_SELECT_STMT) {
            return NULL;
        }
        for (i = 0; i < sq->select_stmt->n_from_clause; i++) {
            r = from_not_base(w, sq->select_stmt->from_clause[i]);
            if (r != NULL) {
                return r;
            }
        }
        return NULL;
    }
    default:
        return NULL; /* the model builder gives the reason */
    }
}

/*
 * Visit every message below MSG (protobuf-c reflection, STYLE §1): a
 * SubLink's subselect and a RangeSubselect's subquery are blocks; anything
 * else is walked through. SKIP is passed down (recursive CTE bodies).
 */
static void
walk_any(struct walk *w, const ProtobufCMessage *msg, const char *skip)
{
    const ProtobufCMessageDescriptor *d;
    unsigned i;
    if (msg == NULL || w->oom) {
        return;
    }
    d = msg->descriptor;
    if (d == &pg_query__select_stmt__descriptor) {
        walk_select(w, (const PgQuery__SelectStmt *)msg, false, false, skip);
        return;
    }
    if (d == &pg_query__sub_link__descriptor) {
        const PgQuery__SubLink *sl = (const PgQuery__SubLink *)msg;
        walk_any(w, (const ProtobufCMessage *)sl->testexpr, skip);
        if (sl->subselect != NULL && sl->subselect->node_case == PG_QUERY__NODE__NODE_SELECT_STMT) {
            walk_select(w, sl->subselect->select_stmt, false, true, skip);
        }
        return;
    }
    for (i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        const char *base = (const char *)msg;
        if (f->type != PROTOBUF_C_TYPE_MESSAGE) {
            continue;
        }
        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            size_t n = *(const size_t *)(base + f->quantifier_offset), k;
            ProtobufCMessage *const *arr = *(ProtobufCMessage *const *const *)(base + f->offset);
            for (k = 0; k < n; k++) {
                walk_any(w, arr[k], skip);
            }
            continue;
        }
        if ((f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
            *(const uint32_t *)(base + f->quantifier_offset) != f->id) {
            continue;
        }
        walk_any(w, *(ProtobufCMessage *const *)(base + f->offset), skip);
    }
}

/* Push a CTE name into scope. */
static void
cte_push(struct walk *w, const char *name)
{
    const char **a = realloc(w->cte, (w->n_cte + 1) * sizeof(*a));
    if (a == NULL) {
        w->oom = true;
        return;
    }
    a[w->n_cte++] = name;
    w->cte = a;
}

/*
 * Collect the blocks of S: its WITH bodies (not those of WITH RECURSIVE),
 * then S itself (a plain block) or its set-operation branches, then the
 * blocks nested in its clauses (derived tables, subqueries).
 */
static void
walk_select(struct walk *w, const PgQuery__SelectStmt *s, bool branch, bool sublink,
            const char *skip)
{
    size_t scope = w->n_cte, i;
    struct block *nb;
    if (s == NULL || w->oom) {
        return;
    }
    if (s->with_clause != NULL) {
        const PgQuery__WithClause *wc = s->with_clause;
        for (i = 0; i < wc->n_ctes; i++) {
            const PgQuery__CommonTableExpr *cte;
            if (wc->ctes[i]->node_case != PG_QUERY__NODE__NODE_COMMON_TABLE_EXPR) {
                continue;
            }
            cte = wc->ctes[i]->common_table_expr;
            if (wc->recursive) {
                cte_push(w, cte->ctename);
            }
        }
        for (i = 0; i < wc->n_ctes; i++) {
            const PgQuery__CommonTableExpr *cte;
            if (wc->ctes[i]->node_case != PG_QUERY__NODE__NODE_COMMON_TABLE_EXPR) {
                continue;
            }
            cte = wc->ctes[i]->common_table_expr;
            if (cte->ctequery != NULL &&
                cte->ctequery->node_case == PG_QUERY__NODE__NODE_SELECT_STMT) {
                walk_select(w, cte->ctequery->select_stmt, false, false,
                            wc->recursive ? "body of a recursive common table expression" : skip);
            }
            if (!wc->recursive) {
                cte_push(w, cte->ctename);
            }
        }
    }
    if (s->op != PG_QUERY__SET_OPERATION__SETOP_NONE) {
        walk_select(w, s->larg, true, false, skip);
        walk_select(w, s->rarg, true, false, skip);
        for (i = 0; i < s->n_sort_clause; i++) {
            walk_any(w, (const ProtobufCMessage *)s->sort_clause[i], skip);
        }
        w->n_cte = scope;
        return;
    }
    if (s->n_values_lists == 0) {
        nb = realloc(w->b, (w->n + 1) * sizeof(*nb));
        if (nb == NULL) {
            w->oom = true;
            return;
        }
        w->b = nb;
        nb = &nb[w->n++];
        memset(nb, 0, sizeof(*nb));
        nb->s = s;
        nb->sublink = sublink;
        nb->best = -1;
        nb->skip = skip;
        nb->located = block_span(w->p, s, branch, &nb->start, &nb->end);
        for (i = 0; i < s->n_from_clause && nb->skip == NULL; i++) {
            nb->skip = from_not_base(w, s->from_clause[i]);
        }
        if (nb->skip == NULL && !nb->located) {
            nb->skip = "cannot locate the SELECT block in the text";
        }
    }
    for (i = 0; i < s->n_from_clause; i++) {
        walk_any(w, (const ProtobufCMessage *)s->from_clause[i], skip);
    }
    for (i = 0; i < s->n_target_list; i++) {
        walk_any(w, (const ProtobufCMessage *)s->target_list[i], skip);
    }
    walk_any(w, (const ProtobufCMessage *)s->where_clause, skip);
    walk_any(w, (const ProtobufCMessage *)s->having_clause, skip);
    for (i = 0; i < s->n_group_clause; i++) {
        walk_any(w, (const ProtobufCMessage *)s->group_clause[i], skip);
    }
    for (i = 0; i < s->n_sort_clause; i++) {
        walk_any(w, (const ProtobufCMessage *)s->sort_clause[i], skip);
    }
    w->n_cte = scope;
}

/* Order blocks by text position (EXPLAIN numbers them in reading order). */
static int
block_cmp(const void *a, const void *b)
{
    const struct block *x = a, *y = b;
    if (!x->located || !y->located) {
        /* unlocated blocks go after located ones */
        return (!x->located) - (!y->located);
    }
    return x->start < y->start ? -1 : x->start > y->start;
}

/* ------------------------------------------------------------ one block */

/* What rw_rewrite needs across blocks. */
struct rctx {
    const char *sql;                /* original text */
    size_t len;                     /* its length */
    const char *db;                 /* current database */
    const struct cat_snapshot *snap; /* catalog */
    const struct rw_options *opt;   /* options */
    const struct hints *h;          /* hints of the statement */
    struct rw_outcome *out;         /* candidates accumulate here */
    int *ncomp;                     /* compensations per candidate (parallel to out->cand) */
    size_t *nback;                  /* instances joined back per candidate (parallel to ncomp) */
    size_t ncomp_cap;               /* slots in ncomp and nback */
    struct cat_mv **unusable;       /* views rejected for freshness (decision cache) */
    size_t n_unusable;              /* count */
    bool multi;                     /* more than one block: prefix reasons */
    int64_t deadline_ms;            /* rw_limits_now_ms() past which matching gives up; 0 none */
    bool timed_out;                 /* the time budget ran out (nothing is rewritten) */
};

/* True (and X->timed_out set) once X's time budget has run out. */
static bool
over_budget(struct rctx *x)
{
    if (!x->timed_out && x->deadline_ms > 0 && rw_limits_now_ms() > x->deadline_ms) {
        x->timed_out = true;
    }
    return x->timed_out;
}

/* Record compensations NC and joined-back instances NB for the candidate
 * just added; -1 on OOM. */
static int
note_ncomp(struct rctx *x, int nc, size_t nb)
{
    if (x->out->n_cand > x->ncomp_cap) {
        size_t cap = x->out->n_cand * 2;
        int *a = realloc(x->ncomp, cap * sizeof(*a));
        size_t *bk;
        if (a == NULL) {
            return -1;
        }
        x->ncomp = a;
        bk = realloc(x->nback, cap * sizeof(*bk));
        if (bk == NULL) {
            return -1;
        }
        x->nback = bk;
        x->ncomp_cap = cap;
    }
    x->ncomp[x->out->n_cand - 1] = nc;
    x->nback[x->out->n_cand - 1] = nb;
    return 0;
}

/* REASON (consumed) prefixed with "block K: " when the statement has several blocks. */
static char *
block_reason(const struct rctx *x, size_t k, char *reason)
{
    char *r;
    if (!x->multi || reason == NULL) {
        return reason;
    }
    r = rw_sprintf("block %zu: %s", k, reason);
    free(reason);
    return r;
}

/* What matching one candidate view against a block found (match_block). */
struct attempt {
    int m;                      /* 0 matched, 1 refused (rw_match_ext) */
    char *block;                /* matched: the replacement block (owned) */
    char *reason;               /* refused: why (owned) */
    char *note;                 /* matched: informational constraints trusted, or NULL (owned) */
    char *pstale;               /* partitioned view: its stale partitions, or NULL (owned) */
    int nc;                     /* compensations */
    size_t nb;                  /* query instances joined back */
};

/*
 * Refuse view MV for block model Q (time budget, hints, no model, a
 * partitioned view it cannot serve, freshness) or match it (its unfolded
 * model, then its direct one) into A. Returns 0, or -1 on OOM (A's strings
 * freed).
 */
static int
match_view(struct rctx *x, const struct rw_model *q, struct cat_mv *mv, struct attempt *a)
{
    char why[256];
    if (over_budget(x)) {
        a->reason = rw_sprintf("not tried: the rewrite decision ran over its time budget of "
                               "%u ms (rewrite_time_budget_ms)", rw_limits_get()->time_budget_ms);
    } else if (in_list(x->h->no, x->h->n_no, mv)) {
        a->reason = rw_strdup("excluded by the NO_USE_MV hint");
    } else if (x->h->n_use > 0 && !in_list(x->h->use, x->h->n_use, mv)) {
        a->reason = rw_strdup("not named in the USE_MV hint");
    } else if (mv->model == NULL) {
        a->reason = rw_sprintf("view is not usable for rewrite: %s",
                               mv->model_error ? mv->model_error : "no model");
    } else if (mv->part != NULL && (mv->model->direct->limit_text != NULL ||
                                    mv->model->direct->offset_text != NULL)) {
        a->reason = rw_strdup("partitioned view with LIMIT: its rows are the first rows of "
                              "the whole order, not of each partition; never used for rewrite");
    } else if (mv->part != NULL && mv->model->direct->has_derived) {
        a->reason = rw_strdup("partitioned view whose definition reads a derived table: its "
                              "partition column is not traced through derived tables");
    } else if (!cat_mv_usable(mv, x->opt->now_ms, why, sizeof(why))) {
        struct cat_mv **u = realloc(x->unusable, (x->n_unusable + 1) * sizeof(*u));
        if (u == NULL) {
            return -1;
        }
        x->unusable = u;
        u[x->n_unusable++] = mv;
        a->reason = rw_strdup(why);
    } else if (mv->part != NULL &&
               !rw_win_part_aligned(mv->model->unfolded ? mv->model->unfolded
                                                        : mv->model->direct,
                                    mv->part->col, &a->reason)) {
        if (a->reason == NULL) {
            return -1;
        }
    } else {
        const struct rw_model *vm[2] = {mv->model->unfolded, mv->model->direct};
        size_t j;
        for (j = 0; j < 2 && a->m != 0; j++) {
            char *r2 = NULL;
            if (vm[j] == NULL) {
                continue;
            }
            a->m = rw_match_ext(q, vm[j], mv->db, mv->name, &a->block, &a->nc, &a->nb, &r2);
            if (a->m < 0) {
                free(a->reason);
                return -1;
            }
            if (a->m == 1 && a->reason == NULL) {
                a->reason = r2;
            } else if (a->m == 0) {
                a->note = r2; /* informational constraints trusted, or NULL */
            } else {
                free(r2);
            }
        }
    }
    return 0;
}

/*
 * Partitioned views: rewrite the matched block of A by partition
 * (rw_partition.c); stale partitions that need compensation from the base
 * tables turn the match into a refusal when they cannot be compensated (or
 * the view is joined back). Returns 0, or -1 on OOM (A's strings freed).
 */
static int
match_partitions(struct rctx *x, const struct rw_model *q, const struct block *b,
                 struct cat_mv *mv, struct attempt *a)
{
    char *pwhy = NULL, *before = a->nb > 0 ? rw_strdup(a->block) : NULL;
    int pr;
    if (a->nb > 0 && before == NULL) {
        free(a->reason);
        free(a->block);
        return -1;
    }
    pr = rw_part_apply(x->snap, mv, q, x->db, x->sql + b->start, b->end - b->start,
                       x->opt->now_ms, &a->block, &a->pstale, &pwhy);
    if (pr < 0) {
        free(before);
        free(a->reason);
        free(a->block);
        free(a->pstale);
        free(a->note);
        return -1;
    }
    if (pr == 0 && before != NULL && strcmp(before, a->block) != 0) {
        /* stale partitions compensated from the base tables: not combined
         * with a join-back (the block's range is read from its text, where
         * the joined-back tables' columns could be taken for the view's) */
        pr = 1;
        pwhy = rw_sprintf("stale partitions (%s) would need compensation from the base "
                          "tables, which is not combined with joining the view back to "
                          "the tables it does not read",
                          a->pstale != NULL ? a->pstale : "");
        if (pwhy == NULL) {
            free(before);
            free(a->reason);
            free(a->block);
            free(a->pstale);
            return -1;
        }
    }
    free(before);
    if (pr == 1) {
        free(a->block);
        a->block = NULL;
        free(a->reason);
        a->reason = pwhy;
        a->m = 1;
    }
    return 0;
}

/* Add the candidate row of A (view MV for block B, ordinal K) to X->out:
 * matched (the whole statement with the block replaced) or rejected (A's
 * reason). A's strings are consumed. Returns 0 or -1 on OOM. */
static int
add_attempt(struct rctx *x, const struct block *b, size_t k, struct cat_mv *mv,
            struct attempt *a)
{
    char *full = NULL;
    if (a->m != 0) {
        free(a->note);
        a->note = NULL;
    }
    if (a->m == 0) {
        size_t flen;
        /* CHOSEN keeps this reason: "" or the informational constraints trusted */
        char *r0 = a->note != NULL ? block_reason(x, k, a->note) : rw_strdup("");
        free(a->reason);
        full = rw_emit_splice(x->sql, x->len, b->start, b->end, a->block, &flen);
        free(a->block);
        if (full == NULL) {
            free(r0);
        }
        if (full == NULL || add_cand(x->out, mv, RW_CAND_MATCHED_NOT_CHOSEN, r0, full) != 0 ||
            note_ncomp(x, a->nc, a->nb) != 0) {
            free(a->pstale);
            return -1;
        }
    } else if (add_cand(x->out, mv, RW_CAND_REJECTED, block_reason(x, k, a->reason), NULL) !=
                   0 ||
               note_ncomp(x, 0, 0) != 0) {
        free(a->pstale);
        return -1;
    }
    if (a->pstale != NULL) { /* partitioned views: EXPLAIN's stale_partitions */
        free(x->out->cand[x->out->n_cand - 1].stale_partitions);
        x->out->cand[x->out->n_cand - 1].stale_partitions = a->pstale;
    }
    return 0;
}

/* The best matched candidate from index FIRST on (fewest instances joined
 * back, then fewest rows, then fewest compensations, then name; SPEC §7);
 * -1 when none matched. */
static ssize_t
best_candidate(const struct rctx *x, size_t first)
{
    ssize_t best = -1;
    size_t i;
    for (i = first; i < x->out->n_cand; i++) {
        const struct rw_candidate *c = &x->out->cand[i], *bc;
        if (c->status != RW_CAND_MATCHED_NOT_CHOSEN) {
            continue;
        }
        if (best < 0) {
            best = (ssize_t)i;
            continue;
        }
        bc = &x->out->cand[best];
        if (x->nback[i] != x->nback[best]) {
            /* a view covering more of the block's tables first (SPEC §7) */
            if (x->nback[i] < x->nback[best]) {
                best = (ssize_t)i;
            }
            continue;
        }
        if (rows_of(c) < rows_of(bc) ||
            (rows_of(c) == rows_of(bc) &&
             (x->ncomp[i] < x->ncomp[best] ||
              (x->ncomp[i] == x->ncomp[best] && strcmp(c->mv_name, bc->mv_name) < 0)))) {
            best = (ssize_t)i;
        }
    }
    return best;
}

/* Give every matched candidate from FIRST on but BEST the reason it was not
 * chosen (for block K). Returns 0 or -1 on OOM. */
static int
explain_not_chosen(struct rctx *x, size_t k, size_t first, ssize_t best)
{
    size_t i;
    for (i = first; i < x->out->n_cand; i++) {
        struct rw_candidate *c = &x->out->cand[i], *bc = &x->out->cand[best];
        char *r;
        if (c->status != RW_CAND_MATCHED_NOT_CHOSEN || (ssize_t)i == best) {
            continue;
        }
        if (x->nback[best] < x->nback[i]) {
            r = rw_sprintf("view %s covers more of the query's tables (%zu joined back "
                           "instead of %zu)",
                           bc->mv_name, x->nback[best], x->nback[i]);
        } else if (rows_of(bc) < rows_of(c)) {
            if (c->est_rows < 0) {
                r = rw_sprintf("view %s holds fewer rows (%lld < unknown)", bc->mv_name,
                               (long long)bc->est_rows);
            } else {
                r = rw_sprintf("view %s holds fewer rows (%lld < %lld)", bc->mv_name,
                               (long long)bc->est_rows, (long long)c->est_rows);
            }
        } else if (x->ncomp[best] < x->ncomp[i]) {
            r = rw_sprintf("view %s needs fewer compensating predicates (%d < %d)", bc->mv_name,
                           x->ncomp[best], x->ncomp[i]);
        } else {
            r = rw_sprintf("view %s is equally good and sorts first by name", bc->mv_name);
        }
        free(c->reason);
        c->reason = block_reason(x, k, r);
        if (c->reason == NULL) {
            return -1;
        }
    }
    return 0;
}

/*
 * Match block B (ordinal K, 1-based) against every candidate view and
 * choose one (fewest rows, then fewest compensations, then name; SPEC §7).
 * Adds candidate rows to X->out; on a choice sets B->chosen. *WHY gets the
 * block's reason when nothing was chosen (caller frees). Returns 0 or -1 on
 * OOM.
 */
static int
match_block(struct rctx *x, const struct rw_parse *p, struct block *b, size_t k, char **why_out)
{
    struct rw_model *q = NULL;
    struct cat_mv **mvs = NULL;
    size_t n_mvs = 0, i, first = x->out->n_cand;
    char *err = NULL;
    ssize_t best = -1;
    int rc = 0;

    *why_out = NULL;
    if (b->skip != NULL) {
        *why_out = block_reason(x, k, rw_sprintf("not a candidate: %s", b->skip));
        return *why_out ? 0 : -1;
    }
    q = rw_model_build(p, b->s, x->db, x->snap, &err);
    if (q == NULL) {
        if (b->sublink && err != NULL &&
            (strncmp(err, "unknown column", 14) == 0 || strncmp(err, "unknown table", 13) == 0)) {
            *why_out = rw_sprintf("correlated subquery (references a column of an outer block: "
                                  "%s) is not a candidate", err);
        } else {
            *why_out = rw_sprintf("query block is outside the model: %s", err ? err : "");
        }
        free(err);
        *why_out = block_reason(x, k, *why_out);
        return *why_out ? 0 : -1;
    }
    if (q->opaque_why != NULL) {
        *why_out = block_reason(x, k, rw_sprintf("query block is outside the model: %s",
                                                 q->opaque_why));
        rc = *why_out ? 0 : -1;
        goto done;
    }
    if (candidates(x->snap, q, &mvs, &n_mvs) != 0) {
        rc = -1;
        goto done;
    }
    for (i = 0; i < n_mvs; i++) {
        struct cat_mv *mv = mvs[i];
        struct attempt a;
        memset(&a, 0, sizeof(a));
        a.m = 1;
        if (match_view(x, q, mv, &a) != 0 ||
            (a.m == 0 && mv->part != NULL && match_partitions(x, q, b, mv, &a) != 0) ||
            add_attempt(x, b, k, mv, &a) != 0) {
            rc = -1;
            goto done;
        }
    }
    best = best_candidate(x, first);
    if (best < 0) {
        *why_out = block_reason(x, k,
                                rw_strdup(x->out->n_cand == first
                                              ? "no materialized view reads these tables"
                                              : "no materialized view matches"));
        rc = *why_out ? 0 : -1;
        goto done;
    }
    if (explain_not_chosen(x, k, first, best) != 0) {
        rc = -1;
        goto done;
    }
    x->out->cand[best].status = RW_CAND_CHOSEN;
    b->best = best;
    /* the replacement text: the candidate's statement minus what surrounds the block */
    {
        const struct rw_candidate *c = &x->out->cand[best];
        size_t clen = strlen(c->sql), rlen = clen - (x->len - (b->end - b->start));
        b->chosen = rw_strndup(c->sql + b->start, rlen);
        rc = b->chosen ? 0 : -1;
    }
done:
    free(mvs);
    rw_model_free(q);
    return rc;
}

/* ------------------------------------------------------------ rw_rewrite */

/* Is the top-level statement something whose SELECT blocks may be rewritten? */
static const char *
stmt_blocks(const struct rw_parse *p, struct walk *w)
{
    const PgQuery__Node *st;
    if (p->tree->n_stmts != 1 || p->tree->stmts[0]->stmt == NULL) {
        return "not a single statement";
    }
    st = p->tree->stmts[0]->stmt;
    if (st->node_case == PG_QUERY__NODE__NODE_SELECT_STMT) {
        walk_select(w, st->select_stmt, false, false, NULL);
        return NULL;
    }
    if (st->node_case == PG_QUERY__NODE__NODE_INSERT_STMT && st->insert_stmt->select_stmt != NULL &&
        st->insert_stmt->select_stmt->node_case == PG_QUERY__NODE__NODE_SELECT_STMT &&
        st->insert_stmt->with_clause == NULL) {
        /* INSERT ... SELECT: only the SELECT part is rewritten */
        walk_select(w, st->insert_stmt->select_stmt->select_stmt, false, false, NULL);
        return NULL;
    }
    return "not a single SELECT or INSERT ... SELECT statement";
}

/* Match every block of W in turn (match_block) until the time budget runs
 * out; the reasons of the blocks nothing was chosen for go to REASONS, "; "
 * separated, and *N_DONE gets the number of blocks tried. Returns 0 or -1 on
 * OOM. */
static int
match_blocks(struct rctx *x, const struct rw_parse *p, struct walk *w, struct rw_buf *reasons,
             size_t *n_done)
{
    size_t i;
    for (i = 0; i < w->n; i++) {
        char *bw = NULL;
        if (over_budget(x)) {
            break;
        }
        if (match_block(x, p, &w->b[i], i + 1, &bw) != 0) {
            free(bw);
            return -1;
        }
        if (bw != NULL) {
            if (reasons->len > 0) {
                rw_buf_puts(reasons, "; ");
            }
            rw_buf_puts(reasons, bw);
            free(bw);
        }
    }
    *n_done = i;
    return 0;
}

/* The time budget ran out after DONE_BLOCKS of N_BLOCKS blocks: give up as a
 * whole, every chosen candidate of OUT back to matched, OUT->reason says why
 * (NULL on OOM), *TIMED_OUT (when not NULL) set. */
static void
give_up_over_budget(struct rw_outcome *out, size_t done_blocks, size_t n_blocks,
                    bool *timed_out)
{
    size_t i;
    /* give up as a whole: the statement is relayed unchanged (issue 9 item 4) */
    for (i = 0; i < out->n_cand; i++) {
        if (out->cand[i].status == RW_CAND_CHOSEN) {
            free(out->cand[i].reason);
            out->cand[i].reason = rw_strdup("the decision ran over its time budget");
            out->cand[i].status = RW_CAND_MATCHED_NOT_CHOSEN;
        }
    }
    out->reason = rw_sprintf("not rewritten: the rewrite decision ran over its time budget "
                             "of %u ms (rewrite_time_budget_ms) after %zu of %zu blocks",
                             rw_limits_get()->time_budget_ms, done_blocks, n_blocks);
    if (timed_out != NULL) {
        *timed_out = true;
    }
}

/* Append to SB the original text up to each chosen block of W and its
 * replacement, in text order, from *POS on (*POS: where the text is copied
 * up to; *N_CHOSEN counts the blocks spliced); a block nested in a rewritten
 * one is not chosen after all. Returns 0 or -1 on OOM. */
static int
splice_chosen(struct rctx *x, struct walk *w, struct rw_buf *sb, size_t *pos, size_t *n_chosen)
{
    struct rw_outcome *out = x->out;
    size_t i;
    /* splice every chosen block, in text order, skipping any that overlaps an earlier one */
    for (i = 0; i < w->n; i++) {
        struct block *b = &w->b[i];
        if (b->chosen == NULL || b->skip != NULL) {
            continue;
        }
        if (b->start < *pos) {
            /* nested in a rewritten block: the enclosing block's rewrite replaces it */
            struct rw_candidate *c = &out->cand[b->best];
            char *r = block_reason(x, i + 1,
                                   rw_strdup("an enclosing block is rewritten instead"));
            if (r == NULL) {
                return -1;
            }
            free(c->reason);
            c->reason = r;
            c->status = RW_CAND_MATCHED_NOT_CHOSEN;
            continue;
        }
        rw_buf_add(sb, x->sql + *pos, b->start - *pos);
        rw_buf_puts(sb, b->chosen);
        *pos = b->end;
        (*n_chosen)++;
    }
    return 0;
}

/*
 * The decision itself (no cache): parse, find the blocks, match each, and
 * splice every chosen replacement into the original text. UNUSABLE/N_UN
 * receive the views rejected for freshness (caller frees the array).
 */
static int
decide(const char *sql, size_t len, const char *db, const struct cat_snapshot *snap,
       const struct rw_options *opt, struct rw_outcome *out, struct cat_mv ***unusable,
       size_t *n_un, bool *timed_out)
{
    struct rw_parse p;
    struct hints h;
    struct walk w;
    struct rctx x;
    struct rw_buf sb = {0}, reasons = {0};
    size_t i, pos = 0, n_chosen = 0;
    const char *why;
    char *err = NULL;
    int rc = 0;

    memset(&h, 0, sizeof(h));
    memset(&w, 0, sizeof(w));
    memset(&x, 0, sizeof(x));
    *unusable = NULL;
    *n_un = 0;
    if (rw_parse_sql_mode(sql, len, opt->sql_mode, &p, &err, NULL) != 0) {
        out->reason = rw_sprintf("not rewritten: %s", err ? err : "parse failed");
        goto done;
    }
    w.p = &p;
    why = stmt_blocks(&p, &w);
    if (w.oom) {
        rc = -1;
        goto done;
    }
    if (why != NULL) {
        out->reason = rw_strdup(why);
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
    if (w.n == 0) {
        out->reason = rw_strdup("no SELECT block to rewrite");
        goto done;
    }
    qsort(w.b, w.n, sizeof(*w.b), block_cmp);
    x.sql = sql;
    x.len = len;
    x.db = db;
    x.snap = snap;
    x.opt = opt;
    x.h = &h;
    x.out = out;
    x.multi = w.n > 1;
    if (rw_limits_get()->time_budget_ms > 0) {
        x.deadline_ms = rw_limits_now_ms() + rw_limits_get()->time_budget_ms;
    }
    if (match_blocks(&x, &p, &w, &reasons, &i) != 0) {
        rc = -1;
        goto done;
    }
    if (over_budget(&x)) {
        give_up_over_budget(out, i, w.n, timed_out);
        goto done;
    }
    if (splice_chosen(&x, &w, &sb, &pos, &n_chosen) != 0) {
        rc = -1;
        goto done;
    }
    if (n_chosen == 0) {
        out->reason = reasons.len > 0 ? rw_buf_take(&reasons) : rw_strdup("no block rewritten");
        goto done;
    }
    rw_buf_add(&sb, sql + pos, len - pos);
    out->sql_len = sb.len;
    out->sql = rw_buf_take(&sb);
    out->rewritten = out->sql != NULL;
    out->reason = rw_strdup("");
    if (out->sql == NULL) {
        rc = -1;
    }
done:
    if (rc == 0 && out->reason == NULL) {
        rc = -1;
    }
    for (i = 0; i < w.n; i++) {
        free(w.b[i].chosen);
    }
    free(w.b);
    free(w.cte);
    free(err);
    free(x.ncomp);
    free(x.nback);
    rw_buf_free(&sb);
    rw_buf_free(&reasons);
    hints_free(&h);
    rw_parse_free(&p);
    if (rc == 0) {
        *unusable = x.unusable;
        *n_un = x.n_unusable;
    } else {
        free(x.unusable);
        rw_outcome_free(out);
    }
    return rc;
}

/*
 * Partitioned views (rw_partition.c): their decision depends on
 * per-partition freshness, which the decision cache does not re-check, so
 * a decision that considered one is never cached.
 */
static bool
part_candidate(const struct rw_outcome *out)
{
    size_t i;
    for (i = 0; i < out->n_cand; i++) {
        if (out->cand[i].mv != NULL && out->cand[i].mv->part != NULL) {
            return true;
        }
    }
    return false;
}

int
rw_rewrite(const char *sql, size_t len, const char *db, const struct cat_snapshot *snap,
           const struct rw_options *opt, struct rw_outcome *out)
{
    struct cat_mv **unusable = NULL;
    size_t n_un = 0;
    bool timed_out = false;
    int rc;

    memset(out, 0, sizeof(*out));
    if (!opt->enabled) {
        out->reason = rw_strdup("enable_materialized_view_rewrite is OFF");
        return out->reason ? 0 : -1;
    }
    if ((opt->sql_mode & RW_MODE_UNSUPPORTED) != 0) {
        /* decided before the cache: no parse can be trusted (issue 11) */
        out->reason = rw_strdup("not rewritten: sql_mode (a mode outside ANSI_QUOTES, "
                                "PIPES_AS_CONCAT, NO_BACKSLASH_ESCAPES, IGNORE_SPACE and the "
                                "harmless ones) is not modelled");
        return out->reason ? 0 : -1;
    }
    if (!opt->explain && rw_cache_lookup(sql, len, db, snap, opt, out)) {
        return 0;
    }
    rc = decide(sql, len, db, snap, opt, out, &unusable, &n_un, &timed_out);
    /* a decision cut short by the time budget is not cached: the machine
     * may only have been busy */
    if (rc == 0 && !opt->explain && !timed_out && !part_candidate(out)) {
        rw_cache_store(sql, len, db, snap, opt, out, unusable, n_un);
    }
    free(unusable);
    return rc;
}
