/*
 * Names we make up for what we create in RDS and Redshift, whose
 * identifiers allow letters, digits and single hyphens, starting with a
 * letter. Both services name snapshots and restored resources alike, so
 * a user can tell at a glance what cloudprotect made and when.
 */
#include "error.h"
#include "provider_aws.h"

#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

int aws_snapshot_name(char *out, size_t cap, const char *source)
{
	/* The random tail keeps two snapshots taken in the same second apart. */
	unsigned char r[3];
	if (RAND_bytes(r, sizeof(r)) != 1)
		return cp_error_set(CP_ERROR, CP_ERRCLASS_OS, "no random bytes from OpenSSL");
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	char when[32];
	strftime(when, sizeof(when), "%Y%m%d%H%M%S", &tm);
	snprintf(out, cap, "cloudprotect-%.180s-%s-%02x%02x%02x", source, when, r[0], r[1], r[2]);
	return 0;
}

void aws_restored_name(char *out, size_t cap, const char *source, size_t max)
{
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	char when[32];
	strftime(when, sizeof(when), "-restored-%Y%m%d%H%M", &tm);
	size_t keep = strlen(source);
	if (keep + strlen(when) > max)
		keep = max > strlen(when) ? max - strlen(when) : 0;
	/* A cut may end in a hyphen; the suffix starts with one, and "--" is refused. */
	while (keep && source[keep - 1] == '-')
		keep--;
	snprintf(out, cap, "%.*s%s", (int)keep, source, when);
}
