/* Incremental backups: changed ranges, dedup of rewritten blocks, size changes, provider snapshots. */
#include "fmtutil.h"

#include "cloudprotect/sys/provider.h"
#include "error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CS (16u * 1024)

/* Bytes of the chunks the ranges touch (within size). */
static uint64_t touched_bytes(const cp_block_range *r, size_t n, uint64_t size)
{
	uint64_t nchunks = size / CS + (size % CS != 0), total = 0;
	char *t = calloc(nchunks + 1, 1);
	for (size_t i = 0; i < n; i++) {
		if (!r[i].length || r[i].offset >= size)
			continue;
		uint64_t end = r[i].offset + r[i].length > size ? size : r[i].offset + r[i].length;
		for (uint64_t c = r[i].offset / CS; c <= (end - 1) / CS; c++)
			t[c] = 1;
	}
	for (uint64_t c = 0; c < nchunks; c++)
		if (t[c])
			total += (c + 1) * CS > size ? size - c * CS : CS;
	free(t);
	return total;
}

START_TEST(incremental_reads_and_stores_only_changed_chunks)
{
	ft_env e;
	ft_setup(&e, "incr", CS, 256 * 1024);
	const uint64_t size = (8u << 20) + 1234;
	const char *img = ft_path(&e, "disk.img");
	uint64_t data[] = {0, size};
	tu_write_sparse(img, size, data, 1, 11);
	cp_backup_stats st;
	char *full = ft_backup_file(e.repo, img, "disk", NULL, NULL, 0, &st);
	ck_assert_uint_eq(st.read_bytes, size);

	/* Unaligned, unsorted, overlapping writes, one past the end. */
	cp_block_range ch[] = {
		{5 * CS + 100, 3 * CS},	  {1000, 10},
		{(4u << 20) + 7, 200000}, {5 * CS + 200, 50},
		{(4u << 20) + 9, 100},	  {size - 10, 10},
		{(6u << 20) + 1, 150001},
	};
	size_t n = sizeof(ch) / sizeof(ch[0]);
	uint64_t written = 0;
	for (size_t i = 0; i < n; i++) {
		ft_write_random(img, ch[i].offset, ch[i].length, 100 + i);
		written += ch[i].length;
	}
	cp_block_range past = {size + 5 * CS, CS}; /* ignored: beyond the disk */
	cp_block_range all[sizeof(ch) / sizeof(ch[0]) + 1];
	memcpy(all, ch, sizeof(ch));
	all[n] = past;
	uint64_t touched = touched_bytes(ch, n, size);
	char *incr = ft_backup_file(e.repo, img, "disk", full, all, n + 1, &st);
	ck_assert_uint_eq(st.read_bytes, touched);
	ck_assert_uint_le(st.new_stored_bytes, touched * 12 / 10);
	ck_assert_uint_le(st.new_raw_bytes, touched);
	ck_assert_uint_eq(st.data_bytes, size);
	const char *out = ft_path(&e, "out.img");
	tu_ok(ft_restore_file(e.repo, incr, out, size));
	ck_assert(tu_files_equal(img, out));
	/* Large writes: what is stored stays close to what was written. */
	ck_assert_uint_le(touched, written + 8 * CS);

	/* The full backup still restores the old image. */
	tu_ok(ft_restore_file(e.repo, full, out, size));
	ck_assert(!tu_files_equal(img, out));
	cp_backup_list l;
	tu_ok(cp_backup_list_get(&l, e.repo));
	ck_assert_uint_eq(l.count, 2);
	ck_assert_str_eq(l.items[1].parent_id, full);
	cp_backup_list_dispose(&l);
	free(full);
	free(incr);
	ft_teardown(&e);
}
END_TEST

