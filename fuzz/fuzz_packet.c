/*
 * fuzz_packet.c - libFuzzer target for the packet decoder (proxy/px_mysql.c):
 * every function that reads bytes a client or server sent. The first byte
 * picks flags (deprecate_eof, capabilities); the rest is the payload.
 * Build: cmake -DMVP_FUZZ=ON with CC=clang (see fuzz/README.md).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "px_mysql.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct px_handshake hs;
    struct px_handshake_resp r;
    uint8_t *copy;
    uint8_t flags;
    const uint8_t *p, *end;
    uint16_t status;
    char *user = NULL, *db = NULL, *use;
    struct evbuffer *eb;
    struct px_buf out;
    uint8_t seq;

    if (size == 0) {
        return 0;
    }
    flags = data[0];
    data++;
    size--;
    copy = malloc(size + 1);
    if (copy == NULL) {
        return 0;
    }
    memcpy(copy, data, size);

    memset(&hs, 0, sizeof(hs));
    if (px_mysql_parse_handshake(copy, size, &hs) == 0) {
        px_mysql_handshake_clear_caps(copy, size, &hs, 0x00000800u | 0x00200000u, 0x1u);
    }
    memset(&r, 0, sizeof(r));
    (void)px_mysql_parse_handshake_resp(data, size, &r);
    px_mysql_handshake_resp_free(&r);
    if (px_mysql_parse_change_user(data, size, (uint32_t)flags << 12 | 0x200u, &user, &db) == 0) {
        free(user);
        free(db);
    }
    (void)px_mysql_ok_eof_status(data, size, (flags & 1) != 0, &status);

    /* lenenc ints and strings until the input runs out */
    p = data;
    end = data + size;
    while (p < end) {
        const uint8_t *s;
        size_t n;
        bool is_null;
        uint64_t v;
        const uint8_t *before = p;
        if ((flags & 2) != 0) {
            if (px_mysql_get_lenenc_str(&p, end, &s, &n, &is_null) != 0) {
                break;
            }
            if (n > 0 && (s < data || s + n > end)) {
                abort();
            }
        } else if (px_mysql_get_lenenc(&p, end, &v, &is_null) != 0) {
            break;
        }
        if (p <= before || p > end) {
            abort();
        }
    }

    use = px_mysql_parse_use((const char *)data, size);
    free(use);

    /* framing: the bytes as a stream of packets */
    eb = evbuffer_new();
    if (eb != NULL) {
        evbuffer_add(eb, data, size);
        for (int i = 0; i < 64; i++) {
            uint32_t len;
            px_buf_init(&out);
            if (px_mysql_peek_header(eb, &len, &seq) != 0 ||
                px_mysql_take_payload(eb, 1u << 20, &out, &seq) != 0) {
                px_buf_free(&out);
                break;
            }
            px_buf_free(&out);
        }
        evbuffer_free(eb);
    }
    free(copy);
    return 0;
}
