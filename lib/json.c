#include "json.h"
#include "error.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

int cp_json_parse(yajl_val *out, const char *text, const char *what)
{
	char err[256];
	err[0] = '\0';
	*out = yajl_tree_parse(text ? text : "", err, sizeof(err));
	if (!*out) {
		/* yajl ends its message with a newline and a caret diagram; keep the first line. */
		char *nl = strchr(err, '\n');
		if (nl)
			*nl = '\0';
		return cp_error_set(CP_EINVALID, CP_ERRCLASS_CONFIG, "%s is not valid JSON: %s",
				    what, err[0] ? err : "parse error");
	}
	return 0;
}

yajl_val cp_json_get(yajl_val obj, const char *key)
{
	if (!obj || !YAJL_IS_OBJECT(obj))
		return NULL;
	for (size_t i = 0; i < obj->u.object.len; i++)
		if (!strcmp(obj->u.object.keys[i], key))
			return obj->u.object.values[i];
	return NULL;
}

const char *cp_json_str(yajl_val obj, const char *key)
{
	yajl_val v = cp_json_get(obj, key);
	return v && YAJL_IS_STRING(v) ? YAJL_GET_STRING(v) : NULL;
}

int cp_json_int(yajl_val obj, const char *key, int64_t *out, int64_t dflt)
{
	yajl_val v = cp_json_get(obj, key);
	if (!v || YAJL_IS_NULL(v)) {
		*out = dflt;
		return 0;
	}
	if (!YAJL_IS_INTEGER(v))
		return cp_error_set(CP_EINVALID, CP_ERRCLASS_CONFIG,
				    "field '%s' must be an integer", key);
	*out = YAJL_GET_INTEGER(v);
	return 0;
}

int cp_json_writer_init(cp_json_writer *w, int pretty)
{
	w->gen = yajl_gen_alloc(NULL);
	if (!w->gen)
		return cp_error_oom();
	if (pretty) {
		yajl_gen_config(w->gen, yajl_gen_beautify, 1);
		yajl_gen_config(w->gen, yajl_gen_indent_string, "  ");
	}
	return 0;
}

void cp_json_writer_dispose(cp_json_writer *w)
{
	if (w->gen)
		yajl_gen_free(w->gen);
	w->gen = NULL;
}

void cp_json_key(cp_json_writer *w, const char *key)
{
	yajl_gen_string(w->gen, (const unsigned char *)key, strlen(key));
}

void cp_json_string(cp_json_writer *w, const char *value)
{
	if (value)
		yajl_gen_string(w->gen, (const unsigned char *)value, strlen(value));
	else
		yajl_gen_null(w->gen);
}

void cp_json_int64(cp_json_writer *w, int64_t value)
{
	yajl_gen_integer(w->gen, (long long)value);
}

void cp_json_uint64(cp_json_writer *w, uint64_t value)
{
	char num[24];
	int n = snprintf(num, sizeof(num), "%" PRIu64, value);
	yajl_gen_number(w->gen, num, (size_t)n);
}

void cp_json_double(cp_json_writer *w, double value)
{
	yajl_gen_double(w->gen, value);
}

void cp_json_bool(cp_json_writer *w, int value)
{
	yajl_gen_bool(w->gen, value);
}

void cp_json_null(cp_json_writer *w)
{
	yajl_gen_null(w->gen);
}

void cp_json_begin_map(cp_json_writer *w)
{
	yajl_gen_map_open(w->gen);
}

void cp_json_end_map(cp_json_writer *w)
{
	yajl_gen_map_close(w->gen);
}

void cp_json_begin_array(cp_json_writer *w)
{
	yajl_gen_array_open(w->gen);
}

void cp_json_end_array(cp_json_writer *w)
{
	yajl_gen_array_close(w->gen);
}

void cp_json_kv_str(cp_json_writer *w, const char *key, const char *value)
{
	cp_json_key(w, key);
	cp_json_string(w, value);
}

void cp_json_kv_int(cp_json_writer *w, const char *key, int64_t value)
{
	cp_json_key(w, key);
	cp_json_int64(w, value);
}

int cp_json_writer_finish(cp_json_writer *w, cp_buf *out)
{
	const unsigned char *text = NULL;
	size_t len = 0;
	if (yajl_gen_get_buf(w->gen, &text, &len) != yajl_gen_status_ok)
		return cp_error_set(CP_ERROR, CP_ERRCLASS_INVALID,
				    "internal error: unbalanced JSON");
	return cp_buf_put(out, text, len);
}
