/*
 * test_px_mysql.c - unit tests for proxy/px_mysql.c: framing (split
 * headers, 16 MiB chains), length-encoded values, OK/ERR/EOF builders with
 * and without CLIENT_DEPRECATE_EOF, mvp_reply encoding, greeting capability
 * editing, handshake-response / change-user parsing and USE detection.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "px_mysql.h"

/* Copy all of EVB into a new array (caller frees); *LEN gets its size. */
static uint8_t *
drain_all(struct evbuffer *evb, size_t *len)
{
    *len = evbuffer_get_length(evb);
    uint8_t *p = malloc(*len ? *len : 1);
    evbuffer_remove(evb, p, *len);
    return p;
}

static void
test_lenenc_roundtrip(void **state)
{
    const uint64_t vals[] = {0, 1, 250, 251, 65535, 65536, 16777215, 16777216, 1ull << 40,
                             UINT64_MAX};
    const size_t sizes[] = {1, 1, 1, 3, 3, 4, 4, 9, 9, 9};
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
        struct px_buf b;
        const uint8_t *p;
        uint64_t v = 12345;
        bool is_null = true;

        px_buf_init(&b);
        px_buf_put_lenenc(&b, vals[i]);
        assert_int_equal(b.len, sizes[i]);
        assert_int_equal(px_mysql_lenenc_size(vals[i]), sizes[i]);
        p = b.data;
        assert_int_equal(px_mysql_get_lenenc(&p, b.data + b.len, &v, &is_null), PX_OK);
        assert_true(v == vals[i]);
        assert_false(is_null);
        assert_ptr_equal(p, b.data + b.len);
        /* Truncated input is rejected. */
        p = b.data;
        if (b.len > 1) {
            assert_int_equal(px_mysql_get_lenenc(&p, b.data + b.len - 1, &v, NULL), PX_ERR);
        }
        px_buf_free(&b);
    }
}

static void
test_lenenc_markers(void **state)
{
    const uint8_t nul[] = {0xfb}, bad[] = {0xff, 0, 0}, three[] = {0xfc, 0x34, 0x12};
    const uint8_t str[] = {0x03, 'a', 'b', 'c', 0x05, 'x'};
    const uint8_t *p, *s;
    uint64_t v;
    size_t n;
    bool is_null = false;

    (void)state;
    p = nul;
    assert_int_equal(px_mysql_get_lenenc(&p, nul + 1, &v, &is_null), PX_OK);
    assert_true(is_null);
    assert_int_equal(v, 0);
    p = bad;
    assert_int_equal(px_mysql_get_lenenc(&p, bad + 3, &v, NULL), PX_ERR);
    p = three;
    assert_int_equal(px_mysql_get_lenenc(&p, three + 3, &v, NULL), PX_OK);
    assert_int_equal(v, 0x1234);
    p = str;
    assert_int_equal(px_mysql_get_lenenc_str(&p, str + sizeof(str), &s, &n, NULL), PX_OK);
    assert_int_equal(n, 3);
    assert_memory_equal(s, "abc", 3);
    /* Declared length 5 but only 1 byte left. */
    assert_int_equal(px_mysql_get_lenenc_str(&p, str + sizeof(str), &s, &n, NULL), PX_ERR);
}

static void
test_write_packet_small_and_chain(void **state)
{
    struct evbuffer *evb = evbuffer_new();
    uint8_t seq = 3, *out;
    size_t len, big = PX_PKT_MAX;
    uint8_t *payload = malloc(20u << 20);

    (void)state;
    assert_int_equal(px_mysql_write_packet(evb, &seq, "\x03SELECT 1", 9), PX_OK);
    assert_int_equal(seq, 4);
    out = drain_all(evb, &len);
    assert_int_equal(len, 13);
    assert_memory_equal(out, "\x09\x00\x00\x03\x03SELECT 1", 13);
    free(out);

    /* Exactly 0xFFFFFF bytes: a full packet and an empty terminator. */
    memset(payload, 'q', 20u << 20);
    seq = 0;
    assert_int_equal(px_mysql_write_packet(evb, &seq, payload, big), PX_OK);
    assert_int_equal(seq, 2);
    out = drain_all(evb, &len);
    assert_int_equal(len, big + 8);
    assert_memory_equal(out, "\xff\xff\xff\x00", 4);
    assert_memory_equal(out + 4 + big, "\x00\x00\x00\x01", 4);
    free(out);

    /* 20 MiB: 0xFFFFFF + remainder. */
    seq = 255;
    assert_int_equal(px_mysql_write_packet(evb, &seq, payload, 20u << 20), PX_OK);
    assert_int_equal(seq, 1); /* wrapped: 255, 0 */
    out = drain_all(evb, &len);
    assert_int_equal(len, (20u << 20) + 8);
    assert_memory_equal(out, "\xff\xff\xff\xff", 4);
    assert_int_equal(px_mysql_u24(out + 4 + big), (20u << 20) - big);
    assert_int_equal(out[4 + big + 3], 0);
    free(out);
    free(payload);
    evbuffer_free(evb);
}

