/*
 * Storage account credentials from the environment, as the Azure CLI and
 * SDKs read them ("Configure Azure Storage connection strings").
 */
#include "auth/digest.h"
#include "creds/azure.h"
#include "error.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

void cp_azure_storage_env_dispose(cp_azure_storage_env *e)
{
	free(e->account);
	cp_secret_free(e->key);
	cp_secret_free(e->sas);
	free(e->blob_endpoint);
	free(e->queue_endpoint);
	memset(e, 0, sizeof(*e));
}

static int set(char **field, const char *v, size_t len)
{
	free(*field);
	*field = strndup(v, len);
	return *field ? 0 : cp_error_oom();
}

int cp_azure_storage_parse_connection_string(cp_azure_storage_env *out, const char *text)
{
	memset(out, 0, sizeof(*out));
	int rc = 0;
	for (const char *p = text; *p && !rc;) {
		size_t len = strcspn(p, ";");
		const char *eq = memchr(p, '=', len);
		if (eq) {
			size_t k = (size_t)(eq - p), vl = len - k - 1;
			const char *v = eq + 1;
			if (k == 11 && !strncasecmp(p, "AccountName", k))
				rc = set(&out->account, v, vl);
			else if (k == 10 && !strncasecmp(p, "AccountKey", k))
				rc = set(&out->key, v, vl);
			else if (k == 21 && !strncasecmp(p, "SharedAccessSignature", k))
				rc = set(&out->sas, v[0] == '?' ? v + 1 : v,
					 v[0] == '?' ? vl - 1 : vl);
			else if (k == 12 && !strncasecmp(p, "BlobEndpoint", k))
				rc = set(&out->blob_endpoint, v, vl);
			else if (k == 13 && !strncasecmp(p, "QueueEndpoint", k))
				rc = set(&out->queue_endpoint, v, vl);
		}
		p += len;
		if (*p == ';')
			p++;
	}
	if (!rc && !out->key && !out->sas)
		rc = cp_error_set(CP_EINVALID, CP_ERRCLASS_CONFIG,
				  "the storage connection string has neither AccountKey nor "
				  "SharedAccessSignature; copy it again from the portal");
	if (!rc && !out->account && !out->blob_endpoint)
		rc = cp_error_set(CP_EINVALID, CP_ERRCLASS_CONFIG,
				  "the storage connection string names no AccountName or "
				  "BlobEndpoint; copy it again from the portal");
	if (rc)
		cp_azure_storage_env_dispose(out);
	return rc;
}

int cp_azure_storage_from_env(cp_azure_storage_env *out)
{
	memset(out, 0, sizeof(*out));
	const char *cs = getenv("AZURE_STORAGE_CONNECTION_STRING");
	if (cs && *cs) {
		int rc = cp_azure_storage_parse_connection_string(out, cs);
		return rc ? cp_error_prefix(rc, "AZURE_STORAGE_CONNECTION_STRING: ") : 0;
	}
	const char *account = getenv("AZURE_STORAGE_ACCOUNT");
	const char *key = getenv("AZURE_STORAGE_KEY");
	const char *sas = getenv("AZURE_STORAGE_SAS_TOKEN");
	if (!account || !*account)
		return cp_error_set(CP_ENOTFOUND, CP_ERRCLASS_AUTH,
				    "no storage credentials: set AZURE_STORAGE_CONNECTION_STRING, "
				    "or AZURE_STORAGE_ACCOUNT with AZURE_STORAGE_KEY or "
				    "AZURE_STORAGE_SAS_TOKEN");
	int rc = set(&out->account, account, strlen(account));
	if (!rc && key && *key)
		rc = set(&out->key, key, strlen(key));
	else if (!rc && sas && *sas)
		rc = set(&out->sas, sas[0] == '?' ? sas + 1 : sas, strlen(sas) - (sas[0] == '?'));
	else if (!rc)
		rc = cp_error_set(CP_EAUTH, CP_ERRCLASS_AUTH,
				  "AZURE_STORAGE_ACCOUNT is set but neither AZURE_STORAGE_KEY nor "
				  "AZURE_STORAGE_SAS_TOKEN");
	if (rc)
		cp_azure_storage_env_dispose(out);
	return rc;
}
