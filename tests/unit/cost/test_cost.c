/* The cost model: numbers computed by hand for small cases, and how cost must move. */
#include "cloudprotect.h"
#include "cost_internal.h"
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GIB 1073741824ull
#define EPS 1e-9

/* Round prices so every case can be checked on paper. */
static const char test_prices[] =
	"{\"cloud\":\"aws\",\"currency\":\"USD\",\"taken\":\"2026-01-01\",\"source\":\"test\","
	"\"regions\":{\"r1\":{\"snapshot_gb_month\":0.05,\"storage_gb_month\":0.02,"
	"\"put_per_1000\":0.005,\"get_per_1000\":0.0004,\"block_read_per_1000\":0.003,"
	"\"worker_hour\":0.1,\"transfer_region_gb\":0.02,\"transfer_internet_gb\":0.09,"
	"\"archive_default\":\"COLD\",\"archive\":{\"COLD\":{\"gb_month\":0.004,\"min_days\":90,"
	"\"retrieval_gb\":0.01,\"put_per_1000\":0.05}}},"
	"\"r2\":{\"snapshot_gb_month\":0.05,\"storage_gb_month\":0.02,\"put_per_1000\":0.005,"
	"\"get_per_1000\":0.0004,\"worker_hour\":0.1,\"transfer_region_gb\":0.02,"
	"\"transfer_internet_gb\":0.09}}}";

static cp_prices *prices(void)
{
	cp_prices *p = NULL;
	tu_ok(cp_prices_new(&p));
	tu_ok(cp_prices_add_json(p, test_prices, "test-prices"));
	return p;
}

static cp_policy *policy(const char *body)
{
	char json[2048];
	snprintf(json, sizeof(json), "{\"name\":\"c\",\"selection\":{\"all\":true},%s}", body);
	cp_policy *p = NULL;
	int rc = cp_policy_parse(&p, json, "cost-test");
	ck_assert_msg(rc == 0, "%s", tu_last_message());
	return p;
}

#define SNAP_30                                                                                    \
	"\"snapshots\":{\"schedule\":{\"every\":\"day\",\"at\":\"01:00\"},\"retention\":{"         \
	"\"days\":30}}"
#define BACKUP_7                                                                                   \
	"\"backups\":{\"repository\":\"s3://b/p\",\"schedule\":{\"every\":\"day\",\"at\":\"02:"    \
	"00\"},\"retention\":{\"daily\":7}}"
#define BACKUP_7_12                                                                                \
	"\"backups\":{\"repository\":\"s3://b/p\",\"schedule\":{\"every\":\"day\",\"at\":\"02:"    \
	"00\"},\"retention\":{\"daily\":7,\"monthly\":%d}}"

static cp_cost_workload disk100 = {"d-1", "aws", "r1", 100 * GIB, 100 * GIB, 0.02};

static cp_cost_report estimate(const cp_policy *p, const cp_cost_workload *w, cp_cost_options *o)
{
	cp_cost_report r;
	tu_ok(cp_cost_estimate(&r, p, w, 1, o));
	ck_assert_uint_eq(r.count, 1);
	return r;
}

START_TEST(snapshots_only_by_hand)
{
	/* 30 daily snapshots: 100 GiB + 29 * 2 GiB = 158 GiB at 0.05 = 7.90. */
	cp_prices *pr = prices();
	cp_policy *p = policy(SNAP_30);
	cp_cost_options o = CP_COST_OPTIONS_INIT;
	o.prices = pr;
	cp_cost_report r = estimate(p, &disk100, &o);
	ck_assert_double_eq_tol(r.lines[0].snapshot_gib, 158, EPS);
	ck_assert_double_eq_tol(r.lines[0].cost.snapshot_storage, 7.90, EPS);
	ck_assert_double_eq_tol(r.total.total, 7.90, EPS);
	ck_assert_double_eq_tol(r.lines[0].cost.compute, 0, EPS);
	ck_assert_str_eq(r.currency, "USD");
	ck_assert_uint_ge(r.nnotes, 2);
	cp_cost_report_dispose(&r);
	cp_policy_free(p);
	cp_prices_free(pr);
}
END_TEST

