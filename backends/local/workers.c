/*
 * Workers of the local cloud: a worker is a process group on this machine
 * running the job (the user data) with /bin/sh, so cp_worker_run and the
 * CLI behave here as they do with cloud machines.
 *
 * Layout under root:
 *
 *   workers/<w-id>/job.sh        the user data, run as `/bin/sh job.sh` in this directory
 *   workers/<w-id>/worker.json   id, job, region, image, size class, launched, expires,
 *                                pid (= process group) and the leader's start time
 *   workers/<w-id>/output        the job's stdout and stderr (its "console")
 *   workers/<w-id>/status        the job's exit status, written (renamed into place) by
 *                                the wrapper shell when the job ends
 *   workers/<w-id>/terminated    present once the worker was terminated
 *
 * The worker is started through a double fork: the launcher's child
 * starts the worker and exits at once, so the worker is re-parented to
 * init, which reaps it, and no process has to stay around to wait for it.
 * Its exit status therefore cannot come from waitpid(); the wrapper shell
 * writes it into "status", atomically, and every process that shares the
 * root can read it. Since the pid of an exited worker may be reused, the
 * leader's start time (from /proc) is recorded and checked before any
 * signal is sent to the group.
 *
 * A job that puts processes into a session of its own (setsid) takes them
 * out of the worker's process group; terminate does not reach those.
 */
#include "ctx.h"
#include "fs.h"
#include "json.h"
#include "local_cloud.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define WORKER_PREFIX	   "w-"
#define WORKER_HEX_DIGITS  16
#define WORKER_ID_LEN	   (sizeof(WORKER_PREFIX) + WORKER_HEX_DIGITS)
#define WORKER_DEFAULT_TTL 3600u
#define WORKERS_DIR	   "workers"
/* How long terminate waits for a killed group leader to be gone. */
#define TERMINATE_WAIT_MS 3000

/*
 * The wrapper: run the job, then publish its exit status with a rename,
 * so a reader sees no status or a whole one. $1 is the worker's directory.
 */
static const char wrapper[] = "cd \"$1\" || exit 127; /bin/sh ./job.sh; s=$?; "
			      "echo $s > status.tmp && mv -f status.tmp status";

extern char **environ;

typedef struct worker_rec {
	char *id, *job, *region, *image, *size_class;
	int64_t launched, expires;
	int64_t pid;
	uint64_t start_time; /* the leader's start time in clock ticks since boot; 0 unknown */
} worker_rec;

static void rec_dispose(worker_rec *r)
{
	free(r->id);
	free(r->job);
	free(r->region);
	free(r->image);
	free(r->size_class);
	memset(r, 0, sizeof(*r));
}

