/*
 * px_mysql.c - MySQL wire-protocol primitives (see px_mysql.h): framing,
 * length-encoded values, packet builders, the mvp_reply encoder and the
 * handshake parsers. Nothing here does I/O beyond appending to or reading
 * from an evbuffer; the session layer (px_session.c) owns the sockets.
 */
#include "px_mysql.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/buffer.h>

#include "px_log.h"

/* ---- px_buf ---------------------------------------------------------- */

void
px_buf_init(struct px_buf *b)
{
    memset(b, 0, sizeof(*b));
}

void
px_buf_free(struct px_buf *b)
{
    free(b->data);
    memset(b, 0, sizeof(*b));
}

void
px_buf_reserve(struct px_buf *b, size_t n)
{
    size_t want;
    uint8_t *p;

    if (b->cap - b->len >= n) {
        return;
    }
    want = b->cap ? b->cap : 256;
    while (want - b->len < n) {
        want *= 2;
    }
    p = realloc(b->data, want);
    if (p == NULL) {
        px_fatal("out of memory (%zu bytes)", want);
    }
    b->data = p;
    b->cap = want;
}

void
px_buf_put(struct px_buf *b, const void *p, size_t n)
{
    if (n == 0) {
        return;
    }
    px_buf_reserve(b, n);
    memcpy(b->data + b->len, p, n);
    b->len += n;
}

void
px_buf_put_u8(struct px_buf *b, uint8_t v)
{
    px_buf_put(b, &v, 1);
}

void
px_buf_put_u16(struct px_buf *b, uint16_t v)
{
    uint8_t x[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
    px_buf_put(b, x, 2);
}

void
px_buf_put_u32(struct px_buf *b, uint32_t v)
{
    uint8_t x[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    px_buf_put(b, x, 4);
}

size_t
px_mysql_lenenc_size(uint64_t v)
{
    if (v < 251) {
        return 1;
    }
    if (v < (1u << 16)) {
        return 3;
    }
    if (v < (1u << 24)) {
        return 4;
    }
    return 9;
}

void
px_buf_put_lenenc(struct px_buf *b, uint64_t v)
{
    uint8_t x[9];
    size_t n = px_mysql_lenenc_size(v);
    size_t i;

    switch (n) {
    case 1:
        x[0] = (uint8_t)v;
        break;
    case 3:
        x[0] = 0xfc;
        break;
    case 4:
        x[0] = 0xfd;
        break;
    default:
        x[0] = 0xfe;
        break;
    }
    for (i = 1; i < n; i++) {
        x[i] = (uint8_t)(v >> (8 * (i - 1)));
    }
    px_buf_put(b, x, n);
}

void
px_buf_put_lenenc_str(struct px_buf *b, const char *s, size_t n)
{
    px_buf_put_lenenc(b, n);
    px_buf_put(b, s, n);
}

/* ---- decoding -------------------------------------------------------- */

uint16_t
px_mysql_u16(const uint8_t *p)
{
    return (uint16_t)(p[0] | (p[1] << 8));
}

uint32_t
px_mysql_u24(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16);
}

uint32_t
px_mysql_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
           ((uint32_t)p[3] << 24);
}

int
px_mysql_get_lenenc(const uint8_t **p, const uint8_t *end, uint64_t *v, bool *is_null)
{
    const uint8_t *q = *p;
    size_t n, i;

    if (is_null != NULL) {
        *is_null = false;
    }
    if (q >= end) {
        return PX_ERR;
    }
    if (*q < 0xfb) {
        *v = *q;
        *p = q + 1;
        return PX_OK;
    }
    if (*q == 0xfb) {
        if (is_null != NULL) {
            *is_null = true;
        }
        *v = 0;
        *p = q + 1;
        return PX_OK;
    }
    if (*q == 0xfc) {
        n = 2;
    } else if (*q == 0xfd) {
        n = 3;
    } else if (*q == 0xfe) {
        n = 8;
    } else {
        return PX_ERR;
    }
    if ((size_t)(end - q) < n + 1) {
        return PX_ERR;
    }
    *v = 0;
    for (i = 0; i < n; i++) {
        *v |= (uint64_t)q[1 + i] << (8 * i);
    }
    *p = q + 1 + n;
    return PX_OK;
}

