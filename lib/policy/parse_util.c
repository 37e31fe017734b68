/* Typed field access for the policy parser; every error names the field path. */
#include "parse_util.h"
#include "error.h"
#include "json.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cp_policy_error(const cp_policy *p, const char *path, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return cp_error_set(CP_EINVALID, CP_ERRCLASS_POLICY, "%s: %s: %s",
			    p->origin ? p->origin : "policy", path, msg);
}

const char *cp_field_path(char *buf, size_t len, const char *prefix, const char *key)
{
	if (prefix && *prefix)
		snprintf(buf, len, "%s.%s", prefix, key);
	else
		snprintf(buf, len, "%s", key);
	return buf;
}

const char *cp_json_repr(yajl_val v, char *buf, size_t len)
{
	if (!v || YAJL_IS_NULL(v))
		snprintf(buf, len, "null");
	else if (YAJL_IS_STRING(v))
		snprintf(buf, len, "\"%.60s\"", CP_JSTR(v));
	else if (YAJL_IS_INTEGER(v))
		snprintf(buf, len, "%lld", (long long)YAJL_GET_INTEGER(v));
	else if (YAJL_IS_NUMBER(v))
		snprintf(buf, len, "%.60s", YAJL_GET_NUMBER(v));
	else if (YAJL_IS_TRUE(v))
		snprintf(buf, len, "true");
	else if (YAJL_IS_FALSE(v))
		snprintf(buf, len, "false");
	else if (YAJL_IS_OBJECT(v))
		snprintf(buf, len, "an object");
	else
		snprintf(buf, len, "an array");
	return buf;
}

int cp_check_keys(const cp_policy *p, yajl_val obj, const char *path, const char *const *allowed)
{
	for (size_t i = 0; i < obj->u.object.len; i++) {
		const char *key = obj->u.object.keys[i];
		int known = 0;
		for (size_t j = 0; allowed[j] && !known; j++)
			known = !strcmp(key, allowed[j]);
		if (known)
			continue;
		char list[256] = "";
		size_t pos = 0;
		for (size_t j = 0; allowed[j] && pos < sizeof(list); j++) {
			int n = snprintf(list + pos, sizeof(list) - pos, "%s%s", j ? ", " : "",
					 allowed[j]);
			pos += n > 0 ? (size_t)n : 0;
		}
		char field[256];
		return cp_policy_error(p, cp_field_path(field, sizeof(field), path, key),
				       "unknown field; allowed here: %s", list);
	}
	return 0;
}

int cp_want_object(const cp_policy *p, yajl_val v, const char *path)
{
	if (v && !YAJL_IS_OBJECT(v)) {
		char got[80];
		return cp_policy_error(p, path, "must be an object, got %s",
				       cp_json_repr(v, got, sizeof(got)));
	}
	return 0;
}

int cp_get_uint(const cp_policy *p, yajl_val obj, const char *prefix, const char *key,
		unsigned int min, unsigned int max, unsigned int dflt, unsigned int *out)
{
	yajl_val v = cp_json_get(obj, key);
	if (!v) {
		*out = dflt;
		return 0;
	}
	if (!YAJL_IS_INTEGER(v) || YAJL_GET_INTEGER(v) < min || YAJL_GET_INTEGER(v) > max) {
		char field[256], got[80];
		return cp_policy_error(p, cp_field_path(field, sizeof(field), prefix, key),
				       "must be an integer %u..%u, got %s", min, max,
				       cp_json_repr(v, got, sizeof(got)));
	}
	*out = (unsigned int)YAJL_GET_INTEGER(v);
	return 0;
}

int cp_get_bool(const cp_policy *p, yajl_val obj, const char *prefix, const char *key, int dflt,
		int *out)
{
	yajl_val v = cp_json_get(obj, key);
	if (!v) {
		*out = dflt;
		return 0;
	}
	if (!YAJL_IS_TRUE(v) && !YAJL_IS_FALSE(v)) {
		char field[256], got[80];
		return cp_policy_error(p, cp_field_path(field, sizeof(field), prefix, key),
				       "must be true or false, got %s",
				       cp_json_repr(v, got, sizeof(got)));
	}
	*out = YAJL_IS_TRUE(v);
	return 0;
}

int cp_get_string(const cp_policy *p, yajl_val obj, const char *prefix, const char *key,
		  int required, char **out)
{
	char field[256], got[80];
	yajl_val v = cp_json_get(obj, key);
	*out = NULL;
	if (!v) {
		if (required)
			return cp_policy_error(p, cp_field_path(field, sizeof(field), prefix, key),
					       "is required");
		return 0;
	}
	if (!YAJL_IS_STRING(v) || !*CP_JSTR(v))
		return cp_policy_error(p, cp_field_path(field, sizeof(field), prefix, key),
				       "must be a non-empty string, got %s",
				       cp_json_repr(v, got, sizeof(got)));
	*out = strdup(CP_JSTR(v));
	return *out ? 0 : cp_error_oom();
}

void cp_strings_free(char **list, size_t count)
{
	for (size_t i = 0; i < count; i++)
		free(list[i]);
	free(list);
}

int cp_get_strings(const cp_policy *p, yajl_val obj, const char *prefix, const char *key,
		   char ***out, size_t *count)
{
	char field[256], got[80];
	yajl_val v = cp_json_get(obj, key);
	*out = NULL;
	*count = 0;
	if (!v)
		return 0;
	cp_field_path(field, sizeof(field), prefix, key);
	size_t n = YAJL_IS_ARRAY(v) ? v->u.array.len : 1;
	if (!YAJL_IS_ARRAY(v) && !YAJL_IS_STRING(v))
		return cp_policy_error(p, field, "must be a string or an array of strings, got %s",
				       cp_json_repr(v, got, sizeof(got)));
	char **list = calloc(n ? n : 1, sizeof(*list));
	if (!list)
		return cp_error_oom();
	for (size_t i = 0; i < n; i++) {
		yajl_val item = YAJL_IS_ARRAY(v) ? v->u.array.values[i] : v;
		if (!YAJL_IS_STRING(item) || !*CP_JSTR(item)) {
			cp_strings_free(list, i);
			char at[280];
			snprintf(at, sizeof(at), "%s[%zu]", field, i);
			return cp_policy_error(p, at, "must be a non-empty string, got %s",
					       cp_json_repr(item, got, sizeof(got)));
		}
		list[i] = strdup(CP_JSTR(item));
		if (!list[i]) {
			cp_strings_free(list, i);
			return cp_error_oom();
		}
	}
	*out = list;
	*count = n;
	return 0;
}
