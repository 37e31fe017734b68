/* Forget (GFS rules), prune (delete, repack, leftovers), copy between repositories, locks. */
#include "faultstore.h"
#include "fmtutil.h"

#include "cloudprotect/sys/objstore.h"
#include "format/lock.h"
#include "format/manifest_io.h"
#include "fs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CS 4096u

static int64_t utc(int y, int mo, int d, int h)
{
	struct tm tm;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	return (int64_t)timegm(&tm);
}

/* A backup of nothing made at time t (forget looks only at headers). */
static char *fake_backup(cp_repository *repo, const char *source, int64_t t)
{
	cp_manifest m;
	memset(&m, 0, sizeof(m));
	m.source = (char *)source;
	m.hostname = (char *)"test";
	m.time = t;
	m.chunk_size = CS;
	char id[65];
	tu_ok(cp_repo_manifest_save(repo, &m, id));
	return strdup(id);
}

typedef struct {
	int64_t t[256];
	int keep[256];
	char reason[256][96];
	int n;
} decisions;

static void record(const cp_backup_info *b, int keep, const char *reason, void *payload)
{
	decisions *d = payload;
	ck_assert_int_lt(d->n, 256);
	d->t[d->n] = b->time;
	d->keep[d->n] = keep;
	snprintf(d->reason[d->n], sizeof(d->reason[0]), "%s", reason);
	d->n++;
}

static const char *reason_at(decisions *d, int64_t t, int *keep)
{
	for (int i = 0; i < d->n; i++)
		if (d->t[i] == t) {
			*keep = d->keep[i];
			return d->reason[i];
		}
	ck_abort_msg("no decision for time %lld", (long long)t);
	return NULL;
}

