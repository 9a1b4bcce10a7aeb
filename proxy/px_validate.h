/*
 * px_validate.h - the backend is the judge of whether a query is valid.
 *
 * A rewrite must never turn the backend's error into rows: the bridge is more
 * permissive than MariaDB in places (`COUNT (*)` without IGNORE_SPACE), and
 * the rewritten query reads the view's table, on which a user may have
 * rights that the base tables deny them. So before the rows of a rewritten
 * query reach the client, the original text is prepared on the client's own
 * backend connection (COM_STMT_PREPARE parses, resolves every name and
 * checks every privilege, as the original would, without running it):
 *
 *   COM_STMT_PREPARE(original) ─┐ pipelined: no extra round trip
 *   COM_QUERY(rewritten)       ─┘
 *     PREPARE OK  → COM_STMT_CLOSE(id), the rewritten response is relayed
 *     PREPARE ERR → the rewritten response is discarded; the original runs
 *                   as a plain COM_QUERY and its own answer (the error) is
 *                   relayed, exactly as direct
 *
 * A multi-statement packet sends one PREPARE per statement before its
 * COM_QUERY (px_dispatch.c considers it only when every statement is a
 * SELECT, so discarding its answer and running the original is safe).
 *
 * A success is remembered per worker thread for VALIDATE_TTL_MS, keyed by
 * (user, current database, sql_mode flags, exact text), and forgotten by
 * every worker when any session relays a statement that can change names or
 * privileges (DDL, GRANT, REVOKE, SET ROLE ...: px_validate_note_query).
 * Changes made outside the proxy are seen within the TTL.
 * Part of the session module: it shares px_session_internal.h.
 */
#ifndef PX_VALIDATE_H
#define PX_VALIDATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct px_session;
struct rw_span;

#define VALIDATE_TTL_MS 2000    /* how long a validated text is trusted: ms */

/* Validation states of the command in flight (s->validate). */
enum px_validate_state {
    PX_VAL_NONE = 0,            /* no validation in flight */
    PX_VAL_PREPARE,             /* the PREPARE's answer is being read (discarded) */
    PX_VAL_DISCARD,             /* PREPARE failed: the rewritten answer is discarded */
};

/*
 * Has the original query in s->query (0x03 + SQL) been validated for this
 * session's user, database and sql_mode within the TTL? Then the rewritten
 * text may be sent on its own.
 */
bool px_validate_known(const struct px_session *s);

/*
 * Send COM_STMT_PREPARE of the original (s->query) then COM_QUERY of the
 * rewritten text SQL (LEN bytes) on S's backend connection, and start reading
 * the PREPARE's answer. CHECKS (N_CHECKS spans of the original's SQL, or
 * NULL) are the statements of a multi-statement packet: each gets its own
 * PREPARE (one takes a single statement), at most PX_DISPATCH_MULTI_MAX,
 * and the rewrite stands only if every one is accepted. The caller has set
 * the rewritten query's seq_delta bookkeeping into s->val_seq_delta and
 * s->rewrite_views. Returns the number of packets the rewritten COM_QUERY
 * took.
 */
uint8_t px_validate_start(struct px_session *s, const char *sql, size_t len,
                          const struct rw_span *checks, size_t n_checks);

/*
 * A backend packet of the PREPARE's answer (header HDR, payload LEN, PK bytes
 * peeked at HDR + 4) is at the front of the input: note the statement id,
 * advance the response and discard the packet. Called by bk_query_packet
 * while s->validate == PX_VAL_PREPARE.
 */
void px_validate_prepare_packet(struct px_session *s, uint8_t *hdr, uint32_t len, size_t pk);

/*
 * A PREPARE's answer is complete (AFTER_VALIDATED). While more PREPAREs
 * were sent, read the next one's. After the last: close the statements;
 * when all were OK, remember the text and go on reading the rewritten
 * query's answer for the client; on any ERR, read the rewritten answer to
 * the void (PX_VAL_DISCARD) and take back the views' hits.
 */
void px_validate_prepared(struct px_session *s);

/*
 * The discarded rewritten answer is complete: send the original COM_QUERY
 * (s->query) and relay its answer as it comes.
 */
void px_validate_run_original(struct px_session *s);

/* A COM_QUERY of LEN bytes at SQL is relayed: when it can change what names
 * exist or what a user may read, forget every validation (all workers). */
void px_validate_note_query(const char *sql, size_t len);

/* Free the calling thread's validation cache (worker exit). */
void px_validate_thread_free(void);

#endif /* PX_VALIDATE_H */
