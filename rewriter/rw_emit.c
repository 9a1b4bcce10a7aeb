/*
 * rw_emit.c - prints canonical expressions as MariaDB SQL (fully
 * qualified, backtick-quoted view columns; literals in their original
 * text) and splices replacement blocks into the original statement.
 */
#include "rw_emit.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rw_model.h"

/* Functions MariaDB writes without parentheses. */
static bool
bare_func(const char *name)
{
    return strcmp(name, "current_date") == 0 || strcmp(name, "current_time") == 0 ||
           strcmp(name, "current_user") == 0;
}

/* Append NAME upper-cased. */
static void
upper(struct rw_buf *b, const char *name)
{
    for (; *name != '\0'; name++) {
        char c = (char)toupper((unsigned char)*name);
        rw_buf_add(b, &c, 1);
    }
}

/* Text of frame bound code CODE ("UP", "P", "CR", "F", "UF"), OFF its offset. */
static void
emit_bound(struct rw_buf *b, const char *code, const struct rw_expr *off, const char *db,
           const char *table)
{
    if (strcmp(code, "UP") == 0) {
        rw_buf_puts(b, "UNBOUNDED PRECEDING");
    } else if (strcmp(code, "UF") == 0) {
        rw_buf_puts(b, "UNBOUNDED FOLLOWING");
    } else if (strcmp(code, "CR") == 0) {
        rw_buf_puts(b, "CURRENT ROW");
    } else if (off != NULL) {
        rw_emit_expr(b, off, db, table);
        rw_buf_puts(b, strcmp(code, "P") == 0 ? " PRECEDING" : " FOLLOWING");
    }
}

/* Frame E (RW_E_WFRAME, non-default) as "ROWS BETWEEN <start> AND <end>". */
static void
emit_frame(struct rw_buf *b, const struct rw_expr *e, const char *db, const char *table)
{
    char mode[8] = "", s[4] = "", t[4] = "";
    size_t k = 0;
    if (sscanf(e->name, "%7s %3s %3s", mode, s, t) != 3) {
        b->oom = true; /* not a frame this module wrote: refuse the text */
        return;
    }
    rw_buf_puts(b, mode);
    rw_buf_puts(b, " BETWEEN ");
    emit_bound(b, s, (s[0] == 'P' || s[0] == 'F') && k < e->n ? e->args[k] : NULL, db, table);
    if (s[0] == 'P' || s[0] == 'F') {
        k++;
    }
    rw_buf_puts(b, " AND ");
    emit_bound(b, t, (t[0] == 'P' || t[0] == 'F') && k < e->n ? e->args[k] : NULL, db, table);
}

/* Tables of the instances whose plain columns are printed qualified. */
struct tabq {
    const char *const *alias;   /* per instance: its alias, or NULL (bare column) */
    size_t n;                   /* entries in alias */
};

static void emit(struct rw_buf *b, const struct rw_expr *e, const char *db, const char *table,
                 const struct tabq *tq);

/* A column: a view storage column (qualified by the view table) or a column
 * of a joined-back table (qualified by its alias). */
static void
emit_column(struct rw_buf *b, const struct rw_expr *e, const char *db, const char *table,
            const struct tabq *tq)
{
    switch (e->kind) {
    case RW_E_VCOL:
        rw_buf_ident(b, db);
        rw_buf_puts(b, ".");
        rw_buf_ident(b, table);
        rw_buf_puts(b, ".");
        rw_buf_ident(b, e->name);
        return;
    case RW_E_COL:
        if (tq != NULL && e->tab >= 0 && (size_t)e->tab < tq->n && tq->alias[e->tab] != NULL) {
            /* a column of a table read next to the view (join-back) */
            rw_buf_ident(b, tq->alias[e->tab]);
            rw_buf_puts(b, ".");
            rw_buf_ident(b, e->name);
            return;
        }
        /* only reached for a programming error; keep the text valid-looking */
        rw_buf_ident(b, e->name);
        return;
    default: /* the other kinds: emit() */
        return;
    }
}