int
px_mysql_get_lenenc_str(const uint8_t **p, const uint8_t *end, const uint8_t **s, size_t *n,
                        bool *is_null)
{
    const uint8_t *q = *p;
    uint64_t v;
    bool nul;

    if (px_mysql_get_lenenc(&q, end, &v, &nul) != PX_OK) {
        return PX_ERR;
    }
    if (is_null != NULL) {
        *is_null = nul;
    }
    if (v > (uint64_t)(end - q)) {
        return PX_ERR;
    }
    *s = q;
    *n = (size_t)v;
    *p = q + v;
    return PX_OK;
}

/* ---- framing --------------------------------------------------------- */

int
px_mysql_peek_header(struct evbuffer *buf, uint32_t *len, uint8_t *seq)
{
    uint8_t h[PX_PKT_HDR_LEN];

    if (evbuffer_get_length(buf) < PX_PKT_HDR_LEN) {
        return PX_AGAIN;
    }
    if (evbuffer_copyout(buf, h, sizeof(h)) != (ev_ssize_t)sizeof(h)) {
        return PX_AGAIN;
    }
    *len = px_mysql_u24(h);
    *seq = h[3];
    return PX_OK;
}

int
px_mysql_take_payload(struct evbuffer *buf, size_t max, struct px_buf *out, uint8_t *seq)
{
    struct evbuffer_ptr pos;
    uint8_t h[PX_PKT_HDR_LEN];
    size_t avail = evbuffer_get_length(buf);
    size_t off = 0, total = 0, npk = 0;
    uint32_t len;
    uint8_t last_seq = 0;

    /* First pass: find the end of the chain without removing anything. */
    for (;;) {
        if (avail - off < PX_PKT_HDR_LEN) {
            return PX_AGAIN;
        }
        if (evbuffer_ptr_set(buf, &pos, off, EVBUFFER_PTR_SET) != 0 ||
            evbuffer_copyout_from(buf, &pos, h, sizeof(h)) != (ev_ssize_t)sizeof(h)) {
            return PX_AGAIN;
        }
        len = px_mysql_u24(h);
        last_seq = h[3];
        if (total + len > max) {
            return PX_ERR;
        }
        if (avail - off - PX_PKT_HDR_LEN < len) {
            return PX_AGAIN;
        }
        off += PX_PKT_HDR_LEN + len;
        total += len;
        npk++;
        if (len < PX_PKT_MAX) {
            break;
        }
    }
    /* Second pass: move the payloads out. */
    px_buf_reserve(out, total);
    while (npk-- > 0) {
        evbuffer_copyout(buf, h, sizeof(h));
        len = px_mysql_u24(h);
        evbuffer_drain(buf, PX_PKT_HDR_LEN);
        if (len > 0) {
            evbuffer_remove(buf, out->data + out->len, len);
            out->len += len;
        }
    }
    *seq = last_seq;
    return PX_OK;
}

int
px_mysql_write_packet(struct evbuffer *out, uint8_t *seq, const void *p, size_t len)
{
    const uint8_t *q = p;
    uint8_t h[PX_PKT_HDR_LEN];
    size_t chunk;

    for (;;) {
        chunk = len < PX_PKT_MAX ? len : PX_PKT_MAX;
        h[0] = (uint8_t)chunk;
        h[1] = (uint8_t)(chunk >> 8);
        h[2] = (uint8_t)(chunk >> 16);
        h[3] = (*seq)++;
        if (evbuffer_add(out, h, sizeof(h)) != 0 || (chunk > 0 && evbuffer_add(out, q, chunk) != 0)) {
            return PX_ERR;
        }
        q += chunk;
        len -= chunk;
        if (chunk < PX_PKT_MAX) {
            return PX_OK;
        }
    }
}

/* ---- builders -------------------------------------------------------- */

void
px_mysql_build_ok(struct px_buf *b, uint64_t affected, uint64_t insert_id, uint16_t status,
                  uint16_t warnings, const char *info, uint32_t caps, bool as_eof)
{
    size_t ilen = info != NULL ? strlen(info) : 0;

    px_buf_put_u8(b, as_eof ? 0xfe : 0x00);
    px_buf_put_lenenc(b, affected);
    px_buf_put_lenenc(b, insert_id);
    px_buf_put_u16(b, status);
    px_buf_put_u16(b, warnings);
    if (caps & PX_CLIENT_SESSION_TRACK) {
        /* Info is lenenc when session tracking is on; an empty info may be omitted. */
        if (ilen > 0) {
            px_buf_put_lenenc_str(b, info, ilen);
        }
    } else {
        px_buf_put(b, info, ilen);
    }
}

