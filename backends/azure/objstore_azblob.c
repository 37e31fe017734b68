/*
 * azblob:// object store: block blobs in an Azure Storage container,
 * addressed as azblob://account/container/prefix. The endpoint is the
 * account's public blob endpoint unless the URL's ?endpoint= (Azurite's
 * path-style http://127.0.0.1:PORT/devstoreaccount1) or a connection
 * string's BlobEndpoint names another.
 *
 * Credentials: AZURE_STORAGE_CONNECTION_STRING, else AZURE_STORAGE_ACCOUNT
 * with AZURE_STORAGE_KEY (SharedKey) or AZURE_STORAGE_SAS_TOKEN, else an
 * OAuth token for storage from a service principal or managed identity.
 */
#include "objstore_azblob.h"
#include "auth/digest.h"
#include "creds/azure.h"
#include "ctx.h"
#include "error.h"
#include "http/url.h"
#include "objstore_common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

char *az_blob_url(az_store *s, const char *key, const char *query)
{
	cp_buf b = CP_BUF_INIT;
	int rc = cp_buf_put(&b, s->account_url, strlen(s->account_url));
	rc = rc ? rc : cp_buf_put(&b, "/", 1);
	rc = rc ? rc : cp_buf_put(&b, s->container, strlen(s->container));
	if (!rc && key) {
		rc = cp_buf_put(&b, "/", 1);
		rc = rc ? rc : cp_url_encode(&b, s->prefix, strlen(s->prefix), "/");
		rc = rc ? rc : cp_url_encode(&b, key, strlen(key), "/");
	}
	if (!rc && query) {
		rc = cp_buf_put(&b, "?", 1);
		rc = rc ? rc : cp_buf_put(&b, query, strlen(query));
	}
	if (rc) {
		cp_buf_dispose(&b);
		return NULL;
	}
	return b.ptr;
}

char *az_account_url(az_store *s, const char *query)
{
	char *u = NULL;
	if (asprintf(&u, "%s/?%s", s->account_url, query) < 0)
		return NULL;
	return u;
}

int az_perform(az_store *s, cp_http_request *req, cp_http_response *resp)
{
	char *signed_url = NULL;
	const char *plain_url = req->url;
	int rc = 0;
	switch (s->auth) {
	case AZ_AUTH_SHAREDKEY:
		req->sign = cp_azure_sharedkey_sign_request;
		req->sign_payload = &s->sharedkey;
		break;
	case AZ_AUTH_BEARER:
		req->sign = cp_bearer_sign_request;
		req->sign_payload = &s->bearer;
		break;
	case AZ_AUTH_SAS:
		rc = cp_http_headers_set(&req->headers, "x-ms-version", CP_AZURE_STORAGE_VERSION);
		rc = rc ? rc : cp_azure_sas_apply(&signed_url, req->url, s->sas);
		req->url = signed_url;
		break;
	}
	rc = rc ? rc : cp_http_pool_perform(s->pool, req, resp);
	req->url = plain_url;
	free(signed_url);
	if (rc == CP_EAUTH && resp->status == 403)
		rc = cp_error_prefix(rc,
				     "Azure refused access to account '%s' with the %s credentials "
				     "(check the account key or SAS and its permissions): ",
				     s->account,
				     s->auth == AZ_AUTH_SHAREDKEY ? "shared key"
				     : s->auth == AZ_AUTH_SAS	  ? "SAS"
								  : "OAuth");
	return rc;
}

const char *az_tier_name(const char *storage_class)
{
	if (!strcasecmp(storage_class, "hot"))
		return "Hot";
	if (!strcasecmp(storage_class, "cool"))
		return "Cool";
	return NULL;
}

int az_add_lock_headers(cp_http_headers *h, int64_t until)
{
	char date[CP_HTTP_DATE_LEN];
	cp_http_date_format(until, date);
	int rc = cp_http_headers_set(h, "x-ms-immutability-policy-until-date", date);
	/* Locked: nobody, our tools and the Azure CLI included, can shorten or remove it. */
	return rc ? rc : cp_http_headers_set(h, "x-ms-immutability-policy-mode", "Locked");
}

