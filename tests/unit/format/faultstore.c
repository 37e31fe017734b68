#include "faultstore.h"

#include "cloudprotect/sys/objstore.h"
#include "error.h"
#include "testutil.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SCHEME "fault://"
#define INNER  "file://"

/* A paused child is resumed long before this; the cap only ends a hung test. */
#define PAUSE_WAIT_CAP_MS (180 * 1000)

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t resumed = PTHREAD_COND_INITIALIZER;
static unsigned long changes, kill_at, pause_at;
static int kill_before, paused;
static int tell_fd = -1, wait_fd = -1;
static void (*list_hook)(void *);
static void *list_hook_arg;

static void die(void)
{
	raise(SIGKILL);
	_exit(137); /* not reached */
}

/* Before a change: wait while paused, then number it. */
static unsigned long change_begin(void)
{
	pthread_mutex_lock(&mu);
	while (paused)
		pthread_cond_wait(&resumed, &mu);
	unsigned long n = ++changes;
	int die_now = n == kill_at && kill_before;
	pthread_mutex_unlock(&mu);
	if (die_now)
		die();
	return n;
}

/* After change n is made. */
static void change_end(unsigned long n)
{
	pthread_mutex_lock(&mu);
	int die_now = n == kill_at, pause_now = n == pause_at;
	if (pause_now)
		paused = 1;
	pthread_mutex_unlock(&mu);
	if (die_now)
		die();
	if (!pause_now)
		return;
	char c = 'p';
	if (write(tell_fd, &c, 1) != 1)
		die(); /* the parent is gone: nobody will resume us */
	ssize_t r;
	do
		r = read(wait_fd, &c, 1);
	while (r < 0 && errno == EINTR);
	pthread_mutex_lock(&mu);
	paused = 0;
	pthread_cond_broadcast(&resumed);
	pthread_mutex_unlock(&mu);
}

/* ---- the store: the file store, with every change counted ---- */

static int fault_open(void **state, cp_ctx *ctx, const char *url, int create)
{
	char *inner_url = NULL;
	if (strncmp(url, SCHEME, strlen(SCHEME)))
		return cp_error_set(CP_EINVALID, CP_ERRCLASS_INVALID,
				    "'%s' is not a " SCHEME " URL; make it with fault_store_url",
				    url);
	if (asprintf(&inner_url, INNER "%s", url + strlen(SCHEME)) < 0)
		return cp_error_oom();
	cp_objstore *inner = NULL;
	int rc = cp_objstore_open(&inner, ctx, inner_url, create);
	free(inner_url);
	*state = inner;
	return rc;
}

static void fault_close(void *state)
{
	cp_objstore_close(state);
}

static int fault_put(void *state, const char *key, const void *data, size_t len,
		     const cp_put_options *opts)
{
	unsigned long n = change_begin();
	int rc = cp_objstore_put(state, key, data, len, opts);
	change_end(n);
	return rc;
}

static int fault_get(void *state, const char *key, uint64_t offset, uint64_t length, cp_buf *out)
{
	return cp_objstore_get(state, key, offset, length, out);
}

static int fault_head(void *state, const char *key, cp_object_info *info)
{
	return cp_objstore_head(state, key, info);
}

typedef struct {
	char **keys;
	cp_object_info *infos;
	size_t n, cap;
} listing;

static int collect(const char *key, const cp_object_info *info, void *payload)
{
	listing *l = payload;
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 16;
		char **keys = realloc(l->keys, cap * sizeof(*keys));
		if (keys)
			l->keys = keys;
		cp_object_info *infos = keys ? realloc(l->infos, cap * sizeof(*infos)) : NULL;
		if (!infos)
			return cp_error_oom();
		l->infos = infos;
		l->cap = cap;
	}
	if (!(l->keys[l->n] = strdup(key)))
		return cp_error_oom();
	l->infos[l->n++] = *info;
	return 0;
}

/* The whole listing is read before any key is handed on, so a hook can run in between. */
static int fault_list(void *state, const char *prefix, cp_object_list_cb cb, void *payload)
{
	listing l = {NULL, NULL, 0, 0};
	int rc = cp_objstore_list(state, prefix, collect, &l);
	pthread_mutex_lock(&mu);
	void (*hook)(void *) = list_hook;
	void *arg = list_hook_arg;
	list_hook = NULL;
	pthread_mutex_unlock(&mu);
	if (!rc && hook)
		hook(arg);
	for (size_t i = 0; i < l.n && !rc; i++)
		rc = cb(l.keys[i], &l.infos[i], payload);
	for (size_t i = 0; i < l.n; i++)
		free(l.keys[i]);
	free(l.keys);
	free(l.infos);
	return rc;
}

static int fault_remove(void *state, const char *key)
{
	unsigned long n = change_begin();
	int rc = cp_objstore_remove(state, key);
	change_end(n);
	return rc;
}

typedef struct {
	cp_objstore_writer base;
	cp_objstore_writer *inner;
} fault_writer;

static int fw_write(cp_objstore_writer *self, const void *data, size_t len)
{
	unsigned long n = change_begin();
	int rc = cp_objstore_writer_write(((fault_writer *)self)->inner, data, len);
	change_end(n);
	return rc;
}

