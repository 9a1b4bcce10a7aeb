/*
 * cat_freshness.c - the one writer of view freshness (SPEC §5, §6): marks,
 * settling after a refresh, loading and adopting stored states, the
 * persistence handshake, and the grace-period rule. Who calls what, from
 * which threads, and the memory ordering: cat_freshness.h.
 */
#include "cat_freshness.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cat.h"
#include "cat_calendar.h"
#include "cat_fresh.h"
#include "cat_part.h"
#include "cat_util.h"

/* ------------------------------------------------------------ marks */

void
cat_fresh_mark_view(struct cat_mv *mv, int64_t when_ms)
{
    int64_t cur;
    if (when_ms <= 0) {
        when_ms = 1;
    }
    cur = atomic_load(&mv->state->stale_since_ms);
    while (cur == 0 || when_ms < cur) {
        if (atomic_compare_exchange_weak(&mv->state->stale_since_ms, &cur, when_ms)) {
            break;
        }
    }
    atomic_fetch_add(&mv->state->change_seq, 1);
    atomic_store(&mv->state->dirty, 1);
    cat_fresh_kick();
}

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

/* ------------------------------------------------------------ settle */

void
cat_fresh_settle(struct cat_mv *mv, uint64_t seq0, int64_t t0, int64_t t1,
                 int64_t inputs_stale, bool reflected)
{
    struct cat_mv_state *st = mv->state;
    atomic_store(&st->last_refresh_ms, t1);
    for (;;) {
        int64_t cur = atomic_load(&st->stale_since_ms), target;
        uint64_t seq1 = atomic_load(&st->change_seq);
        /* A write seen after t0 may or may not be in what we read; its commit
         * is after t0, so t0 is a safe "first unreflected change". */
        target = reflected && seq1 == seq0 ? 0 : t0;
        if (inputs_stale != 0 && (target == 0 || inputs_stale < target)) {
            target = inputs_stale;
        }
        if (!atomic_compare_exchange_strong(&st->stale_since_ms, &cur, target)) {
            continue;
        }
        if (target == 0 && atomic_load(&st->change_seq) != seq1) {
            int64_t zero = 0;
            atomic_compare_exchange_strong(&st->stale_since_ms, &zero, t0);
        }
        break;
    }
    atomic_store(&st->dirty, 0);
}

/* Partition refresh: the refreshed partitions, the list, the window, the
 * order (under the view's mutex), then the view's rows and the upstream /
 * view-level marks (moved verbatim from cat_part_refresh.c settle()). */
void
cat_fresh_settle_parts(struct cat_mv *mv, const struct cat_fresh_part *done, size_t n,
                       bool complete, int64_t t0, int64_t t1, int64_t wlo, int64_t gaps0,
                       int64_t up_all)
{
    struct cat_pstate *ps = mv->state->parts;
    size_t i, k;
    pthread_mutex_lock(&ps->mu);
    for (i = 0; i < n; i++) {
        struct cat_ppart *cur = NULL;
        for (k = 0; k < ps->n; k++) {
            if (ps->p[k].is_null == done[i].p.is_null &&
                (done[i].p.is_null || ps->p[k].lo == done[i].p.lo)) {
                cur = &ps->p[k];
            }
        }
        if (cur == NULL) {
            if (ps->n == ps->cap) {
                ps->cap = ps->cap ? ps->cap * 2 : 16;
                ps->p = realloc(ps->p, ps->cap * sizeof(*ps->p));
                if (ps->p == NULL) {
                    abort();
                }
            }
            cur = &ps->p[ps->n++];
            *cur = done[i].p;
            cur->stale_since_ms = 0;
            cur->seq = done[i].p.seq; /* unchanged: fresh */
        }
        cur->stale_since_ms = cur->seq == done[i].p.seq ? 0 : t0;
        if (done[i].up_stale != 0 &&
            (cur->stale_since_ms == 0 || done[i].up_stale < cur->stale_since_ms)) {
            /* read a stale upstream view: never fresher than it (SPEC §6) */
            cur->stale_since_ms = done[i].up_stale;
        }
        cur->last_refresh_ms = t1;
        cur->rows = done[i].rows;
    }
    if (complete) {
        /* partitions not rebuilt: gone from the base, unless marked meanwhile */
        size_t j = 0;
        for (k = 0; k < ps->n; k++) {
            bool built = false, marked = ps->p[k].stale_since_ms != 0;
            for (i = 0; i < n && !built; i++) {
                built = ps->p[k].is_null == done[i].p.is_null &&
                        (ps->p[k].is_null || ps->p[k].lo == done[i].p.lo);
            }
            if (built || (marked && ps->p[k].last_refresh_ms == 0 &&
                          ps->p[k].stale_since_ms >= t0)) {
                ps->p[j++] = ps->p[k];
            }
        }
        ps->n = j;
        ps->gaps_stale_ms = ps->gaps_stale_ms != gaps0 ? t0 : 0;
    }
    /* partition_sync_limit: drop what fell out of the window */
    if (wlo != CAT_DAY_MIN) {
        size_t j = 0;
        for (k = 0; k < ps->n; k++) {
            if (ps->p[k].is_null || ps->p[k].hi > wlo) {
                ps->p[j++] = ps->p[k];
            }
        }
        ps->n = j;
    }
    ps->window_lo = wlo;
    {
        /* keep the order: p_null first, then by lo */
        for (i = 1; i < ps->n; i++) {
            struct cat_ppart x = ps->p[i];
            k = i;
            while (k > 0 && (x.is_null && !ps->p[k - 1].is_null ? true
                             : (!x.is_null && !ps->p[k - 1].is_null && x.lo < ps->p[k - 1].lo))) {
                ps->p[k] = ps->p[k - 1];
                k--;
            }
            ps->p[k] = x;
        }
    }
    ps->dirty = 1;
    pthread_mutex_unlock(&ps->mu);
    {
        int64_t total = 0;
        struct cat_part_view v;
        if (cat_part_view_get(mv, &v) == 0) {
            for (i = 0; i < v.n; i++) {
                total += v.p[i].rows > 0 ? v.p[i].rows : 0;
            }
            cat_part_view_free(&v);
        }
        atomic_store(&mv->state->rows, total);
    }
    atomic_store(&mv->state->last_refresh_ms, t1);
    if (up_all != 0) {
        /* ranges without a partition may get rows once the upstream catches up */
        struct cat_pstate *ups = mv->state->parts;
        pthread_mutex_lock(&ups->mu);
        if (ups->gaps_stale_ms == 0 || up_all < ups->gaps_stale_ms) {
            ups->gaps_stale_ms = up_all;
        }
        ups->dirty = 1;
        pthread_mutex_unlock(&ups->mu);
    }
    if (atomic_load(&mv->state->stale_since_ms) != 0) {
        /* an unattributed change arrived while refreshing: may be unreflected */
        cat_part_explode_whole(mv);
    }
}

