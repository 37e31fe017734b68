/*
 * Cancelling from a progress callback ends a long operation promptly even
 * while a transfer hangs: backup, restore, check --read-data and copy on a
 * gs:// repository (tests/cloudsim/gcs_xml.py), reached through
 * tests/cloudsim/http_proxy.py, which holds chosen requests mid-flight.
 * Afterwards the repository is sound and holds nothing half-written.
 */
#include "cancel.h"
#include "cloudprotect/backup.h"
#include "cloudprotect/provider.h"
#include "cloudprotect/repository.h"
#include "error.h"
#include "http/http.h"
#include "sim.h"
#include "testutil.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define GCS_ID	   "GOOG1CANCELTESTKEYID"
#define GCS_SECRET "sim-secret-for-cancel-tests"
#define PASSWORD   "cancel-test-password"
#define IMAGE_SIZE (3u << 20)
/* Packs above the store's 8 MiB part size go up as multipart uploads. */
#define BIG_IMAGE_SIZE (20u << 20)
#define BIG_PACK_SIZE  ((8u << 20) + (512u << 10))

static tu_sim gcs, proxy;
static char proxy_url[64];
static char *work, *image, *big_image;

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static cp_ctx *new_ctx(void)
{
	cp_ctx_options o;
	tu_ok(cp_ctx_options_init(&o, CP_CTX_OPTIONS_VERSION));
	o.proxy = proxy_url; /* every request goes through the proxy that can hold it */
	o.no_proxy = "";
	o.threads = 2;
	cp_ctx *ctx = NULL;
	tu_ok(cp_ctx_new(&ctx, &o));
	return ctx;
}

static char *repo_url(const char *prefix)
{
	char *u = NULL;
	if (asprintf(&u, "gs://backups/%s?endpoint=http://127.0.0.1:%d", prefix, gcs.port) < 0)
		abort();
	return u;
}

static cp_repository *create_repo_packs(cp_ctx *ctx, const char *prefix, uint32_t pack_size)
{
	cp_repository_create_options o = CP_REPOSITORY_CREATE_OPTIONS_INIT;
	o.chunk_size = 64 * 1024;
	o.pack_size = pack_size;
	o.kdf_n = 1024;
	char *url = repo_url(prefix);
	cp_repository *repo = NULL;
	tu_ok(cp_repository_create(&repo, ctx, url, PASSWORD, &o));
	free(url);
	return repo;
}

static cp_repository *create_repo(cp_ctx *ctx, const char *prefix)
{
	return create_repo_packs(ctx, prefix, 256 * 1024);
}

static int held_requests(void)
{
	cp_buf out = CP_BUF_INIT;
	ck_assert_int_eq(tu_sim_get(&proxy, "/_proxy/stats", &out), 200);
	const char *p = strstr(out.ptr, "\"stalled\": ");
	int n = p ? (int)strtol(p + 11, NULL, 10) : -1;
	cp_buf_dispose(&out);
	return n;
}

/* Requests the proxy saw with this method whose target contains part. */
static int proxied(const char *method, const char *part)
{
	cp_buf log = CP_BUF_INIT;
	ck_assert_int_eq(tu_sim_get(&proxy, "/_proxy/log", &log), 200);
	char needle[64];
	snprintf(needle, sizeof(needle), "{\"method\": \"%s\", \"target\": \"", method);
	int n = 0;
	for (const char *p = log.ptr; p && (p = strstr(p, needle)); p++) {
		const char *end = strchr(p, '}');
		const char *hit = strstr(p, part);
		if (hit && end && hit < end)
			n++;
	}
	cp_buf_dispose(&log);
	return n;
}

static void hold(const char *method, const char *contains)
{
	char rule[256];
	snprintf(rule, sizeof(rule), "{\"method\": \"%s\", \"contains\": \"%s\", \"seconds\": 60}",
		 method, contains);
	tu_sim_post(&proxy, "/_proxy/stall", rule);
}

static void release(void)
{
	tu_sim_post(&proxy, "/_proxy/reset", "{}");
}

/* Cancels as soon as the proxy holds a request of ours, and remembers when. */
typedef struct {
	double cancelled_at;
	unsigned int calls;
} canceller;

