/* The format's building blocks: index table, bitmap, codec, config, key files, manifests, locks. */
#include "fmtutil.h"

#include "format/bytes.h"
#include "format/codec.h"
#include "format/config.h"
#include "format/index_table.h"
#include "format/keyfile.h"
#include "format/lock.h"
#include "format/manifest.h"
#include "job/bitmap.h"

#include <stdlib.h>
#include <string.h>

START_TEST(index_table_finds_what_it_holds)
{
	cp_index_table t;
	tu_ok(cp_index_table_init(&t));
	const int n = 100000;
	uint8_t id[CP_ID_LEN];
	for (int i = 0; i < n; i++) {
		tu_fill_random(id, sizeof(id), (uint64_t)i);
		cp_chunk_loc loc = {(uint32_t)i % 7, (uint32_t)i, 100, 4096};
		int inserted = 0;
		tu_ok(cp_index_table_insert(&t, id, &loc, NULL, &inserted));
		ck_assert_int_eq(inserted, 1);
	}
	ck_assert_uint_eq(t.count, (size_t)n);
	for (int i = 0; i < n; i += 7) {
		tu_fill_random(id, sizeof(id), (uint64_t)i);
		cp_index_entry *e = cp_index_table_find(&t, id);
		ck_assert_ptr_nonnull(e);
		ck_assert_uint_eq(e->loc.offset, (uint32_t)i);
		/* A second insert keeps the first location. */
		cp_chunk_loc other = {1, 1, 1, 1};
		int inserted = 1;
		tu_ok(cp_index_table_insert(&t, id, &other, NULL, &inserted));
		ck_assert_int_eq(inserted, 0);
		ck_assert_uint_eq(cp_index_table_find(&t, id)->loc.offset, (uint32_t)i);
	}
	for (int i = n; i < n + 1000; i++) {
		tu_fill_random(id, sizeof(id), (uint64_t)i);
		ck_assert_ptr_null(cp_index_table_find(&t, id));
	}
	/* Compact: 48-byte entries plus the hash, under 60 bytes a chunk. */
	size_t bytes = t.count * sizeof(cp_index_entry) + (t.entries.mask + 1) * 4;
	ck_assert_uint_le(bytes / (size_t)n, 60);
	ck_assert_uint_eq(sizeof(cp_index_entry), 48);
	for (int p = 0; p < 300; p++) {
		uint32_t num = 0;
		tu_fill_random(id, sizeof(id), 1000000 + (uint64_t)p);
		tu_ok(cp_index_table_add_pack(&t, id, (uint64_t)p, &num));
		ck_assert_uint_eq(num, (uint32_t)p);
	}
	tu_fill_random(id, sizeof(id), 1000000 + 42);
	ck_assert_uint_eq(cp_index_table_pack_number(&t, id), 42);
	ck_assert_uint_eq(t.packs[42].size, 42);
	cp_index_table_dispose(&t);
}
END_TEST

START_TEST(bitmap_marks_the_chunks_bytes_touch)
{
	cp_bitmap b;
	tu_ok(cp_bitmap_init(&b, 200));
	cp_bitmap_mark_bytes(&b, 4096, 4095, 2); /* chunks 0 and 1 */
	cp_bitmap_mark_bytes(&b, 4096, 64 * 4096, 0);
	cp_bitmap_mark_bytes(&b, 4096, 130 * 4096 + 1, UINT64_MAX); /* to the end */
	cp_bitmap_mark_bytes(&b, 4096, 500 * 4096, 10);		    /* past the end */
	ck_assert(cp_bitmap_test(&b, 0) && cp_bitmap_test(&b, 1) && !cp_bitmap_test(&b, 2));
	ck_assert(!cp_bitmap_test(&b, 64));
	ck_assert_uint_eq(cp_bitmap_next(&b, 2), 130);
	ck_assert(cp_bitmap_test(&b, 199) && !cp_bitmap_test(&b, 200));
	uint64_t count = 0;
	for (uint64_t i = cp_bitmap_next(&b, 0); i < b.nbits; i = cp_bitmap_next(&b, i + 1))
		count++;
	ck_assert_uint_eq(count, 2 + 70);
	cp_bitmap_dispose(&b);
}
END_TEST

