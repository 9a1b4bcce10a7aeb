/*
 * px_mysql.h - MySQL/MariaDB client/server protocol primitives: packet
 * framing (3-byte little-endian length + sequence id, 0xFFFFFF chains),
 * length-encoded integers and strings, builders for OK / ERR / EOF /
 * column-definition / text-row packets, the encoder for struct mvp_reply, and
 * parsers for the initial handshake and the client's handshake response.
 *
 * Reference: dev.mysql.com/doc/dev/mysql-server/latest/PAGE_PROTOCOL.html
 * ("Client/Server Protocol") and mariadb.com/kb/en/clientserver-protocol/.
 * All integers on the wire are little-endian.
 */
#ifndef PX_MYSQL_H
#define PX_MYSQL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cat_reply.h"

struct evbuffer;

#define PX_OK    0      /* success */
#define PX_ERR   (-1)   /* malformed input or failure */
#define PX_AGAIN (-2)   /* not enough bytes yet */

#define PX_PKT_HDR_LEN   4u             /* 3-byte length + 1-byte sequence id */
#define PX_PKT_MAX       0xFFFFFFu      /* payload size that continues in the next packet */

/* Capability flags (Protocol::CapabilityFlags). */
#define PX_CLIENT_LONG_PASSWORD                 (1u << 0)   /* a.k.a. CLIENT_MYSQL in MariaDB */
#define PX_CLIENT_FOUND_ROWS                    (1u << 1)
#define PX_CLIENT_LONG_FLAG                     (1u << 2)
#define PX_CLIENT_CONNECT_WITH_DB               (1u << 3)
#define PX_CLIENT_NO_SCHEMA                     (1u << 4)
#define PX_CLIENT_COMPRESS                      (1u << 5)
#define PX_CLIENT_LOCAL_FILES                   (1u << 7)
#define PX_CLIENT_PROTOCOL_41                   (1u << 9)
#define PX_CLIENT_INTERACTIVE                   (1u << 10)
#define PX_CLIENT_SSL                           (1u << 11)
#define PX_CLIENT_TRANSACTIONS                  (1u << 13)
#define PX_CLIENT_SECURE_CONNECTION             (1u << 15)
#define PX_CLIENT_MULTI_STATEMENTS              (1u << 16)
#define PX_CLIENT_MULTI_RESULTS                 (1u << 17)
#define PX_CLIENT_PS_MULTI_RESULTS              (1u << 18)
#define PX_CLIENT_PLUGIN_AUTH                   (1u << 19)
#define PX_CLIENT_CONNECT_ATTRS                 (1u << 20)
#define PX_CLIENT_PLUGIN_AUTH_LENENC_DATA       (1u << 21)
#define PX_CLIENT_CAN_HANDLE_EXPIRED_PASSWORDS  (1u << 22)
#define PX_CLIENT_SESSION_TRACK                 (1u << 23)
#define PX_CLIENT_DEPRECATE_EOF                 (1u << 24)
#define PX_CLIENT_OPTIONAL_RESULTSET_METADATA   (1u << 25)  /* MySQL 8 */
#define PX_CLIENT_ZSTD_COMPRESSION              (1u << 26)  /* MySQL 8 */
#define PX_CLIENT_QUERY_ATTRIBUTES              (1u << 27)  /* MySQL 8: changes COM_QUERY */

/* MariaDB extended capabilities (the 4 bytes at handshake offset 28..31), shifted down 32. */
#define PX_MARIADB_CLIENT_PROGRESS              (1u << 0)   /* progress packets mid-query */
#define PX_MARIADB_CLIENT_COM_MULTI             (1u << 1)
#define PX_MARIADB_CLIENT_STMT_BULK_OPERATIONS  (1u << 2)
#define PX_MARIADB_CLIENT_EXTENDED_TYPE_INFO    (1u << 3)
#define PX_MARIADB_CLIENT_CACHE_METADATA        (1u << 4)   /* changes result-set framing */

/*
 * Capabilities the proxy removes from the server greeting because it cannot
 * relay them: TLS and compression (the proxy does not terminate either yet),
 * MySQL 8 options that change the COM_QUERY / result-set framing.
 */
#define PX_CAPS_CLEARED                                                                         \
    (PX_CLIENT_SSL | PX_CLIENT_COMPRESS | PX_CLIENT_OPTIONAL_RESULTSET_METADATA |               \
     PX_CLIENT_ZSTD_COMPRESSION | PX_CLIENT_QUERY_ATTRIBUTES)
