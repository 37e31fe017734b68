#include "local_fixture.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char *config_for(const char *root, const char *extra)
{
	char *cfg = NULL;
	ck_assert_int_ge(asprintf(&cfg, "{\"root\": \"%s\"%s%s}", root, extra ? ", " : "",
				  extra ? extra : ""),
			 0);
	return cfg;
}

void lf_open(lf_cloud *c, const char *extra_config)
{
	memset(c, 0, sizeof(*c));
	c->dir = tu_tempdir("local");
	ck_assert_int_ge(asprintf(&c->root, "%s/cloud", c->dir), 0);
	tu_ok(cp_ctx_new(&c->ctx, NULL));
	char *cfg = config_for(c->root, extra_config);
	tu_ok(cp_provider_open(&c->p, c->ctx, "local", cfg));
	free(cfg);
	tu_ok(cp_local_init(c->p));
}

cp_provider *lf_open_again(lf_cloud *c)
{
	cp_provider *p = NULL;
	char *cfg = config_for(c->root, NULL);
	tu_ok(cp_provider_open(&p, c->ctx, "local", cfg));
	free(cfg);
	return p;
}

void lf_close(lf_cloud *c)
{
	cp_provider_free(c->p);
	cp_ctx_free(c->ctx);
	tu_rmtree(c->dir);
	free(c->dir);
	free(c->root);
}

char *lf_instance(lf_cloud *c, const char *name)
{
	char *id = NULL;
	tu_ok(cp_local_instance_create(&id, c->p, name, NULL, 0));
	return id;
}

char *lf_disk(lf_cloud *c, uint64_t size, const char *instance)
{
	cp_local_disk_options o = CP_LOCAL_DISK_OPTIONS_INIT;
	o.size = size;
	o.attach_to = instance;
	char *id = NULL;
	tu_ok(cp_local_disk_create(&id, c->p, &o));
	return id;
}

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

int lf_collect_snapshot(const cp_snapshot *s, void *payload)
{
	lf_snaps *all = payload;
	ck_assert_uint_lt(all->count, 64);
	lf_snap *d = &all->items[all->count++];
	d->id = strdup(s->id);
	d->resource_id = dup_or_null(s->resource_id);
	d->instance_id = dup_or_null(s->instance_id);
	d->group_id = dup_or_null(s->group_id);
	d->region = dup_or_null(s->region);
	d->size = s->size;
	d->block_size = s->block_size;
	d->state = s->state;
	d->ntags = s->ntags;
	return 0;
}

void lf_snaps_dispose(lf_snaps *s)
{
	for (size_t i = 0; i < s->count; i++) {
		free(s->items[i].id);
		free(s->items[i].resource_id);
		free(s->items[i].instance_id);
		free(s->items[i].group_id);
		free(s->items[i].region);
	}
	s->count = 0;
}

char *lf_snapshot(lf_cloud *c, const char *resource_id)
{
	lf_snaps got = {0};
	tu_ok(cp_snapshot_create(c->p, resource_id, NULL, lf_collect_snapshot, &got));
	ck_assert_uint_eq(got.count, 1);
	char *id = strdup(got.items[0].id);
	lf_snaps_dispose(&got);
	return id;
}

unsigned char *lf_read_snapshot(lf_cloud *c, const char *snapshot_id, uint64_t *size)
{
	cp_block_reader *r = NULL;
	tu_ok(cp_snapshot_open(&r, c->p, snapshot_id));
	*size = cp_block_reader_size(r);
	unsigned char *buf = malloc(*size ? *size : 1);
	ck_assert_ptr_nonnull(buf);
	tu_ok(cp_block_reader_read(r, 0, buf, *size));
	cp_block_reader_free(r);
	return buf;
}

unsigned char *lf_read_file(const char *path, uint64_t *size)
{
	int fd = open(path, O_RDONLY);
	ck_assert_int_ge(fd, 0);
	struct stat st;
	ck_assert_int_eq(fstat(fd, &st), 0);
	*size = (uint64_t)st.st_size;
	unsigned char *buf = malloc(*size + 1); /* NUL-terminated, for text files */
	ck_assert_ptr_nonnull(buf);
	ck_assert_int_eq(pread(fd, buf, *size, 0), (ssize_t)*size);
	buf[*size] = '\0';
	close(fd);
	return buf;
}

int lf_collect_ranges(const cp_block_range *ranges, size_t count, void *payload)
{
	lf_ranges *r = payload;
	ck_assert_uint_gt(count, 0);
	r->pages++;
	if (count > r->largest_page)
		r->largest_page = count;
	if (r->count + count > r->cap) {
		r->cap = (r->count + count) * 2;
		r->ranges = realloc(r->ranges, r->cap * sizeof(*r->ranges));
		ck_assert_ptr_nonnull(r->ranges);
	}
	memcpy(r->ranges + r->count, ranges, count * sizeof(*ranges));
	r->count += count;
	return 0;
}

void lf_ranges_dispose(lf_ranges *r)
{
	free(r->ranges);
	memset(r, 0, sizeof(*r));
}

int lf_error_mentions(const char *needle)
{
	const cp_error *e = cp_error_last();
	return e && strstr(e->message, needle) != NULL;
}

int lf_count_files(const char *dir)
{
	DIR *d = opendir(dir);
	ck_assert_ptr_nonnull(d);
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)))
		n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
	closedir(d);
	return n;
}