START_TEST(codec_round_trips_and_rejects_damage)
{
	uint8_t key[32] = {9};
	cp_codec c;
	tu_ok(cp_codec_init(&c, key, 3));
	char text[8192];
	for (size_t i = 0; i < sizeof(text); i++)
		text[i] = "abcabcabd"[i % 9];
	cp_buf sealed = CP_BUF_INIT, out = CP_BUF_INIT;
	tu_ok(cp_codec_seal(&c, "aad", 3, text, sizeof(text), 1, &sealed));
	ck_assert_uint_lt(sealed.size, sizeof(text) / 4); /* compressed */
	tu_ok(cp_codec_open(&c, "aad", 3, sealed.ptr, sealed.size, sizeof(text), sizeof(text),
			    &out));
	ck_assert(out.size == sizeof(text) && !memcmp(out.ptr, text, sizeof(text)));
	ck_assert_int_eq(cp_codec_open(&c, "aae", 3, sealed.ptr, sealed.size, 1 << 20, 0, &out),
			 CP_ECORRUPT);
	ck_assert_int_eq(
		cp_codec_open(&c, "aad", 3, sealed.ptr, sealed.size, sizeof(text) - 1, 0, &out),
		CP_ECORRUPT);
	ck_assert_int_eq(cp_codec_open(&c, "aad", 3, sealed.ptr, sealed.size, 1 << 20,
				       sizeof(text) + 1, &out),
			 CP_ECORRUPT);
	for (size_t i = 0; i < sealed.size; i += 7) {
		sealed.ptr[i] ^= 1;
		ck_assert_int_eq(
			cp_codec_open(&c, "aad", 3, sealed.ptr, sealed.size, 1 << 20, 0, &out),
			CP_ECORRUPT);
		sealed.ptr[i] ^= 1;
	}
	/* Random data is kept raw: overhead is exactly nonce, marker and tag. */
	tu_fill_random(text, sizeof(text), 3);
	tu_ok(cp_codec_seal(&c, NULL, 0, text, sizeof(text), 1, &sealed));
	ck_assert_uint_eq(sealed.size, sizeof(text) + 29);
	cp_buf_dispose(&sealed);
	cp_buf_dispose(&out);
	cp_codec_dispose(&c);
}
END_TEST

START_TEST(config_and_key_files_validate)
{
	cp_config cfg;
	memset(&cfg, 0, sizeof(cfg));
	cfg.version = 1;
	memset(cfg.id, 'f', 64);
	cfg.chunk_size = 1u << 19;
	cfg.pack_size = 1u << 24;
	cfg.compression_level = 3;
	cp_buf b = CP_BUF_INIT;
	tu_ok(cp_config_write(&cfg, &b));
	cp_config back;
	tu_ok(cp_config_parse(&back, b.ptr, b.size));
	ck_assert_uint_eq(back.chunk_size, cfg.chunk_size);
	char *newer = strdup(b.ptr);
	char *v = strstr(newer, "\"version\": 1");
	ck_assert_ptr_nonnull(v);
	v[11] = '7';
	ck_assert_int_eq(cp_config_parse(&back, newer, strlen(newer)), CP_EUNSUPPORTED);
	ck_assert_ptr_nonnull(strstr(cp_error_last()->message, "upgrade"));
	free(newer);
	ck_assert_int_eq(cp_config_parse(&back, "{\"format\":1}", 12), CP_EINVALID);
	ck_assert_int_eq(cp_config_parse(&back, "not json", 8), CP_EINVALID);

	cp_master_keys keys, got;
	memset(&keys, 0x5c, sizeof(keys));
	uint8_t digest[32] = {1, 2, 3}, dgot[32];
	cp_keyfile kf, kf2;
	tu_ok(cp_keyfile_make(&kf, "s3cret", 16, &keys, digest));
	cp_buf_clear(&b);
	tu_ok(cp_keyfile_write(&kf, &b));
	ck_assert_ptr_null(strstr(b.ptr, "s3cret"));
	tu_ok(cp_keyfile_parse(&kf2, b.ptr, b.size));
	ck_assert_int_eq(cp_keyfile_unlock(&kf2, "wrong", &got, dgot), CP_EPASSWORD);
	tu_ok(cp_keyfile_unlock(&kf2, "s3cret", &got, dgot));
	ck_assert(!memcmp(&got, &keys, sizeof(keys)) && !memcmp(dgot, digest, 32));
	cp_buf_dispose(&b);
}
END_TEST

