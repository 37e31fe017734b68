/*
 * Service account keys to access tokens with the JWT bearer grant
 * (RFC 7523), as in Google's "Using OAuth 2.0 for Server to Server
 * Applications" (developers.google.com/identity/protocols/oauth2/service-account).
 */
#include "auth/digest.h"
#include "auth/jwt.h"
#include "creds/gcp.h"
#include "creds/oauth.h"
#include "ctx.h"
#include "fs.h"
#include "json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct sa_state {
	cp_ctx *ctx;
	char *email, *key_id, *private_key, *token_uri, *scope;
	cp_http_client *client;
} sa_state;

static void sa_free(void *p)
{
	sa_state *s = p;
	if (!s)
		return;
	cp_http_client_free(s->client);
	free(s->email);
	free(s->key_id);
	cp_secret_free(s->private_key);
	free(s->token_uri);
	free(s->scope);
	free(s);
}

static int sa_refresh(cp_creds *creds, void *state, cp_creds_value *out)
{
	sa_state *s = state;
	if (!s->client) {
		cp_http_client_options o;
		cp_http_client_options_from_ctx(&o, s->ctx, CP_HTTP_FOR_ANY);
		int rc = cp_http_client_new(&s->client, s->ctx, &o);
		if (rc)
			return rc;
	}
	cp_jwt_claims claims = {.key_id = s->key_id,
				.issuer = s->email,
				.audience = s->token_uri,
				.scope = s->scope,
				.issued_at = (int64_t)time(NULL),
				.lifetime_s = 3600};
	char *jwt = NULL;
	cp_buf form = CP_BUF_INIT;
	int rc = cp_jwt_sign_rs256(&jwt, s->private_key, &claims);
	rc = rc ? rc
		: cp_oauth_form_add(&form, "grant_type",
				    "urn:ietf:params:oauth:grant-type:jwt-bearer");
	rc = rc ? rc : cp_oauth_form_add(&form, "assertion", jwt);
	rc = rc ? rc
		: cp_oauth_fetch(s->client, "POST", s->token_uri, form.ptr, NULL,
				 "Google OAuth2 token endpoint", out);
	if (rc)
		rc = cp_error_prefix(rc, "service account %s: ", s->email);
	cp_secret_free(jwt);
	cp_secret_wipe(form.ptr, form.size);
	cp_buf_dispose(&form);
	return rc;
}

int cp_gcp_creds_service_account(cp_creds **out, cp_ctx *ctx, const char *key_file,
				 const char *scope)
{
	*out = NULL;
	cp_buf text = CP_BUF_INIT;
	yajl_val doc = NULL;
	int rc = cp_fs_read_file(key_file, &text);
	if (rc)
		rc = cp_error_prefix(
			rc, "reading the service account key (GOOGLE_APPLICATION_CREDENTIALS): ");
	rc = rc ? rc : cp_json_parse(&doc, text.ptr, key_file);
	cp_secret_wipe(text.ptr, text.size);
	cp_buf_dispose(&text);
	if (rc)
		return rc;
	const char *type = cp_json_str(doc, "type");
	const char *email = cp_json_str(doc, "client_email");
	const char *key = cp_json_str(doc, "private_key");
	const char *uri = cp_json_str(doc, "token_uri");
	if (!type || strcmp(type, "service_account") || !email || !key) {
		rc = cp_error_set(CP_EINVALID, CP_ERRCLASS_CONFIG,
				  "%s is not a service account key (type, client_email and "
				  "private_key are needed); create a JSON key for the service "
				  "account in the console",
				  key_file);
		yajl_tree_free(doc);
		return rc;
	}
	sa_state *s = calloc(1, sizeof(*s));
	if (s) {
		s->ctx = ctx;
		s->email = strdup(email);
		s->key_id = cp_json_str(doc, "private_key_id")
				    ? strdup(cp_json_str(doc, "private_key_id"))
				    : NULL;
		s->private_key = strdup(key);
		s->token_uri = strdup(uri ? uri : "https://oauth2.googleapis.com/token");
		s->scope = strdup(scope ? scope : CP_GCP_SCOPE_CLOUD);
	}
	/* The parsed document holds the private key too. */
	char *k = (char *)key;
	cp_secret_wipe(k, strlen(k));
	yajl_tree_free(doc);
	if (!s || !s->email || !s->private_key || !s->token_uri || !s->scope) {
		sa_free(s);
		return cp_error_oom();
	}
	char *name = NULL;
	if (asprintf(&name, "service account %s (%s)", s->email, key_file) < 0) {
		sa_free(s);
		return cp_error_oom();
	}
	rc = cp_creds_new_refreshing(out, ctx, name, sa_refresh, s, sa_free);
	free(name);
	return rc;
}
