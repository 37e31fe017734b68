/*
 * file:// object store: a repository in a directory. Every object is
 * written to a temporary sibling, flushed and renamed into place, so a
 * killed writer never leaves a partial object under its real name.
 * Streaming writes (packs) live in objstore_file_writer.c.
 */
#include "objstore_file.h"
#include "objstore_common.h"

#include "cloudprotect/sys/objstore.h"
#include "error.h"
#include "fs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct {
	char *root;
} file_store;

#define TEMP_MARK ".tmp-"

static int valid_key(const char *key)
{
	if (!key || !*key || key[0] == '/' || strstr(key, "..") || strstr(key, TEMP_MARK))
		return cp_error_set(CP_EINVALID, CP_ERRCLASS_OBJSTORE, "invalid object key '%s'",
				    key ? key : "(null)");
	return 0;
}

static char *key_path(file_store *s, const char *key)
{
	return cp_path_join(s->root, key);
}

static int ensure_parent(const char *path)
{
	char *copy = strdup(path);
	if (!copy)
		return cp_error_oom();
	char *slash = strrchr(copy, '/');
	int rc = 0;
	if (slash && slash != copy) {
		*slash = '\0';
		rc = cp_fs_mkdir_p(copy, 0755);
	}
	free(copy);
	return rc;
}

static int file_open(void **state, cp_ctx *ctx, const char *url, int create)
{
	const char *path = url + strlen("file://");
	if (strncmp(url, "file://", 7) || path[0] != '/')
		return cp_error_set(CP_EINVALID, CP_ERRCLASS_INVALID,
				    "'%s' is not a file URL; write file:///absolute/path", url);
	struct stat st;
	if (stat(path, &st)) {
		if (!create)
			return cp_error_set(CP_ENOTFOUND, CP_ERRCLASS_OBJSTORE,
					    "no repository at '%s': the directory does not exist "
					    "(create one with `cloudprotect repo init`)",
					    url);
		int rc = cp_fs_mkdir_p(path, 0700);
		if (rc)
			return rc;
	} else if (!S_ISDIR(st.st_mode)) {
		return cp_error_set(CP_EINVALID, CP_ERRCLASS_OBJSTORE,
				    "'%s' is not a directory; a file:// repository is a directory",
				    path);
	}
	file_store *s = calloc(1, sizeof(*s));
	if (!s || !(s->root = strdup(path))) {
		free(s);
		return cp_error_oom();
	}
	size_t n = strlen(s->root);
	while (n > 1 && s->root[n - 1] == '/')
		s->root[--n] = '\0';
	*state = s;
	return 0;
}

static void file_close(void *state)
{
	file_store *s = state;
	free(s->root);
	free(s);
}

static int file_put(void *state, const char *key, const void *data, size_t len,
		    const cp_put_options *opts)
{
	int rc = valid_key(key);
	if (rc)
		return rc;
	char *path = key_path(state, key);
	if (!path)
		return cp_error_oom();
	rc = ensure_parent(path);
	if (!rc)
		rc = cp_fs_write_atomic(path, data, len, opts->create_only);
	free(path);
	return rc;
}

static int file_get(void *state, const char *key, uint64_t offset, uint64_t length, cp_buf *out)
{
	int rc = valid_key(key);
	if (rc)
		return rc;
	char *path = key_path(state, key);
	if (!path)
		return cp_error_oom();
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		rc = errno == ENOENT ? cp_objstore_err_missing(key)
				     : cp_error_set_os(CP_EIO, errno, "cannot open '%s'", path);
		free(path);
		return rc;
	}
	struct stat st;
	if (fstat(fd, &st)) {
		rc = cp_error_set_os(CP_EIO, errno, "cannot stat '%s'", path);
	} else if (offset > (uint64_t)st.st_size ||
		   (length && length > (uint64_t)st.st_size - offset)) {
		rc = cp_error_set(
			CP_ECORRUPT, CP_ERRCLASS_OBJSTORE,
			"object '%s' is %lld bytes, too short for %llu bytes at offset %llu "
			"(truncated?)",
			key, (long long)st.st_size, (unsigned long long)length,
			(unsigned long long)offset);
	} else {
		uint64_t n = length ? length : (uint64_t)st.st_size - offset;
		rc = cp_buf_grow(out, out->size + (size_t)n);
		if (!rc)
			rc = cp_fs_pread_full(fd, out->ptr + out->size, (size_t)n, offset, path);
		if (!rc) {
			out->size += (size_t)n;
			out->ptr[out->size] = '\0';
		}
	}
	close(fd);
	free(path);
	return rc;
}

