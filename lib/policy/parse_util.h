/* Reading typed fields out of a yajl tree with errors that name the field path. */
#ifndef CP_LIB_POLICY_PARSE_UTIL_H
#define CP_LIB_POLICY_PARSE_UTIL_H

#include "policy_internal.h"

#include <yajl/yajl_tree.h>

/** The text of a value already known to be a string (yajl's macro may yield NULL). */
#define CP_JSTR(v) ((const char *)(v)->u.string)

/** "a.b" into buf; returns buf. */
const char *cp_field_path(char *buf, size_t len, const char *prefix, const char *key);
/** A short description of a value for messages: "\"x\"", "42", "an object", ... */
const char *cp_json_repr(yajl_val v, char *buf, size_t len);
/** Fail on members not in allowed (NULL-terminated), listing what is allowed. */
int cp_check_keys(const cp_policy *p, yajl_val obj, const char *path, const char *const *allowed);
/** Require obj to be an object (when present). */
int cp_want_object(const cp_policy *p, yajl_val v, const char *path);
/** Integer in [min, max]; dflt when absent. */
int cp_get_uint(const cp_policy *p, yajl_val obj, const char *prefix, const char *key,
		unsigned int min, unsigned int max, unsigned int dflt, unsigned int *out);
/** Boolean; dflt when absent. */
int cp_get_bool(const cp_policy *p, yajl_val obj, const char *prefix, const char *key, int dflt,
		int *out);
/** strdup'd string, or NULL when absent and not required. */
int cp_get_string(const cp_policy *p, yajl_val obj, const char *prefix, const char *key,
		  int required, char **out);
/** An array of strings (a single string is taken as a list of one). */
int cp_get_strings(const cp_policy *p, yajl_val obj, const char *prefix, const char *key,
		   char ***out, size_t *count);
void cp_strings_free(char **list, size_t count);

/** Parse a "schedule" object at path into s. */
int cp_parse_schedule(const cp_policy *p, yajl_val v, const char *path, cp_schedule *s);

#endif
