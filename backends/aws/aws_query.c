/*
 * The AWS query protocol (EC2, RDS, Redshift, STS): a form-encoded POST of
 * Action, Version and parameters, signed with SigV4, answered in XML. One
 * place sends the calls and turns the services' error codes into clear
 * errors, so every operation of every query service reports the same way.
 *
 * Errors come in two shapes: EC2's <Response><Errors><Error><Code> and
 * everyone else's <ErrorResponse><Error><Code>; the transport's XML error
 * parser finds <Code> in both, and both spellings of throttling
 * ("RequestLimitExceeded", "Throttling") are retried by lib/http/retry.c.
 */
#include "auth/sigv4.h"
#include "ctx.h"
#include "error.h"
#include "http/url.h"
#include "http/xml.h"
#include "provider_aws.h"

#include <libxml/parser.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/*
 * Form encoding, as botocore sends it: spaces become '+'. AWS accepts
 * "%20" too, but servers that re-encode the form to check the signature
 * (moto) only agree with '+'.
 */
static void put(ec2_params *p, const char *s, size_t n, const char *keep)
{
	if (!keep) {
		if (!p->rc)
			p->rc = cp_buf_put(&p->form, s, n);
		return;
	}
	while (n && !p->rc) {
		const char *space = memchr(s, ' ', n);
		size_t run = space ? (size_t)(space - s) : n;
		p->rc = cp_url_encode(&p->form, s, run, keep);
		if (!p->rc && space)
			p->rc = cp_buf_put(&p->form, "+", 1);
		run += space ? 1 : 0;
		s += run;
		n -= run;
	}
}

