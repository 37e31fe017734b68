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
/* Workers (ec2_workers.c): job name, reapable after (unix seconds), and "failed" set by the job. */
#define AWS_TAG_WORKER	"cloudprotect:worker"
#define AWS_TAG_EXPIRES "cloudprotect:expires"
#define AWS_TAG_RESULT	"cloudprotect:result"

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
	char *backup_vault;	    /* AWS Backup vault for jobs (per region, same name) */
	char *backup_role_arn;	    /* IamRoleArn AWS Backup assumes for jobs, or NULL */
	/* KmsKeyId for encrypted RDS copies: "region", "key" pairs, NULL-ended; region "*" is any */
	char **rds_copy_kms_keys;
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
	/* Add or overwrite tags (keys not given are kept); tags already checked. */
	int (*tag)(aws_provider *p, const char *id, const cp_tag *tags, size_t ntags);
	/* Remove tags by key, whatever their values; absent keys are no error; keys checked. */
	int (*untag)(aws_provider *p, const char *id, const char *const *keys, size_t nkeys);
} aws_service;

/* One line per service in provider_routes.c's table. */
extern const aws_service aws_service_ec2;
extern const aws_service aws_service_ec2_images;
extern const aws_service aws_service_rds;
extern const aws_service aws_service_redshift;
extern const aws_service aws_service_backup;

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
int aws_route_tag(void *state, const char *id, const cp_tag *tags, size_t ntags);
int aws_route_untag(void *state, const char *id, const char *const *keys, size_t nkeys);

/* ---- EC2 query API (ec2_request.c; the form helpers in aws_query.c serve all) ---- */

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
/* Tag keys as Prefix.N<suffix>: ("Tag", ".Key") or ("TagKeys.member", "") (ec2_tags.c). */
void ec2_param_keys(ec2_params *p, const char *prefix, const char *suffix, const char *const *keys,
		    size_t nkeys);
void ec2_params_dispose(ec2_params *p);

/*
 * Send an EC2 action to region (NULL: the default) and parse the answer.
 * Failures name the action; AWS's *.NotFound codes become CP_ENOTFOUND and
 * UnauthorizedOperation/AuthFailure CP_EAUTH with the key id named.
 */
int ec2_call(aws_provider *p, const char *region, ec2_params *params, xmlDoc **doc);

/* Receives the root of one page of an EC2 Describe answer. */
typedef int (*ec2_page_cb)(xmlNode *root, void *arg);

/*
 * Send request (not consumed) page by page, MaxResults page_size (0: the
 * service's default) and NextToken, until the answer has no nextToken or
 * cb returns non-zero.
 */
int ec2_each_page(aws_provider *p, const char *region, const ec2_params *request,
		  unsigned int page_size, ec2_page_cb cb, void *arg);

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

/* ---- shared by every protocol's calls (aws_call.c) ---- */

/* A SigV4 signer for service in region with the provider's credentials. */
void aws_signer_init(cp_sigv4_signer *signer, aws_provider *p, const char *region,
		     const char *service);
/*
 * CP_EAUTH for a refused call, naming the access key id (never the
 * secret) and the IAM permission to grant (iam_prefix:action). about is
 * "" or " of 'subject'".
 */
int aws_error_refused(aws_provider *p, const cp_http_response *resp, const char *api_name,
		      const char *action, const char *about, const char *region,
		      const char *iam_prefix);

/* ---- the query protocol shared by EC2, RDS, Redshift, STS (aws_query.c) ---- */

/* One query-protocol service. */
typedef struct aws_query_api {
	const char *name;	 /* for messages: "RDS" */
	const char *env_name;	 /* AWS_ENDPOINT_URL_<env_name> */
	const char *host_prefix; /* endpoint host prefix and SigV4 signing name: "rds" */
	const char *iam_prefix;	 /* IAM action prefix, for the "grant" hint: "rds" */
	const char *version;	 /* API version: "2014-10-31" */
	const char *url;	 /* endpoint override, or NULL to ask aws_service_url */
} aws_query_api;

extern const aws_query_api aws_api_rds, aws_api_redshift, aws_api_sts;

/* Start a form for action of an API version (ec2_params_init does EC2's). */
void aws_query_params_init(ec2_params *p, const char *action, const char *version);

