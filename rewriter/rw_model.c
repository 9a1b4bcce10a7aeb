/*
 * rw_model.c - builds the SPJG model of a SELECT block from the libpg_query
 * tree (view-matching.md §1) and analyses its predicates into equivalence
 * classes, typed ranges and residuals (Goldstein & Larson §3.1).
 *
 *   SelectStmt ──conv()──> canonical rw_expr trees ──analyze()──> rw_pred
 *   FROM: RangeVar -> rw_tab (schema and declared keys copied from the snapshot)
 *         JoinExpr INNER/CROSS -> ON/USING conjuncts
 *         JoinExpr LEFT/RIGHT  -> rw_ojoin (null-supplying instance + ON), RIGHT
 *                                 normalised to LEFT; a WHERE that rejects the
 *                                 padded rows turns it back into an inner join
 *   outputs named as MariaDB names them (alias, else the item's text)
 */
#include "rw_model.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cat.h"
#include "rw_coll.h"
#include "rw_util.h"

/*
 * A name the block's expressions may refer to (a range table entry): a base
 * table instance, or a merged derived table whose columns are expressions
 * over the base instances of its body.
 */
struct rte {
    char *alias;                /* lower case */
    int tab;                    /* base table instance; -1 for a derived table */
    size_t n_cols;              /* derived: output columns */
    char **names;               /* derived: column names as MariaDB reports them */
    struct rw_expr **exprs;     /* derived: canonical expressions over base instances */
    bool *bad;                  /* derived: not NULL-preserving on a null-supplying side */
};

/* Builder state for one block. */
struct build {
    const struct rw_parse *p;           /* parse (original text, tokens) */
    const char *db;                     /* current database or NULL */
    const struct cat_snapshot *snap;    /* schemas */
    struct rw_model *m;                 /* model being built */
    char *err;                          /* first failure (owned) */
    bool allow_agg;                     /* aggregates allowed in this clause */
    bool allow_win;                     /* window functions allowed (select list, ORDER BY) */
    bool alias_fallback;                /* unknown bare names may be output aliases */
    size_t scope_lo;                    /* first instance names may resolve to (ON scope) */
    bool has_using;                     /* a JOIN ... USING was seen */
    struct rte *rte;                    /* names in scope, FROM order */
    size_t n_rte;                       /* count */
    size_t rte_lo;                      /* first entry names may resolve to (ON / body scope) */
    bool null_side;                     /* building the null-supplying side of an outer join */
    size_t n_pend;                      /* derived WHERE conjuncts bound for that join's ON */
    struct rw_expr **pend;              /* canonical (owned) */
    int ref_rte, ref_k;                 /* entry and column the last resolved ColumnRef named
                                           (conv_colref); ref_rte -1 when none */
};

enum rw_rtype
rw_rtype_of(const char *t)
{
    static const char *const num[] = {"tinyint", "smallint", "mediumint", "int", "integer",
                                      "bigint", "decimal", "numeric", NULL};
    static const char *const dt[] = {"date", "datetime", "timestamp", NULL};
    static const char *const str[] = {"char", "varchar", "text", "tinytext", "mediumtext",
                                      "longtext", "enum", NULL};
    size_t i;
    if (t == NULL) {
        return RW_R_NONE;
    }
    for (i = 0; num[i]; i++) {
        if (strcmp(t, num[i]) == 0) {
            return RW_R_NUM;
        }
    }
    for (i = 0; dt[i]; i++) {
        if (strcmp(t, dt[i]) == 0) {
            return RW_R_DT;
        }
    }
    for (i = 0; str[i]; i++) {
        if (strcmp(t, str[i]) == 0) {
            return RW_R_STR;
        }
    }
    return RW_R_NONE;
}

