/*
 * rw_select.c - the select list of a SELECT block in the model: output names
 * as MariaDB reports them (alias, else the item's text), SELECT * expansion,
 * ORDER BY ordinals, LIMIT text, and the determinism of window outputs.
 */
#include "rw_select.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cat.h"
#include "rw_build.h"
#include "rw_coll.h"
#include "rw_conv.h"
#include "rw_from.h"
#include "rw_model.h"
#include "rw_pred.h"
#include "rw_util.h"

/* ------------------------------------------------------------ select list */

/* The unquoted text of the identifier token at original offset OFF's token I. */
static char *
tok_value(const struct rw_parse *p, size_t i)
{
    struct rw_lexer lx;
    rw_lex_init_mode(&lx, p->src, p->src_len, p->mode);
    return rw_tok_text(&lx, p->toks[i]);
}

/* MariaDB's name for select item R (alias, column name, or the item text). */
static char *
item_name(struct build *b, const PgQuery__ResTarget *r)
{
    const struct rw_parse *p = b->p;
    size_t start = rw_parse_orig(p, r->location);
    size_t end = rw_parse_expr_end(p, start);
    size_t i = rw_parse_tok_at(p, end), last;
    if (r->name != NULL && r->name[0] != '\0') {
        /* alias: the token after the expression (after AS when present) */
        struct rw_lexer lx;
        rw_lex_init_mode(&lx, p->src, p->src_len, p->mode);
        if (i < p->n_toks && rw_tok_is(&lx, p->toks[i], "AS")) {
            i++;
        }
        if (i < p->n_toks && (p->toks[i].kind == RW_TOK_IDENT || p->toks[i].kind == RW_TOK_QIDENT ||
                              p->toks[i].kind == RW_TOK_STRING)) {
            return tok_value(p, i);
        }
        return rw_strdup(r->name);
    }
    if (r->val != NULL && r->val->node_case == PG_QUERY__NODE__NODE_COLUMN_REF) {
        last = rw_parse_tok_at(p, end);
        if (last > 0) {
            return tok_value(p, last - 1);
        }
    }
    if (r->val != NULL && r->val->node_case == PG_QUERY__NODE__NODE_A_CONST &&
        r->val->a_const->val_case == PG_QUERY__A__CONST__VAL_SVAL) {
        return rw_strdup(r->val->a_const->sval->sval);
    }
    return rw_strndup(p->src + start, end - start);
}

/* Add an output. */
static void
add_out(struct build *b, char *name, struct rw_expr *e)
{
    struct rw_out *o = realloc(b->m->out, (b->m->n_out + 1) * sizeof(*o));
    if (o == NULL || name == NULL || e == NULL) {
        free(o == NULL ? NULL : NULL);
        if (o != NULL) {
            b->m->out = o;
        }
        free(name);
        rw_expr_free(e);
        rw_build_fail(b, "out of memory");
        return;
    }
    b->m->out = o;
    o[b->m->n_out].name = name;
    o[b->m->n_out].e = e;
    o[b->m->n_out].vcol = NULL;
    o[b->m->n_out].vtype = NULL;
    b->m->n_out++;
}

/* Expand t.* (entry RTE >= 0) or * (RTE < 0) over the entries in scope. */
static void
expand_star(struct build *b, int rte)
{
    size_t r, i;
    if (rte < 0 && b->has_using) {
        /* MariaDB lists a USING column once (coalesced for outer joins) */
        rw_build_fail(b, "SELECT * over JOIN ... USING is not supported");
        return;
    }
    for (r = b->rte_lo; r < b->n_rte && b->err == NULL; r++) {
        const struct rte *e = &b->rte[r];
        if (rte >= 0 && (size_t)rte != r) {
            continue;
        }
        if (e->tab >= 0) {
            const struct rw_tab *t = &b->m->tabs[e->tab];
            b->m->tabs[e->tab].star = true;
            for (i = 0; i < t->n_cols; i++) {
                add_out(b, rw_strdup(t->cols[i].decl), rw_from_col_expr(e->tab, t->cols[i].name));
            }
            continue;
        }
        for (i = 0; i < e->n_cols && b->err == NULL; i++) {
            struct rw_expr *x = rw_conv_rte_ref(b, e, (int)i, e->names[i]);
            if (x != NULL) {
                add_out(b, rw_strdup(e->names[i]), x);
            }
        }
    }
}