/*
 * Send a query action to region (NULL: the default) and parse the answer.
 * subject (may be NULL) is what the call is about, named in errors.
 * *.NotFound/ *NotFound codes become CP_ENOTFOUND; refusals CP_EAUTH naming
 * the key id; Invalid*State CP_EBUSY; *AlreadyExists CP_EEXISTS; quota
 * codes say to delete or raise the quota; throttling is retried by the
 * transport and CP_ETHROTTLED once its budget ran out.
 */
int aws_query_call(aws_provider *p, const aws_query_api *api, const char *region,
		   const char *subject, ec2_params *params, xmlDoc **doc);
/* The <XResult> element of an answer, or NULL. */
xmlNode *aws_query_result(xmlDoc *doc);
/* The next element from n (inclusive), or NULL: walks <member>-style lists. */
xmlNode *aws_query_next(xmlNode *n);
/* One element of a listing; non-zero stops the walk with that result. */
typedef int (*aws_query_item_cb)(xmlNode *item, void *arg);
/*
 * Send request (a Describe action with its own parameters) page by page
 * (MaxRecords, Marker) and call cb for every element of the result's
 * <list>. request stays the caller's to dispose.
 */
int aws_query_each(aws_provider *p, const aws_query_api *api, const char *region,
		   const char *subject, const ec2_params *request, const char *list,
		   aws_query_item_cb cb, void *arg);
/*
 * action with id_param=id: *doc gets the answer (the caller frees it) and
 * *first the first element of the result's <list>, NULL when there is none.
 */
int aws_query_describe_one(aws_provider *p, const aws_query_api *api, const char *region,
			   const char *subject, const char *action, const char *id_param,
			   const char *id, const char *list, xmlDoc **doc, xmlNode **first);
/* <TagList>/<Tags> of <Tag><Key/><Value/></Tag> into tags (ec2_xml.c, beside aws_tags_parse). */
int aws_query_tags_parse(aws_tags *out, xmlNode *list);

/* An ARN split in place: arn:partition:service:region:account:type(:|/)name. */
typedef struct aws_arn {
	char buf[512];
	const char *partition, *service, *region, *account, *type, *name;
} aws_arn;
int aws_arn_parse(aws_arn *out, const char *arn);
/* Non-zero when id is an ARN of service ("rds", "redshift"). */
int aws_arn_is(const char *id, const char *service);

/*
 * Poll until done, reporting progress (percent of 100) under phase and
 * item; CP_ETIMEOUT past the provider's wait_timeout_s. poll sets *done,
 * *percent and the status it saw (for messages), or fails.
 */
typedef int (*aws_wait_poll)(aws_provider *p, void *arg, int *done, unsigned int *percent,
			     char *status, size_t status_cap);
int aws_wait(aws_provider *p, const char *phase, const char *item, aws_wait_poll poll, void *arg,
	     cp_progress_cb progress_cb, void *progress_payload);

/* ---- names of what we create (aws_names.c) ---- */

/* "cloudprotect-<source>-<UTC second>-<6 random hex>" for a new snapshot. */
int aws_snapshot_name(char *out, size_t cap, const char *source);
/* "<source>-restored-<UTC minute>", source cut so the whole fits in max characters. */
void aws_restored_name(char *out, size_t cap, const char *source, size_t max);

/* ---- inventory filters (aws_filter.c); a NULL filter passes everything ---- */

/* Non-zero when the filter lets region through (no region list: any). */
int aws_filter_region(const cp_inventory_filter *f, const char *region);
/* Non-zero when the filter lets id through (no id list: any). */
int aws_filter_id(const cp_inventory_filter *f, const char *id);
/* Non-zero when the filter names no ids, or names an ARN of service ("rds"). */
int aws_filter_names_service(const cp_inventory_filter *f, const char *service);
/* Non-zero when tags has every tag of the filter (a NULL value matches any). */
int aws_tags_match(const aws_tags *tags, const cp_inventory_filter *f);
/* Whether a resource passes an inventory filter (ids, regions, tags, kind). */
int aws_filter_match(const cp_inventory_filter *f, const cp_resource *r);

/* fn for every configured region the filter lets through, until one fails. */
typedef int (*aws_region_fn)(aws_provider *p, const char *region, void *arg);
int aws_each_region(aws_provider *p, const cp_inventory_filter *f, aws_region_fn fn, void *arg);