/* Record the first failure reason. */
static void
fail(struct build *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void
fail(struct build *b, const char *fmt, ...)
{
    va_list ap;
    if (b->err != NULL) {
        return;
    }
    va_start(ap, fmt);
    b->err = rw_vsprintf(fmt, ap);
    va_end(ap);
    if (b->err == NULL) {
        b->err = rw_strdup("out of memory");
    }
}

/* Grow an array of pointers by one slot holding X; -1 on OOM. */
static int
push(void ***arr, size_t *n, void *x)
{
    void **a = realloc(*arr, (*n + 1) * sizeof(*a));
    if (a == NULL) {
        return -1;
    }
    a[(*n)++] = x;
    *arr = a;
    return 0;
}

const struct rw_mcol *
rw_model_col(const struct rw_model *m, int tab, const char *col)
{
    size_t i;
    if (tab < 0 || (size_t)tab >= m->n_tabs) {
        return NULL;
    }
    for (i = 0; i < m->tabs[tab].n_cols; i++) {
        if (strcmp(m->tabs[tab].cols[i].name, col) == 0) {
            return &m->tabs[tab].cols[i];
        }
    }
    return NULL;
}

struct cat_key *
rw_keys_dup(const struct cat_key *src, size_t n, bool *ok)
{
    struct cat_key *d;
    size_t i, j;
    *ok = true;
    if (n == 0 || src == NULL) {
        return NULL;
    }
    d = calloc(n, sizeof(*d));
    if (d == NULL) {
        *ok = false;
        return NULL;
    }
    for (i = 0; i < n; i++) {
        d[i].cols = calloc(src[i].n_cols ? src[i].n_cols : 1, sizeof(char *));
        if (src[i].ref_key != NULL) {
            d[i].ref_key = rw_strdup(src[i].ref_key);
            d[i].ref_cols = calloc(src[i].n_cols ? src[i].n_cols : 1, sizeof(char *));
            *ok = *ok && d[i].ref_key != NULL && d[i].ref_cols != NULL;
        }
        if (d[i].cols == NULL) {
            *ok = false;
            break;
        }
        d[i].n_cols = src[i].n_cols;
        d[i].informational = src[i].informational;
        if (src[i].name != NULL) {
            d[i].name = rw_strdup(src[i].name);
            *ok = *ok && d[i].name != NULL;
        }
        for (j = 0; j < src[i].n_cols; j++) {
            d[i].cols[j] = rw_lower(src[i].cols[j]);
            *ok = *ok && d[i].cols[j] != NULL;
            if (d[i].ref_cols != NULL) {
                d[i].ref_cols[j] = rw_lower(src[i].ref_cols[j]);
                *ok = *ok && d[i].ref_cols[j] != NULL;
            }
        }
    }
    if (!*ok) {
        rw_keys_free(d, n);
        return NULL;
    }
    return d;
}

void
rw_keys_free(struct cat_key *k, size_t n)
{
    size_t i, j;
    if (k == NULL) {
        return;
    }
    for (i = 0; i < n; i++) {
        for (j = 0; j < k[i].n_cols; j++) {
            free(k[i].cols != NULL ? k[i].cols[j] : NULL);
            free(k[i].ref_cols != NULL ? k[i].ref_cols[j] : NULL);
        }
        free(k[i].cols);
        free(k[i].ref_cols);
        free(k[i].ref_key);
        free(k[i].name);
    }
    free(k);
}

/* Text of a String node, or NULL. */
static const char *
sval(const PgQuery__Node *n)
{
    return (n != NULL && n->node_case == PG_QUERY__NODE__NODE_STRING) ? n->string->sval : NULL;
}

/* ------------------------------------------------------------------ FROM */

/* Free what entry R owns. */
static void
rte_clear(struct rte *r)
{
    size_t i;
    free(r->alias);
    for (i = 0; i < r->n_cols; i++) {
        free(r->names != NULL ? r->names[i] : NULL);
        rw_expr_free(r->exprs != NULL ? r->exprs[i] : NULL);
    }
    free(r->names);
    free(r->exprs);
    free(r->bad);
    memset(r, 0, sizeof(*r));
}

/* Drop the entries from index N on. */
static void
rte_pop_to(struct build *b, size_t n)
{
    while (b->n_rte > n) {
        rte_clear(&b->rte[--b->n_rte]);
    }
}

/* Append entry R (its contents consumed, also on failure). */
static void
rte_push(struct build *b, struct rte *r)
{
    struct rte *a = realloc(b->rte, (b->n_rte + 1) * sizeof(*a));
    if (a == NULL) {
        rte_clear(r);
        fail(b, "out of memory");
        return;
    }
    b->rte = a;
    a[b->n_rte++] = *r;
    memset(r, 0, sizeof(*r));
}

/*
 * Append an entry for the model's last table (b->m->tabs[n_tabs - 1]) under
 * ALIAS (copied). Returns 0, or -1 with "out of memory" failed in B (an
 * rte_push failure is only in B->err, as for every rte_push).
 */
static int
rte_push_last_table(struct build *b, const char *alias)
{
    struct rte r;
    memset(&r, 0, sizeof(r));
    r.tab = (int)(b->m->n_tabs - 1);
    r.alias = rw_strdup(alias);
    if (r.alias == NULL) {
        fail(b, "out of memory");
        return -1;
    }
    rte_push(b, &r);
    return 0;
}

/* Index of column COL (lower case) in entry R; -1 when absent. */
static int
rte_col(const struct build *b, const struct rte *r, const char *col)
{
    size_t i;
    if (r->tab >= 0) {
        return rw_model_col(b->m, r->tab, col) != NULL ? 0 : -1;
    }
    for (i = 0; i < r->n_cols; i++) {
        if (strcasecmp(r->names[i], col) == 0) {
            return (int)i;
        }
    }
    return -1;
}

/* Add table instance for RV; returns its index or -1. */
static int
add_table(struct build *b, const PgQuery__RangeVar *rv)
{
    const char *db = (rv->schemaname != NULL && rv->schemaname[0] != '\0') ? rv->schemaname : b->db;
    const struct cat_table *t;
    struct rw_tab *tabs, *nt;
    size_t i;
    if (rv->catalogname != NULL && rv->catalogname[0] != '\0') {
        fail(b, "three-part table name %s.%s.%s is not supported", rv->catalogname,
             rv->schemaname, rv->relname);
        return -1;
    }
    if (db == NULL) {
        fail(b, "no database selected for table %s", rv->relname);
        return -1;
    }
    t = cat_snapshot_table(b->snap, db, rv->relname);
    if (t == NULL) {
        fail(b, "table %s.%s is not known to the catalog", db, rv->relname);
        return -1;
    }
    tabs = realloc(b->m->tabs, (b->m->n_tabs + 1) * sizeof(*tabs));
    if (tabs == NULL) {
        fail(b, "out of memory");
        return -1;
    }
    b->m->tabs = tabs;
    nt = &tabs[b->m->n_tabs++];
    memset(nt, 0, sizeof(*nt));
    nt->key = rw_lower(t->key);
    nt->db = rw_strdup(t->db);
    nt->name = rw_strdup(t->name);
    nt->alias = rw_lower(rv->alias != NULL ? rv->alias->aliasname : rv->relname);
    nt->cols = calloc(t->n_cols ? t->n_cols : 1, sizeof(*nt->cols));
    if (nt->key == NULL || nt->db == NULL || nt->name == NULL || nt->alias == NULL ||
        nt->cols == NULL) {
        fail(b, "out of memory");
        return -1;
    }
    {
        bool ok1, ok2;
        nt->ukeys = rw_keys_dup(t->ukeys, t->n_ukeys, &ok1);
        nt->n_ukeys = nt->ukeys != NULL ? t->n_ukeys : 0;
        nt->fkeys = rw_keys_dup(t->fkeys, t->n_fkeys, &ok2);
        nt->n_fkeys = nt->fkeys != NULL ? t->n_fkeys : 0;
        if (!ok1 || !ok2) {
            fail(b, "out of memory");
            return -1;
        }
    }
    nt->n_cols = t->n_cols;
    for (i = 0; i < t->n_cols; i++) {
        nt->cols[i].name = rw_lower(t->cols[i].name);
        nt->cols[i].decl = rw_strdup(t->cols[i].name);
        nt->cols[i].data_type = rw_lower(t->cols[i].data_type ? t->cols[i].data_type : "");
        nt->cols[i].column_type = rw_lower(t->cols[i].column_type ? t->cols[i].column_type : "");
        nt->cols[i].nullable = t->cols[i].nullable;
        nt->cols[i].collation = t->cols[i].collation ? rw_lower(t->cols[i].collation) : NULL;
        nt->cols[i].charset = t->cols[i].charset ? rw_lower(t->cols[i].charset) : NULL;
        if (!nt->cols[i].name || !nt->cols[i].decl || !nt->cols[i].data_type ||
            !nt->cols[i].column_type || (t->cols[i].collation && !nt->cols[i].collation) ||
            (t->cols[i].charset && !nt->cols[i].charset)) {
            fail(b, "out of memory");
            return -1;
        }
    }
    if (rte_push_last_table(b, nt->alias) != 0) {
        return -1;
    }
    return (int)(b->m->n_tabs - 1);
}

static struct rw_expr *conv(struct build *b, const PgQuery__Node *n);
static void derived(struct build *b, const PgQuery__RangeSubselect *rs);

/* Add every top-level conjunct of E (consumed) to the model. */
static void
add_conjuncts(struct build *b, struct rw_expr *e)
{
    size_t i;
    if (e == NULL) {
        return;
    }
    if (e->kind == RW_E_AND) {
        for (i = 0; i < e->n; i++) {
            add_conjuncts(b, e->args[i]);
        }
        e->n = 0;
        rw_expr_free(e);
        return;
    }
    if (push((void ***)&b->m->conj, &b->m->n_conj, e) != 0) {
        rw_expr_free(e);
        fail(b, "out of memory");
    }
}

/* The unique instance in [LO, HI) with column COL; -1 none, -2 ambiguous. */
static int
instance_with(const struct build *b, size_t lo, size_t hi, const char *col)
{
    int found = -1;
    size_t i;
    for (i = lo; i < hi; i++) {
        if (rw_model_col(b->m, (int)i, col) != NULL) {
            if (found >= 0) {
                return -2;
            }
            found = (int)i;
        }
    }
    return found;
}

/* Column reference node of instance TAB, column COL. */
static struct rw_expr *
col_expr(int tab, const char *col)
{
    struct rw_expr *e = rw_expr_new(RW_E_COL, col);
    if (e != NULL) {
        e->tab = tab;
    }
    return e;
}

/* Append the top-level conjuncts of E (consumed) to *ARR; -1 on OOM. */
static int
split_conj(struct rw_expr *e, struct rw_expr ***arr, size_t *n)
{
    size_t i;
    int rc = 0;
    if (e->kind == RW_E_AND) {
        for (i = 0; i < e->n; i++) {
            if (rc == 0) {
                rc = split_conj(e->args[i], arr, n);
            } else {
                rw_expr_free(e->args[i]);
            }
        }
        e->n = 0;
        rw_expr_free(e);
        return rc;
    }
    if (push((void ***)arr, n, e) != 0) {
        rw_expr_free(e);
        return -1;
    }
    return 0;
}

/* Walk one FROM item. */
static void
from_item(struct build *b, const PgQuery__Node *n)
{
    if (b->err != NULL) {
        return;
    }
    switch (n->node_case) {
    case PG_QUERY__NODE__NODE_RANGE_VAR:
        add_table(b, n->range_var);
        return;
    case PG_QUERY__NODE__NODE_JOIN_EXPR: {
        const PgQuery__JoinExpr *j = n->join_expr;
        size_t left_lo = b->m->n_tabs, mid, i, saved_lo, saved_rlo, rte_left = b->n_rte;
        int null_tab = -1; /* null-supplying instance of an outer join */
        struct rw_expr *on;
        bool outer = false;
        if (b->null_side) {
            fail(b, "the null-supplying side of an outer join must be a single table "
                    "(a derived table there joins several tables: a nested outer join)");
            return;
        }
        switch (j->jointype) {
        case PG_QUERY__JOIN_TYPE__JOIN_INNER:
            break;
        case PG_QUERY__JOIN_TYPE__JOIN_LEFT:
        case PG_QUERY__JOIN_TYPE__JOIN_RIGHT: {
            bool left = j->jointype == PG_QUERY__JOIN_TYPE__JOIN_LEFT;
            const PgQuery__Node *ns = left ? j->rarg : j->larg;
            outer = true;
            if (ns == NULL || (ns->node_case != PG_QUERY__NODE__NODE_RANGE_VAR &&
                               ns->node_case != PG_QUERY__NODE__NODE_RANGE_SUBSELECT)) {
                fail(b, "the null-supplying side of a %s JOIN must be a single table "
                        "(a nested join there is not supported)",
                     left ? "LEFT" : "RIGHT");
                return;
            }
            break;
        }
        default:
            fail(b, "FULL OUTER / SEMI / ANTI joins are not supported");
            return;
        }
        if (j->is_natural) {
            fail(b, "NATURAL JOIN is not supported");
            return;
        }
        if (j->alias != NULL) {
            fail(b, "aliased join is not supported");
            return;
        }
        b->null_side = outer && j->jointype == PG_QUERY__JOIN_TYPE__JOIN_RIGHT;
        from_item(b, j->larg);
        mid = b->m->n_tabs;
        b->null_side = outer && j->jointype == PG_QUERY__JOIN_TYPE__JOIN_LEFT;
        from_item(b, j->rarg);
        b->null_side = false;
        if (b->err != NULL) {
            return;
        }
        if (outer) {
            bool left = j->jointype == PG_QUERY__JOIN_TYPE__JOIN_LEFT;
            null_tab = left ? (int)mid : (int)left_lo;
            if ((left ? b->m->n_tabs - mid : mid - left_lo) != 1) {
                fail(b, "the null-supplying side of a %s JOIN must be a single table "
                        "(a derived table there reads several tables: a nested outer join)",
                     left ? "LEFT" : "RIGHT");
                return;
            }
        }
        for (i = rte_left; i < b->n_rte && j->n_using_clause > 0; i++) {
            if (b->rte[i].tab < 0) {
                fail(b, "JOIN ... USING with a derived table is not supported");
                return;
            }
        }
        on = rw_expr_new(RW_E_AND, NULL);
        if (on == NULL) {
            fail(b, "out of memory");
            return;
        }
        if (j->n_using_clause > 0) {
            b->has_using = true;
        }
        for (i = 0; i < j->n_using_clause; i++) {
            const char *name = sval(j->using_clause[i]);
            char *low = name ? rw_lower(name) : NULL;
            int l, r;
            struct rw_expr *eq;
            if (low == NULL) {
                rw_expr_free(on);
                fail(b, "bad USING clause");
                return;
            }
            l = instance_with(b, left_lo, mid, low);
            r = instance_with(b, mid, b->m->n_tabs, low);
            if (l < 0 || r < 0) {
                rw_expr_free(on);
                fail(b, "USING column %s is not unique on both sides", low);
                free(low);
                return;
            }
            eq = rw_expr_new(RW_E_OP, "=");
            if (eq == NULL || rw_expr_add(eq, col_expr(l, low)) != 0 ||
                rw_expr_add(eq, col_expr(r, low)) != 0) {
                rw_expr_free(eq);
                rw_expr_free(on);
                free(low);
                fail(b, "out of memory");
                return;
            }
            free(low);
            if (rw_expr_add(on, rw_expr_canon(eq)) != 0) {
                rw_expr_free(on);
                fail(b, "out of memory");
                return;
            }
        }
        if (j->quals != NULL) {
            bool aa = b->allow_agg;
            struct rw_expr *q;
            b->allow_agg = false;
            saved_lo = b->scope_lo;
            saved_rlo = b->rte_lo;
            b->scope_lo = left_lo; /* ON sees only the tables of this join */
            b->rte_lo = rte_left;
            q = conv(b, j->quals);
            b->scope_lo = saved_lo;
            b->rte_lo = saved_rlo;
            b->allow_agg = aa;
            if (q == NULL || rw_expr_add(on, q) != 0) {
                rw_expr_free(on);
                fail(b, "out of memory");
                return;
            }
        }
        /* the WHERE of a derived table on the null-supplying side joins the ON */
        for (i = 0; i < b->n_pend; i++) {
            struct rw_expr *pe = b->pend[i];
            b->pend[i] = NULL;
            if (rw_expr_add(on, pe) != 0) {
                rw_expr_free(on);
                fail(b, "out of memory");
                return;
            }
        }
        b->n_pend = 0;
        if (!outer) {
            add_conjuncts(b, on);
            return;
        }
        {
            struct rw_ojoin *oj = realloc(b->m->oj, (b->m->n_oj + 1) * sizeof(*oj));
            if (oj == NULL) {
                rw_expr_free(on);
                fail(b, "out of memory");
                return;
            }
            b->m->oj = oj;
            oj = &oj[b->m->n_oj++];
            memset(oj, 0, sizeof(*oj));
            oj->tab = null_tab;
            if (on->n == 0) {
                rw_expr_free(on);
                b->m->n_oj--;
                fail(b, "outer join without ON or USING");
                return;
            }
            /* flatten the ON into its conjuncts (nested ANDs included) */
            if (split_conj(on, &oj->on, &oj->n_on) != 0) {
                fail(b, "out of memory");
            }
        }
        return;
    }
    case PG_QUERY__NODE__NODE_RANGE_SUBSELECT:
        derived(b, n->range_subselect);
        return;
    default:
        fail(b, "unsupported FROM item %s", rw_node_name(n));
        return;
    }
}

/* ----------------------------------------------------------- expressions */

/* Output index whose name is NAME (case-insensitive), -1 none. */
static int
out_named(const struct rw_model *m, const char *name)
{
    size_t i;
    int found = -1;
    for (i = 0; i < m->n_out; i++) {
        if (m->out[i].name != NULL && strcasecmp(m->out[i].name, name) == 0) {
            if (found >= 0) {
                return -2;
            }
            found = (int)i;
        }
    }
    return found;
}

/* Expression for column K (rte_col) named COL of entry R; NULL with b->err. */
static struct rw_expr *
rte_ref(struct build *b, const struct rte *r, int k, const char *col)
{
    struct rw_expr *e;
    if (r->tab >= 0) {
        e = col_expr(r->tab, col);
    } else if (r->bad[k]) {
        fail(b, "column %s.%s of a derived table on the null-supplying side of an outer join "
                "is not NULL when the join finds no match (a constant, COALESCE, CASE ...): "
                "not supported", r->alias, r->names[k]);
        return NULL;
    } else {
        e = rw_expr_copy(r->exprs[k]);
    }
    if (e == NULL) {
        fail(b, "out of memory");
    }
    return e;
}

/* Resolve a ColumnRef (MariaDB's rules: an unqualified name must be a column
 * of exactly one table or derived table in scope, else it is ambiguous). */
static struct rw_expr *
conv_colref(struct build *b, const PgQuery__ColumnRef *c)
{
    const char *parts[3] = {NULL, NULL, NULL};
    size_t i, np = c->n_fields;
    char *col;
    int r = -1, k = -1;
    if (np == 0 || np > 3) {
        fail(b, "bad column reference");
        return NULL;
    }
    for (i = 0; i < np; i++) {
        parts[i] = sval(c->fields[i]);
        if (parts[i] == NULL) {
            fail(b, "'*' is only supported as a whole select item");
            return NULL;
        }
    }
    col = rw_lower(parts[np - 1]);
    if (col == NULL) {
        fail(b, "out of memory");
        return NULL;
    }
    if (np == 1) {
        for (i = b->rte_lo; i < b->n_rte; i++) {
            int kk = rte_col(b, &b->rte[i], col);
            if (kk >= 0) {
                r = r == -1 ? (int)i : -2;
                k = kk;
            }
        }
        if (r == -1 && b->alias_fallback) {
            int o = out_named(b->m, col);
            if (o >= 0 && b->m->out[o].e != NULL) {
                free(col);
                return rw_expr_copy(b->m->out[o].e);
            }
        }
        if (r == -2) {
            fail(b, "column %s is ambiguous", col);
        } else if (r == -1) {
            fail(b, "unknown column %s", col);
        }
    } else {
        const char *tname = parts[np - 2];
        const char *dbname = np == 3 ? parts[0] : NULL;
        for (i = b->rte_lo; i < b->n_rte; i++) {
            const struct rte *e = &b->rte[i];
            if (e->tab < 0) {
                if (dbname == NULL && strcasecmp(e->alias, tname) == 0) {
                    r = r == -1 ? (int)i : -2;
                }
                continue;
            }
            const struct rw_tab *t = &b->m->tabs[e->tab];
            bool aliased = strcasecmp(t->alias, t->name) != 0;
            if (dbname != NULL) {
                if (!aliased && strcasecmp(t->db, dbname) == 0 && strcasecmp(t->name, tname) == 0) {
                    r = r == -1 ? (int)i : -2;
                }
            } else if (strcasecmp(t->alias, tname) == 0) {
                r = r == -1 ? (int)i : -2;
            }
        }
        if (r >= 0 && (k = rte_col(b, &b->rte[r], col)) < 0) {
            fail(b, "unknown column %s.%s", tname, col);
        } else if (r == -2) {
            fail(b, "table reference %s is ambiguous", tname);
        } else if (r == -1) {
            fail(b, "unknown table %s", tname);
        }
    }
    if (b->err != NULL) {
        free(col);
        return NULL;
    }
    {
        struct rw_expr *e = rte_ref(b, &b->rte[r], k, col);
        free(col);
        if (e != NULL) {
            b->ref_rte = r;
            b->ref_k = k;
        }
        return e;
    }
}

/* Literal from an A_Const. */
static struct rw_expr *
conv_const(struct build *b, const PgQuery__AConst *k)
{
    struct rw_expr *e = rw_expr_new(RW_E_CONST, NULL);
    if (e == NULL) {
        fail(b, "out of memory");
        return NULL;
    }
    e->text = rw_parse_literal(b->p, k->location);
    if (e->text == NULL) {
        fail(b, "cannot read the literal at offset %zu", rw_parse_orig(b->p, k->location));
        rw_expr_free(e);
        return NULL;
    }
    if (k->isnull) {
        e->ctype = RW_C_NULL;
        e->val = rw_strdup("NULL");
    } else {
        switch (k->val_case) {
        case PG_QUERY__A__CONST__VAL_IVAL:
            e->ctype = RW_C_INT;
            e->val = rw_sprintf("%d", (int)(k->ival ? k->ival->ival : 0));
            break;
        case PG_QUERY__A__CONST__VAL_FVAL:
            e->val = rw_strdup(k->fval->fval);
            e->ctype = strpbrk(k->fval->fval, "eE") ? RW_C_FLOAT
                       : strchr(k->fval->fval, '.') ? RW_C_DEC
                                                   : RW_C_INT;
            if (strncmp(e->text, "0x", 2) == 0 || strncmp(e->text, "0X", 2) == 0) {
                e->ctype = RW_C_FLOAT; /* hex: identity only */
            }
            break;
        case PG_QUERY__A__CONST__VAL_SVAL:
            e->ctype = RW_C_STR;
            e->val = rw_strdup(k->sval->sval);
            if (e->text[0] != '\'' && e->text[0] != '"') {
                /* _charset'..' / N'..': the introducer is part of the value's
                 * identity (another character set compares differently) */
                size_t n = strcspn(e->text, "'\" \t\r\n");
                e->name = rw_strndup(e->text, n);
                if (e->name == NULL) {
                    rw_expr_free(e);
                    fail(b, "out of memory");
                    return NULL;
                }
                for (char *q = e->name; *q != '\0'; q++) {
                    *q = (char)tolower((unsigned char)*q);
                }
            }
            break;
        case PG_QUERY__A__CONST__VAL_BOOLVAL:
            e->ctype = RW_C_BOOL;
            e->val = rw_strdup(k->boolval->boolval ? "1" : "0");
            break;
        default:
            e->ctype = RW_C_FLOAT;
            e->val = rw_strdup(e->text);
            break;
        }
    }
    if (e->val == NULL) {
        rw_expr_free(e);
        fail(b, "out of memory");
        return NULL;
    }
    if (e->ctype == RW_C_INT && e->text[0] != '-' && (e->text[0] < '0' || e->text[0] > '9')) {
        e->ctype = RW_C_FLOAT; /* b'..', X'..' and friends: identity only */
    }
    return e;
}

/* Convert every node of LIST into args of E; false on failure. */
static bool
conv_args(struct build *b, struct rw_expr *e, PgQuery__Node *const *list, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++) {
        struct rw_expr *a = conv(b, list[i]);
        if (a == NULL || rw_expr_add(e, a) != 0) {
            fail(b, "out of memory");
            return false;
        }
    }
    return true;
}

