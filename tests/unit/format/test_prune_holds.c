/*
 * What prune holds back and what it sweeps: packs younger than their
 * storage class's minimum storage duration (kept unless early_delete),
 * packs still locked (never even tried), and stale unfinished uploads
 * (aborted past the age limit, never in a dry run). A "cold://" store
 * wraps file:// and plays a cloud: its listing puts data packs in a
 * class billed 30 days at least, and it can lock packs.
 */
#include "fmtutil.h"

#include "cloudprotect/sys/objstore.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CS   4096u
#define DAY  86400
#define COLD "COLD"

static struct {
	int cold;	       /* list data packs in class COLD */
	int64_t lock_until;    /* head of a data pack says locked until then; 0: never */
	int removes_of_locked; /* deletes tried on a locked pack */
	int aborts;	       /* abort_stale_uploads calls */
	int64_t older_than;    /* of the last */
	int data_swept;	       /* one of them was for data/ */
} sim;

static int is_pack(const char *key)
{
	return !strncmp(key, "data/", 5);
}

static int cs_open(void **state, cp_ctx *ctx, const char *url, int create)
{
	char inner[700];
	snprintf(inner, sizeof(inner), "file://%s", url + strlen("cold://"));
	return cp_objstore_open((cp_objstore **)state, ctx, inner, create);
}

static void cs_close(void *state)
{
	cp_objstore_close(state);
}

static int cs_put(void *state, const char *key, const void *data, size_t len,
		  const cp_put_options *opts)
{
	return cp_objstore_put(state, key, data, len, opts);
}

static int cs_get(void *state, const char *key, uint64_t off, uint64_t len, cp_buf *out)
{
	return cp_objstore_get(state, key, off, len, out);
}

static int cs_head(void *state, const char *key, cp_object_info *info)
{
	int rc = cp_objstore_head(state, key, info);
	if (!rc && is_pack(key))
		info->retain_until = sim.lock_until;
	return rc;
}

typedef struct {
	cp_object_list_cb cb;
	void *payload;
} relay;

static int relay_one(const char *key, const cp_object_info *info, void *payload)
{
	relay *r = payload;
	cp_object_info mine = *info;
	if (sim.cold && is_pack(key))
		snprintf(mine.storage_class, sizeof(mine.storage_class), "%s", COLD);
	return r->cb(key, &mine, r->payload);
}

static int cs_list(void *state, const char *prefix, cp_object_list_cb cb, void *payload)
{
	relay r = {cb, payload};
	return cp_objstore_list(state, prefix, relay_one, &r);
}

static int cs_remove(void *state, const char *key)
{
	if (is_pack(key) && sim.lock_until > (int64_t)time(NULL)) {
		sim.removes_of_locked++;
		return CP_ELOCKED;
	}
	return cp_objstore_remove(state, key);
}

static int cs_check_settings(void *state, const cp_objstore_settings *settings, int create)
{
	return 0;
}

static int cs_abort_stale_uploads(void *state, const char *prefix, int64_t older_than,
				  uint64_t *count)
{
	sim.aborts++;
	sim.older_than = older_than;
	sim.data_swept |= !strcmp(prefix, "data/");
	*count = 1;
	return 0;
}

static unsigned int cs_min_storage_days(void *state, const char *storage_class)
{
	return !strcmp(storage_class, COLD) ? 30 : 0;
}

static const cp_objstore_ops cold_ops = {
	.version = CP_OBJSTORE_OPS_VERSION,
	.scheme = "cold",
	.description = "file:// playing a cloud with a 30-day class and locks (tests)",
	.open = cs_open,
	.close = cs_close,
	.put = cs_put,
	.get = cs_get,
	.head = cs_head,
	.list = cs_list,
	.remove = cs_remove,
	.check_settings = cs_check_settings,
	.abort_stale_uploads = cs_abort_stale_uploads,
	.min_storage_days = cs_min_storage_days,
};

/* A repository with backups a and b, b forgotten: b's packs are unreferenced. */
static char *setup(ft_env *e, const char *tag, unsigned int immutable_days)
{
	memset(e, 0, sizeof(*e));
	e->dir = tu_tempdir(tag);
	tu_ok(cp_ctx_new(&e->ctx, NULL));
	snprintf(e->url, sizeof(e->url), "cold://%s/repo", e->dir);
	cp_repository_create_options co = CP_REPOSITORY_CREATE_OPTIONS_INIT;
	co.kdf_n = 16;
	co.chunk_size = CS;
	co.pack_size = 16 * 1024;
	co.immutable_days = immutable_days;
	tu_ok(cp_repository_create(&e->repo, e->ctx, e->url, FT_PASSWORD, &co));
	uint64_t all[] = {0, 200000};
	tu_write_sparse(ft_path(e, "a.img"), 200000, all, 1, 1);
	tu_write_sparse(ft_path(e, "b.img"), 200000, all, 1, 2);
	char *a = ft_backup_file(e->repo, ft_path(e, "a.img"), "a", NULL, NULL, 0, NULL);
	char *b = ft_backup_file(e->repo, ft_path(e, "b.img"), "b", NULL, NULL, 0, NULL);
	const char *ids[] = {b, NULL};
	tu_ok(cp_forget(e->repo, NULL, ids, NULL, NULL));
	free(b);
	return a;
}

static void assert_a_restores(ft_env *e, const char *a)
{
	int rc = 0;
	ck_assert_uint_eq(ft_check(e->repo, 1, &rc), 0);
	tu_ok(ft_restore_file(e->repo, a, ft_path(e, "o.img"), 200000));
	ck_assert(tu_files_equal(ft_path(e, "a.img"), ft_path(e, "o.img")));
}

