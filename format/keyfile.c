#include "format/keyfile.h"
#include "format/bytes.h"

#include "error.h"
#include "json.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char key_aad[] = "cloudprotect-key-v1";

static int bad(const char *what)
{
	return cp_error_set(CP_EINVALID, CP_ERRCLASS_REPOSITORY, "key file is invalid: %s", what);
}

int cp_keyfile_parse(cp_keyfile *out, const char *text, size_t len)
{
	memset(out, 0, sizeof(*out));
	if (memchr(text, '\0', len))
		return bad("it contains a NUL byte");
	char *copy = strndup(text, len);
	if (!copy)
		return cp_error_oom();
	yajl_val root = NULL;
	int rc = cp_json_parse(&root, copy, "key file");
	free(copy);
	if (rc)
		return rc;
	int64_t version = 0, n = 0, r = 0, p = 0, created = 0;
	const char *format = cp_json_str(root, "format");
	const char *kdf = cp_json_str(root, "kdf");
	const char *salt = cp_json_str(root, "salt");
	const char *data = cp_json_str(root, "data");
	if (!YAJL_IS_OBJECT(root))
		rc = bad("not a JSON object");
	else if (!format || strcmp(format, CP_KEYFILE_FORMAT))
		rc = bad("'format' is not \"" CP_KEYFILE_FORMAT "\"");
	else if ((rc = cp_json_int(root, "version", &version, 0)) ||
		 (rc = cp_json_int(root, "n", &n, 0)) || (rc = cp_json_int(root, "r", &r, 0)) ||
		 (rc = cp_json_int(root, "p", &p, 0)) ||
		 (rc = cp_json_int(root, "created", &created, 0)))
		;
	else if (version != CP_KEYFILE_VERSION)
		rc = cp_error_set(CP_EUNSUPPORTED, CP_ERRCLASS_REPOSITORY,
				  "key file version %lld is not supported (this library knows %d)",
				  (long long)version, CP_KEYFILE_VERSION);
	else if (!kdf || strcmp(kdf, "scrypt"))
		rc = bad("'kdf' is not \"scrypt\"");
	else if (n < 2 || n > CP_KDF_MAX_N || (n & (n - 1)))
		rc = bad("scrypt 'n' must be a power of two from 2 to 2^22");
	else if (r < 1 || r > 32 || p < 1 || p > 16 ||
		 128ull * (uint64_t)r * ((uint64_t)n + (uint64_t)p) > CP_SCRYPT_MAX_BYTES)
		rc = bad("scrypt 'r' and 'p' are out of range");
	else if (!salt || cp_hex_decode(out->salt, salt, CP_KDF_SALT_LEN))
		rc = bad("'salt' is not 64 hex digits");
	else if (!data || cp_hex_decode(out->sealed, data, CP_KEY_SEALED_LEN))
		rc = bad("'data' is not the sealed keys in hex");
	if (!rc) {
		out->n = (uint64_t)n;
		out->r = (uint32_t)r;
		out->p = (uint32_t)p;
		out->created = created;
	}
	yajl_tree_free(root);
	return rc;
}

int cp_keyfile_write(const cp_keyfile *kf, cp_buf *out)
{
	char salt[2 * CP_KDF_SALT_LEN + 1], data[2 * CP_KEY_SEALED_LEN + 1];
	cp_hex_encode(salt, kf->salt, CP_KDF_SALT_LEN);
	cp_hex_encode(data, kf->sealed, CP_KEY_SEALED_LEN);
	cp_json_writer w;
	int rc = cp_json_writer_init(&w, 1);
	if (rc)
		return rc;
	cp_json_begin_map(&w);
	cp_json_kv_str(&w, "format", CP_KEYFILE_FORMAT);
	cp_json_kv_int(&w, "version", CP_KEYFILE_VERSION);
	cp_json_kv_int(&w, "created", kf->created);
	cp_json_kv_str(&w, "kdf", "scrypt");
	cp_json_kv_int(&w, "n", (int64_t)kf->n);
	cp_json_kv_int(&w, "r", kf->r);
	cp_json_kv_int(&w, "p", kf->p);
	cp_json_kv_str(&w, "salt", salt);
	cp_json_kv_str(&w, "data", data);
	cp_json_end_map(&w);
	rc = cp_json_writer_finish(&w, out);
	cp_json_writer_dispose(&w);
	return rc;
}

int cp_keyfile_make(cp_keyfile *out, const char *password, uint64_t n, const cp_master_keys *keys,
		    const uint8_t config_sha256[CP_ID_LEN])
{
	memset(out, 0, sizeof(*out));
	out->n = n;
	out->r = 8;
	out->p = 1;
	out->created = (int64_t)time(NULL);
	uint8_t kek[CP_KEY_LEN], payload[CP_KEY_PAYLOAD_LEN];
	int rc = cp_random(out->salt, sizeof(out->salt));
	if (!rc)
		rc = cp_scrypt(password, out->salt, sizeof(out->salt), n, out->r, out->p, kek);
	payload[0] = 1;
	memcpy(payload + 1, keys->enc, CP_KEY_LEN);
	memcpy(payload + 1 + CP_KEY_LEN, keys->mac, CP_KEY_LEN);
	memcpy(payload + 1 + 2 * CP_KEY_LEN, config_sha256, CP_ID_LEN);
	cp_aead *a = NULL;
	if (!rc)
		rc = cp_aead_new(&a, kek);
	if (!rc)
		rc = cp_aead_seal(a, key_aad, sizeof(key_aad) - 1, NULL, 0, payload,
				  sizeof(payload), out->sealed);
	cp_aead_free(a);
	cp_wipe(kek, sizeof(kek));
	cp_wipe(payload, sizeof(payload));
	return rc;
}

int cp_keyfile_unlock(const cp_keyfile *kf, const char *password, cp_master_keys *keys,
		      uint8_t config_sha256[CP_ID_LEN])
{
	uint8_t kek[CP_KEY_LEN], payload[CP_KEY_PAYLOAD_LEN];
	cp_aead *a = NULL;
	int rc = cp_scrypt(password, kf->salt, sizeof(kf->salt), kf->n, kf->r, kf->p, kek);
	if (!rc)
		rc = cp_aead_new(&a, kek);
	if (!rc) {
		rc = cp_aead_open(a, key_aad, sizeof(key_aad) - 1, kf->sealed, CP_KEY_SEALED_LEN,
				  payload);
		if (rc == CP_ECORRUPT)
			rc = CP_EPASSWORD;
	}
	if (!rc && payload[0] != 1)
		rc = cp_error_set(CP_EUNSUPPORTED, CP_ERRCLASS_REPOSITORY,
				  "the key payload has version %u; upgrade libcloudprotect",
				  payload[0]);
	if (!rc) {
		memcpy(keys->enc, payload + 1, CP_KEY_LEN);
		memcpy(keys->mac, payload + 1 + CP_KEY_LEN, CP_KEY_LEN);
		memcpy(config_sha256, payload + 1 + 2 * CP_KEY_LEN, CP_ID_LEN);
	}
	cp_aead_free(a);
	cp_wipe(kek, sizeof(kek));
	cp_wipe(payload, sizeof(payload));
	return rc;
}
