/*
 * cat_rowimage.c - binlog row image decoder (see cat_rowimage.h).
 *
 * Table map metadata, per column type (bytes in the metadata block ->
 * what cat_ri_table.meta holds):
 *   FLOAT, DOUBLE                 1 -> pack length (4 / 8)
 *   BLOB family, GEOMETRY, JSON   1 -> length-prefix bytes (1..4)
 *   TIMESTAMP2, DATETIME2, TIME2  1 -> fractional digits (0..6)
 *   VARCHAR, VAR_STRING           2 (little-endian) -> max length in bytes
 *   BIT                           2 -> bits % 8 | whole bytes << 8
 *   NEWDECIMAL                    2 -> precision << 8 | scale
 *   STRING (CHAR, ENUM, SET)      2 -> byte 0: real type, its bits 0x30 xor-ed
 *                                 with bits 8-9 of the max length (a CHAR
 *                                 longer than 255 bytes); byte 1: low 8 bits of
 *                                 the max length (CHAR) or the pack length
 *                                 (ENUM / SET) -> type[] gets the real type,
 *                                 meta the max length (CHAR) or pack length
 *   everything else               0
 *
 * Row image: a NULL bitmap with one bit per column present in the image
 * ((present+7)/8 bytes), then the non-NULL present columns in order:
 *   TINY 1, SHORT 2, INT24 3, LONG 4, LONGLONG 8, YEAR 1, FLOAT/DOUBLE
 *   meta, DATE/NEWDATE/TIME 3, TIMESTAMP 4, DATETIME 8, TIMESTAMP2 4+f,
 *   DATETIME2 5+f, TIME2 3+f (f = (fsp+1)/2), NEWDECIMAL the binary size
 *   of (precision, scale), BIT whole bytes + (bits ? 1 : 0), ENUM/SET the
 *   pack length, VARCHAR / CHAR a 1-byte length when the max length is
 *   below 256 else 2 bytes, then the bytes; BLOBs a meta-byte length, then
 *   the bytes. Multi-byte integers are little-endian except the
 *   DATETIME2 / TIMESTAMP2 / TIME2 / DECIMAL encodings (big-endian).
 */
#include "cat_rowimage.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Bit I of bitmap B. */
static bool
bit(const uint8_t *b, size_t i)
{
    return (b[i / 8] >> (i % 8)) & 1u;
}

static uint32_t
le_u(const uint8_t *p, size_t n)
{
    uint32_t v = 0;
    size_t i;
    for (i = n; i > 0; i--) {
        v = (v << 8) | p[i - 1];
    }
    return v;
}

static uint64_t
be_u(const uint8_t *p, size_t n)
{
    uint64_t v = 0;
    size_t i;
    for (i = 0; i < n; i++) {
        v = (v << 8) | p[i];
    }
    return v;
}

size_t
cat_ri_decimal_size(unsigned precision, unsigned scale)
{
    static const unsigned char dig2bytes[10] = {0, 1, 1, 2, 2, 3, 3, 4, 4, 4};
    unsigned intg;
    if (precision < 1 || precision > 65 || scale > 38 || scale > precision) {
        return 0;
    }
    intg = precision - scale;
    return (size_t)(intg / 9) * 4 + dig2bytes[intg % 9] + (size_t)(scale / 9) * 4 +
           dig2bytes[scale % 9];
}