static int id_is_worker(const char *id)
{
	size_t plen = strlen(WORKER_PREFIX);
	if (!id || strncmp(id, WORKER_PREFIX, plen) || strlen(id) != plen + WORKER_HEX_DIGITS)
		return 0;
	for (const char *p = id + plen; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return 0;
	return 1;
}

static int check_id(const char *id)
{
	if (id_is_worker(id))
		return 0;
	return cp_error_set(CP_EINVALID, CP_ERRCLASS_INVALID,
			    "'%s' is not a local worker id; they look like w-0123456789abcdef "
			    "(`cloudprotect worker list` shows them)",
			    id ? id : "(null)");
}

static int new_id(char out[WORKER_ID_LEN])
{
	unsigned char bytes[WORKER_HEX_DIGITS / 2];
	size_t got = 0;
	while (got < sizeof(bytes)) {
		ssize_t n = getrandom(bytes + got, sizeof(bytes) - got, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return cp_error_set_os(CP_ERROR, errno,
					       "cannot get random bytes for a worker id");
		got += (size_t)n;
	}
	int len = snprintf(out, WORKER_ID_LEN, "%s", WORKER_PREFIX);
	for (size_t i = 0; i < sizeof(bytes); i++)
		len += snprintf(out + len, WORKER_ID_LEN - (size_t)len, "%02x", bytes[i]);
	return 0;
}

/* workers/<id>[/name], malloc'd. */
static char *worker_path(const local_cloud *cloud, const char *id, const char *name)
{
	char *path = NULL;
	int n = name ? asprintf(&path, "%s/" WORKERS_DIR "/%s/%s", cloud->root, id, name)
		: id ? asprintf(&path, "%s/" WORKERS_DIR "/%s", cloud->root, id)
		     : asprintf(&path, "%s/" WORKERS_DIR, cloud->root);
	return n < 0 ? NULL : path;
}

static int64_t now_s(void)
{
	return (int64_t)time(NULL);
}

/* ---- /proc: is the group leader still the process we started? ---- */

/* State letter and start time of pid from /proc/<pid>/stat; CP_ENOTFOUND when no such pid. */
static int proc_stat(pid_t pid, char *state, uint64_t *start_time)
{
	char path[64], text[1024];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return CP_ENOTFOUND;
	ssize_t n = read(fd, text, sizeof(text) - 1);
	close(fd);
	if (n <= 0)
		return CP_ENOTFOUND;
	text[n] = '\0';
	/* The command name may hold spaces and parentheses: fields start after the last ')'. */
	char *p = strrchr(text, ')');
	if (!p || p[1] != ' ')
		return CP_ENOTFOUND;
	*state = p[2];
	/* Field 3 is the state; start time is field 22. */
	p += 2;
	for (int field = 3; field < 22 && p; field++) {
		p = strchr(p, ' ');
		if (p)
			p++;
	}
	*start_time = p ? strtoull(p, NULL, 10) : 0;
	return 0;
}

typedef enum {
	LEADER_ALIVE,
	LEADER_GONE,	 /* exited (a zombie counts) or no such pid */
	LEADER_REPLACED, /* the pid now belongs to another process */
} leader_state;

static leader_state leader(const worker_rec *r)
{
	char state = 0;
	uint64_t start = 0;
	if (r->pid <= 0 || proc_stat((pid_t)r->pid, &state, &start))
		return LEADER_GONE;
	if (r->start_time && start != r->start_time)
		return LEADER_REPLACED;
	return state == 'Z' || state == 'X' ? LEADER_GONE : LEADER_ALIVE;
}

/* ---- the record ---- */

static int rec_save(const local_cloud *cloud, const worker_rec *r)
{
	cp_json_writer w;
	int rc = cp_json_writer_init(&w, 1);
	if (rc)
		return rc;
	cp_json_begin_map(&w);
	cp_json_kv_str(&w, "id", r->id);
	cp_json_kv_str(&w, "job", r->job);
	cp_json_kv_str(&w, "region", r->region);
	cp_json_kv_str(&w, "image", r->image);
	cp_json_kv_str(&w, "size_class", r->size_class);
	cp_json_kv_int(&w, "launched", r->launched);
	cp_json_kv_int(&w, "expires", r->expires);
	cp_json_kv_int(&w, "pid", r->pid);
	cp_json_key(&w, "start_time");
	cp_json_uint64(&w, r->start_time);
	cp_json_end_map(&w);
	cp_buf text = CP_BUF_INIT;
	rc = cp_json_writer_finish(&w, &text);
	cp_json_writer_dispose(&w);
	char *path = worker_path(cloud, r->id, "worker.json");
	if (!rc)
		rc = path ? cp_fs_write_atomic(path, text.ptr, text.size, 0) : cp_error_oom();
	free(path);
	cp_buf_dispose(&text);
	return rc;
}

static int dup_field(char **out, yajl_val v, const char *key)
{
	const char *s = cp_json_str(v, key);
	*out = NULL;
	if (s && !(*out = strdup(s)))
		return cp_error_oom();
	return 0;
}

static int rec_load(worker_rec *r, const local_cloud *cloud, const char *id)
{
	memset(r, 0, sizeof(*r));
	int rc = check_id(id);
	if (rc)
		return rc;
	char *path = worker_path(cloud, id, "worker.json");
	if (!path)
		return cp_error_oom();
	cp_buf text = CP_BUF_INIT;
	rc = cp_fs_read_file(path, &text);
	if (rc == CP_ENOTFOUND)
		rc = cp_error_set(CP_ENOTFOUND, CP_ERRCLASS_PROVIDER,
				  "no worker '%s' in the local cloud at '%s'; `cloudprotect "
				  "worker list` shows the workers there",
				  id, cloud->root);
	yajl_val v = NULL;
	if (!rc && cp_json_parse(&v, text.ptr, path))
		rc = cp_error_set(CP_ECORRUPT, CP_ERRCLASS_PROVIDER,
				  "worker record '%s' is damaged (%s); terminate the worker and "
				  "remove its directory",
				  path, cp_error_last()->message);
	int64_t start = 0;
	if (!rc &&
	    ((rc = dup_field(&r->id, v, "id")) || (rc = dup_field(&r->job, v, "job")) ||
	     (rc = dup_field(&r->region, v, "region")) || (rc = dup_field(&r->image, v, "image")) ||
	     (rc = dup_field(&r->size_class, v, "size_class")) ||
	     (rc = cp_json_int(v, "launched", &r->launched, 0)) ||
	     (rc = cp_json_int(v, "expires", &r->expires, 0)) ||
	     (rc = cp_json_int(v, "pid", &r->pid, 0)) ||
	     (rc = cp_json_int(v, "start_time", &start, 0))))
		rc = cp_error_prefix(rc, "worker record '%s': ", path);
	r->start_time = (uint64_t)start;
	if (!rc && (!r->id || strcmp(r->id, id)))
		rc = cp_error_set(CP_ECORRUPT, CP_ERRCLASS_PROVIDER,
				  "worker record '%s' names another worker; remove its directory",
				  path);
	yajl_tree_free(v);
	cp_buf_dispose(&text);
	free(path);
	if (rc)
		rec_dispose(r);
	return rc;
}

static int file_exists(const local_cloud *cloud, const char *id, const char *name)
{
	char *path = worker_path(cloud, id, name);
	struct stat st;
	int yes = path && !stat(path, &st);
	free(path);
	return yes;
}

/* The exit status the wrapper wrote; -1 when the job has not ended. */
static int exit_status(const local_cloud *cloud, const char *id)
{
	char *path = worker_path(cloud, id, "status");
	cp_buf text = CP_BUF_INIT;
	int status = -1;
	if (path && !cp_fs_read_file(path, &text) && text.size) {
		char *end = NULL;
		long v = strtol(text.ptr, &end, 10);
		/* The wrapper writes "$?": 0..255 and a newline; anything else is not ours. */
		status = end != text.ptr && v >= 0 && v <= 255 ? (int)v : 255;
	}
	cp_buf_dispose(&text);
	free(path);
	return status;
}

static cp_worker_state state_of(const local_cloud *cloud, const worker_rec *r)
{
	if (file_exists(cloud, r->id, "terminated"))
		return CP_WORKER_TERMINATED;
	int status = exit_status(cloud, r->id);
	if (status < 0) {
		if (leader(r) == LEADER_ALIVE)
			return CP_WORKER_RUNNING;
		/* The wrapper publishes its status before it exits: look again, since it
		 * may have done both between our two looks. */
		status = exit_status(cloud, r->id);
	}
	if (status >= 0)
		return status == 0 ? CP_WORKER_FINISHED : CP_WORKER_FAILED;
	/* Gone without a status: killed from outside, or the wrapper could not start. */
	return CP_WORKER_FAILED;
}

static int emit(const local_cloud *cloud, const worker_rec *r, cp_worker_state state,
		cp_worker_cb cb, void *payload)
{
	if (!cb)
		return 0;
	cp_worker_info info = {r->id, r->region, r->job, NULL, state, r->launched, r->expires};
	(void)cloud;
	return cb(&info, payload);
}

/* ---- launch ---- */

/* Everything the child needs, made before fork: after it only async-signal-safe calls. */
typedef struct spawn {
	char *dir, *output;
	char *argv[6];
	char **envp;
	char *id_env;
} spawn;

static void spawn_dispose(spawn *s)
{
	free(s->dir);
	free(s->output);
	free(s->envp);
	free(s->id_env);
}

static int spawn_prepare(spawn *s, const local_cloud *cloud, const char *id)
{
	memset(s, 0, sizeof(*s));
	s->dir = worker_path(cloud, id, NULL);
	s->output = worker_path(cloud, id, "output");
	if (asprintf(&s->id_env, "CLOUDPROTECT_WORKER_ID=%s", id) < 0)
		s->id_env = NULL;
	size_t n = 0;
	while (environ && environ[n])
		n++;
	s->envp = calloc(n + 2, sizeof(char *));
	if (!s->dir || !s->output || !s->id_env || !s->envp)
		return cp_error_oom();
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (strncmp(environ[i], "CLOUDPROTECT_WORKER_ID=", 23))
			s->envp[k++] = environ[i];
	s->envp[k] = s->id_env;
	s->argv[0] = "/bin/sh";
	s->argv[1] = "-c";
	s->argv[2] = (char *)wrapper;
	s->argv[3] = "cloudprotect-worker";
	s->argv[4] = s->dir;
	s->argv[5] = NULL;
	return 0;
}

/* The worker itself: its own session and group, stdio to the output file, then the wrapper. */
static void __attribute__((noreturn)) worker_child(const spawn *s, int report_fd)
{
	pid_t self = setsid();
	if (self < 0)
		_exit(127);
	(void)!write(report_fd, &self, sizeof(self));
	close(report_fd);
	int in = open("/dev/null", O_RDONLY);
	int out = open(s->output, O_WRONLY | O_CREAT | O_APPEND, 0600);
	if (in < 0 || out < 0 || dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0)
		_exit(127);
	/* The launcher's descriptors (sockets, locks) are none of the job's business. */
	close_range(3, ~0u, 0);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	execve(s->argv[0], s->argv, s->envp);
	_exit(127);
}

/* Double fork; *pid_out gets the worker's pid, which is also its process group. */
static int start_worker(const spawn *s, pid_t *pid_out)
{
	int fds[2];
	if (pipe2(fds, O_CLOEXEC))
		return cp_error_set_os(CP_ERROR, errno, "cannot make a pipe to start a worker");
	pid_t middle = fork();
	if (middle < 0) {
		int e = errno;
		close(fds[0]);
		close(fds[1]);
		return cp_error_set_os(CP_ERROR, e, "cannot fork a worker process");
	}
	if (middle == 0) {
		close(fds[0]);
		pid_t w = fork();
		if (w == 0)
			worker_child(s, fds[1]);
		_exit(w < 0 ? 1 : 0);
	}
	close(fds[1]);
	pid_t pid = 0;
	ssize_t n;
	do
		n = read(fds[0], &pid, sizeof(pid));
	while (n < 0 && errno == EINTR);
	close(fds[0]);
	int status = 0;
	while (waitpid(middle, &status, 0) < 0 && errno == EINTR)
		;
	if (n != (ssize_t)sizeof(pid) || pid <= 0)
		return cp_error_set(CP_ERROR, CP_ERRCLASS_OS,
				    "the worker process did not start (fork or setsid failed); "
				    "check the process limits (ulimit -u)");
	*pid_out = pid;
	return 0;
}

static int dup_or_default(char **out, const char *s, const char *dflt)
{
	*out = strdup(s ? s : dflt);
	return *out ? 0 : cp_error_oom();
}

int local_worker_launch(void *state, const cp_worker_options *opts, char **id_out)
{
	local_cloud *cloud = state;
	*id_out = NULL;
	int rc = local_require_init(cloud);
	if (rc)
		return rc;
	char id[WORKER_ID_LEN];
	worker_rec r;
	memset(&r, 0, sizeof(r));
	if ((rc = new_id(id)) || (rc = dup_or_default(&r.id, id, NULL)) ||
	    (rc = dup_or_default(&r.job, opts->job, "worker")) ||
	    (rc = dup_or_default(&r.region, opts->region, cloud->region)) ||
	    (rc = dup_or_default(&r.image, opts->image, "")) ||
	    (rc = dup_or_default(&r.size_class, opts->size_class, "")))
		goto out;
	char *dir = worker_path(cloud, id, NULL);
	rc = dir ? cp_fs_mkdir_p(dir, 0700) : cp_error_oom();
	free(dir);
	char *script = worker_path(cloud, id, "job.sh");
	const char *data = opts->user_data ? opts->user_data : "";
	if (!rc)
		rc = script ? cp_fs_write_atomic(script, data, strlen(data), 1) : cp_error_oom();
	free(script);
	if (rc)
		goto out;
	r.launched = now_s();
	r.expires = r.launched + (opts->ttl_seconds ? opts->ttl_seconds : WORKER_DEFAULT_TTL);
	spawn s;
	rc = spawn_prepare(&s, cloud, id);
	pid_t pid = 0;
	if (!rc)
		rc = start_worker(&s, &pid);
	spawn_dispose(&s);
	if (rc)
		goto out;
	r.pid = pid;
	char pstate = 0;
	if (proc_stat(pid, &pstate, &r.start_time))
		r.start_time = 0; /* already gone: its status file tells how it went */
	rc = rec_save(cloud, &r);
	if (rc) {
		/* Without a record nobody could find it to terminate it later. */
		kill(-pid, SIGKILL);
		goto out;
	}
	cp_log(cloud->ctx, CP_LOG_DEBUG, "local: worker %s (pid %d) runs job '%s'", id, (int)pid,
	       r.job);
	*id_out = r.id;
	r.id = NULL;
out:
	rec_dispose(&r);
	return rc;
}

int local_worker_get(void *state, const char *id, cp_worker_cb cb, void *payload)
{
	local_cloud *cloud = state;
	int rc = local_require_init(cloud);
	worker_rec r;
	if (rc || (rc = rec_load(&r, cloud, id)))
		return rc;
	rc = emit(cloud, &r, state_of(cloud, &r), cb, payload);
	rec_dispose(&r);
	return rc;
}

static int compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Worker ids under workers/, sorted; none when the directory is not there yet. */
static int list_ids(char ***out, size_t *count, const local_cloud *cloud)
{
	*out = NULL;
	*count = 0;
	char *path = worker_path(cloud, NULL, NULL);
	if (!path)
		return cp_error_oom();
	DIR *d = opendir(path);
	if (!d) {
		int e = errno;
		int rc = e == ENOENT ? 0 : cp_error_set_os(CP_EIO, e, "cannot list '%s'", path);
		free(path);
		return rc;
	}
	free(path);
	size_t cap = 0;
	int rc = 0;
	struct dirent *de;
	while (!rc && (de = readdir(d))) {
		if (!id_is_worker(de->d_name))
			continue;
		if (*count == cap) {
			cap = cap ? 2 * cap : 16;
			char **grown = realloc(*out, cap * sizeof(char *));
			if (!grown) {
				rc = cp_error_oom();
				break;
			}
			*out = grown;
		}
		if (!((*out)[*count] = strdup(de->d_name)))
			rc = cp_error_oom();
		else
			(*count)++;
	}
	closedir(d);
	if (*count)
		qsort(*out, *count, sizeof(char *), compare_names);
	return rc;
}

int local_worker_list(void *state, cp_worker_cb cb, void *payload)
{
	local_cloud *cloud = state;
	int rc = local_require_init(cloud);
	char **ids = NULL;
	size_t n = 0;
	if (!rc)
		rc = list_ids(&ids, &n, cloud);
	for (size_t i = 0; !rc && i < n; i++) {
		worker_rec r;
		int lrc = rec_load(&r, cloud, ids[i]);
		if (lrc == CP_ENOTFOUND)
			continue; /* being launched: the record comes last */
		if (lrc) {
			rc = lrc;
			break;
		}
		cp_worker_state st = state_of(cloud, &r);
		if (st != CP_WORKER_TERMINATED)
			rc = emit(cloud, &r, st, cb, payload);
		rec_dispose(&r);
	}
	for (size_t i = 0; i < n; i++)
		free(ids[i]);
	free(ids);
	return rc;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

/* Kill the group; the leader's pid is reused only once the whole group is gone. */
static void kill_group(const local_cloud *cloud, const worker_rec *r)
{
	leader_state ls = leader(r);
	if (r->pid <= 1 || ls == LEADER_REPLACED)
		return;
	/*
	 * With the leader gone, members it left behind keep the group id
	 * reserved, so a group of that id is still ours; with none left the
	 * signal finds nobody.
	 */
	if (kill(-(pid_t)r->pid, SIGKILL) && errno != ESRCH)
		cp_log(cloud->ctx, CP_LOG_WARN, "local: cannot kill worker %s (group %lld): %s",
		       r->id, (long long)r->pid, strerror(errno));
	for (long waited = 0; waited < TERMINATE_WAIT_MS && leader(r) == LEADER_ALIVE; waited += 10)
		sleep_ms(10);
}

int local_worker_terminate(void *state, const char *id)
{
	local_cloud *cloud = state;
	int rc = local_require_init(cloud);
	worker_rec r;
	if (!rc)
		rc = rec_load(&r, cloud, id);
	if (rc == CP_ENOTFOUND) {
		cp_error_clear();
		return 0; /* unknown: nothing to terminate */
	}
	if (rc)
		return rc;
	kill_group(cloud, &r);
	char *marker = worker_path(cloud, id, "terminated");
	rc = marker ? cp_fs_write_atomic(marker, "", 0, 0) : cp_error_oom();
	free(marker);
	if (!rc)
		cp_log(cloud->ctx, CP_LOG_DEBUG, "local: worker %s terminated", id);
	rec_dispose(&r);
	return rc;
}
