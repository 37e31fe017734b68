#include "targets.h"

#include "format/bytes.h"
#include "format/codec.h"
#include "format/config.h"
#include "format/index_object.h"
#include "format/keyfile.h"
#include "format/lock.h"
#include "format/manifest.h"
#include "format/pack.h"
#include "format/repository.h"

#include "error.h"

#include <stdlib.h>
#include <string.h>

static const uint8_t test_key[CP_KEY_LEN] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};

/* Seal bytes as the plaintext payload of an object, with the given marker. */
static int seal_with(cp_codec *c, const void *aad, size_t aadlen, uint8_t marker,
		     const uint8_t *data, size_t len, cp_buf *out)
{
	cp_buf_clear(out);
	int rc = cp_buf_grow(out, CP_CODEC_MAX_SEALED(len));
	if (!rc)
		rc = cp_aead_seal(c->aead, aad, aadlen, &marker, 1, data, len, (uint8_t *)out->ptr);
	if (!rc)
		out->size = CP_CODEC_MAX_SEALED(len);
	return rc;
}

int fuzz_config(const uint8_t *data, size_t len)
{
	cp_config c;
	cp_config_parse(&c, (const char *)data, len);
	cp_error_clear();
	return 0;
}

int fuzz_keyfile(const uint8_t *data, size_t len)
{
	cp_keyfile k;
	cp_keyfile_parse(&k, (const char *)data, len);
	cp_error_clear();
	return 0;
}

int fuzz_lock(const uint8_t *data, size_t len)
{
	cp_lock_info l;
	cp_lock_parse(&l, (const char *)data, len);
	cp_error_clear();
	return 0;
}

/* mode 0: header plaintext; 1: a whole pack tail (locate + open + parse); 2: sealed zstd header */
int fuzz_pack_header(const uint8_t *data, size_t len)
{
	if (!len)
		return 0;
	uint8_t mode = data[0] % 3;
	data++;
	len--;
	cp_pack_entry *e = NULL;
	size_t n = 0;
	cp_codec c;
	cp_buf plain = CP_BUF_INIT, sealed = CP_BUF_INIT;
	if (mode == 0) {
		cp_pack_header_parse(data, len, (uint64_t)len * 4, &e, &n);
	} else if (!cp_codec_init(&c, test_key, 3)) {
		uint64_t off = 0;
		uint32_t hl = 0;
		const uint8_t *pack = data;
		size_t size = len;
		if (mode == 2 && !seal_with(&c, CP_PACK_HEADER_AAD, sizeof(CP_PACK_HEADER_AAD) - 1,
					    CP_MARKER_ZSTD, data, len, &sealed)) {
			uint8_t tail[4];
			cp_put_le32(tail, (uint32_t)sealed.size);
			cp_buf_put(&sealed, tail, 4);
			pack = (const uint8_t *)sealed.ptr;
			size = sealed.size;
		}
		if (size >= 4 && !cp_pack_locate_header(pack + size - 4, size, &off, &hl) &&
		    !cp_codec_open(&c, CP_PACK_HEADER_AAD, sizeof(CP_PACK_HEADER_AAD) - 1,
				   pack + off, hl, size, 0, &plain))
			cp_pack_header_parse((const uint8_t *)plain.ptr, plain.size, off, &e, &n);
		cp_codec_dispose(&c);
	}
	free(e);
	cp_buf_dispose(&plain);
	cp_buf_dispose(&sealed);
	cp_error_clear();
	return 0;
}

static int count_pack(const cp_index_pack *pack, void *payload)
{
	size_t *n = payload;
	*n += pack->n;
	return 0;
}

/* mode 0: body plaintext; 1: an object as stored; 2: an object whose body is a zstd frame */
int fuzz_index(const uint8_t *data, size_t len)
{
	if (!len)
		return 0;
	uint8_t mode = data[0] % 3;
	data++;
	len--;
	size_t entries = 0;
	cp_codec c;
	cp_buf obj = CP_BUF_INIT;
	if (mode == 0) {
		cp_index_body_parse(data, len, count_pack, &entries);
	} else if (!cp_codec_init(&c, test_key, 3)) {
		if (mode == 1) {
			cp_index_object_decode(&c, data, len, count_pack, &entries);
		} else {
			uint8_t prefix[8] = {'C', 'P', 'I', 'X', CP_INDEX_VERSION, 0, 0, 0};
			cp_buf sealed = CP_BUF_INIT;
			if (!seal_with(&c, prefix, 8, CP_MARKER_ZSTD, data, len, &sealed)) {
				cp_buf_put(&obj, prefix, 8);
				cp_buf_put(&obj, sealed.ptr, sealed.size);
				cp_index_object_decode(&c, (const uint8_t *)obj.ptr, obj.size,
						       count_pack, &entries);
			}
			cp_buf_dispose(&sealed);
		}
		cp_codec_dispose(&c);
	}
	cp_buf_dispose(&obj);
	cp_error_clear();
	return 0;
}

