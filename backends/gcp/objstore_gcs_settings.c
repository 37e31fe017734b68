/*
 * gs:// repository rules, checked at `repo init` and at every open:
 * STANDARD for active repositories, ARCHIVE as the archive tier, nothing
 * else; immutability needs a bucket created with object retention.
 */
#include "error.h"
#include "objstore_gcs.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The one table of GCS classes: allowed or not, and the minimum storage
 * duration GCS bills (prune keeps packs that long). */
typedef struct class_rule {
	const char *name;
	unsigned int min_days;
	int allowed;
} class_rule;

static const class_rule rules[] = {
	{"STANDARD", 0, 1},
	{"NEARLINE", 30, 0},
	{"COLDLINE", 90, 0},
	{"ARCHIVE", 365, 1},
};

static const class_rule *find_rule(const char *storage_class)
{
	char cls[32];
	gcs_class_name(storage_class, cls);
	for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++)
		if (!strcmp(rules[i].name, cls))
			return &rules[i];
	return NULL;
}

unsigned int gcs_min_storage_days(void *state, const char *storage_class)
{
	(void)state;
	const class_rule *r =
		find_rule(storage_class && *storage_class ? storage_class : "STANDARD");
	return r ? r->min_days : 0;
}

static int check_class(const char *storage_class)
{
	if (!storage_class)
		return 0;
	const class_rule *r = find_rule(storage_class);
	if (r && r->allowed)
		return 0;
	if (r)
		return cp_error_set(CP_EINVALID, CP_ERRCLASS_OBJSTORE,
				    "storage class %s is refused: it bills %u days at least per "
				    "object and charges for every read, so prune and check cost "
				    "more than they save; use STANDARD for an active repository or "
				    "ARCHIVE for an archive one",
				    r->name, r->min_days);
	return cp_error_set(CP_EINVALID, CP_ERRCLASS_OBJSTORE,
			    "'%s' is not a storage class a repository can use on Google Cloud "
			    "Storage; use STANDARD (active) or ARCHIVE (archive tier)",
			    storage_class);
}

static int check_retention(gcs_store *s)
{
	char *url = gcs_url(s, NULL, NULL);
	if (!url)
		return cp_error_oom();
	cp_http_request req = {.method = "HEAD", .url = url, .what = "GCS HEAD bucket"};
	cp_http_response resp = CP_HTTP_RESPONSE_INIT;
	int rc = gcs_perform(s, &req, &resp);
	const char *on =
		rc ? NULL : cp_http_headers_get(&resp.headers, "x-goog-bucket-object-lock-enabled");
	if (!rc && !(on && !strcasecmp(on, "true")))
		rc = cp_error_set(CP_EUNSUPPORTED, CP_ERRCLASS_OBJSTORE,
				  "bucket '%s' cannot lock objects: object retention was not "
				  "enabled when it was created, and it cannot be turned on later; "
				  "create a bucket with it (gcloud storage buckets create gs://NEW "
				  "--enable-per-object-retention) and initialise the repository "
				  "there",
				  s->bucket);
	cp_http_request_dispose(&req);
	cp_http_response_dispose(&resp);
	free(url);
	return rc;
}

int gcs_check_settings(void *state, const cp_objstore_settings *settings, int create)
{
	int rc = check_class(settings->storage_class);
	if (!rc && settings->immutable_days)
		rc = check_retention(state);
	return rc;
}
