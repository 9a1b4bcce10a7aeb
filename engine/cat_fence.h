/*
 * cat_fence.h - the freshness fence's engine-side hooks (cat_fence.c). The
 * proxy-facing part (cat_fence_begin / poll / end) is in
 * include/cat_engine.h.
 */
#ifndef CAT_FENCE_H
#define CAT_FENCE_H

#include <stdbool.h>
#include <stdint.h>

/*
 * Start the fence thread (its own service connection for SHOW MASTER
 * STATUS). Called by cat_init after the binlog follower started; the fence
 * is on only while the follower follows (cat_fence_set_following). Returns
 * 0, or -1 when the thread cannot start (the fence then stays off; logged).
 */
int cat_fence_start(void);

/* Stop and join the fence thread; waiters still linked are never woken
 * again (their sessions time out). Safe when it never started. */
void cat_fence_stop(void);

/* The follower follows the binlog (ON) or not (stopped, dump refused):
 * with it off every fence is CAT_FENCE_OFF. Thread-safe. */
void cat_fence_set_following(bool on);

/*
 * The follower has read and marked every event up to FILE:POS (the end of
 * the last event handled). Wakes the waiters whose target it reached.
 * Called on the follower thread after each event; cheap when nobody waits.
 */
void cat_fence_follower_at(const char *file, uint64_t pos);

/*
 * A binlog position as one ordered number: the file's sequence number
 * (the digits after its last '.', as in mysql-bin.000042) in the high 24
 * bits, the byte offset (below 1 TiB) in the low 40. Pure; unit-tested.
 */
uint64_t cat_fence_key(const char *file, uint64_t pos);

#endif /* CAT_FENCE_H */
