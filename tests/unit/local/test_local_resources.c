/* Local provider: config, layout, instances, disks, tracked writes, inventory, tags. */
#include "local_fixture.h"
#include "registry.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static int open_with(const char *config)
{
	cp_ctx *ctx = NULL;
	cp_provider *p = NULL;
	tu_ok(cp_ctx_new(&ctx, NULL));
	int rc = cp_provider_open(&p, ctx, "local", config);
	cp_provider_free(p);
	cp_ctx_free(ctx);
	return rc;
}

START_TEST(config_rejects_bad_input)
{
	static const struct {
		const char *config, *mention;
	} bad[] = {
		{NULL, "root"},
		{"", "root"},
		{"{\"root\": ", "JSON"},
		{"[\"/tmp\"]", "object"},
		{"{}", "root"},
		{"{\"root\": \"relative/dir\"}", "absolute"},
		{"{\"root\": 42}", "root"},
		{"{\"root\": \"/tmp/x\", \"rooot\": 1}", "rooot"},
		{"{\"root\": \"/tmp/x\", \"unwritten_blocks\": \"maybe\"}", "unwritten_blocks"},
		{"{\"root\": \"/tmp/x\", \"region\": \"\"}", "region"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_int_eq(open_with(bad[i].config), CP_EINVALID);
		ck_assert_msg(lf_error_mentions(bad[i].mention), "config %zu: '%s' lacks '%s'", i,
			      tu_last_message(), bad[i].mention);
		ck_assert_msg(lf_error_mentions("example"), "no example in '%s'",
			      tu_last_message());
	}
	tu_ok(open_with("{\"root\": \"/tmp/x\", \"region\": \"eu-1\", \"unwritten_blocks\": "
			"\"garbage\"}"));
}
END_TEST

static int count_resource(const cp_resource *r, void *payload)
{
	(void)r;
	(*(int *)payload)++;
	return 0;
}

START_TEST(uninitialised_root_asks_for_init)
{
	char *dir = tu_tempdir("uninit");
	char cfg[512];
	snprintf(cfg, sizeof(cfg), "{\"root\": \"%s/cloud\"}", dir);
	cp_ctx *ctx = NULL;
	cp_provider *p = NULL;
	tu_ok(cp_ctx_new(&ctx, NULL));
	tu_ok(cp_provider_open(&p, ctx, "local", cfg));
	int n = 0;
	ck_assert_int_eq(cp_provider_inventory(p, NULL, count_resource, &n), CP_ENOTFOUND);
	ck_assert(lf_error_mentions("cloudprotect local init"));
	char *id = NULL;
	ck_assert_int_eq(cp_local_instance_create(&id, p, "x", NULL, 0), CP_ENOTFOUND);
	ck_assert_int_eq(cp_snapshot_list(p, NULL, NULL, NULL), CP_ENOTFOUND);

	/* Initialising twice is harmless and keeps what is there. */
	tu_ok(cp_local_init(p));
	tu_ok(cp_local_instance_create(&id, p, "x", NULL, 0));
	tu_ok(cp_local_init(p));
	tu_ok(cp_provider_inventory(p, NULL, count_resource, &n));
	ck_assert_int_eq(n, 1);
	free(id);
	cp_provider_free(p);

	/* A directory that holds something else is refused, not taken over. */
	char path[600];
	snprintf(path, sizeof(path), "%s/other", dir);
	ck_assert_int_eq(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/other/cloud.json", dir);
	FILE *f = fopen(path, "w");
	fputs("{\"format\": \"something-else\", \"version\": 1}", f);
	fclose(f);
	snprintf(cfg, sizeof(cfg), "{\"root\": \"%s/other\"}", dir);
	tu_ok(cp_provider_open(&p, ctx, "local", cfg));
	ck_assert_int_eq(cp_local_init(p), CP_EINVALID);
	ck_assert_int_eq(cp_provider_inventory(p, NULL, count_resource, &n), CP_EINVALID);
	cp_provider_free(p);
	cp_ctx_free(ctx);
	tu_rmtree(dir);
	free(dir);
}
END_TEST

static int other_open(void **state, cp_ctx *ctx, const char *config_json)
{
	*state = NULL;
	return 0;
}

START_TEST(local_calls_refuse_another_provider)
{
	static const cp_provider_ops other = {
		.version = CP_PROVIDER_OPS_VERSION, .name = "not-local", .open = other_open};
	int rc = cp_provider_register(&other);
	ck_assert(rc == 0 || rc == CP_EEXISTS);
	cp_ctx *ctx = NULL;
	cp_provider *p = NULL;
	tu_ok(cp_ctx_new(&ctx, NULL));
	tu_ok(cp_provider_open(&p, ctx, "not-local", NULL));
	ck_assert_int_eq(cp_local_init(p), CP_EINVALID);
	ck_assert(lf_error_mentions("not-local"));
	char *id = NULL;
	ck_assert_int_eq(cp_local_instance_create(&id, p, "x", NULL, 0), CP_EINVALID);
	cp_provider_free(p);
	cp_ctx_free(ctx);
}
END_TEST

static int is_hex_id(const char *id, const char *prefix)
{
	size_t n = strlen(prefix);
	if (strncmp(id, prefix, n) || strlen(id) != n + 16)
		return 0;
	return strspn(id + n, "0123456789abcdef") == 16;
}

typedef struct {
	char ids[16][32];
	char parents[16][32];
	uint64_t sizes[16];
	int kinds[16];
	int n;
} seen;

static int note_resource(const cp_resource *r, void *payload)
{
	seen *s = payload;
	ck_assert_int_lt(s->n, 16);
	snprintf(s->ids[s->n], 32, "%s", r->id);
	snprintf(s->parents[s->n], 32, "%s", r->parent_id ? r->parent_id : "");
	s->sizes[s->n] = r->size;
	s->kinds[s->n] = r->kind;
	ck_assert_str_eq(r->region, "local-1");
	ck_assert_ptr_nonnull(r->name);
	s->n++;
	return 0;
}

static int find(const seen *s, const char *id)
{
	for (int i = 0; i < s->n; i++)
		if (!strcmp(s->ids[i], id))
			return i;
	return -1;
}

START_TEST(inventory_streams_and_filters)
{
	lf_cloud c;
	lf_open(&c, NULL);
	cp_tag tags[] = {{"env", "prod"}, {"team", "db"}};
	char *vm = NULL;
	tu_ok(cp_local_instance_create(&vm, c.p, "web-1", tags, 2));
	ck_assert(is_hex_id(vm, "i-"));
	char *d1 = lf_disk(&c, 1 * MIB, vm);
	char *d2 = lf_disk(&c, 3 * MIB, vm);
	char *loose = lf_disk(&c, 5 * MIB, NULL);
	ck_assert(is_hex_id(d1, "vol-"));

	seen all = {0};
	tu_ok(cp_provider_inventory(c.p, NULL, note_resource, &all));
	ck_assert_int_eq(all.n, 4);
	int v = find(&all, vm);
	ck_assert_int_ge(v, 0);
	ck_assert_int_eq(all.kinds[v], CP_RESOURCE_VM);
	ck_assert_uint_eq(all.sizes[v], 4 * MIB);
	ck_assert_str_eq(all.parents[find(&all, d1)], vm);
	ck_assert_str_eq(all.parents[find(&all, d2)], vm);
	ck_assert_str_eq(all.parents[find(&all, loose)], "");
	ck_assert_uint_eq(all.sizes[find(&all, loose)], 5 * MIB);

	cp_inventory_filter f = CP_INVENTORY_FILTER_INIT;
	f.kind = CP_RESOURCE_DISK;
	seen disks = {0};
	tu_ok(cp_provider_inventory(c.p, &f, note_resource, &disks));
	ck_assert_int_eq(disks.n, 3);

	cp_inventory_filter by_id = CP_INVENTORY_FILTER_INIT;
	const char *ids[] = {loose, vm, NULL};
	by_id.ids = ids;
	seen picked = {0};
	tu_ok(cp_provider_inventory(c.p, &by_id, note_resource, &picked));
	ck_assert_int_eq(picked.n, 2);

	cp_tag any_env[] = {{"env", NULL}};
	cp_inventory_filter by_tag = CP_INVENTORY_FILTER_INIT;
	by_tag.tags = any_env;
	by_tag.ntags = 1;
	seen tagged = {0};
	tu_ok(cp_provider_inventory(c.p, &by_tag, note_resource, &tagged));
	ck_assert_int_eq(tagged.n, 1);
	ck_assert_str_eq(tagged.ids[0], vm);
	cp_tag wrong_value[] = {{"env", "dev"}};
	by_tag.tags = wrong_value;
	seen none = {0};
	tu_ok(cp_provider_inventory(c.p, &by_tag, note_resource, &none));
	ck_assert_int_eq(none.n, 0);

	const char *regions[] = {"local-2", NULL};
	cp_inventory_filter by_region = CP_INVENTORY_FILTER_INIT;
	by_region.regions = regions;
	tu_ok(cp_provider_inventory(c.p, &by_region, note_resource, &none));
	ck_assert_int_eq(none.n, 0);

	free(vm);
	free(d1);
	free(d2);
	free(loose);
	lf_close(&c);
}
END_TEST

static int stop_at_first(const cp_resource *r, void *payload)
{
	(void)r;
	(*(int *)payload)++;
	return 7;
}

START_TEST(inventory_callback_can_stop)
{
	lf_cloud c;
	lf_open(&c, NULL);
	free(lf_disk(&c, MIB, NULL));
	free(lf_disk(&c, MIB, NULL));
	int calls = 0;
	ck_assert_int_eq(cp_provider_inventory(c.p, NULL, stop_at_first, &calls), 7);
	ck_assert_int_eq(calls, 1);
	lf_close(&c);
}
END_TEST

START_TEST(instance_delete_detaches_disks)
{
	lf_cloud c;
	lf_open(&c, NULL);
	char *vm = lf_instance(&c, "vm");
	char *d = lf_disk(&c, MIB, vm);
	tu_ok(cp_local_instance_delete(c.p, vm));
	seen all = {0};
	tu_ok(cp_provider_inventory(c.p, NULL, note_resource, &all));
	ck_assert_int_eq(all.n, 1);
	ck_assert_str_eq(all.ids[0], d);
	ck_assert_str_eq(all.parents[0], "");
	ck_assert_int_eq(cp_local_instance_delete(c.p, vm), CP_ENOTFOUND);
	ck_assert(lf_error_mentions(vm));
	ck_assert_int_eq(cp_local_instance_delete(c.p, "i-nothex"), CP_EINVALID);
	ck_assert_int_eq(cp_local_instance_delete(c.p, "../../etc"), CP_EINVALID);
	free(vm);
	free(d);
	lf_close(&c);
}
END_TEST

START_TEST(disk_create_rejects_bad_input)
{
	lf_cloud c;
	lf_open(&c, NULL);
	char *id = NULL;
	cp_local_disk_options o = CP_LOCAL_DISK_OPTIONS_INIT;
	ck_assert_int_eq(cp_local_disk_create(&id, c.p, &o), CP_EINVALID);
	ck_assert(lf_error_mentions("size"));
	ck_assert_int_eq(cp_local_disk_create(&id, c.p, NULL), CP_EINVALID);
	o.size = MIB;
	o.attach_to = "i-0123456789abcdef";
	ck_assert_int_eq(cp_local_disk_create(&id, c.p, &o), CP_ENOTFOUND);
	ck_assert(lf_error_mentions("i-0123456789abcdef"));
	o.attach_to = "vol-0123456789abcdef";
	ck_assert_int_eq(cp_local_disk_create(&id, c.p, &o), CP_EINVALID);
	o.attach_to = NULL;
	cp_tag dup[] = {{"a", "1"}, {"a", "2"}};
	o.tags = dup;
	o.ntags = 2;
	ck_assert_int_eq(cp_local_disk_create(&id, c.p, &o), CP_EINVALID);
	o.tags = NULL;
	o.ntags = 0;

	char img[600];
	snprintf(img, sizeof(img), "%s/missing.img", c.dir);
	o.from_image = img;
	ck_assert_int_eq(cp_local_disk_create(&id, c.p, &o), CP_ENOTFOUND);
	uint64_t r[] = {0, 4096};
	tu_write_sparse(img, 2 * MIB, r, 1, 1);
	ck_assert_int_eq(cp_local_disk_create(&id, c.p, &o), CP_EINVALID);
	ck_assert(lf_error_mentions("2097152"));
	ck_assert_ptr_null(id);

	/* Nothing half-made is left behind. */
	int n = 0;
	tu_ok(cp_provider_inventory(c.p, NULL, count_resource, &n));
	ck_assert_int_eq(n, 0);
	lf_close(&c);
}
END_TEST

START_TEST(missing_disk_is_not_found)
{
	lf_cloud c;
	lf_open(&c, NULL);
	const char *ghost = "vol-00000000deadbeef";
	char buf[16] = {0}, *path = NULL;
	ck_assert_int_eq(cp_local_disk_write(c.p, ghost, 0, buf, sizeof(buf)), CP_ENOTFOUND);
	ck_assert(lf_error_mentions(ghost));
	ck_assert_int_eq(cp_local_disk_path(&path, c.p, ghost), CP_ENOTFOUND);
	ck_assert_int_eq(cp_local_disk_delete(c.p, ghost), CP_ENOTFOUND);
	ck_assert_int_eq(cp_local_disk_write(c.p, "vol-xyz", 0, buf, 1), CP_EINVALID);

	char *d = lf_disk(&c, MIB, NULL);
	tu_ok(cp_local_disk_path(&path, c.p, d));
	ck_assert_int_eq(access(path, F_OK), 0);
	tu_ok(cp_local_disk_delete(c.p, d));
	ck_assert_int_ne(access(path, F_OK), 0);
	ck_assert_int_eq(cp_local_disk_write(c.p, d, 0, buf, sizeof(buf)), CP_ENOTFOUND);
	ck_assert_int_eq(cp_local_disk_delete(c.p, d), CP_ENOTFOUND);
	cp_free(path);
	free(d);
	lf_close(&c);
}
END_TEST

START_TEST(import_keeps_bytes_and_holes)
{
	lf_cloud c;
	lf_open(&c, NULL);
	char img[600];
	snprintf(img, sizeof(img), "%s/source.img", c.dir);
	uint64_t r[] = {0, 8192, 40 * MIB + 100, 70000};
	tu_write_sparse(img, 64 * MIB, r, 2, 9);

	cp_local_disk_options o = CP_LOCAL_DISK_OPTIONS_INIT;
	o.from_image = img;
	char *id = NULL, *path = NULL;
	tu_ok(cp_local_disk_create(&id, c.p, &o));
	tu_ok(cp_local_disk_path(&path, c.p, id));
	ck_assert(tu_files_equal(img, path));
	struct stat st;
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_uint_eq((uint64_t)st.st_size, 64 * MIB);
	ck_assert_msg((uint64_t)st.st_blocks * 512 < 2 * MIB, "import is not sparse: %lld blocks",
		      (long long)st.st_blocks);

	/* A bigger size grows the disk with zeros. */
	char *big = NULL, *big_path = NULL;
	o.size = 80 * MIB;
	tu_ok(cp_local_disk_create(&big, c.p, &o));
	tu_ok(cp_local_disk_path(&big_path, c.p, big));
	ck_assert_int_eq(stat(big_path, &st), 0);
	ck_assert_uint_eq((uint64_t)st.st_size, 80 * MIB);
	uint64_t n = 0;
	unsigned char *a = lf_read_file(img, &n), *b = lf_read_file(big_path, &n);
	ck_assert_int_eq(memcmp(a, b, 64 * MIB), 0);
	uint64_t nonzero = 0; /* counted, not asserted per byte: every assert costs a syscall */
	for (uint64_t i = 64 * MIB; i < 80 * MIB; i++)
		nonzero += b[i] != 0;
	ck_assert_uint_eq(nonzero, 0);
	free(a);
	free(b);
	cp_free(path);
	cp_free(big_path);
	free(id);
	free(big);
	lf_close(&c);
}
END_TEST

START_TEST(write_past_end_is_refused)
{
	lf_cloud c;
	lf_open(&c, NULL);
	char *d = lf_disk(&c, MIB, NULL);
	char buf[64] = {1};
	ck_assert_int_eq(cp_local_disk_write(c.p, d, MIB - 10, buf, 20), CP_EINVALID);
	ck_assert_msg(lf_error_mentions("1048576") && lf_error_mentions("1048586") &&
			      lf_error_mentions(d),
		      "unhelpful: %s", tu_last_message());
	ck_assert_int_eq(cp_local_disk_write(c.p, d, UINT64_MAX - 4, buf, 20), CP_EINVALID);
	tu_ok(cp_local_disk_write(c.p, d, MIB - 20, buf, 20));
	tu_ok(cp_local_disk_write(c.p, d, 5, buf, 0));

	char *path = NULL;
	tu_ok(cp_local_disk_path(&path, c.p, d));
	struct stat st;
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_uint_eq((uint64_t)st.st_size, MIB);
	cp_free(path);
	free(d);
	lf_close(&c);
}
END_TEST

/*
 * A full host filesystem: a file size limit makes writes past it fail
 * with EFBIG, as a full disk fails with ENOSPC, without needing a mount.
 * The child reports through its exit status.
 */
enum {
	CHILD_OK = 0,
	CHILD_NOT_ENOSPC = 10,
	CHILD_NO_MESSAGE,
	CHILD_RAISE,
	CHILD_WRONG_BLOCKS
};

static int child_full_fs(lf_cloud *c, const char *disk, const char *base)
{
	signal(SIGXFSZ, SIG_IGN);
	struct rlimit lim;
	getrlimit(RLIMIT_FSIZE, &lim);
	struct rlimit small = {8 * MIB, lim.rlim_max};
	if (setrlimit(RLIMIT_FSIZE, &small))
		return CHILD_RAISE;
	char *buf = calloc(1, 64 * KIB);
	memset(buf, 0xAB, 64 * KIB);
	/* Wholly beyond the limit: nothing lands, nothing is stamped. */
	int rc = cp_local_disk_write(c->p, disk, 32 * MIB, buf, 4096);
	if (rc != CP_ENOSPC)
		return CHILD_NOT_ENOSPC;
	if (!lf_error_mentions("full"))
		return CHILD_NO_MESSAGE;
	/* Across the limit: the part before it lands and only its block is stamped. */
	rc = cp_local_disk_write(c->p, disk, 8 * MIB - 4096, buf, 8192);
	if (rc != CP_ENOSPC)
		return CHILD_NOT_ENOSPC;
	free(buf);
	if (setrlimit(RLIMIT_FSIZE, &lim))
		return CHILD_RAISE;
	lf_snaps got = {0};
	if (cp_snapshot_create(c->p, disk, NULL, lf_collect_snapshot, &got) || got.count != 1)
		return CHILD_WRONG_BLOCKS;
	lf_ranges r = {0};
	if (cp_snapshot_changed_blocks(c->p, base, got.items[0].id, lf_collect_ranges, &r))
		return CHILD_WRONG_BLOCKS;
	if (r.count != 1 || r.ranges[0].offset != 8 * MIB - BLOCK || r.ranges[0].length != BLOCK)
		return CHILD_WRONG_BLOCKS;
	lf_ranges_dispose(&r);
	lf_snaps_dispose(&got);
	return CHILD_OK;
}

START_TEST(full_host_filesystem_is_enospc_and_disk_stays_consistent)
{
	lf_cloud c;
	lf_open(&c, NULL);
	char *d = lf_disk(&c, 64 * MIB, NULL);
	char *base = lf_snapshot(&c, d);
	fflush(NULL);
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		_exit(child_full_fs(&c, d, base));
	int status = 0;
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status), "child died");
	ck_assert_msg(WEXITSTATUS(status) == CHILD_OK, "child failed with %d", WEXITSTATUS(status));

	/* The data that did land is there, the rest is not. */
	char *path = NULL;
	tu_ok(cp_local_disk_path(&path, c.p, d));
	uint64_t n = 0;
	unsigned char *img = lf_read_file(path, &n);
	ck_assert_uint_eq(n, 64 * MIB);
	ck_assert_int_eq(img[8 * MIB - 1], 0xAB);
	ck_assert_int_eq(img[8 * MIB], 0);
	ck_assert_int_eq(img[32 * MIB], 0);
	free(img);
	cp_free(path);
	free(base);
	free(d);
	lf_close(&c);
}
END_TEST