/* An operator, AND / OR, NOT: parenthesised. */
static void
emit_operator(struct rw_buf *b, const struct rw_expr *e, const char *db, const char *table,
              const struct tabq *tq)
{
    size_t i;
    switch (e->kind) {
    case RW_E_OP:
        rw_buf_puts(b, "(");
        if (e->n == 1) {
            rw_buf_puts(b, e->name);
            rw_buf_puts(b, " ");
            emit(b, e->args[0], db, table, tq);
        }
        for (i = 0; e->n > 1 && i < e->n; i++) {
            if (i > 0) {
                rw_buf_printf(b, " %s ", e->name);
            }
            emit(b, e->args[i], db, table, tq);
        }
        rw_buf_puts(b, ")");
        return;
    case RW_E_AND:
    case RW_E_OR:
        rw_buf_puts(b, "(");
        for (i = 0; i < e->n; i++) {
            if (i > 0) {
                rw_buf_puts(b, e->kind == RW_E_AND ? " AND " : " OR ");
            }
            emit(b, e->args[i], db, table, tq);
        }
        rw_buf_puts(b, ")");
        return;
    case RW_E_NOT:
        rw_buf_puts(b, "(NOT ");
        emit(b, e->args[0], db, table, tq);
        rw_buf_puts(b, ")");
        return;
    default: /* the other kinds: emit() */
        return;
    }
}

/* A function or aggregate call (and the bridge's INTERVAL). */
static void
emit_call(struct rw_buf *b, const struct rw_expr *e, const char *db, const char *table,
          const struct tabq *tq)
{
    size_t i;
    switch (e->kind) {
    case RW_E_FUNC:
    case RW_E_AGG:
        if (e->kind == RW_E_FUNC && strcmp(e->name, "mvp_interval") == 0 && e->n == 2) {
            /* the bridge's INTERVAL expr unit (rw_conv.c conv_interval) */
            bool paren = e->args[0]->kind != RW_E_CONST && e->args[0]->kind != RW_E_OP;
            rw_buf_puts(b, paren ? "INTERVAL (" : "INTERVAL ");
            emit(b, e->args[0], db, table, tq);
            rw_buf_puts(b, paren ? ") " : " ");
            rw_buf_puts(b, e->args[1]->text);
            return;
        }
        upper(b, e->name);
        if (e->kind == RW_E_FUNC && bare_func(e->name) && e->n == 0) {
            return;
        }
        rw_buf_puts(b, "(");
        if (e->distinct) {
            rw_buf_puts(b, "DISTINCT ");
        }
        if (e->kind == RW_E_AGG && e->n == 0) {
            rw_buf_puts(b, "*");
        }
        for (i = 0; i < e->n; i++) {
            if (i > 0) {
                rw_buf_puts(b, ", ");
            }
            emit(b, e->args[i], db, table, tq);
        }
        rw_buf_puts(b, ")");
        return;
    default: /* the other kinds: emit() */
        return;
    }
}

/* IS [NOT] NULL, [NOT] IN, [NOT] BETWEEN, [NOT] LIKE: parenthesised. */
static void
emit_predicate(struct rw_buf *b, const struct rw_expr *e, const char *db, const char *table,
               const struct tabq *tq)
{
    size_t i;
    switch (e->kind) {
    case RW_E_ISNULL:
        rw_buf_puts(b, "(");
        emit(b, e->args[0], db, table, tq);
        rw_buf_puts(b, e->neg ? " IS NOT NULL)" : " IS NULL)");
        return;
    case RW_E_IN:
        rw_buf_puts(b, "(");
        emit(b, e->args[0], db, table, tq);
        rw_buf_puts(b, e->neg ? " NOT IN (" : " IN (");
        for (i = 1; i < e->n; i++) {
            if (i > 1) {
                rw_buf_puts(b, ", ");
            }
            emit(b, e->args[i], db, table, tq);
        }
        rw_buf_puts(b, "))");
        return;
    case RW_E_BETWEEN:
        rw_buf_puts(b, "(");
        emit(b, e->args[0], db, table, tq);
        rw_buf_puts(b, e->neg ? " NOT BETWEEN " : " BETWEEN ");
        emit(b, e->args[1], db, table, tq);
        rw_buf_puts(b, " AND ");
        emit(b, e->args[2], db, table, tq);
        rw_buf_puts(b, ")");
        return;
    case RW_E_LIKE:
        rw_buf_puts(b, "(");
        emit(b, e->args[0], db, table, tq);
        rw_buf_puts(b, e->neg ? " NOT LIKE " : " LIKE ");
        emit(b, e->args[1], db, table, tq);
        rw_buf_puts(b, ")");
        return;
    default: /* the other kinds: emit() */
        return;
    }
}

/* A window function call OVER (...) and its PARTITION BY, ORDER BY and
 * sort items (the frame: emit_frame). */
