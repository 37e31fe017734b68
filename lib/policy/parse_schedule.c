/*
 * Schedule objects:
 *   {"every": "day",   "at": ["02:00", "14:00"]}
 *   {"every": "hours", "interval": 6, "minute": 15}
 *   {"every": "week",  "days": ["mon", "thu"], "at": "02:00"}
 *   {"every": "month", "days": [1, 15], "at": "03:00"}
 */
#include "json.h"
#include "parse_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int parse_hhmm(const char *s, int *minute)
{
	for (int i = 0; i < 5; i++)
		if (i == 2 ? s[i] != ':' : (s[i] < '0' || s[i] > '9'))
			return -1;
	if (s[5])
		return -1;
	int h = (s[0] - '0') * 10 + (s[1] - '0');
	int m = (s[3] - '0') * 10 + (s[4] - '0');
	if (h > 23 || m > 59)
		return -1;
	*minute = h * 60 + m;
	return 0;
}

static void add_minute(cp_schedule *s, int minute)
{
	size_t i = 0;
	while (i < s->nat && s->at[i] < minute)
		i++;
	if (i < s->nat && s->at[i] == minute)
		return;
	memmove(&s->at[i + 1], &s->at[i], (s->nat - i) * sizeof(s->at[0]));
	s->at[i] = minute;
	s->nat++;
}

static int parse_at(const cp_policy *p, yajl_val obj, const char *path, cp_schedule *s)
{
	char field[256], got[80];
	yajl_val at = cp_json_get(obj, "at");
	cp_field_path(field, sizeof(field), path, "at");
	if (!at)
		return cp_policy_error(p, field,
				       "is required: local times as \"HH:MM\" (24-hour), "
				       "a string or a list");
	size_t n = YAJL_IS_ARRAY(at) ? at->u.array.len : 1;
	if (n == 0 || n > 24)
		return cp_policy_error(p, field, "must list 1..24 times, got %zu", n);
	for (size_t i = 0; i < n; i++) {
		yajl_val v = YAJL_IS_ARRAY(at) ? at->u.array.values[i] : at;
		int minute;
		if (!YAJL_IS_STRING(v) || parse_hhmm(CP_JSTR(v), &minute)) {
			char item[280];
			if (YAJL_IS_ARRAY(at))
				snprintf(item, sizeof(item), "%s[%zu]", field, i);
			else
				snprintf(item, sizeof(item), "%s", field);
			return cp_policy_error(
				p, item,
				"must be a local time \"HH:MM\" from 00:00 to 23:59, "
				"got %s",
				cp_json_repr(v, got, sizeof(got)));
		}
		add_minute(s, minute);
	}
	return 0;
}

static int parse_weekdays(const cp_policy *p, yajl_val obj, const char *path, cp_schedule *s)
{
	static const char *const names[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};
	char field[256], got[80];
	yajl_val days = cp_json_get(obj, "days");
	cp_field_path(field, sizeof(field), path, "days");
	if (!days || !YAJL_IS_ARRAY(days) || days->u.array.len == 0)
		return cp_policy_error(p, field,
				       "is required: a list of week days, e.g. [\"mon\", \"thu\"] "
				       "(sun, mon, tue, wed, thu, fri, sat)");
	for (size_t i = 0; i < days->u.array.len; i++) {
		yajl_val v = days->u.array.values[i];
		int found = -1;
		for (int d = 0; d < 7 && YAJL_IS_STRING(v); d++)
			if (!strncasecmp(CP_JSTR(v), names[d], 3) && strlen(CP_JSTR(v)) == 3)
				found = d;
		if (found < 0) {
			char item[280];
			snprintf(item, sizeof(item), "%s[%zu]", field, i);
			return cp_policy_error(
				p, item,
				"must be one of sun, mon, tue, wed, thu, fri, sat; got "
				"%s",
				cp_json_repr(v, got, sizeof(got)));
		}
		s->weekdays |= 1u << found;
	}
	return 0;
}

