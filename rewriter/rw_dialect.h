/*
 * rw_dialect.h - the MySQL-dialect bridge in front of libpg_query.
 *
 * libpg_query parses PostgreSQL. MariaDB text is translated lexically into
 * text PostgreSQL's grammar accepts, keeping, for every byte of the
 * translated text, the byte offset in the original text it came from, so
 * that parse-tree locations (which are offsets into the translated text)
 * can be mapped back and the rewrite can splice the ORIGINAL text.
 *
 * Offset map: a token copied unchanged maps byte for byte; a translated
 * token maps its first output byte to the token's original start (then
 * byte k to start + min(k, len-1)); white space between tokens is copied
 * byte for byte when the original gap is pure white space, otherwise it is
 * one space mapped to the end of the previous token. So a node's location
 * maps to its original start and its [start, end) to the original span.
 * Only LIMIT a, b and GROUP_CONCAT ... SEPARATOR reorder text (each moved
 * piece still maps to its own original bytes).
 *
 * Translations (MariaDB -> text given to PG), all documented contract:
 *   `ident`                 -> "ident" (case kept, embedded " doubled)
 *   bare identifiers        -> unchanged (PG lower-cases them; the model
 *                              lower-cases column names itself), except:
 *     1abc, $x              -> "1abc", "$x"
 *     PG-reserved words legal as MariaDB identifiers (user, end, offset,
 *     only, array, any, some, cast, do, lateral, full, verbose, ...) ->
 *                              "user" (case kept) unless used as the
 *                              keyword both share (CASE..END, OFFSET n,
 *                              ROWS ONLY, = ANY (...), CAST(...))
 *   'str' / "str"           -> 'str': backslash escapes decoded (\n \t \r
 *                              \b \Z \\ \' \"; \% \_ stay two bytes),
 *                              quotes doubled; adjacent literals joined;
 *                              _charset / N introducers dropped
 *   AS 'x', expr 'x'        -> AS "x", expr "x" (string column alias)
 *   expr month (no AS)      -> expr "month": the words PG takes as a label
 *                              only after AS (day hour minute month second
 *                              year filter window within without), quoted
 *                              after an operand and before , ) ; FROM ...
 *   comments #, -- , / * * / -> removed; / *+ hint * / removed (read hints
 *                              from the original with rw_lex);
 *                              / *!NNNNN x * /, / *M!NNNNNN x * / -> x
 *   ?                       -> $1, $2, ... numbered in original order
 *   @v, @'v', @@[scope.]v   -> mvp_user_var('v'), mvp_sys_var('[scope.]v')
 *   0x1F, 0xF, 0b101        -> X'1F', X'0F', B'101' (X'..', b'..' kept)
 *   LIMIT a, b              -> LIMIT b OFFSET a
 *   INTERVAL e unit         -> mvp_interval(e, 'unit'), unit lower case,
 *                              any MariaDB unit (day, hour_minute, ...);
 *                              FuncCall location = the INTERVAL keyword,
 *                              the 'unit' constant = the unit word
 *   INTERVAL(n, n1, ...)    -> "interval"(n, n1, ...)
 *   a && b, a || b          -> a AND b, a OR b (default sql_mode; for
 *                              PIPES_AS_CONCAT see rw_dialect_translate_mode)
 *   !x                      -> (NOT x) (x: one operand; keeps ! binding)
 *   a <=> b                 -> a IS NOT DISTINCT FROM b
 *   a MOD b                 -> a % b
 *   a REGEXP/RLIKE b        -> a ~ b;  a NOT REGEXP/RLIKE b -> a !~ b
 *                              (MariaDB REGEXP is case-insensitive under
 *                              ci collations; ~ is only a marker here)
 *   CHAR( TIME( TIMESTAMP( VALUES( USER( SESSION_USER(
 *                           -> "char"( "time"( ... : a plain FuncCall with
 *                              the lower-cased name
 *   CURRENT_DATE() CURRENT_TIME() CURRENT_TIMESTAMP() LOCALTIME()
 *   LOCALTIMESTAMP() CURRENT_USER() CURRENT_ROLE()
 *                           -> the keyword without () (SQLValueFunction)
 *   CAST(x AS SIGNED [INT|INTEGER]) -> CAST(x AS SIGNED) (type "signed");
 *                              UNSIGNED likewise; other types unchanged
 *                              (DECIMAL(p,s), CHAR(n), DATE, DATETIME ...)
 *   CONVERT(x, type)        -> CAST(x AS type) (TypeCast at CONVERT)
 *   GROUP_CONCAT(x [ORDER BY o] SEPARATOR 's')
 *                           -> GROUP_CONCAT(x, separator => 's' [ORDER BY o])
 *                              (a NamedArgExpr "separator")
 *   SELECT SQL_NO_CACHE / SQL_CACHE / SQL_CALC_FOUND_ROWS / HIGH_PRIORITY /
 *   STRAIGHT_JOIN / SQL_SMALL_RESULT / SQL_BIG_RESULT / SQL_BUFFER_RESULT
 *                           -> removed; DISTINCTROW -> DISTINCT
 *   t1 STRAIGHT_JOIN t2     -> t1 JOIN t2
 *   FROM DUAL               -> removed
 *   USE|FORCE|IGNORE INDEX|KEY [FOR ...] (...) [, ...] -> removed
 *   LOCK IN SHARE MODE      -> FOR SHARE   (FOR UPDATE unchanged)
 * Accepted by PG unchanged (checked): IF(), LEFT(), RIGHT(), DATE(),
 * YEAR() MONTH() DAY() HOUR() QUARTER() WEEK(), DATE_FORMAT, LAST_DAY,
 * SUBSTRING(x FROM a FOR b), EXTRACT(unit FROM x), TRIM, POSITION,
 * COUNT(DISTINCT x), NOW(), CURDATE(), IFNULL, STR_TO_DATE, MOD(a,b),
 * TRUNCATE(x,n), REPLACE(), INSERT(), DATE_ADD/DATE_SUB (with the interval
 * rewritten), FOR UPDATE, DATE 'x' / TIMESTAMP 'x' literals.
 *
 * Returns -1 (statement relayed unchanged, never rewritten) for: XOR, DIV,
 * :=, WITH ROLLUP, a string whose value holds a NUL byte, unterminated
 * strings / quoted identifiers / X'.. literals, ! without a delimitable
 * operand, nesting deeper than 200 constructs, out of memory.
 * Anything else is passed through unchanged (libpg_query then parses it
 * or reports a syntax error, and the query is relayed), e.g.
 * CONVERT(x USING cs), MATCH ... AGAINST, CAST(x AS CHAR CHARACTER SET cs),
 * GROUP_CONCAT(... LIMIT n). Note: ^ (MariaDB bit XOR) reaches PG as ^
 * (power) unchanged; only its operator name matters for matching.
 */
