#include "auth/jwt.h"
#include "auth/digest.h"
#include "error.h"
#include "json.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdlib.h>
#include <string.h>

static int encode_json(cp_buf *out, int header, const cp_jwt_claims *c)
{
	cp_json_writer w;
	int rc = cp_json_writer_init(&w, 0);
	if (rc)
		return rc;
	cp_json_begin_map(&w);
	if (header) {
		cp_json_kv_str(&w, "alg", "RS256");
		cp_json_kv_str(&w, "typ", "JWT");
		if (c->key_id)
			cp_json_kv_str(&w, "kid", c->key_id);
	} else {
		cp_json_kv_str(&w, "iss", c->issuer);
		if (c->subject)
			cp_json_kv_str(&w, "sub", c->subject);
		if (c->scope)
			cp_json_kv_str(&w, "scope", c->scope);
		cp_json_kv_str(&w, "aud", c->audience);
		cp_json_kv_int(&w, "iat", c->issued_at);
		cp_json_kv_int(&w, "exp", c->issued_at + (c->lifetime_s ? c->lifetime_s : 3600));
	}
	cp_json_end_map(&w);
	cp_buf json = CP_BUF_INIT;
	rc = cp_json_writer_finish(&w, &json);
	cp_json_writer_dispose(&w);
	rc = rc ? rc : cp_base64_encode(out, json.ptr, json.size, 1);
	cp_buf_dispose(&json);
	return rc;
}

static int sign(cp_buf *out, const char *pem, const cp_buf *data)
{
	BIO *bio = BIO_new_mem_buf(pem, -1);
	EVP_PKEY *key = bio ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;
	BIO_free(bio);
	if (!key)
		return cp_error_set(CP_EAUTH, CP_ERRCLASS_AUTH,
				    "the service account's private_key is not a PEM private key; "
				    "download a new JSON key for the service account");
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	size_t len = 0;
	unsigned char *sig = NULL;
	int ok =
		md && EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key) == 1 &&
		EVP_DigestSign(md, NULL, &len, (const unsigned char *)data->ptr, data->size) == 1 &&
		(sig = malloc(len)) &&
		EVP_DigestSign(md, sig, &len, (const unsigned char *)data->ptr, data->size) == 1;
	int rc = ok ? cp_base64_encode(out, sig, len, 1)
		    : cp_error_set(CP_EAUTH, CP_ERRCLASS_AUTH,
				   "signing the OAuth2 assertion failed; is the key an RSA key?");
	free(sig);
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(key);
	return rc;
}

int cp_jwt_sign_rs256(char **out, const char *pem_private_key, const cp_jwt_claims *claims)
{
	*out = NULL;
	if (!claims->issuer || !claims->audience)
		return cp_error_set(CP_EINVALID, CP_ERRCLASS_AUTH,
				    "a JWT needs an issuer (client_email) and an audience "
				    "(token_uri)");
	cp_buf jwt = CP_BUF_INIT;
	int rc = encode_json(&jwt, 1, claims);
	rc = rc ? rc : cp_buf_put(&jwt, ".", 1);
	rc = rc ? rc : encode_json(&jwt, 0, claims);
	cp_buf sig = CP_BUF_INIT;
	rc = rc ? rc : sign(&sig, pem_private_key, &jwt);
	rc = rc ? rc : cp_buf_put(&jwt, ".", 1);
	rc = rc ? rc : cp_buf_put(&jwt, sig.ptr, sig.size);
	cp_buf_dispose(&sig);
	if (rc) {
		cp_buf_dispose(&jwt);
		return rc;
	}
	*out = jwt.ptr;
	return 0;
}