static int parse_monthdays(const cp_policy *p, yajl_val obj, const char *path, cp_schedule *s)
{
	char field[256], got[80];
	yajl_val days = cp_json_get(obj, "days");
	cp_field_path(field, sizeof(field), path, "days");
	if (!days || !YAJL_IS_ARRAY(days) || days->u.array.len == 0)
		return cp_policy_error(p, field,
				       "is required: a list of days of the month 1..31, e.g. [1, "
				       "15] (29..31 mean the last day in shorter months)");
	for (size_t i = 0; i < days->u.array.len; i++) {
		yajl_val v = days->u.array.values[i];
		if (!YAJL_IS_INTEGER(v) || YAJL_GET_INTEGER(v) < 1 || YAJL_GET_INTEGER(v) > 31) {
			char item[280];
			snprintf(item, sizeof(item), "%s[%zu]", field, i);
			return cp_policy_error(p, item, "must be an integer 1..31, got %s",
					       cp_json_repr(v, got, sizeof(got)));
		}
		s->monthdays |= (uint32_t)1 << YAJL_GET_INTEGER(v);
	}
	return 0;
}

int cp_parse_schedule(const cp_policy *p, yajl_val v, const char *path, cp_schedule *s)
{
	static const char *const day_keys[] = {"every", "at", NULL};
	static const char *const hour_keys[] = {"every", "interval", "minute", NULL};
	static const char *const cal_keys[] = {"every", "days", "at", NULL};
	char field[256], got[80];
	memset(s, 0, sizeof(*s));
	if (!v)
		return cp_policy_error(p, path,
				       "is required, e.g. {\"every\": \"day\", \"at\": "
				       "\"02:00\"}");
	int rc = cp_want_object(p, v, path);
	if (rc)
		return rc;
	const char *every = cp_json_str(v, "every");
	if (!every) {
		return cp_policy_error(
			p, cp_field_path(field, sizeof(field), path, "every"),
			"is required: one of \"day\", \"hours\", \"week\", \"month\"; "
			"got %s",
			cp_json_repr(cp_json_get(v, "every"), got, sizeof(got)));
	}
	s->present = 1;
	if (!strcmp(every, "day")) {
		s->every = CP_SCHED_DAY;
		s->weekdays = 0x7f;
		if ((rc = cp_check_keys(p, v, path, day_keys)) || (rc = parse_at(p, v, path, s)))
			return rc;
	} else if (!strcmp(every, "hours")) {
		unsigned int interval, minute;
		s->every = CP_SCHED_HOURS;
		s->weekdays = 0x7f;
		if ((rc = cp_check_keys(p, v, path, hour_keys)) ||
		    (rc = cp_get_uint(p, v, path, "interval", 1, 24, 0, &interval)) ||
		    (rc = cp_get_uint(p, v, path, "minute", 0, 59, 0, &minute)))
			return rc;
		/* Slots restart at local midnight each day, so the interval must divide 24. */
		if (interval == 0 || 24 % interval)
			return cp_policy_error(
				p, cp_field_path(field, sizeof(field), path, "interval"),
				"is required and must divide 24 (1, 2, 3, 4, 6, 8, 12 "
				"or 24), got %s",
				cp_json_repr(cp_json_get(v, "interval"), got, sizeof(got)));
		s->interval = interval;
		for (unsigned int h = 0; h < 24; h += interval)
			add_minute(s, (int)(h * 60 + minute));
	} else if (!strcmp(every, "week")) {
		s->every = CP_SCHED_WEEK;
		if ((rc = cp_check_keys(p, v, path, cal_keys)) ||
		    (rc = parse_weekdays(p, v, path, s)) || (rc = parse_at(p, v, path, s)))
			return rc;
	} else if (!strcmp(every, "month")) {
		s->every = CP_SCHED_MONTH;
		if ((rc = cp_check_keys(p, v, path, cal_keys)) ||
		    (rc = parse_monthdays(p, v, path, s)) || (rc = parse_at(p, v, path, s)))
			return rc;
	} else {
		return cp_policy_error(
			p, cp_field_path(field, sizeof(field), path, "every"),
			"must be one of \"day\", \"hours\", \"week\", \"month\"; got "
			"%s",
			cp_json_repr(cp_json_get(v, "every"), got, sizeof(got)));
	}
	return 0;
}
