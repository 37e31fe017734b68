#include "format/chunk.h"
#include "format/bytes.h"

#include "error.h"

#include <string.h>

int cp_chunk_coder_init(cp_chunk_coder *c, const cp_repository *repo)
{
	memset(c, 0, sizeof(*c));
	int rc = cp_hmac_new(&c->mac, repo->keys.mac);
	if (!rc)
		rc = cp_repo_codec(repo, &c->codec);
	if (rc)
		cp_chunk_coder_dispose(c);
	return rc;
}

void cp_chunk_coder_dispose(cp_chunk_coder *c)
{
	cp_hmac_free(c->mac);
	cp_codec_dispose(&c->codec);
	cp_buf_dispose(&c->sealed);
	memset(c, 0, sizeof(*c));
}

int cp_chunk_is_zero(const void *p, size_t len)
{
	const unsigned char *b = p;
	/* Check the head bytewise, then compare the buffer with itself shifted by 16. */
	size_t head = len < 16 ? len : 16;
	for (size_t i = 0; i < head; i++)
		if (b[i])
			return 0;
	return len <= 16 || !memcmp(b, b + 16, len - 16);
}

int cp_chunk_id(cp_chunk_coder *c, const void *data, size_t len, uint8_t id[CP_ID_LEN])
{
	return cp_hmac_compute(c->mac, data, len, id);
}

int cp_chunk_store(cp_chunk_coder *c, cp_packer *packer, const uint8_t id[CP_ID_LEN],
		   const void *data, size_t len, uint64_t *stored)
{
	int is_new = 0;
	*stored = 0;
	int rc = cp_packer_claim(packer, id, &is_new);
	if (rc || !is_new)
		return rc;
	rc = cp_codec_seal(&c->codec, id, CP_ID_LEN, data, len, 1, &c->sealed);
	if (!rc)
		rc = cp_packer_add(packer, id, c->sealed.ptr, c->sealed.size, (uint32_t)len);
	if (!rc)
		*stored = c->sealed.size;
	return rc;
}

int cp_chunk_open(cp_chunk_coder *c, const uint8_t id[CP_ID_LEN], const void *blob, size_t len,
		  uint32_t raw_len, cp_buf *out)
{
	char hex[CP_HEX_ID_LEN + 1];
	uint8_t got[CP_ID_LEN];
	int rc = cp_codec_open(&c->codec, id, CP_ID_LEN, blob, len, raw_len, raw_len, out);
	if (rc == CP_ECORRUPT) {
		cp_hex_encode(hex, id, CP_ID_LEN);
		return cp_error_set(CP_ECORRUPT, CP_ERRCLASS_REPOSITORY,
				    "chunk %s does not decrypt or decompress: its stored bytes "
				    "are damaged",
				    hex);
	}
	if (rc)
		return rc;
	if ((rc = cp_chunk_id(c, out->ptr, out->size, got)))
		return rc;
	if (memcmp(got, id, CP_ID_LEN)) {
		cp_hex_encode(hex, id, CP_ID_LEN);
		return cp_error_set(CP_ECORRUPT, CP_ERRCLASS_REPOSITORY,
				    "chunk %s decodes to data with another id: the repository is "
				    "damaged",
				    hex);
	}
	return 0;
}
