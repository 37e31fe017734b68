#include "fmtutil.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void ft_setup(ft_env *e, const char *tag, uint32_t chunk_size, uint32_t pack_size)
{
	memset(e, 0, sizeof(*e));
	e->dir = tu_tempdir(tag);
	snprintf(e->url, sizeof(e->url), "file://%s/repo", e->dir);
	cp_ctx_options o = CP_CTX_OPTIONS_INIT;
	o.threads = 2;
	tu_ok(cp_ctx_new(&e->ctx, &o));
	cp_repository_create_options co = CP_REPOSITORY_CREATE_OPTIONS_INIT;
	co.kdf_n = 16;
	co.chunk_size = chunk_size;
	co.pack_size = pack_size;
	tu_ok(cp_repository_create(&e->repo, e->ctx, e->url, FT_PASSWORD, &co));
}

void ft_teardown(ft_env *e)
{
	cp_repository_close(e->repo);
	cp_ctx_free(e->ctx);
	tu_rmtree(e->dir);
	free(e->dir);
	memset(e, 0, sizeof(*e));
}

const char *ft_path(ft_env *e, const char *name)
{
	static char bufs[8][700];
	static int next;
	char *b = bufs[next++ % 8];
	snprintf(b, sizeof(bufs[0]), "%s/%s", e->dir, name);
	return b;
}

char *ft_backup_file(cp_repository *repo, const char *path, const char *source, const char *parent,
		     const cp_block_range *changed, size_t nchanged, cp_backup_stats *stats)
{
	cp_block_reader *r = NULL;
	tu_ok(cp_block_reader_open_file(&r, path));
	cp_backup_options o = CP_BACKUP_OPTIONS_INIT;
	o.source = source ? source : path;
	o.parent_id = parent;
	o.changed = changed;
	o.nchanged = nchanged;
	o.have_changed = changed != NULL;
	char *id = NULL;
	tu_ok(cp_backup_create(&id, stats, repo, r, &o));
	cp_block_reader_free(r);
	ck_assert_ptr_nonnull(id);
	return id;
}

int ft_restore_file(cp_repository *repo, const char *id, const char *path, uint64_t size)
{
	cp_block_writer *w = NULL;
	tu_ok(cp_block_writer_open_file(&w, path, size));
	int rc = cp_restore(repo, id, w, NULL);
	if (!rc)
		rc = cp_block_writer_commit(w, NULL);
	cp_block_writer_free(w);
	return rc;
}

uint64_t ft_file_size(const char *path)
{
	struct stat st;
	ck_assert_int_eq(stat(path, &st), 0);
	return (uint64_t)st.st_size;
}

static void walk(const char *dir, char ***list, size_t *n, uint64_t *bytes)
{
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		char *p = NULL;
		ck_assert_int_ge(asprintf(&p, "%s/%s", dir, de->d_name), 0);
		struct stat st;
		if (stat(p, &st) == 0 && S_ISDIR(st.st_mode)) {
			walk(p, list, n, bytes);
			free(p);
			continue;
		}
		if (bytes)
			*bytes += (uint64_t)st.st_size;
		if (list) {
			*list = realloc(*list, (*n + 2) * sizeof(char *));
			(*list)[*n] = p;
			(*list)[*n + 1] = NULL;
		} else {
			free(p);
		}
		(*n)++;
	}
	closedir(d);
}

uint64_t ft_dir_bytes(const char *dir)
{
	uint64_t bytes = 0;
	size_t n = 0;
	walk(dir, NULL, &n, &bytes);
	return bytes;
}

size_t ft_count_files(const char *dir)
{
	size_t n = 0;
	walk(dir, NULL, &n, NULL);
	return n;
}

char **ft_list_files(const char *dir)
{
	char **list = calloc(1, sizeof(char *));
	size_t n = 0;
	walk(dir, &list, &n, NULL);
	return list;
}

void ft_free_list(char **list)
{
	for (size_t i = 0; list && list[i]; i++)
		free(list[i]);
	free(list);
}

void ft_flip_byte(const char *path, uint64_t offset)
{
	int fd = open(path, O_RDWR);
	ck_assert_int_ge(fd, 0);
	unsigned char c;
	ck_assert_int_eq(pread(fd, &c, 1, (off_t)offset), 1);
	c ^= 0x10;
	ck_assert_int_eq(pwrite(fd, &c, 1, (off_t)offset), 1);
	close(fd);
}

void ft_write_random(const char *path, uint64_t offset, size_t len, uint64_t seed)
{
	int fd = open(path, O_RDWR);
	ck_assert_int_ge(fd, 0);
	char *buf = malloc(len);
	tu_fill_random(buf, len, seed);
	ck_assert_int_eq(pwrite(fd, buf, len, (off_t)offset), (ssize_t)len);
	free(buf);
	close(fd);
}

static void count_problem(const char *key, const char *problem, void *payload)
{
	(*(uint64_t *)payload)++;
}

uint64_t ft_check(cp_repository *repo, int read_data, int *rc_out)
{
	cp_check_options o = CP_CHECK_OPTIONS_INIT;
	o.read_data = read_data;
	cp_check_result res;
	uint64_t n = 0;
	int rc = cp_check(repo, &o, count_problem, &n, &res);
	if (rc_out)
		*rc_out = rc;
	ck_assert_uint_eq(n, res.problems);
	return n;
}
