/* Schedules on a fake clock: days, months, leap years, DST changes, missed runs. */
#include "policy_fixture.h"

static const cp_resource disk = {CP_RESOURCE_DISK, "d-1", "data", "r1", "a1", NULL, 1, NULL, 0};

static cp_policy *snapshot_policy(const char *zone, const char *schedule)
{
	char json[1024];
	snprintf(json, sizeof(json),
		 "{\"name\":\"p\",\"timezone\":\"%s\",\"selection\":{\"all\":true},"
		 "\"snapshots\":{\"schedule\":%s,\"retention\":{\"last\":10000}}}",
		 zone, schedule);
	return fw_policy(json);
}

/*
 * Run the planner every step seconds from start to end, doing what it
 * says. A snapshot just before start stands for the runs before, so the
 * first plan has nothing to catch up.
 */
static void simulate(fake_world *w, const cp_policy *p, int64_t start, int64_t end, int64_t step)
{
	fw_snapshot(w, "d-1", NULL, NULL, start - 1);
	for (int64_t now = start; now < end; now += step) {
		cp_plan *plan = NULL;
		tu_ok(fw_plan(w, p, &disk, 1, now, &plan));
		fw_apply(w, plan, now);
		cp_plan_free(plan);
	}
}

/* Snapshots (not the seed) whose creation falls on a local date. */
static size_t on_local_day(fake_world *w, const char *zone, int y, int m, int d)
{
	size_t n = 0;
	for (size_t i = 1; i < w->nsnaps; i++) {
		struct tm tm;
		cp_tz_local(zone, w->snaps[i].created, &tm);
		n += tm.tm_year + 1900 == y && tm.tm_mon + 1 == m && tm.tm_mday == d;
	}
	return n;
}

START_TEST(calendar_arithmetic)
{
	ck_assert_int_eq(cp_days_from_civil(1970, 1, 1), 0);
	ck_assert_int_eq(cp_days_from_civil(2000, 3, 1), 11017);
	ck_assert_int_eq(cp_days_from_civil(1969, 12, 31), -1);
	for (int64_t d = -800000; d < 800000; d += 997) {
		int y, m, dd;
		cp_civil_from_days(d, &y, &m, &dd);
		ck_assert_int_eq(cp_days_from_civil(y, m, dd), d);
		ck_assert(dd >= 1 && dd <= cp_days_in_month(y, m));
	}
	ck_assert_int_eq(cp_days_in_month(2024, 2), 29);
	ck_assert_int_eq(cp_days_in_month(2023, 2), 28);
	ck_assert_int_eq(cp_days_in_month(1900, 2), 28);
	ck_assert_int_eq(cp_days_in_month(2000, 2), 29);
	ck_assert_int_eq(cp_weekday(2026, 3, 29), 0); /* a Sunday */
	ck_assert_int_eq(cp_iso_week(2026, 1, 1), 202601);
	ck_assert_int_eq(cp_iso_week(2021, 1, 3), 202053);
	ck_assert_int_eq(cp_iso_week(2024, 12, 30), 202501);
}
END_TEST

START_TEST(local_times_across_dst)
{
	/* 02:30 does not exist on 2026-03-29 in Berlin: it runs at 03:30 CEST = 01:30 UTC. */
	ck_assert_int_eq(cp_tz_to_utc("Europe/Berlin", 2026, 3, 29, 150), utc(2026, 3, 29, 1, 30));
	/* 02:30 happens twice on 2026-10-25: the first one, still CEST. */
	ck_assert_int_eq(cp_tz_to_utc("Europe/Berlin", 2026, 10, 25, 150),
			 utc(2026, 10, 25, 0, 30));
	ck_assert_int_eq(cp_tz_to_utc("Europe/Berlin", 2026, 7, 1, 150), utc(2026, 7, 1, 0, 30));
	ck_assert_int_eq(cp_tz_to_utc("Europe/Berlin", 2026, 1, 15, 150), utc(2026, 1, 15, 1, 30));
	ck_assert_int_eq(cp_tz_to_utc("America/New_York", 2026, 3, 8, 150), utc(2026, 3, 8, 7, 30));
	ck_assert_int_eq(cp_tz_to_utc("UTC", 2024, 2, 29, 61), utc(2024, 2, 29, 1, 1));
	/* The process zone is left as it was. */
	ck_assert_ptr_null(getenv("TZ"));
}
END_TEST