static int cancel_when_held(const cp_progress *p, void *payload)
{
	canceller *c = payload;
	c->calls++;
	if (c->cancelled_at > 0)
		return 1;
	if (held_requests() > 0) {
		c->cancelled_at = now_s();
		return 1;
	}
	return 0;
}

static void assert_prompt_cancel(int rc, const canceller *c, const char *what)
{
	double late = now_s() - c->cancelled_at;
	ck_assert_msg(c->cancelled_at > 0, "%s: the proxy never held a request (rc %d: %s)", what,
		      rc, tu_last_message());
	ck_assert_msg(rc == CP_ECANCELLED, "%s: rc %d (%s), expected CP_ECANCELLED", what, rc,
		      tu_last_message());
	ck_assert_msg(strstr(cp_error_last()->message, "cancel"), "%s: %s", what,
		      cp_error_last()->message);
	ck_assert_msg(late < 2.0, "%s returned %.2f s after the cancel", what, late);
}

static void assert_sound(cp_repository *repo, uint64_t backups)
{
	cp_check_options co = CP_CHECK_OPTIONS_INIT;
	co.read_data = 1;
	cp_check_result res;
	tu_ok(cp_check(repo, &co, NULL, NULL, &res));
	ck_assert_uint_eq(res.problems, 0);
	ck_assert_uint_eq(res.backups, backups);
}

static char *backup_file(cp_repository *repo, const char *path, cp_progress_cb cb, void *payload,
			 int *rc)
{
	cp_block_reader *src = NULL;
	tu_ok(cp_block_reader_open_file(&src, path));
	cp_backup_options o = CP_BACKUP_OPTIONS_INIT;
	o.source = "disk.img";
	o.progress_cb = cb;
	o.progress_payload = payload;
	char *id = NULL;
	*rc = cp_backup_create(&id, NULL, repo, src, &o);
	cp_block_reader_free(src);
	return id;
}

static char *backup_image(cp_repository *repo, cp_progress_cb cb, void *payload, int *rc)
{
	return backup_file(repo, image, cb, payload, rc);
}

typedef struct {
	atomic_int flag;
	double raised_at;
} raiser;

static void *raise_later(void *arg)
{
	raiser *r = arg;
	struct timespec pause = {0, 400 * 1000000L};
	nanosleep(&pause, NULL);
	r->raised_at = now_s();
	atomic_store(&r->flag, CP_ECANCELLED);
	return NULL;
}

START_TEST(transfer_in_flight_ends_when_its_thread_is_cancelled)
{
	cp_ctx *ctx = new_ctx();
	cp_http_client *c = NULL;
	tu_ok(cp_http_client_new(&c, ctx, NULL)); /* NULL options: the context's, proxy included */
	hold("GET", "/held-object");
	char url[128];
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/backups/held-object", gcs.port);
	raiser r = {0};
	atomic_init(&r.flag, 0);
	cp_cancel_watch(&r.flag);
	pthread_t th;
	ck_assert_int_eq(pthread_create(&th, NULL, raise_later, &r), 0);
	cp_http_request req = {.method = "GET", .url = url};
	cp_http_response resp = CP_HTTP_RESPONSE_INIT;
	int rc = cp_http_perform(c, &req, &resp);
	double late = now_s() - r.raised_at;
	pthread_join(th, NULL);
	ck_assert_int_eq(rc, CP_ECANCELLED);
	ck_assert_msg(strstr(cp_error_last()->message, "in flight"), "%s",
		      cp_error_last()->message);
	ck_assert_msg(late < 1.0, "the transfer ended %.2f s after the cancel", late);
	ck_assert_int_eq(held_requests(), 1);

	/* Once cancelled, nothing new starts. */
	cp_buf log = CP_BUF_INIT;
	tu_sim_get(&proxy, "/_proxy/stats", &log);
	char *before = strdup(log.ptr);
	req.url = url;
	ck_assert_int_eq(cp_http_perform(c, &req, &resp), CP_ECANCELLED);
	ck_assert_ptr_nonnull(strstr(cp_error_last()->message, "before it started"));
	tu_sim_get(&proxy, "/_proxy/stats", &log);
	ck_assert_str_eq(before, log.ptr);
	cp_cancel_watch(NULL);
	release();
	free(before);
	cp_buf_dispose(&log);
	cp_http_request_dispose(&req);
	cp_http_response_dispose(&resp);
	cp_http_client_free(c);
	cp_ctx_free(ctx);
}
END_TEST

