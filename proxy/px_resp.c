/*
 * px_resp.c - reading the backend's responses: where the response to the
 * command in flight ends (relay mode, px_resp_step: the packets themselves
 * are streamed to the client by px_session.c), and collecting a whole
 * response into a struct mvp_reply (collect mode, coll_packet: the SQL an
 * admin job runs as the client, px_admin_exec.c).
 *
 * Follows the MariaDB client/server protocol pages ("COM_QUERY Response",
 * "COM_STMT_PREPARE", "Result Set Packets", "OK_Packet", "EOF_Packet").
 */
#include "px_resp.h"

#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "px_log.h"

/* ---- response tracking ----------------------------------------------- */

/* px_resp_step for a COM_STMT_PREPARE response: OK-prepare, then its
 * parameter and column definitions (each followed by EOF without
 * DEPRECATE_EOF). */
static bool
resp_step_prepare(struct px_session *s, uint8_t b0, const uint8_t *pk, size_t pklen, bool dep)
{
    switch (s->phase) {
    case PH_FIRST:
        if (b0 != 0x00 || pklen < 9) {
            return true;
        }
        s->prep_id = px_mysql_u32(pk + 1);
        s->prep_cols = px_mysql_u16(pk + 5);
        s->params_left = px_mysql_u16(pk + 7);
        s->prep_params = s->params_left;
        s->cols_left = s->prep_cols;
        s->resp_ok = true;
        if (s->params_left > 0) {
            s->phase = PH_PARAMS;
            return false;
        }
        if (s->cols_left > 0) {
            s->phase = PH_PCOLS;
            return false;
        }
        return true;
    case PH_PARAMS:
        if (--s->params_left > 0) {
            return false;
        }
        if (!dep) {
            s->phase = PH_PARAMS_EOF;
            return false;
        }
        /* fall through */
    case PH_PARAMS_EOF:
        if (s->cols_left > 0) {
            s->phase = PH_PCOLS;
            return false;
        }
        return true;
    case PH_PCOLS:
        if (--s->cols_left > 0) {
            return false;
        }
        if (!dep) {
            s->phase = PH_PCOLS_EOF;
            return false;
        }
        return true;
    case PH_PCOLS_EOF:
        return true;
    default:
        return true;
    }
}

/* px_resp_step for a result-set response (COM_QUERY, COM_STMT_EXECUTE,
 * COM_STMT_FETCH): OK | LOCAL INFILE | column count, column definitions,
 * rows, chained by SERVER_MORE_RESULTS_EXISTS. */
static bool
resp_step_result(struct px_session *s, uint8_t b0, const uint8_t *pk, size_t pklen, bool dep,
                 bool is_final)
{
    uint16_t st;
    uint64_t n;
    const uint8_t *q;

    switch (s->phase) {
    case PH_FIRST:
    case PH_INFILE:
        s->phase = PH_FIRST;
        if (b0 == 0x00) {
            s->resp_ok = true;
            if (px_mysql_ok_eof_status(pk, pklen, dep, &st) == PX_OK) {
                s->status = st;
                if (st & PX_SERVER_MORE_RESULTS_EXISTS) {
                    return false;
                }
            }
            return true;
        }
        if (b0 == 0xfb && s->cmd == PX_COM_QUERY) {
            s->phase = PH_INFILE;
            if (s->cl != NULL) {
                bufferevent_enable(s->cl, EV_READ);
            }
            return false;
        }
        q = pk;
        if (px_mysql_get_lenenc(&q, pk + pklen, &n, NULL) != PX_OK || n == 0) {
            return true;
        }
        s->cols_left = n;
        s->phase = PH_COLDEFS;
        return false;
    case PH_COLDEFS:
        if (--s->cols_left > 0) {
            return false;
        }
        s->phase = dep ? PH_ROWS : PH_COLDEFS_EOF;
        return false;
    case PH_COLDEFS_EOF:
        if (px_mysql_ok_eof_status(pk, pklen, false, &st) == PX_OK) {
            s->status = st;
            if ((st & PX_SERVER_STATUS_CURSOR_EXISTS) && s->cmd == PX_COM_STMT_EXECUTE) {
                /* Rows come later with COM_STMT_FETCH. */
                s->resp_ok = true;
                return true;
            }
        }
        s->phase = PH_ROWS;
        return false;
    case PH_ROWS:
        if (is_final) {
            s->resp_ok = true;
            if (px_mysql_ok_eof_status(pk, pklen, dep, &st) == PX_OK) {
                s->status = st;
                if ((st & PX_SERVER_MORE_RESULTS_EXISTS) && s->rkind == RK_RESULTSET) {
                    s->phase = PH_FIRST;
                    return false;
                }
            }
            return true;
        }
        return false;
    default:
        return true;
    }
}

