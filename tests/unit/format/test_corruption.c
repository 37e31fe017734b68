/* Damage of every kind is detected: flipped bytes and truncation in packs, indexes, manifests. */
#include "fmtutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CS   4096u
#define SIZE (300u * 1024 + 17)

typedef struct {
	ft_env e;
	char *id;
	char repo_dir[700];
} fixture;

static void make(fixture *f, const char *tag)
{
	ft_setup(&f->e, tag, CS, 64 * 1024);
	uint64_t r[] = {0, SIZE - 1000};
	tu_write_sparse(ft_path(&f->e, "src.img"), SIZE, r, 1, 5);
	f->id = ft_backup_file(f->e.repo, ft_path(&f->e, "src.img"), "src", NULL, NULL, 0, NULL);
	snprintf(f->repo_dir, sizeof(f->repo_dir), "%s/repo", f->e.dir);
	int rc = 0;
	ck_assert_uint_eq(ft_check(f->e.repo, 1, &rc), 0);
	tu_ok(rc);
}

static void done(fixture *f)
{
	free(f->id);
	ft_teardown(&f->e);
}

/* The nth file (sorted) under repo/<sub>. */
static char *object(fixture *f, const char *sub, size_t nth)
{
	char dir[800];
	snprintf(dir, sizeof(dir), "%s/%s", f->repo_dir, sub);
	char **list = ft_list_files(dir);
	size_t n = 0;
	while (list[n])
		n++;
	ck_assert_uint_gt(n, nth);
	/* Deterministic order. */
	for (size_t i = 0; i < n; i++)
		for (size_t k = i + 1; k < n; k++)
			if (strcmp(list[i], list[k]) > 0) {
				char *t = list[i];
				list[i] = list[k];
				list[k] = t;
			}
	char *p = strdup(list[nth]);
	ft_free_list(list);
	return p;
}

/* Restore with a fresh handle (nothing cached); returns the code, asserts no target is left. */
static int restore_fresh(fixture *f)
{
	cp_repository *r = NULL;
	tu_ok(cp_repository_open(&r, f->e.ctx, f->e.url, FT_PASSWORD));
	const char *out = ft_path(&f->e, "out.img");
	unlink(out);
	int rc = ft_restore_file(r, f->id, out, SIZE);
	if (rc) {
		struct stat st;
		ck_assert_msg(stat(out, &st) != 0, "a failed restore left its target behind");
	} else {
		ck_assert(tu_files_equal(out, ft_path(&f->e, "src.img")));
	}
	cp_repository_close(r);
	return rc;
}

static uint64_t check_fresh(fixture *f, int read_data, int *rc)
{
	cp_repository *r = NULL;
	tu_ok(cp_repository_open(&r, f->e.ctx, f->e.url, FT_PASSWORD));
	uint64_t n = ft_check(r, read_data, rc);
	cp_repository_close(r);
	return n;
}

START_TEST(flipped_bytes_in_packs_are_found)
{
	/* Several positions: first blob, middle, header, the length trailer. */
	for (int k = 0; k < 4; k++) {
		fixture f;
		make(&f, "flip-pack");
		char *pack = object(&f, "data", (size_t)k % 2);
		uint64_t size = ft_file_size(pack);
		uint64_t at[] = {20, size / 2, size - 40, size - 2};
		ft_flip_byte(pack, at[k]);
		int rc = 0;
		ck_assert_uint_eq(check_fresh(&f, 0, &rc), 0); /* structure is intact */
		ck_assert_uint_ge(check_fresh(&f, 1, &rc), 1);
		ck_assert_int_eq(rc, CP_ECORRUPT);
		if (k < 2) {
			/* The blobs restore reads: it refuses, naming pack and chunk. */
			ck_assert_int_eq(restore_fresh(&f), CP_ECORRUPT);
			ck_assert_ptr_nonnull(strstr(cp_error_last()->message, "pack"));
			ck_assert_ptr_nonnull(strstr(cp_error_last()->message, "chunk"));
		}
		free(pack);
		done(&f);
	}
}
END_TEST

START_TEST(flipped_bytes_in_indexes_and_manifests_are_found)
{
	const char *kinds[] = {"index", "manifests"};
	for (int k = 0; k < 2; k++) {
		for (int where = 0; where < 3; where++) {
			fixture f;
			make(&f, "flip-meta");
			char *obj = object(&f, kinds[k], 0);
			uint64_t size = ft_file_size(obj);
			uint64_t at[] = {2, size / 2, size - 1};
			ft_flip_byte(obj, at[where]);
			int rc = 0;
			ck_assert_uint_ge(check_fresh(&f, 0, &rc), 1);
			ck_assert_int_eq(rc, CP_ECORRUPT);
			ck_assert_int_eq(restore_fresh(&f), CP_ECORRUPT);
			free(obj);
			done(&f);
		}
	}
}
END_TEST

