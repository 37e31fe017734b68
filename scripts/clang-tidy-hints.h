/*
 * Force-included (-include) into every file clang-tidy analyses in
 * ./test.sh; never part of a build.
 *
 * The error setters live in lib/error.c, which the analyzer does not see
 * while it analyses another file, so it assumes `return cp_error_oom();`
 * may return 0 and then reports the impossible "succeeded with a NULL
 * result" paths that follow. These macros tell it what the functions
 * promise: they return the (non-zero) code they were given.
 */
#ifndef CP_CLANG_TIDY_HINTS_H
#define CP_CLANG_TIDY_HINTS_H

#ifdef __clang_analyzer__
#include "../lib/error.h"

#define cp_error_set(code, ...)	      ((void)cp_error_set(code, __VA_ARGS__), (code))
#define cp_error_set_os(code, ...)    ((void)cp_error_set_os(code, __VA_ARGS__), (code))
#define cp_error_set_cloud(code, ...) ((void)cp_error_set_cloud(code, __VA_ARGS__), (code))
#define cp_error_prefix(code, ...)    ((void)cp_error_prefix(code, __VA_ARGS__), (code))
#define cp_error_oom()		      ((void)cp_error_oom(), CP_ENOMEM)
#endif

#endif
