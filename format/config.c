#include "format/config.h"
#include "format/bytes.h"

#include "error.h"
#include "json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int bad(const char *what)
{
	return cp_error_set(CP_EINVALID, CP_ERRCLASS_REPOSITORY,
			    "repository config is invalid: %s (was the 'config' object edited?)",
			    what);
}

static int is_pow2(uint64_t v)
{
	return v && !(v & (v - 1));
}

/* Check the parsed document and fill out; returns the first problem found. */
static int check_fields(cp_config *out, yajl_val root)
{
	int64_t version = 0, chunk = 0, pack = 0, level = 0, days = 0, created = 0;
	const char *format = cp_json_str(root, "format");
	const char *id = cp_json_str(root, "id");
	const char *compression = cp_json_str(root, "compression");
	const char *sclass = cp_json_str(root, "storage_class");
	int rc;
	if (!YAJL_IS_OBJECT(root))
		return bad("not a JSON object");
	if (!format || strcmp(format, CP_FORMAT_NAME))
		return bad("'format' is not \"" CP_FORMAT_NAME "\"");
	if ((rc = cp_json_int(root, "version", &version, 0)))
		return rc;
	if (version < 1)
		return bad("'version' is missing");
	if (version > CP_FORMAT_VERSION)
		return cp_error_set(CP_EUNSUPPORTED, CP_ERRCLASS_REPOSITORY,
				    "the repository has format version %lld but this library reads "
				    "versions up to %d; upgrade libcloudprotect",
				    (long long)version, CP_FORMAT_VERSION);
	if (!id || !cp_is_hex_id(id))
		return bad("'id' is not 64 hex digits");
	if ((rc = cp_json_int(root, "chunk_size", &chunk, 0)) ||
	    (rc = cp_json_int(root, "pack_size", &pack, 0)) ||
	    (rc = cp_json_int(root, "compression_level", &level, 0)) ||
	    (rc = cp_json_int(root, "immutable_days", &days, 0)) ||
	    (rc = cp_json_int(root, "created", &created, 0)))
		return rc;
	if (chunk < CP_MIN_CHUNK_SIZE || chunk > CP_MAX_CHUNK_SIZE || !is_pow2((uint64_t)chunk))
		return bad("'chunk_size' must be a power of two from 1 KiB to 64 MiB");
	if (pack < CP_MIN_PACK_SIZE || pack > CP_MAX_PACK_SIZE)
		return bad("'pack_size' must be from 4 KiB to 1 GiB");
	if (!compression || strcmp(compression, "zstd"))
		return bad("'compression' must be \"zstd\"");
	if (level < 1 || level > 22)
		return bad("'compression_level' must be from 1 to 22");
	if (days < 0 || days > CP_MAX_IMMUTABLE_DAYS)
		return bad("'immutable_days' must be from 0 to 36500");
	size_t sclass_len = sclass ? strlen(sclass) : 0;
	if (sclass_len >= sizeof(out->storage_class))
		return bad("'storage_class' is too long");
	out->version = (unsigned int)version;
	memcpy(out->id, id, 65);
	out->chunk_size = (uint32_t)chunk;
	out->pack_size = (uint32_t)pack;
	out->compression_level = (int)level;
	out->immutable_days = (unsigned int)days;
	out->created = created;
	if (sclass)
		memcpy(out->storage_class, sclass, sclass_len + 1);
	return 0;
}

int cp_config_parse(cp_config *out, const char *text, size_t len)
{
	memset(out, 0, sizeof(*out));
	if (memchr(text, '\0', len))
		return bad("it contains a NUL byte");
	char *copy = strndup(text, len);
	if (!copy)
		return cp_error_oom();
	yajl_val root = NULL;
	int rc = cp_json_parse(&root, copy, "repository config");
	free(copy);
	if (rc)
		return rc;
	rc = check_fields(out, root);
	yajl_tree_free(root);
	return rc;
}

int cp_config_write(const cp_config *cfg, cp_buf *out)
{
	cp_json_writer w;
	int rc = cp_json_writer_init(&w, 1);
	if (rc)
		return rc;
	cp_json_begin_map(&w);
	cp_json_kv_str(&w, "format", CP_FORMAT_NAME);
	cp_json_kv_int(&w, "version", cfg->version);
	cp_json_kv_str(&w, "id", cfg->id);
	cp_json_kv_int(&w, "chunk_size", cfg->chunk_size);
	cp_json_kv_int(&w, "pack_size", cfg->pack_size);
	cp_json_kv_str(&w, "compression", "zstd");
	cp_json_kv_int(&w, "compression_level", cfg->compression_level);
	cp_json_kv_str(&w, "storage_class", cfg->storage_class[0] ? cfg->storage_class : NULL);
	cp_json_kv_int(&w, "immutable_days", cfg->immutable_days);
	cp_json_kv_int(&w, "created", cfg->created);
	cp_json_end_map(&w);
	rc = cp_json_writer_finish(&w, out);
	cp_json_writer_dispose(&w);
	return rc;
}
