/*
 * The file restore target: aligned blocks go straight to disk (queued
 * O_DIRECT writes into preallocated windows), anything unaligned through
 * the page cache; both must land where asked, from many threads at once,
 * leave unwritten ranges as holes (the preallocation is given back) and
 * never lose a written byte to that, and appear only on commit.
 */
#include "cloudprotect.h"
#include "cloudprotect/sys/provider.h"
#include "testutil.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define BLOCK	 (512u * 1024u)
#define NBLOCKS	 24u
#define TAIL	 1000u /* a short last block, as a disk of odd size has */
#define SIZE	 ((uint64_t)NBLOCKS * BLOCK + TAIL)
#define NTHREADS 4u

typedef struct {
	cp_block_writer *w;
	const uint8_t *expect;
	unsigned int first;
	int rc;
} writer_arg;

/* Every other block is written (the rest stay holes); odd threads use unaligned buffers. */
static void *write_blocks(void *p)
{
	writer_arg *a = p;
	uint8_t *aligned = NULL;
	ck_assert_int_eq(posix_memalign((void **)&aligned, 4096, BLOCK + 1), 0);
	uint8_t *buf = a->first % 2 ? aligned + 1 : aligned;
	for (unsigned int b = a->first; b < NBLOCKS && !a->rc; b += NTHREADS) {
		if (b % 4 == 3)
			continue;
		memcpy(buf, a->expect + (uint64_t)b * BLOCK, BLOCK);
		a->rc = cp_block_writer_write(a->w, (uint64_t)b * BLOCK, buf, BLOCK);
	}
	free(aligned);
	return NULL;
}

START_TEST(parallel_aligned_and_unaligned_writes_land_in_place)
{
	char *dir = tu_tempdir("blockio-writer");
	char dst[512], want[512];
	snprintf(dst, sizeof(dst), "%s/restored.img", dir);
	snprintf(want, sizeof(want), "%s/expected.img", dir);
	uint8_t *expect = calloc(1, SIZE);
	ck_assert_ptr_nonnull(expect);
	for (unsigned int b = 0; b < NBLOCKS; b++)
		if (b % 4 != 3)
			tu_fill_random(expect + (uint64_t)b * BLOCK, BLOCK, 100 + b);
	tu_fill_random(expect + (uint64_t)NBLOCKS * BLOCK, TAIL, 99);
	FILE *f = fopen(want, "wb");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(expect, 1, SIZE, f), SIZE);
	fclose(f);

	cp_block_writer *w = NULL;
	tu_ok(cp_block_writer_open_file(&w, dst, SIZE));
	pthread_t th[NTHREADS];
	writer_arg args[NTHREADS];
	for (unsigned int t = 0; t < NTHREADS; t++) {
		args[t] = (writer_arg){w, expect, t, 0};
		ck_assert_int_eq(pthread_create(&th[t], NULL, write_blocks, &args[t]), 0);
	}
	for (unsigned int t = 0; t < NTHREADS; t++) {
		pthread_join(th[t], NULL);
		ck_assert_int_eq(args[t].rc, 0);
	}
	/* The short tail: aligned start, unaligned length. */
	uint8_t *tail = NULL;
	ck_assert_int_eq(posix_memalign((void **)&tail, 4096, TAIL), 0);
	memcpy(tail, expect + (uint64_t)NBLOCKS * BLOCK, TAIL);
	tu_ok(cp_block_writer_write(w, (uint64_t)NBLOCKS * BLOCK, tail, TAIL));
	free(tail);

	struct stat st;
	ck_assert_int_ne(stat(dst, &st), 0); /* not visible before commit */
	char *id = NULL;
	tu_ok(cp_block_writer_commit(w, &id));
	ck_assert_str_eq(id, dst);
	free(id);
	cp_block_writer_free(w);
	ck_assert(tu_files_equal(want, dst));
	/* The blocks never written stay holes: at most 3/4 of the file is allocated (+ slack). */
	ck_assert_int_eq(stat(dst, &st), 0);
	ck_assert_int_le((int64_t)st.st_blocks * 512, (int64_t)(SIZE / 4 * 3 + (1u << 20)));

	free(expect);
	tu_rmtree(dir);
	free(dir);
}
END_TEST

START_TEST(uncommitted_target_leaves_nothing)
{
	char *dir = tu_tempdir("blockio-writer");
	char dst[512];
	snprintf(dst, sizeof(dst), "%s/restored.img", dir);
	uint8_t *buf = NULL;
	ck_assert_int_eq(posix_memalign((void **)&buf, 4096, BLOCK), 0);
	tu_fill_random(buf, BLOCK, 5);
	cp_block_writer *w = NULL;
	tu_ok(cp_block_writer_open_file(&w, dst, 4 * BLOCK));
	tu_ok(cp_block_writer_write(w, BLOCK, buf, BLOCK));
	cp_block_writer_free(w);
	free(buf);
	struct stat st;
	ck_assert_int_ne(stat(dst, &st), 0);
	/* Nor any temporary sibling. */
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "test -z \"$(ls -A '%s')\"", dir);
	ck_assert_int_eq(system(cmd), 0);
	tu_rmtree(dir);
	free(dir);
}
END_TEST

/* Bytes of the file actually allocated. */
static uint64_t allocated_bytes(const char *path)
{
	struct stat st;
	ck_assert_int_eq(stat(path, &st), 0);
	return (uint64_t)st.st_blocks * 512;
}

