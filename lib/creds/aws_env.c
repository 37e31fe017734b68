/* AWS keys from AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN. */
#include "creds/aws.h"
#include "error.h"

#include <stdlib.h>

static const char *env(const char *name)
{
	const char *v = getenv(name);
	return v && *v ? v : NULL;
}

int cp_aws_creds_from_env(cp_creds **out)
{
	*out = NULL;
	const char *id = env("AWS_ACCESS_KEY_ID");
	const char *secret = env("AWS_SECRET_ACCESS_KEY");
	if (!id && !secret)
		return cp_error_set(CP_ENOTFOUND, CP_ERRCLASS_AUTH,
				    "environment: AWS_ACCESS_KEY_ID not set");
	if (!id || !secret)
		return cp_error_set(CP_EAUTH, CP_ERRCLASS_AUTH,
				    "%s is set but %s is not; set both or neither",
				    id ? "AWS_ACCESS_KEY_ID" : "AWS_SECRET_ACCESS_KEY",
				    id ? "AWS_SECRET_ACCESS_KEY" : "AWS_ACCESS_KEY_ID");
	return cp_creds_new_static(out, "environment", id, secret, env("AWS_SESSION_TOKEN"), 0);
}
