/*
 * test_px_dispatch.c - the query dispatcher's own decisions that need no
 * backend: session SET handling, admin recognition hand-off, relay of
 * ordinary statements with an empty catalog.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "px_dispatch.h"

static struct px_session_info
session(bool rewrite)
{
    struct px_session_info si;
    memset(&si, 0, sizeof(si));
    si.id = 1;
    si.user = "root";
    si.db = "shop";
    si.rewrite_enabled = rewrite;
    return si;
}

static void
dispatch(const char *sql, struct px_dispatch_out *out)
{
    struct px_session_info si = session(true);
    memset(out, 0, sizeof(*out));
    px_dispatch_query(&si, sql, strlen(sql), out);
}

static void
test_set_rewrite_off_and_on(void **state)
{
    struct px_dispatch_out out;
    (void)state;
    dispatch("SET enable_materialized_view_rewrite = OFF", &out);
    assert_int_equal(out.kind, PX_DISPATCH_REPLY);
    assert_int_equal(out.reply.kind, MVP_REPLY_OK);
    assert_true(out.set_rewrite);
    assert_false(out.rewrite_enabled);
    px_dispatch_out_clear(&out);

    dispatch("set session enable_materialized_view_rewrite=on", &out);
    assert_int_equal(out.kind, PX_DISPATCH_REPLY);
    assert_true(out.set_rewrite);
    assert_true(out.rewrite_enabled);
    px_dispatch_out_clear(&out);

    dispatch("SET @@session.enable_materialized_view_rewrite = 0", &out);
    assert_int_equal(out.kind, PX_DISPATCH_REPLY);
    assert_true(out.set_rewrite);
    assert_false(out.rewrite_enabled);
    px_dispatch_out_clear(&out);
}

static void
test_set_rewrite_bad_value_is_error(void **state)
{
    struct px_dispatch_out out;
    (void)state;
    dispatch("SET enable_materialized_view_rewrite = maybe", &out);
    assert_int_equal(out.kind, PX_DISPATCH_REPLY);
    assert_int_equal(out.reply.kind, MVP_REPLY_ERR);
    assert_int_equal(out.reply.err_code, 1231);
    assert_false(out.set_rewrite);
    px_dispatch_out_clear(&out);
}

static void
test_other_set_is_relayed(void **state)
{
    struct px_dispatch_out out;
    (void)state;
    dispatch("SET NAMES utf8mb4", &out);
    assert_int_equal(out.kind, PX_DISPATCH_RELAY);
    assert_false(out.set_rewrite);
    px_dispatch_out_clear(&out);
    dispatch("SET sql_mode = 'ANSI'", &out);
    assert_int_equal(out.kind, PX_DISPATCH_RELAY);
    px_dispatch_out_clear(&out);
}

static void
test_select_without_catalog_is_relayed(void **state)
{
    struct px_dispatch_out out;
    (void)state;
    dispatch("SELECT region_id, SUM(sale_amount) FROM raw_sales GROUP BY region_id", &out);
    assert_int_equal(out.kind, PX_DISPATCH_RELAY);
    assert_null(out.sql);
    px_dispatch_out_clear(&out);
}

static void
test_admin_statement_is_admin_job(void **state)
{
    struct px_dispatch_out out;
    (void)state;
    dispatch("REFRESH MATERIALIZED VIEW mv_dwd_sales COMPLETE", &out);
    assert_int_equal(out.kind, PX_DISPATCH_ADMIN);
    assert_non_null(out.admin);
    px_dispatch_out_clear(&out);
    assert_null(out.admin);
}

static void
test_bad_admin_statement_is_syntax_error(void **state)
{
    struct px_dispatch_out out;
    (void)state;
    dispatch("CREATE MATERIALIZED VIEW AS", &out);
    assert_int_equal(out.kind, PX_DISPATCH_REPLY);
    assert_int_equal(out.reply.kind, MVP_REPLY_ERR);
    assert_int_equal(out.reply.err_code, 1064);
    px_dispatch_out_clear(&out);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_set_rewrite_off_and_on),
        cmocka_unit_test(test_set_rewrite_bad_value_is_error),
        cmocka_unit_test(test_other_set_is_relayed),
        cmocka_unit_test(test_select_without_catalog_is_relayed),
        cmocka_unit_test(test_admin_statement_is_admin_job),
        cmocka_unit_test(test_bad_admin_statement_is_syntax_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
