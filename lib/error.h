/* Raising errors: every failure path sets the thread's last error once. */
#ifndef CP_LIB_ERROR_H
#define CP_LIB_ERROR_H

#include "cloudprotect/common.h"

#if defined(__GNUC__) || defined(__clang__)
#define CP_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define CP_PRINTF(f, a)
#endif

/** Set the last error and return code, so callers write `return cp_error_set(...)`. */
int cp_error_set(int code, int klass, const char *fmt, ...) CP_PRINTF(3, 4);

/** As cp_error_set, appending ": strerror(errnum)"; maps ENOSPC/EDQUOT/EFBIG to CP_ENOSPC and ENOENT to CP_ENOTFOUND when code is CP_EIO. */
int cp_error_set_os(int code, int errnum, const char *fmt, ...) CP_PRINTF(3, 4);

/** Set an error that came from a cloud's answer. */
int cp_error_set_cloud(int code, int klass, int http_status, const char *cloud_code,
		       const char *request_id, const char *fmt, ...) CP_PRINTF(6, 7);

/** Prefix the current error's message with context ("reading pack X: "). Returns code. */
int cp_error_prefix(int code, const char *fmt, ...) CP_PRINTF(2, 3);

int cp_error_oom(void);

/** Save and restore the last error across cleanup that may overwrite it. */
typedef struct cp_error_saved {
	int code, klass, http_status;
	char *message, *cloud_code, *request_id;
} cp_error_saved;
void cp_error_save(cp_error_saved *saved);
void cp_error_restore(cp_error_saved *saved);

#endif