const char *
cat_ri_type_name(unsigned t, char *buf, size_t len)
{
    switch (t) {
    case CAT_RI_T_DECIMAL: return "DECIMAL(old)";
    case CAT_RI_T_TINY: return "TINY";
    case CAT_RI_T_SHORT: return "SHORT";
    case CAT_RI_T_LONG: return "LONG";
    case CAT_RI_T_FLOAT: return "FLOAT";
    case CAT_RI_T_DOUBLE: return "DOUBLE";
    case CAT_RI_T_NULL: return "NULL";
    case CAT_RI_T_TIMESTAMP: return "TIMESTAMP";
    case CAT_RI_T_LONGLONG: return "LONGLONG";
    case CAT_RI_T_INT24: return "INT24";
    case CAT_RI_T_DATE: return "DATE";
    case CAT_RI_T_TIME: return "TIME";
    case CAT_RI_T_DATETIME: return "DATETIME";
    case CAT_RI_T_YEAR: return "YEAR";
    case CAT_RI_T_NEWDATE: return "NEWDATE";
    case CAT_RI_T_VARCHAR: return "VARCHAR";
    case CAT_RI_T_BIT: return "BIT";
    case CAT_RI_T_TIMESTAMP2: return "TIMESTAMP2";
    case CAT_RI_T_DATETIME2: return "DATETIME2";
    case CAT_RI_T_TIME2: return "TIME2";
    case CAT_RI_T_JSON: return "JSON";
    case CAT_RI_T_NEWDECIMAL: return "NEWDECIMAL";
    case CAT_RI_T_ENUM: return "ENUM";
    case CAT_RI_T_SET: return "SET";
    case CAT_RI_T_TINY_BLOB: return "TINY_BLOB";
    case CAT_RI_T_MEDIUM_BLOB: return "MEDIUM_BLOB";
    case CAT_RI_T_LONG_BLOB: return "LONG_BLOB";
    case CAT_RI_T_BLOB: return "BLOB";
    case CAT_RI_T_VAR_STRING: return "VAR_STRING";
    case CAT_RI_T_STRING: return "STRING";
    case CAT_RI_T_GEOMETRY: return "GEOMETRY";
    default:
        snprintf(buf, len, "type %u", t);
        return buf;
    }
}

void
cat_ri_table_free(struct cat_ri_table *t)
{
    free(t->type);
    free(t->meta);
    memset(t, 0, sizeof(*t));
}

