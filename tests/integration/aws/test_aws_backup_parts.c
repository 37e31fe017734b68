/*
 * The AWS Backup service's pieces that need no server: ARN fields,
 * inventory filters, status words, JSON numbers and tags, tokens, and the
 * config error a job without a role gives before anything is sent.
 */
#include "backends/aws/backup_service.h"
#include "cloudprotect/sys/provider.h"
#include "testutil.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

START_TEST(arn_fields)
{
	char out[64];
	const char *rp = "arn:aws:dynamodb:eu-west-1:123456789012:table/t/backup/0169-ab";
	aws_arn_field(rp, 2, out, sizeof(out));
	ck_assert_str_eq(out, "dynamodb");
	aws_arn_field(rp, 3, out, sizeof(out));
	ck_assert_str_eq(out, "eu-west-1");
	aws_arn_field(rp, 4, out, sizeof(out));
	ck_assert_str_eq(out, "123456789012");
	aws_arn_field("arn:aws:backup:us-east-1:1:recovery-point:AB-CD", 3, out, sizeof(out));
	ck_assert_str_eq(out, "us-east-1");
	aws_arn_field("not-an-arn", 3, out, sizeof(out));
	ck_assert_str_eq(out, "");
}
END_TEST

START_TEST(filters_match_ids_regions_tags_kind)
{
	cp_tag tags[] = {{"env", "prod"}, {"Name", "orders"}};
	cp_resource r = {0};
	r.kind = CP_RESOURCE_NOSQL;
	r.id = "arn:aws:dynamodb:us-east-1:1:table/orders";
	r.region = "us-east-1";
	r.tags = tags;
	r.ntags = 2;
	cp_inventory_filter f = CP_INVENTORY_FILTER_INIT;
	ck_assert(aws_filter_match(NULL, &r));
	ck_assert(aws_filter_match(&f, &r));
	f.kind = CP_RESOURCE_FILESHARE;
	ck_assert(!aws_filter_match(&f, &r));
	f.kind = CP_RESOURCE_NOSQL;
	cp_tag want[] = {{"env", "prod"}, {"Name", NULL}};
	f.tags = want;
	f.ntags = 2;
	ck_assert(aws_filter_match(&f, &r));
	want[0].value = "dev";
	ck_assert(!aws_filter_match(&f, &r));
	f.ntags = 0;
	const char *const regions[] = {"eu-west-1", NULL};
	f.regions = regions;
	ck_assert(!aws_filter_match(&f, &r));
	f.regions = NULL;
	const char *const ids[] = {"arn:aws:elasticfilesystem:us-east-1:1:file-system/fs-1", NULL};
	f.ids = ids;
	ck_assert(!aws_filter_match(&f, &r));
	ck_assert(backup_filter_wants(&f, "arn:aws:elasticfilesystem:"));
	ck_assert(!backup_filter_wants(&f, "arn:aws:dynamodb:"));
}
END_TEST

START_TEST(status_words_and_kinds)
{
	ck_assert_int_eq(backup_state_of("COMPLETED"), CP_SNAPSHOT_COMPLETED);
	ck_assert_int_eq(backup_state_of("AVAILABLE"), CP_SNAPSHOT_COMPLETED);
	ck_assert_int_eq(backup_state_of("RUNNING"), CP_SNAPSHOT_PENDING);
	ck_assert_int_eq(backup_state_of("CREATING"), CP_SNAPSHOT_PENDING);
	ck_assert_int_eq(backup_state_of("FAILED"), CP_SNAPSHOT_ERROR);
	ck_assert_int_eq(backup_state_of("PARTIAL"), CP_SNAPSHOT_ERROR);
	ck_assert_int_eq(backup_kind_of("EFS", NULL), CP_RESOURCE_FILESHARE);
	ck_assert_int_eq(backup_kind_of("FSx", NULL), CP_RESOURCE_FILESHARE);
	ck_assert_int_eq(backup_kind_of(NULL, "arn:aws:dynamodb:r:1:table/t"), CP_RESOURCE_NOSQL);
}
END_TEST

