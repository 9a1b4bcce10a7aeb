/*
 * px_resp.h - reading the backend's responses for a session: the relay's
 * end-of-response tracking and the admin bridge's result collector (see
 * px_resp.c). Part of the session module (px_session_internal.h).
 */
#ifndef PX_RESP_H
#define PX_RESP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "px_session_internal.h"

/*
 * Advance S's response state machine (rkind, phase, counters) over one
 * logical backend packet: LEN is its payload length in bytes, PK its first
 * min(LEN, PEEK_MAX) bytes (PKLEN). Updates s->status from OK/EOF packets
 * and s->resp_ok; re-enables client reads for LOCAL INFILE. Returns true
 * when this packet ends the command's response. Never fails: a packet it
 * cannot read ends the response.
 */
bool px_resp_step(struct px_session *s, uint32_t len, const uint8_t *pk, size_t pklen);

/* Copy N bytes at P into a new NUL-terminated string (caller frees; out of
 * memory is fatal). */
char *px_resp_dup_bytes(const uint8_t *p, size_t n);

/* Forget the current result set of collector C (column names and types
 * freed); back to PH_FIRST. */
void px_resp_coll_reset(struct collect *c);

/*
 * Feed one logical payload P/LEN (bytes, reassembled) of the response to
 * s->exec_cur into S's collector, filling s->exec_cur->reply: the first
 * OK, ERR or result set (rows as text; later result sets are read and
 * dropped). A malformed packet becomes ERR 1105 in the reply. Returns true
 * when the response ended. Out of memory is fatal (px_fatal).
 */
bool px_resp_coll_packet(struct px_session *s, const uint8_t *p, size_t len);

#endif /* PX_RESP_H */
