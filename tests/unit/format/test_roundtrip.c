/* Backup and restore round trips, repository create/open, listing and resolving. */
#include "fmtutil.h"

#include "cloudprotect/sys/provider.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CS 4096u

static void round_trip(ft_env *e, uint64_t size, const uint64_t *ranges, size_t nranges,
		       uint64_t seed)
{
	const char *src = ft_path(e, "src.img");
	const char *dst = ft_path(e, "dst.img");
	tu_write_sparse(src, size, ranges, nranges, seed);
	cp_backup_stats st;
	char *id = ft_backup_file(e->repo, src, "disk-1", NULL, NULL, 0, &st);
	ck_assert_uint_eq(st.size, size);
	ck_assert_uint_le(st.data_bytes, size);
	tu_ok(ft_restore_file(e->repo, id, dst, size));
	ck_assert_msg(tu_files_equal(src, dst), "size %llu: restored image differs",
		      (unsigned long long)size);
	ck_assert_uint_eq(ft_file_size(dst), size);

	/* The same data again stores nothing new. */
	char *id2 = ft_backup_file(e->repo, src, "disk-1", NULL, NULL, 0, &st);
	ck_assert_uint_eq(st.new_chunks, 0);
	ck_assert_uint_eq(st.new_stored_bytes, 0);
	ck_assert_str_ne(id, id2); /* another backup (another time or header) */
	free(id);
	free(id2);
}

START_TEST(round_trips_of_sparse_images)
{
	ft_env e;
	ft_setup(&e, "rt", CS, 64 * 1024);
	uint64_t none[] = {0, 0};
	round_trip(&e, 0, none, 0, 1);
	uint64_t tiny[] = {0, 100};
	round_trip(&e, 100, tiny, 1, 2);
	uint64_t under[] = {10, CS - 20};
	round_trip(&e, CS - 1, under, 1, 3);
	uint64_t one[] = {0, CS};
	round_trip(&e, CS, one, 1, 4);
	uint64_t over[] = {CS - 5, 6};
	round_trip(&e, CS + 1, over, 1, 5);
	/* Several packs: ~1 MiB of data in 64 KiB packs, holes, an unaligned tail. */
	uint64_t big[] = {0, 5000, 3 * CS + 7, 300000, 400000, 1, 700000, 420000};
	round_trip(&e, (1u << 20) + 123456, big, 4, 6);
	ft_teardown(&e);
}
END_TEST

START_TEST(compressible_data_is_compressed)
{
	ft_env e;
	ft_setup(&e, "zstd", CS, 64 * 1024);
	const char *src = ft_path(&e, "text.img");
	FILE *f = fopen(src, "wb");
	for (int i = 0; i < 20000; i++)
		fprintf(f, "line %d of a very compressible disk image\n", i % 97);
	fclose(f);
	cp_backup_stats st;
	char *id = ft_backup_file(e.repo, src, "text", NULL, NULL, 0, &st);
	ck_assert_uint_lt(st.new_stored_bytes, st.new_raw_bytes / 3);
	tu_ok(ft_restore_file(e.repo, id, ft_path(&e, "out.img"), ft_file_size(src)));
	ck_assert(tu_files_equal(src, ft_path(&e, "out.img")));
	free(id);
	ft_teardown(&e);
}
END_TEST

START_TEST(repeated_chunks_are_stored_once)
{
	ft_env e;
	ft_setup(&e, "dedup", CS, 64 * 1024);
	const char *src = ft_path(&e, "rep.img");
	char *block = malloc(CS);
	tu_fill_random(block, CS, 42);
	FILE *f = fopen(src, "wb");
	for (int i = 0; i < 50; i++)
		fwrite(block, 1, CS, f);
	fclose(f);
	cp_backup_stats st;
	char *id = ft_backup_file(e.repo, src, "rep", NULL, NULL, 0, &st);
	ck_assert_uint_eq(st.new_chunks, 1);
	ck_assert_uint_eq(st.data_bytes, 50 * CS);
	tu_ok(ft_restore_file(e.repo, id, ft_path(&e, "out.img"), 50 * CS));
	ck_assert(tu_files_equal(src, ft_path(&e, "out.img")));
	free(block);
	free(id);
	ft_teardown(&e);
}
END_TEST

