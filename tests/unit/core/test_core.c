/* Core: errors, buffers, the file:// object store, file block readers and writers. */
#include "cloudprotect.h"
#include "cloudprotect/sys/objstore.h"
#include "cloudprotect/sys/provider.h"
#include "error.h"
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

START_TEST(error_last_is_thread_local_and_clearable)
{
	cp_error_clear();
	ck_assert_ptr_null(cp_error_last());
	int rc = cp_error_set(CP_EINVALID, CP_ERRCLASS_CONFIG, "bad %s", "thing");
	ck_assert_int_eq(rc, CP_EINVALID);
	ck_assert_str_eq(cp_error_last()->message, "bad thing");
	cp_error_prefix(rc, "reading config: ");
	ck_assert_str_eq(cp_error_last()->message, "reading config: bad thing");
	cp_error_clear();
	ck_assert_ptr_null(cp_error_last());
}
END_TEST

START_TEST(version_and_options)
{
	int major = -1;
	cp_version_numbers(&major, NULL, NULL);
	ck_assert_int_eq(major, 0);
	ck_assert_str_eq(cp_version(), "0.1.0");
	cp_ctx_options o;
	tu_ok(cp_ctx_options_init(&o, CP_CTX_OPTIONS_VERSION));
	ck_assert_int_eq(cp_ctx_options_init(&o, 99), CP_EINVALID);
	o.version = 42;
	cp_ctx *ctx = NULL;
	ck_assert_int_eq(cp_ctx_new(&ctx, &o), CP_EINVALID);
	ck_assert_ptr_nonnull(strstr(cp_error_last()->message, "version 42"));
}
END_TEST

START_TEST(unknown_provider_names_alternatives)
{
	cp_ctx *ctx = NULL;
	tu_ok(cp_ctx_new(&ctx, NULL));
	cp_provider *p = NULL;
	ck_assert_int_eq(cp_provider_open(&p, ctx, "nosuchcloud", NULL), CP_ENOTFOUND);
	ck_assert_ptr_nonnull(strstr(cp_error_last()->message, "nosuchcloud"));
	ck_assert_ptr_nonnull(strstr(cp_error_last()->message, "local"));
	cp_ctx_free(ctx);
}
END_TEST

START_TEST(buf_grows)
{
	cp_buf b = CP_BUF_INIT;
	for (int i = 0; i < 1000; i++)
		tu_ok(cp_buf_put(&b, "abc", 3));
	ck_assert_uint_eq(b.size, 3000);
	ck_assert_int_eq(b.ptr[3000], '\0');
	cp_buf_dispose(&b);
}
END_TEST

static int count_keys(const char *key, const cp_object_info *info, void *payload)
{
	(void)info;
	ck_assert_ptr_null(strstr(key, ".tmp-"));
	(*(int *)payload)++;
	return 0;
}

