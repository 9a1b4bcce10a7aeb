/*
 * cat_calendar.c - proleptic Gregorian date arithmetic on day numbers (days
 * since 1970-01-01) and the calendar units of partitioning and time roll-up
 * (cat_calendar.h).
 */
#include "cat_calendar.h"
#include "cat_util.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


int64_t
cat_day_from_ymd(int y, int m, int d)
{
    /* H. Hinnant, "chrono-Compatible Low-Level Date Algorithms", days_from_civil */
    int64_t yy = (int64_t)y - (m <= 2);
    int64_t era = (yy >= 0 ? yy : yy - 399) / 400;
    int64_t yoe = yy - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

void
cat_day_to_ymd(int64_t z, int *y, int *m, int *d)
{
    int64_t era, doe, yoe, doy, mp, yy;
    z += 719468;
    era = (z >= 0 ? z : z - 146096) / 146097;
    doe = z - era * 146097;
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    yy = yoe + era * 400;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yy + (*m <= 2));
}

bool
cat_day_parse(const char *s, int64_t *day)
{
    int y, m, d, n = 0;
    while (s != NULL && isspace((unsigned char)*s)) {
        s++;
    }
    if (s == NULL) {
        return false;
    }
    if (sscanf(s, "%4d-%2d-%2d%n", &y, &m, &d, &n) == 3 && n >= 8) {
        /* fine */
    } else if (strlen(s) >= 8 && isdigit((unsigned char)s[0]) &&
               sscanf(s, "%4d%2d%2d%n", &y, &m, &d, &n) == 3 && n == 8) {
        /* YYYYMMDD */
    } else {
        return false;
    }
    if (y < 1 || m < 1 || m > 12 || d < 1 || d > 31) {
        return false;
    }
    /* what follows must be empty or a time */
    s += n;
    if (*s != '\0' && *s != ' ' && *s != 'T') {
        return false;
    }
    *day = cat_day_from_ymd(y, m, d);
    return true;
}

int64_t
cat_unit_floor(int64_t day, enum cat_punit unit)
{
    int y, m, d;
    int64_t wd;
    switch (unit) {
    case CAT_PU_WEEK:
        wd = ((day + 3) % 7 + 7) % 7; /* 1970-01-01 was a Thursday; Monday = 0 */
        return day - wd;
    case CAT_PU_MONTH:
        cat_day_to_ymd(day, &y, &m, &d);
        return cat_day_from_ymd(y, m, 1);
    case CAT_PU_QUARTER:
        cat_day_to_ymd(day, &y, &m, &d);
        return cat_day_from_ymd(y, (m - 1) / 3 * 3 + 1, 1);
    case CAT_PU_YEAR:
        cat_day_to_ymd(day, &y, &m, &d);
        return cat_day_from_ymd(y, 1, 1);
    default:
        return day;
    }
}

int64_t
cat_unit_next(int64_t lo, enum cat_punit unit)
{
    int y, m, d;
    switch (unit) {
    case CAT_PU_WEEK:
        return lo + 7;
    case CAT_PU_MONTH:
    case CAT_PU_QUARTER:
        cat_day_to_ymd(lo, &y, &m, &d);
        m += unit == CAT_PU_MONTH ? 1 : 3;
        if (m > 12) {
            m -= 12;
            y++;
        }
        return cat_day_from_ymd(y, m, 1);
    case CAT_PU_YEAR:
        cat_day_to_ymd(lo, &y, &m, &d);
        return cat_day_from_ymd(y + 1, 1, 1);
    default:
        return lo + 1;
    }
}

enum cat_punit
cat_unit_parse(const char *s)
{
    static const char *const names[] = {"", "day", "week", "month", "quarter", "year"};
    size_t i;
    for (i = 1; s != NULL && i < sizeof(names) / sizeof(names[0]); i++) {
        if (cat_streq_ci(s, names[i])) {
            return (enum cat_punit)i;
        }
    }
    return CAT_PU_NONE;
}

const char *
cat_unit_name(enum cat_punit u)
{
    static const char *const names[] = {"none", "day", "week", "month", "quarter", "year"};
    return (unsigned)u < sizeof(names) / sizeof(names[0]) ? names[u] : "none";
}