void aws_query_params_init(ec2_params *p, const char *action, const char *version)
{
	memset(p, 0, sizeof(*p));
	put(p, "Action=", 7, NULL);
	put(p, action, strlen(action), "");
	put(p, "&Version=", 9, NULL);
	put(p, version, strlen(version), "");
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

static int has(const char *code, const char *part)
{
	return strstr(code, part) != NULL;
}

static int is_not_found(const char *code)
{
	/* EC2: InvalidSnapshot.NotFound; RDS: DBSnapshotNotFound, DBClusterNotFoundFault;
	 * Redshift: ClusterNotFound, ClusterSnapshotNotFound. */
	return has(code, "NotFound") || !strcmp(code, "InvalidSnapshotID.Malformed") ||
	       !strcmp(code, "InvalidVolumeID.Malformed");
}

static int is_auth(const char *code)
{
	static const char *const codes[] = {
		"UnauthorizedOperation",      "AuthFailure",	      "AccessDenied",
		"AccessDeniedException",      "InvalidClientTokenId", "SignatureDoesNotMatch",
		"UnrecognizedClient",	      "ExpiredToken",	      "InvalidAccessKeyId",
		"MissingAuthenticationToken",
	};
	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		if (!strcmp(code, codes[i]))
			return 1;
	return 0;
}

static int is_busy(const char *code)
{
	/* InvalidDBInstanceState, InvalidDBClusterStateFault, InvalidClusterState,
	 * InvalidDBSnapshotState, InvalidClusterSnapshotState, EC2's IncorrectState. */
	return !strcmp(code, "IncorrectState") ||
	       !strcmp(code, "SnapshotCreationPerVolumeRateExceeded") ||
	       (!strncmp(code, "Invalid", 7) && has(code, "State"));
}

static int translate_error(aws_provider *p, const aws_query_api *api, const char *action,
			   const char *region, const char *subject, cp_http_response *resp, int rc)
{
	const char *code = resp->error.code;
	const char *msg = resp->error.message[0] ? resp->error.message : "no message";
	const char *rid = resp->error.request_id;
	int status = (int)resp->status;
	char about[300] = "";
	if (subject)
		snprintf(about, sizeof(about), " of '%s'", subject);
	if (is_not_found(code))
		return cp_error_set_cloud(CP_ENOTFOUND, CP_ERRCLASS_PROVIDER, status, code, rid,
					  "%s %s%s in %s: not found: %s (%s); check the id "
					  "and the region",
					  api->name, action, about, region, msg, code);
	if (is_auth(code) || rc == CP_EAUTH)
		return aws_error_refused(p, resp, api->name, action, about, region,
					 api->iam_prefix);
	if (is_busy(code))
		return cp_error_set_cloud(CP_EBUSY, CP_ERRCLASS_PROVIDER, status, code, rid,
					  "%s %s%s in %s: %s (%s); wait until it is available "
					  "and retry",
					  api->name, action, about, region, msg, code);
	if (has(code, "QuotaExceeded") || has(code, "LimitExceeded"))
		return cp_error_set_cloud(CP_ERROR, CP_ERRCLASS_PROVIDER, status, code, rid,
					  "%s %s%s in %s: %s (%s); delete snapshots or resources "
					  "you no longer need, or ask AWS to raise the quota",
					  api->name, action, about, region, msg, code);
	if (has(code, "AlreadyExists"))
		return cp_error_set_cloud(CP_EEXISTS, CP_ERRCLASS_PROVIDER, status, code, rid,
					  "%s %s%s in %s: %s (%s); choose another name", api->name,
					  action, about, region, msg, code);
	if (rc == CP_ETHROTTLED)
		return cp_error_prefix(rc,
				       "%s %s%s in %s (still throttled after retries; lower "
				       "the request rate or retry later): ",
				       api->name, action, about, region);
	return cp_error_prefix(rc, "%s %s%s in %s: ", api->name, action, about, region);
}

static int endpoint(cp_buf *out, const aws_query_api *api, const char *region)
{
	char *base = NULL;
	int rc = 0;
	if (api->url)
		base = strdup(api->url);
	else
		rc = aws_service_url(&base, api->env_name, api->host_prefix, region);
	if (!rc && !base)
		rc = cp_error_oom();
	rc = rc ? rc : cp_buf_put(out, base, strlen(base));
	rc = rc ? rc : cp_buf_put(out, "/", 1);
	free(base);
	return rc;
}

static int is_repeatable(const char *action)
{
	return !strncmp(action, "Describe", 8) || !strncmp(action, "List", 4) ||
	       !strncmp(action, "Get", 3) || !strcmp(action, "CreateTags") ||
	       !strcmp(action, "AddTagsToResource");
}

int aws_query_call(aws_provider *p, const aws_query_api *api, const char *region,
		   const char *subject, ec2_params *params, xmlDoc **doc)
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
	char what[96];
	snprintf(what, sizeof(what), "%s %s", api->name, action);

	cp_buf url = CP_BUF_INIT, body = CP_BUF_INIT;
	cp_http_request req = CP_HTTP_REQUEST_INIT;
	cp_http_response resp = CP_HTTP_RESPONSE_INIT;
	cp_sigv4_signer signer;
	aws_signer_init(&signer, p, region, api->host_prefix);
	int rc = endpoint(&url, api, region);
	rc = rc ? rc
		: cp_http_headers_set(&req.headers, "Content-Type",
				      "application/x-www-form-urlencoded; charset=utf-8");
	if (!rc) {
		req.method = "POST";
		req.url = url.ptr;
		req.body = params->form.ptr;
		req.body_len = params->form.size;
		req.response_body = &body;
		/* Reads and tagging are safe to repeat; creates carry no client token here,
		 * so the transport retries them only when AWS says it did nothing
		 * (throttling is refused before anything happens). */
		req.idempotency =
			is_repeatable(action) ? CP_HTTP_IDEMPOTENT : CP_HTTP_NOT_IDEMPOTENT;
		req.sign = cp_sigv4_sign_request;
		req.sign_payload = &signer;
		req.parse_error = cp_http_parse_error_xml;
		req.what = what;
		rc = cp_http_pool_perform(p->pool, &req, &resp);
		if (rc)
			rc = translate_error(p, api, action, region, subject, &resp, rc);
	}
	if (!rc) {
		*doc = cp_xml_parse(body.ptr, body.size);
		if (!*doc)
			rc = cp_error_set(CP_EIO, CP_ERRCLASS_PROVIDER,
					  "%s %s in %s answered with XML that does not parse; "
					  "check the endpoint (AWS_ENDPOINT_URL_%s)",
					  api->name, action, region, api->env_name);
	}
	cp_http_request_dispose(&req);
	cp_http_response_dispose(&resp);
	cp_buf_dispose(&url);
	cp_buf_dispose(&body);
	return rc;
}