/* ---- EC2 operations ---- */
int ec2_inventory(void *state, const cp_inventory_filter *filter, cp_resource_cb cb, void *payload);
int ec2_snapshot_create(void *state, const char *resource_id,
			const cp_snapshot_create_options *opts, cp_snapshot_cb cb, void *payload);
int ec2_snapshot_list(void *state, const char *resource_id, cp_snapshot_cb cb, void *payload);
int ec2_snapshot_get(void *state, const char *snapshot_id, cp_snapshot_cb cb, void *payload);
int ec2_snapshot_delete(void *state, const char *snapshot_id);
int ec2_snapshot_copy(void *state, const char *snapshot_id, const char *region, cp_snapshot_cb cb,
		      void *payload);
/* CreateTags / DeleteTags (Tag.N.Key only: any value) of one EC2 id (ec2_tags.c). */
int ec2_tag(void *state, const char *id, const cp_tag *tags, size_t ntags);
int ec2_untag(aws_provider *p, const char *id, const char *const *keys, size_t nkeys);

/*
 * Wait until every snapshot in ids is completed and readable through EBS
 * direct, reporting progress; CP_ETIMEOUT past the provider's wait limit.
 */
int ec2_snapshots_wait(aws_provider *p, const char *region, char *const *ids, size_t n,
		       cp_progress_cb progress_cb, void *progress_payload);
/* Create a volume from a completed snapshot, wait until available, attach if asked. */
int ec2_volume_from_snapshot(aws_provider *p, const char *snapshot_id, uint64_t size,
			     const cp_disk_create_options *opts, char **volume_id);

/* ---- EC2 workers and machine images (ec2_workers.c, ec2_image.c) ---- */

/* What to launch with RunInstances. */
typedef struct ec2_launch {
	const char *region; /* NULL: the default */
	const char *image, *instance_type;
	const char *subnet, *identity, *user_data; /* each may be NULL */
	const char *shutdown_behavior;		   /* "stop", "terminate" or NULL */
	const char *name;			   /* Name tag, or NULL */
	const cp_tag *extra;			   /* our own tags */
	size_t nextra;
	const cp_tag *tags; /* the caller's */
	size_t ntags;
} ec2_launch;

/* RunInstances of one instance under a client token, repeated (safely) when the answer is lost. */
int ec2_run_instance(aws_provider *p, const ec2_launch *l, char **instance_id);
int ec2_worker_launch(void *state, const cp_worker_options *opts, char **id_out);
int ec2_worker_get(void *state, const char *id, cp_worker_cb cb, void *payload);
int ec2_worker_list(void *state, cp_worker_cb cb, void *payload);
int ec2_worker_terminate(void *state, const char *id);
/* Architectures an instance type runs, as bits (ec2_instance_types.c). */
#define EC2_ARCH_X86_64 0x1u
#define EC2_ARCH_ARM64	0x2u
/*
 * DescribeInstanceTypes of type in region (NULL: the default): *archs gets
 * the EC2_ARCH_* bits of the architectures it runs, listed (for messages)
 * every architecture EC2 named ("x86_64_mac"). An unknown type is CP_EINVALID.
 */
int ec2_instance_type_architectures(aws_provider *p, const char *region, const char *type,
				    unsigned int *archs, char *listed, size_t cap);
/* A disk snapshot (+ data snapshots) to an AMI and, with opts->launch, an instance. */
int ec2_image_restore(aws_provider *p, const char *snapshot_id,
		      const cp_resource_restore_options *opts, cp_resource_cb cb, void *payload);

/* ---- RDS and Aurora (rds*.c): DB instances and clusters, by ARN ---- */

/* The two snapshot flavours of RDS, which differ only in names. */
typedef struct rds_flavour {
	int cluster;		   /* 0: DB instance snapshots; 1: cluster snapshots */
	const char *snapshot_type; /* ARN resource type: "snapshot", "cluster-snapshot" */
	const char *resource_type; /* ARN resource type of the source: "db", "cluster" */
	const char *noun;	   /* "DBSnapshot" / "DBClusterSnapshot": action, element names */
	const char *owner_param;   /* "DBInstanceIdentifier" / "DBClusterIdentifier" */
} rds_flavour;

extern const rds_flavour rds_instance_flavour, rds_cluster_flavour;

