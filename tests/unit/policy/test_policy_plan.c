/* Planning retention: GFS by hand, immutability, the archive move, snapshot expiry. */
#include "policy_fixture.h"

static const cp_resource disk = {CP_RESOURCE_DISK, "d-1", "data", "r1", "a1", NULL, 1, NULL, 0};

static cp_policy *backup_policy(const char *retention, const char *extra)
{
	char json[1024];
	snprintf(json, sizeof(json),
		 "{\"name\":\"p\",\"selection\":{\"all\":true},\"backups\":{\"repository\":"
		 "\"file:///r\",\"schedule\":{\"every\":\"day\",\"at\":\"12:00\"},\"retention\":%s}"
		 "%s}",
		 retention, extra);
	return fw_policy(json);
}

/* Backups of d-1 at 12:00 UTC on January 1..days 2026. */
static void daily_backups(fake_world *w, int days)
{
	for (int d = 1; d <= days; d++)
		fw_backup(w, "d-1", NULL, utc(2026, 1, d, 12, 0));
}

static int forgotten_day(const cp_plan *plan, fake_world *w, int day, int archive)
{
	const cp_backup_info *list = archive ? w->archived : w->backups;
	size_t n = archive ? w->narchived : w->nbackups;
	for (size_t i = 0; i < cp_plan_count(plan); i++) {
		const cp_action *a = cp_plan_action(plan, i);
		if (a->kind != CP_ACTION_FORGET_BACKUP || a->archive != archive)
			continue;
		for (size_t j = 0; j < n; j++)
			if (!strcmp(list[j].id, a->backup_id) &&
			    list[j].time == utc(2026, 1, day, 12, 0))
				return 1;
	}
	return 0;
}

START_TEST(gfs_keeps_what_was_computed_by_hand)
{
	/*
	 * 2026-01-01 is a Thursday; ISO weeks: 1 = Dec 29..Jan 4, 2 = Jan 5..11,
	 * 3 = Jan 12..18, 4 = Jan 19..25. last 5: Jan 20..16; daily 3: 20, 19, 18;
	 * weekly 3: 20 (week 4), 18 (week 3), 11 (week 2). Kept: 20..16 and 11.
	 */
	cp_policy *p = backup_policy("{\"last\":5,\"daily\":3,\"weekly\":3}", "");
	fake_world *w = fw_new("p");
	daily_backups(w, 20);
	cp_plan *plan = NULL;
	tu_ok(fw_plan(w, p, &disk, 1, utc(2026, 1, 20, 13, 0), &plan));
	ck_assert_uint_eq(fw_count(plan, CP_ACTION_FORGET_BACKUP), 14);
	for (int d = 1; d <= 20; d++) {
		int kept = d >= 16 || d == 11;
		ck_assert_msg(forgotten_day(plan, w, d, 0) == !kept, "January %d", d);
	}
	ck_assert_uint_eq(fw_count(plan, CP_ACTION_PRUNE), 1);
	ck_assert_uint_eq(fw_count(plan, CP_ACTION_BACKUP), 0); /* today's is done */
	cp_plan_free(plan);
	fw_free(w);
	cp_policy_free(p);
}
END_TEST

START_TEST(monthly_and_yearly_buckets)
{
	/* One backup a month for 30 months from Jan 2024: monthly 6 + yearly 3. */
	cp_policy *p = backup_policy("{\"monthly\":6,\"yearly\":3}", ",\"prune\":false");
	fake_world *w = fw_new("p");
	for (int m = 0; m < 30; m++)
		fw_backup(w, "d-1", NULL, utc(2024 + m / 12, 1 + m % 12, 15, 12, 0));
	cp_plan *plan = NULL;
	tu_ok(fw_plan(w, p, &disk, 1, utc(2026, 6, 20, 13, 0), &plan));
	/* Kept: Jan..Jun 2026 (monthly), Dec 2025 and Dec 2024 (yearly): 8 of 30. */
	ck_assert_uint_eq(fw_count(plan, CP_ACTION_FORGET_BACKUP), 22);
	ck_assert_uint_eq(fw_count(plan, CP_ACTION_PRUNE), 0);
	fw_apply(w, plan, utc(2026, 6, 20, 13, 0));
	ck_assert_uint_eq(w->nbackups, 8 + 1); /* and today's new one */
	ck_assert_int_eq(w->backups[0].time, utc(2024, 12, 15, 12, 0));
	ck_assert_int_eq(w->backups[1].time, utc(2025, 12, 15, 12, 0));
	cp_plan_free(plan);
	fw_free(w);
	cp_policy_free(p);
}
END_TEST