static void
emit_window(struct rw_buf *b, const struct rw_expr *e, const char *db, const char *table,
            const struct tabq *tq)
{
    size_t i;
    switch (e->kind) {
    case RW_E_WIN: {
        /* CALL OVER ([PARTITION BY ..] [ORDER BY ..] [frame]) */
        bool sep = false;
        emit(b, e->args[0], db, table, tq);
        rw_buf_puts(b, " OVER (");
        for (i = 1; i < e->n; i++) {
            const struct rw_expr *a = e->args[i];
            if (a->kind == RW_E_WFRAME ? a->name == NULL || a->name[0] == '\0' : a->n == 0) {
                continue;
            }
            if (sep) {
                rw_buf_puts(b, " ");
            }
            emit(b, a, db, table, tq);
            sep = true;
        }
        rw_buf_puts(b, ")");
        return;
    }
    case RW_E_WPART:
    case RW_E_WORDER:
        if (e->n == 0) {
            return;
        }
        rw_buf_puts(b, e->kind == RW_E_WPART ? "PARTITION BY " : "ORDER BY ");
        for (i = 0; i < e->n; i++) {
            if (i > 0) {
                rw_buf_puts(b, ", ");
            }
            emit(b, e->args[i], db, table, tq);
        }
        return;
    case RW_E_WSORT:
        emit(b, e->args[0], db, table, tq);
        if (e->neg) {
            rw_buf_puts(b, " DESC");
        }
        return;
    default: /* the other kinds: emit() */
        return;
    }
}

/* CASE [arg] WHEN .. THEN .. [ELSE ..] END. */
static void
emit_case(struct rw_buf *b, const struct rw_expr *e, const char *db, const char *table,
          const struct tabq *tq)
{
    switch (e->kind) {
    case RW_E_CASE: {
        size_t k = 0, end = e->has_else ? e->n - 1 : e->n;
        rw_buf_puts(b, "CASE");
        if (e->case_arg) {
            rw_buf_puts(b, " ");
            emit(b, e->args[0], db, table, tq);
            k = 1;
        }
        for (; k + 1 < end + 1 && k < end; k += 2) {
            rw_buf_puts(b, " WHEN ");
            emit(b, e->args[k], db, table, tq);
            rw_buf_puts(b, " THEN ");
            emit(b, e->args[k + 1], db, table, tq);
        }
        if (e->has_else) {
            rw_buf_puts(b, " ELSE ");
            emit(b, e->args[e->n - 1], db, table, tq);
        }
        rw_buf_puts(b, " END");
        return;
    }
    default: /* the other kinds: emit() */
        return;
    }
}

/* Append E to B as MariaDB text: view columns qualified by DB.TABLE, the
 * columns of joined-back instances by their alias in TQ (NULL: none). */
static void
emit(struct rw_buf *b, const struct rw_expr *e, const char *db, const char *table,
     const struct tabq *tq)
{
    switch (e->kind) {
    case RW_E_VCOL:
    case RW_E_COL:
        emit_column(b, e, db, table, tq);
        return;
    case RW_E_CONST:
        rw_buf_puts(b, e->text);
        return;
    case RW_E_OP:
    case RW_E_AND:
    case RW_E_OR:
    case RW_E_NOT:
        emit_operator(b, e, db, table, tq);
        return;
    case RW_E_FUNC:
    case RW_E_AGG:
        emit_call(b, e, db, table, tq);
        return;
    case RW_E_ISNULL:
    case RW_E_IN:
    case RW_E_BETWEEN:
    case RW_E_LIKE:
        emit_predicate(b, e, db, table, tq);
        return;
    case RW_E_CAST:
        rw_buf_puts(b, "CAST(");
        emit(b, e->args[0], db, table, tq);
        rw_buf_puts(b, " AS ");
        rw_buf_puts(b, e->name);
        rw_buf_puts(b, ")");
        return;
    case RW_E_WIN:
    case RW_E_WPART:
    case RW_E_WORDER:
    case RW_E_WSORT:
        emit_window(b, e, db, table, tq);
        return;
    case RW_E_WFRAME:
        emit_frame(b, e, db, table);
        return;
    case RW_E_CASE:
        emit_case(b, e, db, table, tq);
        return;
    }
}

void
rw_emit_expr(struct rw_buf *b, const struct rw_expr *e, const char *db, const char *table)
{
    emit(b, e, db, table, NULL);
}

void
rw_emit_expr_tabs(struct rw_buf *b, const struct rw_expr *e, const char *db, const char *table,
                  const char *const *aliases, size_t n_aliases)
{
    struct tabq tq;
    tq.alias = aliases;
    tq.n = n_aliases;
    emit(b, e, db, table, aliases != NULL ? &tq : NULL);
}

char *
rw_emit_splice(const char *src, size_t len, size_t start, size_t end, const char *repl,
               size_t *out_len)
{
    struct rw_buf b = {0};
    rw_buf_add(&b, src, start);
    rw_buf_puts(&b, repl);
    rw_buf_add(&b, src + end, len - end);
    *out_len = b.len;
    return rw_buf_take(&b);
}

