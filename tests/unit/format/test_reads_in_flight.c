/*
 * Sources whose reads wait (a cloud 100 ms away) ask the backup for more
 * reads in flight than it has threads (cp_block_reader.reads_in_flight):
 * the backup then keeps that many reads waiting at once, stores the same
 * data, and still stops at the first failed read.
 */
#include "fmtutil.h"

#include "cloudprotect/sys/provider.h"
#include "error.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CS     4096u
#define CHUNKS 96u

typedef struct slow_reader {
	cp_block_reader base;
	unsigned char *data;
	pthread_mutex_t mu;
	unsigned int in_flight, most;
	uint64_t fail_at; /* offset whose read fails; UINT64_MAX for none */
} slow_reader;

static int slow_read(cp_block_reader *self, uint64_t offset, void *buf, size_t len)
{
	slow_reader *r = (slow_reader *)self;
	pthread_mutex_lock(&r->mu);
	if (++r->in_flight > r->most)
		r->most = r->in_flight;
	pthread_mutex_unlock(&r->mu);
	struct timespec ts = {0, 15 * 1000000L}; /* a round trip */
	nanosleep(&ts, NULL);
	pthread_mutex_lock(&r->mu);
	r->in_flight--;
	pthread_mutex_unlock(&r->mu);
	if (offset == r->fail_at)
		return cp_error_set(CP_EIO, CP_ERRCLASS_PROVIDER, "block at %llu is unreadable",
				    (unsigned long long)offset);
	memcpy(buf, r->data + offset, len);
	return 0;
}

static void slow_free(cp_block_reader *self)
{
	(void)self;
}

/* Random, compressible and all-zero chunks. */
static void slow_init(slow_reader *r, unsigned int version, unsigned int reads_in_flight)
{
	memset(r, 0, sizeof(*r));
	r->data = malloc(CHUNKS * CS);
	ck_assert_ptr_nonnull(r->data);
	tu_fill_random(r->data, CHUNKS * CS, 77);
	for (unsigned int i = 0; i < CHUNKS; i += 3)
		memset(r->data + i * CS, i % 2 ? 0 : 'a' + i % 26, CS);
	pthread_mutex_init(&r->mu, NULL);
	r->fail_at = UINT64_MAX;
	r->base.version = version;
	r->base.size = CHUNKS * CS;
	r->base.block_size = CS;
	r->base.read = slow_read;
	r->base.free = slow_free;
	r->base.reads_in_flight = reads_in_flight;
}

static void slow_dispose(slow_reader *r)
{
	pthread_mutex_destroy(&r->mu);
	free(r->data);
}

static int backup(cp_repository *repo, slow_reader *r, char **id)
{
	cp_backup_options o = CP_BACKUP_OPTIONS_INIT;
	o.source = "slow-disk";
	return cp_backup_create(id, NULL, repo, &r->base, &o);
}

START_TEST(reads_in_flight_are_kept_and_the_data_is_the_same)
{
	ft_env e;
	ft_setup(&e, "rif", CS, 64 * 1024);
	slow_reader r;
	slow_init(&r, CP_BLOCK_READER_VERSION, 16);
	char *id = NULL;
	tu_ok(backup(e.repo, &r, &id));
	/* Sixteen readers sleeping at once: nearly all of them are seen together. */
	ck_assert_msg(r.most >= 12, "only %u reads were in flight at once", r.most);
	ck_assert_uint_le(r.most, 16);
	const char *out = ft_path(&e, "restored.img");
	tu_ok(ft_restore_file(e.repo, id, out, CHUNKS * CS));
	FILE *f = fopen(out, "rb");
	ck_assert_ptr_nonnull(f);
	unsigned char *got = malloc(CHUNKS * CS);
	ck_assert_uint_eq(fread(got, 1, CHUNKS * CS, f), CHUNKS * CS);
	fclose(f);
	ck_assert_msg(!memcmp(got, r.data, CHUNKS * CS), "restored data differs");
	free(got);
	free(id);
	slow_dispose(&r);
	ft_teardown(&e);
}
END_TEST

START_TEST(a_version_1_reader_gets_the_thread_count)
{
	ft_env e;
	ft_setup(&e, "rif1", CS, 64 * 1024);
	slow_reader r;
	/* A version 1 backend never set the field: whatever is there is not read. */
	slow_init(&r, 1, 40);
	char *id = NULL;
	tu_ok(backup(e.repo, &r, &id));
	ck_assert_msg(r.most <= 2, "%u reads in flight from a version 1 reader (2 threads)",
		      r.most);
	free(id);
	slow_dispose(&r);
	ft_teardown(&e);
}
END_TEST

START_TEST(a_failed_read_stops_the_backup_with_its_error)
{
	ft_env e;
	ft_setup(&e, "riffail", CS, 64 * 1024);
	slow_reader r;
	slow_init(&r, CP_BLOCK_READER_VERSION, 16);
	r.fail_at = 50 * CS;
	char *id = NULL;
	ck_assert_int_eq(backup(e.repo, &r, &id), CP_EIO);
	ck_assert_ptr_null(id);
	const cp_error *err = cp_error_last();
	ck_assert_ptr_nonnull(err);
	ck_assert_msg(strstr(err->message, "block at 204800 is unreadable") &&
			      strstr(err->message, "offset 204800"),
		      "error: %s", err->message);
	cp_backup_list list = {0};
	tu_ok(cp_backup_list_get(&list, e.repo));
	ck_assert_uint_eq(list.count, 0);
	cp_backup_list_dispose(&list);
	slow_dispose(&r);
	ft_teardown(&e);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("format-reads-in-flight");
	TCase *tc = tcase_create("reads_in_flight");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, reads_in_flight_are_kept_and_the_data_is_the_same);
	tcase_add_test(tc, a_version_1_reader_gets_the_thread_count);
	tcase_add_test(tc, a_failed_read_stops_the_backup_with_its_error);
	suite_add_tcase(s, tc);
	return tu_run(s);
}