/*
 * Advance the response state machine over one logical backend packet: LEN
 * is its payload length, PK its first min(LEN, PEEK_MAX) bytes (PKLEN).
 * Returns true when this packet ends the command's response.
 */
bool
px_resp_step(struct px_session *s, uint32_t len, const uint8_t *pk, size_t pklen)
{
    bool dep = (s->caps & PX_CLIENT_DEPRECATE_EOF) != 0;
    bool is_final = len > 0 && len < PX_PKT_MAX && pk[0] == 0xfe; /* EOF or OK(0xFE) */
    uint8_t b0 = len > 0 ? pk[0] : 0;
    uint16_t st;

    if (len == 0) {
        /* Not a valid response packet anywhere we track; treat it as the end. */
        return s->phase == PH_FIRST;
    }
    if (s->rkind == RK_ONE) {
        s->resp_ok = b0 == 0x00;
        if (b0 == 0x00 && px_mysql_ok_eof_status(pk, pklen, dep, &st) == PX_OK) {
            s->status = st;
        }
        return true;
    }
    if (b0 == 0xff && (s->phase == PH_FIRST || s->phase == PH_ROWS || s->phase == PH_INFILE ||
                       s->rkind == RK_FIELD_LIST)) {
        s->resp_ok = false;
        return true;
    }
    switch (s->rkind) {
    case RK_FIELD_LIST:
        if (is_final) {
            if (px_mysql_ok_eof_status(pk, pklen, dep, &st) == PX_OK) {
                s->status = st;
            }
            s->resp_ok = true;
            return true;
        }
        return false;
    case RK_PREPARE:
        return resp_step_prepare(s, b0, pk, pklen, dep);
    case RK_RESULTSET:
    case RK_FETCH:
        return resp_step_result(s, b0, pk, pklen, dep, is_final);
    case RK_ONE:
        return true;
    }
    return true;
}

/* ---- collect mode: a response into a struct mvp_reply ---------------- */

void
px_resp_coll_reset(struct collect *c)
{
    size_t i;

    for (i = 0; c->names != NULL && i < c->n_cols; i++) {
        free(c->names[i]);
    }
    free(c->names);
    free(c->types);
    c->names = NULL;
    c->types = NULL;
    c->n_cols = 0;
    c->got_cols = 0;
    c->phase = PH_FIRST;
}

/* Map a MySQL column type byte to the reply's column type. */
static enum mvp_col_type
col_type(uint8_t t)
{
    switch (t) {
    case 0x01: /* TINY */
    case 0x02: /* SHORT */
    case 0x03: /* LONG */
    case 0x08: /* LONGLONG */
    case 0x09: /* INT24 */
    case 0x0d: /* YEAR */
        return MVP_COL_INT;
    default:
        return MVP_COL_STRING;
    }
}

/* Copy N bytes at P into a new NUL-terminated string. */
char *
px_resp_dup_bytes(const uint8_t *p, size_t n)
{
    char *s = malloc(n + 1);

    if (s == NULL) {
        px_fatal("out of memory");
    }
    memcpy(s, p, n);
    s[n] = '\0';
    return s;
}

/* Parse an ERR payload P/LEN into REPLY. */
static void
coll_err(struct mvp_reply *reply, const uint8_t *p, size_t len)
{
    uint16_t code = len >= 3 ? px_mysql_u16(p + 1) : ER_UNKNOWN_ERROR;
    char state[6] = "HY000";
    size_t off = 3;
    char *msg;

    if (len >= 9 && p[3] == '#') {
        memcpy(state, p + 4, 5);
        off = 9;
    }
    msg = px_resp_dup_bytes(p + (off < len ? off : len), off < len ? len - off : 0);
    mvp_reply_clear(reply);
    mvp_reply_err(reply, code, state, "%s", msg);
    free(msg);
}

/*
 * Feed one logical payload P/LEN of the exec response into S's collector.
 * Returns true when the response ended.
 */
