/*
 * cat_rowimage.h - decoder for the row images of binlog rows events
 * (WRITE / UPDATE / DELETE_ROWS, v1 and v2, and MariaDB's compressed
 * variants once the connector has inflated them): enough of the format to
 * walk every column of every image and read one DATE / DATETIME /
 * TIMESTAMP column. Used by the binlog follower (cat_binlog.c) to mark
 * exactly the view partitions a direct write touched (SPEC §5).
 *
 * Sources: MariaDB KB "Table_map_log_event", "Rows_event_v1/v2"; MySQL
 * "Binary log events" (Rows_event, Table_map_event); MariaDB server
 * sql/rpl_utility.cc (table_def metadata per type, calc_field_size) and
 * sql/log_event_client.cc (log_event_print_value).
 *
 * Pure: no I/O, no globals, no MariaDB headers (the type numbers are the
 * protocol's, repeated below). Thread-safe on distinct objects.
 */
#ifndef CAT_ROWIMAGE_H
#define CAT_ROWIMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Column types of the table map (enum_field_types numbers). */
enum cat_ri_type {
    CAT_RI_T_DECIMAL = 0,           /* pre-5.0 DECIMAL: not decodable */
    CAT_RI_T_TINY = 1,
    CAT_RI_T_SHORT = 2,
    CAT_RI_T_LONG = 3,
    CAT_RI_T_FLOAT = 4,
    CAT_RI_T_DOUBLE = 5,
    CAT_RI_T_NULL = 6,
    CAT_RI_T_TIMESTAMP = 7,         /* 4 bytes little-endian epoch seconds */
    CAT_RI_T_LONGLONG = 8,
    CAT_RI_T_INT24 = 9,
    CAT_RI_T_DATE = 10,             /* 3 bytes: d | m << 5 | y << 9 */
    CAT_RI_T_TIME = 11,             /* 3 bytes */
    CAT_RI_T_DATETIME = 12,         /* 8 bytes little-endian YYYYMMDDhhmmss */
    CAT_RI_T_YEAR = 13,
    CAT_RI_T_NEWDATE = 14,          /* as DATE */
    CAT_RI_T_VARCHAR = 15,
    CAT_RI_T_BIT = 16,
    CAT_RI_T_TIMESTAMP2 = 17,       /* 4 bytes big-endian epoch seconds + fsp bytes */
    CAT_RI_T_DATETIME2 = 18,        /* 5 bytes big-endian packed + fsp bytes */
    CAT_RI_T_TIME2 = 19,            /* 3 bytes + fsp bytes */
    CAT_RI_T_JSON = 245,            /* MySQL: blob-like */
    CAT_RI_T_NEWDECIMAL = 246,
    CAT_RI_T_ENUM = 247,
    CAT_RI_T_SET = 248,
    CAT_RI_T_TINY_BLOB = 249,
    CAT_RI_T_MEDIUM_BLOB = 250,
    CAT_RI_T_LONG_BLOB = 251,
    CAT_RI_T_BLOB = 252,
    CAT_RI_T_VAR_STRING = 253,
    CAT_RI_T_STRING = 254,          /* CHAR/BINARY, or ENUM/SET (real type in metadata) */
    CAT_RI_T_GEOMETRY = 255,
};

/* Column layout of one table, from its TABLE_MAP event. */
struct cat_ri_table {
    uint32_t n;                     /* columns */
    uint8_t *type;                  /* per column: binlog type; for STRING the real type
                                     * (STRING, ENUM or SET) taken from the metadata */
    uint32_t *meta;                 /* per column: decoded metadata (see cat_rowimage.c) */
};

/*
 * Parse a table map's column types TYPES (N bytes, one per column) and
 * field metadata block META (METALEN bytes) into T (zeroed or freed
 * first). Every type's metadata length must be known and the block must
 * be consumed exactly, else the layout is unknown.
 * Returns 0, or -1 with a one-line reason in WHY (WHYLEN bytes) and T
 * left empty. Owns T's arrays: free with cat_ri_table_free().
 */
int cat_ri_table_parse(struct cat_ri_table *t, const uint8_t *types, size_t n,
                       const uint8_t *meta, size_t metalen, char *why, size_t whylen);

/* Free T's arrays and zero it. Safe on a zeroed T. */
void cat_ri_table_free(struct cat_ri_table *t);

/* Kind of a rows event. */
enum cat_ri_kind {
    CAT_RI_WRITE,                   /* one after image per row */
    CAT_RI_UPDATE,                  /* before image, then after image, per row */
    CAT_RI_DELETE,                  /* one before image per row */
};

/* The row part of one rows event (borrowed pointers). */
struct cat_ri_rows {
    enum cat_ri_kind kind;          /* event kind */
    uint32_t n_cols;                /* column count the event declares */
    const uint8_t *present;         /* columns-present bitmap ((n_cols+7)/8 bytes): the
                                     * before image of UPDATE, the only image otherwise */
    const uint8_t *present_after;   /* UPDATE: after image's bitmap; else unused */
    const uint8_t *data;            /* row images, back to back */
    size_t len;                     /* bytes at DATA */
};

/* A decoded value of the wanted column. */
enum cat_ri_vkind {
    CAT_RI_V_NULL,                  /* SQL NULL */
    CAT_RI_V_DATE,                  /* DATE / DATETIME: year, month, day (zero parts possible:
                                     * '0000-00-00', '2024-00-00' are storable) */
    CAT_RI_V_EPOCH,                 /* TIMESTAMP: seconds since 1970-01-01 00:00:00 UTC */
};

struct cat_ri_value {
    enum cat_ri_vkind kind;
    int year, month, day;           /* CAT_RI_V_DATE */
    int64_t epoch_s;                /* CAT_RI_V_EPOCH */
};

/*
 * Called for each image that holds the wanted column: V its value, AFTER
 * true for the after image of an UPDATE, ARG the caller's.
 */
typedef void (*cat_ri_cb)(const struct cat_ri_value *v, bool after, void *arg);

/*
 * Walk every row image of R (laid out by T) and report column COL
 * (0-based) of each through CB. The wanted column must be DATE, NEWDATE,
 * DATETIME, DATETIME2, TIMESTAMP or TIMESTAMP2 and present in every image
 * except an UPDATE's after image (absent there = not changed: the before
 * value already covers the row). Every column present in an image must be
 * of a decodable type, since the next image starts after the last one.
 * Returns the number of images reported (>= 0) when R's data was
 * consumed exactly; -1 with a reason in WHY otherwise (truncated or
 * trailing bytes, unknown type, column count mismatch, wanted column
 * missing from an image). On -1 CB may already have been called: the
 * caller must discard what it collected.
 */
long cat_ri_scan(const struct cat_ri_table *t, const struct cat_ri_rows *r, uint32_t col,
                 cat_ri_cb cb, void *arg, char *why, size_t whylen);

/*
 * Binary size in bytes of a DECIMAL(PRECISION, SCALE) value
 * (my_decimal_get_binary_size: 4 bytes per 9 digits, leftover digits
 * 0..8 take 0,1,1,2,2,3,3,4,4 bytes, integer and fraction parts apart).
 * Returns 0 for an invalid precision/scale (precision 1..65, scale <=
 * min(precision, 38)).
 */
size_t cat_ri_decimal_size(unsigned precision, unsigned scale);

/* Short name of binlog type T ("DATETIME2", "VARCHAR", ... "type 99"); BUF for unknown. */
const char *cat_ri_type_name(unsigned t, char *buf, size_t len);

#endif /* CAT_ROWIMAGE_H */
