/*
 * cat_index.c - indexes of view storage tables (cat_index.h): checks,
 * SHOW and catalog text, building them on a table, the default rule.
 *
 * Where they are built: on the staging table of every complete refresh
 * (cat_refresh_stage), empty, before it is loaded and swapped in. A
 * staging table made LIKE the storage table has them already (one
 * information_schema read finds that), one rebuilt from the definition
 * gets them here; partition and incremental refreshes write in place. The
 * staging table's name (`__mvp_new`) keeps these DDL statements out of
 * the binlog follower's marks (cat_binlog_skip_table): building on the
 * live storage table would make the view stale. CREATE only checks and
 * records them; BUILD IMMEDIATE's first refresh builds them.
 */
#include "cat_index.h"

#include "cat_core.h"
#include "cat_part.h"
#include "rw.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int
cat_index_check(const struct cat_mv_index *ix, size_t n, const struct cat_mv_index *old,
                size_t n_old, char *const *cols, size_t nc, struct mvp_reply *err)
{
    size_t i, j, k;
    for (i = 0; i < n; i++) {
        for (j = 0; j < n_old; j++) {
            if (cat_streq_ci(ix[i].name, old[j].name)) {
                mvp_reply_err(err, 1061, "42000", "Duplicate key name '%s'", ix[i].name);
                return -1;
            }
        }
        for (j = 0; j < i; j++) {
            if (cat_streq_ci(ix[i].name, ix[j].name)) {
                mvp_reply_err(err, 1061, "42000", "Duplicate key name '%s'", ix[i].name);
                return -1;
            }
        }
        for (j = 0; j < ix[i].n_cols; j++) {
            bool found = false;
            for (k = 0; k < nc && !found; k++) {
                found = cat_streq_ci(ix[i].cols[j], cols[k]);
            }
            if (!found) {
                mvp_reply_err(err, 1072, "42000", "Key column '%s' doesn't exist in table",
                              ix[i].cols[j]);
                return -1;
            }
            for (k = 0; k < j; k++) {
                if (cat_streq_ci(ix[i].cols[j], ix[i].cols[k])) {
                    mvp_reply_err(err, 1060, "42S21", "Duplicate column name '%s'", ix[i].cols[j]);
                    return -1;
                }
            }
        }
    }
    return 0;
}

char *
cat_index_text(const struct cat_mv_index *ix, size_t n)
{
    struct cat_buf b = {0};
    size_t i, j;
    cat_buf_puts(&b, "");
    for (i = 0; i < n; i++) {
        cat_buf_puts(&b, i > 0 ? "; " : "");
        if (ix[i].is_key) {
            cat_buf_puts(&b, "KEY(");
        } else {
            cat_buf_printf(&b, "INDEX %s(", ix[i].name);
        }
        for (j = 0; j < ix[i].n_cols; j++) {
            cat_buf_puts(&b, j > 0 ? ", " : "");
            cat_buf_puts(&b, ix[i].cols[j]);
        }
        cat_buf_puts(&b, ")");
    }
    return cat_buf_take(&b);
}

void
cat_index_clauses(struct cat_buf *b, const struct cat_mv_index *ix, size_t n)
{
    size_t i, j;
    for (i = 0; i < n; i++) {
        if (ix[i].is_auto) {
            continue;
        }
        if (ix[i].is_key) {
            cat_buf_puts(b, "\nKEY (");
        } else {
            cat_buf_puts(b, "\nINDEX ");
            cat_buf_ident(b, ix[i].name);
            cat_buf_puts(b, " (");
        }
        for (j = 0; j < ix[i].n_cols; j++) {
            cat_buf_puts(b, j > 0 ? ", " : "");
            cat_buf_ident(b, ix[i].cols[j]);
        }
        cat_buf_puts(b, ")");
    }
}

char *
cat_index_json(const struct cat_mv_index *ix, size_t n)
{
    struct cat_buf b = {0};
    size_t i, j;
    if (n == 0) {
        return NULL;
    }
    cat_buf_puts(&b, "[");
    for (i = 0; i < n; i++) {
        struct cat_buf e = {0};
        char *s;
        cat_buf_puts(&e, "[");
        cat_buf_json_str(&e, ix[i].is_key ? "K" : ix[i].is_auto ? "A" : "I");
        cat_buf_puts(&e, ",");
        cat_buf_json_str(&e, ix[i].name);
        for (j = 0; j < ix[i].n_cols; j++) {
            cat_buf_puts(&e, ",");
            cat_buf_json_str(&e, ix[i].cols[j]);
        }
        cat_buf_puts(&e, "]");
        s = cat_buf_take(&e);
        cat_buf_puts(&b, i > 0 ? "," : "");
        cat_buf_json_str(&b, s);
        free(s);
    }
    cat_buf_puts(&b, "]");
    return cat_buf_take(&b);
}

