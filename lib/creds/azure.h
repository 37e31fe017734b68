/*
 * Azure credentials: OAuth tokens for a service principal
 * (AZURE_CLIENT_ID, AZURE_TENANT_ID, AZURE_CLIENT_SECRET) or a managed
 * identity (IMDS), and storage account keys or SAS from the environment.
 */
#ifndef CP_LIB_CREDS_AZURE_H
#define CP_LIB_CREDS_AZURE_H

#include "creds/creds.h"

#define CP_AZURE_SCOPE_ARM     "https://management.azure.com/.default"
#define CP_AZURE_SCOPE_STORAGE "https://storage.azure.com/.default"

typedef struct cp_azure_creds_options {
	const char *scope;     /* NULL: ARM */
	const char *authority; /* NULL: $AZURE_AUTHORITY_HOST, else login.microsoftonline.com */
	const char
		*imds_endpoint; /* NULL: $AZURE_POD_IDENTITY_AUTHORITY_HOST, else 169.254.169.254 */
	const char *client_id;	/* user-assigned managed identity; NULL: $AZURE_CLIENT_ID */
} cp_azure_creds_options;

/** A service principal from the environment, else a managed identity; CP_EAUTH naming both. */
int cp_azure_creds_chain(cp_creds **out, cp_ctx *ctx, const cp_azure_creds_options *opts);
/** Client credentials grant; CP_ENOTFOUND when the variables are not set. */
int cp_azure_creds_service_principal(cp_creds **out, cp_ctx *ctx,
				     const cp_azure_creds_options *opts);
/** Managed identity from IMDS; probes it once. */
int cp_azure_creds_managed_identity(cp_creds **out, cp_ctx *ctx,
				    const cp_azure_creds_options *opts);

/** Storage credentials found in the environment. */
typedef struct cp_azure_storage_env {
	char *account;
	char *key;	      /* base64 account key, or NULL */
	char *sas;	      /* SAS token without '?', or NULL */
	char *blob_endpoint;  /* from a connection string, or NULL */
	char *queue_endpoint; /* likewise */
} cp_azure_storage_env;

/**
 * AZURE_STORAGE_CONNECTION_STRING, else AZURE_STORAGE_ACCOUNT with
 * AZURE_STORAGE_KEY or AZURE_STORAGE_SAS_TOKEN. CP_ENOTFOUND when none.
 */
int cp_azure_storage_from_env(cp_azure_storage_env *out);
/** Parse "AccountName=...;AccountKey=...;BlobEndpoint=...;SharedAccessSignature=...". */
int cp_azure_storage_parse_connection_string(cp_azure_storage_env *out, const char *text);
void cp_azure_storage_env_dispose(cp_azure_storage_env *env);

#endif