static void
test_take_payload_split_header(void **state)
{
    struct evbuffer *evb = evbuffer_new();
    struct px_buf b;
    uint32_t len;
    uint8_t seq = 99;
    const uint8_t pkt[] = {0x05, 0x00, 0x00, 0x07, 'h', 'e', 'l', 'l', 'o', 0x01};

    (void)state;
    px_buf_init(&b);
    evbuffer_add(evb, pkt, 2);
    assert_int_equal(px_mysql_peek_header(evb, &len, &seq), PX_AGAIN);
    assert_int_equal(px_mysql_take_payload(evb, 1000, &b, &seq), PX_AGAIN);
    evbuffer_add(evb, pkt + 2, 4);
    assert_int_equal(px_mysql_peek_header(evb, &len, &seq), PX_OK);
    assert_int_equal(len, 5);
    assert_int_equal(seq, 7);
    assert_int_equal(px_mysql_take_payload(evb, 1000, &b, &seq), PX_AGAIN);
    assert_int_equal(evbuffer_get_length(evb), 6); /* nothing removed */
    evbuffer_add(evb, pkt + 6, 4);
    /* Cap below the payload size: refused, nothing removed. */
    assert_int_equal(px_mysql_take_payload(evb, 4, &b, &seq), PX_ERR);
    assert_int_equal(evbuffer_get_length(evb), 10);
    assert_int_equal(px_mysql_take_payload(evb, 1000, &b, &seq), PX_OK);
    assert_int_equal(b.len, 5);
    assert_memory_equal(b.data, "hello", 5);
    assert_int_equal(evbuffer_get_length(evb), 1); /* the next packet's first byte stays */
    px_buf_free(&b);
    evbuffer_free(evb);
}

static void
test_take_payload_chain(void **state)
{
    struct evbuffer *evb = evbuffer_new();
    struct px_buf b;
    size_t total = PX_PKT_MAX + 100, i;
    uint8_t *payload = malloc(total), seq = 0, *wire;
    size_t wlen;

    (void)state;
    for (i = 0; i < total; i++) {
        payload[i] = (uint8_t)(i * 7);
    }
    px_buf_init(&b);
    px_mysql_write_packet(evb, &seq, payload, total);
    wire = drain_all(evb, &wlen);
    /* Feed it in odd-sized pieces; only the complete chain is taken. */
    for (i = 0; i < wlen; i += 1000003) {
        size_t n = wlen - i < 1000003 ? wlen - i : 1000003;
        evbuffer_add(evb, wire + i, n);
        if (i + n < wlen) {
            assert_int_equal(px_mysql_take_payload(evb, 64u << 20, &b, &seq), PX_AGAIN);
        }
    }
    assert_int_equal(px_mysql_take_payload(evb, 64u << 20, &b, &seq), PX_OK);
    assert_int_equal(seq, 1);
    assert_int_equal(b.len, total);
    assert_memory_equal(b.data, payload, total);
    assert_int_equal(evbuffer_get_length(evb), 0);
    free(wire);
    free(payload);
    px_buf_free(&b);
    evbuffer_free(evb);
}