START_TEST(daily_runs_once_per_day_across_spring_forward)
{
	cp_policy *p = snapshot_policy("Europe/Berlin", "{\"every\":\"day\",\"at\":\"02:30\"}");
	fake_world *w = fw_new("p");
	simulate(w, p, utc(2026, 3, 26, 0, 0), utc(2026, 4, 2, 0, 0), 600);
	for (int d = 26; d <= 31; d++)
		ck_assert_msg(on_local_day(w, "Europe/Berlin", 2026, 3, d) == 1, "March %d: %zu", d,
			      on_local_day(w, "Europe/Berlin", 2026, 3, d));
	ck_assert_uint_eq(w->nsnaps, 1 + 7); /* the seed, then 26.3 .. 1.4 */
	/* The spring-forward run came at 03:30 local, 01:30 UTC. */
	int found = 0;
	for (size_t i = 0; i < w->nsnaps; i++)
		found |= w->snaps[i].created == utc(2026, 3, 29, 1, 30);
	ck_assert(found);
	fw_free(w);
	cp_policy_free(p);
}
END_TEST

START_TEST(daily_runs_once_per_day_across_fall_back)
{
	cp_policy *p = snapshot_policy("Europe/Berlin", "{\"every\":\"day\",\"at\":\"02:30\"}");
	fake_world *w = fw_new("p");
	simulate(w, p, utc(2026, 10, 22, 0, 0), utc(2026, 10, 29, 0, 0), 600);
	for (int d = 22; d <= 28; d++)
		ck_assert_msg(on_local_day(w, "Europe/Berlin", 2026, 10, d) == 1, "October %d: %zu",
			      d, on_local_day(w, "Europe/Berlin", 2026, 10, d));
	ck_assert_uint_eq(w->nsnaps, 1 + 7);
	fw_free(w);
	cp_policy_free(p);
}
END_TEST

START_TEST(hourly_slots_follow_the_local_clock)
{
	cp_policy *p = snapshot_policy("Europe/Berlin", "{\"every\":\"hours\",\"interval\":1}");
	fake_world *w = fw_new("p");
	simulate(w, p, utc(2026, 3, 28, 22, 0), utc(2026, 3, 29, 23, 0), 300);
	/* 02:00 does not exist: it is the same instant as 03:00, so the day has 23 runs. */
	ck_assert_uint_eq(on_local_day(w, "Europe/Berlin", 2026, 3, 29), 23);
	fw_free(w);
	w = fw_new("p");
	simulate(w, p, utc(2026, 10, 24, 21, 0), utc(2026, 10, 25, 23, 30), 300);
	/* 02:00 happens twice: the first one counts, so the 25-hour day has 24 runs. */
	ck_assert_uint_eq(on_local_day(w, "Europe/Berlin", 2026, 10, 25), 24);
	fw_free(w);
	cp_policy_free(p);
	p = snapshot_policy("UTC", "{\"every\":\"hours\",\"interval\":6,\"minute\":30}");
	w = fw_new("p");
	simulate(w, p, utc(2026, 5, 1, 0, 0), utc(2026, 5, 3, 0, 0), 900);
	ck_assert_uint_eq(w->nsnaps, 1 + 8);
	ck_assert_int_eq(w->snaps[1].created, utc(2026, 5, 1, 0, 30));
	ck_assert_int_eq(w->snaps[2].created, utc(2026, 5, 1, 6, 30));
	fw_free(w);
	cp_policy_free(p);
}
END_TEST

