#include "creds/creds.h"
#include "auth/digest.h"
#include "ctx.h"
#include "http/http.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

int cp_creds_value_copy(cp_creds_value *dst, const cp_creds_value *src)
{
	/* Built aside, so dst is either a whole copy or empty, never half freed. */
	cp_creds_value v = {dup_or_null(src->access_key), dup_or_null(src->secret),
			    dup_or_null(src->token), src->expires_at};
	int oom = (src->access_key && !v.access_key) || (src->secret && !v.secret) ||
		  (src->token && !v.token);
	memset(dst, 0, sizeof(*dst));
	if (oom) {
		cp_creds_value_dispose(&v);
		return cp_error_oom();
	}
	*dst = v;
	return 0;
}

void cp_creds_value_dispose(cp_creds_value *v)
{
	free(v->access_key);
	cp_secret_free(v->secret);
	cp_secret_free(v->token);
	memset(v, 0, sizeof(*v));
}

static int creds_alloc(cp_creds **out, const char *source)
{
	cp_creds *c = calloc(1, sizeof(*c));
	if (!c)
		return cp_error_oom();
	c->source = strdup(source ? source : "unknown");
	if (!c->source) {
		free(c);
		return cp_error_oom();
	}
	pthread_mutex_init(&c->lock, NULL);
	*out = c;
	return 0;
}

int cp_creds_new_static(cp_creds **out, const char *source, const char *access_key,
			const char *secret, const char *token, int64_t expires_at)
{
	*out = NULL;
	cp_creds *c = NULL;
	int rc = creds_alloc(&c, source);
	if (rc)
		return rc;
	cp_creds_value v = {(char *)access_key, (char *)secret, (char *)token, expires_at};
	rc = cp_creds_value_copy(&c->value, &v);
	if (rc) {
		cp_creds_free(c);
		return rc;
	}
	*out = c;
	return 0;
}

int cp_creds_new_refreshing(cp_creds **out, cp_ctx *ctx, const char *source,
			    cp_creds_refresh_fn refresh, void *state, void (*free_state)(void *))
{
	*out = NULL;
	cp_creds *c = NULL;
	int rc = creds_alloc(&c, source);
	if (rc) {
		if (free_state)
			free_state(state);
		return rc;
	}
	c->ctx = ctx;
	c->refresh = refresh;
	c->state = state;
	c->free_state = free_state;
	*out = c;
	return 0;
}

void cp_creds_free(cp_creds *c)
{
	if (!c)
		return;
	cp_creds_value_dispose(&c->value);
	if (c->free_state)
		c->free_state(c->state);
	pthread_mutex_destroy(&c->lock);
	free(c->source);
	free(c);
}

static int64_t clock_now(const cp_creds *c)
{
	return c->clock ? c->clock() : (int64_t)time(NULL);
}

static int fresh_enough(const cp_creds *c)
{
	if (!c->value.secret && !c->value.token)
		return 0;
	if (!c->value.expires_at)
		return 1;
	return c->value.expires_at - CP_CREDS_REFRESH_MARGIN_S > clock_now(c);
}

int cp_creds_get(cp_creds *c, cp_creds_value *out)
{
	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&c->lock);
	int rc = 0;
	if (c->refresh && !fresh_enough(c)) {
		cp_creds_value v = {0};
		cp_log(c->ctx, CP_LOG_DEBUG, "credentials: refreshing from %s", c->source);
		rc = c->refresh(c, c->state, &v);
		if (!rc) {
			cp_creds_value_dispose(&c->value);
			c->value = v;
		} else if (c->value.expires_at > clock_now(c)) {
			/* Still valid for a while: keep using it and try again next time. */
			cp_log(c->ctx, CP_LOG_WARN,
			       "credentials: refreshing from %s failed (%s); using the current "
			       "ones until they expire",
			       c->source, cp_error_last() ? cp_error_last()->message : "");
			rc = 0;
		} else {
			rc = cp_error_prefix(rc, "getting credentials from %s: ", c->source);
		}
	}
	if (!rc)
		rc = cp_creds_value_copy(out, &c->value);
	pthread_mutex_unlock(&c->lock);
	return rc;
}

int cp_creds_parse_time(const char *text, int64_t *out)
{
	struct tm tm = {0};
	const char *rest = text ? strptime(text, "%Y-%m-%dT%H:%M:%S", &tm) : NULL;
	if (!rest)
		return cp_error_set(CP_EINVALID, CP_ERRCLASS_AUTH,
				    "credential expiry '%s' is not an ISO 8601 time",
				    text ? text : "(missing)");
	if (*rest == '.')
		while (*++rest >= '0' && *rest <= '9')
			;
	int64_t t = (int64_t)timegm(&tm);
	if ((*rest == '+' || *rest == '-') && strlen(rest) >= 6) {
		int64_t off = ((rest[1] - '0') * 10 + (rest[2] - '0')) * 3600 +
			      ((rest[4] - '0') * 10 + (rest[5] - '0')) * 60;
		t += *rest == '+' ? -off : off;
	}
	*out = t;
	return 0;
}

void cp_creds_invalidate(cp_creds *c)
{
	pthread_mutex_lock(&c->lock);
	if (c->refresh)
		cp_creds_value_dispose(&c->value);
	pthread_mutex_unlock(&c->lock);
}

void cp_creds_metadata_client_options(struct cp_http_client_options *o, cp_ctx *ctx)
{
	cp_http_client_options_from_ctx(o, ctx, CP_HTTP_FOR_METADATA);
	o->connect_timeout_ms = 1000;
	o->attempt_timeout_ms = 3000;
	o->max_attempts = 3;
	o->base_delay_ms = 50;
	o->time_budget_ms = 8000;
}

int cp_creds_new_probed(cp_creds **out, cp_ctx *ctx, const char *source,
			cp_creds_refresh_fn refresh, void *state, void (*free_state)(void *),
			const char *absent)
{
	cp_creds *c = NULL;
	int rc = cp_creds_new_refreshing(&c, ctx, source, refresh, state, free_state);
	if (rc)
		return rc;
	cp_creds_value v;
	rc = cp_creds_get(c, &v);
	cp_creds_value_dispose(&v);
	if (rc == CP_EIO || rc == CP_ETIMEOUT || rc == CP_ENOTFOUND)
		rc = cp_error_set(CP_ENOTFOUND, CP_ERRCLASS_AUTH, "%s (%s)", absent,
				  cp_error_last() ? cp_error_last()->message : "no answer");
	if (rc) {
		cp_creds_free(c);
		return rc;
	}
	*out = c;
	return 0;
}