START_TEST(file_store_round_trip)
{
	char *dir = tu_tempdir("store");
	char url[512];
	snprintf(url, sizeof(url), "file://%s/repo", dir);
	cp_ctx *ctx = NULL;
	cp_objstore *s = NULL;
	tu_ok(cp_ctx_new(&ctx, NULL));
	ck_assert_int_eq(cp_objstore_open(&s, ctx, url, 0), CP_ENOTFOUND);
	tu_ok(cp_objstore_open(&s, ctx, url, 1));

	cp_put_options once = CP_PUT_OPTIONS_INIT;
	once.create_only = 1;
	tu_ok(cp_objstore_put(s, "data/ab/abcd", "hello world", 11, &once));
	ck_assert_int_eq(cp_objstore_put(s, "data/ab/abcd", "x", 1, &once), CP_EEXISTS);

	cp_buf b = CP_BUF_INIT;
	tu_ok(cp_objstore_get(s, "data/ab/abcd", 6, 5, &b));
	ck_assert_str_eq(b.ptr, "world");
	tu_ok(cp_objstore_get(s, "data/ab/abcd", 0, 0, &b));
	ck_assert_str_eq(b.ptr, "hello world");
	ck_assert_int_eq(cp_objstore_get(s, "data/ab/abcd", 8, 10, &b), CP_ECORRUPT);
	ck_assert_int_eq(cp_objstore_get(s, "data/ab/none", 0, 0, &b), CP_ENOTFOUND);
	ck_assert_int_eq(cp_objstore_get(s, "../escape", 0, 0, &b), CP_EINVALID);

	/* A streaming writer that is freed without commit leaves nothing behind. */
	cp_objstore_writer *w = NULL;
	tu_ok(cp_objstore_writer_open(s, "data/cd/cdef", NULL, &w));
	tu_ok(cp_objstore_writer_write(w, "partial", 7));
	cp_objstore_writer_free(w);
	cp_object_info info;
	ck_assert_int_eq(cp_objstore_head(s, "data/cd/cdef", &info), CP_ENOTFOUND);
	tu_ok(cp_objstore_writer_open(s, "data/cd/cdef", NULL, &w));
	tu_ok(cp_objstore_writer_write(w, "whole", 5));
	tu_ok(cp_objstore_writer_commit(w));
	cp_objstore_writer_free(w);
	tu_ok(cp_objstore_head(s, "data/cd/cdef", &info));
	ck_assert_uint_eq(info.size, 5);

	int n = 0;
	tu_ok(cp_objstore_list(s, "data/", count_keys, &n));
	ck_assert_int_eq(n, 2);
	n = 0;
	tu_ok(cp_objstore_list(s, "data/c", count_keys, &n));
	ck_assert_int_eq(n, 1);
	tu_ok(cp_objstore_remove(s, "data/cd/cdef"));
	ck_assert_int_eq(cp_objstore_remove(s, "data/cd/cdef"), CP_ENOTFOUND);

	cp_buf_dispose(&b);
	cp_objstore_close(s);
	ck_assert_int_eq(cp_objstore_open(&s, ctx, "ftp://x/y", 1), CP_EUNSUPPORTED);
	ck_assert_int_eq(cp_objstore_open(&s, ctx, "not a url", 1), CP_EINVALID);
	cp_ctx_free(ctx);
	tu_rmtree(dir);
	free(dir);
}
END_TEST

static int collect_ranges(const cp_block_range *r, size_t n, void *payload)
{
	uint64_t *total = payload;
	for (size_t i = 0; i < n; i++)
		*total += r[i].length;
	return 0;
}

START_TEST(file_reader_sees_holes_and_writer_is_atomic)
{
	char *dir = tu_tempdir("blockio");
	char src[512], dst[512];
	snprintf(src, sizeof(src), "%s/src.img", dir);
	snprintf(dst, sizeof(dst), "%s/dst.img", dir);
	uint64_t ranges[] = {0, 4096, 8u << 20, 65536};
	tu_write_sparse(src, 64u << 20, ranges, 2, 7);

	cp_block_reader *r = NULL;
	tu_ok(cp_block_reader_open_file(&r, src));
	ck_assert_uint_eq(cp_block_reader_size(r), 64u << 20);
	uint64_t allocated = 0;
	tu_ok(cp_block_reader_allocated(r, collect_ranges, &allocated));
	ck_assert_uint_lt(allocated, 1u << 20);
	ck_assert_uint_ge(allocated, 4096 + 65536);
	char buf[16];
	ck_assert_int_eq(cp_block_reader_read(r, (64u << 20) - 8, buf, 16), CP_EINVALID);

	cp_block_writer *w = NULL;
	tu_ok(cp_block_writer_open_file(&w, dst, 64u << 20));
	char *data = malloc(65536);
	tu_ok(cp_block_reader_read(r, 8u << 20, data, 65536));
	tu_ok(cp_block_writer_write(w, 8u << 20, data, 65536));
	tu_ok(cp_block_reader_read(r, 0, data, 4096));
	tu_ok(cp_block_writer_write(w, 0, data, 4096));
	struct stat st;
	ck_assert_int_ne(stat(dst, &st), 0); /* not visible before commit */
	tu_ok(cp_block_writer_commit(w, NULL));
	cp_block_writer_free(w);
	ck_assert(tu_files_equal(src, dst));

	free(data);
	cp_block_reader_free(r);
	ck_assert_int_eq(cp_block_reader_open_file(&r, dir), CP_EINVALID);
	ck_assert_int_eq(cp_block_reader_open_file(&r, "/nonexistent/x"), CP_ENOTFOUND);
	tu_rmtree(dir);
	free(dir);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("core");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, error_last_is_thread_local_and_clearable);
	tcase_add_test(tc, version_and_options);
	tcase_add_test(tc, unknown_provider_names_alternatives);
	tcase_add_test(tc, buf_grows);
	tcase_add_test(tc, file_store_round_trip);
	tcase_add_test(tc, file_reader_sees_holes_and_writer_is_atomic);
	suite_add_tcase(s, tc);
	return tu_run(s);
}