static void
test_ok_packet(void **state)
{
    struct px_buf b;
    uint16_t st = 0;

    (void)state;
    px_buf_init(&b);
    px_mysql_build_ok(&b, 3, 300, 0x0002, 1, "Rows matched: 3", PX_CLIENT_PROTOCOL_41, false);
    assert_int_equal(b.len, 1 + 1 + 3 + 2 + 2 + 15);
    assert_memory_equal(b.data, "\x00\x03\xfc\x2c\x01\x02\x00\x01\x00Rows matched: 3", b.len);
    assert_int_equal(px_mysql_ok_eof_status(b.data, b.len, false, &st), PX_OK);
    assert_int_equal(st, 0x0002);
    b.len = 0;
    /* Session tracking: info becomes length-encoded. */
    px_mysql_build_ok(&b, 0, 0, 0x000a, 0, "hi", PX_CLIENT_PROTOCOL_41 | PX_CLIENT_SESSION_TRACK,
                      false);
    assert_memory_equal(b.data, "\x00\x00\x00\x0a\x00\x00\x00\x02hi", 10);
    assert_int_equal(b.len, 10);
    b.len = 0;
    /* End of a result set under DEPRECATE_EOF: OK with header 0xFE. */
    px_mysql_build_ok(&b, 0, 0, 0x0022, 0, NULL, PX_CLIENT_DEPRECATE_EOF, true);
    assert_int_equal(b.len, 7);
    assert_memory_equal(b.data, "\xfe\x00\x00\x22\x00\x00\x00", 7);
    assert_int_equal(px_mysql_ok_eof_status(b.data, b.len, true, &st), PX_OK);
    assert_int_equal(st, 0x0022);
    px_buf_free(&b);
}

/* OK packets under session tracking: parsed, the sql_mode change found, and
 * converted for a client that did not ask for tracking. */
static void
test_ok_session_state(void **state)
{
    /* OK: 0 rows, id 0, status 0x4002 (SESSION_STATE_CHANGED|AUTOCOMMIT),
     * 0 warnings, info "", state: one SYSTEM_VARIABLES entry
     * (type 0, data = lenenc "sql_mode" + lenenc "ANSI_QUOTES"),
     * one SCHEMA entry (type 1, data = lenenc "db"). */
    static const uint8_t pkt[] = {
        0x00, 0x00, 0x00, 0x02, 0x40, 0x00, 0x00, 0x00,
        28, 0x00, 21, 8, 's', 'q', 'l', '_', 'm', 'o', 'd', 'e',
        11, 'A', 'N', 'S', 'I', '_', 'Q', 'U', 'O', 'T', 'E', 'S',
        0x01, 3, 2, 'd', 'b',
    };
    static const uint8_t info_pkt[] = {0x00, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 2, 'h', 'i'};
    struct px_ok ok;
    struct px_buf b;
    const uint8_t *v;
    size_t vl;
    uint8_t bad[sizeof(pkt)];

    (void)state;
    assert_int_equal(sizeof(pkt), 37);
    assert_int_equal(px_mysql_parse_ok(pkt, sizeof(pkt), true, &ok), PX_OK);
    assert_int_equal(ok.status, 0x4002);
    assert_int_equal(ok.info_len, 0);
    assert_non_null(ok.state);
    assert_int_equal(ok.state_len, 28);
    assert_true(px_mysql_state_sysvar(ok.state, ok.state_len, "SQL_MODE", &v, &vl));
    assert_int_equal(vl, 11);
    assert_memory_equal(v, "ANSI_QUOTES", 11);
    assert_false(px_mysql_state_sysvar(ok.state, ok.state_len, "autocommit", &v, &vl));
    /* a truncated entry list is never half read */
    assert_false(px_mysql_state_sysvar(ok.state, ok.state_len - 4, "sql_mode", &v, &vl));
    /* the untracked form: the fixed part only */
    px_buf_init(&b);
    px_mysql_build_ok_untracked(&b, &ok);
    assert_int_equal(b.len, 7);
    assert_memory_equal(b.data, pkt, 7);
    /* info: lenenc when tracked, to the end of the packet when not */
    assert_int_equal(px_mysql_parse_ok(info_pkt, sizeof(info_pkt), true, &ok), PX_OK);
    assert_int_equal(ok.affected, 1);
    assert_int_equal(ok.info_len, 2);
    assert_null(ok.state);
    b.len = 0;
    px_mysql_build_ok_untracked(&b, &ok);
    assert_int_equal(b.len, 9);
    assert_memory_equal(b.data, "\x00\x01\x00\x02\x00\x00\x00hi", 9);
    assert_int_equal(px_mysql_parse_ok(info_pkt, sizeof(info_pkt), false, &ok), PX_OK);
    assert_int_equal(ok.info_len, 3); /* the lenenc byte is part of the text then */
    /* malformed: too short, bad header, info longer than the packet */
    assert_int_equal(px_mysql_parse_ok(pkt, 4, true, &ok), PX_ERR);
    memcpy(bad, pkt, sizeof(pkt));
    bad[0] = 0xff;
    assert_int_equal(px_mysql_parse_ok(bad, sizeof(bad), true, &ok), PX_ERR);
    memcpy(bad, pkt, sizeof(pkt));
    bad[8] = 200;
    assert_int_equal(px_mysql_parse_ok(bad, sizeof(bad), true, &ok), PX_ERR);
    px_buf_free(&b);
}