/* The query parameter name of an azblob URL, malloc'd decoded, or NULL. */
static char *query_param(const char *query, const char *name)
{
	size_t n = strlen(name);
	for (const char *p = query; p && *p;) {
		size_t len = strcspn(p, "&");
		if (len > n && !strncmp(p, name, n) && p[n] == '=') {
			cp_buf b = CP_BUF_INIT;
			if (cp_url_decode(&b, p + n + 1, len - n - 1, 0))
				return NULL;
			return b.ptr ? b.ptr : strdup("");
		}
		p += len + (p[len] == '&');
	}
	return NULL;
}

static void store_free(az_store *s)
{
	if (!s)
		return;
	cp_http_pool_free(s->pool);
	cp_creds_free(s->creds);
	cp_secret_free(s->sas);
	free(s->account);
	free(s->container);
	free(s->prefix);
	free(s->account_url);
	free(s);
}

static int parse_url(az_store *s, const char *url, char **endpoint)
{
	const char *p = url + strlen("azblob://");
	const char *q = strchr(p, '?');
	size_t plen = q ? (size_t)(q - p) : strlen(p);
	const char *slash = memchr(p, '/', plen);
	if (strncmp(url, "azblob://", 9) || !slash || slash == p || slash + 1 == p + plen)
		return cp_error_set(CP_EINVALID, CP_ERRCLASS_INVALID,
				    "'%s' is not an Azure Blob URL; write "
				    "azblob://ACCOUNT/CONTAINER[/PREFIX][?endpoint=URL]",
				    url);
	const char *cstart = slash + 1;
	const char *cend = memchr(cstart, '/', (size_t)(p + plen - cstart));
	if (!cend)
		cend = p + plen;
	const char *pstart = cend < p + plen ? cend + 1 : cend;
	size_t pl = (size_t)(p + plen - pstart);
	while (pl && pstart[pl - 1] == '/')
		pl--;
	s->account = strndup(p, (size_t)(slash - p));
	s->container = strndup(cstart, (size_t)(cend - cstart));
	s->prefix = malloc(pl + 2);
	if (!s->account || !s->container || !s->prefix)
		return cp_error_oom();
	memcpy(s->prefix, pstart, pl);
	s->prefix[pl] = pl ? '/' : '\0';
	s->prefix[pl + 1] = '\0';
	*endpoint = q ? query_param(q + 1, "endpoint") : NULL;
	return 0;
}

/* Account key, SAS or OAuth token, in that order; the endpoint a connection string names. */
static int find_credentials(az_store *s, char **endpoint)
{
	cp_azure_storage_env env;
	int rc = cp_azure_storage_from_env(&env);
	if (rc == CP_ENOTFOUND) {
		cp_error_clear();
		memset(&env, 0, sizeof(env));
		rc = 0;
	}
	if (rc)
		return rc;
	if (env.account && strcmp(env.account, s->account)) {
		rc = cp_error_set(CP_EAUTH, CP_ERRCLASS_AUTH,
				  "the storage credentials in the environment are for account '%s' "
				  "but the repository URL names account '%s'; set them for '%s'",
				  env.account, s->account, s->account);
	} else if (env.key) {
		s->auth = AZ_AUTH_SHAREDKEY;
		rc = cp_creds_new_static(&s->creds, "the environment (account key)", s->account,
					 env.key, NULL, 0);
	} else if (env.sas) {
		s->auth = AZ_AUTH_SAS;
		s->sas = strdup(env.sas);
		rc = s->sas ? 0 : cp_error_oom();
	} else {
		cp_azure_creds_options o = {.scope = CP_AZURE_SCOPE_STORAGE};
		s->auth = AZ_AUTH_BEARER;
		rc = cp_azure_creds_chain(&s->creds, s->ctx, &o);
		if (rc)
			rc = cp_error_prefix(
				rc,
				"no credentials for storage account '%s' (set "
				"AZURE_STORAGE_CONNECTION_STRING, or AZURE_STORAGE_ACCOUNT "
				"with AZURE_STORAGE_KEY or AZURE_STORAGE_SAS_TOKEN): ",
				s->account);
	}
	if (!rc && !*endpoint && env.blob_endpoint && !(*endpoint = strdup(env.blob_endpoint)))
		rc = cp_error_oom();
	cp_azure_storage_env_dispose(&env);
	s->sharedkey.creds = s->creds;
	s->bearer.creds = s->creds;
	s->bearer.storage_version = CP_AZURE_STORAGE_VERSION;
	return rc;
}

/* The container must exist; create: make it when it does not. */
static int ensure_container(az_store *s, int create);

