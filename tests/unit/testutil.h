/* Helpers shared by the unit tests. */
#ifndef CP_TESTUTIL_H
#define CP_TESTUTIL_H

#include <check.h>
#include <stddef.h>
#include <stdint.h>

/** A fresh empty directory under $TMPDIR, removed by tu_rmtree. malloc'd. */
char *tu_tempdir(const char *tag);
/** rm -rf. */
void tu_rmtree(const char *path);
/** Fill buf with deterministic pseudo-random bytes from seed. */
void tu_fill_random(void *buf, size_t len, uint64_t seed);
/** Write a file of size bytes: random data in the listed [offset,len) pairs, holes elsewhere. */
void tu_write_sparse(const char *path, uint64_t size, const uint64_t *ranges, size_t nranges,
		     uint64_t seed);
/** 1 when two files have identical contents. */
int tu_files_equal(const char *a, const char *b);
/** Fail the test with cp_error_last()'s message when rc != 0. */
#define tu_ok(expr)                                                                                \
	do {                                                                                       \
		int tu_rc_ = (expr);                                                               \
		ck_assert_msg(tu_rc_ == 0, "%s failed: %d %s", #expr, tu_rc_, tu_last_message());  \
	} while (0)
const char *tu_last_message(void);
/** Run a suite, return the process exit status. */
int tu_run(Suite *s);

#endif
