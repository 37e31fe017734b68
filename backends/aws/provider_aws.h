/*
 * The "aws" provider: EC2 inventory and snapshots over the EC2 query API,
 * block access to snapshots over the EBS direct APIs. Internals shared by
 * provider*.c, ec2*.c and ebs*.c.
 */
#ifndef CP_BACKENDS_AWS_PROVIDER_AWS_H
#define CP_BACKENDS_AWS_PROVIDER_AWS_H

#include "auth/sigv4.h"
#include "cloudprotect/sys/provider.h"
#include "creds/creds.h"
#include "error.h"
#include "http/http.h"
#include "http/pool.h"

#include <libxml/tree.h>
#include <pthread.h>
#include <stdint.h>

/* EBS direct works in blocks of 512 KiB; so do our chunks. */
#define EBS_BLOCK_SIZE (512u * 1024)
#define GIB	       (1024ull * 1024 * 1024)

/* The tags by which our snapshots remember what EC2 does not record. */
#define AWS_TAG_GROUP	 "cloudprotect:group"
#define AWS_TAG_INSTANCE "cloudprotect:instance"

typedef struct aws_provider {
	cp_ctx *ctx;
	char *region;		    /* the default region */
	char **regions;		    /* the regions inventory walks, NULL-terminated */
	char *ec2_url;		    /* endpoint override (AWS_ENDPOINT_URL_EC2 / _URL), or NULL */
	char *ebs_url;		    /* likewise for EBS direct */
	char *availability_zone;    /* for restored volumes; NULL: region + "a" */
	unsigned int page_size;	    /* MaxResults for EC2 describes */
	unsigned int ebs_page_size; /* MaxResults for EBS block listings (100..10000) */
	unsigned int poll_ms;	    /* between polls while waiting */
	unsigned int wait_timeout_s;
	unsigned int
		max_block_requests; /* ceiling of GetSnapshotBlock/PutSnapshotBlock in flight */
	int encrypted;		    /* restores start encrypted snapshots */
	cp_creds *creds;
	cp_http_client_options http;
	cp_http_pool *pool;
} aws_provider;

/*
 * The services behind the provider (provider_routes.c). EC2 owns "i-",
 * "vol-" and "snap-" ids; every other service names its resources,
 * snapshots and recovery points by ARN, and claims the ids it owns.
 * Operations left NULL are unsupported by that service.
 */
typedef struct aws_service {
	const char *name;
	/* Non-zero when id (a resource or a snapshot) belongs to this service. */
	int (*owns)(const char *id);
	int (*inventory)(aws_provider *p, const cp_inventory_filter *filter, cp_resource_cb cb,
			 void *payload);
	int (*snapshot_create)(aws_provider *p, const char *resource_id,
			       const cp_snapshot_create_options *opts, cp_snapshot_cb cb,
			       void *payload);
	/* resource_id NULL: all of this service's snapshots. */
	int (*snapshot_list)(aws_provider *p, const char *resource_id, cp_snapshot_cb cb,
			     void *payload);
	int (*snapshot_get)(aws_provider *p, const char *snapshot_id, cp_snapshot_cb cb,
			    void *payload);
	int (*snapshot_delete)(aws_provider *p, const char *snapshot_id);
	int (*snapshot_copy)(aws_provider *p, const char *snapshot_id, const char *region,
			     cp_snapshot_cb cb, void *payload);
	int (*resource_restore)(aws_provider *p, const char *snapshot_id,
				const cp_resource_restore_options *opts, cp_resource_cb cb,
				void *payload);
} aws_service;

/* One line per service in provider_routes.c's table. */
extern const aws_service aws_service_ec2;

/*
 * The endpoint of a service in a region, as the AWS SDKs find it:
 * AWS_ENDPOINT_URL_<ENV_NAME> (e.g. "RDS"), else AWS_ENDPOINT_URL, else
 * https://<host_prefix>.<region>.amazonaws.com. *out is malloc'd.
 */
int aws_service_url(char **out, const char *env_name, const char *host_prefix, const char *region);

/* The provider table's entries (provider_routes.c). */
int aws_route_inventory(void *state, const cp_inventory_filter *filter, cp_resource_cb cb,
			void *payload);
int aws_route_snapshot_create(void *state, const char *resource_id,
			      const cp_snapshot_create_options *opts, cp_snapshot_cb cb,
			      void *payload);
int aws_route_snapshot_list(void *state, const char *resource_id, cp_snapshot_cb cb, void *payload);
int aws_route_snapshot_get(void *state, const char *snapshot_id, cp_snapshot_cb cb, void *payload);
int aws_route_snapshot_delete(void *state, const char *snapshot_id);
int aws_route_snapshot_copy(void *state, const char *snapshot_id, const char *region,
			    cp_snapshot_cb cb, void *payload);
int aws_route_resource_restore(void *state, const char *snapshot_id,
			       const cp_resource_restore_options *opts, cp_resource_cb cb,
			       void *payload);

/* ---- EC2 query API (ec2_request.c) ---- */

/* A form body being built: "Action=..&Version=..&Name=Value...". */
typedef struct ec2_params {
	cp_buf form;
	int rc; /* the first failure while adding */
} ec2_params;

