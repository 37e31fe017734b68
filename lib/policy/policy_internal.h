/* The parsed policy and the helpers the planner, runner and cost model share. */
#ifndef CP_LIB_POLICY_INTERNAL_H
#define CP_LIB_POLICY_INTERNAL_H

#include "cloudprotect/policy.h"

#include <stdint.h>
#include <time.h>

#define CP_SCHED_MAX_AT 48

typedef enum {
	CP_SCHED_DAY = 0,
	CP_SCHED_HOURS,
	CP_SCHED_WEEK,
	CP_SCHED_MONTH,
} cp_sched_every;

/** A schedule expanded to "on these days, at these local minutes". */
typedef struct cp_schedule {
	int present;
	cp_sched_every every;
	int at[CP_SCHED_MAX_AT]; /* minutes after local midnight, ascending, unique */
	size_t nat;
	unsigned int weekdays; /* bit 0 = Sunday .. bit 6 = Saturday; all for day/hours */
	uint32_t monthdays;    /* bit d = day d (1..31); 31 also means the month's last day */
	unsigned int interval; /* hours, for CP_SCHED_HOURS */
} cp_schedule;

typedef struct cp_gfs {
	unsigned int last, daily, weekly, monthly, yearly;
} cp_gfs;

struct cp_policy {
	char *origin;
	char *name;
	char *timezone;

	int select_all;
	char **ids;
	size_t nids;
	cp_tag *tags; /* owned strings; value NULL matches any */
	size_t ntags;
	unsigned int kinds; /* bit per cp_resource_kind; 0 = any */
	char **regions;
	size_t nregions;
	char **accounts;
	size_t naccounts;

	int has_snapshots; /* the document has a "snapshots" section */
	cp_schedule snapshot_schedule;
	unsigned int snapshot_keep_days; /* 0: no age limit */
	unsigned int snapshot_keep_last; /* at least 1 */

	int has_backups;
	cp_schedule backup_schedule;
	char *repository;
	char *repository_region; /* optional hint for the cost model */
	cp_gfs gfs;

	int has_archive;
	char *archive_repository;
	char *archive_region;
	char *archive_class;
	unsigned int archive_after_days;

	unsigned int immutable_days;
	unsigned int concurrency;
	int prune;
};

/* Time zones (tz.c). Conversions switch the process TZ under one mutex. */

/** 1 when name is a zone the tz database has (or "UTC"). */
int cp_tz_valid(const char *name);
/** UTC -> local broken-down time in zone. */
void cp_tz_local(const char *zone, int64_t t, struct tm *out);
/**
 * Local date and minute of day -> UTC. A time skipped by a DST change runs
 * as if the clock had not jumped (02:30 on spring-forward is 03:30 new
 * time); a repeated time means its first occurrence.
 */
int64_t cp_tz_to_utc(const char *zone, int year, int month, int day, int minute);

/* Civil calendar (calendar.c): proleptic Gregorian, month 1..12. */

int64_t cp_days_from_civil(int year, int month, int day);
void cp_civil_from_days(int64_t days, int *year, int *month, int *day);
int cp_days_in_month(int year, int month);
/** 0 = Sunday. */
int cp_weekday(int year, int month, int day);
/** ISO 8601 week-numbering year * 100 + week. */
int cp_iso_week(int year, int month, int day);

/* Schedules (schedule.c). */

/** 1 when the schedule fires on that local date. */
int cp_schedule_on_day(const cp_schedule *s, int year, int month, int day);
/** The latest slot <= now, or INT64_MIN when none within 400 days. */
int64_t cp_schedule_prev(const cp_schedule *s, const char *zone, int64_t now);
/** The earliest slot > now, or INT64_MAX when none within 400 days. */
int64_t cp_schedule_next(const cp_schedule *s, const char *zone, int64_t now);
/** "daily 02:30", "every 6 hours", ... for reasons; writes into buf. */
const char *cp_schedule_describe(const cp_schedule *s, char *buf, size_t len);
/** Average slots per day (for the cost model). */
double cp_schedule_per_day(const cp_schedule *s);

/* Retention (retention.c). */

typedef struct cp_retention_item {
	int64_t time;
	int keep;	    /* out: 1 to keep */
	const char *reason; /* out: static text */
} cp_retention_item;

/** GFS over items sorted newest first; the newest is always kept. */
void cp_retention_gfs(cp_retention_item *items, size_t n, const cp_gfs *gfs, const char *zone);

/* Helpers for parse errors (parse_util.c). */

int cp_policy_error(const cp_policy *p, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/** A selected resource's snapshots/backups belong to it (by id, or by instance). */
int cp_policy_tagged(const cp_tag *tags, size_t ntags, const char *policy_name);

#endif
