/*
 * HTTP dates (RFC 9110 IMF-fixdate, "Sun, 06 Nov 1994 08:49:37 GMT"),
 * written and read by hand: strftime's %a and %b and strptime follow
 * the locale, which a program embedding the library may have changed.
 */
#ifndef CP_LIB_HTTP_DATE_H
#define CP_LIB_HTTP_DATE_H

#include <stdint.h>

#define CP_HTTP_DATE_LEN 40

/** Unix seconds as an HTTP date. */
void cp_http_date_format(int64_t t, char out[CP_HTTP_DATE_LEN]);

/** An HTTP date as unix seconds; 0 for NULL or anything else. */
int64_t cp_http_date_parse(const char *text);

#endif
