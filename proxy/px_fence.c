/*
 * px_fence.c - the freshness fence on the session's side: park a command
 * whose answer would come from a view until the binlog follower has read
 * every change committed before it arrived, then decide it again. See
 * px_fence.h for the flow and engine/cat_fence.c for why it is exact.
 */
#include "px_fence.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <event2/event.h>

#include "cat.h"
#include "cat_engine.h"
#include "px_log.h"
#include "px_prep.h"
#include "px_session_internal.h"
#include "px_worker.h"

/* Poll interval while parked (µs): for a change the probe still resolves;
 * the follower's progress wakes the session at once. */
#define FENCE_POLL_US 1000

enum px_fence_state {
    FS_NONE = 0,                    /* not asked for the current command */
    FS_WAITING,                     /* parked */
    FS_PASSED,                      /* passed: the command's rewrites may go */
    FS_FAILED,                      /* timed out: no rewrite for the command */
};

/* Engine thread: the follower moved or a position arrived; poll on the loop. */
static void
fence_wake(void *arg)
{
    struct px_session *s = arg;
    event_active(s->fence_wake, EV_READ, 0);
}

/* Run the parked command again from its decision. */
static void
fence_resume(struct px_session *s)
{
    if (s->state != PX_SS_QUERY || s->bk == NULL || s->bk_lost) {
        return; /* the session ended meanwhile */
    }
    switch ((enum px_fence_at)s->fence_at) {
    case PX_FENCE_AT_QUERY:
        px_session_query_resume(s);
        break;
    case PX_FENCE_AT_EXECUTE:
    case PX_FENCE_AT_USING:
        px_prep_fence_resume(s, (enum px_fence_at)s->fence_at);
        break;
    }
}

static void
fence_wake_cb(evutil_socket_t fd, short what, void *arg)
{
    struct px_session *s = arg;
    struct timeval poll = {0, FENCE_POLL_US};
    (void)fd;
    (void)what;
    if (s->fence_state != FS_WAITING) {
        return;
    }
    if (cat_fence_poll(&s->fence) != CAT_FENCE_PASSED) {
        event_add(s->fence_wake, &poll);
        return;
    }
    evtimer_del(s->fence_timer);
    event_del(s->fence_wake);
    s->fence_state = FS_PASSED;
    fence_resume(s);
}

static void
fence_timer_cb(evutil_socket_t fd, short what, void *arg)
{
    struct px_session *s = arg;
    (void)fd;
    (void)what;
    if (s->fence_state != FS_WAITING) {
        return;
    }
    cat_fence_end(&s->fence);
    event_del(s->fence_wake);
    s->fence_state = FS_FAILED;
    px_log_debug("S-%llu: freshness fence: the binlog follower did not catch up within %lld ms; "
                 "relayed", (unsigned long long)s->id, s->worker->cfg->fence_ms);
    fence_resume(s);
}

/* The smallest grace period (ms) of the views of V that a fence protects;
 * false when none does (every view LOOSE: staleness is accepted). */
static bool
fence_grace(const struct px_rewrite_views *v, int64_t *grace_ms)
{
    bool need = false;
    size_t i;
    for (i = 0; v != NULL && i < v->n; i++) {
        const struct cat_mv *mv = v->mvs[i];
        int64_t g;
        if (mv == NULL || mv->consistency == CAT_CONSISTENCY_LOOSE) {
            continue;
        }
        g = mv->grace_period_s > 0 ? mv->grace_period_s * 1000 : 0;
        if (!need || g < *grace_ms) {
            *grace_ms = g;
        }
        need = true;
    }
    return need;
}

enum px_fence_gate
px_fence_gate(struct px_session *s, const struct px_rewrite_views *v, enum px_fence_at at)
{
    long long wait_ms = s->worker->cfg->fence_ms;
    struct timeval deadline, poll = {0, FENCE_POLL_US};
    int64_t grace = 0;

    switch ((enum px_fence_state)s->fence_state) {
    case FS_PASSED:
        return PX_FENCE_GO;
    case FS_FAILED:
    case FS_WAITING:
        return PX_FENCE_RELAY;
    case FS_NONE:
        break;
    }
    if (wait_ms <= 0 || !fence_grace(v, &grace)) {
        return PX_FENCE_GO;
    }
    if (s->fence_wake == NULL) {
        s->fence_wake = event_new(s->worker->base, -1, 0, fence_wake_cb, s);
    }
    if (s->fence_timer == NULL) {
        s->fence_timer = evtimer_new(s->worker->base, fence_timer_cb, s);
    }
    if (s->fence_wake == NULL || s->fence_timer == NULL) {
        px_log_error("S-%llu: freshness fence: cannot create its events; relayed",
                     (unsigned long long)s->id);
        s->fence_state = FS_FAILED;
        return PX_FENCE_RELAY;
    }
    switch (cat_fence_begin(&s->fence, grace, cat_now_ms(), fence_wake, s)) {
    case CAT_FENCE_OFF:
    case CAT_FENCE_PASSED:
        s->fence_state = FS_PASSED;
        return PX_FENCE_GO;
    case CAT_FENCE_WAIT:
        break;
    }
    s->fence_state = FS_WAITING;
    s->fence_at = (uint8_t)at;
    deadline.tv_sec = (time_t)(wait_ms / 1000);
    deadline.tv_usec = (suseconds_t)(wait_ms % 1000) * 1000;
    evtimer_add(s->fence_timer, &deadline);
    event_add(s->fence_wake, &poll);
    return PX_FENCE_PARKED;
}

void
px_fence_reset(struct px_session *s)
{
    if (s->fence_state == FS_WAITING) {
        /* not expected: a new command while one is parked; stop waiting */
        cat_fence_end(&s->fence);
        evtimer_del(s->fence_timer);
        event_del(s->fence_wake);
    }
    s->fence_state = FS_NONE;
}

void
px_fence_free(struct px_session *s)
{
    cat_fence_end(&s->fence);
    if (s->fence_wake != NULL) {
        event_free(s->fence_wake);
        s->fence_wake = NULL;
    }
    if (s->fence_timer != NULL) {
        event_free(s->fence_timer);
        s->fence_timer = NULL;
    }
    s->fence_state = FS_NONE;
}
