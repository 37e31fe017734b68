/*
 * Grandfather-father-son retention. Items come newest first; in each
 * period (local day, ISO week, month, year in the policy's zone) the
 * newest item is the one kept, for as many periods as the rule says.
 */
#include "policy_internal.h"

typedef struct rule {
	unsigned int count;
	const char *reason;
	int64_t last_bucket;
} rule;

static int64_t bucket(int which, const struct tm *tm)
{
	int y = tm->tm_year + 1900, m = tm->tm_mon + 1, d = tm->tm_mday;
	switch (which) {
	case 0: return (int64_t)y * 10000 + m * 100 + d;
	case 1: return cp_iso_week(y, m, d);
	case 2: return (int64_t)y * 100 + m;
	default: return y;
	}
}

void cp_retention_gfs(cp_retention_item *items, size_t n, const cp_gfs *gfs, const char *zone)
{
	rule rules[4] = {
		{gfs->daily, "daily", INT64_MIN},
		{gfs->weekly, "weekly", INT64_MIN},
		{gfs->monthly, "monthly", INT64_MIN},
		{gfs->yearly, "yearly", INT64_MIN},
	};
	for (size_t i = 0; i < n; i++) {
		items[i].keep = 0;
		items[i].reason = NULL;
		if (i == 0) {
			items[i].keep = 1;
			items[i].reason = "newest";
		} else if (i < gfs->last) {
			items[i].keep = 1;
			items[i].reason = "last";
		}
		struct tm tm;
		cp_tz_local(zone, items[i].time, &tm);
		for (int r = 0; r < 4; r++) {
			int64_t b = bucket(r, &tm);
			if (b == rules[r].last_bucket)
				continue;
			rules[r].last_bucket = b;
			if (!rules[r].count)
				continue;
			rules[r].count--;
			if (!items[i].keep) {
				items[i].keep = 1;
				items[i].reason = rules[r].reason;
			}
		}
	}
}