START_TEST(backups_by_hand)
{
	/*
	 * Daily backups, 7 kept, stored/read 0.5. One snapshot kept (the next
	 * incremental's base): 100 GiB * 0.05 = 5.00. Repository: 50 GiB full +
	 * 6 * 1 GiB = 56 GiB * 0.02 = 1.12. Each backup reads 2 GiB, stores
	 * 1 GiB = 64 packs + 2 objects: 30 * 66 = 1980 PUTs = 0.0099; reads
	 * 30 * 4096 blocks = 122880 = 0.36864. Workers: 60 GiB at 200 MiB/s =
	 * 0.0853333 h = 0.00853333. Same region: no transfer.
	 */
	cp_prices *pr = prices();
	cp_policy *p = policy(BACKUP_7);
	cp_cost_options o = CP_COST_OPTIONS_INIT;
	o.prices = pr;
	cp_cost_report r = estimate(p, &disk100, &o);
	const cp_cost_line *l = &r.lines[0];
	ck_assert_double_eq_tol(l->cost.snapshot_storage, 5.00, EPS);
	ck_assert_double_eq_tol(l->backup_gib, 56, EPS);
	ck_assert_double_eq_tol(l->cost.backup_storage, 1.12, EPS);
	ck_assert_double_eq_tol(l->cost.requests, 0.0099 + 0.36864, EPS);
	ck_assert_double_eq_tol(l->worker_hours, 60.0 * 1024 / 200 / 3600, EPS);
	ck_assert_double_eq_tol(l->cost.compute, 60.0 * 1024 / 200 / 3600 * 0.1, EPS);
	ck_assert_double_eq_tol(l->cost.transfer, 0, EPS);
	ck_assert_double_eq_tol(r.total.total, 5.00 + 1.12 + 0.37854 + 0.0085333333333, 1e-9);
	cp_cost_report_dispose(&r);
	cp_policy_free(p);

	/* The repository in another region: 30 GiB written a month at 0.02 = 0.60. */
	p = policy("\"backups\":{\"repository\":\"s3://b/p\",\"region\":\"r2\",\"schedule\":{"
		   "\"every\":\"day\",\"at\":\"02:00\"},\"retention\":{\"daily\":7}}");
	r = estimate(p, &disk100, &o);
	ck_assert_double_eq_tol(r.lines[0].cost.transfer, 0.60, EPS);
	cp_cost_report_dispose(&r);
	cp_policy_free(p);
	cp_prices_free(pr);
}
END_TEST

START_TEST(archive_by_hand)
{
	/*
	 * Daily 7 + monthly 12, archive after 30 days. Kept ages: 0..6 and
	 * 30, 60, .., 330. Primary 0..6: 56 GiB (1.12). Archive 30..330: 11
	 * points 30 days apart, 60% changed between them: 50 * (1 + 10 * 0.6)
	 * = 350 GiB * 0.004 = 1.40. Data stays 300 days >= 90: no minimum
	 * charge. Inflow 350 * 30 / 300 = 35 GiB = 2240 packs * 0.05 / 1000.
	 */
	cp_prices *pr = prices();
	char body[512];
	snprintf(body, sizeof(body),
		 BACKUP_7_12 ",\"archive\":{\"repository\":\"s3://cold/p\",\"after_days\":30}", 12);
	cp_policy *p = policy(body);
	cp_cost_options o = CP_COST_OPTIONS_INIT;
	o.prices = pr;
	o.assumptions.archive_restores_per_year = 6;
	cp_cost_report r = estimate(p, &disk100, &o);
	const cp_cost_line *l = &r.lines[0];
	ck_assert_double_eq_tol(l->backup_gib, 56, EPS);
	ck_assert_double_eq_tol(l->archive_gib, 350, EPS);
	ck_assert_double_eq_tol(l->cost.archive_storage, 1.40, EPS);
	ck_assert_double_eq_tol(l->cost.archive_min_duration, 0, EPS);
	ck_assert_double_eq_tol(l->cost.requests, 0.0099 + 0.36864 + 2240 * 0.05 / 1000, EPS);
	/* One restore: 50 GiB * 0.01 + 3200 GETs * 0.0004 / 1000; six a year = half a month's. */
	ck_assert_double_eq_tol(l->retrieval_per_restore, 0.5 + 0.00128, EPS);
	ck_assert_double_eq_tol(l->cost.archive_retrieval, 0.5 * 0.50128, EPS);
	cp_cost_report_dispose(&r);
	cp_policy_free(p);

	/* Monthly 2: archive holds 30 and 60, 50 * 1.6 = 80 GiB = 0.32, gone after 30 days of 90: +0.64. */
	snprintf(body, sizeof(body),
		 BACKUP_7_12 ",\"archive\":{\"repository\":\"s3://cold/p\",\"after_days\":30}", 3);
	p = policy(body);
	r = estimate(p, &disk100, &o);
	ck_assert_double_eq_tol(r.lines[0].archive_gib, 80, EPS);
	ck_assert_double_eq_tol(r.lines[0].cost.archive_storage, 0.32, EPS);
	ck_assert_double_eq_tol(r.lines[0].cost.archive_min_duration, 0.64, EPS);
	cp_cost_report_dispose(&r);
	cp_policy_free(p);
	cp_prices_free(pr);
}
END_TEST

