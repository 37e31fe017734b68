/* Reading a cloud's error answer: S3/Azure/STS XML, JSON, and headers. */
#include "http/http.h"
#include "http/xml.h"
#include "json.h"

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static void copy_field(char *dst, size_t cap, const char *src, size_t len)
{
	if (dst[0] || !src)
		return;
	if (len >= cap)
		len = cap - 1;
	/* Keep messages on one line and printable. */
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)src[i];
		dst[i] = (c < 0x20 || c == 0x7f) ? ' ' : (char)c;
	}
	dst[len] = '\0';
}

static void copy_str(char *dst, size_t cap, const char *src)
{
	if (src)
		copy_field(dst, cap, src, strlen(src));
}

static void request_id_from_headers(const cp_http_response *resp, cp_http_cloud_error *err)
{
	static const char *const names[] = {
		"x-amz-request-id",  "x-amzn-requestid",     "x-ms-request-id",
		"x-goog-request-id", "x-guploader-uploadid", "x-request-id",
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		copy_str(err->request_id, sizeof(err->request_id),
			 cp_http_headers_get(&resp->headers, names[i]));
}

static void copy_xml(char *dst, size_t cap, xmlNode *root, const char *name)
{
	xmlNode *n = cp_xml_find(root, name);
	if (!n)
		return;
	xmlChar *text = xmlNodeGetContent(n);
	if (text) {
		copy_str(dst, cap, (const char *)text);
		xmlFree(text);
	}
}

void cp_http_parse_error_xml(const cp_http_response *resp, const char *body, size_t len,
			     cp_http_cloud_error *err)
{
	if (resp)
		request_id_from_headers(resp, err);
	if (len > 1 << 20)
		return;
	xmlDoc *doc = cp_xml_parse(body, len);
	if (!doc)
		return;
	xmlNode *root = xmlDocGetRootElement(doc);
	copy_xml(err->code, sizeof(err->code), root, "Code");
	copy_xml(err->message, sizeof(err->message), root, "Message");
	copy_xml(err->request_id, sizeof(err->request_id), root, "RequestId");
	copy_xml(err->request_id, sizeof(err->request_id), root, "RequestID");
	xmlFreeDoc(doc);
}

static void copy_json(char *dst, size_t cap, yajl_val v)
{
	if (YAJL_IS_STRING(v))
		copy_str(dst, cap, YAJL_GET_STRING(v));
}

void cp_http_parse_error_json(const cp_http_response *resp, const char *body, size_t len,
			      cp_http_cloud_error *err)
{
	if (resp)
		request_id_from_headers(resp, err);
	if (!len || len > 1 << 20)
		return;
	char errbuf[128];
	char *text = strndup(body, len);
	if (!text)
		return;
	yajl_val root = yajl_tree_parse(text, errbuf, sizeof(errbuf));
	free(text);
	if (!root || !YAJL_IS_OBJECT(root)) {
		yajl_tree_free(root);
		return;
	}
	yajl_val e = cp_json_get(root, "error");
	if (YAJL_IS_OBJECT(e)) {
		/* Azure ARM {"error":{"code","message"}}; Google {"error":{"status","message","errors":[{"reason"}]}} */
		yajl_val errors = cp_json_get(e, "errors");
		if (YAJL_IS_ARRAY(errors) && errors->u.array.len)
			copy_json(err->code, sizeof(err->code),
				  cp_json_get(errors->u.array.values[0], "reason"));
		copy_json(err->code, sizeof(err->code), cp_json_get(e, "code"));
		copy_json(err->code, sizeof(err->code), cp_json_get(e, "status"));
		copy_json(err->message, sizeof(err->message), cp_json_get(e, "message"));
	} else if (YAJL_IS_STRING(e)) {
		/* OAuth2 token endpoints: {"error":"invalid_grant","error_description":...} */
		copy_json(err->code, sizeof(err->code), e);
		copy_json(err->message, sizeof(err->message),
			  cp_json_get(root, "error_description"));
	}
	/* AWS JSON protocols: {"__type":"com.amazon...#ThrottlingException","message":...} */
	const char *type = cp_json_str(root, "__type");
	if (type) {
		const char *hash = strrchr(type, '#');
		copy_str(err->code, sizeof(err->code), hash ? hash + 1 : type);
	}
	copy_json(err->code, sizeof(err->code), cp_json_get(root, "code"));
	copy_json(err->code, sizeof(err->code), cp_json_get(root, "Code"));
	copy_json(err->message, sizeof(err->message), cp_json_get(root, "message"));
	copy_json(err->message, sizeof(err->message), cp_json_get(root, "Message"));
	yajl_tree_free(root);
}

void cp_http_parse_error_any(const cp_http_response *resp, const char *body, size_t len,
			     cp_http_cloud_error *err)
{
	if (resp) {
		request_id_from_headers(resp, err);
		copy_str(err->code, sizeof(err->code),
			 cp_http_headers_get(&resp->headers, "x-ms-error-code"));
		const char *type = cp_http_headers_get(&resp->headers, "x-amzn-errortype");
		if (type)
			copy_field(err->code, sizeof(err->code), type, strcspn(type, ":"));
	}
	size_t i = 0;
	if (len >= 3 && !memcmp(body, "\xEF\xBB\xBF", 3))
		i = 3; /* Azure's XML starts with a byte order mark */
	while (i < len && (body[i] == ' ' || body[i] == '\n' || body[i] == '\r' || body[i] == '\t'))
		i++;
	if (i < len && body[i] == '<')
		cp_http_parse_error_xml(NULL, body, len, err);
	else if (i < len && body[i] == '{')
		cp_http_parse_error_json(NULL, body, len, err);
}
