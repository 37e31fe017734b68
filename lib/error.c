#include "error.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
	cp_error pub;
	char *message;
	char *cloud_code;
	char *request_id;
	int set;
} thread_error;

static _Thread_local thread_error last;

static char *vformat(const char *fmt, va_list ap)
{
	va_list copy;
	va_copy(copy, ap);
	int n = vsnprintf(NULL, 0, fmt, copy);
	va_end(copy);
	if (n < 0)
		return NULL;
	char *s = malloc((size_t)n + 1);
	if (s)
		vsnprintf(s, (size_t)n + 1, fmt, ap);
	return s;
}

static void reset(void)
{
	free(last.message);
	free(last.cloud_code);
	free(last.request_id);
	memset(&last, 0, sizeof(last));
}

/* Threads that exit with an error set would leak its text; a key destructor frees it. */
static pthread_key_t exit_key;
static pthread_once_t exit_key_once = PTHREAD_ONCE_INIT;

static void free_at_thread_exit(void *unused)
{
	(void)unused;
	reset();
}

static void make_exit_key(void)
{
	pthread_key_create(&exit_key, free_at_thread_exit);
}

static void publish(int code, int klass, char *message)
{
	pthread_once(&exit_key_once, make_exit_key);
	if (!pthread_getspecific(exit_key))
		pthread_setspecific(exit_key, &last);
	reset();
	last.message = message;
	last.pub.code = code;
	last.pub.klass = klass;
	last.pub.message = message ? message : "out of memory";
	last.set = 1;
}

int cp_error_set(int code, int klass, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *msg = vformat(fmt, ap);
	va_end(ap);
	publish(code, klass, msg);
	return code;
}

int cp_error_set_os(int code, int errnum, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *head = vformat(fmt, ap);
	va_end(ap);
	if (code == CP_EIO) {
		if (errnum == ENOSPC || errnum == EDQUOT || errnum == EFBIG)
			code = CP_ENOSPC;
		else if (errnum == ENOENT)
			code = CP_ENOTFOUND;
		else if (errnum == ENOMEM)
			code = CP_ENOMEM;
	}
	char *msg = NULL;
	if (head) {
		const char *why = strerror(errnum);
		size_t n = strlen(head) + strlen(why) + 3;
		msg = malloc(n);
		if (msg)
			snprintf(msg, n, "%s: %s", head, why);
		free(head);
	}
	publish(code, CP_ERRCLASS_OS, msg);
	return code;
}

int cp_error_set_cloud(int code, int klass, int http_status, const char *cloud_code,
		       const char *request_id, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *msg = vformat(fmt, ap);
	va_end(ap);
	publish(code, klass, msg);
	last.pub.http_status = http_status;
	if (cloud_code)
		last.pub.cloud_code = last.cloud_code = strdup(cloud_code);
	if (request_id)
		last.pub.request_id = last.request_id = strdup(request_id);
	return code;
}

int cp_error_prefix(int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *head = vformat(fmt, ap);
	va_end(ap);
	if (!head)
		return code;
	if (!last.set) {
		publish(code, CP_ERRCLASS_NONE, head);
		return code;
	}
	size_t n = strlen(head) + strlen(last.pub.message) + 1;
	char *msg = malloc(n);
	if (msg) {
		snprintf(msg, n, "%s%s", head, last.pub.message);
		free(last.message);
		last.message = msg;
		last.pub.message = msg;
	}
	free(head);
	return code;
}

int cp_error_oom(void)
{
	publish(CP_ENOMEM, CP_ERRCLASS_NOMEMORY, NULL);
	return CP_ENOMEM;
}

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

void cp_error_save(cp_error_saved *saved)
{
	memset(saved, 0, sizeof(*saved));
	if (!last.set)
		return;
	saved->code = last.pub.code;
	saved->klass = last.pub.klass;
	saved->http_status = last.pub.http_status;
	saved->message = dup_or_null(last.pub.message);
	saved->cloud_code = dup_or_null(last.pub.cloud_code);
	saved->request_id = dup_or_null(last.pub.request_id);
}

void cp_error_restore(cp_error_saved *saved)
{
	if (!saved->code && !saved->message) {
		reset();
		return;
	}
	publish(saved->code, saved->klass, saved->message);
	last.pub.http_status = saved->http_status;
	last.pub.cloud_code = last.cloud_code = saved->cloud_code;
	last.pub.request_id = last.request_id = saved->request_id;
	memset(saved, 0, sizeof(*saved));
}

const cp_error *cp_error_last(void)
{
	return last.set ? &last.pub : NULL;
}

void cp_error_clear(void)
{
	reset();
}

const char *cp_error_code_name(int code)
{
	switch (code) {
	case CP_OK: return "ok";
	case CP_ERROR: return "error";
	case CP_ENOTFOUND: return "not found";
	case CP_EEXISTS: return "already exists";
	case CP_EINVALID: return "invalid input";
	case CP_EAUTH: return "authentication failed";
	case CP_EPASSWORD: return "wrong password";
	case CP_ECORRUPT: return "corrupt data";
	case CP_ENOSPC: return "no space left";
	case CP_ECANCELLED: return "cancelled";
	case CP_ELOCKED: return "locked";
	case CP_EUNSUPPORTED: return "not supported";
	case CP_ETHROTTLED: return "throttled";
	case CP_ETIMEOUT: return "timed out";
	case CP_EIO: return "I/O error";
	case CP_ENOMEM: return "out of memory";
	case CP_EBUSY: return "not ready";
	default: return "unknown error";
	}
}
