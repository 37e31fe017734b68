#include "format/lock.h"
#include "format/bytes.h"

#include "ctx.h"
#include "error.h"
#include "json.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Listings of the locks before giving up on locks that keep vanishing. */
#define MAX_SCANS 8

struct cp_repo_lock {
	cp_repository *repo;
	cp_lock_info info;
	char key[CP_KEY_MAX];
	pthread_t thread;
	int thread_started;
	pthread_mutex_t mu;
	pthread_cond_t cond;
	int stop;
};

int cp_lock_parse(cp_lock_info *out, const char *text, size_t len)
{
	memset(out, 0, sizeof(*out));
	if (memchr(text, '\0', len))
		return cp_error_set(CP_EINVALID, CP_ERRCLASS_REPOSITORY,
				    "lock is invalid: it contains a NUL byte");
	char *copy = strndup(text, len);
	if (!copy)
		return cp_error_oom();
	yajl_val root = NULL;
	int rc = cp_json_parse(&root, copy, "lock");
	free(copy);
	if (rc)
		return rc;
	const char *host = cp_json_str(root, "hostname");
	const char *op = cp_json_str(root, "operation");
	size_t host_len = host ? strlen(host) : 0, op_len = op ? strlen(op) : 0;
	yajl_val ex = cp_json_get(root, "exclusive");
	if (!YAJL_IS_OBJECT(root) || !host || host_len >= sizeof(out->hostname) ||
	    op_len >= sizeof(out->operation) || !ex || !(YAJL_IS_TRUE(ex) || YAJL_IS_FALSE(ex)))
		rc = cp_error_set(CP_EINVALID, CP_ERRCLASS_REPOSITORY,
				  "lock is invalid: 'hostname' or 'exclusive' is missing");
	if (!rc)
		rc = cp_json_int(root, "pid", &out->pid, 0);
	if (!rc)
		rc = cp_json_int(root, "created", &out->created, 0);
	if (!rc)
		rc = cp_json_int(root, "expires", &out->expires, 0);
	if (!rc) {
		memcpy(out->hostname, host, host_len + 1);
		if (op)
			memcpy(out->operation, op, op_len + 1);
		out->exclusive = YAJL_IS_TRUE(ex);
	}
	yajl_tree_free(root);
	return rc;
}

int cp_lock_encode(const cp_lock_info *info, cp_buf *out)
{
	cp_json_writer w;
	int rc = cp_json_writer_init(&w, 0);
	if (rc)
		return rc;
	cp_json_begin_map(&w);
	cp_json_kv_str(&w, "hostname", info->hostname);
	cp_json_kv_int(&w, "pid", info->pid);
	cp_json_kv_str(&w, "operation", info->operation);
	cp_json_kv_int(&w, "created", info->created);
	cp_json_kv_int(&w, "expires", info->expires);
	cp_json_key(&w, "exclusive");
	cp_json_bool(&w, info->exclusive);
	cp_json_end_map(&w);
	rc = cp_json_writer_finish(&w, out);
	cp_json_writer_dispose(&w);
	return rc;
}

int cp_lock_is_stale(const cp_lock_info *info, const char *hostname, int64_t now)
{
	if (info->expires < now)
		return 1;
	if (strcmp(info->hostname, hostname) || info->pid <= 0 || info->pid > INT32_MAX)
		return 0;
	return kill((pid_t)info->pid, 0) && errno == ESRCH;
}

static int write_lock(cp_repository *repo, cp_lock_info *info, char key[CP_KEY_MAX])
{
	uint8_t rnd[CP_ID_LEN];
	char name[CP_HEX_ID_LEN + 1];
	cp_buf text = CP_BUF_INIT;
	int rc = cp_random(rnd, sizeof(rnd));
	cp_hex_encode(name, rnd, sizeof(rnd));
	cp_repo_key(key, CP_DIR_LOCKS, name);
	info->expires = (int64_t)time(NULL) + repo->lock_ttl;
	if (!rc)
		rc = cp_lock_encode(info, &text);
	cp_put_options po = CP_PUT_OPTIONS_INIT;
	po.create_only = 1;
	if (!rc)
		rc = cp_objstore_put(repo->store, key, text.ptr, text.size, &po);
	cp_buf_dispose(&text);
	return rc;
}

