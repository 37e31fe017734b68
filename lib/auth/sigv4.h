/*
 * AWS Signature Version 4 (and its Google twin GOOG4-HMAC-SHA256 for the
 * GCS XML API with HMAC keys): header signing and presigned URLs, for any
 * service and region.
 */
#ifndef CP_LIB_AUTH_SIGV4_H
#define CP_LIB_AUTH_SIGV4_H

#include "cloudprotect/sys/objstore.h"
#include "http/http.h"

#include <stdint.h>

typedef enum {
	CP_SIGV4_AWS = 0, /* AWS4-HMAC-SHA256, x-amz-*, aws4_request */
	CP_SIGV4_GOOG,	  /* GOOG4-HMAC-SHA256, x-goog-*, goog4_request */
} cp_sigv4_dialect;

#define CP_SIGV4_UNSIGNED_PAYLOAD "UNSIGNED-PAYLOAD"

typedef struct cp_sigv4_params {
	cp_sigv4_dialect dialect;
	const char *access_key;
	const char *secret_key;
	const char *session_token; /* NULL when the keys are long-term */
	const char *region;	   /* "us-east-1"; GCS: "auto" or a location */
	const char *service;	   /* "s3", "ec2", "ebs", "sts"; GCS: "storage" */
	/*
	 * S3 and GCS sign the path exactly as sent; every other service
	 * normalises it (dot segments, double slashes) and encodes it again.
	 */
	int raw_path;
	/* Hex SHA-256 of the body, CP_SIGV4_UNSIGNED_PAYLOAD, or NULL to hash the buffer body. */
	const char *payload_hash;
	/* Send the payload hash as x-amz-content-sha256 (S3 requires it). */
	int content_sha256_header;
	int64_t now; /* Unix seconds to sign at; 0 = the clock */
} cp_sigv4_params;

/**
 * Add the date, token, content hash and Authorization headers to headers
 * for a request of method to url with the given buffer body (may be NULL).
 * canonical, when not NULL, receives the canonical request (for debugging
 * signature mismatches; holds no secret but the session token).
 */
int cp_sigv4_sign(const cp_sigv4_params *p, const char *method, const char *url,
		  cp_http_headers *headers, const void *body, size_t body_len, cp_buf *canonical);

/**
 * A presigned URL valid for expires_s seconds (1..604800): url with the
 * X-Amz-* (or X-Goog-*) query parameters and signature added. headers lists
 * any headers the user of the URL must send (may be NULL). malloc'd.
 */
int cp_sigv4_presign(const cp_sigv4_params *p, const char *method, const char *url,
		     const cp_http_headers *headers, unsigned int expires_s, char **out_url);

struct cp_creds;

/** A cp_http_sign_cb payload: fixed settings plus keys fetched fresh for every attempt. */
typedef struct cp_sigv4_signer {
	cp_sigv4_params params; /* keys here are used when creds is NULL */
	struct cp_creds *creds;
} cp_sigv4_signer;

/**
 * cp_http_sign_cb for SigV4. A buffer body is hashed unless params says
 * otherwise; a streamed body is sent as UNSIGNED-PAYLOAD unless
 * params.payload_hash gives its hash.
 */
int cp_sigv4_sign_request(void *signer, const cp_http_request *req, cp_http_headers *headers);

#endif
