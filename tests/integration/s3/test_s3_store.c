/*
 * The s3:// store through the object store API against a real S3 server
 * (run by s3_store.sh, which starts RGW and creates the buckets named
 * below): listing across pages, ranged reads, create-only puts, streaming
 * multipart uploads and their abort, deletes in versioned buckets, Object
 * Lock retention, settings checks and credential errors.
 */
#include "cloudprotect.h"
#include "cloudprotect/sys/objstore.h"
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static char *url_of(const char *bucket_and_prefix)
{
	static char url[512];
	snprintf(url, sizeof(url), "s3://%s?endpoint=%s", bucket_and_prefix, getenv("S3_ENDPOINT"));
	return url;
}

static cp_objstore *open_store(const char *bucket_and_prefix, int create)
{
	cp_objstore *s = NULL;
	tu_ok(cp_objstore_open(&s, NULL, url_of(bucket_and_prefix), create));
	return s;
}

typedef struct {
	size_t n;
	int bad;
} counted;

static int count_key(const char *key, const cp_object_info *info, void *payload)
{
	counted *c = payload;
	if (strncmp(key, "many/", 5) || info->size != strlen(key))
		c->bad++;
	c->n++;
	return 0;
}

START_TEST(list_pages_through_more_than_a_thousand_keys)
{
	cp_objstore *s = open_store("plain-bucket/paged", 0);
	char key[64];
	for (int i = 0; i < 1010; i++) {
		snprintf(key, sizeof(key), "many/%04d", i);
		tu_ok(cp_objstore_put(s, key, key, strlen(key), NULL));
	}
	tu_ok(cp_objstore_put(s, "other", "x", 1, NULL));
	counted c = {0};
	tu_ok(cp_objstore_list(s, "many/", count_key, &c));
	ck_assert_uint_eq(c.n, 1010);
	ck_assert_int_eq(c.bad, 0);
	cp_objstore_close(s);
}
END_TEST

START_TEST(put_get_head_ranges_and_create_only)
{
	cp_objstore *s = open_store("plain-bucket/basic/", 0);
	static char data[100000];
	tu_fill_random(data, sizeof(data), 7);
	cp_put_options po = CP_PUT_OPTIONS_INIT;
	po.create_only = 1;
	tu_ok(cp_objstore_put(s, "dir/obj", data, sizeof(data), &po));
	ck_assert_int_eq(cp_objstore_put(s, "dir/obj", data, 10, &po), CP_EEXISTS);
	cp_buf out = CP_BUF_INIT;
	tu_ok(cp_objstore_get(s, "dir/obj", 0, 0, &out));
	ck_assert_uint_eq(out.size, sizeof(data));
	ck_assert(!memcmp(out.ptr, data, sizeof(data)));
	tu_ok(cp_objstore_get(s, "dir/obj", 99990, 10, &out));
	ck_assert_uint_eq(out.size, 10);
	ck_assert(!memcmp(out.ptr, data + 99990, 10));
	tu_ok(cp_objstore_get(s, "dir/obj", 50000, 0, &out));
	ck_assert_uint_eq(out.size, 50000);
	ck_assert(!memcmp(out.ptr, data + 50000, 50000));
	ck_assert_int_eq(cp_objstore_get(s, "dir/obj", 99990, 20, &out), CP_ECORRUPT);
	cp_object_info info;
	tu_ok(cp_objstore_head(s, "dir/obj", &info));
	ck_assert_uint_eq(info.size, sizeof(data));
	ck_assert_str_eq(info.storage_class, "STANDARD");
	ck_assert(info.mtime > time(NULL) - 3600 && info.mtime < time(NULL) + 3600);
	ck_assert_int_eq(cp_objstore_get(s, "dir/none", 0, 0, &out), CP_ENOTFOUND);
	ck_assert_int_eq(cp_objstore_head(s, "dir/none", &info), CP_ENOTFOUND);
	tu_ok(cp_objstore_remove(s, "dir/obj"));
	ck_assert_int_eq(cp_objstore_head(s, "dir/obj", &info), CP_ENOTFOUND);
	ck_assert_int_eq(cp_objstore_remove(s, "dir/obj"), CP_ENOTFOUND);
	cp_buf_dispose(&out);
	cp_objstore_close(s);
}
END_TEST

static int count_any(const char *key, const cp_object_info *info, void *payload)
{
	(*(size_t *)payload)++;
	return 0;
}

