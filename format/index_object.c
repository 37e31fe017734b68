#include "format/index_object.h"
#include "format/bytes.h"
#include "format/config.h"

#include "error.h"

#include <stdlib.h>

int cp_index_body_encode(const cp_index_pack *packs, size_t npacks, cp_buf *out)
{
	uint8_t n[4];
	cp_put_le32(n, (uint32_t)npacks);
	int rc = cp_buf_put(out, n, 4);
	for (size_t i = 0; !rc && i < npacks; i++) {
		uint8_t head[CP_ID_LEN + 12];
		memcpy(head, packs[i].id, CP_ID_LEN);
		cp_put_le64(head + 32, packs[i].size);
		cp_put_le32(head + 40, (uint32_t)packs[i].n);
		rc = cp_buf_put(out, head, sizeof(head));
		for (size_t j = 0; !rc && j < packs[i].n; j++) {
			const cp_pack_entry *e = &packs[i].entries[j];
			uint8_t b[CP_PACK_ENTRY_SIZE];
			memcpy(b, e->id, CP_ID_LEN);
			cp_put_le32(b + 32, e->offset);
			cp_put_le32(b + 36, e->length);
			cp_put_le32(b + 40, e->raw_length);
			rc = cp_buf_put(out, b, sizeof(b));
		}
	}
	return rc;
}

static int corrupt(const char *what)
{
	return cp_error_set(CP_ECORRUPT, CP_ERRCLASS_REPOSITORY, "index is invalid: %s", what);
}

int cp_index_body_parse(const uint8_t *p, size_t len, cp_index_pack_cb cb, void *payload)
{
	cp_rd r = {p, len, 0};
	uint32_t npacks = cp_rd_u32(&r);
	if (r.bad || (uint64_t)npacks * (CP_ID_LEN + 12) > r.left)
		return corrupt("its pack count does not match its length");
	cp_pack_entry *buf = NULL;
	size_t cap = 0;
	int rc = 0;
	for (uint32_t i = 0; !rc && i < npacks; i++) {
		cp_index_pack pack;
		cp_rd_copy(&r, pack.id, CP_ID_LEN);
		pack.size = cp_rd_u64(&r);
		pack.n = cp_rd_u32(&r);
		if (r.bad || pack.n * (uint64_t)CP_PACK_ENTRY_SIZE > r.left) {
			rc = corrupt("a pack's entry count does not match the index length");
			break;
		}
		if (pack.n > cap) {
			cp_pack_entry *nb = realloc(buf, pack.n * sizeof(*nb));
			if (!nb) {
				rc = cp_error_oom();
				break;
			}
			buf = nb;
			cap = pack.n;
		}
		pack.entries = buf;
		for (size_t j = 0; j < pack.n; j++) {
			cp_pack_entry *e = &buf[j];
			cp_rd_copy(&r, e->id, CP_ID_LEN);
			e->offset = cp_rd_u32(&r);
			e->length = cp_rd_u32(&r);
			e->raw_length = cp_rd_u32(&r);
			if (e->length < CP_BLOB_MIN_LEN ||
			    (uint64_t)e->offset + e->length > pack.size ||
			    e->raw_length > CP_MAX_CHUNK_SIZE) {
				rc = corrupt("an entry lies outside its pack");
				break;
			}
		}
		if (!rc)
			rc = cb(&pack, payload);
	}
	if (!rc && r.left)
		rc = corrupt("trailing bytes after the last pack");
	free(buf);
	return rc;
}
