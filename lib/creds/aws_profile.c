/*
 * A named profile from the shared files, as the AWS CLI reads them
 * ("Configuration and credential file settings" in the AWS CLI user guide):
 * [name] in the credentials file, [profile name] (or [default]) in the
 * config file; static keys, or role_arn with source_profile,
 * credential_source or web_identity_token_file.
 */
#include "creds/aws.h"
#include "creds/ini.h"
#include "error.h"
#include "fs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Role chains longer than this are a loop in the files. */
#define MAX_CHAIN 5

typedef struct shared_files {
	char *cred_path, *config_path;
	cp_ini *cred, *config;
} shared_files;

static const char *env(const char *name)
{
	const char *v = getenv(name);
	return v && *v ? v : NULL;
}

static char *home_file(const char *override, const char *name)
{
	const char *v = env(override);
	if (v)
		return strdup(v);
	const char *home = env("HOME");
	char *p = NULL;
	if (asprintf(&p, "%s/.aws/%s", home ? home : "", name) < 0)
		return NULL;
	return p;
}

static int load_one(cp_ini **out, const char *path)
{
	int rc = cp_ini_load(out, path);
	if (rc == CP_ENOTFOUND) {
		*out = NULL;
		return 0;
	}
	return rc;
}

static void files_dispose(shared_files *f)
{
	cp_ini_free(f->cred);
	cp_ini_free(f->config);
	free(f->cred_path);
	free(f->config_path);
}

static int files_load(shared_files *f)
{
	memset(f, 0, sizeof(*f));
	f->cred_path = home_file("AWS_SHARED_CREDENTIALS_FILE", "credentials");
	f->config_path = home_file("AWS_CONFIG_FILE", "config");
	if (!f->cred_path || !f->config_path)
		return cp_error_oom();
	/* Loaded through locals: the paths stay reachable from f whatever happens. */
	cp_ini *cred = NULL, *config = NULL;
	int rc = load_one(&cred, f->cred_path);
	rc = rc ? rc : load_one(&config, f->config_path);
	f->cred = cred;
	f->config = config;
	return rc;
}

/* A profile setting: the credentials file first, then the config file. */
static const char *setting(const shared_files *f, const char *profile, const char *key)
{
	const char *v = cp_ini_get(f->cred, profile, key);
	if (v)
		return v;
	char section[300];
	snprintf(section, sizeof(section), "profile %s", profile);
	v = cp_ini_get(f->config, section, key);
	if (!v && !strcmp(profile, "default"))
		v = cp_ini_get(f->config, "default", key);
	return v;
}

static int has_profile(const shared_files *f, const char *profile)
{
	char section[300];
	snprintf(section, sizeof(section), "profile %s", profile);
	return cp_ini_has_section(f->cred, profile) || cp_ini_has_section(f->config, section) ||
	       (!strcmp(profile, "default") && cp_ini_has_section(f->config, "default"));
}

static int resolve(cp_creds **out, cp_ctx *ctx, const shared_files *f, const char *profile,
		   int depth, const cp_aws_creds_options *opts);

