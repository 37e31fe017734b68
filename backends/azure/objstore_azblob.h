/*
 * azblob:// object store internals shared by its files: the open store,
 * how a request is addressed and authorised, and small parsers.
 */
#ifndef CP_BACKENDS_AZURE_OBJSTORE_AZBLOB_H
#define CP_BACKENDS_AZURE_OBJSTORE_AZBLOB_H

#include "auth/azure.h"
#include "creds/creds.h"
#include "http/date.h"
#include "http/http.h"
#include "http/pool.h"

#include <pthread.h>

/* Objects up to this size go up in one Put Blob; larger ones as blocks of this size. */
#define AZ_BLOCK_SIZE (4u << 20)

typedef enum {
	AZ_AUTH_SHAREDKEY,
	AZ_AUTH_SAS,
	AZ_AUTH_BEARER,
} az_auth;

typedef struct az_store {
	cp_ctx *ctx;
	char *account;
	char *container;
	char *prefix;	   /* "" or ending in '/' */
	char *account_url; /* ".../devstoreaccount1" or "https://acct.blob.core.windows.net" */
	az_auth auth;
	cp_creds *creds; /* SharedKey: account + key; bearer: token */
	char *sas;	 /* SAS token without '?' */
	cp_azure_signer sharedkey;
	cp_bearer_signer bearer;
	/* A client is single-threaded, the store is not: idle clients wait here. */
	cp_http_pool *pool; /* a client serves one thread at a time, the store many */
} az_store;

/** URL of key (NULL: the container) with query (NULL: none), malloc'd. */
char *az_blob_url(az_store *s, const char *key, const char *query);
/** URL of the account's service root with query, malloc'd. */
char *az_account_url(az_store *s, const char *query);

/**
 * Authorise and send req (its url is replaced by the SAS-signed one when
 * needed); "what" names the Azure operation in errors.
 */
int az_perform(az_store *s, cp_http_request *req, cp_http_response *resp);

/** "Hot"/"Cool" spelled as Azure wants it, or NULL for any other tier. */
const char *az_tier_name(const char *storage_class);
/** Add the immutability headers for an object locked until until (unix s). */
int az_add_lock_headers(cp_http_headers *h, int64_t until);

int az_put_blob(az_store *s, const char *key, const void *data, size_t len,
		const cp_put_options *opts);
int az_writer_open(void *state, const char *key, const cp_put_options *opts,
		   cp_objstore_writer **out);
int az_check_settings(void *state, const cp_objstore_settings *settings, int create);
unsigned int az_min_storage_days(void *state, const char *tier);
int az_head(void *state, const char *key, cp_object_info *info);
int az_list(void *state, const char *prefix, cp_object_list_cb cb, void *payload);

#endif