/* A SAS may allow writing blobs but not creating containers: then it must exist already. */
static int ensure_container_or_exists(az_store *s, int create)
{
	int rc = ensure_container(s, create);
	if (rc == CP_EAUTH && create) {
		cp_error_saved saved;
		cp_error_save(&saved);
		if (!ensure_container(s, 0)) {
			cp_error_restore(&saved);
			cp_error_clear();
			return 0;
		}
		cp_error_restore(&saved);
	}
	return rc;
}

static int ensure_container(az_store *s, int create)
{
	char *url = az_blob_url(s, NULL, "restype=container");
	if (!url)
		return cp_error_oom();
	cp_http_request req = {.method = create ? "PUT" : "HEAD",
			       .url = url,
			       .what = create ? "Azure Create Container"
					      : "Azure Get Container Properties"};
	cp_http_response resp = CP_HTTP_RESPONSE_INIT;
	int rc = az_perform(s, &req, &resp);
	if (rc == CP_EEXISTS && create) {
		cp_error_clear();
		rc = 0;
	} else if (rc == CP_ENOTFOUND) {
		rc = cp_error_set(CP_ENOTFOUND, CP_ERRCLASS_OBJSTORE,
				  "container '%s' does not exist in storage account '%s'; create "
				  "the repository with `cloudprotect repo init`, or check the URL",
				  s->container, s->account);
	}
	cp_http_request_dispose(&req);
	cp_http_response_dispose(&resp);
	free(url);
	return rc;
}

static int az_open(void **state, cp_ctx *ctx, const char *url, int create)
{
	az_store *s = calloc(1, sizeof(*s));
	if (!s)
		return cp_error_oom();
	s->ctx = ctx;
	cp_http_client_options http;
	cp_http_client_options_from_ctx(&http, ctx, CP_HTTP_FOR_ANY);
	int prc = cp_http_pool_new(&s->pool, ctx, &http);
	if (prc) {
		free(s);
		return prc;
	}
	char *endpoint = NULL;
	int rc = parse_url(s, url, &endpoint);
	rc = rc ? rc : find_credentials(s, &endpoint);
	if (!rc && endpoint) {
		size_t n = strlen(endpoint);
		while (n && endpoint[n - 1] == '/')
			endpoint[--n] = '\0';
		s->account_url = endpoint;
		endpoint = NULL;
	} else if (!rc &&
		   asprintf(&s->account_url, "https://%s.blob.core.windows.net", s->account) < 0) {
		s->account_url = NULL;
		rc = cp_error_oom();
	}
	free(endpoint);
	rc = rc ? rc : ensure_container_or_exists(s, create);
	if (rc) {
		store_free(s);
		return rc;
	}
	*state = s;
	return 0;
}

static void az_close(void *state)
{
	store_free(state);
}

int az_put_blob(az_store *s, const char *key, const void *data, size_t len,
		const cp_put_options *opts)
{
	char *url = az_blob_url(s, key, NULL);
	if (!url)
		return cp_error_oom();
	cp_http_request req = {.method = "PUT",
			       .url = url,
			       .body = data,
			       .body_len = len,
			       .what = "Azure Put Blob"};
	int rc = cp_http_headers_set(&req.headers, "x-ms-blob-type", "BlockBlob");
	rc = rc ? rc
		: cp_http_headers_set(&req.headers, "Content-Type", "application/octet-stream");
	if (!rc && opts->create_only)
		rc = cp_http_headers_set(&req.headers, "If-None-Match", "*");
	if (!rc && opts->storage_class && az_tier_name(opts->storage_class))
		rc = cp_http_headers_set(&req.headers, "x-ms-access-tier",
					 az_tier_name(opts->storage_class));
	if (!rc && opts->retain_until)
		rc = az_add_lock_headers(&req.headers, opts->retain_until);
	cp_http_response resp = CP_HTTP_RESPONSE_INIT;
	rc = rc ? rc : az_perform(s, &req, &resp);
	if (rc == CP_EEXISTS)
		rc = cp_objstore_err_exists(key);
	cp_http_request_dispose(&req);
	cp_http_response_dispose(&resp);
	free(url);
	return rc;
}

static int az_put(void *state, const char *key, const void *data, size_t len,
		  const cp_put_options *opts)
{
	if (len <= AZ_BLOCK_SIZE)
		return az_put_blob(state, key, data, len, opts);
	cp_objstore_writer *w = NULL;
	int rc = az_writer_open(state, key, opts, &w);
	if (rc)
		return rc;
	return cp_objstore_put_by_writer(w, data, len);
}

