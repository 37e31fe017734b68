#include "ctx.h"
#include "registry.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CP_VERSION_MAJOR 0
#define CP_VERSION_MINOR 1
#define CP_VERSION_PATCH 0

const char *cp_version(void)
{
	return "0.1.0";
}

void cp_version_numbers(int *major, int *minor, int *patch)
{
	if (major)
		*major = CP_VERSION_MAJOR;
	if (minor)
		*minor = CP_VERSION_MINOR;
	if (patch)
		*patch = CP_VERSION_PATCH;
}

int cp_ctx_options_init(cp_ctx_options *opts, unsigned int version)
{
	if (version != CP_CTX_OPTIONS_VERSION)
		return cp_error_set(
			CP_EINVALID, CP_ERRCLASS_INVALID,
			"cp_ctx_options version %u is not supported (this library knows %u)",
			version, CP_CTX_OPTIONS_VERSION);
	cp_ctx_options init = CP_CTX_OPTIONS_INIT;
	*opts = init;
	return 0;
}

int cp_ctx_new(cp_ctx **out, const cp_ctx_options *opts)
{
	*out = NULL;
	if (opts && opts->version != CP_CTX_OPTIONS_VERSION)
		return cp_error_set(
			CP_EINVALID, CP_ERRCLASS_INVALID,
			"cp_ctx_options version %u is not supported (this library knows %u)",
			opts->version, CP_CTX_OPTIONS_VERSION);
	int rc = cp_registry_init();
	if (rc)
		return rc;
	cp_ctx *ctx = calloc(1, sizeof(*ctx));
	if (!ctx)
		return cp_error_oom();
	if (opts) {
		ctx->opts = *opts;
	} else {
		cp_ctx_options init = CP_CTX_OPTIONS_INIT;
		ctx->opts = init;
	}
	*out = ctx;
	return 0;
}

void cp_ctx_free(cp_ctx *ctx)
{
	free(ctx);
}

void cp_free(void *ptr)
{
	free(ptr);
}

void cp_log(cp_ctx *ctx, cp_log_level level, const char *fmt, ...)
{
	if (!ctx || !ctx->opts.log_cb || level > ctx->opts.log_level)
		return;
	char line[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	ctx->opts.log_cb(level, line, ctx->opts.log_payload);
}

unsigned int cp_ctx_threads(cp_ctx *ctx, unsigned int wanted)
{
	if (wanted)
		return wanted;
	if (ctx && ctx->opts.threads)
		return ctx->opts.threads;
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	if (n < 2)
		n = 2;
	if (n > 64)
		n = 64;
	return (unsigned int)n;
}

int cp_progress_report(cp_progress_cb cb, void *payload, const cp_progress *progress)
{
	if (cb && cb(progress, payload))
		return cp_error_set(CP_ECANCELLED, CP_ERRCLASS_CALLBACK,
				    "cancelled by the progress callback during %s",
				    progress->phase ? progress->phase : "the operation");
	return 0;
}
