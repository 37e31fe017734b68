/*
 * Microsoft Entra tokens: the client credentials grant
 * (learn.microsoft.com/entra/identity-platform/v2-oauth2-client-creds-grant-flow)
 * and managed identities through IMDS
 * (learn.microsoft.com/entra/identity/managed-identities-azure-resources/how-to-use-vm-token).
 */
#include "auth/digest.h"
#include "creds/azure.h"
#include "creds/oauth.h"
#include "ctx.h"
#include "http/url.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct id_state {
	char *url;
	char *form; /* client credentials; NULL for IMDS */
	cp_http_client *client;
	const char *what;
} id_state;

static void id_free(void *p)
{
	id_state *s = p;
	if (!s)
		return;
	cp_http_client_free(s->client);
	free(s->url);
	cp_secret_free(s->form);
	free(s);
}

static int id_refresh(cp_creds *creds, void *state, cp_creds_value *out)
{
	id_state *s = state;
	cp_http_headers h = CP_HTTP_HEADERS_INIT;
	int rc = s->form ? 0 : cp_http_headers_set(&h, "Metadata", "true");
	rc = rc ? rc
		: cp_oauth_fetch(s->client, s->form ? "POST" : "GET", s->url, s->form, &h, s->what,
				 out);
	cp_http_headers_dispose(&h);
	return rc;
}

static const char *env(const char *name)
{
	const char *v = getenv(name);
	return v && *v ? v : NULL;
}

static char *without_slash(const char *s)
{
	char *d = strdup(s);
	size_t n = d ? strlen(d) : 0;
	while (n && d[n - 1] == '/')
		d[--n] = '\0';
	return d;
}

int cp_azure_creds_service_principal(cp_creds **out, cp_ctx *ctx,
				     const cp_azure_creds_options *opts)
{
	*out = NULL;
	const char *id = env("AZURE_CLIENT_ID"), *tenant = env("AZURE_TENANT_ID");
	const char *secret = env("AZURE_CLIENT_SECRET");
	if (!secret || !id || !tenant)
		return cp_error_set(!secret ? CP_ENOTFOUND : CP_EAUTH, CP_ERRCLASS_AUTH,
				    "service principal: %s not set",
				    !secret ? "AZURE_CLIENT_SECRET"
				    : !id   ? "AZURE_CLIENT_ID"
					    : "AZURE_TENANT_ID");
	const char *auth = opts && opts->authority ? opts->authority : env("AZURE_AUTHORITY_HOST");
	char *base = without_slash(auth ? auth : "https://login.microsoftonline.com");
	id_state *s = calloc(1, sizeof(*s));
	cp_buf form = CP_BUF_INIT;
	int rc = !base || !s ? cp_error_oom() : 0;
	if (!rc && asprintf(&s->url, "%s/%s/oauth2/v2.0/token", base, tenant) < 0)
		rc = cp_error_oom();
	rc = rc ? rc : cp_oauth_form_add(&form, "grant_type", "client_credentials");
	rc = rc ? rc : cp_oauth_form_add(&form, "client_id", id);
	rc = rc ? rc : cp_oauth_form_add(&form, "client_secret", secret);
	rc = rc ? rc
		: cp_oauth_form_add(&form, "scope",
				    opts && opts->scope ? opts->scope : CP_AZURE_SCOPE_ARM);
	free(base);
	if (!rc) {
		s->form = form.ptr;
		form.ptr = NULL;
		s->what = "Microsoft Entra token endpoint";
		cp_http_client_options o;
		cp_http_client_options_from_ctx(&o, ctx, CP_HTTP_FOR_ANY);
		rc = cp_http_client_new(&s->client, ctx, &o);
	}
	cp_buf_dispose(&form);
	char *name = NULL;
	if (!rc && asprintf(&name, "service principal %s (tenant %s)", id, tenant) < 0)
		rc = cp_error_oom();
	if (rc) {
		id_free(s);
		return rc;
	}
	rc = cp_creds_new_refreshing(out, ctx, name, id_refresh, s, id_free);
	free(name);
	return rc;
}

int cp_azure_creds_managed_identity(cp_creds **out, cp_ctx *ctx, const cp_azure_creds_options *opts)
{
	*out = NULL;
	const char *ep = opts && opts->imds_endpoint ? opts->imds_endpoint
						     : env("AZURE_POD_IDENTITY_AUTHORITY_HOST");
	char *base = without_slash(ep ? ep : "http://169.254.169.254");
	const char *scope = opts && opts->scope ? opts->scope : CP_AZURE_SCOPE_ARM;
	/* IMDS wants a resource, not a scope: drop "/.default". */
	size_t rlen = strlen(scope);
	if (rlen > 9 && !strcmp(scope + rlen - 9, "/.default"))
		rlen -= 9;
	const char *client = opts && opts->client_id ? opts->client_id : env("AZURE_CLIENT_ID");
	cp_buf url = CP_BUF_INIT;
	int rc = base ? 0 : cp_error_oom();
	rc = rc ? rc : cp_buf_put(&url, base, strlen(base));
	rc = rc ? rc
		: cp_buf_put(
			  &url,
			  "/metadata/identity/oauth2/token?api-version=2018-02-01&resource=", 64);
	rc = rc ? rc : cp_url_encode(&url, scope, rlen, NULL);
	if (!rc && client) {
		rc = cp_buf_put(&url, "&client_id=", 11);
		rc = rc ? rc : cp_url_encode(&url, client, strlen(client), NULL);
	}
	id_state *s = rc ? NULL : calloc(1, sizeof(*s));
	if (!rc && !s)
		rc = cp_error_oom();
	cp_http_client_options o;
	cp_creds_metadata_client_options(&o, ctx);
	if (!rc) {
		s->url = url.ptr;
		url.ptr = NULL;
		s->what = "Azure IMDS managed identity";
		rc = cp_http_client_new(&s->client, ctx, &o);
	}
	char *name = NULL, *absent = NULL;
	if (!rc && asprintf(&name, "managed identity (IMDS at %s)", base) < 0)
		name = NULL, rc = cp_error_oom();
	if (!rc && asprintf(&absent, "managed identity: no IMDS at %s", base) < 0)
		absent = NULL, rc = cp_error_oom();
	cp_buf_dispose(&url);
	if (rc)
		id_free(s);
	else
		rc = cp_creds_new_probed(out, ctx, name, id_refresh, s, id_free, absent);
	free(name);
	free(absent);
	free(base);
	return rc;
}

int cp_azure_creds_chain(cp_creds **out, cp_ctx *ctx, const cp_azure_creds_options *opts)
{
	int rc = cp_azure_creds_service_principal(out, ctx, opts);
	if (rc != CP_ENOTFOUND)
		return rc;
	char *first = strdup(cp_error_last() ? cp_error_last()->message : "service principal");
	rc = cp_azure_creds_managed_identity(out, ctx, opts);
	if (rc == CP_ENOTFOUND)
		rc = cp_error_set(
			CP_EAUTH, CP_ERRCLASS_AUTH,
			"no Azure credentials found (tried %s; %s); set AZURE_CLIENT_ID, "
			"AZURE_TENANT_ID and AZURE_CLIENT_SECRET for a service principal, "
			"or run on Azure with a managed identity",
			first ? first : "service principal",
			cp_error_last() ? cp_error_last()->message : "managed identity");
	free(first);
	return rc;
}