void
px_mysql_build_err(struct px_buf *b, uint16_t code, const char *sqlstate, const char *msg)
{
    char st[5] = {'H', 'Y', '0', '0', '0'};
    size_t i;

    if (code >= 2000 && code < 3000) {
        code = PX_ER_NET_READ_ERROR;
        sqlstate = "08S01";
    }
    for (i = 0; sqlstate != NULL && i < 5 && sqlstate[i] != '\0'; i++) {
        st[i] = sqlstate[i];
    }
    px_buf_put_u8(b, 0xff);
    px_buf_put_u16(b, code);
    px_buf_put_u8(b, '#');
    px_buf_put(b, st, 5);
    if (msg != NULL) {
        px_buf_put(b, msg, strlen(msg));
    }
}

void
px_mysql_build_eof(struct px_buf *b, uint16_t warnings, uint16_t status)
{
    px_buf_put_u8(b, 0xfe);
    px_buf_put_u16(b, warnings);
    px_buf_put_u16(b, status);
}

/* Append NUL-terminated S (NULL = "") as a lenenc string. */
static void
put_lenenc_cstr(struct px_buf *b, const char *s)
{
    px_buf_put_lenenc_str(b, s != NULL ? s : "", s != NULL ? strlen(s) : 0);
}

void
px_mysql_build_coldef(struct px_buf *b, const char *schema, const char *table, const char *name,
                      uint16_t charset, uint32_t length, uint8_t type, uint16_t flags,
                      uint8_t decimals)
{
    put_lenenc_cstr(b, "def");
    put_lenenc_cstr(b, schema);
    put_lenenc_cstr(b, table);
    put_lenenc_cstr(b, table);
    put_lenenc_cstr(b, name);
    put_lenenc_cstr(b, name);
    px_buf_put_lenenc(b, 0x0c);
    px_buf_put_u16(b, charset);
    px_buf_put_u32(b, length);
    px_buf_put_u8(b, type);
    px_buf_put_u16(b, flags);
    px_buf_put_u8(b, decimals);
    px_buf_put_u16(b, 0);
}

void
px_mysql_build_text_row(struct px_buf *b, size_t n, const char *const *values)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (values[i] == NULL) {
            px_buf_put_u8(b, 0xfb);
        } else {
            put_lenenc_cstr(b, values[i]);
        }
    }
}

/* Write B as one packet (chain) to OUT with *SEQ, then empty B. */
static int
flush_packet(struct evbuffer *out, uint8_t *seq, struct px_buf *b)
{
    int rc = px_mysql_write_packet(out, seq, b->data, b->len);
    b->len = 0;
    return rc;
}

