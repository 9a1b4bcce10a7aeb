/*
 * px_fence.h - the freshness fence on the session's side (issue 12; the
 * engine's half and why it is exact: engine/cat_fence.c).
 *
 * A command whose decision is REWRITE asks px_fence_gate before it sends
 * anything. The gate answers at once when no view of the decision needs a
 * fence (every one LOOSE, the fence off, no binlog follower) or when the
 * follower has already read far enough. Otherwise the command is parked:
 * the session stays in QUERY (its pipelined input waits), the hits counted
 * for the decision are taken back, and nothing goes to the backend. When
 * the engine wakes the session (or every millisecond, for a change the
 * probe still has to resolve) the gate is polled; once it passes, the
 * command is decided again from the start (px_fence_resume, the decision
 * cache makes that cheap), now seeing every mark the follower made. If
 * --freshness-fence-ms passes first, the command is decided again with the
 * fence failed, and a failed fence means no rewrite: the original is
 * relayed. Part of the session module: it shares px_session_internal.h.
 */
#ifndef PX_FENCE_H
#define PX_FENCE_H

struct px_session;
struct px_rewrite_views;

/* Where a parked command resumes. */
enum px_fence_at {
    PX_FENCE_AT_QUERY = 0,          /* a COM_QUERY (px_session.c cmd_query) */
    PX_FENCE_AT_EXECUTE,            /* a COM_STMT_EXECUTE (px_prep.c) */
    PX_FENCE_AT_USING,              /* an SQL EXECUTE ... USING after its probe (px_prep.c) */
};

enum px_fence_gate {
    PX_FENCE_GO = 0,                /* send the rewrite */
    PX_FENCE_PARKED,                /* the command waits: return, send nothing */
    PX_FENCE_RELAY,                 /* the fence failed for this command: relay the original */
};

/*
 * May the current command of S be answered by the rewrite reading the
 * views V? GO, RELAY, or PARKED (then the caller takes back V's hits,
 * drops its decision and returns; px_fence_resume runs the command again
 * at AT later, from the worker's loop). A command that was resumed gets
 * GO or RELAY at once. Never fails: when the fence's own event cannot be
 * made, the answer is RELAY.
 */
enum px_fence_gate px_fence_gate(struct px_session *s, const struct px_rewrite_views *v,
                                 enum px_fence_at at);

/* A new client command begins: the last one's fence result is forgotten. */
void px_fence_reset(struct px_session *s);

/* Session teardown: stop waiting (no wake after this) and free the events. */
void px_fence_free(struct px_session *s);

#endif /* PX_FENCE_H */
