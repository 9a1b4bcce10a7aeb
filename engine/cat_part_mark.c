/*
 * cat_part_mark.c - marking partitions of a partitioned view stale
 * (cat_part.h: cat_part_mark_range, cat_part_explode_whole); each mark
 * kicks the persistence of freshness (cat_fresh.c). SPEC §5.
 */
#include "cat_part_engine.h"

#include <stdatomic.h>
#include <stdlib.h>

#include "cat_internal.h"

void
cat_part_mark_range(struct cat_mv *mv, int64_t lo, int64_t hi, bool with_null,
                     bool create_missing, int64_t when_ms)
{
    struct cat_pstate *ps = mv->state->parts;
    const struct cat_part_spec *s = mv->part;
    int64_t klo, khi, k;
    size_t i, steps = 0;
    if (ps == NULL || s == NULL) {
        return;
    }
    if (lo < CAT_DAY_MIN) {
        lo = CAT_DAY_MIN;
    }
    if (hi > CAT_DAY_MAX) {
        hi = CAT_DAY_MAX;
    }
    pthread_mutex_lock(&ps->mu);
    if (hi > lo) {
        klo = cat_part_key(s, lo);
        khi = cat_part_key(s, hi - 1);
        for (i = 0; i < ps->n; i++) {
            if (!ps->p[i].is_null && ps->p[i].lo <= khi && ps->p[i].lo >= klo) {
                cat_stale_min(&ps->p[i].stale_since_ms, when_ms);
                ps->p[i].seq++;
            }
        }
        if (create_missing && lo > CAT_DAY_MIN && hi < CAT_DAY_MAX) {
            for (k = klo; k <= khi && steps <= 400; k = cat_unit_next(k, s->unit), steps++) {
            }
        } else {
            steps = 401;
        }
        if (steps <= 400) {
            for (k = klo; k <= khi; k = cat_unit_next(k, s->unit)) {
                if (cat_pstate_find(ps, false, k) < 0) {
                    size_t j = cat_pstate_add(ps, false, k, cat_unit_next(k, s->unit));
                    cat_stale_min(&ps->p[j].stale_since_ms, when_ms);
                    ps->p[j].seq++;
                }
            }
        } else {
            cat_stale_min(&ps->gaps_stale_ms, when_ms);
        }
    }
    if (with_null) {
        ssize_t j = cat_pstate_find(ps, true, 0);
        if (j < 0) {
            j = (ssize_t)cat_pstate_add(ps, true, 0, 0);
        }
        cat_stale_min(&ps->p[j].stale_since_ms, when_ms);
        ps->p[j].seq++;
    }
    ps->dirty = 1;
    pthread_mutex_unlock(&ps->mu);
    atomic_fetch_add(&mv->state->change_seq, 1);
    atomic_store(&mv->state->dirty, 1);
    cat_fresh_kick();
}

void
cat_part_explode_whole(struct cat_mv *mv)
{
    struct cat_pstate *ps = mv->state->parts;
    int64_t w = atomic_load(&mv->state->stale_since_ms);
    size_t i;
    if (ps == NULL || w == 0) {
        return;
    }
    pthread_mutex_lock(&ps->mu);
    for (;;) {
        for (i = 0; i < ps->n; i++) {
            cat_stale_min(&ps->p[i].stale_since_ms, w);
        }
        cat_stale_min(&ps->gaps_stale_ms, w);
        if (atomic_compare_exchange_strong(&mv->state->stale_since_ms, &w, 0) || w == 0) {
            break;
        }
    }
    ps->dirty = 1;
    pthread_mutex_unlock(&ps->mu);
    atomic_store(&mv->state->dirty, 1);
}