/* The proxy asks the backend for session tracking in the client's response. */
static void
test_handshake_resp_add_caps(void **state)
{
    uint8_t p[40];

    (void)state;
    memset(p, 0, sizeof(p));
    p[0] = 0x05;
    p[1] = 0xa2;
    assert_int_equal(px_mysql_handshake_resp_add_caps(p, sizeof(p), PX_CLIENT_SESSION_TRACK),
                     0xa205u | PX_CLIENT_SESSION_TRACK);
    assert_int_equal(px_mysql_u32(p), 0xa205u | PX_CLIENT_SESSION_TRACK);
    assert_int_equal(px_mysql_handshake_resp_add_caps(p, 8, PX_CLIENT_SSL), 0);
    assert_int_equal(px_mysql_u32(p), 0xa205u | PX_CLIENT_SESSION_TRACK);
}

static void
test_err_and_eof_packets(void **state)
{
    struct px_buf b;
    uint16_t st = 0;

    (void)state;
    px_buf_init(&b);
    px_mysql_build_err(&b, 1064, "42000", "bad");
    assert_int_equal(b.len, 12);
    assert_memory_equal(b.data, "\xff\x28\x04#42000bad", 12);
    b.len = 0;
    px_mysql_build_err(&b, 1146, NULL, "x");
    assert_memory_equal(b.data, "\xff\x7a\x04#HY000x", 10);
    b.len = 0;
    /* Client-range codes become 1158/08S01. */
    px_mysql_build_err(&b, 2013, "HY000", "Lost connection to backend");
    assert_int_equal(px_mysql_u16(b.data + 1), PX_ER_NET_READ_ERROR);
    assert_memory_equal(b.data + 3, "#08S01Lost", 10);
    b.len = 0;
    px_mysql_build_eof(&b, 2, PX_SERVER_MORE_RESULTS_EXISTS | PX_SERVER_STATUS_AUTOCOMMIT);
    assert_int_equal(b.len, 5);
    assert_memory_equal(b.data, "\xfe\x02\x00\x0a\x00", 5);
    assert_int_equal(px_mysql_ok_eof_status(b.data, b.len, false, &st), PX_OK);
    assert_int_equal(st, 0x000a);
    px_buf_free(&b);
}

/* Split the packets in WIRE/LEN into an array of (offset, len, seq). */
struct pk {
    size_t off;
    uint32_t len;
    uint8_t seq;
};

static size_t
split_packets(const uint8_t *wire, size_t len, struct pk *pks, size_t max)
{
    size_t off = 0, n = 0;

    while (off + 4 <= len && n < max) {
        pks[n].len = px_mysql_u24(wire + off);
        pks[n].seq = wire[off + 3];
        pks[n].off = off + 4;
        off += 4 + pks[n].len;
        n++;
    }
    assert_int_equal(off, len);
    return n;
}

static void
make_rows_reply(struct mvp_reply *r)
{
    const char *names[] = {"id", "name"};
    const enum mvp_col_type types[] = {MVP_COL_INT, MVP_COL_STRING};
    const char *r1[] = {"1", "abc"}, *r2[] = {"22", NULL};

    mvp_reply_init(r);
    mvp_reply_rows(r, 2, names, types);
    mvp_reply_add_row(r, r1);
    mvp_reply_add_row(r, r2);
}

