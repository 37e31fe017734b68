/*
 * azblob:// repository rules, checked at `repo init` and at every open:
 * the tier (Hot or Cool), the account kind (no hierarchical namespace),
 * soft delete (off, or prune would free nothing) and, for immutable
 * repositories, version-level immutability support on the container.
 */
#include "ctx.h"
#include "error.h"
#include "http/xml.h"
#include "objstore_azblob.h"

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The one table of access tiers: allowed or why not, and the minimum
 * storage duration Azure bills (prune keeps packs that long). */
typedef struct tier_rule {
	const char *name;
	unsigned int min_days;
	const char *why; /* NULL: allowed */
} tier_rule;

static const tier_rule tiers[] = {
	{"Hot", 0, NULL},
	{"Cool", 30, NULL},
	{"Cold", 90,
	 "Azure bills every Cold blob for %u days at least and charges more per read, so prune "
	 "and check would cost more than they save"},
	{"Archive", 180,
	 "archived blobs are offline, each pack would need hours of rehydration before any "
	 "restore, and Azure bills %u days at least"},
};

static const tier_rule *find_tier(const char *tier)
{
	for (size_t i = 0; i < sizeof(tiers) / sizeof(tiers[0]); i++)
		if (!strcasecmp(tiers[i].name, tier))
			return &tiers[i];
	return NULL;
}

unsigned int az_min_storage_days(void *state, const char *tier)
{
	(void)state;
	const tier_rule *r = find_tier(tier && *tier ? tier : "Hot");
	return r ? r->min_days : 0;
}

static int check_tier(const char *tier)
{
	if (!tier || az_tier_name(tier))
		return 0;
	const tier_rule *r = find_tier(tier);
	if (r && r->why) {
		char why[256];
		snprintf(why, sizeof(why), r->why, r->min_days);
		return cp_error_set(CP_EINVALID, CP_ERRCLASS_OBJSTORE,
				    "the %s tier is refused: %s; use --storage-class Hot or Cool",
				    r->name, why);
	}
	return cp_error_set(CP_EINVALID, CP_ERRCLASS_OBJSTORE,
			    "'%s' is not an Azure access tier a repository can use; use "
			    "--storage-class Hot or Cool",
			    tier);
}

/* GET on the account or container; 0 with resp filled, or the error. */
static int ask(az_store *s, char *url, const char *what, cp_buf *body, cp_http_response *resp)
{
	if (!url)
		return cp_error_oom();
	cp_http_request req = {
		.method = body ? "GET" : "HEAD", .url = url, .response_body = body, .what = what};
	int rc = az_perform(s, &req, resp);
	cp_http_request_dispose(&req);
	free(url);
	return rc;
}

/* A setting we may not be allowed to read (a SAS without account rights) is a warning. */
static int unreadable(az_store *s, int rc, const char *what)
{
	if (rc != CP_EAUTH && rc != CP_EINVALID && rc != CP_ENOTFOUND)
		return rc;
	cp_log(s->ctx, CP_LOG_WARN, "could not read %s of storage account '%s' (%s); not checked",
	       what, s->account, cp_error_last() ? cp_error_last()->message : "");
	cp_error_clear();
	return 0;
}

static int check_account_kind(az_store *s)
{
	cp_http_response resp = CP_HTTP_RESPONSE_INIT;
	int rc = ask(s, az_account_url(s, "restype=account&comp=properties"),
		     "Azure Get Account Information", NULL, &resp);
	const char *hns = rc ? NULL : cp_http_headers_get(&resp.headers, "x-ms-is-hns-enabled");
	if (hns && !strcasecmp(hns, "true"))
		rc = cp_error_set(CP_EINVALID, CP_ERRCLASS_OBJSTORE,
				  "storage account '%s' has a hierarchical namespace (Data Lake "
				  "Gen2), which a repository refuses: blob immutability and "
				  "atomic block commits behave differently there; use a storage "
				  "account created without hierarchical namespace",
				  s->account);
	else if (rc)
		rc = unreadable(s, rc, "the account information");
	cp_http_response_dispose(&resp);
	return rc;
}

static int enabled(xmlNode *root, const char *policy)
{
	xmlNode *e = cp_xml_child(cp_xml_child(root, policy), "Enabled");
	xmlChar *text = e ? xmlNodeGetContent(e) : NULL;
	int on = text && !strcasecmp((const char *)text, "true");
	xmlFree(text);
	return on;
}

static int check_soft_delete(az_store *s)
{
	cp_buf body = CP_BUF_INIT;
	cp_http_response resp = CP_HTTP_RESPONSE_INIT;
	int rc = ask(s, az_account_url(s, "restype=service&comp=properties"),
		     "Azure Get Blob Service Properties", &body, &resp);
	if (rc) {
		rc = unreadable(s, rc, "the blob service properties");
	} else if (body.size) {
		xmlDoc *doc = cp_xml_parse(body.ptr, body.size);
		xmlNode *root = doc ? xmlDocGetRootElement(doc) : NULL;
		if (enabled(root, "DeleteRetentionPolicy"))
			rc = cp_error_set(
				CP_EINVALID, CP_ERRCLASS_OBJSTORE,
				"blob soft delete is on for storage account '%s' "
				"(DeleteRetentionPolicy): packs that prune deletes would stay, "
				"billed, for the retention days; turn it off (az storage account "
				"blob-service-properties update --account-name %s "
				"--enable-delete-retention false)",
				s->account, s->account);
		else if (enabled(root, "ContainerDeleteRetentionPolicy"))
			rc = cp_error_set(
				CP_EINVALID, CP_ERRCLASS_OBJSTORE,
				"container soft delete is on for storage account '%s' "
				"(ContainerDeleteRetentionPolicy): a deleted repository container "
				"would linger, billed; turn it off (az storage account "
				"blob-service-properties update --account-name %s "
				"--enable-container-delete-retention false)",
				s->account, s->account);
		xmlFreeDoc(doc);
	}
	cp_buf_dispose(&body);
	cp_http_response_dispose(&resp);
	return rc;
}

static int check_immutability(az_store *s)
{
	cp_http_response resp = CP_HTTP_RESPONSE_INIT;
	int rc = ask(s, az_blob_url(s, NULL, "restype=container"), "Azure Get Container Properties",
		     NULL, &resp);
	const char *vlw =
		rc ? NULL
		   : cp_http_headers_get(&resp.headers,
					 "x-ms-immutable-storage-with-versioning-enabled");
	if (!rc && !(vlw && !strcasecmp(vlw, "true")))
		rc = cp_error_set(CP_EUNSUPPORTED, CP_ERRCLASS_OBJSTORE,
				  "container '%s' cannot lock objects: it has no version-level "
				  "immutability support, which an immutable repository needs; "
				  "enable it (az storage container-rm create --storage-account %s "
				  "--name NEW --enable-vlw true, on an account with blob "
				  "versioning) and initialise the repository there",
				  s->container, s->account);
	cp_http_response_dispose(&resp);
	return rc;
}

int az_check_settings(void *state, const cp_objstore_settings *settings, int create)
{
	az_store *s = state;
	int rc = check_tier(settings->storage_class);
	rc = rc ? rc : check_account_kind(s);
	rc = rc ? rc : check_soft_delete(s);
	if (!rc && settings->immutable_days)
		rc = check_immutability(s);
	return rc;
}