START_TEST(backup_cancelled_while_an_upload_hangs)
{
	cp_ctx *ctx = new_ctx();
	cp_repository *repo = create_repo_packs(ctx, "backup", BIG_PACK_SIZE);
	hold("PUT", "/backup/data/");
	canceller c = {0};
	int rc = 0;
	char *id = backup_file(repo, big_image, cancel_when_held, &c, &rc);
	assert_prompt_cancel(rc, &c, "backup");
	ck_assert_ptr_null(id);
	/* The held part's multipart upload was aborted, not left to linger. */
	ck_assert_int_ge(proxied("PUT", "uploadId="), 1);
	ck_assert_int_ge(proxied("DELETE", "/backup/data/"), 1);
	release();

	/* No backup appeared, the repository checks clean, and the lock is gone. */
	assert_sound(repo, 0);
	id = backup_image(repo, NULL, NULL, &rc);
	tu_ok(rc);
	assert_sound(repo, 1);
	cp_free(id);
	cp_repository_close(repo);
	cp_ctx_free(ctx);
}
END_TEST

/*
 * After the workers end, the last pack, the index and the manifest are
 * stored with no worker reading: the callback must still run and its
 * cancel must end whichever of them hangs. One pack larger than the image
 * makes the only pack upload the last one.
 */
static const char *const finishing_puts[] = {"data", "index", "manifests"};

START_TEST(backup_cancelled_while_finishing)
{
	const char *dir = finishing_puts[_i];
	char prefix[32], held[64];
	snprintf(prefix, sizeof(prefix), "finish-%s", dir);
	snprintf(held, sizeof(held), "/%s/%s/", prefix, dir);
	release(); /* nothing held or logged by an earlier case */
	cp_ctx *ctx = new_ctx();
	cp_repository *repo = create_repo_packs(ctx, prefix, 16u << 20);
	hold("PUT", held);
	canceller c = {0};
	int rc = 0;
	char *id = backup_image(repo, cancel_when_held, &c, &rc);
	assert_prompt_cancel(rc, &c, held);
	ck_assert_ptr_null(id);
	ck_assert_int_ge(proxied("PUT", held), 1);
	/* Nothing after the held step was attempted: no manifest when a pack or index hung. */
	if (strcmp(dir, "manifests")) {
		snprintf(held, sizeof(held), "/%s/manifests/", prefix);
		ck_assert_int_eq(proxied("PUT", held), 0);
	}
	release();

	/* No backup was recorded, the repository checks clean, and the next backup works. */
	cp_backup_list list;
	tu_ok(cp_backup_list_get(&list, repo));
	ck_assert_uint_eq(list.count, 0);
	cp_backup_list_dispose(&list);
	assert_sound(repo, 0);
	id = backup_image(repo, NULL, NULL, &rc);
	tu_ok(rc);
	assert_sound(repo, 1);
	cp_free(id);
	cp_repository_close(repo);
	cp_ctx_free(ctx);
}
END_TEST

START_TEST(restore_and_check_cancelled_while_a_download_hangs)
{
	cp_ctx *ctx = new_ctx();
	cp_repository *repo = create_repo(ctx, "restore");
	int rc = 0;
	char *id = backup_image(repo, NULL, NULL, &rc);
	tu_ok(rc);

	hold("GET", "/restore/data/");
	char *target = NULL;
	ck_assert_int_ge(asprintf(&target, "%s/restored.img", work), 0);
	cp_block_writer *w = NULL;
	tu_ok(cp_block_writer_open_file(&w, target, IMAGE_SIZE));
	cp_restore_options ro = CP_RESTORE_OPTIONS_INIT;
	canceller c = {0};
	ro.progress_cb = cancel_when_held;
	ro.progress_payload = &c;
	rc = cp_restore(repo, id, w, &ro);
	assert_prompt_cancel(rc, &c, "restore");
	cp_block_writer_free(w);
	release();

	/* Before the data: a hung manifest download yields to the cancel too. */
	hold("GET", "/restore/manifests/");
	tu_ok(cp_block_writer_open_file(&w, target, IMAGE_SIZE));
	canceller c1 = {0};
	ro.progress_payload = &c1;
	rc = cp_restore(repo, id, w, &ro);
	assert_prompt_cancel(rc, &c1, "restore (manifest)");
	cp_block_writer_free(w);
	release();
	hold("GET", "/restore/data/");

	cp_check_options co = CP_CHECK_OPTIONS_INIT;
	co.read_data = 1;
	canceller c2 = {0};
	co.progress_cb = cancel_when_held;
	co.progress_payload = &c2;
	cp_check_result res;
	rc = cp_check(repo, &co, NULL, NULL, &res);
	assert_prompt_cancel(rc, &c2, "check --read-data");
	release();

	/* The structure phase too: a hung index download yields to the cancel. */
	hold("GET", "/restore/index/");
	co.read_data = 0;
	canceller c3 = {0};
	co.progress_payload = &c3;
	rc = cp_check(repo, &co, NULL, NULL, &res);
	assert_prompt_cancel(rc, &c3, "check");
	release();
	assert_sound(repo, 1);
	free(target);
	cp_free(id);
	cp_repository_close(repo);
	cp_ctx_free(ctx);
}
END_TEST

