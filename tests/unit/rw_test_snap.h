/*
 * rw_test_snap.h - a fake catalog snapshot for the rewriter's unit tests
 * (tables with columns, views with models, the by_table index built from
 * rw_mv_model_tables as the catalog does). Header-only, test use only.
 */
#ifndef RW_TEST_SNAP_H
#define RW_TEST_SNAP_H

#include <stdlib.h>
#include <string.h>

#include "cat.h"
#include "rw.h"

static char *
ts_lower(const char *s)
{
    char *p = strdup(s);
    for (size_t i = 0; p[i]; i++) {
        p[i] = (char)(p[i] >= 'A' && p[i] <= 'Z' ? p[i] + 32 : p[i]);
    }
    return p;
}

/* SPEC: "name type[,name type...]"; a type ending in '!' is NOT NULL. */
static void
ts_table(struct cat_snapshot *s, const char *db, const char *name, const char *spec)
{
    struct cat_table *t = calloc(1, sizeof(*t));
    char key[256], *dup = strdup(spec), *save = NULL, *item;
    snprintf(key, sizeof(key), "%s.%s", db, name);
    t->key = ts_lower(key);
    t->db = strdup(db);
    t->name = strdup(name);
    t->cols = calloc(32, sizeof(*t->cols));
    for (int depth = 0, i = 0; dup[i]; i++) {
        depth += dup[i] == '(' ? 1 : dup[i] == ')' ? -1 : 0;
        if (depth > 0 && dup[i] == ',') {
            dup[i] = ';'; /* decimal(12,2): keep the comma out of the split */
        }
    }
    for (item = strtok_r(dup, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
        char cname[64], ctype[64];
        struct cat_column *c = &t->cols[t->n_cols++];
        sscanf(item, "%63s %63s", cname, ctype);
        c->nullable = ctype[strlen(ctype) - 1] != '!';
        if (!c->nullable) {
            ctype[strlen(ctype) - 1] = '\0';
        }
        c->name = strdup(cname);
        for (char *q = ctype; *q; q++) {
            *q = *q == ';' ? ',' : *q;
        }
        c->column_type = strdup(ctype);
        if (strchr(ctype, 0x28) != NULL) {
            *strchr(ctype, 0x28) = 0;
        }
        c->data_type = strdup(ctype);
    }
    free(dup);
    HASH_ADD_KEYPTR(hh, s->tables, t->key, strlen(t->key), t);
}

/* Split "a,b" into a new array of lower-case strings; *N gets the count. */
static char **
ts_split(const char *list, size_t *n)
{
    char *dup = strdup(list), *save = NULL, *item;
    char **v = calloc(16, sizeof(*v));
    *n = 0;
    for (item = strtok_r(dup, ",", &save); item && *n < 16; item = strtok_r(NULL, ",", &save)) {
        v[(*n)++] = ts_lower(item);
    }
    free(dup);
    return v;
}

/* Declare unique key COLS ("a,b") on DB.NAME (added with ts_table before). */
static void __attribute__((unused))
ts_ukey(struct cat_snapshot *s, const char *db, const char *name, const char *cols)
{
    struct cat_table *t = NULL;
    char key[256];
    snprintf(key, sizeof(key), "%s.%s", db, name);
    HASH_FIND_STR(s->tables, key, t);
    t->ukeys = realloc(t->ukeys, (t->n_ukeys + 1) * sizeof(*t->ukeys));
    memset(&t->ukeys[t->n_ukeys], 0, sizeof(*t->ukeys));
    t->ukeys[t->n_ukeys].cols = ts_split(cols, &t->ukeys[t->n_ukeys].n_cols);
    t->n_ukeys++;
}

/* Declare foreign key COLS of DB.NAME referencing REF ("db.table") REF_COLS. */
static void __attribute__((unused))
ts_fkey(struct cat_snapshot *s, const char *db, const char *name, const char *cols,
        const char *ref, const char *ref_cols)
{
    struct cat_table *t = NULL;
    struct cat_key *k;
    char key[256];
    size_t n;
    snprintf(key, sizeof(key), "%s.%s", db, name);
    HASH_FIND_STR(s->tables, key, t);
    t->fkeys = realloc(t->fkeys, (t->n_fkeys + 1) * sizeof(*t->fkeys));
    k = &t->fkeys[t->n_fkeys++];
    memset(k, 0, sizeof(*k));
    k->cols = ts_split(cols, &k->n_cols);
    k->ref_key = ts_lower(ref);
    k->ref_cols = ts_split(ref_cols, &n);
}

/* Add view DB.NAME AS SQL with storage columns SPEC; returns it (model may be NULL). */
static struct cat_mv *
ts_view(struct cat_snapshot *s, const char *db, const char *name, const char *sql,
        const char *spec, long long rows)
{
    struct cat_mv *mv = calloc(1, sizeof(*mv));
    char key[256];
    const char *const *keys;
    size_t n, i;
    ts_table(s, db, name, spec);
    snprintf(key, sizeof(key), "%s.%s", db, name);
    mv->key = ts_lower(key);
    mv->db = strdup(db);
    mv->name = strdup(name);
    mv->query_sql = strdup(sql);
    mv->rewrite_enabled = true;
    mv->grace_period_s = 0;
    mv->state = calloc(1, sizeof(*mv->state));
    atomic_store(&mv->state->last_refresh_ms, 1000);
    atomic_store(&mv->state->rows, rows);
    mv->model = rw_mv_model_build(s, db, name, sql, &mv->model_error);
    mv->model_free = rw_mv_model_free;
    HASH_ADD_KEYPTR(hh, s->mvs, mv->key, strlen(mv->key), mv);
    if (mv->model == NULL) {
        return mv;
    }
    n = rw_mv_model_tables(mv->model, &keys);
    for (i = 0; i < n; i++) {
        struct cat_table_index *ix = NULL;
        HASH_FIND_STR(s->by_table, keys[i], ix);
        if (ix == NULL) {
            ix = calloc(1, sizeof(*ix));
            ix->key = strdup(keys[i]);
            HASH_ADD_KEYPTR(hh, s->by_table, ix->key, strlen(ix->key), ix);
        }
        ix->mvs = realloc(ix->mvs, (ix->n + 1) * sizeof(*ix->mvs));
        ix->mvs[ix->n++] = mv;
    }
    return mv;
}

static void
ts_free(struct cat_snapshot *s)
{
    struct cat_table *t, *tt;
    struct cat_mv *m, *mt;
    struct cat_table_index *x, *xt;
    HASH_ITER(hh, s->tables, t, tt) {
        HASH_DEL(s->tables, t);
        cat_table_free(t);
    }
    HASH_ITER(hh, s->mvs, m, mt) {
        HASH_DEL(s->mvs, m);
        rw_mv_model_free(m->model);
        free(m->model_error);
        free(m->key);
        free(m->db);
        free(m->name);
        free(m->query_sql);
        free(m->state);
        free(m);
    }
    HASH_ITER(hh, s->by_table, x, xt) {
        HASH_DEL(s->by_table, x);
        free(x->mvs);
        free(x->key);
        free(x);
    }
    free(s);
}

#define RAW_SALES "sale_date datetime,region_id int,category_id int,product_id int," \
                  "customer_id int,status varchar(20),sale_amount decimal(12,2),"     \
                  "cost_amount decimal(12,2)"

static struct cat_snapshot *
ts_base(void)
{
    struct cat_snapshot *s = calloc(1, sizeof(*s));
    s->version = 1;
    ts_table(s, "test", "raw_sales", RAW_SALES);
    ts_table(s, "test", "orders",
             "o_orderkey int!,o_custkey int,o_orderdate date,o_orderstatus char(1),"
             "o_totalprice decimal(15,2)");
    ts_table(s, "test", "lineitem",
             "l_orderkey int!,l_linenumber int!,l_partkey int,l_quantity decimal(15,2),"
             "l_extendedprice decimal(15,2),l_discount decimal(15,2),l_shipdate date");
    return s;
}

/*
 * Copy of rewritten SQL without its privilege guards (rw_emit_guard: the
 * " WHERE NOT EXISTS (SELECT ... WHERE 0)" / " AND NOT EXISTS (SELECT ...
 * WHERE 0)" conjuncts every rewritten block ends its WHERE with), so tests
 * about matching compare the rest; *N_GUARDS gets how many were removed.
 * The guard text itself is checked exactly by test_privilege_guard.
 */
static __attribute__((unused)) char *
ts_strip_guards(const char *sql, int *n_guards)
{
    static const char *const lead[] = {" WHERE NOT EXISTS (SELECT ", " AND NOT EXISTS (SELECT "};
    char *s = strdup(sql);
    *n_guards = 0;
    for (;;) {
        char *best = NULL, *end;
        for (int k = 0; k < 2; k++) {
            char *h = strstr(s, lead[k]);
            if (h != NULL && (best == NULL || h < best)) {
                best = h;
            }
        }
        if (best == NULL || (end = strstr(best, " WHERE 0)")) == NULL) {
            return s;
        }
        end += strlen(" WHERE 0)");
        if (strncmp(best, " WHERE", 6) == 0 && strncmp(end, " AND ", 5) == 0) {
            /* the first of several guards: the next one takes the WHERE */
            memmove(best + 7, end + 5, strlen(end + 5) + 1);
        } else {
            memmove(best, end, strlen(end) + 1);
        }
        (*n_guards)++;
    }
}

#endif /* RW_TEST_SNAP_H */
