/*
 * The aws provider's pieces that need no server: adaptive concurrency,
 * the client pool, query parameter encoding, config errors, and the
 * checksum EBS direct carries.
 */
#include "backends/aws/provider_aws.h"
#include "cloudprotect/sys/provider.h"
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

START_TEST(limiter_halves_on_throttling_and_grows_back)
{
	ebs_limiter l;
	ebs_limiter_init(&l, NULL, 16);
	ck_assert_uint_eq(l.limit, 16);
	ebs_limiter_acquire(&l);
	ebs_limiter_release(&l, 1);
	ck_assert_uint_eq(l.limit, 8);
	for (int i = 0; i < 3; i++) {
		ebs_limiter_acquire(&l);
		ebs_limiter_release(&l, 1);
	}
	ck_assert_uint_eq(l.limit, 1);
	ebs_limiter_acquire(&l);
	ebs_limiter_release(&l, 1);
	ck_assert_uint_eq(l.limit, 1); /* never below one */
	ck_assert_uint_eq(l.lowest, 1);
	ck_assert_uint_eq(l.throttled, 5);
	/* Clean answers add one back per 2 * limit of them, up to the ceiling. */
	for (int i = 0; i < 400; i++) {
		ebs_limiter_acquire(&l);
		ebs_limiter_release(&l, 0);
	}
	ck_assert_uint_gt(l.limit, 8);
	ck_assert_uint_le(l.limit, 16);
	ck_assert_uint_eq(l.in_flight, 0);
	ebs_limiter_dispose(&l);
}
END_TEST

START_TEST(pool_reuses_clients)
{
	cp_http_pool *pool;
	cp_http_client *a, *b, *c;
	tu_ok(cp_http_pool_new(&pool, NULL, NULL));
	tu_ok(cp_http_pool_take(pool, &a));
	tu_ok(cp_http_pool_take(pool, &b));
	ck_assert_ptr_ne(a, b);
	cp_http_pool_give(pool, a);
	tu_ok(cp_http_pool_take(pool, &c));
	ck_assert_ptr_eq(a, c); /* the idle one, with its warm connections */
	cp_http_pool_give(pool, b);
	cp_http_pool_give(pool, c);
	cp_http_pool_free(pool);
}
END_TEST

START_TEST(query_parameters_are_encoded)
{
	ec2_params q;
	ec2_params_init(&q, "CreateTags");
	ec2_param(&q, "ResourceId.1", "snap-1");
	cp_tag tags[] = {{"a b", "x&y=z"}, {"k", NULL}, {"sum", "1+1 "}};
	ec2_param_tags(&q, "Tag", tags, 3);
	ck_assert_int_eq(q.rc, 0);
	ck_assert_str_eq(q.form.ptr, "Action=CreateTags&Version=2016-11-15&ResourceId.1=snap-1"
				     "&Tag.1.Key=a+b&Tag.1.Value=x%26y%3Dz&Tag.2.Key=k&Tag.2.Value="
				     "&Tag.3.Key=sum&Tag.3.Value=1%2B1+");
	ec2_params_dispose(&q);
}
END_TEST

START_TEST(checksum_is_base64_sha256)
{
	char sum[64];
	tu_ok(ebs_checksum(sum, "abc", 3));
	ck_assert_str_eq(sum, "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=");
}
END_TEST

START_TEST(config_errors_name_the_field)
{
	cp_ctx *ctx;
	cp_provider *p = NULL;
	tu_ok(cp_ctx_new(&ctx, NULL));
	setenv("AWS_ACCESS_KEY_ID", "AKIAUNITTEST", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "unit-secret", 1);
	ck_assert_int_eq(cp_provider_open(&p, ctx, "aws", "{\"region\": \"x\", \"colour\": 1}"),
			 CP_EINVALID);
	ck_assert_ptr_nonnull(strstr(cp_error_last()->message, "colour"));
	ck_assert_int_eq(cp_provider_open(&p, ctx, "aws", "{\"region\": \"x\", \"regions\": []}"),
			 CP_EINVALID);
	ck_assert_ptr_nonnull(strstr(cp_error_last()->message, "regions"));
	ck_assert_int_eq(
		cp_provider_open(&p, ctx, "aws", "{\"region\": \"x\", \"external_id\": \"e\"}"),
		CP_EINVALID);
	ck_assert_ptr_nonnull(strstr(cp_error_last()->message, "role_arn"));
	tu_ok(cp_provider_open(&p, ctx, "aws", "{\"region\": \"eu-west-1\"}"));
	cp_provider_free(p);
	cp_ctx_free(ctx);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("aws-parts");
	TCase *tc = tcase_create("aws-parts");
	tcase_add_test(tc, limiter_halves_on_throttling_and_grows_back);
	tcase_add_test(tc, pool_reuses_clients);
	tcase_add_test(tc, query_parameters_are_encoded);
	tcase_add_test(tc, checksum_is_base64_sha256);
	tcase_add_test(tc, config_errors_name_the_field);
	suite_add_tcase(s, tc);
	return tu_run(s);
}