START_TEST(forget_applies_gfs_rules_in_local_time)
{
	setenv("TZ", "UTC", 1);
	tzset();
	ft_env e;
	ft_setup(&e, "gfs", CS, 64 * 1024);
	/* One backup a day at 10:00 through Q1 2024, two more on the last day. */
	int count = 0;
	for (int64_t t = utc(2024, 1, 1, 10); t <= utc(2024, 3, 31, 10); t += 86400, count++)
		free(fake_backup(e.repo, "vol-a", t));
	free(fake_backup(e.repo, "vol-a", utc(2024, 3, 31, 8)));
	free(fake_backup(e.repo, "vol-a", utc(2024, 3, 31, 9)));
	free(fake_backup(e.repo, "vol-a", utc(2024, 4, 2, 9))); /* after "now" */
	free(fake_backup(e.repo, "vol-b", utc(2024, 1, 5, 10)));
	ck_assert_int_eq(count, 91);

	cp_forget_options o = CP_FORGET_OPTIONS_INIT;
	o.keep_last = 2;
	o.keep_daily = 3;
	o.keep_weekly = 2;
	o.keep_monthly = 3;
	o.source = "vol-a";
	o.dry_run = 1;
	o.now = utc(2024, 3, 31, 23);
	decisions d = {0};
	tu_ok(cp_forget(e.repo, &o, NULL, record, &d));
	ck_assert_int_eq(d.n, 94);
	int keep = 0;
	ck_assert_str_eq(reason_at(&d, utc(2024, 3, 31, 10), &keep),
			 "last, daily, weekly, monthly");
	ck_assert_int_eq(keep, 1);
	ck_assert_str_eq(reason_at(&d, utc(2024, 3, 31, 9), &keep), "last");
	ck_assert_str_eq(reason_at(&d, utc(2024, 3, 30, 10), &keep), "daily");
	ck_assert_str_eq(reason_at(&d, utc(2024, 3, 29, 10), &keep), "daily");
	ck_assert_str_eq(reason_at(&d, utc(2024, 3, 24, 10), &keep), "weekly"); /* ISO week 12 */
	ck_assert_str_eq(reason_at(&d, utc(2024, 2, 29, 10), &keep), "monthly");
	ck_assert_str_eq(reason_at(&d, utc(2024, 1, 31, 10), &keep), "monthly");
	ck_assert_str_eq(reason_at(&d, utc(2024, 4, 2, 9), &keep), "newer than now");
	reason_at(&d, utc(2024, 3, 31, 8), &keep);
	ck_assert_int_eq(keep, 0);
	reason_at(&d, utc(2024, 3, 25, 10), &keep);
	ck_assert_int_eq(keep, 0);
	int kept = 0;
	for (int i = 0; i < d.n; i++)
		kept += d.keep[i];
	ck_assert_int_eq(kept, 8);

	/* The dry run removed nothing; the real one removes 86, and vol-b is untouched. */
	cp_backup_list l;
	tu_ok(cp_backup_list_get(&l, e.repo));
	ck_assert_uint_eq(l.count, 95);
	cp_backup_list_dispose(&l);
	o.dry_run = 0;
	memset(&d, 0, sizeof(d));
	tu_ok(cp_forget(e.repo, &o, NULL, record, &d));
	tu_ok(cp_backup_list_get(&l, e.repo));
	ck_assert_uint_eq(l.count, 9);
	cp_backup_list_dispose(&l);

	/* Grouped by source without a filter: keep-last 1 keeps one of each. */
	cp_forget_options g = CP_FORGET_OPTIONS_INIT;
	g.keep_last = 1;
	g.now = o.now;
	memset(&d, 0, sizeof(d));
	tu_ok(cp_forget(e.repo, &g, NULL, record, &d));
	tu_ok(cp_backup_list_get(&l, e.repo));
	ck_assert_uint_eq(l.count, 3); /* newest of vol-a, the future one of vol-a, vol-b */
	cp_backup_list_dispose(&l);

	/* No rule and no ids: refused. */
	cp_forget_options none = CP_FORGET_OPTIONS_INIT;
	ck_assert_int_eq(cp_forget(e.repo, &none, NULL, NULL, NULL), CP_EINVALID);
	ck_assert_ptr_nonnull(strstr(cp_error_last()->message, "no keep rule"));
	tu_ok(cp_backup_list_get(&l, e.repo));
	ck_assert_uint_eq(l.count, 3);

	/* Exact ids. */
	char *gone = strdup(l.items[0].id);
	const char *ids[] = {gone, NULL};
	cp_backup_list_dispose(&l);
	tu_ok(cp_forget(e.repo, &none, ids, NULL, NULL));
	tu_ok(cp_backup_list_get(&l, e.repo));
	ck_assert_uint_eq(l.count, 2);
	for (size_t i = 0; i < l.count; i++)
		ck_assert_str_ne(l.items[i].id, gone);
	cp_backup_list_dispose(&l);
	const char *bad[] = {"ffffffffffff", NULL};
	ck_assert_int_eq(cp_forget(e.repo, &none, bad, NULL, NULL), CP_ENOTFOUND);
	free(gone);
	ft_teardown(&e);
}
END_TEST

