/* Policy documents: what parses, and the precise errors for what does not. */
#include "cloudprotect.h"
#include "policy_internal.h"
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char full_policy[] =
	"{\"name\": \"prod-disks\", \"description\": \"production data disks\","
	" \"timezone\": \"Europe/Berlin\","
	" \"selection\": {\"tags\": {\"env\": \"prod\", \"backup\": null}, \"kinds\": [\"disk\", "
	"\"vm\"], \"regions\": [\"eu-central-1\"]},"
	" \"snapshots\": {\"schedule\": {\"every\": \"hours\", \"interval\": 6, \"minute\": 15},"
	"   \"retention\": {\"days\": 7, \"last\": 3}},"
	" \"backups\": {\"repository\": \"s3://bucket/prod\", \"region\": \"eu-central-1\","
	"   \"schedule\": {\"every\": \"day\", \"at\": [\"22:00\", \"02:30\"]},"
	"   \"retention\": {\"daily\": 7, \"weekly\": 4, \"monthly\": 12, \"yearly\": 3}},"
	" \"archive\": {\"repository\": \"s3://cold/prod\", \"after_days\": 90, \"storage_class\": "
	"\"DEEP_ARCHIVE\"},"
	" \"immutability_days\": 30, \"workers\": {\"concurrency\": 4}, \"prune\": false}";

START_TEST(full_document_parses)
{
	cp_policy *p = NULL;
	tu_ok(cp_policy_parse(&p, full_policy, "full.json"));
	ck_assert_str_eq(cp_policy_name(p), "prod-disks");
	ck_assert_str_eq(cp_policy_timezone(p), "Europe/Berlin");
	ck_assert_str_eq(cp_policy_repository(p), "s3://bucket/prod");
	ck_assert_str_eq(cp_policy_archive_repository(p), "s3://cold/prod");
	ck_assert_uint_eq(cp_policy_immutable_days(p), 30);
	ck_assert_uint_eq(cp_policy_concurrency(p), 4);
	ck_assert_int_eq(p->snapshot_schedule.every, CP_SCHED_HOURS);
	ck_assert_uint_eq(p->snapshot_schedule.nat, 4);
	ck_assert_int_eq(p->snapshot_schedule.at[0], 15);
	ck_assert_int_eq(p->snapshot_schedule.at[3], 18 * 60 + 15);
	/* "at" is sorted whatever order it was written in. */
	ck_assert_uint_eq(p->backup_schedule.nat, 2);
	ck_assert_int_eq(p->backup_schedule.at[0], 150);
	ck_assert_int_eq(p->backup_schedule.at[1], 22 * 60);
	ck_assert_uint_eq(p->gfs.monthly, 12);
	ck_assert_uint_eq(p->archive_after_days, 90);
	ck_assert_int_eq(p->prune, 0);
	cp_policy_free(p);
}
END_TEST

START_TEST(defaults_for_a_backup_only_policy)
{
	cp_policy *p = NULL;
	tu_ok(cp_policy_parse(
		&p,
		"{\"name\":\"b\",\"selection\":{\"all\":true},\"backups\":{"
		"\"repository\":\"file:///srv/r\",\"schedule\":{\"every\":\"week\","
		"\"days\":[\"sun\",\"wed\"],\"at\":\"01:00\"},\"retention\":{\"last\":"
		"5}}}",
		NULL));
	ck_assert_str_eq(cp_policy_timezone(p), "UTC");
	ck_assert_uint_eq(cp_policy_concurrency(p), 2);
	ck_assert_int_eq(p->has_snapshots, 0);
	ck_assert_uint_eq(p->snapshot_keep_last, 1); /* the base of the next incremental */
	ck_assert_uint_eq(p->backup_schedule.weekdays, (1u << 0) | (1u << 3));
	ck_assert_int_eq(p->prune, 1);
	cp_policy_free(p);
}
END_TEST

