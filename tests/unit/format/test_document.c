/* Document backups: round trips of odd sizes, tags, refusals, dedup of an unchanged document. */
#include "fmtutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CS (16u * 1024)

static char *doc_backup(cp_repository *repo, const void *data, size_t len, const char *source)
{
	cp_backup_options o = CP_BACKUP_OPTIONS_INIT;
	o.source = source;
	cp_tag tags[] = {{"purpose", "test"}, {"content-type", "text/plain"}};
	o.tags = tags;
	o.ntags = 2;
	char *id = NULL;
	tu_ok(cp_document_backup(&id, repo, "application/json", data, len, &o));
	ck_assert_ptr_nonnull(id);
	return id;
}

static const cp_backup_info *find(const cp_backup_list *l, const char *id)
{
	for (size_t i = 0; i < l->count; i++)
		if (!strcmp(l->items[i].id, id))
			return &l->items[i];
	ck_abort_msg("backup %s not listed", id);
	return NULL;
}

static const char *tag_of(const cp_backup_info *b, const char *key)
{
	for (size_t i = 0; i < b->ntags; i++)
		if (!strcmp(b->tags[i].key, key))
			return b->tags[i].value;
	return NULL;
}

START_TEST(round_trips_of_odd_sizes)
{
	ft_env e;
	ft_setup(&e, "doc", CS, 256 * 1024);
	/* Empty, one byte, one short of a chunk, exact chunks, one past, several and a tail. */
	const size_t sizes[] = {0, 1, CS - 1, CS, CS + 1, 3 * CS + 777};
	for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		size_t len = sizes[k];
		unsigned char *in = malloc(len + 1);
		tu_fill_random(in, len + 1, 40 + k);
		/* A zero chunk in the middle becomes a hole: it must still come back. */
		if (len > 2 * CS)
			memset(in + CS, 0, CS);
		char src[64];
		snprintf(src, sizeof(src), "network:test:%zu", len);
		char *id = doc_backup(e.repo, in, len, src);
		void *out = NULL;
		size_t out_len = 99;
		tu_ok(cp_document_restore(&out, &out_len, e.repo, id));
		ck_assert_uint_eq(out_len, len);
		ck_assert(len == 0 || !memcmp(in, out, len));
		ck_assert_int_eq(((char *)out)[len], 0);

		cp_backup_list l;
		tu_ok(cp_backup_list_get(&l, e.repo));
		const cp_backup_info *b = find(&l, id);
		ck_assert_uint_eq(b->size, len);
		ck_assert_str_eq(b->source, src);
		/* Ours wins over the caller's content-type; the caller's other tags stay. */
		ck_assert_str_eq(tag_of(b, "content-type"), "application/json");
		ck_assert_str_eq(tag_of(b, "purpose"), "test");
		cp_backup_list_dispose(&l);
		cp_free(out);
		free(id);
		free(in);
	}
	ft_teardown(&e);
}
END_TEST

START_TEST(unchanged_document_adds_nothing)
{
	ft_env e;
	ft_setup(&e, "docdedup", CS, 256 * 1024);
	size_t len = 5 * CS + 123;
	char *text = malloc(len);
	tu_fill_random(text, len, 7);
	char *a = doc_backup(e.repo, text, len, "network:aws:us-east-1");
	char *b = doc_backup(e.repo, text, len, "network:aws:us-east-1");
	ck_assert_str_ne(a, b);
	/* One changed byte: only its chunk is new. */
	text[2 * CS + 5] ^= 0x55;
	char *c = doc_backup(e.repo, text, len, "network:aws:us-east-1");
	cp_backup_list l;
	tu_ok(cp_backup_list_get(&l, e.repo));
	ck_assert_uint_gt(find(&l, a)->new_bytes, len / 2);
	ck_assert_uint_eq(find(&l, b)->new_bytes, 0);
	ck_assert_uint_gt(find(&l, c)->new_bytes, 0);
	ck_assert_uint_le(find(&l, c)->new_bytes, CS + 1024);
	cp_backup_list_dispose(&l);
	void *out = NULL;
	size_t out_len = 0;
	tu_ok(cp_document_restore(&out, &out_len, e.repo, c));
	ck_assert_uint_eq(out_len, len);
	ck_assert(!memcmp(out, text, len));
	cp_free(out);
	free(a);
	free(b);
	free(c);
	free(text);
	ft_teardown(&e);
}
END_TEST

START_TEST(refuses_images_unknown_ids_and_huge_documents)
{
	ft_env e;
	ft_setup(&e, "docrefuse", CS, 256 * 1024);
	const char *img = ft_path(&e, "disk.img");
	uint64_t r[] = {0, 3 * CS};
	tu_write_sparse(img, 3 * CS, r, 1, 3);
	char *disk = ft_backup_file(e.repo, img, "disk", NULL, NULL, 0, NULL);
	void *out = (void *)1;
	size_t out_len = 1;
	ck_assert_int_eq(cp_document_restore(&out, &out_len, e.repo, disk), CP_EINVALID);
	ck_assert_ptr_null(out);
	ck_assert_ptr_nonnull(strstr(cp_error_last()->message, "not a document"));

	ck_assert_int_eq(cp_document_restore(&out, &out_len, e.repo,
					     "00000000000000000000000000000000000000000000000000"
					     "00000000000000"),
			 CP_ENOTFOUND);
	ck_assert_int_eq(cp_document_restore(&out, &out_len, e.repo, "not-hex"), CP_EINVALID);

	cp_backup_options o = CP_BACKUP_OPTIONS_INIT;
	o.source = "big";
	char *id = NULL;
	static const char one = 'x';
	/* The size check comes before any byte is read, so the pointer need not be that long. */
	ck_assert_int_eq(cp_document_backup(&id, e.repo, "text/plain", &one, (64u << 20) + 1, &o),
			 CP_EINVALID);
	ck_assert_ptr_nonnull(strstr(cp_error_last()->message, "MiB"));
	ck_assert_int_eq(cp_document_backup(&id, e.repo, "", &one, 1, &o), CP_EINVALID);
	ck_assert_int_eq(cp_document_backup(&id, e.repo, "text/plain", &one, 1, NULL), CP_EINVALID);
	ck_assert_ptr_null(id);
	free(disk);
	ft_teardown(&e);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("document");
	TCase *tc = tcase_create("document");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, round_trips_of_odd_sizes);
	tcase_add_test(tc, unchanged_document_adds_nothing);
	tcase_add_test(tc, refuses_images_unknown_ids_and_huge_documents);
	suite_add_tcase(s, tc);
	return tu_run(s);
}