int
px_mysql_encode_reply(const struct mvp_reply *reply, uint32_t caps, uint16_t status_flags,
                      uint8_t first_seq, struct evbuffer *out)
{
    struct px_buf b;
    uint8_t seq = first_seq;
    uint16_t status = (uint16_t)(status_flags & ~PX_SERVER_MORE_RESULTS_EXISTS);
    bool deprecate_eof = (caps & PX_CLIENT_DEPRECATE_EOF) != 0;
    int rc = PX_OK;
    size_t i, j;

    px_buf_init(&b);
    switch (reply->kind) {
    case MVP_REPLY_OK:
        px_mysql_build_ok(&b, reply->affected_rows, 0, status, 0, reply->info, caps, false);
        rc = flush_packet(out, &seq, &b);
        break;
    case MVP_REPLY_ERR:
        px_mysql_build_err(&b, reply->err_code ? reply->err_code : 1105,
                           reply->sqlstate[0] ? reply->sqlstate : "HY000",
                           reply->err_msg ? reply->err_msg : "unknown error");
        rc = flush_packet(out, &seq, &b);
        break;
    case MVP_REPLY_ROWS:
        px_buf_put_lenenc(&b, reply->n_cols);
        rc |= flush_packet(out, &seq, &b);
        for (i = 0; i < reply->n_cols; i++) {
            bool is_int = reply->col_types != NULL && reply->col_types[i] == MVP_COL_INT;
            size_t width = 0;
            /* Column length: the widest value in characters (x4 bytes for utf8mb4). */
            for (j = 0; j < reply->n_rows; j++) {
                const char *v = reply->rows[j][i];
                size_t l = v != NULL ? strlen(v) : 0;
                width = l > width ? l : width;
            }
            if (is_int) {
                px_mysql_build_coldef(&b, "", "", reply->col_names[i], PX_CHARSET_BINARY, 21,
                                      PX_TYPE_LONGLONG, 0x0020 /* BINARY */ | 0x8000 /* NUM */,
                                      0);
            } else {
                uint64_t bytes = (uint64_t)(width ? width : 1) * 4;
                px_mysql_build_coldef(&b, "", "", reply->col_names[i], PX_CHARSET_UTF8MB4,
                                      bytes > 0xffffffffu ? 0xffffffffu : (uint32_t)bytes,
                                      PX_TYPE_VAR_STRING, 0, 0x27 /* not fixed-decimals */);
            }
            rc |= flush_packet(out, &seq, &b);
        }
        if (!deprecate_eof) {
            px_mysql_build_eof(&b, 0, status);
            rc |= flush_packet(out, &seq, &b);
        }
        for (j = 0; j < reply->n_rows; j++) {
            px_mysql_build_text_row(&b, reply->n_cols, (const char *const *)reply->rows[j]);
            rc |= flush_packet(out, &seq, &b);
        }
        if (deprecate_eof) {
            px_mysql_build_ok(&b, 0, 0, status, 0, NULL, caps, true);
        } else {
            px_mysql_build_eof(&b, 0, status);
        }
        rc |= flush_packet(out, &seq, &b);
        break;
    }
    px_buf_free(&b);
    return rc == PX_OK ? (int)seq : -1;
}

/* ---- handshake ------------------------------------------------------- */

int
px_mysql_parse_handshake(const uint8_t *p, size_t len, struct px_handshake *hs)
{
    const uint8_t *q = p, *end = p + len;
    const uint8_t *nul;
    size_t vlen;

    memset(hs, 0, sizeof(*hs));
    if (len < 1 || p[0] != 10) {
        return PX_ERR;
    }
    hs->protocol = *q++;
    nul = memchr(q, 0, (size_t)(end - q));
    if (nul == NULL) {
        return PX_ERR;
    }
    vlen = (size_t)(nul - q);
    if (vlen >= sizeof(hs->server_version)) {
        vlen = sizeof(hs->server_version) - 1;
    }
    memcpy(hs->server_version, q, vlen);
    q = nul + 1;
    /* conn id 4, auth-plugin-data-part-1 8, filler 1, caps low 2 */
    if (end - q < 15) {
        return PX_ERR;
    }
    hs->conn_id = px_mysql_u32(q);
    q += 4 + 8 + 1;
    hs->caps_lo_off = (size_t)(q - p);
    hs->caps = px_mysql_u16(q);
    q += 2;
    if (end - q < 16) {
        /* Old servers may stop here; nothing more to edit. */
        return PX_OK;
    }
    hs->charset = q[0];
    hs->status = px_mysql_u16(q + 1);
    hs->caps_hi_off = (size_t)(q + 3 - p);
    hs->caps |= (uint32_t)px_mysql_u16(q + 3) << 16;
    /* q+5: auth data length, then 10 reserved bytes; MariaDB uses the last 4 */
    if (!(hs->caps & PX_CLIENT_LONG_PASSWORD)) {
        hs->has_ext_caps = true;
        hs->ext_caps_off = (size_t)(q + 12 - p);
        hs->ext_caps = px_mysql_u32(q + 12);
    }
    return PX_OK;
}