START_TEST(copy_cancelled_while_an_upload_hangs)
{
	cp_ctx *ctx = new_ctx();
	cp_repository *src = create_repo(ctx, "copysrc");
	cp_repository *dst = create_repo(ctx, "copydst");
	int rc = 0;
	char *id = backup_image(src, NULL, NULL, &rc);
	tu_ok(rc);
	hold("PUT", "/copydst/data/");
	canceller c = {0};
	rc = cp_backup_copy(dst, src, NULL, cancel_when_held, &c);
	assert_prompt_cancel(rc, &c, "copy");
	release();
	assert_sound(dst, 0);
	assert_sound(src, 1);
	cp_free(id);
	cp_repository_close(dst);
	cp_repository_close(src);
	cp_ctx_free(ctx);
}
END_TEST

/* The copy's manifest goes up after its fetch workers ended; a cancel still ends it. */
START_TEST(copy_cancelled_while_its_manifest_hangs)
{
	release();
	cp_ctx *ctx = new_ctx();
	cp_repository *src = create_repo(ctx, "copyfinsrc");
	cp_repository *dst = create_repo(ctx, "copyfindst");
	int rc = 0;
	char *id = backup_image(src, NULL, NULL, &rc);
	tu_ok(rc);
	hold("PUT", "/copyfindst/manifests/");
	canceller c = {0};
	rc = cp_backup_copy(dst, src, NULL, cancel_when_held, &c);
	assert_prompt_cancel(rc, &c, "copy's manifest");
	release();
	assert_sound(dst, 0);
	tu_ok(cp_backup_copy(dst, src, NULL, NULL, NULL));
	assert_sound(dst, 1);
	cp_free(id);
	cp_repository_close(dst);
	cp_repository_close(src);
	cp_ctx_free(ctx);
}
END_TEST

static void write_random_file(const char *path, size_t size, uint64_t seed);