/* One select-list item. */
void
rw_select_item(struct build *b, const PgQuery__Node *n)
{
    const PgQuery__ResTarget *r;
    if (n->node_case != PG_QUERY__NODE__NODE_RES_TARGET) {
        rw_build_fail(b, "bad select item");
        return;
    }
    r = n->res_target;
    if (r->val != NULL && r->val->node_case == PG_QUERY__NODE__NODE_COLUMN_REF) {
        const PgQuery__ColumnRef *c = r->val->column_ref;
        if (c->n_fields > 0 &&
            c->fields[c->n_fields - 1]->node_case == PG_QUERY__NODE__NODE_A_STAR) {
            if (c->n_fields == 1) {
                expand_star(b, -1);
            } else if (c->n_fields == 2 && rw_build_sval(c->fields[0]) != NULL) {
                size_t i;
                int tab = -1;
                for (i = b->rte_lo; i < b->n_rte; i++) {
                    if (strcasecmp(b->rte[i].alias, rw_build_sval(c->fields[0])) == 0) {
                        tab = (int)i;
                    }
                }
                if (tab < 0) {
                    rw_build_fail(b, "unknown table %s in %s.*", rw_build_sval(c->fields[0]),
                                  rw_build_sval(c->fields[0]));
                    return;
                }
                expand_star(b, tab);
            } else {
                rw_build_fail(b, "db.table.* is not supported");
            }
            return;
        }
    }
    {
        struct rw_expr *e;
        b->ref_rte = -1;
        e = rw_conv(b, r->val);
        if (e == NULL) {
            return;
        }
        if ((r->name == NULL || r->name[0] == '\0') && r->val != NULL &&
            r->val->node_case == PG_QUERY__NODE__NODE_COLUMN_REF && b->ref_rte >= 0 &&
            (size_t)b->ref_rte < b->n_rte && b->rte[b->ref_rte].tab < 0) {
            /* a bare reference to a column of a merged derived table: MariaDB
             * reports the derived table's column name (as its body names it),
             * not the reference as written (verified on MariaDB 10.11; a
             * table's column keeps the spelling of the reference) */
            add_out(b, rw_strdup(b->rte[b->ref_rte].names[b->ref_k]), e);
            return;
        }
        add_out(b, item_name(b, r), e);
    }
}

/* Integer value of an A_Const integer node, or -1. */
long
rw_select_ordinal(const PgQuery__Node *n)
{
    if (n != NULL && n->node_case == PG_QUERY__NODE__NODE_A_CONST &&
        n->a_const->val_case == PG_QUERY__A__CONST__VAL_IVAL && n->a_const->ival != NULL) {
        return n->a_const->ival->ival;
    }
    return -1;
}

/* Original text of a LIMIT/OFFSET value (integer literal only). */
char *
rw_select_limit_text(struct build *b, const PgQuery__Node *n)
{
    char *t;
    if (n->node_case != PG_QUERY__NODE__NODE_A_CONST ||
        n->a_const->val_case != PG_QUERY__A__CONST__VAL_IVAL) {
        rw_build_fail(b, "LIMIT/OFFSET must be an integer literal");
        return NULL;
    }
    t = rw_parse_literal(b->p, n->a_const->location);
    if (t == NULL) {
        t = rw_sprintf("%d", (int)(n->a_const->ival ? n->a_const->ival->ival : 0));
    }
    return t;
}

/* First window function of E that is not deterministic in M (rw_win_deterministic), or NULL. */
static const struct rw_expr *
nondet_win(const struct rw_model *m, const struct rw_expr *e)
{
    size_t i;
    const struct rw_expr *r;
    if (e == NULL) {
        return NULL;
    }
    if (e->kind == RW_E_WIN && !rw_win_deterministic(m, e)) {
        return e;
    }
    for (i = 0; i < e->n; i++) {
        if ((r = nondet_win(m, e->args[i])) != NULL) {
            return r;
        }
    }
    return NULL;
}

