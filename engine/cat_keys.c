/*
 * cat_keys.c - declared keys of the catalog's base tables: PRIMARY KEY,
 * UNIQUE and FOREIGN KEY constraints from information_schema, attached to
 * struct cat_table for the rewriter's join elimination (view-matching.md §2:
 * a view's extra table must join on a declared foreign key to a unique key).
 *
 *   KEY_COLUMN_USAGE, one lookup per table (one row per key column, in order)
 *     -> cat_table.ukeys (PRIMARY KEY, UNIQUE) / cat_table.fkeys (FOREIGN KEY)
 *   + the informational constraints of the snapshot (cat_icons_merge, cat_constraint.c)
 */
#include "cat.h"
#include "cat_core.h"
#include "cat_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mysql.h>

/* Append an empty key to *KEYS (*N entries); returns it. */
static struct cat_key *
key_new(struct cat_key **keys, size_t *n)
{
    struct cat_key *k = realloc(*keys, (*n + 1) * sizeof(*k));
    if (k == NULL) {
        abort();
    }
    *keys = k;
    k = &k[(*n)++];
    memset(k, 0, sizeof(*k));
    return k;
}

/* Append column COL (and, for a foreign key, REF_COL) to key K. */
static void
key_add_col(struct cat_key *k, const char *col, const char *ref_col)
{
    char **c = realloc(k->cols, (k->n_cols + 1) * sizeof(*c));
    if (c == NULL) {
        abort();
    }
    k->cols = c;
    if (k->ref_key != NULL) {
        char **r = realloc(k->ref_cols, (k->n_cols + 1) * sizeof(*r));
        if (r == NULL) {
            abort();
        }
        k->ref_cols = r;
        r[k->n_cols] = cat_xstrdup_lower(ref_col);
    }
    c[k->n_cols++] = cat_xstrdup_lower(col);
}

int
cat_keys_load(struct st_mysql *c, struct cat_snapshot *snap)
{
    struct cat_buf q = {0};
    struct cat_table *t, *tmp;
    MYSQL_RES *res;
    MYSQL_ROW row;
    char prev[1024] = "";
    struct cat_key *cur = NULL;
    size_t n_tab = 0;
    if (snap->tables == NULL) {
        return 0;
    }
    /*
     * One UNION ALL branch per table, each with TABLE_SCHEMA = and
     * TABLE_NAME = constants: MariaDB then opens just that table ("Scanned 0
     * databases") instead of every table of the schema. Opening the whole
     * schema raced with tables being created and dropped there (refresh
     * staging tables) and crashed MariaDB 10.11.19 in create_tmp_table_for_schema.
     * KEY_COLUMN_USAGE alone lists PRIMARY KEY, UNIQUE and FOREIGN KEY
     * columns: a referenced table marks a foreign key, the name PRIMARY the
     * primary key, anything else is a unique key.
     */
    HASH_ITER(hh, snap->tables, t, tmp) {
        cat_table_keys_free(t);
        if (t->joinback_only) {
            continue; /* read next to a view, never eliminated: its keys are not needed */
        }
        if (n_tab++ > 0) {
            cat_buf_puts(&q, " UNION ALL ");
        }
        cat_buf_puts(&q, "(SELECT TABLE_SCHEMA, TABLE_NAME, CONSTRAINT_NAME, "
                         "IF(REFERENCED_TABLE_NAME IS NOT NULL, 'FOREIGN KEY', "
                         "IF(CONSTRAINT_NAME = 'PRIMARY', 'PRIMARY KEY', 'UNIQUE')), "
                         "COLUMN_NAME, REFERENCED_TABLE_SCHEMA, REFERENCED_TABLE_NAME, "
                         "REFERENCED_COLUMN_NAME, ORDINAL_POSITION "
                         "FROM information_schema.KEY_COLUMN_USAGE WHERE TABLE_SCHEMA = ");
        cat_buf_lit(&q, t->db);
        cat_buf_puts(&q, " AND TABLE_NAME = ");
        cat_buf_lit(&q, t->name);
        cat_buf_puts(&q, ")");
    }
    if (n_tab == 0) {
        cat_buf_free(&q);
        cat_icons_merge(snap);
        return 0;
    }
    cat_buf_puts(&q, " ORDER BY 1, 2, 3, 9");
    if (mysql_real_query(c, q.p, q.len) != 0 || (res = mysql_store_result(c)) == NULL) {
        cat_buf_free(&q);
        return -1;
    }
    cat_buf_free(&q);
    while ((row = mysql_fetch_row(res)) != NULL) {
        char key[512], ident[1024];
        bool fk;
        t = NULL;
        if (row[0] == NULL || row[1] == NULL || row[2] == NULL || row[3] == NULL ||
            row[4] == NULL) {
            continue;
        }
        cat_make_key(key, sizeof(key), row[0], row[1]);
        HASH_FIND_STR(snap->tables, key, t);
        if (t == NULL) {
            cur = NULL;
            prev[0] = '\0';
            continue;
        }
        fk = strcmp(row[3], "FOREIGN KEY") == 0;
        if (fk && (row[5] == NULL || row[6] == NULL || row[7] == NULL)) {
            continue;
        }
        snprintf(ident, sizeof(ident), "%s\n%s", key, row[2]);
        if (cur == NULL || strcmp(ident, prev) != 0) {
            cur = fk ? key_new(&t->fkeys, &t->n_fkeys) : key_new(&t->ukeys, &t->n_ukeys);
            if (fk) {
                char rk[512];
                cur->ref_key = cat_xstrdup(cat_make_key(rk, sizeof(rk), row[5], row[6]));
            }
            snprintf(prev, sizeof(prev), "%s", ident);
        }
        key_add_col(cur, row[4], fk ? row[7] : NULL);
    }
    mysql_free_result(res);
    cat_icons_merge(snap); /* informational constraints (NOT ENFORCED) after the real ones */
    return 0;
}