/*
 * MariaDB extended capabilities removed: progress packets (would look like an
 * ERR mid-response), COM_MULTI, metadata caching (changes result-set
 * framing) and extended type info (adds a field to column definitions, which
 * the locally built result sets do not carry).
 */
#define PX_EXT_CAPS_CLEARED                                                                     \
    (PX_MARIADB_CLIENT_PROGRESS | PX_MARIADB_CLIENT_COM_MULTI |                                 \
     PX_MARIADB_CLIENT_CACHE_METADATA | PX_MARIADB_CLIENT_EXTENDED_TYPE_INFO)

/* Server status flags (SERVER_STATUS_flags_enum). */
#define PX_SERVER_STATUS_IN_TRANS               0x0001u
#define PX_SERVER_STATUS_AUTOCOMMIT             0x0002u
#define PX_SERVER_MORE_RESULTS_EXISTS           0x0008u
#define PX_SERVER_STATUS_CURSOR_EXISTS          0x0040u
#define PX_SERVER_STATUS_LAST_ROW_SENT          0x0080u
#define PX_SERVER_STATUS_IN_TRANS_READONLY      0x2000u
#define PX_SERVER_SESSION_STATE_CHANGED         0x4000u

/* Commands (first payload byte of a client packet at sequence 0). */
enum px_mysql_cmd {
    PX_COM_SLEEP = 0x00,
    PX_COM_QUIT = 0x01,
    PX_COM_INIT_DB = 0x02,
    PX_COM_QUERY = 0x03,
    PX_COM_FIELD_LIST = 0x04,
    PX_COM_CREATE_DB = 0x05,
    PX_COM_DROP_DB = 0x06,
    PX_COM_REFRESH = 0x07,
    PX_COM_SHUTDOWN = 0x08,
    PX_COM_STATISTICS = 0x09,
    PX_COM_PROCESS_INFO = 0x0a,
    PX_COM_CONNECT = 0x0b,
    PX_COM_PROCESS_KILL = 0x0c,
    PX_COM_DEBUG = 0x0d,
    PX_COM_PING = 0x0e,
    PX_COM_TIME = 0x0f,
    PX_COM_DELAYED_INSERT = 0x10,
    PX_COM_CHANGE_USER = 0x11,
    PX_COM_BINLOG_DUMP = 0x12,
    PX_COM_TABLE_DUMP = 0x13,
    PX_COM_CONNECT_OUT = 0x14,
    PX_COM_REGISTER_SLAVE = 0x15,
    PX_COM_STMT_PREPARE = 0x16,
    PX_COM_STMT_EXECUTE = 0x17,
    PX_COM_STMT_SEND_LONG_DATA = 0x18,
    PX_COM_STMT_CLOSE = 0x19,
    PX_COM_STMT_RESET = 0x1a,
    PX_COM_SET_OPTION = 0x1b,
    PX_COM_STMT_FETCH = 0x1c,
    PX_COM_DAEMON = 0x1d,
    PX_COM_BINLOG_DUMP_GTID = 0x1e,
    PX_COM_RESET_CONNECTION = 0x1f,
    PX_COM_STMT_BULK_EXECUTE = 0xfa,    /* MariaDB */
};

/* Column types used by locally built result sets (enum_field_types). */
#define PX_TYPE_LONGLONG    0x08
#define PX_TYPE_VAR_STRING  0xfd
#define PX_CHARSET_UTF8MB4  45      /* utf8mb4_general_ci */
#define PX_CHARSET_BINARY   63

#define PX_ER_NET_READ_ERROR 1158   /* ER_NET_READ_ERROR: stands in for client-side codes */

/* Growable byte buffer for building payloads. Aborts on out of memory. */
struct px_buf {
    uint8_t *data;      /* bytes (owned, malloc) or NULL when empty */
    size_t len;         /* bytes used */
    size_t cap;         /* bytes allocated */
};

/* Zero B (no allocation). */
void px_buf_init(struct px_buf *b);
/* Free B's storage and zero it. */
void px_buf_free(struct px_buf *b);
/* Make room for N more bytes; aborts on out of memory. */
void px_buf_reserve(struct px_buf *b, size_t n);
/* Append N bytes at P. */
void px_buf_put(struct px_buf *b, const void *p, size_t n);
/* Append one byte V. */
void px_buf_put_u8(struct px_buf *b, uint8_t v);
/* Append V as 2 little-endian bytes. */
void px_buf_put_u16(struct px_buf *b, uint16_t v);
/* Append V as 4 little-endian bytes. */
void px_buf_put_u32(struct px_buf *b, uint32_t v);
/* Append V as a length-encoded integer (1, 3, 4 or 9 bytes). */
void px_buf_put_lenenc(struct px_buf *b, uint64_t v);
/* Append N bytes at S as a length-encoded string (lenenc length, then bytes). */
void px_buf_put_lenenc_str(struct px_buf *b, const char *s, size_t n);

