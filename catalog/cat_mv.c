/*
 * cat_mv.c - lifecycle of the catalog's types (cat.h): view states shared by
 * refcount across snapshots, views, tables with their keys, informational
 * constraints, and whole snapshots. Owns no state; everything here frees
 * or copies what its argument owns.
 */
#include "cat.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "cat_part.h"
#include "cat_util.h"

/* Free the keys array KEYS of N entries. */
static void
keys_free(struct cat_key *keys, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++) {
        cat_strv_free(keys[i].cols, keys[i].n_cols);
        if (keys[i].ref_cols != NULL) {
            cat_strv_free(keys[i].ref_cols, keys[i].n_cols);
        }
        free(keys[i].ref_key);
        free(keys[i].name);
    }
    free(keys);
}

void
cat_table_keys_free(struct cat_table *t)
{
    keys_free(t->ukeys, t->n_ukeys);
    keys_free(t->fkeys, t->n_fkeys);
    t->ukeys = NULL;
    t->fkeys = NULL;
    t->n_ukeys = 0;
    t->n_fkeys = 0;
}

/* Free what key K owns (not K). */
static void
key_clear(struct cat_key *k)
{
    cat_strv_free(k->cols, k->n_cols);
    if (k->ref_cols != NULL) {
        cat_strv_free(k->ref_cols, k->n_cols);
    }
    free(k->ref_key);
    free(k->name);
    memset(k, 0, sizeof(*k));
}

void
cat_icons_free(struct cat_icon *icons, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++) {
        free(icons[i].table_key);
        free(icons[i].name);
        key_clear(&icons[i].key);
    }
    free(icons);
}

struct cat_mv_state *
cat_mv_state_new(void)
{
    struct cat_mv_state *s = cat_xcalloc(1, sizeof(*s));
    atomic_store(&s->rows, -1);
    atomic_store(&s->refcnt, 1);
    return s;
}

/* Drop a reference to S; the last one frees it (with its partition state). */
static void
state_release(struct cat_mv_state *s)
{
    if (s != NULL && atomic_fetch_sub(&s->refcnt, 1) == 1) {
        cat_pstate_free(s->parts);
        free(s);
    }
}

static char **
strv_dup(char **v, size_t n)
{
    char **out;
    size_t i;
    if (n == 0) {
        return NULL;
    }
    out = cat_xcalloc(n, sizeof(char *));
    for (i = 0; i < n; i++) {
        out[i] = cat_xstrdup(v[i]);
    }
    return out;
}

struct cat_mv *
cat_mv_dup(const struct cat_mv *mv)
{
    struct cat_mv *d = cat_xcalloc(1, sizeof(*d));
    d->key = cat_xstrdup(mv->key);
    d->id = mv->id;
    d->db = cat_xstrdup(mv->db);
    d->name = cat_xstrdup(mv->name);
    d->query_sql = cat_xstrdup(mv->query_sql);
    d->create_sql = cat_xstrdup(mv->create_sql);
    d->refresh_info = cat_xstrdup(mv->refresh_info);
    cat_refresh_clause_copy(&d->refresh, &mv->refresh);
    d->build_mode = cat_xstrdup(mv->build_mode);
    d->properties_json = cat_xstrdup(mv->properties_json);
    d->comment = cat_xstrdup(mv->comment);
    d->owner = cat_xstrdup(mv->owner);
    d->grace_period_s = mv->grace_period_s;
    d->consistency = mv->consistency;
    d->rewrite_enabled = mv->rewrite_enabled;
    d->nondeterministic_ok = mv->nondeterministic_ok;
    d->n_excluded = mv->n_excluded;
    d->excluded = strv_dup(mv->excluded, mv->n_excluded);
    d->n_bases = mv->n_bases;
    d->bases = strv_dup(mv->bases, mv->n_bases);
    d->model = NULL;
    d->model_free = NULL;
    d->model_error = NULL;
    d->state = mv->state;
    atomic_fetch_add(&d->state->refcnt, 1);
    d->paused = mv->paused;
    d->n_cols = mv->n_cols;
    d->col_names = strv_dup(mv->col_names, mv->n_cols);
    if (mv->n_cols > 0) {
        size_t i;
        d->col_comments = cat_xcalloc(mv->n_cols, sizeof(char *));
        for (i = 0; i < mv->n_cols; i++) {
            d->col_comments[i] = cat_xstrdup(mv->col_comments ? mv->col_comments[i] : NULL);
        }
    }
    d->created_ms = mv->created_ms;
    d->part = mv->part != NULL ? cat_part_spec_dup(mv->part) : NULL;
    d->n_indexes = mv->n_indexes;
    cat_mv_indexes_copy(&d->indexes, mv->indexes, mv->n_indexes);
    return d;
}