int
cat_ri_table_parse(struct cat_ri_table *t, const uint8_t *types, size_t n,
                   const uint8_t *meta, size_t metalen, char *why, size_t whylen)
{
    size_t i, at = 0;
    char tn[32];
    memset(t, 0, sizeof(*t));
    if (n == 0 || types == NULL || (metalen > 0 && meta == NULL)) {
        snprintf(why, whylen, "table map without columns");
        return -1;
    }
    t->type = calloc(n, sizeof(*t->type));
    t->meta = calloc(n, sizeof(*t->meta));
    if (t->type == NULL || t->meta == NULL) {
        snprintf(why, whylen, "out of memory");
        cat_ri_table_free(t);
        return -1;
    }
    t->n = (uint32_t)n;
    for (i = 0; i < n; i++) {
        unsigned ty = types[i];
        size_t need;
        switch (ty) {
        case CAT_RI_T_FLOAT:
        case CAT_RI_T_DOUBLE:
        case CAT_RI_T_TINY_BLOB:
        case CAT_RI_T_MEDIUM_BLOB:
        case CAT_RI_T_LONG_BLOB:
        case CAT_RI_T_BLOB:
        case CAT_RI_T_GEOMETRY:
        case CAT_RI_T_JSON:
        case CAT_RI_T_TIMESTAMP2:
        case CAT_RI_T_DATETIME2:
        case CAT_RI_T_TIME2:
            need = 1;
            break;
        case CAT_RI_T_VARCHAR:
        case CAT_RI_T_VAR_STRING:
        case CAT_RI_T_BIT:
        case CAT_RI_T_NEWDECIMAL:
        case CAT_RI_T_STRING:
        case CAT_RI_T_ENUM:
        case CAT_RI_T_SET:
            need = 2;
            break;
        case CAT_RI_T_DECIMAL:
        case CAT_RI_T_TINY:
        case CAT_RI_T_SHORT:
        case CAT_RI_T_LONG:
        case CAT_RI_T_NULL:
        case CAT_RI_T_TIMESTAMP:
        case CAT_RI_T_LONGLONG:
        case CAT_RI_T_INT24:
        case CAT_RI_T_DATE:
        case CAT_RI_T_TIME:
        case CAT_RI_T_DATETIME:
        case CAT_RI_T_YEAR:
        case CAT_RI_T_NEWDATE:
            need = 0;
            break;
        default:
            /* the metadata block cannot be split past an unknown type */
            snprintf(why, whylen, "column %zu has the unsupported binlog %s", i + 1,
                     cat_ri_type_name(ty, tn, sizeof(tn)));
            cat_ri_table_free(t);
            return -1;
        }
        if (at + need > metalen) {
            snprintf(why, whylen, "table map metadata too short at column %zu", i + 1);
            cat_ri_table_free(t);
            return -1;
        }
        t->type[i] = (uint8_t)ty;
        switch (ty) {
        case CAT_RI_T_VARCHAR:
        case CAT_RI_T_VAR_STRING:
            t->meta[i] = le_u(meta + at, 2);
            break;
        case CAT_RI_T_BIT:
            t->meta[i] = (uint32_t)meta[at] | (uint32_t)meta[at + 1] << 8;
            break;
        case CAT_RI_T_NEWDECIMAL:
            t->meta[i] = (uint32_t)meta[at] << 8 | meta[at + 1];
            break;
        case CAT_RI_T_STRING:
        case CAT_RI_T_ENUM:
        case CAT_RI_T_SET: {
            unsigned b0 = meta[at], b1 = meta[at + 1];
            if ((b0 & 0x30) != 0x30) {
                /* a CHAR of more than 255 bytes: bits 8-9 of the length */
                t->meta[i] = b1 | (((b0 & 0x30) ^ 0x30) << 4);
                t->type[i] = (uint8_t)(b0 | 0x30);
            } else {
                t->meta[i] = b1;
                t->type[i] = (uint8_t)b0;
            }
            if (t->type[i] != CAT_RI_T_STRING && t->type[i] != CAT_RI_T_ENUM &&
                t->type[i] != CAT_RI_T_SET) {
                snprintf(why, whylen, "column %zu: unknown real type %u of a STRING column",
                         i + 1, (unsigned)t->type[i]);
                cat_ri_table_free(t);
                return -1;
            }
            break;
        }
        default:
            t->meta[i] = need == 1 ? meta[at] : 0;
            break;
        }
        at += need;
    }
    if (at != metalen) {
        snprintf(why, whylen, "table map metadata has %zu bytes, the column types account for "
                 "%zu", metalen, at);
        cat_ri_table_free(t);
        return -1;
    }
    return 0;
}

/*
 * Size in bytes of column C's non-NULL value starting at P (AVAIL bytes
 * left). Returns the size, or 0 with WHY when the type cannot be decoded
 * or the value runs past the data (every valid value is at least 1 byte,
 * except the NULL type, which is reported as size 0 via *EMPTY).
 */
