#include "format/pack.h"
#include "format/bytes.h"
#include "format/config.h"

#include "error.h"

#include <stdlib.h>

int cp_pack_header_encode(const cp_pack_entry *entries, size_t n, cp_buf *out)
{
	uint8_t head[8] = {CP_PACK_HEADER_VERSION, 0, 0, 0};
	cp_put_le32(head + 4, (uint32_t)n);
	int rc = cp_buf_put(out, head, sizeof(head));
	for (size_t i = 0; !rc && i < n; i++) {
		uint8_t e[CP_PACK_ENTRY_SIZE];
		memcpy(e, entries[i].id, CP_ID_LEN);
		cp_put_le32(e + 32, entries[i].offset);
		cp_put_le32(e + 36, entries[i].length);
		cp_put_le32(e + 40, entries[i].raw_length);
		rc = cp_buf_put(out, e, sizeof(e));
	}
	return rc;
}

static int corrupt(const char *what)
{
	return cp_error_set(CP_ECORRUPT, CP_ERRCLASS_REPOSITORY, "pack header is invalid: %s",
			    what);
}

int cp_pack_header_parse(const uint8_t *p, size_t len, uint64_t blobs_end, cp_pack_entry **out,
			 size_t *n)
{
	*out = NULL;
	*n = 0;
	cp_rd r = {p, len, 0};
	const uint8_t *head = cp_rd_take(&r, 4);
	uint32_t count = cp_rd_u32(&r);
	if (r.bad)
		return corrupt("too short");
	if (head[0] != CP_PACK_HEADER_VERSION)
		return cp_error_set(CP_EUNSUPPORTED, CP_ERRCLASS_REPOSITORY,
				    "pack header version %u is not supported; upgrade "
				    "libcloudprotect",
				    head[0]);
	if ((uint64_t)count * CP_PACK_ENTRY_SIZE != r.left)
		return corrupt("its entry count does not match its length");
	cp_pack_entry *e = malloc((count ? count : 1) * sizeof(*e));
	if (!e)
		return cp_error_oom();
	uint64_t end = 0;
	for (uint32_t i = 0; i < count; i++) {
		cp_rd_copy(&r, e[i].id, CP_ID_LEN);
		e[i].offset = cp_rd_u32(&r);
		e[i].length = cp_rd_u32(&r);
		e[i].raw_length = cp_rd_u32(&r);
		if (e[i].offset < end || e[i].length < CP_BLOB_MIN_LEN ||
		    (uint64_t)e[i].offset + e[i].length > blobs_end ||
		    e[i].raw_length > CP_MAX_CHUNK_SIZE) {
			free(e);
			return corrupt("an entry lies outside the pack or overlaps another");
		}
		end = (uint64_t)e[i].offset + e[i].length;
	}
	*out = e;
	*n = count;
	return 0;
}

int cp_pack_locate_header(const uint8_t tail[4], uint64_t size, uint64_t *offset, uint32_t *len)
{
	uint32_t hl = cp_get_le32(tail);
	if (size < 4 || hl < CP_BLOB_MIN_LEN || (uint64_t)hl > size - 4)
		return cp_error_set(CP_ECORRUPT, CP_ERRCLASS_REPOSITORY,
				    "the pack's header length (%u) does not fit its size (%llu "
				    "bytes); the pack is truncated or damaged",
				    hl, (unsigned long long)size);
	*offset = size - 4 - hl;
	*len = hl;
	return 0;
}
