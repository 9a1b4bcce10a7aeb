/*
 * px_track.h - following the session's state through the backend's session
 * state tracking: the proxy keeps knowing the session's real sql_mode, however
 * it was set (SET [SESSION] sql_mode, SET @@..., the server's default,
 * init_connect, a stored procedure), because the backend reports every
 * change in the OK packets (CLIENT_SESSION_TRACK,
 * session_track_system_variables; MariaDB KB "Session State Tracking",
 * page_protocol_basic_ok_packet).
 *
 *   handshake ──px_track_handshake──> CLIENT_SESSION_TRACK asked of the backend
 *   auth OK / RESET / CHANGE_USER ──px_track_arm──> one SET (its OK reports
 *        sql_mode); client commands wait for its answer (px_track_arm_packet)
 *   every OK relayed ──px_track_ok_packet──> sql_mode changes read; the OK is
 *        converted back for a client that did not ask for tracking
 *
 * Until the mode is known (no tracking on the backend, the SET failed, a
 * client statement changed what is tracked) the session's mode is
 * RW_MODE_UNSUPPORTED: nothing is rewritten, never a different parse.
 * Part of the session module: it shares px_session_internal.h.
 */
#ifndef PX_TRACK_H
#define PX_TRACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct px_session;

/*
 * Before the client's HandshakeResponse41 payload P (LEN bytes, modifiable)
 * goes to the backend: ask for CLIENT_SESSION_TRACK when the backend offers
 * it and the client did not (OK packets are then converted back for it), and
 * record the backend connection's capabilities in s->bk_caps.
 */
void px_track_handshake(struct px_session *s, uint8_t *p, size_t len);

/*
 * Send the proxy's tracking statement on S's backend connection (after a
 * successful or failed authentication, COM_RESET_CONNECTION, or a client
 * statement that touched what is tracked): it adds sql_mode to
 * session_track_system_variables and sets sql_mode to itself, so its OK
 * reports the current value. Client commands wait until it is answered.
 * Without tracking on the backend, marks the mode unknown instead.
 */
void px_track_arm(struct px_session *s);

/*
 * The answer to the tracking statement is at the front of the backend input:
 * consume it (it is never relayed) and learn sql_mode from it. Returns PX_OK
 * (consumed; pipelined client commands are served), PX_AGAIN (incomplete).
 */
int px_track_arm_packet(struct px_session *s);

/*
 * The backend packet at the front of the input (header HDR with sequence id
 * in HDR[3], payload LEN bytes, of which PK peeked at HDR + 4) is where an
 * OK_Packet can stand in the current response. When it carries session
 * state changes, or must be converted for a client without
 * CLIENT_SESSION_TRACK, consume it whole, read the changes, write the
 * client's form, and advance the response (px_resp_step; the command ends
 * through px_session_bk_after). Returns PX_OK (handled), PX_AGAIN (wait for
 * the rest of it) or PX_TRACK_PASS (not handled: relay it as usual).
 */
#define PX_TRACK_PASS 1
int px_track_ok_packet(struct px_session *s, uint8_t *hdr, uint32_t len, size_t pk);

/* A client COM_QUERY of LEN bytes at SQL is being sent: when it may change
 * what the backend tracks (session_track_*, SET STATEMENT ... sql_mode),
 * arrange for the tracking statement to run again after its response. */
void px_track_note_query(struct px_session *s, const char *sql, size_t len);

/* The session's sql_mode flags for the rewriter (rw_sqlmode.h):
 * RW_MODE_UNSUPPORTED while unknown. */
uint32_t px_track_sql_mode(const struct px_session *s);

/* Free what the tracking state of S owns. */
void px_track_free(struct px_session *s);

#endif /* PX_TRACK_H */
