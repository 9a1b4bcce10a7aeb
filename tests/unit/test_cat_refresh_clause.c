/*
 * test_cat_refresh_clause.c - a view's refresh clause parsed once: the
 * canonical text (cat_refresh_text) read back into the struct
 * (cat_refresh_clause_of_text, as when a view is loaded from the store),
 * copied and freed, and what the scheduler makes of it (cat_trigger_of).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "cat.h"
#include "cat_parse.h"
#include "cat_util.h"
#include "cat_refresh_clause.h"
#include "cat_sched.h"

/* TEXT read back and written again gives TEXT. */
static void
round_trip(const char *text)
{
    struct cat_refresh_clause rc, cp;
    char err[300];
    char *again;
    assert_int_equal(cat_refresh_clause_of_text(text, &rc, err, sizeof(err)), 0);
    again = cat_refresh_text(&rc);
    assert_string_equal(again, text);
    free(again);
    cat_refresh_clause_copy(&cp, &rc);
    cat_refresh_clause_free(&rc);
    again = cat_refresh_text(&cp);
    assert_string_equal(again, text);
    free(again);
    cat_refresh_clause_free(&cp);
}

static void
test_round_trip(void **state)
{
    (void)state;
    round_trip("REFRESH AUTO ON MANUAL");
    round_trip("REFRESH COMPLETE ON DEMAND");
    round_trip("REFRESH NEVER ON MANUAL");
    round_trip("REFRESH FAST ON COMMIT");
    round_trip("REFRESH AUTO ON SCHEDULE EVERY 2 HOUR STARTS '2024-01-01 00:00:00'");
    round_trip("REFRESH COMPLETE ON SCHEDULE EVERY 5 SECOND");
    round_trip("REFRESH FAST EVERY (INTERVAL '5 min')");
    round_trip("REFRESH AUTO ON SCHEDULE EVERY 1 MONTH"); /* parses; the scheduler refuses it */
}

static void
test_bad_text(void **state)
{
    struct cat_refresh_clause rc;
    char err[300];
    (void)state;
    assert_int_equal(cat_refresh_clause_of_text("REFRESH SOMETIMES", &rc, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "not understood"));
    assert_int_equal(rc.method, CAT_RM_NONE);
    assert_int_equal(rc.trigger, CAT_RT_NONE);
    assert_int_equal(cat_refresh_clause_of_text(NULL, &rc, err, sizeof(err)), -1);
}

/* The trigger of canonical text TEXT (0 or -1 as cat_trigger_of). */
static int
trigger(const char *text, struct cat_trigger *tr, char *err, size_t errlen)
{
    struct cat_refresh_clause rc;
    int r;
    assert_int_equal(cat_refresh_clause_of_text(text, &rc, err, errlen), 0);
    r = cat_trigger_of(&rc, tr, err, errlen);
    cat_refresh_clause_free(&rc);
    return r;
}

static void
test_trigger(void **state)
{
    struct cat_trigger tr;
    char err[300];
    (void)state;
    assert_int_equal(trigger("REFRESH AUTO ON MANUAL", &tr, err, sizeof(err)), 0);
    assert_int_equal(tr.kind, CAT_TRIG_MANUAL);
    assert_int_equal(tr.mode, CAT_RM_AUTO);
    assert_false(tr.never);
    assert_int_equal(trigger("REFRESH FAST ON COMMIT", &tr, err, sizeof(err)), 0);
    assert_int_equal(tr.kind, CAT_TRIG_COMMIT);
    assert_int_equal(tr.mode, CAT_RM_FAST);
    assert_int_equal(trigger("REFRESH COMPLETE ON SCHEDULE EVERY 2 HOUR STARTS "
                             "'2024-01-01 00:00:00'", &tr, err, sizeof(err)), 0);
    assert_int_equal(tr.kind, CAT_TRIG_SCHEDULE);
    assert_int_equal(tr.mode, CAT_RM_COMPLETE);
    assert_int_equal(tr.every_ms, 2 * 3600000);
    assert_true(tr.starts_ms != 0);
    assert_int_equal(trigger("REFRESH AUTO EVERY (INTERVAL '5 min')", &tr, err, sizeof(err)), 0);
    assert_int_equal(tr.kind, CAT_TRIG_SCHEDULE);
    assert_int_equal(tr.every_ms, 300000);
    /* NEVER: never scheduled, whatever the trigger */
    assert_int_equal(trigger("REFRESH NEVER ON COMMIT", &tr, err, sizeof(err)), 0);
    assert_true(tr.never);
    assert_int_equal(tr.kind, CAT_TRIG_MANUAL);
    assert_int_equal(trigger("REFRESH AUTO ON SCHEDULE EVERY 1 MONTH", &tr, err, sizeof(err)),
                     -1);
    assert_non_null(strstr(err, "MONTH is not supported"));
    assert_int_equal(trigger("REFRESH AUTO ON SCHEDULE EVERY 0 MINUTE", &tr, err, sizeof(err)),
                     -1);
    assert_non_null(strstr(err, "whole number > 0"));
    assert_int_equal(trigger("REFRESH AUTO EVERY (INTERVAL 'soon')", &tr, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "EVERY (INTERVAL"));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_bad_text),
        cmocka_unit_test(test_trigger),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