/* PostgreSQL's FRAMEOPTION_* bits (parsenodes.h, PG 15) of WindowDef.frame_options. */
enum {
    FO_NONDEFAULT = 0x1, FO_RANGE = 0x2, FO_ROWS = 0x4, FO_GROUPS = 0x8, FO_BETWEEN = 0x10,
    FO_S_UP = 0x20, FO_E_UP = 0x40, FO_S_UF = 0x80, FO_E_UF = 0x100, FO_S_CR = 0x200,
    FO_E_CR = 0x400, FO_S_P = 0x800, FO_E_P = 0x1000, FO_S_F = 0x2000, FO_E_F = 0x4000,
    FO_EXCLUDE = 0x8000 | 0x10000 | 0x20000,
};

/* Append to FR (RW_E_WFRAME) the offset node N of a bound; false on failure. */
static bool
frame_offset(struct build *b, struct rw_expr *fr, const PgQuery__Node *n)
{
    struct rw_expr *o = conv(b, n);
    if (o == NULL) {
        return false;
    }
    if (o->kind != RW_E_CONST || o->ctype != RW_C_INT || o->val[0] == '-') {
        rw_expr_free(o);
        fail(b, "window frame offsets other than non-negative integer literals are not "
                "supported");
        return false;
    }
    if (rw_expr_add(fr, o) != 0) {
        fail(b, "out of memory");
        return false;
    }
    return true;
}

/*
 * The frame of window W as an RW_E_WFRAME (see rw_expr.h): the default
 * frame, and an explicit frame equal to it, are "" (RANGE BETWEEN
 * UNBOUNDED PRECEDING AND CURRENT ROW, which is also the whole partition
 * when there is no ORDER BY). NULL with b->err for GROUPS, EXCLUDE and
 * non-literal offsets.
 */
static struct rw_expr *
conv_frame(struct build *b, const PgQuery__WindowDef *w)
{
    int fo = w->frame_options;
    const char *st, *en;
    char *nm;
    struct rw_expr *fr;
    if ((fo & (FO_GROUPS | FO_EXCLUDE)) != 0) {
        fail(b, "window frames with GROUPS or EXCLUDE are not supported");
        return NULL;
    }
    if (!(fo & FO_NONDEFAULT) ||
        ((fo & FO_RANGE) && (fo & FO_S_UP) && (fo & FO_E_CR))) {
        return rw_expr_new(RW_E_WFRAME, "");
    }
    st = (fo & FO_S_UP) ? "UP" : (fo & FO_S_CR) ? "CR" : (fo & FO_S_P) ? "P"
         : (fo & FO_S_F) ? "F" : (fo & FO_S_UF) ? "UF" : NULL;
    en = (fo & FO_E_UF) ? "UF" : (fo & FO_E_CR) ? "CR" : (fo & FO_E_P) ? "P"
         : (fo & FO_E_F) ? "F" : (fo & FO_E_UP) ? "UP" : NULL;
    if (!(fo & FO_BETWEEN) && en == NULL) {
        en = "CR"; /* ROWS <start> means BETWEEN <start> AND CURRENT ROW */
    }
    if (st == NULL || en == NULL || !(fo & (FO_ROWS | FO_RANGE))) {
        fail(b, "window frame %#x is not supported", (unsigned)fo);
        return NULL;
    }
    if ((fo & FO_RANGE) && (st[0] == 'P' || st[0] == 'F' || en[0] == 'P' || en[0] == 'F')) {
        /* RANGE offsets depend on the ORDER BY type (INTERVAL for dates) */
        fail(b, "RANGE window frames with offsets are not supported");
        return NULL;
    }
    nm = rw_sprintf("%s %s %s", (fo & FO_ROWS) ? "ROWS" : "RANGE", st, en);
    fr = nm != NULL ? rw_expr_new(RW_E_WFRAME, nm) : NULL;
    free(nm);
    if (fr == NULL) {
        fail(b, "out of memory");
        return NULL;
    }
    if ((st[0] == 'P' || st[0] == 'F') && !frame_offset(b, fr, w->start_offset)) {
        rw_expr_free(fr);
        return NULL;
    }
    if ((en[0] == 'P' || en[0] == 'F') && !frame_offset(b, fr, w->end_offset)) {
        rw_expr_free(fr);
        return NULL;
    }
    return fr;
}

/* Lower-case copy of NAME (caller frees); NULL with "out of memory" failed in B. */
static char *
lower_or_fail(struct build *b, const char *name)
{
    char *low = rw_lower(name);
    if (low == NULL) {
        fail(b, "out of memory");
    }
    return low;
}

/* Is the lower-case name LOW one of the NULL-terminated LIST? */
static bool
name_in(const char *low, const char *const *list)
{
    size_t i;
    for (i = 0; list[i] != NULL; i++) {
        if (strcmp(low, list[i]) == 0) {
            return true;
        }
    }
    return false;
}

/*
 * Convert the window function call F (F->over set; RAW its name) into
 * RW_E_WIN (rw_expr.h): the call, PARTITION BY (sorted by canonicalisation),
 * ORDER BY items with their direction, and the frame. Only in the select
 * list and ORDER BY of a block; named windows, DISTINCT, FILTER and
 * functions that are neither aggregates nor MariaDB window functions fail.
 */
static struct rw_expr *
conv_window(struct build *b, const PgQuery__FuncCall *f, const char *raw)
{
    static const char *const aggs[] = {"sum", "count", "min", "max", "avg", "std", "stddev",
                                       "stddev_pop", "stddev_samp", "variance", "var_pop",
                                       "var_samp", "bit_and", "bit_or", "bit_xor", NULL};
    static const char *const wins[] = {"row_number", "rank", "dense_rank", "percent_rank",
                                       "cume_dist", "ntile", "lag", "lead", "first_value",
                                       "last_value", "nth_value", NULL};
    const PgQuery__WindowDef *w = f->over;
    bool is_agg = false, is_win = false, aa = b->allow_agg, aw = b->allow_win;
    struct rw_expr *e = NULL, *call = NULL, *part = NULL, *ord = NULL, *fr = NULL;
    char *low;
    size_t i;
    if (!b->allow_win) {
        fail(b, "window function %s() is not allowed here", raw);
        return NULL;
    }
    if ((w->name != NULL && w->name[0] != '\0') || (w->refname != NULL && w->refname[0] != '\0')) {
        fail(b, "named windows (OVER w, WINDOW w AS ...) are outside the model");
        return NULL;
    }
    if (f->agg_distinct || f->agg_filter != NULL || f->n_agg_order > 0 || f->agg_within_group ||
        f->func_variadic) {
        fail(b, "modifiers on window function %s() are not supported", raw);
        return NULL;
    }
    if ((low = lower_or_fail(b, raw)) == NULL) {
        return NULL;
    }
    is_agg = name_in(low, aggs);
    is_win = name_in(low, wins);
    if (!is_agg && !is_win) {
        fail(b, "%s() is not a window function the model knows", raw);
        free(low);
        return NULL;
    }
    call = rw_expr_new(is_agg ? RW_E_AGG : RW_E_FUNC, low);
    e = rw_expr_new(RW_E_WIN, low);
    part = rw_expr_new(RW_E_WPART, NULL);
    ord = rw_expr_new(RW_E_WORDER, NULL);
    free(low);
    if (call == NULL || e == NULL || part == NULL || ord == NULL) {
        fail(b, "out of memory");
        goto bad;
    }
    b->allow_agg = true; /* refused below with a clearer reason than "not allowed here" */
    b->allow_win = false;
    if (f->agg_star) {
        if (strcmp(call->name, "count") != 0) {
            fail(b, "%s(*) is not supported", call->name);
        }
    } else {
        (void)conv_args(b, call, f->args, f->n_args);
    }
    if (b->err == NULL && is_agg && call->n != (f->agg_star ? 0u : 1u)) {
        fail(b, "%s() with %zu arguments is not supported", call->name, call->n);
    }
    for (i = 0; i < w->n_partition_clause && b->err == NULL; i++) {
        struct rw_expr *pe = conv(b, w->partition_clause[i]);
        if (pe != NULL && pe->kind == RW_E_CONST) {
            rw_expr_free(pe);
            fail(b, "a literal in a window PARTITION BY is not supported");
            break;
        }
        if (pe == NULL || rw_expr_add(part, pe) != 0) {
            fail(b, "out of memory");
        }
    }
    for (i = 0; i < w->n_order_clause && b->err == NULL; i++) {
        const PgQuery__SortBy *sb;
        struct rw_expr *it, *oe;
        if (w->order_clause[i]->node_case != PG_QUERY__NODE__NODE_SORT_BY) {
            fail(b, "bad window ORDER BY item");
            break;
        }
        sb = w->order_clause[i]->sort_by;
        if ((sb->sortby_nulls != PG_QUERY__SORT_BY_NULLS__SORTBY_NULLS_DEFAULT &&
             sb->sortby_nulls != PG_QUERY__SORT_BY_NULLS__SORT_BY_NULLS_UNDEFINED) ||
            sb->n_use_op > 0) {
            fail(b, "NULLS FIRST/LAST or USING in a window ORDER BY is not MariaDB syntax");
            break;
        }
        oe = conv(b, sb->node);
        if (oe != NULL && oe->kind == RW_E_CONST) {
            rw_expr_free(oe);
            fail(b, "a literal in a window ORDER BY is not supported");
            break;
        }
        it = rw_expr_new(RW_E_WSORT, NULL);
        if (oe == NULL || it == NULL || rw_expr_add(it, oe) != 0) {
            rw_expr_free(it);
            fail(b, "out of memory");
            break;
        }
        it->neg = sb->sortby_dir == PG_QUERY__SORT_BY_DIR__SORTBY_DESC;
        if (rw_expr_add(ord, it) != 0) {
            fail(b, "out of memory");
        }
    }
    b->allow_agg = aa;
    b->allow_win = aw;
    for (i = 0; b->err == NULL && i < call->n; i++) {
        if (rw_expr_has_agg(call->args[i])) {
            fail(b, "window functions over aggregates (windows together with GROUP BY or "
                    "aggregates) are outside the model");
        }
    }
    if (b->err == NULL && (rw_expr_has_agg(part) || rw_expr_has_agg(ord))) {
        fail(b, "window functions over aggregates (windows together with GROUP BY or "
                "aggregates) are outside the model");
    }
    if (b->err != NULL) {
        goto bad;
    }
    fr = conv_frame(b, w);
    if (fr == NULL) {
        if (b->err == NULL) {
            fail(b, "out of memory");
        }
        goto bad;
    }
    {
        /* rw_expr_add consumes its argument, also on failure */
        struct rw_expr **parts[4] = {&call, &part, &ord, &fr};
        for (i = 0; i < 4; i++) {
            struct rw_expr *x = *parts[i];
            *parts[i] = NULL;
            if (rw_expr_add(e, x) != 0) {
                fail(b, "out of memory");
                goto bad;
            }
        }
    }
    b->m->has_win = true;
    return e;
bad:
    rw_expr_free(fr);
    b->allow_agg = aa;
    b->allow_win = aw;
    rw_expr_free(call);
    rw_expr_free(part);
    rw_expr_free(ord);
    rw_expr_free(e);
    return NULL;
}

/*
 * INTERVAL expr unit, which the bridge wrote as mvp_interval(expr, 'unit')
 * with the 'unit' constant located on the unit word (rw_dialect.h): E (the
 * FUNC node "mvp_interval", consumed) gets args[0] = expr and args[1] = a
 * string constant whose value is the lower-case unit and whose text is the
 * unit word as written, so that rw_emit prints INTERVAL expr UNIT again.
 * The interval is structural: matched as a whole, never evaluated.
 */
static struct rw_expr *
conv_interval(struct build *b, struct rw_expr *e, const PgQuery__FuncCall *f)
{
    const PgQuery__AConst *k;
    struct rw_expr *u;
    size_t off, i;
    if (f->n_args != 2 || f->args[1]->node_case != PG_QUERY__NODE__NODE_A_CONST ||
        f->args[1]->a_const->val_case != PG_QUERY__A__CONST__VAL_SVAL) {
        rw_expr_free(e);
        fail(b, "unsupported INTERVAL expression");
        return NULL;
    }
    k = f->args[1]->a_const;
    if (rw_expr_add(e, conv(b, f->args[0])) != 0 || b->err != NULL) {
        rw_expr_free(e);
        fail(b, "out of memory");
        return NULL;
    }
    off = rw_parse_orig(b->p, k->location);
    i = rw_parse_tok_at(b->p, off);
    u = rw_expr_new(RW_E_CONST, NULL);
    if (u == NULL || i >= b->p->n_toks || b->p->toks[i].off != off ||
        b->p->toks[i].kind != RW_TOK_IDENT) {
        rw_expr_free(u);
        rw_expr_free(e);
        fail(b, "cannot read the INTERVAL unit at offset %zu", off);
        return NULL;
    }
    u->ctype = RW_C_STR;
    u->val = rw_strdup(k->sval->sval);
    u->text = rw_strndup(b->p->src + off, b->p->toks[i].len);
    if (u->val == NULL || u->text == NULL || rw_expr_add(e, u) != 0) {
        rw_expr_free(e);
        fail(b, "out of memory");
        return NULL;
    }
    for (i = 0; u->text[i] != '\0'; i++) {
        u->text[i] = (char)toupper((unsigned char)u->text[i]);
    }
    return e;
}

