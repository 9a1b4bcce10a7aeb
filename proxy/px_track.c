/*
 * px_track.c - the session's sql_mode, followed through the backend's session
 * state tracking (see px_track.h). Part of the session module.
 */
#include "px_track.h"

#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "cat_util.h"
#include "px_log.h"
#include "px_resp.h"
#include "px_session_internal.h"
#include "rw_sqlmode.h"

/*
 * The tracking statement: sql_mode joins whatever the session tracks
 * ('*' and a list that has it already stay as they are; an empty list
 * becomes just sql_mode), and setting sql_mode to itself makes the OK report
 * its current value (MariaDB reports a tracked variable on every SET).
 */
static const char ARM_SQL[] =
    "SET SESSION session_track_system_variables = "
    "IF(@@session.session_track_system_variables = '*' OR "
    "FIND_IN_SET('sql_mode', @@session.session_track_system_variables), "
    "@@session.session_track_system_variables, "
    "CONCAT_WS(',', NULLIF(@@session.session_track_system_variables, ''), 'sql_mode')), "
    "SESSION sql_mode = @@session.sql_mode";

#define ARM_REPLY_MAX (1u << 20) /* the tracking statement's OK: bytes */

void
px_track_handshake(struct px_session *s, uint8_t *p, size_t len)
{
    uint32_t caps;

    s->bk_caps = s->caps;
    s->track_added = false;
    if ((s->server_caps & PX_CLIENT_SESSION_TRACK) && !(s->caps & PX_CLIENT_SESSION_TRACK)) {
        caps = px_mysql_handshake_resp_add_caps(p, len, PX_CLIENT_SESSION_TRACK);
        if (caps != 0) {
            s->bk_caps = s->caps | PX_CLIENT_SESSION_TRACK;
            s->track_added = true;
        }
    }
}

/* The backend reported sql_mode = V (N bytes). */
static void
set_mode(struct px_session *s, const uint8_t *v, size_t n)
{
    char *text = malloc(n + 1);

    if (text == NULL) {
        s->mode_known = false;
        return;
    }
    memcpy(text, v, n);
    text[n] = '\0';
    free(s->sql_mode_text);
    s->sql_mode_text = text;
    s->sql_mode = rw_sql_mode_parse(text, n);
    s->mode_known = true;
    px_log_debug("S-%llu: sql_mode '%s' (flags 0x%08x)", (unsigned long long)s->id, text,
                 s->sql_mode);
}

/* Learn sql_mode from OK's session state changes; true when they had it. */
static bool
learn_mode(struct px_session *s, const struct px_ok *ok)
{
    const uint8_t *v;
    size_t vl;

    if (ok->state == NULL || !px_mysql_state_sysvar(ok->state, ok->state_len, "sql_mode", &v, &vl)) {
        return false;
    }
    set_mode(s, v, vl);
    return true;
}

void
px_track_arm(struct px_session *s)
{
    struct px_buf pl;

    s->rearm = false;
    s->mode_known = false;
    if (!(s->bk_caps & PX_CLIENT_SESSION_TRACK) || s->bk == NULL || s->bk_lost) {
        return; /* no tracking: the mode stays unknown, nothing is rewritten */
    }
    px_buf_init(&pl);
    px_buf_put_u8(&pl, PX_COM_QUERY);
    px_buf_put(&pl, ARM_SQL, sizeof(ARM_SQL) - 1);
    px_session_send_command(s, pl.data, pl.len);
    px_buf_free(&pl);
    s->arming = true;
}

int
px_track_arm_packet(struct px_session *s)
{
    struct evbuffer *in = bufferevent_get_input(s->bk);
    struct px_ok ok;
    struct px_buf pl;
    uint8_t seq;
    int rc;

    px_buf_init(&pl);
    rc = px_mysql_take_payload(in, ARM_REPLY_MAX, &pl, &seq);
    if (rc == PX_AGAIN) {
        px_buf_free(&pl);
        return PX_AGAIN;
    }
    if (!(rc == PX_OK && pl.len > 0 && pl.data[0] == 0x00 &&
          px_mysql_parse_ok(pl.data, pl.len, true, &ok) == PX_OK && learn_mode(s, &ok))) {
        if (rc != PX_OK) {
            evbuffer_drain(in, evbuffer_get_length(in)); /* cannot resynchronise */
        }
        px_log_warn("S-%llu: the backend did not report sql_mode (%s); this session's queries "
                    "are relayed without rewrite",
                    (unsigned long long)s->id,
                    rc != PX_OK ? "oversized reply"
                    : pl.len > 0 && pl.data[0] == 0xff ? "ERR"
                                                       : "no session state");
    }
    px_buf_free(&pl);
    s->arming = false;
    if (s->state == PX_SS_IDLE && s->cl != NULL &&
        evbuffer_get_length(bufferevent_get_input(s->cl)) > 0) {
        px_session_cl_process(s);
    }
    return PX_OK;
}

