/*
 * Which repository settings an S3 bucket can honour: the storage classes
 * that suit backups, and immutability only on a bucket made with Object
 * Lock (S3 cannot add it to an existing bucket).
 */
#include "error.h"
#include "http/xml.h"
#include "objstore_s3.h"

#include <stdlib.h>
#include <string.h>

/* The one table of S3 classes: whether a repository may use them, and the
 * minimum storage duration S3 bills (prune keeps packs that long). */
typedef struct class_rule {
	const char *name;
	unsigned int min_days;
	const char *why; /* NULL: allowed */
} class_rule;

static const class_rule rules[] = {
	{"STANDARD", 0, NULL},
	{"GLACIER", 90, NULL},	     /* archive tier: packs need `cloudprotect rehydrate` */
	{"DEEP_ARCHIVE", 180, NULL}, /* archive tier, likewise */
	{"STANDARD_IA", 30,
	 "it bills a minimum storage duration and a fee per GB read, and packs are read by "
	 "every restore and check and removed early by prune"},
	{"ONEZONE_IA", 30,
	 "it keeps one copy in a single availability zone and bills a minimum storage duration "
	 "and a fee per GB read; a backup must survive the loss of a zone"},
	{"GLACIER_IR", 90,
	 "it bills a minimum storage duration and a fee per GB read, which every restore, "
	 "check and prune of a repository pays"},
	{"INTELLIGENT_TIERING", 0,
	 "it bills monitoring per object and may move packs to archive access tiers behind "
	 "the repository's back, so restores would fail without warning"},
	{"REDUCED_REDUNDANCY", 0, "it is deprecated and less durable than STANDARD"},
};

static const class_rule *find_rule(const char *sclass)
{
	for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++)
		if (!strcmp(rules[i].name, sclass))
			return &rules[i];
	return NULL;
}

unsigned int s3_min_storage_days(void *state, const char *sclass)
{
	(void)state;
	const class_rule *r = find_rule(sclass && *sclass ? sclass : "STANDARD");
	return r ? r->min_days : 0;
}

static int check_class(s3_store *s, const char *sclass)
{
	if (!sclass || !*sclass)
		return 0;
	const class_rule *r = find_rule(sclass);
	if (r && !r->why)
		return 0;
	if (r && r->min_days)
		return cp_error_set(CP_EINVALID, CP_ERRCLASS_OBJSTORE,
				    "storage class %s is refused for repositories: %s (%u days "
				    "minimum); use STANDARD for active backups, or GLACIER or "
				    "DEEP_ARCHIVE as an archive tier",
				    sclass, r->why, r->min_days);
	if (r)
		return cp_error_set(CP_EINVALID, CP_ERRCLASS_OBJSTORE,
				    "storage class %s is refused for repositories: %s; use "
				    "STANDARD for active backups, or GLACIER or DEEP_ARCHIVE as an "
				    "archive tier",
				    sclass, r->why);
	return cp_error_set(CP_EINVALID, CP_ERRCLASS_OBJSTORE,
			    "'%s' is not an S3 storage class this repository can use; use "
			    "STANDARD for active backups, or GLACIER or DEEP_ARCHIVE as an "
			    "archive tier (bucket '%s')",
			    sclass, s->bucket);
}

static int no_lock(s3_store *s)
{
	return cp_error_set(CP_EUNSUPPORTED, CP_ERRCLASS_OBJSTORE,
			    "bucket '%s' was not created with Object Lock, so immutability "
			    "cannot be honoured; Object Lock cannot be retrofitted to an existing "
			    "bucket: create a new one with `aws s3api create-bucket --bucket NAME "
			    "--object-lock-enabled-for-bucket` and put the repository there",
			    s->bucket);
}

static int check_lock(s3_store *s)
{
	s3_req r;
	int rc = s3_req_init(&r, s, "GET", NULL, "object-lock", "S3 GetObjectLockConfiguration");
	rc = rc ? rc : s3_req_perform(s, &r, NULL);
	if (rc == CP_ENOTFOUND ||
	    (rc && !strcmp(r.resp.error.code, "ObjectLockConfigurationNotFoundError"))) {
		rc = no_lock(s);
	} else if (!rc) {
		char *enabled = cp_xml_find_text(r.body.ptr ? r.body.ptr : "", r.body.size,
						 "ObjectLockEnabled");
		if (!enabled || strcmp(enabled, "Enabled"))
			rc = no_lock(s);
		free(enabled);
	}
	s3_req_dispose(&r);
	return rc;
}

int s3_check_settings(void *state, const cp_objstore_settings *settings, int create)
{
	s3_store *s = state;
	int rc = check_class(s, settings->storage_class);
	if (!rc && settings->immutable_days)
		rc = check_lock(s);
	return rc;
}