START_TEST(prune_removes_unreferenced_data_and_repacks)
{
	ft_env e;
	ft_setup(&e, "prune", CS, 64 * 1024);
	const uint64_t size = 512 * 1024;
	const char *a = ft_path(&e, "a.img"), *b = ft_path(&e, "b.img");
	uint64_t all[] = {0, size};
	tu_write_sparse(a, size, all, 1, 1);
	tu_write_sparse(b, size, all, 1, 2);
	char *ida = ft_backup_file(e.repo, a, "a", NULL, NULL, 0, NULL);
	char *idb = ft_backup_file(e.repo, b, "b", NULL, NULL, 0, NULL);
	/* Rewrite three of every four chunks of a. */
	for (uint64_t c = 0; c < size / CS; c++)
		if (c % 4)
			ft_write_random(a, c * CS, CS, 1000 + c);
	char *ida2 = ft_backup_file(e.repo, a, "a", NULL, NULL, 0, NULL);
	char repo_dir[700];
	snprintf(repo_dir, sizeof(repo_dir), "%s/repo", e.dir);

	/* A leftover pack of a killed backup. */
	char cmd[2000];
	snprintf(cmd, sizeof(cmd),
		 "mkdir -p %s/data/ab && head -c 5000 /dev/urandom > %s/data/ab/ab%062d", repo_dir,
		 repo_dir, 7);
	ck_assert_int_eq(system(cmd), 0);

	const char *forget[] = {ida, idb, NULL};
	cp_forget_options fo = CP_FORGET_OPTIONS_INIT;
	tu_ok(cp_forget(e.repo, &fo, forget, NULL, NULL));
	uint64_t before = ft_dir_bytes(repo_dir);

	cp_prune_options po = CP_PRUNE_OPTIONS_INIT;
	cp_prune_stats ps;
	po.dry_run = 1;
	tu_ok(cp_prune(e.repo, &po, &ps));
	ck_assert_uint_gt(ps.packs_removed, 0);
	ck_assert_uint_eq(ft_dir_bytes(repo_dir), before);
	po.dry_run = 0;
	tu_ok(cp_prune(e.repo, &po, &ps));
	ck_assert_uint_gt(ps.packs_removed, 8); /* b's packs, a's old packs, the leftover */
	ck_assert_uint_gt(ps.packs_rewritten, 0);
	ck_assert_uint_gt(ps.indexes_removed, 0);
	uint64_t after = ft_dir_bytes(repo_dir);
	ck_assert_uint_lt(after, before * 6 / 10);

	int rc = 0;
	ck_assert_uint_eq(ft_check(e.repo, 1, &rc), 0);
	tu_ok(rc);
	tu_ok(ft_restore_file(e.repo, ida2, ft_path(&e, "o.img"), size));
	ck_assert(tu_files_equal(a, ft_path(&e, "o.img")));
	/* A fresh handle sees the same (the new index is what is on disk). */
	cp_repository *r2 = NULL;
	tu_ok(cp_repository_open(&r2, e.ctx, e.url, FT_PASSWORD));
	tu_ok(ft_restore_file(r2, ida2, ft_path(&e, "p.img"), size));
	ck_assert(tu_files_equal(a, ft_path(&e, "p.img")));
	/* Nothing more to do the second time. */
	tu_ok(cp_prune(r2, &po, &ps));
	ck_assert_uint_eq(ps.packs_removed, 0);
	cp_repository_close(r2);
	free(ida);
	free(idb);
	free(ida2);
	ft_teardown(&e);
}
END_TEST

START_TEST(prune_is_refused_while_a_backup_holds_a_lock)
{
	ft_env e;
	ft_setup(&e, "locked", CS, 64 * 1024);
	cp_repo_lock *lock = NULL;
	tu_ok(cp_repo_lock_acquire(&lock, e.repo, 0, "backup"));
	cp_prune_stats ps;
	ck_assert_int_eq(cp_prune(e.repo, NULL, &ps), CP_ELOCKED);
	const char *msg = cp_error_last()->message;
	ck_assert_ptr_nonnull(strstr(msg, "backup"));
	ck_assert_ptr_nonnull(strstr(msg, "cloudprotect unlock"));
	char pid[32];
	snprintf(pid, sizeof(pid), "pid %d", (int)getpid());
	ck_assert_ptr_nonnull(strstr(msg, pid));
	/* Shared locks coexist; unlock does not remove a live one. */
	cp_repo_lock *other = NULL;
	tu_ok(cp_repo_lock_acquire(&other, e.repo, 0, "check"));
	unsigned int removed = 9;
	tu_ok(cp_repository_unlock(e.repo, 0, &removed));
	ck_assert_uint_eq(removed, 0);
	cp_repo_lock_release(other);
	cp_repo_lock_release(lock);
	tu_ok(cp_prune(e.repo, NULL, &ps));
	/* An exclusive lock keeps backups out. */
	tu_ok(cp_repo_lock_acquire(&lock, e.repo, 1, "prune"));
	uint64_t r[] = {0, 1000};
	tu_write_sparse(ft_path(&e, "x.img"), 5000, r, 1, 3);
	cp_block_reader *rd = NULL;
	tu_ok(cp_block_reader_open_file(&rd, ft_path(&e, "x.img")));
	cp_backup_options bo = CP_BACKUP_OPTIONS_INIT;
	bo.source = "x";
	char *id = NULL;
	ck_assert_int_eq(cp_backup_create(&id, NULL, e.repo, rd, &bo), CP_ELOCKED);
	cp_block_reader_free(rd);
	cp_repo_lock_release(lock);
	ft_teardown(&e);
}
END_TEST