static void
test_encode_rows_with_eof(void **state)
{
    struct mvp_reply r;
    struct evbuffer *evb = evbuffer_new();
    struct pk pks[16];
    uint8_t *w;
    size_t len, n;
    const uint8_t *p;
    const uint8_t *s;
    size_t sl;
    int next;

    (void)state;
    make_rows_reply(&r);
    next = px_mysql_encode_reply(&r, PX_CLIENT_PROTOCOL_41, PX_SERVER_STATUS_AUTOCOMMIT |
                                 PX_SERVER_MORE_RESULTS_EXISTS, 1, evb);
    w = drain_all(evb, &len);
    n = split_packets(w, len, pks, 16);
    /* count, 2 coldefs, EOF, 2 rows, EOF */
    assert_int_equal(n, 7);
    assert_int_equal(next, 8);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(pks[i].seq, i + 1);
    }
    assert_int_equal(pks[0].len, 1);
    assert_int_equal(w[pks[0].off], 2);
    /* Column 1: catalog "def", name "id", LONGLONG. */
    p = w + pks[1].off;
    assert_int_equal(px_mysql_get_lenenc_str(&p, p + pks[1].len, &s, &sl, NULL), PX_OK);
    assert_memory_equal(s, "def", 3);
    for (int k = 0; k < 3; k++) {
        assert_int_equal(px_mysql_get_lenenc_str(&p, w + pks[1].off + pks[1].len, &s, &sl, NULL),
                         PX_OK);
    }
    assert_int_equal(px_mysql_get_lenenc_str(&p, w + pks[1].off + pks[1].len, &s, &sl, NULL),
                     PX_OK);
    assert_int_equal(sl, 2);
    assert_memory_equal(s, "id", 2);
    assert_int_equal(px_mysql_get_lenenc_str(&p, w + pks[1].off + pks[1].len, &s, &sl, NULL),
                     PX_OK);
    assert_int_equal(p[0], 0x0c);
    assert_int_equal(px_mysql_u16(p + 1), PX_CHARSET_BINARY);
    assert_int_equal(p[7], PX_TYPE_LONGLONG);
    /* Column 2 is a utf8mb4 VAR_STRING. */
    assert_int_equal(w[pks[2].off + pks[2].len - 6], PX_TYPE_VAR_STRING);
    /* EOF after the column definitions; MORE_RESULTS is never set. */
    assert_int_equal(pks[3].len, 5);
    assert_memory_equal(w + pks[3].off, "\xfe\x00\x00\x02\x00", 5);
    assert_int_equal(pks[4].len, 6);
    assert_memory_equal(w + pks[4].off, "\x01" "1\x03" "abc", 6);
    assert_int_equal(pks[5].len, 4);
    assert_memory_equal(w + pks[5].off, "\x02" "22\xfb", 4);
    assert_memory_equal(w + pks[6].off, "\xfe\x00\x00\x02\x00", 5);
    free(w);
    mvp_reply_clear(&r);
    evbuffer_free(evb);
}

static void
test_encode_rows_deprecate_eof(void **state)
{
    struct mvp_reply r;
    struct evbuffer *evb = evbuffer_new();
    struct pk pks[16];
    uint8_t *w;
    size_t len, n;
    int next;

    (void)state;
    make_rows_reply(&r);
    next = px_mysql_encode_reply(&r, PX_CLIENT_PROTOCOL_41 | PX_CLIENT_DEPRECATE_EOF,
                                 PX_SERVER_STATUS_AUTOCOMMIT, 1, evb);
    w = drain_all(evb, &len);
    n = split_packets(w, len, pks, 16);
    /* count, 2 coldefs, 2 rows, OK(0xFE) */
    assert_int_equal(n, 6);
    assert_int_equal(next, 7);
    assert_int_equal(w[pks[3].off], 0x01); /* first row right after the coldefs */
    assert_int_equal(pks[5].len, 7);
    assert_memory_equal(w + pks[5].off, "\xfe\x00\x00\x02\x00\x00\x00", 7);
    free(w);
    mvp_reply_clear(&r);
    evbuffer_free(evb);
}