static size_t
field_size(const struct cat_ri_table *t, uint32_t c, const uint8_t *p, size_t avail,
           bool *empty, char *why, size_t whylen)
{
    uint32_t m = t->meta[c];
    size_t n = 0, pre;
    char tn[32];
    *empty = false;
    switch (t->type[c]) {
    case CAT_RI_T_TINY:
    case CAT_RI_T_YEAR:
        n = 1;
        break;
    case CAT_RI_T_SHORT:
        n = 2;
        break;
    case CAT_RI_T_INT24:
    case CAT_RI_T_DATE:
    case CAT_RI_T_NEWDATE:
    case CAT_RI_T_TIME:
        n = 3;
        break;
    case CAT_RI_T_LONG:
    case CAT_RI_T_TIMESTAMP:
        n = 4;
        break;
    case CAT_RI_T_LONGLONG:
    case CAT_RI_T_DATETIME:
        n = 8;
        break;
    case CAT_RI_T_NULL:
        *empty = true;
        return 0;
    case CAT_RI_T_FLOAT:
    case CAT_RI_T_DOUBLE:
        if (m != 4 && m != 8) {
            snprintf(why, whylen, "column %u: float pack length %u", c + 1, m);
            return 0;
        }
        n = m;
        break;
    case CAT_RI_T_TIMESTAMP2:
    case CAT_RI_T_DATETIME2:
    case CAT_RI_T_TIME2:
        if (m > 6) {
            snprintf(why, whylen, "column %u: fractional digits %u", c + 1, m);
            return 0;
        }
        n = (t->type[c] == CAT_RI_T_DATETIME2 ? 5 : t->type[c] == CAT_RI_T_TIMESTAMP2 ? 4 : 3) +
            (m + 1) / 2;
        break;
    case CAT_RI_T_NEWDECIMAL:
        n = cat_ri_decimal_size(m >> 8, m & 0xff);
        if (n == 0) {
            snprintf(why, whylen, "column %u: DECIMAL(%u,%u)", c + 1, m >> 8, m & 0xff);
            return 0;
        }
        break;
    case CAT_RI_T_BIT:
        if ((m & 0xff) > 7 || ((m >> 8) == 0 && (m & 0xff) == 0)) {
            snprintf(why, whylen, "column %u: BIT metadata %#x", c + 1, m);
            return 0;
        }
        n = (m >> 8) + ((m & 0xff) ? 1 : 0);
        break;
    case CAT_RI_T_ENUM:
    case CAT_RI_T_SET:
        if (m < 1 || m > 8) {
            snprintf(why, whylen, "column %u: ENUM/SET pack length %u", c + 1, m);
            return 0;
        }
        n = m;
        break;
    case CAT_RI_T_VARCHAR:
    case CAT_RI_T_VAR_STRING:
    case CAT_RI_T_STRING:
        pre = m > 255 ? 2 : 1;
        if (avail < pre) {
            break;
        }
        n = pre + le_u(p, pre);
        break;
    case CAT_RI_T_TINY_BLOB:
    case CAT_RI_T_MEDIUM_BLOB:
    case CAT_RI_T_LONG_BLOB:
    case CAT_RI_T_BLOB:
    case CAT_RI_T_GEOMETRY:
    case CAT_RI_T_JSON:
        if (m < 1 || m > 4) {
            snprintf(why, whylen, "column %u: BLOB length bytes %u", c + 1, m);
            return 0;
        }
        if (avail < m) {
            break;
        }
        n = m + (size_t)le_u(p, m);
        break;
    default:
        snprintf(why, whylen, "column %u has the undecodable binlog %s", c + 1,
                 cat_ri_type_name(t->type[c], tn, sizeof(tn)));
        return 0;
    }
    if (n == 0 || n > avail) {
        snprintf(why, whylen, "row image truncated at column %u", c + 1);
        return 0;
    }
    return n;
}

/* Decode column C's non-NULL value at P (SIZE bytes) into V. False when not a date type. */
static bool
date_value(const struct cat_ri_table *t, uint32_t c, const uint8_t *p, struct cat_ri_value *v,
           char *why, size_t whylen)
{
    char tn[32];
    memset(v, 0, sizeof(*v));
    switch (t->type[c]) {
    case CAT_RI_T_DATE:
    case CAT_RI_T_NEWDATE: {
        uint32_t x = le_u(p, 3);
        v->kind = CAT_RI_V_DATE;
        v->day = (int)(x & 31);
        v->month = (int)((x >> 5) & 15);
        v->year = (int)(x >> 9);
        return true;
    }
    case CAT_RI_T_DATETIME: {
        uint64_t x = (uint64_t)le_u(p, 4) | (uint64_t)le_u(p + 4, 4) << 32, ymd;
        if ((int64_t)x < 0) {
            break;
        }
        ymd = x / 1000000u;
        v->kind = CAT_RI_V_DATE;
        v->year = (int)(ymd / 10000u);
        v->month = (int)(ymd / 100u % 100u);
        v->day = (int)(ymd % 100u);
        return true;
    }
    case CAT_RI_T_DATETIME2: {
        /* 1 sign bit (set for non-negative), 17 bits year*13+month, 5 bits
         * day, 5 hour, 6 minute, 6 second; offset 0x8000000000 */
        int64_t x = (int64_t)be_u(p, 5) - INT64_C(0x8000000000), ymd, ym;
        if (x < 0) {
            break;
        }
        ymd = x >> 17;
        ym = ymd >> 5;
        v->kind = CAT_RI_V_DATE;
        v->day = (int)(ymd & 31);
        v->month = (int)(ym % 13);
        v->year = (int)(ym / 13);
        return true;
    }
    case CAT_RI_T_TIMESTAMP:
        v->kind = CAT_RI_V_EPOCH;
        v->epoch_s = (int64_t)le_u(p, 4);
        return true;
    case CAT_RI_T_TIMESTAMP2:
        v->kind = CAT_RI_V_EPOCH;
        v->epoch_s = (int64_t)be_u(p, 4);
        return true;
    default:
        snprintf(why, whylen, "the wanted column %u is %s, not a date type", c + 1,
                 cat_ri_type_name(t->type[c], tn, sizeof(tn)));
        return false;
    }
    snprintf(why, whylen, "the wanted column %u holds a negative date", c + 1);
    return false;
}