static void write_lock(ft_env *e, const char *name, const char *host, long pid, int64_t expires,
		       int exclusive)
{
	char path[900];
	snprintf(path, sizeof(path), "%s/repo/locks", e->dir);
	char cmd[1000];
	snprintf(cmd, sizeof(cmd), "mkdir -p %s", path);
	ck_assert_int_eq(system(cmd), 0);
	snprintf(path, sizeof(path), "%s/repo/locks/%s", e->dir, name);
	FILE *f = fopen(path, "w");
	fprintf(f,
		"{\"hostname\":\"%s\",\"pid\":%ld,\"operation\":\"backup\",\"created\":%lld,"
		"\"expires\":%lld,\"exclusive\":%s}",
		host, pid, (long long)time(NULL) - 10, (long long)expires,
		exclusive ? "true" : "false");
	fclose(f);
}

START_TEST(stale_locks_are_ignored_and_unlocked)
{
	ft_env e;
	ft_setup(&e, "stale", CS, 64 * 1024);
	char host[256];
	gethostname(host, sizeof(host));
	pid_t dead = fork();
	if (!dead)
		_exit(0);
	waitpid(dead, NULL, 0);
	int64_t later = (int64_t)time(NULL) + 3600;
	write_lock(&e, "aa", host, dead, later, 1);			  /* dead process here */
	write_lock(&e, "bb", "elsewhere", 1, (int64_t)time(NULL) - 5, 1); /* expired */
	/* Stale exclusive locks do not block. */
	cp_repo_lock *lock = NULL;
	tu_ok(cp_repo_lock_acquire(&lock, e.repo, 0, "backup"));
	cp_repo_lock_release(lock);
	write_lock(&e, "cc", "elsewhere", 1, later, 1); /* live, on another host */
	ck_assert_int_eq(cp_repo_lock_acquire(&lock, e.repo, 0, "backup"), CP_ELOCKED);
	ck_assert_ptr_nonnull(strstr(cp_error_last()->message, "elsewhere"));
	unsigned int removed = 0;
	tu_ok(cp_repository_unlock(e.repo, 0, &removed));
	ck_assert_uint_eq(removed, 2);
	ck_assert_int_eq(cp_repo_lock_acquire(&lock, e.repo, 0, "backup"), CP_ELOCKED);
	tu_ok(cp_repository_unlock(e.repo, 1, &removed));
	ck_assert_uint_eq(removed, 1);
	tu_ok(cp_repo_lock_acquire(&lock, e.repo, 0, "backup"));
	cp_repo_lock_release(lock);
	ft_teardown(&e);
}
END_TEST

static void read_lock_file(const char *path, cp_lock_info *info)
{
	cp_buf text = CP_BUF_INIT;
	tu_ok(cp_fs_read_file(path, &text));
	tu_ok(cp_lock_parse(info, text.ptr, text.size));
	cp_buf_dispose(&text);
}

START_TEST(locks_are_refreshed_while_held)
{
	ft_env e;
	ft_setup(&e, "refresh", CS, 64 * 1024);
	e.repo->lock_ttl = 4;
	e.repo->lock_refresh = 1;
	cp_repo_lock *lock = NULL;
	tu_ok(cp_repo_lock_acquire(&lock, e.repo, 1, "prune"));
	char dir[800];
	snprintf(dir, sizeof(dir), "%s/repo/locks", e.dir);
	char **before = ft_list_files(dir);
	ck_assert_ptr_nonnull(before[0]);
	ck_assert_ptr_null(before[1]);
	cp_lock_info first;
	read_lock_file(before[0], &first);

	/*
	 * Poll until the first lock object has expired and a refresh has just
	 * replaced the lock (one object again, under a new name), rather than
	 * sleep: a refresh writes the new object before it removes the old
	 * one, and a busy machine delays it.
	 */
	char last[800];
	snprintf(last, sizeof(last), "%s", before[0]);
	int fresh = 0;
	for (int waited_ms = 0; !(fresh && (int64_t)time(NULL) > first.expires); waited_ms += 20) {
		ck_assert_msg(waited_ms < 120000,
			      "the lock was not refreshed past its first expiry in 120 s");
		usleep(20000);
		char **now = ft_list_files(dir);
		fresh = now[0] && !now[1] && strcmp(now[0], last);
		if (fresh)
			snprintf(last, sizeof(last), "%s", now[0]);
		ft_free_list(now);
	}
	tu_ok(cp_repo_lock_check(lock));
	/* Still exclusive after its first expiry time. */
	cp_repo_lock *other = NULL;
	ck_assert_int_eq(cp_repo_lock_acquire(&other, e.repo, 0, "backup"), CP_ELOCKED);
	cp_repo_lock_release(lock);
	ck_assert_uint_eq(ft_count_files(dir), 0);
	ft_free_list(before);
	ft_teardown(&e);
}
END_TEST

