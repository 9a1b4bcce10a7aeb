/*
 * cat_calendar.h - calendar math of the base library: proleptic Gregorian
 * day numbers (days since 1970-01-01) and the units a partitioned view
 * floors to (PARTITION BY date_trunc, partition_sync_time_unit) and time
 * roll-up compares (Doris date_trunc units; ISO weeks start on Monday).
 * Pure functions, no state: thread-safe.
 */
#ifndef CAT_CALENDAR_H
#define CAT_CALENDAR_H

#include <stdbool.h>
#include <stdint.h>

/* Calendar units of PARTITION BY date_trunc and partition_sync_time_unit. */
enum cat_punit {
    CAT_PU_NONE = 0,                /* no flooring (the column itself) */
    CAT_PU_DAY,
    CAT_PU_WEEK,                    /* ISO weeks, starting Monday (Doris date_trunc) */
    CAT_PU_MONTH,
    CAT_PU_QUARTER,
    CAT_PU_YEAR,
};

#define CAT_DAY_MIN INT64_C(-100000000)    /* "minus infinity" in day numbers */
#define CAT_DAY_MAX INT64_C(100000000)     /* "plus infinity" */

int64_t cat_day_from_ymd(int y, int m, int d);
void cat_day_to_ymd(int64_t day, int *y, int *m, int *d);
/* Parse "YYYY-MM-DD[ HH:MM:SS[.ffffff]]" (also YYYYMMDD); false when not a date. */
bool cat_day_parse(const char *s, int64_t *day);
/* Start of the UNIT containing DAY (NONE and DAY return DAY). */
int64_t cat_unit_floor(int64_t day, enum cat_punit unit);
/* Start of the unit after the one starting at LO. */
int64_t cat_unit_next(int64_t lo, enum cat_punit unit);
/* "day" / "month" ... (lower case) -> unit; CAT_PU_NONE when unknown. */
enum cat_punit cat_unit_parse(const char *s);
const char *cat_unit_name(enum cat_punit u);

#endif /* CAT_CALENDAR_H */
