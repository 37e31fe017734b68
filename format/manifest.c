#include "format/manifest.h"
#include "format/bytes.h"
#include "format/config.h"
#include "format/pack.h"

#include "error.h"
#include "json.h"

#include <stdlib.h>
#include <string.h>

void cp_manifest_dispose(cp_manifest *m)
{
	free(m->source);
	free(m->provider);
	free(m->snapshot_id);
	free(m->instance_id);
	free(m->group_id);
	free(m->parent);
	free(m->hostname);
	free(m->copied_from);
	for (size_t i = 0; i < m->ntags; i++) {
		free((char *)m->tags[i].key);
		free((char *)m->tags[i].value);
	}
	free(m->tags);
	free(m->map);
	memset(m, 0, sizeof(*m));
}

int cp_manifest_set_tags(cp_manifest *m, const cp_tag *tags, size_t ntags)
{
	if (!ntags)
		return 0;
	m->tags = calloc(ntags, sizeof(*m->tags));
	if (!m->tags)
		return cp_error_oom();
	for (size_t i = 0; i < ntags; i++, m->ntags++) {
		m->tags[i].key = strdup(tags[i].key ? tags[i].key : "");
		m->tags[i].value = strdup(tags[i].value ? tags[i].value : "");
		if (!m->tags[i].key || !m->tags[i].value) {
			m->ntags++;
			return cp_error_oom();
		}
	}
	return 0;
}

int cp_manifest_header_encode(const cp_manifest *m, cp_buf *out)
{
	cp_json_writer w;
	int rc = cp_json_writer_init(&w, 0);
	if (rc)
		return rc;
	cp_json_begin_map(&w);
	cp_json_kv_str(&w, "source", m->source);
	cp_json_kv_str(&w, "provider", m->provider);
	cp_json_kv_str(&w, "snapshot_id", m->snapshot_id);
	cp_json_kv_str(&w, "instance_id", m->instance_id);
	cp_json_kv_str(&w, "group_id", m->group_id);
	cp_json_kv_str(&w, "parent", m->parent);
	cp_json_kv_str(&w, "hostname", m->hostname);
	cp_json_kv_str(&w, "copied_from", m->copied_from);
	cp_json_kv_int(&w, "time", m->time);
	cp_json_kv_int(&w, "time_nsec", m->time_nsec);
	cp_json_key(&w, "size");
	cp_json_uint64(&w, m->size);
	cp_json_kv_int(&w, "chunk_size", m->chunk_size);
	cp_json_key(&w, "chunks");
	cp_json_uint64(&w, m->nchunks);
	cp_json_key(&w, "data_bytes");
	cp_json_uint64(&w, m->data_bytes);
	cp_json_key(&w, "new_bytes");
	cp_json_uint64(&w, m->new_bytes);
	cp_json_key(&w, "new_chunks");
	cp_json_uint64(&w, m->new_chunks);
	cp_json_key(&w, "read_bytes");
	cp_json_uint64(&w, m->read_bytes);
	cp_json_key(&w, "tags");
	cp_json_begin_array(&w);
	for (size_t i = 0; i < m->ntags; i++) {
		cp_json_begin_array(&w);
		cp_json_string(&w, m->tags[i].key);
		cp_json_string(&w, m->tags[i].value);
		cp_json_end_array(&w);
	}
	cp_json_end_array(&w);
	cp_json_end_map(&w);
	rc = cp_json_writer_finish(&w, out);
	cp_json_writer_dispose(&w);
	return rc;
}

static int corrupt(const char *what)
{
	return cp_error_set(CP_ECORRUPT, CP_ERRCLASS_REPOSITORY, "manifest is invalid: %s", what);
}

/* YAJL_GET_STRING may return NULL as far as the compiler knows. */
static char *dup_string(yajl_val v)
{
	const char *s = YAJL_GET_STRING(v);
	return strdup(s ? s : "");
}

static int opt_str(yajl_val root, const char *key, char **out)
{
	yajl_val v = cp_json_get(root, key);
	*out = NULL;
	if (!v || YAJL_IS_NULL(v))
		return 0;
	if (!YAJL_IS_STRING(v))
		return corrupt("a text field holds something else");
	*out = dup_string(v);
	return *out ? 0 : cp_error_oom();
}

/* Unsigned integers are written as plain numbers, which yajl may keep only as text. */
static int get_u64(yajl_val root, const char *key, uint64_t *out)
{
	yajl_val v = cp_json_get(root, key);
	*out = 0;
	if (!v || !YAJL_IS_NUMBER(v))
		return corrupt("a number field is missing");
	const char *s = YAJL_GET_NUMBER(v);
	if (!s || !*s)
		return corrupt("a number field is empty");
	uint64_t x = 0;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || x > (UINT64_MAX - 9) / 10)
			return corrupt("a number field is not a non-negative integer");
		x = x * 10 + (uint64_t)(*s - '0');
	}
	*out = x;
	return 0;
}