START_TEST(open_needs_the_right_password)
{
	ft_env e;
	ft_setup(&e, "pw", CS, 64 * 1024);
	uint64_t r[] = {0, 10000};
	tu_write_sparse(ft_path(&e, "a.img"), 20000, r, 1, 9);
	char *id = ft_backup_file(e.repo, ft_path(&e, "a.img"), "a", NULL, NULL, 0, NULL);
	cp_repository_info info;
	tu_ok(cp_repository_info_get(e.repo, &info));
	ck_assert_uint_eq(info.chunk_size, CS);
	ck_assert_uint_eq(info.format_version, 1);
	cp_repository_close(e.repo);
	e.repo = NULL;

	cp_repository *r2 = NULL;
	ck_assert_int_eq(cp_repository_open(&r2, e.ctx, e.url, "wrong password"), CP_EPASSWORD);
	ck_assert_ptr_null(r2);
	ck_assert_ptr_nonnull(strstr(cp_error_last()->message, "wrong password"));
	ck_assert_ptr_null(strstr(cp_error_last()->message, FT_PASSWORD));
	tu_ok(cp_repository_open(&r2, e.ctx, e.url, FT_PASSWORD));
	cp_repository_info info2;
	tu_ok(cp_repository_info_get(r2, &info2));
	ck_assert_str_eq(info.id, info2.id);
	/* The index was read at open: restoring works from a fresh handle. */
	tu_ok(ft_restore_file(r2, id, ft_path(&e, "b.img"), 20000));
	ck_assert(tu_files_equal(ft_path(&e, "a.img"), ft_path(&e, "b.img")));

	/* Creating over it is refused. */
	cp_repository *r3 = NULL;
	cp_repository_create_options co = CP_REPOSITORY_CREATE_OPTIONS_INIT;
	co.kdf_n = 16;
	ck_assert_int_eq(cp_repository_create(&r3, e.ctx, e.url, "x", &co), CP_EEXISTS);
	/* Bad options are refused with a reason. */
	co.chunk_size = 3000;
	ck_assert_int_eq(cp_repository_create(&r3, e.ctx, "file:///nonexistent/x", "x", &co),
			 CP_EINVALID);
	ck_assert_ptr_nonnull(strstr(cp_error_last()->message, "power of two"));
	ck_assert_int_eq(cp_repository_open(&r3, e.ctx, "file:///nonexistent/x", "x"),
			 CP_ENOTFOUND);
	e.repo = r2;
	free(id);
	ft_teardown(&e);
}
END_TEST

START_TEST(tampered_config_is_detected)
{
	ft_env e;
	ft_setup(&e, "cfg", CS, 64 * 1024);
	cp_repository_close(e.repo);
	e.repo = NULL;
	char *path = NULL;
	ck_assert_int_ge(asprintf(&path, "%s/repo/config", e.dir), 0);
	FILE *f = fopen(path, "r+");
	char text[2048];
	size_t n = fread(text, 1, sizeof(text) - 1, f);
	text[n] = 0;
	char *p = strstr(text, "\"chunk_size\": 4096");
	ck_assert_ptr_nonnull(p);
	memcpy(p, "\"chunk_size\": 8192", 18);
	rewind(f);
	fwrite(text, 1, n, f);
	fclose(f);
	cp_repository *r = NULL;
	ck_assert_int_eq(cp_repository_open(&r, e.ctx, e.url, FT_PASSWORD), CP_ECORRUPT);
	ck_assert_ptr_nonnull(strstr(cp_error_last()->message, "config"));
	free(path);
	ft_teardown(&e);
}
END_TEST

/* A target whose unwritten blocks hold garbage, like a volume from an encrypted snapshot. */
typedef struct {
	cp_block_writer base;
	unsigned char *data;
	pthread_mutex_t mu;
} garbage_writer;

static int gw_write(cp_block_writer *self, uint64_t off, const void *buf, size_t len)
{
	garbage_writer *g = (garbage_writer *)self;
	pthread_mutex_lock(&g->mu);
	memcpy(g->data + off, buf, len);
	pthread_mutex_unlock(&g->mu);
	return 0;
}