START_TEST(backups_in_the_same_second_stay_distinct)
{
	cp_policy *p = backup_policy("{\"last\":1}", "");
	fake_world *w = fw_new("p");
	fw_backup(w, "d-1", NULL, utc(2026, 1, 1, 12, 0));
	fw_backup(w, "d-1", NULL, utc(2026, 1, 1, 12, 0));
	cp_plan *plan = NULL;
	tu_ok(fw_plan(w, p, &disk, 1, utc(2026, 1, 1, 13, 0), &plan));
	ck_assert_uint_eq(fw_count(plan, CP_ACTION_FORGET_BACKUP), 1);
	cp_plan_free(plan);
	fw_free(w);
	cp_policy_free(p);
}
END_TEST

START_TEST(immutable_backups_are_not_forgotten_until_unlocked)
{
	cp_policy *p = backup_policy("{\"last\":1}", ",\"immutability_days\":10");
	fake_world *w = fw_new("p");
	daily_backups(w, 20);
	cp_plan *plan = NULL;
	/* Now Jan 20 13:00: Jan 11 onwards are locked until 10 days after they were made. */
	tu_ok(fw_plan(w, p, &disk, 1, utc(2026, 1, 20, 13, 0), &plan));
	ck_assert_uint_eq(fw_count(plan, CP_ACTION_FORGET_BACKUP), 10);
	for (int d = 1; d <= 20; d++)
		ck_assert_msg(forgotten_day(plan, w, d, 0) == (d <= 10), "January %d", d);
	cp_plan_free(plan);
	fw_free(w);
	cp_policy_free(p);
}
END_TEST

START_TEST(backups_move_to_the_archive_after_n_days)
{
	cp_policy *p = backup_policy(
		"{\"daily\":15}", ",\"archive\":{\"repository\":\"s3://cold/p\",\"after_days\":7}");
	fake_world *w = fw_new("p");
	daily_backups(w, 20);
	int64_t now = utc(2026, 1, 20, 13, 0);
	cp_plan *plan = NULL;
	tu_ok(fw_plan(w, p, &disk, 1, now, &plan));
	/* Kept: Jan 6..20. Old enough (made by Jan 13 13:00): Jan 6..13 are copied. */
	ck_assert_uint_eq(fw_count(plan, CP_ACTION_ARCHIVE_COPY), 8);
	ck_assert_uint_eq(fw_count(plan, CP_ACTION_FORGET_BACKUP), 5); /* Jan 1..5 */
	fw_apply(w, plan, now);
	cp_plan_free(plan);
	ck_assert_uint_eq(w->narchived, 8);
	/* Once copied, the primary's copies go: the move completes. */
	tu_ok(fw_plan(w, p, &disk, 1, now + 60, &plan));
	ck_assert_uint_eq(fw_count(plan, CP_ACTION_ARCHIVE_COPY), 0);
	ck_assert_uint_eq(fw_count(plan, CP_ACTION_FORGET_BACKUP), 8);
	for (size_t i = 0; i < cp_plan_count(plan); i++)
		if (cp_plan_action(plan, i)->kind == CP_ACTION_FORGET_BACKUP)
			ck_assert_int_eq(cp_plan_action(plan, i)->archive, 0);
	fw_apply(w, plan, now + 60);
	cp_plan_free(plan);
	ck_assert_uint_eq(w->nbackups, 7);
	tu_ok(fw_plan(w, p, &disk, 1, now + 120, &plan));
	ck_assert_uint_eq(cp_plan_count(plan), 0);
	cp_plan_free(plan);
	/* Four more backups later, daily 15 keeps Jan 10..24: Jan 6..9 leave the archive. */
	for (int d = 21; d <= 24; d++)
		fw_backup(w, "d-1", NULL, utc(2026, 1, d, 12, 0));
	tu_ok(fw_plan(w, p, &disk, 1, utc(2026, 1, 25, 11, 0), &plan));
	ck_assert_uint_eq(fw_count(plan, CP_ACTION_BACKUP), 0);
	for (int d = 6; d <= 13; d++)
		ck_assert_msg(forgotten_day(plan, w, d, 1) == (d <= 9), "January %d", d);
	ck_assert_uint_eq(fw_count(plan, CP_ACTION_ARCHIVE_COPY), 4); /* Jan 14..17 */
	/* Only the archive lost backups, so only the archive is pruned. */
	ck_assert_uint_eq(fw_count(plan, CP_ACTION_PRUNE), 1);
	ck_assert_int_eq(cp_plan_action(plan, cp_plan_count(plan) - 1)->kind, CP_ACTION_PRUNE);
	ck_assert_int_eq(cp_plan_action(plan, cp_plan_count(plan) - 1)->archive, 1);
	cp_plan_free(plan);
	fw_free(w);
	cp_policy_free(p);
}
END_TEST