START_TEST(rewritten_identical_blocks_store_nothing)
{
	ft_env e;
	ft_setup(&e, "same", CS, 256 * 1024);
	const uint64_t size = 2u << 20;
	const char *img = ft_path(&e, "disk.img");
	uint64_t data[] = {0, size};
	tu_write_sparse(img, size, data, 1, 3);
	char *full = ft_backup_file(e.repo, img, "disk", NULL, NULL, 0, NULL);
	/* The "changed" blocks were rewritten with the same bytes. */
	cp_block_range ch[] = {{0, 10 * CS}, {1u << 20, 7 * CS + 3}};
	cp_backup_stats st;
	char *incr = ft_backup_file(e.repo, img, "disk", full, ch, 2, &st);
	ck_assert_uint_eq(st.read_bytes, 18 * CS);
	ck_assert_uint_eq(st.new_chunks, 0);
	ck_assert_uint_eq(st.new_stored_bytes, 0);
	/* Without changed ranges everything is read, nothing stored. */
	char *again = ft_backup_file(e.repo, img, "disk", incr, NULL, 0, &st);
	ck_assert_uint_eq(st.read_bytes, size);
	ck_assert_uint_eq(st.new_stored_bytes, 0);
	tu_ok(ft_restore_file(e.repo, again, ft_path(&e, "o.img"), size));
	ck_assert(tu_files_equal(img, ft_path(&e, "o.img")));
	free(full);
	free(incr);
	free(again);
	ft_teardown(&e);
}
END_TEST

START_TEST(incremental_across_a_size_change)
{
	ft_env e;
	ft_setup(&e, "resize", CS, 256 * 1024);
	const char *img = ft_path(&e, "disk.img");
	const char *out = ft_path(&e, "out.img");
	uint64_t small = 10 * CS + 500, big = 20 * CS + 77;
	uint64_t d1[] = {0, small};
	tu_write_sparse(img, small, d1, 1, 21);
	char *a = ft_backup_file(e.repo, img, "disk", NULL, NULL, 0, NULL);
	/* Grow: the old partial chunk and everything past it must be read. */
	ck_assert_int_eq(truncate(img, (off_t)big), 0);
	ft_write_random(img, 15 * CS, 1000, 5);
	cp_block_range none[] = {{0, 0}};
	cp_backup_stats st;
	char *b = ft_backup_file(e.repo, img, "disk", a, none, 1, &st);
	tu_ok(ft_restore_file(e.repo, b, out, big));
	ck_assert(tu_files_equal(img, out));
	/* Shrink to a size that cuts a chunk. */
	uint64_t shrunk = 7 * CS + 1;
	ck_assert_int_eq(truncate(img, (off_t)shrunk), 0);
	char *c = ft_backup_file(e.repo, img, "disk", b, none, 1, &st);
	tu_ok(ft_restore_file(e.repo, c, out, shrunk));
	ck_assert(tu_files_equal(img, out));
	ck_assert_uint_le(st.read_bytes, CS);
	free(a);
	free(b);
	free(c);
	ft_teardown(&e);
}
END_TEST

/* ---- a provider whose snapshots are files, with scripted changed-block answers ---- */

typedef struct {
	char dir[512];
	int cbt_rc; /* 0: answer with the ranges below; else fail with this */
	cp_block_range ranges[8];
	size_t nranges;
	int cbt_calls;
} fake_cloud;

static fake_cloud cloud;

static int fake_open(void **state, cp_ctx *ctx, const char *cfg)
{
	*state = &cloud;
	return 0;
}

static int fake_get(void *state, const char *id, cp_snapshot_cb cb, void *payload)
{
	cp_snapshot s;
	memset(&s, 0, sizeof(s));
	s.id = id;
	s.resource_id = "vol-fake";
	s.instance_id = "i-fake";
	s.group_id = "grp-1";
	s.state = CP_SNAPSHOT_COMPLETED;
	return cb(&s, payload);
}

static int fake_open_snap(void *state, const char *id, cp_block_reader **out)
{
	char path[700];
	snprintf(path, sizeof(path), "%s/%s", cloud.dir, id);
	return cp_block_reader_open_file(out, path);
}