static int parse_tags(cp_manifest *m, yajl_val tags)
{
	if (!tags || YAJL_IS_NULL(tags))
		return 0;
	if (!YAJL_IS_ARRAY(tags))
		return corrupt("'tags' is not an array");
	size_t n = tags->u.array.len;
	if (!n)
		return 0;
	m->tags = calloc(n, sizeof(*m->tags));
	if (!m->tags)
		return cp_error_oom();
	for (size_t i = 0; i < n; i++) {
		yajl_val t = tags->u.array.values[i];
		if (!YAJL_IS_ARRAY(t) || t->u.array.len != 2 ||
		    !YAJL_IS_STRING(t->u.array.values[0]) || !YAJL_IS_STRING(t->u.array.values[1]))
			return corrupt("a tag is not a [key, value] pair");
		m->tags[i].key = dup_string(t->u.array.values[0]);
		m->tags[i].value = dup_string(t->u.array.values[1]);
		m->ntags++;
		if (!m->tags[i].key || !m->tags[i].value)
			return cp_error_oom();
	}
	return 0;
}

int cp_manifest_header_parse(cp_manifest *m, const char *json, size_t len)
{
	memset(m, 0, sizeof(*m));
	if (memchr(json, '\0', len))
		return corrupt("the header contains a NUL byte");
	char *copy = strndup(json, len);
	if (!copy)
		return cp_error_oom();
	yajl_val root = NULL;
	int rc = cp_json_parse(&root, copy, "manifest header");
	free(copy);
	if (rc)
		return cp_error_prefix(CP_ECORRUPT, "manifest is invalid: ");
	int64_t t = 0, cs = 0, ns = 0;
	if (!YAJL_IS_OBJECT(root))
		rc = corrupt("the header is not a JSON object");
	if (!rc)
		rc = opt_str(root, "source", &m->source);
	if (!rc)
		rc = opt_str(root, "provider", &m->provider);
	if (!rc)
		rc = opt_str(root, "snapshot_id", &m->snapshot_id);
	if (!rc)
		rc = opt_str(root, "instance_id", &m->instance_id);
	if (!rc)
		rc = opt_str(root, "group_id", &m->group_id);
	if (!rc)
		rc = opt_str(root, "parent", &m->parent);
	if (!rc)
		rc = opt_str(root, "hostname", &m->hostname);
	if (!rc)
		rc = opt_str(root, "copied_from", &m->copied_from);
	if (!rc && (cp_json_int(root, "time", &t, 0) || cp_json_int(root, "chunk_size", &cs, 0) ||
		    cp_json_int(root, "time_nsec", &ns, 0)))
		rc = corrupt("'time', 'time_nsec' or 'chunk_size' is not an integer");
	if (!rc && (ns < 0 || ns > 999999999))
		rc = corrupt("'time_nsec' is out of range");
	if (!rc)
		rc = get_u64(root, "size", &m->size);
	if (!rc)
		rc = get_u64(root, "chunks", &m->nchunks);
	if (!rc)
		rc = get_u64(root, "data_bytes", &m->data_bytes);
	if (!rc)
		rc = get_u64(root, "new_bytes", &m->new_bytes);
	if (!rc)
		rc = get_u64(root, "new_chunks", &m->new_chunks);
	if (!rc)
		rc = get_u64(root, "read_bytes", &m->read_bytes);
	if (!rc)
		rc = parse_tags(m, cp_json_get(root, "tags"));
	if (!rc && !m->source)
		rc = corrupt("'source' is missing");
	if (!rc && (cs < CP_MIN_CHUNK_SIZE || cs > CP_MAX_CHUNK_SIZE || (cs & (cs - 1))))
		rc = corrupt("'chunk_size' is not a power of two from 1 KiB to 64 MiB");
	if (!rc && m->size > CP_MANIFEST_MAX_DISK)
		rc = corrupt("'size' is beyond 64 PiB");
	if (!rc) {
		m->time = t;
		m->time_nsec = ns;
		m->chunk_size = (uint32_t)cs;
		uint64_t max_chunks = m->size / m->chunk_size + (m->size % m->chunk_size != 0);
		if (m->nchunks > max_chunks)
			rc = corrupt("it lists more chunks than the disk has");
	}
	yajl_tree_free(root);
	if (rc) {
		cp_error_saved saved;
		cp_error_save(&saved);
		cp_manifest_dispose(m);
		cp_error_restore(&saved);
	}
	return rc;
}

int cp_manifest_map_encode(const cp_map_entry *map, uint64_t n, cp_buf *out)
{
	uint8_t head[8];
	cp_put_le64(head, n);
	int rc = cp_buf_grow(out, out->size + 8 + n * CP_MANIFEST_ENTRY_SIZE);
	if (!rc)
		rc = cp_buf_put(out, head, 8);
	for (uint64_t i = 0; !rc && i < n; i++) {
		uint8_t e[CP_MANIFEST_ENTRY_SIZE];
		cp_put_le64(e, map[i].index);
		memcpy(e + 8, map[i].id, CP_ID_LEN);
		rc = cp_buf_put(out, e, sizeof(e));
	}
	return rc;
}

