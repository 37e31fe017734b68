/*
 * Crashes and concurrency with real processes: backups and prunes killed
 * with SIGKILL at many points, two backups at once, prune during a backup.
 *
 * Kills and overlaps are placed by the fault store (faultstore.h) at a
 * given change to the repository, never by sleeping: each kill lands and
 * each overlap happens however slow or busy the machine is.
 */
#include "faultstore.h"
#include "fmtutil.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define CS   (16u * 1024)
#define PACK (128u * 1024)
#define SIZE (6u << 20)

/* Where and how a child process stops: at change `at`, killed or paused. */
typedef struct {
	unsigned long at;   /* 0: runs to the end */
	int kill_before;    /* killed before change `at` is made, else right after it */
	fault_pause *pause; /* paused after change `at` instead of killed */
} fault_plan;

static const fault_plan no_fault = {0, 0, NULL};

static void plan_faults(const fault_plan *f)
{
	fault_store_reset();
	if (f->at && f->pause)
		fault_store_pause_at(f->at, f->pause);
	else if (f->at)
		fault_store_kill_at(f->at, f->kill_before);
}

/* Run one backup in this (child) process; returns the library's code. */
static int child_backup(const char *url, const char *img, const char *source)
{
	cp_ctx *ctx = NULL;
	cp_repository *repo = NULL;
	cp_ctx_options o = CP_CTX_OPTIONS_INIT;
	o.threads = 2;
	int rc = cp_ctx_new(&ctx, &o);
	if (!rc)
		rc = cp_repository_open(&repo, ctx, url, FT_PASSWORD);
	cp_block_reader *r = NULL;
	if (!rc)
		rc = cp_block_reader_open_file(&r, img);
	if (!rc) {
		cp_backup_options bo = CP_BACKUP_OPTIONS_INIT;
		bo.source = source;
		char *id = NULL;
		rc = cp_backup_create(&id, NULL, repo, r, &bo);
		free(id);
	}
	cp_block_reader_free(r);
	cp_repository_close(repo);
	cp_ctx_free(ctx);
	return rc;
}

static pid_t spawn_backup(const char *url, const char *img, const char *source, const fault_plan *f)
{
	fflush(NULL);
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (!pid) {
		plan_faults(f);
		_exit(-child_backup(url, img, source));
	}
	return pid;
}

static int child_prune(const char *url)
{
	cp_ctx *ctx = NULL;
	cp_repository *repo = NULL;
	cp_ctx_options o = CP_CTX_OPTIONS_INIT;
	o.threads = 2; /* as in ft_env, where prunes are counted */
	int rc = cp_ctx_new(&ctx, &o);
	if (!rc)
		rc = cp_repository_open(&repo, ctx, url, FT_PASSWORD);
	cp_prune_stats ps;
	if (!rc)
		rc = cp_prune(repo, NULL, &ps);
	cp_repository_close(repo);
	cp_ctx_free(ctx);
	return rc;
}

static pid_t spawn_prune(const char *url, const fault_plan *f)
{
	fflush(NULL);
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (!pid) {
		plan_faults(f);
		_exit(-child_prune(url));
	}
	return pid;
}

static int wait_code(pid_t pid)
{
	int status = 0;
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	if (WIFSIGNALED(status))
		return -1000 - WTERMSIG(status);
	return -WEXITSTATUS(status);
}

#define KILLED (-1000 - SIGKILL)

/* The changes a backup of img makes to the repository at url, counted in this process. */
static unsigned long counted_backup(ft_env *e, const char *url, const char *img, const char *source)
{
	cp_repository *r = NULL;
	tu_ok(cp_repository_open(&r, e->ctx, url, FT_PASSWORD));
	fault_store_reset();
	free(ft_backup_file(r, img, source, NULL, NULL, 0, NULL));
	unsigned long n = fault_store_changes();
	cp_repository_close(r);
	return n;
}

/* Change k of n spread evenly over 1..total, at the middle of its share. */
static unsigned long spread(unsigned long total, int k, int n)
{
	return 1 + (total - 1) * (unsigned long)(2 * k + 1) / (unsigned long)(2 * n);
}

static void assert_sound(ft_env *e)
{
	cp_repository *r = NULL;
	tu_ok(cp_repository_open(&r, e->ctx, e->url, FT_PASSWORD));
	int rc = 0;
	ck_assert_uint_eq(ft_check(r, 1, &rc), 0);
	tu_ok(rc);
	cp_repository_close(r);
}