static void
test_encode_ok_err(void **state)
{
    struct mvp_reply r;
    struct evbuffer *evb = evbuffer_new();
    uint8_t *w;
    size_t len;

    (void)state;
    mvp_reply_init(&r);
    mvp_reply_ok(&r, 5, NULL);
    assert_int_equal(px_mysql_encode_reply(&r, PX_CLIENT_PROTOCOL_41, 0x0003, 1, evb), 2);
    w = drain_all(evb, &len);
    assert_int_equal(len, 11);
    assert_memory_equal(w, "\x07\x00\x00\x01\x00\x05\x00\x03\x00\x00\x00", 11);
    free(w);
    mvp_reply_clear(&r);
    mvp_reply_err(&r, 1050, "42S01", "view %s exists", "v1");
    assert_int_equal(px_mysql_encode_reply(&r, PX_CLIENT_PROTOCOL_41, 0, 4, evb), 5);
    w = drain_all(evb, &len);
    assert_int_equal(w[3], 4);
    assert_int_equal(w[4], 0xff);
    assert_int_equal(px_mysql_u16(w + 5), 1050);
    assert_memory_equal(w + 7, "#42S01view v1 exists", 20);
    free(w);
    mvp_reply_clear(&r);
    evbuffer_free(evb);
}

/* A MariaDB 10.11-like greeting: caps lower 0xf7fe, upper 0x81ff, ext caps 0x1d. */
static size_t
make_greeting(uint8_t *g)
{
    size_t n = 0;
    const char *ver = "5.5.5-10.11.6-MariaDB";

    g[n++] = 10;
    memcpy(g + n, ver, strlen(ver) + 1);
    n += strlen(ver) + 1;
    memcpy(g + n, "\x2a\x00\x00\x00", 4); /* conn id 42 */
    n += 4;
    memcpy(g + n, "12345678", 8);
    n += 8;
    g[n++] = 0;
    g[n++] = 0xfe; /* caps lower: LONG_PASSWORD (bit 0) clear = MariaDB ext caps */
    g[n++] = 0xff; /* includes SSL (0x0800) and COMPRESS (0x0020) */
    g[n++] = 45;   /* charset */
    g[n++] = 0x02; /* status */
    g[n++] = 0x00;
    g[n++] = 0xff; /* caps upper */
    g[n++] = 0x81;
    g[n++] = 21;   /* auth data length */
    memset(g + n, 0, 6);
    n += 6;
    memcpy(g + n, "\x1d\x00\x00\x00", 4); /* ext caps */
    n += 4;
    memcpy(g + n, "abcdefghijkl", 13);
    n += 13;
    memcpy(g + n, "mysql_native_password", 22);
    n += 22;
    return n;
}

static void
test_handshake_parse_and_edit(void **state)
{
    uint8_t g[256], orig[256];
    size_t n = make_greeting(g);
    struct px_handshake hs, hs2;

    (void)state;
    memcpy(orig, g, n);
    assert_int_equal(px_mysql_parse_handshake(g, n, &hs), PX_OK);
    assert_string_equal(hs.server_version, "5.5.5-10.11.6-MariaDB");
    assert_int_equal(hs.conn_id, 42);
    assert_int_equal(hs.caps, 0x81fffffe);
    assert_true(hs.caps & PX_CLIENT_SSL);
    assert_true(hs.has_ext_caps);
    assert_int_equal(hs.ext_caps, 0x1d);
    assert_int_equal(hs.charset, 45);
    assert_int_equal(hs.status, 2);
    px_mysql_handshake_clear_caps(g, n, &hs, PX_CAPS_CLEARED, PX_EXT_CAPS_CLEARED);
    assert_false(hs.caps & PX_CLIENT_SSL);
    assert_false(hs.caps & PX_CLIENT_COMPRESS);
    assert_true(hs.caps & PX_CLIENT_DEPRECATE_EOF);
    assert_true(hs.caps & PX_CLIENT_PLUGIN_AUTH);
    /* Reparse the edited bytes: the flags really changed on the wire. */
    assert_int_equal(px_mysql_parse_handshake(g, n, &hs2), PX_OK);
    assert_int_equal(hs2.caps, 0x81fff7de);
    assert_int_equal(hs2.ext_caps, PX_MARIADB_CLIENT_STMT_BULK_OPERATIONS);
    /* Nothing else moved. */
    for (size_t i = 0; i < n; i++) {
        if (i != hs.caps_lo_off && i != hs.caps_lo_off + 1 && i != hs.ext_caps_off) {
            assert_int_equal(g[i], orig[i]);
        }
    }
    /* ERR instead of a greeting. */
    assert_int_equal(px_mysql_parse_handshake((const uint8_t *)"\xff\x10\x04", 3, &hs), PX_ERR);
}