void
cat_mv_indexes_copy(struct cat_mv_index **out, const struct cat_mv_index *v, size_t n)
{
    size_t i;
    *out = NULL;
    if (n == 0) {
        return;
    }
    *out = cat_xcalloc(n, sizeof(**out));
    for (i = 0; i < n; i++) {
        (*out)[i].name = cat_xstrdup(v[i].name);
        (*out)[i].is_key = v[i].is_key;
        (*out)[i].is_auto = v[i].is_auto;
        (*out)[i].n_cols = v[i].n_cols;
        (*out)[i].cols = strv_dup(v[i].cols, v[i].n_cols);
    }
}

void
cat_mv_indexes_free(struct cat_mv_index *v, size_t n)
{
    size_t i;
    if (v == NULL) {
        return;
    }
    for (i = 0; i < n; i++) {
        free(v[i].name);
        cat_strv_free(v[i].cols, v[i].n_cols);
    }
    free(v);
}

void
cat_mv_free(struct cat_mv *mv)
{
    if (mv == NULL) {
        return;
    }
    free(mv->key);
    free(mv->db);
    free(mv->name);
    free(mv->query_sql);
    free(mv->create_sql);
    free(mv->refresh_info);
    cat_refresh_clause_free(&mv->refresh);
    free(mv->build_mode);
    free(mv->owner);
    free(mv->properties_json);
    free(mv->comment);
    cat_strv_free(mv->excluded, mv->n_excluded);
    cat_strv_free(mv->bases, mv->n_bases);
    if (mv->model != NULL && mv->model_free != NULL) {
        mv->model_free(mv->model);
    }
    free(mv->model_error);
    state_release(mv->state);
    cat_part_spec_free(mv->part);
    cat_strv_free(mv->col_names, mv->n_cols);
    cat_strv_free(mv->col_comments, mv->n_cols);
    cat_mv_indexes_free(mv->indexes, mv->n_indexes);
    free(mv);
}

void
cat_table_free(struct cat_table *t)
{
    size_t i;
    for (i = 0; i < t->n_cols; i++) {
        free(t->cols[i].name);
        free(t->cols[i].data_type);
        free(t->cols[i].column_type);
        free(t->cols[i].collation);
        free(t->cols[i].charset);
    }
    free(t->cols);
    cat_table_keys_free(t);
    free(t->key);
    free(t->db);
    free(t->name);
    free(t);
}

static void
free_mvs(struct cat_mv *mvs)
{
    struct cat_mv *mv, *tmp;
    HASH_ITER(hh, mvs, mv, tmp) {
        HASH_DEL(mvs, mv);
        cat_mv_free(mv);
    }
}

void
cat_snapshot_free(struct cat_snapshot *snap)
{
    struct cat_table *t, *tt;
    struct cat_table_index *ix, *ixt;
    struct cat_mv *mv, *tmp;
    if (snap == NULL) {
        return;
    }
    /* Outer views first would be nicer for models that borrow from inner
     * ones; models own their data (rw.h), so the order does not matter. */
    HASH_ITER(hh, snap->mvs, mv, tmp) {
        HASH_DEL(snap->mvs, mv);
        cat_mv_free(mv);
    }
    HASH_ITER(hh, snap->tables, t, tt) {
        HASH_DEL(snap->tables, t);
        cat_table_free(t);
    }
    HASH_ITER(hh, snap->by_table, ix, ixt) {
        HASH_DEL(snap->by_table, ix);
        free(ix->key);
        free(ix->mvs);
        free(ix);
    }
    cat_icons_free(snap->icons, snap->n_icons);
    free(snap);
}

void
cat_free_mvs(struct cat_mv *mvs)
{
    free_mvs(mvs);
}
