/* Local provider: snapshots, consistency groups, changed blocks, copies, reading. */
#include "local_cloud.h"
#include "local_fixture.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char *snapshot_path(lf_cloud *c, const char *id, const char *ext)
{
	char *p = NULL;
	ck_assert_int_ge(asprintf(&p, "%s/snapshots/%s%s", c->root, id, ext), 0);
	return p;
}

static void write_random(lf_cloud *c, const char *disk, uint64_t off, size_t len, uint64_t seed,
			 unsigned char *model)
{
	unsigned char *buf = malloc(len);
	tu_fill_random(buf, len, seed);
	tu_ok(cp_local_disk_write(c->p, disk, off, buf, len));
	if (model)
		memcpy(model + off, buf, len);
	free(buf);
}

START_TEST(disk_snapshot_is_identical_sparse_and_point_in_time)
{
	lf_cloud c;
	lf_open(&c, NULL);
	char *vm = lf_instance(&c, "vm");
	char *d = lf_disk(&c, 64 * MIB, vm);
	unsigned char *model = calloc(1, 64 * MIB);
	write_random(&c, d, 0, 4096, 1, model);
	write_random(&c, d, 20 * MIB + 7, 100000, 2, model);

	lf_snaps got = {0};
	cp_tag tags[] = {{"reason", "test"}};
	cp_snapshot_create_options o = CP_SNAPSHOT_CREATE_OPTIONS_INIT;
	o.tags = tags;
	o.ntags = 1;
	tu_ok(cp_snapshot_create(c.p, d, &o, lf_collect_snapshot, &got));
	ck_assert_uint_eq(got.count, 1);
	lf_snap *s = &got.items[0];
	ck_assert_str_eq(s->resource_id, d);
	ck_assert_str_eq(s->instance_id, vm);
	ck_assert_ptr_null(s->group_id);
	ck_assert_str_eq(s->region, "local-1");
	ck_assert_uint_eq(s->size, 64 * MIB);
	ck_assert_uint_eq(s->block_size, 512 * KIB);
	ck_assert_int_eq(s->state, CP_SNAPSHOT_COMPLETED);
	ck_assert_uint_eq(s->ntags, 1);

	/* Later writes do not reach the snapshot. */
	write_random(&c, d, 0, 4096, 3, NULL);
	uint64_t n = 0;
	unsigned char *snap = lf_read_snapshot(&c, s->id, &n);
	ck_assert_uint_eq(n, 64 * MIB);
	ck_assert_int_eq(memcmp(snap, model, n), 0);
	free(snap);

	char *img = snapshot_path(&c, s->id, ".img");
	struct stat st;
	ck_assert_int_eq(stat(img, &st), 0);
	ck_assert_msg((uint64_t)st.st_blocks * 512 < 2 * MIB, "snapshot not sparse: %lld blocks",
		      (long long)st.st_blocks);

	/* The reader reports only the ranges that hold data. */
	cp_block_reader *r = NULL;
	tu_ok(cp_snapshot_open(&r, c.p, s->id));
	lf_ranges alloc = {0};
	tu_ok(cp_block_reader_allocated(r, lf_collect_ranges, &alloc));
	uint64_t covered = 0;
	for (size_t i = 0; i < alloc.count; i++)
		covered += alloc.ranges[i].length;
	ck_assert_uint_lt(covered, 2 * MIB);
	lf_ranges_dispose(&alloc);
	cp_block_reader_free(r);
	free(img);
	free(model);
	lf_snaps_dispose(&got);
	free(vm);
	free(d);
	lf_close(&c);
}
END_TEST