typedef struct {
	size_t ntags;
	char first_key[32], first_value[32];
} tag_probe;

static int probe_tags(const cp_resource *r, void *payload)
{
	tag_probe *t = payload;
	t->ntags = r->ntags;
	if (r->ntags) {
		snprintf(t->first_key, 32, "%s", r->tags[0].key);
		snprintf(t->first_value, 32, "%s", r->tags[0].value);
	}
	return 0;
}

static int probe_snapshot_tags(const cp_snapshot *s, void *payload)
{
	tag_probe *t = payload;
	t->ntags = s->ntags;
	if (s->ntags) {
		snprintf(t->first_key, 32, "%s", s->tags[0].key);
		snprintf(t->first_value, 32, "%s", s->tags[0].value);
	}
	return 0;
}

static tag_probe resource_tags(lf_cloud *c, const char *id)
{
	tag_probe t = {0};
	const char *ids[] = {id, NULL};
	cp_inventory_filter f = CP_INVENTORY_FILTER_INIT;
	f.ids = ids;
	tu_ok(cp_provider_inventory(c->p, &f, probe_tags, &t));
	return t;
}

START_TEST(tags_are_added_overwritten_and_removed_by_key)
{
	lf_cloud c;
	lf_open(&c, NULL);
	cp_tag first[] = {{"a", "1"}, {"b", "2"}};
	char *vm = NULL;
	tu_ok(cp_local_instance_create(&vm, c.p, "vm", first, 2));
	char *d = lf_disk(&c, MIB, vm);
	char *s = lf_snapshot(&c, d);
	/* Set one key: it is added and the others stay. */
	cp_tag second[] = {{"owner", "ops"}};
	tu_ok(cp_provider_tag(c.p, vm, second, 1));
	tu_ok(cp_provider_tag(c.p, d, second, 1));
	tu_ok(cp_provider_tag(c.p, s, second, 1));
	ck_assert_uint_eq(resource_tags(&c, vm).ntags, 3);
	tag_probe t = resource_tags(&c, d);
	ck_assert_uint_eq(t.ntags, 1);
	ck_assert_str_eq(t.first_key, "owner");
	memset(&t, 0, sizeof(t));
	tu_ok(cp_snapshot_get(c.p, s, probe_snapshot_tags, &t));
	ck_assert_uint_eq(t.ntags, 1);
	ck_assert_str_eq(t.first_value, "ops");
	/* Overwrite one: the count stays, the value changes. */
	cp_tag third[] = {{"owner", "sre"}};
	tu_ok(cp_provider_tag(c.p, d, third, 1));
	t = resource_tags(&c, d);
	ck_assert_uint_eq(t.ntags, 1);
	ck_assert_str_eq(t.first_value, "sre");
	/* Remove by key, whatever the value; absent keys are no error. */
	const char *gone[] = {"a", "owner", "never-there"};
	tu_ok(cp_provider_untag(c.p, vm, gone, 3));
	t = resource_tags(&c, vm);
	ck_assert_uint_eq(t.ntags, 1);
	ck_assert_str_eq(t.first_key, "b");
	ck_assert_str_eq(t.first_value, "2");
	tu_ok(cp_provider_untag(c.p, s, gone + 1, 1));
	memset(&t, 0, sizeof(t));
	tu_ok(cp_snapshot_get(c.p, s, probe_snapshot_tags, &t));
	ck_assert_uint_eq(t.ntags, 0);
	tu_ok(cp_provider_tag(c.p, vm, NULL, 0));
	ck_assert_uint_eq(resource_tags(&c, vm).ntags, 1);

	ck_assert_int_eq(cp_provider_tag(c.p, "i-00000000000000ff", second, 1), CP_ENOTFOUND);
	ck_assert_int_eq(cp_provider_untag(c.p, "i-00000000000000ff", gone, 1), CP_ENOTFOUND);
	ck_assert_int_eq(cp_provider_tag(c.p, "nonsense", second, 1), CP_EINVALID);
	cp_tag empty_key[] = {{"", "x"}};
	ck_assert_int_eq(cp_provider_tag(c.p, vm, empty_key, 1), CP_EINVALID);
	const char *empty[] = {""};
	ck_assert_int_eq(cp_provider_untag(c.p, vm, empty, 1), CP_EINVALID);
	ck_assert_int_eq(cp_provider_untag(c.p, vm, NULL, 0), CP_EINVALID);
	free(vm);
	free(d);
	free(s);
	lf_close(&c);
}
END_TEST

