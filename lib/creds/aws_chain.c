/* The AWS default credential chain: the first configured source wins. */
#include "creds/aws.h"
#include "ctx.h"

#include <stdlib.h>
#include <string.h>

typedef int (*provider_fn)(cp_creds **out, cp_ctx *ctx, const cp_aws_creds_options *opts);

static int from_env(cp_creds **out, cp_ctx *ctx, const cp_aws_creds_options *opts)
{
	return cp_aws_creds_from_env(out);
}

int cp_aws_creds_chain(cp_creds **out, cp_ctx *ctx, const cp_aws_creds_options *opts)
{
	static const provider_fn providers[] = {
		from_env,
		cp_aws_creds_from_profile,
		cp_aws_creds_web_identity_from_env,
		cp_aws_creds_imds,
	};
	*out = NULL;
	cp_buf tried = CP_BUF_INIT;
	for (size_t i = 0; i < sizeof(providers) / sizeof(providers[0]); i++) {
		int rc = providers[i](out, ctx, opts);
		if (!rc) {
			cp_log(ctx, CP_LOG_DEBUG, "credentials: using %s", (*out)->source);
			cp_buf_dispose(&tried);
			return 0;
		}
		if (rc != CP_ENOTFOUND) {
			cp_buf_dispose(&tried);
			return rc;
		}
		const cp_error *e = cp_error_last();
		const char *why = e ? e->message : "not configured";
		if ((tried.size && cp_buf_put(&tried, "; ", 2)) ||
		    cp_buf_put(&tried, why, strlen(why))) {
			cp_buf_dispose(&tried);
			return cp_error_oom();
		}
	}
	int rc = cp_error_set(CP_EAUTH, CP_ERRCLASS_AUTH,
			      "no AWS credentials found (tried %s); set AWS_ACCESS_KEY_ID and "
			      "AWS_SECRET_ACCESS_KEY, or configure a profile with `aws configure` "
			      "(AWS_PROFILE picks one), or set AWS_WEB_IDENTITY_TOKEN_FILE and "
			      "AWS_ROLE_ARN, or run on an EC2 instance with an instance profile",
			      tried.ptr);
	cp_buf_dispose(&tried);
	return rc;
}