START_TEST(young_packs_are_kept_until_their_minimum_duration)
{
	ft_env e;
	memset(&sim, 0, sizeof(sim));
	sim.cold = 1;
	char *a = setup(&e, "young", 0);
	size_t files = ft_count_files(e.dir);
	int64_t now = (int64_t)time(NULL);

	cp_prune_options po = CP_PRUNE_OPTIONS_INIT;
	cp_prune_stats ps;
	po.dry_run = 1;
	tu_ok(cp_prune(e.repo, &po, &ps));
	ck_assert_uint_eq(ps.packs_removed, 0);
	ck_assert_uint_gt(ps.packs_kept_young, 0);
	ck_assert_uint_gt(ps.bytes_kept_young, 0);
	ck_assert_int_ge(ps.young_until, now + 30 * DAY - 120);
	ck_assert_int_le(ps.young_until, now + 30 * DAY + 120);
	ck_assert(ps.byte_days > 29.0 * (double)ps.bytes_kept_young);
	ck_assert(ps.early_delete_cost < 0); /* no price table for cold:// */
	ck_assert_int_eq(sim.aborts, 0);     /* dry runs abort nothing */

	po.dry_run = 0;
	tu_ok(cp_prune(e.repo, &po, &ps));
	ck_assert_uint_eq(ps.packs_removed, 0);
	ck_assert_uint_gt(ps.packs_kept_young, 0);
	ck_assert_uint_eq(ft_count_files(e.dir), files);
	ck_assert_int_gt(sim.aborts, 0);
	ck_assert(sim.data_swept);
	ck_assert_uint_eq(ps.uploads_aborted, (uint64_t)sim.aborts); /* one per directory swept */
	int sweeps = sim.aborts;
	ck_assert_int_le(llabs(sim.older_than - (now - CP_PRUNE_STALE_UPLOAD_AGE)), 120);
	assert_a_restores(&e, a);
	files = ft_count_files(e.dir); /* the restored image is one more */

	/* A version 1 caller gets the same (safe) default and its smaller stats are not overrun. */
	struct {
		cp_prune_stats v1;
		char guard[8];
	} old;
	memset(&old, 0x5a, sizeof(old));
	cp_prune_options v1 = CP_PRUNE_OPTIONS_INIT;
	v1.version = 1;
	v1.early_delete = 1; /* beyond a version 1 struct: must be ignored */
	tu_ok(cp_prune(e.repo, &v1, &old.v1));
	ck_assert_uint_eq(old.v1.packs_removed, 0);
	ck_assert_uint_eq(ft_count_files(e.dir), files);
	for (size_t i = 0; i < sizeof(old.guard); i++)
		ck_assert_int_eq(old.guard[i], 0x5a);

	/* Once the duration has passed, or with early_delete, they go. */
	po.stale_upload_age = CP_PRUNE_STALE_UPLOADS_NEVER;
	po.now = now + 31 * DAY;
	po.dry_run = 1;
	tu_ok(cp_prune(e.repo, &po, &ps));
	ck_assert_uint_gt(ps.packs_removed, 0);
	ck_assert_uint_eq(ps.packs_kept_young, 0);
	po.now = 0;
	po.early_delete = 1;
	po.dry_run = 0;
	tu_ok(cp_prune(e.repo, &po, &ps));
	ck_assert_uint_gt(ps.packs_removed, 0);
	ck_assert_uint_eq(ps.packs_kept_young, 0);
	ck_assert_uint_gt(ps.packs_deleted_early, 0);
	ck_assert_int_eq(sim.aborts,
			 2 * sweeps); /* the version 1 call swept too; "never" did not */
	ck_assert_uint_lt(ft_count_files(e.dir), files);
	assert_a_restores(&e, a);
	free(a);
	ft_teardown(&e);
}
END_TEST

START_TEST(locked_packs_are_reported_and_never_tried)
{
	ft_env e;
	memset(&sim, 0, sizeof(sim));
	char *a = setup(&e, "locked", 7);
	int64_t until = (int64_t)time(NULL) + 5 * DAY;
	sim.lock_until = until;

	cp_prune_options po = CP_PRUNE_OPTIONS_INIT;
	po.early_delete = 1; /* a lock holds regardless */
	cp_prune_stats ps;
	tu_ok(cp_prune(e.repo, &po, &ps));
	ck_assert_uint_eq(ps.packs_removed, 0);
	ck_assert_uint_gt(ps.packs_kept_locked, 0);
	ck_assert_uint_gt(ps.bytes_kept_locked, 0);
	ck_assert_int_eq(ps.locked_until, until);
	ck_assert_int_eq(ps.locked_first, until);
	ck_assert_uint_eq(ps.packs_kept_young, 0); /* STANDARD-like: no minimum */
	ck_assert_int_eq(sim.removes_of_locked, 0);
	assert_a_restores(&e, a);

	sim.lock_until = 0;
	tu_ok(cp_prune(e.repo, &po, &ps));
	ck_assert_uint_gt(ps.packs_removed, 0);
	ck_assert_uint_eq(ps.packs_kept_locked, 0);
	assert_a_restores(&e, a);
	free(a);
	ft_teardown(&e);
}
END_TEST

int main(void)
{
	if (cp_objstore_register(&cold_ops))
		return 1;
	Suite *s = suite_create("format-prune-holds");
	TCase *tc = tcase_create("holds");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, young_packs_are_kept_until_their_minimum_duration);
	tcase_add_test(tc, locked_packs_are_reported_and_never_tried);
	suite_add_tcase(s, tc);
	return tu_run(s);
}
