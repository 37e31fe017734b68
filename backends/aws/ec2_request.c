/*
 * EC2 query API requests: a form-encoded POST signed with SigV4 (service
 * "ec2"), answered in XML. One place turns EC2's error codes into clear
 * errors, so every operation reports the same way.
 */
#include "auth/sigv4.h"
#include "ctx.h"
#include "error.h"
#include "http/url.h"
#include "provider_aws.h"

#include <libxml/parser.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EC2_API_VERSION "2016-11-15"

static void put(ec2_params *p, const char *s, size_t n, const char *keep)
{
	if (!p->rc)
		p->rc = keep ? cp_url_encode(&p->form, s, n, keep) : cp_buf_put(&p->form, s, n);
}

void ec2_params_init(ec2_params *p, const char *action)
{
	memset(p, 0, sizeof(*p));
	put(p, "Action=", 7, NULL);
	put(p, action, strlen(action), "");
	put(p, "&Version=" EC2_API_VERSION, strlen("&Version=" EC2_API_VERSION), NULL);
}

void ec2_param(ec2_params *p, const char *name, const char *value)
{
	put(p, "&", 1, NULL);
	put(p, name, strlen(name), "");
	put(p, "=", 1, NULL);
	put(p, value, strlen(value), "");
}

void ec2_paramf(ec2_params *p, const char *value, const char *name_fmt, ...)
{
	char name[160];
	va_list ap;
	va_start(ap, name_fmt);
	vsnprintf(name, sizeof(name), name_fmt, ap);
	va_end(ap);
	ec2_param(p, name, value);
}

void ec2_param_tags(ec2_params *p, const char *prefix, const cp_tag *tags, size_t ntags)
{
	for (size_t i = 0; i < ntags; i++) {
		ec2_paramf(p, tags[i].key, "%s.%zu.Key", prefix, i + 1);
		ec2_paramf(p, tags[i].value ? tags[i].value : "", "%s.%zu.Value", prefix, i + 1);
	}
}

void ec2_params_dispose(ec2_params *p)
{
	cp_buf_dispose(&p->form);
}

static int endpoint(cp_buf *out, aws_provider *p, const char *region)
{
	char url[256];
	if (p->ec2_url)
		snprintf(url, sizeof(url), "%s/", p->ec2_url);
	else
		snprintf(url, sizeof(url), "https://ec2.%s.amazonaws.com/", region);
	return cp_buf_put(out, url, strlen(url));
}

static int is_not_found(const char *code)
{
	const char *dot = strstr(code, ".NotFound");
	return dot || !strcmp(code, "InvalidSnapshotID.Malformed") ||
	       !strcmp(code, "InvalidVolumeID.Malformed");
}

static int translate_error(aws_provider *p, const char *action, const char *region,
			   cp_http_response *resp, int rc)
{
	const char *code = resp->error.code;
	const char *msg = resp->error.message[0] ? resp->error.message : "no message";
	const char *rid = resp->error.request_id;
	if (is_not_found(code))
		return cp_error_set_cloud(CP_ENOTFOUND, CP_ERRCLASS_PROVIDER, (int)resp->status,
					  code, rid,
					  "EC2 %s in %s: not found: %s (%s); check the id "
					  "and the region",
					  action, region, msg, code);
	if (!strcmp(code, "UnauthorizedOperation") || !strcmp(code, "AuthFailure") ||
	    !strcmp(code, "AccessDenied") || !strcmp(code, "InvalidClientTokenId") ||
	    !strcmp(code, "SignatureDoesNotMatch") || rc == CP_EAUTH) {
		/* Name the key id (never the secret), so the user knows which identity was refused. */
		cp_creds_value v = {0};
		char id[64] = "(unknown)";
		if (!cp_creds_get(p->creds, &v) && v.access_key)
			snprintf(id, sizeof(id), "%s", v.access_key);
		cp_creds_value_dispose(&v);
		return cp_error_set_cloud(
			CP_EAUTH, CP_ERRCLASS_AUTH, (int)resp->status, code, rid,
			"EC2 %s in %s refused access key id '%s' (from %s): %s (%s); grant "
			"ec2:%s to this identity or use another profile/role",
			action, region, id, p->creds->source ? p->creds->source : "the AWS chain",
			msg, code, action);
	}
	if (!strcmp(code, "IncorrectState") ||
	    !strcmp(code, "SnapshotCreationPerVolumeRateExceeded"))
		return cp_error_set_cloud(CP_EBUSY, CP_ERRCLASS_PROVIDER, (int)resp->status, code,
					  rid, "EC2 %s in %s: %s (%s); retry later", action, region,
					  msg, code);
	return cp_error_prefix(rc, "EC2 %s in %s: ", action, region);
}

int ec2_call(aws_provider *p, const char *region, ec2_params *params, xmlDoc **doc)
{
	*doc = NULL;
	if (params->rc)
		return params->rc;
	if (!region)
		region = p->region;
	/* The action name, for messages: the form starts with "Action=NAME&". */
	char action[64];
	const char *a = params->form.ptr + 7;
	size_t alen = strcspn(a, "&");
	snprintf(action, sizeof(action), "%.*s", (int)(alen < 63 ? alen : 63), a);
	char what[80];
	snprintf(what, sizeof(what), "EC2 %s", action);

	cp_buf url = CP_BUF_INIT, body = CP_BUF_INIT;
	cp_http_request req = CP_HTTP_REQUEST_INIT;
	cp_http_response resp = CP_HTTP_RESPONSE_INIT;
	cp_sigv4_signer signer;
	memset(&signer, 0, sizeof(signer));
	signer.params.dialect = CP_SIGV4_AWS;
	signer.params.region = region;
	signer.params.service = "ec2";
	signer.creds = p->creds;
	int rc = endpoint(&url, p, region);
	rc = rc ? rc
		: cp_http_headers_set(&req.headers, "Content-Type",
				      "application/x-www-form-urlencoded; charset=utf-8");
	if (!rc) {
		req.method = "POST";
		req.url = url.ptr;
		req.body = params->form.ptr;
		req.body_len = params->form.size;
		req.response_body = &body;
		/* Describe* and tagging are safe to repeat; creates carry no client token here,
		 * so the transport retries them only when AWS says it did nothing. */
		req.idempotency = !strncmp(action, "Describe", 8) || !strcmp(action, "CreateTags")
					  ? CP_HTTP_IDEMPOTENT
					  : CP_HTTP_NOT_IDEMPOTENT;
		req.sign = cp_sigv4_sign_request;
		req.sign_payload = &signer;
		req.parse_error = cp_http_parse_error_xml;
		req.what = what;
		rc = cp_http_pool_perform(p->pool, &req, &resp);
		if (rc)
			rc = translate_error(p, action, region, &resp, rc);
	}
	if (!rc) {
		*doc = xmlReadMemory(body.ptr ? body.ptr : "", (int)body.size, "ec2.xml", NULL,
				     XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
		if (!*doc)
			rc = cp_error_set(CP_EIO, CP_ERRCLASS_PROVIDER,
					  "EC2 %s in %s answered with XML that does not parse; "
					  "check the endpoint (AWS_ENDPOINT_URL_EC2)",
					  action, region);
	}
	cp_http_request_dispose(&req);
	cp_http_response_dispose(&resp);
	cp_buf_dispose(&url);
	cp_buf_dispose(&body);
	return rc;
}
