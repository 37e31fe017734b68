/*
 * AWS credential providers and the chain that picks one, in the AWS CLI's
 * order: environment, shared config/credentials profile (static keys or
 * role_arn with source_profile / credential_source / web identity), web
 * identity from the environment, and the EC2 instance profile via IMDSv2.
 */
#ifndef CP_LIB_CREDS_AWS_H
#define CP_LIB_CREDS_AWS_H

#include "creds/creds.h"
#include "http/http.h"

typedef struct cp_aws_creds_options {
	const char *profile; /* NULL: $AWS_PROFILE, else "default" */
	const char *region;  /* for STS; NULL: $AWS_REGION, $AWS_DEFAULT_REGION, the profile's */
	const char
		*sts_endpoint; /* NULL: $AWS_ENDPOINT_URL_STS, $AWS_ENDPOINT_URL, else regional */
	const char
		*imds_endpoint; /* NULL: $AWS_EC2_METADATA_SERVICE_ENDPOINT, else 169.254.169.254 */
	const cp_http_client_options *http; /* for STS; NULL: defaults */
} cp_aws_creds_options;

/**
 * The first source that is configured. CP_EAUTH when none is, naming every
 * source tried and how to configure one.
 */
int cp_aws_creds_chain(cp_creds **out, cp_ctx *ctx, const cp_aws_creds_options *opts);

/* Single providers: CP_ENOTFOUND (message says what is missing) when not configured. */
int cp_aws_creds_from_env(cp_creds **out);
int cp_aws_creds_from_profile(cp_creds **out, cp_ctx *ctx, const cp_aws_creds_options *opts);
int cp_aws_creds_web_identity_from_env(cp_creds **out, cp_ctx *ctx,
				       const cp_aws_creds_options *opts);
/** Instance profile through IMDSv2; probes the service once. */
int cp_aws_creds_imds(cp_creds **out, cp_ctx *ctx, const cp_aws_creds_options *opts);

/**
 * Cross-account: credentials of role_arn obtained with STS AssumeRole using
 * source (ownership passes to the result, also on failure), renewed before
 * they expire. external_id and session_name may be NULL; duration_s 0 = 3600.
 */
int cp_aws_creds_assume_role(cp_creds **out, cp_ctx *ctx, cp_creds *source, const char *role_arn,
			     const char *external_id, const char *session_name,
			     unsigned int duration_s, const cp_aws_creds_options *opts);

/** STS AssumeRoleWithWebIdentity with the token read from token_file at every renewal. */
int cp_aws_creds_web_identity(cp_creds **out, cp_ctx *ctx, const char *token_file,
			      const char *role_arn, const char *session_name,
			      const cp_aws_creds_options *opts);

/** The region to use: opts, $AWS_REGION, $AWS_DEFAULT_REGION, else NULL. malloc'd. */
char *cp_aws_region_from_env(const cp_aws_creds_options *opts);

#endif