static int gw_commit(cp_block_writer *self, char **id)
{
	*id = NULL;
	return 0;
}

static void gw_free(cp_block_writer *self)
{
	garbage_writer *g = (garbage_writer *)self;
	free(g->data);
	free(g);
}

static garbage_writer *garbage_writer_new(uint64_t size, unsigned int flags)
{
	garbage_writer *g = calloc(1, sizeof(*g));
	g->base.version = CP_BLOCK_WRITER_VERSION;
	g->base.size = size;
	g->base.block_size = CS;
	g->base.flags = flags;
	g->base.write = gw_write;
	g->base.commit = gw_commit;
	g->base.free = gw_free;
	g->data = malloc(size);
	tu_fill_random(g->data, size, 0xbad);
	pthread_mutex_init(&g->mu, NULL);
	return g;
}

START_TEST(restore_writes_zeros_where_the_target_needs_them)
{
	ft_env e;
	ft_setup(&e, "zeros", CS, 64 * 1024);
	uint64_t size = 40 * CS + 77;
	uint64_t r[] = {CS * 3, CS * 2, CS * 20 + 5, 100};
	const char *src = ft_path(&e, "src.img");
	tu_write_sparse(src, size, r, 2, 5);
	char *id = ft_backup_file(e.repo, src, "z", NULL, NULL, 0, NULL);

	unsigned char *want = malloc(size);
	FILE *f = fopen(src, "rb");
	ck_assert_uint_eq(fread(want, 1, size, f), size);
	fclose(f);

	garbage_writer *g = garbage_writer_new(size, CP_BLOCK_WRITER_MUST_WRITE_ZEROS);
	tu_ok(cp_restore(e.repo, id, &g->base, NULL));
	ck_assert(memcmp(g->data, want, size) == 0);
	cp_block_writer_free(&g->base);

	/* Without the flag, holes are skipped (and so keep the garbage). */
	g = garbage_writer_new(size, 0);
	tu_ok(cp_restore(e.repo, id, &g->base, NULL));
	ck_assert(memcmp(g->data, want, size) != 0);
	ck_assert(memcmp(g->data + 3 * CS, want + 3 * CS, 2 * CS) == 0);
	cp_block_writer_free(&g->base);

	/* A target that is too small is refused. */
	g = garbage_writer_new(size - 1, 0);
	ck_assert_int_eq(cp_restore(e.repo, id, &g->base, NULL), CP_ENOSPC);
	cp_block_writer_free(&g->base);
	free(want);
	free(id);
	ft_teardown(&e);
}
END_TEST

static int count_progress(const cp_progress *p, void *payload)
{
	int *n = payload;
	(*n)++;
	ck_assert_uint_le(p->done, p->total);
	return 0;
}

static int cancel_now(const cp_progress *p, void *payload)
{
	return 1;
}

START_TEST(progress_is_reported_and_cancel_stops)
{
	ft_env e;
	ft_setup(&e, "progress", CS, 64 * 1024);
	uint64_t r[] = {0, 2 << 20};
	const char *src = ft_path(&e, "p.img");
	tu_write_sparse(src, 2 << 20, r, 1, 77);
	cp_block_reader *rd = NULL;
	tu_ok(cp_block_reader_open_file(&rd, src));
	cp_backup_options o = CP_BACKUP_OPTIONS_INIT;
	o.source = "p";
	int calls = 0;
	o.progress_cb = count_progress;
	o.progress_payload = &calls;
	char *id = NULL;
	tu_ok(cp_backup_create(&id, NULL, e.repo, rd, &o));
	ck_assert_int_ge(calls, 1);
	free(id);
	id = NULL;
	/* Cancelled at the end (the final report) at the latest: no backup is made. */
	uint64_t r2[] = {0, 2 << 20};
	tu_write_sparse(src, 2 << 20, r2, 1, 78);
	cp_block_reader_free(rd);
	tu_ok(cp_block_reader_open_file(&rd, src));
	o.progress_cb = cancel_now;
	ck_assert_int_eq(cp_backup_create(&id, NULL, e.repo, rd, &o), CP_ECANCELLED);
	ck_assert_ptr_null(id);
	cp_backup_list l;
	tu_ok(cp_backup_list_get(&l, e.repo));
	ck_assert_uint_eq(l.count, 1);
	cp_backup_list_dispose(&l);
	cp_block_reader_free(rd);
	ft_teardown(&e);
}
END_TEST