static int fake_changed(void *state, const char *base, const char *snap, cp_block_range_cb cb,
			void *payload)
{
	cloud.cbt_calls++;
	if (cloud.cbt_rc)
		return cp_error_set(cloud.cbt_rc, CP_ERRCLASS_PROVIDER, "tracking lost for %s",
				    base);
	return cb(cloud.ranges, cloud.nranges, payload);
}

static const cp_provider_ops fake_ops = {
	.version = CP_PROVIDER_OPS_VERSION,
	.name = "fakecbt",
	.description = "snapshots in files",
	.open = fake_open,
	.snapshot_get = fake_get,
	.snapshot_open = fake_open_snap,
	.snapshot_changed_blocks = fake_changed,
};

static void copy_file(const char *from, const char *to)
{
	char cmd[2048];
	snprintf(cmd, sizeof(cmd), "cp --sparse=always '%s' '%s'", from, to);
	ck_assert_int_eq(system(cmd), 0);
}

START_TEST(snapshot_backups_use_changed_blocks_and_fall_back)
{
	ft_env e;
	ft_setup(&e, "snap", CS, 256 * 1024);
	snprintf(cloud.dir, sizeof(cloud.dir), "%s", e.dir);
	static int registered;
	if (!registered++)
		tu_ok(cp_provider_register(&fake_ops));
	cp_provider *p = NULL;
	tu_ok(cp_provider_open(&p, e.ctx, "fakecbt", NULL));
	const uint64_t size = 4u << 20;
	const char *disk = ft_path(&e, "disk.img");
	uint64_t d[] = {0, 3u << 20};
	tu_write_sparse(disk, size, d, 1, 8);
	copy_file(disk, ft_path(&e, "snap-1"));

	cp_backup_stats st;
	char *b1 = NULL, *b2 = NULL, *b3 = NULL;
	tu_ok(cp_backup_snapshot(&b1, &st, e.repo, p, "snap-1", NULL));
	ck_assert_int_eq(cloud.cbt_calls, 0); /* no parent yet */
	ck_assert_uint_eq(st.read_bytes, 3u << 20);

	ft_write_random(disk, 100, 5000, 1);
	ft_write_random(disk, 2u << 20, 3 * CS, 2);
	copy_file(disk, ft_path(&e, "snap-2"));
	cloud.ranges[0] = (cp_block_range){0, CS};
	cloud.ranges[1] = (cp_block_range){2u << 20, 3 * CS};
	cloud.nranges = 2;
	tu_ok(cp_backup_snapshot(&b2, &st, e.repo, p, "snap-2", NULL));
	ck_assert_int_eq(cloud.cbt_calls, 1);
	ck_assert_uint_eq(st.read_bytes, 4 * CS);
	tu_ok(ft_restore_file(e.repo, b2, ft_path(&e, "r2.img"), size));
	ck_assert(tu_files_equal(disk, ft_path(&e, "r2.img")));

	cp_backup_list l;
	tu_ok(cp_backup_list_get(&l, e.repo));
	ck_assert_uint_eq(l.count, 2);
	ck_assert_str_eq(l.items[1].parent_id, b1);
	ck_assert_str_eq(l.items[1].source, "vol-fake");
	ck_assert_str_eq(l.items[1].provider, "fakecbt");
	ck_assert_str_eq(l.items[1].snapshot_id, "snap-2");
	ck_assert_str_eq(l.items[1].instance_id, "i-fake");
	ck_assert_str_eq(l.items[1].group_id, "grp-1");
	cp_backup_list_dispose(&l);

	/* Tracking lost: everything is read, little is stored. */
	ft_write_random(disk, 1u << 20, 100, 3);
	copy_file(disk, ft_path(&e, "snap-3"));
	cloud.cbt_rc = CP_EUNSUPPORTED;
	tu_ok(cp_backup_snapshot(&b3, &st, e.repo, p, "snap-3", NULL));
	ck_assert_int_eq(cloud.cbt_calls, 2);
	ck_assert_uint_eq(st.read_bytes, 3u << 20);
	ck_assert_uint_le(st.new_stored_bytes, 2 * CS);
	tu_ok(ft_restore_file(e.repo, b3, ft_path(&e, "r3.img"), size));
	ck_assert(tu_files_equal(disk, ft_path(&e, "r3.img")));

	/* Other failures are not hidden. */
	cloud.cbt_rc = CP_EAUTH;
	char *b4 = NULL;
	ck_assert_int_eq(cp_backup_snapshot(&b4, &st, e.repo, p, "snap-3", NULL), CP_EAUTH);
	ck_assert_ptr_null(b4);
	cloud.cbt_rc = 0;
	cp_provider_free(p);
	free(b1);
	free(b2);
	free(b3);
	ft_teardown(&e);
}
END_TEST