static int az_get(void *state, const char *key, uint64_t offset, uint64_t length, cp_buf *out)
{
	az_store *s = state;
	char *url = az_blob_url(s, key, NULL);
	if (!url)
		return cp_error_oom();
	cp_http_request req = {
		.method = "GET", .url = url, .response_body = out, .what = "Azure Get Blob"};
	int rc = cp_http_headers_set_range(&req.headers, "x-ms-range", offset, length);
	cp_http_response resp = CP_HTTP_RESPONSE_INIT;
	rc = rc ? rc : az_perform(s, &req, &resp);
	if (rc == CP_ENOTFOUND)
		rc = cp_objstore_err_missing(key);
	else if (rc == CP_EEXISTS && !strcmp(resp.error.code, "BlobArchived"))
		rc = cp_error_set(CP_EBUSY, CP_ERRCLASS_OBJSTORE,
				  "object '%s' is in the Archive tier and cannot be read until it "
				  "is rehydrated",
				  key);
	cp_http_request_dispose(&req);
	cp_http_response_dispose(&resp);
	free(url);
	return rc;
}

static int immutable_error(const cp_http_response *resp)
{
	return !strncmp(resp->error.code, "BlobImmutable", 13) ||
	       strstr(resp->error.code, "ImmutabilityPolicy") != NULL;
}

static int az_remove(void *state, const char *key)
{
	az_store *s = state;
	char *url = az_blob_url(s, key, NULL);
	if (!url)
		return cp_error_oom();
	cp_http_request req = {.method = "DELETE", .url = url, .what = "Azure Delete Blob"};
	cp_http_response resp = CP_HTTP_RESPONSE_INIT;
	int rc = az_perform(s, &req, &resp);
	if (rc == CP_ENOTFOUND)
		rc = cp_objstore_err_missing(key);
	else if (rc && immutable_error(&resp))
		rc = cp_error_set(CP_ELOCKED, CP_ERRCLASS_OBJSTORE,
				  "object '%s' is under an immutability policy and cannot be "
				  "deleted until it expires",
				  key);
	cp_http_request_dispose(&req);
	cp_http_response_dispose(&resp);
	free(url);
	return rc;
}

static int az_retain(void *state, const char *key, int64_t until)
{
	az_store *s = state;
	cp_object_info info;
	memset(&info, 0, sizeof(info));
	int rc = az_head(s, key, &info);
	if (rc || info.retain_until >= until)
		return rc;
	char *url = az_blob_url(s, key, "comp=immutabilityPolicies");
	if (!url)
		return cp_error_oom();
	cp_http_request req = {
		.method = "PUT", .url = url, .what = "Azure Set Blob Immutability Policy"};
	rc = az_add_lock_headers(&req.headers, until);
	cp_http_response resp = CP_HTTP_RESPONSE_INIT;
	rc = rc ? rc : az_perform(s, &req, &resp);
	cp_http_request_dispose(&req);
	cp_http_response_dispose(&resp);
	free(url);
	return rc;
}

/*
 * A killed writer leaves uncommitted blocks, not a half object: Put Block
 * stages them out of sight of List Blobs and Get Blob, and Azure discards
 * uncommitted blocks by itself after 7 days (there is no call to list or
 * drop them short of committing a block list). So nothing to abort here;
 * the op exists so prune's count says 0 rather than "not supported".
 */
static int az_abort_stale_uploads(void *state, const char *prefix, int64_t older_than,
				  uint64_t *count)
{
	(void)state;
	(void)prefix;
	(void)older_than;
	*count = 0;
	return 0;
}

const cp_objstore_ops cp_azblob_objstore_ops = {
	.version = CP_OBJSTORE_OPS_VERSION,
	.scheme = "azblob",
	.description = "Azure Blob Storage (block blobs; Hot or Cool tier; version-level "
		       "immutability)",
	.open = az_open,
	.close = az_close,
	.put = az_put,
	.get = az_get,
	.head = az_head,
	.list = az_list,
	.remove = az_remove,
	.writer_open = az_writer_open,
	.check_settings = az_check_settings,
	.retain = az_retain,
	.rehydrate = NULL,
	.abort_stale_uploads = az_abort_stale_uploads,
	.min_storage_days = az_min_storage_days,
};