/* The flavour an ARN of a DB, cluster or snapshot belongs to, or NULL. */
const rds_flavour *rds_flavour_of(const aws_arn *arn);
/* "arn:PARTITION:rds:REGION:ACCOUNT:TYPE:NAME" into out. */
void rds_arn(char *out, size_t cap, const aws_arn *like, const char *type, const char *name);
/* Parse an RDS ARN, failing with a clear error that names what was expected. */
int rds_arn_parse(aws_arn *out, const char *id, const char *expected);
/* Emit the snapshots in list (a <DBSnapshots>-like element or one snapshot element). */
int rds_emit_snapshots(const rds_flavour *f, const char *region, xmlNode *list, int single,
		       cp_snapshot_cb cb, void *payload);
/* Describe one snapshot (by name) in region, emitting it. */
int rds_describe_snapshot(aws_provider *p, const rds_flavour *f, const char *region,
			  const char *name, cp_snapshot_cb cb, void *payload);

int rds_inventory(aws_provider *p, const cp_inventory_filter *filter, cp_resource_cb cb,
		  void *payload);
int rds_snapshot_create(aws_provider *p, const char *resource_id,
			const cp_snapshot_create_options *opts, cp_snapshot_cb cb, void *payload);
int rds_snapshot_list(aws_provider *p, const char *resource_id, cp_snapshot_cb cb, void *payload);
int rds_snapshot_get(aws_provider *p, const char *snapshot_id, cp_snapshot_cb cb, void *payload);
int rds_snapshot_delete(aws_provider *p, const char *snapshot_id);
int rds_snapshot_copy(aws_provider *p, const char *snapshot_id, const char *region,
		      cp_snapshot_cb cb, void *payload);
int rds_resource_restore(aws_provider *p, const char *snapshot_id,
			 const cp_resource_restore_options *opts, cp_resource_cb cb, void *payload);
/* AddTagsToResource on a DB instance, cluster or (cluster) snapshot ARN (rds_tags.c). */
int rds_tag(aws_provider *p, const char *id, const cp_tag *tags, size_t ntags);
/* RemoveTagsFromResource (TagKeys.member.N) of the same ARNs. */
int rds_untag(aws_provider *p, const char *id, const char *const *keys, size_t nkeys);
/* Emit a <DBInstance> or <DBCluster> element as a CP_RESOURCE_DB. */
int rds_emit_resource(const char *region, xmlNode *el, int cluster, cp_resource_cb cb,
		      void *payload, const cp_inventory_filter *filter);

/* ---- Redshift (redshift*.c): clusters, by ARN ---- */
/* "aws", "aws-cn" or "aws-us-gov", for the ARNs Redshift does not hand out. */
const char *aws_partition_of(const char *region);
/* Describe one cluster by name in region and report it as a CP_RESOURCE_WAREHOUSE. */
int redshift_report_cluster(aws_provider *p, const char *region, const char *name,
			    cp_resource_cb cb, void *payload);
int redshift_snapshot_create(aws_provider *p, const char *resource_id,
			     const cp_snapshot_create_options *opts, cp_snapshot_cb cb,
			     void *payload);
int redshift_snapshot_list(aws_provider *p, const char *resource_id, cp_snapshot_cb cb,
			   void *payload);
int redshift_snapshot_get(aws_provider *p, const char *snapshot_id, cp_snapshot_cb cb,
			  void *payload);
int redshift_snapshot_delete(aws_provider *p, const char *snapshot_id);
int redshift_snapshot_copy(aws_provider *p, const char *snapshot_id, const char *region,
			   cp_snapshot_cb cb, void *payload);
int redshift_resource_restore(aws_provider *p, const char *snapshot_id,
			      const cp_resource_restore_options *opts, cp_resource_cb cb,
			      void *payload);
/* CreateTags on a cluster or snapshot ARN (redshift_tags.c). */
int redshift_tag(aws_provider *p, const char *id, const cp_tag *tags, size_t ntags);
/* DeleteTags (TagKeys.TagKey.N) of the same ARNs. */
int redshift_untag(aws_provider *p, const char *id, const char *const *keys, size_t nkeys);
/* The account of the caller (STS GetCallerIdentity) into out. */
int aws_caller_account(aws_provider *p, const char *region, char *out, size_t cap);

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
