/*
 * One lock file per record, flock'd, so that processes sharing a root
 * see writes, snapshots and record updates one at a time. Deleting a
 * record unlinks its lock file while holding it; whoever was waiting on
 * the old file then finds the record gone, and whoever comes later finds
 * no lock file: both report the record as missing.
 */
#include "error.h"
#include "local_cloud.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/file.h>
#include <unistd.h>

int local_lock_take(local_lock *lock, const local_cloud *cloud, local_kind kind, const char *id,
		    int exclusive, int create)
{
	lock->fd = -1;
	lock->path = local_path(cloud, kind, id, ".lock");
	if (!lock->path)
		return cp_error_oom();
	int flags = O_RDWR | O_CLOEXEC | (create ? O_CREAT : 0);
	lock->fd = open(lock->path, flags, 0644);
	if (lock->fd < 0) {
		int e = errno;
		int rc = e == ENOENT ? local_not_found(cloud, kind, id)
				     : cp_error_set_os(CP_EIO, e, "cannot open lock file '%s'",
						       lock->path);
		local_lock_release(lock);
		return rc;
	}
	while (flock(lock->fd, exclusive ? LOCK_EX : LOCK_SH)) {
		if (errno == EINTR)
			continue;
		int rc = cp_error_set_os(CP_EIO, errno, "cannot lock '%s'", lock->path);
		local_lock_release(lock);
		return rc;
	}
	return 0;
}

void local_lock_remove(local_lock *lock)
{
	if (lock->fd >= 0 && lock->path)
		unlink(lock->path);
}

void local_lock_release(local_lock *lock)
{
	/* Closing the descriptor drops the flock. */
	if (lock->fd >= 0)
		close(lock->fd);
	lock->fd = -1;
	free(lock->path);
	lock->path = NULL;
}
