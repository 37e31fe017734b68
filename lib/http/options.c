/* Client options from a context: the one place backends get transport settings. */
#include "ctx.h"
#include "http/http.h"

void cp_http_client_options_from_ctx(cp_http_client_options *opts, cp_ctx *ctx,
				     cp_http_audience audience)
{
	cp_http_client_options_init(opts);
	opts->audience = audience;
	if (ctx) {
		const cp_ctx_options *c = &ctx->opts;
		opts->proxy = c->proxy;
		opts->no_proxy = c->no_proxy;
		opts->ca_file = c->ca_file;
		opts->ca_path = c->ca_path;
		opts->insecure = c->insecure_tls;
		opts->connect_timeout_ms = c->connect_timeout_ms;
		opts->low_speed_time_s = c->low_speed_time_s;
		opts->low_speed_bytes = c->low_speed_bytes;
		opts->max_attempts = c->max_attempts;
		opts->time_budget_ms = c->time_budget_ms;
	}
	if (audience == CP_HTTP_FOR_METADATA) {
		opts->proxy = "";
		opts->no_proxy = NULL;
	}
}
