/* Local provider: new disks as restore targets (cp_disk_create). */
#include "local_fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
	char parent[32];
	uint64_t size;
	int found;
} disk_probe;

static int probe_disk(const cp_resource *r, void *payload)
{
	disk_probe *p = payload;
	p->found++;
	p->size = r->size;
	snprintf(p->parent, sizeof(p->parent), "%s", r->parent_id ? r->parent_id : "");
	return 0;
}

static int count_disks(lf_cloud *c)
{
	cp_inventory_filter f = CP_INVENTORY_FILTER_INIT;
	f.kind = CP_RESOURCE_DISK;
	disk_probe p = {0};
	tu_ok(cp_provider_inventory(c->p, &f, probe_disk, &p));
	return p.found;
}

static char *disks_dir(lf_cloud *c)
{
	char *dir = NULL;
	ck_assert_int_ge(asprintf(&dir, "%s/disks", c->root), 0);
	return dir;
}

START_TEST(committed_disk_appears_with_its_data)
{
	lf_cloud c;
	lf_open(&c, NULL);
	char *vm = lf_instance(&c, "target");
	cp_disk_create_options o = CP_DISK_CREATE_OPTIONS_INIT;
	o.name = "restored";
	o.size = 3 * MIB + 512;
	o.attach_to = vm;
	cp_block_writer *w = NULL;
	tu_ok(cp_disk_create(&w, c.p, &o));
	ck_assert_uint_eq(cp_block_writer_size(w), 3 * MIB + 512);
	ck_assert_uint_eq(cp_block_writer_flags(w), 0);
	/* Not visible until committed. */
	ck_assert_int_eq(count_disks(&c), 0);

	unsigned char *model = calloc(1, o.size);
	tu_fill_random(model + BLOCK, BLOCK, 5);
	tu_fill_random(model + 3 * MIB, 512, 6);
	tu_ok(cp_block_writer_write(w, BLOCK, model + BLOCK, BLOCK));
	tu_ok(cp_block_writer_write(w, 3 * MIB, model + 3 * MIB, 512));
	ck_assert_int_eq(cp_block_writer_write(w, 3 * MIB, model, 1024), CP_EINVALID);
	char *id = NULL;
	tu_ok(cp_block_writer_commit(w, &id));
	ck_assert_int_eq(cp_block_writer_write(w, 0, model, 512), CP_EINVALID);
	cp_block_writer_free(w);
	ck_assert_ptr_nonnull(id);
	ck_assert_int_eq(strncmp(id, "vol-", 4), 0);

	const char *ids[] = {id, NULL};
	cp_inventory_filter f = CP_INVENTORY_FILTER_INIT;
	f.ids = ids;
	disk_probe p = {0};
	tu_ok(cp_provider_inventory(c.p, &f, probe_disk, &p));
	ck_assert_int_eq(p.found, 1);
	ck_assert_str_eq(p.parent, vm);
	ck_assert_uint_eq(p.size, o.size);

	char *path = NULL;
	tu_ok(cp_local_disk_path(&path, c.p, id));
	uint64_t n = 0;
	unsigned char *img = lf_read_file(path, &n);
	ck_assert_uint_eq(n, o.size);
	ck_assert_int_eq(memcmp(img, model, n), 0);

	/* The new disk is an ordinary disk: tracked writes and snapshots work. */
	char *s1 = lf_snapshot(&c, id);
	tu_ok(cp_local_disk_write(c.p, id, 0, "x", 1));
	char *s2 = lf_snapshot(&c, id);
	lf_ranges r = {0};
	tu_ok(cp_snapshot_changed_blocks(c.p, s1, s2, lf_collect_ranges, &r));
	ck_assert_uint_eq(r.count, 1);
	ck_assert_uint_eq(r.ranges[0].offset, 0);
	lf_ranges_dispose(&r);
	free(s1);
	free(s2);
	free(img);
	cp_free(path);
	cp_free(id);
	free(model);
	free(vm);
	lf_close(&c);
}
END_TEST

