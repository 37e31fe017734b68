/*
 * Crashes and concurrency with real processes: backups killed with
 * SIGKILL at many points, two backups at once, prune during a backup.
 */
#include "fmtutil.h"

#include "cloudprotect/sys/provider.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CS   (16u * 1024)
#define PACK (128u * 1024)
#define SIZE (6u << 20)

/* A source that reads slowly, so that other processes can act while it runs. */
typedef struct {
	cp_block_reader base;
	cp_block_reader *inner;
	unsigned int delay_us;
} slow_reader;

static int slow_read(cp_block_reader *self, uint64_t off, void *buf, size_t len)
{
	slow_reader *s = (slow_reader *)self;
	usleep(s->delay_us);
	return cp_block_reader_read(s->inner, off, buf, len);
}

static void slow_free(cp_block_reader *self)
{
	slow_reader *s = (slow_reader *)self;
	cp_block_reader_free(s->inner);
	free(s);
}

/* Run one backup in this (child) process; returns the library's code. */
static int child_backup(const char *url, const char *img, const char *source, unsigned int delay)
{
	cp_ctx *ctx = NULL;
	cp_repository *repo = NULL;
	cp_ctx_options o = CP_CTX_OPTIONS_INIT;
	o.threads = 2;
	int rc = cp_ctx_new(&ctx, &o);
	if (!rc)
		rc = cp_repository_open(&repo, ctx, url, FT_PASSWORD);
	slow_reader *s = calloc(1, sizeof(*s));
	if (!rc)
		rc = cp_block_reader_open_file(&s->inner, img);
	if (!rc) {
		s->base.version = CP_BLOCK_READER_VERSION;
		s->base.size = cp_block_reader_size(s->inner);
		s->base.block_size = CS;
		s->base.read = slow_read;
		s->base.free = slow_free;
		s->delay_us = delay;
		cp_backup_options bo = CP_BACKUP_OPTIONS_INIT;
		bo.source = source;
		char *id = NULL;
		rc = cp_backup_create(&id, NULL, repo, &s->base, &bo);
		free(id);
		cp_block_reader_free(&s->base);
	} else {
		free(s);
	}
	cp_repository_close(repo);
	cp_ctx_free(ctx);
	return rc;
}

static pid_t spawn_backup(const char *url, const char *img, const char *source, unsigned int delay)
{
	fflush(NULL);
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (!pid)
		_exit(-child_backup(url, img, source, delay));
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

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + t.tv_nsec / 1e9;
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
	const char *img = ft_path(&e, "disk.img");
	uint64_t all[] = {0, SIZE};
	tu_write_sparse(img, SIZE, all, 1, 7);
	const char *restored = ft_path(&e, "r.img");

	/* How long one (slowed) backup takes, to spread the kills over it. */
	double t0 = now_s();
	ck_assert_int_eq(wait_code(spawn_backup(e.url, img, "timing", 200)), 0);
	double took = now_s() - t0;

	srand((unsigned int)time(NULL));
	int killed = 0;
	for (int i = 0; i < 6; i++) {
		ft_write_random(img, (uint64_t)i * (SIZE / 6), SIZE / 8,
				50 + i); /* new data each time */
		pid_t pid = spawn_backup(e.url, img, "disk", 200);
		double frac = (i + (double)rand() / RAND_MAX) / 6.0;
		usleep((useconds_t)(took * frac * 1e6));
		kill(pid, SIGKILL);
		int code = wait_code(pid);
		killed += code == -1000 - SIGKILL;
		assert_sound(&e);
	}
	ck_assert_int_ge(killed, 3);

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
	const char *a = ft_path(&e, "a.img"), *b = ft_path(&e, "b.img");
	uint64_t all[] = {0, SIZE};
	tu_write_sparse(a, SIZE, all, 1, 1);
	tu_write_sparse(b, SIZE, all, 1, 1);
	/* Half of b is its own; the other half equals a (both race to store it). */
	ft_write_random(b, 0, SIZE / 2, 2);
	pid_t pa = spawn_backup(e.url, a, "a", 100);
	pid_t pb = spawn_backup(e.url, b, "b", 100);
	ck_assert_int_eq(wait_code(pa), 0);
	ck_assert_int_eq(wait_code(pb), 0);
	assert_sound(&e);
	cp_repository *r = NULL;
	tu_ok(cp_repository_open(&r, e.ctx, e.url, FT_PASSWORD));
	char *ida = NULL, *idb = NULL;
	tu_ok(cp_backup_resolve(&ida, r, "latest", "a"));
	tu_ok(cp_backup_resolve(&idb, r, "latest", "b"));
	tu_ok(ft_restore_file(r, ida, ft_path(&e, "ra.img"), SIZE));
	tu_ok(ft_restore_file(r, idb, ft_path(&e, "rb.img"), SIZE));
	ck_assert(tu_files_equal(a, ft_path(&e, "ra.img")));
	ck_assert(tu_files_equal(b, ft_path(&e, "rb.img")));
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
	const char *img = ft_path(&e, "disk.img");
	uint64_t all[] = {0, SIZE};
	tu_write_sparse(img, SIZE, all, 1, 3);
	int prune_locked = 0, prune_ran = 0;
	for (int i = 0; i < 4; i++) {
		/* Something for prune to delete: an old backup, forgotten. */
		char *old = ft_backup_file(e.repo, img, "old", NULL, NULL, 0, NULL);
		const char *ids[] = {old, NULL};
		tu_ok(cp_forget(e.repo, NULL, ids, NULL, NULL));
		ft_write_random(img, (uint64_t)i * CS * 7, SIZE / 3, 90 + i);
		pid_t pid = spawn_backup(e.url, img, "disk", 300);
		usleep(20000 + 30000 * i);
		cp_repository *r = NULL;
		tu_ok(cp_repository_open(&r, e.ctx, e.url, FT_PASSWORD));
		cp_prune_stats ps;
		int rc = cp_prune(r, NULL, &ps);
		ck_assert_msg(rc == 0 || rc == CP_ELOCKED, "prune: %d %s", rc, tu_last_message());
		prune_locked += rc == CP_ELOCKED;
		prune_ran += rc == 0;
		cp_repository_close(r);
		int code = wait_code(pid);
		/* The backup either finished or, when prune had the lock first, backed off. */
		ck_assert_msg(code == 0 || code == CP_ELOCKED, "backup exit %d", code);
		assert_sound(&e);
		free(old);
	}
	ck_assert_int_ge(prune_locked, 1);
	/* Every backup that exists restores. */
	cp_backup_list l;
	tu_ok(cp_backup_list_get(&l, e.repo));
	ck_assert_uint_ge(l.count, 1);
	for (size_t i = 0; i < l.count; i++)
		tu_ok(ft_restore_file(e.repo, l.items[i].id, ft_path(&e, "r.img"), SIZE));
	char *latest = NULL;
	tu_ok(cp_backup_resolve(&latest, e.repo, "latest", "disk"));
	tu_ok(ft_restore_file(e.repo, latest, ft_path(&e, "r.img"), SIZE));
	cp_backup_list_dispose(&l);
	free(latest);
	(void)prune_ran;
	ft_teardown(&e);
}
END_TEST