static int take_snapshot_id(const cp_snapshot *s, void *payload)
{
	char **out = payload;
	free(*out);
	*out = strdup(s->id);
	return 0;
}

START_TEST(local_provider_incremental_reads_only_written_blocks)
{
	ft_env e;
	ft_setup(&e, "local", CS, 256 * 1024);
	char cfg[700];
	snprintf(cfg, sizeof(cfg), "{\"root\": \"%s/cloud\"}", e.dir);
	cp_provider *p = NULL;
	tu_ok(cp_provider_open(&p, e.ctx, "local", cfg));
	tu_ok(cp_local_init(p));
	const uint64_t size = 6u << 20;
	const char *base = ft_path(&e, "base.img");
	uint64_t d[] = {0, 3u << 20};
	tu_write_sparse(base, size, d, 1, 4);
	cp_local_disk_options dopt = CP_LOCAL_DISK_OPTIONS_INIT;
	dopt.name = "data";
	dopt.from_image = base;
	char *disk = NULL, *s1 = NULL, *s2 = NULL, *b1 = NULL, *b2 = NULL, *path = NULL;
	tu_ok(cp_local_disk_create(&disk, p, &dopt));
	cp_snapshot_create_options so = CP_SNAPSHOT_CREATE_OPTIONS_INIT;
	tu_ok(cp_snapshot_create(p, disk, &so, take_snapshot_id, &s1));
	cp_backup_stats st;
	tu_ok(cp_backup_snapshot(&b1, &st, e.repo, p, s1, NULL));
	ck_assert_uint_le(st.read_bytes, 3u << 20);

	static char buf[70000];
	tu_fill_random(buf, sizeof(buf), 99);
	tu_ok(cp_local_disk_write(p, disk, (4u << 20) + 3, buf, sizeof(buf)));
	tu_ok(cp_snapshot_create(p, disk, &so, take_snapshot_id, &s2));
	tu_ok(cp_backup_snapshot(&b2, &st, e.repo, p, s2, NULL));
	/* The provider tracks 512 KiB blocks: at most two of them are read. */
	ck_assert_uint_le(st.read_bytes, 1u << 20);
	ck_assert_uint_ge(st.read_bytes, sizeof(buf));
	ck_assert_uint_le(st.new_stored_bytes, (sizeof(buf) + 2 * CS) * 12 / 10);

	tu_ok(cp_local_disk_path(&path, p, disk));
	tu_ok(ft_restore_file(e.repo, b2, ft_path(&e, "r.img"), size));
	ck_assert(tu_files_equal(path, ft_path(&e, "r.img")));
	char *latest = NULL;
	tu_ok(cp_backup_resolve(&latest, e.repo, "latest", disk));
	ck_assert_str_eq(latest, b2);
	cp_provider_free(p);
	free(disk);
	free(s1);
	free(s2);
	free(b1);
	free(b2);
	free(path);
	free(latest);
	ft_teardown(&e);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("format-incremental");
	TCase *tc = tcase_create("incremental");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, incremental_reads_and_stores_only_changed_chunks);
	tcase_add_test(tc, rewritten_identical_blocks_store_nothing);
	tcase_add_test(tc, incremental_across_a_size_change);
	tcase_add_test(tc, snapshot_backups_use_changed_blocks_and_fall_back);
	tcase_add_test(tc, local_provider_incremental_reads_only_written_blocks);
	suite_add_tcase(s, tc);
	return tu_run(s);
}