void
px_mysql_handshake_clear_caps(uint8_t *p, size_t len, struct px_handshake *hs, uint32_t clear,
                              uint32_t ext_clear)
{
    uint16_t v;

    hs->caps &= ~clear;
    if (hs->caps_lo_off + 2 <= len) {
        v = (uint16_t)hs->caps;
        p[hs->caps_lo_off] = (uint8_t)v;
        p[hs->caps_lo_off + 1] = (uint8_t)(v >> 8);
    }
    if (hs->caps_hi_off != 0 && hs->caps_hi_off + 2 <= len) {
        v = (uint16_t)(hs->caps >> 16);
        p[hs->caps_hi_off] = (uint8_t)v;
        p[hs->caps_hi_off + 1] = (uint8_t)(v >> 8);
    }
    if (hs->has_ext_caps && hs->ext_caps_off + 4 <= len) {
        hs->ext_caps &= ~ext_clear;
        p[hs->ext_caps_off] = (uint8_t)hs->ext_caps;
        p[hs->ext_caps_off + 1] = (uint8_t)(hs->ext_caps >> 8);
        p[hs->ext_caps_off + 2] = (uint8_t)(hs->ext_caps >> 16);
        p[hs->ext_caps_off + 3] = (uint8_t)(hs->ext_caps >> 24);
    }
}

void
px_mysql_handshake_set_caps(uint8_t *p, size_t len, struct px_handshake *hs, uint32_t set)
{
    hs->caps |= set;
    /* clearing nothing rewrites the (now larger) flags into the payload */
    px_mysql_handshake_clear_caps(p, len, hs, 0, 0);
}

void
px_mysql_resp_set_ssl(uint8_t *p, size_t len, bool on)
{
    uint32_t caps;

    if (len < 4) {
        return;
    }
    caps = px_mysql_u32(p);
    caps = on ? caps | PX_CLIENT_SSL : caps & ~PX_CLIENT_SSL;
    p[0] = (uint8_t)caps;
    p[1] = (uint8_t)(caps >> 8);
    p[2] = (uint8_t)(caps >> 16);
    p[3] = (uint8_t)(caps >> 24);
}

/* Copy a NUL-terminated string at *Q (before END) into a new allocation. */
static int
take_cstr(const uint8_t **q, const uint8_t *end, char **out)
{
    const uint8_t *nul = memchr(*q, 0, (size_t)(end - *q));
    size_t n;

    if (nul == NULL) {
        return PX_ERR;
    }
    n = (size_t)(nul - *q);
    *out = malloc(n + 1);
    if (*out == NULL) {
        return PX_ERR;
    }
    memcpy(*out, *q, n);
    (*out)[n] = '\0';
    *q = nul + 1;
    return PX_OK;
}

int
px_mysql_parse_handshake_resp(const uint8_t *p, size_t len, struct px_handshake_resp *r)
{
    const uint8_t *q = p, *end = p + len;
    const uint8_t *s;
    size_t n;
    uint64_t v;

    if (len < 32) {
        return PX_ERR;
    }
    r->caps = px_mysql_u32(q);
    if (!(r->caps & PX_CLIENT_PROTOCOL_41)) {
        return PX_ERR;
    }
    r->max_packet = px_mysql_u32(q + 4);
    r->charset = q[8];
    if (!(r->caps & PX_CLIENT_LONG_PASSWORD)) {
        r->ext_caps = px_mysql_u32(q + 28);
    }
    q += 32;
    if (len == 32 && (r->caps & PX_CLIENT_SSL)) {
        r->ssl_request = true;
        return PX_OK;
    }
    if (take_cstr(&q, end, &r->user) != PX_OK) {
        return PX_ERR;
    }
    if (r->caps & PX_CLIENT_PLUGIN_AUTH_LENENC_DATA) {
        if (px_mysql_get_lenenc_str(&q, end, &s, &n, NULL) != PX_OK) {
            return PX_ERR;
        }
    } else if (r->caps & PX_CLIENT_SECURE_CONNECTION) {
        if (q >= end || (size_t)(end - q) < 1u + q[0]) {
            return PX_ERR;
        }
        q += 1u + q[0];
    } else {
        char *junk = NULL;
        if (take_cstr(&q, end, &junk) != PX_OK) {
            return PX_ERR;
        }
        free(junk);
    }
    if ((r->caps & PX_CLIENT_CONNECT_WITH_DB) && q < end) {
        if (take_cstr(&q, end, &r->db) != PX_OK) {
            return PX_ERR;
        }
        if (r->db[0] == '\0') {
            free(r->db);
            r->db = NULL;
        }
    }
    if ((r->caps & PX_CLIENT_PLUGIN_AUTH) && q < end) {
        if (take_cstr(&q, end, &r->auth_plugin) != PX_OK) {
            return PX_ERR;
        }
    }
    if ((r->caps & PX_CLIENT_CONNECT_ATTRS) && q < end) {
        if (px_mysql_get_lenenc(&q, end, &v, NULL) != PX_OK || v > (uint64_t)(end - q)) {
            return PX_ERR;
        }
    }
    return PX_OK;
}