/* Build a HandshakeResponse41 for USER/DB with CAPS into B. */
static void
make_response(struct px_buf *b, uint32_t caps, const char *user, const char *db)
{
    uint8_t filler[23] = {0};

    px_buf_put_u32(b, caps);
    px_buf_put_u32(b, 16u << 20);
    px_buf_put_u8(b, 45);
    px_buf_put(b, filler, 23);
    px_buf_put(b, user, strlen(user) + 1);
    if (caps & PX_CLIENT_PLUGIN_AUTH_LENENC_DATA) {
        px_buf_put_lenenc_str(b, "01234567890123456789", 20);
    } else {
        px_buf_put_u8(b, 20);
        px_buf_put(b, "01234567890123456789", 20);
    }
    if (caps & PX_CLIENT_CONNECT_WITH_DB) {
        px_buf_put(b, db, strlen(db) + 1);
    }
    if (caps & PX_CLIENT_PLUGIN_AUTH) {
        px_buf_put(b, "mysql_native_password", 22);
    }
    if (caps & PX_CLIENT_CONNECT_ATTRS) {
        px_buf_put_lenenc(b, 6);
        px_buf_put_lenenc_str(b, "_os", 3);
        px_buf_put_lenenc_str(b, "Li", 2);
    }
}

/* CLIENT_SSL put back into a greeting after PX_CAPS_CLEARED, and set/cleared in a response. */
static void
test_ssl_caps_edit(void **state)
{
    uint8_t g[256], resp[40];
    size_t n = make_greeting(g);
    struct px_handshake hs, hs2;

    (void)state;
    assert_int_equal(px_mysql_parse_handshake(g, n, &hs), PX_OK);
    px_mysql_handshake_clear_caps(g, n, &hs, PX_CAPS_CLEARED, PX_EXT_CAPS_CLEARED);
    assert_false(hs.caps & PX_CLIENT_SSL);
    px_mysql_handshake_set_caps(g, n, &hs, PX_CLIENT_SSL);
    assert_true(hs.caps & PX_CLIENT_SSL);
    assert_int_equal(px_mysql_parse_handshake(g, n, &hs2), PX_OK);
    assert_int_equal(hs2.caps, hs.caps);
    assert_false(hs2.caps & PX_CLIENT_COMPRESS);
    assert_int_equal(hs2.ext_caps, hs.ext_caps);

    memset(resp, 0, sizeof(resp));
    resp[0] = 0x05;
    resp[1] = 0xa2; /* PROTOCOL_41 | SECURE_CONNECTION | INTERACTIVE (0x0200, 0x8000, 0x0400) */
    resp[2] = 0x0a;
    px_mysql_resp_set_ssl(resp, sizeof(resp), true);
    assert_int_equal(px_mysql_u32(resp), 0x000aaa05u);
    px_mysql_resp_set_ssl(resp, sizeof(resp), false);
    assert_int_equal(px_mysql_u32(resp), 0x000aa205u);
    px_mysql_resp_set_ssl(resp, 3, true); /* too short: untouched */
    assert_int_equal(px_mysql_u32(resp), 0x000aa205u);
}

