/*
 * Azure Storage authorisation: SharedKey request signing (Blob, Queue),
 * SAS token creation (account and service SAS) and use, and OAuth bearer
 * tokens (ARM and storage).
 */
#ifndef CP_LIB_AUTH_AZURE_H
#define CP_LIB_AUTH_AZURE_H

#include "cloudprotect/sys/objstore.h"
#include "http/http.h"

#include <stdint.h>

/* The storage REST version we speak (and sign SAS tokens for). */
#define CP_AZURE_STORAGE_VERSION "2021-12-02"

/**
 * Sign a request with the account key (base64, as the portal shows it):
 * adds x-ms-date and x-ms-version when missing, then Authorization.
 * content_length is the body's length (0: none). string_to_sign, when not
 * NULL, receives what was signed (for debugging; holds no secret).
 */
int cp_azure_sharedkey_sign(const char *account, const char *key_b64, const char *method,
			    const char *url, cp_http_headers *headers, uint64_t content_length,
			    int64_t now, cp_buf *string_to_sign);

struct cp_creds;

/** cp_http_sign_cb payload for SharedKey; creds gives access_key = account, secret = key. */
typedef struct cp_azure_signer {
	struct cp_creds *creds;
} cp_azure_signer;
int cp_azure_sharedkey_sign_request(void *signer, const cp_http_request *req,
				    cp_http_headers *headers);

/** cp_http_sign_cb payload for bearer tokens (creds->token), for ARM and storage. */
typedef struct cp_bearer_signer {
	struct cp_creds *creds;
	const char *storage_version; /* storage needs x-ms-version; NULL for ARM */
} cp_bearer_signer;
int cp_bearer_sign_request(void *signer, const cp_http_request *req, cp_http_headers *headers);

typedef struct cp_azure_sas_options {
	const char *version;	 /* NULL = CP_AZURE_STORAGE_VERSION */
	const char *permissions; /* in the documented order: "racwdl..." */
	int64_t start;		 /* Unix seconds; 0 = none */
	int64_t expiry;		 /* Unix seconds; required */
	const char *ip;		 /* "168.1.5.65" or a range; NULL = any */
	const char *protocol;	 /* "https" or "https,http"; NULL = both */
	const char *encryption_scope;
	/* Account SAS. */
	const char *services;	    /* "bqtf" subset */
	const char *resource_types; /* "sco" subset */
	/* Service SAS. */
	const char *identifier; /* a stored access policy */
	const char *cache_control, *content_disposition, *content_encoding, *content_language,
		*content_type;
} cp_azure_sas_options;

/** An account SAS token ("sv=...&sig=..."), malloc'd. */
int cp_azure_sas_account(char **token, const char *account, const char *key_b64,
			 const cp_azure_sas_options *o);
/** A blob service SAS for a container (blob NULL) or one blob, malloc'd. */
int cp_azure_sas_blob(char **token, const char *account, const char *key_b64, const char *container,
		      const char *blob, const cp_azure_sas_options *o);
/** url with the token added to its query ("?" or "&"), malloc'd. */
int cp_azure_sas_apply(char **out_url, const char *url, const char *token);

#endif