START_TEST(every_copy_mode_gives_identical_sparse_files)
{
	char *dir = tu_tempdir("copy");
	char src[600], dst[600];
	snprintf(src, sizeof(src), "%s/src", dir);
	uint64_t r[] = {0, 5000, 3 * MIB, 2 * MIB + 3, 30 * MIB - 10, 10};
	tu_write_sparse(src, 30 * MIB, r, 3, 4);
	local_copy_mode modes[] = {LOCAL_COPY_AUTO, LOCAL_COPY_NO_REFLINK, LOCAL_COPY_READ_WRITE};
	for (size_t m = 0; m < 3; m++) {
		snprintf(dst, sizeof(dst), "%s/dst%zu", dir, m);
		tu_ok(local_copy_file(src, dst, 30 * MIB, modes[m]));
		ck_assert_msg(tu_files_equal(src, dst), "mode %zu differs", m);
		struct stat st;
		ck_assert_int_eq(stat(dst, &st), 0);
		ck_assert_uint_eq((uint64_t)st.st_size, 30 * MIB);
		ck_assert_msg((uint64_t)st.st_blocks * 512 < 8 * MIB, "mode %zu not sparse", m);
		/* The target must be new: never overwrite. */
		ck_assert_int_ne(local_copy_file(src, dst, 30 * MIB, modes[m]), 0);
	}
	snprintf(dst, sizeof(dst), "%s/longer", dir);
	tu_ok(local_copy_file(src, dst, 31 * MIB, LOCAL_COPY_NO_REFLINK));
	struct stat st;
	ck_assert_int_eq(stat(dst, &st), 0);
	ck_assert_uint_eq((uint64_t)st.st_size, 31 * MIB);
	snprintf(dst, sizeof(dst), "%s/shorter", dir);
	ck_assert_int_eq(local_copy_file(src, dst, MIB, LOCAL_COPY_AUTO), CP_EINVALID);
	tu_rmtree(dir);
	free(dir);
}
END_TEST

START_TEST(instance_snapshot_is_one_group)
{
	lf_cloud c;
	lf_open(&c, NULL);
	char *vm = lf_instance(&c, "db");
	char *disks[3];
	for (int i = 0; i < 3; i++) {
		disks[i] = lf_disk(&c, (uint64_t)(i + 1) * MIB, vm);
		write_random(&c, disks[i], 0, 1000, (uint64_t)i, NULL);
	}
	char *other = lf_disk(&c, MIB, NULL);
	lf_snaps got = {0};
	tu_ok(cp_snapshot_create(c.p, vm, NULL, lf_collect_snapshot, &got));
	ck_assert_uint_eq(got.count, 3);
	ck_assert_ptr_nonnull(got.items[0].group_id);
	for (size_t i = 0; i < 3; i++) {
		ck_assert_str_eq(got.items[i].group_id, got.items[0].group_id);
		ck_assert_str_eq(got.items[i].instance_id, vm);
		int found = 0;
		for (int k = 0; k < 3; k++)
			found += !strcmp(got.items[i].resource_id, disks[k]);
		ck_assert_int_eq(found, 1);
		for (size_t j = 0; j < i; j++)
			ck_assert_str_ne(got.items[i].resource_id, got.items[j].resource_id);
	}
	char *lone = lf_snapshot(&c, other);

	lf_snaps listed = {0};
	tu_ok(cp_snapshot_list(c.p, vm, lf_collect_snapshot, &listed));
	ck_assert_uint_eq(listed.count, 3);
	lf_snaps_dispose(&listed);
	tu_ok(cp_snapshot_list(c.p, disks[1], lf_collect_snapshot, &listed));
	ck_assert_uint_eq(listed.count, 1);
	lf_snaps_dispose(&listed);
	tu_ok(cp_snapshot_list(c.p, NULL, lf_collect_snapshot, &listed));
	ck_assert_uint_eq(listed.count, 4);
	lf_snaps_dispose(&listed);

	/* A second group gets a group of its own. */
	lf_snaps again = {0};
	tu_ok(cp_snapshot_create(c.p, vm, NULL, lf_collect_snapshot, &again));
	ck_assert_uint_eq(again.count, 3);
	ck_assert_str_ne(again.items[0].group_id, got.items[0].group_id);
	lf_snaps_dispose(&again);
	lf_snaps_dispose(&got);
	for (int i = 0; i < 3; i++)
		free(disks[i]);
	free(other);
	free(lone);
	free(vm);
	lf_close(&c);
}
END_TEST

