/*
 * Requests to AWS's JSON-speaking services (JSON 1.0/1.1 and REST-JSON):
 * endpoint, SigV4, the protocol's headers, and one translation of their
 * errors, so DynamoDB, EFS, FSx and AWS Backup fail the same way.
 */
#include "aws_json.h"

#include "ctx.h"
#include "http/url.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* JSON errors carry "__type" (JSON 1.x) or x-amzn-ErrorType (REST-JSON); either may be set. */
static void parse_error(const cp_http_response *resp, const char *body, size_t len,
			cp_http_cloud_error *err)
{
	cp_http_parse_error_any(resp, body, len, err);
}

static int is_not_found(const char *code)
{
	static const char *const codes[] = {
		"ResourceNotFoundException",   "FileSystemNotFound",
		"FileSystemNotFoundException", "BackupNotFound",
		"TableNotFoundException",      "NotFoundException",
	};
	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		if (!strcmp(code, codes[i]))
			return 1;
	return 0;
}

static int is_auth(const char *code)
{
	static const char *const codes[] = {
		"AccessDeniedException",       "AccessDenied",
		"UnrecognizedClientException", "InvalidSignatureException",
		"SignatureDoesNotMatch",       "MissingAuthenticationToken",
		"IncompleteSignature",	       "InvalidClientTokenId",
		"ExpiredTokenException",       "MissingAuthenticationTokenException",
	};
	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		if (!strcmp(code, codes[i]))
			return 1;
	return 0;
}

static int translate(aws_provider *p, const aws_api *api, const char *op, const char *region,
		     const cp_http_response *resp, int rc)
{
	const char *code = resp->error.code;
	const char *msg = resp->error.message[0] ? resp->error.message : "no message";
	const char *rid = resp->error.request_id;
	int status = (int)resp->status;
	if (is_not_found(code) || rc == CP_ENOTFOUND)
		return cp_error_set_cloud(CP_ENOTFOUND, CP_ERRCLASS_PROVIDER, status, code, rid,
					  "%s %s in %s: not found: %s (%s); check the ARN and "
					  "its region",
					  api->name, op, region, msg, code[0] ? code : "404");
	if (is_auth(code) || rc == CP_EAUTH)
		return aws_error_refused(p, resp, api->name, op, "", region, api->service);
	if (rc == CP_ETHROTTLED)
		return cp_error_prefix(rc,
				       "%s %s in %s kept being throttled; retry later: ", api->name,
				       op, region);
	if (code[0])
		return cp_error_set_cloud(rc, CP_ERRCLASS_PROVIDER, status, code, rid,
					  "%s %s in %s failed: %s (%s)", api->name, op, region, msg,
					  code);
	return cp_error_prefix(rc, "%s %s in %s: ", api->name, op, region);
}

static int is_read_only(const char *op)
{
	return !strncmp(op, "List", 4) || !strncmp(op, "Describe", 8) || !strncmp(op, "Get", 3);
}

int aws_json_call(aws_provider *p, const aws_api *api, const char *region, const char *op,
		  const char *method, const char *path_and_query, const char *body, yajl_val *out)
{
	if (out)
		*out = NULL;
	if (!region)
		region = p->region;
	char what[96], target[128], ctype[64];
	snprintf(what, sizeof(what), "%s %s", api->name, op);

	cp_buf url = CP_BUF_INIT, answer = CP_BUF_INIT;
	cp_http_request req = CP_HTTP_REQUEST_INIT;
	cp_http_response resp = CP_HTTP_RESPONSE_INIT;
	cp_sigv4_signer signer;
	aws_signer_init(&signer, p, region, api->service);

	char *base = NULL;
	int rc = aws_service_url(&base, api->env_name, api->host_prefix, region);
	rc = rc ? rc : cp_buf_put(&url, base, strlen(base));
	free(base);
	const char *path = path_and_query ? path_and_query : "/";
	rc = rc ? rc : cp_buf_put(&url, path, strlen(path));
	if (!rc && api->target_prefix) {
		snprintf(target, sizeof(target), "%s.%s", api->target_prefix, op);
		snprintf(ctype, sizeof(ctype), "application/x-amz-json-%s", api->json_version);
		rc = cp_http_headers_set(&req.headers, "X-Amz-Target", target);
		rc = rc ? rc : cp_http_headers_set(&req.headers, "Content-Type", ctype);
		/* The JSON protocols want a body even when there is nothing to say. */
		if (!body)
			body = "{}";
	} else if (!rc && body) {
		rc = cp_http_headers_set(&req.headers, "Content-Type", "application/json");
	}
	if (!rc) {
		req.method = api->target_prefix ? "POST" : (method ? method : "GET");
		req.url = url.ptr;
		req.body = body;
		req.body_len = body ? strlen(body) : 0;
		req.response_body = &answer;
		/*
		 * Reads are safe to repeat. REST-JSON PUTs here carry an
		 * IdempotencyToken or name what they make; other JSON-protocol
		 * writes are retried only when AWS says it did nothing.
		 */
		if (api->target_prefix)
			req.idempotency =
				is_read_only(op) ? CP_HTTP_IDEMPOTENT : CP_HTTP_NOT_IDEMPOTENT;
		req.sign = cp_sigv4_sign_request;
		req.sign_payload = &signer;
		req.parse_error = parse_error;
		req.what = what;
		rc = cp_http_pool_perform(p->pool, &req, &resp);
		if (rc)
			rc = translate(p, api, op, region, &resp, rc);
	}
	if (!rc && out) {
		char name[128];
		snprintf(name, sizeof(name), "the answer of %s in %s", what, region);
		rc = cp_json_parse(out, answer.size ? answer.ptr : "{}", name);
		if (!rc && !YAJL_IS_OBJECT(*out)) {
			yajl_tree_free(*out);
			*out = NULL;
			rc = cp_error_set(CP_EIO, CP_ERRCLASS_PROVIDER,
					  "%s answered with JSON that is not an object; check the "
					  "endpoint (AWS_ENDPOINT_URL_%s)",
					  name, api->env_name);
		}
	}
	cp_http_request_dispose(&req);
	cp_http_response_dispose(&resp);
	cp_buf_dispose(&url);
	cp_buf_dispose(&answer);
	return rc;
}

