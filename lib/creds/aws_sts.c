/*
 * Role credentials from AWS STS: AssumeRole (signed with the source
 * credentials) and AssumeRoleWithWebIdentity (unsigned, with an OIDC
 * token), per the STS API reference
 * (docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html).
 */
#include "auth/digest.h"
#include "auth/sigv4.h"
#include "creds/aws.h"
#include "ctx.h"
#include "fs.h"
#include "http/url.h"
#include "http/xml.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct sts_state {
	cp_ctx *ctx;
	char *endpoint;
	char *region;
	cp_http_client_options http;
	cp_http_client *client;
	cp_creds *source; /* AssumeRole: signs the call */
	char *role_arn;
	char *external_id;
	char *session_name;
	char *token_file; /* web identity */
	unsigned int duration_s;
} sts_state;

static void sts_free(void *p)
{
	sts_state *s = p;
	if (!s)
		return;
	cp_http_client_free(s->client);
	cp_creds_free(s->source);
	free(s->endpoint);
	free(s->region);
	free(s->role_arn);
	free(s->external_id);
	free(s->session_name);
	free(s->token_file);
	free(s);
}

static const char *env(const char *name)
{
	const char *v = getenv(name);
	return v && *v ? v : NULL;
}

char *cp_aws_region_from_env(const cp_aws_creds_options *opts)
{
	const char *r = opts && opts->region ? opts->region : env("AWS_REGION");
	if (!r)
		r = env("AWS_DEFAULT_REGION");
	return r ? strdup(r) : NULL;
}

static int sts_state_new(sts_state **out, cp_ctx *ctx, const char *role_arn,
			 const char *session_name, const cp_aws_creds_options *opts)
{
	sts_state *s = calloc(1, sizeof(*s));
	if (!s)
		return cp_error_oom();
	s->ctx = ctx;
	s->region = cp_aws_region_from_env(opts);
	const char *ep =
		opts && opts->sts_endpoint ? opts->sts_endpoint : env("AWS_ENDPOINT_URL_STS");
	if (!ep)
		ep = env("AWS_ENDPOINT_URL");
	if (ep)
		s->endpoint = strdup(ep);
	else if (s->region && asprintf(&s->endpoint, "https://sts.%s.amazonaws.com", s->region) < 0)
		s->endpoint = NULL;
	else if (!s->region)
		s->endpoint = strdup("https://sts.amazonaws.com");
	if (!s->region)
		s->region = strdup("us-east-1");
	cp_http_client_options from_ctx;
	cp_http_client_options_from_ctx(&from_ctx, ctx, CP_HTTP_FOR_AWS);
	s->http = from_ctx;
	if (opts && opts->http) {
		s->http = *opts->http;
		/* Only numbers are kept: the caller's strings may not outlive us; ctx's do. */
		s->http.proxy = from_ctx.proxy;
		s->http.no_proxy = from_ctx.no_proxy;
		s->http.ca_file = from_ctx.ca_file;
		s->http.ca_path = from_ctx.ca_path;
		s->http.insecure = from_ctx.insecure;
		s->http.audience = CP_HTTP_FOR_AWS;
		s->http.user_agent = NULL;
	}
	s->role_arn = strdup(role_arn);
	if (session_name)
		s->session_name = strdup(session_name);
	else if (asprintf(&s->session_name, "cloudprotect-%lld", (long long)time(NULL)) < 0)
		s->session_name = NULL;
	if (!s->endpoint || !s->region || !s->role_arn || !s->session_name) {
		sts_free(s);
		return cp_error_oom();
	}
	*out = s;
	return 0;
}

static int put_form(cp_buf *b, const char *key, const char *value)
{
	if (!value)
		return 0;
	int rc = cp_buf_put(b, "&", b->size ? 1 : 0);
	rc = rc ? rc : cp_buf_put(b, key, strlen(key));
	rc = rc ? rc : cp_buf_put(b, "=", 1);
	rc = rc ? rc : cp_url_encode(b, value, strlen(value), NULL);
	return rc;
}

static int parse_credentials(const cp_buf *body, const char *what, cp_creds_value *out)
{
	memset(out, 0, sizeof(*out));
	out->access_key = cp_xml_find_text(body->ptr, body->size, "AccessKeyId");
	out->secret = cp_xml_find_text(body->ptr, body->size, "SecretAccessKey");
	out->token = cp_xml_find_text(body->ptr, body->size, "SessionToken");
	char *exp = cp_xml_find_text(body->ptr, body->size, "Expiration");
	int rc = 0;
	if (!out->access_key || !out->secret || !out->token)
		rc = cp_error_set(CP_EAUTH, CP_ERRCLASS_AUTH,
				  "%s answered without credentials; check the STS endpoint", what);
	else
		rc = cp_creds_parse_time(exp, &out->expires_at);
	free(exp);
	if (rc)
		cp_creds_value_dispose(out);
	return rc;
}