START_TEST(json_numbers_and_tags)
{
	yajl_val v;
	tu_ok(cp_json_parse(
		&v,
		"{\"a\": 12, \"b\": 1795700000.25, \"c\": \"77\", \"d\": -3, "
		"\"t\": \"2026-01-02T03:04:05Z\", \"Tags\": [{\"Key\": \"k\", \"Value\": "
		"\"v\"}, {\"Value\": \"no key\"}, {\"Key\": \"e\"}]}",
		"test"));
	ck_assert_uint_eq(aws_json_u64(v, "a"), 12);
	ck_assert_uint_eq(aws_json_u64(v, "b"), 1795700000);
	ck_assert_uint_eq(aws_json_u64(v, "c"), 77);
	ck_assert_uint_eq(aws_json_u64(v, "d"), 0);
	ck_assert_uint_eq(aws_json_u64(v, "missing"), 0);
	ck_assert_int_eq(aws_json_time(v, "b"), 1795700000);
	ck_assert_int_eq(aws_json_time(v, "t"), 1767323045);
	aws_tags tags = {0};
	tu_ok(aws_json_tags(&tags, cp_json_get(v, "Tags")));
	ck_assert_uint_eq(tags.count, 2);
	ck_assert_str_eq(aws_tags_get(&tags, "k"), "v");
	ck_assert_str_eq(aws_tags_get(&tags, "e"), "");
	aws_tags_dispose(&tags);
	yajl_tree_free(v);
}
END_TEST

START_TEST(tokens_are_uuid_shaped_and_differ)
{
	char a[37], b[37];
	backup_token(a);
	backup_token(b);
	ck_assert_uint_eq(strlen(a), 36);
	ck_assert_str_ne(a, b);
	for (int i = 0; i < 36; i++)
		ck_assert(i == 8 || i == 13 || i == 18 || i == 23 ? a[i] == '-'
								  : isxdigit((unsigned char)a[i]));
}
END_TEST

static int no_snapshot(const cp_snapshot *s, void *payload)
{
	(void)s;
	(void)payload;
	return 0;
}

START_TEST(job_without_role_is_a_config_error)
{
	cp_ctx *ctx;
	cp_provider *p;
	tu_ok(cp_ctx_new(&ctx, NULL));
	/* No endpoint answers here: the error must come before any request. */
	setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9", 1);
	setenv("AWS_ACCESS_KEY_ID", "AKIATEST", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "secret", 1);
	tu_ok(cp_provider_open(&p, ctx, "aws", "{\"region\": \"us-east-1\"}"));
	int rc = cp_snapshot_create(p, "arn:aws:dynamodb:us-east-1:1:table/t", NULL, no_snapshot,
				    NULL);
	ck_assert_int_eq(rc, CP_EINVALID);
	ck_assert_int_eq(cp_error_last()->klass, CP_ERRCLASS_CONFIG);
	ck_assert_ptr_nonnull(strstr(tu_last_message(), "'backup_role_arn'"));
	ck_assert_ptr_nonnull(strstr(tu_last_message(), "'backup_vault' (now \"cloudprotect\")"));
	cp_provider_free(p);
	ck_assert_int_eq(cp_provider_open(&p, ctx, "aws",
					  "{\"region\": \"us-east-1\", \"backup_vault\": 7}"),
			 CP_EINVALID);
	ck_assert_ptr_nonnull(strstr(tu_last_message(), "'backup_vault'"));
	cp_ctx_free(ctx);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("aws-backup-parts");
	TCase *tc = tcase_create("aws-backup-parts");
	tcase_add_test(tc, arn_fields);
	tcase_add_test(tc, filters_match_ids_regions_tags_kind);
	tcase_add_test(tc, status_words_and_kinds);
	tcase_add_test(tc, json_numbers_and_tags);
	tcase_add_test(tc, tokens_are_uuid_shaped_and_differ);
	tcase_add_test(tc, job_without_role_is_a_config_error);
	suite_add_tcase(s, tc);
	return tu_run(s);
}
