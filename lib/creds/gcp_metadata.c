/*
 * The instance's service account token from the GCE metadata server
 * (cloud.google.com/compute/docs/metadata/querying-metadata,
 * .../access-authenticate-workloads): every request and answer carries
 * Metadata-Flavor: Google.
 */
#include "creds/gcp.h"
#include "creds/oauth.h"
#include "ctx.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct md_state {
	char *url;
	cp_http_client *client;
} md_state;

static void md_free(void *p)
{
	md_state *s = p;
	if (!s)
		return;
	cp_http_client_free(s->client);
	free(s->url);
	free(s);
}

static int md_refresh(cp_creds *creds, void *state, cp_creds_value *out)
{
	md_state *s = state;
	cp_http_headers h = CP_HTTP_HEADERS_INIT;
	int rc = cp_http_headers_set(&h, "Metadata-Flavor", "Google");
	rc = rc ? rc
		: cp_oauth_fetch(s->client, "GET", s->url, NULL, &h, "GCE metadata server", out);
	cp_http_headers_dispose(&h);
	return rc;
}

int cp_gcp_creds_metadata(cp_creds **out, cp_ctx *ctx, const cp_gcp_creds_options *opts)
{
	*out = NULL;
	const char *host =
		opts && opts->metadata_host ? opts->metadata_host : getenv("GCE_METADATA_HOST");
	if (!host || !*host)
		host = "metadata.google.internal";
	md_state *s = calloc(1, sizeof(*s));
	if (!s || asprintf(&s->url,
			   "http://%s/computeMetadata/v1/instance/service-accounts/default/token",
			   host) < 0) {
		free(s);
		return cp_error_oom();
	}
	cp_http_client_options o;
	cp_creds_metadata_client_options(&o, ctx);
	int rc = cp_http_client_new(&s->client, ctx, &o);
	char *name = NULL, *absent = NULL;
	if (!rc && asprintf(&name, "GCE metadata server at %s", host) < 0)
		name = NULL, rc = cp_error_oom();
	if (!rc && asprintf(&absent, "metadata server: none at %s", host) < 0)
		absent = NULL, rc = cp_error_oom();
	if (rc)
		md_free(s);
	else
		rc = cp_creds_new_probed(out, ctx, name, md_refresh, s, md_free, absent);
	free(name);
	free(absent);
	return rc;
}

int cp_gcp_creds_chain(cp_creds **out, cp_ctx *ctx, const cp_gcp_creds_options *opts)
{
	*out = NULL;
	const char *file =
		opts && opts->key_file ? opts->key_file : getenv("GOOGLE_APPLICATION_CREDENTIALS");
	if (file && *file)
		return cp_gcp_creds_service_account(out, ctx, file, opts ? opts->scope : NULL);
	int rc = cp_gcp_creds_metadata(out, ctx, opts);
	if (rc != CP_ENOTFOUND)
		return rc;
	return cp_error_set(CP_EAUTH, CP_ERRCLASS_AUTH,
			    "no GCP credentials found (tried GOOGLE_APPLICATION_CREDENTIALS: not "
			    "set; %s); set GOOGLE_APPLICATION_CREDENTIALS to a service account "
			    "JSON key file, or run on GCE with a service account",
			    cp_error_last() ? cp_error_last()->message : "metadata server");
}