static double total_for(const char *body, cp_cost_workload w, cp_cost_options *o)
{
	cp_policy *p = policy(body);
	cp_cost_report r = estimate(p, &w, o);
	double t = r.total.total;
	cp_cost_report_dispose(&r);
	cp_policy_free(p);
	return t;
}

START_TEST(cost_grows_with_size_retention_and_change)
{
	cp_prices *pr = prices();
	cp_cost_options o = CP_COST_OPTIONS_INIT;
	o.prices = pr;
	char body[512];
	snprintf(body, sizeof(body), SNAP_30 "," BACKUP_7_12, 12);
	cp_cost_workload w = disk100;
	double base = total_for(body, w, &o);
	w.used = 200 * GIB;
	ck_assert(total_for(body, w, &o) > base);
	w = disk100;
	w.daily_change_rate = 0.05;
	ck_assert(total_for(body, w, &o) > base);
	w = disk100;
	snprintf(body, sizeof(body), SNAP_30 "," BACKUP_7_12, 24);
	ck_assert(total_for(body, w, &o) > base);
	/* Used size defaults to a fraction of the provisioned size. */
	w.used = 0;
	w.size = 100 * GIB;
	o.assumptions.used_fraction = 0.5;
	cp_policy *p = policy(SNAP_30);
	cp_cost_report r = estimate(p, &w, &o);
	ck_assert_double_eq_tol(r.lines[0].used_gib, 50, EPS);
	cp_cost_report_dispose(&r);
	cp_policy_free(p);
	cp_prices_free(pr);
}
END_TEST

START_TEST(design_questions)
{
	cp_prices *pr = prices();
	cp_cost_options o = CP_COST_OPTIONS_INIT;
	o.prices = pr;
	char body[512];
	snprintf(body, sizeof(body), SNAP_30 "," BACKUP_7_12, 12);
	cp_policy *p = policy(body);

	/* Snapshots only vs snapshots + backups. */
	o.snapshots_only = 1;
	cp_cost_report only = estimate(p, &disk100, &o);
	o.snapshots_only = 0;
	cp_cost_report both = estimate(p, &disk100, &o);
	ck_assert_double_eq_tol(only.total.backup_storage, 0, EPS);
	ck_assert(both.total.total > only.total.total);
	ck_assert_double_eq_tol(only.total.snapshot_storage, both.total.snapshot_storage, EPS);

	/* 30 vs 90 days of snapshots: 158 vs 100 + 89 * 2 = 278 GiB. */
	o.snapshot_keep_days = 90;
	cp_cost_report d90 = estimate(p, &disk100, &o);
	ck_assert_double_eq_tol(d90.lines[0].snapshot_gib, 278, EPS);
	o.snapshot_keep_days = 30;
	cp_cost_report d30 = estimate(p, &disk100, &o);
	ck_assert_double_eq_tol(d30.lines[0].snapshot_gib, 158, EPS);
	o.snapshot_keep_days = -1;

	/* Standard only vs the archive tier after 30 days: a year of monthlies is cheaper cold. */
	cp_cost_report standard = estimate(p, &disk100, &o);
	ck_assert_double_eq_tol(standard.lines[0].archive_gib, 0, EPS);
	/* 50 * (1 + 6 * 0.02 + 0.48 + 10 * 0.6) = 380 GiB in Standard. */
	ck_assert_double_eq_tol(standard.lines[0].backup_gib, 380, EPS);
	o.archive_after_days = 30;
	cp_cost_report cold = estimate(p, &disk100, &o);
	ck_assert(cold.total.total < standard.total.total);
	ck_assert(cold.total.archive_storage > 0);
	cp_cost_report_dispose(&only);
	cp_cost_report_dispose(&both);
	cp_cost_report_dispose(&d90);
	cp_cost_report_dispose(&d30);
	cp_cost_report_dispose(&standard);
	cp_cost_report_dispose(&cold);
	cp_policy_free(p);
	cp_prices_free(pr);
}
END_TEST

