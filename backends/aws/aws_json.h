/*
 * Calls to the AWS services that speak JSON: the JSON 1.0/1.1 protocols
 * (POST / with X-Amz-Target, e.g. DynamoDB, FSx) and REST-JSON (a method
 * and a path, e.g. EFS, AWS Backup), signed with SigV4, errors translated
 * the same way for all of them. Shared by dynamodb*.c, efs*.c, fsx*.c
 * and backup*.c.
 */
#ifndef CP_BACKENDS_AWS_AWS_JSON_H
#define CP_BACKENDS_AWS_AWS_JSON_H

#include "json.h"
#include "provider_aws.h"

/* One JSON-speaking service. */
typedef struct aws_api {
	const char *name;	 /* for messages: "DynamoDB" */
	const char *service;	 /* SigV4 signing name: "dynamodb" */
	const char *env_name;	 /* AWS_ENDPOINT_URL_<env_name> */
	const char *host_prefix; /* https://<host_prefix>.<region>.amazonaws.com */
	/* JSON protocols: X-Amz-Target is "<target_prefix>.<operation>"; NULL for REST-JSON. */
	const char *target_prefix;
	const char *json_version; /* "1.0" or "1.1" (JSON protocols) */
} aws_api;

/*
 * Call operation op of api in region (NULL: the provider's default).
 * REST-JSON: method and path_and_query (already encoded) say where;
 * JSON protocols: pass NULL for both (POST /). body is JSON text or NULL.
 * *out (may be NULL) gets the parsed answer (an empty object when the
 * answer has no body); free it with yajl_tree_free. Errors name the
 * service, operation and region: ResourceNotFound-like codes become
 * CP_ENOTFOUND, access refusals CP_EAUTH naming the key id (never the
 * secret), throttling CP_ETHROTTLED once the transport's retries ran out.
 */
int aws_json_call(aws_provider *p, const aws_api *api, const char *region, const char *op,
		  const char *method, const char *path_and_query, const char *body, yajl_val *out);

/* Append s percent-encoded as one path segment or query value (':' and '/' encoded too). */
int aws_json_encode(cp_buf *out, const char *s);

/* Numbers that AWS sends as integers or doubles (sizes, epoch dates); 0 when absent. */
uint64_t aws_json_u64(yajl_val obj, const char *key);
/* Epoch seconds from a number, or from an ISO 8601 string; 0 when absent. */
int64_t aws_json_time(yajl_val obj, const char *key);

/*
 * Tags from [{"Key": k, "Value": v}, ...] (EFS, FSx, DynamoDB's
 * ListTagsOfResource) into out, appending; strings owned by out.
 */
int aws_json_tags(aws_tags *out, yajl_val list);

/*
 * One page of a listing: every element of out's array list_key to fn
 * (until one fails), then *next = a copy of out's next_key, the token of
 * the next page (NULL when there is none).
 */
typedef int (*aws_json_item_fn)(yajl_val item, void *arg);
int aws_json_page(yajl_val out, const char *list_key, aws_json_item_fn fn, void *arg,
		  const char *next_key, char **next);

/* Field n (0-based) of an ARN "arn:partition:service:region:account:resource"; "" if absent. */
void aws_arn_field(const char *arn, int n, char *out, size_t cap);

#endif
