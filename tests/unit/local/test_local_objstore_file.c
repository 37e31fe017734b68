/*
 * The file:// store's streaming writer: exact bytes at every size around
 * the direct-write block and stage boundaries, nothing left behind by an
 * abandoned writer, the page-cache fallback when O_DIRECT is refused
 * (at open or at write) and on tmpfs, and pack bytes
 * kept out of the page cache where O_DIRECT works.
 */
#include "testutil.h"

#include "cloudprotect.h"
#include "cloudprotect/sys/objstore.h"

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define MIB (1024u * 1024u)

/*
 * Stand-ins for the C library's open and pwrite that refuse O_DIRECT the
 * way tmpfs on older kernels, FUSE and some overlay mounts do (tmpfs
 * takes it on current kernels, so it cannot show the fallback). The
 * library resolves both through the dynamic linker, so these win.
 */
enum refuse_mode {
	REFUSE_NONE,
	REFUSE_AT_OPEN,
	REFUSE_AT_WRITE
};
static enum refuse_mode refuse;
static unsigned int refusals;

int open64(const char *path, int flags, ...);
int open64(const char *path, int flags, ...)
{
	static int (*real)(const char *, int, ...);
	if (!real)
		*(void **)&real = dlsym(RTLD_NEXT, "open64");
	unsigned int mode = 0;
	if (flags & (O_CREAT | O_TMPFILE)) {
		va_list ap;
		va_start(ap, flags);
		mode = va_arg(ap, unsigned int);
		va_end(ap);
	}
	if (refuse == REFUSE_AT_OPEN && (flags & O_DIRECT)) {
		refusals++;
		errno = EINVAL;
		return -1;
	}
	return real(path, flags, mode);
}

ssize_t pwrite64(int fd, const void *buf, size_t len, off_t offset);
ssize_t pwrite64(int fd, const void *buf, size_t len, off_t offset)
{
	static ssize_t (*real)(int, const void *, size_t, off_t);
	if (!real)
		*(void **)&real = dlsym(RTLD_NEXT, "pwrite64");
	if (refuse == REFUSE_AT_WRITE && (fcntl(fd, F_GETFL) & O_DIRECT)) {
		refusals++;
		errno = EINVAL;
		return -1;
	}
	return real(fd, buf, len, offset);
}

typedef struct {
	char dir[4096];
	char url[4200];
	cp_ctx *ctx;
	cp_objstore *store;
} env;

static void env_open(env *e, const char *base)
{
	memset(e, 0, sizeof(*e));
	if (base) {
		snprintf(e->dir, sizeof(e->dir), "%s", base);
		ck_assert_msg(mkdtemp(e->dir) != NULL, "cannot make a directory from %s", base);
	} else {
		char *made = tu_tempdir("objstore-file");
		snprintf(e->dir, sizeof(e->dir), "%s", made);
		free(made);
	}
	snprintf(e->url, sizeof(e->url), "file://%s/repo", e->dir);
	cp_ctx_options o = CP_CTX_OPTIONS_INIT;
	tu_ok(cp_ctx_new(&e->ctx, &o));
	tu_ok(cp_objstore_open(&e->store, e->ctx, e->url, 1));
}

static void env_close(env *e)
{
	cp_objstore_close(e->store);
	cp_ctx_free(e->ctx);
	tu_rmtree(e->dir);
}