void
px_mysql_handshake_resp_free(struct px_handshake_resp *r)
{
    free(r->user);
    free(r->db);
    free(r->auth_plugin);
    memset(r, 0, sizeof(*r));
}

int
px_mysql_parse_change_user(const uint8_t *p, size_t len, uint32_t caps, char **user, char **db)
{
    const uint8_t *q = p + 1, *end = p + len;
    char *u = NULL, *d = NULL;

    *user = NULL;
    *db = NULL;
    if (len < 2 || p[0] != PX_COM_CHANGE_USER) {
        return PX_ERR;
    }
    if (take_cstr(&q, end, &u) != PX_OK) {
        return PX_ERR;
    }
    if (caps & PX_CLIENT_SECURE_CONNECTION) {
        if (q >= end || (size_t)(end - q) < 1u + q[0]) {
            free(u);
            return PX_ERR;
        }
        q += 1u + q[0];
    } else {
        char *junk = NULL;
        if (take_cstr(&q, end, &junk) != PX_OK) {
            free(u);
            return PX_ERR;
        }
        free(junk);
    }
    if (q < end && take_cstr(&q, end, &d) != PX_OK) {
        free(u);
        return PX_ERR;
    }
    if (d != NULL && d[0] == '\0') {
        free(d);
        d = NULL;
    }
    *user = u;
    *db = d;
    return PX_OK;
}

int
px_mysql_ok_eof_status(const uint8_t *p, size_t len, bool deprecate_eof, uint16_t *status)
{
    const uint8_t *q = p + 1, *end = p + len;
    uint64_t v;

    if (len < 1) {
        return PX_ERR;
    }
    if (p[0] == 0xfe && !deprecate_eof) {
        if (len < 5) {
            /* pre-4.1 EOF: no status */
            return PX_ERR;
        }
        *status = px_mysql_u16(p + 3);
        return PX_OK;
    }
    if (px_mysql_get_lenenc(&q, end, &v, NULL) != PX_OK ||
        px_mysql_get_lenenc(&q, end, &v, NULL) != PX_OK || end - q < 2) {
        return PX_ERR;
    }
    *status = px_mysql_u16(q);
    return PX_OK;
}

/* ---- USE detection --------------------------------------------------- */

/* Skip whitespace and comments from *I in S[0..LEN). */
static void
skip_space(const char *s, size_t len, size_t *i)
{
    while (*i < len) {
        unsigned char c = (unsigned char)s[*i];
        if (isspace(c)) {
            (*i)++;
        } else if (c == '#' || (c == '-' && *i + 1 < len && s[*i + 1] == '-' &&
                                (*i + 2 == len || isspace((unsigned char)s[*i + 2])))) {
            while (*i < len && s[*i] != '\n') {
                (*i)++;
            }
        } else if (c == '/' && *i + 1 < len && s[*i + 1] == '*') {
            *i += 2;
            while (*i + 1 < len && !(s[*i] == '*' && s[*i + 1] == '/')) {
                (*i)++;
            }
            *i = *i + 1 < len ? *i + 2 : len;
        } else {
            return;
        }
    }
}

char *
px_mysql_parse_use(const char *sql, size_t len)
{
    size_t i = 0, start, n = 0;
    char *db;

    skip_space(sql, len, &i);
    if (len - i < 4 || strncasecmp(sql + i, "use", 3) != 0) {
        return NULL;
    }
    i += 3;
    if (!isspace((unsigned char)sql[i]) && sql[i] != '`' && sql[i] != '/' && sql[i] != '#') {
        return NULL;
    }
    skip_space(sql, len, &i);
    if (i >= len) {
        return NULL;
    }
    db = malloc(len - i + 1);
    if (db == NULL) {
        return NULL;
    }
    if (sql[i] == '`') {
        i++;
        for (;;) {
            if (i >= len) {
                free(db);
                return NULL;
            }
            if (sql[i] == '`') {
                if (i + 1 < len && sql[i + 1] == '`') {
                    db[n++] = '`';
                    i += 2;
                    continue;
                }
                i++;
                break;
            }
            db[n++] = sql[i++];
        }
    } else {
        start = i;
        while (i < len && (isalnum((unsigned char)sql[i]) || sql[i] == '_' || sql[i] == '$' ||
                           (unsigned char)sql[i] >= 0x80)) {
            db[n++] = sql[i++];
        }
        if (i == start) {
            free(db);
            return NULL;
        }
    }
    db[n] = '\0';
    skip_space(sql, len, &i);
    if (i < len && sql[i] == ';') {
        i++;
        skip_space(sql, len, &i);
    }
    if (i != len || n == 0) {
        free(db);
        return NULL;
    }
    return db;
}

