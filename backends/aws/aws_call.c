/*
 * What every AWS API call shares, whatever its protocol (query, JSON,
 * REST-JSON): how it is signed, and how a refusal is reported.
 */
#include "error.h"
#include "provider_aws.h"

#include <stdio.h>
#include <string.h>

void aws_signer_init(cp_sigv4_signer *signer, aws_provider *p, const char *region,
		     const char *service)
{
	memset(signer, 0, sizeof(*signer));
	signer->params.dialect = CP_SIGV4_AWS;
	signer->params.region = region;
	signer->params.service = service;
	signer->creds = p->creds;
}

int aws_error_refused(aws_provider *p, const cp_http_response *resp, const char *api_name,
		      const char *action, const char *about, const char *region,
		      const char *iam_prefix)
{
	/* Name the key id (never the secret), so the user knows which identity was refused. */
	cp_creds_value v = {0};
	char id[64] = "(unknown)";
	if (!cp_creds_get(p->creds, &v) && v.access_key)
		snprintf(id, sizeof(id), "%s", v.access_key);
	cp_creds_value_dispose(&v);
	const char *code = resp->error.code;
	const char *msg = resp->error.message[0] ? resp->error.message : "no message";
	return cp_error_set_cloud(
		CP_EAUTH, CP_ERRCLASS_AUTH, (int)resp->status, code, resp->error.request_id,
		"%s %s%s in %s refused access key id '%s' (from %s): %s (%s); grant "
		"%s:%s to this identity or use another profile/role",
		api_name, action, about, region, id,
		p->creds->source ? p->creds->source : "the AWS chain", msg, code, iam_prefix,
		action);
}
