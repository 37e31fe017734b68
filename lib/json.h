/* JSON in and out, over yajl. */
#ifndef CP_LIB_JSON_H
#define CP_LIB_JSON_H

#include "cloudprotect/sys/objstore.h"

#include <stdint.h>
#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

/** Parse text; on failure sets CP_EINVALID naming what (e.g. "policy file x") and where. */
int cp_json_parse(yajl_val *out, const char *text, const char *what);

/** Look up a member of an object by a single key; NULL if absent or not an object. */
yajl_val cp_json_get(yajl_val obj, const char *key);
/** The string, or NULL when absent or not a string. */
const char *cp_json_str(yajl_val obj, const char *key);
/** Integer member; returns CP_EINVALID naming the field when present but not an integer. */
int cp_json_int(yajl_val obj, const char *key, int64_t *out, int64_t dflt);

/** A generator writing into a cp_buf. */
typedef struct cp_json_writer {
	yajl_gen gen;
} cp_json_writer;

int cp_json_writer_init(cp_json_writer *w, int pretty);
void cp_json_writer_dispose(cp_json_writer *w);
void cp_json_key(cp_json_writer *w, const char *key);
void cp_json_string(cp_json_writer *w, const char *value); /* NULL writes null */
void cp_json_int64(cp_json_writer *w, int64_t value);
void cp_json_uint64(cp_json_writer *w, uint64_t value);
void cp_json_double(cp_json_writer *w, double value);
void cp_json_bool(cp_json_writer *w, int value);
void cp_json_null(cp_json_writer *w);
void cp_json_begin_map(cp_json_writer *w);
void cp_json_end_map(cp_json_writer *w);
void cp_json_begin_array(cp_json_writer *w);
void cp_json_end_array(cp_json_writer *w);
/** key + string value in one call. */
void cp_json_kv_str(cp_json_writer *w, const char *key, const char *value);
void cp_json_kv_int(cp_json_writer *w, const char *key, int64_t value);
/** Copy the finished text into out (appends). */
int cp_json_writer_finish(cp_json_writer *w, cp_buf *out);

#endif