/* Bytes needed to length-encode V: 1, 3, 4 or 9. */
size_t px_mysql_lenenc_size(uint64_t v);

/*
 * Decode a length-encoded integer at *P (not past END). On PX_OK stores it in
 * *V, advances *P and sets *IS_NULL (may be NULL) when the byte was 0xFB (SQL
 * NULL in a text row; *V is then 0). PX_ERR when truncated or when the first
 * byte is 0xFF (not a valid lenenc prefix).
 */
int px_mysql_get_lenenc(const uint8_t **p, const uint8_t *end, uint64_t *v, bool *is_null);

/*
 * Decode a length-encoded string at *P (not past END): on PX_OK *S points into
 * the input (borrowed), *N is its length, *IS_NULL (may be NULL) marks 0xFB.
 */
int px_mysql_get_lenenc_str(const uint8_t **p, const uint8_t *end, const uint8_t **s, size_t *n,
                            bool *is_null);

/* Little-endian readers (P must have 2/3/4 readable bytes). */
uint16_t px_mysql_u16(const uint8_t *p);
uint32_t px_mysql_u24(const uint8_t *p);
uint32_t px_mysql_u32(const uint8_t *p);

/*
 * Look at the packet at the front of BUF without removing anything. Stores the
 * payload length in *LEN and the sequence id in *SEQ. Returns PX_OK when the
 * 4-byte header is there, PX_AGAIN otherwise.
 */
int px_mysql_peek_header(struct evbuffer *buf, uint32_t *len, uint8_t *seq);

/*
 * Remove one logical packet (a whole 0xFFFFFF chain, reassembled) from the
 * front of BUF into OUT (appended). *SEQ gets the sequence id of the LAST
 * packet of the chain. Returns PX_OK, PX_AGAIN when the chain is incomplete
 * (nothing removed), or PX_ERR when the payload would exceed MAX bytes
 * (nothing removed).
 */
int px_mysql_take_payload(struct evbuffer *buf, size_t max, struct px_buf *out, uint8_t *seq);

/*
 * Frame LEN payload bytes at P as MySQL packets into OUT: packets of 0xFFFFFF
 * bytes while more remain, then a final shorter (possibly empty) packet, so a
 * payload of exactly k*0xFFFFFF bytes ends with an empty packet. Sequence ids
 * start at *SEQ; on return *SEQ is the next id to use (wraps at 256).
 * Returns PX_OK or PX_ERR (evbuffer out of memory).
 */
int px_mysql_write_packet(struct evbuffer *out, uint8_t *seq, const void *p, size_t len);

/*
 * OK_Packet payload into B (appended): header 0x00, or 0xFE when AS_EOF (the
 * end of a result set under CLIENT_DEPRECATE_EOF), affected rows and last
 * insert id (lenenc), status flags and warnings (CLIENT_PROTOCOL_41), then
 * INFO (may be NULL): lenenc with CLIENT_SESSION_TRACK in CAPS, else to the
 * end of the packet. dev.mysql.com ... page_protocol_basic_ok_packet.
 */
void px_mysql_build_ok(struct px_buf *b, uint64_t affected, uint64_t insert_id, uint16_t status,
                       uint16_t warnings, const char *info, uint32_t caps, bool as_eof);

/*
 * ERR_Packet payload into B: 0xFF, CODE, '#', 5-char SQLSTATE (padded with
 * 'HY000' when shorter), MSG. page_protocol_basic_err_packet.
 * Client-side codes (2000..2999, e.g. 2013 CR_SERVER_LOST) must never appear
 * in a server packet (libmariadb reports such a packet as "malformed",
 * 2027): they are sent as PX_ER_NET_READ_ERROR (1158) with SQLSTATE 08S01,
 * the standard "communication link failure" state, keeping MSG.
 */
void px_mysql_build_err(struct px_buf *b, uint16_t code, const char *sqlstate, const char *msg);

/* EOF_Packet payload into B: 0xFE, warnings, status. page_protocol_basic_eof_packet. */
void px_mysql_build_eof(struct px_buf *b, uint16_t warnings, uint16_t status);