bool
px_resp_coll_packet(struct px_session *s, const uint8_t *p, size_t len)
{
    struct collect *c = &s->coll;
    struct mvp_reply *reply = s->exec_cur->reply;
    bool dep = (s->caps & PX_CLIENT_DEPRECATE_EOF) != 0;
    const uint8_t *q = p, *end = p + len, *str;
    uint64_t n, affected, insert_id;
    uint16_t st = 0;
    size_t i, sl;
    bool is_null;

    if (len == 0) {
        return c->phase == PH_FIRST;
    }
    if (p[0] == 0xff && c->phase != PH_COLDEFS) {
        coll_err(reply, p, len);
        c->have_result = true;
        return true;
    }
    switch (c->phase) {
    case PH_FIRST:
        if (p[0] == 0x00) {
            q = p + 1;
            if (px_mysql_get_lenenc(&q, end, &affected, NULL) != PX_OK ||
                px_mysql_get_lenenc(&q, end, &insert_id, NULL) != PX_OK || end - q < 4) {
                mvp_reply_clear(reply);
                mvp_reply_err(reply, ER_UNKNOWN_ERROR, "HY000", "malformed OK from backend");
                return true;
            }
            st = px_mysql_u16(q);
            s->status = st;
            q += 4;
            if (!c->have_result) {
                char *info = NULL;
                if (s->bk_caps & PX_CLIENT_SESSION_TRACK) {
                    if (q < end && px_mysql_get_lenenc_str(&q, end, &str, &sl, NULL) == PX_OK) {
                        info = px_resp_dup_bytes(str, sl);
                    }
                } else if (q < end) {
                    info = px_resp_dup_bytes(q, (size_t)(end - q));
                }
                mvp_reply_clear(reply);
                mvp_reply_ok(reply, affected, info != NULL && info[0] ? info : NULL);
                free(info);
            }
            return !(st & PX_SERVER_MORE_RESULTS_EXISTS);
        }
        if (p[0] == 0xfb) {
            /* LOCAL INFILE: the proxy has no file to give; an empty packet ends it. */
            uint8_t seq = 2;
            px_mysql_write_packet(bufferevent_get_output(s->bk), &seq, NULL, 0);
            return false;
        }
        q = p;
        if (px_mysql_get_lenenc(&q, end, &n, NULL) != PX_OK || n == 0 || n > 4096) {
            mvp_reply_clear(reply);
            mvp_reply_err(reply, ER_UNKNOWN_ERROR, "HY000", "malformed result set from backend");
            return true;
        }
        px_resp_coll_reset(c);
        c->n_cols = (size_t)n;
        c->names = calloc(n, sizeof(*c->names));
        c->types = calloc(n, sizeof(*c->types));
        if (c->names == NULL || c->types == NULL) {
            px_fatal("out of memory");
        }
        c->keep = !c->have_result;
        c->phase = PH_COLDEFS;
        return false;
    case PH_COLDEFS:
        /* catalog, schema, table, org_table, name, org_name, 0x0c, charset, length, type */
        for (i = 0; i < 6; i++) {
            if (px_mysql_get_lenenc_str(&q, end, &str, &sl, NULL) != PX_OK) {
                str = NULL;
                break;
            }
            if (i == 4) {
                c->names[c->got_cols] = px_resp_dup_bytes(str, sl);
            }
        }
        if (c->names[c->got_cols] == NULL) {
            c->names[c->got_cols] = px_resp_dup_bytes((const uint8_t *)"?", 1);
        }
        if (str != NULL && end - q >= 8) {
            c->types[c->got_cols] = col_type(q[7]);
        }
        if (++c->got_cols < c->n_cols) {
            return false;
        }
        if (c->keep) {
            mvp_reply_clear(reply);
            mvp_reply_rows(reply, c->n_cols, (const char *const *)c->names, c->types);
            c->have_result = true;
        }
        c->phase = dep ? PH_ROWS : PH_COLDEFS_EOF;
        return false;
    case PH_COLDEFS_EOF:
        c->phase = PH_ROWS;
        return false;
    case PH_ROWS:
        if (p[0] == 0xfe && len < PX_PKT_MAX) {
            if (px_mysql_ok_eof_status(p, len, dep, &st) == PX_OK) {
                s->status = st;
            }
            px_resp_coll_reset(c);
            if (st & PX_SERVER_MORE_RESULTS_EXISTS) {
                return false;
            }
            return true;
        }
        if (c->keep) {
            char **vals = calloc(c->n_cols, sizeof(*vals));
            if (vals == NULL) {
                px_fatal("out of memory");
            }
            for (i = 0; i < c->n_cols; i++) {
                if (px_mysql_get_lenenc_str(&q, end, &str, &sl, &is_null) != PX_OK) {
                    break;
                }
                vals[i] = is_null ? NULL : px_resp_dup_bytes(str, sl);
            }
            mvp_reply_add_row(reply, (const char *const *)vals);
            for (i = 0; i < c->n_cols; i++) {
                free(vals[i]);
            }
            free(vals);
        }
        return false;
    default:
        return true;
    }
}
