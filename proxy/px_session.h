/*
 * px_session.h - one client connection and its own backend connection,
 * relayed packet by packet on one worker thread (see px_session.c for the
 * state diagram).
 */
#ifndef PX_SESSION_H
#define PX_SESSION_H

#include <stdint.h>
#include <sys/socket.h>

struct px_worker;
struct px_session;

enum px_session_state {
    PX_SS_CONNECTING = 0,   /* backend TCP connect in progress */
    PX_SS_HANDSHAKE,        /* greeting relayed (edited); waiting for the client's response */
    PX_SS_AUTH,             /* relaying auth switch / more-data until OK or ERR */
    PX_SS_IDLE,             /* between commands */
    PX_SS_QUERY,            /* a command's response is being relayed */
    PX_SS_ADMIN,            /* an admin job runs on its own thread; client not read */
    PX_SS_CLOSING,          /* tearing down; freed when both sides and any admin job are done */
};

/*
 * Create a session for the accepted client socket FD (peer SA/SALEN) on
 * worker W (called on W's thread) and start connecting to the backend. The
 * session owns FD (closed on every path) and links itself into W's list;
 * it frees itself when it ends. Returns 0, or -1 when it could not even be
 * set up (FD closed).
 */
int px_session_new(struct px_worker *w, int fd, const struct sockaddr *sa, socklen_t salen);

/*
 * Close session S (worker shutdown): both connections are closed at once;
 * a running admin job is allowed to finish first. After a drain
 * (px_worker_drain) a client that can take a whole packet (idle: an
 * unsolicited one with sequence id 0, as MariaDB sends idle clients at
 * shutdown; a command whose response has not begun; an admin job) first
 * gets ERR 1053 / 08S01 "Server shutdown in progress", flushed; a client in
 * the middle of a result is just disconnected. S may be freed before this
 * returns when no admin job runs.
 */
void px_session_shutdown(struct px_session *s);

/* Next session in its worker's list (for iteration), or NULL. */
struct px_session *px_session_next(const struct px_session *s);

/* Name of STATE for logs ("IDLE" ...). */
const char *px_session_state_name(enum px_session_state state);

#endif /* PX_SESSION_H */