/* Prune's repack uploads run on a worker too: a cancel ends a hung one, and nothing is deleted. */
START_TEST(prune_cancelled_while_a_repack_upload_hangs)
{
	release();
	cp_ctx *ctx = new_ctx();
	cp_repository *repo = create_repo(ctx, "prune");
	int rc = 0;
	char *first = backup_image(repo, NULL, NULL, &rc);
	tu_ok(rc);
	/* Two of every three chunks rewritten: the first backup's packs end up mostly unused. */
	char *second_image = NULL, *other = NULL;
	ck_assert_int_ge(asprintf(&second_image, "%s/prune2.img", work), 0);
	ck_assert_int_ge(asprintf(&other, "%s/prune-other.img", work), 0);
	write_random_file(other, IMAGE_SIZE, 11);
	FILE *a = fopen(image, "rb"), *b = fopen(other, "rb"), *out = fopen(second_image, "wb");
	ck_assert(a && b && out);
	char buf[64 * 1024], alt[64 * 1024];
	for (size_t i = 0; i < IMAGE_SIZE / sizeof(buf); i++) {
		ck_assert_uint_eq(fread(buf, 1, sizeof(buf), a), sizeof(buf));
		ck_assert_uint_eq(fread(alt, 1, sizeof(alt), b), sizeof(alt));
		ck_assert_uint_eq(fwrite(i % 3 ? alt : buf, 1, sizeof(buf), out), sizeof(buf));
	}
	fclose(a);
	fclose(b);
	ck_assert_int_eq(fclose(out), 0);
	char *second = backup_file(repo, second_image, NULL, NULL, &rc);
	tu_ok(rc);
	const char *ids[] = {first, NULL};
	tu_ok(cp_forget(repo, NULL, ids, NULL, NULL));

	release(); /* a fresh log: what prune sends */
	hold("PUT", "/prune/data/");
	cp_prune_options po = CP_PRUNE_OPTIONS_INIT;
	canceller c = {0};
	po.progress_cb = cancel_when_held;
	po.progress_payload = &c;
	cp_prune_stats st;
	rc = cp_prune(repo, &po, &st);
	assert_prompt_cancel(rc, &c, "prune");
	ck_assert_int_eq(proxied("DELETE", "/prune/index/"), 0);
	ck_assert_int_eq(proxied("DELETE", "/prune/manifests/"), 0);
	ck_assert_int_ge(proxied("PUT", "/prune/data/"), 1);
	ck_assert_int_eq(proxied("DELETE", "/prune/data/"), 0);
	release();
	assert_sound(repo, 1);

	/* Uncancelled, the same prune repacks and frees space. */
	po.progress_cb = NULL;
	tu_ok(cp_prune(repo, &po, &st));
	ck_assert_uint_ge(st.packs_rewritten, 1);
	assert_sound(repo, 1);
	cp_free(first);
	cp_free(second);
	free(second_image);
	free(other);
	cp_repository_close(repo);
	cp_ctx_free(ctx);
}
END_TEST

/* Not tu_write_sparse: check's asserts only work inside a test. */
static void write_random_file(const char *path, size_t size, uint64_t seed)
{
	char *data = malloc(size);
	FILE *f = fopen(path, "wb");
	if (!data || !f)
		abort();
	tu_fill_random(data, size, seed);
	if (fwrite(data, 1, size, f) != size || fclose(f))
		abort();
	free(data);
}

int main(void)
{
	static const char *const unset[] = {"http_proxy", "https_proxy", "HTTPS_PROXY",
					    "HTTP_PROXY", "all_proxy",	 "ALL_PROXY",
					    "no_proxy",	  "NO_PROXY"};
	for (size_t i = 0; i < sizeof(unset) / sizeof(unset[0]); i++)
		unsetenv(unset[i]);
	setenv("GCS_HMAC_ACCESS_ID", GCS_ID, 1);
	setenv("GCS_HMAC_SECRET", GCS_SECRET, 1);
	work = tu_tempdir("cancel");
	if (asprintf(&image, "%s/disk.img", work) < 0)
		abort();
	if (asprintf(&big_image, "%s/big.img", work) < 0)
		abort();
	write_random_file(image, IMAGE_SIZE, 7);
	write_random_file(big_image, BIG_IMAGE_SIZE, 8);
	static const char key[] = GCS_ID ":" GCS_SECRET;
	const char *args[] = {"--key", key, "--bucket", "backups", NULL};
	tu_sim_start(&gcs, NULL, "gcs_xml.py", args);
	tu_sim_start(&proxy, NULL, "http_proxy.py", NULL);
	snprintf(proxy_url, sizeof(proxy_url), "http://127.0.0.1:%d", proxy.port);

	Suite *s = suite_create("cancel");
	TCase *tc = tcase_create("cancel");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, transfer_in_flight_ends_when_its_thread_is_cancelled);
	tcase_add_test(tc, backup_cancelled_while_an_upload_hangs);
	tcase_add_loop_test(tc, backup_cancelled_while_finishing, 0,
			    sizeof(finishing_puts) / sizeof(finishing_puts[0]));
	tcase_add_test(tc, restore_and_check_cancelled_while_a_download_hangs);
	tcase_add_test(tc, copy_cancelled_while_an_upload_hangs);
	tcase_add_test(tc, copy_cancelled_while_its_manifest_hangs);
	tcase_add_test(tc, prune_cancelled_while_a_repack_upload_hangs);
	suite_add_tcase(s, tc);
	int rc = tu_run(s);
	tu_sim_stop(&proxy);
	tu_sim_stop(&gcs);
	tu_rmtree(work);
	free(work);
	free(image);
	free(big_image);
	return rc;
}