static int child_prune(const char *url)
{
	cp_ctx *ctx = NULL;
	cp_repository *repo = NULL;
	int rc = cp_ctx_new(&ctx, NULL);
	if (!rc)
		rc = cp_repository_open(&repo, ctx, url, FT_PASSWORD);
	cp_prune_stats ps;
	if (!rc)
		rc = cp_prune(repo, NULL, &ps);
	cp_repository_close(repo);
	cp_ctx_free(ctx);
	return rc;
}

START_TEST(killed_prunes_leave_a_sound_repository)
{
	ft_env e;
	ft_setup(&e, "killprune", CS, PACK);
	const char *img = ft_path(&e, "disk.img");
	uint64_t all[] = {0, SIZE};
	tu_write_sparse(img, SIZE, all, 1, 11);
	srand((unsigned int)time(NULL) ^ 0x5a5a);
	double took = 0;
	int interrupted = 0;
	/* Kills are timed, and a busy machine makes them land late: go on until three hit. */
	for (int i = 0; i < 24 && (i < 8 || interrupted < 3); i++) {
		/* Work for prune: a forgotten backup, and a kept one sharing a quarter of it. */
		char *old = ft_backup_file(e.repo, img, "old", NULL, NULL, 0, NULL);
		for (uint64_t c = 0; c < SIZE / CS; c++)
			if (c % 4)
				ft_write_random(img, c * CS, CS, 1000 * (uint64_t)i + c);
		char *keep = ft_backup_file(e.repo, img, "keep", NULL, NULL, 0, NULL);
		const char *ids[] = {old, NULL};
		tu_ok(cp_forget(e.repo, NULL, ids, NULL, NULL));

		double t0 = now_s();
		fflush(NULL);
		pid_t pid = fork();
		if (!pid)
			_exit(-child_prune(e.url));
		if (i == 0) {
			ck_assert_int_eq(wait_code(pid), 0); /* a whole one first, to time it */
			took = now_s() - t0;
		} else {
			/* Spread the kills over the run; when one lands too late, aim earlier. */
			usleep((useconds_t)(took * ((i % 4) + 0.5) / 4 * 1e6));
			kill(pid, SIGKILL);
			int code = wait_code(pid);
			if (code == -1000 - SIGKILL)
				interrupted++;
			else
				took *= 0.6;
		}
		assert_sound(&e);
		cp_repository *r = NULL;
		tu_ok(cp_repository_open(&r, e.ctx, e.url, FT_PASSWORD));
		tu_ok(ft_restore_file(r, keep, ft_path(&e, "r.img"), SIZE));
		ck_assert(tu_files_equal(img, ft_path(&e, "r.img")));
		cp_repository_close(r);
		free(old);
		free(keep);
	}
	ck_assert_int_ge(interrupted, 3);
	/* A prune that runs to the end cleans up after the killed ones. */
	cp_repository *r = NULL;
	tu_ok(cp_repository_open(&r, e.ctx, e.url, FT_PASSWORD));
	tu_ok(cp_repository_unlock(r, 0, NULL));
	cp_prune_stats ps;
	tu_ok(cp_prune(r, NULL, &ps));
	cp_repository_close(r);
	assert_sound(&e);
	ft_teardown(&e);
}
END_TEST

int main(void)
{
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