/* Each bad document and words its error must contain (field path, what, what is allowed). */
static const struct {
	const char *json;
	const char *want[3];
} bad[] = {
	{"[1]", {"(top level)", "must be a JSON object"}},
	{"{\"name\":\"x\",", {"not valid JSON"}},
	{"{\"selection\":{\"all\":true}}", {"name", "is required"}},
	{"{\"name\":\"Prod Disks\",\"selection\":{\"all\":true}}",
	 {"name", "lower-case", "\"Prod Disks\""}},
	{"{\"name\":\"x\",\"selection\":{\"all\":true},\"snapshot\":{}}",
	 {"snapshot: unknown field", "allowed here:", "snapshots"}},
	{"{\"name\":\"x\",\"selection\":{}}", {"selection", "selects nothing", "\"all\": true"}},
	{"{\"name\":\"x\",\"selection\":{\"kinds\":[\"disk\",\"vmm\"]}}",
	 {"selection.kinds[1]", "\"vmm\"", "vm, disk"}},
	{"{\"name\":\"x\",\"selection\":{\"tags\":{\"env\":3}}}",
	 {"selection.tags.env", "null for any value", "got 3"}},
	{"{\"name\":\"x\",\"timezone\":\"Mars/Olympus\",\"selection\":{\"all\":true}}",
	 {"timezone", "Mars/Olympus", "Europe/Berlin"}},
	{"{\"name\":\"x\",\"selection\":{\"all\":true}}", {"does nothing", "snapshots", "backups"}},
	{"{\"name\":\"x\",\"selection\":{\"all\":true},\"snapshots\":{\"schedule\":{\"every\":"
	 "\"day\",\"at\":\"25:00\"},\"retention\":{\"days\":1}}}",
	 {"snapshots.schedule.at", "\"HH:MM\"", "\"25:00\""}},
	{"{\"name\":\"x\",\"selection\":{\"all\":true},\"snapshots\":{\"schedule\":{\"every\":"
	 "\"day\",\"at\":[\"01:00\",\"1:00\"]},\"retention\":{\"days\":1}}}",
	 {"snapshots.schedule.at[1]", "00:00 to 23:59"}},
	{"{\"name\":\"x\",\"selection\":{\"all\":true},\"snapshots\":{\"schedule\":{\"every\":"
	 "\"fortnight\"},\"retention\":{\"days\":1}}}",
	 {"snapshots.schedule.every", "\"day\", \"hours\", \"week\", \"month\"", "fortnight"}},
	{"{\"name\":\"x\",\"selection\":{\"all\":true},\"snapshots\":{\"schedule\":{\"every\":"
	 "\"hours\",\"interval\":5},\"retention\":{\"days\":1}}}",
	 {"snapshots.schedule.interval", "divide 24", "got 5"}},
	{"{\"name\":\"x\",\"selection\":{\"all\":true},\"snapshots\":{\"schedule\":{\"every\":"
	 "\"week\",\"days\":[\"mon\",\"thurs\"],\"at\":\"01:00\"},\"retention\":{\"days\":1}}}",
	 {"snapshots.schedule.days[1]", "sun, mon", "\"thurs\""}},
	{"{\"name\":\"x\",\"selection\":{\"all\":true},\"snapshots\":{\"schedule\":{\"every\":"
	 "\"month\",\"days\":[0],\"at\":\"01:00\"},\"retention\":{\"days\":1}}}",
	 {"snapshots.schedule.days[0]", "1..31"}},
	{"{\"name\":\"x\",\"selection\":{\"all\":true},\"snapshots\":{\"schedule\":{\"every\":"
	 "\"day\",\"at\":\"01:00\"},\"retention\":{}}}",
	 {"snapshots.retention", "keeps nothing", "\"days\""}},
	{"{\"name\":\"x\",\"selection\":{\"all\":true},\"backups\":{\"repository\":\"/srv/r\","
	 "\"schedule\":{\"every\":\"day\",\"at\":\"01:00\"},\"retention\":{\"daily\":7}}}",
	 {"backups.repository", "file:///path", "\"/srv/r\""}},
	{"{\"name\":\"x\",\"selection\":{\"all\":true},\"backups\":{\"repository\":\"file:///r\","
	 "\"schedule\":{\"every\":\"day\",\"at\":\"01:00\"},\"retention\":{\"weekly\":\"four\"}}}",
	 {"backups.retention.weekly", "integer 0..10000", "\"four\""}},
	{"{\"name\":\"x\",\"selection\":{\"all\":true},\"backups\":{\"repository\":\"file:///r\","
	 "\"schedule\":{\"every\":\"day\",\"at\":\"01:00\"},\"retention\":{\"daily\":0}}}",
	 {"backups.retention", "keeps nothing", "monthly"}},
	{"{\"name\":\"x\",\"selection\":{\"all\":true},\"snapshots\":{\"schedule\":{\"every\":"
	 "\"day\",\"at\":\"01:00\"},\"retention\":{\"days\":1}},\"archive\":{\"repository\":"
	 "\"s3://b/p\",\"after_days\":30}}",
	 {"archive", "needs a \"backups\" section"}},
	{"{\"name\":\"x\",\"selection\":{\"all\":true},\"backups\":{\"repository\":\"file:///r\","
	 "\"schedule\":{\"every\":\"day\",\"at\":\"01:00\"},\"retention\":{\"daily\":7}},"
	 "\"archive\":{\"repository\":\"file:///r\",\"after_days\":30}}",
	 {"archive.repository", "same as backups.repository"}},
	{"{\"name\":\"x\",\"selection\":{\"all\":true},\"backups\":{\"repository\":\"file:///r\","
	 "\"schedule\":{\"every\":\"day\",\"at\":\"01:00\"},\"retention\":{\"daily\":7}},"
	 "\"workers\":{\"concurrency\":0}}",
	 {"workers.concurrency", "1..256", "got 0"}},
};

