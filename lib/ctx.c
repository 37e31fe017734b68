#include "ctx.h"
#include "registry.h"

#include <stdarg.h>
#include <stddef.h>
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

/* Version 1 ended after threads; a version-1 caller's struct is no longer than that. */
#define CTX_OPTIONS_V1_SIZE (offsetof(cp_ctx_options, threads) + sizeof(unsigned int))

static int check_version(unsigned int version)
{
	if (version < 1 || version > CP_CTX_OPTIONS_VERSION)
		return cp_error_set(
			CP_EINVALID, CP_ERRCLASS_INVALID,
			"cp_ctx_options version %u is not supported (this library knows 1 to %u)",
			version, CP_CTX_OPTIONS_VERSION);
	return 0;
}

static size_t options_size(unsigned int version)
{
	return version >= 2 ? sizeof(cp_ctx_options) : CTX_OPTIONS_V1_SIZE;
}

int cp_ctx_options_init(cp_ctx_options *opts, unsigned int version)
{
	int rc = check_version(version);
	if (rc)
		return rc;
	cp_ctx_options init = CP_CTX_OPTIONS_INIT;
	init.version = version;
	/* Never write past what a caller built against an older header has. */
	memcpy(opts, &init, options_size(version));
	return 0;
}

static void free_strings(cp_ctx_options *o)
{
	free((char *)o->proxy);
	free((char *)o->no_proxy);
	free((char *)o->ca_file);
	free((char *)o->ca_path);
}

int cp_ctx_new(cp_ctx **out, const cp_ctx_options *opts)
{
	*out = NULL;
	int rc = opts ? check_version(opts->version) : 0;
	if (rc)
		return rc;
	rc = cp_registry_init();
	if (rc)
		return rc;
	cp_ctx *ctx = calloc(1, sizeof(*ctx));
	if (!ctx)
		return cp_error_oom();
	cp_ctx_options init = CP_CTX_OPTIONS_INIT;
	ctx->opts = init;
	/* Fields newer than the caller's version keep their defaults. */
	if (opts)
		memcpy(&ctx->opts, opts, options_size(opts->version));
	ctx->opts.version = CP_CTX_OPTIONS_VERSION;
	atomic_init(&ctx->tls_warned, 0);
	const char **strs[] = {&ctx->opts.proxy, &ctx->opts.no_proxy, &ctx->opts.ca_file,
			       &ctx->opts.ca_path};
	int oom = 0;
	for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++) {
		const char *theirs = *strs[i];
		*strs[i] = theirs && !oom ? strdup(theirs) : NULL;
		if (theirs && !*strs[i])
			oom = 1;
	}
	if (oom) {
		free_strings(&ctx->opts);
		free(ctx);
		return cp_error_oom();
	}
	*out = ctx;
	return 0;
}

void cp_ctx_free(cp_ctx *ctx)
{
	if (!ctx)
		return;
	free_strings(&ctx->opts);
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