/*
 * Protocol::ColumnDefinition41 payload into B: catalog "def", SCHEMA, TABLE,
 * org table = TABLE, NAME, org name = NAME (NULL strings are empty), fixed
 * length 0x0c, CHARSET, column LENGTH, TYPE, FLAGS, DECIMALS, two filler
 * bytes. page_protocol_com_query_response_text_resultset_column_definition.
 */
void px_mysql_build_coldef(struct px_buf *b, const char *schema, const char *table,
                           const char *name, uint16_t charset, uint32_t length, uint8_t type,
                           uint16_t flags, uint8_t decimals);

/* ProtocolText::ResultsetRow payload into B: N values as lenenc strings, NULL as 0xFB. */
void px_mysql_build_text_row(struct px_buf *b, size_t n, const char *const *values);

/*
 * Encode REPLY as the packets answering one command into OUT: OK, ERR, or a
 * text result set (column count, column definitions, EOF unless
 * CLIENT_DEPRECATE_EOF in CAPS, rows, then EOF or OK-with-0xFE). STATUS is the
 * server status to report (MORE_RESULTS is never set). Sequence ids start at
 * FIRST_SEQ. Returns the sequence id following the last packet written, or -1
 * on an evbuffer allocation failure.
 */
int px_mysql_encode_reply(const struct mvp_reply *reply, uint32_t caps, uint16_t status_flags,
                          uint8_t first_seq, struct evbuffer *out);

/* What the proxy reads from the server's initial handshake (Protocol::HandshakeV10). */
struct px_handshake {
    uint8_t protocol;           /* 10 */
    char server_version[64];    /* NUL-terminated, truncated to fit */
    uint32_t conn_id;           /* backend connection (thread) id */
    uint32_t caps;              /* capability flags, lower and upper 16 bits */
    uint32_t ext_caps;          /* MariaDB extended capabilities (0 unless MariaDB) */
    bool has_ext_caps;          /* ext caps present (CLIENT_LONG_PASSWORD/"CLIENT_MYSQL" clear) */
    uint8_t charset;            /* server default collation id */
    uint16_t status;            /* server status flags */
    size_t caps_lo_off;         /* payload offset of the lower 2 capability bytes */
    size_t caps_hi_off;         /* payload offset of the upper 2 bytes, 0 when absent */
    size_t ext_caps_off;        /* payload offset of the MariaDB ext caps, 0 when absent */
};

/*
 * Parse the initial handshake payload P of LEN bytes into HS. Returns PX_OK,
 * or PX_ERR when it is not a protocol-10 greeting (e.g. the server sent ERR).
 * page_protocol_connection_phase_packets_protocol_handshake_v10.
 */
int px_mysql_parse_handshake(const uint8_t *p, size_t len, struct px_handshake *hs);

/*
 * Clear capability bits CLEAR (32-bit standard flags) and EXT_CLEAR (MariaDB
 * extended flags) in the greeting payload P (edited in place, LEN unchanged)
 * as parsed into HS; HS->caps/ext_caps are updated to match.
 */
void px_mysql_handshake_clear_caps(uint8_t *p, size_t len, struct px_handshake *hs,
                                   uint32_t clear, uint32_t ext_clear);

/*
 * Set capability bits SET (32-bit standard flags) in the greeting payload P
 * (edited in place, LEN unchanged) as parsed into HS; HS->caps is updated.
 * The proxy sets CLIENT_SSL this way when it terminates TLS itself.
 */
void px_mysql_handshake_set_caps(uint8_t *p, size_t len, struct px_handshake *hs, uint32_t set);

/*
 * Set (ON) or clear CLIENT_SSL in the capability flags of a
 * HandshakeResponse41 or SSLRequest payload P of LEN bytes (at least 4), in
 * place. "Protocol::SSLRequest": the client's 32-byte packet is the first 32
 * bytes of its HandshakeResponse41 with CLIENT_SSL set.
 */
void px_mysql_resp_set_ssl(uint8_t *p, size_t len, bool on);

/* What the proxy reads from HandshakeResponse41. Strings are owned (malloc). */
struct px_handshake_resp {
    uint32_t caps;              /* client capability flags */
    uint32_t ext_caps;          /* MariaDB extended client caps (0 when absent) */
    uint32_t max_packet;        /* client max packet size */
    uint8_t charset;            /* client collation id */
    bool ssl_request;           /* the packet is an SSLRequest (32 bytes, CLIENT_SSL) */
    char *user;                 /* user name (owned), "" when empty */
    char *db;                   /* initial database (owned) or NULL */
    char *auth_plugin;          /* client auth plugin name (owned) or NULL */
};