START_TEST(snapshot_of_missing_things_fails_clearly)
{
	lf_cloud c;
	lf_open(&c, NULL);
	char *vm = lf_instance(&c, "gone");
	char *d = lf_disk(&c, MIB, vm);
	char *empty = lf_instance(&c, "empty");
	tu_ok(cp_local_instance_delete(c.p, vm));
	lf_snaps got = {0};
	ck_assert_int_eq(cp_snapshot_create(c.p, vm, NULL, lf_collect_snapshot, &got),
			 CP_ENOTFOUND);
	ck_assert_msg(lf_error_mentions(vm), "%s", tu_last_message());
	ck_assert_int_eq(
		cp_snapshot_create(c.p, "vol-0000000000000bad", NULL, lf_collect_snapshot, &got),
		CP_ENOTFOUND);
	ck_assert(lf_error_mentions("vol-0000000000000bad"));
	ck_assert_int_eq(cp_snapshot_create(c.p, empty, NULL, lf_collect_snapshot, &got),
			 CP_EINVALID);
	ck_assert(lf_error_mentions("no disks"));
	ck_assert_int_eq(cp_snapshot_create(c.p, "bogus", NULL, lf_collect_snapshot, &got),
			 CP_EINVALID);
	char *s = lf_snapshot(&c, d);
	ck_assert_int_eq(cp_snapshot_create(c.p, s, NULL, lf_collect_snapshot, &got), CP_EINVALID);
	ck_assert_uint_eq(got.count, 0);

	/* A deleted disk: its snapshots stay, new ones cannot be taken. */
	tu_ok(cp_local_disk_delete(c.p, d));
	ck_assert_int_eq(cp_snapshot_create(c.p, d, NULL, lf_collect_snapshot, &got), CP_ENOTFOUND);
	uint64_t n = 0;
	free(lf_read_snapshot(&c, s, &n));
	ck_assert_uint_eq(n, MIB);
	free(s);
	free(d);
	free(vm);
	free(empty);
	lf_close(&c);
}
END_TEST

static int cancel_now(const cp_progress *p, void *payload)
{
	(void)payload;
	return p->done > 0;
}

START_TEST(cancelled_snapshot_leaves_nothing)
{
	lf_cloud c;
	lf_open(&c, NULL);
	char *vm = lf_instance(&c, "vm");
	char *d1 = lf_disk(&c, MIB, vm);
	char *d2 = lf_disk(&c, MIB, vm);
	cp_snapshot_create_options o = CP_SNAPSHOT_CREATE_OPTIONS_INIT;
	o.progress_cb = cancel_now;
	lf_snaps got = {0};
	ck_assert_int_eq(cp_snapshot_create(c.p, vm, &o, lf_collect_snapshot, &got), CP_ECANCELLED);
	ck_assert_uint_eq(got.count, 0);
	tu_ok(cp_snapshot_list(c.p, NULL, lf_collect_snapshot, &got));
	ck_assert_uint_eq(got.count, 0);
	char dir[600];
	snprintf(dir, sizeof(dir), "%s/snapshots", c.root);
	int entries = lf_count_files(dir);
	ck_assert_int_eq(entries, 0);
	free(vm);
	free(d1);
	free(d2);
	lf_close(&c);
}
END_TEST

/* Blocks covered by a list of ranges, checking the list's shape on the way. */
static void ranges_to_blocks(const lf_ranges *r, uint64_t disk_size, unsigned char *blocks,
			     uint64_t nblocks)
{
	memset(blocks, 0, nblocks);
	for (size_t i = 0; i < r->count; i++) {
		const cp_block_range *x = &r->ranges[i];
		ck_assert_uint_eq(x->offset % BLOCK, 0);
		ck_assert_uint_gt(x->length, 0);
		ck_assert_uint_le(x->offset + x->length, disk_size);
		if (x->offset + x->length != disk_size)
			ck_assert_uint_eq(x->length % BLOCK, 0);
		if (i) {
			const cp_block_range *prev = &r->ranges[i - 1];
			/* Sorted, and adjacent blocks merged into one range. */
			ck_assert_uint_gt(x->offset, prev->offset + prev->length);
		}
		for (uint64_t b = x->offset / BLOCK; b * BLOCK < x->offset + x->length; b++) {
			ck_assert_uint_lt(b, nblocks);
			blocks[b] = 1;
		}
	}
}

#define ROUNDS 6

