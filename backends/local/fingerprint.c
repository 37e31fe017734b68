/*
 * Noticing writes that bypassed the provider. After every tracked change
 * we record the image's size and mtime; a different size or mtime later
 * means someone wrote to the file directly, and the generation map no
 * longer tells the whole story.
 *
 * The kernel stamps mtime from a coarse clock (milliseconds), so a
 * direct write right after ours could leave the very same mtime. We
 * therefore set the mtime one nanosecond before the one the write left:
 * any later write stamps the current time, which is never that value.
 */
#include "error.h"
#include "local_cloud.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>

static int64_t mtime_ns(const struct stat *st)
{
	return (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
}

int local_fingerprint_take(local_fingerprint *out, int fd, const char *path)
{
	struct stat st;
	if (fstat(fd, &st))
		return cp_error_set_os(CP_EIO, errno, "cannot stat '%s'", path);
	int64_t pinned = mtime_ns(&st) - 1;
	struct timespec times[2] = {
		{.tv_sec = 0, .tv_nsec = UTIME_OMIT},
		{.tv_sec = pinned / 1000000000, .tv_nsec = pinned % 1000000000},
	};
	if (futimens(fd, times))
		return cp_error_set_os(CP_EIO, errno, "cannot set the time of '%s'", path);
	/* Read it back: the filesystem may keep coarser times than we asked for. */
	if (fstat(fd, &st))
		return cp_error_set_os(CP_EIO, errno, "cannot stat '%s'", path);
	out->size = (uint64_t)st.st_size;
	out->mtime_ns = mtime_ns(&st);
	return 0;
}

int local_fingerprint_matches(const local_fingerprint *fp, const char *path)
{
	struct stat st;
	if (stat(path, &st))
		return cp_error_set_os(CP_EIO, errno, "cannot stat disk image '%s'", path);
	return (uint64_t)st.st_size == fp->size && mtime_ns(&st) == fp->mtime_ns;
}