static int sts_call(sts_state *s, const char *action, cp_buf *form, int sign, cp_creds_value *out)
{
	if (!s->client) {
		int rc = cp_http_client_new(&s->client, s->ctx, &s->http);
		if (rc)
			return rc;
	}
	char what[96];
	snprintf(what, sizeof(what), "STS %s", action);
	cp_buf body = CP_BUF_INIT;
	cp_sigv4_signer signer = {.params = {.region = s->region, .service = "sts"},
				  .creds = s->source};
	cp_http_request req = {.method = "POST",
			       .url = s->endpoint,
			       .body = form->ptr,
			       .body_len = form->size,
			       .response_body = &body,
			       /* Asking twice only mints a second set of credentials. */
			       .idempotency = CP_HTTP_IDEMPOTENT,
			       .sign = sign ? cp_sigv4_sign_request : NULL,
			       .sign_payload = &signer,
			       .parse_error = cp_http_parse_error_xml,
			       .what = what};
	cp_http_response resp = CP_HTTP_RESPONSE_INIT;
	int rc = cp_http_headers_set(&req.headers, "Content-Type",
				     "application/x-www-form-urlencoded; charset=utf-8");
	rc = rc ? rc : cp_http_perform(s->client, &req, &resp);
	if (rc)
		rc = cp_error_prefix(rc, "assuming role %s: ", s->role_arn);
	else
		rc = parse_credentials(&body, what, out);
	if (!rc)
		cp_log(s->ctx, CP_LOG_DEBUG, "credentials: %s gave keys for %s until %lld", what,
		       s->role_arn, (long long)out->expires_at);
	cp_secret_wipe(body.ptr, body.size);
	cp_buf_dispose(&body);
	cp_http_request_dispose(&req);
	cp_http_response_dispose(&resp);
	return rc;
}

static int assume_role_refresh(cp_creds *creds, void *state, cp_creds_value *out)
{
	sts_state *s = state;
	char duration[16];
	snprintf(duration, sizeof(duration), "%u", s->duration_s ? s->duration_s : 3600);
	cp_buf form = CP_BUF_INIT;
	int rc = put_form(&form, "Action", "AssumeRole");
	rc = rc ? rc : put_form(&form, "Version", "2011-06-15");
	rc = rc ? rc : put_form(&form, "RoleArn", s->role_arn);
	rc = rc ? rc : put_form(&form, "RoleSessionName", s->session_name);
	rc = rc ? rc : put_form(&form, "ExternalId", s->external_id);
	rc = rc ? rc : put_form(&form, "DurationSeconds", duration);
	rc = rc ? rc : sts_call(s, "AssumeRole", &form, 1, out);
	cp_buf_dispose(&form);
	return rc;
}

static int web_identity_refresh(cp_creds *creds, void *state, cp_creds_value *out)
{
	sts_state *s = state;
	cp_buf token = CP_BUF_INIT, form = CP_BUF_INIT;
	/* Read every time: the orchestrator rotates the file. */
	int rc = cp_fs_read_file(s->token_file, &token);
	if (rc)
		rc = cp_error_prefix(
			rc, "reading the web identity token (AWS_WEB_IDENTITY_TOKEN_FILE): ");
	while (!rc && token.size &&
	       (token.ptr[token.size - 1] == '\n' || token.ptr[token.size - 1] == '\r'))
		token.ptr[--token.size] = '\0';
	rc = rc ? rc : put_form(&form, "Action", "AssumeRoleWithWebIdentity");
	rc = rc ? rc : put_form(&form, "Version", "2011-06-15");
	rc = rc ? rc : put_form(&form, "RoleArn", s->role_arn);
	rc = rc ? rc : put_form(&form, "RoleSessionName", s->session_name);
	rc = rc ? rc : put_form(&form, "WebIdentityToken", token.ptr ? token.ptr : "");
	rc = rc ? rc : sts_call(s, "AssumeRoleWithWebIdentity", &form, 0, out);
	cp_secret_wipe(token.ptr, token.size);
	cp_secret_wipe(form.ptr, form.size);
	cp_buf_dispose(&token);
	cp_buf_dispose(&form);
	return rc;
}

int cp_aws_creds_assume_role(cp_creds **out, cp_ctx *ctx, cp_creds *source, const char *role_arn,
			     const char *external_id, const char *session_name,
			     unsigned int duration_s, const cp_aws_creds_options *opts)
{
	*out = NULL;
	sts_state *s = NULL;
	int rc = sts_state_new(&s, ctx, role_arn, session_name, opts);
	if (rc) {
		cp_creds_free(source);
		return rc;
	}
	s->source = source;
	s->duration_s = duration_s;
	if (external_id && !(s->external_id = strdup(external_id))) {
		sts_free(s);
		return cp_error_oom();
	}
	char *name = NULL;
	if (asprintf(&name, "role %s (via %s)", role_arn, source->source) < 0) {
		sts_free(s);
		return cp_error_oom();
	}
	rc = cp_creds_new_refreshing(out, ctx, name, assume_role_refresh, s, sts_free);
	free(name);
	return rc;
}

int cp_aws_creds_web_identity(cp_creds **out, cp_ctx *ctx, const char *token_file,
			      const char *role_arn, const char *session_name,
			      const cp_aws_creds_options *opts)
{
	*out = NULL;
	sts_state *s = NULL;
	int rc = sts_state_new(&s, ctx, role_arn, session_name, opts);
	if (rc)
		return rc;
	if (!(s->token_file = strdup(token_file))) {
		sts_free(s);
		return cp_error_oom();
	}
	char *name = NULL;
	if (asprintf(&name, "web identity for role %s", role_arn) < 0) {
		sts_free(s);
		return cp_error_oom();
	}
	rc = cp_creds_new_refreshing(out, ctx, name, web_identity_refresh, s, sts_free);
	free(name);
	return rc;
}

int cp_aws_creds_web_identity_from_env(cp_creds **out, cp_ctx *ctx,
				       const cp_aws_creds_options *opts)
{
	*out = NULL;
	const char *file = env("AWS_WEB_IDENTITY_TOKEN_FILE");
	const char *role = env("AWS_ROLE_ARN");
	if (!file || !role)
		return cp_error_set(CP_ENOTFOUND, CP_ERRCLASS_AUTH, "web identity: %s not set",
				    file ? "AWS_ROLE_ARN" : "AWS_WEB_IDENTITY_TOKEN_FILE");
	return cp_aws_creds_web_identity(out, ctx, file, role, env("AWS_ROLE_SESSION_NAME"), opts);
}