/* A backend built against the version-2 table has no untag: refused, not called. */
START_TEST(untag_needs_a_version_3_table)
{
	static cp_provider_ops old;
	old = cp_local_provider_ops;
	old.version = 2;
	old.name = "local-v2";
	old.untag = NULL;
	tu_ok(cp_provider_register(&old));
	lf_cloud c;
	lf_open(&c, NULL);
	cp_provider *p = NULL;
	char cfg[1024];
	snprintf(cfg, sizeof(cfg), "{\"root\": \"%s\"}", c.root);
	tu_ok(cp_provider_open(&p, c.ctx, "local-v2", cfg));
	const char *keys[] = {"a"};
	char *vm = NULL;
	tu_ok(cp_local_instance_create(&vm, c.p, "vm", NULL, 0));
	ck_assert_int_eq(cp_provider_untag(p, vm, keys, 1), CP_EUNSUPPORTED);
	ck_assert_ptr_nonnull(strstr(cp_error_last()->message, "removing tags"));
	cp_tag t[] = {{"a", "1"}};
	tu_ok(cp_provider_tag(p, vm, t, 1));
	free(vm);
	cp_provider_free(p);
	lf_close(&c);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("local resources");
	TCase *tc = tcase_create("local");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, config_rejects_bad_input);
	tcase_add_test(tc, uninitialised_root_asks_for_init);
	tcase_add_test(tc, local_calls_refuse_another_provider);
	tcase_add_test(tc, inventory_streams_and_filters);
	tcase_add_test(tc, inventory_callback_can_stop);
	tcase_add_test(tc, instance_delete_detaches_disks);
	tcase_add_test(tc, disk_create_rejects_bad_input);
	tcase_add_test(tc, missing_disk_is_not_found);
	tcase_add_test(tc, import_keeps_bytes_and_holes);
	tcase_add_test(tc, write_past_end_is_refused);
	tcase_add_test(tc, full_host_filesystem_is_enospc_and_disk_stays_consistent);
	tcase_add_test(tc, tags_are_added_overwritten_and_removed_by_key);
	tcase_add_test(tc, untag_needs_a_version_3_table);
	suite_add_tcase(s, tc);
	return tu_run(s);
}