/*
 * A large sparse target spanning several preallocation windows, written
 * in a few scattered places, some of them partly (a piece inside a block,
 * through the page cache): everything written reads back, everything else
 * reads as zeros, and only about what was written stays allocated.
 */
START_TEST(scattered_writes_keep_a_large_target_sparse)
{
	char *dir = tu_tempdir("blockio-writer");
	char dst[512];
	snprintf(dst, sizeof(dst), "%s/restored.img", dir);
	const uint64_t size = 300ull << 20; /* several 64 MiB windows */
	const uint64_t offsets[] = {0,
				    5 * (uint64_t)BLOCK,
				    70ull << 20,
				    (70ull << 20) + BLOCK,
				    (200ull << 20) + 3 * BLOCK,
				    size - BLOCK};
	const size_t n = sizeof(offsets) / sizeof(offsets[0]);
	uint8_t *buf = NULL;
	ck_assert_int_eq(posix_memalign((void **)&buf, 4096, BLOCK), 0);
	cp_block_writer *w = NULL;
	tu_ok(cp_block_writer_open_file(&w, dst, size));
	for (size_t i = 0; i < n; i++) {
		tu_fill_random(buf, BLOCK, 7 + i);
		tu_ok(cp_block_writer_write(w, offsets[i], buf, BLOCK));
	}
	/* 100 bytes inside a block no aligned write touches, in a window of its own. */
	const uint64_t piece_at = (140ull << 20) + 12345;
	tu_fill_random(buf, 100, 3);
	tu_ok(cp_block_writer_write(w, piece_at, buf, 100));
	char *id = NULL;
	tu_ok(cp_block_writer_commit(w, &id));
	free(id);
	cp_block_writer_free(w);

	FILE *f = fopen(dst, "rb");
	ck_assert_ptr_nonnull(f);
	uint8_t *got = malloc(BLOCK), *want = malloc(BLOCK);
	ck_assert_ptr_nonnull(got);
	ck_assert_ptr_nonnull(want);
	for (size_t i = 0; i < n; i++) {
		tu_fill_random(want, BLOCK, 7 + i);
		ck_assert_int_eq(fseeko(f, (off_t)offsets[i], SEEK_SET), 0);
		ck_assert_uint_eq(fread(got, 1, BLOCK, f), BLOCK);
		ck_assert(memcmp(got, want, BLOCK) == 0);
	}
	tu_fill_random(want, 100, 3);
	ck_assert_int_eq(fseeko(f, (off_t)piece_at, SEEK_SET), 0);
	ck_assert_uint_eq(fread(got, 1, 100, f), 100);
	ck_assert(memcmp(got, want, 100) == 0);
	/* Between the writes: zeros (a block of the first window never written). */
	ck_assert_int_eq(fseeko(f, (off_t)(9 * (uint64_t)BLOCK), SEEK_SET), 0);
	ck_assert_uint_eq(fread(got, 1, BLOCK, f), BLOCK);
	memset(want, 0, BLOCK);
	ck_assert(memcmp(got, want, BLOCK) == 0);
	fclose(f);
	/* Seven blocks written (one of them partly); the windows were given back. */
	ck_assert_uint_le(allocated_bytes(dst), (uint64_t)(n + 1) * BLOCK + (1u << 20));

	free(got);
	free(want);
	free(buf);
	tu_rmtree(dir);
	free(dir);
}
END_TEST

/* Chunks larger than the writer's block (a repository with 1 MiB chunks) land whole. */
START_TEST(writes_larger_than_a_block_land_whole)
{
	char *dir = tu_tempdir("blockio-writer");
	char dst[512], want[512];
	snprintf(dst, sizeof(dst), "%s/restored.img", dir);
	snprintf(want, sizeof(want), "%s/expected.img", dir);
	const size_t big = 3 * BLOCK; /* three blocks in one write */
	const uint64_t size = 8ull * BLOCK;
	uint8_t *expect = calloc(1, size), *buf = NULL;
	ck_assert_ptr_nonnull(expect);
	ck_assert_int_eq(posix_memalign((void **)&buf, 4096, big), 0);
	tu_fill_random(expect + BLOCK, big, 41);
	tu_fill_random(expect + 5 * (uint64_t)BLOCK, big, 42);
	FILE *f = fopen(want, "wb");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(expect, 1, size, f), size);
	fclose(f);
	cp_block_writer *w = NULL;
	tu_ok(cp_block_writer_open_file(&w, dst, size));
	memcpy(buf, expect + BLOCK, big);
	tu_ok(cp_block_writer_write(w, BLOCK, buf, big));
	memcpy(buf, expect + 5 * (uint64_t)BLOCK, big);
	tu_ok(cp_block_writer_write(w, 5 * (uint64_t)BLOCK, buf, big));
	char *id = NULL;
	tu_ok(cp_block_writer_commit(w, &id));
	free(id);
	cp_block_writer_free(w);
	ck_assert(tu_files_equal(want, dst));
	free(buf);
	free(expect);
	tu_rmtree(dir);
	free(dir);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("blockio_writer");
	TCase *tc = tcase_create("file");
	tcase_add_test(tc, parallel_aligned_and_unaligned_writes_land_in_place);
	tcase_add_test(tc, uncommitted_target_leaves_nothing);
	tcase_add_test(tc, scattered_writes_keep_a_large_target_sparse);
	tcase_add_test(tc, writes_larger_than_a_block_land_whole);
	suite_add_tcase(s, tc);
	return tu_run(s);
}