static void fill_info(cp_object_info *info, const struct stat *st)
{
	info->size = (uint64_t)st->st_size;
	info->mtime = (int64_t)st->st_mtime;
}

static int file_head(void *state, const char *key, cp_object_info *info)
{
	int rc = valid_key(key);
	if (rc)
		return rc;
	char *path = key_path(state, key);
	if (!path)
		return cp_error_oom();
	struct stat st;
	if (stat(path, &st))
		rc = errno == ENOENT ? cp_objstore_err_missing(key)
				     : cp_error_set_os(CP_EIO, errno, "cannot stat '%s'", path);
	else
		fill_info(info, &st);
	free(path);
	return rc;
}

/* Walk dir (relative key prefix rel) and report keys that start with prefix. */
static int walk(file_store *s, const char *rel, const char *prefix, cp_object_list_cb cb,
		void *payload)
{
	char *dir = rel[0] ? cp_path_join(s->root, rel) : strdup(s->root);
	if (!dir)
		return cp_error_oom();
	DIR *d = opendir(dir);
	if (!d) {
		int rc = (errno == ENOENT || errno == ENOTDIR)
				 ? 0
				 : cp_error_set_os(CP_EIO, errno, "cannot list '%s'", dir);
		free(dir);
		return rc;
	}
	int rc = 0;
	struct dirent *e;
	while (!rc && (e = readdir(d))) {
		if (e->d_name[0] == '.' || strstr(e->d_name, TEMP_MARK))
			continue;
		size_t n = strlen(rel) + strlen(e->d_name) + 2;
		char *key = malloc(n);
		if (!key) {
			rc = cp_error_oom();
			break;
		}
		snprintf(key, n, "%s%s%s", rel, rel[0] ? "/" : "", e->d_name);
		struct stat st;
		char *path = cp_path_join(dir, e->d_name);
		if (path && stat(path, &st) == 0) {
			size_t kl = strlen(key), pl = strlen(prefix);
			if (S_ISDIR(st.st_mode)) {
				/* Descend only where keys below can still match the prefix. */
				if (!strncmp(key, prefix, kl < pl ? kl : pl))
					rc = walk(s, key, prefix, cb, payload);
			} else if (S_ISREG(st.st_mode) && !strncmp(key, prefix, pl)) {
				cp_object_info info;
				memset(&info, 0, sizeof(info));
				fill_info(&info, &st);
				rc = cb(key, &info, payload);
			}
		}
		free(path);
		free(key);
	}
	closedir(d);
	free(dir);
	return rc;
}

static int file_list(void *state, const char *prefix, cp_object_list_cb cb, void *payload)
{
	return walk(state, "", prefix, cb, payload);
}

static int file_remove(void *state, const char *key)
{
	int rc = valid_key(key);
	if (rc)
		return rc;
	char *path = key_path(state, key);
	if (!path)
		return cp_error_oom();
	if (unlink(path))
		rc = errno == ENOENT ? cp_objstore_err_missing(key)
				     : cp_error_set_os(CP_EIO, errno, "cannot delete '%s'", path);
	free(path);
	return rc;
}

static int file_writer_open(void *state, const char *key, const cp_put_options *opts,
			    cp_objstore_writer **out)
{
	int rc = valid_key(key);
	if (rc)
		return rc;
	char *path = key_path(state, key);
	if (!path)
		return cp_error_oom();
	rc = ensure_parent(path);
	if (!rc)
		rc = cp_file_writer_new(out, path, opts->create_only);
	free(path);
	return rc;
}

const cp_objstore_ops cp_file_objstore_ops = {
	.version = CP_OBJSTORE_OPS_VERSION,
	.scheme = "file",
	.description = "a repository in a local directory (file:///path)",
	.open = file_open,
	.close = file_close,
	.put = file_put,
	.get = file_get,
	.head = file_head,
	.list = file_list,
	.remove = file_remove,
	.writer_open = file_writer_open,
};