int cp_manifest_map_parse(cp_manifest *m, const uint8_t *p, size_t len)
{
	cp_rd r = {p, len, 0};
	uint64_t n = cp_rd_u64(&r);
	if (r.bad || n != m->nchunks || n > r.left / CP_MANIFEST_ENTRY_SIZE ||
	    n * CP_MANIFEST_ENTRY_SIZE != r.left || !m->chunk_size)
		return corrupt("the chunk map's length does not match its header");
	uint64_t max_chunks = m->size / m->chunk_size + (m->size % m->chunk_size != 0);
	cp_map_entry *map = malloc((n ? n : 1) * sizeof(*map));
	if (!map)
		return cp_error_oom();
	for (uint64_t i = 0; i < n; i++) {
		map[i].index = cp_rd_u64(&r);
		cp_rd_copy(&r, map[i].id, CP_ID_LEN);
		if (map[i].index >= max_chunks || (i && map[i].index <= map[i - 1].index)) {
			free(map);
			return corrupt("the chunk map is not sorted or lies past the disk's end");
		}
	}
	free(m->map);
	m->map = map;
	return 0;
}

int cp_manifest_encode(cp_codec *codec, const cp_manifest *m, cp_buf *out)
{
	cp_buf plain = CP_BUF_INIT, sealed = CP_BUF_INIT;
	uint8_t aad[8 + CP_ID_LEN] = {'C', 'P', 'M', 'F', CP_MANIFEST_VERSION, 0, 0, 0};
	int rc = cp_manifest_header_encode(m, &plain);
	if (!rc)
		rc = cp_codec_seal(codec, aad, 8, plain.ptr, plain.size, 1, &sealed);
	cp_buf_clear(out);
	uint8_t prefix[CP_MANIFEST_PREFIX_LEN];
	memcpy(prefix, aad, 8);
	cp_put_le32(prefix + 8, (uint32_t)sealed.size);
	if (!rc)
		rc = cp_buf_put(out, prefix, sizeof(prefix));
	if (!rc)
		rc = cp_buf_put(out, sealed.ptr, sealed.size);
	if (!rc) {
		cp_sha256(sealed.ptr, sealed.size, aad + 8);
		cp_buf_clear(&plain);
		rc = cp_manifest_map_encode(m->map, m->nchunks, &plain);
	}
	if (!rc)
		rc = cp_codec_seal(codec, aad, sizeof(aad), plain.ptr, plain.size, 1, &sealed);
	if (!rc)
		rc = cp_buf_put(out, sealed.ptr, sealed.size);
	cp_buf_dispose(&plain);
	cp_buf_dispose(&sealed);
	return rc;
}

int cp_manifest_decode(cp_codec *codec, const uint8_t *p, size_t len, int header_only,
		       cp_manifest *out, size_t *need)
{
	memset(out, 0, sizeof(*out));
	if (need)
		*need = 0;
	if (len < CP_MANIFEST_PREFIX_LEN || memcmp(p, CP_MANIFEST_MAGIC, 4))
		return corrupt("it does not start with \"CPMF\" (truncated or not a manifest)");
	if (p[4] != CP_MANIFEST_VERSION)
		return cp_error_set(CP_EUNSUPPORTED, CP_ERRCLASS_REPOSITORY,
				    "manifest version %u is not supported; upgrade libcloudprotect",
				    p[4]);
	uint32_t hl = cp_get_le32(p + 8);
	if (hl < CP_BLOB_MIN_LEN || hl > CP_MANIFEST_MAX_HEADER + CP_SEAL_OVERHEAD + 1)
		return corrupt("its header length is out of range");
	if (len - CP_MANIFEST_PREFIX_LEN < hl) {
		if (header_only && need) {
			*need = CP_MANIFEST_PREFIX_LEN + (size_t)hl;
			return CP_EINVALID;
		}
		return corrupt("it is shorter than its header (truncated?)");
	}
	const uint8_t *sh = p + CP_MANIFEST_PREFIX_LEN;
	cp_buf plain = CP_BUF_INIT;
	int rc = cp_codec_open(codec, p, 8, sh, hl, CP_MANIFEST_MAX_HEADER, 0, &plain);
	if (rc == CP_ECORRUPT)
		rc = corrupt("its header does not authenticate (damaged, or another repository's)");
	if (!rc)
		rc = cp_manifest_header_parse(out, plain.ptr, plain.size);
	if (!rc && !header_only) {
		uint8_t aad[8 + CP_ID_LEN];
		memcpy(aad, p, 8);
		cp_sha256(sh, hl, aad + 8);
		const uint8_t *sm = sh + hl;
		size_t ml = len - CP_MANIFEST_PREFIX_LEN - hl;
		rc = cp_codec_open(codec, aad, sizeof(aad), sm, ml,
				   8 + out->nchunks * CP_MANIFEST_ENTRY_SIZE, 0, &plain);
		if (rc == CP_ECORRUPT)
			rc = corrupt("its chunk map does not authenticate (damaged or truncated)");
		if (!rc)
			rc = cp_manifest_map_parse(out, (const uint8_t *)plain.ptr, plain.size);
	}
	cp_buf_dispose(&plain);
	if (rc) {
		cp_error_saved saved;
		cp_error_save(&saved);
		cp_manifest_dispose(out);
		cp_error_restore(&saved);
	}
	return rc;
}
