/*
 * The generation map: how the local cloud tracks changed blocks exactly.
 *
 * File layout (all integers little-endian):
 *   0  8  magic "CPGENMAP"
 *   8  4  version (1)
 *  12  4  block size in bytes (524288)
 *  16  8  number of blocks
 *  24  8  counter: generation of the last tracked write
 *  32  8 * nblocks  generation of the last write to each block (0 = never)
 *
 * Every tracked write bumps the counter and stamps the blocks it touched
 * with the new value. A snapshot copies the map, so two snapshots of one
 * disk differ exactly in the blocks whose generations differ: a block's
 * generation changes when and only when it is written.
 */
#include "error.h"
#include "fs.h"
#include "local_cloud.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CBT_MAGIC   "CPGENMAP"
#define CBT_VERSION 1
#define STAMP_BATCH 4096 /* entries per pwrite */

static const unsigned char cbt_magic[8] = {'C', 'P', 'G', 'E', 'N', 'M', 'A', 'P'};

static void put_le32(unsigned char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static void put_le64(unsigned char *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static uint32_t get_le32(const unsigned char *p)
{
	uint32_t v = 0;
	for (int i = 3; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

static uint64_t get_le64(const unsigned char *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

uint64_t local_blocks_for(uint64_t disk_size)
{
	return disk_size / LOCAL_BLOCK_SIZE + (disk_size % LOCAL_BLOCK_SIZE != 0);
}

static void encode_header(unsigned char *h, uint64_t nblocks, uint64_t counter)
{
	memcpy(h, cbt_magic, sizeof(cbt_magic));
	put_le32(h + 8, CBT_VERSION);
	put_le32(h + 12, LOCAL_BLOCK_SIZE);
	put_le64(h + 16, nblocks);
	put_le64(h + 24, counter);
}

int local_cbt_create(const char *path, uint64_t disk_size)
{
	uint64_t nblocks = local_blocks_for(disk_size);
	unsigned char header[LOCAL_CBT_HEADER_SIZE];
	encode_header(header, nblocks, 0);
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0)
		return cp_error_set_os(CP_EIO, errno, "cannot create generation map '%s'", path);
	off_t total = (off_t)(LOCAL_CBT_HEADER_SIZE + nblocks * 8);
	int rc = cp_fs_pwrite_full(fd, header, sizeof(header), 0, path);
	/* Allocate the whole map now, so stamping a write never runs out of space. */
	if (!rc && posix_fallocate(fd, 0, total) && ftruncate(fd, total))
		rc = cp_error_set_os(CP_EIO, errno, "cannot size generation map '%s'", path);
	if (close(fd) && !rc)
		rc = cp_error_set_os(CP_EIO, errno, "cannot close '%s'", path);
	if (rc)
		unlink(path);
	return rc;
}

static int corrupt(const char *path, const char *why)
{
	return cp_error_set(CP_ECORRUPT, CP_ERRCLASS_PROVIDER,
			    "generation map '%s' is damaged (%s); changed blocks cannot be "
			    "listed, back up the whole disk",
			    path, why);
}

int local_cbt_open(local_cbt *cbt, const char *path, int writable)
{
	memset(cbt, 0, sizeof(*cbt));
	cbt->fd = open(path, (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC);
	if (cbt->fd < 0)
		return cp_error_set_os(CP_EIO, errno, "cannot open generation map '%s'", path);
	cbt->path = strdup(path);
	if (!cbt->path) {
		local_cbt_close(cbt);
		return cp_error_oom();
	}
	unsigned char h[LOCAL_CBT_HEADER_SIZE];
	int rc = cp_fs_pread_full(cbt->fd, h, sizeof(h), 0, path);
	if (!rc && memcmp(h, cbt_magic, sizeof(cbt_magic)))
		rc = corrupt(path, "bad magic");
	if (!rc && get_le32(h + 8) != CBT_VERSION)
		rc = corrupt(path, "unknown version");
	if (!rc && get_le32(h + 12) != LOCAL_BLOCK_SIZE)
		rc = corrupt(path, "unexpected block size");
	if (rc) {
		local_cbt_close(cbt);
		return rc;
	}
	cbt->block_size = LOCAL_BLOCK_SIZE;
	cbt->nblocks = get_le64(h + 16);
	cbt->counter = get_le64(h + 24);
	return 0;
}

void local_cbt_close(local_cbt *cbt)
{
	if (cbt->fd >= 0)
		close(cbt->fd);
	cbt->fd = -1;
	free(cbt->path);
	cbt->path = NULL;
}

int local_cbt_stamp(local_cbt *cbt, uint64_t first, uint64_t count)
{
	if (first > cbt->nblocks || count > cbt->nblocks - first)
		return corrupt(cbt->path, "write beyond the blocks it covers");
	uint64_t generation = cbt->counter + 1;
	unsigned char *batch = malloc(STAMP_BATCH * 8);
	if (!batch)
		return cp_error_oom();
	for (size_t i = 0; i < STAMP_BATCH; i++)
		put_le64(batch + 8 * i, generation);
	int rc = 0;
	for (uint64_t done = 0; !rc && done < count;) {
		uint64_t n = count - done < STAMP_BATCH ? count - done : STAMP_BATCH;
		rc = cp_fs_pwrite_full(cbt->fd, batch, (size_t)n * 8,
				       LOCAL_CBT_HEADER_SIZE + (first + done) * 8, cbt->path);
		done += n;
	}
	free(batch);
	/*
	 * The counter goes last. If stamping fails half way, the caller does not
	 * refresh the image fingerprint, so the next operation sees the change as
	 * untracked and no snapshot spanning it claims exact changed blocks.
	 */
	unsigned char h[LOCAL_CBT_HEADER_SIZE];
	encode_header(h, cbt->nblocks, generation);
	if (!rc)
		rc = cp_fs_pwrite_full(cbt->fd, h, sizeof(h), 0, cbt->path);
	if (!rc)
		cbt->counter = generation;
	return rc;
}

int local_cbt_read(local_cbt *cbt, uint64_t first, uint64_t count, uint64_t *out)
{
	if (first > cbt->nblocks || count > cbt->nblocks - first)
		return corrupt(cbt->path, "read beyond its blocks");
	unsigned char *raw = (unsigned char *)out;
	int rc = cp_fs_pread_full(cbt->fd, raw, (size_t)count * 8,
				  LOCAL_CBT_HEADER_SIZE + first * 8, cbt->path);
	/* Decode in place: each entry is read before its slot is overwritten. */
	for (uint64_t i = 0; !rc && i < count; i++)
		out[i] = get_le64(raw + 8 * i);
	return rc;
}