/* Convert a FuncCall. */
static struct rw_expr *
conv_func(struct build *b, const PgQuery__FuncCall *f)
{
    static const char *const aggs[] = {"sum", "count", "min", "max", "avg", "group_concat",
                                       "std", "stddev", "stddev_pop", "stddev_samp",
                                       "variance", "var_pop", "var_samp", "bit_and", "bit_or",
                                       "bit_xor", "json_arrayagg", "json_objectagg", NULL};
    const char *raw;
    char *low;
    const char *name;
    bool is_agg = false;
    struct rw_expr *e;
    if (f->n_funcname == 2 && sval(f->funcname[0]) != NULL &&
        strcmp(sval(f->funcname[0]), "pg_catalog") == 0) {
        fail(b, "function syntax %s(...) is not supported", sval(f->funcname[1]));
        return NULL;
    }
    if (f->n_funcname != 1 || (raw = sval(f->funcname[0])) == NULL) {
        fail(b, "qualified function names are not supported");
        return NULL;
    }
    if (f->over != NULL) {
        return conv_window(b, f, raw);
    }
    if (f->agg_filter != NULL || f->n_agg_order > 0 || f->agg_within_group || f->func_variadic) {
        fail(b, "aggregate modifiers on %s() are not supported", raw);
        return NULL;
    }
    if ((low = lower_or_fail(b, raw)) == NULL) {
        return NULL;
    }
    is_agg = name_in(low, aggs);
    name = is_agg ? low : rw_func_canon_name(low, f->n_args);
    e = rw_expr_new(is_agg ? RW_E_AGG : RW_E_FUNC, name);
    free(low);
    if (e == NULL) {
        fail(b, "out of memory");
        return NULL;
    }
    if (is_agg) {
        bool aa = b->allow_agg;
        if (!aa) {
            fail(b, "aggregate %s() is not allowed here", e->name);
            rw_expr_free(e);
            return NULL;
        }
        e->distinct = f->agg_distinct;
        if (f->agg_star) {
            if (strcmp(e->name, "count") != 0) {
                fail(b, "%s(*) is not supported", e->name);
                rw_expr_free(e);
                return NULL;
            }
            return e;
        }
        b->allow_agg = false; /* no nested aggregates */
        if (!conv_args(b, e, f->args, f->n_args)) {
            b->allow_agg = aa;
            rw_expr_free(e);
            return NULL;
        }
        b->allow_agg = aa;
        if (e->n != 1 && strcmp(e->name, "group_concat") != 0) {
            fail(b, "%s() with %zu arguments is not supported", e->name, e->n);
            rw_expr_free(e);
            return NULL;
        }
        return e;
    }
    if (f->agg_star || f->agg_distinct) {
        fail(b, "%s() is not a known aggregate", e->name);
        rw_expr_free(e);
        return NULL;
    }
    if (strcmp(e->name, "mvp_interval") == 0) {
        return conv_interval(b, e, f);
    }
    if (!conv_args(b, e, f->args, f->n_args)) {
        rw_expr_free(e);
        return NULL;
    }
    if (rw_func_nondeterministic(e->name)) {
        b->m->nondet = true;
    }
    return e;
}

/* Map a PG operator name to ours; NULL when unsupported. */
static const char *
op_name(const char *pg)
{
    static const char *const ops[][2] = {
        {"=", "="},   {"<>", "<>"}, {"!=", "<>"}, {"<", "<"},  {"<=", "<="}, {">", ">"},
        {">=", ">="}, {"+", "+"},   {"-", "-"},   {"*", "*"},  {"/", "/"},   {"%", "%"},
        {NULL, NULL}};
    size_t i;
    for (i = 0; ops[i][0] != NULL; i++) {
        if (strcmp(ops[i][0], pg) == 0) {
            return ops[i][1];
        }
    }
    return NULL;
}

/* Convert an A_Expr. */
static struct rw_expr *
conv_aexpr(struct build *b, const PgQuery__AExpr *a)
{
    const char *nm = a->n_name > 0 ? sval(a->name[a->n_name - 1]) : NULL;
    struct rw_expr *e = NULL;
    const PgQuery__List *l;
    switch (a->kind) {
    case PG_QUERY__A__EXPR__KIND__AEXPR_OP: {
        const char *op = nm ? op_name(nm) : NULL;
        if (op == NULL || a->n_name != 1) {
            fail(b, "operator %s is not supported", nm ? nm : "?");
            return NULL;
        }
        e = rw_expr_new(RW_E_OP, op);
        if (e == NULL) {
            break;
        }
        if (a->lexpr != NULL && rw_expr_add(e, conv(b, a->lexpr)) != 0) {
            break;
        }
        if (a->rexpr == NULL || rw_expr_add(e, conv(b, a->rexpr)) != 0) {
            break;
        }
        if (e->n == 1 && strcmp(op, "-") != 0 && strcmp(op, "+") != 0) {
            fail(b, "prefix operator %s is not supported", op);
            break;
        }
        return e;
    }
    case PG_QUERY__A__EXPR__KIND__AEXPR_NOT_DISTINCT:
        e = rw_expr_new(RW_E_OP, "<=>");
        if (e == NULL || rw_expr_add(e, conv(b, a->lexpr)) != 0 ||
            rw_expr_add(e, conv(b, a->rexpr)) != 0) {
            break;
        }
        return e;
    case PG_QUERY__A__EXPR__KIND__AEXPR_NULLIF:
        e = rw_expr_new(RW_E_FUNC, "nullif");
        if (e == NULL || rw_expr_add(e, conv(b, a->lexpr)) != 0 ||
            rw_expr_add(e, conv(b, a->rexpr)) != 0) {
            break;
        }
        return e;
    case PG_QUERY__A__EXPR__KIND__AEXPR_IN:
        if (a->rexpr == NULL || a->rexpr->node_case != PG_QUERY__NODE__NODE_LIST) {
            fail(b, "IN (subquery) is not supported");
            return NULL;
        }
        l = a->rexpr->list;
        e = rw_expr_new(RW_E_IN, NULL);
        if (e == NULL) {
            break;
        }
        e->neg = nm != NULL && strcmp(nm, "<>") == 0;
        if (rw_expr_add(e, conv(b, a->lexpr)) != 0 || !conv_args(b, e, l->items, l->n_items)) {
            break;
        }
        return e;
    case PG_QUERY__A__EXPR__KIND__AEXPR_LIKE:
        e = rw_expr_new(RW_E_LIKE, NULL);
        if (e == NULL) {
            break;
        }
        e->neg = nm != NULL && strcmp(nm, "!~~") == 0;
        if (rw_expr_add(e, conv(b, a->lexpr)) != 0 || rw_expr_add(e, conv(b, a->rexpr)) != 0) {
            break;
        }
        return e;
    case PG_QUERY__A__EXPR__KIND__AEXPR_BETWEEN:
    case PG_QUERY__A__EXPR__KIND__AEXPR_NOT_BETWEEN:
        if (a->rexpr == NULL || a->rexpr->node_case != PG_QUERY__NODE__NODE_LIST ||
            a->rexpr->list->n_items != 2) {
            fail(b, "bad BETWEEN");
            return NULL;
        }
        e = rw_expr_new(RW_E_BETWEEN, NULL);
        if (e == NULL) {
            break;
        }
        e->neg = a->kind == PG_QUERY__A__EXPR__KIND__AEXPR_NOT_BETWEEN;
        if (rw_expr_add(e, conv(b, a->lexpr)) != 0 ||
            !conv_args(b, e, a->rexpr->list->items, 2)) {
            break;
        }
        return e;
    default:
        fail(b, "expression kind %d is not supported", (int)a->kind);
        return NULL;
    }
    rw_expr_free(e);
    fail(b, "out of memory");
    return NULL;
}

/*
 * Canonical MariaDB text of the CAST / CONVERT target type whose first
 * token is at original offset OFF, up to the closing ')' of the call:
 * keywords upper case, one space between words, none around '(' ',' ')';
 * INT / INTEGER / SIGNED INT[EGER] -> SIGNED, UNSIGNED INT[EGER] ->
 * UNSIGNED (MariaDB treats them alike). Returns a new string or NULL when
 * the type cannot be read (unbalanced, empty, or a character set / collation
 * clause, which the matcher does not model).
 */
static char *
cast_type_text(const struct rw_parse *p, size_t off)
{
    struct rw_lexer lx;
    struct rw_buf t = {0};
    size_t i = rw_parse_tok_at(p, off);
    int depth = 0;
    bool prev_word = false;
    char *r;
    rw_lex_init(&lx, p->src, p->src_len);
    for (; i < p->n_toks; i++) {
        struct rw_tok k = p->toks[i];
        if (rw_tok_is_op(&lx, k, "(")) {
            depth++;
        } else if (rw_tok_is_op(&lx, k, ")")) {
            if (depth == 0) {
                break;
            }
            depth--;
        }
        if (k.kind == RW_TOK_IDENT) {
            if (rw_tok_is(&lx, k, "CHARACTER") || rw_tok_is(&lx, k, "CHARSET") ||
                rw_tok_is(&lx, k, "COLLATE") || rw_tok_is(&lx, k, "ASCII") ||
                rw_tok_is(&lx, k, "UNICODE")) {
                rw_buf_free(&t);
                return NULL;
            }
            if (prev_word) {
                rw_buf_puts(&t, " ");
            }
            for (size_t c = 0; c < k.len; c++) {
                char ch = p->src[k.off + c];
                ch = (char)(ch >= 'a' && ch <= 'z' ? ch - 32 : ch);
                rw_buf_add(&t, &ch, 1);
            }
            prev_word = true;
        } else if (k.kind == RW_TOK_NUMBER || k.kind == RW_TOK_OP) {
            rw_buf_add(&t, p->src + k.off, k.len);
            prev_word = false;
        } else {
            rw_buf_free(&t);
            return NULL;
        }
    }
    if (i >= p->n_toks || t.len == 0 || t.oom) {
        rw_buf_free(&t);
        return NULL;
    }
    r = rw_buf_take(&t);
    if (r == NULL) {
        return NULL;
    }
    if (strcmp(r, "INT") == 0 || strcmp(r, "INTEGER") == 0 || strcmp(r, "SIGNED INT") == 0 ||
        strcmp(r, "SIGNED INTEGER") == 0) {
        free(r);
        return rw_strdup("SIGNED");
    }
    if (strcmp(r, "UNSIGNED INT") == 0 || strcmp(r, "UNSIGNED INTEGER") == 0) {
        free(r);
        return rw_strdup("UNSIGNED");
    }
    return r;
}

/*
 * CAST(x AS type) / CONVERT(x, type) over an expression: RW_E_CAST named by
 * the canonical target type (cast_type_text), so that two casts match when
 * their operands match and their types are written alike (issue 3,
 * "Expressions: ... casts"). The type text comes from the ORIGINAL MariaDB
 * text, never from the PostgreSQL type name the parser saw.
 */
static struct rw_expr *
conv_cast_expr(struct build *b, const PgQuery__TypeCast *tc)
{
    char *ty;
    struct rw_expr *e;
    if (tc->type_name == NULL || tc->arg == NULL || tc->type_name->n_array_bounds > 0) {
        fail(b, "CAST / type conversion is not supported here");
        return NULL;
    }
    ty = cast_type_text(b->p, rw_parse_orig(b->p, tc->type_name->location));
    if (ty == NULL) {
        fail(b, "CAST target type at offset %zu is not supported",
             rw_parse_orig(b->p, tc->type_name->location));
        return NULL;
    }
    e = rw_expr_new(RW_E_CAST, ty);
    free(ty);
    if (e == NULL || rw_expr_add(e, conv(b, tc->arg)) != 0) {
        rw_expr_free(e);
        fail(b, "out of memory");
        return NULL;
    }
    return e;
}

/* Convert a TypeCast: typed literals DATE '..' / TIMESTAMP '..', else a cast. */
static struct rw_expr *
conv_cast(struct build *b, const PgQuery__TypeCast *tc)
{
    const char *tn = tc->type_name && tc->type_name->n_names > 0
                         ? sval(tc->type_name->names[tc->type_name->n_names - 1])
                         : NULL;
    char norm[20];
    struct rw_expr *e;
    if (tn != NULL && (strcmp(tn, "date") == 0 || strcmp(tn, "timestamp") == 0) &&
        tc->arg != NULL && tc->arg->node_case == PG_QUERY__NODE__NODE_A_CONST &&
        tc->arg->a_const->val_case == PG_QUERY__A__CONST__VAL_SVAL &&
        rw_norm_datetime(tc->arg->a_const->sval->sval, norm)) {
        e = rw_expr_new(RW_E_CONST, NULL);
        if (e == NULL) {
            fail(b, "out of memory");
            return NULL;
        }
        e->ctype = RW_C_DATE;
        e->val = rw_strdup(norm);
        e->text = rw_parse_literal(b->p, tc->location);
        if (e->val != NULL && e->text == NULL) {
            /* CAST('2024-01-01' AS DATE): not a typed literal, an ordinary cast */
            rw_expr_free(e);
            return conv_cast_expr(b, tc);
        }
        if (e->val == NULL || e->text == NULL) {
            rw_expr_free(e);
            fail(b, "cannot read the typed literal at offset %zu",
                 rw_parse_orig(b->p, tc->location));
            return NULL;
        }
        return e;
    }
    return conv_cast_expr(b, tc);
}