/* Is an OK_Packet possible at this point of the response, with first byte B0? */
static bool
at_ok(const struct px_session *s, uint8_t b0)
{
    bool dep = (s->caps & PX_CLIENT_DEPRECATE_EOF) != 0;

    if (s->state == PX_SS_AUTH) {
        return b0 == 0x00;
    }
    switch (s->rkind) {
    case RK_ONE:
        return b0 == 0x00;
    case RK_RESULTSET:
    case RK_FETCH:
        return (b0 == 0x00 && (s->phase == PH_FIRST || s->phase == PH_INFILE)) ||
               (b0 == 0xfe && dep && s->phase == PH_ROWS);
    default:
        return false; /* PREPARE-OK, field lists: not OK packets */
    }
}

int
px_track_ok_packet(struct px_session *s, uint8_t *hdr, uint32_t len, size_t pk)
{
    struct evbuffer *in = bufferevent_get_input(s->bk);
    const uint8_t *q, *end;
    uint64_t n;
    struct px_ok ok;
    struct px_buf pl, outb;
    size_t fixed;
    uint16_t st;
    uint8_t seq;
    bool convert;

    if (len == 0 || len >= PX_PKT_MAX || !at_ok(s, hdr[4]) ||
        !(s->bk_caps & PX_CLIENT_SESSION_TRACK)) {
        return PX_TRACK_PASS;
    }
    q = hdr + 5;
    end = hdr + 4 + pk;
    if (px_mysql_get_lenenc(&q, end, &n, NULL) != PX_OK ||
        px_mysql_get_lenenc(&q, end, &n, NULL) != PX_OK || end - q < 4) {
        return PX_TRACK_PASS; /* malformed or longer than the peek: relay as it is */
    }
    st = px_mysql_u16(q);
    fixed = (size_t)(q - (hdr + 4)) + 4;
    convert = s->track_added && len > fixed;
    if (!(st & PX_SERVER_SESSION_STATE_CHANGED) && !convert) {
        return PX_TRACK_PASS;
    }
    if (evbuffer_get_length(in) < PX_PKT_HDR_LEN + (size_t)len) {
        return PX_AGAIN;
    }
    px_buf_init(&pl);
    px_buf_reserve(&pl, len);
    evbuffer_drain(in, PX_PKT_HDR_LEN);
    evbuffer_remove(in, pl.data, len);
    pl.len = len;
    px_buf_init(&outb);
    if (px_mysql_parse_ok(pl.data, pl.len, true, &ok) == PX_OK) {
        learn_mode(s, &ok);
        if (s->track_added) {
            px_mysql_build_ok_untracked(&outb, &ok);
        }
    } else {
        convert = false; /* not understood: the client gets it as it came */
    }
    if (s->state == PX_SS_AUTH) {
        s->status = st;
        s->bk_after = AFTER_AUTH_OK;
    } else if (px_resp_step(s, len, pl.data, len)) {
        s->bk_after = AFTER_RESP_END;
    }
    if (s->cl != NULL && !s->cl_closing) {
        seq = (uint8_t)(hdr[3] + s->seq_delta);
        if (outb.len > 0) {
            px_mysql_write_packet(bufferevent_get_output(s->cl), &seq, outb.data, outb.len);
        } else {
            px_mysql_write_packet(bufferevent_get_output(s->cl), &seq, pl.data, pl.len);
        }
        s->reply_seq = seq;
        s->resp_started = true;
    }
    px_buf_free(&outb);
    px_buf_free(&pl);
    s->bk_chain = false;
    px_session_bk_after(s);
    return PX_OK;
}

void
px_track_note_query(struct px_session *s, const char *sql, size_t len)
{
    if (cat_contains_ci(sql, len, "session_track") || cat_contains_ci(sql, len, "sql_mode")) {
        s->rearm = true;
    }
}

uint32_t
px_track_sql_mode(const struct px_session *s)
{
    return s->mode_known ? s->sql_mode : RW_MODE_UNSUPPORTED;
}

void
px_track_free(struct px_session *s)
{
    free(s->sql_mode_text);
    s->sql_mode_text = NULL;
    s->mode_known = false;
}