START_TEST(the_last_backup_stays_in_the_primary)
{
	cp_policy *p = backup_policy(
		"{\"daily\":3}", ",\"archive\":{\"repository\":\"s3://cold/p\",\"after_days\":7}");
	fake_world *w = fw_new("p");
	fw_backup(w, "d-1", NULL, utc(2026, 1, 1, 12, 0));
	w->archived[w->narchived++] = w->backups[0];
	/* The disk is gone from the inventory? No: it is here, but its backups stopped. */
	cp_plan *plan = NULL;
	tu_ok(fw_plan(w, p, &disk, 1, utc(2026, 3, 1, 11, 0), &plan));
	ck_assert_uint_eq(fw_count(plan, CP_ACTION_FORGET_BACKUP), 0);
	cp_plan_free(plan);
	fw_free(w);
	cp_policy_free(p);
}
END_TEST

static cp_policy *snapshot_policy(const char *retention)
{
	char json[512];
	snprintf(json, sizeof(json),
		 "{\"name\":\"p\",\"selection\":{\"ids\":[\"d-1\",\"i-1\"]},\"snapshots\":{"
		 "\"schedule\":{\"every\":\"day\",\"at\":\"01:00\"},\"retention\":%s}}",
		 retention);
	return fw_policy(json);
}

START_TEST(snapshots_expire_by_age_and_count)
{
	cp_policy *p = snapshot_policy("{\"days\":7,\"last\":2}");
	fake_world *w = fw_new("p");
	for (int d = 1; d <= 20; d++)
		fw_snapshot(w, "d-1", NULL, NULL, utc(2026, 1, d, 1, 0));
	/* Not the policy's: never touched. */
	fw_snapshot(w, "d-1", NULL, NULL, utc(2025, 1, 1, 1, 0))->ntags = 0;
	cp_plan *plan = NULL;
	tu_ok(fw_plan(w, p, &disk, 1, utc(2026, 1, 20, 2, 0), &plan));
	/* Younger than 7 days: made after Jan 13 02:00, i.e. Jan 14..20 stay. */
	ck_assert_uint_eq(fw_count(plan, CP_ACTION_EXPIRE_SNAPSHOT), 13);
	ck_assert_uint_eq(fw_count(plan, CP_ACTION_SNAPSHOT), 0);
	fw_apply(w, plan, utc(2026, 1, 20, 2, 0));
	ck_assert_uint_eq(w->nsnaps, 8);
	cp_plan_free(plan);
	fw_free(w);
	cp_policy_free(p);
}
END_TEST

