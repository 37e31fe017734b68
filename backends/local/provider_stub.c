/* Placeholder until the local provider lands: registers the name only. */
#include "cloudprotect/sys/provider.h"
#include "error.h"

static int stub_open(void **state, cp_ctx *ctx, const char *config_json)
{
	return cp_error_set(CP_EUNSUPPORTED, CP_ERRCLASS_PROVIDER, "local provider not built yet");
}

const cp_provider_ops cp_local_provider_ops = {
	.version = CP_PROVIDER_OPS_VERSION,
	.name = "local",
	.description = "a cloud in a directory",
	.open = stub_open,
};
