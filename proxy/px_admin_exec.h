/*
 * px_admin_exec.h - the admin bridge of a session (see px_admin_exec.c):
 * starting an admin job on its own thread, running its SQL on the
 * session's backend connection, and answering the client when it ends.
 * Part of the session module (px_session_internal.h); all of it runs on
 * the session's worker thread except where said.
 */
#ifndef PX_ADMIN_EXEC_H
#define PX_ADMIN_EXEC_H

#include "px_session_internal.h"

/*
 * Start ADMIN (an opaque job from px_dispatch_query, consumed) for the
 * current COM_QUERY of S on a new detached thread; S goes ADMIN and is not
 * freed until the job ends. When no thread can be started the client gets
 * ERR 1105 through the normal completion path.
 */
void px_admin_exec_start(struct px_session *s, void *admin);

/*
 * Backend input while an exec runs: take one whole packet into the
 * collector. Returns PX_OK (a packet was consumed; the exec may have
 * finished), PX_AGAIN (no whole packet yet) or PX_ERR (a packet over
 * max_query: the exec fails with ERR 1153 and the backend is closed).
 */
int px_admin_exec_collect(struct px_session *s);

/* Hand the exec result back to the waiting admin thread: RC 0 when a
 * response arrived (even an ERR), -1 when the connection is gone. */
void px_admin_exec_finish(struct px_session *s, int rc);

/* Loop callback (S as ARG): the admin thread posted an exec request. */
void px_admin_exec_ev_cb(evutil_socket_t fd, short what, void *arg);

/* Loop callback (S as ARG): the admin job ended; answer the client if it is
 * still there (ERR 1053 at a drain's cut-off), else finish closing. */
void px_admin_exec_admin_ev_cb(evutil_socket_t fd, short what, void *arg);

#endif /* PX_ADMIN_EXEC_H */
