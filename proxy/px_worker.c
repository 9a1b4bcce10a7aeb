/*
 * px_worker.c - worker threads: one event_base each, fed accepted sockets by
 * the main thread through a pipe (one fixed-size message per socket, atomic
 * because it is smaller than PIPE_BUF). A message with fd -1 asks the worker
 * to stop: it shuts every session down and leaves its loop once the last
 * session (including any waiting for an admin job) has been freed.
 */
#include "px_worker.h"
#include "px_validate.h"
#include "rw_limits.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "px_log.h"
#include "px_session.h"

/* What the main thread writes into a worker's pipe. */
struct handoff {
    int fd;                             /* accepted socket, HANDOFF_STOP or HANDOFF_DRAIN */
    socklen_t salen;                    /* bytes used in sa */
    struct sockaddr_storage sa;         /* peer address */
};

#define HANDOFF_STOP  (-1)              /* close everything and leave the loop */
#define HANDOFF_DRAIN (-2)              /* begin the shutdown drain */

/* Drain W: from now on the session layer answers every new command with
 * ERR 1053 (px_session.c px_session_cl_process); statements in flight run on. */
static void
worker_begin_drain(struct px_worker *w)
{
    w->draining = true;
}

/* Close every session of W and leave the loop when none is left. */
static void
worker_begin_stop(struct px_worker *w)
{
    struct px_session *s, *next;

    w->stopping = true;
    for (s = w->sessions; s != NULL; s = next) {
        next = px_session_next(s);
        px_session_shutdown(s);
    }
    if (w->n_sessions == 0) {
        event_base_loopbreak(w->base);
    }
}

void
px_worker_session_gone(struct px_worker *w)
{
    if (w->stopping && w->n_sessions == 0) {
        event_base_loopbreak(w->base);
    }
}

/* Pipe readable: take the handed-over sockets. */
static void
notify_cb(evutil_socket_t fd, short what, void *arg)
{
    struct px_worker *w = arg;
    struct handoff h;
    ssize_t n;

    (void)what;
    for (;;) {
        n = read(fd, &h, sizeof(h));
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n != (ssize_t)sizeof(h)) {
            return;
        }
        if (h.fd == HANDOFF_DRAIN) {
            worker_begin_drain(w);
            continue;
        }
        if (h.fd < 0) {
            worker_begin_stop(w);
            continue;
        }
        if (w->stopping || w->draining) {
            close(h.fd);
            continue;
        }
        px_session_new(w, h.fd, (const struct sockaddr *)&h.sa, h.salen);
    }
}

static void *
worker_main(void *arg)
{
    struct px_worker *w = arg;

    px_log_debug("worker %d started", w->index);
    event_base_loop(w->base, EVLOOP_NO_EXIT_ON_EMPTY);
    px_validate_thread_free();
    px_log_debug("worker %d stopped", w->index);
    return NULL;
}

int
px_worker_start(struct px_worker *w, int index, const struct px_relay_cfg *cfg, char *err,
                size_t errlen)
{
    int fds[2];

    memset(w, 0, sizeof(*w));
    w->index = index;
    w->cfg = cfg;
    w->pipe_rd = w->pipe_wr = -1;
    w->base = event_base_new();
    if (w->base == NULL) {
        snprintf(err, errlen, "cannot create event base");
        return -1;
    }
    if (pipe(fds) != 0) {
        snprintf(err, errlen, "pipe: %s", strerror(errno));
        return -1;
    }
    w->pipe_rd = fds[0];
    w->pipe_wr = fds[1];
    fcntl(w->pipe_rd, F_SETFL, fcntl(w->pipe_rd, F_GETFL) | O_NONBLOCK);
    fcntl(w->pipe_rd, F_SETFD, FD_CLOEXEC);
    fcntl(w->pipe_wr, F_SETFD, FD_CLOEXEC);
    w->notify_ev = event_new(w->base, w->pipe_rd, EV_READ | EV_PERSIST, notify_cb, w);
    if (w->notify_ev == NULL || event_add(w->notify_ev, NULL) != 0) {
        snprintf(err, errlen, "cannot create notification event");
        return -1;
    }
    if (rw_thread_create(&w->thread, worker_main, w, false) != 0) {
        snprintf(err, errlen, "cannot start worker thread %d", index);
        return -1;
    }
    w->started = true;
    return 0;
}

/* Write the handoff message H to W's pipe. Returns 0 or -1. */
static int
send_handoff(struct px_worker *w, const struct handoff *h)
{
    ssize_t n;

    do {
        n = write(w->pipe_wr, h, sizeof(*h));
    } while (n < 0 && errno == EINTR);
    return n == (ssize_t)sizeof(*h) ? 0 : -1;
}

int
px_worker_hand_fd(struct px_worker *w, int fd, const struct sockaddr *sa, socklen_t salen)
{
    struct handoff h;

    memset(&h, 0, sizeof(h));
    h.fd = fd;
    if (sa != NULL && salen <= (socklen_t)sizeof(h.sa)) {
        memcpy(&h.sa, sa, salen);
        h.salen = salen;
    }
    return send_handoff(w, &h);
}

void
px_worker_stop(struct px_worker *w)
{
    struct handoff h;

    if (!w->started) {
        return;
    }
    memset(&h, 0, sizeof(h));
    h.fd = HANDOFF_STOP;
    if (send_handoff(w, &h) != 0) {
        px_log_error("worker %d: cannot send stop request", w->index);
    }
}

void
px_worker_drain(struct px_worker *w)
{
    struct handoff h;

    if (!w->started) {
        return;
    }
    memset(&h, 0, sizeof(h));
    h.fd = HANDOFF_DRAIN;
    if (send_handoff(w, &h) != 0) {
        px_log_error("worker %d: cannot send drain request", w->index);
    }
}

void
px_worker_cut(struct px_worker *w)
{
    atomic_store(&w->cut, true);
}

int
px_worker_busy(const struct px_worker *w)
{
    return w->started ? atomic_load(&w->n_busy) : 0;
}

void
px_worker_join(struct px_worker *w)
{
    if (w->started) {
        pthread_join(w->thread, NULL);
        w->started = false;
    }
    if (w->notify_ev != NULL) {
        event_free(w->notify_ev);
        w->notify_ev = NULL;
    }
    if (w->pipe_rd >= 0) {
        close(w->pipe_rd);
    }
    if (w->pipe_wr >= 0) {
        close(w->pipe_wr);
    }
    w->pipe_rd = w->pipe_wr = -1;
    if (w->base != NULL) {
        event_base_free(w->base);
        w->base = NULL;
    }
}