START_TEST(changed_blocks_match_a_model)
{
	lf_cloud c;
	lf_open(&c, NULL);
	const uint64_t size = 40 * BLOCK + 1000; /* a short last block */
	const uint64_t nblocks = 41;
	char *d = lf_disk(&c, size, NULL);
	unsigned char *content = calloc(1, size);
	unsigned char written[ROUNDS + 1][41]; /* blocks written in the round before snapshot i */
	char *snaps[ROUNDS + 1];
	unsigned char *images[ROUNDS + 1];
	memset(written, 0, sizeof(written));
	uint64_t x = 12345;
	for (int round = 0; round <= ROUNDS; round++) {
		int writes = round ? 1 + (int)(x % 6) : 0;
		for (int w = 0; w < writes; w++) {
			x = x * 6364136223846793005ull + 1442695040888963407ull;
			uint64_t off = (x >> 11) % size;
			uint64_t len = 1 + (x >> 40) % (BLOCK + BLOCK / 2);
			if (w == 0) { /* edges: off-by-one mistakes live here */
				static const uint64_t edge[][2] = {
					{0, 0},
					{2 * BLOCK, BLOCK},	 /* exactly one block */
					{5 * BLOCK - 100, 100},	 /* ends on a boundary */
					{40 * BLOCK + 990, 10},	 /* the short last block */
					{7 * BLOCK, 1},		 /* starts on a boundary */
					{9 * BLOCK - 1, 2},	 /* straddles one */
					{30 * BLOCK, 3 * BLOCK}, /* several whole blocks */
				};
				off = edge[round][0];
				len = edge[round][1];
			}
			if (len > size - off)
				len = size - off;
			write_random(&c, d, off, (size_t)len, x, content);
			for (uint64_t b = off / BLOCK; b <= (off + len - 1) / BLOCK; b++)
				written[round][b] = 1;
		}
		snaps[round] = lf_snapshot(&c, d);
		images[round] = malloc(size);
		memcpy(images[round], content, size);
	}
	unsigned char got[41], want[41];
	for (int i = 0; i <= ROUNDS; i++) {
		uint64_t n = 0;
		unsigned char *img = lf_read_snapshot(&c, snaps[i], &n);
		ck_assert_uint_eq(n, size);
		ck_assert_msg(!memcmp(img, images[i], size), "snapshot %d has the wrong bytes", i);
		free(img);
		for (int j = i; j <= ROUNDS; j++) {
			lf_ranges r = {0};
			tu_ok(cp_snapshot_changed_blocks(c.p, snaps[i], snaps[j], lf_collect_ranges,
							 &r));
			ranges_to_blocks(&r, size, got, nblocks);
			memset(want, 0, sizeof(want));
			for (int k = i + 1; k <= j; k++)
				for (uint64_t b = 0; b < nblocks; b++)
					want[b] |= written[k][b];
			for (uint64_t b = 0; b < nblocks; b++)
				ck_assert_msg(
					got[b] == want[b],
					"snapshots %d..%d: block %llu reported %d, written %d", i,
					j, (unsigned long long)b, got[b], want[b]);
			lf_ranges_dispose(&r);
		}
	}
	/* Backwards is refused. */
	lf_ranges r = {0};
	ck_assert_int_eq(
		cp_snapshot_changed_blocks(c.p, snaps[ROUNDS], snaps[0], lf_collect_ranges, &r),
		CP_EINVALID);
	ck_assert(lf_error_mentions("newer"));
	for (int i = 0; i <= ROUNDS; i++) {
		free(snaps[i]);
		free(images[i]);
	}
	free(content);
	free(d);
	lf_close(&c);
}
END_TEST