static int role_source(cp_creds **out, cp_ctx *ctx, const shared_files *f, const char *profile,
		       int depth, const cp_aws_creds_options *opts)
{
	const char *src = setting(f, profile, "source_profile");
	const char *cs = setting(f, profile, "credential_source");
	if (src && cs)
		return cp_error_set(CP_EINVALID, CP_ERRCLASS_CONFIG,
				    "profile '%s' in %s sets both source_profile and "
				    "credential_source; keep one",
				    profile, f->config_path);
	if (src) {
		if (depth >= MAX_CHAIN)
			return cp_error_set(CP_EINVALID, CP_ERRCLASS_CONFIG,
					    "profile '%s': source_profile chain longer than %d "
					    "(a loop?); check %s",
					    profile, MAX_CHAIN, f->config_path);
		/* A source profile with its own keys uses them, even if it names a role too. */
		const char *id = setting(f, src, "aws_access_key_id");
		const char *secret = setting(f, src, "aws_secret_access_key");
		if (id && secret && strcmp(src, profile)) {
			char name[300];
			snprintf(name, sizeof(name), "profile %s", src);
			return cp_creds_new_static(out, name, id, secret,
						   setting(f, src, "aws_session_token"), 0);
		}
		if (!has_profile(f, src))
			return cp_error_set(CP_EINVALID, CP_ERRCLASS_CONFIG,
					    "profile '%s' names source_profile '%s', which is in "
					    "neither %s nor %s",
					    profile, src, f->cred_path, f->config_path);
		return resolve(out, ctx, f, src, depth + 1, opts);
	}
	if (cs) {
		if (!strcmp(cs, "Environment"))
			return cp_aws_creds_from_env(out);
		if (!strcmp(cs, "Ec2InstanceMetadata"))
			return cp_aws_creds_imds(out, ctx, opts);
		return cp_error_set(CP_EINVALID, CP_ERRCLASS_CONFIG,
				    "profile '%s': credential_source '%s' is not supported; use "
				    "Environment or Ec2InstanceMetadata",
				    profile, cs);
	}
	return cp_error_set(CP_EINVALID, CP_ERRCLASS_CONFIG,
			    "profile '%s' has role_arn but no source_profile, credential_source "
			    "or web_identity_token_file; add one to %s",
			    profile, f->config_path);
}

static int resolve(cp_creds **out, cp_ctx *ctx, const shared_files *f, const char *profile,
		   int depth, const cp_aws_creds_options *opts)
{
	char name[300];
	snprintf(name, sizeof(name), "profile %s", profile);
	const char *role = setting(f, profile, "role_arn");
	cp_aws_creds_options o = opts ? *opts : (cp_aws_creds_options){0};
	if (!o.region)
		o.region = setting(f, profile, "region");
	if (role) {
		const char *session = setting(f, profile, "role_session_name");
		const char *token_file = setting(f, profile, "web_identity_token_file");
		if (token_file && !setting(f, profile, "source_profile"))
			return cp_aws_creds_web_identity(out, ctx, token_file, role, session, &o);
		cp_creds *source = NULL;
		int rc = role_source(&source, ctx, f, profile, depth, &o);
		if (rc)
			return rc;
		const char *dur = setting(f, profile, "duration_seconds");
		return cp_aws_creds_assume_role(out, ctx, source, role,
						setting(f, profile, "external_id"), session,
						dur ? (unsigned int)strtoul(dur, NULL, 10) : 0, &o);
	}
	const char *id = setting(f, profile, "aws_access_key_id");
	const char *secret = setting(f, profile, "aws_secret_access_key");
	if (id && secret)
		return cp_creds_new_static(out, name, id, secret,
					   setting(f, profile, "aws_session_token"), 0);
	if (id || secret)
		return cp_error_set(CP_EAUTH, CP_ERRCLASS_CONFIG,
				    "profile '%s' has %s but not %s; set both in %s", profile,
				    id ? "aws_access_key_id" : "aws_secret_access_key",
				    id ? "aws_secret_access_key" : "aws_access_key_id",
				    f->cred_path);
	return cp_error_set(CP_ENOTFOUND, CP_ERRCLASS_AUTH,
			    "shared files: profile '%s' has no keys or role in %s or %s", profile,
			    f->cred_path, f->config_path);
}

int cp_aws_creds_from_profile(cp_creds **out, cp_ctx *ctx, const cp_aws_creds_options *opts)
{
	*out = NULL;
	const char *profile = opts && opts->profile ? opts->profile : env("AWS_PROFILE");
	int explicit = profile != NULL;
	if (!profile)
		profile = "default";
	shared_files f;
	int rc = files_load(&f);
	if (!rc && !has_profile(&f, profile)) {
		/* A profile asked for by name must exist; the default one may be absent. */
		rc = cp_error_set(explicit ? CP_EAUTH : CP_ENOTFOUND, CP_ERRCLASS_AUTH,
				  "%sprofile '%s' is in neither %s nor %s%s",
				  explicit ? "" : "shared files: ", profile, f.cred_path,
				  f.config_path,
				  explicit ? "; check AWS_PROFILE or run aws configure" : "");
	}
	rc = rc ? rc : resolve(out, ctx, &f, profile, 0, opts);
	files_dispose(&f);
	return rc;
}