#ifndef RW_DIALECT_H
#define RW_DIALECT_H

#include <stddef.h>
#include <stdint.h>

struct rw_dialect_out {
    char *text;         /* translated text, NUL-terminated (owned) */
    size_t len;         /* bytes in text */
    size_t *orig_off;   /* len+1 entries: orig_off[i] = offset in the original of text byte i;
                           orig_off[len] = original length (owned) */
};

/*
 * Translate LEN bytes of MariaDB SQL at SRC. Fills OUT (caller frees with
 * rw_dialect_free). Returns 0, or -1 when the text uses something the bridge
 * knows PostgreSQL cannot parse and it cannot translate (the caller then
 * relays the query unchanged).
 */
int rw_dialect_translate(const char *src, size_t len, struct rw_dialect_out *out);

/*
 * rw_dialect_translate for text issued under the sql_mode flags MODE
 * (RW_MODE_*, base/rw_sqlmode.h; MariaDB KB "SQL_MODE"); mode 0 is
 * rw_dialect_translate. The differences:
 *   ANSI_QUOTES           "x" is an identifier -> "x" (like `x`)
 *   NO_BACKSLASH_ESCAPES  a backslash in a string is an ordinary byte
 *   PIPES_AS_CONCAT       a || b || c -> concat(a, b, c), each operand one
 *                         primary (|| binds tighter than * and ^ in
 *                         MariaDB); -1 when what stands before or after
 *                         the chain could take a part of an operand
 *                         (-a || b, DATE 'x' || y, a || b alias, ...)
 *   IGNORE_SPACE          absent (the default): a name of MariaDB's
 *                         "function needing an immediate (" list followed
 *                         by a gap (space or comment) and "(" -> -1, as
 *                         MariaDB reads it as an identifier (COUNT (*) is
 *                         a syntax error); present: accepted
 *   RW_MODE_UNSUPPORTED   -1 at once
 * Same ownership and errors as rw_dialect_translate.
 */
int rw_dialect_translate_mode(const char *src, size_t len, uint32_t mode,
                              struct rw_dialect_out *out);

/* Free what OUT owns and zero it. */
void rw_dialect_free(struct rw_dialect_out *out);

/* Original offset of translated offset OFF (clamped to the text length). */
size_t rw_dialect_orig(const struct rw_dialect_out *out, size_t off);

#endif /* RW_DIALECT_H */
