/*
 * Time zone conversions through the system tz database. glibc offers no
 * per-call zone, so each conversion switches TZ under one mutex and puts
 * it back. That is safe among callers of these helpers, but not against
 * other threads calling localtime() or mktime() meanwhile, which briefly
 * see the policy's zone: documented in doc/policy.md.
 */
#include "policy_internal.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static pthread_mutex_t tz_lock = PTHREAD_MUTEX_INITIALIZER;

static int is_utc(const char *zone)
{
	return !zone || !*zone || !strcmp(zone, "UTC") || !strcmp(zone, "Etc/UTC");
}

int cp_tz_valid(const char *name)
{
	if (is_utc(name))
		return 1;
	/* An IANA name: no absolute paths, no "..", only the characters zone names use. */
	if (name[0] == '/' || strstr(name, ".."))
		return 0;
	for (const char *c = name; *c; c++)
		if (!((*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') ||
		      (*c >= '0' && *c <= '9') || strchr("/_+-", *c)))
			return 0;
	const char *dir = getenv("TZDIR");
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", dir && *dir ? dir : "/usr/share/zoneinfo", name);
	struct stat st;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* Caller holds tz_lock. Returns the previous TZ (malloc'd) or NULL when unset. */
static char *switch_tz(const char *zone)
{
	const char *old = getenv("TZ");
	char *saved = old ? strdup(old) : NULL;
	setenv("TZ", is_utc(zone) ? "UTC0" : zone, 1);
	tzset();
	return saved;
}

static void restore_tz(char *saved)
{
	if (saved)
		setenv("TZ", saved, 1);
	else
		unsetenv("TZ");
	tzset();
	free(saved);
}

void cp_tz_local(const char *zone, int64_t t, struct tm *out)
{
	time_t tt = (time_t)t;
	if (is_utc(zone)) {
		gmtime_r(&tt, out);
		return;
	}
	pthread_mutex_lock(&tz_lock);
	char *saved = switch_tz(zone);
	localtime_r(&tt, out);
	restore_tz(saved);
	pthread_mutex_unlock(&tz_lock);
}

static int matches(time_t t, int year, int month, int day, int minute)
{
	struct tm tm;
	localtime_r(&t, &tm);
	return tm.tm_year + 1900 == year && tm.tm_mon + 1 == month && tm.tm_mday == day &&
	       tm.tm_hour * 60 + tm.tm_min == minute;
}

int64_t cp_tz_to_utc(const char *zone, int year, int month, int day, int minute)
{
	if (is_utc(zone))
		return cp_days_from_civil(year, month, day) * 86400 + (int64_t)minute * 60;
	pthread_mutex_lock(&tz_lock);
	char *saved = switch_tz(zone);
	time_t t[2];
	int ok[2];
	for (int dst = 0; dst < 2; dst++) {
		struct tm tm;
		memset(&tm, 0, sizeof(tm));
		tm.tm_year = year - 1900;
		tm.tm_mon = month - 1;
		tm.tm_mday = day;
		tm.tm_hour = minute / 60;
		tm.tm_min = minute % 60;
		tm.tm_isdst = dst;
		t[dst] = mktime(&tm);
		ok[dst] = t[dst] != (time_t)-1 && matches(t[dst], year, month, day, minute);
	}
	restore_tz(saved);
	pthread_mutex_unlock(&tz_lock);
	if (ok[0] && ok[1])
		return t[0] < t[1] ? t[0] : t[1]; /* repeated hour: the first one */
	if (ok[0] || ok[1])
		return ok[0] ? t[0] : t[1];
	/*
	 * Skipped by a jump forward: read with the offset in force before the
	 * jump, which lands as far past the jump as the time was past its start.
	 */
	return t[0] > t[1] ? t[0] : t[1];
}