/* Column names read by guard collection: a set of borrowed strings. */
struct colset {
    const char **v;     /* names (borrowed from the model) */
    size_t n;           /* count */
    size_t cap;         /* slots */
    bool oom;           /* allocation failed */
};

/* Add the columns of E that belong to an instance of table KEY of Q to CS. */
static void
guard_cols(const struct rw_model *q, const char *key, const struct rw_expr *e, struct colset *cs)
{
    size_t i;
    if (e == NULL || cs->oom) {
        return;
    }
    if (e->kind == RW_E_COL && e->tab >= 0 && (size_t)e->tab < q->n_tabs &&
        strcmp(q->tabs[e->tab].key, key) == 0) {
        for (i = 0; i < cs->n; i++) {
            if (strcmp(cs->v[i], e->name) == 0) {
                return;
            }
        }
        if (cs->n == cs->cap) {
            size_t cap = cs->cap ? cs->cap * 2 : 8;
            const char **a = realloc(cs->v, cap * sizeof(*a));
            if (a == NULL) {
                cs->oom = true;
                return;
            }
            cs->v = a;
            cs->cap = cap;
        }
        cs->v[cs->n++] = e->name;
    }
    for (i = 0; i < e->n; i++) {
        guard_cols(q, key, e->args[i], cs);
    }
}

static int
str_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

void
rw_emit_guard(struct rw_buf *b, const struct rw_model *q)
{
    rw_emit_guard_tabs(b, q, NULL);
}

/* rw_emit_guard_tabs() counting the guards appended so far in *N_GUARD; an
 * opaque derived table is guarded by the guard of its body (the tables and
 * columns the body reads). */
static void
guard_model(struct rw_buf *b, const struct rw_model *q, const bool *tabs, size_t *n_guard)
{
    size_t t, i, j;
    for (t = 0; t < q->n_tabs; t++) {
        struct colset cs = {0};
        const char *key = q->tabs[t].key;
        bool seen = false, wanted = tabs == NULL;
        if (q->tabs[t].opaque) {
            if (wanted || tabs[t]) {
                if (q->tabs[t].body == NULL) {
                    b->oom = true; /* cannot happen for a query model: fail closed */
                    return;
                }
                guard_model(b, q->tabs[t].body, NULL, n_guard);
            }
            continue;
        }
        for (i = 0; i < t && !seen; i++) {
            seen = strcmp(q->tabs[i].key, key) == 0;
        }
        if (seen) {
            continue; /* one guard per table: its first instance covers the others */
        }
        for (i = t; i < q->n_tabs && !wanted; i++) {
            wanted = tabs[i] && strcmp(q->tabs[i].key, key) == 0;
        }
        if (!wanted) {
            continue; /* read directly by the rewritten block: the backend checks it */
        }
        for (i = 0; i < q->n_conj; i++) {
            guard_cols(q, key, q->conj[i], &cs);
        }
        for (i = 0; i < q->n_oj; i++) {
            for (j = 0; j < q->oj[i].n_on; j++) {
                guard_cols(q, key, q->oj[i].on[j], &cs);
            }
        }
        for (i = 0; i < q->n_group; i++) {
            guard_cols(q, key, q->group[i], &cs);
        }
        for (i = 0; i < q->n_out; i++) {
            guard_cols(q, key, q->out[i].e, &cs);
        }
        guard_cols(q, key, q->having, &cs);
        for (i = 0; i < q->n_read; i++) {
            guard_cols(q, key, q->read[i], &cs);
        }
        for (i = 0; i < q->n_sort; i++) {
            guard_cols(q, key, q->sort[i].e, &cs);
        }
        if (cs.oom) {
            b->oom = true;
            free(cs.v);
            return;
        }
        if (cs.n > 1) {
            qsort(cs.v, cs.n, sizeof(*cs.v), str_cmp);
        }
        rw_buf_puts(b, (*n_guard)++ > 0 ? " AND NOT EXISTS (SELECT " : "NOT EXISTS (SELECT ");
        for (i = 0; i < cs.n; i++) {
            if (i > 0) {
                rw_buf_puts(b, ", ");
            }
            rw_buf_ident(b, cs.v[i]);
        }
        if (cs.n == 0) {
            rw_buf_puts(b, "1");
        }
        rw_buf_puts(b, " FROM ");
        rw_buf_ident(b, q->tabs[t].db);
        rw_buf_puts(b, ".");
        rw_buf_ident(b, q->tabs[t].name);
        rw_buf_puts(b, " WHERE 0)");
        free(cs.v);
    }
}

void
rw_emit_guard_tabs(struct rw_buf *b, const struct rw_model *q, const bool *tabs)
{
    size_t n_guard = 0;
    guard_model(b, q, tabs, &n_guard);
}