/* ---- OK packets and session state tracking ---------------------------- */

int
px_mysql_parse_ok(const uint8_t *p, size_t len, bool track, struct px_ok *ok)
{
    const uint8_t *q = p + 1, *end = p + len;

    memset(ok, 0, sizeof(*ok));
    if (len < 1 || (p[0] != 0x00 && p[0] != 0xfe)) {
        return PX_ERR;
    }
    ok->header = p[0];
    if (px_mysql_get_lenenc(&q, end, &ok->affected, NULL) != PX_OK ||
        px_mysql_get_lenenc(&q, end, &ok->insert_id, NULL) != PX_OK || end - q < 4) {
        return PX_ERR;
    }
    ok->status = px_mysql_u16(q);
    ok->warnings = px_mysql_u16(q + 2);
    q += 4;
    if (!track) {
        if (q < end) {
            ok->info = q;
            ok->info_len = (size_t)(end - q);
        }
        return PX_OK;
    }
    if (q == end) {
        return PX_OK; /* no info, no state */
    }
    if (px_mysql_get_lenenc_str(&q, end, &ok->info, &ok->info_len, NULL) != PX_OK) {
        return PX_ERR;
    }
    if ((ok->status & PX_SERVER_SESSION_STATE_CHANGED) && q < end) {
        if (px_mysql_get_lenenc_str(&q, end, &ok->state, &ok->state_len, NULL) != PX_OK) {
            return PX_ERR;
        }
    }
    return PX_OK;
}

void
px_mysql_build_ok_untracked(struct px_buf *b, const struct px_ok *ok)
{
    px_buf_put_u8(b, ok->header);
    px_buf_put_lenenc(b, ok->affected);
    px_buf_put_lenenc(b, ok->insert_id);
    px_buf_put_u16(b, ok->status);
    px_buf_put_u16(b, ok->warnings);
    if (ok->info_len > 0) {
        px_buf_put(b, ok->info, ok->info_len);
    }
}

bool
px_mysql_state_sysvar(const uint8_t *state, size_t len, const char *name, const uint8_t **val,
                      size_t *vlen)
{
    const uint8_t *q = state, *end = state + len;
    size_t nlen = strlen(name);
    bool found = false;

    while (q < end) {
        uint8_t type = *q++;
        const uint8_t *data, *dq, *dend, *n, *v;
        size_t dlen, nl, vl;
        if (px_mysql_get_lenenc_str(&q, end, &data, &dlen, NULL) != PX_OK) {
            return false;
        }
        if (type != 0x00) { /* SESSION_TRACK_SYSTEM_VARIABLES */
            continue;
        }
        dq = data;
        dend = data + dlen;
        if (px_mysql_get_lenenc_str(&dq, dend, &n, &nl, NULL) != PX_OK ||
            px_mysql_get_lenenc_str(&dq, dend, &v, &vl, NULL) != PX_OK) {
            return false;
        }
        if (nl == nlen && strncasecmp((const char *)n, name, nl) == 0) {
            *val = v;
            *vlen = vl;
            found = true;
        }
    }
    return found;
}

uint32_t
px_mysql_handshake_resp_add_caps(uint8_t *p, size_t len, uint32_t add)
{
    uint32_t caps;

    if (len < 32) {
        return 0;
    }
    caps = px_mysql_u32(p) | add;
    p[0] = (uint8_t)caps;
    p[1] = (uint8_t)(caps >> 8);
    p[2] = (uint8_t)(caps >> 16);
    p[3] = (uint8_t)(caps >> 24);
    return caps;
}