void ec2_params_init(ec2_params *p, const char *action);
void ec2_param(ec2_params *p, const char *name, const char *value);
void ec2_paramf(ec2_params *p, const char *value, const char *name_fmt, ...) CP_PRINTF(3, 4);
/* Tags as Prefix.N.Key / Prefix.N.Value (or Tag.N.* when prefix is "Tag"). */
void ec2_param_tags(ec2_params *p, const char *prefix, const cp_tag *tags, size_t ntags);
void ec2_params_dispose(ec2_params *p);

/*
 * Send an EC2 action to region (NULL: the default) and parse the answer.
 * Failures name the action; AWS's *.NotFound codes become CP_ENOTFOUND and
 * UnauthorizedOperation/AuthFailure CP_EAUTH with the key id named.
 */
int ec2_call(aws_provider *p, const char *region, ec2_params *params, xmlDoc **doc);

/* ---- small XML helpers over libxml2 (ec2_xml.c) ---- */
xmlNode *xml_child(xmlNode *parent, const char *name);
/* Text of a direct child, malloc'd, or NULL. */
char *xml_child_text(xmlNode *parent, const char *name);
/* Text of a direct child into a fixed buffer; "" when absent. */
void xml_child_copy(xmlNode *parent, const char *name, char *out, size_t cap);
uint64_t xml_child_u64(xmlNode *parent, const char *name);
/* The next <item> sibling from n (inclusive), or NULL. */
xmlNode *xml_item(xmlNode *n);

/* tagSet/item{key,value} into an array of tags (strings owned by the array). */
typedef struct aws_tags {
	cp_tag *items;
	size_t count;
} aws_tags;
int aws_tags_parse(aws_tags *out, xmlNode *tag_set);
const char *aws_tags_get(const aws_tags *tags, const char *key);
void aws_tags_dispose(aws_tags *tags);

/* "2026-01-02T03:04:05.000Z" to Unix seconds; 0 when it does not parse. */
int64_t aws_parse_time(const char *text);

/* ---- EC2 operations ---- */
int ec2_inventory(void *state, const cp_inventory_filter *filter, cp_resource_cb cb, void *payload);
int ec2_snapshot_create(void *state, const char *resource_id,
			const cp_snapshot_create_options *opts, cp_snapshot_cb cb, void *payload);
int ec2_snapshot_list(void *state, const char *resource_id, cp_snapshot_cb cb, void *payload);
int ec2_snapshot_get(void *state, const char *snapshot_id, cp_snapshot_cb cb, void *payload);
int ec2_snapshot_delete(void *state, const char *snapshot_id);
int ec2_snapshot_copy(void *state, const char *snapshot_id, const char *region, cp_snapshot_cb cb,
		      void *payload);
int ec2_tag(void *state, const char *id, const cp_tag *tags, size_t ntags);

/*
 * Wait until every snapshot in ids is completed and readable through EBS
 * direct, reporting progress; CP_ETIMEOUT past the provider's wait limit.
 */
int ec2_snapshots_wait(aws_provider *p, const char *region, char *const *ids, size_t n,
		       cp_progress_cb progress_cb, void *progress_payload);
/* Create a volume from a completed snapshot, wait until available, attach if asked. */
int ec2_volume_from_snapshot(aws_provider *p, const char *snapshot_id, uint64_t size,
			     const cp_disk_create_options *opts, char **volume_id);

/* ---- EBS direct (ebs*.c) ---- */

/* One EBS direct call: JSON in and out. */
typedef struct ebs_req {
	cp_http_request http;
	cp_http_response resp;
	cp_buf url;
	cp_buf body;
	cp_sigv4_signer signer;
} ebs_req;

/* path_and_query starts with '/', already encoded. */
int ebs_req_init(ebs_req *r, aws_provider *p, const char *method, const char *path_and_query,
		 const char *what);
/* Send; errors name the snapshot and translate AWS's EBS error codes. */
int ebs_req_perform(aws_provider *p, ebs_req *r, const char *snapshot_id);
void ebs_req_dispose(ebs_req *r);

/* Probe that a snapshot's blocks can be listed (the step after "completed"). */
int ebs_snapshot_readable(aws_provider *p, const char *snapshot_id);

int ebs_snapshot_open(void *state, const char *snapshot_id, cp_block_reader **out);
int ebs_changed_blocks(void *state, const char *base_snapshot_id, const char *snapshot_id,
		       cp_block_range_cb cb, void *payload);
int ebs_disk_create(void *state, const cp_disk_create_options *opts, cp_block_writer **out);

/* Base64 SHA-256 of data, as x-amz-Checksum carries it. */
int ebs_checksum(char out[64], const void *data, size_t len);

/* Adaptive concurrency for block requests: AIMD on throttling (ebs_limiter.c). */
typedef struct ebs_limiter {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	unsigned int limit, max, in_flight, successes;
	unsigned int throttled; /* how often a request met throttling */
	unsigned int lowest;	/* the lowest limit reached */
	cp_ctx *ctx;
} ebs_limiter;

void ebs_limiter_init(ebs_limiter *l, cp_ctx *ctx, unsigned int max);
void ebs_limiter_dispose(ebs_limiter *l);
void ebs_limiter_acquire(ebs_limiter *l);
/* throttled: the request met throttling (retried or failed with it). */
void ebs_limiter_release(ebs_limiter *l, int throttled);

/* Perform a block request under the limiter, retrying throttling within the budget. */
int ebs_block_request(aws_provider *p, ebs_limiter *l, ebs_req *r, const char *snapshot_id);

#endif
