/* The context: options every handle inherits, and logging. */
#ifndef CP_LIB_CTX_H
#define CP_LIB_CTX_H

#include "cloudprotect/common.h"
#include "error.h"

#include <stdatomic.h>

struct cp_ctx {
	cp_ctx_options opts;   /* always the newest version; its strings are owned copies */
	atomic_int tls_warned; /* the insecure-TLS warning is logged once per context */
};

/** Log a line through the context's callback; ctx may be NULL. Never pass secrets. */
void cp_log(cp_ctx *ctx, cp_log_level level, const char *fmt, ...) CP_PRINTF(3, 4);

/** Worker threads to use: wanted if non-zero, else the context's, else the CPU count (at least 2). */
unsigned int cp_ctx_threads(cp_ctx *ctx, unsigned int wanted);

/** Call a progress callback; returns CP_ECANCELLED (with the error set) if it asks to stop. */
int cp_progress_report(cp_progress_cb cb, void *payload, const cp_progress *progress);

#endif