START_TEST(uncommitted_disk_leaves_nothing)
{
	lf_cloud c;
	lf_open(&c, NULL);
	char *dir = disks_dir(&c);
	cp_disk_create_options o = CP_DISK_CREATE_OPTIONS_INIT;
	o.size = 2 * MIB;
	cp_block_writer *w = NULL;
	tu_ok(cp_disk_create(&w, c.p, &o));
	ck_assert_int_gt(lf_count_files(dir), 0);
	tu_ok(cp_block_writer_write(w, 0, "data", 4));
	cp_block_writer_free(w);
	ck_assert_int_eq(lf_count_files(dir), 0);
	ck_assert_int_eq(count_disks(&c), 0);
	free(dir);
	lf_close(&c);
}
END_TEST

START_TEST(attach_to_a_missing_instance_fails)
{
	lf_cloud c;
	lf_open(&c, NULL);
	char *dir = disks_dir(&c);
	cp_disk_create_options o = CP_DISK_CREATE_OPTIONS_INIT;
	o.size = MIB;
	o.attach_to = "i-00000000000000aa";
	cp_block_writer *w = NULL;
	ck_assert_int_eq(cp_disk_create(&w, c.p, &o), CP_ENOTFOUND);
	ck_assert(lf_error_mentions("i-00000000000000aa"));
	ck_assert_ptr_null(w);

	/* The instance vanishing during the restore fails the commit, cleanly. */
	char *vm = lf_instance(&c, "short-lived");
	o.attach_to = vm;
	tu_ok(cp_disk_create(&w, c.p, &o));
	tu_ok(cp_local_instance_delete(c.p, vm));
	char *id = NULL;
	ck_assert_int_eq(cp_block_writer_commit(w, &id), CP_ENOTFOUND);
	cp_block_writer_free(w);
	ck_assert_int_eq(lf_count_files(dir), 0);
	free(vm);
	free(dir);
	lf_close(&c);
}
END_TEST

START_TEST(garbage_mode_demands_zeros)
{
	lf_cloud c;
	lf_open(&c, "\"unwritten_blocks\": \"garbage\"");
	cp_disk_create_options o = CP_DISK_CREATE_OPTIONS_INIT;
	o.size = 2 * MIB;
	cp_block_writer *w = NULL;
	tu_ok(cp_disk_create(&w, c.p, &o));
	ck_assert_uint_eq(cp_block_writer_flags(w) & CP_BLOCK_WRITER_MUST_WRITE_ZEROS,
			  CP_BLOCK_WRITER_MUST_WRITE_ZEROS);
	unsigned char *zeros = calloc(1, BLOCK);
	tu_ok(cp_block_writer_write(w, 0, zeros, BLOCK));
	char *id = NULL;
	tu_ok(cp_block_writer_commit(w, &id));
	cp_block_writer_free(w);

	char *path = NULL;
	tu_ok(cp_local_disk_path(&path, c.p, id));
	uint64_t n = 0;
	unsigned char *img = lf_read_file(path, &n);
	ck_assert_uint_eq(n, 2 * MIB);
	/* What was written reads back; what was not is not zeros. */
	ck_assert_int_eq(memcmp(img, zeros, BLOCK), 0);
	size_t nonzero = 0;
	for (uint64_t i = BLOCK; i < n; i++)
		nonzero += img[i] != 0;
	ck_assert_uint_gt(nonzero, (n - BLOCK) / 2);
	free(img);
	cp_free(path);
	cp_free(id);
	free(zeros);
	lf_close(&c);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("local restore targets");
	TCase *tc = tcase_create("local");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, committed_disk_appears_with_its_data);
	tcase_add_test(tc, uncommitted_disk_leaves_nothing);
	tcase_add_test(tc, attach_to_a_missing_instance_fails);
	tcase_add_test(tc, garbage_mode_demands_zeros);
	suite_add_tcase(s, tc);
	return tu_run(s);
}