START_TEST(changed_blocks_need_one_disk_and_come_in_pages)
{
	lf_cloud c;
	lf_open(&c, NULL);
	const uint64_t nblocks = 2101;
	char *d = lf_disk(&c, nblocks * BLOCK, NULL);
	char *other = lf_disk(&c, MIB, NULL);
	char *s1 = lf_snapshot(&c, d);
	char *s2 = lf_snapshot(&c, d);
	char *o1 = lf_snapshot(&c, other);
	lf_ranges r = {0};
	ck_assert_int_eq(cp_snapshot_changed_blocks(c.p, s1, o1, lf_collect_ranges, &r),
			 CP_EINVALID);
	ck_assert(lf_error_mentions("different disks"));
	ck_assert_int_eq(
		cp_snapshot_changed_blocks(c.p, s1, "snap-00000000000000aa", lf_collect_ranges, &r),
		CP_ENOTFOUND);
	tu_ok(cp_snapshot_changed_blocks(c.p, s1, s2, lf_collect_ranges, &r));
	ck_assert_uint_eq(r.count, 0);
	ck_assert_uint_eq(r.pages, 0);

	/* Many separate changes: stamp every other block of s2's map directly. */
	char *map = snapshot_path(&c, s2, ".cbt");
	local_cbt cbt;
	tu_ok(local_cbt_open(&cbt, map, 1));
	for (uint64_t b = 0; b < nblocks; b += 2)
		tu_ok(local_cbt_stamp(&cbt, b, 1));
	local_cbt_close(&cbt);
	tu_ok(cp_snapshot_changed_blocks(c.p, s1, s2, lf_collect_ranges, &r));
	ck_assert_uint_eq(r.count, (nblocks + 1) / 2);
	ck_assert_uint_eq(r.pages, 2);
	ck_assert_uint_eq(r.largest_page, 1000);
	for (size_t i = 0; i < r.count; i++) {
		ck_assert_uint_eq(r.ranges[i].offset, 2 * i * BLOCK);
		ck_assert_uint_eq(r.ranges[i].length, BLOCK);
	}
	lf_ranges_dispose(&r);
	free(map);
	free(s1);
	free(s2);
	free(o1);
	free(d);
	free(other);
	lf_close(&c);
}
END_TEST

static void direct_write(lf_cloud *c, const char *disk, uint64_t off)
{
	char *path = NULL;
	tu_ok(cp_local_disk_path(&path, c->p, disk));
	int fd = open(path, O_WRONLY);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pwrite(fd, "sneaky", 6, (off_t)off), 6);
	close(fd);
	cp_free(path);
}

START_TEST(writes_outside_the_provider_invalidate_tracking)
{
	lf_cloud c;
	lf_open(&c, NULL);
	char *d = lf_disk(&c, 8 * MIB, NULL);
	write_random(&c, d, 0, 100, 1, NULL);
	char *s1 = lf_snapshot(&c, d);
	/* Straight after a tracked write, so mtime alone might not have moved. */
	write_random(&c, d, BLOCK, 100, 2, NULL);
	direct_write(&c, d, 5 * BLOCK);
	char *s2 = lf_snapshot(&c, d);
	lf_ranges r = {0};
	ck_assert_int_eq(cp_snapshot_changed_blocks(c.p, s1, s2, lf_collect_ranges, &r),
			 CP_EUNSUPPORTED);
	ck_assert_msg(lf_error_mentions("outside the provider"), "%s", tu_last_message());

	/* Bypassed between tracked writes: noticed at the next write. */
	write_random(&c, d, 2 * BLOCK, 100, 3, NULL);
	char *s3 = lf_snapshot(&c, d);
	write_random(&c, d, 3 * BLOCK, 100, 4, NULL);
	direct_write(&c, d, 6 * BLOCK);
	write_random(&c, d, 4 * BLOCK, 100, 5, NULL);
	char *s4 = lf_snapshot(&c, d);
	ck_assert_int_eq(cp_snapshot_changed_blocks(c.p, s3, s4, lf_collect_ranges, &r),
			 CP_EUNSUPPORTED);
	ck_assert_int_eq(cp_snapshot_changed_blocks(c.p, s1, s4, lf_collect_ranges, &r),
			 CP_EUNSUPPORTED);
	ck_assert_int_eq(cp_snapshot_changed_blocks(c.p, s2, s3, lf_collect_ranges, &r),
			 CP_EUNSUPPORTED);

	/* s4 itself is marked invalid; from the next snapshot on tracking is exact again. */
	char *s5 = lf_snapshot(&c, d);
	ck_assert_int_eq(cp_snapshot_changed_blocks(c.p, s4, s5, lf_collect_ranges, &r),
			 CP_EUNSUPPORTED);
	write_random(&c, d, 7 * BLOCK, 100, 6, NULL);
	char *s6 = lf_snapshot(&c, d);
	tu_ok(cp_snapshot_changed_blocks(c.p, s5, s6, lf_collect_ranges, &r));
	ck_assert_uint_eq(r.count, 1);
	ck_assert_uint_eq(r.ranges[0].offset, 7 * BLOCK);
	lf_ranges_dispose(&r);

	/* Without any bypass, snapshots stay comparable. */
	char *s7 = lf_snapshot(&c, d);
	tu_ok(cp_snapshot_changed_blocks(c.p, s5, s7, lf_collect_ranges, &r));
	ck_assert_uint_eq(r.count, 1);
	lf_ranges_dispose(&r);
	free(s7);
	free(s1);
	free(s2);
	free(s3);
	free(s4);
	free(s5);
	free(s6);
	free(d);
	lf_close(&c);
}
END_TEST

