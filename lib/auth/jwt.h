/* RS256-signed JSON Web Tokens (RFC 7519), for the Google OAuth2 JWT bearer grant. */
#ifndef CP_LIB_AUTH_JWT_H
#define CP_LIB_AUTH_JWT_H

#include <stdint.h>

typedef struct cp_jwt_claims {
	const char *key_id;   /* header "kid"; may be NULL */
	const char *issuer;   /* "iss": the service account's email */
	const char *subject;  /* "sub"; may be NULL */
	const char *audience; /* "aud": the token endpoint */
	const char *scope;    /* "scope": space-separated; may be NULL */
	int64_t issued_at;    /* "iat"; "exp" is iat + lifetime */
	unsigned int lifetime_s;
} cp_jwt_claims;

/**
 * header.claims.signature, signed with the PEM private key (PKCS#8 or
 * PKCS#1 RSA) using EVP_DigestSign with SHA-256. malloc'd.
 */
int cp_jwt_sign_rs256(char **out, const char *pem_private_key, const cp_jwt_claims *claims);

#endif