START_TEST(the_newest_good_snapshot_is_never_expired)
{
	cp_policy *p = snapshot_policy("{\"days\":1}");
	fake_world *w = fw_new("p");
	fw_snapshot(w, "d-1", NULL, NULL, utc(2026, 1, 1, 1, 0));
	for (int d = 10; d <= 12; d++)
		fw_snapshot(w, "d-1", NULL, NULL, utc(2026, 1, d, 1, 0))->state = CP_SNAPSHOT_ERROR;
	fw_snapshot(w, "d-1", NULL, NULL, utc(2026, 1, 19, 1, 0))->state = CP_SNAPSHOT_PENDING;
	cp_plan *plan = NULL;
	tu_ok(fw_plan(w, p, &disk, 1, utc(2026, 1, 20, 0, 30), &plan));
	/* The failed ones of the 10th..12th go; the old good one and the pending one stay. */
	ck_assert_uint_eq(fw_count(plan, CP_ACTION_EXPIRE_SNAPSHOT), 3);
	for (size_t i = 0; i < cp_plan_count(plan); i++)
		ck_assert_str_ne(cp_plan_action(plan, i)->snapshot_id, w->snaps[0].id);
	cp_plan_free(plan);
	fw_free(w);
	cp_policy_free(p);
}
END_TEST

START_TEST(instance_snapshot_groups_expire_together)
{
	cp_policy *p = snapshot_policy("{\"last\":1}");
	cp_resource vm = {CP_RESOURCE_VM, "i-1", "db", "r1", "a1", NULL, 2, NULL, 0};
	fake_world *w = fw_new("p");
	fw_snapshot(w, "d-1", "i-1", "g-1", utc(2026, 1, 1, 1, 0));
	fw_snapshot(w, "d-2", "i-1", "g-1", utc(2026, 1, 1, 1, 0));
	fw_snapshot(w, "d-1", "i-1", "g-2", utc(2026, 1, 2, 1, 0));
	fw_snapshot(w, "d-2", "i-1", "g-2", utc(2026, 1, 2, 1, 0));
	cp_plan *plan = NULL;
	tu_ok(fw_plan(w, p, &vm, 1, utc(2026, 1, 2, 2, 0), &plan));
	ck_assert_uint_eq(fw_count(plan, CP_ACTION_EXPIRE_SNAPSHOT), 2);
	ck_assert_str_eq(cp_plan_action(plan, 0)->snapshot_id, w->snaps[0].id);
	ck_assert_str_eq(cp_plan_action(plan, 1)->snapshot_id, w->snaps[1].id);
	ck_assert_str_eq(cp_plan_action(plan, 0)->resource_id, "i-1");
	cp_plan_free(plan);
	fw_free(w);
	cp_policy_free(p);
}
END_TEST

START_TEST(backups_use_a_fresh_snapshot_or_take_one)
{
	cp_policy *p = fw_policy(
		"{\"name\":\"p\",\"selection\":{\"all\":true},\"snapshots\":{\"schedule\":{"
		"\"every\":\"hours\",\"interval\":1},\"retention\":{\"last\":48}},\"backups\":{"
		"\"repository\":\"file:///r\",\"schedule\":{\"every\":\"day\",\"at\":\"03:00\"},"
		"\"retention\":{\"daily\":7}}}");
	fake_world *w = fw_new("p");
	cp_snapshot *s = fw_snapshot(w, "d-1", NULL, NULL, utc(2026, 1, 5, 3, 0));
	cp_plan *plan = NULL;
	tu_ok(fw_plan(w, p, &disk, 1, utc(2026, 1, 5, 3, 10), &plan));
	ck_assert_uint_eq(cp_plan_count(plan), 1);
	ck_assert_int_eq(cp_plan_action(plan, 0)->kind, CP_ACTION_BACKUP);
	ck_assert_str_eq(cp_plan_action(plan, 0)->snapshot_id, s->id);
	cp_plan_free(plan);
	/* Both due: the snapshot first, and the backup reads that one. */
	tu_ok(fw_plan(w, p, &disk, 1, utc(2026, 1, 6, 3, 10), &plan));
	ck_assert_uint_eq(cp_plan_count(plan), 2);
	ck_assert_int_eq(cp_plan_action(plan, 0)->kind, CP_ACTION_SNAPSHOT);
	ck_assert_int_eq(cp_plan_action(plan, 1)->kind, CP_ACTION_BACKUP);
	ck_assert_ptr_null(cp_plan_action(plan, 1)->snapshot_id);
	cp_plan_free(plan);
	fw_free(w);
	cp_policy_free(p);
	/* Without a snapshot schedule, a snapshot is taken for each backup. */
	p = backup_policy("{\"daily\":7}", "");
	w = fw_new("p");
	tu_ok(fw_plan(w, p, &disk, 1, utc(2026, 1, 6, 12, 10), &plan));
	ck_assert_uint_eq(cp_plan_count(plan), 2);
	ck_assert_str_eq(cp_plan_action(plan, 0)->reason, "taken for the backup");
	fw_apply(w, plan, utc(2026, 1, 6, 12, 10));
	cp_plan_free(plan);
	tu_ok(fw_plan(w, p, &disk, 1, utc(2026, 1, 7, 12, 10), &plan));
	fw_apply(w, plan, utc(2026, 1, 7, 12, 10));
	cp_plan_free(plan);
	/* Only the newest snapshot stays, as the base of the next incremental. */
	tu_ok(fw_plan(w, p, &disk, 1, utc(2026, 1, 7, 12, 20), &plan));
	ck_assert_uint_eq(fw_count(plan, CP_ACTION_EXPIRE_SNAPSHOT), 1);
	cp_plan_free(plan);
	fw_free(w);
	cp_policy_free(p);
}
END_TEST