START_TEST(fingerprint_notices_an_immediate_direct_write)
{
	char *dir = tu_tempdir("fp");
	char path[600];
	snprintf(path, sizeof(path), "%s/img", dir);
	uint64_t r[] = {0, 4096};
	tu_write_sparse(path, MIB, r, 1, 1);
	int fd = open(path, O_RDWR);
	ck_assert_int_ge(fd, 0);
	/* Same size, within the same clock tick as far as the kernel's clock goes. */
	for (int i = 0; i < 20; i++) {
		local_fingerprint fp;
		tu_ok(local_fingerprint_take(&fp, fd, path));
		ck_assert_int_eq(local_fingerprint_matches(&fp, path), 1);
		ck_assert_int_eq(pwrite(fd, "x", 1, i), 1);
		ck_assert_int_eq(local_fingerprint_matches(&fp, path), 0);
	}
	close(fd);
	tu_rmtree(dir);
	free(dir);
}
END_TEST

START_TEST(deleted_snapshot_is_gone)
{
	lf_cloud c;
	lf_open(&c, NULL);
	char *d = lf_disk(&c, MIB, NULL);
	char *s = lf_snapshot(&c, d);
	char *img = snapshot_path(&c, s, ".img");
	cp_block_reader *kept = NULL;
	tu_ok(cp_snapshot_open(&kept, c.p, s));
	tu_ok(cp_snapshot_delete(c.p, s));
	ck_assert_int_ne(access(img, F_OK), 0);
	cp_block_reader *r = NULL;
	ck_assert_int_eq(cp_snapshot_open(&r, c.p, s), CP_ENOTFOUND);
	ck_assert(lf_error_mentions(s));
	ck_assert_int_eq(cp_snapshot_get(c.p, s, lf_collect_snapshot, NULL), CP_ENOTFOUND);
	ck_assert_int_eq(cp_snapshot_delete(c.p, s), CP_ENOTFOUND);
	lf_snaps got = {0};
	tu_ok(cp_snapshot_list(c.p, NULL, lf_collect_snapshot, &got));
	ck_assert_uint_eq(got.count, 0);
	/* A reader opened before the delete keeps working. */
	char buf[512];
	tu_ok(cp_block_reader_read(kept, 0, buf, sizeof(buf)));
	cp_block_reader_free(kept);
	free(img);
	free(s);
	free(d);
	lf_close(&c);
}
END_TEST