/* How many entries a directory holds, temporary files included (list() hides them). */
static size_t dir_entries(const char *path)
{
	DIR *d = opendir(path);
	if (!d)
		return 0;
	size_t n = 0;
	struct dirent *de;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

/* piece: bytes per write() call; 0: one call. aligned: hand the writer a 4096-aligned buffer. */
static void put_and_check(env *e, const char *key, size_t size, size_t piece, int aligned)
{
	char *data = NULL;
	ck_assert_int_eq(posix_memalign((void **)&data, 4096, size + 4096), 0);
	char *src = aligned ? data : data + 16;
	tu_fill_random(src, size, size * 31 + piece + (size_t)aligned);

	cp_put_options po = CP_PUT_OPTIONS_INIT;
	cp_objstore_writer *w = NULL;
	tu_ok(cp_objstore_writer_open(e->store, key, &po, &w));
	size_t off = 0;
	while (off < size) {
		size_t n = piece && piece < size - off ? piece : size - off;
		tu_ok(cp_objstore_writer_write(w, src + off, n));
		off += n;
	}
	tu_ok(cp_objstore_writer_commit(w));
	cp_objstore_writer_free(w);

	cp_object_info info;
	tu_ok(cp_objstore_head(e->store, key, &info));
	ck_assert_uint_eq(info.size, size);
	cp_buf out = CP_BUF_INIT;
	if (size) {
		tu_ok(cp_objstore_get(e->store, key, 0, 0, &out));
		ck_assert_uint_eq(out.size, size);
		ck_assert_msg(!memcmp(out.ptr, src, size), "%s: %zu bytes read back differ", key,
			      size);
		/* A range that straddles the direct/buffered boundary at the tail. */
		size_t at = size > 5000 ? size - 5000 : 0;
		cp_buf_clear(&out);
		tu_ok(cp_objstore_get(e->store, key, at, size - at, &out));
		ck_assert(!memcmp(out.ptr, src + at, size - at));
	}
	cp_buf_dispose(&out);
	free(data);
}

static const size_t sizes[] = {
	0, 1, 4095, 4096, 4097, MIB - 1, MIB, MIB + 1, 2 * MIB + 8192 + 3, 3 * MIB, 16 * MIB + 3};

static void check_all_sizes(env *e)
{
	char key[64];
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		snprintf(key, sizeof(key), "data/one/%zu", sizes[i]);
		put_and_check(e, key, sizes[i], 0, 0);
		snprintf(key, sizeof(key), "data/pieces/%zu", sizes[i]);
		put_and_check(e, key, sizes[i], 7777, 0);
		snprintf(key, sizeof(key), "data/aligned/%zu", sizes[i]);
		put_and_check(e, key, sizes[i], 0, 1);
	}
	/* Nothing but the objects: no temporary files left in the directories. */
	char path[4300];
	snprintf(path, sizeof(path), "%s/repo/data/one", e->dir);
	ck_assert_uint_eq(dir_entries(path), sizeof(sizes) / sizeof(sizes[0]));
}

START_TEST(sizes_read_back_exactly)
{
	env e;
	env_open(&e, NULL);
	check_all_sizes(&e);
	env_close(&e);
}
END_TEST

START_TEST(tmpfs_falls_back_to_page_cache)
{
	struct stat st;
	if (stat("/dev/shm", &st) || !S_ISDIR(st.st_mode) || access("/dev/shm", W_OK))
		return; /* no tmpfs to try */
	env e;
	env_open(&e, "/dev/shm/cptest-objstore-tmpfs-XXXXXX");
	check_all_sizes(&e);
	env_close(&e);
}
END_TEST

static void check_refused(enum refuse_mode mode)
{
	env e;
	env_open(&e, NULL);
	refuse = mode;
	refusals = 0;
	check_all_sizes(&e);
	refuse = REFUSE_NONE;
	/* The large objects did try O_DIRECT, and were turned down. */
	ck_assert_uint_gt(refusals, 0);
	env_close(&e);
}

START_TEST(direct_refused_at_open_falls_back)
{
	check_refused(REFUSE_AT_OPEN);
}
END_TEST

START_TEST(direct_refused_at_write_falls_back)
{
	check_refused(REFUSE_AT_WRITE);
}
END_TEST

START_TEST(free_without_commit_leaves_nothing)
{
	env e;
	env_open(&e, NULL);
	size_t size = 5 * MIB + 123;
	char *data = malloc(size);
	ck_assert_ptr_nonnull(data);
	tu_fill_random(data, size, 7);
	cp_put_options po = CP_PUT_OPTIONS_INIT;
	cp_objstore_writer *w = NULL;
	tu_ok(cp_objstore_writer_open(e.store, "data/ab/abandoned", &po, &w));
	tu_ok(cp_objstore_writer_write(w, data, size));
	cp_objstore_writer_free(w);
	free(data);

	char path[4300];
	snprintf(path, sizeof(path), "%s/repo/data/ab", e.dir);
	ck_assert_uint_eq(dir_entries(path), 0);
	cp_object_info info;
	ck_assert_int_eq(cp_objstore_head(e.store, "data/ab/abandoned", &info), CP_ENOTFOUND);
	env_close(&e);
}
END_TEST

