/*
 * GCP credentials: a service account key (GOOGLE_APPLICATION_CREDENTIALS)
 * turned into OAuth2 access tokens through a signed JWT, the GCE metadata
 * server, and HMAC keys for the GCS XML API.
 */
#ifndef CP_LIB_CREDS_GCP_H
#define CP_LIB_CREDS_GCP_H

#include "creds/creds.h"

#define CP_GCP_SCOPE_CLOUD "https://www.googleapis.com/auth/cloud-platform"

typedef struct cp_gcp_creds_options {
	const char *key_file;	   /* NULL: $GOOGLE_APPLICATION_CREDENTIALS */
	const char *scope;	   /* NULL: cloud-platform */
	const char *metadata_host; /* NULL: $GCE_METADATA_HOST, else metadata.google.internal */
} cp_gcp_creds_options;

/** The key file if one is set, else the metadata server; CP_EAUTH naming both when neither. */
int cp_gcp_creds_chain(cp_creds **out, cp_ctx *ctx, const cp_gcp_creds_options *opts);
/** Tokens from a service account JSON key; the key's token_uri is asked. */
int cp_gcp_creds_service_account(cp_creds **out, cp_ctx *ctx, const char *key_file,
				 const char *scope);
/** Tokens of the instance's service account from the metadata server; probes it once. */
int cp_gcp_creds_metadata(cp_creds **out, cp_ctx *ctx, const cp_gcp_creds_options *opts);

#endif