typedef struct {
	cp_repository *repo;
	const char *own_key;
	int exclusive;
	int64_t now;
	cp_lock_info holder;
	int conflict;
	int vanished; /* a listed lock was gone when read */
	/* for unlock */
	int all;
	unsigned int removed;
} scan_state;

static int read_lock(cp_repository *repo, const char *key, cp_lock_info *info)
{
	cp_buf text = CP_BUF_INIT;
	int rc = cp_objstore_get(repo->store, key, 0, 0, &text);
	if (!rc)
		rc = cp_lock_parse(info, text.ptr, text.size);
	cp_buf_dispose(&text);
	return rc;
}

static int scan_conflict(const char *key, const cp_object_info *oi, void *payload)
{
	scan_state *s = payload;
	cp_lock_info info;
	if (!strcmp(key, s->own_key))
		return 0;
	int rc = read_lock(s->repo, key, &info);
	if (rc == CP_ENOTFOUND || rc == CP_EINVALID) {
		/*
		 * Removed meanwhile, or not a lock we can read: it protects
		 * nothing. A removed one may have been refreshed, though, into
		 * an object this listing started too early to see.
		 */
		s->vanished |= rc == CP_ENOTFOUND;
		cp_error_clear();
		return 0;
	}
	if (rc)
		return rc;
	if (cp_lock_is_stale(&info, s->repo->hostname, s->now))
		return 0;
	if (s->exclusive || info.exclusive) {
		s->holder = info;
		s->conflict = 1;
		return 1;
	}
	return 0;
}

static void *refresher(void *arg)
{
	cp_repo_lock *l = arg;
	pthread_mutex_lock(&l->mu);
	while (!l->stop) {
		struct timespec until;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += l->repo->lock_refresh;
		pthread_cond_timedwait(&l->cond, &l->mu, &until);
		if (l->stop)
			break;
		cp_lock_info info = l->info;
		char key[CP_KEY_MAX];
		pthread_mutex_unlock(&l->mu);
		int rc = write_lock(l->repo, &info, key);
		pthread_mutex_lock(&l->mu);
		if (rc) {
			cp_log(l->repo->ctx, CP_LOG_WARN, "cannot refresh repository lock: %s",
			       cp_error_last() ? cp_error_last()->message : "error");
			continue;
		}
		char old[CP_KEY_MAX];
		memcpy(old, l->key, sizeof(old));
		memcpy(l->key, key, sizeof(key));
		l->info = info;
		pthread_mutex_unlock(&l->mu);
		cp_objstore_remove(l->repo->store, old);
		pthread_mutex_lock(&l->mu);
	}
	pthread_mutex_unlock(&l->mu);
	cp_error_clear(); /* thread-local errors are not freed at thread exit */
	return NULL;
}

static void format_time(char *out, size_t n, int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;
	localtime_r(&tt, &tm);
	strftime(out, n, "%Y-%m-%d %H:%M:%S", &tm);
}