START_TEST(truncated_objects_are_found)
{
	const char *kinds[] = {"data", "index", "manifests"};
	for (int k = 0; k < 3; k++) {
		fixture f;
		make(&f, "trunc");
		char *obj = object(&f, kinds[k], 0);
		ck_assert_int_eq(truncate(obj, (off_t)(ft_file_size(obj) - 7)), 0);
		int rc = 0;
		ck_assert_uint_ge(check_fresh(&f, 0, &rc), 1);
		ck_assert_int_eq(rc, CP_ECORRUPT);
		ck_assert_uint_ge(check_fresh(&f, 1, &rc), 1);
		free(obj);
		done(&f);
	}
	/* A pack cut before the blobs restore needs. */
	fixture f;
	make(&f, "trunc-pack");
	char *obj = object(&f, "data", 0);
	ck_assert_int_eq(truncate(obj, 100), 0);
	ck_assert_int_eq(restore_fresh(&f), CP_ECORRUPT);
	free(obj);
	done(&f);
}
END_TEST

START_TEST(a_missing_pack_is_found)
{
	fixture f;
	make(&f, "missing");
	char *obj = object(&f, "data", 0);
	ck_assert_int_eq(unlink(obj), 0);
	int rc = 0;
	ck_assert_uint_ge(check_fresh(&f, 0, &rc), 1);
	ck_assert_int_eq(rc, CP_ECORRUPT);
	ck_assert_int_eq(restore_fresh(&f), CP_ECORRUPT);
	ck_assert_ptr_nonnull(strstr(cp_error_last()->message, "missing"));
	free(obj);
	done(&f);
}
END_TEST

START_TEST(incremental_after_a_damaged_index_reads_what_it_cannot_reuse)
{
	fixture f;
	make(&f, "heal");
	char *idx = object(&f, "index", 0);
	ft_flip_byte(idx, 30);
	cp_repository *r = NULL;
	tu_ok(cp_repository_open(&r, f.e.ctx, f.e.url, FT_PASSWORD)); /* skips the index */
	cp_block_range ch = {0, 10};
	cp_backup_stats st;
	char *id = ft_backup_file(r, ft_path(&f.e, "src.img"), "src", f.id, &ch, 1, &st);
	/* Nothing of the parent could be referenced, so everything was read again. */
	ck_assert_uint_ge(st.read_bytes, SIZE - 1000); /* all that holds data */
	ck_assert_uint_eq(st.reused_chunks, 0);
	const char *out = ft_path(&f.e, "healed.img");
	tu_ok(ft_restore_file(r, id, out, SIZE));
	ck_assert(tu_files_equal(out, ft_path(&f.e, "src.img")));
	cp_repository_close(r);
	free(idx);
	free(id);
	done(&f);
}
END_TEST

static void collect_problem(const char *key, const char *problem, void *payload)
{
	int *n = payload;
	ck_assert_ptr_nonnull(key);
	ck_assert_ptr_nonnull(problem);
	ck_assert_uint_gt(strlen(problem), 10);
	(*n)++;
}

START_TEST(check_counts_what_it_saw)
{
	fixture f;
	make(&f, "counts");
	cp_check_options o = CP_CHECK_OPTIONS_INIT;
	o.read_data = 1;
	cp_check_result res;
	int n = 0;
	tu_ok(cp_check(f.e.repo, &o, collect_problem, &n, &res));
	ck_assert_int_eq(n, 0);
	ck_assert_uint_eq(res.backups, 1);
	ck_assert_uint_eq(res.indexes, 1);
	ck_assert_uint_ge(res.packs, 3);
	ck_assert_uint_eq(res.chunks, (SIZE - 1000 + CS - 1) / CS);
	ck_assert_uint_eq(res.unreferenced_packs, 0);
	/* A stray pack (as a killed backup leaves) is counted, not a problem. */
	char *pack = object(&f, "data", 0);
	char stray[900];
	snprintf(stray, sizeof(stray), "%s/data/00", f.repo_dir);
	mkdir(stray, 0755);
	snprintf(stray, sizeof(stray), "%s/data/00/00%062d", f.repo_dir, 0);
	char cmd[2000];
	snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", pack, stray);
	ck_assert_int_eq(system(cmd), 0);
	tu_ok(cp_check(f.e.repo, &o, collect_problem, &n, &res));
	ck_assert_uint_eq(res.unreferenced_packs, 1);
	ck_assert_int_eq(n, 0);
	free(pack);
	done(&f);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("format-corruption");
	TCase *tc = tcase_create("corruption");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, flipped_bytes_in_packs_are_found);
	tcase_add_test(tc, flipped_bytes_in_indexes_and_manifests_are_found);
	tcase_add_test(tc, truncated_objects_are_found);
	tcase_add_test(tc, a_missing_pack_is_found);
	tcase_add_test(tc, check_counts_what_it_saw);
	tcase_add_test(tc, incremental_after_a_damaged_index_reads_what_it_cannot_reuse);
	suite_add_tcase(s, tc);
	return tu_run(s);
}