/* Convert node N into a canonical expression; NULL with b->err on failure. */
static struct rw_expr *
conv_raw(struct build *b, const PgQuery__Node *n)
{
    struct rw_expr *e = NULL;
    size_t i;
    if (n == NULL) {
        fail(b, "missing expression");
        return NULL;
    }
    switch (n->node_case) {
    case PG_QUERY__NODE__NODE_COLUMN_REF:
        return conv_colref(b, n->column_ref);
    case PG_QUERY__NODE__NODE_A_CONST:
        return conv_const(b, n->a_const);
    case PG_QUERY__NODE__NODE_TYPE_CAST:
        return conv_cast(b, n->type_cast);
    case PG_QUERY__NODE__NODE_A_EXPR:
        return conv_aexpr(b, n->a_expr);
    case PG_QUERY__NODE__NODE_FUNC_CALL:
        return conv_func(b, n->func_call);
    case PG_QUERY__NODE__NODE_BOOL_EXPR: {
        const PgQuery__BoolExpr *be = n->bool_expr;
        e = rw_expr_new(be->boolop == PG_QUERY__BOOL_EXPR_TYPE__AND_EXPR  ? RW_E_AND
                        : be->boolop == PG_QUERY__BOOL_EXPR_TYPE__OR_EXPR ? RW_E_OR
                                                                          : RW_E_NOT,
                        NULL);
        if (e == NULL || !conv_args(b, e, be->args, be->n_args)) {
            break;
        }
        return e;
    }
    case PG_QUERY__NODE__NODE_NULL_TEST:
        e = rw_expr_new(RW_E_ISNULL, NULL);
        if (e == NULL || rw_expr_add(e, conv(b, n->null_test->arg)) != 0) {
            break;
        }
        e->neg = n->null_test->nulltesttype == PG_QUERY__NULL_TEST_TYPE__IS_NOT_NULL;
        return e;
    case PG_QUERY__NODE__NODE_COALESCE_EXPR:
        e = rw_expr_new(RW_E_FUNC, "coalesce");
        if (e == NULL || !conv_args(b, e, n->coalesce_expr->args, n->coalesce_expr->n_args)) {
            break;
        }
        return e;
    case PG_QUERY__NODE__NODE_MIN_MAX_EXPR:
        e = rw_expr_new(RW_E_FUNC, n->min_max_expr->op == PG_QUERY__MIN_MAX_OP__IS_GREATEST
                                       ? "greatest"
                                       : "least");
        if (e == NULL || !conv_args(b, e, n->min_max_expr->args, n->min_max_expr->n_args)) {
            break;
        }
        return e;
    case PG_QUERY__NODE__NODE_SQLVALUE_FUNCTION: {
        const char *nm;
        switch (n->sqlvalue_function->op) {
        case PG_QUERY__SQLVALUE_FUNCTION_OP__SVFOP_CURRENT_DATE:
            nm = "current_date";
            break;
        case PG_QUERY__SQLVALUE_FUNCTION_OP__SVFOP_CURRENT_TIMESTAMP:
        case PG_QUERY__SQLVALUE_FUNCTION_OP__SVFOP_LOCALTIMESTAMP:
        case PG_QUERY__SQLVALUE_FUNCTION_OP__SVFOP_LOCALTIME:
            nm = "now";
            break;
        case PG_QUERY__SQLVALUE_FUNCTION_OP__SVFOP_CURRENT_TIME:
            nm = "current_time";
            break;
        case PG_QUERY__SQLVALUE_FUNCTION_OP__SVFOP_CURRENT_USER:
        case PG_QUERY__SQLVALUE_FUNCTION_OP__SVFOP_USER:
            nm = "current_user";
            break;
        default:
            fail(b, "SQL value function %d is not supported", (int)n->sqlvalue_function->op);
            return NULL;
        }
        b->m->nondet = true;
        e = rw_expr_new(RW_E_FUNC, nm);
        if (e == NULL) {
            break;
        }
        return e;
    }
    case PG_QUERY__NODE__NODE_CASE_EXPR: {
        const PgQuery__CaseExpr *c = n->case_expr;
        e = rw_expr_new(RW_E_CASE, NULL);
        if (e == NULL) {
            break;
        }
        if (c->arg != NULL) {
            e->case_arg = true;
            if (rw_expr_add(e, conv(b, c->arg)) != 0) {
                break;
            }
        }
        for (i = 0; i < c->n_args; i++) {
            const PgQuery__CaseWhen *w = c->args[i]->case_when;
            if (c->args[i]->node_case != PG_QUERY__NODE__NODE_CASE_WHEN ||
                rw_expr_add(e, conv(b, w->expr)) != 0 || rw_expr_add(e, conv(b, w->result)) != 0) {
                goto bad;
            }
        }
        if (c->defresult != NULL) {
            e->has_else = true;
            if (rw_expr_add(e, conv(b, c->defresult)) != 0) {
                break;
            }
        }
        return e;
    }
    case PG_QUERY__NODE__NODE_SUB_LINK:
        fail(b, "subqueries in expressions are not supported yet");
        return NULL;
    case PG_QUERY__NODE__NODE_COLLATE_CLAUSE:
        fail(b, "an explicit COLLATE overrides the column's collation: such comparisons are "
                "not matched");
        return NULL;
    case PG_QUERY__NODE__NODE_PARAM_REF:
        fail(b, "placeholders are not supported");
        return NULL;
    default:
        fail(b, "unsupported expression %s", rw_node_name(n));
        return NULL;
    }
bad:
    rw_expr_free(e);
    fail(b, "out of memory");
    return NULL;
}

static struct rw_expr *
conv(struct build *b, const PgQuery__Node *n)
{
    struct rw_expr *e;
    if (b->err != NULL) {
        return NULL;
    }
    e = conv_raw(b, n);
    if (e == NULL) {
        fail(b, "out of memory");
        return NULL;
    }
    return rw_expr_canon(e);
}

/* ------------------------------------------------------------ select list */

/* The unquoted text of the identifier token at original offset OFF's token I. */
static char *
tok_value(const struct rw_parse *p, size_t i)
{
    struct rw_lexer lx;
    rw_lex_init(&lx, p->src, p->src_len);
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
        rw_lex_init(&lx, p->src, p->src_len);
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
        fail(b, "out of memory");
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
        fail(b, "SELECT * over JOIN ... USING is not supported");
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
                add_out(b, rw_strdup(t->cols[i].decl), col_expr(e->tab, t->cols[i].name));
            }
            continue;
        }
        for (i = 0; i < e->n_cols && b->err == NULL; i++) {
            struct rw_expr *x = rte_ref(b, e, (int)i, e->names[i]);
            if (x != NULL) {
                add_out(b, rw_strdup(e->names[i]), x);
            }
        }
    }
}