START_TEST(streaming_uploads_multipart_and_abort)
{
	cp_objstore *s = open_store("plain-bucket/stream", 0);
	size_t size = 21u * 1024 * 1024 + 12345;
	char *data = malloc(size);
	ck_assert_ptr_nonnull(data);
	tu_fill_random(data, size, 3);
	cp_objstore_writer *w = NULL;
	cp_put_options po = CP_PUT_OPTIONS_INIT;
	tu_ok(cp_objstore_writer_open(s, "big", &po, &w));
	/* Odd write sizes cross part boundaries in every way. */
	for (size_t off = 0; off < size;) {
		size_t n = off % 3 ? 3u * 1024 * 1024 + 17 : 9u * 1024 * 1024;
		if (n > size - off)
			n = size - off;
		tu_ok(cp_objstore_writer_write(w, data + off, n));
		off += n;
	}
	cp_object_info info;
	ck_assert_int_eq(cp_objstore_head(s, "big", &info), CP_ENOTFOUND);
	tu_ok(cp_objstore_writer_commit(w));
	cp_objstore_writer_free(w);
	cp_buf out = CP_BUF_INIT;
	tu_ok(cp_objstore_get(s, "big", 0, 0, &out));
	ck_assert_uint_eq(out.size, size);
	ck_assert(!memcmp(out.ptr, data, size));

	/* Abandoned: parts were sent, yet nothing is visible. */
	tu_ok(cp_objstore_writer_open(s, "abandoned", &po, &w));
	tu_ok(cp_objstore_writer_write(w, data, size));
	cp_objstore_writer_free(w);
	ck_assert_int_eq(cp_objstore_head(s, "abandoned", &info), CP_ENOTFOUND);
	size_t n = 0;
	tu_ok(cp_objstore_list(s, "", count_any, &n));
	ck_assert_uint_eq(n, 1);

	/* Small objects go up whole at commit; create-only refuses an existing key. */
	tu_ok(cp_objstore_writer_open(s, "small", &po, &w));
	tu_ok(cp_objstore_writer_write(w, "abc", 3));
	tu_ok(cp_objstore_writer_commit(w));
	cp_objstore_writer_free(w);
	po.create_only = 1;
	ck_assert_int_eq(cp_objstore_writer_open(s, "small", &po, &w), CP_EEXISTS);
	tu_ok(cp_objstore_get(s, "small", 0, 0, &out));
	ck_assert_uint_eq(out.size, 3);
	free(data);
	cp_buf_dispose(&out);
	cp_objstore_close(s);
}
END_TEST

START_TEST(delete_in_a_versioned_bucket_means_gone)
{
	cp_objstore *s = open_store("versioned-bucket/v", 0);
	tu_ok(cp_objstore_put(s, "k", "one", 3, NULL));
	tu_ok(cp_objstore_put(s, "k", "two", 3, NULL));
	tu_ok(cp_objstore_remove(s, "k"));
	cp_object_info info;
	/* Neither a delete marker nor the older version brings it back. */
	ck_assert_int_eq(cp_objstore_head(s, "k", &info), CP_ENOTFOUND);
	cp_buf out = CP_BUF_INIT;
	ck_assert_int_eq(cp_objstore_get(s, "k", 0, 0, &out), CP_ENOTFOUND);
	cp_objstore_close(s);
}
END_TEST

START_TEST(object_lock_retention_extends_never_shortens)
{
	cp_objstore *s = open_store("locked-bucket/r", 0);
	int64_t now = (int64_t)time(NULL);
	cp_put_options po = CP_PUT_OPTIONS_INIT;
	po.retain_until = now + 1000;
	tu_ok(cp_objstore_put(s, "small", "x", 1, &po));
	cp_object_info info;
	tu_ok(cp_objstore_head(s, "small", &info));
	ck_assert_int_eq(info.retain_until, now + 1000);
	tu_ok(cp_objstore_retain(s, "small", now + 500));
	tu_ok(cp_objstore_head(s, "small", &info));
	ck_assert_int_eq(info.retain_until, now + 1000);
	tu_ok(cp_objstore_retain(s, "small", now + 2000));
	tu_ok(cp_objstore_head(s, "small", &info));
	ck_assert_int_eq(info.retain_until, now + 2000);
	ck_assert_int_eq(cp_objstore_remove(s, "small"), CP_ELOCKED);
	ck_assert_ptr_nonnull(strstr(cp_error_last()->message, "locked until"));
	tu_ok(cp_objstore_head(s, "small", &info));

	/* Multipart uploads get their lock too (RGW ignores it on create). */
	size_t size = 10u * 1024 * 1024;
	char *data = calloc(1, size);
	cp_objstore_writer *w = NULL;
	tu_ok(cp_objstore_writer_open(s, "large", &po, &w));
	tu_ok(cp_objstore_writer_write(w, data, size));
	tu_ok(cp_objstore_writer_commit(w));
	cp_objstore_writer_free(w);
	tu_ok(cp_objstore_head(s, "large", &info));
	ck_assert_int_eq(info.retain_until, now + 1000);
	ck_assert_int_eq(cp_objstore_remove(s, "large"), CP_ELOCKED);
	free(data);
	cp_objstore_close(s);
}
END_TEST

