/*
 * cp_resource_restore_options across versions: a caller built against the
 * version-1 header (no architecture) keeps working, backends always see the
 * current layout, and bad versions or architectures never reach a backend.
 */
#include "cloudprotect.h"
#include "cloudprotect/sys/provider.h"
#include "testutil.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What the recording backend saw on its last call. */
static struct {
	int calls;
	unsigned int version;
	char name[64];
	char architecture[32]; /* "(null)" for NULL */
	int launch, wait;
} seen;

static int recorder_open(void **state, cp_ctx *ctx, const char *config_json)
{
	*state = NULL;
	return 0;
}

static int recorder_restore(void *state, const char *snapshot_id,
			    const cp_resource_restore_options *opts, cp_resource_cb cb,
			    void *payload)
{
	seen.calls++;
	seen.version = opts->version;
	snprintf(seen.name, sizeof(seen.name), "%s", opts->name ? opts->name : "(null)");
	snprintf(seen.architecture, sizeof(seen.architecture), "%s",
		 opts->architecture ? opts->architecture : "(null)");
	seen.launch = opts->launch;
	seen.wait = opts->wait;
	return 0;
}

static cp_provider *open_recorder(cp_ctx **ctx)
{
	static const cp_provider_ops recorder = {
		.version = CP_PROVIDER_OPS_VERSION,
		.name = "restore-recorder",
		.open = recorder_open,
		.resource_restore = recorder_restore,
	};
	int rc = cp_provider_register(&recorder);
	ck_assert(rc == 0 || rc == CP_EEXISTS);
	cp_provider *p = NULL;
	tu_ok(cp_ctx_new(ctx, NULL));
	tu_ok(cp_provider_open(&p, *ctx, "restore-recorder", NULL));
	memset(&seen, 0, sizeof(seen));
	return p;
}

static int message_has(const char *part)
{
	const cp_error *e = cp_error_last();
	return e && strstr(e->message, part) != NULL;
}

START_TEST(version_1_options_still_work)
{
	cp_ctx *ctx = NULL;
	cp_provider *p = open_recorder(&ctx);
	/*
	 * Exactly as long as a version-1 caller's struct: reading architecture
	 * from it would read past the allocation, which ASan reports.
	 */
	size_t v1_size = offsetof(cp_resource_restore_options, architecture);
	cp_resource_restore_options full = CP_RESOURCE_RESTORE_OPTIONS_INIT;
	full.version = 1;
	full.name = "from-an-old-caller";
	full.launch = 1;
	full.wait = 0;
	full.architecture = "sparc"; /* beyond version 1: must be ignored */
	cp_resource_restore_options *old = malloc(v1_size);
	ck_assert_ptr_nonnull(old);
	memcpy(old, &full, v1_size);
	tu_ok(cp_resource_restore(p, "snap-1", old, NULL, NULL));
	ck_assert_int_eq(seen.calls, 1);
	ck_assert_uint_eq(seen.version, CP_RESOURCE_RESTORE_OPTIONS_VERSION);
	ck_assert_str_eq(seen.name, "from-an-old-caller");
	ck_assert_str_eq(seen.architecture, "(null)");
	ck_assert_int_eq(seen.launch, 1);
	ck_assert_int_eq(seen.wait, 0);
	free(old);
	cp_provider_free(p);
	cp_ctx_free(ctx);
}
END_TEST

START_TEST(architecture_reaches_the_backend)
{
	cp_ctx *ctx = NULL;
	cp_provider *p = open_recorder(&ctx);
	cp_resource_restore_options o = CP_RESOURCE_RESTORE_OPTIONS_INIT;
	ck_assert_uint_eq(o.version, 2);
	ck_assert_ptr_null(o.architecture);
	const char *const good[] = {"arm64", "x86_64"};
	for (size_t i = 0; i < 2; i++) {
		o.architecture = good[i];
		tu_ok(cp_resource_restore(p, "snap-1", &o, NULL, NULL));
		ck_assert_str_eq(seen.architecture, good[i]);
	}
	/* No options at all: the defaults, architecture derived. */
	tu_ok(cp_resource_restore(p, "snap-1", NULL, NULL, NULL));
	ck_assert_str_eq(seen.architecture, "(null)");
	ck_assert_int_eq(seen.wait, 1);
	ck_assert_int_eq(seen.calls, 3);
	cp_provider_free(p);
	cp_ctx_free(ctx);
}
END_TEST

START_TEST(unknown_architectures_are_refused_naming_the_allowed)
{
	cp_ctx *ctx = NULL;
	cp_provider *p = open_recorder(&ctx);
	cp_resource_restore_options o = CP_RESOURCE_RESTORE_OPTIONS_INIT;
	const char *const bad[] = {"sparc", "", "ARM64", "x86_64_mac", "arm64 "};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		o.architecture = bad[i];
		ck_assert_int_eq(cp_resource_restore(p, "snap-1", &o, NULL, NULL), CP_EINVALID);
		ck_assert(message_has("x86_64") && message_has("arm64"));
		char quoted[40];
		snprintf(quoted, sizeof(quoted), "'%s'", bad[i]);
		ck_assert(message_has(quoted));
	}
	ck_assert_int_eq(seen.calls, 0);
	cp_provider_free(p);
	cp_ctx_free(ctx);
}
END_TEST

START_TEST(unknown_versions_are_refused)
{
	cp_ctx *ctx = NULL;
	cp_provider *p = open_recorder(&ctx);
	cp_resource_restore_options o = CP_RESOURCE_RESTORE_OPTIONS_INIT;
	const unsigned int bad[] = {0, CP_RESOURCE_RESTORE_OPTIONS_VERSION + 1, 77};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		o.version = bad[i];
		ck_assert_int_eq(cp_resource_restore(p, "snap-1", &o, NULL, NULL), CP_EINVALID);
		char what[64];
		snprintf(what, sizeof(what), "version %u", bad[i]);
		ck_assert(message_has(what) && message_has("cp_resource_restore_options"));
	}
	ck_assert_int_eq(seen.calls, 0);
	cp_provider_free(p);
	cp_ctx_free(ctx);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("restore_options");
	TCase *tc = tcase_create("restore_options");
	tcase_add_test(tc, version_1_options_still_work);
	tcase_add_test(tc, architecture_reaches_the_backend);
	tcase_add_test(tc, unknown_architectures_are_refused_naming_the_allowed);
	tcase_add_test(tc, unknown_versions_are_refused);
	suite_add_tcase(s, tc);
	return tu_run(s);
}