START_TEST(price_tables_load_override_and_fail_precisely)
{
	cp_prices *pr = NULL;
	tu_ok(cp_prices_load_default(&pr));
	const cp_region_price *t = NULL;
	tu_ok(cp_prices_find(pr, "aws", "us-east-1", &t));
	ck_assert_double_eq_tol(t->storage_gb_month, 0.023, EPS);
	ck_assert_ptr_nonnull(strstr(t->source, "list prices as published on"));
	tu_ok(cp_prices_find(pr, "azure", NULL, &t));
	tu_ok(cp_prices_find(pr, "gcp", "europe-west1", &t));
	const cp_archive_price *a = NULL;
	tu_ok(cp_prices_archive(t, NULL, &a));
	ck_assert_uint_eq(a->min_days, 365);
	/* A user's table replaces the region it names. */
	tu_ok(cp_prices_add_json(
		pr,
		"{\"cloud\":\"aws\",\"currency\":\"USD\",\"taken\":\"x\","
		"\"source\":\"mine\",\"regions\":{\"us-east-1\":{"
		"\"snapshot_gb_month\":1,\"storage_gb_month\":2,\"put_per_1000\":0,"
		"\"get_per_1000\":0,\"worker_hour\":0,\"transfer_region_gb\":0,"
		"\"transfer_internet_gb\":0}}}",
		"mine.json"));
	tu_ok(cp_prices_find(pr, "aws", "us-east-1", &t));
	ck_assert_double_eq_tol(t->storage_gb_month, 2, EPS);
	ck_assert_str_eq(t->source, "mine");
	ck_assert_int_eq(cp_prices_find(pr, "aws", "mars-1", &t), CP_ENOTFOUND);
	ck_assert_ptr_nonnull(strstr(cp_error_last()->message, "aws/eu-central-1"));
	ck_assert_int_eq(
		cp_prices_add_json(pr,
				   "{\"cloud\":\"aws\",\"currency\":\"USD\",\"taken\":\"x\","
				   "\"source\":\"s\",\"regions\":{\"r\":{"
				   "\"snapshot_gb_month\":-1}}}",
				   "neg.json"),
		CP_EINVALID);
	ck_assert_ptr_nonnull(
		strstr(cp_error_last()->message, "neg.json: regions.r.snapshot_gb_month"));
	cp_prices_free(pr);

	/* A workload on the local provider is priced as the default cloud, and says so. */
	pr = prices();
	cp_policy *p = policy(SNAP_30);
	cp_cost_options o = CP_COST_OPTIONS_INIT;
	o.prices = pr;
	cp_cost_workload w = {"disk-1", "local", NULL, 10 * GIB, 10 * GIB, -1};
	cp_cost_report r = estimate(p, &w, &o);
	ck_assert_str_eq(r.lines[0].cloud, "aws");
	ck_assert_str_eq(r.lines[0].region, "r1");
	int said = 0;
	for (size_t i = 0; i < r.nnotes; i++)
		said |= strstr(r.notes[i], "'local' are priced as aws/r1") != NULL;
	ck_assert(said);
	/* 10 GiB, assumed 2% a day: 10 * (1 + 29 * 0.02) = 15.8 GiB. */
	ck_assert_double_eq_tol(r.lines[0].snapshot_gib, 15.8, EPS);
	cp_cost_report_dispose(&r);
	o.assumptions.stored_ratio = 0;
	ck_assert_int_eq(cp_cost_estimate(&r, p, &w, 1, &o), CP_EINVALID);
	cp_policy_free(p);
	cp_prices_free(pr);
}
END_TEST

