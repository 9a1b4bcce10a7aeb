/*
 * px_prep.h - prepared statements on the rewrite path (issue 11). Part of
 * the session module (px_session_internal.h); px_session.c calls the hooks
 * below from cl_command, cmd_query, bk_query_packet, resp_end,
 * resend_original and the session free.
 *
 * Binary protocol (MariaDB KB "COM_STMT_PREPARE", "COM_STMT_EXECUTE",
 * "Binary Protocol Result Set"): the client's statements are relayed to the
 * backend as before and keep their ids (the client's id IS the backend's).
 * The session remembers, per client statement id, the SQL text, the
 * parameter and column counts of the PREPARE_OK and the parameter types of
 * the last execute that bound them. A COM_STMT_EXECUTE of a SELECT without a
 * cursor and without long data gets its values written into the text as
 * literals; when the dispatcher rewrites that text onto a view, the
 * rewritten text runs as a proxy-owned statement (prepared once per session
 * and text, at most PX_PREP_CACHE_MAX kept) whose binary result set the
 * client gets in place of the original's. An ERR for the rewritten
 * statement (at its prepare or its execute) sends the client's execute
 * packet instead; the client never sees a proxy statement id.
 *
 * SQL level: `PREPARE name FROM 'text'` is remembered when the backend
 * accepts it; `EXECUTE name` is then rewritten like a COM_QUERY of the text
 * and sent as one. `EXECUTE name USING ...` gets its values written into
 * the text as literals first: constants as they are, and user or system
 * variables as the proxy's own SELECT of them reads them back (one round
 * trip, the "probe"; the client sees none of it), then the same. A value
 * that cannot be written as a literal of the same meaning, or a probe the
 * backend refuses, sends the client's EXECUTE unchanged. DEALLOCATE / DROP
 * PREPARE forget.
 */
#ifndef PX_PREP_H
#define PX_PREP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cat_util.h"
#include "px_dispatch.h"
#include "px_fence.h"
#include "px_session_internal.h"

#define PX_PREP_CACHE_MAX 32u   /* proxy-owned (rewritten) statements kept per session */
#define PX_PREP_PASS      1     /* px_prep_cl_command: go on with the usual relay */

/*
 * The client command CMD (first payload byte) with payload LEN bytes is at
 * the front of S's client input (IDLE state, header not yet drained):
 * notes what the statement table needs (PREPARE text, CLOSE, RESET,
 * SEND_LONG_DATA, RESET_CONNECTION, CHANGE_USER) and, for an EXECUTE of a
 * rewrite candidate, takes the whole packet and runs it (rewritten or not).
 * Returns PX_PREP_PASS (nothing consumed: relay the command as usual),
 * PX_AGAIN (more client bytes needed first) or PX_OK (the command was taken
 * and sent; S is in QUERY). Never fails; out of memory aborts (px_buf).
 */
int px_prep_cl_command(struct px_session *s, uint8_t cmd, uint32_t len);

/*
 * A backend packet (header and first PK payload bytes in HDR, payload LEN
 * bytes) arrived in QUERY state. When it belongs to the proxy's own
 * COM_STMT_PREPARE of a rewritten text, it is consumed here (dropped, its
 * end queues AFTER_PREP) and true is returned; false: relay it as usual.
 */
bool px_prep_bk_packet(struct px_session *s, uint8_t *hdr, uint32_t len, size_t pk);

/*
 * AFTER_PREP: the response to the proxy's COM_STMT_PREPARE is complete.
 * Executes the new statement (caching it) when it has no parameters and
 * the original's column count; otherwise sends the client's execute.
 */
void px_prep_after_packet(struct px_session *s);

/* The response to S's current client command ended (before resp_end
 * clears the command's state): registers a prepared statement (binary or
 * SQL level) the backend accepted and ends a rewritten execute. */
void px_prep_resp_end(struct px_session *s);

/* The rewritten statement in flight was rejected (resend_original): a
 * proxy-owned statement that failed is closed and dropped from the cache. */
void px_prep_rewrite_failed(struct px_session *s);