/* What a refresh does to the exclusive lock in dir: a new object, then the old one removed. */
static void refresh_exclusive_lock(void *payload)
{
	const char *dir = payload;
	char **locks = ft_list_files(dir);
	int refreshed = 0;
	for (size_t i = 0; locks[i]; i++) {
		cp_lock_info info;
		read_lock_file(locks[i], &info);
		if (!info.exclusive)
			continue;
		char renamed[900];
		snprintf(renamed, sizeof(renamed), "%s", locks[i]);
		char *c = renamed + strlen(renamed) - 1;
		*c = *c == '0' ? '1' : '0';
		ck_assert_int_eq(link(locks[i], renamed), 0);
		ck_assert_int_eq(unlink(locks[i]), 0);
		refreshed++;
	}
	ck_assert_int_eq(refreshed, 1);
	ft_free_list(locks);
}

START_TEST(a_lock_refreshed_during_a_scan_still_conflicts)
{
	ft_env e;
	ft_setup(&e, "refreshscan", CS, 64 * 1024);
	cp_repo_lock *held = NULL;
	tu_ok(cp_repo_lock_acquire(&held, e.repo, 1, "prune"));
	/* A second handle, whose listing of the locks the held lock's refresh overtakes. */
	char url[700];
	fault_store_url(url, sizeof(url), e.url);
	cp_repository *r = NULL;
	tu_ok(cp_repository_open(&r, e.ctx, url, FT_PASSWORD));
	char dir[800];
	snprintf(dir, sizeof(dir), "%s/repo/locks", e.dir);
	fault_store_on_next_list(refresh_exclusive_lock, dir);
	cp_repo_lock *other = NULL;
	ck_assert_int_eq(cp_repo_lock_acquire(&other, r, 0, "backup"), CP_ELOCKED);
	ck_assert_ptr_nonnull(strstr(cp_error_last()->message, "prune"));
	cp_repository_close(r);
	cp_repo_lock_release(held);
	ft_teardown(&e);
}
END_TEST

