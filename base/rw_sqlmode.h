/*
 * rw_sqlmode.h - the session's sql_mode, as the flags the parser follows.
 *
 * The proxy parses statements itself (front door, dialect bridge, write
 * marker). A few sql_mode flags change how MariaDB reads the text; the
 * parser must read it the same way or not at all (issue 11). A mode the
 * bridge cannot honour is RW_MODE_UNSUPPORTED: nothing is rewritten.
 *
 * Source: MariaDB KB "SQL_MODE" (and "Operator Precedence", "Identifier
 * Names", "String Literals"); the reports of MariaDB 10.11 for the
 * composite modes were checked against the server (SET sql_mode='ANSI'
 * then SELECT @@sql_mode gives REAL_AS_FLOAT,PIPES_AS_CONCAT,ANSI_QUOTES,
 * IGNORE_SPACE,ANSI; ORACLE, MSSQL, POSTGRESQL, DB2, MAXDB are reported
 * with PIPES_AS_CONCAT,ANSI_QUOTES,IGNORE_SPACE plus their own word; MYSQL40
 * and MYSQL323 with HIGH_NOT_PRECEDENCE; TRADITIONAL with the STRICT_* and
 * NO_ZERO_* words).
 *
 * | word                       | flag        | why                                                |
 * |----------------------------|-------------|----------------------------------------------------|
 * | ANSI_QUOTES                | ANSI_QUOTES | "x" is an identifier: the lexer makes it a QIDENT  |
 * | PIPES_AS_CONCAT            | PIPES_...   | || is concatenation, binding tighter than ^ and *; |
 * |                            |             | the bridge turns a delimited chain into CONCAT()   |
 * | NO_BACKSLASH_ESCAPES       | NO_BACKSL.. | \ is an ordinary byte in strings: lexer and decoder|
 * | IGNORE_SPACE               | IGNORE_SP.. | COUNT (x) is a call; without it the bridge refuses |
 * |                            |             | such a gap (MariaDB reads the name as an ident)    |
 * | STRICT_TRANS_TABLES,       | none        | checks on writes (INSERT/UPDATE values); a SELECT  |
 * | STRICT_ALL_TABLES          |             | reads the same; writes are only relayed            |
 * | ERROR_FOR_DIVISION_BY_ZERO | none        | errors on writes; SELECT still gives NULL+warning  |
 * | NO_AUTO_CREATE_USER        | none        | GRANT only                                         |
 * | NO_ENGINE_SUBSTITUTION,    | none        | CREATE/ALTER TABLE only                            |
 * | NO_DIR_IN_CREATE           |             |                                                    |
 * | NO_ZERO_DATE,              | none        | validation of values written; reads unchanged      |
 * | NO_ZERO_IN_DATE            |             |                                                    |
 * | NO_AUTO_VALUE_ON_ZERO      | none        | AUTO_INCREMENT on INSERT only                      |
 * | NO_FIELD_OPTIONS,          | none        | what SHOW CREATE TABLE prints                      |
 * | NO_KEY_OPTIONS,            |             |                                                    |
 * | NO_TABLE_OPTIONS           |             |                                                    |
 * | REAL_AS_FLOAT              | none        | the REAL column type in DDL (CAST(x AS REAL) is a  |
 * |                            |             | syntax error in 10.11, checked)                    |
 * | ONLY_FULL_GROUP_BY         | none        | only rejects queries; a rewrite keeps the grouping |
 * | SIMULTANEOUS_ASSIGNMENT    | none        | UPDATE SET order; the tables written are the same  |
 * | TRADITIONAL, ANSI          | none        | composites: the server reports their parts too     |
 * | ORACLE                     | UNSUPPORTED | another grammar (sql_mode=ORACLE parser)           |
 * | MSSQL, DB2, POSTGRESQL,    | UNSUPPORTED | composites with their own dialect switches; not    |
 * | MAXDB                      |             | modelled (MAXDB: TIMESTAMP means DATETIME)         |
 * | MYSQL323, MYSQL40          | UNSUPPORTED | old-server compatibility (HIGH_NOT_PRECEDENCE)     |
 * | HIGH_NOT_PRECEDENCE        | UNSUPPORTED | NOT a BETWEEN b AND c parses as (NOT a) BETWEEN .. |
 * | NO_UNSIGNED_SUBTRACTION    | UNSUPPORTED | unsigned a - b is signed: values differ from the   |
 * |                            |             | view's, computed in the default mode               |
 * | EMPTY_STRING_IS_NULL       | UNSUPPORTED | the literal '' means NULL                          |
 * | PAD_CHAR_TO_FULL_LENGTH    | UNSUPPORTED | CHAR values read padded: differ from a view's copy |
 * | TIME_ROUND_FRACTIONAL      | UNSUPPORTED | temporal conversions round instead of truncating   |
 * | ALLOW_INVALID_DATES        | UNSUPPORTED | string-to-date conversions accept other values     |
 * | any other word             | UNSUPPORTED | unknown: never guess                               |
 */
#ifndef RW_SQLMODE_H
#define RW_SQLMODE_H

#include <stddef.h>
#include <stdint.h>

#define RW_MODE_ANSI_QUOTES (1u << 0)
#define RW_MODE_PIPES_AS_CONCAT (1u << 1)
#define RW_MODE_NO_BACKSLASH_ESCAPES (1u << 2)
#define RW_MODE_IGNORE_SPACE (1u << 3)
#define RW_MODE_UNSUPPORTED (1u << 31) /* a mode the bridge cannot honour: never rewrite */

/* Every flag the parser honours (the others are harmless or UNSUPPORTED). */
#define RW_MODE_HONOURED                                                                           \
    (RW_MODE_ANSI_QUOTES | RW_MODE_PIPES_AS_CONCAT | RW_MODE_NO_BACKSLASH_ESCAPES |                \
     RW_MODE_IGNORE_SPACE)

/*
 * MariaDB's @@sql_mode text (LEN bytes at S, not necessarily NUL-terminated:
 * a comma list of words in any case, as the server reports it; blanks
 * around words are ignored, empty items skipped) -> RW_MODE_* flags, per
 * the table above. S NULL or empty: 0 (MariaDB's default parse). A word
 * not in the table sets RW_MODE_UNSUPPORTED; the other words are still
 * read. Never fails; allocates nothing.
 */
uint32_t rw_sql_mode_parse(const char *s, size_t len);

/*
 * The names of the flags in MODE, comma-separated, upper case
 * ("ANSI_QUOTES,IGNORE_SPACE"; "unsupported" for RW_MODE_UNSUPPORTED;
 * "" for 0), written NUL-terminated into BUF (CAP bytes, truncated to
 * fit). Returns BUF. For messages (EXPLAIN REWRITE, admin errors).
 */
const char *rw_sql_mode_names(uint32_t mode, char *buf, size_t cap);

#endif /* RW_SQLMODE_H */