/*
 * The COM_QUERY text SQL/LEN of session S (info SI) was dispatched into OUT
 * as PX_DISPATCH_RELAY: follows SQL PREPARE / EXECUTE / DEALLOCATE PREPARE.
 * For `EXECUTE name` of a remembered text, and `EXECUTE name USING c, ...`
 * whose items are all constants, that the dispatcher rewrites (the values
 * written into the text as literals), OUT is replaced with that
 * PX_DISPATCH_REWRITE (the fallback is the client's EXECUTE, s->query).
 * Returns true when the USING list reads variables (@a, @@x) of a text that
 * may be rewritten: the caller, once S is in QUERY with the response begun,
 * calls px_prep_probe_start instead of sending anything. OUT stays as it is
 * otherwise (false).
 */
bool px_prep_sql_query(struct px_session *s, const struct px_session_info *si, const char *sql,
                       size_t len, struct px_dispatch_out *out);
/*
 * Send the proxy's own `SELECT @a, COLLATION(@a), ..., @@collation_connection,
 * @@character_set_client, @@character_set_connection, @@character_set_results`
 * for the EXECUTE ... USING that px_prep_sql_query kept. Its response is
 * read by px_prep_probe_packet (the client sees none of it); when it ends,
 * the client's EXECUTE runs, rewritten when every value makes a literal
 * (px_prep_var_literal) and a view answers the text, else unchanged. One
 * round trip more than direct, only for texts px_dispatch_may_rewrite admits.
 */
void px_prep_probe_start(struct px_session *s);
/*
 * A backend packet (header in HDR, payload LEN bytes) arrived in QUERY
 * state. Returns PX_PREP_PASS when no probe is in flight (relay it as
 * usual); else the packet is the probe's and is consumed: PX_OK, or
 * PX_AGAIN until the whole packet is buffered. An ERR ends the probe with
 * the client's EXECUTE sent unchanged (its own error follows).
 */
int px_prep_probe_packet(struct px_session *s, uint8_t *hdr, uint32_t len);
/*
 * Run the command that the freshness fence parked at AT again
 * (px_fence.h): a COM_STMT_EXECUTE (PX_FENCE_AT_EXECUTE) or the SQL
 * EXECUTE ... USING whose values were probed (PX_FENCE_AT_USING). Its text
 * with the bound values, kept when it was parked, is decided again and
 * sent rewritten, or the client's own command goes unchanged.
 */
void px_prep_fence_resume(struct px_session *s, enum px_fence_at at);
/*
 * Append to B a literal of the same value and type as a variable read back
 * in a text result set: column type TYPE, value VAL/N bytes (NULL: SQL
 * NULL), COLL the variable's COLLATION(), CONN_COLL @@collation_connection,
 * STR_OK true when the client, connection and result character sets are
 * one. NULL, integers and decimals (negatives in parentheses) always; a
 * string only in the connection's collation and without backslashes,
 * control or NUL bytes (written '...' with '' doubling). Returns false
 * (B may hold part of a literal) for anything else: DOUBLE values (their
 * text need not give back the same bits), binary strings, other types.
 */
bool px_prep_var_literal(struct cat_buf *b, uint8_t type, const char *val, size_t n,
                         const char *coll, const char *conn_coll, bool str_ok);
/* Free everything S's statement state owns (session end). The backend
 * connection is closed with it, which frees the proxy's statements. */
void px_prep_free(struct px_session *s);

/*
 * Write the SQL text SQL/LEN (lexed under sql_mode flags MODE, RW_MODE_*)
 * with its N_PARAMS `?` placeholders replaced
 * by the values of a COM_STMT_EXECUTE: PARAMS/PLEN are the execute payload
 * bytes after the 10-byte head (null bitmap, bound flag, types when bound,
 * values), TYPES the 2*N_PARAMS type bytes in force (those in PARAMS when
 * it binds new ones). NULL, integers, FLOAT/DOUBLE (as DOUBLE literals),
 * DECIMAL, strings without backslashes or control bytes, DATE, DATETIME,
 * TIMESTAMP and TIME become literals of the same value and type; for
 * anything else (blobs, other types, a malformed packet) NULL is returned.
 * Returns the text (caller frees; *OUT_LEN bytes, NUL-terminated).
 */
char *px_prep_literal_text(const char *sql, size_t len, uint32_t mode, uint16_t n_params,
                           const uint8_t *types, const uint8_t *params, size_t plen,
                           size_t *out_len);

#endif /* PX_PREP_H */