/*
 * Parse a HandshakeResponse41 payload P of LEN bytes into R (caller zeroed
 * it; free with px_mysql_handshake_resp_free()). Returns PX_OK, or PX_ERR
 * when malformed or pre-4.1. An SSLRequest parses as PX_OK with
 * R->ssl_request set and no user.
 * page_protocol_connection_phase_packets_protocol_handshake_response.
 */
int px_mysql_parse_handshake_resp(const uint8_t *p, size_t len, struct px_handshake_resp *r);

/* Free the strings R owns and zero it. */
void px_mysql_handshake_resp_free(struct px_handshake_resp *r);

/*
 * Parse a COM_CHANGE_USER payload P of LEN bytes (starting with 0x11) sent
 * under client capabilities CAPS: stores the new user and database (owned,
 * malloc; *DB NULL when empty) in *USER and *DB. Returns PX_OK or PX_ERR.
 * page_protocol_com_change_user.
 */
int px_mysql_parse_change_user(const uint8_t *p, size_t len, uint32_t caps, char **user,
                               char **db);

/*
 * Read the status flags of an OK packet (first byte 0x00; or 0xFE ending a
 * result set when DEPRECATE_EOF was negotiated) or of an EOF packet (0xFE
 * without DEPRECATE_EOF) from the first LEN bytes P of its payload (21 bytes
 * are always enough). Returns PX_OK and sets *STATUS, or PX_ERR when short.
 */
int px_mysql_ok_eof_status(const uint8_t *p, size_t len, bool deprecate_eof, uint16_t *status);

/* A parsed OK_Packet (pointers borrow the payload it was parsed from). */
struct px_ok {
    uint8_t header;             /* 0x00, or 0xFE for an OK ending a result set */
    uint64_t affected;          /* affected rows */
    uint64_t insert_id;         /* last insert id */
    uint16_t status;            /* server status flags */
    uint16_t warnings;          /* warning count */
    const uint8_t *info;        /* human-readable info (not NUL-terminated) or NULL */
    size_t info_len;            /* its length, bytes */
    const uint8_t *state;       /* session state changes (the entries, without their
                                 * outer lenenc length) or NULL */
    size_t state_len;           /* their length, bytes */
};

/*
 * Parse the OK_Packet payload P (LEN bytes, header 0x00 or 0xFE) sent on a
 * connection whose capabilities include CLIENT_SESSION_TRACK when TRACK:
 * then info is a lenenc string that may be absent, followed by the session
 * state changes when status has SERVER_SESSION_STATE_CHANGED; without TRACK,
 * info runs to the end of the packet. Fills *OK (pointers into P). Returns
 * PX_OK, or PX_ERR for a truncated or malformed packet (nothing to trust).
 * Follows page_protocol_basic_ok_packet (CLIENT_PROTOCOL_41 assumed).
 */
int px_mysql_parse_ok(const uint8_t *p, size_t len, bool track, struct px_ok *ok);

/*
 * OK payload into B (appended) as a connection WITHOUT CLIENT_SESSION_TRACK
 * receives it: OK's header, counts, status and warnings, then its info to
 * the end of the packet; the session state changes are dropped. What the
 * proxy relays to a client that did not ask for session tracking when the
 * proxy asked the backend for it.
 */
void px_mysql_build_ok_untracked(struct px_buf *b, const struct px_ok *ok);

/*
 * Find the last SESSION_TRACK_SYSTEM_VARIABLES entry for variable NAME
 * (ASCII case-insensitive) in the session state changes STATE/LEN (as
 * px_mysql_parse_ok gives them). Sets *VAL and *VLEN to its value (borrowed).
 * Returns true when found; false when absent or the entries are malformed
 * (a malformed list is never half read: false). Follows
 * page_protocol_basic_ok_packet, "Session State Information".
 */
bool px_mysql_state_sysvar(const uint8_t *state, size_t len, const char *name,
                           const uint8_t **val, size_t *vlen);

/*
 * Set the capability bits ADD in the HandshakeResponse41 payload P (LEN
 * bytes; its first 4 bytes are the client flags) and return the new flags,
 * or 0 when P is too short to be one (nothing changed).
 */
uint32_t px_mysql_handshake_resp_add_caps(uint8_t *p, size_t len, uint32_t add);

/*
 * If the COM_QUERY text SQL (LEN bytes) is a single `USE db` statement
 * (leading whitespace and comments allowed, db optionally backquoted,
 * optional trailing ';'), return the database name (owned, malloc); else NULL.
 */
char *px_mysql_parse_use(const char *sql, size_t len);

#endif /* PX_MYSQL_H */