xmlNode *aws_query_result(xmlDoc *doc)
{
	/* <XResponse><XResult>...; the result is the first element child. */
	xmlNode *root = doc ? xmlDocGetRootElement(doc) : NULL;
	return aws_query_next(root ? root->children : NULL);
}

xmlNode *aws_query_next(xmlNode *n)
{
	for (; n; n = n->next)
		if (n->type == XML_ELEMENT_NODE)
			return n;
	return NULL;
}

int aws_arn_parse(aws_arn *out, const char *arn)
{
	/* arn:PARTITION:SERVICE:REGION:ACCOUNT:TYPE:NAME or .../TYPE/NAME; NAME may hold ':'. */
	memset(out, 0, sizeof(*out));
	if (!arn || strncmp(arn, "arn:", 4) || strlen(arn) >= sizeof(out->buf))
		return CP_EINVALID;
	memcpy(out->buf, arn, strlen(arn) + 1);
	char *fields[5], *s = out->buf;
	for (size_t i = 0; i < 5; i++) {
		fields[i] = s;
		char *c = strchr(s, ':');
		if (!c)
			return CP_EINVALID;
		*c = 0;
		s = c + 1;
	}
	char *sep = s + strcspn(s, ":/");
	if (!*sep || !*fields[2] || !*fields[3])
		return CP_EINVALID;
	*sep = 0;
	out->partition = fields[1];
	out->service = fields[2];
	out->region = fields[3];
	out->account = fields[4];
	out->type = s;
	out->name = sep + 1;
	return *out->name ? 0 : CP_EINVALID;
}

int aws_arn_is(const char *id, const char *service)
{
	aws_arn a;
	return !aws_arn_parse(&a, id) && !strcmp(a.service, service);
}

static void sleep_ms(unsigned int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int aws_wait(aws_provider *p, const char *phase, const char *item, aws_wait_poll poll, void *arg,
	     cp_progress_cb progress_cb, void *progress_payload)
{
	int64_t deadline = now_ms() + (int64_t)p->wait_timeout_s * 1000;
	for (;;) {
		int done = 0;
		unsigned int percent = 0;
		char status[64] = "";
		int rc = poll(p, arg, &done, &percent, status, sizeof(status));
		if (rc)
			return rc;
		if (percent > 100)
			percent = 100;
		cp_progress pr = {phase, done ? 100 : percent, 100, 0, item};
		rc = cp_progress_report(progress_cb, progress_payload, &pr);
		if (rc || done)
			return rc;
		if (now_ms() > deadline)
			return cp_error_set(CP_ETIMEOUT, CP_ERRCLASS_PROVIDER,
					    "%s is still '%s' after %u s; raise the provider's "
					    "wait_timeout_s, or check it in the AWS console",
					    item, status, p->wait_timeout_s);
		cp_log(p->ctx, CP_LOG_DEBUG, "aws: waiting for %s (%s, %u%%)", item, status,
		       percent);
		sleep_ms(p->poll_ms);
	}
}

const aws_query_api aws_api_sts = {
	.name = "STS",
	.env_name = "STS",
	.host_prefix = "sts",
	.iam_prefix = "sts",
	.version = "2011-06-15",
};

int aws_caller_account(aws_provider *p, const char *region, char *out, size_t cap)
{
	ec2_params q;
	aws_query_params_init(&q, "GetCallerIdentity", aws_api_sts.version);
	xmlDoc *doc;
	int rc = aws_query_call(p, &aws_api_sts, region, NULL, &q, &doc);
	ec2_params_dispose(&q);
	if (rc)
		return rc;
	xml_child_copy(aws_query_result(doc), "Account", out, cap);
	xmlFreeDoc(doc);
	return out[0] ? 0
		      : cp_error_set(CP_ERROR, CP_ERRCLASS_PROVIDER,
				     "STS GetCallerIdentity in %s named no account; check the "
				     "endpoint (AWS_ENDPOINT_URL_STS)",
				     region ? region : p->region);
}

const char *aws_partition_of(const char *region)
{
	if (region && !strncmp(region, "cn-", 3))
		return "aws-cn";
	if (region && !strncmp(region, "us-gov-", 7))
		return "aws-us-gov";
	return "aws";
}
