/*
 * cat_reply.c - constructors for struct mvp_reply, the proxy's locally built
 * OK / ERR / result-set answers (see cat_reply.h).
 */
#include "cat_reply.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void *
xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (p == NULL) {
        fprintf(stderr, "mvproxy: out of memory\n");
        abort();
    }
    return p;
}

static char *
xstrdup(const char *s)
{
    size_t n;
    char *p;
    if (s == NULL) {
        return NULL;
    }
    n = strlen(s) + 1;
    p = xmalloc(n);
    memcpy(p, s, n);
    return p;
}

void
mvp_reply_init(struct mvp_reply *r)
{
    memset(r, 0, sizeof(*r));
}

void
mvp_reply_clear(struct mvp_reply *r)
{
    size_t i, j;
    free(r->info);
    free(r->err_msg);
    for (i = 0; i < r->n_rows; i++) {
        for (j = 0; j < r->n_cols; j++) {
            free(r->rows[i][j]);
        }
        free(r->rows[i]);
    }
    free(r->rows);
    for (i = 0; i < r->n_cols; i++) {
        free(r->col_names[i]);
    }
    free(r->col_names);
    free(r->col_types);
    memset(r, 0, sizeof(*r));
}

void
mvp_reply_ok(struct mvp_reply *r, uint64_t affected, const char *info)
{
    mvp_reply_clear(r);
    r->kind = MVP_REPLY_OK;
    r->affected_rows = affected;
    r->info = xstrdup(info);
}

void
mvp_reply_err(struct mvp_reply *r, uint16_t code, const char *sqlstate, const char *fmt, ...)
{
    va_list ap;
    char buf[1024];
    mvp_reply_clear(r);
    r->kind = MVP_REPLY_ERR;
    r->err_code = code;
    snprintf(r->sqlstate, sizeof(r->sqlstate), "%.5s", sqlstate ? sqlstate : "HY000");
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    r->err_msg = xstrdup(buf);
}

void
mvp_reply_rows(struct mvp_reply *r, size_t n, const char *const *names,
               const enum mvp_col_type *types)
{
    size_t i;
    mvp_reply_clear(r);
    r->kind = MVP_REPLY_ROWS;
    r->n_cols = n;
    r->col_names = xmalloc(n * sizeof(char *));
    r->col_types = xmalloc(n * sizeof(enum mvp_col_type));
    for (i = 0; i < n; i++) {
        r->col_names[i] = xstrdup(names[i]);
        r->col_types[i] = types ? types[i] : MVP_COL_STRING;
    }
}

void
mvp_reply_add_row(struct mvp_reply *r, const char *const *values)
{
    size_t j;
    char **row;
    if (r->n_rows == r->cap_rows) {
        size_t cap = r->cap_rows ? r->cap_rows * 2 : 8;
        char ***nr = realloc(r->rows, cap * sizeof(char **));
        if (nr == NULL) {
            fprintf(stderr, "mvproxy: out of memory\n");
            abort();
        }
        r->rows = nr;
        r->cap_rows = cap;
    }
    row = xmalloc(r->n_cols * sizeof(char *));
    for (j = 0; j < r->n_cols; j++) {
        row[j] = xstrdup(values[j]);
    }
    r->rows[r->n_rows++] = row;
}