/*
 * mode 0: header JSON; 1: a map for a header whose size and chunk size
 * come from the input; 2: an object as stored; 3: an object built with
 * the input as its header plaintext and an empty map.
 */
int fuzz_manifest(const uint8_t *data, size_t len)
{
	if (!len)
		return 0;
	uint8_t mode = data[0] % 4;
	data++;
	len--;
	cp_manifest m;
	memset(&m, 0, sizeof(m));
	cp_codec c;
	if (mode == 0) {
		if (!cp_manifest_header_parse(&m, (const char *)data, len))
			cp_manifest_dispose(&m);
	} else if (mode == 1) {
		if (len >= 5) {
			m.chunk_size = 1024u << (data[0] % 8);
			m.size = (uint64_t)cp_get_le32(data + 1) * 16;
			m.nchunks = len >= 13 ? cp_get_le64(data + 5) : 0;
			cp_manifest_map_parse(&m, data + 5, len - 5);
			free(m.map);
		}
	} else if (!cp_codec_init(&c, test_key, 3)) {
		cp_buf obj = CP_BUF_INIT, sealed = CP_BUF_INIT, map = CP_BUF_INIT;
		if (mode == 2) {
			if (!cp_manifest_decode(&c, data, len, 0, &m, NULL))
				cp_manifest_dispose(&m);
			if (!cp_manifest_decode(&c, data, len, 1, &m, NULL))
				cp_manifest_dispose(&m);
		} else {
			uint8_t prefix[12] = {'C', 'P', 'M', 'F', CP_MANIFEST_VERSION, 0, 0, 0};
			uint8_t aad[8 + CP_ID_LEN], zero[8] = {0};
			if (!seal_with(&c, prefix, 8, CP_MARKER_RAW, data, len, &sealed)) {
				cp_put_le32(prefix + 8, (uint32_t)sealed.size);
				cp_buf_put(&obj, prefix, 12);
				cp_buf_put(&obj, sealed.ptr, sealed.size);
				memcpy(aad, prefix, 8);
				cp_sha256(sealed.ptr, sealed.size, aad + 8);
				if (!cp_codec_seal(&c, aad, sizeof(aad), zero, 8, 0, &map))
					cp_buf_put(&obj, map.ptr, map.size);
				if (!cp_manifest_decode(&c, (const uint8_t *)obj.ptr, obj.size, 0,
							&m, NULL))
					cp_manifest_dispose(&m);
			}
		}
		cp_buf_dispose(&obj);
		cp_buf_dispose(&sealed);
		cp_buf_dispose(&map);
		cp_codec_dispose(&c);
	}
	cp_error_clear();
	return 0;
}

/* ---- seeds: valid objects made with the encoders ---- */

static cp_buf *next_seed(cp_buf *seeds, size_t *n, size_t cap, uint8_t mode)
{
	if (*n >= cap)
		return NULL;
	cp_buf *b = &seeds[(*n)++];
	memset(b, 0, sizeof(*b));
	if (mode != 0xff)
		cp_buf_put(b, &mode, 1);
	return b;
}

static void seeds_config(cp_buf *seeds, size_t *n, size_t cap)
{
	cp_config c;
	memset(&c, 0, sizeof(c));
	c.version = 1;
	memset(c.id, 'a', 64);
	c.chunk_size = 524288;
	c.pack_size = 16777216;
	c.compression_level = 3;
	c.created = 1700000000;
	cp_buf *b = next_seed(seeds, n, cap, 0xff);
	if (b)
		cp_config_write(&c, b);
	strcpy(c.storage_class, "GLACIER");
	c.immutable_days = 30;
	if ((b = next_seed(seeds, n, cap, 0xff)))
		cp_config_write(&c, b);
}

static void seeds_keyfile(cp_buf *seeds, size_t *n, size_t cap)
{
	cp_keyfile k;
	cp_master_keys keys;
	uint8_t digest[CP_ID_LEN] = {0};
	memset(&keys, 7, sizeof(keys));
	if (cp_keyfile_make(&k, "pw", 16, &keys, digest))
		return;
	cp_buf *b = next_seed(seeds, n, cap, 0xff);
	if (b)
		cp_keyfile_write(&k, b);
}

static void seeds_lock(cp_buf *seeds, size_t *n, size_t cap)
{
	cp_lock_info l;
	memset(&l, 0, sizeof(l));
	strcpy(l.hostname, "host-1");
	strcpy(l.operation, "backup");
	l.pid = 1234;
	l.created = 1700000000;
	l.expires = 1700001800;
	cp_buf *b = next_seed(seeds, n, cap, 0xff);
	if (b)
		cp_lock_encode(&l, b);
}

static void sample_entries(cp_pack_entry *e, size_t n)
{
	uint32_t off = 0;
	for (size_t i = 0; i < n; i++) {
		memset(e[i].id, (int)i + 1, CP_ID_LEN);
		e[i].offset = off;
		e[i].length = 100 + (uint32_t)i;
		e[i].raw_length = 4096;
		off += e[i].length;
	}
}