size_t
cat_index_of_json(const char *text, struct cat_mv_index **out, size_t *n)
{
    char **items = NULL;
    int ni, i;
    *out = NULL;
    *n = 0;
    if (text == NULL || *text == '\0') {
        return 0;
    }
    ni = cat_json_parse_array(text, &items);
    if (ni <= 0) {
        free(items);
        return 0;
    }
    *out = cat_xcalloc((size_t)ni, sizeof(**out));
    for (i = 0; i < ni; i++) {
        char **f = NULL;
        int nf = items[i] != NULL ? cat_json_parse_array(items[i], &f) : -1;
        if (nf >= 3 && f[0] != NULL && f[1] != NULL) {
            struct cat_mv_index *x = &(*out)[(*n)++];
            int k;
            bool ok = true;
            for (k = 2; k < nf; k++) {
                ok = ok && f[k] != NULL;
            }
            x->is_key = strcmp(f[0], "K") == 0;
            x->is_auto = strcmp(f[0], "A") == 0;
            x->name = cat_xstrdup(f[1]);
            x->n_cols = (size_t)(nf - 2);
            x->cols = cat_xcalloc(x->n_cols, sizeof(char *));
            for (k = 2; k < nf; k++) {
                x->cols[k - 2] = cat_xstrdup(f[k] != NULL ? f[k] : "");
            }
            if (!ok) {
                (*n)--;
                free(x->name);
                cat_strv_free(x->cols, x->n_cols);
                memset(x, 0, sizeof(*x));
            }
        }
        if (nf > 0) {
            cat_strv_free(f, (size_t)nf);
        } else {
            free(f);
        }
    }
    cat_strv_free(items, (size_t)ni);
    if (*n == 0) {
        free(*out);
        *out = NULL;
    }
    return *n;
}

int
cat_index_table_cols(MYSQL *c, const char *db, const char *table, char ***names, char ***types,
                     size_t *n, char *err, size_t errlen)
{
    struct cat_buf q = {0};
    MYSQL_RES *res;
    MYSQL_ROW row;
    size_t cap = 0;
    *names = NULL;
    if (types != NULL) {
        *types = NULL;
    }
    *n = 0;
    cat_buf_puts(&q, "SELECT COLUMN_NAME, LOWER(DATA_TYPE) FROM information_schema.COLUMNS"
                     " WHERE TABLE_SCHEMA = ");
    cat_buf_lit(&q, db);
    cat_buf_puts(&q, " AND TABLE_NAME = ");
    cat_buf_lit(&q, table);
    cat_buf_puts(&q, " ORDER BY ORDINAL_POSITION");
    if (mysql_real_query(c, q.p, q.len) != 0 || (res = mysql_store_result(c)) == NULL) {
        snprintf(err, errlen, "reading the columns of %s.%s: %s", db, table, mysql_error(c));
        cat_buf_free(&q);
        return -1;
    }
    cat_buf_free(&q);
    while ((row = mysql_fetch_row(res)) != NULL) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 16;
            *names = realloc(*names, cap * sizeof(char *));
            if (*names == NULL) {
                abort();
            }
            if (types != NULL) {
                *types = realloc(*types, cap * sizeof(char *));
                if (*types == NULL) {
                    abort();
                }
            }
        }
        (*names)[*n] = cat_xstrdup(row[0] != NULL ? row[0] : "");
        if (types != NULL) {
            (*types)[*n] = cat_xstrdup(row[1] != NULL ? row[1] : "");
        }
        (*n)++;
    }
    mysql_free_result(res);
    return 0;
}

bool
cat_index_needs_prefix(const char *t)
{
    size_t len;
    if (t == NULL) {
        return false;
    }
    len = strlen(t);
    return (len >= 4 && (strcmp(t + len - 4, "text") == 0 || strcmp(t + len - 4, "blob") == 0)) ||
           strcmp(t, "json") == 0;
}

/* Names of the indexes DB.TABLE has (information_schema.STATISTICS) into
 * *NAMES / *N (caller frees). Returns 0, or -1 with ERR. */
static int
table_index_names(MYSQL *c, const char *db, const char *table, char ***names, size_t *n, char *err,
                  size_t errlen)
{
    struct cat_buf q = {0};
    MYSQL_RES *res;
    MYSQL_ROW row;
    *names = NULL;
    *n = 0;
    cat_buf_puts(&q, "SELECT DISTINCT INDEX_NAME FROM information_schema.STATISTICS"
                     " WHERE TABLE_SCHEMA = ");
    cat_buf_lit(&q, db);
    cat_buf_puts(&q, " AND TABLE_NAME = ");
    cat_buf_lit(&q, table);
    if (mysql_real_query(c, q.p, q.len) != 0 || (res = mysql_store_result(c)) == NULL) {
        snprintf(err, errlen, "reading the indexes of %s.%s: %s", db, table, mysql_error(c));
        cat_buf_free(&q);
        return -1;
    }
    cat_buf_free(&q);
    *names = cat_xcalloc(mysql_num_rows(res) + 1, sizeof(char *));
    while ((row = mysql_fetch_row(res)) != NULL) {
        (*names)[(*n)++] = cat_xstrdup(row[0] != NULL ? row[0] : "");
    }
    mysql_free_result(res);
    return 0;
}

