/*
 * Ids shaped like AWS ones ("i-", "vol-", "snap-" + 16 hex digits), so
 * scripts and users meet the same forms as on EC2. Ids go into file
 * names, so only ids of exactly that form are ever accepted.
 */
#include "error.h"
#include "local_cloud.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#define ID_HEX_DIGITS 16

static const char *const prefixes[] = {"i-", "vol-", "snap-"};
static const char *const nouns[] = {"instance", "disk", "snapshot"};
static const char *const dirs[] = {"instances", "disks", "snapshots"};

const char *local_kind_noun(local_kind kind)
{
	return nouns[kind];
}

const char *local_kind_dir(local_kind kind)
{
	return dirs[kind];
}

static int random_id(char out[LOCAL_ID_LEN], const char *prefix, const char *what)
{
	unsigned char bytes[ID_HEX_DIGITS / 2];
	size_t got = 0;
	while (got < sizeof(bytes)) {
		ssize_t n = getrandom(bytes + got, sizeof(bytes) - got, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return cp_error_set_os(CP_ERROR, errno,
					       "cannot get random bytes for a new %s id", what);
		}
		got += (size_t)n;
	}
	int len = snprintf(out, LOCAL_ID_LEN, "%s", prefix);
	for (size_t i = 0; i < sizeof(bytes); i++)
		len += snprintf(out + len, LOCAL_ID_LEN - (size_t)len, "%02x", bytes[i]);
	return 0;
}

int local_id_new(char out[LOCAL_ID_LEN], local_kind kind)
{
	return random_id(out, prefixes[kind], nouns[kind]);
}

int local_group_id_new(char out[LOCAL_ID_LEN])
{
	return random_id(out, "snapgroup-", "snapshot group");
}

int local_id_is(const char *id, local_kind kind)
{
	size_t plen = strlen(prefixes[kind]);
	if (!id || strncmp(id, prefixes[kind], plen) || strlen(id) != plen + ID_HEX_DIGITS)
		return 0;
	for (const char *p = id + plen; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return 0;
	return 1;
}

int local_id_kind(local_kind *out, const char *id)
{
	for (int k = LOCAL_INSTANCE; k <= LOCAL_SNAPSHOT; k++) {
		if (local_id_is(id, (local_kind)k)) {
			*out = (local_kind)k;
			return 0;
		}
	}
	return cp_error_set(CP_EINVALID, CP_ERRCLASS_INVALID,
			    "'%s' is not a local cloud id; ids look like i-0123456789abcdef "
			    "(instance), vol-... (disk) or snap-... (snapshot)",
			    id ? id : "(null)");
}

int local_id_check(const char *id, local_kind kind)
{
	if (local_id_is(id, kind))
		return 0;
	return cp_error_set(CP_EINVALID, CP_ERRCLASS_INVALID,
			    "'%s' is not a %s id; %s ids are '%s' and 16 hex digits, e.g. "
			    "%s0123456789abcdef",
			    id ? id : "(null)", nouns[kind], nouns[kind], prefixes[kind],
			    prefixes[kind]);
}