START_TEST(manifests_and_locks_round_trip)
{
	uint8_t key[32] = {1}, other[32] = {2};
	cp_codec c, d;
	tu_ok(cp_codec_init(&c, key, 3));
	tu_ok(cp_codec_init(&d, other, 3));
	cp_map_entry map[3] = {{0, {1}}, {5, {2}}, {9, {3}}};
	cp_manifest m;
	memset(&m, 0, sizeof(m));
	m.source = (char *)"vol-1";
	m.snapshot_id = (char *)"snap-1";
	m.time = 1700000000;
	m.time_nsec = 5;
	m.size = 9 * 4096 + 1;
	m.chunk_size = 4096;
	m.nchunks = 3;
	m.map = map;
	cp_tag tags[] = {{"k", "v"}};
	m.tags = (cp_tag *)tags;
	m.ntags = 1;
	cp_buf obj = CP_BUF_INIT;
	tu_ok(cp_manifest_encode(&c, &m, &obj));
	cp_manifest back;
	tu_ok(cp_manifest_decode(&c, (const uint8_t *)obj.ptr, obj.size, 0, &back, NULL));
	ck_assert_str_eq(back.source, "vol-1");
	ck_assert_str_eq(back.snapshot_id, "snap-1");
	ck_assert_ptr_null(back.parent);
	ck_assert_uint_eq(back.nchunks, 3);
	ck_assert_uint_eq(back.map[1].index, 5);
	ck_assert_int_eq(back.time_nsec, 5);
	ck_assert_str_eq(back.tags[0].value, "v");
	cp_manifest_dispose(&back);
	/* Another repository's key does not open it; a short read asks for more. */
	ck_assert_int_eq(cp_manifest_decode(&d, (const uint8_t *)obj.ptr, obj.size, 0, &back, NULL),
			 CP_ECORRUPT);
	size_t need = 0;
	ck_assert_int_eq(cp_manifest_decode(&c, (const uint8_t *)obj.ptr, 20, 1, &back, &need),
			 CP_EINVALID);
	ck_assert_uint_gt(need, 20);
	tu_ok(cp_manifest_decode(&c, (const uint8_t *)obj.ptr, need, 1, &back, NULL));
	ck_assert_ptr_null(back.map);
	cp_manifest_dispose(&back);
	/* A map that is not sorted, or past the disk's end, is refused. */
	map[2].index = 4;
	tu_ok(cp_manifest_encode(&c, &m, &obj));
	ck_assert_int_eq(cp_manifest_decode(&c, (const uint8_t *)obj.ptr, obj.size, 0, &back, NULL),
			 CP_ECORRUPT);
	map[2].index = 10;
	tu_ok(cp_manifest_encode(&c, &m, &obj));
	ck_assert_int_eq(cp_manifest_decode(&c, (const uint8_t *)obj.ptr, obj.size, 0, &back, NULL),
			 CP_ECORRUPT);

	cp_lock_info l, lb;
	memset(&l, 0, sizeof(l));
	strcpy(l.hostname, "h");
	strcpy(l.operation, "prune");
	l.pid = 77;
	l.expires = 1;
	l.exclusive = 1;
	cp_buf_clear(&obj);
	tu_ok(cp_lock_encode(&l, &obj));
	tu_ok(cp_lock_parse(&lb, obj.ptr, obj.size));
	ck_assert(lb.exclusive && lb.pid == 77 && !strcmp(lb.operation, "prune"));
	ck_assert(cp_lock_is_stale(&lb, "h", 2)); /* expired */
	ck_assert_int_eq(cp_lock_parse(&lb, "{\"pid\":1}", 9), CP_EINVALID);
	cp_buf_dispose(&obj);
	cp_codec_dispose(&c);
	cp_codec_dispose(&d);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("format-objects");
	TCase *tc = tcase_create("objects");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, index_table_finds_what_it_holds);
	tcase_add_test(tc, bitmap_marks_the_chunks_bytes_touch);
	tcase_add_test(tc, codec_round_trips_and_rejects_damage);
	tcase_add_test(tc, config_and_key_files_validate);
	tcase_add_test(tc, manifests_and_locks_round_trip);
	suite_add_tcase(s, tc);
	return tu_run(s);
}
