/* When schedules fire: slots are local dates and times in the policy's zone. */
#include "policy_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Far enough back or ahead for any monthly schedule, short enough to stay cheap. */
#define SCAN_DAYS 400

int cp_schedule_on_day(const cp_schedule *s, int year, int month, int day)
{
	switch (s->every) {
	case CP_SCHED_DAY:
	case CP_SCHED_HOURS: return 1;
	case CP_SCHED_WEEK: return (s->weekdays >> cp_weekday(year, month, day)) & 1;
	case CP_SCHED_MONTH:
		if ((s->monthdays >> day) & 1)
			return 1;
		/* Day 29..31 in a shorter month runs on its last day instead of never. */
		if (day < 31 && day == cp_days_in_month(year, month))
			return (s->monthdays >> (day + 1)) != 0;
		return 0;
	}
	return 0;
}

static void local_day(const char *zone, int64_t now, int64_t *days)
{
	struct tm tm;
	cp_tz_local(zone, now, &tm);
	*days = cp_days_from_civil(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
}

int64_t cp_schedule_prev(const cp_schedule *s, const char *zone, int64_t now)
{
	if (!s->present || !s->nat)
		return INT64_MIN;
	int64_t today;
	local_day(zone, now, &today);
	for (int64_t d = today + 1; d >= today - SCAN_DAYS; d--) {
		int y, m, dd;
		cp_civil_from_days(d, &y, &m, &dd);
		if (!cp_schedule_on_day(s, y, m, dd))
			continue;
		for (size_t i = s->nat; i-- > 0;) {
			int64_t t = cp_tz_to_utc(zone, y, m, dd, s->at[i]);
			if (t <= now)
				return t;
		}
	}
	return INT64_MIN;
}

int64_t cp_schedule_next(const cp_schedule *s, const char *zone, int64_t now)
{
	if (!s->present || !s->nat)
		return INT64_MAX;
	int64_t today;
	local_day(zone, now, &today);
	for (int64_t d = today - 1; d <= today + SCAN_DAYS; d++) {
		int y, m, dd;
		cp_civil_from_days(d, &y, &m, &dd);
		if (!cp_schedule_on_day(s, y, m, dd))
			continue;
		for (size_t i = 0; i < s->nat; i++) {
			int64_t t = cp_tz_to_utc(zone, y, m, dd, s->at[i]);
			if (t > now)
				return t;
		}
	}
	return INT64_MAX;
}

static size_t put(char *buf, size_t len, size_t pos, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static size_t put(char *buf, size_t len, size_t pos, const char *fmt, ...)
{
	if (pos >= len)
		return pos;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf + pos, len - pos, fmt, ap);
	va_end(ap);
	return n < 0 ? pos : pos + (size_t)n;
}

static size_t put_times(const cp_schedule *s, char *buf, size_t len, size_t pos)
{
	pos = put(buf, len, pos, " at");
	for (size_t i = 0; i < s->nat; i++)
		pos = put(buf, len, pos, "%s%02d:%02d", i ? "," : " ", s->at[i] / 60,
			  s->at[i] % 60);
	return pos;
}

const char *cp_schedule_describe(const cp_schedule *s, char *buf, size_t len)
{
	static const char *const days[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};
	size_t pos = 0;
	buf[0] = '\0';
	switch (s->every) {
	case CP_SCHED_DAY: put_times(s, buf, len, put(buf, len, 0, "daily")); break;
	case CP_SCHED_HOURS:
		put(buf, len, 0, "every %u hours from %02d:%02d", s->interval, s->at[0] / 60,
		    s->at[0] % 60);
		break;
	case CP_SCHED_WEEK:
		pos = put(buf, len, 0, "weekly on");
		for (int d = 0, first = 1; d < 7; d++)
			if ((s->weekdays >> d) & 1) {
				pos = put(buf, len, pos, "%s%s", first ? " " : ",", days[d]);
				first = 0;
			}
		put_times(s, buf, len, pos);
		break;
	case CP_SCHED_MONTH:
		pos = put(buf, len, 0, "monthly on day");
		for (int d = 1, first = 1; d <= 31; d++)
			if ((s->monthdays >> d) & 1) {
				pos = put(buf, len, pos, "%s%d", first ? " " : ",", d);
				first = 0;
			}
		put_times(s, buf, len, pos);
		break;
	}
	return buf;
}

double cp_schedule_per_day(const cp_schedule *s)
{
	if (!s->present)
		return 0;
	switch (s->every) {
	case CP_SCHED_DAY:
	case CP_SCHED_HOURS: return (double)s->nat;
	case CP_SCHED_WEEK: return (double)__builtin_popcount(s->weekdays) * (double)s->nat / 7.0;
	case CP_SCHED_MONTH:
		return (double)__builtin_popcount(s->monthdays) * (double)s->nat / 30.0;
	}
	return 0;
}