static void seeds_pack_header(cp_buf *seeds, size_t *n, size_t cap)
{
	cp_pack_entry e[3];
	sample_entries(e, 3);
	cp_buf *b = next_seed(seeds, n, cap, 0);
	if (b)
		cp_pack_header_encode(e, 3, b);
	/* A whole tail: blobs, sealed header, length. */
	cp_codec c;
	if (cp_codec_init(&c, test_key, 3))
		return;
	cp_buf plain = CP_BUF_INIT, sealed = CP_BUF_INIT;
	cp_pack_header_encode(e, 3, &plain);
	if ((b = next_seed(seeds, n, cap, 1)) &&
	    !cp_codec_seal(&c, CP_PACK_HEADER_AAD, sizeof(CP_PACK_HEADER_AAD) - 1, plain.ptr,
			   plain.size, 1, &sealed)) {
		uint8_t blobs[303] = {0}, tail[4];
		cp_buf_put(b, blobs, sizeof(blobs));
		cp_buf_put(b, sealed.ptr, sealed.size);
		cp_put_le32(tail, (uint32_t)sealed.size);
		cp_buf_put(b, tail, 4);
	}
	cp_buf_dispose(&plain);
	cp_buf_dispose(&sealed);
	cp_codec_dispose(&c);
}

static void seeds_index(cp_buf *seeds, size_t *n, size_t cap)
{
	cp_pack_entry e[4];
	sample_entries(e, 4);
	cp_index_pack packs[2];
	memset(packs, 0, sizeof(packs));
	memset(packs[0].id, 0xaa, CP_ID_LEN);
	packs[0].size = 10000;
	packs[0].entries = e;
	packs[0].n = 2;
	memset(packs[1].id, 0xbb, CP_ID_LEN);
	packs[1].size = 20000;
	packs[1].entries = e + 2;
	packs[1].n = 2;
	cp_buf *b = next_seed(seeds, n, cap, 0);
	if (b)
		cp_index_body_encode(packs, 2, b);
	cp_codec c;
	if (cp_codec_init(&c, test_key, 3))
		return;
	cp_buf obj = CP_BUF_INIT;
	if ((b = next_seed(seeds, n, cap, 1)) && !cp_index_object_encode(&c, packs, 2, &obj))
		cp_buf_put(b, obj.ptr, obj.size);
	cp_buf_dispose(&obj);
	cp_codec_dispose(&c);
}

static void seeds_manifest(cp_buf *seeds, size_t *n, size_t cap)
{
	static char src[] = "vol-0123", host[] = "host", parent[64 + 1];
	cp_tag tags[] = {{"env", "prod"}, {"team", "db"}};
	cp_map_entry map[3];
	memset(parent, 'c', 64);
	cp_manifest m;
	memset(&m, 0, sizeof(m));
	m.source = src;
	m.hostname = host;
	m.parent = parent;
	m.time = 1700000000;
	m.size = 3 * 4096 + 10;
	m.chunk_size = 4096;
	m.nchunks = 3;
	m.map = map;
	for (int i = 0; i < 3; i++) {
		map[i].index = (uint64_t)i + (i == 2);
		memset(map[i].id, 0x10 + i, CP_ID_LEN);
	}
	cp_buf *b = next_seed(seeds, n, cap, 0);
	if (b) {
		cp_manifest t = m;
		t.tags = tags;
		t.ntags = 2;
		cp_manifest_header_encode(&t, b);
	}
	if ((b = next_seed(seeds, n, cap, 1))) {
		uint8_t head[5] = {2, 0, 0, 0, 0};
		cp_put_le32(head + 1, (uint32_t)(m.size / 16 + 1));
		cp_buf_put(b, head, 5);
		cp_manifest_map_encode(map, 3, b);
	}
	cp_codec c;
	if (cp_codec_init(&c, test_key, 3))
		return;
	cp_buf obj = CP_BUF_INIT;
	if ((b = next_seed(seeds, n, cap, 2)) && !cp_manifest_encode(&c, &m, &obj))
		cp_buf_put(b, obj.ptr, obj.size);
	cp_buf_clear(&obj);
	if ((b = next_seed(seeds, n, cap, 3))) {
		m.nchunks = 0;
		cp_manifest_header_encode(&m, b);
	}
	cp_buf_dispose(&obj);
	cp_codec_dispose(&c);
}

const fuzz_target fuzz_targets[] = {
	{"config", fuzz_config, seeds_config},
	{"keyfile", fuzz_keyfile, seeds_keyfile},
	{"pack_header", fuzz_pack_header, seeds_pack_header},
	{"index", fuzz_index, seeds_index},
	{"manifest", fuzz_manifest, seeds_manifest},
	{"lock", fuzz_lock, seeds_lock},
};
const size_t fuzz_ntargets = sizeof(fuzz_targets) / sizeof(fuzz_targets[0]);