/* One select-list item. */
static void
select_item(struct build *b, const PgQuery__Node *n)
{
    const PgQuery__ResTarget *r;
    if (n->node_case != PG_QUERY__NODE__NODE_RES_TARGET) {
        fail(b, "bad select item");
        return;
    }
    r = n->res_target;
    if (r->val != NULL && r->val->node_case == PG_QUERY__NODE__NODE_COLUMN_REF) {
        const PgQuery__ColumnRef *c = r->val->column_ref;
        if (c->n_fields > 0 &&
            c->fields[c->n_fields - 1]->node_case == PG_QUERY__NODE__NODE_A_STAR) {
            if (c->n_fields == 1) {
                expand_star(b, -1);
            } else if (c->n_fields == 2 && sval(c->fields[0]) != NULL) {
                size_t i;
                int tab = -1;
                for (i = b->rte_lo; i < b->n_rte; i++) {
                    if (strcasecmp(b->rte[i].alias, sval(c->fields[0])) == 0) {
                        tab = (int)i;
                    }
                }
                if (tab < 0) {
                    fail(b, "unknown table %s in %s.*", sval(c->fields[0]), sval(c->fields[0]));
                    return;
                }
                expand_star(b, tab);
            } else {
                fail(b, "db.table.* is not supported");
            }
            return;
        }
    }
    {
        struct rw_expr *e;
        b->ref_rte = -1;
        e = conv(b, r->val);
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
static long
ordinal(const PgQuery__Node *n)
{
    if (n != NULL && n->node_case == PG_QUERY__NODE__NODE_A_CONST &&
        n->a_const->val_case == PG_QUERY__A__CONST__VAL_IVAL && n->a_const->ival != NULL) {
        return n->a_const->ival->ival;
    }
    return -1;
}

/* Original text of a LIMIT/OFFSET value (integer literal only). */
static char *
limit_text(struct build *b, const PgQuery__Node *n)
{
    char *t;
    if (n->node_case != PG_QUERY__NODE__NODE_A_CONST ||
        n->a_const->val_case != PG_QUERY__A__CONST__VAL_IVAL) {
        fail(b, "LIMIT/OFFSET must be an integer literal");
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
        fail(b, "out of memory");
    }
}

/*
 * Outputs whose window functions are not deterministic (ties broken
 * arbitrarily) become opaque: a view keeps its other outputs usable, a
 * query block is refused by the caller through M->opaque_why.
 */
static void
win_opaque(struct build *b)
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

/* ------------------------------------------------------------ derived tables */

static bool strict_on(const struct rw_expr *e, int tab, const char *col);

/* Why the body S of a derived table cannot be merged into its block (static text), or NULL. */
static const char *
not_mergeable(const PgQuery__SelectStmt *s)
{
    if (s->op != PG_QUERY__SET_OPERATION__SETOP_NONE) {
        return "it is a UNION/INTERSECT/EXCEPT";
    }
    if (s->with_clause != NULL) {
        return "it has a WITH clause";
    }
    if (s->into_clause != NULL || s->n_locking_clause > 0 || s->n_values_lists > 0) {
        return "it is not a plain SELECT";
    }
    if (s->n_group_clause > 0 || s->group_distinct) {
        return "it has GROUP BY";
    }
    if (s->having_clause != NULL) {
        return "it has HAVING";
    }
    if (s->n_distinct_clause > 0) {
        return "it has DISTINCT";
    }
    if (s->limit_count != NULL || s->limit_offset != NULL) {
        return "it has LIMIT/OFFSET";
    }
    if (s->n_window_clause > 0) {
        return "it has a WINDOW clause";
    }
    if (s->n_from_clause == 0) {
        return "it has no FROM";
    }
    return NULL;
}

/* Append string S to signature O, length-prefixed (NULL as "~"). */
static void
sig_str(struct rw_buf *o, const char *s)
{
    if (s == NULL) {
        rw_buf_puts(o, "~");
        return;
    }
    rw_buf_printf(o, "%zu:", strlen(s));
    rw_buf_puts(o, s);
}

/* Append canonical expression E to signature O: every field rw_expr_cmp()
 * compares, so two trees print the same exactly when rw_expr_cmp() is 0. */
static void
sig_expr(struct rw_buf *o, const struct rw_expr *e)
{
    size_t i;
    if (e == NULL) {
        rw_buf_puts(o, "N");
        return;
    }
    rw_buf_printf(o, "(%d,%d,", (int)e->kind, e->tab);
    sig_str(o, e->name);
    if (e->kind == RW_E_CONST) {
        rw_buf_printf(o, ",%d,", (int)e->ctype);
        sig_str(o, e->val);
    }
    rw_buf_printf(o, ",%d%d%d%d,%zu", e->neg, e->distinct, e->case_arg, e->has_else, e->n);
    for (i = 0; i < e->n; i++) {
        rw_buf_puts(o, " ");
        sig_expr(o, e->args[i]);
    }
    rw_buf_puts(o, ")");
}

static int
sig_cmp_ptr(const void *a, const void *b)
{
    return rw_expr_cmp(*(struct rw_expr *const *)a, *(struct rw_expr *const *)b);
}

/* Append the N expressions at A to O as a set (sorted by rw_expr_cmp, duplicates once). */
static void
sig_set(struct rw_buf *o, struct rw_expr *const *a, size_t n)
{
    struct rw_expr **c;
    size_t i;
    rw_buf_printf(o, "{");
    if (n == 0) {
        rw_buf_puts(o, "}");
        return;
    }
    c = malloc(n * sizeof(*c));
    if (c == NULL) {
        o->oom = true;
        return;
    }
    memcpy(c, a, n * sizeof(*c));
    qsort(c, n, sizeof(*c), sig_cmp_ptr);
    for (i = 0; i < n; i++) {
        if (i > 0 && rw_expr_cmp(c[i - 1], c[i]) == 0) {
            continue;
        }
        sig_expr(o, c[i]);
    }
    free(c);
    rw_buf_puts(o, "}");
}

/*
 * Canonical signature of body model M with output column names NAMES
 * (lower case, M->n_out of them): its table instances (keys, in FROM
 * order), WHERE/ON conjuncts and outer joins (each a set), grouping set,
 * outputs by position (expression and name), HAVING, DISTINCT, and ORDER
 * BY / LIMIT / OFFSET when it has a LIMIT (MariaDB ignores the ORDER BY of
 * a derived table without one). Aliases, spacing and letter case do not
 * enter it: expressions are the canonical trees. Caller frees; NULL on OOM.
 */
static char *
body_signature(const struct rw_model *m, char *const *names)
{
    struct rw_buf o = {0};
    size_t i;
    rw_buf_printf(&o, "T%zu", m->n_tabs);
    for (i = 0; i < m->n_tabs; i++) {
        rw_buf_puts(&o, " ");
        sig_str(&o, m->tabs[i].opaque ? m->tabs[i].sig : m->tabs[i].key);
    }
    rw_buf_puts(&o, " W");
    sig_set(&o, m->conj, m->n_conj);
    for (i = 0; i < m->n_oj; i++) {
        rw_buf_printf(&o, " J%d", m->oj[i].tab);
        sig_set(&o, m->oj[i].on, m->oj[i].n_on);
    }
    rw_buf_printf(&o, " G%d", m->is_agg);
    sig_set(&o, m->group, m->n_group);
    rw_buf_printf(&o, " O%zu", m->n_out);
    for (i = 0; i < m->n_out; i++) {
        rw_buf_puts(&o, " ");
        sig_str(&o, names[i]);
        sig_expr(&o, m->out[i].e);
    }
    rw_buf_puts(&o, " H");
    sig_expr(&o, m->having);
    rw_buf_printf(&o, " D%d", m->distinct);
    if (m->limit_text != NULL || m->offset_text != NULL) {
        rw_buf_printf(&o, " S%zu", m->n_sort);
        for (i = 0; i < m->n_sort; i++) {
            rw_buf_printf(&o, " %d,%d", m->sort[i].out_ref, m->sort[i].desc);
            sig_expr(&o, m->sort[i].e);
        }
        rw_buf_puts(&o, " L");
        sig_str(&o, m->limit_text);
        sig_str(&o, m->offset_text);
    }
    if (o.oom) {
        rw_buf_free(&o);
        return NULL;
    }
    return rw_buf_take(&o);
}

/* True when every column E reads outside an aggregate call is a grouping
 * expression of M, or E itself is one (its value is the group's). */
static bool
grouped(const struct rw_model *m, const struct rw_expr *e)
{
    size_t i;
    for (i = 0; i < m->n_group; i++) {
        if (rw_expr_cmp(m->group[i], e) == 0) {
            return true;
        }
    }
    if (e->kind == RW_E_AGG) {
        return true;
    }
    if (e->kind == RW_E_COL) {
        return false;
    }
    for (i = 0; i < e->n; i++) {
        if (!grouped(m, e->args[i])) {
            return false;
        }
    }
    return true;
}

/* Why body model M cannot be an opaque instance (static text), or NULL. */
static const char *
opaque_refusal(const struct rw_model *m)
{
    size_t i;
    if (m->limit_text != NULL || m->offset_text != NULL) {
        return "it has LIMIT/OFFSET (which rows it keeps depends on how the backend breaks "
               "ties)";
    }
    if (m->nondet) {
        return "it calls a non-deterministic function";
    }
    if (m->has_win || m->opaque_why != NULL) {
        return "it computes window functions";
    }
    for (i = 0; i < m->n_out; i++) {
        if (m->out[i].e == NULL) {
            return "an output is outside the model";
        }
        if (rw_expr_nondeterministic(m->out[i].e)) {
            return "it calls a non-deterministic function";
        }
        if (m->is_agg && !grouped(m, m->out[i].e)) {
            return "an output reads a column that is neither grouped nor aggregated (its "
                   "value is any row's of the group)";
        }
    }
    if (m->having != NULL && rw_expr_nondeterministic(m->having)) {
        return "it calls a non-deterministic function";
    }
    if (m->having != NULL && !grouped(m, m->having)) {
        return "its HAVING reads a column that is neither grouped nor aggregated";
    }
    return NULL;
}

/* 64-bit FNV-1a of S. */
static unsigned long long
fnv1a(const char *s)
{
    unsigned long long h = 1469598103934665603ULL;
    for (; *s != '\0'; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return h;
}

/*
 * Add derived table RS (body S, which merging refused: WHY) as an opaque
 * instance: the body gets its own model (same snapshot; a failure refuses
 * the block as before), and the instance is a table whose columns are the
 * body's outputs, keyed by the body's canonical signature, so that view
 * matching maps it only onto a structurally identical body
 * (view-matching.md §2: table mapping by key).
 */
static void
opaque_derived(struct build *b, const PgQuery__RangeSubselect *rs, const char *alias,
               const PgQuery__SelectStmt *s, const char *why)
{
    struct rw_model *body;
    struct rw_tab *tabs, *nt;
    char *err = NULL, **names;
    const char *bad;
    size_t i, j, n;
    body = rw_model_build(b->p, s, b->db, b->snap, &err);
    if (body == NULL) {
        fail(b, "derived table %s cannot be merged into the block (%s) and its body is "
                "outside the model: %s", alias, why, err != NULL ? err : "out of memory");
        free(err);
        return;
    }
    bad = opaque_refusal(body);
    if (bad != NULL) {
        fail(b, "derived table %s cannot be merged into the block (%s) nor matched as a "
                "whole: %s", alias, why, bad);
        rw_model_free(body);
        return;
    }
    n = body->n_out;
    if (rs->alias->n_colnames > 0 && rs->alias->n_colnames != n) {
        fail(b, "derived table %s names %zu columns, its select list has %zu", alias,
             rs->alias->n_colnames, n);
        rw_model_free(body);
        return;
    }
    names = calloc(n ? n : 1, sizeof(*names));
    if (names == NULL) {
        rw_model_free(body);
        fail(b, "out of memory");
        return;
    }
    for (i = 0; i < n && b->err == NULL; i++) {
        const char *nm = rs->alias->n_colnames > 0 ? sval(rs->alias->colnames[i])
                                                   : body->out[i].name;
        names[i] = nm != NULL ? rw_lower(nm) : NULL;
        if (names[i] == NULL) {
            fail(b, "bad column list of derived table %s", alias);
        }
        for (j = 0; j < i && b->err == NULL; j++) {
            if (strcmp(names[i], names[j]) == 0) {
                fail(b, "derived table %s has two columns named %s", alias, names[i]);
            }
        }
    }
    tabs = b->err == NULL ? realloc(b->m->tabs, (b->m->n_tabs + 1) * sizeof(*tabs)) : NULL;
    if (tabs == NULL) {
        fail(b, "out of memory");
        for (i = 0; i < n; i++) {
            free(names[i]);
        }
        free(names);
        rw_model_free(body);
        return;
    }
    b->m->tabs = tabs;
    nt = &tabs[b->m->n_tabs++];
    memset(nt, 0, sizeof(*nt));
    nt->opaque = true;
    nt->body = body;
    nt->sig = body_signature(body, names);
    nt->key = nt->sig != NULL ? rw_sprintf("derived:%016llx", fnv1a(nt->sig)) : NULL;
    nt->db = rw_strdup("");
    nt->name = rw_strdup(alias);
    nt->alias = rw_lower(alias);
    nt->cols = calloc(n ? n : 1, sizeof(*nt->cols));
    b->m->has_derived = true;
    if (nt->sig == NULL || nt->key == NULL || nt->db == NULL || nt->name == NULL ||
        nt->alias == NULL || nt->cols == NULL) {
        fail(b, "out of memory");
    }
    for (i = 0; i < n && b->err == NULL; i++) {
        const struct rw_expr *e = body->out[i].e;
        const struct rw_mcol *bc = e->kind == RW_E_COL ? rw_model_col(body, e->tab, e->name)
                                                       : NULL;
        struct rw_mcol *c = &nt->cols[nt->n_cols++];
        c->name = names[i];
        names[i] = NULL;
        c->decl = rw_strdup(rs->alias->n_colnames > 0 ? sval(rs->alias->colnames[i])
                                                      : body->out[i].name);
        /* a plain column keeps its type and collation; anything else has no range
         * semantics (its predicates stay residual) */
        c->data_type = rw_strdup(bc != NULL ? bc->data_type : "");
        c->column_type = rw_strdup(bc != NULL ? bc->column_type : "");
        c->collation = bc != NULL && bc->collation != NULL ? rw_strdup(bc->collation) : NULL;
        c->charset = bc != NULL && bc->charset != NULL ? rw_strdup(bc->charset) : NULL;
        /* NOT NULL only for a NOT NULL column of an inner-joined instance of a grouped body
         * (a scalar aggregate body returns its one row over no rows with NULLs) */
        c->nullable = bc == NULL || bc->nullable || rw_model_oj_of(body, e->tab) >= 0 ||
                      (body->is_agg && body->n_group == 0);
        if (c->decl == NULL || c->data_type == NULL || c->column_type == NULL ||
            (bc != NULL && bc->collation != NULL && c->collation == NULL) ||
            (bc != NULL && bc->charset != NULL && c->charset == NULL)) {
            fail(b, "out of memory");
        }
    }
    for (i = 0; i < n; i++) {
        free(names[i]);
    }
    free(names);
    if (b->err == NULL) {
        (void)rte_push_last_table(b, nt->alias);
    }
}

/* True when body S is refused merging only for GROUP BY, HAVING, DISTINCT or
 * LIMIT/OFFSET: it can be an opaque instance (opaque_derived). */
static bool
opaque_kind(const PgQuery__SelectStmt *s)
{
    return s->op == PG_QUERY__SET_OPERATION__SETOP_NONE && s->with_clause == NULL &&
           s->into_clause == NULL && s->n_locking_clause == 0 && s->n_values_lists == 0 &&
           s->n_window_clause == 0 && s->n_from_clause > 0 && !s->group_distinct;
}

/*
 * Merge derived table RS into the block (see rw_model_build): its body's
 * tables become instances, its WHERE joins conj[] (or b->pend on a
 * null-supplying side), and an entry named by its alias maps its columns to
 * the body's output expressions. The body's ORDER BY is ignored (MariaDB
 * ignores it without LIMIT).
 */
static void
derived(struct build *b, const PgQuery__RangeSubselect *rs)
{
    const char *alias = rs->alias != NULL ? rs->alias->aliasname : NULL;
    const PgQuery__SelectStmt *s;
    const char *why;
    size_t rte_lo0 = b->rte_lo, first_rte = b->n_rte, first_tab = b->m->n_tabs, first_out, i, j;
    bool aa = b->allow_agg, af = b->alias_fallback;
    struct rte d;
    if (rs->lateral) {
        fail(b, "LATERAL derived tables are not supported");
        return;
    }
    if (alias == NULL || alias[0] == '\0') {
        fail(b, "derived table without an alias");
        return;
    }
    if (rs->subquery == NULL || rs->subquery->node_case != PG_QUERY__NODE__NODE_SELECT_STMT) {
        fail(b, "derived table %s is not a SELECT", alias);
        return;
    }
    s = rs->subquery->select_stmt;
    why = not_mergeable(s);
    if (why != NULL && opaque_kind(s)) {
        opaque_derived(b, rs, alias, s, why);
        return;
    }
    if (why != NULL) {
        fail(b, "derived table %s cannot be merged into the block: %s", alias, why);
        return;
    }
    b->m->has_derived = true;
    for (i = 0; i < s->n_from_clause && b->err == NULL; i++) {
        from_item(b, s->from_clause[i]);
    }
    if (b->err != NULL) {
        return;
    }
    /* the body sees only its own FROM (MariaDB has no LATERAL) */
    b->rte_lo = first_rte;
    b->allow_agg = true;
    b->alias_fallback = false;
    if (s->where_clause != NULL) {
        struct rw_expr *w = conv(b, s->where_clause);
        if (w != NULL && rw_expr_nondeterministic(w)) {
            fail(b, "derived table %s cannot be merged into the block: it calls a "
                    "non-deterministic function", alias);
        }
        if (w != NULL && b->null_side) {
            if (split_conj(w, &b->pend, &b->n_pend) != 0) {
                fail(b, "out of memory");
            }
        } else {
            add_conjuncts(b, w);
        }
    }
    first_out = b->m->n_out;
    for (i = 0; i < s->n_target_list && b->err == NULL; i++) {
        select_item(b, s->target_list[i]);
    }
    b->rte_lo = rte_lo0;
    b->allow_agg = aa;
    b->alias_fallback = af;
    rte_pop_to(b, first_rte);
    memset(&d, 0, sizeof(d));
    d.tab = -1;
    d.n_cols = b->err == NULL ? b->m->n_out - first_out : 0;
    d.alias = rw_lower(alias);
    d.names = calloc(d.n_cols ? d.n_cols : 1, sizeof(*d.names));
    d.exprs = calloc(d.n_cols ? d.n_cols : 1, sizeof(*d.exprs));
    d.bad = calloc(d.n_cols ? d.n_cols : 1, sizeof(*d.bad));
    if (b->err == NULL && (d.alias == NULL || d.names == NULL || d.exprs == NULL || d.bad == NULL)) {
        fail(b, "out of memory");
    }
    for (i = 0; i < d.n_cols && b->err == NULL; i++) {
        struct rw_out *o = &b->m->out[first_out + i];
        d.names[i] = o->name;
        d.exprs[i] = o->e;
        o->name = NULL;
        o->e = NULL;
        if (rw_expr_has_agg(d.exprs[i])) {
            fail(b, "derived table %s cannot be merged into the block: it aggregates", alias);
        } else if (rw_expr_nondeterministic(d.exprs[i])) {
            /* merged, each reference would call it again */
            fail(b, "derived table %s cannot be merged into the block: it calls a "
                    "non-deterministic function", alias);
        }
    }
    /* what the outer block does not reference is still read: privilege guard */
    for (i = 0; i < d.n_cols && b->err == NULL; i++) {
        struct rw_expr *x = rw_expr_copy(d.exprs[i]);
        if (x == NULL || push((void ***)&b->m->read, &b->m->n_read, x) != 0) {
            rw_expr_free(x);
            fail(b, "out of memory");
        }
    }
    while (b->m->n_out > first_out) {
        struct rw_out *o = &b->m->out[--b->m->n_out];
        free(o->name);
        rw_expr_free(o->e);
    }
    if (b->err == NULL && rs->alias->n_colnames > 0) {
        if (rs->alias->n_colnames != d.n_cols) {
            fail(b, "derived table %s names %zu columns, its select list has %zu", alias,
                 rs->alias->n_colnames, d.n_cols);
        }
        for (i = 0; i < d.n_cols && b->err == NULL; i++) {
            char *nn = sval(rs->alias->colnames[i]) ? rw_strdup(sval(rs->alias->colnames[i]))
                                                    : NULL;
            if (nn == NULL) {
                fail(b, "bad column list of derived table %s", alias);
                break;
            }
            free(d.names[i]);
            d.names[i] = nn;
        }
    }
    for (i = 0; i < d.n_cols && b->err == NULL; i++) {
        for (j = 0; j < i; j++) {
            if (strcasecmp(d.names[i], d.names[j]) == 0) {
                fail(b, "derived table %s has two columns named %s", alias, d.names[i]);
                break;
            }
        }
        if (b->null_side) {
            /* NULL-padded: the column must be NULL then, as the substituted expression is */
            bool strict = false;
            size_t t;
            for (t = first_tab; t < b->m->n_tabs && !strict; t++) {
                strict = strict_on(d.exprs[i], (int)t, NULL);
            }
            d.bad[i] = !strict;
        }
    }
    if (b->err != NULL) {
        rte_clear(&d);
        return;
    }
    rte_push(b, &d);
}

struct rw_model *
rw_model_build(const struct rw_parse *p, const PgQuery__SelectStmt *s, const char *db,
               const struct cat_snapshot *snap, char **err)
{
    struct build b;
    size_t i;
    memset(&b, 0, sizeof(b));
    b.p = p;
    b.db = db;
    b.snap = snap;
    b.m = calloc(1, sizeof(*b.m));
    if (b.m == NULL) {
        *err = rw_strdup("out of memory");
        return NULL;
    }
    if (s->op != PG_QUERY__SET_OPERATION__SETOP_NONE) {
        fail(&b, "UNION/INTERSECT/EXCEPT blocks are not supported yet");
    } else if (s->with_clause != NULL) {
        fail(&b, "WITH (common table expressions) is not supported yet");
    } else if (s->into_clause != NULL) {
        fail(&b, "SELECT ... INTO is not rewritten");
    } else if (s->n_window_clause > 0) {
        fail(&b, "WINDOW clause is outside the model");
    } else if (s->n_locking_clause > 0) {
        fail(&b, "locking reads (FOR UPDATE / LOCK IN SHARE MODE) are not rewritten");
    } else if (s->n_values_lists > 0) {
        fail(&b, "VALUES is not a table block");
    } else if (s->n_from_clause == 0) {
        fail(&b, "SELECT without FROM");
    } else if (s->group_distinct) {
        fail(&b, "GROUP BY DISTINCT is not supported");
    }
    for (i = 0; i < s->n_from_clause && b.err == NULL; i++) {
        from_item(&b, s->from_clause[i]);
    }
    if (b.err == NULL && s->where_clause != NULL) {
        add_conjuncts(&b, conv(&b, s->where_clause));
    }
    b.allow_agg = true;
    b.allow_win = true;
    for (i = 0; i < s->n_target_list && b.err == NULL; i++) {
        select_item(&b, s->target_list[i]);
    }
    b.allow_win = false;
    if (b.err == NULL && s->n_distinct_clause > 0) {
        if (s->n_distinct_clause != 1 ||
            (s->distinct_clause[0] != NULL &&
             s->distinct_clause[0]->node_case != PG_QUERY__NODE__NODE__NOT_SET)) {
            fail(&b, "DISTINCT ON is not supported");
        }
        b.m->distinct = true;
    }
    /* GROUP BY: columns first, then select aliases (MariaDB's order), ordinals */
    b.allow_agg = false;
    b.alias_fallback = true;
    for (i = 0; i < s->n_group_clause && b.err == NULL; i++) {
        const PgQuery__Node *g = s->group_clause[i];
        long k = ordinal(g);
        struct rw_expr *e;
        if (g->node_case == PG_QUERY__NODE__NODE_GROUPING_SET) {
            fail(&b, "ROLLUP / GROUPING SETS are not supported");
            break;
        }
        if (k >= 1 && (size_t)k <= b.m->n_out) {
            e = rw_expr_copy(b.m->out[k - 1].e);
            if (e != NULL && rw_expr_has_agg(e)) {
                fail(&b, "GROUP BY %ld refers to an aggregate", k);
                rw_expr_free(e);
                break;
            }
        } else if (k >= 0) {
            fail(&b, "GROUP BY position %ld is out of range", k);
            break;
        } else {
            e = conv(&b, g);
        }
        if (e != NULL && rw_expr_has_win(e)) {
            fail(&b, "GROUP BY on a window function");
            rw_expr_free(e);
            break;
        }
        if (e == NULL || push((void ***)&b.m->group, &b.m->n_group, e) != 0) {
            rw_expr_free(e);
            fail(&b, "out of memory");
        }
    }
    b.allow_agg = true;
    if (b.err == NULL && s->having_clause != NULL) {
        b.m->having = conv(&b, s->having_clause);
    }
    /* ORDER BY: select aliases first, then columns; ordinals refer to outputs */
    for (i = 0; i < s->n_sort_clause && b.err == NULL; i++) {
        const PgQuery__SortBy *sb;
        struct rw_sort *srt;
        long k;
        if (s->sort_clause[i]->node_case != PG_QUERY__NODE__NODE_SORT_BY) {
            fail(&b, "bad ORDER BY item");
            break;
        }
        sb = s->sort_clause[i]->sort_by;
        srt = realloc(b.m->sort, (b.m->n_sort + 1) * sizeof(*srt));
        if (srt == NULL) {
            fail(&b, "out of memory");
            break;
        }
        b.m->sort = srt;
        srt = &srt[b.m->n_sort++];
        memset(srt, 0, sizeof(*srt));
        srt->out_ref = -1;
        srt->desc = sb->sortby_dir == PG_QUERY__SORT_BY_DIR__SORTBY_DESC;
        if (sb->sortby_nulls != PG_QUERY__SORT_BY_NULLS__SORTBY_NULLS_DEFAULT &&
            sb->sortby_nulls != PG_QUERY__SORT_BY_NULLS__SORT_BY_NULLS_UNDEFINED) {
            fail(&b, "NULLS FIRST/LAST is not MariaDB syntax");
            break;
        }
        k = ordinal(sb->node);
        if (k >= 1 && (size_t)k <= b.m->n_out) {
            srt->out_ref = (int)k - 1;
            continue;
        }
        if (sb->node->node_case == PG_QUERY__NODE__NODE_COLUMN_REF &&
            sb->node->column_ref->n_fields == 1 && sval(sb->node->column_ref->fields[0])) {
            int o = out_named(b.m, sval(sb->node->column_ref->fields[0]));
            if (o >= 0) {
                srt->out_ref = o;
                continue;
            }
        }
        b.allow_win = true;
        srt->e = conv(&b, sb->node);
        b.allow_win = false;
    }
    if (b.err == NULL && s->limit_option == PG_QUERY__LIMIT_OPTION__LIMIT_OPTION_WITH_TIES) {
        fail(&b, "FETCH ... WITH TIES is not supported");
    }
    if (b.err == NULL && s->limit_count != NULL) {
        b.m->limit_text = limit_text(&b, s->limit_count);
    }
    if (b.err == NULL && s->limit_offset != NULL) {
        b.m->offset_text = limit_text(&b, s->limit_offset);
    }
    if (b.err == NULL) {
        b.m->is_agg = b.m->n_group > 0 || (b.m->having != NULL);
        for (i = 0; i < b.m->n_out && !b.m->is_agg; i++) {
            b.m->is_agg = rw_expr_has_agg(b.m->out[i].e);
        }
        for (i = 0; i < b.m->n_conj; i++) {
            if (rw_expr_nondeterministic(b.m->conj[i])) {
                b.m->nondet = true;
            }
        }
        if (b.m->has_win && (b.m->is_agg || b.m->distinct)) {
            fail(&b, "window functions together with %s are outside the model",
                 b.m->distinct ? "DISTINCT" : "GROUP BY or aggregates");
        }
    }
    if (b.err == NULL) {
        if (rw_model_simplify_oj(b.m) != 0 || rw_model_analyze(b.m) != 0) {
            fail(&b, "out of memory");
        }
    }
    if (b.err == NULL && b.m->has_win) {
        win_opaque(&b);
    }
    rte_pop_to(&b, 0);
    free(b.rte);
    for (i = 0; i < b.n_pend; i++) {
        rw_expr_free(b.pend[i]);
    }
    free(b.pend);
    if (b.err != NULL) {
        rw_model_free(b.m);
        *err = b.err;
        return NULL;
    }
    return b.m;
}

void
rw_pred_free(struct rw_pred *pr)
{
    size_t i, j;
    if (pr->ranges != NULL) {
        for (i = 0; i < pr->n_cols; i++) {
            struct rw_range *r = &pr->ranges[i];
            free(r->lo);
            free(r->hi);
            for (j = 0; j < r->n_pts; j++) {
                free(r->pts[j]);
            }
            free(r->pts);
            free(r->src);
            free(r->note);
        }
    }
    free(pr->ranges);
    free(pr->cols);
    free(pr->resid);
    memset(pr, 0, sizeof(*pr));
}

void
rw_model_free(struct rw_model *m)
{
    size_t i, j;
    if (m == NULL) {
        return;
    }
    rw_pred_free(&m->pred);
    for (i = 0; i < m->n_tabs; i++) {
        struct rw_tab *t = &m->tabs[i];
        free(t->key);
        free(t->db);
        free(t->name);
        free(t->alias);
        for (j = 0; j < t->n_cols && t->cols != NULL; j++) {
            free(t->cols[j].name);
            free(t->cols[j].decl);
            free(t->cols[j].data_type);
            free(t->cols[j].column_type);
            free(t->cols[j].collation);
            free(t->cols[j].charset);
        }
        free(t->cols);
        rw_keys_free(t->ukeys, t->n_ukeys);
        rw_keys_free(t->fkeys, t->n_fkeys);
        free(t->sig);
        rw_model_free(t->body);
    }
    free(m->tabs);
    for (i = 0; i < m->n_conj; i++) {
        rw_expr_free(m->conj[i]);
    }
    free(m->conj);
    for (i = 0; i < m->n_oj; i++) {
        for (j = 0; j < m->oj[i].n_on; j++) {
            rw_expr_free(m->oj[i].on[j]);
        }
        free(m->oj[i].on);
    }
    free(m->oj);
    for (i = 0; i < m->n_group; i++) {
        rw_expr_free(m->group[i]);
    }
    free(m->group);
    for (i = 0; i < m->n_out; i++) {
        free(m->out[i].name);
        free(m->out[i].vcol);
        free(m->out[i].vtype);
        rw_expr_free(m->out[i].e);
    }
    free(m->out);
    rw_expr_free(m->having);
    for (i = 0; i < m->n_sort; i++) {
        rw_expr_free(m->sort[i].e);
    }
    free(m->sort);
    free(m->limit_text);
    free(m->offset_text);
    free(m->opaque_why);
    for (i = 0; i < m->n_read; i++) {
        rw_expr_free(m->read[i]);
    }
    free(m->read);
    free(m);
}

/* ------------------------------------------------------------- analysis */

int
rw_pred_find(const struct rw_pred *pr, int tab, const char *col)
{
    size_t i;
    for (i = 0; i < pr->n_cols; i++) {
        if (pr->cols[i].tab == tab && strcmp(pr->cols[i].col, col) == 0) {
            return (int)i;
        }
    }
    return -1;
}

int
rw_pred_root(const struct rw_pred *pr, int i)
{
    while (pr->cols[i].parent != i) {
        i = pr->cols[i].parent;
    }
    return i;
}

/* Node of column E (a COL) in M's analysis, added when missing; -1 on OOM. */
static int
pcol(struct rw_model *m, const struct rw_expr *e)
{
    struct rw_pred *pr = &m->pred;
    struct rw_pcol *c;
    int i = rw_pred_find(pr, e->tab, e->name);
    if (i >= 0) {
        return i;
    }
    c = realloc(pr->cols, (pr->n_cols + 1) * sizeof(*c));
    if (c == NULL) {
        return -1;
    }
    pr->cols = c;
    c = &c[pr->n_cols];
    c->tab = e->tab;
    c->col = e->name;
    c->parent = (int)pr->n_cols;
    c->mc = rw_model_col(m, e->tab, e->name);
    c->rtype = c->mc ? rw_rtype_of(c->mc->data_type) : RW_R_NONE;
    return (int)pr->n_cols++;
}

/* True for integer-family DATA_TYPEs. */
static bool
is_int_type(const char *t)
{
    return strstr(t, "int") != NULL;
}

/* May columns A and B (schema) share an equivalence class (values interchangeable)? */
static bool
eq_compatible(const struct rw_mcol *a, const struct rw_mcol *b)
{
    enum rw_rtype ta, tb;
    if (a == NULL || b == NULL) {
        return false;
    }
    ta = rw_rtype_of(a->data_type);
    tb = rw_rtype_of(b->data_type);
    if (ta != tb || ta == RW_R_STR || ta == RW_R_NONE) {
        return false; /* strings: collation may equate different values */
    }
    if (ta == RW_R_NUM) {
        return (is_int_type(a->data_type) && is_int_type(b->data_type)) ||
               strcmp(a->data_type, b->data_type) == 0;
    }
    return strcmp(a->data_type, b->data_type) == 0;
}

/* Comparable value of literal K for a column of domain T into *OUT (owned); false if none. */
static bool
typed_value(enum rw_rtype t, const struct rw_expr *k, char **out)
{
    char norm[20];
    if (k->kind != RW_E_CONST) {
        return false;
    }
    switch (t) {
    case RW_R_NUM:
        if (k->ctype != RW_C_INT && k->ctype != RW_C_DEC) {
            return false;
        }
        *out = rw_strdup(k->val);
        return *out != NULL;
    case RW_R_DT:
        if (k->ctype == RW_C_DATE) {
            *out = rw_strdup(k->val);
            return *out != NULL;
        }
        if (k->ctype != RW_C_STR || !rw_norm_datetime(k->val, norm)) {
            return false;
        }
        *out = rw_strdup(norm);
        return *out != NULL;
    case RW_R_STR:
        if (k->ctype != RW_C_STR || k->name != NULL) {
            return false; /* _charset'..' / N'..': another character set, not compared */
        }
        *out = rw_strdup(k->val);
        return *out != NULL;
    default:
        return false;
    }
}

/* Compare comparable values of domain T (strings: under collation COLL, which
 * the caller made sure decides them, see merge_atom; strcmp when it cannot). */
static int
rcmp(enum rw_rtype t, const char *coll, const char *a, const char *b)
{
    int c;
    if (t == RW_R_NUM) {
        return rw_dec_cmp(a, b);
    }
    if (t == RW_R_STR && rw_coll_cmp(coll, a, b, &c)) {
        return c;
    }
    return strcmp(a, b);
}

/* Record in R->note (first one only) why a string atom stayed residual. */
static void
str_note(struct rw_range *r, char *msg)
{
    if (r->note == NULL) {
        r->note = msg;
    } else {
        free(msg);
    }
}

/*
 * Can string atom values V[0..N) join range R of collation COLL without a
 * comparison the collation cannot decide? Bounds (POINTS false) need every
 * value and every point already in R orderable; points need orderable
 * values when R has bounds, and a decided equality with each point R
 * already holds. Keeps the range's invariant: every comparison that
 * tighten(), the intersection and normalize_range() make is exact. When
 * not, notes why in R->note (shown by EXPLAIN REWRITE).
 */
static bool
str_atom_fits(struct rw_range *r, const char *coll, char *const *v, size_t n, bool points)
{
    size_t i, j;
    bool eq;
    const char *cn = coll != NULL ? coll : "(unknown)";
    for (i = 0; i < n; i++) {
        if ((!points || r->has_lo || r->has_hi) && !rw_coll_orderable(coll, v[i])) {
            str_note(r, rw_sprintf("cannot order '%s' under collation %s (ranges on strings are "
                                   "compared only for ASCII; under a case-insensitive collation "
                                   "only letters and digits)",
                                   v[i], cn));
            return false;
        }
        for (j = 0; points && r->has_pts && j < r->n_pts; j++) {
            if (!rw_coll_eq(coll, v[i], r->pts[j], &eq)) {
                str_note(r, rw_sprintf("cannot compare '%s' and '%s' under collation %s", v[i],
                                       r->pts[j], cn));
                return false;
            }
        }
    }
    for (j = 0; !points && r->has_pts && j < r->n_pts; j++) {
        if (!rw_coll_orderable(coll, r->pts[j])) {
            str_note(r, rw_sprintf("cannot compare '%s' and '%s' under collation %s", v[0],
                                   r->pts[j], cn));
            return false;
        }
    }
    return true;
}

/* Are points A and B equal in domain T (strings: under COLL; decided, see
 * str_atom_fits)? */
static bool
req(enum rw_rtype t, const char *coll, const char *a, const char *b)
{
    bool eq;
    if (t == RW_R_STR) {
        return rw_coll_eq(coll, a, b, &eq) && eq;
    }
    return rcmp(t, coll, a, b) == 0;
}

/* A single range atom: column op constant(s). */
struct atom {
    const struct rw_expr *col;  /* the column */
    const char *op;             /* "=", "<", "<=", ">", ">=", "between", "in" */
    const struct rw_expr *k1;   /* constant (lower for BETWEEN) */
    const struct rw_expr *k2;   /* BETWEEN upper */
    const struct rw_expr *in;   /* IN node (args[1..] constants) */
};

/* Recognise E as a range atom. */
static bool
as_atom(const struct rw_expr *e, struct atom *a)
{
    static const char *const flip[][2] = {{"=", "="}, {"<", ">"}, {"<=", ">="}, {">", "<"},
                                          {">=", "<="}, {NULL, NULL}};
    size_t i;
    memset(a, 0, sizeof(*a));
    if (e->kind == RW_E_OP && e->n == 2) {
        for (i = 0; flip[i][0] != NULL; i++) {
            if (strcmp(e->name, flip[i][0]) == 0) {
                break;
            }
        }
        if (flip[i][0] == NULL) {
            return false;
        }
        if (e->args[0]->kind == RW_E_COL && e->args[1]->kind == RW_E_CONST) {
            a->col = e->args[0];
            a->k1 = e->args[1];
            a->op = flip[i][0];
        } else if (e->args[1]->kind == RW_E_COL && e->args[0]->kind == RW_E_CONST) {
            a->col = e->args[1];
            a->k1 = e->args[0];
            a->op = flip[i][1];
        } else {
            return false;
        }
        return a->k1->ctype != RW_C_NULL;
    }
    if (e->kind == RW_E_BETWEEN && !e->neg && e->args[0]->kind == RW_E_COL &&
        e->args[1]->kind == RW_E_CONST && e->args[2]->kind == RW_E_CONST) {
        a->col = e->args[0];
        a->k1 = e->args[1];
        a->k2 = e->args[2];
        a->op = "between";
        return true;
    }
    if (e->kind == RW_E_IN && !e->neg && e->args[0]->kind == RW_E_COL) {
        for (i = 1; i < e->n; i++) {
            if (e->args[i]->kind != RW_E_CONST) {
                return false;
            }
        }
        a->col = e->args[0];
        a->in = e;
        a->op = "in";
        return true;
    }
    return false;
}

/* Set bound (*HAS, *V, *INCL) to the tighter of itself and (NV, NINCL); LOWER selects max. */
static void
tighten(enum rw_rtype t, const char *coll, bool lower, bool *has, char **v, bool *incl, char *nv,
        bool nincl)
{
    int c;
    if (!*has) {
        *has = true;
        *v = nv;
        *incl = nincl;
        return;
    }
    c = rcmp(t, coll, nv, *v);
    if ((lower && c > 0) || (!lower && c < 0) || (c == 0 && !nincl)) {
        free(*v);
        *v = nv;
        *incl = c == 0 ? (*incl && nincl) : nincl;
        return;
    }
    free(nv);
}

/*
 * Merge atom A into range R of domain T; false when A cannot be
 * represented (R unchanged). For strings, MC is the column: its collation
 * decides every comparison (the column's coercibility beats a literal's);
 * an atom whose literals the collation cannot compare exactly (rw_coll.h)
 * stays a residual conjunct.
 */
static bool
merge_atom(struct rw_range *r, enum rw_rtype t, const struct rw_mcol *mc, const struct atom *a,
           const struct rw_expr *src)
{
    char *v1 = NULL, *v2 = NULL;
    size_t i, j;
    bool eq = strcmp(a->op, "=") == 0, in = strcmp(a->op, "in") == 0;
    struct rw_expr **ns;
    const char *coll = t == RW_R_STR && mc != NULL ? mc->collation : NULL;
    if (r->type != RW_R_NONE && r->type != t) {
        return false;
    }
    if (t == RW_R_STR && r->type == RW_R_STR &&
        (coll == NULL || r->coll == NULL ? coll != r->coll : strcmp(coll, r->coll) != 0)) {
        return false;
    }
    if (t == RW_R_STR && !eq && !in && mc != NULL && strcmp(mc->data_type, "enum") == 0) {
        return false; /* ENUM order is the index order for some operands: equality only */
    }
    if (t == RW_R_STR) {
        const struct rw_expr *ks[2] = {a->k1, a->k2};
        for (i = 0; i < 2 && !in; i++) {
            if (ks[i] != NULL && ks[i]->kind == RW_E_CONST && ks[i]->name != NULL) {
                str_note(r, rw_sprintf("literal %s has its own character set: not compared under "
                                       "the column's collation",
                                       ks[i]->text));
                return false;
            }
        }
    }
    if (in || eq) {
        char **pts = NULL;
        size_t n = 0, cnt = in ? a->in->n - 1 : 1;
        pts = calloc(cnt, sizeof(*pts));
        if (pts == NULL) {
            return false;
        }
        for (i = 0; i < cnt; i++) {
            const struct rw_expr *k = in ? a->in->args[i + 1] : a->k1;
            char *v;
            if (!typed_value(t, k, &v)) {
                for (j = 0; j < n; j++) {
                    free(pts[j]);
                }
                free(pts);
                return false;
            }
            pts[n++] = v;
        }
        if (t == RW_R_STR && !str_atom_fits(r, coll, pts, n, true)) {
            for (j = 0; j < n; j++) {
                free(pts[j]);
            }
            free(pts);
            return false;
        }
        if (r->has_pts) {
            /* intersect with the existing point set */
            size_t keep = 0;
            for (i = 0; i < r->n_pts; i++) {
                bool found = false;
                for (j = 0; j < n; j++) {
                    found = found || req(t, coll, r->pts[i], pts[j]);
                }
                if (found) {
                    r->pts[keep++] = r->pts[i];
                } else {
                    free(r->pts[i]);
                }
            }
            r->n_pts = keep;
            for (j = 0; j < n; j++) {
                free(pts[j]);
            }
            free(pts);
        } else {
            r->has_pts = true;
            r->pts = pts;
            r->n_pts = n;
        }
    } else {
        char *vv[2];
        if (!typed_value(t, a->k1, &v1) || (a->k2 != NULL && !typed_value(t, a->k2, &v2))) {
            free(v1);
            return false;
        }
        vv[0] = v1;
        vv[1] = v2;
        if (t == RW_R_STR && !str_atom_fits(r, coll, vv, v2 != NULL ? 2 : 1, false)) {
            free(v1);
            free(v2);
            return false;
        }
        if (strcmp(a->op, "between") == 0) {
            tighten(t, coll, true, &r->has_lo, &r->lo, &r->lo_incl, v1, true);
            tighten(t, coll, false, &r->has_hi, &r->hi, &r->hi_incl, v2, true);
        } else if (a->op[0] == '>') {
            tighten(t, coll, true, &r->has_lo, &r->lo, &r->lo_incl, v1, a->op[1] == '=');
        } else {
            tighten(t, coll, false, &r->has_hi, &r->hi, &r->hi_incl, v1, a->op[1] == '=');
        }
    }
    r->type = t;
    r->coll = coll;
    ns = realloc(r->src, (r->n_src + 1) * sizeof(*ns));
    if (ns == NULL) {
        return false;
    }
    r->src = ns;
    r->src[r->n_src++] = (struct rw_expr *)src;
    return true;
}

/* Recompute emptiness and drop points outside the bounds. */
static void
normalize_range(struct rw_range *r)
{
    size_t i, keep = 0;
    if (r->has_pts) {
        for (i = 0; i < r->n_pts; i++) {
            int cl = r->has_lo ? rcmp(r->type, r->coll, r->pts[i], r->lo) : 1;
            int ch = r->has_hi ? rcmp(r->type, r->coll, r->pts[i], r->hi) : -1;
            if ((cl > 0 || (cl == 0 && r->lo_incl)) && (ch < 0 || (ch == 0 && r->hi_incl))) {
                r->pts[keep++] = r->pts[i];
            } else {
                free(r->pts[i]);
            }
        }
        r->n_pts = keep;
        r->empty = keep == 0;
    } else if (r->has_lo && r->has_hi) {
        int c = rcmp(r->type, r->coll, r->lo, r->hi);
        r->empty = c > 0 || (c == 0 && !(r->lo_incl && r->hi_incl));
    }
}

int
rw_model_analyze(struct rw_model *m)
{
    struct rw_pred *pr = &m->pred;
    bool *used;
    size_t i;
    rw_pred_free(pr);
    used = calloc(m->n_conj ? m->n_conj : 1, sizeof(*used));
    if (used == NULL) {
        return -1;
    }
    /* pass 1: column = column of interchangeable types -> equivalence classes */
    for (i = 0; i < m->n_conj; i++) {
        const struct rw_expr *e = m->conj[i];
        int a, c;
        if (e->kind != RW_E_OP || strcmp(e->name, "=") != 0 || e->n != 2 ||
            e->args[0]->kind != RW_E_COL || e->args[1]->kind != RW_E_COL) {
            continue;
        }
        if (!eq_compatible(rw_model_col(m, e->args[0]->tab, e->args[0]->name),
                           rw_model_col(m, e->args[1]->tab, e->args[1]->name))) {
            continue;
        }
        a = pcol(m, e->args[0]);
        c = pcol(m, e->args[1]);
        if (a < 0 || c < 0) {
            free(used);
            return -1;
        }
        a = rw_pred_root(pr, a);
        c = rw_pred_root(pr, c);
        if (a != c) {
            /* the smaller index stays root: deterministic representatives */
            if (a < c) {
                pr->cols[c].parent = a;
            } else {
                pr->cols[a].parent = c;
            }
        }
        used[i] = true;
    }
    /* make sure every range column has a node before ranges[] is sized */
    for (i = 0; i < m->n_conj; i++) {
        struct atom a;
        if (!used[i] && as_atom(m->conj[i], &a) && pcol(m, a.col) < 0) {
            free(used);
            return -1;
        }
    }
    pr->ranges = calloc(pr->n_cols ? pr->n_cols : 1, sizeof(*pr->ranges));
    if (pr->ranges == NULL) {
        free(used);
        return -1;
    }
    /* pass 2: ranges per class; everything else is residual */
    for (i = 0; i < m->n_conj; i++) {
        struct atom a;
        if (used[i]) {
            continue;
        }
        if (as_atom(m->conj[i], &a)) {
            int c = rw_pred_find(pr, a.col->tab, a.col->name);
            int root = rw_pred_root(pr, c);
            if (pr->cols[c].rtype != RW_R_NONE &&
                merge_atom(&pr->ranges[root], pr->cols[c].rtype, pr->cols[c].mc, &a, m->conj[i])) {
                continue;
            }
        }
        if (push((void ***)&pr->resid, &pr->n_resid, m->conj[i]) != 0) {
            free(used);
            return -1;
        }
    }
    for (i = 0; i < pr->n_cols; i++) {
        if (pr->ranges[i].type != RW_R_NONE) {
            normalize_range(&pr->ranges[i]);
        }
    }
    free(used);
    return 0;
}

/* ---------------------------------------------------------- outer joins */

int
rw_model_oj_of(const struct rw_model *m, int tab)
{
    size_t i;
    for (i = 0; i < m->n_oj; i++) {
        if (m->oj[i].tab == tab) {
            return (int)i;
        }
    }
    return -1;
}

/* True when E is NULL whenever column (TAB, COL) is NULL (COL NULL: every
 * column of TAB): that column, or an arithmetic operator / CAST with such an
 * operand. */
static bool
strict_on(const struct rw_expr *e, int tab, const char *col)
{
    static const char *const arith[] = {"+", "-", "*", "/", "%", "div", NULL};
    size_t i;
    if (e->kind == RW_E_COL) {
        return e->tab == tab && (col == NULL || strcmp(e->name, col) == 0);
    }
    if (e->kind == RW_E_CAST) {
        return strict_on(e->args[0], tab, col);
    }
    if (e->kind != RW_E_OP) {
        return false; /* functions may map NULL to a value (COALESCE, CONCAT_WS, IF ...) */
    }
    for (i = 0; arith[i] != NULL; i++) {
        if (strcmp(e->name, arith[i]) == 0) {
            break;
        }
    }
    if (arith[i] == NULL) {
        return false;
    }
    for (i = 0; i < e->n; i++) {
        if (strict_on(e->args[i], tab, col)) {
            return true;
        }
    }
    return false;
}

bool
rw_expr_rejects_null_col(const struct rw_expr *e, int tab, const char *col)
{
    static const char *const cmp[] = {"=", "<>", "<", "<=", ">", ">=", NULL};
    size_t i;
    switch (e->kind) {
    case RW_E_OP:
        for (i = 0; cmp[i] != NULL; i++) {
            if (strcmp(e->name, cmp[i]) == 0) {
                break;
            }
        }
        if (cmp[i] == NULL || e->n != 2) {
            return false; /* <=> is true for NULL <=> NULL */
        }
        return strict_on(e->args[0], tab, col) || strict_on(e->args[1], tab, col);
    case RW_E_IN:
    case RW_E_BETWEEN:
    case RW_E_LIKE:
        /* NULL [NOT] IN / BETWEEN / LIKE ... is NULL */
        return e->n > 0 && strict_on(e->args[0], tab, col);
    case RW_E_ISNULL:
        return e->neg && strict_on(e->args[0], tab, col);
    case RW_E_AND:
        for (i = 0; i < e->n; i++) {
            if (rw_expr_rejects_null_col(e->args[i], tab, col)) {
                return true;
            }
        }
        return false;
    case RW_E_OR:
        for (i = 0; i < e->n; i++) {
            if (!rw_expr_rejects_null_col(e->args[i], tab, col)) {
                return false;
            }
        }
        return e->n > 0;
    default:
        return false;
    }
}

bool
rw_expr_rejects_null(const struct rw_expr *e, int tab)
{
    return rw_expr_rejects_null_col(e, tab, NULL);
}

int
rw_model_simplify_oj(struct rw_model *m)
{
    bool changed = true;
    size_t i, j, k;
    while (changed) {
        changed = false;
        for (i = 0; i < m->n_oj && !changed; i++) {
            struct rw_ojoin *oj = &m->oj[i];
            bool rejected = false;
            for (j = 0; j < m->n_conj && !rejected; j++) {
                rejected = rw_expr_rejects_null(m->conj[j], oj->tab);
            }
            if (!rejected) {
                continue;
            }
            for (k = 0; k < oj->n_on; k++) {
                if (push((void ***)&m->conj, &m->n_conj, oj->on[k]) != 0) {
                    /* the rest stays in the ON: the model is half-moved, callers fail */
                    memmove(oj->on, oj->on + k, (oj->n_on - k) * sizeof(*oj->on));
                    oj->n_on -= k;
                    return -1;
                }
            }
            free(oj->on);
            memmove(oj, oj + 1, (m->n_oj - i - 1) * sizeof(*oj));
            m->n_oj--;
            changed = true;
        }
    }
    return 0;
}
