#include "http/date.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

static const char *const DAYS[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
static const char *const MONTHS[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
				     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

void cp_http_date_format(int64_t t, char out[CP_HTTP_DATE_LEN])
{
	time_t tt = (time_t)t;
	struct tm tm;
	gmtime_r(&tt, &tm);
	snprintf(out, CP_HTTP_DATE_LEN, "%s, %02d %s %04d %02d:%02d:%02d GMT", DAYS[tm.tm_wday % 7],
		 tm.tm_mday, MONTHS[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
		 tm.tm_sec);
}

/* n decimal digits at *p, advancing it; -1 when they are not there. */
static int digits(const char **p, int n)
{
	int v = 0;
	for (int i = 0; i < n; i++, (*p)++) {
		if (**p < '0' || **p > '9')
			return -1;
		v = v * 10 + (**p - '0');
	}
	return v;
}

/* The literal text at *p, advancing past it; 0 when it is not there. */
static int expect(const char **p, const char *text)
{
	size_t n = strlen(text);
	if (strncmp(*p, text, n))
		return 0;
	*p += n;
	return 1;
}

int64_t cp_http_date_parse(const char *text)
{
	if (!text || strlen(text) < 25 || text[3] != ',')
		return 0;
	const char *p = text + 4;
	struct tm tm;
	memset(&tm, 0, sizeof(tm));
	int ok = expect(&p, " ") && (tm.tm_mday = digits(&p, 2)) > 0 && expect(&p, " ");
	tm.tm_mon = -1;
	for (int m = 0; ok && m < 12 && tm.tm_mon < 0; m++)
		if (expect(&p, MONTHS[m]))
			tm.tm_mon = m;
	ok = ok && tm.tm_mon >= 0 && expect(&p, " ") && (tm.tm_year = digits(&p, 4)) >= 1970 &&
	     expect(&p, " ") && (tm.tm_hour = digits(&p, 2)) >= 0 && expect(&p, ":") &&
	     (tm.tm_min = digits(&p, 2)) >= 0 && expect(&p, ":") &&
	     (tm.tm_sec = digits(&p, 2)) >= 0;
	if (!ok || tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60)
		return 0;
	tm.tm_year -= 1900;
	return (int64_t)timegm(&tm);
}
