/*
 * The state store: DIR/runs.jsonl, one JSON record per line. Writers hold
 * an exclusive flock on DIR/lock, read the file, add their lines and
 * replace it atomically, so readers (shared lock, or none) never see half
 * a record and concurrent runs never lose each other's lines.
 */
#include "error.h"
#include "fs.h"
#include "json.h"
#include "parse_util.h"
#include "state_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

struct cp_state {
	char *dir;
	char *runs_path;
	char *lock_path;
};

int cp_state_open(cp_state **out, const char *dir)
{
	*out = NULL;
	if (!dir || !*dir)
		return cp_error_set(CP_EINVALID, CP_ERRCLASS_INVALID,
				    "no state directory given; pass a directory for run records");
	int rc = cp_fs_mkdir_p(dir, 0700);
	if (rc)
		return cp_error_prefix(rc, "cannot create the state directory %s: ", dir);
	cp_state *st = calloc(1, sizeof(*st));
	if (!st)
		return cp_error_oom();
	st->dir = strdup(dir);
	st->runs_path = cp_path_join(dir, "runs.jsonl");
	st->lock_path = cp_path_join(dir, "lock");
	if (!st->dir || !st->runs_path || !st->lock_path) {
		cp_state_free(st);
		return cp_error_oom();
	}
	*out = st;
	return 0;
}

void cp_state_free(cp_state *st)
{
	if (!st)
		return;
	free(st->dir);
	free(st->runs_path);
	free(st->lock_path);
	free(st);
}

const char *cp_state_dir(const cp_state *st)
{
	return st->dir;
}

static int lock_file(const char *path, int how, int *fd_out)
{
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return cp_error_set_os(CP_EIO, errno, "cannot open lock file %s", path);
	while (flock(fd, how) != 0) {
		if (errno == EINTR)
			continue;
		int err = errno;
		close(fd);
		if (err == EWOULDBLOCK)
			return cp_error_set(CP_ELOCKED, CP_ERRCLASS_POLICY,
					    "%s is held by another process; wait for it to finish "
					    "or check that no other run is stuck",
					    path);
		return cp_error_set_os(CP_EIO, err, "cannot lock %s", path);
	}
	*fd_out = fd;
	return 0;
}

int cp_state_lock_policy(cp_state *st, const char *policy, int *fd_out)
{
	char name[128];
	snprintf(name, sizeof(name), "policy-%s.lock", policy);
	char *path = cp_path_join(st->dir, name);
	if (!path)
		return cp_error_oom();
	int rc = lock_file(path, LOCK_EX | LOCK_NB, fd_out);
	if (rc == CP_ELOCKED)
		cp_error_set(CP_ELOCKED, CP_ERRCLASS_POLICY,
			     "another run of policy %s is in progress (lock %s); wait for it to "
			     "finish",
			     policy, path);
	free(path);
	return rc;
}

static void write_record(cp_json_writer *w, const cp_run_record *r)
{
	cp_json_begin_map(w);
	cp_json_kv_str(w, "run", r->run_id);
	cp_json_kv_str(w, "policy", r->policy);
	cp_json_kv_str(w, "action", cp_action_kind_name(r->action));
	cp_json_kv_str(w, "resource", r->resource_id);
	cp_json_kv_str(w, "snapshot", r->snapshot_id);
	cp_json_kv_str(w, "backup", r->backup_id);
	cp_json_kv_int(w, "start", r->start);
	cp_json_kv_int(w, "end", r->end);
	cp_json_kv_int(w, "scheduled", r->scheduled);
	cp_json_key(w, "bytes");
	cp_json_uint64(w, r->bytes);
	cp_json_kv_str(w, "result", cp_run_result_name(r->result));
	cp_json_kv_int(w, "error_code", r->error_code);
	cp_json_kv_str(w, "error", r->error);
	cp_json_end_map(w);
}

int cp_state_append(cp_state *st, const cp_run_record *records, size_t count)
{
	int fd = -1;
	int rc = lock_file(st->lock_path, LOCK_EX, &fd);
	if (rc)
		return rc;
	cp_buf text = CP_BUF_INIT;
	rc = cp_fs_read_file(st->runs_path, &text);
	if (rc == CP_ENOTFOUND) {
		cp_error_clear();
		rc = 0;
	}
	if (!rc && text.size && text.ptr[text.size - 1] != '\n')
		rc = cp_buf_put(&text, "\n", 1); /* never glue a record to a torn line */
	for (size_t i = 0; i < count && !rc; i++) {
		cp_json_writer w;
		if ((rc = cp_json_writer_init(&w, 0)))
			break;
		write_record(&w, &records[i]);
		rc = cp_json_writer_finish(&w, &text);
		cp_json_writer_dispose(&w);
		if (!rc)
			rc = cp_buf_put(&text, "\n", 1);
	}
	if (!rc)
		rc = cp_fs_write_atomic(st->runs_path, text.ptr, text.size, 0);
	cp_buf_dispose(&text);
	close(fd);
	return rc;
}

static const char *str_or_null(yajl_val obj, const char *key)
{
	return cp_json_str(obj, key);
}

static int read_record(yajl_val v, cp_run_record *r)
{
	int64_t n;
	memset(r, 0, sizeof(*r));
	if (!YAJL_IS_OBJECT(v))
		return -1;
	r->run_id = str_or_null(v, "run");
	r->policy = str_or_null(v, "policy");
	r->resource_id = str_or_null(v, "resource");
	r->snapshot_id = str_or_null(v, "snapshot");
	r->backup_id = str_or_null(v, "backup");
	r->error = str_or_null(v, "error");
	if (cp_action_kind_parse(&r->action, cp_json_str(v, "action")))
		return -1;
	const char *result = cp_json_str(v, "result");
	if (!result)
		return -1;
	r->result = !strcmp(result, "ok")	? CP_RUN_OK
		    : !strcmp(result, "failed") ? CP_RUN_FAILED
						: CP_RUN_SKIPPED;
	if (cp_json_int(v, "start", &r->start, 0) || cp_json_int(v, "end", &r->end, 0) ||
	    cp_json_int(v, "scheduled", &r->scheduled, 0) || cp_json_int(v, "error_code", &n, 0))
		return -1;
	r->error_code = (int)n;
	if (cp_json_int(v, "bytes", &n, 0))
		return -1;
	r->bytes = (uint64_t)n;
	return 0;
}

int cp_state_runs(cp_state *st, const char *policy, cp_run_record_cb cb, void *payload)
{
	int fd = -1;
	int rc = lock_file(st->lock_path, LOCK_SH, &fd);
	if (rc)
		return rc;
	cp_buf text = CP_BUF_INIT;
	rc = cp_fs_read_file(st->runs_path, &text);
	close(fd);
	if (rc == CP_ENOTFOUND) {
		cp_error_clear();
		cp_buf_dispose(&text);
		return 0;
	}
	char *line = text.ptr;
	size_t lineno = 0;
	while (!rc && line && *line) {
		char *nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		lineno++;
		if (*line) {
			yajl_val v = yajl_tree_parse(line, NULL, 0);
			cp_run_record r;
			if (!v || read_record(v, &r)) {
				rc = cp_error_set(CP_ECORRUPT, CP_ERRCLASS_POLICY,
						  "%s line %zu is not a run record; move the file "
						  "aside to start a new history",
						  st->runs_path, lineno);
			} else if (!policy || (r.policy && !strcmp(policy, r.policy))) {
				rc = cb(&r, payload);
			}
			yajl_tree_free(v);
		}
		line = nl ? nl + 1 : NULL;
	}
	cp_buf_dispose(&text);
	return rc;
}