static void
test_handshake_response(void **state)
{
    struct px_buf b;
    struct px_handshake_resp r;
    uint32_t base = PX_CLIENT_PROTOCOL_41 | PX_CLIENT_SECURE_CONNECTION | PX_CLIENT_PLUGIN_AUTH;

    (void)state;
    px_buf_init(&b);
    make_response(&b, base | PX_CLIENT_CONNECT_WITH_DB | PX_CLIENT_CONNECT_ATTRS |
                          PX_CLIENT_PLUGIN_AUTH_LENENC_DATA | PX_CLIENT_DEPRECATE_EOF,
                  "alice", "sales");
    memset(&r, 0, sizeof(r));
    assert_int_equal(px_mysql_parse_handshake_resp(b.data, b.len, &r), PX_OK);
    assert_string_equal(r.user, "alice");
    assert_string_equal(r.db, "sales");
    assert_string_equal(r.auth_plugin, "mysql_native_password");
    assert_true(r.caps & PX_CLIENT_DEPRECATE_EOF);
    assert_int_equal(r.charset, 45);
    assert_int_equal(r.max_packet, 16u << 20);
    assert_false(r.ssl_request);
    px_mysql_handshake_resp_free(&r);
    b.len = 0;
    make_response(&b, base, "bob", NULL);
    memset(&r, 0, sizeof(r));
    assert_int_equal(px_mysql_parse_handshake_resp(b.data, b.len, &r), PX_OK);
    assert_string_equal(r.user, "bob");
    assert_null(r.db);
    px_mysql_handshake_resp_free(&r);
    /* SSLRequest: just the 32-byte prefix with CLIENT_SSL. */
    b.len = 0;
    make_response(&b, base | PX_CLIENT_SSL, "x", NULL);
    memset(&r, 0, sizeof(r));
    assert_int_equal(px_mysql_parse_handshake_resp(b.data, 32, &r), PX_OK);
    assert_true(r.ssl_request);
    assert_null(r.user);
    px_mysql_handshake_resp_free(&r);
    /* Truncated user name. */
    memset(&r, 0, sizeof(r));
    assert_int_equal(px_mysql_parse_handshake_resp(b.data, 33, &r), PX_ERR);
    px_mysql_handshake_resp_free(&r);
    /* Pre-4.1 clients are refused. */
    b.len = 0;
    make_response(&b, PX_CLIENT_SECURE_CONNECTION, "old", NULL);
    memset(&r, 0, sizeof(r));
    assert_int_equal(px_mysql_parse_handshake_resp(b.data, b.len, &r), PX_ERR);
    px_mysql_handshake_resp_free(&r);
    px_buf_free(&b);
}

static void
test_change_user(void **state)
{
    struct px_buf b;
    char *u = NULL, *d = NULL;

    (void)state;
    px_buf_init(&b);
    px_buf_put_u8(&b, PX_COM_CHANGE_USER);
    px_buf_put(&b, "carol", 6);
    px_buf_put_u8(&b, 3);
    px_buf_put(&b, "xyz", 3);
    px_buf_put(&b, "dw", 3);
    px_buf_put_u16(&b, 45);
    px_buf_put(&b, "mysql_native_password", 22);
    assert_int_equal(px_mysql_parse_change_user(b.data, b.len, PX_CLIENT_SECURE_CONNECTION, &u,
                                                &d), PX_OK);
    assert_string_equal(u, "carol");
    assert_string_equal(d, "dw");
    free(u);
    free(d);
    assert_int_equal(px_mysql_parse_change_user(b.data, 4, PX_CLIENT_SECURE_CONNECTION, &u, &d),
                     PX_ERR);
    px_buf_free(&b);
}

static void
test_parse_use(void **state)
{
    struct {
        const char *sql;
        const char *db;
    } cases[] = {
        {"USE sales", "sales"},
        {"  use `my db`;  ", "my db"},
        {"/* hi */ USE\n`a``b`", "a`b"},
        {"-- c\nuse d1 ;", "d1"},
        {"# c\nUSE d_2$x", "d_2$x"},
        {"USER()", NULL},
        {"SELECT 1", NULL},
        {"USE a; SELECT 1", NULL},
        {"USE", NULL},
        {"use `unterminated", NULL},
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *db = px_mysql_parse_use(cases[i].sql, strlen(cases[i].sql));
        if (cases[i].db == NULL) {
            assert_null(db);
        } else {
            assert_non_null(db);
            assert_string_equal(db, cases[i].db);
        }
        free(db);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lenenc_roundtrip),
        cmocka_unit_test(test_lenenc_markers),
        cmocka_unit_test(test_write_packet_small_and_chain),
        cmocka_unit_test(test_take_payload_split_header),
        cmocka_unit_test(test_take_payload_chain),
        cmocka_unit_test(test_ok_packet),
        cmocka_unit_test(test_err_and_eof_packets),
        cmocka_unit_test(test_encode_rows_with_eof),
        cmocka_unit_test(test_encode_rows_deprecate_eof),
        cmocka_unit_test(test_encode_ok_err),
        cmocka_unit_test(test_handshake_parse_and_edit),
        cmocka_unit_test(test_ssl_caps_edit),
        cmocka_unit_test(test_handshake_response),
        cmocka_unit_test(test_change_user),
        cmocka_unit_test(test_parse_use),
        cmocka_unit_test(test_ok_session_state),
        cmocka_unit_test(test_handshake_resp_add_caps),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