static int fw_commit(cp_objstore_writer *self)
{
	unsigned long n = change_begin();
	int rc = cp_objstore_writer_commit(((fault_writer *)self)->inner);
	change_end(n);
	return rc;
}

static void fw_free(cp_objstore_writer *self)
{
	cp_objstore_writer_free(((fault_writer *)self)->inner);
	free(self);
}

static int fault_writer_open(void *state, const char *key, const cp_put_options *opts,
			     cp_objstore_writer **out)
{
	fault_writer *w = calloc(1, sizeof(*w));
	if (!w)
		return cp_error_oom();
	unsigned long n = change_begin();
	int rc = cp_objstore_writer_open(state, key, opts, &w->inner);
	change_end(n);
	if (rc) {
		free(w);
		return rc;
	}
	w->base.version = CP_OBJSTORE_WRITER_VERSION;
	w->base.write = fw_write;
	w->base.commit = fw_commit;
	w->base.free = fw_free;
	*out = &w->base;
	return 0;
}

static int fault_check_settings(void *state, const cp_objstore_settings *settings, int create)
{
	return cp_objstore_check_settings(state, settings, create);
}

static int fault_retain(void *state, const char *key, int64_t until)
{
	unsigned long n = change_begin();
	int rc = cp_objstore_retain(state, key, until);
	change_end(n);
	return rc;
}

static int fault_rehydrate(void *state, const char *key, const char *tier, unsigned int days)
{
	return cp_objstore_rehydrate(state, key, tier, days);
}

static const cp_objstore_ops fault_ops = {
	.version = CP_OBJSTORE_OPS_VERSION,
	.scheme = "fault",
	.description = "file store with injected crashes and pauses (tests only)",
	.open = fault_open,
	.close = fault_close,
	.put = fault_put,
	.get = fault_get,
	.head = fault_head,
	.list = fault_list,
	.remove = fault_remove,
	.writer_open = fault_writer_open,
	.check_settings = fault_check_settings,
	.retain = fault_retain,
	.rehydrate = fault_rehydrate,
};

void fault_store_register(void)
{
	static int done;
	/* Called from main, outside any test: check's asserts cannot report here. */
	if (!done && cp_objstore_register(&fault_ops)) {
		fprintf(stderr, "cannot register the fault:// store: %s\n", tu_last_message());
		abort();
	}
	done = 1;
}

void fault_store_url(char *out, size_t size, const char *file_url)
{
	ck_assert_msg(!strncmp(file_url, INNER, strlen(INNER)), "not a file:// URL: %s", file_url);
	int n = snprintf(out, size, SCHEME "%s", file_url + strlen(INNER));
	ck_assert(n > 0 && (size_t)n < size);
}

unsigned long fault_store_changes(void)
{
	pthread_mutex_lock(&mu);
	unsigned long n = changes;
	pthread_mutex_unlock(&mu);
	return n;
}

void fault_store_reset(void)
{
	pthread_mutex_lock(&mu);
	changes = kill_at = pause_at = 0;
	kill_before = 0;
	list_hook = NULL;
	pthread_mutex_unlock(&mu);
}

void fault_store_kill_at(unsigned long n, int before)
{
	pthread_mutex_lock(&mu);
	kill_at = n;
	kill_before = before;
	pthread_mutex_unlock(&mu);
}

void fault_store_on_next_list(void (*fn)(void *), void *arg)
{
	pthread_mutex_lock(&mu);
	list_hook = fn;
	list_hook_arg = arg;
	pthread_mutex_unlock(&mu);
}

void fault_pause_init(fault_pause *p)
{
	ck_assert_int_eq(pipe(p->paused), 0);
	ck_assert_int_eq(pipe(p->resume), 0);
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

void fault_store_pause_at(unsigned long n, fault_pause *p)
{
	close_fd(&p->paused[0]);
	close_fd(&p->resume[1]);
	pthread_mutex_lock(&mu);
	pause_at = n;
	tell_fd = p->paused[1];
	wait_fd = p->resume[0];
	pthread_mutex_unlock(&mu);
}

int fault_pause_wait(fault_pause *p)
{
	/* Without these the parent would never see the end of a child that did not stop. */
	close_fd(&p->paused[1]);
	close_fd(&p->resume[0]);
	struct pollfd pfd = {p->paused[0], POLLIN, 0};
	int ready;
	do
		ready = poll(&pfd, 1, PAUSE_WAIT_CAP_MS);
	while (ready < 0 && errno == EINTR);
	ck_assert_msg(ready == 1, "the child neither stopped nor ended within %d s",
		      PAUSE_WAIT_CAP_MS / 1000);
	char c;
	return read(p->paused[0], &c, 1) == 1;
}

void fault_pause_resume(fault_pause *p)
{
	char c = 'r';
	ck_assert_int_eq(write(p->resume[1], &c, 1), 1);
}

void fault_pause_dispose(fault_pause *p)
{
	close_fd(&p->paused[0]);
	close_fd(&p->paused[1]);
	close_fd(&p->resume[0]);
	close_fd(&p->resume[1]);
}