/* ------------------------------------------------------------ load / adopt */

void
cat_fresh_load(struct cat_mv *mv, int64_t last_refresh_ms, int64_t stale_since_ms)
{
    atomic_store(&mv->state->last_refresh_ms, last_refresh_ms);
    atomic_store(&mv->state->stale_since_ms, stale_since_ms);
}

void
cat_fresh_adopt(struct cat_mv *mv, int64_t last_refresh_ms, int64_t stale_since_ms)
{
    struct cat_mv_state *st = mv->state;
    int64_t ours = atomic_load(&st->stale_since_ms);
    atomic_store(&st->last_refresh_ms, last_refresh_ms);
    atomic_store(&st->stale_since_ms,
                 ours != 0 && ours > last_refresh_ms ? ours : stale_since_ms);
}

void
cat_fresh_load_part(struct cat_pstate *ps, int isn, int64_t lo, int64_t hi, int64_t stale,
                    int64_t last, int64_t rows)
{
    size_t j;
    if (isn == 2) {
        ps->gaps_stale_ms = stale;
        return;
    }
    j = cat_pstate_add(ps, isn == 1, lo, hi);
    ps->p[j].stale_since_ms = stale;
    ps->p[j].last_refresh_ms = last;
    ps->p[j].rows = rows;
}

void
cat_fresh_adopt_part(struct cat_pstate *ps, int isn, int64_t lo, int64_t hi, int64_t stale,
                     int64_t last, int64_t rows, int64_t view_last)
{
    struct cat_ppart *p;
    ssize_t i;
    if (isn == 2) {
        if (ps->gaps_stale_ms == 0 || ps->gaps_stale_ms <= view_last) {
            ps->gaps_stale_ms = stale;
        }
        return;
    }
    i = cat_pstate_find(ps, isn == 1, lo);
    if (i < 0) {
        i = (ssize_t)cat_pstate_add(ps, isn == 1, lo, hi);
        p = &ps->p[i];
        p->stale_since_ms = stale;
        p->last_refresh_ms = last;
        p->rows = rows;
        return;
    }
    p = &ps->p[i];
    if (last > p->last_refresh_ms) {
        p->stale_since_ms = p->stale_since_ms != 0 && p->stale_since_ms > last
                                ? p->stale_since_ms
                                : stale;
        p->last_refresh_ms = last;
        p->rows = rows;
    }
}

/* ------------------------------------------------------------ persistence handshake */

bool
cat_fresh_persist_begin(struct cat_mv *mv)
{
    if (!atomic_exchange(&mv->state->dirty, 0)) {
        return false;
    }
    if (mv->state->parts != NULL) {
        mv->state->parts->dirty = 0;
    }
    return true;
}

void
cat_fresh_persist_failed(struct cat_mv *mv, bool parts)
{
    if (parts && mv->state->parts != NULL) {
        mv->state->parts->dirty = 1;
    }
    atomic_store(&mv->state->dirty, 1);
    cat_fresh_kick();
}