int aws_json_encode(cp_buf *out, const char *s)
{
	return cp_url_encode(out, s, strlen(s), "");
}

uint64_t aws_json_u64(yajl_val obj, const char *key)
{
	yajl_val v = cp_json_get(obj, key);
	if (YAJL_IS_INTEGER(v))
		return YAJL_GET_INTEGER(v) > 0 ? (uint64_t)YAJL_GET_INTEGER(v) : 0;
	if (YAJL_IS_DOUBLE(v))
		return YAJL_GET_DOUBLE(v) > 0 ? (uint64_t)YAJL_GET_DOUBLE(v) : 0;
	if (YAJL_IS_STRING(v))
		return strtoull(v->u.string, NULL, 10);
	return 0;
}

int64_t aws_json_time(yajl_val obj, const char *key)
{
	yajl_val v = cp_json_get(obj, key);
	if (YAJL_IS_STRING(v))
		return aws_parse_time(YAJL_GET_STRING(v));
	return (int64_t)aws_json_u64(obj, key);
}

int aws_json_tags(aws_tags *out, yajl_val list)
{
	if (!YAJL_IS_ARRAY(list) || !list->u.array.len)
		return 0;
	cp_tag *grown = realloc(out->items, (out->count + list->u.array.len) * sizeof(cp_tag));
	if (!grown)
		return cp_error_oom();
	out->items = grown;
	for (size_t i = 0; i < list->u.array.len; i++) {
		const char *k = cp_json_str(list->u.array.values[i], "Key");
		const char *v = cp_json_str(list->u.array.values[i], "Value");
		if (!k)
			continue;
		char *kk = strdup(k), *vv = strdup(v ? v : "");
		if (!kk || !vv) {
			free(kk);
			free(vv);
			return cp_error_oom();
		}
		out->items[out->count].key = kk;
		out->items[out->count++].value = vv;
	}
	return 0;
}

void aws_arn_field(const char *arn, int n, char *out, size_t cap)
{
	const char *s = arn;
	out[0] = 0;
	for (int i = 0; i < n && s; i++) {
		s = strchr(s, ':');
		if (s)
			s++;
	}
	if (!s)
		return;
	/* The resource (field 5) runs to the end, colons and all. */
	size_t len = n >= 5 ? strlen(s) : strcspn(s, ":");
	snprintf(out, cap, "%.*s", (int)len, s);
}

int aws_json_page(yajl_val out, const char *list_key, aws_json_item_fn fn, void *arg,
		  const char *next_key, char **next)
{
	*next = NULL;
	yajl_val list = cp_json_get(out, list_key);
	int rc = 0;
	for (size_t i = 0; !rc && YAJL_IS_ARRAY(list) && i < list->u.array.len; i++)
		rc = fn(list->u.array.values[i], arg);
	const char *token = cp_json_str(out, next_key);
	if (!rc && token && *token && !(*next = strdup(token)))
		rc = cp_error_oom();
	return rc;
}