START_TEST(snapshot_copy_to_another_region)
{
	lf_cloud c;
	lf_open(&c, NULL);
	char *d = lf_disk(&c, 4 * MIB, NULL);
	write_random(&c, d, 1000, 300000, 8, NULL);
	char *s = lf_snapshot(&c, d);
	lf_snaps got = {0};
	tu_ok(cp_snapshot_copy(c.p, s, "local-2", lf_collect_snapshot, &got));
	ck_assert_uint_eq(got.count, 1);
	lf_snap *copy = &got.items[0];
	ck_assert_str_ne(copy->id, s);
	ck_assert_str_eq(copy->region, "local-2");
	ck_assert_str_eq(copy->resource_id, d);
	uint64_t n1 = 0, n2 = 0;
	unsigned char *a = lf_read_snapshot(&c, s, &n1), *b = lf_read_snapshot(&c, copy->id, &n2);
	ck_assert_uint_eq(n1, n2);
	ck_assert_int_eq(memcmp(a, b, n1), 0);
	free(a);
	free(b);
	lf_ranges r = {0};
	tu_ok(cp_snapshot_changed_blocks(c.p, s, copy->id, lf_collect_ranges, &r));
	ck_assert_uint_eq(r.count, 0);
	lf_snaps listed = {0};
	tu_ok(cp_snapshot_list(c.p, d, lf_collect_snapshot, &listed));
	ck_assert_uint_eq(listed.count, 2);
	lf_snaps_dispose(&listed);
	ck_assert_int_eq(cp_snapshot_copy(c.p, s, "a/b", lf_collect_snapshot, &got), CP_EINVALID);
	ck_assert_int_eq(cp_snapshot_copy(c.p, "snap-00000000000000ab", "local-2",
					  lf_collect_snapshot, &got),
			 CP_ENOTFOUND);
	lf_snaps_dispose(&got);
	free(s);
	free(d);
	lf_close(&c);
}
END_TEST

/*
 * Another process writes while this one snapshots: every snapshot must be
 * a consistent point in time, so any block whose bytes differ between two
 * consecutive snapshots is among the reported changed blocks.
 */
START_TEST(concurrent_writer_and_snapshots_stay_consistent)
{
	lf_cloud c;
	lf_open(&c, NULL);
	const uint64_t nblocks = 16;
	char *d = lf_disk(&c, nblocks * BLOCK, NULL);
	fflush(NULL);
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		cp_provider *p = lf_open_again(&c);
		unsigned char *buf = malloc(BLOCK);
		int bad = 0;
		for (uint64_t i = 0; i < 40 && !bad; i++) {
			tu_fill_random(buf, BLOCK, i + 100);
			uint64_t b = (i * 7) % nblocks;
			bad = cp_local_disk_write(p, d, b * BLOCK + 100, buf, BLOCK - 200) != 0;
		}
		_exit(bad);
	}
	char *snaps[8];
	for (int i = 0; i < 8; i++)
		snaps[i] = lf_snapshot(&c, d);
	int status = 0;
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	uint64_t n = 0;
	unsigned char *prev = lf_read_snapshot(&c, snaps[0], &n);
	unsigned char reported[16];
	for (int i = 1; i < 8; i++) {
		unsigned char *cur = lf_read_snapshot(&c, snaps[i], &n);
		lf_ranges r = {0};
		tu_ok(cp_snapshot_changed_blocks(c.p, snaps[i - 1], snaps[i], lf_collect_ranges,
						 &r));
		ranges_to_blocks(&r, nblocks * BLOCK, reported, nblocks);
		for (uint64_t b = 0; b < nblocks; b++)
			if (memcmp(prev + b * BLOCK, cur + b * BLOCK, BLOCK))
				ck_assert_msg(reported[b], "block %llu changed unreported",
					      (unsigned long long)b);
		lf_ranges_dispose(&r);
		free(prev);
		prev = cur;
	}
	free(prev);
	for (int i = 0; i < 8; i++)
		free(snaps[i]);
	free(d);
	lf_close(&c);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("local snapshots");
	TCase *tc = tcase_create("local");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, disk_snapshot_is_identical_sparse_and_point_in_time);
	tcase_add_test(tc, every_copy_mode_gives_identical_sparse_files);
	tcase_add_test(tc, instance_snapshot_is_one_group);
	tcase_add_test(tc, snapshot_of_missing_things_fails_clearly);
	tcase_add_test(tc, cancelled_snapshot_leaves_nothing);
	tcase_add_test(tc, changed_blocks_match_a_model);
	tcase_add_test(tc, changed_blocks_need_one_disk_and_come_in_pages);
	tcase_add_test(tc, writes_outside_the_provider_invalidate_tracking);
	tcase_add_test(tc, fingerprint_notices_an_immediate_direct_write);
	tcase_add_test(tc, deleted_snapshot_is_gone);
	tcase_add_test(tc, snapshot_copy_to_another_region);
	tcase_add_test(tc, concurrent_writer_and_snapshots_stay_consistent);
	suite_add_tcase(s, tc);
	return tu_run(s);
}