START_TEST(killed_backups_leave_a_sound_repository)
{
	ft_env e;
	ft_setup(&e, "kill", CS, PACK);
	char url[700];
	fault_store_url(url, sizeof(url), e.url);
	/* Paths of our own: ft_path's buffers are reused after a few calls. */
	char img[700], restored[700];
	snprintf(img, sizeof(img), "%s", ft_path(&e, "disk.img"));
	snprintf(restored, sizeof(restored), "%s", ft_path(&e, "r.img"));
	uint64_t all[] = {0, SIZE};
	tu_write_sparse(img, SIZE, all, 1, 7);
	free(ft_backup_file(e.repo, img, "disk", NULL, NULL, 0, NULL));

	/*
	 * Each killed backup below has an eighth of the image to store anew
	 * (plus whatever the killed one before it left unfinished): count the
	 * changes such a backup makes, and spread the kills over them.
	 */
	ft_write_random(img, SIZE - SIZE / 8, SIZE / 8, 49);
	unsigned long total = counted_backup(&e, url, img, "counted");
	ck_assert_uint_ge(total, 12);
	for (int i = 0; i < 6; i++) {
		ft_write_random(img, (uint64_t)i * (SIZE / 6), SIZE / 8,
				50 + i); /* new data each time */
		fault_plan f = {spread(total, i, 6), i % 2, NULL};
		int code = wait_code(spawn_backup(url, img, "disk", &f));
		ck_assert_msg(code == KILLED,
			      "backup %d, to be killed at change %lu of %lu: exit %d", i, f.at,
			      total, code);
		assert_sound(&e);
	}

	/* The next backup succeeds and restores; prune removes what the killed ones left. */
	cp_backup_stats st;
	char *id = ft_backup_file(e.repo, img, "disk", NULL, NULL, 0, &st);
	tu_ok(ft_restore_file(e.repo, id, restored, SIZE));
	ck_assert(tu_files_equal(img, restored));
	cp_prune_stats ps;
	tu_ok(cp_prune(e.repo, NULL, &ps));
	assert_sound(&e);
	cp_check_result res;
	cp_check_options co = CP_CHECK_OPTIONS_INIT;
	tu_ok(cp_check(e.repo, &co, NULL, NULL, &res));
	ck_assert_uint_eq(res.unreferenced_packs, 0);
	tu_ok(ft_restore_file(e.repo, id, restored, SIZE));
	ck_assert(tu_files_equal(img, restored));
	free(id);
	ft_teardown(&e);
}
END_TEST

START_TEST(two_concurrent_backups_both_restore)
{
	ft_env e;
	ft_setup(&e, "twice", CS, PACK);
	char url[700];
	fault_store_url(url, sizeof(url), e.url);
	char a[700], b[700], ra[700], rb[700];
	snprintf(a, sizeof(a), "%s", ft_path(&e, "a.img"));
	snprintf(b, sizeof(b), "%s", ft_path(&e, "b.img"));
	snprintf(ra, sizeof(ra), "%s", ft_path(&e, "ra.img"));
	snprintf(rb, sizeof(rb), "%s", ft_path(&e, "rb.img"));
	uint64_t all[] = {0, SIZE};
	tu_write_sparse(a, SIZE, all, 1, 1);
	tu_write_sparse(b, SIZE, all, 1, 1);
	/* Half of b is its own; the other half equals a (both race to store it). */
	ft_write_random(b, 0, SIZE / 2, 2);

	/* How many changes a's backup makes, in a repository of its own. */
	ft_env scratch;
	ft_setup(&scratch, "twice-count", CS, PACK);
	char scratch_url[700];
	fault_store_url(scratch_url, sizeof(scratch_url), scratch.url);
	unsigned long total = counted_backup(&scratch, scratch_url, a, "a");
	ft_teardown(&scratch);
	ck_assert_uint_ge(total, 8);

	/*
	 * a's backup stops three quarters through, when it has stored part of
	 * the shared half but indexed none of it; b's runs whole meanwhile, so
	 * both store the shared half.
	 */
	fault_pause pause;
	fault_pause_init(&pause);
	fault_plan f = {total * 3 / 4, 0, &pause};
	pid_t pa = spawn_backup(url, a, "a", &f);
	ck_assert_msg(fault_pause_wait(&pause), "a's backup ended before change %lu", f.at);
	pid_t pb = spawn_backup(url, b, "b", &no_fault);
	ck_assert_int_eq(wait_code(pb), 0);
	fault_pause_resume(&pause);
	ck_assert_int_eq(wait_code(pa), 0);
	fault_pause_dispose(&pause);

	/* And once more at the same time, with new data in both, left to the scheduler. */
	ft_write_random(a, SIZE / 4, SIZE / 2, 3);
	ft_write_random(b, SIZE / 4, SIZE / 2, 3);
	pa = spawn_backup(url, a, "a", &no_fault);
	pb = spawn_backup(url, b, "b", &no_fault);
	ck_assert_int_eq(wait_code(pa), 0);
	ck_assert_int_eq(wait_code(pb), 0);

	assert_sound(&e);
	cp_repository *r = NULL;
	tu_ok(cp_repository_open(&r, e.ctx, e.url, FT_PASSWORD));
	char *ida = NULL, *idb = NULL;
	tu_ok(cp_backup_resolve(&ida, r, "latest", "a"));
	tu_ok(cp_backup_resolve(&idb, r, "latest", "b"));
	tu_ok(ft_restore_file(r, ida, ra, SIZE));
	tu_ok(ft_restore_file(r, idb, rb, SIZE));
	ck_assert(tu_files_equal(a, ra));
	ck_assert(tu_files_equal(b, rb));
	cp_repository_close(r);
	free(ida);
	free(idb);
	ft_teardown(&e);
}
END_TEST

