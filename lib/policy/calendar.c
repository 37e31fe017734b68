/* Civil calendar arithmetic without the C library, so it needs no time zone. */
#include "policy_internal.h"

/* Days since 1970-01-01 (Howard Hinnant's public-domain algorithm, rewritten). */
int64_t cp_days_from_civil(int year, int month, int day)
{
	int64_t y = year - (month <= 2);
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t mp = (month + 9) % 12; /* March = 0 */
	int64_t doy = (153 * mp + 2) / 5 + day - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

void cp_civil_from_days(int64_t days, int *year, int *month, int *day)
{
	days += 719468;
	int64_t era = (days >= 0 ? days : days - 146096) / 146097;
	int64_t doe = days - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	int d = (int)(doy - (153 * mp + 2) / 5 + 1);
	int m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*year = (int)(yoe + era * 400 + (m <= 2));
	*month = m;
	*day = d;
}

int cp_days_in_month(int year, int month)
{
	static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
	return month == 2 && leap ? 29 : days[month - 1];
}

int cp_weekday(int year, int month, int day)
{
	int64_t d = cp_days_from_civil(year, month, day);
	int64_t w = (d + 4) % 7; /* 1970-01-01 was a Thursday */
	return (int)(w < 0 ? w + 7 : w);
}

int cp_iso_week(int year, int month, int day)
{
	int64_t d = cp_days_from_civil(year, month, day);
	int wd = cp_weekday(year, month, day);
	int iso_wd = wd == 0 ? 7 : wd;
	/* The Thursday of this week decides the ISO year. */
	int64_t thursday = d - iso_wd + 4;
	int ty, tm, td;
	cp_civil_from_days(thursday, &ty, &tm, &td);
	int64_t jan1 = cp_days_from_civil(ty, 1, 1);
	int week = (int)((thursday - jan1) / 7) + 1;
	return ty * 100 + week;
}
