#include "format/manifest_io.h"

#include "error.h"

#include <string.h>

int cp_repo_manifest_save(cp_repository *repo, const cp_manifest *m, char id_out[CP_HEX_ID_LEN + 1])
{
	cp_codec codec;
	cp_buf obj = CP_BUF_INIT;
	int rc = cp_repo_codec(repo, &codec);
	if (rc)
		return rc;
	rc = cp_manifest_encode(&codec, m, &obj);
	if (!rc)
		rc = cp_repo_put_named(repo, CP_DIR_MANIFESTS, obj.ptr, obj.size, id_out);
	cp_buf_dispose(&obj);
	cp_codec_dispose(&codec);
	return rc;
}

int cp_repo_manifest_load(cp_repository *repo, const char *id, int header_only, uint64_t size,
			  cp_manifest *out)
{
	char key[CP_KEY_MAX];
	cp_codec codec;
	cp_buf obj = CP_BUF_INIT;
	memset(out, 0, sizeof(*out));
	cp_repo_key(key, CP_DIR_MANIFESTS, id);
	int rc = cp_repo_codec(repo, &codec);
	if (rc)
		return rc;
	if (!header_only) {
		rc = cp_repo_get_named(repo, CP_DIR_MANIFESTS, id, &obj);
		if (!rc)
			rc = cp_manifest_decode(&codec, (const uint8_t *)obj.ptr, obj.size, 0, out,
						NULL);
	} else {
		if (!size) {
			cp_object_info info;
			rc = cp_objstore_head(repo->store, key, &info);
			size = info.size;
		}
		uint64_t want = size < CP_MANIFEST_HEADER_GUESS ? size : CP_MANIFEST_HEADER_GUESS;
		if (!rc)
			rc = cp_objstore_get(repo->store, key, 0, want, &obj);
		size_t need = 0;
		if (!rc)
			rc = cp_manifest_decode(&codec, (const uint8_t *)obj.ptr, obj.size, 1, out,
						&need);
		if (rc == CP_EINVALID && need) {
			rc = need <= size ? cp_objstore_get(repo->store, key, 0, need, &obj)
					  : cp_error_set(CP_ECORRUPT, CP_ERRCLASS_REPOSITORY,
							 "manifest is invalid: shorter than its "
							 "header (truncated?)");
			if (!rc)
				rc = cp_manifest_decode(&codec, (const uint8_t *)obj.ptr, obj.size,
							1, out, NULL);
		}
	}
	if (rc && rc != CP_ENOMEM)
		cp_error_prefix(rc, "reading backup %s: ", id);
	cp_buf_dispose(&obj);
	cp_codec_dispose(&codec);
	return rc;
}
