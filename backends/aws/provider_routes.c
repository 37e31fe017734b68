/*
 * Routing of the provider's operations to the service that owns an id
 * (EC2 for i-/vol-/snap-, RDS, Redshift and AWS Backup for their ARNs).
 * Inventory and unscoped snapshot listings walk every service, filtered by
 * kind so a listing of disks never pays for database calls.
 */
#include "ctx.h"
#include "provider_aws.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const aws_service *const services[] = {
	&aws_service_ec2,      &aws_service_ec2_images, &aws_service_rds,
	&aws_service_redshift, &aws_service_backup,
};

#define NSERVICES (sizeof(services) / sizeof(services[0]))

static const aws_service *owner_of(const char *id)
{
	for (size_t i = 0; i < NSERVICES; i++)
		if (services[i]->owns && services[i]->owns(id))
			return services[i];
	return NULL;
}

static int unknown_id(const char *id, const char *what)
{
	return cp_error_set(CP_ENOTFOUND, CP_ERRCLASS_PROVIDER,
			    "aws: '%s' is not a %s this provider knows; use an EC2 id (i-..., "
			    "vol-..., snap-..., ami-...) or the ARN `cloudprotect --provider aws "
			    "inventory --json` or `snapshots` prints",
			    id, what);
}

static int unsupported(const aws_service *s, const char *what)
{
	return cp_error_set(CP_EUNSUPPORTED, CP_ERRCLASS_PROVIDER,
			    "aws: the %s service does not support %s", s->name, what);
}

/*
 * An unscoped listing (no kind, no ids) walks every service. EC2 is the
 * core: its failure fails the listing. Another service that this identity
 * may not use (access denied) or that the endpoint does not serve (404,
 * 501, as an EC2-only emulator answers) is skipped with a warning rather
 * than hiding the instances and disks that could be listed. Asked for by
 * kind or id, every failure is an error.
 */
static int skip_optional(aws_provider *p, size_t i, int unscoped, int rc, const char *what)
{
	if (i == 0 || !unscoped || rc >= 0)
		return 0;
	const cp_error *e = cp_error_last();
	int status = e ? e->http_status : 0;
	if (rc != CP_EAUTH && rc != CP_EUNSUPPORTED && status != 404 && status != 501)
		return 0;
	cp_log(p->ctx, CP_LOG_WARN,
	       "aws: %s leaves out %s: %s; grant the permission, or list by --kind to "
	       "make this an error",
	       what, services[i]->name, e ? e->message : cp_error_code_name(rc));
	return 1;
}

int aws_route_inventory(void *state, const cp_inventory_filter *filter, cp_resource_cb cb,
			void *payload)
{
	int unscoped = !filter || (filter->kind < 0 && !filter->ids);
	int rc = 0;
	for (size_t i = 0; i < NSERVICES && !rc; i++) {
		if (!services[i]->inventory)
			continue;
		rc = services[i]->inventory(state, filter, cb, payload);
		if (skip_optional(state, i, unscoped, rc, "the inventory"))
			rc = 0;
	}
	return rc;
}

int aws_route_snapshot_create(void *state, const char *resource_id,
			      const cp_snapshot_create_options *opts, cp_snapshot_cb cb,
			      void *payload)
{
	const aws_service *s = owner_of(resource_id);
	if (!s)
		return unknown_id(resource_id, "resource");
	if (!s->snapshot_create)
		return unsupported(s, "snapshots");
	return s->snapshot_create(state, resource_id, opts, cb, payload);
}

int aws_route_snapshot_list(void *state, const char *resource_id, cp_snapshot_cb cb, void *payload)
{
	if (resource_id) {
		const aws_service *s = owner_of(resource_id);
		if (!s)
			return unknown_id(resource_id, "resource");
		if (!s->snapshot_list)
			return unsupported(s, "listing snapshots");
		return s->snapshot_list(state, resource_id, cb, payload);
	}
	int rc = 0;
	for (size_t i = 0; i < NSERVICES && !rc; i++) {
		if (!services[i]->snapshot_list)
			continue;
		rc = services[i]->snapshot_list(state, NULL, cb, payload);
		if (skip_optional(state, i, 1, rc, "the snapshot listing"))
			rc = 0;
	}
	return rc;
}

int aws_route_snapshot_get(void *state, const char *snapshot_id, cp_snapshot_cb cb, void *payload)
{
	const aws_service *s = owner_of(snapshot_id);
	if (!s)
		return unknown_id(snapshot_id, "snapshot");
	if (!s->snapshot_get)
		return unsupported(s, "looking up snapshots");
	return s->snapshot_get(state, snapshot_id, cb, payload);
}