size_t
cat_index_build(MYSQL *c, const char *db, const char *table, const struct cat_mv_index *ix,
                size_t n, const char *what, bool *ok)
{
    char **names = NULL, **types = NULL, **have = NULL, err[512];
    size_t nc = 0, nh = 0, i, j, k, built = 0;
    if (n == 0) {
        return 0;
    }
    if (table_index_names(c, db, table, &have, &nh, err, sizeof(err)) < 0) {
        cat_log(CAT_LOG_WARN, "view %s: no index built on %s.%s: %s", what, db, table, err);
        return 0;
    }
    for (i = 0, built = 0; i < n; i++) {
        for (k = 0; k < nh; k++) {
            if (cat_streq_ci(have[k], ix[i].name)) {
                built++;
                break;
            }
        }
    }
    if (built == n) {
        /* the usual case, a staging table made LIKE the storage table: one read */
        if (ok != NULL) {
            for (i = 0; i < n; i++) {
                ok[i] = true;
            }
        }
        cat_strv_free(have, nh);
        return n;
    }
    built = 0;
    if (cat_index_table_cols(c, db, table, &names, &types, &nc, err, sizeof(err)) < 0) {
        cat_log(CAT_LOG_WARN, "view %s: no index built on %s.%s: %s", what, db, table, err);
        cat_strv_free(have, nh);
        return 0;
    }
    for (i = 0; i < n; i++) {
        struct cat_buf q = {0};
        unsigned code = 0;
        bool there = false;
        for (k = 0; k < nh && !there; k++) {
            there = cat_streq_ci(have[k], ix[i].name);
        }
        if (there) {
            /* a staging table made LIKE the storage table has it already */
            built++;
            if (ok != NULL) {
                ok[i] = true;
            }
            continue;
        }
        cat_buf_puts(&q, "ALTER TABLE ");
        cat_buf_qname(&q, db, table);
        cat_buf_puts(&q, " ADD INDEX ");
        cat_buf_ident(&q, ix[i].name);
        cat_buf_puts(&q, " (");
        for (j = 0; j < ix[i].n_cols; j++) {
            const char *type = NULL;
            for (k = 0; k < nc; k++) {
                if (cat_streq_ci(names[k], ix[i].cols[j])) {
                    type = types[k];
                    break;
                }
            }
            cat_buf_puts(&q, j > 0 ? ", " : "");
            cat_buf_ident(&q, ix[i].cols[j]);
            if (cat_index_needs_prefix(type)) {
                cat_buf_printf(&q, "(%d)", CAT_INDEX_PREFIX);
            }
        }
        cat_buf_puts(&q, ")");
        if (ok != NULL) {
            ok[i] = false;
        }
        if (cat_q(c, q.p, err, sizeof(err), &code) == 0 || code == 1061) {
            built++; /* 1061: there already (a staging table made LIKE the view's) */
            if (ok != NULL) {
                ok[i] = true;
            }
        } else {
            cat_log(CAT_LOG_WARN,
                    "view %s: index %s on %s.%s skipped (the view works without "
                    "it): %s",
                    what, ix[i].name, db, table, err);
        }
        cat_buf_free(&q);
    }
    cat_strv_free(names, nc);
    cat_strv_free(types, nc);
    cat_strv_free(have, nh);
    return built;
}

/* Append a default index NAME over COLS (N) to *OUT / *NO. */
static void
add_auto(struct cat_mv_index **out, size_t *no, const char *name, const char *const *cols, size_t n)
{
    struct cat_mv_index *x;
    size_t i;
    *out = realloc(*out, (*no + 1) * sizeof(**out));
    if (*out == NULL) {
        abort();
    }
    x = &(*out)[(*no)++];
    memset(x, 0, sizeof(*x));
    x->name = cat_xstrdup(name);
    x->is_auto = true;
    x->n_cols = n;
    x->cols = cat_xcalloc(n, sizeof(char *));
    for (i = 0; i < n; i++) {
        x->cols[i] = cat_xstrdup(cols[i]);
    }
}

size_t
cat_index_defaults(const struct cat_mv *mv, struct cat_mv_index **out)
{
    const char *cols[CAT_INDEX_AUTO_MAX_COLS];
    const char *pc = mv->part != NULL ? mv->part->col : NULL;
    size_t no = 0, n;
    char what = 0;
    *out = NULL;
    n = rw_mv_model_index_cols(mv->model, cols, CAT_INDEX_AUTO_MAX_COLS, &what);
    if (pc != NULL && !(n > 0 && cat_streq_ci(cols[0], pc))) {
        /* a grouping index led by the partition column serves its ranges too */
        add_auto(out, &no, "mvp_auto_part", &pc, 1);
    }
    if (n > 0) {
        add_auto(out, &no, what == 'g' ? "mvp_auto_group" : "mvp_auto_join", cols, n);
    }
    return no;
}
