/* OAuth2 access tokens: asking a token endpoint and reading its answer. */
#ifndef CP_LIB_CREDS_OAUTH_H
#define CP_LIB_CREDS_OAUTH_H

#include "cloudprotect/sys/objstore.h"
#include "creds/creds.h"
#include "http/http.h"

/**
 * Read {"access_token": ..., "expires_in": N or "N", "expires_on": ...}
 * into out (token and expiry). what names the source in errors.
 */
int cp_oauth_parse_token(const cp_buf *body, const char *what, cp_creds_value *out);

/**
 * Fetch a token: method to url, form body (may be NULL) and extra headers
 * (may be NULL); the answer is parsed with cp_oauth_parse_token. Retried
 * like any idempotent call: asking twice only mints a second token.
 */
int cp_oauth_fetch(cp_http_client *client, const char *method, const char *url, const char *form,
		   const cp_http_headers *headers, const char *what, cp_creds_value *out);

/** Append key=value, form-encoded, to form ("&" between pairs). */
int cp_oauth_form_add(cp_buf *form, const char *key, const char *value);

#endif
