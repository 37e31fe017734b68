/*
 * Instance profile credentials from the EC2 instance metadata service,
 * version 2 only: a session token first (PUT /latest/api/token), then the
 * role and its keys, per "Use IMDSv2" and "Retrieve security credentials
 * from instance metadata" in the EC2 user guide.
 */
#include "auth/digest.h"
#include "creds/aws.h"
#include "ctx.h"
#include "json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define IMDS_DEFAULT "http://169.254.169.254"
#define TOKEN_TTL    "21600"

typedef struct imds_state {
	cp_ctx *ctx;
	char *endpoint; /* without a trailing slash */
	cp_http_client *client;
} imds_state;

static void imds_free(void *p)
{
	imds_state *s = p;
	if (!s)
		return;
	cp_http_client_free(s->client);
	free(s->endpoint);
	free(s);
}

static int imds_get(imds_state *s, const char *method, const char *path, const char *token,
		    cp_buf *out, const char *what)
{
	char *url = NULL;
	if (asprintf(&url, "%s%s", s->endpoint, path) < 0)
		return cp_error_oom();
	cp_buf_clear(out);
	cp_http_request req = {.method = method,
			       .url = url,
			       .response_body = out,
			       .parse_error = cp_http_parse_error_any,
			       .what = what};
	int rc = token ? cp_http_headers_set(&req.headers, "X-aws-ec2-metadata-token", token)
		       : cp_http_headers_set(&req.headers, "X-aws-ec2-metadata-token-ttl-seconds",
					     TOKEN_TTL);
	cp_http_response resp = CP_HTTP_RESPONSE_INIT;
	rc = rc ? rc : cp_http_perform(s->client, &req, &resp);
	cp_http_request_dispose(&req);
	cp_http_response_dispose(&resp);
	free(url);
	return rc;
}

static int imds_refresh(cp_creds *creds, void *state, cp_creds_value *out)
{
	imds_state *s = state;
	cp_buf token = CP_BUF_INIT, body = CP_BUF_INIT;
	int rc = imds_get(s, "PUT", "/latest/api/token", NULL, &token, "IMDSv2 token");
	rc = rc ? rc
		: imds_get(s, "GET", "/latest/meta-data/iam/security-credentials/", token.ptr,
			   &body, "IMDS role name");
	char *role = NULL;
	if (!rc) {
		const char *text = body.ptr ? body.ptr : "";
		size_t n = strcspn(text, "\r\n");
		if (!n)
			rc = cp_error_set(CP_EAUTH, CP_ERRCLASS_AUTH,
					  "this instance has no IAM role; attach an instance "
					  "profile to it");
		else if (!(role = strndup(text, n)))
			rc = cp_error_oom();
	}
	char *path = NULL;
	if (!rc && asprintf(&path, "/latest/meta-data/iam/security-credentials/%s", role) < 0)
		rc = cp_error_oom();
	rc = rc ? rc : imds_get(s, "GET", path, token.ptr, &body, "IMDS role credentials");
	yajl_val doc = NULL;
	rc = rc ? rc : cp_json_parse(&doc, body.ptr, "IMDS credentials");
	if (!rc) {
		const char *code = cp_json_str(doc, "Code");
		cp_creds_value v = {(char *)cp_json_str(doc, "AccessKeyId"),
				    (char *)cp_json_str(doc, "SecretAccessKey"),
				    (char *)cp_json_str(doc, "Token"), 0};
		if (code && strcmp(code, "Success"))
			rc = cp_error_set(CP_EAUTH, CP_ERRCLASS_AUTH,
					  "IMDS could not give credentials for role %s: %s", role,
					  code);
		else if (!v.access_key || !v.secret)
			rc = cp_error_set(CP_EAUTH, CP_ERRCLASS_AUTH,
					  "IMDS answered without keys for role %s", role);
		rc = rc ? rc : cp_creds_parse_time(cp_json_str(doc, "Expiration"), &v.expires_at);
		rc = rc ? rc : cp_creds_value_copy(out, &v);
	}
	if (!rc)
		cp_log(s->ctx, CP_LOG_DEBUG, "credentials: IMDSv2 gave keys for role %s until %lld",
		       role, (long long)out->expires_at);
	yajl_tree_free(doc);
	cp_secret_wipe(token.ptr, token.size);
	cp_secret_wipe(body.ptr, body.size);
	cp_buf_dispose(&token);
	cp_buf_dispose(&body);
	free(role);
	free(path);
	return rc;
}

int cp_aws_creds_imds(cp_creds **out, cp_ctx *ctx, const cp_aws_creds_options *opts)
{
	*out = NULL;
	const char *disabled = getenv("AWS_EC2_METADATA_DISABLED");
	if (disabled && !strcasecmp(disabled, "true"))
		return cp_error_set(CP_ENOTFOUND, CP_ERRCLASS_AUTH,
				    "instance profile: AWS_EC2_METADATA_DISABLED is true");
	const char *ep = opts && opts->imds_endpoint ? opts->imds_endpoint
						     : getenv("AWS_EC2_METADATA_SERVICE_ENDPOINT");
	if (!ep || !*ep)
		ep = IMDS_DEFAULT;
	imds_state *s = calloc(1, sizeof(*s));
	if (!s || !(s->endpoint = strdup(ep))) {
		imds_free(s);
		return cp_error_oom();
	}
	size_t n = strlen(s->endpoint);
	while (n && s->endpoint[n - 1] == '/')
		s->endpoint[--n] = '\0';
	s->ctx = ctx;
	cp_http_client_options o;
	cp_creds_metadata_client_options(&o, ctx);
	int rc = cp_http_client_new(&s->client, ctx, &o);
	char *name = NULL, *absent = NULL;
	if (!rc && asprintf(&name, "instance profile (IMDSv2 at %s)", s->endpoint) < 0)
		name = NULL, rc = cp_error_oom();
	if (!rc && asprintf(&absent, "instance profile: no IMDSv2 at %s", s->endpoint) < 0)
		absent = NULL, rc = cp_error_oom();
	if (rc)
		imds_free(s);
	else
		rc = cp_creds_new_probed(out, ctx, name, imds_refresh, s, imds_free, absent);
	free(name);
	free(absent);
	return rc;
}