START_TEST(monthly_on_days_past_the_month_end_across_leap_years)
{
	cp_policy *p =
		snapshot_policy("UTC", "{\"every\":\"month\",\"days\":[29],\"at\":\"01:00\"}");
	fake_world *w = fw_new("p");
	simulate(w, p, utc(2023, 1, 1, 0, 0), utc(2025, 1, 1, 0, 0), 6 * 3600);
	ck_assert_uint_eq(w->nsnaps, 1 + 24);
	ck_assert_uint_eq(on_local_day(w, "UTC", 2023, 2, 28), 1); /* no 29th: the last day */
	ck_assert_uint_eq(on_local_day(w, "UTC", 2024, 2, 29), 1);
	ck_assert_uint_eq(on_local_day(w, "UTC", 2024, 2, 28), 0);
	fw_free(w);
	cp_policy_free(p);
	p = snapshot_policy("UTC", "{\"every\":\"month\",\"days\":[31],\"at\":\"01:00\"}");
	w = fw_new("p");
	simulate(w, p, utc(2024, 1, 1, 0, 0), utc(2024, 7, 1, 0, 0), 6 * 3600);
	ck_assert_uint_eq(w->nsnaps, 1 + 6);
	ck_assert_uint_eq(on_local_day(w, "UTC", 2024, 2, 29), 1);
	ck_assert_uint_eq(on_local_day(w, "UTC", 2024, 4, 30), 1);
	ck_assert_uint_eq(on_local_day(w, "UTC", 2024, 6, 30), 1);
	fw_free(w);
	cp_policy_free(p);
}
END_TEST

START_TEST(daily_across_leap_day_and_year_end)
{
	cp_policy *p = snapshot_policy("UTC", "{\"every\":\"day\",\"at\":\"23:59\"}");
	fake_world *w = fw_new("p");
	simulate(w, p, utc(2024, 2, 27, 0, 0), utc(2024, 3, 2, 1, 0), 1800);
	ck_assert_uint_eq(w->nsnaps, 1 + 4); /* 27, 28, 29 Feb and 1 Mar */
	ck_assert_uint_eq(on_local_day(w, "UTC", 2024, 2, 29), 1);
	fw_free(w);
	w = fw_new("p");
	simulate(w, p, utc(2024, 12, 30, 0, 0), utc(2025, 1, 2, 1, 0), 1800);
	ck_assert_uint_eq(w->nsnaps, 1 + 3);
	fw_free(w);
	cp_policy_free(p);
}
END_TEST

START_TEST(weekly_on_chosen_days)
{
	cp_policy *p =
		snapshot_policy("Europe/Berlin",
				"{\"every\":\"week\",\"days\":[\"mon\",\"fri\"],\"at\":\"20:00\"}");
	fake_world *w = fw_new("p");
	simulate(w, p, utc(2026, 3, 1, 0, 0), utc(2026, 3, 29, 0, 0), 3600);
	ck_assert_uint_eq(w->nsnaps, 1 + 8);
	for (size_t i = 1; i < w->nsnaps; i++) {
		struct tm tm;
		cp_tz_local("Europe/Berlin", w->snaps[i].created, &tm);
		ck_assert(tm.tm_wday == 1 || tm.tm_wday == 5);
		ck_assert_int_eq(tm.tm_hour, 20);
	}
	fw_free(w);
	cp_policy_free(p);
}
END_TEST

START_TEST(missed_runs_are_caught_up_once)
{
	cp_policy *p = snapshot_policy("UTC", "{\"every\":\"day\",\"at\":\"02:00\"}");
	fake_world *w = fw_new("p");
	fw_snapshot(w, "d-1", NULL, NULL, utc(2026, 5, 1, 2, 0));
	/* Nothing ran for four days. */
	cp_plan *plan = NULL;
	int64_t now = utc(2026, 5, 5, 10, 0);
	tu_ok(fw_plan(w, p, &disk, 1, now, &plan));
	ck_assert_uint_eq(fw_count(plan, CP_ACTION_SNAPSHOT), 1);
	ck_assert_int_eq(cp_plan_action(plan, 0)->scheduled, utc(2026, 5, 5, 2, 0));
	ck_assert_ptr_nonnull(strstr(cp_plan_action(plan, 0)->reason, "daily at 02:00"));
	fw_apply(w, plan, now);
	cp_plan_free(plan);
	tu_ok(fw_plan(w, p, &disk, 1, now + 600, &plan));
	ck_assert_uint_eq(fw_count(plan, CP_ACTION_SNAPSHOT), 0);
	cp_plan_free(plan);
	/* The next slot is due again. */
	tu_ok(fw_plan(w, p, &disk, 1, utc(2026, 5, 6, 2, 0), &plan));
	ck_assert_uint_eq(fw_count(plan, CP_ACTION_SNAPSHOT), 1);
	cp_plan_free(plan);
	fw_free(w);
	cp_policy_free(p);
}
END_TEST