START_TEST(bad_documents_name_the_field)
{
	size_t i = (size_t)_i;
	cp_policy *p = NULL;
	int rc = cp_policy_parse(&p, bad[i].json, "bad.json");
	ck_assert_msg(rc == CP_EINVALID, "case %zu parsed (rc %d)", i, rc);
	ck_assert_ptr_null(p);
	const char *msg = cp_error_last()->message;
	ck_assert_msg(strstr(msg, "bad.json") != NULL, "case %zu: no origin in: %s", i, msg);
	for (size_t j = 0; j < 3 && bad[i].want[j]; j++)
		ck_assert_msg(strstr(msg, bad[i].want[j]) != NULL, "case %zu: '%s' not in: %s", i,
			      bad[i].want[j], msg);
}
END_TEST

START_TEST(load_names_the_file)
{
	cp_policy *p = NULL;
	ck_assert_int_eq(cp_policy_load(&p, "/nonexistent/p.json"), CP_ENOTFOUND);
	ck_assert_ptr_nonnull(strstr(cp_error_last()->message, "/nonexistent/p.json"));
	char *dir = tu_tempdir("policy");
	char path[512];
	snprintf(path, sizeof(path), "%s/mine.json", dir);
	FILE *f = fopen(path, "w");
	fputs("{\"name\":\"x\",\"selection\":{\"ids\":\"d-1\"}}", f);
	fclose(f);
	ck_assert_int_eq(cp_policy_load(&p, path), CP_EINVALID);
	ck_assert_ptr_nonnull(strstr(cp_error_last()->message, "mine.json: (top level)"));
	tu_rmtree(dir);
	free(dir);
}
END_TEST

START_TEST(selection_is_and_of_selectors)
{
	cp_policy *p = NULL;
	tu_ok(cp_policy_parse(&p, full_policy, NULL));
	cp_tag tags[] = {{"env", "prod"}, {"backup", "yes"}};
	cp_resource r = {CP_RESOURCE_DISK, "d-1", "data", "eu-central-1", "acct", NULL, 1, tags, 2};
	ck_assert_int_eq(cp_policy_selects(p, &r), 1);
	r.region = "us-east-1";
	ck_assert_int_eq(cp_policy_selects(p, &r), 0);
	r.region = "eu-central-1";
	r.kind = CP_RESOURCE_DB;
	ck_assert_int_eq(cp_policy_selects(p, &r), 0);
	r.kind = CP_RESOURCE_VM;
	tags[0].value = "dev";
	ck_assert_int_eq(cp_policy_selects(p, &r), 0);
	tags[0].value = "prod";
	r.ntags = 1; /* "backup" (any value) is missing */
	ck_assert_int_eq(cp_policy_selects(p, &r), 0);
	cp_policy_free(p);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("policy_parse");
	TCase *tc = tcase_create("parse");
	tcase_add_test(tc, full_document_parses);
	tcase_add_test(tc, defaults_for_a_backup_only_policy);
	tcase_add_loop_test(tc, bad_documents_name_the_field, 0,
			    (int)(sizeof(bad) / sizeof(bad[0])));
	tcase_add_test(tc, load_names_the_file);
	tcase_add_test(tc, selection_is_and_of_selectors);
	suite_add_tcase(s, tc);
	return tu_run(s);
}