START_TEST(list_and_resolve)
{
	ft_env e;
	ft_setup(&e, "list", CS, 64 * 1024);
	uint64_t r[] = {0, 9000};
	const char *a = ft_path(&e, "a.img");
	tu_write_sparse(a, 10000, r, 1, 1);
	char *ids[6];
	for (int i = 0; i < 6; i++) {
		cp_block_reader *rd = NULL;
		tu_ok(cp_block_reader_open_file(&rd, a));
		cp_backup_options o = CP_BACKUP_OPTIONS_INIT;
		o.source = i % 2 ? "odd" : "even";
		cp_tag tags[] = {{"n", i % 2 ? "1" : "0"}};
		o.tags = tags;
		o.ntags = 1;
		tu_ok(cp_backup_create(&ids[i], NULL, e.repo, rd, &o));
		cp_block_reader_free(rd);
	}
	cp_backup_list l;
	tu_ok(cp_backup_list_get(&l, e.repo));
	ck_assert_uint_eq(l.count, 6);
	for (size_t i = 0; i < l.count; i++) {
		ck_assert_uint_eq(l.items[i].size, 10000);
		ck_assert_uint_eq(l.items[i].ntags, 1);
		ck_assert_str_eq(l.items[i].tags[0].key, "n");
		ck_assert_uint_eq(l.items[i].chunk_size, CS);
		if (i)
			ck_assert_int_le(l.items[i - 1].time, l.items[i].time);
	}
	cp_backup_list_dispose(&l);

	char *got = NULL;
	tu_ok(cp_backup_resolve(&got, e.repo, ids[3], NULL));
	ck_assert_str_eq(got, ids[3]);
	free(got);
	char prefix[20];
	/* The shortest unique prefix resolves; "" and non-hex do not. */
	for (size_t n = 1; n <= 64; n++) {
		int unique = 1;
		for (int k = 0; k < 6; k++)
			if (k != 2 && !strncmp(ids[k], ids[2], n))
				unique = 0;
		if (!unique) {
			memcpy(prefix, ids[2], n);
			prefix[n] = 0;
			ck_assert_int_eq(cp_backup_resolve(&got, e.repo, prefix, NULL),
					 CP_EINVALID);
			ck_assert_ptr_nonnull(strstr(cp_error_last()->message, "ambiguous"));
			continue;
		}
		memcpy(prefix, ids[2], n < 12 ? n : 12);
		prefix[n < 12 ? n : 12] = 0;
		tu_ok(cp_backup_resolve(&got, e.repo, prefix, NULL));
		ck_assert_str_eq(got, ids[2]);
		free(got);
		break;
	}
	ck_assert_int_eq(cp_backup_resolve(&got, e.repo, "xyz", NULL), CP_EINVALID);
	ck_assert_int_eq(cp_backup_resolve(&got, e.repo, "", NULL), CP_EINVALID);
	ck_assert_int_eq(cp_backup_resolve(&got, e.repo, "latest", "nosuch"), CP_ENOTFOUND);
	tu_ok(cp_backup_resolve(&got, e.repo, "latest", "even"));
	/* Backups within one second tie on time; latest picks one of its source. */
	ck_assert(!strcmp(got, ids[4]) || !strcmp(got, ids[2]) || !strcmp(got, ids[0]));
	free(got);
	for (int i = 0; i < 6; i++)
		free(ids[i]);
	ft_teardown(&e);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("format-roundtrip");
	TCase *tc = tcase_create("roundtrip");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, round_trips_of_sparse_images);
	tcase_add_test(tc, compressible_data_is_compressed);
	tcase_add_test(tc, repeated_chunks_are_stored_once);
	tcase_add_test(tc, open_needs_the_right_password);
	tcase_add_test(tc, tampered_config_is_detected);
	tcase_add_test(tc, restore_writes_zeros_where_the_target_needs_them);
	tcase_add_test(tc, progress_is_reported_and_cancel_stops);
	tcase_add_test(tc, list_and_resolve);
	suite_add_tcase(s, tc);
	return tu_run(s);
}