START_TEST(prune_during_a_backup_loses_nothing)
{
	ft_env e;
	ft_setup(&e, "prunerace", CS, PACK);
	char url[700];
	fault_store_url(url, sizeof(url), e.url);
	char img[700], restored[700];
	snprintf(img, sizeof(img), "%s", ft_path(&e, "disk.img"));
	snprintf(restored, sizeof(restored), "%s", ft_path(&e, "r.img"));
	uint64_t all[] = {0, SIZE};
	tu_write_sparse(img, SIZE, all, 1, 3);
	free(ft_backup_file(e.repo, img, "disk", NULL, NULL, 0, NULL));

	/* Each backup below stores a third of the image anew: count such a backup's changes. */
	ft_write_random(img, 0, SIZE / 3, 89);
	unsigned long total = counted_backup(&e, url, img, "counted");
	ck_assert_uint_ge(total, 8);

	/*
	 * Rounds 0-3 stop the backup at change 1 (its lock is written, the
	 * others not yet listed), then a quarter, half and three quarters
	 * through, and prune in between: the backup's lock refuses prune.
	 * Round 4 stops a prune once it holds its lock: the backup backs off.
	 */
	for (int i = 0; i < 5; i++) {
		/* Something for prune to delete: an old backup, forgotten. */
		char *old = ft_backup_file(e.repo, img, "old", NULL, NULL, 0, NULL);
		const char *ids[] = {old, NULL};
		tu_ok(cp_forget(e.repo, NULL, ids, NULL, NULL));
		ft_write_random(img, (uint64_t)i * CS * 7, SIZE / 3, 90 + i);
		fault_pause pause;
		fault_pause_init(&pause);
		fault_plan f = {i % 4 ? total * (unsigned long)i / 4 : 1, 0, &pause};
		pid_t pid = i < 4 ? spawn_backup(url, img, "disk", &f) : spawn_prune(url, &f);
		ck_assert_msg(fault_pause_wait(&pause),
			      "round %d: the child ended before change %lu", i, f.at);

		cp_repository *r = NULL;
		tu_ok(cp_repository_open(&r, e.ctx, e.url, FT_PASSWORD));
		if (i < 4) {
			cp_prune_stats ps;
			int rc = cp_prune(r, NULL, &ps);
			ck_assert_msg(rc == CP_ELOCKED, "round %d: prune during a backup: %d %s", i,
				      rc, tu_last_message());
		} else {
			cp_block_reader *rd = NULL;
			tu_ok(cp_block_reader_open_file(&rd, img));
			cp_backup_options bo = CP_BACKUP_OPTIONS_INIT;
			bo.source = "disk";
			char *id = NULL;
			int rc = cp_backup_create(&id, NULL, r, rd, &bo);
			ck_assert_msg(rc == CP_ELOCKED, "backup during a prune: %d %s", rc,
				      tu_last_message());
			ck_assert_ptr_null(id);
			cp_block_reader_free(rd);
		}
		cp_repository_close(r);
		fault_pause_resume(&pause);
		int code = wait_code(pid);
		ck_assert_msg(code == 0, "round %d: the %s exited with %d", i,
			      i < 4 ? "backup" : "prune", code);
		fault_pause_dispose(&pause);
		assert_sound(&e);
		free(old);
	}
	/* Prune after the last backup, then every backup that exists restores. */
	cp_prune_stats ps;
	tu_ok(cp_prune(e.repo, NULL, &ps));
	assert_sound(&e);
	cp_backup_list l;
	tu_ok(cp_backup_list_get(&l, e.repo));
	ck_assert_uint_ge(l.count, 6);
	for (size_t i = 0; i < l.count; i++)
		tu_ok(ft_restore_file(e.repo, l.items[i].id, restored, SIZE));
	char *latest = NULL;
	tu_ok(cp_backup_resolve(&latest, e.repo, "latest", "disk"));
	tu_ok(ft_restore_file(e.repo, latest, restored, SIZE));
	cp_backup_list_dispose(&l);
	free(latest);
	ft_teardown(&e);
}
END_TEST

