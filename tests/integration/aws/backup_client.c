/*
 * A small client of the public API for test_aws_backup.py: what the CLI
 * does not show (progress of a waited job, restores to new resources,
 * one recovery point by id), printed one JSON object a line.
 *
 * usage: backup_client CONFIG_JSON create RESOURCE_ARN
 *        backup_client CONFIG_JSON restore RECOVERY_POINT_ARN NAME [SUBNET]
 *        backup_client CONFIG_JSON get RECOVERY_POINT_ARN
 */
#include <cloudprotect.h>

#include <stdio.h>
#include <string.h>

static int on_progress(const cp_progress *p, void *payload)
{
	(void)payload;
	printf("{\"progress\":\"%s\",\"done\":%llu,\"total\":%llu}\n", p->phase ? p->phase : "",
	       (unsigned long long)p->done, (unsigned long long)p->total);
	return 0;
}

static int on_snapshot(const cp_snapshot *s, void *payload)
{
	(void)payload;
	printf("{\"snapshot\":\"%s\",\"resource\":\"%s\",\"kind\":\"%s\",\"state\":\"%s\","
	       "\"size\":%llu,\"region\":\"%s\"}\n",
	       s->id, s->resource_id ? s->resource_id : "", cp_resource_kind_name(s->kind),
	       cp_snapshot_state_name(s->state), (unsigned long long)s->size,
	       s->region ? s->region : "");
	return 0;
}

static int on_resource(const cp_resource *r, void *payload)
{
	(void)payload;
	printf("{\"resource\":\"%s\",\"kind\":\"%s\",\"name\":\"%s\",\"region\":\"%s\"}\n", r->id,
	       cp_resource_kind_name(r->kind), r->name ? r->name : "", r->region ? r->region : "");
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: backup_client CONFIG_JSON create|restore|get ID [NAME]\n");
		return 2;
	}
	cp_ctx *ctx = NULL;
	cp_provider *p = NULL;
	int rc = cp_ctx_new(&ctx, NULL);
	rc = rc ? rc : cp_provider_open(&p, ctx, "aws", argv[1]);
	if (!rc && !strcmp(argv[2], "create")) {
		cp_snapshot_create_options o = CP_SNAPSHOT_CREATE_OPTIONS_INIT;
		o.progress_cb = on_progress;
		rc = cp_snapshot_create(p, argv[3], &o, on_snapshot, NULL);
	} else if (!rc && !strcmp(argv[2], "restore") && argc >= 5) {
		cp_resource_restore_options o = CP_RESOURCE_RESTORE_OPTIONS_INIT;
		o.name = argv[4];
		o.subnet = argc > 5 ? argv[5] : NULL;
		o.progress_cb = on_progress;
		rc = cp_resource_restore(p, argv[3], &o, on_resource, NULL);
	} else if (!rc && !strcmp(argv[2], "get")) {
		rc = cp_snapshot_get(p, argv[3], on_snapshot, NULL);
	} else if (!rc) {
		fprintf(stderr, "backup_client: unknown command '%s'\n", argv[2]);
		rc = -1;
	}
	if (rc)
		fprintf(stderr, "backup_client: error: %s\n", cp_error_last()->message);
	cp_provider_free(p);
	cp_ctx_free(ctx);
	return rc ? 1 : 0;
}