int aws_route_snapshot_delete(void *state, const char *snapshot_id)
{
	const aws_service *s = owner_of(snapshot_id);
	if (!s)
		return unknown_id(snapshot_id, "snapshot");
	if (!s->snapshot_delete)
		return unsupported(s, "deleting snapshots");
	return s->snapshot_delete(state, snapshot_id);
}

int aws_route_snapshot_copy(void *state, const char *snapshot_id, const char *region,
			    cp_snapshot_cb cb, void *payload)
{
	const aws_service *s = owner_of(snapshot_id);
	if (!s)
		return unknown_id(snapshot_id, "snapshot");
	if (!s->snapshot_copy)
		return unsupported(s, "copying snapshots");
	return s->snapshot_copy(state, snapshot_id, region, cb, payload);
}

int aws_route_resource_restore(void *state, const char *snapshot_id,
			       const cp_resource_restore_options *opts, cp_resource_cb cb,
			       void *payload)
{
	const aws_service *s = owner_of(snapshot_id);
	if (!s)
		return unknown_id(snapshot_id, "snapshot");
	if (!s->resource_restore)
		return unsupported(s, "restoring to a new resource");
	return s->resource_restore(state, snapshot_id, opts, cb, payload);
}

/* Reads key i of a list of tags or of keys. */
typedef const char *(*key_at_fn)(const void *list, size_t i);

static const char *tag_key_at(const void *list, size_t i)
{
	return ((const cp_tag *)list)[i].key;
}

static const char *key_at(const void *list, size_t i)
{
	return ((const char *const *)list)[i];
}

/*
 * Refuse what every AWS tagging API refuses, before any call, so the error
 * names the key and the resource rather than an AWS validation code: no
 * keys, an empty key, a key twice (AWS would keep one of them silently, or
 * refuse the call), and the "aws:" prefix, which AWS reserves for itself.
 * give says what a caller gives: "KEY=VALUE" to tag, "KEY" to untag.
 */
static int check_keys(const char *id, const void *list, size_t n, key_at_fn at, const char *give)
{
	if (!n || !list)
		return cp_error_set(CP_EINVALID, CP_ERRCLASS_INVALID,
				    "aws: no tags given for '%s'; give at least one %s", id, give);
	for (size_t i = 0; i < n; i++) {
		const char *key = at(list, i);
		if (!key || !*key)
			return cp_error_set(CP_EINVALID, CP_ERRCLASS_INVALID,
					    "aws: tag %zu for '%s' has an empty key; give %s with "
					    "a non-empty KEY",
					    i + 1, id, give);
		/* AWS reserves the prefix in any case: aws:, AWS:, Aws:... */
		if (!strncasecmp(key, "aws:", 4))
			return cp_error_set(CP_EINVALID, CP_ERRCLASS_INVALID,
					    "aws: tag key '%s' for '%s' starts with 'aws:', which "
					    "AWS reserves for its own tags (never set or removed "
					    "by callers); use your own keys",
					    key, id);
		for (size_t j = 0; j < i; j++)
			if (!strcmp(key, at(list, j)))
				return cp_error_set(CP_EINVALID, CP_ERRCLASS_INVALID,
						    "aws: tag key '%s' is given twice for '%s'; "
						    "give each key once",
						    key, id);
	}
	return 0;
}

int aws_route_tag(void *state, const char *id, const cp_tag *tags, size_t ntags)
{
	const aws_service *s = owner_of(id);
	if (!s)
		return unknown_id(id, "resource or snapshot");
	if (!s->tag)
		return unsupported(s, "tags");
	int rc = check_keys(id, tags, ntags, tag_key_at, "KEY=VALUE");
	return rc ? rc : s->tag(state, id, tags, ntags);
}

int aws_route_untag(void *state, const char *id, const char *const *keys, size_t nkeys)
{
	const aws_service *s = owner_of(id);
	if (!s)
		return unknown_id(id, "resource or snapshot");
	if (!s->untag)
		return unsupported(s, "removing tags");
	int rc = check_keys(id, keys, nkeys, key_at, "KEY");
	return rc ? rc : s->untag(state, id, keys, nkeys);
}

int aws_service_url(char **out, const char *env_name, const char *host_prefix, const char *region)
{
	char name[64], url[512];
	snprintf(name, sizeof(name), "AWS_ENDPOINT_URL_%s", env_name);
	const char *v = getenv(name);
	if (!v || !*v)
		v = getenv("AWS_ENDPOINT_URL");
	if (v && *v) {
		size_t n = strlen(v);
		while (n && v[n - 1] == '/')
			n--;
		snprintf(url, sizeof(url), "%.*s", (int)n, v);
	} else {
		snprintf(url, sizeof(url), "https://%s.%s.amazonaws.com", host_prefix, region);
	}
	*out = strdup(url);
	return *out ? 0 : cp_error_oom();
}