START_TEST(a_failed_attempt_waits_for_the_next_slot)
{
	cp_policy *p = snapshot_policy("UTC", "{\"every\":\"day\",\"at\":\"02:00\"}");
	fake_world *w = fw_new("p");
	cp_run_record *r = &w->runs[w->nruns++];
	memset(r, 0, sizeof(*r));
	r->policy = "p";
	r->action = CP_ACTION_SNAPSHOT;
	r->resource_id = "d-1";
	r->start = utc(2026, 5, 5, 2, 1);
	r->result = CP_RUN_FAILED;
	cp_plan *plan = NULL;
	tu_ok(fw_plan(w, p, &disk, 1, utc(2026, 5, 5, 3, 0), &plan));
	ck_assert_uint_eq(cp_plan_count(plan), 0);
	cp_plan_free(plan);
	/* Another policy's attempt does not count. */
	r->policy = "other";
	tu_ok(fw_plan(w, p, &disk, 1, utc(2026, 5, 5, 3, 0), &plan));
	ck_assert_uint_eq(cp_plan_count(plan), 1);
	cp_plan_free(plan);
	r->policy = "p";
	tu_ok(fw_plan(w, p, &disk, 1, utc(2026, 5, 6, 2, 0), &plan));
	ck_assert_uint_eq(fw_count(plan, CP_ACTION_SNAPSHOT), 1);
	cp_plan_free(plan);
	fw_free(w);
	cp_policy_free(p);
}
END_TEST

START_TEST(next_run_is_the_earliest_of_both_schedules)
{
	cp_policy *p = fw_policy(
		"{\"name\":\"p\",\"timezone\":\"Europe/Berlin\",\"selection\":{\"all\":true},"
		"\"snapshots\":{\"schedule\":{\"every\":\"day\",\"at\":\"02:30\"},\"retention\":{"
		"\"days\":7}},\"backups\":{\"repository\":\"file:///r\",\"schedule\":{\"every\":"
		"\"week\",\"days\":[\"sat\"],\"at\":\"23:00\"},\"retention\":{\"weekly\":4}}}");
	int64_t next = 0;
	tu_ok(cp_policy_next_run(p, utc(2026, 3, 28, 12, 0), &next));
	ck_assert_int_eq(next, utc(2026, 3, 28, 22, 0)); /* Saturday 23:00 CET */
	tu_ok(cp_policy_next_run(p, utc(2026, 3, 28, 22, 0), &next));
	ck_assert_int_eq(next, utc(2026, 3, 29, 1, 30)); /* 02:30 skipped: 03:30 CEST */
	cp_policy_free(p);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("policy_schedule");
	TCase *tc = tcase_create("schedule");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, calendar_arithmetic);
	tcase_add_test(tc, local_times_across_dst);
	tcase_add_test(tc, daily_runs_once_per_day_across_spring_forward);
	tcase_add_test(tc, daily_runs_once_per_day_across_fall_back);
	tcase_add_test(tc, hourly_slots_follow_the_local_clock);
	tcase_add_test(tc, monthly_on_days_past_the_month_end_across_leap_years);
	tcase_add_test(tc, daily_across_leap_day_and_year_end);
	tcase_add_test(tc, weekly_on_chosen_days);
	tcase_add_test(tc, missed_runs_are_caught_up_once);
	tcase_add_test(tc, a_failed_attempt_waits_for_the_next_slot);
	tcase_add_test(tc, next_run_is_the_earliest_of_both_schedules);
	suite_add_tcase(s, tc);
	return tu_run(s);
}
