/*
 * rw_emit.c - prints canonical expressions as MariaDB SQL (fully
 * qualified, backtick-quoted view columns; literals in their original
 * text) and splices replacement blocks into the original statement.
 */
#include "rw_emit.h"

#include <ctype.h>
#include <string.h>

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

void
rw_emit_expr(struct rw_buf *b, const struct rw_expr *e, const char *db, const char *table)
{
    size_t i;
    switch (e->kind) {
    case RW_E_VCOL:
        rw_buf_ident(b, db);
        rw_buf_puts(b, ".");
        rw_buf_ident(b, table);
        rw_buf_puts(b, ".");
        rw_buf_ident(b, e->name);
        return;
    case RW_E_COL:
        /* only reached for a programming error; keep the text valid-looking */
        rw_buf_ident(b, e->name);
        return;
    case RW_E_CONST:
        rw_buf_puts(b, e->text);
        return;
    case RW_E_OP:
        rw_buf_puts(b, "(");
        if (e->n == 1) {
            rw_buf_puts(b, e->name);
            rw_buf_puts(b, " ");
            rw_emit_expr(b, e->args[0], db, table);
        }
        for (i = 0; e->n > 1 && i < e->n; i++) {
            if (i > 0) {
                rw_buf_printf(b, " %s ", e->name);
            }
            rw_emit_expr(b, e->args[i], db, table);
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
            rw_emit_expr(b, e->args[i], db, table);
        }
        rw_buf_puts(b, ")");
        return;
    case RW_E_NOT:
        rw_buf_puts(b, "(NOT ");
        rw_emit_expr(b, e->args[0], db, table);
        rw_buf_puts(b, ")");
        return;
    case RW_E_FUNC:
    case RW_E_AGG:
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
            rw_emit_expr(b, e->args[i], db, table);
        }
        rw_buf_puts(b, ")");
        return;
    case RW_E_ISNULL:
        rw_buf_puts(b, "(");
        rw_emit_expr(b, e->args[0], db, table);
        rw_buf_puts(b, e->neg ? " IS NOT NULL)" : " IS NULL)");
        return;
    case RW_E_IN:
        rw_buf_puts(b, "(");
        rw_emit_expr(b, e->args[0], db, table);
        rw_buf_puts(b, e->neg ? " NOT IN (" : " IN (");
        for (i = 1; i < e->n; i++) {
            if (i > 1) {
                rw_buf_puts(b, ", ");
            }
            rw_emit_expr(b, e->args[i], db, table);
        }
        rw_buf_puts(b, "))");
        return;
    case RW_E_BETWEEN:
        rw_buf_puts(b, "(");
        rw_emit_expr(b, e->args[0], db, table);
        rw_buf_puts(b, e->neg ? " NOT BETWEEN " : " BETWEEN ");
        rw_emit_expr(b, e->args[1], db, table);
        rw_buf_puts(b, " AND ");
        rw_emit_expr(b, e->args[2], db, table);
        rw_buf_puts(b, ")");
        return;
    case RW_E_LIKE:
        rw_buf_puts(b, "(");
        rw_emit_expr(b, e->args[0], db, table);
        rw_buf_puts(b, e->neg ? " NOT LIKE " : " LIKE ");
        rw_emit_expr(b, e->args[1], db, table);
        rw_buf_puts(b, ")");
        return;
    case RW_E_CAST:
        rw_buf_puts(b, "CAST(");
        rw_emit_expr(b, e->args[0], db, table);
        rw_buf_puts(b, " AS ");
        rw_buf_puts(b, e->name);
        rw_buf_puts(b, ")");
        return;
    case RW_E_CASE: {
        size_t k = 0, end = e->has_else ? e->n - 1 : e->n;
        rw_buf_puts(b, "CASE");
        if (e->case_arg) {
            rw_buf_puts(b, " ");
            rw_emit_expr(b, e->args[0], db, table);
            k = 1;
        }
        for (; k + 1 < end + 1 && k < end; k += 2) {
            rw_buf_puts(b, " WHEN ");
            rw_emit_expr(b, e->args[k], db, table);
            rw_buf_puts(b, " THEN ");
            rw_emit_expr(b, e->args[k + 1], db, table);
        }
        if (e->has_else) {
            rw_buf_puts(b, " ELSE ");
            rw_emit_expr(b, e->args[e->n - 1], db, table);
        }
        rw_buf_puts(b, " END");
        return;
    }
    }
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