START_TEST(settings_follow_the_class_and_lock_rules)
{
	cp_objstore *plain = open_store("plain-bucket/settings", 0);
	cp_objstore *locked = open_store("locked-bucket/settings", 0);
	cp_objstore_settings st = CP_OBJSTORE_SETTINGS_INIT;
	const char *refused[] = {"STANDARD_IA", "ONEZONE_IA", "GLACIER_IR", "INTELLIGENT_TIERING",
				 "COLD"};
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		st.storage_class = refused[i];
		ck_assert_int_eq(cp_objstore_check_settings(plain, &st, 1), CP_EINVALID);
		ck_assert_ptr_nonnull(strstr(cp_error_last()->message, refused[i]));
	}
	const char *allowed[] = {"STANDARD", "GLACIER", "DEEP_ARCHIVE"};
	for (size_t i = 0; i < 3; i++) {
		st.storage_class = allowed[i];
		tu_ok(cp_objstore_check_settings(plain, &st, 1));
	}
	st.storage_class = NULL;
	st.immutable_days = 7;
	ck_assert_int_eq(cp_objstore_check_settings(plain, &st, 1), CP_EUNSUPPORTED);
	ck_assert_ptr_nonnull(strstr(cp_error_last()->message, "retrofitted"));
	tu_ok(cp_objstore_check_settings(locked, &st, 1));
	cp_objstore_close(plain);
	cp_objstore_close(locked);
}
END_TEST

START_TEST(open_creates_missing_buckets_only_when_asked)
{
	cp_objstore *s = NULL;
	ck_assert_int_eq(cp_objstore_open(&s, NULL, url_of("fresh-bucket/x"), 0), CP_ENOTFOUND);
	ck_assert_ptr_nonnull(strstr(cp_error_last()->message, "fresh-bucket"));
	s = open_store("fresh-bucket/x", 1);
	tu_ok(cp_objstore_put(s, "k", "v", 1, NULL));
	cp_objstore_close(s);
	ck_assert_int_eq(cp_objstore_open(&s, NULL, "s3://UPPER/x", 0), CP_EINVALID);
	ck_assert_int_eq(cp_objstore_open(&s, NULL, "s3://plain-bucket/x?style=odd", 0),
			 CP_EINVALID);
}
END_TEST

START_TEST(endpoint_and_region_come_from_the_environment_too)
{
	cp_objstore *s = NULL;
	const char *endpoint = getenv("S3_ENDPOINT");
	ck_assert_ptr_nonnull(endpoint);
	unsetenv("AWS_ENDPOINT_URL_S3");
	setenv("AWS_ENDPOINT_URL", endpoint, 1);
	tu_ok(cp_objstore_open(&s, NULL, "s3://plain-bucket/env", 0));
	tu_ok(cp_objstore_put(s, "k", "v", 1, NULL));
	cp_objstore_close(s);
	/* The S3-specific variable wins over the general one, as in the AWS SDKs. */
	setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1", 1);
	setenv("AWS_ENDPOINT_URL_S3", endpoint, 1);
	tu_ok(cp_objstore_open(&s, NULL, "s3://plain-bucket/env?region=eu-west-3", 0));
	cp_object_info info;
	tu_ok(cp_objstore_head(s, "k", &info));
	ck_assert_uint_eq(info.size, 1);
	cp_objstore_close(s);
}
END_TEST

START_TEST(bad_credentials_name_the_key_id_not_the_secret)
{
	setenv("AWS_SECRET_ACCESS_KEY", "wrong-secret-0123456789", 1);
	cp_objstore *s = NULL;
	ck_assert_int_eq(cp_objstore_open(&s, NULL, url_of("plain-bucket/x"), 0), CP_EAUTH);
	const char *msg = cp_error_last()->message;
	const char *key_id = getenv("AWS_ACCESS_KEY_ID");
	ck_assert_ptr_nonnull(key_id);
	ck_assert_ptr_nonnull(strstr(msg, key_id));
	ck_assert_ptr_null(strstr(msg, "wrong-secret"));
}
END_TEST

int main(void)
{
	if (!getenv("S3_ENDPOINT")) {
		fprintf(stderr, "S3_ENDPOINT is not set; run this through s3_store.sh\n");
		return 1;
	}
	Suite *s = suite_create("s3-store");
	TCase *tc = tcase_create("rgw");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, list_pages_through_more_than_a_thousand_keys);
	tcase_add_test(tc, put_get_head_ranges_and_create_only);
	tcase_add_test(tc, streaming_uploads_multipart_and_abort);
	tcase_add_test(tc, delete_in_a_versioned_bucket_means_gone);
	tcase_add_test(tc, object_lock_retention_extends_never_shortens);
	tcase_add_test(tc, settings_follow_the_class_and_lock_rules);
	tcase_add_test(tc, open_creates_missing_buckets_only_when_asked);
	tcase_add_test(tc, endpoint_and_region_come_from_the_environment_too);
	tcase_add_test(tc, bad_credentials_name_the_key_id_not_the_secret);
	suite_add_tcase(s, tc);
	return tu_run(s);
}