START_TEST(copy_between_repositories_restores_identically)
{
	ft_env e;
	ft_setup(&e, "copy", CS, 64 * 1024);
	/* The destination has other keys, another chunk size and another pack size. */
	char dst_url[700];
	snprintf(dst_url, sizeof(dst_url), "file://%s/offsite", e.dir);
	cp_repository_create_options co = CP_REPOSITORY_CREATE_OPTIONS_INIT;
	co.kdf_n = 16;
	co.chunk_size = 2 * CS;
	co.pack_size = 32 * 1024;
	cp_repository *dst = NULL;
	tu_ok(cp_repository_create(&dst, e.ctx, dst_url, "other secret", &co));

	const uint64_t size = 300 * 1024 + 5;
	const char *img = ft_path(&e, "d.img");
	uint64_t r[] = {0, 100000, 150000, 100000};
	tu_write_sparse(img, size, r, 2, 4);
	char *full = ft_backup_file(e.repo, img, "disk", NULL, NULL, 0, NULL);
	ft_write_random(img, 160000, 3000, 5);
	cp_block_range ch = {160000, 3000};
	char *incr = ft_backup_file(e.repo, img, "disk", full, &ch, 1, NULL);

	tu_ok(cp_backup_copy(dst, e.repo, NULL, NULL, NULL));
	cp_backup_list l;
	tu_ok(cp_backup_list_get(&l, dst));
	ck_assert_uint_eq(l.count, 2);
	ck_assert_ptr_null(l.items[0].parent_id);
	ck_assert_str_eq(l.items[1].parent_id, l.items[0].id);
	ck_assert_uint_eq(l.items[1].chunk_size, CS); /* kept from the source */
	ck_assert_uint_lt(l.items[1].new_bytes, 3 * CS);
	char *copy_full = strdup(l.items[0].id), *copy_incr = strdup(l.items[1].id);
	cp_backup_list_dispose(&l);

	tu_ok(ft_restore_file(dst, copy_incr, ft_path(&e, "ci.img"), size));
	ck_assert(tu_files_equal(img, ft_path(&e, "ci.img")));
	tu_ok(ft_restore_file(e.repo, full, ft_path(&e, "sf.img"), size));
	tu_ok(ft_restore_file(dst, copy_full, ft_path(&e, "cf.img"), size));
	ck_assert(tu_files_equal(ft_path(&e, "sf.img"), ft_path(&e, "cf.img")));
	int rc = 0;
	ck_assert_uint_eq(ft_check(dst, 1, &rc), 0);

	/* Copying again adds nothing; copying back by id dedups against what is there. */
	tu_ok(cp_backup_copy(dst, e.repo, NULL, NULL, NULL));
	tu_ok(cp_backup_list_get(&l, dst));
	ck_assert_uint_eq(l.count, 2);
	cp_backup_list_dispose(&l);
	const char *ids[] = {copy_incr, NULL};
	tu_ok(cp_backup_copy(e.repo, dst, ids, NULL, NULL));
	tu_ok(cp_backup_list_get(&l, e.repo));
	ck_assert_uint_eq(l.count, 3);
	int seen = 0;
	for (size_t i = 0; i < l.count; i++) {
		if (!strcmp(l.items[i].id, full) || !strcmp(l.items[i].id, incr))
			continue;
		ck_assert_uint_eq(l.items[i].new_bytes, 0); /* the copy of the copy */
		seen++;
	}
	ck_assert_int_eq(seen, 1);
	cp_backup_list_dispose(&l);

	cp_repository_close(dst);
	free(full);
	free(incr);
	free(copy_full);
	free(copy_incr);
	ft_teardown(&e);
}
END_TEST

/* ---- a store that enforces retention, like S3 Object Lock (wraps file://) ---- */

typedef struct {
	cp_objstore *inner;
} retain_store;

static struct {
	char keys[512][96];
	int64_t until[512];
	int n;
	int expired; /* pretend the retention periods have ended */
} retention;

static int64_t retained_until(const char *key)
{
	for (int i = 0; i < retention.n; i++)
		if (!strcmp(retention.keys[i], key))
			return retention.expired ? 0 : retention.until[i];
	return 0;
}

static int rs_open(void **state, cp_ctx *ctx, const char *url, int create)
{
	char inner[700];
	snprintf(inner, sizeof(inner), "file://%s", url + strlen("retain://"));
	retain_store *s = calloc(1, sizeof(*s));
	int rc = cp_objstore_open(&s->inner, ctx, inner, create);
	if (rc)
		free(s);
	else
		*state = s;
	return rc;
}

static void rs_close(void *state)
{
	retain_store *s = state;
	cp_objstore_close(s->inner);
	free(s);
}

static int rs_put(void *state, const char *key, const void *data, size_t len,
		  const cp_put_options *opts)
{
	retain_store *s = state;
	int rc = cp_objstore_put(s->inner, key, data, len, opts);
	if (!rc && opts->retain_until && retention.n < 512) {
		snprintf(retention.keys[retention.n], 96, "%s", key);
		retention.until[retention.n++] = opts->retain_until;
	}
	return rc;
}

static int rs_get(void *state, const char *key, uint64_t off, uint64_t len, cp_buf *out)
{
	return cp_objstore_get(((retain_store *)state)->inner, key, off, len, out);
}

static int rs_head(void *state, const char *key, cp_object_info *info)
{
	int rc = cp_objstore_head(((retain_store *)state)->inner, key, info);
	if (!rc)
		info->retain_until = retained_until(key);
	return rc;
}

static int rs_list(void *state, const char *prefix, cp_object_list_cb cb, void *payload)
{
	return cp_objstore_list(((retain_store *)state)->inner, prefix, cb, payload);
}

static int rs_remove(void *state, const char *key)
{
	if (retained_until(key) > (int64_t)time(NULL))
		return CP_ELOCKED;
	return cp_objstore_remove(((retain_store *)state)->inner, key);
}