long
cat_ri_scan(const struct cat_ri_table *t, const struct cat_ri_rows *r, uint32_t col,
            cat_ri_cb cb, void *arg, char *why, size_t whylen)
{
    size_t pos = 0, c, npresent[2] = {0, 0};
    long reported = 0;
    int n_img = r->kind == CAT_RI_UPDATE ? 2 : 1, img;
    const uint8_t *bm[2];

    if (r->n_cols != t->n) {
        snprintf(why, whylen, "rows event has %u columns, its table map %u", r->n_cols, t->n);
        return -1;
    }
    if (col >= t->n) {
        snprintf(why, whylen, "wanted column %u of %u", col + 1, t->n);
        return -1;
    }
    bm[0] = r->present;
    bm[1] = r->kind == CAT_RI_UPDATE ? r->present_after : NULL;
    for (img = 0; img < n_img; img++) {
        if (bm[img] == NULL) {
            snprintf(why, whylen, "rows event without its columns-present bitmap");
            return -1;
        }
        for (c = 0; c < t->n; c++) {
            npresent[img] += bit(bm[img], c);
        }
    }
    if (r->len > 0 && r->data == NULL) {
        snprintf(why, whylen, "rows event without row data");
        return -1;
    }
    while (pos < r->len) {
        for (img = 0; img < n_img; img++) {
            const uint8_t *nulls = r->data + pos;
            size_t nbytes = (npresent[img] + 7) / 8, k = 0;
            bool found = false;
            if (nbytes > r->len - pos) {
                snprintf(why, whylen, "row image truncated in its NULL bitmap");
                return -1;
            }
            pos += nbytes;
            for (c = 0; c < t->n; c++) {
                bool is_null, empty;
                size_t n;
                if (!bit(bm[img], c)) {
                    continue;
                }
                is_null = bit(nulls, k);
                k++;
                if (c == col) {
                    struct cat_ri_value v;
                    found = true;
                    if (is_null) {
                        memset(&v, 0, sizeof(v));
                        v.kind = CAT_RI_V_NULL;
                    } else {
                        n = field_size(t, (uint32_t)c, r->data + pos, r->len - pos, &empty, why,
                                       whylen);
                        if (n == 0 || !date_value(t, (uint32_t)c, r->data + pos, &v, why,
                                                  whylen)) {
                            return -1;
                        }
                    }
                    cb(&v, img == 1, arg);
                    reported++;
                }
                if (is_null) {
                    continue;
                }
                n = field_size(t, (uint32_t)c, r->data + pos, r->len - pos, &empty, why, whylen);
                if (n == 0 && !empty) {
                    return -1;
                }
                pos += n;
            }
            if (!found && img == 0) {
                snprintf(why, whylen, "column %u is not in the %s image (binlog_row_image "
                         "MINIMAL or NOBLOB?)", col + 1,
                         r->kind == CAT_RI_WRITE ? "after" : "before");
                return -1;
            }
        }
    }
    return reported;
}