/*
 * Work for prune, the same in every round: a forgotten backup with half an
 * image of fresh data, and a kept one sharing a quarter of that half, so
 * its packs are repacked.
 */
static void prune_work(ft_env *e, const char *img, char **keep, int round)
{
	ft_write_random(img, 0, SIZE / 2, 500 + (uint64_t)round);
	char *old = ft_backup_file(e->repo, img, "old", NULL, NULL, 0, NULL);
	for (uint64_t c = 0; c < SIZE / 2 / CS; c++)
		if (c % 4)
			ft_write_random(img, c * CS, CS, 1000 * (uint64_t)round + c);
	*keep = ft_backup_file(e->repo, img, "keep", NULL, NULL, 0, NULL);
	const char *ids[] = {old, NULL};
	tu_ok(cp_forget(e->repo, NULL, ids, NULL, NULL));
	free(old);
}

START_TEST(killed_prunes_leave_a_sound_repository)
{
	ft_env e;
	ft_setup(&e, "killprune", CS, PACK);
	char url[700];
	fault_store_url(url, sizeof(url), e.url);
	char img[700], restored[700];
	snprintf(img, sizeof(img), "%s", ft_path(&e, "disk.img"));
	snprintf(restored, sizeof(restored), "%s", ft_path(&e, "r.img"));
	uint64_t all[] = {0, SIZE};
	tu_write_sparse(img, SIZE, all, 1, 11);
	/* The half that prune_work leaves alone is stored once, before round 0. */
	free(ft_backup_file(e.repo, img, "base", NULL, NULL, 0, NULL));

	/* Round 0 prunes whole, counting its changes; rounds 1-6 are killed along them. */
	unsigned long total = 0;
	for (int i = 0; i < 7; i++) {
		char *keep = NULL;
		prune_work(&e, img, &keep, i);
		if (i == 0) {
			cp_repository *r = NULL;
			tu_ok(cp_repository_open(&r, e.ctx, url, FT_PASSWORD));
			fault_store_reset();
			cp_prune_stats ps;
			tu_ok(cp_prune(r, NULL, &ps));
			total = fault_store_changes();
			cp_repository_close(r);
			ck_assert_uint_ge(total, 12);
		} else {
			fault_plan f = {spread(total, i - 1, 6), i % 2, NULL};
			int code = wait_code(spawn_prune(url, &f));
			ck_assert_msg(code == KILLED,
				      "prune %d, to be killed at change %lu of %lu: exit %d", i,
				      f.at, total, code);
		}
		assert_sound(&e);
		cp_repository *r = NULL;
		tu_ok(cp_repository_open(&r, e.ctx, e.url, FT_PASSWORD));
		tu_ok(ft_restore_file(r, keep, restored, SIZE));
		ck_assert(tu_files_equal(img, restored));
		cp_repository_close(r);
		free(keep);
	}
	/* A prune that runs to the end cleans up after the killed ones. */
	cp_repository *r = NULL;
	tu_ok(cp_repository_open(&r, e.ctx, e.url, FT_PASSWORD));
	tu_ok(cp_repository_unlock(r, 0, NULL));
	cp_prune_stats ps;
	tu_ok(cp_prune(r, NULL, &ps));
	cp_check_result res;
	cp_check_options co = CP_CHECK_OPTIONS_INIT;
	tu_ok(cp_check(r, &co, NULL, NULL, &res));
	ck_assert_uint_eq(res.unreferenced_packs, 0);
	cp_repository_close(r);
	assert_sound(&e);
	ft_teardown(&e);
}
END_TEST

int main(void)
{
	fault_store_register();
	Suite *s = suite_create("format-crash");
	TCase *tc = tcase_create("crash");
	tcase_set_timeout(tc, 240);
	tcase_add_test(tc, killed_backups_leave_a_sound_repository);
	tcase_add_test(tc, two_concurrent_backups_both_restore);
	tcase_add_test(tc, prune_during_a_backup_loses_nothing);
	tcase_add_test(tc, killed_prunes_leave_a_sound_repository);
	suite_add_tcase(s, tc);
	return tu_run(s);
}