/* Note in M->opaque_why why window W's value depends on how ties are broken. */
static void
note_opaque(struct build *b, const struct rw_expr *w)
{
    if (b->m->opaque_why != NULL) {
        return;
    }
    b->m->opaque_why = rw_sprintf(
        "%s() OVER (...) depends on the order of rows that tie on its PARTITION BY and ORDER "
        "BY (they cover no unique key of NOT NULL columns), so the view's values may differ "
        "from the query's",
        w->name);
    if (b->m->opaque_why == NULL) {
        rw_build_fail(b, "out of memory");
    }
}

/*
 * Outputs whose window functions are not deterministic (ties broken
 * arbitrarily) become opaque: a view keeps its other outputs usable, a
 * query block is refused by the caller through M->opaque_why.
 */
void
rw_select_win_opaque(struct build *b)
{
    size_t i;
    const struct rw_expr *w;
    for (i = 0; i < b->m->n_out; i++) {
        if ((w = nondet_win(b->m, b->m->out[i].e)) != NULL) {
            note_opaque(b, w);
            rw_expr_free(b->m->out[i].e);
            b->m->out[i].e = NULL;
        }
    }
    for (i = 0; i < b->m->n_sort; i++) {
        if ((w = nondet_win(b->m, b->m->sort[i].e)) != NULL) {
            note_opaque(b, w);
        }
    }
}

/* Is column (TAB, COL) of M among the window keys KEYS (N), directly, through
 * its equivalence class, or fixed to a single value by a range? */
static bool
key_col_covered(const struct rw_model *m, int tab, const char *col,
                const struct rw_expr *const *keys, size_t n)
{
    int k = rw_pred_find(&m->pred, tab, col), root = k >= 0 ? rw_pred_root(&m->pred, k) : -1;
    size_t i;
    if (root >= 0) {
        const struct rw_range *r = &m->pred.ranges[root];
        if (r->type != RW_R_NONE && r->has_pts && r->n_pts == 1) {
            return true;
        }
    }
    for (i = 0; i < n; i++) {
        const struct rw_expr *x = keys[i];
        int kx;
        if (x->kind != RW_E_COL) {
            continue;
        }
        if (x->tab == tab && strcmp(x->name, col) == 0) {
            return true;
        }
        kx = rw_pred_find(&m->pred, x->tab, x->name);
        if (root >= 0 && kx >= 0 && rw_pred_root(&m->pred, kx) == root) {
            return true;
        }
    }
    return false;
}

bool
rw_win_deterministic(const struct rw_model *m, const struct rw_expr *w)
{
    static const char *const peer_safe[] = {"rank", "dense_rank", "percent_rank", "cume_dist",
                                            NULL};
    const struct rw_expr *call = w->args[0], *part = w->args[1], *ord = w->args[2],
                         *fr = w->args[3];
    const struct rw_expr **keys;
    size_t i, j, k, n = 0;
    bool ok = true;
    for (i = 0; peer_safe[i] != NULL; i++) {
        if (strcmp(call->name, peer_safe[i]) == 0) {
            return true;
        }
    }
    if (call->kind == RW_E_AGG && (strncmp(fr->name, "RANGE", 5) == 0 || fr->name[0] == '\0' ||
                                   strcmp(fr->name, "ROWS UP UF") == 0)) {
        return true; /* the frame is made of whole peer groups */
    }
    keys = calloc(part->n + ord->n + 1, sizeof(*keys));
    if (keys == NULL) {
        return false;
    }
    for (i = 0; i < part->n; i++) {
        keys[n++] = part->args[i];
    }
    for (i = 0; i < ord->n; i++) {
        keys[n++] = ord->args[i]->args[0];
    }
    for (i = 0; i < m->n_tabs && ok; i++) {
        const struct rw_tab *t = &m->tabs[i];
        bool pinned = false;
        for (k = 0; k < t->n_ukeys && !pinned; k++) {
            const struct cat_key *uk = &t->ukeys[k];
            pinned = uk->n_cols > 0;
            for (j = 0; j < uk->n_cols && pinned; j++) {
                const struct rw_mcol *mc = rw_model_col(m, (int)i, uk->cols[j]);
                pinned = mc != NULL && !mc->nullable &&
                         key_col_covered(m, (int)i, uk->cols[j], keys, n);
            }
        }
        ok = pinned;
    }
    free(keys);
    return ok;
}