int cp_repo_lock_acquire(cp_repo_lock **out, cp_repository *repo, int exclusive,
			 const char *operation)
{
	*out = NULL;
	cp_repo_lock *l = calloc(1, sizeof(*l));
	if (!l)
		return cp_error_oom();
	l->repo = repo;
	pthread_mutex_init(&l->mu, NULL);
	pthread_cond_init(&l->cond, NULL);
	cp_lock_info *info = &l->info;
	snprintf(info->hostname, sizeof(info->hostname), "%s", repo->hostname);
	snprintf(info->operation, sizeof(info->operation), "%s", operation);
	info->pid = (int64_t)getpid();
	info->created = (int64_t)time(NULL);
	info->exclusive = exclusive;
	int rc = write_lock(repo, info, l->key);
	if (rc) {
		cp_repo_lock_release(l);
		return cp_error_prefix(rc, "cannot lock the repository: ");
	}
	/*
	 * A refresh writes the new object before it removes the old one, so a
	 * listing that finds a lock gone is repeated: the next one sees its
	 * replacement. Locks that keep vanishing count as held.
	 */
	scan_state s;
	int scans = 0;
	do {
		memset(&s, 0, sizeof(s));
		s.repo = repo;
		s.own_key = l->key;
		s.exclusive = exclusive;
		s.now = (int64_t)time(NULL);
		rc = cp_objstore_list(repo->store, CP_DIR_LOCKS "/", scan_conflict, &s);
		if (rc == 1)
			rc = 0;
	} while (!rc && !s.conflict && s.vanished && ++scans < MAX_SCANS);
	if (!rc && !s.conflict && s.vanished)
		rc = cp_error_set(CP_ELOCKED, CP_ERRCLASS_REPOSITORY,
				  "the repository's locks kept changing while they were read; try "
				  "again in a moment");
	if (!rc && s.conflict) {
		char since[32];
		format_time(since, sizeof(since), s.holder.created);
		rc = cp_error_set(
			CP_ELOCKED, CP_ERRCLASS_REPOSITORY,
			"the repository is locked %sby %s (pid %lld on host %s, since %s); try "
			"again when it is done, and if that process is gone, run `cloudprotect "
			"unlock`",
			s.holder.exclusive ? "exclusively " : "",
			s.holder.operation[0] ? s.holder.operation : "another process",
			(long long)s.holder.pid, s.holder.hostname, since);
	}
	if (!rc) {
		if (pthread_create(&l->thread, NULL, refresher, l))
			rc = cp_error_set(CP_ERROR, CP_ERRCLASS_OS,
					  "cannot start the lock refresh thread");
		else
			l->thread_started = 1;
	}
	if (rc) {
		cp_error_saved saved;
		cp_error_save(&saved);
		cp_repo_lock_release(l);
		cp_error_restore(&saved);
		return rc;
	}
	*out = l;
	return 0;
}

int cp_repo_lock_check(cp_repo_lock *l)
{
	pthread_mutex_lock(&l->mu);
	int64_t expires = l->info.expires;
	pthread_mutex_unlock(&l->mu);
	/*
	 * Refreshed locks have nearly their whole lifetime left; demanding a
	 * third of it keeps a margin for the writes that follow this check.
	 */
	if (expires - (int64_t)time(NULL) < l->repo->lock_ttl / 3)
		return cp_error_set(CP_ELOCKED, CP_ERRCLASS_REPOSITORY,
				    "this process's repository lock could not be refreshed in "
				    "time and is about to expire, so another process may break "
				    "it; the operation stops here (run it again)");
	return 0;
}

void cp_repo_lock_release(cp_repo_lock *l)
{
	if (!l)
		return;
	if (l->thread_started) {
		pthread_mutex_lock(&l->mu);
		l->stop = 1;
		pthread_cond_signal(&l->cond);
		pthread_mutex_unlock(&l->mu);
		pthread_join(l->thread, NULL);
	}
	if (l->key[0]) {
		cp_error_saved saved;
		cp_error_save(&saved);
		cp_objstore_remove(l->repo->store, l->key);
		cp_error_restore(&saved);
	}
	pthread_mutex_destroy(&l->mu);
	pthread_cond_destroy(&l->cond);
	free(l);
}

static int unlock_one(const char *key, const cp_object_info *oi, void *payload)
{
	scan_state *s = payload;
	cp_lock_info info;
	if (!s->all) {
		int rc = read_lock(s->repo, key, &info);
		if (rc == CP_ENOTFOUND) {
			cp_error_clear();
			return 0;
		}
		/* An unreadable lock cannot be anyone's: remove it. */
		if (rc == 0 && !cp_lock_is_stale(&info, s->repo->hostname, s->now))
			return 0;
		if (rc && rc != CP_EINVALID)
			return rc;
	}
	int rc = cp_objstore_remove(s->repo->store, key);
	if (rc == CP_ENOTFOUND) {
		cp_error_clear();
		return 0;
	}
	if (!rc)
		s->removed++;
	return rc;
}

int cp_repository_unlock(cp_repository *repo, int all, unsigned int *removed)
{
	scan_state s;
	memset(&s, 0, sizeof(s));
	s.repo = repo;
	s.own_key = "";
	s.now = (int64_t)time(NULL);
	s.all = all;
	int rc = cp_objstore_list(repo->store, CP_DIR_LOCKS "/", unlock_one, &s);
	if (removed)
		*removed = s.removed;
	if (!rc)
		cp_log(repo->ctx, CP_LOG_INFO, "removed %u lock(s)", s.removed);
	return rc;
}
