/*
 * rw_sqlmode.c - @@sql_mode text to the flags the parser follows. The
 * table of words and the reason for each is in rw_sqlmode.h (MariaDB KB
 * "SQL_MODE").
 */
#include "rw_sqlmode.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* One sql_mode word and the flag it sets (0: harmless for the parser). */
struct mode_word {
    const char *name;
    uint32_t flag;
};

static const struct mode_word mode_words[] = {
    {"ANSI_QUOTES", RW_MODE_ANSI_QUOTES},
    {"PIPES_AS_CONCAT", RW_MODE_PIPES_AS_CONCAT},
    {"NO_BACKSLASH_ESCAPES", RW_MODE_NO_BACKSLASH_ESCAPES},
    {"IGNORE_SPACE", RW_MODE_IGNORE_SPACE},
    {"STRICT_TRANS_TABLES", 0},
    {"STRICT_ALL_TABLES", 0},
    {"ERROR_FOR_DIVISION_BY_ZERO", 0},
    {"NO_AUTO_CREATE_USER", 0},
    {"NO_ENGINE_SUBSTITUTION", 0},
    {"NO_ZERO_DATE", 0},
    {"NO_ZERO_IN_DATE", 0},
    {"NO_AUTO_VALUE_ON_ZERO", 0},
    {"NO_DIR_IN_CREATE", 0},
    {"NO_FIELD_OPTIONS", 0},
    {"NO_KEY_OPTIONS", 0},
    {"NO_TABLE_OPTIONS", 0},
    {"REAL_AS_FLOAT", 0},
    {"ONLY_FULL_GROUP_BY", 0},
    {"TRADITIONAL", 0},
    {"SIMULTANEOUS_ASSIGNMENT", 0},
    {"ANSI", 0},
};

/* True when the N bytes at A equal the word W, ignoring ASCII case. */
static bool
word_eq(const char *a, size_t n, const char *w)
{
    size_t k;

    if (strlen(w) != n) {
        return false;
    }
    for (k = 0; k < n; k++) {
        unsigned char c = (unsigned char)a[k];

        if (c >= 'a' && c <= 'z') {
            c = (unsigned char)(c - 'a' + 'A');
        }
        if (c != (unsigned char)w[k]) {
            return false;
        }
    }
    return true;
}

/* True for the blanks allowed around a word. */
static bool
blank(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* The flag of the N-byte word at W (RW_MODE_UNSUPPORTED when unknown). */
static uint32_t
word_flag(const char *w, size_t n)
{
    size_t k;

    for (k = 0; k < sizeof(mode_words) / sizeof(mode_words[0]); k++) {
        if (word_eq(w, n, mode_words[k].name)) {
            return mode_words[k].flag;
        }
    }
    return RW_MODE_UNSUPPORTED;
}

uint32_t
rw_sql_mode_parse(const char *s, size_t len)
{
    uint32_t mode = 0;
    size_t i = 0;

    if (s == NULL) {
        return 0;
    }
    while (i < len) {
        size_t start, end;

        while (i < len && blank(s[i])) {
            i++;
        }
        start = i;
        while (i < len && s[i] != ',') {
            i++;
        }
        end = i;
        while (end > start && blank(s[end - 1])) {
            end--;
        }
        if (end > start) {
            mode |= word_flag(s + start, end - start);
        }
        i++; /* past the comma */
    }
    return mode;
}

const char *
rw_sql_mode_names(uint32_t mode, char *buf, size_t cap)
{
    static const struct mode_word names[] = {
        {"ANSI_QUOTES", RW_MODE_ANSI_QUOTES},
        {"PIPES_AS_CONCAT", RW_MODE_PIPES_AS_CONCAT},
        {"NO_BACKSLASH_ESCAPES", RW_MODE_NO_BACKSLASH_ESCAPES},
        {"IGNORE_SPACE", RW_MODE_IGNORE_SPACE},
        {"unsupported", RW_MODE_UNSUPPORTED},
    };
    size_t used = 0;
    size_t k;

    if (buf == NULL || cap == 0) {
        return buf;
    }
    buf[0] = '\0';
    for (k = 0; k < sizeof(names) / sizeof(names[0]); k++) {
        int w;

        if ((mode & names[k].flag) == 0) {
            continue;
        }
        w = snprintf(buf + used, cap - used, "%s%s", used > 0 ? "," : "", names[k].name);
        if (w < 0 || (size_t)w >= cap - used) {
            break;
        }
        used += (size_t)w;
    }
    return buf;
}