static int rs_check_settings(void *state, const cp_objstore_settings *settings, int create)
{
	(void)state;
	(void)create;
	return settings->storage_class ? CP_EINVALID : 0; /* locks yes, classes no */
}

static const cp_objstore_ops retain_ops = {
	.version = CP_OBJSTORE_OPS_VERSION,
	.scheme = "retain",
	.description = "file:// with enforced retention (tests)",
	.open = rs_open,
	.close = rs_close,
	.put = rs_put,
	.get = rs_get,
	.head = rs_head,
	.list = rs_list,
	.remove = rs_remove,
	/* no writer_open: the core buffers and calls put, which records retention */
	.check_settings = rs_check_settings,
};

START_TEST(prune_leaves_immutable_objects_alone)
{
	ft_env e;
	memset(&e, 0, sizeof(e));
	e.dir = tu_tempdir("retain");
	tu_ok(cp_objstore_register(&retain_ops));
	tu_ok(cp_ctx_new(&e.ctx, NULL));
	snprintf(e.url, sizeof(e.url), "retain://%s/repo", e.dir);
	cp_repository_create_options co = CP_REPOSITORY_CREATE_OPTIONS_INIT;
	co.kdf_n = 16;
	co.chunk_size = CS;
	co.pack_size = 16 * 1024;
	co.immutable_days = 7;
	tu_ok(cp_repository_create(&e.repo, e.ctx, e.url, FT_PASSWORD, &co));
	uint64_t all[] = {0, 200000};
	tu_write_sparse(ft_path(&e, "a.img"), 200000, all, 1, 1);
	tu_write_sparse(ft_path(&e, "b.img"), 200000, all, 1, 2);
	char *a = ft_backup_file(e.repo, ft_path(&e, "a.img"), "a", NULL, NULL, 0, NULL);
	char *b = ft_backup_file(e.repo, ft_path(&e, "b.img"), "b", NULL, NULL, 0, NULL);
	ck_assert_int_gt(retention.n, 4); /* packs, indexes, manifests were retained */
	const char *ids[] = {b, NULL};
	retention.expired = 1; /* manifests may go (forget); packs are the point here */
	tu_ok(cp_forget(e.repo, NULL, ids, NULL, NULL));
	retention.expired = 0;

	cp_prune_stats ps;
	tu_ok(cp_prune(e.repo, NULL, &ps));
	ck_assert_uint_eq(ps.packs_removed, 0);
	ck_assert_uint_gt(ps.packs_kept_locked, 0);
	int rc = 0;
	ck_assert_uint_eq(ft_check(e.repo, 1, &rc), 0);
	tu_ok(ft_restore_file(e.repo, a, ft_path(&e, "o.img"), 200000));
	ck_assert(tu_files_equal(ft_path(&e, "a.img"), ft_path(&e, "o.img")));

	/* Once retention has ended, the next prune removes b's packs. */
	retention.expired = 1;
	tu_ok(cp_prune(e.repo, NULL, &ps));
	ck_assert_uint_gt(ps.packs_removed, 0);
	ck_assert_uint_eq(ps.packs_kept_locked, 0);
	ck_assert_uint_eq(ft_check(e.repo, 1, &rc), 0);
	tu_ok(ft_restore_file(e.repo, a, ft_path(&e, "o.img"), 200000));
	ck_assert(tu_files_equal(ft_path(&e, "a.img"), ft_path(&e, "o.img")));
	free(a);
	free(b);
	ft_teardown(&e);
}
END_TEST

int main(void)
{
	fault_store_register();
	Suite *s = suite_create("format-maintenance");
	TCase *tc = tcase_create("maintenance");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, forget_applies_gfs_rules_in_local_time);
	tcase_add_test(tc, prune_removes_unreferenced_data_and_repacks);
	tcase_add_test(tc, prune_is_refused_while_a_backup_holds_a_lock);
	tcase_add_test(tc, stale_locks_are_ignored_and_unlocked);
	tcase_add_test(tc, locks_are_refreshed_while_held);
	tcase_add_test(tc, a_lock_refreshed_during_a_scan_still_conflicts);
	tcase_add_test(tc, copy_between_repositories_restores_identically);
	tcase_add_test(tc, prune_leaves_immutable_objects_alone);
	suite_add_tcase(s, tc);
	return tu_run(s);
}