START_TEST(databases_get_snapshots_but_no_image_backups)
{
	/* A database has no blocks to read: its native snapshots are its restore points. */
	cp_policy *p = backup_policy("{\"daily\":7}", "");
	cp_resource db = {CP_RESOURCE_DB,
			  "arn:aws:rds:r1:1:db:orders",
			  "orders",
			  "r1",
			  "a1",
			  NULL,
			  1,
			  NULL,
			  0};
	fake_world *w = fw_new("p");
	cp_plan *plan = NULL;
	tu_ok(fw_plan(w, p, &db, 1, utc(2026, 1, 6, 12, 10), &plan));
	ck_assert_uint_eq(fw_count(plan, CP_ACTION_BACKUP), 0);
	cp_plan_free(plan);
	/* The same policy does back up a disk. */
	tu_ok(fw_plan(w, p, &disk, 1, utc(2026, 1, 6, 12, 10), &plan));
	ck_assert_uint_eq(fw_count(plan, CP_ACTION_BACKUP), 1);
	cp_plan_free(plan);
	fw_free(w);
	cp_policy_free(p);
}
END_TEST

START_TEST(unselected_resources_get_nothing)
{
	cp_policy *p = snapshot_policy("{\"last\":1}");
	cp_resource other = {CP_RESOURCE_DISK, "d-9", "x", "r1", "a1", NULL, 1, NULL, 0};
	fake_world *w = fw_new("p");
	cp_plan *plan = NULL;
	tu_ok(fw_plan(w, p, &other, 1, utc(2026, 1, 2, 2, 0), &plan));
	ck_assert_uint_eq(cp_plan_count(plan), 0);
	cp_plan_free(plan);
	cp_plan_history bad = CP_PLAN_HISTORY_INIT;
	bad.version = 7;
	ck_assert_int_eq(cp_policy_plan(&plan, p, &other, 1, &bad, 0), CP_EINVALID);
	fw_free(w);
	cp_policy_free(p);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("policy_plan");
	TCase *tc = tcase_create("plan");
	tcase_add_test(tc, gfs_keeps_what_was_computed_by_hand);
	tcase_add_test(tc, monthly_and_yearly_buckets);
	tcase_add_test(tc, backups_in_the_same_second_stay_distinct);
	tcase_add_test(tc, immutable_backups_are_not_forgotten_until_unlocked);
	tcase_add_test(tc, backups_move_to_the_archive_after_n_days);
	tcase_add_test(tc, the_last_backup_stays_in_the_primary);
	tcase_add_test(tc, snapshots_expire_by_age_and_count);
	tcase_add_test(tc, the_newest_good_snapshot_is_never_expired);
	tcase_add_test(tc, instance_snapshot_groups_expire_together);
	tcase_add_test(tc, backups_use_a_fresh_snapshot_or_take_one);
	tcase_add_test(tc, databases_get_snapshots_but_no_image_backups);
	tcase_add_test(tc, unselected_resources_get_nothing);
	suite_add_tcase(s, tc);
	return tu_run(s);
}
