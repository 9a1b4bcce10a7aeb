/*
 * test_cat_fence.c - the freshness fence's pure parts (engine/cat_fence.c):
 * binlog positions as one ordered key (file sequence, then offset; across
 * a rotation; names without a number; clamping), and the fence's answer
 * when no binlog follower runs (OFF, nothing linked, end is idempotent).
 * The waiting itself runs against a real backend in itest_fence.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "cat_engine.h"
#include "cat_fence.h"

static void
test_key_order(void **state)
{
    (void)state;
    assert_true(cat_fence_key("mysql-bin.000001", 4) < cat_fence_key("mysql-bin.000001", 5));
    /* a rotation: any offset of the next file is later */
    assert_true(cat_fence_key("mysql-bin.000001", 900000000) <
                cat_fence_key("mysql-bin.000002", 4));
    assert_true(cat_fence_key("mysql-bin.000009", 4) < cat_fence_key("mysql-bin.000010", 4));
    assert_true(cat_fence_key("b.999999", 4) < cat_fence_key("b.1000000", 4));
    /* the same position is the same key, whatever the base name */
    assert_true(cat_fence_key("x.000003", 77) == cat_fence_key("/var/log/y.000003", 77));
    /* no sequence number: offset order only */
    assert_true(cat_fence_key("binlog", 10) < cat_fence_key("binlog", 11));
    assert_true(cat_fence_key(NULL, 10) == cat_fence_key("", 10));
    /* clamped, never wrapped into the file part */
    assert_true(cat_fence_key("a.000001", UINT64_MAX) < cat_fence_key("a.000002", 0));
}

static void
wake(void *arg)
{
    (*(int *)arg)++;
}

static void
test_off_without_follower(void **state)
{
    struct cat_fence_waiter w;
    uint64_t fenced = 1;
    int woken = 0;
    (void)state;
    cat_fence_set_following(false);
    assert_int_equal(cat_fence_begin(&w, 0, 1000, wake, &woken), CAT_FENCE_OFF);
    assert_false(w.linked);
    /* following, but the fence thread not started: still off */
    cat_fence_set_following(true);
    assert_int_equal(cat_fence_begin(&w, 5000, 1000, wake, &woken), CAT_FENCE_OFF);
    assert_false(w.linked);
    cat_fence_follower_at("mysql-bin.000001", 100);
    cat_fence_end(&w);
    cat_fence_end(&w);
    assert_int_equal(woken, 0);
    cat_fence_stats(&fenced, NULL, NULL, NULL);
    assert_int_equal(fenced, 0);
    cat_fence_set_following(false);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_key_order),
        cmocka_unit_test(test_off_without_follower),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
