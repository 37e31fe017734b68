#include "creds/oauth.h"
#include "auth/digest.h"
#include "error.h"
#include "http/url.h"
#include "json.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

int cp_oauth_form_add(cp_buf *form, const char *key, const char *value)
{
	int rc = cp_buf_put(form, "&", form->size ? 1 : 0);
	rc = rc ? rc : cp_url_encode(form, key, strlen(key), NULL);
	rc = rc ? rc : cp_buf_put(form, "=", 1);
	return rc ? rc : cp_url_encode(form, value, strlen(value), NULL);
}

static int64_t number(yajl_val v)
{
	if (YAJL_IS_INTEGER(v))
		return YAJL_GET_INTEGER(v);
	if (YAJL_IS_STRING(v) && v->u.string)
		return strtoll(v->u.string, NULL, 10);
	return 0;
}

int cp_oauth_parse_token(const cp_buf *body, const char *what, cp_creds_value *out)
{
	memset(out, 0, sizeof(*out));
	yajl_val doc = NULL;
	int rc = cp_json_parse(&doc, body->ptr ? body->ptr : "", what);
	if (rc)
		return rc;
	const char *token = cp_json_str(doc, "access_token");
	int64_t in = number(cp_json_get(doc, "expires_in"));
	int64_t on = number(cp_json_get(doc, "expires_on"));
	if (!token || !*token)
		rc = cp_error_set(CP_EAUTH, CP_ERRCLASS_AUTH, "%s answered without an access_token",
				  what);
	else if (!(out->token = strdup(token)))
		rc = cp_error_oom();
	else
		out->expires_at = in > 0 ? (int64_t)time(NULL) + in : on > 0 ? on : 0;
	yajl_tree_free(doc);
	return rc;
}

int cp_oauth_fetch(cp_http_client *client, const char *method, const char *url, const char *form,
		   const cp_http_headers *headers, const char *what, cp_creds_value *out)
{
	cp_buf body = CP_BUF_INIT;
	cp_http_request req = {.method = method,
			       .url = url,
			       .body = form,
			       .body_len = form ? strlen(form) : 0,
			       .response_body = &body,
			       .idempotency = CP_HTTP_IDEMPOTENT,
			       .parse_error = cp_http_parse_error_json,
			       .what = what};
	int rc = headers ? cp_http_headers_copy(&req.headers, headers) : 0;
	if (!rc && form)
		rc = cp_http_headers_set(&req.headers, "Content-Type",
					 "application/x-www-form-urlencoded");
	cp_http_response resp = CP_HTTP_RESPONSE_INIT;
	rc = rc ? rc : cp_http_perform(client, &req, &resp);
	rc = rc ? rc : cp_oauth_parse_token(&body, what, out);
	cp_secret_wipe(body.ptr, body.size);
	cp_buf_dispose(&body);
	cp_http_request_dispose(&req);
	cp_http_response_dispose(&resp);
	return rc;
}