START_TEST(create_only_refuses_existing_and_cleans_up)
{
	env e;
	env_open(&e, NULL);
	put_and_check(&e, "data/co/x", 2 * MIB + 5, 0, 0);
	size_t size = 2 * MIB + 5;
	char *data = malloc(size);
	ck_assert_ptr_nonnull(data);
	memset(data, 0xa5, size);
	cp_put_options po = CP_PUT_OPTIONS_INIT;
	po.create_only = 1;
	cp_objstore_writer *w = NULL;
	tu_ok(cp_objstore_writer_open(e.store, "data/co/x", &po, &w));
	tu_ok(cp_objstore_writer_write(w, data, size));
	ck_assert_int_eq(cp_objstore_writer_commit(w), CP_EEXISTS);
	cp_objstore_writer_free(w);
	free(data);
	char path[4300];
	snprintf(path, sizeof(path), "%s/repo/data/co", e.dir);
	ck_assert_uint_eq(dir_entries(path), 1);
	/* The first object is untouched. */
	cp_buf out = CP_BUF_INIT;
	tu_ok(cp_objstore_get(e.store, "data/co/x", 0, 0, &out));
	ck_assert_uint_eq(out.size, size);
	size_t same = 0;
	for (size_t i = 0; i < out.size; i++)
		same += out.ptr[i] == (char)0xa5;
	ck_assert_uint_lt(same, size / 64);
	cp_buf_dispose(&out);
	env_close(&e);
}
END_TEST

/* 1 when the file system under dir takes an aligned O_DIRECT write. */
static int direct_io_works(const char *dir)
{
	char path[4300];
	snprintf(path, sizeof(path), "%s/probe", dir);
	int fd = open(path, O_CREAT | O_WRONLY | O_DIRECT | O_CLOEXEC, 0600);
	if (fd < 0)
		return 0;
	void *buf = NULL;
	int ok = 0;
	if (!posix_memalign(&buf, 4096, 4096)) {
		memset(buf, 0, 4096);
		ok = pwrite(fd, buf, 4096, 0) == 4096;
	}
	free(buf);
	close(fd);
	unlink(path);
	return ok;
}

START_TEST(large_objects_bypass_page_cache)
{
	env e;
	env_open(&e, NULL);
	if (!direct_io_works(e.dir)) {
		env_close(&e);
		return; /* the fallback is covered by the tmpfs test */
	}
	size_t size = 16 * MIB + 3;
	char *data = malloc(size);
	ck_assert_ptr_nonnull(data);
	tu_fill_random(data, size, 99);
	cp_put_options po = CP_PUT_OPTIONS_INIT;
	cp_objstore_writer *w = NULL;
	tu_ok(cp_objstore_writer_open(e.store, "data/pc/big", &po, &w));
	tu_ok(cp_objstore_writer_write(w, data, size));
	tu_ok(cp_objstore_writer_commit(w));
	cp_objstore_writer_free(w);
	free(data);

	/* Ask the kernel which pages of the new object sit in the page cache. */
	char path[4300];
	snprintf(path, sizeof(path), "%s/repo/data/pc/big", e.dir);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	void *map = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
	ck_assert_ptr_ne(map, MAP_FAILED);
	size_t pages = (size + 4095) / 4096;
	unsigned char *vec = malloc(pages);
	ck_assert_ptr_nonnull(vec);
	ck_assert_int_eq(mincore(map, size, vec), 0);
	size_t resident = 0;
	for (size_t i = 0; i < pages; i++)
		resident += vec[i] & 1;
	ck_assert_msg(resident < pages / 8, "%zu of %zu pages of a 16 MiB object in the page cache",
		      resident, pages);
	free(vec);
	munmap(map, size);
	close(fd);
	env_close(&e);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("local_objstore_file");
	TCase *tc = tcase_create("writer");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, sizes_read_back_exactly);
	tcase_add_test(tc, tmpfs_falls_back_to_page_cache);
	tcase_add_test(tc, direct_refused_at_open_falls_back);
	tcase_add_test(tc, direct_refused_at_write_falls_back);
	tcase_add_test(tc, free_without_commit_leaves_nothing);
	tcase_add_test(tc, create_only_refuses_existing_and_cleans_up);
	tcase_add_test(tc, large_objects_bypass_page_cache);
	suite_add_tcase(s, tc);
	return tu_run(s);
}