START_TEST(measured_from_backups)
{
	cp_backup_info items[3];
	memset(items, 0, sizeof(items));
	/* First backup: 100 MiB of data stored as 40 MiB. Two days later 4 MiB new. */
	items[0].source = "d-1";
	items[0].time = 1000;
	items[0].data_bytes = 100 << 20;
	items[0].new_bytes = 40 << 20;
	items[1].source = "d-1";
	items[1].time = 1000 + 2 * 86400;
	items[1].data_bytes = 100 << 20;
	items[1].new_bytes = 4 << 20;
	items[2].source = NULL;
	cp_backup_list list = {items, 3, NULL};
	cp_cost_assumptions a = CP_COST_ASSUMPTIONS_INIT;
	tu_ok(cp_cost_measure_backups(&list, &a));
	ck_assert_int_eq(a.measured, 1);
	ck_assert_double_eq_tol(a.stored_ratio, 0.4, EPS);
	/* 4 MiB stored = 10 MiB changed, over 2 days of 100 MiB: 5% a day. */
	ck_assert_double_eq_tol(a.daily_change_rate, 0.05, EPS);
	cp_cost_assumptions b = CP_COST_ASSUMPTIONS_INIT;
	list.count = 0;
	tu_ok(cp_cost_measure_backups(&list, &b));
	ck_assert_int_eq(b.measured, 0);
	ck_assert_double_eq_tol(b.stored_ratio, 0.5, EPS);
}
END_TEST

static cp_run_record backup_run(const char *policy, int64_t seconds, uint64_t bytes,
				cp_run_result result)
{
	cp_run_record r;
	memset(&r, 0, sizeof(r));
	r.run_id = "run";
	r.policy = policy;
	r.action = CP_ACTION_BACKUP;
	r.resource_id = "d-1";
	r.start = 1000;
	r.end = 1000 + seconds;
	r.bytes = bytes;
	r.result = result;
	return r;
}

START_TEST(throughput_measured_from_recorded_runs)
{
	char *dir = tu_tempdir("cost-runs");
	cp_state *state = NULL;
	tu_ok(cp_state_open(&state, dir));
	cp_cost_assumptions a = CP_COST_ASSUMPTIONS_INIT;
	/* Nothing recorded: the assumption stays. */
	tu_ok(cp_cost_measure_runs(state, "c", &a));
	ck_assert_int_eq(a.throughput_measured, 0);
	ck_assert_double_eq_tol(a.throughput_mib_s, 200, EPS);
	cp_run_record runs[] = {
		backup_run("c", 20, 1000ull << 20, CP_RUN_OK),	   /* counts */
		backup_run("c", 30, 500ull << 20, CP_RUN_OK),	   /* counts */
		backup_run("c", 3, 900ull << 20, CP_RUN_OK),	   /* too short to time */
		backup_run("c", 40, 10ull << 20, CP_RUN_FAILED),   /* failed */
		backup_run("other", 50, 5000ull << 20, CP_RUN_OK), /* another policy */
	};
	tu_ok(cp_state_append(state, runs, sizeof(runs) / sizeof(runs[0])));
	tu_ok(cp_cost_measure_runs(state, "c", &a));
	ck_assert_int_eq(a.throughput_measured, 1);
	ck_assert_double_eq_tol(a.throughput_mib_s, 1500.0 / 50.0, EPS);
	/* Worker hours follow: 100 GiB of used data read at 30 MiB/s for the first full. */
	cp_policy *p = policy(BACKUP_7);
	cp_cost_options o = CP_COST_OPTIONS_INIT;
	cp_prices *pr = prices();
	o.prices = pr;
	o.assumptions = a;
	cp_cost_report slow = estimate(p, &disk100, &o);
	o.assumptions.throughput_mib_s = 300;
	cp_cost_report fast = estimate(p, &disk100, &o);
	ck_assert_double_eq_tol(slow.lines[0].worker_hours, fast.lines[0].worker_hours * 10, 1e-6);
	ck_assert(slow.lines[0].cost.compute > fast.lines[0].cost.compute);
	cp_cost_report_dispose(&slow);
	cp_cost_report_dispose(&fast);
	cp_prices_free(pr);
	cp_policy_free(p);
	cp_state_free(state);
	tu_rmtree(dir);
	free(dir);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("cost");
	TCase *tc = tcase_create("cost");
	tcase_add_test(tc, snapshots_only_by_hand);
	tcase_add_test(tc, backups_by_hand);
	tcase_add_test(tc, archive_by_hand);
	tcase_add_test(tc, cost_grows_with_size_retention_and_change);
	tcase_add_test(tc, design_questions);
	tcase_add_test(tc, price_tables_load_override_and_fail_precisely);
	tcase_add_test(tc, measured_from_backups);
	tcase_add_test(tc, throughput_measured_from_recorded_runs);
	suite_add_tcase(s, tc);
	return tu_run(s);
}
